//! Streaming classification metrics computed from confusion counts.
//!
//! Every type here accumulates one `C x C` confusion matrix (`C` = number of classes,
//! fixed by the first batch or by `n_classes`): memory `C²` numbers, independent of
//! the number of samples, and the value after any split into batches equals the value
//! on the concatenated data (the same scikit-learn function on the targets and the
//! decoded predictions).

use std::marker::PhantomData;

use ndarray::ArrayViewD;

use crate::error::{Error, Result};
use crate::metrics::classification::{accuracy_from_counts, hamming_from_counts};
use crate::metrics::confusion::ConfusionMatrix;
use crate::metrics::counts::{self, Counts};
use crate::metrics::decode::{as_matrix, check_classes, check_no_nan, check_targets, decode_row, no_samples};
use crate::metrics::report::{ClassificationReport, report_from_counts};
use crate::metrics::{Average, KappaWeights, Metric, ZeroDivision};
use crate::tensor::Float;

/// Options of the counts-based streaming metrics (set through [`ClassMetricBuilder`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClassOptions {
    pub threshold: f64,
    pub n_classes: Option<usize>,
    pub average: Average,
    pub pos_label: usize,
    pub labels: Option<Vec<usize>>,
    pub zero_division: ZeroDivision,
    pub beta: f64,
    pub adjusted: bool,
    pub weights: KappaWeights,
}

impl Default for ClassOptions {
    fn default() -> Self {
        ClassOptions {
            threshold: 0.0,
            n_classes: None,
            average: Average::Binary,
            pos_label: 1,
            labels: None,
            zero_division: ZeroDivision::Warn,
            beta: 1.0,
            adjusted: false,
            weights: KappaWeights::None,
        }
    }
}

impl ClassOptions {
    fn validate(&self) -> Result<()> {
        if !self.threshold.is_finite() {
            return Err(Error::InvalidParameter {
                name: "threshold",
                value: self.threshold,
                expected: "a finite number",
            });
        }
        if let Some(n) = self.n_classes {
            if n < 2 {
                return Err(Error::InvalidParameter { name: "n_classes", value: n as f64, expected: ">= 2" });
            }
            if self.pos_label >= n {
                return Err(Error::InvalidParameter {
                    name: "pos_label",
                    value: self.pos_label as f64,
                    expected: "a class index below n_classes",
                });
            }
            if let Some(&bad) = self.labels.iter().flatten().find(|&&l| l >= n) {
                return Err(Error::InvalidParameter {
                    name: "labels",
                    value: bad as f64,
                    expected: "class indices below n_classes",
                });
            }
        }
        if self.labels.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::invalid_config("labels must contain at least one class"));
        }
        if self.beta.is_nan() || self.beta < 0.0 {
            return Err(Error::InvalidParameter { name: "beta", value: self.beta, expected: ">= 0" });
        }
        Ok(())
    }
}

/// The confusion counts of a streaming metric (empty until the first batch).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Acc {
    counts: Option<Counts>,
}

impl Acc {
    pub fn update<F: Float>(
        &mut self,
        op: &'static str,
        o: &ClassOptions,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, usize>,
    ) -> Result<()> {
        let m = as_matrix(op, pred)?;
        let c = check_classes(op, o.n_classes, self.counts.as_ref().map(Counts::n_classes), m.ncols())?;
        check_no_nan(op, &m)?;
        check_targets(op, &target, m.nrows(), c)?;
        let counts = self.counts.get_or_insert_with(|| Counts::new(c));
        for (row, &t) in m.rows().into_iter().zip(target.iter()) {
            counts.add(t, decode_row(row, o.threshold), 1.0);
        }
        Ok(())
    }

    pub fn counts(&self, op: &'static str) -> Result<&Counts> {
        match &self.counts {
            Some(c) if !c.is_empty() => Ok(c),
            _ => Err(no_samples(op)),
        }
    }

    pub fn reset(&mut self) {
        self.counts = None;
    }
}

fn idx_names(idx: &[usize]) -> String {
    format!("{idx:?}")
}

