//! Normalization over the trailing dimensions of each sample: [`LayerNorm`] and
//! [`RmsNorm`].
//!
//! Both flatten the input to rows of `D = prod(normalized_shape)` elements and
//! normalize each row on its own (no batch statistics, no buffers), so they behave the
//! same in every [`Mode`]. They share one implementation; `LayerNorm` subtracts the
//! row mean, `RmsNorm` does not.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::model::layers::{Pass, copy_into, slice_mut};
use crate::model::{Layer, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// The shared machinery: parameters, caches and the row kernels.
#[derive(Clone, Debug)]
struct NormCore<F> {
    op_forward: &'static str,
    op_backward: &'static str,
    op_backward_input: &'static str,
    normalized_shape: Vec<usize>,
    /// `prod(normalized_shape)`.
    d: usize,
    eps: F,
    /// Subtract the row mean (LayerNorm) or not (RMSNorm).
    center: bool,
    /// `(value, grad)`, shape `normalized_shape`, standard layout.
    weight: Option<(ArrayD<F>, ArrayD<F>)>,
    bias: Option<(ArrayD<F>, ArrayD<F>)>,
    /// Normalized input `x̂`, `[N, D]` (recorded forwards only).
    xhat: Buffer<F>,
    /// `1/σ` per row, `[N]`.
    rstd: Buffer<F>,
    /// A contiguous copy of a non-contiguous input.
    scratch: Buffer<F>,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    /// Shape of the last input (the output's shape).
    in_shape: Vec<usize>,
    pass: Pass,
}

fn check_normalized_shape(shape: &[usize]) -> Result<()> {
    if shape.is_empty() {
        return Err(Error::InvalidParameter {
            name: "normalized_shape",
            value: 0.0,
            expected: "at least one dimension",
        });
    }
    if let Some(&d) = shape.iter().find(|&&d| d == 0) {
        return Err(Error::InvalidParameter {
            name: "normalized_shape",
            value: d as f64,
            expected: "every dimension >= 1",
        });
    }
    Ok(())
}

fn check_eps(eps: f64) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "eps", value: eps, expected: "finite and >= 0" })
    }
}

/// Accumulator lanes of the row reductions: the sums run in this many interleaved
/// partial sums, combined pairwise at the end, so the loops vectorize (and give the
/// same bits at any vector width).
pub(super) const LANES: usize = 8;

/// Combines the lanes pairwise (a tree of depth 3, not a chain of 7).
#[inline(always)]
fn fold_lanes<F: Copy>(acc: [F; LANES], f: impl Fn(F, F) -> F) -> F {
    let q = [f(acc[0], acc[4]), f(acc[1], acc[5]), f(acc[2], acc[6]), f(acc[3], acc[7])];
    f(f(q[0], q[2]), f(q[1], q[3]))
}

#[inline(always)]
fn max2<F: Float>(a: F, b: F) -> F {
    if b > a { b } else { a }
}

/// The largest element (NaN ignored), `-inf` for an empty slice.
#[inline(always)]
pub(super) fn lane_max<F: Float>(x: &[F]) -> F {
    let mut acc = [F::neg_infinity(); LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            acc[k] = max2(acc[k], c[k]);
        }
    }
    chunks.remainder().iter().fold(fold_lanes(acc, max2), |a, &v| max2(a, v))
}

/// `Σ aᵢ·bᵢ`.
#[inline(always)]
pub(super) fn lane_dot<F: Float>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let tail = ca.remainder().iter().zip(cb.remainder()).fold(F::zero(), |s, (&x, &y)| s + x * y);
    fold_lanes(acc, |u, v| u + v) + tail
}

/// `Σ xᵢ`.
#[inline(always)]
pub(super) fn lane_sum<F: Float>(x: &[F]) -> F {
    let mut acc = [F::zero(); LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for k in 0..LANES {
            acc[k] += c[k];
        }
    }
    let tail = chunks.remainder().iter().fold(F::zero(), |s, &v| s + v);
    fold_lanes(acc, |u, v| u + v) + tail
}

