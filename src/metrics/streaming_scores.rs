//! Streaming metrics on scores and probabilities: ROC AUC, average precision, log
//! loss, Brier score and top-k accuracy.
//!
//! Outputs are `[N, C]` class scores or `[N]` / `[N, 1]` scores of class 1. Log loss
//! and the Brier score need probabilities: pass them, or raw logits with
//! `.from_logits(true)` (softmax over `C > 1` columns, sigmoid for one column; then
//! scikit-learn's clipping). ROC AUC and average precision on one-column outputs rank
//! the raw scores (logits and probabilities rank alike); multiclass ROC AUC needs
//! probabilities (or `.from_logits(true)`).

use std::marker::PhantomData;

use ndarray::{Array2, ArrayView2, ArrayViewD, Dimension};

use crate::error::{Error, Result};
use crate::metrics::decode::{as_matrix, check_classes, check_targets, no_samples, proba_row};
use crate::metrics::ranking::{
    MultiClass, average_precision_binary, in_top_k, multiclass_average_precision, multiclass_roc_auc,
    roc_auc_binary,
};
use crate::metrics::{Average, Metric};
use crate::tensor::Float;

/// Options of the score-based streaming metrics (set through [`ScoreMetricBuilder`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ScoreOptions {
    from_logits: bool,
    n_classes: Option<usize>,
    average: Average,
    multi_class: MultiClass,
    max_fpr: Option<f64>,
    k: usize,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            from_logits: false,
            n_classes: None,
            average: Average::Macro,
            multi_class: MultiClass::Ovr,
            max_fpr: None,
            k: 2,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A score-based streaming metric built by [`ScoreMetricBuilder`].
pub trait ScoreMetric: sealed::Sealed + Sized {
    #[doc(hidden)]
    fn from_options(o: ScoreOptionsHandle) -> Result<Self>;
}

/// Opaque options passed to [`ScoreMetric::from_options`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct ScoreOptionsHandle(ScoreOptions);

/// Builder of [`RocAuc`], [`AveragePrecision`], [`LogLoss`], [`BrierScoreLoss`] and
/// [`TopKAccuracy`]; [`build`](Self::build) validates.
///
/// | option | default | range | metrics |
/// |---|---|---|---|
/// | `from_logits` | `false` | | all (no effect on top-k and one-column ranking) |
/// | `n_classes` | from the first batch | `>= 2` | all |
/// | `average` | [`Average::Macro`] | `Macro`, `Weighted`, `Micro` (ovr) | [`RocAuc`], [`AveragePrecision`] |
/// | `multi_class` | [`MultiClass::Ovr`] (scikit-learn: raise) | `Ovr`, `Ovo` | [`RocAuc`] |
/// | `max_fpr` | none | `(0, 1]` | [`RocAuc`] (binary) |
/// | `k` | 2 | `>= 1` | [`TopKAccuracy`] |
#[derive(Clone, Debug)]
pub struct ScoreMetricBuilder<M> {
    o: ScoreOptions,
    _m: PhantomData<fn() -> M>,
}

impl<M: ScoreMetric> ScoreMetricBuilder<M> {
    /// Treat outputs as logits: softmax (`C > 1` columns) or sigmoid (one column)
    /// before computing (default `false`: outputs are probabilities).
    pub fn from_logits(mut self, from_logits: bool) -> Self {
        self.o.from_logits = from_logits;
        self
    }
    /// Number of classes (default: from the first batch; 2 for one column).
    pub fn n_classes(mut self, n_classes: usize) -> Self {
        self.o.n_classes = Some(n_classes);
        self
    }
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `n_classes < 2`, `k = 0`, `max_fpr ∉ (0, 1]`;
    /// [`Error::InvalidConfig`] for an average the metric does not support.
    pub fn build(self) -> Result<M> {
        if let Some(n) = self.o.n_classes {
            if n < 2 {
                return Err(Error::InvalidParameter { name: "n_classes", value: n as f64, expected: ">= 2" });
            }
        }
        if self.o.k == 0 {
            return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: ">= 1" });
        }
        if let Some(m) = self.o.max_fpr {
            if !(m > 0.0 && m <= 1.0) {
                return Err(Error::InvalidParameter { name: "max_fpr", value: m, expected: "(0, 1]" });
            }
        }
        if self.o.average == Average::Binary {
            return Err(Error::invalid_config(
                "average must be Macro, Weighted or Micro for ranking metrics",
            ));
        }
        if self.o.multi_class == MultiClass::Raise {
            return Err(Error::invalid_config("multi_class must be Ovr or Ovo for the streaming RocAuc"));
        }
        M::from_options(ScoreOptionsHandle(self.o))
    }
}

