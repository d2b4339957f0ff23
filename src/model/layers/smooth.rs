//! Smooth element-wise activations: [`Elu`], [`Selu`], [`Celu`], [`Silu`], [`Mish`],
//! [`Softplus`], [`LogSigmoid`] and [`Softsign`].
//!
//! Each keeps a copy of its input for the backward pass (the derivatives are functions
//! of `x`, and computing them from the output would lose relative accuracy in the
//! tails, e.g. ELU's `y + α` for `x ≪ 0`).

use ndarray::ArrayViewD;

use super::{Elementwise, parameter_free_layer};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::tensor::Float;

/// `σ(x) = 1 / (1 + e^(−x))` without overflow.
#[inline]
fn sigmoid<F: Float>(x: F) -> F {
    let one = F::one();
    if x >= F::zero() {
        one / (one + (-x).exp())
    } else {
        let e = x.exp();
        e / (one + e)
    }
}

/// `ln(1 + e^x)` without overflow: `max(x, 0) + ln(1 + e^(−|x|))`.
#[inline]
fn softplus<F: Float>(x: F) -> F {
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() { Ok(()) } else { Err(Error::InvalidParameter { name, value: v, expected: "finite" }) }
}

/// Exponential linear unit (PyTorch `nn.ELU`; Clevert et al., "Fast and Accurate Deep
/// Network Learning by Exponential Linear Units (ELUs)", 2015).
///
/// `y = x` for `x > 0`, `α·(eˣ − 1)` for `x ≤ 0`.
/// Backward: `dL/dx = dL/dy` for `x > 0`, `dL/dy · α·eˣ` for `x ≤ 0` (at 0: `α`, as
/// PyTorch).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `alpha` | 1.0 | finite |
///
/// `eˣ − 1` is evaluated as `expm1(x)` (PyTorch writes `exp(x) − 1`; the two agree to
/// rounding, `expm1` keeps relative accuracy near 0).
///
/// # Errors
/// [`Elu::new`]: [`Error::InvalidParameter`] (`"alpha"`) when `alpha` is not finite.
/// `backward`/`backward_input`: [`Error::InvalidInput`] without a preceding recording
/// forward ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] when
/// `grad_out` does not have the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Elu;
/// use ndtrain::prelude::*;
///
/// let mut elu = Elu::<f64>::new(1.0)?;
/// let y = elu.forward(array![[-1.0, 2.0]].into_dyn().view(), Mode::Train)?;
/// assert!((y[[0, 0]] - (-1f64).exp_m1()).abs() < 1e-16);
/// let dx = elu.backward_input(array![[1.0, 1.0]].into_dyn().view())?;
/// assert!((dx[[0, 0]] - (-1f64).exp()).abs() < 1e-16);
/// assert_eq!(dx[[0, 1]], 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ELU")]
#[doc(alias = "nn.ELU")]
#[derive(Clone, Debug)]
pub struct Elu<F> {
    alpha: F,
    core: Elementwise<F>,
}

impl<F: Float> Default for Elu<F> {
    /// PyTorch's default, `alpha = 1`.
    fn default() -> Self {
        Elu { alpha: F::one(), core: Elementwise::default() }
    }
}

impl<F: Float> Elu<F> {
    /// An ELU with the given `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"alpha"`) when it is not finite.
    pub fn new(alpha: f64) -> Result<Self> {
        finite("alpha", alpha)?;
        Ok(Elu { alpha: F::lit(alpha), core: Elementwise::default() })
    }

    /// The scale of the negative part.
    pub fn alpha(&self) -> F {
        self.alpha
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, a) = (F::zero(), self.alpha);
        Ok(self.core.forward(x, mode, true, |v| if v > zero { v } else { a * v.exp_m1() }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, a) = (F::zero(), self.alpha);
        self.core.backward_input(
            "Elu::backward_input",
            g,
            true,
            |g, x| if x > zero { g } else { g * a * x.exp() },
        )
    }
}
parameter_free_layer!(Elu, "Elu::backward");

