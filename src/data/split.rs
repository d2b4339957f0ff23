//! Seeded, optionally stratified train / test (/ validation) splits.

use crate::data::batch::{shuffle_indices, uniform_below};
use crate::data::dataset::{Dataset, Target};
use crate::error::{Error, Result};
use crate::tensor::{SeededRng, seeded_rng};

/// Splits `dataset` into a shuffled train set and a test set holding a fraction
/// `test_size` of the samples; with `stratify`, each class keeps its proportion.
///
/// Follows scikit-learn's `train_test_split(X, y, test_size=test_size,
/// random_state=seed, stratify=y if stratify else None)`:
///
/// * `n_test = ceil(test_size * n)`, `n_train = n - n_test`.
/// * Without stratification: one permutation `p` of `0..n` ([`permutation`](crate::data::permutation));
///   the test set is `p[..n_test]`, the train set `p[n_test..]` (sklearn's
///   `ShuffleSplit`).
/// * With stratification (sklearn's `StratifiedShuffleSplit`): the `n_train` train
///   samples are shared among the classes in proportion to their counts `c_k`, by
///   largest remainder: class `k` gets `floor(c_k * n_train / n)` (computed as
///   `c_k / n * n_train` in f64, as sklearn does), and the samples still missing go
///   one each to the classes with the largest fractional parts (ties broken at
///   random). Every class's remaining samples form its test share, so each class's
///   train and test counts are within one sample of the exact proportion. Inside
///   each class the samples are drawn at random, then the train and test sets are
///   each shuffled.
///
/// The per-class counts are sklearn's (except where its tie-break is random), but the
/// random draws come from ndtrain's [`SeededRng`], not NumPy's: the split is
/// sklearn-like, not index-for-index identical to sklearn's for the same seed.
///
/// | parameter   | default (sklearn) | range                                   |
/// |-------------|-------------------|-----------------------------------------|
/// | `test_size` | 0.25              | `(0, 1)`, a fraction of the samples     |
/// | `seed`      | (`random_state`)  | any `u64`; same seed, same split        |
/// | `stratify`  | `None`            | `true` needs `usize` class targets `[N]` |
///
/// # Errors
///
/// * [`Error::InvalidParameter`] `test_size` outside `(0, 1)` (or NaN).
/// * [`Error::InvalidInput`] if the train set would be empty (e.g. 2 samples with
///   `test_size = 0.9`); with `stratify`: float targets or `y` not 1-D, a class with
///   fewer than 2 samples, or fewer train or test samples than classes.
///
/// # Example
///
/// ```
/// use ndtrain::data::train_test_split;
///
/// let ds = ndtrain::datasets::iris();
/// let (train, test) = train_test_split(&ds, 0.2, 42, true)?;
/// assert_eq!((train.len(), test.len()), (120, 30));
/// assert_eq!(test.class_counts(), vec![10, 10, 10]);
///
/// // Same seed, same split.
/// let (_, test2) = train_test_split(&ds, 0.2, 42, true)?;
/// assert_eq!(test, test2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn train_test_split<F: Clone, Y: Target>(
    dataset: &Dataset<F, Y>,
    test_size: f64,
    seed: u64,
    stratify: bool,
) -> Result<(Dataset<F, Y>, Dataset<F, Y>)> {
    const OP: &str = "train_test_split";
    check_fraction("test_size", test_size)?;
    let n = dataset.len();
    let n_test = fraction_count(test_size, n);
    if n_test >= n {
        return Err(Error::invalid_input(
            OP,
            format!(
                "with n_samples = {n} and test_size = {test_size}, the train set would be empty; lower test_size"
            ),
        ));
    }
    let labels = if stratify { Some(class_labels(OP, dataset)?) } else { None };
    let all: Vec<usize> = (0..n).collect();
    let mut rng = seeded_rng(seed);
    let (train, test) = split_indices(OP, &all, labels.as_deref(), n_test, &mut rng)?;
    Ok((dataset.select(&train)?, dataset.select(&test)?))
}

