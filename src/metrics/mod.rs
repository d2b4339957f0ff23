//! Metrics: the streaming [`Metric`] trait and sklearn.metrics' functions.
//!
//! A metric accumulates counts and sums batch by batch ([`Metric::update`]) and
//! computes its value at the end ([`Metric::compute`]); the streamed value equals the
//! one-shot value on the concatenated data. Values are `f64` whatever the training
//! float type, so an `f32` run still reports exact counts-based scores.

use ndarray::ArrayViewD;

use crate::error::Result;
use crate::tensor::Float;

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
