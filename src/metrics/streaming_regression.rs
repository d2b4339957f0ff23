//! Streaming regression metrics (`Metric<F, F>`).
//!
//! Outputs and targets are `[N]` (one output) or `[N, K]` (K outputs, aggregated as
//! `multioutput` says; default uniform mean). Sums and Welford moments are updated
//! sample by sample, so any batch split gives the same value as one batch; median-based
//! metrics keep the values they need (documented per type).

use std::marker::PhantomData;

use ndarray::{ArrayView2, ArrayViewD};

use crate::error::{Error, Result};
use crate::metrics::Metric;
use crate::metrics::decode::{as_matrix, no_samples};
use crate::metrics::regression::{MultiOutput, aggregate, assemble, check_msle_domain, d2_score, median};
use crate::tensor::Float;

/// Options of the streaming regression metrics.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RegOptions {
    multioutput: MultiOutput,
    force_finite: bool,
}

impl Default for RegOptions {
    fn default() -> Self {
        RegOptions { multioutput: MultiOutput::UniformAverage, force_finite: true }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A streaming regression metric built by [`RegressionMetricBuilder`].
pub trait RegressionMetric: sealed::Sealed + Sized {
    #[doc(hidden)]
    const VARIANCE_WEIGHTED: bool;
    #[doc(hidden)]
    fn from_options(o: RegOptionsHandle) -> Self;
}

/// Opaque options passed to [`RegressionMetric::from_options`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct RegOptionsHandle(RegOptions);

/// Builder of the streaming regression metrics; [`build`](Self::build) validates.
///
/// | option | default | metrics |
/// |---|---|---|
/// | `multioutput` | [`MultiOutput::UniformAverage`] | all but [`MaxError`] (`VarianceWeighted`: [`R2`], [`ExplainedVariance`]) |
/// | `force_finite` | `true` | [`R2`], [`ExplainedVariance`] |
#[derive(Clone, Debug)]
pub struct RegressionMetricBuilder<M> {
    o: RegOptions,
    _m: PhantomData<fn() -> M>,
}

impl<M: RegressionMetric> RegressionMetricBuilder<M> {
    /// Aggregation over outputs (default uniform mean). Custom weights must have one
    /// entry per output (checked at the first batch).
    pub fn multioutput(mut self, multioutput: MultiOutput) -> Self {
        self.o.multioutput = multioutput;
        self
    }
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `VarianceWeighted` on a metric without it;
    /// [`Error::NonFinite`] for non-finite custom weights.
    pub fn build(self) -> Result<M> {
        if self.o.multioutput == MultiOutput::VarianceWeighted && !M::VARIANCE_WEIGHTED {
            return Err(Error::invalid_config(
                "multioutput VarianceWeighted is only supported by R2 and ExplainedVariance",
            ));
        }
        if let MultiOutput::Weights(w) = &self.o.multioutput {
            if let Some(&bad) = w.iter().find(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    op: "RegressionMetricBuilder::build",
                    what: "multioutput weights",
                    value: bad,
                    index: vec![],
                });
            }
        }
        Ok(M::from_options(RegOptionsHandle(self.o)))
    }
}

macro_rules! force_finite_setter {
    ($($ty:ident),*) => {$(
        impl RegressionMetricBuilder<$ty> {
            /// Score a constant target 1 (perfect) or 0 instead of NaN / −∞ (default `true`).
            pub fn force_finite(mut self, force_finite: bool) -> Self {
                self.o.force_finite = force_finite;
                self
            }
        }
    )*};
}
force_finite_setter!(R2, ExplainedVariance);

