//! Shared numeric helpers of the numeric preprocessors: input checks, row iteration over
//! row-major data, the fitted-state and per-column map scaffolding of the scalers and
//! clippers, accurate column moments, numpy's linear percentiles and the standard
//! normal quantile. Crate-private.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use crate::error::{Error, Result};
use crate::tensor::Float;

/// `Err(EmptyInput)` unless `x` has at least one row and one column.
pub(crate) fn check_not_empty<T>(op: &'static str, x: &ArrayView2<'_, T>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::EmptyInput { op, what: "x has no rows (samples)" });
    }
    if x.ncols() == 0 {
        return Err(Error::EmptyInput { op, what: "x has no columns (features)" });
    }
    Ok(())
}

/// `Err(ShapeMismatch)` unless `x` has `n_features` columns.
pub(crate) fn check_n_features<T>(op: &'static str, x: &ArrayView2<'_, T>, n_features: usize) -> Result<()> {
    if x.ncols() == n_features {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { op, expected: vec![0, n_features], got: x.shape().to_vec() })
    }
}

/// `Err(ShapeMismatch)` unless `out` has the shape of `x`.
pub(crate) fn check_out_shape<T, U>(
    op: &'static str,
    x: &ArrayView2<'_, T>,
    out: &ArrayViewMut2<'_, U>,
) -> Result<()> {
    if x.shape() == out.shape() {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { op, expected: x.shape().to_vec(), got: out.shape().to_vec() })
    }
}

/// The first infinite element of `x` (row-major order), if any. NaN is allowed.
pub(crate) fn first_infinite<F: Float>(x: &ArrayView2<'_, F>) -> Option<(usize, usize, f64)> {
    if let Some(s) = x.as_slice_memory_order() {
        if !s.iter().fold(false, |bad, v| bad | v.is_infinite()) {
            return None;
        }
    }
    x.indexed_iter().find(|(_, v)| v.is_infinite()).map(|((i, j), v)| (i, j, v.as_f64()))
}

/// `Err(NonFinite)` naming the first infinite element of `x`; NaN (a missing value) passes.
pub(crate) fn check_no_infinite<F: Float>(
    op: &'static str,
    what: &'static str,
    x: &ArrayView2<'_, F>,
) -> Result<()> {
    match first_infinite(x) {
        None => Ok(()),
        Some((i, j, value)) => Err(Error::NonFinite { op, what, value, index: vec![i, j] }),
    }
}

/// `Err(NonFinite)` for the first infinite element of row `i` of `x`.
pub(crate) fn infinite_in_row<F: Float>(
    op: &'static str,
    what: &'static str,
    x: &ArrayView2<'_, F>,
    i: usize,
) -> Error {
    let (j, v) = x
        .row(i)
        .indexed_iter()
        .find(|(_, v)| v.is_infinite())
        .map_or((0, f64::NAN), |(j, v)| (j, v.as_f64()));
    Error::NonFinite { op, what, value: v, index: vec![i, j] }
}

/// Calls `f` on every row of `x` as a contiguous slice, in order. Rows of a
/// non-row-major view are copied into a reused buffer first.
pub(crate) fn for_each_row<T: Copy>(x: &ArrayView2<'_, T>, mut f: impl FnMut(&[T])) {
    let ncols = x.ncols();
    if ncols == 0 {
        for _ in 0..x.nrows() {
            f(&[]);
        }
        return;
    }
    if let Some(s) = x.as_slice() {
        s.chunks_exact(ncols).for_each(f);
        return;
    }
    let mut buf = Vec::with_capacity(ncols);
    for row in x.rows() {
        match row.as_slice() {
            Some(r) => f(r),
            None => {
                buf.clear();
                buf.extend(row.iter().copied());
                f(&buf);
            }
        }
    }
}

