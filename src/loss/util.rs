//! Shared machinery of the losses: shape checks, weight broadcasting, the
//! elementwise core (`Elementwise`), the two-input engine, the class-index helpers
//! and `impl_loss!`, which implements `Loss` through a loss's `run`.
//!
//! Every loss validates everything (shapes, labels, domains) before it writes a
//! single gradient element, then runs one fused pass.

use ndarray::{Array1, ArrayD, ArrayView1, ArrayViewD, ArrayViewMutD, Axis, Dimension, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::loss::Reduction;
use crate::tensor::{Float, flush_subnormal, same_shape};

/// Where a loss computation writes, besides returning the reduced value. `G` is the
/// gradient buffer: one array, or a pair (`Grads`) for the losses with two
/// differentiable inputs.
pub(crate) enum Sink<'a, F, G = ArrayViewMutD<'a, F>> {
    /// Only the reduced value.
    Value,
    /// The gradient of the reduced value (of the sum for `Reduction::None`) w.r.t. the
    /// input, same shape as the input.
    Grad(G),
    /// The unreduced per-element losses (weights applied, no mean).
    Output(ArrayViewMutD<'a, F>),
}

/// The two gradient buffers of a loss with two differentiable inputs.
pub(crate) type Grads<'a, F> = (ArrayViewMutD<'a, F>, ArrayViewMutD<'a, F>);

impl<F> Sink<'_, F> {
    /// The shape of the buffer, if any.
    pub(crate) fn shape(&self) -> Option<&[usize]> {
        match self {
            Sink::Value => None,
            Sink::Grad(g) => Some(g.shape()),
            Sink::Output(o) => Some(o.shape()),
        }
    }
}

/// `Err(EmptyInput)` when `x` has no element.
pub(crate) fn non_empty<F>(op: &'static str, x: &ArrayViewD<'_, F>) -> Result<()> {
    if x.is_empty() { Err(Error::EmptyInput { op, what: "the input has no elements" }) } else { Ok(()) }
}

/// The target seen with the prediction's shape: the same shape, or a prediction
/// `[N, 1]` with a target `[N]` (a regression model's output against a dataset's `y`).
pub(crate) fn align_target<'a, Y>(
    op: &'static str,
    pred_shape: &[usize],
    target: ArrayViewD<'a, Y>,
) -> Result<ArrayViewD<'a, Y>> {
    if target.shape() == pred_shape {
        return Ok(target);
    }
    if pred_shape.len() == 2 && pred_shape[1] == 1 && target.ndim() == 1 && target.len() == pred_shape[0] {
        return Ok(target.insert_axis(Axis(1)));
    }
    Err(Error::ShapeMismatch { op, expected: pred_shape.to_vec(), got: target.shape().to_vec() })
}

/// `Err(ShapeMismatch)` unless the gradient/output buffer has the expected shape.
fn check_sink<F>(op: &'static str, expected: &[usize], sink: &Sink<'_, F>) -> Result<()> {
    match sink.shape() {
        Some(s) if s != expected => {
            Err(Error::ShapeMismatch { op, expected: expected.to_vec(), got: s.to_vec() })
        }
        _ => Ok(()),
    }
}

/// `w` broadcast to `shape` (numpy rules), or `Err(InvalidInput)` naming both shapes.
fn broadcast_to<'a, F>(
    op: &'static str,
    what: &str,
    w: &'a ArrayD<F>,
    shape: &[usize],
) -> Result<ArrayViewD<'a, F>> {
    w.broadcast(IxDyn(shape)).ok_or_else(|| {
        Error::invalid_input(
            op,
            format!("{what} of shape {:?} does not broadcast to the input shape {shape:?}", w.shape()),
        )
    })
}

/// Returns `Err(NonFinite)` naming `name` if any element of a hyper-parameter array is
/// not finite (checked once, in the builder).
pub(crate) fn finite_param<'a, F: Float>(
    name: &'static str,
    w: impl IntoIterator<Item = &'a F>,
) -> Result<()> {
    match w.into_iter().find(|v| !v.is_finite()) {
        Some(v) => Err(Error::InvalidParameter { name, value: v.as_f64(), expected: "finite elements" }),
        None => Ok(()),
    }
}

/// Returns `Err(InvalidParameter)` unless `value` is finite and `ok(value)`.
pub(crate) fn param(name: &'static str, value: f64, ok: bool, expected: &'static str) -> Result<()> {
    if value.is_finite() && ok { Ok(()) } else { Err(Error::InvalidParameter { name, value, expected }) }
}

