//! Label-based classification metrics (sklearn.metrics): accuracy, balanced accuracy,
//! precision / recall / F-scores, Jaccard, Matthews correlation, Cohen's kappa,
//! Hamming and zero-one losses.

use ndarray::{Array1, ArrayView1, ArrayViewD};

use crate::error::{Error, Result};
use crate::metrics::counts::{self, Counts};
use crate::metrics::label::{
    ArrayLike, Label, check_weights, encode, fmt_labels, index_of, non_empty, pos_index, pos_name, same_len,
    sorted_classes, to_1d,
};
use crate::metrics::{Average, ZeroDivision};

/// Labels encoded against their sorted classes, with their confusion counts.
pub(crate) struct Prepared<'w, L> {
    pub classes: Vec<L>,
    pub counts: Counts,
    pub weights: Option<ArrayView1<'w, f64>>,
    pub n_samples: usize,
}

/// Validates `y_true`, `y_pred` (same length, non-empty) and the weights, encodes the
/// labels over `sorted(y_true ∪ y_pred ∪ extra)` and counts.
pub(crate) fn prepare<'w, L: Label>(
    op: &'static str,
    y_true: ArrayViewD<'_, L>,
    y_pred: ArrayViewD<'_, L>,
    extra: &[&L],
    w: Option<ArrayViewD<'w, f64>>,
) -> Result<Prepared<'w, L>> {
    let yt = to_1d(op, y_true)?;
    let yp = to_1d(op, y_pred)?;
    same_len(op, "y_pred (must match y_true)", yt.len(), yp.len())?;
    non_empty(op, yt.len())?;
    let weights = check_weights(op, w, yt.len())?;
    let classes = sorted_classes(&[&yt, &yp], extra);
    let counts =
        Counts::from_encoded(classes.len(), &encode(&classes, &yt), &encode(&classes, &yp), &weights);
    Ok(Prepared { classes, counts, weights, n_samples: yt.len() })
}

// ---------------------------------------------------------------------------------
// accuracy, zero-one loss, Hamming loss

/// Keyword arguments of [`accuracy_score`] and [`zero_one_loss`].
#[derive(Clone, Debug)]
pub struct AccuracyOptions<'w> {
    normalize: bool,
    sample_weight: Option<ArrayViewD<'w, f64>>,
}

impl Default for AccuracyOptions<'_> {
    fn default() -> Self {
        AccuracyOptions { normalize: true, sample_weight: None }
    }
}

impl<'w> AccuracyOptions<'w> {
    /// scikit-learn's defaults (`normalize=True`, no weights).
    pub fn new() -> Self {
        Self::default()
    }
    /// `false`: return the (weighted) number of correct (or, for [`zero_one_loss`],
    /// wrong) samples instead of the fraction.
    pub fn normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }
    crate::metrics::sample_weight_setter!("One weight per sample (default: all 1).");
}

/// Fraction (or number) of exactly correct predictions: `sklearn.metrics.accuracy_score`.
///
/// `accuracy = Σ wᵢ [ŷᵢ = yᵢ] / Σ wᵢ`.
///
/// | option | default |
/// |---|---|
/// | `normalize` | `true` |
/// | `sample_weight` | none |
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] weights,
/// [`Error::InvalidInput`] when the weights sum to zero.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.accuracy_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{accuracy_score, AccuracyOptions};
///
/// assert_eq!(accuracy_score(&[0, 1, 2, 3], &[0, 2, 1, 3], AccuracyOptions::new())?, 0.5);
/// assert_eq!(accuracy_score(&[0, 1, 2, 3], &[0, 2, 1, 3], AccuracyOptions::new().normalize(false))?, 2.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn accuracy_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: AccuracyOptions<'_>,
) -> Result<f64> {
    const OP: &str = "accuracy_score";
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &[], opts.sample_weight)?;
    accuracy_from_counts(OP, &p.counts, opts.normalize)
}

pub(crate) fn accuracy_from_counts(op: &'static str, c: &Counts, normalize: bool) -> Result<f64> {
    let correct = c.trace();
    if !normalize {
        return Ok(correct);
    }
    let total = c.total();
    if total == 0.0 {
        return Err(Error::invalid_input(op, "weights sum to zero, can't be normalized"));
    }
    Ok(correct / total)
}

