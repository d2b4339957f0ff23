//! Reference cases of kind `metric` (sklearn.metrics), see FORMAT.md.
//!
//! Each case calls the functional API with the case's inputs and keyword arguments:
//! labels are `i64` or `String`, `average: null` selects the `*_per_class` functions,
//! `multioutput: "raw_values"` the `*_raw_values` functions. An expected `{error}` must
//! be an `Err`.

use ndarray::{Array1, ArrayD, arr0};
use ndtrain::metrics::{
    self as m, Average, KappaWeights, Label, MultiClass, MultiOutput, Normalize, ZeroDivision,
};
use serde_json::Value;

use crate::common::{Case, Outcome, RefArray, arr_f64, expected_error, num};

type Res = ndtrain::Result<ArrayD<f64>>;

fn scalar(r: ndtrain::Result<f64>) -> Res {
    r.map(|v| arr0(v).into_dyn())
}

fn vector(r: ndtrain::Result<Array1<f64>>) -> Res {
    r.map(|v| v.into_dyn())
}

pub fn run(case: &Case<'_>) -> Outcome {
    let expected = match case.field("expected") {
        Ok(e) => e,
        Err(e) => return Outcome::Fail(e),
    };
    let got = match compute(case) {
        Ok(r) => r,
        Err(Unsup(msg)) => return Outcome::Unsupported(msg),
    };
    if expected_error(expected).is_some() {
        return match got {
            Err(_) => Outcome::Pass,
            Ok(v) => Outcome::Fail(format!("expected an error, got {v}")),
        };
    }
    let want = match expected.get("value").map(arr_f64) {
        Some(Ok(w)) => w,
        Some(Err(e)) => return Outcome::Fail(e),
        None => return Outcome::Fail("expected without value".into()),
    };
    match got {
        Err(e) => Outcome::Fail(format!("unexpected error: {e}")),
        Ok(v) => match case.close("value", &want, &v) {
            Ok(()) => Outcome::Pass,
            Err(msg) => Outcome::Fail(msg),
        },
    }
}

/// An unsupported case (name or option not implemented).
struct Unsup(String);

fn input<'a>(case: &Case<'a>, name: &str) -> Result<&'a Value, Unsup> {
    case.field(&format!("inputs.{name}")).map_err(Unsup)
}

fn f64_input(case: &Case<'_>, name: &str) -> Result<ArrayD<f64>, Unsup> {
    arr_f64(input(case, name)?).map_err(Unsup)
}

fn weights(case: &Case<'_>) -> Result<Option<Array1<f64>>, Unsup> {
    match case.field("inputs.sample_weight") {
        Ok(v) => {
            let a = arr_f64(v).map_err(Unsup)?;
            let n = a.len();
            Ok(Some(a.into_shape_with_order(n).map_err(|e| Unsup(e.to_string()))?))
        }
        Err(_) => Ok(None),
    }
}

fn zero_division(case: &Case<'_>) -> Result<ZeroDivision, Unsup> {
    Ok(match case.config.get("zero_division") {
        None => ZeroDivision::Warn,
        Some(Value::String(s)) if s == "warn" => ZeroDivision::Warn,
        Some(v) => match num(v) {
            Some(x) if x.is_nan() => ZeroDivision::NaN,
            Some(0.0) => ZeroDivision::Zero,
            Some(1.0) => ZeroDivision::One,
            _ => return Err(Unsup(format!("zero_division {v}"))),
        },
    })
}

/// `average`: `None` when absent, `Some(None)` for null (per class).
fn average(case: &Case<'_>) -> Result<Option<Option<Average>>, Unsup> {
    Ok(match case.config.get("average") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(match s.as_str() {
            "binary" => Average::Binary,
            "micro" => Average::Micro,
            "macro" => Average::Macro,
            "weighted" => Average::Weighted,
            other => return Err(Unsup(format!("average {other}"))),
        })),
        Some(v) => return Err(Unsup(format!("average {v}"))),
    })
}

