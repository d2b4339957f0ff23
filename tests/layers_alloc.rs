//! Whole training steps of models built from the layers (a CNN with BatchNorm, a
//! transformer language model over token ids, an LSTM classifier) allocate nothing in
//! ndtrain's code after the first batch: forward, loss, backward and the optimizer
//! step. The matrix products' packing buffers (matrixmultiply's, 32- or 64-byte
//! aligned) are the only allocations left, and they are freed within the step.

use ndarray::{Array2, Array3, Array4, ArrayD, IxDyn};
use ndtrain::loss::PerPosition;
use ndtrain::model::{Embedding, Graph, Indices, TransformerEncoder, TransformerEncoderLayer};
use ndtrain::optim::AdamW;
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

/// One training step: forward, loss gradient into `grad`, backward, optimizer step.
fn step<I: Input<f32>, M: Model<f32, I>, O: Optimizer<f32>, L: Loss<f32, usize>>(
    model: &mut M,
    opt: &mut O,
    loss: &L,
    x: I::View<'_>,
    y: &ArrayD<usize>,
    grad: &mut ArrayD<f32>,
) {
    let out = model.forward(x, Mode::Train).unwrap();
    loss.loss_and_grad(out, y.view(), grad.view_mut()).unwrap();
    model.backward(grad.view()).unwrap();
    opt.step(model).unwrap();
}

fn assert_steady<R>(what: &str, mut f: impl FnMut() -> R) {
    f(); // the first step grows every buffer and the optimizer state
    for _ in 0..2 {
        let (c, _) = alloc::count(&mut f);
        assert_eq!(c.ordinary, 0, "{what}: {c:?}");
        assert_eq!(c.live_bytes, 0, "{what}: {c:?}");
    }
}

#[test]
fn cnn_transformer_and_lstm_steps_allocate_nothing() {
    let mut rng = ndtrain::seeded_rng(0);

    // CNN with BatchNorm and pooling on 8x8 images.
    let mut cnn = Sequential::<f32>::new()
        .layer(Conv2d::builder(1, 4, 3).padding(1).build(&mut rng).unwrap())
        .layer(BatchNorm2d::new(4).unwrap())
        .layer(Relu::new())
        .layer(MaxPool2d::new(2).unwrap())
        .layer(Conv2d::new(4, 8, 3, &mut rng).unwrap())
        .layer(Relu::new())
        .layer(Flatten::new())
        .layer(Linear::new(8 * 2 * 2, 10, &mut rng).unwrap());
    let x =
        Array4::from_shape_fn((16, 1, 8, 8), |(n, _, i, j)| ((n + i * 3 + j) % 7) as f32 / 3.0).into_dyn();
    let y = ArrayD::from_shape_fn(IxDyn(&[16]), |i| i[0] % 10);
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[16, 10]));
    let mut adam = Adam::builder().build().unwrap();
    let ce = CrossEntropyLoss::default();
    assert_steady("CNN", || step(&mut cnn, &mut adam, &ce, x.view(), &y, &mut grad));

    // Transformer LM over token ids: embeddings + positions, 2 causal pre-norm layers.
    let mut g = Graph::<f32, Indices>::builder();
    let ids = g.input_ids();
    let tok = g.embed("tok", Embedding::new(20, 16, &mut rng).unwrap(), ids).unwrap();
    let p = g.positions(ids).unwrap();
    let pos = g.embed("pos", Embedding::new(12, 16, &mut rng).unwrap(), p).unwrap();
    let h = g.add(tok, pos).unwrap();
    let layer = TransformerEncoderLayer::builder(16, 2)
        .dim_feedforward(32)
        .dropout(0.1)
        .activation(Activation::Gelu)
        .batch_first(true)
        .norm_first(true)
        .causal(true);
    let h = g.layer("blocks", TransformerEncoder::new(layer, 2, None, &mut rng).unwrap(), h).unwrap();
    let h = g.layer("norm", LayerNorm::new(&[16]).unwrap(), h).unwrap();
    let out = g.layer("head", Linear::new(16, 20, &mut rng).unwrap(), h).unwrap();
    let mut lm = g.build(out).unwrap();
    let tokens = Array2::from_shape_fn((4, 12), |(i, t)| (i * 7 + t * 3) % 20).into_dyn();
    let next = Array2::from_shape_fn((4, 12), |(i, t)| (i * 7 + t * 3 + 1) % 20).into_dyn();
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[4, 12, 20]));
    let mut adamw = AdamW::builder().build().unwrap();
    let per_pos = PerPosition(CrossEntropyLoss::default());
    assert_steady("transformer LM", || step(&mut lm, &mut adamw, &per_pos, tokens.view(), &next, &mut grad));

    // LSTM over sequences, classified from the last step.
    let mut rnn = Sequential::<f32>::new()
        .layer(Lstm::builder(3, 8).batch_first(true).build(&mut rng).unwrap())
        .layer(LastStep::new(true))
        .layer(Linear::new(8, 4, &mut rng).unwrap());
    let xs = Array3::from_shape_fn((6, 5, 3), |(b, t, k)| ((b + t * k) % 5) as f32 / 4.0 - 0.5).into_dyn();
    let ys = ArrayD::from_shape_fn(IxDyn(&[6]), |i| i[0] % 4);
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[6, 4]));
    let mut sgd = ndtrain::optim::Sgd::builder().lr(0.1).momentum(0.9).build().unwrap();
    assert_steady("LSTM", || step(&mut rnn, &mut sgd, &ce, xs.view(), &ys, &mut grad));
}
