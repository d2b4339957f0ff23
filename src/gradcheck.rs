//! Finite-difference gradient check for hand-written backward passes.
//!
//! [`gradcheck`] compares the parameter gradients a [`Model`]'s `backward` computes
//! with central differences; [`gradcheck_input`] does the same for a [`Layer`]'s input
//! gradient. Run them (in `f64`) on every custom model before training it.
//!
//! # Method
//!
//! The scalar objective is `L(θ) = Σᵢ outᵢ(θ)·rᵢ` with fixed pseudo-random weights
//! `rᵢ ~ U(−1, 1)` drawn from `opts.seed`, so every output element contributes with a
//! different weight. The analytic gradient is `backward(r)` after a training-mode
//! forward. The numeric one, per checked element `θⱼ`, is
//! `(L(θⱼ + ε) − L(θⱼ − ε)) / ((θⱼ + ε) − (θⱼ − ε))` (the actual step after rounding),
//! summed as `Σᵢ (outᵢ(θⱼ + ε) − outᵢ(θⱼ − ε))·rᵢ` so that outputs the perturbation does
//! not reach cancel exactly.
//! Per parameter tensor the report holds the worst
//!
//! `relative error = |a − n| / max(|a|, |n|, floor)` and `absolute error = |a − n|`.
//!
//! | option | default | range |
//! |---|---|---|
//! | `eps` | 1e-6 | finite, `> 0` |
//! | `floor` | 1e-3 | finite, `> 0` |
//! | `seed` | 0 | any |
//! | `max_elements` | `None` (every element) | `>= 1` per tensor |
//!
//! The floor turns the relative error into `|a − n| / floor` for gradient elements
//! smaller than it: with `ε = 1e-6` in `f64` the numeric derivative carries a rounding
//! noise around `1e-10·|out|`, which would dominate the relative error of a
//! (near-)zero gradient element. A wrong backward shows errors of order 1e-2 to 1
//! either way; a correct one stays below 1e-7.
//!
//! Every forward of the check runs in [`Mode::Train`] (a `backward` needs one) inside
//! [`freeze_randomness`], so stochastic layers such as
//! [`Dropout`](crate::model::Dropout) draw one mask and keep it for the whole check.
//! Each parameter element is restored bit for bit after its two evaluations, and at the
//! end the model has run one last forward and `backward(r)` at the original
//! parameters (its gradients are the analytic ones of the report).
//!
//! Reference: the same test as `torch.autograd.gradcheck` (which compares the full
//! Jacobian with `atol=1e-5, rtol=1e-3`); ndtrain checks one random projection of it,
//! which catches any wrong gradient entry with probability 1.
//!
//! # Example
//!
//! ```
//! use ndarray::Array2;
//! use ndtrain::prelude::*;
//!
//! let mut rng = ndtrain::seeded_rng(0);
//! let mut net = Sequential::<f64>::mlp(&[4, 8, 3], Activation::Tanh, &mut rng)?;
//! let x = Array2::from_shape_fn((5, 4), |(i, j)| (i as f64 - 2.0) * 0.3 + j as f64 * 0.1).into_dyn();
//! let report = gradcheck(&mut net, x.view(), &GradcheckOptions::default())?;
//! assert!(report.passed(1e-6), "{report}");
//! println!("{report}");
//! # Ok::<(), ndtrain::Error>(())
//! ```

use std::fmt;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::model::init::uniform01;
use crate::model::{AsInput, Input, Layer, Mode, Model, Module, freeze_randomness};
use crate::tensor::{SeededRng, seeded_rng};

/// Settings of [`gradcheck`] and [`gradcheck_input`]; see the [module docs](self) for
/// defaults and ranges. Set fields directly or with the chained setters; the values
/// are validated when a check starts.
///
/// # Example
///
/// ```
/// use ndtrain::prelude::*;
///
/// let opts = GradcheckOptions::default().eps(1e-5).max_elements(200).seed(3);
/// assert_eq!(opts.eps, 1e-5);
/// let same = GradcheckOptions { eps: 1e-5, max_elements: Some(200), seed: 3, ..Default::default() };
/// assert_eq!(opts, same);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// Finite-difference step (default 1e-6).
    pub eps: f64,
    /// Denominator floor of the relative error (default 1e-3).
    pub floor: f64,
    /// Seed of the objective's weights and of the element sampling (default 0).
    pub seed: u64,
    /// At most this many elements per tensor, sampled without replacement (default
    /// `None`: every element).
    pub max_elements: Option<usize>,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, floor: 1e-3, seed: 0, max_elements: None }
    }
}

