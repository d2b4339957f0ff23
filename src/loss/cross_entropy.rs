//! Softmax cross-entropy on logits.

use ndarray::{Array, Array1, ArrayD, ArrayView1, ArrayViewD, ArrayViewMutD, Axis, Dimension};

use crate::error::{Error, Result};
use crate::loss::util::{
    Sink, check_class_sink, class_shapes, class_weight, class_weight_len, denominator, for_rows,
    forward_output, impl_loss, label_weight_sum, param,
};
use crate::loss::{Loss, Reduction};
use crate::tensor::{Float, flush_subnormal, same_shape};

const OP: &str = "CrossEntropyLoss";

/// Softmax cross-entropy between logits and class indices or class probabilities,
/// PyTorch's `nn.CrossEntropyLoss` / `F.cross_entropy` (log-softmax and NLL fused).
///
/// Input: logits `[N, C]`, `[N, C, d1, ...]` (class on axis 1) or `[C]`. With class
/// indices `y_n` (`Loss<F, usize>`, target `[N]`, `[N, d1, ...]` or `[]`) and label
/// smoothing `ε`:
///
/// ```text
/// log p_{n,c} = x_{n,c} - log Σ_k exp(x_{n,k})            (stable: shift by max_k x_{n,k})
/// l_n = (1 - ε) w_{y_n} (-log p_{n,y_n}) + (ε / C) Σ_c w_c (-log p_{n,c})     (0 if y_n is ignored)
/// mean: Σ_n l_n / Σ_{n not ignored} w_{y_n}     sum: Σ_n l_n     none: (l_1, ..., l_N)
/// dl_n/dx_{n,c} = p_{n,c} ((1 - ε) w_{y_n} + (ε / C) Σ_k w_k) - (1 - ε) w_{y_n} [c = y_n] - (ε / C) w_c
/// ```
///
/// which is the fused `softmax - onehot` (`p - y`, divided by `N` for the mean) without
/// weights and smoothing. With class probabilities `t_{n,c}` (`Loss<F, F>` /
/// [`forward_probs`](CrossEntropyLoss::forward_probs), target of the input's shape):
///
/// ```text
/// t'_{n,c} = (1 - ε) t_{n,c} + ε / C
/// l_n = Σ_c w_c t'_{n,c} (-log p_{n,c})          mean: Σ_n l_n / N   (N = rows, d-positions included)
/// dl_n/dx_{n,c} = p_{n,c} Σ_k w_k t'_{n,k} - w_c t'_{n,c}
/// ```
///
/// `w` is the class `weight` (ones when absent). If every target is ignored, the mean
/// is NaN (0/0) and the gradient zero, as in PyTorch. Logits of any finite size (±1000
/// in `f32`) give finite values and gradients.
///
/// | hyper-parameter | default | range |
/// | --- | --- | --- |
/// | `reduction` | `Mean` | `None`, `Mean`, `Sum` |
/// | `weight` | none | `[C]`, finite |
/// | `ignore_index` | none | any class index |
/// | `label_smoothing` | `0.0` | `[0, 1]` |
///
/// Deviation: PyTorch's `ignore_index` defaults to `-100`, a value no `usize` target
/// can take; ndtrain's default `None` ignores nothing, which is the same for valid
/// targets. To mark targets as ignored, pick a sentinel such as `usize::MAX` and set
/// `ignore_index(usize::MAX)`; the ignored index is exempt from the range check.
///
/// Deviation: gradient entries smaller in magnitude than the smallest normal float
/// (`1.2e-38` in f32; the softmax probabilities of wrong classes once a classifier is
/// very confident) are written as zero. Subnormal gradients would otherwise slow the
/// backward matrix products several times over; the loss value is unaffected.
///
/// # Errors
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a class index `>= C`
/// (not ignored), [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a target or
/// gradient of the wrong shape, [`Error::LengthMismatch`](crate::Error::LengthMismatch)
/// for a weight without one entry per class, [`Error::EmptyInput`](crate::Error::EmptyInput)
/// for no sample or no class; the builder returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `label_smoothing`
/// outside `[0, 1]`, `weight` non-finite, and
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a weight that is not 1-D.
///
/// Reference: <https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html>
/// (label smoothing: Szegedy et al., *Rethinking the Inception Architecture*, 2016).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::loss::{CrossEntropyLoss, Loss};
///
/// let loss = CrossEntropyLoss::default();
/// let logits = array![[0.0, 0.0], [1000.0, 0.0]].into_dyn();
/// let labels = array![0usize, 0].into_dyn();
/// let mut grad = logits.clone();
/// let value = loss.loss_and_grad(logits.view(), labels.view(), grad.view_mut())?;
/// // (ln 2 + 0) / 2; grad = (softmax - onehot) / 2
/// assert!((value - 2f64.ln() / 2.0).abs() < 1e-15);
/// assert_eq!(grad, array![[-0.25, 0.25], [0.0, 0.0]].into_dyn());
///
/// let smoothed = CrossEntropyLoss::builder().label_smoothing(0.1).ignore_index(usize::MAX).build()?;
/// let some_ignored = array![1usize, usize::MAX].into_dyn();
/// let v = smoothed.loss(logits.view(), some_ignored.view())?;
/// assert!((v - 2f64.ln()).abs() < 1e-15); // one row counted; uniform softmax
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "cross_entropy", alias = "softmax_cross_entropy", alias = "CategoricalCrossentropy")]
#[derive(Clone, Debug)]
pub struct CrossEntropyLoss<F> {
    reduction: Reduction,
    weight: Option<Array1<F>>,
    ignore_index: Option<usize>,
    label_smoothing: F,
}

