//! Multi-head scaled dot-product attention: [`MultiheadAttention`], with its masks
//! ([`AttnMasks`], [`AttnMask`]).
//!
//! Layout of the computation (`N` rows of the query, `B` batches, `H` heads of
//! `Dh = E/H` features):
//!
//! * the input projections are one matrix product over all rows (`[N, E]·[E, 3E]`
//!   when query, key and value are the same array, three `[N, E]·[E, E]` otherwise),
//!   into a buffer the layer owns;
//! * per (batch, head), the scores `Q·Kᵀ`, the weighted sum `P·V` and the four
//!   backward products read the projections in place as strided `[T, Dh]` matrices (no
//!   head-major copy), so both `batch_first` layouts run the same code;
//! * the softmax, its masks and its backward are fused per row; with a causal mask,
//!   the masked upper triangle is neither exponentiated nor differentiated, and the
//!   matrix products skip the blocks above the diagonal.

use std::any::TypeId;
use std::marker::PhantomData;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, IxDyn, ShapeBuilder, s};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::init::Init;
use crate::model::layer_norm::{LANES, lane_dot, lane_max, lane_sum, use_avx2};
use crate::model::layers::{Dropout, Pass, slice_mut};
use crate::model::{Layer, Linear, Mode, Model, Module, MultiInputLayer, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// An attention mask of shape `[L, S]` (shared by every batch and head) or
/// `[B·H, L, S]` (per batch and head, index `b·H + h`), as PyTorch's `attn_mask`.
#[derive(Clone, Debug)]
pub enum AttnMask<'a, F> {
    /// `true` = the query position may **not** attend to that key (PyTorch's boolean
    /// convention).
    Bool(ArrayViewD<'a, bool>),
    /// Added to the scores before the softmax (`-inf` masks a position out).
    Float(ArrayViewD<'a, F>),
}

/// The masks of one attention call (PyTorch's `attn_mask`, `key_padding_mask` and
/// `is_causal` arguments). Every mask is optional; positions masked by any of them are
/// excluded.
///
/// * `attn_mask`: see [`AttnMask`];
/// * `key_padding_mask`: bool `[B, S]`, `true` = that key of that batch is padding;
/// * `is_causal`: query position `i` attends to keys `j <= i` only (the upper
///   triangle of `[L, S]` is masked, aligned top-left as PyTorch's
///   `scaled_dot_product_attention(is_causal=True)`). Unlike PyTorch, where it is only
///   a hint that `attn_mask` is causal, the flag applies the mask itself (no
///   `attn_mask` needed) and the masked work is skipped.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::{AttnMask, AttnMasks};
///
/// let pad = array![[false, false, true]];
/// let masks = AttnMasks::<f32>::causal().key_padding_mask(pad.view());
/// assert!(masks.is_causal && masks.key_padding_mask.is_some());
/// let m = array![[false, true], [false, false]].into_dyn();
/// let masks = AttnMasks::<f32>::none().attn_mask(AttnMask::Bool(m.view()));
/// assert!(!masks.is_causal);
/// ```
#[derive(Clone, Debug)]
pub struct AttnMasks<'a, F> {
    /// The attention mask, if any.
    pub attn_mask: Option<AttnMask<'a, F>>,
    /// The key padding mask `[B, S]`, if any (`true` = ignore that key).
    pub key_padding_mask: Option<ArrayView2<'a, bool>>,
    /// Apply a causal mask.
    pub is_causal: bool,
}

impl<F> Default for AttnMasks<'_, F> {
    fn default() -> Self {
        AttnMasks { attn_mask: None, key_padding_mask: None, is_causal: false }
    }
}

impl<'a, F> AttnMasks<'a, F> {
    /// No mask.
    pub fn none() -> Self {
        Self::default()
    }

    /// A causal mask only.
    pub fn causal() -> Self {
        AttnMasks { is_causal: true, ..Self::default() }
    }

    /// With `attn_mask` set.
    pub fn attn_mask(mut self, mask: AttnMask<'a, F>) -> Self {
        self.attn_mask = Some(mask);
        self
    }

    /// With `key_padding_mask` set.
    pub fn key_padding_mask(mut self, mask: ArrayView2<'a, bool>) -> Self {
        self.key_padding_mask = Some(mask);
        self
    }
}

/// The gradients [`MultiheadAttention::backward_attention`] returns, each of its input's
/// shape. When one array was passed as query, key and value (self-attention), its total
/// gradient is the sum of the three.
#[derive(Clone, Debug)]
pub struct AttnGrads<'a, F> {
    /// `dL/dquery`.
    pub query: ArrayViewD<'a, F>,
    /// `dL/dkey`.
    pub key: ArrayViewD<'a, F>,
    /// `dL/dvalue`.
    pub value: ArrayViewD<'a, F>,
}

/// Which kind of `attn_mask` the last forward copied, and its extent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum MaskKind {
    #[default]
    None,
    /// `[L, S]`, shared.
    Shared,
    /// `[B·H, L, S]`.
    PerHead,
}

/// Shapes and layout of the last forward.
#[derive(Clone, Copy, Debug, Default)]
struct Geom {
    b: usize,
    l: usize,
    s: usize,
    /// Query, key and value were one array: one `[N, 3E]` projection.
    packed: bool,
    causal: bool,
    bool_mask: MaskKind,
    float_mask: MaskKind,
    key_padding: bool,
    /// The attention dropout was applied.
    dropped: bool,
}

impl Geom {
    fn nq(&self) -> usize {
        self.b * self.l
    }
    fn nk(&self) -> usize {
        self.b * self.s
    }
    /// Row length of the projection buffers.
    fn ld(&self, e: usize) -> usize {
        if self.packed { 3 * e } else { e }
    }
    /// Offset of block `t` (0 query, 1 key, 2 value) in the projection buffers.
    fn off(&self, t: usize, e: usize) -> usize {
        match (self.packed, t) {
            (true, t) => t * e,
            (false, 0) => 0,
            (false, 1) => self.nq() * e,
            (false, _) => (self.nq() + self.nk()) * e,
        }
    }
    /// `(rows per batch step, rows per position step)` of a sequence of length `t`:
    /// row `(b, i)` is `b·sb + i·sp`.
    fn steps(&self, t: usize, batch_first: bool) -> (usize, usize) {
        if batch_first { (t, 1) } else { (1, self.b) }
    }
}

/// A `[rows, dh]` matrix inside `buf`, rows `row_stride` apart.
fn head<F>(buf: &[F], start: usize, rows: usize, row_stride: usize, dh: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, dh).strides((row_stride, 1)), &buf[start..])
        .expect("head view inside its buffer")
}

fn head_mut<F>(
    buf: &mut [F],
    start: usize,
    rows: usize,
    row_stride: usize,
    dh: usize,
) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, dh).strides((row_stride, 1)), &mut buf[start..])
        .expect("head view inside its buffer")
}

/// `x` as `&mut [f32]` when `F` is `f32`.
#[inline(always)]
fn as_f32_mut<F: Float>(x: &mut [F]) -> Option<&mut [f32]> {
    if TypeId::of::<F>() == TypeId::of::<f32>() {
        // SAFETY: `F` is `f32` (same TypeId), so `x` is a `[f32]`.
        Some(unsafe { &mut *(x as *mut [F] as *mut [f32]) })
    } else {
        None
    }
}

/// `exp(x)` for `x <= 0` in `f32`, branch-free so that a loop over it vectorizes.
///
/// Cephes' `expf` scheme: `x = n·ln 2 + r` with `n` rounded to nearest (`|r| <= ln2/2`,
/// `ln 2` split in two parts), `exp(r)` by its degree-6 minimax polynomial (relative
/// error below 1e-7, about 1 ulp), times `2^n` built in the exponent bits. Below
/// `-87.33` (where `2^n` would leave the normal range) the result is 0, as the
/// subnormal values it replaces are below `1.2e-38`; NaN stays NaN. libm's `expf` is a
/// call per element and cost 5 ns per score at W7's shapes, more than the matrix
/// products of the attention.
#[inline(always)]
pub(crate) fn exp_nonpositive_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5·2^23: adding it rounds to an integer, which lands in the low mantissa bits.
    const SHIFTER: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let t = x * LOG2E + SHIFTER;
    let n = t - SHIFTER;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = p * z + r + 1.0;
    let e = (t.to_bits() as i32).wrapping_sub(SHIFTER.to_bits() as i32).wrapping_add(127).wrapping_shl(23);
    let y = er * f32::from_bits(e as u32);
    if x < -87.33 { 0.0 } else { y }
}

/// `v ← exp(v − shift)` over `row`, with `v − shift <= 0`.
#[inline(always)]
fn exp_shifted<F: Float>(row: &mut [F], shift: F) {
    let shift32 = shift.as_f64() as f32;
    match as_f32_mut(row) {
        Some(r) => r.iter_mut().for_each(|v| *v = exp_nonpositive_f32(*v - shift32)),
        None => row.iter_mut().for_each(|v| *v = (*v - shift).exp()),
    }
}

/// Masks and normalizes one row of scores in place: `row[..valid]` holds the scores of
/// the keys not cut by the causal mask. The softmax runs over `row[..padded]`
/// (`valid` rounded up to whole lanes, within the row) with the keys past `valid` at
/// `-inf`, so the vector loops need no scalar remainder; `row[padded..]` is set to 0.
/// A row with every key masked becomes NaN, as in PyTorch (softmax of `-inf`
/// everywhere).
#[inline(always)]
fn softmax_row<F: Float>(
    row: &mut [F],
    valid: usize,
    padded: usize,
    bool_mask: Option<&[bool]>,
    float_mask: Option<&[F]>,
    key_padding: Option<&[bool]>,
) {
    let (live, dead) = row.split_at_mut(padded);
    dead.fill(F::zero());
    let ninf = F::neg_infinity();
    live[valid..].fill(ninf);
    let keys = &mut live[..valid];
    if let Some(m) = float_mask {
        keys.iter_mut().zip(m).for_each(|(v, &a)| *v += a);
    }
    for m in [bool_mask, key_padding].into_iter().flatten() {
        keys.iter_mut().zip(m).for_each(|(v, &masked)| {
            if masked {
                *v = ninf
            }
        });
    }
    let max = lane_max(live);
    if max == ninf {
        live[..valid].fill(F::nan());
        live[valid..].fill(F::zero());
        return;
    }
    exp_shifted(live, max);
    let inv = F::one() / lane_sum(live);
    live.iter_mut().for_each(|v| *v *= inv);
}

