//! Categorical encoders: [`OneHotEncoder`], [`OrdinalEncoder`] and [`LabelEncoder`]
//! (scikit-learn's `sklearn.preprocessing` encoders), generic over the category type.
//!
//! # Category types
//!
//! The encoders work on any [`Category`]: strings (`String`, `&str`), integers, `bool`,
//! `char`, floats (`f64`, `f32`) and `Option<T>` of those. A category type needs a
//! total order (for the sorted `categories_` scikit-learn reports, `np.unique` order)
//! and says which values are *missing*:
//!
//! | type | order | missing value |
//! | --- | --- | --- |
//! | `String`, `&str` | byte-wise (= Unicode code points, as numpy) | none |
//! | integers, `bool`, `char` | numeric | none |
//! | `f64`, `f32` | numeric, `-0.0 == 0.0`, NaN last (all NaNs equal) | NaN |
//! | `Option<T>` | `T`'s order, `None` last | `None` |
//!
//! As in scikit-learn, a missing value is a category of its own (sorted last, after
//! every other category): [`OneHotEncoder`] gives it a column,
//! [`OrdinalEncoder`] encodes it as `encoded_missing_value` (NaN by default).
//! `Option<String>` is the type of a text column of a
//! [`Table`](crate::preprocessing::Table), where `None` is a missing cell; it behaves
//! like a pandas object column read by `read_csv` (missing cells are NaN there).
//! Deviation: scikit-learn treats a Python `None` as an ordinary category in the
//! `OrdinalEncoder` (only NaN is "missing"); here `None` is missing, like NaN.

use std::cmp::Ordering;
use std::fmt::Debug;

use ndarray::ArrayView1;

mod label;
mod one_hot;
mod ordinal;

pub use label::LabelEncoder;
pub use one_hot::{HandleUnknown, OneHotDrop, OneHotEncoder, OneHotEncoderBuilder};
pub use ordinal::{OrdinalEncoder, OrdinalEncoderBuilder, OrdinalHandleUnknown};

/// A value that can be a category of a categorical feature.
///
/// Implemented for `String`, `&str`, `bool`, `char`, the integer types, `f32`, `f64`
/// and `Option<T: Category>`; implement it for your own enums to encode them directly.
///
/// # Example: a custom category type
///
/// ```
/// use std::cmp::Ordering;
/// use ndarray::array;
/// use ndtrain::preprocessing::{Category, OneHotEncoder, Preprocessor};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// enum Size { S, M, L }
///
/// impl Category for Size {
///     fn cmp_category(&self, other: &Self) -> Ordering { self.cmp(other) }
///     fn label(&self) -> String { format!("{self:?}") }
/// }
///
/// let x = array![[Size::L], [Size::S], [Size::M]];
/// let mut enc = OneHotEncoder::<Size>::default();
/// let y = enc.fit_transform(x.view())?;
/// assert_eq!(y, array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Category: Clone + Debug {
    /// A total order on categories: the order of the fitted `categories_`.
    /// Missing values must compare greater than every other value (sorted last) and
    /// equal to each other.
    fn cmp_category(&self, other: &Self) -> Ordering;

    /// Whether this value marks a missing entry (NaN, `None`). Default: never.
    fn is_missing(&self) -> bool {
        false
    }

    /// The canonical missing value of this type (NaN, `None`), if it has one. Used to
    /// restore a missing category when a fitted encoder is deserialised.
    fn missing_value() -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    /// Text for feature names (`"color_red"`) and error messages, like Python's
    /// `str(value)`: strings as they are, `1.0` as `"1.0"`, NaN and `None` as `"nan"`.
    fn label(&self) -> String;
}

