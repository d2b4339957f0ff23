//! Recurrent layers: [`Rnn`], [`Lstm`] and [`Gru`] (one generic type, [`Recurrent`],
//! whose docs describe shapes, parameters and the implementation) and [`LastStep`].
//!
//! `engine.rs` holds the forward pass and backward through time of every cell;
//! `rnn.rs`, `lstm.rs` and `gru.rs` the kind-specific API and docs.

mod engine;
mod gru;
mod last_step;
mod lstm;
mod rnn;

pub use gru::{Gru, GruBuilder};
pub use last_step::LastStep;
pub use lstm::{Lstm, LstmBuilder};
pub use rnn::{Rnn, RnnBuilder, RnnNonlinearity};

use std::marker::PhantomData;

use ndarray::{Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, Ix3};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::init::Init;
use crate::model::layers::Dropout;
use crate::model::{Layer, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Float, Param};

mod private {
    /// Seals [`RecurrentKind`](super::RecurrentKind) and carries the per-kind names
    /// used in error messages.
    pub trait Sealed {
        const FORWARD: &'static str;
        const BACKWARD: &'static str;
        const BACKWARD_INPUT: &'static str;
        const SET_INITIAL_STATE: &'static str;
        const FROM_PARAMETERS: &'static str;
    }
}

/// The cell of a [`Recurrent`] layer: [`RnnKind`], [`LstmKind`] or [`GruKind`] (sealed).
pub trait RecurrentKind: private::Sealed + Clone + Copy + std::fmt::Debug + Send + Sync + 'static {
    /// PyTorch's class name (`"RNN"`, `"LSTM"`, `"GRU"`).
    const TORCH_NAME: &'static str;
    /// Number of gates `G` stacked in the rows of the weights (1, 4, 3).
    const GATES: usize;
}

/// Marker of [`Rnn`]: the Elman cell `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
#[derive(Clone, Copy, Debug)]
pub enum RnnKind {}

/// Marker of [`Lstm`]: the long short-term memory cell (gates i, f, g, o).
#[derive(Clone, Copy, Debug)]
pub enum LstmKind {}

/// Marker of [`Gru`]: the gated recurrent unit (gates r, z, n).
#[derive(Clone, Copy, Debug)]
pub enum GruKind {}

macro_rules! kind {
    ($kind:ident, $rust:literal, $torch:literal, $gates:literal) => {
        impl private::Sealed for $kind {
            const FORWARD: &'static str = concat!($rust, "::forward");
            const BACKWARD: &'static str = concat!($rust, "::backward");
            const BACKWARD_INPUT: &'static str = concat!($rust, "::backward_input");
            const SET_INITIAL_STATE: &'static str = concat!($rust, "::set_initial_state");
            const FROM_PARAMETERS: &'static str = concat!($rust, "Builder::build_from_parameters");
        }
        impl RecurrentKind for $kind {
            const TORCH_NAME: &'static str = $torch;
            const GATES: usize = $gates;
        }
    };
}
kind!(RnnKind, "Rnn", "RNN", 1);
kind!(LstmKind, "Lstm", "LSTM", 4);
kind!(GruKind, "Gru", "GRU", 3);

/// The cell and its non-linearity, as the engine dispatches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cell {
    Tanh,
    Relu,
    Lstm,
    Gru,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Tanh | Cell::Relu => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// Validated hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Config {
    cell: Cell,
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    bias: bool,
    batch_first: bool,
    dropout: f64,
    bidirectional: bool,
}

