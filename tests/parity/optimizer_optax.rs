//! optax optimizer reference cases (Lion, LAMB, LARS, schedule-free, Muon): open loop
//! (`optimizer`) and Rosenbrock closed loop (`optimizer_closed_loop`), routed here from
//! `optimizer.rs` when `source` starts with "optax".
//!
//! Each case runs twice: with the optimizer built from the whole `config`, and from only
//! the `config_passed` keys (our defaults for the rest); both must pass and agree
//! exactly. Schedule-free cases also compare the evaluation point `x` (`expected_eval`,
//! `expected.eval_params`), read through `Optimizer::swap_params`, and check that
//! swapping back restores the training point bit for bit.

use ndarray::{ArrayD, Axis, IxDyn};
use ndtrain::model::{Mode, Module, ParamVisitor};
use ndtrain::optim::{Lamb, Lars, Lion, Muon, Optimizer, ScheduleFreeAdamW, ScheduleFreeSgd};
use ndtrain::{Param, Result as NdResult};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, num};
use crate::fail;

type DynOpt = Box<dyn Optimizer<f64> + Send + Sync>;

/// The config as the builder sees it: every key, or only the `config_passed` ones.
struct Hyper<'a> {
    obj: &'a Value,
    only: Option<&'a [Value]>,
}

impl<'a> Hyper<'a> {
    /// The value of `key`, `None` if absent, not passed, or `null`.
    fn get(&self, key: &str) -> Option<&'a Value> {
        if let Some(only) = self.only {
            if !only.iter().any(|k| k.as_str() == Some(key)) {
                return None;
            }
        }
        self.obj.get(key).filter(|v| !v.is_null())
    }
    fn f(&self, key: &str) -> Result<Option<f64>, String> {
        self.get(key).map(|v| num(v).ok_or_else(|| format!("config {key} = {v} is not a number"))).transpose()
    }
    fn b(&self, key: &str) -> Result<Option<bool>, String> {
        self.get(key)
            .map(|v| v.as_bool().ok_or_else(|| format!("config {key} = {v} is not a bool")))
            .transpose()
    }
    fn u(&self, key: &str) -> Result<Option<u64>, String> {
        self.get(key)
            .map(|v| v.as_u64().ok_or_else(|| format!("config {key} = {v} is not a count")))
            .transpose()
    }
    /// The raw value of `key` in the full config (for options we must reject whatever
    /// the mode).
    fn raw(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key)
    }
}

/// Applies `$setter(value)` for every present key (`$key => $setter`).
macro_rules! set {
    ($b:ident, $h:ident, $kind:ident: $($key:literal => $setter:ident),*) => {
        $( if let Some(v) = $h.$kind($key)? { $b = $b.$setter(v); } )*
    };
}

enum Built {
    Opt(DynOpt),
    Unsupported(String),
}

fn unsupported_unless(h: &Hyper<'_>, key: &str, ok: impl Fn(&Value) -> bool) -> Option<String> {
    match h.raw(key) {
        Some(v) if !ok(v) => Some(format!("{key} = {v}")),
        _ => None,
    }
}

