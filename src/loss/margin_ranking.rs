//! Margin ranking loss.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::loss::util::{denominator, non_empty, param};
use crate::tensor::Float;

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
        if self.reduction == Reduction::None {
            let mut out = ArrayD::zeros(IxDyn(input1.shape()));
            self.run(input1, input2, target, None, Some(out.view_mut()))?;
            Ok(out)
        } else {
            Ok(ndarray::arr0(self.run(input1, input2, target, None, None)?).into_dyn())
        }
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
        self.run(input1, input2, target, None, None)
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
        self.run(input1, input2, target, Some((grad1, grad2)), None)
    }

    fn run(
        &self,
        x1: ArrayViewD<'_, F>,
        x2: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        grads: Option<(ArrayViewMutD<'_, F>, ArrayViewMutD<'_, F>)>,
        out: Option<ArrayViewMutD<'_, F>>,
    ) -> Result<F> {
        let shape = x1.shape();
        let mismatch =
            |got: &[usize]| Error::ShapeMismatch { op: OP, expected: shape.to_vec(), got: got.to_vec() };
        for s in [x2.shape(), y.shape()] {
            if s != shape {
                return Err(mismatch(s));
            }
        }
        if let Some((g1, g2)) = &grads {
            for s in [g1.shape(), g2.shape()] {
                if s != shape {
                    return Err(mismatch(s));
                }
            }
        }
        non_empty(OP, &x1)?;
        let denom = denominator(self.reduction, || F::lit(x1.len() as f64));
        let (zero, margin, scale) = (F::zero(), self.margin, F::one() / denom);
        let value = |a: F, b: F, y: F| -y * (a - b) + margin;
        let mut total = zero;
        match (grads, out) {
            (Some((mut g1, mut g2)), _) => {
                Zip::from(&mut g1).and(&mut g2).and(&x1).and(&x2).and(&y).for_each(|g1, g2, &a, &b, &y| {
                    let v = value(a, b, y);
                    total += if v < zero { zero } else { v };
                    let active = if v > zero { scale } else { zero };
                    *g1 = -y * active;
                    *g2 = y * active;
                })
            }
            (None, Some(mut o)) => Zip::from(&mut o).and(&x1).and(&x2).and(&y).for_each(|o, &a, &b, &y| {
                let v = value(a, b, y);
                *o = if v < zero { zero } else { v };
                total += *o;
            }),
            (None, None) => Zip::from(&x1).and(&x2).and(&y).for_each(|&a, &b, &y| {
                let v = value(a, b, y);
                total += if v < zero { zero } else { v };
            }),
        }
        Ok(total / denom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
