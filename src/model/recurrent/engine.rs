//! Forward pass and backward through time of every recurrent cell, on time-major
//! buffers `[T, B, ·]` the layer owns.
//!
//! Per layer and direction the forward pass keeps the activated gates of every step
//! (`gates`, `[T, B, G·H]`: RNN `h`; LSTM `i, f, g, o`; GRU `r, z, n`) and, for LSTM
//! the cell states `c` and for GRU `W_hn h + b_hn` (`cells`, `[T, B, H]`); the hidden
//! states are the layer's output `ys[l]` itself. That is all backward needs.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2, Ix3, ShapeBuilder};

use super::{Cell, DirParams, Recurrent, RecurrentKind};
use crate::error::{Error, Result};
use crate::model::layers::{Pass, copy_into, slice_mut};
use crate::model::{Mode, Model};
use crate::tensor::{Buffer, Float};

/// Every buffer of a recurrent layer, reused between batches.
#[derive(Clone, Debug)]
pub(crate) struct State<F> {
    pub(super) pass: Pass,
    /// Sequence length and batch of the last forward.
    t: usize,
    b: usize,
    /// The input of layer 0, time-major `[T, B, input_size]`.
    x0: Buffer<F>,
    /// Input of layer `l ≥ 1` after dropout (only when dropout ran).
    xs: Vec<Buffer<F>>,
    /// Output of every layer, `[T, B, D·H]`: the hidden states of every step.
    ys: Vec<Buffer<F>>,
    /// Per layer and direction: activated gates `[T, B, G·H]`.
    gates: Vec<Buffer<F>>,
    /// Per layer and direction: LSTM cell states / GRU `W_hn h + b_hn`, `[T, B, H]`.
    cells: Vec<Buffer<F>>,
    /// Per layer and direction: LSTM `tanh(c_t)`, `[T, B, H]` (kept for backward:
    /// `tanh` is the costliest operation of the step).
    tanh_c: Vec<Buffer<F>>,
    /// Whether the last forward applied dropout between layers.
    dropped: bool,
    /// The output in batch-first layout, `[B, T, D·H]`.
    out: Buffer<F>,
    pub(super) h_n: Buffer<F>,
    pub(super) c_n: Buffer<F>,
    /// The initial states the last forward used (a copy: the user may set others
    /// before `backward`), and whether it used any.
    h0: Buffer<F>,
    c0: Buffer<F>,
    with_state: bool,
    /// Whether the last backward computed `h0_grad` (and `c0_grad`).
    pub(super) state_grad: bool,
    pub(super) h0_grad: Buffer<F>,
    pub(super) c0_grad: Buffer<F>,
    /// Gradient of the current layer's output / input, time-major.
    dy: Buffer<F>,
    dx: Buffer<F>,
    /// Pre-activation gradients of every step, `[T, B, G·H]` (GRU: `dah` is the
    /// recurrent side, whose n block is `da_n ⊙ r`).
    da: Buffer<F>,
    dah: Buffer<F>,
    /// Per-step `[B, H]` scratch: `dL/dh_t`, the carry `dL/dh_{t−1}`, the carry `dL/dc`.
    dh: Buffer<F>,
    carry: Buffer<F>,
    dc: Buffer<F>,
    /// GRU's per-step recurrent product `[B, 3H]`.
    hp: Buffer<F>,
    /// The bias added to the input projection, `[G·H]`.
    bias: Buffer<F>,
    /// The input gradient in batch-first layout.
    grad_in: Buffer<F>,
}

impl<F: Float> State<F> {
    pub(super) fn new(layers: usize, dirs: usize, hidden: usize) -> Self {
        let bufs = |n: usize| (0..n).map(|_| Buffer::new()).collect::<Vec<_>>();
        let mut st = State {
            pass: Pass::None,
            t: 0,
            b: 0,
            x0: Buffer::new(),
            xs: bufs(layers),
            ys: bufs(layers),
            gates: bufs(layers * dirs),
            cells: bufs(layers * dirs),
            tanh_c: bufs(layers * dirs),
            dropped: false,
            out: Buffer::new(),
            h_n: Buffer::new(),
            c_n: Buffer::new(),
            h0: Buffer::new(),
            c0: Buffer::new(),
            with_state: false,
            state_grad: false,
            h0_grad: Buffer::new(),
            c0_grad: Buffer::new(),
            dy: Buffer::new(),
            dx: Buffer::new(),
            da: Buffer::new(),
            dah: Buffer::new(),
            dh: Buffer::new(),
            carry: Buffer::new(),
            dc: Buffer::new(),
            hp: Buffer::new(),
            bias: Buffer::new(),
            grad_in: Buffer::new(),
        };
        st.h_n.reshape(&[layers * dirs, 0, hidden]);
        st.c_n.reshape(&[layers * dirs, 0, hidden]);
        st
    }

