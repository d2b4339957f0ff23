//! W4 / W4s of `shared/bench/WORKLOADS.md`: one Adam step (lr 1e-3, torch defaults) over
//! f32 parameters with fixed gradients.
//!
//! * `w4/1x10M`: one tensor of 10,000,000 parameters;
//! * `w4/100x100k`: 100 tensors of 100,000;
//! * `w4s/w1_params`: the six tensors of W1's MLP (784-256-256-10, 269,322 parameters,
//!   cache-resident state);
//! * `w4s/w2b_params`: the four tensors of W2b's MLP (64-128-10: 128x64, 128, 10x128, 10;
//!   9,610 parameters, L1/L2-resident), where per-step overhead shows; `update_only`
//!   calls `Optimizer::update` per tensor directly (no validating first visit of `step`),
//!   and `validate_visit` times that first visit alone;
//! * `w4s_others/w2b_params`: one step of SGD (momentum 0.9), RMSprop, Adagrad, NAdam and
//!   AMSGrad AdamW (weight decay 0.01) on the same 9,610 parameters;
//! * `w2b_step`: one W2b-like training step (MLP 64-128-10, batch 16, f32, softmax
//!   cross-entropy): forward + loss + backward alone, and with the Adam step.
//!
//! Each layout also runs a hand-written fused `Zip` loop (the peer "achievable target"
//! of WORKLOADS.md) in the same run, so the ratio holds on a busy machine.
//!
//! Throughput is reported as 28 bytes per parameter (read p, g, m, v; write p, m, v), so
//! criterion prints the effective bandwidth in GB/s. Run briefly on the shared machine:
//! `cargo bench --bench adam_step -- --warm-up-time 1 --measurement-time 3`.

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use ndtrain::model::{Mode, Model, Module, ParamVisitor};
use ndtrain::optim::{Adagrad, Adam, AdamW, NAdam, Optimizer, RmsProp, Sgd};
use ndtrain::prelude::{Activation, CrossEntropyLoss, Loss, Sequential};
use ndtrain::{Param, Result};

use common::normal;

/// Parameters and fixed gradients, as separate allocations (as a model holds them).
struct Params {
    names: Vec<String>,
    values: Vec<ArrayD<f32>>,
    grads: Vec<ArrayD<f32>>,
}

impl Params {
    fn new(shapes: &[&[usize]]) -> Self {
        let mut k = 0u64;
        let mut p = Params { names: vec![], values: vec![], grads: vec![] };
        for (i, s) in shapes.iter().enumerate() {
            let n: usize = s.iter().product();
            let v: Vec<f32> = (0..n as u64).map(|j| normal(0, k + j) as f32).collect();
            let g: Vec<f32> = (0..n as u64).map(|j| (1e-3 * normal(1, k + j)) as f32).collect();
            k += n as u64;
            p.names.push(format!("{i}.weight"));
            p.values.push(ArrayD::from_shape_vec(IxDyn(s), v).expect("shape"));
            p.grads.push(ArrayD::from_shape_vec(IxDyn(s), g).expect("shape"));
        }
        p
    }

    fn len(&self) -> usize {
        self.values.iter().map(ArrayD::len).sum()
    }
}

