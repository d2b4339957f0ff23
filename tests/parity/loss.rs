//! Reference cases of kind `loss` (FORMAT.md): `output = F.<name>(**inputs, **config)`
//! and `grad[k] = d(sum(output))/d inputs[k]`. Each loss is built from the case's
//! `config` (and its array arguments, `weight` / `pos_weight`); the output comes from the
//! loss's `forward`, the gradients from `Loss::loss_and_grad` (or `loss_and_grads` for
//! the losses with two differentiable inputs), whose `Reduction::None` gradient is that
//! of the sum, as the cases record.

use std::collections::BTreeMap;

use ndarray::ArrayD;
use ndtrain::Result as NdResult;
use ndtrain::loss::*;
use serde_json::Value;

use crate::common::{Case, Outcome, RefArray, arr_f64, expected_error};

/// What running the Rust loss gave: the output and one gradient per input name.
struct Got {
    output: ArrayD<f64>,
    grads: BTreeMap<&'static str, ArrayD<f64>>,
}

pub fn run(case: &Case<'_>) -> Outcome {
    let known: &[&str] = match case.name {
        "mse_loss"
        | "l1_loss"
        | "binary_cross_entropy"
        | "binary_cross_entropy_with_logits"
        | "soft_margin_loss" => &["reduction"],
        "smooth_l1_loss" => &["reduction", "beta"],
        "huber_loss" => &["reduction", "delta"],
        "cross_entropy" => &["reduction", "ignore_index", "label_smoothing"],
        "nll_loss" => &["reduction", "ignore_index"],
        "kl_div" => &["reduction", "log_target"],
        "hinge_embedding_loss" | "cosine_embedding_loss" | "margin_ranking_loss" => &["reduction", "margin"],
        "multi_margin_loss" => &["reduction", "p", "margin"],
        "poisson_nll_loss" => &["reduction", "log_input", "full", "eps"],
        "gaussian_nll_loss" => &["reduction", "full", "eps"],
        other => return Outcome::Unsupported(format!("loss {other} not implemented")),
    };
    if let Some(cfg) = case.config.as_object() {
        if let Some(k) = cfg.keys().find(|k| !known.contains(&k.as_str())) {
            return Outcome::Unsupported(format!("config key {k} of {}", case.name));
        }
    }
    let expected = match case.field("expected") {
        Ok(e) => e,
        Err(e) => return Outcome::Fail(e),
    };
    let got = compute(case);
    if expected_error(expected).is_some() {
        return match got {
            Ok(Ok(_)) => Outcome::Fail("expected an error, got a value".into()),
            Ok(Err(_)) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        };
    }
    let got = match got {
        Ok(Ok(g)) => g,
        Ok(Err(e)) => return Outcome::Fail(format!("unexpected error: {e}")),
        Err(e) => return Outcome::Fail(e),
    };
    let out = match expected.get("output").map(arr_f64) {
        Some(Ok(o)) => o,
        Some(Err(e)) => return Outcome::Fail(e),
        None => return Outcome::Fail("case without expected.output".into()),
    };
    crate::check!(case.close("output", &out, &got.output));
    let Some(grads) = expected.get("grad").and_then(Value::as_object) else {
        return Outcome::Fail("case without expected.grad".into());
    };
    for (name, g) in grads {
        let want = match arr_f64(g) {
            Ok(w) => w,
            Err(e) => return Outcome::Fail(e),
        };
        let Some(have) = got.grads.get(name.as_str()) else {
            return Outcome::Fail(format!("no gradient computed for {name}"));
        };
        crate::check!(case.close(&format!("grad[{name}]"), &want, have));
    }
    Outcome::Pass
}

fn input(case: &Case<'_>, name: &str) -> Result<ArrayD<f64>, String> {
    arr_f64(case.field(&format!("inputs.{name}"))?)
}

fn optional(case: &Case<'_>, name: &str) -> Result<Option<ArrayD<f64>>, String> {
    match case.raw.get("inputs").and_then(|i| i.get(name)) {
        Some(v) if !v.is_null() => arr_f64(v).map(Some),
        _ => Ok(None),
    }
}