/// Classes selected by `labels` (checked against the number of classes).
fn labels_sel(
    op: &'static str,
    c: &Counts,
    labels: &Option<Vec<usize>>,
) -> Result<Option<Vec<Option<usize>>>> {
    match labels {
        None => Ok(None),
        Some(ls) => {
            if let Some(&bad) = ls.iter().find(|&&l| l >= c.n_classes()) {
                return Err(Error::LabelOutOfRange { op, label: bad, n_classes: c.n_classes() });
            }
            Ok(Some(ls.iter().map(|&l| Some(l)).collect()))
        }
    }
}

fn setwise_stats(op: &'static str, c: &Counts, o: &ClassOptions) -> Result<Vec<counts::ClassStat>> {
    if o.average == Average::Binary && o.pos_label >= c.n_classes() {
        return Err(Error::LabelOutOfRange { op, label: o.pos_label, n_classes: c.n_classes() });
    }
    let labels = labels_sel(op, c, &o.labels)?;
    let sel = c.setwise_labels(
        op,
        Some(o.average),
        Some(o.pos_label),
        &o.pos_label.to_string(),
        labels,
        &idx_names,
    )?;
    Ok(c.stats(&sel))
}

fn present_or_labels(
    op: &'static str,
    c: &Counts,
    labels: &Option<Vec<usize>>,
) -> Result<Vec<Option<usize>>> {
    Ok(match labels_sel(op, c, labels)? {
        Some(sel) => sel,
        None => c.present_selection(),
    })
}

mod sealed {
    pub trait Sealed {}
}

/// A counts-based streaming metric built by [`ClassMetricBuilder`].
pub trait ClassMetric: sealed::Sealed + Sized {
    #[doc(hidden)]
    fn from_options(o: ClassOptionsHandle) -> Self;
}

/// Counts-based metrics that score a set of classes (precision, recall, F-scores,
/// Jaccard) and take `average`, `pos_label` and `zero_division`.
pub trait SetWiseMetric: ClassMetric {}

/// Metrics that take a `labels` subset (set-wise metrics and Cohen's kappa).
pub trait LabelsMetric: ClassMetric {}

/// Opaque validated options passed to [`ClassMetric::from_options`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct ClassOptionsHandle(ClassOptions);

/// Builder of the counts-based streaming metrics ([`Accuracy`], [`Precision`],
/// [`Recall`], [`F1Score`], [`FBeta`], [`Jaccard`], [`BalancedAccuracy`],
/// [`MatthewsCorrCoef`], [`CohenKappa`], [`HammingLoss`], [`ClassCounts`]); setters
/// that do not apply to a metric do not exist for it. [`build`](Self::build)
/// validates.
///
/// | option | default | range | metrics |
/// |---|---|---|---|
/// | `threshold` | `0.0` (logits) | finite | all: one-column outputs are class 1 iff `score > threshold` |
/// | `n_classes` | from the first batch | `>= 2` | all |
/// | `average` | [`Average::Binary`] | | set-wise |
/// | `pos_label` | `1` | `< n_classes` | set-wise, with `Binary` |
/// | `labels` | classes present | indices `< n_classes` | set-wise, [`CohenKappa`] |
/// | `zero_division` | [`ZeroDivision::Warn`] (0) | | set-wise |
/// | `beta` | `1.0` | `>= 0` | [`FBeta`] |
/// | `adjusted` | `false` | | [`BalancedAccuracy`] |
/// | `weights` | [`KappaWeights::None`] | | [`CohenKappa`] |
#[derive(Clone, Debug)]
pub struct ClassMetricBuilder<M> {
    o: ClassOptions,
    _m: PhantomData<fn() -> M>,
}