    /// Capacities of the output, top layer output, first gates, `da` and input-gradient
    /// buffers (buffer-reuse tests).
    #[cfg(test)]
    pub(super) fn capacities(&self) -> [usize; 5] {
        let top = self.ys.len() - 1;
        [
            self.out.capacity(),
            self.ys[top].capacity(),
            self.gates[0].capacity(),
            self.da.capacity(),
            self.grad_in.capacity(),
        ]
    }

    /// `dL/dinput` of the last `backward_input`, in the input's layout.
    pub(super) fn input_grad(&self, batch_first: bool) -> ArrayViewD<'_, F> {
        if batch_first { self.grad_in.view() } else { self.dx.view() }
    }
}

/// The contiguous contents of a buffer.
fn data<F: Float>(b: &Buffer<F>) -> &[F] {
    b.view().to_slice().expect("buffer views are contiguous")
}

fn mat<F>(s: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &s[..rows * cols]).expect("slice holds rows × cols")
}

fn mat_mut<F>(s: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut s[..rows * cols]).expect("slice holds rows × cols")
}

/// `rows × cols` with rows `stride` apart (a direction's block of `[·, D·H]` rows).
fn strided<F>(s: &[F], rows: usize, cols: usize, stride: usize) -> ArrayView2<'_, F> {
    let len = (rows - 1) * stride + cols;
    ArrayView2::from_shape((rows, cols).strides((stride, 1)), &s[..len])
        .expect("slice holds the strided rows")
}

/// Step `cur` (mutable) and step `prev` (shared) of a buffer of steps of `step` elements.
fn two_steps<F>(s: &mut [F], step: usize, cur: usize, prev: usize) -> (&mut [F], &[F]) {
    if prev < cur {
        let (a, b) = s.split_at_mut(cur * step);
        (&mut b[..step], &a[prev * step..(prev + 1) * step])
    } else {
        let (a, b) = s.split_at_mut(prev * step);
        (&mut a[cur * step..(cur + 1) * step], &b[..step])
    }
}

/// `dst[i, j, :] = src[j, i, :]` for `src` `[n0, n1, w]` (swaps the first two axes).
fn swap01<F: Copy>(src: &[F], n0: usize, n1: usize, w: usize, dst: &mut [F]) {
    for i in 0..n0 {
        for j in 0..n1 {
            dst[(j * n0 + i) * w..][..w].copy_from_slice(&src[(i * n1 + j) * w..][..w]);
        }
    }
}

/// Copies `x` (`[B, T, w]` when `batch_first`, else `[T, B, w]`, any layout) into
/// `dst` as `[T, B, w]`.
fn copy_time_major<F: Float>(x: ArrayView3<'_, F>, batch_first: bool, dst: &mut [F]) {
    let x = if batch_first { x.permuted_axes([1, 0, 2]) } else { x };
    let w = x.shape()[2];
    for (d, row) in dst.chunks_exact_mut(w).zip(x.rows()) {
        match row.as_slice() {
            Some(s) => d.copy_from_slice(s),
            None => d.iter_mut().zip(row.iter()).for_each(|(d, &v)| *d = v),
        }
    }
}

/// Column sums of the rows (`width` wide) of `m`, into `out`.
fn col_sums<F: Float>(m: &[F], width: usize, out: &mut Array1<F>) {
    let o = out.as_slice_mut().expect("parameter arrays are contiguous");
    o.fill(F::zero());
    for row in m.chunks_exact(width) {
        o.iter_mut().zip(row).for_each(|(o, &v)| *o += v);
    }
}

