//! Optimizers: the [`Optimizer`] trait, the torch.optim family, and optax's Lion, LAMB,
//! LARS, schedule-free AdamW / SGD and Muon.
//!
//! An optimizer owns its per-parameter state (keyed by [`Param::id`]) and updates
//! each tensor in place from its gradient. A custom optimizer implements
//! [`Optimizer::update`] (its per-tensor rule) and the two learning-rate accessors;
//! [`Optimizer::step`] walks the model for it.
//!
//! # The torch.optim family
//!
//! Names, hyper-parameters, defaults and update rules are PyTorch's (each type has
//! torch's spelling as a doc alias), checked against torch 2.x reference trajectories:
//!
//! | ndtrain | torch | default `lr` | state per parameter |
//! |---|---|---|---|
//! | [`Sgd`] | `SGD` | `1e-3` | `momentum_buffer` |
//! | [`Adam`] | `Adam` | `1e-3` | `step`, `exp_avg`, `exp_avg_sq`, (`max_exp_avg_sq`) |
//! | [`AdamW`] | `AdamW` | `1e-3` | as Adam |
//! | [`RmsProp`] | `RMSprop` | `1e-2` | `step`, `square_avg`, (`momentum_buffer`, `grad_avg`) |
//! | [`Adagrad`] | `Adagrad` | `1e-2` | `step`, `sum` |
//! | [`Adadelta`] | `Adadelta` | `1.0` | `step`, `square_avg`, `acc_delta` |
//! | [`Adamax`] | `Adamax` | `2e-3` | `step`, `exp_avg`, `exp_inf` |
//! | [`NAdam`] | `NAdam` | `2e-3` | `step`, `mu_product`, `exp_avg`, `exp_avg_sq` |
//! | [`RAdam`] | `RAdam` | `1e-3` | `step`, `exp_avg`, `exp_avg_sq` |
//! | [`Rprop`] | `Rprop` | `1e-2` | `step`, `prev`, `step_size` |
//! | [`Asgd`] | `ASGD` | `1e-2` | `step`, `eta`, `mu`, `ax` |
//! | [`Adafactor`] | `Adafactor` | `1e-2` | `step`, `row_var` + `col_var` or `variance` |
//!
//! Every optimizer is built once and validated (`X::builder().lr(..).build()?`, or
//! `X::default()` for torch's defaults), updates each tensor in one fused pass,
//! allocates its state the first time it sees a parameter and never again, and saves
//! and restores its state with [`Optimizer::state_dict`] /
//! [`Optimizer::load_state_dict`] (keys as torch's: `state.<id>.exp_avg`,
//! `param_groups.0.lr`), so restored training continues bit for bit.
//! Hyper-parameters are kept in `f64` and turned into `F` once per tensor and step, as
//! torch computes its step scalars in Python floats.
//!
//! One deliberate difference from torch: moving averages that decay geometrically (the
//! momentum buffers and first/second moments of SGD, Adam, AdamW, NAdam, RAdam, Adamax
//! and RMSprop) are flushed to zero once they fall below the smallest normal float
//! (`1.2e-38` in f32). A gradient that stays exactly zero (an input column that is
//! almost always 0, a dead ReLU unit) otherwise drives them into subnormal numbers,
//! whose arithmetic is 10 to 100 times slower on x86; values of normal size are
//! computed bit for bit as torch does.
//!
//! [`ParamGroups`] gives any optimizer (yours included) per-group hyper-parameters,
//! e.g. no weight decay on biases.
//!
//! ```
//! use ndtrain::optim::{AdamW, ParamGroups, Sgd};
//! use ndtrain::prelude::*;
//!
//! let sgd = Sgd::<f32>::builder().lr(0.1).momentum(0.9).nesterov(true).build()?;
//! assert_eq!(sgd.group_momentum(0), Some(0.9));
//! let adamw = ParamGroups::new(AdamW::<f32>::default())
//!     .group(|p: Param<'_>| p.name.ends_with("bias"), AdamW::builder().weight_decay(0.0).build()?);
//! assert_eq!(adamw.num_groups(), 2);
//! # Ok::<(), ndtrain::Error>(())
//! ```

pub mod clip;
pub use clip::{
    GradClip, NormType, OnNonFinite, clip_grad_norm, clip_grad_norm_model, clip_grad_value,
    clip_grad_value_model,
};

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::model::{Mode, Module};
use crate::tensor::{Float, Param, same_shape};

