//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
//!
//! Call between `backward` and the optimizer's `step`. Each function comes in two forms:
//! on a slice of mutable gradient views, and on a whole model (through
//! [`Module::visit_params`]). [`GradClip`] bundles the choice for a training loop.
//! Nothing allocates: the norm takes one pass over the gradients and the scaling a
//! second.

use std::str::FromStr;

use ndarray::ArrayViewMutD;

use crate::error::{Error, Result};
use crate::model::Module;
use crate::tensor::Float;

/// Which p-norm [`clip_grad_norm`] measures (torch's `norm_type`).
///
/// `‖g‖_p = (Σ |g_i|^p)^(1/p)` over every element of every gradient; `Inf` is `max |g_i|`.
///
/// # Example
///
/// ```
/// use ndtrain::optim::clip::NormType;
///
/// assert_eq!(NormType::from_f64(2.0)?, NormType::L2);
/// assert_eq!(NormType::from_f64(f64::INFINITY)?, NormType::Inf);
/// assert_eq!(NormType::from_f64(3.0)?, NormType::P(3.0));
/// assert!(NormType::from_f64(0.0).is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "norm_type")]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum NormType {
    /// Sum of absolute values.
    L1,
    /// Euclidean norm (torch's default).
    #[default]
    L2,
    /// Largest absolute value.
    Inf,
    /// A general `p > 0`.
    P(f64),
}

impl NormType {
    /// The norm for torch's `norm_type` number: 1, 2, `inf` or any finite `p > 0`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `p <= 0`, NaN or `-inf` (torch's 0 and `-inf`
    /// "norms" are not supported).
    pub fn from_f64(p: f64) -> Result<Self> {
        if p == 1.0 {
            Ok(NormType::L1)
        } else if p == 2.0 {
            Ok(NormType::L2)
        } else if p == f64::INFINITY {
            Ok(NormType::Inf)
        } else {
            let n = NormType::P(p);
            n.validate()?;
            Ok(n)
        }
    }

    /// The `p` of this norm (`inf` for [`NormType::Inf`]).
    pub fn p(self) -> f64 {
        match self {
            NormType::L1 => 1.0,
            NormType::L2 => 2.0,
            NormType::Inf => f64::INFINITY,
            NormType::P(p) => p,
        }
    }

    fn validate(self) -> Result<()> {
        let p = self.p();
        if p > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter { name: "norm_type", value: p, expected: "> 0 (or infinity)" })
        }
    }
}

/// What [`clip_grad_norm`] does when the total norm is NaN or infinite (torch's
/// `error_if_nonfinite`).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::clip::{NormType, OnNonFinite, clip_grad_norm};
///
/// let mut g = array![1.0, f64::NAN].into_dyn();
/// assert!(clip_grad_norm(&mut [g.view_mut()], 1.0, NormType::L2, OnNonFinite::Error).is_err());
/// assert_eq!(g[0], 1.0); // unchanged
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "error_if_nonfinite")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnNonFinite {
    /// Scale anyway, as torch's default `error_if_nonfinite=False`: an infinite norm gives
    /// a coefficient of 0 (finite gradients become 0, infinite ones NaN), a NaN norm makes
    /// every gradient NaN.
    #[default]
    Propagate,
    /// Return [`Error::NonFinite`] and leave the gradients unchanged
    /// (`error_if_nonfinite=True`).
    Error,
}

/// Accumulates the norm's inner sum (or max) of one tensor, in `f64`.
fn accumulate<F: Float>(acc: &mut f64, g: &ArrayViewMutD<'_, F>, norm: NormType) {
    match norm {
        NormType::L1 => g.iter().for_each(|x| *acc += x.as_f64().abs()),
        NormType::L2 => g.iter().for_each(|x| {
            let v = x.as_f64();
            *acc += v * v
        }),
        NormType::Inf => g.iter().for_each(|x| {
            let a = x.as_f64().abs();
            // NaN propagates, as torch's max does.
            if a.is_nan() || a > *acc {
                *acc = a;
            }
        }),
        NormType::P(p) => g.iter().for_each(|x| *acc += x.as_f64().abs().powf(p)),
    }
}

