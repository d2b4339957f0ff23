//! `lr_scheduler` reference cases (torch.optim.lr_scheduler, see FORMAT.md).
//!
//! Each case's scheduler drives a small multi-group optimizer through
//! `AttachedScheduler`, the path the Trainer uses: the optimizer's groups come from
//! `optimizer.param_groups` (momentum = SGD's `momentum` or Adam's `betas[0]`); row 0 is
//! recorded after `attach`, row k+1 after the k-th `step` (ReduceLROnPlateau gets
//! `inputs.metrics[k]`).

use ndarray::{Array2, ArrayViewD, ArrayViewMutD};
use ndtrain::optim::Optimizer;
use ndtrain::schedule::{
    AnnealStrategy, AttachedScheduler, BoxedScheduler, ChainedScheduler, ConstantLr, CosineAnnealingLr,
    CosineAnnealingWarmRestarts, CyclicLr, CyclicMode, ExponentialLr, LinearLr, MultiStepLr, OneCycleLr,
    PerGroup, PlateauMode, PolynomialLr, ReduceLrOnPlateau, SequentialLr, StepLr, ThresholdMode,
};
use ndtrain::{Param, Result};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, expected_error, num};
use crate::{check, fail};

/// An optimizer that only holds per-group hyper-parameters.
struct Groups {
    lr: Vec<f64>,
    momentum: Vec<Option<f64>>,
}

impl Optimizer<f64> for Groups {
    fn update(&mut self, _: Param<'_>, _: ArrayViewMutD<'_, f64>, _: ArrayViewD<'_, f64>) -> Result<()> {
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.lr[0]
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr.iter_mut().for_each(|l| *l = lr);
    }
    fn num_groups(&self) -> usize {
        self.lr.len()
    }
    fn group_lr(&self, g: usize) -> f64 {
        self.lr[g]
    }
    fn set_group_lr(&mut self, g: usize, lr: f64) {
        self.lr[g] = lr;
    }
    fn group_momentum(&self, g: usize) -> Option<f64> {
        self.momentum[g]
    }
    fn set_group_momentum(&mut self, g: usize, m: f64) {
        self.momentum[g] = Some(m);
    }
}

enum Built {
    Ok(BoxedScheduler),
    Unsupported(String),
    Err(String),
}

fn f64_of(cfg: &Value, key: &str) -> Option<f64> {
    cfg.get(key).filter(|v| !v.is_null()).and_then(num)
}

fn usize_of(cfg: &Value, key: &str) -> Option<usize> {
    cfg.get(key).filter(|v| !v.is_null()).and_then(Value::as_u64).map(|v| v as usize)
}

fn str_of<'a>(cfg: &'a Value, key: &str) -> Option<&'a str> {
    cfg.get(key).and_then(Value::as_str)
}

fn bool_of(cfg: &Value, key: &str) -> Option<bool> {
    cfg.get(key).and_then(Value::as_bool)
}

fn per_group(cfg: &Value, key: &str) -> Option<PerGroup> {
    match cfg.get(key)? {
        Value::Array(a) => Some(PerGroup::Each(a.iter().map(|v| num(v).unwrap_or(f64::NAN)).collect())),
        v => num(v).map(PerGroup::All),
    }
}

fn usizes(cfg: &Value, key: &str) -> Option<Vec<usize>> {
    cfg.get(key)?.as_array()?.iter().map(|v| v.as_u64().map(|v| v as usize)).collect()
}

