//! Soft margin (logistic) loss.

use ndarray::{ArrayD, ArrayViewD};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, forward_output, impl_loss, sigmoid, softplus};
use crate::tensor::Float;

const OP: &str = "SoftMarginLoss";

/// Two-class logistic loss on ±1 targets, PyTorch's `nn.SoftMarginLoss` /
/// `F.soft_margin_loss`.
///
/// ```text
/// l_n = log(1 + exp(-y_n x_n)) = softplus(-y_n x_n)
/// dl_n/dx_n = -y_n σ(-y_n x_n)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// Computed as a softplus, so it is finite for any finite `x` (PyTorch's
/// `log1p(exp(-y x))` overflows to infinity in `f32` beyond `|x| ≈ 88`).
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
///
/// Target: same shape as the input (values ±1, not checked, as PyTorch), or `[N]`
/// against `[N, 1]` (see the [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty input.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.SoftMarginLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, SoftMarginLoss};
///
/// let loss = SoftMarginLoss::default();
/// let x = array![0.0, 1000.0].into_dyn();
/// let y = array![1.0, -1.0].into_dyn();
/// let mut grad = x.clone();
/// // (ln 2 + 1000) / 2
/// let v = loss.loss_and_grad(x.view(), y.view(), grad.view_mut())?;
/// assert!((v - (2f64.ln() + 1000.0) / 2.0).abs() < 1e-12);
/// assert_eq!(grad, array![-0.25, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "soft_margin_loss")]
#[derive(Clone, Debug, Default)]
pub struct SoftMarginLoss<F> {
    reduction: Reduction,
    _f: std::marker::PhantomData<F>,
}

/// Builder of [`SoftMarginLoss`].
#[derive(Clone, Debug)]
pub struct SoftMarginLossBuilder<F> {
    inner: SoftMarginLoss<F>,
}

impl<F: Float> SoftMarginLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.inner.reduction = reduction;
        self
    }

    /// Builds (every setting is valid).
    ///
    /// # Errors
    /// None today; returns `Result` like every builder.
    pub fn build(self) -> Result<SoftMarginLoss<F>> {
        Ok(self.inner)
    }
}

impl<F: Float> SoftMarginLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> SoftMarginLossBuilder<F> {
        SoftMarginLossBuilder {
            inner: SoftMarginLoss { reduction: Reduction::Mean, _f: std::marker::PhantomData },
        }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`SoftMarginLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        Elementwise::new(OP, self.reduction).run(input, target, sink, |x, y, _| {
            let z = -y * x;
            (softplus(z), -y * sigmoid(z))
        })
    }
}

impl_loss!(SoftMarginLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn f32_large_margins_are_finite() {
        let x = array![-1000.0f32, 1000.0, 100.0].into_dyn();
        let y = array![1.0f32, -1.0, 1.0].into_dyn();
        let loss = SoftMarginLoss::builder().reduction(Reduction::Sum).build().unwrap();
        let mut g = x.clone();
        let v = loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap();
        assert_abs_diff_eq!(v, 2000.0, epsilon = 1e-3);
        assert_abs_diff_eq!(g, array![-1.0f32, 1.0, 0.0].into_dyn(), epsilon = 1e-6);
    }
}