/// The denominator of a reduction: `1` for `None` and `Sum` (so that the value is the
/// sum and the gradient is that of the sum), `mean_over` for `Mean`.
pub(crate) fn denominator<F: Float>(reduction: Reduction, mean_over: impl FnOnce() -> F) -> F {
    match reduction {
        Reduction::Mean => mean_over(),
        Reduction::None | Reduction::Sum => F::one(),
    }
}

/// Sum of the elements of a (possibly broadcast) view.
fn view_sum<F: Float>(w: &ArrayViewD<'_, F>) -> F {
    w.iter().fold(F::zero(), |a, &b| a + b)
}

/// The per-element output buffer for `forward`, then the result: the buffer itself for
/// `Reduction::None`, the reduced value as a 0-d array otherwise.
pub(crate) fn forward_output<F: Float, G>(
    none: bool,
    shape: &[usize],
    run: impl FnOnce(Sink<'_, F, G>) -> Result<F>,
) -> Result<ArrayD<F>> {
    if none {
        let mut out = ArrayD::<F>::zeros(IxDyn(shape));
        run(Sink::Output(out.view_mut()))?;
        Ok(out)
    } else {
        Ok(ndarray::arr0(run(Sink::Value)?).into_dyn())
    }
}

/// What an elementwise loss divides its sum by.
#[derive(Clone, Copy)]
pub(crate) enum Denominator<F> {
    /// `N` (the number of elements) for `Reduction::Mean`, else 1.
    Numel(Reduction),
    /// The sum of the weights (`N` without) for `Reduction::Mean`, else 1: the weighted
    /// mean of `mse_loss` and `l1_loss`.
    WeightSum(Reduction),
    /// This value.
    Given(F),
}

/// The shared part of the elementwise losses (one loss per input element, a target of
/// the input's shape): the checks, the weights, the reduction and the fused pass of
/// `elementwise`. A loss describes itself (`Elementwise::new(OP, reduction)`, then
/// `.weight(..)`, `.weighted_mean()`, ...) and passes its per-element value and
/// derivative to `run`.
///
/// The checks run in this order, all before the first write: a non-empty input, a
/// target of the input's shape (or `[N]` against `[N, 1]`, see `align_target`), a
/// gradient or output buffer of the input's shape, `weight` then the auxiliary weight
/// broadcast to the input's shape, then the loss's own check of the input (`validate`).
#[derive(Clone, Copy)]
pub(crate) struct Elementwise<'w, F> {
    op: &'static str,
    denominator: Denominator<F>,
    weight: Option<&'w ArrayD<F>>,
    aux: Option<(&'static str, &'w ArrayD<F>)>,
    validate: fn(&ArrayViewD<'_, F>) -> Result<()>,
}

impl<'w, F: Float> Elementwise<'w, F> {
    /// A loss named `op` reduced by `reduction`, without weights.
    pub(crate) fn new(op: &'static str, reduction: Reduction) -> Self {
        Self::with_denominator(op, Denominator::Numel(reduction))
    }

    /// A loss named `op` whose sum is divided by `denominator`.
    pub(crate) fn with_denominator(op: &'static str, denominator: Denominator<F>) -> Self {
        Elementwise { op, denominator, weight: None, aux: None, validate: |_| Ok(()) }
    }

    /// The per-element `weight` (any shape that broadcasts to the input), if any.
    pub(crate) fn weight(self, weight: Option<&'w ArrayD<F>>) -> Self {
        Elementwise { weight, ..self }
    }

    /// The mean divides by the sum of the weights instead of `N`.
    pub(crate) fn weighted_mean(self) -> Self {
        match self.denominator {
            Denominator::Numel(r) => Elementwise { denominator: Denominator::WeightSum(r), ..self },
            _ => self,
        }
    }

    /// An auxiliary per-element array named `what` (broadcast like `weight`), passed to
    /// the kernel as its third argument.
    pub(crate) fn aux(self, what: &'static str, aux: &'w ArrayD<F>) -> Self {
        Elementwise { aux: Some((what, aux)), ..self }
    }

    /// The loss's own check of the input, after the shared ones.
    pub(crate) fn validate(self, validate: fn(&ArrayViewD<'_, F>) -> Result<()>) -> Self {
        Elementwise { validate, ..self }
    }

    /// Checks, then returns `Σ w l / denominator` and fills the sink (see `elementwise`);
    /// `kernel(x, y, a)` gives an element's loss and its derivative w.r.t. `x`.
    pub(crate) fn run<Y: Copy>(
        self,
        input: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, Y>,
        sink: Sink<'_, F>,
        kernel: impl Fn(F, Y, F) -> (F, F),
    ) -> Result<F> {
        let op = self.op;
        non_empty(op, &input)?;
        let target = align_target(op, input.shape(), target)?;
        check_sink(op, input.shape(), &sink)?;
        let weight = self.weight.map(|w| broadcast_to(op, "weight", w, input.shape())).transpose()?;
        let aux = self.aux.map(|(what, a)| broadcast_to(op, what, a, input.shape())).transpose()?;
        (self.validate)(&input)?;
        let numel = || F::lit(input.len() as f64);
        let denom = match self.denominator {
            Denominator::Numel(r) => denominator(r, numel),
            Denominator::WeightSum(r) => denominator(r, || weight.as_ref().map_or_else(numel, view_sum)),
            Denominator::Given(d) => d,
        };
        Ok(elementwise(input, target, weight, aux, denom, sink, kernel))
    }
}

/// The elementwise engine. `kernel(x, y, a)` returns the per-element loss and its
/// derivative w.r.t. `x`; `a` is the element of `aux` (or `1`). The loss and the
/// derivative are multiplied by the element of `weight` (or `1`). Returns
/// `sum(w * l) / denom` and writes `w * dl/dx / denom` (gradient sink; subnormal
/// values flushed to zero, see [`crate::loss`]) or `w * l` (output sink). `target`, `weight` and `aux` already have the input's shape (checked
/// or broadcast by the caller), as has the sink.
#[allow(clippy::too_many_arguments)]
#[inline]
fn elementwise<F, Y, K>(
    input: ArrayViewD<'_, F>,
    target: ArrayViewD<'_, Y>,
    weight: Option<ArrayViewD<'_, F>>,
    aux: Option<ArrayViewD<'_, F>>,
    denom: F,
    sink: Sink<'_, F>,
    kernel: K,
) -> F
where
    F: Float,
    Y: Copy,
    K: Fn(F, Y, F) -> (F, F),
{
    let one = F::one();
    let scale = one / denom;
    let mut total = F::zero();
    if weight.is_none() && aux.is_none() {
        match sink {
            Sink::Value => Zip::from(&input).and(&target).for_each(|&x, &y| total += kernel(x, y, one).0),
            Sink::Grad(mut g) => Zip::from(&mut g).and(&input).and(&target).for_each(|g, &x, &y| {
                let (l, d) = kernel(x, y, one);
                total += l;
                *g = flush_subnormal(d * scale);
            }),
            Sink::Output(mut o) => Zip::from(&mut o).and(&input).and(&target).for_each(|o, &x, &y| {
                let l = kernel(x, y, one).0;
                total += l;
                *o = l;
            }),
        }
    } else {
        // A 0-d view of a stack value (no allocation), broadcast for the missing one.
        let ones = ArrayViewD::from_shape(IxDyn(&[]), std::slice::from_ref(&one))
            .expect("one element for a 0-d shape");
        let filled = ones.broadcast(input.raw_dim()).expect("a 0-d array broadcasts to any shape");
        let w = weight.unwrap_or_else(|| filled.view());
        let a = aux.unwrap_or_else(|| filled.view());
        match sink {
            Sink::Value => Zip::from(&input).and(&target).and(&w).and(&a).for_each(|&x, &y, &w, &a| {
                total += w * kernel(x, y, a).0;
            }),
            Sink::Grad(mut g) => {
                Zip::from(&mut g).and(&input).and(&target).and(&w).and(&a).for_each(|g, &x, &y, &w, &a| {
                    let (l, d) = kernel(x, y, a);
                    total += w * l;
                    *g = flush_subnormal(w * d * scale);
                })
            }
            Sink::Output(mut o) => {
                Zip::from(&mut o).and(&input).and(&target).and(&w).and(&a).for_each(|o, &x, &y, &w, &a| {
                    let l = w * kernel(x, y, a).0;
                    total += l;
                    *o = l;
                })
            }
        }
    }
    total / denom
}

/// The elementwise engine of the losses with two differentiable inputs.
/// `kernel(a, b, c)` returns the per-element loss and its derivatives w.r.t. the two
/// differentiable ones among `a`, `b`, `c`. Returns `sum(l) / denom` and writes
/// `dl/d· / denom` into the two gradient buffers (gradient sink) or `l` (output sink).
/// All arrays, sinks included, already have one shape (checked by the caller).
#[inline]
pub(crate) fn elementwise2<F: Float>(
    a: ArrayViewD<'_, F>,
    b: ArrayViewD<'_, F>,
    c: ArrayViewD<'_, F>,
    denom: F,
    sink: Sink<'_, F, Grads<'_, F>>,
    kernel: impl Fn(F, F, F) -> (F, F, F),
) -> F {
    let scale = F::one() / denom;
    let mut total = F::zero();
    match sink {
        Sink::Value => Zip::from(&a).and(&b).and(&c).for_each(|&a, &b, &c| total += kernel(a, b, c).0),
        Sink::Grad((mut g1, mut g2)) => {
            Zip::from(&mut g1).and(&mut g2).and(&a).and(&b).and(&c).for_each(|g1, g2, &a, &b, &c| {
                let (l, d1, d2) = kernel(a, b, c);
                total += l;
                *g1 = flush_subnormal(d1 * scale);
                *g2 = flush_subnormal(d2 * scale);
            })
        }
        Sink::Output(mut o) => Zip::from(&mut o).and(&a).and(&b).and(&c).for_each(|o, &a, &b, &c| {
            *o = kernel(a, b, c).0;
            total += *o;
        }),
    }
    total / denom
}

/// `sign(x)` with `sign(0) = 0` (and NaN for NaN), the subgradient torch uses.
#[inline]
pub(crate) fn sign0<F: Float>(x: F) -> F {
    if x > F::zero() {
        F::one()
    } else if x < F::zero() {
        -F::one()
    } else {
        x * F::zero()
    }
}

/// `log(1 + e)` for `e` in `[0, 1]`, to a few ulps, by Goldberg's trick
/// (`log(u) * e / (u - 1)` with `u = 1 + e`): about 1.6 times faster than `ln_1p`.
#[inline]
pub(crate) fn log1p_small<F: Float>(e: F) -> F {
    let u = F::one() + e;
    if u == F::one() { e } else { u.ln() * (e / (u - F::one())) }
}

/// `log(1 + exp(x))` without overflow.
#[inline]
pub(crate) fn softplus<F: Float>(x: F) -> F {
    x.max(F::zero()) + log1p_small((-x.abs()).exp())
}

/// `1 / (1 + exp(-x))` without overflow.
#[inline]
pub(crate) fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::one() + e)
    }
}

