//! W5 of `shared/bench/WORKLOADS.md`: `StandardScaler` fit + transform on 1,000,000 x 32
//! f64 (`X[:, j] = z[:, j]·(j+1) + j`, z = the portable normals with seed 5).
//!
//! * `w5/fit_transform`: fit, then transform into a freshly allocated 256 MB array (what
//!   scikit-learn's `fit_transform` does; glibc's default allocator, so the new array is
//!   mmap'd and faulted in on first touch);
//! * `w5/fit+transform_into`: fit, then transform into a reused output array;
//! * `w5/fit` and `w5/transform_into` alone.
//!
//! Throughput counts 3 × 256 MB (read for fit, read + write for transform), as
//! WORKLOADS.md. One thread. Run briefly on the shared machine:
//! `cargo bench --bench standard_scaler -- --warm-up-time 1 --measurement-time 5`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::normal;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use ndtrain::preprocessing::{Preprocessor, StandardScaler};

const ROWS: usize = 1_000_000;
const COLS: usize = 32;

/// W5's data: z = normals(seed 5) reshaped (1e6, 32) in C order, `X[:, j] = z·(j+1) + j`.
fn w5_data() -> Array2<f64> {
    Array2::from_shape_fn((ROWS, COLS), |(i, j)| normal(5, (i * COLS + j) as u64) * (j + 1) as f64 + j as f64)
}

/// WORKLOADS.md's check values of W1 (seed 1, f32): the generator is bit-compatible.
fn check_generator() {
    let want = [-0.034_267_32f32, -1.292_608_5, -2.500_067_5, 0.911_466_6];
    for (k, &w) in want.iter().enumerate() {
        let got = normal(1, k as u64) as f32;
        assert_eq!(got, w, "generator check value x[{k}]");
    }
}

fn bench(c: &mut Criterion) {
    check_generator();
    let x = w5_data();
    let mut out = Array2::<f64>::zeros((ROWS, COLS));
    let mut g = c.benchmark_group("w5");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((3 * ROWS * COLS * 8) as u64));
    g.bench_function("fit_transform", |b| {
        b.iter(|| {
            let mut s = StandardScaler::<f64>::new();
            black_box(s.fit_transform(black_box(x.view())).expect("fit_transform"))
        })
    });
    g.bench_function("fit+transform_into", |b| {
        b.iter(|| {
            let mut s = StandardScaler::<f64>::new();
            s.fit(black_box(x.view())).expect("fit");
            s.transform_into(x.view(), out.view_mut()).expect("transform_into");
            black_box(&out);
        })
    });
    g.throughput(Throughput::Bytes((ROWS * COLS * 8) as u64));
    g.bench_function("fit", |b| {
        b.iter(|| {
            let mut s = StandardScaler::<f64>::new();
            s.fit(black_box(x.view())).expect("fit");
            black_box(s)
        })
    });
    let mut s = StandardScaler::<f64>::new();
    s.fit(x.view()).expect("fit");
    g.throughput(Throughput::Bytes((2 * ROWS * COLS * 8) as u64));
    g.bench_function("transform_into", |b| {
        b.iter(|| {
            s.transform_into(black_box(x.view()), out.view_mut()).expect("transform_into");
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
