//! Parity builders for the `layer` kind, convolution and pooling: Conv1d, Conv2d, MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d.

use ndtrain::model::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d, Padding,
};
use serde_json::Value;

use crate::layer::{BoxedLayer, Built, b, only, us};

/// The layer for module `name`, or `None` when this family does not know it.
pub fn build(name: &str, config: &Value) -> Built {
    Some(match name {
        "Conv1d" => conv::<1>(config).and_then(|c| {
            let padding = padding::<1>(config)?;
            Conv1d::builder(c.in_channels, c.out_channels, c.kernel[0])
                .stride(c.stride)
                .padding(padding)
                .dilation(c.dilation)
                .groups(c.groups)
                .bias(c.bias)
                .build(&mut ndtrain::seeded_rng(0))
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "Conv2d" => conv::<2>(config).and_then(|c| {
            let padding = padding::<2>(config)?;
            Conv2d::builder(c.in_channels, c.out_channels, c.kernel)
                .stride(c.stride)
                .padding(padding)
                .dilation(c.dilation)
                .groups(c.groups)
                .bias(c.bias)
                .build(&mut ndtrain::seeded_rng(0))
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "MaxPool1d" => max_pool::<1>(config).and_then(|(k, s, p, d, ceil)| {
            MaxPool1d::builder(k[0])
                .stride(s)
                .padding(p)
                .dilation(d)
                .ceil_mode(ceil)
                .build()
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "MaxPool2d" => max_pool::<2>(config).and_then(|(k, s, p, d, ceil)| {
            MaxPool2d::builder(k)
                .stride(s)
                .padding(p)
                .dilation(d)
                .ceil_mode(ceil)
                .build()
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "AvgPool1d" => avg_pool::<1>(config).and_then(|(k, s, p, ceil, include, divisor)| {
            if divisor.is_some() {
                return Err("AvgPool1d has no divisor_override".into());
            }
            AvgPool1d::builder(k[0])
                .stride(s)
                .padding(p)
                .ceil_mode(ceil)
                .count_include_pad(include)
                .build()
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "AvgPool2d" => avg_pool::<2>(config).and_then(|(k, s, p, ceil, include, divisor)| {
            let mut builder =
                AvgPool2d::builder(k).stride(s).padding(p).ceil_mode(ceil).count_include_pad(include);
            if let Some(d) = divisor {
                builder = builder.divisor_override(d);
            }
            builder.build().map(|l| Box::new(l) as BoxedLayer).map_err(|e| format!("build: {e}"))
        }),
        "AdaptiveAvgPool1d" => only(config, &["output_size"]).and_then(|_| {
            let size = sizes::<1>(config, "output_size", None)?;
            AdaptiveAvgPool1d::new(size[0])
                .map(|l| Box::new(l) as BoxedLayer)
                .map_err(|e| format!("build: {e}"))
        }),
        "AdaptiveAvgPool2d" => only(config, &["output_size"]).and_then(|_| {
            let size = sizes::<2>(config, "output_size", None)?;
            AdaptiveAvgPool2d::new(size).map(|l| Box::new(l) as BoxedLayer).map_err(|e| format!("build: {e}"))
        }),
        _ => return None,
    })
}

/// Cases that do not run as one float input through `Layer` (none in this family).
pub fn run(case: &crate::common::Case<'_>) -> Option<crate::common::Outcome> {
    let _ = case;
    None
}

/// `config[key]` as `D` sizes (an int or a list of `D`); `default` when absent or null
/// (`None`: the key is required).
fn sizes<const D: usize>(
    config: &Value,
    key: &str,
    default: Option<[usize; D]>,
) -> Result<[usize; D], String> {
    match config.get(key) {
        None | Some(Value::Null) => default.ok_or(format!("{key} missing")),
        Some(_) => {
            let v = us(config, key, D, 0)?;
            v.try_into().map_err(|v: Vec<usize>| format!("{key} has {} entries, expected {D}", v.len()))
        }
    }
}

struct ConvConfig<const D: usize> {
    in_channels: usize,
    out_channels: usize,
    kernel: [usize; D],
    stride: [usize; D],
    dilation: [usize; D],
    groups: usize,
    bias: bool,
}

fn conv<const D: usize>(config: &Value) -> Result<ConvConfig<D>, String> {
    only(
        config,
        &[
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "padding_mode",
        ],
    )?;
    if let Some(mode) = config.get("padding_mode").and_then(Value::as_str) {
        if mode != "zeros" {
            return Err(format!("padding_mode {mode}"));
        }
    }
    let size = |key: &str| -> Result<usize, String> {
        config.get(key).and_then(Value::as_u64).map(|v| v as usize).ok_or(format!("{key} missing"))
    };
    Ok(ConvConfig {
        in_channels: size("in_channels")?,
        out_channels: size("out_channels")?,
        kernel: sizes::<D>(config, "kernel_size", None)?,
        stride: sizes::<D>(config, "stride", Some([1; D]))?,
        dilation: sizes::<D>(config, "dilation", Some([1; D]))?,
        groups: config.get("groups").and_then(Value::as_u64).map_or(1, |v| v as usize),
        bias: b(config, "bias", true),
    })
}

/// `padding`: an int, a list, `"same"` or `"valid"`.
fn padding<const D: usize>(config: &Value) -> Result<Padding<D>, String> {
    match config.get("padding") {
        Some(Value::String(s)) if s == "same" => Ok(Padding::Same),
        Some(Value::String(s)) if s == "valid" => Ok(Padding::Valid),
        Some(Value::String(s)) => Err(format!("padding {s:?}")),
        _ => Ok(Padding::Explicit(sizes::<D>(config, "padding", Some([0; D]))?)),
    }
}

type PoolWindow<const D: usize> = ([usize; D], [usize; D], [usize; D], [usize; D], bool);

fn max_pool<const D: usize>(config: &Value) -> Result<PoolWindow<D>, String> {
    only(config, &["kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"])?;
    if b(config, "return_indices", false) {
        return Err("return_indices".into());
    }
    let k = sizes::<D>(config, "kernel_size", None)?;
    Ok((
        k,
        sizes::<D>(config, "stride", Some(k))?,
        sizes::<D>(config, "padding", Some([0; D]))?,
        sizes::<D>(config, "dilation", Some([1; D]))?,
        b(config, "ceil_mode", false),
    ))
}

type AvgConfig<const D: usize> = ([usize; D], [usize; D], [usize; D], bool, bool, Option<usize>);

fn avg_pool<const D: usize>(config: &Value) -> Result<AvgConfig<D>, String> {
    only(
        config,
        &["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
    )?;
    let k = sizes::<D>(config, "kernel_size", None)?;
    let divisor = match config.get("divisor_override") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or("divisor_override is not a size")? as usize),
    };
    Ok((
        k,
        sizes::<D>(config, "stride", Some(k))?,
        sizes::<D>(config, "padding", Some([0; D]))?,
        b(config, "ceil_mode", false),
        b(config, "count_include_pad", true),
        divisor,
    ))
}