/// The masks of one head: `bool_mask` and `float_mask` are `[L, S]` row-major,
/// `key_padding` is `[S]`.
#[derive(Clone, Copy)]
struct HeadMasks<'a, F> {
    bool_mask: Option<&'a [bool]>,
    float_mask: Option<&'a [F]>,
    key_padding: Option<&'a [bool]>,
    causal: bool,
}

/// Keys not cut by the causal mask for query row `i` (top-left aligned), and that
/// count rounded up to whole lanes (at most `s`).
#[inline(always)]
fn valid_keys(i: usize, s: usize, causal: bool) -> (usize, usize) {
    if causal {
        let valid = (i + 1).min(s);
        (valid, valid.next_multiple_of(LANES).min(s))
    } else {
        (s, s)
    }
}

#[inline(always)]
fn softmax_head_impl<F: Float>(p: &mut [F], s: usize, m: HeadMasks<'_, F>) {
    for (i, row) in p.chunks_exact_mut(s).enumerate() {
        let (valid, padded) = valid_keys(i, s, m.causal);
        let r = i * s..i * s + valid;
        softmax_row(
            row,
            valid,
            padded,
            m.bool_mask.map(|b| &b[r.clone()]),
            m.float_mask.map(|f| &f[r.clone()]),
            m.key_padding.map(|k| &k[..valid]),
        );
    }
}

