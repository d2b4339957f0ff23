//! [`PerPosition`]: a class-index loss applied at every position of a sequence.

use ndarray::{ArrayViewD, ArrayViewMutD, Dimension, IxDyn};

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::tensor::Float;

/// Applies a loss on `[N, C]` scores to predictions `[N, T, …, C]` (classes on the
/// **last** axis) and targets `[N, T, …]`, every position being one sample: PyTorch's
/// `loss(logits.view(-1, C), target.view(-1))`, the usual language-model loss.
///
/// With `M = N·T·…` positions, `PerPosition(CrossEntropyLoss::default())` is the mean
/// over the `M` positions of `−log softmax(logits)[target]`, and its gradient is the
/// inner loss's gradient on the `[M, C]` view, reshaped back. The views are reshaped in
/// place (no copy) when the prediction is contiguous, as a model's output is.
///
/// (`CrossEntropyLoss` itself takes `[N, C, d1, …]`, classes on axis 1, as PyTorch does;
/// a transformer's logits come as `[N, T, C]`.)
///
/// # Errors
/// [`Error::ShapeMismatch`] when the prediction has fewer than 2 dimensions, the
/// target's shape is not the prediction's without its last axis, or the prediction or
/// gradient is not contiguous; and the inner loss's errors.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array3};
/// use ndtrain::loss::PerPosition;
/// use ndtrain::prelude::*;
///
/// // 2 sequences x 3 positions x 4 classes.
/// let logits = Array3::<f64>::zeros((2, 3, 4)).into_dyn();
/// let target = array![[0usize, 1, 2], [3, 0, 1]].into_dyn();
/// let loss = PerPosition(CrossEntropyLoss::default());
/// let mut grad = Array3::<f64>::zeros((2, 3, 4)).into_dyn();
/// let l = loss.loss_and_grad(logits.view(), target.view(), grad.view_mut())?;
/// assert!((l - 4f64.ln()).abs() < 1e-12); // uniform logits: ln C
/// assert!((grad[[0, 0, 0]] - (0.25 - 1.0) / 6.0).abs() < 1e-12); // (p − y) / M
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct PerPosition<L>(pub L);

const OP: &str = "PerPosition";

fn rows_shape<F>(pred: &ArrayViewD<'_, F>) -> Result<[usize; 2]> {
    if pred.ndim() < 2 {
        return Err(Error::ShapeMismatch { op: OP, expected: vec![0, 0, 0], got: pred.shape().to_vec() });
    }
    let c = pred.shape()[pred.ndim() - 1];
    Ok([pred.len().checked_div(c).unwrap_or(0), c])
}

fn check_target<F, Y>(pred: &ArrayViewD<'_, F>, target: &ArrayViewD<'_, Y>) -> Result<()> {
    let lead = &pred.shape()[..pred.ndim() - 1];
    if target.shape() != lead {
        return Err(Error::ShapeMismatch { op: OP, expected: lead.to_vec(), got: target.shape().to_vec() });
    }
    Ok(())
}

fn not_contiguous(what: &[usize]) -> Error {
    Error::ShapeMismatch { op: OP, expected: what.to_vec(), got: what.to_vec() }
}

impl<F: Float, Y: Copy, L: Loss<F, Y>> Loss<F, Y> for PerPosition<L> {
    fn loss_and_grad(
        &self,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, Y>,
        grad: ArrayViewMutD<'_, F>,
    ) -> Result<F> {
        let [m, c] = rows_shape(&pred)?;
        check_target(&pred, &target)?;
        if grad.shape() != pred.shape() {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: pred.shape().to_vec(),
                got: grad.shape().to_vec(),
            });
        }
        // The shape for an error message, without allocating (inline for up to 4 axes).
        let dims = pred.raw_dim();
        let p = pred.into_shape_with_order(IxDyn(&[m, c])).map_err(|_| not_contiguous(dims.slice()))?;
        let g = grad.into_shape_with_order(IxDyn(&[m, c])).map_err(|_| not_contiguous(dims.slice()))?;
        let t = target.into_shape_with_order(IxDyn(&[m])).map_err(|_| not_contiguous(dims.slice()))?;
        self.0.loss_and_grad(p, t, g)
    }

    fn loss(&self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, Y>) -> Result<F> {
        let [m, c] = rows_shape(&pred)?;
        check_target(&pred, &target)?;
        let p = pred.to_shape(IxDyn(&[m, c])).map_err(|_| not_contiguous(&[m, c]))?;
        let t = target.to_shape(IxDyn(&[m])).map_err(|_| not_contiguous(&[m]))?;
        self.0.loss(p.view(), t.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::CrossEntropyLoss;
    use ndarray::{Array2, Array3, array};

    #[test]
    fn equals_the_flattened_loss() {
        let logits =
            Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64 * 0.37 % 1.3).into_dyn();
        let target = array![[0usize, 3, 2], [1, 1, 0]].into_dyn();
        let ce = CrossEntropyLoss::default();
        let mut g = Array3::<f64>::zeros((2, 3, 4)).into_dyn();
        let l = PerPosition(ce.clone()).loss_and_grad(logits.view(), target.view(), g.view_mut()).unwrap();
        let flat = logits.to_shape((6, 4)).unwrap().to_owned().into_dyn();
        let mut g2 = Array2::<f64>::zeros((6, 4)).into_dyn();
        let t2 = target.to_shape(6).unwrap().to_owned().into_dyn();
        let l2 = ce.loss_and_grad(flat.view(), t2.view(), g2.view_mut()).unwrap();
        assert_eq!(l, l2);
        assert_eq!(g.into_shape_with_order((6, 4)).unwrap().into_dyn(), g2);
        assert_eq!(PerPosition(ce.clone()).loss(logits.view(), target.view()).unwrap(), l2);
    }

    #[test]
    fn shape_errors() {
        let ce = PerPosition(CrossEntropyLoss::<f64>::default());
        let logits = Array3::<f64>::zeros((2, 3, 4)).into_dyn();
        let mut g = logits.clone();
        let bad = array![[0usize, 1], [2, 3]].into_dyn();
        assert!(matches!(
            ce.loss_and_grad(logits.view(), bad.view(), g.view_mut()),
            Err(Error::ShapeMismatch { .. })
        ));
        let v = array![1.0f64, 2.0].into_dyn();
        let t = array![0usize].into_dyn();
        assert!(ce.loss(v.view(), t.view()).is_err());
    }
}
