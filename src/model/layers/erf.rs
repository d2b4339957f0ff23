//! The error function and its complement in `f64`, for [`Gelu`](super::Gelu).
//!
//! Method and coefficients: W. J. Cody, "Rational Chebyshev approximations for the
//! error function", Math. Comp. 23 (1969), 631–637 (the near-minimax rational
//! approximations of its tables, as distributed in Cody's netlib `specfun` package,
//! which approximate to at least 18 significant digits):
//!
//! * `|x| ≤ 0.46875`: `erf(x) = x·P₄(x²)/Q₄(x²)`;
//! * `0.46875 < |x| ≤ 4`: `erfc(|x|) = exp(−x²)·P₈(|x|)/Q₈(|x|)`;
//! * `|x| > 4`: `erfc(|x|) = exp(−x²)/|x|·(1/√π − z·P₅(z)/Q₅(z))`, `z = 1/x²`;
//!
//! with `exp(−x²)` evaluated as `exp(−s²)·exp(−(|x|−s)(|x|+s))`, `s = ⌊16|x|⌋/16`, so the
//! rounding error of `x²` is not amplified. Symmetries: `erf(−x) = −erf(x)`,
//! `erfc(−x) = 2 − erfc(x)`. Measured against 50-digit mpmath values the relative error
//! is below 1e-15 (tests below).

// The coefficients keep the digits Cody published (more than an f64 holds).
#![allow(clippy::excessive_precision)]

