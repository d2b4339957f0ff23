//! [`ExponentialLr`].

use super::{Core, GroupHparams, LrScheduler, check_param};
use crate::error::Result;

/// Multiplies every group's lr by `gamma` at every step.
///
/// Closed form: `η_t = η₀ · γ^t`. Recursive form torch uses (and so does this type):
/// `η_t = η_{t-1} · γ`.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `gamma` | required | finite, `> 0` |
///
/// # Errors
/// `new`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a
/// non-positive or non-finite `gamma` (torch accepts any float).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.ExponentialLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{ExponentialLr, GroupHparams, LrScheduler};
///
/// let mut s = ExponentialLr::new(0.5)?;
/// let mut groups = [GroupHparams::new(1.0)];
/// s.init(&mut groups)?;
/// s.step(&mut groups, None)?;
/// s.step(&mut groups, None)?;
/// assert_eq!(groups[0].lr, 0.25);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ExponentialLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLr {
    gamma: f64,
    core: Core,
}

impl ExponentialLr {
    /// `ExponentialLR(gamma)`.
    ///
    /// # Errors
    /// See [`ExponentialLr`].
    pub fn new(gamma: f64) -> Result<Self> {
        check_param("gamma", gamma, "finite and > 0", gamma.is_finite() && gamma > 0.0)?;
        Ok(ExponentialLr { gamma, core: Core::new() })
    }

    /// Decay factor per step.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for ExponentialLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("ExponentialLr::init", groups)?;
        self.core.commit_init(groups, base);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("ExponentialLr::step", groups)?;
        self.core.last_epoch += 1;
        for g in groups.iter_mut() {
            g.lr *= self.gamma;
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: base * gamma^0 = base.
        self.core.check("ExponentialLr::restart", groups)?;
        self.core.last_epoch = 0;
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::error::Error;

    #[test]
    fn invalid_gamma() {
        for g in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert!(matches!(ExponentialLr::new(g), Err(Error::InvalidParameter { name: "gamma", .. })));
        }
    }

    #[test]
    fn hand_checked() {
        // 0.2 * 0.9^3 = 0.2 * 0.729 = 0.1458
        let t = trajectory(&mut ExponentialLr::new(0.9).unwrap(), 0.2, 3);
        assert_close(t[3], 0.1458);
    }
}
