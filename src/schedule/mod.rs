//! Learning-rate schedulers: the [`LrScheduler`] trait and the
//! `torch.optim.lr_scheduler` family.
//!
//! | ndtrain | PyTorch | file |
//! | --- | --- | --- |
//! | [`StepLr`], [`MultiStepLr`] | `StepLR`, `MultiStepLR` | `step.rs` |
//! | [`ConstantLr`], [`LinearLr`] | `ConstantLR`, `LinearLR` | `linear.rs` |
//! | [`ExponentialLr`] | `ExponentialLR` | `exponential.rs` |
//! | [`PolynomialLr`] | `PolynomialLR` | `polynomial.rs` |
//! | [`CosineAnnealingLr`], [`CosineAnnealingWarmRestarts`] | `CosineAnnealingLR`, `CosineAnnealingWarmRestarts` | `cosine.rs` |
//! | [`CyclicLr`] | `CyclicLR` | `cyclic.rs` |
//! | [`OneCycleLr`] | `OneCycleLR` | `one_cycle.rs` |
//! | [`ReduceLrOnPlateau`] | `ReduceLROnPlateau` | `plateau.rs` |
//! | [`SequentialLr`], [`ChainedScheduler`] | `SequentialLR`, `ChainedScheduler` | `sequential.rs` |
//! | [`LambdaLr`], [`MultiplicativeLr`] | `LambdaLR`, `MultiplicativeLR` | `lambda.rs` |
//!
//! # Design
//!
//! A scheduler never reaches into the optimizer. It works on plain values: one
//! [`GroupHparams`] (`lr`, torch's `initial_lr`, and the momentum-like coefficient) per
//! parameter group, all in `f64`. [`LrScheduler::init`] plays the part of torch's
//! constructor (it captures the base learning rates and applies the step-0 value:
//! `LinearLR`, `ConstantLR`, `CyclicLR` and `OneCycleLR` change the lr at construction
//! in torch), and [`LrScheduler::step`] plays `scheduler.step()` (or
//! `scheduler.step(metric)` for [`ReduceLrOnPlateau`]).
//!
//! [`AttachedScheduler`] connects a scheduler to any [`Optimizer`] through the
//! optimizer's group hooks ([`Optimizer::group_lr`], [`Optimizer::set_group_lr`],
//! [`Optimizer::group_momentum`], [`Optimizer::set_group_momentum`]): it reads the
//! current values, lets the scheduler step, and writes the results back. A training loop
//! calls [`AttachedScheduler::attach`] once and [`AttachedScheduler::step`] after every
//! epoch or every batch, whichever it chooses.
//!
//! Why plain values rather than a `&mut dyn Optimizer<F>` inside the trait:
//!
//! * the trait stays object safe and free of the float type `F`, so one boxed scheduler
//!   works with `f32` and `f64` optimizers, and composites ([`SequentialLr`],
//!   [`ChainedScheduler`]) hold `Box<dyn LrScheduler>` children;
//! * schedules compute in `f64` even for an `f32` optimizer: [`AttachedScheduler`]
//!   keeps the `f64` value it last wrote and only re-reads the optimizer's value when
//!   something else changed it, so torch's recursive (chainable) forms do not pick up
//!   `f32` rounding at every step;
//! * a schedule can be computed without any optimizer (plots, tests, the parity suite).
//!
//! The chainable schedulers use torch's recursive forms (each step multiplies the
//! group's *current* lr), so [`ChainedScheduler`] composes them exactly as torch does and
//! an lr changed from outside between steps is respected. Their closed forms agree with
//! the recursive ones to a few ulps (well inside the 1e-12 relative reference
//! tolerance).
//!
//! # Example: warm-up then cosine, stepped per batch
//!
//! ```
//! use ndtrain::schedule::{CosineAnnealingLr, GroupHparams, LinearLr, LrScheduler, SequentialLr};
//!
//! let warmup = LinearLr::builder().start_factor(0.1).total_iters(5).build()?;
//! let cosine = CosineAnnealingLr::new(95)?;
//! let mut sched = SequentialLr::new(vec![Box::new(warmup), Box::new(cosine)], vec![5])?;
//!
//! let mut groups = [GroupHparams::new(0.1)];
//! sched.init(&mut groups)?;
//! assert!((groups[0].lr - 0.01).abs() < 1e-15); // 0.1 * start_factor
//! for _ in 0..5 {
//!     sched.step(&mut groups, None)?;
//! }
//! assert!((groups[0].lr - 0.1).abs() < 1e-15); // warm-up done, cosine starts at the base lr
//! # Ok::<(), ndtrain::Error>(())
//! ```
//!
//! # Deviations from PyTorch
//!
//! * No `last_epoch` constructor argument (resuming): build the scheduler and step it,
//!   or re-create it; no deprecated `step(epoch)` argument.
//! * Counts (`step_size`, `total_iters`, `T_max`, `patience`, ...) are unsigned, so the
//!   negative values torch rejects cannot be written.
//! * Some arguments torch accepts but that produce a division by zero, an infinite or a
//!   NaN learning rate are rejected when built (each scheduler lists them): e.g.
//!   `step_size = 0`, `T_max = 0`, `ConstantLR(factor = 0)` (torch computes `0 * (1/0)`),
//!   a non-positive `gamma`.

