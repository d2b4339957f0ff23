//! Stochastic gradient descent: [`Sgd`] (torch.optim.SGD).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::optim::kernel::{fused2, fused3};
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_not_nan, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, flush_subnormal};

/// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov
/// momentum: `torch.optim.SGD`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g`, learning rate `γ`, momentum `μ`,
/// dampening `τ`, weight decay `λ` (torch's algorithm, step `t = 1, 2, ...`):
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·p                         if λ ≠ 0
/// if μ ≠ 0:
///     b ← g                           if t = 1 (the buffer starts at the first gradient:
///                                               no dampening on that step)
///     b ← μ·b + (1 − τ)·g             otherwise
///     g ← g + μ·b                     if nesterov
///     g ← b                           otherwise
/// p ← p − γ·g
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` | `1e-3` (torch 2.x) | `>= 0` |
/// | `momentum` | `0` | `>= 0` |
/// | `dampening` | `0` | any number |
/// | `weight_decay` | `0` | `>= 0` |
/// | `nesterov` | `false` | needs `momentum > 0` and `dampening = 0` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`SgdState`]): `momentum_buffer`, only when `momentum ≠ 0`.
///
/// **Full-batch gradient descent** is `Sgd` with the batch size equal to the dataset
/// size: every step then uses the exact gradient of the whole training objective
/// (with `momentum = 0` this is plain gradient descent `p ← p − γ ∇L(p)`).
///
/// # Errors
///
/// [`build`](SgdBuilder::build) returns [`Error::InvalidParameter`] for a negative (or
/// NaN) `lr`, `momentum` or `weight_decay` or a NaN `dampening`, and
/// [`Error::InvalidConfig`] for Nesterov momentum without momentum or with dampening.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`] when the gradient (or the stored
/// momentum buffer) does not have the parameter's shape.
///
/// # Reference
///
/// Sutskever, Martens, Dahl & Hinton, *On the importance of initialization and momentum
/// in deep learning*, ICML 2013 (the momentum / Nesterov form used here);
/// <https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Sgd;
/// use ndtrain::prelude::*;
///
/// let mut opt = Sgd::builder().lr(0.1).momentum(0.9).build()?;
/// let mut w = array![1.0_f64, 2.0].into_dyn();
/// let g = array![0.5, -1.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // First step: the buffer is the gradient itself, p - lr * g.
/// assert_eq!(w, array![0.95, 2.1].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "SGD")]
#[doc(alias = "gradient descent")]
#[doc(alias = "full-batch gradient descent")]
#[doc(alias = "torch.optim.SGD")]
#[derive(Clone, Debug)]
pub struct Sgd<F> {
    cfg: SgdConfig,
    state: StateMap<SgdState<F>>,
}

/// Per-parameter state of [`Sgd`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct SgdState<F> {
    /// The momentum buffer `b` (created at the first step with `momentum ≠ 0`, equal to
    /// that step's gradient).
    pub momentum_buffer: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct SgdConfig {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
}

impl SgdConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("momentum", self.momentum)?;
        check_not_nan("dampening", self.dampening)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid_config("Nesterov momentum requires a momentum and zero dampening"));
        }
        Ok(())
    }
}

hyper_table!(SgdConfig {
    lr: hyper "lr",
    momentum: hyper "momentum",
    dampening: hyper "dampening",
    weight_decay: hyper "weight_decay",
    nesterov: flag "nesterov",
    maximize: flag "maximize",
});

const DEFAULTS: SgdConfig = SgdConfig {
    lr: 1e-3,
    momentum: 0.0,
    dampening: 0.0,
    weight_decay: 0.0,
    nesterov: false,
    maximize: false,
};

/// Builder of [`Sgd`]; every setter takes torch's name, [`build`](SgdBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct SgdBuilder<F> {
    cfg: SgdConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> SgdBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `1e-3`).
        lr: f64,
        /// Momentum factor `μ` (default `0`).
        momentum: f64,
        /// Dampening `τ` for momentum (default `0`).
        dampening: f64,
        /// L2 penalty `λ` added to the gradient (default `0`).
        weight_decay: f64,
        /// Nesterov momentum (default `false`).
        nesterov: bool,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Sgd, SgdBuilder, DEFAULTS);