/// Fraction (or number) of misclassified samples: `sklearn.metrics.zero_one_loss`,
/// `1 - accuracy` (`Σ wᵢ - correct` when not normalised).
///
/// # Errors
/// As [`accuracy_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.zero_one_loss.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{zero_one_loss, AccuracyOptions};
///
/// assert_eq!(zero_one_loss(&[1, 2, 3, 4], &[2, 2, 3, 4], AccuracyOptions::new())?, 0.25);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn zero_one_loss<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: AccuracyOptions<'_>,
) -> Result<f64> {
    const OP: &str = "zero_one_loss";
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &[], opts.sample_weight)?;
    let score = accuracy_from_counts(OP, &p.counts, opts.normalize)?;
    if opts.normalize {
        Ok(1.0 - score)
    } else {
        let n = match &p.weights {
            Some(w) => w.sum(),
            None => p.n_samples as f64,
        };
        Ok(n - score)
    }
}

/// Fraction of wrong labels: `sklearn.metrics.hamming_loss` (for single-label
/// classification, the normalised [`zero_one_loss`]).
///
/// # Errors
/// As [`accuracy_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.hamming_loss.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::hamming_loss;
///
/// assert_eq!(hamming_loss(&[1, 2, 3, 4], &[2, 2, 3, 4], None)?, 0.25);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn hamming_loss<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const OP: &str = "hamming_loss";
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &[], sample_weight.map(|w| w.into_dyn()))?;
    hamming_from_counts(OP, &p.counts)
}

pub(crate) fn hamming_from_counts(op: &'static str, c: &Counts) -> Result<f64> {
    let total = c.total();
    if total == 0.0 {
        return Err(Error::invalid_input(op, "weights sum to zero, can't be normalized"));
    }
    Ok((total - c.trace()) / total)
}

// ---------------------------------------------------------------------------------
// balanced accuracy

/// Keyword arguments of [`balanced_accuracy_score`].
#[derive(Clone, Debug, Default)]
pub struct BalancedAccuracyOptions<'w> {
    adjusted: bool,
    sample_weight: Option<ArrayViewD<'w, f64>>,
}

impl<'w> BalancedAccuracyOptions<'w> {
    /// scikit-learn's defaults (`adjusted=False`, no weights).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rescale so that chance scores 0 and perfect scores 1.
    pub fn adjusted(mut self, adjusted: bool) -> Self {
        self.adjusted = adjusted;
        self
    }
    crate::metrics::sample_weight_setter!("One weight per sample (default: all 1).");
}

/// Mean per-class recall: `sklearn.metrics.balanced_accuracy_score`.
///
/// `score = (1/K) Σₖ recallₖ` over the `K` classes present in `y_true` (a class only
/// predicted has undefined recall and is left out, as scikit-learn); with `adjusted`,
/// `(score - 1/K) / (1 - 1/K)`.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] weights.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.balanced_accuracy_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{balanced_accuracy_score, BalancedAccuracyOptions};
///
/// // recall of class 0: 1/2, of class 1: 1/1
/// let s = balanced_accuracy_score(&[0, 0, 1], &[0, 1, 1], BalancedAccuracyOptions::new())?;
/// assert_eq!(s, 0.75);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn balanced_accuracy_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: BalancedAccuracyOptions<'_>,
) -> Result<f64> {
    const OP: &str = "balanced_accuracy_score";
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &[], opts.sample_weight)?;
    let sel = p.counts.present_selection();
    Ok(counts::balanced_accuracy(&p.counts.matrix(&sel), opts.adjusted))
}

// ---------------------------------------------------------------------------------
// precision, recall, F-beta, Jaccard

/// Keyword arguments shared by [`precision_score`], [`recall_score`], [`f1_score`],
/// [`fbeta_score`], [`jaccard_score`], their `*_per_class` forms and
/// [`precision_recall_fscore_support`].
///
/// | option | default | |
/// |---|---|---|
/// | `average` | [`Average::Binary`] | ignored by the per-class functions |
/// | `pos_label` | the label equal to 1 | only with [`Average::Binary`] |
/// | `labels` | sorted union of both inputs | classes to score / average over (samples of other classes still count as false positives/negatives) |
/// | `sample_weight` | none | |
/// | `zero_division` | [`ZeroDivision::Warn`] (= 0) | value of `0/0` |
#[derive(Clone, Debug)]
pub struct PrfOptions<'w, L> {
    labels: Option<Vec<L>>,
    pos_label: Option<L>,
    average: Average,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    zero_division: ZeroDivision,
}

