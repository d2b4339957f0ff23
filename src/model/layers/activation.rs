//! Element-wise activation layers.

use ndarray::ArrayViewD;

use super::{Elementwise, erfc, parameter_free_layer};
use crate::error::{Error, Result};
use crate::model::{Layer, Mode};
use crate::tensor::Float;

/// Rectified linear unit, `y = max(x, 0)` element-wise (PyTorch `nn.ReLU`).
///
/// Backward: `dL/dx = dL/dy · [x > 0]` (the gradient at 0 is 0, as in PyTorch). No
/// hyper-parameters. NaN inputs propagate.
///
/// # Errors
/// `backward`/`backward_input`: [`Error::InvalidInput`] without a preceding
/// [`Mode::Train`] forward, [`Error::ShapeMismatch`] when `grad_out` does not have the
/// output's shape.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut relu = Relu::<f64>::new();
/// let y = relu.forward(array![[-1.0, 2.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[0.0, 2.0]].into_dyn());
/// let dx = relu.backward_input(array![[5.0, 5.0]].into_dyn().view())?;
/// assert_eq!(dx, array![[0.0, 5.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ReLU")]
#[doc(alias = "nn.ReLU")]
#[derive(Clone, Debug, Default)]
pub struct Relu<F> {
    core: Elementwise<F>,
}