impl<F: Float> Default for CrossEntropyLoss<F> {
    fn default() -> Self {
        CrossEntropyLoss {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: None,
            label_smoothing: F::zero(),
        }
    }
}

/// Builder of [`CrossEntropyLoss`].
#[derive(Clone, Debug)]
pub struct CrossEntropyLossBuilder<F> {
    reduction: Reduction,
    weight: Option<ArrayD<F>>,
    ignore_index: Option<usize>,
    label_smoothing: f64,
}

impl<F: Float> CrossEntropyLossBuilder<F> {
    /// Sets the reduction (default `Mean`).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the class weights, one per class (`[C]`).
    pub fn weight<D: Dimension>(mut self, weight: Array<F, D>) -> Self {
        self.weight = Some(weight.into_dyn());
        self
    }

    /// Targets equal to `index` contribute nothing (value, gradient, mean's
    /// denominator). Default: none.
    pub fn ignore_index(mut self, index: usize) -> Self {
        self.ignore_index = Some(index);
        self
    }

    /// Sets the label smoothing `ε` (default `0.0`).
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) `label_smoothing`
    /// outside `[0, 1]` or `weight` non-finite; [`Error::InvalidConfig`] for a weight
    /// that is not 1-D.
    pub fn build(self) -> Result<CrossEntropyLoss<F>> {
        let ls = self.label_smoothing;
        param("label_smoothing", ls, (0.0..=1.0).contains(&ls), "[0, 1]")?;
        let weight = self.weight.map(|w| class_weight("weight", w)).transpose()?;
        Ok(CrossEntropyLoss {
            reduction: self.reduction,
            weight,
            ignore_index: self.ignore_index,
            label_smoothing: F::lit(ls),
        })
    }
}

/// What one row needs besides its logits.
struct Row<'a, F> {
    weight: Option<&'a [F]>,
    weight_total: F,
    smoothing: F,
    n_classes: F,
    scale: F,
    /// `ln(F::min_positive_value())`: below it `exp` is subnormal or zero.
    log_tiny: F,
}

/// `max_c z_c` and `Σ_c exp(z_c - max)`, writing the exponentials into `g` if given.
#[inline]
fn shifted_exp_sum<F: Float>(z: &[F], g: Option<&mut [F]>, log_tiny: F) -> (F, F) {
    let m = z.iter().fold(F::neg_infinity(), |a, &b| a.max(b));
    let mut sum = F::zero();
    match g {
        Some(g) => {
            // Below `log_tiny` the exponential is subnormal or zero: it cannot change
            // `sum ≥ 1`, and as a gradient it would be flushed (see the type's docs), so
            // it is not computed.
            for (g, &z) in g.iter_mut().zip(z) {
                let d = z - m;
                let e = if d < log_tiny { F::zero() } else { d.exp() };
                *g = e;
                sum += e;
            }
        }
        None => {
            for &z in z {
                sum += (z - m).exp();
            }
        }
    }
    (m, sum)
}