fn finish(acc: f64, norm: NormType) -> f64 {
    match norm {
        NormType::L1 | NormType::Inf => acc,
        NormType::L2 => acc.sqrt(),
        NormType::P(p) => acc.powf(1.0 / p),
    }
}

fn check_max_norm(max_norm: f64, norm: NormType) -> Result<()> {
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::InvalidParameter { name: "max_norm", value: max_norm, expected: ">= 0" });
    }
    norm.validate()
}

/// The scaling coefficient, or an error under `OnNonFinite::Error`.
fn coefficient(total: f64, max_norm: f64, on_nonfinite: OnNonFinite, op: &'static str) -> Result<f64> {
    if on_nonfinite == OnNonFinite::Error && !total.is_finite() {
        return Err(Error::NonFinite {
            op,
            what: "total norm of the gradients",
            value: total,
            index: vec![],
        });
    }
    let coef = max_norm / (total + 1e-6);
    // torch.clamp(coef, max=1) keeps NaN; f64::min would drop it.
    Ok(if coef.is_nan() { coef } else { coef.min(1.0) })
}

fn scale<F: Float>(g: &mut ArrayViewMutD<'_, F>, c: F) {
    g.mapv_inplace(|x| x * c);
}

/// Rescales the gradients so that their total norm is at most `max_norm`, and returns the
/// total norm before clipping.
///
/// ```text
/// total = ‖(‖g_1‖_p, …, ‖g_k‖_p)‖_p        (= max |g| for p = ∞)
/// coef  = min(max_norm / (total + 1e-6), 1)
/// g_i  ← coef · g_i                         for every gradient
/// ```
///
/// As in torch, the coefficient is applied even when it is 1 (a no-op, which this
/// function skips) and when the norm is not finite (see [`OnNonFinite`]). The norm and the
/// coefficient are computed in `f64` for `f32` gradients too (torch computes them in the
/// gradients' dtype).
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `max_norm` | required | `>= 0` (may be `inf`) |
/// | `norm_type` | `L2` | [`NormType`], `p > 0` |
/// | `error_if_nonfinite` | `Propagate` | [`OnNonFinite`] |
///
/// # Errors
/// [`Error::InvalidParameter`] for a negative or NaN `max_norm` or an invalid
/// `P(p)`; [`Error::NonFinite`] under [`OnNonFinite::Error`] when the total norm is NaN
/// or infinite. The gradients are unchanged on error.
///
/// Reference: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
/// networks", ICML 2013; PyTorch `torch.nn.utils.clip_grad_norm_`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::clip::{NormType, OnNonFinite, clip_grad_norm};
///
/// let mut w = array![[3.0, 0.0], [0.0, 0.0]].into_dyn();
/// let mut b = array![4.0f64].into_dyn();
/// let mut grads = [w.view_mut(), b.view_mut()];
/// let total = clip_grad_norm(&mut grads, 1.0, NormType::L2, OnNonFinite::Propagate)?;
/// assert_eq!(total, 5.0);
/// assert!((b[0] - 0.8).abs() < 1e-6); // 4 * 1 / (5 + 1e-6)
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "clip_grad_norm_")]
pub fn clip_grad_norm<F: Float>(
    grads: &mut [ArrayViewMutD<'_, F>],
    max_norm: f64,
    norm_type: NormType,
    on_nonfinite: OnNonFinite,
) -> Result<f64> {
    check_max_norm(max_norm, norm_type)?;
    let mut acc = 0.0;
    for g in grads.iter() {
        accumulate(&mut acc, g, norm_type);
    }
    let total = finish(acc, norm_type);
    let coef = coefficient(total, max_norm, on_nonfinite, "clip_grad_norm")?;
    // x * 1 == x for every float, so a coefficient of exactly 1 needs no pass.
    if coef != 1.0 {
        let c = F::lit(coef);
        grads.iter_mut().for_each(|g| scale(g, c));
    }
    Ok(total)
}

/// [`clip_grad_norm`] over every parameter gradient of `model` (the gradients its last
/// `backward` stored), visited with [`Module::visit_params`].
///
/// # Errors
/// As [`clip_grad_norm`], plus any error of the model's `visit_params`.
///
/// # Example
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use ndtrain::model::ParamVisitor;
/// use ndtrain::optim::clip::{NormType, OnNonFinite, clip_grad_norm_model};
/// use ndtrain::prelude::*;
///
/// struct Two { w: ArrayD<f64>, g: ArrayD<f64> }
/// impl Module<f64> for Two {
///     fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
///         f(Param::new(0, "w"), self.w.view_mut(), self.g.view_mut())
///     }
/// }
///
/// let mut m = Two { w: ArrayD::zeros(IxDyn(&[2])), g: ndarray::array![-6.0, 8.0].into_dyn() };
/// let total = clip_grad_norm_model(&mut m, 5.0, NormType::Inf, OnNonFinite::Propagate)?;
/// assert_eq!(total, 8.0);
/// assert!((m.g[1] - 5.0).abs() < 1e-6);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "clip_grad_norm_")]
pub fn clip_grad_norm_model<F: Float>(
    model: &mut dyn Module<F>,
    max_norm: f64,
    norm_type: NormType,
    on_nonfinite: OnNonFinite,
) -> Result<f64> {
    check_max_norm(max_norm, norm_type)?;
    let mut acc = 0.0;
    model.visit_params(&mut |_, _, g| {
        accumulate(&mut acc, &g, norm_type);
        Ok(())
    })?;
    let total = finish(acc, norm_type);
    let coef = coefficient(total, max_norm, on_nonfinite, "clip_grad_norm_model")?;
    if coef != 1.0 {
        let c = F::lit(coef);
        model.visit_params(&mut |_, _, mut g| {
            scale(&mut g, c);
            Ok(())
        })?;
    }
    Ok(total)
}

fn check_clip_value(clip_value: f64) -> Result<()> {
    if clip_value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name: "clip_value", value: clip_value, expected: ">= 0" })
    }
}

