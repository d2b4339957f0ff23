//! Composites: [`SequentialLr`] and [`ChainedScheduler`].

use super::{BoxedScheduler, GroupHparams, LrScheduler, check_group_count, check_nonempty};
use crate::error::{Error, Result};

fn check_children(name: &str, schedulers: &[BoxedScheduler]) -> Result<()> {
    if schedulers.is_empty() {
        return Err(Error::invalid_config(format!("{name} expects at least one scheduler, but got none")));
    }
    if let Some(i) = schedulers.iter().position(|s| s.requires_metric()) {
        return Err(Error::invalid_config(format!(
            "{name} does not support ReduceLROnPlateau (it needs a metric), but got one at index {i}"
        )));
    }
    Ok(())
}

/// Runs schedulers one after another: the first until the first milestone, the second
/// until the next, and so on (e.g. a linear warm-up, then cosine annealing).
///
/// At `init` every child is initialised in order (as torch constructs them on the same
/// optimizer), the lr is reset to each group's `initial_lr` and only the first child's
/// step-0 values are applied. At step `t`, with `i` = number of milestones `≤ t`: if `t`
/// is exactly milestone `i−1`, child `i` is [restarted](LrScheduler::restart) at its step
/// 0 (torch calls `_update_lr(0)`, the closed form from the base lrs); otherwise child
/// `i` takes one step.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `schedulers` | required | at least one, none needing a metric |
/// | `milestones` | required | `schedulers.len() − 1` values, non-decreasing |
///
/// # Errors
/// `new`: [`Error::InvalidConfig`](crate::Error::InvalidConfig) for no schedulers, a
/// [`ReduceLrOnPlateau`](super::ReduceLrOnPlateau) child, a wrong number of milestones
/// (torch's `ValueError`s) or decreasing milestones (torch does not check them).
/// `init` / `step`: those of the children.
///
/// Reference: PyTorch `torch.optim.lr_scheduler.SequentialLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{ConstantLr, ExponentialLr, GroupHparams, LrScheduler, SequentialLr};
///
/// let warm = ConstantLr::builder().factor(0.1).total_iters(2).build()?;
/// let decay = ExponentialLr::new(0.5)?;
/// let mut s = SequentialLr::new(vec![Box::new(warm), Box::new(decay)], vec![2])?;
/// let mut groups = [GroupHparams::new(1.0)];
/// s.init(&mut groups)?;
/// let mut lrs = vec![groups[0].lr];
/// for _ in 0..4 {
///     s.step(&mut groups, None)?;
///     lrs.push(groups[0].lr);
/// }
/// assert_eq!(lrs, [0.1, 0.1, 1.0, 0.5, 0.25]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "SequentialLR")]
pub struct SequentialLr {
    schedulers: Vec<BoxedScheduler>,
    milestones: Vec<usize>,
    last_epoch: i64,
    n_groups: usize,
}

impl std::fmt::Debug for SequentialLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequentialLr")
            .field("schedulers", &self.schedulers.len())
            .field("milestones", &self.milestones)
            .field("last_epoch", &self.last_epoch)
            .finish()
    }
}

impl SequentialLr {
    /// `SequentialLR(schedulers, milestones)`.
    ///
    /// # Errors
    /// See [`SequentialLr`].
    pub fn new(schedulers: Vec<BoxedScheduler>, milestones: Vec<usize>) -> Result<Self> {
        check_children("SequentialLR", &schedulers)?;
        if milestones.len() + 1 != schedulers.len() {
            return Err(Error::invalid_config(format!(
                "SequentialLR expects one milestone fewer than schedulers, got {} schedulers and {} milestones",
                schedulers.len(),
                milestones.len()
            )));
        }
        if milestones.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::invalid_config(format!(
                "SequentialLR milestones must not decrease: {milestones:?}"
            )));
        }
        Ok(SequentialLr { schedulers, milestones, last_epoch: -1, n_groups: 0 })
    }

    /// The milestones.
    pub fn milestones(&self) -> &[usize] {
        &self.milestones
    }

    /// Steps taken since `init` (-1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// Index of the child that is running.
    pub fn current(&self) -> usize {
        if self.last_epoch < 0 {
            return 0;
        }
        self.milestones.partition_point(|&m| m as i64 <= self.last_epoch)
    }
}

