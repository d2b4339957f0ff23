//! Steady-state forward + backward of the normalization layers, the embedding and the
//! activations allocates nothing in ndtrain's code once the largest batch has been
//! seen (the counting allocator of `common/alloc.rs`; none of these layers runs a
//! matrix product, so not even GEMM packing buffers are expected).

use ndarray::{ArrayD, Dimension, IxDyn};
use ndtrain::model::{
    BatchNorm1d, BatchNorm2d, Celu, Elu, Embedding, GroupNorm, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid,
    LogSoftmax, Mish, Relu6, Selu, Silu, Softmax, Softplus, Softsign,
};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

fn data(shape: &[usize], seed: usize) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let k = i.slice().iter().fold(seed, |a, &v| a * 31 + v);
        (k % 17) as f32 / 4.0 - 2.0
    })
}

/// Asserts that a training step (forward, `backward`, `backward_input`) and an
/// evaluation forward allocate nothing, for a full batch, the last smaller one, and a
/// non-contiguous (transposed-batch) input.
fn assert_steady<L: Layer<f32>>(what: &str, layer: &mut L, full: &[usize]) {
    let mut small = full.to_vec();
    small[0] = 3;
    let (x_full, x_small) = (data(full, 1), data(&small, 2));
    // The same values with the first two axes swapped in memory: a non-standard layout.
    let mut swapped = full.to_vec();
    swapped.swap(0, 1);
    let x_perm = data(&swapped, 3);
    let x_perm = x_perm
        .view()
        .permuted_axes(std::iter::once(1).chain(std::iter::once(0)).chain(2..full.len()).collect::<Vec<_>>());
    // Warm-up at the largest batch, with every path (standard and permuted input).
    let g_full = data(full, 4);
    layer.forward(x_full.view(), Mode::Train).unwrap();
    layer.backward_input(g_full.view()).unwrap();
    layer.forward(x_perm.view(), Mode::Train).unwrap();
    let g_perm = g_full.view().reversed_axes().as_standard_layout().into_owned();
    layer.backward_input(g_perm.view().reversed_axes()).unwrap();
    for _ in 0..2 {
        for x in [&x_full, &x_small] {
            let g = data(x.shape(), 5);
            let (c, r) = alloc::count(|| -> ndtrain::Result<()> {
                layer.forward(x.view(), Mode::Train)?;
                layer.backward(g.view())?;
                layer.forward(x.view(), Mode::Train)?;
                layer.backward_input(g.view())?;
                layer.forward(x.view(), Mode::Eval)?;
                layer.forward(x.view(), Mode::EvalGrad)?;
                layer.backward_input(g.view()).map(|_| ())
            });
            r.unwrap();
            assert_eq!(c.total(), 0, "{what}, batch {}: {c:?}", x.shape()[0]);
            assert_eq!(c.live_bytes, 0);
        }
        let (c, r) = alloc::count(|| -> ndtrain::Result<()> {
            layer.forward(x_perm.view(), Mode::Train)?;
            layer.backward_input(g_perm.view().reversed_axes()).map(|_| ())
        });
        r.unwrap();
        assert_eq!(c.total(), 0, "{what}, non-contiguous input and gradient: {c:?}");
    }
}

