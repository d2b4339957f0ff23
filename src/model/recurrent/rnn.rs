//! The Elman recurrent layer [`Rnn`] (PyTorch `nn.RNN`).

use ndarray::ArrayView3;

use super::{Recurrent, RecurrentBuilder, RnnKind};
use crate::error::Result;
use crate::tensor::Float;

/// The non-linearity of an [`Rnn`] (PyTorch's `nonlinearity='tanh' | 'relu'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RnnNonlinearity {
    /// `tanh` (default).
    #[default]
    #[doc(alias = "tanh")]
    Tanh,
    /// `max(0, ·)`.
    #[doc(alias = "relu")]
    Relu,
}

/// A multi-layer Elman recurrent layer (PyTorch `nn.RNN`): for every time step `t`,
///
/// `h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`, `act` = tanh (default) or ReLU,
///
/// with `h_0 = 0` unless set with [`set_initial_state`](Recurrent::set_initial_state).
/// The output is the sequence `h_1 … h_T` (of the last layer; both directions
/// concatenated when bidirectional, the reverse one running from `t = T` down to 1).
/// Layer `k > 0` reads layer `k − 1`'s output, through dropout in training when
/// `dropout > 0`. Weights: `weight_ih_l{k}` `[H, in]`, `weight_hh_l{k}` `[H, H]`.
///
/// Backward through time, from `G_t = dL/dy_t`: `dL/dh_t = G_t + W_hhᵀ a_{t+1}`,
/// `a_t = dL/dh_t ⊙ act'(·)` (`1 − h_t²` for tanh, `[h_t > 0]` for ReLU), then
/// `dL/dW_ih = Σ_t a_t x_tᵀ`, `dL/dW_hh = Σ_t a_t h_{t−1}ᵀ`, `dL/db_ih = dL/db_hh = Σ_t a_t`
/// and `dL/dx_t = W_ihᵀ a_t` (summed over the batch).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `input_size`, `hidden_size` | required | `>= 1` |
/// | `num_layers` | 1 | `>= 1` |
/// | `nonlinearity` | [`RnnNonlinearity::Tanh`] | `Tanh`, `Relu` |
/// | `bias` | `true` | |
/// | `batch_first` | `false`: `[T, B, in]` (PyTorch's default) | |
/// | `dropout` | 0.0 | `[0, 1)` (PyTorch allows 1) |
/// | `bidirectional` | `false` | |
/// | `seed` (dropout masks) | 0 | any `u64` |
///
/// Parameters start as `U(−1/√H, 1/√H)`; shapes, parameter names and the
/// implementation are described in the [`Recurrent`] docs. Deviations from PyTorch:
/// no unbatched 2-D input (give a batch of one), no `PackedSequence`, and the final
/// state [`h_n`](Recurrent::h_n) is read-only (the loss reaches it through the output).
///
/// # Errors
/// * building: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a size
///   of 0 or a `dropout` outside `[0, 1)`;
/// * `forward`: [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) (expected
///   `[0, 0, input_size]`) unless the input is 3-D with `input_size` features,
///   [`Error::EmptyInput`](crate::Error::EmptyInput) for a sequence of length 0 or an
///   empty batch, [`Error::InvalidInput`](crate::Error::InvalidInput) when an initial
///   state of another batch size is set;
/// * `backward`: [`Error::InvalidInput`](crate::Error::InvalidInput) without a preceding
///   [`Mode::Train`](crate::model::Mode::Train) or `EvalGrad` forward,
///   [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a `grad_out` that is not
///   the output's shape.
///
/// Reference: J. L. Elman, "Finding Structure in Time", Cognitive Science 14 (1990);
/// <https://pytorch.org/docs/stable/generated/torch.nn.RNN.html>.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::{Rnn, RnnNonlinearity};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut rnn = Rnn::<f64>::builder(3, 8)
///     .num_layers(2)
///     .nonlinearity(RnnNonlinearity::Relu)
///     .batch_first(true)
///     .build(&mut rng)?;
/// let x = Array3::<f64>::ones((4, 5, 3)).into_dyn(); // [B, T, in]
/// let y = rnn.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[4, 5, 8]);
/// assert_eq!(rnn.h_n().shape(), &[2, 4, 8]); // [num_layers, B, H]
/// let dx = rnn.backward_input(Array3::<f64>::ones((4, 5, 8)).into_dyn().view())?;
/// assert_eq!(dx.shape(), &[4, 5, 3]);
/// assert_eq!(rnn.parameters()[1].0, "weight_hh_l0");
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "RNN")]
#[doc(alias = "nn.RNN")]
#[doc(alias = "Elman")]
pub type Rnn<F> = Recurrent<F, RnnKind>;

