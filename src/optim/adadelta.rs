//! Adadelta: [`Adadelta`] (torch.optim.Adadelta).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused4;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_unit_closed, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Adadelta: step sizes from running averages of squared gradients and squared updates:
/// `torch.optim.Adadelta`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g`:
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·p                         if λ ≠ 0
/// v ← ρ·v + (1 − ρ)·g²                (square_avg)
/// Δ ← √(u + ε) / √(v + ε) · g
/// u ← ρ·u + (1 − ρ)·Δ²                (acc_delta)
/// p ← p − γ·Δ
/// ```
///
/// `ε` is inside both square roots, as in torch.
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1.0` | `>= 0` |
/// | `rho` (`ρ`) | `0.9` | `[0, 1]` |
/// | `eps` (`ε`) | `1e-6` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`AdadeltaState`]): `step`, `square_avg`, `acc_delta`.
///
/// # Errors
///
/// [`build`](AdadeltaBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `eps`, `weight_decay`, or `rho` outside `[0, 1]`.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)
/// when the gradient or the state does not have the parameter's shape.
///
/// # Reference
///
/// Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012
/// (<https://arxiv.org/abs/1212.5701>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Adadelta;
/// use ndtrain::prelude::*;
///
/// let mut opt = Adadelta::<f64>::default();
/// let mut w = array![1.0_f64, 1.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![1.0, -1.0].into_dyn().view())?;
/// assert!(w[0] < 1.0 && w[1] > 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Adadelta")]
#[derive(Clone, Debug)]
pub struct Adadelta<F> {
    cfg: AdadeltaConfig,
    state: StateMap<AdadeltaState<F>>,
}

/// Per-parameter state of [`Adadelta`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AdadeltaState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Running average of the squared gradient `v`.
    pub square_avg: ArrayD<F>,
    /// Running average of the squared update `u`.
    pub acc_delta: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AdadeltaConfig {
    lr: f64,
    rho: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
}

impl AdadeltaConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_unit_closed("rho", self.rho)?;
        check_nonneg("eps", self.eps)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(AdadeltaConfig {
    lr: hyper "lr",
    rho: hyper "rho",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    maximize: flag "maximize",
});

const DEFAULTS: AdadeltaConfig =
    AdadeltaConfig { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0, maximize: false };

/// Builder of [`Adadelta`]; setters take torch's names, [`build`](AdadeltaBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AdadeltaBuilder<F> {
    cfg: AdadeltaConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> AdadeltaBuilder<F> {
    setters! {
        /// Coefficient `γ` scaling the update (default `1.0`).
        lr: f64,
        /// Coefficient `ρ` of the running averages (default `0.9`).
        rho: f64,
        /// Term `ε` inside the square roots (default `1e-6`).
        eps: f64,
        /// L2 penalty `λ` (default `0`).
        weight_decay: f64,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Adadelta, AdadeltaBuilder, DEFAULTS);

impl<F: Float> Default for Adadelta<F> {
    /// torch's defaults: `lr = 1.0`, `rho = 0.9`, `eps = 1e-6`.
    fn default() -> Self {
        Adadelta { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Adadelta<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdadeltaBuilder<F> {
        AdadeltaBuilder::default()
    }
    getters! {
        /// `ρ`.
        rho: f64,
        /// `ε`.
        eps: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdadeltaState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Adadelta::update";

impl<F: Float> Optimizer<F> for Adadelta<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || AdadeltaState {
            step: 0,
            square_avg: placer.zeros(shape),
            acc_delta: placer.zeros(shape),
        });
        s.step += 1;
        let (rho, omr, eps) = (F::lit(c.rho), F::lit(1.0 - c.rho), F::lit(c.eps));
        let (neg_lr, wd) = (F::lit(-c.lr), F::lit(c.weight_decay));
        let (maximize, l2) = (c.maximize, c.weight_decay != 0.0);
        fused4(&mut p, &g, &mut s.square_avg, &mut s.acc_delta, |p, g, v, u| {
            let g = if maximize { -g } else { g };
            let g = if l2 { g + wd * *p } else { g };
            *v = *v * rho + omr * g * g;
            let std = (*v + eps).sqrt();
            let delta = (*u + eps).sqrt() / std * g;
            *u = *u * rho + omr * delta * delta;
            *p += neg_lr * delta;
        });
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.square_avg, &s.acc_delta]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!();

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("square_avg", &s.square_avg), ("acc_delta", &s.acc_delta)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Adadelta::load_state_dict", sd);
        let cfg = AdadeltaConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [square_avg, acc_delta] = r.placed(id, ["square_avg", "acc_delta"])?;
            Ok(AdadeltaState { step, square_avg, acc_delta })
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
            (Adadelta::<f64>::builder().lr(-1.0), "lr"),
            (Adadelta::builder().rho(1.5), "rho"),
            (Adadelta::builder().eps(-1.0), "eps"),
            (Adadelta::builder().weight_decay(-1.0), "weight_decay"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn first_step_by_hand() {
        // rho 0.5, eps 1, g = 2: v = 2, Δ = √1/√3 · 2, p = -Δ.
        let mut opt = Adadelta::builder().rho(0.5).eps(1.0).build().unwrap();
        let mut w = array![0.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![2.0].into_dyn().view()).unwrap();
        assert!((w[0] + 2.0 / 3f64.sqrt()).abs() < 1e-15);
    }
}
