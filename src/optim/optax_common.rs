//! Pieces shared by the optimizers that follow optax (Lion, LAMB, LARS, schedule-free,
//! Muon): numpy's sign and the trust ratio.

use crate::tensor::Float;

/// numpy / JAX `sign`: `-1`, `0` or `1`, and NaN for NaN. Unlike `f64::signum`, both
/// zeros give zero (a zero update, not a full step).
#[inline(always)]
pub(crate) fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        x
    }
}

/// optax's `scale_by_trust_ratio` factor: `coefficient·‖p‖ / (‖u‖ + eps)`, and `1` when
/// either norm is zero (a fresh zero-initialised bias, or a zero update).
#[inline]
pub(crate) fn trust_ratio<F: Float>(param_norm: F, update_norm: F, coefficient: F, eps: F) -> F {
    if param_norm == F::zero() || update_norm == F::zero() {
        F::one()
    } else {
        coefficient * param_norm / (update_norm + eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_keeps_zero() {
        assert_eq!(sign(0.0f64), 0.0);
        assert_eq!(sign(-0.0f64), 0.0);
        assert_eq!(sign(-3.0f32), -1.0);
        assert_eq!(sign(2.5f64), 1.0);
        assert!(sign(f64::NAN).is_nan());
    }

    #[test]
    fn trust_ratio_is_one_for_zero_norms() {
        assert_eq!(trust_ratio(0.0, 2.0, 0.001, 0.0), 1.0);
        assert_eq!(trust_ratio(3.0, 0.0, 1.0, 0.0), 1.0);
        assert_eq!(trust_ratio(3.0, 2.0, 1.0, 0.0), 1.5);
        // 0.5 * 3 / (2 + 1)
        assert_eq!(trust_ratio(3.0, 2.0, 0.5, 1.0), 0.5);
    }
}
