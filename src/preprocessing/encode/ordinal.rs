//! Ordinal (integer code) encoding of categorical columns.

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView2};

use super::{Categories, Category, CategorySet, check_columns, check_names, fit_sets, given_sets};
use crate::error::{Error, Result};
use crate::preprocessing::{InverseTransform, Preprocessor};
use crate::tensor::Float;

/// What [`OrdinalEncoder::transform`] does with a category it did not see in `fit`
/// (scikit-learn's `handle_unknown`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum OrdinalHandleUnknown {
    /// Return [`Error::UnknownCategory`] (`"error"`, the default).
    #[default]
    Error,
    /// Encode it as `unknown_value` (`"use_encoded_value"`); `inverse_transform` gives
    /// `None` there.
    UseEncodedValue,
}

/// Encodes each categorical column as integer codes `0..n_categories` (stored as `F`),
/// as scikit-learn's `OrdinalEncoder`.
///
/// ```text
/// out[i, j] = k                       if x[i, j] == categories[j][k] (not missing)
///             encoded_missing_value   if x[i, j] is missing (NaN, None) and was seen in fit
///             unknown_value           if x[i, j] is unknown and handle_unknown = UseEncodedValue
/// ```
///
/// Categories are the sorted unique values of each column (`np.unique` order), or the
/// lists given. A missing value seen in `fit` is a category sorted last and encoded as
/// `encoded_missing_value` (NaN by default); a missing value not seen in `fit` is an
/// unknown category.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `categories` | [`Categories::Auto`] | `Auto`, `Given(per-column lists)` |
/// | `handle_unknown` | [`OrdinalHandleUnknown::Error`] | `Error`, `UseEncodedValue` |
/// | `unknown_value` | unset | an integer or NaN; required by (and only with) `UseEncodedValue` |
/// | `encoded_missing_value` | NaN | an integer or NaN |
///
/// `unknown_value` must not be a code of a known category of any column
/// (`0 <= unknown_value < n_known` is rejected in `fit`), and an integer
/// `encoded_missing_value` must not be the code of a known category of a column with
/// missing values. Not implemented: `min_frequency` / `max_categories`.
///
/// # Errors
///
/// * `build`: [`Error::InvalidParameter`] for a non-integer `unknown_value` /
///   `encoded_missing_value`; [`Error::InvalidConfig`] for `UseEncodedValue` without
///   `unknown_value` (or `unknown_value` with `Error`) and invalid given categories.
/// * `fit`: [`Error::EmptyInput`], [`Error::ShapeMismatch`],
///   [`Error::UnknownCategory`] (value outside given categories under `Error`),
///   [`Error::InvalidParameter`] for the code collisions above.
/// * `transform`: [`Error::NotFitted`], [`Error::ShapeMismatch`],
///   [`Error::UnknownCategory`] (column index and value).
/// * `inverse_transform`: [`Error::NotFitted`], [`Error::ShapeMismatch`],
///   [`Error::InvalidValue`] for a code that is not a category index.
///
/// Reference: scikit-learn, `sklearn.preprocessing.OrdinalEncoder`
/// (<https://scikit-learn.org/stable/modules/generated/sklearn.preprocessing.OrdinalEncoder.html>).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::{InverseTransform, OrdinalEncoder, OrdinalHandleUnknown, Preprocessor};
///
/// let x = array![[Some("S".to_string())], [Some("XL".into())], [None], [Some("M".into())]];
/// let mut enc = OrdinalEncoder::<Option<String>>::builder()
///     .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
///     .unknown_value(-1.0)
///     .build()?;
/// let y = enc.fit_transform(x.view())?;
/// // Categories [M, S, XL, missing]; the missing cell becomes NaN.
/// assert_eq!(y[[0, 0]], 1.0);
/// assert_eq!(y[[1, 0]], 2.0);
/// assert!(y[[2, 0]].is_nan());
/// let test = array![[Some("XXL".to_string())]];
/// assert_eq!(enc.transform(test.view())?[[0, 0]], -1.0);
/// assert_eq!(enc.inverse_transform(array![[0.0], [-1.0]].view())?, array![[Some(Some("M".to_string()))], [None]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OrdinalEncoder<C: Category, F: Float = f64> {
    given: Option<Vec<CategorySet<C>>>,
    handle_unknown: OrdinalHandleUnknown,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_f64::option"))]
    unknown_value: Option<f64>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_f64"))]
    encoded_missing_value: f64,
    categories: Option<Vec<CategorySet<C>>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    _out: PhantomData<fn() -> F>,
}

