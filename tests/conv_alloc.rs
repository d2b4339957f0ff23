//! Steady-state training of convolutional networks allocates nothing in ndtrain's code:
//! after the first (largest) batch, a forward + backward pair through every convolution
//! and pooling layer makes no allocation but matrixmultiply's GEMM packing buffers
//! (told apart by their alignment, at most one per matrix product).

use ndarray::ArrayD;
use ndtrain::model::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d, Padding,
};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

fn step<M: Model<f32>>(model: &mut M, x: &ArrayD<f32>, g: &mut ArrayD<f32>) -> ndtrain::Result<()> {
    let y = model.forward(x.view(), Mode::Train)?;
    g.assign(&y);
    model.backward(g.view())
}

fn data(shape: &[usize]) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(shape, (0..n).map(|i| ((i * 7) % 13) as f32 / 6.0 - 1.0).collect()).expect("shape")
}

/// The only test in this binary (counting is per thread anyway).
#[test]
fn steady_state_cnn_training_allocates_nothing() {
    let mut rng = ndtrain::seeded_rng(0);
    // 2-D: every layer kind, with padding, stride, groups, a pointwise convolution.
    let mut net2d = Sequential::<f32>::new()
        .layer(Conv2d::builder(1, 4, 3).padding(Padding::Same).build(&mut rng).unwrap())
        .layer(Relu::new())
        .layer(MaxPool2d::new(2).unwrap())
        .layer(Conv2d::builder(4, 4, 3).stride(2).padding(1).groups(2).build(&mut rng).unwrap())
        .layer(MaxPool2d::builder(3).stride(1).padding(1).build().unwrap())
        .layer(Conv2d::builder(4, 6, 1).bias(false).build(&mut rng).unwrap())
        .layer(AvgPool2d::builder(2).ceil_mode(true).build().unwrap())
        .layer(AdaptiveAvgPool2d::new(2).unwrap())
        .layer(Flatten::new())
        .layer(Linear::new(24, 3, &mut rng).unwrap());
    // 1-D.
    let mut net1d = Sequential::<f32>::new()
        .layer(Conv1d::builder(2, 4, 3).padding(1).build(&mut rng).unwrap())
        .layer(MaxPool1d::new(2).unwrap())
        .layer(Conv1d::builder(4, 4, 2).dilation(2).groups(4).build(&mut rng).unwrap())
        .layer(AvgPool1d::builder(3).stride(1).padding(1).build().unwrap())
        .layer(AdaptiveAvgPool1d::new(3).unwrap())
        .layer(Flatten::new())
        .layer(Linear::new(12, 2, &mut rng).unwrap());
    let (x16, x5) = (data(&[16, 1, 12, 12]), data(&[5, 1, 12, 12]));
    let (s16, s5) = (data(&[16, 2, 20]), data(&[5, 2, 20]));
    let (mut g16, mut g5) = (ArrayD::zeros(vec![16, 3]), ArrayD::zeros(vec![5, 3]));
    let (mut h16, mut h5) = (ArrayD::zeros(vec![16, 2]), ArrayD::zeros(vec![5, 2]));

    // Warm-up at the largest batch: buffers grow here.
    step(&mut net2d, &x16, &mut g16).unwrap();
    step(&mut net1d, &s16, &mut h16).unwrap();

    for _ in 0..2 {
        for (x, g, s, h) in [(&x16, &mut g16, &s16, &mut h16), (&x5, &mut g5, &s5, &mut h5)] {
            let n = x.shape()[0];
            let (c, r) = alloc::count(|| step(&mut net2d, x, g));
            r.unwrap();
            assert_eq!(c.ordinary, 0, "2-D CNN, batch {n}: {} allocations", c.ordinary);
            assert_eq!(c.live_bytes, 0, "memory allocated during the step was not freed");
            // Products per sample: conv1 forward 1 + weight gradient 1 (first layer: no
            // input gradient); conv2 (2 groups) 2 + 2 + 2; conv3 1 + 1 + 1; plus 3 for
            // the Linear layer.
            let products = n * (2 + 6 + 3) + 3;
            assert!(c.gemm_packing <= products, "{} packing buffers for {products} products", c.gemm_packing);

            let (c, r) = alloc::count(|| step(&mut net1d, s, h));
            r.unwrap();
            assert_eq!(c.ordinary, 0, "1-D CNN, batch {n}: {} allocations", c.ordinary);
            assert_eq!(c.live_bytes, 0);
            // conv1 1 + 1; conv2 (4 groups) 4 + 4 + 4; Linear 3.
            let products = n * (2 + 12) + 3;
            assert!(c.gemm_packing <= products, "{} packing buffers for {products} products", c.gemm_packing);
        }
    }
    // Evaluation-mode inference allocates nothing either.
    let (c, r) = alloc::count(|| net2d.forward(x5.view(), Mode::Eval).map(|y| y.sum()));
    r.unwrap();
    assert_eq!(c.ordinary, 0);
    let (c, r) = alloc::count(|| net1d.forward(s5.view(), Mode::Eval).map(|y| y.sum()));
    r.unwrap();
    assert_eq!(c.ordinary, 0);
}
