//! Convolutions: [`Conv1d`] and [`Conv2d`] (PyTorch `nn.Conv1d`, `nn.Conv2d`), with
//! zero padding ([`Padding`]), stride, dilation and groups.
//!
//! Both run the same 2-D kernel (a 1-D convolution is a 2-D one of height 1):
//!
//! 1. *im2col*: the receptive fields of sample `n` are copied into the columns of a
//!    matrix `X_n` of shape `[C_in·kH·kW, H_out·W_out]` (row `(c, p, q)`, column
//!    `(i, j)`; zeros where the field reaches into the padding). A 1×1 kernel with
//!    stride 1 and no padding needs no copy: the input is that matrix. Samples with
//!    fewer than [`COLUMNS`] output positions are laid side by side, so that each matrix
//!    product has at least that many columns (the weight is packed once per product).
//! 2. One matrix product per group, `Y_g = W_g · X_g` (`W_g` is the group's weight rows,
//!    `[C_out/groups, C_in/groups·kH·kW]`). With one group the bias rides in the product
//!    (a row of ones under `X`, the bias under `Wᵀ`); a single sample's product is
//!    written straight into the output in PyTorch's `[N, C_out, H_out, W_out]` layout,
//!    a chunk's is copied there.
//!
//! Backward, from `G = dL/dy`: `dL/dW_g = Σₙ G_{n,g} · X_{n,g}ᵀ`, `dL/db = Σ_{n,i,j} G`,
//! and, for the input gradient only, `dX_{n,g} = W_gᵀ · G_{n,g}`, scattered back to the
//! input positions it was copied from (*col2im*, summing where receptive fields
//! overlap). `X_n` is rebuilt from the saved input in backward rather than stored for the
//! whole batch: it stays in cache next to its products. With rows of at least
//! [`DOT_MIN_LEN`] positions (a first layer on images) the weight gradient runs as dot
//! products of rows in place ([`dot_products`]), since matrixmultiply would gather both
//! transposed operands element by element into its packing buffers.
//!
//! Matrix layouts follow what matrixmultiply packs with contiguous copies: the left
//! operand column-major (`Wᵀ` is kept transposed per forward), the right one row-major.
//! The products run in `ndarray::linalg::general_mat_mul`; every matrix lives in a buffer
//! the layer owns, so after the first batch a forward/backward pair allocates nothing
//! but matrixmultiply's packing buffers. The short row moves of im2col and col2im run
//! in loops specialised to common run lengths ([`move_rows`]).
//!
//! Sizes: `H_out = ⌊(H + pad_top + pad_bottom − dH·(kH − 1) − 1) / sH⌋ + 1` (and so for
//! the width), as PyTorch computes them. References: Chellapilla, Puri & Simard, "High
//! Performance Convolutional Neural Networks for Document Processing" (2006) for the
//! im2col method; Dumoulin & Visin, "A guide to convolution arithmetic for deep
//! learning" (2016) for the sizes; <https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html>.

use std::marker::PhantomData;

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array1, Array3, Array4, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayView4, ArrayViewD,
    ArrayViewMut2, Ix3, Ix4, IxDyn,
};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::init::Init;
use crate::model::layers::{Pass, copy_into, slice_mut};
use crate::model::{Layer, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// A size per spatial dimension, written as PyTorch's `int or tuple` arguments: one
/// number for every dimension (`3` → `[3, 3]`), a tuple `(3, 2)` (height, width) or an
/// array `[3, 2]`.
///
/// # Example
///
/// ```
/// use ndtrain::model::IntoSizes;
///
/// assert_eq!(IntoSizes::<2>::into_sizes(3), [3, 3]);
/// assert_eq!(IntoSizes::<2>::into_sizes((3, 2)), [3, 2]);
/// assert_eq!(IntoSizes::<1>::into_sizes([5]), [5]);
/// ```
pub trait IntoSizes<const D: usize> {
    /// The sizes, one per spatial dimension.
    fn into_sizes(self) -> [usize; D];
}

impl<const D: usize> IntoSizes<D> for usize {
    fn into_sizes(self) -> [usize; D] {
        [self; D]
    }
}

impl<const D: usize> IntoSizes<D> for [usize; D] {
    fn into_sizes(self) -> [usize; D] {
        self
    }
}

impl IntoSizes<2> for (usize, usize) {
    fn into_sizes(self) -> [usize; 2] {
        [self.0, self.1]
    }
}

/// The zero padding of a convolution with `D` spatial dimensions (PyTorch's `padding`
/// argument: an int, a tuple, `'same'` or `'valid'`).
///
/// `From` conversions let builders take `1`, `(1, 2)` or `[1, 2]` as well as a variant.
///
/// | variant | PyTorch | padding of dimension `d` |
/// |---|---|---|
/// | `Explicit(p)` | `padding=p` | `p[d]` zeros on both sides |
/// | `Same` | `padding='same'` | total `dilation·(kernel − 1)`, the odd one extra on the right/bottom; needs stride 1 |
/// | `Valid` | `padding='valid'` (= `0`) | none |
///
/// # Example
///
/// ```
/// use ndtrain::model::{Conv2d, Padding};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let conv = Conv2d::<f32>::builder(1, 4, 3).padding(Padding::Same).build(&mut rng)?;
/// assert_eq!(conv.padding(), Padding::Same);
/// let conv = Conv2d::<f32>::builder(1, 4, 3).padding((1, 0)).build(&mut rng)?;
/// assert_eq!(conv.padding(), Padding::Explicit([1, 0]));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding<const D: usize> {
    /// The same number of zeros on both sides, per spatial dimension.
    Explicit([usize; D]),
    /// `'same'`: the output has the input's size (stride 1 only).
    Same,
    /// `'valid'`: no padding.
    Valid,
}

impl<const D: usize> Default for Padding<D> {
    /// No padding (PyTorch's default `padding=0`).
    fn default() -> Self {
        Padding::Explicit([0; D])
    }
}

impl<const D: usize> From<usize> for Padding<D> {
    fn from(p: usize) -> Self {
        Padding::Explicit([p; D])
    }
}

impl<const D: usize> From<[usize; D]> for Padding<D> {
    fn from(p: [usize; D]) -> Self {
        Padding::Explicit(p)
    }
}

impl From<(usize, usize)> for Padding<2> {
    fn from(p: (usize, usize)) -> Self {
        Padding::Explicit([p.0, p.1])
    }
}

/// How a convolution pads (PyTorch's `padding_mode`). Only [`PaddingMode::Zeros`] is
/// implemented; the others are named so that a configuration using them fails at build
/// time with [`Error::InvalidParameter`] instead of silently padding with zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PaddingMode {
    /// `'zeros'` (default).
    #[default]
    Zeros,
    /// `'reflect'` (not implemented).
    Reflect,
    /// `'replicate'` (not implemented).
    Replicate,
    /// `'circular'` (not implemented).
    Circular,
}

/// The geometry of a 2-D convolution (a 1-D one has height 1 and kernel height 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Geometry {
    in_channels: usize,
    out_channels: usize,
    groups: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    /// Zeros before (top, left) and after (bottom, right) the input.
    pad_lo: [usize; 2],
    pad_hi: [usize; 2],
}

impl Geometry {
    /// Output length along `axis` (0 height, 1 width), `None` when the dilated kernel
    /// does not fit the padded input.
    fn out_len(&self, axis: usize, input: usize) -> Option<usize> {
        let padded = input + self.pad_lo[axis] + self.pad_hi[axis];
        let span = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
        (padded >= span).then(|| (padded - span) / self.stride[axis] + 1)
    }

    /// A 1×1 kernel with stride 1 and no padding: the input is its own im2col matrix.
    fn pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.pad_lo == [0, 0] && self.pad_hi == [0, 0]
    }

    /// Rows of one group's im2col matrix, `C_in/groups · kH · kW` (the weight's fan-in).
    fn k_group(&self) -> usize {
        self.in_channels / self.groups * self.kernel[0] * self.kernel[1]
    }
}

/// Output columns per matrix product in the forward pass: samples with fewer output
/// positions are batched until their products have at least this many columns.
const COLUMNS: usize = 256;

/// Sizes of the last forward pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Dims {
    n: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

/// The range `lo..hi` of output positions `o < n_out` whose input position
/// `o·stride + offset` lies in `0..len`.
#[inline]
pub(super) fn valid_range(offset: isize, stride: usize, len: usize, n_out: usize) -> (usize, usize) {
    if stride == 1 {
        let lo = (-offset).clamp(0, n_out as isize) as usize;
        let hi = (len as isize - offset).clamp(lo as isize, n_out as isize) as usize;
        return (lo, hi);
    }
    let s = stride as isize;
    let lo = if offset >= 0 { 0 } else { ((-offset + s - 1) / s) as usize };
    let last = len as isize - 1 - offset; // o·s <= last
    let hi = if last < 0 { 0 } else { (last / s + 1) as usize };
    let hi = hi.min(n_out);
    (lo.min(hi), hi)
}

