//! The portable data generator of `shared/bench/WORKLOADS.md` (bit-identical with the
//! peers' Python version), and the workloads' datasets built from it.
//!
//! Shared by the benchmarks (`mod common;`) and by `tests/bench_generator.rs`, which
//! checks it against the check values WORKLOADS.md publishes.

#![allow(dead_code)]

use ndarray::{Array1, Array2};

/// Output `i` of the splitmix64 stream for `seed`.
#[inline]
pub fn splitmix64(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add((i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform `u_i` in [0, 1).
#[inline]
pub fn uniform(seed: u64, i: u64) -> f64 {
    (splitmix64(seed, i) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Standard normal at flat row-major index `k` (Box–Muller pairs).
#[inline]
pub fn normal(seed: u64, k: u64) -> f64 {
    let p = k / 2;
    let (u1, u2) = (uniform(seed, 2 * p), uniform(seed, 2 * p + 1));
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    let t = 2.0 * std::f64::consts::PI * u2;
    if k % 2 == 0 { r * t.cos() } else { r * t.sin() }
}

/// `n` normals from `seed` as f64.
pub fn normals_f64(seed: u64, n: usize) -> Vec<f64> {
    (0..n as u64).map(|k| normal(seed, k)).collect()
}

/// `n` normals from `seed`, rounded to f32.
pub fn normals_f32(seed: u64, n: usize) -> Vec<f32> {
    (0..n as u64).map(|k| normal(seed, k) as f32).collect()
}

/// The workloads' permutation of `0..n`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for (c, i) in (1..n).rev().enumerate() {
        let j = ((uniform(seed, c as u64) * (i + 1) as f64).floor() as usize).min(i);
        p.swap(i, j);
    }
    p
}

/// W1's data: `X` (n × 784 f32 normals, seed 1) and teacher labels
/// `y = argmax_j sum_k X[i,k] W_t[k,j]` with `W_t` 784 × 10 f64 normals (seed 2).
pub fn w1_data(n: usize) -> (Array2<f32>, Array1<usize>) {
    let (d, c) = (784, 10);
    let x = Array2::from_shape_vec((n, d), normals_f32(1, n * d)).expect("shape");
    let w = Array2::from_shape_vec((d, c), normals_f64(2, d * c)).expect("shape");
    let y = x
        .outer_iter()
        .map(|row| {
            let mut best = (0, f64::NEG_INFINITY);
            for j in 0..c {
                let s: f64 = row.iter().enumerate().map(|(k, &v)| f64::from(v) * w[[k, j]]).sum();
                if s > best.1 {
                    best = (j, s);
                }
            }
            best.0
        })
        .collect();
    (x, y)
}

/// StandardScaler semantics of WORKLOADS.md (population std, zero-variance columns get
/// scale 1), computed in f64, returned as f32.
pub fn standardize_f32(x: &Array2<f64>) -> Array2<f32> {
    let n = x.nrows() as f64;
    let mean = x.sum_axis(ndarray::Axis(0)) / n;
    let var = (x - &mean).mapv(|v| v * v).sum_axis(ndarray::Axis(0)) / n;
    let scale = var.mapv(|v| if v == 0.0 { 1.0 } else { v.sqrt() });
    ((x - &mean) / &scale).mapv(|v| v as f32)
}

/// W6's data: the first `n` rows of W1 as `[n, 1, 28, 28]` images, and their labels.
pub fn w6_data(n: usize) -> (ndarray::Array4<f32>, Array1<usize>) {
    let (x, y) = w1_data(n);
    (x.into_shape_with_order((n, 1, 28, 28)).expect("784 = 28 x 28"), y)
}

/// W7's token stream: `t_i = min(floor(u_i · 64), 63)` from the uniform stream of seed 3.
pub fn w7_tokens(n: usize) -> Vec<usize> {
    (0..n as u64).map(|i| ((uniform(3, i) * 64.0).floor() as usize).min(63)).collect()
}

/// W7's batch `k`: sequence `j` starts at `((32 k + j) · 64) mod (NT − 65)`; inputs are
/// 64 tokens from there, targets the same shifted by one.
pub fn w7_batch(tokens: &[usize], k: usize) -> (Array2<usize>, Array2<usize>) {
    let nt = tokens.len();
    let start = |j: usize| ((32 * k + j) * 64) % (nt - 65);
    let x = Array2::from_shape_fn((32, 64), |(j, t)| tokens[start(j) + t]);
    let y = Array2::from_shape_fn((32, 64), |(j, t)| tokens[start(j) + t + 1]);
    (x, y)
}
