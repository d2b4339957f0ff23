//! Convolution and pooling benchmarks: workload W6 of `shared/bench/WORKLOADS.md` and
//! its layers one by one.
//!
//! * `W6/step`: one training step of the small CNN
//!   `Conv2d(1, 16, 5) → ReLU → MaxPool2d(2) → Conv2d(16, 32, 5) → ReLU → MaxPool2d(2) →
//!   Flatten → Linear(512, 10)`, batch 64 of 28×28 f32 images, mean cross-entropy, Adam
//!   (lr 1e-3): forward, loss, backward, optimizer step. Batch `k` is rows
//!   `[i, i + 64)` of W1's first 10,000 rows with `i = 64k mod (10000 − 64 + 1)` (no
//!   shuffle, no gather), as WORKLOADS.md times it.
//! * `W6 layers/*`: forward (training mode) and backward of each layer at its W6 shape;
//!   `conv1 backward` computes the parameter gradients only (`Model::backward`, as the
//!   first layer of the network), `conv2 backward_input` the input gradient too.
//!
//! Threads: 1 (matrixmultiply without its `threading` feature). Run:
//! `cargo bench --bench conv`.

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use ndtrain::model::{Conv2d, Layer, MaxPool2d};
use ndtrain::optim::Adam;
use ndtrain::prelude::*;

const BATCH: usize = 64;

/// W6's images `[10000, 1, 28, 28]` and labels.
fn w6_data() -> (ArrayD<f32>, Array1<usize>) {
    let (x, y) = common::w1_data(10_000);
    (x.into_shape_with_order(IxDyn(&[10_000, 1, 28, 28])).expect("784 = 28·28"), y)
}

fn w6_model() -> Sequential<f32> {
    let mut rng = ndtrain::seeded_rng(0);
    Sequential::new()
        .layer(Conv2d::new(1, 16, 5, &mut rng).expect("valid"))
        .layer(Relu::new())
        .layer(MaxPool2d::new(2).expect("valid"))
        .layer(Conv2d::new(16, 32, 5, &mut rng).expect("valid"))
        .layer(Relu::new())
        .layer(MaxPool2d::new(2).expect("valid"))
        .layer(Flatten::new())
        .layer(Linear::new(512, 10, &mut rng).expect("valid"))
}

fn w6_step(c: &mut Criterion) {
    let (x, y) = w6_data();
    let mut model = w6_model();
    let mut opt = Adam::builder().lr(1e-3).build().expect("valid");
    let loss = CrossEntropyLoss::<f32>::default();
    let mut grad = Array2::<f32>::zeros((BATCH, 10)).into_dyn();
    let mut k = 0usize;
    let mut step = || {
        let i = (BATCH * k) % (10_000 - BATCH + 1);
        k += 1;
        let xb = x.slice_axis(ndarray::Axis(0), (i..i + BATCH).into());
        let yb = y.slice(ndarray::s![i..i + BATCH]).into_dyn();
        let pred = model.forward(xb, Mode::Train).expect("forward");
        let l = loss.loss_and_grad(pred, yb, grad.view_mut()).expect("loss");
        model.backward(grad.view()).expect("backward");
        opt.step(&mut model).expect("step");
        l
    };
    for _ in 0..10 {
        step();
    }
    let mut g = c.benchmark_group("W6");
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(6));
    g.bench_function("step", |b| b.iter(&mut step));
    g.finish();
}

/// Deterministic values in [-1, 1].
fn filled(shape: &[usize], seed: usize) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..n).map(|i| ((i * 7919 + seed) % 2001) as f32 / 1000.0 - 1.0).collect(),
    )
    .expect("shape")
}

fn bench_layer<L: Layer<f32>>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    layer: &mut L,
    in_shape: &[usize],
    input_grad: bool,
) {
    let x = filled(in_shape, 1);
    let out_shape = layer.forward(x.view(), Mode::Train).expect("forward").shape().to_vec();
    let grad = filled(&out_shape, 2);
    g.bench_function(format!("{name} forward"), |b| {
        b.iter(|| layer.forward(x.view(), Mode::Train).expect("forward").len())
    });
    layer.forward(x.view(), Mode::Train).expect("forward");
    if input_grad {
        g.bench_function(format!("{name} backward_input"), |b| {
            b.iter(|| layer.backward_input(grad.view()).expect("backward").len())
        });
    } else {
        g.bench_function(format!("{name} backward"), |b| {
            b.iter(|| layer.backward(grad.view()).expect("backward"))
        });
    }
}

fn w6_layers(c: &mut Criterion) {
    let mut rng = ndtrain::seeded_rng(0);
    let mut g = c.benchmark_group("W6 layers");
    g.sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    bench_layer(
        &mut g,
        "conv1",
        &mut Conv2d::<f32>::new(1, 16, 5, &mut rng).expect("valid"),
        &[BATCH, 1, 28, 28],
        false,
    );
    bench_layer(&mut g, "relu1", &mut Relu::<f32>::new(), &[BATCH, 16, 24, 24], true);
    bench_layer(&mut g, "pool1", &mut MaxPool2d::<f32>::new(2).expect("valid"), &[BATCH, 16, 24, 24], true);
    bench_layer(
        &mut g,
        "conv2",
        &mut Conv2d::<f32>::new(16, 32, 5, &mut rng).expect("valid"),
        &[BATCH, 16, 12, 12],
        true,
    );
    bench_layer(&mut g, "pool2", &mut MaxPool2d::<f32>::new(2).expect("valid"), &[BATCH, 32, 8, 8], true);
    g.finish();
}

criterion_group!(benches, w6_layers, w6_step);
criterion_main!(benches);
