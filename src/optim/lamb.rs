//! LAMB: [`Lamb`] (optax.lamb).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use crate::error::Result;
use crate::optim::kernel::ConstDiv;
use crate::optim::optax_common::trust_ratio;
use crate::optim::state::bias_correction;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_unit_open, check_update};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param};

/// LAMB (layer-wise adaptive moments for batch training): Adam's direction rescaled per
/// tensor by the trust ratio `‖p‖ / ‖u‖`, as `optax.lamb` computes it.
///
/// # Update rule
///
/// For every parameter tensor `p` with gradient `g` at its step `t = 1, 2, ...`
/// (moments `m`, `v` starting at 0):
///
/// ```text
/// m ← (1 − β1)·g + β1·m
/// v ← (1 − β2)·g² + β2·v
/// u ← (m / (1 − β1^t)) / (√(v / (1 − β2^t) + ε_root) + ε) + λ·p     (no λ term when λ = 0)
/// r ← ‖p‖ / ‖u‖            (r = 1 when ‖p‖ = 0 or ‖u‖ = 0; r is not clipped)
/// p ← p − γ·r·u
/// ```
///
/// Norms are Euclidean over all elements of the tensor (a 0-d tensor's norm is `|p|`).
/// The trust ratio applies to every tensor, biases included (optax's default masks).
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `1e-3` | `>= 0` |
/// | `betas` (`b1`, `b2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `eps` | `1e-6` | `>= 0` |
/// | `eps_root` | `0` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
///
/// optax requires `learning_rate`; ndtrain's default is `1e-3`. Note optax's `eps`
/// default `1e-6` (Adam's is `1e-8`). optax's `mask` is not supported: use
/// [`ParamGroups`](crate::optim::ParamGroups) with `weight_decay(0.0)` to exclude tensors
/// from the decay.
///
/// State per parameter ([`LambState`]): `step`, `exp_avg` (`m`), `exp_avg_sq` (`v`).
/// Schedulers that cycle momentum set `β1` ([`Optimizer::group_momentum`]). A step makes
/// two passes over the tensor (the norms, then the update) and allocates nothing.
///
/// # Errors
///
/// [`build`](LambBuilder::build) returns [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a negative (or NaN) `lr`, `eps`, `eps_root` or `weight_decay` and for betas
/// outside `[0, 1)` (`"betas[0]"`, `"betas[1]"`). [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the gradient or the stored
/// state does not have the parameter's shape.
///
/// # Reference
///
/// You et al., *Large Batch Optimization for Deep Learning: Training BERT in 76
/// minutes*, ICLR 2020 (<https://arxiv.org/abs/1904.00962>, 2019);
/// <https://optax.readthedocs.io/en/latest/api/optimizers.html#optax.lamb>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Lamb;
/// use ndtrain::prelude::*;
///
/// let mut opt = Lamb::builder().lr(0.1).betas(0.9, 0.999).eps(0.0).build()?;
/// let mut w = array![3.0, 4.0].into_dyn(); // ‖p‖ = 5
/// let g = array![1.0, -2.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // Step 1: u = sign(g) = (1, -1), ‖u‖ = √2, so each element moves by 0.1·5/√2.
/// let d = 0.1 * 5.0 / 2f64.sqrt();
/// assert!((w[0] - (3.0 - d)).abs() < 1e-12 && (w[1] - (4.0 + d)).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "lamb")]
#[doc(alias = "optax.lamb")]
#[doc(alias = "LAMB")]
#[derive(Clone, Debug)]
pub struct Lamb<F> {
    cfg: LambConfig,
    state: StateMap<LambState<F>>,
}

/// Per-parameter state of [`Lamb`].
#[derive(Clone, Debug)]
pub struct LambState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// First moment `m` (optax's `mu`).
    pub exp_avg: ArrayD<F>,
    /// Second moment `v` (optax's `nu`).
    pub exp_avg_sq: ArrayD<F>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct LambConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    eps_root: f64,
    weight_decay: f64,
}

impl LambConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_unit_open("betas[0]", self.beta1)?;
        check_unit_open("betas[1]", self.beta2)?;
        check_nonneg("eps", self.eps)?;
        check_nonneg("eps_root", self.eps_root)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(LambConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    eps: hyper "eps",
    eps_root: hyper "eps_root",
    weight_decay: hyper "weight_decay",
});

const DEFAULTS: LambConfig =
    LambConfig { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, eps_root: 0.0, weight_decay: 0.0 };

