//! Properties of the numeric preprocessors on random data (proptest):
//! `inverse_transform(transform(x)) == x` within 1e-12 of each column's scale for every
//! invertible preprocessor (constant columns and NaN included), `transform_into` equals
//! `transform`, StandardScaler's statistics equal a plain two-pass computation, and
//! (feature `serde`) a fitted preprocessor gives identical output after a JSON round trip.

use ndarray::{Array2, ArrayView2, ShapeBuilder};
use ndtrain::preprocessing::{
    ImputeStrategy, InverseTransform, MaxAbsScaler, MinMaxScaler, Preprocessor, RobustScaler, SimpleImputer,
    StandardScaler,
};
use proptest::prelude::*;

/// A random matrix: column `j` is `offset_j + spread_j · u` with `u` uniform in [-1, 1);
/// a spread of 0 makes a constant column.
fn matrix(max_rows: usize) -> impl Strategy<Value = Array2<f64>> {
    (1usize..max_rows, 1usize..20).prop_flat_map(|(r, c)| {
        let spread = prop_oneof![1 => Just(0.0), 4 => 1e-3f64..1e3];
        (proptest::collection::vec(-1.0f64..1.0, r * c), proptest::collection::vec((-1e6f64..1e6, spread), c))
            .prop_map(move |(u, cols)| {
                Array2::from_shape_fn((r, c), |(i, j)| cols[j].0 + cols[j].1 * u[i * c + j])
            })
    })
}

/// `matrix` with about 20% of the values replaced by NaN (missing).
fn matrix_with_nan(max_rows: usize) -> impl Strategy<Value = Array2<f64>> {
    matrix(max_rows).prop_flat_map(|x| {
        let n = x.len();
        proptest::collection::vec(0u8..5, n).prop_map(move |mask| {
            let mut x = x.clone();
            x.iter_mut().zip(&mask).for_each(|(v, &m)| {
                if m == 0 {
                    *v = f64::NAN;
                }
            });
            x
        })
    })
}

/// `|back - x| <= 1e-12 · scale_j` per element, scale_j = max |x| of column j (at least
/// 1e-300); NaN must come back as NaN.
fn round_trips(x: ArrayView2<'_, f64>, back: ArrayView2<'_, f64>) -> Result<(), TestCaseError> {
    prop_assert_eq!(x.shape(), back.shape());
    for (j, (xc, bc)) in x.columns().into_iter().zip(back.columns()).enumerate() {
        let scale = xc.iter().filter(|v| !v.is_nan()).fold(1e-300f64, |m, v| m.max(v.abs()));
        for (i, (&a, &b)) in xc.iter().zip(bc.iter()).enumerate() {
            if a.is_nan() {
                prop_assert!(b.is_nan(), "[{i}, {j}]: NaN came back as {b}");
            } else {
                prop_assert!(
                    (a - b).abs() <= 1e-12 * scale,
                    "[{i}, {j}]: {a} came back as {b} (scale {scale})"
                );
            }
        }
    }
    Ok(())
}

