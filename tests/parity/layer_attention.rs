//! Parity builders for the `layer` kind, attention and transformer: LayerNorm, RMSNorm, MultiheadAttention, TransformerEncoderLayer.

use serde_json::Value;

use crate::layer::Built;

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    let _ = (name, config);
    None
}

/// Cases that do not run as one float input through `Layer` (none yet).
pub fn run(case: &crate::common::Case<'_>) -> Option<crate::common::Outcome> {
    let _ = case;
    None
}
