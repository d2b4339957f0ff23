//! Optimizer reference cases: open loop (`optimizer`) and Rosenbrock closed loop
//! (`optimizer_closed_loop`), from torch.optim; optax's cases go to `optimizer_optax`.

use crate::common::{Case, Outcome};
use crate::optimizer_optax;

fn from_optax(case: &Case<'_>) -> bool {
    case.raw.get("source").and_then(|s| s.as_str()).is_some_and(|s| s.starts_with("optax"))
}

pub fn run_open_loop(case: &Case<'_>) -> Outcome {
    if from_optax(case) {
        return optimizer_optax::run_open_loop(case);
    }
    Outcome::Unsupported(format!("{} not implemented", case.name))
}

pub fn run_closed_loop(case: &Case<'_>) -> Outcome {
    if from_optax(case) {
        return optimizer_optax::run_closed_loop(case);
    }
    Outcome::Unsupported(format!("{} not implemented", case.name))
}
