//! Inputs of the functional API: the [`Label`] bound, the [`ArrayLike`] input
//! conversion, label encoding and shared checks.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::{Debug, Display};

use ndarray::{Array2, ArrayBase, ArrayView, ArrayView1, ArrayViewD, Data, Dimension, Ix1, IxDyn};

use crate::error::{Error, Result};
use crate::tensor::Float;

/// A class label of the functional classification metrics: integers, `bool`, `char`,
/// `String`, `&str`, or your own type.
///
/// Labels are sorted (`Ord`) to give classes scikit-learn's order (`np.unique`), and
/// printed (`Display`) in reports and error messages. The one provided method says
/// which label equals the integer 1, scikit-learn's default `pos_label`; implement it
/// for your type only if one of its values plays that role.
///
/// # Example: a custom label type
///
/// ```
/// use ndtrain::metrics::{Label, accuracy_score, AccuracyOptions};
///
/// #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// enum Fruit { Apple, Pear }
/// impl std::fmt::Display for Fruit {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
/// }
/// impl Label for Fruit {}
///
/// let acc = accuracy_score(&[Fruit::Apple, Fruit::Pear], &[Fruit::Apple, Fruit::Apple], AccuracyOptions::new())?;
/// assert_eq!(acc, 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Label: Ord + Clone + Debug + Display {
    /// The label as an integer, if it is one (`None` for strings and custom types).
    /// Used for scikit-learn's default `pos_label = 1` and its `{0, 1}` / `{-1, 1}`
    /// checks.
    fn as_i64(&self) -> Option<i64> {
        None
    }
}

macro_rules! int_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            fn as_i64(&self) -> Option<i64> {
                i64::try_from(*self).ok()
            }
        }
    )*};
}
int_label!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Label for bool {
    /// `true` is 1 and `false` is 0, as in Python.
    fn as_i64(&self) -> Option<i64> {
        Some(i64::from(*self))
    }
}
impl Label for char {}
impl Label for String {}
impl Label for &str {}

/// Anything the functional metrics accept as an input array: `&Array1<T>`,
/// `&Array2<T>`, any `ArrayView`, `&[T]`, `&Vec<T>` and `&[T; N]`.
///
/// Label inputs must be one-dimensional (or `[N, 1]`); score and regression inputs
/// may be `[N]` or `[N, K]`.
pub trait ArrayLike<'a, A> {
    /// A dynamic-dimensional view of the data.
    fn array_view(self) -> ArrayViewD<'a, A>;
}

impl<'a, A, S: Data<Elem = A>, D: Dimension> ArrayLike<'a, A> for &'a ArrayBase<S, D> {
    fn array_view(self) -> ArrayViewD<'a, A> {
        self.view().into_dyn()
    }
}

impl<'a, A, D: Dimension> ArrayLike<'a, A> for ArrayView<'a, A, D> {
    fn array_view(self) -> ArrayViewD<'a, A> {
        self.into_dyn()
    }
}

impl<'a, A> ArrayLike<'a, A> for &'a [A] {
    fn array_view(self) -> ArrayViewD<'a, A> {
        ArrayView1::from(self).into_dyn()
    }
}

impl<'a, A> ArrayLike<'a, A> for &'a Vec<A> {
    fn array_view(self) -> ArrayViewD<'a, A> {
        ArrayView1::from(self.as_slice()).into_dyn()
    }
}

impl<'a, A, const N: usize> ArrayLike<'a, A> for &'a [A; N] {
    fn array_view(self) -> ArrayViewD<'a, A> {
        ArrayView1::from(&self[..]).into_dyn()
    }
}

/// A one-dimensional view of a label (or weight) input: `[N]` or `[N, 1]`.
pub(crate) fn to_1d<'a, A>(op: &'static str, x: ArrayViewD<'a, A>) -> Result<ArrayView1<'a, A>> {
    let n = x.shape().first().copied().unwrap_or(0);
    let ok = x.ndim() == 1 || (x.ndim() == 2 && x.shape()[1] == 1);
    if !ok {
        return Err(Error::ShapeMismatch { op, expected: vec![n], got: x.shape().to_vec() });
    }
    x.into_shape_with_order(IxDyn(&[n]))
        .ok()
        .and_then(|v| v.into_dimensionality::<Ix1>().ok())
        .ok_or_else(|| Error::ShapeMismatch { op, expected: vec![n], got: vec![] })
}

/// Checks that two inputs have the same number of samples.
pub(crate) fn same_len(op: &'static str, what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got { Ok(()) } else { Err(Error::LengthMismatch { op, what, expected, got }) }
}

