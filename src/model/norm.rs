//! Normalization layers: [`BatchNorm1d`], [`BatchNorm2d`], [`BatchNorm3d`] (one generic
//! [`BatchNorm`]) and [`GroupNorm`].
//!
//! Inputs are `[N, C, *]`, contiguous in memory as `[N, C, S]` with `S` the product of
//! the spatial sizes (1 for a `[N, C]` batch). Statistics are accumulated in `f64`
//! (two passes: mean, then the sum of squared deviations), so `f32` layers keep
//! `f64`-quality means and variances on large batches. The normalised input `x̂` is
//! kept for the backward pass, which then needs neither the input nor the mean.

use std::marker::PhantomData;

use ndarray::{Array0, Array1, ArrayView1, ArrayViewD, ArrayViewMut1};

use crate::error::{Error, Result};
use crate::model::layers::{Pass, copy_into, slice_mut};
use crate::model::{BufferMut, BufferVisitor, Layer, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// `Σ f(a[i], b[i])` in `f64`, with four independent partial sums (vectorisable,
/// and more accurate than one running sum).
#[inline]
fn sum_map<F: Float>(a: &[F], b: &[F], f: impl Fn(F, F) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let (mut ia, mut ib) = (a.chunks_exact(4), b.chunks_exact(4));
    for (x, y) in (&mut ia).zip(&mut ib) {
        for k in 0..4 {
            acc[k] += f(x[k], y[k]);
        }
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (&x, &y) in ia.remainder().iter().zip(ib.remainder()) {
        total += f(x, y);
    }
    total
}

/// Per channel `ch`, `acc[ch] = Σ f(&params[ch], a, b)` over the `N·S` elements of that
/// channel in an `[N, C, S]` layout. Per-channel values come in as a slice zipped with
/// the data (no indexing in the inner loops, so `[N, C]` rows vectorise across channels).
fn channel_reduce<F: Float, P>(
    s: usize,
    a: &[F],
    b: &[F],
    params: &[P],
    acc: &mut [f64],
    f: impl Fn(&P, F, F) -> f64,
) {
    acc.fill(0.0);
    let c = acc.len();
    if a.is_empty() {
        return;
    }
    if s == 1 {
        for (ra, rb) in a.chunks_exact(c).zip(b.chunks_exact(c)) {
            for ((acc, p), (&x, &y)) in acc.iter_mut().zip(params).zip(ra.iter().zip(rb)) {
                *acc += f(p, x, y);
            }
        }
    } else {
        let blocks = a.chunks_exact(s * c).zip(b.chunks_exact(s * c));
        for (sa, sb) in blocks {
            for (((acc, p), ba), bb) in
                acc.iter_mut().zip(params).zip(sa.chunks_exact(s)).zip(sb.chunks_exact(s))
            {
                *acc += sum_map(ba, bb, |x, y| f(p, x, y));
            }
        }
    }
}

/// `out = f(&params[ch], a, b)` element-wise over an `[N, C, S]` layout.
fn channel_map<F: Float, P>(
    s: usize,
    a: &[F],
    b: &[F],
    params: &[P],
    out: &mut [F],
    f: impl Fn(&P, F, F) -> F,
) {
    let c = params.len();
    if a.is_empty() {
        return;
    }
    if s == 1 {
        for ((ro, ra), rb) in out.chunks_exact_mut(c).zip(a.chunks_exact(c)).zip(b.chunks_exact(c)) {
            for ((o, p), (&x, &y)) in ro.iter_mut().zip(params).zip(ra.iter().zip(rb)) {
                *o = f(p, x, y);
            }
        }
    } else {
        let samples = out.chunks_exact_mut(s * c).zip(a.chunks_exact(s * c)).zip(b.chunks_exact(s * c));
        for ((so, sa), sb) in samples {
            let blocks = so.chunks_exact_mut(s).zip(sa.chunks_exact(s)).zip(sb.chunks_exact(s));
            for (((bo, ba), bb), p) in blocks.zip(params) {
                bo.iter_mut().zip(ba).zip(bb).for_each(|((o, &x), &y)| *o = f(p, x, y));
            }
        }
    }
}

/// A contiguous slice of `x`, copied into `staging` when `x` is not in standard layout.
fn contiguous<'a, F: Float>(x: &'a ArrayViewD<'_, F>, staging: &'a mut Buffer<F>) -> &'a [F] {
    match x.as_slice() {
        Some(s) => s,
        None => {
            copy_into(x, staging);
            slice_mut(staging.view_mut())
        }
    }
}

fn check_size(name: &'static str, n: usize) -> Result<()> {
    if n == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
}

fn check_eps(eps: f64) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "eps", value: eps, expected: "finite and >= 0" })
    }
}

/// Learnable per-channel scale and shift (`affine=True`), with their gradients.
#[derive(Clone, Debug)]
struct Affine<F> {
    weight: Array1<F>,
    bias: Array1<F>,
    weight_grad: Array1<F>,
    bias_grad: Array1<F>,
}

impl<F: Float> Affine<F> {
    /// PyTorch's initialisation: weight ones, bias zeros.
    fn new(c: usize) -> Self {
        Affine {
            weight: Array1::ones(c),
            bias: Array1::zeros(c),
            weight_grad: Array1::zeros(c),
            bias_grad: Array1::zeros(c),
        }
    }

    fn visit(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        f(
            Param::new(0, "weight"),
            self.weight.view_mut().into_dyn(),
            self.weight_grad.view_mut().into_dyn(),
        )?;
        f(Param::new(1, "bias"), self.bias.view_mut().into_dyn(), self.bias_grad.view_mut().into_dyn())
    }

    fn set(&mut self, op: &'static str, weight: Array1<F>, bias: Array1<F>) -> Result<()> {
        let c = self.weight.len();
        for v in [&weight, &bias] {
            if v.len() != c {
                return Err(Error::ShapeMismatch { op, expected: vec![c], got: v.shape().to_vec() });
            }
        }
        self.weight = weight;
        self.bias = bias;
        Ok(())
    }
}

/// Running statistics (`track_running_stats=True`).
#[derive(Clone, Debug)]
struct Running<F> {
    mean: Array1<F>,
    var: Array1<F>,
    num_batches_tracked: Array0<i64>,
}

