//! Transformer encoder blocks: [`TransformerEncoderLayer`] and the stack
//! [`TransformerEncoder`], composed of [`MultiheadAttention`], [`Linear`],
//! [`LayerNorm`], an activation and [`Dropout`] sub-modules (no math of their own
//! beyond the residual additions).

use std::marker::PhantomData;

use ndarray::{ArrayView2, ArrayViewD, Zip};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::layers::{Dropout, Pass, slice_mut};
use crate::model::{
    Activation, AttnMask, Layer, LayerNorm, Linear, Mode, Model, Module, MultiheadAttention, ParamVisitor,
};
use crate::tensor::{Buffer, Float, Param};

/// The feed-forward activation: its spec (to clone it) and the layer.
struct Act<F> {
    spec: Activation,
    make: fn(Activation) -> Result<Box<dyn Layer<F> + Send + Sync>>,
    layer: Box<dyn Layer<F> + Send + Sync>,
}

impl<F: Float> Act<F> {
    fn new(spec: Activation) -> Result<Self> {
        Ok(Act { spec, make: Activation::layer::<F>, layer: spec.layer()? })
    }

    fn layer(&mut self) -> &mut dyn Layer<F> {
        &mut *self.layer
    }
}

impl<F> Clone for Act<F> {
    /// A fresh layer of the same kind (the spec was validated when first built).
    fn clone(&self) -> Self {
        let layer =
            (self.make)(self.spec).unwrap_or_else(|e| unreachable!("activation validated when built: {e}"));
        Act { spec: self.spec, make: self.make, layer }
    }
}

impl<F> std::fmt::Debug for Act<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.spec)
    }
}

/// `out = a + b` (same shapes; any layouts), into a reused buffer.
fn add_into<F: Float>(a: &ArrayViewD<'_, F>, b: &ArrayViewD<'_, F>, out: &mut Buffer<F>) {
    let o = out.reshape(a.shape());
    match (a.as_slice(), b.as_slice()) {
        (Some(a), Some(b)) => {
            let o = slice_mut(o);
            o.iter_mut().zip(a).zip(b).for_each(|((o, &x), &y)| *o = x + y);
        }
        _ => Zip::from(o).and(a).and(b).for_each(|o, &x, &y| *o = x + y),
    }
}

/// Dropout in training when the layer has one; the identity otherwise.
fn drop_forward<'a, F: Float>(
    d: &'a mut Option<Dropout<F>>,
    x: ArrayViewD<'a, F>,
    mode: Mode,
) -> Result<ArrayViewD<'a, F>> {
    match d {
        Some(d) if mode.is_training() => d.forward(x, mode),
        _ => Ok(x),
    }
}

fn drop_backward<'a, F: Float>(
    d: &'a mut Option<Dropout<F>>,
    g: ArrayViewD<'a, F>,
    active: bool,
) -> Result<ArrayViewD<'a, F>> {
    match d {
        Some(d) if active => d.backward_input(g),
        _ => Ok(g),
    }
}

fn dropout_layer<F: Float>(p: f64, seed: u64) -> Result<Option<Dropout<F>>> {
    if p > 0.0 { Ok(Some(Dropout::builder().p(p).seed(seed).build()?)) } else { Ok(None) }
}

/// The names of `m`'s parameters with `prefix` in front.
fn prefixed<F: Float>(m: &mut dyn Module<F>, prefix: &str, names: &mut Vec<String>) {
    let _ = m.visit_params(&mut |p, _, _| {
        names.push(format!("{prefix}{}", p.name));
        Ok(())
    });
}

/// Visits `m`'s parameters under the precomputed `names[*k..]`, ids `*k..`.
fn visit_renamed<F: Float>(
    m: &mut dyn Module<F>,
    names: &[String],
    k: &mut usize,
    f: &mut ParamVisitor<'_, F>,
) -> Result<()> {
    m.visit_params(&mut |_, v, g| {
        let id = *k;
        *k += 1;
        f(Param::new(id, &names[id]), v, g)
    })
}

