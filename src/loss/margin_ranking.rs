//! Margin ranking loss.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Grads, Sink, denominator, elementwise2, forward_output, non_empty, param};
use crate::tensor::{Float, same_shape};

const OP: &str = "MarginRankingLoss";

/// Ranking hinge on pairs of scores, PyTorch's `nn.MarginRankingLoss` /
/// `F.margin_ranking_loss`: `y = 1` says `x1` should rank above `x2`, `y = -1` below.
///
/// ```text
/// l_n = max(0, -y_n (x1_n - x2_n) + margin)
/// dl_n/dx1_n = -y_n,  dl_n/dx2_n = y_n      where -y_n (x1_n - x2_n) + margin > 0, else 0
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// Two inputs are differentiable, so this loss has its own methods
/// ([`loss_and_grads`](MarginRankingLoss::loss_and_grads) writes both gradients)
/// instead of the one-prediction [`Loss`](crate::loss::Loss) trait. `x1`, `x2` and `y`
/// have one shape (PyTorch also broadcasts them). NaN propagates into the value.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `margin` | `0.0` | finite |
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `x2`, `y` or a gradient
/// buffer does not have `x1`'s shape, [`Error::EmptyInput`](crate::Error::EmptyInput)
/// for empty inputs; the builder returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `margin` if not finite.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.MarginRankingLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::MarginRankingLoss;
///
/// let loss = MarginRankingLoss::builder().margin(0.5).build()?;
/// let x1 = array![1.0, 0.0].into_dyn();
/// let x2 = array![0.75, 2.0].into_dyn();
/// let y = array![1.0, -1.0].into_dyn();
/// let (mut g1, mut g2) = (x1.clone(), x2.clone());
/// // (max(0, -0.25 + 0.5) + max(0, -2 + 0.5)) / 2
/// let v = loss.loss_and_grads(x1.view(), x2.view(), y.view(), g1.view_mut(), g2.view_mut())?;
/// assert_eq!(v, 0.125);
/// assert_eq!(g1, array![-0.5, 0.0].into_dyn());
/// assert_eq!(g2, array![0.5, 0.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "margin_ranking_loss")]
#[derive(Clone, Debug)]
pub struct MarginRankingLoss<F> {
    reduction: Reduction,
    margin: F,
}

impl<F: Float> Default for MarginRankingLoss<F> {
    fn default() -> Self {
        MarginRankingLoss { reduction: Reduction::Mean, margin: F::zero() }
    }
}

/// Builder of [`MarginRankingLoss`].
#[derive(Clone, Debug)]
pub struct MarginRankingLossBuilder<F> {
    reduction: Reduction,
    margin: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> MarginRankingLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the margin (default `0.0`).
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `margin` if not finite.
    pub fn build(self) -> Result<MarginRankingLoss<F>> {
        param("margin", self.margin, true, "finite")?;
        Ok(MarginRankingLoss { reduction: self.reduction, margin: F::lit(self.margin) })
    }
}

impl<F: Float> MarginRankingLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> MarginRankingLossBuilder<F> {
        MarginRankingLossBuilder { reduction: Reduction::Mean, margin: 0.0, _f: std::marker::PhantomData }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The margin.
    pub fn margin(&self) -> F {
        self.margin
    }

    /// PyTorch's output: per-pair losses for `Reduction::None`, else the reduced value as
    /// a 0-d array.
    ///
    /// # Errors
    /// As [`MarginRankingLoss`].
    pub fn forward(
        &self,
        input1: ArrayViewD<'_, F>,
        input2: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
    ) -> Result<ArrayD<F>> {
        let shape = input1.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| {
            self.run(input1, input2, target, sink)
        })
    }

    /// The reduced loss (the sum for `Reduction::None`).
    ///
    /// # Errors
    /// As [`MarginRankingLoss`].
    pub fn loss(
        &self,
        input1: ArrayViewD<'_, F>,
        input2: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
    ) -> Result<F> {
        self.run(input1, input2, target, Sink::Value)
    }

    /// The reduced loss (the sum for `Reduction::None`), writing its gradient w.r.t.
    /// `input1` into `grad1` and w.r.t. `input2` into `grad2`.
    ///
    /// # Errors
    /// As [`MarginRankingLoss`].
    pub fn loss_and_grads(
        &self,
        input1: ArrayViewD<'_, F>,
        input2: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
        grad1: ArrayViewMutD<'_, F>,
        grad2: ArrayViewMutD<'_, F>,
    ) -> Result<F> {
        self.run(input1, input2, target, Sink::Grad((grad1, grad2)))
    }

    fn run(
        &self,
        x1: ArrayViewD<'_, F>,
        x2: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        sink: Sink<'_, F, Grads<'_, F>>,
    ) -> Result<F> {
        let shape = x1.shape();
        same_shape(OP, shape, x2.shape())?;
        same_shape(OP, shape, y.shape())?;
        if let Sink::Grad((g1, g2)) = &sink {
            same_shape(OP, shape, g1.shape())?;
            same_shape(OP, shape, g2.shape())?;
        }
        non_empty(OP, &x1)?;
        let denom = denominator(self.reduction, || F::lit(x1.len() as f64));
        let (zero, one, margin) = (F::zero(), F::one(), self.margin);
        Ok(elementwise2(x1, x2, y, denom, sink, |a, b, y| {
            let v = -y * (a - b) + margin;
            let active = if v > zero { one } else { zero };
            (if v < zero { zero } else { v }, -y * active, y * active)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn margin_and_f32() {
        let e = MarginRankingLoss::<f32>::builder().margin(f64::INFINITY).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "margin", .. }));
        let loss = MarginRankingLoss::builder().reduction(Reduction::Sum).build().unwrap();
        // y = 1, x1 < x2 by 2: loss 2
        let v = loss
            .loss(
                array![0.0f32].into_dyn().view(),
                array![2.0f32].into_dyn().view(),
                array![1.0f32].into_dyn().view(),
            )
            .unwrap();
        assert_abs_diff_eq!(v, 2.0);
    }
}
