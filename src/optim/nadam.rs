//! NAdam: [`NAdam`] (torch.optim.NAdam).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::{ConstDiv, fused4};
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_unit_open, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, flush_subnormal};

/// NAdam, Adam with Nesterov momentum and a momentum schedule: `torch.optim.NAdam`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...`, with
/// `ψ` = `momentum_decay`:
///
/// ```text
/// g ← −g                                     if maximize
/// g ← g + λ·p                                if λ ≠ 0 (L2)
/// p ← p·(1 − γ·λ)                            instead, if decoupled_weight_decay
/// μ_t ← β1·(1 − ½·0.96^(t·ψ)),   μ_{t+1} ← β1·(1 − ½·0.96^((t+1)·ψ))
/// Π_t ← Π_{t−1}·μ_t                          (mu_product, Π_0 = 1)
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// d ← √(v / (1 − β2^t)) + ε
/// p ← p − γ·(1 − μ_t)/(1 − Π_t) · g/d − γ·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `2e-3` | `>= 0` |
/// | `betas` (`β1`, `β2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `eps` (`ε`) | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `momentum_decay` (`ψ`) | `4e-3` | `>= 0` |
/// | `decoupled_weight_decay` | `false` | |
/// | `maximize` | `false` | |
///
/// State per parameter ([`NAdamState`]): `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
/// Schedulers that cycle momentum set `β1`.
///
/// # Errors
///
/// [`build`](NAdamBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `eps`, `weight_decay`, `momentum_decay`, and for betas
/// outside `[0, 1)`. [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the state
/// does not have the parameter's shape.
///
/// # Reference
///
/// Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop;
/// <https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::NAdam;
/// use ndtrain::prelude::*;
///
/// let mut opt = NAdam::builder().lr(0.01).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![1.0].into_dyn().view())?;
/// assert!(w[0] < 1.0);
/// assert_eq!(opt.state(0).map(|s| s.step), Some(1));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "Nadam")]
#[doc(alias = "torch.optim.NAdam")]
#[derive(Clone, Debug)]
pub struct NAdam<F> {
    cfg: NAdamConfig,
    state: StateMap<NAdamState<F>>,
}

/// Per-parameter state of [`NAdam`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct NAdamState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Product `Π_t` of the momentum coefficients so far.
    pub mu_product: f64,
    /// First moment `m`.
    pub exp_avg: ArrayD<F>,
    /// Second moment `v`.
    pub exp_avg_sq: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct NAdamConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
}

impl NAdamConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("eps", self.eps)?;
        check_unit_open("betas[0]", self.beta1)?;
        check_unit_open("betas[1]", self.beta2)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        check_nonneg("momentum_decay", self.momentum_decay)
    }
}

hyper_table!(NAdamConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    momentum_decay: hyper "momentum_decay",
    decoupled_weight_decay: flag "decoupled_weight_decay",
    maximize: flag "maximize",
});

const DEFAULTS: NAdamConfig = NAdamConfig {
    lr: 2e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: 0.0,
    momentum_decay: 4e-3,
    decoupled_weight_decay: false,
    maximize: false,
};