#[inline(always)]
fn softmax_backward_head_impl<F: Float>(p: &[F], dp: &mut [F], s: usize, causal: bool) {
    for (i, (pr, dr)) in p.chunks_exact(s).zip(dp.chunks_exact_mut(s)).enumerate() {
        // dS = P ⊙ (dP − Σ_j P·dP) on the live keys (and the padding past them, where
        // P = 0). Further on, dP holds products with masked positions: cleared, so the
        // matrix products that follow read 0.
        let (_, padded) = valid_keys(i, s, causal);
        let (dr, dead) = dr.split_at_mut(padded);
        dead.fill(F::zero());
        let pr = &pr[..padded];
        let dot = lane_dot(pr, dr);
        dr.iter_mut().zip(pr).for_each(|(d, &pv)| *d = pv * (*d - dot));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn softmax_head_avx2<F: Float>(p: &mut [F], s: usize, m: HeadMasks<'_, F>) {
    softmax_head_impl(p, s, m)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn softmax_backward_head_avx2<F: Float>(p: &[F], dp: &mut [F], s: usize, causal: bool) {
    softmax_backward_head_impl(p, dp, s, causal)
}

/// Row-wise masked softmax of one head's scores `p` (`[L, S]`), in place. The row
/// loops are compiled twice, for the crate's target and with AVX2 (chosen at run time,
/// as the optimizers' kernels); both give the same bits (Rust fuses no multiply-add,
/// and the reductions have a fixed lane structure).
fn softmax_head<F: Float>(p: &mut [F], s: usize, m: HeadMasks<'_, F>) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { softmax_head_avx2(p, s, m) };
        return;
    }
    softmax_head_impl(p, s, m)
}

/// `dS = P ⊙ (dP − rowsum(P ⊙ dP))` for one head, in place in `dp`; entries past the
/// causal diagonal set to 0.
fn softmax_backward_head<F: Float>(p: &[F], dp: &mut [F], s: usize, causal: bool) {
    #[cfg(target_arch = "x86_64")]
    if use_avx2() {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { softmax_backward_head_avx2(p, dp, s, causal) };
        return;
    }
    softmax_backward_head_impl(p, dp, s, causal)
}

/// Copies `x` (any layout) into `dst` in logical order.
fn copy_rows<F: Copy>(x: &ArrayViewD<'_, F>, dst: &mut [F]) {
    match x.as_slice() {
        Some(src) => dst.copy_from_slice(src),
        None => dst.iter_mut().zip(x.iter()).for_each(|(d, &v)| *d = v),
    }
}

/// Parameters, caches and kernels; the masks set on the layer live apart
/// ([`MaskSettings`]) so that a forward can borrow both.
#[derive(Clone, Debug)]
struct Core<F> {
    embed_dim: usize,
    num_heads: usize,
    batch_first: bool,
    scale: F,
    in_proj_weight: Array2<F>,
    in_proj_weight_grad: Array2<F>,
    in_proj_bias: Option<(Array1<F>, Array1<F>)>,
    out_proj: Linear<F>,
    dropout: Option<Dropout<F>>,
    geom: Geom,
    /// Shapes of the last query and key inputs (value = key).
    q_shape: [usize; 3],
    k_shape: [usize; 3],
    /// Copies of the inputs as rows: `[N, E]` (packed) or query, key, value blocks.
    inputs: Buffer<F>,
    /// Projections, layout as described by [`Geom`].
    proj: Buffer<F>,
    /// Softmax probabilities `[B·H, L, S]`.
    probs: Buffer<F>,
    /// Concatenated head outputs `[N, E]`, rows as the query's.
    attn: Buffer<F>,
    /// Contiguous copies of the masks of the last forward.
    mask_bool: Buffer<bool>,
    mask_float: Buffer<F>,
    mask_key_padding: Buffer<bool>,
    /// `dL/dP` (and `dL/dS`): one `[L, S]` block, or `[B·H, L, S]` with dropout.
    grad_probs: Buffer<F>,
    /// One `[L, S]` block of `P ⊙ M` (dropout only).
    scratch: Buffer<F>,
    grad_proj: Buffer<F>,
    /// Input gradients: query, key, value blocks, or their sum (self-attention).
    grad_inputs: Buffer<F>,
    /// Which blocks of `grad_inputs` hold a gradient; `grad_sum`: it holds the sum.
    grad_avail: [bool; 3],
    grad_sum: bool,
    pass: Pass,
}

/// What the last backward should produce for the inputs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InputGrads {
    None,
    /// The sum of the three (self-attention as a [`Layer`]).
    Sum,
    /// The inputs flagged.
    Each([bool; 3]),
}

fn shape3(op: &'static str, x: &ArrayViewD<'_, impl Sized>, expected: [usize; 3]) -> Result<[usize; 3]> {
    let ok = x.ndim() == 3 && x.shape().iter().zip(expected).all(|(&g, e)| e == 0 || g == e);
    if ok {
        Ok([x.shape()[0], x.shape()[1], x.shape()[2]])
    } else {
        Err(Error::ShapeMismatch { op, expected: expected.to_vec(), got: x.shape().to_vec() })
    }
}

fn same_array<T>(a: &ArrayViewD<'_, T>, b: &ArrayViewD<'_, T>) -> bool {
    a.as_ptr() == b.as_ptr() && a.shape() == b.shape() && a.strides() == b.strides()
}

impl<F: Float> Core<F> {
    fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }

    /// Checks inputs and masks; returns `(B, L, S)`.
    fn validate(
        &self,
        op: &'static str,
        q: &ArrayViewD<'_, F>,
        k: &ArrayViewD<'_, F>,
        v: &ArrayViewD<'_, F>,
        masks: &AttnMasks<'_, F>,
    ) -> Result<(usize, usize, usize)> {
        let e = self.embed_dim;
        let qs = shape3(op, q, [0, 0, e])?;
        let (b, l) = if self.batch_first { (qs[0], qs[1]) } else { (qs[1], qs[0]) };
        let ks = shape3(op, k, if self.batch_first { [b, 0, e] } else { [0, b, e] })?;
        shape3(op, v, ks)?;
        let s = if self.batch_first { ks[1] } else { ks[0] };
        if b == 0 || l == 0 || s == 0 {
            return Err(Error::EmptyInput {
                op,
                what: "query and key need at least one batch and one position",
            });
        }
        let bh = b * self.num_heads;
        let check_mask = |shape: &[usize]| -> Result<()> {
            if shape == [l, s] || shape == [bh, l, s] {
                Ok(())
            } else {
                let expected = if shape.len() == 3 { vec![bh, l, s] } else { vec![l, s] };
                Err(Error::ShapeMismatch { op, expected, got: shape.to_vec() })
            }
        };
        match &masks.attn_mask {
            Some(AttnMask::Bool(m)) => check_mask(m.shape())?,
            Some(AttnMask::Float(m)) => check_mask(m.shape())?,
            None => {}
        }
        if let Some(m) = &masks.key_padding_mask {
            if m.shape() != [b, s] {
                return Err(Error::ShapeMismatch { op, expected: vec![b, s], got: m.shape().to_vec() });
            }
        }
        Ok((b, l, s))
    }

    fn forward(
        &mut self,
        op: &'static str,
        q: ArrayViewD<'_, F>,
        k: ArrayViewD<'_, F>,
        v: ArrayViewD<'_, F>,
        masks: &AttnMasks<'_, F>,
        mode: Mode,
    ) -> Result<ArrayViewD<'_, F>> {
        let (b, l, s) = self.validate(op, &q, &k, &v, masks)?;
        let (e, hn, dh) = (self.embed_dim, self.num_heads, self.head_dim());
        let packed = same_array(&q, &k) && same_array(&q, &v);
        let kind = |shape: &[usize]| if shape.len() == 2 { MaskKind::Shared } else { MaskKind::PerHead };
        let mut g = Geom { b, l, s, packed, causal: masks.is_causal, ..Geom::default() };
        match &masks.attn_mask {
            Some(AttnMask::Bool(m)) => {
                g.bool_mask = kind(m.shape());
                copy_rows(m, slice_mut(self.mask_bool.reshape(m.shape())));
            }
            Some(AttnMask::Float(m)) => {
                g.float_mask = kind(m.shape());
                copy_rows(m, slice_mut(self.mask_float.reshape(m.shape())));
            }
            None => {}
        }
        if let Some(m) = &masks.key_padding_mask {
            g.key_padding = true;
            copy_rows(&m.view().into_dyn(), slice_mut(self.mask_key_padding.reshape(&[b, s])));
        }
        g.dropped = mode.is_training() && self.dropout.is_some();
        self.geom = g;
        self.q_shape = [q.shape()[0], q.shape()[1], q.shape()[2]];
        self.k_shape = [k.shape()[0], k.shape()[1], k.shape()[2]];
        let (nq, nk) = (g.nq(), g.nk());

        // Inputs as rows (memory order of a standard-layout input is row order).
        let n_in = if packed { nq * e } else { (nq + 2 * nk) * e };
        let inputs = slice_mut(self.inputs.reshape(&[n_in]));
        copy_rows(&q, &mut inputs[..nq * e]);
        if !packed {
            copy_rows(&k, &mut inputs[nq * e..(nq + nk) * e]);
            copy_rows(&v, &mut inputs[(nq + nk) * e..]);
        }

        // Projections: rows · W_inᵀ + b_in.
        let ld = g.ld(e);
        let n_proj = if packed { nq * 3 * e } else { n_in };
        let proj = slice_mut(self.proj.reshape(&[n_proj]));
        let inputs = self.inputs.view();
        let inputs = inputs.to_slice().expect("contiguous");
        let blocks: &[(usize, usize)] = if packed { &[(0, 3)] } else { &[(0, 1), (1, 1), (2, 1)] };
        for &(t, width) in blocks {
            let rows = if t == 0 { nq } else { nk };
            let x_off = if packed { 0 } else { g.off(t, e) };
            let x = ArrayView2::from_shape((rows, e), &inputs[x_off..x_off + rows * e]).expect("input rows");
            let w = self.in_proj_weight.slice(s![t * e..(t + width) * e, ..]);
            let start = g.off(t, e);
            let mut y = ArrayViewMut2::from_shape((rows, width * e).strides((ld, 1)), &mut proj[start..])
                .expect("projection block inside its buffer");
            let beta = match &self.in_proj_bias {
                Some((bias, _)) => {
                    let bias = bias.slice(s![t * e..(t + width) * e]);
                    y.rows_mut().into_iter().for_each(|mut r| r.assign(&bias));
                    F::one()
                }
                None => F::zero(),
            };
            general_mat_mul(F::one(), &x, &w.t(), beta, &mut y);
        }

        // Attention per (batch, head).
        let proj = self.proj.view();
        let proj = proj.to_slice().expect("contiguous");
        let probs = slice_mut(self.probs.reshape(&[b * hn, l, s]));
        let attn = slice_mut(self.attn.reshape(&[nq, e]));
        let (q_sb, q_sp) = g.steps(l, self.batch_first);
        let (k_sb, k_sp) = g.steps(s, self.batch_first);
        let mask_bool = self.mask_bool.view();
        let mask_bool = mask_bool.to_slice().expect("contiguous");
        let mask_float = self.mask_float.view();
        let mask_float = mask_float.to_slice().expect("contiguous");
        let key_padding = self.mask_key_padding.view();
        let key_padding = key_padding.to_slice().expect("contiguous");
        for bi in 0..b {
            for h in 0..hn {
                let bh = bi * hn + h;
                let qv = head(proj, g.off(0, e) + bi * q_sb * ld + h * dh, l, q_sp * ld, dh);
                let kv = head(proj, g.off(1, e) + bi * k_sb * ld + h * dh, s, k_sp * ld, dh);
                let p = &mut probs[bh * l * s..(bh + 1) * l * s];
                scores(self.scale, &qv, &kv, p);
                let block = |kind: MaskKind| match kind {
                    MaskKind::None => None,
                    MaskKind::Shared => Some(0..l * s),
                    MaskKind::PerHead => Some(bh * l * s..(bh + 1) * l * s),
                };
                let masks = HeadMasks {
                    bool_mask: block(g.bool_mask).map(|r| &mask_bool[r]),
                    float_mask: block(g.float_mask).map(|r| &mask_float[r]),
                    key_padding: g.key_padding.then(|| &key_padding[bi * s..(bi + 1) * s]),
                    causal: g.causal,
                };
                softmax_head(p, s, masks);
                if !g.dropped {
                    let vv = head(proj, g.off(2, e) + bi * k_sb * ld + h * dh, s, k_sp * ld, dh);
                    let o = head_mut(attn, bi * q_sb * e + h * dh, l, q_sp * e, dh);
                    product(F::one(), p, &vv, o);
                }
            }
        }
        if g.dropped {
            let dropout = self.dropout.as_mut().expect("dropped implies a dropout");
            let dropped = dropout.forward(self.probs.view(), mode)?;
            let dropped = dropped.to_slice().expect("contiguous");
            for bi in 0..b {
                for h in 0..hn {
                    let bh = bi * hn + h;
                    let vv = head(proj, g.off(2, e) + bi * k_sb * ld + h * dh, s, k_sp * ld, dh);
                    let o = head_mut(attn, bi * q_sb * e + h * dh, l, q_sp * e, dh);
                    product(F::one(), &dropped[bh * l * s..(bh + 1) * l * s], &vv, o);
                }
            }
        }

        // Output projection on [*, E] with the query's shape.
        self.attn.reshape(&self.q_shape);
        self.pass = Pass::of(mode);
        self.out_proj.forward(self.attn.view(), mode)
    }

    fn backward(&mut self, op: &'static str, grad_out: ArrayViewD<'_, F>, want: InputGrads) -> Result<()> {
        self.pass.require_train(op)?;
        if grad_out.shape() != self.q_shape {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.q_shape.to_vec(),
                got: grad_out.shape().to_vec(),
            });
        }
        if want == InputGrads::Sum && !self.geom.packed {
            return Err(Error::invalid_input(
                op,
                "the last forward had separate query, key and value: use backward_attention or backward_multi",
            ));
        }
        let g = self.geom;
        let (e, hn, dh) = (self.embed_dim, self.num_heads, self.head_dim());
        let (b, l, s) = (g.b, g.l, g.s);
        let (nq, nk) = (g.nq(), g.nk());
        let ld = g.ld(e);
        let (q_sb, q_sp) = g.steps(l, self.batch_first);
        let (k_sb, k_sp) = g.steps(s, self.batch_first);

        // dA = G · W_out (and the out_proj parameter gradients).
        let grad_attn = self.out_proj.backward_input(grad_out)?;
        let grad_attn = grad_attn.to_slice().expect("Linear gradients are contiguous");
        let proj = self.proj.view();
        let proj = proj.to_slice().expect("contiguous");
        let probs = self.probs.view();
        let probs = probs.to_slice().expect("contiguous");
        let grad_proj = slice_mut(self.grad_proj.reshape(&[proj.len()]));
        let per_block = if g.dropped { b * hn * l * s } else { l * s };
        let grad_probs = slice_mut(self.grad_probs.reshape(&[per_block]));
        let q_start = |bi: usize, h: usize| g.off(0, e) + bi * q_sb * ld + h * dh;
        let k_start = |t: usize, bi: usize, h: usize| g.off(t, e) + bi * k_sb * ld + h * dh;

        // With dropout, P' = P ⊙ M fed the weighted sum: dV and dP' first, for every
        // head, then dP = dP' ⊙ M through the dropout layer, then dS, dQ and dK.
        let scratch = slice_mut(self.scratch.reshape(&[if g.dropped { l * s } else { 0 }]));
        let mask = match (&self.dropout, g.dropped) {
            (Some(d), true) => Some(d.mask()),
            _ => None,
        };
        let mask = mask.as_ref().map(|m| m.to_slice().expect("contiguous"));
        for bi in 0..b {
            for h in 0..hn {
                let bh = bi * hn + h;
                let blk = bh * l * s..(bh + 1) * l * s;
                let d_o = head(grad_attn, bi * q_sb * e + h * dh, l, q_sp * e, dh);
                let vv = head(proj, k_start(2, bi, h), s, k_sp * ld, dh);
                let dp = if g.dropped { &mut grad_probs[blk.clone()] } else { &mut grad_probs[..] };
                // dP = dO · Vᵀ
                scores(F::one(), &d_o, &vv, dp);
                // dV = Pᵀ · dO (P' = P ⊙ M with dropout)
                let dv = head_mut(grad_proj, k_start(2, bi, h), s, k_sp * ld, dh);
                let p = match mask {
                    Some(m) => {
                        scratch
                            .iter_mut()
                            .zip(&probs[blk.clone()])
                            .zip(&m[blk.clone()])
                            .for_each(|((d, &p), &m)| *d = p * m);
                        &scratch[..]
                    }
                    None => &probs[blk.clone()],
                };
                transposed_product(F::one(), p, &d_o, dv);
                if !g.dropped {
                    attention_input_grads(
                        self.scale,
                        &probs[blk],
                        dp,
                        proj,
                        grad_proj,
                        [q_start(bi, h), k_start(1, bi, h)],
                        [q_sp * ld, k_sp * ld],
                        [l, s, dh],
                        g.causal,
                    );
                }
            }
        }
        if g.dropped {
            let dropout = self.dropout.as_mut().expect("dropped implies a dropout");
            let dps = self.grad_probs.view().into_shape_with_order(IxDyn(&[b * hn, l, s])).expect("size");
            let dp_all = dropout.backward_input(dps)?;
            let dp_all = dp_all.to_slice().expect("contiguous");
            let grad_probs = slice_mut(self.grad_probs.view_mut());
            grad_probs.copy_from_slice(dp_all);
            let grad_proj = slice_mut(self.grad_proj.view_mut());
            for bi in 0..b {
                for h in 0..hn {
                    let bh = bi * hn + h;
                    let blk = bh * l * s..(bh + 1) * l * s;
                    attention_input_grads(
                        self.scale,
                        &probs[blk.clone()],
                        &mut grad_probs[blk],
                        proj,
                        grad_proj,
                        [q_start(bi, h), k_start(1, bi, h)],
                        [q_sp * ld, k_sp * ld],
                        [l, s, dh],
                        g.causal,
                    );
                }
            }
        }

        // Projection gradients: dW_in = dProjᵀ · X, db_in = Σ_rows dProj, dX = dProj · W_in.
        let grad_proj = self.grad_proj.view();
        let grad_proj = grad_proj.to_slice().expect("contiguous");
        let inputs = self.inputs.view();
        let inputs = inputs.to_slice().expect("contiguous");
        let blocks: &[(usize, usize)] = if g.packed { &[(0, 3)] } else { &[(0, 1), (1, 1), (2, 1)] };
        for &(t, width) in blocks {
            let rows = if t == 0 { nq } else { nk };
            let x_off = if g.packed { 0 } else { g.off(t, e) };
            let x = ArrayView2::from_shape((rows, e), &inputs[x_off..x_off + rows * e]).expect("input rows");
            let dy = ArrayView2::from_shape((rows, width * e).strides((ld, 1)), &grad_proj[g.off(t, e)..])
                .expect("projection block inside its buffer");
            let mut dw = self.in_proj_weight_grad.slice_mut(s![t * e..(t + width) * e, ..]);
            general_mat_mul(F::one(), &dy.t(), &x, F::zero(), &mut dw);
            if let Some((_, db)) = &mut self.in_proj_bias {
                let mut db = db.slice_mut(s![t * e..(t + width) * e]);
                db.fill(F::zero());
                for row in dy.rows() {
                    db += &row;
                }
            }
        }
        self.grad_avail = [false; 3];
        self.grad_sum = false;
        match want {
            InputGrads::None => {}
            InputGrads::Sum => {
                // Only reached for packed calls: dX = dProj · W_in over all 3E columns.
                let gi = slice_mut(self.grad_inputs.reshape(&[nq, e]));
                let dy = ArrayView2::from_shape((nq, 3 * e), grad_proj).expect("packed projection");
                let mut gi = ArrayViewMut2::from_shape((nq, e), gi).expect("size");
                general_mat_mul(F::one(), &dy, &self.in_proj_weight, F::zero(), &mut gi);
                self.grad_sum = true;
            }
            InputGrads::Each(needs) => {
                let gi = slice_mut(self.grad_inputs.reshape(&[(nq + 2 * nk) * e]));
                for (t, &need) in needs.iter().enumerate() {
                    if !need {
                        continue;
                    }
                    let rows = if t == 0 { nq } else { nk };
                    let dst_off = if t == 0 { 0 } else { (nq + (t - 1) * nk) * e };
                    let dy = ArrayView2::from_shape((rows, e).strides((ld, 1)), &grad_proj[g.off(t, e)..])
                        .expect("projection block inside its buffer");
                    let w = self.in_proj_weight.slice(s![t * e..(t + 1) * e, ..]);
                    let mut dx = ArrayViewMut2::from_shape((rows, e), &mut gi[dst_off..dst_off + rows * e])
                        .expect("size");
                    general_mat_mul(F::one(), &dy, &w, F::zero(), &mut dx);
                    self.grad_avail[t] = true;
                }
            }
        }
        Ok(())
    }

    /// Gradient of input `t` (0 query, 1 key, 2 value) from the last backward.
    fn input_grad(&self, t: usize) -> Option<ArrayViewD<'_, F>> {
        if t > 2 || !self.grad_avail[t] {
            return None;
        }
        let (nq, nk, e) = (self.geom.nq(), self.geom.nk(), self.embed_dim);
        let all = self.grad_inputs.view();
        let all = all.to_slice().expect("contiguous");
        let (off, rows, shape) = match t {
            0 => (0, nq, self.q_shape),
            k => ((nq + (k - 1) * nk) * e, nk, self.k_shape),
        };
        Some(ArrayViewD::from_shape(IxDyn(&shape), &all[off..off + rows * e]).expect("size"))
    }

    fn visit(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        let mut id = 0;
        f(
            Param::new(id, "in_proj_weight"),
            self.in_proj_weight.view_mut().into_dyn(),
            self.in_proj_weight_grad.view_mut().into_dyn(),
        )?;
        id += 1;
        if let Some((b, g)) = &mut self.in_proj_bias {
            f(Param::new(id, "in_proj_bias"), b.view_mut().into_dyn(), g.view_mut().into_dyn())?;
            id += 1;
        }
        self.out_proj.visit_params(&mut |p, v, g| {
            let name = if p.name == "weight" { "out_proj.weight" } else { "out_proj.bias" };
            f(Param::new(id + p.id, name), v, g)
        })
    }
}

