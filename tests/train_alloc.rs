//! Steady-state training allocates nothing per batch.
//!
//! A counting global allocator counts the allocations of whole `Trainer::fit` calls on
//! two datasets that differ only in their number of batches (8 vs 32 per epoch). Every
//! per-fit and per-epoch cost (snapshot, history, buffers growing on the first batch) is
//! the same for both, so equal counts mean no batch allocates. Allocations with an
//! alignment of 32 bytes or more are the packing buffers matrixmultiply (ndarray's GEMM
//! backend) allocates inside each matrix product; they are counted separately and are
//! the only per-batch allocations left.

use ndarray::{Array1, Array2};
use ndtrain::optim::Adam;
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

/// (ordinary allocations, GEMM packing allocations) made by `f` on this thread.
fn count(f: impl FnOnce()) -> (usize, usize) {
    let (c, ()) = alloc::count(f);
    (c.ordinary, c.gemm_packing)
}

/// Allocations of one `fit` (3 epochs, batch 32, Adam, cross-entropy, accuracy, validation)
/// on `n` synthetic samples with 16 features and 4 classes.
fn fit_allocations(n: usize) -> (usize, usize) {
    let x = Array2::from_shape_fn((n, 16), |(i, j)| ((i * 16 + j) as f32 * 0.618).sin());
    let y = Array1::from_shape_fn(n, |i| i % 4);
    let mut model =
        Sequential::<f32>::mlp(&[16, 32, 4], Activation::Relu, &mut ndtrain::seeded_rng(0)).unwrap();
    let mut trainer = Trainer::builder(Adam::default(), CrossEntropyLoss::default())
        .epochs(3)
        .batch_size(32)
        .metric(Accuracy::new())
        .metric(F1Score::macro_average())
        .validation_data(x.slice(ndarray::s![..64, ..]), y.slice(ndarray::s![..64]))
        .build()
        .unwrap();
    count(|| {
        trainer.fit(&mut model, x.view(), y.view()).unwrap();
    })
}

#[test]
fn training_allocates_nothing_per_batch() {
    let (few, gemm_few) = fit_allocations(8 * 32);
    let (many, gemm_many) = fit_allocations(32 * 32);
    assert_eq!(
        few, many,
        "allocations grow with the number of batches: {few} (8 batches) vs {many} (32 batches)"
    );
    // The counter works: fit does allocate (snapshot, history) ...
    assert!(few > 0);
    // ... and the GEMM backend's packing buffers are the per-batch allocations left.
    assert!(gemm_many > gemm_few);
}

/// Allocations of a regression `fit` (MSE loss, MSE / MAE / R² metrics) on `n` samples.
fn regression_fit_allocations(n: usize) -> (usize, usize) {
    let x = Array2::from_shape_fn((n, 8), |(i, j)| ((i * 8 + j) as f64 * 0.377).cos());
    let y = x.sum_axis(ndarray::Axis(1));
    let mut model =
        Sequential::<f64>::mlp(&[8, 16, 1], Activation::Tanh, &mut ndtrain::seeded_rng(1)).unwrap();
    let mut trainer = Trainer::builder(Adam::default(), MseLoss::default())
        .epochs(2)
        .batch_size(16)
        .metric(Mse::new())
        .metric(Mae::new())
        .metric(R2::new())
        .build()
        .unwrap();
    count(|| {
        trainer.fit(&mut model, x.view(), y.view()).unwrap();
    })
}

#[test]
fn regression_training_allocates_nothing_per_batch() {
    let (few, _) = regression_fit_allocations(4 * 16);
    let (many, _) = regression_fit_allocations(20 * 16);
    assert_eq!(few, many, "allocations grow with the number of batches: {few} vs {many}");
}
