//! Schedule-free learning: [`ScheduleFreeAdamW`] (optax.contrib.schedule_free_adamw) and
//! [`ScheduleFreeSgd`] (optax.contrib.schedule_free_sgd).
//!
//! Both keep three sequences per parameter: `z` (the base optimizer's iterate), `x` (the
//! weighted average of the `z`s: the point to *evaluate*) and `y = β1·x + (1 − β1)·z`
//! (the point where gradients are taken). The model's tensors hold `y` while training;
//! [`Optimizer::swap_params`] (or the inherent `eval_params` / `train_params`) swaps `x`
//! in for validation and evaluation and swaps `y` back afterwards, bit for bit.

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use crate::error::{Error, Result};
use crate::model::{Mode, Module};
use crate::optim::kernel::{ConstDiv, fused4, fused5};
use crate::optim::state::bias_correction;
use crate::optim::state::{
    Placer, Reader, Writer, check_nonneg, check_state_shapes, check_unit_closed, check_unit_open,
};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, same_shape};

/// Per-parameter state of [`ScheduleFreeAdamW`] and [`ScheduleFreeSgd`].
///
/// The averaging scalars (`max_lr`, `weight_sum`) are global in optax; here every
/// parameter keeps its own copy, identical when all parameters step together.
#[derive(Clone, Debug)]
pub struct ScheduleFreeState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// The base optimizer's iterate `z`.
    pub z: ArrayD<F>,
    /// The averaged iterate `x` (the evaluation point). While the optimizer is in
    /// evaluation mode (after `swap_params(model, Mode::Eval)`) the model holds `x`
    /// and this tensor holds the training point `y` instead.
    pub x: ArrayD<F>,
    /// Second moment `v` of the AdamW variant (`None` for SGD).
    pub exp_avg_sq: Option<ArrayD<F>>,
    /// Largest learning rate seen so far (`max_lr`).
    pub max_lr: f64,
    /// Sum of the averaging weights `max_lr^weight_lr_power` (`weight_sum`).
    pub weight_sum: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct SfConfig {
    lr: f64,
    warmup_steps: u64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    weight_lr_power: f64,
    /// AdamW (`true`) or SGD (`false`) base optimizer.
    adam: bool,
}

