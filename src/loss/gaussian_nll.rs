//! Gaussian negative log-likelihood.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, Zip};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::loss::util::{
    Grads, Sink, align_target, denominator, elementwise2, forward_output, non_empty, param,
};
use crate::tensor::{Float, same_shape};

const OP: &str = "GaussianNllLoss";

/// Negative log-likelihood of targets under Gaussians with predicted means and
/// variances, PyTorch's `nn.GaussianNLLLoss` / `F.gaussian_nll_loss`.
///
/// ```text
/// v_n = max(var_n, eps)                         (clamped without stopping the gradient)
/// l_n = 0.5 (log v_n + (x_n - y_n)^2 / v_n)  [+ 0.5 log(2π) if full]
/// dl_n/dx_n = (x_n - y_n) / v_n
/// dl_n/dvar_n = 0.5 (1 / v_n - (x_n - y_n)^2 / v_n^2)
/// none: L = (l_1, ..., l_N)   mean: Σ l_n / N   sum: Σ l_n   (N = elements of the input)
/// ```
///
/// `var` has the input's shape (heteroscedastic), or one value per row shared across
/// the last dimension: the input's shape without its last dimension, or with it set to 1
/// (homoscedastic), as in PyTorch; its gradient then sums over that dimension. As in
/// PyTorch, the clamp at `eps` happens under `no_grad`, so the gradient w.r.t. `var` is
/// evaluated at the clamped value and passed through unchanged.
///
/// Two inputs are differentiable, so this loss has its own methods
/// ([`loss_and_grads`](GaussianNllLoss::loss_and_grads)) instead of the one-prediction
/// [`Loss`](crate::loss::Loss) trait. NaN propagates.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `full` | `false` | bool |
/// | `eps` | `1e-6` | `> 0` |
///
/// # Errors
/// [`Error::InvalidValue`](crate::Error::InvalidValue) for a negative variance (as
/// PyTorch raises), [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target,
/// variance or gradient of an unsupported shape, [`Error::EmptyInput`](crate::Error::EmptyInput)
/// for an empty input; the builder returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `eps` unless finite and
/// `> 0`.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.GaussianNLLLoss.html>
/// (Nix & Weigend, *Estimating the mean and variance of the target probability
/// distribution*, 1994).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::GaussianNllLoss;
///
/// let loss = GaussianNllLoss::default();
/// let mean = array![[1.0, 2.0], [0.0, 0.0]].into_dyn();
/// let y = array![[2.0, 2.0], [0.0, 1.0]].into_dyn();
/// let var = array![1.0, 2.0].into_dyn(); // one variance per row
/// let (mut g_mean, mut g_var) = (mean.clone(), var.clone());
/// let v = loss.loss_and_grads(mean.view(), y.view(), var.view(), g_mean.view_mut(), g_var.view_mut())?;
/// // (0.5 * 1 + 0 + 2 * 0.5 ln 2 + 0.5 * 0.5) / 4
/// assert!((v - (0.75 + 2f64.ln()) / 4.0).abs() < 1e-15);
/// assert_eq!(g_mean, array![[-0.25, 0.0], [0.0, -0.125]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "GaussianNLLLoss", alias = "gaussian_nll_loss")]
#[derive(Clone, Debug)]
pub struct GaussianNllLoss<F> {
    reduction: Reduction,
    full: bool,
    eps: F,
}

impl<F: Float> Default for GaussianNllLoss<F> {
    fn default() -> Self {
        GaussianNllLoss { reduction: Reduction::Mean, full: false, eps: F::lit(1e-6) }
    }
}

/// Builder of [`GaussianNllLoss`].
#[derive(Clone, Debug)]
pub struct GaussianNllLossBuilder<F> {
    reduction: Reduction,
    full: bool,
    eps: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> GaussianNllLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Whether to add the constant `0.5 log(2π)` (default `false`).
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Sets the variance floor `eps` (default `1e-6`).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `eps` unless finite
    /// and `> 0`.
    pub fn build(self) -> Result<GaussianNllLoss<F>> {
        param("eps", self.eps, self.eps > 0.0, "> 0")?;
        Ok(GaussianNllLoss { reduction: self.reduction, full: self.full, eps: F::lit(self.eps) })
    }
}

/// How `var` lines up with the input.
enum VarLayout {
    /// Same shape.
    Same,
    /// One variance per lane along the last axis; `squeeze` if var has a trailing 1.
    PerRow { squeeze: bool },
}

impl<F: Float> GaussianNllLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> GaussianNllLossBuilder<F> {
        GaussianNllLossBuilder {
            reduction: Reduction::Mean,
            full: false,
            eps: 1e-6,
            _f: std::marker::PhantomData,
        }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Whether the constant term is added.
    pub fn full(&self) -> bool {
        self.full
    }

    /// The variance floor.
    pub fn eps(&self) -> F {
        self.eps
    }

