//! The fused element-wise loops of the optimizers, and exact division by a step constant.
//!
//! [`fused2`] .. [`fused5`] run an update rule once per element over a parameter, its
//! gradient and zero to three state tensors. When every tensor is contiguous (standard
//! layout, the normal case) the loop runs on plain slices, compiled twice: for the crate's
//! target and, on x86-64, a second time with AVX2 enabled, chosen at run time. Other
//! layouts go through ndarray's `Zip`. All three paths run the same closure, and IEEE
//! addition, multiplication, division and square root are correctly rounded at any
//! vector width (Rust never fuses a multiply and an add), so they give the same bits.
//!
//! Adam's update at f32 is bound by the divide / square-root unit, not by memory: per
//! element it takes a square root, a division by the bias correction `√(1 − β2^t)` and the
//! division of the step. [`ConstDiv`] turns the division by a constant into a
//! multiplication in f64 that rounds to the same f32 (see there), so only two of the
//! three operations stay on that unit.

use std::any::TypeId;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use crate::tensor::Float;

/// `x / d` for a divisor `d` fixed for a whole pass, bit for bit as the division.
///
/// For `f32` and `|d| ≤ 1` (the bias corrections and their square roots) it multiplies
/// in `f64` by the rounded `1/d` and rounds the product to `f32`. That is exact: write
/// `x = X·2^a`, `d = D·2^b` with integer significands `X < 2^24`, `2^23 ≤ D < 2^24`.
/// A quotient `z = x/d` of normal size in the binade `[2^e, 2^(e+1))` is never an `f32`
/// rounding boundary (`X/D` cannot have the 25-bit significand of a midpoint), and its
/// distance to the nearest boundary is a nonzero multiple of `2^(e−24)/D`, more than
/// `2^−49·z`; a subnormal quotient is at least `2^−150/D > 2^−174` from a boundary (with
/// `|d| ≤ 1` it cannot be a subnormal midpoint: `z = M·2^−150`, `M` odd, would make `M`
/// divide `X`, so `z < x`). The two `f64` roundings (of `1/d`, then of the product) move
/// `z` by less than `2^−52·z`, so the product lies between the same two boundaries and
/// rounds to the same `f32`, overflow to ±∞ included; zeros, infinities and NaN come
/// out as the division gives them. Otherwise (`f64`, `|d| > 1`, NaN) it divides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConstDiv<F> {
    d: F,
    /// `1/d` in `f64` when the multiplication is exact (see above), else NaN (unused).
    inv_wide: f64,
    wide: bool,
}

impl<F: Float> ConstDiv<F> {
    /// Division by `d`.
    pub(crate) fn new(d: F) -> Self {
        let wide = TypeId::of::<F>() == TypeId::of::<f32>() && d.abs() <= F::one();
        ConstDiv { d, inv_wide: 1.0 / d.as_f64(), wide }
    }

    /// `x / d`.
    #[inline(always)]
    pub(crate) fn apply(self, x: F) -> F {
        // The type test is a constant once `F` is known; `wide` is the same for the
        // whole pass, so the branch costs nothing in the loop.
        if TypeId::of::<F>() == TypeId::of::<f32>() && self.wide {
            F::lit(x.as_f64() * self.inv_wide)
        } else {
            x / self.d
        }
    }
}

/// Whether the slice loops may run their AVX2 version (detected once by std, cached).
#[cfg(target_arch = "x86_64")]
#[inline]
fn use_avx2() -> bool {
    #[cfg(test)]
    if tests::PORTABLE_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    std::arch::is_x86_feature_detected!("avx2")
}

macro_rules! state_ty {
    ($s:ident, $t:ty) => {
        $t
    };
}