impl<F: Float> Row<'_, F> {
    #[inline]
    fn w(&self, c: usize) -> F {
        self.weight.map_or(F::one(), |w| w[c])
    }

    /// Loss of one row with class index `t` (not ignored); writes the scaled gradient.
    #[inline]
    fn index(&self, z: &[F], t: usize, mut g: Option<&mut [F]>) -> F {
        let one = F::one();
        let (m, sum) = shifted_exp_sum(z, g.as_deref_mut(), self.log_tiny);
        let lse = m + sum.ln();
        let wy = self.w(t);
        if self.smoothing == F::zero() {
            if let Some(g) = g {
                let k = self.scale * wy / sum;
                for g in g.iter_mut() {
                    *g = flush_subnormal(*g * k);
                }
                g[t] -= self.scale * wy;
            }
            wy * (lse - z[t])
        } else {
            let eps_c = self.smoothing / self.n_classes;
            let mut smooth = F::zero();
            for (c, &zc) in z.iter().enumerate() {
                smooth += self.w(c) * (lse - zc);
            }
            if let Some(g) = g {
                let a = (one - self.smoothing) * wy + eps_c * self.weight_total;
                let k = self.scale * a / sum;
                for (c, g) in g.iter_mut().enumerate() {
                    *g = flush_subnormal(*g * k - self.scale * eps_c * self.w(c));
                }
                g[t] -= self.scale * (one - self.smoothing) * wy;
            }
            (one - self.smoothing) * wy * (lse - z[t]) + eps_c * smooth
        }
    }

    /// Loss of one row with class probabilities `t`; writes the scaled gradient.
    #[inline]
    fn probs(&self, z: &[F], t: &[F], mut g: Option<&mut [F]>) -> F {
        let (m, sum) = shifted_exp_sum(z, g.as_deref_mut(), self.log_tiny);
        let lse = m + sum.ln();
        let (keep, eps_c) = (F::one() - self.smoothing, self.smoothing / self.n_classes);
        let (mut loss, mut s) = (F::zero(), F::zero());
        for (c, (&zc, &tc)) in z.iter().zip(t).enumerate() {
            let wt = self.w(c) * (keep * tc + eps_c);
            s += wt;
            loss += wt * (lse - zc);
        }
        if let Some(g) = g {
            let k = self.scale * s / sum;
            for (c, (g, &tc)) in g.iter_mut().zip(t).enumerate() {
                *g = flush_subnormal(*g * k - self.scale * self.w(c) * (keep * tc + eps_c));
            }
        }
        loss
    }
}

impl<F: Float> CrossEntropyLoss<F> {
    /// A builder starting from PyTorch's defaults.
    pub fn builder() -> CrossEntropyLossBuilder<F> {
        CrossEntropyLossBuilder {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: None,
            label_smoothing: 0.0,
        }
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The class weights, if any.
    pub fn weight(&self) -> Option<ArrayView1<'_, F>> {
        self.weight.as_ref().map(|w| w.view())
    }

    /// The ignored class index, if any.
    pub fn ignore_index(&self) -> Option<usize> {
        self.ignore_index
    }

    /// The label smoothing `ε`.
    pub fn label_smoothing(&self) -> F {
        self.label_smoothing
    }

