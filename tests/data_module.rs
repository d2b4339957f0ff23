//! Integration tests of the data module through the public API: `ndtrain::datasets`,
//! `ndtrain::data` and the prelude.

use ndarray::{Array1, Array2, Array4, array};
use ndtrain::Buffer;
use ndtrain::data::{
    BatchIndices, Target, batch_indices, gather_rows_into, permutation, shuffle_indices, train_test_split,
    train_val_test_split,
};
use ndtrain::prelude::*;
use proptest::prelude::*;

/// Each class's count in `part` is within one sample of its exact share
/// `count_k * part.len() / n`.
fn assert_stratified(full: &Dataset<f64, usize>, part: &Dataset<f64, usize>) {
    let (n, m) = (full.len() as f64, part.len() as f64);
    let mut got = part.class_counts();
    got.resize(full.num_classes(), 0);
    for (k, (&c, &g)) in full.class_counts().iter().zip(&got).enumerate() {
        let exact = c as f64 * m / n;
        assert!((g as f64 - exact).abs() <= 1.0, "class {k}: {g} vs exact {exact}");
    }
}

#[test]
fn datasets_reachable_from_crate_root() {
    let ds: Dataset<f64, usize> = ndtrain::datasets::digits();
    assert_eq!(ds.x().shape(), &[1797, 64]);
    assert_eq!(ds.class_counts(), vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    let iris = ndtrain::datasets::load_iris();
    assert_eq!(iris.data.class_counts(), vec![50, 50, 50]);
    assert_eq!(ndtrain::datasets::wine().class_counts(), vec![59, 71, 48]);
    assert_eq!(ndtrain::datasets::breast_cancer().class_counts(), vec![212, 357]);
    let d = ndtrain::datasets::diabetes();
    let y = d.y_1d().unwrap();
    // 67243 / 442 = 152.13348416289594 (target sum from diabetes.csv).
    assert!((y.mean().unwrap() - 152.133_484_162_895_94).abs() < 1e-12);
}

#[test]
fn dataset_error_paths() {
    let e = Dataset::new(Array2::<f64>::zeros((5, 2)), Array1::<usize>::zeros(4)).unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { expected: 5, got: 4, .. }));
    let msg = e.to_string();
    assert!(msg.contains("expected 5") && msg.contains("got 4"), "{msg}");
    let e = Dataset::new(Array2::<f32>::zeros((0, 2)), Array1::<f32>::zeros(0)).unwrap_err();
    assert!(matches!(e, Error::EmptyInput { op: "Dataset::new", .. }));
    let ds = ndtrain::datasets::iris();
    assert!(matches!(ds.select(&[0, 150]), Err(Error::InvalidInput { .. })));
    assert!(matches!(ds.select(&[]), Err(Error::EmptyInput { .. })));
}

#[test]
fn nd_features_and_cast() {
    let x = Array4::<f64>::from_shape_fn((6, 1, 2, 2), |(i, _, r, c)| (i * 4 + r * 2 + c) as f64 + 0.1);
    let ds = Dataset::new(x, array![0usize, 1, 2, 0, 1, 2]).unwrap();
    assert_eq!(ds.sample_shape(), &[1, 2, 2]);
    assert_eq!(ds.n_features(), 4);
    assert_eq!(ds.num_classes(), 3);
    let f: Dataset<f32, usize> = ds.cast::<f32>();
    assert_eq!(f.x()[[5, 0, 1, 1]], 23.1f32);
    let (tr, te) = train_test_split(&f, 0.5, 3, true).unwrap();
    assert_eq!((tr.class_counts(), te.class_counts()), (vec![1, 1, 1], vec![1, 1, 1]));
    assert_eq!(tr.sample_shape(), &[1, 2, 2]);
}

#[test]
fn target_trait() {
    assert_eq!(7usize.class_index(), Some(7));
    assert_eq!(1.0f32.class_index(), None);
    assert_eq!(0.1f32.cast_to::<f64>(), f64::from(0.1f32));
}

