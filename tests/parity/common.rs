//! Shared pieces of the parity harness: reading reference arrays and comparing
//! results with the case's tolerances (numpy `isclose` semantics, see FORMAT.md).

#![allow(dead_code)]

use ndarray::{ArrayD, Dimension, IxDyn};
use serde_json::Value;

/// What running one case gave.
#[derive(Debug)]
pub enum Outcome {
    /// Every compared value is within tolerance.
    Pass,
    /// A mismatch or an unexpected error, with a message for the log.
    Fail(String),
    /// The crate does not implement this case's algorithm (or option) yet.
    Unsupported(String),
}

/// Shorthand: `fail!("...", args)` returns `Outcome::Fail`.
#[macro_export]
macro_rules! fail {
    ($($t:tt)*) => { return $crate::common::Outcome::Fail(format!($($t)*)) };
}

/// Turns a `Result<(), String>` check into an early `Outcome::Fail`.
#[macro_export]
macro_rules! check {
    ($e:expr) => {
        if let Err(msg) = $e {
            return $crate::common::Outcome::Fail(msg);
        }
    };
}

/// One reference case.
pub struct Case<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub config: &'a Value,
    pub rtol: f64,
    pub atol: f64,
    pub raw: &'a Value,
}

impl<'a> Case<'a> {
    pub fn from_value(v: &'a Value) -> Result<Self, String> {
        let s = |k: &str| {
            v.get(k).and_then(Value::as_str).ok_or_else(|| format!("case without string field {k}"))
        };
        Ok(Case {
            id: s("id")?,
            kind: s("kind")?,
            name: s("name")?,
            config: v.get("config").unwrap_or(&Value::Null),
            rtol: v.get("rtol").and_then(num).unwrap_or(0.0),
            atol: v.get("atol").and_then(num).unwrap_or(0.0),
            raw: v,
        })
    }

    /// A field of the case (`case["inputs"]`), or an error naming it.
    pub fn field(&self, path: &str) -> Result<&'a Value, String> {
        get_path(self.raw, path)
    }

    /// Config value `key`, if present and not null.
    pub fn cfg(&self, key: &str) -> Option<&'a Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    /// Config number `key` (non-finite strings accepted), or `default`.
    pub fn cfg_f64(&self, key: &str, default: f64) -> f64 {
        self.cfg(key).and_then(num).unwrap_or(default)
    }

    /// Config bool `key`, or `default`.
    pub fn cfg_bool(&self, key: &str, default: bool) -> bool {
        self.cfg(key).and_then(Value::as_bool).unwrap_or(default)
    }

    /// Config string `key`.
    pub fn cfg_str(&self, key: &str) -> Option<&'a str> {
        self.cfg(key).and_then(Value::as_str)
    }

    /// Whether the generator passed `key` explicitly (`config_passed`).
    pub fn passed(&self, key: &str) -> bool {
        self.raw
            .get("config_passed")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|k| k.as_str() == Some(key)))
    }

    /// Compares with this case's tolerances.
    pub fn close(&self, what: &str, expected: &ArrayD<f64>, actual: &ArrayD<f64>) -> Result<(), String> {
        assert_close(what, expected, actual, self.rtol, self.atol)
    }
}

/// `v["a"]["b"]` for `path = "a.b"`.
pub fn get_path<'a>(v: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur.get(key).ok_or_else(|| format!("missing field {path}"))?;
    }
    Ok(cur)
}

/// A JSON number, or one of the strings "NaN", "Infinity", "-Infinity".
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A reference array (`{"dtype", "shape", "data"}`) of any dtype.
#[derive(Clone, Debug)]
pub enum RefArray {
    F64(ArrayD<f64>),
    I64(ArrayD<i64>),
    Bool(ArrayD<bool>),
    /// `None` = JSON null (Python `None`).
    Str(ArrayD<Option<String>>),
}

fn shape_of(v: &Value) -> Result<Vec<usize>, String> {
    v.get("shape")
        .and_then(Value::as_array)
        .ok_or("array without shape")?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize).ok_or_else(|| "bad shape".to_string()))
        .collect()
}

fn data_of(v: &Value) -> Result<&Vec<Value>, String> {
    v.get("data").and_then(Value::as_array).ok_or_else(|| "array without data".to_string())
}

fn build<T>(shape: Vec<usize>, data: Vec<T>) -> Result<ArrayD<T>, String> {
    ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| format!("array data/shape mismatch: {e}"))
}

