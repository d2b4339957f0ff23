//! Parity builders for the `layer` kind, recurrent: RNN, LSTM, GRU.
//!
//! The cases compare the sequence output (the first element of the tuple PyTorch's
//! module returns, zero initial states), `dL/dinput` and every parameter gradient, so
//! the layers run through the generic one-float-input runner.

use ndtrain::model::{Gru, Lstm, RecurrentBuilder, RecurrentKind, Rnn, RnnNonlinearity};
use serde_json::Value;

use crate::layer::{BoxedLayer, Built, b, f, only, u};

const COMMON: [&str; 7] =
    ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"];

/// Applies the options every recurrent module takes.
fn common<K: RecurrentKind>(config: &Value, builder: RecurrentBuilder<f64, K>) -> RecurrentBuilder<f64, K> {
    builder
        .num_layers(u(config, "num_layers", 1))
        .bias(b(config, "bias", true))
        .batch_first(b(config, "batch_first", false))
        .dropout(f(config, "dropout", 0.0))
        .bidirectional(b(config, "bidirectional", false))
}

fn sizes(config: &Value) -> (usize, usize) {
    (u(config, "input_size", 0), u(config, "hidden_size", 0))
}

fn boxed<K: RecurrentKind>(builder: RecurrentBuilder<f64, K>) -> Result<BoxedLayer, String> {
    builder
        .build(&mut ndtrain::seeded_rng(0))
        .map(|l| Box::new(l) as BoxedLayer)
        .map_err(|e| format!("build: {e}"))
}

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    let (input, hidden) = sizes(config);
    Some(match name {
        "RNN" => only(config, &[&COMMON[..], &["nonlinearity"]].concat()).and_then(|_| {
            let nonlinearity = match config.get("nonlinearity").and_then(Value::as_str) {
                None | Some("tanh") => RnnNonlinearity::Tanh,
                Some("relu") => RnnNonlinearity::Relu,
                Some(other) => return Err(format!("nonlinearity {other}")),
            };
            boxed(common(config, Rnn::builder(input, hidden)).nonlinearity(nonlinearity))
        }),
        "LSTM" => only(config, &[&COMMON[..], &["proj_size"]].concat()).and_then(|_| {
            boxed(common(config, Lstm::builder(input, hidden)).proj_size(u(config, "proj_size", 0)))
        }),
        "GRU" => only(config, &COMMON).and_then(|_| boxed(common(config, Gru::builder(input, hidden)))),
        _ => return None,
    })
}

/// Cases that do not run as one float input through `Layer`: none (recurrent cases use
/// zero initial states and compare the sequence output only).
pub fn run(case: &crate::common::Case<'_>) -> Option<crate::common::Outcome> {
    let _ = case;
    None
}
