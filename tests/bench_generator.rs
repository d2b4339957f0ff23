//! The benchmarks' portable data generator reproduces the check values published in
//! `shared/bench/WORKLOADS.md`, so ndtrain's benchmarks run on exactly the peers' data.

#[path = "../benches/common/mod.rs"]
mod common;

#[test]
fn permutation_check_value() {
    assert_eq!(common::permutation(10, 1000), vec![3, 8, 1, 0, 5, 4, 9, 6, 7, 2]);
}

#[test]
fn w1_check_values() {
    let (x, y) = common::w1_data(60000);
    let first: Vec<f32> = x.iter().take(4).copied().collect();
    assert_eq!(first, vec![-0.03426732f32, -1.2926085, -2.5000675, 0.9114666]);
    let sum: f64 = x.iter().map(|&v| f64::from(v)).sum();
    assert!((sum - -7385.488079).abs() < 1e-5, "sum {sum}");
    let checksum = x
        .iter()
        .enumerate()
        .fold(0u64, |acc, (k, v)| acc.wrapping_add(u64::from(v.to_bits()).wrapping_mul(k as u64 + 1)));
    assert_eq!(checksum, 8338009035357976775);
    assert_eq!(y.sum(), 273513);
    let mut counts = [0usize; 10];
    for &c in &y {
        counts[c] += 1;
    }
    assert_eq!(counts, [5593, 5866, 6185, 6216, 5703, 6084, 5776, 5968, 6516, 6093]);
}

/// W6 and W7 data as the PyTorch script `benches/peers/torch_layers.py` generates them
/// (values printed by that script's `w6_data()` / `w7_tokens()`).
#[test]
fn w6_w7_match_the_python_generator() {
    let (x, y) = common::w6_data(10_000);
    assert_eq!(x.shape(), &[10_000, 1, 28, 28]);
    assert_eq!(y.sum(), 45745);
    let mut counts = [0usize; 10];
    for &c in &y {
        counts[c] += 1;
    }
    assert_eq!(counts, [922, 979, 1049, 1002, 951, 1029, 928, 1001, 1113, 1026]);
    let t = common::w7_tokens(200_000);
    assert_eq!(&t[..8], &[7, 44, 39, 4, 13, 40, 8, 56]);
    assert_eq!(t.iter().sum::<usize>(), 6_296_108);
    let (xb, yb) = common::w7_batch(&t, 1);
    assert_eq!(xb[[0, 1]], t[32 * 64 + 1]);
    assert_eq!(yb[[0, 0]], xb[[0, 1]]);
}