impl Category for String {
    fn cmp_category(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn label(&self) -> String {
        self.clone()
    }
}

impl Category for &str {
    fn cmp_category(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn label(&self) -> String {
        (*self).to_string()
    }
}

macro_rules! ord_category {
    ($($t:ty),*) => {$(
        impl Category for $t {
            fn cmp_category(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
            fn label(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

ord_category!(bool, char, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! float_category {
    ($($t:ty),*) => {$(
        impl Category for $t {
            fn cmp_category(&self, other: &Self) -> Ordering {
                match self.partial_cmp(other) {
                    Some(o) => o,
                    // At least one NaN: NaN sorts last and all NaNs are equal.
                    None => self.is_nan().cmp(&other.is_nan()),
                }
            }
            fn is_missing(&self) -> bool {
                self.is_nan()
            }
            fn missing_value() -> Option<Self> {
                Some(<$t>::NAN)
            }
            fn label(&self) -> String {
                if self.is_nan() {
                    "nan".to_string()
                } else {
                    // Debug keeps the ".0" of integral floats, as Python's str(float).
                    format!("{self:?}")
                }
            }
        }
    )*};
}

float_category!(f32, f64);

impl<T: Category> Category for Option<T> {
    fn cmp_category(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Some(a), Some(b)) => a.cmp_category(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    fn is_missing(&self) -> bool {
        self.is_none()
    }
    fn missing_value() -> Option<Self> {
        Some(None)
    }
    fn label(&self) -> String {
        match self {
            Some(v) => v.label(),
            None => "nan".to_string(),
        }
    }
}

/// The categories an encoder uses for each column (scikit-learn's `categories`).
///
/// `Auto` finds the categories of each column in the training data (sorted, as
/// `np.unique`); `Given` lists them per column, in the order the output uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Categories<C> {
    /// Categories are the sorted unique values of each training column.
    #[default]
    Auto,
    /// `Given(cats)`: `cats[j]` are the categories of column `j`, in output order.
    Given(Vec<Vec<C>>),
}

/// The categories of one feature, in output order, with a sorted index for lookups.
#[derive(Clone, Debug)]
pub(crate) struct CategorySet<C> {
    /// Categories in `categories_` order.
    values: Vec<C>,
    /// Positions into `values`, sorted by `cmp_category` (for binary search).
    sorted: Vec<usize>,
    /// Position of the missing category (always the last one), if any.
    missing: Option<usize>,
}

impl<C: Category> CategorySet<C> {
    /// The sorted unique values of `col` (`np.unique` order; missing last).
    pub(crate) fn from_data(col: ArrayView1<'_, C>) -> Self {
        let mut refs: Vec<&C> = col.iter().collect();
        refs.sort_by(|a, b| a.cmp_category(b));
        refs.dedup_by(|a, b| a.cmp_category(b) == Ordering::Equal);
        let values: Vec<C> = refs.into_iter().cloned().collect();
        let missing = values.last().filter(|v| v.is_missing()).map(|_| values.len() - 1);
        let sorted = (0..values.len()).collect();
        CategorySet { values, sorted, missing }
    }

    /// Categories given by the user, in their order. Errors name the problem.
    pub(crate) fn given(values: Vec<C>) -> Result<Self, String> {
        if values.is_empty() {
            return Err("an empty list of categories".to_string());
        }
        if let Some(p) = values.iter().position(Category::is_missing) {
            if p + 1 != values.len() {
                return Err(format!(
                    "the missing value must be the last category, found {} at position {p} of {}",
                    values[p].label(),
                    values.len()
                ));
            }
        }
        let mut sorted: Vec<usize> = (0..values.len()).collect();
        sorted.sort_by(|&a, &b| values[a].cmp_category(&values[b]));
        if let Some(w) =
            sorted.windows(2).find(|w| values[w[0]].cmp_category(&values[w[1]]) == Ordering::Equal)
        {
            return Err(format!("duplicate category {}", values[w[0]].label()));
        }
        let missing = values.last().filter(|v| v.is_missing()).map(|_| values.len() - 1);
        Ok(CategorySet { values, sorted, missing })
    }

    /// Position of `x` in `values`, or `None` for an unknown category.
    #[inline]
    pub(crate) fn position(&self, x: &C) -> Option<usize> {
        self.sorted.binary_search_by(|&i| self.values[i].cmp_category(x)).ok().map(|k| self.sorted[k])
    }

    pub(crate) fn values(&self) -> &[C] {
        &self.values
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn missing(&self) -> Option<usize> {
        self.missing
    }

    /// Number of categories that are not the missing one (sklearn's "cardinality").
    pub(crate) fn n_known(&self) -> usize {
        self.values.len() - usize::from(self.missing.is_some())
    }
}

/// Validates user-given categories for `n` features, or `None` for `Auto`.
pub(crate) fn given_sets<C: Category>(
    categories: Categories<C>,
) -> crate::Result<Option<Vec<CategorySet<C>>>> {
    match categories {
        Categories::Auto => Ok(None),
        Categories::Given(lists) => {
            if lists.is_empty() {
                return Err(crate::Error::invalid_config("categories: an empty list of features"));
            }
            lists
                .into_iter()
                .enumerate()
                .map(|(j, l)| {
                    CategorySet::given(l)
                        .map_err(|m| crate::Error::invalid_config(format!("categories of column {j}: {m}")))
                })
                .collect::<crate::Result<Vec<_>>>()
                .map(Some)
        }
    }
}

/// The categories of every column of `x`: the given ones (checked against `x` when
/// `strict`), or the sorted unique values of each column.
pub(crate) fn fit_sets<C: Category>(
    op: &'static str,
    x: ndarray::ArrayView2<'_, C>,
    given: Option<&Vec<CategorySet<C>>>,
    strict: bool,
) -> crate::Result<Vec<CategorySet<C>>> {
    use crate::Error;
    if x.nrows() == 0 {
        return Err(Error::EmptyInput { op, what: "X has no rows" });
    }
    if x.ncols() == 0 {
        return Err(Error::EmptyInput { op, what: "X has no columns" });
    }
    match given {
        Some(sets) => {
            if sets.len() != x.ncols() {
                return Err(Error::ShapeMismatch {
                    op,
                    expected: vec![0, sets.len()],
                    got: x.shape().to_vec(),
                });
            }
            if strict {
                for (j, (col, set)) in x.columns().into_iter().zip(sets).enumerate() {
                    if let Some(v) = col.iter().find(|v| set.position(v).is_none()) {
                        return Err(Error::UnknownCategory { op, column: j, value: v.label() });
                    }
                }
            }
            Ok(sets.clone())
        }
        None => Ok(x.columns().into_iter().map(CategorySet::from_data).collect()),
    }
}

/// `x` has the fitted number of columns.
pub(crate) fn check_columns(op: &'static str, got: &[usize], n_features: usize) -> crate::Result<()> {
    if got.len() != 2 || got[1] != n_features {
        return Err(crate::Error::ShapeMismatch { op, expected: vec![0, n_features], got: got.to_vec() });
    }
    Ok(())
}

/// `input_features` has one name per fitted column.
pub(crate) fn check_names(op: &'static str, names: &[String], n_features: usize) -> crate::Result<()> {
    if names.len() != n_features {
        return Err(crate::Error::LengthMismatch {
            op,
            what: "input feature names (one per fitted column)",
            expected: n_features,
            got: names.len(),
        });
    }
    Ok(())
}

#[cfg(feature = "serde")]
mod serde_impls {
    //! A fitted category set serialises as its known categories plus a flag for the
    //! missing one, so NaN categories survive formats without NaN (JSON).
    use serde::de::Error as _;
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Category, CategorySet};

    impl<C: Category + Serialize> Serialize for CategorySet<C> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let known = &self.values[..self.n_known()];
            let mut st = s.serialize_struct("CategorySet", 2)?;
            st.serialize_field("values", known)?;
            st.serialize_field("missing", &self.missing.is_some())?;
            st.end()
        }
    }

    #[derive(Deserialize)]
    struct Repr<C> {
        values: Vec<C>,
        missing: bool,
    }

    impl<'de, C: Category + Deserialize<'de>> Deserialize<'de> for CategorySet<C> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let r = Repr::<C>::deserialize(d)?;
            let mut values = r.values;
            if r.missing {
                values.push(
                    C::missing_value()
                        .ok_or_else(|| D::Error::custom("missing category for a type without one"))?,
                );
            }
            CategorySet::given(values).map_err(D::Error::custom)
        }
    }
}

/// Serde helpers for `f64` hyper-parameters that may be NaN or infinite: written as the
/// strings `"NaN"`, `"Infinity"`, `"-Infinity"` (as the reference files do), so they
/// survive JSON.
#[cfg(feature = "serde")]
pub(crate) mod serde_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Num(f64),
        Text(String),
    }

    fn decode<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
        match r {
            Repr::Num(v) => Ok(v),
            Repr::Text(s) => match s.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(E::custom(format!("expected a number, got {other:?}"))),
            },
        }
    }