/// Validates a batch: `[N]` or `[N, K]` outputs and targets of equal shape (a `[N]`
/// and a `[N, 1]` mix is fine), `K` as in earlier batches and the custom weights,
/// finite values.
fn reg_batch<'a, F: Float>(
    op: &'static str,
    o: &RegOptions,
    seen: Option<usize>,
    pred: ArrayViewD<'a, F>,
    target: ArrayViewD<'a, F>,
) -> Result<(ArrayView2<'a, F>, ArrayView2<'a, F>)> {
    let p = as_matrix(op, pred)?;
    let t = as_matrix(op, target)?;
    if p.nrows() != t.nrows() {
        return Err(Error::LengthMismatch {
            op,
            what: "targets (must match rows of pred)",
            expected: p.nrows(),
            got: t.nrows(),
        });
    }
    if p.ncols() != t.ncols() {
        return Err(Error::ShapeMismatch { op, expected: p.shape().to_vec(), got: t.shape().to_vec() });
    }
    let k = p.ncols();
    if let Some(s) = seen {
        if s != k {
            return Err(Error::ShapeMismatch { op, expected: vec![0, s], got: vec![p.nrows(), k] });
        }
    }
    if let MultiOutput::Weights(w) = &o.multioutput {
        if w.len() != k {
            return Err(Error::LengthMismatch {
                op,
                what: "multioutput weights (one per output)",
                expected: k,
                got: w.len(),
            });
        }
    }
    for (what, m) in [("pred", &p), ("target", &t)] {
        if let Some(((i, j), v)) = m.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { op, what, value: v.as_f64(), index: vec![i, j] });
        }
    }
    Ok((p, t))
}

/// Running per-output sums of `f(y, ŷ)`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Sums {
    k: Option<usize>,
    sums: Vec<f64>,
    n: u64,
}

impl Sums {
    fn add<F: Float>(&mut self, p: &ArrayView2<'_, F>, t: &ArrayView2<'_, F>, f: impl Fn(f64, f64) -> f64) {
        let k = p.ncols();
        if self.k.is_none() {
            self.k = Some(k);
            self.sums = vec![0.0; k];
        }
        for (pr, tr) in p.rows().into_iter().zip(t.rows()) {
            for ((s, &pv), &tv) in self.sums.iter_mut().zip(pr).zip(tr) {
                *s += f(tv.as_f64(), pv.as_f64());
            }
            self.n += 1;
        }
    }
    fn means(&self, op: &'static str) -> Result<Vec<f64>> {
        if self.n == 0 {
            return Err(no_samples(op));
        }
        Ok(self.sums.iter().map(|s| s / self.n as f64).collect())
    }
}

macro_rules! reg_common {
    ($ty:ident, $vw:expr) => {
        impl sealed::Sealed for $ty {}
        impl RegressionMetric for $ty {
            const VARIANCE_WEIGHTED: bool = $vw;
            fn from_options(o: RegOptionsHandle) -> Self {
                $ty { o: o.0, s: Default::default() }
            }
        }
        impl $ty {
            /// The metric with default options (uniform mean over outputs).
            pub fn new() -> Self {
                $ty { o: RegOptions::default(), s: Default::default() }
            }
            /// A builder; see [`RegressionMetricBuilder`].
            pub fn builder() -> RegressionMetricBuilder<$ty> {
                RegressionMetricBuilder { o: RegOptions::default(), _m: PhantomData }
            }
        }
        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }
        crate::metrics::inherent_metric_api!($ty, f64);
    };
}

/// `update` (validate, then `self.s.add`), `compute` (`value()`), `reset` and `name` of
/// a metric whose state `s` has a `k` (outputs seen) and an `add(pred, target)`.
macro_rules! state_metric {
    ($ty:ident, $key:literal) => {
        impl<F: Float> Metric<F, F> for $ty {
            fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<()> {
                let (p, t) =
                    reg_batch(concat!(stringify!($ty), "::update"), &self.o, self.s.k, pred, target)?;
                self.s.add(&p, &t);
                Ok(())
            }
            fn compute(&self) -> Result<f64> {
                self.value()
            }
            fn reset(&mut self) {
                self.s = Default::default();
            }
            fn name(&self) -> &str {
                $key
            }
        }
    };
}

