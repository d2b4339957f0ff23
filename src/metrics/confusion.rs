//! [`confusion_matrix`] and the [`ConfusionMatrix`] table it returns.

use std::fmt;

use ndarray::{Array2, ArrayView2, ArrayViewD, Axis};

use crate::error::{Error, Result};
use crate::metrics::counts::Counts;
use crate::metrics::label::{
    ArrayLike, Label, check_weights, encode, index_of, same_len, sorted_classes, to_1d,
};

/// How [`confusion_matrix`] normalises counts (scikit-learn's `normalize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Normalize {
    /// Over the true labels: each row sums to 1 (rows are per-class recall).
    True,
    /// Over the predicted labels: each column sums to 1 (diagonal = precision).
    Pred,
    /// Over all samples: the matrix sums to 1.
    All,
}

/// A confusion matrix with its class labels: `values[[i, j]]` is the (weighted) number
/// of samples of true class `labels[i]` predicted as `labels[j]`.
///
/// `Display` prints an aligned table; counts print as integers, normalised values with
/// the formatter's precision (`{:.3}`; 2 digits by default).
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{confusion_matrix, ConfusionMatrixOptions};
///
/// let cm = confusion_matrix(&["cat", "dog", "dog"], &["cat", "cat", "dog"], ConfusionMatrixOptions::new())?;
/// assert_eq!(cm.labels(), &["cat", "dog"]);
/// assert_eq!(cm.values()[[1, 0]], 1.0);
/// assert_eq!(cm.to_string(), "true\\pred cat dog\n      cat   1   0\n      dog   1   1\n");
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrix<L = usize> {
    labels: Vec<L>,
    values: Array2<f64>,
    normalized: bool,
}

impl<L> ConfusionMatrix<L> {
    /// A confusion matrix from labels and a square matrix of counts.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless `values` is `[k, k]` with `k = labels.len()`.
    pub fn from_counts(labels: Vec<L>, values: Array2<f64>) -> Result<Self> {
        let k = labels.len();
        if values.shape() != [k, k] {
            return Err(Error::ShapeMismatch {
                op: "ConfusionMatrix::from_counts",
                expected: vec![k, k],
                got: values.shape().to_vec(),
            });
        }
        Ok(ConfusionMatrix { labels, values, normalized: false })
    }

    /// The class labels, in row (and column) order.
    pub fn labels(&self) -> &[L] {
        &self.labels
    }

    /// The matrix (rows: true class, columns: predicted class).
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// The matrix, by value.
    pub fn into_values(self) -> Array2<f64> {
        self.values
    }

    /// Whether the values were normalised.
    pub fn is_normalized(&self) -> bool {
        self.normalized
    }

    /// The matrix normalised over true labels (rows), predictions (columns) or all
    /// cells. A row or column with zero total becomes 0, as scikit-learn.
    pub fn normalized(&self, how: Normalize) -> Self
    where
        L: Clone,
    {
        let mut v = self.values.clone();
        match how {
            Normalize::True => {
                let s = v.sum_axis(Axis(1));
                for (mut row, &s) in v.rows_mut().into_iter().zip(&s) {
                    row.mapv_inplace(|x| nan_to_num(x / s));
                }
            }
            Normalize::Pred => {
                let s = v.sum_axis(Axis(0));
                for (mut col, &s) in v.columns_mut().into_iter().zip(&s) {
                    col.mapv_inplace(|x| nan_to_num(x / s));
                }
            }
            Normalize::All => {
                let s = v.sum();
                v.mapv_inplace(|x| nan_to_num(x / s));
            }
        }
        ConfusionMatrix { labels: self.labels.clone(), values: v, normalized: true }
    }
}

/// `np.nan_to_num`.
fn nan_to_num(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else if x == f64::INFINITY {
        f64::MAX
    } else if x == f64::NEG_INFINITY {
        f64::MIN
    } else {
        x
    }
}

