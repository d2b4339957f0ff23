//! Huber loss.

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, finite_param, forward_output, impl_loss, param, sign0};
use crate::tensor::Float;

const OP: &str = "HuberLoss";

/// Huber loss, PyTorch's `nn.HuberLoss` / `F.huber_loss`: squared error below `delta`,
/// `delta`-scaled absolute error above.
///
/// ```text
/// d_n = x_n - y_n
/// l_n = w_n * 0.5 d_n^2                    if |d_n| <= delta
///       w_n * delta (|d_n| - 0.5 delta)    otherwise
/// dl_n/dx_n = w_n d_n if |d_n| <= delta, else w_n delta sign(d_n)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// With a `weight`, the mean is `Σ w_n l_n / N` (PyTorch's `huber_loss` divides by the
/// number of elements, unlike its weighted `mse_loss` and `l1_loss`). The weight may
/// have any shape that broadcasts to the input's.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `delta` | `1.0` | `> 0` |
/// | `weight` | none | finite, broadcasts to the input |
///
/// Target: same shape as the prediction, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for a weight that
/// does not broadcast, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty
/// input; the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// `delta` unless `delta > 0` and finite, `weight` for a non-finite weight.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.HuberLoss.html>
/// (Huber, *Robust Estimation of a Location Parameter*, 1964).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{HuberLoss, Loss};
///
/// let loss = HuberLoss::builder().delta(2.0).build()?;
/// let pred = array![1.0, 5.0].into_dyn();
/// let y = array![0.0, 0.0].into_dyn();
/// let mut grad = pred.clone();
/// // (0.5 * 1^2 + 2 * (5 - 1)) / 2 = 4.25
/// assert_eq!(loss.loss_and_grad(pred.view(), y.view(), grad.view_mut())?, 4.25);
/// assert_eq!(grad, array![0.5, 1.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "huber_loss")]
#[derive(Clone, Debug)]
pub struct HuberLoss<F> {
    reduction: Reduction,
    delta: F,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> Default for HuberLoss<F> {
    fn default() -> Self {
        HuberLoss { reduction: Reduction::Mean, delta: F::one(), weight: None }
    }
}

/// Builder of [`HuberLoss`].
#[derive(Clone, Debug)]
pub struct HuberLossBuilder<F> {
    reduction: Reduction,
    delta: f64,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> HuberLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets `delta`, where the loss turns from quadratic to linear (default `1.0`).
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }

    /// Sets a per-element weight (any shape that broadcasts to the input).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.weight = Some(weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `delta` unless
    /// `delta > 0` and finite; `weight` for a non-finite weight.
    pub fn build(self) -> Result<HuberLoss<F>> {
        param("delta", self.delta, self.delta > 0.0, "> 0")?;
        finite_param("weight", self.weight.iter().flatten())?;
        Ok(HuberLoss { reduction: self.reduction, delta: F::lit(self.delta), weight: self.weight })
    }
}

impl<F: Float> HuberLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> HuberLossBuilder<F> {
        HuberLossBuilder { reduction: Reduction::Mean, delta: 1.0, weight: None }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// `delta`.
    pub fn delta(&self) -> F {
        self.delta
    }

    /// The per-element weight, if any.
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`HuberLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let (delta, half) = (self.delta, F::lit(0.5));
        Elementwise::new(OP, self.reduction).weight(self.weight.as_ref()).run(
            input,
            target,
            sink,
            |x, y, _| {
                let d = x - y;
                let a = d.abs();
                if a <= delta { (half * d * d, d) } else { (delta * (a - half * delta), delta * sign0(d)) }
            },
        )
    }
}

impl_loss!(HuberLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn invalid_delta() {
        for d in [0.0, -1.0, f64::NAN] {
            let e = HuberLoss::<f32>::builder().delta(d).build().unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { name: "delta", .. }));
        }
    }

    #[test]
    fn weighted_mean_divides_by_numel_f32() {
        // delta 1, d = (1, 3): l = (0.5, 3 - 0.5 = 2.5); w = (2, 1): (1 + 2.5) / 2 = 1.75
        let x = array![1.0f32, 3.0].into_dyn();
        let y = array![0.0f32, 0.0].into_dyn();
        let loss = HuberLoss::builder().weight(array![2.0f32, 1.0]).build().unwrap();
        assert_abs_diff_eq!(loss.loss(x.view(), y.view()).unwrap(), 1.75);
    }
}
