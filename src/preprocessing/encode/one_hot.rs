//! One-hot (dummy) encoding of categorical columns.

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView2};

use super::{Categories, Category, CategorySet, check_columns, check_names, fit_sets, given_sets};
use crate::error::{Error, Result};
use crate::preprocessing::{InverseTransform, Preprocessor};
use crate::tensor::Float;

/// What [`OneHotEncoder::transform`] does with a category it did not see in `fit`
/// (scikit-learn's `handle_unknown`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum HandleUnknown {
    /// Return [`Error::UnknownCategory`] (`"error"`, the default).
    #[default]
    Error,
    /// Encode the column as all zeros (`"ignore"`); `inverse_transform` gives `None`
    /// there (or the dropped category when a category is dropped).
    Ignore,
}

/// Which category of each column [`OneHotEncoder`] leaves out (scikit-learn's `drop`),
/// to avoid collinear columns in unregularised linear models. No drop is the default.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum OneHotDrop<C> {
    /// Drop the first category of every column (`"first"`); a column with a single
    /// category disappears entirely.
    First,
    /// Drop the first category of columns with exactly two categories (`"if_binary"`).
    IfBinary,
    /// `Categories(v)`: drop category `v[j]` of column `j`, or nothing where `v[j]` is
    /// `None` (an array of categories in scikit-learn).
    Categories(Vec<Option<C>>),
}

/// Encodes each categorical column as one 0/1 column per category (one-hot, dummy
/// encoding), as scikit-learn's `OneHotEncoder` with `sparse_output=False`.
///
/// For a row with value `x` in column `j`, the output block of column `j` holds
/// `1` at the position of `x` in `categories()[j]` and `0` elsewhere:
///
/// ```text
/// out[i, offset_j + k] = 1  if x[i, j] == categories[j][k]   (k != drop_idx[j])
///                        0  otherwise
/// ```
///
/// The columns of the dropped category (`drop_idx[j]`) are left out, and positions
/// after it shift left by one. A missing value (NaN, `None`) is a category of its own,
/// sorted last.
///
/// | hyper-parameter | default | values |
/// | --- | --- | --- |
/// | `categories` | [`Categories::Auto`] (sorted unique values) | `Auto`, `Given(per-column lists)` |
/// | `drop` | none | [`OneHotDrop::First`], `IfBinary`, `Categories(..)` |
/// | `handle_unknown` | [`HandleUnknown::Error`] | `Error`, `Ignore` |
///
/// The output is dense, of element type `F` (`f64` by default): scikit-learn's
/// `dtype`. Not implemented: sparse output, `min_frequency` / `max_categories`
/// (infrequent categories) and `handle_unknown="infrequent_if_exist"`. Deviation:
/// given numeric categories need not be sorted (scikit-learn requires it).
///
/// `inverse_transform` returns `Array2<Option<C>>`: `None` where a block is all zeros
/// under `HandleUnknown::Ignore` and no category is dropped (scikit-learn's `None`).
///
/// # Errors
///
/// * `build`: [`Error::InvalidConfig`] for given categories with duplicates, an empty
///   list, or a missing value that is not last.
/// * `fit`: [`Error::EmptyInput`]; [`Error::ShapeMismatch`] when given categories do
///   not match the column count; [`Error::UnknownCategory`] for a value outside the
///   given categories under `HandleUnknown::Error`, or a `drop` category not found.
/// * `transform`: [`Error::NotFitted`], [`Error::ShapeMismatch`],
///   [`Error::UnknownCategory`] (naming the column index and the value).
/// * `inverse_transform`: [`Error::NotFitted`], [`Error::ShapeMismatch`],
///   [`Error::NonFinite`], [`Error::InvalidInput`] for an all-zero block that cannot
///   be inverted (no drop and `HandleUnknown::Error`).
///
/// Reference: scikit-learn, `sklearn.preprocessing.OneHotEncoder`
/// (<https://scikit-learn.org/stable/modules/generated/sklearn.preprocessing.OneHotEncoder.html>).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::{HandleUnknown, InverseTransform, OneHotEncoder, Preprocessor};
///
/// let x = array![["red".to_string(), "S".to_string()], ["blue".into(), "M".into()]];
/// let mut enc = OneHotEncoder::<String>::builder().handle_unknown(HandleUnknown::Ignore).build()?;
/// let y = enc.fit_transform(x.view())?;
/// assert_eq!(y, array![[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]);
/// let names = enc.feature_names_out(&["color".into(), "size".into()])?;
/// assert_eq!(names, ["color_blue", "color_red", "size_M", "size_S"]);
///
/// // An unseen colour encodes as zeros and decodes as None.
/// let test = array![["green".to_string(), "M".to_string()]];
/// let z = enc.transform(test.view())?;
/// assert_eq!(z, array![[0.0, 0.0, 1.0, 0.0]]);
/// assert_eq!(enc.inverse_transform(z.view())?[[0, 0]], None);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "get_dummies")]
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OneHotEncoder<C: Category, F: Float = f64> {
    given: Option<Vec<CategorySet<C>>>,
    drop: Option<OneHotDrop<C>>,
    handle_unknown: HandleUnknown,
    state: Option<OneHotState<C>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    _out: PhantomData<fn() -> F>,
}