// The per-head products run as full matrix products even under a causal mask: at
// W7's shapes (64 × 64 scores, head dim 16) splitting them into blocks on and below the
// diagonal was measured 2× slower than computing the masked half too (each small
// product pays its own packing). The masked work skipped is the softmax and its
// backward, which only touch the live keys.

/// `P = scale · Q·Kᵀ` into `p` (`[L, S]`, row-major).
fn scores<F: Float>(scale: F, q: &ArrayView2<'_, F>, k: &ArrayView2<'_, F>, p: &mut [F]) {
    let mut pm = ArrayViewMut2::from_shape((q.nrows(), k.nrows()), p).expect("size");
    general_mat_mul(scale, q, &k.t(), F::zero(), &mut pm);
}

/// `out = alpha · P·X` (`p` `[L, S]` row-major, `x` `[S, Dh]`).
fn product<F: Float>(alpha: F, p: &[F], x: &ArrayView2<'_, F>, mut out: ArrayViewMut2<'_, F>) {
    let pm = ArrayView2::from_shape((out.nrows(), x.nrows()), p).expect("size");
    general_mat_mul(alpha, &pm, x, F::zero(), &mut out);
}

/// `out = alpha · Pᵀ·X` (`p` `[L, S]` row-major, `x` `[L, Dh]`, `out` `[S, Dh]`).
fn transposed_product<F: Float>(alpha: F, p: &[F], x: &ArrayView2<'_, F>, mut out: ArrayViewMut2<'_, F>) {
    let pm = ArrayView2::from_shape((x.nrows(), out.nrows()), p).expect("size");
    general_mat_mul(alpha, &pm.t(), x, F::zero(), &mut out);
}

/// From `dP` (in `dp`, `[L, S]`, overwritten by `dS`) and `P`:
/// `dS = P ⊙ (dP − rowsum(P ⊙ dP))`, then `dQ = scale·dS·K` and `dK = scale·dSᵀ·Q`
/// into `grad_proj`. `starts` and `strides` locate the query and key heads (`[L, Dh]`
/// and `[S, Dh]`) in `proj` and `grad_proj`.
#[allow(clippy::too_many_arguments)]
fn attention_input_grads<F: Float>(
    scale: F,
    p: &[F],
    dp: &mut [F],
    proj: &[F],
    grad_proj: &mut [F],
    starts: [usize; 2],
    strides: [usize; 2],
    [l, s, dh]: [usize; 3],
    causal: bool,
) {
    softmax_backward_head(p, dp, s, causal);
    let q = head(proj, starts[0], l, strides[0], dh);
    let k = head(proj, starts[1], s, strides[1], dh);
    product(scale, dp, &k, head_mut(grad_proj, starts[0], l, strides[0], dh));
    transposed_product(scale, dp, &q, head_mut(grad_proj, starts[1], s, strides[1], dh));
}

/// The masks set on the layer, used by [`Model::forward`] and
/// [`MultiInputLayer::forward_multi`] (owned copies, reused between calls).
#[derive(Clone, Debug)]
struct MaskSettings<F> {
    causal: bool,
    attn: MaskKind,
    attn_is_bool: bool,
    attn_bool: Buffer<bool>,
    attn_float: Buffer<F>,
    key_padding: bool,
    key_padding_mask: Buffer<bool>,
}

impl<F: Float> MaskSettings<F> {
    fn new() -> Self {
        MaskSettings {
            causal: false,
            attn: MaskKind::None,
            attn_is_bool: true,
            attn_bool: Buffer::new(),
            attn_float: Buffer::new(),
            key_padding: false,
            key_padding_mask: Buffer::new(),
        }
    }

    fn masks(&self) -> AttnMasks<'_, F> {
        let attn_mask = match (self.attn, self.attn_is_bool) {
            (MaskKind::None, _) => None,
            (_, true) => Some(AttnMask::Bool(self.attn_bool.view())),
            (_, false) => Some(AttnMask::Float(self.attn_float.view())),
        };
        let key_padding_mask = self
            .key_padding
            .then(|| self.key_padding_mask.view().into_dimensionality().expect("2-D key padding mask"));
        AttnMasks { attn_mask, key_padding_mask, is_causal: self.causal }
    }
}