/// `dst = src` for a short run (an output row of a receptive field), in blocks of 8
/// moved as arrays, which compile to vector loads and stores; a `copy_from_slice` of a
/// run of unknown length calls `memcpy`, whose call costs more than the copy at these
/// sizes. A run of 8 or more ends with an overlapping block instead of a scalar tail.
#[inline(always)]
fn copy_run<F: Copy>(dst: &mut [F], src: &[F]) {
    let n = dst.len();
    let src = &src[..n];
    if n >= 8 {
        let mut i = 0;
        while i + 8 <= n {
            let block: [F; 8] = src[i..i + 8].try_into().expect("8 elements");
            dst[i..i + 8].copy_from_slice(&block);
            i += 8;
        }
        if i < n {
            let block: [F; 8] = src[n - 8..].try_into().expect("8 elements");
            dst[n - 8..].copy_from_slice(&block);
        }
    } else if n >= 4 {
        let head: [F; 4] = src[..4].try_into().expect("4 elements");
        let tail: [F; 4] = src[n - 4..].try_into().expect("4 elements");
        dst[..4].copy_from_slice(&head);
        dst[n - 4..].copy_from_slice(&tail);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

/// `dst += src` for a short run, in blocks of 8 added as arrays (vectorized even for
/// runs of 8 to 16, which a plain loop would leave to its scalar remainder).
#[inline(always)]
fn add_run<F: Float>(dst: &mut [F], src: &[F]) {
    let n = dst.len();
    let src = &src[..n];
    let mut i = 0;
    while i + 8 <= n {
        let s: [F; 8] = src[i..i + 8].try_into().expect("8 elements");
        let d: &mut [F; 8] = (&mut dst[i..i + 8]).try_into().expect("8 elements");
        for k in 0..8 {
            d[k] += s[k];
        }
        i += 8;
    }
    for (d, s) in dst[i..].iter_mut().zip(&src[i..]) {
        *d += *s;
    }
}

/// `rows` runs of `N` elements, the `r`-th from `src[r·src_step..]` to (or, with `ADD`,
/// onto) `dst[r·dst_step..]`, moved as `[F; N]` arrays: with the length a constant the
/// copy compiles to a few vector moves and the loop to a handful of instructions per run.
#[inline(always)]
fn rows_fixed<F: Float, const N: usize, const ADD: bool>(
    mut dst: &mut [F],
    mut src: &[F],
    rows: usize,
    dst_step: usize,
    src_step: usize,
) {
    for r in 0..rows {
        let s: &[F; N] = src[..N].try_into().expect("N elements");
        let d: &mut [F; N] = (&mut dst[..N]).try_into().expect("N elements");
        if ADD {
            for k in 0..N {
                d[k] += s[k];
            }
        } else {
            *d = *s;
        }
        if r + 1 < rows {
            dst = &mut dst[dst_step..];
            src = &src[src_step..];
        }
    }
}

/// `rows` runs of `len` elements, the `r`-th from `src[r·src_step..]` to (`ADD`: onto)
/// `dst[r·dst_step..]`: the output rows of one im2col row. Common run lengths (the
/// output widths of typical images) get a loop specialised to their length.
#[inline(never)]
fn move_rows<F: Float, const ADD: bool>(
    dst: &mut [F],
    src: &[F],
    rows: usize,
    len: usize,
    dst_step: usize,
    src_step: usize,
) {
    macro_rules! fixed {
        ($($n:literal)*) => {
            match len {
                $($n => return rows_fixed::<F, $n, ADD>(dst, src, rows, dst_step, src_step),)*
                _ => {}
            }
        };
    }
    fixed!(4 7 8 12 14 16 24 28 32);
    for r in 0..rows {
        let (d, s) = (&mut dst[r * dst_step..r * dst_step + len], &src[r * src_step..r * src_step + len]);
        if ADD {
            add_run(d, s);
        } else {
            copy_run(d, s);
        }
    }
}

/// Copies the receptive fields of one sample `x` (`[C, H, W]`) into `cols`
/// (`[C·kH·kW, OH·OW]`, row `(c, p, q)`, rows `ld` elements apart), zeros in the
/// padding.
///
/// Loops run kernel position first, channel second: the clipping of a kernel position
/// to the input is the same for every channel. Offsets are stepped by hand: slice
/// iterators such as `chunks` divide to count their chunks, which costs more than the
/// copies of a short row.
fn im2col<F: Float>(g: &Geometry, x: &[F], d: Dims, cols: &mut [F], ld: usize) {
    let (h, w, oh, ow) = (d.h, d.w, d.oh, d.ow);
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    let [dh, dw] = g.dilation;
    let (p, c_in) = (oh * ow, x.len() / (h * w));
    for i in 0..kh {
        let off_h = (i * dh) as isize - g.pad_lo[0] as isize;
        let (y_lo, y_hi) = valid_range(off_h, sh, h, oh);
        let first = ((y_lo * sh) as isize + off_h).max(0) as usize;
        for j in 0..kw {
            let off_w = (j * dw) as isize - g.pad_lo[1] as isize;
            let (x_lo, x_hi) = valid_range(off_w, sw, w, ow);
            let start = ((x_lo * sw) as isize + off_w).max(0) as usize;
            let len = x_hi - x_lo;
            let clipped = x_lo > 0 || x_hi < ow;
            for c in 0..c_in {
                let row = &mut cols[((c * kh + i) * kw + j) * ld..][..p];
                row[..y_lo * ow].fill(F::zero());
                row[y_hi * ow..].fill(F::zero());
                let mut src = c * h * w + first * w + start;
                let mut dst = y_lo * ow;
                if sw == 1 && !clipped && y_lo < y_hi {
                    move_rows::<F, false>(&mut row[dst..], &x[src..], y_hi - y_lo, ow, ow, w * sh);
                    continue;
                }
                for _ in y_lo..y_hi {
                    if clipped {
                        row[dst..dst + x_lo].fill(F::zero());
                        row[dst + x_hi..dst + ow].fill(F::zero());
                    }
                    if sw == 1 {
                        copy_run(&mut row[dst + x_lo..dst + x_hi], &x[src..src + len]);
                    } else if len > 0 {
                        let run = &x[src..src + (len - 1) * sw + 1];
                        for (d, s) in row[dst + x_lo..dst + x_hi].iter_mut().zip(run.iter().step_by(sw)) {
                            *d = *s;
                        }
                    }
                    src += w * sh;
                    dst += ow;
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `cols` to the input position it was
/// copied from. `dx` (`[C, H, W]`) must be zeroed by the caller.
fn col2im<F: Float>(g: &Geometry, cols: &[F], d: Dims, dx: &mut [F]) {
    let (h, w, oh, ow) = (d.h, d.w, d.oh, d.ow);
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    let [dh, dw] = g.dilation;
    let (p, c_in) = (oh * ow, dx.len() / (h * w));
    for i in 0..kh {
        let off_h = (i * dh) as isize - g.pad_lo[0] as isize;
        let (y_lo, y_hi) = valid_range(off_h, sh, h, oh);
        let first = ((y_lo * sh) as isize + off_h).max(0) as usize;
        for j in 0..kw {
            let off_w = (j * dw) as isize - g.pad_lo[1] as isize;
            let (x_lo, x_hi) = valid_range(off_w, sw, w, ow);
            if x_lo == x_hi {
                continue;
            }
            let start = ((x_lo * sw) as isize + off_w) as usize;
            let len = x_hi - x_lo;
            for c in 0..c_in {
                let row = &cols[((c * kh + i) * kw + j) * p..][..p];
                let mut dst = c * h * w + first * w + start;
                let mut src = y_lo * ow + x_lo;
                if sw == 1 {
                    move_rows::<F, true>(&mut dx[dst..], &row[src..], y_hi - y_lo, len, w * sh, ow);
                    continue;
                }
                for _ in y_lo..y_hi {
                    let run = &mut dx[dst..dst + (len - 1) * sw + 1];
                    for (d, &s) in run.iter_mut().step_by(sw).zip(&row[src..src + len]) {
                        *d += s;
                    }
                    dst += w * sh;
                    src += ow;
                }
            }
        }
    }
}

/// Sum of a slice with eight independent accumulators (vectorizes; a single running
/// sum cannot be reordered by the compiler).
pub(crate) fn sum_slice<F: Float>(s: &[F]) -> F {
    let mut acc = [F::zero(); 8];
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let tail: F = chunks.remainder().iter().copied().fold(F::zero(), |a, v| a + v);
    (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Parameters, geometry and buffers shared by [`Conv1d`] and [`Conv2d`].
#[derive(Clone, Debug)]
struct ConvCore<F> {
    geom: Geometry,
    /// PyTorch's layout `[C_out, C_in/groups, k...]`, standard (row-major) layout.
    weight: ArrayD<F>,
    weight_grad: ArrayD<F>,
    bias: Option<(Array1<F>, Array1<F>)>,
    /// Copy of the last recording forward's input (also of a non-contiguous input).
    input: Buffer<F>,
    /// Shape of the last input as given (`[N, C, L]` or `[N, C, H, W]`).
    in_shape: Vec<usize>,
    dims: Dims,
    output: Buffer<F>,
    /// The im2col matrix of a chunk of samples (forward) or of one sample (backward,
    /// reused for its gradient).
    cols: Buffer<F>,
    /// The weight transposed per group, `[groups, Kg, Og]`.
    wt: Buffer<F>,
    /// The output of a chunk's products, `[C_out, chunk·P]`.
    ybuf: Buffer<F>,
    /// `grad_out` in standard layout when it arrives in another one.
    grad_copy: Buffer<F>,
    grad_input: Buffer<F>,
    pass: Pass,
}

impl<F: Float> ConvCore<F> {
    fn new(geom: Geometry, weight: ArrayD<F>, bias: Option<Array1<F>>) -> Self {
        let weight = weight.as_standard_layout().into_owned();
        let weight_grad = ArrayD::zeros(weight.raw_dim());
        ConvCore {
            geom,
            weight,
            weight_grad,
            bias: bias.map(|b| {
                let g = Array1::zeros(b.len());
                (b, g)
            }),
            input: Buffer::new(),
            in_shape: Vec::new(),
            dims: Dims::default(),
            output: Buffer::new(),
            cols: Buffer::new(),
            wt: Buffer::new(),
            ybuf: Buffer::new(),
            grad_copy: Buffer::new(),
            grad_input: Buffer::new(),
            pass: Pass::None,
        }
    }

    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        f(Param::new(0, "weight"), self.weight.view_mut(), self.weight_grad.view_mut())?;
        if let Some((b, g)) = &mut self.bias {
            f(Param::new(1, "bias"), b.view_mut().into_dyn(), g.view_mut().into_dyn())?;
        }
        Ok(())
    }

    /// Runs the convolution on `x`, already checked to be `[N, C_in, ...]` with spatial
    /// size `h × w`; `out_shape` maps `[N, C_out, OH, OW]` to the layer's output shape.
    fn forward(
        &mut self,
        op: &'static str,
        x: ArrayViewD<'_, F>,
        (h, w): (usize, usize),
        mode: Mode,
        one_d: bool,
    ) -> Result<ArrayViewD<'_, F>> {
        let g = self.geom;
        let (oh, ow) = match (g.out_len(0, h), g.out_len(1, w)) {
            (Some(oh), Some(ow)) => (oh, ow),
            _ => {
                let (kh, kw) = (g.dilation[0] * (g.kernel[0] - 1) + 1, g.dilation[1] * (g.kernel[1] - 1) + 1);
                let (ph, pw) = (h + g.pad_lo[0] + g.pad_hi[0], w + g.pad_lo[1] + g.pad_hi[1]);
                return Err(Error::invalid_input(
                    op,
                    if one_d {
                        format!(
                            "padded input length {pw} is smaller than the (dilated) kernel size {kw} (input shape {:?})",
                            x.shape()
                        )
                    } else {
                        format!(
                            "padded input size {ph} x {pw} is smaller than the (dilated) kernel size {kh} x {kw} (input shape {:?})",
                            x.shape()
                        )
                    },
                ));
            }
        };
        let n = x.shape()[0];
        let d = Dims { n, h, w, oh, ow };
        let (c_in, c_out) = (g.in_channels, g.out_channels);
        let (p, sample) = (oh * ow, c_in * h * w);
        let ConvCore { weight, bias, input, output, cols, wt, ybuf, in_shape, .. } = self;
        let xs: &[F] = match x.as_slice() {
            Some(xs) if !mode.records() => xs,
            _ => {
                copy_into(&x, input);
                input.view().to_slice().expect("buffer views are contiguous")
            }
        };
        in_shape.clear();
        in_shape.extend_from_slice(x.shape());
        let out = slice_mut(output.reshape(&[n, c_out * p]));
        let (og, kg) = (c_out / g.groups, g.k_group());
        let bias = bias.as_ref().map(|(b, _)| b.as_slice().expect("1-D"));
        let pointwise = g.pointwise();
        // With one group the bias rides in the product: a row of ones under the im2col
        // matrix and the bias under Wᵀ, so the output is written once, by the product.
        let bias_row = g.groups == 1 && !pointwise && bias.is_some();
        let kk = kg + usize::from(bias_row);
        // Wᵀ per group, [Kg, Og] (+ the bias row): as the left operand `(Wᵀ)ᵀ` it is
        // column-major, which matrixmultiply packs with contiguous copies (a row-major one
        // element by element, for every product).
        let wts = slice_mut(wt.reshape(&[g.groups * kk * og]));
        let ws = weight.as_slice().expect("standard layout");
        for (wtg, wg) in wts.chunks_exact_mut(kk * og).zip(ws.chunks_exact(og * kg)) {
            for (o, row) in wg.chunks_exact(kg).enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    wtg[k * og + o] = v;
                }
            }
        }
        if let (true, Some(b)) = (bias_row, bias) {
            wts[kg * og..].copy_from_slice(b);
        }
        // Samples per product: small outputs are batched side by side into products of
        // at least COLUMNS columns (fewer, larger products: the weight is packed once
        // per product). A pointwise convolution reads each sample in place.
        let chunk = if pointwise { 1 } else { COLUMNS.div_ceil(p).clamp(1, n.max(1)) };
        let rows = c_in * g.kernel[0] * g.kernel[1];
        for (xc, yc) in xs.chunks(chunk * sample).zip(out.chunks_mut(chunk * c_out * p)) {
            let b = xc.len() / sample;
            let ld = b * p;
            let cs: &[F] = if pointwise {
                xc
            } else {
                let c = slice_mut(cols.reshape(&[rows + usize::from(bias_row), ld]));
                for (k, xn) in xc.chunks_exact(sample).enumerate() {
                    im2col(&g, xn, d, &mut c[k * p..], ld);
                }
                c[rows * ld..].fill(F::one());
                c
            };
            // Y = W · X per group: straight into the output for one sample, else into
            // [C_out, b·P] and copied to [b, C_out, P].
            let direct = b == 1;
            let target: &mut [F] = if direct { yc } else { slice_mut(ybuf.reshape(&[c_out, ld])) };
            let beta = match bias {
                Some(bv) if direct && !bias_row => {
                    for (row, &bo) in target.chunks_exact_mut(p).zip(bv) {
                        row.fill(bo);
                    }
                    F::one()
                }
                _ => F::zero(),
            };
            for gi in 0..g.groups {
                let wtg =
                    ArrayView2::from_shape((kk, og), &wts[gi * kk * og..(gi + 1) * kk * og]).expect("shape");
                let xg =
                    ArrayView2::from_shape((kk, ld), &cs[gi * kg * ld..(gi * kg + kk) * ld]).expect("shape");
                let mut yg =
                    ArrayViewMut2::from_shape((og, ld), &mut target[gi * og * ld..(gi + 1) * og * ld])
                        .expect("shape");
                general_mat_mul(F::one(), &wtg.t(), &xg, beta, &mut yg);
            }
            if direct {
                continue;
            }
            let ys = ybuf.view();
            let ys = ys.to_slice().expect("contiguous");
            for (k, yn) in yc.chunks_exact_mut(c_out * p).enumerate() {
                for (o, row) in yn.chunks_exact_mut(p).enumerate() {
                    let src = &ys[o * ld + k * p..][..p];
                    match bias {
                        Some(bv) if !bias_row => {
                            let bo = bv[o];
                            row.iter_mut().zip(src).for_each(|(y, &v)| *y = v + bo);
                        }
                        _ => row.copy_from_slice(src),
                    }
                }
            }
        }
        self.dims = d;
        let shape: &[usize] = if one_d { &[n, c_out, ow] } else { &[n, c_out, oh, ow] };
        self.output.reshape(shape);
        self.pass = Pass::of(mode);
        Ok(self.output.view())
    }

    /// Parameter gradients, and the input gradient when `input_grad`.
    fn backward(&mut self, op: &'static str, grad: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        self.pass.require_train(op)?;
        if grad.shape() != self.output.shape() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.output.shape().to_vec(),
                got: grad.shape().to_vec(),
            });
        }
        let g = self.geom;
        let d = self.dims;
        let (c_in, c_out) = (g.in_channels, g.out_channels);
        let (p, sample) = (d.oh * d.ow, c_in * d.h * d.w);
        let (og, kg) = (c_out / g.groups, g.k_group());
        let pointwise = g.pointwise();
        let ConvCore { weight, weight_grad, bias, input, cols, grad_copy, grad_input, in_shape, .. } = self;
        let gs: &[F] = match grad.as_slice() {
            Some(gs) => gs,
            None => {
                copy_into(&grad, grad_copy);
                grad_copy.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let xs = input.view().to_slice().expect("buffer views are contiguous");
        if let Some((_, bg)) = bias {
            bg.fill(F::zero());
            for gn in gs.chunks_exact(c_out * p) {
                for (b, row) in bg.iter_mut().zip(gn.chunks_exact(p)) {
                    *b += sum_slice(row);
                }
            }
        }
        let ws = weight.as_slice().expect("standard layout");
        let dws = weight_grad.as_slice_mut().expect("standard layout");
        if d.n == 0 {
            dws.fill(F::zero());
        }
        let dx = if input_grad {
            let dx = slice_mut(grad_input.reshape(in_shape));
            if !pointwise {
                dx.fill(F::zero());
            }
            Some(dx)
        } else {
            None
        };
        if !pointwise {
            cols.reshape(&[c_in * g.kernel[0] * g.kernel[1], p]);
        }
        let mut dx_samples = dx.map(|dx| dx.chunks_exact_mut(sample));
        for (k, (xn, gn)) in xs.chunks_exact(sample).zip(gs.chunks_exact(c_out * p)).enumerate() {
            let beta = if k == 0 { F::zero() } else { F::one() };
            let cs: &mut [F] = if pointwise {
                &mut []
            } else {
                let c = slice_mut(cols.view_mut());
                im2col(&g, xn, d, c, p);
                c
            };
            let xs_n: &[F] = if pointwise { xn } else { cs };
            for gi in 0..g.groups {
                let (gg, xg) = (&gn[gi * og * p..(gi + 1) * og * p], &xs_n[gi * kg * p..(gi + 1) * kg * p]);
                let dwg = &mut dws[gi * og * kg..(gi + 1) * og * kg];
                // dW_g (+)= G_{n,g} · X_{n,g}ᵀ: both factors are read along P. Long rows
                // run as dot products in place; matrixmultiply would gather both operands
                // element by element into its packing buffers (most of the time for a
                // first layer: 16 × 25 results from rows of 576).
                if p >= DOT_MIN_LEN {
                    dot_products(gg, og, xg, kg, p, dwg, k == 0);
                } else {
                    let gg = ArrayView2::from_shape((og, p), gg).expect("shape");
                    let xg = ArrayView2::from_shape((kg, p), xg).expect("shape");
                    let mut dwg = ArrayViewMut2::from_shape((og, kg), dwg).expect("shape");
                    general_mat_mul(F::one(), &gg, &xg.t(), beta, &mut dwg);
                }
            }
            if let Some(dxn) = dx_samples.as_mut().and_then(Iterator::next) {
                // dX_{n,g} = W_gᵀ · G_{n,g}: straight into dx for a pointwise kernel, else
                // into the (no longer needed) im2col buffer and scattered back.
                let target: &mut [F] = if pointwise { dxn } else { cs };
                for gi in 0..g.groups {
                    let wg = ArrayView2::from_shape((og, kg), &ws[gi * og * kg..(gi + 1) * og * kg])
                        .expect("shape");
                    let gg =
                        ArrayView2::from_shape((og, p), &gn[gi * og * p..(gi + 1) * og * p]).expect("shape");
                    let mut tg =
                        ArrayViewMut2::from_shape((kg, p), &mut target[gi * kg * p..(gi + 1) * kg * p])
                            .expect("shape");
                    general_mat_mul(F::one(), &wg.t(), &gg, F::zero(), &mut tg);
                }
                if !pointwise {
                    col2im(&g, cs, d, dxn);
                }
            }
        }
        Ok(())
    }
}

/// Rows at least this long take [`dot_products`] for the weight gradient.
const DOT_MIN_LEN: usize = 256;

/// `c[i, j] (+)= Σ_l a[i, l] · b[j, l]` for row-major `a` (`[m, len]`), `b` (`[n, len]`)
/// and `c` (`[m, n]`), overwriting `c` when `overwrite`: products of rows read in place,
/// in register tiles of 4 × 2 rows with 8 lanes each. With AVX2 and FMA (detected at run
/// time) the same code is compiled for them.
fn dot_products<F: Float>(a: &[F], m: usize, b: &[F], n: usize, len: usize, c: &mut [F], overwrite: bool) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked at run time just above).
        unsafe { dot_products_avx2_fma(a, m, b, n, len, c, overwrite) };
        return;
    }
    dot_products_impl::<F, false>(a, m, b, n, len, c, overwrite);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_products_avx2_fma<F: Float>(
    a: &[F],
    m: usize,
    b: &[F],
    n: usize,
    len: usize,
    c: &mut [F],
    overwrite: bool,
) {
    dot_products_impl::<F, true>(a, m, b, n, len, c, overwrite)
}

#[inline(always)]
fn dot_products_impl<F: Float, const FMA: bool>(
    a: &[F],
    m: usize,
    b: &[F],
    n: usize,
    len: usize,
    c: &mut [F],
    overwrite: bool,
) {
    let mut store = |i: usize, j: usize, v: F| {
        let dst = &mut c[i * n + j];
        *dst = if overwrite { v } else { *dst + v };
    };
    let (m4, n2) = (m / 4 * 4, n / 2 * 2);
    for i in (0..m4).step_by(4) {
        let ar = [row(a, i, len), row(a, i + 1, len), row(a, i + 2, len), row(a, i + 3, len)];
        for j in (0..n2).step_by(2) {
            let t = dot_4x2::<F, FMA>(ar, [row(b, j, len), row(b, j + 1, len)]);
            for (r, tr) in t.iter().enumerate() {
                store(i + r, j, tr[0]);
                store(i + r, j + 1, tr[1]);
            }
        }
    }
    // The last rows and columns, one product at a time.
    for i in 0..m {
        for j in 0..n {
            if i >= m4 || j >= n2 {
                store(i, j, dot_1x1::<F, FMA>(row(a, i, len), row(b, j, len)));
            }
        }
    }
}

/// Row `r` of a row-major matrix with rows of `len`.
#[inline(always)]
fn row<F>(x: &[F], r: usize, len: usize) -> &[F] {
    &x[r * len..(r + 1) * len]
}

/// `a * b + acc`, fused when the code is compiled for FMA.
#[inline(always)]
fn madd<F: Float, const FMA: bool>(a: F, b: F, acc: F) -> F {
    if FMA { a.mul_add(b, acc) } else { acc + a * b }
}

/// Sum of eight lanes, pairwise.
#[inline(always)]
fn lanes_sum<F: Float>(l: &[F; 8]) -> F {
    ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))
}

