//! Optimizer reference cases: open loop (`optimizer`) and Rosenbrock closed loop
//! (`optimizer_closed_loop`), from torch.optim; optax's cases go to `optimizer_optax`.

use ndarray::{ArrayD, IxDyn};
use ndtrain::model::{Module, ParamVisitor};
use ndtrain::optim::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Asgd, NAdam, Optimizer, ParamGroups, RAdam, RmsProp,
    Rprop, Sgd,
};
use ndtrain::{Param, Result as NdResult};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, num};
use crate::optimizer_optax;
use crate::{check, fail};

type DynOpt = Box<dyn Optimizer<f64> + Send + Sync>;

fn from_optax(case: &Case<'_>) -> bool {
    case.raw.get("source").and_then(|s| s.as_str()).is_some_and(|s| s.starts_with("optax"))
}

/// Hyper-parameters as the builder sees them: every key of a config object, or only the
/// keys the generator passed explicitly (the rest must then come from our defaults).
struct Hyper<'a> {
    obj: &'a Value,
    only: Option<&'a [Value]>,
}

impl<'a> Hyper<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        if let Some(only) = self.only {
            if !only.iter().any(|k| k.as_str() == Some(key)) {
                return None;
            }
        }
        self.obj.get(key)
    }
    fn f(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => num(v).map(Some).ok_or_else(|| format!("config {key} = {v} is not a number")),
        }
    }
    fn b(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| format!("config {key} = {v} is not a bool")),
        }
    }
    /// A pair such as `betas`; `null` elements come back as `None`.
    fn pair(&self, key: &str) -> Result<Option<(Option<f64>, f64)>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) if a.len() == 2 => {
                let second = num(&a[1]).ok_or_else(|| format!("config {key}[1] is not a number"))?;
                Ok(Some((num(&a[0]), second)))
            }
            Some(v) => Err(format!("config {key} = {v} is not a pair")),
        }
    }
    fn pair2(&self, key: &str) -> Result<Option<(f64, f64)>, String> {
        match self.pair(key)? {
            None => Ok(None),
            Some((Some(a), b)) => Ok(Some((a, b))),
            Some((None, _)) => Err(format!("config {key}[0] is null")),
        }
    }
}

/// Applies `$setter(value)` to builder `$b` for every key present.
macro_rules! set {
    ($b:ident, $h:ident, f: $($k:ident),*) => { $( if let Some(v) = $h.f(stringify!($k))? { $b = $b.$k(v); } )* };
    ($b:ident, $h:ident, b: $($k:ident),*) => { $( if let Some(v) = $h.b(stringify!($k))? { $b = $b.$k(v); } )* };
}

