//! Muon: [`Muon`] (optax.contrib.muon).

use std::marker::PhantomData;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayD, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, Ix2, Zip};

use crate::error::{Error, Result};
use crate::optim::kernel::{ConstDiv, fused4};
use crate::optim::state::bias_correction;
use crate::optim::state::{Placer, Reader, Writer, check_nonneg, check_state_shapes, check_unit_open};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, same_shape};

/// Keller Jordan's quintic Newton–Schulz coefficients, optax's default `ns_coeffs`.
pub const MUON_NS_COEFFS: [f64; 3] = [3.4445, -4.7750, 2.0315];

/// Muon (MomentUm Orthogonalized by Newton–Schulz): the momentum of every 2-D tensor
/// is approximately orthogonalized before the step, and every other tensor is updated
/// by AdamW, as `optax.contrib.muon` computes it.
///
/// # Update rule
///
/// For a 2-D tensor `p` of shape `rows × cols = shape[0] × shape[1]` (optax's default
/// orientation: rows are the fan-in, as JAX kernels are `(in, out)`; a PyTorch-style
/// `(out, in)` weight is oriented the other way) with gradient `g` at step `t`
/// (momentum `m` starting at 0):
///
/// ```text
/// m ← (1 − β)·g + β·m
/// m̂ ← β·m/(1 − β^(t+1)) + (1 − β)·g/(1 − β^t)     if nesterov
/// m̂ ← m/(1 − β^t)                                 otherwise
/// O ← NS(m̂);   O ← ⟨m̂, O⟩·O                      if adaptive (⟨·,·⟩: sum of products)
/// s ← √max(1, cols/rows)                          (consistent_rms = None)
/// s ← √max(rows, cols) · consistent_rms           otherwise
/// p ← p − γ·(s·O + λ·p)                           (no λ term when λ = 0)
///
/// NS(X): work on Xᵀ if rows > cols (and transpose back);  X ← X / (‖X‖_F + ε)
///        for each coefficient triple (a, b, c):  A ← X·Xᵀ;  X ← a·X + (b·A + c·A·A)·X
/// ```
///
/// The triple `ns_coeffs` is repeated `ns_steps` times (default: 5 iterations of
/// `(3.4445, −4.7750, 2.0315)`, which does not converge to an exact orthogonal matrix:
/// singular values end in roughly `[0.7, 1.2]`); with
/// [`ns_coeffs_per_step`](MuonBuilder::ns_coeffs_per_step) each iteration has its own
/// triple and `ns_steps` is ignored, as in optax.
///
/// Every tensor that is not 2-D (biases, scalars, convolution kernels) is updated by
/// AdamW with Nesterov momentum (`optax.adamw(..., nesterov=True)`), learning rate
/// `adam_lr` (or `lr`), `ε` shared with Muon:
///
/// ```text
/// m ← (1 − β1)·g + β1·m;   v ← (1 − β2)·g² + β2·v
/// m̂ ← β1·m/(1 − β1^(t+1)) + (1 − β1)·g/(1 − β1^t);   v̂ ← v/(1 − β2^t)
/// p ← p − γ_adam·(m̂ / (√(v̂ + ε_root) + ε) + λ_adam·p)
/// ```
///
/// # Hyper-parameters
///
/// optax's names in parentheses.
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`learning_rate`) | `0.02` | `>= 0` |
/// | `momentum` (`beta`) | `0.95` | `[0, 1)` |
/// | `nesterov` | `true` | |
/// | `ns_coeffs` | `(3.4445, −4.7750, 2.0315)` | finite |
/// | `ns_steps` | `5` | any |
/// | `eps` | `1e-8` | `>= 0` |
/// | `weight_decay` (`λ`) | `0` | `>= 0` |
/// | `adaptive` | `false` | |
/// | `consistent_rms` | `None` | `>= 0` |
/// | `adam_betas` (`adam_b1`, `adam_b2`) | `(0.9, 0.999)` | each in `[0, 1)` |
/// | `adam_eps_root` | `0` | `>= 0` |
/// | `adam_weight_decay` (`λ_adam`) | `0` | `>= 0` |
/// | `adam_lr` (`adam_learning_rate`) | `None` (= `lr`) | `>= 0` |
///
/// optax requires `learning_rate`; ndtrain's default `0.02` is the Muon reference
/// implementation's. Not supported: optax's `preconditioning` other than its default
/// `"frobenius"` (the normalization above), `weight_decay_mask`,
/// `muon_weight_dimension_numbers` (every 2-D tensor is a Muon matrix, oriented as
/// stored) and string presets of `ns_coeffs`. [`Optimizer::set_lr`] sets `lr`; an
/// explicit `adam_lr` stays as set (use [`ParamGroups`](crate::optim::ParamGroups) with
/// two optimizers to schedule both).
///
/// State per parameter ([`MuonState`]): `step`, `momentum_buffer` (`m`), and
/// `exp_avg_sq` (`v`) for the AdamW tensors. The Newton–Schulz iteration works in four
/// scratch matrices the optimizer keeps and reuses (sized for the largest matrix), and
/// its products are `ndarray::linalg::general_mat_mul` calls into them (the
/// `matrixmultiply` backend allocates a packing buffer inside each call; ndtrain's own
/// code allocates nothing after the first step). Schedulers that cycle momentum set
/// `β` ([`Optimizer::group_momentum`]).
///
/// # Errors
///
/// [`build`](MuonBuilder::build) returns [`Error::InvalidParameter`] for a negative (or
/// NaN) `lr`, `eps`, `weight_decay`, `consistent_rms`, `adam_eps_root`,
/// `adam_weight_decay` or `adam_lr`, for `momentum` or `adam_betas` outside `[0, 1)`
/// (`"momentum"`, `"adam_betas[0]"`, `"adam_betas[1]"`) and for a non-finite
/// coefficient (`"ns_coeffs"`), and [`Error::InvalidConfig`] for an empty per-step list.
/// [`Optimizer::update`] returns [`Error::ShapeMismatch`] when the gradient or the
/// stored state does not have the parameter's shape.
///
/// # Reference
///
/// Jordan et al., *Muon: An optimizer for hidden layers in neural networks*, 2024
/// (<https://kellerjordan.github.io/posts/muon/>); Bernstein & Newhouse, *Old Optimizer,
/// New Norm: An Anthology*, 2024 (`adaptive`); Liu et al., *Muon is Scalable for LLM
/// Training*, 2025 (`consistent_rms`);
/// <https://optax.readthedocs.io/en/latest/api/generated/optax.contrib.muon.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Muon;
/// use ndtrain::prelude::*;
///
/// let mut opt = Muon::builder().lr(0.1).momentum(0.95).build()?;
/// let mut w = array![[0.0, 0.0], [0.0, 0.0]].into_dyn();
/// let g = array![[2.0, 0.0], [0.0, 2.0]].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// // The momentum direction is the identity (already orthogonal, up to the NS scaling):
/// // both diagonal elements take the same step, the off-diagonal ones none.
/// assert!(w[[0, 0]] < -0.05 && w[[0, 0]] == w[[1, 1]] && w[[0, 1]] == 0.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "muon")]
#[doc(alias = "optax.contrib.muon")]
#[derive(Clone, Debug)]
pub struct Muon<F> {
    cfg: MuonConfig,
    state: StateMap<MuonState<F>>,
    ws: NsWorkspace<F>,
}