/// The eight products of four rows of `a` with two rows of `b` (all of one length), in
/// 8-lane accumulators held in registers; the chunk iterators let the compiler drop
/// every bounds check from the loop.
#[inline(always)]
fn dot_4x2<F: Float, const FMA: bool>(a: [&[F]; 4], b: [&[F]; 2]) -> [[F; 2]; 4] {
    let mut acc = [[[F::zero(); 8]; 2]; 4];
    let chunks = a[0]
        .chunks_exact(8)
        .zip(a[1].chunks_exact(8))
        .zip(a[2].chunks_exact(8))
        .zip(a[3].chunks_exact(8))
        .zip(b[0].chunks_exact(8))
        .zip(b[1].chunks_exact(8));
    let arr = |x: &[F]| -> [F; 8] { x.try_into().expect("chunks of 8") };
    for (((((a0, a1), a2), a3), b0), b1) in chunks {
        let (av, bv) = ([arr(a0), arr(a1), arr(a2), arr(a3)], [arr(b0), arr(b1)]);
        for r in 0..4 {
            for q in 0..2 {
                for v in 0..8 {
                    acc[r][q][v] = madd::<F, FMA>(av[r][v], bv[q][v], acc[r][q][v]);
                }
            }
        }
    }
    let tail = a[0].len() / 8 * 8;
    let mut out = [[F::zero(); 2]; 4];
    for r in 0..4 {
        for q in 0..2 {
            let mut sum = lanes_sum(&acc[r][q]);
            for k in tail..a[r].len() {
                sum += a[r][k] * b[q][k];
            }
            out[r][q] = sum;
        }
    }
    out
}