macro_rules! sum_metric {
    ($(#[$doc:meta])* $ty:ident, $key:literal, $f:expr, $post:expr, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $ty {
            o: RegOptions,
            s: Sums,
        }
        reg_common!($ty, false);
        impl<F: Float> Metric<F, F> for $ty {
            fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<()> {
                const OP: &str = concat!(stringify!($ty), "::update");
                let (p, t) = reg_batch(OP, &self.o, self.s.k, pred, target)?;
                let check: fn(&'static str, &ArrayView2<'_, F>, &ArrayView2<'_, F>) -> Result<()> = $check;
                check(OP, &p, &t)?;
                self.s.add(&p, &t, $f);
                Ok(())
            }
            fn compute(&self) -> Result<f64> {
                const OP: &str = concat!(stringify!($ty), "::compute");
                let post: fn(f64) -> f64 = $post;
                let raw: Vec<f64> = self.s.means(OP)?.into_iter().map(post).collect();
                aggregate(OP, &raw, &self.o.multioutput, None)
            }
            fn reset(&mut self) {
                self.s = Sums::default();
            }
            fn name(&self) -> &str {
                $key
            }
        }
    };
}

fn no_check<F: Float>(_: &'static str, _: &ArrayView2<'_, F>, _: &ArrayView2<'_, F>) -> Result<()> {
    Ok(())
}

fn msle_check<F: Float>(op: &'static str, p: &ArrayView2<'_, F>, t: &ArrayView2<'_, F>) -> Result<()> {
    check_msle_domain(op, "target", t.iter().map(|v| v.as_f64()))?;
    check_msle_domain(op, "pred", p.iter().map(|v| v.as_f64()))
}

sum_metric!(
    /// Streaming mean squared error (`sklearn.metrics.mean_squared_error`); key `"mse"`.
    /// Memory: one sum per output.
    ///
    /// # Errors
    /// `update`: [`Error::ShapeMismatch`] (shapes differ, or the number of outputs
    /// changes), [`Error::LengthMismatch`], [`Error::NonFinite`]; `compute`:
    /// [`Error::EmptyInput`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Mse;
    /// use ndtrain::prelude::*;
    ///
    /// let mut mse = Mse::new();
    /// mse.update(array![2.5, 0.0].view().into_dyn(), array![3.0, -0.5].view().into_dyn())?;
    /// mse.update(array![2.0, 8.0].view().into_dyn(), array![2.0, 7.0].view().into_dyn())?;
    /// assert_eq!(mse.compute()?, 0.375);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[doc(alias = "mean_squared_error")]
    Mse, "mse", |t, p| (t - p) * (t - p), |m| m, no_check
);

sum_metric!(
    /// Streaming root mean squared error (`sklearn.metrics.root_mean_squared_error`:
    /// `√MSE` per output, then averaged); key `"rmse"`. Errors as [`Mse`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Rmse;
    /// use ndtrain::prelude::*;
    ///
    /// let mut rmse = Rmse::new();
    /// rmse.update(array![3.0, 4.0].view().into_dyn(), array![0.0, 0.0].view().into_dyn())?;
    /// assert!((rmse.compute()? - 12.5f64.sqrt()).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[doc(alias = "root_mean_squared_error")]
    Rmse, "rmse", |t, p| (t - p) * (t - p), f64::sqrt, no_check
);

sum_metric!(
    /// Streaming mean absolute error (`sklearn.metrics.mean_absolute_error`); key
    /// `"mae"`. Errors as [`Mse`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Mae;
    /// use ndtrain::prelude::*;
    ///
    /// let mut mae = Mae::new();
    /// mae.update(array![2.5, 0.0, 2.0, 8.0].view().into_dyn(), array![3.0, -0.5, 2.0, 7.0].view().into_dyn())?;
    /// assert_eq!(mae.compute()?, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[doc(alias = "mean_absolute_error")]
    Mae, "mae", |t, p| (p - t).abs(), |m| m, no_check
);

sum_metric!(
    /// Streaming mean absolute percentage error, as a fraction
    /// (`sklearn.metrics.mean_absolute_percentage_error`); key `"mape"`. Errors as
    /// [`Mse`].
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Mape;
    /// use ndtrain::prelude::*;
    ///
    /// let mut m = Mape::new();
    /// m.update(array![1.5, 1.0].view().into_dyn(), array![1.0, 2.0].view().into_dyn())?;
    /// assert_eq!(m.compute()?, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[doc(alias = "mean_absolute_percentage_error")]
    Mape, "mape", |t, p| (p - t).abs() / t.abs().max(f64::EPSILON), |m| m, no_check
);

sum_metric!(
    /// Streaming mean squared logarithmic error
    /// (`sklearn.metrics.mean_squared_log_error`); key `"msle"`. Errors as [`Mse`],
    /// plus [`Error::InvalidValue`] for values `≤ −1`.
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::metrics::Msle;
    /// use ndtrain::prelude::*;
    ///
    /// let mut m = Msle::new();
    /// m.update(array![0.0, 0.0].view().into_dyn(), array![0.0, std::f64::consts::E - 1.0].view().into_dyn())?;
    /// assert!((m.compute()? - 0.5).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[doc(alias = "mean_squared_log_error")]
    Msle, "msle", |t, p| { let d = t.ln_1p() - p.ln_1p(); d * d }, |m| m, msle_check
);

/// Per-output Welford moments: count, mean and sum of squared deviations.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Welford {
    mean: f64,
    m2: f64,
}