impl<M: ClassMetric> ClassMetricBuilder<M> {
    fn new(o: ClassOptions) -> Self {
        ClassMetricBuilder { o, _m: PhantomData }
    }
    /// Decision threshold for one-column outputs (default `0.0`, right for logits; use
    /// `0.5` for probabilities).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.o.threshold = threshold;
        self
    }
    /// Number of classes (default: the output width of the first batch; 2 for
    /// one-column outputs). Every batch must then match.
    pub fn n_classes(mut self, n_classes: usize) -> Self {
        self.o.n_classes = Some(n_classes);
        self
    }
    /// Validates and builds the metric.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `threshold`, `n_classes < 2`, a
    /// `pos_label` or `labels` entry `>= n_classes`, `beta < 0`;
    /// [`Error::InvalidConfig`] for an empty `labels`.
    pub fn build(self) -> Result<M> {
        self.o.validate()?;
        Ok(M::from_options(ClassOptionsHandle(self.o)))
    }
}

impl<M: SetWiseMetric> ClassMetricBuilder<M> {
    /// Averaging over classes (default [`Average::Binary`]).
    pub fn average(mut self, average: Average) -> Self {
        self.o.average = average;
        self
    }
    /// Positive class index for [`Average::Binary`] (default 1).
    pub fn pos_label(mut self, pos_label: usize) -> Self {
        self.o.pos_label = pos_label;
        self
    }
    /// Value of `0/0` (default [`ZeroDivision::Warn`], i.e. 0).
    pub fn zero_division(mut self, zero_division: ZeroDivision) -> Self {
        self.o.zero_division = zero_division;
        self
    }
}

impl<M: LabelsMetric> ClassMetricBuilder<M> {
    /// The classes to score / average over, in order (default: the classes present in
    /// targets or predictions, as scikit-learn).
    pub fn labels(mut self, labels: impl IntoIterator<Item = usize>) -> Self {
        self.o.labels = Some(labels.into_iter().collect());
        self
    }
}

impl ClassMetricBuilder<FBeta> {
    /// `β`: recall is `β` times as important as precision (default 1).
    pub fn beta(mut self, beta: f64) -> Self {
        self.o.beta = beta;
        self
    }
}

impl ClassMetricBuilder<BalancedAccuracy> {
    /// Rescale so that chance scores 0 (default `false`).
    pub fn adjusted(mut self, adjusted: bool) -> Self {
        self.o.adjusted = adjusted;
        self
    }
}

impl ClassMetricBuilder<CohenKappa> {
    /// Disagreement weighting (default unweighted).
    pub fn weights(mut self, weights: KappaWeights) -> Self {
        self.o.weights = weights;
        self
    }
}

/// Shared fields and trait plumbing of the counts-based metrics (with `default`: a
/// `Default` that calls `new()`).
macro_rules! class_metric {
    ($ty:ident, $op:expr) => {
        impl sealed::Sealed for $ty {}

        impl ClassMetric for $ty {
            fn from_options(o: ClassOptionsHandle) -> Self {
                let name = $ty::metric_name(&o.0);
                $ty { o: o.0, acc: Acc::default(), name }
            }
        }

        impl $ty {
            /// A builder with scikit-learn's defaults; see [`ClassMetricBuilder`].
            pub fn builder() -> ClassMetricBuilder<$ty> {
                ClassMetricBuilder::new(ClassOptions::default())
            }

            #[allow(dead_code)] // FBeta has no infallible shortcut constructor
            fn with(o: ClassOptions) -> Self {
                Self::from_options(ClassOptionsHandle(o))
            }

            /// The accumulated confusion matrix over classes `0..C` (every class, even
            /// those never seen).
            ///
            /// # Errors
            /// [`Error::EmptyInput`] before the first sample.
            pub fn confusion_matrix(&self) -> Result<ConfusionMatrix<usize>> {
                let c = self.acc.counts($op)?;
                let all: Vec<Option<usize>> = (0..c.n_classes()).map(Some).collect();
                ConfusionMatrix::from_counts((0..c.n_classes()).collect(), c.matrix(&all))
            }
        }

        impl<F: Float> Metric<F, usize> for $ty {
            fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<()> {
                self.acc.update($op, &self.o, pred, target)
            }
            fn compute(&self) -> Result<f64> {
                self.value()
            }
            fn reset(&mut self) {
                self.acc.reset();
            }
            fn name(&self) -> &str {
                &self.name
            }
        }

        crate::metrics::inherent_metric_api!($ty, usize);
    };
    ($ty:ident, $op:expr, default) => {
        class_metric!($ty, $op);
        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

macro_rules! averaged_constructors {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!("Binary ", $what, " of class 1 (scikit-learn's default `average=\"binary\"`); key without suffix.")]
            pub fn binary() -> Self {
                Self::new(Average::Binary)
            }
            #[doc = concat!("Unweighted mean of per-class ", $what, " (`average=\"macro\"`).")]
            pub fn macro_average() -> Self {
                Self::new(Average::Macro)
            }
            #[doc = concat!($what, " of pooled counts (`average=\"micro\"`).")]
            pub fn micro_average() -> Self {
                Self::new(Average::Micro)
            }
            #[doc = concat!("Support-weighted mean of per-class ", $what, " (`average=\"weighted\"`).")]
            pub fn weighted_average() -> Self {
                Self::new(Average::Weighted)
            }
            #[doc = concat!($what, " with the given averaging and otherwise default options.")]
            pub fn new(average: Average) -> Self {
                Self::with(ClassOptions { average, ..ClassOptions::default() })
            }
        }
        impl SetWiseMetric for $ty {}
        impl LabelsMetric for $ty {}
    };
}