/// A transformer encoder block, self-attention then a feed-forward network, each
/// with a residual connection and a layer norm (PyTorch `nn.TransformerEncoderLayer`;
/// Vaswani et al., "Attention Is All You Need", 2017; pre-norm: Xiong et al., "On
/// Layer Normalization in the Transformer Architecture", 2020).
///
/// With `sa` the [`MultiheadAttention`] self-attention and
/// `ff(x) = linear2(dropout(activation(linear1(x))))`:
///
/// * post-norm (`norm_first = false`, default):
///   `h = norm1(x + dropout1(sa(x)))`, `y = norm2(h + dropout2(ff(h)))`;
/// * pre-norm (`norm_first = true`):
///   `h = x + dropout1(sa(norm1(x)))`, `y = h + dropout2(ff(norm2(h)))`.
///
/// Backward runs the sub-modules' own backward passes in reverse; each residual
/// addition sends the incoming gradient down both branches and sums what returns.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `d_model` | required | `>= 1` |
/// | `nhead` | required | `>= 1`, divides `d_model` |
/// | `dim_feedforward` | 2048 | `>= 1` |
/// | `dropout` (attention weights, `dropout`, `dropout1`, `dropout2`) | 0.1 | `[0, 1)` |
/// | `activation` | [`Activation::Relu`] | any [`Activation`] (PyTorch: `relu`, `gelu`) |
/// | `layer_norm_eps` | `1e-5` | finite, `>= 0` |
/// | `batch_first` | `false` (PyTorch's default: `[T, B, E]`) | |
/// | `norm_first` | `false` | |
/// | `bias` (linear layers, attention, layer norms) | `true` | |
/// | `seed` (dropout streams: `seed` .. `seed + 3`) | 0 | any `u64` |
/// | `causal` | `false` | |
///
/// **Layout.** As [`MultiheadAttention`]: `src` is `[T, B, E]` by default
/// (`batch_first = false`, kept from PyTorch) and `[B, T, E]` with `batch_first`, the
/// layout to use when the [`Trainer`](crate::train::Trainer) batches along axis 0.
///
/// **Parameters**, named exactly as PyTorch's: `self_attn.in_proj_weight`,
/// `self_attn.in_proj_bias`, `self_attn.out_proj.weight`, `self_attn.out_proj.bias`,
/// `linear1.weight`, `linear1.bias`, `linear2.weight`, `linear2.bias`, `norm1.weight`,
/// `norm1.bias`, `norm2.weight`, `norm2.bias` (without `bias`, the bias entries are
/// absent). Initialisation as PyTorch's modules (the random streams differ).
///
/// **Masks.** [`set_causal`](Self::set_causal) (or the builder's `causal`), and
/// [`set_src_mask`](Self::set_src_mask) / [`set_src_key_padding_mask`](Self::set_src_key_padding_mask)
/// (PyTorch's `forward(src, src_mask, src_key_padding_mask, is_causal)` arguments),
/// held by the layer and used by every forward; see [`AttnMasks`](crate::model::AttnMasks).
///
/// **Dropout** (all four places PyTorch has it) is active in [`Mode::Train`] when
/// `dropout > 0`, through [`Dropout`] layers with their own seeded streams (honouring
/// [`freeze_randomness`](crate::model::freeze_randomness)); with `dropout = 0` the
/// dropout layers are left out entirely.
///
/// # Errors
/// * build: [`Error::InvalidParameter`] (`"d_model"`, `"nhead"`, `"dim_feedforward"`,
///   `"dropout"`, `"layer_norm_eps"`, or the activation's);
/// * forward: [`Error::ShapeMismatch`] unless `src` is 3-D with `d_model` features, or
///   for a mask of the wrong shape; [`Error::EmptyInput`] for a zero batch or length;
/// * backward: [`Error::InvalidInput`] without a preceding recording forward,
///   [`Error::ShapeMismatch`] unless `grad_out` has the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::TransformerEncoderLayer;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut block = TransformerEncoderLayer::<f32>::builder(16, 4)
///     .dim_feedforward(64)
///     .dropout(0.0)
///     .activation(Activation::Gelu)
///     .batch_first(true)
///     .norm_first(true)
///     .causal(true)
///     .build(&mut rng)?;
/// assert_eq!(block.parameters()[0].0, "self_attn.in_proj_weight");
/// let x = Array3::<f32>::from_shape_fn((2, 10, 16), |(b, t, e)| ((b + t * e) % 5) as f32 - 2.0).into_dyn();
/// let y = block.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[2, 10, 16]);
/// let dx = block.backward_input(Array3::<f32>::ones((2, 10, 16)).into_dyn().view())?;
/// assert_eq!(dx.shape(), &[2, 10, 16]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.TransformerEncoderLayer")]
#[derive(Clone, Debug)]
pub struct TransformerEncoderLayer<F> {
    self_attn: MultiheadAttention<F>,
    linear1: Linear<F>,
    dropout: Option<Dropout<F>>,
    linear2: Linear<F>,
    norm1: LayerNorm<F>,
    norm2: LayerNorm<F>,
    dropout1: Option<Dropout<F>>,
    dropout2: Option<Dropout<F>>,
    activation: Act<F>,
    norm_first: bool,
    names: Vec<String>,
    /// The first residual sum (`x + sa`), and the second one (post-norm: `h + ff`;
    /// pre-norm: the output).
    h: Buffer<F>,
    h2: Buffer<F>,
    /// Gradient at the first residual sum (post-norm: at `norm1`'s output).
    grad_h: Buffer<F>,
    grad_in: Buffer<F>,
    out_shape: Vec<usize>,
    /// The last forward applied the dropouts.
    dropped: bool,
    pass: Pass,
}

/// Builder of [`TransformerEncoderLayer`], with PyTorch's defaults; `Copy`, so one
/// builder makes every layer of a [`TransformerEncoder`].
#[derive(Clone, Copy, Debug)]
pub struct TransformerEncoderLayerBuilder<F> {
    _float: PhantomData<fn() -> F>,
    d_model: usize,
    nhead: usize,
    dim_feedforward: usize,
    dropout: f64,
    activation: Activation,
    layer_norm_eps: f64,
    batch_first: bool,
    norm_first: bool,
    bias: bool,
    seed: u64,
    causal: bool,
}

impl<F: Float> TransformerEncoderLayerBuilder<F> {
    /// Hidden size of the feed-forward network (default 2048).
    pub fn dim_feedforward(mut self, n: usize) -> Self {
        self.dim_feedforward = n;
        self
    }