mod cosine;
mod cyclic;
mod exponential;
mod lambda;
mod linear;
mod one_cycle;
mod plateau;
mod polynomial;
mod sequential;
mod step;

pub use cosine::{
    CosineAnnealingLr, CosineAnnealingLrBuilder, CosineAnnealingWarmRestarts,
    CosineAnnealingWarmRestartsBuilder,
};
pub use cyclic::{CyclicLr, CyclicLrBuilder, CyclicMode, ScaleFn, ScaleMode};
pub use exponential::ExponentialLr;
pub use lambda::{LambdaLr, LrLambda, MultiplicativeLr};
pub use linear::{ConstantLr, ConstantLrBuilder, LinearLr, LinearLrBuilder};
pub use one_cycle::{AnnealStrategy, OneCycleLr, OneCycleLrBuilder};
pub use plateau::{PlateauMode, ReduceLrOnPlateau, ReduceLrOnPlateauBuilder, ThresholdMode};
pub use polynomial::{PolynomialLr, PolynomialLrBuilder};
pub use sequential::{ChainedScheduler, SequentialLr};
pub use step::{MultiStepLr, MultiStepLrBuilder, StepLr, StepLrBuilder};

use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::tensor::Float;

/// The hyper-parameters of one parameter group that schedulers read and write.
///
/// * `lr`: the group's learning rate (torch `param_group["lr"]`).
/// * `initial_lr`: torch's `param_group["initial_lr"]`. `None` until a scheduler's
///   [`init`](LrScheduler::init) sets it to the current `lr` (torch's `setdefault`), so
///   the second and later schedulers of a composite see the original lr as their base,
///   as in torch. [`OneCycleLr`] and [`CyclicLr`] overwrite it, as in torch.
/// * `momentum`: the momentum-like coefficient ([`CyclicLr`] and [`OneCycleLr`] cycle it):
///   SGD's `momentum`, `betas[0]` for the Adam family; `None` if the optimizer has none.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::GroupHparams;
///
/// let g = GroupHparams::new(0.1).with_momentum(0.9);
/// assert_eq!((g.lr, g.initial_lr, g.momentum), (0.1, None, Some(0.9)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct GroupHparams {
    /// Learning rate.
    pub lr: f64,
    /// Base learning rate recorded by the first scheduler (torch `initial_lr`).
    pub initial_lr: Option<f64>,
    /// Momentum (SGD, RMSprop) or `betas[0]` (Adam family), if the optimizer has one.
    pub momentum: Option<f64>,
}

impl GroupHparams {
    /// A group with learning rate `lr`, no momentum and no `initial_lr` yet.
    pub const fn new(lr: f64) -> Self {
        GroupHparams { lr, initial_lr: None, momentum: None }
    }