/// Multi-head attention (PyTorch `nn.MultiheadAttention`; Vaswani et al., "Attention
/// Is All You Need", NeurIPS 2017).
///
/// With `E = embed_dim`, `H = num_heads`, `Dh = E/H`, and `W_in = [W_q; W_k; W_v]`:
///
/// `Q = query·W_qᵀ + b_q`, `K = key·W_kᵀ + b_k`, `V = value·W_vᵀ + b_v`; per head `h`
/// (columns `h·Dh..(h+1)·Dh`) `P_h = softmax(Q_h·K_hᵀ/√Dh + mask)` (row-wise),
/// `O_h = dropout(P_h)·V_h`; `output = concat_h(O_h)·W_outᵀ + b_out`.
///
/// Backward, from `G = dL/doutput`: `dW_out = Gᵀ·O`, `dO = G·W_out`; per head
/// `dV_h = P_hᵀ·dO_h`, `dP_h = dO_h·V_hᵀ`, `dS_h = P_h ⊙ (dP_h − rowsum(P_h ⊙ dP_h))`,
/// `dQ_h = dS_h·K_h/√Dh`, `dK_h = dS_hᵀ·Q_h/√Dh`; then `dW_q = dQᵀ·query`,
/// `db_q = Σ_rows dQ`, `dquery = dQ·W_q` (likewise for key and value).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `embed_dim` | required | `>= 1` |
/// | `num_heads` | required | `>= 1`, divides `embed_dim` |
/// | `dropout` (on the attention weights, training only) | 0.0 | `[0, 1)` |
/// | `bias` (`in_proj_bias` and `out_proj.bias`) | `true` | |
/// | `batch_first` | `false` (PyTorch's default) | |
/// | `add_bias_kv`, `add_zero_attn` | `false` | only `false` |
/// | `kdim`, `vdim` | `None` (= `embed_dim`) | only `embed_dim` |
/// | `seed` (of the dropout mask stream) | 0 | any `u64` |
///
/// **Layout.** With `batch_first = false` (PyTorch's default, kept) the inputs are
/// `[L, B, E]` (sequence first): query `[L, B, E]`, key and value `[S, B, E]`. With
/// `batch_first = true` they are `[B, L, E]` and `[B, S, E]`, the layout the rest of
/// ndtrain (batch along axis 0) expects: use it when the [`Trainer`](crate::train::Trainer)
/// or a [`Sequential`](crate::model::Sequential) batches the data. Both run the same
/// kernels. The output has the query's shape. Unbatched (2-D) inputs are not accepted.
///
/// **Parameters**, as PyTorch names them (a `state_dict` maps one to one):
/// `in_proj_weight` `[3E, E]` (Xavier uniform), `in_proj_bias` `[3E]` (zeros),
/// `out_proj.weight` `[E, E]` ([`Init::LinearDefault`]) and `out_proj.bias` `[E]`
/// (zeros); no buffers.
///
/// **Three ways to call it.**
/// 1. [`forward_attention`](Self::forward_attention)`(query, key, value, &masks, mode)`
///    and [`backward_attention`](Self::backward_attention)`(grad)`, which returns
///    `dL/dquery`, `dL/dkey` and `dL/dvalue`;
/// 2. as a [`MultiInputLayer`] with inputs `[query, key, value]`;
/// 3. as a [`Layer`]: self-attention, `query = key = value = x`, whose input gradient
///    is the sum of the three.
///
/// The last two take their masks from the layer ([`set_causal`](Self::set_causal),
/// [`set_attn_mask`](Self::set_attn_mask),
/// [`set_key_padding_mask`](Self::set_key_padding_mask)). When the same array is
/// passed as query, key and value, the three projections run as one matrix product.
///
/// **Masks and deviations.** See [`AttnMasks`]: the causal flag applies the mask itself
/// (PyTorch only accepts `is_causal` as a hint next to an explicit `attn_mask`). A
/// query row whose keys are all masked gives NaN, as PyTorch returns. The attention
/// dropout draws its mask from the layer's own seeded stream (as
/// [`Dropout`](crate::model::Dropout), honouring
/// [`freeze_randomness`](crate::model::freeze_randomness)); the averaged attention
/// weights PyTorch also returns are not computed.
///
/// # Errors
/// * build: [`Error::InvalidParameter`] (`"embed_dim"`, `"num_heads"`, `"dropout"`,
///   `"add_bias_kv"`, `"add_zero_attn"`, `"kdim"`, `"vdim"`), or for given weights
///   [`Error::ShapeMismatch`];
/// * forward: [`Error::ShapeMismatch`] for inputs that are not 3-D with `E` features
///   or disagree on the batch size (key and value must have one shape), and for masks
///   of the wrong shape (`[L, S]` or `[B·H, L, S]`; key padding `[B, S]`);
///   [`Error::EmptyInput`] for a zero batch or sequence length;
///   [`Error::LengthMismatch`] for a `forward_multi` without exactly 3 inputs;
/// * backward: [`Error::InvalidInput`] without a preceding recording forward
///   ([`Mode::Train`], [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] unless `grad_out`
///   has the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::{AttnMasks, MultiheadAttention};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut mha = MultiheadAttention::<f64>::builder(8, 2).batch_first(true).build(&mut rng)?;
/// let x = Array3::from_shape_fn((3, 5, 8), |(b, t, e)| ((b + 2 * t + 3 * e) % 7) as f64 / 7.0).into_dyn();
///
/// // Self-attention as a layer, causal.
/// mha.set_causal(true);
/// let y = mha.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[3, 5, 8]);
/// let dx = mha.backward_input(Array3::<f64>::ones((3, 5, 8)).into_dyn().view())?;
/// assert_eq!(dx.shape(), &[3, 5, 8]);
///
/// // Cross-attention with the explicit API: 4 queries over 5 keys.
/// let q = Array3::<f64>::ones((3, 4, 8)).into_dyn();
/// let out = mha.forward_attention(q.view(), x.view(), x.view(), &AttnMasks::none(), Mode::Train)?;
/// assert_eq!(out.shape(), &[3, 4, 8]);
/// let grads = mha.backward_attention(Array3::<f64>::ones((3, 4, 8)).into_dyn().view())?;
/// assert_eq!(grads.key.shape(), &[3, 5, 8]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.MultiheadAttention")]
#[doc(alias = "attention")]
#[derive(Clone, Debug)]
pub struct MultiheadAttention<F> {
    core: Core<F>,
    settings: MaskSettings<F>,
}

/// Builder of [`MultiheadAttention`]:
/// `MultiheadAttention::builder(64, 4).batch_first(true).dropout(0.1).build(&mut rng)?`.
#[derive(Clone, Copy, Debug)]
pub struct MultiheadAttentionBuilder<F> {
    _float: PhantomData<fn() -> F>,
    embed_dim: usize,
    num_heads: usize,
    dropout: f64,
    bias: bool,
    add_bias_kv: bool,
    add_zero_attn: bool,
    kdim: Option<usize>,
    vdim: Option<usize>,
    batch_first: bool,
    seed: u64,
}

impl<F: Float> MultiheadAttentionBuilder<F> {
    /// Dropout probability on the attention weights, in training (default 0).
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Whether the projections have biases (default `true`).
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }

    /// Inputs `[B, T, E]` (`true`) or `[T, B, E]` (default `false`, as PyTorch).
    pub fn batch_first(mut self, on: bool) -> Self {
        self.batch_first = on;
        self
    }

    /// PyTorch's `add_bias_kv`: only `false` is supported.
    pub fn add_bias_kv(mut self, on: bool) -> Self {
        self.add_bias_kv = on;
        self
    }

    /// PyTorch's `add_zero_attn`: only `false` is supported.
    pub fn add_zero_attn(mut self, on: bool) -> Self {
        self.add_zero_attn = on;
        self
    }

    /// Key feature size: only `None` or `embed_dim` is supported.
    pub fn kdim(mut self, kdim: Option<usize>) -> Self {
        self.kdim = kdim;
        self
    }

    /// Value feature size: only `None` or `embed_dim` is supported.
    pub fn vdim(mut self, vdim: Option<usize>) -> Self {
        self.vdim = vdim;
        self
    }

    /// Seed of the attention-dropout mask stream (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) -> Result<()> {
        let bad = |name, value: f64, expected| Err(Error::InvalidParameter { name, value, expected });
        if self.embed_dim == 0 {
            return bad("embed_dim", 0.0, ">= 1");
        }
        if self.num_heads == 0 || self.embed_dim % self.num_heads != 0 {
            return bad("num_heads", self.num_heads as f64, ">= 1 and a divisor of embed_dim");
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad("dropout", self.dropout, "[0, 1)");
        }
        if self.add_bias_kv {
            return bad("add_bias_kv", 1.0, "false (not implemented)");
        }
        if self.add_zero_attn {
            return bad("add_zero_attn", 1.0, "false (not implemented)");
        }
        for (name, d) in [("kdim", self.kdim), ("vdim", self.vdim)] {
            if let Some(d) = d.filter(|&d| d != self.embed_dim) {
                return bad(name, d as f64, "embed_dim (separate key/value sizes are not implemented)");
            }
        }
        Ok(())
    }

    /// Validates, then draws `in_proj_weight` (Xavier uniform) and `out_proj.weight`
    /// (PyTorch's `Linear` default) from `rng`; biases are zeros.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid hyper-parameter (see the table on
    /// [`MultiheadAttention`]).
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<MultiheadAttention<F>> {
        self.validate()?;
        let e = self.embed_dim;
        let mut w = Array2::zeros((3 * e, e));
        Init::XavierUniform { gain: 1.0 }.fill(w.view_mut().into_dyn(), rng)?;
        let out_proj = Linear::builder(e, e).bias(self.bias).bias_init(Init::Zeros).build(rng)?;
        self.assemble(w, self.bias.then(|| Array1::zeros(3 * e)), out_proj)
    }

    /// Builds with the given weights (e.g. from PyTorch): `in_proj_weight` `[3E, E]`,
    /// `in_proj_bias` `[3E]`, `out_proj_weight` `[E, E]`, `out_proj_bias` `[E]`. The
    /// builder's `bias` is ignored (the biases given decide).
    ///
    /// # Errors
    /// As [`build`](Self::build), and [`Error::ShapeMismatch`] for a tensor of the
    /// wrong shape.
    pub fn build_with_weights(
        self,
        in_proj_weight: Array2<F>,
        in_proj_bias: Option<Array1<F>>,
        out_proj_weight: Array2<F>,
        out_proj_bias: Option<Array1<F>>,
    ) -> Result<MultiheadAttention<F>> {
        self.validate()?;
        let e = self.embed_dim;
        let op = "MultiheadAttention::build_with_weights";
        let check = |expected: &[usize], got: &[usize]| {
            if expected == got {
                Ok(())
            } else {
                Err(Error::ShapeMismatch { op, expected: expected.to_vec(), got: got.to_vec() })
            }
        };
        check(&[3 * e, e], in_proj_weight.shape())?;
        if let Some(b) = &in_proj_bias {
            check(&[3 * e], b.shape())?;
        }
        check(&[e, e], out_proj_weight.shape())?;
        if let Some(b) = &out_proj_bias {
            check(&[e], b.shape())?;
        }
        let w = if in_proj_weight.is_standard_layout() {
            in_proj_weight
        } else {
            in_proj_weight.as_standard_layout().into_owned()
        };
        self.assemble(w, in_proj_bias, Linear::from_weights(out_proj_weight, out_proj_bias)?)
    }

    fn assemble(
        self,
        in_proj_weight: Array2<F>,
        in_proj_bias: Option<Array1<F>>,
        out_proj: Linear<F>,
    ) -> Result<MultiheadAttention<F>> {
        let e = self.embed_dim;
        let dropout = if self.dropout > 0.0 {
            Some(Dropout::builder().p(self.dropout).seed(self.seed).build()?)
        } else {
            None
        };
        let dh = e / self.num_heads;
        Ok(MultiheadAttention {
            core: Core {
                embed_dim: e,
                num_heads: self.num_heads,
                batch_first: self.batch_first,
                scale: F::lit((1.0 / dh as f64).sqrt()),
                in_proj_weight_grad: Array2::zeros((3 * e, e)),
                in_proj_weight,
                in_proj_bias: in_proj_bias.map(|b| {
                    let g = Array1::zeros(b.len());
                    (b, g)
                }),
                out_proj,
                dropout,
                geom: Geom::default(),
                q_shape: [0; 3],
                k_shape: [0; 3],
                inputs: Buffer::new(),
                proj: Buffer::new(),
                probs: Buffer::new(),
                attn: Buffer::new(),
                mask_bool: Buffer::new(),
                mask_float: Buffer::new(),
                mask_key_padding: Buffer::new(),
                grad_probs: Buffer::new(),
                scratch: Buffer::new(),
                grad_proj: Buffer::new(),
                grad_inputs: Buffer::new(),
                grad_avail: [false; 3],
                grad_sum: false,
                pass: Pass::None,
            },
            settings: MaskSettings::new(),
        })
    }
}