// ---------------------------------------------------------------------------------

/// Streaming accuracy, the fraction of correct predictions
/// (`sklearn.metrics.accuracy_score`); key `"accuracy"`.
///
/// Predictions: argmax of `[N, C]` outputs, `score > threshold` for `[N]` / `[N, 1]`
/// (threshold 0 by default: logits). Memory: a `C x C` confusion matrix.
///
/// # Errors
/// `update`: [`Error::ShapeMismatch`] (output not `[N]` / `[N, C]`, or a class count
/// different from earlier batches or `n_classes`), [`Error::LengthMismatch`],
/// [`Error::LabelOutOfRange`], [`Error::NonFinite`] (NaN outputs); `compute`:
/// [`Error::EmptyInput`] before any sample.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::Accuracy;
/// use ndtrain::prelude::*;
///
/// let mut acc = Accuracy::new();
/// let logits = array![[2.0, 0.1, 0.3], [0.2, 0.1, 1.5]];
/// acc.update(logits.view().into_dyn(), array![0usize, 1].view().into_dyn())?;
/// assert_eq!(acc.compute()?, 0.5);
/// // probabilities of class 1, thresholded at 0.5
/// let mut acc = Accuracy::builder().threshold(0.5).build()?;
/// acc.update(array![0.9f32, 0.4, 0.7].view().into_dyn(), array![1usize, 0, 0].view().into_dyn())?;
/// assert!((acc.compute()? - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Accuracy {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl Accuracy {
    /// Accuracy with default options.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(_o: &ClassOptions) -> String {
        "accuracy".into()
    }
    fn value(&self) -> Result<f64> {
        accuracy_from_counts("Accuracy::compute", self.acc.counts("Accuracy::compute")?, true)
    }
}
class_metric!(Accuracy, "Accuracy", default);

macro_rules! prf_metric {
    ($(#[$doc:meta])* $ty:ident, $prefix:literal, $which:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $ty {
            o: ClassOptions,
            acc: Acc,
            name: String,
        }
        impl $ty {
            fn metric_name(o: &ClassOptions) -> String {
                format!("{}{}", $prefix, o.average.suffix())
            }
            fn value(&self) -> Result<f64> {
                const OP: &str = concat!(stringify!($ty), "::compute");
                let stats = setwise_stats(OP, self.acc.counts(OP)?, &self.o)?;
                Ok(counts::prf_average(&stats, self.o.average, self.o.beta, self.o.zero_division)[$which])
            }
        }
        class_metric!($ty, stringify!($ty));
        averaged_constructors!($ty, $what);
    };
}

