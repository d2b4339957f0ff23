//! Negative log-likelihood on log-probabilities.

use ndarray::{Array, Array1, ArrayD, ArrayView1, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{
    Sink, check_class_sink, class_shapes, class_weight, class_weight_len, denominator, for_rows,
    forward_output, impl_loss, label_weight_sum,
};
use crate::tensor::Float;

const OP: &str = "NllLoss";

/// Negative log-likelihood of class indices under log-probabilities, PyTorch's
/// `nn.NLLLoss` / `F.nll_loss`. Feed it a log-softmax output; on logits use
/// [`CrossEntropyLoss`](crate::loss::CrossEntropyLoss), which fuses both.
///
/// Input `[N, C]`, `[N, C, d1, ...]` (class on axis 1) or `[C]`; target `[N]`,
/// `[N, d1, ...]` or `[]`:
///
/// ```text
/// l_n = -w_{y_n} x_{n, y_n}                       (0 if y_n is ignored)
/// mean: Σ_n l_n / Σ_{n not ignored} w_{y_n}       sum: Σ_n l_n     none: (l_1, ..., l_N)
/// dl_n/dx_{n,c} = -w_{y_n} [c = y_n]
/// ```
///
/// `w` is the class `weight` (ones when absent). All targets ignored: the mean is NaN
/// and the gradient zero, as in PyTorch. NaN propagates.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | `[C]`, finite |
/// | `ignore_index` | none | any class index |
///
/// Deviation: PyTorch's `ignore_index` defaults to `-100`, which no `usize` target can
/// take; the default `None` ignores nothing (the same for valid targets). Use a sentinel
/// such as `usize::MAX` with `ignore_index(usize::MAX)` to mark ignored targets.
///
/// # Errors
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a class index `>= C`
/// (not ignored), [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or
/// gradient of the wrong shape, [`Error::LengthMismatch`](crate::Error::LengthMismatch)
/// for a weight without one entry per class, [`Error::EmptyInput`](crate::Error::EmptyInput)
/// for no sample or no class; the builder returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a non-finite weight
/// and [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a weight that is not 1-D.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.NLLLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, NllLoss};
///
/// let loss = NllLoss::builder().weight(array![1.0, 3.0]).build()?;
/// let log_p = array![[-0.5, -1.0], [-2.0, -0.25]].into_dyn();
/// let labels = array![0usize, 1].into_dyn();
/// let mut grad = log_p.clone();
/// // (1 * 0.5 + 3 * 0.25) / (1 + 3)
/// assert_eq!(loss.loss_and_grad(log_p.view(), labels.view(), grad.view_mut())?, 0.3125);
/// assert_eq!(grad, array![[-0.25, 0.0], [0.0, -0.75]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "NLLLoss", alias = "nll_loss")]
#[derive(Clone, Debug)]
pub struct NllLoss<F> {
    reduction: Reduction,
    weight: Option<Array1<F>>,
    ignore_index: Option<usize>,
}

impl<F: Float> Default for NllLoss<F> {
    fn default() -> Self {
        NllLoss { reduction: Reduction::Mean, weight: None, ignore_index: None }
    }
}

/// Builder of [`NllLoss`].
#[derive(Clone, Debug)]
pub struct NllLossBuilder<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
    ignore_index: Option<usize>,
}

impl<F: Float> NllLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the class weights, one per class (`[C]`).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.weight = Some(weight.into_dyn());
        self
    }

    /// Targets equal to `index` contribute nothing. Default: none.
    pub fn ignore_index(mut self, index: usize) -> Self {
        self.ignore_index = Some(index);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `weight` non-finite;
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a weight that is not 1-D.
    pub fn build(self) -> Result<NllLoss<F>> {
        let weight = self.weight.map(|w| class_weight("weight", w)).transpose()?;
        Ok(NllLoss { reduction: self.reduction, weight, ignore_index: self.ignore_index })
    }
}

impl<F: Float> NllLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> NllLossBuilder<F> {
        NllLossBuilder { reduction: Reduction::Mean, weight: None, ignore_index: None }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The class weights, if any.
    pub fn weight(&self) -> Option<ArrayView1<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// The ignored class index, if any.
    pub fn ignore_index(&self) -> Option<usize> {
        self.ignore_index
    }

    /// PyTorch's output: per-sample losses (the target's shape) for `Reduction::None`,
    /// else the reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`NllLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<ArrayD<F>> {
        let shape = target.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>, sink: Sink<'_, F>) -> Result<F> {
        let (axis, c) = class_shapes(OP, input.shape(), target.shape(), None)?;
        class_weight_len(OP, self.weight.as_ref(), c)?;
        check_class_sink(OP, input.shape(), target.shape(), &sink)?;
        let counted = label_weight_sum(OP, &target, c, self.ignore_index, self.weight.as_ref())?;
        let denom = denominator(self.reduction, || counted);
        let scale = F::one() / denom;
        let ignore = self.ignore_index;
        let w = |t: usize| self.weight.as_ref().map_or(F::one(), |w| w[t]);
        let mut targets = target.iter();
        let total = for_rows(&input, None, axis, sink, |z, _, g| {
            let t = targets.next().copied().filter(|&t| Some(t) != ignore);
            if let Some(g) = g {
                g.fill(F::zero());
                if let Some(t) = t {
                    g[t] = -w(t) * scale;
                }
            }
            t.map_or(F::zero(), |t| -w(t) * z[t])
        });
        Ok(total / denom)
    }
}

impl_loss!(
    /// Log-probabilities `[N, C]` (or `[N, C, d1, ...]`, `[C]`) against class indices `[N]`
    /// (`[N, d1, ...]`, `[]`).
    NllLoss<F>: Loss<F, usize>
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn ignore_and_f32() {
        // rows 0 and 2 count: (0.5 + 2) / 2
        let x = array![[-0.5f32, -1.0], [-3.0, -0.1], [-0.2, -2.0]].into_dyn();
        let t = array![0usize, 9, 1].into_dyn();
        let loss = NllLoss::builder().ignore_index(9).build().unwrap();
        let mut g = x.clone();
        assert_abs_diff_eq!(loss.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap(), 1.25);
        assert_eq!(g, array![[-0.5f32, 0.0], [0.0, 0.0], [0.0, -0.5]].into_dyn());
        let e = NllLoss::default().loss(x.view(), t.view()).unwrap_err();
        assert_eq!(e, Error::LabelOutOfRange { op: OP, label: 9, n_classes: 2 });
    }
}