impl GradcheckOptions {
    /// Finite-difference step (default 1e-6).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Denominator floor of the relative error (default 1e-3).
    pub fn floor(mut self, floor: f64) -> Self {
        self.floor = floor;
        self
    }

    /// Seed of the objective's weights and of the element sampling (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks at most `n` elements per tensor, sampled without replacement (default:
    /// every element).
    pub fn max_elements(mut self, n: usize) -> Self {
        self.max_elements = Some(n);
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::InvalidParameter { name: "eps", value: self.eps, expected: "finite and > 0" });
        }
        if !(self.floor.is_finite() && self.floor > 0.0) {
            return Err(Error::InvalidParameter {
                name: "floor",
                value: self.floor,
                expected: "finite and > 0",
            });
        }
        if self.max_elements == Some(0) {
            return Err(Error::InvalidParameter { name: "max_elements", value: 0.0, expected: ">= 1" });
        }
        Ok(())
    }
}

/// The result of checking one tensor (a parameter, or the input).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorCheck {
    /// Parameter id, or `None` for the input of [`gradcheck_input`].
    pub id: Option<usize>,
    /// Parameter name (`"0.weight"`), or `"input"`.
    pub name: String,
    /// Shape of the tensor.
    pub shape: Vec<usize>,
    /// Number of elements checked.
    pub checked: usize,
    /// Worst relative error `|a − n| / max(|a|, |n|, floor)` (NaN if any was NaN).
    pub max_rel_error: f64,
    /// Worst absolute error `|a − n|`.
    pub max_abs_error: f64,
    /// Multi-index of the element with the worst relative error.
    pub worst_index: Vec<usize>,
    /// Analytic gradient at `worst_index`.
    pub analytic: f64,
    /// Numeric gradient at `worst_index`.
    pub numeric: f64,
}

impl TensorCheck {
    fn new(id: Option<usize>, name: String, shape: Vec<usize>) -> Self {
        TensorCheck {
            id,
            name,
            worst_index: vec![0; shape.len()],
            shape,
            checked: 0,
            max_rel_error: 0.0,
            max_abs_error: 0.0,
            analytic: 0.0,
            numeric: 0.0,
        }
    }

    fn record(&mut self, flat: usize, analytic: f64, numeric: f64, floor: f64) {
        let abs = (analytic - numeric).abs();
        let rel = abs / analytic.abs().max(numeric.abs()).max(floor);
        let worse = if self.max_rel_error.is_nan() {
            false
        } else {
            rel.is_nan() || rel > self.max_rel_error || self.checked == 0
        };
        if worse {
            self.max_rel_error = if rel.is_nan() { f64::NAN } else { rel };
            self.worst_index = unravel(flat, &self.shape);
            self.analytic = analytic;
            self.numeric = numeric;
        }
        if abs > self.max_abs_error || abs.is_nan() {
            self.max_abs_error = abs;
        }
        self.checked += 1;
    }

    /// Whether the worst relative error is at most `tol` (false for NaN).
    pub fn passed(&self, tol: f64) -> bool {
        self.max_rel_error <= tol
    }
}

/// The result of [`gradcheck`] / [`gradcheck_input`]: one [`TensorCheck`] per tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// Per tensor, in visit order.
    pub tensors: Vec<TensorCheck>,
}

impl GradcheckReport {
    /// Whether every tensor's worst relative error is at most `tol` (a NaN fails; a
    /// model without parameters passes trivially).
    pub fn passed(&self, tol: f64) -> bool {
        self.tensors.iter().all(|t| t.passed(tol))
    }

