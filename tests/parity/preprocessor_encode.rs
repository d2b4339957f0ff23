//! Encoder reference cases (FORMAT.md, kind `preprocessor`): `OneHotEncoder`,
//! `OrdinalEncoder` and `LabelEncoder`, on `i64`, `str` and `f64` (NaN) inputs.
//!
//! The input dtype picks the category type (`i64`, `String`, `f64`). Fitted attributes
//! (`categories_`, `drop_idx_`, `n_features_in_`, `classes_`) compare exactly;
//! `transform` with the case's tolerances; `inverse_transform` exactly, `null` being
//! `None`. `expected.warnings` is not checked: ndtrain has no warning channel.

use ndarray::{Array2, ArrayD, IxDyn};
use ndtrain::Error;
use ndtrain::preprocessing::{
    Categories, Category, HandleUnknown, InverseTransform, LabelEncoder, OneHotDrop, OneHotEncoder,
    OrdinalEncoder, OrdinalHandleUnknown, Preprocessor,
};
use serde_json::Value;

use crate::common::{Case, Outcome, arr_f64, expected_error, num};
use crate::{check, fail};

pub fn run(case: &Case<'_>) -> Outcome {
    let (input, label) =
        if case.name == "LabelEncoder" { ("inputs.y_fit", true) } else { ("inputs.X_fit", false) };
    let dtype = match case.field(input).map(|v| v.get("dtype").and_then(Value::as_str)) {
        Ok(Some(d)) => d,
        _ => fail!("{input} without dtype"),
    };
    match (dtype, label) {
        ("i64", false) => run_2d::<i64>(case),
        ("str", false) => run_2d::<String>(case),
        ("f64", false) => run_2d::<f64>(case),
        ("i64", true) => run_label::<i64>(case),
        ("str", true) => run_label::<String>(case),
        ("f64", true) => run_label::<f64>(case),
        (other, _) => Outcome::Unsupported(format!("{} on {other} input", case.name)),
    }
}

/// A category type the reference files hold.
trait RefCat: Category + 'static {
    fn from_json(v: &Value) -> Option<Self>;
}

impl RefCat for i64 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_i64()
    }
}

impl RefCat for String {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
}

impl RefCat for f64 {
    fn from_json(v: &Value) -> Option<Self> {
        num(v)
    }
}