impl<L> Default for PrfOptions<'_, L> {
    fn default() -> Self {
        PrfOptions {
            labels: None,
            pos_label: None,
            average: Average::Binary,
            sample_weight: None,
            zero_division: ZeroDivision::Warn,
        }
    }
}

impl<'w, L> PrfOptions<'w, L> {
    /// scikit-learn's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The averaging (default [`Average::Binary`]).
    pub fn average(mut self, average: Average) -> Self {
        self.average = average;
        self
    }
    /// The positive class for [`Average::Binary`] (default: the label equal to 1).
    pub fn pos_label(mut self, pos_label: L) -> Self {
        self.pos_label = Some(pos_label);
        self
    }
    crate::metrics::labels_setter!(
        "The classes to score, in output order (default: the sorted labels present)."
    );
    /// The value of `0/0` (default [`ZeroDivision::Warn`], i.e. 0).
    pub fn zero_division(mut self, zero_division: ZeroDivision) -> Self {
        self.zero_division = zero_division;
        self
    }
    crate::metrics::sample_weight_setter!("One weight per sample (default: all 1).");
}

fn check_beta(beta: f64) -> Result<()> {
    if beta >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "beta", value: beta, expected: ">= 0" })
    }
}

/// Counts and the selected classes of a set-wise score.
fn setwise<L: Label>(
    op: &'static str,
    y_true: ArrayViewD<'_, L>,
    y_pred: ArrayViewD<'_, L>,
    opts: PrfOptions<'_, L>,
    average: Option<Average>,
) -> Result<(Vec<L>, Vec<counts::ClassStat>, ZeroDivision)> {
    let mut extra: Vec<&L> = opts.labels.iter().flatten().collect();
    extra.extend(opts.pos_label.as_ref());
    let p = prepare(op, y_true, y_pred, &extra, opts.sample_weight.clone())?;
    let pos = pos_index(&p.classes, opts.pos_label.as_ref());
    let labels = opts.labels.as_ref().map(|ls| ls.iter().map(|l| index_of(&p.classes, l)).collect());
    let classes = &p.classes;
    let names = |idx: &[usize]| fmt_labels(&idx.iter().map(|&i| &classes[i]).collect::<Vec<_>>());
    let sel =
        p.counts.setwise_labels(op, average, pos, &pos_name(opts.pos_label.as_ref()), labels, &names)?;
    let out_labels: Vec<L> = match (&opts.labels, average) {
        (Some(ls), None) => ls.clone(),
        _ => sel.iter().flatten().map(|&i| p.classes[i].clone()).collect(),
    };
    Ok((out_labels, p.counts.stats(&sel), opts.zero_division))
}

fn prf_scalar<'a, L: Label + 'a>(
    op: &'static str,
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    beta: f64,
    opts: PrfOptions<'_, L>,
    which: usize,
) -> Result<f64> {
    check_beta(beta)?;
    let average = opts.average;
    let (_, stats, zd) = setwise(op, y_true.array_view(), y_pred.array_view(), opts, Some(average))?;
    Ok(counts::prf_average(&stats, average, beta, zd)[which])
}

fn prf_per_class<'a, L: Label + 'a>(
    op: &'static str,
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    beta: f64,
    opts: PrfOptions<'_, L>,
    which: usize,
) -> Result<Array1<f64>> {
    check_beta(beta)?;
    let (_, stats, zd) = setwise(op, y_true.array_view(), y_pred.array_view(), opts, None)?;
    Ok(stats.iter().map(|&s| counts::prf_one(s, beta, zd)[which]).collect())
}

