//! Numeric preprocessor reference cases: scikit-learn's scalers, `Normalizer`,
//! `SimpleImputer`, `PolynomialFeatures`, and the transformers FORMAT.md defines
//! (`DropDuplicateRows`, `IqrClipper`, `ZScoreClipper`).
//!
//! Each estimator is built from the keys in `config_passed` only, so the Rust defaults
//! are checked against scikit-learn's too. Compared: every fitted attribute under its
//! scikit-learn name (`null` = `None`), `transform`, `inverse_transform` (when present)
//! and `indices` (DropDuplicateRows). `expected.warnings` is informational here.

use ndarray::{Array2, ArrayD, Ix2};
use ndtrain::preprocessing::{
    DropDuplicateRows, ImputeStrategy, InverseTransform, IqrClipper, Keep, MaxAbsScaler, MinMaxScaler, Norm,
    Normalizer, PolynomialFeatures, Preprocessor, RobustScaler, SimpleImputer, StandardScaler, ZScoreClipper,
};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, expected_error, num};
use crate::{check, fail};

/// What running one estimator gave, in f64.
struct Run {
    /// `(sklearn attribute name, value)`; `None` = the attribute is None.
    attrs: Vec<(&'static str, Option<ArrayD<f64>>)>,
    transform: Result<Array2<f64>, String>,
    inverse: Option<Result<Array2<f64>, String>>,
    indices: Option<Vec<usize>>,
}

fn x2(case: &Case<'_>, key: &str) -> Result<Array2<f64>, String> {
    arr_f64(case.field(key)?)?.into_dimensionality::<Ix2>().map_err(|e| format!("{key}: {e}"))
}

fn a1(v: ndarray::ArrayView1<'_, f64>) -> ArrayD<f64> {
    v.to_owned().into_dyn()
}

fn us(v: ndarray::ArrayView1<'_, usize>) -> ArrayD<f64> {
    v.mapv(|x| x as f64).into_dyn()
}

fn scalar(v: usize) -> ArrayD<f64> {
    ndarray::arr0(v as f64).into_dyn()
}

fn err<T>(r: ndtrain::Result<T>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

macro_rules! build {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => fail!("build failed: {e}"),
        }
    };
}

fn pair(case: &Case<'_>, key: &str) -> Option<(f64, f64)> {
    let a = case.cfg(key)?.as_array()?;
    Some((num(a.first()?)?, num(a.get(1)?)?))
}

/// Fits, transforms and inverse-transforms an invertible estimator.
fn run_invertible<P>(mut est: P, x_fit: &Array2<f64>, x_tr: &Array2<f64>) -> Result<(P, Run), String>
where
    P: Preprocessor<f64> + InverseTransform<f64>,
{
    err(est.fit(x_fit.view()))?;
    let transform = err(est.transform(x_tr.view()));
    let inverse = transform.as_ref().ok().map(|t| err(est.inverse_transform(t.view())));
    Ok((est, Run { attrs: vec![], transform, inverse, indices: None }))
}

/// Fits and transforms an estimator without inverse.
fn run_forward<P: Preprocessor<f64>>(
    mut est: P,
    x_fit: &Array2<f64>,
    x_tr: &Array2<f64>,
) -> Result<(P, Run), String> {
    err(est.fit(x_fit.view()))?;
    let transform = err(est.transform(x_tr.view()));
    Ok((est, Run { attrs: vec![], transform, inverse: None, indices: None }))
}