/// Builds a torch optimizer by name; `Ok(None)` for an unknown name.
fn build(name: &str, h: &Hyper<'_>) -> Result<Option<DynOpt>, String> {
    let e = |e: ndtrain::Error| format!("build failed: {e}");
    let opt: DynOpt = match name {
        "SGD" => {
            let mut b = Sgd::builder();
            set!(b, h, f: lr, momentum, dampening, weight_decay);
            set!(b, h, b: nesterov, maximize);
            Box::new(b.build().map_err(e)?)
        }
        "Adam" => {
            let mut b = Adam::builder();
            set!(b, h, f: lr, eps, weight_decay);
            set!(b, h, b: amsgrad, maximize, decoupled_weight_decay);
            if let Some((b1, b2)) = h.pair2("betas")? {
                b = b.betas(b1, b2);
            }
            Box::new(b.build().map_err(e)?)
        }
        "AdamW" => {
            let mut b = AdamW::builder();
            set!(b, h, f: lr, eps, weight_decay);
            set!(b, h, b: amsgrad, maximize);
            if let Some((b1, b2)) = h.pair2("betas")? {
                b = b.betas(b1, b2);
            }
            if h.b("decoupled_weight_decay")? == Some(false) {
                return Err("AdamW with decoupled_weight_decay = false".into());
            }
            Box::new(b.build().map_err(e)?)
        }
        "RMSprop" => {
            let mut b = RmsProp::builder();
            set!(b, h, f: lr, alpha, eps, weight_decay, momentum);
            set!(b, h, b: centered, maximize);
            Box::new(b.build().map_err(e)?)
        }
        "Adagrad" => {
            let mut b = Adagrad::builder();
            set!(b, h, f: lr, lr_decay, weight_decay, initial_accumulator_value, eps);
            set!(b, h, b: maximize);
            Box::new(b.build().map_err(e)?)
        }
        "Adadelta" => {
            let mut b = Adadelta::builder();
            set!(b, h, f: lr, rho, eps, weight_decay);
            set!(b, h, b: maximize);
            Box::new(b.build().map_err(e)?)
        }
        "Adamax" => {
            let mut b = Adamax::builder();
            set!(b, h, f: lr, eps, weight_decay);
            set!(b, h, b: maximize);
            if let Some((b1, b2)) = h.pair2("betas")? {
                b = b.betas(b1, b2);
            }
            Box::new(b.build().map_err(e)?)
        }
        "NAdam" => {
            let mut b = NAdam::builder();
            set!(b, h, f: lr, eps, weight_decay, momentum_decay);
            set!(b, h, b: decoupled_weight_decay, maximize);
            if let Some((b1, b2)) = h.pair2("betas")? {
                b = b.betas(b1, b2);
            }
            Box::new(b.build().map_err(e)?)
        }
        "RAdam" => {
            let mut b = RAdam::builder();
            set!(b, h, f: lr, eps, weight_decay);
            set!(b, h, b: decoupled_weight_decay, maximize);
            if let Some((b1, b2)) = h.pair2("betas")? {
                b = b.betas(b1, b2);
            }
            Box::new(b.build().map_err(e)?)
        }
        "Rprop" => {
            let mut b = Rprop::builder();
            set!(b, h, f: lr);
            set!(b, h, b: maximize);
            if let Some((m, p)) = h.pair2("etas")? {
                b = b.etas(m, p);
            }
            if let Some((lo, hi)) = h.pair2("step_sizes")? {
                b = b.step_sizes(lo, hi);
            }
            Box::new(b.build().map_err(e)?)
        }
        "ASGD" => {
            let mut b = Asgd::builder();
            set!(b, h, f: lr, lambd, alpha, t0, weight_decay);
            set!(b, h, b: maximize);
            Box::new(b.build().map_err(e)?)
        }
        "Adafactor" => {
            let mut b = Adafactor::builder();
            set!(b, h, f: lr, beta2_decay, d, weight_decay);
            set!(b, h, b: maximize);
            if let Some((e1, e2)) = h.pair("eps")? {
                b = b.eps(e1, e2);
            }
            Box::new(b.build().map_err(e)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(opt))
}

/// A model that only holds named tensors and their gradients.
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

struct OpenLoop {
    names: Vec<String>,
    init: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
    expected: Vec<ArrayD<f64>>,
    n_steps: usize,
}

fn parse_open_loop(case: &Case<'_>) -> Result<OpenLoop, String> {
    let n_steps = case.field("n_steps")?.as_u64().ok_or("n_steps is not an integer")? as usize;
    let params = case.field("params")?.as_array().ok_or("params is not a list")?;
    let mut ol = OpenLoop { names: vec![], init: vec![], grads: vec![], expected: vec![], n_steps };
    for p in params {
        ol.names.push(p.get("name").and_then(Value::as_str).ok_or("param without name")?.to_string());
        ol.init.push(arr_f64(p.get("init").ok_or("param without init")?)?);
        ol.grads.push(arr_f64(p.get("grads").ok_or("param without grads")?)?);
        ol.expected.push(arr_f64(p.get("expected").ok_or("param without expected")?)?);
    }
    Ok(ol)
}

/// Runs the open-loop procedure and returns the parameters after every step.
fn run_steps(opt: &mut DynOpt, ol: &OpenLoop) -> Result<Vec<Vec<ArrayD<f64>>>, String> {
    let mut model = Tensors {
        names: ol.names.clone(),
        values: ol.init.clone(),
        grads: ol.init.iter().map(|a| ArrayD::zeros(a.raw_dim())).collect(),
    };
    let mut out = Vec::with_capacity(ol.n_steps);
    for t in 0..ol.n_steps {
        for (g, all) in model.grads.iter_mut().zip(&ol.grads) {
            g.assign(&all.index_axis(ndarray::Axis(0), t));
        }
        opt.step(&mut model).map_err(|e| format!("step {t}: {e}"))?;
        out.push(model.values.clone());
    }
    Ok(out)
}

fn compare(case: &Case<'_>, ol: &OpenLoop, got: &[Vec<ArrayD<f64>>], label: &str) -> Result<(), String> {
    for (t, step) in got.iter().enumerate() {
        for (i, v) in step.iter().enumerate() {
            let e = ol.expected[i].index_axis(ndarray::Axis(0), t).to_owned();
            case.close(&format!("{label} {} step {t}", ol.names[i]), &e, v)?;
        }
    }
    Ok(())
}

/// A group predicate from the case's `params` index list.
fn groups_of<'a>(case: &Case<'a>) -> Result<Vec<(Vec<usize>, &'a Value)>, String> {
    let groups = case.field("param_groups")?.as_array().ok_or("param_groups is not a list")?;
    groups
        .iter()
        .map(|g| {
            let ids = g
                .get("params")
                .and_then(Value::as_array)
                .ok_or("group without params")?
                .iter()
                .map(|i| i.as_u64().map(|i| i as usize).ok_or_else(|| "bad param index".to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((ids, g))
        })
        .collect()
}

/// Builds `ParamGroups` with one optimizer per JSON group, the last group the default.
fn build_groups(case: &Case<'_>) -> Result<Option<ParamGroups<DynOpt>>, String> {
    let groups = groups_of(case)?;
    let Some(((_, last), rest)) = groups.split_last() else { return Err("no groups".into()) };
    let Some(default) = build(case.name, &Hyper { obj: last, only: None })? else { return Ok(None) };
    let mut pg = ParamGroups::new(default);
    for (ids, cfg) in rest {
        let Some(opt) = build(case.name, &Hyper { obj: cfg, only: None })? else { return Ok(None) };
        let ids = ids.clone();
        pg = pg.group(move |p: Param<'_>| ids.contains(&p.id), opt);
    }
    // The last group's parameters must be exactly those no earlier group takes.
    let (last_ids, _) = groups.last().ok_or("no groups")?;
    let n_params = case.field("params")?.as_array().map_or(0, Vec::len);
    for id in 0..n_params {
        let expect_last = last_ids.contains(&id);
        let routed_last = pg.group_of(Param::new(id, "")) == groups.len() - 1;
        if expect_last != routed_last {
            return Err(format!("param {id}: group routing does not match the case's lists"));
        }
    }
    Ok(Some(pg))
}

pub fn run_open_loop(case: &Case<'_>) -> Outcome {
    if from_optax(case) {
        return optimizer_optax::run_open_loop(case);
    }
    let ol = match parse_open_loop(case) {
        Ok(ol) => ol,
        Err(e) => fail!("{e}"),
    };
    if case.raw.get("param_groups").is_some() {
        let mut pg: DynOpt = match build_groups(case) {
            Ok(Some(pg)) => Box::new(pg),
            Ok(None) => return Outcome::Unsupported(format!("{} not implemented", case.name)),
            Err(e) => fail!("{e}"),
        };
        let got = match run_steps(&mut pg, &ol) {
            Ok(g) => g,
            Err(e) => fail!("{e}"),
        };
        check!(compare(case, &ol, &got, "groups"));
        return Outcome::Pass;
    }
    run_both_configs(case, |opt| {
        let got = run_steps(opt, &ol)?;
        compare(case, &ol, &got, "")?;
        Ok(got)
    })
}

/// Runs `f` with the optimizer built from the whole config and from only the
/// `config_passed` keys (our defaults for the rest); both must pass and agree exactly.
fn run_both_configs<T: PartialEq>(case: &Case<'_>, f: impl Fn(&mut DynOpt) -> Result<T, String>) -> Outcome {
    let passed: Vec<Value> =
        case.raw.get("config_passed").and_then(Value::as_array).cloned().unwrap_or_default();
    let full = Hyper { obj: case.config, only: None };
    let mut opt = match build(case.name, &full) {
        Ok(Some(o)) => o,
        Ok(None) => return Outcome::Unsupported(format!("{} not implemented", case.name)),
        Err(e) => fail!("{e}"),
    };
    let a = match f(&mut opt) {
        Ok(a) => a,
        Err(e) => fail!("full config: {e}"),
    };
    let mut opt = match build(case.name, &Hyper { obj: case.config, only: Some(&passed) }) {
        Ok(Some(o)) => o,
        Ok(None) => return Outcome::Unsupported(format!("{} not implemented", case.name)),
        Err(e) => fail!("{e}"),
    };
    let b = match f(&mut opt) {
        Ok(b) => b,
        Err(e) => fail!("config_passed keys + our defaults: {e}"),
    };
    if a != b {
        fail!("config_passed keys + our defaults give a different trajectory than the full config");
    }
    Outcome::Pass
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
    if from_optax(case) {
        return optimizer_optax::run_closed_loop(case);
    }
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
        Ok((n_steps, init, a, b, params, loss))
    })();
    let (n_steps, init, a, b, exp_params, exp_loss) = match parsed {
        Ok(p) => p,
        Err(e) => fail!("{e}"),
    };
    run_both_configs(case, |opt| {
        let n = init.len();
        let mut model = Tensors {
            names: vec!["x".into()],
            values: vec![init.clone().into_shape_with_order(IxDyn(&[n])).map_err(|e| e.to_string())?],
            grads: vec![ArrayD::zeros(IxDyn(&[n]))],
        };
        let mut params = ArrayD::zeros(IxDyn(&[n_steps, n]));
        let mut loss = ArrayD::zeros(IxDyn(&[n_steps]));
        for t in 0..n_steps {
            let x = model.values[0].as_slice().ok_or("x not contiguous")?.to_vec();
            loss[[t]] = rosenbrock(&x, a, b);
            rosenbrock_grad(&x, a, b, model.grads[0].as_slice_mut().ok_or("grad not contiguous")?);
            opt.step(&mut model).map_err(|e| format!("step {t}: {e}"))?;
            params.index_axis_mut(ndarray::Axis(0), t).assign(&model.values[0]);
        }
        case.close("params", &exp_params, &params)?;
        case.close("loss", &exp_loss, &loss)?;
        Ok(params)
    })
}
