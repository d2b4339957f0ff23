//! Pooling: [`MaxPool1d`], [`MaxPool2d`], [`AvgPool1d`], [`AvgPool2d`],
//! [`AdaptiveAvgPool1d`] and [`AdaptiveAvgPool2d`] (PyTorch's `nn.*Pool*d`).
//!
//! Every pool reduces each channel plane independently over windows of the input; a
//! 1-D pool is a 2-D one of height 1. The window of output `(i, j)` starts at
//! `(i·sH − pH, j·sW − pW)` and, for max pooling, reads every `dH`-th row and `dW`-th
//! column of a `kH × kW` grid; positions in the padding are skipped (max pooling pads
//! with −∞, average pooling with zeros). Output sizes follow PyTorch:
//!
//! ```text
//! H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1 + (ceil_mode ? sH − 1 : 0)) / sH⌋ + 1,
//! minus 1 in ceil mode when the last window would start at or past H + pH
//! ```
//!
//! (the last window must start inside the input or its left padding). Padding is at
//! most half the (dilated) kernel size, as PyTorch requires.
//!
//! The backward passes scatter `dL/dy` back to the input: max pooling to the position
//! of each window's maximum (kept as an index during the forward pass), average pooling
//! spread evenly over the window. Outputs, indices and gradients live in buffers the
//! layer owns, reused from batch to batch.

use std::marker::PhantomData;

use ndarray::ArrayViewD;

use super::conv::{IntoSizes, valid_range};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::model::layers::{Pass, copy_into, parameter_free_layer, slice_mut};
use crate::tensor::{Buffer, Float};

/// Sizes of the last forward pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Dims {
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

/// A sliding window: kernel, stride, padding, dilation (2-D; a 1-D pool has height 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
}

impl Window {
    /// PyTorch's `pooling_output_shape`; `None` below one output.
    fn out_len(&self, axis: usize, input: usize) -> Option<usize> {
        let (k, s, p, d) = (
            self.kernel[axis] as isize,
            self.stride[axis] as isize,
            self.padding[axis] as isize,
            self.dilation[axis] as isize,
        );
        let input = input as isize;
        let num = input + 2 * p - d * (k - 1) - 1 + if self.ceil_mode { s - 1 } else { 0 };
        let mut out = num.div_euclid(s) + 1;
        if self.ceil_mode && (out - 1) * s >= input + p {
            out -= 1;
        }
        (out >= 1).then_some(out as usize)
    }

    /// 2×2 windows at stride 2 without padding or dilation, all inside the input (the
    /// pool of most CNNs; ceil mode can add a partial last window).
    fn is_2x2(&self, d: Dims) -> bool {
        self.kernel == [2, 2]
            && self.stride == [2, 2]
            && self.padding == [0, 0]
            && self.dilation == [1, 1]
            && 2 * d.oh <= d.h
            && 2 * d.ow <= d.w
    }
}

/// How the windows are reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Max(Window),
    Avg {
        window: Window,
        count_include_pad: bool,
        divisor_override: Option<usize>,
    },
    /// Output size `[OH, OW]`; windows `⌊i·H/OH⌋ .. ⌈(i+1)·H/OH⌉`.
    Adaptive([usize; 2]),
}

/// The parameter-free machinery of every pool: kind, buffers, last pass.
#[derive(Clone, Debug)]
struct PoolCore<F> {
    kind: Kind,
    /// A standard-layout copy of a non-contiguous input.
    input: Buffer<F>,
    in_shape: Vec<usize>,
    dims: Dims,
    out: Buffer<F>,
    /// Max pooling: the position of each output's maximum in its plane (`NONE`: the
    /// window held no input element).
    indices: Buffer<u32>,
    grad_copy: Buffer<F>,
    grad_in: Buffer<F>,
    pass: Pass,
}

/// Index of an empty max-pooling window (only possible with dilation and padding).
const NONE: u32 = u32::MAX;

impl<F: Float> PoolCore<F> {
    fn new(kind: Kind) -> Self {
        PoolCore {
            kind,
            input: Buffer::new(),
            in_shape: Vec::new(),
            dims: Dims::default(),
            out: Buffer::new(),
            indices: Buffer::new(),
            grad_copy: Buffer::new(),
            grad_in: Buffer::new(),
            pass: Pass::None,
        }
    }