/// Builder for [`OrdinalEncoder`]; `build` validates the configuration.
#[derive(Clone, Debug)]
pub struct OrdinalEncoderBuilder<C: Category, F: Float = f64> {
    categories: Categories<C>,
    handle_unknown: OrdinalHandleUnknown,
    unknown_value: Option<f64>,
    encoded_missing_value: f64,
    _out: PhantomData<fn() -> F>,
}

impl<C: Category, F: Float> Default for OrdinalEncoderBuilder<C, F> {
    fn default() -> Self {
        OrdinalEncoderBuilder {
            categories: Categories::Auto,
            handle_unknown: OrdinalHandleUnknown::Error,
            unknown_value: None,
            encoded_missing_value: f64::NAN,
            _out: PhantomData,
        }
    }
}

fn integer_or_nan(name: &'static str, v: f64) -> Result<()> {
    if v.is_nan() || (v.is_finite() && v.fract() == 0.0) {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, value: v, expected: "an integer or NaN" })
    }
}

/// `a` and `b` are the same code (NaN matches NaN, as scikit-learn's `_get_mask`).
#[inline]
fn same_code(a: f64, b: f64) -> bool {
    if b.is_nan() { a.is_nan() } else { a == b }
}

impl<C: Category, F: Float> OrdinalEncoderBuilder<C, F> {
    /// Categories per column: `Categories::Auto` (default) or `Categories::Given`.
    pub fn categories(mut self, categories: Categories<C>) -> Self {
        self.categories = categories;
        self
    }

    /// What `transform` does with unseen categories (default: `Error`).
    pub fn handle_unknown(mut self, handle_unknown: OrdinalHandleUnknown) -> Self {
        self.handle_unknown = handle_unknown;
        self
    }

    /// The code of unseen categories under `UseEncodedValue`: an integer or NaN.
    pub fn unknown_value(mut self, unknown_value: f64) -> Self {
        self.unknown_value = Some(unknown_value);
        self
    }

    /// The code of missing values (NaN, `None`) seen in `fit`: an integer or NaN
    /// (default NaN).
    pub fn encoded_missing_value(mut self, encoded_missing_value: f64) -> Self {
        self.encoded_missing_value = encoded_missing_value;
        self
    }

    /// Validates and builds the encoder.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-integer, non-NaN `unknown_value` or
    /// `encoded_missing_value`; [`Error::InvalidConfig`] for `unknown_value` missing
    /// under `UseEncodedValue` or set under `Error`, and for invalid given categories.
    pub fn build(self) -> Result<OrdinalEncoder<C, F>> {
        match (self.handle_unknown, self.unknown_value) {
            (OrdinalHandleUnknown::UseEncodedValue, None) => {
                return Err(Error::invalid_config(
                    "unknown_value must be set when handle_unknown is UseEncodedValue",
                ));
            }
            (OrdinalHandleUnknown::Error, Some(v)) => {
                return Err(Error::invalid_config(format!(
                    "unknown_value ({v}) should only be set when handle_unknown is UseEncodedValue"
                )));
            }
            (_, Some(v)) => integer_or_nan("unknown_value", v)?,
            _ => {}
        }
        integer_or_nan("encoded_missing_value", self.encoded_missing_value)?;
        Ok(OrdinalEncoder {
            given: given_sets(self.categories)?,
            handle_unknown: self.handle_unknown,
            unknown_value: self.unknown_value,
            encoded_missing_value: self.encoded_missing_value,
            categories: None,
            _out: PhantomData,
        })
    }
}

impl<C: Category, F: Float> Default for OrdinalEncoder<C, F> {
    /// scikit-learn's defaults: automatic categories, unknown categories are an error,
    /// missing values encode as NaN.
    fn default() -> Self {
        OrdinalEncoder {
            given: None,
            handle_unknown: OrdinalHandleUnknown::Error,
            unknown_value: None,
            encoded_missing_value: f64::NAN,
            categories: None,
            _out: PhantomData,
        }
    }
}