/// The only test in this binary, so no other test thread allocates concurrently
/// (counting is per thread anyway).
#[test]
fn steady_state_allocates_nothing() {
    assert_steady("BatchNorm1d [N, C]", &mut BatchNorm1d::<f32>::new(8).unwrap(), &[16, 8]);
    assert_steady("BatchNorm1d [N, C, L]", &mut BatchNorm1d::<f32>::new(4).unwrap(), &[16, 4, 6]);
    let mut cumulative = BatchNorm2d::<f32>::builder(3).momentum(None).build().unwrap();
    assert_steady("BatchNorm2d", &mut cumulative, &[16, 3, 4, 4]);
    let mut no_stats =
        BatchNorm2d::<f32>::builder(3).affine(false).track_running_stats(false).build().unwrap();
    assert_steady("BatchNorm2d no stats", &mut no_stats, &[16, 3, 4, 4]);
    assert_steady("GroupNorm", &mut GroupNorm::<f32>::new(2, 4).unwrap(), &[16, 4, 3, 3]);
    assert_steady("GroupNorm [N, C]", &mut GroupNorm::<f32>::new(1, 6).unwrap(), &[16, 6]);
    assert_steady("Softmax(-1)", &mut Softmax::<f32>::new(-1), &[16, 10]);
    assert_steady("Softmax(1)", &mut Softmax::<f32>::new(1), &[16, 5, 4]);
    assert_steady("LogSoftmax(1)", &mut LogSoftmax::<f32>::new(1), &[16, 5, 4]);
    assert_steady("Elu", &mut Elu::<f32>::default(), &[16, 7]);
    assert_steady("Selu", &mut Selu::<f32>::new(), &[16, 7]);
    assert_steady("Celu", &mut Celu::<f32>::default(), &[16, 7]);
    assert_steady("Silu", &mut Silu::<f32>::new(), &[16, 7]);
    assert_steady("Mish", &mut Mish::<f32>::new(), &[16, 7]);
    assert_steady("Softplus", &mut Softplus::<f32>::default(), &[16, 7]);
    assert_steady("LogSigmoid", &mut LogSigmoid::<f32>::new(), &[16, 7]);
    assert_steady("Softsign", &mut Softsign::<f32>::new(), &[16, 7]);
    assert_steady("Hardtanh", &mut Hardtanh::<f32>::default(), &[16, 7]);
    assert_steady("Relu6", &mut Relu6::<f32>::new(), &[16, 7]);
    assert_steady("Hardsigmoid", &mut Hardsigmoid::<f32>::new(), &[16, 7]);
    assert_steady("Hardswish", &mut Hardswish::<f32>::new(), &[16, 7]);

    // Embedding: integer ids in.
    let mut rng = ndtrain::seeded_rng(0);
    for scale in [false, true] {
        let mut emb = Embedding::<f32>::builder(50, 8)
            .padding_idx(0)
            .scale_grad_by_freq(scale)
            .build(&mut rng)
            .unwrap();
        let ids = |n: usize| ArrayD::from_shape_fn(IxDyn(&[n, 12]), |i| (i[0] * 7 + i[1] * 3) % 50);
        let (full, small) = (ids(16), ids(3));
        let (g_full, g_small) = (data(&[16, 12, 8], 6), data(&[3, 12, 8], 7));
        emb.forward(full.view(), Mode::Train).unwrap();
        emb.backward(g_full.view()).unwrap();
        for (x, g) in [(&full, &g_full), (&small, &g_small), (&full, &g_full)] {
            let (c, r) = alloc::count(|| -> ndtrain::Result<()> {
                emb.forward(x.view(), Mode::Train)?;
                emb.backward(g.view())?;
                emb.forward(x.t(), Mode::Eval).map(|_| ())
            });
            r.unwrap();
            assert_eq!(c.total(), 0, "Embedding scale_grad_by_freq={scale}, batch {}: {c:?}", x.shape()[0]);
        }
    }

    // A network: Linear (GEMM packing only), BatchNorm, activations.
    let mut net = Sequential::<f32>::new()
        .layer(Linear::new(8, 16, &mut rng).unwrap())
        .layer(BatchNorm1d::new(16).unwrap())
        .layer(Mish::new())
        .layer(Linear::new(16, 4, &mut rng).unwrap())
        .layer(LogSoftmax::new(-1));
    let (x, g) = (data(&[16, 8], 8), data(&[16, 4], 9));
    net.forward(x.view(), Mode::Train).unwrap();
    net.backward(g.view()).unwrap();
    let (c, r) = alloc::count(|| -> ndtrain::Result<()> {
        net.forward(x.view(), Mode::Train)?;
        net.backward(g.view())
    });
    r.unwrap();
    assert_eq!(c.ordinary, 0, "network: {c:?}");
    assert!(c.gemm_packing <= 5, "network: {c:?}");
}