    /// PyTorch's output for class-index targets: per-sample losses (the target's shape)
    /// for `Reduction::None`, else the reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`CrossEntropyLoss`].
    pub fn forward(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>) -> Result<ArrayD<F>> {
        let shape = target.shape().to_vec();
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run(input, target, sink))
    }

    /// PyTorch's output for class-probability targets (the input's shape): per-sample
    /// losses (the input's shape without the class axis) for `Reduction::None`, else the
    /// reduced value as a 0-d array.
    ///
    /// # Errors
    /// As [`CrossEntropyLoss`].
    pub fn forward_probs(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>) -> Result<ArrayD<F>> {
        let mut shape = input.shape().to_vec();
        if !shape.is_empty() {
            shape.remove(if shape.len() == 1 { 0 } else { 1 });
        }
        forward_output(self.reduction == Reduction::None, &shape, |sink| self.run_probs(input, target, sink))
    }

    fn row(&self, n_classes: usize, scale: F) -> Row<'_, F> {
        let weight_total = self.weight.as_ref().map_or(F::lit(n_classes as f64), |w| w.sum());
        Row {
            weight: self.weight.as_ref().and_then(|w| w.as_slice()),
            weight_total,
            smoothing: self.label_smoothing,
            n_classes: F::lit(n_classes as f64),
            scale,
            log_tiny: F::min_positive_value().ln(),
        }
    }

    /// The loss with class-index targets.
    fn run(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, usize>, sink: Sink<'_, F>) -> Result<F> {
        let (axis, c) = class_shapes(OP, input.shape(), target.shape(), None)?;
        class_weight_len(OP, self.weight.as_ref(), c)?;
        check_class_sink(OP, input.shape(), target.shape(), &sink)?;
        let counted = label_weight_sum(OP, &target, c, self.ignore_index, self.weight.as_ref())?;
        let denom = denominator(self.reduction, || counted);
        let row = self.row(c, F::one() / denom);
        let ignore = self.ignore_index;
        let mut targets = target.iter();
        let total = for_rows(&input, None, axis, sink, |z, _, g| {
            let t = targets.next().copied();
            match (t, g) {
                (Some(t), g) if Some(t) != ignore => row.index(z, t, g),
                (_, Some(g)) => {
                    g.fill(F::zero());
                    F::zero()
                }
                _ => F::zero(),
            }
        });
        Ok(total / denom)
    }

    fn run_probs(&self, input: ArrayViewD<'_, F>, target: ArrayViewD<'_, F>, sink: Sink<'_, F>) -> Result<F> {
        if input.ndim() == 0 {
            return Err(Error::ShapeMismatch { op: OP, expected: vec![0, 0], got: vec![] });
        }
        if target.shape() != input.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: input.shape().to_vec(),
                got: target.shape().to_vec(),
            });
        }
        if input.is_empty() {
            return Err(Error::EmptyInput { op: OP, what: "the input has no samples or no classes" });
        }
        let axis = Axis(if input.ndim() == 1 { 0 } else { 1 });
        let c = input.len_of(axis);
        class_weight_len(OP, self.weight.as_ref(), c)?;
        let rows = input.len() / c;
        match &sink {
            Sink::Grad(g) => same_shape(OP, input.shape(), g.shape())?,
            Sink::Output(o) if o.len() != rows => {
                return Err(Error::ShapeMismatch { op: OP, expected: vec![rows], got: o.shape().to_vec() });
            }
            _ => {}
        }
        let denom = denominator(self.reduction, || F::lit(rows as f64));
        let row = self.row(c, F::one() / denom);
        let total = for_rows(&input, Some(&target), axis, sink, |z, t, g| row.probs(z, t, g));
        Ok(total / denom)
    }
}

impl_loss!(
    /// Class indices: logits `[N, C]` (or `[N, C, d1, ...]`, or `[C]`) against targets `[N]`
    /// (`[N, d1, ...]`, `[]`).
    CrossEntropyLoss<F>: Loss<F, usize>
);

macro_rules! impl_probs {
    ($($f:ty),*) => {$(
        /// Class probabilities of the logits' shape (soft labels, mixup).
        impl Loss<$f, $f> for CrossEntropyLoss<$f> {
            fn loss_and_grad(
                &self,
                pred: ArrayViewD<'_, $f>,
                target: ArrayViewD<'_, $f>,
                grad: ArrayViewMutD<'_, $f>,
            ) -> Result<$f> {
                self.run_probs(pred, target, Sink::Grad(grad))
            }

            fn loss(&self, pred: ArrayViewD<'_, $f>, target: ArrayViewD<'_, $f>) -> Result<$f> {
                self.run_probs(pred, target, Sink::Value)
            }
        }
    )*};
}

