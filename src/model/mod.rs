//! Models: the [`Module`], [`Model`] and [`Layer`] traits, the built-in layers, and
//! their composition ([`Sequential`], [`Graph`]).
//!
//! A model maps a batch (samples along axis 0) to an output batch, and after a
//! recording forward pass turns `dL/d(output)` into parameter gradients. The
//! backward passes are written by hand (no autograd tape), and every output and
//! gradient lives in a buffer the layer owns and reuses, so steady-state training
//! allocates nothing per batch.
//!
//! Gradients are *overwritten* by each `backward` (PyTorch accumulates into `.grad`
//! until `zero_grad`; ndtrain has no `zero_grad` to forget).
//!
//! # Design: models beyond a chain of float layers
//!
//! Four traits, each with one job:
//!
//! | trait | what it is | who uses it |
//! |---|---|---|
//! | [`Module<F>`] | the parameters (with gradients) and buffers, named as PyTorch's `state_dict` | optimizers, gradient clipping, callbacks, model files |
//! | [`Model<F, I>`] | `forward(x: I::View)` and `backward(dL/dy)`, for inputs of kind `I` | the [`Trainer`](crate::train::Trainer), [`gradcheck`](crate::gradcheck::gradcheck) |
//! | [`Layer<F>`] | a one-float-input model that also returns `dL/dx` | [`Sequential`], [`Graph`] nodes |
//! | [`MultiInputLayer<F>`] | several float inputs (attention's query, key, value) | [`Graph`] nodes |
//!
//! * **Inputs have a kind.** `I` is a marker type ([`Input`]): [`Floats`] (the
//!   default), [`Indices`] (`usize` ids: tokens, categories) or a tuple of kinds for
//!   several inputs. The kind fixes the type `forward` receives and tells the trainer
//!   how to check, batch and copy the data, so token ids never travel as floats, and a
//!   mismatch between data and model is a compile error. Parameters do not depend on
//!   the input kind, which is why they live in [`Module`], the object-safe part that
//!   optimizers take as `&mut dyn Module<F>`.
//! * **Composition without hand-written backward passes.** [`Sequential`] chains
//!   layers; [`Graph`] wires any directed acyclic graph of layers, embeddings,
//!   multi-input modules and wiring operations (residual `add` with broadcasting,
//!   `concat`, `positions`), like Keras' functional API, and derives the backward pass
//!   of the wiring: reverse topological order, each node's gradient accumulated from
//!   its consumers, gradients computed only where a parameter (or an input, for
//!   `backward_input`) needs them. Both are themselves layers (a `Graph` with one
//!   float input), so they nest.
//! * **The cache belongs to the layer, not to a tape.** Each layer keeps what its
//!   backward pass needs (its input, its output, its statistics) in buffers it owns,
//!   so input gradients for attributions and per-sample gradients for DP-SGD can be
//!   computed from the same caches, and nothing is allocated per step.
//! * **One parameter walk, PyTorch's names.** Containers prefix the names of their
//!   children (`"0.weight"`, `"blocks.layers.1.self_attn.in_proj_weight"`), computed
//!   once when the child is added, and renumber the ids `0..n`; buffers (BatchNorm's
//!   running statistics, `num_batches_tracked` as an `i64`) are visited apart from the
//!   parameters by [`Module::visit_buffers`] and saved with them.
//! * **Modes.** [`Mode::Train`] (training behaviour, caches), [`Mode::Eval`]
//!   (evaluation behaviour, nothing cached) and [`Mode::EvalGrad`] (evaluation
//!   behaviour with caches, for gradients of the evaluation-mode function).
//! * Not yet: sharing one module between two places of a graph (weight tying) needs
//!   one cache per use; a graph node holds its module alone.

mod attention;
mod conv;
mod embedding;
pub mod graph;
pub mod init;
pub mod input;
mod layer_norm;
pub mod layers;
mod linear;
mod norm;
mod pool;
mod recurrent;
mod sequential;
mod transformer;