impl<F: Float> Default for Sgd<F> {
    /// torch's defaults: `lr = 1e-3`, no momentum, no weight decay.
    fn default() -> Self {
        Sgd { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Sgd<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> SgdBuilder<F> {
        SgdBuilder::default()
    }
    getters! {
        /// Momentum factor.
        momentum: f64,
        /// Dampening.
        dampening: f64,
        /// Weight decay (L2 penalty).
        weight_decay: f64,
        /// Whether Nesterov momentum is on.
        nesterov: bool,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&SgdState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Sgd::update";

impl<F: Float> Optimizer<F> for Sgd<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let neg_lr = F::lit(-c.lr);
        let wd = F::lit(c.weight_decay);
        let (l2, maximize) = (c.weight_decay != 0.0, c.maximize);
        let d_p = move |g: F, p: F| {
            let g = if maximize { -g } else { g };
            if l2 { g + wd * p } else { g }
        };
        if c.momentum == 0.0 {
            fused2(&mut p, &g, |p, g| *p = *p + neg_lr * d_p(g, *p));
            return Ok(());
        }
        let mu = F::lit(c.momentum);
        let one_minus_damp = F::lit(1.0 - c.dampening);
        let nesterov = c.nesterov;
        match self.state.get_mut(param.id) {
            Some(s) => {
                fused3(&mut p, &g, &mut s.momentum_buffer, |p, g, b| {
                    let d = d_p(g, *p);
                    *b = flush_subnormal(*b * mu + one_minus_damp * d);
                    let dir = if nesterov { d + mu * *b } else { *b };
                    *p += neg_lr * dir;
                });
            }
            None => {
                let mut buf = Placer::new(&[p.as_ptr(), g.as_ptr()]).zeros(p.shape());
                fused3(&mut p, &g, &mut buf, |p, g, b| {
                    let d = d_p(g, *p);
                    *b = d;
                    let dir = if nesterov { d + mu * d } else { d };
                    *p += neg_lr * dir;
                });
                self.state.insert(param.id, SgdState { momentum_buffer: buf });
            }
        }
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
            w.tensors(id, &[("momentum_buffer", &s.momentum_buffer)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Sgd::load_state_dict", sd);
        let cfg = SgdConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let [momentum_buffer] = r.placed(id, ["momentum_buffer"])?;
            Ok(SgdState { momentum_buffer })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: SgdBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Sgd::builder().lr(-1.0)),
            Error::InvalidParameter { name: "lr", value: -1.0, expected: ">= 0" }
        );
        assert!(matches!(e(Sgd::builder().momentum(-0.1)), Error::InvalidParameter { name: "momentum", .. }));
        assert!(matches!(
            e(Sgd::builder().weight_decay(-0.1)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
        assert!(matches!(
            e(Sgd::builder().dampening(f64::NAN)),
            Error::InvalidParameter { name: "dampening", .. }
        ));
        let msg = "Nesterov momentum requires a momentum and zero dampening".to_string();
        assert_eq!(e(Sgd::builder().nesterov(true)), Error::InvalidConfig(msg.clone()));
        assert_eq!(e(Sgd::builder().nesterov(true).momentum(0.9).dampening(0.1)), Error::InvalidConfig(msg));
    }

    #[test]
    fn nesterov_by_hand() {
        // Step 1: b = g = 1, direction g + 0.5*b = 1.5, p = 1 - 0.1*1.5 = 0.85.
        // Step 2: b = 0.5*1 + 1 = 1.5, direction 1 + 0.75 = 1.75, p = 0.85 - 0.175 = 0.675.
        let mut opt = Sgd::builder().lr(0.1).momentum(0.5).nesterov(true).build().unwrap();
        let mut w = array![1.0f64].into_dyn();
        let g = array![1.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!((w[0] - 0.85).abs() < 1e-15);
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!((w[0] - 0.675).abs() < 1e-15);
        assert_eq!(opt.state(0).unwrap().momentum_buffer, array![1.5].into_dyn());
    }

    #[test]
    fn shape_mismatch_changes_nothing() {
        let mut opt = Sgd::<f32>::builder().momentum(0.9).build().unwrap();
        let mut w = array![1.0f32, 2.0].into_dyn();
        let bad = array![1.0f32].into_dyn();
        assert!(matches!(
            opt.update(Param::new(0, "w"), w.view_mut(), bad.view()),
            Err(Error::ShapeMismatch { .. })
        ));
        assert_eq!(w, array![1.0f32, 2.0].into_dyn());
        assert!(opt.state(0).is_none());
    }
}
