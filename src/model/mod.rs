//! Models: the [`Model`] trait, the composable [`Layer`] trait and the built-in layers.
//!
//! A model maps a batch (samples along axis 0) to an output batch, and after a
//! training-mode forward pass turns `dL/d(output)` into parameter gradients. The
//! backward passes are written by hand (no autograd tape), and every output and
//! gradient lives in a buffer the layer owns and reuses, so steady-state training
//! allocates nothing per batch.
//!
//! Gradients are *overwritten* by each `backward` (PyTorch accumulates into `.grad`
//! until `zero_grad`; ndtrain has no `zero_grad` to forget).

pub mod init;
pub mod layers;
mod linear;
mod sequential;

pub use init::Init;
pub use layers::{
    Activation, Dropout, DropoutBuilder, Flatten, FrozenRandomness, Gelu, GeluApproximate, LeakyRelu, Relu,
    Sigmoid, Tanh, freeze_randomness, frozen_randomness,
};
pub use linear::{Dense, Linear, LinearBuilder};
pub use sequential::Sequential;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::tensor::{Float, Param};

/// Whether a forward pass trains (dropout active, inputs cached for `backward`) or
/// evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: stochastic layers are active and `backward` may follow.
    Train,
    /// Evaluation / inference: deterministic; `backward` is not allowed afterwards.
    Eval,
}

/// The callback [`Model::visit_params`] calls once per parameter tensor, with the
/// parameter's identity, the tensor and its gradient from the last `backward` (both
/// mutable: optimizers write the tensor, gradient clipping and DP-SGD rewrite the
/// gradient).
pub type ParamVisitor<'v, F> =
    dyn FnMut(Param<'_>, ArrayViewMutD<'_, F>, ArrayViewMutD<'_, F>) -> Result<()> + 'v;

/// A trainable model: forward, hand-written backward, and access to its parameters.
///
/// Batches run along axis 0; inputs may have any number of dimensions. Implement the
/// three required methods and the model works with every [`Optimizer`](crate::optim::Optimizer),
/// the [`Trainer`](crate::train::Trainer) and [`gradcheck`](crate::gradcheck::gradcheck).
///
/// # Contract
///
/// * `forward` returns a view of a buffer the model owns (reused between calls).
/// * `backward(grad_out)` follows a [`Mode::Train`] forward; `grad_out` has the shape
///   of that forward's output. It *overwrites* every parameter gradient.
/// * `visit_params` visits every parameter in a fixed order; the `id` of the `k`-th
///   visited tensor is `k`. Gradients have their parameter's shape.
/// * On `Err`, nothing observable (parameters, gradients) has changed.
///
/// # Example: a model `y = a * x` with one scalar parameter
///
/// ```
/// use ndarray::{arr0, ArrayD, ArrayViewD, IxDyn};
/// use ndtrain::prelude::*;
/// use ndtrain::model::ParamVisitor;
///
/// struct Scale { a: ArrayD<f64>, grad: ArrayD<f64>, x: ArrayD<f64>, out: ArrayD<f64> }
///
/// impl Model<f64> for Scale {
///     fn forward(&mut self, x: ArrayViewD<'_, f64>, _mode: Mode) -> ndtrain::Result<ArrayViewD<'_, f64>> {
///         let a = self.a[[]];
///         self.x = x.to_owned();
///         self.out = x.mapv(|v| a * v);
///         Ok(self.out.view())
///     }
///     fn backward(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
///         self.grad[[]] = (&g * &self.x).sum(); // dL/da = sum(g * x)
///         Ok(())
///     }
///     fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
///         f(Param::new(0, "a"), self.a.view_mut(), self.grad.view_mut())
///     }
/// }
///
/// let mut m = Scale { a: arr0(2.0).into_dyn(), grad: arr0(0.0).into_dyn(),
///                     x: ArrayD::zeros(IxDyn(&[0])), out: ArrayD::zeros(IxDyn(&[0])) };
/// let x = ndarray::array![[1.0], [3.0]].into_dyn();
/// assert_eq!(m.forward(x.view(), Mode::Train)?.sum(), 8.0);
/// let report = gradcheck(&mut m, x.view(), &GradcheckOptions::default())?;
/// assert!(report.passed(1e-6));
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Model<F: Float> {
    /// Runs the model on a batch and returns its output.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `x` does not have the shape the model expects.
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>>;

    /// Back-propagates `grad_out = dL/d(output)` of the last training-mode forward and
    /// stores the gradient of every parameter.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `grad_out` does not match the last output, and
    /// [`Error::InvalidInput`] when no training-mode forward preceded it.
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()>;

    /// Calls `f(param, value, grad)` for every parameter tensor, in a stable order.
    /// Stops at, and returns, the first error `f` returns.
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()>;

    /// Total number of scalar parameters.
    fn num_parameters(&mut self) -> usize {
        let mut n = 0;
        // The closure never fails, so neither does the visit.
        let _ = self.visit_params(&mut |_, v, _| {
            n += v.len();
            Ok(())
        });
        n
    }

    /// A copy of every parameter, with its name, in visit order (like PyTorch's
    /// `state_dict()` for parameters).
    fn parameters(&mut self) -> Vec<(String, ArrayD<F>)> {
        let mut out = Vec::new();
        let _ = self.visit_params(&mut |p, v, _| {
            out.push((p.name.to_string(), v.to_owned()));
            Ok(())
        });
        out
    }

    /// A copy of every parameter gradient from the last `backward`, in visit order.
    fn gradients(&mut self) -> Vec<(String, ArrayD<F>)> {
        let mut out = Vec::new();
        let _ = self.visit_params(&mut |p, _, g| {
            out.push((p.name.to_string(), g.to_owned()));
            Ok(())
        });
        out
    }

    /// Overwrites every parameter with `values` (visit order, as returned by
    /// [`parameters`](Model::parameters)). Checks every shape first, so on `Err`
    /// the model is unchanged.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong number of tensors,
    /// [`Error::ShapeMismatch`] for a tensor of the wrong shape.
    fn set_parameters(&mut self, values: &[ArrayD<F>]) -> Result<()> {
        let op = "Model::set_parameters";
        let mut k = 0;
        self.visit_params(&mut |_, v, _| {
            match values.get(k) {
                Some(new) if new.shape() == v.shape() => {}
                Some(new) => {
                    return Err(Error::ShapeMismatch {
                        op,
                        expected: v.shape().to_vec(),
                        got: new.shape().to_vec(),
                    });
                }
                None => {}
            }
            k += 1;
            Ok(())
        })?;
        if k != values.len() {
            return Err(Error::LengthMismatch {
                op,
                what: "number of parameter tensors",
                expected: k,
                got: values.len(),
            });
        }
        let mut k = 0;
        self.visit_params(&mut |_, mut v, _| {
            v.assign(&values[k]);
            k += 1;
            Ok(())
        })
    }
}

/// A [`Model`] that can sit inside a [`Sequential`]: its backward pass also returns
/// the gradient with respect to its input.
///
/// `Model::backward` of a layer may skip the input gradient (the first layer of a
/// network needs none: for W1 that saves a quarter of the arithmetic).
pub trait Layer<F: Float>: Model<F> {
    /// Like [`Model::backward`], and returns `dL/d(input)` (shape of the last input).
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>>;
}

impl<F: Float, M: Model<F> + ?Sized> Model<F> for Box<M> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        (**self).forward(x, mode)
    }
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        (**self).backward(grad_out)
    }
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        (**self).visit_params(f)
    }
}

impl<F: Float, L: Layer<F> + ?Sized> Layer<F> for Box<L> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        (**self).backward_input(grad_out)
    }
}
