//! Mean absolute error.

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, finite_param, forward_output, impl_loss, sign0};
use crate::tensor::Float;

const OP: &str = "L1Loss";

/// Mean absolute error, PyTorch's `nn.L1Loss` / `F.l1_loss`.
///
/// ```text
/// l_n = w_n |x_n - y_n|
/// none: L = (l_1, ..., l_N)     sum: Σ_n l_n
/// mean: Σ_n l_n / N             (weighted: Σ_n w_n |x_n - y_n| / Σ_n w_n)
/// dL/dx_n = w_n sign(x_n - y_n) / denominator,   sign(0) = 0
/// ```
///
/// `w` is the optional `weight` of `F.l1_loss` (all ones when absent); the weighted
/// mean divides by the sum of the weights, as in PyTorch. The weight may have any shape
/// that broadcasts to the input's (PyTorch requires the input's shape).
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | finite, broadcasts to the input |
///
/// Target: same shape as the prediction, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for a weight that
/// does not broadcast, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty
/// input; the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a non-finite weight.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.L1Loss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{L1Loss, Loss};
///
/// let loss = L1Loss::default();
/// let pred = array![1.0, 3.0, 2.0].into_dyn();
/// let y = array![0.0, 1.0, 2.0].into_dyn();
/// let mut grad = pred.clone();
/// // (1 + 2 + 0) / 3 = 1; grad = sign(x - y) / 3, sign(0) = 0
/// assert_eq!(loss.loss_and_grad(pred.view(), y.view(), grad.view_mut())?, 1.0);
/// assert_eq!(grad, array![1.0 / 3.0, 1.0 / 3.0, 0.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "l1_loss", alias = "mean_absolute_error", alias = "MAE")]
#[derive(Clone, Debug)]
pub struct L1Loss<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> Default for L1Loss<F> {
    fn default() -> Self {
        L1Loss { reduction: Reduction::Mean, weight: None }
    }
}

/// Builder of [`L1Loss`].
#[derive(Clone, Debug)]
pub struct L1LossBuilder<F> {
    inner: L1Loss<F>,
}

impl<F: Float> L1LossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.inner.reduction = reduction;
        self
    }

    /// Sets a per-element weight (any shape that broadcasts to the input).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.inner.weight = Some(weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `weight` for a
    /// non-finite weight.
    pub fn build(self) -> Result<L1Loss<F>> {
        finite_param("weight", self.inner.weight.iter().flatten())?;
        Ok(self.inner)
    }
}

impl<F: Float> L1Loss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> L1LossBuilder<F> {
        L1LossBuilder { inner: Self::default() }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The per-element weight, if any.
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`L1Loss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let weighted = Elementwise::new(OP, self.reduction).weight(self.weight.as_ref()).weighted_mean();
        weighted.run(input, target, sink, |x, y, _| {
            let d = x - y;
            (d.abs(), sign0(d))
        })
    }
}

impl_loss!(L1Loss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn hand_checked_weighted() {
        // |d| = (1, 2), w = (3, 1): sum = 5, weighted mean = 5 / 4
        let x = array![1.0f32, -2.0].into_dyn();
        let y = array![0.0f32, 0.0].into_dyn();
        let loss = L1Loss::builder().weight(array![3.0f32, 1.0]).build().unwrap();
        let mut g = x.clone();
        assert_abs_diff_eq!(loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap(), 1.25);
        assert_abs_diff_eq!(g, array![0.75f32, -0.25].into_dyn());
        let sum = L1Loss::builder().reduction(Reduction::Sum).weight(array![3.0f32, 1.0]).build().unwrap();
        assert_abs_diff_eq!(sum.loss(x.view(), y.view()).unwrap(), 5.0);
    }
}