/// Checks `N > 0`.
pub(crate) fn non_empty(op: &'static str, n: usize) -> Result<()> {
    if n == 0 { Err(Error::EmptyInput { op, what: "no samples" }) } else { Ok(()) }
}

/// Validates optional sample weights: `[N]` (or `[N, 1]`) finite numbers.
pub(crate) fn check_weights<'w>(
    op: &'static str,
    w: Option<ArrayViewD<'w, f64>>,
    n: usize,
) -> Result<Option<ArrayView1<'w, f64>>> {
    let w = match w {
        Some(w) => Some(to_1d(op, w)?),
        None => None,
    };
    if let Some(w) = &w {
        same_len(op, "sample_weight (must have one weight per sample)", n, w.len())?;
        if let Some((i, &v)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { op, what: "sample_weight", value: v, index: vec![i] });
        }
    }
    Ok(w)
}

/// Weight of sample `i` (1 without weights).
#[inline]
pub(crate) fn weight(w: &Option<ArrayView1<'_, f64>>, i: usize) -> f64 {
    match w {
        Some(w) => w[i],
        None => 1.0,
    }
}

/// `np.average(values, weights)`: `Σ w v / Σ w`; an error when the weights sum to 0.
pub(crate) fn weighted_mean(
    op: &'static str,
    values: impl Iterator<Item = f64>,
    w: &Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for (i, v) in values.enumerate() {
        let wi = weight(w, i);
        num += wi * v;
        den += wi;
    }
    if den == 0.0 {
        return Err(Error::invalid_input(op, "weights sum to zero, can't be normalized"));
    }
    Ok(num / den)
}

/// `np.average(values, weights)` when `normalize`, else the weighted sum `Σ w v`.
pub(crate) fn weighted_mean_or_sum(
    op: &'static str,
    values: impl Iterator<Item = f64>,
    w: &Option<ArrayView1<'_, f64>>,
    normalize: bool,
) -> Result<f64> {
    if normalize {
        weighted_mean(op, values, w)
    } else {
        Ok(values.enumerate().map(|(i, v)| v * weight(w, i)).sum())
    }
}

/// Sorted classes of `inputs` plus `extra` (scikit-learn's `unique_labels`).
pub(crate) fn sorted_classes<L: Label>(inputs: &[&ArrayView1<'_, L>], extra: &[&L]) -> Vec<L> {
    let mut set: BTreeSet<&L> = BTreeSet::new();
    for a in inputs {
        set.extend(a.iter());
    }
    set.extend(extra.iter().copied());
    set.into_iter().cloned().collect()
}

/// Index of `x` in the sorted `classes`.
#[inline]
pub(crate) fn index_of<L: Ord>(classes: &[L], x: &L) -> Option<usize> {
    classes.binary_search(x).ok()
}

/// Encodes a label array as indices into the sorted `classes` (every label must be
/// there).
pub(crate) fn encode<L: Label>(classes: &[L], y: &ArrayView1<'_, L>) -> Vec<usize> {
    y.iter().map(|x| index_of(classes, x).unwrap_or(usize::MAX)).collect()
}

/// Formats a list of labels as `[a, b, c]`.
pub(crate) fn fmt_labels<L: Display>(labels: &[L]) -> String {
    let inner: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    format!("[{}]", inner.join(", "))
}

/// Score inputs as a float64 matrix: `[N]` becomes `[N, 1]`; returns the matrix and
/// whether the input was one-dimensional. NaN and infinities are errors.
pub(crate) fn scores_f64<F: Float>(
    op: &'static str,
    what: &'static str,
    x: ArrayViewD<'_, F>,
) -> Result<(Array2<f64>, bool)> {
    let (n, k, one_d) = match x.ndim() {
        1 => (x.len(), 1, true),
        2 => (x.shape()[0], x.shape()[1], false),
        _ => return Err(Error::ShapeMismatch { op, expected: vec![0, 0], got: x.shape().to_vec() }),
    };
    let mut out = Array2::<f64>::zeros((n, k));
    for (o, (idx, &v)) in out.iter_mut().zip(x.indexed_iter()) {
        if !v.is_finite() {
            return Err(Error::NonFinite { op, what, value: v.as_f64(), index: idx.slice().to_vec() });
        }
        *o = v.as_f64();
    }
    Ok((out, one_d))
}

/// The score input of a score-based metric: its name in messages and its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScoreKind {
    /// `y_score`: any finite numbers (ranking metrics).
    Scores,
    /// `y_proba`: probabilities in `[0, 1]`.
    Probabilities,
}