#[test]
fn batches_and_gather_cover_every_row_once() {
    let ds = ndtrain::datasets::wine();
    let mut rng = ndtrain::seeded_rng(11);
    let order = permutation(ds.len(), &mut rng);
    let (mut xb, mut yb) = (Buffer::new(), Buffer::new());
    let batches: BatchIndices<'_> = batch_indices(&order, 50).unwrap();
    assert_eq!(batches.len(), 4); // 50, 50, 50, 28
    let mut seen = vec![0usize; ds.len()];
    let mut sizes = Vec::new();
    for rows in batches {
        gather_rows_into(ds.x().view(), rows, &mut xb).unwrap();
        gather_rows_into(ds.y().view(), rows, &mut yb).unwrap();
        sizes.push(rows.len());
        for (b, &r) in rows.iter().enumerate() {
            seen[r] += 1;
            assert_eq!(xb.view().index_axis(ndarray::Axis(0), b), ds.x().index_axis(ndarray::Axis(0), r));
            assert_eq!(yb.view()[b], ds.y()[r]);
        }
    }
    assert_eq!(sizes, vec![50, 50, 50, 28]);
    assert!(seen.iter().all(|&c| c == 1));
}

#[test]
fn batching_and_gather_errors() {
    assert!(matches!(batch_indices(&[0, 1, 2], 0), Err(Error::InvalidParameter { name: "batch_size", .. })));
    let x = Array2::<f64>::zeros((4, 3));
    let mut b = Buffer::new();
    let e = gather_rows_into(x.view().into_dyn(), &[1, 4], &mut b).unwrap_err();
    assert!(matches!(e, Error::InvalidInput { op: "gather_rows_into", .. }));
    assert!(e.to_string().contains("row index 4"));
}

#[test]
fn permutation_determinism() {
    assert_eq!(permutation(500, &mut ndtrain::seeded_rng(5)), permutation(500, &mut ndtrain::seeded_rng(5)));
    assert_ne!(permutation(500, &mut ndtrain::seeded_rng(5)), permutation(500, &mut ndtrain::seeded_rng(6)));
    let mut v: Vec<usize> = (0..500).collect();
    shuffle_indices(&mut v, &mut ndtrain::seeded_rng(5));
    assert_eq!(v, permutation(500, &mut ndtrain::seeded_rng(5)));
}

#[test]
fn split_determinism() {
    let ds = ndtrain::datasets::breast_cancer();
    for stratify in [false, true] {
        let a = train_test_split(&ds, 0.25, 0, stratify).unwrap();
        let b = train_test_split(&ds, 0.25, 0, stratify).unwrap();
        let c = train_test_split(&ds, 0.25, 1, stratify).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.1, c.1);
        // sklearn: n_test = ceil(0.25 * 569) = 143.
        assert_eq!((a.0.len(), a.1.len()), (426, 143));
    }
    let a = train_val_test_split(&ds, 0.1, 0.2, 9, true).unwrap();
    let b = train_val_test_split(&ds, 0.1, 0.2, 9, true).unwrap();
    assert_eq!(a, b);
}

#[test]
fn stratified_splits_keep_class_proportions() {
    for (name, ds) in [
        ("iris", ndtrain::datasets::iris()),
        ("wine", ndtrain::datasets::wine()),
        ("breast_cancer", ndtrain::datasets::breast_cancer()),
        ("digits", ndtrain::datasets::digits()),
    ] {
        for (seed, test_size) in [(0u64, 0.2), (1, 0.25), (2, 0.33), (3, 0.5)] {
            let (tr, te) = train_test_split(&ds, test_size, seed, true).unwrap();
            assert_eq!(te.len(), (test_size * ds.len() as f64).ceil() as usize, "{name}");
            assert_eq!(tr.len() + te.len(), ds.len());
            assert_stratified(&ds, &tr);
            assert_stratified(&ds, &te);
        }
        let (tr, va, te) = train_val_test_split(&ds, 0.15, 0.15, 4, true).unwrap();
        assert_eq!(tr.len() + va.len() + te.len(), ds.len());
        for part in [&tr, &va, &te] {
            assert_stratified(&ds, part);
        }
    }
}