/// Batch normalization over the channel axis 1 of `[N, C, *]` (PyTorch `nn.BatchNorm1d`,
/// `nn.BatchNorm2d`, `nn.BatchNorm3d`; Ioffe & Szegedy, "Batch Normalization:
/// Accelerating Deep Network Training by Reducing Internal Covariate Shift", 2015).
///
/// Use it through its aliases: [`BatchNorm1d`] (`D = 1`, input `[N, C]` or `[N, C, L]`),
/// [`BatchNorm2d`] (`[N, C, H, W]`) and [`BatchNorm3d`] (`[N, C, D, H, W]`).
///
/// Per channel `c`, over the `m = N·S` values of the batch (all samples and positions):
///
/// ```text
/// y = (x − μ) / √(σ² + eps) · γ + β          (γ = weight, β = bias when affine)
/// ```
///
/// * [`Mode::Train`] (or always, with `track_running_stats = false`): `μ`, `σ²` are the
///   batch mean and *biased* variance. The running statistics are then updated with
///   the *unbiased* variance, `running = (1 − f)·running + f·batch` with
///   `σ²_unbiased = σ²·m/(m − 1)`, `f = momentum` (or `1/num_batches_tracked` when
///   `momentum` is `None`: a cumulative average), and `num_batches_tracked += 1`.
/// * [`Mode::Eval`] / [`Mode::EvalGrad`]: `μ`, `σ²` are `running_mean`, `running_var`
///   (an affine map per channel).
///
/// Backward, with `g = dL/dy`, `x̂ = (x − μ)/√(σ² + eps)`, sums over the channel's `m`
/// values: `dL/dγ = Σ g·x̂`, `dL/dβ = Σ g`, and
/// `dL/dx = γ/√(σ² + eps) · (g − Σg/m − x̂·Σ(g·x̂)/m)` for batch statistics (they
/// depend on `x`), `dL/dx = γ/√(σ² + eps) · g` for running statistics.
///
/// Parameters `"weight"` (id 0, ones) and `"bias"` (id 1, zeros), `[C]`, when affine;
/// buffers `"running_mean"` (zeros), `"running_var"` (ones), `[C]`, and
/// `"num_batches_tracked"` (0-d `i64`, [`BufferMut::Int`]) when tracking, as PyTorch
/// names them.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `num_features` (`C`) | required | `>= 1` |
/// | `eps` | 1e-5 | finite, `>= 0` |
/// | `momentum` | `Some(0.1)` | `None` (cumulative average) or `[0, 1]` |
/// | `affine` | `true` | |
/// | `track_running_stats` | `true` | |
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for `num_features` 0, an `eps` or
///   `momentum` out of range;
/// * `forward`: [`Error::ShapeMismatch`] (expected e.g. `[0, C]`, `0` = any size) for
///   the wrong number of dimensions or channels; with batch statistics,
///   [`Error::InvalidInput`] when a channel has one value (`N·S = 1`: PyTorch's
///   "Expected more than 1 value per channel when training") and
///   [`Error::EmptyInput`] when it has none;
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward
///   ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] when `grad_out`
///   does not have the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::{BatchNorm1d, BatchNorm2d};
/// use ndtrain::prelude::*;
///
/// let mut bn = BatchNorm1d::<f64>::new(2)?;
/// let x = array![[1.0, 10.0], [3.0, 10.0]].into_dyn();
/// let y = bn.forward(x.view(), Mode::Train)?;
/// // Channel 0: mean 2, biased variance 1; channel 1 is constant.
/// assert!((y[[0, 0]] + 1.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-15);
/// assert_eq!(y[[0, 1]], 0.0);
/// // running_mean = 0.9·0 + 0.1·mean, running_var = 0.9·1 + 0.1·(unbiased variance 2)
/// assert_eq!(bn.running_mean().unwrap().to_vec(), vec![0.2, 1.0]);
/// assert!((bn.running_var().unwrap()[0] - 1.1).abs() < 1e-15);
/// assert_eq!(bn.num_batches_tracked(), Some(1));
///
/// // BatchNorm2d with a cumulative average and no affine parameters.
/// let mut bn2 = BatchNorm2d::<f32>::builder(3).momentum(None).affine(false).build()?;
/// let y = bn2.forward(ndarray::Array4::<f32>::ones((2, 3, 4, 4)).into_dyn().view(), Mode::Eval)?;
/// assert_eq!(y.shape(), &[2, 3, 4, 4]);
/// assert_eq!(bn2.num_parameters(), 0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.BatchNorm1d")]
#[doc(alias = "nn.BatchNorm2d")]
#[doc(alias = "nn.BatchNorm3d")]
#[derive(Clone, Debug)]
pub struct BatchNorm<F, const D: usize> {
    num_features: usize,
    eps: f64,
    momentum: Option<f64>,
    affine: Option<Affine<F>>,
    running: Option<Running<F>>,
    /// `x̂` of the last recording forward.
    xhat: Buffer<F>,
    /// Contiguous copy of an input or `grad_out` in another layout.
    staging: Buffer<F>,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    /// Per channel `[μ, 1/√(σ² + eps), γ, β]` of the last forward (γ = 1, β = 0 without
    /// affine parameters).
    stats: Vec<[F; 4]>,
    /// Per-channel backward coefficients `[γ/√(σ² + eps), Σg/m, Σg·x̂/m]`.
    coef: Vec<[F; 3]>,
    /// Per-channel sums in f64.
    acc: Vec<f64>,
    acc2: Vec<f64>,
    /// `units[ch] = ()`: the parameters of a reduction that needs none (a `Vec` of a
    /// zero-sized type never allocates).
    units: Vec<()>,
    /// `(N, C, S)` of the last forward.
    geometry: (usize, usize, usize),
    /// Whether the last forward normalised with batch statistics.
    batch_stats: bool,
    pass: Pass,
}

/// [`BatchNorm`] over `[N, C]` or `[N, C, L]` (PyTorch `nn.BatchNorm1d`).
#[doc(alias = "nn.BatchNorm1d")]
pub type BatchNorm1d<F> = BatchNorm<F, 1>;
/// [`BatchNorm`] over `[N, C, H, W]` (PyTorch `nn.BatchNorm2d`).
#[doc(alias = "nn.BatchNorm2d")]
pub type BatchNorm2d<F> = BatchNorm<F, 2>;
/// [`BatchNorm`] over `[N, C, D, H, W]` (PyTorch `nn.BatchNorm3d`).
#[doc(alias = "nn.BatchNorm3d")]
pub type BatchNorm3d<F> = BatchNorm<F, 3>;

/// Builder of [`BatchNorm`]:
/// `BatchNorm2d::<f32>::builder(16).eps(1e-3).momentum(0.01).build()?`.
#[derive(Clone, Copy, Debug)]
pub struct BatchNormBuilder<F, const D: usize> {
    _float: PhantomData<fn() -> F>,
    num_features: usize,
    eps: f64,
    momentum: Option<f64>,
    affine: bool,
    track_running_stats: bool,
}

impl<F: Float, const D: usize> BatchNormBuilder<F, D> {
    /// Added to the variance for stability (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Weight of the current batch in the running statistics (default `Some(0.1)`);
    /// `None` for a cumulative moving average. Takes `0.1` or `None`.
    pub fn momentum(mut self, momentum: impl Into<Option<f64>>) -> Self {
        self.momentum = momentum.into();
        self
    }

    /// Whether the layer has a learnable weight and bias (default `true`).
    pub fn affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self
    }

    /// Whether the layer keeps running statistics for evaluation (default `true`);
    /// without them it normalises with batch statistics in every mode.
    pub fn track_running_stats(mut self, track: bool) -> Self {
        self.track_running_stats = track;
        self
    }

    /// Validates and builds (weight ones, bias zeros, running mean 0, variance 1).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `num_features` 0, `eps` negative or not finite,
    /// `momentum` outside `[0, 1]`.
    pub fn build(self) -> Result<BatchNorm<F, D>> {
        if !(1..=3).contains(&D) {
            return Err(Error::InvalidParameter {
                name: "D",
                value: D as f64,
                expected: "1, 2 or 3 (BatchNorm1d, BatchNorm2d, BatchNorm3d)",
            });
        }
        let c = self.num_features;
        check_size("num_features", c)?;
        check_eps(self.eps)?;
        if let Some(m) = self.momentum {
            if !(0.0..=1.0).contains(&m) {
                return Err(Error::InvalidParameter {
                    name: "momentum",
                    value: m,
                    expected: "None or in [0, 1]",
                });
            }
        }
        Ok(BatchNorm {
            num_features: c,
            eps: self.eps,
            momentum: self.momentum,
            affine: self.affine.then(|| Affine::new(c)),
            running: self.track_running_stats.then(|| Running {
                mean: Array1::zeros(c),
                var: Array1::ones(c),
                num_batches_tracked: Array0::zeros(()),
            }),
            xhat: Buffer::new(),
            staging: Buffer::new(),
            out: Buffer::new(),
            grad_in: Buffer::new(),
            stats: vec![[F::zero(), F::one(), F::one(), F::zero()]; c],
            coef: vec![[F::zero(); 3]; c],
            acc: vec![0.0; c],
            acc2: vec![0.0; c],
            units: vec![(); c],
            geometry: (0, c, 1),
            batch_stats: false,
            pass: Pass::None,
        })
    }
}

