//! Metrics: the streaming [`Metric`] trait and sklearn.metrics' functions.
//!
//! Two ways to evaluate:
//!
//! * **Functional** (one call on plain arrays, outside any trainer), with scikit-learn's
//!   names, arguments and defaults: [`accuracy_score`], [`f1_score`], [`roc_auc_score`],
//!   [`confusion_matrix`], [`classification_report`], [`r2_score`], ... Labels are any
//!   [`Label`] type (integers, `String`, `&str`, `char`, `bool`, or your own type); inputs
//!   are anything that views as an array ([`ArrayLike`]: `&Array1`, `ArrayView1`, `&[T]`,
//!   `&Vec<T>`, `&[T; N]`). Keyword arguments live in small options structs with
//!   chainable setters ([`PrfOptions`], [`RegressionOptions`], ...). Every function
//!   returns [`Result`]; scikit-learn's `ValueError`s are `Err`s.
//! * **Streaming** ([`Metric`]): `update` per batch with the raw model output, `compute`
//!   at the end of the epoch. Classification metrics ([`Accuracy`], [`Precision`],
//!   [`Recall`], [`F1Score`], [`FBeta`], [`Jaccard`], [`BalancedAccuracy`],
//!   [`MatthewsCorrCoef`], [`CohenKappa`], [`HammingLoss`], [`ClassCounts`],
//!   [`TopKAccuracy`], [`RocAuc`], [`AveragePrecision`], [`LogLoss`],
//!   [`BrierScoreLoss`]) implement `Metric<F, usize>`; regression metrics ([`Mse`],
//!   [`Rmse`], [`Mae`], [`R2`], [`ExplainedVariance`], [`Mape`], [`Msle`],
//!   [`MedianAbsoluteError`], [`D2AbsoluteError`], [`MaxError`]) implement
//!   `Metric<F, F>`.
//!
//! ## How streaming metrics read model outputs
//!
//! | `pred` shape | classification metrics | score metrics ([`RocAuc`], [`AveragePrecision`], [`LogLoss`], [`BrierScoreLoss`], [`TopKAccuracy`]) |
//! |---|---|---|
//! | `[N, C]`, `C > 1` | class = row argmax (first maximum) | row = class scores (probabilities, or logits with `.from_logits(true)`: softmax) |
//! | `[N]` or `[N, 1]` | class 1 iff score `> threshold` (default `0.0`: logits; `0.5` for probabilities) | probability of class 1 (or a logit with `.from_logits(true)`: sigmoid) |
//!
//! Targets are `[N]` class indices `0..C` (`C = 2` for one-column outputs). Counts-based
//! metrics accumulate a weighted confusion matrix (`C x C` numbers, never a mean of
//! per-batch scores); rank- and median-based metrics keep what they must (each type
//! documents its memory cost). The streamed value equals the one-shot value on the
//! concatenated batches, whatever the batch split.
//!
//! Values are `f64` whatever the training float type, so an `f32` run still reports
//! exact counts-based scores. Each streaming type also has inherent `compute`, `reset`
//! and `name` methods, so `acc.compute()?` works without naming the float type.
//!
//! ## Example
//!
//! ```
//! use ndarray::array;
//! use ndtrain::metrics::{f1_score, Average, F1Score, Metric, PrfOptions};
//!
//! // functional, on labels
//! let f1 = f1_score(&["cat", "dog", "dog"], &["cat", "cat", "dog"], PrfOptions::new().average(Average::Macro))?;
//! // streaming, on raw model outputs (argmax of logits)
//! let mut m = F1Score::macro_average();
//! m.update(array![[2.0, 0.5], [0.9, 0.1]].view().into_dyn(), array![0usize, 1].view().into_dyn())?;
//! m.update(array![[0.2, 1.1]].view().into_dyn(), array![1usize].view().into_dyn())?;
//! assert_eq!(m.compute()?, f1);
//! assert_eq!(m.name(), "f1_macro");
//! # Ok::<(), ndtrain::Error>(())
//! ```
//!
//! ## Deviations from scikit-learn
//!
//! * `average=None` and `multioutput="raw_values"` are separate functions
//!   (`*_per_class`, `*_raw_values`) so every other call returns a plain `f64`.
//! * No warnings are printed: `zero_division="warn"` ([`ZeroDivision::Warn`]) gives 0,
//!   undefined scores give the value scikit-learn returns (NaN, 0, ...), as documented
//!   per function.
//! * Float labels are not supported (labels must be `Ord`); encode them as integers.
//! * [`log_loss`] and [`brier_score_loss`] reject a `y_true` label missing from
//!   `labels` (scikit-learn silently scores it as if no class were true).
//! * Streaming [`RocAuc`] defaults to one-vs-rest (scikit-learn's `roc_auc_score`
//!   raises on multiclass targets unless `multi_class` is set); streaming
//!   [`AveragePrecision`] and [`RocAuc`] treat `C`-column outputs as classes `0..C`
//!   (`labels=range(C)`), and [`TopKAccuracy`] ranks `C = 2` columns like multiclass
//!   scores.