impl Module<f32> for Params {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f32>) -> Result<()> {
        for (i, ((n, v), g)) in self.names.iter().zip(&mut self.values).zip(&mut self.grads).enumerate() {
            f(Param::new(i, n), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

/// The parameter tensors of W2b's MLP 64-128-10.
const W2B_SHAPES: &[&[usize]] = &[&[128, 64], &[128], &[10, 128], &[10]];

fn bench_layout(c: &mut Criterion, group: &str, name: &str, shapes: &[&[usize]]) {
    let mut params = Params::new(shapes);
    let n = params.len();
    let mut opt = Adam::<f32>::builder().lr(1e-3).build().expect("valid Adam");
    // First step allocates the state; not timed.
    opt.step(&mut params).expect("step");
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(28 * n as u64));
    g.sample_size(10);
    g.bench_function(format!("{name}/ndtrain"), |b| {
        b.iter(|| opt.step(black_box(&mut params)).expect("step"))
    });
    if n < 100_000 {
        // What the first (validating) visit of `step` costs on its own.
        g.bench_function(format!("{name}/validate_visit"), |b| {
            b.iter(|| {
                black_box(&mut params)
                    .visit_params(&mut |p, v, gr| opt.validate(p, v.view(), gr.view()))
                    .expect("valid")
            })
        });
        g.bench_function(format!("{name}/update_only"), |b| {
            b.iter(|| {
                let p = black_box(&mut params);
                for (i, (v, gr)) in p.values.iter_mut().zip(&p.grads).enumerate() {
                    opt.update(Param::new(i, &p.names[i]), v.view_mut(), gr.view()).expect("update");
                }
            })
        });
    }
    // The peer of WORKLOADS.md: a hand-written fused `Zip` loop over (p, g, m, v), state
    // where the allocator puts it; the achievable target, measured in the same run.
    let mut m: Vec<ArrayD<f32>> = params.values.iter().map(|v| ArrayD::zeros(v.raw_dim())).collect();
    let mut v: Vec<ArrayD<f32>> = params.values.iter().map(|v| ArrayD::zeros(v.raw_dim())).collect();
    let (w1, b2, eps, neg_step, bc2_sqrt) = (0.1f32, 0.999f32, 1e-8f32, -1e-3f32, 0.5f32);
    g.bench_function(format!("{name}/handwritten_zip"), |b| {
        b.iter(|| {
            for (((p, g), m), v) in params.values.iter_mut().zip(&params.grads).zip(&mut m).zip(&mut v) {
                ndarray::Zip::from(p).and(g).and(m).and(v).for_each(|p, &g, m, v| {
                    *m += w1 * (g - *m);
                    *v = *v * b2 + (1.0 - b2) * g * g;
                    *p += neg_step * *m / (v.sqrt() / bc2_sqrt + eps);
                });
            }
            black_box(&mut params);
        })
    });
    g.finish();
}

fn adam_step(c: &mut Criterion) {
    bench_layout(c, "w4", "1x10M", &[&[10_000_000]]);
    let hundred: Vec<&[usize]> = vec![&[100_000]; 100];
    bench_layout(c, "w4", "100x100k", &hundred);
    bench_layout(c, "w4s", "w1_params", &[&[784, 256], &[256], &[256, 256], &[256], &[256, 10], &[10]]);
    bench_layout(c, "w4s", "w2b_params", W2B_SHAPES);
}

fn bench_other(c: &mut Criterion, name: &str, mut opt: impl Optimizer<f32>) {
    let mut params = Params::new(W2B_SHAPES);
    opt.step(&mut params).expect("step");
    let mut g = c.benchmark_group("w4s_others");
    g.sample_size(10);
    g.bench_function(format!("w2b_params/{name}"), |b| {
        b.iter(|| opt.step(black_box(&mut params)).expect("step"))
    });
    g.finish();
}

fn other_optimizers(c: &mut Criterion) {
    bench_other(c, "sgd_momentum", Sgd::builder().lr(1e-2).momentum(0.9).build().expect("valid"));
    bench_other(c, "rmsprop", RmsProp::default());
    bench_other(c, "adagrad", Adagrad::default());
    bench_other(c, "nadam", NAdam::default());
    bench_other(c, "adamw_amsgrad", AdamW::builder().amsgrad(true).build().expect("valid"));
}

/// One W2b-like training step on a fixed batch (WORKLOADS.md W2b shapes; the data are
/// the generator's normals, which timing does not depend on).
fn w2b_step(c: &mut Criterion) {
    let x = ArrayD::from_shape_vec(IxDyn(&[16, 64]), common::normals_f32(3, 16 * 64)).expect("shape");
    let y = ArrayD::from_shape_fn(IxDyn(&[16]), |i| i[0] % 10);
    let mut model =
        Sequential::<f32>::mlp(&[64, 128, 10], Activation::Relu, &mut ndtrain::seeded_rng(0)).expect("sizes");
    let loss = CrossEntropyLoss::<f32>::default();
    let mut grad = ArrayD::<f32>::zeros(IxDyn(&[16, 10]));
    let fwd_bwd = |model: &mut Sequential<f32>, grad: &mut ArrayD<f32>| {
        let out = model.forward(x.view(), Mode::Train).expect("forward");
        let l = loss.loss_and_grad(out.view(), y.view(), grad.view_mut()).expect("loss");
        model.backward(grad.view()).expect("backward");
        l
    };
    let mut opt = Adam::<f32>::builder().lr(1e-3).build().expect("valid Adam");
    for _ in 0..3 {
        fwd_bwd(&mut model, &mut grad);
        opt.step(&mut model).expect("step");
    }
    let mut g = c.benchmark_group("w2b_step");
    g.sample_size(20);
    g.bench_function("forward_backward", |b| b.iter(|| black_box(fwd_bwd(&mut model, &mut grad))));
    g.bench_function("forward_backward_adam", |b| {
        b.iter(|| {
            black_box(fwd_bwd(&mut model, &mut grad));
            opt.step(&mut model).expect("step")
        })
    });
    g.finish();
}

criterion_group!(benches, adam_step, other_optimizers, w2b_step);
criterion_main!(benches);
