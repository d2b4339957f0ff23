//! RMSprop: [`RmsProp`] (torch.optim.RMSprop).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::{fused3, fused4, fused5};
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_state_shapes};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, flush_subnormal, same_shape};

/// RMSprop, optionally centered and with momentum: `torch.optim.RMSprop`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` (torch's algorithm):
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·p                         if λ ≠ 0
/// v ← α·v + (1 − α)·g²                (square_avg)
/// ḡ ← α·ḡ + (1 − α)·g                 if centered (grad_avg)
/// d ← √(v − ḡ²) + ε                   if centered, else d ← √v + ε
/// b ← μ·b + g/d;  p ← p − γ·b         if μ > 0 (momentum_buffer, starts at 0)
/// p ← p − γ·g/d                       otherwise
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-2` | `>= 0` |
/// | `alpha` (`α`) | `0.99` | `>= 0` |
/// | `eps` (`ε`) | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `momentum` (`μ`) | `0` | `>= 0` |
/// | `centered` | `false` | |
/// | `maximize` | `false` | |
///
/// State per parameter ([`RmsPropState`]): `step`, `square_avg`, `momentum_buffer` (with
/// momentum), `grad_avg` (centered). Schedulers that cycle momentum set `μ`.
///
/// # Errors
///
/// [`build`](RmsPropBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `alpha`, `eps`, `weight_decay` or `momentum`.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)
/// when the gradient or the state does not have the parameter's shape.
///
/// # Reference
///
/// Hinton, *Neural Networks for Machine Learning*, lecture 6e (2012); Graves,
/// *Generating Sequences With Recurrent Neural Networks*, 2013 (the centered form,
/// <https://arxiv.org/abs/1308.0850>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::RmsProp;
/// use ndtrain::prelude::*;
///
/// let mut opt = RmsProp::builder().lr(0.01).alpha(0.0).eps(0.0).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// let g = array![4.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // alpha = 0: v = g², the step is lr·sign(g).
/// assert!((w[0] - 0.99).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "RMSprop")]
#[doc(alias = "torch.optim.RMSprop")]
#[derive(Clone, Debug)]
pub struct RmsProp<F> {
    cfg: RmsPropConfig,
    state: StateMap<RmsPropState<F>>,
}

/// Per-parameter state of [`RmsProp`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct RmsPropState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Running average of the squared gradient `v`.
    pub square_avg: ArrayD<F>,
    /// Momentum buffer `b` (only with momentum).
    pub momentum_buffer: Option<ArrayD<F>>,
    /// Running average of the gradient `ḡ` (only when centered).
    pub grad_avg: Option<ArrayD<F>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct RmsPropConfig {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
}

impl RmsPropConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("eps", self.eps)?;
        check_nonneg("momentum", self.momentum)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        check_nonneg("alpha", self.alpha)
    }
}

hyper_table!(RmsPropConfig {
    lr: hyper "lr",
    alpha: hyper "alpha",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    momentum: hyper "momentum",
    centered: flag "centered",
    maximize: flag "maximize",
});

const DEFAULTS: RmsPropConfig = RmsPropConfig {
    lr: 1e-2,
    alpha: 0.99,
    eps: 1e-8,
    weight_decay: 0.0,
    momentum: 0.0,
    centered: false,
    maximize: false,
};

/// Builder of [`RmsProp`]; setters take torch's names, [`build`](RmsPropBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct RmsPropBuilder<F> {
    cfg: RmsPropConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> RmsPropBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `1e-2`).
        lr: f64,
        /// Smoothing constant `α` (default `0.99`).
        alpha: f64,
        /// Term `ε` added to the denominator (default `1e-8`).
        eps: f64,
        /// L2 penalty `λ` (default `0`).
        weight_decay: f64,
        /// Momentum factor `μ` (default `0`).
        momentum: f64,
        /// Normalize by the estimated variance of the gradient (default `false`).
        centered: bool,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(RmsProp, RmsPropBuilder, DEFAULTS);

impl<F: Float> Default for RmsProp<F> {
    /// torch's defaults: `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`.
    fn default() -> Self {
        RmsProp { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> RmsProp<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> RmsPropBuilder<F> {
        RmsPropBuilder::default()
    }
    getters! {
        /// Smoothing constant `α`.
        alpha: f64,
        /// `ε`.
        eps: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Momentum factor `μ`.
        momentum: f64,
        /// Whether the centered variant is used.
        centered: bool,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&RmsPropState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "RmsProp::update";

impl<F: Float> Optimizer<F> for RmsProp<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || RmsPropState {
            step: 0,
            square_avg: placer.zeros(shape),
            momentum_buffer: None,
            grad_avg: None,
        });
        // Created when first needed (momentum may be switched on later by a scheduler).
        if c.momentum > 0.0 && s.momentum_buffer.is_none() {
            s.momentum_buffer = Some(placer.zeros(shape));
        }
        if c.centered && s.grad_avg.is_none() {
            s.grad_avg = Some(placer.zeros(shape));
        }
        s.step += 1;
        let (alpha, oma, eps, wd) =
            (F::lit(c.alpha), F::lit(1.0 - c.alpha), F::lit(c.eps), F::lit(c.weight_decay));
        let small = (1.0 - c.alpha).abs() < 0.5;
        let (neg_lr, mu) = (F::lit(-c.lr), F::lit(c.momentum));
        let (maximize, l2) = (c.maximize, c.weight_decay != 0.0);
        let d_p = move |g: F, p: F| {
            let g = if maximize { -g } else { g };
            if l2 { g + wd * p } else { g }
        };
        let sq_avg = move |v: &mut F, g: F| *v = flush_subnormal(*v * alpha + oma * g * g);
        let momentum = c.momentum > 0.0;
        match (c.centered, momentum) {
            (false, false) => fused3(&mut p, &g, &mut s.square_avg, |p, g, v| {
                let g = d_p(g, *p);
                sq_avg(v, g);
                *p += neg_lr * g / (v.sqrt() + eps);
            }),
            (false, true) => {
                let b = s.momentum_buffer.as_mut().expect("created above");
                fused4(&mut p, &g, &mut s.square_avg, b, |p, g, v, b| {
                    let g = d_p(g, *p);
                    sq_avg(v, g);
                    *b = *b * mu + g / (v.sqrt() + eps);
                    *p += neg_lr * *b;
                })
            }
            (true, false) => {
                let ga = s.grad_avg.as_mut().expect("created above");
                let sq = &mut s.square_avg;
                with_lerp!(small, lerp => fused4(&mut p, &g, &mut *sq, &mut *ga, |p, g, v, ga| {
                    let g = d_p(g, *p);
                    sq_avg(v, g);
                    *ga = lerp(*ga, g, oma);
                    let avg = (*v - *ga * *ga).sqrt() + eps;
                    *p += neg_lr * g / avg;
                }))
            }
            (true, true) => {
                let ga = s.grad_avg.as_mut().expect("created above");
                let b = s.momentum_buffer.as_mut().expect("created above");
                let sq = &mut s.square_avg;
                with_lerp!(small, lerp => fused5(&mut p, &g, &mut *sq, &mut *ga, &mut *b, |p, g, v, ga, b| {
                    let g = d_p(g, *p);
                    sq_avg(v, g);
                    *ga = lerp(*ga, g, oma);
                    let avg = (*v - *ga * *ga).sqrt() + eps;
                    *b = *b * mu + g / avg;
                    *p += neg_lr * *b;
                }))
            }
        }
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        same_shape(OP, value.shape(), grad.shape())?;
        if let Some(s) = self.state.get(param.id) {
            check_state_shapes(OP, value.shape(), &[&s.square_avg])?;
            for t in [&s.momentum_buffer, &s.grad_avg].into_iter().flatten() {
                check_state_shapes(OP, value.shape(), &[t])?;
            }
        }
        Ok(())
    }

    lr_accessors!(momentum);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensor(id, "square_avg", &s.square_avg);
            if let Some(b) = &s.momentum_buffer {
                w.tensor(id, "momentum_buffer", b);
            }
            if let Some(ga) = &s.grad_avg {
                w.tensor(id, "grad_avg", ga);
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("RmsProp::load_state_dict", sd);
        let cfg = RmsPropConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let ([square_avg], [momentum_buffer, grad_avg]) = r.placed_with(
                id,
                ["square_avg"],
                [("momentum_buffer", cfg.momentum > 0.0), ("grad_avg", cfg.centered)],
            )?;
            Ok(RmsPropState { step, square_avg, momentum_buffer, grad_avg })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        for (b, name) in [
            (RmsProp::<f64>::builder().lr(-1.0), "lr"),
            (RmsProp::builder().alpha(-0.5), "alpha"),
            (RmsProp::builder().eps(-1e-8), "eps"),
            (RmsProp::builder().weight_decay(-1.0), "weight_decay"),
            (RmsProp::builder().momentum(f64::NAN), "momentum"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn centered_by_hand() {
        // alpha 0.5, g = 2: v = 0.5*4 = 2, ḡ = 1, denominator √(2 − 1) = 1, p = 1 − 0.1*2.
        let mut opt = RmsProp::builder().lr(0.1).alpha(0.5).eps(0.0).centered(true).build().unwrap();
        let mut w = array![1.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![2.0].into_dyn().view()).unwrap();
        assert!((w[0] - 0.8).abs() < 1e-15);
    }

    #[test]
    fn momentum_switched_on_later_creates_its_buffer() {
        let mut opt = RmsProp::<f32>::default();
        let mut w = array![1.0f32].into_dyn();
        let g = array![1.0f32].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!(opt.state(0).unwrap().momentum_buffer.is_none());
        opt.set_group_momentum(0, 0.9);
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!(opt.state(0).unwrap().momentum_buffer.is_some());
    }
}