#[test]
fn unstratified_split_rows_stay_paired() {
    // x[i] = [i, -i], y[i] = 2i: every row of a split keeps its own target.
    let x = Array2::from_shape_fn((40, 2), |(i, j)| if j == 0 { i as f64 } else { -(i as f64) });
    let y = Array1::from_shape_fn(40, |i| 2.0 * i as f64);
    let ds = Dataset::new(x, y).unwrap();
    let (tr, va, te) = train_val_test_split(&ds, 0.2, 0.3, 8, false).unwrap();
    assert_eq!((tr.len(), va.len(), te.len()), (20, 8, 12));
    let mut all = Vec::new();
    for part in [&tr, &va, &te] {
        for (row, &t) in part.x_2d().unwrap().outer_iter().zip(part.y().iter()) {
            assert_eq!(t, 2.0 * row[0]);
            assert_eq!(row[1], -row[0]);
            all.push(row[0] as usize);
        }
    }
    all.sort_unstable();
    assert!(all.into_iter().eq(0..40));
}

#[test]
fn split_error_paths() {
    let ds = ndtrain::datasets::iris();
    for bad in [0.0, 1.0, -0.5, 2.0, f64::NAN] {
        assert!(matches!(
            train_test_split(&ds, bad, 0, false),
            Err(Error::InvalidParameter { name: "test_size", .. })
        ));
    }
    assert!(matches!(
        train_val_test_split(&ds, 0.6, 0.4, 0, false),
        Err(Error::InvalidParameter { name: "val_size + test_size", .. })
    ));
    let tiny = Dataset::new(array![[1.0], [2.0], [3.0]], array![0usize, 0, 1]).unwrap();
    let e = train_test_split(&tiny, 0.3, 0, true).unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
    assert!(e.to_string().contains("class 1 has only 1 sample"), "{e}");
    let reg = ndtrain::datasets::diabetes();
    assert!(matches!(train_test_split(&reg, 0.2, 0, true), Err(Error::InvalidInput { .. })));
}

proptest! {
    #[test]
    fn prop_permutation_is_a_permutation(n in 0usize..300, seed in any::<u64>()) {
        let mut p = permutation(n, &mut ndtrain::seeded_rng(seed));
        p.sort_unstable();
        prop_assert!(p.into_iter().eq(0..n));
    }

    #[test]
    fn prop_batches_partition_the_order(n in 0usize..200, bs in 1usize..70) {
        let order: Vec<usize> = (0..n).collect();
        let batches: Vec<&[usize]> = batch_indices(&order, bs).unwrap().collect();
        prop_assert_eq!(batches.len(), n.div_ceil(bs));
        prop_assert!(batches.iter().rev().skip(1).all(|b| b.len() == bs));
        prop_assert!(batches.concat().into_iter().eq(0..n));
    }

    #[test]
    fn prop_stratified_within_one(
        counts in proptest::collection::vec(2usize..30, 1..6),
        test_size in 0.05f64..0.95,
        seed in any::<u64>(),
    ) {
        let y: Vec<usize> = counts.iter().enumerate().flat_map(|(c, &k)| std::iter::repeat_n(c, k)).collect();
        let n = y.len();
        let ds = Dataset::new(Array2::<f64>::zeros((n, 1)), Array1::from(y)).unwrap();
        match train_test_split(&ds, test_size, seed, true) {
            Ok((tr, te)) => {
                prop_assert_eq!(te.len(), (test_size * n as f64).ceil() as usize);
                assert_stratified(&ds, &tr);
                assert_stratified(&ds, &te);
            }
            // Too few train or test samples for the number of classes (sklearn's rule).
            Err(Error::InvalidInput { .. }) => {
                let n_test = (test_size * n as f64).ceil() as usize;
                prop_assert!(n_test < counts.len() || n - n_test < counts.len());
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}
