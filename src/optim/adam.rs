//! Adam and AdamW: [`Adam`] (torch.optim.Adam) and [`AdamW`] (torch.optim.AdamW).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::optim::kernel::{ConstDiv, fused4, fused5};
use crate::optim::state::{
    Placer, Reader, Writer, bias_corrections, check_nonneg, check_state_shapes, check_unit_open,
    check_update, max_nan,
};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, flush_subnormal};

/// Adam, bias-corrected, with optional AMSGrad and L2 or decoupled weight decay:
/// `torch.optim.Adam`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...` (torch's
/// single-tensor algorithm, the published algorithm of Kingma & Ba):
///
/// ```text
/// g ← −g                                     if maximize
/// g ← g + λ·p                                if λ ≠ 0 (L2, added to the gradient)
/// p ← p·(1 − γ·λ)                            instead, if decoupled_weight_decay (AdamW)
/// m ← β1·m + (1 − β1)·g                      (exp_avg)
/// v ← β2·v + (1 − β2)·g²                     (exp_avg_sq)
/// v ← v_max ← max(v_max, v)                  if amsgrad (max of the raw v)
/// p ← p − γ/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
/// ```
///
/// `ε` is added after the bias correction of `√v`, as torch does.
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-3` | `>= 0` |
/// | `betas` (`β1`, `β2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `eps` (`ε`) | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `amsgrad` | `false` | |
/// | `maximize` | `false` | |
/// | `decoupled_weight_decay` | `false` | (`true` is [`AdamW`]) |
///
/// State per parameter ([`AdamState`]): `step`, `exp_avg`, `exp_avg_sq`, and
/// `max_exp_avg_sq` with AMSGrad. Schedulers that cycle momentum set `β1`
/// ([`Optimizer::group_momentum`]).
///
/// Each step is one fused pass over the parameter, its gradient and the state. Large
/// state tensors are placed so that their addresses differ, modulo 4 KiB, from the
/// parameter's and the gradient's (equal offsets made the step 4x slower on the
/// benchmark machine).
///
/// # Errors
///
/// [`build`](AdamBuilder::build) returns [`Error::InvalidParameter`] for a negative (or
/// NaN) `lr`, `eps` or `weight_decay` (`name` `"lr"`, `"eps"`, `"weight_decay"`) and for
/// betas outside `[0, 1)` (`"betas[0]"`, `"betas[1]"`). [`Optimizer::update`] returns
/// [`Error::ShapeMismatch`] when the gradient or the stored state does not have the
/// parameter's shape.
///
/// # Reference
///
/// Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015
/// (<https://arxiv.org/abs/1412.6980>); Reddi, Kale & Kumar, *On the Convergence of Adam
/// and Beyond*, ICLR 2018 (AMSGrad);
/// <https://pytorch.org/docs/stable/generated/torch.optim.Adam.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Adam;
/// use ndtrain::prelude::*;
///
/// let mut opt = Adam::builder().lr(0.1).betas(0.9, 0.999).build()?;
/// let mut w = array![1.0_f64, -1.0].into_dyn();
/// let g = array![2.0, -0.5].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // The first bias-corrected step moves each weight by about lr against its gradient's sign.
/// assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 0.9).abs() < 1e-6);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Adam")]
#[derive(Clone, Debug)]
pub struct Adam<F> {
    cfg: AdamConfig,
    state: StateMap<AdamState<F>>,
}

/// Per-parameter state of [`Adam`] and [`AdamW`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AdamState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// First moment `m`.
    pub exp_avg: ArrayD<F>,
    /// Second moment `v`.
    pub exp_avg_sq: ArrayD<F>,
    /// Running maximum of `v` (AMSGrad only).
    pub max_exp_avg_sq: Option<ArrayD<F>>,
}