impl<F: Float> MultiheadAttention<F> {
    /// Attention with PyTorch's defaults (no dropout, biases, `batch_first = false`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `embed_dim >= 1` and `num_heads` divides it.
    pub fn new<R: Rng + ?Sized>(embed_dim: usize, num_heads: usize, rng: &mut R) -> Result<Self> {
        Self::builder(embed_dim, num_heads).build(rng)
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(embed_dim: usize, num_heads: usize) -> MultiheadAttentionBuilder<F> {
        MultiheadAttentionBuilder {
            _float: PhantomData,
            embed_dim,
            num_heads,
            dropout: 0.0,
            bias: true,
            add_bias_kv: false,
            add_zero_attn: false,
            kdim: None,
            vdim: None,
            batch_first: false,
            seed: 0,
        }
    }

    /// `E`.
    pub fn embed_dim(&self) -> usize {
        self.core.embed_dim
    }

    /// `H`.
    pub fn num_heads(&self) -> usize {
        self.core.num_heads
    }

    /// `E / H`.
    pub fn head_dim(&self) -> usize {
        self.core.head_dim()
    }

    /// Whether inputs are `[B, T, E]`.
    pub fn batch_first(&self) -> bool {
        self.core.batch_first
    }

    /// The attention-dropout probability.
    pub fn dropout(&self) -> f64 {
        self.core.dropout.as_ref().map_or(0.0, |d| d.p())
    }

    /// `in_proj_weight`, `[3E, E]` (rows: query, key, value projections).
    pub fn in_proj_weight(&self) -> ArrayView2<'_, F> {
        self.core.in_proj_weight.view()
    }

    /// `in_proj_bias`, `[3E]`, if any.
    pub fn in_proj_bias(&self) -> Option<ArrayView1<'_, F>> {
        self.core.in_proj_bias.as_ref().map(|(b, _)| b.view())
    }

    /// The gradient of `in_proj_weight` from the last backward.
    pub fn in_proj_weight_grad(&self) -> ArrayView2<'_, F> {
        self.core.in_proj_weight_grad.view()
    }

    /// The gradient of `in_proj_bias` from the last backward.
    pub fn in_proj_bias_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.core.in_proj_bias.as_ref().map(|(_, g)| g.view())
    }

    /// The output projection (`out_proj`), a [`Linear`] `E → E`.
    pub fn out_proj(&self) -> &Linear<F> {
        &self.core.out_proj
    }

    /// Checks a self-attention input and the layer's masks (what `Model::forward`
    /// would reject), for containers that validate before running anything.
    pub(crate) fn check_self_attention(&self, op: &'static str, x: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.validate(op, x, x, x, &self.settings.masks()).map(|_| ())
    }

    /// Applies a causal mask in [`Model::forward`] and
    /// [`MultiInputLayer::forward_multi`] (default `false`).
    pub fn set_causal(&mut self, causal: bool) {
        self.settings.causal = causal;
    }

    /// Whether the layer applies a causal mask.
    pub fn is_causal(&self) -> bool {
        self.settings.causal
    }

    /// The `attn_mask` for [`Model::forward`] and [`MultiInputLayer::forward_multi`]
    /// (copied; `None` removes it). Its shape is checked at each forward.
    pub fn set_attn_mask(&mut self, mask: Option<AttnMask<'_, F>>) {
        let st = &mut self.settings;
        match mask {
            None => st.attn = MaskKind::None,
            Some(AttnMask::Bool(m)) => {
                copy_rows(&m, slice_mut(st.attn_bool.reshape(m.shape())));
                st.attn = MaskKind::Shared;
                st.attn_is_bool = true;
            }
            Some(AttnMask::Float(m)) => {
                copy_rows(&m, slice_mut(st.attn_float.reshape(m.shape())));
                st.attn = MaskKind::Shared;
                st.attn_is_bool = false;
            }
        }
    }

    /// The `key_padding_mask` `[B, S]` for [`Model::forward`] and
    /// [`MultiInputLayer::forward_multi`] (copied; `None` removes it; `true` = padding).
    pub fn set_key_padding_mask(&mut self, mask: Option<ArrayView2<'_, bool>>) {
        let st = &mut self.settings;
        match mask {
            None => st.key_padding = false,
            Some(m) => {
                let shape = [m.nrows(), m.ncols()];
                copy_rows(&m.into_dyn(), slice_mut(st.key_padding_mask.reshape(&shape)));
                st.key_padding = true;
            }
        }
    }

    /// Attention of `query` over `key`/`value` with the given masks (the masks set on
    /// the layer are not used). Returns the output, of the query's shape.
    ///
    /// # Errors
    /// See [`MultiheadAttention`].
    pub fn forward_attention(
        &mut self,
        query: ArrayViewD<'_, F>,
        key: ArrayViewD<'_, F>,
        value: ArrayViewD<'_, F>,
        masks: &AttnMasks<'_, F>,
        mode: Mode,
    ) -> Result<ArrayViewD<'_, F>> {
        self.core.forward("MultiheadAttention::forward_attention", query, key, value, masks, mode)
    }

    /// Back-propagates `grad_out` of the last recording forward: stores the parameter
    /// gradients and returns the gradients of query, key and value.
    ///
    /// # Errors
    /// See [`MultiheadAttention`].
    pub fn backward_attention(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<AttnGrads<'_, F>> {
        self.core.backward(
            "MultiheadAttention::backward_attention",
            grad_out,
            InputGrads::Each([true; 3]),
        )?;
        let grad = |t| self.core.input_grad(t).expect("computed above");
        Ok(AttnGrads { query: grad(0), key: grad(1), value: grad(2) })
    }
}

impl<F: Float> Module<F> for MultiheadAttention<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        self.core.visit(f)
    }
}

impl<F: Float> Model<F> for MultiheadAttention<F> {
    /// Self-attention of `x` (`query = key = value = x`) with the layer's masks.
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let masks = self.settings.masks();
        self.core.forward("MultiheadAttention::forward", x.clone(), x.clone(), x, &masks, mode)
    }

    /// Parameter gradients only.
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.core.backward("MultiheadAttention::backward", grad_out, InputGrads::None)
    }
}

impl<F: Float> Layer<F> for MultiheadAttention<F> {
    /// `dL/dx`, the sum of the query, key and value gradients. Needs a preceding
    /// self-attention forward ([`Model::forward`], or the same array passed three
    /// times).
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.core.backward("MultiheadAttention::backward_input", grad_out, InputGrads::Sum)?;
        let n = self.core.geom.nq() * self.core.embed_dim;
        let all = self.core.grad_inputs.view();
        let all = all.to_slice().expect("contiguous");
        Ok(ArrayViewD::from_shape(IxDyn(&self.core.q_shape), &all[..n]).expect("size"))
    }
}

impl<F: Float> MultiInputLayer<F> for MultiheadAttention<F> {
    /// 3: query, key, value.
    fn num_inputs(&self) -> usize {
        3
    }