fn check_inverse<P>(mut p: P, x: &Array2<f64>) -> Result<(), TestCaseError>
where
    P: Preprocessor<f64> + InverseTransform<f64>,
{
    let y = p.fit_transform(x.view()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back = p.inverse_transform(y.view()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    round_trips(x.view(), back.view())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn standard_scaler_inverts(x in matrix_with_nan(40), with_mean: bool, with_std: bool) {
        let s = StandardScaler::<f64>::builder().with_mean(with_mean).with_std(with_std).build().unwrap();
        check_inverse(s, &x)?;
    }

    #[test]
    fn min_max_scaler_inverts(x in matrix_with_nan(40), a in -5.0f64..5.0, w in 0.1f64..10.0) {
        check_inverse(MinMaxScaler::<f64>::builder().feature_range(a, a + w).build().unwrap(), &x)?;
    }

    #[test]
    fn max_abs_scaler_inverts(x in matrix_with_nan(40)) {
        check_inverse(MaxAbsScaler::<f64>::new(), &x)?;
    }

    #[test]
    fn robust_scaler_inverts(
        x in matrix_with_nan(40),
        centering: bool,
        scaling: bool,
        unit_variance: bool,
        q in (1.0f64..49.0, 51.0f64..99.0),
    ) {
        let s = RobustScaler::<f64>::builder()
            .with_centering(centering)
            .with_scaling(scaling)
            .unit_variance(unit_variance)
            .quantile_range(q.0, q.1)
            .build()
            .unwrap();
        check_inverse(s, &x)?;
    }

    #[test]
    fn imputer_with_indicator_inverts(x in matrix_with_nan(40), strategy in 0usize..4) {
        let strategy = [ImputeStrategy::Mean, ImputeStrategy::Median, ImputeStrategy::MostFrequent, ImputeStrategy::Constant][strategy];
        let imp = SimpleImputer::<f64>::builder().strategy(strategy).add_indicator(true).build().unwrap();
        check_inverse(imp, &x)?;
    }

    #[test]
    fn transform_into_equals_transform(x in matrix_with_nan(30)) {
        let mut s = StandardScaler::<f64>::new();
        let y = s.fit_transform(x.view()).unwrap();
        let mut out = Array2::from_elem(x.raw_dim(), 7.0);
        s.transform_into(x.view(), out.view_mut()).unwrap();
        prop_assert!(y.iter().zip(out.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
        // A column-major copy (non-contiguous rows) gives the same numbers.
        let mut xf = Array2::zeros(x.raw_dim().f());
        xf.assign(&x);
        let yf = s.transform(xf.view()).unwrap();
        prop_assert!(y.iter().zip(yf.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    fn standard_scaler_statistics_are_accurate(x in matrix(300)) {
        let mut s = StandardScaler::<f64>::new();
        s.fit(x.view()).unwrap();
        let mean = s.mean().unwrap().unwrap();
        let var = s.var().unwrap().unwrap();
        for (j, col) in x.columns().into_iter().enumerate() {
            // Plain two-pass reference (numerically safe for these data).
            let n = col.len() as f64;
            let m = col.sum() / n;
            let v = col.iter().map(|&a| (a - m) * (a - m)).sum::<f64>() / n;
            prop_assert!((mean[j] - m).abs() <= 1e-13 * m.abs().max(col.iter().fold(0.0, |a, b| a.max(b.abs()))));
            // Constant columns: both ~0 relative to the data; else 1e-10 relative.
            let tol = 1e-10 * v + 1e-24 * m * m;
            prop_assert!((var[j] - v).abs() <= tol, "column {j}: var {} vs two-pass {v}", var[j]);
        }
    }
}

#[cfg(feature = "serde")]
mod serde_round_trip {
    use ndarray::array;
    use ndtrain::preprocessing::*;
    use serde::{Serialize, de::DeserializeOwned};

    /// Same bits, NaN included.
    fn same(a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>) -> bool {
        a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    fn round_trip<P>(mut p: P, fit: &ndarray::Array2<f64>, x: &ndarray::Array2<f64>)
    where
        P: Preprocessor<f64> + Serialize + DeserializeOwned + std::fmt::Debug,
    {
        p.fit(fit.view()).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let q: P = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        let (a, b) = (p.transform(x.view()).unwrap(), q.transform(x.view()).unwrap());
        assert!(same(&a, &b), "{p:?}\n{a}\n{b}");
    }

    #[test]
    fn every_fitted_preprocessor_survives_json() {
        let nan = f64::NAN;
        // Column 2 is all missing (NaN statistics), column 1 constant.
        let fit = array![[1.0, 5.0, nan], [2.5, 5.0, nan], [-4.0, 5.0, nan], [0.1, 5.0, nan]];
        let x = array![[0.3, 5.0, 1.0], [nan, 4.0, nan], [10.0, -1.0, 2.0]];
        round_trip(StandardScaler::<f64>::new(), &fit, &x);
        round_trip(StandardScaler::<f64>::builder().with_std(false).build().unwrap(), &fit, &x);
        round_trip(
            MinMaxScaler::<f64>::builder().feature_range(-1.0, 2.0).clip(true).build().unwrap(),
            &fit,
            &x,
        );
        round_trip(MaxAbsScaler::<f64>::new(), &fit, &x);
        round_trip(RobustScaler::<f64>::builder().unit_variance(true).build().unwrap(), &fit, &x);
        round_trip(IqrClipper::<f64>::new(), &fit, &x);
        round_trip(ZScoreClipper::<f64>::builder().ddof(1).build().unwrap(), &fit, &x);
        round_trip(SimpleImputer::<f64>::builder().add_indicator(true).build().unwrap(), &fit, &x);
        round_trip(SimpleImputer::<f64>::builder().keep_empty_features(true).build().unwrap(), &fit, &x);
        let fin = array![[1.0, 2.0], [3.0, -1.0]];
        round_trip(PolynomialFeatures::<f64>::builder().degree_range(1, 3).build().unwrap(), &fin, &fin);
        round_trip(Normalizer::<f64>::builder().norm(Norm::L1).build().unwrap(), &fin, &fin);
        round_trip(DropDuplicateRows::new(), &fin, &fin);
    }

    #[test]
    fn string_imputer_survives_json() {
        let s = |v: &str| Some(v.to_string());
        let fit = array![[s("a"), None], [s("b"), None], [s("a"), None]];
        let mut imp = SimpleImputer::<Option<String>>::new();
        imp.fit(fit.view()).unwrap();
        let json = serde_json::to_string(&imp).unwrap();
        let back: SimpleImputer<Option<String>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, imp);
        let x = array![[None, s("z")]];
        assert_eq!(back.transform(x.view()).unwrap(), array![[s("a")]]);
    }
}
