//! Cosine annealing: [`CosineAnnealingLr`] and [`CosineAnnealingWarmRestarts`].

use std::f64::consts::PI;

use super::{Core, GroupHparams, LrScheduler, check_count, check_param};
use crate::error::Result;

fn check_eta_min(eta_min: f64) -> Result<()> {
    check_param("eta_min", eta_min, "finite and >= 0", eta_min.is_finite() && eta_min >= 0.0)
}

/// Anneals every group's lr from its base value to `eta_min` along half a cosine over
/// `T_max` steps (SGDR without restarts).
///
/// Closed form (SGDR): `η_t = η_min + ½ (η₀ − η_min) (1 + cos(π t / T_max))`.
///
/// Recursive form torch uses (and so does this type), for `t ≥ 1`:
///
/// ```text
/// η_t = η_min + (η_{t-1} − η_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t−1) / T_max))
/// η_t = η_{t-1} + (η₀ − η_min) (1 − cos(π / T_max)) / 2     when (t − 1 − T_max) mod 2T_max = 0
/// ```
///
/// Past `T_max` the recursion keeps going: the lr climbs back up along the cosine (period
/// `2 T_max`), as in torch. The two forms agree to a few ulps.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `T_max` | required | `>= 1` |
/// | `eta_min` | 0.0 | finite, `>= 0` |
///
/// # Errors
/// `new` / `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for
/// `T_max == 0` (torch divides by zero) or a negative or non-finite `eta_min`.
///
/// Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm
/// Restarts", ICLR 2017; PyTorch `torch.optim.lr_scheduler.CosineAnnealingLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{CosineAnnealingLr, GroupHparams, LrScheduler};
///
/// let mut s = CosineAnnealingLr::builder(4).eta_min(0.01).build()?;
/// let mut groups = [GroupHparams::new(0.11)];
/// s.init(&mut groups)?;
/// s.step(&mut groups, None)?;
/// s.step(&mut groups, None)?;
/// assert!((groups[0].lr - 0.06).abs() < 1e-15); // halfway: 0.01 + 0.1 * (1 + cos(pi/2)) / 2
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "CosineAnnealingLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    t_max: usize,
    eta_min: f64,
    core: Core,
}

/// Builder of [`CosineAnnealingLr`].
#[derive(Clone, Debug)]
pub struct CosineAnnealingLrBuilder {
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLrBuilder {
    /// Minimum learning rate (default 0).
    pub fn eta_min(mut self, v: f64) -> Self {
        self.eta_min = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`CosineAnnealingLr`].
    pub fn build(self) -> Result<CosineAnnealingLr> {
        check_count("T_max", self.t_max, 1, ">= 1")?;
        check_eta_min(self.eta_min)?;
        Ok(CosineAnnealingLr { t_max: self.t_max, eta_min: self.eta_min, core: Core::new() })
    }
}

impl CosineAnnealingLr {
    /// `CosineAnnealingLR(T_max)` with `eta_min = 0`.
    ///
    /// # Errors
    /// See [`CosineAnnealingLr`].
    pub fn new(t_max: usize) -> Result<Self> {
        Self::builder(t_max).build()
    }

    /// A builder with torch's defaults.
    #[doc(alias = "T_max")]
    pub fn builder(t_max: usize) -> CosineAnnealingLrBuilder {
        CosineAnnealingLrBuilder { t_max, eta_min: 0.0 }
    }

    /// Half period in steps.
    #[doc(alias = "T_max")]
    pub fn t_max(&self) -> usize {
        self.t_max
    }

    /// Minimum learning rate.
    pub fn eta_min(&self) -> f64 {
        self.eta_min
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for CosineAnnealingLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("CosineAnnealingLr::init", groups)?;
        self.core.commit_init(groups, base);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("CosineAnnealingLr::step", groups)?;
        self.core.last_epoch += 1;
        let t = self.core.last_epoch;
        let t_max = self.t_max as i64;
        let tm = self.t_max as f64;
        let eta_min = self.eta_min;
        if (t - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            // The minimum of the cosine: the ratio below would divide by zero.
            let c = 1.0 - (PI / tm).cos();
            for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
                g.lr += (b - eta_min) * c / 2.0;
            }
        } else {
            let ratio = (1.0 + (PI * t as f64 / tm).cos()) / (1.0 + (PI * (t - 1) as f64 / tm).cos());
            for g in groups.iter_mut() {
                g.lr = ratio * (g.lr - eta_min) + eta_min;
            }
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: eta_min + (base - eta_min) * (1 + cos 0) / 2.
        self.core.check("CosineAnnealingLr::restart", groups)?;
        self.core.last_epoch = 0;
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = self.eta_min + (b - self.eta_min) * (1.0 + (PI * 0.0 / self.t_max as f64).cos()) / 2.0;
        }
        Ok(())
    }
}

