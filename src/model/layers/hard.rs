//! Piecewise-linear activations: [`Hardtanh`], [`Relu6`], [`Hardsigmoid`] and
//! [`Hardswish`].
//!
//! At the kinks they take PyTorch's one-sided derivatives (aten's backward kernels),
//! listed in each type's docs, so gradients agree with PyTorch exactly, not only
//! almost everywhere.

use ndarray::ArrayViewD;

use super::{Elementwise, parameter_free_layer};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::tensor::Float;

/// Hard tanh, `y = clamp(x, min_val, max_val)` (PyTorch `nn.Hardtanh`).
///
/// Backward: `dL/dx = dL/dy` where `min_val < x < max_val`, 0 elsewhere (0 *at* both
/// boundaries, as PyTorch's `hardtanh_backward`). The output is enough to tell (the
/// clamp is monotone), so the input is not kept.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `min_val` | −1.0 | not NaN |
/// | `max_val` | 1.0 | not NaN, `> min_val` |
///
/// # Errors
/// [`Hardtanh::new`]: [`Error::InvalidParameter`] for a NaN bound (`"min_val"`,
/// `"max_val"`) or `max_val <= min_val` (`"max_val"`; PyTorch asserts the same).
/// `backward`/`backward_input`: [`Error::InvalidInput`] without a preceding recording
/// forward ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] when
/// `grad_out` does not have the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Hardtanh;
/// use ndtrain::prelude::*;
///
/// let mut ht = Hardtanh::<f64>::default();
/// let y = ht.forward(array![[-2.0, -1.0, 0.5, 1.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[-1.0, -1.0, 0.5, 1.0]].into_dyn());
/// let dx = ht.backward_input(array![[1.0, 1.0, 1.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx, array![[0.0, 0.0, 1.0, 0.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Hardtanh")]
#[derive(Clone, Debug)]
pub struct Hardtanh<F> {
    min_val: F,
    max_val: F,
    core: Elementwise<F>,
}

impl<F: Float> Default for Hardtanh<F> {
    /// PyTorch's defaults, `[-1, 1]`.
    fn default() -> Self {
        Hardtanh { min_val: -F::one(), max_val: F::one(), core: Elementwise::default() }
    }
}

/// `clamp` that propagates NaN (as `torch.clamp`).
#[inline]
fn clamp<F: Float>(v: F, lo: F, hi: F) -> F {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// `g` strictly inside `(lo, hi)` (judged on the clamped output), 0 at and beyond the
/// bounds; a NaN passes `g` through, as PyTorch's `hardtanh_backward`.
#[inline]
fn inside<F: Float>(g: F, y: F, lo: F, hi: F) -> F {
    if y <= lo || y >= hi { F::zero() } else { g }
}

impl<F: Float> Hardtanh<F> {
    /// A hard tanh clamping to `[min_val, max_val]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a NaN bound or `max_val <= min_val`.
    pub fn new(min_val: f64, max_val: f64) -> Result<Self> {
        if min_val.is_nan() {
            return Err(Error::InvalidParameter { name: "min_val", value: min_val, expected: "not NaN" });
        }
        if max_val.is_nan() || max_val <= min_val {
            return Err(Error::InvalidParameter { name: "max_val", value: max_val, expected: "> min_val" });
        }
        Ok(Hardtanh { min_val: F::lit(min_val), max_val: F::lit(max_val), core: Elementwise::default() })
    }

    /// The lower bound.
    pub fn min_val(&self) -> F {
        self.min_val
    }

    /// The upper bound.
    pub fn max_val(&self) -> F {
        self.max_val
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (lo, hi) = (self.min_val, self.max_val);
        Ok(self.core.forward(x, mode, false, |v| clamp(v, lo, hi)))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (lo, hi) = (self.min_val, self.max_val);
        self.core.backward_input("Hardtanh::backward_input", g, false, |g, y| inside(g, y, lo, hi))
    }
}
parameter_free_layer!(Hardtanh, "Hardtanh::backward");

/// ReLU capped at 6, `y = min(max(x, 0), 6)` (PyTorch `nn.ReLU6`, which is
/// `hardtanh(x, 0, 6)`).
///
/// Backward: `dL/dx = dL/dy` for `0 < x < 6`, 0 elsewhere, including at 0 and 6.
/// No hyper-parameters.
///
/// # Errors
/// Backward as for [`Hardtanh`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Relu6;
/// use ndtrain::prelude::*;
///
/// let mut r6 = Relu6::<f64>::new();
/// let y = r6.forward(array![[-1.0, 3.0, 6.0, 9.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[0.0, 3.0, 6.0, 6.0]].into_dyn());
/// let dx = r6.backward_input(array![[1.0, 1.0, 1.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx, array![[0.0, 1.0, 0.0, 0.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ReLU6")]
#[doc(alias = "nn.ReLU6")]
#[derive(Clone, Debug)]
pub struct Relu6<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Relu6<F> {
    fn default() -> Self {
        Relu6 { core: Elementwise::default() }
    }
}

impl<F: Float> Relu6<F> {
    /// A ReLU6 layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (lo, hi) = (F::zero(), F::lit(6.0));
        Ok(self.core.forward(x, mode, false, |v| clamp(v, lo, hi)))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (lo, hi) = (F::zero(), F::lit(6.0));
        self.core.backward_input("Relu6::backward_input", g, false, |g, y| inside(g, y, lo, hi))
    }
}
parameter_free_layer!(Relu6, "Relu6::backward");