use ndarray::ArrayViewD;

use crate::error::Result;
use crate::tensor::Float;

/// Inherent `compute`, `reset` and `name` for a streaming metric, so callers need not
/// name the float type (`acc.compute()` instead of `Metric::<f64, usize>::compute(&acc)`).
macro_rules! inherent_metric_api {
    ($ty:ident, $y:ty) => {
        impl $ty {
            /// The metric over everything added since the last reset (the same as
            /// [`Metric::compute`](crate::metrics::Metric::compute), callable without
            /// naming the float type).
            ///
            /// # Errors
            /// As [`Metric::compute`](crate::metrics::Metric::compute).
            pub fn compute(&self) -> crate::error::Result<f64> {
                <Self as crate::metrics::Metric<f64, $y>>::compute(self)
            }
            /// Forgets every batch.
            pub fn reset(&mut self) {
                <Self as crate::metrics::Metric<f64, $y>>::reset(self)
            }
            /// The key of this metric in training histories.
            pub fn name(&self) -> &str {
                <Self as crate::metrics::Metric<f64, $y>>::name(self)
            }
        }
    };
}
pub(crate) use inherent_metric_api;

/// The `sample_weight` setter of a functional metric's options struct (a field
/// `sample_weight: Option<ArrayViewD<'w, f64>>` in an `impl<'w, ..>` block); the
/// argument is the doc line (default "One weight per sample.").
macro_rules! sample_weight_setter {
    () => {
        crate::metrics::sample_weight_setter!("One weight per sample.");
    };
    ($doc:literal) => {
        #[doc = $doc]
        pub fn sample_weight(mut self, w: impl crate::metrics::ArrayLike<'w, f64>) -> Self {
            self.sample_weight = Some(crate::metrics::ArrayLike::array_view(w));
            self
        }
    };
}
pub(crate) use sample_weight_setter;

/// The `labels` setter of a functional metric's options struct (a field
/// `labels: Option<Vec<L>>`); the argument is the doc line.
macro_rules! labels_setter {
    ($doc:literal) => {
        #[doc = $doc]
        pub fn labels(mut self, labels: impl IntoIterator<Item = L>) -> Self {
            self.labels = Some(labels.into_iter().collect());
            self
        }
    };
}
pub(crate) use labels_setter;

mod classification;
mod confusion;
mod counts;
mod decode;
mod label;
mod probabilistic;
mod ranking;
mod regression;
mod report;
mod streaming;
mod streaming_regression;
mod streaming_scores;

pub use classification::{
    AccuracyOptions, BalancedAccuracyOptions, CohenKappaOptions, KappaWeights, PrecisionRecallFscoreSupport,
    PrfOptions, accuracy_score, balanced_accuracy_score, cohen_kappa_score, f1_score, f1_score_per_class,
    fbeta_score, fbeta_score_per_class, hamming_loss, jaccard_score, jaccard_score_per_class,
    matthews_corrcoef, precision_recall_fscore_support, precision_score, precision_score_per_class,
    recall_score, recall_score_per_class, zero_one_loss,
};
pub use confusion::{ConfusionMatrix, ConfusionMatrixOptions, Normalize, confusion_matrix};
pub use label::{ArrayLike, Label};
pub use probabilistic::{BrierOptions, LogLossOptions, brier_score_loss, log_loss};
pub use ranking::{
    AveragePrecisionOptions, MultiClass, RocAucOptions, TopKOptions, average_precision_score, roc_auc_score,
    top_k_accuracy_score,
};
pub use regression::{
    MultiOutput, RegressionOptions, d2_absolute_error_score, d2_absolute_error_score_raw_values,
    explained_variance_score, explained_variance_score_raw_values, max_error, mean_absolute_error,
    mean_absolute_error_raw_values, mean_absolute_percentage_error,
    mean_absolute_percentage_error_raw_values, mean_squared_error, mean_squared_error_raw_values,
    mean_squared_log_error, mean_squared_log_error_raw_values, median_absolute_error,
    median_absolute_error_raw_values, r2_score, r2_score_raw_values, root_mean_squared_error,
    root_mean_squared_error_raw_values,
};
pub use report::{ClassificationReport, ReportOptions, ReportRow, classification_report};
pub use streaming::{
    Accuracy, BalancedAccuracy, ClassCounts, ClassMetricBuilder, CohenKappa, F1Score, FBeta, HammingLoss,
    Jaccard, MatthewsCorrCoef, Precision, Recall,
};
pub use streaming_regression::{
    D2AbsoluteError, ExplainedVariance, Mae, Mape, MaxError, MedianAbsoluteError, Mse, Msle, R2,
    RegressionMetricBuilder, Rmse,
};
pub use streaming_scores::{
    AveragePrecision, BrierScoreLoss, LogLoss, RocAuc, ScoreMetricBuilder, TopKAccuracy,
};