/// Calls `f(x_row, out_row)` on every row of `x` and `out` (same shape, checked by the
/// caller) as contiguous slices. `f` returns `true` to stop: the function then returns
/// that row's index.
pub(crate) fn map_rows<T: Copy, U: Copy + Default>(
    x: &ArrayView2<'_, T>,
    out: &mut ArrayViewMut2<'_, U>,
    mut f: impl FnMut(&[T], &mut [U]) -> bool,
) -> Option<usize> {
    debug_assert_eq!(x.shape(), out.shape());
    let ncols = x.ncols();
    if ncols == 0 {
        return None;
    }
    if let (Some(xs), Some(os)) = (x.as_slice(), out.as_slice_mut()) {
        for (i, (xr, or)) in xs.chunks_exact(ncols).zip(os.chunks_exact_mut(ncols)).enumerate() {
            if f(xr, or) {
                return Some(i);
            }
        }
        return None;
    }
    let mut xbuf: Vec<T> = Vec::with_capacity(ncols);
    let mut obuf: Vec<U> = vec![U::default(); ncols];
    for (i, (xrow, mut orow)) in x.rows().into_iter().zip(out.rows_mut()).enumerate() {
        let xr = match xrow.as_slice() {
            Some(r) => r,
            None => {
                xbuf.clear();
                xbuf.extend(xrow.iter().copied());
                &xbuf
            }
        };
        let stop = match orow.as_slice_mut() {
            Some(or) => f(xr, or),
            None => {
                let stop = f(xr, &mut obuf);
                orow.iter_mut().zip(&obuf).for_each(|(o, &v)| *o = v);
                stop
            }
        };
        if stop {
            return Some(i);
        }
    }
    None
}

/// Whether a row holds an infinite value (branch-free, vectorizes).
#[inline]
fn row_has_infinite<F: Float>(row: &[F]) -> bool {
    row.iter().fold(false, |bad, v| bad | (v.abs() == F::infinity()))
}

/// Per-column elementwise map `out_ij = g(x_ij, a_j, b_j)` into `out` (same shape as `x`,
/// checked by the caller), rejecting infinite inputs. On an error `out` is partly
/// written.
pub(crate) fn elementwise_into<F: Float>(
    op: &'static str,
    x: &ArrayView2<'_, F>,
    out: &mut ArrayViewMut2<'_, F>,
    a: &[F],
    b: &[F],
    g: impl Fn(F, F, F) -> F,
) -> Result<()> {
    let bad = map_rows(x, out, |xr, or| {
        for (((o, &v), &a), &b) in or.iter_mut().zip(xr).zip(a).zip(b) {
            *o = g(v, a, b);
        }
        row_has_infinite(xr)
    });
    match bad {
        None => Ok(()),
        Some(i) => Err(infinite_in_row(op, "x", x, i)),
    }
}

/// As [`elementwise_into`], into a new array. The output is written once, straight into
/// fresh memory (no zero-fill first).
pub(crate) fn elementwise_new<F: Float>(
    op: &'static str,
    x: &ArrayView2<'_, F>,
    a: &[F],
    b: &[F],
    g: impl Fn(F, F, F) -> F,
) -> Result<Array2<F>> {
    let mut data: Vec<F> = Vec::with_capacity(x.len());
    let mut bad = false;
    for_each_row(x, |xr| {
        data.extend(xr.iter().zip(a).zip(b).map(|((&v, &a), &b)| g(v, a, b)));
        bad |= row_has_infinite(xr);
    });
    if bad {
        if let Some((i, j, value)) = first_infinite(x) {
            return Err(Error::NonFinite { op, what: "x", value, index: vec![i, j] });
        }
    }
    Array2::from_shape_vec(x.raw_dim(), data).map_err(|e| Error::invalid_input(op, e))
}

/// `fn fitted(&self, op)` (the fitted state, or [`Error::NotFitted`] naming `op`) and
/// `pub fn is_fitted(&self)`, for a preprocessor with a field `fitted: Option<$t>`.
/// `Error` and `Result` are the caller's imports (those of `crate::error`).
macro_rules! fitted_state {
    ($t:ty) => {
        fn fitted(&self, op: &'static str) -> Result<&$t> {
            self.fitted.as_ref().ok_or(Error::NotFitted { op })
        }

        /// Whether `fit` has been called successfully.
        pub fn is_fitted(&self) -> bool {
            self.fitted.is_some()
        }
    };
}
pub(crate) use fitted_state;