/// Validated inputs of a score-based metric: labels, a score matrix, weights.
pub(crate) struct ScoreInputs<'a, 'w, L> {
    pub y: ArrayView1<'a, L>,
    pub scores: Array2<f64>,
    /// Whether the scores were one-dimensional (`[N]`).
    pub one_d: bool,
    pub w: Option<ArrayView1<'w, f64>>,
}

impl<L: Clone> ScoreInputs<'_, '_, L> {
    /// `y_true` as a slice (borrowed when contiguous).
    pub fn y_slice(&self) -> Cow<'_, [L]> {
        match self.y.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.y.to_vec()),
        }
    }
}

/// Validates `y_true` (`[N]`), the scores (`[N]` or `[N, C]`, finite, and in `[0, 1]`
/// for [`ScoreKind::Probabilities`]) and the weights, in that order.
pub(crate) fn score_inputs<'a, 'w, L, F: Float>(
    op: &'static str,
    kind: ScoreKind,
    y_true: ArrayViewD<'a, L>,
    y_score: ArrayViewD<'_, F>,
    w: Option<ArrayViewD<'w, f64>>,
) -> Result<ScoreInputs<'a, 'w, L>> {
    let y = to_1d(op, y_true)?;
    let (what, rows) = match kind {
        ScoreKind::Scores => ("y_score", "rows of y_score (must match y_true)"),
        ScoreKind::Probabilities => ("y_proba", "rows of y_proba (must match y_true)"),
    };
    let (scores, one_d) = scores_f64(op, what, y_score)?;
    if kind == ScoreKind::Probabilities {
        if let Some(&v) = scores.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(Error::InvalidValue { op, what, value: v, expected: "a probability in [0, 1]" });
        }
    }
    same_len(op, rows, y.len(), scores.nrows())?;
    non_empty(op, y.len())?;
    let w = check_weights(op, w, y.len())?;
    Ok(ScoreInputs { y, scores, one_d, w })
}

/// scikit-learn's `pos_label` resolution against the sorted classes: the index of the
/// requested label (or of the label equal to 1 by default), `None` when absent.
pub(crate) fn pos_index<L: Label>(classes: &[L], pos_label: Option<&L>) -> Option<usize> {
    match pos_label {
        Some(p) => index_of(classes, p),
        None => classes.iter().position(|c| c.as_i64() == Some(1)),
    }
}

/// How a `pos_label` prints in messages (`1` for the default).
pub(crate) fn pos_name<L: Label>(pos_label: Option<&L>) -> String {
    pos_label.map_or_else(|| "1".to_string(), |p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn array_like_accepts_common_inputs() {
        let v = vec![1, 2, 3];
        let a = array![1, 2, 3];
        assert_eq!((&v).array_view().len(), 3);
        assert_eq!((&a).array_view().len(), 3);
        assert_eq!(a.view().array_view().len(), 3);
        assert_eq!((&[1, 2][..]).array_view().len(), 2);
        assert_eq!((&[1, 2, 3, 4]).array_view().len(), 4);
        let m = array![[1.0, 2.0], [3.0, 4.0]];
        assert_eq!((&m).array_view().shape(), &[2, 2]);
    }

    #[test]
    fn to_1d_accepts_column_rejects_matrix() {
        let c = array![[1], [2]];
        assert_eq!(to_1d("t", c.view().into_dyn()).unwrap().to_vec(), vec![1, 2]);
        let m = array![[1, 2], [3, 4]];
        assert!(matches!(to_1d("t", m.view().into_dyn()), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn classes_sorted_and_encoded() {
        let a = array!["b", "a", "c"];
        let b = array!["d", "a", "a"];
        let classes = sorted_classes(&[&a.view(), &b.view()], &[]);
        assert_eq!(classes, vec!["a", "b", "c", "d"]);
        assert_eq!(encode(&classes, &b.view()), vec![3, 0, 0]);
        assert_eq!(pos_index(&[0i64, 1, 2], None), Some(1));
        assert_eq!(pos_index(&["a", "b"], None), None);
        assert!(true.as_i64() == Some(1));
    }

    #[test]
    fn weights_checked() {
        let w = array![1.0, f64::NAN];
        assert!(matches!(check_weights("t", Some(w.view().into_dyn()), 2), Err(Error::NonFinite { .. })));
        assert!(matches!(
            check_weights("t", Some(w.view().into_dyn()), 3),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(weighted_mean("t", [1.0, 2.0].into_iter(), &None).unwrap() == 1.5);
        let z = array![0.0, 0.0];
        assert!(weighted_mean("t", [1.0, 2.0].into_iter(), &Some(z.view())).is_err());
    }
}