/// Builds the optimizer a case names.
fn build(name: &str, h: &Hyper<'_>) -> Result<Built, String> {
    let e = |e: ndtrain::Error| format!("build failed: {e}");
    let null = |v: &Value| v.is_null();
    let opt: DynOpt = match name {
        "lion" => {
            if let Some(u) = unsupported_unless(h, "mask", null) {
                return Ok(Built::Unsupported(u));
            }
            let mut b = Lion::builder();
            set!(b, h, f: "learning_rate" => lr, "weight_decay" => weight_decay);
            let (d1, d2) = Lion::<f64>::default().betas();
            b = b.betas(h.f("b1")?.unwrap_or(d1), h.f("b2")?.unwrap_or(d2));
            Box::new(b.build().map_err(e)?)
        }
        "lamb" => {
            if let Some(u) = unsupported_unless(h, "mask", null) {
                return Ok(Built::Unsupported(u));
            }
            let mut b = Lamb::builder();
            set!(b, h, f: "learning_rate" => lr, "eps" => eps, "eps_root" => eps_root, "weight_decay" => weight_decay);
            let (d1, d2) = Lamb::<f64>::default().betas();
            b = b.betas(h.f("b1")?.unwrap_or(d1), h.f("b2")?.unwrap_or(d2));
            Box::new(b.build().map_err(e)?)
        }
        "lars" => {
            for key in ["weight_decay_mask", "trust_ratio_mask"] {
                if let Some(u) = unsupported_unless(h, key, |v| v == &Value::Bool(true)) {
                    return Ok(Built::Unsupported(u));
                }
            }
            let mut b = Lars::builder();
            set!(b, h, f: "learning_rate" => lr, "weight_decay" => weight_decay,
                 "trust_coefficient" => trust_coefficient, "eps" => eps, "momentum" => momentum);
            set!(b, h, b: "nesterov" => nesterov);
            Box::new(b.build().map_err(e)?)
        }
        "schedule_free_adamw" => {
            let mut b = ScheduleFreeAdamW::builder();
            set!(b, h, f: "learning_rate" => lr, "eps" => eps, "weight_decay" => weight_decay,
                 "weight_lr_power" => weight_lr_power);
            set!(b, h, u: "warmup_steps" => warmup_steps);
            let (d1, d2) = ScheduleFreeAdamW::<f64>::default().betas();
            b = b.betas(h.f("b1")?.unwrap_or(d1), h.f("b2")?.unwrap_or(d2));
            Box::new(b.build().map_err(e)?)
        }
        "schedule_free_sgd" => {
            let mut b = ScheduleFreeSgd::builder();
            set!(b, h, f: "learning_rate" => lr, "b1" => momentum, "weight_decay" => weight_decay,
                 "weight_lr_power" => weight_lr_power);
            set!(b, h, u: "warmup_steps" => warmup_steps);
            Box::new(b.build().map_err(e)?)
        }
        "muon" => {
            for key in ["weight_decay_mask", "muon_weight_dimension_numbers"] {
                if let Some(u) = unsupported_unless(h, key, null) {
                    return Ok(Built::Unsupported(u));
                }
            }
            if let Some(u) = unsupported_unless(h, "preconditioning", |v| v.is_null() || v == "frobenius") {
                return Ok(Built::Unsupported(u));
            }
            let mut b = Muon::builder();
            set!(b, h, f: "learning_rate" => lr, "beta" => momentum, "eps" => eps, "weight_decay" => weight_decay,
                 "consistent_rms" => consistent_rms, "adam_eps_root" => adam_eps_root,
                 "adam_weight_decay" => adam_weight_decay, "adam_learning_rate" => adam_lr);
            set!(b, h, b: "nesterov" => nesterov, "adaptive" => adaptive);
            if let Some(n) = h.u("ns_steps")? {
                b = b.ns_steps(n as usize);
            }
            let (d1, d2) = Muon::<f64>::default().adam_betas();
            b = b.adam_betas(h.f("adam_b1")?.unwrap_or(d1), h.f("adam_b2")?.unwrap_or(d2));
            match h.get("ns_coeffs") {
                None => {}
                Some(Value::Array(rows)) if rows.iter().all(Value::is_array) => {
                    let triples = rows.iter().map(triple).collect::<Result<Vec<_>, _>>()?;
                    b = b.ns_coeffs_per_step(&triples);
                }
                Some(v @ Value::Array(_)) => {
                    let [x, y, z] = triple(v)?;
                    b = b.ns_coeffs(x, y, z);
                }
                Some(v) => return Ok(Built::Unsupported(format!("ns_coeffs = {v}"))),
            }
            Box::new(b.build().map_err(e)?)
        }
        other => return Ok(Built::Unsupported(format!("{other} not implemented"))),
    };
    Ok(Built::Opt(opt))
}

fn triple(v: &Value) -> Result<[f64; 3], String> {
    match v.as_array().map(|a| a.iter().map(num).collect::<Option<Vec<f64>>>()) {
        Some(Some(t)) if t.len() == 3 => Ok([t[0], t[1], t[2]]),
        _ => Err(format!("ns_coeffs entry {v} is not a triple of numbers")),
    }
}

/// A model that only holds named tensors and their gradients (as in `optimizer.rs`).
struct Tensors {
    names: Vec<String>,
    values: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
}