/// Builds the scheduler `name` from its torch config; keys absent from `cfg` keep the
/// builder's (torch's) defaults.
fn build(name: &str, cfg: &Value) -> Built {
    macro_rules! set {
        ($b:ident, $getter:ident, $key:literal, $method:ident) => {
            if let Some(v) = $getter(cfg, $key) {
                $b = $b.$method(v);
            }
        };
    }
    let r: Result<BoxedScheduler> = (|| -> Result<BoxedScheduler> {
        Ok(match name {
            "StepLR" => {
                let Some(step_size) = usize_of(cfg, "step_size") else { return Err(missing("step_size")) };
                let mut b = StepLr::builder(step_size);
                set!(b, f64_of, "gamma", gamma);
                Box::new(b.build()?)
            }
            "MultiStepLR" => {
                let Some(m) = usizes(cfg, "milestones") else { return Err(missing("milestones")) };
                let mut b = MultiStepLr::builder(m);
                set!(b, f64_of, "gamma", gamma);
                Box::new(b.build()?)
            }
            "ConstantLR" => {
                let mut b = ConstantLr::builder();
                set!(b, f64_of, "factor", factor);
                set!(b, usize_of, "total_iters", total_iters);
                Box::new(b.build()?)
            }
            "LinearLR" => {
                let mut b = LinearLr::builder();
                set!(b, f64_of, "start_factor", start_factor);
                set!(b, f64_of, "end_factor", end_factor);
                set!(b, usize_of, "total_iters", total_iters);
                Box::new(b.build()?)
            }
            "ExponentialLR" => {
                let Some(g) = f64_of(cfg, "gamma") else { return Err(missing("gamma")) };
                Box::new(ExponentialLr::new(g)?)
            }
            "PolynomialLR" => {
                let mut b = PolynomialLr::builder();
                set!(b, usize_of, "total_iters", total_iters);
                set!(b, f64_of, "power", power);
                Box::new(b.build()?)
            }
            "CosineAnnealingLR" => {
                let Some(t) = usize_of(cfg, "T_max") else { return Err(missing("T_max")) };
                let mut b = CosineAnnealingLr::builder(t);
                set!(b, f64_of, "eta_min", eta_min);
                Box::new(b.build()?)
            }
            "CosineAnnealingWarmRestarts" => {
                let Some(t) = usize_of(cfg, "T_0") else { return Err(missing("T_0")) };
                let mut b = CosineAnnealingWarmRestarts::builder(t);
                set!(b, usize_of, "T_mult", t_mult);
                set!(b, f64_of, "eta_min", eta_min);
                Box::new(b.build()?)
            }
            "CyclicLR" => {
                let (Some(base), Some(max)) = (per_group(cfg, "base_lr"), per_group(cfg, "max_lr")) else {
                    return Err(missing("base_lr / max_lr"));
                };
                let mut b = CyclicLr::builder(base, max);
                set!(b, usize_of, "step_size_up", step_size_up);
                set!(b, usize_of, "step_size_down", step_size_down);
                if let Some(m) = str_of(cfg, "mode") {
                    b = b.mode(m.parse::<CyclicMode>()?);
                }
                set!(b, f64_of, "gamma", gamma);
                set!(b, bool_of, "cycle_momentum", cycle_momentum);
                set!(b, per_group, "base_momentum", base_momentum);
                set!(b, per_group, "max_momentum", max_momentum);
                Box::new(b.build()?)
            }
            "OneCycleLR" => {
                let Some(max) = per_group(cfg, "max_lr") else { return Err(missing("max_lr")) };
                let mut b = OneCycleLr::builder(max);
                set!(b, usize_of, "total_steps", total_steps);
                set!(b, usize_of, "epochs", epochs);
                set!(b, usize_of, "steps_per_epoch", steps_per_epoch);
                set!(b, f64_of, "pct_start", pct_start);
                if let Some(a) = str_of(cfg, "anneal_strategy") {
                    b = b.anneal_strategy(a.parse::<AnnealStrategy>()?);
                }
                set!(b, bool_of, "cycle_momentum", cycle_momentum);
                set!(b, per_group, "base_momentum", base_momentum);
                set!(b, per_group, "max_momentum", max_momentum);
                set!(b, f64_of, "div_factor", div_factor);
                set!(b, f64_of, "final_div_factor", final_div_factor);
                set!(b, bool_of, "three_phase", three_phase);
                Box::new(b.build()?)
            }
            "ReduceLROnPlateau" => {
                let mut b = ReduceLrOnPlateau::builder();
                if let Some(m) = str_of(cfg, "mode") {
                    b = b.mode(m.parse::<PlateauMode>()?);
                }
                set!(b, f64_of, "factor", factor);
                set!(b, usize_of, "patience", patience);
                set!(b, f64_of, "threshold", threshold);
                if let Some(m) = str_of(cfg, "threshold_mode") {
                    b = b.threshold_mode(m.parse::<ThresholdMode>()?);
                }
                set!(b, usize_of, "cooldown", cooldown);
                set!(b, per_group, "min_lr", min_lr);
                set!(b, f64_of, "eps", eps);
                Box::new(b.build()?)
            }
            "SequentialLR" | "ChainedScheduler" => {
                let children =
                    cfg.get("schedulers").and_then(Value::as_array).ok_or_else(|| missing("schedulers"))?;
                let mut built = Vec::new();
                for c in children {
                    let n = c.get("name").and_then(Value::as_str).unwrap_or("");
                    match build(n, c.get("config").unwrap_or(&Value::Null)) {
                        Built::Ok(s) => built.push(s),
                        Built::Unsupported(w) => {
                            return Err(ndtrain::Error::invalid_config(format!("unsupported {w}")));
                        }
                        Built::Err(e) => return Err(ndtrain::Error::invalid_config(e)),
                    }
                }
                if name == "SequentialLR" {
                    let m = usizes(cfg, "milestones").ok_or_else(|| missing("milestones"))?;
                    Box::new(SequentialLr::new(built, m)?)
                } else {
                    Box::new(ChainedScheduler::new(built)?)
                }
            }
            other => return Err(ndtrain::Error::invalid_config(format!("unsupported {other}"))),
        })
    })();
    match r {
        Ok(s) => Built::Ok(s),
        Err(ndtrain::Error::InvalidConfig(m)) if m.starts_with("unsupported ") => Built::Unsupported(m),
        Err(e) => Built::Err(e.to_string()),
    }
}