impl ScoreMetricBuilder<RocAuc> {
    /// Averaging over classes of multiclass outputs (default `Macro`).
    pub fn average(mut self, average: Average) -> Self {
        self.o.average = average;
        self
    }
    /// One-vs-rest (default) or one-vs-one.
    pub fn multi_class(mut self, multi_class: MultiClass) -> Self {
        self.o.multi_class = multi_class;
        self
    }
    /// Standardised partial AUC up to this false positive rate (binary only).
    pub fn max_fpr(mut self, max_fpr: f64) -> Self {
        self.o.max_fpr = Some(max_fpr);
        self
    }
}

impl ScoreMetricBuilder<AveragePrecision> {
    /// Averaging over classes of multiclass outputs (default `Macro`).
    pub fn average(mut self, average: Average) -> Self {
        self.o.average = average;
        self
    }
}

impl ScoreMetricBuilder<TopKAccuracy> {
    /// Number of top-scored classes that count as a hit (default 2).
    pub fn k(mut self, k: usize) -> Self {
        self.o.k = k;
        self
    }
}

/// Validates a batch: shape, class count, finite scores, probabilities in `[0, 1]`
/// (when `need_proba` and not from logits), targets. Returns the `[N, C]` view and `C`.
fn check_batch<'a, F: Float>(
    op: &'static str,
    o: &ScoreOptions,
    seen: Option<usize>,
    pred: ArrayViewD<'a, F>,
    target: &ArrayViewD<'_, usize>,
    need_proba: bool,
) -> Result<(ArrayView2<'a, F>, usize)> {
    let m = as_matrix(op, pred)?;
    let c = check_classes(op, o.n_classes, seen, m.ncols())?;
    for ((i, j), v) in m.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite { op, what: "pred", value: v.as_f64(), index: vec![i, j] });
        }
        if need_proba && !o.from_logits && !(F::zero()..=F::one()).contains(v) {
            return Err(Error::InvalidValue {
                op,
                what: "pred",
                value: v.as_f64(),
                expected: "a probability in [0, 1] (or build with .from_logits(true))",
            });
        }
    }
    check_targets(op, target, m.nrows(), c)?;
    Ok((m, c))
}

