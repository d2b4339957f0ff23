//! Bad input to the numeric preprocessors returns the documented `Err` variant, never a
//! panic; a failed call leaves the preprocessor as it was; inputs are never mutated.

use ndarray::{Array2, array};
use ndtrain::Error;
use ndtrain::preprocessing::*;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// Runs the checks every fit/transform preprocessor must pass.
fn common_checks<P>(name: &str, mut p: P, fit: &Array2<f64>, finite_only: bool)
where
    P: Preprocessor<f64> + Clone + std::fmt::Debug,
{
    // Transform before fit.
    let r = p.transform(fit.view());
    assert!(matches!(r, Err(Error::NotFitted { .. })), "{name}: transform before fit gave {r:?}");

    // Empty input to fit: no rows, no columns.
    let r = p.fit(Array2::<f64>::zeros((0, 3)).view());
    assert!(matches!(r, Err(Error::EmptyInput { .. })), "{name}: 0-row fit gave {r:?}");
    let r = p.fit(Array2::<f64>::zeros((4, 0)).view());
    assert!(matches!(r, Err(Error::EmptyInput { .. })), "{name}: 0-column fit gave {r:?}");

    // Infinity in fit: NonFinite naming the element.
    let mut bad = fit.clone();
    bad[[1, 1]] = -INF;
    let r = p.fit(bad.view());
    assert!(
        matches!(&r, Err(Error::NonFinite { index, .. }) if index == &vec![1, 1]),
        "{name}: -inf gave {r:?}"
    );

    // Inputs are never mutated (fit, transform).
    let copy = fit.clone();
    p.fit(fit.view()).unwrap_or_else(|e| panic!("{name}: fit failed: {e}"));
    let _ = p.transform(fit.view()).unwrap();
    assert!(same(fit, &copy), "{name}: input mutated");

    // A failed fit leaves the fitted state unchanged.
    let before = format!("{p:?}");
    assert!(p.fit(bad.view()).is_err());
    assert_eq!(format!("{p:?}"), before, "{name}: failed fit changed the state");

    // Wrong column count.
    let wrong = Array2::<f64>::zeros((2, fit.ncols() + 1));
    let r = p.transform(wrong.view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{name}: wrong columns gave {r:?}");

    // Infinity in transform.
    let mut bad_t = fit.clone();
    bad_t[[0, 0]] = INF;
    let r = p.transform(bad_t.view());
    assert!(
        matches!(&r, Err(Error::NonFinite { index, .. }) if index == &vec![0, 0]),
        "{name}: inf gave {r:?}"
    );

    // NaN: a missing value (allowed) for the NaN-aware ones, an error for the others.
    let mut with_nan = fit.clone();
    with_nan[[2, 0]] = NAN;
    let r = p.clone().fit(with_nan.view());
    if finite_only {
        assert!(matches!(r, Err(Error::NonFinite { .. })), "{name}: NaN in fit gave {r:?}");
        assert!(matches!(p.transform(with_nan.view()), Err(Error::NonFinite { .. })));
    } else {
        assert!(r.is_ok(), "{name}: NaN (missing) in fit gave {r:?}");
        assert!(p.transform(with_nan.view()).is_ok(), "{name}: NaN in transform");
    }
}

fn same(a: &Array2<f64>, b: &Array2<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn data() -> Array2<f64> {
    array![[1.0, 2.0, 3.0], [4.0, 0.5, 6.0], [7.0, 8.0, -9.0], [0.0, 1.0, 2.0]]
}

#[test]
fn scalers_clippers_imputer_polynomial() {
    let x = data();
    common_checks("StandardScaler", StandardScaler::<f64>::new(), &x, false);
    common_checks("MinMaxScaler", MinMaxScaler::<f64>::new(), &x, false);
    common_checks("MaxAbsScaler", MaxAbsScaler::<f64>::new(), &x, false);
    common_checks("RobustScaler", RobustScaler::<f64>::new(), &x, false);
    common_checks("IqrClipper", IqrClipper::<f64>::new(), &x, false);
    common_checks("ZScoreClipper", ZScoreClipper::<f64>::new(), &x, false);
    common_checks("SimpleImputer", SimpleImputer::<f64>::new(), &x, false);
    common_checks("PolynomialFeatures", PolynomialFeatures::<f64>::new(), &x, true);
}

#[test]
fn inverse_transform_errors() {
    let x = data();
    fn check<P: Preprocessor<f64> + InverseTransform<f64>>(name: &str, mut p: P, x: &Array2<f64>) {
        let r = p.inverse_transform(x.view());
        assert!(matches!(r, Err(Error::NotFitted { .. })), "{name}: inverse before fit gave {r:?}");
        p.fit(x.view()).unwrap();
        let r = p.inverse_transform(Array2::<f64>::zeros((1, 7)).view());
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{name}: wrong columns gave {r:?}");
        let mut bad = x.clone();
        bad[[3, 2]] = -INF;
        let r = p.inverse_transform(bad.view());
        assert!(matches!(r, Err(Error::NonFinite { .. })), "{name}: inf gave {r:?}");
        let copy = x.clone();
        let _ = p.inverse_transform(x.view()).unwrap();
        assert!(same(x, &copy));
    }
    check("StandardScaler", StandardScaler::<f64>::new(), &x);
    check("MinMaxScaler", MinMaxScaler::<f64>::new(), &x);
    check("MaxAbsScaler", MaxAbsScaler::<f64>::new(), &x);
    check("RobustScaler", RobustScaler::<f64>::new(), &x);
    // SimpleImputer without add_indicator cannot invert.
    let mut imp = SimpleImputer::<f64>::new();
    imp.fit(x.view()).unwrap();
    assert!(matches!(imp.inverse_transform(x.view()), Err(Error::InvalidInput { .. })));
}

#[test]
fn transform_into_checks_out_shape() {
    let x = data();
    let mut s = StandardScaler::<f64>::new();
    let mut out = Array2::<f64>::zeros((4, 3));
    assert!(matches!(s.transform_into(x.view(), out.view_mut()), Err(Error::NotFitted { .. })));
    s.fit(x.view()).unwrap();
    let mut small = Array2::<f64>::zeros((3, 3));
    let r = s.transform_into(x.view(), small.view_mut());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
    s.transform_into(x.view(), out.view_mut()).unwrap();
    let mut m = MinMaxScaler::<f64>::new();
    m.fit(x.view()).unwrap();
    assert!(matches!(m.transform_into(x.view(), small.view_mut()), Err(Error::ShapeMismatch { .. })));
    let mut n = Normalizer::<f64>::new();
    n.fit(x.view()).unwrap();
    assert!(matches!(n.transform_into(x.view(), small.view_mut()), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn all_missing_column_for_mean_imputation() {
    let x = array![[1.0, NAN], [2.0, NAN], [4.0, NAN]];
    // Default: dropped, as scikit-learn (statistics shows NaN).
    let mut imp = SimpleImputer::<f64>::builder().strategy(ImputeStrategy::Mean).build().unwrap();
    let y = imp.fit_transform(x.view()).unwrap();
    assert_eq!(y.shape(), &[3, 1]);
    assert!(imp.statistics().unwrap()[1].is_nan());
    assert_eq!(imp.kept_features().unwrap(), &[0]);
    // Strict: a clear error naming the column, and nothing fitted.
    let mut strict = SimpleImputer::<f64>::builder()
        .strategy(ImputeStrategy::Mean)
        .empty_features(EmptyFeatures::Error)
        .build()
        .unwrap();
    match strict.fit(x.view()) {
        Err(Error::InvalidInput { op, message }) => {
            assert_eq!(op, "SimpleImputer::fit");
            assert!(message.contains("column 1"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(matches!(strict.transform(x.view()), Err(Error::NotFitted { .. })));
    // Median under strict mode too; Constant never errors.
    let mut strict_median = SimpleImputer::<f64>::builder()
        .strategy(ImputeStrategy::Median)
        .empty_features(EmptyFeatures::Error)
        .build()
        .unwrap();
    assert!(strict_median.fit(x.view()).is_err());
    let mut constant = SimpleImputer::<f64>::builder()
        .strategy(ImputeStrategy::Constant)
        .empty_features(EmptyFeatures::Error)
        .build()
        .unwrap();
    assert_eq!(constant.fit_transform(x.view()).unwrap().column(1), array![0.0, 0.0, 0.0]);
}

#[test]
fn stateless_transformers() {
    // Normalizer works without fit, rejects NaN and infinity.
    let n = Normalizer::<f64>::new();
    assert!(n.transform(data().view()).is_ok());
    assert!(matches!(n.transform(array![[1.0, NAN]].view()), Err(Error::NonFinite { .. })));
    assert!(matches!(normalize(array![[INF]].view(), Norm::L1), Err(Error::NonFinite { .. })));
    let mut n = Normalizer::<f64>::new();
    assert!(matches!(n.fit(Array2::<f64>::zeros((0, 2)).view()), Err(Error::EmptyInput { .. })));
    // DropDuplicateRows: empty fit is an error, empty transform gives an empty result.
    let mut dd = DropDuplicateRows::new();
    assert!(matches!(
        Preprocessor::<f64>::fit(&mut dd, Array2::zeros((0, 2)).view()),
        Err(Error::EmptyInput { .. })
    ));
    let (rows, idx) = drop_duplicate_rows(Array2::<f64>::zeros((0, 2)).view()).unwrap();
    assert_eq!((rows.shape(), idx.len()), (&[0usize, 2][..], 0));
    Preprocessor::<f64>::fit(&mut dd, data().view()).unwrap();
    assert!(matches!(
        dd.transform_with_indices(Array2::<f64>::zeros((1, 2)).view()),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn f32_bad_input() {
    let mut s = StandardScaler::<f32>::new();
    assert!(matches!(s.fit(array![[1.0f32, f32::INFINITY]].view()), Err(Error::NonFinite { .. })));
    s.fit(array![[1.0f32, 2.0], [3.0, f32::NAN]].view()).unwrap();
    assert!(matches!(s.transform(array![[1.0f32]].view()), Err(Error::ShapeMismatch { .. })));
    let mut imp = SimpleImputer::<f32>::new();
    assert!(matches!(imp.fit(array![[f32::NEG_INFINITY]].view()), Err(Error::NonFinite { .. })));
}

#[test]
fn public_types_are_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<StandardScaler<f32>>();
    check::<MinMaxScaler<f64>>();
    check::<MaxAbsScaler<f64>>();
    check::<RobustScaler<f64>>();
    check::<Normalizer<f64>>();
    check::<SimpleImputer<f64>>();
    check::<SimpleImputer<Option<String>>>();
    check::<PolynomialFeatures<f64>>();
    check::<DropDuplicateRows>();
    check::<IqrClipper<f32>>();
    check::<ZScoreClipper<f64>>();
}
