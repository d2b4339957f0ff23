//! Weight initialisation, as `torch.nn.init`: Xavier/Glorot, Kaiming/He, PyTorch's
//! `nn.Linear` default, zeros, constants, uniform and normal.
//!
//! An [`Init`] fills a tensor of any dimension in place from a seeded random number
//! generator (normally a [`SeededRng`](crate::SeededRng)). Fans are computed as
//! `torch.nn.init._calculate_fan_in_and_fan_out` does: for a tensor of shape
//! `[out, in, k1, k2, ...]`, `fan_in = in * k1 * k2 * ...` and `fan_out = out * k1 * k2 * ...`
//! (the product of the trailing dimensions is the receptive field size).
//!
//! | variant | distribution | PyTorch |
//! |---|---|---|
//! | [`Init::LinearDefault`] | `U(-1/√fan_in, 1/√fan_in)` | `nn.Linear.reset_parameters` |
//! | [`Init::Zeros`] / [`Init::Constant`] | `0` / `val` | `zeros_` / `constant_` |
//! | [`Init::Uniform`] | `U(low, high)` | `uniform_` |
//! | [`Init::Normal`] | `N(mean, std²)` | `normal_` |
//! | [`Init::XavierUniform`] | `U(-a, a)`, `a = gain·√(6/(fan_in+fan_out))` | `xavier_uniform_` |
//! | [`Init::XavierNormal`] | `N(0, std²)`, `std = gain·√(2/(fan_in+fan_out))` | `xavier_normal_` |
//! | [`Init::KaimingUniform`] | `U(-b, b)`, `b = gain·√(3/fan)` | `kaiming_uniform_` |
//! | [`Init::KaimingNormal`] | `N(0, std²)`, `std = gain/√fan` | `kaiming_normal_` |
//!
//! `gain` of the Kaiming variants is [`calculate_gain`]`(nonlinearity, a)` and `fan` is
//! `fan_in` or `fan_out` by [`FanMode`].
//!
//! Random draws: a uniform `u ∈ [0, 1)` takes the top 53 bits of one `next_u64`;
//! normal samples come in pairs from the Box–Muller transform
//! `z₀ = √(−2 ln u₁)·cos(2π u₂)`, `z₁ = √(−2 ln u₁)·sin(2π u₂)` with `u₁ ∈ (0, 1]`
//! (Box & Muller, "A note on the generation of random normal deviates", Ann. Math.
//! Statist. 29, 1958). Values are drawn in `f64` and rounded once to `F`, in the
//! tensor's logical (row-major) order. The streams differ from PyTorch's generator: the
//! distributions are the same, the numbers are not.
//!
//! # Example
//!
//! ```
//! use ndarray::Array2;
//! use ndtrain::model::init::{FanMode, Init, Nonlinearity};
//!
//! let mut rng = ndtrain::seeded_rng(0);
//! let mut w = Array2::<f32>::zeros((256, 784));
//! Init::KaimingNormal { a: 0.0, mode: FanMode::FanIn, nonlinearity: Nonlinearity::Relu }
//!     .fill(w.view_mut().into_dyn(), &mut rng)?;
//! let std = (w.mapv(|v| v * v).mean().unwrap()).sqrt();
//! assert!((std - (2.0f32 / 784.0).sqrt()).abs() < 2e-3);
//! # Ok::<(), ndtrain::Error>(())
//! ```

use ndarray::ArrayViewMutD;
use rand::Rng;

use crate::error::{Error, Result};
use crate::tensor::Float;

/// Which fan a Kaiming initialisation preserves the variance of (`mode` in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum FanMode {
    /// `mode='fan_in'` (default): preserves the variance of the forward pass.
    #[default]
    #[doc(alias = "fan_in")]
    FanIn,
    /// `mode='fan_out'`: preserves the variance of the backward pass.
    #[doc(alias = "fan_out")]
    FanOut,
}