/// Where a per-column map `out_ij = g(x_ij, a_j, b_j)` writes: a new array
/// ([`NewArray`], for `transform` and `inverse_transform`) or the caller's buffer
/// ([`WriteInto`], for `transform_into`). Both first check that `x` has `a.len()`
/// columns (and the buffer the shape of `x`), then reject infinite inputs.
pub(crate) trait ColumnSink<F: Float> {
    /// `Array2<F>` or `()`.
    type Out;
    /// Checks `x` (and the buffer) and applies `g` with the fitted per-column `a`, `b`.
    fn map(
        self,
        op: &'static str,
        x: ArrayView2<'_, F>,
        a: &Array1<F>,
        b: &Array1<F>,
        g: impl Fn(F, F, F) -> F,
    ) -> Result<Self::Out>;
}

/// Writes a per-column map into a new array.
pub(crate) struct NewArray;

/// Writes a per-column map into `out`; on an error found mid-way (an infinite value)
/// `out` is partly written.
pub(crate) struct WriteInto<'o, F>(pub ArrayViewMut2<'o, F>);

/// A contiguous `Array1` as a slice (every fitted `Array1` is contiguous).
fn slice<F>(a: &Array1<F>) -> &[F] {
    a.as_slice().unwrap_or(&[])
}

impl<F: Float> ColumnSink<F> for NewArray {
    type Out = Array2<F>;
    fn map(
        self,
        op: &'static str,
        x: ArrayView2<'_, F>,
        a: &Array1<F>,
        b: &Array1<F>,
        g: impl Fn(F, F, F) -> F,
    ) -> Result<Array2<F>> {
        check_n_features(op, &x, a.len())?;
        elementwise_new(op, &x, slice(a), slice(b), g)
    }
}

impl<F: Float> ColumnSink<F> for WriteInto<'_, F> {
    type Out = ();
    fn map(
        mut self,
        op: &'static str,
        x: ArrayView2<'_, F>,
        a: &Array1<F>,
        b: &Array1<F>,
        g: impl Fn(F, F, F) -> F,
    ) -> Result<()> {
        check_n_features(op, &x, a.len())?;
        check_out_shape(op, &x, &self.0)?;
        elementwise_into(op, &x, &mut self.0, slice(a), slice(b), g)
    }
}

/// Clamps `v` to `[lo, hi]` (`min(max(v, lo), hi)`); NaN compares false both ways and
/// passes through, as `np.clip`, and a NaN bound does not clip.
#[inline]
pub(crate) fn clip<F: Float>(v: F, lo: F, hi: F) -> F {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// The non-NaN values of every column, as f64, in row order (one pass over rows).
pub(crate) fn columns_without_nan<F: Float>(x: &ArrayView2<'_, F>) -> Vec<Vec<f64>> {
    let mut cols: Vec<Vec<f64>> = (0..x.ncols()).map(|_| Vec::with_capacity(x.nrows())).collect();
    for_each_row(x, |row| {
        for (c, &v) in cols.iter_mut().zip(row) {
            if !v.is_nan() {
                c.push(v.as_f64());
            }
        }
    });
    cols
}

/// Sorts NaN-free values ascending.
pub(crate) fn sort_f64(v: &mut [f64]) {
    v.sort_unstable_by(f64::total_cmp);
}

/// numpy's `percentile(..., method="linear")` (Hyndman–Fan type 7) of sorted, NaN-free
/// values: position `(n-1)·q/100`, linear interpolation between its neighbours written
/// as numpy's `_lerp`. NaN for an empty slice.
pub(crate) fn percentile_sorted(sorted: &[f64], q_percent: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = (q_percent / 100.0) * (n - 1) as f64;
    let lo = pos.floor();
    let i = (lo as usize).min(n - 1);
    let j = (i + 1).min(n - 1);
    let t = pos - lo;
    let (a, b) = (sorted[i], sorted[j]);
    let diff = b - a;
    if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
}

/// numpy's `median` of sorted, NaN-free values (mean of the two middle values for an even
/// count). NaN for an empty slice.
pub(crate) fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Pairwise (cascade) sum, error `O(log n · eps)` like numpy's.
pub(crate) fn pairwise_sum(v: &[f64]) -> f64 {
    if v.len() <= 128 {
        let mut acc = [0.0f64; 8];
        let mut chunks = v.chunks_exact(8);
        for c in &mut chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += x;
            }
        }
        let rest: f64 = chunks.remainder().iter().sum();
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + rest
    } else {
        let mid = (v.len() / 2) & !7;
        pairwise_sum(&v[..mid]) + pairwise_sum(&v[mid..])
    }
}