/// Runs `$body` with `$lerp(start, end, weight)` bound to torch's CPU `lerp` formula for
/// weights below 0.5 (`$small`) or the other one, chosen once outside the loop: a
/// per-element choice between the two formulas keeps the compiler from vectorizing.
/// The result is a moving average kept as state, so subnormals are flushed
/// (`crate::tensor::flush_subnormal`).
macro_rules! with_lerp {
    ($small:expr, $lerp:ident => $body:expr) => {
        if $small {
            let $lerp = |a: F, b: F, w: F| crate::tensor::flush_subnormal(a + w * (b - a));
            $body
        } else {
            let $lerp = |a: F, b: F, w: F| crate::tensor::flush_subnormal(b - (b - a) * (F::one() - w));
            $body
        }
    };
}

#[macro_use]
mod macros;

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod asgd;
mod groups;
mod kernel;
mod lamb;
mod lars;
mod lion;
mod muon;
mod nadam;
mod optax_common;
mod radam;
mod rmsprop;
mod rprop;
mod schedule_free;
mod sgd;
pub(crate) mod state;

pub use adadelta::{Adadelta, AdadeltaBuilder, AdadeltaState};
pub use adafactor::{Adafactor, AdafactorBuilder, AdafactorState};
pub use adagrad::{Adagrad, AdagradBuilder, AdagradState};
pub use adam::{Adam, AdamBuilder, AdamState, AdamW, AdamWBuilder};
pub use adamax::{Adamax, AdamaxBuilder, AdamaxState};
pub use asgd::{Asgd, AsgdBuilder, AsgdState};
pub use groups::ParamGroups;
pub use lamb::{Lamb, LambBuilder, LambState};
pub use lars::{Lars, LarsBuilder, LarsState};
pub use lion::{Lion, LionBuilder, LionState};
pub use muon::{MUON_NS_COEFFS, Muon, MuonBuilder, MuonState};
pub use nadam::{NAdam, NAdamBuilder, NAdamState};
pub use radam::{RAdam, RAdamBuilder, RAdamState};
pub use rmsprop::{RmsProp, RmsPropBuilder, RmsPropState};
pub use rprop::{Rprop, RpropBuilder, RpropState};
pub use schedule_free::{
    ScheduleFreeAdamW, ScheduleFreeAdamWBuilder, ScheduleFreeSgd, ScheduleFreeSgdBuilder, ScheduleFreeState,
};
pub use sgd::{Sgd, SgdBuilder, SgdState};