impl Welford {
    #[inline]
    fn push(&mut self, x: f64, n: u64) {
        let delta = x - self.mean;
        self.mean += delta / n as f64;
        self.m2 += delta * (x - self.mean);
    }
}

/// State of [`R2`] and [`ExplainedVariance`].
#[derive(Clone, Debug, Default, PartialEq)]
struct Moments {
    k: Option<usize>,
    n: u64,
    /// R2: Σ (y − ŷ)²; explained variance: Welford of y − ŷ (m2 used)
    num: Vec<f64>,
    diff: Vec<Welford>,
    y: Vec<Welford>,
}

impl Moments {
    fn add<F: Float>(&mut self, p: &ArrayView2<'_, F>, t: &ArrayView2<'_, F>) {
        let k = p.ncols();
        if self.k.is_none() {
            self.k = Some(k);
            self.num = vec![0.0; k];
            self.diff = vec![Welford::default(); k];
            self.y = vec![Welford::default(); k];
        }
        for (pr, tr) in p.rows().into_iter().zip(t.rows()) {
            self.n += 1;
            for j in 0..k {
                let (y, yh) = (tr[j].as_f64(), pr[j].as_f64());
                self.num[j] += (y - yh) * (y - yh);
                self.diff[j].push(y - yh, self.n);
                self.y[j].push(y, self.n);
            }
        }
    }
}

/// Streaming coefficient of determination `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²`
/// (`sklearn.metrics.r2_score`); key `"r2"`.
///
/// `Σ(y − ȳ)²` comes from Welford's update, so no cancellation. Fewer than two samples
/// give NaN; `force_finite` and `multioutput` (including `VarianceWeighted`) as
/// scikit-learn. Memory: three numbers per output. Errors as [`Mse`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::R2;
/// use ndtrain::prelude::*;
///
/// let mut r2 = R2::new();
/// r2.update(array![2.5, 0.0].view().into_dyn(), array![3.0, -0.5].view().into_dyn())?;
/// r2.update(array![2.0, 8.0].view().into_dyn(), array![2.0, 7.0].view().into_dyn())?;
/// assert!((r2.compute()? - 0.9486081370449679).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "r2_score")]
#[derive(Clone, Debug)]
pub struct R2 {
    o: RegOptions,
    s: Moments,
}
reg_common!(R2, true);

impl R2 {
    fn value(&self) -> Result<f64> {
        const OP: &str = "R2::compute";
        if self.s.n == 0 {
            return Err(no_samples(OP));
        }
        if self.s.n < 2 {
            return Ok(f64::NAN);
        }
        let den: Vec<f64> = self.s.y.iter().map(|w| w.m2).collect();
        let raw = assemble(&self.s.num, &den, self.o.force_finite);
        aggregate(OP, &raw, &self.o.multioutput, Some(&den))
    }
}
state_metric!(R2, "r2");

/// Streaming explained variance `1 − Var(y − ŷ) / Var(y)`
/// (`sklearn.metrics.explained_variance_score`); key `"explained_variance"`. Welford
/// moments of `y − ŷ` and `y`; options as [`R2`]. Errors as [`Mse`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::ExplainedVariance;
/// use ndtrain::prelude::*;
///
/// let mut ev = ExplainedVariance::new();
/// ev.update(array![2.5, 0.0, 2.0, 8.0].view().into_dyn(), array![3.0, -0.5, 2.0, 7.0].view().into_dyn())?;
/// assert!((ev.compute()? - 0.9571734475374732).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "explained_variance_score")]
#[derive(Clone, Debug)]
pub struct ExplainedVariance {
    o: RegOptions,
    s: Moments,
}
reg_common!(ExplainedVariance, true);

impl ExplainedVariance {
    fn value(&self) -> Result<f64> {
        const OP: &str = "ExplainedVariance::compute";
        if self.s.n == 0 {
            return Err(no_samples(OP));
        }
        let n = self.s.n as f64;
        let num: Vec<f64> = self.s.diff.iter().map(|w| w.m2 / n).collect();
        let den: Vec<f64> = self.s.y.iter().map(|w| w.m2 / n).collect();
        let raw = assemble(&num, &den, self.o.force_finite);
        aggregate(OP, &raw, &self.o.multioutput, Some(&den))
    }
}
state_metric!(ExplainedVariance, "explained_variance");