prf_metric!(
    /// Streaming precision `tp / (tp + fp)` (`sklearn.metrics.precision_score`); keys
    /// `"precision"` (binary), `"precision_macro"`, `"precision_micro"`,
    /// `"precision_weighted"`.
    ///
    /// Predictions are decoded as in [`Accuracy`]; memory a `C x C` confusion matrix.
    /// Averages cover the classes present in targets or predictions (or `labels`).
    ///
    /// # Errors
    /// `update` as [`Accuracy`]; `compute`: [`Error::EmptyInput`], and for
    /// [`Average::Binary`] [`Error::InvalidInput`] when more than two classes occur or
    /// class `pos_label` does not occur while two others do.
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Precision;
    /// use ndtrain::prelude::*;
    ///
    /// let mut p = Precision::macro_average();
    /// let out = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
    /// p.update(out.view().into_dyn(), array![0usize, 1, 1].view().into_dyn())?;
    /// // class 0: 1/2, class 1: 1/1
    /// assert_eq!(p.compute()?, 0.75);
    /// assert_eq!(p.name(), "precision_macro");
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    Precision, "precision", 0, "precision"
);

prf_metric!(
    /// Streaming recall `tp / (tp + fn)` (`sklearn.metrics.recall_score`); keys
    /// `"recall"`, `"recall_macro"`, `"recall_micro"`, `"recall_weighted"`. Options and
    /// errors as [`Precision`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Recall;
    /// use ndtrain::prelude::*;
    ///
    /// let mut r = Recall::binary();
    /// // one logit per sample: class 1 iff logit > 0
    /// r.update(array![1.2, -0.3, 0.4, -2.0].view().into_dyn(), array![1usize, 1, 0, 0].view().into_dyn())?;
    /// assert_eq!(r.compute()?, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    Recall, "recall", 1, "recall"
);

prf_metric!(
    /// Streaming F1 score `2 tp / (2 tp + fp + fn)` (`sklearn.metrics.f1_score`); keys
    /// `"f1"` (binary), `"f1_macro"`, `"f1_micro"`, `"f1_weighted"`. Options and errors
    /// as [`Precision`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::F1Score;
    /// use ndtrain::prelude::*;
    ///
    /// let mut f1 = F1Score::macro_average();
    /// let out = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
    /// f1.update(out.view().into_dyn(), array![0usize, 1, 1].view().into_dyn())?;
    /// // class 0: 2/3, class 1: 2/3
    /// assert!((f1.compute()? - 2.0 / 3.0).abs() < 1e-15);
    /// assert_eq!(f1.name(), "f1_macro");
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    F1Score, "f1", 2, "F1"
);

/// Streaming F-beta score (`sklearn.metrics.fbeta_score`); keys `"f{beta}"` plus the
/// average suffix (`"f2"`, `"f0.5_macro"`). Options and errors as [`Precision`], plus
/// `beta` (`>= 0`, default 1) set through the builder.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::{FBeta, Average};
/// use ndtrain::prelude::*;
///
/// let mut f = FBeta::builder().beta(0.5).average(Average::Macro).build()?;
/// assert_eq!(f.name(), "f0.5_macro");
/// f.update(array![[0.9, 0.1], [0.2, 0.8]].view().into_dyn(), array![0usize, 1].view().into_dyn())?;
/// assert_eq!(f.compute()?, 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FBeta {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl FBeta {
    /// Binary F-beta of class 1 with the given `beta`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `beta < 0` or NaN.
    pub fn new(beta: f64) -> Result<Self> {
        Self::builder().beta(beta).build()
    }
    fn metric_name(o: &ClassOptions) -> String {
        format!("f{}{}", o.beta, o.average.suffix())
    }
    fn value(&self) -> Result<f64> {
        const OP: &str = "FBeta::compute";
        let stats = setwise_stats(OP, self.acc.counts(OP)?, &self.o)?;
        Ok(counts::prf_average(&stats, self.o.average, self.o.beta, self.o.zero_division)[2])
    }
}
class_metric!(FBeta, "FBeta");
impl SetWiseMetric for FBeta {}
impl LabelsMetric for FBeta {}