/// An array of categories; `null` elements are `None`.
fn parse_opt<C: RefCat>(v: &Value) -> Result<ArrayD<Option<C>>, String> {
    let shape: Vec<usize> = v
        .get("shape")
        .and_then(Value::as_array)
        .ok_or("array without shape")?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad shape"))
        .collect::<Result<_, _>>()?;
    let data = v.get("data").and_then(Value::as_array).ok_or("array without data")?;
    let items =
        data.iter()
            .map(|x| {
                if x.is_null() {
                    Ok(None)
                } else {
                    C::from_json(x).map(Some).ok_or(format!("bad element {x}"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
    ArrayD::from_shape_vec(IxDyn(&shape), items).map_err(|e| e.to_string())
}

/// An array of categories without nulls.
fn parse<C: RefCat>(v: &Value) -> Result<ArrayD<C>, String> {
    let a = parse_opt::<C>(v)?;
    if a.iter().any(Option::is_none) {
        return Err("null in an input array".into());
    }
    Ok(a.mapv(|x| x.expect("checked above")))
}

fn same<C: Category>(e: &Option<C>, a: &Option<C>) -> bool {
    match (e, a) {
        (None, None) => true,
        (Some(e), Some(a)) => e.cmp_category(a) == std::cmp::Ordering::Equal,
        _ => false,
    }
}

fn compare_cats<C: RefCat>(what: &str, expected: &Value, actual: &[C]) -> Result<(), String> {
    let e = parse_opt::<C>(expected)?;
    let a: Vec<Option<C>> = actual.iter().cloned().map(Some).collect();
    if e.len() != a.len() || e.iter().zip(&a).any(|(e, a)| !same(e, a)) {
        return Err(format!("{what}: got {actual:?}, expected {:?}", e.iter().collect::<Vec<_>>()));
    }
    Ok(())
}

fn compare_opt_2d<C: RefCat>(what: &str, expected: &Value, actual: &Array2<Option<C>>) -> Result<(), String> {
    let e = parse_opt::<C>(expected)?;
    if e.shape() != actual.shape() {
        return Err(format!("{what}: shape {:?}, expected {:?}", actual.shape(), e.shape()));
    }
    if let Some(((idx, e), a)) = e.indexed_iter().zip(actual.iter()).find(|((_, e), a)| !same(e, a)) {
        return Err(format!("{what}[{idx:?}]: got {a:?}, expected {e:?}"));
    }
    Ok(())
}

fn n_features_in(case: &Case<'_>, actual: usize) -> Result<(), String> {
    match case.field("expected.attributes.n_features_in_") {
        Ok(v) => {
            let e = arr_f64(v)?;
            if e.iter().next().copied() != Some(actual as f64) {
                return Err(format!("n_features_in_: got {actual}, expected {e}"));
            }
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

fn categories_attr<C: RefCat>(case: &Case<'_>, actual: Vec<&[C]>) -> Result<(), String> {
    let expected =
        case.field("expected.attributes.categories_")?.as_array().ok_or("categories_ is not a list")?;
    if expected.len() != actual.len() {
        return Err(format!("categories_: {} features, expected {}", actual.len(), expected.len()));
    }
    for (j, (e, a)) in expected.iter().zip(actual).enumerate() {
        compare_cats(&format!("categories_[{j}]"), e, a)?;
    }
    Ok(())
}

fn given_categories<C: RefCat>(case: &Case<'_>) -> Result<Categories<C>, String> {
    match case.cfg("categories") {
        None => Ok(Categories::Auto),
        Some(Value::String(s)) if s == "auto" => Ok(Categories::Auto),
        Some(Value::Array(lists)) => lists
            .iter()
            .map(|l| {
                l.as_array()
                    .ok_or("categories entry is not a list".to_string())?
                    .iter()
                    .map(|x| C::from_json(x).ok_or(format!("bad category {x}")))
                    .collect::<Result<Vec<C>, String>>()
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Categories::Given),
        Some(other) => Err(format!("unknown categories {other}")),
    }
}

/// Options this crate does not implement.
fn unsupported_options(case: &Case<'_>) -> Option<Outcome> {
    for key in ["min_frequency", "max_categories"] {
        if case.cfg(key).is_some() {
            return Some(Outcome::Unsupported(format!("{key} (infrequent categories)")));
        }
    }
    if case.cfg_str("dtype").is_some_and(|d| d != "float64") {
        return Some(Outcome::Unsupported("dtype other than float64".into()));
    }
    if case.cfg_bool("sparse_output", false) {
        return Some(Outcome::Unsupported("sparse_output".into()));
    }
    if case.cfg("feature_name_combiner").is_some_and(|v| v.as_str() != Some("concat")) {
        return Some(Outcome::Unsupported("custom feature_name_combiner".into()));
    }
    None
}

/// An encoder under test: the pieces the 2-D cases need.
trait Encoder<C: RefCat>: Preprocessor<C, f64> + InverseTransform<Option<C>, f64> {
    fn check_attributes(&self, case: &Case<'_>) -> Result<(), String>;
}

impl<C: RefCat> Encoder<C> for OneHotEncoder<C> {
    fn check_attributes(&self, case: &Case<'_>) -> Result<(), String> {
        categories_attr(case, self.categories().map_err(|e| e.to_string())?)?;
        n_features_in(case, self.n_features_in().map_err(|e| e.to_string())?)?;
        let actual = self.drop_idx().map_err(|e| e.to_string())?;
        match case.field("expected.attributes.drop_idx_")? {
            Value::Null => {
                if actual.is_some() {
                    return Err(format!("drop_idx_: got {actual:?}, expected None"));
                }
            }
            v => {
                let e = parse_opt::<i64>(v)?;
                let e: Vec<Option<usize>> = e.iter().map(|x| x.map(|x| x as usize)).collect();
                if actual != Some(&e[..]) {
                    return Err(format!("drop_idx_: got {actual:?}, expected {e:?}"));
                }
            }
        }
        Ok(())
    }
}

impl<C: RefCat> Encoder<C> for OrdinalEncoder<C> {
    fn check_attributes(&self, case: &Case<'_>) -> Result<(), String> {
        categories_attr(case, self.categories().map_err(|e| e.to_string())?)?;
        n_features_in(case, self.n_features_in().map_err(|e| e.to_string())?)
    }
}

fn build_one_hot<C: RefCat>(case: &Case<'_>) -> Result<OneHotEncoder<C>, Outcome> {
    let fail = |m: String| Outcome::Fail(m);
    let handle_unknown = match case.cfg_str("handle_unknown").unwrap_or("error") {
        "error" => HandleUnknown::Error,
        "ignore" => HandleUnknown::Ignore,
        other => return Err(Outcome::Unsupported(format!("handle_unknown={other}"))),
    };
    let mut b = OneHotEncoder::<C>::builder()
        .handle_unknown(handle_unknown)
        .categories(given_categories::<C>(case).map_err(fail)?);
    match case.cfg("drop") {
        None => {}
        Some(Value::String(s)) if s == "first" => b = b.drop(OneHotDrop::First),
        Some(Value::String(s)) if s == "if_binary" => b = b.drop(OneHotDrop::IfBinary),
        Some(Value::Array(list)) => {
            let d = list
                .iter()
                .map(|x| {
                    if x.is_null() {
                        Ok(None)
                    } else {
                        C::from_json(x).map(Some).ok_or(format!("bad drop {x}"))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(fail)?;
            b = b.drop(OneHotDrop::Categories(d));
        }
        Some(other) => return Err(Outcome::Fail(format!("unknown drop {other}"))),
    }
    b.build().map_err(|e| Outcome::Fail(format!("build: {e}")))
}

fn build_ordinal<C: RefCat>(case: &Case<'_>) -> Result<OrdinalEncoder<C>, Outcome> {
    let handle_unknown = match case.cfg_str("handle_unknown").unwrap_or("error") {
        "error" => OrdinalHandleUnknown::Error,
        "use_encoded_value" => OrdinalHandleUnknown::UseEncodedValue,
        other => return Err(Outcome::Unsupported(format!("handle_unknown={other}"))),
    };
    let mut b = OrdinalEncoder::<C>::builder()
        .handle_unknown(handle_unknown)
        .categories(given_categories::<C>(case).map_err(Outcome::Fail)?);
    if let Some(v) = case.cfg("unknown_value") {
        b = b.unknown_value(num(v).ok_or_else(|| Outcome::Fail(format!("bad unknown_value {v}")))?);
    }
    if case.passed("encoded_missing_value") {
        b = b.encoded_missing_value(case.cfg_f64("encoded_missing_value", f64::NAN));
    } else if !case.cfg_f64("encoded_missing_value", f64::NAN).is_nan() {
        return Err(Outcome::Fail("default encoded_missing_value is not NaN in the reference".into()));
    }
    b.build().map_err(|e| Outcome::Fail(format!("build: {e}")))
}

fn run_2d<C: RefCat>(case: &Case<'_>) -> Outcome {
    if let Some(u) = unsupported_options(case) {
        return u;
    }
    let enc: Box<dyn Encoder<C>> = match case.name {
        "OneHotEncoder" => match build_one_hot::<C>(case) {
            Ok(e) => Box::new(e),
            Err(o) => return o,
        },
        _ => match build_ordinal::<C>(case) {
            Ok(e) => Box::new(e),
            Err(o) => return o,
        },
    };
    run_encoder(case, enc)
}

fn to_2d<T>(a: ArrayD<T>) -> Result<Array2<T>, String> {
    a.into_dimensionality().map_err(|e| format!("expected a 2-D array: {e}"))
}

fn run_encoder<C: RefCat>(case: &Case<'_>, mut enc: Box<dyn Encoder<C>>) -> Outcome {
    let x_fit = match case.field("inputs.X_fit").and_then(parse::<C>).and_then(to_2d) {
        Ok(x) => x,
        Err(e) => fail!("X_fit: {e}"),
    };
    let x_tr = match case.field("inputs.X_transform").and_then(parse::<C>).and_then(to_2d) {
        Ok(x) => x,
        Err(e) => fail!("X_transform: {e}"),
    };
    let x_fit_copy = x_fit.clone();
    if let Err(e) = enc.fit(x_fit.view()) {
        fail!("fit: {e}");
    }
    check!(enc.check_attributes(case));
    let expected = match case.field("expected.transform") {
        Ok(v) => v,
        Err(e) => fail!("{e}"),
    };
    let out = enc.transform(x_tr.view());
    if expected_error(expected).is_some() {
        return match out {
            Err(Error::UnknownCategory { .. }) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("transform: expected UnknownCategory, got {e}")),
            Ok(_) => Outcome::Fail("transform: expected an error, got Ok".into()),
        };
    }
    let y = match out {
        Ok(y) => y,
        Err(e) => fail!("transform: {e}"),
    };
    let e = match arr_f64(expected) {
        Ok(e) => e,
        Err(m) => fail!("expected.transform: {m}"),
    };
    check!(case.close("transform", &e, &y.clone().into_dyn()));
    if let Ok(inv) = case.field("expected.inverse_transform") {
        match enc.inverse_transform(y.view()) {
            Ok(back) if expected_error(inv).is_none() => {
                check!(compare_opt_2d::<C>("inverse_transform", inv, &back))
            }
            Ok(_) => fail!("inverse_transform: expected an error, got Ok"),
            Err(e) if expected_error(inv).is_none() => fail!("inverse_transform: {e}"),
            Err(_) => {}
        }
    }
    // Inputs are never mutated.
    if x_fit.iter().zip(&x_fit_copy).any(|(a, b)| a.cmp_category(b) != std::cmp::Ordering::Equal) {
        fail!("fit mutated X_fit");
    }
    Outcome::Pass
}

fn run_label<C: RefCat>(case: &Case<'_>) -> Outcome {
    let y_fit = match case.field("inputs.y_fit").and_then(parse::<C>) {
        Ok(y) => y,
        Err(e) => fail!("y_fit: {e}"),
    };
    let y_tr = match case.field("inputs.y_transform").and_then(parse::<C>) {
        Ok(y) => y,
        Err(e) => fail!("y_transform: {e}"),
    };
    let (Ok(y_fit), Ok(y_tr)) = (y_fit.into_dimensionality(), y_tr.into_dimensionality()) else {
        fail!("LabelEncoder inputs must be 1-D");
    };
    let mut enc = LabelEncoder::<C>::new();
    if let Err(e) = enc.fit(y_fit.view()) {
        fail!("fit: {e}");
    }
    match (enc.classes(), case.field("expected.attributes.classes_")) {
        (Ok(a), Ok(e)) => check!(compare_cats("classes_", e, a)),
        (Err(e), _) => fail!("classes: {e}"),
        (_, Err(e)) => fail!("{e}"),
    }
    let expected = match case.field("expected.transform") {
        Ok(v) => v,
        Err(e) => fail!("{e}"),
    };
    let out = enc.transform(y_tr.view());
    if expected_error(expected).is_some() {
        return match out {
            Err(Error::UnknownCategory { .. }) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("transform: expected UnknownCategory, got {e}")),
            Ok(_) => Outcome::Fail("transform: expected an error, got Ok".into()),
        };
    }
    let codes = match out {
        Ok(c) => c,
        Err(e) => fail!("transform: {e}"),
    };
    let e = match parse::<i64>(expected) {
        Ok(e) => e,
        Err(m) => fail!("expected.transform: {m}"),
    };
    if e.len() != codes.len() || e.iter().zip(&codes).any(|(&e, &a)| e < 0 || e as usize != a) {
        fail!("transform: got {codes}, expected {e}");
    }
    if let Ok(inv) = case.field("expected.inverse_transform") {
        let e = match parse_opt::<C>(inv) {
            Ok(e) => e,
            Err(m) => fail!("expected.inverse_transform: {m}"),
        };
        match enc.inverse_transform(codes.view()) {
            Ok(back) => {
                if e.len() != back.len() || e.iter().zip(&back).any(|(e, a)| !same(e, &Some(a.clone()))) {
                    fail!("inverse_transform: got {back:?}, expected {e:?}");
                }
            }
            Err(err) => fail!("inverse_transform: {err}"),
        }
    }
    Outcome::Pass
}