/// scikit-learn's `_handle_zeros_in_scale`: a scale below `10·eps` (f64) becomes 1, so a
/// constant column is left as it is instead of divided by zero.
pub(crate) fn handle_zero_scale(s: f64) -> f64 {
    if s < 10.0 * f64::EPSILON { 1.0 } else { s }
}

/// Per-column count, mean and sum of squared deviations `m2 = Σ (x - mean)²` of the
/// non-NaN values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Moments {
    pub count: Vec<usize>,
    pub mean: Vec<f64>,
    pub m2: Vec<f64>,
}

/// Rows per inner block of the moment sums: block partial sums are added into the
/// totals, which bounds the rounding error by `(BLOCK + n/BLOCK)·eps` instead of `n·eps`.
const BLOCK: usize = 512;

/// A shift is good enough when the shifted second moment is at most this many times the
/// centred one: the cancellation in `m2 = s2 - s1²/n` then loses at most ~3 digits.
const MAX_SHIFT_RATIO: f64 = 1e3;

/// Shifted sums `s1 = Σ (x - k)`, `s2 = Σ (x - k)²` per column over all rows, assuming
/// no NaN (a NaN or infinity makes that column's sums non-finite).
fn shifted_sums_dense<F: Float>(x: &ArrayView2<'_, F>, k: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.ncols();
    let (mut s1, mut s2) = (vec![0.0; n], vec![0.0; n]);
    let (mut b1, mut b2) = (vec![0.0; n], vec![0.0; n]);
    if let Some(data) = x.as_slice().filter(|_| n >= GROUP) {
        // Row-major fast path, tiled: a tile of TILE rows stays in L1 while groups of
        // GROUP columns are accumulated in registers, so the data are read from memory
        // once and the accumulators are not reloaded for every row.
        for (t, tile) in data.chunks(TILE * n).enumerate() {
            let mut g0 = 0;
            while g0 + GROUP <= n {
                let kk: &[f64; GROUP] = k[g0..g0 + GROUP].try_into().unwrap_or(&[0.0; GROUP]);
                let (a1, a2) = tile_sums(tile, n, g0, kk);
                for c in 0..GROUP {
                    b1[g0 + c] += a1[c];
                    b2[g0 + c] += a2[c];
                }
                g0 += GROUP;
            }
            if g0 < n {
                for row in tile.chunks_exact(n) {
                    for (((b1, b2), &v), &k) in
                        b1[g0..].iter_mut().zip(b2[g0..].iter_mut()).zip(&row[g0..]).zip(&k[g0..])
                    {
                        let d = v.as_f64() - k;
                        *b1 += d;
                        *b2 += d * d;
                    }
                }
            }
            if (t + 1) % (BLOCK / TILE) == 0 {
                flush(&mut s1, &mut s2, &mut b1, &mut b2);
            }
        }
        flush(&mut s1, &mut s2, &mut b1, &mut b2);
        return (s1, s2);
    }
    let mut rows_in_block = 0usize;
    for_each_row(x, |row| {
        for (((b1, b2), &v), &k) in b1.iter_mut().zip(b2.iter_mut()).zip(row).zip(k) {
            let d = v.as_f64() - k;
            *b1 += d;
            *b2 += d * d;
        }
        rows_in_block += 1;
        if rows_in_block == BLOCK {
            flush(&mut s1, &mut s2, &mut b1, &mut b2);
            rows_in_block = 0;
        }
    });
    flush(&mut s1, &mut s2, &mut b1, &mut b2);
    (s1, s2)
}