fn compute(case: &Case<'_>) -> Result<Res, Unsup> {
    match case.name {
        "mean_squared_error"
        | "root_mean_squared_error"
        | "mean_absolute_error"
        | "median_absolute_error"
        | "mean_squared_log_error"
        | "r2_score"
        | "explained_variance_score"
        | "mean_absolute_percentage_error"
        | "d2_absolute_error_score"
        | "max_error" => regression(case),
        _ => {
            let key = if case.name == "cohen_kappa_score" { "y1" } else { "y_true" };
            match RefArray::parse(input(case, key)?).map_err(Unsup)? {
                RefArray::I64(_) => classification::<i64>(case, key, |v| v.as_i64()),
                RefArray::Str(_) => classification::<String>(case, key, |v| v.as_str().map(str::to_string)),
                _ => Err(Unsup("label dtype".into())),
            }
        }
    }
}

/// A label array of type `L`.
fn label_input<L: Label>(
    case: &Case<'_>,
    name: &str,
    parse: fn(&Value) -> Option<L>,
) -> Result<Vec<L>, Unsup> {
    match RefArray::parse(input(case, name)?).map_err(Unsup)? {
        RefArray::I64(a) => a.iter().map(|&x| parse(&Value::from(x))).collect::<Option<_>>(),
        RefArray::Str(a) => a.iter().map(|x| x.as_deref().and_then(|s| parse(&Value::from(s)))).collect(),
        _ => None,
    }
    .ok_or_else(|| Unsup(format!("{name}: labels of another type")))
}

fn cfg_labels<L: Label>(case: &Case<'_>, parse: fn(&Value) -> Option<L>) -> Result<Option<Vec<L>>, Unsup> {
    match case.cfg("labels") {
        None => Ok(None),
        Some(Value::Array(a)) => {
            a.iter().map(parse).collect::<Option<Vec<L>>>().map(Some).ok_or_else(|| Unsup("labels".into()))
        }
        Some(v) => Err(Unsup(format!("labels {v}"))),
    }
}

fn cfg_pos_label<L: Label>(case: &Case<'_>, parse: fn(&Value) -> Option<L>) -> Result<Option<L>, Unsup> {
    match case.cfg("pos_label") {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| Unsup(format!("pos_label {v}"))),
    }
}

