//! Averaged SGD: [`Asgd`] (torch.optim.ASGD).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::Result;
use crate::optim::kernel::fused3;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_not_nan, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Averaged stochastic gradient descent: `torch.optim.ASGD`.
///
/// The parameters follow SGD with a decaying step size; the running (Polyak–Ruppert)
/// average of the iterates after step `t0` is kept in the state as `ax` (read it with
/// [`ax`](Asgd::ax)); as in torch, the averaging never changes the parameters.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...` (`η_1 = γ`,
/// `μ_1 = 1`):
///
/// ```text
/// g ← −g                                if maximize
/// g ← g + λ·p                           if λ ≠ 0 (weight_decay)
/// p ← p·(1 − ℓ·η_t)                     (ℓ = lambd)
/// p ← p − η_t·g
/// ax ← ax + μ_t·(p − ax)                (ax ← p while μ_t = 1)
/// η_{t+1} ← γ / (1 + ℓ·γ·t)^α
/// μ_{t+1} ← 1 / max(1, t − t0)
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-2` | `>= 0` |
/// | `lambd` (`ℓ`) | `1e-4` | any number |
/// | `alpha` (`α`) | `0.75` | any number |
/// | `t0` | `1e6` | any number |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`AsgdState`]): `step`, `eta`, `mu`, `ax`.
///
/// # Errors
///
/// [`build`](AsgdBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr` or `weight_decay` and a NaN `lambd`, `alpha` or `t0`.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)
/// when the gradient or the state does not have the parameter's shape.
///
/// # Reference
///
/// Polyak & Juditsky, *Acceleration of Stochastic Approximation by Averaging*, SIAM J.
/// Control Optim. 30(4), 1992;
/// <https://pytorch.org/docs/stable/generated/torch.optim.ASGD.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Asgd;
/// use ndtrain::prelude::*;
///
/// let mut opt = Asgd::builder().lr(0.1).lambd(0.0).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), array![1.0].into_dyn().view())?;
/// assert!((w[0] - 0.9).abs() < 1e-12);
/// // Before t0 the average is the iterate itself.
/// assert_eq!(opt.ax(0).unwrap()[0], w[0]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ASGD")]
#[doc(alias = "torch.optim.ASGD")]
#[derive(Clone, Debug)]
pub struct Asgd<F> {
    cfg: AsgdConfig,
    state: StateMap<AsgdState<F>>,
}

/// Per-parameter state of [`Asgd`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AsgdState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// The step size of the next step `η`.
    pub eta: f64,
    /// The averaging coefficient of the next step `μ`.
    pub mu: f64,
    /// The averaged parameter.
    pub ax: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AsgdConfig {
    lr: f64,
    lambd: f64,
    alpha: f64,
    t0: f64,
    weight_decay: f64,
    maximize: bool,
}

impl AsgdConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        check_not_nan("lambd", self.lambd)?;
        check_not_nan("alpha", self.alpha)?;
        check_not_nan("t0", self.t0)
    }
}

hyper_table!(AsgdConfig {
    lr: hyper "lr",
    lambd: hyper "lambd",
    alpha: hyper "alpha",
    t0: hyper "t0",
    weight_decay: hyper "weight_decay",
    maximize: flag "maximize",
});

const DEFAULTS: AsgdConfig =
    AsgdConfig { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weight_decay: 0.0, maximize: false };

/// Builder of [`Asgd`]; setters take torch's names, [`build`](AsgdBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AsgdBuilder<F> {
    cfg: AsgdConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> AsgdBuilder<F> {
    setters! {
        /// Learning rate `γ` (default `1e-2`).
        lr: f64,
        /// Decay term `ℓ` (default `1e-4`).
        lambd: f64,
        /// Power `α` of the step-size decay (default `0.75`).
        alpha: f64,
        /// Step at which averaging starts (default `1e6`).
        t0: f64,
        /// L2 penalty `λ` (default `0`).
        weight_decay: f64,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Asgd, AsgdBuilder, DEFAULTS);

impl<F: Float> Default for Asgd<F> {
    /// torch's defaults: `lr = 1e-2`, `lambd = 1e-4`, `alpha = 0.75`, `t0 = 1e6`.
    fn default() -> Self {
        Asgd { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Asgd<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AsgdBuilder<F> {
        AsgdBuilder::default()
    }
    getters! {
        /// Decay term `ℓ`.
        lambd: f64,
        /// Power `α`.
        alpha: f64,
        /// Step at which averaging starts.
        t0: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The averaged value of parameter `id` (torch's `state[p]["ax"]`), once it has been
    /// updated at least once.
    pub fn ax(&self, id: usize) -> Option<&ArrayD<F>> {
        self.state.get(id).map(|s| &s.ax)
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AsgdState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Asgd::update";

impl<F: Float> Optimizer<F> for Asgd<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || AsgdState {
            step: 0,
            eta: c.lr,
            mu: 1.0,
            ax: placer.zeros(shape),
        });
        s.step += 1;
        let decay = F::lit(1.0 - c.lambd * s.eta);
        let neg_eta = F::lit(-s.eta);
        let wd = F::lit(c.weight_decay);
        let (maximize, l2) = (c.maximize, c.weight_decay != 0.0);
        let averaging = s.mu != 1.0;
        let mu = F::lit(s.mu);
        fused3(&mut p, &g, &mut s.ax, |p, g, ax| {
            let g = if maximize { -g } else { g };
            let g = if l2 { g + wd * *p } else { g };
            let pv = *p * decay;
            let pv = pv + neg_eta * g;
            *p = pv;
            *ax = if averaging { *ax + (pv - *ax) * mu } else { pv };
        });
        let t = s.step as f64;
        s.eta = c.lr / (1.0 + c.lambd * c.lr * t).powf(c.alpha);
        let since = t - c.t0;
        s.mu = 1.0 / if since > 1.0 { since } else { 1.0 };
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.ax]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!();

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).scalar(id, "eta", s.eta).scalar(id, "mu", s.mu).tensors(id, &[("ax", &s.ax)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Asgd::load_state_dict", sd);
        let cfg = AsgdConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let eta = r.scalar(id, "eta")?;
            let mu = r.scalar(id, "mu")?;
            let [ax] = r.placed(id, ["ax"])?;
            Ok(AsgdState { step, eta, mu, ax })
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
            (Asgd::<f64>::builder().lr(-1.0), "lr"),
            (Asgd::builder().weight_decay(-1.0), "weight_decay"),
            (Asgd::builder().lambd(f64::NAN), "lambd"),
            (Asgd::builder().alpha(f64::NAN), "alpha"),
            (Asgd::builder().t0(f64::NAN), "t0"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn averages_after_t0() {
        // t0 = 0, lambd = 0, alpha = 0: η stays lr; μ_2 = 1/max(1, 1) = 1, μ_3 = 1/2.
        // g = 1, lr = 1: p = -1, -2, -3; ax = -1, -2, then -2 + (-3 + 2)/2 = -2.5.
        let mut opt = Asgd::builder().lr(1.0).lambd(0.0).alpha(0.0).t0(0.0).build().unwrap();
        let mut w = array![0.0f64].into_dyn();
        let g = array![1.0f64].into_dyn();
        for _ in 0..3 {
            opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        }
        assert_eq!(w[0], -3.0);
        assert_eq!(opt.ax(0).unwrap()[0], -2.5);
    }
}
