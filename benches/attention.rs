//! Attention and transformer blocks at the shapes of workload W7
//! (`shared/bench/WORKLOADS.md`): batch 32 × 64 tokens, d_model 64, 4 heads (head
//! dim 16), feed-forward 256, GELU, pre-norm, causal, dropout 0, f32, one thread.
//!
//! * `W7/encoder_layer_fwd_bwd`: one `TransformerEncoderLayer`, forward (Train) +
//!   `backward_input` — W7 runs two of them per step;
//! * `W7/mha_fwd_bwd`: the causal self-attention alone (projections included);
//! * `W7/layer_norm_fwd_bwd`: `LayerNorm(64)` on `[32, 64, 64]`;
//! * `W7/encoder_stack_fwd_bwd`: W7's model without the embeddings, loss and
//!   optimizer: 2 layers, final `LayerNorm`, `Linear(64, 64)` head, `Model::backward`.
//!
//! Run: `cargo bench --bench attention`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array3;
use ndtrain::model::{LayerNorm, MultiheadAttention, TransformerEncoderLayer};
use ndtrain::prelude::*;

const B: usize = 32;
const T: usize = 64;
const E: usize = 64;

fn data(seed: u64) -> ndarray::ArrayD<f32> {
    let mut k = 0u64;
    Array3::from_shape_simple_fn((B, T, E), || {
        k += 1;
        ((k.wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32) / 500.0 - 1.0
    })
    .into_dyn()
}

fn layer_builder() -> ndtrain::model::TransformerEncoderLayerBuilder<f32> {
    TransformerEncoderLayer::<f32>::builder(E, 4)
        .dim_feedforward(256)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .batch_first(true)
        .norm_first(true)
        .causal(true)
}

fn bench(c: &mut Criterion) {
    let mut rng = ndtrain::seeded_rng(0);
    let x = data(1);
    let g = data(2) * 0.01;
    let mut group = c.benchmark_group("W7");
    group.sample_size(30).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(8));

    let mut layer = layer_builder().build(&mut rng).expect("valid");
    group.bench_function("encoder_layer_fwd_bwd", |b| {
        b.iter(|| {
            layer.forward(x.view(), Mode::Train).expect("forward");
            layer.backward_input(g.view()).expect("backward").len()
        })
    });

    let mut mha = MultiheadAttention::<f32>::builder(E, 4).batch_first(true).build(&mut rng).expect("valid");
    mha.set_causal(true);
    group.bench_function("mha_fwd_bwd", |b| {
        b.iter(|| {
            mha.forward(x.view(), Mode::Train).expect("forward");
            mha.backward_input(g.view()).expect("backward").len()
        })
    });

    let mut ln = LayerNorm::<f32>::new(&[E]).expect("valid");
    group.bench_function("layer_norm_fwd_bwd", |b| {
        b.iter(|| {
            ln.forward(x.view(), Mode::Train).expect("forward");
            ln.backward_input(g.view()).expect("backward").len()
        })
    });

    let mut stack = Sequential::<f32>::new()
        .layer(layer_builder().build(&mut rng).expect("valid"))
        .layer(layer_builder().build(&mut rng).expect("valid"))
        .layer(LayerNorm::new(&[E]).expect("valid"))
        .layer(Linear::new(E, 64, &mut rng).expect("valid"));
    group.bench_function("encoder_stack_fwd_bwd", |b| {
        b.iter(|| {
            stack.forward(x.view(), Mode::Train).expect("forward");
            stack.backward(g.view()).expect("backward")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
