//! `clip_grad` reference cases (torch.nn.utils.clip_grad_norm_ / clip_grad_value_, see
//! FORMAT.md). Each case runs twice: on a slice of gradient views and, through a model
//! holding the same gradients, with the `_model` variant; both must match.

use ndarray::ArrayD;
use ndtrain::model::{Module, ParamVisitor};
use ndtrain::optim::clip::{
    NormType, OnNonFinite, clip_grad_norm, clip_grad_norm_model, clip_grad_value, clip_grad_value_model,
};
use ndtrain::{Param, Result};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, assert_close_scalar, expected_error, num};
use crate::{check, fail};

/// A model that only stores gradients (the parameters are zeros of the same shapes).
struct Grads {
    values: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
}

impl Module<f64> for Grads {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> Result<()> {
        for (i, (v, g)) in self.values.iter_mut().zip(self.grads.iter_mut()).enumerate() {
            f(Param::new(i, "p"), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

fn arrays(v: &Value, what: &str) -> std::result::Result<Vec<ArrayD<f64>>, String> {
    v.as_array().ok_or_else(|| format!("{what} is not a list"))?.iter().map(arr_f64).collect()
}

enum Op {
    Norm { max_norm: f64, norm_type: NormType, on_nonfinite: OnNonFinite },
    Value(f64),
}

fn op(case: &Case<'_>) -> std::result::Result<Option<Op>, String> {
    match case.name {
        "clip_grad_norm_" => {
            let max_norm = case.cfg("max_norm").and_then(num).ok_or("config without max_norm")?;
            let p = case.cfg("norm_type").and_then(num).unwrap_or(2.0);
            let norm_type = NormType::from_f64(p).map_err(|e| e.to_string())?;
            let on_nonfinite = if case.cfg_bool("error_if_nonfinite", false) {
                OnNonFinite::Error
            } else {
                OnNonFinite::Propagate
            };
            Ok(Some(Op::Norm { max_norm, norm_type, on_nonfinite }))
        }
        "clip_grad_value_" => {
            let c = case.cfg("clip_value").and_then(num).ok_or("config without clip_value")?;
            Ok(Some(Op::Value(c)))
        }
        _ => Ok(None),
    }
}

pub fn run(case: &Case<'_>) -> Outcome {
    let op = match op(case) {
        Ok(Some(op)) => op,
        Ok(None) => return Outcome::Unsupported(format!("{} not implemented", case.name)),
        Err(e) => fail!("{e}"),
    };
    let grads = match case.field("inputs.grads").and_then(|v| arrays(v, "inputs.grads")) {
        Ok(g) => g,
        Err(e) => fail!("{e}"),
    };
    let expected = match case.field("expected") {
        Ok(e) => e,
        Err(e) => fail!("{e}"),
    };

    // On slices of views.
    let mut on_slices = grads.clone();
    let r_slices = {
        let mut views: Vec<_> = on_slices.iter_mut().map(|g| g.view_mut()).collect();
        match op {
            Op::Norm { max_norm, norm_type, on_nonfinite } => {
                clip_grad_norm(&mut views, max_norm, norm_type, on_nonfinite).map(Some)
            }
            Op::Value(c) => clip_grad_value(&mut views, c).map(|()| None),
        }
    };
    // On a model.
    let mut model =
        Grads { values: grads.iter().map(|g| ArrayD::zeros(g.raw_dim())).collect(), grads: grads.clone() };
    let r_model = match op {
        Op::Norm { max_norm, norm_type, on_nonfinite } => {
            clip_grad_norm_model(&mut model, max_norm, norm_type, on_nonfinite).map(Some)
        }
        Op::Value(c) => clip_grad_value_model(&mut model, c).map(|()| None),
    };

    if expected_error(expected).is_some() {
        if r_slices.is_ok() || r_model.is_ok() {
            fail!("expected an error, got Ok");
        }
        // Errors leave the gradients unchanged.
        for (k, (a, b)) in on_slices.iter().zip(&model.grads).enumerate() {
            check!(case.close(&format!("grads[{k}] (unchanged)"), &grads[k], a));
            check!(case.close(&format!("model grads[{k}] (unchanged)"), &grads[k], b));
        }
        return Outcome::Pass;
    }
    let (total_s, total_m) = match (r_slices, r_model) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => fail!("{e}"),
    };
    let want = match expected.get("grads").map(|v| arrays(v, "expected.grads")) {
        Some(Ok(w)) => w,
        Some(Err(e)) => fail!("{e}"),
        None => fail!("expected without grads"),
    };
    if want.len() != grads.len() {
        fail!("expected {} grads, inputs have {}", want.len(), grads.len());
    }
    for (k, w) in want.iter().enumerate() {
        check!(case.close(&format!("grads[{k}]"), w, &on_slices[k]));
        check!(case.close(&format!("model grads[{k}]"), w, &model.grads[k]));
    }
    if let Some(t) = expected.get("total_norm") {
        let t = match arr_f64(t) {
            Ok(a) => a.iter().copied().next().unwrap_or(f64::NAN),
            Err(e) => fail!("total_norm: {e}"),
        };
        let (Some(s), Some(m)) = (total_s, total_m) else { fail!("no total norm returned") };
        check!(assert_close_scalar("total_norm", t, s, case.rtol, case.atol));
        check!(assert_close_scalar("model total_norm", t, m, case.rtol, case.atol));
    }
    Outcome::Pass
}