/// Shapes of a class-index loss: input `[C]` with target `[]`, or input
/// `[N, C, d1, ...]` with target `[N, d1, ...]`. Returns the class axis and `C`.
pub(crate) fn class_shapes(
    op: &'static str,
    input: &[usize],
    target: &[usize],
    max_ndim: Option<usize>,
) -> Result<(Axis, usize)> {
    if input.is_empty() {
        return Err(Error::ShapeMismatch { op, expected: vec![0, 0], got: vec![] });
    }
    if let Some(m) = max_ndim {
        if input.len() > m {
            return Err(Error::invalid_input(
                op,
                format!("input of shape {input:?} has {} dimensions, expected at most {m}", input.len()),
            ));
        }
    }
    // Expected target: [] for input [C], [N, d1, ...] for input [N, C, d1, ...]
    // (compared without building it: this runs once per batch).
    let axis = usize::from(input.len() > 1);
    let fits = target.len() + 1 == input.len()
        && (axis == 0 || (target[0] == input[0] && target[1..] == input[2..]));
    if !fits {
        let expected = input.iter().enumerate().filter(|&(i, _)| i != axis).map(|(_, &d)| d).collect();
        return Err(Error::ShapeMismatch { op, expected, got: target.to_vec() });
    }
    if input.contains(&0) {
        return Err(Error::EmptyInput { op, what: "the input has no samples or no classes" });
    }
    Ok((Axis(axis), input[axis]))
}