impl<L: fmt::Display> fmt::Display for ConfusionMatrix<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prec = f.precision().unwrap_or(2);
        let integral = !self.normalized && self.values.iter().all(|v| v.fract() == 0.0 && v.abs() < 1e15);
        let cell = |v: f64| if integral { format!("{v:.0}") } else { format!("{v:.prec$}") };
        let names: Vec<String> = self.labels.iter().map(|l| l.to_string()).collect();
        let cells: Vec<String> = self.values.iter().map(|&v| cell(v)).collect();
        let corner = "true\\pred";
        let w0 = names.iter().map(|s| s.chars().count()).chain([corner.len()]).max().unwrap_or(0);
        let w = names.iter().chain(&cells).map(|s| s.chars().count()).max().unwrap_or(1);
        write!(f, "{corner:>w0$}")?;
        for n in &names {
            write!(f, " {n:>w$}")?;
        }
        writeln!(f)?;
        let k = names.len();
        for (i, n) in names.iter().enumerate() {
            write!(f, "{n:>w0$}")?;
            for c in &cells[i * k..(i + 1) * k] {
                write!(f, " {c:>w$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Keyword arguments of [`confusion_matrix`].
#[derive(Clone, Debug)]
pub struct ConfusionMatrixOptions<'w, L> {
    pub(crate) labels: Option<Vec<L>>,
    pub(crate) sample_weight: Option<ArrayViewD<'w, f64>>,
    pub(crate) normalize: Option<Normalize>,
}

impl<L> Default for ConfusionMatrixOptions<'_, L> {
    fn default() -> Self {
        ConfusionMatrixOptions { labels: None, sample_weight: None, normalize: None }
    }
}

impl<'w, L> ConfusionMatrixOptions<'w, L> {
    /// scikit-learn's defaults: all labels in sorted order, no weights, raw counts.
    pub fn new() -> Self {
        Self::default()
    }
    crate::metrics::labels_setter!("The rows/columns, in this order; samples with other labels are dropped.");
    crate::metrics::sample_weight_setter!();
    /// Normalise the counts.
    pub fn normalize(mut self, how: Normalize) -> Self {
        self.normalize = Some(how);
        self
    }
}

/// The confusion matrix of a classification: `sklearn.metrics.confusion_matrix`.
///
/// `C[i, j]` = (weighted) number of samples with true label `labels[i]` and predicted
/// label `labels[j]`; labels default to the sorted union of both inputs.
///
/// | option | default | |
/// |---|---|---|
/// | `labels` | sorted union | order of rows/columns; other samples dropped |
/// | `sample_weight` | none | |
/// | `normalize` | none | [`Normalize::True`], [`Pred`](Normalize::Pred), [`All`](Normalize::All); zero totals give 0 |
///
/// # Errors
/// [`Error::LengthMismatch`] for inputs of different lengths (or weights),
/// [`Error::EmptyInput`] for empty inputs without `labels`,
/// [`Error::InvalidInput`] for an empty `labels` or one with no label in `y_true`.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.confusion_matrix.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{confusion_matrix, ConfusionMatrixOptions, Normalize};
///
/// let y_true = [2, 0, 2, 2, 0, 1];
/// let y_pred = [0, 0, 2, 2, 0, 2];
/// let cm = confusion_matrix(&y_true, &y_pred, ConfusionMatrixOptions::new())?;
/// assert_eq!(cm.values(), ndarray::array![[2.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 2.0]]);
/// let rec = confusion_matrix(&y_true, &y_pred, ConfusionMatrixOptions::new().normalize(Normalize::True))?;
/// assert!((rec.values()[[2, 2]] - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn confusion_matrix<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: ConfusionMatrixOptions<'_, L>,
) -> Result<ConfusionMatrix<L>> {
    const OP: &str = "confusion_matrix";
    let yt = to_1d(OP, y_true.array_view())?;
    let yp = to_1d(OP, y_pred.array_view())?;
    same_len(OP, "y_pred (must match y_true)", yt.len(), yp.len())?;
    let w = check_weights(OP, opts.sample_weight, yt.len())?;
    let extra: Vec<&L> = opts.labels.iter().flatten().collect();
    let classes = sorted_classes(&[&yt, &yp], &extra);
    let counts = Counts::from_encoded(classes.len(), &encode(&classes, &yt), &encode(&classes, &yp), &w);
    let (labels, sel) = match opts.labels {
        Some(labels) => {
            if labels.is_empty() {
                return Err(Error::invalid_input(OP, "'labels' should contains at least one label."));
            }
            let sel: Vec<Option<usize>> = labels.iter().map(|l| index_of(&classes, l)).collect();
            if !yt.is_empty() && !sel.iter().flatten().any(|&i| counts.in_true(i)) {
                return Err(Error::invalid_input(OP, "At least one label specified must be in y_true"));
            }
            (labels, sel)
        }
        None => {
            if yt.is_empty() {
                return Err(Error::EmptyInput { op: OP, what: "no samples and no labels" });
            }
            let sel = (0..classes.len()).map(Some).collect();
            (classes, sel)
        }
    };
    let cm = ConfusionMatrix { labels, values: counts.matrix(&sel), normalized: false };
    Ok(match opts.normalize {
        Some(how) => cm.normalized(how),
        None => cm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn labels_subset_drops_samples_and_absent_label_is_zero() {
        // y_true = [0, 1, 2, 1], y_pred = [1, 1, 0, 2]; labels [1, 0, 7]
        let cm =
            confusion_matrix(&[0, 1, 2, 1], &[1, 1, 0, 2], ConfusionMatrixOptions::new().labels([1, 0, 7]))
                .unwrap();
        assert_eq!(cm.values(), array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
        let err = confusion_matrix(&[0, 1], &[0, 1], ConfusionMatrixOptions::new().labels([5])).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }));
    }

    #[test]
    fn normalize_zero_rows_are_zero() {
        let cm = ConfusionMatrix::from_counts(vec![0, 1], array![[2.0, 2.0], [0.0, 0.0]]).unwrap();
        let n = cm.normalized(Normalize::True);
        assert_eq!(n.values(), array![[0.5, 0.5], [0.0, 0.0]]);
        assert_eq!(format!("{n:.1}"), "true\\pred   0   1\n        0 0.5 0.5\n        1 0.0 0.0\n");
        assert!(ConfusionMatrix::from_counts(vec![0], array![[1.0, 2.0]]).is_err());
    }

    #[test]
    fn empty_with_labels_is_zeros() {
        let e: [i64; 0] = [];
        let cm = confusion_matrix(&e, &e, ConfusionMatrixOptions::new().labels([0, 1])).unwrap();
        assert_eq!(cm.values(), Array2::<f64>::zeros((2, 2)));
        assert!(matches!(
            confusion_matrix(&e, &e, ConfusionMatrixOptions::new()),
            Err(Error::EmptyInput { .. })
        ));
    }
}