/// `builder()`, the inherent `compute` / `reset` / `name`, and (with `default`) a
/// `Default` that calls `new()`.
macro_rules! score_metric_common {
    ($ty:ident) => {
        impl sealed::Sealed for $ty {}
        impl $ty {
            /// A builder with the defaults; see [`ScoreMetricBuilder`].
            pub fn builder() -> ScoreMetricBuilder<$ty> {
                ScoreMetricBuilder { o: ScoreOptions::default(), _m: PhantomData }
            }
        }
        crate::metrics::inherent_metric_api!($ty, usize);
    };
    ($ty:ident, default) => {
        score_metric_common!($ty);
        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

// ---------------------------------------------------------------------------------

/// Stored scores and targets of the rank-based metrics (memory `N x C` floats plus `N`
/// targets: a ranking cannot be streamed in constant memory).
#[derive(Clone, Debug, Default, PartialEq)]
struct Stored {
    c: Option<usize>,
    cols: usize,
    scores: Vec<f64>,
    targets: Vec<usize>,
    buf: Vec<f64>,
}

impl Stored {
    fn push<F: Float>(
        &mut self,
        op: &'static str,
        o: &ScoreOptions,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, usize>,
    ) -> Result<()> {
        let (m, c) = check_batch(op, o, self.c, pred, &target, false)?;
        let cols = if m.ncols() == 1 { 1 } else { c };
        if self.c.is_some() && cols != self.cols {
            // one-column scores and per-class probabilities cannot be ranked together
            return Err(Error::ShapeMismatch {
                op,
                expected: vec![0, self.cols],
                got: vec![m.nrows(), m.ncols()],
            });
        }
        self.c = Some(c);
        // one column: the raw score; C columns: probabilities (softmax of logits)
        self.cols = cols;
        for row in m.rows() {
            if row.len() == 1 {
                self.scores.push(row[0].as_f64());
            } else {
                proba_row(row, o.from_logits, &mut self.buf);
                self.scores.extend_from_slice(&self.buf);
            }
        }
        self.targets.extend(target.iter());
        Ok(())
    }

    fn matrix(&self) -> Array2<f64> {
        // invariant: scores.len() == targets.len() * cols (checked in push)
        Array2::from_shape_vec((self.targets.len(), self.cols.max(1)), self.scores.clone())
            .unwrap_or_else(|_| Array2::zeros((0, self.cols.max(1))))
    }

    fn clear(&mut self) {
        self.c = None;
        self.scores.clear();
        self.targets.clear();
    }

    /// The number of classes and the stored `[N, cols]` scores.
    fn scores(&self, op: &'static str) -> Result<(usize, Array2<f64>)> {
        let c = self.c.filter(|_| !self.targets.is_empty()).ok_or_else(|| no_samples(op))?;
        Ok((c, self.matrix()))
    }

    /// Two classes: the binary targets (`t == 1`) and the class-1 scores (last column).
    fn binary(&self, s: &Array2<f64>) -> (Vec<bool>, Vec<f64>) {
        let y: Vec<bool> = self.targets.iter().map(|&t| t == 1).collect();
        (y, s.column(s.ncols() - 1).to_vec())
    }
}

/// `update` (storing the batch), `compute` (`value()`), `reset` and `name` of the
/// rank-based metrics.
macro_rules! stored_metric {
    ($ty:ident) => {
        impl<F: Float> Metric<F, usize> for $ty {
            fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<()> {
                self.st.push(concat!(stringify!($ty), "::update"), &self.o, pred, target)
            }
            fn compute(&self) -> Result<f64> {
                self.value()
            }
            fn reset(&mut self) {
                self.st.clear();
            }
            fn name(&self) -> &str {
                &self.name
            }
        }
    };
}

/// Streaming area under the ROC curve (`sklearn.metrics.roc_auc_score`); key
/// `"roc_auc"` (one-vs-rest macro, the default), `"roc_auc_ovr_weighted"`,
/// `"roc_auc_ovr_micro"`, `"roc_auc_ovo"`, `"roc_auc_ovo_weighted"`.
///
/// * One-column outputs: binary AUC of the raw scores against targets `{0, 1}`
///   (NaN when only one class occurred). `[N, 2]` outputs: AUC of the class-1
///   probability.
/// * `C > 2` columns: multiclass AUC over classes `0..C` (`labels = range(C)`) from
///   probabilities whose rows sum to 1 (or logits with `.from_logits(true)`); a
///   class that never occurs gives NaN (one-vs-rest), as scikit-learn.
///
/// Memory: every score and target (`N x C` floats + `N` indices).
///
/// # Errors
/// `update`: [`Error::ShapeMismatch`], [`Error::LengthMismatch`],
/// [`Error::LabelOutOfRange`], [`Error::NonFinite`] (NaN or infinite scores);
/// `compute`: [`Error::EmptyInput`], [`Error::InvalidInput`] for multiclass rows not
/// summing to 1.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::RocAuc;
/// use ndtrain::prelude::*;
///
/// let mut auc = RocAuc::new();
/// auc.update(array![0.1, 0.4].view().into_dyn(), array![0usize, 0].view().into_dyn())?;
/// auc.update(array![0.35, 0.8].view().into_dyn(), array![1usize, 1].view().into_dyn())?;
/// assert_eq!(auc.compute()?, 0.75);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "AUROC")]
#[derive(Clone, Debug)]
pub struct RocAuc {
    o: ScoreOptions,
    st: Stored,
    name: String,
}

impl RocAuc {
    /// Binary AUC, or one-vs-rest macro AUC for multiclass outputs.
    pub fn new() -> Self {
        RocAuc { o: ScoreOptions::default(), st: Stored::default(), name: "roc_auc".into() }
    }
}
score_metric_common!(RocAuc, default);
impl ScoreMetric for RocAuc {
    fn from_options(o: ScoreOptionsHandle) -> Result<Self> {
        let o = o.0;
        let name = match (o.multi_class, o.average) {
            (MultiClass::Ovo, Average::Micro) => {
                return Err(Error::invalid_config("RocAuc: average Micro is not supported with one-vs-one"));
            }
            (MultiClass::Ovo, Average::Weighted) => "roc_auc_ovo_weighted",
            (MultiClass::Ovo, _) => "roc_auc_ovo",
            (_, Average::Weighted) => "roc_auc_ovr_weighted",
            (_, Average::Micro) => "roc_auc_ovr_micro",
            _ => "roc_auc",
        };
        Ok(RocAuc { o, st: Stored::default(), name: name.into() })
    }
}

impl RocAuc {
    fn value(&self) -> Result<f64> {
        const OP: &str = "RocAuc::compute";
        let (c, s) = self.st.scores(OP)?;
        if c == 2 {
            let (y, col) = self.st.binary(&s);
            return Ok(roc_auc_binary(&y, &col, None, self.o.max_fpr));
        }
        if self.o.max_fpr.is_some_and(|m| m != 1.0) {
            return Err(Error::invalid_input(
                OP,
                "Partial AUC computation not available in multiclass setting",
            ));
        }
        let labels: Vec<usize> = (0..c).collect();
        multiclass_roc_auc(OP, &self.st.targets, &s, Some(&labels), self.o.multi_class, self.o.average, None)
    }
}
stored_metric!(RocAuc);

/// Streaming average precision (`sklearn.metrics.average_precision_score`); key
/// `"average_precision"` (`"_micro"`, `"_weighted"` suffixes).
///
/// One-column outputs: AP of the raw scores for class 1; `[N, 2]`: AP of the class-1
/// probability; `C > 2` columns: one-vs-rest over classes `0..C`, averaged (a class
/// that never occurs scores 0). Memory: every score and target.
///
/// # Errors
/// As [`RocAuc`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::AveragePrecision;
/// use ndtrain::prelude::*;
///
/// let mut ap = AveragePrecision::new();
/// ap.update(array![0.1, 0.4, 0.35, 0.8].view().into_dyn(), array![0usize, 0, 1, 1].view().into_dyn())?;
/// assert!((ap.compute()? - 5.0 / 6.0).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AveragePrecision {
    o: ScoreOptions,
    st: Stored,
    name: String,
}

impl AveragePrecision {
    /// Binary AP, or macro one-vs-rest AP for multiclass outputs.
    pub fn new() -> Self {
        AveragePrecision {
            o: ScoreOptions::default(),
            st: Stored::default(),
            name: "average_precision".into(),
        }
    }
}
score_metric_common!(AveragePrecision, default);
impl ScoreMetric for AveragePrecision {
    fn from_options(o: ScoreOptionsHandle) -> Result<Self> {
        let o = o.0;
        let name = match o.average {
            Average::Micro => "average_precision_micro",
            Average::Weighted => "average_precision_weighted",
            _ => "average_precision",
        };
        Ok(AveragePrecision { o, st: Stored::default(), name: name.into() })
    }
}

impl AveragePrecision {
    fn value(&self) -> Result<f64> {
        const OP: &str = "AveragePrecision::compute";
        let (c, s) = self.st.scores(OP)?;
        if c == 2 {
            let (y, col) = self.st.binary(&s);
            return Ok(average_precision_binary(&y, &col, None));
        }
        let classes: Vec<usize> = (0..c).collect();
        multiclass_average_precision(OP, &self.st.targets, &classes, &s, self.o.average, None)
    }
}
stored_metric!(AveragePrecision);

// ---------------------------------------------------------------------------------

/// Running sum of per-sample values of the probabilities (constant memory).
#[derive(Clone, Debug, Default, PartialEq)]
struct Running {
    c: Option<usize>,
    sum: f64,
    n: u64,
    buf: Vec<f64>,
}

impl Running {
    /// Validates a batch of probabilities (or logits) and adds `f(p, target)` per row,
    /// `p` the row's class probabilities (softmax / sigmoid of logits first).
    fn add<F: Float>(
        &mut self,
        op: &'static str,
        o: &ScoreOptions,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, usize>,
        f: impl Fn(&[f64], usize) -> f64,
    ) -> Result<()> {
        let (m, c) = check_batch(op, o, self.c, pred, &target, true)?;
        self.c = Some(c);
        for (row, &t) in m.rows().into_iter().zip(target.iter()) {
            proba_row(row, o.from_logits, &mut self.buf);
            self.sum += f(&self.buf, t);
            self.n += 1;
        }
        Ok(())
    }

    fn mean(&self, op: &'static str) -> Result<f64> {
        if self.n == 0 {
            return Err(no_samples(op));
        }
        Ok(self.sum / self.n as f64)
    }
}

/// Streaming log loss (`sklearn.metrics.log_loss` with `labels = 0..C`); key
/// `"log_loss"`.
///
/// `L = −(1/N) Σᵢ log clip(p[i, yᵢ], ε, 1 − ε)`, `ε` the machine epsilon of `F`.
/// Outputs are probabilities (`[N]`: of class 1), or logits with `.from_logits(true)`
/// (softmax / sigmoid first). Memory: a running sum.
///
/// # Errors
/// `update`: as [`RocAuc`], plus [`Error::InvalidValue`] for probabilities outside
/// `[0, 1]`; `compute`: [`Error::EmptyInput`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::LogLoss;
/// use ndtrain::prelude::*;
///
/// let mut ll = LogLoss::builder().from_logits(true).build()?;
/// ll.update(array![[0.0, 0.0]].view().into_dyn(), array![1usize].view().into_dyn())?;
/// assert!((ll.compute()? - std::f64::consts::LN_2).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "cross_entropy")]
#[derive(Clone, Debug)]
pub struct LogLoss {
    o: ScoreOptions,
    r: Running,
}

impl LogLoss {
    /// Log loss of probabilities.
    pub fn new() -> Self {
        LogLoss { o: ScoreOptions::default(), r: Running::default() }
    }
}
score_metric_common!(LogLoss, default);
impl ScoreMetric for LogLoss {
    fn from_options(o: ScoreOptionsHandle) -> Result<Self> {
        Ok(LogLoss { o: o.0, r: Running::default() })
    }
}

impl<F: Float> Metric<F, usize> for LogLoss {
    fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<()> {
        let eps = F::epsilon().as_f64();
        self.r.add("LogLoss::update", &self.o, pred, target, |p, t| -p[t].clamp(eps, 1.0 - eps).ln())
    }
    fn compute(&self) -> Result<f64> {
        self.r.mean("LogLoss::compute")
    }
    fn reset(&mut self) {
        self.r = Running::default();
    }
    fn name(&self) -> &str {
        "log_loss"
    }
}

/// Streaming Brier score (`sklearn.metrics.brier_score_loss`); key
/// `"brier_score_loss"`.
///
/// Mean over samples of `Σ_c (1[y = c] − p_c)²`, halved for fewer than 3 classes
/// (binary: `mean((y − p)²)`). Probabilities as [`LogLoss`]. Memory: a running sum.
///
/// # Errors
/// As [`LogLoss`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::BrierScoreLoss;
/// use ndtrain::prelude::*;
///
/// let mut b = BrierScoreLoss::new();
/// b.update(array![0.1, 0.9, 0.8, 0.3].view().into_dyn(), array![0usize, 1, 1, 0].view().into_dyn())?;
/// assert!((b.compute()? - 0.0375).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BrierScoreLoss {
    o: ScoreOptions,
    r: Running,
}