/// One product of two rows of one length.
#[inline(always)]
fn dot_1x1<F: Float, const FMA: bool>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (x, y): (&[F; 8], &[F; 8]) = (x.try_into().expect("8"), y.try_into().expect("8"));
        for v in 0..8 {
            acc[v] = madd::<F, FMA>(x[v], y[v], acc[v]);
        }
    }
    let tail = a.len() / 8 * 8;
    let mut sum = lanes_sum(&acc);
    for k in tail..a.len() {
        sum += a[k] * b[k];
    }
    sum
}

/// Checks `size >= 1` for hyper-parameter `name`.
fn positive(name: &'static str, v: usize) -> Result<()> {
    if v == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
}

/// Builder of [`Conv1d`] (`D = 1`) and [`Conv2d`] (`D = 2`), with PyTorch's defaults:
/// `Conv2d::builder(1, 16, 5).stride(1).padding(Padding::Same).build(&mut rng)?`.
///
/// | method | default | range |
/// |---|---|---|
/// | `stride` | 1 | `>= 1` per dimension |
/// | `padding` | 0 ([`Padding`]) | `Padding::Same` needs stride 1 |
/// | `dilation` | 1 | `>= 1` |
/// | `groups` | 1 | `>= 1`, divides `in_channels` and `out_channels` |
/// | `bias` | `true` | |
/// | `padding_mode` | [`PaddingMode::Zeros`] | only `Zeros` |
/// | `init` | [`Init::LinearDefault`]: `U(±1/√fan_in)`, `fan_in = in_channels/groups·Πk` | any [`Init`] |
/// | `bias_init` | same as `init` (with the weight's fans) | any [`Init`] |
#[derive(Clone, Copy, Debug)]
pub struct ConvBuilder<F, const D: usize> {
    _float: PhantomData<fn() -> F>,
    in_channels: usize,
    out_channels: usize,
    kernel_size: [usize; D],
    stride: [usize; D],
    padding: Padding<D>,
    dilation: [usize; D],
    groups: usize,
    bias: bool,
    padding_mode: PaddingMode,
    init: Init,
    bias_init: Option<Init>,
}

/// Builder of [`Conv1d`].
pub type Conv1dBuilder<F> = ConvBuilder<F, 1>;
/// Builder of [`Conv2d`].
pub type Conv2dBuilder<F> = ConvBuilder<F, 2>;

impl<F: Float, const D: usize> ConvBuilder<F, D> {
    fn new(in_channels: usize, out_channels: usize, kernel_size: [usize; D]) -> Self {
        ConvBuilder {
            _float: PhantomData,
            in_channels,
            out_channels,
            kernel_size,
            stride: [1; D],
            padding: Padding::default(),
            dilation: [1; D],
            groups: 1,
            bias: true,
            padding_mode: PaddingMode::Zeros,
            init: Init::LinearDefault,
            bias_init: None,
        }
    }

    /// Step between receptive fields (default 1).
    pub fn stride(mut self, stride: impl IntoSizes<D>) -> Self {
        self.stride = stride.into_sizes();
        self
    }

    /// Zero padding: a size (`1`, `(1, 2)`), [`Padding::Same`] or [`Padding::Valid`]
    /// (default 0).
    pub fn padding(mut self, padding: impl Into<Padding<D>>) -> Self {
        self.padding = padding.into();
        self
    }

    /// Spacing between kernel elements (default 1; "à trous" convolution above 1).
    pub fn dilation(mut self, dilation: impl IntoSizes<D>) -> Self {
        self.dilation = dilation.into_sizes();
        self
    }

    /// Number of groups: input and output channels split into `groups` blocks, each
    /// output block sees only its input block (default 1; `in_channels` for a
    /// depthwise convolution).
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Whether the layer adds a learned bias (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// PyTorch's `padding_mode`; only [`PaddingMode::Zeros`] (the default) is
    /// implemented, any other fails in `build`.
    pub fn padding_mode(mut self, mode: PaddingMode) -> Self {
        self.padding_mode = mode;
        self
    }

    /// Initialisation of the weight, and of the bias unless
    /// [`bias_init`](ConvBuilder::bias_init) is set (default [`Init::LinearDefault`],
    /// PyTorch's `kaiming_uniform_(a=√5)`).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Initialisation of the bias (default: the weight's, with the weight's fans).
    pub fn bias_init(mut self, init: Init) -> Self {
        self.bias_init = Some(init);
        self
    }

    /// Validates every hyper-parameter and resolves the padding.
    fn geometry(&self) -> Result<Geometry> {
        positive("in_channels", self.in_channels)?;
        positive("out_channels", self.out_channels)?;
        for &k in &self.kernel_size {
            positive("kernel_size", k)?;
        }
        for &s in &self.stride {
            positive("stride", s)?;
        }
        for &d in &self.dilation {
            positive("dilation", d)?;
        }
        positive("groups", self.groups)?;
        if self.in_channels % self.groups != 0 {
            return Err(Error::InvalidParameter {
                name: "groups",
                value: self.groups as f64,
                expected: "a divisor of in_channels",
            });
        }
        if self.out_channels % self.groups != 0 {
            return Err(Error::InvalidParameter {
                name: "groups",
                value: self.groups as f64,
                expected: "a divisor of out_channels",
            });
        }
        if self.padding_mode != PaddingMode::Zeros {
            return Err(Error::InvalidParameter {
                name: "padding_mode",
                value: self.padding_mode as u8 as f64,
                expected: "PaddingMode::Zeros (reflect, replicate and circular are not implemented)",
            });
        }
        let (mut lo, mut hi) = ([0; D], [0; D]);
        match self.padding {
            Padding::Explicit(p) => {
                lo = p;
                hi = p;
            }
            Padding::Valid => {}
            Padding::Same => {
                if let Some(&s) = self.stride.iter().find(|&&s| s != 1) {
                    return Err(Error::InvalidParameter {
                        name: "stride",
                        value: s as f64,
                        expected: "1 with Padding::Same",
                    });
                }
                for a in 0..D {
                    let total = self.dilation[a] * (self.kernel_size[a] - 1);
                    lo[a] = total / 2;
                    hi[a] = total - lo[a];
                }
            }
        }
        // A 1-D convolution is a 2-D one of height 1.
        let two = |v: [usize; D], one: usize| if D == 1 { [one, v[0]] } else { [v[0], v[D - 1]] };
        Ok(Geometry {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            groups: self.groups,
            kernel: two(self.kernel_size, 1),
            stride: two(self.stride, 1),
            dilation: two(self.dilation, 1),
            pad_lo: two(lo, 0),
            pad_hi: two(hi, 0),
        })
    }

    /// The weight shape `[out_channels, in_channels/groups, k...]`.
    fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.out_channels, self.in_channels / self.groups.max(1)];
        s.extend_from_slice(&self.kernel_size);
        s
    }

    /// Validates, draws the weight (row-major) and then the bias from `rng`.
    fn build_core<R: Rng + ?Sized>(&self, rng: &mut R) -> Result<ConvCore<F>> {
        let geom = self.geometry()?;
        self.init.validate()?;
        let bias_init = self.bias_init.unwrap_or(self.init);
        bias_init.validate()?;
        let receptive: usize = self.kernel_size.iter().product();
        let fan_in = self.in_channels / self.groups * receptive;
        let fan_out = self.out_channels * receptive;
        let mut weight = ArrayD::zeros(IxDyn(&self.weight_shape()));
        self.init.fill_with_fans(weight.view_mut(), fan_in, fan_out, rng)?;
        let bias = if self.bias {
            let mut b = Array1::zeros(self.out_channels);
            bias_init.fill_with_fans(b.view_mut().into_dyn(), fan_in, fan_out, rng)?;
            Some(b)
        } else {
            None
        };
        Ok(ConvCore::new(geom, weight, bias))
    }

    /// Validates and takes the given weight and bias (`bias` decides whether the layer
    /// has one; the builder's [`bias`](ConvBuilder::bias) flag is not used).
    fn core_from_weights(&self, weight: ArrayD<F>, bias: Option<Array1<F>>) -> Result<ConvCore<F>> {
        let geom = self.geometry()?;
        let expected = self.weight_shape();
        if weight.shape() != expected.as_slice() {
            return Err(Error::ShapeMismatch {
                op: "ConvBuilder::build_from_weights",
                expected,
                got: weight.shape().to_vec(),
            });
        }
        if let Some(b) = &bias {
            if b.len() != self.out_channels {
                return Err(Error::ShapeMismatch {
                    op: "ConvBuilder::build_from_weights",
                    expected: vec![self.out_channels],
                    got: vec![b.len()],
                });
            }
        }
        Ok(ConvCore::new(geom, weight, bias))
    }
}