    /// The tensor with the largest relative error (NaN counts as largest).
    pub fn worst(&self) -> Option<&TensorCheck> {
        self.tensors.iter().fold(None, |best: Option<&TensorCheck>, t| match best {
            None => Some(t),
            Some(b) if b.max_rel_error.is_nan() => Some(b),
            Some(b) if t.max_rel_error.is_nan() || t.max_rel_error > b.max_rel_error => Some(t),
            Some(b) => Some(b),
        })
    }

    /// The largest relative error over all tensors (0 when nothing was checked).
    pub fn max_rel_error(&self) -> f64 {
        self.worst().map_or(0.0, |t| t.max_rel_error)
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checked: usize = self.tensors.iter().map(|t| t.checked).sum();
        let total: usize = self.tensors.iter().map(|t| t.shape.iter().product::<usize>()).sum();
        write!(f, "gradcheck: {} tensors, {checked} of {total} elements checked", self.tensors.len())?;
        match self.worst() {
            Some(w) => writeln!(f, ", worst relative error {:.3e} in {}", w.max_rel_error, w.name)?,
            None => writeln!(f)?,
        }
        if self.tensors.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "  {:<16} {:<14} {:>9} {:>12} {:>12}  worst at: analytic / numeric",
            "name", "shape", "checked", "max rel err", "max abs err"
        )?;
        for t in &self.tensors {
            writeln!(
                f,
                "  {:<16} {:<14} {:>9} {:>12.3e} {:>12.3e}  {:?}: {:.9e} / {:.9e}",
                t.name,
                format!("{:?}", t.shape),
                t.checked,
                t.max_rel_error,
                t.max_abs_error,
                t.worst_index,
                t.analytic,
                t.numeric
            )?;
        }
        Ok(())
    }
}

fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[i] = flat % d;
            flat /= d;
        }
    }
    index
}

/// Element indices to check: all, or `max` sampled without replacement, ascending.
fn sample_indices(n: usize, max: Option<usize>, rng: &mut SeededRng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    match max {
        Some(m) if m < n => {
            // Partial Fisher–Yates.
            for i in 0..m {
                let j = i + ((uniform01(rng) * (n - i) as f64) as usize).min(n - i - 1);
                all.swap(i, j);
            }
            all.truncate(m);
            all.sort_unstable();
            all
        }
        _ => all,
    }
}

fn element_mut<'a>(v: &'a mut ArrayViewMutD<'_, f64>, flat: usize) -> Option<&'a mut f64> {
    if v.is_standard_layout() {
        v.as_slice_mut().and_then(|s| s.get_mut(flat))
    } else {
        v.iter_mut().nth(flat)
    }
}

/// Sets element `flat` of the `k`-th visited parameter tensor to `value`.
fn set_param<M: Module<f64> + ?Sized>(model: &mut M, k: usize, flat: usize, value: f64) -> Result<()> {
    let mut seen = 0;
    model.visit_params(&mut |_, mut v, _| {
        if seen == k {
            if let Some(e) = element_mut(&mut v, flat) {
                *e = value;
            }
        }
        seen += 1;
        Ok(())
    })
}

fn get_param<M: Module<f64> + ?Sized>(model: &mut M, k: usize, flat: usize) -> Result<f64> {
    let mut seen = 0;
    let mut out = f64::NAN;
    model.visit_params(&mut |_, mut v, _| {
        if seen == k {
            if let Some(e) = element_mut(&mut v, flat) {
                out = *e;
            }
        }
        seen += 1;
        Ok(())
    })?;
    Ok(out)
}

/// Runs a training-mode forward and copies the output into `buf` (shape of `r`).
fn output_into<I: Input<f64>, M: Model<f64, I> + ?Sized>(
    model: &mut M,
    x: I::View<'_>,
    buf: &mut ArrayD<f64>,
) -> Result<()> {
    let out = model.forward(x, Mode::Train)?;
    if out.shape() != buf.shape() {
        return Err(Error::ShapeMismatch {
            op: "gradcheck",
            expected: buf.shape().to_vec(),
            got: out.shape().to_vec(),
        });
    }
    buf.assign(&out);
    Ok(())
}

