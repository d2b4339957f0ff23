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

/// `σ(x) = 1 / (1 + e^(−x))` without overflow: with `e = e^(−|x|)`, `1/(1 + e)` for
/// `x ≥ 0` and `e/(1 + e)` otherwise, chosen by a select rather than a branch (random
/// signs would mispredict half the time).
#[inline]
fn sigmoid<F: Float>(x: F) -> F {
    let one = F::one();
    let e = (-x.abs()).exp();
    let r = one / (one + e);
    if x >= F::zero() { r } else { e * r }
}

/// `ln(1 + e^x)` without overflow: `max(x, 0) + ln(1 + e^(−|x|))`.
#[inline]
fn softplus<F: Float>(x: F) -> F {
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

/// `(tanh(softplus(x)), σ(x))` from one exponential: with `n = eˣ`,
/// `tanh(ln(1 + n)) = n(n + 2) / (n(n + 2) + 2)` and `σ(x) = n/(1 + n)` (no cancellation
/// anywhere; above `x = 20` the tanh is 1 to rounding, `1 − 2e⁻⁴⁰`).
#[inline]
fn mish_parts<F: Float>(x: F) -> (F, F) {
    if x > F::lit(20.0) {
        return (F::one(), sigmoid(x));
    }
    let (one, two) = (F::one(), F::lit(2.0));
    let n = x.exp();
    let q = n * (n + two);
    (q / (q + two), n / (n + one))
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
/// No hyper-parameters.
///
/// With `n = eˣ`, `t = n(n + 2)/(n(n + 2) + 2)` and `σ(x) = n/(1 + n)`: one
/// exponential per element instead of PyTorch's `tanh(log1p(exp(x)))` (three
/// transcendental calls), the same values to a few ulps, and `t = 1` above `x = 20`
/// (where `1 − t < 1e-17`).
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
        Ok(self.core.forward(x, mode, true, |v| v * mish_parts(v).0))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Mish::backward_input", g, true, |g, x| {
            let (t, s) = mish_parts(x);
            g * (t + x * s * (one - t * t))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model};
    use ndarray::{ArrayD, IxDyn};

    /// Forward values and input gradients (for `dL/dy = 1`) of `layer` at `xs`.
    fn eval<L: Layer<f64>>(layer: &mut L, xs: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let x = ArrayD::from_shape_vec(IxDyn(&[1, xs.len()]), xs.to_vec()).unwrap();
        let y = layer.forward(x.view(), Mode::Train).unwrap().iter().copied().collect();
        let g = ArrayD::from_elem(IxDyn(&[1, xs.len()]), 1.0);
        let d = layer.backward_input(g.view()).unwrap().iter().copied().collect();
        (y, d)
    }

    const XS: [f64; 9] = [-30.0, -2.5, -0.5, 0.0, 0.3, 0.7, 3.0, 20.0, 25.0];

    type Table = [[f64; 9]; 2];

    /// (y, dy/dx) at `XS`, from mpmath with 40 digits, e.g. for SELU:
    ///
    /// ```python
    /// A, L = mpf('1.6732632423543772848170429916717'), mpf('1.0507009873554804934193349852946')
    /// y = L*x if x > 0 else L*A*expm1(x);  dy = L if x > 0 else L*A*exp(x)
    /// ```
    /// and likewise `x·σ(x)` (SiLU), `x·tanh(log1p(eˣ))` (Mish), `log1p(e^(βx))/β`
    /// (Softplus, `x` where `βx > threshold`), `−log1p(e^(−x))` (LogSigmoid),
    /// `x/(1+|x|)` (Softsign), with their exact derivatives. At 0 the derivatives are
    /// PyTorch's left ones (ELU: α).
    const ELU1: Table = [
        [-0.9999999999999064, -0.9179150013761012, -0.3934693402873666, 0.0, 0.3, 0.7, 3.0, 20.0, 25.0],
        [9.357622968840175e-14, 0.0820849986238988, 0.6065306597126334, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ];
    const ELU05: Table = [
        [-0.4999999999999532, -0.4589575006880506, -0.1967346701436833, 0.0, 0.3, 0.7, 3.0, 20.0, 25.0],
        [4.6788114844200874e-14, 0.0410424993119494, 0.3032653298563167, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
    ];
    const SELU: Table = [
        [
            -1.7580993408472123,
            -1.6137857588732425,
            -0.6917581878028713,
            0.0,
            0.31521029620664415,
            0.7354906911488364,
            3.1521029620664414,
            21.01401974710961,
            26.26752468388701,
        ],
        [
            1.6451630773416185e-13,
            0.1443135819741343,
            1.0663411530445055,
            1.7580993408473768,
            1.0507009873554805,
            1.0507009873554805,
            1.0507009873554805,
            1.0507009873554805,
            1.0507009873554805,
        ],
    ];
    const CELU15: Table = [
        [-1.4999999969082696, -1.2166865957436572, -0.42520303413931615, 0.0, 0.3, 0.7, 3.0, 20.0, 25.0],
        [2.061153622438558e-09, 0.18887560283756183, 0.7165313105737893, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ];
    const SILU: Table = [
        [
            -2.8072868906517896e-12,
            -0.18964545005310887,
            -0.18877033439907273,
            0.0,
            0.1723327550434977,
            0.46773144051771626,
            2.8577223804672998,
            19.99999995877693,
            24.9999999996528,
        ],
        [
            -2.713710660963134e-12,
            -0.09940111134152683,
            0.2600388126973482,
            0.5,
            0.6477800103188828,
            0.8233867834733425,
            1.0881041060151697,
            1.0000000391619186,
            1.0000000003333107,
        ],
    ];
    const MISH: Table = [
        [
            -2.807286890651921e-12,
            -0.19681620390653334,
            -0.22074377465173,
            0.0,
            0.20800137234811503,
            0.561148377643852,
            2.9865350049679575,
            20.0,
            25.0,
        ],
        [
            -2.713710660963392e-12,
            -0.10974357275018569,
            0.2895106779135122,
            0.6,
            0.7828272995511304,
            0.9687948682001859,
            1.0211069109294437,
            1.0000000000000002,
            1.0,
        ],
    ];
    const SOFTPLUS: Table = [
        [
            9.357622968839737e-14,
            0.07888973429254963,
            0.4740769841801067,
            std::f64::consts::LN_2,
            0.8543552444685271,
            1.103186048885458,
            3.048587351573742,
            20.000000002061153, // β·x = threshold: not yet linear (strict >)
            25.0,
        ],
        [
            9.357622968839299e-14,
            0.07585818002124355,
            0.37754066879814546,
            0.5,
            0.574442516811659,
            0.6681877721681662,
            0.9525741268224333,
            0.9999999979388464,
            1.0,
        ],
    ];
    /// beta 2, threshold 1: linear from x = 0.5 on.
    const SOFTPLUS_B2_T1: Table = [
        [
            4.37825538134826e-27,
            0.003357674244559034,
            0.1566308437591114,
            0.34657359027997264,
            0.5187439752429428,
            0.7,
            3.0,
            20.0,
            25.0,
        ],
        [
            8.75651076269652e-27,
            0.0066928509242848554,
            0.2689414213699951,
            0.5,
            0.6456563062257955,
            1.0,
            1.0,
            1.0,
            1.0,
        ],
    ];
    const LOGSIGMOID: Table = [
        [
            -30.000000000000092,
            -2.5788897342925496,
            -0.9740769841801067,
            -std::f64::consts::LN_2,
            -0.5543552444685271,
            -0.4031860488854579,
            -0.04858735157374206,
            -2.061153620314381e-09,
            -1.3887943864867583e-11,
        ],
        [
            0.9999999999999064,
            0.9241418199787564,
            0.6224593312018546,
            0.5,
            0.425557483188341,
            0.3318122278318339,
            0.04742587317756678,
            2.0611536181902037e-09,
            1.3887943864771146e-11,
        ],
    ];
    const SOFTSIGN: Table = [
        [
            -0.967741935483871,
            -0.7142857142857143,
            -0.3333333333333333,
            0.0,
            0.23076923076923078,
            0.4117647058823529,
            0.75,
            0.9523809523809523,
            0.9615384615384616,
        ],
        [
            0.001040582726326743,
            0.08163265306122448,
            0.4444444444444444,
            1.0,
            0.591715976331361,
            0.3460207612456747,
            0.0625,
            0.0022675736961451248,
            0.0014792899408284023,
        ],
    ];

    fn check<L: Layer<f64>>(what: &str, mut layer: L, table: &Table) {
        let (y, d) = eval(&mut layer, &XS);
        for k in 0..XS.len() {
            for (got, want, which) in [(y[k], table[0][k], "y"), (d[k], table[1][k], "dy/dx")] {
                // Relative accuracy everywhere, including the far tails.
                assert!(
                    (got - want).abs() <= 1e-14 * want.abs(),
                    "{what} {which} at x = {}: {got} vs {want}",
                    XS[k]
                );
            }
        }
    }

    #[test]
    fn values_and_derivatives_match_high_precision() {
        check("Elu(1)", Elu::default(), &ELU1);
        check("Elu(0.5)", Elu::new(0.5).unwrap(), &ELU05);
        check("Selu", Selu::new(), &SELU);
        check("Celu(1.5)", Celu::new(1.5).unwrap(), &CELU15);
        check("Silu", Silu::new(), &SILU);
        check("Mish", Mish::new(), &MISH);
        check("Softplus", Softplus::default(), &SOFTPLUS);
        check("Softplus(2, 1)", Softplus::new(2.0, 1.0).unwrap(), &SOFTPLUS_B2_T1);
        check("LogSigmoid", LogSigmoid::new(), &LOGSIGMOID);
        check("Softsign", Softsign::new(), &SOFTSIGN);
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let xs = [-1000.0, 1000.0, f64::MAX, -f64::MAX];
        let (y, d) = eval(&mut Silu::new(), &xs);
        assert_eq!((y[0], y[1], d[0], d[1]), (-0.0, 1000.0, -0.0, 1.0));
        let (y, d) = eval(&mut Mish::new(), &xs);
        assert_eq!((y[1], d[1]), (1000.0, 1.0));
        assert!(y[0].abs() < 1e-300 && d[0].abs() < 1e-300);
        let (y, d) = eval(&mut LogSigmoid::new(), &xs);
        assert_eq!((y[0], y[1], d[0], d[1]), (-1000.0, 0.0, 1.0, 0.0));
        // Softplus with no linear region: still no overflow.
        let (y, d) = eval(&mut Softplus::new(1.0, f64::INFINITY).unwrap(), &xs);
        assert_eq!((y[0], y[1], d[0], d[1]), (0.0, 1000.0, 0.0, 1.0));
        let (y, d) = eval(&mut Softsign::new(), &xs);
        assert_eq!((y[2], y[3]), (1.0, -1.0));
        assert_eq!(d[2], 0.0);
        for mut layer in [
            Box::new(Elu::<f64>::default()) as Box<dyn Layer<f64>>,
            Box::new(Selu::new()),
            Box::new(Celu::new(0.5).unwrap()),
        ] {
            let (y, d) = eval(&mut layer, &[-1000.0]);
            assert!(y[0].is_finite() && d[0] == 0.0, "{y:?} {d:?}");
        }
        let nan = eval(&mut Mish::new(), &[f64::NAN]);
        assert!(nan.0[0].is_nan() && nan.1[0].is_nan());
    }

    #[test]
    fn invalid_hyper_parameters() {
        for (r, name) in [
            (Elu::<f64>::new(f64::NAN).map(|_| ()), "alpha"),
            (Elu::<f64>::new(f64::INFINITY).map(|_| ()), "alpha"),
            (Celu::<f64>::new(0.0).map(|_| ()), "alpha"),
            (Celu::<f64>::new(f64::NEG_INFINITY).map(|_| ()), "alpha"),
            (Softplus::<f64>::new(0.0, 20.0).map(|_| ()), "beta"),
            (Softplus::<f64>::new(f64::NAN, 20.0).map(|_| ()), "beta"),
            (Softplus::<f64>::new(1.0, f64::NAN).map(|_| ()), "threshold"),
        ] {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        // Negative alphas and betas are allowed, as in PyTorch.
        assert_eq!(Elu::<f32>::new(-0.5).unwrap().alpha(), -0.5);
        assert_eq!(Celu::<f32>::new(-2.0).unwrap().alpha(), -2.0);
        let sp = Softplus::<f32>::new(-1.0, 20.0).unwrap();
        assert_eq!((sp.beta(), sp.threshold()), (-1.0, 20.0));
        assert_eq!(Softplus::<f64>::default().threshold(), 20.0);
    }

    #[test]
    fn eval_grad_records_and_eval_does_not() {
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![-1.0, 0.5, 2.0, -3.0]).unwrap();
        let g = ArrayD::from_elem(IxDyn(&[2, 2]), 1.0);
        let mut a = Mish::<f64>::new();
        a.forward(x.view(), Mode::EvalGrad).unwrap();
        let d1 = a.backward_input(g.view()).unwrap().to_owned();
        a.forward(x.view(), Mode::Train).unwrap();
        assert_eq!(a.backward_input(g.view()).unwrap(), d1);
        a.forward(x.view(), Mode::Eval).unwrap();
        assert!(matches!(a.backward(g.view()), Err(Error::InvalidInput { op: "Mish::backward", .. })));
    }
}
