//! `loss_and_grad` of the losses the Trainer runs every batch allocates nothing:
//! `CrossEntropyLoss` (class indices and probabilities), `MseLoss` and
//! `BceWithLogitsLoss`, with and without weights, on `[N, C]` / `[N, 1]` / `[N]` inputs.
//!
//! A counting global allocator counts the allocations made by the current thread while
//! counting is switched on (thread-local, so other test threads do not interfere).

use ndarray::{Array1, ArrayD, IxDyn};
use ndtrain::Float;
use ndtrain::loss::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

use alloc::allocations;

fn filled<F: Float>(shape: &[usize], k: usize) -> ArrayD<F> {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| F::lit(((i * 7 + k) % 13) as f64 / 13.0 - 0.4)).collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

/// `loss_and_grad` into a preallocated buffer allocates nothing; checks the value too,
/// so that the call is not a no-op.
fn assert_no_alloc<F: Float, Y>(name: &str, loss: &dyn Loss<F, Y>, x: &ArrayD<F>, t: &ArrayD<Y>) {
    let mut grad = ArrayD::<F>::zeros(x.raw_dim());
    let mut value = F::nan();
    let n = allocations(|| value = loss.loss_and_grad(x.view(), t.view(), grad.view_mut()).unwrap());
    assert_eq!(n, 0, "{name}: loss_and_grad allocated {n} times");
    assert!(value.is_finite(), "{name}: value {value}");
}

fn check<F: Float>()
where
    BceWithLogitsLoss<F>: Loss<F, usize>,
    CrossEntropyLoss<F>: Loss<F, F>,
{
    let (n, c) = (32, 5);
    let logits = filled::<F>(&[n, c], 1);
    let classes = ArrayD::from_shape_fn(IxDyn(&[n]), |i| (i[0] * 3) % c);
    let probs = filled::<F>(&[n, c], 2).mapv(|p| p.abs());
    let class_weight = Array1::from_shape_fn(c, |i| F::lit(0.5 + i as f64));
    let ce_plain = CrossEntropyLoss::<F>::default();
    let ce_full = CrossEntropyLoss::builder()
        .weight(class_weight)
        .label_smoothing(0.1)
        .ignore_index(usize::MAX)
        .reduction(Reduction::Sum)
        .build()
        .unwrap();
    for (name, ce) in [("CrossEntropyLoss", &ce_plain), ("CrossEntropyLoss weighted", &ce_full)] {
        assert_no_alloc::<F, usize>(name, ce, &logits, &classes);
        assert_no_alloc::<F, F>(name, ce, &logits, &probs);
    }

    let column = filled::<F>(&[n, 1], 3);
    let flat = filled::<F>(&[n], 4);
    let labels = ArrayD::from_shape_fn(IxDyn(&[n]), |i| i[0] % 2);
    let mse_weighted = MseLoss::builder().weight(filled::<F>(&[n, 1], 5).mapv(|w| w.abs())).build().unwrap();
    assert_no_alloc("MseLoss", &MseLoss::<F>::default(), &column, &flat);
    assert_no_alloc("MseLoss", &MseLoss::<F>::default(), &logits, &probs);
    assert_no_alloc("MseLoss weighted", &mse_weighted, &column, &flat);

    let bce_weighted = BceWithLogitsLoss::builder()
        .weight(filled::<F>(&[n, 1], 6).mapv(|w| w.abs()))
        .pos_weight(Array1::from_elem(1, F::lit(3.0)))
        .build()
        .unwrap();
    for (name, bce) in [
        ("BceWithLogitsLoss", &BceWithLogitsLoss::<F>::default()),
        ("BceWithLogitsLoss weighted", &bce_weighted),
    ] {
        assert_no_alloc::<F, usize>(name, bce, &column, &labels);
        assert_no_alloc::<F, F>(name, bce, &column, &flat.mapv(|y| y.abs()));
    }
}

#[test]
fn per_batch_losses_allocate_nothing_f64() {
    check::<f64>();
}

#[test]
fn per_batch_losses_allocate_nothing_f32() {
    check::<f32>();
}

#[test]
fn the_counter_sees_allocations() {
    // Guards against a counter that never counts (which would pass the tests above):
    // `forward` allocates its output.
    let logits = filled::<f32>(&[4, 3], 1);
    let classes = ArrayD::from_shape_fn(IxDyn(&[4]), |i| i[0] % 3);
    let ce = CrossEntropyLoss::<f32>::default();
    assert!(allocations(|| drop(ce.forward(logits.view(), classes.view()).unwrap())) > 0);
}
