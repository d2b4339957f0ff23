//! Layer benchmarks: workloads W6 (small CNN) and W7 (tiny causal transformer language
//! model) of `shared/bench/WORKLOADS.md`; `benches/peers/torch_layers.py` times the same
//! steps in PyTorch.
//!
//! * W6: Conv2d(1,16,5) → ReLU → MaxPool2d(2) → Conv2d(16,32,5) → ReLU → MaxPool2d(2) →
//!   Flatten → Linear(512,10), batch 64 of 28×28 f32 (the first 10,000 rows of W1's
//!   data), mean cross-entropy, Adam lr 1e-3. Batch `k` is rows `[i, i + 64)`,
//!   `i = 64k mod (10000 − 64 + 1)`: no shuffle, no gather.
//! * W7: token Embedding(64,64) + position Embedding(64,64) → 2 × TransformerEncoderLayer
//!   (d_model 64, 4 heads, feed-forward 256, dropout 0, GELU, batch first, pre-norm,
//!   causal) → LayerNorm(64) → Linear(64,64), 32 × 64 tokens, mean cross-entropy over
//!   every position, AdamW lr 3e-4, weight decay 0.01; a [`Graph`] over token ids.
//!
//! One step = forward + loss + backward + optimizer step. Criterion's figure is the time
//! of 60 consecutive steps (after 10 warm-up steps), as the workloads define it;
//! throughput is in steps. One thread (matrixmultiply without its `threading` feature).
//! Run: `cargo bench --bench layers`.

mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array4, ArrayD, Axis, IxDyn, Slice};
use ndtrain::loss::PerPosition;
use ndtrain::model::{
    Conv2d, Embedding, Graph, Indices, LayerNorm, MaxPool2d, TransformerEncoder, TransformerEncoderLayer,
};
use ndtrain::optim::{Adam, AdamW};
use ndtrain::prelude::*;

const STEPS: u64 = 60;

/// W6's model, PyTorch's default initialisation from seed 0.
pub fn w6_model() -> Sequential<f32> {
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

/// W7's model: a graph over token ids.
pub fn w7_model() -> Graph<f32, Indices> {
    let mut rng = ndtrain::seeded_rng(0);
    let mut g = Graph::<f32, Indices>::builder();
    let ids = g.input_ids();
    let tok = g.embed("tok", Embedding::new(64, 64, &mut rng).expect("valid"), ids).expect("node");
    let positions = g.positions(ids).expect("node");
    let pos = g.embed("pos", Embedding::new(64, 64, &mut rng).expect("valid"), positions).expect("node");
    let h = g.add(tok, pos).expect("node");
    let layer = TransformerEncoderLayer::builder(64, 4)
        .dim_feedforward(256)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .batch_first(true)
        .norm_first(true)
        .causal(true);
    let blocks = TransformerEncoder::new(layer, 2, None, &mut rng).expect("valid");
    let h = g.layer("blocks", blocks, h).expect("node");
    let h = g.layer("norm", LayerNorm::new(&[64]).expect("valid"), h).expect("node");
    let out = g.layer("head", Linear::new(64, 64, &mut rng).expect("valid"), h).expect("node");
    g.build(out).expect("graph")
}

fn w6(c: &mut Criterion) {
    let (x, y) = common::w6_data(10_000);
    let x: Array4<f32> = x;
    let (x, y) = (x.into_dyn(), y.into_dyn());
    let mut model = w6_model();
    assert_eq!(model.num_parameters(), 18_378);
    let mut opt = Adam::builder().lr(1e-3).build().expect("valid");
    let loss = CrossEntropyLoss::default();
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[64, 10]));
    bench_steps(c, "W6", "small_cnn_b64_adam_60_steps", 10, |k| {
        let i = (64 * k) % (10_000 - 64 + 1);
        let rows = Slice::from(i..i + 64);
        let out = model.forward(x.slice_axis(Axis(0), rows), Mode::Train).expect("forward");
        loss.loss_and_grad(out, y.slice_axis(Axis(0), rows), grad.view_mut()).expect("loss");
        model.backward(grad.view()).expect("backward");
        opt.step(&mut model).expect("step");
    });
}

fn w7(c: &mut Criterion) {
    let tokens = common::w7_tokens(200_000);
    let mut model = w7_model();
    assert_eq!(model.num_parameters(), 112_448);
    let mut opt = AdamW::builder().lr(3e-4).weight_decay(0.01).build().expect("valid");
    let loss = PerPosition(CrossEntropyLoss::default());
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[32, 64, 64]));
    // The batches are built outside the timed region (the workload times the layers).
    let batches: Vec<_> = (0..64).map(|k| common::w7_batch(&tokens, k)).collect();
    bench_steps(c, "W7", "tiny_transformer_lm_32x64_adamw_60_steps", 20, |k| {
        let (x, y) = &batches[k % batches.len()];
        let out = model.forward(x.view().into_dyn(), Mode::Train).expect("forward");
        loss.loss_and_grad(out, y.view().into_dyn(), grad.view_mut()).expect("loss");
        model.backward(grad.view()).expect("backward");
        opt.step(&mut model).expect("step");
    });
}

/// Times `step(k)` for consecutive `k` as the workloads define it: 10 warm-up steps,
/// then criterion samples of 60 steps each; throughput in steps.
fn bench_steps(
    c: &mut Criterion,
    group: &str,
    name: &str,
    measurement_secs: u64,
    mut step: impl FnMut(usize),
) {
    let mut k = 0usize;
    for _ in 0..10 {
        step(k);
        k += 1;
    }
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(measurement_secs));
    g.throughput(Throughput::Elements(STEPS));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters * STEPS {
                step(k);
                k += 1;
            }
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, w6, w7);
criterion_main!(benches);