/// The non-linearity a gain is computed for (`torch.nn.init.calculate_gain`).
///
/// | variant | gain |
/// |---|---|
/// | `Linear` (also PyTorch's `conv*d`, `conv_transpose*d`) | 1 |
/// | `Sigmoid` | 1 |
/// | `Tanh` | 5/3 |
/// | `Relu` | √2 |
/// | `LeakyRelu` | √(2 / (1 + slope²)), slope = `param` (default 0.01) |
/// | `Selu` | 3/4 |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Nonlinearity {
    /// Identity (and convolutions): gain 1.
    Linear,
    /// Logistic sigmoid: gain 1.
    Sigmoid,
    /// Hyperbolic tangent: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    #[doc(alias = "relu")]
    Relu,
    /// Leaky ReLU: gain √(2/(1+slope²)). PyTorch's default for `kaiming_*_`.
    #[default]
    #[doc(alias = "leaky_relu")]
    LeakyRelu,
    /// SELU: gain 3/4.
    Selu,
}

/// The recommended gain for a non-linearity, as `torch.nn.init.calculate_gain`.
///
/// `param` is the negative slope of [`Nonlinearity::LeakyRelu`] (default `0.01` when
/// `None`) and is ignored for the other non-linearities.
///
/// # Example
///
/// ```
/// use ndtrain::model::init::{calculate_gain, Nonlinearity};
///
/// assert_eq!(calculate_gain(Nonlinearity::Tanh, None), 5.0 / 3.0);
/// assert_eq!(calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
/// // kaiming_uniform_(a=√5), nn.Linear's default: gain √(1/3).
/// assert!((calculate_gain(Nonlinearity::LeakyRelu, Some(5f64.sqrt())) - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a tensor shape, as `torch.nn.init._calculate_fan_in_and_fan_out`:
/// `fan_in = shape[1]·rf`, `fan_out = shape[0]·rf` with receptive field size
/// `rf = shape[2]·shape[3]·…` (1 for a matrix).
///
/// # Errors
/// [`Error::InvalidInput`] for a shape of fewer than 2 dimensions.
///
/// # Example
///
/// ```
/// use ndtrain::model::init::calculate_fan_in_and_fan_out;
///
/// assert_eq!(calculate_fan_in_and_fan_out(&[10, 64])?, (64, 10)); // nn.Linear(64, 10)
/// assert_eq!(calculate_fan_in_and_fan_out(&[16, 3, 5, 5])?, (75, 400)); // Conv2d(3, 16, 5)
/// assert!(calculate_fan_in_and_fan_out(&[5]).is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn calculate_fan_in_and_fan_out(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::invalid_input(
            "init::calculate_fan_in_and_fan_out",
            format!(
                "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape {shape:?})"
            ),
        ));
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