/// Hard sigmoid, `y = min(max(x + 3, 0), 6) / 6` (PyTorch `nn.Hardsigmoid`; Howard et
/// al., "Searching for MobileNetV3", 2019).
///
/// Backward: `dL/dx = dL/dy / 6` for `−3 < x < 3`, 0 elsewhere (0 at ±3, as aten's
/// `hardsigmoid_backward`). No hyper-parameters.
///
/// As in aten, the backward factor `1/6` is rounded to `f32` (`0.16666667163…`) also
/// for `f64`: gradients match PyTorch's exactly, and differ from the exact `1/6` by a
/// relative 3e-8.
///
/// # Errors
/// Backward as for [`Hardtanh`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Hardsigmoid;
/// use ndtrain::prelude::*;
///
/// let mut hs = Hardsigmoid::<f64>::new();
/// let y = hs.forward(array![[-4.0, 0.0, 1.5, 3.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[0.0, 0.5, 0.75, 1.0]].into_dyn());
/// let dx = hs.backward_input(array![[6.0, 6.0, 6.0, 6.0]].into_dyn().view())?;
/// assert_eq!((dx[[0, 0]], dx[[0, 3]]), (0.0, 0.0)); // outside and at ±3
/// assert!((dx[[0, 1]] - 1.0).abs() < 1e-7);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Hardsigmoid")]
#[derive(Clone, Debug)]
pub struct Hardsigmoid<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Hardsigmoid<F> {
    fn default() -> Self {
        Hardsigmoid { core: Elementwise::default() }
    }
}

impl<F: Float> Hardsigmoid<F> {
    /// A hard-sigmoid layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, three, six) = (F::zero(), F::lit(3.0), F::lit(6.0));
        // The input is kept: near ±3, `x + 3` rounds, and the output could no longer
        // tell whether x was strictly inside.
        Ok(self.core.forward(x, mode, true, |v| clamp(v + three, zero, six) / six))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, three) = (F::zero(), F::lit(3.0));
        // aten multiplies by `scalar_t(1.0f / 6.0f)`: 1/6 rounded to f32 even for
        // doubles. Kept for bit-level parity with PyTorch (relative difference 3e-8).
        let sixth = F::lit(f64::from(1.0f32 / 6.0f32));
        self.core.backward_input("Hardsigmoid::backward_input", g, true, |g, x| {
            if x > -three && x < three { g * sixth } else { zero }
        })
    }
}
parameter_free_layer!(Hardsigmoid, "Hardsigmoid::backward");

/// Hard swish, `y = x · min(max(x + 3, 0), 6) / 6` (PyTorch `nn.Hardswish`; Howard et
/// al., "Searching for MobileNetV3", 2019).
///
/// Backward: `dL/dx = 0` for `x < −3`, `dL/dy · (x/3 + ½)` for `−3 ≤ x < 3`, `dL/dy`
/// for `x ≥ 3`. No hyper-parameters.
///
/// At `x = 3` aten's scalar and vectorised kernels disagree (`1.5·g` and `g`); ndtrain
/// follows the vectorised one, which computes all but a tensor's last few elements.
///
/// # Errors
/// Backward as for [`Hardtanh`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Hardswish;
/// use ndtrain::prelude::*;
///
/// let mut hs = Hardswish::<f64>::new();
/// let y = hs.forward(array![[-4.0, -3.0, 1.5, 3.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[-0.0, -0.0, 1.125, 3.0]].into_dyn());
/// let dx = hs.backward_input(array![[1.0, 1.0, 1.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx, array![[0.0, -0.5, 1.0, 1.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Hardswish")]
#[derive(Clone, Debug)]
pub struct Hardswish<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Hardswish<F> {
    fn default() -> Self {
        Hardswish { core: Elementwise::default() }
    }
}