impl_probs!(f32, f64);

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, IxDyn, array};

    #[test]
    fn tiny_probabilities_give_zero_not_subnormal_gradients() {
        // Gaps of 80 to 110 put exp(z - max) around and below f32's smallest normal; the
        // mean over 8 rows divides the gradient by 8 and pushes exp(-86) below it too.
        let row = [0.0f32, -80.0, -86.0, -88.0, -95.0, -110.0];
        let z = Array2::from_shape_fn((8, 6), |(_, c)| row[c]).into_dyn();
        let y = ArrayD::<usize>::zeros(IxDyn(&[8]));
        let mut g = ArrayD::zeros(IxDyn(&[8, 6]));
        for ls in [0.0, 0.1] {
            let loss = CrossEntropyLoss::<f32>::builder().label_smoothing(ls).build().unwrap();
            let v = loss.loss_and_grad(z.view(), y.view(), g.view_mut()).unwrap();
            assert!(v.is_finite());
            assert!(g.iter().all(|x| *x == 0.0 || x.abs() >= f32::MIN_POSITIVE), "{g}");
            if ls == 0.0 {
                // exp(-80)/8 is a normal float and stays; the rest are zero.
                assert_abs_diff_eq!(g[[3, 1]], (-80.0f32).exp() / 8.0, epsilon = 1e-42);
                assert_eq!(g.slice(ndarray::s![3, 2..]).to_vec(), vec![0.0; 4]);
            }
        }
    }

    #[test]
    fn invalid_hyper_parameters() {
        for ls in [-0.1, 1.5, f64::NAN] {
            let e = CrossEntropyLoss::<f64>::builder().label_smoothing(ls).build().unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { name: "label_smoothing", .. }));
        }
        let e = CrossEntropyLoss::<f64>::builder().weight(array![[1.0, 2.0]]).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)));
    }

    #[test]
    fn hand_checked_two_classes() {
        // logits (0, ln 3): softmax (1/4, 3/4). Target 1: -ln(3/4); grad (1/4, -1/4).
        let x = array![[0.0, 3f64.ln()]].into_dyn();
        let t = array![1usize].into_dyn();
        let mut g = x.clone();
        let v = CrossEntropyLoss::default().loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap();
        assert_abs_diff_eq!(v, -(0.75f64.ln()), epsilon = 1e-15);
        assert_abs_diff_eq!(g, array![[0.25, -0.25]].into_dyn(), epsilon = 1e-15);
        // Probability target (0, 1) is the same thing.
        let p = array![[0.0, 1.0]].into_dyn();
        let v2 = CrossEntropyLoss::default().loss_and_grad(x.view(), p.view(), g.view_mut()).unwrap();
        assert_abs_diff_eq!(v2, v, epsilon = 1e-15);
        assert_abs_diff_eq!(g, array![[0.25, -0.25]].into_dyn(), epsilon = 1e-15);
    }

    #[test]
    fn f32_extreme_logits_and_label_range() {
        let x = array![[1000.0f32, -1000.0, 0.0], [-1000.0, 1000.0, 100.0]].into_dyn();
        let t = array![1usize, 1].into_dyn();
        let mut g = x.clone();
        let v = CrossEntropyLoss::default().loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap();
        // row 0: 2000, row 1: ~0 -> mean 1000
        assert_abs_diff_eq!(v, 1000.0, epsilon = 1e-3);
        assert!(g.iter().all(|g| g.is_finite()));
        let bad = array![1usize, 3].into_dyn();
        let e = CrossEntropyLoss::default().loss(x.view(), bad.view()).unwrap_err();
        assert_eq!(e, Error::LabelOutOfRange { op: OP, label: 3, n_classes: 3 });
    }

    #[test]
    fn all_ignored_mean_is_nan_with_zero_gradient() {
        let x = array![[1.0f64, 2.0], [0.5, -1.0]].into_dyn();
        let t = array![7usize, 7].into_dyn();
        let loss = CrossEntropyLoss::builder().ignore_index(7).build().unwrap();
        let mut g = x.clone();
        assert!(loss.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap().is_nan());
        assert!(g.iter().all(|&g| g == 0.0));
    }

    #[test]
    fn strided_views_match_contiguous() {
        // The same logits as a transposed (column-major) view, and a strided gradient buffer.
        let x = array![[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]];
        let xt = x.t().as_standard_layout().into_owned(); // [3, 2], C order
        let strided = xt.t(); // a [2, 3] view that is not in standard layout
        assert!(!strided.is_standard_layout());
        let t = array![2usize, 0].into_dyn();
        let loss =
            CrossEntropyLoss::builder().label_smoothing(0.1).weight(array![1.0, 2.0, 0.5]).build().unwrap();
        let mut g1 = ArrayD::zeros(IxDyn(&[2, 3]));
        let v1 = loss.loss_and_grad(x.view().into_dyn(), t.view(), g1.view_mut()).unwrap();
        let mut g2_t = ArrayD::<f64>::zeros(IxDyn(&[3, 2]));
        let g2 = g2_t.view_mut().reversed_axes();
        let v2 = loss.loss_and_grad(strided.into_dyn(), t.view(), g2).unwrap();
        assert_abs_diff_eq!(v1, v2, epsilon = 1e-15);
        assert_abs_diff_eq!(g1, g2_t.t().to_owned(), epsilon = 1e-15);
        let p = array![[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]].into_dyn();
        let v3 = loss.loss(strided.into_dyn(), p.view()).unwrap();
        assert_abs_diff_eq!(v3, loss.loss(x.view().into_dyn(), p.view()).unwrap(), epsilon = 1e-15);
    }
}
