//! Built-in parameter-free layers: activations ([`Relu`], [`LeakyRelu`], [`Tanh`],
//! [`Sigmoid`], [`Gelu`]; the smooth [`Elu`], [`Selu`], [`Celu`], [`Silu`], [`Mish`],
//! [`Softplus`], [`LogSigmoid`], [`Softsign`]; the piecewise-linear [`Hardtanh`],
//! [`Relu6`], [`Hardsigmoid`], [`Hardswish`]; [`Softmax`] and [`LogSoftmax`] along an
//! axis), [`Dropout`] and [`Flatten`].
//!
//! Each one writes its output into a buffer it owns and keeps what its backward pass
//! needs (its output, or a copy of its input), so a forward/backward pair allocates
//! nothing once the largest batch has been seen. Inputs may have any shape
//! (batch along axis 0); element-wise layers keep the shape.

mod activation;
mod dropout;
mod erf;
mod flatten;
mod hard;
mod smooth;
mod softmax;

pub use activation::{Activation, Gelu, GeluApproximate, LeakyRelu, Relu, Sigmoid, Tanh};
pub use dropout::{Dropout, DropoutBuilder, FrozenRandomness, freeze_randomness, frozen_randomness};
pub use flatten::Flatten;
pub use hard::{Hardsigmoid, Hardswish, Hardtanh, Relu6};
pub use smooth::{Celu, Elu, LogSigmoid, Mish, Selu, Silu, Softplus, Softsign};
pub use softmax::{LogSoftmax, Softmax};

pub(crate) use erf::erfc;

use ndarray::{ArrayViewD, ArrayViewMut2, ArrayViewMutD, Ix2};

use crate::error::{Error, Result};
use crate::model::Mode;
use crate::tensor::{Buffer, Float};

/// What the last forward pass of a layer was: `backward` needs a training-mode one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Pass {
    /// No forward yet (or the last one failed part-way, in a container).
    #[default]
    None,
    /// The last forward ran in [`Mode::Eval`].
    Eval,
    /// The last forward ran in [`Mode::Train`].
    Train,
}

impl Pass {
    pub(crate) fn of(mode: Mode) -> Self {
        match mode {
            Mode::Train | Mode::EvalGrad => Pass::Train,
            Mode::Eval => Pass::Eval,
        }
    }

    /// `Err(InvalidInput)` unless the last forward ran in training mode.
    pub(crate) fn require_train(self, op: &'static str) -> Result<()> {
        match self {
            Pass::Train => Ok(()),
            Pass::None => Err(Error::invalid_input(
                op,
                "backward needs a preceding forward in Mode::Train (no forward yet)",
            )),
            Pass::Eval => Err(Error::invalid_input(
                op,
                "backward needs a preceding forward in Mode::Train or Mode::EvalGrad (the last forward ran in Mode::Eval)",
            )),
        }
    }
}