/// Columns accumulated together in registers by the tiled moment kernel.
const GROUP: usize = 8;
/// Rows per tile of the tiled moment kernel (`BLOCK` is a multiple).
const TILE: usize = 64;

/// Shifted sums of columns `g0..g0 + GROUP` over the rows of one tile.
#[inline]
fn tile_sums<F: Float>(tile: &[F], n: usize, g0: usize, k: &[f64; GROUP]) -> ([f64; GROUP], [f64; GROUP]) {
    let mut a1 = [0.0f64; GROUP];
    let mut a2 = [0.0f64; GROUP];
    for row in tile.chunks_exact(n) {
        let Some(r) = row.get(g0..g0 + GROUP) else { continue };
        for c in 0..GROUP {
            let d = r[c].as_f64() - k[c];
            a1[c] += d;
            a2[c] += d * d;
        }
    }
    (a1, a2)
}

/// As [`shifted_sums_dense`], skipping NaN and counting the values used.
fn shifted_sums_nan<F: Float>(x: &ArrayView2<'_, F>, k: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let n = x.ncols();
    let (mut s1, mut s2) = (vec![0.0; n], vec![0.0; n]);
    let (mut b1, mut b2) = (vec![0.0; n], vec![0.0; n]);
    let mut count = vec![0usize; n];
    let mut rows_in_block = 0usize;
    for_each_row(x, |row| {
        for ((((b1, b2), c), &v), &k) in
            b1.iter_mut().zip(b2.iter_mut()).zip(count.iter_mut()).zip(row).zip(k)
        {
            if !v.is_nan() {
                let d = v.as_f64() - k;
                *b1 += d;
                *b2 += d * d;
                *c += 1;
            }
        }
        rows_in_block += 1;
        if rows_in_block == BLOCK {
            flush(&mut s1, &mut s2, &mut b1, &mut b2);
            rows_in_block = 0;
        }
    });
    flush(&mut s1, &mut s2, &mut b1, &mut b2);
    (s1, s2, count)
}

fn flush(s1: &mut [f64], s2: &mut [f64], b1: &mut [f64], b2: &mut [f64]) {
    for (((s1, s2), b1), b2) in s1.iter_mut().zip(s2.iter_mut()).zip(b1.iter_mut()).zip(b2.iter_mut()) {
        *s1 += *b1;
        *s2 += *b2;
        *b1 = 0.0;
        *b2 = 0.0;
    }
}

/// Mean and m2 from shifted sums; `true` in the flag vector when the shift was too far
/// from the mean for full precision.
fn finish(k: &[f64], s1: &[f64], s2: &[f64], count: &[usize]) -> (Vec<f64>, Vec<f64>, bool) {
    let mut mean = Vec::with_capacity(k.len());
    let mut m2 = Vec::with_capacity(k.len());
    let mut refine = false;
    for (((&k, &s1), &s2), &c) in k.iter().zip(s1).zip(s2).zip(count) {
        if c == 0 {
            mean.push(f64::NAN);
            m2.push(f64::NAN);
            continue;
        }
        let n = c as f64;
        let d = s1 / n;
        let m = (s2 - s1 * d).max(0.0);
        if s2 > MAX_SHIFT_RATIO * m {
            refine = true;
        }
        mean.push(k + d);
        m2.push(m);
    }
    (mean, m2, refine)
}

