//! Optimizer reference cases: open loop (`optimizer`) and Rosenbrock closed loop
//! (`optimizer_closed_loop`), from torch.optim and optax (see FORMAT.md).

use crate::common::{Case, Outcome};

pub fn run_open_loop(case: &Case<'_>) -> Outcome {
    Outcome::Unsupported(format!("{} not implemented", case.name))
}

pub fn run_closed_loop(case: &Case<'_>) -> Outcome {
    Outcome::Unsupported(format!("{} not implemented", case.name))
}
