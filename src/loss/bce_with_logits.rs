//! Binary cross-entropy on logits.

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{
    Elementwise, Sink, finite_param, forward_output, impl_binary_labels, impl_loss, log1p_small,
};
use crate::tensor::Float;

const OP: &str = "BceWithLogitsLoss";

/// Sigmoid and binary cross-entropy in one stable step, PyTorch's
/// `nn.BCEWithLogitsLoss` / `F.binary_cross_entropy_with_logits`.
///
/// ```text
/// l_n = -w_n [ p_n y_n log σ(x_n) + (1 - y_n) log(1 - σ(x_n)) ]
///     = w_n [ (1 - y_n) x_n + (1 + (p_n - 1) y_n) softplus(-x_n) ]
/// softplus(z) = max(z, 0) + log(1 + exp(-|z|))
/// dl_n/dx_n = w_n [ (1 + (p_n - 1) y_n) σ(x_n) - p_n y_n ]      (= w_n (σ(x_n) - y_n) without pos_weight)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// `p` is `pos_weight` (one per class, broadcast along the last dimension: shape `[C]`
/// for an input `[N, C]`), `w` the rescaling `weight`. Written with softplus, the value
/// and gradient are finite for any finite logit (±1000 included, in `f32` too). The
/// mean divides by `N` also with weights.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | finite, broadcasts to the input |
/// | `pos_weight` | none | finite, broadcasts to the input |
///
/// Targets: floats of the prediction's shape (`Loss<F, F>`, probabilities in PyTorch),
/// or 0/1 labels (`Loss<F, usize>`, e.g. logits `[N]` or `[N, 1]` against labels
/// `[N]`); both also as `[N]` against a prediction `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a label above 1,
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for a weight that
/// does not broadcast, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty
/// input; the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// `weight` / `pos_weight` for non-finite entries.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{BceWithLogitsLoss, Loss};
///
/// let loss = BceWithLogitsLoss::default();
/// let logits = array![[0.0], [1000.0]].into_dyn(); // a binary classifier's [N, 1]
/// let labels = array![1usize, 0].into_dyn();
/// let mut grad = logits.clone();
/// let value = loss.loss_and_grad(logits.view(), labels.view(), grad.view_mut())?;
/// // (ln 2 + 1000) / 2; grad = (σ(x) - y) / 2
/// assert!((value - (2f64.ln() + 1000.0) / 2.0).abs() < 1e-12);
/// assert_eq!(grad, array![[-0.25], [0.5]].into_dyn());
///
/// let weighted = BceWithLogitsLoss::builder().pos_weight(array![3.0]).build()?;
/// let v = weighted.loss(logits.view(), labels.view())?;
/// assert!((v - (3.0 * 2f64.ln() + 1000.0) / 2.0).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "BCEWithLogitsLoss", alias = "binary_cross_entropy_with_logits")]
#[derive(Clone, Debug)]
pub struct BceWithLogitsLoss<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
    pos_weight: Option<ArrayD<F>>,
}

impl<F: Float> Default for BceWithLogitsLoss<F> {
    fn default() -> Self {
        BceWithLogitsLoss { reduction: Reduction::Mean, weight: None, pos_weight: None }
    }
}

/// Builder of [`BceWithLogitsLoss`].
#[derive(Clone, Debug)]
pub struct BceWithLogitsLossBuilder<F> {
    inner: BceWithLogitsLoss<F>,
}