/// Operation names per `D` (the type's PyTorch name).
const OPS: [[&str; 3]; 3] = [
    ["BatchNorm1d::forward", "BatchNorm1d::backward", "BatchNorm1d::backward_input"],
    ["BatchNorm2d::forward", "BatchNorm2d::backward", "BatchNorm2d::backward_input"],
    ["BatchNorm3d::forward", "BatchNorm3d::backward", "BatchNorm3d::backward_input"],
];

impl<F: Float, const D: usize> BatchNorm<F, D> {
    /// A layer with PyTorch's defaults (`eps` 1e-5, `momentum` 0.1, affine, tracking
    /// running statistics).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `num_features` is 0.
    pub fn new(num_features: usize) -> Result<Self> {
        Self::builder(num_features).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(num_features: usize) -> BatchNormBuilder<F, D> {
        BatchNormBuilder {
            _float: PhantomData,
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
        }
    }

    /// An affine layer with the given weight and bias `[C]` (e.g. from a PyTorch
    /// `state_dict`) and the other defaults; set the running statistics with
    /// [`running_mean_mut`](Self::running_mean_mut) / [`running_var_mut`](Self::running_var_mut)
    /// or [`Module::set_buffers`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty weight, [`Error::ShapeMismatch`] for a
    /// bias of another length.
    pub fn from_weights(weight: Array1<F>, bias: Array1<F>) -> Result<Self> {
        let mut bn = Self::new(weight.len())?;
        if let Some(a) = &mut bn.affine {
            a.set("BatchNorm::from_weights", weight, bias)?;
        }
        Ok(bn)
    }

    /// Number of channels `C`.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// `eps`.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// `momentum` (`None`: cumulative average).
    pub fn momentum(&self) -> Option<f64> {
        self.momentum
    }

    /// Whether the layer has a weight and bias.
    pub fn affine(&self) -> bool {
        self.affine.is_some()
    }

    /// Whether the layer keeps running statistics.
    pub fn track_running_stats(&self) -> bool {
        self.running.is_some()
    }

    /// The weight `γ`, if affine.
    pub fn weight(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.weight.view())
    }

    /// The bias `β`, if affine.
    pub fn bias(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.bias.view())
    }

    /// The weight, mutable.
    pub fn weight_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.affine.as_mut().map(|a| a.weight.view_mut())
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.affine.as_mut().map(|a| a.bias.view_mut())
    }

    /// `dL/dγ` of the last backward.
    pub fn weight_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.weight_grad.view())
    }

    /// `dL/dβ` of the last backward.
    pub fn bias_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.bias_grad.view())
    }

    /// The running mean, if tracked.
    pub fn running_mean(&self) -> Option<ArrayView1<'_, F>> {
        self.running.as_ref().map(|r| r.mean.view())
    }

    /// The running (unbiased) variance, if tracked.
    pub fn running_var(&self) -> Option<ArrayView1<'_, F>> {
        self.running.as_ref().map(|r| r.var.view())
    }

    /// The running mean, mutable.
    pub fn running_mean_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.running.as_mut().map(|r| r.mean.view_mut())
    }

    /// The running variance, mutable.
    pub fn running_var_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.running.as_mut().map(|r| r.var.view_mut())
    }

    /// Number of training batches seen, if tracked.
    pub fn num_batches_tracked(&self) -> Option<i64> {
        self.running.as_ref().map(|r| r.num_batches_tracked[()])
    }

    /// `(N, C, S)` of `x`, or the error naming the expected shape.
    fn check_input(&self, x: &ArrayViewD<'_, F>) -> Result<(usize, usize, usize)> {
        let c = self.num_features;
        let nd = x.ndim();
        let ok_ndim = if D == 1 { nd == 2 || nd == 3 } else { nd == D + 2 };
        if !ok_ndim || x.shape()[1] != c {
            let dims = if ok_ndim {
                nd
            } else if D == 1 {
                2
            } else {
                D + 2
            };
            let mut expected = vec![0; dims];
            expected[1] = c;
            return Err(Error::ShapeMismatch { op: OPS[D - 1][0], expected, got: x.shape().to_vec() });
        }
        Ok((x.shape()[0], c, x.shape()[2..].iter().product()))
    }

    fn check_grad(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
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

    /// Parameter gradients, and `dL/dx` into `grad_in` when `input_grad`.
    fn backward_impl(&mut self, op: &'static str, g: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        self.check_grad(op, &g)?;
        if self.affine.is_none() && !input_grad {
            return Ok(());
        }
        let (n, _, s) = self.geometry;
        let gs = contiguous(&g, &mut self.staging);
        let xhat = self.xhat.view().to_slice().expect("buffer views are contiguous");
        channel_reduce(s, gs, gs, &self.units, &mut self.acc, |_, g, _| g.as_f64());
        channel_reduce(s, gs, xhat, &self.units, &mut self.acc2, |_, g, xh| g.as_f64() * xh.as_f64());
        if let Some(a) = &mut self.affine {
            a.bias_grad.iter_mut().zip(&self.acc).for_each(|(d, &v)| *d = F::lit(v));
            a.weight_grad.iter_mut().zip(&self.acc2).for_each(|(d, &v)| *d = F::lit(v));
        }
        if input_grad {
            let m = (n * s) as f64;
            for (ch, k) in self.coef.iter_mut().enumerate() {
                let w = self.affine.as_ref().map_or(F::one(), |a| a.weight[ch]);
                // Batch statistics depend on x: subtract the mean gradient and its
                // projection on x̂.
                let (mg, mgx) =
                    if self.batch_stats { (self.acc[ch] / m, self.acc2[ch] / m) } else { (0.0, 0.0) };
                *k = [w * self.stats[ch][1], F::lit(mg), F::lit(mgx)];
            }
            let dx = slice_mut(self.grad_in.reshape(g.shape()));
            channel_map(s, gs, xhat, &self.coef, dx, |k, g, xh| k[0] * (g - k[1] - xh * k[2]));
        }
        Ok(())
    }
}

impl<F: Float, const D: usize> Module<F> for BatchNorm<F, D> {
    /// `"weight"` (id 0) and `"bias"` (id 1) when affine; nothing otherwise.
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        match &mut self.affine {
            Some(a) => a.visit(f),
            None => Ok(()),
        }
    }

    /// `"running_mean"`, `"running_var"` and `"num_batches_tracked"` when tracking.
    fn visit_buffers(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        if let Some(r) = &mut self.running {
            f("running_mean", BufferMut::Float(r.mean.view_mut().into_dyn()))?;
            f("running_var", BufferMut::Float(r.var.view_mut().into_dyn()))?;
            f("num_batches_tracked", BufferMut::Int(r.num_batches_tracked.view_mut().into_dyn()))?;
        }
        Ok(())
    }
}