/// Streaming Jaccard index `tp / (tp + fp + fn)` (`sklearn.metrics.jaccard_score`);
/// keys `"jaccard"`, `"jaccard_macro"`, ... Options and errors as [`Precision`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::Jaccard;
/// use ndtrain::prelude::*;
///
/// let mut j = Jaccard::binary();
/// j.update(array![1.0, 1.0, -1.0, 1.0].view().into_dyn(), array![1usize, 1, 1, 0].view().into_dyn())?;
/// assert_eq!(j.compute()?, 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Jaccard {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl Jaccard {
    fn metric_name(o: &ClassOptions) -> String {
        format!("jaccard{}", o.average.suffix())
    }
    fn value(&self) -> Result<f64> {
        const OP: &str = "Jaccard::compute";
        let stats = setwise_stats(OP, self.acc.counts(OP)?, &self.o)?;
        Ok(counts::jaccard_average(&stats, self.o.average, self.o.zero_division))
    }
}
class_metric!(Jaccard, "Jaccard");
averaged_constructors!(Jaccard, "Jaccard index");

/// Streaming balanced accuracy, the mean per-class recall over classes present in the
/// targets (`sklearn.metrics.balanced_accuracy_score`); key `"balanced_accuracy"`
/// (`"balanced_accuracy_adjusted"` with `adjusted`). Errors as [`Accuracy`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::BalancedAccuracy;
/// use ndtrain::prelude::*;
///
/// let mut b = BalancedAccuracy::new();
/// b.update(array![[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]].view().into_dyn(), array![0usize, 0, 1].view().into_dyn())?;
/// assert_eq!(b.compute()?, 0.75);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BalancedAccuracy {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl BalancedAccuracy {
    /// Balanced accuracy with default options.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(o: &ClassOptions) -> String {
        if o.adjusted { "balanced_accuracy_adjusted".into() } else { "balanced_accuracy".into() }
    }
    fn value(&self) -> Result<f64> {
        const OP: &str = "BalancedAccuracy::compute";
        let c = self.acc.counts(OP)?;
        let sel = c.present_selection();
        Ok(counts::balanced_accuracy(&c.matrix(&sel), self.o.adjusted))
    }
}
class_metric!(BalancedAccuracy, "BalancedAccuracy", default);

/// Streaming Matthews correlation coefficient (`sklearn.metrics.matthews_corrcoef`);
/// key `"matthews_corrcoef"`. 0 when undefined. Errors as [`Accuracy`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::MatthewsCorrCoef;
/// use ndtrain::prelude::*;
///
/// let mut m = MatthewsCorrCoef::new();
/// m.update(array![1.0, -1.0, 1.0, -1.0].view().into_dyn(), array![1usize, 0, 1, 0].view().into_dyn())?;
/// assert_eq!(m.compute()?, 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "MCC")]
#[derive(Clone, Debug)]
pub struct MatthewsCorrCoef {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl MatthewsCorrCoef {
    /// MCC with default options.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(_o: &ClassOptions) -> String {
        "matthews_corrcoef".into()
    }
    fn value(&self) -> Result<f64> {
        const OP: &str = "MatthewsCorrCoef::compute";
        let c = self.acc.counts(OP)?;
        let sel = c.present_selection();
        Ok(counts::mcc(&c.matrix(&sel)))
    }
}
class_metric!(MatthewsCorrCoef, "MatthewsCorrCoef", default);