/// Defines `$name`: the fused pass over `p`, `g` and the state tensors `$s`, with its
/// slice loop `$slices` and the slice loop's AVX2 build `$avx2`.
macro_rules! fused_pass {
    ($(#[$doc:meta])* $name:ident, $slices:ident, $avx2:ident, ($($s:ident),*)) => {
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name<F: Float, K>(
            p: &mut ArrayViewMutD<'_, F>,
            g: &ArrayViewD<'_, F>,
            $($s: &mut ArrayD<F>,)*
            f: K,
        ) where
            K: Fn(&mut F, F $(, state_ty!($s, &mut F))*),
        {
            let n = p.len();
            let contiguous = p.is_standard_layout()
                && g.is_standard_layout()
                && g.len() == n
                $(&& $s.is_standard_layout() && $s.len() == n)*;
            if let (true, Some(p), Some(g) $(, Some($s))*) =
                (contiguous, p.as_slice_mut(), g.as_slice() $(, $s.as_slice_mut())*)
            {
                #[cfg(target_arch = "x86_64")]
                if use_avx2() {
                    // SAFETY: the CPU has AVX2 (checked at run time just above).
                    unsafe { $avx2(p, g $(, $s)*, &f) };
                    return;
                }
                $slices(p, g $(, $s)*, &f);
            } else {
                Zip::from(p).and(g)$(.and($s))*.for_each(|p, &g $(, $s)*| f(p, g $(, $s)*));
            }
        }

        #[inline(always)]
        fn $slices<F: Float, K>(p: &mut [F], g: &[F] $(, $s: &mut [F])*, f: &K)
        where
            K: Fn(&mut F, F $(, state_ty!($s, &mut F))*),
        {
            let n = p.len();
            let g = &g[..n];
            $(let $s = &mut $s[..n];)*
            for i in 0..n {
                f(&mut p[i], g[i] $(, &mut $s[i])*);
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2<F: Float, K>(p: &mut [F], g: &[F] $(, $s: &mut [F])*, f: &K)
        where
            K: Fn(&mut F, F $(, state_ty!($s, &mut F))*),
        {
            $slices(p, g $(, $s)*, f)
        }
    };
}

fused_pass!(
    /// `f(p, g)` for every element of the parameter `p` and its gradient `g`, in one
    /// pass. Shapes must have been checked equal.
    fused2, slices2, slices2_avx2, ()
);
fused_pass!(
    /// `f(p, g, a)` for every element, with one state tensor `a`. Shapes must have been
    /// checked equal.
    fused3, slices3, slices3_avx2, (a)
);
fused_pass!(
    /// `f(p, g, a, b)` for every element, with two state tensors. Shapes must have been
    /// checked equal.
    fused4, slices4, slices4_avx2, (a, b)
);
fused_pass!(
    /// `f(p, g, a, b, c)` for every element, with three state tensors. Shapes must have
    /// been checked equal.
    fused5, slices5, slices5_avx2, (a, b, c)
);

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::tensor::SeededRng;
    use rand::RngExt;

    thread_local! {
        /// Set by tests to run the portable slice loops instead of the AVX2 ones.
        pub(crate) static PORTABLE_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with the AVX2 loops switched off on this thread.
    pub(crate) fn portable<R>(f: impl FnOnce() -> R) -> R {
        PORTABLE_ONLY.with(|c| c.set(true));
        let r = f();
        PORTABLE_ONLY.with(|c| c.set(false));
        r
    }

    fn same_f32(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn random_f32(rng: &mut SeededRng) -> f32 {
        // Every bit pattern: all binades, subnormals, zeros, infinities and NaNs.
        f32::from_bits(rng.random::<u32>())
    }

    #[test]
    fn const_div_f32_matches_division_on_random_bits() {
        let mut rng = crate::tensor::seeded_rng(7);
        for i in 0..3_000_000u32 {
            let x = random_f32(&mut rng);
            // Mostly divisors in [-1, 1] (the multiplying path), some of any size.
            let d = if i % 4 == 0 {
                random_f32(&mut rng)
            } else {
                f32::from_bits(rng.random_range(0..=0x3f80_0000u32) | (rng.random::<u32>() & 0x8000_0000))
            };
            let q = ConstDiv::new(d).apply(x);
            assert!(same_f32(q, x / d), "{x:e} / {d:e}: {q:e} != {:e}", x / d);
        }
    }

    #[test]
    fn const_div_f32_matches_division_on_every_significand() {
        // The divisors Adam and NAdam use (bias corrections and their square roots) and
        // some with awkward significands, against every third significand of x in
        // [1, 2), scaled to large, small and subnormal values.
        let mut divisors: Vec<f32> =
            vec![1.0, 0.75, 0.1, f32::from_bits(0x3f7f_ffff), f32::from_bits(0x3f00_0001), 1e-8, 3.0];
        for t in [1.0f64, 2.0, 10.0, 1000.0] {
            let bc2 = 1.0 - 0.999f64.powf(t);
            divisors.push(bc2 as f32);
            divisors.push(bc2.sqrt() as f32);
        }
        for d in divisors {
            let cd = ConstDiv::new(d);
            for bits in (0x3f80_0000u32..0x4000_0000).step_by(3) {
                for scale in [1.0f32, 2.0f32.powi(-100), 2.0f32.powi(100), 2.0f32.powi(-130)] {
                    let x = f32::from_bits(bits) * scale;
                    assert!(same_f32(cd.apply(x), x / d), "{x:e} / {d:e}");
                }
            }
        }
    }

    #[test]
    fn const_div_f32_divides_where_the_product_would_round_differently() {
        // 9·2^-149 / 6 = 3·2^-150 is a subnormal midpoint (ties to even: 2·2^-149); the
        // f64 product with RN(1/6) < 1/6 would fall below it. |d| > 1 divides.
        let x = f32::from_bits(9);
        assert_eq!(ConstDiv::new(6.0f32).apply(x).to_bits(), (x / 6.0).to_bits());
        assert_eq!((x / 6.0).to_bits(), 2);
    }

    #[test]
    fn const_div_f64_is_division() {
        let cd = ConstDiv::new(0.3f64);
        for x in [1.0f64, -7.5, 1e-300, f64::INFINITY] {
            assert_eq!(cd.apply(x).to_bits(), (x / 0.3).to_bits());
        }
    }

    #[test]
    fn slice_avx2_and_zip_paths_agree() {
        let mut rng = crate::tensor::seeded_rng(3);
        for n in [0usize, 1, 7, 9, 33, 257] {
            let p0 = ArrayD::from_shape_fn(ndarray::IxDyn(&[n]), |_| rng.random::<f32>() - 0.5);
            let g = ArrayD::from_shape_fn(ndarray::IxDyn(&[n]), |_| rng.random::<f32>() - 0.5);
            let rule = |p: &mut f32, g: f32, a: &mut f32| {
                *a = *a * 0.9 + g * g;
                *p -= 0.01 * g / (a.sqrt() + 1e-8);
            };
            let run = |path: u8| {
                let mut p = p0.clone();
                let mut a = ArrayD::from_elem(p.raw_dim(), 0.25f32);
                for _ in 0..3 {
                    match path {
                        0 => fused3(&mut p.view_mut(), &g.view(), &mut a, rule),
                        1 => portable(|| fused3(&mut p.view_mut(), &g.view(), &mut a, rule)),
                        _ => Zip::from(&mut p).and(&g).and(&mut a).for_each(|p, &g, a| rule(p, g, a)),
                    }
                }
                (p, a)
            };
            let (simd, port, zip) = (run(0), run(1), run(2));
            assert_eq!(simd, port);
            assert_eq!(simd, zip);
        }
    }

    #[test]
    fn non_contiguous_views_take_the_zip_path() {
        let mut p = ndarray::Array2::<f64>::zeros((3, 4));
        let g = ndarray::Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64);
        let mut a = ArrayD::<f64>::zeros(ndarray::IxDyn(&[4, 3]));
        // p is transposed: element (i, j) of the view is p[[j, i]].
        let mut pt = p.view_mut().reversed_axes().into_dyn();
        fused3(&mut pt, &g.view().into_dyn(), &mut a, |p, g, a| {
            *a += g;
            *p = 2.0 * g;
        });
        assert_eq!(p[[2, 1]], 2.0 * g[[1, 2]]);
        assert_eq!(a[[3, 0]], 9.0);
    }
}