/// Builder of [`NAdam`]; setters take torch's names, [`build`](NAdamBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct NAdamBuilder<F> {
    cfg: NAdamConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> NAdamBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `2e-3`).
        lr: f64,
    }
    /// `(β1, β2)` (default `(0.9, 0.999)`).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.cfg.beta1 = beta1;
        self.cfg.beta2 = beta2;
        self
    }
    setters! {
        /// Term `ε` (default `1e-8`).
        eps: f64,
        /// Weight decay `λ` (default `0`).
        weight_decay: f64,
        /// Momentum decay `ψ` (default `4e-3`).
        momentum_decay: f64,
        /// Decoupled weight decay as in AdamW (default `false`).
        decoupled_weight_decay: bool,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(NAdam, NAdamBuilder, DEFAULTS);

impl<F: Float> Default for NAdam<F> {
    /// torch's defaults: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
    /// `momentum_decay = 4e-3`.
    fn default() -> Self {
        NAdam { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> NAdam<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> NAdamBuilder<F> {
        NAdamBuilder::default()
    }
    /// `(β1, β2)`.
    pub fn betas(&self) -> (f64, f64) {
        (self.cfg.beta1, self.cfg.beta2)
    }
    getters! {
        /// `ε`.
        eps: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Momentum decay `ψ`.
        momentum_decay: f64,
        /// Whether weight decay is decoupled.
        decoupled_weight_decay: bool,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&NAdamState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "NAdam::update";

impl<F: Float> Optimizer<F> for NAdam<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || NAdamState {
            step: 0,
            mu_product: 1.0,
            exp_avg: placer.zeros(shape),
            exp_avg_sq: placer.zeros(shape),
        });
        s.step += 1;
        let t = s.step as f64;
        let bc2 = 1.0 - c.beta2.powf(t);
        let mu = c.beta1 * (1.0 - 0.5 * 0.96f64.powf(t * c.momentum_decay));
        let mu_next = c.beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * c.momentum_decay));
        s.mu_product *= mu;
        let mu_product_next = s.mu_product * mu_next;
        let c_grad = F::lit(-c.lr * (1.0 - mu) / (1.0 - s.mu_product));
        let c_avg = F::lit((-c.lr * mu_next) / (1.0 - mu_product_next));
        let (w1, small1) = (F::lit(1.0 - c.beta1), (1.0 - c.beta1).abs() < 0.5);
        let (b2, omb2, eps) = (F::lit(c.beta2), F::lit(1.0 - c.beta2), F::lit(c.eps));
        let bc2 = ConstDiv::new(F::lit(bc2));
        let wd = F::lit(c.weight_decay);
        let decay = F::lit(1.0 - c.lr * c.weight_decay);
        let maximize = c.maximize;
        let l2 = c.weight_decay != 0.0 && !c.decoupled_weight_decay;
        let decoupled = c.weight_decay != 0.0 && c.decoupled_weight_decay;
        let (exp_avg, exp_avg_sq) = (&mut s.exp_avg, &mut s.exp_avg_sq);
        with_lerp!(small1, lerp => fused4(&mut p, &g, &mut *exp_avg, &mut *exp_avg_sq, |p, g, m, v| {
            let g = if maximize { -g } else { g };
            let (g, pv) = if l2 {
                (g + wd * *p, *p)
            } else if decoupled {
                (g, *p * decay)
            } else {
                (g, *p)
            };
            *m = lerp(*m, g, w1);
            *v = flush_subnormal(*v * b2 + omb2 * g * g);
            let denom = bc2.apply(*v).sqrt() + eps;
            let pv = pv + c_grad * g / denom;
            *p = pv + c_avg * *m / denom;
        }));
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.exp_avg, &s.exp_avg_sq]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!(beta1);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step)
                .scalar(id, "mu_product", s.mu_product)
                .tensors(id, &[("exp_avg", &s.exp_avg), ("exp_avg_sq", &s.exp_avg_sq)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("NAdam::load_state_dict", sd);
        let cfg = NAdamConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let mu_product = r.scalar(id, "mu_product")?;
            let [exp_avg, exp_avg_sq] = r.placed(id, ["exp_avg", "exp_avg_sq"])?;
            Ok(NAdamState { step, mu_product, exp_avg, exp_avg_sq })
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

    #[test]
    fn invalid_hyper_parameters() {
        for (b, name) in [
            (NAdam::<f64>::builder().lr(-1.0), "lr"),
            (NAdam::builder().betas(1.0, 0.9), "betas[0]"),
            (NAdam::builder().betas(0.9, 1.5), "betas[1]"),
            (NAdam::builder().eps(-1.0), "eps"),
            (NAdam::builder().weight_decay(-1.0), "weight_decay"),
            (NAdam::builder().momentum_decay(-1.0), "momentum_decay"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