impl BrierScoreLoss {
    /// Brier score of probabilities.
    pub fn new() -> Self {
        BrierScoreLoss { o: ScoreOptions::default(), r: Running::default() }
    }
}
score_metric_common!(BrierScoreLoss, default);
impl ScoreMetric for BrierScoreLoss {
    fn from_options(o: ScoreOptionsHandle) -> Result<Self> {
        Ok(BrierScoreLoss { o: o.0, r: Running::default() })
    }
}

impl<F: Float> Metric<F, usize> for BrierScoreLoss {
    fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<()> {
        self.r.add("BrierScoreLoss::update", &self.o, pred, target, |p, t| {
            p.iter()
                .enumerate()
                .map(|(j, &p)| {
                    let d = f64::from(u8::from(j == t)) - p;
                    d * d
                })
                .sum()
        })
    }
    fn compute(&self) -> Result<f64> {
        let score = self.r.mean("BrierScoreLoss::compute")?;
        Ok(if self.r.c.unwrap_or(2) < 3 { score * 0.5 } else { score })
    }
    fn reset(&mut self) {
        self.r = Running::default();
    }
    fn name(&self) -> &str {
        "brier_score_loss"
    }
}

/// Streaming top-k accuracy (`sklearn.metrics.top_k_accuracy_score` with
/// `labels = 0..C`); key `"top_{k}_accuracy"`.
///
/// A sample is a hit when its target is among the `k` highest of its `C >= 2` scores
/// (logits or probabilities alike); among tied scores the higher class index ranks
/// first (scikit-learn's rule). Memory: two counters.
///
/// # Errors
/// `update`: as [`RocAuc`], and [`Error::ShapeMismatch`] for one-column outputs;
/// `compute`: [`Error::EmptyInput`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::TopKAccuracy;
/// use ndtrain::prelude::*;
///
/// let mut top2 = TopKAccuracy::new(2)?;
/// let s = array![[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]];
/// top2.update(s.view().into_dyn(), array![0usize, 1, 2, 2].view().into_dyn())?;
/// assert_eq!(top2.compute()?, 0.75);
/// assert_eq!(top2.name(), "top_2_accuracy");
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TopKAccuracy {
    o: ScoreOptions,
    c: Option<usize>,
    hits: u64,
    n: u64,
    name: String,
}