impl<F: Float, const D: usize> Model<F> for BatchNorm<F, D> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let op = OPS[D - 1][0];
        let (n, c, s) = self.check_input(&x)?;
        let batch_stats = self.running.is_none() || mode.is_training();
        let m = n * s;
        if batch_stats && m == 0 {
            return Err(Error::EmptyInput { op, what: "no values per channel to compute batch statistics" });
        }
        if batch_stats && m == 1 {
            return Err(Error::invalid_input(
                op,
                format!(
                    "expected more than 1 value per channel when training, got input shape {:?}",
                    x.shape()
                ),
            ));
        }
        let xs = contiguous(&x, &mut self.staging);
        let eps = self.eps;
        if batch_stats {
            channel_reduce(s, xs, xs, &self.units, &mut self.acc, |_, v, _| v.as_f64());
            self.acc.iter_mut().for_each(|v| *v /= m as f64);
            channel_reduce(s, xs, xs, &self.acc, &mut self.acc2, |&mean, v, _| {
                let d = v.as_f64() - mean;
                d * d
            });
            for ((st, &mean), &ss) in self.stats.iter_mut().zip(&self.acc).zip(&self.acc2) {
                st[0] = F::lit(mean);
                st[1] = F::lit(1.0 / (ss / m as f64 + eps).sqrt());
            }
            if let (Some(r), true) = (&mut self.running, mode.is_training()) {
                let nbt = &mut r.num_batches_tracked[()];
                *nbt = nbt.saturating_add(1);
                let f = self.momentum.unwrap_or(1.0 / *nbt as f64);
                for ch in 0..c {
                    let unbiased = self.acc2[ch] / (m - 1) as f64;
                    r.mean[ch] = F::lit(f * self.acc[ch] + (1.0 - f) * r.mean[ch].as_f64());
                    r.var[ch] = F::lit(f * unbiased + (1.0 - f) * r.var[ch].as_f64());
                }
            }
        } else if let Some(r) = &self.running {
            for ((st, &mean), &var) in self.stats.iter_mut().zip(&r.mean).zip(&r.var) {
                st[0] = mean;
                st[1] = F::lit(1.0 / (var.as_f64() + eps).sqrt());
            }
        }
        if let Some(a) = &self.affine {
            for ((st, &w), &b) in self.stats.iter_mut().zip(&a.weight).zip(&a.bias) {
                st[2] = w;
                st[3] = b;
            }
        }
        let out = slice_mut(self.out.reshape(x.shape()));
        if mode.records() {
            let xhat = slice_mut(self.xhat.reshape(x.shape()));
            channel_map(s, xs, xs, &self.stats, xhat, |st, v, _| (v - st[0]) * st[1]);
            channel_map(s, xhat, xhat, &self.stats, out, |st, xh, _| xh * st[2] + st[3]);
        } else {
            channel_map(s, xs, xs, &self.stats, out, |st, v, _| (v - st[0]) * st[1] * st[2] + st[3]);
        }
        self.geometry = (n, c, s);
        self.batch_stats = batch_stats;
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    /// Stores `dL/dγ` and `dL/dβ` (nothing to do without affine parameters); skips
    /// `dL/dx` (use [`Layer::backward_input`]).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl(OPS[D - 1][1], grad_out, false)
    }
}

impl<F: Float, const D: usize> Layer<F> for BatchNorm<F, D> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.backward_impl(OPS[D - 1][2], grad_out, true)?;
        Ok(self.grad_in.view())
    }
}