    /// The same group with momentum (or `betas[0]`) `momentum`.
    pub const fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = Some(momentum);
        self
    }
}

/// Computes the learning rate (and, for the cyclic policies, the momentum) of every
/// parameter group from its own state: the step count, or the monitored metric for
/// [`ReduceLrOnPlateau`].
///
/// A custom scheduler implements [`init`](LrScheduler::init) and
/// [`step`](LrScheduler::step); [`AttachedScheduler`] drives it on an optimizer.
///
/// Contract (the built-in schedulers keep it): a call that returns `Err` leaves the
/// scheduler and `groups` unchanged (except that a [`ChainedScheduler`] cannot undo the
/// steps of the children before a failing one); `step` before `init`, or with a different
/// number of groups than `init` saw, is an error.
///
/// # Example: a custom scheduler (halve the lr every 3 steps)
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler};
///
/// struct Halve { base: Vec<f64>, t: u64 }
///
/// impl LrScheduler for Halve {
///     fn init(&mut self, groups: &mut [GroupHparams]) -> ndtrain::Result<()> {
///         self.base = groups.iter().map(|g| g.lr).collect();
///         self.t = 0;
///         Ok(())
///     }
///     fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> ndtrain::Result<()> {
///         self.t += 1;
///         for (g, b) in groups.iter_mut().zip(&self.base) {
///             g.lr = b * 0.5f64.powi((self.t / 3) as i32);
///         }
///         Ok(())
///     }
/// }
///
/// let mut groups = [GroupHparams::new(0.8)];
/// let mut s = Halve { base: vec![], t: 0 };
/// s.init(&mut groups)?;
/// for _ in 0..6 {
///     s.step(&mut groups, None)?;
/// }
/// assert_eq!(groups[0].lr, 0.2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait LrScheduler {
    /// Starts (or restarts) the schedule on these groups, like torch's constructor:
    /// records the base learning rates (`initial_lr`), resets the step count to 0 and
    /// applies the step-0 values.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] for zero groups; [`Error::LengthMismatch`] when a per-group
    /// hyper-parameter list does not have one value per group;
    /// [`Error::InvalidConfig`] when the scheduler cycles momentum and a group has none.
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()>;

    /// Advances the schedule by one step (one epoch or one batch, as the caller chooses)
    /// and writes the new values into `groups`. `metric` is the monitored value
    /// ([`ReduceLrOnPlateau`] needs it; the others ignore it).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before `init` or without a required metric;
    /// [`Error::LengthMismatch`] when the number of groups changed since `init`.
    fn step(&mut self, groups: &mut [GroupHparams], metric: Option<f64>) -> Result<()>;

    /// Jumps back to step 0 and applies the step-0 values from the base learning rates
    /// (torch's closed form at epoch 0): what [`SequentialLr`] does to a scheduler when
    /// its milestone is reached. Default: [`init`](LrScheduler::init).
    ///
    /// # Errors
    /// As [`init`](LrScheduler::init).
    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        self.init(groups)
    }

    /// Whether [`step`](LrScheduler::step) needs the monitored metric
    /// ([`ReduceLrOnPlateau`]). Default: `false`.
    fn requires_metric(&self) -> bool {
        false
    }
}

/// A boxed scheduler, as composites and [`AttachedScheduler`] hold them.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{BoxedScheduler, ExponentialLr, StepLr};
///
/// let children: Vec<BoxedScheduler> = vec![Box::new(StepLr::new(10)?), Box::new(ExponentialLr::new(0.99)?)];
/// assert_eq!(children.len(), 2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub type BoxedScheduler = Box<dyn LrScheduler + Send + Sync>;

impl<S: LrScheduler + ?Sized> LrScheduler for Box<S> {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        (**self).init(groups)
    }
    fn step(&mut self, groups: &mut [GroupHparams], metric: Option<f64>) -> Result<()> {
        (**self).step(groups, metric)
    }
    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        (**self).restart(groups)
    }
    fn requires_metric(&self) -> bool {
        (**self).requires_metric()
    }
}