impl<F: Float> AdamState<F> {
    fn zeros(shape: &[usize], amsgrad: bool, mut placer: Placer) -> Self {
        AdamState {
            step: 0,
            exp_avg: placer.zeros(shape),
            exp_avg_sq: placer.zeros(shape),
            max_exp_avg_sq: amsgrad.then(|| placer.zeros(shape)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AdamConfig {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
}

impl AdamConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_nonneg("eps", self.eps)?;
        check_unit_open("betas[0]", self.beta1)?;
        check_unit_open("betas[1]", self.beta2)?;
        check_nonneg("weight_decay", self.weight_decay)
    }
}

hyper_table!(AdamConfig {
    lr: hyper "lr",
    beta1: hyper "betas.0",
    beta2: hyper "betas.1",
    eps: hyper "eps",
    weight_decay: hyper "weight_decay",
    amsgrad: flag "amsgrad",
    maximize: flag "maximize",
    decoupled_weight_decay: flag "decoupled_weight_decay",
});

/// Builder of [`Adam`]; setters take torch's names, [`build`](AdamBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AdamBuilder<F> {
    cfg: AdamConfig,
    _f: PhantomData<fn() -> F>,
}

macro_rules! adam_setters {
    () => {
        setters! {
            /// Learning rate `γ`.
            lr: f64,
        }
        /// Coefficients `(β1, β2)` of the running averages of the gradient and its square.
        pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
            self.cfg.beta1 = beta1;
            self.cfg.beta2 = beta2;
            self
        }
        setters! {
            /// Term `ε` added to the denominator.
            eps: f64,
            /// Weight decay `λ`.
            weight_decay: f64,
            /// Use the AMSGrad variant (default `false`).
            amsgrad: bool,
            /// Maximize the objective instead of minimizing it (default `false`).
            maximize: bool,
        }
    };
}

impl<F: Float> AdamBuilder<F> {
    adam_setters!();
    setters! {
        /// Decoupled weight decay `p ← p·(1 − γλ)` (AdamW) instead of L2 (default `false`).
        decoupled_weight_decay: bool,
    }
}

builder_basics!(Adam, AdamBuilder, ADAM_DEFAULTS);

const ADAM_DEFAULTS: AdamConfig = AdamConfig {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: 0.0,
    amsgrad: false,
    maximize: false,
    decoupled_weight_decay: false,
};