    /// Dropout probability everywhere (default 0.1).
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Activation of the feed-forward network (default [`Activation::Relu`]).
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }

    /// `eps` of both layer norms (default `1e-5`).
    pub fn layer_norm_eps(mut self, eps: f64) -> Self {
        self.layer_norm_eps = eps;
        self
    }

    /// Inputs `[B, T, E]` (`true`) or `[T, B, E]` (default `false`, as PyTorch).
    pub fn batch_first(mut self, on: bool) -> Self {
        self.batch_first = on;
        self
    }

    /// Pre-norm (`true`) or post-norm (default `false`).
    pub fn norm_first(mut self, on: bool) -> Self {
        self.norm_first = on;
        self
    }

    /// Biases in the linear layers, the attention and the layer norms (default `true`).
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }

    /// First seed of the dropout streams (default 0; the layer uses `seed..seed + 4`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Causal self-attention (default `false`).
    pub fn causal(mut self, on: bool) -> Self {
        self.causal = on;
        self
    }

    /// Validates, then draws the weights from `rng` in PyTorch's order of construction
    /// (self-attention, `linear1`, `linear2`); layer norms start at ones and zeros.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an invalid hyper-parameter.
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<TransformerEncoderLayer<F>> {
        let bad = |name, value: f64, expected| Err(Error::InvalidParameter { name, value, expected });
        if self.d_model == 0 {
            return bad("d_model", 0.0, ">= 1");
        }
        if self.nhead == 0 || self.d_model % self.nhead != 0 {
            return bad("nhead", self.nhead as f64, ">= 1 and a divisor of d_model");
        }
        if self.dim_feedforward == 0 {
            return bad("dim_feedforward", 0.0, ">= 1");
        }
        if !(self.dropout >= 0.0 && self.dropout < 1.0) {
            return bad("dropout", self.dropout, "[0, 1)");
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps >= 0.0) {
            return bad("layer_norm_eps", self.layer_norm_eps, "finite and >= 0");
        }
        let activation = Act::new(self.activation)?;
        let (e, p, s) = (self.d_model, self.dropout, self.seed);
        let mut self_attn = MultiheadAttention::builder(e, self.nhead)
            .dropout(p)
            .bias(self.bias)
            .batch_first(self.batch_first)
            .seed(s)
            .build(rng)?;
        self_attn.set_causal(self.causal);
        let linear1 = Linear::builder(e, self.dim_feedforward).bias(self.bias).build(rng)?;
        let linear2 = Linear::builder(self.dim_feedforward, e).bias(self.bias).build(rng)?;
        let norm = || LayerNorm::builder(&[e]).eps(self.layer_norm_eps).bias(self.bias).build();
        let mut layer = TransformerEncoderLayer {
            self_attn,
            linear1,
            dropout: dropout_layer(p, s.wrapping_add(1))?,
            linear2,
            norm1: norm()?,
            norm2: norm()?,
            dropout1: dropout_layer(p, s.wrapping_add(2))?,
            dropout2: dropout_layer(p, s.wrapping_add(3))?,
            activation,
            norm_first: self.norm_first,
            names: Vec::new(),
            h: Buffer::new(),
            h2: Buffer::new(),
            grad_h: Buffer::new(),
            grad_in: Buffer::new(),
            out_shape: Vec::new(),
            dropped: false,
            pass: Pass::None,
        };
        let mut names = Vec::new();
        prefixed(&mut layer.self_attn, "self_attn.", &mut names);
        prefixed(&mut layer.linear1, "linear1.", &mut names);
        prefixed(&mut layer.linear2, "linear2.", &mut names);
        prefixed(&mut layer.norm1, "norm1.", &mut names);
        prefixed(&mut layer.norm2, "norm2.", &mut names);
        layer.names = names;
        Ok(layer)
    }
}

impl<F: Float> TransformerEncoderLayer<F> {
    /// A builder with PyTorch's defaults.
    pub fn builder(d_model: usize, nhead: usize) -> TransformerEncoderLayerBuilder<F> {
        TransformerEncoderLayerBuilder {
            _float: PhantomData,
            d_model,
            nhead,
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: Activation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
            seed: 0,
            causal: false,
        }
    }

    /// A layer with PyTorch's defaults (`dim_feedforward` 2048, dropout 0.1, ReLU,
    /// post-norm, `[T, B, E]` inputs).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `d_model >= 1` and `nhead` divides it.
    pub fn new<R: Rng + ?Sized>(d_model: usize, nhead: usize, rng: &mut R) -> Result<Self> {
        Self::builder(d_model, nhead).build(rng)
    }

    /// `d_model`.
    pub fn d_model(&self) -> usize {
        self.self_attn.embed_dim()
    }

    /// Whether the layer normalizes before each sub-block.
    pub fn norm_first(&self) -> bool {
        self.norm_first
    }

    /// The self-attention sub-module.
    pub fn self_attn(&self) -> &MultiheadAttention<F> {
        &self.self_attn
    }

    /// The first feed-forward projection, `d_model → dim_feedforward`.
    pub fn linear1(&self) -> &Linear<F> {
        &self.linear1
    }

    /// The second feed-forward projection, `dim_feedforward → d_model`.
    pub fn linear2(&self) -> &Linear<F> {
        &self.linear2
    }

    /// The layer norm of the attention block.
    pub fn norm1(&self) -> &LayerNorm<F> {
        &self.norm1
    }

    /// The layer norm of the feed-forward block.
    pub fn norm2(&self) -> &LayerNorm<F> {
        &self.norm2
    }

    /// Causal self-attention on or off.
    pub fn set_causal(&mut self, causal: bool) {
        self.self_attn.set_causal(causal);
    }

    /// Whether the self-attention is causal.
    pub fn is_causal(&self) -> bool {
        self.self_attn.is_causal()
    }

    /// PyTorch's `src_mask` (`[T, T]` or `[B·nhead, T, T]`; copied, `None` removes it).
    pub fn set_src_mask(&mut self, mask: Option<AttnMask<'_, F>>) {
        self.self_attn.set_attn_mask(mask);
    }

