//! The long short-term memory layer [`Lstm`] (PyTorch `nn.LSTM`).

use ndarray::{ArrayView3, Ix3};

use super::{LstmKind, Recurrent, RecurrentBuilder};
use crate::error::Result;
use crate::tensor::Float;

/// A multi-layer long short-term memory layer (PyTorch `nn.LSTM`): for every time step,
/// with `σ` the logistic sigmoid and `⊙` the element-wise product,
///
/// ```text
/// i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)      input gate
/// f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)      forget gate
/// g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)   cell candidate
/// o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)      output gate
/// c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
/// h_t = o_t ⊙ tanh(c_t)
/// ```
///
/// with `h_0 = c_0 = 0` unless set with [`set_initial_state`](Recurrent::set_initial_state).
/// The four gates are stacked in this order (i, f, g, o) along the rows of
/// `weight_ih_l{k}` `[4H, in]`, `weight_hh_l{k}` `[4H, H]` and the biases `[4H]`, as in
/// PyTorch. The output is the sequence `h_1 … h_T` of the last layer (both directions
/// concatenated when bidirectional).
///
/// Backward through time, from `dL/dh_t = dL/dy_t + W_hhᵀ a_{t+1}`:
/// `dL/dc_t = dL/dh_t ⊙ o_t ⊙ (1 − tanh² c_t) + dL/dc_{t+1} ⊙ f_{t+1}`, and the
/// pre-activation gradients `a_t = [dc ⊙ g ⊙ i(1 − i), dc ⊙ c_{t−1} ⊙ f(1 − f),
/// dc ⊙ i ⊙ (1 − g²), dL/dh_t ⊙ tanh c_t ⊙ o(1 − o)]`; then `dL/dW_ih = Σ_t a_t x_tᵀ`,
/// `dL/dW_hh = Σ_t a_t h_{t−1}ᵀ`, `dL/db_ih = dL/db_hh = Σ_t a_t`, `dL/dx_t = W_ihᵀ a_t`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `input_size`, `hidden_size` | required | `>= 1` |
/// | `num_layers` | 1 | `>= 1` |
/// | `bias` | `true` | |
/// | `batch_first` | `false`: `[T, B, in]` (PyTorch's default) | |
/// | `dropout` | 0.0 | `[0, 1)` (PyTorch allows 1) |
/// | `bidirectional` | `false` | |
/// | `proj_size` | 0 | 0 only (projections are not implemented) |
/// | `seed` (dropout masks) | 0 | any `u64` |
///
/// Parameters start as `U(−1/√H, 1/√H)`; shapes, names and the implementation are in
/// the [`Recurrent`] docs. Deviations from PyTorch: no `proj_size > 0`, no unbatched
/// 2-D input, no `PackedSequence`; [`h_n`](Recurrent::h_n) and [`c_n`](Recurrent::c_n)
/// are read-only.
///
/// # Errors
/// As [`Rnn`](super::Rnn), and [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// (`"proj_size"`) for a non-zero `proj_size`.
///
/// Reference: S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory", Neural
/// Computation 9(8), 1997, with the forget gate of F. A. Gers, J. Schmidhuber and
/// F. Cummins, "Learning to Forget", Neural Computation 12(10), 2000;
/// <https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html>.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::Lstm;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut lstm = Lstm::<f32>::builder(3, 16).bidirectional(true).build(&mut rng)?;
/// assert_eq!(lstm.weight_ih(0, true).unwrap().shape(), &[64, 3]); // [4H, in]
/// let x = Array3::<f32>::ones((10, 2, 3)).into_dyn(); // [T, B, in]
/// let y = lstm.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[10, 2, 32]); // [T, B, 2H]
/// assert_eq!(lstm.c_n().shape(), &[2, 2, 16]);
/// lstm.backward(Array3::<f32>::ones((10, 2, 32)).into_dyn().view())?;
/// assert!(lstm.bias_hh_grad(0, false).unwrap().iter().any(|&g| g != 0.0));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "LSTM")]
#[doc(alias = "nn.LSTM")]
pub type Lstm<F> = Recurrent<F, LstmKind>;

