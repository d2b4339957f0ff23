//! Bad input to the layers is an `Err` naming the operation, never a panic, and leaves
//! the layer's parameters and buffers as they were: wrong channel counts and feature
//! widths, sequences longer than the position table, token ids out of range, masks of
//! the wrong shape, kernels larger than the padded input, and backward without a
//! recording forward.

use ndarray::{Array2, Array3, Array4, ArrayD, IxDyn};
use ndtrain::model::{
    AttnMasks, BufferValue, Embedding, Graph, Indices, MultiheadAttention, TransformerEncoderLayer,
};
use ndtrain::prelude::*;

/// Parameters and buffers by name.
type Snapshot = (Vec<(String, ArrayD<f64>)>, Vec<(String, BufferValue<f64>)>);

/// Parameters and buffers, to check that a failed call changed nothing.
fn snapshot<M: Module<f64>>(m: &mut M) -> Snapshot {
    (m.parameters(), m.buffers())
}

fn err_of<T: std::fmt::Debug>(r: ndtrain::Result<T>) -> Error {
    r.expect_err("expected an error")
}

#[test]
fn wrong_channels_widths_and_sequence_lengths() {
    let mut rng = ndtrain::seeded_rng(0);
    let mut conv = Conv2d::<f64>::new(3, 4, 3, &mut rng).unwrap();
    let before = snapshot(&mut conv);
    let e = err_of(conv.forward(Array4::zeros((2, 2, 8, 8)).into_dyn().view(), Mode::Train));
    assert!(matches!(e, Error::ShapeMismatch { .. } | Error::InvalidInput { .. }), "{e}");
    assert!(e.to_string().contains("Conv2d"), "{e}");
    assert_eq!(snapshot(&mut conv), before);

    let mut bn = BatchNorm2d::<f64>::new(4).unwrap();
    let before = snapshot(&mut bn);
    let e = err_of(bn.forward(Array4::ones((2, 3, 4, 4)).into_dyn().view(), Mode::Train));
    assert!(e.to_string().contains("BatchNorm"), "{e}");
    assert_eq!(snapshot(&mut bn), before, "running statistics untouched");

    let mut lstm = Lstm::<f64>::builder(3, 5).batch_first(true).build(&mut rng).unwrap();
    let e = err_of(lstm.forward(Array3::zeros((2, 4, 7)).into_dyn().view(), Mode::Train));
    assert!(
        e.to_string().contains("Lstm")
            || e.to_string().contains("LSTM")
            || e.to_string().contains("Recurrent"),
        "{e}"
    );
    // An empty sequence.
    assert!(lstm.forward(Array3::zeros((2, 0, 3)).into_dyn().view(), Mode::Train).is_err());

    // A sequence longer than the position table: the position id is out of range.
    let mut g = Graph::<f64, Indices>::builder();
    let ids = g.input_ids();
    let tok = g.embed("tok", Embedding::new(10, 4, &mut rng).unwrap(), ids).unwrap();
    let p = g.positions(ids).unwrap();
    let pos = g.embed("pos", Embedding::new(5, 4, &mut rng).unwrap(), p).unwrap();
    let h = g.add(tok, pos).unwrap();
    let out = g.layer("head", Linear::new(4, 10, &mut rng).unwrap(), h).unwrap();
    let mut lm = g.build(out).unwrap();
    let e = err_of(lm.forward(Array2::<usize>::zeros((2, 6)).into_dyn().view(), Mode::Train));
    assert!(e.to_string().contains("Embedding") && e.to_string().contains('5'), "{e}");

    // A transformer layer on the wrong model width.
    let mut tel = TransformerEncoderLayer::<f64>::builder(8, 2).batch_first(true).build(&mut rng).unwrap();
    let e = err_of(tel.forward(Array3::zeros((2, 3, 6)).into_dyn().view(), Mode::Train));
    assert!(matches!(e, Error::ShapeMismatch { .. } | Error::InvalidInput { .. }), "{e}");
}

#[test]
fn token_ids_out_of_range() {
    let mut emb = Embedding::<f64>::new(7, 3, &mut ndtrain::seeded_rng(1)).unwrap();
    let before = snapshot(&mut emb);
    let ids = ndarray::array![[1usize, 2], [7, 0]].into_dyn();
    let e = err_of(emb.forward(ids.view(), Mode::Train));
    let msg = e.to_string();
    assert!(msg.contains("Embedding") && msg.contains('7'), "{msg}");
    assert_eq!(snapshot(&mut emb), before);
    // usize::MAX (an "ignore" sentinel) too.
    let ids = ndarray::array![usize::MAX].into_dyn();
    assert!(emb.forward(ids.view(), Mode::Eval).is_err());
}