pub fn run(case: &Case<'_>) -> Outcome {
    let (x_fit, x_tr) = match (x2(case, "inputs.X_fit"), x2(case, "inputs.X_transform")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => fail!("inputs: {e}"),
    };
    let result: Result<Run, String> = match case.name {
        "StandardScaler" => {
            let mut b = StandardScaler::<f64>::builder();
            if case.passed("with_mean") {
                b = b.with_mean(case.cfg_bool("with_mean", true));
            }
            if case.passed("with_std") {
                b = b.with_std(case.cfg_bool("with_std", true));
            }
            run_invertible(build!(b.build()), &x_fit, &x_tr).and_then(|(s, mut r)| {
                r.attrs = vec![
                    ("mean_", err(s.mean())?.map(a1)),
                    ("var_", err(s.var())?.map(a1)),
                    ("scale_", err(s.scale())?.map(a1)),
                    ("n_samples_seen_", Some(us(err(s.n_samples_seen())?))),
                ];
                Ok(r)
            })
        }
        "MinMaxScaler" => {
            let mut b = MinMaxScaler::<f64>::builder();
            if case.passed("feature_range") {
                let Some((lo, hi)) = pair(case, "feature_range") else { fail!("bad feature_range") };
                b = b.feature_range(lo, hi);
            }
            if case.passed("clip") {
                b = b.clip(case.cfg_bool("clip", false));
            }
            run_invertible(build!(b.build()), &x_fit, &x_tr).and_then(|(s, mut r)| {
                r.attrs = vec![
                    ("min_", Some(a1(err(s.min())?))),
                    ("scale_", Some(a1(err(s.scale())?))),
                    ("data_min_", Some(a1(err(s.data_min())?))),
                    ("data_max_", Some(a1(err(s.data_max())?))),
                    ("data_range_", Some(a1(err(s.data_range())?))),
                    ("n_samples_seen_", Some(scalar(err(s.n_samples_seen())?))),
                ];
                Ok(r)
            })
        }
        "MaxAbsScaler" => {
            let mut b = MaxAbsScaler::<f64>::builder();
            if case.passed("clip") {
                b = b.clip(case.cfg_bool("clip", false));
            }
            run_invertible(build!(b.build()), &x_fit, &x_tr).and_then(|(s, mut r)| {
                r.attrs = vec![
                    ("max_abs_", Some(a1(err(s.max_abs())?))),
                    ("scale_", Some(a1(err(s.scale())?))),
                    ("n_samples_seen_", Some(scalar(err(s.n_samples_seen())?))),
                ];
                Ok(r)
            })
        }
        "RobustScaler" => {
            let mut b = RobustScaler::<f64>::builder();
            if case.passed("with_centering") {
                b = b.with_centering(case.cfg_bool("with_centering", true));
            }
            if case.passed("with_scaling") {
                b = b.with_scaling(case.cfg_bool("with_scaling", true));
            }
            if case.passed("quantile_range") {
                let Some((lo, hi)) = pair(case, "quantile_range") else { fail!("bad quantile_range") };
                b = b.quantile_range(lo, hi);
            }
            if case.passed("unit_variance") {
                b = b.unit_variance(case.cfg_bool("unit_variance", false));
            }
            run_invertible(build!(b.build()), &x_fit, &x_tr).and_then(|(s, mut r)| {
                r.attrs = vec![("center_", err(s.center())?.map(a1)), ("scale_", err(s.scale())?.map(a1))];
                Ok(r)
            })
        }
        "Normalizer" => {
            let mut b = Normalizer::<f64>::builder();
            if case.passed("norm") {
                let norm = match case.cfg_str("norm") {
                    Some("l1") => Norm::L1,
                    Some("l2") => Norm::L2,
                    Some("max") => Norm::Max,
                    other => return Outcome::Unsupported(format!("Normalizer norm {other:?}")),
                };
                b = b.norm(norm);
            }
            run_forward(build!(b.build()), &x_fit, &x_tr).map(|(_, r)| r)
        }
        "SimpleImputer" => {
            if !case.cfg("missing_values").and_then(num).is_some_and(f64::is_nan) {
                return Outcome::Unsupported("SimpleImputer missing_values other than NaN".into());
            }
            let mut b = SimpleImputer::<f64>::builder();
            if case.passed("strategy") {
                let s = match case.cfg_str("strategy") {
                    Some("mean") => ImputeStrategy::Mean,
                    Some("median") => ImputeStrategy::Median,
                    Some("most_frequent") => ImputeStrategy::MostFrequent,
                    Some("constant") => ImputeStrategy::Constant,
                    other => return Outcome::Unsupported(format!("SimpleImputer strategy {other:?}")),
                };
                b = b.strategy(s);
            }
            if case.passed("fill_value") {
                if let Some(v) = case.cfg("fill_value").and_then(num) {
                    b = b.fill_value(v);
                }
            }
            if case.passed("add_indicator") {
                b = b.add_indicator(case.cfg_bool("add_indicator", false));
            }
            if case.passed("keep_empty_features") {
                b = b.keep_empty_features(case.cfg_bool("keep_empty_features", false));
            }
            let est = build!(b.build());
            let r = if case.cfg_bool("add_indicator", false) {
                run_invertible(est, &x_fit, &x_tr)
            } else {
                run_forward(est, &x_fit, &x_tr)
            };
            r.and_then(|(s, mut r)| {
                r.attrs = vec![("statistics_", Some(a1(err(s.statistics())?)))];
                Ok(r)
            })
        }
        "PolynomialFeatures" => {
            let mut b = PolynomialFeatures::<f64>::builder();
            if case.passed("degree") {
                match case.cfg("degree") {
                    Some(Value::Number(n)) => match n.as_u64() {
                        Some(d) => b = b.degree(d as usize),
                        None => fail!("bad degree {n}"),
                    },
                    Some(Value::Array(a)) if a.len() == 2 => match (a[0].as_u64(), a[1].as_u64()) {
                        (Some(lo), Some(hi)) => b = b.degree_range(lo as usize, hi as usize),
                        _ => fail!("bad degree {a:?}"),
                    },
                    other => fail!("bad degree {other:?}"),
                }
            }
            if case.passed("interaction_only") {
                b = b.interaction_only(case.cfg_bool("interaction_only", false));
            }
            if case.passed("include_bias") {
                b = b.include_bias(case.cfg_bool("include_bias", true));
            }
            run_forward(build!(b.build()), &x_fit, &x_tr).and_then(|(p, mut r)| {
                r.attrs = vec![
                    ("powers_", Some(err(p.powers())?.mapv(|v| v as f64).into_dyn())),
                    ("n_output_features_", Some(scalar(err(p.n_output_features())?))),
                    ("n_features_in_", Some(scalar(err(p.n_features_in())?))),
                ];
                Ok(r)
            })
        }
        "DropDuplicateRows" => {
            let keep = match case.cfg_str("keep") {
                Some("first") | None => Keep::First,
                Some("last") => Keep::Last,
                other => return Outcome::Unsupported(format!("DropDuplicateRows keep {other:?}")),
            };
            let mut dd = build!(DropDuplicateRows::builder().keep(keep).build());
            check!(err(Preprocessor::<f64>::fit(&mut dd, x_fit.view())));
            match dd.transform_with_indices(x_tr.view()) {
                Ok((rows, idx)) => {
                    Ok(Run { attrs: vec![], transform: Ok(rows), inverse: None, indices: Some(idx) })
                }
                Err(e) => {
                    Ok(Run { attrs: vec![], transform: Err(e.to_string()), inverse: None, indices: None })
                }
            }
        }
        "IqrClipper" => {
            let b = IqrClipper::<f64>::builder()
                .k(case.cfg_f64("k", 1.5))
                .q_low(case.cfg_f64("q_low", 25.0))
                .q_high(case.cfg_f64("q_high", 75.0));
            run_forward(build!(b.build()), &x_fit, &x_tr).and_then(|(c, mut r)| {
                r.attrs = vec![
                    ("q_low_", Some(a1(err(c.q_low())?))),
                    ("q_high_", Some(a1(err(c.q_high())?))),
                    ("lower_", Some(a1(err(c.lower())?))),
                    ("upper_", Some(a1(err(c.upper())?))),
                ];
                Ok(r)
            })
        }
        "ZScoreClipper" => {
            let ddof = case.cfg("ddof").and_then(Value::as_u64).unwrap_or(0) as usize;
            let b = ZScoreClipper::<f64>::builder().threshold(case.cfg_f64("threshold", 3.0)).ddof(ddof);
            run_forward(build!(b.build()), &x_fit, &x_tr).and_then(|(c, mut r)| {
                r.attrs = vec![
                    ("mean_", Some(a1(err(c.mean())?))),
                    ("std_", Some(a1(err(c.std())?))),
                    ("lower_", Some(a1(err(c.lower())?))),
                    ("upper_", Some(a1(err(c.upper())?))),
                ];
                Ok(r)
            })
        }
        other => return Outcome::Unsupported(format!("{other} not implemented")),
    };
    let run = match result {
        Ok(r) => r,
        Err(e) => fail!("fit failed: {e}"),
    };
    compare(case, run)
}