impl SfConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        if self.adam {
            check_unit_closed("betas[0]", self.beta1)?;
            check_unit_open("betas[1]", self.beta2)?;
            check_nonneg("eps", self.eps)?;
        } else {
            check_unit_closed("momentum", self.beta1)?;
        }
        check_nonneg("weight_decay", self.weight_decay)?;
        check_nonneg("weight_lr_power", self.weight_lr_power)
    }

    /// The learning rate at schedule step `k`: optax's
    /// `warmup_constant_schedule(0, lr, W)`, i.e. `(0 − lr)·(1 − min(k, W)/W) + lr`.
    fn lr_at(&self, k: u64) -> f64 {
        let w = self.warmup_steps;
        if w == 0 || k >= w { self.lr } else { (0.0 - self.lr) * (1.0 - k as f64 / w as f64) + self.lr }
    }

    fn write<F: Float>(&self, w: &mut Writer<F>) {
        w.hyper("lr", self.lr).hyper("warmup_steps", self.warmup_steps as f64);
        if self.adam {
            w.hyper("betas.0", self.beta1).hyper("betas.1", self.beta2).hyper("eps", self.eps);
        } else {
            w.hyper("momentum", self.beta1);
        }
        w.hyper("weight_decay", self.weight_decay).hyper("weight_lr_power", self.weight_lr_power);
    }

    fn read<F: Float>(r: &mut Reader<'_, F>, adam: bool, op: &'static str) -> Result<Self> {
        let lr = r.hyper("lr")?;
        let warmup = r.hyper("warmup_steps")?;
        if !(warmup >= 0.0 && warmup.fract() == 0.0 && warmup < 9.007_199_254_740_992e15) {
            return Err(Error::invalid_input(op, format!("warmup_steps = {warmup} is not a step count")));
        }
        let (beta1, beta2, eps) = if adam {
            (r.hyper("betas.0")?, r.hyper("betas.1")?, r.hyper("eps")?)
        } else {
            (r.hyper("momentum")?, 0.0, 0.0)
        };
        let cfg = SfConfig {
            lr,
            warmup_steps: warmup as u64,
            beta1,
            beta2,
            eps,
            weight_decay: r.hyper("weight_decay")?,
            weight_lr_power: r.hyper("weight_lr_power")?,
            adam,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// What both schedule-free optimizers share: the configuration, the state and the mode.
#[derive(Clone, Debug)]
struct Core<F> {
    cfg: SfConfig,
    state: StateMap<ScheduleFreeState<F>>,
    /// `true` while the model holds `x` (after `swap_params(.., Mode::Eval)`).
    eval_mode: bool,
    names: &'static Names,
}

/// Operation names for errors.
#[derive(Debug)]
struct Names {
    update: &'static str,
    swap: &'static str,
    load: &'static str,
}

const ADAMW_NAMES: Names = Names {
    update: "ScheduleFreeAdamW::update",
    swap: "ScheduleFreeAdamW::swap_params",
    load: "ScheduleFreeAdamW::load_state_dict",
};
const SGD_NAMES: Names = Names {
    update: "ScheduleFreeSgd::update",
    swap: "ScheduleFreeSgd::swap_params",
    load: "ScheduleFreeSgd::load_state_dict",
};

impl<F: Float> Core<F> {
    fn new(cfg: SfConfig) -> Self {
        Core {
            cfg,
            state: StateMap::default(),
            eval_mode: false,
            names: if cfg.adam { &ADAMW_NAMES } else { &SGD_NAMES },
        }
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let op = self.names.update;
        if self.eval_mode {
            return Err(Error::invalid_input(
                op,
                "the model holds the evaluation parameters x; call swap_params(model, Mode::Train) \
                 (or train_params) before training",
            ));
        }
        same_shape(op, value.shape(), grad.shape())?;
        if let Some(s) = self.state.get(param.id) {
            check_state_shapes(op, value.shape(), &[&s.z, &s.x])?;
            if let Some(v) = &s.exp_avg_sq {
                check_state_shapes(op, value.shape(), &[v])?;
            }
        }
        Ok(())
    }

    fn update(&mut self, param: Param<'_>, mut y: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, y.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[y.as_ptr(), g.as_ptr()]);
        let s = self.state.get_or_insert_with(param.id, || ScheduleFreeState {
            step: 0,
            z: placer.copy_of(y.view()),
            x: placer.copy_of(y.view()),
            exp_avg_sq: c.adam.then(|| placer.zeros(y.shape())),
            max_lr: 0.0,
            weight_sum: 0.0,
        });
        let t = s.step + 1;
        // The averaging weight uses lr(t); the base optimizer counts from 0 and uses lr(t − 1).
        let max_lr = s.max_lr.max(c.lr_at(t));
        let weight = max_lr.powf(c.weight_lr_power);
        let weight_sum = s.weight_sum + weight;
        let ck = if weight.is_nan() || weight_sum.is_nan() {
            f64::NAN
        } else {
            let q = weight / weight_sum;
            if q.is_nan() { 0.0 } else { q }
        };
        let neg_lr = F::lit(-c.lr_at(t - 1));
        let (ck, omck) = (F::lit(ck), F::lit(1.0 - ck));
        let (b1, omb1) = (F::lit(c.beta1), F::lit(1.0 - c.beta1));
        let wd = F::lit(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        // z ← z − lr(t−1)·d; x ← (1 − c)·x + c·z; y ← β1·x + (1 − β1)·z, with y updated by
        // the difference as optax applies it (y + (y_new − y)).
        let advance = move |y: &mut F, d: F, z: &mut F, x: &mut F| {
            let d = if decay { d + wd * *y } else { d };
            *z += d * neg_lr;
            *x = omck * *x + ck * *z;
            let y_new = b1 * *x + omb1 * *z;
            *y += y_new - *y;
        };
        match s.exp_avg_sq.as_mut() {
            Some(v) => {
                let (b2, omb2) = (F::lit(c.beta2), F::lit(1.0 - c.beta2));
                let bc2 = ConstDiv::new(F::lit(bias_correction(c.beta2, t)));
                let eps = F::lit(c.eps);
                fused5(&mut y, &g, &mut s.z, &mut s.x, v, |y, g, z, x, v| {
                    *v = omb2 * (g * g) + b2 * *v;
                    advance(y, g / (bc2.apply(*v).sqrt() + eps), z, x);
                });
            }
            None => fused4(&mut y, &g, &mut s.z, &mut s.x, advance),
        }
        s.step = t;
        s.max_lr = max_lr;
        s.weight_sum = weight_sum;
        Ok(())
    }

    fn swap_params(&mut self, model: &mut dyn Module<F>, mode: Mode) -> Result<bool> {
        let to_eval = mode == Mode::Eval;
        if self.eval_mode == to_eval {
            return Ok(true);
        }
        let op = self.names.swap;
        let state = &mut self.state;
        model.visit_params(&mut |p, v, _| match state.get(p.id) {
            Some(s) => same_shape(op, v.shape(), s.x.shape()),
            None => Ok(()),
        })?;
        model.visit_params(&mut |p, mut v, _| {
            if let Some(s) = state.get_mut(p.id) {
                Zip::from(&mut v).and(&mut s.x).for_each(std::mem::swap);
            }
            Ok(())
        })?;
        self.eval_mode = to_eval;
        Ok(true)
    }

    fn eval_param(&self, id: usize) -> Option<ArrayViewD<'_, F>> {
        if self.eval_mode { None } else { self.state.get(id).map(|s| s.x.view()) }
    }

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        w.flag("train_mode", !self.eval_mode);
        let slot = if self.eval_mode { "y" } else { "x" };
        for (id, s) in self.state.iter() {
            w.step(id, s.step)
                .scalar(id, "max_lr", s.max_lr)
                .scalar(id, "weight_sum", s.weight_sum)
                .tensors(id, &[("z", &s.z), (slot, &s.x)]);
            if let Some(v) = &s.exp_avg_sq {
                w.tensor(id, "exp_avg_sq", v);
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new(self.names.load, sd);
        let cfg = SfConfig::read(&mut r, self.cfg.adam, self.names.load)?;
        let eval_mode = !r.flag("train_mode")?;
        let slot = if eval_mode { "y" } else { "x" };
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let max_lr = r.scalar(id, "max_lr")?;
            let weight_sum = r.scalar(id, "weight_sum")?;
            let ([z, x], [exp_avg_sq]) = r.placed_with(id, ["z", slot], [("exp_avg_sq", cfg.adam)])?;
            Ok(ScheduleFreeState { step, z, x, exp_avg_sq, max_lr, weight_sum })
        })?;
        self.cfg = cfg;
        self.state = state;
        self.eval_mode = eval_mode;
        Ok(())
    }
}

macro_rules! schedule_free_common {
    ($ty:ident, $builder:ident) => {
        impl<F: Float> $ty<F> {
            /// A builder starting from optax's defaults.
            pub fn builder() -> $builder<F> {
                $builder::default()
            }
            /// Number of linear warm-up steps (`0`: none).
            pub fn warmup_steps(&self) -> u64 {
                self.core.cfg.warmup_steps
            }
            /// Weight decay `λ`.
            pub fn weight_decay(&self) -> f64 {
                self.core.cfg.weight_decay
            }
            /// The power of the averaging weights.
            pub fn weight_lr_power(&self) -> f64 {
                self.core.cfg.weight_lr_power
            }
            /// The evaluation point `x` of parameter `id` (optax's
            /// `schedule_free_eval_params`): `None` before the parameter's first step
            /// (then `x` is the parameter itself) and while in evaluation mode (then the
            /// model's tensor is `x`).
            pub fn eval_param(&self, id: usize) -> Option<ArrayViewD<'_, F>> {
                self.core.eval_param(id)
            }
            /// Whether the model holds the evaluation parameters `x` (after
            /// [`eval_params`](Self::eval_params)); `step` fails until
            /// [`train_params`](Self::train_params).
            pub fn is_eval_mode(&self) -> bool {
                self.core.eval_mode
            }
            /// Swaps the evaluation point `x` into `model` (PyTorch `schedulefree`'s
            /// `optimizer.eval()`); [`train_params`](Self::train_params) swaps back.
            /// Does nothing if already in evaluation mode.
            ///
            /// # Errors
            /// [`Error::ShapeMismatch`] when a tensor does not match its state; nothing
            /// is changed then.
            pub fn eval_params(&mut self, model: &mut dyn Module<F>) -> Result<()> {
                self.core.swap_params(model, Mode::Eval).map(|_| ())
            }
            /// Swaps the training point `y` back into `model` (PyTorch `schedulefree`'s
            /// `optimizer.train()`), exactly as it was. Does nothing if already in
            /// training mode.
            ///
            /// # Errors
            /// As [`eval_params`](Self::eval_params).
            pub fn train_params(&mut self, model: &mut dyn Module<F>) -> Result<()> {
                self.core.swap_params(model, Mode::Train).map(|_| ())
            }
            /// The state of parameter `id`, if it has any.
            pub fn state(&self, id: usize) -> Option<&ScheduleFreeState<F>> {
                self.core.state.get(id)
            }
        }

        impl<F: Float> Optimizer<F> for $ty<F> {
            fn update(
                &mut self,
                param: Param<'_>,
                value: ArrayViewMutD<'_, F>,
                grad: ArrayViewD<'_, F>,
            ) -> Result<()> {
                self.core.update(param, value, grad)
            }
            /// Also fails while in evaluation mode, so a `step` then changes nothing.
            fn validate(
                &self,
                param: Param<'_>,
                value: ArrayViewD<'_, F>,
                grad: ArrayViewD<'_, F>,
            ) -> Result<()> {
                self.core.validate(param, value, grad)
            }
            /// The (peak) learning rate; the warm-up is applied on top of it.
            fn lr(&self) -> F {
                F::lit(self.core.cfg.lr)
            }
            fn set_lr(&mut self, lr: F) {
                self.core.cfg.lr = lr.as_f64();
            }
            /// `β1`, the interpolation between `x` and `z`.
            fn group_momentum(&self, _group: usize) -> Option<F> {
                Some(F::lit(self.core.cfg.beta1))
            }
            fn set_group_momentum(&mut self, _group: usize, momentum: F) {
                self.core.cfg.beta1 = momentum.as_f64();
            }
            fn state_dict(&self) -> StateDict<F> {
                self.core.state_dict()
            }
            fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
                self.core.load_state_dict(sd)
            }
            /// `Mode::Eval` swaps `x` into the model, `Mode::Train` swaps `y` back;
            /// always returns `Ok(true)`.
            fn swap_params(&mut self, model: &mut dyn Module<F>, mode: Mode) -> Result<bool> {
                self.core.swap_params(model, mode)
            }
        }
    };
}

