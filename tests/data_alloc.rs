//! `gather_rows_into` (and batch iteration) allocate nothing once the buffer has the
//! capacity: a counting global allocator, counting per thread so that other tests
//! running in parallel do not interfere.

use ndarray::{Array1, Array2, Array4, s};
use ndtrain::Buffer;
use ndtrain::data::{batch_indices, gather_rows_into, permutation, shuffle_indices};

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

use alloc::allocs;

#[test]
fn epoch_loop_allocates_nothing_after_warm_up() {
    let x = Array2::from_shape_fn((103, 7), |(i, j)| (i * 7 + j) as f64);
    let y = Array1::from_shape_fn(103, |i| i % 3);
    let (xv, yv) = (x.view().into_dyn(), y.view().into_dyn());
    let mut rng = ndtrain::seeded_rng(1);
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    let (mut xb, mut yb) = (Buffer::<f64>::new(), Buffer::<usize>::new());

    // Warm-up: the first full batch sizes the buffers.
    gather_rows_into(xv.view(), &order[..16], &mut xb).unwrap();
    gather_rows_into(yv.view(), &order[..16], &mut yb).unwrap();

    let before = allocs();
    let mut checksum = 0.0;
    for _epoch in 0..3 {
        order.clear();
        order.extend(0..x.nrows());
        shuffle_indices(&mut order, &mut rng);
        for rows in batch_indices(&order, 16).unwrap() {
            gather_rows_into(xv.view(), rows, &mut xb).unwrap();
            gather_rows_into(yv.view(), rows, &mut yb).unwrap();
            checksum += xb.view()[[0, 0]] + yb.view()[0] as f64;
        }
    }
    let after = allocs();
    assert_eq!(after - before, 0, "allocations in the steady-state epoch loop");
    assert!(checksum > 0.0);
    // The last batch (103 = 6 * 16 + 7) is partial.
    assert_eq!(xb.view().shape(), &[7, 7]);
}

#[test]
fn gather_is_allocation_free_for_4d_and_strided_inputs() {
    let images = Array4::from_shape_fn((40, 1, 8, 8), |(i, _, r, c)| (i * 64 + r * 8 + c) as f32);
    let order = permutation(40, &mut ndtrain::seeded_rng(2));
    let mut b = Buffer::<f32>::new();
    gather_rows_into(images.view().into_dyn(), &order[..10], &mut b).unwrap();
    let strided = images.slice(s![.., .., .., ..;2]).into_dyn();
    let mut bs = Buffer::<f32>::new();
    gather_rows_into(strided.view(), &order[..10], &mut bs).unwrap();

    let before = allocs();
    for rows in order.chunks(10) {
        gather_rows_into(images.view().into_dyn(), rows, &mut b).unwrap();
        gather_rows_into(strided.view(), rows, &mut bs).unwrap();
    }
    assert_eq!(allocs() - before, 0);
    assert_eq!(bs.view().shape(), &[10, 1, 8, 4]);
    let r = order[39];
    assert_eq!(bs.view()[[9, 0, 7, 3]], (r * 64 + 7 * 8 + 6) as f32);
}

#[test]
fn counter_sees_allocations() {
    // Guards against a counter that never counts (which would pass the tests above).
    let before = allocs();
    let v: Vec<u64> = std::hint::black_box(vec![1, 2, 3]);
    assert!(allocs() > before);
    assert_eq!(v.len(), 3);
}