impl<C: Category, F: Float> OrdinalEncoder<C, F> {
    /// A builder with scikit-learn's defaults.
    pub fn builder() -> OrdinalEncoderBuilder<C, F> {
        OrdinalEncoderBuilder::default()
    }

    fn sets(&self, op: &'static str) -> Result<&Vec<CategorySet<C>>> {
        self.categories.as_ref().ok_or(Error::NotFitted { op })
    }

    /// The categories of each column; code `k` of column `j` is `categories()[j][k]`.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "categories_")]
    pub fn categories(&self) -> Result<Vec<&[C]>> {
        Ok(self.sets("OrdinalEncoder::categories")?.iter().map(CategorySet::values).collect())
    }

    /// Number of input columns seen in `fit`.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.sets("OrdinalEncoder::n_features_in")?.len())
    }

    /// The `unknown_value` (`None` unless `handle_unknown` is `UseEncodedValue`).
    pub fn unknown_value(&self) -> Option<f64> {
        self.unknown_value
    }

    /// The `encoded_missing_value`.
    pub fn encoded_missing_value(&self) -> f64 {
        self.encoded_missing_value
    }
}

impl<C: Category, F: Float> Preprocessor<C, F> for OrdinalEncoder<C, F> {
    /// Learns the categories of each column (or checks the given ones) and checks that
    /// `unknown_value` / `encoded_missing_value` do not collide with a category's code.
    fn fit(&mut self, x: ArrayView2<'_, C>) -> Result<()> {
        let strict = self.handle_unknown == OrdinalHandleUnknown::Error;
        let sets = fit_sets("OrdinalEncoder::fit", x, self.given.as_ref(), strict)?;
        if let Some(u) = self.unknown_value.filter(|u| !u.is_nan()) {
            if sets.iter().any(|s| u >= 0.0 && u < s.n_known() as f64) {
                return Err(Error::InvalidParameter {
                    name: "unknown_value",
                    value: u,
                    expected: "a code no known category uses (< 0 or >= the number of categories)",
                });
            }
        }
        let m = self.encoded_missing_value;
        if !m.is_nan() && sets.iter().any(|s| s.missing().is_some() && m >= 0.0 && m < s.n_known() as f64) {
            return Err(Error::InvalidParameter {
                name: "encoded_missing_value",
                value: m,
                expected: "a code no known category of a column with missing values uses",
            });
        }
        self.categories = Some(sets);
        Ok(())
    }

    /// Replaces each value by its category code.
    fn transform(&self, x: ArrayView2<'_, C>) -> Result<Array2<F>> {
        const OP: &str = "OrdinalEncoder::transform";
        let sets = self.sets(OP)?;
        check_columns(OP, x.shape(), sets.len())?;
        let missing = F::lit(self.encoded_missing_value);
        let unknown = self.unknown_value.map(F::lit);
        let mut out = Array2::<F>::zeros(x.raw_dim());
        for (row, mut out_row) in x.rows().into_iter().zip(out.rows_mut()) {
            for (j, (v, o)) in row.iter().zip(out_row.iter_mut()).enumerate() {
                let set = &sets[j];
                *o = match set.position(v) {
                    Some(k) if set.missing() == Some(k) => missing,
                    Some(k) => F::lit(k as f64),
                    None => match unknown {
                        Some(u) => u,
                        None => return Err(Error::UnknownCategory { op: OP, column: j, value: v.label() }),
                    },
                };
            }
        }
        Ok(out)
    }

    /// Checks the name count; one output column per input column, same names.
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        const OP: &str = "OrdinalEncoder::feature_names_out";
        check_names(OP, input_features, self.sets(OP)?.len())?;
        Ok(input_features.to_vec())
    }
}