fn reduction(case: &Case<'_>) -> Result<Reduction, String> {
    case.cfg_str("reduction").unwrap_or("mean").parse::<Reduction>().map_err(|e| e.to_string())
}

/// Class-index targets as usize. Targets equal to the case's `ignore_index` (torch
/// default -100) that no usize can hold become `usize::MAX`, the ignore sentinel.
fn class_targets(case: &Case<'_>) -> Result<(ArrayD<usize>, Option<usize>), String> {
    let t = match RefArray::parse(case.field("inputs.target")?)? {
        RefArray::I64(t) => t,
        _ => return Err("class-index target must be i64".into()),
    };
    let ignore = case.cfg("ignore_index").and_then(Value::as_i64).unwrap_or(-100);
    let mut sentinel = None;
    let mut out = ArrayD::<usize>::zeros(t.raw_dim());
    for (o, &v) in out.iter_mut().zip(t.iter()) {
        *o = if v == ignore && ignore < 0 {
            sentinel = Some(usize::MAX);
            usize::MAX
        } else if v < 0 {
            return Err(format!("negative class index {v} that is not ignore_index"));
        } else {
            v as usize
        };
    }
    let ignore_index = if ignore >= 0 { Some(ignore as usize) } else { sentinel };
    Ok((out, ignore_index))
}

/// Runs a one-prediction loss: output from `forward`, gradient of the input from the trait.
fn single<Y: Clone>(
    forward: impl FnOnce() -> NdResult<ArrayD<f64>>,
    loss: &dyn Loss<f64, Y>,
    input: &ArrayD<f64>,
    target: &ArrayD<Y>,
) -> NdResult<Got> {
    let output = forward()?;
    let mut grad = ArrayD::<f64>::zeros(input.raw_dim());
    loss.loss_and_grad(input.view(), target.view(), grad.view_mut())?;
    Ok(Got { output, grads: BTreeMap::from([("input", grad)]) })
}

type Computed = Result<NdResult<Got>, String>;

