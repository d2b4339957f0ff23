//! Adagrad: [`Adagrad`] (torch.optim.Adagrad).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused3;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_state_shapes};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, same_shape};

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
    /// Learning rate `γ` (default `1e-2`).
    pub fn lr(mut self, lr: f64) -> Self {
        self.cfg.lr = lr;
        self
    }
    /// Learning-rate decay `η` (default `0`).
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.cfg.lr_decay = lr_decay;
        self
    }
    /// L2 penalty `λ` (default `0`).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.cfg.weight_decay = weight_decay;
        self
    }
    /// Starting value of the accumulator (default `0`).
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        self.cfg.initial_accumulator_value = value;
        self
    }
    /// Term `ε` added to the denominator (default `1e-10`).
    pub fn eps(mut self, eps: f64) -> Self {
        self.cfg.eps = eps;
        self
    }
    /// Maximize the objective instead of minimizing it (default `false`).
    pub fn maximize(mut self, maximize: bool) -> Self {
        self.cfg.maximize = maximize;
        self
    }
    /// Validates the hyper-parameters and builds the optimizer.
    ///
    /// # Errors
    /// See [`Adagrad`].
    pub fn build(self) -> Result<Adagrad<F>> {
        self.cfg.validate()?;
        Ok(Adagrad { cfg: self.cfg, state: StateMap::default() })
    }
}

impl<F: Float> Default for AdagradBuilder<F> {
    fn default() -> Self {
        AdagradBuilder { cfg: DEFAULTS, _f: PhantomData }
    }
}

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
    /// Learning-rate decay `η`.
    pub fn lr_decay(&self) -> f64 {
        self.cfg.lr_decay
    }
    /// Weight decay `λ`.
    pub fn weight_decay(&self) -> f64 {
        self.cfg.weight_decay
    }
    /// Starting value of the accumulator.
    pub fn initial_accumulator_value(&self) -> f64 {
        self.cfg.initial_accumulator_value
    }
    /// `ε`.
    pub fn eps(&self) -> f64 {
        self.cfg.eps
    }
    /// Whether the objective is maximized.
    pub fn maximize(&self) -> bool {
        self.cfg.maximize
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
        same_shape(OP, value.shape(), grad.shape())?;
        if let Some(s) = self.state.get(param.id) {
            check_state_shapes(OP, value.shape(), &[&s.sum])?;
        }
        Ok(())
    }

    fn lr(&self) -> F {
        F::lit(self.cfg.lr)
    }

    fn set_lr(&mut self, lr: F) {
        self.cfg.lr = lr.as_f64();
    }

    fn state_dict(&self) -> StateDict<F> {
        let c = &self.cfg;
        let mut w = Writer::new();
        w.hyper("lr", c.lr)
            .hyper("lr_decay", c.lr_decay)
            .hyper("weight_decay", c.weight_decay)
            .hyper("initial_accumulator_value", c.initial_accumulator_value)
            .hyper("eps", c.eps)
            .flag("maximize", c.maximize);
        for (id, s) in self.state.iter() {
            w.scalar(id, "step", s.step as f64).tensor(id, "sum", &s.sum);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Adagrad::load_state_dict", sd);
        let cfg = AdagradConfig {
            lr: r.hyper("lr")?,
            lr_decay: r.hyper("lr_decay")?,
            weight_decay: r.hyper("weight_decay")?,
            initial_accumulator_value: r.hyper("initial_accumulator_value")?,
            eps: r.hyper("eps")?,
            maximize: r.flag("maximize")?,
        };
        cfg.validate()?;
        let mut state = StateMap::default();
        for id in r.ids()? {
            let step = r.step(id)?;
            let sum = r.tensor(id, "sum")?;
            state.insert(id, AdagradState { step, sum: Placer::unknown().copy_of(sum.view()) });
        }
        r.finish()?;
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