/// Fitted statistics.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct OneHotState<C: Category> {
    categories: Vec<CategorySet<C>>,
    /// `None`: nothing dropped; `Some(v)`: `v[j]` is the dropped index of column `j`.
    drop_idx: Option<Vec<Option<usize>>>,
    /// First output column of each input column's block.
    offsets: Vec<usize>,
    n_output: usize,
}

impl<C: Category> OneHotState<C> {
    fn block_width(&self, j: usize) -> usize {
        self.offsets.get(j + 1).copied().unwrap_or(self.n_output) - self.offsets[j]
    }

    fn dropped(&self, j: usize) -> Option<usize> {
        self.drop_idx.as_ref().and_then(|d| d[j])
    }
}

/// Builder for [`OneHotEncoder`]; `build` validates the configuration.
#[derive(Clone, Debug)]
pub struct OneHotEncoderBuilder<C: Category, F: Float = f64> {
    categories: Categories<C>,
    drop: Option<OneHotDrop<C>>,
    handle_unknown: HandleUnknown,
    _out: PhantomData<fn() -> F>,
}

impl<C: Category, F: Float> Default for OneHotEncoderBuilder<C, F> {
    fn default() -> Self {
        OneHotEncoderBuilder {
            categories: Categories::Auto,
            drop: None,
            handle_unknown: HandleUnknown::Error,
            _out: PhantomData,
        }
    }
}

impl<C: Category, F: Float> OneHotEncoderBuilder<C, F> {
    /// Categories per column: `Categories::Auto` (default) or `Categories::Given`.
    pub fn categories(mut self, categories: Categories<C>) -> Self {
        self.categories = categories;
        self
    }

    /// Which category of each column to drop (default: none).
    pub fn drop(mut self, drop: OneHotDrop<C>) -> Self {
        self.drop = Some(drop);
        self
    }

    /// What `transform` does with unseen categories (default: `Error`).
    pub fn handle_unknown(mut self, handle_unknown: HandleUnknown) -> Self {
        self.handle_unknown = handle_unknown;
        self
    }

    /// Validates and builds the encoder.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for invalid given categories, or an explicit drop list
    /// whose length differs from the given categories'.
    pub fn build(self) -> Result<OneHotEncoder<C, F>> {
        let given = given_sets(self.categories)?;
        if let (Some(OneHotDrop::Categories(d)), Some(g)) = (&self.drop, &given) {
            if d.len() != g.len() {
                return Err(Error::invalid_config(format!(
                    "drop lists {} categories but categories are given for {} columns",
                    d.len(),
                    g.len()
                )));
            }
        }
        Ok(OneHotEncoder {
            given,
            drop: self.drop,
            handle_unknown: self.handle_unknown,
            state: None,
            _out: PhantomData,
        })
    }
}

impl<C: Category, F: Float> Default for OneHotEncoder<C, F> {
    /// scikit-learn's defaults: automatic categories, no drop, unknown categories are
    /// an error.
    fn default() -> Self {
        OneHotEncoder {
            given: None,
            drop: None,
            handle_unknown: HandleUnknown::Error,
            state: None,
            _out: PhantomData,
        }
    }
}

impl<C: Category, F: Float> OneHotEncoder<C, F> {
    /// A builder with scikit-learn's defaults.
    pub fn builder() -> OneHotEncoderBuilder<C, F> {
        OneHotEncoderBuilder::default()
    }

    /// The `handle_unknown` setting.
    pub fn handle_unknown(&self) -> HandleUnknown {
        self.handle_unknown
    }

    fn state(&self, op: &'static str) -> Result<&OneHotState<C>> {
        self.state.as_ref().ok_or(Error::NotFitted { op })
    }