/// Parses an expected array, or fails the case.
macro_rules! expect_arr {
    ($what:expr, $v:expr) => {
        match arr_f64($v) {
            Ok(w) => w,
            Err(e) => fail!("{}: {e}", $what),
        }
    };
}

fn compare(case: &Case<'_>, run: Run) -> Outcome {
    let expected = match case.field("expected") {
        Ok(e) => e,
        Err(e) => fail!("{e}"),
    };
    // Attributes: every one listed must be produced and match.
    if let Some(attrs) = expected.get("attributes").and_then(Value::as_object) {
        for (name, want) in attrs {
            let Some((_, got)) = run.attrs.iter().find(|(n, _)| n == name) else {
                fail!("attribute {name} not checked by the harness");
            };
            match (want.is_null(), got) {
                (true, None) => {}
                (true, Some(_)) => fail!("attribute {name}: expected None, got a value"),
                (false, None) => fail!("attribute {name}: expected a value, got None"),
                (false, Some(got)) => {
                    let want = expect_arr!(name, want);
                    // scikit-learn reduces n_samples_seen_ to one number when every
                    // column agrees; ndtrain keeps it per column.
                    let got = if want.ndim() == 0 && got.ndim() == 1 {
                        let first = got.iter().next().copied().unwrap_or(f64::NAN);
                        if got.iter().any(|&v| v != first) {
                            fail!("attribute {name}: per-column values {got} differ, expected one {want}");
                        }
                        ndarray::arr0(first).into_dyn()
                    } else {
                        got.clone()
                    };
                    check!(case.close(name, &want, &got));
                }
            }
        }
    }
    // Transform (or an expected error).
    let Some(want_t) = expected.get("transform") else { fail!("case without expected.transform") };
    if expected_error(want_t).is_some() {
        if let Ok(t) = &run.transform {
            fail!("transform: expected an error, got shape {:?}", t.shape());
        }
        return Outcome::Pass;
    }
    let got_t = match &run.transform {
        Ok(t) => t,
        Err(e) => fail!("transform failed: {e}"),
    };
    let want = expect_arr!("transform", want_t);
    check!(case.close("transform", &want, &got_t.clone().into_dyn()));
    // Inverse transform.
    if let Some(want_i) = expected.get("inverse_transform") {
        let Some(got_i) = &run.inverse else { fail!("inverse_transform expected but not run") };
        if expected_error(want_i).is_some() {
            if got_i.is_ok() {
                fail!("inverse_transform: expected an error");
            }
        } else {
            let got_i = match got_i {
                Ok(g) => g,
                Err(e) => fail!("inverse_transform failed: {e}"),
            };
            let want = expect_arr!("inverse_transform", want_i);
            check!(case.close("inverse_transform", &want, &got_i.clone().into_dyn()));
        }
    }
    // Kept-row indices (exact).
    if let Some(want_idx) = expected.get("indices") {
        let want = expect_arr!("indices", want_idx);
        let Some(got) = &run.indices else { fail!("indices expected but not produced") };
        let got = ndarray::Array1::from_iter(got.iter().map(|&i| i as f64)).into_dyn();
        check!(crate::common::assert_close("indices", &want, &got, 0.0, 0.0));
    }
    Outcome::Pass
}