/// Precision `tp / (tp + fp)`: `sklearn.metrics.precision_score`.
///
/// Averaged per [`PrfOptions::average`]: [`Average::Binary`] scores `pos_label` only,
/// `Micro` pools the counts, `Macro` / `Weighted` average per-class precisions
/// (unweighted / by support), skipping classes whose value is NaN
/// ([`ZeroDivision::NaN`]).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] weights;
/// [`Error::InvalidInput`] for [`Average::Binary`] on more than two labels or when
/// `pos_label` is not one of the two labels present.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.precision_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{precision_score, PrfOptions, Average};
///
/// let y_true = [0, 1, 2, 0, 1, 2];
/// let y_pred = [0, 2, 1, 0, 0, 1];
/// let p = precision_score(&y_true, &y_pred, PrfOptions::new().average(Average::Macro))?;
/// assert!((p - 2.0 / 9.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn precision_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<f64> {
    prf_scalar("precision_score", y_true, y_pred, 1.0, opts, 0)
}

/// Recall `tp / (tp + fn)`: `sklearn.metrics.recall_score`. Averaging as
/// [`precision_score`].
///
/// # Errors
/// As [`precision_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.recall_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{recall_score, PrfOptions};
///
/// // binary, positive class 1: tp = 1, fn = 1
/// assert_eq!(recall_score(&[1, 1, 0], &[1, 0, 0], PrfOptions::new())?, 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn recall_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<f64> {
    prf_scalar("recall_score", y_true, y_pred, 1.0, opts, 1)
}

/// F1 score `2 tp / (2 tp + fp + fn)`: `sklearn.metrics.f1_score`. Averaging as
/// [`precision_score`] (macro F1 is the mean of per-class F1, not the F1 of mean
/// precision and recall).
///
/// # Errors
/// As [`precision_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{f1_score, PrfOptions, Average};
///
/// let f = f1_score(&["a", "b", "b"], &["a", "b", "a"], PrfOptions::new().pos_label("b"))?;
/// assert!((f - 2.0 / 3.0).abs() < 1e-15);
/// let m = f1_score(&["a", "b", "b"], &["a", "b", "a"], PrfOptions::new().average(Average::Macro))?;
/// assert!((m - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn f1_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<f64> {
    prf_scalar("f1_score", y_true, y_pred, 1.0, opts, 2)
}

/// F-beta score `(1 + β²) tp / ((1 + β²) tp + β² fn + fp)`: `sklearn.metrics.fbeta_score`.
/// `β = 0` gives precision, `β = ∞` recall.
///
/// # Errors
/// [`Error::InvalidParameter`] for `beta < 0` or NaN; otherwise as [`precision_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.fbeta_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{fbeta_score, PrfOptions};
///
/// // tp = 1, fp = 1, fn = 0: F0.5 = 1.25 / (1.25 + 1) = 5/9
/// let f = fbeta_score(&[1, 0, 0], &[1, 1, 0], 0.5, PrfOptions::new())?;
/// assert!((f - 5.0 / 9.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn fbeta_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    beta: f64,
    opts: PrfOptions<'_, L>,
) -> Result<f64> {
    prf_scalar("fbeta_score", y_true, y_pred, beta, opts, 2)
}

/// Per-class precision (scikit-learn's `precision_score(average=None)`), in `labels`
/// order (default: sorted labels). `average` and `pos_label` are not used.
///
/// # Errors
/// As [`precision_score`].
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{precision_score_per_class, PrfOptions};
///
/// let p = precision_score_per_class(&[0, 1, 1], &[0, 0, 1], PrfOptions::new())?;
/// assert_eq!(p.to_vec(), vec![0.5, 1.0]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn precision_score_per_class<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<Array1<f64>> {
    prf_per_class("precision_score", y_true, y_pred, 1.0, opts, 0)
}

/// Per-class recall (scikit-learn's `recall_score(average=None)`); see
/// [`precision_score_per_class`].
///
/// # Errors
/// As [`precision_score`].
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{recall_score_per_class, PrfOptions};
///
/// let r = recall_score_per_class(&[0, 1, 1], &[0, 0, 1], PrfOptions::new())?;
/// assert_eq!(r.to_vec(), vec![1.0, 0.5]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn recall_score_per_class<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<Array1<f64>> {
    prf_per_class("recall_score", y_true, y_pred, 1.0, opts, 1)
}