/// A scheduler driving an optimizer through its group hooks.
///
/// [`attach`](AttachedScheduler::attach) reads every group's lr and momentum from the
/// optimizer and runs the scheduler's [`init`](LrScheduler::init) (torch's
/// constructor); [`step`](AttachedScheduler::step) runs one scheduler step (call it after
/// `optimizer.step()`, once per epoch or once per batch). Both write the new values back
/// with [`Optimizer::set_group_lr`] / [`Optimizer::set_group_momentum`].
///
/// The schedule is computed in `f64`: between steps the attached scheduler keeps the
/// values it wrote and re-reads a group's lr (or momentum) from the optimizer only when
/// it differs from what was written (something else changed it). `step` allocates
/// nothing.
///
/// # Errors
/// Those of the scheduler; [`Error::InvalidInput`] for `step` before `attach`;
/// [`Error::LengthMismatch`] when the optimizer's number of groups changed.
///
/// # Example
///
/// ```
/// use ndarray::{ArrayViewD, ArrayViewMutD};
/// use ndtrain::prelude::*;
/// use ndtrain::schedule::{AttachedScheduler, ReduceLrOnPlateau, StepLr};
///
/// // A minimal optimizer with one group (any `Optimizer` works).
/// struct Plain { lr: f32 }
/// impl Optimizer<f32> for Plain {
///     fn update(&mut self, _: Param<'_>, _: ArrayViewMutD<'_, f32>, _: ArrayViewD<'_, f32>) -> ndtrain::Result<()> { Ok(()) }
///     fn lr(&self) -> f32 { self.lr }
///     fn set_lr(&mut self, lr: f32) { self.lr = lr }
/// }
///
/// let mut opt = Plain { lr: 0.1 };
/// let mut sched = AttachedScheduler::new(StepLr::builder(2).gamma(0.5).build()?);
/// sched.attach(&mut opt)?;
/// for _epoch in 0..4 {
///     // ... train one epoch, optimizer steps ...
///     sched.step(&mut opt, None)?;
/// }
/// assert_eq!(opt.lr, 0.025);
///
/// // ReduceLROnPlateau monitors a metric, e.g. the validation loss.
/// let mut plateau = AttachedScheduler::new(ReduceLrOnPlateau::builder().patience(0).build()?);
/// assert!(plateau.requires_metric());
/// plateau.attach(&mut opt)?;
/// plateau.step(&mut opt, Some(1.0))?;
/// plateau.step(&mut opt, Some(1.5))?; // worse: lr * 0.1
/// assert!((opt.lr - 0.0025).abs() < 1e-9);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub struct AttachedScheduler {
    scheduler: BoxedScheduler,
    groups: Vec<GroupHparams>,
    attached: bool,
}

impl std::fmt::Debug for AttachedScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedScheduler")
            .field("groups", &self.groups)
            .field("attached", &self.attached)
            .finish_non_exhaustive()
    }
}

impl AttachedScheduler {
    /// Wraps a scheduler; nothing happens until [`attach`](AttachedScheduler::attach).
    pub fn new(scheduler: impl LrScheduler + Send + Sync + 'static) -> Self {
        Self::from_box(Box::new(scheduler))
    }

    /// Wraps an already boxed scheduler.
    pub fn from_box(scheduler: BoxedScheduler) -> Self {
        AttachedScheduler { scheduler, groups: Vec::new(), attached: false }
    }

    /// Starts the schedule on `opt`: reads every group's lr and momentum, runs the
    /// scheduler's [`init`](LrScheduler::init) (recording the current lrs as the base
    /// lrs) and writes the step-0 values. Calling it again restarts the schedule from the
    /// optimizer's current values.
    ///
    /// # Errors
    /// Those of [`LrScheduler::init`]; nothing changes on error.
    pub fn attach<F: Float>(&mut self, opt: &mut dyn Optimizer<F>) -> Result<()> {
        let n = opt.num_groups();
        let mut groups = Vec::with_capacity(n);
        for g in 0..n {
            groups.push(GroupHparams {
                lr: opt.group_lr(g).as_f64(),
                initial_lr: None,
                momentum: opt.group_momentum(g).map(Float::as_f64),
            });
        }
        self.scheduler.init(&mut groups)?;
        self.groups = groups;
        self.attached = true;
        self.write(opt);
        Ok(())
    }