/// Streaming Cohen's kappa between targets and predictions
/// (`sklearn.metrics.cohen_kappa_score(y_true, y_pred)`); key `"cohen_kappa"`
/// (`"cohen_kappa_linear"`, `"cohen_kappa_quadratic"`). Weighting distances are
/// between positions among the classes present (or `labels`), as scikit-learn. NaN
/// when undefined. Errors as [`Accuracy`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::{CohenKappa, KappaWeights};
/// use ndtrain::prelude::*;
///
/// let mut k = CohenKappa::builder().weights(KappaWeights::Quadratic).build()?;
/// k.update(array![[0.9, 0.1], [0.2, 0.8]].view().into_dyn(), array![0usize, 1].view().into_dyn())?;
/// assert_eq!(k.compute()?, 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CohenKappa {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl CohenKappa {
    /// Unweighted kappa.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(o: &ClassOptions) -> String {
        match o.weights {
            KappaWeights::None => "cohen_kappa".into(),
            KappaWeights::Linear => "cohen_kappa_linear".into(),
            KappaWeights::Quadratic => "cohen_kappa_quadratic".into(),
        }
    }
    fn value(&self) -> Result<f64> {
        const OP: &str = "CohenKappa::compute";
        let c = self.acc.counts(OP)?;
        let sel = present_or_labels(OP, c, &self.o.labels)?;
        if self.o.labels.is_some() && !sel.iter().flatten().any(|&i| c.in_true(i)) {
            return Err(Error::invalid_input(OP, "At least one label specified must be in the targets"));
        }
        Ok(counts::kappa(&c.matrix(&sel), self.o.weights, f64::NAN))
    }
}
class_metric!(CohenKappa, "CohenKappa", default);
impl LabelsMetric for CohenKappa {}

/// Streaming Hamming loss, the fraction of wrong predictions
/// (`sklearn.metrics.hamming_loss`); key `"hamming_loss"`. Errors as [`Accuracy`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::HammingLoss;
/// use ndtrain::prelude::*;
///
/// let mut h = HammingLoss::new();
/// h.update(array![1.0, -1.0, 1.0, 1.0].view().into_dyn(), array![1usize, 0, 0, 1].view().into_dyn())?;
/// assert_eq!(h.compute()?, 0.25);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HammingLoss {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl HammingLoss {
    /// Hamming loss with default options.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(_o: &ClassOptions) -> String {
        "hamming_loss".into()
    }
    fn value(&self) -> Result<f64> {
        hamming_from_counts("HammingLoss::compute", self.acc.counts("HammingLoss::compute")?)
    }
}
class_metric!(HammingLoss, "HammingLoss", default);

/// Streaming confusion counts: accumulate once, then read the
/// [`confusion_matrix`](Self::confusion_matrix), a
/// [`classification_report`](Self::classification_report), or any counts-based score.
///
/// As a [`Metric`] its value is the accuracy (the one scalar every confusion matrix
/// defines) under the key `"confusion_matrix"`; use it in evaluation loops where the
/// matrix itself is wanted. Memory: `C x C` numbers. Errors as [`Accuracy`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::ClassCounts;
/// use ndtrain::prelude::*;
///
/// let mut cc = ClassCounts::new();
/// let out = array![[2.0, 0.1, 0.3], [0.2, 0.1, 1.5], [0.0, 3.0, 1.0]];
/// cc.update(out.view().into_dyn(), array![0usize, 1, 1].view().into_dyn())?;
/// let cm = cc.confusion_matrix()?;
/// assert_eq!(cm.values()[[1, 2]], 1.0);
/// print!("{cm}\n{}", cc.classification_report(2)?);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClassCounts {
    o: ClassOptions,
    acc: Acc,
    name: String,
}

impl ClassCounts {
    /// Empty counts.
    pub fn new() -> Self {
        Self::with(ClassOptions::default())
    }
    fn metric_name(_o: &ClassOptions) -> String {
        "confusion_matrix".into()
    }
    fn value(&self) -> Result<f64> {
        accuracy_from_counts("ClassCounts::compute", self.acc.counts("ClassCounts::compute")?, true)
    }