impl<F: Float> ConvBuilder<F, 1> {
    /// Validates, then draws the weight (row-major) and then the bias from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size, stride or dilation of 0, `groups` not
    /// dividing both channel counts, [`Padding::Same`] with a stride above 1, a padding
    /// mode other than zeros, or an invalid [`Init`].
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Conv1d<F>> {
        Ok(Conv1d { core: self.build_core(rng)?, padding: self.padding, kernel_size: self.kernel_size[0] })
    }

    /// A layer with these hyper-parameters and the given weight
    /// `[out_channels, in_channels/groups, kernel_size]` and bias `[out_channels]` (e.g.
    /// exported from PyTorch); `bias` decides whether the layer has one.
    ///
    /// # Errors
    /// As [`build`](ConvBuilder::build), and [`Error::ShapeMismatch`] for a weight or
    /// bias of the wrong shape.
    pub fn build_from_weights(self, weight: Array3<F>, bias: Option<Array1<F>>) -> Result<Conv1d<F>> {
        Ok(Conv1d {
            core: self.core_from_weights(weight.into_dyn(), bias)?,
            padding: self.padding,
            kernel_size: self.kernel_size[0],
        })
    }
}

impl<F: Float> ConvBuilder<F, 2> {
    /// Validates, then draws the weight (row-major) and then the bias from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size, stride or dilation of 0, `groups` not
    /// dividing both channel counts, [`Padding::Same`] with a stride above 1, a padding
    /// mode other than zeros, or an invalid [`Init`].
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Conv2d<F>> {
        Ok(Conv2d { core: self.build_core(rng)?, padding: self.padding, kernel_size: self.kernel_size })
    }

    /// A layer with these hyper-parameters and the given weight
    /// `[out_channels, in_channels/groups, kH, kW]` and bias `[out_channels]` (e.g.
    /// exported from PyTorch); `bias` decides whether the layer has one.
    ///
    /// # Errors
    /// As [`build`](ConvBuilder::build), and [`Error::ShapeMismatch`] for a weight or
    /// bias of the wrong shape.
    pub fn build_from_weights(self, weight: Array4<F>, bias: Option<Array1<F>>) -> Result<Conv2d<F>> {
        Ok(Conv2d {
            core: self.core_from_weights(weight.into_dyn(), bias)?,
            padding: self.padding,
            kernel_size: self.kernel_size,
        })
    }
}

/// A 2-D convolution over a batch of images (PyTorch `nn.Conv2d`).
///
/// Input `x` is `[N, C_in, H, W]`, the weight `W` is `[C_out, C_in/groups, kH, kW]`,
/// the bias `b` is `[C_out]` (optional) and the output `y` is `[N, C_out, H_out, W_out]`:
///
/// ```text
/// y[n, o, i, j] = b[o] + Σ_{c, p, q} W[o, c, p, q] · x̃[n, g(o)·C_in/groups + c, i·sH + p·dH, j·sW + q·dW]
/// H_out = ⌊(H + pad_top + pad_bottom − dH·(kH − 1) − 1) / sH⌋ + 1   (W_out alike)
/// ```
///
/// with `x̃` the zero-padded input and `g(o) = ⌊o / (C_out/groups)⌋` the group of output
/// channel `o`. Backward, from `G = dL/dy`: `dL/dW[o, c, p, q] = Σ_{n,i,j} G[n, o, i, j]
/// · x̃[n, ·, i·sH + p·dH, j·sW + q·dW]`, `dL/db[o] = Σ_{n,i,j} G[n, o, i, j]` and
/// `dL/dx̃[n, c, ·, ·] = Σ_{o,p,q,i,j} W[o, c, p, q] · G[n, o, i, j]` at the positions each
/// term was read from (the last only in [`Layer::backward_input`]; [`Model::backward`]
/// skips it, as the first layer of a network needs none).
///
/// Computation (im2col, Chellapilla et al. 2006): the receptive fields of each sample are
/// copied into the columns of a matrix `X` (`[C_in·kH·kW, H_out·W_out]`; a 1×1 kernel
/// with stride 1 and no padding reads the input in place) and the output is one matrix
/// product per group, `Y_g = W_g · X_g` (matrixmultiply), with samples of small outputs
/// batched side by side into one product and the bias carried as an extra row. Backward:
/// `dL/dW_g = Σₙ G_{n,g} · X_{n,g}ᵀ` (`X` rebuilt from the saved input; long rows as
/// dot products), `dX_{n,g} = W_gᵀ · G_{n,g}` scattered back (col2im). Every matrix
/// lives in a buffer the layer owns: after the first batch, a training step allocates
/// nothing but matrixmultiply's packing buffers.
///
/// Parameters are visited as `"weight"` (id 0) and `"bias"` (id 1), PyTorch's names and
/// layouts, so a `state_dict` maps one to one.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `in_channels`, `out_channels` | required | `>= 1`, divisible by `groups` |
/// | `kernel_size` | required | `>= 1`, an int or `(kH, kW)` |
/// | `stride` | 1 | `>= 1` |
/// | `padding` | 0 | a size, `(pH, pW)`, [`Padding::Same`] (stride 1), [`Padding::Valid`] |
/// | `dilation` | 1 | `>= 1` |
/// | `groups` | 1 | `>= 1` |
/// | `bias` | `true` | |
/// | `padding_mode` | [`PaddingMode::Zeros`] | `Zeros` only |
/// | `init` / `bias_init` | [`Init::LinearDefault`]: `U(±1/√fan_in)`, `fan_in = C_in/groups·kH·kW` | any [`Init`] |
///
/// Deviations: an unbatched `[C, H, W]` input is refused (add the batch axis); padding
/// modes other than zeros are not implemented.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for an invalid hyper-parameter (see the
///   table; the name is PyTorch's);
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, C_in, 0, 0]`, `0` = any size)
///   unless `x` is 4-D with `C_in` channels; [`Error::InvalidInput`] for a zero spatial
///   size or when the padded input is smaller than the dilated kernel;
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward
///   ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] unless
///   `grad_out` has that forward's output shape.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html>;
/// LeCun et al., "Gradient-based learning applied to document recognition" (1998).
///
/// # Example
///
/// ```
/// use ndarray::Array4;
/// use ndtrain::prelude::*;
/// use ndtrain::model::{Conv2d, Padding};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut conv = Conv2d::<f32>::builder(1, 16, 5).padding(Padding::Same).build(&mut rng)?;
/// assert_eq!(conv.weight().shape(), &[16, 1, 5, 5]);
/// assert!(conv.weight().iter().all(|w| w.abs() <= 1.0 / 5.0)); // U(±1/√25)
///
/// let x = Array4::<f32>::ones((8, 1, 28, 28)).into_dyn();
/// let y = conv.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[8, 16, 28, 28]);
/// let g = Array4::<f32>::ones((8, 16, 28, 28)).into_dyn();
/// let dx = conv.backward_input(g.view())?;
/// assert_eq!(dx.shape(), &[8, 1, 28, 28]);
/// assert_eq!(conv.bias_grad().unwrap()[0], (8 * 28 * 28) as f32); // dL/db = Σ G
///
/// // A strided, dilated, grouped convolution.
/// let conv = Conv2d::<f64>::builder(4, 8, (3, 2)).stride(2).dilation((1, 2)).groups(2).bias(false).build(&mut rng)?;
/// assert_eq!(conv.weight().shape(), &[8, 2, 3, 2]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Conv2d")]
#[doc(alias = "convolution")]
#[derive(Clone, Debug)]
pub struct Conv2d<F> {
    core: ConvCore<F>,
    padding: Padding<2>,
    kernel_size: [usize; 2],
}