/// Splits `dataset` into shuffled train, validation and test sets holding fractions
/// `1 - val_size - test_size`, `val_size` and `test_size` of the samples; with
/// `stratify`, each class keeps its proportion in all three.
///
/// `n_test = ceil(test_size * n)` and `n_val = ceil(val_size * n)` (the fractions are
/// of the whole dataset), `n_train = n - n_val - n_test`. The test set is split off
/// first exactly as [`train_test_split`] does; the validation set is then split off
/// the rest the same way (stratified by largest remainder if asked), with the same
/// seeded generator. scikit-learn has no three-way split; this is the usual pair of
/// `train_test_split` calls, with counts fixed from the whole dataset.
///
/// | parameter   | range                                        |
/// |-------------|----------------------------------------------|
/// | `val_size`  | `(0, 1)`                                     |
/// | `test_size` | `(0, 1)`, and `val_size + test_size < 1`     |
/// | `seed`      | any `u64`; same seed, same split             |
/// | `stratify`  | `true` needs `usize` class targets `[N]`     |
///
/// # Errors
///
/// * [`Error::InvalidParameter`] `val_size` or `test_size` outside `(0, 1)`, or
///   `val_size + test_size` not below 1.
/// * [`Error::InvalidInput`] if the train set would be empty; with `stratify`, as
///   [`train_test_split`] (a class needs at least 2 samples in the train + validation
///   part, which usually means at least 3 in all).
///
/// # Example
///
/// ```
/// use ndtrain::data::train_val_test_split;
///
/// let ds = ndtrain::datasets::wine();
/// let (train, val, test) = train_val_test_split(&ds, 0.15, 0.15, 7, true)?;
/// assert_eq!((train.len(), val.len(), test.len()), (124, 27, 27));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[allow(clippy::type_complexity)] // a plain (train, val, test) tuple reads best
pub fn train_val_test_split<F: Clone, Y: Target>(
    dataset: &Dataset<F, Y>,
    val_size: f64,
    test_size: f64,
    seed: u64,
    stratify: bool,
) -> Result<(Dataset<F, Y>, Dataset<F, Y>, Dataset<F, Y>)> {
    const OP: &str = "train_val_test_split";
    check_fraction("val_size", val_size)?;
    check_fraction("test_size", test_size)?;
    let sum = val_size + test_size;
    if sum >= 1.0 {
        return Err(Error::InvalidParameter { name: "val_size + test_size", value: sum, expected: "< 1" });
    }
    let n = dataset.len();
    let (n_val, n_test) = (fraction_count(val_size, n), fraction_count(test_size, n));
    if n_val + n_test >= n {
        return Err(Error::invalid_input(
            OP,
            format!(
                "with n_samples = {n}, val_size = {val_size} and test_size = {test_size}, the train set would be empty \
                 ({n_val} validation + {n_test} test samples)"
            ),
        ));
    }
    let labels = if stratify { Some(class_labels(OP, dataset)?) } else { None };
    let mut rng = seeded_rng(seed);
    let all: Vec<usize> = (0..n).collect();
    let (rest, test) = split_indices(OP, &all, labels.as_deref(), n_test, &mut rng)?;
    let (train, val) = split_indices(OP, &rest, labels.as_deref(), n_val, &mut rng)?;
    Ok((dataset.select(&train)?, dataset.select(&val)?, dataset.select(&test)?))
}

fn check_fraction(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, value, expected: "(0, 1)" })
    }
}

/// sklearn's `ceil(fraction * n_samples)`, same float expression.
fn fraction_count(fraction: f64, n: usize) -> usize {
    (fraction * n as f64).ceil() as usize
}

/// The class index of every sample, or an error if targets are not 1-D class labels.
fn class_labels<F, Y: Target>(op: &'static str, dataset: &Dataset<F, Y>) -> Result<Vec<usize>> {
    let y = dataset.y();
    if y.ndim() != 1 {
        return Err(Error::invalid_input(
            op,
            format!("stratify needs 1-D class targets [N], got y of shape {:?}", y.shape()),
        ));
    }
    y.iter().map(|t| t.class_index()).collect::<Option<Vec<usize>>>().ok_or_else(|| {
        Error::invalid_input(op, "stratify needs class-index (usize) targets; these targets are real-valued")
    })
}