/// A 2-D view of a buffer view reshaped to 2 dimensions by the caller.
pub(crate) fn mat_mut<F>(v: ArrayViewMutD<'_, F>) -> ArrayViewMut2<'_, F> {
    v.into_dimensionality::<Ix2>().expect("buffer reshaped to 2 dimensions")
}

/// The contiguous storage of a buffer view (buffers are always in standard layout).
pub(crate) fn slice_mut<F>(v: ArrayViewMutD<'_, F>) -> &mut [F] {
    v.into_slice().expect("buffer views are contiguous")
}

/// Reshapes `buf` to `x`'s shape and copies `x` into it (any memory layout).
pub(crate) fn copy_into<F: Float>(x: &ArrayViewD<'_, F>, buf: &mut Buffer<F>) {
    let dst = slice_mut(buf.reshape(x.shape()));
    match x.as_slice() {
        Some(src) => dst.copy_from_slice(src),
        None => dst.iter_mut().zip(x.iter()).for_each(|(d, &s)| *d = s),
    }
}

/// The element-wise machinery shared by the activations: an output buffer, an optional
/// copy of the input, the input-gradient buffer and the last pass.
#[derive(Clone, Debug)]
pub(crate) struct Elementwise<F> {
    pub(crate) out: Buffer<F>,
    pub(crate) saved_input: Buffer<F>,
    pub(crate) grad_in: Buffer<F>,
    pub(crate) pass: Pass,
}

impl<F: Clone + Default> Default for Elementwise<F> {
    fn default() -> Self {
        // `Buffer::new()` (shape [0]), not `Buffer::default()` (shape [], whose view
        // would need one element).
        Elementwise {
            out: Buffer::new(),
            saved_input: Buffer::new(),
            grad_in: Buffer::new(),
            pass: Pass::None,
        }
    }
}

impl<F: Float> Elementwise<F> {
    /// `out = f(x)`; keeps a copy of `x` when `save_input` and training.
    pub(crate) fn forward(
        &mut self,
        x: ArrayViewD<'_, F>,
        mode: Mode,
        save_input: bool,
        f: impl Fn(F) -> F,
    ) -> ArrayViewD<'_, F> {
        let out = slice_mut(self.out.reshape(x.shape()));
        match x.as_slice() {
            Some(xs) => out.iter_mut().zip(xs).for_each(|(o, &v)| *o = f(v)),
            None => out.iter_mut().zip(x.iter()).for_each(|(o, &v)| *o = f(v)),
        }
        if save_input && mode.records() {
            copy_into(&x, &mut self.saved_input);
        }
        self.pass = Pass::of(mode);
        self.out.view()
    }

    /// Checks that a training-mode forward preceded and that `g` has the output's shape.
    pub(crate) fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != self.out.shape() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out.shape().to_vec(),
                got: g.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// `grad_in = df(g, s)` element-wise, with `s` the saved input (`use_input`) or the
    /// output.
    pub(crate) fn backward_input(
        &mut self,
        op: &'static str,
        g: ArrayViewD<'_, F>,
        use_input: bool,
        df: impl Fn(F, F) -> F,
    ) -> Result<ArrayViewD<'_, F>> {
        self.check_backward(op, &g)?;
        let saved = if use_input { self.saved_input.view() } else { self.out.view() };
        let saved = saved.to_slice().expect("buffer views are contiguous");
        let gi = slice_mut(self.grad_in.reshape(g.shape()));
        match g.as_slice() {
            Some(gs) => gi.iter_mut().zip(gs).zip(saved).for_each(|((d, &g), &s)| *d = df(g, s)),
            None => gi.iter_mut().zip(g.iter()).zip(saved).for_each(|((d, &g), &s)| *d = df(g, s)),
        }
        Ok(self.grad_in.view())
    }
}

/// Implements `Model` and `Layer` for a parameter-free element-wise layer with
/// `forward_impl` and `backward_input_impl` methods.
macro_rules! parameter_free_layer {
    ($ty:ident, $backward_op:literal) => {
        impl<F: $crate::tensor::Float> $crate::model::Module<F> for $ty<F> {
            /// No parameters: never calls `f`.
            fn visit_params(
                &mut self,
                _f: &mut $crate::model::ParamVisitor<'_, F>,
            ) -> $crate::error::Result<()> {
                Ok(())
            }
        }

        impl<F: $crate::tensor::Float> $crate::model::Model<F> for $ty<F> {
            fn forward(
                &mut self,
                x: ndarray::ArrayViewD<'_, F>,
                mode: $crate::model::Mode,
            ) -> $crate::error::Result<ndarray::ArrayViewD<'_, F>> {
                self.forward_impl(x, mode)
            }

            /// Checks the call (a training-mode forward preceded, `grad_out` has the
            /// output's shape); there are no parameters, so nothing is computed.
            fn backward(&mut self, grad_out: ndarray::ArrayViewD<'_, F>) -> $crate::error::Result<()> {
                self.check_backward($backward_op, &grad_out)
            }
        }

        impl<F: $crate::tensor::Float> $crate::model::Layer<F> for $ty<F> {
            fn backward_input(
                &mut self,
                grad_out: ndarray::ArrayViewD<'_, F>,
            ) -> $crate::error::Result<ndarray::ArrayViewD<'_, F>> {
                self.backward_input_impl(grad_out)
            }
        }
    };
}
pub(crate) use parameter_free_layer;
