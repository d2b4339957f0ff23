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
/// (`batch_first = false`, kept from PyTorch) and `[B, T, E]` with `batch_first`.
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