impl<F: Float> BceWithLogitsLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.inner.reduction = reduction;
        self
    }

    /// Sets a rescaling weight (any shape that broadcasts to the input).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.inner.weight = Some(weight.into_dyn());
        self
    }

    /// Sets the weight of positive examples, one per class (`[C]` for an input
    /// `[N, C]`; any shape that broadcasts to the input).
    pub fn pos_weight<D: Dimension>(mut self, pos_weight: Array<F, D>) -> Self {
        self.inner.pos_weight = Some(pos_weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `weight` or
    /// `pos_weight` for non-finite entries.
    pub fn build(self) -> Result<BceWithLogitsLoss<F>> {
        finite_param("weight", self.inner.weight.iter().flatten())?;
        finite_param("pos_weight", self.inner.pos_weight.iter().flatten())?;
        Ok(self.inner)
    }
}

impl<F: Float> BceWithLogitsLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> BceWithLogitsLossBuilder<F> {
        BceWithLogitsLossBuilder { inner: Self::default() }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The rescaling weight, if any.
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// The positive-class weight, if any.
    pub fn pos_weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.pos_weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`BceWithLogitsLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink, |y| y))
    }

    fn run<Y: Copy>(
        &self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, Y>,
        sink: Sink<'_, F>,
        to_f: impl Fn(Y) -> F,
    ) -> Result<F> {
        let weighted = Elementwise::new(OP, self.reduction).weight(self.weight.as_ref());
        let (zero, one) = (F::zero(), F::one());
        // One exp and one log1p per element: e = exp(-|x|) gives both softplus(-x) and σ(x).
        match &self.pos_weight {
            None => weighted.run(input, target, sink, |x, y, _| {
                let y = to_f(y);
                let e = (-x.abs()).exp();
                let sig = if x >= zero { one / (one + e) } else { e / (one + e) };
                (x.max(zero) - x * y + log1p_small(e), sig - y)
            }),
            Some(pos) => weighted.aux("pos_weight", pos).run(input, target, sink, |x, y, p| {
                let y = to_f(y);
                let e = (-x.abs()).exp();
                let sig = if x >= zero { one / (one + e) } else { e / (one + e) };
                let log_weight = one + (p - one) * y;
                let softplus_neg = (-x).max(zero) + log1p_small(e);
                ((one - y) * x + log_weight * softplus_neg, log_weight * sig - p * y)
            }),
        }
    }
}

impl_loss!(BceWithLogitsLoss<F>: Loss<F, F>, |y| y);

impl_binary_labels!(
    BceWithLogitsLoss,
    OP,
    "0/1 class labels: logits `[N]` or `[N, 1]` (or any shape, multi-label) for class 1."
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn extreme_logits_f32() {
        let x = array![1000.0f32, -1000.0, 100.0, -100.0].into_dyn();
        let y = array![0.0f32, 1.0, 1.0, 0.0].into_dyn();
        let mut g = x.clone();
        let loss = BceWithLogitsLoss::builder().reduction(Reduction::Sum).build().unwrap();
        let v = loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap();
        // 1000 + 1000 + ~0 + ~0
        assert_abs_diff_eq!(v, 2000.0, epsilon = 1e-3);
        assert_abs_diff_eq!(g, array![1.0f32, -1.0, 0.0, 0.0].into_dyn(), epsilon = 1e-30);
    }

    #[test]
    fn confident_logits_give_zero_not_subnormal_gradients() {
        // σ(-90) ≈ 8e-40 and 1 - σ(95) are below f32's smallest normal: written as 0.
        // σ(-80) ≈ 1.8e-35 is normal and kept.
        let x = array![-90.0f32, 95.0, -80.0, -100.0].into_dyn();
        let y = array![0.0f32, 1.0, 0.0, 0.0].into_dyn();
        let mut g = x.clone();
        let loss = BceWithLogitsLoss::builder().reduction(Reduction::Sum).build().unwrap();
        loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap();
        assert_eq!(g[0], 0.0);
        assert_eq!(g[1], 0.0);
        assert_eq!(g[3], 0.0);
        assert_abs_diff_eq!(g[2], (-80.0f32).exp(), epsilon = 1e-40);
        assert!(g[2] >= f32::MIN_POSITIVE);
    }

    #[test]
    fn invalid_pos_weight() {
        let e = BceWithLogitsLoss::<f64>::builder().pos_weight(array![f64::INFINITY]).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "pos_weight", .. }));
    }
}