/// Accurate per-column moments of the non-NaN values of `x`, in one pass over the rows
/// in the common case.
///
/// Sums are taken of values shifted by a per-column constant `k` (the first row), in
/// blocks: `mean = k + s1/n`, `m2 = s2 - s1²/n` (the "corrected two-pass" formula of
/// Chan, Golub & LeVeque that scikit-learn uses, with `k` in place of the mean). When
/// `k` is far from the mean relative to the spread, a second pass with `k = mean`
/// restores full precision. NaN values are skipped (counted per column).
///
/// # Errors
/// `NonFinite` for an infinite value.
pub(crate) fn moments<F: Float>(op: &'static str, x: &ArrayView2<'_, F>) -> Result<Moments> {
    let (nrows, ncols) = x.dim();
    if nrows == 0 {
        return Ok(Moments { count: vec![0; ncols], mean: vec![f64::NAN; ncols], m2: vec![f64::NAN; ncols] });
    }
    let k: Vec<f64> = x.row(0).iter().map(|v| v.as_f64()).collect();
    if k.iter().all(|v| v.is_finite()) {
        let (s1, s2) = shifted_sums_dense(x, &k);
        if s1.iter().chain(&s2).all(|v| v.is_finite()) {
            let count = vec![nrows; ncols];
            let (mean, m2, refine) = finish(&k, &s1, &s2, &count);
            if !refine {
                return Ok(Moments { count, mean, m2 });
            }
            let (s1, s2) = shifted_sums_dense(x, &mean);
            let (mean2, m2, _) = finish(&mean, &s1, &s2, &count);
            return Ok(Moments { count, mean: mean2, m2 });
        }
    }
    // NaN (missing values), infinities or overflow: the careful path.
    check_no_infinite(op, "x", x)?;
    let k = vec![0.0; ncols];
    let (s1, s2, count) = shifted_sums_nan(x, &k);
    let (mean, m2, refine) = finish(&k, &s1, &s2, &count);
    if !refine {
        return Ok(Moments { count, mean, m2 });
    }
    let shift: Vec<f64> = mean.iter().map(|&m| if m.is_finite() { m } else { 0.0 }).collect();
    let (s1, s2, count) = shifted_sums_nan(x, &shift);
    let (mean, m2, _) = finish(&shift, &s1, &s2, &count);
    Ok(Moments { count, mean, m2 })
}