/// A weight initialisation scheme (`torch.nn.init`); see the [module docs](self) for the
/// formulas.
///
/// Hyper-parameters are checked by [`Init::validate`] (called by [`Init::fill`] and by
/// the layer builders), so a bad value is reported before any tensor is written.
///
/// | variant | parameters | valid range |
/// |---|---|---|
/// | `Constant(val)` | value | finite |
/// | `Uniform { low, high }` | bounds (PyTorch default 0, 1) | finite, `low <= high` |
/// | `Normal { mean, std }` | (PyTorch default 0, 1) | finite, `std >= 0` |
/// | `XavierUniform { gain }`, `XavierNormal { gain }` | gain (default 1) | finite, `>= 0` |
/// | `KaimingUniform/KaimingNormal { a, mode, nonlinearity }` | a = 0, `FanIn`, `LeakyRelu` | `a` finite |
///
/// # Example
///
/// ```
/// use ndarray::Array2;
/// use ndtrain::model::init::Init;
///
/// let mut rng = ndtrain::seeded_rng(1);
/// let mut w = Array2::<f64>::zeros((10, 64));
/// Init::LinearDefault.fill(w.view_mut().into_dyn(), &mut rng)?;
/// assert!(w.iter().all(|v| v.abs() <= 0.125)); // 1/√64
///
/// let bad = Init::XavierUniform { gain: -1.0 };
/// assert!(matches!(bad.validate(), Err(ndtrain::Error::InvalidParameter { name: "gain", .. })));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Init {
    /// PyTorch's `nn.Linear` / `nn.Conv*d` default (`kaiming_uniform_(a=√5)` for the
    /// weight, `U(±1/√fan_in)` for the bias): both are `U(-1/√fan_in, 1/√fan_in)`.
    #[default]
    #[doc(alias = "reset_parameters")]
    LinearDefault,
    /// All zeros (`zeros_`).
    #[doc(alias = "zeros_")]
    Zeros,
    /// Every element `val` (`constant_`).
    #[doc(alias = "constant_")]
    Constant(f64),
    /// `U(low, high)` (`uniform_`).
    #[doc(alias = "uniform_")]
    Uniform {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `N(mean, std²)` (`normal_`).
    #[doc(alias = "normal_")]
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Glorot & Bengio (2010) uniform: `U(-a, a)`, `a = gain·√(6/(fan_in+fan_out))`.
    #[doc(alias = "xavier_uniform_")]
    #[doc(alias = "glorot_uniform")]
    XavierUniform {
        /// Scaling factor (PyTorch default 1).
        gain: f64,
    },
    /// Glorot & Bengio (2010) normal: `N(0, std²)`, `std = gain·√(2/(fan_in+fan_out))`.
    #[doc(alias = "xavier_normal_")]
    #[doc(alias = "glorot_normal")]
    XavierNormal {
        /// Scaling factor (PyTorch default 1).
        gain: f64,
    },
    /// He et al. (2015) uniform: `U(-b, b)`, `b = calculate_gain(nonlinearity, a)·√(3/fan)`.
    #[doc(alias = "kaiming_uniform_")]
    #[doc(alias = "he_uniform")]
    KaimingUniform {
        /// Negative slope of the rectifier after this layer (used by `LeakyRelu` only).
        a: f64,
        /// Which fan to use.
        mode: FanMode,
        /// The non-linearity after this layer.
        nonlinearity: Nonlinearity,
    },
    /// He et al. (2015) normal: `N(0, std²)`, `std = calculate_gain(nonlinearity, a)/√fan`.
    #[doc(alias = "kaiming_normal_")]
    #[doc(alias = "he_normal")]
    KaimingNormal {
        /// Negative slope of the rectifier after this layer (used by `LeakyRelu` only).
        a: f64,
        /// Which fan to use.
        mode: FanMode,
        /// The non-linearity after this layer.
        nonlinearity: Nonlinearity,
    },
}

impl Init {
    /// `xavier_uniform_` with PyTorch's default gain 1.
    pub const fn xavier_uniform() -> Self {
        Init::XavierUniform { gain: 1.0 }
    }

    /// `xavier_normal_` with PyTorch's default gain 1.
    pub const fn xavier_normal() -> Self {
        Init::XavierNormal { gain: 1.0 }
    }

    /// `kaiming_uniform_` with PyTorch's defaults (`a=0, mode='fan_in',
    /// nonlinearity='leaky_relu'`, so gain √2).
    pub const fn kaiming_uniform() -> Self {
        Init::KaimingUniform { a: 0.0, mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu }
    }

    /// `kaiming_normal_` with PyTorch's defaults (`a=0, mode='fan_in',
    /// nonlinearity='leaky_relu'`, so gain √2).
    pub const fn kaiming_normal() -> Self {
        Init::KaimingNormal { a: 0.0, mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu }
    }

