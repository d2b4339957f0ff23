//! The gated recurrent unit layer [`Gru`] (PyTorch `nn.GRU`).

use ndarray::ArrayView3;

use super::{GruKind, Recurrent, RecurrentBuilder};
use crate::error::Result;
use crate::tensor::Float;

/// A multi-layer gated recurrent unit layer (PyTorch `nn.GRU`): for every time step,
/// with `σ` the logistic sigmoid and `⊙` the element-wise product,
///
/// ```text
/// r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)            reset gate
/// z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)            update gate
/// n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))  candidate
/// h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
/// ```
///
/// with `h_0 = 0` unless set with [`set_initial_state`](Recurrent::set_initial_state).
/// The gates are stacked in this order (r, z, n) along the rows of `weight_ih_l{k}`
/// `[3H, in]`, `weight_hh_l{k}` `[3H, H]` and the biases `[3H]`, as in PyTorch (note
/// `b_hn` inside the reset product). The output is the sequence `h_1 … h_T` of the last
/// layer (both directions concatenated when bidirectional).
///
/// Backward through time, from `dL/dh_t = dL/dy_t + (carry from t + 1)`:
/// `a_n = dL/dh_t ⊙ (1 − z) ⊙ (1 − n²)`, `a_r = a_n ⊙ (W_hn h_{t−1} + b_hn) ⊙ r(1 − r)`,
/// `a_z = dL/dh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)`; the input side takes `a = [a_r, a_z, a_n]`,
/// the recurrent side `â = [a_r, a_z, a_n ⊙ r]`: `dL/dW_ih = Σ_t a_t x_tᵀ`,
/// `dL/db_ih = Σ_t a_t`, `dL/dW_hh = Σ_t â_t h_{t−1}ᵀ`, `dL/db_hh = Σ_t â_t`,
/// `dL/dx_t = W_ihᵀ a_t`, and the carry `dL/dh_{t−1} = W_hhᵀ â_t + z_t ⊙ dL/dh_t`.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `input_size`, `hidden_size` | required | `>= 1` |
/// | `num_layers` | 1 | `>= 1` |
/// | `bias` | `true` | |
/// | `batch_first` | `false`: `[T, B, in]` (PyTorch's default) | |
/// | `dropout` | 0.0 | `[0, 1)` (PyTorch allows 1) |
/// | `bidirectional` | `false` | |
/// | `seed` (dropout masks) | 0 | any `u64` |
///
/// Parameters start as `U(−1/√H, 1/√H)`; shapes, names and the implementation are in
/// the [`Recurrent`] docs. Deviations from PyTorch: no unbatched 2-D input, no
/// `PackedSequence`; [`h_n`](Recurrent::h_n) is read-only.
///
/// # Errors
/// As [`Rnn`](super::Rnn).
///
/// Reference: K. Cho et al., "Learning Phrase Representations using RNN
/// Encoder–Decoder for Statistical Machine Translation", EMNLP 2014;
/// <https://pytorch.org/docs/stable/generated/torch.nn.GRU.html>.
///
/// # Example
///
/// ```
/// use ndarray::Array3;
/// use ndtrain::prelude::*;
/// use ndtrain::model::{Gru, LastStep};
///
/// let mut rng = ndtrain::seeded_rng(0);
/// // A sequence classifier: GRU → last step → linear, batch along axis 0.
/// let mut net = Sequential::<f64>::new()
///     .layer(Gru::builder(3, 8).batch_first(true).dropout(0.1).num_layers(2).build(&mut rng)?)
///     .layer(LastStep::new(true))
///     .layer(Linear::new(8, 2, &mut rng)?);
/// let x = Array3::<f64>::ones((4, 6, 3)).into_dyn(); // [B, T, in]
/// let y = net.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[4, 2]);
/// assert_eq!(net.parameters()[0].0, "0.weight_ih_l0");
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "GRU")]
#[doc(alias = "nn.GRU")]
pub type Gru<F> = Recurrent<F, GruKind>;

/// Builder of [`Gru`]: `Gru::builder(in, hidden).bidirectional(true).build(&mut rng)?`.
pub type GruBuilder<F> = RecurrentBuilder<F, GruKind>;

impl<F: Float> Recurrent<F, GruKind> {
    /// Sets the initial hidden state `h_0`, `[num_layers·D, B, H]`, used by every later
    /// forward (whose batch must then be `B`); `None` restores zeros. After a backward,
    /// [`h0_grad`](Recurrent::h0_grad) holds `dL/dh_0`.
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
    use crate::model::recurrent::tests::{assert_close, pattern, patterned};
    use crate::model::{Layer, Mode, Model};
    use crate::tensor::seeded_rng;
    use ndarray::Ix3;

    /// Time-major, bidirectional, with h_0: against PyTorch (the script of the RNN test
    /// with `torch.nn.GRU(2, 2, bidirectional=True)` and `h0` of shape [2, 2, 2]).
    #[test]
    fn time_major_bidirectional_with_h0_matches_pytorch() {
        let mut gru =
            patterned(Gru::<f64>::builder(2, 2).bidirectional(true).build(&mut seeded_rng(0)).unwrap());
        let x = pattern(&[3, 2, 2], 5, 9, 4.0);
        let h0 = pattern(&[2, 2, 2], 3, 7, 5.0).into_dimensionality::<Ix3>().unwrap();
        gru.set_initial_state(Some(h0.view())).unwrap();
        let y = gru.forward(x.view(), Mode::EvalGrad).unwrap().to_owned();
        #[rustfmt::skip]
        let expected = [-0.503147601958007, 0.172910306764404, -0.206174375512947, -0.794985840300006,
            0.237715574817874, 0.043058423891835, -0.223466509522192, -0.794767396596026,
            -0.360212935136572, 0.339007312502981, -0.101989570361489, -0.714621988941175,
            0.079989209413853, 0.252537673171627, -0.141931385841707, -0.737141702011023,
            -0.739418272130129, 0.023853351806899, 0.357250694317279, -0.512271525144744,
            -0.590768141888393, 0.116625076287915, 0.24450864776542, -0.610478791802194];
        assert_close(y.as_slice().unwrap(), &expected, 1e-12);
        #[rustfmt::skip]
        let hn = [-0.739418272130129, 0.023853351806899, -0.590768141888393, 0.116625076287915,
            -0.206174375512947, -0.794985840300006, -0.223466509522192, -0.794767396596026];
        assert_close(gru.h_n().as_slice().unwrap(), &hn, 1e-12);
        let g = pattern(&[3, 2, 4], 2, 5, 3.0);
        gru.backward_input(g.view()).unwrap();
        #[rustfmt::skip]
        let h0_grad = [-0.362039721451666, 0.306788465598665, 0.396166619481378, -0.83434419290204,
            -0.211498898140309, 0.136434445508651, 0.420557445370195, -0.255411838533879];
        assert_close(gru.h0_grad().unwrap().as_slice().unwrap(), &h0_grad, 1e-12);
    }
}