/// Builder of [`Lamb`]; [`build`](LambBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct LambBuilder<F> {
    cfg: LambConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> LambBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`).
        #[doc(alias = "learning_rate")]
        lr: f64,
    }
    /// `(β1, β2)` (optax's `b1`, `b2`), the decay rates of the two moments.
    #[doc(alias = "b1")]
    #[doc(alias = "b2")]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.cfg.beta1 = beta1;
        self.cfg.beta2 = beta2;
        self
    }
    setters! {
        /// `ε`, added to the denominator outside the square root.
        eps: f64,
        /// `ε_root`, added inside the square root.
        eps_root: f64,
        /// Weight decay `λ`, added to the direction before the trust ratio.
        weight_decay: f64,
    }
}

builder_basics!(Lamb, LambBuilder, DEFAULTS);

impl<F: Float> Default for Lamb<F> {
    /// `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-6`, `eps_root = 0`, no weight decay.
    fn default() -> Self {
        Lamb { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Lamb<F> {
    /// A builder starting from the defaults.
    pub fn builder() -> LambBuilder<F> {
        LambBuilder::default()
    }
    /// `(β1, β2)`.
    pub fn betas(&self) -> (f64, f64) {
        (self.cfg.beta1, self.cfg.beta2)
    }
    getters! {
        /// `ε`.
        eps: f64,
        /// `ε_root`.
        eps_root: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&LambState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Lamb::update";

impl<F: Float> Optimizer<F> for Lamb<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || LambState {
            step: 0,
            exp_avg: placer.zeros(shape),
            exp_avg_sq: placer.zeros(shape),
        });
        s.step += 1;
        let (b1, omb1) = (F::lit(c.beta1), F::lit(1.0 - c.beta1));
        let (b2, omb2) = (F::lit(c.beta2), F::lit(1.0 - c.beta2));
        let (bc1, bc2) = (
            ConstDiv::new(F::lit(bias_correction(c.beta1, s.step))),
            ConstDiv::new(F::lit(bias_correction(c.beta2, s.step))),
        );
        let (eps, eps_root) = (F::lit(c.eps), F::lit(c.eps_root));
        let wd = F::lit(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        // The direction from the updated moments (recomputed bit-identically in pass 2).
        let dir = move |m: F, v: F, p: F| {
            let u = bc1.apply(m) / ((bc2.apply(v) + eps_root).sqrt() + eps);
            if decay { u + wd * p } else { u }
        };
        // Pass 1: moments, and the squared norms of p and of the direction.
        let (mut pn, mut un) = (F::zero(), F::zero());
        Zip::from(&p).and(&g).and(&mut s.exp_avg).and(&mut s.exp_avg_sq).for_each(|&p, &g, m, v| {
            *m = omb1 * g + b1 * *m;
            *v = omb2 * (g * g) + b2 * *v;
            let u = dir(*m, *v, p);
            pn += p * p;
            un += u * u;
        });
        let r = trust_ratio(pn.sqrt(), un.sqrt(), F::one(), F::zero());
        let neg_lr = F::lit(-c.lr);
        // Pass 2: p ← p + (u·r)·(−γ).
        Zip::from(&mut p).and(&s.exp_avg).and(&s.exp_avg_sq).for_each(|p, &m, &v| {
            let u = dir(m, v, *p);
            *p += u * r * neg_lr;
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
        let mut r = Reader::new("Lamb::load_state_dict", sd);
        let cfg = LambConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let [exp_avg, exp_avg_sq] = r.placed(id, ["exp_avg", "exp_avg_sq"])?;
            Ok(LambState { step, exp_avg, exp_avg_sq })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: LambBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Lamb::builder().betas(1.0, 0.999)),
            Error::InvalidParameter { name: "betas[0]", value: 1.0, expected: "[0, 1)" }
        );
        assert!(matches!(
            e(Lamb::builder().betas(0.9, 1.0)),
            Error::InvalidParameter { name: "betas[1]", .. }
        ));
        assert!(matches!(e(Lamb::builder().lr(-1.0)), Error::InvalidParameter { name: "lr", .. }));
        assert!(matches!(e(Lamb::builder().eps(-1e-6)), Error::InvalidParameter { name: "eps", .. }));
        assert!(matches!(
            e(Lamb::builder().eps_root(f64::NAN)),
            Error::InvalidParameter { name: "eps_root", .. }
        ));
        assert!(matches!(
            e(Lamb::builder().weight_decay(-0.1)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
    }

    #[test]
    fn zero_parameter_takes_the_plain_step() {
        // ‖p‖ = 0 → r = 1: the first step is p − γ·sign(g) (eps = 0), as Adam's.
        let mut opt = Lamb::builder().lr(0.5).eps(0.0).build().unwrap();
        let mut b = array![0.0f64, 0.0].into_dyn();
        opt.update(Param::new(0, "b"), b.view_mut(), array![2.0, -3.0].into_dyn().view()).unwrap();
        assert!((b[0] + 0.5).abs() < 1e-15 && (b[1] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn weight_decay_enters_the_direction() {
        // Zero gradient, wd 0.5, p = (3, 4): u = 0.5·p, ‖u‖ = 2.5, r = 5/2.5 = 2,
        // p ← p − γ·2·0.5·p = p·(1 − γ) with γ = 0.1.
        let mut opt = Lamb::builder().lr(0.1).weight_decay(0.5).build().unwrap();
        let mut w = array![3.0f64, 4.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), array![0.0, 0.0].into_dyn().view()).unwrap();
        assert!((w[0] - 2.7).abs() < 1e-15 && (w[1] - 3.6).abs() < 1e-15);
    }

    #[test]
    fn state_dict_round_trip() {
        let mut opt = Lamb::<f64>::default();
        let mut w = array![[1.0, 2.0]].into_dyn();
        opt.update(Param::new(1, "w"), w.view_mut(), array![[0.5, -0.5]].into_dyn().view()).unwrap();
        let sd = opt.state_dict();
        let mut fresh = Lamb::<f64>::default();
        fresh.load_state_dict(&sd).unwrap();
        assert_eq!(fresh.state_dict(), sd);
        let mut bad = sd.clone();
        bad.tensors[1].1 = ArrayD::zeros(ndarray::IxDyn(&[3]));
        assert!(Lamb::<f64>::default().load_state_dict(&bad).is_err());
    }
}
