//! Finite-difference checks (f64) of the convolution and pooling layers: parameter
//! gradients (`gradcheck`) and input gradients (`gradcheck_input`) for every option,
//! on shapes drawn from a seeded generator.

use ndarray::{ArrayD, IxDyn};
use ndtrain::model::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d, Padding,
};
use ndtrain::prelude::*;
use rand::Rng;

const TOL: f64 = 1e-6;

/// Uniform values in `[-2, 2]` with `|v| >= 0.1`.
fn input(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ndtrain::seeded_rng(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mag = 0.1 + 1.9 * u;
        if rng.next_u64() & 1 == 0 { mag } else { -mag }
    })
}

/// A random permutation of `0..n`, scaled to `[-1, 1)`: values at least `2/n` apart, so
/// a finite-difference step never changes which element of a window is the maximum.
fn distinct(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let mut rng = ndtrain::seeded_rng(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(|k| 2.0 * k as f64 / n as f64 - 1.0).collect())
        .expect("shape")
}

/// A size in `lo..=hi` from `rng`.
fn pick(rng: &mut ndtrain::SeededRng, lo: usize, hi: usize) -> usize {
    lo + (rng.next_u64() % (hi - lo + 1) as u64) as usize
}

/// Checks every parameter element and every input element; returns the worst relative
/// error.
fn check<L: Layer<f64>>(what: &str, layer: &mut L, x: &ArrayD<f64>) -> f64 {
    let opts = GradcheckOptions::default();
    let params = gradcheck(layer, x.view(), &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    let inputs = gradcheck_input(layer, x.view(), &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    for report in [&params, &inputs] {
        assert!(report.passed(TOL), "{what} {:?}:\n{report}", x.shape());
        for t in &report.tensors {
            assert_eq!(t.checked, t.shape.iter().product::<usize>(), "{what}: {}", t.name);
        }
    }
    assert_eq!(inputs.tensors[0].shape, x.shape());
    params.max_rel_error().max(inputs.max_rel_error())
}

#[test]
fn conv2d_every_option() {
    let mut rng = ndtrain::seeded_rng(20);
    type Cfg = (usize, usize, (usize, usize), (usize, usize), Padding<2>, (usize, usize), usize, bool);
    let configs: [(&str, Cfg); 9] = [
        ("default", (2, 3, (3, 3), (1, 1), Padding::Explicit([0, 0]), (1, 1), 1, true)),
        ("stride", (2, 3, (3, 2), (2, 3), Padding::Explicit([0, 0]), (1, 1), 1, true)),
        ("padding", (1, 2, (3, 3), (1, 1), Padding::Explicit([1, 2]), (1, 1), 1, false)),
        ("dilation", (2, 2, (2, 3), (1, 1), Padding::Explicit([1, 1]), (2, 2), 1, true)),
        ("groups", (4, 6, (3, 3), (2, 1), Padding::Explicit([1, 0]), (1, 1), 2, true)),
        ("depthwise", (3, 3, (3, 3), (1, 1), Padding::Same, (1, 1), 3, true)),
        ("same, even kernel", (2, 2, (4, 2), (1, 1), Padding::Same, (1, 3), 1, true)),
        ("pointwise", (3, 4, (1, 1), (1, 1), Padding::Valid, (1, 1), 1, true)),
        ("strided 1x1, padded", (4, 2, (1, 1), (2, 2), Padding::Explicit([1, 1]), (1, 1), 2, false)),
    ];
    let mut worst = 0f64;
    for (k, (what, (ci, co, ks, st, pad, dil, groups, bias))) in configs.into_iter().enumerate() {
        let mut conv = Conv2d::<f64>::builder(ci, co, ks)
            .stride(st)
            .padding(pad)
            .dilation(dil)
            .groups(groups)
            .bias(bias)
            .build(&mut rng)
            .unwrap();
        let shape = [pick(&mut rng, 1, 2), ci, pick(&mut rng, 5, 8), pick(&mut rng, 5, 8)];
        worst = worst.max(check(&format!("Conv2d {what}"), &mut conv, &input(&shape, 100 + k as u64)));
    }
    // 256 output positions and more: the weight gradient runs as dot products.
    let mut conv = Conv2d::<f64>::builder(2, 3, 3).padding(1).build(&mut rng).unwrap();
    worst = worst.max(check("Conv2d 16x16", &mut conv, &input(&[2, 2, 16, 16], 150)));
    eprintln!("Conv2d worst relative error {worst:.2e}");
}

#[test]
fn conv1d_every_option() {
    let mut rng = ndtrain::seeded_rng(21);
    type Cfg = (usize, usize, usize, usize, Padding<1>, usize, usize, bool);
    let configs: [(&str, Cfg); 6] = [
        ("default", (2, 3, 3, 1, Padding::Explicit([0]), 1, 1, true)),
        ("stride, padding", (2, 4, 3, 2, Padding::Explicit([1]), 1, 1, false)),
        ("dilation, groups", (4, 4, 2, 1, Padding::Explicit([2]), 2, 2, true)),
        ("same", (3, 3, 3, 1, Padding::Same, 1, 3, true)),
        ("same, even kernel", (2, 1, 4, 1, Padding::Same, 2, 1, true)),
        ("pointwise", (3, 2, 1, 1, Padding::Valid, 1, 1, true)),
    ];
    let mut worst = 0f64;
    for (k, (what, (ci, co, ks, st, pad, dil, groups, bias))) in configs.into_iter().enumerate() {
        let mut conv = Conv1d::<f64>::builder(ci, co, ks)
            .stride(st)
            .padding(pad)
            .dilation(dil)
            .groups(groups)
            .bias(bias)
            .build(&mut rng)
            .unwrap();
        let shape = [pick(&mut rng, 1, 3), ci, pick(&mut rng, 7, 12)];
        worst = worst.max(check(&format!("Conv1d {what}"), &mut conv, &input(&shape, 200 + k as u64)));
    }
    eprintln!("Conv1d worst relative error {worst:.2e}");
}

#[test]
fn max_pools_every_option() {
    let mut rng = ndtrain::seeded_rng(22);
    // (kernel, stride, padding, dilation, ceil_mode)
    type Cfg = ((usize, usize), (usize, usize), (usize, usize), (usize, usize), bool);
    let configs: [Cfg; 6] = [
        ((2, 2), (2, 2), (0, 0), (1, 1), false), // the 2×2 fast path
        ((2, 2), (2, 2), (0, 0), (1, 1), true),  // ceil mode: partial windows on odd sizes
        ((3, 3), (1, 1), (1, 1), (1, 1), false),
        ((3, 2), (2, 1), (1, 1), (1, 1), true),
        ((2, 3), (1, 2), (1, 1), (2, 1), false),
        ((3, 3), (2, 2), (0, 1), (1, 1), true),
    ];
    let mut worst = 0f64;
    for (k, (ks, st, pad, dil, ceil)) in configs.into_iter().enumerate() {
        let mut pool = MaxPool2d::<f64>::builder(ks)
            .stride(st)
            .padding(pad)
            .dilation(dil)
            .ceil_mode(ceil)
            .build()
            .unwrap();
        let shape = [pick(&mut rng, 1, 2), pick(&mut rng, 1, 3), pick(&mut rng, 5, 9), pick(&mut rng, 5, 9)];
        worst = worst.max(check(&format!("MaxPool2d {k}"), &mut pool, &distinct(&shape, 300 + k as u64)));
    }
    for (k, (ks, st, pad, dil, ceil)) in
        [(2, 2, 0, 1, false), (3, 2, 1, 1, true), (2, 1, 1, 2, false)].into_iter().enumerate()
    {
        let mut pool = MaxPool1d::<f64>::builder(ks)
            .stride(st)
            .padding(pad)
            .dilation(dil)
            .ceil_mode(ceil)
            .build()
            .unwrap();
        let shape = [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3), pick(&mut rng, 6, 11)];
        worst = worst.max(check(&format!("MaxPool1d {k}"), &mut pool, &distinct(&shape, 350 + k as u64)));
    }
    eprintln!("MaxPool worst relative error {worst:.2e}");
}

#[test]
fn avg_pools_every_option() {
    let mut rng = ndtrain::seeded_rng(23);
    let mut worst = 0f64;
    let builders = [
        AvgPool2d::<f64>::builder(2),
        AvgPool2d::<f64>::builder(3).stride(1).padding(1),
        AvgPool2d::<f64>::builder(3).stride(1).padding(1).count_include_pad(false),
        AvgPool2d::<f64>::builder((3, 2)).stride((2, 1)).padding((1, 1)).ceil_mode(true),
        AvgPool2d::<f64>::builder(3).stride(2).padding(1).ceil_mode(true).count_include_pad(false),
        AvgPool2d::<f64>::builder(2).stride(1).divisor_override(3),
    ];
    for (k, b) in builders.into_iter().enumerate() {
        let mut pool = b.build().unwrap();
        let shape = [pick(&mut rng, 1, 2), pick(&mut rng, 1, 3), pick(&mut rng, 4, 8), pick(&mut rng, 4, 8)];
        worst = worst.max(check(&format!("AvgPool2d {k}"), &mut pool, &input(&shape, 400 + k as u64)));
    }
    for (k, b) in [
        AvgPool1d::<f64>::builder(2),
        AvgPool1d::<f64>::builder(3).stride(1).padding(1).count_include_pad(false),
        AvgPool1d::<f64>::builder(3).stride(2).padding(1).ceil_mode(true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut pool = b.build().unwrap();
        let shape = [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3), pick(&mut rng, 5, 10)];
        worst = worst.max(check(&format!("AvgPool1d {k}"), &mut pool, &input(&shape, 450 + k as u64)));
    }
    eprintln!("AvgPool worst relative error {worst:.2e}");
}

#[test]
fn adaptive_avg_pools() {
    let mut rng = ndtrain::seeded_rng(24);
    let mut worst = 0f64;
    for (k, size) in [(1, 1), (2, 3), (4, 4), (9, 2)].into_iter().enumerate() {
        let mut pool = AdaptiveAvgPool2d::<f64>::new(size).unwrap();
        let shape = [pick(&mut rng, 1, 2), pick(&mut rng, 1, 3), pick(&mut rng, 3, 8), pick(&mut rng, 3, 8)];
        worst = worst.max(check(
            &format!("AdaptiveAvgPool2d {size:?}"),
            &mut pool,
            &input(&shape, 500 + k as u64),
        ));
    }
    for (k, size) in [1, 3, 11].into_iter().enumerate() {
        let mut pool = AdaptiveAvgPool1d::<f64>::new(size).unwrap();
        let shape = [pick(&mut rng, 1, 3), pick(&mut rng, 1, 3), pick(&mut rng, 4, 9)];
        worst =
            worst.max(check(&format!("AdaptiveAvgPool1d {size}"), &mut pool, &input(&shape, 550 + k as u64)));
    }
    eprintln!("AdaptiveAvgPool worst relative error {worst:.2e}");
}

/// A small CNN end to end: the parameter gradients through conv → tanh → max pool →
/// conv → average pool → flatten → linear, and the input gradient.
#[test]
fn small_cnn() {
    let mut rng = ndtrain::seeded_rng(25);
    let mut net = Sequential::<f64>::new()
        .layer(Conv2d::builder(1, 3, 3).padding(1).build(&mut rng).unwrap())
        .layer(Tanh::new())
        .layer(MaxPool2d::new(2).unwrap())
        .layer(Conv2d::builder(3, 4, 2).groups(1).build(&mut rng).unwrap())
        .layer(AvgPool2d::new(2).unwrap())
        .layer(Flatten::new())
        .layer(Linear::new(4, 2, &mut rng).unwrap());
    let x = distinct(&[2, 1, 6, 6], 600);
    let worst = check("small CNN", &mut net, &x);
    eprintln!("small CNN worst relative error {worst:.2e}");
}
