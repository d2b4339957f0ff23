//! [`LastStep`]: the last time step of a sequence output.

use ndarray::{ArrayViewD, Axis};

use crate::error::{Error, Result};
use crate::model::Mode;
use crate::model::layers::{Pass, copy_into, parameter_free_layer};
use crate::tensor::{Buffer, Float};

/// The last time step of a sequence, `y = x[:, T − 1]` (`[B, T, *] → [B, *]`, batch
/// first) or `y = x[T − 1]` (`[T, B, *] → [B, *]`, time-major): the head of a sequence
/// classifier or regressor reads it after an [`Rnn`](super::Rnn), [`Lstm`](super::Lstm)
/// or [`Gru`](super::Gru) (PyTorch code writes `output[:, -1]`).
///
/// Backward: `dL/dx` is `dL/dy` at step `T − 1` and zero at every other step.
///
/// For a unidirectional layer the last step of the output is the final hidden state of
/// the last layer. For a bidirectional one the reverse direction's half of the last
/// step has seen only `x_T` (its final state, in [`h_n`](super::Recurrent::h_n), is at
/// step 0).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `batch_first` | required | `true`: `[B, T, *]`; `false`: `[T, B, *]` |
///
/// # Errors
/// `forward`: [`Error::ShapeMismatch`] (expected `[0, 0]`) for an input of fewer than 2
/// dimensions, [`Error::EmptyInput`] for a sequence of length 0. `backward`:
/// [`Error::InvalidInput`] without a preceding [`Mode::Train`] or `EvalGrad` forward,
/// [`Error::ShapeMismatch`] for a `grad_out` that is not the output's shape.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array3};
/// use ndtrain::prelude::*;
/// use ndtrain::model::LastStep;
///
/// let mut last = LastStep::<f64>::new(true);
/// let x = Array3::from_shape_fn((2, 3, 2), |(b, t, j)| (b * 100 + t * 10 + j) as f64).into_dyn();
/// let y = last.forward(x.view(), Mode::Train)?;
/// assert_eq!(y, array![[20.0, 21.0], [120.0, 121.0]].into_dyn());
/// let dx = last.backward_input(array![[1.0, 2.0], [3.0, 4.0]].into_dyn().view())?;
/// assert_eq!(dx.sum(), 10.0);
/// assert_eq!(dx[[1, 2, 1]], 4.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "output[:, -1]")]
#[doc(alias = "last time step")]
#[derive(Clone, Debug)]
pub struct LastStep<F> {
    batch_first: bool,
    in_shape: Vec<usize>,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    pass: Pass,
}

impl<F: Float> LastStep<F> {
    /// The last step of `[B, T, *]` inputs (`batch_first`) or of `[T, B, *]` inputs.
    pub fn new(batch_first: bool) -> Self {
        LastStep {
            batch_first,
            in_shape: Vec::new(),
            out: Buffer::new(),
            grad_in: Buffer::new(),
            pass: Pass::None,
        }
    }

    /// Whether inputs are `[B, T, *]`.
    pub fn batch_first(&self) -> bool {
        self.batch_first
    }

    fn time_axis(&self) -> Axis {
        Axis(usize::from(self.batch_first))
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let op = "LastStep::forward";
        if x.ndim() < 2 {
            return Err(Error::ShapeMismatch { op, expected: vec![0, 0], got: x.shape().to_vec() });
        }
        let t = x.len_of(self.time_axis());
        if t == 0 {
            return Err(Error::EmptyInput { op, what: "a sequence of length 0" });
        }
        copy_into(&x.index_axis(self.time_axis(), t - 1), &mut self.out);
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
        self.check_backward("LastStep::backward_input", &g)?;
        let axis = self.time_axis();
        let t = self.in_shape[axis.index()];
        let mut gi = self.grad_in.reshape(&self.in_shape);
        gi.fill(F::zero());
        gi.index_axis_mut(axis, t - 1).assign(&g);
        Ok(self.grad_in.view())
    }
}
parameter_free_layer!(LastStep, "LastStep::backward");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model};
    use ndarray::{Array2, Array3, ArrayD, IxDyn, array};

    #[test]
    fn time_major_and_higher_rank() {
        let mut last = LastStep::<f64>::new(false);
        assert!(!last.batch_first());
        // [T = 3, B = 2, 2, 1]
        let x = ArrayD::from_shape_fn(IxDyn(&[3, 2, 2, 1]), |i| (i[0] * 100 + i[1] * 10 + i[2]) as f64);
        let y = last.forward(x.view(), Mode::EvalGrad).unwrap().to_owned();
        assert_eq!(y, ArrayD::from_shape_vec(IxDyn(&[2, 2, 1]), vec![200.0, 201.0, 210.0, 211.0]).unwrap());
        let g = ArrayD::from_elem(IxDyn(&[2, 2, 1]), 1.0);
        let dx = last.backward_input(g.view()).unwrap().to_owned();
        assert_eq!(dx.shape(), &[3, 2, 2, 1]);
        assert_eq!(dx.sum(), 4.0);
        assert!(dx.index_axis(Axis(0), 2).iter().all(|&v| v == 1.0));
        // A transposed (non-contiguous) batch-first input.
        let mut bf = LastStep::<f32>::new(true);
        let xt = Array3::from_shape_fn((2, 3, 2), |(j, t, b)| (b * 10 + t) as f32 + j as f32 * 0.5);
        let xv = xt.view().permuted_axes([2, 1, 0]); // [B = 2, T = 3, 2]
        let y = bf.forward(xv.into_dyn(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[2.0f32, 2.5], [12.0, 12.5]].into_dyn());
        bf.backward(Array2::<f32>::ones((2, 2)).into_dyn().view()).unwrap();
    }

    #[test]
    fn errors() {
        let mut last = LastStep::<f64>::new(true);
        let g = Array2::<f64>::ones((2, 2)).into_dyn();
        assert!(matches!(last.backward_input(g.view()), Err(Error::InvalidInput { .. })));
        let err = last.forward(ndarray::Array1::<f64>::zeros(3).into_dyn().view(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op: "LastStep::forward", expected: vec![0, 0], got: vec![3] });
        let err = last.forward(Array3::<f64>::zeros((2, 0, 2)).into_dyn().view(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::EmptyInput { op: "LastStep::forward", .. }));
        last.forward(Array3::<f64>::zeros((2, 4, 2)).into_dyn().view(), Mode::Train).unwrap();
        let err = last.backward(Array2::<f64>::ones((2, 3)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "LastStep::backward", expected: vec![2, 2], got: vec![2, 3] }
        );
        last.forward(Array3::<f64>::zeros((2, 4, 2)).into_dyn().view(), Mode::Eval).unwrap();
        assert!(matches!(last.backward(g.view()), Err(Error::InvalidInput { .. })));
    }
}