    /// The categories of each column, in output order (including a dropped one).
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "categories_")]
    pub fn categories(&self) -> Result<Vec<&[C]>> {
        Ok(self.state("OneHotEncoder::categories")?.categories.iter().map(CategorySet::values).collect())
    }

    /// `None` when no category is dropped; otherwise, per column, the index into
    /// `categories()[j]` of the dropped category (`None` for a column that keeps all,
    /// e.g. a non-binary column under `IfBinary`).
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "drop_idx_")]
    pub fn drop_idx(&self) -> Result<Option<&[Option<usize>]>> {
        Ok(self.state("OneHotEncoder::drop_idx")?.drop_idx.as_deref())
    }

    /// Number of input columns seen in `fit`.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.state("OneHotEncoder::n_features_in")?.categories.len())
    }

    /// Number of output columns of `transform`.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    pub fn n_features_out(&self) -> Result<usize> {
        Ok(self.state("OneHotEncoder::n_features_out")?.n_output)
    }

    fn drop_indices(&self, categories: &[CategorySet<C>]) -> Result<Option<Vec<Option<usize>>>> {
        const OP: &str = "OneHotEncoder::fit";
        Ok(match &self.drop {
            None => None,
            Some(OneHotDrop::First) => Some(vec![Some(0); categories.len()]),
            Some(OneHotDrop::IfBinary) => {
                Some(categories.iter().map(|c| (c.len() == 2).then_some(0)).collect())
            }
            Some(OneHotDrop::Categories(d)) => {
                if d.len() != categories.len() {
                    return Err(Error::LengthMismatch {
                        op: OP,
                        what: "drop categories (one per column)",
                        expected: categories.len(),
                        got: d.len(),
                    });
                }
                let mut idx = Vec::with_capacity(d.len());
                for (j, (want, set)) in d.iter().zip(categories).enumerate() {
                    idx.push(match want {
                        None => None,
                        Some(c) => Some(set.position(c).ok_or_else(|| Error::UnknownCategory {
                            op: OP,
                            column: j,
                            value: c.label(),
                        })?),
                    });
                }
                Some(idx)
            }
        })
    }
}

impl<C: Category, F: Float> Preprocessor<C, F> for OneHotEncoder<C, F> {
    /// Learns the categories of each column (or checks the given ones).
    fn fit(&mut self, x: ArrayView2<'_, C>) -> Result<()> {
        let strict = self.handle_unknown == HandleUnknown::Error;
        let categories = fit_sets("OneHotEncoder::fit", x, self.given.as_ref(), strict)?;
        let drop_idx = self.drop_indices(&categories)?;
        let mut offsets = Vec::with_capacity(categories.len());
        let mut n_output = 0;
        for (j, set) in categories.iter().enumerate() {
            offsets.push(n_output);
            let dropped = drop_idx.as_ref().is_some_and(|d| d[j].is_some());
            n_output += set.len() - usize::from(dropped);
        }
        self.state = Some(OneHotState { categories, drop_idx, offsets, n_output });
        Ok(())
    }

    /// One-hot encodes `x` into a dense `(n_rows, n_features_out)` array.
    fn transform(&self, x: ArrayView2<'_, C>) -> Result<Array2<F>> {
        const OP: &str = "OneHotEncoder::transform";
        let st = self.state(OP)?;
        check_columns(OP, x.shape(), st.categories.len())?;
        let mut out = Array2::<F>::zeros((x.nrows(), st.n_output));
        for (row, mut out_row) in x.rows().into_iter().zip(out.rows_mut()) {
            for (j, v) in row.iter().enumerate() {
                match st.categories[j].position(v) {
                    Some(k) => {
                        let col = match st.dropped(j) {
                            Some(d) if k == d => continue,
                            Some(d) if k > d => k - 1,
                            _ => k,
                        };
                        out_row[st.offsets[j] + col] = F::one();
                    }
                    None => match self.handle_unknown {
                        HandleUnknown::Error => {
                            return Err(Error::UnknownCategory { op: OP, column: j, value: v.label() });
                        }
                        HandleUnknown::Ignore => {}
                    },
                }
            }
        }
        Ok(out)
    }

    /// `{input}_{category}` for every output column, e.g. `"color_red"`.
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        const OP: &str = "OneHotEncoder::feature_names_out";
        let st = self.state(OP)?;
        check_names(OP, input_features, st.categories.len())?;
        let mut names = Vec::with_capacity(st.n_output);
        for (j, (set, input)) in st.categories.iter().zip(input_features).enumerate() {
            for (k, c) in set.values().iter().enumerate() {
                if st.dropped(j) != Some(k) {
                    names.push(format!("{input}_{}", c.label()));
                }
            }
        }
        Ok(names)
    }
}