pub use attention::{AttnGrads, AttnMask, AttnMasks, MultiheadAttention, MultiheadAttentionBuilder};
pub use conv::{Conv1d, Conv1dBuilder, Conv2d, Conv2dBuilder, ConvBuilder, IntoSizes, Padding, PaddingMode};
pub use embedding::{Embedding, EmbeddingBuilder};
pub use graph::{Graph, GraphBuilder, IdsNode, Node};
pub use init::Init;
pub use input::{AsInput, Floats, Indices, Input, Part, PartKind};
pub use layer_norm::{LayerNorm, LayerNormBuilder, RmsNorm, RmsNormBuilder};
pub use layers::{
    Activation, Dropout, DropoutBuilder, Flatten, FrozenRandomness, Gelu, GeluApproximate, LeakyRelu, Relu,
    Sigmoid, Tanh, freeze_randomness, frozen_randomness,
};
pub use layers::{
    Celu, Elu, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, LogSoftmax, Mish, Relu6, Selu, Silu, Softmax,
    Softplus, Softsign,
};
pub use linear::{Dense, Linear, LinearBuilder};
pub use norm::{
    BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d, BatchNormBuilder, GroupNorm, GroupNormBuilder,
};
pub use pool::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, AvgPoolBuilder, MaxPool1d, MaxPool2d,
    MaxPoolBuilder,
};
pub use recurrent::{
    Gru, GruBuilder, GruKind, LastStep, Lstm, LstmBuilder, LstmKind, Recurrent, RecurrentBuilder,
    RecurrentKind, Rnn, RnnBuilder, RnnKind, RnnNonlinearity,
};
pub use sequential::Sequential;
pub use transformer::{TransformerEncoder, TransformerEncoderLayer, TransformerEncoderLayerBuilder};

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::tensor::{Float, Param};

/// Whether a forward pass trains (dropout active, batch statistics, inputs cached for
/// `backward`) or evaluates, and whether a `backward` may follow.
///
/// | mode | behaviour (dropout, BatchNorm) | `backward` afterwards |
/// |---|---|---|
/// | `Train` | training: dropout draws a mask, BatchNorm uses and updates batch statistics | yes |
/// | `Eval` | evaluation: deterministic, running statistics | no (nothing is cached) |
/// | `EvalGrad` | evaluation, as `Eval` | yes |
///
/// `EvalGrad` gives the gradients of the evaluation-mode function, as PyTorch computes
/// them after `model.eval()`: fine-tuning with frozen BatchNorm statistics, input
/// attributions of a trained model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: stochastic layers are active and `backward` may follow.
    Train,
    /// Evaluation / inference: deterministic; `backward` is not allowed afterwards.
    Eval,
    /// Evaluation behaviour, with what `backward` needs cached.
    EvalGrad,
}

impl Mode {
    /// Whether layers behave as in training (dropout active, batch statistics).
    pub fn is_training(self) -> bool {
        self == Mode::Train
    }

    /// Whether the forward pass caches what `backward` needs (`Train` and `EvalGrad`).
    pub fn records(self) -> bool {
        self != Mode::Eval
    }
}

/// The callback [`Module::visit_params`] calls once per parameter tensor, with the
/// parameter's identity, the tensor and its gradient from the last `backward` (both
/// mutable: optimizers write the tensor, gradient clipping and DP-SGD rewrite the
/// gradient).
pub type ParamVisitor<'v, F> =
    dyn FnMut(Param<'_>, ArrayViewMutD<'_, F>, ArrayViewMutD<'_, F>) -> Result<()> + 'v;

/// The callback [`Module::visit_buffers`] calls once per buffer, with its name
/// (PyTorch's, e.g. `"1.running_mean"`) and its value.
pub type BufferVisitor<'v, F> = dyn FnMut(&str, BufferMut<'_, F>) -> Result<()> + 'v;

/// A buffer: state of a module that is saved with it but not trained by the optimizer
/// (PyTorch's `register_buffer`), such as BatchNorm's running statistics.
#[derive(Debug)]
pub enum BufferMut<'a, F> {
    /// A float tensor (`running_mean`, `running_var`).
    Float(ArrayViewMutD<'a, F>),
    /// An integer tensor (`num_batches_tracked`, a 0-d `i64` as in PyTorch).
    Int(ArrayViewMutD<'a, i64>),
}

/// An owned copy of a buffer, as [`Module::buffers`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub enum BufferValue<F> {
    /// A float tensor.
    Float(ArrayD<F>),
    /// An integer tensor.
    Int(ArrayD<i64>),
}

impl<F: Clone> BufferValue<F> {
    /// The shape of the tensor.
    pub fn shape(&self) -> &[usize] {
        match self {
            BufferValue::Float(a) => a.shape(),
            BufferValue::Int(a) => a.shape(),
        }
    }
}