/// Stored values per output (median-based metrics).
#[derive(Clone, Debug, Default, PartialEq)]
struct Columns {
    k: Option<usize>,
    /// row-major `[N, K]` targets and predictions
    y: Vec<f64>,
    yhat: Vec<f64>,
}

impl Columns {
    fn add<F: Float>(&mut self, p: &ArrayView2<'_, F>, t: &ArrayView2<'_, F>) {
        self.k = Some(p.ncols());
        self.y.extend(t.iter().map(|v| v.as_f64()));
        self.yhat.extend(p.iter().map(|v| v.as_f64()));
    }
    fn n(&self) -> usize {
        self.k.map_or(0, |k| self.y.len() / k)
    }
    fn column(&self, v: &[f64], j: usize) -> Vec<f64> {
        let k = self.k.unwrap_or(1);
        v.iter().skip(j).step_by(k).copied().collect()
    }
    /// The number of samples; an error when there is none.
    fn samples(&self, op: &'static str) -> Result<usize> {
        match self.n() {
            0 => Err(no_samples(op)),
            n => Ok(n),
        }
    }
    /// `f(y, ŷ)` of each output column.
    fn per_output(&self, f: impl Fn(Vec<f64>, Vec<f64>) -> f64) -> Vec<f64> {
        (0..self.k.unwrap_or(0)).map(|j| f(self.column(&self.y, j), self.column(&self.yhat, j))).collect()
    }
}

/// Streaming median absolute error (`sklearn.metrics.median_absolute_error`); key
/// `"median_absolute_error"`.
///
/// Memory: every target and prediction (`2 N K` floats; a median cannot be streamed
/// exactly in constant memory). Errors as [`Mse`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::MedianAbsoluteError;
/// use ndtrain::prelude::*;
///
/// let mut m = MedianAbsoluteError::new();
/// m.update(array![2.5, 0.0, 2.0, 8.0].view().into_dyn(), array![3.0, -0.5, 2.0, 7.0].view().into_dyn())?;
/// assert_eq!(m.compute()?, 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MedianAbsoluteError {
    o: RegOptions,
    s: Columns,
}
reg_common!(MedianAbsoluteError, false);

impl MedianAbsoluteError {
    fn value(&self) -> Result<f64> {
        const OP: &str = "MedianAbsoluteError::compute";
        self.s.samples(OP)?;
        let raw = self.s.per_output(|y, yh| {
            let mut d: Vec<f64> = y.iter().zip(&yh).map(|(a, b)| (b - a).abs()).collect();
            median(&mut d)
        });
        aggregate(OP, &raw, &self.o.multioutput, None)
    }
}
state_metric!(MedianAbsoluteError, "median_absolute_error");

/// Streaming D² absolute error score `1 − Σ|y − ŷ| / Σ|y − median(y)|`
/// (`sklearn.metrics.d2_absolute_error_score`); key `"d2_absolute_error"`.
///
/// Memory: every target and prediction (`2 N K` floats: the median of `y` is only
/// known at the end). Fewer than two samples give NaN. Errors as [`Mse`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::D2AbsoluteError;
/// use ndtrain::prelude::*;
///
/// let mut d2 = D2AbsoluteError::new();
/// d2.update(array![2.5, 0.0, 2.0, 8.0].view().into_dyn(), array![3.0, -0.5, 2.0, 7.0].view().into_dyn())?;
/// assert!((d2.compute()? - 0.7647058823529411).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct D2AbsoluteError {
    o: RegOptions,
    s: Columns,
}
reg_common!(D2AbsoluteError, false);

impl D2AbsoluteError {
    fn value(&self) -> Result<f64> {
        const OP: &str = "D2AbsoluteError::compute";
        let n = self.s.samples(OP)?;
        if n < 2 {
            return Ok(f64::NAN);
        }
        let raw = self.s.per_output(|y, yh| {
            let num = y.iter().zip(&yh).map(|(a, b)| 0.5 * (a - b).abs()).sum::<f64>() / n as f64;
            let q = median(&mut y.clone());
            let den = y.iter().map(|a| 0.5 * (a - q).abs()).sum::<f64>() / n as f64;
            d2_score(num, den)
        });
        aggregate(OP, &raw, &self.o.multioutput, None)
    }
}
state_metric!(D2AbsoluteError, "d2_absolute_error");

