//! Mean squared error.

use ndarray::{Array, ArrayD, ArrayViewD, Dimension};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, finite_param, forward_output, impl_loss};
use crate::tensor::Float;

const OP: &str = "MseLoss";

/// Mean squared error, PyTorch's `nn.MSELoss` / `F.mse_loss` (no ½).
///
/// ```text
/// l_n = w_n (x_n - y_n)^2
/// none: L = (l_1, ..., l_N)     sum: Σ_n l_n
/// mean: Σ_n l_n / N             (weighted: Σ_n w_n (x_n - y_n)^2 / Σ_n w_n)
/// dL/dx_n = 2 w_n (x_n - y_n) / denominator
/// ```
///
/// `w` is the optional `weight` of `F.mse_loss` (all ones when absent). As in PyTorch,
/// the weighted mean divides by the sum of the weights, not by `N`. Here the weight may
/// have any shape that broadcasts to the input's (PyTorch requires the input's shape).
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | finite, broadcasts to the input |
///
/// Target: same shape as the prediction, or `[N]` against a prediction `[N, 1]` (see
/// the [module docs](crate::loss#shapes)). NaN propagates.
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::InvalidInput`](crate::Error::InvalidInput) for a weight that
/// does not broadcast, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty
/// input; the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a non-finite weight.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, MseLoss};
///
/// let loss = MseLoss::default();
/// let pred = array![[1.0], [3.0]].into_dyn(); // a regression model's [N, 1] output
/// let y = array![0.0, 1.0].into_dyn(); // the dataset's [N] targets
/// let mut grad = pred.clone();
/// // ((1 - 0)^2 + (3 - 1)^2) / 2 = 2.5; grad = 2 (x - y) / 2
/// assert_eq!(loss.loss_and_grad(pred.view(), y.view(), grad.view_mut())?, 2.5);
/// assert_eq!(grad, array![[1.0], [2.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "MSELoss", alias = "mse_loss", alias = "mean_squared_error")]
#[derive(Clone, Debug)]
pub struct MseLoss<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
}

impl<F: Float> Default for MseLoss<F> {
    fn default() -> Self {
        MseLoss { reduction: Reduction::Mean, weight: None }
    }
}

/// Builder of [`MseLoss`].
#[derive(Clone, Debug)]
pub struct MseLossBuilder<F> {
    inner: MseLoss<F>,
}

impl<F: Float> MseLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.inner.reduction = reduction;
        self
    }

    /// Sets a per-element weight (any shape that broadcasts to the input).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.inner.weight = Some(weight.into_dyn());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `weight` for a
    /// non-finite weight.
    pub fn build(self) -> Result<MseLoss<F>> {
        finite_param("weight", self.inner.weight.iter().flatten())?;
        Ok(self.inner)
    }
}

impl<F: Float> MseLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> MseLossBuilder<F> {
        MseLossBuilder { inner: Self::default() }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The per-element weight, if any.
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`MseLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let two = F::lit(2.0);
        let weighted = Elementwise::new(OP, self.reduction).weight(self.weight.as_ref()).weighted_mean();
        weighted.run(input, target, sink, |x, y, _| {
            let d = x - y;
            (d * d, two * d)
        })
    }
}

impl_loss!(MseLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn hand_checked_mean_sum_none() {
        // d = (1, -2, 0.5): d^2 = (1, 4, 0.25), sum 5.25, mean 1.75.
        let x = array![2.0, 0.0, 1.5].into_dyn();
        let y = array![1.0, 2.0, 1.0].into_dyn();
        let mut g = x.clone();
        let mean = MseLoss::default();
        assert_abs_diff_eq!(mean.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap(), 1.75);
        // 2 d / 3
        assert_abs_diff_eq!(g, array![2.0 / 3.0, -4.0 / 3.0, 1.0 / 3.0].into_dyn(), epsilon = 1e-15);
        let sum = MseLoss::builder().reduction(Reduction::Sum).build().unwrap();
        assert_abs_diff_eq!(sum.loss(x.view(), y.view()).unwrap(), 5.25);
        let none = MseLoss::builder().reduction(Reduction::None).build().unwrap();
        assert_eq!(none.forward(x.view(), y.view()).unwrap(), array![1.0, 4.0, 0.25].into_dyn());
        // Reduction::None through the trait: the sum and the gradient of the sum.
        assert_abs_diff_eq!(none.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap(), 5.25);
        assert_abs_diff_eq!(g, array![2.0, -4.0, 1.0].into_dyn());
    }

    #[test]
    fn weighted_mean_divides_by_weight_sum() {
        // w = (1, 3): (1*1 + 3*4) / 4 = 3.25
        let x = array![1.0f32, 2.0].into_dyn();
        let y = array![0.0f32, 0.0].into_dyn();
        let loss = MseLoss::builder().weight(array![1.0f32, 3.0]).build().unwrap();
        assert_abs_diff_eq!(loss.loss(x.view(), y.view()).unwrap(), 3.25);
    }

    #[test]
    fn column_prediction_against_flat_target() {
        let x = array![[1.0], [2.0]].into_dyn();
        let y = array![1.0, 0.0].into_dyn();
        let mut g = x.clone();
        assert_abs_diff_eq!(MseLoss::default().loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap(), 2.0);
        let y_bad = array![1.0, 0.0, 3.0].into_dyn();
        assert!(matches!(MseLoss::default().loss(x.view(), y_bad.view()), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn non_finite_weight_is_rejected() {
        let e = MseLoss::<f64>::builder().weight(array![1.0, f64::NAN]).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "weight", .. }));
    }
}
