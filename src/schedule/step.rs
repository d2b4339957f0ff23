//! Step decays: [`StepLr`] and [`MultiStepLr`].

use super::{Core, GroupHparams, LrScheduler, check_count, check_param};
use crate::error::Result;

fn check_gamma(gamma: f64) -> Result<()> {
    check_param("gamma", gamma, "finite and > 0", gamma.is_finite() && gamma > 0.0)
}

/// Multiplies every group's lr by `gamma` every `step_size` steps.
///
/// Closed form, at step `t` from base lr `η₀`: `η_t = η₀ · γ^⌊t / step_size⌋`.
/// Recursive form torch uses (and so does this type): at step `t > 0`,
/// `η_t = η_{t-1} · γ` if `t mod step_size == 0`, else `η_t = η_{t-1}`.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `step_size` | required | `>= 1` |
/// | `gamma` | 0.1 | finite, `> 0` |
///
/// # Errors
/// `build` / `new`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for
/// `step_size == 0` (torch divides by zero) or a non-positive or non-finite `gamma`
/// (torch accepts any float).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.StepLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler, StepLr};
///
/// let mut s = StepLr::builder(2).gamma(0.5).build()?;
/// let mut groups = [GroupHparams::new(0.1)];
/// s.init(&mut groups)?;
/// for _ in 0..4 {
///     s.step(&mut groups, None)?;
/// }
/// assert_eq!(groups[0].lr, 0.025); // 0.1 * 0.5^(4/2)
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "StepLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    step_size: usize,
    gamma: f64,
    core: Core,
}

/// Builder of [`StepLr`].
#[derive(Clone, Debug)]
pub struct StepLrBuilder {
    step_size: usize,
    gamma: f64,
}

impl StepLrBuilder {
    /// Multiplicative decay factor (default 0.1).
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`StepLr`].
    pub fn build(self) -> Result<StepLr> {
        check_count("step_size", self.step_size, 1, ">= 1")?;
        check_gamma(self.gamma)?;
        Ok(StepLr { step_size: self.step_size, gamma: self.gamma, core: Core::new() })
    }
}

impl StepLr {
    /// `StepLR(step_size)` with torch's default `gamma = 0.1`.
    ///
    /// # Errors
    /// See [`StepLr`].
    pub fn new(step_size: usize) -> Result<Self> {
        Self::builder(step_size).build()
    }

    /// A builder with torch's defaults.
    pub fn builder(step_size: usize) -> StepLrBuilder {
        StepLrBuilder { step_size, gamma: 0.1 }
    }

    /// Period of the decay.
    pub fn step_size(&self) -> usize {
        self.step_size
    }

    /// Decay factor.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }
}

impl LrScheduler for StepLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("StepLr::init", groups)?;
        self.core.commit_init(groups, base);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("StepLr::step", groups)?;
        self.core.last_epoch += 1;
        if self.core.last_epoch % self.step_size as i64 == 0 {
            for g in groups.iter_mut() {
                g.lr *= self.gamma;
            }
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: the base lr.
        self.core.check("StepLr::restart", groups)?;
        self.core.last_epoch = 0;
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b;
        }
        Ok(())
    }
}

/// Multiplies every group's lr by `gamma` each time the step count reaches a milestone.
///
/// Closed form: `η_t = η₀ · γ^(number of milestones ≤ t)`. Recursive form torch uses
/// (and so does this type): at step `t`, `η_t = η_{t-1} · γ^(count of t in milestones)`.
/// A milestone listed twice applies `γ` twice (torch keeps the milestones in a
/// `Counter`); the list need not be sorted.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `milestones` | required | step indices |
/// | `gamma` | 0.1 | finite, `> 0` |
///
/// # Errors
/// `build` / `new`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a
/// non-positive or non-finite `gamma` (torch accepts any float).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.MultiStepLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler, MultiStepLr};
///
/// let mut s = MultiStepLr::builder([2, 4]).gamma(0.5).build()?;
/// let mut groups = [GroupHparams::new(0.8)];
/// s.init(&mut groups)?;
/// let mut lrs = vec![groups[0].lr];
/// for _ in 0..5 {
///     s.step(&mut groups, None)?;
///     lrs.push(groups[0].lr);
/// }
/// assert_eq!(lrs, [0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "MultiStepLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLr {
    milestones: Vec<usize>,
    gamma: f64,
    core: Core,
}

/// Builder of [`MultiStepLr`].
#[derive(Clone, Debug)]
pub struct MultiStepLrBuilder {
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLrBuilder {
    /// Multiplicative decay factor (default 0.1).
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`MultiStepLr`].
    pub fn build(self) -> Result<MultiStepLr> {
        check_gamma(self.gamma)?;
        let mut milestones = self.milestones;
        milestones.sort_unstable();
        Ok(MultiStepLr { milestones, gamma: self.gamma, core: Core::new() })
    }
}

