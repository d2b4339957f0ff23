//! Parity builders for the `layer` kind, normalization and embedding: BatchNorm1d/2d, GroupNorm, Embedding.

use ndtrain::model::{BatchNorm1d, BatchNorm2d, Embedding, GroupNorm, Model};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, arr_usize};
use crate::layer::{BoxedLayer, Built, b, compare_state, f, grad_mode, load_state, only, state, u};

fn built<L: ndtrain::model::Layer<f64> + Send + 'static>(
    r: ndtrain::Result<L>,
) -> Result<BoxedLayer, String> {
    r.map(|l| Box::new(l) as BoxedLayer).map_err(|e| format!("build: {e}"))
}

/// `momentum`: a number, or null for the cumulative average.
fn momentum(config: &Value) -> Option<f64> {
    match config.get("momentum") {
        Some(Value::Null) => None,
        Some(v) => crate::common::num(v),
        None => Some(0.1),
    }
}

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    const BN: &[&str] = &["num_features", "eps", "momentum", "affine", "track_running_stats"];
    Some(match name {
        "BatchNorm1d" => only(config, BN).and_then(|_| {
            built(
                BatchNorm1d::<f64>::builder(u(config, "num_features", 0))
                    .eps(f(config, "eps", 1e-5))
                    .momentum(momentum(config))
                    .affine(b(config, "affine", true))
                    .track_running_stats(b(config, "track_running_stats", true))
                    .build(),
            )
        }),
        "BatchNorm2d" => only(config, BN).and_then(|_| {
            built(
                BatchNorm2d::<f64>::builder(u(config, "num_features", 0))
                    .eps(f(config, "eps", 1e-5))
                    .momentum(momentum(config))
                    .affine(b(config, "affine", true))
                    .track_running_stats(b(config, "track_running_stats", true))
                    .build(),
            )
        }),
        "GroupNorm" => only(config, &["num_groups", "num_channels", "eps", "affine"]).and_then(|_| {
            built(
                GroupNorm::<f64>::builder(u(config, "num_groups", 0), u(config, "num_channels", 0))
                    .eps(f(config, "eps", 1e-5))
                    .affine(b(config, "affine", true))
                    .build(),
            )
        }),
        _ => return None,
    })
}

/// Embedding: integer ids in, no input gradient.
pub fn run(case: &Case<'_>) -> Option<Outcome> {
    if case.name != "Embedding" {
        return None;
    }
    let res = (|| -> Result<(), String> {
        let config = case.config;
        only(config, &["num_embeddings", "embedding_dim", "padding_idx", "scale_grad_by_freq"])?;
        let mut builder =
            Embedding::<f64>::builder(u(config, "num_embeddings", 0), u(config, "embedding_dim", 0))
                .scale_grad_by_freq(b(config, "scale_grad_by_freq", false));
        if let Some(p) = config.get("padding_idx").and_then(Value::as_i64) {
            builder = builder.padding_idx(p);
        }
        let mut emb = builder.build(&mut ndtrain::seeded_rng(0)).map_err(|e| format!("build: {e}"))?;
        load_state(&mut emb, &state(case)?)?;
        let ids = arr_usize(case.field("inputs.input")?)?;
        let g = arr_f64(case.field("grad_output")?)?;
        let out = emb.forward(ids.view(), grad_mode(case)?).map_err(|e| format!("forward: {e}"))?.to_owned();
        case.close("output", &arr_f64(case.field("expected.output")?)?, &out)?;
        emb.backward(g.view()).map_err(|e| format!("backward: {e}"))?;
        compare_state(case, &mut emb)
    })();
    Some(match res {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    })
}
