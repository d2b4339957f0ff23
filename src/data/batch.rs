//! Seeded shuffling ([`permutation`], [`shuffle_indices`]) and mini-batch index slices
//! ([`batch_indices`]).

use std::iter::FusedIterator;
use std::slice::Chunks;

use rand::Rng;

use crate::error::{Error, Result};
use crate::tensor::SeededRng;

/// A uniform integer in `0..bound` (`bound >= 1`) from 64-bit draws, by Lemire's
/// multiply-and-reject method ("Fast random integer generation in an interval", ACM
/// TOMACS 2019). Independent of the pointer width and of `rand`'s distribution code,
/// so a seed gives the same indices on every platform.
#[inline]
pub(crate) fn uniform_below(bound: usize, rng: &mut SeededRng) -> usize {
    debug_assert!(bound > 0);
    let s = bound as u64;
    let mut m = u128::from(rng.next_u64()) * u128::from(s);
    if (m as u64) < s {
        let threshold = s.wrapping_neg() % s;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(s);
        }
    }
    (m >> 64) as usize
}

/// Shuffles `indices` in place, uniformly over all orderings (Fisher–Yates).
///
/// Algorithm (Durstenfeld's Fisher–Yates): for `i = n-1, ..., 1`, draw `j` uniform in
/// `[0, i]` and swap `indices[i]` and `indices[j]`. Each `j` comes from one 64-bit
/// draw of `rng` by Lemire's multiply-and-reject method (a second draw with
/// probability below `i / 2^64`), so the result depends only on the seed, not on the
/// platform or on `rand`'s version.
///
/// Filling a slice with `0..n` and shuffling it gives exactly [`permutation(n, rng)`](permutation):
/// reuse one `Vec` per epoch to draw a fresh permutation without allocating.
///
/// This is not NumPy's or PyTorch's generator: the same seed gives a different
/// (equally random) order than `torch.randperm`.
///
/// # Example
///
/// ```
/// use ndtrain::data::{permutation, shuffle_indices};
///
/// let mut rng = ndtrain::seeded_rng(3);
/// let mut order: Vec<usize> = Vec::with_capacity(10);
/// for _epoch in 0..2 {
///     order.clear();
///     order.extend(0..10); // no allocation: capacity is kept
///     shuffle_indices(&mut order, &mut rng);
/// }
/// let mut sorted = order.clone();
/// sorted.sort_unstable();
/// assert_eq!(sorted, (0..10).collect::<Vec<_>>());
///
/// // Same as `permutation` from the same state:
/// let (mut a, mut b) = (ndtrain::seeded_rng(9), ndtrain::seeded_rng(9));
/// let mut v: Vec<usize> = (0..10).collect();
/// shuffle_indices(&mut v, &mut a);
/// assert_eq!(v, permutation(10, &mut b));
/// ```
#[doc(alias = "shuffle")]
pub fn shuffle_indices(indices: &mut [usize], rng: &mut SeededRng) {
    for i in (1..indices.len()).rev() {
        let j = uniform_below(i + 1, rng);
        indices.swap(i, j);
    }
}

/// A uniformly random permutation of `0..n`, drawn with `rng` (Fisher–Yates, see
/// [`shuffle_indices`]).
///
/// The Trainer draws one per epoch from its seeded generator, so the same seed gives
/// the same batch order.
///
/// # Example
///
/// ```
/// use ndtrain::data::permutation;
///
/// let p = permutation(5, &mut ndtrain::seeded_rng(42));
/// let q = permutation(5, &mut ndtrain::seeded_rng(42));
/// assert_eq!(p, q); // same seed, same order
/// let mut sorted = p.clone();
/// sorted.sort_unstable();
/// assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
/// ```
#[doc(alias = "randperm")]
pub fn permutation(n: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    shuffle_indices(&mut p, rng);
    p
}

/// Splits `order` (e.g. a [`permutation`]) into consecutive mini-batches of
/// `batch_size` indices; the last batch holds the remainder and is kept (PyTorch's
/// `DataLoader(drop_last=False)`).
///
/// There are `ceil(order.len() / batch_size)` batches
/// ([`ExactSizeIterator::len`]); an empty `order` gives none. Each batch is a
/// sub-slice of `order`: no allocation.
///
/// # Errors
///
/// [`Error::InvalidParameter`] `batch_size` if `batch_size == 0`.
///
/// # Example
///
/// ```
/// use ndtrain::data::batch_indices;
///
/// let order = [4, 0, 3, 1, 2];
/// let batches: Vec<&[usize]> = batch_indices(&order, 2)?.collect();
/// assert_eq!(batches, vec![&[4, 0][..], &[3, 1][..], &[2][..]]);
/// assert_eq!(batch_indices(&order, 2)?.len(), 3);
/// assert!(batch_indices(&order, 0).is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn batch_indices(order: &[usize], batch_size: usize) -> Result<BatchIndices<'_>> {
    if batch_size == 0 {
        return Err(Error::InvalidParameter { name: "batch_size", value: 0.0, expected: ">= 1" });
    }
    Ok(BatchIndices { chunks: order.chunks(batch_size) })
}