impl Config {
    fn dirs(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Input width of layer `l`.
    fn layer_input(&self, l: usize) -> usize {
        if l == 0 { self.input_size } else { self.dirs() * self.hidden_size }
    }
}

/// The parameters and gradients of one layer and direction.
#[derive(Clone, Debug)]
struct DirParams<F> {
    w_ih: Array2<F>,
    w_hh: Array2<F>,
    /// Zeros (and never visited) without a bias.
    b_ih: Array1<F>,
    b_hh: Array1<F>,
    g_w_ih: Array2<F>,
    g_w_hh: Array2<F>,
    g_b_ih: Array1<F>,
    g_b_hh: Array1<F>,
    /// PyTorch's names: weight_ih, weight_hh, bias_ih, bias_hh with `_l{k}{suffix}`.
    names: [String; 4],
}

impl<F: Float> DirParams<F> {
    fn zeros(gh: usize, input: usize, hidden: usize, layer: usize, reverse: bool) -> Self {
        let suffix = if reverse { "_reverse" } else { "" };
        DirParams {
            w_ih: Array2::zeros((gh, input)),
            w_hh: Array2::zeros((gh, hidden)),
            b_ih: Array1::zeros(gh),
            b_hh: Array1::zeros(gh),
            g_w_ih: Array2::zeros((gh, input)),
            g_w_hh: Array2::zeros((gh, hidden)),
            g_b_ih: Array1::zeros(gh),
            g_b_hh: Array1::zeros(gh),
            names: [
                format!("weight_ih_l{layer}{suffix}"),
                format!("weight_hh_l{layer}{suffix}"),
                format!("bias_ih_l{layer}{suffix}"),
                format!("bias_hh_l{layer}{suffix}"),
            ],
        }
    }
}

/// A multi-layer, optionally bidirectional recurrent layer over sequences, used as
/// [`Rnn`], [`Lstm`] or [`Gru`] (PyTorch `nn.RNN`, `nn.LSTM`, `nn.GRU`), whose docs give
/// each cell's equations, backward pass, hyper-parameters and reference. The kind `K`
/// ([`RnnKind`], [`LstmKind`], [`GruKind`]) fixes the cell.
///
/// # Shapes
///
/// | | `batch_first = false` (PyTorch's default) | `batch_first = true` |
/// |---|---|---|
/// | input | `[T, B, input_size]` | `[B, T, input_size]` |
/// | output | `[T, B, D·H]` | `[B, T, D·H]` |
/// | [`h_n`](Recurrent::h_n), [`c_n`](Recurrent::c_n), initial states | `[num_layers·D, B, H]` | `[num_layers·D, B, H]` |
///
/// with `T` the sequence length, `B` the batch, `H = hidden_size` and `D = 2` when
/// bidirectional (else 1). As a [`Layer`] the output is the sequence output, PyTorch's
/// `output` (the first element of the tuple its module returns); the final states are
/// read with [`h_n`](Recurrent::h_n) (and [`c_n`](Recurrent::c_n)). A
/// [`Sequential`](crate::model::Sequential) and the [`Trainer`](crate::train::Trainer)
/// batch along axis 0, so there use `batch_first(true)`; [`LastStep`] then gives a
/// classifier head the last step.
///
/// # Parameters
///
/// Named and laid out as PyTorch's `named_parameters()`, so a `state_dict` maps one to
/// one: for layer `k` and direction suffix `""` / `"_reverse"`, in this order,
/// `weight_ih_l{k}{suffix}` `[G·H, in_k]`, `weight_hh_l{k}{suffix}` `[G·H, H]`,
/// `bias_ih_l{k}{suffix}` `[G·H]`, `bias_hh_l{k}{suffix}` `[G·H]` (layer by layer,
/// forward direction first; no biases with `bias(false)`), with `G` = 1 (RNN), 4 (LSTM:
/// gates i, f, g, o) or 3 (GRU: r, z, n) blocks stacked along the rows, `in_0 =
/// input_size` and `in_k = D·H` above. Every tensor starts as `U(−1/√H, 1/√H)`, as
/// PyTorch's `reset_parameters` (the numbers differ: ndtrain's generator is not
/// PyTorch's); [`RecurrentBuilder::build_from_parameters`] takes given values.
///
/// # Implementation
///
/// Sequences are time-major inside. Per layer and direction, the input projections of
/// all time steps are one matrix product `[T·B, in] × [in, G·H]`; each step then adds
/// the recurrent product `[B, H] × [H, G·H]` and applies the gates element-wise.
/// Backward through time runs the steps in reverse with one `[B, G·H] × [G·H, H]`
/// product per step for `dL/dh_{t−1}`; the weight gradients and `dL/dinput` are then one
/// product each over all steps (`dW_hh` pairs the pre-activation gradients of steps `t`
/// with the states `h_{t−1}`, read in place from the layer's output). Every buffer is
/// owned by the layer and reused, so after the first batch a forward and backward
/// allocate nothing (matrixmultiply's packing buffers aside).
///
/// # Example: truncated backpropagation through time
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::Gru;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut gru = Gru::<f64>::builder(2, 4).batch_first(true).build(&mut rng)?;
/// let long = Array3::<f64>::from_shape_fn((3, 20, 2), |(b, t, j)| ((b + t + j) as f64 * 0.3).sin());
/// for chunk in long.axis_chunks_iter(ndarray::Axis(1), 5) {
///     // Carry the final state of the previous chunk (not its gradient) into this one.
///     let y = gru.forward(chunk.into_dyn(), Mode::Train)?;
///     let g = y.mapv(|v| v); // stand-in for a loss gradient
///     gru.backward(g.view())?;
///     let h_n = gru.h_n().to_owned();
///     gru.set_initial_state(Some(h_n.view()))?;
/// }
/// assert_eq!(gru.h0_grad().unwrap().shape(), &[1, 3, 4]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Recurrent<F, K> {
    cfg: Config,
    seed: u64,
    /// Index `layer · D + direction`.
    params: Vec<DirParams<F>>,
    /// Between layers `l` and `l + 1` (empty when `dropout = 0` or one layer).
    dropouts: Vec<Dropout<F>>,
    /// Initial `h_0` (and `c_0`), `[num_layers·D, B, H]`; zeros when `None`.
    h0: Option<Array3<F>>,
    c0: Option<Array3<F>>,
    st: engine::State<F>,
    _kind: PhantomData<fn() -> K>,
}

