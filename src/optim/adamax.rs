//! Adamax: [`Adamax`] (torch.optim.Adamax).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused4;
use crate::optim::state::{
    Placer, Reader, Writer, bias_corrections, check_nonneg, check_unit_open, check_update, max_nan,
};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Adamax, Adam with the infinity norm: `torch.optim.Adamax`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...`:
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·p                         if λ ≠ 0
/// m ← β1·m + (1 − β1)·g               (exp_avg)
/// u ← max(β2·u, |g| + ε)              (exp_inf)
/// p ← p − γ/(1 − β1^t) · m/u
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
/// | `maximize` | `false` | |
///
/// State per parameter ([`AdamaxState`]): `step`, `exp_avg`, `exp_inf`. Schedulers that
/// cycle momentum set `β1`.
///
/// # Errors
///
/// [`build`](AdamaxBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `eps`, `weight_decay`, and for betas outside `[0, 1)`
/// (`"betas[0]"`, `"betas[1]"`). [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the state
/// does not have the parameter's shape.
///
/// # Reference
///
/// Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015, section 7.1
/// (<https://arxiv.org/abs/1412.6980>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Adamax;
/// use ndtrain::prelude::*;
///
/// let mut opt = Adamax::builder().lr(0.1).eps(0.0).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![5.0].into_dyn().view())?;
/// // m = 0.5, u = 5, step 0.1/0.1 · 0.5/5 = 0.1.
/// assert!((w[0] - 0.9).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Adamax")]
#[derive(Clone, Debug)]
pub struct Adamax<F> {
    cfg: AdamaxConfig,
    state: StateMap<AdamaxState<F>>,
}

/// Per-parameter state of [`Adamax`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AdamaxState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// First moment `m`.
    pub exp_avg: ArrayD<F>,
    /// Exponentially weighted infinity norm `u`.
    pub exp_inf: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AdamaxConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
}

impl AdamaxConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("eps", self.eps)?;
        check_unit_open("betas[0]", self.beta1)?;
        check_unit_open("betas[1]", self.beta2)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(AdamaxConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    maximize: flag "maximize",
});

const DEFAULTS: AdamaxConfig =
    AdamaxConfig { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, maximize: false };

/// Builder of [`Adamax`]; setters take torch's names, [`build`](AdamaxBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AdamaxBuilder<F> {
    cfg: AdamaxConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> AdamaxBuilder<F> {
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
        /// L2 penalty `λ` (default `0`).
        weight_decay: f64,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Adamax, AdamaxBuilder, DEFAULTS);

impl<F: Float> Default for Adamax<F> {
    /// torch's defaults: `lr = 2e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`.
    fn default() -> Self {
        Adamax { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Adamax<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdamaxBuilder<F> {
        AdamaxBuilder::default()
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
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdamaxState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Adamax::update";

impl<F: Float> Optimizer<F> for Adamax<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || AdamaxState {
            step: 0,
            exp_avg: placer.zeros(shape),
            exp_inf: placer.zeros(shape),
        });
        s.step += 1;
        let (bc1, _) = bias_corrections(c.beta1, c.beta2, s.step);
        let neg_clr = F::lit(-(c.lr / bc1));
        let (w1, small1) = (F::lit(1.0 - c.beta1), (1.0 - c.beta1).abs() < 0.5);
        let (b2, eps, wd) = (F::lit(c.beta2), F::lit(c.eps), F::lit(c.weight_decay));
        let (maximize, l2) = (c.maximize, c.weight_decay != 0.0);
        let (exp_avg, exp_inf) = (&mut s.exp_avg, &mut s.exp_inf);
        with_lerp!(small1, lerp => fused4(&mut p, &g, &mut *exp_avg, &mut *exp_inf, |p, g, m, u| {
            let g = if maximize { -g } else { g };
            let g = if l2 { g + wd * *p } else { g };
            *m = lerp(*m, g, w1);
            *u = max_nan(*u * b2, g.abs() + eps);
            *p += neg_clr * *m / *u;
        }));
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.exp_avg, &s.exp_inf]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!(beta1);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("exp_avg", &s.exp_avg), ("exp_inf", &s.exp_inf)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Adamax::load_state_dict", sd);
        let cfg = AdamaxConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [exp_avg, exp_inf] = r.placed(id, ["exp_avg", "exp_inf"])?;
            Ok(AdamaxState { step, exp_avg, exp_inf })
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
            (Adamax::<f64>::builder().lr(-1.0), "lr"),
            (Adamax::builder().betas(-0.1, 0.9), "betas[0]"),
            (Adamax::builder().betas(0.9, 1.0), "betas[1]"),
            (Adamax::builder().eps(-1.0), "eps"),
            (Adamax::builder().weight_decay(-1.0), "weight_decay"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