    /// PyTorch's `src_key_padding_mask` (`[B, T]`, `true` = padding; copied).
    pub fn set_src_key_padding_mask(&mut self, mask: Option<ArrayView2<'_, bool>>) {
        self.self_attn.set_key_padding_mask(mask);
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        // Everything that can fail is checked here, before any sub-module runs.
        self.self_attn.check_self_attention("TransformerEncoderLayer::forward", &x)?;
        self.out_shape.clear();
        self.out_shape.extend_from_slice(x.shape());
        self.dropped = mode.is_training();
        self.pass = Pass::of(mode);
        if self.norm_first {
            let n1 = self.norm1.forward(x.clone(), mode)?;
            let a = self.self_attn.forward(n1, mode)?;
            let a = drop_forward(&mut self.dropout1, a, mode)?;
            add_into(&x, &a, &mut self.h);
            let n2 = self.norm2.forward(self.h.view(), mode)?;
            let z = self.linear1.forward(n2, mode)?;
            let z = self.activation.layer().forward(z, mode)?;
            let z = drop_forward(&mut self.dropout, z, mode)?;
            let f = self.linear2.forward(z, mode)?;
            let f = drop_forward(&mut self.dropout2, f, mode)?;
            add_into(&self.h.view(), &f, &mut self.h2);
            Ok(self.h2.view())
        } else {
            let a = self.self_attn.forward(x.clone(), mode)?;
            let a = drop_forward(&mut self.dropout1, a, mode)?;
            add_into(&x, &a, &mut self.h);
            let y1 = self.norm1.forward(self.h.view(), mode)?;
            let z = self.linear1.forward(y1.clone(), mode)?;
            let z = self.activation.layer().forward(z, mode)?;
            let z = drop_forward(&mut self.dropout, z, mode)?;
            let f = self.linear2.forward(z, mode)?;
            let f = drop_forward(&mut self.dropout2, f, mode)?;
            add_into(&y1, &f, &mut self.h2);
            self.norm2.forward(self.h2.view(), mode)
        }
    }

    fn backward_impl(&mut self, op: &'static str, g: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != &self.out_shape[..] {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out_shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        let active = self.dropped;
        if self.norm_first {
            // out = h + dropout2(ff(norm2(h))), h = x + dropout1(sa(norm1(x)))
            let gf = drop_backward(&mut self.dropout2, g.clone(), active)?;
            let gz = self.linear2.backward_input(gf)?;
            let gz = drop_backward(&mut self.dropout, gz, active)?;
            let gz = self.activation.layer().backward_input(gz)?;
            let gn2 = self.linear1.backward_input(gz)?;
            let gh_ff = self.norm2.backward_input(gn2)?;
            add_into(&g, &gh_ff, &mut self.grad_h);
            let ga = drop_backward(&mut self.dropout1, self.grad_h.view(), active)?;
            let gn1 = self.self_attn.backward_input(ga)?;
            if input_grad {
                let gx = self.norm1.backward_input(gn1)?;
                add_into(&self.grad_h.view(), &gx, &mut self.grad_in);
            } else {
                self.norm1.backward(gn1)?;
            }
        } else {
            // out = norm2(y1 + dropout2(ff(y1))), y1 = norm1(x + dropout1(sa(x)))
            let gh2 = self.norm2.backward_input(g)?;
            let gf = drop_backward(&mut self.dropout2, gh2.clone(), active)?;
            let gz = self.linear2.backward_input(gf)?;
            let gz = drop_backward(&mut self.dropout, gz, active)?;
            let gz = self.activation.layer().backward_input(gz)?;
            let gy1 = self.linear1.backward_input(gz)?;
            add_into(&gh2, &gy1, &mut self.grad_h);
            let gh = self.norm1.backward_input(self.grad_h.view())?;
            let ga = drop_backward(&mut self.dropout1, gh.clone(), active)?;
            if input_grad {
                let gx = self.self_attn.backward_input(ga)?;
                add_into(&gh, &gx, &mut self.grad_in);
            } else {
                self.self_attn.backward(ga)?;
            }
        }
        Ok(())
    }
}

impl<F: Float> Module<F> for TransformerEncoderLayer<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        let mut k = 0;
        let names = &self.names;
        visit_renamed(&mut self.self_attn, names, &mut k, f)?;
        visit_renamed(&mut self.linear1, names, &mut k, f)?;
        visit_renamed(&mut self.linear2, names, &mut k, f)?;
        visit_renamed(&mut self.norm1, names, &mut k, f)?;
        visit_renamed(&mut self.norm2, names, &mut k, f)
    }
}

impl<F: Float> Model<F> for TransformerEncoderLayer<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.forward_impl(x, mode)
    }

    /// Parameter gradients (the input gradient of the first sub-module is skipped).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl("TransformerEncoderLayer::backward", grad_out, false)
    }
}

impl<F: Float> Layer<F> for TransformerEncoderLayer<F> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.backward_impl("TransformerEncoderLayer::backward_input", grad_out, true)?;
        Ok(self.grad_in.view())
    }
}