/// Builder of [`Recurrent`] ([`RnnBuilder`], [`LstmBuilder`], [`GruBuilder`]):
/// `Lstm::builder(input_size, hidden_size).num_layers(2).batch_first(true).build(&mut rng)?`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `input_size`, `hidden_size` | required | `>= 1` |
/// | `num_layers` | 1 | `>= 1` |
/// | `nonlinearity` (RNN only) | [`RnnNonlinearity::Tanh`] | `Tanh`, `Relu` |
/// | `bias` | `true` | |
/// | `batch_first` | `false` | |
/// | `dropout` | 0.0 | `[0, 1)` |
/// | `bidirectional` | `false` | |
/// | `proj_size` (LSTM only) | 0 | 0 |
/// | `seed` (of the dropout masks) | 0 | any `u64` |
///
/// # Example: weights from a PyTorch `state_dict`
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use ndtrain::prelude::*;
/// use ndtrain::model::Lstm;
///
/// // nn.LSTM(2, 3): weight_ih_l0 [12, 2], weight_hh_l0 [12, 3], bias_ih_l0 [12], bias_hh_l0 [12]
/// let state_dict: Vec<ArrayD<f32>> =
///     [&[12, 2][..], &[12, 3], &[12], &[12]].iter().map(|s| ArrayD::from_elem(IxDyn(s), 0.1)).collect();
/// let mut lstm = Lstm::<f32>::builder(2, 3).build_from_parameters(&state_dict)?;
/// assert_eq!(lstm.parameters()[3].0, "bias_hh_l0");
/// let bad = Lstm::<f32>::builder(2, 3).bidirectional(true).build_from_parameters(&state_dict);
/// assert!(matches!(bad, Err(Error::LengthMismatch { expected: 8, got: 4, .. })));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RecurrentBuilder<F, K> {
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    nonlinearity: RnnNonlinearity,
    bias: bool,
    batch_first: bool,
    dropout: f64,
    bidirectional: bool,
    proj_size: usize,
    seed: u64,
    _marker: PhantomData<fn() -> (F, K)>,
}

impl<F: Float, K: RecurrentKind> RecurrentBuilder<F, K> {
    /// Number of stacked layers (default 1); layer `k > 0` reads the output of layer
    /// `k − 1`.
    pub fn num_layers(mut self, num_layers: usize) -> Self {
        self.num_layers = num_layers;
        self
    }

    /// Whether the layers have the biases `b_ih` and `b_hh` (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// Whether inputs and outputs are `[B, T, features]` (`true`) or `[T, B, features]`
    /// (`false`, PyTorch's default). Inside a [`Sequential`](crate::model::Sequential),
    /// whose batches run along axis 0, use `true`.
    pub fn batch_first(mut self, batch_first: bool) -> Self {
        self.batch_first = batch_first;
        self
    }

    /// Dropout probability on the outputs of every layer but the last, in
    /// [`Mode::Train`] (default 0; no effect with one layer, as in PyTorch).
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Whether each layer also runs the sequence backwards and concatenates both
    /// directions' hidden states (default `false`).
    pub fn bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }

    /// Seed of the dropout masks (default 0; layer boundary `k` uses `seed + k`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn config(&self) -> Result<Config> {
        let size = |name: &'static str, n: usize| {
            if n == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
        };
        size("input_size", self.input_size)?;
        size("hidden_size", self.hidden_size)?;
        size("num_layers", self.num_layers)?;
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return Err(Error::InvalidParameter { name: "dropout", value: self.dropout, expected: "[0, 1)" });
        }
        if self.proj_size != 0 {
            return Err(Error::InvalidParameter {
                name: "proj_size",
                value: self.proj_size as f64,
                expected: "0 (LSTM projections are not implemented)",
            });
        }
        let cell = match (K::GATES, self.nonlinearity) {
            (1, RnnNonlinearity::Tanh) => Cell::Tanh,
            (1, RnnNonlinearity::Relu) => Cell::Relu,
            (4, _) => Cell::Lstm,
            _ => Cell::Gru,
        };
        Ok(Config {
            cell,
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bias: self.bias,
            batch_first: self.batch_first,
            dropout: self.dropout,
            bidirectional: self.bidirectional,
        })
    }

    /// A layer with every parameter zero.
    fn zeros(self) -> Result<Recurrent<F, K>> {
        let cfg = self.config()?;
        let (h, gh) = (cfg.hidden_size, cfg.cell.gates() * cfg.hidden_size);
        let mut params = Vec::with_capacity(cfg.num_layers * cfg.dirs());
        for l in 0..cfg.num_layers {
            for d in 0..cfg.dirs() {
                params.push(DirParams::zeros(gh, cfg.layer_input(l), h, l, d == 1));
            }
        }
        let dropouts = if cfg.dropout > 0.0 {
            (1..cfg.num_layers)
                .map(|k| Dropout::builder().p(cfg.dropout).seed(self.seed.wrapping_add(k as u64 - 1)).build())
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(Recurrent {
            cfg,
            seed: self.seed,
            params,
            dropouts,
            h0: None,
            c0: None,
            st: engine::State::new(cfg.num_layers, cfg.dirs(), cfg.hidden_size),
            _kind: PhantomData,
        })
    }

    /// Validates, then draws every parameter from `U(−1/√hidden_size, 1/√hidden_size)`,
    /// in `named_parameters` order (row-major within a tensor), as PyTorch's
    /// `reset_parameters`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size of 0 (`"input_size"`, `"hidden_size"`,
    /// `"num_layers"`), a `"dropout"` outside `[0, 1)` or a non-zero `"proj_size"`.
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Recurrent<F, K>> {
        let mut layer = self.zeros()?;
        let stdv = 1.0 / (layer.cfg.hidden_size as f64).sqrt();
        let init = Init::Uniform { low: -stdv, high: stdv };
        layer.visit_params(&mut |_, v, _| init.fill_with_fans(v, 0, 0, rng))?;
        Ok(layer)
    }

    /// Validates, then builds the layer with the given parameters, in PyTorch's
    /// `named_parameters()` order and layouts (see [`Recurrent`]), e.g. the tensors of
    /// a PyTorch `state_dict`.
    ///
    /// # Errors
    /// As [`build`](RecurrentBuilder::build); [`Error::LengthMismatch`] for a wrong
    /// number of tensors, [`Error::ShapeMismatch`] for a tensor of the wrong shape.
    pub fn build_from_parameters(self, parameters: &[ArrayD<F>]) -> Result<Recurrent<F, K>> {
        let mut layer = self.zeros()?;
        layer.set_parameters(parameters).map_err(|e| match e {
            Error::ShapeMismatch { expected, got, .. } => {
                Error::ShapeMismatch { op: K::FROM_PARAMETERS, expected, got }
            }
            Error::LengthMismatch { what, expected, got, .. } => {
                Error::LengthMismatch { op: K::FROM_PARAMETERS, what, expected, got }
            }
            other => other,
        })?;
        Ok(layer)
    }
}