/// Builder of [`Lstm`]: `Lstm::builder(in, hidden).num_layers(2).build(&mut rng)?`.
pub type LstmBuilder<F> = RecurrentBuilder<F, LstmKind>;

impl<F: Float> RecurrentBuilder<F, LstmKind> {
    /// PyTorch's projection size (default 0). Only 0 is supported: `build` rejects any
    /// other value with [`Error::InvalidParameter`](crate::Error::InvalidParameter).
    pub fn proj_size(mut self, proj_size: usize) -> Self {
        self.proj_size = proj_size;
        self
    }
}

impl<F: Float> Recurrent<F, LstmKind> {
    /// The final cell state of the last forward, PyTorch's `c_n`, `[num_layers·D, B, H]`.
    pub fn c_n(&self) -> ArrayView3<'_, F> {
        self.st.c_n.view().into_dimensionality::<Ix3>().expect("c_n is 3-D")
    }

    /// `dL/dc_0`, `[num_layers·D, B, H]`, of the last backward when its forward ran from
    /// initial states set with `set_initial_state` (else `None`).
    pub fn c0_grad(&self) -> Option<ArrayView3<'_, F>> {
        self.st.state_grad.then(|| self.st.c0_grad.view().into_dimensionality::<Ix3>().expect("3-D"))
    }

    /// Sets the initial states `(h_0, c_0)`, both `[num_layers·D, B, H]`, used by every
    /// later forward (whose batch must then be `B`); `None` restores zeros. After a
    /// backward, [`h0_grad`](Recurrent::h0_grad) and [`c0_grad`](Recurrent::c0_grad) hold
    /// their gradients.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) unless both are
    /// `[num_layers·D, B, H]` with the same `B`, [`Error::EmptyInput`](crate::Error::EmptyInput)
    /// for `B = 0`; the layer is then unchanged.
    pub fn set_initial_state(&mut self, state: Option<(ArrayView3<'_, F>, ArrayView3<'_, F>)>) -> Result<()> {
        match state {
            Some((h0, c0)) => self.set_state(Some(h0), Some(c0)),
            None => self.set_state(None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::model::recurrent::tests::{assert_close, pattern, patterned};
    use crate::model::{Mode, Model, Module};
    use crate::tensor::seeded_rng;
    use ndarray::Array3;

    /// Time-major, 2 layers, bidirectional, with (h_0, c_0): against PyTorch (the script
    /// of the RNN test with `torch.nn.LSTM(2, 2, num_layers=2, bidirectional=True)`,
    /// `c0 = [((4i) % 9 - 4) / 6 for i in range(16)]`, `m(x, (h0, c0))`).
    #[test]
    fn time_major_bidirectional_with_state_matches_pytorch() {
        let b = Lstm::<f64>::builder(2, 2).num_layers(2).bidirectional(true);
        let mut lstm = patterned(b.build(&mut seeded_rng(0)).unwrap());
        let x = pattern(&[3, 2, 2], 5, 9, 4.0);
        let h0 = pattern(&[4, 2, 2], 3, 7, 5.0).into_dimensionality::<Ix3>().unwrap();
        let c0 = pattern(&[4, 2, 2], 4, 9, 6.0).into_dimensionality::<Ix3>().unwrap();
        lstm.set_initial_state(Some((h0.view(), c0.view()))).unwrap();
        let y = lstm.forward(x.view(), Mode::Train).unwrap().to_owned();
        #[rustfmt::skip]
        let expected = [0.098261791213779, -0.124761710242608, -0.095387838809521, -0.205379848760628,
            -0.024314105457551, 0.127495143874542, -0.053021304288388, -0.078975512716953,
            -0.033472879509738, -0.129962911294953, -0.083815919345525, -0.098250319455016,
            -0.099263142893393, 0.018397524683208, -0.066705341025954, -0.049315995233435,
            -0.123870598678004, -0.094041460402055, -0.089754995952915, 0.006265547503787,
            -0.181874747153142, -0.015037795669954, -0.081149425702648, -0.000918898476484];
        assert_close(y.as_slice().unwrap(), &expected, 1e-12);
        #[rustfmt::skip]
        let hn = [-0.045340000366196, 0.063779202053738, 0.261820711009606, 0.018141090644763,
            0.084177087965606, 0.118190398028229, 0.061525031161115, 0.12284073709986,
            -0.123870598678004, -0.094041460402055, -0.181874747153142, -0.015037795669954,
            -0.095387838809521, -0.205379848760628, -0.053021304288388, -0.078975512716953];
        assert_close(lstm.h_n().as_slice().unwrap(), &hn, 1e-12);
        #[rustfmt::skip]
        let cn = [-0.062093322811587, 0.149267893832046, 0.412232140412084, 0.048104723187696,
            0.143084259866613, 0.208282003884046, 0.102112072368267, 0.203832118298013,
            -0.276823941660105, -0.182829979992791, -0.379130006167548, -0.028624884323309,
            -0.205796129976309, -0.438478035479009, -0.130719265189661, -0.175395385915165];
        assert_close(lstm.c_n().as_slice().unwrap(), &cn, 1e-12);
        let g = pattern(&[3, 2, 4], 2, 5, 3.0);
        lstm.backward(g.view()).unwrap();
        #[rustfmt::skip]
        let h0_grad = [0.016554632295085, -0.003091457444021, -0.014025954769511, 0.003016179076411,
            -0.031861352368792, 0.003736111489497, 0.010809027988653, -0.003665034139272,
            0.083242453887609, -0.107530072620112, 0.000916439439863, -0.0044385396016,
            0.009982279012353, 0.017589935301272, -0.041298875640862, -0.003675341633449];
        assert_close(lstm.h0_grad().unwrap().as_slice().unwrap(), &h0_grad, 1e-12);
        #[rustfmt::skip]
        let c0_grad = [0.005648507787046, -0.032369619174074, 0.014621003759983, 0.020929018819928,
            -0.008687528963093, -0.03425062417946, 0.027152070299453, 0.008738348119768,
            -0.313159860113522, 0.064067694298842, 0.189906819892327, -0.160014235345508,
            -0.062577553943187, 0.049557979861782, 0.093124435172771, -0.128850149537693];
        assert_close(lstm.c0_grad().unwrap().as_slice().unwrap(), &c0_grad, 1e-12);
        lstm.set_initial_state(None).unwrap();
        lstm.forward(x.view(), Mode::Train).unwrap();
        lstm.backward(g.view()).unwrap();
        assert!(lstm.c0_grad().is_none() && lstm.h0_grad().is_none());
    }

    #[test]
    fn proj_size_and_mismatched_cell_state_are_refused() {
        let err = Lstm::<f64>::builder(2, 4).proj_size(2).build(&mut seeded_rng(0)).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "proj_size", .. }), "{err}");
        assert!(Lstm::<f64>::builder(2, 4).proj_size(0).build(&mut seeded_rng(0)).is_ok());
        let mut lstm = Lstm::<f64>::new(2, 4, &mut seeded_rng(0)).unwrap();
        let (h0, c0) = (Array3::<f64>::zeros((1, 3, 4)), Array3::<f64>::zeros((1, 2, 4)));
        match lstm.set_initial_state(Some((h0.view(), c0.view()))) {
            Err(Error::ShapeMismatch { op: "Lstm::set_initial_state", expected, got }) => {
                assert_eq!((expected, got), (vec![1, 3, 4], vec![1, 2, 4]))
            }
            other => panic!("{other:?}"),
        }
        assert!(lstm.h0_grad().is_none() && lstm.c0_grad().is_none());
        assert_eq!(lstm.num_parameters(), 16 * 2 + 16 * 4 + 16 + 16);
    }
}
