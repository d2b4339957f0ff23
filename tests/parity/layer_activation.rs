//! Parity builders for the `layer` kind, activations: ELU, SELU, CELU, SiLU, Mish, Softplus, Hardtanh, ReLU6, Hardsigmoid, Hardswish,
//! LogSigmoid, Softsign, Softmax, LogSoftmax and the older ReLU, LeakyReLU, GELU, Tanh, Sigmoid.

use ndtrain::model::{
    Celu, Elu, Gelu, GeluApproximate, Hardsigmoid, Hardswish, Hardtanh, LeakyRelu, LogSigmoid, LogSoftmax,
    Mish, Relu, Relu6, Selu, Sigmoid, Silu, Softmax, Softplus, Softsign, Tanh,
};
use serde_json::Value;

use crate::layer::{BoxedLayer, Built, f, only};

fn boxed<L: ndtrain::model::Layer<f64> + Send + 'static>(l: L) -> Result<BoxedLayer, String> {
    Ok(Box::new(l))
}

fn built<L: ndtrain::model::Layer<f64> + Send + 'static>(
    r: ndtrain::Result<L>,
) -> Result<BoxedLayer, String> {
    r.map(|l| Box::new(l) as BoxedLayer).map_err(|e| format!("build: {e}"))
}

/// `dim` of Softmax/LogSoftmax: required (torch's implicit-dim legacy is not supported).
fn dim(config: &Value) -> Result<isize, String> {
    config
        .get("dim")
        .and_then(Value::as_i64)
        .map(|d| d as isize)
        .ok_or_else(|| "dim=None (implicit dim)".into())
}

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    // `inplace` changes nothing observable in these cases (no aliasing in ndtrain).
    let known = |keys: &[&str]| {
        let mut all = keys.to_vec();
        all.push("inplace");
        only(config, &all)
    };
    Some(match name {
        "ReLU" => known(&[]).and_then(|_| boxed(Relu::<f64>::new())),
        "LeakyReLU" => {
            known(&["negative_slope"]).and_then(|_| built(LeakyRelu::new(f(config, "negative_slope", 0.01))))
        }
        "ELU" => known(&["alpha"]).and_then(|_| built(Elu::new(f(config, "alpha", 1.0)))),
        "SELU" => known(&[]).and_then(|_| boxed(Selu::<f64>::new())),
        "CELU" => known(&["alpha"]).and_then(|_| built(Celu::new(f(config, "alpha", 1.0)))),
        "GELU" => only(config, &["approximate"]).and_then(|_| {
            match config.get("approximate").and_then(Value::as_str).unwrap_or("none") {
                "none" => boxed(Gelu::<f64>::new(GeluApproximate::None)),
                "tanh" => boxed(Gelu::<f64>::new(GeluApproximate::Tanh)),
                other => Err(format!("GELU approximate={other}")),
            }
        }),
        "SiLU" => known(&[]).and_then(|_| boxed(Silu::<f64>::new())),
        "Mish" => known(&[]).and_then(|_| boxed(Mish::<f64>::new())),
        "Softplus" => only(config, &["beta", "threshold"])
            .and_then(|_| built(Softplus::new(f(config, "beta", 1.0), f(config, "threshold", 20.0)))),
        "Tanh" => only(config, &[]).and_then(|_| boxed(Tanh::<f64>::new())),
        "Sigmoid" => only(config, &[]).and_then(|_| boxed(Sigmoid::<f64>::new())),
        "Hardtanh" => known(&["min_val", "max_val"])
            .and_then(|_| built(Hardtanh::new(f(config, "min_val", -1.0), f(config, "max_val", 1.0)))),
        "ReLU6" => known(&[]).and_then(|_| boxed(Relu6::<f64>::new())),
        "Hardsigmoid" => known(&[]).and_then(|_| boxed(Hardsigmoid::<f64>::new())),
        "Hardswish" => known(&[]).and_then(|_| boxed(Hardswish::<f64>::new())),
        "LogSigmoid" => only(config, &[]).and_then(|_| boxed(LogSigmoid::<f64>::new())),
        "Softsign" => only(config, &[]).and_then(|_| boxed(Softsign::<f64>::new())),
        "Softmax" => only(config, &["dim"]).and_then(|_| boxed(Softmax::<f64>::new(dim(config)?))),
        "LogSoftmax" => only(config, &["dim"]).and_then(|_| boxed(LogSoftmax::<f64>::new(dim(config)?))),
        _ => return None,
    })
}