/// Iterator over mini-batches of sample indices, returned by [`batch_indices`].
///
/// Yields `&[usize]` sub-slices of the order it was built from: full batches, then
/// the remainder (if any).
///
/// # Example
///
/// ```
/// use ndtrain::data::{batch_indices, BatchIndices};
///
/// let order: Vec<usize> = (0..10).collect();
/// let batches: BatchIndices<'_> = batch_indices(&order, 4)?;
/// let sizes: Vec<usize> = batches.map(|b| b.len()).collect();
/// assert_eq!(sizes, vec![4, 4, 2]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BatchIndices<'a> {
    chunks: Chunks<'a, usize>,
}

impl<'a> Iterator for BatchIndices<'a> {
    type Item = &'a [usize];

    #[inline]
    fn next(&mut self) -> Option<&'a [usize]> {
        self.chunks.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for BatchIndices<'_> {}

impl FusedIterator for BatchIndices<'_> {}

impl DoubleEndedIterator for BatchIndices<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.chunks.next_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::seeded_rng;

    #[test]
    fn permutation_is_a_permutation() {
        for n in [0usize, 1, 2, 3, 17, 1000] {
            let mut p = permutation(n, &mut seeded_rng(n as u64));
            assert_eq!(p.len(), n);
            p.sort_unstable();
            assert!(p.iter().copied().eq(0..n), "n = {n}");
        }
    }

    #[test]
    fn same_seed_same_permutation_different_seed_different() {
        let a = permutation(100, &mut seeded_rng(1));
        let b = permutation(100, &mut seeded_rng(1));
        let c = permutation(100, &mut seeded_rng(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Consecutive draws from one generator differ (a fresh order per epoch).
        let mut rng = seeded_rng(1);
        let e1 = permutation(100, &mut rng);
        let e2 = permutation(100, &mut rng);
        assert_eq!(e1, a);
        assert_ne!(e1, e2);
    }

    /// All 6 orders of 3 elements appear equally often: 60_000 draws, expected 10_000
    /// each, standard deviation sqrt(60_000 * 1/6 * 5/6) ~ 91; allow 5 sigma. A wrong
    /// bound (Sattolo's `j < i`, or `j < n`) makes some orders impossible or ~25% too
    /// frequent.
    #[test]
    fn fisher_yates_is_uniform() {
        let mut rng = seeded_rng(12345);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..60_000 {
            let p = permutation(3, &mut rng);
            *counts.entry(p).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (p, c) in counts {
            assert!((c as i64 - 10_000).abs() < 455, "{p:?}: {c}");
        }
    }

    /// `uniform_below` is unbiased: bound 3 over 30_000 draws, ~10_000 each (sd ~82).
    #[test]
    fn uniform_below_is_uniform_and_in_range() {
        let mut rng = seeded_rng(7);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[uniform_below(3, &mut rng)] += 1;
        }
        for c in counts {
            assert!((c as i64 - 10_000).abs() < 410, "{counts:?}");
        }
        for _ in 0..100 {
            assert_eq!(uniform_below(1, &mut rng), 0);
        }
        let big = usize::MAX / 3 * 2;
        for _ in 0..100 {
            assert!(uniform_below(big, &mut rng) < big);
        }
    }

    #[test]
    fn batches_keep_last_partial() {
        let order: Vec<usize> = (0..10).rev().collect();
        let b: Vec<&[usize]> = batch_indices(&order, 3).unwrap().collect();
        assert_eq!(b, vec![&[9, 8, 7][..], &[6, 5, 4], &[3, 2, 1], &[0]]);
        assert_eq!(batch_indices(&order, 3).unwrap().len(), 4);
        assert_eq!(batch_indices(&order, 10).unwrap().len(), 1);
        assert_eq!(batch_indices(&order, 11).unwrap().next(), Some(&order[..]));
        assert_eq!(batch_indices(&[], 4).unwrap().count(), 0);
        assert_eq!(batch_indices(&order, 4).unwrap().next_back(), Some(&[1, 0][..]));
    }

    #[test]
    fn batch_size_zero_is_invalid_parameter() {
        let e = batch_indices(&[1, 2], 0).unwrap_err();
        assert_eq!(e, Error::InvalidParameter { name: "batch_size", value: 0.0, expected: ">= 1" });
    }
}