#[test]
fn masks_of_the_wrong_shape() {
    let mut mha = MultiheadAttention::<f64>::builder(8, 2)
        .batch_first(true)
        .build(&mut ndtrain::seeded_rng(2))
        .unwrap();
    let q = Array3::<f64>::zeros((2, 3, 8)).into_dyn();
    let kv = Array3::<f64>::zeros((2, 4, 8)).into_dyn();
    let bad_padding = Array2::<bool>::from_elem((2, 3), false); // keys are 4 long
    let masks = AttnMasks::none().key_padding_mask(bad_padding.view());
    let e = err_of(mha.forward_attention(q.view(), kv.view(), kv.view(), &masks, Mode::Train).map(|_| ()));
    assert!(e.to_string().contains("MultiheadAttention"), "{e}");
    // Key and value of different lengths.
    let v5 = Array3::<f64>::zeros((2, 5, 8)).into_dyn();
    assert!(mha.forward_attention(q.view(), kv.view(), v5.view(), &AttnMasks::none(), Mode::Train).is_err());
}

#[test]
fn kernel_larger_than_the_padded_input() {
    let mut rng = ndtrain::seeded_rng(3);
    let mut conv = Conv2d::<f64>::builder(1, 2, 5).padding(1).build(&mut rng).unwrap();
    let e = err_of(conv.forward(Array4::zeros((1, 1, 2, 2)).into_dyn().view(), Mode::Train)); // 2 + 2 < 5
    assert!(e.to_string().contains("Conv2d"), "{e}");
    let mut pool = MaxPool2d::<f64>::new(3).unwrap();
    assert!(pool.forward(Array4::zeros((1, 1, 2, 2)).into_dyn().view(), Mode::Train).is_err());
    let mut conv1 = Conv1d::<f64>::new(1, 1, 4, &mut rng).unwrap();
    assert!(conv1.forward(Array3::zeros((1, 1, 3)).into_dyn().view(), Mode::Train).is_err());
}

#[test]
fn backward_without_a_recording_forward() {
    let mut rng = ndtrain::seeded_rng(4);
    let mut layers: Vec<(Box<dyn Layer<f64>>, ArrayD<f64>)> = vec![
        (Box::new(Conv2d::new(1, 2, 3, &mut rng).unwrap()), Array4::zeros((1, 1, 4, 4)).into_dyn()),
        (Box::new(MaxPool2d::new(2).unwrap()), Array4::zeros((1, 1, 4, 4)).into_dyn()),
        (Box::new(BatchNorm1d::new(3).unwrap()), Array2::ones((4, 3)).into_dyn()),
        (Box::new(LayerNorm::new(&[3]).unwrap()), Array2::ones((4, 3)).into_dyn()),
        (
            Box::new(Gru::builder(3, 2).batch_first(true).build(&mut rng).unwrap()),
            Array3::ones((2, 2, 3)).into_dyn(),
        ),
        (
            Box::new(TransformerEncoderLayer::builder(4, 2).batch_first(true).build(&mut rng).unwrap()),
            Array3::ones((2, 3, 4)).into_dyn(),
        ),
        (Box::new(Softmax::new(-1)), Array2::ones((2, 3)).into_dyn()),
    ];
    for (layer, x) in &mut layers {
        let y_shape = layer.forward(x.view(), Mode::Eval).unwrap().shape().to_vec();
        let g = ArrayD::<f64>::ones(IxDyn(&y_shape));
        // After an Eval forward nothing is cached: both backward calls are refused.
        assert!(matches!(layer.backward(g.view()), Err(Error::InvalidInput { .. })), "{y_shape:?}");
        assert!(matches!(layer.backward_input(g.view()), Err(Error::InvalidInput { .. })), "{y_shape:?}");
        // After a recording forward, a gradient of the wrong shape is refused too.
        layer.forward(x.view(), Mode::Train).unwrap();
        let mut wrong = y_shape.clone();
        wrong[0] += 1;
        assert!(layer.backward_input(ArrayD::<f64>::ones(IxDyn(&wrong)).view()).is_err());
        layer.backward_input(g.view()).unwrap();
    }
    let mut emb = Embedding::<f64>::new(4, 2, &mut rng).unwrap();
    assert!(matches!(
        emb.backward(ArrayD::<f64>::ones(IxDyn(&[1, 2])).view()),
        Err(Error::InvalidInput { .. })
    ));
}