/// Entry `k` (`n` elements) of an initial state `[num_layers·D, B, H]`, if one is used.
fn state_of<F: Float>(s: &Buffer<F>, used: bool, k: usize, n: usize) -> Option<&[F]> {
    used.then(|| &data(s)[k * n..(k + 1) * n])
}

/// The logistic sigmoid. `exp(−x)` overflowing to `+∞` gives the right limit 0, so no
/// branch is needed (a branch on the sign made the LSTM gate loop markedly slower).
#[inline]
fn sigmoid<F: Float>(x: F) -> F {
    F::one() / (F::one() + (-x).exp())
}

/// Sizes of one direction's pass.
#[derive(Clone, Copy, Debug)]
struct Dims {
    /// Sequence length, batch, hidden size, input width.
    t: usize,
    b: usize,
    h: usize,
    input: usize,
    /// Number of directions and this direction (0 forward, 1 reverse).
    dirs: usize,
    d: usize,
}

impl Dims {
    /// Time index of processing step `s` (the reverse direction runs from `T − 1`).
    fn time(&self, s: usize) -> usize {
        if self.d == 0 { s } else { self.t - 1 - s }
    }

    /// Time index of the step before processing step `s > 0`.
    fn prev(&self, s: usize) -> Option<usize> {
        match s {
            0 => None,
            _ if self.d == 0 => Some(s - 1),
            _ => Some(self.t - s),
        }
    }
}

/// The previous hidden state: a slice starting at row 0's first element, rows
/// `stride` apart (`h_{t−1}` in the output, or `h_0`).
#[derive(Clone, Copy)]
struct Hidden<'a, F> {
    s: &'a [F],
    stride: usize,
}

impl<'a, F> Hidden<'a, F> {
    fn row(&self, b: usize, h: usize) -> &'a [F] {
        &self.s[b * self.stride..][..h]
    }
    fn mat(&self, rows: usize, h: usize) -> ArrayView2<'a, F> {
        strided(self.s, rows, h, self.stride)
    }
}

/// What one direction's backward writes besides the parameter gradients.
struct Grads<'a, F> {
    /// `dL/d(layer input)`, and whether to add to it (second direction).
    dx: Option<(&'a mut [F], bool)>,
    h0: Option<&'a mut [F]>,
    c0: Option<&'a mut [F]>,
}

/// Per-direction scratch of the backward pass.
struct Scratch<'a, F> {
    da: &'a mut [F],
    dah: &'a mut [F],
    dh: &'a mut [F],
    carry: &'a mut [F],
    dc: &'a mut [F],
}

