//! Reference cases of this kind (see FORMAT.md). Not implemented yet: every case is
//! reported as unsupported.

use crate::common::{Case, Outcome};

pub fn run(case: &Case<'_>) -> Outcome {
    Outcome::Unsupported(format!("{} not implemented", case.name))
}
