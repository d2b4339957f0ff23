//! Steady-state training of a `Sequential` MLP allocates nothing in ndtrain's code.
//!
//! A counting global allocator records every allocation made on the test's thread
//! while a forward + backward pair runs. The only allocations left are the packing
//! buffers `matrixmultiply` (ndarray's GEMM backend) allocates and frees inside each
//! matrix product; those are identified by their alignment (its kernels request 32 or
//! 64 bytes; `Vec<f32>`/`Vec<f64>` and every other Rust allocation here ask for at most
//! 16) and by their count: at most one per product.

use ndarray::{Array2, ArrayD};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

/// Runs `f` with counting on; returns (ordinary allocations, GEMM packing allocations)
/// and checks that everything allocated was freed.
fn count<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    let (c, r) = alloc::count(f);
    assert_eq!(c.live_bytes, 0, "memory allocated during the step was not freed");
    (c.ordinary, c.gemm_packing, r)
}

fn step<M: Model<f32>>(model: &mut M, x: &ArrayD<f32>, g: &mut ArrayD<f32>) -> ndtrain::Result<()> {
    let y = model.forward(x.view(), Mode::Train)?;
    // A stand-in for the loss gradient, written into a caller-owned buffer.
    g.assign(&y);
    model.backward(g.view())
}

fn data(n: usize, d: usize, out: usize) -> (ArrayD<f32>, ArrayD<f32>) {
    let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 7) % 13) as f32 / 6.0 - 1.0).into_dyn();
    (x, Array2::zeros((n, out)).into_dyn())
}

/// The only test in this binary, so no other test thread allocates concurrently
/// (counting is per thread anyway).
#[test]
fn steady_state_forward_backward_allocates_nothing() {
    let mut rng = ndtrain::seeded_rng(0);
    // W2b's shapes: digits 64-128-10, batch 16, last batch 5; then with every layer kind.
    let mut mlp = Sequential::<f32>::mlp(&[64, 128, 10], Activation::Relu, &mut rng).unwrap();
    let mut rich = Sequential::<f32>::new()
        .layer(Flatten::new())
        .layer(Linear::new(64, 32, &mut rng).unwrap())
        .layer(Gelu::default())
        .layer(Dropout::new(0.2).unwrap())
        .layer(Linear::new(32, 32, &mut rng).unwrap())
        .layer(LeakyRelu::default())
        .layer(Linear::builder(32, 16).bias(false).build(&mut rng).unwrap())
        .layer(Tanh::new())
        .layer(Linear::new(16, 10, &mut rng).unwrap())
        .layer(Sigmoid::new());
    let (x16, mut g16) = data(16, 64, 10);
    let (x5, mut g5) = data(5, 64, 10);
    let x16_img = x16.clone().into_shape_with_order(vec![16, 8, 8]).unwrap();
    let x5_img = x5.clone().into_shape_with_order(vec![5, 8, 8]).unwrap();

    // Warm-up at the largest batch: buffers grow here.
    step(&mut mlp, &x16, &mut g16).unwrap();
    step(&mut rich, &x16_img, &mut g16).unwrap();

    for _ in 0..3 {
        for (x, xi, g) in [(&x16, &x16_img, &mut g16), (&x5, &x5_img, &mut g5)] {
            let (ordinary, packing, r) = count(|| step(&mut mlp, x, g));
            r.unwrap();
            assert_eq!(ordinary, 0, "Sequential MLP, batch {}: {ordinary} allocations", x.shape()[0]);
            // 2 forward products, 2 for layer 2's backward, 1 for layer 1's (no dL/dx).
            assert!(packing <= 5, "{packing} GEMM packing buffers for 5 products");

            let (ordinary, packing, r) = count(|| step(&mut rich, xi, g));
            r.unwrap();
            assert_eq!(ordinary, 0, "rich stack, batch {}: {ordinary} allocations", x.shape()[0]);
            // 4 forward products, 4 weight gradients, 3 input gradients (the first
            // Linear sits behind a Flatten, which needs no gradient).
            assert!(packing <= 4 + 4 + 3, "{packing} GEMM packing buffers for 11 products");
        }
    }
    // Eval-mode inference allocates nothing either.
    let (ordinary, _, r) = count(|| mlp.forward(x5.view(), Mode::Eval).map(|y| y.sum()));
    r.unwrap();
    assert_eq!(ordinary, 0);
}
