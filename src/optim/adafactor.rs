//! Adafactor: [`Adafactor`] (torch.optim.Adafactor).

use std::marker::PhantomData;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::optim::state::{Reader, Writer, check_nonneg, lerp};
use crate::optim::{Optimizer, StateDict, StateMap};
use crate::tensor::{Float, Param, same_shape};

/// Adafactor, with a factored second moment for tensors of two or more dimensions:
/// `torch.optim.Adafactor`.
///
/// # Update rule
///
/// For every parameter `p` with gradient `g` at its step `t = 1, 2, ...` (torch's
/// algorithm; `n` = number of elements of `p`):
///
/// ```text
/// g ← −g                                         if maximize
/// β̂_t ← 1 − t^c                                  (c = beta2_decay, so 1 − β̂_t = t^c)
/// ρ_t ← min(γ, 1/√t)
/// α_t ← max(ε2, ‖p‖₂/√n) · ρ_t
/// p ← p·(1 − γ·λ)                                if λ ≠ 0
/// if p has ≥ 2 dimensions (factored over the last two, rows × columns):
///     R ← β̂_t·R + (1 − β̂_t)·mean_cols(g²)        (row_var, shape [.., rows, 1])
///     C ← β̂_t·C + (1 − β̂_t)·mean_rows(g²)        (col_var, shape [.., 1, cols])
///     V̂ ← R·C / max(mean_rows(R), ε1)
/// else:
///     V ← β̂_t·V + (1 − β̂_t)·g²                   (variance)
///     V̂ ← V
/// U ← g / √max(V̂, ε1²)
/// p ← p − α_t / max(1, ‖U‖₂/(√n·d)) · U
/// ```
///
/// # Hyper-parameters
///
/// | name | default | range |
/// |---|---|---|
/// | `lr` (`γ`) | `1e-2` | `>= 0` |
/// | `beta2_decay` (`c`) | `-0.8` | `<= 0` |
/// | `eps` (`ε1`, `ε2`) | `(None, 1e-3)` | `>= 0`; `None` = machine epsilon of `F` |
/// | `d` | `1.0` | `>= 1` |
/// | `weight_decay` (`λ`) | `0.0` | `>= 0` |
/// | `maximize` | `false` | |
///
/// State per parameter ([`AdafactorState`]): `step`, and `row_var` and `col_var` (≥ 2
/// dimensions) or `variance` (0 or 1 dimension). Deviation: the norms and means are
/// accumulated in `f64` (torch accumulates in the tensor's type), which only matters for
/// `f32`.
///
/// # Errors
///
/// [`build`](AdafactorBuilder::build) returns [`Error::InvalidParameter`] for a negative
/// (or NaN) `lr`, `eps[0]`, `eps[1]` or `weight_decay`, a positive `beta2_decay` and
/// `d < 1`. [`Optimizer::update`] returns [`Error::ShapeMismatch`] when the gradient or
/// the state does not fit the parameter's shape.
///
/// # Reference
///
/// Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear Memory Cost*,
/// ICML 2018 (<https://arxiv.org/abs/1804.04235>);
/// <https://pytorch.org/docs/stable/generated/torch.optim.Adafactor.html>.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::Adafactor;
/// use ndtrain::prelude::*;
///
/// let mut opt = Adafactor::builder().lr(0.01).build()?;
/// let mut w = array![[1.0_f64, 2.0], [3.0, 4.0]].into_dyn();
/// let g = array![[0.1, -0.2], [0.3, 0.0]].into_dyn();
/// opt.update(Param::new(0, "w"), w.view_mut(), g.view())?;
/// let s = opt.state(0).unwrap();
/// assert_eq!(s.row_var.as_ref().map(|r| r.shape().to_vec()), Some(vec![2, 1]));
/// assert!(w[[0, 0]] < 1.0 && w[[0, 1]] > 2.0 && w[[1, 1]] == 4.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "torch.optim.Adafactor")]
#[derive(Clone, Debug)]
pub struct Adafactor<F> {
    cfg: AdafactorConfig,
    state: StateMap<AdafactorState<F>>,
}

