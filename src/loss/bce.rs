//! Binary cross-entropy on probabilities.

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, finite_param, forward_output, impl_binary_labels, impl_loss};
use crate::tensor::Float;

const OP: &str = "BceLoss";

/// Binary cross-entropy between probabilities and targets, PyTorch's `nn.BCELoss` /
/// `F.binary_cross_entropy`.
///
/// ```text
/// l_n = -w_n [ y_n max(log x_n, -100) + (1 - y_n) max(log(1 - x_n), -100) ]
/// dl_n/dx_n = w_n (x_n - y_n) / max(x_n (1 - x_n), ε),   ε = 1e-12 rounded to f32
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// The log terms are clamped at `-100` and the gradient's denominator at `ε` (PyTorch's
/// `float EPSILON = 1e-12`, i.e. `9.99999996e-13`, in `f64` too), so `x = 0` or `1`
/// gives a finite value. The mean divides by `N` also with a weight. Prefer
/// [`BceWithLogitsLoss`](crate::loss::BceWithLogitsLoss) on logits: it is exact where
/// the sigmoid saturates.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | finite, broadcasts to the input |
///
/// Targets: floats of the prediction's shape (`Loss<F, F>`, any values, as PyTorch), or
/// 0/1 labels (`Loss<F, usize>`); both also as `[N]` against a prediction `[N, 1]` (see
/// the [module docs](crate::loss#shapes)).
///
/// # Errors
/// [`Error::InvalidValue`](crate::Error::InvalidValue) for an input outside `[0, 1]`
/// (NaN included, as PyTorch raises),
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a label above 1,
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for a weight that
/// does not broadcast, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty
/// input; the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a non-finite weight.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.BCELoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{BceLoss, Loss};
///
/// let loss = BceLoss::default();
/// let p = array![0.8f64, 0.4].into_dyn();
/// let labels = array![1usize, 0].into_dyn();
/// let mut grad = p.clone();
/// let value = loss.loss_and_grad(p.view(), labels.view(), grad.view_mut())?;
/// // -(ln 0.8 + ln 0.6) / 2
/// assert!((value - 0.3669845875400375).abs() < 1e-12);
/// assert!(loss.loss(array![1.5].into_dyn().view(), array![1.0].into_dyn().view()).is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "BCELoss", alias = "binary_cross_entropy")]
#[derive(Clone, Debug)]
pub struct BceLoss<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> Default for BceLoss<F> {
    fn default() -> Self {
        BceLoss { reduction: Reduction::Mean, weight: None }
    }
}

/// Builder of [`BceLoss`].
#[derive(Clone, Debug)]
pub struct BceLossBuilder<F> {
    inner: BceLoss<F>,
}

impl<F: Float> BceLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.inner.reduction = reduction;
        self
    }

    /// Sets a rescaling weight (any shape that broadcasts to the input, e.g. `[D]` for
    /// an input `[N, D]`).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.inner.weight = Some(weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `weight` for a
    /// non-finite weight.
    pub fn build(self) -> Result<BceLoss<F>> {
        finite_param("weight", self.inner.weight.iter().flatten())?;
        Ok(self.inner)
    }
}

impl<F: Float> BceLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> BceLossBuilder<F> {
        BceLossBuilder { inner: Self::default() }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The rescaling weight, if any.
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`BceLoss`].
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
        let one = F::one();
        // PyTorch's EPSILON is the f32 literal 1e-12 (9.99999996e-13), also in f64.
        let (floor, eps) = (F::lit(-100.0), F::lit(f64::from(1e-12f32)));
        let weighted =
            Elementwise::new(OP, self.reduction).weight(self.weight.as_ref()).validate(probabilities);
        weighted.run(input, target, sink, |x, y, _| {
            let y = to_f(y);
            let log_x = x.ln().max(floor);
            let log_1mx = (-x).ln_1p().max(floor);
            let l = (y - one) * log_1mx - y * log_x;
            (l, (x - y) / ((one - x) * x).max(eps))
        })
    }
}

/// `Err(InvalidValue)` for an input outside `[0, 1]`.
fn probabilities<F: Float>(input: &ArrayViewD<'_, F>) -> Result<()> {
    let (zero, one) = (F::zero(), F::one());
    // `!(0 <= x <= 1)` also catches NaN, which PyTorch rejects too.
    match input.iter().find(|&&x| !(x >= zero && x <= one)) {
        Some(&bad) => Err(Error::InvalidValue {
            op: OP,
            what: "input (probabilities)",
            value: bad.as_f64(),
            expected: "a probability in [0, 1]",
        }),
        None => Ok(()),
    }
}

impl_loss!(BceLoss<F>: Loss<F, F>, |y| y);

impl_binary_labels!(
    BceLoss,
    OP,
    "0/1 class labels: prediction `[N]` or `[N, 1]` (or any shape, multi-label) of \
     probabilities of class 1."
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn clamps_at_the_edges() {
        // x = 0, y = 1: -max(log 0, -100) = 100; grad = (0 - 1) / f32(1e-12) = -1.0000000039958e12
        let x = array![0.0].into_dyn();
        let y = array![1.0].into_dyn();
        let mut g = x.clone();
        let v = BceLoss::default().loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap();
        assert_eq!(v, 100.0);
        assert_abs_diff_eq!(g[[0]], -1.0 / f64::from(1e-12f32), epsilon = 1e-3);
    }

    #[test]
    fn labels_f32_and_out_of_range() {
        let x = array![[0.5f32], [0.25]].into_dyn();
        let y = array![1usize, 0].into_dyn();
        // -(ln 0.5 + ln 0.75) / 2
        let v = Loss::<f32, usize>::loss(&BceLoss::default(), x.view(), y.view()).unwrap();
        assert_abs_diff_eq!(v, -(0.5f32.ln() + 0.75f32.ln()) / 2.0, epsilon = 1e-6);
        let bad = array![1usize, 2].into_dyn();
        let e = Loss::<f32, usize>::loss(&BceLoss::default(), x.view(), bad.view()).unwrap_err();
        assert_eq!(e, Error::LabelOutOfRange { op: OP, label: 2, n_classes: 2 });
    }
}
