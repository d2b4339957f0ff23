//! Datasets, batching, splits and the embedded real datasets.
//!
//! * [`Dataset`]: features `x` (`[N, ...]`, any dimension) and targets `y` (`[N]` or
//!   `[N, k]`; `usize` class indices or floats) with samples along axis 0, checked
//!   once when built.
//! * Seeded shuffling and batching: [`permutation`] / [`shuffle_indices`]
//!   (Fisher–Yates on a [`SeededRng`](crate::SeededRng)), [`batch_indices`] (index
//!   slices, last partial batch kept) and [`gather_rows_into`] (copies a batch of rows
//!   into a reusable [`Buffer`](crate::Buffer), allocation-free once warm).
//! * Splits: [`train_test_split`] and [`train_val_test_split`], seeded and optionally
//!   stratified like scikit-learn's `StratifiedShuffleSplit`.
//! * [`datasets`]: iris, wine, breast cancer, digits and diabetes, embedded in the
//!   crate (also reachable as `ndtrain::datasets`).
//!
//! # Example: one epoch of shuffled mini-batches by hand
//!
//! ```
//! use ndtrain::Buffer;
//! use ndtrain::data::{batch_indices, gather_rows_into, permutation, train_test_split};
//!
//! let ds = ndtrain::datasets::iris();
//! let (train, _test) = train_test_split(&ds, 0.2, 42, true)?;
//! let mut rng = ndtrain::seeded_rng(0);
//! let (mut xb, mut yb) = (Buffer::new(), Buffer::new());
//! let order = permutation(train.len(), &mut rng);
//! let mut seen = 0;
//! for rows in batch_indices(&order, 32)? {
//!     gather_rows_into(train.x().view(), rows, &mut xb)?;
//!     gather_rows_into(train.y().view(), rows, &mut yb)?;
//!     assert_eq!(xb.view().shape(), &[rows.len(), 4]);
//!     seen += rows.len();
//! }
//! assert_eq!(seen, 120); // 32 + 32 + 32 + 24
//! # Ok::<(), ndtrain::Error>(())
//! ```

mod batch;
mod dataset;
pub mod datasets;
mod gather;
mod split;
pub mod text;

pub use batch::{BatchIndices, batch_indices, permutation, shuffle_indices};
pub use dataset::{Dataset, Target};
pub use gather::gather_rows_into;
pub use split::{train_test_split, train_val_test_split};