/// A stack of [`TransformerEncoderLayer`]s with an optional final [`LayerNorm`]
/// (PyTorch `nn.TransformerEncoder(encoder_layer, num_layers, norm)`).
///
/// `y = norm(layer_{N−1}(… layer_0(x)))`; backward runs the layers' backward passes in
/// reverse order. Parameters are named `layers.{i}.…` and `norm.weight`, `norm.bias`,
/// as PyTorch's.
///
/// | argument | range |
/// |---|---|
/// | `layer` (a [`TransformerEncoderLayerBuilder`]) | valid builder |
/// | `num_layers` | `>= 1` |
/// | `norm` | `None` or a [`LayerNorm`] over `[d_model]` |
///
/// **Deviation.** PyTorch deep-copies one layer, so its layers start with equal
/// weights; [`TransformerEncoder::new`] draws each layer afresh from `rng` (layer `i`'s
/// dropout streams start at the builder's `seed + 4·i`). To start from equal weights,
/// clone one layer into [`TransformerEncoder::from_layers`].
///
/// The causal flag and the masks ([`set_causal`](Self::set_causal),
/// [`set_mask`](Self::set_mask), [`set_src_key_padding_mask`](Self::set_src_key_padding_mask))
/// are passed to every layer.
///
/// # Errors
/// Build: [`Error::InvalidParameter`] (`"num_layers"`, or the layer builder's);
/// [`Error::InvalidInput`] for layers that disagree on `d_model` or layout, or a
/// `norm` of another shape. Forward and backward: as [`TransformerEncoderLayer`].
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::{LayerNorm, TransformerEncoder, TransformerEncoderLayer};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let layer = TransformerEncoderLayer::<f32>::builder(16, 2).dim_feedforward(32).dropout(0.0).batch_first(true);
/// let mut enc = TransformerEncoder::new(layer, 2, Some(LayerNorm::new(&[16])?), &mut rng)?;
/// enc.set_causal(true);
/// let names: Vec<String> = enc.parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[0], "layers.0.self_attn.in_proj_weight");
/// assert_eq!(names.last().unwrap(), "norm.bias");
/// let x = Array3::<f32>::zeros((3, 7, 16)).into_dyn();
/// assert_eq!(enc.forward(x.view(), Mode::Train)?.shape(), &[3, 7, 16]);
/// enc.backward(Array3::<f32>::ones((3, 7, 16)).into_dyn().view())?;
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.TransformerEncoder")]
#[derive(Clone, Debug)]
pub struct TransformerEncoder<F> {
    layers: Vec<TransformerEncoderLayer<F>>,
    norm: Option<LayerNorm<F>>,
    names: Vec<String>,
    out_shape: Vec<usize>,
    pass: Pass,
}

impl<F: Float> TransformerEncoder<F> {
    /// `num_layers` layers built by `layer` (each drawn from `rng`), then `norm`.
    ///
    /// # Errors
    /// See [`TransformerEncoder`].
    pub fn new<R: Rng + ?Sized>(
        layer: TransformerEncoderLayerBuilder<F>,
        num_layers: usize,
        norm: Option<LayerNorm<F>>,
        rng: &mut R,
    ) -> Result<Self> {
        if num_layers == 0 {
            return Err(Error::InvalidParameter { name: "num_layers", value: 0.0, expected: ">= 1" });
        }
        let layers = (0..num_layers)
            .map(|i| layer.seed(layer.seed.wrapping_add(4 * i as u64)).build(rng))
            .collect::<Result<Vec<_>>>()?;
        Self::from_layers(layers, norm)
    }

    /// A stack of the given layers and final norm.
    ///
    /// # Errors
    /// See [`TransformerEncoder`].
    pub fn from_layers(layers: Vec<TransformerEncoderLayer<F>>, norm: Option<LayerNorm<F>>) -> Result<Self> {
        let op = "TransformerEncoder::from_layers";
        let first = layers.first().ok_or(Error::InvalidParameter {
            name: "num_layers",
            value: 0.0,
            expected: ">= 1",
        })?;
        let (e, bf) = (first.d_model(), first.self_attn.batch_first());
        if layers.iter().any(|l| l.d_model() != e || l.self_attn.batch_first() != bf) {
            return Err(Error::invalid_input(op, "every layer needs the same d_model and batch_first"));
        }
        if let Some(n) = &norm {
            if n.normalized_shape() != [e] {
                return Err(Error::invalid_input(
                    op,
                    format!("norm over {:?}, expected [{e}] (d_model)", n.normalized_shape()),
                ));
            }
        }
        let mut enc =
            TransformerEncoder { layers, norm, names: Vec::new(), out_shape: Vec::new(), pass: Pass::None };
        let mut names = Vec::new();
        for (i, l) in enc.layers.iter_mut().enumerate() {
            prefixed(l, &format!("layers.{i}."), &mut names);
        }
        if let Some(n) = &mut enc.norm {
            prefixed(n, "norm.", &mut names);
        }
        enc.names = names;
        Ok(enc)
    }

    /// The layers.
    pub fn layers(&self) -> &[TransformerEncoderLayer<F>] {
        &self.layers
    }

    /// The final norm, if any.
    pub fn norm(&self) -> Option<&LayerNorm<F>> {
        self.norm.as_ref()
    }

    /// Causal self-attention in every layer.
    pub fn set_causal(&mut self, causal: bool) {
        self.layers.iter_mut().for_each(|l| l.set_causal(causal));
    }

    /// PyTorch's `mask` for every layer (copied; `None` removes it).
    pub fn set_mask(&mut self, mask: Option<AttnMask<'_, F>>) {
        self.layers.iter_mut().for_each(|l| l.set_src_mask(mask.clone()));
    }

    /// PyTorch's `src_key_padding_mask` for every layer (`[B, T]`; copied).
    pub fn set_src_key_padding_mask(&mut self, mask: Option<ArrayView2<'_, bool>>) {
        self.layers.iter_mut().for_each(|l| l.set_src_key_padding_mask(mask));
    }