/// SELU's `α` (Klambauer et al. 2017), as PyTorch's `nn.SELU`.
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `λ` (scale).
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// Scaled exponential linear unit (PyTorch `nn.SELU`; Klambauer et al.,
/// "Self-Normalizing Neural Networks", 2017).
///
/// `y = λ·x` for `x > 0`, `λ·α·(eˣ − 1)` for `x ≤ 0`, with
/// `α = 1.6732632423543772848…` and `λ = 1.0507009873554804934…`.
/// Backward: `dL/dx = dL/dy · λ` for `x > 0`, `dL/dy · λ·α·eˣ` for `x ≤ 0`.
/// No hyper-parameters.
///
/// # Errors
/// Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Selu;
/// use ndtrain::prelude::*;
///
/// let mut selu = Selu::<f64>::new();
/// let y = selu.forward(array![[1.0, -50.0]].into_dyn().view(), Mode::Eval)?;
/// assert!((y[[0, 0]] - 1.0507009873554805).abs() < 1e-15);
/// assert!((y[[0, 1]] + 1.7580993408473766).abs() < 1e-15); // −λα
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "SELU")]
#[doc(alias = "nn.SELU")]
#[derive(Clone, Debug)]
pub struct Selu<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Selu<F> {
    fn default() -> Self {
        Selu { core: Elementwise::default() }
    }
}

impl<F: Float> Selu<F> {
    /// A SELU layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, s) = (F::zero(), F::lit(SELU_SCALE));
        // PyTorch multiplies by the product α·λ rounded once.
        let sa = F::lit(SELU_ALPHA) * s;
        Ok(self.core.forward(x, mode, true, |v| if v > zero { v * s } else { v.exp_m1() * sa }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, s) = (F::zero(), F::lit(SELU_SCALE));
        let sa = F::lit(SELU_ALPHA) * s;
        self.core.backward_input("Selu::backward_input", g, true, |g, x| {
            if x > zero { g * s } else { g * sa * x.exp() }
        })
    }
}
parameter_free_layer!(Selu, "Selu::backward");

/// Continuously differentiable exponential linear unit (PyTorch `nn.CELU`; Barron,
/// "Continuously Differentiable Exponential Linear Units", 2017).
///
/// `y = x` for `x > 0`, `α·(e^(x/α) − 1)` for `x ≤ 0`.
/// Backward: `dL/dx = dL/dy` for `x > 0`, `dL/dy · e^(x/α)` for `x ≤ 0`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `alpha` | 1.0 | finite, `≠ 0` |
///
/// # Errors
/// [`Celu::new`]: [`Error::InvalidParameter`] (`"alpha"`) for 0 (PyTorch: "alpha cannot
/// be 0") or a non-finite value. Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Celu;
/// use ndtrain::prelude::*;
///
/// let mut celu = Celu::<f64>::new(2.0)?;
/// let y = celu.forward(array![[-2.0, 3.0]].into_dyn().view(), Mode::Train)?;
/// assert!((y[[0, 0]] - 2.0 * (-1f64).exp_m1()).abs() < 1e-15);
/// let dx = celu.backward_input(array![[1.0, 1.0]].into_dyn().view())?;
/// assert!((dx[[0, 0]] - (-1f64).exp()).abs() < 1e-16);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "CELU")]
#[doc(alias = "nn.CELU")]
#[derive(Clone, Debug)]
pub struct Celu<F> {
    alpha: F,
    inv_alpha: F,
    core: Elementwise<F>,
}

impl<F: Float> Default for Celu<F> {
    /// PyTorch's default, `alpha = 1`.
    fn default() -> Self {
        Celu { alpha: F::one(), inv_alpha: F::one(), core: Elementwise::default() }
    }
}

impl<F: Float> Celu<F> {
    /// A CELU with the given `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"alpha"`) for 0 or a non-finite value.
    pub fn new(alpha: f64) -> Result<Self> {
        if !alpha.is_finite() || alpha == 0.0 {
            return Err(Error::InvalidParameter { name: "alpha", value: alpha, expected: "finite and != 0" });
        }
        Ok(Celu { alpha: F::lit(alpha), inv_alpha: F::lit(1.0 / alpha), core: Elementwise::default() })
    }

    /// The scale of the negative part.
    pub fn alpha(&self) -> F {
        self.alpha
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, a, ia) = (F::zero(), self.alpha, self.inv_alpha);
        Ok(self.core.forward(x, mode, true, |v| if v > zero { v } else { a * (v * ia).exp_m1() }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, ia) = (F::zero(), self.inv_alpha);
        self.core.backward_input("Celu::backward_input", g, true, |g, x| {
            if x > zero { g } else { g * (x * ia).exp() }
        })
    }
}
parameter_free_layer!(Celu, "Celu::backward");