/// Schedule-free AdamW: AdamW without momentum as the base optimizer, with
/// interpolation and averaging in place of momentum and of a learning-rate decay
/// schedule, as `optax.contrib.schedule_free_adamw` computes it.
///
/// # Update rule
///
/// Per parameter, `y = x = z = p₀` at the start, `max_lr = 0`, `W = 0`, `v = 0`. The
/// model's tensor is `y`, and `g` is its gradient. With the warm-up schedule
/// `lr(k) = (0 − γ)·(1 − min(k, K)/K) + γ` (`lr(k) = γ` without warm-up), step
/// `t = 1, 2, ...` is:
///
/// ```text
/// max_lr ← max(max_lr, lr(t));   w ← max_lr^weight_lr_power;   W ← W + w
/// c ← w / W                      (0 when W = 0)
/// v ← (1 − β2)·g² + β2·v
/// d ← g / (√(v / (1 − β2^t)) + ε) + λ·y          (no λ term when λ = 0)
/// z ← z − lr(t − 1)·d                             (the base optimizer counts from 0)
/// x ← (1 − c)·x + c·z
/// y ← β1·x + (1 − β1)·z
/// ```
///
/// Evaluate at `x`: [`eval_params`](Self::eval_params) /
/// [`Optimizer::swap_params`] swap it into the model, [`train_params`](Self::train_params)
/// swaps `y` back bit for bit, and [`eval_param`](Self::eval_param) reads it.
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `0.0025` | `>= 0` |
/// | `warmup_steps` | `0` (optax's `None`: no warm-up) | any |
/// | `betas` (`b1`, `b2`) | `(0.9, 0.999)` | `b1` in `[0, 1]`, `b2` in `[0, 1)` |
/// | `eps` | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `weight_lr_power` | `2` | `>= 0` |
///
/// Differences from optax: `x` is stored instead of being recomputed as
/// `(y − (1 − β1)·z)/β1` (so `β1 = 0` works, and the swap is exact; values agree to
/// rounding), and the averaging scalars are kept in `f64` for `f32` models. When a
/// scheduler changes the learning rate through [`Optimizer::set_lr`], that value is the
/// peak `γ` of the warm-up.
///
/// State per parameter ([`ScheduleFreeState`]): `step`, `z`, `x`, `exp_avg_sq` (`v`),
/// `max_lr`, `weight_sum`; three tensors per parameter, one more than AdamW. The state
/// dict also records `train_mode` (as `schedulefree`'s `param_groups`).
///
/// # Errors
///
/// [`build`](ScheduleFreeAdamWBuilder::build) returns [`Error::InvalidParameter`] for a
/// negative (or NaN) `lr`, `eps`, `weight_decay` or `weight_lr_power`, `b1` outside
/// `[0, 1]` (`"betas[0]"`) and `b2` outside `[0, 1)` (`"betas[1]"`).
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`] for a gradient or state of
/// the wrong shape, and [`Error::InvalidInput`] while in evaluation mode.
///
/// # Reference
///
/// Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, *The Road Less Scheduled*,
/// NeurIPS 2024 (<https://arxiv.org/abs/2405.15682>);
/// <https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.schedule_free_adamw>.
///
/// # Example
///
/// ```
/// use ndarray::{array, ArrayD};
/// use ndtrain::model::ParamVisitor;
/// use ndtrain::optim::ScheduleFreeAdamW;
/// use ndtrain::prelude::*;
///
/// /// One tensor and its gradient.
/// struct Weights { w: ArrayD<f64>, g: ArrayD<f64> }
/// impl Module<f64> for Weights {
///     fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
///         f(Param::new(0, "w"), self.w.view_mut(), self.g.view_mut())
///     }
/// }
///
/// let mut opt = ScheduleFreeAdamW::builder().lr(0.1).warmup_steps(5).build()?;
/// let mut model = Weights { w: array![1.0, -2.0].into_dyn(), g: array![0.5, -0.5].into_dyn() };
/// for _ in 0..10 {
///     opt.step(&mut model)?;
/// }
/// let y = model.w.clone();
/// let x = opt.eval_param(0).unwrap().to_owned();
/// opt.eval_params(&mut model)?; // evaluate at x ...
/// assert_eq!(model.w, x);
/// assert!(opt.step(&mut model).is_err()); // (no training in evaluation mode)
/// opt.train_params(&mut model)?; // ... and train on from y
/// assert_eq!(model.w, y);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "schedule_free_adamw")]
#[doc(alias = "optax.contrib.schedule_free_adamw")]
#[doc(alias = "AdamWScheduleFree")]
#[derive(Clone, Debug)]
pub struct ScheduleFreeAdamW<F> {
    core: Core<F>,
}