fn classification<L: Label>(
    case: &Case<'_>,
    key: &str,
    parse: fn(&Value) -> Option<L>,
) -> Result<Res, Unsup> {
    let yt = label_input::<L>(case, key, parse)?;
    let w = weights(case)?;
    let labels = cfg_labels(case, parse)?;
    let pos_label = cfg_pos_label(case, parse)?;
    let normalize = case.cfg_bool("normalize", true);
    let name = case.name;

    let prf = || -> Result<m::PrfOptions<'_, L>, Unsup> {
        let mut o = m::PrfOptions::new().zero_division(zero_division(case)?);
        if let Some(Some(a)) = average(case)? {
            o = o.average(a);
        }
        if let Some(ls) = labels.clone() {
            o = o.labels(ls);
        }
        if let Some(p) = pos_label.clone() {
            o = o.pos_label(p);
        }
        if let Some(w) = &w {
            o = o.sample_weight(w);
        }
        Ok(o)
    };
    let per_class = matches!(average(case)?, Some(None));

    match name {
        "accuracy_score"
        | "precision_score"
        | "recall_score"
        | "f1_score"
        | "fbeta_score"
        | "jaccard_score"
        | "confusion_matrix"
        | "balanced_accuracy_score"
        | "matthews_corrcoef"
        | "hamming_loss"
        | "zero_one_loss"
        | "cohen_kappa_score" => {
            let pred_key = if name == "cohen_kappa_score" { "y2" } else { "y_pred" };
            let yp = label_input::<L>(case, pred_key, parse)?;
            let beta = case.cfg_f64("beta", 1.0);
            Ok(match name {
                "accuracy_score" | "zero_one_loss" => {
                    let mut o = m::AccuracyOptions::new().normalize(normalize);
                    if let Some(w) = &w {
                        o = o.sample_weight(w);
                    }
                    scalar(if name == "accuracy_score" {
                        m::accuracy_score(&yt, &yp, o)
                    } else {
                        m::zero_one_loss(&yt, &yp, o)
                    })
                }
                "precision_score" if per_class => vector(m::precision_score_per_class(&yt, &yp, prf()?)),
                "precision_score" => scalar(m::precision_score(&yt, &yp, prf()?)),
                "recall_score" if per_class => vector(m::recall_score_per_class(&yt, &yp, prf()?)),
                "recall_score" => scalar(m::recall_score(&yt, &yp, prf()?)),
                "f1_score" if per_class => vector(m::f1_score_per_class(&yt, &yp, prf()?)),
                "f1_score" => scalar(m::f1_score(&yt, &yp, prf()?)),
                "fbeta_score" if per_class => vector(m::fbeta_score_per_class(&yt, &yp, beta, prf()?)),
                "fbeta_score" => scalar(m::fbeta_score(&yt, &yp, beta, prf()?)),
                "jaccard_score" if per_class => vector(m::jaccard_score_per_class(&yt, &yp, prf()?)),
                "jaccard_score" => scalar(m::jaccard_score(&yt, &yp, prf()?)),
                "confusion_matrix" => {
                    let mut o = m::ConfusionMatrixOptions::new();
                    if let Some(ls) = labels.clone() {
                        o = o.labels(ls);
                    }
                    if let Some(w) = &w {
                        o = o.sample_weight(w);
                    }
                    o = match case.cfg_str("normalize") {
                        None => o,
                        Some("true") => o.normalize(Normalize::True),
                        Some("pred") => o.normalize(Normalize::Pred),
                        Some("all") => o.normalize(Normalize::All),
                        Some(other) => return Err(Unsup(format!("normalize {other}"))),
                    };
                    m::confusion_matrix(&yt, &yp, o).map(|cm| cm.into_values().into_dyn())
                }
                "balanced_accuracy_score" => {
                    let mut o = m::BalancedAccuracyOptions::new().adjusted(case.cfg_bool("adjusted", false));
                    if let Some(w) = &w {
                        o = o.sample_weight(w);
                    }
                    scalar(m::balanced_accuracy_score(&yt, &yp, o))
                }
                "matthews_corrcoef" => scalar(m::matthews_corrcoef(&yt, &yp, w.as_ref().map(|w| w.view()))),
                "hamming_loss" => scalar(m::hamming_loss(&yt, &yp, w.as_ref().map(|w| w.view()))),
                "cohen_kappa_score" => {
                    let weights = match case.cfg_str("weights") {
                        None => KappaWeights::None,
                        Some("linear") => KappaWeights::Linear,
                        Some("quadratic") => KappaWeights::Quadratic,
                        Some(other) => return Err(Unsup(format!("weights {other}"))),
                    };
                    let mut o = m::CohenKappaOptions::new().weights(weights);
                    if let Some(ls) = labels.clone() {
                        o = o.labels(ls);
                    }
                    if let Some(w) = &w {
                        o = o.sample_weight(w);
                    }
                    scalar(m::cohen_kappa_score(&yt, &yp, o))
                }
                _ => unreachable!(),
            })
        }
        "roc_auc_score" => {
            let s = f64_input(case, "y_score")?;
            let mut o = m::RocAucOptions::new();
            if let Some(Some(a)) = average(case)? {
                o = o.average(a);
            }
            if let Some(mf) = case.cfg("max_fpr").and_then(num) {
                o = o.max_fpr(mf);
            }
            o = match case.cfg_str("multi_class") {
                None | Some("raise") => o,
                Some("ovr") => o.multi_class(MultiClass::Ovr),
                Some("ovo") => o.multi_class(MultiClass::Ovo),
                Some(other) => return Err(Unsup(format!("multi_class {other}"))),
            };
            if let Some(ls) = labels.clone() {
                o = o.labels(ls);
            }
            if let Some(w) = &w {
                o = o.sample_weight(w);
            }
            Ok(scalar(m::roc_auc_score(&yt, &s, o)))
        }
        "average_precision_score" => {
            let s = f64_input(case, "y_score")?;
            let mut o = m::AveragePrecisionOptions::new();
            if let Some(Some(a)) = average(case)? {
                o = o.average(a);
            }
            if let Some(p) = pos_label.clone() {
                o = o.pos_label(p);
            }
            if let Some(w) = &w {
                o = o.sample_weight(w);
            }
            Ok(scalar(m::average_precision_score(&yt, &s, o)))
        }
        "top_k_accuracy_score" => {
            let s = f64_input(case, "y_score")?;
            let k = case.cfg("k").and_then(Value::as_u64).unwrap_or(2) as usize;
            let mut o = m::TopKOptions::new().k(k).normalize(normalize);
            if let Some(ls) = labels.clone() {
                o = o.labels(ls);
            }
            if let Some(w) = &w {
                o = o.sample_weight(w);
            }
            Ok(scalar(m::top_k_accuracy_score(&yt, &s, o)))
        }
        "log_loss" => {
            let p = f64_input(case, "y_proba")?;
            let mut o = m::LogLossOptions::new().normalize(normalize);
            if let Some(ls) = labels.clone() {
                o = o.labels(ls);
            }
            if let Some(w) = &w {
                o = o.sample_weight(w);
            }
            Ok(scalar(m::log_loss(&yt, &p, o)))
        }
        "brier_score_loss" => {
            let p = f64_input(case, "y_proba")?;
            let mut o = m::BrierOptions::new();
            if let Some(ls) = labels.clone() {
                o = o.labels(ls);
            }
            if let Some(pl) = pos_label.clone() {
                o = o.pos_label(pl);
            }
            if let Some(w) = &w {
                o = o.sample_weight(w);
            }
            Ok(scalar(m::brier_score_loss(&yt, &p, o)))
        }
        other => Err(Unsup(format!("{other} not implemented"))),
    }
}