/// Splits `pool` (sample indices) into `(train, held_out)` with `n_out` held out,
/// stratified on `labels[sample]` if given. `0 < n_out < pool.len()` (checked by the
/// callers).
fn split_indices(
    op: &'static str,
    pool: &[usize],
    labels: Option<&[usize]>,
    n_out: usize,
    rng: &mut SeededRng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = pool.len();
    let n_keep = n - n_out;
    let Some(labels) = labels else {
        let mut order = pool.to_vec();
        shuffle_indices(&mut order, rng);
        let keep = order.split_off(n_out);
        return Ok((keep, order));
    };

    // Classes present in the pool, in increasing label order; members in pool order
    // (sklearn: np.unique + a stable argsort).
    let mut classes: Vec<usize> = pool.iter().map(|&i| labels[i]).collect();
    classes.sort_unstable();
    classes.dedup();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    for &i in pool {
        // `classes` holds every label of the pool, so the search succeeds.
        if let Ok(k) = classes.binary_search(&labels[i]) {
            members[k].push(i);
        }
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    let k = classes.len();
    if let Some((c, _)) = classes.iter().zip(&counts).find(|&(_, &count)| count < 2) {
        return Err(Error::invalid_input(
            op,
            format!(
                "stratified split: class {c} has only 1 sample{}; every class needs at least 2",
                if n == labels.len() { "" } else { " left after the test split" }
            ),
        ));
    }
    if n_keep < k || n_out < k {
        return Err(Error::invalid_input(
            op,
            format!(
                "stratified split: {n_keep} train and {n_out} held-out samples cannot hold all {k} classes; \
                 each part needs at least one sample per class"
            ),
        ));
    }

    let keep_counts = approximate_mode(&counts, n_keep, rng);
    let mut keep = Vec::with_capacity(n_keep);
    let mut out = Vec::with_capacity(n_out);
    for (mut m, n_k) in members.into_iter().zip(keep_counts) {
        shuffle_indices(&mut m, rng);
        let n_k = n_k.min(m.len());
        keep.extend_from_slice(&m[..n_k]);
        out.extend_from_slice(&m[n_k..]);
    }
    shuffle_indices(&mut keep, rng);
    shuffle_indices(&mut out, rng);
    Ok((keep, out))
}

/// Shares `n_draws` among classes with sizes `counts` in proportion, by largest
/// remainder (sklearn's `_approximate_mode`): `floor(c / total * n_draws)` each, then
/// +1 for the classes with the largest fractional parts; equal fractional parts are
/// served in random order.
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut SeededRng) -> Vec<usize> {
    let total = counts.iter().sum::<usize>() as f64;
    let continuous: Vec<f64> = counts.iter().map(|&c| c as f64 / total * n_draws as f64).collect();
    let mut floored: Vec<usize> = continuous.iter().map(|v| v.floor() as usize).collect();
    let mut need = n_draws.saturating_sub(floored.iter().sum());
    let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(v, &f)| v - f as f64).collect();
    let mut values = remainder.clone();
    values.sort_unstable_by(|a, b| b.total_cmp(a));
    values.dedup();
    for value in values {
        if need == 0 {
            break;
        }
        let mut tied: Vec<usize> = (0..counts.len()).filter(|&i| remainder[i] == value).collect();
        let add_now = tied.len().min(need);
        // Partial Fisher–Yates: a uniform random subset of `add_now` tied classes.
        for j in 0..add_now {
            let pick = j + uniform_below(tied.len() - j, rng);
            tied.swap(j, pick);
            floored[tied[j]] += 1;
        }
        need -= add_now;
    }
    floored
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    fn labelled(counts: &[usize]) -> Dataset<f64, usize> {
        let y: Vec<usize> = counts.iter().enumerate().flat_map(|(c, &k)| std::iter::repeat_n(c, k)).collect();
        let n = y.len();
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f64);
        Dataset::new(x, Array1::from(y)).unwrap()
    }

    /// Every sample index (recovered from x[i, 0] = 2i) appears exactly once.
    fn indices_of(ds: &Dataset<f64, usize>) -> Vec<usize> {
        ds.x().outer_iter().map(|r| (r[[0]] / 2.0) as usize).collect()
    }

    #[test]
    fn counts_follow_sklearn_ceil() {
        let ds = labelled(&[10]);
        // ceil(0.25 * 10) = 3 test samples.
        let (tr, te) = train_test_split(&ds, 0.25, 0, false).unwrap();
        assert_eq!((tr.len(), te.len()), (7, 3));
        let (tr, te) = train_test_split(&ds, 0.01, 0, false).unwrap();
        assert_eq!((tr.len(), te.len()), (9, 1));
    }

    #[test]
    fn split_is_a_partition_and_deterministic() {
        let ds = labelled(&[30, 20, 50]);
        for stratify in [false, true] {
            let (tr, te) = train_test_split(&ds, 0.3, 5, stratify).unwrap();
            let mut all = indices_of(&tr);
            all.extend(indices_of(&te));
            all.sort_unstable();
            assert!(all.iter().copied().eq(0..100));
            // Rows stay paired with their targets.
            for part in [&tr, &te] {
                for (r, &c) in part.x().outer_iter().zip(part.y().iter()) {
                    assert_eq!(ds.y()[(r[[0]] / 2.0) as usize], c);
                }
            }
            let (tr2, te2) = train_test_split(&ds, 0.3, 5, stratify).unwrap();
            assert_eq!((tr2, te2), (tr.clone(), te.clone()));
            let (tr3, _) = train_test_split(&ds, 0.3, 6, stratify).unwrap();
            assert_ne!(indices_of(&tr3), indices_of(&tr));
        }
    }

    #[test]
    fn stratified_counts_by_largest_remainder() {
        // n = 100, test 0.3 -> n_train 70: continuous 21, 14, 35 (exact).
        let ds = labelled(&[30, 20, 50]);
        let (tr, te) = train_test_split(&ds, 0.3, 1, true).unwrap();
        assert_eq!(tr.class_counts(), vec![21, 14, 35]);
        assert_eq!(te.class_counts(), vec![9, 6, 15]);
        // counts 5, 5, 3 (n = 13), test 0.4 -> n_test = ceil(5.2) = 6, n_train = 7:
        // continuous 35/13 = 2.69, 2.69, 21/13 = 1.62 -> floor 2, 2, 1 (5), two more
        // go to the tied largest remainders (classes 0 and 1): train 3, 3, 1.
        let ds = labelled(&[5, 5, 3]);
        let (tr, te) = train_test_split(&ds, 0.4, 9, true).unwrap();
        assert_eq!(tr.class_counts(), vec![3, 3, 1]);
        assert_eq!(te.class_counts(), vec![2, 2, 2]);
    }

    #[test]
    fn random_tie_break_gives_one_extra_to_one_of_the_tied() {
        // counts 2, 2, 2 (n = 6), test_size 0.5 -> n_test 3, n_train 3: continuous 1, 1, 1
        // -> exact, no tie. counts 3, 3 (n = 6), n_train = 6 - ceil(0.5 * 6) = 3:
        // continuous 1.5, 1.5 -> one class gets 2, the other 1, chosen at random.
        let ds = labelled(&[3, 3]);
        let mut seen = [false; 2];
        for seed in 0..40 {
            let (tr, _) = train_test_split(&ds, 0.5, seed, true).unwrap();
            let c = tr.class_counts();
            assert_eq!(c.iter().sum::<usize>(), 3);
            assert!(c == vec![2, 1] || c == vec![1, 2], "{c:?}");
            seen[usize::from(c[0] == 2)] = true;
        }
        assert_eq!(seen, [true, true], "both tie outcomes occur over 40 seeds");
    }

    #[test]
    fn approximate_mode_sums_and_stays_within_one() {
        let mut rng = seeded_rng(0);
        let counts = [7usize, 1, 13, 4, 4, 9];
        let total: usize = counts.iter().sum();
        for n_draws in 0..=total {
            let got = approximate_mode(&counts, n_draws, &mut rng);
            assert_eq!(got.iter().sum::<usize>(), n_draws);
            for (&g, &c) in got.iter().zip(&counts) {
                let exact = c as f64 * n_draws as f64 / total as f64;
                assert!((g as f64 - exact).abs() < 1.0, "{n_draws}: {got:?}");
                assert!(g <= c);
            }
        }
    }

    #[test]
    fn bad_fractions() {
        let ds = labelled(&[5, 5]);
        for bad in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            match train_test_split(&ds, bad, 0, false) {
                Err(Error::InvalidParameter { name: "test_size", expected: "(0, 1)", .. }) => {}
                other => panic!("{bad}: {other:?}"),
            }
            assert!(matches!(
                train_val_test_split(&ds, bad, 0.2, 0, false),
                Err(Error::InvalidParameter { name: "val_size", .. })
            ));
            assert!(matches!(
                train_val_test_split(&ds, 0.2, bad, 0, false),
                Err(Error::InvalidParameter { name: "test_size", .. })
            ));
        }
        assert_eq!(
            train_val_test_split(&ds, 0.5, 0.5, 0, false).unwrap_err(),
            Error::InvalidParameter { name: "val_size + test_size", value: 1.0, expected: "< 1" }
        );
    }

    #[test]
    fn empty_train_set_is_invalid_input() {
        let ds = labelled(&[2]);
        let e = train_test_split(&ds, 0.9, 0, false).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { op: "train_test_split", .. }), "{e:?}");
        assert!(e.to_string().contains("train set would be empty"));
        let ds = labelled(&[5]);
        // ceil(0.45 * 5) + ceil(0.45 * 5) = 3 + 3 > 5.
        assert!(matches!(train_val_test_split(&ds, 0.45, 0.45, 0, false), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn stratify_errors() {
        let e = train_test_split(&labelled(&[5, 1, 5]), 0.3, 0, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "train_test_split: stratified split: class 1 has only 1 sample; every class needs at least 2"
        );
        // 4 classes, n = 8, test 0.25 -> n_test = 2 < 4 classes.
        let e = train_test_split(&labelled(&[2, 2, 2, 2]), 0.25, 0, true).unwrap_err();
        assert!(e.to_string().contains("cannot hold all 4 classes"), "{e}");
        // Real-valued targets cannot be stratified.
        let reg = Dataset::new(Array2::<f64>::zeros((4, 1)), Array1::from(vec![0.5, 1.5, 2.5, 3.5])).unwrap();
        let e = train_test_split(&reg, 0.5, 0, true).unwrap_err();
        assert!(e.to_string().contains("class-index"), "{e}");
        assert!(train_test_split(&reg, 0.5, 0, false).is_ok());
        // 2-D targets cannot be stratified.
        let two_d = Dataset::new(Array2::<f64>::zeros((4, 1)), Array2::<usize>::zeros((4, 2))).unwrap();
        assert!(matches!(train_test_split(&two_d, 0.5, 0, true), Err(Error::InvalidInput { .. })));
        // counts 2, 8 (n = 10), test 0.4: 6 kept, continuous 1.2 and 4.8, so class 0
        // keeps 1 sample for train + val, too few to stratify the second stage.
        let e = train_val_test_split(&labelled(&[2, 8]), 0.1, 0.4, 0, true).unwrap_err();
        assert!(e.to_string().contains("left after the test split"), "{e}");
    }

    #[test]
    fn three_way_split() {
        let ds = labelled(&[40, 60]);
        let (tr, va, te) = train_val_test_split(&ds, 0.2, 0.1, 3, true).unwrap();
        assert_eq!((tr.len(), va.len(), te.len()), (70, 20, 10));
        assert_eq!(te.class_counts(), vec![4, 6]);
        assert_eq!(va.class_counts(), vec![8, 12]);
        assert_eq!(tr.class_counts(), vec![28, 42]);
        let mut all = indices_of(&tr);
        all.extend(indices_of(&va));
        all.extend(indices_of(&te));
        all.sort_unstable();
        assert!(all.iter().copied().eq(0..100));
        let again = train_val_test_split(&ds, 0.2, 0.1, 3, true).unwrap();
        assert_eq!(again, (tr, va, te));
    }

    #[test]
    fn f32_data_splits() {
        let ds = labelled(&[6, 6]).cast::<f32>();
        let (tr, te) = train_test_split(&ds, 0.5, 1, true).unwrap();
        assert_eq!((tr.class_counts(), te.class_counts()), (vec![3, 3], vec![3, 3]));
    }
}
