//! RAdam: [`RAdam`] (torch.optim.RAdam).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::{ConstDiv, fused4};
use crate::optim::state::{
    Placer, Reader, Writer, bias_corrections, check_nonneg, check_unit_open, check_update,
};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, flush_subnormal};

/// Rectified Adam: `torch.optim.RAdam`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...`:
///
/// ```text
/// g ← −g                                     if maximize
/// g ← g + λ·p                                if λ ≠ 0 (L2)
/// p ← p·(1 − γ·λ)                            instead, if decoupled_weight_decay
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// m̂ ← m / (1 − β1^t)
/// ρ_∞ ← 2/(1 − β2) − 1,   ρ_t ← ρ_∞ − 2t·β2^t / (1 − β2^t)
/// if ρ_t > 5:
///     r_t ← √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))
///     p ← p − γ · m̂ · √(1 − β2^t)/(√v + ε) · r_t
/// else:
///     p ← p − γ · m̂                          (the first steps: un-adapted momentum SGD)
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-3` | `>= 0` |
/// | `betas` (`β1`, `β2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `eps` (`ε`) | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `decoupled_weight_decay` | `false` | |
/// | `maximize` | `false` | |
///
/// State per parameter ([`RAdamState`]): `step`, `exp_avg`, `exp_avg_sq`. Schedulers that
/// cycle momentum set `β1`.
///
/// # Errors
///
/// [`build`](RAdamBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `eps`, `weight_decay`, and for betas outside `[0, 1)`.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)
/// when the gradient or the state does not have the parameter's shape.
///
/// # Reference
///
/// Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020
/// (<https://arxiv.org/abs/1908.03265>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::RAdam;
/// use ndtrain::prelude::*;
///
/// let mut opt = RAdam::builder().lr(0.1).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![2.0].into_dyn().view())?;
/// // First step: ρ_1 = 1 ≤ 5, so p ← p − γ·m̂ = 1 − 0.1·2.
/// assert!((w[0] - 0.8).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.RAdam")]
#[derive(Clone, Debug)]
pub struct RAdam<F> {
    cfg: RAdamConfig,
    state: StateMap<RAdamState<F>>,
}

/// Per-parameter state of [`RAdam`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct RAdamState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// First moment `m`.
    pub exp_avg: ArrayD<F>,
    /// Second moment `v`.
    pub exp_avg_sq: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct RAdamConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
}

impl RAdamConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("eps", self.eps)?;
        check_unit_open("betas[0]", self.beta1)?;
        check_unit_open("betas[1]", self.beta2)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(RAdamConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    decoupled_weight_decay: flag "decoupled_weight_decay",
    maximize: flag "maximize",
});

const DEFAULTS: RAdamConfig = RAdamConfig {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: 0.0,
    decoupled_weight_decay: false,
    maximize: false,
};

/// Builder of [`RAdam`]; setters take torch's names, [`build`](RAdamBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct RAdamBuilder<F> {
    cfg: RAdamConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> RAdamBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `1e-3`).
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
        /// Decoupled weight decay as in AdamW (default `false`).
        decoupled_weight_decay: bool,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(RAdam, RAdamBuilder, DEFAULTS);

impl<F: Float> Default for RAdam<F> {
    /// torch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`.
    fn default() -> Self {
        RAdam { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> RAdam<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> RAdamBuilder<F> {
        RAdamBuilder::default()
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
        /// Whether weight decay is decoupled.
        decoupled_weight_decay: bool,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&RAdamState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "RAdam::update";

impl<F: Float> Optimizer<F> for RAdam<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || RAdamState {
            step: 0,
            exp_avg: placer.zeros(shape),
            exp_avg_sq: placer.zeros(shape),
        });
        s.step += 1;
        let t = s.step as f64;
        let (bc1, bc2) = bias_corrections(c.beta1, c.beta2, s.step);
        let rho_inf = 2.0 / (1.0 - c.beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * c.beta2.powf(t) / bc2;
        // `None` while the variance is not tractable (ρ_t ≤ 5).
        let rect = (rho_t > 5.0).then(|| {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).sqrt()
        });
        let (bc1, lr, bc2_sqrt) = (ConstDiv::new(F::lit(bc1)), F::lit(c.lr), F::lit(bc2.sqrt()));
        let (w1, small1) = (F::lit(1.0 - c.beta1), (1.0 - c.beta1).abs() < 0.5);
        let (b2, omb2, eps) = (F::lit(c.beta2), F::lit(1.0 - c.beta2), F::lit(c.eps));
        let wd = F::lit(c.weight_decay);
        let decay = F::lit(1.0 - c.lr * c.weight_decay);
        let maximize = c.maximize;
        let l2 = c.weight_decay != 0.0 && !c.decoupled_weight_decay;
        let decoupled = c.weight_decay != 0.0 && c.decoupled_weight_decay;
        let prep = move |g: F, p: F| {
            let g = if maximize { -g } else { g };
            if l2 {
                (g + wd * p, p)
            } else if decoupled {
                (g, p * decay)
            } else {
                (g, p)
            }
        };
        let (exp_avg, exp_avg_sq) = (&mut s.exp_avg, &mut s.exp_avg_sq);
        with_lerp!(small1, lerp => match rect {
            Some(rect) => {
                let rect = F::lit(rect);
                fused4(&mut p, &g, exp_avg, exp_avg_sq, |p, g, m, v| {
                    let (g, pv) = prep(g, *p);
                    *m = lerp(*m, g, w1);
                    *v = flush_subnormal(*v * b2 + omb2 * g * g);
                    let adaptive = bc2_sqrt / (v.sqrt() + eps);
                    *p = pv - bc1.apply(*m) * lr * adaptive * rect;
                })
            }
            None => fused4(&mut p, &g, exp_avg, exp_avg_sq, |p, g, m, v| {
                let (g, pv) = prep(g, *p);
                *m = lerp(*m, g, w1);
                *v = flush_subnormal(*v * b2 + omb2 * g * g);
                *p = pv - bc1.apply(*m) * lr;
            }),
        });
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
            w.step(id, s.step).tensors(id, &[("exp_avg", &s.exp_avg), ("exp_avg_sq", &s.exp_avg_sq)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("RAdam::load_state_dict", sd);
        let cfg = RAdamConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [exp_avg, exp_avg_sq] = r.placed(id, ["exp_avg", "exp_avg_sq"])?;
            Ok(RAdamState { step, exp_avg, exp_avg_sq })
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
            (RAdam::<f64>::builder().lr(-1.0), "lr"),
            (RAdam::builder().betas(1.0, 0.9), "betas[0]"),
            (RAdam::builder().betas(0.9, -1.0), "betas[1]"),
            (RAdam::builder().eps(-1.0), "eps"),
            (RAdam::builder().weight_decay(-1.0), "weight_decay"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