/// Sigmoid linear unit, also called swish: `y = x·σ(x)` (PyTorch `nn.SiLU`; Elfwing
/// et al. 2017, Ramachandran et al. 2017).
///
/// Backward: `dL/dx = dL/dy · σ(x)·(1 + x·(1 − σ(x)))`. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Silu;
/// use ndtrain::prelude::*;
///
/// let mut silu = Silu::<f64>::new();
/// let y = silu.forward(array![[0.0, 2.0, -1000.0]].into_dyn().view(), Mode::Eval)?;
/// assert_eq!(y[[0, 0]], 0.0);
/// assert!((y[[0, 1]] - 2.0 / (1.0 + (-2f64).exp())).abs() < 1e-15);
/// assert_eq!(y[[0, 2]], 0.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "SiLU")]
#[doc(alias = "nn.SiLU")]
#[doc(alias = "swish")]
#[derive(Clone, Debug)]
pub struct Silu<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Silu<F> {
    fn default() -> Self {
        Silu { core: Elementwise::default() }
    }
}

impl<F: Float> Silu<F> {
    /// A SiLU layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Ok(self.core.forward(x, mode, true, |v| v * sigmoid(v)))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Silu::backward_input", g, true, |g, x| {
            let s = sigmoid(x);
            g * s * (one + x * (one - s))
        })
    }
}
parameter_free_layer!(Silu, "Silu::backward");

/// Mish, `y = x·tanh(softplus(x))` (PyTorch `nn.Mish`; Misra, "Mish: A Self Regularized
/// Non-Monotonic Activation Function", 2019).
///
/// Backward, with `t = tanh(softplus(x))`: `dL/dx = dL/dy · (t + x·σ(x)·(1 − t²))`.
/// `softplus(x) = ln(1 + eˣ)` is evaluated without overflow. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Mish;
/// use ndtrain::prelude::*;
///
/// let mut mish = Mish::<f64>::new();
/// let y = mish.forward(array![[1.0, 1000.0]].into_dyn().view(), Mode::Eval)?;
/// // torch.nn.functional.mish(torch.tensor(1.0, dtype=torch.float64)) = 0.8650983882673103
/// assert!((y[[0, 0]] - 0.8650983882673103).abs() < 1e-15);
/// assert_eq!(y[[0, 1]], 1000.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Mish")]
#[derive(Clone, Debug)]
pub struct Mish<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Mish<F> {
    fn default() -> Self {
        Mish { core: Elementwise::default() }
    }
}

impl<F: Float> Mish<F> {
    /// A Mish layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Ok(self.core.forward(x, mode, true, |v| v * softplus(v).tanh()))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Mish::backward_input", g, true, |g, x| {
            let t = softplus(x).tanh();
            g * (t + x * sigmoid(x) * (one - t * t))
        })
    }
}
parameter_free_layer!(Mish, "Mish::backward");

/// Softplus, `y = ln(1 + e^(β·x)) / β`, and `y = x` where `β·x > threshold` (PyTorch
/// `nn.Softplus`).
///
/// Backward: `dL/dx = dL/dy · σ(β·x)`, and `dL/dy` where `β·x > threshold`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `beta` | 1.0 | finite, `≠ 0` |
/// | `threshold` | 20.0 | not NaN |
///
/// `ln(1 + e^z)` is evaluated as `max(z, 0) + ln(1 + e^(−|z|))`, which equals
/// PyTorch's `log1p(exp(z))` to rounding and does not overflow for a large threshold.
///
/// # Errors
/// [`Softplus::new`]: [`Error::InvalidParameter`] for `beta` 0 or not finite
/// (`"beta"`), a NaN `threshold` (`"threshold"`). Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Softplus;
/// use ndtrain::prelude::*;
///
/// let mut sp = Softplus::<f64>::default(); // beta 1, threshold 20
/// let y = sp.forward(array![[0.0, 25.0]].into_dyn().view(), Mode::Eval)?;
/// assert!((y[[0, 0]] - 2f64.ln()).abs() < 1e-16);
/// assert_eq!(y[[0, 1]], 25.0); // linear above the threshold
/// let mut sharp = Softplus::<f64>::new(2.0, 1.0)?;
/// let y = sharp.forward(array![[0.25]].into_dyn().view(), Mode::Eval)?;
/// assert!((y[[0, 0]] - 0.5f64.exp().ln_1p() / 2.0).abs() < 1e-16);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Softplus")]
#[derive(Clone, Debug)]
pub struct Softplus<F> {
    beta: F,
    threshold: F,
    core: Elementwise<F>,
}

