//! Warm-up factors: [`ConstantLr`] and [`LinearLr`].

use super::{Core, GroupHparams, LrScheduler, check_param};
use crate::error::Result;

/// Multiplies every group's lr by a constant `factor` for the first `total_iters` steps,
/// then restores it.
///
/// Closed form: `η_t = η₀ · factor` for `t < total_iters`, `η_t = η₀` after.
/// Recursive form torch uses (and so does this type): at `init` (`t = 0`)
/// `η_0 = η · factor`; at `t = total_iters`, `η_t = η_{t-1} · (1 / factor)`; otherwise
/// unchanged. The lr changes at `init`, as torch's constructor changes it.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `factor` | 1/3 | `(0, 1]` |
/// | `total_iters` | 5 | `>= 0` |
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for `factor`
/// outside `(0, 1]`. Deviation: torch also accepts `factor = 0`, which then produces a NaN
/// lr (`0 · (1/0)`) at `total_iters`.
///
/// Reference: PyTorch `torch.optim.lr_scheduler.ConstantLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{ConstantLr, GroupHparams, LrScheduler};
///
/// let mut s = ConstantLr::builder().factor(0.5).total_iters(2).build()?;
/// let mut groups = [GroupHparams::new(0.2)];
/// s.init(&mut groups)?;
/// assert_eq!(groups[0].lr, 0.1);
/// s.step(&mut groups, None)?;
/// s.step(&mut groups, None)?;
/// assert_eq!(groups[0].lr, 0.2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ConstantLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantLr {
    factor: f64,
    total_iters: usize,
    core: Core,
}

/// Builder of [`ConstantLr`].
#[derive(Clone, Debug)]
pub struct ConstantLrBuilder {
    factor: f64,
    total_iters: usize,
}

impl ConstantLrBuilder {
    /// Factor applied until `total_iters` (default 1/3).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Number of steps the factor applies (default 5).
    pub fn total_iters(mut self, total_iters: usize) -> Self {
        self.total_iters = total_iters;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`ConstantLr`].
    pub fn build(self) -> Result<ConstantLr> {
        check_param("factor", self.factor, "(0, 1]", self.factor > 0.0 && self.factor <= 1.0)?;
        Ok(ConstantLr { factor: self.factor, total_iters: self.total_iters, core: Core::new() })
    }
}

impl Default for ConstantLr {
    /// torch's defaults: `factor = 1/3`, `total_iters = 5`.
    fn default() -> Self {
        ConstantLr { factor: 1.0 / 3.0, total_iters: 5, core: Core::new() }
    }
}

impl ConstantLr {
    /// A builder with torch's defaults.
    pub fn builder() -> ConstantLrBuilder {
        ConstantLrBuilder { factor: 1.0 / 3.0, total_iters: 5 }
    }

    /// The factor.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Steps the factor applies.
    pub fn total_iters(&self) -> usize {
        self.total_iters
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for ConstantLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("ConstantLr::init", groups)?;
        self.core.commit_init(groups, base);
        for g in groups.iter_mut() {
            g.lr *= self.factor;
        }
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("ConstantLr::step", groups)?;
        self.core.last_epoch += 1;
        if self.core.last_epoch == self.total_iters as i64 {
            for g in groups.iter_mut() {
                g.lr *= 1.0 / self.factor;
            }
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: base * (factor + [0 >= total_iters] * (1 - factor)).
        self.core.check("ConstantLr::restart", groups)?;
        self.core.last_epoch = 0;
        let f = if self.total_iters == 0 { self.factor + (1.0 - self.factor) } else { self.factor };
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b * f;
        }
        Ok(())
    }
}

/// Multiplies every group's lr by a factor that moves linearly from `start_factor` to
/// `end_factor` over `total_iters` steps (a linear warm-up or decay), then keeps it.
///
/// Closed form: `η_t = η₀ · (s + (e − s) · min(t, T) / T)` with `s = start_factor`,
/// `e = end_factor`, `T = total_iters`.
/// Recursive form torch uses (and so does this type): `η_0 = η · s` at `init`, and for
/// `1 ≤ t ≤ T`: `η_t = η_{t-1} · (1 + (e − s) / (T·s + (t − 1)·(e − s)))`; unchanged after.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `start_factor` | 1/3 | `(0, 1]` |
/// | `end_factor` | 1.0 | `[0, 1]` |
/// | `total_iters` | 5 | `>= 0` |
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for
/// `start_factor` outside `(0, 1]` or `end_factor` outside `[0, 1]` (torch's
/// `ValueError`s).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.LinearLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LinearLr, LrScheduler};
///
/// let mut s = LinearLr::builder().start_factor(0.25).total_iters(3).build()?;
/// let mut groups = [GroupHparams::new(0.4)];
/// s.init(&mut groups)?;
/// assert_eq!(groups[0].lr, 0.1);
/// s.step(&mut groups, None)?;
/// assert!((groups[0].lr - 0.2).abs() < 1e-15); // 0.4 * (0.25 + 0.75 / 3)
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "LinearLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct LinearLr {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
    core: Core,
}