    fn encode<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(v)
        }
    }

    pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        encode(*v, s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        decode(Repr::deserialize(d)?)
    }

    /// The same for `Option<f64>` (`null` = `None`).
    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => encode(*v, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<Repr>::deserialize(d)?.map(decode::<D::Error>).transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn float_order_puts_nan_last_and_zeros_equal() {
        let mut v = [f64::NAN, 3.0, -1.0, f64::NAN, 0.0, -0.0, f64::INFINITY];
        v.sort_by(|a, b| a.cmp_category(b));
        assert_eq!(&v[..2], &[-1.0, 0.0]);
        assert_eq!(v[4], f64::INFINITY);
        assert!(v[5].is_nan() && v[6].is_nan());
        assert_eq!((-0.0f64).cmp_category(&0.0), Ordering::Equal);
        assert_eq!(f64::NAN.cmp_category(&f64::NAN), Ordering::Equal);
    }

    #[test]
    fn option_puts_none_last() {
        let set =
            CategorySet::from_data(array![None, Some("b".to_string()), Some("a".to_string()), None].view());
        assert_eq!(set.values(), &[Some("a".to_string()), Some("b".to_string()), None]);
        assert_eq!(set.missing(), Some(2));
        assert_eq!(set.n_known(), 2);
        assert_eq!(set.position(&None), Some(2));
        assert_eq!(set.position(&Some("c".to_string())), None);
    }

    #[test]
    fn given_sets_keep_order_and_reject_duplicates() {
        let set = CategorySet::given(vec!["red", "green", "blue"]).unwrap();
        assert_eq!(set.position(&"blue"), Some(2));
        assert_eq!(set.position(&"red"), Some(0));
        assert!(CategorySet::given(vec!["a", "b", "a"]).unwrap_err().contains("duplicate"));
        assert!(CategorySet::given(vec![1.0, f64::NAN, 2.0]).unwrap_err().contains("last"));
        assert!(CategorySet::<i64>::given(vec![]).is_err());
    }

    #[test]
    fn labels_follow_python_str() {
        assert_eq!(1.0f64.label(), "1.0");
        assert_eq!(0.5f64.label(), "0.5");
        assert_eq!(f64::NAN.label(), "nan");
        assert_eq!(Option::<String>::None.label(), "nan");
        assert_eq!((-3i64).label(), "-3");
    }
}