    fn backward_impl(
        &mut self,
        op: &'static str,
        g: ArrayViewD<'_, F>,
        input_grad: bool,
    ) -> Result<Option<ArrayViewD<'_, F>>> {
        self.pass.require_train(op)?;
        if g.shape() != &self.out_shape[..] {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out_shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        let g = match &mut self.norm {
            Some(n) => n.backward_input(g)?,
            None => g,
        };
        let (first, rest) = self.layers.split_first_mut().expect("at least one layer");
        let mut g = g;
        for l in rest.iter_mut().rev() {
            g = l.backward_input(g)?;
        }
        if input_grad {
            Ok(Some(first.backward_input(g)?))
        } else {
            first.backward(g)?;
            Ok(None)
        }
    }
}

impl<F: Float> Module<F> for TransformerEncoder<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        let mut k = 0;
        let names = &self.names;
        for l in &mut self.layers {
            visit_renamed(l, names, &mut k, f)?;
        }
        if let Some(n) = &mut self.norm {
            visit_renamed(n, names, &mut k, f)?;
        }
        Ok(())
    }
}

impl<F: Float> Model<F> for TransformerEncoder<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        // Every layer checks the input shape and its masks before anything runs.
        for l in &self.layers {
            l.self_attn.check_self_attention("TransformerEncoder::forward", &x)?;
        }
        self.out_shape.clear();
        self.out_shape.extend_from_slice(x.shape());
        self.pass = Pass::of(mode);
        let (first, rest) = self.layers.split_first_mut().expect("at least one layer");
        let mut y = first.forward(x, mode)?;
        for l in rest.iter_mut() {
            y = l.forward(y, mode)?;
        }
        match &mut self.norm {
            Some(n) => n.forward(y, mode),
            None => Ok(y),
        }
    }

    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl("TransformerEncoder::backward", grad_out, false).map(|_| ())
    }
}