/// A 1-D convolution over a batch of sequences (PyTorch `nn.Conv1d`).
///
/// Input `x` is `[N, C_in, L]`, the weight `W` is `[C_out, C_in/groups, k]`, the bias
/// `b` is `[C_out]` (optional) and the output is `[N, C_out, L_out]`:
///
/// ```text
/// y[n, o, i] = b[o] + Σ_{c, p} W[o, c, p] · x̃[n, g(o)·C_in/groups + c, i·s + p·d]
/// L_out = ⌊(L + pad_left + pad_right − d·(k − 1) − 1) / s⌋ + 1
/// ```
///
/// Backward as [`Conv2d`] with height 1: `dL/dW[o, c, p] = Σ_{n,i} G[n, o, i] ·
/// x̃[n, ·, i·s + p·d]`, `dL/db[o] = Σ_{n,i} G[n, o, i]`, and `dL/dx` (in
/// [`Layer::backward_input`] only) sums `W[o, c, p] · G[n, o, i]` at the positions read.
/// Parameters: `"weight"` (id 0), `"bias"` (id 1).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `in_channels`, `out_channels` | required | `>= 1`, divisible by `groups` |
/// | `kernel_size` | required | `>= 1` |
/// | `stride` | 1 | `>= 1` |
/// | `padding` | 0 | a size, [`Padding::Same`] (stride 1), [`Padding::Valid`] |
/// | `dilation` | 1 | `>= 1` |
/// | `groups` | 1 | `>= 1` |
/// | `bias` | `true` | |
/// | `padding_mode` | [`PaddingMode::Zeros`] | `Zeros` only |
/// | `init` / `bias_init` | [`Init::LinearDefault`]: `U(±1/√fan_in)`, `fan_in = C_in/groups·k` | any [`Init`] |
///
/// Deviations: an unbatched `[C, L]` input is refused; padding modes other than zeros
/// are not implemented.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for an invalid hyper-parameter;
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, C_in, 0]`) unless `x` is 3-D
///   with `C_in` channels; [`Error::InvalidInput`] for an input of length 0 or when the
///   padded input is shorter than the dilated kernel;
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward,
///   [`Error::ShapeMismatch`] for a `grad_out` of the wrong shape.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.Conv1d.html>.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array3};
/// use ndtrain::prelude::*;
/// use ndtrain::model::Conv1d;
///
/// // A moving sum of width 2 over one channel: y[i] = x[i] + x[i+1].
/// let mut conv = Conv1d::<f64>::builder(1, 1, 2).build_from_weights(array![[[1.0, 1.0]]], None)?;
/// let x = array![[[1.0, 2.0, 4.0, 8.0]]].into_dyn();
/// assert_eq!(conv.forward(x.view(), Mode::Train)?, array![[[3.0, 6.0, 12.0]]].into_dyn());
/// let dx = conv.backward_input(Array3::<f64>::ones((1, 1, 3)).into_dyn().view())?;
/// assert_eq!(dx, array![[[1.0, 2.0, 2.0, 1.0]]].into_dyn());
///
/// let conv = Conv1d::<f32>::builder(3, 6, 5).stride(2).padding(2).groups(3).build(&mut ndtrain::seeded_rng(0))?;
/// assert_eq!(conv.weight().shape(), &[6, 1, 5]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Conv1d")]
#[doc(alias = "convolution")]
#[derive(Clone, Debug)]
pub struct Conv1d<F> {
    core: ConvCore<F>,
    padding: Padding<1>,
    kernel_size: usize,
}

impl<F: Float> Conv2d<F> {
    /// A layer with PyTorch's defaults (stride 1, no padding, bias) and default
    /// initialisation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a size is 0.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoSizes<2>,
        rng: &mut R,
    ) -> Result<Self> {
        Self::builder(in_channels, out_channels, kernel_size).build(rng)
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl IntoSizes<2>,
    ) -> Conv2dBuilder<F> {
        ConvBuilder::new(in_channels, out_channels, kernel_size.into_sizes())
    }

    /// A layer with stride 1, no padding, no dilation, one group and the given weight
    /// `[out_channels, in_channels, kH, kW]` and optional bias `[out_channels]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with a zero dimension,
    /// [`Error::ShapeMismatch`] for a bias of the wrong length.
    pub fn from_weights(weight: Array4<F>, bias: Option<Array1<F>>) -> Result<Self> {
        let (o, c, kh, kw) = weight.dim();
        Self::builder(c, o, (kh, kw)).build_from_weights(weight, bias)
    }

    /// The weight, `[out_channels, in_channels/groups, kH, kW]`.
    pub fn weight(&self) -> ArrayView4<'_, F> {
        self.core.weight.view().into_dimensionality::<Ix4>().expect("4-D weight")
    }

    /// The gradient of the weight from the last backward pass.
    pub fn weight_grad(&self) -> ArrayView4<'_, F> {
        self.core.weight_grad.view().into_dimensionality::<Ix4>().expect("4-D weight")
    }

    /// Kernel size `[kH, kW]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        self.kernel_size
    }

    /// Stride `[sH, sW]`.
    pub fn stride(&self) -> [usize; 2] {
        self.core.geom.stride
    }

    /// Dilation `[dH, dW]`.
    pub fn dilation(&self) -> [usize; 2] {
        self.core.geom.dilation
    }

    /// The padding as configured.
    pub fn padding(&self) -> Padding<2> {
        self.padding
    }
}

impl<F: Float> Conv1d<F> {
    /// A layer with PyTorch's defaults (stride 1, no padding, bias) and default
    /// initialisation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a size is 0.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        rng: &mut R,
    ) -> Result<Self> {
        Self::builder(in_channels, out_channels, kernel_size).build(rng)
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv1dBuilder<F> {
        ConvBuilder::new(in_channels, out_channels, [kernel_size])
    }

    /// A layer with stride 1, no padding, no dilation, one group and the given weight
    /// `[out_channels, in_channels, k]` and optional bias `[out_channels]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with a zero dimension,
    /// [`Error::ShapeMismatch`] for a bias of the wrong length.
    pub fn from_weights(weight: Array3<F>, bias: Option<Array1<F>>) -> Result<Self> {
        let (o, c, k) = weight.dim();
        Self::builder(c, o, k).build_from_weights(weight, bias)
    }

    /// The weight, `[out_channels, in_channels/groups, k]`.
    pub fn weight(&self) -> ArrayView3<'_, F> {
        self.core.weight.view().into_dimensionality::<Ix3>().expect("3-D weight")
    }

    /// The gradient of the weight from the last backward pass.
    pub fn weight_grad(&self) -> ArrayView3<'_, F> {
        self.core.weight_grad.view().into_dimensionality::<Ix3>().expect("3-D weight")
    }

    /// Kernel size.
    pub fn kernel_size(&self) -> usize {
        self.kernel_size
    }

    /// Stride.
    pub fn stride(&self) -> usize {
        self.core.geom.stride[1]
    }

    /// Dilation.
    pub fn dilation(&self) -> usize {
        self.core.geom.dilation[1]
    }

    /// The padding as configured.
    pub fn padding(&self) -> Padding<1> {
        self.padding
    }
}

/// Accessors and trait implementations shared by `Conv1d` and `Conv2d`.
macro_rules! conv_layer {
    ($ty:ident, $ndim:literal, $forward:literal, $backward:literal, $backward_input:literal) => {
        impl<F: Float> $ty<F> {
            /// The bias, `[out_channels]`, if the layer has one.
            pub fn bias(&self) -> Option<ArrayView1<'_, F>> {
                self.core.bias.as_ref().map(|(b, _)| b.view())
            }

            /// The gradient of the bias from the last backward pass.
            pub fn bias_grad(&self) -> Option<ArrayView1<'_, F>> {
                self.core.bias.as_ref().map(|(_, g)| g.view())
            }

            /// Number of input channels.
            pub fn in_channels(&self) -> usize {
                self.core.geom.in_channels
            }

            /// Number of output channels.
            pub fn out_channels(&self) -> usize {
                self.core.geom.out_channels
            }

            /// Number of groups.
            pub fn groups(&self) -> usize {
                self.core.geom.groups
            }
        }

        impl<F: Float> Module<F> for $ty<F> {
            fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
                self.core.visit_params(f)
            }
        }

        impl<F: Float> Model<F> for $ty<F> {
            fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
                let c = self.core.geom.in_channels;
                if x.ndim() != $ndim || x.shape()[1] != c {
                    let mut expected = vec![0; $ndim];
                    expected[1] = c;
                    return Err(Error::ShapeMismatch { op: $forward, expected, got: x.shape().to_vec() });
                }
                if x.shape()[2..].contains(&0) {
                    return Err(Error::invalid_input(
                        $forward,
                        format!("expected non-zero spatial sizes, got input shape {:?}", x.shape()),
                    ));
                }
                let hw = if $ndim == 3 { (1, x.shape()[2]) } else { (x.shape()[2], x.shape()[$ndim - 1]) };
                self.core.forward($forward, x, hw, mode, $ndim == 3)
            }

            /// Stores `dL/dW` and `dL/db`; skips `dL/dx` (use [`Layer::backward_input`]).
            fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
                self.core.backward($backward, grad_out, false)
            }
        }

        impl<F: Float> Layer<F> for $ty<F> {
            fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
                self.core.backward($backward_input, grad_out, true)?;
                Ok(self.core.grad_input.view())
            }
        }
    };
}