impl<F: Float> Default for Softplus<F> {
    /// PyTorch's defaults, `beta = 1`, `threshold = 20`.
    fn default() -> Self {
        Softplus { beta: F::one(), threshold: F::lit(20.0), core: Elementwise::default() }
    }
}

impl<F: Float> Softplus<F> {
    /// A softplus with the given `beta` and `threshold`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `beta` 0 or not finite, a NaN `threshold`.
    pub fn new(beta: f64, threshold: f64) -> Result<Self> {
        if !beta.is_finite() || beta == 0.0 {
            return Err(Error::InvalidParameter { name: "beta", value: beta, expected: "finite and != 0" });
        }
        if threshold.is_nan() {
            return Err(Error::InvalidParameter { name: "threshold", value: threshold, expected: "not NaN" });
        }
        Ok(Softplus { beta: F::lit(beta), threshold: F::lit(threshold), core: Elementwise::default() })
    }

    /// `β`.
    pub fn beta(&self) -> F {
        self.beta
    }

    /// Above `β·x > threshold` the layer is the identity.
    pub fn threshold(&self) -> F {
        self.threshold
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (b, t) = (self.beta, self.threshold);
        Ok(self.core.forward(x, mode, true, |v| {
            let z = v * b;
            if z > t { v } else { softplus(z) / b }
        }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (b, t) = (self.beta, self.threshold);
        self.core.backward_input("Softplus::backward_input", g, true, |g, x| {
            let z = x * b;
            if z > t { g } else { g * sigmoid(z) }
        })
    }
}
parameter_free_layer!(Softplus, "Softplus::backward");

/// Log-sigmoid, `y = ln σ(x) = −softplus(−x)` (PyTorch `nn.LogSigmoid`), evaluated as
/// `min(x, 0) − ln(1 + e^(−|x|))` (no overflow, no `ln 0`).
///
/// Backward: `dL/dx = dL/dy · σ(−x)`, computed from `z = e^(−|x|)` as PyTorch does:
/// `1 − z/(1 + z)` for `x < 0`, `z/(1 + z)` otherwise. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::LogSigmoid;
/// use ndtrain::prelude::*;
///
/// let mut ls = LogSigmoid::<f64>::new();
/// let y = ls.forward(array![[0.0, -1000.0, 1000.0]].into_dyn().view(), Mode::Eval)?;
/// assert!((y[[0, 0]] + 2f64.ln()).abs() < 1e-16);
/// assert_eq!(y[[0, 1]], -1000.0);
/// assert_eq!(y[[0, 2]], 0.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.LogSigmoid")]
#[derive(Clone, Debug)]
pub struct LogSigmoid<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for LogSigmoid<F> {
    fn default() -> Self {
        LogSigmoid { core: Elementwise::default() }
    }
}

impl<F: Float> LogSigmoid<F> {
    /// A log-sigmoid layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Ok(self.core.forward(x, mode, true, |v| v.min(F::zero()) - (-v.abs()).exp().ln_1p()))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, one) = (F::zero(), F::one());
        self.core.backward_input("LogSigmoid::backward_input", g, true, |g, x| {
            let z = (-x.abs()).exp();
            let q = z / (one + z);
            g * if x < zero { one - q } else { q }
        })
    }
}
parameter_free_layer!(LogSigmoid, "LogSigmoid::backward");

/// Softsign, `y = x / (1 + |x|)` (PyTorch `nn.Softsign`).
///
/// Backward: `dL/dx = dL/dy / (1 + |x|)²`. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Elu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Softsign;
/// use ndtrain::prelude::*;
///
/// let mut ss = Softsign::<f64>::new();
/// let y = ss.forward(array![[-3.0, 1.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[-0.75, 0.5]].into_dyn());
/// let dx = ss.backward_input(array![[1.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx, array![[0.0625, 0.25]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Softsign")]
#[derive(Clone, Debug)]
pub struct Softsign<F> {
    core: Elementwise<F>,
}

impl<F: Float> Default for Softsign<F> {
    fn default() -> Self {
        Softsign { core: Elementwise::default() }
    }
}

impl<F: Float> Softsign<F> {
    /// A softsign layer.
    pub fn new() -> Self {
        Self::default()
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        Ok(self.core.forward(x, mode, true, |v| v / (one + v.abs())))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Softsign::backward_input", g, true, |g, x| {
            let d = one + x.abs();
            g / (d * d)
        })
    }
}
parameter_free_layer!(Softsign, "Softsign::backward");
