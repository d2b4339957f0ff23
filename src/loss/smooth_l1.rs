//! Smooth L1 loss.

use ndarray::{ArrayD, ArrayViewD};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, forward_output, impl_loss, param, sign0};
use crate::tensor::Float;

const OP: &str = "SmoothL1Loss";

/// Smooth L1 loss, PyTorch's `nn.SmoothL1Loss` / `F.smooth_l1_loss`: quadratic below
/// `beta`, linear above.
///
/// ```text
/// d_n = x_n - y_n
/// l_n = 0.5 d_n^2 / beta      if |d_n| < beta
///       |d_n| - 0.5 beta      otherwise
/// dl_n/dx_n = d_n / beta if |d_n| < beta, else sign(d_n)   (sign(0) = 0)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// `beta = 0` is the L1 loss. SmoothL1 with `beta` equals [`HuberLoss`](crate::loss::HuberLoss)
/// with `delta = beta` divided by `beta`.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `beta` | `1.0` | `>= 0` |
///
/// Target: same shape as the prediction, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty input;
/// the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// `beta` unless `beta >= 0` and finite.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.SmoothL1Loss.html>
/// (Girshick, *Fast R-CNN*, 2015).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, Reduction, SmoothL1Loss};
///
/// let loss = SmoothL1Loss::builder().beta(0.5).reduction(Reduction::Sum).build()?;
/// let pred = array![0.25, 3.0].into_dyn();
/// let y = array![0.0, 0.0].into_dyn();
/// let mut grad = pred.clone();
/// // 0.5 * 0.25^2 / 0.5 + (3 - 0.25) = 0.0625 + 2.75
/// assert_eq!(loss.loss_and_grad(pred.view(), y.view(), grad.view_mut())?, 2.8125);
/// assert_eq!(grad, array![0.5, 1.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "smooth_l1_loss")]
#[derive(Clone, Debug)]
pub struct SmoothL1Loss<F> {
    reduction: Reduction,
    beta: F,
}

impl<F: Float> Default for SmoothL1Loss<F> {
    fn default() -> Self {
        SmoothL1Loss { reduction: Reduction::Mean, beta: F::one() }
    }
}

/// Builder of [`SmoothL1Loss`].
#[derive(Clone, Debug)]
pub struct SmoothL1LossBuilder<F> {
    reduction: Reduction,
    beta: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> SmoothL1LossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets `beta`, where the loss turns from quadratic to linear (default `1.0`).
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `beta` unless
    /// `beta >= 0` and finite.
    pub fn build(self) -> Result<SmoothL1Loss<F>> {
        param("beta", self.beta, self.beta >= 0.0, ">= 0")?;
        Ok(SmoothL1Loss { reduction: self.reduction, beta: F::lit(self.beta) })
    }
}

impl<F: Float> SmoothL1Loss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> SmoothL1LossBuilder<F> {
        SmoothL1LossBuilder { reduction: Reduction::Mean, beta: 1.0, _f: std::marker::PhantomData }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// `beta`.
    pub fn beta(&self) -> F {
        self.beta
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`SmoothL1Loss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let (beta, half) = (self.beta, F::lit(0.5));
        Elementwise::new(OP, self.reduction).run(input, target, sink, |x, y, _| {
            let d = x - y;
            let a = d.abs();
            if a < beta { (half * d * d / beta, d / beta) } else { (a - half * beta, sign0(d)) }
        })
    }
}

impl_loss!(SmoothL1Loss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn invalid_beta() {
        for b in [-0.1, f64::NAN, f64::INFINITY] {
            let e = SmoothL1Loss::<f64>::builder().beta(b).build().unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { name: "beta", .. }));
        }
    }

    #[test]
    fn beta_zero_is_l1_f32() {
        // |d| = (0.5, 2, 0): mean 2.5 / 3
        let x = array![0.5f32, -2.0, 1.0].into_dyn();
        let y = array![0.0f32, 0.0, 1.0].into_dyn();
        let loss = SmoothL1Loss::builder().beta(0.0).build().unwrap();
        let mut g = x.clone();
        assert_abs_diff_eq!(loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap(), 2.5 / 3.0);
        assert_abs_diff_eq!(g, array![1.0f32 / 3.0, -1.0 / 3.0, 0.0].into_dyn());
    }
}