fn clamp<F: Float>(g: &mut ArrayViewMutD<'_, F>, c: F) {
    let lo = -c;
    g.mapv_inplace(|x| {
        if x > c {
            c
        } else if x < lo {
            lo
        } else {
            x // NaN stays NaN, as torch.clamp
        }
    });
}

/// Clamps every gradient element to `[-clip_value, clip_value]`.
///
/// `g_i ← min(max(g_i, −c), c)`; NaN stays NaN, as with `torch.clamp`.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `clip_value` | required | `>= 0` (may be `inf`) |
///
/// # Errors
/// [`Error::InvalidParameter`] for a negative or NaN `clip_value` (torch would clamp
/// everything to the negative value); the gradients are unchanged.
///
/// Reference: PyTorch `torch.nn.utils.clip_grad_value_`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::clip::clip_grad_value;
///
/// let mut g = array![-3.0f32, 0.25, 2.0].into_dyn();
/// clip_grad_value(&mut [g.view_mut()], 0.5)?;
/// assert_eq!(g, array![-0.5f32, 0.25, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "clip_grad_value_")]
pub fn clip_grad_value<F: Float>(grads: &mut [ArrayViewMutD<'_, F>], clip_value: f64) -> Result<()> {
    check_clip_value(clip_value)?;
    let c = F::lit(clip_value);
    grads.iter_mut().for_each(|g| clamp(g, c));
    Ok(())
}

/// [`clip_grad_value`] over every parameter gradient of `model`.
///
/// # Errors
/// As [`clip_grad_value`], plus any error of the model's `visit_params`.
///
/// # Example
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use ndtrain::model::ParamVisitor;
/// use ndtrain::optim::clip::clip_grad_value_model;
/// use ndtrain::prelude::*;
///
/// struct One { w: ArrayD<f64>, g: ArrayD<f64> }
/// impl Module<f64> for One {
///     fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
///         f(Param::new(0, "w"), self.w.view_mut(), self.g.view_mut())
///     }
/// }
///
/// let mut m = One { w: ArrayD::zeros(IxDyn(&[2])), g: ndarray::array![-6.0, 0.5].into_dyn() };
/// clip_grad_value_model(&mut m, 1.0)?;
/// assert_eq!(m.g, ndarray::array![-1.0, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "clip_grad_value_")]
pub fn clip_grad_value_model<F: Float>(model: &mut dyn Module<F>, clip_value: f64) -> Result<()> {
    check_clip_value(clip_value)?;
    let c = F::lit(clip_value);
    model.visit_params(&mut |_, _, mut g| {
        clamp(&mut g, c);
        Ok(())
    })
}

impl FromStr for NormType {
    type Err = Error;

    /// Parses `"1"`, `"2"`, `"inf"` / `"Infinity"` or any number `p > 0`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for text that is not a number; as
    /// [`NormType::from_f64`] otherwise.
    fn from_str(s: &str) -> Result<Self> {
        let p = match s {
            "inf" | "Infinity" => f64::INFINITY,
            _ => s
                .parse::<f64>()
                .map_err(|_| Error::invalid_config(format!("norm_type {s:?} is not a number")))?,
        };
        NormType::from_f64(p)
    }
}

/// Gradient clipping for a training loop: by total norm or by value.
///
/// | variant | torch |
/// | --- | --- |
/// | `Norm { max_norm, norm_type, on_nonfinite }` | `clip_grad_norm_(params, max_norm, norm_type, error_if_nonfinite)` |
/// | `Value(clip_value)` | `clip_grad_value_(params, clip_value)` |
///
/// # Errors
/// [`GradClip::validate`] (call it when the option is set) and the `apply` methods return
/// the errors of [`clip_grad_norm`] / [`clip_grad_value`].
///
/// Reference: PyTorch `torch.nn.utils.clip_grad_norm_`, `clip_grad_value_`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::clip::GradClip;
///
/// let clip = GradClip::norm(1.0);
/// clip.validate()?;
/// let mut g = array![0.0f64, 3.0, 4.0].into_dyn();
/// let total = clip.apply(&mut [g.view_mut()])?;
/// assert_eq!(total, Some(5.0));
/// assert!((g[2] - 0.8).abs() < 1e-6);
///
/// assert_eq!(GradClip::value(0.5).apply(&mut [g.view_mut()])?, None);
/// assert!(GradClip::value(-1.0).validate().is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GradClip {
    /// Rescale so the total `norm_type` norm is at most `max_norm`.
    Norm {
        /// Largest total norm allowed.
        max_norm: f64,
        /// The norm measured.
        norm_type: NormType,
        /// What to do with a NaN or infinite total norm.
        on_nonfinite: OnNonFinite,
    },
    /// Clamp each element to `[-c, c]`.
    Value(f64),
}