/// Builder of [`Rnn`]: `Rnn::builder(in, hidden).nonlinearity(RnnNonlinearity::Relu).build(&mut rng)?`.
pub type RnnBuilder<F> = RecurrentBuilder<F, RnnKind>;

impl<F: Float> RecurrentBuilder<F, RnnKind> {
    /// The non-linearity (default [`RnnNonlinearity::Tanh`]).
    pub fn nonlinearity(mut self, nonlinearity: RnnNonlinearity) -> Self {
        self.nonlinearity = nonlinearity;
        self
    }
}

impl<F: Float> Recurrent<F, RnnKind> {
    /// The non-linearity.
    pub fn nonlinearity(&self) -> RnnNonlinearity {
        match self.cfg.cell {
            super::Cell::Relu => RnnNonlinearity::Relu,
            _ => RnnNonlinearity::Tanh,
        }
    }

    /// Sets the initial hidden state `h_0`, `[num_layers·D, B, H]`, used by every later
    /// forward (whose batch must then be `B`); `None` restores zeros. After a backward,
    /// [`h0_grad`](Recurrent::h0_grad) holds `dL/dh_0`. Feeding [`h_n`](Recurrent::h_n)
    /// back gives truncated backpropagation through time.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) unless `h0` is
    /// `[num_layers·D, B, H]`, [`Error::EmptyInput`](crate::Error::EmptyInput) for `B = 0`;
    /// the layer is then unchanged.
    pub fn set_initial_state(&mut self, h0: Option<ArrayView3<'_, F>>) -> Result<()> {
        self.set_state(h0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::model::recurrent::tests::{assert_close, patterned};
    use crate::model::{Layer, Mode, Model, Module};
    use crate::tensor::seeded_rng;
    use ndarray::{Array3, ArrayD, IxDyn, array};

    /// One input, one hidden unit, two steps, by hand:
    ///
    /// ```python
    /// import math
    /// w_ih, w_hh, b_ih, b_hh = 0.5, -0.3, 0.1, 0.2; x = [1.0, -2.0]; g = [1.0, 0.5]
    /// h1 = math.tanh(w_ih*x[0] + b_ih + b_hh)            # tanh(0.8) = 0.664036770267849
    /// h2 = math.tanh(w_ih*x[1] + b_ih + w_hh*h1 + b_hh)  # tanh(-0.899211...) = -0.715981...
    /// a2 = g[1]*(1 - h2**2)                # dL/d(pre-activation 2)
    /// a1 = (g[0] + w_hh*a2)*(1 - h1**2)
    /// dW_ih = a1*x[0] + a2*x[1]; dW_hh = a2*h1; db = a1 + a2; dx = [w_ih*a1, w_ih*a2]
    /// ```
    #[test]
    fn hand_computed_two_steps() {
        let mut rnn = Rnn::<f64>::builder(1, 1)
            .build_from_parameters(&[
                array![[0.5]].into_dyn(),
                array![[-0.3]].into_dyn(),
                array![0.1].into_dyn(),
                array![0.2].into_dyn(),
            ])
            .unwrap();
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 1, 1]), vec![1.0, -2.0]).unwrap(); // [T, B, in]
        let y = rnn.forward(x.view(), Mode::Train).unwrap().to_owned();
        let h1 = 0.8f64.tanh();
        let h2 = (-0.7 - 0.3 * h1).tanh();
        assert_close(y.as_slice().unwrap(), &[h1, h2], 1e-15);
        assert_close(rnn.h_n().as_slice().unwrap(), &[h2], 1e-15);
        let g = ArrayD::from_shape_vec(IxDyn(&[2, 1, 1]), vec![1.0, 0.5]).unwrap();
        let dx = rnn.backward_input(g.view()).unwrap().to_owned();
        let a2 = 0.5 * (1.0 - h2 * h2);
        let a1 = (1.0 - 0.3 * a2) * (1.0 - h1 * h1);
        assert_close(dx.as_slice().unwrap(), &[0.5 * a1, 0.5 * a2], 1e-15);
        assert_close(rnn.weight_ih_grad(0, false).unwrap().as_slice().unwrap(), &[a1 - 2.0 * a2], 1e-15);
        assert_close(rnn.weight_hh_grad(0, false).unwrap().as_slice().unwrap(), &[a2 * h1], 1e-15);
        assert_close(rnn.bias_ih_grad(0, false).unwrap().as_slice().unwrap(), &[a1 + a2], 1e-15);
        assert_close(rnn.bias_hh_grad(0, false).unwrap().as_slice().unwrap(), &[a1 + a2], 1e-15);
        // Model::backward gives the same parameter gradients.
        let before = rnn.gradients();
        rnn.backward(g.view()).unwrap();
        assert_eq!(rnn.gradients(), before);
    }

    /// Time-major, ReLU, no bias, 2 layers, bidirectional, with h_0: against PyTorch.
    ///
    /// ```python
    /// torch.set_default_dtype(torch.float64)
    /// m = torch.nn.RNN(2, 2, num_layers=2, nonlinearity='relu', bias=False, bidirectional=True)
    /// # parameter k (flat over named_parameters) = ((7k) % 13 - 6) / 10; see `patterned`
    /// x = [((5i) % 9 - 4) / 4 for i in range(12)] as [3, 2, 2]
    /// h0 = [((3i) % 7 - 3) / 5 for i in range(16)] as [4, 2, 2]
    /// y, hn = m(x, h0); g = [((2i) % 5 - 2) / 3 ...] shaped as y; (y*g).sum().backward()
    /// ```
    #[test]
    fn relu_time_major_bidirectional_with_h0_matches_pytorch() {
        let b = Rnn::<f64>::builder(2, 2)
            .num_layers(2)
            .nonlinearity(RnnNonlinearity::Relu)
            .bias(false)
            .bidirectional(true);
        let mut rnn = patterned(b.build(&mut seeded_rng(0)).unwrap());
        assert_eq!(rnn.nonlinearity(), RnnNonlinearity::Relu);
        let x = crate::model::recurrent::tests::pattern(&[3, 2, 2], 5, 9, 4.0);
        let h0 = crate::model::recurrent::tests::pattern(&[4, 2, 2], 3, 7, 5.0);
        rnn.set_initial_state(Some(h0.view().into_dimensionality().unwrap())).unwrap();
        let y = rnn.forward(x.view(), Mode::Train).unwrap().to_owned();
        #[rustfmt::skip]
        let expected = [0.0, 0.26775, 0.0, 0.0, 0.0, 0.19775, 0.13178, 0.0, 0.0, 0.226975, 0.0, 0.2536,
            0.0, 0.255875, 0.0, 0.27255, 0.0, 0.0226975, 0.16, 0.0, 0.0, 0.0255875, 0.06, 0.0];
        assert_close(y.as_slice().unwrap(), &expected, 1e-12);
        #[rustfmt::skip]
        let hn = [0.0, 0.0, 0.0, 0.0, 0.025, 0.0475, 0.025, 0.1175, 0.0, 0.0226975, 0.0, 0.0255875,
            0.0, 0.0, 0.13178, 0.0];
        assert_close(rnn.h_n().as_slice().unwrap(), &hn, 1e-12);
        let g = crate::model::recurrent::tests::pattern(&[3, 2, 4], 2, 5, 3.0);
        rnn.backward(g.view()).unwrap();
        #[rustfmt::skip]
        let h0_grad = [0.0072, -0.004, 0.074666666666667, -0.042, 0.0, 0.0, 0.0, 0.0, -0.024, 0.004,
            0.42, -0.07, 0.033333333333333, -0.2, -0.066666666666667, 0.4];
        assert_close(rnn.h0_grad().unwrap().as_slice().unwrap(), &h0_grad, 1e-12);
        // Without bias: four weight tensors only.
        let names: Vec<String> = rnn.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse"]
                .into_iter()
                .chain(["weight_ih_l1", "weight_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse"])
                .collect::<Vec<_>>()
        );
        assert!(rnn.bias_ih(0, false).is_none() && rnn.bias_hh_grad(1, true).is_none());
        assert_eq!(rnn.weight_ih(1, true).unwrap().shape(), &[2, 4]);
        assert!(rnn.weight_ih(2, false).is_none());
        // A batch other than the initial state's is refused; clearing it restores zeros.
        let x3 = Array3::<f64>::zeros((3, 5, 2)).into_dyn();
        assert!(matches!(rnn.forward(x3.view(), Mode::Eval), Err(Error::InvalidInput { .. })));
        rnn.set_initial_state(None).unwrap();
        assert!(rnn.forward(x3.view(), Mode::Eval).unwrap().iter().all(|&v| v == 0.0));
        // The state gradient belongs to the last backward: it goes once a backward runs
        // from zero states.
        assert!(rnn.h0_grad().is_some());
        rnn.forward(x3.view(), Mode::Train).unwrap();
        rnn.backward(ArrayD::zeros(IxDyn(&[3, 5, 4])).view()).unwrap();
        assert!(rnn.h0_grad().is_none());
    }

    /// Backward uses the initial state of its forward, whatever is set in between.
    #[test]
    fn state_set_between_forward_and_backward_does_not_affect_backward() {
        let mut rnn = Rnn::<f64>::builder(2, 3).bidirectional(true).build(&mut seeded_rng(4)).unwrap();
        let x = crate::model::recurrent::tests::pattern(&[4, 2, 2], 5, 9, 4.0);
        let g = crate::model::recurrent::tests::pattern(&[4, 2, 6], 2, 5, 3.0);
        let h0 = crate::model::recurrent::tests::pattern(&[2, 2, 3], 3, 7, 5.0);
        rnn.set_initial_state(Some(h0.view().into_dimensionality().unwrap())).unwrap();
        rnn.forward(x.view(), Mode::Train).unwrap();
        rnn.backward(g.view()).unwrap();
        let (grads, h0_grad) = (rnn.gradients(), rnn.h0_grad().unwrap().to_owned());
        for other in [Some(Array3::<f64>::ones((2, 7, 3))), None] {
            rnn.set_initial_state(Some(h0.view().into_dimensionality().unwrap())).unwrap();
            rnn.forward(x.view(), Mode::Train).unwrap();
            rnn.set_initial_state(other.as_ref().map(|s| s.view())).unwrap();
            rnn.backward(g.view()).unwrap();
            assert_eq!(rnn.gradients(), grads);
            assert_eq!(rnn.h0_grad().unwrap(), h0_grad);
        }
    }

    #[test]
    fn initial_state_shape_errors() {
        let mut rnn = Rnn::<f64>::builder(2, 3).num_layers(2).build(&mut seeded_rng(0)).unwrap();
        let bad = Array3::<f64>::zeros((1, 4, 3));
        match rnn.set_initial_state(Some(bad.view())) {
            Err(Error::ShapeMismatch { op, expected, got }) => {
                assert_eq!((op, expected, got), ("Rnn::set_initial_state", vec![2, 0, 3], vec![1, 4, 3]))
            }
            other => panic!("{other:?}"),
        }
        let empty = Array3::<f64>::zeros((2, 0, 3));
        assert!(matches!(rnn.set_initial_state(Some(empty.view())), Err(Error::EmptyInput { .. })));
        assert!(rnn.h0_grad().is_none());
    }
}
