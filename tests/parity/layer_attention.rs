//! Parity builders for the `layer` kind, attention and transformer: LayerNorm, RMSNorm,
//! MultiheadAttention (own runner: query, key, value and masks), TransformerEncoderLayer.

use ndarray::{ArrayD, Ix2};
use ndtrain::model::{
    Activation, AttnMask, AttnMasks, LayerNorm, MultiheadAttention, RmsNorm, TransformerEncoderLayer,
};
use serde_json::Value;

use crate::common::{Case, Outcome, RefArray, arr_f64};
use crate::layer::{BoxedLayer, Built, b, compare_state, f, grad_mode, load_state, only, state, u, us};

fn boxed<L: ndtrain::model::Layer<f64> + Send + 'static>(
    r: ndtrain::Result<L>,
) -> Result<BoxedLayer, String> {
    r.map(|l| Box::new(l) as BoxedLayer).map_err(|e| format!("build: {e}"))
}

/// `normalized_shape` as a list (an integer is a one-element list).
fn normalized_shape(config: &Value) -> Result<Vec<usize>, String> {
    match config.get("normalized_shape") {
        Some(Value::Array(a)) => us(config, "normalized_shape", a.len(), 0),
        _ => us(config, "normalized_shape", 1, 0),
    }
}

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    Some(match name {
        "LayerNorm" => {
            only(config, &["normalized_shape", "eps", "elementwise_affine", "bias"]).and_then(|_| {
                boxed(
                    LayerNorm::<f64>::builder(&normalized_shape(config)?)
                        .eps(f(config, "eps", 1e-5))
                        .elementwise_affine(b(config, "elementwise_affine", true))
                        .bias(b(config, "bias", true))
                        .build(),
                )
            })
        }
        "RMSNorm" => only(config, &["normalized_shape", "eps", "elementwise_affine"]).and_then(|_| {
            let eps = config.get("eps").and_then(crate::common::num);
            boxed(
                RmsNorm::<f64>::builder(&normalized_shape(config)?)
                    .eps(eps)
                    .elementwise_affine(b(config, "elementwise_affine", true))
                    .build(),
            )
        }),
        "TransformerEncoderLayer" => only(
            config,
            &[
                "d_model",
                "nhead",
                "dim_feedforward",
                "dropout",
                "activation",
                "layer_norm_eps",
                "batch_first",
                "norm_first",
                "bias",
            ],
        )
        .and_then(|_| {
            let activation = match config.get("activation").and_then(Value::as_str).unwrap_or("relu") {
                "relu" => Activation::Relu,
                "gelu" => Activation::Gelu,
                other => return Err(format!("activation {other}")),
            };
            boxed(
                TransformerEncoderLayer::<f64>::builder(u(config, "d_model", 0), u(config, "nhead", 0))
                    .dim_feedforward(u(config, "dim_feedforward", 2048))
                    .dropout(f(config, "dropout", 0.1))
                    .activation(activation)
                    .layer_norm_eps(f(config, "layer_norm_eps", 1e-5))
                    .batch_first(b(config, "batch_first", false))
                    .norm_first(b(config, "norm_first", false))
                    .bias(b(config, "bias", true))
                    .build(&mut ndtrain::seeded_rng(0)),
            )
        }),
        _ => return None,
    })
}

/// A bool input of the case, if present.
fn bool_input(case: &Case<'_>, key: &str) -> Result<Option<ArrayD<bool>>, String> {
    match case.field(&format!("inputs.{key}")) {
        Err(_) | Ok(Value::Null) => Ok(None),
        Ok(v) => match RefArray::parse(v)? {
            RefArray::Bool(a) => Ok(Some(a)),
            RefArray::F64(_) => Err(format!("float {key} not supported by the runner")),
            _ => Err(format!("{key} of unexpected dtype")),
        },
    }
}

/// MultiheadAttention: query, key, value (three separate arrays, even when equal) and
/// optional bool masks, through `forward_attention` / `backward_attention`.
fn run_mha(case: &Case<'_>) -> Outcome {
    let res = (|| -> Result<(), String> {
        let config = case.config;
        only(
            config,
            &[
                "embed_dim",
                "num_heads",
                "dropout",
                "bias",
                "batch_first",
                "add_bias_kv",
                "add_zero_attn",
                "kdim",
                "vdim",
            ],
        )?;
        let mut mha =
            MultiheadAttention::<f64>::builder(u(config, "embed_dim", 0), u(config, "num_heads", 0))
                .dropout(f(config, "dropout", 0.0))
                .bias(b(config, "bias", true))
                .batch_first(b(config, "batch_first", false))
                .add_bias_kv(b(config, "add_bias_kv", false))
                .add_zero_attn(b(config, "add_zero_attn", false))
                .kdim(config.get("kdim").and_then(Value::as_u64).map(|v| v as usize))
                .vdim(config.get("vdim").and_then(Value::as_u64).map(|v| v as usize))
                .build(&mut ndtrain::seeded_rng(0))
                .map_err(|e| format!("build: {e}"))?;
        load_state(&mut mha, &state(case)?)?;
        let input = |k: &str| -> Result<ArrayD<f64>, String> { arr_f64(case.field(&format!("inputs.{k}"))?) };
        let (q, k, v) = (input("query")?, input("key")?, input("value")?);
        let attn_mask = bool_input(case, "attn_mask")?;
        let key_padding = bool_input(case, "key_padding_mask")?;
        let key_padding = match &key_padding {
            Some(m) => {
                Some(m.view().into_dimensionality::<Ix2>().map_err(|e| format!("key_padding_mask: {e}"))?)
            }
            None => None,
        };
        let masks = AttnMasks {
            attn_mask: attn_mask.as_ref().map(|m| AttnMask::Bool(m.view())),
            key_padding_mask: key_padding,
            is_causal: false,
        };
        let g = arr_f64(case.field("grad_output")?)?;
        let out = mha
            .forward_attention(q.view(), k.view(), v.view(), &masks, grad_mode(case)?)
            .map_err(|e| format!("forward: {e}"))?
            .to_owned();
        case.close("output", &arr_f64(case.field("expected.output")?)?, &out)?;
        let grads = mha.backward_attention(g.view()).map_err(|e| format!("backward: {e}"))?;
        let grads = [
            ("query", grads.query.to_owned()),
            ("key", grads.key.to_owned()),
            ("value", grads.value.to_owned()),
        ];
        for (name, got) in &grads {
            if let Some(e) = case.field("expected.grad_inputs").ok().and_then(|v| v.get(*name)) {
                case.close(&format!("grad_inputs.{name}"), &arr_f64(e)?, got)?;
            }
        }
        compare_state(case, &mut mha)
    })();
    match res {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

/// MultiheadAttention runs here; the other modules of this family run as layers.
pub fn run(case: &Case<'_>) -> Option<Outcome> {
    (case.name == "MultiheadAttention").then(|| run_mha(case))
}