/// `Err(LengthMismatch)` unless a per-class weight has one entry per class.
pub(crate) fn class_weight_len<F>(
    op: &'static str,
    weight: Option<&Array1<F>>,
    n_classes: usize,
) -> Result<()> {
    match weight {
        Some(w) if w.len() != n_classes => Err(Error::LengthMismatch {
            op,
            what: "weight (one entry per class)",
            expected: n_classes,
            got: w.len(),
        }),
        _ => Ok(()),
    }
}

/// `Err(ShapeMismatch)` unless a gradient buffer has the input's shape and an output
/// buffer the target's (one loss per target).
pub(crate) fn check_class_sink<F>(
    op: &'static str,
    input: &[usize],
    target: &[usize],
    sink: &Sink<'_, F>,
) -> Result<()> {
    match sink {
        Sink::Grad(g) => same_shape(op, input, g.shape()),
        Sink::Output(o) => same_shape(op, target, o.shape()),
        Sink::Value => Ok(()),
    }
}

/// Checks every label (`< n_classes` unless ignored) and returns the sum of the class
/// weights of the non-ignored targets (their count without weights): the denominator of
/// torch's weighted mean.
pub(crate) fn label_weight_sum<F: Float>(
    op: &'static str,
    target: &ArrayViewD<'_, usize>,
    n_classes: usize,
    ignore_index: Option<usize>,
    weight: Option<&Array1<F>>,
) -> Result<F> {
    let mut sum = F::zero();
    for &t in target {
        if Some(t) == ignore_index {
            continue;
        }
        if t >= n_classes {
            return Err(Error::LabelOutOfRange { op, label: t, n_classes });
        }
        sum += weight.map_or(F::one(), |w| w[t]);
    }
    Ok(sum)
}

