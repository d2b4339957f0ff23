//! Multi-class hinge loss.

use ndarray::{Array, Array1, ArrayD, ArrayView1, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{
    Sink, check_class_sink, class_shapes, class_weight, class_weight_len, denominator, for_rows,
    forward_output, impl_loss, label_weight_sum, param,
};
use crate::tensor::Float;

const OP: &str = "MultiMarginLoss";

/// Multi-class hinge (margin) loss on scores, PyTorch's `nn.MultiMarginLoss` /
/// `F.multi_margin_loss` (Weston–Watkins / Crammer–Singer style SVM loss).
///
/// Input `[N, C]` (or `[C]`), target class indices `[N]` (or `[]`):
///
/// ```text
/// l_n = Σ_{i ≠ y_n} w_{y_n} max(0, margin - x_{n,y_n} + x_{n,i})^p / C
/// dl_n/dx_{n,i} =  w_{y_n} p v^(p-1) / C     for i ≠ y_n with v = margin - x_{n,y_n} + x_{n,i} > 0
/// dl_n/dx_{n,y_n} = -Σ_{i ≠ y_n} (the above)
/// none: (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// `w` is the class `weight` (ones when absent); the mean divides by `N`, not by a
/// weight sum. As in PyTorch, a NaN score fails the `v > 0` test and adds nothing.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `p` | `1` | `1` or `2` |
/// | `margin` | `1.0` | finite |
/// | `weight` | none | `[C]`, finite |
///
/// # Errors
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a class index `>= C`,
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// the wrong shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for an input
/// with more than 2 dimensions, [`Error::LengthMismatch`](crate::Error::LengthMismatch)
/// for a weight without one entry per class, [`Error::EmptyInput`](crate::Error::EmptyInput)
/// for no sample or no class; the builder returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `p` not 1 or 2, `margin`
/// or `weight` not finite, and [`Error::InvalidConfig`](crate::Error::InvalidConfig)
/// for a weight that is not 1-D.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.MultiMarginLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, MultiMarginLoss};
///
/// let loss = MultiMarginLoss::default();
/// let scores = array![[2.0, 1.5, -1.0]].into_dyn();
/// let labels = array![0usize].into_dyn();
/// let mut grad = scores.clone();
/// // (max(0, 1 - 2 + 1.5) + max(0, 1 - 2 - 1)) / 3 = 0.5 / 3
/// assert_eq!(loss.loss_and_grad(scores.view(), labels.view(), grad.view_mut())?, 0.5 / 3.0);
/// assert_eq!(grad, array![[-1.0 / 3.0, 1.0 / 3.0, 0.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "multi_margin_loss", alias = "multiclass_hinge")]
#[derive(Clone, Debug)]
pub struct MultiMarginLoss<F> {
    reduction: Reduction,
    p: u32,
    margin: F,
    weight: Option<Array1<F>>,
}

impl<F: Float> Default for MultiMarginLoss<F> {
    fn default() -> Self {
        MultiMarginLoss { reduction: Reduction::Mean, p: 1, margin: F::one(), weight: None }
    }
}

/// Builder of [`MultiMarginLoss`].
#[derive(Clone, Debug)]
pub struct MultiMarginLossBuilder<F> {
    reduction: Reduction,
    p: u32,
    margin: f64,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> MultiMarginLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the exponent `p`, 1 or 2 (default 1).
    pub fn p(mut self, p: u32) -> Self {
        self.p = p;
        self
    }

    /// Sets the margin (default `1.0`).
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// Sets the class weights, one per class (`[C]`).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.weight = Some(weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `p` not 1 or 2,
    /// `margin` or `weight` not finite; [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a weight that is
    /// not 1-D.
    pub fn build(self) -> Result<MultiMarginLoss<F>> {
        param("p", f64::from(self.p), self.p == 1 || self.p == 2, "1 or 2")?;
        param("margin", self.margin, true, "finite")?;
        let weight = self.weight.map(|w| class_weight("weight", w)).transpose()?;
        Ok(MultiMarginLoss { reduction: self.reduction, p: self.p, margin: F::lit(self.margin), weight })
    }
}

impl<F: Float> MultiMarginLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> MultiMarginLossBuilder<F> {
        MultiMarginLossBuilder { reduction: Reduction::Mean, p: 1, margin: 1.0, weight: None }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The exponent `p`.
    pub fn p(&self) -> u32 {
        self.p
    }

    /// The margin.
    pub fn margin(&self) -> F {
        self.margin
    }

    /// The class weights, if any.
    pub fn weight(&self) -> Option<ArrayView1<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: per-sample losses (the target's shape) for `Reduction::None`,
    /// else the reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`MultiMarginLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<ArrayD<F>> {
        let shape = target.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>, sink: Sink<'_, F>) -> Result<F> {
        let (axis, c) = class_shapes(OP, input.shape(), target.shape(), Some(2))?;
        class_weight_len(OP, self.weight.as_ref(), c)?;
        check_class_sink(OP, input.shape(), target.shape(), &sink)?;
        label_weight_sum::<F>(OP, &target, c, None, None)?;
        let denom = denominator(self.reduction, || F::lit(target.len() as f64));
        let (zero, two, margin) = (F::zero(), F::lit(2.0), self.margin);
        let inv_c = F::one() / F::lit(c as f64);
        let scale = inv_c / denom;
        let square = self.p == 2;
        let w = |t: usize| self.weight.as_ref().map_or(F::one(), |w| w[t]);
        let mut targets = target.iter();
        let total = for_rows(&input, None, axis, sink, |z, _, mut g| {
            // Labels were checked above, so every row has its target.
            let t = targets.next().copied().unwrap_or(0);
            let (xy, wy) = (z[t], w(t));
            let (mut l, mut gy) = (zero, zero);
            for (i, &xi) in z.iter().enumerate() {
                let v = margin - xy + xi;
                let active = i != t && v > zero;
                if active {
                    l += if square { v * v } else { v };
                }
                if let Some(g) = g.as_deref_mut() {
                    if i != t {
                        let d = if !active {
                            zero
                        } else if square {
                            two * v * wy * scale
                        } else {
                            wy * scale
                        };
                        g[i] = d;
                        gy -= d;
                    }
                }
            }
            if let Some(g) = g {
                g[t] = gy;
            }
            l * wy * inv_c
        });
        Ok(total / denom)
    }
}

impl_loss!(
    /// Scores `[N, C]` (or `[C]`) against class indices `[N]` (or `[]`).
    MultiMarginLoss<F>: Loss<F, usize>
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn invalid_p_and_squared_f32() {
        let e = MultiMarginLoss::<f32>::builder().p(3).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "p", .. }));
        // p = 2, margin 1, scores (0, 0.5), target 0: v = 1.5, l = 2.25 / 2
        let loss = MultiMarginLoss::builder().p(2).build().unwrap();
        let x = array![[0.0f32, 0.5]].into_dyn();
        let t = array![0usize].into_dyn();
        let mut g = x.clone();
        assert_abs_diff_eq!(loss.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap(), 1.125);
        assert_abs_diff_eq!(g, array![[-1.5f32, 1.5]].into_dyn());
        let e = loss.loss(x.view(), array![2usize].into_dyn().view()).unwrap_err();
        assert_eq!(e, Error::LabelOutOfRange { op: OP, label: 2, n_classes: 2 });
    }
}