    /// Per-class precision, recall, F1 and support over the classes present (as
    /// scikit-learn's `classification_report(targets, predictions)`), class names
    /// `"0"`, `"1"`, ...
    ///
    /// # Errors
    /// [`Error::EmptyInput`] before the first sample.
    pub fn classification_report(&self, digits: usize) -> Result<ClassificationReport> {
        let c = self.acc.counts("ClassCounts::classification_report")?;
        let present = c.present_indices();
        let names = present.iter().map(|i| i.to_string()).collect();
        let sel: Vec<Option<usize>> = present.into_iter().map(Some).collect();
        Ok(report_from_counts(c, &sel, names, ZeroDivision::Warn, true, digits))
    }
}
class_metric!(ClassCounts, "ClassCounts", default);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn upd<M: Metric<f64, usize>>(m: &mut M, p: ndarray::ArrayD<f64>, t: &[usize]) -> Result<()> {
        m.update(p.view(), ndarray::ArrayView1::from(t).into_dyn())
    }

    #[test]
    fn invalid_hyper_parameters() {
        assert!(matches!(
            Accuracy::builder().threshold(f64::NAN).build(),
            Err(Error::InvalidParameter { name: "threshold", .. })
        ));
        assert!(matches!(
            Accuracy::builder().n_classes(1).build(),
            Err(Error::InvalidParameter { name: "n_classes", .. })
        ));
        assert!(matches!(FBeta::new(-0.5), Err(Error::InvalidParameter { name: "beta", .. })));
        assert!(matches!(
            Precision::builder().n_classes(3).pos_label(3).build(),
            Err(Error::InvalidParameter { name: "pos_label", .. })
        ));
        assert!(matches!(Recall::builder().labels([]).build(), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn names() {
        assert_eq!(Metric::<f64, usize>::name(&F1Score::binary()), "f1");
        assert_eq!(Metric::<f64, usize>::name(&F1Score::weighted_average()), "f1_weighted");
        assert_eq!(Metric::<f32, usize>::name(&Precision::micro_average()), "precision_micro");
        assert_eq!(Metric::<f64, usize>::name(&FBeta::new(2.0).unwrap()), "f2");
        assert_eq!(Metric::<f64, usize>::name(&Jaccard::macro_average()), "jaccard_macro");
    }

    #[test]
    fn failed_update_leaves_state_unchanged() {
        let mut a = Accuracy::new();
        upd(&mut a, array![[1.0, 0.0], [0.0, 1.0]].into_dyn(), &[0, 0]).unwrap();
        let before = a.clone();
        assert!(matches!(
            upd(&mut a, array![[1.0, 0.0]].into_dyn(), &[2]),
            Err(Error::LabelOutOfRange { .. })
        ));
        assert!(matches!(
            upd(&mut a, array![[1.0, 0.0, 0.0]].into_dyn(), &[0]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            upd(&mut a, array![[f64::NAN, 0.0]].into_dyn(), &[0]),
            Err(Error::NonFinite { .. })
        ));
        assert_eq!(a.acc, before.acc);
        assert_eq!(a.compute().unwrap(), 0.5);
        Metric::<f64, usize>::reset(&mut a);
        assert!(matches!(a.compute(), Err(Error::EmptyInput { .. })));
    }

    #[test]
    fn binary_on_multiclass_is_an_error() {
        let mut p = Precision::binary();
        upd(&mut p, array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]].into_dyn(), &[0, 1, 2])
            .unwrap();
        assert!(matches!(p.compute(), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn public_types_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Accuracy>();
        check::<F1Score>();
        check::<ClassCounts>();
        check::<ClassMetricBuilder<Precision>>();
        check::<crate::metrics::RocAuc>();
        check::<crate::metrics::LogLoss>();
        check::<crate::metrics::R2>();
        check::<crate::metrics::MedianAbsoluteError>();
        check::<ConfusionMatrix<String>>();
        check::<ClassificationReport>();
        check::<crate::metrics::PrfOptions<'static, String>>();
        check::<crate::metrics::RegressionOptions<'static>>();
    }

    #[test]
    fn class_counts_report_and_matrix() {
        let mut cc = ClassCounts::new();
        // targets [0, 1, 1, 2], predictions [0, 1, 2, 2]
        let out = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]];
        upd(&mut cc, out.into_dyn(), &[0, 1, 1, 2]).unwrap();
        let cm = cc.confusion_matrix().unwrap();
        assert_eq!(cm.values(), array![[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]);
        let r = cc.classification_report(3).unwrap();
        assert_eq!(r.accuracy, Some(0.75));
        assert_eq!(r.classes[2].precision, 0.5);
        assert_eq!(r.support, 4.0);
        assert_eq!(cc.compute().unwrap(), 0.75);
        assert_eq!(cc.name(), "confusion_matrix");
    }
}