/// `(L(+) − L(−)) / step` with `L = Σ out·r`, summed as `Σ (out₊ − out₋)·r` so that
/// the output elements the perturbation does not reach cancel exactly instead of adding
/// rounding noise.
fn central_difference(plus: &ArrayD<f64>, minus: &ArrayD<f64>, r: &ArrayD<f64>, step: f64) -> f64 {
    let mut sum = 0.0;
    Zip::from(plus).and(minus).and(r).for_each(|&p, &m, &w| sum += (p - m) * w);
    sum / step
}

/// Random objective weights of the model's output shape, after a first forward.
fn objective_weights<I: Input<f64>, M: Model<f64, I> + ?Sized>(
    model: &mut M,
    x: I::View<'_>,
    rng: &mut SeededRng,
) -> Result<ArrayD<f64>> {
    let shape = model.forward(x, Mode::Train)?.shape().to_vec();
    let mut r = ArrayD::zeros(IxDyn(&shape));
    r.iter_mut().for_each(|v| *v = 2.0 * uniform01(rng) - 1.0);
    Ok(r)
}

/// Checks every parameter gradient of `model` at input `x` against central
/// differences; see the [module docs](self) for the method and options.
///
/// `x` is of the model's input kind: a float array, an array of `usize` ids for a
/// model of [`Indices`](crate::model::Indices) (an embedding), or a tuple.
///
/// Parameters are restored exactly, also when an error interrupts the check.
///
/// # Errors
/// [`Error::InvalidParameter`] for invalid options; any error of the model's
/// `forward`/`backward`/`visit_params` (e.g. [`Error::ShapeMismatch`] for an input the
/// model rejects).
pub fn gradcheck<I: Input<f64>, M: Model<f64, I> + ?Sized, X: AsInput<f64, I>>(
    model: &mut M,
    x: X,
    opts: &GradcheckOptions,
) -> Result<GradcheckReport> {
    opts.validate()?;
    let x = x.as_input();
    let _frozen = freeze_randomness();
    let mut rng = seeded_rng(opts.seed);
    let r = objective_weights::<I, M>(model, x.clone(), &mut rng)?;
    model.backward(r.view())?;
    let analytic: Vec<(usize, String, ArrayD<f64>)> = {
        let mut grads = Vec::new();
        model.visit_params(&mut |p, _, g| {
            grads.push((p.id, p.name.to_string(), g.to_owned()));
            Ok(())
        })?;
        grads
    };

    let (mut plus, mut minus) = (r.clone(), r.clone());
    let mut tensors = Vec::with_capacity(analytic.len());
    for (k, (id, name, grad)) in analytic.iter().enumerate() {
        let mut check = TensorCheck::new(Some(*id), name.clone(), grad.shape().to_vec());
        let grad = grad.as_standard_layout();
        let grad = grad.as_slice().expect("standard layout");
        for j in sample_indices(grad.len(), opts.max_elements, &mut rng) {
            let orig = get_param(model, k, j)?;
            let (up, down) = (orig + opts.eps, orig - opts.eps);
            let evaluated = (|| -> Result<()> {
                set_param(model, k, j, up)?;
                output_into::<I, M>(model, x.clone(), &mut plus)?;
                set_param(model, k, j, down)?;
                output_into::<I, M>(model, x.clone(), &mut minus)
            })();
            set_param(model, k, j, orig)?;
            evaluated?;
            check.record(j, grad[j], central_difference(&plus, &minus, &r, up - down), opts.floor);
        }
        tensors.push(check);
    }
    // Leave the caches and gradients consistent with the restored parameters.
    model.forward(x, Mode::Train)?;
    model.backward(r.view())?;
    Ok(GradcheckReport { tensors })
}

