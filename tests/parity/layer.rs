//! Reference cases of kind `layer` (FORMAT.md): one `torch.nn` module built from
//! `config`, its parameters and buffers set from the case, one forward pass in the
//! case's mode, then `backward` of `L = sum(output * grad_output)`. Compared: the
//! output, the gradient of every float input, every parameter gradient and every
//! buffer after the pass.
//!
//! Each layer family has a file with a `build(name, config)` that returns the
//! ndtrain layer for a module name it knows (`None` for the others); modules that do
//! not take one float input (Embedding, MultiheadAttention) have a `run` of their own.

use std::collections::BTreeMap;

use ndarray::ArrayD;
use ndtrain::model::{BufferMut, Layer, Mode, Module};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, arr_i64, num};
use crate::{layer_activation, layer_attention, layer_conv, layer_norm, layer_recurrent};

/// A boxed layer, as the builders return it.
pub type BoxedLayer = Box<dyn Layer<f64> + Send>;

/// `Some(Ok(layer))`, `Some(Err(why unsupported))`, or `None` (not this family).
pub type Built = Option<Result<BoxedLayer, String>>;

/// Builds module `name` from `config` with any family's builder.
pub fn build(name: &str, config: &Value) -> Result<BoxedLayer, String> {
    let builders: [fn(&str, &Value) -> Built; 6] = [
        build_core,
        layer_activation::build,
        layer_conv::build,
        layer_norm::build,
        layer_attention::build,
        layer_recurrent::build,
    ];
    for b in builders {
        if let Some(r) = b(name, config) {
            return r;
        }
    }
    Err(format!("module {name} not implemented"))
}

/// `config[key]` as a number, or `default` when absent or null.
#[allow(dead_code)]
pub fn f(config: &Value, key: &str, default: f64) -> f64 {
    config.get(key).and_then(num).unwrap_or(default)
}

/// `config[key]` as a usize, or `default`.
pub fn u(config: &Value, key: &str, default: usize) -> usize {
    config.get(key).and_then(Value::as_u64).map_or(default, |v| v as usize)
}

/// `config[key]` as a bool, or `default`.
pub fn b(config: &Value, key: &str, default: bool) -> bool {
    config.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// `config[key]` as a list of usizes (a single number becomes `[n; len]`).
#[allow(dead_code)]
pub fn us(config: &Value, key: &str, len: usize, default: usize) -> Result<Vec<usize>, String> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(vec![default; len]),
        Some(Value::Number(n)) => Ok(vec![n.as_u64().ok_or(format!("{key} is not a size"))? as usize; len]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_u64().map(|v| v as usize).ok_or(format!("{key} has a non-size entry")))
            .collect(),
        Some(other) => Err(format!("{key} = {other} is not a size or list")),
    }
}

/// Fails on any config key outside `known` (an option the port may not implement).
pub fn only(config: &Value, known: &[&str]) -> Result<(), String> {
    if let Some(obj) = config.as_object() {
        if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str()) && k.as_str() != "type") {
            return Err(format!("config key {k}"));
        }
    }
    Ok(())
}