impl TopKAccuracy {
    /// Top-`k` accuracy.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `k = 0`.
    pub fn new(k: usize) -> Result<Self> {
        Self::builder().k(k).build()
    }
}
score_metric_common!(TopKAccuracy);
impl ScoreMetric for TopKAccuracy {
    fn from_options(o: ScoreOptionsHandle) -> Result<Self> {
        let name = format!("top_{}_accuracy", o.0.k);
        Ok(TopKAccuracy { o: o.0, c: None, hits: 0, n: 0, name })
    }
}

impl<F: Float> Metric<F, usize> for TopKAccuracy {
    fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<()> {
        const OP: &str = "TopKAccuracy::update";
        let shape = pred.raw_dim(); // inline for up to 4 axes: no allocation per batch
        let (m, c) = check_batch(OP, &self.o, self.c, pred, &target, false)?;
        if m.ncols() < 2 {
            return Err(Error::ShapeMismatch { op: OP, expected: vec![0, 2], got: shape.slice().to_vec() });
        }
        self.c = Some(c);
        for (row, &t) in m.rows().into_iter().zip(target.iter()) {
            let st = row[t];
            self.hits += u64::from(in_top_k(row.iter().map(|v| v.as_f64()), t, st.as_f64(), self.o.k));
            self.n += 1;
        }
        Ok(())
    }
    fn compute(&self) -> Result<f64> {
        if self.n == 0 {
            return Err(no_samples("TopKAccuracy::compute"));
        }
        Ok(self.hits as f64 / self.n as f64)
    }
    fn reset(&mut self) {
        self.c = None;
        self.hits = 0;
        self.n = 0;
    }
    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        assert!(matches!(TopKAccuracy::new(0), Err(Error::InvalidParameter { name: "k", .. })));
        assert!(matches!(
            RocAuc::builder().max_fpr(1.5).build(),
            Err(Error::InvalidParameter { name: "max_fpr", .. })
        ));
        assert!(matches!(RocAuc::builder().average(Average::Binary).build(), Err(Error::InvalidConfig(_))));
        assert!(matches!(
            RocAuc::builder().multi_class(MultiClass::Ovo).average(Average::Micro).build(),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            LogLoss::builder().n_classes(1).build(),
            Err(Error::InvalidParameter { name: "n_classes", .. })
        ));
    }

    #[test]
    fn log_loss_rejects_logits_without_flag() {
        let mut ll = LogLoss::new();
        let r = ll.update(array![[2.0, -1.0]].view().into_dyn(), array![0usize].view().into_dyn());
        assert!(matches!(r, Err(Error::InvalidValue { .. })));
        assert!(matches!(ll.compute(), Err(Error::EmptyInput { .. })));
    }

    #[test]
    fn roc_auc_nan_scores_rejected_and_f32_works() {
        let mut auc = RocAuc::new();
        let r = auc.update(array![0.1f32, f32::NAN].view().into_dyn(), array![0usize, 1].view().into_dyn());
        assert!(matches!(r, Err(Error::NonFinite { .. })));
        auc.update(array![0.1f32, 0.9].view().into_dyn(), array![0usize, 1].view().into_dyn()).unwrap();
        assert_eq!(auc.compute().unwrap(), 1.0);
    }
}