impl<F: Float, K: RecurrentKind> Recurrent<F, K> {
    /// A one-layer, unidirectional, time-major (`batch_first = false`) layer with
    /// biases and PyTorch's initialisation (the RNN uses tanh).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a size is 0.
    pub fn new<R: Rng + ?Sized>(input_size: usize, hidden_size: usize, rng: &mut R) -> Result<Self> {
        Self::builder(input_size, hidden_size).build(rng)
    }

    /// A builder with PyTorch's defaults (see [`RecurrentBuilder`]).
    pub fn builder(input_size: usize, hidden_size: usize) -> RecurrentBuilder<F, K> {
        RecurrentBuilder {
            input_size,
            hidden_size,
            num_layers: 1,
            nonlinearity: RnnNonlinearity::Tanh,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
            seed: 0,
            _marker: PhantomData,
        }
    }

    /// Number of input features.
    pub fn input_size(&self) -> usize {
        self.cfg.input_size
    }

    /// Number of features of the hidden state, `H`.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Number of stacked layers.
    pub fn num_layers(&self) -> usize {
        self.cfg.num_layers
    }

    /// Whether the layers have biases.
    pub fn has_bias(&self) -> bool {
        self.cfg.bias
    }

    /// Whether inputs and outputs are batch-major, `[B, T, features]`.
    pub fn batch_first(&self) -> bool {
        self.cfg.batch_first
    }

    /// The dropout probability between layers.
    pub fn dropout(&self) -> f64 {
        self.cfg.dropout
    }

    /// The seed of the dropout masks.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the layers run in both directions.
    pub fn bidirectional(&self) -> bool {
        self.cfg.bidirectional
    }

    /// Width of the output features, `D·H`.
    pub fn output_size(&self) -> usize {
        self.cfg.dirs() * self.cfg.hidden_size
    }

    fn dir(&self, layer: usize, reverse: bool) -> Option<&DirParams<F>> {
        if layer >= self.cfg.num_layers || (reverse && !self.cfg.bidirectional) {
            return None;
        }
        self.params.get(layer * self.cfg.dirs() + usize::from(reverse))
    }