/// Streaming maximum absolute error (`sklearn.metrics.max_error`, single output
/// only); key `"max_error"`. Memory: one number.
///
/// # Errors
/// As [`Mse`], plus [`Error::ShapeMismatch`] for multi-output batches.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::MaxError;
/// use ndtrain::prelude::*;
///
/// let mut m = MaxError::new();
/// m.update(array![4.0, 2.0].view().into_dyn(), array![3.0, 2.0].view().into_dyn())?;
/// m.update(array![7.0, 1.0].view().into_dyn(), array![7.0, 1.5].view().into_dyn())?;
/// assert_eq!(m.compute()?, 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MaxError {
    o: RegOptions,
    s: Option<f64>,
}
impl sealed::Sealed for MaxError {}
impl RegressionMetric for MaxError {
    const VARIANCE_WEIGHTED: bool = false;
    fn from_options(o: RegOptionsHandle) -> Self {
        MaxError { o: o.0, s: None }
    }
}
impl MaxError {
    /// Max error.
    pub fn new() -> Self {
        MaxError { o: RegOptions::default(), s: None }
    }
}
impl Default for MaxError {
    fn default() -> Self {
        Self::new()
    }
}
crate::metrics::inherent_metric_api!(MaxError, f64);

impl<F: Float> Metric<F, F> for MaxError {
    fn update(&mut self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<()> {
        const OP: &str = "MaxError::update";
        let (p, t) = reg_batch(OP, &self.o, Some(1), pred, target)?;
        let m = p
            .iter()
            .zip(&t)
            .map(|(a, b)| (a.as_f64() - b.as_f64()).abs())
            .fold(self.s.unwrap_or(0.0), f64::max);
        if p.nrows() > 0 {
            self.s = Some(m);
        }
        Ok(())
    }
    fn compute(&self) -> Result<f64> {
        self.s.ok_or_else(|| no_samples("MaxError::compute"))
    }
    fn reset(&mut self) {
        self.s = None;
    }
    fn name(&self) -> &str {
        "max_error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        assert!(matches!(
            Mse::builder().multioutput(MultiOutput::VarianceWeighted).build(),
            Err(Error::InvalidConfig(_))
        ));
        assert!(R2::builder().multioutput(MultiOutput::VarianceWeighted).build().is_ok());
        assert!(matches!(
            Mae::builder().multioutput(MultiOutput::Weights(vec![f64::NAN, 1.0])).build(),
            Err(Error::NonFinite { .. })
        ));
    }

    #[test]
    fn bad_batches_leave_state_unchanged() {
        let mut m = Mse::new();
        m.update(array![1.0, 2.0].view().into_dyn(), array![1.0, 1.0].view().into_dyn()).unwrap();
        let before = m.s.clone();
        assert!(m.update(array![1.0].view().into_dyn(), array![1.0, 2.0].view().into_dyn()).is_err());
        assert!(
            m.update(array![[1.0, 2.0]].view().into_dyn(), array![[1.0, 2.0]].view().into_dyn()).is_err()
        );
        assert!(m.update(array![f64::NAN].view().into_dyn(), array![1.0].view().into_dyn()).is_err());
        assert_eq!(m.s, before);
        let mut w = Mae::builder().multioutput(MultiOutput::Weights(vec![1.0, 2.0])).build().unwrap();
        assert!(matches!(
            w.update(array![1.0].view().into_dyn(), array![1.0].view().into_dyn()),
            Err(Error::LengthMismatch { .. })
        ));
        let mut mx = MaxError::new();
        assert!(
            mx.update(array![[1.0, 2.0]].view().into_dyn(), array![[1.0, 2.0]].view().into_dyn()).is_err()
        );
    }

    #[test]
    fn f32_r2_and_small_samples() {
        let mut r2 = R2::new();
        Metric::<f32, f32>::update(
            &mut r2,
            array![1.0f32].view().into_dyn(),
            array![2.0f32].view().into_dyn(),
        )
        .unwrap();
        assert!(r2.compute().unwrap().is_nan());
        Metric::<f32, f32>::update(
            &mut r2,
            array![3.0f32].view().into_dyn(),
            array![3.0f32].view().into_dyn(),
        )
        .unwrap();
        // y = [2, 3], yhat = [1, 3]: 1 - 1 / 0.5 = -1
        assert_eq!(r2.compute().unwrap(), -1.0);
    }
}