const ADAMW_DEFAULTS: SfConfig = SfConfig {
    lr: 0.0025,
    warmup_steps: 0,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: 0.0,
    weight_lr_power: 2.0,
    adam: true,
};

/// Builder of [`ScheduleFreeAdamW`]; [`build`](ScheduleFreeAdamWBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct ScheduleFreeAdamWBuilder<F> {
    cfg: SfConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> Default for ScheduleFreeAdamWBuilder<F> {
    fn default() -> Self {
        ScheduleFreeAdamWBuilder { cfg: ADAMW_DEFAULTS, _f: PhantomData }
    }
}

impl<F: Float> ScheduleFreeAdamWBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`; the peak after the warm-up).
        #[doc(alias = "learning_rate")]
        lr: f64,
        /// Linear warm-up from 0 to `lr` over this many steps (`0`: none, optax's `None`).
        warmup_steps: u64,
    }
    /// `(β1, β2)` (optax's `b1`, `b2`): the interpolation of `y` and the decay of `v`.
    #[doc(alias = "b1")]
    #[doc(alias = "b2")]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.cfg.beta1 = beta1;
        self.cfg.beta2 = beta2;
        self
    }
    setters! {
        /// `ε`, added to the denominator outside the square root.
        eps: f64,
        /// Weight decay `λ` (at `y`, scaled by the learning rate).
        weight_decay: f64,
        /// The averaging weight of a step is `max_lr^weight_lr_power`.
        weight_lr_power: f64,
    }
    /// Validates the hyper-parameters and builds the optimizer.
    ///
    /// # Errors
    /// See [`ScheduleFreeAdamW`].
    pub fn build(self) -> Result<ScheduleFreeAdamW<F>> {
        self.cfg.validate()?;
        Ok(ScheduleFreeAdamW { core: Core::new(self.cfg) })
    }
}

impl<F: Float> Default for ScheduleFreeAdamW<F> {
    /// optax's defaults: `lr = 0.0025`, no warm-up, `betas = (0.9, 0.999)`, `eps = 1e-8`,
    /// no weight decay, `weight_lr_power = 2`.
    fn default() -> Self {
        ScheduleFreeAdamW { core: Core::new(ADAMW_DEFAULTS) }
    }
}

impl<F: Float> ScheduleFreeAdamW<F> {
    /// `(β1, β2)`.
    pub fn betas(&self) -> (f64, f64) {
        (self.core.cfg.beta1, self.core.cfg.beta2)
    }
    /// `ε`.
    pub fn eps(&self) -> f64 {
        self.core.cfg.eps
    }
}

schedule_free_common!(ScheduleFreeAdamW, ScheduleFreeAdamWBuilder);

/// Schedule-free SGD: plain gradient steps on `z`, with interpolation and averaging in
/// place of momentum and of a learning-rate decay schedule, as
/// `optax.contrib.schedule_free_sgd` computes it.
///
/// # Update rule
///
/// As [`ScheduleFreeAdamW`] with the direction `d ← g + λ·y` (no `λ` term when `λ = 0`,
/// optax's `weight_decay=None`):
///
/// ```text
/// max_lr ← max(max_lr, lr(t));   w ← max_lr^weight_lr_power;   W ← W + w;   c ← w / W
/// z ← z − lr(t − 1)·(g + λ·y)
/// x ← (1 − c)·x + c·z
/// y ← β1·x + (1 − β1)·z
/// ```
///
/// with `lr(k) = (0 − γ)·(1 − min(k, K)/K) + γ` during a warm-up of `K` steps. The
/// model's tensor is `y`; evaluate at `x` ([`eval_params`](Self::eval_params),
/// [`Optimizer::swap_params`], [`eval_param`](Self::eval_param)).
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `1.0` | `>= 0` |
/// | `warmup_steps` | `0` (optax's `None`: no warm-up) | any |
/// | `momentum` (`b1`) | `0.9` | `[0, 1]` |
/// | `weight_decay` (`λ`) | `0` (optax's `None`) | `>= 0` |
/// | `weight_lr_power` | `2` | `>= 0` |
///
/// The differences from optax listed for [`ScheduleFreeAdamW`] apply. `momentum` is
/// PyTorch `schedulefree`'s name for `b1`.
///
/// State per parameter ([`ScheduleFreeState`]): `step`, `z`, `x`, `max_lr`,
/// `weight_sum`.
///
/// # Errors
///
/// [`build`](ScheduleFreeSgdBuilder::build) returns [`Error::InvalidParameter`] for a
/// negative (or NaN) `lr`, `weight_decay` or `weight_lr_power` and a `momentum` outside
/// `[0, 1]`. [`Optimizer::update`] returns [`Error::ShapeMismatch`] for a gradient or
/// state of the wrong shape, and [`Error::InvalidInput`] while in evaluation mode.
///
/// # Reference
///
/// Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, *The Road Less Scheduled*,
/// NeurIPS 2024 (<https://arxiv.org/abs/2405.15682>);
/// <https://optax.readthedocs.io/en/latest/api/contrib.html#optax.contrib.schedule_free_sgd>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::ScheduleFreeSgd;
/// use ndtrain::prelude::*;
///
/// let mut opt = ScheduleFreeSgd::builder().lr(0.5).momentum(0.9).build()?;
/// let mut y = array![1.0f64].into_dyn();
/// opt.update(Param::new(0, "w"), y.view_mut(), array![1.0].into_dyn().view())?;
/// // Step 1 (c = 1): z = 1 − 0.5 = 0.5, x = z = 0.5, y = 0.9·0.5 + 0.1·0.5 = 0.5.
/// assert!((y[0] - 0.5).abs() < 1e-15);
/// assert!((opt.eval_param(0).unwrap()[0] - 0.5).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "schedule_free_sgd")]
#[doc(alias = "optax.contrib.schedule_free_sgd")]
#[doc(alias = "SGDScheduleFree")]
#[derive(Clone, Debug)]
pub struct ScheduleFreeSgd<F> {
    core: Core<F>,
}