impl LrScheduler for SequentialLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        check_nonempty("SequentialLr::init", groups)?;
        // Children may fail part-way: work on a copy, commit at the end.
        let mut work = groups.to_vec();
        for s in self.schedulers.iter_mut() {
            s.init(&mut work)?;
        }
        for g in work.iter_mut() {
            g.lr = g.initial_lr.unwrap_or(g.lr);
        }
        self.schedulers[0].init(&mut work)?;
        groups.copy_from_slice(&work);
        self.last_epoch = 0;
        self.n_groups = groups.len();
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], metric: Option<f64>) -> Result<()> {
        const OP: &str = "SequentialLr::step";
        if self.last_epoch < 0 {
            return Err(Error::invalid_input(OP, "init must be called before step"));
        }
        check_group_count(OP, self.n_groups, groups.len())?;
        let t = self.last_epoch + 1;
        let idx = self.milestones.partition_point(|&m| m as i64 <= t);
        if idx > 0 && self.milestones[idx - 1] as i64 == t {
            self.schedulers[idx].restart(groups)?;
        } else {
            self.schedulers[idx].step(groups, metric)?;
        }
        self.last_epoch = t;
        Ok(())
    }
}

/// Steps several schedulers at once: each `step` runs every child's step in order on
/// the same groups, so chainable schedulers multiply their effects (e.g. a constant
/// warm-up factor on top of an exponential decay).
///
/// At `init` every child is initialised in order on the live groups (as torch constructs
/// them on the same optimizer; the first records `initial_lr`, the others reuse it).
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `schedulers` | required | at least one, none needing a metric |
///
/// # Errors
/// `new`: [`Error::InvalidConfig`](crate::Error::InvalidConfig) for no schedulers or a
/// [`ReduceLrOnPlateau`](super::ReduceLrOnPlateau) child (torch's `ValueError`s).
/// `init` / `step`: those of the children. If a child fails during `step`, the children
/// before it have already stepped (built-in children only fail on misuse: no `init`, a
/// changed group count, or [`OneCycleLr`](super::OneCycleLr) stepped past its end).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.ChainedScheduler`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{ChainedScheduler, ConstantLr, ExponentialLr, GroupHparams, LrScheduler};
///
/// let warm = ConstantLr::builder().factor(0.1).total_iters(2).build()?;
/// let decay = ExponentialLr::new(0.5)?;
/// let mut s = ChainedScheduler::new(vec![Box::new(warm), Box::new(decay)])?;
/// let mut groups = [GroupHparams::new(1.0)];
/// s.init(&mut groups)?;
/// let mut lrs = vec![groups[0].lr];
/// for _ in 0..3 {
///     s.step(&mut groups, None)?;
///     lrs.push(groups[0].lr);
/// }
/// // 0.1; 0.1 * 0.5; (0.05 * 10) * 0.5; 0.25 * 0.5
/// let want = [0.1, 0.05, 0.25, 0.125];
/// assert!(lrs.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub struct ChainedScheduler {
    schedulers: Vec<BoxedScheduler>,
    n_groups: usize,
}

impl std::fmt::Debug for ChainedScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainedScheduler").field("schedulers", &self.schedulers.len()).finish()
    }
}

impl ChainedScheduler {
    /// `ChainedScheduler(schedulers)`.
    ///
    /// # Errors
    /// See [`ChainedScheduler`].
    pub fn new(schedulers: Vec<BoxedScheduler>) -> Result<Self> {
        check_children("ChainedScheduler", &schedulers)?;
        Ok(ChainedScheduler { schedulers, n_groups: 0 })
    }
}