fn regression(case: &Case<'_>) -> Result<Res, Unsup> {
    let yt = f64_input(case, "y_true")?;
    let yp = f64_input(case, "y_pred")?;
    let w = weights(case)?;
    if case.name == "max_error" {
        return Ok(scalar(m::max_error(&yt, &yp)));
    }
    let mut o = m::RegressionOptions::new().force_finite(case.cfg_bool("force_finite", true));
    if let Some(w) = &w {
        o = o.sample_weight(w);
    }
    let raw = match case.config.get("multioutput") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => match s.as_str() {
            "raw_values" => true,
            "uniform_average" => false,
            "variance_weighted" => {
                o = o.multioutput(MultiOutput::VarianceWeighted);
                false
            }
            other => return Err(Unsup(format!("multioutput {other}"))),
        },
        Some(Value::Array(a)) => {
            let ws: Option<Vec<f64>> = a.iter().map(num).collect();
            o = o.multioutput(MultiOutput::Weights(ws.ok_or_else(|| Unsup("multioutput weights".into()))?));
            false
        }
        Some(v) => return Err(Unsup(format!("multioutput {v}"))),
    };
    macro_rules! pair {
        ($f:ident, $raw:ident) => {
            if raw { vector(m::$raw(&yt, &yp, o)) } else { scalar(m::$f(&yt, &yp, o)) }
        };
    }
    Ok(match case.name {
        "mean_squared_error" => pair!(mean_squared_error, mean_squared_error_raw_values),
        "root_mean_squared_error" => pair!(root_mean_squared_error, root_mean_squared_error_raw_values),
        "mean_absolute_error" => pair!(mean_absolute_error, mean_absolute_error_raw_values),
        "median_absolute_error" => pair!(median_absolute_error, median_absolute_error_raw_values),
        "mean_squared_log_error" => pair!(mean_squared_log_error, mean_squared_log_error_raw_values),
        "r2_score" => pair!(r2_score, r2_score_raw_values),
        "explained_variance_score" => pair!(explained_variance_score, explained_variance_score_raw_values),
        "mean_absolute_percentage_error" => {
            pair!(mean_absolute_percentage_error, mean_absolute_percentage_error_raw_values)
        }
        "d2_absolute_error_score" => pair!(d2_absolute_error_score, d2_absolute_error_score_raw_values),
        other => return Err(Unsup(format!("{other} not implemented"))),
    })
}