    /// PyTorch's output: the per-element losses (the input's shape) for
    /// `Reduction::None`, else the reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`GaussianNllLoss`].
    pub fn forward(
        &self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
        var: ArrayViewD<'_, F>,
    ) -> Result<ArrayD<F>> {
        let shape = input.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, var, sink))
    }

    /// The reduced loss (the sum for `Reduction::None`).
    ///
    /// # Errors
    /// As [`GaussianNllLoss`].
    pub fn loss(
        &self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
        var: ArrayViewD<'_, F>,
    ) -> Result<F> {
        self.run(input, target, var, Sink::Value)
    }

    /// The reduced loss (the sum for `Reduction::None`), writing its gradient w.r.t. the
    /// input (the means) into `grad_input` and w.r.t. `var` into `grad_var` (`var`'s
    /// shape).
    ///
    /// # Errors
    /// As [`GaussianNllLoss`].
    pub fn loss_and_grads(
        &self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
        var: ArrayViewD<'_, F>,
        grad_input: ArrayViewMutD<'_, F>,
        grad_var: ArrayViewMutD<'_, F>,
    ) -> Result<F> {
        self.run(input, target, var, Sink::Grad((grad_input, grad_var)))
    }

    fn layout(input: &[usize], var: &[usize]) -> Result<VarLayout> {
        if var == input {
            return Ok(VarLayout::Same);
        }
        if let Some((_, lead)) = input.split_last() {
            if var == lead {
                return Ok(VarLayout::PerRow { squeeze: false });
            }
            if var.len() == input.len() && var[..lead.len()] == *lead && var[lead.len()] == 1 {
                return Ok(VarLayout::PerRow { squeeze: true });
            }
        }
        Err(Error::ShapeMismatch { op: OP, expected: input.to_vec(), got: var.to_vec() })
    }

    fn run(
        &self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, F>,
        var: ArrayViewD<'_, F>,
        sink: Sink<'_, F, Grads<'_, F>>,
    ) -> Result<F> {
        non_empty(OP, &input)?;
        let target = align_target(OP, input.shape(), target)?;
        let layout = Self::layout(input.shape(), var.shape())?;
        if let Sink::Grad((gi, gv)) = &sink {
            same_shape(OP, input.shape(), gi.shape())?;
            same_shape(OP, var.shape(), gv.shape())?;
        }
        if let Some(&bad) = var.iter().find(|&&v| v < F::zero()) {
            return Err(Error::InvalidValue {
                op: OP,
                what: "var",
                value: bad.as_f64(),
                expected: "a variance >= 0",
            });
        }
        let denom = denominator(self.reduction, || F::lit(input.len() as f64));
        let (zero, half, eps, scale) = (F::zero(), F::lit(0.5), self.eps, F::one() / denom);
        let constant = if self.full { half * F::lit((2.0 * std::f64::consts::PI).ln()) } else { zero };
        let clamp = |v: F| if v < eps { eps } else { v };
        // Per element: (loss, dl/dx, dl/dv) at the clamped variance v.
        let elem = |x: F, y: F, v: F| {
            let d = x - y;
            let d2v = d * d / v;
            (half * (v.ln() + d2v) + constant, d / v, half * (F::one() - d2v) / v)
        };
        let squeeze = match layout {
            VarLayout::Same => {
                return Ok(elementwise2(input, target, var, denom, sink, |x, y, v| elem(x, y, clamp(v))));
            }
            VarLayout::PerRow { squeeze } => squeeze,
        };
        let last = Axis(input.ndim() - 1);
        let var_rows = if squeeze { var.index_axis_move(last, 0) } else { var };
        let mut total = zero;
        match sink {
            Sink::Grad((mut gi, gv)) => {
                let mut gv_rows = if squeeze { gv.index_axis_move(last, 0) } else { gv };
                Zip::from(input.lanes(last))
                    .and(target.lanes(last))
                    .and(&var_rows)
                    .and(gi.lanes_mut(last))
                    .and(&mut gv_rows)
                    .for_each(|xs, ys, &v, mut gis, gv| {
                        let v = clamp(v);
                        *gv = zero;
                        Zip::from(&mut gis).and(&xs).and(&ys).for_each(|gi, &x, &y| {
                            let (l, dx, dv) = elem(x, y, v);
                            total += l;
                            *gi = dx * scale;
                            *gv += dv * scale;
                        });
                    })
            }
            Sink::Output(mut o) => Zip::from(input.lanes(last))
                .and(target.lanes(last))
                .and(&var_rows)
                .and(o.lanes_mut(last))
                .for_each(|xs, ys, &v, mut os| {
                    let v = clamp(v);
                    Zip::from(&mut os).and(&xs).and(&ys).for_each(|o, &x, &y| {
                        *o = elem(x, y, v).0;
                        total += *o;
                    });
                }),
            Sink::Value => {
                Zip::from(input.lanes(last)).and(target.lanes(last)).and(&var_rows).for_each(|xs, ys, &v| {
                    let v = clamp(v);
                    Zip::from(&xs).and(&ys).for_each(|&x, &y| total += elem(x, y, v).0);
                })
            }
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
    fn eps_negative_var_and_f32() {
        let e = GaussianNllLoss::<f32>::builder().eps(0.0).build().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "eps", .. }));
        let loss = GaussianNllLoss::<f32>::default();
        let x = array![[1.0f32, 2.0]].into_dyn();
        let e = loss.loss(x.view(), x.view(), array![[1.0f32, -1.0]].into_dyn().view()).unwrap_err();
        assert!(matches!(e, Error::InvalidValue { what: "var", .. }));
        // var [N, 1] against [N, D]; x = y: 0.5 ln 4 per element
        let v = loss.loss(x.view(), x.view(), array![[4.0f32]].into_dyn().view()).unwrap();
        assert_abs_diff_eq!(v, 0.5 * 4f32.ln(), epsilon = 1e-6);
        let e = loss.loss(x.view(), x.view(), array![4.0f32, 1.0, 2.0].into_dyn().view()).unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }));
    }
}