conv_layer!(Conv1d, 3, "Conv1d::forward", "Conv1d::backward", "Conv1d::backward_input");
conv_layer!(Conv2d, 4, "Conv2d::forward", "Conv2d::backward", "Conv2d::backward_input");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::seeded_rng;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array, Array2, array};

    /// A direct (seven nested loops) convolution, the definition in the docs.
    fn direct(g: &Geometry, x: &Array4<f64>, w: &Array4<f64>, b: Option<&Array1<f64>>) -> Array4<f64> {
        let (n, _, h, wd) = x.dim();
        let (oh, ow) = (g.out_len(0, h).unwrap(), g.out_len(1, wd).unwrap());
        let (og, cg) = (g.out_channels / g.groups, g.in_channels / g.groups);
        Array4::from_shape_fn((n, g.out_channels, oh, ow), |(n, o, i, j)| {
            let grp = o / og;
            let mut s = b.map_or(0.0, |b| b[o]);
            for c in 0..cg {
                for p in 0..g.kernel[0] {
                    for q in 0..g.kernel[1] {
                        let ih = (i * g.stride[0] + p * g.dilation[0]) as isize - g.pad_lo[0] as isize;
                        let iw = (j * g.stride[1] + q * g.dilation[1]) as isize - g.pad_lo[1] as isize;
                        if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd {
                            s += w[[o, c, p, q]] * x[[n, grp * cg + c, ih as usize, iw as usize]];
                        }
                    }
                }
            }
            s
        })
    }

    fn seq(shape: &[usize], scale: f64) -> ArrayD<f64> {
        let n: usize = shape.iter().product();
        ArrayD::from_shape_vec(
            IxDyn(shape),
            (0..n).map(|i| ((i * 7 + 3) % 11) as f64 * scale - 0.5).collect(),
        )
        .unwrap()
    }

    /// PyTorch parity on a hand-computed case:
    ///
    /// ```python
    /// x = torch.arange(9.).reshape(1, 1, 3, 3).double().requires_grad_()
    /// conv = torch.nn.Conv2d(1, 1, 2).double()
    /// conv.weight.data = torch.tensor([[[[1., 2.], [3., 4.]]]]).double(); conv.bias.data.fill_(0.5)
    /// y = conv(x); y.backward(torch.tensor([[[[1., 0.], [0., -1.]]]]).double())
    /// ```
    ///
    /// y[0,0] = 0·1 + 1·2 + 3·3 + 4·4 + 0.5 = 27.5; y[0,1] = 1 + 4 + 12 + 20 + 0.5 = 37.5;
    /// y[1,0] = 3 + 8 + 18 + 28 + 0.5 = 57.5; y[1,1] = 4 + 10 + 21 + 32 + 0.5 = 67.5.
    /// W.grad = G ⋆ x = x[0:2, 0:2] − x[1:3, 1:3] = [[0−4, 1−5], [3−7, 4−8]] = −4 everywhere;
    /// b.grad = 1 − 1 = 0. x.grad = W placed at (0,0) minus W placed at (1,1):
    /// [[1, 2, 0], [3, 4 − 1, −2], [0, −3, −4]].
    #[test]
    fn pytorch_parity_hand_computed() {
        let mut conv = Conv2d::from_weights(array![[[[1.0, 2.0], [3.0, 4.0]]]], Some(array![0.5])).unwrap();
        let x = Array::from_shape_vec((1, 1, 3, 3), (0..9).map(f64::from).collect()).unwrap().into_dyn();
        let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[[[27.5, 37.5], [57.5, 67.5]]]].into_dyn());
        let g = array![[[[1.0, 0.0], [0.0, -1.0]]]].into_dyn();
        let dx = conv.backward_input(g.view()).unwrap().to_owned();
        assert_eq!(dx, array![[[[1.0, 2.0, 0.0], [3.0, 3.0, -2.0], [0.0, -3.0, -4.0]]]].into_dyn());
        assert_eq!(conv.weight_grad(), Array4::from_elem((1, 1, 2, 2), -4.0));
        assert_eq!(conv.bias_grad().unwrap(), array![0.0]);
        // Model::backward: the same parameter gradients, overwritten, no input gradient.
        conv.core.weight_grad.fill(9.0);
        conv.backward(g.view()).unwrap();
        assert_eq!(conv.weight_grad(), Array4::from_elem((1, 1, 2, 2), -4.0));
        let names: Vec<String> = conv.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
    }

    /// Every option against the direct definition (and the input gradient against the
    /// adjoint identity <dx, v> = <G, conv(v) − b>).
    #[test]
    fn matches_direct_definition_for_every_option() {
        let mut rng = seeded_rng(3);
        type Case = (
            usize,
            usize,
            (usize, usize),
            (usize, usize),
            Padding<2>,
            (usize, usize),
            usize,
            bool,
            (usize, usize),
        );
        // Outputs of 256 positions or more run one sample per product, straight into the
        // output (the last two cases); smaller ones batch samples.
        let cases: [Case; 10] = [
            (1, 3, (3, 3), (1, 1), Padding::Explicit([0, 0]), (1, 1), 1, true, (5, 6)),
            (2, 4, (3, 2), (2, 1), Padding::Explicit([1, 0]), (1, 1), 1, true, (7, 5)),
            (4, 2, (3, 3), (1, 1), Padding::Explicit([1, 1]), (2, 1), 2, false, (6, 6)),
            (3, 6, (3, 3), (1, 1), Padding::Same, (1, 1), 3, true, (5, 4)),
            (2, 2, (2, 4), (1, 1), Padding::Same, (2, 1), 1, true, (5, 6)), // odd totals: extra after
            (3, 5, (1, 1), (1, 1), Padding::Valid, (1, 1), 1, true, (3, 4)), // pointwise
            (4, 4, (1, 1), (2, 3), Padding::Explicit([1, 2]), (1, 1), 2, true, (4, 5)),
            (2, 3, (3, 3), (3, 2), Padding::Explicit([1, 1]), (2, 2), 1, true, (9, 8)),
            (1, 2, (3, 3), (1, 1), Padding::Explicit([0, 0]), (1, 1), 1, true, (18, 18)),
            (2, 4, (3, 3), (1, 1), Padding::Same, (1, 1), 2, true, (16, 17)),
        ];
        let batches = cases.iter().flat_map(|c| [(1, *c), (3, *c)]);
        for (k, (n, (ci, co, ks, st, pad, dil, groups, bias, (h, w)))) in batches.enumerate() {
            let mut conv = Conv2d::<f64>::builder(ci, co, ks)
                .stride(st)
                .padding(pad)
                .dilation(dil)
                .groups(groups)
                .bias(bias)
                .build(&mut rng)
                .unwrap();
            let x = seq(&[n, ci, h, w], 0.1).into_dimensionality::<Ix4>().unwrap();
            let y = conv.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
            let wt = conv.weight().to_owned();
            let b = conv.bias().map(|b| b.to_owned());
            let expected = direct(&conv.core.geom, &x, &wt, b.as_ref());
            assert_abs_diff_eq!(y, expected.clone().into_dyn(), epsilon = 1e-12);
            // dL/db = Σ G; dL/dx via the adjoint identity with a random v.
            let g = seq(expected.shape(), 0.07);
            let dx = conv.backward_input(g.view()).unwrap().to_owned();
            let v = seq(x.shape(), 0.03).into_dimensionality::<Ix4>().unwrap();
            let conv_v = direct(&conv.core.geom, &v, &wt, None);
            let lhs: f64 = (&dx * &v.view().into_dyn()).sum();
            let rhs: f64 = (&g * &conv_v.into_dyn()).sum();
            assert!((lhs - rhs).abs() < 1e-10, "case {k}: {lhs} vs {rhs}");
            // dL/dW via the identity <dW, V> = <G, conv_V(x)>.
            let vw = seq(wt.shape(), 0.05).into_dimensionality::<Ix4>().unwrap();
            let conv_x = direct(&conv.core.geom, &x, &vw, None);
            let lhs: f64 = (&conv.weight_grad() * &vw).sum();
            let rhs: f64 = (&g * &conv_x.into_dyn()).sum();
            assert!((lhs - rhs).abs() < 1e-10, "case {k}: {lhs} vs {rhs}");
            if let Some(bg) = conv.bias_grad() {
                let sums = g.sum_axis(ndarray::Axis(0)).sum_axis(ndarray::Axis(1)).sum_axis(ndarray::Axis(1));
                assert_abs_diff_eq!(bg.into_dyn(), sums.view(), epsilon = 1e-12);
            }
        }
    }

    #[test]
    fn same_padding_splits_like_pytorch() {
        // kernel 4, dilation 1: total 3, 1 before and 2 after (torch's _conv_forward pads
        // [total // 2, total - total // 2]).
        let conv =
            Conv2d::<f64>::builder(1, 1, (4, 3)).padding(Padding::Same).build(&mut seeded_rng(0)).unwrap();
        assert_eq!((conv.core.geom.pad_lo, conv.core.geom.pad_hi), ([1, 1], [2, 1]));
        let conv = Conv1d::<f64>::builder(1, 1, 2)
            .dilation(3)
            .padding(Padding::Same)
            .build(&mut seeded_rng(0))
            .unwrap();
        assert_eq!((conv.core.geom.pad_lo, conv.core.geom.pad_hi), ([0, 1], [0, 2]));
        // The output keeps the input's size.
        let mut conv = conv;
        let y = conv.forward(seq(&[2, 1, 7], 0.1).view(), Mode::Eval).unwrap();
        assert_eq!(y.shape(), &[2, 1, 7]);
    }

    /// y[i] = Σ_p W[p] x[2i + p − 1] with x = [1, 2, 3, 4, 5], W = [1, 10, 100], stride 2,
    /// padding 1: positions −1..1 → 0·1 + 1·10 + 2·100 = 210; 1..3 → 2 + 30 + 400 = 432;
    /// 3..5 → 4 + 50 + 0 = 54.
    #[test]
    fn conv1d_hand_computed() {
        let mut conv = Conv1d::<f64>::builder(1, 1, 3)
            .stride(2)
            .padding(1)
            .build_from_weights(array![[[1.0, 10.0, 100.0]]], Some(array![0.0]))
            .unwrap();
        let x = array![[[1.0, 2.0, 3.0, 4.0, 5.0]]].into_dyn();
        assert_eq!(conv.forward(x.view(), Mode::Train).unwrap(), array![[[210.0, 432.0, 54.0]]].into_dyn());
        // G = [1, 1, 1]: dx[j] = Σ_i W[j − 2i + 1] = [10, 100+1, 10, 100+1, 10]; dW[p] = Σ_i x[2i+p−1]
        // = [0+2+4, 1+3+5, 2+4+0] = [6, 9, 6].
        let dx = conv.backward_input(Array3::<f64>::ones((1, 1, 3)).into_dyn().view()).unwrap().to_owned();
        assert_eq!(dx, array![[[10.0, 101.0, 10.0, 101.0, 10.0]]].into_dyn());
        assert_eq!(conv.weight_grad(), array![[[6.0, 9.0, 6.0]]]);
        assert_eq!(conv.bias_grad().unwrap(), array![3.0]);
        assert_eq!((conv.kernel_size(), conv.stride(), conv.dilation()), (3, 2, 1));
        assert_eq!(conv.padding(), Padding::Explicit([1]));
    }

    #[test]
    fn default_init_is_pytorch_family() {
        let conv = Conv2d::<f64>::builder(16, 32, 5).groups(2).build(&mut seeded_rng(0)).unwrap();
        // fan_in = 16/2 · 25 = 200
        let bound = 1.0 / 200f64.sqrt();
        assert!(conv.weight().iter().all(|w| w.abs() <= bound));
        assert!(conv.bias().unwrap().iter().all(|w| w.abs() <= bound));
        let var = conv.weight().mapv(|w| w * w).mean().unwrap();
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.05, "{var}");
        let again = Conv2d::<f64>::builder(16, 32, 5).groups(2).build(&mut seeded_rng(0)).unwrap();
        assert_eq!(conv.weight(), again.weight());
        assert_eq!((conv.in_channels(), conv.out_channels(), conv.groups()), (16, 32, 2));
        let zero = Conv1d::<f32>::builder(2, 3, 4).init(Init::Zeros).build(&mut seeded_rng(0)).unwrap();
        assert!(zero.weight().iter().chain(zero.bias().unwrap().iter()).all(|&w| w == 0.0));
    }

    #[test]
    fn invalid_hyper_parameters() {
        let mut rng = seeded_rng(0);
        let cases: Vec<(Result<Conv2d<f64>>, &str)> = vec![
            (Conv2d::new(0, 3, 3, &mut rng), "in_channels"),
            (Conv2d::new(3, 0, 3, &mut rng), "out_channels"),
            (Conv2d::new(3, 3, (3, 0), &mut rng), "kernel_size"),
            (Conv2d::builder(3, 3, 3).stride((1, 0)).build(&mut rng), "stride"),
            (Conv2d::builder(3, 3, 3).dilation(0).build(&mut rng), "dilation"),
            (Conv2d::builder(3, 3, 3).groups(0).build(&mut rng), "groups"),
            (Conv2d::builder(4, 3, 3).groups(2).build(&mut rng), "groups"),
            (Conv2d::builder(3, 4, 3).groups(2).build(&mut rng), "groups"),
            (Conv2d::builder(3, 3, 3).stride(2).padding(Padding::Same).build(&mut rng), "stride"),
            (Conv2d::builder(3, 3, 3).padding_mode(PaddingMode::Reflect).build(&mut rng), "padding_mode"),
            (Conv2d::builder(3, 3, 3).init(Init::XavierUniform { gain: -1.0 }).build(&mut rng), "gain"),
            (
                Conv2d::builder(3, 3, 3).bias_init(Init::Normal { mean: 0.0, std: -1.0 }).build(&mut rng),
                "std",
            ),
            (Conv2d::from_weights(Array4::zeros((2, 0, 3, 3)), None), "in_channels"),
        ];
        for (r, name) in cases {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let err =
            Conv1d::<f64>::builder(3, 3, 2).stride(3).padding(Padding::Same).build(&mut rng).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidParameter { name: "stride", value: 3.0, expected: "1 with Padding::Same" }
        );
        let err = Conv2d::<f64>::builder(4, 2, 3)
            .groups(2)
            .build_from_weights(Array4::zeros((2, 4, 3, 3)), None)
            .unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "ConvBuilder::build_from_weights",
                expected: vec![2, 2, 3, 3],
                got: vec![2, 4, 3, 3]
            }
        );
        let err = Conv1d::from_weights(Array3::<f64>::zeros((2, 1, 3)), Some(Array1::zeros(3))).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { expected, got, .. } if expected == [2] && got == [3]));
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_the_layer_unchanged() {
        let mut conv = Conv2d::<f64>::builder(2, 3, 3).build(&mut seeded_rng(0)).unwrap();
        let err = conv.backward(ArrayD::zeros(IxDyn(&[1, 3, 1, 1])).view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Conv2d::backward", .. }), "{err}");
        let err = conv.forward(ArrayD::zeros(IxDyn(&[1, 3, 5, 5])).view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Conv2d::forward", expected: vec![0, 2, 0, 0], got: vec![1, 3, 5, 5] }
        );
        // Unbatched input [C, H, W] is refused.
        let err = conv.forward(ArrayD::zeros(IxDyn(&[2, 5, 5])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { op: "Conv2d::forward", .. }));
        let good = seq(&[2, 2, 4, 5], 0.1);
        conv.forward(good.view(), Mode::Train).unwrap();
        let g = seq(&[2, 3, 2, 3], 0.1);
        conv.backward(g.view()).unwrap();
        let dw = conv.weight_grad().to_owned();
        // Kernel larger than the padded input.
        let err = conv.forward(ArrayD::zeros(IxDyn(&[1, 2, 2, 5])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Conv2d::forward", .. }), "{err}");
        assert!(err.to_string().contains("2 x 5") && err.to_string().contains("3 x 3"), "{err}");
        // The failed forward left the last good one in place: its backward still works.
        conv.backward(g.view()).unwrap();
        assert_eq!(conv.weight_grad(), dw);
        let err = conv.backward_input(seq(&[2, 3, 2, 2], 0.1).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "Conv2d::backward_input",
                expected: vec![2, 3, 2, 3],
                got: vec![2, 3, 2, 2]
            }
        );
        assert_eq!(conv.weight_grad(), dw);
        // After an Eval forward, backward is refused; EvalGrad allows it.
        conv.forward(good.view(), Mode::Eval).unwrap();
        let err = conv.backward(g.view()).unwrap_err();
        assert!(err.to_string().contains("Mode::Eval"), "{err}");
        conv.forward(good.view(), Mode::EvalGrad).unwrap();
        conv.backward(g.view()).unwrap();
        assert_eq!(conv.weight_grad(), dw);

        // Empty spatial dimensions, even where padding would give an output.
        let mut pad = Conv2d::<f64>::builder(2, 3, 1).padding(1).build(&mut seeded_rng(0)).unwrap();
        let err = pad.forward(ArrayD::zeros(IxDyn(&[1, 2, 0, 3])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Conv2d::forward", .. }), "{err}");

        let mut c1 = Conv1d::<f64>::new(2, 1, 4, &mut seeded_rng(0)).unwrap();
        let err = c1.forward(ArrayD::zeros(IxDyn(&[1, 2, 3])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Conv1d::forward", .. }), "{err}");
        let err = c1.forward(ArrayD::zeros(IxDyn(&[1, 2, 3, 3])).view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Conv1d::forward", expected: vec![0, 2, 0], got: vec![1, 2, 3, 3] }
        );
    }

    #[test]
    fn non_contiguous_input_and_gradient() {
        let mut conv = Conv2d::<f64>::builder(2, 3, 2).padding(1).build(&mut seeded_rng(1)).unwrap();
        let x = seq(&[2, 2, 4, 3], 0.1);
        let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
        let g = seq(y.shape(), 0.2);
        let dx = conv.backward_input(g.view()).unwrap().to_owned();
        let dw = conv.weight_grad().to_owned();
        // The same data in another memory order (a permuted copy, permuted back).
        let xt = x.view().permuted_axes(IxDyn(&[3, 2, 1, 0])).as_standard_layout().into_owned();
        let xv = xt.view().permuted_axes(IxDyn(&[3, 2, 1, 0]));
        assert!(!xv.is_standard_layout());
        let gt = g.view().permuted_axes(IxDyn(&[3, 2, 1, 0])).as_standard_layout().into_owned();
        let gv = gt.view().permuted_axes(IxDyn(&[3, 2, 1, 0]));
        for mode in [Mode::Eval, Mode::Train] {
            assert_eq!(conv.forward(xv.clone(), mode).unwrap(), y);
        }
        assert_eq!(conv.backward_input(gv).unwrap(), dx);
        assert_eq!(conv.weight_grad(), dw);
    }

    #[test]
    fn empty_batch() {
        let mut conv = Conv2d::<f64>::new(1, 2, 3, &mut seeded_rng(0)).unwrap();
        let y = conv.forward(ArrayD::zeros(IxDyn(&[0, 1, 5, 5])).view(), Mode::Train).unwrap();
        assert_eq!(y.shape(), &[0, 2, 3, 3]);
        let dx = conv.backward_input(ArrayD::zeros(IxDyn(&[0, 2, 3, 3])).view()).unwrap();
        assert_eq!(dx.shape(), &[0, 1, 5, 5]);
        assert!(conv.weight_grad().iter().chain(conv.bias_grad().unwrap().iter()).all(|&v| v == 0.0));
    }

    #[test]
    fn f32_and_f64_agree() {
        let mut a = Conv2d::<f64>::builder(3, 4, 3).padding(1).stride(2).build(&mut seeded_rng(4)).unwrap();
        let mut b = Conv2d::<f32>::builder(3, 4, 3).padding(1).stride(2).build(&mut seeded_rng(4)).unwrap();
        let x = seq(&[2, 3, 7, 6], 0.2);
        let ya = a.forward(x.view(), Mode::Train).unwrap().to_owned();
        let yb = b.forward(x.mapv(|v| v as f32).view(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(ya, yb, epsilon = 1e-5);
        let g = seq(ya.shape(), 0.1);
        let da = a.backward_input(g.view()).unwrap().to_owned();
        let db = b.backward_input(g.mapv(|v| v as f32).view()).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(da, db, epsilon = 1e-5);
        assert_abs_diff_eq!(a.weight_grad(), b.weight_grad().mapv(f64::from), epsilon = 1e-4);
    }

    #[test]
    fn buffers_are_reused_for_smaller_batches() {
        let mut conv = Conv2d::<f32>::new(2, 4, 3, &mut seeded_rng(0)).unwrap();
        let step = |conv: &mut Conv2d<f32>, n: usize| {
            let x = ArrayD::<f32>::ones(IxDyn(&[n, 2, 8, 8]));
            let g = ArrayD::<f32>::ones(IxDyn(&[n, 4, 6, 6]));
            let p = conv.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = conv.backward_input(g.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(&mut conv, 6);
        let caps = |c: &Conv2d<f32>| {
            (
                c.core.input.capacity(),
                c.core.output.capacity(),
                c.core.cols.capacity(),
                c.core.grad_input.capacity(),
            )
        };
        let before = caps(&conv);
        assert_eq!(step(&mut conv, 6), first);
        assert_eq!(step(&mut conv, 2), first);
        assert_eq!(step(&mut conv, 6), first);
        assert_eq!(caps(&conv), before);
        // cols: one chunk of all 6 samples (36 positions each, below COLUMNS) in forward,
        // with the row of ones that carries the bias.
        assert_eq!(before, (6 * 2 * 64, 6 * 4 * 36, (2 * 9 + 1) * 6 * 36, 6 * 2 * 64));
    }

    /// The dot-product kernel, portable and dispatched builds, against the definition:
    /// sizes with remainders in every direction (rows, columns, lanes).
    #[test]
    fn dot_products_match_definition() {
        for (m, n, len) in [(16, 25, 576), (5, 3, 13), (1, 1, 7), (4, 2, 8), (9, 7, 300)] {
            let a: Vec<f64> = (0..m * len).map(|i| ((i * 13 + 5) % 17) as f64 / 8.0 - 1.0).collect();
            let b: Vec<f64> = (0..n * len).map(|i| ((i * 7 + 3) % 19) as f64 / 9.0 - 1.0).collect();
            let expected: Vec<f64> = (0..m * n)
                .map(|ij| (0..len).map(|k| a[ij / n * len + k] * b[ij % n * len + k]).sum())
                .collect();
            let mut c = vec![f64::NAN; m * n];
            dot_products_impl::<f64, false>(&a, m, &b, n, len, &mut c, true);
            for (x, e) in c.iter().zip(&expected) {
                assert!((x - e).abs() < 1e-10, "{m}x{n}x{len}: {x} vs {e}");
            }
            // Accumulating on top: twice the products.
            dot_products(&a, m, &b, n, len, &mut c, false);
            for (x, e) in c.iter().zip(&expected) {
                assert!((x - 2.0 * e).abs() < 1e-10, "{m}x{n}x{len}: {x} vs {}", 2.0 * e);
            }
        }
    }

    #[test]
    fn valid_range_edges() {
        // o·2 − 1 in 0..5 for o < 3: o = 1, 2.
        assert_eq!(valid_range(-1, 2, 5, 3), (1, 3));
        assert_eq!(valid_range(0, 1, 4, 4), (0, 4));
        assert_eq!(valid_range(5, 1, 4, 4), (0, 0));
        assert_eq!(valid_range(-7, 2, 4, 2), (2, 2));
        assert_eq!(sum_slice(&(1..=20).map(f64::from).collect::<Vec<_>>()), 210.0);
        let _ = Array2::<f64>::zeros((1, 1));
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Conv1d<f32>>();
        send_sync::<Conv2d<f64>>();
        send_sync::<Conv2dBuilder<f64>>();
        send_sync::<Padding<2>>();
    }
}