    /// One scheduler step (after `optimizer.step()`): `metric` is the monitored value
    /// for [`ReduceLrOnPlateau`] (e.g. the validation loss), ignored by the others.
    ///
    /// # Errors
    /// Those of [`LrScheduler::step`]; [`Error::InvalidInput`] before `attach`;
    /// [`Error::LengthMismatch`] when the optimizer's number of groups changed. Nothing
    /// changes on error.
    pub fn step<F: Float>(&mut self, opt: &mut dyn Optimizer<F>, metric: Option<f64>) -> Result<()> {
        if !self.attached {
            return Err(Error::invalid_input("AttachedScheduler::step", "attach must be called before step"));
        }
        let n = opt.num_groups();
        if n != self.groups.len() {
            return Err(Error::LengthMismatch {
                op: "AttachedScheduler::step",
                what: "optimizer parameter groups (must equal the count at attach)",
                expected: self.groups.len(),
                got: n,
            });
        }
        // Pick up values changed outside the scheduler; keep our f64 values otherwise.
        for (g, h) in self.groups.iter_mut().enumerate() {
            let lr = opt.group_lr(g);
            if lr != F::lit(h.lr) {
                h.lr = lr.as_f64();
            }
            match opt.group_momentum(g) {
                Some(m) if h.momentum.map(F::lit) != Some(m) => h.momentum = Some(m.as_f64()),
                Some(_) => {}
                None => h.momentum = None,
            }
        }
        self.scheduler.step(&mut self.groups, metric)?;
        self.write(opt);
        Ok(())
    }

    fn write<F: Float>(&self, opt: &mut dyn Optimizer<F>) {
        for (g, h) in self.groups.iter().enumerate() {
            let lr = F::lit(h.lr);
            if opt.group_lr(g) != lr {
                opt.set_group_lr(g, lr);
            }
            if let Some(m) = h.momentum.map(F::lit) {
                if opt.group_momentum(g).is_some_and(|cur| cur != m) {
                    opt.set_group_momentum(g, m);
                }
            }
        }
    }

    /// Each group's values as of the last `attach` / `step` (torch's `get_last_lr()`
    /// is `groups().iter().map(|g| g.lr)`).
    #[doc(alias = "get_last_lr")]
    pub fn groups(&self) -> &[GroupHparams] {
        &self.groups
    }

    /// Whether `step` needs a metric (true for [`ReduceLrOnPlateau`]).
    pub fn requires_metric(&self) -> bool {
        self.scheduler.requires_metric()
    }

    /// The wrapped scheduler.
    pub fn scheduler(&self) -> &(dyn LrScheduler + Send + Sync) {
        &*self.scheduler
    }

    /// The wrapped scheduler, mutable.
    pub fn scheduler_mut(&mut self) -> &mut (dyn LrScheduler + Send + Sync) {
        &mut *self.scheduler
    }
}

/// A hyper-parameter given once for every group or once per group (torch accepts a
/// float or a list for `max_lr`, `base_lr`, `min_lr`, `base_momentum`, ...).
///
/// # Example
///
/// ```
/// use ndtrain::schedule::PerGroup;
///
/// let all: PerGroup = 0.1.into();
/// let each: PerGroup = vec![0.1, 0.01].into();
/// assert_eq!(all.get(1), Some(0.1));
/// assert_eq!(each.get(1), Some(0.01));
/// assert_eq!(each.get(2), None);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PerGroup {
    /// The same value for every group.
    All(f64),
    /// One value per group, in group order.
    Each(Vec<f64>),
}

