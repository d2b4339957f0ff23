//! Preprocessor reference cases (scikit-learn and the transformers FORMAT.md defines),
//! dispatched by name: numeric transformers and encoders live in their own files.

use crate::common::{Case, Outcome};
use crate::{preprocessor_encode, preprocessor_numeric};

pub fn run(case: &Case<'_>) -> Outcome {
    match case.name {
        "OneHotEncoder" | "OrdinalEncoder" | "LabelEncoder" => preprocessor_encode::run(case),
        _ => preprocessor_numeric::run(case),
    }
}