/// Per-parameter state of [`Adafactor`] (torch's state keys).
#[derive(Clone, Debug)]
pub struct AdafactorState<F> {
    /// Number of steps taken on this parameter.
    pub step: u64,
    /// Row factor `R` of the second moment, shape `[.., rows, 1]` (≥ 2-D parameters).
    pub row_var: Option<ArrayD<F>>,
    /// Column factor `C` of the second moment, shape `[.., 1, cols]` (≥ 2-D parameters).
    pub col_var: Option<ArrayD<F>>,
    /// Unfactored second moment `V` (0-D and 1-D parameters).
    pub variance: Option<ArrayD<F>>,
    /// Scratch `[.., 1, 1]` for `max(mean_rows(R), ε1)` (not part of the saved state).
    row_mean: Option<ArrayD<F>>,
}

impl<F: Float> AdafactorState<F> {
    fn new(
        step: u64,
        row_var: Option<ArrayD<F>>,
        col_var: Option<ArrayD<F>>,
        variance: Option<ArrayD<F>>,
    ) -> Self {
        let row_mean = row_var.as_ref().map(|r| {
            let mut shape = r.shape().to_vec();
            let nd = shape.len();
            shape[nd - 2] = 1;
            ArrayD::zeros(IxDyn(&shape))
        });
        AdafactorState { step, row_var, col_var, variance, row_mean }
    }

    fn zeros(shape: &[usize]) -> Self {
        let nd = shape.len();
        if nd >= 2 {
            let mut rs = shape.to_vec();
            rs[nd - 1] = 1;
            let mut cs = shape.to_vec();
            cs[nd - 2] = 1;
            Self::new(0, Some(ArrayD::zeros(IxDyn(&rs))), Some(ArrayD::zeros(IxDyn(&cs))), None)
        } else {
            Self::new(0, None, None, Some(ArrayD::zeros(IxDyn(shape))))
        }
    }

