//! Steady-state training of the recurrent layers allocates nothing in ndtrain's code:
//! after a first batch, a forward + backward (also with a smaller last batch, shorter
//! sequences, dropout between layers, initial states, and inside a `Sequential` with
//! `LastStep`) makes no ordinary allocation. The only allocations left are
//! matrixmultiply's packing buffers (aligned to 32 bytes or more, at most one per
//! matrix product), counted apart by the shared counting allocator.

use ndarray::{Array3, ArrayD};
use ndtrain::model::{Gru, LastStep, Lstm, Rnn, RnnNonlinearity};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

fn data(b: usize, t: usize, w: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((b, t, w), |(i, j, k)| ((i * 31 + j * 7 + k * 3) % 13) as f32 / 6.0 - 1.0)
        .into_dyn()
}

/// Forward in training mode, then backward (with the input gradient when `input_grad`)
/// of `L = Σ y²/2`, with the gradient written into the caller's buffer.
fn step<L: Layer<f32>>(
    m: &mut L,
    x: &ArrayD<f32>,
    g: &mut ArrayD<f32>,
    input_grad: bool,
) -> ndtrain::Result<()> {
    let y = m.forward(x.view(), Mode::Train)?;
    g.assign(&y);
    if input_grad { m.backward_input(g.view()).map(|_| ()) } else { m.backward(g.view()) }
}

/// Matrix products of one forward + backward: per layer and direction, forward
/// `1 + (T − 1)`, backward `T − 1` (hidden-state carry) `+ 1` (dW_hh, when `T > 1`)
/// `+ 1` (dW_ih) `+ 1` (dX, not for layer 0 without the input gradient).
fn products(layers: usize, dirs: usize, t: usize, input_grad: bool) -> usize {
    let per_dir = t + (t - 1) + usize::from(t > 1) + 1;
    layers * dirs * per_dir + (layers - 1 + usize::from(input_grad)) * dirs
}

fn check<L: Layer<f32>>(
    what: &str,
    m: &mut L,
    layers: usize,
    dirs: usize,
    batch_first: bool,
    width: usize,
    out: usize,
) {
    let shaped = |b: usize, t: usize, w: usize| {
        let x = data(b, t, w);
        if batch_first { x } else { x.permuted_axes(vec![1, 0, 2]).as_standard_layout().into_owned() }
    };
    let batches = [(16, 12), (5, 12), (16, 7)];
    let mut cases: Vec<_> =
        batches.iter().map(|&(b, t)| (t, shaped(b, t, width), shaped(b, t, out))).collect();
    // Warm-up at the largest batch and sequence: buffers grow here.
    let (_, x, g) = &mut cases[0];
    step(m, x, g, true).unwrap();
    for _ in 0..2 {
        for (t, x, g) in &mut cases {
            for input_grad in [false, true] {
                let (c, r) = alloc::count(|| step(m, x, g, input_grad));
                r.unwrap();
                assert_eq!(c.ordinary, 0, "{what}, x {:?}: {} allocations", x.shape(), c.ordinary);
                assert_eq!(c.live_bytes, 0, "{what}: memory allocated during the step was not freed");
                let bound = products(layers, dirs, *t, input_grad);
                assert!(
                    c.gemm_packing <= bound,
                    "{what}: {} packing buffers for {bound} products",
                    c.gemm_packing
                );
                assert!(c.gemm_packing > 0, "{what}: the counter saw no matrix product");
            }
        }
    }
    // Eval-mode inference allocates nothing either.
    let (c, r) = alloc::count(|| m.forward(cases[1].1.view(), Mode::Eval).map(|y| y.sum()));
    r.unwrap();
    assert_eq!(c.ordinary, 0, "{what}: eval forward");
}

/// The only test in this binary, so no other test thread allocates concurrently
/// (counting is per thread anyway).
#[test]
fn steady_state_forward_backward_allocates_nothing() {
    let mut rng = ndtrain::seeded_rng(0);
    let mut rnn = Rnn::<f32>::builder(8, 16)
        .nonlinearity(RnnNonlinearity::Relu)
        .batch_first(true)
        .build(&mut rng)
        .unwrap();
    check("Rnn", &mut rnn, 1, 1, true, 8, 16);
    let mut lstm = Lstm::<f32>::builder(8, 16).num_layers(2).bidirectional(true).build(&mut rng).unwrap();
    check("Lstm 2 layers bidirectional, time-major", &mut lstm, 2, 2, false, 8, 32);
    let mut gru = Gru::<f32>::builder(8, 16)
        .num_layers(3)
        .bidirectional(true)
        .batch_first(true)
        .dropout(0.3)
        .build(&mut rng)
        .unwrap();
    check("Gru 3 layers bidirectional, dropout", &mut gru, 3, 2, true, 8, 32);

    // With initial states (fixed batch).
    let h0 = Array3::<f32>::from_elem((2, 16, 16), 0.1);
    let mut lstm = Lstm::<f32>::builder(8, 16).num_layers(2).batch_first(true).build(&mut rng).unwrap();
    lstm.set_initial_state(Some((h0.view(), h0.view()))).unwrap();
    let x = data(16, 12, 8);
    let mut g = data(16, 12, 16);
    step(&mut lstm, &x, &mut g, true).unwrap();
    for input_grad in [false, true, false] {
        let (c, r) = alloc::count(|| step(&mut lstm, &x, &mut g, input_grad));
        r.unwrap();
        assert_eq!(c.ordinary, 0, "Lstm with (h0, c0): {} allocations", c.ordinary);
    }

    // A sequence classifier: GRU → LastStep → Linear, through Sequential.
    let mut net = Sequential::<f32>::new()
        .layer(Gru::builder(8, 16).batch_first(true).build(&mut rng).unwrap())
        .layer(LastStep::new(true))
        .layer(Linear::new(16, 4, &mut rng).unwrap());
    let (x16, x5) = (data(16, 12, 8), data(5, 12, 8));
    let (mut g16, mut g5) = (ArrayD::<f32>::zeros(vec![16, 4]), ArrayD::<f32>::zeros(vec![5, 4]));
    step(&mut net, &x16, &mut g16, false).unwrap();
    for _ in 0..2 {
        for (x, g) in [(&x16, &mut g16), (&x5, &mut g5)] {
            let (c, r) = alloc::count(|| step(&mut net, x, g, false));
            r.unwrap();
            assert_eq!(
                c.ordinary,
                0,
                "Gru → LastStep → Linear, batch {}: {} allocations",
                x.shape()[0],
                c.ordinary
            );
        }
    }
}
