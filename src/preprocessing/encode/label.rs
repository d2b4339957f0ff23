//! Encoding of target labels as class indices.

use ndarray::{Array1, ArrayView1};

use super::{Category, CategorySet};
use crate::error::{Error, Result};

/// Encodes target labels as class indices `0..n_classes` (`usize`), as scikit-learn's
/// `LabelEncoder`: `classes()` are the sorted unique labels, and label `y` becomes
/// its position in `classes()`.
///
/// ```text
/// classes = sorted unique(y_fit)        transform(y)[i] = k  where classes[k] == y[i]
/// ```
///
/// No hyper-parameters. The codes are `usize` because they are class indices, the
/// target type of the classification losses and metrics. Works on any
/// [`Category`] (strings, integers, floats with NaN as a class sorted last).
///
/// # Errors
///
/// * `fit`: [`Error::EmptyInput`] for no labels (scikit-learn accepts it and learns no
///   class; an empty target is always a mistake here).
/// * `transform`: [`Error::NotFitted`]; [`Error::UnknownCategory`] (column 0) for a
///   label not seen in `fit`.
/// * `inverse_transform`: [`Error::NotFitted`]; [`Error::LabelOutOfRange`].
///
/// Reference: scikit-learn, `sklearn.preprocessing.LabelEncoder`
/// (<https://scikit-learn.org/stable/modules/generated/sklearn.preprocessing.LabelEncoder.html>).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::LabelEncoder;
///
/// let y = array!["virginica", "setosa", "versicolor", "setosa"];
/// let mut enc = LabelEncoder::default();
/// let codes = enc.fit_transform(y.view())?;
/// assert_eq!(enc.classes()?, &["setosa", "versicolor", "virginica"]);
/// assert_eq!(codes, array![2, 0, 1, 0]);
/// assert_eq!(enc.inverse_transform(codes.view())?, y);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LabelEncoder<C: Category> {
    classes: Option<CategorySet<C>>,
}

impl<C: Category> Default for LabelEncoder<C> {
    fn default() -> Self {
        LabelEncoder { classes: None }
    }
}

impl<C: Category> LabelEncoder<C> {
    /// An unfitted encoder (same as `default()`).
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&self, op: &'static str) -> Result<&CategorySet<C>> {
        self.classes.as_ref().ok_or(Error::NotFitted { op })
    }

    /// Learns the sorted unique labels.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] for no labels; the previous fit is kept.
    pub fn fit(&mut self, y: ArrayView1<'_, C>) -> Result<()> {
        if y.is_empty() {
            return Err(Error::EmptyInput { op: "LabelEncoder::fit", what: "y has no labels" });
        }
        self.classes = Some(CategorySet::from_data(y));
        Ok(())
    }

    /// The class index of each label.
    ///
    /// # Errors
    /// [`Error::NotFitted`]; [`Error::UnknownCategory`] naming the first unseen label.
    pub fn transform(&self, y: ArrayView1<'_, C>) -> Result<Array1<usize>> {
        const OP: &str = "LabelEncoder::transform";
        let set = self.set(OP)?;
        y.iter()
            .map(|v| {
                set.position(v).ok_or_else(|| Error::UnknownCategory { op: OP, column: 0, value: v.label() })
            })
            .collect::<Result<Vec<_>>>()
            .map(Array1::from)
    }

    /// `fit` then `transform`.
    ///
    /// # Errors
    /// As `fit`.
    pub fn fit_transform(&mut self, y: ArrayView1<'_, C>) -> Result<Array1<usize>> {
        self.fit(y)?;
        self.transform(y)
    }

    /// The label of each class index.
    ///
    /// # Errors
    /// [`Error::NotFitted`]; [`Error::LabelOutOfRange`] for an index `>= n_classes`.
    pub fn inverse_transform(&self, codes: ArrayView1<'_, usize>) -> Result<Array1<C>> {
        const OP: &str = "LabelEncoder::inverse_transform";
        let set = self.set(OP)?;
        let classes = set.values();
        codes
            .iter()
            .map(|&k| {
                classes.get(k).cloned().ok_or(Error::LabelOutOfRange {
                    op: OP,
                    label: k,
                    n_classes: classes.len(),
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Array1::from)
    }

    /// The sorted unique labels seen in `fit`.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "classes_")]
    pub fn classes(&self) -> Result<&[C]> {
        Ok(self.set("LabelEncoder::classes")?.values())
    }

    /// Number of classes.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    pub fn n_classes(&self) -> Result<usize> {
        Ok(self.set("LabelEncoder::n_classes")?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ints_sorted_and_errors() {
        let mut enc = LabelEncoder::new();
        let codes = enc.fit_transform(array![10i64, -3, 10, 7].view()).unwrap();
        assert_eq!(codes, array![2, 0, 2, 1]);
        assert_eq!(enc.classes().unwrap(), &[-3, 7, 10]);
        assert_eq!(
            enc.transform(array![7i64, 8].view()).unwrap_err(),
            Error::UnknownCategory { op: "LabelEncoder::transform", column: 0, value: "8".into() }
        );
        assert_eq!(
            enc.inverse_transform(array![3usize].view()).unwrap_err(),
            Error::LabelOutOfRange { op: "LabelEncoder::inverse_transform", label: 3, n_classes: 3 }
        );
        assert!(matches!(LabelEncoder::<i64>::new().fit(array![].view()), Err(Error::EmptyInput { .. })));
    }
}