    /// `weight_ih_l{layer}[_reverse]`, `[G·H, in]`; `None` for a layer or direction the
    /// module does not have.
    pub fn weight_ih(&self, layer: usize, reverse: bool) -> Option<ArrayView2<'_, F>> {
        self.dir(layer, reverse).map(|p| p.w_ih.view())
    }

    /// `weight_hh_l{layer}[_reverse]`, `[G·H, H]`.
    pub fn weight_hh(&self, layer: usize, reverse: bool) -> Option<ArrayView2<'_, F>> {
        self.dir(layer, reverse).map(|p| p.w_hh.view())
    }

    /// `bias_ih_l{layer}[_reverse]`, `[G·H]` (`None` without biases).
    pub fn bias_ih(&self, layer: usize, reverse: bool) -> Option<ArrayView1<'_, F>> {
        self.dir(layer, reverse).filter(|_| self.cfg.bias).map(|p| p.b_ih.view())
    }

    /// `bias_hh_l{layer}[_reverse]`, `[G·H]` (`None` without biases).
    pub fn bias_hh(&self, layer: usize, reverse: bool) -> Option<ArrayView1<'_, F>> {
        self.dir(layer, reverse).filter(|_| self.cfg.bias).map(|p| p.b_hh.view())
    }

    /// The gradient of [`weight_ih`](Recurrent::weight_ih) from the last backward.
    pub fn weight_ih_grad(&self, layer: usize, reverse: bool) -> Option<ArrayView2<'_, F>> {
        self.dir(layer, reverse).map(|p| p.g_w_ih.view())
    }

    /// The gradient of [`weight_hh`](Recurrent::weight_hh) from the last backward.
    pub fn weight_hh_grad(&self, layer: usize, reverse: bool) -> Option<ArrayView2<'_, F>> {
        self.dir(layer, reverse).map(|p| p.g_w_hh.view())
    }

    /// The gradient of [`bias_ih`](Recurrent::bias_ih) from the last backward.
    pub fn bias_ih_grad(&self, layer: usize, reverse: bool) -> Option<ArrayView1<'_, F>> {
        self.dir(layer, reverse).filter(|_| self.cfg.bias).map(|p| p.g_b_ih.view())
    }

    /// The gradient of [`bias_hh`](Recurrent::bias_hh) from the last backward.
    pub fn bias_hh_grad(&self, layer: usize, reverse: bool) -> Option<ArrayView1<'_, F>> {
        self.dir(layer, reverse).filter(|_| self.cfg.bias).map(|p| p.g_b_hh.view())
    }

    /// The final hidden state of the last forward, PyTorch's `h_n`,
    /// `[num_layers·D, B, H]` (entry `layer·D + direction`; the reverse direction's final
    /// state is the one at time step 0). Empty (`[num_layers·D, 0, H]`) before the first
    /// forward.
    pub fn h_n(&self) -> ArrayView3<'_, F> {
        self.st.h_n.view().into_dimensionality::<Ix3>().expect("h_n is 3-D")
    }

    /// `dL/dh_0`, `[num_layers·D, B, H]`, of the last backward when its forward ran from
    /// an initial state set with `set_initial_state` (else `None`).
    pub fn h0_grad(&self) -> Option<ArrayView3<'_, F>> {
        self.st.state_grad.then(|| self.st.h0_grad.view().into_dimensionality::<Ix3>().expect("3-D"))
    }

    /// Validates and stores initial states (`None`: zeros); `c0` is given with `h0`.
    fn set_state(&mut self, h0: Option<ArrayView3<'_, F>>, c0: Option<ArrayView3<'_, F>>) -> Result<()> {
        let op = K::SET_INITIAL_STATE;
        let (ld, h) = (self.cfg.num_layers * self.cfg.dirs(), self.cfg.hidden_size);
        if let Some(s) = &h0 {
            if s.shape()[0] != ld || s.shape()[2] != h {
                return Err(Error::ShapeMismatch { op, expected: vec![ld, 0, h], got: s.shape().to_vec() });
            }
            if s.shape()[1] == 0 {
                return Err(Error::EmptyInput { op, what: "an initial state for a batch of 0 sequences" });
            }
            if let Some(c) = &c0 {
                if c.shape() != s.shape() {
                    return Err(Error::ShapeMismatch {
                        op,
                        expected: s.shape().to_vec(),
                        got: c.shape().to_vec(),
                    });
                }
            }
        }
        self.h0 = h0.map(|s| s.as_standard_layout().into_owned());
        self.c0 = c0.map(|s| s.as_standard_layout().into_owned());
        Ok(())
    }
}

impl<F: Float, K: RecurrentKind> Module<F> for Recurrent<F, K> {
    /// Visits, per layer and direction, `weight_ih_l{k}[_reverse]`,
    /// `weight_hh_l{k}[_reverse]` and (with biases) `bias_ih_l{k}[_reverse]`,
    /// `bias_hh_l{k}[_reverse]`: PyTorch's `named_parameters()` order.
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        let bias = self.cfg.bias;
        let mut id = 0;
        for p in &mut self.params {
            f(Param::new(id, &p.names[0]), p.w_ih.view_mut().into_dyn(), p.g_w_ih.view_mut().into_dyn())?;
            f(Param::new(id + 1, &p.names[1]), p.w_hh.view_mut().into_dyn(), p.g_w_hh.view_mut().into_dyn())?;
            id += 2;
            if bias {
                f(Param::new(id, &p.names[2]), p.b_ih.view_mut().into_dyn(), p.g_b_ih.view_mut().into_dyn())?;
                f(
                    Param::new(id + 1, &p.names[3]),
                    p.b_hh.view_mut().into_dyn(),
                    p.g_b_hh.view_mut().into_dyn(),
                )?;
                id += 2;
            }
        }
        Ok(())
    }
}

impl<F: Float, K: RecurrentKind> Model<F> for Recurrent<F, K> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.forward_impl(x, mode)
    }

    /// Stores every parameter gradient (backward through time); skips `dL/dinput`
    /// (use [`Layer::backward_input`]).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl(K::BACKWARD, grad_out, false)
    }
}

