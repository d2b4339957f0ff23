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
        out.iter_mut().for_each(|o| *o /= sum);
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
            or.iter_mut().zip(s.iter()).for_each(|(o, &s)| *o /= s);
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
/// let y = sm.forward(array![[0.0, 2f64.ln()], [1000.0, 1000.0]].into_dyn().view(), Mode::Train)?;
/// assert!((y[[0, 1]] - 2.0 / 3.0).abs() < 1e-15);
/// assert_eq!(y[[1, 1]], 0.5); // no overflow at 1000
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model};
    use approx::assert_abs_diff_eq;
    use ndarray::{Array, ArrayD, IxDyn, array};

    /// ```python
    /// x = np.array([1., 2., 3.]); e = np.exp(x - 3); y = e / e.sum()   # softmax
    /// x - 3 - np.log(e.sum())                                          # log-softmax
    /// g = np.array([1., -2., .5]); y * (g - (g * y).sum()); g - y * g.sum()
    /// ```
    #[test]
    fn hand_checked_values() {
        let x = array![[1.0, 2.0, 3.0]].into_dyn();
        let g = array![[1.0, -2.0, 0.5]].into_dyn();
        let mut sm = Softmax::<f64>::new(-1);
        let y = sm.forward(x.view(), Mode::Train).unwrap().to_owned();
        let want = array![[0.09003057317038046, 0.24472847105479764, 0.6652409557748218]].into_dyn();
        assert_abs_diff_eq!(y, want, epsilon = 1e-16);
        let dx = sm.backward_input(g.view()).unwrap().to_owned();
        let want = array![[0.09604514583293236, -0.4731076385350339, 0.3770624927021015]].into_dyn();
        assert_abs_diff_eq!(dx, want, epsilon = 1e-15);

        let mut lsm = LogSoftmax::<f64>::new(1);
        let y = lsm.forward(x.view(), Mode::Train).unwrap().to_owned();
        let want = array![[-2.4076059644443806, -1.4076059644443804, -0.4076059644443804]].into_dyn();
        assert_abs_diff_eq!(y, want, epsilon = 1e-15);
        let dx = lsm.backward_input(g.view()).unwrap().to_owned();
        let want = array![[1.0450152865851903, -1.8776357644726012, 0.8326204778874109]].into_dyn();
        assert_abs_diff_eq!(dx, want, epsilon = 1e-15);
        assert_eq!((sm.dim(), lsm.dim()), (-1, 1));
    }

    /// Along an inner axis (the strided path) equals along the last axis of the
    /// permuted input (the row path), forward and backward, for every axis of a 4-D input.
    #[test]
    fn every_axis_matches_the_row_path() {
        let shape = [2, 3, 4, 5];
        let x = Array::from_shape_fn(IxDyn(&shape), |i| {
            ((i[0] * 60 + i[1] * 20 + i[2] * 5 + i[3]) as f64 * 0.37).sin() * 3.0
        });
        let g =
            Array::from_shape_fn(IxDyn(&shape), |i| ((i[0] + 2 * i[1] + 3 * i[2] + 5 * i[3]) as f64).cos());
        for axis in 0..4 {
            // Move `axis` last.
            let mut perm: Vec<usize> = (0..4).filter(|&a| a != axis).collect();
            perm.push(axis);
            let xp = x.view().permuted_axes(perm.clone()).as_standard_layout().into_owned();
            let gp = g.view().permuted_axes(perm.clone()).as_standard_layout().into_owned();
            let mut inverse = vec![0; 4];
            perm.iter().enumerate().for_each(|(k, &p)| inverse[p] = k);
            for log in [false, true] {
                let (mut a, mut b): (Box<dyn Layer<f64>>, Box<dyn Layer<f64>>) = if log {
                    (Box::new(LogSoftmax::new(axis as isize)), Box::new(LogSoftmax::new(-1)))
                } else {
                    (Box::new(Softmax::new(axis as isize - 4)), Box::new(Softmax::new(3)))
                };
                let ya = a.forward(x.view(), Mode::Train).unwrap().to_owned();
                let yb = b.forward(xp.view(), Mode::Train).unwrap().to_owned();
                let yb = yb.view().permuted_axes(inverse.clone()).to_owned();
                assert_abs_diff_eq!(ya, yb, epsilon = 1e-15);
                let da = a.backward_input(g.view()).unwrap().to_owned();
                let db = b.backward_input(gp.view()).unwrap().to_owned();
                let db = db.view().permuted_axes(inverse.clone()).to_owned();
                assert_abs_diff_eq!(da, db, epsilon = 1e-14);
                if !log {
                    // Every slice along the axis sums to 1.
                    let sums = ya.sum_axis(ndarray::Axis(axis));
                    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-15), "axis {axis}");
                }
            }
        }
    }

    #[test]
    fn extreme_values() {
        let x = array![[1000.0, 0.0], [f64::NEG_INFINITY, 0.0], [-1000.0, -1000.0]].into_dyn();
        let mut sm = Softmax::<f64>::new(-1);
        let y = sm.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]].into_dyn());
        let dx = sm.backward_input(array![[1.0, 2.0], [3.0, 4.0], [1.0, 0.0]].into_dyn().view()).unwrap();
        assert_eq!(dx, array![[0.0, 0.0], [0.0, 0.0], [0.25, -0.25]].into_dyn());
        let mut lsm = LogSoftmax::<f64>::new(-1);
        let y = lsm.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y.slice(ndarray::s![..2, ..]), array![[0.0, -1000.0], [f64::NEG_INFINITY, 0.0]]);
        // −1000 − (−1000 + ln 2): exact up to the rounding of the shift (ulp(1000)).
        assert_abs_diff_eq!(y[[2, 0]], -(2f64.ln()), epsilon = 2e-13);
        let dx = lsm.backward_input(array![[1.0, 2.0], [3.0, 4.0], [1.0, 0.0]].into_dyn().view()).unwrap();
        assert_eq!(dx.slice(ndarray::s![..2, ..]), array![[-2.0, 2.0], [3.0, -3.0]]);
        assert_abs_diff_eq!(dx[[2, 0]], 0.5, epsilon = 2e-13);
        // A NaN spoils its own slice only.
        let x = array![[f64::NAN, 0.0], [1.0, 1.0]].into_dyn();
        let y = sm.forward(x.view(), Mode::Eval).unwrap();
        assert!(y[[0, 0]].is_nan() && y[[0, 1]].is_nan());
        assert_eq!((y[[1, 0]], y[[1, 1]]), (0.5, 0.5));
    }

    #[test]
    fn shapes_layouts_and_errors() {
        // 0-d and 1-d inputs, as in PyTorch; empty inputs.
        let mut sm = Softmax::<f64>::new(0);
        assert_eq!(sm.forward(ndarray::arr0(5.0).into_dyn().view(), Mode::Train).unwrap()[[]], 1.0);
        assert_eq!(sm.backward_input(ndarray::arr0(3.0).into_dyn().view()).unwrap()[[]], 0.0);
        let mut lsm = LogSoftmax::<f64>::new(-1);
        assert_eq!(lsm.forward(ndarray::arr0(5.0).into_dyn().view(), Mode::Eval).unwrap()[[]], 0.0);
        for shape in [&[0, 3][..], &[3, 0], &[2, 0, 4]] {
            let x = ArrayD::<f64>::zeros(IxDyn(shape));
            let mut sm = Softmax::<f64>::new(1);
            assert_eq!(sm.forward(x.view(), Mode::Train).unwrap().shape(), shape);
            assert_eq!(sm.backward_input(x.view()).unwrap().shape(), shape);
        }
        // dim out of range.
        for dim in [2, -3] {
            let err = Softmax::<f64>::new(dim)
                .forward(ArrayD::zeros(IxDyn(&[2, 3])).view(), Mode::Eval)
                .unwrap_err();
            assert!(matches!(err, Error::InvalidInput { op: "Softmax::forward", .. }), "{err}");
            assert!(err.to_string().contains(&format!("dim {dim} out of range for a 2-D input")), "{err}");
        }
        assert!(LogSoftmax::<f64>::new(1).forward(ndarray::arr0(1.0).into_dyn().view(), Mode::Eval).is_err());
        // Non-contiguous input and gradient give the same numbers as contiguous ones.
        let x = Array::from_shape_fn((4, 3), |(i, j)| i as f64 - 1.3 * j as f64);
        let g = Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.1);
        for dim in [0, 1] {
            let mut a = LogSoftmax::<f64>::new(dim);
            let mut b = LogSoftmax::<f64>::new(dim);
            let ya = a.forward(x.t().into_dyn(), Mode::Train).unwrap().to_owned();
            let yb = b.forward(x.t().as_standard_layout().into_dyn().view(), Mode::Train).unwrap().to_owned();
            assert_eq!(ya, yb);
            let gt = g.t().as_standard_layout().t().to_owned();
            let da = a.backward_input(gt.view().into_dyn()).unwrap().to_owned();
            let db = b.backward_input(g.view().into_dyn()).unwrap().to_owned();
            assert_eq!(da, db);
        }
        // Backward errors.
        let mut sm = Softmax::<f64>::new(-1);
        let g = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
        assert!(matches!(sm.backward(g.view()), Err(Error::InvalidInput { op: "Softmax::backward", .. })));
        sm.forward(g.view(), Mode::Train).unwrap();
        let err = sm.backward_input(ArrayD::<f64>::zeros(IxDyn(&[3, 2])).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Softmax::backward_input", expected: vec![2, 3], got: vec![3, 2] }
        );
        sm.forward(g.view(), Mode::Eval).unwrap();
        assert!(matches!(sm.backward_input(g.view()), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn f32_agrees_with_f64_and_buffers_are_reused() {
        let x =
            Array::from_shape_fn((5, 4, 3), |(i, j, k)| (i as f64 - 2.0) * 1.7 + j as f64 * 0.3 - k as f64);
        let g = x.mapv(|v| (v * 0.9).cos());
        for dim in [-1, 1] {
            let mut a = Softmax::<f64>::new(dim);
            let mut b = Softmax::<f32>::new(dim);
            let ya = a.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
            let yb = b.forward(x.mapv(|v| v as f32).view().into_dyn(), Mode::Train).unwrap().mapv(f64::from);
            assert_abs_diff_eq!(ya, yb, epsilon = 1e-6);
            let da = a.backward_input(g.view().into_dyn()).unwrap().to_owned();
            let db = b.backward_input(g.mapv(|v| v as f32).view().into_dyn()).unwrap().mapv(f64::from);
            assert_abs_diff_eq!(da, db, epsilon = 1e-6);
        }
        let mut sm = LogSoftmax::<f32>::new(1);
        let run = |l: &mut LogSoftmax<f32>, n: usize| {
            let x = ndarray::Array3::<f32>::ones((n, 8, 4)).into_dyn();
            let p = l.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = l.backward_input(x.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = run(&mut sm, 16);
        assert_eq!(run(&mut sm, 3), first);
        assert_eq!(run(&mut sm, 16), first);
        assert_eq!(sm.core.out.capacity(), 16 * 32);
    }
}