/// Updates parameters from their gradients.
///
/// # Example: sign-SGD written outside the crate
///
/// ```
/// use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
/// use ndtrain::prelude::*;
///
/// struct SignSgd { lr: f64 }
///
/// impl Optimizer<f64> for SignSgd {
///     fn update(&mut self, _p: Param<'_>, mut w: ArrayViewMutD<'_, f64>, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
///         let lr = self.lr;
///         Zip::from(&mut w).and(&g).for_each(|w, &g| {
///             if g != 0.0 { *w -= lr * g.signum() }
///         });
///         Ok(())
///     }
///     fn lr(&self) -> f64 { self.lr }
///     fn set_lr(&mut self, lr: f64) { self.lr = lr }
/// }
///
/// let mut opt = SignSgd { lr: 0.5 };
/// let mut w = ndarray::array![1.0, -1.0].into_dyn();
/// let g = ndarray::array![3.0, 0.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// assert_eq!(w, ndarray::array![0.5, -1.0].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Optimizer<F: Float> {
    /// Updates one parameter tensor in place from its gradient.
    ///
    /// Called once per tensor per step by [`step`](Optimizer::step). Implementations
    /// check shapes before writing anything.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `grad` (or stored
    /// state) does not have the parameter's shape.
    fn update(
        &mut self,
        param: Param<'_>,
        value: ArrayViewMutD<'_, F>,
        grad: ArrayViewD<'_, F>,
    ) -> Result<()>;

    /// The learning rate (of the first parameter group).
    fn lr(&self) -> F;

    /// Sets the learning rate (of every parameter group). Schedulers call this.
    fn set_lr(&mut self, lr: F);

    /// Checks that `update` would accept this tensor, without changing anything.
    /// [`step`](Optimizer::step) validates every tensor before updating any, so a
    /// failed step leaves the model and the optimizer unchanged. The default checks
    /// that the gradient has the parameter's shape; optimizers with state also check
    /// the state's shape.
    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let _ = param;
        same_shape("Optimizer::step", value.shape(), grad.shape())
    }

    /// Called once at the start of every [`step`](Optimizer::step), before any
    /// `update` (for step counters shared by all tensors). Default: nothing.
    fn begin_step(&mut self) {}

    /// One optimization step over every parameter of `model`, from the gradients
    /// its last `backward` stored.
    ///
    /// # Errors
    /// As [`update`](Optimizer::update); nothing is changed on error.
    fn step(&mut self, model: &mut dyn Module<F>) -> Result<()> {
        model.visit_params(&mut |p, v, g| self.validate(p, v.view(), g.view()))?;
        self.begin_step();
        model.visit_params(&mut |p, v, g| self.update(p, v, g.view()))
    }

    /// Number of parameter groups (1 unless the optimizer has groups).
    fn num_groups(&self) -> usize {
        1
    }

    /// Learning rate of group `group`. Default: [`lr`](Optimizer::lr).
    fn group_lr(&self, group: usize) -> F {
        let _ = group;
        self.lr()
    }

    /// Sets the learning rate of group `group`. Default: [`set_lr`](Optimizer::set_lr).
    fn set_group_lr(&mut self, group: usize, lr: F) {
        let _ = group;
        self.set_lr(lr)
    }

    /// The momentum-like coefficient schedulers cycle (`momentum` for SGD and RMSprop,
    /// `betas[0]` for the Adam family) of group `group`, or `None` if the optimizer has
    /// none.
    fn group_momentum(&self, group: usize) -> Option<F> {
        let _ = group;
        None
    }

    /// Sets the coefficient [`group_momentum`](Optimizer::group_momentum) reads; ignored
    /// by optimizers without one.
    fn set_group_momentum(&mut self, group: usize, momentum: F) {
        let _ = (group, momentum);
    }

    /// The optimizer's state (moment buffers, step counts, current hyper-parameters)
    /// as plain named tensors and scalars, to save and later restore with
    /// [`load_state_dict`](Optimizer::load_state_dict). Default: empty (stateless).
    fn state_dict(&self) -> StateDict<F> {
        StateDict::default()
    }

    /// Restores a state saved by [`state_dict`](Optimizer::state_dict); training then
    /// continues bit-identically. Checks everything before changing anything.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) when an entry is missing,
    /// unknown or of the wrong shape;
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) when a saved
    /// hyper-parameter is out of range.
    fn load_state_dict(&mut self, state: &StateDict<F>) -> Result<()> {
        let _ = state;
        Ok(())
    }

    /// Puts into `model` the parameter values to use in `mode`, for optimizers whose
    /// evaluation point differs from the point where they take gradients.
    ///
    /// Schedule-free optimizers train at an interpolated point `y` but should be
    /// evaluated at their averaged iterate `x` (PyTorch's `schedulefree` package calls
    /// `optimizer.eval()` / `optimizer.train()` for this): `Mode::Eval` swaps `x` into
    /// the model's tensors, `Mode::Train` swaps `y` back, bit for bit. A trainer calls
    /// `swap_params(model, Mode::Eval)` before validating, evaluating or saving the model
    /// and `swap_params(model, Mode::Train)` before the next training step. Calling it
    /// with the mode already in effect changes nothing.
    ///
    /// Returns `Ok(true)` when the optimizer keeps separate evaluation parameters, and
    /// `Ok(false)` when the model's tensors are used as they are (the default, which
    /// does nothing).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when a tensor of `model`
    /// does not match the optimizer's state for it; nothing is changed then.
    fn swap_params(&mut self, model: &mut dyn Module<F>, mode: Mode) -> Result<bool> {
        let _ = (model, mode);
        Ok(false)
    }
}

/// A boxed optimizer is an optimizer: `Box<dyn Optimizer<F> + Send + Sync>` mixes
/// optimizer types (for example in [`ParamGroups`]). Every method forwards, so
/// overridden provided methods keep their behaviour.
impl<F: Float, O: Optimizer<F> + ?Sized> Optimizer<F> for Box<O> {
    fn update(
        &mut self,
        param: Param<'_>,
        value: ArrayViewMutD<'_, F>,
        grad: ArrayViewD<'_, F>,
    ) -> Result<()> {
        (**self).update(param, value, grad)
    }
    fn lr(&self) -> F {
        (**self).lr()
    }
    fn set_lr(&mut self, lr: F) {
        (**self).set_lr(lr)
    }
    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        (**self).validate(param, value, grad)
    }
    fn begin_step(&mut self) {
        (**self).begin_step()
    }
    fn step(&mut self, model: &mut dyn Module<F>) -> Result<()> {
        (**self).step(model)
    }
    fn num_groups(&self) -> usize {
        (**self).num_groups()
    }
    fn group_lr(&self, group: usize) -> F {
        (**self).group_lr(group)
    }
    fn set_group_lr(&mut self, group: usize, lr: F) {
        (**self).set_group_lr(group, lr)
    }
    fn group_momentum(&self, group: usize) -> Option<F> {
        (**self).group_momentum(group)
    }
    fn set_group_momentum(&mut self, group: usize, momentum: F) {
        (**self).set_group_momentum(group, momentum)
    }
    fn state_dict(&self) -> StateDict<F> {
        (**self).state_dict()
    }
    fn load_state_dict(&mut self, state: &StateDict<F>) -> Result<()> {
        (**self).load_state_dict(state)
    }
    fn swap_params(&mut self, model: &mut dyn Module<F>, mode: Mode) -> Result<bool> {
        (**self).swap_params(model, mode)
    }
}