impl PerGroup {
    /// The value for group `g` (`None` if a per-group list is too short).
    pub fn get(&self, g: usize) -> Option<f64> {
        match self {
            PerGroup::All(v) => Some(*v),
            PerGroup::Each(v) => v.get(g).copied(),
        }
    }

    /// Every value given (one for [`PerGroup::All`]).
    pub fn values(&self) -> &[f64] {
        match self {
            PerGroup::All(v) => std::slice::from_ref(v),
            PerGroup::Each(v) => v,
        }
    }

    /// Checks each value with `ok`, else `InvalidParameter { name, value, expected }`;
    /// an empty list is `InvalidConfig`.
    pub(crate) fn validate(
        &self,
        name: &'static str,
        expected: &'static str,
        ok: impl Fn(f64) -> bool,
    ) -> Result<()> {
        if self.values().is_empty() {
            return Err(Error::invalid_config(format!("{name}: empty list of per-group values")));
        }
        for &v in self.values() {
            if !ok(v) {
                return Err(Error::InvalidParameter { name, value: v, expected });
            }
        }
        Ok(())
    }

    /// The values for `n` groups; a per-group list must have exactly `n` values.
    pub(crate) fn resolve(&self, op: &'static str, what: &'static str, n: usize) -> Result<Vec<f64>> {
        match self {
            PerGroup::All(v) => Ok(vec![*v; n]),
            PerGroup::Each(v) if v.len() == n => Ok(v.clone()),
            PerGroup::Each(v) => Err(Error::LengthMismatch { op, what, expected: n, got: v.len() }),
        }
    }
}

impl From<f64> for PerGroup {
    fn from(v: f64) -> Self {
        PerGroup::All(v)
    }
}

impl From<Vec<f64>> for PerGroup {
    fn from(v: Vec<f64>) -> Self {
        PerGroup::Each(v)
    }
}

impl From<&[f64]> for PerGroup {
    fn from(v: &[f64]) -> Self {
        PerGroup::Each(v.to_vec())
    }
}

impl<const N: usize> From<[f64; N]> for PerGroup {
    fn from(v: [f64; N]) -> Self {
        PerGroup::Each(v.to_vec())
    }
}

// ----- shared helpers -------------------------------------------------------------

/// State every step-count scheduler shares: torch's `base_lrs` and `last_epoch`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Core {
    /// torch `base_lrs` (each group's `initial_lr`), empty before `init`.
    pub(crate) base_lrs: Vec<f64>,
    /// torch `last_epoch`: steps taken since `init` (0 right after it), -1 before.
    pub(crate) last_epoch: i64,
}

impl Core {
    pub(crate) fn new() -> Self {
        Core { base_lrs: Vec::new(), last_epoch: -1 }
    }

    /// The base lrs the groups give (torch `setdefault("initial_lr", lr)`), without
    /// changing anything yet.
    pub(crate) fn base_lrs_of(op: &'static str, groups: &[GroupHparams]) -> Result<Vec<f64>> {
        check_nonempty(op, groups)?;
        Ok(groups.iter().map(|g| g.initial_lr.unwrap_or(g.lr)).collect())
    }

    /// Commits `init`: records `initial_lr` in the groups and resets the step count.
    pub(crate) fn commit_init(&mut self, groups: &mut [GroupHparams], base_lrs: Vec<f64>) {
        for (g, &b) in groups.iter_mut().zip(&base_lrs) {
            g.initial_lr.get_or_insert(b);
        }
        self.base_lrs = base_lrs;
        self.last_epoch = 0;
    }

    /// Checks that `init` ran and the group count is unchanged.
    pub(crate) fn check(&self, op: &'static str, groups: &[GroupHparams]) -> Result<()> {
        if self.base_lrs.is_empty() {
            return Err(Error::invalid_input(op, "init must be called before step"));
        }
        check_group_count(op, self.base_lrs.len(), groups.len())
    }
}

pub(crate) fn check_nonempty(op: &'static str, groups: &[GroupHparams]) -> Result<()> {
    if groups.is_empty() { Err(Error::EmptyInput { op, what: "no parameter groups" }) } else { Ok(()) }
}