/// Forward pass of one layer and direction: fills `gates`, `cells` and this
/// direction's block of `y`.
#[allow(clippy::too_many_arguments)]
fn forward_direction<F: Float>(
    cell: Cell,
    p: &DirParams<F>,
    dm: Dims,
    x: &[F],
    y: &mut [F],
    gates: &mut [F],
    cells: &mut [F],
    tanh_c: &mut [F],
    h0: Option<&[F]>,
    c0: Option<&[F]>,
    hp: &mut [F],
    bias: &mut [F],
) {
    let Dims { t, b, h, input, dirs, d } = dm;
    let gh = cell.gates() * h;
    let (dh, step_g, step_h) = (dirs * h, b * cell.gates() * h, b * h);
    let step_y = b * dh;
    let (b_ih, b_hh) = (p.b_ih.as_slice().expect("contiguous"), p.b_hh.as_slice().expect("contiguous"));
    // b_ih + b_hh, except GRU's b_hn, which sits inside r ⊙ (W_hn h + b_hn).
    for (j, v) in bias.iter_mut().enumerate() {
        *v = if cell == Cell::Gru && j >= 2 * h { b_ih[j] } else { b_ih[j] + b_hh[j] };
    }
    for row in gates.chunks_exact_mut(gh) {
        row.copy_from_slice(bias);
    }
    // The input projections of every step in one product: gates += X W_ihᵀ.
    general_mat_mul(F::one(), &mat(x, t * b, input), &p.w_ih.t(), F::one(), &mut mat_mut(gates, t * b, gh));
    let b_hn = &b_hh[gh.saturating_sub(h)..];

    for s in 0..t {
        let tt = dm.time(s);
        let prev = dm.prev(s);
        let (ycur, hprev) = match prev {
            Some(pv) => {
                let (cur, p) = two_steps(y, step_y, tt, pv);
                (cur, Some(Hidden { s: &p[d * h..], stride: dh }))
            }
            None => (&mut y[tt * step_y..(tt + 1) * step_y], h0.map(|s| Hidden { s, stride: h })),
        };
        let a = &mut gates[tt * step_g..(tt + 1) * step_g];
        // The recurrent product of this step.
        match (cell, hprev) {
            (Cell::Gru, Some(hm)) => {
                general_mat_mul(F::one(), &hm.mat(b, h), &p.w_hh.t(), F::zero(), &mut mat_mut(hp, b, gh))
            }
            (Cell::Gru, None) => hp.fill(F::zero()),
            (_, Some(hm)) => {
                general_mat_mul(F::one(), &hm.mat(b, h), &p.w_hh.t(), F::one(), &mut mat_mut(a, b, gh))
            }
            (_, None) => {}
        }
        let (ccur, cprev): (&mut [F], Option<&[F]>) = match (cell, prev) {
            (Cell::Tanh | Cell::Relu, _) => (&mut [], None),
            (Cell::Lstm, Some(pv)) => {
                let (c, p) = two_steps(cells, step_h, tt, pv);
                (c, Some(p))
            }
            (_, _) => {
                (&mut cells[tt * step_h..(tt + 1) * step_h], if cell == Cell::Lstm { c0 } else { None })
            }
        };
        for bi in 0..b {
            let arow = &mut a[bi * gh..(bi + 1) * gh];
            let yrow = &mut ycur[bi * dh + d * h..][..h];
            match cell {
                Cell::Tanh => arow.iter_mut().zip(yrow).for_each(|(a, y)| {
                    *a = a.tanh();
                    *y = *a;
                }),
                Cell::Relu => arow.iter_mut().zip(yrow).for_each(|(a, y)| {
                    *a = a.max(F::zero());
                    *y = *a;
                }),
                Cell::Lstm => {
                    let crow = &mut ccur[bi * h..][..h];
                    let tcrow = &mut tanh_c[(tt * b + bi) * h..][..h];
                    let (ig, rest) = arow.split_at_mut(h);
                    let (fg, rest) = rest.split_at_mut(h);
                    let (gg, og) = rest.split_at_mut(h);
                    let cp = cprev.map(|c| &c[bi * h..][..h]);
                    for j in 0..h {
                        let (i, f, g, o) = (sigmoid(ig[j]), sigmoid(fg[j]), gg[j].tanh(), sigmoid(og[j]));
                        (ig[j], fg[j], gg[j], og[j]) = (i, f, g, o);
                        // c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c')
                        let c = match cp {
                            Some(cp) => f * cp[j] + i * g,
                            None => i * g,
                        };
                        let tc = c.tanh();
                        (crow[j], tcrow[j]) = (c, tc);
                        yrow[j] = o * tc;
                    }
                }
                Cell::Gru => {
                    let hprow = &hp[bi * gh..(bi + 1) * gh];
                    let hnrow = &mut ccur[bi * h..][..h];
                    let (rg, rest) = arow.split_at_mut(h);
                    let (zg, ng) = rest.split_at_mut(h);
                    let hpr = hprev.map(|hm| hm.row(bi, h));
                    for j in 0..h {
                        let r = sigmoid(rg[j] + hprow[j]);
                        let z = sigmoid(zg[j] + hprow[h + j]);
                        let hn = hprow[2 * h + j] + b_hn[j];
                        let n = (ng[j] + r * hn).tanh();
                        // h' = (1 − z) ⊙ n + z ⊙ h, evaluated as PyTorch does: (h − n) ⊙ z + n
                        let hprev_j = hpr.map_or(F::zero(), |hr| hr[j]);
                        yrow[j] = (hprev_j - n) * z + n;
                        (rg[j], zg[j], ng[j], hnrow[j]) = (r, z, n, hn);
                    }
                }
            }
        }
    }
}

