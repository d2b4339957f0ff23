//! Losses: the [`Loss`] trait and the torch.nn losses.
//!
//! A loss computes its value and `dL/d(pred)` in one pass, writing the gradient into
//! a buffer the caller owns (the [`Trainer`](crate::train::Trainer) reuses it for every
//! batch). The gradient follows the reduction: for a mean over `N` elements it
//! carries the `1/N`.
//!
//! Targets have their own element type `Y`: class indices are `usize`, real-valued
//! targets are the float type `F`.

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::tensor::Float;

/// How per-element losses are reduced, as in PyTorch's `reduction` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction: one loss per element. Through [`Loss::loss_and_grad`] the
    /// returned scalar is the sum and the gradient is that of the sum (what
    /// `output.sum().backward()` gives in PyTorch).
    None,
    /// Mean over elements (PyTorch's default).
    #[default]
    Mean,
    /// Sum over elements.
    Sum,
}

/// A differentiable training objective.
///
/// `Y` is the target element type: `usize` class indices for classification losses,
/// the float type `F` for regression-style targets.
///
/// # Example: a custom mean absolute loss
///
/// ```
/// use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
/// use ndtrain::prelude::*;
///
/// struct MeanAbs;
///
/// impl Loss<f64, f64> for MeanAbs {
///     fn loss_and_grad(&self, pred: ArrayViewD<'_, f64>, target: ArrayViewD<'_, f64>,
///                      mut grad: ArrayViewMutD<'_, f64>) -> ndtrain::Result<f64> {
///         ndtrain::tensor::same_shape("MeanAbs", pred.shape(), target.shape())?;
///         let n = pred.len() as f64;
///         let mut total = 0.0;
///         Zip::from(&mut grad).and(&pred).and(&target).for_each(|g, &p, &t| {
///             total += (p - t).abs();
///             *g = (p - t).signum() / n;
///         });
///         Ok(total / n)
///     }
/// }
///
/// let pred = ndarray::array![1.0, 4.0].into_dyn();
/// let target = ndarray::array![2.0, 2.0].into_dyn();
/// let mut grad = pred.clone();
/// assert_eq!(MeanAbs.loss_and_grad(pred.view(), target.view(), grad.view_mut())?, 1.5);
/// assert_eq!(grad, ndarray::array![-0.5, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Loss<F: Float, Y> {
    /// Returns the reduced loss and writes `dL/d(pred)` into `grad` (same shape as
    /// `pred`).
    ///
    /// # Errors
    /// Shape mismatches between `pred`, `target` and `grad`, labels out of range and
    /// values outside the loss's domain; `grad` may be partially written on error,
    /// nothing else is changed.
    fn loss_and_grad(
        &self,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, Y>,
        grad: ArrayViewMutD<'_, F>,
    ) -> Result<F>;

    /// The reduced loss alone. The default calls
    /// [`loss_and_grad`](Loss::loss_and_grad) with a scratch gradient; losses override
    /// it when the value is cheaper on its own.
    fn loss(&self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, Y>) -> Result<F> {
        let mut scratch = ndarray::ArrayD::<F>::zeros(pred.raw_dim());
        self.loss_and_grad(pred, target, scratch.view_mut())
    }
}