    /// Checks the hyper-parameters (see the table in the type docs).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the offending field (`"val"`, `"low"`, `"high"`,
    /// `"mean"`, `"std"`, `"gain"`, `"a"`).
    pub fn validate(&self) -> Result<()> {
        fn finite(name: &'static str, value: f64) -> Result<()> {
            if value.is_finite() {
                Ok(())
            } else {
                Err(Error::InvalidParameter { name, value, expected: "a finite number" })
            }
        }
        match *self {
            Init::LinearDefault | Init::Zeros => Ok(()),
            Init::Constant(val) => finite("val", val),
            Init::Uniform { low, high } => {
                finite("low", low)?;
                finite("high", high)?;
                if low > high {
                    return Err(Error::InvalidParameter { name: "high", value: high, expected: ">= low" });
                }
                Ok(())
            }
            Init::Normal { mean, std } => {
                finite("mean", mean)?;
                if !(std.is_finite() && std >= 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "std",
                        value: std,
                        expected: "finite and >= 0",
                    });
                }
                Ok(())
            }
            Init::XavierUniform { gain } | Init::XavierNormal { gain } => {
                if !(gain.is_finite() && gain >= 0.0) {
                    return Err(Error::InvalidParameter {
                        name: "gain",
                        value: gain,
                        expected: "finite and >= 0",
                    });
                }
                Ok(())
            }
            Init::KaimingUniform { a, .. } | Init::KaimingNormal { a, .. } => finite("a", a),
        }
    }

    /// Whether this scheme needs the tensor's fans (`fan_in`, `fan_out`).
    pub fn needs_fans(&self) -> bool {
        !matches!(self, Init::Zeros | Init::Constant(_) | Init::Uniform { .. } | Init::Normal { .. })
    }

    /// Fills `tensor` in place, with fans computed from its shape
    /// ([`calculate_fan_in_and_fan_out`]). A tensor with no elements is left as is
    /// (PyTorch warns and does nothing).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] from [`validate`](Init::validate);
    /// [`Error::InvalidInput`] for a fan-based scheme on a tensor of fewer than 2
    /// dimensions (use [`fill_with_fans`](Init::fill_with_fans) for a bias).
    pub fn fill<F: Float, R: Rng + ?Sized>(&self, tensor: ArrayViewMutD<'_, F>, rng: &mut R) -> Result<()> {
        self.validate()?;
        if tensor.is_empty() {
            return Ok(());
        }
        let (fan_in, fan_out) =
            if self.needs_fans() { calculate_fan_in_and_fan_out(tensor.shape())? } else { (0, 0) };
        self.fill_with_fans(tensor, fan_in, fan_out, rng)
    }

    /// Fills `tensor` in place using the given fans, whatever its shape. This is how a
    /// layer initialises its bias from its weight's fans (PyTorch's `nn.Linear` draws the
    /// bias from `U(±1/√fan_in)` of the weight).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] from [`validate`](Init::validate);
    /// [`Error::InvalidInput`] when a Xavier or Kaiming scheme gets a zero fan (the
    /// variance would be infinite).
    pub fn fill_with_fans<F: Float, R: Rng + ?Sized>(
        &self,
        mut tensor: ArrayViewMutD<'_, F>,
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) -> Result<()> {
        self.validate()?;
        let zero_fan = || {
            Error::invalid_input(
                "Init::fill",
                format!("{self:?} needs non-zero fans, got fan_in {fan_in}, fan_out {fan_out}"),
            )
        };
        match *self {
            Init::Zeros => tensor.fill(F::zero()),
            Init::Constant(val) => tensor.fill(F::lit(val)),
            Init::Uniform { low, high } => fill_uniform(tensor, low, high, rng),
            Init::Normal { mean, std } => fill_normal(tensor, mean, std, rng),
            Init::LinearDefault => {
                let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
                fill_uniform(tensor, -bound, bound, rng);
            }
            Init::XavierUniform { gain } | Init::XavierNormal { gain } => {
                if fan_in + fan_out == 0 {
                    return Err(zero_fan());
                }
                let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
                if matches!(self, Init::XavierUniform { .. }) {
                    let a = 3f64.sqrt() * std;
                    fill_uniform(tensor, -a, a, rng);
                } else {
                    fill_normal(tensor, 0.0, std, rng);
                }
            }
            Init::KaimingUniform { a, mode, nonlinearity }
            | Init::KaimingNormal { a, mode, nonlinearity } => {
                let fan = match mode {
                    FanMode::FanIn => fan_in,
                    FanMode::FanOut => fan_out,
                };
                if fan == 0 {
                    return Err(zero_fan());
                }
                let std = calculate_gain(nonlinearity, Some(a)) / (fan as f64).sqrt();
                if matches!(self, Init::KaimingUniform { .. }) {
                    let bound = 3f64.sqrt() * std;
                    fill_uniform(tensor, -bound, bound, rng);
                } else {
                    fill_normal(tensor, 0.0, std, rng);
                }
            }
        }
        Ok(())
    }
}