    fn forward_multi(&mut self, inputs: &[ArrayViewD<'_, F>], mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let op = "MultiheadAttention::forward_multi";
        if inputs.len() != 3 {
            return Err(Error::LengthMismatch {
                op,
                what: "number of inputs (query, key, value)",
                expected: 3,
                got: inputs.len(),
            });
        }
        let masks = self.settings.masks();
        self.core.forward(op, inputs[0].view(), inputs[1].view(), inputs[2].view(), &masks, mode)
    }

    fn backward_multi(&mut self, grad_out: ArrayViewD<'_, F>, needs: &[bool]) -> Result<()> {
        let op = "MultiheadAttention::backward_multi";
        if needs.len() != 3 {
            return Err(Error::LengthMismatch { op, what: "length of needs", expected: 3, got: needs.len() });
        }
        self.core.backward(op, grad_out, InputGrads::Each([needs[0], needs[1], needs[2]]))
    }

    fn input_grad(&self, k: usize) -> Option<ArrayViewD<'_, F>> {
        self.core.input_grad(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::freeze_randomness;
    use crate::tensor::seeded_rng;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array3, ArrayD, Axis, array};

    /// `in_proj = [I; I; I]`, `out_proj = I`, no biases: `Q = K = V = x`, output = `O`.
    fn identity_attention(e: usize, heads: usize) -> MultiheadAttention<f64> {
        let eye = Array2::<f64>::eye(e);
        let w = ndarray::concatenate(Axis(0), &[eye.view(), eye.view(), eye.view()]).unwrap();
        MultiheadAttention::builder(e, heads)
            .batch_first(true)
            .build_with_weights(w, None, eye, None)
            .unwrap()
    }

    fn rand3(shape: (usize, usize, usize), seed: u64) -> ArrayD<f64> {
        let mut rng = seeded_rng(seed);
        Array3::from_shape_simple_fn(shape, || crate::model::init::uniform01(&mut rng) * 2.0 - 1.0).into_dyn()
    }

    /// x₀ = (1, 0), x₁ = (0, 1), one head of dimension 2: scores `xᵢ·xⱼ/√2`, i.e.
    /// `[[a, 0], [0, a]]` with `a = 1/√2`; row 0 of the softmax is
    /// `(σ(a), 1 − σ(a))` with `σ(a) = 1/(1 + e^(−0.70710678)) = 0.6697615493266569`,
    /// so `o₀ = (σ(a), 1 − σ(a))` and `o₁ = (1 − σ(a), σ(a))`.
    /// Causal: query 0 sees only key 0, `o₀ = x₀`. Key 1 padded: `o₀ = o₁ = x₀`.
    #[test]
    fn hand_computed_two_tokens() {
        let mut m = identity_attention(2, 1);
        let x = array![[[1.0, 0.0], [0.0, 1.0]]].into_dyn();
        let sig = 0.6697615493266569;
        assert_abs_diff_eq!(1.0 / (1.0 + (-0.5f64.sqrt()).exp()), sig, epsilon = 1e-15);
        let y = m.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_abs_diff_eq!(y, array![[[sig, 1.0 - sig], [1.0 - sig, sig]]].into_dyn(), epsilon = 1e-15);
        m.set_causal(true);
        let y = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
        assert_abs_diff_eq!(y, array![[[1.0, 0.0], [1.0 - sig, sig]]].into_dyn(), epsilon = 1e-15);
        m.set_causal(false);
        let pad = array![[false, true]];
        m.set_key_padding_mask(Some(pad.view()));
        let y = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
        assert_abs_diff_eq!(y, array![[[1.0, 0.0], [1.0, 0.0]]].into_dyn(), epsilon = 1e-15);
        // A float mask of -inf on key 1 is the same; +ln 2 on key 1 doubles its weight.
        m.set_key_padding_mask(None);
        let minus_inf = array![[0.0, f64::NEG_INFINITY], [0.0, f64::NEG_INFINITY]].into_dyn();
        m.set_attn_mask(Some(AttnMask::Float(minus_inf.view())));
        assert_abs_diff_eq!(m.forward(x.view(), Mode::Eval).unwrap()[[0, 1, 0]], 1.0, epsilon = 1e-15);
        let ln2 = array![[0.0, 2f64.ln()], [0.0, 2f64.ln()]].into_dyn();
        m.set_attn_mask(Some(AttnMask::Float(ln2.view())));
        let y = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
        let a = 0.5f64.sqrt();
        let p01 = 2.0 / (a.exp() + 2.0); // weights e^a and 2·e^0 on keys 0 and 1
        assert_abs_diff_eq!(y[[0, 0, 1]], p01, epsilon = 1e-15);
    }

    /// The same attention as [`hand_computed_two_tokens`], backward with `G = e₀` on
    /// output 0 only: `L = o₀[0] = p₀₀·1 + p₀₁·0 = σ(a)` with `a = s₀₀ − s₀₁`. Through the
    /// identity projections `dL/dx₁` gets only the key and value paths:
    /// value: `p₀₁·e₀ = (1 − σ)·(1, 0)`; key: `dL/ds₀₁ = −σ(1 − σ)` times
    /// `∂s₀₁/∂x₁ = x₀/√2`, so `dL/dx₁ = ((1 − σ) − σ(1 − σ)/√2, 0)`.
    #[test]
    fn hand_computed_backward() {
        let mut m = identity_attention(2, 1);
        let x = array![[[1.0, 0.0], [0.0, 1.0]]].into_dyn();
        m.forward(x.view(), Mode::Train).unwrap();
        let g = array![[[1.0, 0.0], [0.0, 0.0]]].into_dyn();
        let dx = m.backward_input(g.view()).unwrap().to_owned();
        let sig = 0.6697615493266569;
        let expected = (1.0 - sig) - sig * (1.0 - sig) * 0.5f64.sqrt();
        assert_abs_diff_eq!(dx[[0, 1, 0]], expected, epsilon = 1e-15);
        assert_abs_diff_eq!(dx[[0, 1, 1]], 0.0, epsilon = 1e-15);
        // out_proj's gradient: dW_out = Gᵀ·O has row 0 = o₀ = (σ, 1 − σ).
        let dw = m.out_proj().weight_grad().to_owned();
        assert_abs_diff_eq!(dw.row(0).to_owned(), array![sig, 1.0 - sig], epsilon = 1e-15);
        assert_abs_diff_eq!(dw.row(1).to_owned(), array![0.0, 0.0], epsilon = 1e-15);
    }

    #[test]
    fn fully_masked_rows_are_nan_as_in_torch() {
        let mut m =
            MultiheadAttention::<f64>::builder(4, 2).batch_first(true).build(&mut seeded_rng(0)).unwrap();
        let x = rand3((2, 3, 4), 1);
        let pad = array![[true, true, true], [false, true, false]];
        m.set_key_padding_mask(Some(pad.view()));
        let y = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
        assert!(y.slice(s![0, .., ..]).iter().all(|v| v.is_nan()));
        assert!(y.slice(s![1, .., ..]).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn layouts_agree() {
        let mut rng = seeded_rng(3);
        let mut bf = MultiheadAttention::<f64>::builder(8, 2).batch_first(true).build(&mut rng).unwrap();
        let mut sf = bf.clone();
        sf.core.batch_first = false;
        assert!(!sf.batch_first());
        for m in [&mut bf, &mut sf] {
            m.set_causal(true);
        }
        let x = rand3((3, 5, 8), 4); // [B, T, E]
        let xt = x.view().permuted_axes(IxDyn(&[1, 0, 2])); // [T, B, E], not contiguous
        let y_bf = bf.forward(x.view(), Mode::Train).unwrap().to_owned();
        let y_sf = sf.forward(xt.clone(), Mode::Train).unwrap().to_owned();
        assert_abs_diff_eq!(y_bf, y_sf.view().permuted_axes(IxDyn(&[1, 0, 2])), epsilon = 1e-14);
        let g = rand3((3, 5, 8), 5);
        let d_bf = bf.backward_input(g.view()).unwrap().to_owned();
        let d_sf = sf.backward_input(g.view().permuted_axes(IxDyn(&[1, 0, 2]))).unwrap().to_owned();
        assert_abs_diff_eq!(d_bf, d_sf.view().permuted_axes(IxDyn(&[1, 0, 2])), epsilon = 1e-14);
        assert_abs_diff_eq!(bf.in_proj_weight_grad(), sf.in_proj_weight_grad(), epsilon = 1e-13);
    }

    /// One array for query, key and value (one packed projection) or three equal copies
    /// (three projections): same output and parameter gradients; the layer's input
    /// gradient is the sum of the three.
    #[test]
    fn packed_and_separate_agree() {
        let mut a =
            MultiheadAttention::<f64>::builder(8, 4).batch_first(true).build(&mut seeded_rng(6)).unwrap();
        let mut b = a.clone();
        let x = rand3((2, 6, 8), 7);
        let (k, v) = (x.clone(), x.clone());
        let g = rand3((2, 6, 8), 8);
        let ya = a.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert!(a.core.geom.packed);
        let dx = a.backward_input(g.view()).unwrap().to_owned();
        let yb = b
            .forward_attention(x.view(), k.view(), v.view(), &AttnMasks::none(), Mode::Train)
            .unwrap()
            .to_owned();
        assert!(!b.core.geom.packed);
        assert_abs_diff_eq!(ya, yb, epsilon = 1e-14);
        let gb = b.backward_attention(g.view()).unwrap();
        let sum = &gb.query + &gb.key + &gb.value;
        assert_abs_diff_eq!(dx, sum, epsilon = 1e-14);
        for ((na, ga), (nb, gb)) in a.gradients().iter().zip(b.gradients().iter()) {
            assert_eq!(na, nb);
            assert_abs_diff_eq!(ga, gb, epsilon = 1e-13);
        }
        // After a separate forward, the summed input gradient is refused.
        let err = b.backward_input(g.view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "MultiheadAttention::backward_input", .. }), "{err}");
    }

    #[test]
    fn f32_and_f64_agree() {
        let mut m64 =
            MultiheadAttention::<f64>::builder(16, 4).batch_first(true).build(&mut seeded_rng(9)).unwrap();
        let mut m32 =
            MultiheadAttention::<f32>::builder(16, 4).batch_first(true).build(&mut seeded_rng(9)).unwrap();
        m64.set_causal(true);
        m32.set_causal(true);
        let x = rand3((3, 20, 16), 10) * 3.0; // wide scores: the f32 exp sees large negatives
        let g = rand3((3, 20, 16), 11);
        let y64 = m64.forward(x.view(), Mode::Train).unwrap().to_owned();
        let y32 = m32.forward(x.mapv(|v| v as f32).view(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(y64, y32, epsilon = 1e-5);
        let d64 = m64.backward_input(g.view()).unwrap().to_owned();
        let d32 = m32.backward_input(g.mapv(|v| v as f32).view()).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(d64, d32, epsilon = 1e-4);
        assert_abs_diff_eq!(
            m64.in_proj_weight_grad(),
            m32.in_proj_weight_grad().mapv(f64::from),
            epsilon = 1e-3
        );
    }

    #[test]
    fn f32_exp_is_accurate() {
        // Relative error against f64 exp on a fine grid of [-87.3, 0].
        let mut worst = 0.0f64;
        let mut x = 0.0f32;
        while x > -87.3 {
            let e = exp_nonpositive_f32(x) as f64;
            let want = (x as f64).exp();
            worst = worst.max((e - want).abs() / want);
            x -= 0.0137;
        }
        assert!(worst < 2.5e-7, "{worst}"); // ~2 ulp
        assert_eq!(exp_nonpositive_f32(0.0), 1.0);
        assert_eq!(exp_nonpositive_f32(-88.0), 0.0);
        assert_eq!(exp_nonpositive_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive_f32(f32::NAN).is_nan());
    }

    #[test]
    fn invalid_hyper_parameters() {
        let mut rng = seeded_rng(0);
        let b = || MultiheadAttention::<f64>::builder(8, 2);
        for (r, name) in [
            (MultiheadAttention::<f64>::builder(0, 1).build(&mut rng), "embed_dim"),
            (MultiheadAttention::<f64>::builder(8, 0).build(&mut rng), "num_heads"),
            (MultiheadAttention::<f64>::builder(8, 3).build(&mut rng), "num_heads"),
            (b().dropout(1.0).build(&mut rng), "dropout"),
            (b().dropout(-0.1).build(&mut rng), "dropout"),
            (b().dropout(f64::NAN).build(&mut rng), "dropout"),
            (b().add_bias_kv(true).build(&mut rng), "add_bias_kv"),
            (b().add_zero_attn(true).build(&mut rng), "add_zero_attn"),
            (b().kdim(Some(4)).build(&mut rng), "kdim"),
            (b().vdim(Some(5)).build(&mut rng), "vdim"),
        ] {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(b().kdim(Some(8)).vdim(Some(8)).build(&mut rng).is_ok());
        let err = b()
            .build_with_weights(Array2::zeros((24, 8)), Some(Array1::zeros(23)), Array2::zeros((8, 8)), None)
            .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { expected, got, .. } if expected == [24] && got == [23]));
        let err =
            b().build_with_weights(Array2::zeros((8, 8)), None, Array2::zeros((8, 8)), None).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_the_layer_unchanged() {
        let mut m =
            MultiheadAttention::<f64>::builder(8, 2).batch_first(true).build(&mut seeded_rng(1)).unwrap();
        let x = rand3((2, 5, 8), 2);
        let err = m.backward(x.view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "MultiheadAttention::backward", .. }), "{err}");
        let op = "MultiheadAttention::forward";
        let err = m.forward(rand3((2, 5, 6), 0).view(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![0, 0, 8], got: vec![2, 5, 6] });
        let err = m.forward(Array2::<f64>::zeros((5, 8)).into_dyn().view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }));
        let err = m.forward(ArrayD::zeros(IxDyn(&[2, 0, 8])).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::EmptyInput { .. }));
        // Cross-attention: batch sizes and key/value shapes must agree.
        let op = "MultiheadAttention::forward_attention";
        let (q, k) = (rand3((2, 3, 8), 3), rand3((3, 4, 8), 4));
        let err =
            m.forward_attention(q.view(), k.view(), k.view(), &AttnMasks::none(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![2, 0, 8], got: vec![3, 4, 8] });
        let (k, v) = (rand3((2, 4, 8), 4), rand3((2, 5, 8), 5));
        let err =
            m.forward_attention(q.view(), k.view(), v.view(), &AttnMasks::none(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![2, 4, 8], got: vec![2, 5, 8] });
        // Mask shapes: [L, S] or [B·H, L, S]; key padding [B, S].
        let bad = ArrayD::from_elem(IxDyn(&[3, 5]), false);
        let masks = AttnMasks::none().attn_mask(AttnMask::Bool(bad.view()));
        let err = m.forward_attention(q.view(), k.view(), k.view(), &masks, Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![3, 4], got: vec![3, 5] });
        let bad = ArrayD::from_elem(IxDyn(&[2, 3, 4]), 0.0);
        let masks = AttnMasks::none().attn_mask(AttnMask::Float(bad.view()));
        let err = m.forward_attention(q.view(), k.view(), k.view(), &masks, Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![4, 3, 4], got: vec![2, 3, 4] });
        let pad = Array2::from_elem((2, 3), false);
        let masks = AttnMasks::none().key_padding_mask(pad.view());
        let err = m.forward_attention(q.view(), k.view(), k.view(), &masks, Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![2, 4], got: vec![2, 3] });
        // A mask set on the layer is checked at the forward.
        m.set_key_padding_mask(Some(pad.view()));
        assert!(matches!(m.forward(x.view(), Mode::Train), Err(Error::ShapeMismatch { .. })));
        m.set_key_padding_mask(None);

        // A good forward, then failures: the backward of the good one still works.
        let y = m.forward(x.view(), Mode::Train).unwrap().to_owned();
        let g = rand3((2, 5, 8), 6);
        let dx = m.backward_input(g.view()).unwrap().to_owned();
        let grads = m.gradients();
        assert!(m.forward(rand3((2, 5, 4), 7).view(), Mode::Train).is_err());
        let err = m.backward_input(rand3((2, 4, 8), 8).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "MultiheadAttention::backward_input",
                expected: vec![2, 5, 8],
                got: vec![2, 4, 8]
            }
        );
        assert_eq!(m.backward_input(g.view()).unwrap(), dx);
        assert_eq!(m.gradients(), grads);
        assert_eq!(m.forward(x.view(), Mode::Eval).unwrap(), y);
        let err = m.backward(g.view()).unwrap_err();
        assert!(err.to_string().contains("Mode::Eval"), "{err}");
        // MultiInputLayer: exactly three inputs, three flags.
        let err = m.forward_multi(&[x.view(), x.view()], Mode::Train).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { expected: 3, got: 2, .. }));
        m.forward_multi(&[x.view(), x.view(), x.view()], Mode::Train).unwrap();
        let err = m.backward_multi(g.view(), &[true]).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { expected: 3, got: 1, .. }));
        assert_eq!(m.num_inputs(), 3);
    }

    #[test]
    fn parameters_and_init_follow_torch() {
        let mut m = MultiheadAttention::<f64>::new(16, 4, &mut seeded_rng(2)).unwrap();
        let params = m.parameters();
        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
        let shapes: Vec<&[usize]> = params.iter().map(|(_, p)| p.shape()).collect();
        assert_eq!(shapes, [&[48, 16][..], &[48], &[16, 16], &[16]]);
        // Xavier uniform on [3E, E]: bound √(6/(E + 3E)); out_proj: U(±1/√E); biases 0.
        let bound = (6.0f64 / 64.0).sqrt();
        assert!(m.in_proj_weight().iter().all(|w| w.abs() <= bound));
        assert!(m.in_proj_weight().iter().any(|w| w.abs() > 0.9 * bound));
        assert!(m.out_proj().weight().iter().all(|w| w.abs() <= 0.25));
        assert!(params[1].1.iter().chain(params[3].1.iter()).all(|&b| b == 0.0));
        assert!(!m.batch_first() && m.dropout() == 0.0 && m.head_dim() == 4 && m.num_heads() == 4);
        let mut nb = MultiheadAttention::<f64>::builder(16, 4).bias(false).build(&mut seeded_rng(2)).unwrap();
        let names: Vec<String> = nb.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["in_proj_weight", "out_proj.weight"]);
        let ids: Vec<usize> = {
            let mut v = Vec::new();
            nb.visit_params(&mut |p, _, _| {
                v.push(p.id);
                Ok(())
            })
            .unwrap();
            v
        };
        assert_eq!(ids, [0, 1]);
    }

    #[test]
    fn attention_dropout_trains_and_evaluates() {
        let mut m = MultiheadAttention::<f64>::builder(8, 2)
            .batch_first(true)
            .dropout(0.5)
            .seed(4)
            .build(&mut seeded_rng(3))
            .unwrap();
        assert_eq!(m.dropout(), 0.5);
        let x = rand3((2, 6, 8), 1);
        let a = m.forward(x.view(), Mode::Train).unwrap().to_owned();
        let b = m.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert!((&a - &b).iter().any(|d| d.abs() > 1e-6), "fresh masks per training forward");
        let e1 = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
        let e2 = m.forward(x.view(), Mode::EvalGrad).unwrap().to_owned();
        assert_eq!(e1, e2);
        m.backward(x.view()).unwrap();
        let _frozen = freeze_randomness();
        let c = m.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(m.forward(x.view(), Mode::Train).unwrap(), c);
    }

    #[test]
    fn buffers_are_reused() {
        let mut m =
            MultiheadAttention::<f32>::builder(8, 2).batch_first(true).build(&mut seeded_rng(1)).unwrap();
        m.set_causal(true);
        let mut step = |b: usize| {
            let x = Array3::<f32>::from_elem((b, 7, 8), 0.5).into_dyn();
            let p = m.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = m.backward_input(x.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(4);
        let caps = |m: &MultiheadAttention<f32>| (m.core.proj.capacity(), m.core.probs.capacity());
        assert_eq!(step(2), first);
        assert_eq!(step(4), first);
        assert_eq!(caps(&m), (4 * 7 * 24, 4 * 2 * 7 * 7));
    }

    #[test]
    fn is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<MultiheadAttention<f32>>();
        send_sync::<MultiheadAttentionBuilder<f64>>();
        send_sync::<AttnMasks<'static, f64>>();
    }
}