impl<F: Float, K: RecurrentKind> Layer<F> for Recurrent<F, K> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.backward_impl(K::BACKWARD_INPUT, grad_out, true)?;
        Ok(self.st.input_grad(self.cfg.batch_first))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::freeze_randomness;
    use crate::tensor::seeded_rng;
    use ndarray::{Array3, IxDyn};

    /// `((i·mul) % modulus − modulus/2) / div` for the flat index `i` (the test scripts'
    /// inputs).
    pub(crate) fn pattern(shape: &[usize], mul: usize, modulus: usize, div: f64) -> ArrayD<f64> {
        let n: usize = shape.iter().product();
        let v =
            (0..n).map(|i| ((i * mul) % modulus) as f64 - (modulus / 2) as f64).map(|v| v / div).collect();
        ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
    }

    /// Sets parameter element `k` (flat over all tensors in visit order) to
    /// `((7k) % 13 − 6) / 10`, as the PyTorch scripts of the tests do.
    pub(crate) fn patterned<K: RecurrentKind>(mut layer: Recurrent<f64, K>) -> Recurrent<f64, K> {
        let mut k = 0;
        layer
            .visit_params(&mut |_, mut v, _| {
                v.iter_mut().for_each(|v| {
                    *v = ((k * 7) % 13) as f64 / 10.0 - 0.6;
                    k += 1;
                });
                Ok(())
            })
            .unwrap();
        layer
    }

    pub(crate) fn assert_close(got: &[f64], expected: &[f64], tol: f64) {
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!((g - e).abs() <= tol * (1.0 + e.abs()), "element {i}: got {g}, expected {e}");
        }
    }

    fn all_kinds_f64() -> Vec<(&'static str, Box<dyn Layer<f64> + Send>)> {
        let mut rng = seeded_rng(3);
        vec![
            ("Rnn", Box::new(Rnn::<f64>::builder(3, 4).batch_first(true).build(&mut rng).unwrap())),
            ("Lstm", Box::new(Lstm::<f64>::builder(3, 4).batch_first(true).build(&mut rng).unwrap())),
            ("Gru", Box::new(Gru::<f64>::builder(3, 4).batch_first(true).build(&mut rng).unwrap())),
        ]
    }

    #[test]
    fn invalid_hyper_parameters_return_their_variant() {
        let mut rng = seeded_rng(0);
        let cases: Vec<(Result<Lstm<f64>>, &str)> = vec![
            (Lstm::builder(0, 4).build(&mut rng), "input_size"),
            (Lstm::builder(3, 0).build(&mut rng), "hidden_size"),
            (Lstm::builder(3, 4).num_layers(0).build(&mut rng), "num_layers"),
            (Lstm::builder(3, 4).dropout(-0.1).build(&mut rng), "dropout"),
            (Lstm::builder(3, 4).dropout(1.0).build(&mut rng), "dropout"),
            (Lstm::builder(3, 4).dropout(f64::NAN).build(&mut rng), "dropout"),
            (Lstm::builder(3, 4).proj_size(1).build(&mut rng), "proj_size"),
            (Lstm::builder(0, 4).build_from_parameters(&[]), "input_size"),
        ];
        for (r, name) in cases {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(Rnn::<f32>::builder(3, 0).build(&mut rng), Err(Error::InvalidParameter { .. })));
        assert!(matches!(
            Gru::<f32>::builder(3, 2).num_layers(0).build(&mut rng),
            Err(Error::InvalidParameter { .. })
        ));
        // build_from_parameters checks the count and shapes.
        match Gru::<f64>::builder(2, 3).build_from_parameters(&[ArrayD::zeros(IxDyn(&[9, 2]))]) {
            Err(Error::LengthMismatch { op, expected, got, .. }) => {
                assert_eq!((op, expected, got), ("GruBuilder::build_from_parameters", 4, 1))
            }
            other => panic!("{other:?}"),
        }
        let wrong = [IxDyn(&[9, 2]), IxDyn(&[9, 3]), IxDyn(&[9]), IxDyn(&[3])].map(ArrayD::<f64>::zeros);
        match Gru::<f64>::builder(2, 3).build_from_parameters(&wrong) {
            Err(Error::ShapeMismatch { op, expected, got }) => {
                assert_eq!((op, expected, got), ("GruBuilder::build_from_parameters", vec![9], vec![3]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_order_and_getters() {
        let mut m =
            Gru::<f64>::builder(5, 3).num_layers(2).bidirectional(true).build(&mut seeded_rng(1)).unwrap();
        let params = m.parameters();
        let got: Vec<(&str, &[usize])> = params.iter().map(|(n, v)| (n.as_str(), v.shape())).collect();
        let expected: Vec<(&str, &[usize])> = vec![
            ("weight_ih_l0", &[9, 5]),
            ("weight_hh_l0", &[9, 3]),
            ("bias_ih_l0", &[9]),
            ("bias_hh_l0", &[9]),
            ("weight_ih_l0_reverse", &[9, 5]),
            ("weight_hh_l0_reverse", &[9, 3]),
            ("bias_ih_l0_reverse", &[9]),
            ("bias_hh_l0_reverse", &[9]),
            ("weight_ih_l1", &[9, 6]),
            ("weight_hh_l1", &[9, 3]),
            ("bias_ih_l1", &[9]),
            ("bias_hh_l1", &[9]),
            ("weight_ih_l1_reverse", &[9, 6]),
            ("weight_hh_l1_reverse", &[9, 3]),
            ("bias_ih_l1_reverse", &[9]),
            ("bias_hh_l1_reverse", &[9]),
        ];
        assert_eq!(got, expected);
        let mut ids = Vec::new();
        m.visit_params(&mut |p, _, _| {
            ids.push(p.id);
            Ok(())
        })
        .unwrap();
        assert_eq!(ids, (0..16).collect::<Vec<_>>());
        assert_eq!(
            (
                m.input_size(),
                m.hidden_size(),
                m.num_layers(),
                m.has_bias(),
                m.batch_first(),
                m.bidirectional()
            ),
            (5, 3, 2, true, false, true)
        );
        assert_eq!((m.dropout(), m.seed(), m.output_size()), (0.0, 0, 6));
        assert_eq!(m.h_n().shape(), &[4, 0, 3]);
        assert_eq!(m.weight_hh(1, true).unwrap(), params[13].1.view().into_dimensionality().unwrap());
    }

    #[test]
    fn default_init_is_uniform_one_over_sqrt_hidden() {
        let m = Lstm::<f64>::builder(10, 64).build(&mut seeded_rng(5)).unwrap();
        let mut m2 = m.clone();
        let all: Vec<f64> = m2.parameters().into_iter().flat_map(|(_, v)| v.into_iter()).collect();
        let bound = 1.0 / 8.0;
        assert!(all.iter().all(|v| v.abs() <= bound));
        // Variance of U(-b, b) is b²/3; 256·(10 + 64 + 2) = 19456 draws, 5% tolerance.
        let var = all.iter().map(|v| v * v).sum::<f64>() / all.len() as f64;
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.05, "{var}");
        let again = Lstm::<f64>::builder(10, 64).build(&mut seeded_rng(5)).unwrap();
        assert_eq!(m.weight_hh(0, false), again.weight_hh(0, false));
        assert_eq!(m.bias_ih(0, false), again.bias_ih(0, false));
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_the_layer_unchanged() {
        for (name, mut m) in all_kinds_f64() {
            let fwd: &'static str = match name {
                "Rnn" => "Rnn::forward",
                "Lstm" => "Lstm::forward",
                _ => "Gru::forward",
            };
            let g = Array3::<f64>::ones((2, 5, 4)).into_dyn();
            let err = m.backward(g.view()).unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { .. }) && err.to_string().contains("Mode::Train"),
                "{err}"
            );
            for shape in [&[2, 5, 2][..], &[2, 5], &[2, 5, 3, 1]] {
                let err = m.forward(ArrayD::zeros(IxDyn(shape)).view(), Mode::Train).unwrap_err();
                assert_eq!(
                    err,
                    Error::ShapeMismatch { op: fwd, expected: vec![0, 0, 3], got: shape.to_vec() }
                );
            }
            let err = m.forward(ArrayD::zeros(IxDyn(&[2, 0, 3])).view(), Mode::Train).unwrap_err();
            assert!(matches!(err, Error::EmptyInput { op, .. } if op == fwd), "{err}");
            let err = m.forward(ArrayD::zeros(IxDyn(&[0, 5, 3])).view(), Mode::Train).unwrap_err();
            assert!(matches!(err, Error::EmptyInput { .. }), "{err}");

            let x = pattern(&[2, 5, 3], 5, 9, 4.0);
            let y = m.forward(x.view(), Mode::Train).unwrap().to_owned();
            let dx = m.backward_input(g.view()).unwrap().to_owned();
            let grads = m.gradients();
            // Failed calls change nothing: the backward of the last good forward still works.
            assert!(m.forward(ArrayD::zeros(IxDyn(&[3, 5, 4])).view(), Mode::Train).is_err());
            let err = m.backward(ArrayD::zeros(IxDyn(&[5, 2, 4])).view()).unwrap_err();
            assert!(
                matches!(&err, Error::ShapeMismatch { expected, got, .. } if expected == &[2, 5, 4] && got == &[5, 2, 4]),
                "{err}"
            );
            assert_eq!(m.backward_input(g.view()).unwrap(), dx);
            assert_eq!(m.gradients(), grads);
            // Eval gives the same output, and refuses backward afterwards.
            assert_eq!(m.forward(x.view(), Mode::Eval).unwrap(), y);
            let err = m.backward(g.view()).unwrap_err();
            assert!(err.to_string().contains("Mode::Eval"), "{err}");
        }
    }

    #[test]
    fn batch_first_equals_time_major_transposed() {
        let mut rng = seeded_rng(7);
        let tm = Lstm::<f64>::builder(3, 4).num_layers(2).bidirectional(true).build(&mut rng).unwrap();
        let mut bf = Lstm::<f64>::builder(3, 4)
            .num_layers(2)
            .bidirectional(true)
            .batch_first(true)
            .build_from_parameters(&tm.clone().parameters().into_iter().map(|(_, v)| v).collect::<Vec<_>>())
            .unwrap();
        let mut tm = tm;
        let x = pattern(&[5, 2, 3], 7, 11, 5.0); // [T, B, in]
        let xb = x.view().permuted_axes(IxDyn(&[1, 0, 2])); // [B, T, in], not contiguous
        let y_tm = tm.forward(x.view(), Mode::Train).unwrap().to_owned();
        let y_bf = bf.forward(xb.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y_bf.shape(), &[2, 5, 8]);
        assert_eq!(y_tm.view().permuted_axes(IxDyn(&[1, 0, 2])), y_bf);
        assert_eq!(tm.h_n(), bf.h_n());
        let g = pattern(&[5, 2, 8], 3, 7, 3.0);
        let dx_tm = tm.backward_input(g.view()).unwrap().to_owned();
        let dx_bf = bf.backward_input(g.view().permuted_axes(IxDyn(&[1, 0, 2]))).unwrap().to_owned();
        assert_eq!(dx_tm.view().permuted_axes(IxDyn(&[1, 0, 2])), dx_bf);
        for ((n, a), (_, b)) in tm.gradients().into_iter().zip(bf.gradients()) {
            assert!((&a - &b).iter().all(|d| d.abs() < 1e-14), "{n}");
        }
    }

    #[test]
    fn f32_and_f64_agree() {
        for kind in 0..3 {
            let x = pattern(&[3, 4, 2], 5, 9, 4.0);
            let g = pattern(&[3, 4, 6], 2, 5, 3.0);
            fn run<F: Float, K: RecurrentKind>(
                b: RecurrentBuilder<F, K>,
                x: &ArrayD<f64>,
                g: &ArrayD<f64>,
            ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
                let mut m =
                    b.num_layers(2).bidirectional(true).batch_first(true).build(&mut seeded_rng(9)).unwrap();
                let x = x.mapv(F::lit);
                let y = m.forward(x.view(), Mode::Train).unwrap().iter().map(|v| v.as_f64()).collect();
                let dx =
                    m.backward_input(g.mapv(F::lit).view()).unwrap().iter().map(|v| v.as_f64()).collect();
                let grads =
                    m.gradients().into_iter().flat_map(|(_, v)| v.into_iter().map(|v| v.as_f64())).collect();
                (y, dx, grads)
            }
            let (a, b) = match kind {
                0 => (run(Rnn::<f64>::builder(2, 3), &x, &g), run(Rnn::<f32>::builder(2, 3), &x, &g)),
                1 => (run(Lstm::<f64>::builder(2, 3), &x, &g), run(Lstm::<f32>::builder(2, 3), &x, &g)),
                _ => (run(Gru::<f64>::builder(2, 3), &x, &g), run(Gru::<f32>::builder(2, 3), &x, &g)),
            };
            for (u, v) in [(&a.0, &b.0), (&a.1, &b.1), (&a.2, &b.2)] {
                assert!(u.iter().zip(v).all(|(u, v)| (u - v).abs() < 1e-5), "kind {kind}");
                assert!(u.iter().any(|&u| u.abs() > 1e-3), "kind {kind}: all ~0");
            }
        }
    }

    #[test]
    fn buffers_are_reused_for_smaller_batches() {
        let mut m =
            Gru::<f32>::builder(3, 8).num_layers(2).batch_first(true).build(&mut seeded_rng(0)).unwrap();
        let step = |m: &mut Gru<f32>, b: usize, t: usize| {
            let x = Array3::<f32>::ones((b, t, 3)).into_dyn();
            let g = Array3::<f32>::ones((b, t, 8)).into_dyn();
            let p = m.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = m.backward_input(g.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(&mut m, 16, 10);
        let caps = |m: &Gru<f32>| m.st.capacities();
        let before = caps(&m);
        assert_eq!(before, [16 * 10 * 8, 16 * 10 * 8, 16 * 10 * 24, 16 * 10 * 24, 16 * 10 * 3]);
        assert_eq!(step(&mut m, 16, 10), first);
        assert_eq!(step(&mut m, 5, 10), first);
        assert_eq!(step(&mut m, 16, 7), first); // shorter sequences too
        assert_eq!(caps(&m), before);
    }

    #[test]
    fn dropout_between_layers() {
        let x = pattern(&[4, 6, 3], 5, 9, 4.0);
        let b = || Rnn::<f64>::builder(3, 5).num_layers(3).batch_first(true);
        let mut plain = b().build(&mut seeded_rng(2)).unwrap();
        let mut dropped = b().dropout(0.5).seed(11).build(&mut seeded_rng(2)).unwrap();
        assert_eq!(dropped.dropouts.len(), 2);
        // Eval and EvalGrad: no dropout, the same function as without it.
        let y0 = plain.forward(x.view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(dropped.forward(x.view(), Mode::Eval).unwrap(), y0);
        assert_eq!(dropped.forward(x.view(), Mode::EvalGrad).unwrap(), y0);
        assert_eq!(plain.forward(x.view(), Mode::Train).unwrap(), y0);
        // Train: masks differ per forward, and are frozen under freeze_randomness.
        let y1 = dropped.forward(x.view(), Mode::Train).unwrap().to_owned();
        let y2 = dropped.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_ne!(y1, y0);
        assert_ne!(y1, y2);
        {
            let _frozen = freeze_randomness();
            let a = dropped.forward(x.view(), Mode::Train).unwrap().to_owned();
            assert_eq!(dropped.forward(x.view(), Mode::Train).unwrap(), a);
        }
        // The masks are inverted-dropout masks of the layer outputs (0 or 2).
        let mask = dropped.dropouts[0].mask();
        assert_eq!(mask.shape(), &[6, 4, 5]);
        assert!(mask.iter().all(|&m| m == 0.0 || m == 2.0) && mask.iter().any(|&m| m == 0.0));
        // One layer: dropout has no effect (as in PyTorch) and no dropout module.
        let one = Rnn::<f64>::builder(3, 5).dropout(0.5).build(&mut seeded_rng(2)).unwrap();
        assert!(one.dropouts.is_empty());
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Rnn<f32>>();
        send_sync::<Lstm<f64>>();
        send_sync::<Gru<f32>>();
        send_sync::<GruBuilder<f64>>();
        send_sync::<LastStep<f32>>();
    }
}