/// Per-class F1 (scikit-learn's `f1_score(average=None)`); see
/// [`precision_score_per_class`].
///
/// # Errors
/// As [`precision_score`].
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{f1_score_per_class, PrfOptions};
///
/// let f = f1_score_per_class(&[0, 1, 1], &[0, 0, 1], PrfOptions::new())?;
/// assert!((f[0] - 2.0 / 3.0).abs() < 1e-15 && (f[1] - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn f1_score_per_class<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<Array1<f64>> {
    prf_per_class("f1_score", y_true, y_pred, 1.0, opts, 2)
}

/// Per-class F-beta (scikit-learn's `fbeta_score(average=None)`); see
/// [`precision_score_per_class`].
///
/// # Errors
/// As [`fbeta_score`].
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{fbeta_score_per_class, PrfOptions};
///
/// let f = fbeta_score_per_class(&[0, 1, 1], &[0, 0, 1], 0.0, PrfOptions::new())?; // β = 0: precision
/// assert_eq!(f.to_vec(), vec![0.5, 1.0]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn fbeta_score_per_class<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    beta: f64,
    opts: PrfOptions<'_, L>,
) -> Result<Array1<f64>> {
    prf_per_class("fbeta_score", y_true, y_pred, beta, opts, 2)
}

/// Per-class precision, recall, F-beta and support, returned by
/// [`precision_recall_fscore_support`].
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionRecallFscoreSupport<L> {
    /// The classes, in output order.
    pub labels: Vec<L>,
    /// Precision per class.
    pub precision: Array1<f64>,
    /// Recall per class.
    pub recall: Array1<f64>,
    /// F-beta per class.
    pub fscore: Array1<f64>,
    /// (Weighted) number of true samples per class.
    pub support: Array1<f64>,
}

/// Per-class precision, recall, F-beta and support:
/// `sklearn.metrics.precision_recall_fscore_support` with its default `average=None`
/// (`average` and `pos_label` in `opts` are not used; for averages call
/// [`precision_score`] etc.).
///
/// # Errors
/// As [`fbeta_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.precision_recall_fscore_support.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{precision_recall_fscore_support, PrfOptions};
///
/// let s = precision_recall_fscore_support(&["x", "y", "y"], &["x", "x", "y"], 1.0, PrfOptions::new())?;
/// assert_eq!(s.labels, vec!["x", "y"]);
/// assert_eq!(s.precision.to_vec(), vec![0.5, 1.0]);
/// assert_eq!(s.support.to_vec(), vec![1.0, 2.0]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn precision_recall_fscore_support<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    beta: f64,
    opts: PrfOptions<'_, L>,
) -> Result<PrecisionRecallFscoreSupport<L>> {
    check_beta(beta)?;
    let (labels, stats, zd) =
        setwise("precision_recall_fscore_support", y_true.array_view(), y_pred.array_view(), opts, None)?;
    let per: Vec<[f64; 3]> = stats.iter().map(|&s| counts::prf_one(s, beta, zd)).collect();
    Ok(PrecisionRecallFscoreSupport {
        labels,
        precision: per.iter().map(|v| v[0]).collect(),
        recall: per.iter().map(|v| v[1]).collect(),
        fscore: per.iter().map(|v| v[2]).collect(),
        support: stats.iter().map(|s| s.truth).collect(),
    })
}

/// Jaccard index (intersection over union) `tp / (tp + fp + fn)`:
/// `sklearn.metrics.jaccard_score`. Averaging as [`precision_score`], except that a
/// NaN per-class value (with [`ZeroDivision::NaN`]) propagates to the average, as in
/// scikit-learn.
///
/// # Errors
/// As [`precision_score`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.jaccard_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{jaccard_score, PrfOptions};
///
/// // tp = 2, fp = 1, fn = 1
/// assert_eq!(jaccard_score(&[1, 1, 1, 0], &[1, 1, 0, 1], PrfOptions::new())?, 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn jaccard_score<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<f64> {
    let average = opts.average;
    let (_, stats, zd) =
        setwise("jaccard_score", y_true.array_view(), y_pred.array_view(), opts, Some(average))?;
    Ok(counts::jaccard_average(&stats, average, zd))
}