/// Builder of [`LinearLr`].
#[derive(Clone, Debug)]
pub struct LinearLrBuilder {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl LinearLrBuilder {
    /// Factor at step 0 (default 1/3).
    pub fn start_factor(mut self, v: f64) -> Self {
        self.start_factor = v;
        self
    }

    /// Factor from step `total_iters` on (default 1.0).
    pub fn end_factor(mut self, v: f64) -> Self {
        self.end_factor = v;
        self
    }

    /// Length of the ramp in steps (default 5).
    pub fn total_iters(mut self, v: usize) -> Self {
        self.total_iters = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`LinearLr`].
    pub fn build(self) -> Result<LinearLr> {
        let (s, e) = (self.start_factor, self.end_factor);
        check_param("start_factor", s, "(0, 1]", s > 0.0 && s <= 1.0)?;
        check_param("end_factor", e, "[0, 1]", (0.0..=1.0).contains(&e))?;
        Ok(LinearLr { start_factor: s, end_factor: e, total_iters: self.total_iters, core: Core::new() })
    }
}

impl Default for LinearLr {
    /// torch's defaults: `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    fn default() -> Self {
        LinearLr { start_factor: 1.0 / 3.0, end_factor: 1.0, total_iters: 5, core: Core::new() }
    }
}

impl LinearLr {
    /// A builder with torch's defaults.
    pub fn builder() -> LinearLrBuilder {
        LinearLrBuilder { start_factor: 1.0 / 3.0, end_factor: 1.0, total_iters: 5 }
    }

    /// Factor at step 0.
    pub fn start_factor(&self) -> f64 {
        self.start_factor
    }

    /// Final factor.
    pub fn end_factor(&self) -> f64 {
        self.end_factor
    }

    /// Length of the ramp.
    pub fn total_iters(&self) -> usize {
        self.total_iters
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for LinearLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("LinearLr::init", groups)?;
        self.core.commit_init(groups, base);
        for g in groups.iter_mut() {
            g.lr *= self.start_factor;
        }
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("LinearLr::step", groups)?;
        self.core.last_epoch += 1;
        let t = self.core.last_epoch;
        if t <= self.total_iters as i64 {
            let (s, e) = (self.start_factor, self.end_factor);
            let f = 1.0 + (e - s) / (self.total_iters as f64 * s + (t - 1) as f64 * (e - s));
            for g in groups.iter_mut() {
                g.lr *= f;
            }
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: base * start_factor (min(T, 0) / T = 0).
        self.core.check("LinearLr::restart", groups)?;
        self.core.last_epoch = 0;
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b * self.start_factor;
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
    fn invalid_parameters() {
        for f in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(matches!(
                ConstantLr::builder().factor(f).build(),
                Err(Error::InvalidParameter { name: "factor", .. })
            ));
            assert!(matches!(
                LinearLr::builder().start_factor(f).build(),
                Err(Error::InvalidParameter { name: "start_factor", .. })
            ));
        }
        for f in [-0.1, 1.5, f64::NAN] {
            assert!(matches!(
                LinearLr::builder().end_factor(f).build(),
                Err(Error::InvalidParameter { name: "end_factor", .. })
            ));
        }
        assert!(LinearLr::builder().end_factor(0.0).build().is_ok());
        assert!(ConstantLr::builder().factor(1.0).build().is_ok());
    }

    #[test]
    fn constant_hand_checked() {
        // Default factor 1/3 over 5 steps on lr 0.3: 0.1 for t = 0..4, 0.3 from t = 5.
        let t = trajectory(&mut ConstantLr::default(), 0.3, 6);
        for (i, lr) in t.iter().enumerate() {
            assert_close(*lr, if i < 5 { 0.1 } else { 0.3 });
        }
    }

    #[test]
    fn linear_matches_closed_form() {
        // start 0.1 -> end 0.9 over 8 steps on lr 2: closed form 2 * (0.1 + 0.8 * min(t, 8) / 8),
        // e.g. t = 4 -> 2 * 0.5 = 1.0; stepped per batch for 12 steps.
        let t = trajectory(
            &mut LinearLr::builder().start_factor(0.1).end_factor(0.9).total_iters(8).build().unwrap(),
            2.0,
            12,
        );
        for (i, lr) in t.iter().enumerate() {
            assert_close(*lr, 2.0 * (0.1 + 0.8 * (i.min(8) as f64) / 8.0));
        }
        assert_close(t[4], 1.0);
    }

    #[test]
    fn restart_uses_closed_form() {
        let mut s = LinearLr::default();
        let mut g = groups(&[0.3]);
        s.init(&mut g).unwrap();
        for _ in 0..3 {
            s.step(&mut g, None).unwrap();
        }
        s.restart(&mut g).unwrap();
        assert_eq!(s.last_epoch(), 0);
        assert_close(g[0].lr, 0.1);
        let mut c = ConstantLr::builder().factor(0.5).total_iters(0).build().unwrap();
        c.init(&mut g).unwrap();
        c.restart(&mut g).unwrap();
        assert_close(g[0].lr, 0.3);
    }
}
