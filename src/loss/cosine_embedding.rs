//! Cosine embedding loss.

use ndarray::{ArrayD, ArrayView1, ArrayViewD, ArrayViewMut1, ArrayViewMutD, Axis, Zip};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::loss::util::{Grads, Sink, denominator, forward_output, param};
use crate::tensor::{Float, same_shape};

const OP: &str = "CosineEmbeddingLoss";

/// Similarity loss on pairs of embeddings, PyTorch's `nn.CosineEmbeddingLoss` /
/// `F.cosine_embedding_loss`: `y = 1` pulls a pair together, `y = -1` pushes its cosine
/// below `margin`.
///
/// Inputs `[N, D]` (or `[D]`), target `[N]` (or `[]`):
///
/// ```text
/// cos_n = <a_n, b_n> / sqrt((|a_n|^2 + 1e-12) (|b_n|^2 + 1e-12))
/// l_n = 1 - cos_n                  if y_n = 1
///       max(0, cos_n - margin)     if y_n = -1
///       0                          otherwise
/// dcos_n/da_n = b_n / sqrt(...) - cos_n a_n / (|a_n|^2 + 1e-12)   (symmetric in b)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// The `1e-12` on the squared norms is PyTorch's, so a zero embedding gives `cos = 0`
/// instead of NaN. Two inputs are differentiable, so this loss has its own methods
/// ([`loss_and_grads`](CosineEmbeddingLoss::loss_and_grads)) instead of the
/// one-prediction [`Loss`](crate::loss::Loss) trait. NaN propagates.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `margin` | `0.0` | finite (PyTorch suggests `[-1, 1]`) |
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `input2` or a gradient
/// does not have `input1`'s shape or the target is not `[N]`,
/// [`Error::InvalidInput`](crate::Error::InvalidInput) for inputs that are not 1-D or
/// 2-D, [`Error::EmptyInput`](crate::Error::EmptyInput) for no pair or no feature; the
/// builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter) `margin`
/// if not finite.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.CosineEmbeddingLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::CosineEmbeddingLoss;
///
/// let loss = CosineEmbeddingLoss::default();
/// let a = array![[1.0f64, 0.0], [1.0, 1.0]].into_dyn();
/// let b = array![[0.0, 1.0], [2.0, 2.0]].into_dyn();
/// let y = array![1.0, -1.0].into_dyn();
/// let (mut ga, mut gb) = (a.clone(), b.clone());
/// // row 0: 1 - cos 90° = 1; row 1: max(0, cos 0° - 0) = 1
/// let v = loss.loss_and_grads(a.view(), b.view(), y.view(), ga.view_mut(), gb.view_mut())?;
/// assert!((v - 1.0).abs() < 1e-9);
/// // row 0: -(b/|a||b| - 0) / 2
/// assert!((ga[[0, 1]] + 0.5).abs() < 1e-9);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "cosine_embedding_loss")]
#[derive(Clone, Debug)]
pub struct CosineEmbeddingLoss<F> {
    reduction: Reduction,
    margin: F,
}

impl<F: Float> Default for CosineEmbeddingLoss<F> {
    fn default() -> Self {
        CosineEmbeddingLoss { reduction: Reduction::Mean, margin: F::zero() }
    }
}

/// Builder of [`CosineEmbeddingLoss`].
#[derive(Clone, Debug)]
pub struct CosineEmbeddingLossBuilder<F> {
    reduction: Reduction,
    margin: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> CosineEmbeddingLossBuilder<F> {
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
    pub fn build(self) -> Result<CosineEmbeddingLoss<F>> {
        param("margin", self.margin, true, "finite")?;
        Ok(CosineEmbeddingLoss { reduction: self.reduction, margin: F::lit(self.margin) })
    }
}

impl<F: Float> CosineEmbeddingLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> CosineEmbeddingLossBuilder<F> {
        CosineEmbeddingLossBuilder { reduction: Reduction::Mean, margin: 0.0, _f: std::marker::PhantomData }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The margin.
    pub fn margin(&self) -> F {
        self.margin
    }