/// Rows of `d` elements: `x̂ = (x − μ)·r` into `xhat` and `r = 1/√(σ² + eps)` into
/// `rstd` (`center = false`: `μ = 0`, `σ²` the mean square), then
/// `out = x̂ ⊙ w + b`. `out` may be `xhat` itself (`None`: in place).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_rows<F: Float>(
    xs: &[F],
    d: usize,
    eps: F,
    center: bool,
    xhat: &mut [F],
    rstd: &mut [F],
    out: Option<&mut [F]>,
    w: Option<&[F]>,
    b: Option<&[F]>,
) {
    let inv_d = F::one() / F::lit(d as f64);
    for ((xr, hr), r) in xs.chunks_exact(d).zip(xhat.chunks_exact_mut(d)).zip(rstd.iter_mut()) {
        // Two passes (mean, then the mean of squared deviations): no cancellation.
        let mean = if center { lane_sum(xr) * inv_d } else { F::zero() };
        hr.iter_mut().zip(xr).for_each(|(h, &v)| *h = v - mean);
        let rs = F::one() / (lane_dot(hr, hr) * inv_d + eps).sqrt();
        *r = rs;
        hr.iter_mut().for_each(|h| *h *= rs);
    }
    let affine = |o: &mut [F], h: &[F]| match (w, b) {
        (Some(w), Some(b)) => {
            o.iter_mut().zip(h).zip(w).zip(b).for_each(|(((o, &h), &w), &b)| *o = h * w + b)
        }
        (Some(w), None) => o.iter_mut().zip(h).zip(w).for_each(|((o, &h), &w)| *o = h * w),
        (None, _) => o.copy_from_slice(h),
    };
    match out {
        Some(out) => out.chunks_exact_mut(d).zip(xhat.chunks_exact(d)).for_each(|(o, h)| affine(o, h)),
        None => {
            if let Some(w) = w {
                for o in xhat.chunks_exact_mut(d) {
                    match b {
                        Some(b) => o.iter_mut().zip(w).zip(b).for_each(|((o, &w), &b)| *o = *o * w + b),
                        None => o.iter_mut().zip(w).for_each(|(o, &w)| *o *= w),
                    }
                }
            }
        }
    }
}