/// Linear, Flatten, Sequential.
fn build_core(name: &str, config: &Value) -> Built {
    use ndtrain::model::{Flatten, Linear};
    let mut rng = ndtrain::seeded_rng(0);
    Some(match name {
        "Linear" => only(config, &["in_features", "out_features", "bias"]).and_then(|_| {
            Linear::builder(u(config, "in_features", 0), u(config, "out_features", 0))
                .bias(b(config, "bias", true))
                .build(&mut rng)
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "Flatten" => only(config, &["start_dim", "end_dim"]).and_then(|_| {
            if u(config, "start_dim", 1) != 1
                || config.get("end_dim").and_then(Value::as_i64).unwrap_or(-1) != -1
            {
                return Err("Flatten with start_dim != 1 or end_dim != -1".into());
            }
            Ok(Box::new(Flatten::<f64>::new()) as BoxedLayer)
        }),
        "Sequential" => (|| {
            let layers = config.get("layers").and_then(Value::as_array).ok_or("Sequential without layers")?;
            let mut net = ndtrain::model::Sequential::<f64>::new();
            for spec in layers {
                let ty = spec.get("type").and_then(Value::as_str).ok_or("layer without type")?;
                net.push_boxed(build(ty, spec)?);
            }
            Ok(Box::new(net) as BoxedLayer)
        })(),
        _ => return None,
    })
}

/// The case's parameters and buffers, by name.
pub struct State {
    pub params: BTreeMap<String, ArrayD<f64>>,
    pub buffers: BTreeMap<String, ArrayD<f64>>,
}

pub fn state(case: &Case<'_>) -> Result<State, String> {
    let named = |key: &str| -> Result<BTreeMap<String, ArrayD<f64>>, String> {
        let list = case.field(key)?.as_array().ok_or(format!("{key} is not a list"))?;
        list.iter()
            .map(|p| {
                let name = p.get("name").and_then(Value::as_str).ok_or("entry without name")?;
                Ok((name.to_string(), arr_f64(p.get("value").ok_or("entry without value")?)?))
            })
            .collect()
    };
    Ok(State { params: named("params")?, buffers: named("buffers")? })
}

/// Sets every parameter and buffer of `module` from the case; fails on a name the case
/// does not have or a missing one.
pub fn load_state(module: &mut dyn Module<f64>, st: &State) -> Result<(), String> {
    let mut seen = 0;
    module
        .visit_params(&mut |p, mut v, _| {
            let src = st.params.get(p.name).ok_or_else(|| {
                ndtrain::Error::invalid_input("parity", format!("parameter {} not in the case", p.name))
            })?;
            if src.shape() != v.shape() {
                return Err(ndtrain::Error::invalid_input(
                    "parity",
                    format!("parameter {}: shape {:?}, case has {:?}", p.name, v.shape(), src.shape()),
                ));
            }
            v.assign(src);
            seen += 1;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if seen != st.params.len() {
        return Err(format!("the port has {seen} parameters, the case {}", st.params.len()));
    }
    let mut seen = 0;
    module
        .visit_buffers(&mut |name, buf| {
            let src = st.buffers.get(name).ok_or_else(|| {
                ndtrain::Error::invalid_input("parity", format!("buffer {name} not in the case"))
            })?;
            match buf {
                BufferMut::Float(mut v) if v.shape() == src.shape() => v.assign(src),
                BufferMut::Int(mut v) if v.shape() == src.shape() => {
                    v.zip_mut_with(src, |d, &s| *d = s as i64)
                }
                _ => {
                    return Err(ndtrain::Error::invalid_input(
                        "parity",
                        format!("buffer {name}: wrong shape"),
                    ));
                }
            }
            seen += 1;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if seen != st.buffers.len() {
        return Err(format!("the port has {seen} buffers, the case {}", st.buffers.len()));
    }
    Ok(())
}

/// Compares every parameter gradient and buffer of `module` with the case.
pub fn compare_state(case: &Case<'_>, module: &mut dyn Module<f64>) -> Result<(), String> {
    let expected = case.field("expected")?;
    if let Some(grads) = expected.get("grad_params").and_then(Value::as_object) {
        let got: BTreeMap<String, ArrayD<f64>> = module.gradients().into_iter().collect();
        for (name, e) in grads {
            let g = got.get(name).ok_or(format!("no gradient for {name}"))?;
            case.close(&format!("grad_params.{name}"), &arr_f64(e)?, g)?;
        }
    }
    if let Some(bufs) = expected.get("buffers").and_then(Value::as_object) {
        let got: BTreeMap<String, ArrayD<f64>> = module
            .buffers()
            .into_iter()
            .map(|(n, b)| {
                let v = match b {
                    ndtrain::model::BufferValue::Float(a) => a,
                    ndtrain::model::BufferValue::Int(a) => a.mapv(|v| v as f64),
                };
                (n, v)
            })
            .collect();
        for (name, e) in bufs {
            let g = got.get(name).ok_or(format!("no buffer {name}"))?;
            let e = match e.get("dtype").and_then(Value::as_str) {
                Some("i64") => arr_i64(e)?.mapv(|v| v as f64),
                _ => arr_f64(e)?,
            };
            case.close(&format!("buffers.{name}"), &e, g)?;
        }
    }
    Ok(())
}

/// The case's mode.
pub fn mode(case: &Case<'_>) -> Result<Mode, String> {
    match case.field("mode")?.as_str() {
        Some("train") => Ok(Mode::Train),
        Some("eval") => Ok(Mode::Eval),
        other => Err(format!("mode {other:?}")),
    }
}

/// The mode of the forward pass: the case's, with gradients (`eval` becomes
/// [`Mode::EvalGrad`]).
pub fn grad_mode(case: &Case<'_>) -> Result<Mode, String> {
    Ok(match mode(case)? {
        Mode::Eval => Mode::EvalGrad,
        m => m,
    })
}

/// Runs a one-float-input layer through the case: forward in the case's mode (with
/// gradients), then `backward_input(grad_output)`.
pub fn run_layer(case: &Case<'_>, layer: &mut dyn Layer<f64>, input_name: &str) -> Outcome {
    let res = (|| -> Result<(), String> {
        let st = state(case)?;
        load_state(layer, &st)?;
        let x = arr_f64(case.field(&format!("inputs.{input_name}"))?)?;
        let g = arr_f64(case.field("grad_output")?)?;
        let out = layer.forward(x.view(), grad_mode(case)?).map_err(|e| format!("forward: {e}"))?.to_owned();
        case.close("output", &arr_f64(case.field("expected.output")?)?, &out)?;
        let grad_in = layer.backward_input(g.view()).map_err(|e| format!("backward_input: {e}"))?.to_owned();
        if let Some(e) = case.field("expected.grad_inputs").ok().and_then(|v| v.get(input_name)) {
            case.close(&format!("grad_inputs.{input_name}"), &arr_f64(e)?, &grad_in)?;
        }
        compare_state(case, layer)
    })();
    match res {
        Ok(()) => Outcome::Pass,
        Err(e) => Outcome::Fail(e),
    }
}

pub fn run(case: &Case<'_>) -> Outcome {
    for special in [layer_norm::run, layer_attention::run, layer_recurrent::run, layer_conv::run] {
        if let Some(outcome) = special(case) {
            return outcome;
        }
    }
    let mut layer = match build(case.name, case.config) {
        Ok(l) => l,
        Err(e) => return Outcome::Unsupported(e),
    };
    let input = if case.name == "TransformerEncoderLayer" { "src" } else { "input" };
    run_layer(case, &mut layer, input)
}
