//! Kullback-Leibler divergence.

use ndarray::{ArrayD, ArrayViewD};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::loss::util::{Denominator, Elementwise, Sink, forward_output, impl_loss};
use crate::tensor::Float;

const OP: &str = "KlDivLoss";

/// The reductions of [`KlDivLoss`]: [`Reduction`]'s three plus PyTorch's `"batchmean"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KlDivReduction {
    /// One loss per element (through
    /// [`Loss::loss_and_grad`](crate::loss::Loss::loss_and_grad): their sum).
    None,
    /// Sum divided by the batch size (`input.shape()[0]`): the true KL divergence per
    /// sample, PyTorch's `"batchmean"`.
    BatchMean,
    /// Mean over *elements* (PyTorch's default, which warns that it is not the KL
    /// divergence; use `BatchMean`).
    #[default]
    Mean,
    /// Sum over elements.
    Sum,
}

impl From<Reduction> for KlDivReduction {
    fn from(r: Reduction) -> Self {
        match r {
            Reduction::None => KlDivReduction::None,
            Reduction::Mean => KlDivReduction::Mean,
            Reduction::Sum => KlDivReduction::Sum,
        }
    }
}

impl std::str::FromStr for KlDivReduction {
    type Err = Error;

    /// `"none"`, `"batchmean"`, `"mean"`, `"sum"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "batchmean" => Ok(KlDivReduction::BatchMean),
            other => other.parse::<Reduction>().map(Into::into),
        }
    }
}

/// Kullback-Leibler divergence `KL(target || exp(input))`, PyTorch's `nn.KLDivLoss` /
/// `F.kl_div`. The input holds log-probabilities; the target probabilities
/// (`log_target = false`) or log-probabilities (`log_target = true`).
///
/// ```text
/// log_target = false:  l_n = y_n (log y_n - x_n)   (0 where y_n = 0),   dl_n/dx_n = -y_n
/// log_target = true:   l_n = exp(y_n) (y_n - x_n),                      dl_n/dx_n = -exp(y_n)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / numel   batchmean: Σ l_n / input.shape[0]   sum: Σ l_n
/// ```
///
/// `mean` (PyTorch's default) averages over all elements; `batchmean` gives the
/// divergence per sample, which is what the formula means.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `BatchMean`, `Mean`, `Sum` |
/// | `log_target` | `false` | bool |
///
/// Target: same shape as the input, or `[N]` against `[N, 1]` (see the
/// [module docs](crate::loss#shapes)). NaN propagates (a negative probability target
/// gives NaN, as in PyTorch).
///
/// # Errors
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or gradient of
/// another shape, [`Error::EmptyInput`](crate::Error::EmptyInput) for an empty input.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.KLDivLoss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{KlDivLoss, KlDivReduction, Loss};
///
/// let loss = KlDivLoss::builder().reduction(KlDivReduction::BatchMean).build()?;
/// let log_q = array![[0.5f64.ln(), 0.5f64.ln()]].into_dyn();
/// let p = array![[1.0, 0.0]].into_dyn();
/// let mut grad = log_q.clone();
/// // KL(p || q) = 1 * ln(1 / 0.5)
/// let v = loss.loss_and_grad(log_q.view(), p.view(), grad.view_mut())?;
/// assert!((v - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(grad, array![[-1.0, 0.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "KLDivLoss", alias = "kl_div")]
#[derive(Clone, Debug, Default)]
pub struct KlDivLoss<F> {
    reduction: KlDivReduction,
    log_target: bool,
    _f: std::marker::PhantomData<F>,
}

/// Builder of [`KlDivLoss`].
#[derive(Clone, Debug)]
pub struct KlDivLossBuilder<F> {
    inner: KlDivLoss<F>,
}

impl<F: Float> KlDivLossBuilder<F> {
    /// Sets the reduction (default `Mean`): a [`KlDivReduction`] or a [`Reduction`].
    pub fn reduction(mut self, reduction: impl Into<KlDivReduction>) -> Self {
        self.inner.reduction = reduction.into();
        self
    }

    /// Whether the target holds log-probabilities (default `false`).
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.inner.log_target = log_target;
        self
    }

    /// Builds (every setting is valid).
    ///
    /// # Errors
    /// None today; returns `Result` like every builder.
    pub fn build(self) -> Result<KlDivLoss<F>> {
        Ok(self.inner)
    }
}

impl<F: Float> KlDivLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> KlDivLossBuilder<F> {
        KlDivLossBuilder {
            inner: KlDivLoss {
                reduction: KlDivReduction::Mean,
                log_target: false,
                _f: std::marker::PhantomData,
            },
        }
    }

    /// The reduction.
    pub fn reduction(&self) -> KlDivReduction {
        self.reduction
    }

    /// Whether the target holds log-probabilities.
    pub fn log_target(&self) -> bool {
        self.log_target
    }

    /// PyTorch's output: the per-element losses for `None`, else the reduced value as a
    /// 0-d array.
    ///
    /// # Errors
    /// As [`KlDivLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == KlDivReduction::None, &shape, |sink| self.run(input, target, sink))
    }

    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        let denom = match self.reduction {
            KlDivReduction::None | KlDivReduction::Sum => F::one(),
            KlDivReduction::Mean => F::lit(input.len() as f64),
            KlDivReduction::BatchMean => F::lit(input.shape().first().copied().unwrap_or(1) as f64),
        };
        let (zero, elementwise) = (F::zero(), Elementwise::with_denominator(OP, Denominator::Given(denom)));
        if self.log_target {
            elementwise.run(input, target, sink, |x, y, _| {
                let p = y.exp();
                (p * (y - x), -p)
            })
        } else {
            elementwise.run(input, target, sink, |x, y, _| {
                // xlogy(y, y): 0 where y == 0.
                let ylogy = if y == zero { zero } else { y * y.ln() };
                (ylogy - y * x, -y)
            })
        }
    }
}

impl_loss!(KlDivLoss<F>: Loss<F, F>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::Loss;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn reductions_and_parse() {
        assert_eq!("batchmean".parse::<KlDivReduction>().unwrap(), KlDivReduction::BatchMean);
        assert_eq!("sum".parse::<KlDivReduction>().unwrap(), KlDivReduction::Sum);
        assert!("avg".parse::<KlDivReduction>().is_err());
        // y = (0.5, 0.5), x = ln(0.25) each, two rows: each element 0.5 (ln 0.5 - ln 0.25) = 0.5 ln 2
        let x = array![[0.25f32.ln(), 0.25f32.ln()], [0.25f32.ln(), 0.25f32.ln()]].into_dyn();
        let y = array![[0.5f32, 0.5], [0.5, 0.5]].into_dyn();
        let e = 0.5 * 2f32.ln();
        let mean = KlDivLoss::default();
        assert_abs_diff_eq!(mean.loss(x.view(), y.view()).unwrap(), e, epsilon = 1e-6);
        let bm = KlDivLoss::builder().reduction(KlDivReduction::BatchMean).build().unwrap();
        assert_abs_diff_eq!(bm.loss(x.view(), y.view()).unwrap(), 2.0 * e, epsilon = 1e-6);
        let lt = KlDivLoss::builder().log_target(true).reduction(Reduction::Sum).build().unwrap();
        let ly = y.mapv(f32::ln);
        assert_abs_diff_eq!(lt.loss(x.view(), ly.view()).unwrap(), 4.0 * e, epsilon = 1e-6);
    }
}