impl<C: Category, F: Float> InverseTransform<Option<C>, F> for OrdinalEncoder<C, F> {
    /// Maps codes back to categories: `encoded_missing_value` to the missing category
    /// (where one was seen), `unknown_value` to `None`, `k` to `categories()[j][k]`.
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<Option<C>>> {
        const OP: &str = "OrdinalEncoder::inverse_transform";
        let sets = self.sets(OP)?;
        check_columns(OP, y.shape(), sets.len())?;
        // Validate every code first, then build the output.
        for row in y.rows() {
            for (set, &v) in sets.iter().zip(row.iter()) {
                let v = v.as_f64();
                let ok = (set.missing().is_some() && same_code(v, self.encoded_missing_value))
                    || self.unknown_value.is_some_and(|u| same_code(v, u))
                    || (v >= 0.0 && v.fract() == 0.0 && v < set.len() as f64);
                if !ok {
                    return Err(Error::InvalidValue {
                        op: OP,
                        what: "y (category codes)",
                        value: v,
                        expected: "an integer in [0, n_categories), unknown_value or encoded_missing_value",
                    });
                }
            }
        }
        let mut out = Array2::<Option<C>>::from_elem(y.raw_dim(), None);
        for (row, mut out_row) in y.rows().into_iter().zip(out.rows_mut()) {
            for ((set, &v), o) in sets.iter().zip(row.iter()).zip(out_row.iter_mut()) {
                let v = v.as_f64();
                *o = match set.missing() {
                    Some(m) if same_code(v, self.encoded_missing_value) => Some(set.values()[m].clone()),
                    _ if self.unknown_value.is_some_and(|u| same_code(v, u)) => None,
                    // Validated above: an integer in [0, len).
                    _ => Some(set.values()[v as usize].clone()),
                };
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn builder_rejects_bad_codes() {
        let e = OrdinalEncoder::<i64>::builder()
            .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
            .unknown_value(-1.5)
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            Error::InvalidParameter { name: "unknown_value", value: -1.5, expected: "an integer or NaN" }
        );
        let e = OrdinalEncoder::<i64>::builder().encoded_missing_value(0.5).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "encoded_missing_value", .. }));
        let e = OrdinalEncoder::<i64>::builder()
            .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)));
        let e = OrdinalEncoder::<i64>::builder().unknown_value(-1.0).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)));
    }

    #[test]
    fn unknown_value_must_not_collide() {
        // Column 0 has 3 categories: code 2 is taken, code 3 is free.
        let x = array![[1i64], [2], [3]];
        let mut enc = OrdinalEncoder::<i64>::builder()
            .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
            .unknown_value(2.0)
            .build()
            .unwrap();
        assert!(matches!(enc.fit(x.view()), Err(Error::InvalidParameter { name: "unknown_value", .. })));
        assert!(enc.categories().is_err(), "a failed fit leaves the encoder unfitted");
        let mut enc = OrdinalEncoder::<i64, f32>::builder()
            .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
            .unknown_value(3.0)
            .build()
            .unwrap();
        // Categories [1, 3, 9] -> codes 0, 1, 2; unseen 5 -> 3.
        let y = enc.fit_transform(array![[3i64], [1], [9]].view());
        assert_eq!(y.unwrap(), array![[1.0f32], [0.0], [2.0]]);
        assert_eq!(enc.transform(array![[5i64]].view()).unwrap(), array![[3.0f32]]);
    }

    #[test]
    fn missing_code_and_inverse() {
        let x = array![[1.0], [f64::NAN], [0.0]];
        let mut enc = OrdinalEncoder::<f64>::builder().encoded_missing_value(-1.0).build().unwrap();
        let y = enc.fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[1.0], [-1.0], [0.0]]);
        let back = enc.inverse_transform(y.view()).unwrap();
        assert_eq!(back[[0, 0]], Some(1.0));
        assert!(back[[1, 0]].unwrap().is_nan());
        assert!(matches!(
            enc.inverse_transform(array![[7.0]].view()),
            Err(Error::InvalidValue { value, .. }) if value == 7.0
        ));
        // encoded_missing_value 0 would collide with category 0.0.
        let mut bad = OrdinalEncoder::<f64>::builder().encoded_missing_value(0.0).build().unwrap();
        assert!(matches!(
            bad.fit(x.view()),
            Err(Error::InvalidParameter { name: "encoded_missing_value", .. })
        ));
    }
}