const SGD_DEFAULTS: SfConfig = SfConfig {
    lr: 1.0,
    warmup_steps: 0,
    beta1: 0.9,
    beta2: 0.0,
    eps: 0.0,
    weight_decay: 0.0,
    weight_lr_power: 2.0,
    adam: false,
};

/// Builder of [`ScheduleFreeSgd`]; [`build`](ScheduleFreeSgdBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct ScheduleFreeSgdBuilder<F> {
    cfg: SfConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> Default for ScheduleFreeSgdBuilder<F> {
    fn default() -> Self {
        ScheduleFreeSgdBuilder { cfg: SGD_DEFAULTS, _f: PhantomData }
    }
}

impl<F: Float> ScheduleFreeSgdBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`; the peak after the warm-up).
        #[doc(alias = "learning_rate")]
        lr: f64,
        /// Linear warm-up from 0 to `lr` over this many steps (`0`: none, optax's `None`).
        warmup_steps: u64,
    }
    /// `β1` (optax's `b1`), the interpolation `y = β1·x + (1 − β1)·z`.
    #[doc(alias = "b1")]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.cfg.beta1 = momentum;
        self
    }
    setters! {
        /// Weight decay `λ` (at `y`, scaled by the learning rate).
        weight_decay: f64,
        /// The averaging weight of a step is `max_lr^weight_lr_power`.
        weight_lr_power: f64,
    }
    /// Validates the hyper-parameters and builds the optimizer.
    ///
    /// # Errors
    /// See [`ScheduleFreeSgd`].
    pub fn build(self) -> Result<ScheduleFreeSgd<F>> {
        self.cfg.validate()?;
        Ok(ScheduleFreeSgd { core: Core::new(self.cfg) })
    }
}

impl<F: Float> Default for ScheduleFreeSgd<F> {
    /// optax's defaults: `lr = 1`, no warm-up, `momentum (b1) = 0.9`, no weight decay,
    /// `weight_lr_power = 2`.
    fn default() -> Self {
        ScheduleFreeSgd { core: Core::new(SGD_DEFAULTS) }
    }
}

impl<F: Float> ScheduleFreeSgd<F> {
    /// `β1` (optax's `b1`).
    pub fn momentum(&self) -> f64 {
        self.core.cfg.beta1
    }
}

schedule_free_common!(ScheduleFreeSgd, ScheduleFreeSgdBuilder);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: ScheduleFreeAdamWBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(ScheduleFreeAdamW::builder().betas(0.9, 1.0)),
            Error::InvalidParameter { name: "betas[1]", value: 1.0, expected: "[0, 1)" }
        );
        assert!(matches!(
            e(ScheduleFreeAdamW::builder().betas(1.1, 0.9)),
            Error::InvalidParameter { name: "betas[0]", .. }
        ));
        assert!(matches!(
            e(ScheduleFreeAdamW::builder().eps(-1.0)),
            Error::InvalidParameter { name: "eps", .. }
        ));
        assert!(matches!(
            e(ScheduleFreeAdamW::builder().weight_lr_power(-2.0)),
            Error::InvalidParameter { name: "weight_lr_power", .. }
        ));
        let e = |b: ScheduleFreeSgdBuilder<f32>| b.build().unwrap_err();
        assert!(matches!(
            e(ScheduleFreeSgd::builder().momentum(-0.1)),
            Error::InvalidParameter { name: "momentum", .. }
        ));
        assert!(matches!(
            e(ScheduleFreeSgd::builder().lr(f64::NAN)),
            Error::InvalidParameter { name: "lr", .. }
        ));
        assert!(matches!(
            e(ScheduleFreeSgd::builder().weight_decay(-1.0)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
    }

    #[test]
    fn warmup_schedule() {
        let c = SfConfig { warmup_steps: 4, lr: 2.0, ..SGD_DEFAULTS };
        assert_eq!(c.lr_at(0), 0.0);
        assert_eq!(c.lr_at(1), 0.5);
        assert_eq!(c.lr_at(4), 2.0);
        assert_eq!(c.lr_at(9), 2.0);
        assert_eq!(SGD_DEFAULTS.lr_at(0), 1.0);
    }

    #[test]
    fn sgd_two_steps_by_hand() {
        // lr 1, b1 0.5, power 2, g = 1 then g = 2, p0 = 0:
        // t=1: w = 1, W = 1, c = 1; z = -1; x = -1; y = -1.
        // t=2: w = 1, W = 2, c = 0.5; z = -1 - 2 = -3; x = 0.5·(-1) + 0.5·(-3) = -2;
        //      y = 0.5·(-2) + 0.5·(-3) = -2.5.
        let mut opt = ScheduleFreeSgd::builder().momentum(0.5).build().unwrap();
        let mut y = array![0.0f64].into_dyn();
        opt.update(Param::new(0, "w"), y.view_mut(), array![1.0].into_dyn().view()).unwrap();
        assert_eq!(y[0], -1.0);
        opt.update(Param::new(0, "w"), y.view_mut(), array![2.0].into_dyn().view()).unwrap();
        assert_eq!(y[0], -2.5);
        let s = opt.state(0).unwrap();
        assert_eq!((s.z[0], s.x[0], s.weight_sum, s.max_lr), (-3.0, -2.0, 2.0, 1.0));
    }

    #[test]
    fn warmup_first_step_only_averages() {
        // With warm-up lr(0) = 0: z does not move on step 1, so y = x = z = p0.
        let mut opt = ScheduleFreeAdamW::builder().lr(0.1).warmup_steps(3).build().unwrap();
        let mut y = array![1.0f64, 2.0].into_dyn();
        opt.update(Param::new(0, "w"), y.view_mut(), array![1.0, -1.0].into_dyn().view()).unwrap();
        assert_eq!(y, array![1.0, 2.0].into_dyn());
        let s = opt.state(0).unwrap();
        assert!((s.max_lr - 0.1 / 3.0).abs() < 1e-17);
        assert!(s.exp_avg_sq.as_ref().unwrap()[0] > 0.0);
    }

    #[test]
    fn state_dict_round_trip_in_both_modes() {
        let mut opt = ScheduleFreeAdamW::<f64>::builder().warmup_steps(2).build().unwrap();
        let mut y = array![1.0, 2.0].into_dyn();
        for _ in 0..3 {
            opt.update(Param::new(0, "w"), y.view_mut(), array![0.5, -0.5].into_dyn().view()).unwrap();
        }
        let sd = opt.state_dict();
        assert_eq!(sd.scalar("param_groups.0.train_mode"), Some(1.0));
        assert!(sd.tensor("state.0.x").is_some());
        let mut fresh = ScheduleFreeAdamW::<f64>::default();
        fresh.load_state_dict(&sd).unwrap();
        assert_eq!(fresh.state_dict(), sd);
        assert_eq!(fresh.warmup_steps(), 2);
        // The SGD variant does not accept AdamW's state.
        assert!(ScheduleFreeSgd::<f64>::default().load_state_dict(&sd).is_err());
    }
}