impl RefArray {
    pub fn parse(v: &Value) -> Result<Self, String> {
        let dtype = v.get("dtype").and_then(Value::as_str).ok_or("array without dtype")?;
        let shape = shape_of(v)?;
        let data = data_of(v)?;
        Ok(match dtype {
            "f64" => RefArray::F64(build(shape, data.iter().map(|x| num(x).unwrap_or(f64::NAN)).collect())?),
            "i64" => RefArray::I64(build(
                shape,
                data.iter()
                    .map(|x| x.as_i64().ok_or_else(|| format!("bad i64 {x}")))
                    .collect::<Result<_, _>>()?,
            )?),
            "bool" => RefArray::Bool(build(
                shape,
                data.iter()
                    .map(|x| x.as_bool().ok_or_else(|| format!("bad bool {x}")))
                    .collect::<Result<_, _>>()?,
            )?),
            "str" => {
                RefArray::Str(build(shape, data.iter().map(|x| x.as_str().map(str::to_string)).collect())?)
            }
            other => return Err(format!("unknown dtype {other}")),
        })
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            RefArray::F64(a) => a.shape(),
            RefArray::I64(a) => a.shape(),
            RefArray::Bool(a) => a.shape(),
            RefArray::Str(a) => a.shape(),
        }
    }

    /// As f64 (i64 and bool converted; strings are an error).
    pub fn to_f64(&self) -> Result<ArrayD<f64>, String> {
        match self {
            RefArray::F64(a) => Ok(a.clone()),
            RefArray::I64(a) => Ok(a.mapv(|x| x as f64)),
            RefArray::Bool(a) => Ok(a.mapv(|x| if x { 1.0 } else { 0.0 })),
            RefArray::Str(_) => Err("expected a numeric array, got str".into()),
        }
    }
}

/// Parses an f64 array (i64 / bool data converted).
pub fn arr_f64(v: &Value) -> Result<ArrayD<f64>, String> {
    RefArray::parse(v)?.to_f64()
}

/// Parses an i64 array.
pub fn arr_i64(v: &Value) -> Result<ArrayD<i64>, String> {
    match RefArray::parse(v)? {
        RefArray::I64(a) => Ok(a),
        other => Err(format!("expected i64 array, got {:?}", other.shape())),
    }
}

/// Parses a class-index array (non-negative integers) as usize.
pub fn arr_usize(v: &Value) -> Result<ArrayD<usize>, String> {
    let a = arr_i64(v)?;
    if let Some(bad) = a.iter().find(|&&x| x < 0) {
        return Err(format!("negative class index {bad}"));
    }
    Ok(a.mapv(|x| x as usize))
}

/// Whether an expected value is `{"error": {...}}`.
pub fn expected_error(v: &Value) -> Option<&Value> {
    v.get("error")
}

/// numpy `isclose` elementwise, with FORMAT.md's rules for NaN and infinities.
pub fn assert_close(
    what: &str,
    expected: &ArrayD<f64>,
    actual: &ArrayD<f64>,
    rtol: f64,
    atol: f64,
) -> Result<(), String> {
    if expected.shape() != actual.shape() {
        return Err(format!("{what}: shape {:?}, expected {:?}", actual.shape(), expected.shape()));
    }
    let mut worst: Option<(Vec<usize>, f64, f64, f64)> = None;
    for ((idx, &e), &a) in expected.indexed_iter().zip(actual.iter()) {
        let ok = if e.is_nan() {
            a.is_nan()
        } else if e.is_infinite() {
            a == e
        } else {
            a.is_finite() && (a - e).abs() <= atol + rtol * e.abs()
        };
        if !ok {
            let excess = if a.is_finite() && e.is_finite() {
                (a - e).abs() / (atol + rtol * e.abs())
            } else {
                f64::INFINITY
            };
            if worst.as_ref().is_none_or(|w| excess > w.3) {
                worst = Some((idx.slice().to_vec(), e, a, excess));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((idx, e, a, x)) => {
            Err(format!("{what}[{idx:?}]: got {a:e}, expected {e:e} ({x:.3e} x tolerance)"))
        }
    }
}

/// Scalar comparison with the same rule.
pub fn assert_close_scalar(
    what: &str,
    expected: f64,
    actual: f64,
    rtol: f64,
    atol: f64,
) -> Result<(), String> {
    assert_close(what, &ndarray::arr0(expected).into_dyn(), &ndarray::arr0(actual).into_dyn(), rtol, atol)
}