/// Per-class Jaccard index (scikit-learn's `jaccard_score(average=None)`); see
/// [`precision_score_per_class`].
///
/// # Errors
/// As [`precision_score`].
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{jaccard_score_per_class, PrfOptions};
///
/// let j = jaccard_score_per_class(&[0, 1, 1], &[0, 0, 1], PrfOptions::new())?;
/// assert_eq!(j.to_vec(), vec![0.5, 0.5]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn jaccard_score_per_class<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: PrfOptions<'_, L>,
) -> Result<Array1<f64>> {
    let (_, stats, zd) = setwise("jaccard_score", y_true.array_view(), y_pred.array_view(), opts, None)?;
    Ok(stats.iter().map(|&s| counts::jaccard_one(s, zd)).collect())
}

// ---------------------------------------------------------------------------------
// Matthews correlation, Cohen's kappa

/// Matthews correlation coefficient (multiclass form): `sklearn.metrics.matthews_corrcoef`.
///
/// With confusion matrix `C`, `t = C·1` (true counts), `p = Cᵀ·1` (predicted counts),
/// `c = tr C`, `s = Σ C`:
/// `MCC = (c·s − t·p) / √((s² − p·p)(s² − t·t))`, and 0 when the denominator is 0.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] weights.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.matthews_corrcoef.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::matthews_corrcoef;
///
/// assert_eq!(matthews_corrcoef(&[1, 0, 1, 0], &[1, 0, 1, 0], None)?, 1.0);
/// assert_eq!(matthews_corrcoef(&[1, 0, 1, 0], &[1, 1, 1, 1], None)?, 0.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn matthews_corrcoef<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    sample_weight: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    const OP: &str = "matthews_corrcoef";
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &[], sample_weight.map(|w| w.into_dyn()))?;
    let sel = p.counts.present_selection();
    Ok(counts::mcc(&p.counts.matrix(&sel)))
}

/// Disagreement weighting of Cohen's kappa (scikit-learn's `weights`). Distances are
/// between class positions in the (sorted or given) label order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KappaWeights {
    /// Unweighted kappa (`weights=None`): every disagreement costs 1.
    #[default]
    None,
    /// `|i − j|`.
    Linear,
    /// `(i − j)²`.
    Quadratic,
}

/// Keyword arguments of [`cohen_kappa_score`].
#[derive(Clone, Debug)]
pub struct CohenKappaOptions<'w, L> {
    labels: Option<Vec<L>>,
    weights: KappaWeights,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    replace_undefined_by: f64,
}

impl<L> Default for CohenKappaOptions<'_, L> {
    fn default() -> Self {
        CohenKappaOptions {
            labels: None,
            weights: KappaWeights::None,
            sample_weight: None,
            replace_undefined_by: f64::NAN,
        }
    }
}

impl<'w, L> CohenKappaOptions<'w, L> {
    /// scikit-learn's defaults (unweighted, all labels, undefined → NaN).
    pub fn new() -> Self {
        Self::default()
    }
    crate::metrics::labels_setter!("The labels (and their order, which sets the weighting distances).");
    /// Disagreement weighting (default unweighted).
    pub fn weights(mut self, weights: KappaWeights) -> Self {
        self.weights = weights;
        self
    }
    /// Value returned when kappa is undefined (expected disagreement 0); default NaN.
    pub fn replace_undefined_by(mut self, value: f64) -> Self {
        self.replace_undefined_by = value;
        self
    }
    crate::metrics::sample_weight_setter!("One weight per sample (default: all 1).");
}

