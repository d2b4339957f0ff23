//! [`Softmax`] and [`LogSoftmax`] along one axis of an input of any rank.
//!
//! The input is viewed as `[outer, len, inner]` around the axis (`len` = the axis'
//! length). With `inner = 1` (the last axis) every slice is a contiguous row; otherwise
//! the `len` rows of an outer block are walked in order with per-position running
//! maxima and sums of length `inner` (contiguous too), so no loop strides through
//! memory.

use ndarray::ArrayViewD;

use super::{Pass, copy_into, parameter_free_layer, slice_mut};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::tensor::{Buffer, Float};

/// The axis `dim` of an input with `ndim` dimensions (negative counts from the end; a
/// 0-d input is treated as 1-d, as PyTorch does).
fn wrap_dim(op: &'static str, dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as isize;
    if dim < -n || dim >= n {
        return Err(Error::invalid_input(
            op,
            format!("dim {dim} out of range for a {ndim}-D input, expected a value in [{}, {}]", -n, n - 1),
        ));
    }
    Ok(if dim < 0 { (dim + n) as usize } else { dim as usize })
}

/// `(outer, len, inner)` of `shape` around `axis`.
fn geometry(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    if shape.is_empty() {
        return (1, 1, 1);
    }
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// The state shared by the two layers.
#[derive(Clone, Debug)]
struct Core<F> {
    dim: isize,
    out: Buffer<F>,
    /// A contiguous copy of the input or of `grad_out` when they arrive in another layout.
    staging: Buffer<F>,
    grad_in: Buffer<F>,
    /// Running maxima and sums over `inner` positions.
    acc: Buffer<F>,
    geometry: (usize, usize, usize),
    pass: Pass,
}

impl<F: Float> Core<F> {
    fn new(dim: isize) -> Self {
        Core {
            dim,
            out: Buffer::new(),
            staging: Buffer::new(),
            grad_in: Buffer::new(),
            acc: Buffer::new(),
            geometry: (0, 0, 0),
            pass: Pass::None,
        }
    }

    /// `out = x − max − ln Σ exp(x − max)` (`log`) or `exp(x − max) / Σ exp(x − max)`.
    fn forward(
        &mut self,
        op: &'static str,
        x: ArrayViewD<'_, F>,
        mode: Mode,
        log: bool,
    ) -> Result<ArrayViewD<'_, F>> {
        let axis = wrap_dim(op, self.dim, x.ndim())?;
        let (outer, len, inner) = geometry(x.shape(), axis);
        let xs: &[F] = match x.as_slice() {
            Some(s) => s,
            None => {
                copy_into(&x, &mut self.staging);
                self.staging.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let out = slice_mut(self.out.reshape(x.shape()));
        if out.is_empty() {
            // Nothing to normalise (and chunks of length 0 are not allowed).
        } else if inner == 1 {
            for (o, xr) in out.chunks_exact_mut(len.max(1)).zip(xs.chunks_exact(len.max(1))) {
                row_forward(xr, o, log);
            }
        } else {
            let acc = slice_mut(self.acc.reshape(&[2, inner]));
            let (m, s) = acc.split_at_mut(inner);
            let block = len * inner;
            for (ob, xb) in out.chunks_exact_mut(block).zip(xs.chunks_exact(block)).take(outer) {
                strided_forward(xb, ob, m, s, inner, log);
            }
        }
        self.geometry = (outer, len, inner);
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != self.out.shape() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out.shape().to_vec(),
                got: g.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// Softmax: `dx = y ⊙ (g − Σ g⊙y)`; log-softmax: `dx = g − exp(y) · Σ g`.
    fn backward(&mut self, op: &'static str, g: ArrayViewD<'_, F>, log: bool) -> Result<ArrayViewD<'_, F>> {
        self.check_backward(op, &g)?;
        let gs: &[F] = match g.as_slice() {
            Some(s) => s,
            None => {
                copy_into(&g, &mut self.staging);
                self.staging.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let ys = self.out.view().to_slice().expect("buffer views are contiguous");
        let dx = slice_mut(self.grad_in.reshape(g.shape()));
        let (outer, len, inner) = self.geometry;
        if dx.is_empty() {
        } else if inner == 1 {
            let l = len.max(1);
            for ((d, y), g) in dx.chunks_exact_mut(l).zip(ys.chunks_exact(l)).zip(gs.chunks_exact(l)) {
                row_backward(y, g, d, log);
            }
        } else {
            let s = slice_mut(self.acc.reshape(&[inner]));
            let block = len * inner;
            let blocks = dx.chunks_exact_mut(block).zip(ys.chunks_exact(block)).zip(gs.chunks_exact(block));
            for ((d, y), g) in blocks.take(outer) {
                strided_backward(y, g, d, s, inner, log);
            }
        }
        Ok(self.grad_in.view())
    }
}

fn row_forward<F: Float>(x: &[F], out: &mut [F], log: bool) {
    let m = x.iter().fold(F::neg_infinity(), |m, &v| if v > m { v } else { m });
    // A NaN makes the whole row NaN, as in PyTorch (the max skips it; the sum does not).
    if log {
        let sum: F = x.iter().map(|&v| (v - m).exp()).sum();
        let shift = m + sum.ln();
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = v - shift);
    } else {
        let mut sum = F::zero();
        out.iter_mut().zip(x).for_each(|(o, &v)| {
            *o = (v - m).exp();
            sum += *o;
        });
        out.iter_mut().for_each(|o| *o = *o / sum);
    }
}

fn row_backward<F: Float>(y: &[F], g: &[F], dx: &mut [F], log: bool) {
    if log {
        let sum: F = g.iter().copied().sum();
        dx.iter_mut().zip(y).zip(g).for_each(|((d, &y), &g)| *d = g - y.exp() * sum);
    } else {
        let dot: F = y.iter().zip(g).map(|(&y, &g)| y * g).sum();
        dx.iter_mut().zip(y).zip(g).for_each(|((d, &y), &g)| *d = y * (g - dot));
    }
}

/// One `[len, inner]` block; `m` and `s` (length `inner`) are scratch.
fn strided_forward<F: Float>(x: &[F], out: &mut [F], m: &mut [F], s: &mut [F], inner: usize, log: bool) {
    m.fill(F::neg_infinity());
    for xr in x.chunks_exact(inner) {
        m.iter_mut().zip(xr).for_each(|(m, &v)| *m = if v > *m { v } else { *m });
    }
    s.fill(F::zero());
    for (or, xr) in out.chunks_exact_mut(inner).zip(x.chunks_exact(inner)) {
        for (((o, &v), &m), s) in or.iter_mut().zip(xr).zip(m.iter()).zip(s.iter_mut()) {
            let e = (v - m).exp();
            *s += e;
            *o = if log { v - m } else { e };
        }
    }
    if log {
        s.iter_mut().zip(m.iter()).for_each(|(s, &m)| *s = m + s.ln());
        for (or, xr) in out.chunks_exact_mut(inner).zip(x.chunks_exact(inner)) {
            or.iter_mut().zip(xr).zip(s.iter()).for_each(|((o, &v), &shift)| *o = v - shift);
        }
    } else {
        for or in out.chunks_exact_mut(inner) {
            or.iter_mut().zip(s.iter()).for_each(|(o, &s)| *o = *o / s);
        }
    }
}

fn strided_backward<F: Float>(y: &[F], g: &[F], dx: &mut [F], s: &mut [F], inner: usize, log: bool) {
    s.fill(F::zero());
    for (yr, gr) in y.chunks_exact(inner).zip(g.chunks_exact(inner)) {
        if log {
            s.iter_mut().zip(gr).for_each(|(s, &g)| *s += g);
        } else {
            s.iter_mut().zip(yr).zip(gr).for_each(|((s, &y), &g)| *s += y * g);
        }
    }
    for ((dr, yr), gr) in dx.chunks_exact_mut(inner).zip(y.chunks_exact(inner)).zip(g.chunks_exact(inner)) {
        for (((d, &y), &g), &s) in dr.iter_mut().zip(yr).zip(gr).zip(s.iter()) {
            *d = if log { g - y.exp() * s } else { y * (g - s) };
        }
    }
}

/// Softmax along `dim`, `yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)` with `m = maxⱼ xⱼ` (PyTorch
/// `nn.Softmax`): every slice along `dim` becomes a probability vector.
///
/// Backward: `dL/dxᵢ = yᵢ · (gᵢ − Σⱼ gⱼ yⱼ)` with `g = dL/dy`, along the same slice.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `dim` | required (as in current PyTorch) | `[−ndim, ndim)` of the input; negative counts from the end |
///
/// For a classifier, prefer logits with
/// [`CrossEntropyLoss`](crate::loss::CrossEntropyLoss), which fuses the softmax into
/// the loss (more accurate and cheaper); `Softmax` is for probabilities inside a model
/// (attention weights, mixtures).
///
/// # Errors
/// `forward`: [`Error::InvalidInput`] when `dim` is out of range for the input.
/// `backward`/`backward_input`: [`Error::InvalidInput`] without a preceding recording
/// forward ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] when
/// `grad_out` does not have the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Softmax;
/// use ndtrain::prelude::*;
///
/// let mut sm = Softmax::<f64>::new(-1);
/// let y = sm.forward(array![[0.0, 0.0], [1000.0, 1000.0 + 2f64.ln()]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y[[0, 0]], 0.5);
/// assert!((y[[1, 1]] - 2.0 / 3.0).abs() < 1e-15); // no overflow at 1000
/// // Along the batch axis instead: columns sum to 1.
/// let mut cols = Softmax::<f64>::new(0);
/// let y = cols.forward(array![[1.0, 2.0], [1.0, 0.0]].into_dyn().view(), Mode::Eval)?;
/// assert_eq!(y[[0, 0]] + y[[1, 0]], 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Softmax")]
#[derive(Clone, Debug)]
pub struct Softmax<F> {
    core: Core<F>,
}

impl<F: Float> Softmax<F> {
    /// A softmax along axis `dim` (negative: from the end, `-1` = last). The range is
    /// checked against each input's rank in `forward`.
    pub fn new(dim: isize) -> Self {
        Softmax { core: Core::new(dim) }
    }

    /// The axis, as given.
    pub fn dim(&self) -> isize {
        self.core.dim
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.core.forward("Softmax::forward", x, mode, false)
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.core.backward("Softmax::backward_input", g, false)
    }
}
parameter_free_layer!(Softmax, "Softmax::backward");

/// Log-softmax along `dim`, `yᵢ = xᵢ − m − ln Σⱼ exp(xⱼ − m)` with `m = maxⱼ xⱼ`
/// (PyTorch `nn.LogSoftmax`).
///
/// Backward: `dL/dxᵢ = gᵢ − exp(yᵢ) · Σⱼ gⱼ` with `g = dL/dy`, along the same slice.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `dim` | required | `[−ndim, ndim)` of the input; negative counts from the end |
///
/// Followed by [`NllLoss`](crate::loss::NllLoss) it is cross-entropy; with logits,
/// [`CrossEntropyLoss`](crate::loss::CrossEntropyLoss) does both in one step.
///
/// # Errors
/// As [`Softmax`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::LogSoftmax;
/// use ndtrain::prelude::*;
///
/// let mut lsm = LogSoftmax::<f64>::new(1);
/// let y = lsm.forward(array![[0.0, 0.0], [-1000.0, 0.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y[[0, 0]], -(2f64.ln()));
/// assert_eq!(y[[1, 0]], -1000.0); // finite where softmax underflows to 0
/// let dx = lsm.backward_input(array![[1.0, 0.0], [0.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx[[0, 0]], 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.LogSoftmax")]
#[derive(Clone, Debug)]
pub struct LogSoftmax<F> {
    core: Core<F>,
}

impl<F: Float> LogSoftmax<F> {
    /// A log-softmax along axis `dim` (negative: from the end).
    pub fn new(dim: isize) -> Self {
        LogSoftmax { core: Core::new(dim) }
    }

    /// The axis, as given.
    pub fn dim(&self) -> isize {
        self.core.dim
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.core.forward("LogSoftmax::forward", x, mode, true)
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.core.backward("LogSoftmax::backward_input", g, true)
    }
}
parameter_free_layer!(LogSoftmax, "LogSoftmax::backward");