impl<F: Float> Relu<F> {
    /// A ReLU layer.
    pub fn new() -> Self {
        Relu { core: Elementwise::default() }
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let zero = F::zero();
        Ok(self.core.forward(x, mode, false, |v| if v < zero { zero } else { v }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let zero = F::zero();
        // y > 0 exactly when x > 0.
        self.core.backward_input("Relu::backward_input", g, false, |g, y| if y > zero { g } else { zero })
    }
}
parameter_free_layer!(Relu, "Relu::backward");

/// Leaky ReLU, `y = x` for `x > 0`, `negative_slope · x` otherwise (PyTorch
/// `nn.LeakyReLU`).
///
/// Backward: `dL/dx = dL/dy` where `x > 0`, `negative_slope · dL/dy` elsewhere.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `negative_slope` | 0.01 | finite |
///
/// # Errors
/// [`LeakyRelu::new`]: [`Error::InvalidParameter`] for a non-finite slope. Backward as
/// for [`Relu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut act = LeakyRelu::<f64>::new(0.1)?;
/// let y = act.forward(array![[-2.0, 3.0]].into_dyn().view(), Mode::Train)?;
/// assert_eq!(y, array![[-0.2, 3.0]].into_dyn());
/// assert_eq!(LeakyRelu::<f32>::default().negative_slope(), 0.01);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "LeakyReLU")]
#[doc(alias = "nn.LeakyReLU")]
#[derive(Clone, Debug)]
pub struct LeakyRelu<F> {
    negative_slope: F,
    core: Elementwise<F>,
}

impl<F: Float> Default for LeakyRelu<F> {
    /// PyTorch's default, `negative_slope = 0.01`.
    fn default() -> Self {
        LeakyRelu { negative_slope: F::lit(0.01), core: Elementwise::default() }
    }
}

impl<F: Float> LeakyRelu<F> {
    /// A leaky ReLU with the given negative slope.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"negative_slope"`) when it is not finite.
    pub fn new(negative_slope: f64) -> Result<Self> {
        if !negative_slope.is_finite() {
            return Err(Error::InvalidParameter {
                name: "negative_slope",
                value: negative_slope,
                expected: "finite",
            });
        }
        Ok(LeakyRelu { negative_slope: F::lit(negative_slope), core: Elementwise::default() })
    }

    /// The negative slope.
    pub fn negative_slope(&self) -> F {
        self.negative_slope
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let (zero, s) = (F::zero(), self.negative_slope);
        // With a slope >= 0, y > 0 exactly when x > 0, so the output is enough for the
        // backward pass; a negative slope needs the input.
        let save_input = s < zero;
        Ok(self.core.forward(x, mode, save_input, |v| if v > zero { v } else { v * s }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let (zero, s) = (F::zero(), self.negative_slope);
        self.core.backward_input(
            "LeakyRelu::backward_input",
            g,
            s < zero,
            |g, v| if v > zero { g } else { g * s },
        )
    }
}
parameter_free_layer!(LeakyRelu, "LeakyRelu::backward");

/// Hyperbolic tangent, `y = tanh(x)` (PyTorch `nn.Tanh`).
///
/// Backward: `dL/dx = dL/dy · (1 − y²)`. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Relu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut act = Tanh::<f64>::new();
/// act.forward(array![[0.0, 1.0]].into_dyn().view(), Mode::Train)?;
/// let dx = act.backward_input(array![[1.0, 1.0]].into_dyn().view())?;
/// assert_eq!(dx[[0, 0]], 1.0);
/// assert!((dx[[0, 1]] - (1.0 - 1f64.tanh().powi(2))).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Tanh")]
#[derive(Clone, Debug, Default)]
pub struct Tanh<F> {
    core: Elementwise<F>,
}

impl<F: Float> Tanh<F> {
    /// A tanh layer.
    pub fn new() -> Self {
        Tanh { core: Elementwise::default() }
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Ok(self.core.forward(x, mode, false, |v| v.tanh()))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Tanh::backward_input", g, false, |g, y| g * (one - y * y))
    }
}
parameter_free_layer!(Tanh, "Tanh::backward");

/// Logistic sigmoid, `y = 1 / (1 + exp(−x))` (PyTorch `nn.Sigmoid`), evaluated without
/// overflow (`exp(x) / (1 + exp(x))` for `x < 0`).
///
/// Backward: `dL/dx = dL/dy · y (1 − y)`. No hyper-parameters.
///
/// # Errors
/// Backward as for [`Relu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut act = Sigmoid::<f64>::new();
/// let y = act.forward(array![[0.0, -1000.0]].into_dyn().view(), Mode::Eval)?;
/// assert_eq!(y, array![[0.5, 0.0]].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Sigmoid")]
#[derive(Clone, Debug, Default)]
pub struct Sigmoid<F> {
    core: Elementwise<F>,
}

impl<F: Float> Sigmoid<F> {
    /// A sigmoid layer.
    pub fn new() -> Self {
        Sigmoid { core: Elementwise::default() }
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        Ok(self.core.forward(x, mode, false, |v| {
            if v >= F::zero() {
                one / (one + (-v).exp())
            } else {
                let e = v.exp();
                e / (one + e)
            }
        }))
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let one = F::one();
        self.core.backward_input("Sigmoid::backward_input", g, false, |g, y| g * y * (one - y))
    }
}
parameter_free_layer!(Sigmoid, "Sigmoid::backward");

/// Which formula [`Gelu`] uses (PyTorch's `approximate` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum GeluApproximate {
    /// `approximate='none'` (default): the exact `x·Φ(x)` with the normal CDF from `erf`.
    #[default]
    None,
    /// `approximate='tanh'`: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    Tanh,
}

/// Gaussian error linear unit, `y = x·Φ(x)` (PyTorch `nn.GELU`; Hendrycks & Gimpel,
/// "Gaussian Error Linear Units", 2016).
///
/// * exact (default): `Φ(x) = ½·erfc(−x/√2)`; `dy/dx = Φ(x) + x·φ(x)`,
///   `φ(x) = exp(−x²/2)/√(2π)`;
/// * tanh approximation: `y = ½x(1 + t)`, `t = tanh(√(2/π)(x + 0.044715x³))`;
///   `dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)`.
///
/// | hyper-parameter | default | values |
/// |---|---|---|
/// | `approximate` | [`GeluApproximate::None`] | `None`, `Tanh` |
///
/// The error function is our own implementation of Cody's rational approximations
/// (relative error below 1e-15 in `f64`); `f32` inputs are evaluated in `f64` and
/// rounded. PyTorch computes `½x(1 + erf(x/√2))`; ndtrain uses `erfc`, which is
/// the same value to rounding and keeps relative accuracy for large negative `x`.
///
/// # Errors
/// Backward as for [`Relu`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut gelu = Gelu::<f64>::default();
/// let y = gelu.forward(array![[1.0]].into_dyn().view(), Mode::Eval)?;
/// // torch.nn.functional.gelu(torch.tensor(1.0, dtype=torch.float64)) = 0.8413447460685429
/// assert!((y[[0, 0]] - 0.8413447460685429).abs() < 1e-15);
/// let mut approx = Gelu::<f64>::new(GeluApproximate::Tanh);
/// let y = approx.forward(array![[1.0]].into_dyn().view(), Mode::Eval)?;
/// // approximate="tanh": 0.8411919906082767 (mpmath, 40 digits)
/// assert!((y[[0, 0]] - 0.8411919906082767).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "GELU")]
#[doc(alias = "nn.GELU")]
#[derive(Clone, Debug, Default)]
pub struct Gelu<F> {
    approximate: GeluApproximate,
    core: Elementwise<F>,
}

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// √(2/π).
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_TANH_COEF: f64 = 0.044715;

fn gelu_exact(x: f64) -> f64 {
    x * 0.5 * erfc(-x * FRAC_1_SQRT_2)
}

fn gelu_exact_grad(x: f64) -> f64 {
    0.5 * erfc(-x * FRAC_1_SQRT_2) + x * FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

fn gelu_tanh<F: Float>(x: F) -> F {
    let half = F::lit(0.5);
    let inner = F::lit(SQRT_2_OVER_PI) * (x + F::lit(GELU_TANH_COEF) * x * x * x);
    half * x * (F::one() + inner.tanh())
}

fn gelu_tanh_grad<F: Float>(x: F) -> F {
    let (half, one) = (F::lit(0.5), F::one());
    let c = F::lit(GELU_TANH_COEF);
    let k = F::lit(SQRT_2_OVER_PI);
    let t = (k * (x + c * x * x * x)).tanh();
    half * (one + t) + half * x * (one - t * t) * k * (one + F::lit(3.0) * c * x * x)
}

impl<F: Float> Gelu<F> {
    /// A GELU layer with the given formula.
    pub fn new(approximate: GeluApproximate) -> Self {
        Gelu { approximate, core: Elementwise::default() }
    }

    /// The formula in use.
    pub fn approximate(&self) -> GeluApproximate {
        self.approximate
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Ok(match self.approximate {
            GeluApproximate::None => self.core.forward(x, mode, true, |v| F::lit(gelu_exact(v.as_f64()))),
            GeluApproximate::Tanh => self.core.forward(x, mode, true, gelu_tanh),
        })
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.core.check_backward(op, g)
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        let op = "Gelu::backward_input";
        match self.approximate {
            GeluApproximate::None => {
                self.core.backward_input(op, g, true, |g, x| g * F::lit(gelu_exact_grad(x.as_f64())))
            }
            GeluApproximate::Tanh => self.core.backward_input(op, g, true, |g, x| g * gelu_tanh_grad(x)),
        }
    }
}
parameter_free_layer!(Gelu, "Gelu::backward");

/// The activation placed between the [`Linear`](crate::model::Linear) layers of
/// [`Sequential::mlp`](crate::model::Sequential::mlp).
///
/// # Example
///
/// ```
/// use ndtrain::model::Activation;
/// use ndtrain::prelude::*;
///
/// let mut layer = Activation::LeakyRelu(0.2).layer::<f32>()?;
/// assert_eq!(layer.num_parameters(), 0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Activation {
    /// [`Relu`].
    #[default]
    Relu,
    /// [`LeakyRelu`] with the given negative slope.
    LeakyRelu(f64),
    /// [`Tanh`].
    Tanh,
    /// [`Sigmoid`].
    Sigmoid,
    /// [`Gelu`], exact.
    Gelu,
    /// [`Gelu`] with the tanh approximation.
    GeluTanh,
}

impl Activation {
    /// A new layer of this kind.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `LeakyRelu` slope.
    pub fn layer<F: Float>(self) -> Result<Box<dyn Layer<F> + Send>> {
        Ok(match self {
            Activation::Relu => Box::new(Relu::new()),
            Activation::LeakyRelu(s) => Box::new(LeakyRelu::new(s)?),
            Activation::Tanh => Box::new(Tanh::new()),
            Activation::Sigmoid => Box::new(Sigmoid::new()),
            Activation::Gelu => Box::new(Gelu::new(GeluApproximate::None)),
            Activation::GeluTanh => Box::new(Gelu::new(GeluApproximate::Tanh)),
        })
    }
}
