//! Resilient backpropagation: [`Rprop`] (torch.optim.Rprop).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::optim::kernel::fused4;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// Resilient backpropagation: per-coordinate step sizes adapted from the sign of the
/// gradient only: `torch.optim.Rprop`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g`, previous gradient `g⁻` and step size `s`
/// (`s` starts at `lr`, `g⁻` at 0):
///
/// ```text
/// g ← −g                               if maximize
/// if g·g⁻ > 0:  s ← min(s·η+, s_max)
/// if g·g⁻ < 0:  s ← max(s·η−, s_min);  g ← 0   (no move; 0 becomes the stored g⁻)
/// p ← p − sign(g)·s
/// g⁻ ← g
/// ```
///
/// The learning rate is used only to initialize the step sizes (as in torch), so
/// [`set_lr`](Optimizer::set_lr) affects parameters seen for the first time afterwards.
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` | `1e-2` | `>= 0` |
/// | `etas` (`η−`, `η+`) | `(0.5, 1.2)` | `0 < η− < 1 < η+` |
/// | `step_sizes` (`s_min`, `s_max`) | `(1e-6, 50)` | `0 <= s_min <= s_max` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`RpropState`]): `step`, `prev`, `step_size`.
///
/// # Errors
///
/// [`build`](RpropBuilder::build) returns [`Error::InvalidParameter`] for a negative (or
/// NaN) `lr`, for `etas[0]` outside `(0, 1)` or `etas[1]` not above 1 (torch: "Invalid eta
/// values"), and for step sizes with `s_min < 0` or `s_max < s_min` (torch does not check
/// these). [`Optimizer::update`] returns [`Error::ShapeMismatch`] when the gradient or the
/// state does not have the parameter's shape.
///
/// # Reference
///
/// Riedmiller & Braun, *A Direct Adaptive Method for Faster Backpropagation Learning:
/// The RPROP Algorithm*, IEEE ICNN 1993;
/// <https://pytorch.org/docs/stable/generated/torch.optim.Rprop.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Rprop;
/// use ndtrain::prelude::*;
///
/// let mut opt = Rprop::builder().lr(0.1).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// let g = array![3.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?; // step 0.1
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?; // same sign: step 0.12
/// assert!((w[0] - (1.0 - 0.1 - 0.12)).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Rprop")]
#[derive(Clone, Debug)]
pub struct Rprop<F> {
    cfg: RpropConfig,
    state: StateMap<RpropState<F>>,
}

/// Per-parameter state of [`Rprop`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct RpropState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// The previous (possibly zeroed) gradient `g⁻`.
    pub prev: ArrayD<F>,
    /// Per-coordinate step sizes `s`.
    pub step_size: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct RpropConfig {
    lr: f64,
    eta_minus: f64,
    eta_plus: f64,
    step_size_min: f64,
    step_size_max: f64,
    maximize: bool,
}

impl RpropConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        if !(0.0 < self.eta_minus && self.eta_minus < 1.0) {
            return Err(Error::InvalidParameter {
                name: "etas[0]",
                value: self.eta_minus,
                expected: "(0, 1)",
            });
        }
        if self.eta_plus.is_nan() || self.eta_plus <= 1.0 {
            return Err(Error::InvalidParameter { name: "etas[1]", value: self.eta_plus, expected: "> 1" });
        }
        check_nonneg("step_sizes[0]", self.step_size_min)?;
        if self.step_size_max.is_nan() || self.step_size_max < self.step_size_min {
            return Err(Error::InvalidParameter {
                name: "step_sizes[1]",
                value: self.step_size_max,
                expected: ">= step_sizes[0]",
            });
        }
        Ok(())
    }
}

hyper_table!(RpropConfig {
    lr: hyper "lr",
    eta_minus: hyper "etas.0",
    eta_plus: hyper "etas.1",
    step_size_min: hyper "step_sizes.0",
    step_size_max: hyper "step_sizes.1",
    maximize: flag "maximize",
});

const DEFAULTS: RpropConfig = RpropConfig {
    lr: 1e-2,
    eta_minus: 0.5,
    eta_plus: 1.2,
    step_size_min: 1e-6,
    step_size_max: 50.0,
    maximize: false,
};

/// Builder of [`Rprop`]; setters take torch's names, [`build`](RpropBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct RpropBuilder<F> {
    cfg: RpropConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> RpropBuilder<F> {
    setters! {
        /// Initial step size (default `1e-2`).
        lr: f64,
    }
    /// Multiplicative decrease and increase factors `(η−, η+)` (default `(0.5, 1.2)`).
    pub fn etas(mut self, eta_minus: f64, eta_plus: f64) -> Self {
        self.cfg.eta_minus = eta_minus;
        self.cfg.eta_plus = eta_plus;
        self
    }
    /// Minimal and maximal step sizes (default `(1e-6, 50)`).
    pub fn step_sizes(mut self, min: f64, max: f64) -> Self {
        self.cfg.step_size_min = min;
        self.cfg.step_size_max = max;
        self
    }
    setters! {
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Rprop, RpropBuilder, DEFAULTS);

impl<F: Float> Default for Rprop<F> {
    /// torch's defaults: `lr = 1e-2`, `etas = (0.5, 1.2)`, `step_sizes = (1e-6, 50)`.
    fn default() -> Self {
        Rprop { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Rprop<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> RpropBuilder<F> {
        RpropBuilder::default()
    }
    /// `(η−, η+)`.
    pub fn etas(&self) -> (f64, f64) {
        (self.cfg.eta_minus, self.cfg.eta_plus)
    }
    /// `(s_min, s_max)`.
    pub fn step_sizes(&self) -> (f64, f64) {
        (self.cfg.step_size_min, self.cfg.step_size_max)
    }
    getters! {
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&RpropState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Rprop::update";

/// torch.sign: -1, 0 or 1 (0 for NaN).
#[inline(always)]
fn sign<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        F::zero()
    }
}

impl<F: Float> Optimizer<F> for Rprop<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let lr = F::lit(c.lr);
        let s = self.state.get_or_insert_with(param.id, || RpropState {
            step: 0,
            prev: placer.zeros(shape),
            step_size: placer.full(shape, lr),
        });
        s.step += 1;
        let (eta_minus, eta_plus) = (F::lit(c.eta_minus), F::lit(c.eta_plus));
        let (lo, hi) = (F::lit(c.step_size_min), F::lit(c.step_size_max));
        let maximize = c.maximize;
        fused4(&mut p, &g, &mut s.prev, &mut s.step_size, |p, g, prev, ss| {
            let g = if maximize { -g } else { g };
            let prod = g * *prev;
            let (factor, g) = if prod > F::zero() {
                (eta_plus, g)
            } else if prod < F::zero() {
                (eta_minus, F::zero())
            } else {
                (F::one(), g)
            };
            // clamp(s·factor, lo, hi) with torch's NaN propagation.
            let x = *ss * factor;
            *ss = if x < lo {
                lo
            } else if x > hi {
                hi
            } else {
                x
            };
            *p += (-sign(g)) * *ss;
            *prev = g;
        });
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let state = self.state.get(param.id).map(|s| [&s.prev, &s.step_size]);
        check_update(OP, value.shape(), grad.shape(), state)
    }

    lr_accessors!();

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("prev", &s.prev), ("step_size", &s.step_size)]);
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Rprop::load_state_dict", sd);
        let cfg = RpropConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [prev, step_size] = r.placed(id, ["prev", "step_size"])?;
            Ok(RpropState { step, prev, step_size })
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
        for (b, name) in [
            (Rprop::<f64>::builder().lr(-1.0), "lr"),
            (Rprop::builder().etas(1.0, 1.2), "etas[0]"),
            (Rprop::builder().etas(0.0, 1.2), "etas[0]"),
            (Rprop::builder().etas(0.5, 1.0), "etas[1]"),
            (Rprop::builder().step_sizes(-1.0, 1.0), "step_sizes[0]"),
            (Rprop::builder().step_sizes(1.0, 0.5), "step_sizes[1]"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn sign_change_shrinks_and_skips() {
        let mut opt = Rprop::builder().lr(0.1).build().unwrap();
        let mut w = array![0.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![1.0].into_dyn().view()).unwrap();
        assert!((w[0] + 0.1).abs() < 1e-15);
        // Sign change: the step halves, the parameter stays, prev becomes 0.
        opt.update(Param::new(0, "w"), w.view_mut(), array![-1.0].into_dyn().view()).unwrap();
        assert!((w[0] + 0.1).abs() < 1e-15);
        let s = opt.state(0).unwrap();
        assert_eq!((s.prev[0], s.step_size[0]), (0.0, 0.05));
    }
}