/// Cosine annealing with warm restarts (SGDR): the lr follows half a cosine from its base
/// value to `eta_min` over `T_i` steps, then jumps back; each period is `T_mult` times
/// longer than the last (`T_0`, `T_0·T_mult`, ...).
///
/// `η_t = η_min + ½ (η₀ − η_min) (1 + cos(π T_cur / T_i))`, where `T_cur` counts steps
/// since the last restart: at each step `T_cur += 1`, and when `T_cur ≥ T_i`,
/// `T_cur −= T_i` and `T_i *= T_mult`. Computed from the base lr (not chainable), as
/// in torch.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `T_0` | required | `>= 1` |
/// | `T_mult` | 1 | `>= 1` |
/// | `eta_min` | 0.0 | finite, `>= 0` |
///
/// # Errors
/// `new` / `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for
/// `T_0 == 0`, `T_mult == 0` (torch's `ValueError`s) or a negative or non-finite
/// `eta_min`. Deviation: no fractional `step(epoch)` form.
///
/// Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm
/// Restarts", ICLR 2017; PyTorch `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{CosineAnnealingWarmRestarts, GroupHparams, LrScheduler};
///
/// let mut s = CosineAnnealingWarmRestarts::builder(2).t_mult(2).build()?;
/// let mut groups = [GroupHparams::new(1.0)];
/// s.init(&mut groups)?;
/// let mut lrs = vec![groups[0].lr];
/// for _ in 0..4 {
///     s.step(&mut groups, None)?;
///     lrs.push(groups[0].lr);
/// }
/// // period 2: 1, 0.5; restart, period 4: 1, 0.85.., 0.5
/// assert!((lrs[1] - 0.5).abs() < 1e-15 && lrs[2] == 1.0 && (lrs[4] - 0.5).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    t_0: usize,
    t_mult: usize,
    eta_min: f64,
    t_i: usize,
    t_cur: usize,
    core: Core,
}

/// Builder of [`CosineAnnealingWarmRestarts`].
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestartsBuilder {
    t_0: usize,
    t_mult: usize,
    eta_min: f64,
}

impl CosineAnnealingWarmRestartsBuilder {
    /// Growth factor of the period after each restart (default 1).
    #[doc(alias = "T_mult")]
    pub fn t_mult(mut self, v: usize) -> Self {
        self.t_mult = v;
        self
    }

    /// Minimum learning rate (default 0).
    pub fn eta_min(mut self, v: f64) -> Self {
        self.eta_min = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`CosineAnnealingWarmRestarts`].
    pub fn build(self) -> Result<CosineAnnealingWarmRestarts> {
        check_count("T_0", self.t_0, 1, ">= 1")?;
        check_count("T_mult", self.t_mult, 1, ">= 1")?;
        check_eta_min(self.eta_min)?;
        Ok(CosineAnnealingWarmRestarts {
            t_0: self.t_0,
            t_mult: self.t_mult,
            eta_min: self.eta_min,
            t_i: self.t_0,
            t_cur: 0,
            core: Core::new(),
        })
    }
}

impl CosineAnnealingWarmRestarts {
    /// `CosineAnnealingWarmRestarts(T_0)` with `T_mult = 1`, `eta_min = 0`.
    ///
    /// # Errors
    /// See [`CosineAnnealingWarmRestarts`].
    pub fn new(t_0: usize) -> Result<Self> {
        Self::builder(t_0).build()
    }

    /// A builder with torch's defaults.
    #[doc(alias = "T_0")]
    pub fn builder(t_0: usize) -> CosineAnnealingWarmRestartsBuilder {
        CosineAnnealingWarmRestartsBuilder { t_0, t_mult: 1, eta_min: 0.0 }
    }

