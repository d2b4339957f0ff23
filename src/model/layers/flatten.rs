//! Flatten: `[N, d1, d2, ...] -> [N, d1·d2·...]`.

use ndarray::ArrayViewD;

use super::{Pass, parameter_free_layer, slice_mut};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::tensor::{Buffer, Float};

/// Collapses every axis but the first (PyTorch `nn.Flatten()` with its defaults
/// `start_dim=1, end_dim=-1`), so images `[N, 8, 8]` can feed a
/// [`Linear`](crate::model::Linear) layer of 64 inputs. The backward pass reshapes the
/// gradient back to the input's shape.
///
/// Elements are taken in row-major (C) order, as `torch.flatten` does. The output is a
/// copy in the layer's own buffer (a [`Model`](crate::model::Model) returns views of
/// buffers it owns). Deviation: only the default dimensions are supported.
///
/// # Errors
/// `forward`: [`Error::InvalidInput`] for an input of fewer than 2 dimensions. Backward:
/// [`Error::InvalidInput`] without a preceding [`Mode::Train`] forward,
/// [`Error::ShapeMismatch`] for a `grad_out` of the wrong shape.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
///
/// let mut flat = Flatten::<f32>::new();
/// let x = Array3::<f32>::from_shape_fn((2, 8, 8), |(n, i, j)| (n * 64 + i * 8 + j) as f32).into_dyn();
/// let y = flat.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[2, 64]);
/// assert_eq!(y[[1, 9]], 73.0);
/// let g = ndarray::Array2::<f32>::ones((2, 64)).into_dyn();
/// assert_eq!(flat.backward_input(g.view())?.shape(), &[2, 8, 8]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Flatten")]
#[derive(Clone, Debug)]
pub struct Flatten<F> {
    in_shape: Vec<usize>,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    pass: Pass,
}

impl<F: Float> Default for Flatten<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Float> Flatten<F> {
    /// A flatten layer.
    pub fn new() -> Self {
        Flatten { in_shape: Vec::new(), out: Buffer::new(), grad_in: Buffer::new(), pass: Pass::None }
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        if x.ndim() < 2 {
            return Err(Error::invalid_input(
                "Flatten::forward",
                format!("expected an input of at least 2 dimensions [N, ...], got shape {:?}", x.shape()),
            ));
        }
        let n = x.shape()[0];
        let rest: usize = x.shape()[1..].iter().product();
        let out = slice_mut(self.out.reshape(&[n, rest]));
        match x.as_slice() {
            Some(xs) => out.copy_from_slice(xs),
            None => out.iter_mut().zip(x.iter()).for_each(|(o, &v)| *o = v),
        }
        self.in_shape.clear();
        self.in_shape.extend_from_slice(x.shape());
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
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

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.check_backward("Flatten::backward_input", &g)?;
        let gi = slice_mut(self.grad_in.reshape(&self.in_shape));
        match g.as_slice() {
            Some(gs) => gi.copy_from_slice(gs),
            None => gi.iter_mut().zip(g.iter()).for_each(|(d, &v)| *d = v),
        }
        Ok(self.grad_in.view())
    }
}
parameter_free_layer!(Flatten, "Flatten::backward");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model};
    use ndarray::{Array1, Array3, Array4};

    #[test]
    fn flattens_row_major_and_restores_shape() {
        let x =
            Array4::<f64>::from_shape_fn((2, 3, 2, 2), |(n, c, h, w)| (n * 12 + c * 4 + h * 2 + w) as f64);
        let mut f = Flatten::<f64>::new();
        let y = f.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
        assert_eq!(y.shape(), &[2, 12]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), (0..24).map(f64::from).collect::<Vec<_>>());
        let dx = f.backward_input(y.view()).unwrap();
        assert_eq!(dx, x.into_dyn());
        // Non-contiguous input: logical (row-major) order, as torch.flatten of a permuted tensor.
        let base = Array3::<f32>::from_shape_fn((3, 2, 2), |(a, b, c)| (a * 4 + b * 2 + c) as f32);
        let p = base.view().permuted_axes([1, 0, 2]); // [2, 3, 2]
        let y = Flatten::<f32>::new().forward(p.into_dyn(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y.shape(), &[2, 6]);
        assert_eq!(y.iter().take(6).copied().collect::<Vec<_>>(), vec![0.0, 1.0, 4.0, 5.0, 8.0, 9.0]);
        // 2-D input passes through.
        let x2 = ndarray::Array2::<f32>::ones((4, 5)).into_dyn();
        assert_eq!(Flatten::<f32>::new().forward(x2.view(), Mode::Eval).unwrap(), x2);
    }

    #[test]
    fn errors() {
        let mut f = Flatten::<f64>::new();
        let err = f.forward(Array1::<f64>::zeros(5).into_dyn().view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Flatten::forward", .. }));
        assert!(err.to_string().contains("[5]"), "{err}");
        let x = Array3::<f64>::zeros((2, 2, 2)).into_dyn();
        assert!(matches!(f.backward(x.view()), Err(Error::InvalidInput { .. })));
        f.forward(x.view(), Mode::Train).unwrap();
        match f.backward_input(x.view()) {
            Err(Error::ShapeMismatch { expected, got, .. }) => {
                assert_eq!((expected, got), (vec![2, 4], vec![2, 2, 2]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Flatten<f32>>();
    }
}