impl<F: Float> Layer<F> for TransformerEncoder<F> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        Ok(self.backward_impl("TransformerEncoder::backward_input", grad_out, true)?.expect("input gradient"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init::uniform01;
    use crate::model::{AttnMask, Gelu, freeze_randomness};
    use crate::tensor::seeded_rng;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, Array3, ArrayD, IxDyn, s};

    fn rand3(shape: (usize, usize, usize), seed: u64) -> ArrayD<f64> {
        let mut rng = seeded_rng(seed);
        Array3::from_shape_simple_fn(shape, || uniform01(&mut rng) * 2.0 - 1.0).into_dyn()
    }

    fn builder() -> TransformerEncoderLayerBuilder<f64> {
        TransformerEncoderLayer::builder(8, 2).dim_feedforward(12).dropout(0.0).batch_first(true)
    }

    /// Parameters as PyTorch's `named_parameters()` of the same layer.
    #[test]
    fn parameter_names_follow_torch() {
        let mut layer = builder().build(&mut seeded_rng(0)).unwrap();
        let names: Vec<String> = layer.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "self_attn.in_proj_weight",
                "self_attn.in_proj_bias",
                "self_attn.out_proj.weight",
                "self_attn.out_proj.bias",
                "linear1.weight",
                "linear1.bias",
                "linear2.weight",
                "linear2.bias",
                "norm1.weight",
                "norm1.bias",
                "norm2.weight",
                "norm2.bias",
            ]
        );
        let mut ids = Vec::new();
        layer
            .visit_params(&mut |p, _, _| {
                ids.push(p.id);
                Ok(())
            })
            .unwrap();
        assert_eq!(ids, (0..12).collect::<Vec<_>>());
        assert_eq!(layer.num_parameters(), 3 * 64 + 24 + 64 + 8 + 96 + 12 + 96 + 8 + 4 * 8);
        let mut no_bias = builder().bias(false).build(&mut seeded_rng(0)).unwrap();
        let names: Vec<String> = no_bias.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "self_attn.in_proj_weight",
                "self_attn.out_proj.weight",
                "linear1.weight",
                "linear2.weight",
                "norm1.weight",
                "norm2.weight"
            ]
        );
        // PyTorch's defaults.
        let d = TransformerEncoderLayer::<f32>::new(16, 4, &mut seeded_rng(0)).unwrap();
        assert_eq!(d.linear1().out_features(), 2048);
        assert!(!d.norm_first() && !d.self_attn().batch_first() && d.dropout.is_some());
        assert_eq!(d.norm1().eps(), 1e-5);
    }

    #[test]
    fn invalid_hyper_parameters() {
        let mut rng = seeded_rng(0);
        for (r, name) in [
            (TransformerEncoderLayer::<f64>::builder(0, 1).build(&mut rng), "d_model"),
            (TransformerEncoderLayer::<f64>::builder(8, 3).build(&mut rng), "nhead"),
            (TransformerEncoderLayer::<f64>::builder(8, 0).build(&mut rng), "nhead"),
            (builder().dim_feedforward(0).build(&mut rng), "dim_feedforward"),
            (builder().dropout(1.0).build(&mut rng), "dropout"),
            (builder().layer_norm_eps(-1e-5).build(&mut rng), "layer_norm_eps"),
            (builder().activation(Activation::LeakyRelu(f64::NAN)).build(&mut rng), "negative_slope"),
        ] {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let err = TransformerEncoder::new(builder(), 0, None, &mut rng).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "num_layers", .. }));
        let a = builder().build(&mut rng).unwrap();
        let b = TransformerEncoderLayer::<f64>::builder(4, 2).batch_first(true).build(&mut rng).unwrap();
        assert!(matches!(
            TransformerEncoder::from_layers(vec![a.clone(), b], None),
            Err(Error::InvalidInput { .. })
        ));
        let err = TransformerEncoder::from_layers(vec![a], Some(LayerNorm::new(&[4]).unwrap())).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }

    /// The block equals its definition written with clones of its sub-modules.
    #[test]
    fn composition_matches_the_definition() {
        for norm_first in [false, true] {
            let mut layer = builder()
                .norm_first(norm_first)
                .activation(Activation::Gelu)
                .build(&mut seeded_rng(1))
                .unwrap();
            // Non-trivial norms.
            let values: Vec<ArrayD<f64>> = layer
                .parameters()
                .iter()
                .enumerate()
                .map(|(i, (n, p))| {
                    if n.starts_with("norm") {
                        rand3((1, 1, 8), 10 + i as u64).into_shape_with_order(p.raw_dim()).unwrap()
                    } else {
                        p.clone()
                    }
                })
                .collect();
            layer.set_parameters(&values).unwrap();
            let x = rand3((2, 5, 8), 2);
            let y = layer.forward(x.view(), Mode::Eval).unwrap().to_owned();
            let (mut sa, mut l1, mut l2) =
                (layer.self_attn.clone(), layer.linear1.clone(), layer.linear2.clone());
            let (mut n1, mut n2) = (layer.norm1.clone(), layer.norm2.clone());
            let mut act = Gelu::<f64>::default();
            let mut ff = |v: ArrayD<f64>| -> ArrayD<f64> {
                let h = l1.forward(v.view(), Mode::Eval).unwrap().to_owned();
                let h = act.forward(h.view(), Mode::Eval).unwrap().to_owned();
                l2.forward(h.view(), Mode::Eval).unwrap().to_owned()
            };
            let expected = if norm_first {
                let h = &x
                    + &sa
                        .forward(n1.forward(x.view(), Mode::Eval).unwrap().to_owned().view(), Mode::Eval)
                        .unwrap();
                let f = ff(n2.forward(h.view(), Mode::Eval).unwrap().to_owned());
                &h + &f
            } else {
                let h = &x + &sa.forward(x.view(), Mode::Eval).unwrap();
                let h = n1.forward(h.view(), Mode::Eval).unwrap().to_owned();
                let f = ff(h.clone());
                n2.forward((&h + &f).view(), Mode::Eval).unwrap().to_owned()
            };
            assert_abs_diff_eq!(y, expected, epsilon = 1e-13);
        }
    }

    #[test]
    fn causal_outputs_ignore_later_positions() {
        let mut layer = builder().causal(true).build(&mut seeded_rng(2)).unwrap();
        assert!(layer.is_causal());
        let x = rand3((2, 6, 8), 3);
        let y = layer.forward(x.view(), Mode::Eval).unwrap().to_owned();
        let mut x2 = x.clone();
        x2.slice_mut(s![.., 4.., ..]).mapv_inplace(|v| v + 1.0);
        let y2 = layer.forward(x2.view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y.slice(s![.., ..4, ..]), y2.slice(s![.., ..4, ..]));
        assert!(y.slice(s![.., 4.., ..]) != y2.slice(s![.., 4.., ..]));
        // A bool src_mask equal to the causal mask gives the same output.
        layer.set_causal(false);
        let tri = ArrayD::from_shape_fn(IxDyn(&[6, 6]), |ix| ix[1] > ix[0]);
        layer.set_src_mask(Some(AttnMask::Bool(tri.view())));
        assert_abs_diff_eq!(layer.forward(x.view(), Mode::Eval).unwrap().to_owned(), y, epsilon = 1e-14);
    }

    #[test]
    fn post_norm_output_is_normalized() {
        let mut layer = builder().build(&mut seeded_rng(4)).unwrap();
        let y = layer.forward(rand3((3, 4, 8), 5).view(), Mode::Train).unwrap().to_owned();
        for row in y.into_shape_with_order((12, 8)).unwrap().rows() {
            assert_abs_diff_eq!(row.sum(), 0.0, epsilon = 1e-12);
            assert_abs_diff_eq!(row.mapv(|v| v * v).sum() / 8.0, 1.0, epsilon = 1e-3); // eps 1e-5
        }
    }

    #[test]
    fn dropout_modes() {
        let mut layer = builder().dropout(0.3).seed(5).build(&mut seeded_rng(6)).unwrap();
        let x = rand3((2, 5, 8), 7);
        let a = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        let b = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert!((&a - &b).iter().any(|d| d.abs() > 1e-6));
        let e = layer.forward(x.view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(layer.forward(x.view(), Mode::EvalGrad).unwrap(), e);
        layer.backward_input(x.view()).unwrap();
        // EvalGrad's gradients are those of the evaluation function: the same as with
        // dropout 0.
        let mut plain = builder().build(&mut seeded_rng(0)).unwrap();
        let values: Vec<ArrayD<f64>> = layer.parameters().into_iter().map(|(_, p)| p).collect();
        plain.set_parameters(&values).unwrap();
        plain.forward(x.view(), Mode::Train).unwrap();
        plain.backward_input(x.view()).unwrap();
        for ((n, g1), (_, g2)) in layer.gradients().iter().zip(plain.gradients().iter()) {
            assert_abs_diff_eq!(g1, g2, epsilon = 1e-13);
            assert!(!n.is_empty());
        }
        let _frozen = freeze_randomness();
        let c = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(layer.forward(x.view(), Mode::Train).unwrap(), c);
    }

    #[test]
    fn f32_and_f64_agree() {
        let b64 = TransformerEncoderLayer::<f64>::builder(16, 4)
            .dim_feedforward(32)
            .dropout(0.0)
            .activation(Activation::Gelu)
            .norm_first(true)
            .causal(true);
        let b32 = TransformerEncoderLayer::<f32>::builder(16, 4)
            .dim_feedforward(32)
            .dropout(0.0)
            .activation(Activation::Gelu)
            .norm_first(true)
            .causal(true);
        let mut l64 = b64.build(&mut seeded_rng(8)).unwrap();
        let mut l32 = b32.build(&mut seeded_rng(8)).unwrap();
        let x = rand3((9, 3, 16), 9); // [T, B, E]: batch_first = false
        let g = rand3((9, 3, 16), 10);
        let y64 = l64.forward(x.view(), Mode::Train).unwrap().to_owned();
        let y32 = l32.forward(x.mapv(|v| v as f32).view(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(y64, y32, epsilon = 1e-5);
        let d64 = l64.backward_input(g.view()).unwrap().to_owned();
        let d32 = l32.backward_input(g.mapv(|v| v as f32).view()).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(d64, d32, epsilon = 1e-4);
        for ((_, a), (_, b)) in l64.gradients().iter().zip(l32.gradients().iter()) {
            assert_abs_diff_eq!(a, &b.mapv(f64::from), epsilon = 1e-3);
        }
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_the_layer_unchanged() {
        let mut layer = builder().build(&mut seeded_rng(11)).unwrap();
        let x = rand3((2, 5, 8), 12);
        let err = layer.backward(x.view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "TransformerEncoderLayer::backward", .. }), "{err}");
        let op = "TransformerEncoderLayer::forward";
        let err = layer.forward(rand3((2, 5, 6), 0).view(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![0, 0, 8], got: vec![2, 5, 6] });
        layer.forward(x.view(), Mode::Train).unwrap();
        let g = rand3((2, 5, 8), 13);
        let dx = layer.backward_input(g.view()).unwrap().to_owned();
        let grads = layer.gradients();
        // A bad mask fails before any sub-module runs: the last forward's caches stay.
        let pad = Array2::from_elem((2, 4), false);
        layer.set_src_key_padding_mask(Some(pad.view()));
        let err = layer.forward(rand3((2, 5, 8), 14).view(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op, expected: vec![2, 5], got: vec![2, 4] });
        layer.set_src_key_padding_mask(None);
        assert_eq!(layer.backward_input(g.view()).unwrap(), dx);
        assert_eq!(layer.gradients(), grads);
        let err = layer.backward(rand3((2, 4, 8), 15).view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch {
                op: "TransformerEncoderLayer::backward",
                expected: vec![2, 5, 8],
                got: vec![2, 4, 8]
            }
        );
        layer.forward(x.view(), Mode::Eval).unwrap();
        assert!(layer.backward(g.view()).unwrap_err().to_string().contains("Mode::Eval"));
    }

    #[test]
    fn encoder_stack() {
        let b = builder().norm_first(true).dropout(0.1).seed(3);
        let mut enc =
            TransformerEncoder::new(b, 3, Some(LayerNorm::new(&[8]).unwrap()), &mut seeded_rng(12)).unwrap();
        assert_eq!(enc.layers().len(), 3);
        assert!(enc.norm().is_some());
        // Layer i's dropout streams start at seed + 4i.
        assert_eq!(enc.layers[2].dropout1.as_ref().unwrap().seed(), 3 + 8 + 2);
        let names: Vec<String> = enc.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 3 * 12 + 2);
        assert_eq!(names[12], "layers.1.self_attn.in_proj_weight");
        assert_eq!(names[35], "layers.2.norm2.bias");
        assert_eq!(&names[36..], ["norm.weight", "norm.bias"]);
        // Layers are drawn independently (PyTorch deep-copies one).
        assert_ne!(enc.layers[0].linear1().weight(), enc.layers[1].linear1().weight());
        enc.set_causal(true);
        assert!(enc.layers().iter().all(|l| l.is_causal()));
        let x = rand3((2, 4, 8), 13);
        let g = rand3((2, 4, 8), 14);
        // Model::backward gives the same parameter gradients as backward_input.
        enc.forward(x.view(), Mode::EvalGrad).unwrap();
        enc.backward(g.view()).unwrap();
        let a = enc.gradients();
        enc.forward(x.view(), Mode::EvalGrad).unwrap();
        let dx = enc.backward_input(g.view()).unwrap().to_owned();
        assert_eq!(dx.shape(), &[2, 4, 8]);
        assert_eq!(enc.gradients(), a);
        // A stack from clones starts equal, as PyTorch's.
        let one = builder().build(&mut seeded_rng(1)).unwrap();
        let mut same = TransformerEncoder::from_layers(vec![one.clone(), one], None).unwrap();
        let p = same.parameters();
        assert_eq!(p[0].1, p[12].1);
        // Errors name the stack.
        let err = enc.forward(rand3((2, 4, 6), 0).view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { op: "TransformerEncoder::forward", .. }));
        let err = enc.backward(rand3((2, 3, 8), 0).view()).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { op: "TransformerEncoder::backward", .. }));
    }

    #[test]
    fn buffers_are_reused() {
        let mut layer = TransformerEncoderLayer::<f32>::builder(8, 2)
            .dim_feedforward(16)
            .batch_first(true)
            .build(&mut seeded_rng(0))
            .unwrap();
        let mut step = |b: usize| {
            let x = Array3::<f32>::from_elem((b, 5, 8), 0.25).into_dyn();
            let p = layer.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = layer.backward_input(x.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(4);
        assert_eq!(step(2), first);
        assert_eq!(step(4), first);
    }

    #[test]
    fn is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<TransformerEncoderLayer<f32>>();
        send_sync::<TransformerEncoder<f64>>();
        send_sync::<TransformerEncoderLayerBuilder<f64>>();
    }
}
