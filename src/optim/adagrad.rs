//! Adagrad: [`Adagrad`] (torch.optim.Adagrad).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused3;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Adagrad: per-coordinate step sizes from the accumulated squared gradients:
/// `torch.optim.Adagrad`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...`:
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·p                         if λ ≠ 0
/// γ_t ← γ / (1 + (t − 1)·η)           (η = lr_decay)
/// s ← s + g²                          (sum, starts at initial_accumulator_value)
/// p ← p − γ_t · g / (√s + ε)
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-2` | `>= 0` |
/// | `lr_decay` (`η`) | `0` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `initial_accumulator_value` | `0` | `>= 0` |
/// | `eps` (`ε`) | `1e-10` | `>= 0` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`AdagradState`]): `step`, `sum`.
///
/// # Errors
///
/// [`build`](AdagradBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for any negative (or NaN) hyper-parameter. [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the state
/// does not have the parameter's shape.
///
/// # Reference
///
/// Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization*, JMLR 12 (2011);
/// <https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Adagrad;
/// use ndtrain::prelude::*;
///
/// let mut opt = Adagrad::builder().lr(0.5).eps(0.0).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![3.0].into_dyn().view())?;
/// // s = 9, step 0.5 · 3 / 3.
/// assert_eq!(w[0], 0.5);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Adagrad")]
#[derive(Clone, Debug)]
pub struct Adagrad<F> {
    cfg: AdagradConfig,
    state: StateMap<AdagradState<F>>,
}

/// Per-parameter state of [`Adagrad`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AdagradState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Accumulated squared gradients `s`.
    pub sum: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AdagradConfig {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
}

impl AdagradConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("lr_decay", self.lr_decay)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        check_nonneg("initial_accumulator_value", self.initial_accumulator_value)?;
        check_nonneg("eps", self.eps)
    }
}

hyper_table!(AdagradConfig {
    lr: hyper "lr",
    lr_decay: hyper "lr_decay",
    weight_decay: hyper "weight_decay",
    initial_accumulator_value: hyper "initial_accumulator_value",
    eps: hyper "eps",
    maximize: flag "maximize",
});

const DEFAULTS: AdagradConfig = AdagradConfig {
    lr: 1e-2,
    lr_decay: 0.0,
    weight_decay: 0.0,
    initial_accumulator_value: 0.0,
    eps: 1e-10,
    maximize: false,
};

/// Builder of [`Adagrad`]; setters take torch's names, [`build`](AdagradBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AdagradBuilder<F> {
    cfg: AdagradConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> AdagradBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `1e-2`).
        lr: f64,
        /// Learning-rate decay `η` (default `0`).
        lr_decay: f64,
        /// L2 penalty `λ` (default `0`).
        weight_decay: f64,
        /// Starting value of the accumulator (default `0`).
        initial_accumulator_value: f64,
        /// Term `ε` added to the denominator (default `1e-10`).
        eps: f64,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Adagrad, AdagradBuilder, DEFAULTS);

impl<F: Float> Default for Adagrad<F> {
    /// torch's defaults: `lr = 1e-2`, `eps = 1e-10`, everything else 0.
    fn default() -> Self {
        Adagrad { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Adagrad<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdagradBuilder<F> {
        AdagradBuilder::default()
    }
    getters! {
        /// Learning-rate decay `η`.
        lr_decay: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Starting value of the accumulator.
        initial_accumulator_value: f64,
        /// `ε`.
        eps: f64,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdagradState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Adagrad::update";

impl<F: Float> Optimizer<F> for Adagrad<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let init = F::lit(c.initial_accumulator_value);
        let s = self
            .state
            .get_or_insert_with(param.id, || AdagradState { step: 0, sum: placer.full(shape, init) });
        s.step += 1;
        let clr = c.lr / (1.0 + (s.step as f64 - 1.0) * c.lr_decay);
        let (neg_clr, eps, wd) = (F::lit(-clr), F::lit(c.eps), F::lit(c.weight_decay));
        let (maximize, l2) = (c.maximize, c.weight_decay != 0.0);
        fused3(&mut p, &g, &mut s.sum, |p, g, s| {
            let g = if maximize { -g } else { g };
            let g = if l2 { g + wd * *p } else { g };
            *s += g * g;
            *p += neg_clr * g / (s.sqrt() + eps);
        });
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.sum]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!();

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("sum", &s.sum)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Adagrad::load_state_dict", sd);
        let cfg = AdagradConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [sum] = r.placed(id, ["sum"])?;
            Ok(AdagradState { step, sum })
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
            (Adagrad::<f64>::builder().lr(-1.0), "lr"),
            (Adagrad::builder().lr_decay(-0.5), "lr_decay"),
            (Adagrad::builder().weight_decay(-1.0), "weight_decay"),
            (Adagrad::builder().initial_accumulator_value(-1.0), "initial_accumulator_value"),
            (Adagrad::builder().eps(f64::NAN), "eps"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn lr_decay_by_hand() {
        // lr 1, lr_decay 1, g = 1, iav 0, eps 0: t=1: s=1, p -= 1; t=2: clr = 1/2, s=2, p -= 0.5/√2.
        let mut opt = Adagrad::builder().lr(1.0).lr_decay(1.0).eps(0.0).build().unwrap();
        let mut w = array![0.0f64].into_dyn();
        let g = array![1.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!((w[0] + 1.0 + 0.5 / 2f64.sqrt()).abs() < 1e-15);
    }
}