/// Backward over rows: `dw = Σ g ⊙ x̂`, `db = Σ g` (when given, overwritten) and, with
/// `grad_in`, `dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))`, `ĝ = g ⊙ w` (`center = false`:
/// without `mean(ĝ)`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_rows<F: Float>(
    gs: &[F],
    xhat: &[F],
    rstd: &[F],
    d: usize,
    center: bool,
    w: Option<&[F]>,
    wg: Option<&mut [F]>,
    bg: Option<&mut [F]>,
    grad_in: Option<&mut [F]>,
) {
    if let Some(wg) = wg {
        wg.fill(F::zero());
        for (gr, hr) in gs.chunks_exact(d).zip(xhat.chunks_exact(d)) {
            wg.iter_mut().zip(gr).zip(hr).for_each(|((a, &g), &h)| *a += g * h);
        }
    }
    if let Some(bg) = bg {
        bg.fill(F::zero());
        for gr in gs.chunks_exact(d) {
            bg.iter_mut().zip(gr).for_each(|(a, &g)| *a += g);
        }
    }
    let Some(gi) = grad_in else { return };
    let inv_d = F::one() / F::lit(d as f64);
    for (((gir, gr), hr), &rs) in
        gi.chunks_exact_mut(d).zip(gs.chunks_exact(d)).zip(xhat.chunks_exact(d)).zip(rstd)
    {
        // ĝ, kept in the output row.
        match w {
            Some(w) => gir.iter_mut().zip(gr).zip(w).for_each(|((o, &g), &w)| *o = g * w),
            None => gir.copy_from_slice(gr),
        }
        let mean_g = if center { lane_sum(gir) * inv_d } else { F::zero() };
        let mean_gh = lane_dot(gir, hr) * inv_d;
        gir.iter_mut().zip(hr).for_each(|(o, &h)| *o = (*o - mean_g - h * mean_gh) * rs);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn forward_rows_avx2<F: Float>(
    xs: &[F],
    d: usize,
    eps: F,
    center: bool,
    xhat: &mut [F],
    rstd: &mut [F],
    out: Option<&mut [F]>,
    w: Option<&[F]>,
    b: Option<&[F]>,
) {
    forward_rows(xs, d, eps, center, xhat, rstd, out, w, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_rows_avx2<F: Float>(
    gs: &[F],
    xhat: &[F],
    rstd: &[F],
    d: usize,
    center: bool,
    w: Option<&[F]>,
    wg: Option<&mut [F]>,
    bg: Option<&mut [F]>,
    grad_in: Option<&mut [F]>,
) {
    backward_rows(gs, xhat, rstd, d, center, w, wg, bg, grad_in)
}

/// Whether the row kernels may run their AVX2 build (detected once by std, cached).
/// Both builds give the same bits: Rust fuses no multiply-add, and the reductions have
/// a fixed lane structure.
#[inline]
pub(super) fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl<F: Float> NormCore<F> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        ops: [&'static str; 3],
        normalized_shape: &[usize],
        eps: F,
        center: bool,
        weight: Option<ArrayD<F>>,
        bias: Option<ArrayD<F>>,
    ) -> Self {
        let pair = |a: ArrayD<F>| {
            let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
            let g = ArrayD::zeros(a.raw_dim());
            (a, g)
        };
        NormCore {
            op_forward: ops[0],
            op_backward: ops[1],
            op_backward_input: ops[2],
            normalized_shape: normalized_shape.to_vec(),
            d: normalized_shape.iter().product(),
            eps,
            center,
            weight: weight.map(pair),
            bias: bias.map(pair),
            xhat: Buffer::new(),
            rstd: Buffer::new(),
            scratch: Buffer::new(),
            out: Buffer::new(),
            grad_in: Buffer::new(),
            in_shape: Vec::new(),
            pass: Pass::None,
        }
    }

    fn visit(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        let mut id = 0;
        if let Some((w, g)) = &mut self.weight {
            f(Param::new(id, "weight"), w.view_mut(), g.view_mut())?;
            id += 1;
        }
        if let Some((b, g)) = &mut self.bias {
            f(Param::new(id, "bias"), b.view_mut(), g.view_mut())?;
        }
        Ok(())
    }

    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let k = self.normalized_shape.len();
        if x.ndim() < k || x.shape()[x.ndim() - k..] != self.normalized_shape[..] {
            let mut expected = vec![0];
            expected.extend_from_slice(&self.normalized_shape);
            return Err(Error::ShapeMismatch { op: self.op_forward, expected, got: x.shape().to_vec() });
        }
        let d = self.d;
        let n = x.len() / d;
        self.in_shape.clear();
        self.in_shape.extend_from_slice(x.shape());
        let xs: &[F] = match x.as_slice() {
            Some(s) => s,
            None => {
                copy_into(&x, &mut self.scratch);
                self.scratch.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let records = mode.records();
        let rstd = slice_mut(self.rstd.reshape(&[n]));
        let w = self.weight.as_ref().map(|(w, _)| w.as_slice().expect("standard layout"));
        let b = self.bias.as_ref().map(|(b, _)| b.as_slice().expect("standard layout"));
        // x̂ goes to its own buffer when recorded, else straight into the output.
        let (xhat, out): (&mut [F], Option<&mut [F]>) = if records {
            (slice_mut(self.xhat.reshape(&[n, d])), Some(slice_mut(self.out.reshape(&[n * d]))))
        } else {
            (slice_mut(self.out.reshape(&[n * d])), None)
        };
        let (eps, center) = (self.eps, self.center);
        #[cfg(target_arch = "x86_64")]
        if use_avx2() {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { forward_rows_avx2(xs, d, eps, center, xhat, rstd, out, w, b) };
        } else {
            forward_rows(xs, d, eps, center, xhat, rstd, out, w, b);
        }
        #[cfg(not(target_arch = "x86_64"))]
        forward_rows(xs, d, eps, center, xhat, rstd, out, w, b);
        self.out.reshape(&self.in_shape);
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    fn backward(&mut self, g: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        let op = if input_grad { self.op_backward_input } else { self.op_backward };
        self.pass.require_train(op)?;
        if g.shape() != &self.in_shape[..] {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.in_shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        let d = self.d;
        let n = self.rstd.shape()[0];
        let gs: &[F] = match g.as_slice() {
            Some(s) => s,
            None => {
                copy_into(&g, &mut self.scratch);
                self.scratch.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let xhat = self.xhat.view();
        let xhat = xhat.to_slice().expect("contiguous");
        let rstd = self.rstd.view();
        let rstd = rstd.to_slice().expect("contiguous");
        let (w, wg) = match &mut self.weight {
            Some((w, g)) => (
                Some(w.as_slice().expect("standard layout")),
                Some(g.as_slice_mut().expect("standard layout")),
            ),
            None => (None, None),
        };
        let bg = self.bias.as_mut().map(|(_, g)| g.as_slice_mut().expect("standard layout"));
        let gi = input_grad.then(|| slice_mut(self.grad_in.reshape(&[n * d])));
        let center = self.center;
        #[cfg(target_arch = "x86_64")]
        if use_avx2() {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { backward_rows_avx2(gs, xhat, rstd, d, center, w, wg, bg, gi) };
        } else {
            backward_rows(gs, xhat, rstd, d, center, w, wg, bg, gi);
        }
        #[cfg(not(target_arch = "x86_64"))]
        backward_rows(gs, xhat, rstd, d, center, w, wg, bg, gi);
        if !input_grad {
            return Ok(());
        }
        self.grad_in.reshape(&self.in_shape);
        Ok(())
    }
}

/// Layer normalization over the trailing dimensions (PyTorch `nn.LayerNorm`; Ba, Kiros
/// & Hinton, "Layer Normalization", 2016).
///
/// Each sample's last `k = normalized_shape.len()` dimensions (`D` elements) are
/// normalized together:
///
/// `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased), `x̂ = (x − μ)/√(σ² + eps)`,
/// `y = x̂ ⊙ weight + bias`.
///
/// Backward, from `g = dL/dy`: `dL/dweight = Σ g ⊙ x̂`, `dL/dbias = Σ g` (sums over
/// every row), and with `ĝ = g ⊙ weight`,
/// `dL/dx = (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) / √(σ² + eps)`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `normalized_shape` | required | non-empty, every dimension `>= 1` |
/// | `eps` | `1e-5` | finite, `>= 0` |
/// | `elementwise_affine` | `true` | `weight` (ones) and, with `bias`, `bias` (zeros) |
/// | `bias` | `true` | only with `elementwise_affine` |
///
/// Parameters, as PyTorch names them: `"weight"` and `"bias"`, each of shape
/// `normalized_shape`. No buffers; every [`Mode`] computes the same function. The input
/// is `[*, normalized_shape...]` with any leading dimensions (batch first); the output
/// has the input's shape. Row statistics are computed in two passes in `F`.
///
/// # Errors
/// * [`LayerNormBuilder::build`]: [`Error::InvalidParameter`] (`"normalized_shape"`,
///   `"eps"`);
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, normalized_shape...]`) unless
///   the input ends with `normalized_shape`;
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward
///   ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] unless
///   `grad_out` has the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::LayerNorm;
///
/// let mut ln = LayerNorm::<f64>::new(&[4])?;
/// let x = array![[1.0, 2.0, 3.0, 4.0]].into_dyn();
/// let y = ln.forward(x.view(), Mode::Train)?.to_owned();
/// // mean 2.5, variance 1.25: (x − 2.5)/√(1.25 + 1e-5)
/// assert!((y[[0, 3]] - 1.5 / (1.25f64 + 1e-5).sqrt()).abs() < 1e-12);
/// let dx = ln.backward_input(array![[1.0, 1.0, 1.0, 1.0]].into_dyn().view())?;
/// assert!(dx.iter().all(|v| v.abs() < 1e-12)); // a constant shift changes nothing
/// assert_eq!(ln.gradients()[1].1, array![1.0, 1.0, 1.0, 1.0].into_dyn()); // dL/dbias
///
/// let no_bias = LayerNorm::<f32>::builder(&[2, 8]).eps(1e-6).bias(false).build()?;
/// assert_eq!(no_bias.weight().unwrap().shape(), &[2, 8]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.LayerNorm")]
#[derive(Clone, Debug)]
pub struct LayerNorm<F> {
    core: NormCore<F>,
}

/// Builder of [`LayerNorm`]: `LayerNorm::builder(&[64]).eps(1e-6).bias(false).build()?`.
#[derive(Clone, Debug)]
pub struct LayerNormBuilder<F> {
    _float: std::marker::PhantomData<fn() -> F>,
    normalized_shape: Vec<usize>,
    eps: f64,
    elementwise_affine: bool,
    bias: bool,
}

impl<F: Float> LayerNormBuilder<F> {
    /// Added to the variance (default `1e-5`).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Whether the layer has a learned `weight` (and `bias`) (default `true`).
    pub fn elementwise_affine(mut self, on: bool) -> Self {
        self.elementwise_affine = on;
        self
    }

    /// Whether the affine part has a `bias` (default `true`).
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }

    /// Validates and builds (weight ones, bias zeros, as PyTorch).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty `normalized_shape`, a dimension of 0 or
    /// an `eps` that is negative or not finite.
    pub fn build(self) -> Result<LayerNorm<F>> {
        check_normalized_shape(&self.normalized_shape)?;
        check_eps(self.eps)?;
        let shape = IxDyn(&self.normalized_shape);
        let weight = self.elementwise_affine.then(|| ArrayD::ones(shape.clone()));
        let bias = (self.elementwise_affine && self.bias).then(|| ArrayD::zeros(shape));
        Ok(LayerNorm {
            core: NormCore::new(LN_OPS, &self.normalized_shape, F::lit(self.eps), true, weight, bias),
        })
    }
}

const LN_OPS: [&str; 3] = ["LayerNorm::forward", "LayerNorm::backward", "LayerNorm::backward_input"];
const RMS_OPS: [&str; 3] = ["RmsNorm::forward", "RmsNorm::backward", "RmsNorm::backward_input"];

impl<F: Float> LayerNorm<F> {
    /// A layer norm over the trailing `normalized_shape` with PyTorch's defaults
    /// (`eps = 1e-5`, weight and bias).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty shape or a dimension of 0.
    pub fn new(normalized_shape: &[usize]) -> Result<Self> {
        Self::builder(normalized_shape).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(normalized_shape: &[usize]) -> LayerNormBuilder<F> {
        LayerNormBuilder {
            _float: std::marker::PhantomData,
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
            elementwise_affine: true,
            bias: true,
        }
    }

    /// A layer norm with the given `weight` (its shape is `normalized_shape`) and
    /// optional `bias` (e.g. weights exported from PyTorch).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with no dimension or a zero dimension,
    /// or an invalid `eps`; [`Error::ShapeMismatch`] for a bias of another shape.
    pub fn from_weights(weight: ArrayD<F>, bias: Option<ArrayD<F>>, eps: f64) -> Result<Self> {
        check_normalized_shape(weight.shape())?;
        check_eps(eps)?;
        if let Some(b) = &bias {
            if b.shape() != weight.shape() {
                return Err(Error::ShapeMismatch {
                    op: "LayerNorm::from_weights",
                    expected: weight.shape().to_vec(),
                    got: b.shape().to_vec(),
                });
            }
        }
        let shape = weight.shape().to_vec();
        Ok(LayerNorm { core: NormCore::new(LN_OPS, &shape, F::lit(eps), true, Some(weight), bias) })
    }

    /// The normalized (trailing) shape.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.core.normalized_shape
    }

    /// `eps`.
    pub fn eps(&self) -> F {
        self.core.eps
    }

    /// The weight (`None` without `elementwise_affine`).
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.weight.as_ref().map(|(w, _)| w.view())
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.bias.as_ref().map(|(b, _)| b.view())
    }

    /// The weight gradient of the last backward.
    pub fn weight_grad(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.weight.as_ref().map(|(_, g)| g.view())
    }

    /// The bias gradient of the last backward.
    pub fn bias_grad(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.bias.as_ref().map(|(_, g)| g.view())
    }
}

/// Root-mean-square layer normalization (PyTorch `nn.RMSNorm`; Zhang & Sennrich,
/// "Root Mean Square Layer Normalization", NeurIPS 2019).
///
/// Over each sample's trailing `normalized_shape` (`D` elements):
///
/// `r = 1/√(mean(x²) + eps)`, `x̂ = x · r`, `y = x̂ ⊙ weight`.
///
/// Backward, from `g = dL/dy`: `dL/dweight = Σ g ⊙ x̂` (over every row), and with
/// `ĝ = g ⊙ weight`, `dL/dx = r · (ĝ − x̂ · mean(ĝ ⊙ x̂))`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `normalized_shape` | required | non-empty, every dimension `>= 1` |
/// | `eps` | `None`: `F::epsilon()` (PyTorch: `torch.finfo(x.dtype).eps`) | finite, `>= 0` |
/// | `elementwise_affine` | `true` | `weight` (ones) |
///
/// One parameter, `"weight"` (shape `normalized_shape`); no bias, no buffers. Input
/// `[*, normalized_shape...]`, output of the same shape.
///
/// # Errors
/// As [`LayerNorm`] (operations named `RmsNorm::…`).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::RmsNorm;
///
/// let mut rms = RmsNorm::<f64>::builder(&[2]).eps(Some(0.0)).build()?;
/// let y = rms.forward(array![[3.0, 4.0]].into_dyn().view(), Mode::Eval)?;
/// // root mean square √((9 + 16)/2) = √12.5
/// assert!((y[[0, 1]] - 4.0 / 12.5f64.sqrt()).abs() < 1e-15);
/// assert_eq!(RmsNorm::<f32>::new(&[8])?.eps(), f32::EPSILON);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "RMSNorm")]
#[doc(alias = "nn.RMSNorm")]
#[derive(Clone, Debug)]
pub struct RmsNorm<F> {
    core: NormCore<F>,
}

/// Builder of [`RmsNorm`]: `RmsNorm::builder(&[64]).eps(Some(1e-6)).build()?`.
#[derive(Clone, Debug)]
pub struct RmsNormBuilder<F> {
    _float: std::marker::PhantomData<fn() -> F>,
    normalized_shape: Vec<usize>,
    eps: Option<f64>,
    elementwise_affine: bool,
}

impl<F: Float> RmsNormBuilder<F> {
    /// Added to the mean square (default `None`: the machine epsilon of `F`).
    pub fn eps(mut self, eps: Option<f64>) -> Self {
        self.eps = eps;
        self
    }

    /// Whether the layer has a learned `weight` (default `true`).
    pub fn elementwise_affine(mut self, on: bool) -> Self {
        self.elementwise_affine = on;
        self
    }

    /// Validates and builds (weight ones).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty `normalized_shape`, a dimension of 0 or
    /// an `eps` that is negative or not finite.
    pub fn build(self) -> Result<RmsNorm<F>> {
        check_normalized_shape(&self.normalized_shape)?;
        let eps = match self.eps {
            Some(e) => {
                check_eps(e)?;
                F::lit(e)
            }
            None => F::epsilon(),
        };
        let weight = self.elementwise_affine.then(|| ArrayD::ones(IxDyn(&self.normalized_shape)));
        Ok(RmsNorm { core: NormCore::new(RMS_OPS, &self.normalized_shape, eps, false, weight, None) })
    }
}

impl<F: Float> RmsNorm<F> {
    /// An RMS norm over the trailing `normalized_shape` with PyTorch's defaults.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty shape or a dimension of 0.
    pub fn new(normalized_shape: &[usize]) -> Result<Self> {
        Self::builder(normalized_shape).build()
    }

    /// A builder with PyTorch's defaults (`eps = None`, weight).
    pub fn builder(normalized_shape: &[usize]) -> RmsNormBuilder<F> {
        RmsNormBuilder {
            _float: std::marker::PhantomData,
            normalized_shape: normalized_shape.to_vec(),
            eps: None,
            elementwise_affine: true,
        }
    }

    /// An RMS norm with the given `weight` (its shape is `normalized_shape`); `eps` as
    /// in the builder.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with no dimension or a zero dimension,
    /// or an invalid `eps`.
    pub fn from_weights(weight: ArrayD<F>, eps: Option<f64>) -> Result<Self> {
        check_normalized_shape(weight.shape())?;
        let eps = match eps {
            Some(e) => {
                check_eps(e)?;
                F::lit(e)
            }
            None => F::epsilon(),
        };
        let shape = weight.shape().to_vec();
        Ok(RmsNorm { core: NormCore::new(RMS_OPS, &shape, eps, false, Some(weight), None) })
    }

    /// The normalized (trailing) shape.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.core.normalized_shape
    }

    /// The `eps` in use (the machine epsilon of `F` when built with `None`).
    pub fn eps(&self) -> F {
        self.core.eps
    }

    /// The weight (`None` without `elementwise_affine`).
    pub fn weight(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.weight.as_ref().map(|(w, _)| w.view())
    }

    /// The weight gradient of the last backward.
    pub fn weight_grad(&self) -> Option<ArrayViewD<'_, F>> {
        self.core.weight.as_ref().map(|(_, g)| g.view())
    }
}

macro_rules! norm_layer {
    ($ty:ident) => {
        impl<F: Float> Module<F> for $ty<F> {
            fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
                self.core.visit(f)
            }
        }

        impl<F: Float> Model<F> for $ty<F> {
            fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
                self.core.forward(x, mode)
            }

            /// Parameter gradients only (no `dL/dx`).
            fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
                self.core.backward(grad_out, false)
            }
        }

        impl<F: Float> Layer<F> for $ty<F> {
            fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
                self.core.backward(grad_out, true)?;
                Ok(self.core.grad_in.view())
            }
        }
    };
}
norm_layer!(LayerNorm);
norm_layer!(RmsNorm);

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, Array3, array};

    /// ```python
    /// ln = torch.nn.LayerNorm(3).double()
    /// with torch.no_grad(): ln.weight.copy_(torch.tensor([1., 2., -1.])); ln.bias.copy_(torch.tensor([0., .5, 1.]))
    /// x = torch.tensor([[1., 2., 4.], [0., 0., 3.]], dtype=torch.float64, requires_grad=True)
    /// y = ln(x); y.backward(torch.tensor([[1., 0., 0.], [0., 1., -1.]], dtype=torch.float64))
    /// ```
    /// Row 0: μ = 7/3, σ² = ((−4/3)² + (−1/3)² + (5/3)²)/3 = 42/27 = 14/9, so with
    /// eps = 0: x̂ = (−4/3, −1/3, 5/3)/(√14/3) = (−4, −1, 5)/√14.
    /// Row 1: μ = 1, σ² = (1 + 1 + 4)/3 = 2, x̂ = (−1, −1, 2)/√2.
    /// y = x̂ ⊙ w + b; dw = Σ g ⊙ x̂ = (−4/√14, −1/√2, −2/√2); db = (1, 1, −1).
    /// Row 0 dx: ĝ = (1, 0, 0), mean ĝ = 1/3, mean(ĝ ⊙ x̂) = −4/(3√14):
    /// dx = (ĝ − 1/3 − x̂·(−4/(3√14)))·3/√14 = ((2/3 − 16/42), (−1/3 − 4/42), (−1/3 + 20/42))·3/√14.
    #[test]
    fn layer_norm_hand_computed() {
        let mut ln = LayerNorm::from_weights(
            array![1.0, 2.0, -1.0].into_dyn(),
            Some(array![0.0, 0.5, 1.0].into_dyn()),
            0.0,
        )
        .unwrap();
        let x = array![[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]].into_dyn();
        let y = ln.forward(x.view(), Mode::Train).unwrap().to_owned();
        let s14 = 14f64.sqrt();
        let s2 = 2f64.sqrt();
        let expected = array![
            [-4.0 / s14, -2.0 / s14 + 0.5, -5.0 / s14 + 1.0],
            [-1.0 / s2, -2.0 / s2 + 0.5, -2.0 / s2 + 1.0]
        ];
        assert_abs_diff_eq!(y, expected.into_dyn(), epsilon = 1e-14);
        let g = array![[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]].into_dyn();
        let dx = ln.backward_input(g.view()).unwrap().to_owned();
        assert_abs_diff_eq!(
            ln.weight_grad().unwrap(),
            array![-4.0 / s14, -1.0 / s2, -2.0 / s2].into_dyn(),
            epsilon = 1e-14
        );
        assert_abs_diff_eq!(ln.bias_grad().unwrap(), array![1.0, 1.0, -1.0].into_dyn(), epsilon = 1e-15);
        let row0 = [2.0 / 3.0 - 16.0 / 42.0, -1.0 / 3.0 - 4.0 / 42.0, -1.0 / 3.0 + 20.0 / 42.0]
            .map(|v| v * 3.0 / s14);
        for (j, v) in row0.iter().enumerate() {
            assert_abs_diff_eq!(dx[[0, j]], *v, epsilon = 1e-14);
        }
        // Rows of dx sum to 0 (a shift of the row does not change the output).
        assert_abs_diff_eq!(dx.sum(), 0.0, epsilon = 1e-14);
        // Model::backward: same parameter gradients, overwritten.
        ln.core.weight.as_mut().unwrap().1.fill(7.0);
        ln.backward(g.view()).unwrap();
        assert_abs_diff_eq!(ln.weight_grad().unwrap()[[0]], -4.0 / s14, epsilon = 1e-14);
        let names: Vec<String> = ln.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
    }

    /// RMS of (3, 4) with eps 0 is √12.5; x̂ = (3, 4)/√12.5; w = (2, −1).
    /// g = (1, 1): ĝ = (2, −1), mean(ĝ ⊙ x̂) = (6 − 4)/2/√12.5 = 1/√12.5,
    /// dx = (ĝ − x̂/√12.5)/√12.5 = ((2 − 3/12.5), (−1 − 4/12.5))/√12.5.
    #[test]
    fn rms_norm_hand_computed() {
        let mut rms = RmsNorm::from_weights(array![2.0, -1.0].into_dyn(), Some(0.0)).unwrap();
        let y = rms.forward(array![[3.0, 4.0]].into_dyn().view(), Mode::Train).unwrap().to_owned();
        let r = 12.5f64.sqrt();
        assert_abs_diff_eq!(y, array![[6.0 / r, -4.0 / r]].into_dyn(), epsilon = 1e-15);
        let dx = rms.backward_input(array![[1.0, 1.0]].into_dyn().view()).unwrap().to_owned();
        assert_abs_diff_eq!(
            dx,
            array![[(2.0 - 3.0 / 12.5) / r, (-1.0 - 4.0 / 12.5) / r]].into_dyn(),
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(rms.weight_grad().unwrap(), array![3.0 / r, 4.0 / r].into_dyn(), epsilon = 1e-15);
        assert_eq!(rms.parameters().len(), 1);
        assert_eq!(RmsNorm::<f64>::new(&[2]).unwrap().eps(), f64::EPSILON);
    }

    #[test]
    fn invalid_hyper_parameters() {
        let cases: Vec<(Result<LayerNorm<f64>>, &str)> = vec![
            (LayerNorm::new(&[]), "normalized_shape"),
            (LayerNorm::new(&[4, 0]), "normalized_shape"),
            (LayerNorm::builder(&[4]).eps(-1.0).build(), "eps"),
            (LayerNorm::builder(&[4]).eps(f64::NAN).build(), "eps"),
            (LayerNorm::from_weights(ArrayD::zeros(IxDyn(&[])), None, 1e-5), "normalized_shape"),
        ];
        for (r, name) in cases {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        match RmsNorm::<f32>::builder(&[3]).eps(Some(f64::INFINITY)).build() {
            Err(Error::InvalidParameter { name: "eps", .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            RmsNorm::<f32>::new(&[0]),
            Err(Error::InvalidParameter { name: "normalized_shape", .. })
        ));
        let err =
            LayerNorm::from_weights(ArrayD::<f64>::ones(IxDyn(&[3])), Some(ArrayD::zeros(IxDyn(&[4]))), 1e-5)
                .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_the_layer_unchanged() {
        let mut ln = LayerNorm::<f64>::new(&[2, 3]).unwrap();
        let err = ln.backward(Array3::<f64>::zeros((1, 2, 3)).into_dyn().view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "LayerNorm::backward", .. }), "{err}");
        let err = ln.forward(Array3::<f64>::zeros((4, 3, 2)).into_dyn().view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "LayerNorm::forward", expected: vec![0, 2, 3], got: vec![4, 3, 2] }
        );
        let err = ln.forward(ndarray::Array1::<f64>::zeros(3).into_dyn().view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
        let x = Array3::from_shape_fn((4, 2, 3), |(i, j, k)| (i * 6 + j * 3 + k) as f64 * 0.3).into_dyn();
        ln.forward(x.view(), Mode::Train).unwrap();
        let err = ln.backward_input(Array3::<f64>::zeros((4, 3, 2)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "LayerNorm::backward_input",
                expected: vec![4, 2, 3],
                got: vec![4, 3, 2]
            }
        );
        // The failed forward above did not disturb the recorded one.
        assert!(ln.forward(Array2::<f64>::zeros((4, 3)).into_dyn().view(), Mode::Train).is_err());
        ln.backward(Array3::<f64>::ones((4, 2, 3)).into_dyn().view()).unwrap();
        assert_eq!(ln.bias_grad().unwrap(), ArrayD::from_elem(IxDyn(&[2, 3]), 4.0));
        // Eval: no backward.
        ln.forward(x.view(), Mode::Eval).unwrap();
        let err = ln.backward(x.view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }) && err.to_string().contains("Mode::Eval"), "{err}");
        // EvalGrad records.
        ln.forward(x.view(), Mode::EvalGrad).unwrap();
        ln.backward_input(x.view()).unwrap();
    }

    #[test]
    fn modes_agree_and_non_contiguous_input() {
        let mut ln = LayerNorm::<f64>::builder(&[5]).bias(false).build().unwrap();
        ln.core.weight.as_mut().unwrap().0.assign(&array![1.0, -2.0, 0.5, 3.0, 1.5].into_dyn());
        let x = Array2::from_shape_fn((5, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f64 - 1.2 * j as f64);
        let xt = x.t(); // [3, 5], column-major
        let a = ln.forward(xt.into_dyn(), Mode::Eval).unwrap().to_owned();
        let b = ln.forward(xt.as_standard_layout().into_dyn().view(), Mode::Train).unwrap().to_owned();
        assert_eq!(a, b);
        // Without affine: zero mean, unit (biased) variance up to eps.
        let mut plain = LayerNorm::<f64>::builder(&[5]).elementwise_affine(false).eps(0.0).build().unwrap();
        assert_eq!(plain.parameters().len(), 0);
        let y = plain.forward(xt.into_dyn(), Mode::Train).unwrap().to_owned();
        for row in y.rows() {
            assert_abs_diff_eq!(row.sum(), 0.0, epsilon = 1e-12);
            assert_abs_diff_eq!(row.mapv(|v| v * v).sum() / 5.0, 1.0, epsilon = 1e-12);
        }
        // A non-contiguous gradient gives the same result as its contiguous copy.
        let g = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 - j as f64) * 0.25);
        let d1 = plain.backward_input(g.t().into_dyn()).unwrap().to_owned();
        let d2 = plain.backward_input(g.t().as_standard_layout().into_dyn().view()).unwrap().to_owned();
        assert_eq!(d1, d2);
    }

    #[test]
    fn f32_and_f64_agree() {
        let x =
            Array3::from_shape_fn((3, 4, 6), |(i, j, k)| ((i * 13 + j * 5 + k * 7) % 11) as f64 / 3.0 - 1.5);
        let g = Array3::from_shape_fn((3, 4, 6), |(i, j, k)| ((i + 2 * j + 3 * k) % 5) as f64 / 4.0 - 0.5);
        let run64 = |ln: &mut dyn Layer<f64>| {
            let y = ln.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
            let d = ln.backward_input(g.view().into_dyn()).unwrap().to_owned();
            (y, d, ln.gradients())
        };
        let run32 = |ln: &mut dyn Layer<f32>| {
            let y = ln.forward(x.mapv(|v| v as f32).view().into_dyn(), Mode::Train).unwrap().mapv(f64::from);
            let d = ln.backward_input(g.mapv(|v| v as f32).view().into_dyn()).unwrap().mapv(f64::from);
            (y, d, ln.gradients())
        };
        let (y64, d64, g64) = run64(&mut LayerNorm::<f64>::new(&[4, 6]).unwrap());
        let (y32, d32, g32) = run32(&mut LayerNorm::<f32>::new(&[4, 6]).unwrap());
        assert_abs_diff_eq!(y64, y32, epsilon = 1e-5);
        assert_abs_diff_eq!(d64, d32, epsilon = 1e-4);
        assert_abs_diff_eq!(g64[0].1, g32[0].1.mapv(f64::from), epsilon = 1e-4);
        let (y64, d64, _) = run64(&mut RmsNorm::<f64>::builder(&[6]).eps(Some(1e-6)).build().unwrap());
        let (y32, d32, _) = run32(&mut RmsNorm::<f32>::builder(&[6]).eps(Some(1e-6)).build().unwrap());
        assert_abs_diff_eq!(y64, y32, epsilon = 1e-5);
        assert_abs_diff_eq!(d64, d32, epsilon = 1e-4);
    }

    #[test]
    fn buffers_are_reused() {
        let mut ln = LayerNorm::<f32>::new(&[16]).unwrap();
        let mut step = |n: usize| {
            let x = Array3::<f32>::from_shape_fn((n, 3, 16), |(i, j, k)| (i + j * k) as f32).into_dyn();
            let p = ln.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = ln.backward_input(x.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(8);
        assert_eq!(step(3), first);
        assert_eq!(step(8), first);
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<LayerNorm<f32>>();
        send_sync::<RmsNorm<f64>>();
        send_sync::<LayerNormBuilder<f64>>();
    }
}