fn compute(case: &Case<'_>) -> Computed {
    let r = reduction(case);
    let weight = optional(case, "weight")?;
    Ok(match case.name {
        "mse_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let mut b = MseLoss::builder().reduction(r?);
            if let Some(w) = weight {
                b = b.weight(w);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "l1_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let mut b = L1Loss::builder().reduction(r?);
            if let Some(w) = weight {
                b = b.weight(w);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "smooth_l1_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let b = SmoothL1Loss::builder().reduction(r?).beta(case.cfg_f64("beta", 1.0));
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "huber_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let mut b = HuberLoss::builder().reduction(r?).delta(case.cfg_f64("delta", 1.0));
            if let Some(w) = weight {
                b = b.weight(w);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "binary_cross_entropy" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let mut b = BceLoss::builder().reduction(r?);
            if let Some(w) = weight {
                b = b.weight(w);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "binary_cross_entropy_with_logits" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let mut b = BceWithLogitsLoss::builder().reduction(r?);
            if let Some(w) = weight {
                b = b.weight(w);
            }
            if let Some(p) = optional(case, "pos_weight")? {
                b = b.pos_weight(p);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "cross_entropy" => {
            let x = input(case, "input")?;
            let mut b = CrossEntropyLoss::builder()
                .reduction(r?)
                .label_smoothing(case.cfg_f64("label_smoothing", 0.0));
            if let Some(w) = weight {
                b = b.weight(w);
            }
            match RefArray::parse(case.field("inputs.target")?)? {
                RefArray::I64(_) => {
                    let (t, ignore) = class_targets(case)?;
                    if let Some(i) = ignore {
                        b = b.ignore_index(i);
                    }
                    b.build().and_then(|l| single(|| l.forward(x.view(), t.view()), &l, &x, &t))
                }
                _ => {
                    let t = input(case, "target")?;
                    b.build().and_then(|l| single(|| l.forward_probs(x.view(), t.view()), &l, &x, &t))
                }
            }
        }
        "nll_loss" => {
            let x = input(case, "input")?;
            let (t, ignore) = class_targets(case)?;
            let mut b = NllLoss::builder().reduction(r?);
            if let Some(w) = weight {
                b = b.weight(w);
            }
            if let Some(i) = ignore {
                b = b.ignore_index(i);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), t.view()), &l, &x, &t))
        }
        "kl_div" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let red = case
                .cfg_str("reduction")
                .unwrap_or("mean")
                .parse::<KlDivReduction>()
                .map_err(|e| e.to_string())?;
            let b = KlDivLoss::builder().reduction(red).log_target(case.cfg_bool("log_target", false));
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "hinge_embedding_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let b = HingeEmbeddingLoss::builder().reduction(r?).margin(case.cfg_f64("margin", 1.0));
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "soft_margin_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let b = SoftMarginLoss::builder().reduction(r?);
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "poisson_nll_loss" => {
            let (x, y) = (input(case, "input")?, input(case, "target")?);
            let b = PoissonNllLoss::builder()
                .reduction(r?)
                .log_input(case.cfg_bool("log_input", true))
                .full(case.cfg_bool("full", false))
                .eps(case.cfg_f64("eps", 1e-8));
            b.build().and_then(|l| single(|| l.forward(x.view(), y.view()), &l, &x, &y))
        }
        "multi_margin_loss" => {
            let x = input(case, "input")?;
            let (t, _) = class_targets(case)?;
            let p = case.cfg("p").and_then(Value::as_u64).unwrap_or(1);
            let mut b = MultiMarginLoss::builder()
                .reduction(r?)
                .p(u32::try_from(p).map_err(|e| e.to_string())?)
                .margin(case.cfg_f64("margin", 1.0));
            if let Some(w) = weight {
                b = b.weight(w);
            }
            b.build().and_then(|l| single(|| l.forward(x.view(), t.view()), &l, &x, &t))
        }
        "margin_ranking_loss" => {
            let (a, b2, y) = (input(case, "input1")?, input(case, "input2")?, input(case, "target")?);
            MarginRankingLoss::builder().reduction(r?).margin(case.cfg_f64("margin", 0.0)).build().and_then(
                |l| {
                    let output = l.forward(a.view(), b2.view(), y.view())?;
                    let (mut g1, mut g2) = (ArrayD::zeros(a.raw_dim()), ArrayD::zeros(b2.raw_dim()));
                    l.loss_and_grads(a.view(), b2.view(), y.view(), g1.view_mut(), g2.view_mut())?;
                    Ok(Got { output, grads: BTreeMap::from([("input1", g1), ("input2", g2)]) })
                },
            )
        }
        "cosine_embedding_loss" => {
            let (a, b2, y) = (input(case, "input1")?, input(case, "input2")?, input(case, "target")?);
            CosineEmbeddingLoss::builder().reduction(r?).margin(case.cfg_f64("margin", 0.0)).build().and_then(
                |l| {
                    let output = l.forward(a.view(), b2.view(), y.view())?;
                    let (mut g1, mut g2) = (ArrayD::zeros(a.raw_dim()), ArrayD::zeros(b2.raw_dim()));
                    l.loss_and_grads(a.view(), b2.view(), y.view(), g1.view_mut(), g2.view_mut())?;
                    Ok(Got { output, grads: BTreeMap::from([("input1", g1), ("input2", g2)]) })
                },
            )
        }
        "gaussian_nll_loss" => {
            let (x, y, v) = (input(case, "input")?, input(case, "target")?, input(case, "var")?);
            GaussianNllLoss::builder()
                .reduction(r?)
                .full(case.cfg_bool("full", false))
                .eps(case.cfg_f64("eps", 1e-6))
                .build()
                .and_then(|l| {
                    let output = l.forward(x.view(), y.view(), v.view())?;
                    let (mut gx, mut gv) = (ArrayD::zeros(x.raw_dim()), ArrayD::zeros(v.raw_dim()));
                    l.loss_and_grads(x.view(), y.view(), v.view(), gx.view_mut(), gv.view_mut())?;
                    Ok(Got { output, grads: BTreeMap::from([("input", gx), ("var", gv)]) })
                })
        }
        other => return Err(format!("loss {other} not dispatched")),
    })
}