/// Named plain tensors and scalars: an optimizer's saved state.
///
/// Keys follow PyTorch's `state_dict()` layout: `"state.<param id>.<field>"` for
/// per-parameter tensors (`exp_avg`, `momentum_buffer`, ...) and scalars (`step`),
/// `"param_groups.<group>.<hyper-parameter>"` for group settings. Scalars are `f64`
/// so step counts stay exact in `f32` training. Pairs are flattened
/// (`param_groups.0.betas.0`, `param_groups.0.betas.1`), flags are `0` or `1`, and an
/// optional value that is `None` (Adafactor's `eps.0`) is left out. With the `serde`
/// feature a state dict serializes with serde.
///
/// # Example
///
/// ```
/// use ndtrain::optim::StateDict;
///
/// let mut s = StateDict::<f32>::default();
/// s.scalars.push(("state.0.step".into(), 3.0));
/// assert_eq!(s.scalar("state.0.step"), Some(3.0));
/// assert!(s.tensor("state.0.exp_avg").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StateDict<F> {
    /// Named tensors.
    pub tensors: Vec<(String, ArrayD<F>)>,
    /// Named scalars.
    pub scalars: Vec<(String, f64)>,
}

impl<F> StateDict<F> {
    /// The tensor named `key`.
    pub fn tensor(&self, key: &str) -> Option<&ArrayD<F>> {
        self.tensors.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The scalar named `key`.
    pub fn scalar(&self, key: &str) -> Option<f64> {
        self.scalars.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Per-parameter optimizer state, indexed by [`Param::id`]. Allocates when a tensor
/// is first seen and never again.
///
/// # Example
///
/// ```
/// use ndtrain::optim::StateMap;
///
/// let mut s: StateMap<u32> = StateMap::default();
/// *s.get_or_insert_with(2, || 0) += 5;
/// assert_eq!(s.get(2), Some(&5));
/// assert_eq!(s.get(0), None);
/// ```
#[derive(Clone, Debug)]
pub struct StateMap<S> {
    slots: Vec<Option<S>>,
}

impl<S> Default for StateMap<S> {
    fn default() -> Self {
        StateMap { slots: Vec::new() }
    }
}

impl<S> StateMap<S> {
    /// The state of parameter `id`, if it has one.
    pub fn get(&self, id: usize) -> Option<&S> {
        self.slots.get(id).and_then(Option::as_ref)
    }

    /// The state of parameter `id`, mutable.
    pub fn get_mut(&mut self, id: usize) -> Option<&mut S> {
        self.slots.get_mut(id).and_then(Option::as_mut)
    }

    /// The state of parameter `id`, created by `init` on first use.
    pub fn get_or_insert_with(&mut self, id: usize, init: impl FnOnce() -> S) -> &mut S {
        if self.slots.len() <= id {
            self.slots.resize_with(id + 1, || None);
        }
        self.slots[id].get_or_insert_with(init)
    }

    /// Replaces the state of parameter `id`.
    pub fn insert(&mut self, id: usize, state: S) {
        if self.slots.len() <= id {
            self.slots.resize_with(id + 1, || None);
        }
        self.slots[id] = Some(state);
    }

    /// `(id, state)` for every parameter with state, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &S)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }

    /// Forgets all state.
    pub fn clear(&mut self) {
        self.slots.clear();
    }

    /// Number of parameters with state.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether no parameter has state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_map_grows_on_first_sight_only() {
        let mut s: StateMap<Vec<u8>> = StateMap::default();
        s.get_or_insert_with(3, || vec![1]);
        s.get_or_insert_with(3, || vec![2]);
        assert_eq!(s.get(3), Some(&vec![1]));
        assert_eq!(s.len(), 1);
        assert_eq!(s.iter().map(|(i, _)| i).collect::<Vec<_>>(), vec![3]);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn state_dict_round_trips_through_serde() {
        let mut opt = Adam::<f32>::default();
        let mut w = ndarray::array![1.0f32, 2.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), ndarray::array![0.5f32, -0.5].into_dyn().view())
            .unwrap();
        let sd = opt.state_dict();
        let json = serde_json::to_string(&sd).unwrap();
        let back: StateDict<f32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sd);
        let mut fresh = Adam::<f32>::default();
        fresh.load_state_dict(&back).unwrap();
        assert_eq!(fresh.state_dict(), sd);
    }
}