/// Builder-side conversion of a class weight to a contiguous 1-D array.
pub(crate) fn class_weight<F: Float, D: Dimension>(
    name: &'static str,
    w: ndarray::Array<F, D>,
) -> Result<Array1<F>> {
    let shape = w.shape().to_vec();
    let w = w.into_dimensionality::<ndarray::Ix1>().map_err(|_| {
        Error::invalid_config(format!("{name} must be 1-D (one entry per class), got shape {shape:?}"))
    })?;
    finite_param(name, &w)?;
    Ok(Array1::from_iter(w.iter().copied())) // standard layout: read as a slice
}

/// Runs `row(logits, second, grad)` over every row along `axis` (rows in the row-major
/// order of the other axes, the order of the class-index targets) and returns the sum of
/// what it returns; `second` is the matching row of `second` (probability targets), or
/// empty. The gradient sink receives each row's gradient, the output sink each row's
/// value. Rows are read straight from memory when the class axis is the last one and
/// every array is in standard layout (`[N, C]`, the hot path: no copy, no allocation);
/// otherwise each lane goes through a scratch row.
pub(crate) fn for_rows<F: Float>(
    x: &ArrayViewD<'_, F>,
    second: Option<&ArrayViewD<'_, F>>,
    axis: Axis,
    sink: Sink<'_, F>,
    mut row: impl FnMut(&[F], &[F], Option<&mut [F]>) -> F,
) -> F {
    let c = x.len_of(axis);
    let mut total = F::zero();
    let contiguous = axis.index() + 1 == x.ndim()
        && x.is_standard_layout()
        && second.is_none_or(|s| s.is_standard_layout())
        && match &sink {
            Sink::Value => true,
            Sink::Grad(g) => g.is_standard_layout(),
            Sink::Output(o) => o.is_standard_layout(),
        };
    if contiguous {
        // Standard layout guarantees the slices; the fallbacks below are never taken.
        let xs = x.as_slice().unwrap_or(&[]);
        let ss = second.and_then(|s| s.as_slice()).unwrap_or(&[]);
        let second_row = |r: usize| if ss.is_empty() { &[][..] } else { &ss[r * c..(r + 1) * c] };
        match sink {
            Sink::Grad(mut g) => {
                let gs = g.as_slice_mut().unwrap_or(&mut []);
                for (r, (z, gr)) in xs.chunks_exact(c).zip(gs.chunks_exact_mut(c)).enumerate() {
                    total += row(z, second_row(r), Some(gr));
                }
            }
            Sink::Output(mut o) => {
                let os = o.as_slice_mut().unwrap_or(&mut []);
                for (r, (z, o)) in xs.chunks_exact(c).zip(os.iter_mut()).enumerate() {
                    *o = row(z, second_row(r), None);
                    total += *o;
                }
            }
            Sink::Value => {
                for (r, z) in xs.chunks_exact(c).enumerate() {
                    total += row(z, second_row(r), None);
                }
            }
        }
        return total;
    }
    let (mut zb, mut sb, mut gb) = (vec![F::zero(); c], Vec::new(), vec![F::zero(); c]);
    let mut second_lanes = second.map(|s| s.lanes(axis).into_iter());
    let mut load = |z: ArrayView1<'_, F>, zb: &mut Vec<F>, sb: &mut Vec<F>| {
        zb.clear();
        zb.extend(z.iter().copied());
        if let Some(lanes) = second_lanes.as_mut() {
            sb.clear();
            sb.extend(lanes.next().into_iter().flat_map(|l| l.into_iter().copied()));
        }
    };
    match sink {
        Sink::Grad(mut g) => {
            for (z, mut gl) in x.lanes(axis).into_iter().zip(g.lanes_mut(axis)) {
                load(z, &mut zb, &mut sb);
                total += row(&zb, &sb, Some(&mut gb));
                gl.iter_mut().zip(&gb).for_each(|(d, &s)| *d = s);
            }
        }
        Sink::Output(mut o) => {
            for (z, o) in x.lanes(axis).into_iter().zip(o.iter_mut()) {
                load(z, &mut zb, &mut sb);
                *o = row(&zb, &sb, None);
                total += *o;
            }
        }
        Sink::Value => {
            for z in x.lanes(axis) {
                load(z, &mut zb, &mut sb);
                total += row(&zb, &sb, None);
            }
        }
    }
    total
}