/// Per-parameter state of [`Muon`].
#[derive(Clone, Debug)]
pub struct MuonState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Muon's momentum `m` (2-D tensors) or the AdamW first moment (other tensors).
    pub momentum_buffer: ArrayD<F>,
    /// The AdamW second moment `v`; `None` for 2-D tensors.
    pub exp_avg_sq: Option<ArrayD<F>>,
}

/// Scratch matrices of the Newton–Schulz iteration, reused by every step and tensor:
/// `x`, `y` (`k × n`), `a`, `b` (`k × k`), `k = min(rows, cols)`, `n = max(rows, cols)`.
#[derive(Clone, Debug, Default)]
struct NsWorkspace<F> {
    x: Vec<F>,
    y: Vec<F>,
    a: Vec<F>,
    b: Vec<F>,
}

impl<F: Float> NsWorkspace<F> {
    fn reserve(&mut self, k: usize, n: usize) {
        for (buf, len) in
            [(&mut self.x, k * n), (&mut self.y, k * n), (&mut self.a, k * k), (&mut self.b, k * k)]
        {
            if buf.len() < len {
                buf.resize(len, F::zero());
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct MuonConfig {
    lr: f64,
    beta: f64,
    eps: f64,
    weight_decay: f64,
    nesterov: bool,
    adaptive: bool,
    /// One triple (repeated `ns_steps` times) or, if `per_step`, one per iteration.
    ns_coeffs: Vec<[f64; 3]>,
    per_step: bool,
    ns_steps: usize,
    consistent_rms: Option<f64>,
    adam_beta1: f64,
    adam_beta2: f64,
    adam_eps_root: f64,
    adam_weight_decay: f64,
    adam_lr: Option<f64>,
}

impl MuonConfig {
    fn defaults() -> Self {
        MuonConfig {
            lr: 0.02,
            beta: 0.95,
            eps: 1e-8,
            weight_decay: 0.0,
            nesterov: true,
            adaptive: false,
            ns_coeffs: vec![MUON_NS_COEFFS],
            per_step: false,
            ns_steps: 5,
            consistent_rms: None,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_eps_root: 0.0,
            adam_weight_decay: 0.0,
            adam_lr: None,
        }
    }

    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        check_unit_open("momentum", self.beta)?;
        check_nonneg("eps", self.eps)?;
        check_nonneg("weight_decay", self.weight_decay)?;
        if let Some(r) = self.consistent_rms {
            check_nonneg("consistent_rms", r)?;
        }
        check_unit_open("adam_betas[0]", self.adam_beta1)?;
        check_unit_open("adam_betas[1]", self.adam_beta2)?;
        check_nonneg("adam_eps_root", self.adam_eps_root)?;
        check_nonneg("adam_weight_decay", self.adam_weight_decay)?;
        if let Some(lr) = self.adam_lr {
            check_nonneg("adam_lr", lr)?;
        }
        if self.ns_coeffs.is_empty() {
            return Err(Error::invalid_config(
                "Muon: ns_coeffs_per_step needs at least one (a, b, c) triple",
            ));
        }
        if let Some(bad) = self.ns_coeffs.iter().flatten().find(|c| !c.is_finite()) {
            return Err(Error::InvalidParameter { name: "ns_coeffs", value: *bad, expected: "finite" });
        }
        Ok(())
    }

    /// The coefficient triple of every Newton–Schulz iteration, in order.
    fn iterations(&self) -> impl Iterator<Item = [f64; 3]> + '_ {
        let n = if self.per_step { self.ns_coeffs.len() } else { self.ns_steps };
        (0..n).map(move |i| if self.per_step { self.ns_coeffs[i] } else { self.ns_coeffs[0] })
    }

    fn write<F: Float>(&self, w: &mut Writer<F>) {
        w.hyper("lr", self.lr)
            .hyper("momentum", self.beta)
            .hyper("eps", self.eps)
            .hyper("weight_decay", self.weight_decay)
            .flag("nesterov", self.nesterov)
            .flag("adaptive", self.adaptive)
            .flag("ns_coeffs_per_step", self.per_step)
            .hyper("ns_steps", self.ns_steps as f64)
            .hyper("ns_coeffs.len", self.ns_coeffs.len() as f64);
        for (i, t) in self.ns_coeffs.iter().enumerate() {
            for (j, v) in t.iter().enumerate() {
                w.hyper(&format!("ns_coeffs.{i}.{j}"), *v);
            }
        }
        if let Some(r) = self.consistent_rms {
            w.hyper("consistent_rms", r);
        }
        w.hyper("adam_betas.0", self.adam_beta1)
            .hyper("adam_betas.1", self.adam_beta2)
            .hyper("adam_eps_root", self.adam_eps_root)
            .hyper("adam_weight_decay", self.adam_weight_decay);
        if let Some(lr) = self.adam_lr {
            w.hyper("adam_lr", lr);
        }
    }

    fn read<F: Float>(r: &mut Reader<'_, F>, sd: &StateDict<F>) -> Result<Self> {
        let op = "Muon::load_state_dict";
        let count = |v: f64, what: &str| -> Result<usize> {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e12 {
                Ok(v as usize)
            } else {
                Err(Error::invalid_input(op, format!("{what} = {v} is not a count")))
            }
        };
        let has = |k: &str| sd.scalar(&format!("param_groups.0.{k}")).is_some();
        let mut cfg = MuonConfig {
            lr: r.hyper("lr")?,
            beta: r.hyper("momentum")?,
            eps: r.hyper("eps")?,
            weight_decay: r.hyper("weight_decay")?,
            nesterov: r.flag("nesterov")?,
            adaptive: r.flag("adaptive")?,
            ns_coeffs: Vec::new(),
            per_step: r.flag("ns_coeffs_per_step")?,
            ns_steps: count(r.hyper("ns_steps")?, "ns_steps")?,
            consistent_rms: if has("consistent_rms") { Some(r.hyper("consistent_rms")?) } else { None },
            adam_beta1: r.hyper("adam_betas.0")?,
            adam_beta2: r.hyper("adam_betas.1")?,
            adam_eps_root: r.hyper("adam_eps_root")?,
            adam_weight_decay: r.hyper("adam_weight_decay")?,
            adam_lr: if has("adam_lr") { Some(r.hyper("adam_lr")?) } else { None },
        };
        let rows = count(r.hyper("ns_coeffs.len")?, "ns_coeffs.len")?;
        if !cfg.per_step && rows != 1 {
            return Err(Error::invalid_input(op, "one ns_coeffs triple expected without ns_coeffs_per_step"));
        }
        for i in 0..rows {
            let mut t = [0.0; 3];
            for (j, v) in t.iter_mut().enumerate() {
                *v = r.hyper(&format!("ns_coeffs.{i}.{j}"))?;
            }
            cfg.ns_coeffs.push(t);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Builder of [`Muon`]; [`build`](MuonBuilder::build) validates.
#[derive(Clone, Debug)]
pub struct MuonBuilder<F> {
    cfg: MuonConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> Default for MuonBuilder<F> {
    fn default() -> Self {
        MuonBuilder { cfg: MuonConfig::defaults(), _f: PhantomData }
    }
}

impl<F: Float> MuonBuilder<F> {
    setters! {
        /// Learning rate `γ` (optax's `learning_rate`).
        #[doc(alias = "learning_rate")]
        lr: f64,
    }
    /// Momentum decay `β` (optax's `beta`).
    #[doc(alias = "beta")]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.cfg.beta = momentum;
        self
    }
    setters! {
        /// Nesterov momentum for the Muon matrices (default `true`).
        nesterov: bool,
    }
    /// One coefficient triple `(a, b, c)`, repeated [`ns_steps`](Self::ns_steps) times.
    pub fn ns_coeffs(mut self, a: f64, b: f64, c: f64) -> Self {
        self.cfg.ns_coeffs = vec![[a, b, c]];
        self.cfg.per_step = false;
        self
    }
    /// One coefficient triple per Newton–Schulz iteration (optax's 2-D `ns_coeffs`); the
    /// number of iterations is the number of triples, `ns_steps` is ignored.
    pub fn ns_coeffs_per_step(mut self, coeffs: &[[f64; 3]]) -> Self {
        self.cfg.ns_coeffs = coeffs.to_vec();
        self.cfg.per_step = true;
        self
    }
    setters! {
        /// Number of Newton–Schulz iterations with a single triple (default 5).
        ns_steps: usize,
        /// `ε`, added to the Frobenius norm in Newton–Schulz and to AdamW's denominator.
        eps: f64,
        /// Weight decay `λ` of the Muon matrices (multiplied by the learning rate).
        weight_decay: f64,
        /// Scale the orthogonalized update by `⟨m̂, O⟩` (default `false`).
        adaptive: bool,
    }
    /// Consistent-RMS scaling `√max(rows, cols)·consistent_rms` instead of the width
    /// scaling `√max(1, cols/rows)` (0.2 matches AdamW's typical update RMS).
    pub fn consistent_rms(mut self, consistent_rms: f64) -> Self {
        self.cfg.consistent_rms = Some(consistent_rms);
        self
    }
    /// `(β1, β2)` of the AdamW fallback (optax's `adam_b1`, `adam_b2`).
    #[doc(alias = "adam_b1")]
    #[doc(alias = "adam_b2")]
    pub fn adam_betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.cfg.adam_beta1 = beta1;
        self.cfg.adam_beta2 = beta2;
        self
    }
    setters! {
        /// `ε_root` of the AdamW fallback, inside the square root.
        adam_eps_root: f64,
        /// Weight decay of the AdamW fallback.
        adam_weight_decay: f64,
    }
    /// A separate learning rate for the AdamW fallback (default: `lr`).
    #[doc(alias = "adam_learning_rate")]
    pub fn adam_lr(mut self, lr: f64) -> Self {
        self.cfg.adam_lr = Some(lr);
        self
    }
    /// Validates the hyper-parameters and builds the optimizer.
    ///
    /// # Errors
    /// See [`Muon`].
    pub fn build(self) -> Result<Muon<F>> {
        self.cfg.validate()?;
        Ok(Muon { cfg: self.cfg, state: StateMap::default(), ws: NsWorkspace::default() })
    }
}

impl<F: Float> Default for Muon<F> {
    /// optax's defaults with `lr = 0.02`.
    fn default() -> Self {
        Muon { cfg: MuonConfig::defaults(), state: StateMap::default(), ws: NsWorkspace::default() }
    }
}

impl<F: Float> Muon<F> {
    /// A builder starting from the defaults.
    pub fn builder() -> MuonBuilder<F> {
        MuonBuilder::default()
    }
    /// Momentum decay `β`.
    pub fn momentum(&self) -> f64 {
        self.cfg.beta
    }
    getters! {
        /// Whether Nesterov momentum is on.
        nesterov: bool,
    }
    /// The Newton–Schulz coefficient triple of every iteration, in order.
    pub fn ns_schedule(&self) -> Vec<[f64; 3]> {
        self.cfg.iterations().collect()
    }
    getters! {
        /// `ε`.
        eps: f64,
        /// Weight decay `λ` of the Muon matrices.
        weight_decay: f64,
        /// Whether the update is scaled by `⟨m̂, O⟩`.
        adaptive: bool,
    }
    /// The consistent-RMS target, if set.
    pub fn consistent_rms(&self) -> Option<f64> {
        self.cfg.consistent_rms
    }
    /// `(β1, β2)` of the AdamW fallback.
    pub fn adam_betas(&self) -> (f64, f64) {
        (self.cfg.adam_beta1, self.cfg.adam_beta2)
    }
    /// The learning rate of the AdamW fallback.
    pub fn adam_lr(&self) -> f64 {
        self.cfg.adam_lr.unwrap_or(self.cfg.lr)
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&MuonState<F>> {
        self.state.get(id)
    }

    fn update_matrix(
        &mut self,
        param: Param<'_>,
        p: ArrayViewMutD<'_, F>,
        g: ArrayViewD<'_, F>,
    ) -> Result<()> {
        let shape_err = || Error::ShapeMismatch { op: OP, expected: vec![0, 0], got: g.shape().to_vec() };
        let mut p = p.into_dimensionality::<Ix2>().map_err(|_| shape_err())?;
        let g = g.view().into_dimensionality::<Ix2>().map_err(|_| shape_err())?;
        let c = &self.cfg;
        let (rows, cols) = p.dim();
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let s = self.state.get_or_insert_with(param.id, || MuonState {
            step: 0,
            momentum_buffer: placer.zeros(&[rows, cols]),
            exp_avg_sq: None,
        });
        let mut m = s.momentum_buffer.view_mut().into_dimensionality::<Ix2>().map_err(|_| shape_err())?;
        s.step += 1;
        let t = s.step;

        let (beta, omb) = (F::lit(c.beta), F::lit(1.0 - c.beta));
        let (bc, bc_next) = (F::lit(bias_correction(c.beta, t)), F::lit(bias_correction(c.beta, t + 1)));
        let nesterov = c.nesterov;
        let m_hat = move |m: F, g: F| if nesterov { beta * (m / bc_next) + omb * (g / bc) } else { m / bc };

        // Work on X = m̂ (k × n, k ≤ n): transposed when rows > cols.
        let transposed = rows > cols;
        let (k, n) = if transposed { (cols, rows) } else { (rows, cols) };
        let ws = &mut self.ws;
        ws.reserve(k, n);
        {
            let mut x = ArrayViewMut2::from_shape((k, n), &mut ws.x[..k * n]).map_err(|_| shape_err())?;
            let xo = if transposed { x.view_mut().reversed_axes() } else { x.view_mut() };
            Zip::from(xo).and(&mut m).and(&g).for_each(|x, m, &g| {
                *m = omb * g + beta * *m;
                *x = m_hat(*m, g);
            });
            let mut sq = F::zero();
            x.for_each(|&v| sq += v * v);
            let denom = sq.sqrt() + F::lit(c.eps);
            x.mapv_inplace(|v| v / denom);
        }
        for [a, b, cc] in c.iterations() {
            let (a, b, cc) = (F::lit(a), F::lit(b), F::lit(cc));
            let x = ArrayView2::from_shape((k, n), &ws.x[..k * n]).map_err(|_| shape_err())?;
            let mut am = ArrayViewMut2::from_shape((k, k), &mut ws.a[..k * k]).map_err(|_| shape_err())?;
            let mut bm = ArrayViewMut2::from_shape((k, k), &mut ws.b[..k * k]).map_err(|_| shape_err())?;
            // A = X Xᵀ;  B = b·A + c·A·A;  Y = a·X + B·X.
            general_mat_mul(F::one(), &x, &x.t(), F::zero(), &mut am);
            general_mat_mul(cc, &am, &am, F::zero(), &mut bm);
            Zip::from(&mut bm).and(&am).for_each(|bv, &av| *bv = b * av + *bv);
            ws.y[..k * n].copy_from_slice(&ws.x[..k * n]);
            let mut y = ArrayViewMut2::from_shape((k, n), &mut ws.y[..k * n]).map_err(|_| shape_err())?;
            general_mat_mul(F::one(), &bm, &x, a, &mut y);
            std::mem::swap(&mut ws.x, &mut ws.y);
        }
        let x = ArrayView2::from_shape((k, n), &ws.x[..k * n]).map_err(|_| shape_err())?;
        let o = if transposed { x.reversed_axes() } else { x };

        let dual = if c.adaptive {
            let mut sum = F::zero();
            Zip::from(&m).and(&g).and(&o).for_each(|&m, &g, &o| sum += m_hat(m, g) * o);
            sum
        } else {
            F::one()
        };
        let scale = F::lit(match c.consistent_rms {
            None => (cols as f64 / rows as f64).max(1.0).sqrt(),
            Some(r) => (rows.max(cols) as f64).sqrt() * r,
        });
        let adaptive = c.adaptive;
        let wd = F::lit(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        let neg_lr = F::lit(-c.lr);
        Zip::from(&mut p).and(&o).for_each(|p, &o| {
            let mut u = if adaptive { dual * o } else { o };
            u = scale * u;
            if decay {
                u += wd * *p;
            }
            *p += u * neg_lr;
        });
        Ok(())
    }

    fn update_adam(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) {
        let c = &self.cfg;
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || MuonState {
            step: 0,
            momentum_buffer: placer.zeros(shape),
            exp_avg_sq: Some(placer.zeros(shape)),
        });
        s.step += 1;
        let t = s.step;
        let (b1, omb1) = (F::lit(c.adam_beta1), F::lit(1.0 - c.adam_beta1));
        let (b2, omb2) = (F::lit(c.adam_beta2), F::lit(1.0 - c.adam_beta2));
        let (bc1, bc1_next) = (
            ConstDiv::new(F::lit(bias_correction(c.adam_beta1, t))),
            ConstDiv::new(F::lit(bias_correction(c.adam_beta1, t + 1))),
        );
        let bc2 = ConstDiv::new(F::lit(bias_correction(c.adam_beta2, t)));
        let (eps, eps_root) = (F::lit(c.eps), F::lit(c.adam_eps_root));
        let wd = F::lit(c.adam_weight_decay);
        let decay = c.adam_weight_decay != 0.0;
        let neg_lr = F::lit(-c.adam_lr.unwrap_or(c.lr));
        let Some(v) = s.exp_avg_sq.as_mut() else { return };
        fused4(&mut p, &g, &mut s.momentum_buffer, v, |p, g, m, v| {
            *m = omb1 * g + b1 * *m;
            *v = omb2 * (g * g) + b2 * *v;
            let m_hat = b1 * bc1_next.apply(*m) + omb1 * bc1.apply(g);
            let mut u = m_hat / ((bc2.apply(*v) + eps_root).sqrt() + eps);
            if decay {
                u += wd * *p;
            }
            *p += u * neg_lr;
        });
    }
}

const OP: &str = "Muon::update";

impl<F: Float> Optimizer<F> for Muon<F> {
    fn update(&mut self, param: Param<'_>, p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        if p.ndim() == 2 {
            self.update_matrix(param, p, g)
        } else {
            self.update_adam(param, p, g);
            Ok(())
        }
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        same_shape(OP, value.shape(), grad.shape())?;
        if let Some(s) = self.state.get(param.id) {
            check_state_shapes(OP, value.shape(), &[&s.momentum_buffer])?;
            // A matrix has no second moment, every other tensor has one.
            if s.exp_avg_sq.is_some() == (value.ndim() == 2) {
                return Err(Error::invalid_input(
                    OP,
                    format!("the state of parameter {} belongs to a tensor of another rank", param.id),
                ));
            }
            if let Some(v) = &s.exp_avg_sq {
                check_state_shapes(OP, value.shape(), &[v])?;
            }
        }
        Ok(())
    }

    fn lr(&self) -> F {
        F::lit(self.cfg.lr)
    }

    /// Sets `lr` (and so the AdamW fallback's rate unless `adam_lr` was given).
    fn set_lr(&mut self, lr: F) {
        self.cfg.lr = lr.as_f64();
    }

    fn group_momentum(&self, _group: usize) -> Option<F> {
        Some(F::lit(self.cfg.beta))
    }

    fn set_group_momentum(&mut self, _group: usize, momentum: F) {
        self.cfg.beta = momentum.as_f64();
    }

    fn state_dict(&self) -> StateDict<F> {
        let mut w = Writer::new();
        self.cfg.write(&mut w);
        for (id, s) in self.state.iter() {
            w.step(id, s.step).tensor(id, "momentum_buffer", &s.momentum_buffer);
            if let Some(v) = &s.exp_avg_sq {
                w.tensor(id, "exp_avg_sq", v);
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let mut r = Reader::new("Muon::load_state_dict", sd);
        let cfg = MuonConfig::read(&mut r, sd)?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            let m = r.tensor(id, "momentum_buffer")?;
            let v = r.opt_tensor(id, "exp_avg_sq");
            if v.is_some() == (m.ndim() == 2) {
                return Err(Error::invalid_input(
                    "Muon::load_state_dict",
                    format!("state.{id}: exp_avg_sq belongs to (and only to) tensors that are not 2-D"),
                ));
            }
            if let Some(v) = v {
                if v.shape() != m.shape() {
                    return Err(Error::invalid_input(
                        "Muon::load_state_dict",
                        format!("state.{id}.exp_avg_sq has shape {:?}, expected {:?}", v.shape(), m.shape()),
                    ));
                }
            }
            let mut placer = Placer::unknown();
            Ok(MuonState {
                step,
                momentum_buffer: placer.copy_of(m.view()),
                exp_avg_sq: v.map(|v| placer.copy_of(v.view())),
            })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn invalid_hyper_parameters() {
        let e = |b: MuonBuilder<f64>| b.build().unwrap_err();
        assert_eq!(
            e(Muon::builder().momentum(1.0)),
            Error::InvalidParameter { name: "momentum", value: 1.0, expected: "[0, 1)" }
        );
        assert!(matches!(e(Muon::builder().lr(-0.02)), Error::InvalidParameter { name: "lr", .. }));
        assert!(matches!(e(Muon::builder().eps(-1.0)), Error::InvalidParameter { name: "eps", .. }));
        assert!(matches!(
            e(Muon::builder().consistent_rms(-0.2)),
            Error::InvalidParameter { name: "consistent_rms", .. }
        ));
        assert!(matches!(
            e(Muon::builder().adam_betas(0.9, 1.0)),
            Error::InvalidParameter { name: "adam_betas[1]", .. }
        ));
        assert!(matches!(
            e(Muon::builder().adam_lr(f64::NAN)),
            Error::InvalidParameter { name: "adam_lr", .. }
        ));
        assert!(matches!(
            e(Muon::builder().ns_coeffs(f64::INFINITY, 0.0, 0.0)),
            Error::InvalidParameter { name: "ns_coeffs", .. }
        ));
        assert!(matches!(e(Muon::builder().ns_coeffs_per_step(&[])), Error::InvalidConfig(_)));
    }

    /// Newton–Schulz by plain loops, for comparison.
    fn ns_reference(x: &Array2<f64>, coeffs: &[[f64; 3]], eps: f64) -> Array2<f64> {
        let t = x.nrows() > x.ncols();
        let mut x = if t { x.t().to_owned() } else { x.clone() };
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        x.mapv_inplace(|v| v / (norm + eps));
        for &[a, b, c] in coeffs {
            let am = x.dot(&x.t());
            let bm = &am * b + &(am.dot(&am) * c);
            x = &x * a + &bm.dot(&x);
        }
        if t { x.t().to_owned() } else { x }
    }

    #[test]
    fn first_step_matches_plain_newton_schulz() {
        // Step 1 without Nesterov: m̂ = m/(1−β) = g, so p = −lr·scale·NS(g).
        for shape in [(3, 5), (5, 3), (4, 4)] {
            let g =
                Array2::from_shape_fn(shape, |(i, j)| ((i * 7 + j * 3) % 5) as f64 - 2.0 + 0.1 * i as f64);
            let mut opt = Muon::builder().lr(0.5).nesterov(false).build().unwrap();
            let mut p = Array2::<f64>::zeros(shape).into_dyn();
            opt.update(Param::new(0, "w"), p.view_mut(), g.view().into_dyn()).unwrap();
            let o = ns_reference(&g, &[MUON_NS_COEFFS; 5], 1e-8);
            let scale = (shape.1 as f64 / shape.0 as f64).max(1.0).sqrt();
            let expected = o * (-0.5 * scale);
            for (a, e) in p.iter().zip(expected.iter()) {
                assert!((a - e).abs() < 1e-12, "{shape:?}: {a} vs {e}");
            }
        }
    }

    #[test]
    fn non_matrices_take_nesterov_adamw_steps() {
        // Step 1: m = (1−β1)g, m̂ = β1·m/(1−β1²) + (1−β1)·g/(1−β1) = g·(β1/(1+β1) + 1),
        // v̂ = g², so u = (β1/(1+β1) + 1)·sign(g) (eps = 0): 4/3 for β1 = 0.5.
        let mut opt = Muon::builder().lr(0.1).eps(0.0).adam_betas(0.5, 0.9).build().unwrap();
        let mut b = array![0.0f64, 0.0].into_dyn();
        opt.update(Param::new(0, "b"), b.view_mut(), array![3.0, -2.0].into_dyn().view()).unwrap();
        let u = 0.5 / 1.5 + 1.0;
        assert!((b[0] + 0.1 * u).abs() < 1e-15 && (b[1] - 0.1 * u).abs() < 1e-15);
        assert!(opt.state(0).unwrap().exp_avg_sq.is_some());
    }

    #[test]
    fn state_dict_round_trip() {
        let mut opt = Muon::<f64>::builder()
            .ns_coeffs_per_step(&[[3.0, -3.0, 1.0], [2.0, -1.5, 0.5]])
            .consistent_rms(0.2)
            .build()
            .unwrap();
        let mut w = Array2::from_elem((2, 3), 0.5).into_dyn();
        let mut b = array![1.0].into_dyn();
        let gw = Array2::from_shape_fn((2, 3), |(i, j)| (i + 2 * j) as f64).into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), gw.view()).unwrap();
        opt.update(Param::new(1, "b"), b.view_mut(), array![1.0].into_dyn().view()).unwrap();
        let sd = opt.state_dict();
        let mut fresh = Muon::<f64>::default();
        fresh.load_state_dict(&sd).unwrap();
        assert_eq!(fresh.state_dict(), sd);
        assert_eq!(fresh.ns_schedule(), vec![[3.0, -3.0, 1.0], [2.0, -1.5, 0.5]]);
        assert_eq!(fresh.consistent_rms(), Some(0.2));
        // A matrix's state does not fit a vector of the same parameter id.
        let mut v = array![1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into_dyn();
        assert!(fresh.update(Param::new(0, "w"), v.view_mut(), gw.view()).is_err());
    }
}