impl<C: Category, F: Float> InverseTransform<Option<C>, F> for OneHotEncoder<C, F> {
    /// Decodes each block by its largest entry (`argmax`, as scikit-learn). An all-zero
    /// block decodes to the dropped category when one is dropped, else to `None` under
    /// `HandleUnknown::Ignore`, else is an error.
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<Option<C>>> {
        const OP: &str = "OneHotEncoder::inverse_transform";
        let st = self.state(OP)?;
        check_columns(OP, y.shape(), st.n_output)?;
        if let Some((idx, v)) = y.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { op: OP, what: "y", value: v.as_f64(), index: vec![idx.0, idx.1] });
        }
        let n_features = st.categories.len();
        let mut out = Array2::<Option<C>>::from_elem((y.nrows(), n_features), None);
        for (i, (row, mut out_row)) in y.rows().into_iter().zip(out.rows_mut()).enumerate() {
            for j in 0..n_features {
                let cats = st.categories[j].values();
                let dropped = st.dropped(j);
                let width = st.block_width(j);
                if width == 0 {
                    // A single category, dropped: every row holds it.
                    out_row[j] = dropped.map(|d| cats[d].clone());
                    continue;
                }
                let block = row.slice(ndarray::s![st.offsets[j]..st.offsets[j] + width]);
                let mut best = 0;
                let mut sum = F::zero();
                for (k, &v) in block.iter().enumerate() {
                    sum += v;
                    if v > block[best] {
                        best = k;
                    }
                }
                if sum != F::zero() {
                    let k = match dropped {
                        Some(d) if best >= d => best + 1,
                        _ => best,
                    };
                    out_row[j] = Some(cats[k].clone());
                } else if let Some(d) = dropped {
                    out_row[j] = Some(cats[d].clone());
                } else if self.handle_unknown == HandleUnknown::Error {
                    return Err(Error::invalid_input(
                        OP,
                        format!(
                            "row {i}, column {j}: an all-zero block cannot be inverted when no \
                             category is dropped and handle_unknown is Error"
                        ),
                    ));
                }
                // else: unknown category under Ignore -> None.
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn s(v: &str) -> String {
        v.to_string()
    }

    // Hand-checked: categories of column 0 are [a, b, c] (sorted), column 1 [1, 2].
    #[test]
    fn encodes_sorted_categories() {
        let x = array![[s("b"), s("2")], [s("a"), s("1")], [s("c"), s("2")]];
        let mut enc = OneHotEncoder::<String>::default();
        let y = enc.fit_transform(x.view()).unwrap();
        assert_eq!(
            y,
            array![[0.0, 1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 1.0]]
        );
        assert_eq!(enc.categories().unwrap()[0], &[s("a"), s("b"), s("c")]);
        assert_eq!(enc.drop_idx().unwrap(), None);
    }

    #[test]
    fn drop_first_and_single_category_column() {
        let x = array![[1i64, 7], [2, 7], [3, 7]];
        let mut enc = OneHotEncoder::<i64, f32>::builder().drop(OneHotDrop::First).build().unwrap();
        let y = enc.fit_transform(x.view()).unwrap();
        // Column 0 keeps [2, 3]; column 1 (single category 7) disappears.
        assert_eq!(y, array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0]]);
        let back = enc.inverse_transform(y.view()).unwrap();
        assert_eq!(back, x.mapv(Some));
    }

    #[test]
    fn explicit_drop_category() {
        let x = array![[s("a")], [s("b")], [s("c")]];
        let mut enc = OneHotEncoder::<String>::builder()
            .drop(OneHotDrop::Categories(vec![Some(s("b"))]))
            .build()
            .unwrap();
        let y = enc.fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]);
        assert_eq!(enc.drop_idx().unwrap(), Some(&[Some(1)][..]));
        assert_eq!(enc.feature_names_out(&[s("x0")]).unwrap(), ["x0_a", "x0_c"]);
        let mut bad = OneHotEncoder::<String>::builder()
            .drop(OneHotDrop::Categories(vec![Some(s("z"))]))
            .build()
            .unwrap();
        assert!(matches!(bad.fit(x.view()), Err(Error::UnknownCategory { column: 0, .. })));
    }

    #[test]
    fn nan_is_a_category() {
        let x = array![[1.0], [f64::NAN], [1.0]];
        let mut enc = OneHotEncoder::<f64>::default();
        let y = enc.fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]);
        assert_eq!(enc.feature_names_out(&[s("v")]).unwrap(), ["v_1.0", "v_nan"]);
    }
}
