//! Training-loop benchmarks: workloads W1, W2b and W3 of `shared/bench/WORKLOADS.md`.
//!
//! * W1: MLP 784-256-256-10 (ReLU), batch 128 (last partial batch kept), Adam lr 1e-3,
//!   softmax cross-entropy, f32, on 60,000 synthetic samples with teacher labels; one
//!   epoch = shuffle + gather + forward + loss + backward + Adam step for 469 batches.
//! * W2b: digits (1797 × 64, standardised, f32), MLP 64-128-10, batch 16 (113 steps per
//!   epoch); per-step overhead dominates. Criterion's throughput line is steps/s.
//! * W3: breast_cancer logistic regression, full-batch gradient descent, 1000 steps.
//!
//! Every figure is one `Trainer::fit` call of one epoch (W3: 1000 epochs of one batch),
//! so it includes what a user pays: the input check, the transactional snapshot, the
//! shuffle and the per-batch gather. Threads: 1 (ndarray's matrixmultiply without its
//! `threading` feature). Run: `cargo bench --bench training`.

mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use ndtrain::datasets;
use ndtrain::optim::{Adam, Sgd};
use ndtrain::prelude::*;
use ndtrain::train::Trainer;

fn epoch_trainer(batch_size: usize) -> Trainer<f32, usize, Adam<f32>, CrossEntropyLoss<f32>> {
    Trainer::builder(Adam::builder().lr(1e-3).build().expect("valid"), CrossEntropyLoss::default())
        .epochs(1)
        .batch_size(batch_size)
        .seed(0)
        .build()
        .expect("valid settings")
}

fn w1(c: &mut Criterion) {
    let (x, y) = common::w1_data(60_000);
    let mut model =
        Sequential::<f32>::mlp(&[784, 256, 256, 10], Activation::Relu, &mut ndtrain::seeded_rng(0))
            .expect("valid sizes");
    let mut trainer = epoch_trainer(128);
    trainer.fit(&mut model, x.view(), y.view()).expect("warm-up epoch");

    let mut g = c.benchmark_group("W1");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(469));
    g.bench_function("mlp_784_256_256_10_b128_adam_epoch", |b| {
        b.iter(|| trainer.fit(&mut model, x.view(), y.view()).expect("epoch"))
    });
    g.finish();
}

/// Digits standardised over the whole dataset (population std, zero-variance columns
/// scale 1), computed in f64 and cast to f32, as WORKLOADS.md defines it.
fn w2b_data() -> (Array2<f32>, Array1<usize>) {
    let digits = datasets::digits();
    let x = common::standardize_f32(&digits.x_2d().expect("2-D").to_owned());
    (x, digits.y_1d().expect("1-D").to_owned())
}

/// W2b as WORKLOADS.md times it: a fresh model trained 3 warm-up epochs, then 30 timed
/// epochs; after those 33 the model starts over (untimed), so criterion's hundreds of
/// epochs measure the same regime as the peers' 30 instead of an ever more overfitted
/// model.
fn w2b(c: &mut Criterion) {
    const WARM_UP: usize = 3;
    const TIMED: usize = 30;
    let (x, y) = w2b_data();
    let fresh = || {
        let mut model = Sequential::<f32>::mlp(&[64, 128, 10], Activation::Relu, &mut ndtrain::seeded_rng(0))
            .expect("valid sizes");
        let mut trainer = epoch_trainer(16);
        for _ in 0..WARM_UP {
            trainer.fit(&mut model, x.view(), y.view()).expect("warm-up epoch");
        }
        (model, trainer)
    };
    let (mut model, mut trainer) = fresh();
    let mut timed = 0;
    let mut g = c.benchmark_group("W2b");
    g.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(113));
    g.bench_function("digits_64_128_10_b16_adam_epoch", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if timed == TIMED {
                    (model, trainer) = fresh();
                    timed = 0;
                }
                let start = Instant::now();
                trainer.fit(&mut model, x.view(), y.view()).expect("epoch");
                total += start.elapsed();
                timed += 1;
            }
            total
        })
    });
    g.finish();
}

fn w3(c: &mut Criterion) {
    let bc = datasets::breast_cancer();
    let x = common::standardize_f32(&bc.x_2d().expect("2-D").to_owned());
    let y = bc.y().mapv(|v| v as f32);
    let mut g = c.benchmark_group("W3");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(1000));
    g.bench_function("logreg_breast_cancer_full_batch_gd_1000_steps", |b| {
        b.iter_batched(
            || {
                let model =
                    Linear::<f32>::builder(30, 1).init(Init::Zeros).build(&mut ndtrain::seeded_rng(0));
                let trainer = Trainer::builder(
                    Sgd::builder().lr(0.1).build().expect("valid"),
                    BceWithLogitsLoss::default(),
                )
                .epochs(1000)
                .full_batch()
                .shuffle(false)
                .build();
                (model.expect("valid"), trainer.expect("valid"))
            },
            |(mut model, mut trainer)| trainer.fit(&mut model, x.view(), y.view()).expect("training"),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, w2b, w3, w1);
criterion_main!(benches);
