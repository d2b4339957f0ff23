//! LARS: [`Lars`] (optax.lars).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use crate::error::Result;
use crate::optim::kernel::fused3;
use crate::optim::optax_common::trust_ratio;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// LARS (layer-wise adaptive rate scaling): SGD with momentum whose step is rescaled per
/// tensor by the trust ratio `η·‖p‖ / ‖g + λp‖`, as `optax.lars` computes it.
///
/// # Update rule
///
/// For every parameter tensor `p` with gradient `g` (trust coefficient `η`, momentum
/// `μ`, buffer `b` starting at 0):
///
/// ```text
/// u ← g + λ·p                               (no λ term when λ = 0)
/// r ← η·‖p‖ / (‖u‖ + ε)                     (r = 1 when ‖p‖ = 0 or ‖u‖ = 0)
/// u ← −γ·r·u
/// b ← u + μ·b
/// p ← p + u + μ·b                           if nesterov
/// p ← p + b                                 otherwise
/// ```
///
/// Unlike [`Sgd`](crate::optim::Sgd), the learning rate is applied *before* the momentum
/// buffer (a learning-rate schedule changes only the new contributions), the buffer
/// starts at zero, and there is no dampening. The trust ratio and the weight decay apply
/// to every tensor, biases included (optax's default masks).
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `0.1` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `trust_coefficient` (`η`) | `0.001` | `>= 0` |
/// | `eps` (`ε`) | `0` | `>= 0` |
/// | `momentum` (`μ`) | `0.9` | `>= 0` |
/// | `nesterov` | `false` | |
///
/// optax requires `learning_rate`; ndtrain's default is `0.1`. Because `η = 0.001` scales
/// every step down, LARS learning rates are large (optax's own examples use 1 to 10).
/// optax's `weight_decay_mask` / `trust_ratio_mask` are not supported (every tensor is
/// included, their default): use [`ParamGroups`](crate::optim::ParamGroups) to treat
/// tensors differently.
///
/// State per parameter ([`LarsState`]): `step` and `momentum_buffer` (`b`). Schedulers
/// that cycle momentum set `μ` ([`Optimizer::group_momentum`]). A step makes two passes
/// over the tensor (the norms, then the update) and allocates nothing.
///
/// # Errors
///
/// [`build`](LarsBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `weight_decay`, `trust_coefficient`, `eps` or
/// `momentum`. [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the stored
/// buffer does not have the parameter's shape.
///
/// # Reference
///
/// You, Gitman & Ginsburg, *Large Batch Training of Convolutional Networks*, 2017
/// (<https://arxiv.org/abs/1708.03888>);
/// <https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lars>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Lars;
/// use ndtrain::prelude::*;
///
/// let mut opt = Lars::builder().lr(10.0).trust_coefficient(0.01).momentum(0.9).build()?;
/// let mut w = array![3.0f64, 4.0].into_dyn(); // ‖p‖ = 5
/// let g = array![0.0, 2.0].into_dyn(); // ‖g‖ = 2
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // r = 0.01·5/2 = 0.025, so the step is −10·0.025·g = (0, −0.5).
/// assert!((w[0] - 3.0).abs() < 1e-12 && (w[1] - 3.5).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "lars")]
#[doc(alias = "optax.lars")]
#[doc(alias = "LARS")]
#[derive(Clone, Debug)]
pub struct Lars<F> {
    cfg: LarsConfig,
    state: StateMap<LarsState<F>>,
}

/// Per-parameter state of [`Lars`].
#[derive(Clone, Debug)]
pub struct LarsState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// The momentum buffer `b` (optax's `trace`), learning rate included.
    pub momentum_buffer: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct LarsConfig {
    lr: f64,
    weight_decay: f64,
    trust_coefficient: f64,
    eps: f64,
    momentum: f64,
    nesterov: bool,
}

impl LarsConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        check_nonneg("trust_coefficient", self.trust_coefficient)?;
        check_nonneg("eps", self.eps)?;
        check_nonneg("momentum", self.momentum)
    }
}

hyper_table!(LarsConfig {
    lr: hyper "lr",
    weight_decay: hyper "weight_decay",
    trust_coefficient: hyper "trust_coefficient",
    eps: hyper "eps",
    momentum: hyper "momentum",
    nesterov: flag "nesterov",
});

const DEFAULTS: LarsConfig = LarsConfig {
    lr: 0.1,
    weight_decay: 0.0,
    trust_coefficient: 0.001,
    eps: 0.0,
    momentum: 0.9,
    nesterov: false,
};