fn missing(key: &str) -> ndtrain::Error {
    ndtrain::Error::invalid_config(format!("config without {key}"))
}

fn optimizer(case: &Case<'_>) -> std::result::Result<Groups, String> {
    let groups = case.field("optimizer.param_groups")?.as_array().ok_or("param_groups is not a list")?;
    let mut lr = Vec::new();
    let mut momentum = Vec::new();
    for g in groups {
        lr.push(g.get("lr").and_then(num).ok_or("group without lr")?);
        let m = match (g.get("momentum"), g.get("betas")) {
            (Some(m), _) => num(m),
            (None, Some(Value::Array(b))) => b.first().and_then(num),
            _ => None,
        };
        momentum.push(m);
    }
    Ok(Groups { lr, momentum })
}

pub fn run(case: &Case<'_>) -> Outcome {
    let expected = match case.field("expected") {
        Ok(e) => e,
        Err(e) => fail!("{e}"),
    };
    let mut opt = match optimizer(case) {
        Ok(o) => o,
        Err(e) => fail!("{e}"),
    };
    let want_error = expected_error(expected).is_some();
    let sched = match build(case.name, case.config) {
        Built::Ok(s) => s,
        Built::Unsupported(why) => return Outcome::Unsupported(why),
        Built::Err(_) if want_error => return Outcome::Pass,
        Built::Err(e) => fail!("build: {e}"),
    };
    let mut sched = AttachedScheduler::from_box(sched);
    match sched.attach(&mut opt) {
        Ok(()) => {}
        Err(_) if want_error => return Outcome::Pass,
        Err(e) => fail!("attach: {e}"),
    }
    if want_error {
        fail!("expected an error, the scheduler was built and attached");
    }
    let n_steps = case.raw.get("n_steps").and_then(Value::as_u64).unwrap_or(0) as usize;
    let metrics = match case.field("inputs.metrics") {
        Ok(m) => match arr_f64(m) {
            Ok(a) => Some(a.iter().copied().collect::<Vec<_>>()),
            Err(e) => fail!("inputs.metrics: {e}"),
        },
        Err(_) => None,
    };
    let n_groups = opt.lr.len();
    let mut lrs = Array2::<f64>::zeros((n_steps + 1, n_groups));
    let mut moms = Array2::<f64>::from_elem((n_steps + 1, n_groups), f64::NAN);
    let record = |row: usize, opt: &Groups, lrs: &mut Array2<f64>, moms: &mut Array2<f64>| {
        for g in 0..n_groups {
            lrs[[row, g]] = opt.lr[g];
            moms[[row, g]] = opt.momentum[g].unwrap_or(f64::NAN);
        }
    };
    record(0, &opt, &mut lrs, &mut moms);
    for k in 0..n_steps {
        let metric = match &metrics {
            Some(m) => match m.get(k) {
                Some(&v) => Some(v),
                None => fail!("inputs.metrics has fewer than n_steps values"),
            },
            None => None,
        };
        if let Err(e) = sched.step(&mut opt, metric) {
            fail!("step {k}: {e}");
        }
        record(k + 1, &opt, &mut lrs, &mut moms);
    }
    let want_lr = match expected.get("lr").map(arr_f64) {
        Some(Ok(a)) => a,
        Some(Err(e)) => fail!("expected.lr: {e}"),
        None => fail!("expected without lr"),
    };
    check!(case.close("lr", &want_lr, &lrs.into_dyn()));
    if let Some(m) = expected.get("momentum") {
        let want = match arr_f64(m) {
            Ok(a) => a,
            Err(e) => fail!("expected.momentum: {e}"),
        };
        check!(case.close("momentum", &want, &moms.into_dyn()));
    }
    Outcome::Pass
}