/// Parameters and buffers: what optimizers, gradient clipping, callbacks and model
/// files see of a model, whatever its inputs (PyTorch's `nn.Module` without
/// `forward`: `named_parameters`, `named_buffers`).
///
/// Every [`Model`] is a `Module`, so `&mut model` passes wherever a
/// `&mut dyn Module<F>` is asked for ([`Optimizer::step`](crate::optim::Optimizer::step),
/// [`GradClip::apply_model`](crate::optim::clip::GradClip::apply_model), callbacks).
///
/// # Contract
///
/// * `visit_params` visits every parameter in a fixed order; the `id` of the `k`-th
///   visited tensor is `k`. Gradients have their parameter's shape. Names are
///   PyTorch's `state_dict` keys (`"0.weight"`, `"blocks.layers.1.norm1.bias"`).
/// * `visit_buffers` visits every buffer in a fixed order (default: none).
///
/// # Example
///
/// ```
/// use ndtrain::prelude::*;
///
/// let mut mlp = Sequential::<f32>::mlp(&[4, 8, 2], Activation::Relu, &mut ndtrain::seeded_rng(0))?;
/// let module: &mut dyn Module<f32> = &mut mlp;
/// assert_eq!(module.num_parameters(), 4 * 8 + 8 + 8 * 2 + 2);
/// assert_eq!(module.parameters()[2].0, "2.weight");
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Module")]
pub trait Module<F: Float> {
    /// Calls `f(param, value, grad)` for every parameter tensor, in a stable order.
    /// Stops at, and returns, the first error `f` returns.
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()>;

    /// Calls `f(name, buffer)` for every buffer, in a stable order. Default: no buffers.
    fn visit_buffers(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        let _ = f;
        Ok(())
    }

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

    /// A copy of every buffer, with its name, in visit order.
    fn buffers(&mut self) -> Vec<(String, BufferValue<F>)> {
        let mut out = Vec::new();
        let _ = self.visit_buffers(&mut |name, b| {
            out.push((
                name.to_string(),
                match b {
                    BufferMut::Float(v) => BufferValue::Float(v.to_owned()),
                    BufferMut::Int(v) => BufferValue::Int(v.to_owned()),
                },
            ));
            Ok(())
        });
        out
    }