/// Backward through time of one layer and direction: the parameter gradients of
/// `p`, and `dL/d(layer input)` / `dL/dh_0` / `dL/dc_0` as `out` asks.
#[allow(clippy::too_many_arguments)]
fn backward_direction<F: Float>(
    cell: Cell,
    p: &mut DirParams<F>,
    dm: Dims,
    bias: bool,
    x: &[F],
    y: &[F],
    gates: &[F],
    cells: &[F],
    tanh_c: &[F],
    dy: &[F],
    h0: Option<&[F]>,
    c0: Option<&[F]>,
    sc: Scratch<'_, F>,
    out: Grads<'_, F>,
) {
    let Dims { t, b, h, input, dirs, d } = dm;
    let gh = cell.gates() * h;
    let (dhw, step_g, step_h) = (dirs * h, b * gh, b * h);
    let step_y = b * dhw;
    let gru = cell == Cell::Gru;
    let Scratch { da, dah, dh: dhv, carry, dc } = sc;
    carry.fill(F::zero());
    dc.fill(F::zero());
    let one = F::one();
    let need_h0 = out.h0.is_some();

    for s in (0..t).rev() {
        let tt = dm.time(s);
        let prev = dm.prev(s);
        let hprev = match prev {
            Some(pv) => Some(Hidden { s: &y[pv * step_y + d * h..], stride: dhw }),
            None => h0.map(|s| Hidden { s, stride: h }),
        };
        let cprev = match prev {
            Some(pv) if cell == Cell::Lstm => Some(&cells[pv * step_h..(pv + 1) * step_h]),
            None if cell == Cell::Lstm => c0,
            _ => None,
        };
        let ga = &gates[tt * step_g..(tt + 1) * step_g];
        let dat = &mut da[tt * step_g..(tt + 1) * step_g];
        for bi in 0..b {
            // dL/dh_t = dL/dy_t (from above) + dL/dh_t through step t + 1.
            let dyrow = &dy[tt * step_y + bi * dhw + d * h..][..h];
            let crow = &mut carry[bi * h..][..h];
            let dhrow = &mut dhv[bi * h..][..h];
            dhrow.iter_mut().zip(dyrow).zip(crow.iter()).for_each(|((d, &g), &c)| *d = g + c);
            let grow = &ga[bi * gh..][..gh];
            let darow = &mut dat[bi * gh..][..gh];
            match cell {
                // tanh' = 1 − h²
                Cell::Tanh => darow
                    .iter_mut()
                    .zip(grow)
                    .zip(dhrow.iter())
                    .for_each(|((a, &y), &g)| *a = g * (one - y * y)),
                Cell::Relu => darow
                    .iter_mut()
                    .zip(grow)
                    .zip(dhrow.iter())
                    .for_each(|((a, &y), &g)| *a = if y > F::zero() { g } else { F::zero() }),
                Cell::Lstm => {
                    let (ig, rest) = grow.split_at(h);
                    let (fg, rest) = rest.split_at(h);
                    let (gg, og) = rest.split_at(h);
                    let tcs = &tanh_c[tt * step_h + bi * h..][..h];
                    let cp = cprev.map(|c| &c[bi * h..][..h]);
                    let dcrow = &mut dc[bi * h..][..h];
                    for j in 0..h {
                        let (i, f, g, o) = (ig[j], fg[j], gg[j], og[j]);
                        let tc = tcs[j];
                        let dhj = dhrow[j];
                        // dL/dc_t: through h_t = o ⊙ tanh(c_t), and from step t + 1.
                        let dcv = dcrow[j] + dhj * o * (one - tc * tc);
                        let cpj = cp.map_or(F::zero(), |cp| cp[j]);
                        darow[j] = dcv * g * i * (one - i);
                        darow[h + j] = dcv * cpj * f * (one - f);
                        darow[2 * h + j] = dcv * i * (one - g * g);
                        darow[3 * h + j] = dhj * tc * o * (one - o);
                        dcrow[j] = dcv * f;
                    }
                }
                Cell::Gru => {
                    let (rg, rest) = grow.split_at(h);
                    let (zg, ng) = rest.split_at(h);
                    let hn = &cells[tt * step_h + bi * h..][..h];
                    let hpr = hprev.map(|hm| hm.row(bi, h));
                    let dahrow = &mut dah[tt * step_g + bi * gh..][..gh];
                    for j in 0..h {
                        let (r, z, n) = (rg[j], zg[j], ng[j]);
                        let dhj = dhrow[j];
                        let hpj = hpr.map_or(F::zero(), |hr| hr[j]);
                        // h' = (1 − z) n + z h: dn, dz; n = tanh(a_n + r ⊙ hn): da_n, dr.
                        let dan = dhj * (one - z) * (one - n * n);
                        let dar = dan * hn[j] * r * (one - r);
                        let daz = dhj * (hpj - n) * z * (one - z);
                        (darow[j], darow[h + j], darow[2 * h + j]) = (dar, daz, dan);
                        (dahrow[j], dahrow[h + j], dahrow[2 * h + j]) = (dar, daz, dan * r);
                        // The direct path h → h' (the W_hh path is added below).
                        crow[j] = dhj * z;
                    }
                }
            }
        }
        // dL/dh_{t−1} = dA_hₜ · W_hh (+ GRU's direct z ⊙ dL/dh_t already in carry).
        if prev.is_some() || need_h0 {
            let src =
                if gru { &dah[tt * step_g..(tt + 1) * step_g] } else { &da[tt * step_g..(tt + 1) * step_g] };
            let beta = if gru { one } else { F::zero() };
            general_mat_mul(one, &mat(src, b, gh), &p.w_hh, beta, &mut mat_mut(carry, b, h));
        }
    }
    if let Some(g) = out.h0 {
        g.copy_from_slice(carry);
    }
    if let Some(g) = out.c0 {
        g.copy_from_slice(dc);
    }

    let dahs: &[F] = if gru { dah } else { da };
    // dW_hh = Σₜ dA_hₜᵀ h_{t−1}: one product over the steps that have a previous state
    // (h_{t−1} read in place from the output), plus h_0's step when it is given.
    if t > 1 {
        let (rows, hs) = if d == 0 {
            (&dahs[step_g..t * step_g], &y[d * h..])
        } else {
            (&dahs[..(t - 1) * step_g], &y[step_y + d * h..])
        };
        let hm = strided(hs, (t - 1) * b, h, dhw);
        general_mat_mul(one, &mat(rows, (t - 1) * b, gh).t(), &hm, F::zero(), &mut p.g_w_hh);
    } else {
        p.g_w_hh.fill(F::zero());
    }
    if let Some(h0) = h0 {
        let first = dm.time(0);
        let rows = &dahs[first * step_g..(first + 1) * step_g];
        general_mat_mul(one, &mat(rows, b, gh).t(), &mat(h0, b, h), one, &mut p.g_w_hh);
    }
    if bias {
        col_sums(&dahs[..t * step_g], gh, &mut p.g_b_hh);
        col_sums(&da[..t * step_g], gh, &mut p.g_b_ih);
    }
    // dW_ih = dAᵀ X and dX (+)= dA W_ih, over all steps at once.
    let dam = mat(da, t * b, gh);
    general_mat_mul(one, &dam.t(), &mat(x, t * b, input), F::zero(), &mut p.g_w_ih);
    if let Some((dx, add)) = out.dx {
        let beta = if add { one } else { F::zero() };
        general_mat_mul(one, &dam, &p.w_ih, beta, &mut mat_mut(dx, t * b, input));
    }
}