/// A uniform draw in `[0, 1)`: the top 53 bits of one `next_u64`.
#[inline]
pub(crate) fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normal draws (Box–Muller).
#[inline]
pub(crate) fn standard_normal_pair<R: Rng + ?Sized>(rng: &mut R) -> (f64, f64) {
    let u1 = 1.0 - uniform01(rng); // (0, 1]: ln(u1) is finite
    let u2 = uniform01(rng);
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

fn fill_uniform<F: Float, R: Rng + ?Sized>(mut t: ArrayViewMutD<'_, F>, low: f64, high: f64, rng: &mut R) {
    let width = high - low;
    t.iter_mut().for_each(|v| *v = F::lit(low + width * uniform01(rng)));
}

fn fill_normal<F: Float, R: Rng + ?Sized>(mut t: ArrayViewMutD<'_, F>, mean: f64, std: f64, rng: &mut R) {
    let mut spare: Option<f64> = None;
    t.iter_mut().for_each(|v| {
        let z = match spare.take() {
            Some(z) => z,
            None => {
                let (z0, z1) = standard_normal_pair(rng);
                spare = Some(z1);
                z0
            }
        };
        *v = F::lit(mean + std * z);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::seeded_rng;
    use ndarray::{ArrayD, IxDyn};

    fn sample<F: Float>(init: Init, shape: &[usize], seed: u64) -> ArrayD<F> {
        let mut t = ArrayD::<F>::zeros(IxDyn(shape));
        init.fill(t.view_mut(), &mut seeded_rng(seed)).unwrap();
        t
    }

    fn mean_var(t: &ArrayD<f64>) -> (f64, f64) {
        let n = t.len() as f64;
        let mean = t.sum() / n;
        let var = t.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        (mean, var)
    }

    /// Checks mean and variance of a large sample against the exact moments: with
    /// n = 200_000 draws the standard error of the mean is σ/√n ≈ 0.0022σ and of the
    /// variance ≈ σ²·√(κ-1)/√n (≤ 0.0032σ² here); 5 standard errors are allowed.
    fn check_moments(t: &ArrayD<f64>, mean: f64, var: f64, kurtosis: f64) {
        let n = t.len() as f64;
        let (m, v) = mean_var(t);
        assert!((m - mean).abs() < 5.0 * (var / n).sqrt(), "mean {m}, expected {mean}");
        let se_var = var * ((kurtosis - 1.0) / n).sqrt();
        assert!((v - var).abs() < 5.0 * se_var, "variance {v}, expected {var}");
    }

    const UNIFORM_KURTOSIS: f64 = 1.8;
    const NORMAL_KURTOSIS: f64 = 3.0;

    #[test]
    fn gains_match_torch() {
        // torch.nn.init.calculate_gain values.
        assert_eq!(calculate_gain(Nonlinearity::Linear, None), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Sigmoid, None), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Tanh, None), 5.0 / 3.0);
        assert_eq!(calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
        assert_eq!(calculate_gain(Nonlinearity::Selu, None), 0.75);
        // leaky_relu default slope 0.01: sqrt(2 / 1.0001) = 1.4141428569978354
        assert!((calculate_gain(Nonlinearity::LeakyRelu, None) - 1.4141428569978354).abs() < 1e-15);
        assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(0.0)), 2f64.sqrt());
        assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(1.0)), 1.0);
    }

    #[test]
    fn fans_follow_torch() {
        assert_eq!(calculate_fan_in_and_fan_out(&[3, 4]).unwrap(), (4, 3));
        assert_eq!(calculate_fan_in_and_fan_out(&[8, 2, 3, 3]).unwrap(), (18, 72));
        assert_eq!(calculate_fan_in_and_fan_out(&[8, 2, 5]).unwrap(), (10, 40));
        assert!(matches!(calculate_fan_in_and_fan_out(&[]), Err(Error::InvalidInput { .. })));
        let mut b = ArrayD::<f64>::zeros(IxDyn(&[5]));
        let err = Init::xavier_uniform().fill(b.view_mut(), &mut seeded_rng(0)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        // Schemes without fans work on 1-D and 0-D tensors.
        Init::Constant(2.5).fill(b.view_mut(), &mut seeded_rng(0)).unwrap();
        assert!(b.iter().all(|&v| v == 2.5));
        let mut s = ArrayD::<f64>::zeros(IxDyn(&[]));
        Init::Normal { mean: 1.0, std: 0.0 }.fill(s.view_mut(), &mut seeded_rng(0)).unwrap();
        assert_eq!(s[[]], 1.0);
    }

    #[test]
    fn invalid_parameters_return_their_variant() {
        let cases = [
            (Init::Constant(f64::NAN), "val"),
            (Init::Uniform { low: 1.0, high: 0.0 }, "high"),
            (Init::Uniform { low: f64::NEG_INFINITY, high: 0.0 }, "low"),
            (Init::Normal { mean: 0.0, std: -1.0 }, "std"),
            (Init::Normal { mean: f64::NAN, std: 1.0 }, "mean"),
            (Init::XavierUniform { gain: -0.5 }, "gain"),
            (Init::XavierNormal { gain: f64::INFINITY }, "gain"),
            (
                Init::KaimingUniform { a: f64::NAN, mode: FanMode::FanIn, nonlinearity: Nonlinearity::Relu },
                "a",
            ),
        ];
        for (init, field) in cases {
            match init.validate() {
                Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, field, "{init:?}"),
                other => panic!("{init:?}: {other:?}"),
            }
            // fill validates too and leaves the tensor untouched.
            let mut t = ArrayD::<f64>::from_elem(IxDyn(&[2, 2]), 7.0);
            assert!(init.fill(t.view_mut(), &mut seeded_rng(0)).is_err());
            assert!(t.iter().all(|&v| v == 7.0));
        }
    }

    #[test]
    fn linear_default_bounds_are_exact() {
        // fan_in = 64: bound 1/8, exactly representable in f32 and f64.
        let t = sample::<f64>(Init::LinearDefault, &[500, 64], 3);
        assert!(t.iter().all(|&v| (-0.125..0.125).contains(&v)));
        let max = t.iter().cloned().fold(f64::MIN, f64::max);
        let min = t.iter().cloned().fold(f64::MAX, f64::min);
        assert!(max > 0.1249 && min < -0.1249, "{min} {max}");
        check_moments(&t, 0.0, 0.125 * 0.125 / 3.0, UNIFORM_KURTOSIS);
        let t32 = sample::<f32>(Init::LinearDefault, &[500, 64], 3);
        assert!(t32.iter().all(|&v| v.abs() <= 0.125));
        // Same stream in f32 and f64, rounded once.
        assert_eq!(t32[[7, 9]], t[[7, 9]] as f32);
    }

    #[test]
    fn xavier_statistics() {
        // fan_in 300, fan_out 200 (4-D: 100 x 150 x 2 x 1 -> rf 2): a = sqrt(6/500)
        let shape = [100, 150, 2, 1];
        let (fi, fo) = calculate_fan_in_and_fan_out(&shape).unwrap();
        assert_eq!((fi, fo), (300, 200));
        let gain = 1.5;
        let t = sample::<f64>(Init::XavierUniform { gain }, &shape, 11);
        let a = gain * (6.0f64 / 500.0).sqrt();
        assert!(t.iter().all(|&v| v >= -a && v <= a));
        assert!(t.iter().any(|&v| v > 0.999 * a));
        check_moments(&t, 0.0, a * a / 3.0, UNIFORM_KURTOSIS);

        let t = sample::<f64>(Init::XavierNormal { gain }, &shape, 12);
        let std = gain * (2.0f64 / 500.0).sqrt();
        check_moments(&t, 0.0, std * std, NORMAL_KURTOSIS);
    }

    #[test]
    fn kaiming_statistics() {
        let shape = [400, 500];
        let relu = Init::KaimingUniform { a: 0.0, mode: FanMode::FanIn, nonlinearity: Nonlinearity::Relu };
        let t = sample::<f64>(relu, &shape, 5);
        let bound = (6.0f64 / 500.0).sqrt(); // gain sqrt(2) * sqrt(3 / fan_in)
        assert!(t.iter().all(|&v| v >= -bound && v <= bound));
        check_moments(&t, 0.0, 2.0 / 500.0, UNIFORM_KURTOSIS);

        let fan_out_tanh =
            Init::KaimingNormal { a: 0.0, mode: FanMode::FanOut, nonlinearity: Nonlinearity::Tanh };
        let t = sample::<f64>(fan_out_tanh, &shape, 6);
        let std = (5.0 / 3.0) / 400f64.sqrt();
        check_moments(&t, 0.0, std * std, NORMAL_KURTOSIS);

        // leaky_relu with a = sqrt(5) is nn.Linear's default: bound 1/sqrt(fan_in).
        let torch_linear = Init::KaimingUniform {
            a: 5f64.sqrt(),
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::LeakyRelu,
        };
        let t = sample::<f64>(torch_linear, &shape, 7);
        let b = 1.0 / 500f64.sqrt();
        assert!(t.iter().all(|&v| v.abs() <= b * (1.0 + 1e-12)));
        check_moments(&t, 0.0, b * b / 3.0, UNIFORM_KURTOSIS);

        // Default kaiming_normal_: gain sqrt(2), fan_in.
        let t = sample::<f64>(Init::kaiming_normal(), &shape, 8);
        check_moments(&t, 0.0, 2.0 / 500.0, NORMAL_KURTOSIS);
    }

    #[test]
    fn uniform_normal_constant() {
        let t = sample::<f64>(Init::Uniform { low: 2.0, high: 5.0 }, &[400, 500], 1);
        assert!(t.iter().all(|&v| (2.0..5.0).contains(&v)));
        check_moments(&t, 3.5, 9.0 / 12.0, UNIFORM_KURTOSIS);
        let t = sample::<f64>(Init::Normal { mean: -1.0, std: 0.5 }, &[400, 501], 2);
        check_moments(&t, -1.0, 0.25, NORMAL_KURTOSIS);
        // Box–Muller tails: about 0.27% of draws beyond 3 sigma.
        let beyond = t.iter().filter(|&&v| (v + 1.0).abs() > 1.5).count() as f64 / t.len() as f64;
        assert!((beyond - 0.0027).abs() < 0.0008, "{beyond}");
        let t = sample::<f32>(Init::Zeros, &[3, 3], 0);
        assert!(t.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn seeded_and_reproducible() {
        let a = sample::<f64>(Init::kaiming_uniform(), &[20, 30], 42);
        let b = sample::<f64>(Init::kaiming_uniform(), &[20, 30], 42);
        let c = sample::<f64>(Init::kaiming_uniform(), &[20, 30], 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn zero_fans_and_empty_tensors() {
        let mut e = ArrayD::<f64>::zeros(IxDyn(&[0, 5]));
        Init::xavier_normal().fill(e.view_mut(), &mut seeded_rng(0)).unwrap();
        let mut t = ArrayD::<f64>::zeros(IxDyn(&[3]));
        let err = Init::kaiming_uniform().fill_with_fans(t.view_mut(), 0, 4, &mut seeded_rng(0)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }));
        Init::LinearDefault.fill_with_fans(t.view_mut(), 0, 4, &mut seeded_rng(0)).unwrap();
        assert!(t.iter().all(|&v| v == 0.0));
    }
}