    /// PyTorch's output: per-pair losses (the target's shape) for `Reduction::None`, else
    /// the reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`CosineEmbeddingLoss`].
    pub fn forward(
        &self,
        input1: ArrayViewD<'_, F>,
        input2: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
    ) -> Result<ArrayD<F>> {
        let shape = target.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| {
            self.run(input1, input2, target, sink)
        })
    }

    /// The reduced loss (the sum for `Reduction::None`).
    ///
    /// # Errors
    /// As [`CosineEmbeddingLoss`].
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
    /// As [`CosineEmbeddingLoss`].
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
        a: ArrayViewD<'_, F>,
        b: ArrayViewD<'_, F>,
        y: ArrayViewD<'_, F>,
        sink: Sink<'_, F, Grads<'_, F>>,
    ) -> Result<F> {
        let shape = a.shape();
        if !(1..=2).contains(&shape.len()) {
            return Err(Error::invalid_input(
                OP,
                format!("inputs must be [N, D] or [D], got shape {shape:?}"),
            ));
        }
        same_shape(OP, shape, b.shape())?;
        same_shape(OP, &shape[..shape.len() - 1], y.shape())?;
        if let Sink::Grad((g1, g2)) = &sink {
            same_shape(OP, shape, g1.shape())?;
            same_shape(OP, shape, g2.shape())?;
        }
        if a.is_empty() {
            return Err(Error::EmptyInput { op: OP, what: "the inputs have no pairs or no features" });
        }
        let axis = Axis(shape.len() - 1);
        let denom = denominator(self.reduction, || F::lit(y.len() as f64));
        let (zero, one, margin, scale) = (F::zero(), F::one(), self.margin, F::one() / denom);
        let eps = F::lit(1e-12);
        let row = |a: ArrayView1<'_, F>,
                   b: ArrayView1<'_, F>,
                   y: F,
                   g: Option<(ArrayViewMut1<'_, F>, ArrayViewMut1<'_, F>)>| {
            let (mut s, mut aa, mut bb) = (zero, zero, zero);
            Zip::from(&a).and(&b).for_each(|&a, &b| {
                s += a * b;
                aa += a * a;
                bb += b * b;
            });
            let (na, nb) = (aa + eps, bb + eps);
            let d = (na * nb).sqrt();
            let cos = s / d;
            let (l, c) = if y == one {
                (one - cos, -one)
            } else if y == -one {
                let v = cos - margin;
                (if v < zero { zero } else { v }, if v > zero { one } else { zero })
            } else {
                (zero, zero)
            };
            if let Some((mut ga, mut gb)) = g {
                let k = c * scale;
                Zip::from(&mut ga).and(&mut gb).and(&a).and(&b).for_each(|ga, gb, &a, &b| {
                    *ga = k * (b / d - cos * a / na);
                    *gb = k * (a / d - cos * b / nb);
                });
            }
            l
        };
        let mut total = zero;
        match sink {
            Sink::Grad((mut g1, mut g2)) => Zip::from(a.lanes(axis))
                .and(b.lanes(axis))
                .and(&y)
                .and(g1.lanes_mut(axis))
                .and(g2.lanes_mut(axis))
                .for_each(|a, b, &y, g1, g2| total += row(a, b, y, Some((g1, g2)))),
            Sink::Output(mut o) => {
                Zip::from(a.lanes(axis)).and(b.lanes(axis)).and(&y).and(&mut o).for_each(|a, b, &y, o| {
                    *o = row(a, b, y, None);
                    total += *o;
                })
            }
            Sink::Value => Zip::from(a.lanes(axis))
                .and(b.lanes(axis))
                .and(&y)
                .for_each(|a, b, &y| total += row(a, b, y, None)),
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
    fn margin_and_f32_single_pair() {
        let e = CosineEmbeddingLoss::<f64>::builder().margin(f64::NAN).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "margin", .. }));
        // 1-D pair, cos = 0.6 (3-4-5): y = -1, margin 0.5 -> 0.1
        let loss = CosineEmbeddingLoss::builder().margin(0.5).build().unwrap();
        let a = array![3.0f32, 4.0].into_dyn();
        let b = array![1.0f32, 0.0].into_dyn();
        let y = ndarray::arr0(-1.0f32).into_dyn();
        assert_abs_diff_eq!(loss.loss(a.view(), b.view(), y.view()).unwrap(), 0.1, epsilon = 1e-6);
    }
}