/// Coefficients of `erf` on `|x| ≤ 0.46875` (numerator, then denominator; Cody's A, B).
const A: [f64; 5] =
    [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B: [f64; 4] = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
/// Coefficients of `erfc` on `0.46875 < |x| ≤ 4` (Cody's C, D).
const C: [f64; 9] = [
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
];
const D: [f64; 8] = [
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
];
/// Coefficients of `erfc` on `|x| > 4` (Cody's P, Q).
const P: [f64; 6] = [
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
];
const Q: [f64; 5] = [
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
];

/// 1/√π.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
/// Above this, `erfc(x)` underflows to 0 in `f64`.
const ERFC_UNDERFLOW: f64 = 26.543;

const SMALL: f64 = 0.46875;

/// `erf(x)` for `|x| ≤ 0.46875`.
fn erf_small(x: f64) -> f64 {
    let z = x * x;
    let mut num = A[4] * z;
    let mut den = z;
    for i in 0..3 {
        num = (num + A[i]) * z;
        den = (den + B[i]) * z;
    }
    x * (num + A[3]) / (den + B[3])
}

/// `exp(−y²)` with the argument split so the rounding of `y²` does not matter.
fn exp_neg_sq(y: f64) -> f64 {
    let s = (y * 16.0).trunc() / 16.0;
    let del = (y - s) * (y + s);
    (-s * s).exp() * (-del).exp()
}

/// `erfc(y)` for `y > 0.46875`.
fn erfc_large(y: f64) -> f64 {
    if y <= 4.0 {
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        exp_neg_sq(y) * (num + C[7]) / (den + D[7])
    } else if y >= ERFC_UNDERFLOW {
        0.0
    } else {
        let z = 1.0 / (y * y);
        let mut num = P[5] * z;
        let mut den = z;
        for i in 0..4 {
            num = (num + P[i]) * z;
            den = (den + Q[i]) * z;
        }
        let r = z * (num + P[4]) / (den + Q[4]);
        exp_neg_sq(y) * (FRAC_1_SQRT_PI - r) / y
    }
}

/// The error function `erf(x) = 2/√π ∫₀ˣ exp(−t²) dt`.
#[allow(dead_code)] // GELU needs only erfc; erf is tested alongside it
pub(crate) fn erf(x: f64) -> f64 {
    let y = x.abs();
    if y <= SMALL {
        erf_small(x)
    } else if y.is_nan() {
        f64::NAN
    } else {
        let r = 1.0 - erfc_large(y);
        if x < 0.0 { -r } else { r }
    }
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, accurate where `erf(x)` is
/// close to 1.
pub(crate) fn erfc(x: f64) -> f64 {
    let y = x.abs();
    if y <= SMALL {
        1.0 - erf_small(x)
    } else if y.is_nan() {
        f64::NAN
    } else {
        let r = erfc_large(y);
        if x < 0.0 { 2.0 - r } else { r }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (x, erf(x), erfc(x)) from mpmath with 50 significant digits, rounded to f64:
    ///
    /// ```python
    /// import mpmath; mpmath.mp.dps = 50
    /// for x in xs: print(x, float(mpmath.erf(x)), float(mpmath.erfc(x)))
    /// ```
    const CASES: [(f64, f64, f64); 22] = [
        (1e-300, 1.1283791670955126e-300, 1.0),
        (1e-10, 1.1283791670955126e-10, 0.999999999887162),
        (0.001, 0.0011283787909692365, 0.9988716212090307),
        (0.1, 0.1124629160182849, 0.887537083981715),
        (0.25, 0.27632639016823696, 0.7236736098317631),
        (0.46875, 0.49261347321793797, 0.507386526782062),
        (0.46875000000000006, 0.492613473217938, 0.507386526782062),
        (0.5, 0.5204998778130465, 0.4795001221869535),
        (std::f64::consts::FRAC_1_SQRT_2, 0.682689492137086, 0.3173105078629141),
        (1.0, 0.8427007929497149, 0.15729920705028513),
        (1.5, 0.9661051464753108, 0.033894853524689274),
        (2.0, 0.9953222650189527, 0.004677734981047266),
        (3.0, 0.9999779095030014, 2.209049699858544e-05),
        (3.9999999999999996, 0.9999999845827421, 1.5417257900280076e-08),
        (4.0, 0.9999999845827421, 1.541725790028002e-08),
        (4.5, 0.9999999998033839, 1.9661604415428876e-10),
        (5.5, 0.9999999999999927, 7.357847917974398e-15),
        (6.0, 1.0, 2.1519736712498913e-17),
        (10.0, 1.0, 2.088487583762545e-45),
        (20.0, 1.0, 5.395865611607901e-176),
        (26.5, 1.0, 2.2109076642637343e-307),
        (27.0, 1.0, 5.23705e-319),
    ];

    fn rel(a: f64, b: f64) -> f64 {
        if a == b { 0.0 } else { (a - b).abs() / b.abs() }
    }

    #[test]
    fn matches_mpmath() {
        for &(x, e, c) in &CASES {
            assert!(rel(erf(x), e) < 1e-15, "erf({x}) = {} vs {e}", erf(x));
            assert!(rel(erf(-x), -e) < 1e-15, "erf(-{x})");
            if x < 26.6 {
                assert!(
                    rel(erfc(x), c) < 1e-15,
                    "erfc({x}) = {:e} vs {c:e}, rel {:e}",
                    erfc(x),
                    rel(erfc(x), c)
                );
            }
            assert!(rel(erfc(-x), 2.0 - c) < 1e-15, "erfc(-{x})");
        }
        // Subnormal / underflowing tail: 0 beyond the threshold.
        assert_eq!(erfc(27.0), 0.0);
        assert_eq!(erfc(f64::INFINITY), 0.0);
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erf(f64::NEG_INFINITY), -1.0);
        assert_eq!(erfc(f64::NEG_INFINITY), 2.0);
        assert!(erf(f64::NAN).is_nan() && erfc(f64::NAN).is_nan());
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erfc(0.0), 1.0);
    }

    #[test]
    fn dense_grid_is_monotone_and_consistent() {
        // erf is increasing; erf + erfc = 1 where both are O(1).
        let mut prev = -1.0;
        for i in -6000..=6000 {
            let x = i as f64 * 1e-3;
            let e = erf(x);
            assert!(e >= prev, "erf not monotone at {x}");
            prev = e;
            if x.abs() < 2.0 {
                assert!((e + erfc(x) - 1.0).abs() < 4e-16, "{x}");
            }
        }
    }
}
