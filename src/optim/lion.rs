//! Lion: [`Lion`] (optax.lion).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused3;
use crate::optim::optax_common::sign;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_unit_closed, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Lion (EvoLved Sign Momentum): a sign update of an interpolated momentum, as
/// `optax.lion` computes it.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` (learning rate `γ`, weight decay `λ`,
/// momentum `m` starting at 0):
///
/// ```text
/// c ← (1 − β1)·g + β1·m
/// p ← p − γ·(sign(c) + λ·p)          (no λ term when λ = 0)
/// m ← (1 − β2)·g + β2·m
/// ```
///
/// `sign(0) = 0` (numpy's sign): an element whose interpolation `c` is exactly zero does
/// not move (apart from the decay). The step uses `β1`, the momentum update `β2`, and
/// `m` is updated with the raw gradient after the step. The weight decay is decoupled and
/// scaled by the learning rate (optax's `add_decayed_weights` before the learning rate).
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `1e-4` | `>= 0` |
/// | `betas` (`b1`, `b2`) | `(0.9, 0.99)` | each in `[0, 1]` |
/// | `weight_decay` | `1e-3` | `>= 0` |
///
/// optax requires `learning_rate`; ndtrain's default `1e-4` is the paper's typical Lion
/// learning rate (3–10x smaller than AdamW's). optax's `mask` is not supported: use
/// [`ParamGroups`](crate::optim::ParamGroups) with `weight_decay(0.0)` for the tensors
/// to exclude.
///
/// State per parameter ([`LionState`]): `step` and `exp_avg` (`m`). Schedulers that
/// cycle momentum set `β1` ([`Optimizer::group_momentum`]).
///
/// # Errors
///
/// [`build`](LionBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr` or `weight_decay` (`name` `"lr"`, `"weight_decay"`) and
/// betas outside `[0, 1]` (`"betas[0]"`, `"betas[1]"`). [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the stored
/// state does not have the parameter's shape.
///
/// # Reference
///
/// Chen et al., *Symbolic Discovery of Optimization Algorithms*, NeurIPS 2023
/// (<https://arxiv.org/abs/2302.06675>);
/// <https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lion>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Lion;
/// use ndtrain::prelude::*;
///
/// let mut opt = Lion::builder().lr(0.1).betas(0.9, 0.99).weight_decay(0.0).build()?;
/// let mut w = array![1.0, -1.0, 0.5].into_dyn();
/// let g = array![2.0, -0.001, 0.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // Every element moves by exactly lr against the sign of its gradient; a zero
/// // gradient (with zero momentum) does not move.
/// assert_eq!(w, array![0.9, -0.9, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "lion")]
#[doc(alias = "optax.lion")]
#[derive(Clone, Debug)]
pub struct Lion<F> {
    cfg: LionConfig,
    state: StateMap<LionState<F>>,
}

/// Per-parameter state of [`Lion`].
#[derive(Clone, Debug)]
pub struct LionState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// The momentum `m` (optax's `mu`).
    pub exp_avg: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct LionConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    weight_decay: f64,
}

impl LionConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_unit_closed("betas[0]", self.beta1)?;
        check_unit_closed("betas[1]", self.beta2)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(LionConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    weight_decay: hyper "weight_decay",
});

const DEFAULTS: LionConfig = LionConfig { lr: 1e-4, beta1: 0.9, beta2: 0.99, weight_decay: 1e-3 };

