//! [`PolynomialLr`].

use super::{Core, GroupHparams, LrScheduler, check_param};
use crate::error::Result;

/// Decays every group's lr to 0 over `total_iters` steps along a polynomial.
///
/// Closed form: `η_t = η₀ · (1 − min(t, T) / T)^p` with `T = total_iters`, `p = power`.
/// Recursive form torch uses (and so does this type): for `1 ≤ t ≤ T`,
/// `η_t = η_{t-1} · ((1 − t/T) / (1 − (t − 1)/T))^p`; unchanged after `T` (so the lr
/// stays 0).
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `total_iters` | 5 | `>= 0` |
/// | `power` | 1.0 | finite, `>= 0` |
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a negative or
/// non-finite `power` (torch accepts it; a negative power makes the lr infinite at `T`).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.PolynomialLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler, PolynomialLr};
///
/// let mut s = PolynomialLr::builder().total_iters(4).power(2.0).build()?;
/// let mut groups = [GroupHparams::new(1.6)];
/// s.init(&mut groups)?;
/// s.step(&mut groups, None)?;
/// s.step(&mut groups, None)?;
/// assert!((groups[0].lr - 0.4).abs() < 1e-15); // 1.6 * (1 - 2/4)^2
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "PolynomialLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct PolynomialLr {
    total_iters: usize,
    power: f64,
    core: Core,
}

/// Builder of [`PolynomialLr`].
#[derive(Clone, Debug)]
pub struct PolynomialLrBuilder {
    total_iters: usize,
    power: f64,
}

impl PolynomialLrBuilder {
    /// Steps until the lr reaches 0 (default 5).
    pub fn total_iters(mut self, v: usize) -> Self {
        self.total_iters = v;
        self
    }

    /// Power of the polynomial (default 1.0).
    pub fn power(mut self, v: f64) -> Self {
        self.power = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`PolynomialLr`].
    pub fn build(self) -> Result<PolynomialLr> {
        check_param("power", self.power, "finite and >= 0", self.power.is_finite() && self.power >= 0.0)?;
        Ok(PolynomialLr { total_iters: self.total_iters, power: self.power, core: Core::new() })
    }
}

impl Default for PolynomialLr {
    /// torch's defaults: `total_iters = 5`, `power = 1`.
    fn default() -> Self {
        PolynomialLr { total_iters: 5, power: 1.0, core: Core::new() }
    }
}

impl PolynomialLr {
    /// A builder with torch's defaults.
    pub fn builder() -> PolynomialLrBuilder {
        PolynomialLrBuilder { total_iters: 5, power: 1.0 }
    }

    /// Steps until the lr reaches 0.
    pub fn total_iters(&self) -> usize {
        self.total_iters
    }

    /// Power of the polynomial.
    pub fn power(&self) -> f64 {
        self.power
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for PolynomialLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("PolynomialLr::init", groups)?;
        self.core.commit_init(groups, base);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("PolynomialLr::step", groups)?;
        self.core.last_epoch += 1;
        let t = self.core.last_epoch;
        if t <= self.total_iters as i64 {
            let big_t = self.total_iters as f64;
            let f = ((1.0 - t as f64 / big_t) / (1.0 - (t - 1) as f64 / big_t)).powf(self.power);
            for g in groups.iter_mut() {
                g.lr *= f;
            }
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: base * (1 - 0)^power = base.
        self.core.check("PolynomialLr::restart", groups)?;
        self.core.last_epoch = 0;
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b * 1f64.powf(self.power);
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
    fn invalid_power() {
        for p in [-0.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                PolynomialLr::builder().power(p).build(),
                Err(Error::InvalidParameter { name: "power", .. })
            ));
        }
    }

    #[test]
    fn matches_closed_form_and_stays_at_zero() {
        // power 0.5, T = 10 on lr 1: t = 6 -> sqrt(0.4) = 0.6324555320336759; t >= 10 -> 0.
        let t = trajectory(&mut PolynomialLr::builder().total_iters(10).power(0.5).build().unwrap(), 1.0, 14);
        for (i, lr) in t.iter().enumerate() {
            assert_close(*lr, (1.0 - i.min(10) as f64 / 10.0).sqrt());
        }
        assert_close(t[6], 0.6324555320336759);
        assert_eq!(t[14], 0.0);
    }

    #[test]
    fn zero_total_iters_keeps_lr() {
        let t = trajectory(&mut PolynomialLr::builder().total_iters(0).build().unwrap(), 0.5, 3);
        assert_eq!(t, vec![0.5; 4]);
    }
}