/// Checks the input gradient of a [`Layer`] (its [`Layer::backward_input`]) at `x`
/// against central differences in `x`. The report has one tensor, named `"input"`.
/// `x` itself is not modified (the check perturbs a copy).
///
/// # Errors
/// As [`gradcheck`].
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
///
/// let mut gelu = Gelu::<f64>::default();
/// let x = array![[-1.5, -0.2, 0.3, 2.0]].into_dyn();
/// let report = gradcheck_input(&mut gelu, x.view(), &GradcheckOptions::default())?;
/// assert!(report.passed(1e-6), "{report}");
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn gradcheck_input<L: Layer<f64> + ?Sized>(
    layer: &mut L,
    x: ArrayViewD<'_, f64>,
    opts: &GradcheckOptions,
) -> Result<GradcheckReport> {
    opts.validate()?;
    let _frozen = freeze_randomness();
    let mut rng = seeded_rng(opts.seed);
    let r = objective_weights::<crate::model::Floats, L>(layer, x.view(), &mut rng)?;
    let analytic = layer.backward_input(r.view())?.as_standard_layout().into_owned();
    if analytic.shape() != x.shape() {
        return Err(Error::ShapeMismatch {
            op: "gradcheck_input",
            expected: x.shape().to_vec(),
            got: analytic.shape().to_vec(),
        });
    }
    let grad = analytic.as_slice().expect("standard layout");
    let mut xw = x.as_standard_layout().into_owned();
    let mut check = TensorCheck::new(None, "input".to_string(), x.shape().to_vec());
    let (mut plus, mut minus) = (r.clone(), r.clone());
    for j in sample_indices(grad.len(), opts.max_elements, &mut rng) {
        let orig = xw.as_slice().expect("standard layout")[j];
        let (up, down) = (orig + opts.eps, orig - opts.eps);
        xw.as_slice_mut().expect("standard layout")[j] = up;
        output_into::<crate::model::Floats, L>(layer, xw.view(), &mut plus)?;
        xw.as_slice_mut().expect("standard layout")[j] = down;
        output_into::<crate::model::Floats, L>(layer, xw.view(), &mut minus)?;
        xw.as_slice_mut().expect("standard layout")[j] = orig;
        check.record(j, grad[j], central_difference(&plus, &minus, &r, up - down), opts.floor);
    }
    layer.forward(x.view(), Mode::Train)?;
    layer.backward_input(r.view())?;
    Ok(GradcheckReport { tensors: vec![check] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
        assert_eq!(unravel(23, &[2, 3, 4]), vec![1, 2, 3]);
    }

    #[test]
    fn sampling_is_distinct_sorted_and_seeded() {
        let mut rng = seeded_rng(1);
        let s = sample_indices(1000, Some(50), &mut rng);
        assert_eq!(s.len(), 50);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!(*s.last().unwrap() < 1000);
        let t = sample_indices(1000, Some(50), &mut seeded_rng(1));
        assert_eq!(s, t);
        assert_eq!(sample_indices(4, Some(10), &mut rng), vec![0, 1, 2, 3]);
    }

    #[test]
    fn record_tracks_worst_and_nan() {
        let mut c = TensorCheck::new(Some(0), "w".into(), vec![3]);
        c.record(0, 1.0, 1.0 + 1e-9, 1e-3);
        c.record(1, 0.0, 1e-5, 1e-3); // below the floor: 1e-5 / 1e-3
        c.record(2, 2.0, 2.0, 1e-3);
        assert!((c.max_rel_error - 1e-2).abs() < 1e-12);
        assert_eq!(c.worst_index, vec![1]);
        assert_eq!(c.checked, 3);
        c.record(2, f64::NAN, 1.0, 1e-3);
        assert!(c.max_rel_error.is_nan());
        c.record(0, 1.0, 5.0, 1e-3);
        assert!(c.max_rel_error.is_nan() && !c.passed(1.0));
    }

    #[test]
    fn invalid_options() {
        for (opts, name) in [
            (GradcheckOptions::default().eps(0.0), "eps"),
            (GradcheckOptions::default().eps(f64::NAN), "eps"),
            (GradcheckOptions::default().floor(-1.0), "floor"),
            (GradcheckOptions::default().max_elements(0), "max_elements"),
        ] {
            match opts.validate() {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{other:?}"),
            }
        }
    }
}