impl MultiStepLr {
    /// `MultiStepLR(milestones)` with torch's default `gamma = 0.1`.
    ///
    /// # Errors
    /// See [`MultiStepLr`].
    pub fn new(milestones: impl Into<Vec<usize>>) -> Result<Self> {
        Self::builder(milestones).build()
    }

    /// A builder with torch's defaults.
    pub fn builder(milestones: impl Into<Vec<usize>>) -> MultiStepLrBuilder {
        MultiStepLrBuilder { milestones: milestones.into(), gamma: 0.1 }
    }

    /// The milestones, sorted (repeats kept).
    pub fn milestones(&self) -> &[usize] {
        &self.milestones
    }

    /// Decay factor.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    /// How many times `t` is listed.
    fn count(&self, t: i64) -> usize {
        if t < 0 {
            return 0;
        }
        let t = t as usize;
        let lo = self.milestones.partition_point(|&m| m < t);
        let hi = self.milestones.partition_point(|&m| m <= t);
        hi - lo
    }

    /// `lr *= gamma^count(t)` if `t` is a milestone.
    fn apply(&self, groups: &mut [GroupHparams], t: i64) {
        let c = self.count(t);
        if c > 0 {
            let f = self.gamma.powf(c as f64);
            for g in groups.iter_mut() {
                g.lr *= f;
            }
        }
    }
}

impl LrScheduler for MultiStepLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        let base = Core::base_lrs_of("MultiStepLr::init", groups)?;
        self.core.commit_init(groups, base);
        // torch's step 0 applies a milestone at 0 too.
        self.apply(groups, 0);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("MultiStepLr::step", groups)?;
        self.core.last_epoch += 1;
        self.apply(groups, self.core.last_epoch);
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // Closed form at t = 0: base * gamma^(milestones <= 0).
        self.core.check("MultiStepLr::restart", groups)?;
        self.core.last_epoch = 0;
        let f = self.gamma.powf(self.count(0) as f64);
        for (g, &b) in groups.iter_mut().zip(&self.core.base_lrs) {
            g.lr = b * f;
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
    fn step_lr_invalid_parameters() {
        assert!(matches!(StepLr::new(0), Err(Error::InvalidParameter { name: "step_size", .. })));
        for g in [0.0, -0.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                StepLr::builder(3).gamma(g).build(),
                Err(Error::InvalidParameter { name: "gamma", .. })
            ));
        }
        assert!(matches!(MultiStepLr::builder([1]).gamma(0.0).build(), Err(Error::InvalidParameter { .. })));
    }

    #[test]
    fn step_lr_hand_checked() {
        // lr 0.2, step_size 3, gamma 0.1: t = 0..2 -> 0.2, t = 3..5 -> 0.02, t = 6 -> 0.002.
        let t = trajectory(&mut StepLr::new(3).unwrap(), 0.2, 6);
        for (i, want) in [0.2, 0.2, 0.2, 0.02, 0.02, 0.02, 0.002].iter().enumerate() {
            assert_close(t[i], *want);
        }
    }

    #[test]
    fn step_lr_per_batch_and_errors() {
        // Stepped per batch (4 batches x 3 epochs) the decay counts batches.
        let mut s = StepLr::builder(4).gamma(0.5).build().unwrap();
        let mut g = groups(&[1.0, 2.0]);
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidInput { .. })));
        s.init(&mut g).unwrap();
        for _epoch in 0..3 {
            for _batch in 0..4 {
                s.step(&mut g, None).unwrap();
            }
        }
        assert_eq!((g[0].lr, g[1].lr), (0.125, 0.25));
        assert_eq!(s.last_epoch(), 12);
        let mut three = groups(&[1.0, 1.0, 1.0]);
        assert!(matches!(s.step(&mut three, None), Err(Error::LengthMismatch { .. })));
        assert_eq!(three[0].lr, 1.0);
        assert!(matches!(s.init(&mut []), Err(Error::EmptyInput { .. })));
    }

    #[test]
    fn multistep_repeated_and_unsorted() {
        // milestones [5, 2, 5], gamma 0.5: t=2 halves, t=5 quarters.
        let t = trajectory(&mut MultiStepLr::builder([5, 2, 5]).gamma(0.5).build().unwrap(), 1.0, 6);
        assert_eq!(t, vec![1.0, 1.0, 0.5, 0.5, 0.5, 0.125, 0.125]);
        // milestone 0 applies at init, as torch's initial step does.
        let t = trajectory(&mut MultiStepLr::builder([0]).gamma(0.5).build().unwrap(), 1.0, 1);
        assert_eq!(t, vec![0.5, 0.5]);
    }
}