impl<F: Float, K: RecurrentKind> Recurrent<F, K> {
    /// Checks the input; returns it as 3-D with `(T, B)`.
    fn check_input<'a>(
        &self,
        op: &'static str,
        x: ArrayViewD<'a, F>,
    ) -> Result<(ArrayView3<'a, F>, usize, usize)> {
        let cfg = &self.cfg;
        if x.ndim() != 3 || x.shape()[2] != cfg.input_size {
            return Err(Error::ShapeMismatch {
                op,
                expected: vec![0, 0, cfg.input_size],
                got: x.shape().to_vec(),
            });
        }
        let x = x.into_dimensionality::<Ix3>().expect("checked 3-D");
        let (b, t) =
            if cfg.batch_first { (x.shape()[0], x.shape()[1]) } else { (x.shape()[1], x.shape()[0]) };
        if t == 0 {
            return Err(Error::EmptyInput {
                op,
                what: "a sequence of length 0 (at least one time step is needed)",
            });
        }
        if b == 0 {
            return Err(Error::EmptyInput { op, what: "a batch of 0 sequences" });
        }
        if let Some(h0) = &self.h0 {
            if h0.shape()[1] != b {
                return Err(Error::invalid_input(
                    op,
                    format!(
                        "the initial state is for a batch of {} sequences, the input has {b}",
                        h0.shape()[1]
                    ),
                ));
            }
        }
        Ok((x, t, b))
    }

    pub(super) fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (x, t, b) = self.check_input(K::FORWARD, x)?;
        let cfg = self.cfg;
        let (h, dirs, cell) = (cfg.hidden_size, cfg.dirs(), cfg.cell);
        let (dh, gh) = (dirs * h, cell.gates() * h);
        let train_dropout = mode.is_training() && !self.dropouts.is_empty();
        let st = &mut self.st;
        copy_time_major(x, cfg.batch_first, slice_mut(st.x0.reshape(&[t, b, cfg.input_size])));
        st.with_state = self.h0.is_some();
        if let Some(h0) = &self.h0 {
            copy_into(&h0.view().into_dyn(), &mut st.h0);
        }
        match &self.c0 {
            Some(c0) => copy_into(&c0.view().into_dyn(), &mut st.c0),
            None => {
                st.c0.reshape(&[0]);
            }
        }
        let hp = slice_mut(st.hp.reshape(&[b, if cell == Cell::Gru { gh } else { 0 }]));
        let bias = slice_mut(st.bias.reshape(&[gh]));
        for l in 0..cfg.num_layers {
            if l > 0 && train_dropout {
                let v = self.dropouts[l - 1].forward(st.ys[l - 1].view(), Mode::Train)?;
                copy_into(&v, &mut st.xs[l]);
            }
            let (below, rest) = st.ys.split_at_mut(l);
            let y = slice_mut(rest[0].reshape(&[t, b, dh]));
            let input: &[F] = match l {
                0 => data(&st.x0),
                _ if train_dropout => data(&st.xs[l]),
                _ => data(&below[l - 1]),
            };
            for d in 0..dirs {
                let k = l * dirs + d;
                let dm = Dims { t, b, h, input: cfg.layer_input(l), dirs, d };
                let gates = slice_mut(st.gates[k].reshape(&[t, b, gh]));
                let cells = slice_mut(st.cells[k].reshape(&[t, b, if cell.gates() > 1 { h } else { 0 }]));
                let tanh_c = slice_mut(st.tanh_c[k].reshape(&[t, b, if cell == Cell::Lstm { h } else { 0 }]));
                forward_direction(
                    cell,
                    &self.params[k],
                    dm,
                    input,
                    y,
                    gates,
                    cells,
                    tanh_c,
                    state_of(&st.h0, st.with_state, k, b * h),
                    state_of(&st.c0, st.with_state && cell == Cell::Lstm, k, b * h),
                    hp,
                    bias,
                );
            }
        }
        st.dropped = train_dropout;
        (st.t, st.b) = (t, b);
        // Final states: step T − 1 of the forward direction, step 0 of the reverse one.
        let ld = cfg.num_layers * dirs;
        let h_n = slice_mut(st.h_n.reshape(&[ld, b, h]));
        let c_n = slice_mut(st.c_n.reshape(&[ld, if cell == Cell::Lstm { b } else { 0 }, h]));
        for l in 0..cfg.num_layers {
            let y = data(&st.ys[l]);
            for d in 0..dirs {
                let k = l * dirs + d;
                let last = if d == 0 { t - 1 } else { 0 };
                for bi in 0..b {
                    h_n[(k * b + bi) * h..][..h].copy_from_slice(&y[(last * b + bi) * dh + d * h..][..h]);
                }
                if cell == Cell::Lstm {
                    c_n[k * b * h..(k + 1) * b * h]
                        .copy_from_slice(&data(&st.cells[k])[last * b * h..][..b * h]);
                }
            }
        }
        st.pass = Pass::of(mode);
        let top = &st.ys[cfg.num_layers - 1];
        if cfg.batch_first {
            swap01(data(top), t, b, dh, slice_mut(st.out.reshape(&[b, t, dh])));
            Ok(st.out.view())
        } else {
            Ok(top.view())
        }
    }

    pub(super) fn backward_impl(
        &mut self,
        op: &'static str,
        g: ArrayViewD<'_, F>,
        input_grad: bool,
    ) -> Result<()> {
        self.st.pass.require_train(op)?;
        let cfg = self.cfg;
        let (h, dirs, cell) = (cfg.hidden_size, cfg.dirs(), cfg.cell);
        let (dh, gh) = (dirs * h, cell.gates() * h);
        let st = &mut self.st;
        let (t, b) = (st.t, st.b);
        let expected = if cfg.batch_first { [b, t, dh] } else { [t, b, dh] };
        if g.shape() != expected {
            return Err(Error::ShapeMismatch { op, expected: expected.to_vec(), got: g.shape().to_vec() });
        }
        let g = g.into_dimensionality::<Ix3>().expect("checked 3-D");
        copy_time_major(g, cfg.batch_first, slice_mut(st.dy.reshape(&[t, b, dh])));
        st.da.reshape(&[t, b, gh]);
        st.dah.reshape(&[t, b, if cell == Cell::Gru { gh } else { 0 }]);
        for buf in [&mut st.dh, &mut st.carry, &mut st.dc] {
            buf.reshape(&[b, h]);
        }
        let with_state = st.with_state;
        st.state_grad = with_state;
        let ld = cfg.num_layers * dirs;
        if with_state {
            st.h0_grad.reshape(&[ld, b, h]);
            st.c0_grad.reshape(&[ld, b, if cell == Cell::Lstm { h } else { 0 }]);
        }
        for l in (0..cfg.num_layers).rev() {
            let need_dx = l > 0 || input_grad;
            let input_w = cfg.layer_input(l);
            if need_dx {
                st.dx.reshape(&[t, b, input_w]);
            }
            let input: &[F] = match l {
                0 => data(&st.x0),
                _ if st.dropped => data(&st.xs[l]),
                _ => data(&st.ys[l - 1]),
            };
            for d in 0..dirs {
                let k = l * dirs + d;
                let dm = Dims { t, b, h, input: input_w, dirs, d };
                let (h0g, c0g) = if with_state {
                    let hg = &mut slice_mut(st.h0_grad.view_mut())[k * b * h..(k + 1) * b * h];
                    let cg = (cell == Cell::Lstm)
                        .then(|| &mut slice_mut(st.c0_grad.view_mut())[k * b * h..(k + 1) * b * h]);
                    (Some(hg), cg)
                } else {
                    (None, None)
                };
                backward_direction(
                    cell,
                    &mut self.params[k],
                    dm,
                    cfg.bias,
                    input,
                    data(&st.ys[l]),
                    data(&st.gates[k]),
                    data(&st.cells[k]),
                    data(&st.tanh_c[k]),
                    data(&st.dy),
                    state_of(&st.h0, with_state, k, b * h),
                    state_of(&st.c0, with_state && cell == Cell::Lstm, k, b * h),
                    Scratch {
                        da: slice_mut(st.da.view_mut()),
                        dah: slice_mut(st.dah.view_mut()),
                        dh: slice_mut(st.dh.view_mut()),
                        carry: slice_mut(st.carry.view_mut()),
                        dc: slice_mut(st.dc.view_mut()),
                    },
                    Grads { dx: need_dx.then(|| (slice_mut(st.dx.view_mut()), d > 0)), h0: h0g, c0: c0g },
                );
            }
            if l > 0 {
                if st.dropped {
                    // Through the dropout between layers l − 1 and l: dY = dX ⊙ mask.
                    let mask = self.dropouts[l - 1].mask();
                    let mask = mask.to_slice().expect("contiguous");
                    slice_mut(st.dx.view_mut()).iter_mut().zip(mask).for_each(|(g, &m)| *g *= m);
                }
                std::mem::swap(&mut st.dy, &mut st.dx);
            }
        }
        if input_grad && cfg.batch_first {
            let w = cfg.input_size;
            swap01(data(&st.dx), t, b, w, slice_mut(st.grad_in.reshape(&[b, t, w])));
        }
        Ok(())
    }
}