impl<F: Float> Default for Adam<F> {
    /// torch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay.
    fn default() -> Self {
        Adam { cfg: ADAM_DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Adam<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdamBuilder<F> {
        AdamBuilder::default()
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
        /// Whether AMSGrad is on.
        amsgrad: bool,
        /// Whether the objective is maximized.
        maximize: bool,
        /// Whether weight decay is decoupled (AdamW).
        decoupled_weight_decay: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdamState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Adam::update";

/// Runs `$body` with `$prep(g, p)` bound to the (gradient, parameter) preparation of
/// one combination of `maximize` and the weight-decay mode, each without branches.
macro_rules! with_prep {
    ($maximize:expr, $l2:expr, $decoupled:expr, $wd:expr, $decay:expr, $prep:ident => $body:expr) => {{
        let (wd, decay) = ($wd, $decay);
        match ($maximize, $l2, $decoupled) {
            (false, true, _) => {
                let $prep = move |g: F, p: F| (g + wd * p, p);
                $body
            }
            (true, true, _) => {
                let $prep = move |g: F, p: F| (-g + wd * p, p);
                $body
            }
            (false, false, true) => {
                let $prep = move |g: F, p: F| (g, p * decay);
                $body
            }
            (true, false, true) => {
                let $prep = move |g: F, p: F| (-g, p * decay);
                $body
            }
            (false, false, false) => {
                let $prep = |g: F, p: F| (g, p);
                $body
            }
            (true, false, false) => {
                let $prep = |g: F, p: F| (-g, p);
                $body
            }
        }
    }};
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || AdamState::zeros(shape, c.amsgrad, placer));
        if c.amsgrad && s.max_exp_avg_sq.is_none() {
            s.max_exp_avg_sq = Some(ArrayD::zeros(s.exp_avg.raw_dim()));
        }
        s.step += 1;
        let (bc1, bc2) = bias_corrections(c.beta1, c.beta2, s.step);
        let neg_step_size = F::lit(-(c.lr / bc1));
        let bc2_sqrt = ConstDiv::new(F::lit(bc2.sqrt()));
        let (w1, small1) = (F::lit(1.0 - c.beta1), (1.0 - c.beta1).abs() < 0.5);
        let (b2, omb2, eps) = (F::lit(c.beta2), F::lit(1.0 - c.beta2), F::lit(c.eps));
        let wd = F::lit(c.weight_decay);
        let decay = F::lit(1.0 - c.lr * c.weight_decay);
        let maximize = c.maximize;
        let l2 = c.weight_decay != 0.0 && !c.decoupled_weight_decay;
        let decoupled = c.weight_decay != 0.0 && c.decoupled_weight_decay;
        let (exp_avg, exp_avg_sq, vmax) = (&mut s.exp_avg, &mut s.exp_avg_sq, s.max_exp_avg_sq.as_mut());
        // One loop per case of the (gradient, parameter) preparation: with the branches
        // inside, the compiler leaves the five-stream AMSGrad loop scalar (5x slower).
        with_prep!(maximize, l2, decoupled, wd, decay, prep => with_lerp!(small1, lerp => match vmax {
            None => fused4(&mut p, &g, exp_avg, exp_avg_sq, |p, g, m, v| {
                let (g, pv) = prep(g, *p);
                *m = lerp(*m, g, w1);
                *v = flush_subnormal(*v * b2 + omb2 * g * g);
                *p = pv + neg_step_size * *m / (bc2_sqrt.apply(v.sqrt()) + eps);
            }),
            Some(vmax) => fused5(&mut p, &g, exp_avg, exp_avg_sq, vmax, |p, g, m, v, vm| {
                let (g, pv) = prep(g, *p);
                *m = lerp(*m, g, w1);
                *v = flush_subnormal(*v * b2 + omb2 * g * g);
                *vm = max_nan(*vm, *v);
                *p = pv + neg_step_size * *m / (bc2_sqrt.apply(vm.sqrt()) + eps);
            }),
        }));
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        let s = self.state.get(param.id);
        check_update(OP, value.shape(), grad.shape(), s.map(|s| [&s.exp_avg, &s.exp_avg_sq]))?;
        match s.and_then(|s| s.max_exp_avg_sq.as_ref()) {
            Some(m) => check_state_shapes(OP, value.shape(), &[m]),
            None => Ok(()),
        }
    }

    lr_accessors!(beta1);

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensors(id, &[("exp_avg", &s.exp_avg), ("exp_avg_sq", &s.exp_avg_sq)]);
            if let Some(m) = &s.max_exp_avg_sq {
                w.tensor(id, "max_exp_avg_sq", m);
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Adam::load_state_dict", sd);
        let cfg = AdamConfig::read(&mut r)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let ([exp_avg, exp_avg_sq], [max_exp_avg_sq]) =
                r.placed_with(id, ["exp_avg", "exp_avg_sq"], [("max_exp_avg_sq", cfg.amsgrad)])?;
            Ok(AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

/// Adam with decoupled weight decay: `torch.optim.AdamW`.
///
/// # Update rule
///
/// As [`Adam`], with the weight decay applied to the parameter instead of the gradient:
///
/// ```text
/// g ← −g                                     if maximize
/// p ← p·(1 − γ·λ)
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// v ← v_max ← max(v_max, v)                  if amsgrad
/// p ← p − γ/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-3` | `>= 0` |
/// | `betas` (`β1`, `β2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `eps` (`ε`) | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `1e-2` | `>= 0` |
/// | `amsgrad` | `false` | |
/// | `maximize` | `false` | |
///
/// State per parameter: [`AdamState`].
///
/// # Errors
///
/// As [`Adam`].
///
/// # Reference
///
/// Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019
/// (<https://arxiv.org/abs/1711.05101>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::AdamW;
/// use ndtrain::prelude::*;
///
/// let mut opt = AdamW::builder().lr(0.1).weight_decay(0.5).build()?;
/// let mut w = array![1.0_f64].into_dyn();
/// let g = array![0.0].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // Zero gradient: only the decay acts, p ← p·(1 − 0.1·0.5).
/// assert!((w[0] - 0.95).abs() < 1e-12);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.AdamW")]
#[derive(Clone, Debug)]
pub struct AdamW<F> {
    inner: Adam<F>,
}

/// Builder of [`AdamW`].
#[derive(Clone, Debug)]
pub struct AdamWBuilder<F> {
    cfg: AdamConfig,
    _f: PhantomData<fn() -> F>,
}

const ADAMW_DEFAULTS: AdamConfig =
    AdamConfig { weight_decay: 1e-2, decoupled_weight_decay: true, ..ADAM_DEFAULTS };

impl<F: Float> AdamWBuilder<F> {
    adam_setters!();
    /// Validates the hyper-parameters and builds the optimizer.
    ///
    /// # Errors
    /// See [`Adam`].
    pub fn build(self) -> Result<AdamW<F>> {
        self.cfg.validate()?;
        Ok(AdamW { inner: Adam { cfg: self.cfg, state: StateMap::default() } })
    }
}

impl<F: Float> Default for AdamWBuilder<F> {
    fn default() -> Self {
        AdamWBuilder { cfg: ADAMW_DEFAULTS, _f: PhantomData }
    }
}

impl<F: Float> Default for AdamW<F> {
    /// torch's defaults: `lr = 1e-3`, `betas = (0.9, 0.999)`, `eps = 1e-8`,
    /// `weight_decay = 1e-2`.
    fn default() -> Self {
        AdamW { inner: Adam { cfg: ADAMW_DEFAULTS, state: StateMap::default() } }
    }
}

impl<F: Float> AdamW<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdamWBuilder<F> {
        AdamWBuilder::default()
    }
    /// `(β1, β2)`.
    pub fn betas(&self) -> (f64, f64) {
        self.inner.betas()
    }
    /// `ε`.
    pub fn eps(&self) -> f64 {
        self.inner.eps()
    }
    /// Weight decay `λ`.
    pub fn weight_decay(&self) -> f64 {
        self.inner.weight_decay()
    }
    /// Whether AMSGrad is on.
    pub fn amsgrad(&self) -> bool {
        self.inner.amsgrad()
    }
    /// Whether the objective is maximized.
    pub fn maximize(&self) -> bool {
        self.inner.maximize()
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdamState<F>> {
        self.inner.state(id)
    }
}

impl<F: Float> Optimizer<F> for AdamW<F> {
    fn update(
        &mut self,
        param: Param<'_>,
        value: ArrayViewMutD<'_, F>,
        grad: ArrayViewD<'_, F>,
    ) -> Result<()> {
        self.inner.update(param, value, grad)
    }
    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        self.inner.validate(param, value, grad)
    }
    fn lr(&self) -> F {
        self.inner.lr()
    }
    fn set_lr(&mut self, lr: F) {
        self.inner.set_lr(lr)
    }
    fn group_momentum(&self, group: usize) -> Option<F> {
        self.inner.group_momentum(group)
    }
    fn set_group_momentum(&mut self, group: usize, momentum: F) {
        self.inner.set_group_momentum(group, momentum)
    }
    fn state_dict(&self) -> StateDict<F> {
        self.inner.state_dict()
    }
    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        if sd.scalar("param_groups.0.decoupled_weight_decay") == Some(0.0) {
            return Err(Error::invalid_input(
                "AdamW::load_state_dict",
                "the state dict is Adam's (decoupled_weight_decay = 0), not AdamW's",
            ));
        }
        self.inner.load_state_dict(sd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: AdamBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Adam::builder().betas(1.0, 0.999)),
            Error::InvalidParameter { name: "betas[0]", value: 1.0, expected: "[0, 1)" }
        );
        assert!(matches!(
            e(Adam::builder().betas(0.9, -0.1)),
            Error::InvalidParameter { name: "betas[1]", .. }
        ));
        assert!(matches!(e(Adam::builder().lr(-1e-3)), Error::InvalidParameter { name: "lr", .. }));
        assert!(matches!(e(Adam::builder().eps(-1.0)), Error::InvalidParameter { name: "eps", .. }));
        assert!(matches!(
            e(Adam::builder().weight_decay(f64::NAN)),
            Error::InvalidParameter { name: "weight_decay", .. }
        ));
        assert!(matches!(
            AdamW::<f32>::builder().betas(0.9, 1.0).build().unwrap_err(),
            Error::InvalidParameter { name: "betas[1]", .. }
        ));
    }

    #[test]
    fn two_steps_by_hand() {
        // g = 1 twice, betas (0.5, 0.75), lr 1, eps 0:
        // t=1: m = 0.5, v = 0.25, m_hat = 1, v_hat = 1 → p = 0 - 1 = -1.
        // t=2: m = 0.75, v = 0.4375, m_hat = 0.75/0.75 = 1, v_hat = 0.4375/0.4375 = 1 → p = -2.
        let mut opt = Adam::builder().lr(1.0).betas(0.5, 0.75).eps(0.0).build().unwrap();
        let mut w = array![0.0f64].into_dyn();
        let g = array![1.0f64].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!((w[0] + 1.0).abs() < 1e-15);
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert!((w[0] + 2.0).abs() < 1e-15);
        let s = opt.state(0).unwrap();
        assert_eq!(s.step, 2);
        assert_eq!(s.exp_avg[0], 0.75);
    }

    #[test]
    fn adamw_defaults_differ_from_adam() {
        assert_eq!(AdamW::<f64>::default().weight_decay(), 1e-2);
        assert_eq!(Adam::<f64>::default().weight_decay(), 0.0);
        let mut adam = Adam::<f64>::default();
        adam.update(Param::new(0, "w"), array![1.0].into_dyn().view_mut(), array![1.0].into_dyn().view())
            .unwrap();
        let sd = adam.state_dict();
        assert!(AdamW::<f64>::default().load_state_dict(&sd).is_err());
    }
}

/// The fast paths (AVX2 and portable slice loops, `Zip` for other layouts) against a plain
/// scalar transcription of torch's update with ordinary divisions: same bits.
#[cfg(test)]
mod path_tests {
    use super::*;
    use crate::optim::kernel::tests::portable;
    use crate::optim::state::lerp;
    use ndarray::{Array2, ShapeBuilder};
    use rand::RngExt;

    /// One step of the reference, element by element, on contiguous vectors.
    #[allow(clippy::too_many_arguments)]
    fn reference_step<F: Float>(
        c: &AdamConfig,
        t: u64,
        p: &mut [F],
        g: &[F],
        m: &mut [F],
        v: &mut [F],
        vmax: &mut [F],
    ) {
        let (bc1, bc2) = bias_corrections(c.beta1, c.beta2, t);
        let neg_step_size = F::lit(-(c.lr / bc1));
        let bc2_sqrt = F::lit(bc2.sqrt());
        let (w1, small1) = (F::lit(1.0 - c.beta1), (1.0 - c.beta1).abs() < 0.5);
        let (b2, omb2, eps, wd) =
            (F::lit(c.beta2), F::lit(1.0 - c.beta2), F::lit(c.eps), F::lit(c.weight_decay));
        let decay = F::lit(1.0 - c.lr * c.weight_decay);
        for i in 0..p.len() {
            let mut gi = if c.maximize { -g[i] } else { g[i] };
            let mut pv = p[i];
            if c.weight_decay != 0.0 {
                if c.decoupled_weight_decay {
                    pv *= decay;
                } else {
                    gi += wd * p[i];
                }
            }
            m[i] = flush_subnormal(lerp(m[i], gi, w1, small1));
            v[i] = flush_subnormal(v[i] * b2 + omb2 * gi * gi);
            let den = if c.amsgrad {
                vmax[i] = max_nan(vmax[i], v[i]);
                vmax[i]
            } else {
                v[i]
            };
            p[i] = pv + neg_step_size * m[i] / (den.sqrt() / bc2_sqrt + eps);
        }
    }

    fn same<F: Float>(a: F, b: F) -> bool {
        a.as_f64().to_bits() == b.as_f64().to_bits() || (a.is_nan() && b.is_nan())
    }

    fn check<F: Float>(cfg: AdamConfig, rows: usize, cols: usize, scale: f64, seed: u64) {
        let n = rows * cols;
        let mut rng = crate::tensor::seeded_rng(seed);
        let mut uniform = |s: f64| F::lit((rng.random::<f64>() * 2.0 - 1.0) * s);
        let p0: Vec<F> = (0..n).map(|_| uniform(1.0)).collect();
        let grads: Vec<Vec<F>> = (0..3).map(|_| (0..n).map(|_| uniform(scale)).collect()).collect();

        let (mut p, mut m, mut v, mut vm) =
            (p0.clone(), vec![F::zero(); n], vec![F::zero(); n], vec![F::zero(); n]);
        for (t, g) in grads.iter().enumerate() {
            reference_step(&cfg, t as u64 + 1, &mut p, g, &mut m, &mut v, &mut vm);
        }

        // 0: contiguous (AVX2 where available), 1: contiguous portable, 2: column-major (Zip).
        for path in 0..3 {
            let mut opt = Adam::<F> { cfg, state: StateMap::default() };
            let mut w = if path == 2 {
                Array2::from_shape_vec((rows, cols).f(), p0.clone()).unwrap()
            } else {
                Array2::from_shape_vec((rows, cols), p0.clone()).unwrap()
            };
            for g in &grads {
                let g = if path == 2 {
                    Array2::from_shape_vec((rows, cols).f(), g.clone()).unwrap()
                } else {
                    Array2::from_shape_vec((rows, cols), g.clone()).unwrap()
                };
                let mut step =
                    || opt.update(Param::new(0, "w"), w.view_mut().into_dyn(), g.view().into_dyn()).unwrap();
                if path == 1 { portable(step) } else { step() }
            }
            // Back to the reference's order (row-major) for the comparison.
            let got: Vec<F> = w.iter().copied().collect();
            let want: Vec<F> = if path == 2 {
                // Reference vectors were filled in the same flat order as the column-major
                // array's memory; `w.iter()` walks logical (row-major) order.
                let a = Array2::from_shape_vec((rows, cols).f(), p.clone()).unwrap();
                a.iter().copied().collect()
            } else {
                p.clone()
            };
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(same(*a, *b), "path {path}, {cfg:?}, n {n}, scale {scale}: element {i}: {a} != {b}");
            }
            let s = opt.state(0).unwrap();
            // The state is row-major over the logical index; the reference is mapped likewise.
            let m_got: Vec<F> = s.exp_avg.iter().copied().collect();
            let m_want: Vec<F> = if path == 2 {
                Array2::from_shape_vec((rows, cols).f(), m.clone()).unwrap().iter().copied().collect()
            } else {
                m.clone()
            };
            assert!(m_got.iter().zip(&m_want).all(|(a, b)| same(*a, *b)), "path {path}: exp_avg");
        }
    }

    fn configs() -> Vec<AdamConfig> {
        let base = ADAM_DEFAULTS;
        vec![
            base,
            AdamConfig { maximize: true, ..base },
            AdamConfig { weight_decay: 0.1, ..base },
            AdamConfig { amsgrad: true, ..base },
            AdamConfig { lr: 0.05, beta1: 0.3, beta2: 0.5, eps: 1e-6, ..base },
            ADAMW_DEFAULTS,
            AdamConfig { amsgrad: true, maximize: true, ..ADAMW_DEFAULTS },
            AdamConfig { amsgrad: true, maximize: true, weight_decay: 0.3, ..base },
        ]
    }

    #[test]
    fn simd_portable_and_zip_paths_match_the_scalar_rule_f32() {
        for (k, cfg) in configs().into_iter().enumerate() {
            for (rows, cols) in [(1, 1), (1, 7), (3, 5), (13, 11), (37, 29)] {
                for scale in [1.0, 1e-3, 1e-21, 1e30] {
                    check::<f32>(cfg, rows, cols, scale, k as u64 * 100 + rows as u64);
                }
            }
        }
    }

    #[test]
    fn simd_portable_and_zip_paths_match_the_scalar_rule_f64() {
        for (k, cfg) in configs().into_iter().enumerate() {
            for (rows, cols) in [(1, 1), (1, 7), (3, 5), (13, 11), (37, 29)] {
                for scale in [1.0, 1e-3, 1e-160, 1e200] {
                    check::<f64>(cfg, rows, cols, scale, k as u64 * 100 + rows as u64);
                }
            }
        }
    }
}