pub(crate) fn check_group_count(op: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            op,
            what: "parameter groups (must equal the count at init)",
            expected,
            got,
        })
    }
}

/// Every group has a momentum (for `cycle_momentum`), else `InvalidConfig`.
pub(crate) fn check_momentum(name: &str, groups: &[GroupHparams]) -> Result<()> {
    if groups.iter().all(|g| g.momentum.is_some()) {
        Ok(())
    } else {
        Err(Error::invalid_config(format!(
            "{name}: optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )))
    }
}

pub(crate) fn check_param(name: &'static str, value: f64, expected: &'static str, ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::InvalidParameter { name, value, expected }) }
}

pub(crate) fn check_count(
    name: &'static str,
    value: usize,
    min: usize,
    expected: &'static str,
) -> Result<()> {
    check_param(name, value as f64, expected, value >= min)
}

/// Python's `max(a, b)`: `a` unless `b > a` (NaN in `a` is kept).
pub(crate) fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    /// Groups with the given lrs (no momentum).
    pub fn groups(lrs: &[f64]) -> Vec<GroupHparams> {
        lrs.iter().map(|&lr| GroupHparams::new(lr)).collect()
    }

    /// Runs `n` steps after `init` and returns group 0's lr at rows 0..=n.
    pub fn trajectory(s: &mut dyn LrScheduler, lr: f64, n: usize) -> Vec<f64> {
        let mut g = groups(&[lr]);
        s.init(&mut g).unwrap();
        let mut out = vec![g[0].lr];
        for _ in 0..n {
            s.step(&mut g, None).unwrap();
            out.push(g[0].lr);
        }
        out
    }

    pub fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12 * b.abs() + 1e-15, "{a} != {b}");
    }

    pub fn assert_send_sync<T: Send + Sync>() {}
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use crate::tensor::Param;
    use ndarray::{ArrayViewD, ArrayViewMutD};

    /// A two-group optimizer with momentum, generic over the float type.
    struct TwoGroups<F> {
        lr: [F; 2],
        momentum: [F; 2],
    }

    impl<F: Float> Optimizer<F> for TwoGroups<F> {
        fn update(&mut self, _: Param<'_>, _: ArrayViewMutD<'_, F>, _: ArrayViewD<'_, F>) -> Result<()> {
            Ok(())
        }
        fn lr(&self) -> F {
            self.lr[0]
        }
        fn set_lr(&mut self, lr: F) {
            self.lr = [lr; 2];
        }
        fn num_groups(&self) -> usize {
            2
        }
        fn group_lr(&self, g: usize) -> F {
            self.lr[g]
        }
        fn set_group_lr(&mut self, g: usize, lr: F) {
            self.lr[g] = lr;
        }
        fn group_momentum(&self, g: usize) -> Option<F> {
            Some(self.momentum[g])
        }
        fn set_group_momentum(&mut self, g: usize, m: F) {
            self.momentum[g] = m;
        }
    }

    #[test]
    fn attached_drives_every_group_and_momentum() {
        // CyclicLR triangular, base 0.01, max 0.1, step_size_up 2, momentum 0.9 -> 0.8:
        // step 1: x = 0.5 of the way up: lr = 0.01 + 0.09 * 0.5 = 0.055, m = 0.9 - 0.1 * 0.5 = 0.85.
        let mut opt = TwoGroups { lr: [0.5f64, 0.05], momentum: [0.9, 0.9] };
        let s = CyclicLr::builder(0.01, 0.1).step_size_up(2).build().unwrap();
        let mut a = AttachedScheduler::new(s);
        a.attach(&mut opt).unwrap();
        assert_eq!(opt.lr, [0.01, 0.01]);
        a.step(&mut opt, None).unwrap();
        assert_close(opt.lr[1], 0.055);
        assert_close(opt.momentum[0], 0.85);
        assert_eq!(a.groups().len(), 2);
    }

    #[test]
    fn attached_keeps_f64_precision_for_f32_optimizers() {
        // 200 recursive cosine steps on an f32 optimizer equal the f64 schedule rounded once.
        let mut opt = TwoGroups { lr: [0.1f32, 0.01], momentum: [0.9, 0.9] };
        let mut a = AttachedScheduler::new(CosineAnnealingLr::new(300).unwrap());
        a.attach(&mut opt).unwrap();
        let mut reference = CosineAnnealingLr::new(300).unwrap();
        let mut g = vec![GroupHparams::new(0.1f32 as f64), GroupHparams::new(0.01f32 as f64)];
        reference.init(&mut g).unwrap();
        for _ in 0..200 {
            a.step(&mut opt, None).unwrap();
            reference.step(&mut g, None).unwrap();
        }
        assert_eq!(opt.lr[0], g[0].lr as f32);
        assert_eq!(opt.lr[1], g[1].lr as f32);
    }

    #[test]
    fn attached_respects_outside_changes() {
        // ExponentialLR multiplies the current lr: an lr set by hand is picked up.
        let mut opt = TwoGroups { lr: [1.0f64, 1.0], momentum: [0.0, 0.0] };
        let mut a = AttachedScheduler::new(ExponentialLr::new(0.5).unwrap());
        a.attach(&mut opt).unwrap();
        a.step(&mut opt, None).unwrap();
        opt.set_group_lr(1, 4.0);
        a.step(&mut opt, None).unwrap();
        assert_eq!(opt.lr, [0.25, 2.0]);
    }

    #[test]
    fn attached_errors_leave_optimizer_unchanged() {
        let mut opt = TwoGroups { lr: [1.0f64, 1.0], momentum: [0.9, 0.9] };
        let mut a = AttachedScheduler::new(ReduceLrOnPlateau::default());
        assert!(matches!(a.step(&mut opt, Some(1.0)), Err(Error::InvalidInput { .. })));
        a.attach(&mut opt).unwrap();
        assert!(matches!(a.step(&mut opt, None), Err(Error::InvalidInput { .. })));
        assert_eq!(opt.lr, [1.0, 1.0]);
        // per-group min_lr of the wrong length
        let s = ReduceLrOnPlateau::builder().min_lr([0.1, 0.2, 0.3]).build().unwrap();
        let mut a = AttachedScheduler::new(s);
        assert!(matches!(a.attach(&mut opt), Err(Error::LengthMismatch { expected: 2, got: 3, .. })));
    }

    #[test]
    fn per_group_resolution() {
        let p = PerGroup::from([1.0, 2.0]);
        assert_eq!(p.resolve("op", "x", 2).unwrap(), vec![1.0, 2.0]);
        assert!(matches!(p.resolve("op", "x", 3), Err(Error::LengthMismatch { expected: 3, got: 2, .. })));
        assert_eq!(PerGroup::from(0.5).resolve("op", "x", 3).unwrap(), vec![0.5; 3]);
        assert!(matches!(
            PerGroup::from(Vec::new()).validate("x", ">= 0", |v| v >= 0.0),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn public_types_are_send_sync() {
        assert_send_sync::<AttachedScheduler>();
        assert_send_sync::<GroupHparams>();
        assert_send_sync::<PerGroup>();
        assert_send_sync::<StepLr>();
        assert_send_sync::<MultiStepLr>();
        assert_send_sync::<ConstantLr>();
        assert_send_sync::<LinearLr>();
        assert_send_sync::<ExponentialLr>();
        assert_send_sync::<PolynomialLr>();
        assert_send_sync::<CosineAnnealingLr>();
        assert_send_sync::<CosineAnnealingWarmRestarts>();
        assert_send_sync::<CyclicLr>();
        assert_send_sync::<OneCycleLr>();
        assert_send_sync::<ReduceLrOnPlateau>();
        assert_send_sync::<SequentialLr>();
        assert_send_sync::<ChainedScheduler>();
        assert_send_sync::<LambdaLr>();
        assert_send_sync::<MultiplicativeLr>();
    }
}