    /// Overwrites every parameter with `values` (visit order, as returned by
    /// [`parameters`](Module::parameters)). Checks every shape first, so on `Err`
    /// the model is unchanged.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong number of tensors,
    /// [`Error::ShapeMismatch`] for a tensor of the wrong shape.
    fn set_parameters(&mut self, values: &[ArrayD<F>]) -> Result<()> {
        let op = "Module::set_parameters";
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

    /// Overwrites every buffer with `values` (visit order, as returned by
    /// [`buffers`](Module::buffers)). Checks every kind and shape first, so on `Err`
    /// the model is unchanged.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong number of buffers,
    /// [`Error::ShapeMismatch`] for a buffer of the wrong shape,
    /// [`Error::InvalidInput`] for an integer value given for a float buffer or the
    /// reverse.
    fn set_buffers(&mut self, values: &[BufferValue<F>]) -> Result<()> {
        let op = "Module::set_buffers";
        let mut k = 0;
        self.visit_buffers(&mut |name, b| {
            if let Some(new) = values.get(k) {
                let (shape, same_kind) = match (&b, new) {
                    (BufferMut::Float(v), BufferValue::Float(_)) => (v.shape(), true),
                    (BufferMut::Int(v), BufferValue::Int(_)) => (v.shape(), true),
                    (BufferMut::Float(v), _) => (v.shape(), false),
                    (BufferMut::Int(v), _) => (v.shape(), false),
                };
                if !same_kind {
                    return Err(Error::invalid_input(
                        op,
                        format!("buffer {name}: integer and float values mixed"),
                    ));
                }
                if shape != new.shape() {
                    return Err(Error::ShapeMismatch {
                        op,
                        expected: shape.to_vec(),
                        got: new.shape().to_vec(),
                    });
                }
            }
            k += 1;
            Ok(())
        })?;
        if k != values.len() {
            return Err(Error::LengthMismatch {
                op,
                what: "number of buffers",
                expected: k,
                got: values.len(),
            });
        }
        let mut k = 0;
        self.visit_buffers(&mut |_, b| {
            match (b, &values[k]) {
                (BufferMut::Float(mut v), BufferValue::Float(new)) => v.assign(new),
                (BufferMut::Int(mut v), BufferValue::Int(new)) => v.assign(new),
                _ => {}
            }
            k += 1;
            Ok(())
        })
    }
}

/// A trainable model: forward, hand-written backward, and (through [`Module`]) access
/// to its parameters.
///
/// `I` is the kind of input the model takes ([`Input`]): [`Floats`] (the default, one
/// float array), [`Indices`] (integer ids such as tokens, `usize`, never converted to
/// floats) or a tuple of kinds for a model with several inputs (`(Floats, Indices)`).
/// Batches run along axis 0 of every input; inputs may have any number of dimensions.
/// Implement the two methods here and [`Module::visit_params`], and the model works with
/// every [`Optimizer`](crate::optim::Optimizer), the [`Trainer`](crate::train::Trainer)
/// and [`gradcheck`](crate::gradcheck::gradcheck).
///
/// # Contract
///
/// * `forward` returns a view of a buffer the model owns (reused between calls).
/// * `backward(grad_out)` follows a [`Mode::Train`] forward; `grad_out` has the shape
///   of that forward's output. It *overwrites* every parameter gradient.
/// * On `Err`, nothing observable (parameters, gradients, buffers) has changed.
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
/// impl Module<f64> for Scale {
///     fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
///         f(Param::new(0, "a"), self.a.view_mut(), self.grad.view_mut())
///     }
/// }
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
pub trait Model<F: Float, I: Input<F> = Floats>: Module<F> {
    /// Runs the model on a batch and returns its output.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `x` does not have the shape the model expects.
    fn forward(&mut self, x: I::View<'_>, mode: Mode) -> Result<ArrayViewD<'_, F>>;

    /// Back-propagates `grad_out = dL/d(output)` of the last training-mode forward and
    /// stores the gradient of every parameter.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `grad_out` does not match the last output, and
    /// [`Error::InvalidInput`] when no training-mode forward preceded it.
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()>;
}

/// A [`Model`] with one float input that can sit inside a [`Sequential`] or a
/// [`Graph`]: its backward pass also returns the gradient with respect to its input.
///
/// `Model::backward` of a layer may skip the input gradient (the first layer of a
/// network needs none: for W1 that saves a quarter of the arithmetic).
pub trait Layer<F: Float>: Model<F> {
    /// Like [`Model::backward`], and returns `dL/d(input)` (shape of the last input).
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>>;
}

/// A module with several float inputs and one float output, such as attention's
/// query, key and value, that can sit in a [`Graph`] node.
///
/// `forward_multi` takes exactly [`num_inputs`](MultiInputLayer::num_inputs) inputs;
/// `backward_multi` overwrites the parameter gradients and computes `dL/d(input k)`
/// for every `k` with `needs[k]`, which [`input_grad`](MultiInputLayer::input_grad)
/// then returns (shape of input `k`).
pub trait MultiInputLayer<F: Float>: Module<F> {
    /// Number of inputs.
    fn num_inputs(&self) -> usize;

    /// Runs the module on one batch of every input.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong number of inputs, [`Error::ShapeMismatch`]
    /// for inputs of the wrong shapes.
    fn forward_multi(&mut self, inputs: &[ArrayViewD<'_, F>], mode: Mode) -> Result<ArrayViewD<'_, F>>;

    /// Back-propagates `grad_out` of the last recording forward.
    ///
    /// # Errors
    /// As [`Model::backward`].
    fn backward_multi(&mut self, grad_out: ArrayViewD<'_, F>, needs: &[bool]) -> Result<()>;

    /// `dL/d(input k)` of the last `backward_multi`, if it was computed.
    fn input_grad(&self, k: usize) -> Option<ArrayViewD<'_, F>>;
}

impl<F: Float, M: Module<F> + ?Sized> Module<F> for Box<M> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        (**self).visit_params(f)
    }
    fn visit_buffers(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        (**self).visit_buffers(f)
    }
}

impl<F: Float, I: Input<F>, M: Model<F, I> + ?Sized> Model<F, I> for Box<M> {
    fn forward(&mut self, x: I::View<'_>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        (**self).forward(x, mode)
    }
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        (**self).backward(grad_out)
    }
}
impl<F: Float, L: Layer<F> + ?Sized> Layer<F> for Box<L> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        (**self).backward_input(grad_out)
    }
}