    /// Length of the first period.
    #[doc(alias = "T_0")]
    pub fn t_0(&self) -> usize {
        self.t_0
    }

    /// Growth factor of the period.
    #[doc(alias = "T_mult")]
    pub fn t_mult(&self) -> usize {
        self.t_mult
    }

    /// Minimum learning rate.
    pub fn eta_min(&self) -> f64 {
        self.eta_min
    }

    /// Steps since the last restart (torch `T_cur`).
    #[doc(alias = "T_cur")]
    pub fn t_cur(&self) -> usize {
        self.t_cur
    }

    /// Length of the current period (torch `T_i`).
    #[doc(alias = "T_i")]
    pub fn t_i(&self) -> usize {
        self.t_i
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    fn apply(&self, groups: &mut [GroupHparams]) {
        let c = 1.0 + (PI * self.t_cur as f64 / self.t_i as f64).cos();
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = self.eta_min + (b - self.eta_min) * c / 2.0;
        }
    }
}

impl LrScheduler for CosineAnnealingWarmRestarts {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("CosineAnnealingWarmRestarts::init", groups)?;
        self.core.commit_init(groups, base);
        self.t_i = self.t_0;
        self.t_cur = 0;
        self.apply(groups);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("CosineAnnealingWarmRestarts::step", groups)?;
        self.core.last_epoch += 1;
        self.t_cur += 1;
        if self.t_cur >= self.t_i {
            self.t_cur %= self.t_i;
            self.t_i = self.t_i.saturating_mul(self.t_mult);
        }
        self.apply(groups);
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        self.core.check("CosineAnnealingWarmRestarts::restart", groups)?;
        self.core.last_epoch = 0;
        self.t_i = self.t_0;
        self.t_cur = 0;
        self.apply(groups);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::error::Error;

    #[test]
    fn invalid_parameters() {
        assert!(matches!(CosineAnnealingLr::new(0), Err(Error::InvalidParameter { name: "T_max", .. })));
        for e in [-1e-3, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                CosineAnnealingLr::builder(3).eta_min(e).build(),
                Err(Error::InvalidParameter { name: "eta_min", .. })
            ));
            assert!(matches!(
                CosineAnnealingWarmRestarts::builder(3).eta_min(e).build(),
                Err(Error::InvalidParameter { name: "eta_min", .. })
            ));
        }
        assert!(matches!(
            CosineAnnealingWarmRestarts::new(0),
            Err(Error::InvalidParameter { name: "T_0", .. })
        ));
        assert!(matches!(
            CosineAnnealingWarmRestarts::builder(2).t_mult(0).build(),
            Err(Error::InvalidParameter { name: "T_mult", .. })
        ));
    }

    #[test]
    fn recursive_matches_closed_form_past_t_max() {
        // T_max = 6, eta_min 0.01, lr 0.5, 30 steps (2.5 periods of 2 T_max):
        // closed form 0.01 + 0.49 * (1 + cos(pi t / 6)) / 2; t = 3 -> 0.255, t = 6 -> 0.01, t = 12 -> 0.5.
        let t = trajectory(&mut CosineAnnealingLr::builder(6).eta_min(0.01).build().unwrap(), 0.5, 30);
        for (i, lr) in t.iter().enumerate() {
            let closed = 0.01 + 0.49 * (1.0 + (PI * i as f64 / 6.0).cos()) / 2.0;
            assert!((lr - closed).abs() < 1e-14, "t={i}: {lr} vs {closed}");
        }
        assert_close(t[3], 0.255);
        assert_close(t[6], 0.01);
        assert_close(t[12], 0.5);
    }

    #[test]
    fn warm_restarts_periods() {
        // T_0 = 3, T_mult = 2: restarts at t = 3 and t = 9 (3 + 6), where lr = base again.
        let mut s = CosineAnnealingWarmRestarts::builder(3).t_mult(2).eta_min(0.1).build().unwrap();
        let t = trajectory(&mut s, 1.1, 10);
        assert_eq!((t[0], t[3], t[9]), (1.1, 1.1, 1.1));
        // t = 6: T_cur = 3 of T_i = 6 -> 0.1 + 1.0 * (1 + cos(pi/2)) / 2 = 0.6
        assert_close(t[6], 0.6);
        assert_eq!((s.t_cur(), s.t_i()), (1, 12));
    }
}