/// The standard normal quantile `Φ⁻¹(p)` (scipy's `norm.ppf`), by Wichura's algorithm
/// AS 241 (PPND16, Applied Statistics 37(3), 1988), accurate to about 1e-16 relative.
/// `±∞` at 0 and 1, NaN outside `[0, 1]`.
#[allow(clippy::excessive_precision)] // the published AS 241 coefficients, digit for digit
pub(crate) fn norm_ppf(p: f64) -> f64 {
    fn poly(c: &[f64; 8], x: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const FF: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let v = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&FF, r)
    };
    if q < 0.0 { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder, array};

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 75, 100]) = [1, 1.75, 2.5, 3.25, 4]
        let v = [1.0, 2.0, 3.0, 4.0];
        let got: Vec<f64> =
            [0.0, 25.0, 50.0, 75.0, 100.0].iter().map(|&q| percentile_sorted(&v, q)).collect();
        assert_eq!(got, vec![1.0, 1.75, 2.5, 3.25, 4.0]);
        // np.percentile([10], 30) = 10; empty -> NaN
        assert_eq!(percentile_sorted(&[10.0], 30.0), 10.0);
        assert!(percentile_sorted(&[], 30.0).is_nan());
        // np.percentile([0, 10, 20], 10) = 0 + (20-0)... position 0.2 -> 2.0
        assert!((percentile_sorted(&[0.0, 10.0, 20.0], 10.0) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median_sorted(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median_sorted(&[1.0, 2.0, 4.0, 10.0]), 3.0);
        assert!(median_sorted(&[]).is_nan());
    }

    #[test]
    fn norm_ppf_known_values() {
        // scipy.stats.norm.ppf(0.75) - norm.ppf(0.25) = 1.3489795003921634 (FORMAT notes)
        assert!((norm_ppf(0.75) - norm_ppf(0.25) - 1.3489795003921634).abs() < 1e-15);
        // norm.ppf(0.975) = 1.959963984540054; norm.ppf(1e-10) = -6.361340902404056
        assert!((norm_ppf(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((norm_ppf(1e-10) + 6.361340902404056).abs() < 1e-13);
        assert!((norm_ppf(0.01) + 2.3263478740408408).abs() < 1e-14);
        assert_eq!(norm_ppf(0.5), 0.0);
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
        assert!(norm_ppf(1.5).is_nan());
    }

    #[test]
    fn moments_fast_path_and_refinement_agree_with_two_pass() {
        // Column 0: first row far from the mean (forces the refinement pass).
        let mut x = Array2::<f64>::zeros((1000, 2));
        for i in 0..1000 {
            x[[i, 0]] = if i == 0 { 1e9 } else { 1e-3 * (i as f64).sin() };
            x[[i, 1]] = 5.0 + (i as f64 * 0.37).cos();
        }
        let m = moments("t", &x.view()).unwrap();
        for j in 0..2 {
            let col: Vec<f64> = x.column(j).to_vec();
            let mean = col.iter().sum::<f64>() / 1000.0;
            let m2: f64 = col.iter().map(|v| (v - mean) * (v - mean)).sum();
            assert!((m.mean[j] - mean).abs() <= 1e-12 * mean.abs());
            assert!((m.m2[j] - m2).abs() <= 1e-10 * m2, "{} vs {}", m.m2[j], m2);
        }
        assert_eq!(m.count, vec![1000, 1000]);
    }

    #[test]
    fn tiled_kernel_matches_two_pass_for_wide_inputs() {
        // Widths around the register group (8) and row counts around the tile (64) and
        // block (512) sizes; contiguous (tiled path) and column-major (row path) inputs.
        for (rows, cols) in [(1, 8), (63, 9), (65, 16), (513, 17), (1100, 30)] {
            let x = Array2::from_shape_fn((rows, cols), |(i, j)| {
                1e3 * j as f64 + ((i * 31 + j * 7) % 97) as f64 * 0.37 - 0.5 * (i as f64).sqrt()
            });
            let mut xf = Array2::zeros(x.raw_dim().f());
            xf.assign(&x);
            let (a, b) = (moments("t", &x.view()).unwrap(), moments("t", &xf.view()).unwrap());
            for j in 0..cols {
                let col = x.column(j);
                let mean = col.sum() / rows as f64;
                let m2: f64 = col.iter().map(|v| (v - mean) * (v - mean)).sum();
                for m in [&a, &b] {
                    assert_eq!(m.count[j], rows);
                    assert!((m.mean[j] - mean).abs() <= 1e-12 * mean.abs(), "{rows}x{cols} col {j}");
                    assert!(
                        (m.m2[j] - m2).abs() <= 1e-10 * m2 + 1e-9,
                        "{rows}x{cols} col {j}: {} vs {m2}",
                        m.m2[j]
                    );
                }
            }
        }
    }

    #[test]
    fn moments_skip_nan_and_reject_infinity() {
        let x = array![[1.0, f64::NAN], [3.0, 2.0], [f64::NAN, 4.0]];
        let m = moments("t", &x.view()).unwrap();
        assert_eq!(m.count, vec![2, 2]);
        assert_eq!(m.mean, vec![2.0, 3.0]);
        assert_eq!(m.m2, vec![2.0, 2.0]);
        let x = array![[1.0, f64::NAN], [f64::INFINITY, 2.0]];
        assert!(
            matches!(moments("t", &x.view()), Err(Error::NonFinite { index, .. }) if index == vec![1, 0])
        );
        // An all-NaN column: count 0, NaN statistics.
        let x = array![[f64::NAN, 1.0], [f64::NAN, 2.0]];
        let m = moments("t", &x.view()).unwrap();
        assert_eq!(m.count, vec![0, 2]);
        assert!(m.mean[0].is_nan() && m.m2[0].is_nan());
    }

    #[test]
    fn non_contiguous_rows_are_handled() {
        let x = array![[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]];
        let t = x.t(); // 2 x 3, column-major
        let m = moments("t", &t).unwrap();
        // columns of the transpose: [1, 10], [2, 20], [3, 30]
        assert_eq!(m.mean, vec![5.5, 11.0, 16.5]);
        assert_eq!(m.m2, vec![40.5, 162.0, 364.5]);
    }

    #[test]
    fn pairwise_sum_is_accurate() {
        let v: Vec<f64> = (0..10_001).map(|i| 0.1 + i as f64 * 1e-9).collect();
        let exact = 0.1 * 10_001.0 + 1e-9 * (10_000.0 * 10_001.0 / 2.0);
        assert!((pairwise_sum(&v) - exact).abs() < 1e-10);
    }
}