impl Module<f64> for Tensors {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> NdResult<()> {
        for (i, ((n, v), g)) in self.names.iter().zip(&mut self.values).zip(&mut self.grads).enumerate() {
            f(Param::new(i, n), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

/// The model's tensors at the evaluation point: swapped in with `swap_params(Eval)` and
/// copied, then swapped back, checking that the training point comes back bit for bit.
/// `None` for an optimizer without separate evaluation parameters.
fn eval_values(opt: &mut DynOpt, model: &mut Tensors) -> Result<Option<Vec<ArrayD<f64>>>, String> {
    let before = model.values.clone();
    if !opt.swap_params(model, Mode::Eval).map_err(|e| format!("swap to eval: {e}"))? {
        return Ok(None);
    }
    let x = model.values.clone();
    opt.swap_params(model, Mode::Train).map_err(|e| format!("swap to train: {e}"))?;
    let same_bits = before
        .iter()
        .zip(&model.values)
        .all(|(a, b)| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits()));
    if !same_bits {
        return Err("swap_params(Eval) then (Train) did not restore the training parameters exactly".into());
    }
    Ok(Some(x))
}

struct OpenLoop {
    names: Vec<String>,
    init: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
    expected: Vec<ArrayD<f64>>,
    expected_eval: Vec<Option<ArrayD<f64>>>,
    n_steps: usize,
}

fn parse_open_loop(case: &Case<'_>) -> Result<OpenLoop, String> {
    let n_steps = case.field("n_steps")?.as_u64().ok_or("n_steps is not an integer")? as usize;
    let params = case.field("params")?.as_array().ok_or("params is not a list")?;
    let mut ol = OpenLoop {
        names: vec![],
        init: vec![],
        grads: vec![],
        expected: vec![],
        expected_eval: vec![],
        n_steps,
    };
    for p in params {
        ol.names.push(p.get("name").and_then(Value::as_str).ok_or("param without name")?.to_string());
        ol.init.push(arr_f64(p.get("init").ok_or("param without init")?)?);
        ol.grads.push(arr_f64(p.get("grads").ok_or("param without grads")?)?);
        ol.expected.push(arr_f64(p.get("expected").ok_or("param without expected")?)?);
        ol.expected_eval.push(p.get("expected_eval").map(arr_f64).transpose()?);
    }
    Ok(ol)
}

/// Runs `f` with the optimizer built from the whole config and from only the
/// `config_passed` keys; both must pass and give the same trajectory.
fn run_both_configs<T: PartialEq>(case: &Case<'_>, f: impl Fn(&mut DynOpt) -> Result<T, String>) -> Outcome {
    let passed: Vec<Value> =
        case.raw.get("config_passed").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut results = Vec::new();
    for (label, only) in
        [("full config", None), ("config_passed keys + our defaults", Some(passed.as_slice()))]
    {
        let mut opt = match build(case.name, &Hyper { obj: case.config, only }) {
            Ok(Built::Opt(o)) => o,
            Ok(Built::Unsupported(why)) => return Outcome::Unsupported(why),
            Err(e) => fail!("{label}: {e}"),
        };
        match f(&mut opt) {
            Ok(r) => results.push(r),
            Err(e) => fail!("{label}: {e}"),
        }
    }
    if results[0] != results[1] {
        fail!("config_passed keys + our defaults give a different trajectory than the full config");
    }
    Outcome::Pass
}

pub fn run_open_loop(case: &Case<'_>) -> Outcome {
    let ol = match parse_open_loop(case) {
        Ok(ol) => ol,
        Err(e) => fail!("{e}"),
    };
    run_both_configs(case, |opt| {
        let mut model = Tensors {
            names: ol.names.clone(),
            values: ol.init.clone(),
            grads: ol.init.iter().map(|a| ArrayD::zeros(a.raw_dim())).collect(),
        };
        let mut trajectory = Vec::with_capacity(ol.n_steps);
        for t in 0..ol.n_steps {
            for (g, all) in model.grads.iter_mut().zip(&ol.grads) {
                g.assign(&all.index_axis(Axis(0), t));
            }
            opt.step(&mut model).map_err(|e| format!("step {t}: {e}"))?;
            for (i, v) in model.values.iter().enumerate() {
                let e = ol.expected[i].index_axis(Axis(0), t).to_owned();
                case.close(&format!("{} step {t}", ol.names[i]), &e, v)?;
            }
            let eval = eval_values(opt, &mut model)?;
            for (i, exp) in ol.expected_eval.iter().enumerate() {
                let Some(exp) = exp else { continue };
                let Some(x) = &eval else {
                    return Err("expected_eval given, but no evaluation parameters".into());
                };
                let e = exp.index_axis(Axis(0), t).to_owned();
                case.close(&format!("eval {} step {t}", ol.names[i]), &e, &x[i])?;
            }
            trajectory.push(model.values.clone());
        }
        Ok(trajectory)
    })
}

/// The Rosenbrock gradient exactly as FORMAT.md writes it (left to right).
fn rosenbrock_grad(x: &[f64], a: f64, b: f64, g: &mut [f64]) {
    let n = x.len();
    for i in 0..n {
        let mut gi = 0.0;
        if i < n - 1 {
            gi += (-2.0 * (a - x[i])) - ((4.0 * b) * x[i]) * (x[i + 1] - x[i] * x[i]);
        }
        if i > 0 {
            gi += (2.0 * b) * (x[i] - x[i - 1] * x[i - 1]);
        }
        g[i] = gi;
    }
}

fn rosenbrock(x: &[f64], a: f64, b: f64) -> f64 {
    let mut f = 0.0;
    for i in 0..x.len().saturating_sub(1) {
        let u = a - x[i];
        let v = x[i + 1] - x[i] * x[i];
        f += u * u + b * (v * v);
    }
    f
}

pub fn run_closed_loop(case: &Case<'_>) -> Outcome {
    let parsed = (|| -> Result<_, String> {
        let n_steps = case.field("n_steps")?.as_u64().ok_or("n_steps is not an integer")? as usize;
        let init = arr_f64(case.field("init")?)?;
        let obj = case.field("objective")?;
        if obj.get("name").and_then(Value::as_str) != Some("rosenbrock") {
            return Err("objective is not rosenbrock".into());
        }
        let a = obj.get("a").and_then(num).ok_or("objective without a")?;
        let b = obj.get("b").and_then(num).ok_or("objective without b")?;
        let params = arr_f64(case.field("expected.params")?)?;
        let loss = arr_f64(case.field("expected.loss")?)?;
        let eval = case.raw.get("expected").and_then(|e| e.get("eval_params")).map(arr_f64).transpose()?;
        let n = init.len();
        let shape: Vec<usize> = match case.raw.get("param_shape") {
            None | Some(Value::Null) => vec![n],
            Some(Value::Array(d)) => d
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad param_shape"))
                .collect::<Result<_, _>>()?,
            Some(v) => return Err(format!("param_shape = {v} is not a list")),
        };
        if shape.iter().product::<usize>() != n {
            return Err(format!("param_shape {shape:?} does not hold {n} values"));
        }
        Ok((n_steps, init, a, b, params, loss, eval, shape))
    })();
    let (n_steps, init, a, b, exp_params, exp_loss, exp_eval, shape) = match parsed {
        Ok(p) => p,
        Err(e) => fail!("{e}"),
    };
    run_both_configs(case, |opt| {
        let n = init.len();
        let x0 = init.clone().into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string())?;
        let mut model =
            Tensors { names: vec!["x".into()], values: vec![x0], grads: vec![ArrayD::zeros(IxDyn(&shape))] };
        let mut params = ArrayD::zeros(IxDyn(&[n_steps, n]));
        let mut evals = ArrayD::zeros(IxDyn(&[n_steps, n]));
        let mut loss = ArrayD::zeros(IxDyn(&[n_steps]));
        for t in 0..n_steps {
            let x = model.values[0].as_slice().ok_or("x not contiguous")?.to_vec();
            loss[[t]] = rosenbrock(&x, a, b);
            rosenbrock_grad(&x, a, b, model.grads[0].as_slice_mut().ok_or("grad not contiguous")?);
            opt.step(&mut model).map_err(|e| format!("step {t}: {e}"))?;
            let flat = |v: &ArrayD<f64>| v.iter().copied().collect::<Vec<f64>>();
            params.index_axis_mut(Axis(0), t).assign(&ndarray::Array1::from(flat(&model.values[0])));
            if let Some(xs) = eval_values(opt, &mut model)? {
                evals.index_axis_mut(Axis(0), t).assign(&ndarray::Array1::from(flat(&xs[0])));
            }
        }
        case.close("params", &exp_params, &params)?;
        case.close("loss", &exp_loss, &loss)?;
        if let Some(e) = &exp_eval {
            case.close("eval_params", e, &evals)?;
        }
        Ok(params)
    })
}