impl LrScheduler for ChainedScheduler {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        check_nonempty("ChainedScheduler::init", groups)?;
        let mut work = groups.to_vec();
        for s in self.schedulers.iter_mut() {
            s.init(&mut work)?;
        }
        groups.copy_from_slice(&work);
        self.n_groups = groups.len();
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], metric: Option<f64>) -> Result<()> {
        const OP: &str = "ChainedScheduler::step";
        if self.n_groups == 0 {
            return Err(Error::invalid_input(OP, "init must be called before step"));
        }
        check_group_count(OP, self.n_groups, groups.len())?;
        for s in self.schedulers.iter_mut() {
            s.step(groups, metric)?;
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        for s in self.schedulers.iter_mut() {
            s.restart(groups)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{CosineAnnealingLr, LinearLr, ReduceLrOnPlateau, StepLr};
    use super::*;

    #[test]
    fn invalid_configs() {
        assert!(matches!(SequentialLr::new(vec![], vec![]), Err(Error::InvalidConfig(_))));
        assert!(matches!(ChainedScheduler::new(vec![]), Err(Error::InvalidConfig(_))));
        let two = || -> Vec<BoxedScheduler> {
            vec![Box::new(StepLr::new(2).unwrap()), Box::new(StepLr::new(3).unwrap())]
        };
        assert!(matches!(SequentialLr::new(two(), vec![]), Err(Error::InvalidConfig(_))));
        assert!(matches!(SequentialLr::new(two(), vec![1, 2]), Err(Error::InvalidConfig(_))));
        let three = vec![
            Box::new(StepLr::new(2).unwrap()) as BoxedScheduler,
            Box::new(StepLr::new(2).unwrap()),
            Box::new(StepLr::new(2).unwrap()),
        ];
        assert!(matches!(SequentialLr::new(three, vec![5, 3]), Err(Error::InvalidConfig(_))));
        let plateau: Vec<BoxedScheduler> = vec![Box::new(ReduceLrOnPlateau::default())];
        assert!(matches!(ChainedScheduler::new(plateau), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn warmup_then_cosine_hand_checked() {
        // lr 1, LinearLR 0.25 -> 1 over 3 steps, then cosine T_max 4 from base 1:
        // t = 0..3: 0.25, 0.5, 0.75; t = 3 restart -> 1; t = 5: 2 steps of 4 -> (1 + cos(pi/2)) / 2 = 0.5.
        let warm = LinearLr::builder().start_factor(0.25).total_iters(3).build().unwrap();
        let mut s =
            SequentialLr::new(vec![Box::new(warm), Box::new(CosineAnnealingLr::new(4).unwrap())], vec![3])
                .unwrap();
        let t = trajectory(&mut s, 1.0, 7);
        for (i, want) in [0.25, 0.5, 0.75, 1.0].iter().enumerate() {
            assert_close(t[i], *want);
        }
        assert_close(t[5], 0.5);
        assert!(t[7] < 1e-15);
        assert_eq!(s.current(), 1);
    }

    #[test]
    fn chained_multiplies_per_batch() {
        // StepLR(2, 0.5) and ExponentialLR(0.9) chained on lr 1, stepped 4 times (batches):
        // t = 4: 0.5^2 * 0.9^4 = 0.25 * 0.6561 = 0.164025.
        let mut s = ChainedScheduler::new(vec![
            Box::new(StepLr::builder(2).gamma(0.5).build().unwrap()),
            Box::new(super::super::ExponentialLr::new(0.9).unwrap()),
        ])
        .unwrap();
        let t = trajectory(&mut s, 1.0, 4);
        assert_close(t[4], 0.164025);
    }

    #[test]
    fn failed_init_leaves_groups_unchanged() {
        // The second child cycles momentum, the group has none: InvalidConfig, nothing written.
        let cyc = super::super::CyclicLr::new(0.01, 0.1).unwrap();
        let mut s = SequentialLr::new(vec![Box::new(LinearLr::default()), Box::new(cyc)], vec![3]).unwrap();
        let mut g = groups(&[1.0]);
        assert!(matches!(s.init(&mut g), Err(Error::InvalidConfig(_))));
        assert_eq!(g[0], GroupHparams::new(1.0));
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn chained_step_before_init_fails() {
        // A step fails before init; groups untouched.
        let mut s = ChainedScheduler::new(vec![Box::new(StepLr::new(1).unwrap())]).unwrap();
        let mut g = groups(&[1.0]);
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidInput { .. })));
        assert_eq!(g[0].lr, 1.0);
    }
}