/// A streaming evaluation metric over model outputs and targets.
///
/// `pred` is the raw model output for a batch; `target` the batch's targets (`usize`
/// class indices or real values of type `F`).
///
/// # Example: a custom streaming metric (fraction of non-negative predictions)
///
/// ```
/// use ndarray::ArrayViewD;
/// use ndtrain::prelude::*;
///
/// #[derive(Default)]
/// struct NonNegative { hits: u64, total: u64 }
///
/// impl Metric<f64, f64> for NonNegative {
///     fn update(&mut self, pred: ArrayViewD<'_, f64>, _target: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
///         self.hits += pred.iter().filter(|&&p| p >= 0.0).count() as u64;
///         self.total += pred.len() as u64;
///         Ok(())
///     }
///     fn compute(&self) -> ndtrain::Result<f64> { Ok(self.hits as f64 / self.total as f64) }
///     fn reset(&mut self) { *self = Self::default() }
///     fn name(&self) -> &str { "non_negative" }
/// }
///
/// let mut m = NonNegative::default();
/// m.update(ndarray::array![1.0, -1.0].into_dyn().view(), ndarray::array![0.0, 0.0].into_dyn().view())?;
/// m.update(ndarray::array![2.0].into_dyn().view(), ndarray::array![0.0].into_dyn().view())?;
/// assert_eq!(m.compute()?, 2.0 / 3.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Metric<F: Float, Y> {
    /// Adds one batch.
    ///
    /// # Errors
    /// Mismatched lengths, labels out of range, invalid values; on error the metric's
    /// accumulated state is unchanged.
    fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, Y>) -> Result<()>;

    /// The metric over everything added since the last [`reset`](Metric::reset).
    ///
    /// # Errors
    /// [`Error::EmptyInput`](crate::Error::EmptyInput) when nothing was added, and
    /// metric-specific undefined cases.
    fn compute(&self) -> Result<f64>;

    /// Forgets every batch.
    fn reset(&mut self);

    /// Short name used as the key in [`History`](crate::train::History)
    /// (`"accuracy"`, `"f1_macro"`).
    fn name(&self) -> &str;
}

/// How per-class scores are averaged: scikit-learn's `average` argument.
///
/// Per-class results (`average=None` in scikit-learn) come from the `*_per_class`
/// functions ([`precision_score_per_class`], ...) and
/// [`precision_recall_fscore_support`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Average {
    /// Only the positive class (`pos_label`) of a binary problem (scikit-learn's
    /// default for precision, recall, F-scores and Jaccard). A target with more than
    /// two labels is an error.
    #[default]
    Binary,
    /// Global counts: sum true positives, false positives and false negatives over
    /// the classes, then compute the score once.
    Micro,
    /// Unweighted mean of the per-class scores.
    Macro,
    /// Mean of the per-class scores weighted by support (number of true samples).
    Weighted,
}

impl Average {
    /// The suffix used in metric names: `""`, `"_micro"`, `"_macro"`, `"_weighted"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Average::Binary => "",
            Average::Micro => "_micro",
            Average::Macro => "_macro",
            Average::Weighted => "_weighted",
        }
    }

    /// scikit-learn's spelling (`"binary"`, `"micro"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Average::Binary => "binary",
            Average::Micro => "micro",
            Average::Macro => "macro",
            Average::Weighted => "weighted",
        }
    }
}

/// The value a score takes when its denominator is zero (scikit-learn's
/// `zero_division`), e.g. the precision of a class that is never predicted.
///
/// scikit-learn's default `"warn"` gives 0 and emits an `UndefinedMetricWarning`;
/// ndtrain does not print warnings, so [`ZeroDivision::Warn`] is 0 too.
/// With [`ZeroDivision::NaN`] the undefined classes are left out of macro and
/// weighted averages (scikit-learn's behaviour).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ZeroDivision {
    /// 0, as scikit-learn's `"warn"` (the default).
    #[default]
    Warn,
    /// 0.
    Zero,
    /// 1.
    One,
    /// NaN (`np.nan`): undefined classes are skipped by averages.
    #[doc(alias = "nan")]
    NaN,
}

impl ZeroDivision {
    /// The value used for `0 / 0`.
    pub fn value(self) -> f64 {
        match self {
            ZeroDivision::Warn | ZeroDivision::Zero => 0.0,
            ZeroDivision::One => 1.0,
            ZeroDivision::NaN => f64::NAN,
        }
    }
}
