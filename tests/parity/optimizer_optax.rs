//! optax optimizer reference cases (Lion, LAMB, LARS, schedule-free, Muon).

use crate::common::{Case, Outcome};

pub fn run_open_loop(case: &Case<'_>) -> Outcome {
    Outcome::Unsupported(format!("{} not implemented", case.name))
}

pub fn run_closed_loop(case: &Case<'_>) -> Outcome {
    Outcome::Unsupported(format!("{} not implemented", case.name))
}