impl GradClip {
    /// Clip the total L2 norm to `max_norm` (torch's defaults otherwise).
    pub const fn norm(max_norm: f64) -> Self {
        GradClip::Norm { max_norm, norm_type: NormType::L2, on_nonfinite: OnNonFinite::Propagate }
    }

    /// Clamp every element to `[-clip_value, clip_value]`.
    pub const fn value(clip_value: f64) -> Self {
        GradClip::Value(clip_value)
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `max_norm`, `norm_type` or `clip_value`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            GradClip::Norm { max_norm, norm_type, .. } => check_max_norm(max_norm, norm_type),
            GradClip::Value(c) => check_clip_value(c),
        }
    }

    /// Clips `grads`; returns the total norm before clipping for `Norm`, `None` for
    /// `Value`.
    ///
    /// # Errors
    /// As [`clip_grad_norm`] / [`clip_grad_value`].
    pub fn apply<F: Float>(&self, grads: &mut [ArrayViewMutD<'_, F>]) -> Result<Option<f64>> {
        match *self {
            GradClip::Norm { max_norm, norm_type, on_nonfinite } => {
                clip_grad_norm(grads, max_norm, norm_type, on_nonfinite).map(Some)
            }
            GradClip::Value(c) => clip_grad_value(grads, c).map(|()| None),
        }
    }

    /// Clips every parameter gradient of `model`; returns the total norm before clipping
    /// for `Norm`, `None` for `Value`.
    ///
    /// # Errors
    /// As [`clip_grad_norm_model`] / [`clip_grad_value_model`].
    pub fn apply_model<F: Float>(&self, model: &mut dyn Module<F>) -> Result<Option<f64>> {
        match *self {
            GradClip::Norm { max_norm, norm_type, on_nonfinite } => {
                clip_grad_norm_model(model, max_norm, norm_type, on_nonfinite).map(Some)
            }
            GradClip::Value(c) => clip_grad_value_model(model, c).map(|()| None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParamVisitor;
    use crate::tensor::Param;
    use ndarray::{ArrayD, IxDyn, array};

    struct TwoTensors<F> {
        w: [ArrayD<F>; 2],
        g: [ArrayD<F>; 2],
    }

    impl<F: Float> Module<F> for TwoTensors<F> {
        fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
            let [w0, w1] = &mut self.w;
            let [g0, g1] = &mut self.g;
            f(Param::new(0, "weight"), w0.view_mut(), g0.view_mut())?;
            f(Param::new(1, "bias"), w1.view_mut(), g1.view_mut())
        }
    }

    fn model<F: Float>(g0: ArrayD<F>, g1: ArrayD<F>) -> TwoTensors<F> {
        TwoTensors { w: [ArrayD::zeros(g0.raw_dim()), ArrayD::zeros(g1.raw_dim())], g: [g0, g1] }
    }

    #[test]
    fn invalid_parameters() {
        let mut g = array![1.0].into_dyn();
        for m in [-1.0, f64::NAN] {
            assert!(matches!(
                clip_grad_norm(&mut [g.view_mut()], m, NormType::L2, OnNonFinite::Propagate),
                Err(Error::InvalidParameter { name: "max_norm", .. })
            ));
        }
        for p in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert!(matches!(NormType::from_f64(p), Err(Error::InvalidParameter { name: "norm_type", .. })));
            assert!(matches!(
                clip_grad_norm(&mut [g.view_mut()], 1.0, NormType::P(p), OnNonFinite::Propagate),
                Err(Error::InvalidParameter { name: "norm_type", .. })
            ));
        }
        for c in [-0.1, f64::NAN] {
            assert!(matches!(
                clip_grad_value(&mut [g.view_mut()], c),
                Err(Error::InvalidParameter { name: "clip_value", .. })
            ));
            assert!(GradClip::value(c).validate().is_err());
        }
        assert_eq!(g[0], 1.0);
        assert!(matches!("two".parse::<NormType>(), Err(Error::InvalidConfig(_))));
        assert_eq!("Infinity".parse::<NormType>().unwrap(), NormType::Inf);
    }

    #[test]
    fn norm_returned_and_direction_preserved() {
        // grads (1, 2) and (2): L2 total 3; max_norm 1.5 -> coef 1.5 / (3 + 1e-6), direction kept.
        let mut a = array![1.0f64, 2.0].into_dyn();
        let mut b = array![[2.0]].into_dyn();
        let total =
            clip_grad_norm(&mut [a.view_mut(), b.view_mut()], 1.5, NormType::L2, OnNonFinite::Propagate)
                .unwrap();
        assert_eq!(total, 3.0);
        let c = 1.5 / (3.0 + 1e-6);
        assert_eq!(a, array![c, 2.0 * c].into_dyn());
        assert_eq!(b[[0, 0]], 2.0 * c);
        assert!((a[1] / a[0] - 2.0).abs() < 1e-15);
        // L1 total 5 and p = 3 total (1 + 8 + 8)^(1/3) = 17^(1/3), on the unclipped values.
        let mut a = array![1.0, -2.0].into_dyn();
        let mut b = array![2.0].into_dyn();
        let t1 =
            clip_grad_norm(&mut [a.view_mut(), b.view_mut()], 10.0, NormType::L1, OnNonFinite::Propagate)
                .unwrap();
        assert_eq!(t1, 5.0);
        assert_eq!(a, array![1.0, -2.0].into_dyn()); // below max_norm: unchanged
        let t3 =
            clip_grad_norm(&mut [a.view_mut(), b.view_mut()], 10.0, NormType::P(3.0), OnNonFinite::Propagate)
                .unwrap();
        assert!((t3 - 17f64.cbrt()).abs() < 1e-15);
    }

    #[test]
    fn inf_norm_and_empty() {
        // max |g| = 8 over both tensors; max_norm 2 -> coef 2 / (8 + 1e-6).
        let mut m = model(array![[-8.0f32, 1.0]].into_dyn(), array![3.0f32].into_dyn());
        let t = clip_grad_norm_model(&mut m, 2.0, NormType::Inf, OnNonFinite::Propagate).unwrap();
        assert_eq!(t, 8.0);
        assert!((m.g[0][[0, 0]] + 2.0).abs() < 1e-5);
        assert!((m.g[1][0] - 0.75).abs() < 1e-5);
        let mut none: [ArrayViewMutD<'_, f64>; 0] = [];
        assert_eq!(clip_grad_norm(&mut none, 1.0, NormType::L2, OnNonFinite::Error).unwrap(), 0.0);
    }

    #[test]
    fn nonfinite_error_leaves_grads_unchanged() {
        let g0 = array![1.0, f64::INFINITY].into_dyn();
        let g1 = array![f64::NAN].into_dyn();
        let mut m = model(g0.clone(), array![2.0].into_dyn());
        match clip_grad_norm_model(&mut m, 1.0, NormType::L2, OnNonFinite::Error) {
            Err(Error::NonFinite { value, .. }) => assert_eq!(value, f64::INFINITY),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(m.g[0], g0);
        assert_eq!(m.g[1], array![2.0].into_dyn());
        // Propagate: coef = 1 / inf = 0: finite -> 0, inf -> NaN (torch's inf * 0).
        let t = clip_grad_norm_model(&mut m, 1.0, NormType::L2, OnNonFinite::Propagate).unwrap();
        assert_eq!(t, f64::INFINITY);
        assert_eq!(m.g[0][0], 0.0);
        assert!(m.g[0][1].is_nan());
        // A NaN anywhere makes the norm (also the inf-norm) NaN and every gradient NaN.
        let mut a = array![5.0].into_dyn();
        let mut b = g1.clone();
        let t = clip_grad_norm(&mut [a.view_mut(), b.view_mut()], 1.0, NormType::Inf, OnNonFinite::Propagate)
            .unwrap();
        assert!(t.is_nan() && a[0].is_nan());
    }

    #[test]
    fn value_clipping_f32_and_f64_and_grad_clip_enum() {
        let mut m = model(array![[-3.0f32, 0.2], [0.7, f32::NAN]].into_dyn(), array![0.5f32].into_dyn());
        assert_eq!(GradClip::value(0.5).apply_model(&mut m).unwrap(), None);
        assert_eq!(m.g[0][[0, 0]], -0.5);
        assert_eq!(m.g[0][[0, 1]], 0.2);
        assert_eq!(m.g[0][[1, 0]], 0.5);
        assert!(m.g[0][[1, 1]].is_nan());
        let mut m = model(array![3.0f64, 4.0].into_dyn(), ArrayD::zeros(IxDyn(&[])));
        let clip =
            GradClip::Norm { max_norm: 10.0, norm_type: NormType::L2, on_nonfinite: OnNonFinite::Error };
        assert_eq!(clip.apply_model(&mut m).unwrap(), Some(5.0));
        assert_eq!(m.g[0], array![3.0, 4.0].into_dyn());
    }

    #[test]
    fn types_are_send_sync() {
        fn ok<T: Send + Sync>() {}
        ok::<GradClip>();
        ok::<NormType>();
        ok::<OnNonFinite>();
    }
}