/// Implements `Loss<F, Y>` for `$loss<F>` through its
/// `run(pred, target, sink)`: `loss_and_grad` runs it with the gradient sink, `loss`
/// with the value sink. Extra arguments after the impl are passed on to `run`;
/// attributes (doc comments) go on the impl.
macro_rules! impl_loss {
    ($(#[$attr:meta])* $loss:ident<F>: Loss<F, $y:ty> $(, $arg:expr)*) => {
        $(#[$attr])*
        impl<F: $crate::tensor::Float> $crate::loss::Loss<F, $y> for $loss<F> {
            fn loss_and_grad(
                &self,
                pred: ::ndarray::ArrayViewD<'_, F>,
                target: ::ndarray::ArrayViewD<'_, $y>,
                grad: ::ndarray::ArrayViewMutD<'_, F>,
            ) -> $crate::error::Result<F> {
                self.run(pred, target, $crate::loss::util::Sink::Grad(grad) $(, $arg)*)
            }

            fn loss(
                &self,
                pred: ::ndarray::ArrayViewD<'_, F>,
                target: ::ndarray::ArrayViewD<'_, $y>,
            ) -> $crate::error::Result<F> {
                self.run(pred, target, $crate::loss::util::Sink::Value $(, $arg)*)
            }
        }
    };
}

pub(crate) use impl_loss;

/// Implements `Loss<f32, usize>` and `Loss<f64, usize>` (0/1 labels) for a binary
/// cross-entropy `$loss` named `$op`, whose `run(pred, target, sink, to_f)` takes the
/// target's conversion to floats: the labels are checked to be 0 or 1
/// (`binary_labels`), then converted by `label_to_f`. `$doc` documents the impls.
macro_rules! impl_binary_labels {
    ($loss:ident, $op:expr, $doc:literal) => {
        impl_binary_labels!(@float $loss, $op, $doc, f32);
        impl_binary_labels!(@float $loss, $op, $doc, f64);
    };
    (@float $loss:ident, $op:expr, $doc:literal, $f:ty) => {
        #[doc = $doc]
        impl $crate::loss::Loss<$f, usize> for $loss<$f> {
            fn loss_and_grad(
                &self,
                pred: ::ndarray::ArrayViewD<'_, $f>,
                target: ::ndarray::ArrayViewD<'_, usize>,
                grad: ::ndarray::ArrayViewMutD<'_, $f>,
            ) -> $crate::error::Result<$f> {
                $crate::loss::util::binary_labels($op, &target)?;
                self.run(pred, target, $crate::loss::util::Sink::Grad(grad), $crate::loss::util::label_to_f)
            }

            fn loss(
                &self,
                pred: ::ndarray::ArrayViewD<'_, $f>,
                target: ::ndarray::ArrayViewD<'_, usize>,
            ) -> $crate::error::Result<$f> {
                $crate::loss::util::binary_labels($op, &target)?;
                self.run(pred, target, $crate::loss::util::Sink::Value, $crate::loss::util::label_to_f)
            }
        }
    };
}

pub(crate) use impl_binary_labels;

/// `Err(LabelOutOfRange)` for a label other than 0 or 1.
pub(crate) fn binary_labels(op: &'static str, target: &ArrayViewD<'_, usize>) -> Result<()> {
    match target.iter().find(|&&t| t > 1) {
        Some(&label) => Err(Error::LabelOutOfRange { op, label, n_classes: 2 }),
        None => Ok(()),
    }
}

/// A 0/1 label as a float.
#[inline]
pub(crate) fn label_to_f<F: Float>(y: usize) -> F {
    if y == 0 { F::zero() } else { F::one() }
}