    /// Checks that the state fits a parameter of shape `shape` (without allocating).
    fn check(&self, op: &'static str, shape: &[usize]) -> Result<()> {
        let nd = shape.len();
        if nd >= 2 {
            let (Some(r), Some(c)) = (&self.row_var, &self.col_var) else {
                return Err(Error::invalid_input(
                    op,
                    "state has no row_var/col_var for a tensor of >= 2 dimensions",
                ));
            };
            // row_var = shape with the last axis 1, col_var = shape with the second-last 1.
            let fits = |t: &ArrayD<F>, one: usize| {
                t.ndim() == nd
                    && t.shape()
                        .iter()
                        .zip(shape)
                        .enumerate()
                        .all(|(i, (&a, &b))| a == if i == one { 1 } else { b })
            };
            // Only the error path allocates.
            for (t, one) in [(r, nd - 1), (c, nd - 2)] {
                if !fits(t, one) {
                    let mut expected = shape.to_vec();
                    expected[one] = 1;
                    return Err(Error::ShapeMismatch { op, expected, got: t.shape().to_vec() });
                }
            }
            Ok(())
        } else {
            match &self.variance {
                Some(v) => same_shape(op, shape, v.shape()),
                None => Err(Error::invalid_input(op, "state has no variance for a tensor of < 2 dimensions")),
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct AdafactorConfig {
    lr: f64,
    beta2_decay: f64,
    eps1: Option<f64>,
    eps2: f64,
    d: f64,
    weight_decay: f64,
    maximize: bool,
}

impl AdafactorConfig {
    fn validate(&self) -> Result<()> {
        check_nonneg("lr", self.lr)?;
        if self.beta2_decay.is_nan() || self.beta2_decay > 0.0 {
            return Err(Error::InvalidParameter {
                name: "beta2_decay",
                value: self.beta2_decay,
                expected: "<= 0",
            });
        }
        if let Some(e) = self.eps1 {
            check_nonneg("eps[0]", e)?;
        }
        check_nonneg("eps[1]", self.eps2)?;
        if self.d.is_nan() || self.d < 1.0 {
            return Err(Error::InvalidParameter { name: "d", value: self.d, expected: ">= 1" });
        }
        check_nonneg("weight_decay", self.weight_decay)
    }
}

const DEFAULTS: AdafactorConfig = AdafactorConfig {
    lr: 1e-2,
    beta2_decay: -0.8,
    eps1: None,
    eps2: 1e-3,
    d: 1.0,
    weight_decay: 0.0,
    maximize: false,
};

/// Builder of [`Adafactor`]; setters take torch's names, [`build`](AdafactorBuilder::build)
/// validates.
#[derive(Clone, Debug)]
pub struct AdafactorBuilder<F> {
    cfg: AdafactorConfig,
    _f: PhantomData<fn() -> F>,
}

impl<F: Float> AdafactorBuilder<F> {
    setters! {
        /// Learning rate `γ`, the cap of the relative step size `ρ_t` (default `1e-2`).
        lr: f64,
        /// Decay exponent `c` of `β̂_t = 1 − t^c` (default `-0.8`).
        beta2_decay: f64,
    }
    /// `(ε1, ε2)`: the floor of the second moment (`None` = machine epsilon of `F`) and of
    /// the parameter scale (default `(None, 1e-3)`).
    pub fn eps(mut self, eps1: Option<f64>, eps2: f64) -> Self {
        self.cfg.eps1 = eps1;
        self.cfg.eps2 = eps2;
        self
    }
    setters! {
        /// Clipping threshold `d` of the update's root mean square (default `1.0`).
        d: f64,
        /// Decoupled weight decay `λ` (default `0`).
        weight_decay: f64,
        /// Maximize the objective instead of minimizing it (default `false`).
        maximize: bool,
    }
}

builder_basics!(Adafactor, AdafactorBuilder, DEFAULTS);

impl<F: Float> Default for Adafactor<F> {
    /// torch's defaults: `lr = 1e-2`, `beta2_decay = -0.8`, `eps = (None, 1e-3)`, `d = 1`.
    fn default() -> Self {
        Adafactor { cfg: DEFAULTS, state: StateMap::default() }
    }
}

impl<F: Float> Adafactor<F> {
    /// A builder starting from torch's defaults.
    pub fn builder() -> AdafactorBuilder<F> {
        AdafactorBuilder::default()
    }
    getters! {
        /// Decay exponent `c`.
        beta2_decay: f64,
    }
    /// `(ε1, ε2)` as configured (`None` = machine epsilon of `F`).
    pub fn eps(&self) -> (Option<f64>, f64) {
        (self.cfg.eps1, self.cfg.eps2)
    }
    getters! {
        /// Clipping threshold `d`.
        d: f64,
        /// Weight decay `λ`.
        weight_decay: f64,
        /// Whether the objective is maximized.
        maximize: bool,
    }
    /// The state of parameter `id`, if it has any.
    pub fn state(&self, id: usize) -> Option<&AdafactorState<F>> {
        self.state.get(id)
    }
}

const OP: &str = "Adafactor::update";

/// Sum of squares in f64.
fn sum_sq<F: Float>(x: ArrayViewD<'_, F>) -> f64 {
    x.fold(0.0, |acc, &v| {
        let v = v.as_f64();
        acc + v * v
    })
}

impl<F: Float> Optimizer<F> for Adafactor<F> {
    fn update(&mut self, param: Param<'_>, mut p: ArrayViewMutD<'_, F>, g: ArrayViewD<'_, F>) -> Result<()> {
        self.validate(param, p.view(), g.view())?;
        let c = self.cfg;
        let shape = p.shape();
        let s = self.state.get_or_insert_with(param.id, || AdafactorState::zeros(shape));
        s.step += 1;
        let n = p.len();
        if n == 0 {
            return Ok(());
        }
        let eps1 = c.eps1.unwrap_or_else(|| F::epsilon().as_f64());
        let t = s.step as f64;
        let one_minus_beta2_t = t.powf(c.beta2_decay);
        let rho_t = {
            let r = 1.0 / t.sqrt();
            if r < c.lr { r } else { c.lr }
        };
        let rms_p = sum_sq(p.view()).sqrt() / (n as f64).sqrt();
        let alpha = if rms_p > c.eps2 { rms_p } else { c.eps2 } * rho_t;
        let (w, small) = (F::lit(one_minus_beta2_t), one_minus_beta2_t.abs() < 0.5);
        let sgn = if c.maximize { -F::one() } else { F::one() };
        let eps1_sq = F::lit(eps1 * eps1);
        let nd = p.ndim();
        let u_sq_sum;
        if nd >= 2 {
            let (Some(row_var), Some(col_var), Some(row_mean)) =
                (&mut s.row_var, &mut s.col_var, &mut s.row_mean)
            else {
                return Err(Error::invalid_input(OP, "factored state missing"));
            };
            let (rows, cols) = (shape[nd - 2], shape[nd - 1]);
            // mean over the last axis of g², as torch: ‖g‖² / cols.
            let (fr, fc) = (F::lit(rows as f64), F::lit(cols as f64));
            Zip::from(g.lanes(Axis(nd - 1))).and(row_var.index_axis_mut(Axis(nd - 1), 0)).for_each(
                |lane, r| {
                    let norm = F::lit(sum_sq(lane.into_dyn()).sqrt());
                    *r = lerp(*r, norm * norm / fc, w, small);
                },
            );
            Zip::from(g.lanes(Axis(nd - 2))).and(col_var.index_axis_mut(Axis(nd - 2), 0)).for_each(
                |lane, cv| {
                    let norm = F::lit(sum_sq(lane.into_dyn()).sqrt());
                    *cv = lerp(*cv, norm * norm / fr, w, small);
                },
            );
            let eps1f = F::lit(eps1);
            Zip::from(row_var.lanes(Axis(nd - 2))).and(row_mean.index_axis_mut(Axis(nd - 2), 0)).for_each(
                |lane, m| {
                    let mean = lane.sum() / fr;
                    // clamp_(min = ε1), NaN kept.
                    *m = if mean < eps1f { eps1f } else { mean };
                },
            );
            let factored = |g: F, r: F, cv: F, m: F| {
                let v = r * cv / m;
                let v = if v < eps1_sq { eps1_sq } else { v };
                F::one() / v.sqrt() * (sgn * g)
            };
            let mut acc = 0.0f64;
            Zip::from(&g)
                .and_broadcast(&*row_var)
                .and_broadcast(&*col_var)
                .and_broadcast(&*row_mean)
                .for_each(|&g, &r, &cv, &m| {
                    let u = factored(g, r, cv, m).as_f64();
                    acc += u * u;
                });
            u_sq_sum = acc;
            let coef: F = final_coef(alpha, u_sq_sum, n, c.d);
            let (decay, wd) = (F::lit(1.0 - c.lr * c.weight_decay), c.weight_decay != 0.0);
            Zip::from(&mut p)
                .and(&g)
                .and_broadcast(&*row_var)
                .and_broadcast(&*col_var)
                .and_broadcast(&*row_mean)
                .for_each(|p, &g, &r, &cv, &m| {
                    let pv = if wd { *p * decay } else { *p };
                    *p = pv + coef * factored(g, r, cv, m);
                });
        } else {
            let Some(variance) = &mut s.variance else {
                return Err(Error::invalid_input(OP, "variance state missing"));
            };
            let mut acc = 0.0f64;
            let unfactored = |g: F, v: F| {
                let v = if v < eps1_sq { eps1_sq } else { v };
                F::one() / v.sqrt() * (sgn * g)
            };
            Zip::from(&g).and(&mut *variance).for_each(|&g, v| {
                *v = lerp(*v, g * g, w, small);
                let u = unfactored(g, *v).as_f64();
                acc += u * u;
            });
            u_sq_sum = acc;
            let coef: F = final_coef(alpha, u_sq_sum, n, c.d);
            let (decay, wd) = (F::lit(1.0 - c.lr * c.weight_decay), c.weight_decay != 0.0);
            Zip::from(&mut p).and(&g).and(&*variance).for_each(|p, &g, &v| {
                let pv = if wd { *p * decay } else { *p };
                *p = pv + coef * unfactored(g, v);
            });
        }
        Ok(())
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        same_shape(OP, value.shape(), grad.shape())?;
        if let Some(s) = self.state.get(param.id) {
            s.check(OP, value.shape())?;
        }
        Ok(())
    }

    lr_accessors!();

    fn state_dict(&self) -> StateDict<F> {
        let c = &self.cfg;
        let mut w = Writer::new();
        w.hyper("lr", c.lr).hyper("beta2_decay", c.beta2_decay);
        // `eps.0` is absent for None (machine epsilon).
        if let Some(e) = c.eps1 {
            w.hyper("eps.0", e);
        }
        w.hyper("eps.1", c.eps2)
            .hyper("d", c.d)
            .hyper("weight_decay", c.weight_decay)
            .flag("maximize", c.maximize);
        for (id, s) in self.state.iter() {
            w.step(id, s.step);
            for (name, t) in [("row_var", &s.row_var), ("col_var", &s.col_var), ("variance", &s.variance)] {
                if let Some(t) = t {
                    w.tensor(id, name, t);
                }
            }
        }
        w.finish()
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let op = "Adafactor::load_state_dict";
        let mut r = Reader::new(op, sd);
        let cfg = AdafactorConfig {
            lr: r.hyper("lr")?,
            beta2_decay: r.hyper("beta2_decay")?,
            eps1: r.opt_hyper("eps.0"),
            eps2: r.hyper("eps.1")?,
            d: r.hyper("d")?,
            weight_decay: r.hyper("weight_decay")?,
            maximize: r.flag("maximize")?,
        };
        cfg.validate()?;
        let state = r.states(|r, id| {
            let step = r.step(id)?;
            Ok(match r.opt_tensor(id, "variance") {
                Some(v) => AdafactorState::new(step, None, None, Some(v.clone())),
                None => {
                    let row = r.tensor(id, "row_var")?;
                    let col = r.tensor(id, "col_var")?;
                    let (rs, cs) = (row.shape(), col.shape());
                    let nd = rs.len();
                    let ok = nd >= 2
                        && cs.len() == nd
                        && rs[nd - 1] == 1
                        && cs[nd - 2] == 1
                        && rs[..nd - 2] == cs[..nd - 2];
                    if !ok {
                        return Err(Error::invalid_input(
                            op,
                            format!(
                                "state.{id}: row_var {rs:?} and col_var {cs:?} are not factors of one tensor"
                            ),
                        ));
                    }
                    AdafactorState::new(step, Some(row.clone()), Some(col.clone()), None)
                }
            })
        })?;
        self.cfg = cfg;
        self.state = state;
        Ok(())
    }
}

/// `−α / max(1, ‖U‖/(√n·d))` as F.
fn final_coef<F: Float>(alpha: f64, u_sq_sum: f64, n: usize, d: f64) -> F {
    let ratio = u_sq_sum.sqrt() / ((n as f64).sqrt() * d);
    let denom = if ratio > 1.0 { ratio } else { 1.0 };
    F::lit(-alpha / denom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_hyper_parameters() {
        for (b, name) in [
            (Adafactor::<f64>::builder().lr(-1.0), "lr"),
            (Adafactor::builder().beta2_decay(0.5), "beta2_decay"),
            (Adafactor::builder().eps(Some(-1.0), 1e-3), "eps[0]"),
            (Adafactor::builder().eps(None, -1e-3), "eps[1]"),
            (Adafactor::builder().d(0.5), "d"),
            (Adafactor::builder().weight_decay(-1.0), "weight_decay"),
        ] {
            match b.build() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn first_step_vector_by_hand() {
        // t = 1: β̂ = 0 so V = g²; U = g/|g| = sign(g); ‖U‖/√n = 1 → no clipping;
        // ρ = min(0.01, 1) = 0.01; α = max(1e-3, ‖p‖/√n) · ρ = 1 · 0.01 (p = [1, -1]).
        let mut opt = Adafactor::builder().build().unwrap();
        let mut w = array![1.0f64, -1.0].into_dyn();
        opt.update(Param::new(0, "b"), w.view_mut(), array![0.5, -2.0].into_dyn().view()).unwrap();
        assert!((w[0] - 0.99).abs() < 1e-15 && (w[1] + 0.99).abs() < 1e-15);
    }

    #[test]
    fn wrong_state_kind_is_an_error() {
        let mut opt = Adafactor::<f64>::default();
        let mut v = array![1.0, 2.0].into_dyn();
        opt.update(Param::new(0, "x"), v.view_mut(), array![1.0, 1.0].into_dyn().view()).unwrap();
        let mut m = array![[1.0, 2.0]].into_dyn();
        let e = opt.update(Param::new(0, "x"), m.view_mut(), array![[1.0, 1.0]].into_dyn().view());
        assert!(e.is_err());
        assert_eq!(m, array![[1.0, 2.0]].into_dyn());
    }
}