    /// `x` is `[N, C, L]` (`one_d`) or `[N, C, H, W]`.
    fn forward(
        &mut self,
        op: &'static str,
        x: ArrayViewD<'_, F>,
        mode: Mode,
        one_d: bool,
    ) -> Result<ArrayViewD<'_, F>> {
        let nd = if one_d { 3 } else { 4 };
        if x.ndim() != nd {
            return Err(Error::ShapeMismatch { op, expected: vec![0; nd], got: x.shape().to_vec() });
        }
        if x.shape()[1..].contains(&0) {
            return Err(Error::invalid_input(
                op,
                format!("expected non-zero channel and spatial sizes, got input shape {:?}", x.shape()),
            ));
        }
        let (n, c) = (x.shape()[0], x.shape()[1]);
        let (h, w) = if one_d { (1, x.shape()[2]) } else { (x.shape()[2], x.shape()[3]) };
        let (oh, ow) = match self.kind {
            Kind::Max(win) | Kind::Avg { window: win, .. } => match (win.out_len(0, h), win.out_len(1, w)) {
                (Some(oh), Some(ow)) => (oh, ow),
                _ => {
                    return Err(Error::invalid_input(
                        op,
                        format!(
                            "input shape {:?} gives an output size below 1 (window too large)",
                            x.shape()
                        ),
                    ));
                }
            },
            Kind::Adaptive(size) => (size[0], size[1]),
        };
        if h * w > NONE as usize {
            return Err(Error::invalid_input(
                op,
                format!("planes of more than {NONE} elements (input shape {:?})", x.shape()),
            ));
        }
        let d = Dims { h, w, oh, ow };
        let PoolCore { kind, input, out, indices, in_shape, .. } = self;
        let xs: &[F] = match x.as_slice() {
            Some(xs) => xs,
            None => {
                copy_into(&x, input);
                input.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let planes = n * c;
        let ys = slice_mut(out.reshape(&[planes * oh * ow]));
        match *kind {
            Kind::Max(win) => {
                if mode.records() {
                    let idx = slice_mut(indices.reshape(&[planes * oh * ow]));
                    for ((xp, yp), ip) in xs
                        .chunks_exact(h * w)
                        .zip(ys.chunks_exact_mut(oh * ow))
                        .zip(idx.chunks_exact_mut(oh * ow))
                    {
                        max_plane::<F, true>(&win, xp, d, yp, ip);
                    }
                } else {
                    for (xp, yp) in xs.chunks_exact(h * w).zip(ys.chunks_exact_mut(oh * ow)) {
                        max_plane::<F, false>(&win, xp, d, yp, &mut []);
                    }
                }
            }
            Kind::Avg { window, count_include_pad, divisor_override } => {
                for (xp, yp) in xs.chunks_exact(h * w).zip(ys.chunks_exact_mut(oh * ow)) {
                    avg_windows(&window, count_include_pad, divisor_override, d, |k, lo, hi, div| {
                        let mut s = F::zero();
                        for ih in lo[0]..hi[0] {
                            for &v in &xp[ih * w + lo[1]..ih * w + hi[1]] {
                                s += v;
                            }
                        }
                        yp[k] = s / div;
                    });
                }
            }
            Kind::Adaptive(_) => {
                for (xp, yp) in xs.chunks_exact(h * w).zip(ys.chunks_exact_mut(oh * ow)) {
                    adaptive_windows(d, |k, lo, hi| {
                        let mut s = F::zero();
                        for ih in lo[0]..hi[0] {
                            for &v in &xp[ih * w + lo[1]..ih * w + hi[1]] {
                                s += v;
                            }
                        }
                        yp[k] = s / F::lit((hi[0] - lo[0]) as f64) / F::lit((hi[1] - lo[1]) as f64);
                    });
                }
            }
        }
        in_shape.clear();
        in_shape.extend_from_slice(x.shape());
        self.dims = d;
        let shape: &[usize] = if one_d { &[n, c, ow] } else { &[n, c, oh, ow] };
        self.out.reshape(shape);
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

    fn backward_input(&mut self, op: &'static str, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.check_backward(op, &g)?;
        let d = self.dims;
        let (hw, p) = (d.h * d.w, d.oh * d.ow);
        let PoolCore { kind, indices, grad_copy, grad_in, in_shape, .. } = self;
        let gs: &[F] = match g.as_slice() {
            Some(gs) => gs,
            None => {
                copy_into(&g, grad_copy);
                grad_copy.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let dx = slice_mut(grad_in.reshape(in_shape));
        dx.fill(F::zero());
        match *kind {
            Kind::Max(_) => {
                let idx = indices.view();
                let idx = idx.to_slice().expect("buffer views are contiguous");
                for ((dp, gp), ip) in dx.chunks_exact_mut(hw).zip(gs.chunks_exact(p)).zip(idx.chunks_exact(p))
                {
                    for (&gv, &i) in gp.iter().zip(ip) {
                        if let Some(d) = dp.get_mut(i as usize) {
                            *d += gv;
                        }
                    }
                }
            }
            Kind::Avg { window, count_include_pad, divisor_override } => {
                for (dp, gp) in dx.chunks_exact_mut(hw).zip(gs.chunks_exact(p)) {
                    avg_windows(&window, count_include_pad, divisor_override, d, |k, lo, hi, div| {
                        let delta = gp[k] / div;
                        for ih in lo[0]..hi[0] {
                            for v in &mut dp[ih * d.w + lo[1]..ih * d.w + hi[1]] {
                                *v += delta;
                            }
                        }
                    });
                }
            }
            Kind::Adaptive(_) => {
                for (dp, gp) in dx.chunks_exact_mut(hw).zip(gs.chunks_exact(p)) {
                    adaptive_windows(d, |k, lo, hi| {
                        let delta = gp[k] / F::lit((hi[0] - lo[0]) as f64) / F::lit((hi[1] - lo[1]) as f64);
                        for ih in lo[0]..hi[0] {
                            for v in &mut dp[ih * d.w + lo[1]..ih * d.w + hi[1]] {
                                *v += delta;
                            }
                        }
                    });
                }
            }
        }
        Ok(self.grad_in.view())
    }
}

/// Max pooling of one plane `x` (`[H, W]`) into `y` (`[OH, OW]`); with `RECORD`, the
/// position of each maximum goes to `idx`. PyTorch's rule: scan rows then columns,
/// keep the first maximum, and let NaN win (`v > best || v.is_nan()`).
fn max_plane<F: Float, const RECORD: bool>(win: &Window, x: &[F], d: Dims, y: &mut [F], idx: &mut [u32]) {
    let [kh, kw] = win.kernel;
    let [sh, sw] = win.stride;
    let [dh, dw] = win.dilation;
    let [ph, pw] = win.padding;
    if win.is_2x2(d) {
        return max_plane_2x2::<F, RECORD>(x, d, y, idx);
    }
    for oi in 0..d.oh {
        let h0 = (oi * sh) as isize - ph as isize;
        let (i_lo, i_hi) = valid_range(h0, dh, d.h, kh);
        for oj in 0..d.ow {
            let w0 = (oj * sw) as isize - pw as isize;
            let (j_lo, j_hi) = valid_range(w0, dw, d.w, kw);
            let mut best = F::neg_infinity();
            let mut at = NONE;
            if i_lo < i_hi && j_lo < j_hi {
                at = ((h0 + (i_lo * dh) as isize) as usize * d.w + (w0 + (j_lo * dw) as isize) as usize)
                    as u32;
                for i in i_lo..i_hi {
                    let row = (h0 + (i * dh) as isize) as usize * d.w;
                    for j in j_lo..j_hi {
                        let k = row + (w0 + (j * dw) as isize) as usize;
                        let v = x[k];
                        if v > best || v.is_nan() {
                            best = v;
                            at = k as u32;
                        }
                    }
                }
            }
            y[oi * d.ow + oj] = best;
            if RECORD {
                idx[oi * d.ow + oj] = at;
            }
        }
    }
}

/// [`max_plane`] for 2×2 windows at stride 2 that all lie inside the input, without
/// branches on the data (a branch per comparison mispredicts on ReLU outputs, half of
/// them zeros: 4× slower). Each pair of input rows is reduced vertically first
/// (contiguous, vectorized), then horizontally in blocks of four outputs; ties resolve
/// as PyTorch's row-major scan, to the first maximum. A row pair holding a NaN is redone
/// by that scan (where the last NaN wins).
fn max_plane_2x2<F: Float, const RECORD: bool>(x: &[F], d: Dims, y: &mut [F], idx: &mut [u32]) {
    let (w, wu) = (d.w, d.w as u32);
    for oi in 0..d.oh {
        let r0 = &x[2 * oi * w..][..2 * d.ow];
        let r1 = &x[(2 * oi + 1) * w..][..2 * d.ow];
        let yr = &mut y[oi * d.ow..][..d.ow];
        let base = (2 * oi * w) as u32;
        let mut nan = false;
        // Outputs j..j + N from input columns 2j..2j + 2N; local arrays stay in
        // registers (through memory, a store and the narrower load after it stall).
        let mut block = |j: usize, a: &[F], c: &[F], vs: &mut [F], is: &mut [u32]| {
            let mut vmax = [F::zero(); 8];
            let mut vrow = [0u32; 8];
            for k in 0..a.len() {
                // Column k: the lower element wins if larger.
                let t = c[k] > a[k];
                nan |= a[k].is_nan() | c[k].is_nan();
                vmax[k] = if t { c[k] } else { a[k] };
                vrow[k] = u32::from(t);
            }
            // Left column 2t (scan position 2·lr), right column 2t + 1 (2·rr + 1): the
            // right one wins if larger, or equal and from an earlier row.
            for t in 0..vs.len() {
                let (l, r, lr, rr) = (vmax[2 * t], vmax[2 * t + 1], vrow[2 * t], vrow[2 * t + 1]);
                let take_r = (r > l) | ((r == l) & (rr < lr));
                vs[t] = if take_r { r } else { l };
                let row = if take_r { rr } else { lr };
                is[t] = base + row * wu + 2 * (j + t) as u32 + u32::from(take_r);
            }
        };
        let mut j = 0;
        while j + 4 <= d.ow {
            let a: &[F; 8] = r0[2 * j..2 * j + 8].try_into().expect("8 elements");
            let c: &[F; 8] = r1[2 * j..2 * j + 8].try_into().expect("8 elements");
            let (mut vs, mut is) = ([F::zero(); 4], [0u32; 4]);
            block(j, a, c, &mut vs, &mut is);
            yr[j..j + 4].copy_from_slice(&vs);
            if RECORD {
                idx[oi * d.ow + j..][..4].copy_from_slice(&is);
            }
            j += 4;
        }
        for j in j..d.ow {
            let (mut vs, mut is) = ([F::zero(); 1], [0u32; 1]);
            block(j, &r0[2 * j..2 * j + 2], &r1[2 * j..2 * j + 2], &mut vs, &mut is);
            yr[j] = vs[0];
            if RECORD {
                idx[oi * d.ow + j] = is[0];
            }
        }
        if nan {
            for (j, yv) in yr.iter_mut().enumerate() {
                let cand = [r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]];
                let (mut best, mut at) = (cand[0], 0);
                for (k, &v) in cand.iter().enumerate().skip(1) {
                    if v > best || v.is_nan() {
                        (best, at) = (v, k);
                    }
                }
                *yv = best;
                if RECORD {
                    idx[oi * d.ow + j] = base + (at / 2) as u32 * wu + (2 * j + at % 2) as u32;
                }
            }
        }
    }
}

/// Calls `f(k, lo, hi, divisor)` for every average-pooling window `k` with its clipped
/// bounds `lo..hi` (rows, columns) and PyTorch's divisor; empty windows (output 0,
/// gradient 0) are skipped.
fn avg_windows<F: Float>(
    win: &Window,
    count_include_pad: bool,
    divisor_override: Option<usize>,
    d: Dims,
    mut f: impl FnMut(usize, [usize; 2], [usize; 2], F),
) {
    let bounds = |o: usize, axis: usize, len: usize| {
        let start = (o * win.stride[axis]) as isize - win.padding[axis] as isize;
        let end = (start + win.kernel[axis] as isize).min((len + win.padding[axis]) as isize);
        let padded = (end - start) as usize;
        (start.max(0) as usize, (end.min(len as isize)).max(0) as usize, padded)
    };
    for oi in 0..d.oh {
        let (h0, h1, ph) = bounds(oi, 0, d.h);
        for oj in 0..d.ow {
            let (w0, w1, pw) = bounds(oj, 1, d.w);
            let k = oi * d.ow + oj;
            if h0 >= h1 || w0 >= w1 {
                continue;
            }
            let div = match divisor_override {
                Some(v) => v,
                None if count_include_pad => ph * pw,
                None => (h1 - h0) * (w1 - w0),
            };
            f(k, [h0, w0], [h1, w1], F::lit(div as f64));
        }
    }
}

/// Calls `f(k, lo, hi)` for every adaptive window: rows `⌊i·H/OH⌋ .. ⌈(i+1)·H/OH⌉`,
/// columns alike.
fn adaptive_windows(d: Dims, mut f: impl FnMut(usize, [usize; 2], [usize; 2])) {
    let start = |i: usize, len: usize, out: usize| i * len / out;
    let end = |i: usize, len: usize, out: usize| ((i + 1) * len).div_ceil(out);
    for oi in 0..d.oh {
        let (h0, h1) = (start(oi, d.h, d.oh), end(oi, d.h, d.oh));
        for oj in 0..d.ow {
            let (w0, w1) = (start(oj, d.w, d.ow), end(oj, d.w, d.ow));
            f(oi * d.ow + oj, [h0, w0], [h1, w1]);
        }
    }
}

fn positive(name: &'static str, v: usize) -> Result<()> {
    if v == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
}

/// Validates a window of `D` dimensions and lifts it to 2-D (height 1 for `D = 1`).
fn window<const D: usize>(
    kernel: [usize; D],
    stride: Option<[usize; D]>,
    padding: [usize; D],
    dilation: [usize; D],
    ceil_mode: bool,
) -> Result<Window> {
    let stride = stride.unwrap_or(kernel);
    for a in 0..D {
        positive("kernel_size", kernel[a])?;
        positive("stride", stride[a])?;
        positive("dilation", dilation[a])?;
        let span = dilation[a] * (kernel[a] - 1) + 1;
        if padding[a] > span / 2 {
            return Err(Error::InvalidParameter {
                name: "padding",
                value: padding[a] as f64,
                expected: "<= half of the (dilated) kernel size",
            });
        }
    }
    let two = |v: [usize; D], one: usize| if D == 1 { [one, v[0]] } else { [v[0], v[D - 1]] };
    Ok(Window {
        kernel: two(kernel, 1),
        stride: two(stride, 1),
        padding: two(padding, 0),
        dilation: two(dilation, 1),
        ceil_mode,
    })
}

/// Builder of [`MaxPool1d`] (`D = 1`) and [`MaxPool2d`] (`D = 2`):
/// `MaxPool2d::<f32>::builder(3).stride(2).padding(1).ceil_mode(true).build()?`.
///
/// | method | default | range |
/// |---|---|---|
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= ((kernel_size − 1)·dilation + 1) / 2` |
/// | `dilation` | 1 | `>= 1` |
/// | `ceil_mode` | `false` | |
#[derive(Clone, Copy, Debug)]
pub struct MaxPoolBuilder<F, const D: usize> {
    _float: PhantomData<fn() -> F>,
    kernel_size: [usize; D],
    stride: Option<[usize; D]>,
    padding: [usize; D],
    dilation: [usize; D],
    ceil_mode: bool,
}

impl<F: Float, const D: usize> MaxPoolBuilder<F, D> {
    fn new(kernel_size: [usize; D]) -> Self {
        MaxPoolBuilder {
            _float: PhantomData,
            kernel_size,
            stride: None,
            padding: [0; D],
            dilation: [1; D],
            ceil_mode: false,
        }
    }

    /// Step between windows (default: the kernel size).
    pub fn stride(mut self, stride: impl IntoSizes<D>) -> Self {
        self.stride = Some(stride.into_sizes());
        self
    }

    /// Implicit −∞ padding on both sides (default 0).
    pub fn padding(mut self, padding: impl IntoSizes<D>) -> Self {
        self.padding = padding.into_sizes();
        self
    }

    /// Spacing between window elements (default 1).
    pub fn dilation(mut self, dilation: impl IntoSizes<D>) -> Self {
        self.dilation = dilation.into_sizes();
        self
    }

    /// Round the output size up instead of down (default `false`).
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    fn core(self) -> Result<PoolCore<F>> {
        Ok(PoolCore::new(Kind::Max(window(
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )?)))
    }
}

impl<F: Float> MaxPoolBuilder<F, 1> {
    /// Validates the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size, stride or dilation of 0, or a
    /// padding above half the dilated kernel size.
    pub fn build(self) -> Result<MaxPool1d<F>> {
        Ok(MaxPool1d { core: self.core()? })
    }
}

impl<F: Float> MaxPoolBuilder<F, 2> {
    /// Validates the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size, stride or dilation of 0, or a
    /// padding above half the dilated kernel size.
    pub fn build(self) -> Result<MaxPool2d<F>> {
        Ok(MaxPool2d { core: self.core()? })
    }
}

/// Builder of [`AvgPool1d`] (`D = 1`) and [`AvgPool2d`] (`D = 2`):
/// `AvgPool2d::<f32>::builder(3).stride(1).padding(1).count_include_pad(false).build()?`.
///
/// | method | default | range |
/// |---|---|---|
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= kernel_size / 2` |
/// | `ceil_mode` | `false` | |
/// | `count_include_pad` | `true` | |
/// | `divisor_override` (2-D only, as in PyTorch) | `None` | `>= 1` |
#[derive(Clone, Copy, Debug)]
pub struct AvgPoolBuilder<F, const D: usize> {
    _float: PhantomData<fn() -> F>,
    kernel_size: [usize; D],
    stride: Option<[usize; D]>,
    padding: [usize; D],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<usize>,
}

impl<F: Float, const D: usize> AvgPoolBuilder<F, D> {
    fn new(kernel_size: [usize; D]) -> Self {
        AvgPoolBuilder {
            _float: PhantomData,
            kernel_size,
            stride: None,
            padding: [0; D],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    /// Step between windows (default: the kernel size).
    pub fn stride(mut self, stride: impl IntoSizes<D>) -> Self {
        self.stride = Some(stride.into_sizes());
        self
    }

    /// Implicit zero padding on both sides (default 0).
    pub fn padding(mut self, padding: impl IntoSizes<D>) -> Self {
        self.padding = padding.into_sizes();
        self
    }

    /// Round the output size up instead of down (default `false`).
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// Whether padded zeros count in the divisor (default `true`).
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }

    fn core(self) -> Result<PoolCore<F>> {
        if self.divisor_override == Some(0) {
            return Err(Error::InvalidParameter { name: "divisor_override", value: 0.0, expected: ">= 1" });
        }
        let window = window(self.kernel_size, self.stride, self.padding, [1; D], self.ceil_mode)?;
        Ok(PoolCore::new(Kind::Avg {
            window,
            count_include_pad: self.count_include_pad,
            divisor_override: self.divisor_override,
        }))
    }
}

impl<F: Float> AvgPoolBuilder<F, 1> {
    /// Validates the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size or stride of 0, or a padding above
    /// half the kernel size.
    pub fn build(self) -> Result<AvgPool1d<F>> {
        Ok(AvgPool1d { core: self.core()? })
    }
}

impl<F: Float> AvgPoolBuilder<F, 2> {
    /// Divide every window sum by this number instead of the window size (default
    /// `None`).
    pub fn divisor_override(mut self, divisor: usize) -> Self {
        self.divisor_override = Some(divisor);
        self
    }

    /// Validates the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size or stride of 0, a padding above
    /// half the kernel size, or a `divisor_override` of 0.
    pub fn build(self) -> Result<AvgPool2d<F>> {
        Ok(AvgPool2d { core: self.core()? })
    }
}

/// 2-D max pooling (PyTorch `nn.MaxPool2d`): the largest value of each window of each
/// channel plane.
///
/// Input `[N, C, H, W]`, output `[N, C, H_out, W_out]` with
///
/// ```text
/// y[n, c, i, j] = max_{p < kH, q < kW} x[n, c, i·sH − pH + p·dH, j·sW − pW + q·dW]
/// ```
///
/// over the positions inside the input (the padding is −∞). Backward: `dL/dx` gets
/// `dL/dy[n, c, i, j]` at the position of the window's maximum (the first one in
/// row-major scan order on ties, as PyTorch), summed where windows overlap. A NaN in a
/// window is its maximum (PyTorch's scan keeps the last NaN). Sizes, as PyTorch's
/// `pooling_output_shape`:
///
/// ```text
/// H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1 + (ceil_mode ? sH − 1 : 0)) / sH⌋ + 1
/// ```
///
/// minus one in ceil mode when the last window would start at or past `H + pH` (the last
/// window must start inside the input or its left padding); `W_out` alike.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `kernel_size` | required | `>= 1`, an int or `(kH, kW)` |
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= ((k − 1)·d + 1) / 2` per dimension |
/// | `dilation` | 1 | `>= 1` |
/// | `ceil_mode` | `false` | |
///
/// Deviations: `return_indices` is not offered (the indices stay inside the layer); an
/// unbatched `[C, H, W]` input is refused.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] (see the table);
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, 0, 0, 0]`: any 4-D shape) for
///   another number of dimensions, [`Error::InvalidInput`] for a zero channel or
///   spatial size or a window larger than the padded input;
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward,
///   [`Error::ShapeMismatch`] for a `grad_out` of the wrong shape.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html>.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array4};
/// use ndtrain::prelude::*;
/// use ndtrain::model::MaxPool2d;
///
/// let mut pool = MaxPool2d::<f64>::new(2)?;
/// let x = array![[[[1.0, 2.0, 5.0, 0.0], [4.0, 3.0, 1.0, 1.0]]]].into_dyn();
/// let y = pool.forward(x.view(), Mode::Train)?;
/// assert_eq!(y, array![[[[4.0, 5.0]]]].into_dyn());
/// let dx = pool.backward_input(array![[[[10.0, 20.0]]]].into_dyn().view())?;
/// assert_eq!(dx, array![[[[0.0, 0.0, 20.0, 0.0], [10.0, 0.0, 0.0, 0.0]]]].into_dyn());
///
/// // 3×3 windows, stride 2, padding 1: 28 → ⌊27/2⌋ + 1 = 14, or 15 rounding up (the
/// // last window starts at 14·2 − 1 = 27, inside the input).
/// let x = Array4::<f32>::zeros((1, 2, 28, 28)).into_dyn();
/// let mut pool = MaxPool2d::<f32>::builder(3).stride(2).padding(1).build()?;
/// assert_eq!(pool.forward(x.view(), Mode::Eval)?.shape(), &[1, 2, 14, 14]);
/// let mut pool = MaxPool2d::<f32>::builder(3).stride(2).padding(1).ceil_mode(true).build()?;
/// assert_eq!(pool.forward(x.view(), Mode::Eval)?.shape(), &[1, 2, 15, 15]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.MaxPool2d")]
#[derive(Clone, Debug)]
pub struct MaxPool2d<F> {
    core: PoolCore<F>,
}

/// 1-D max pooling (PyTorch `nn.MaxPool1d`): input `[N, C, L]`, output `[N, C, L_out]`,
///
/// ```text
/// y[n, c, i] = max_{p < k} x[n, c, i·s − pad + p·d]
/// ```
///
/// over the positions inside the input. Backward: `dL/dy` goes to each window's first
/// maximum. Sizes, padding rule and ceil mode as [`MaxPool2d`].
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `kernel_size` | required | `>= 1` |
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= ((k − 1)·d + 1) / 2` |
/// | `dilation` | 1 | `>= 1` |
/// | `ceil_mode` | `false` | |
///
/// # Errors
/// As [`MaxPool2d`], with 3-D inputs (expected `[0, 0, 0]`).
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.MaxPool1d.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::MaxPool1d;
///
/// let mut pool = MaxPool1d::<f64>::builder(3).stride(1).padding(1).build()?;
/// let x = array![[[1.0, 3.0, 2.0, 0.0]]].into_dyn();
/// assert_eq!(pool.forward(x.view(), Mode::Train)?, array![[[3.0, 3.0, 3.0, 2.0]]].into_dyn());
/// let dx = pool.backward_input(array![[[1.0, 1.0, 1.0, 1.0]]].into_dyn().view())?;
/// assert_eq!(dx, array![[[0.0, 3.0, 1.0, 0.0]]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.MaxPool1d")]
#[derive(Clone, Debug)]
pub struct MaxPool1d<F> {
    core: PoolCore<F>,
}

/// 2-D average pooling (PyTorch `nn.AvgPool2d`): the mean of each window of each
/// channel plane.
///
/// Input `[N, C, H, W]`, output `[N, C, H_out, W_out]`:
///
/// ```text
/// y[n, c, i, j] = (1 / D_ij) · Σ_{p < kH, q < kW} x̃[n, c, i·sH − pH + p, j·sW − pW + q]
/// ```
///
/// with `x̃` zero-padded, and the divisor `D_ij` PyTorch's: `divisor_override` if set,
/// else with `count_include_pad` the window's size clipped to the padded input, else the
/// number of input elements in it. Backward: `dL/dx` gets `dL/dy[n, c, i, j] / D_ij` at
/// every input position of window `(i, j)`. Sizes and ceil mode as [`MaxPool2d`] with
/// dilation 1.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `kernel_size` | required | `>= 1`, an int or `(kH, kW)` |
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= k / 2` per dimension |
/// | `ceil_mode` | `false` | |
/// | `count_include_pad` | `true` | |
/// | `divisor_override` | `None` | `>= 1` |
///
/// # Errors
/// As [`MaxPool2d`] (construction also for a `divisor_override` of 0).
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::AvgPool2d;
///
/// let x = array![[[[1.0, 2.0], [3.0, 4.0]]]].into_dyn();
/// let mut pool = AvgPool2d::<f64>::builder(2).stride(1).padding(1).build()?;
/// let y = pool.forward(x.view(), Mode::Train)?;
/// assert_eq!(y[[0, 0, 0, 0]], 0.25); // 1 / 4: padded zeros count
/// let mut pool = AvgPool2d::<f64>::builder(2).stride(1).padding(1).count_include_pad(false).build()?;
/// assert_eq!(pool.forward(x.view(), Mode::Train)?[[0, 0, 0, 0]], 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.AvgPool2d")]
#[derive(Clone, Debug)]
pub struct AvgPool2d<F> {
    core: PoolCore<F>,
}

/// 1-D average pooling (PyTorch `nn.AvgPool1d`): input `[N, C, L]`, output
/// `[N, C, L_out]`, `y[n, c, i] = (1 / D_i) · Σ_{p < k} x̃[n, c, i·s − pad + p]`, with the
/// divisor rule of [`AvgPool2d`] (no `divisor_override`, as in PyTorch). Backward:
/// `dL/dy[n, c, i] / D_i` to every input position of window `i`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `kernel_size` | required | `>= 1` |
/// | `stride` | `kernel_size` | `>= 1` |
/// | `padding` | 0 | `<= k / 2` |
/// | `ceil_mode` | `false` | |
/// | `count_include_pad` | `true` | |
///
/// # Errors
/// As [`MaxPool1d`].
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.AvgPool1d.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::AvgPool1d;
///
/// let mut pool = AvgPool1d::<f64>::new(2)?;
/// let y = pool.forward(array![[[1.0, 3.0, 2.0, 6.0, 9.0]]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[[2.0, 4.0]]].into_dyn()); // the last element is in no window
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.AvgPool1d")]
#[derive(Clone, Debug)]
pub struct AvgPool1d<F> {
    core: PoolCore<F>,
}

/// Adaptive 2-D average pooling (PyTorch `nn.AdaptiveAvgPool2d`): a fixed output size
/// whatever the input size.
///
/// Input `[N, C, H, W]`, output `[N, C, OH, OW]`; output row `i` averages input rows
/// `⌊i·H/OH⌋ .. ⌈(i+1)·H/OH⌉` (columns alike), so windows may overlap by one and cover
/// the whole input. Backward: `dL/dy / (window size)` to every position of the window.
/// `AdaptiveAvgPool2d::new(1)` is global average pooling.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `output_size` | required | `>= 1`, an int or `(OH, OW)` |
///
/// Deviation: PyTorch's `None` entries (keep that input size) are not offered.
///
/// # Errors
/// Construction: [`Error::InvalidParameter`] for an output size of 0; otherwise as
/// [`MaxPool2d`].
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool2d.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::AdaptiveAvgPool2d;
///
/// let mut gap = AdaptiveAvgPool2d::<f64>::new(1)?;
/// let x = array![[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]].into_dyn();
/// assert_eq!(gap.forward(x.view(), Mode::Train)?, array![[[[3.5]]]].into_dyn());
/// // Windows of a 3-wide input into 2 outputs: columns 0..2 and 1..3.
/// let mut pool = AdaptiveAvgPool2d::<f64>::new((1, 2))?;
/// assert_eq!(pool.forward(x.view(), Mode::Train)?, array![[[[3.0, 4.0]]]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.AdaptiveAvgPool2d")]
#[doc(alias = "global average pooling")]
#[derive(Clone, Debug)]
pub struct AdaptiveAvgPool2d<F> {
    core: PoolCore<F>,
}

/// Adaptive 1-D average pooling (PyTorch `nn.AdaptiveAvgPool1d`): input `[N, C, L]`,
/// output `[N, C, L_out]`, output `i` the mean of inputs `⌊i·L/L_out⌋ .. ⌈(i+1)·L/L_out⌉`.
/// Backward: `dL/dy / (window size)` to every position of the window.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `output_size` | required | `>= 1` |
///
/// # Errors
/// Construction: [`Error::InvalidParameter`] for an output size of 0; otherwise as
/// [`MaxPool1d`].
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool1d.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::model::AdaptiveAvgPool1d;
///
/// let mut pool = AdaptiveAvgPool1d::<f64>::new(2)?;
/// let y = pool.forward(array![[[1.0, 2.0, 3.0, 4.0, 5.0]]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[[2.0, 4.0]]].into_dyn()); // windows 0..3 and 2..5
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.AdaptiveAvgPool1d")]
#[derive(Clone, Debug)]
pub struct AdaptiveAvgPool1d<F> {
    core: PoolCore<F>,
}

impl<F: Float> MaxPool2d<F> {
    /// Windows of `kernel_size`, stride `kernel_size`, no padding (`nn.MaxPool2d(k)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size of 0.
    pub fn new(kernel_size: impl IntoSizes<2>) -> Result<Self> {
        Self::builder(kernel_size).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(kernel_size: impl IntoSizes<2>) -> MaxPoolBuilder<F, 2> {
        MaxPoolBuilder::new(kernel_size.into_sizes())
    }
}

impl<F: Float> MaxPool1d<F> {
    /// Windows of `kernel_size`, stride `kernel_size`, no padding (`nn.MaxPool1d(k)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size of 0.
    pub fn new(kernel_size: usize) -> Result<Self> {
        Self::builder(kernel_size).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(kernel_size: usize) -> MaxPoolBuilder<F, 1> {
        MaxPoolBuilder::new([kernel_size])
    }
}

impl<F: Float> AvgPool2d<F> {
    /// Windows of `kernel_size`, stride `kernel_size`, no padding (`nn.AvgPool2d(k)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size of 0.
    pub fn new(kernel_size: impl IntoSizes<2>) -> Result<Self> {
        Self::builder(kernel_size).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(kernel_size: impl IntoSizes<2>) -> AvgPoolBuilder<F, 2> {
        AvgPoolBuilder::new(kernel_size.into_sizes())
    }
}

impl<F: Float> AvgPool1d<F> {
    /// Windows of `kernel_size`, stride `kernel_size`, no padding (`nn.AvgPool1d(k)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a kernel size of 0.
    pub fn new(kernel_size: usize) -> Result<Self> {
        Self::builder(kernel_size).build()
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(kernel_size: usize) -> AvgPoolBuilder<F, 1> {
        AvgPoolBuilder::new([kernel_size])
    }
}

impl<F: Float> AdaptiveAvgPool2d<F> {
    /// Pools every plane to `output_size` (`(OH, OW)` or one number for both).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an output size of 0.
    pub fn new(output_size: impl IntoSizes<2>) -> Result<Self> {
        let size = output_size.into_sizes();
        for &s in &size {
            positive("output_size", s)?;
        }
        Ok(AdaptiveAvgPool2d { core: PoolCore::new(Kind::Adaptive(size)) })
    }

    /// The output size `[OH, OW]`.
    pub fn output_size(&self) -> [usize; 2] {
        match self.core.kind {
            Kind::Adaptive(s) => s,
            _ => unreachable!("an adaptive pool"),
        }
    }
}

impl<F: Float> AdaptiveAvgPool1d<F> {
    /// Pools every sequence to `output_size` elements.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an output size of 0.
    pub fn new(output_size: usize) -> Result<Self> {
        positive("output_size", output_size)?;
        Ok(AdaptiveAvgPool1d { core: PoolCore::new(Kind::Adaptive([1, output_size])) })
    }

    /// The output size.
    pub fn output_size(&self) -> usize {
        match self.core.kind {
            Kind::Adaptive(s) => s[1],
            _ => unreachable!("an adaptive pool"),
        }
    }
}

/// The window accessors of the fixed-window pools.
macro_rules! window_accessors {
    ($ty:ident, 2) => {
        impl<F: Float> $ty<F> {
            fn window(&self) -> Window {
                match self.core.kind {
                    Kind::Max(w) | Kind::Avg { window: w, .. } => w,
                    Kind::Adaptive(_) => unreachable!("a fixed-window pool"),
                }
            }

            /// Kernel size `[kH, kW]`.
            pub fn kernel_size(&self) -> [usize; 2] {
                self.window().kernel
            }

            /// Stride `[sH, sW]`.
            pub fn stride(&self) -> [usize; 2] {
                self.window().stride
            }

            /// Padding `[pH, pW]`.
            pub fn padding(&self) -> [usize; 2] {
                self.window().padding
            }

            /// Whether output sizes round up.
            pub fn ceil_mode(&self) -> bool {
                self.window().ceil_mode
            }
        }
    };
    ($ty:ident, 1) => {
        impl<F: Float> $ty<F> {
            fn window(&self) -> Window {
                match self.core.kind {
                    Kind::Max(w) | Kind::Avg { window: w, .. } => w,
                    Kind::Adaptive(_) => unreachable!("a fixed-window pool"),
                }
            }

            /// Kernel size.
            pub fn kernel_size(&self) -> usize {
                self.window().kernel[1]
            }

            /// Stride.
            pub fn stride(&self) -> usize {
                self.window().stride[1]
            }

            /// Padding.
            pub fn padding(&self) -> usize {
                self.window().padding[1]
            }

            /// Whether output sizes round up.
            pub fn ceil_mode(&self) -> bool {
                self.window().ceil_mode
            }
        }
    };
}

window_accessors!(MaxPool2d, 2);
window_accessors!(MaxPool1d, 1);
window_accessors!(AvgPool2d, 2);
window_accessors!(AvgPool1d, 1);

/// `forward_impl`, `check_backward` and `backward_input_impl` for `parameter_free_layer!`.
macro_rules! pool_layer {
    ($ty:ident, $one_d:literal, $forward:literal, $backward:literal, $backward_input:literal) => {
        impl<F: Float> $ty<F> {
            fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
                self.core.forward($forward, x, mode, $one_d)
            }

            fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
                self.core.check_backward(op, g)
            }

            fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
                self.core.backward_input($backward_input, g)
            }
        }
        parameter_free_layer!($ty, $backward);
    };
}

pool_layer!(MaxPool2d, false, "MaxPool2d::forward", "MaxPool2d::backward", "MaxPool2d::backward_input");
pool_layer!(MaxPool1d, true, "MaxPool1d::forward", "MaxPool1d::backward", "MaxPool1d::backward_input");
pool_layer!(AvgPool2d, false, "AvgPool2d::forward", "AvgPool2d::backward", "AvgPool2d::backward_input");
pool_layer!(AvgPool1d, true, "AvgPool1d::forward", "AvgPool1d::backward", "AvgPool1d::backward_input");
pool_layer!(
    AdaptiveAvgPool2d,
    false,
    "AdaptiveAvgPool2d::forward",
    "AdaptiveAvgPool2d::backward",
    "AdaptiveAvgPool2d::backward_input"
);
pool_layer!(
    AdaptiveAvgPool1d,
    true,
    "AdaptiveAvgPool1d::forward",
    "AdaptiveAvgPool1d::backward",
    "AdaptiveAvgPool1d::backward_input"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model, Module};
    use approx::assert_abs_diff_eq;
    use ndarray::{Array4, ArrayD, IxDyn, array};

    fn seq(shape: &[usize]) -> ArrayD<f64> {
        let n: usize = shape.iter().product();
        ArrayD::from_shape_vec(
            IxDyn(shape),
            (0..n).map(|i| ((i * 37 + 11) % 23) as f64 / 4.0 - 2.0).collect(),
        )
        .unwrap()
    }

    /// Max pooling by definition: every window position, padding skipped, first max.
    fn direct_max(win: &Window, x: &Array4<f64>) -> (Array4<f64>, Array4<usize>) {
        let (n, c, h, w) = x.dim();
        let (oh, ow) = (win.out_len(0, h).unwrap(), win.out_len(1, w).unwrap());
        let mut y = Array4::from_elem((n, c, oh, ow), f64::NEG_INFINITY);
        let mut at = Array4::from_elem((n, c, oh, ow), usize::MAX);
        for ((a, b, i, j), v) in y.indexed_iter_mut() {
            // torch's CPU kernel: index of the first valid position, replaced by every
            // `val > maxval || isnan(val)` in row-major scan order.
            let mut first = None;
            for p in 0..win.kernel[0] {
                for q in 0..win.kernel[1] {
                    let ih = (i * win.stride[0] + p * win.dilation[0]) as isize - win.padding[0] as isize;
                    let iw = (j * win.stride[1] + q * win.dilation[1]) as isize - win.padding[1] as isize;
                    if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < w {
                        let pos = ih as usize * w + iw as usize;
                        first.get_or_insert(pos);
                        let x = x[[a, b, ih as usize, iw as usize]];
                        if x > *v || x.is_nan() {
                            *v = x;
                            first = Some(pos);
                        }
                    }
                }
            }
            at[[a, b, i, j]] = first.unwrap_or(usize::MAX);
        }
        (y, at)
    }

    #[test]
    fn output_sizes_follow_pytorch() {
        let win = |k, s, p, d, ceil| window::<1>([k], Some([s]), [p], [d], ceil).unwrap();
        // torch.nn.MaxPool1d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 6)).shape[-1] == 3 (floor: 2)
        assert_eq!(win(3, 2, 0, 1, true).out_len(1, 6), Some(3));
        assert_eq!(win(3, 2, 0, 1, false).out_len(1, 6), Some(2));
        // Ceil mode with padding: 5 + 2 − 2 − 1 + 1 = 5 → 5/2 + 1 = 3; the last window starts
        // at 2·2 = 4 < 5 + 1, kept. With input 4: (4 + 2 − 3 + 1)/2 + 1 = 3, start 4 >= 4 + 1? no.
        assert_eq!(win(2, 2, 1, 1, true).out_len(1, 5), Some(3));
        // The rule that drops a window starting in the right padding: input 3, k 2, s 2, p 1:
        // (3 + 2 − 1 − 1 + 1)/2 + 1 = 3, but (3 − 1)·2 = 4 >= 3 + 1, so 2.
        assert_eq!(win(2, 2, 1, 1, true).out_len(1, 3), Some(2));
        // Dilation: span 5 over 7 → 3 outputs at stride 1.
        assert_eq!(win(3, 1, 0, 2, false).out_len(1, 7), Some(3));
        // Window larger than the input.
        assert_eq!(win(3, 1, 0, 1, false).out_len(1, 2), None);
    }

    #[test]
    fn max_pool_matches_definition_for_every_option() {
        // (kernel, stride, padding, dilation, ceil_mode, input size)
        type Case = ([usize; 2], [usize; 2], [usize; 2], [usize; 2], bool, (usize, usize));
        let cases: [Case; 6] = [
            ([2, 2], [2, 2], [0, 0], [1, 1], false, (6, 8)), // fast path
            ([2, 2], [2, 2], [0, 0], [1, 1], false, (5, 7)), // fast path, odd sizes
            ([3, 3], [1, 1], [1, 1], [1, 1], false, (5, 4)),
            ([3, 3], [2, 2], [0, 0], [1, 1], true, (7, 6)),
            ([3, 2], [2, 1], [1, 1], [2, 1], true, (6, 5)),
            ([2, 3], [3, 2], [1, 1], [1, 2], false, (7, 9)),
        ];
        for (k, s, p, d, ceil, (h, w)) in cases {
            let mut pool = MaxPool2d::<f64>::builder(k)
                .stride(s)
                .padding(p)
                .dilation(d)
                .ceil_mode(ceil)
                .build()
                .unwrap();
            let x = seq(&[2, 3, h, w]).into_dimensionality().unwrap();
            let (ey, eat) = direct_max(&pool.window(), &x);
            let y = pool.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
            assert_eq!(y, ey.clone().into_dyn(), "{k:?} {s:?} {p:?} {d:?} {ceil}");
            let g = seq(ey.shape()).mapv(|v| v + 3.0);
            let dx = pool.backward_input(g.view()).unwrap().to_owned();
            let mut edx = ArrayD::<f64>::zeros(IxDyn(x.shape()));
            for ((a, b, i, j), &at) in eat.indexed_iter() {
                edx[[a, b, at / w, at % w]] += g[[a, b, i, j]];
            }
            assert_eq!(dx, edx);
        }
    }

    /// Ties go to the first maximum in scan order; NaN wins (as `torch.max_pool2d`).
    #[test]
    fn ties_and_nan() {
        for k in [2usize, 3] {
            // k = 2 runs the fast path, k = 3 (stride 2) the general one.
            let mut pool = MaxPool2d::<f64>::builder(k).stride(2).build().unwrap();
            let x = ArrayD::from_elem(IxDyn(&[1, 1, k, k]), 1.0);
            pool.forward(x.view(), Mode::Train).unwrap();
            let dx = pool.backward_input(ArrayD::ones(IxDyn(&[1, 1, 1, 1])).view()).unwrap();
            assert_eq!(dx[[0, 0, 0, 0]], 1.0);
            assert_eq!(dx.sum(), 1.0);
            let mut x = ArrayD::from_elem(IxDyn(&[1, 1, k, k]), 1.0);
            x[[0, 0, 1, 0]] = f64::NAN;
            x[[0, 0, 1, 1]] = 5.0;
            let y = pool.forward(x.view(), Mode::Train).unwrap().to_owned();
            assert!(y[[0, 0, 0, 0]].is_nan());
            let dx = pool.backward_input(ArrayD::ones(IxDyn(&[1, 1, 1, 1])).view()).unwrap();
            assert_eq!(dx[[0, 0, 1, 0]], 1.0);
        }
    }

    /// Values from {0, 1, 2, NaN}: ties everywhere and some NaNs, through the 2×2 fast
    /// path (blocks of four outputs and the remainder; floor and ceil mode) and the
    /// general path, against the scan definition.
    #[test]
    fn ties_and_nan_random() {
        let mut state = 7u64;
        let x = ArrayD::from_shape_fn(IxDyn(&[2, 3, 7, 11]), |_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match state >> 61 {
                0 => f64::NAN,
                r => (r % 3) as f64,
            }
        });
        for b in [
            MaxPool2d::<f64>::builder(2),
            MaxPool2d::<f64>::builder(2).ceil_mode(true),
            MaxPool2d::<f64>::builder(3).stride(1).padding(1),
        ] {
            let mut pool = b.build().unwrap();
            let x4 = x.view().into_dimensionality().unwrap().to_owned();
            let (ey, eat) = direct_max(&pool.window(), &x4);
            let y = pool.forward(x.view(), Mode::Train).unwrap().to_owned();
            for (a, e) in y.iter().zip(ey.iter()) {
                assert!(a == e || (a.is_nan() && e.is_nan()), "{a} vs {e}");
            }
            let g = seq(ey.shape());
            let dx = pool.backward_input(g.view()).unwrap().to_owned();
            let mut edx = ArrayD::<f64>::zeros(IxDyn(x.shape()));
            for ((a, b, i, j), &at) in eat.indexed_iter() {
                edx[[a, b, at / 11, at % 11]] += g[[a, b, i, j]];
            }
            assert_eq!(dx, edx);
        }
    }

    /// `torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)` and friends on x = 1..=9 (3×3):
    /// the corner window holds 1, 2, 4, 5 → 12 / 4 = 3 (count_include_pad=False) or
    /// 12 / 9 = 4/3 (True), 12 / 5 with divisor_override=5; the centre is 45 / 9 = 5.
    #[test]
    fn avg_pool_divisors() {
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (1..=9).map(f64::from).collect()).unwrap();
        let run =
            |b: AvgPoolBuilder<f64, 2>| b.build().unwrap().forward(x.view(), Mode::Eval).unwrap().to_owned();
        let y = run(AvgPool2d::builder(3).stride(1).padding(1).count_include_pad(false));
        assert_eq!((y[[0, 0, 0, 0]], y[[0, 0, 1, 1]]), (3.0, 5.0));
        let y = run(AvgPool2d::builder(3).stride(1).padding(1));
        assert_abs_diff_eq!(y[[0, 0, 0, 0]], 12.0 / 9.0, epsilon = 1e-15);
        let y = run(AvgPool2d::builder(3).stride(1).padding(1).divisor_override(5));
        assert_eq!(y[[0, 0, 0, 0]], 12.0 / 5.0);
        // Ceil mode: the window clipped at the padded edge counts only what lies inside
        // input + padding (torch: min(start + k, H + pad) − start).
        // k 2, s 2, p 1 on 3 elements: windows [-1, 1), [1, 3): sizes 2, 2; 2 outputs.
        let mut p1 = AvgPool1d::<f64>::builder(2).stride(2).padding(1).ceil_mode(true).build().unwrap();
        let y = p1.forward(array![[[2.0, 4.0, 6.0]]].into_dyn().view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[[1.0, 5.0]]].into_dyn());
        // k 3, s 2, ceil on 4: windows [0, 3), [2, 4) (clipped at 4 + 0): divisors 3 and 2.
        let mut p2 = AvgPool1d::<f64>::builder(3).stride(2).ceil_mode(true).build().unwrap();
        let y = p2.forward(array![[[3.0, 3.0, 3.0, 5.0]]].into_dyn().view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[[3.0, 4.0]]].into_dyn());
        let dx = p2.backward_input(array![[[6.0, 2.0]]].into_dyn().view()).unwrap().to_owned();
        assert_eq!(dx, array![[[2.0, 2.0, 3.0, 1.0]]].into_dyn());
    }

    #[test]
    fn avg_pool_backward_is_the_adjoint() {
        for (k, s, p, include, ceil) in
            [(3, 1, 1, true, false), (3, 2, 1, false, true), (2, 2, 0, true, false)]
        {
            let mut pool = AvgPool2d::<f64>::builder(k)
                .stride(s)
                .padding(p)
                .count_include_pad(include)
                .ceil_mode(ceil)
                .build()
                .unwrap();
            let x = seq(&[2, 2, 5, 6]);
            let y = pool.forward(x.view(), Mode::Train).unwrap().to_owned();
            let g = seq(y.shape());
            let dx = pool.backward_input(g.view()).unwrap().to_owned();
            // Linear map: <A x, g> = <x, Aᵀ g>.
            assert_abs_diff_eq!((&y * &g).sum(), (&x * &dx).sum(), epsilon = 1e-10);
        }
    }

    /// `torch.nn.AdaptiveAvgPool2d((2, 3))` on a 3×5 input: rows 0..2, 1..3; columns 0..2,
    /// 1..4, 3..5.
    #[test]
    fn adaptive_windows_overlap() {
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 5]), (0..15).map(f64::from).collect()).unwrap();
        let mut pool = AdaptiveAvgPool2d::<f64>::new((2, 3)).unwrap();
        assert_eq!(pool.output_size(), [2, 3]);
        let y = pool.forward(x.view(), Mode::Train).unwrap().to_owned();
        // y[0, 0] = mean(0, 1, 5, 6) = 3; y[0, 1] = mean(1, 2, 3, 6, 7, 8) = 4.5;
        // y[1, 2] = mean(8, 9, 13, 14) = 11.
        assert_eq!((y[[0, 0, 0, 0]], y[[0, 0, 0, 1]], y[[0, 0, 1, 2]]), (3.0, 4.5, 11.0));
        let dx = pool.backward_input(ArrayD::ones(IxDyn(&[1, 1, 2, 3])).view()).unwrap().to_owned();
        // Input (1, 1) lies in windows (0,0), (0,1), (1,0), (1,1): 1/4 + 1/6 + 1/4 + 1/6.
        assert_abs_diff_eq!(dx[[0, 0, 1, 1]], 0.5 + 1.0 / 3.0, epsilon = 1e-15);
        assert_abs_diff_eq!(dx.sum(), 6.0, epsilon = 1e-12);
        // Larger output than input repeats elements.
        let mut up = AdaptiveAvgPool1d::<f64>::new(4).unwrap();
        let y = up.forward(array![[[1.0, 2.0]]].into_dyn().view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y, array![[[1.0, 1.0, 2.0, 2.0]]].into_dyn());
    }

    #[test]
    fn invalid_hyper_parameters() {
        let name = |e: Error| match e {
            Error::InvalidParameter { name, .. } => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(name(MaxPool2d::<f64>::new(0).unwrap_err()), "kernel_size");
        assert_eq!(name(MaxPool2d::<f64>::builder(2).stride((1, 0)).build().unwrap_err()), "stride");
        assert_eq!(name(MaxPool2d::<f64>::builder(2).dilation(0).build().unwrap_err()), "dilation");
        assert_eq!(name(MaxPool2d::<f64>::builder(3).padding(2).build().unwrap_err()), "padding");
        // Dilation widens the window: k 2, d 3 spans 4, so padding 2 is allowed.
        assert!(MaxPool1d::<f64>::builder(2).dilation(3).padding(2).build().is_ok());
        assert_eq!(name(MaxPool1d::<f64>::builder(2).padding(2).build().unwrap_err()), "padding");
        assert_eq!(name(AvgPool2d::<f64>::builder((2, 4)).padding((2, 2)).build().unwrap_err()), "padding");
        assert_eq!(
            name(AvgPool2d::<f64>::builder(2).divisor_override(0).build().unwrap_err()),
            "divisor_override"
        );
        assert_eq!(name(AvgPool1d::<f64>::new(0).unwrap_err()), "kernel_size");
        assert_eq!(name(AdaptiveAvgPool2d::<f64>::new((1, 0)).unwrap_err()), "output_size");
        assert_eq!(name(AdaptiveAvgPool1d::<f64>::new(0).unwrap_err()), "output_size");
        let p = MaxPool2d::<f64>::builder((3, 2)).padding((1, 0)).ceil_mode(true).build().unwrap();
        assert_eq!((p.kernel_size(), p.stride(), p.padding(), p.ceil_mode()), ([3, 2], [3, 2], [1, 0], true));
        let p = AvgPool1d::<f64>::builder(4).stride(1).build().unwrap();
        assert_eq!((p.kernel_size(), p.stride(), p.padding(), p.ceil_mode()), (4, 1, 0, false));
    }

    #[test]
    fn bad_inputs() {
        let mut pool = MaxPool2d::<f64>::new(2).unwrap();
        let err = pool.backward(ArrayD::zeros(IxDyn(&[1, 1, 1, 1])).view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "MaxPool2d::backward", .. }), "{err}");
        let err = pool.forward(ArrayD::zeros(IxDyn(&[1, 4, 4])).view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "MaxPool2d::forward", expected: vec![0; 4], got: vec![1, 4, 4] }
        );
        let err = pool.forward(ArrayD::zeros(IxDyn(&[1, 1, 1, 4])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "MaxPool2d::forward", .. }), "{err}");
        let err = pool.forward(ArrayD::zeros(IxDyn(&[1, 0, 4, 4])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        pool.forward(seq(&[2, 1, 4, 4]).view(), Mode::Train).unwrap();
        let g = seq(&[2, 1, 2, 2]);
        let dx = pool.backward_input(g.view()).unwrap().to_owned();
        let err = pool.backward_input(seq(&[2, 1, 2, 3]).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "MaxPool2d::backward_input",
                expected: vec![2, 1, 2, 2],
                got: vec![2, 1, 2, 3]
            }
        );
        // A failed forward leaves the last good one in place.
        assert!(pool.forward(ArrayD::zeros(IxDyn(&[1, 1, 1, 1])).view(), Mode::Train).is_err());
        assert_eq!(pool.backward_input(g.view()).unwrap(), dx);
        pool.backward(g.view()).unwrap();
        pool.forward(seq(&[2, 1, 4, 4]).view(), Mode::Eval).unwrap();
        assert!(pool.backward_input(g.view()).is_err());
        let mut gap = AdaptiveAvgPool1d::<f64>::new(3).unwrap();
        let err = gap.forward(ArrayD::zeros(IxDyn(&[1, 4])).view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "AdaptiveAvgPool1d::forward", expected: vec![0; 3], got: vec![1, 4] }
        );
        assert_eq!(gap.num_parameters(), 0);
    }

    #[test]
    fn f32_and_f64_agree_and_non_contiguous() {
        let x = seq(&[2, 3, 6, 5]);
        let xt = x.view().permuted_axes(IxDyn(&[3, 2, 1, 0])).as_standard_layout().into_owned();
        let xv = xt.view().permuted_axes(IxDyn(&[3, 2, 1, 0]));
        let mut a = AvgPool2d::<f64>::builder(3).stride(2).padding(1).build().unwrap();
        let mut b = AvgPool2d::<f32>::builder(3).stride(2).padding(1).build().unwrap();
        let ya = a.forward(xv, Mode::Train).unwrap().to_owned();
        let yb = b.forward(x.mapv(|v| v as f32).view(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(ya, yb, epsilon = 1e-5);
        let g = seq(ya.shape());
        let gt = g.view().permuted_axes(IxDyn(&[3, 2, 1, 0])).as_standard_layout().into_owned();
        let da = a.backward_input(gt.view().permuted_axes(IxDyn(&[3, 2, 1, 0]))).unwrap().to_owned();
        let db = b.backward_input(g.mapv(|v| v as f32).view()).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(da, db, epsilon = 1e-5);
    }

    #[test]
    fn buffers_are_reused() {
        let mut pool = MaxPool2d::<f32>::new(2).unwrap();
        let mut step = |n: usize| {
            let x = ArrayD::<f32>::ones(IxDyn(&[n, 3, 8, 8]));
            let g = ArrayD::<f32>::ones(IxDyn(&[n, 3, 4, 4]));
            let p = pool.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = pool.backward_input(g.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(4);
        assert_eq!(step(1), first);
        assert_eq!(step(4), first);
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<MaxPool2d<f32>>();
        send_sync::<AvgPool1d<f64>>();
        send_sync::<AdaptiveAvgPool2d<f32>>();
        send_sync::<MaxPoolBuilder<f32, 2>>();
    }
}
