//! Poisson negative log-likelihood.

use ndarray::{ArrayD, ArrayViewD};

use crate::error::Result;
use crate::loss::Reduction;
use crate::loss::util::{Elementwise, Sink, forward_output, impl_loss, param};
use crate::tensor::Float;

const OP: &str = "PoissonNllLoss";

/// Negative log-likelihood of counts under a Poisson distribution, PyTorch's
/// `nn.PoissonNLLLoss` / `F.poisson_nll_loss`.
///
/// ```text
/// log_input = true  (x is the log-rate):  l_n = exp(x_n) - y_n x_n,           dl_n/dx_n = exp(x_n) - y_n
/// log_input = false (x is the rate):      l_n = x_n - y_n log(x_n + eps),     dl_n/dx_n = 1 - y_n / (x_n + eps)
/// full = true adds Stirling's term  y_n log y_n - y_n + 0.5 log(2π y_n)  where y_n > 1
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n
/// ```
///
/// With `log_input`, `exp(x)` overflows past `x ≈ 88` in `f32` (`≈ 709` in `f64`), as
/// in PyTorch; with a rate input, `x + eps <= 0` gives NaN. Both propagate.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `log_input` | `true` | bool |
/// | `full` | `false` | bool |
/// | `eps` | `1e-8` | `>= 0` |
///
/// Target: same shape as the input, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)).
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty input;
/// the builder returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// `eps` unless finite and `>= 0`.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.PoissonNLLLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{Loss, PoissonNllLoss};
///
/// let loss = PoissonNllLoss::default(); // log_input = true
/// let log_rate = array![0.0, 2f64.ln()].into_dyn();
/// let counts = array![1.0, 3.0].into_dyn();
/// let mut grad = log_rate.clone();
/// // ((1 - 0) + (2 - 3 ln 2)) / 2
/// let v = loss.loss_and_grad(log_rate.view(), counts.view(), grad.view_mut())?;
/// assert!((v - (3.0 - 3.0 * 2f64.ln()) / 2.0).abs() < 1e-15);
/// assert_eq!(grad, array![0.0, -0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "PoissonNLLLoss", alias = "poisson_nll_loss")]
#[derive(Clone, Debug)]
pub struct PoissonNllLoss<F> {
    reduction: Reduction,
    log_input: bool,
    full: bool,
    eps: F,
}

impl<F: Float> Default for PoissonNllLoss<F> {
    fn default() -> Self {
        PoissonNllLoss { reduction: Reduction::Mean, log_input: true, full: false, eps: F::lit(1e-8) }
    }
}

/// Builder of [`PoissonNllLoss`].
#[derive(Clone, Debug)]
pub struct PoissonNllLossBuilder<F> {
    reduction: Reduction,
    log_input: bool,
    full: bool,
    eps: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> PoissonNllLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Whether the input is the log of the rate (default `true`).
    pub fn log_input(mut self, log_input: bool) -> Self {
        self.log_input = log_input;
        self
    }

    /// Whether to add Stirling's approximation of `log(y!)` (default `false`).
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Sets `eps`, added to a rate input before its log (default `1e-8`).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `eps` unless finite
    /// and `>= 0`.
    pub fn build(self) -> Result<PoissonNllLoss<F>> {
        param("eps", self.eps, self.eps >= 0.0, ">= 0")?;
        Ok(PoissonNllLoss {
            reduction: self.reduction,
            log_input: self.log_input,
            full: self.full,
            eps: F::lit(self.eps),
        })
    }
}

impl<F: Float> PoissonNllLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> PoissonNllLossBuilder<F> {
        PoissonNllLossBuilder {
            reduction: Reduction::Mean,
            log_input: true,
            full: false,
            eps: 1e-8,
            _f: std::marker::PhantomData,
        }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Whether the input is the log-rate.
    pub fn log_input(&self) -> bool {
        self.log_input
    }

    /// Whether Stirling's term is added.
    pub fn full(&self) -> bool {
        self.full
    }

    /// `eps`.
    pub fn eps(&self) -> F {
        self.eps
    }

    /// PyTorch's output: the per-element losses for `Reduction::None`, else the reduced
    /// value as a 0-d array.
    ///
    /// # Errors
    /// As [`PoissonNllLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let (zero, one, half, eps) = (F::zero(), F::one(), F::lit(0.5), self.eps);
        let two_pi = F::lit(2.0 * std::f64::consts::PI);
        let full = self.full;
        let stirling = move |y: F| {
            if full && y > one { y * y.ln() - y + half * (two_pi * y).ln() } else { zero }
        };
        let elementwise = Elementwise::new(OP, self.reduction);
        if self.log_input {
            elementwise.run(input, target, sink, |x, y, _| {
                let e = x.exp();
                (e - y * x + stirling(y), e - y)
            })
        } else {
            elementwise.run(input, target, sink, |x, y, _| {
                let r = x + eps;
                (x - y * r.ln() + stirling(y), one - y / r)
            })
        }
    }
}

impl_loss!(PoissonNllLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn eps_and_full_f32() {
        let e = PoissonNllLoss::<f32>::builder().eps(-1.0).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "eps", .. }));
        // rate input, eps 0: x = 2, y = 2: 2 - 2 ln 2 + Stirling(2) = 2 ln 2 - 2 + 0.5 ln(4π)
        let loss = PoissonNllLoss::builder().log_input(false).full(true).eps(0.0).build().unwrap();
        let x = array![2.0f32].into_dyn();
        let y = array![2.0f32].into_dyn();
        let expected =
            2.0 - 2.0 * 2f32.ln() + 2.0 * 2f32.ln() - 2.0 + 0.5 * (4.0 * std::f32::consts::PI).ln();
        assert_abs_diff_eq!(loss.loss(x.view(), y.view()).unwrap(), expected, epsilon = 1e-6);
    }
}