/// Group normalization (PyTorch `nn.GroupNorm`; Wu & He, "Group Normalization", 2018):
/// the `C` channels of `[N, C, *]` are split into `num_groups` groups of `C/G`
/// consecutive channels, and every sample's group is normalised with its own mean and
/// biased variance over its `m = (C/G)·S` values, then scaled per channel:
///
/// ```text
/// y = (x − μ_ng) / √(σ²_ng + eps) · γ_c + β_c
/// ```
///
/// No batch statistics and no running statistics: training and evaluation compute the
/// same function (the mode only decides whether the backward pass is prepared).
///
/// Backward, with `g = dL/dy`, `x̂ = (x − μ)/√(σ² + eps)`, `ĝ = g·γ_c` and sums over the
/// group's `m` values: `dL/dx = (ĝ − Σĝ/m − x̂·Σ(ĝ·x̂)/m) / √(σ² + eps)`;
/// `dL/dγ_c = Σ_{n,s} g·x̂`, `dL/dβ_c = Σ_{n,s} g`.
///
/// Parameters `"weight"` (id 0, ones) and `"bias"` (id 1, zeros), `[C]`, when affine.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `num_groups` (`G`) | required | `>= 1`, divides `num_channels` |
/// | `num_channels` (`C`) | required | `>= 1` |
/// | `eps` | 1e-5 | finite, `>= 0` |
/// | `affine` | `true` | |
///
/// With `G = 1` it is layer normalization over `[C, *]` with per-channel affine
/// parameters; with `G = C`, instance normalization.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for a size of 0, `num_channels` not
///   divisible by `num_groups` (`"num_channels"`), an invalid `eps`;
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, C]`) for fewer than 2
///   dimensions or the wrong channel count; [`Error::InvalidInput`] when the input
///   holds a single value per group over the batch (`N·(C/G)·S = 1`, PyTorch's
///   "Expected more than 1 value per channel when training");
/// * `backward`: as [`BatchNorm`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::GroupNorm;
/// use ndtrain::prelude::*;
///
/// let mut gn = GroupNorm::<f64>::new(2, 4)?;
/// // Sample 0: group 0 = channels 0, 1 = [1, 3]; group 1 = [5, 5] (constant).
/// let x = array![[1.0, 3.0, 5.0, 5.0], [0.0, 2.0, 4.0, 8.0]].into_dyn();
/// let y = gn.forward(x.view(), Mode::Train)?;
/// assert!((y[[0, 0]] + 1.0 / (1.0f64 + 1e-5).sqrt()).abs() < 1e-15);
/// assert_eq!(y[[0, 2]], 0.0);
/// assert_eq!(gn.weight().unwrap().to_vec(), vec![1.0; 4]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.GroupNorm")]
#[derive(Clone, Debug)]
pub struct GroupNorm<F> {
    num_groups: usize,
    num_channels: usize,
    eps: f64,
    affine: Option<Affine<F>>,
    xhat: Buffer<F>,
    staging: Buffer<F>,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    /// `1/√(σ² + eps)` per (sample, group) of the last forward, `[N·G]`.
    invstd: Buffer<F>,
    /// Per channel: `dL/dβ` and `dL/dγ` sums in f64.
    acc: Vec<f64>,
    acc2: Vec<f64>,
    /// Per channel `[γ, β]` (`[1, 0]` without affine parameters).
    wb: Vec<[F; 2]>,
    /// `(N, C, S)` of the last forward.
    geometry: (usize, usize, usize),
    pass: Pass,
}

/// Builder of [`GroupNorm`]: `GroupNorm::<f32>::builder(4, 32).eps(1e-6).affine(false).build()?`.
#[derive(Clone, Copy, Debug)]
pub struct GroupNormBuilder<F> {
    _float: PhantomData<fn() -> F>,
    num_groups: usize,
    num_channels: usize,
    eps: f64,
    affine: bool,
}

impl<F: Float> GroupNormBuilder<F> {
    /// Added to the variance for stability (default 1e-5).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Whether the layer has a per-channel weight and bias (default `true`).
    pub fn affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self
    }

    /// Validates and builds (weight ones, bias zeros).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size of 0, `num_channels` not divisible by
    /// `num_groups`, `eps` negative or not finite.
    pub fn build(self) -> Result<GroupNorm<F>> {
        check_size("num_groups", self.num_groups)?;
        check_size("num_channels", self.num_channels)?;
        if self.num_channels % self.num_groups != 0 {
            return Err(Error::InvalidParameter {
                name: "num_channels",
                value: self.num_channels as f64,
                expected: "divisible by num_groups",
            });
        }
        check_eps(self.eps)?;
        let c = self.num_channels;
        Ok(GroupNorm {
            num_groups: self.num_groups,
            num_channels: c,
            eps: self.eps,
            affine: self.affine.then(|| Affine::new(c)),
            xhat: Buffer::new(),
            staging: Buffer::new(),
            out: Buffer::new(),
            grad_in: Buffer::new(),
            invstd: Buffer::new(),
            acc: vec![0.0; c],
            acc2: vec![0.0; c],
            wb: vec![[F::one(), F::zero()]; c],
            geometry: (0, c, 1),
            pass: Pass::None,
        })
    }
}

impl<F: Float> GroupNorm<F> {
    /// A layer with PyTorch's defaults (`eps` 1e-5, affine).
    ///
    /// # Errors
    /// As [`GroupNormBuilder::build`].
    pub fn new(num_groups: usize, num_channels: usize) -> Result<Self> {
        Self::builder(num_groups, num_channels).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(num_groups: usize, num_channels: usize) -> GroupNormBuilder<F> {
        GroupNormBuilder { _float: PhantomData, num_groups, num_channels, eps: 1e-5, affine: true }
    }

    /// An affine layer with `num_groups` groups and the given weight and bias `[C]`.
    ///
    /// # Errors
    /// As [`GroupNormBuilder::build`], and [`Error::ShapeMismatch`] for a bias of
    /// another length.
    pub fn from_weights(num_groups: usize, weight: Array1<F>, bias: Array1<F>) -> Result<Self> {
        let mut gn = Self::new(num_groups, weight.len())?;
        if let Some(a) = &mut gn.affine {
            a.set("GroupNorm::from_weights", weight, bias)?;
        }
        Ok(gn)
    }

    /// Number of groups `G`.
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// Number of channels `C`.
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// `eps`.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Whether the layer has a weight and bias.
    pub fn affine(&self) -> bool {
        self.affine.is_some()
    }

    /// The weight `γ`, if affine.
    pub fn weight(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.weight.view())
    }

    /// The bias `β`, if affine.
    pub fn bias(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.bias.view())
    }

    /// The weight, mutable.
    pub fn weight_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.affine.as_mut().map(|a| a.weight.view_mut())
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
        self.affine.as_mut().map(|a| a.bias.view_mut())
    }

    /// `dL/dγ` of the last backward.
    pub fn weight_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.weight_grad.view())
    }

    /// `dL/dβ` of the last backward.
    pub fn bias_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.affine.as_ref().map(|a| a.bias_grad.view())
    }

    fn check_grad(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
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

    /// `[γ, β]` per channel from the current parameters.
    fn load_wb(&mut self) {
        if let Some(a) = &self.affine {
            for ((p, &w), &b) in self.wb.iter_mut().zip(&a.weight).zip(&a.bias) {
                *p = [w, b];
            }
        }
    }

    fn backward_impl(&mut self, op: &'static str, g: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        self.check_grad(op, &g)?;
        if self.affine.is_none() && !input_grad {
            return Ok(());
        }
        self.load_wb();
        let (_, c, s) = self.geometry;
        let cg = c / self.num_groups;
        let group = cg * s;
        let gs = contiguous(&g, &mut self.staging);
        let xhat = self.xhat.view().to_slice().expect("buffer views are contiguous");
        let invstd = self.invstd.view().to_slice().expect("buffer views are contiguous");
        let (dw, db) = (&mut self.acc2, &mut self.acc);
        dw.fill(0.0);
        db.fill(0.0);
        let dx = slice_mut(self.grad_in.reshape(g.shape()));
        if group > 0 {
            let blocks = gs.chunks_exact(group).zip(xhat.chunks_exact(group)).zip(dx.chunks_exact_mut(group));
            for (k, ((gb, xb), dxb)) in blocks.enumerate() {
                let g0 = (k % self.num_groups) * cg;
                let wb = &self.wb[g0..g0 + cg];
                // Σ ĝ and Σ ĝ·x̂ over the group (ĝ = g·γ), from per-channel sums of g and
                // g·x̂, which are also the channel's contributions to dβ and dγ.
                let (mut sum_gh, mut sum_ghx) = (0.0, 0.0);
                let chans = gb.chunks_exact(s).zip(xb.chunks_exact(s)).zip(wb);
                for (((gc, xc), p), (db, dw)) in
                    chans.zip(db[g0..g0 + cg].iter_mut().zip(&mut dw[g0..g0 + cg]))
                {
                    let sg = sum_map(gc, gc, |g, _| g.as_f64());
                    let sgx = sum_map(gc, xc, |g, x| g.as_f64() * x.as_f64());
                    *db += sg;
                    *dw += sgx;
                    sum_gh += p[0].as_f64() * sg;
                    sum_ghx += p[0].as_f64() * sgx;
                }
                if input_grad {
                    let istd = invstd[k];
                    let m = group as f64;
                    let (a, b) = (F::lit(sum_gh / m), F::lit(sum_ghx / m));
                    let chans =
                        dxb.chunks_exact_mut(s).zip(gb.chunks_exact(s)).zip(xb.chunks_exact(s)).zip(wb);
                    for (((dc, gc), xc), p) in chans {
                        let w = p[0];
                        dc.iter_mut()
                            .zip(gc)
                            .zip(xc)
                            .for_each(|((d, &g), &xh)| *d = istd * (g * w - a - xh * b));
                    }
                }
            }
        }
        if let Some(a) = &mut self.affine {
            a.bias_grad.iter_mut().zip(db.iter()).for_each(|(d, &v)| *d = F::lit(v));
            a.weight_grad.iter_mut().zip(dw.iter()).for_each(|(d, &v)| *d = F::lit(v));
        }
        Ok(())
    }
}

impl<F: Float> Module<F> for GroupNorm<F> {
    /// `"weight"` (id 0) and `"bias"` (id 1) when affine; nothing otherwise.
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        match &mut self.affine {
            Some(a) => a.visit(f),
            None => Ok(()),
        }
    }
}

impl<F: Float> Model<F> for GroupNorm<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let op = "GroupNorm::forward";
        let c = self.num_channels;
        if x.ndim() < 2 || x.shape()[1] != c {
            return Err(Error::ShapeMismatch { op, expected: vec![0, c], got: x.shape().to_vec() });
        }
        let n = x.shape()[0];
        let s: usize = x.shape()[2..].iter().product();
        let cg = c / self.num_groups;
        if n * cg * s == 1 {
            return Err(Error::invalid_input(
                op,
                format!(
                    "expected more than 1 value per channel when training, got input shape {:?}",
                    x.shape()
                ),
            ));
        }
        self.load_wb();
        let xs = contiguous(&x, &mut self.staging);
        let group = cg * s;
        let eps = self.eps;
        let invstd = slice_mut(self.invstd.reshape(&[n * self.num_groups]));
        let xhat = slice_mut(self.xhat.reshape(x.shape()));
        let out = slice_mut(self.out.reshape(x.shape()));
        if group > 0 {
            let blocks =
                xs.chunks_exact(group).zip(xhat.chunks_exact_mut(group)).zip(out.chunks_exact_mut(group));
            for (k, ((xb, hb), ob)) in blocks.enumerate() {
                let mean = sum_map(xb, xb, |v, _| v.as_f64()) / group as f64;
                let var = sum_map(xb, xb, |v, _| {
                    let d = v.as_f64() - mean;
                    d * d
                }) / group as f64;
                let istd = 1.0 / (var + eps).sqrt();
                invstd[k] = F::lit(istd);
                let (mean, istd) = (F::lit(mean), F::lit(istd));
                let g0 = (k % self.num_groups) * cg;
                let chans = ob.chunks_exact_mut(s).zip(hb.chunks_exact_mut(s)).zip(xb.chunks_exact(s));
                for (((oc, hc), xc), p) in chans.zip(&self.wb[g0..g0 + cg]) {
                    for ((o, h), &v) in oc.iter_mut().zip(hc.iter_mut()).zip(xc) {
                        *h = (v - mean) * istd;
                        *o = *h * p[0] + p[1];
                    }
                }
            }
        }
        self.geometry = (n, c, s);
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    /// Stores `dL/dγ` and `dL/dβ` (nothing to do without affine parameters); skips
    /// `dL/dx` (use [`Layer::backward_input`]).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl("GroupNorm::backward", grad_out, false)
    }
}

impl<F: Float> Layer<F> for GroupNorm<F> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.backward_impl("GroupNorm::backward_input", grad_out, true)?;
        Ok(self.grad_in.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BufferValue;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array, Array2, ArrayD, Dimension, IxDyn, array};

    fn bn1() -> BatchNorm1d<f64> {
        let mut bn = BatchNorm1d::from_weights(array![2.0, -1.0], array![0.5, 0.0]).unwrap();
        bn.running_mean_mut().unwrap().assign(&array![0.1, -0.2]);
        bn.running_var_mut().unwrap().assign(&array![2.0, 0.5]);
        bn
    }

    fn x1() -> ArrayD<f64> {
        array![[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]].into_dyn()
    }

    fn g1() -> ArrayD<f64> {
        array![[1.0, 0.5], [-1.0, 2.0], [0.5, -0.5]].into_dyn()
    }

    /// numpy, PyTorch's formulas (train: batch statistics, biased variance for the
    /// output, unbiased for running_var; eval: running statistics):
    ///
    /// ```python
    /// x = np.array([[1., 2.], [3., -1.], [-2., .5]]); w = np.array([2., -1.]); b = np.array([.5, 0.])
    /// rm = np.array([.1, -.2]); rv = np.array([2., .5]); eps = 1e-5
    /// g = np.array([[1., .5], [-1., 2.], [.5, -.5]])
    /// istd = 1/np.sqrt(x.var(0) + eps); xh = (x - x.mean(0))*istd; y = xh*w + b
    /// .9*rm + .1*x.mean(0); .9*rv + .1*x.var(0, ddof=1)
    /// (g*xh).sum(0); g.sum(0); w*istd*(g - g.mean(0) - xh*(g*xh).mean(0))
    /// istd_r = 1/np.sqrt(rv + eps); xr = (x - rm)*istd_r
    /// xr*w + b; g*w*istd_r; (g*xr).sum(0)
    /// ```
    #[test]
    fn batch_norm_train_hand_checked() {
        let mut bn = bn1();
        let y = bn.forward(x1().view(), Mode::Train).unwrap().to_owned();
        let want = array![
            [0.8244424580535786, -1.2247407889290967],
            [2.77109720637505, 1.2247407889290967],
            [-2.0955396644286286, 0.0]
        ];
        assert_abs_diff_eq!(y, want.into_dyn(), epsilon = 1e-15);
        assert_abs_diff_eq!(bn.running_mean().unwrap(), array![0.15666666666666668, -0.13], epsilon = 1e-16);
        assert_abs_diff_eq!(bn.running_var().unwrap(), array![2.4333333333333336, 0.675], epsilon = 1e-15);
        assert_eq!(bn.num_batches_tracked(), Some(1));
        let dx = bn.backward_input(g1().view()).unwrap().to_owned();
        let want = array![
            [0.8964855371442231, -0.47628400214145744],
            [-0.5378928591155899, -0.4762921670256179],
            [-0.3585926780286331, 0.9525761691670751]
        ];
        assert_abs_diff_eq!(dx, want.into_dyn(), epsilon = 1e-15);
        assert_abs_diff_eq!(
            bn.weight_grad().unwrap(),
            array![-1.622212290267893, -1.8371111833936449],
            epsilon = 1e-15
        );
        assert_eq!(bn.bias_grad().unwrap(), array![0.5, 2.0]);
        // Model::backward gives the same parameter gradients (overwritten, not added).
        bn.backward(g1().view()).unwrap();
        assert_eq!(bn.bias_grad().unwrap(), array![0.5, 2.0]);
        let names: Vec<String> = bn.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
        let bufs: Vec<String> = bn.buffers().into_iter().map(|(n, _)| n).collect();
        assert_eq!(bufs, ["running_mean", "running_var", "num_batches_tracked"]);
        assert!(matches!(&bn.buffers()[2].1, BufferValue::Int(v) if v.shape().is_empty() && v[[]] == 1));
    }

    #[test]
    fn batch_norm_eval_and_eval_grad_use_running_statistics() {
        let want_y = array![
            [1.7727890241672026, -3.1112387249891205],
            [4.601209077872097, 1.13135953635968],
            [-2.4698410563901394, -0.9899395943147199]
        ]
        .into_dyn();
        let mut bn = bn1();
        let y = bn.forward(x1().view(), Mode::Eval).unwrap().to_owned();
        assert_abs_diff_eq!(y, want_y, epsilon = 1e-15);
        assert!(matches!(
            bn.backward(g1().view()),
            Err(Error::InvalidInput { op: "BatchNorm1d::backward", .. })
        ));
        let y = bn.forward(x1().view(), Mode::EvalGrad).unwrap().to_owned();
        assert_abs_diff_eq!(y, want_y, epsilon = 1e-15);
        let dx = bn.backward_input(g1().view()).unwrap().to_owned();
        let want = array![
            [1.4142100268524473, -0.7070997102248],
            [-1.4142100268524473, -2.8283988408992],
            [0.7071050134262237, 0.7070997102248]
        ];
        assert_abs_diff_eq!(dx, want.into_dyn(), epsilon = 1e-15);
        assert_abs_diff_eq!(
            bn.weight_grad().unwrap(),
            array![-2.156670290949982, -1.2020695073821597],
            epsilon = 1e-15
        );
        // Evaluation never touches the running statistics.
        assert_eq!(bn.running_mean().unwrap(), array![0.1, -0.2]);
        assert_eq!(bn.running_var().unwrap(), array![2.0, 0.5]);
        assert_eq!(bn.num_batches_tracked(), Some(0));
        // One sample is fine with running statistics.
        let one = array![[1.0, 2.0]].into_dyn();
        let y1 = bn.forward(one.view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y1.index_axis(ndarray::Axis(0), 0), y.index_axis(ndarray::Axis(0), 0));
    }

    #[test]
    fn momentum_none_is_a_cumulative_average() {
        let mut bn = BatchNorm1d::<f64>::builder(1).momentum(None).build().unwrap();
        assert_eq!(bn.momentum(), None);
        for (k, batch) in [[1.0, 3.0], [10.0, 20.0], [-4.0, -8.0]].iter().enumerate() {
            bn.forward(
                Array2::from_shape_vec((2, 1), batch.to_vec()).unwrap().into_dyn().view(),
                Mode::Train,
            )
            .unwrap();
            assert_eq!(bn.num_batches_tracked(), Some(k as i64 + 1));
        }
        // Means 2, 15, −6 → 11/3; unbiased variances 2, 50, 8 → 20.
        assert_abs_diff_eq!(bn.running_mean().unwrap()[0], 11.0 / 3.0, epsilon = 1e-14);
        assert_abs_diff_eq!(bn.running_var().unwrap()[0], 20.0, epsilon = 1e-13);
        // momentum 0 freezes the statistics, momentum 1 keeps only the last batch.
        let mut frozen = BatchNorm1d::<f64>::builder(1).momentum(0.0).build().unwrap();
        let mut last = BatchNorm1d::<f64>::builder(1).momentum(1.0).build().unwrap();
        let x = array![[1.0], [3.0]].into_dyn();
        frozen.forward(x.view(), Mode::Train).unwrap();
        last.forward(x.view(), Mode::Train).unwrap();
        assert_eq!((frozen.running_mean().unwrap()[0], frozen.running_var().unwrap()[0]), (0.0, 1.0));
        assert_eq!((last.running_mean().unwrap()[0], last.running_var().unwrap()[0]), (2.0, 2.0));
    }

    #[test]
    fn without_running_statistics_batch_statistics_always() {
        let mut a = BatchNorm1d::<f64>::builder(2).track_running_stats(false).build().unwrap();
        let mut b = BatchNorm1d::<f64>::new(2).unwrap();
        let ya = a.forward(x1().view(), Mode::Eval).unwrap().to_owned();
        let yb = b.forward(x1().view(), Mode::Train).unwrap().to_owned();
        assert_eq!(ya, yb);
        assert!(a.buffers().is_empty() && a.running_mean().is_none() && a.num_batches_tracked().is_none());
        assert!(!a.track_running_stats() && a.affine());
        // EvalGrad gradients are the batch-statistics ones.
        a.forward(x1().view(), Mode::EvalGrad).unwrap();
        let da = a.backward_input(g1().view()).unwrap().to_owned();
        let db = b.backward_input(g1().view()).unwrap().to_owned();
        assert_eq!(da, db);
        // ... and one value per channel is refused in every mode.
        let err = a.forward(array![[1.0, 2.0]].into_dyn().view(), Mode::Eval).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }

    #[test]
    fn batch_norm_1d_on_sequences_equals_2d() {
        let x = Array::from_shape_fn((3, 2, 5), |(n, c, l)| ((n * 10 + c * 5 + l) as f64 * 0.7).sin());
        let g = x.mapv(|v| (3.0 * v).cos());
        let mut one = BatchNorm1d::<f64>::from_weights(array![1.5, -0.5], array![0.2, 0.3]).unwrap();
        let mut two = BatchNorm2d::<f64>::from_weights(array![1.5, -0.5], array![0.2, 0.3]).unwrap();
        let x4 = x.clone().into_shape_with_order((3, 2, 5, 1)).unwrap();
        let g4 = g.clone().into_shape_with_order((3, 2, 5, 1)).unwrap();
        let y1 = one.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
        let y2 = two.forward(x4.view().into_dyn(), Mode::Train).unwrap().to_owned();
        assert_eq!(y1.as_slice(), y2.as_slice());
        let d1 = one.backward_input(g.view().into_dyn()).unwrap().to_owned();
        let d2 = two.backward_input(g4.view().into_dyn()).unwrap().to_owned();
        assert_eq!(d1.as_slice(), d2.as_slice());
        assert_eq!(one.weight_grad(), two.weight_grad());
        assert_eq!(one.running_var(), two.running_var());
        // The normalised output has mean β and variance γ²·σ²/(σ² + eps) per channel.
        let c0 = y1.index_axis(ndarray::Axis(1), 0);
        assert_abs_diff_eq!(c0.mean().unwrap(), 0.2, epsilon = 1e-15);
    }

    #[test]
    fn batch_norm_errors_leave_the_layer_unchanged() {
        let mut bn = bn1();
        bn.forward(x1().view(), Mode::Train).unwrap();
        let state = (bn.buffers(), bn.parameters());
        let cases: [(ArrayD<f64>, &str); 5] = [
            (ArrayD::zeros(IxDyn(&[3, 3])), "shape"),
            (ArrayD::zeros(IxDyn(&[3])), "shape"),
            (ArrayD::zeros(IxDyn(&[3, 2, 2, 2])), "shape"),
            (ArrayD::zeros(IxDyn(&[1, 2])), "one value"),
            (ArrayD::zeros(IxDyn(&[0, 2])), "empty"),
        ];
        for (x, what) in cases {
            let err = bn.forward(x.view(), Mode::Train).unwrap_err();
            match (what, &err) {
                ("shape", Error::ShapeMismatch { op: "BatchNorm1d::forward", expected, .. }) => {
                    assert_eq!(expected, &[0, 2], "{err}")
                }
                ("one value", Error::InvalidInput { .. }) => {
                    assert!(err.to_string().contains("more than 1 value per channel"), "{err}")
                }
                ("empty", Error::EmptyInput { .. }) => {}
                _ => panic!("{what}: {err}"),
            }
        }
        assert_eq!((bn.buffers(), bn.parameters()), state);
        // The last good forward can still be back-propagated.
        bn.backward(g1().view()).unwrap();
        assert_eq!(bn.bias_grad().unwrap(), array![0.5, 2.0]);
        let err = bn.backward(ArrayD::zeros(IxDyn(&[2, 2])).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "BatchNorm1d::backward", expected: vec![3, 2], got: vec![2, 2] }
        );
        // [1, C, L] with L > 1 has enough values per channel; 2-D expects 4 dimensions.
        bn.forward(ArrayD::zeros(IxDyn(&[1, 2, 3])).view(), Mode::Train).unwrap();
        let mut bn2 = BatchNorm2d::<f32>::new(3).unwrap();
        let err = bn2.forward(ArrayD::zeros(IxDyn(&[2, 3, 4])).view(), Mode::Eval).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "BatchNorm2d::forward",
                expected: vec![0, 3, 0, 0],
                got: vec![2, 3, 4]
            }
        );
        let err = bn2.forward(ArrayD::zeros(IxDyn(&[2, 4, 4, 4])).view(), Mode::Eval).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { expected, .. } if expected == [0, 3, 0, 0]));
        let mut bn3 = BatchNorm3d::<f32>::new(1).unwrap();
        assert_eq!(
            bn3.forward(ArrayD::zeros(IxDyn(&[2, 1, 2, 2, 2])).view(), Mode::Train).unwrap().len(),
            16
        );
    }

    #[test]
    fn invalid_hyper_parameters() {
        let cases: [(Result<()>, &str); 9] = [
            (BatchNorm1d::<f64>::new(0).map(|_| ()), "num_features"),
            (BatchNorm2d::<f64>::builder(2).eps(-1.0).build().map(|_| ()), "eps"),
            (BatchNorm2d::<f64>::builder(2).eps(f64::NAN).build().map(|_| ()), "eps"),
            (BatchNorm1d::<f64>::builder(2).momentum(1.5).build().map(|_| ()), "momentum"),
            (BatchNorm1d::<f64>::builder(2).momentum(f64::NAN).build().map(|_| ()), "momentum"),
            (BatchNorm::<f64, 4>::new(2).map(|_| ()), "D"),
            (GroupNorm::<f64>::new(0, 4).map(|_| ()), "num_groups"),
            (GroupNorm::<f64>::new(4, 6).map(|_| ()), "num_channels"),
            (GroupNorm::<f64>::builder(2, 4).eps(f64::INFINITY).build().map(|_| ()), "eps"),
        ];
        for (r, name) in cases {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let err = BatchNorm1d::<f64>::from_weights(array![1.0, 2.0], array![0.0]).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { expected, got, .. } if expected == [2] && got == [1]));
        assert!(GroupNorm::<f64>::from_weights(2, array![1.0, 2.0], array![0.0, 1.0, 2.0]).is_err());
        let bn = BatchNorm2d::<f32>::builder(3).eps(1e-3).momentum(0.01).affine(false).build().unwrap();
        assert_eq!((bn.num_features(), bn.eps(), bn.momentum(), bn.affine()), (3, 1e-3, Some(0.01), false));
        assert!(bn.weight().is_none());
    }

    /// numpy: `x [2, 4, 2]`, two groups of two channels, per-channel affine.
    ///
    /// ```python
    /// xg = np.arange(16.).reshape(2, 4, 2)**1.5 * np.array([1, -1]*8).reshape(2, 4, 2)
    /// wg = np.array([1., 2., -.5, .25]); bg = np.array([0., .1, .2, .3]); eps = 1e-5
    /// gg = np.cos(np.arange(16.)).reshape(2, 4, 2)
    /// xr = xg.reshape(2, 2, 4); s = 1/np.sqrt(xr.var(-1, keepdims=True) + eps)
    /// xh = ((xr - xr.mean(-1, keepdims=True))*s).reshape(2, 4, 2); y = xh*wg[:, None] + bg[:, None]
    /// (gg*xh).sum((0, 2)); gg.sum((0, 2))
    /// gh = (gg*wg[:, None]).reshape(2, 2, 4); xhr = xh.reshape(2, 2, 4)
    /// s*(gh - gh.mean(-1, keepdims=True) - xhr*(gh*xhr).mean(-1, keepdims=True))
    /// ```
    #[test]
    fn group_norm_hand_checked() {
        let x = Array::from_shape_fn((2, 4, 2), |(n, c, s)| {
            let i = (n * 8 + c * 2 + s) as f64;
            i.powf(1.5) * if s == 0 { 1.0 } else { -1.0 }
        });
        let g = Array::from_shape_fn((2, 4, 2), |(n, c, s)| ((n * 8 + c * 2 + s) as f64).cos());
        let mut gn =
            GroupNorm::<f64>::from_weights(2, array![1.0, 2.0, -0.5, 0.25], array![0.0, 0.1, 0.2, 0.3])
                .unwrap();
        let y = gn.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
        let want = [
            0.29239435029989747,
            -0.05489567418871154,
            2.649357751434496,
            -2.924355103656868,
            -0.1594876810942631,
            0.5476352710829999,
            0.6031920932847422,
            -0.00911829829037386,
            0.8369379157292184,
            -0.8287564722096215,
            2.377716245317238,
            -2.194079132356432,
            -0.2429257863875508,
            0.6408841834796921,
            0.5754958936860112,
            0.02348330486005934,
        ];
        for (a, b) in y.iter().zip(want) {
            assert_abs_diff_eq!(*a, b, epsilon = 1e-14);
        }
        let dx = gn.backward_input(g.view().into_dyn()).unwrap().to_owned();
        let want = [
            0.4019797807404491,
            0.3085439063012613,
            -0.4216349034863751,
            -0.2888887835553352,
            0.007598032591499494,
            -0.016747315866249595,
            -0.002365576601485264,
            0.01151485987623537,
            0.027034864880543484,
            -0.01666476220919417,
            -0.021143751006989966,
            0.010773648335640653,
            -0.004492373199610233,
            -0.002707429319957197,
            0.004327669759279233,
            0.0028721327602881947,
        ];
        for (a, b) in dx.iter().zip(want) {
            assert_abs_diff_eq!(*a, b, epsilon = 1e-15);
        }
        let dw = array![0.8960646974822121, 0.005930971014024844, -0.7198041305778596, 1.223231961244973];
        assert_abs_diff_eq!(gn.weight_grad().unwrap(), dw, epsilon = 1e-14);
        let db = array![0.4836720101748493, -2.2407851642359895, 1.3813193047823027, 1.0911218463426828];
        assert_abs_diff_eq!(gn.bias_grad().unwrap(), db, epsilon = 1e-15);
        // Eval computes the same function; only the backward is refused.
        let y2 = gn.forward(x.view().into_dyn(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y, y2);
        assert!(gn.backward(g.view().into_dyn()).is_err());
        assert_eq!((gn.num_groups(), gn.num_channels(), gn.eps()), (2, 4, 1e-5));
    }

    #[test]
    fn group_norm_shapes_and_errors() {
        let mut gn = GroupNorm::<f64>::builder(3, 6).affine(false).build().unwrap();
        assert_eq!(gn.num_parameters(), 0);
        for shape in [&[2, 6][..], &[1, 6, 5], &[3, 6, 2, 3]] {
            let x =
                Array::from_shape_fn(IxDyn(shape), |i| (i.slice().iter().sum::<usize>() as f64 * 1.3).sin());
            let y = gn.forward(x.view(), Mode::Train).unwrap().to_owned();
            // Every (sample, group) has mean 0.
            let n = shape[0];
            let y3 = y.into_shape_with_order((n, 3, x.len() / n / 3)).unwrap();
            assert!(y3.mean_axis(ndarray::Axis(2)).unwrap().iter().all(|m| m.abs() < 1e-14));
            gn.backward_input(x.view()).unwrap();
        }
        for (shape, expected) in [(&[2, 4][..], vec![0, 6]), (&[6][..], vec![0, 6])] {
            let err = gn.forward(ArrayD::zeros(IxDyn(shape)).view(), Mode::Eval).unwrap_err();
            assert_eq!(err, Error::ShapeMismatch { op: "GroupNorm::forward", expected, got: shape.to_vec() });
        }
        // One value per group over the whole input: refused, as in PyTorch.
        let mut inst = GroupNorm::<f64>::new(2, 2).unwrap();
        assert!(matches!(
            inst.forward(ArrayD::zeros(IxDyn(&[1, 2])).view(), Mode::Train),
            Err(Error::InvalidInput { .. })
        ));
        inst.forward(ArrayD::zeros(IxDyn(&[2, 2])).view(), Mode::Train).unwrap();
        // Empty batch: empty output.
        assert_eq!(
            gn.forward(ArrayD::zeros(IxDyn(&[0, 6, 2])).view(), Mode::Train).unwrap().shape(),
            &[0, 6, 2]
        );
    }

    #[test]
    fn f32_and_f64_agree_non_contiguous_inputs_and_buffer_reuse() {
        let x = Array::from_shape_fn((4, 3, 5), |(n, c, l)| {
            ((n * 15 + c * 5 + l) as f64 * 0.61).sin() * 4.0 + c as f64
        });
        let g = x.mapv(|v| (v * 1.7).cos());
        let mut a = BatchNorm1d::<f64>::new(3).unwrap();
        let mut b = BatchNorm1d::<f32>::new(3).unwrap();
        let mut ga = GroupNorm::<f64>::new(3, 3).unwrap();
        let mut gb = GroupNorm::<f32>::new(3, 3).unwrap();
        let layers: [(&mut dyn Layer<f64>, &mut dyn Layer<f32>); 2] = [(&mut a, &mut b), (&mut ga, &mut gb)];
        for (a, b) in layers {
            let ya = a.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
            let yb = b.forward(x.mapv(|v| v as f32).view().into_dyn(), Mode::Train).unwrap().mapv(f64::from);
            assert_abs_diff_eq!(ya, yb, epsilon = 1e-5);
            let da = a.backward_input(g.view().into_dyn()).unwrap().to_owned();
            let db = b.backward_input(g.mapv(|v| v as f32).view().into_dyn()).unwrap().mapv(f64::from);
            assert_abs_diff_eq!(da, db, epsilon = 1e-5);
            // A permuted (non-contiguous) view of the same values gives the same result.
            let xp = x.view().permuted_axes([2, 1, 0]).as_standard_layout().into_owned();
            let y2 =
                a.forward(xp.view().permuted_axes([2, 1, 0]).into_dyn(), Mode::Train).unwrap().to_owned();
            assert_eq!(ya, y2);
            let gp = g.view().permuted_axes([2, 1, 0]).as_standard_layout().into_owned();
            let d2 = a.backward_input(gp.view().permuted_axes([2, 1, 0]).into_dyn()).unwrap().to_owned();
            assert_eq!(da, d2);
        }
        // `a` saw the batch twice (standard and permuted layout).
        b.forward(x.mapv(|v| v as f32).view().into_dyn(), Mode::Train).unwrap();
        assert_eq!((a.num_batches_tracked(), b.num_batches_tracked()), (Some(2), Some(2)));
        assert_abs_diff_eq!(
            a.running_var().unwrap(),
            b.running_var().unwrap().mapv(f64::from),
            epsilon = 1e-5
        );

        let mut bn = BatchNorm2d::<f32>::new(4).unwrap();
        let step = |bn: &mut BatchNorm2d<f32>, n: usize| {
            let x = Array::from_shape_fn((n, 4, 3, 3), |(a, b, c, d)| (a + b * c + d) as f32).into_dyn();
            let p = bn.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = bn.backward_input(x.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(&mut bn, 8);
        assert_eq!(step(&mut bn, 3), first);
        assert_eq!(step(&mut bn, 8), first);
        assert_eq!((bn.out.capacity(), bn.xhat.capacity(), bn.grad_in.capacity()), (288, 288, 288));
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<BatchNorm1d<f32>>();
        send_sync::<BatchNorm2d<f64>>();
        send_sync::<BatchNormBuilder<f64, 2>>();
        send_sync::<GroupNorm<f32>>();
        send_sync::<GroupNormBuilder<f32>>();
    }
}