/// Cohen's kappa, agreement between two annotators corrected for chance:
/// `sklearn.metrics.cohen_kappa_score`.
///
/// With confusion matrix `C` (normalised), expected matrix `E = outer(colsum, rowsum)/Σ C`
/// and disagreement weights `W`: `κ = 1 − Σ W∘C / Σ W∘E`.
///
/// | option | default |
/// |---|---|
/// | `labels` | sorted union |
/// | `weights` | [`KappaWeights::None`] |
/// | `sample_weight` | none |
/// | `replace_undefined_by` | NaN |
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] weights,
/// [`Error::InvalidInput`] when no given label occurs in `y1`.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.cohen_kappa_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{cohen_kappa_score, CohenKappaOptions};
///
/// // observed agreement 3/4, chance agreement 1/2 -> kappa 1/2
/// let k = cohen_kappa_score(&[0, 0, 1, 1], &[0, 1, 1, 1], CohenKappaOptions::new())?;
/// assert!((k - 0.5).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn cohen_kappa_score<'a, L: Label + 'a>(
    y1: impl ArrayLike<'a, L>,
    y2: impl ArrayLike<'a, L>,
    opts: CohenKappaOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "cohen_kappa_score";
    let extra: Vec<&L> = opts.labels.iter().flatten().collect();
    let p = prepare(OP, y1.array_view(), y2.array_view(), &extra, opts.sample_weight.clone())?;
    let sel: Vec<Option<usize>> = match &opts.labels {
        Some(ls) => {
            let sel: Vec<Option<usize>> = ls.iter().map(|l| index_of(&p.classes, l)).collect();
            if ls.is_empty() || !sel.iter().flatten().any(|&i| p.counts.in_true(i)) {
                return Err(Error::invalid_input(OP, "At least one label specified must be in y_true"));
            }
            sel
        }
        None => p.counts.present_selection(),
    };
    Ok(counts::kappa(&p.counts.matrix(&sel), opts.weights, opts.replace_undefined_by))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn f32_free_label_types_work() {
        // u8 and char labels
        assert_eq!(accuracy_score(&[1u8, 2, 3], &[1u8, 2, 2], AccuracyOptions::new()).unwrap(), 2.0 / 3.0);
        assert_eq!(accuracy_score(&['a', 'b'], &['a', 'a'], AccuracyOptions::new()).unwrap(), 0.5);
    }

    #[test]
    fn weighted_accuracy_by_hand() {
        // weights [1, 2, 3], correct samples 0 and 2: (1 + 3) / 6
        let w = array![1.0, 2.0, 3.0];
        let a = accuracy_score(&[0, 1, 1], &[0, 0, 1], AccuracyOptions::new().sample_weight(&w)).unwrap();
        assert!((a - 4.0 / 6.0).abs() < 1e-15);
        let z =
            zero_one_loss(&[0, 1, 1], &[0, 0, 1], AccuracyOptions::new().normalize(false).sample_weight(&w));
        assert_eq!(z.unwrap(), 2.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            accuracy_score(&[0, 1], &[0], AccuracyOptions::new()),
            Err(Error::LengthMismatch { .. })
        ));
        let e: [i32; 0] = [];
        assert!(matches!(accuracy_score(&e, &e, AccuracyOptions::new()), Err(Error::EmptyInput { .. })));
        assert!(matches!(
            fbeta_score(&[0, 1], &[0, 1], -1.0, PrfOptions::new()),
            Err(Error::InvalidParameter { name: "beta", .. })
        ));
        assert!(matches!(
            f1_score(&[0, 1, 2], &[0, 1, 2], PrfOptions::new()),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            f1_score(&["a", "b"], &["a", "b"], PrfOptions::new()),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn zero_division_policies() {
        // class 2 never predicted and never true with labels=[2]: 0/0 everywhere
        let run = |zd| {
            precision_score(
                &[0, 1],
                &[0, 1],
                PrfOptions::new().average(Average::Macro).labels([2]).zero_division(zd),
            )
            .unwrap()
        };
        assert_eq!(run(ZeroDivision::Warn), 0.0);
        assert_eq!(run(ZeroDivision::One), 1.0);
        assert!(run(ZeroDivision::NaN).is_nan());
    }

    #[test]
    fn kappa_quadratic_by_hand() {
        // C = [[1, 1], [0, 2]] (y1 rows), E = outer([1, 3], [2, 2]) / 4 = [[.5, .5], [1.5, 1.5]]
        // W = [[0, 1], [1, 0]]: kappa = 1 - 1 / 2 = 0.5 (linear = quadratic for 2 classes)
        let k = cohen_kappa_score(
            &[0, 0, 1, 1],
            &[0, 1, 1, 1],
            CohenKappaOptions::new().weights(KappaWeights::Quadratic),
        );
        assert!((k.unwrap() - 0.5).abs() < 1e-15);
        let undefined =
            cohen_kappa_score(&[3, 3], &[3, 3], CohenKappaOptions::new().replace_undefined_by(-1.0));
        assert_eq!(undefined.unwrap(), -1.0);
    }
}
