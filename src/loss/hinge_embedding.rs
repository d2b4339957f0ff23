//! Hinge embedding loss.

use ndarray::{ArrayD, ArrayViewD};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, forward_output, impl_loss, param};
use crate::tensor::Float;

const OP: &str = "HingeEmbeddingLoss";

/// Hinge embedding loss, PyTorch's `nn.HingeEmbeddingLoss` / `F.hinge_embedding_loss`:
/// `x` is a distance (e.g. L1) between two embeddings, `y = 1` for similar pairs and
/// `y = -1` for dissimilar ones.
///
/// ```text
/// l_n = x_n                      if y_n = 1
///       max(0, margin - x_n)     if y_n = -1
/// dl_n/dx_n = 1 if y_n = 1;  -[margin - x_n > 0] if y_n = -1
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// As in PyTorch, a target other than ±1 takes both terms (`x + max(0, margin - x)`);
/// targets are not checked.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `margin` | `1.0` | finite |
///
/// Target: same shape as the input, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty input;
/// the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// `margin` if not finite.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.HingeEmbeddingLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{HingeEmbeddingLoss, Loss};
///
/// let loss = HingeEmbeddingLoss::default();
/// let dist = array![0.5, 0.25, 2.0].into_dyn();
/// let y = array![1.0, -1.0, -1.0].into_dyn();
/// let mut grad = dist.clone();
/// // (0.5 + (1 - 0.25) + 0) / 3
/// assert_eq!(loss.loss_and_grad(dist.view(), y.view(), grad.view_mut())?, 1.25 / 3.0);
/// assert_eq!(grad, array![1.0 / 3.0, -1.0 / 3.0, 0.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "hinge_embedding_loss")]
#[derive(Clone, Debug)]
pub struct HingeEmbeddingLoss<F> {
    reduction: Reduction,
    margin: F,
}

impl<F: Float> Default for HingeEmbeddingLoss<F> {
    fn default() -> Self {
        HingeEmbeddingLoss { reduction: Reduction::Mean, margin: F::one() }
    }
}

/// Builder of [`HingeEmbeddingLoss`].
#[derive(Clone, Debug)]
pub struct HingeEmbeddingLossBuilder<F> {
    reduction: Reduction,
    margin: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> HingeEmbeddingLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the margin (default `1.0`).
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `margin` if not finite.
    pub fn build(self) -> Result<HingeEmbeddingLoss<F>> {
        param("margin", self.margin, true, "finite")?;
        Ok(HingeEmbeddingLoss { reduction: self.reduction, margin: F::lit(self.margin) })
    }
}

impl<F: Float> HingeEmbeddingLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> HingeEmbeddingLossBuilder<F> {
        HingeEmbeddingLossBuilder { reduction: Reduction::Mean, margin: 1.0, _f: std::marker::PhantomData }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The margin.
    pub fn margin(&self) -> F {
        self.margin
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`HingeEmbeddingLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let (zero, one, margin) = (F::zero(), F::one(), self.margin);
        Elementwise::new(OP, self.reduction).run(input, target, sink, |x, y, _| {
            let (mut l, mut g) = (zero, zero);
            if y != one {
                let z = margin - x;
                // clamp_min(z, 0): NaN stays NaN; the gradient passes where z > 0 (PyTorch's
                // subgradient at the kink is 0).
                l += if z < zero { zero } else { z };
                if z > zero {
                    g -= one;
                }
            }
            if y != -one {
                l += x;
                g += one;
            }
            (l, g)
        })
    }
}

impl_loss!(HingeEmbeddingLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn margin_and_f32() {
        let e = HingeEmbeddingLoss::<f32>::builder().margin(f64::NAN).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "margin", .. }));
        // margin 2: y=-1, x=0.5 -> 1.5; y=1, x=0.5 -> 0.5; sum 2
        let loss = HingeEmbeddingLoss::builder().margin(2.0).reduction(Reduction::Sum).build().unwrap();
        let x = array![0.5f32, 0.5].into_dyn();
        let y = array![-1.0f32, 1.0].into_dyn();
        assert_abs_diff_eq!(loss.loss(x.view(), y.view()).unwrap(), 2.0);
    }
}