/// Builder of [`Lion`]; [`build`](LionBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct LionBuilder<F> {
    cfg: LionConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> LionBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`).
        #[doc(alias = "learning_rate")]
        lr: f64,
    }
    /// `(β1, β2)` (optax's `b1`, `b2`): `β1` interpolates the update, `β2` the momentum.
    #[doc(alias = "b1")]
    #[doc(alias = "b2")]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.cfg.beta1 = beta1;
        self.cfg.beta2 = beta2;
        self
    }
    setters! {
        /// Decoupled weight decay `λ` (multiplied by the learning rate).
        weight_decay: f64,
    }
}

builder_basics!(Lion, LionBuilder, DEFAULTS);

impl<F: Float> Default for Lion<F> {
    /// `lr = 1e-4`, `betas = (0.9, 0.99)`, `weight_decay = 1e-3` (optax's defaults; optax
    /// has no default learning rate).
    fn default() -> Self {
        Lion { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Lion<F> {
    /// A builder starting from the defaults.
    pub fn builder() -> LionBuilder<F> {
        LionBuilder::default()
    }
    /// `(β1, β2)`.
    pub fn betas(&self) -> (f64, f64) {
        (self.cfg.beta1, self.cfg.beta2)
    }
    getters! {
        /// Weight decay `λ`.
        weight_decay: f64,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&LionState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Lion::update";

impl<F: Float> Optimizer<F> for Lion<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s =
            self.state.get_or_insert_with(param.id, || LionState { step: 0, exp_avg: placer.zeros(shape) });
        s.step += 1;
        let (b1, omb1) = (F::lit(c.beta1), F::lit(1.0 - c.beta1));
        let (b2, omb2) = (F::lit(c.beta2), F::lit(1.0 - c.beta2));
        let neg_lr = F::lit(-c.lr);
        let wd = F::lit(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        fused3(&mut p, &g, &mut s.exp_avg, |p, g, m| {
            let mut u = sign(omb1 * g + b1 * *m);
            if decay {
                u += wd * *p;
            }
            *p += u * neg_lr;
            *m = omb2 * g + b2 * *m;
        });
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.exp_avg]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!(beta1);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("exp_avg", &s.exp_avg)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Lion::load_state_dict", sd);
        let cfg = LionConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [exp_avg] = r.placed(id, ["exp_avg"])?;
            Ok(LionState { step, exp_avg })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: LionBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Lion::builder().betas(1.5, 0.99)),
            Error::InvalidParameter { name: "betas[0]", value: 1.5, expected: "[0, 1]" }
        );
        assert!(matches!(
            e(Lion::builder().betas(0.9, -0.1)),
            Error::InvalidParameter { name: "betas[1]", .. }
        ));
        assert!(matches!(e(Lion::builder().lr(f64::NAN)), Error::InvalidParameter { name: "lr", .. }));
        assert!(matches!(
            e(Lion::builder().weight_decay(-1.0)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
    }

    #[test]
    fn two_steps_by_hand() {
        // lr 0.5, betas (0.5, 0.25), wd 0.1, p = 1, g = 1 then g = -1:
        // t=1: c = 0.5 → sign 1; p = 1 - 0.5*(1 + 0.1) = 0.45; m = 0.75*1 = 0.75.
        // t=2: c = 0.5*(-1) + 0.5*0.75 = -0.125 → sign -1; p = 0.45 - 0.5*(-1 + 0.045) = 0.9275;
        //      m = 0.75*(-1) + 0.25*0.75 = -0.5625.
        let mut opt = Lion::builder().lr(0.5).betas(0.5, 0.25).weight_decay(0.1).build().unwrap();
        let mut w = array![1.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![1.0].into_dyn().view()).unwrap();
        assert!((w[0] - 0.45).abs() < 1e-15);
        opt.update(Param::new(0, "w"), w.view_mut(), array![-1.0].into_dyn().view()).unwrap();
        assert!((w[0] - 0.9275).abs() < 1e-15);
        let s = opt.state(0).unwrap();
        assert_eq!(s.step, 2);
        assert_eq!(s.exp_avg[0], -0.5625);
    }

    #[test]
    fn state_dict_round_trip() {
        let mut opt = Lion::<f64>::default();
        let mut w = array![1.0, 2.0].into_dyn();
        opt.update(Param::new(3, "w"), w.view_mut(), array![0.5, -0.5].into_dyn().view()).unwrap();
        let sd = opt.state_dict();
        let mut fresh = Lion::<f64>::builder().lr(9.0).build().unwrap();
        fresh.load_state_dict(&sd).unwrap();
        assert_eq!(fresh.state_dict(), sd);
        assert_eq!(Optimizer::<f64>::lr(&fresh), 1e-4);
        let mut bad = sd.clone();
        bad.scalars.retain(|(k, _)| k != "state.3.step");
        assert!(fresh.load_state_dict(&bad).is_err());
        assert_eq!(fresh.state_dict(), sd);
    }
}