/// Builder of [`Lars`]; [`build`](LarsBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct LarsBuilder<F> {
    cfg: LarsConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> LarsBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`).
        #[doc(alias = "learning_rate")]
        lr: f64,
        /// Weight decay `λ`, added to the gradient before the trust ratio.
        weight_decay: f64,
        /// Trust coefficient `η`.
        trust_coefficient: f64,
        /// `ε`, added to the update norm in the trust ratio.
        eps: f64,
        /// Momentum `μ` (`0` disables it).
        momentum: f64,
        /// Nesterov momentum (default `false`).
        nesterov: bool,
    }
}

builder_basics!(Lars, LarsBuilder, DEFAULTS);

impl<F: Float> Default for Lars<F> {
    /// `lr = 0.1`, `trust_coefficient = 0.001`, `momentum = 0.9`, no weight decay,
    /// `eps = 0`, no Nesterov.
    fn default() -> Self {
        Lars { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Lars<F> {
    /// A builder starting from the defaults.
    pub fn builder() -> LarsBuilder<F> {
        LarsBuilder::default()
    }
    getters! {
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Trust coefficient `η`.
        trust_coefficient: f64,
        /// `ε`.
        eps: f64,
        /// Momentum `μ`.
        momentum: f64,
        /// Whether Nesterov momentum is on.
        nesterov: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&LarsState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Lars::update";

impl<F: Float> Optimizer<F> for Lars<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let wd = F::lit(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        let dir = move |g: F, p: F| if decay { g + wd * p } else { g };
        // Pass 1: the norms of p and of the direction, in one sweep.
        let (mut pn, mut un) = (F::zero(), F::zero());
        Zip::from(&p).and(&g).for_each(|&p, &g| {
            let u = dir(g, p);
            pn += p * p;
            un += u * u;
        });
        let (pn, un) = (pn.sqrt(), un.sqrt());
        let r = trust_ratio(pn, un, F::lit(c.trust_coefficient), F::lit(c.eps));

        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self
            .state
            .get_or_insert_with(param.id, || LarsState { step: 0, momentum_buffer: placer.zeros(shape) });
        s.step += 1;
        let neg_lr = F::lit(-c.lr);
        let mu = F::lit(c.momentum);
        let nesterov = c.nesterov;
        // Pass 2: u ← (u·r)·(−γ); b ← u + μ·b; p ← p + (u + μ·b or b).
        fused3(&mut p, &g, &mut s.momentum_buffer, |p, g, b| {
            let u = dir(g, *p) * r * neg_lr;
            *b = u + mu * *b;
            *p += if nesterov { u + mu * *b } else { *b };
        });
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.momentum_buffer]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!(momentum);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("momentum_buffer", &s.momentum_buffer)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Lars::load_state_dict", sd);
        let cfg = LarsConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [momentum_buffer] = r.placed(id, ["momentum_buffer"])?;
            Ok(LarsState { step, momentum_buffer })
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
        let e = |b: LarsBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Lars::builder().lr(-1.0)),
            Error::InvalidParameter { name: "lr", value: -1.0, expected: ">= 0" }
        );
        assert!(matches!(
            e(Lars::builder().momentum(-0.9)),
            Error::InvalidParameter { name: "momentum", .. }
        ));
        assert!(matches!(e(Lars::builder().eps(f64::NAN)), Error::InvalidParameter { name: "eps", .. }));
        assert!(matches!(
            e(Lars::builder().trust_coefficient(-1e-3)),
            Error::InvalidParameter { name: "trust_coefficient", .. }
        ));
        assert!(matches!(
            e(Lars::builder().weight_decay(-1.0)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
    }

    #[test]
    fn momentum_and_nesterov_by_hand() {
        // η = 1, p = (3, 4) (‖p‖ = 5), g = (0, 1) twice, lr 0.1, μ = 0.5, wd 0:
        // t=1: r = 5, u = −0.1·5·g = (0, −0.5); b = (0, −0.5); p = (3, 3.5).
        // t=2: ‖p‖ = √(9 + 12.25) = √21.25, u = (0, −0.1·√21.25); b = u + 0.5·b.
        let mut opt = Lars::builder().lr(0.1).trust_coefficient(1.0).momentum(0.5).build().unwrap();
        let mut w = array![3.0f64, 4.0].into_dyn();
        let g = array![0.0, 1.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert_eq!(w, array![3.0, 3.5].into_dyn());
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        let u = -0.1 * 21.25f64.sqrt();
        assert!((w[1] - (3.5 + u - 0.25)).abs() < 1e-14);

        // Nesterov: the same first step adds u + μ·b = 1.5·u.
        let mut opt =
            Lars::builder().lr(0.1).trust_coefficient(1.0).momentum(0.5).nesterov(true).build().unwrap();
        let mut w = array![3.0f64, 4.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert_eq!(w, array![3.0, 3.25].into_dyn());
    }

    #[test]
    fn zero_parameter_uses_ratio_one() {
        let mut opt = Lars::builder().lr(0.5).momentum(0.0).build().unwrap();
        let mut b = array![0.0f64, 0.0].into_dyn();
        opt.update(Param::new(0, "b"), b.view_mut(), array![1.0, -2.0].into_dyn().view()).unwrap();
        assert_eq!(b, array![-0.5, 1.0].into_dyn());
    }

    #[test]
    fn state_dict_round_trip() {
        let mut opt = Lars::<f64>::builder().nesterov(true).build().unwrap();
        let mut w = array![1.0, 2.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![0.5, -0.5].into_dyn().view()).unwrap();
        let sd = opt.state_dict();
        let mut fresh = Lars::<f64>::default();
        fresh.load_state_dict(&sd).unwrap();
        assert!(fresh.nesterov());
        assert_eq!(fresh.state_dict(), sd);
    }
}