impl<F: Float> Hardswish<F> {
    /// A hard-swish layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, three, six) = (F::zero(), F::lit(3.0), F::lit(6.0));
        Ok(self.core.forward(x, mode, true, |v| v * clamp(v + three, zero, six) / six))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, three, half) = (F::zero(), F::lit(3.0), F::lit(0.5));
        self.core.backward_input("Hardswish::backward_input", g, true, |g, x| {
            if x < -three {
                zero
            } else if x >= three {
                g
            } else {
                g * (x / three + half)
            }
        })
    }
}
parameter_free_layer!(Hardswish, "Hardswish::backward");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use ndarray::{ArrayD, IxDyn};

    fn eval<L: Layer<f64>>(layer: &mut L, xs: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let x = ArrayD::from_shape_vec(IxDyn(&[xs.len()]), xs.to_vec()).unwrap();
        let y = layer.forward(x.view(), Mode::Train).unwrap().iter().copied().collect();
        let g = ArrayD::from_elem(IxDyn(&[xs.len()]), 1.0);
        let d = layer.backward_input(g.view()).unwrap().iter().copied().collect();
        (y, d)
    }

    /// Values and PyTorch's derivatives at and around every kink (aten's
    /// `hardtanh_backward`, `hardsigmoid_backward`, vectorised `hardswish_backward`).
    #[test]
    fn kinks_follow_aten() {
        let xs = [-3.5, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 7.0];
        let (y, d) = eval(&mut Hardtanh::default(), &xs);
        assert_eq!(y, [-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(d, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        let (y, d) = eval(&mut Hardtanh::new(-3.0, 6.0).unwrap(), &xs);
        assert_eq!(y, [-3.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 6.0]);
        assert_eq!(d, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        let (y, d) = eval(&mut Relu6::new(), &xs);
        assert_eq!(y, [0.0, 0.0, 0.0, 0.0, 1.0, 3.0, 6.0, 6.0]);
        assert_eq!(d, [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        // Hardsigmoid: (x + 3)/6 inside; gradient 1/6 (f32-rounded, as aten) strictly inside.
        let sixth = f64::from(1.0f32 / 6.0);
        let (y, d) = eval(&mut Hardsigmoid::new(), &xs);
        assert_eq!(y, [0.0, 0.0, 2.0 / 6.0, 0.5, 4.0 / 6.0, 1.0, 1.0, 1.0]);
        assert_eq!(d, [0.0, 0.0, sixth, sixth, sixth, 0.0, 0.0, 0.0]);
        // Hardswish: x(x + 3)/6 inside; gradient x/3 + 1/2 on [-3, 3), 1 from 3 on.
        let (y, d) = eval(&mut Hardswish::new(), &xs);
        assert_eq!(y, [0.0, 0.0, -1.0 / 3.0, 0.0, 4.0 / 6.0, 3.0, 6.0, 7.0]);
        assert_eq!(d, [0.0, -0.5, -1.0 / 3.0 + 0.5, 0.5, 1.0 / 3.0 + 0.5, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn nan_propagates_as_in_torch() {
        for mut layer in [
            Box::new(Hardtanh::<f64>::default()) as Box<dyn Layer<f64>>,
            Box::new(Relu6::new()),
            Box::new(Hardsigmoid::new()),
            Box::new(Hardswish::new()),
        ] {
            let (y, _) = eval(&mut layer, &[f64::NAN]);
            assert!(y[0].is_nan());
        }
        // hardtanh_backward passes the gradient through for NaN (neither bound test holds).
        let (_, d) = eval(&mut Hardtanh::default(), &[f64::NAN]);
        assert_eq!(d, [1.0]);
    }

    #[test]
    fn invalid_bounds() {
        for (lo, hi, name) in [
            (1.0, 1.0, "max_val"),
            (2.0, 1.0, "max_val"),
            (f64::NAN, 1.0, "min_val"),
            (0.0, f64::NAN, "max_val"),
        ] {
            match Hardtanh::<f64>::new(lo, hi) {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{lo} {hi}: {other:?}"),
            }
        }
        let ht = Hardtanh::<f32>::new(f64::NEG_INFINITY, 0.0).unwrap();
        assert_eq!((ht.min_val(), ht.max_val()), (f32::NEG_INFINITY, 0.0));
        assert_eq!(Hardtanh::<f32>::default().min_val(), -1.0);
    }
}
