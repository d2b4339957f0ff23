//! Cleaning: drop duplicate or incomplete rows, clip outliers per column.
//!
//! These transformers are not in scikit-learn; they are defined in the reference-case
//! format (FORMAT.md, "Transformers defined here") with numpy semantics:
//! [`DropDuplicateRows`] / [`drop_duplicate_rows`], [`drop_missing_rows`],
//! [`IqrClipper`] and [`ZScoreClipper`].

use std::collections::HashSet;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};

use super::Preprocessor;
use super::stats::{self, ColumnSink, NewArray, WriteInto, check_n_features, check_not_empty, clip};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// Which occurrence of a duplicated row [`DropDuplicateRows`] keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Keep {
    /// The first occurrence (`keep="first"`, the default).
    #[default]
    First,
    /// The last occurrence (`keep="last"`, as pandas' `drop_duplicates`).
    Last,
}

/// The row's values as hashable bits with NaN equal to NaN and `-0.0` equal to `0.0`.
fn row_key<F: Float>(row: &[F]) -> Vec<u64> {
    row.iter()
        .map(|v| {
            let v = v.as_f64();
            if v.is_nan() {
                u64::MAX
            } else if v == 0.0 {
                0
            } else {
                v.to_bits()
            }
        })
        .collect()
}

fn select_rows<F: Float>(x: &ArrayView2<'_, F>, idx: &[usize]) -> Array2<F> {
    x.select(Axis(0), idx)
}

/// Removes repeated rows, keeping the first occurrence of each, in the original order;
/// returns the kept rows and their indices in `x` (to select the matching targets).
///
/// Rows are equal when every element compares `==`, except that NaN equals NaN (and
/// `-0.0 == 0.0`, as `==` says). Infinities are ordinary values here. A 0-row input gives
/// a 0-row output.
///
/// # Errors
/// None for any finite or non-finite input; the `Result` keeps the signature uniform.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::drop_duplicate_rows;
///
/// let nan = f64::NAN;
/// let x = array![[1.0, nan], [2.0, 0.0], [1.0, nan], [2.0, -0.0]];
/// let (kept, idx) = drop_duplicate_rows(x.view())?;
/// assert_eq!(idx, vec![0, 1]);
/// assert_eq!(kept.nrows(), 2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn drop_duplicate_rows<F: Float>(x: ArrayView2<'_, F>) -> Result<(Array2<F>, Vec<usize>)> {
    dedup(&x, Keep::First)
}

fn dedup<F: Float>(x: &ArrayView2<'_, F>, keep: Keep) -> Result<(Array2<F>, Vec<usize>)> {
    let mut seen: HashSet<Vec<u64>> = HashSet::with_capacity(x.nrows());
    let mut idx = Vec::new();
    match keep {
        Keep::First => {
            let mut i = 0usize;
            stats::for_each_row(x, |row| {
                if seen.insert(row_key(row)) {
                    idx.push(i);
                }
                i += 1;
            });
        }
        Keep::Last => {
            // Scan from the end: the last occurrence is the first one seen.
            let mut buf = Vec::with_capacity(x.ncols());
            for (i, row) in x.rows().into_iter().enumerate().rev() {
                buf.clear();
                buf.extend(row.iter().copied());
                if seen.insert(row_key(&buf)) {
                    idx.push(i);
                }
            }
            idx.reverse();
        }
    }
    Ok((select_rows(x, &idx), idx))
}

/// Removes every row that holds a NaN (a missing value); returns the kept rows and their
/// indices in `x`.
///
/// # Errors
/// None; the `Result` keeps the signature uniform.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::drop_missing_rows;
///
/// let x = array![[1.0, 2.0], [f64::NAN, 3.0], [4.0, 5.0]];
/// let (kept, idx) = drop_missing_rows(x.view())?;
/// assert_eq!(kept, array![[1.0, 2.0], [4.0, 5.0]]);
/// assert_eq!(idx, vec![0, 2]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "dropna")]
pub fn drop_missing_rows<F: Float>(x: ArrayView2<'_, F>) -> Result<(Array2<F>, Vec<usize>)> {
    let idx: Vec<usize> = x
        .rows()
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.iter().any(|v| v.is_nan()))
        .map(|(i, _)| i)
        .collect();
    Ok((select_rows(&x, &idx), idx))
}

/// Drops duplicate rows (see [`drop_duplicate_rows`]) as a [`Preprocessor`]; stateless
/// (`fit` records the column count only).
///
/// The transform changes the number of rows: use
/// [`transform_with_indices`](Self::transform_with_indices) to keep targets aligned.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `keep` | [`Keep::First`] | `First`, `Last` |
///
/// # Errors
/// `fit`: [`Error::EmptyInput`]. `transform`: [`Error::ShapeMismatch`] when fitted on
/// another column count. It works without `fit`.
///
/// Reference: FORMAT.md "DropDuplicateRows"; pandas `DataFrame.drop_duplicates`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::DropDuplicateRows;
///
/// let x = array![[1.0], [2.0], [1.0]];
/// let dd = DropDuplicateRows::default();
/// let (rows, idx) = dd.transform_with_indices(x.view())?;
/// assert_eq!((rows, idx), (array![[1.0], [2.0]], vec![0, 1]));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DropDuplicateRows {
    keep: Keep,
    n_features_in: Option<usize>,
}

/// Builder of [`DropDuplicateRows`].
#[derive(Clone, Debug, Default)]
pub struct DropDuplicateRowsBuilder {
    keep: Keep,
}

impl DropDuplicateRowsBuilder {
    /// Which occurrence to keep (default [`Keep::First`]).
    pub fn keep(mut self, keep: Keep) -> Self {
        self.keep = keep;
        self
    }

    /// Builds the transformer. Every value is valid.
    pub fn build(self) -> Result<DropDuplicateRows> {
        Ok(DropDuplicateRows { keep: self.keep, n_features_in: None })
    }
}

impl DropDuplicateRows {
    /// Keeps first occurrences.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> DropDuplicateRowsBuilder {
        DropDuplicateRowsBuilder::default()
    }

    /// The kept rows and their indices in `x`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when fitted on another column count.
    pub fn transform_with_indices<F: Float>(&self, x: ArrayView2<'_, F>) -> Result<(Array2<F>, Vec<usize>)> {
        if let Some(n) = self.n_features_in {
            check_n_features("DropDuplicateRows::transform", &x, n)?;
        }
        dedup(&x, self.keep)
    }
}

impl<F: Float> Preprocessor<F> for DropDuplicateRows {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        check_not_empty("DropDuplicateRows::fit", &x)?;
        self.n_features_in = Some(x.ncols());
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        Ok(self.transform_with_indices(x)?.0)
    }
}

/// Per-column clipping bounds, shared by the two clippers.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "F: Float + serde::Serialize",
        deserialize = "F: Float + serde::Deserialize<'de>"
    ))
)]
struct Bounds<F> {
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    lower: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    upper: Array1<F>,
}

impl<F: Float> Bounds<F> {
    /// `min(max(x, lower), upper)`; NaN stays NaN, a NaN bound does not clip.
    fn clip<S: ColumnSink<F>>(&self, op: &'static str, x: ArrayView2<'_, F>, sink: S) -> Result<S::Out> {
        sink.map(op, x, &self.lower, &self.upper, clip)
    }
}

/// Clips each column to Tukey's fences `[q_low - k·iqr, q_high + k·iqr]`, learned in
/// `fit` from percentiles (defined in FORMAT.md; numpy semantics).
///
/// # Math
///
/// Per column, ignoring NaN, with `P(q)` numpy's linear percentile (Hyndman–Fan type
/// 7: position `(n-1)·q/100` in the sorted values):
///
/// ```text
/// q_low_j = P(q_low),  q_high_j = P(q_high),  iqr_j = q_high_j - q_low_j
/// lower_j = q_low_j - k·iqr_j,   upper_j = q_high_j + k·iqr_j
/// y_ij    = min(max(x_ij, lower_j), upper_j)      NaN stays NaN
/// ```
///
/// A column without observed values gets NaN bounds, which do not clip.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `k` | `1.5` | finite, `>= 0` |
/// | `q_low` | `25` | `0 <= q_low <= q_high <= 100` (percent) |
/// | `q_high` | `75` | same |
///
/// # Errors
///
/// `build`: [`Error::InvalidParameter`] for `k`, `q_low`, `q_high`. `fit`:
/// [`Error::EmptyInput`], [`Error::NonFinite`] (infinity). `transform`,
/// `transform_into`: [`Error::NotFitted`], [`Error::ShapeMismatch`],
/// [`Error::NonFinite`] (infinity).
///
/// Reference: FORMAT.md "IqrClipper"; J. W. Tukey, *Exploratory Data Analysis* (1977).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::IqrClipper;
///
/// let x = array![[1.0], [2.0], [3.0], [4.0], [100.0]];
/// let mut clip = IqrClipper::default();
/// let y = clip.fit_transform(x.view())?;
/// // P25 = 2, P75 = 4, iqr = 2: fences [-1, 7].
/// assert_eq!(clip.upper()?, array![7.0]);
/// assert_eq!(y.column(0), array![1.0, 2.0, 3.0, 4.0, 7.0]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "F: Float + serde::Serialize",
        deserialize = "F: Float + serde::Deserialize<'de>"
    ))
)]
pub struct IqrClipper<F = f64> {
    k: f64,
    q_low: f64,
    q_high: f64,
    fitted: Option<IqrFitted<F>>,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "F: Float + serde::Serialize",
        deserialize = "F: Float + serde::Deserialize<'de>"
    ))
)]
struct IqrFitted<F> {
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    q_low: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    q_high: Array1<F>,
    bounds: Bounds<F>,
}

/// Builder of an [`IqrClipper`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct IqrClipperBuilder<F = f64> {
    k: f64,
    q_low: f64,
    q_high: f64,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> IqrClipperBuilder<F> {
    /// Fence distance in inter-quantile ranges (default 1.5).
    pub fn k(mut self, k: f64) -> Self {
        self.k = k;
        self
    }

    /// Lower percentile (default 25).
    pub fn q_low(mut self, q: f64) -> Self {
        self.q_low = q;
        self
    }

    /// Upper percentile (default 75).
    pub fn q_high(mut self, q: f64) -> Self {
        self.q_high = q;
        self
    }

    /// Validates and builds the (unfitted) clipper.
    pub fn build(self) -> Result<IqrClipper<F>> {
        if !(self.k.is_finite() && self.k >= 0.0) {
            return Err(Error::InvalidParameter { name: "k", value: self.k, expected: "finite, >= 0" });
        }
        if !(0.0..=100.0).contains(&self.q_low) {
            return Err(Error::InvalidParameter { name: "q_low", value: self.q_low, expected: "[0, 100]" });
        }
        if !(self.q_low..=100.0).contains(&self.q_high) {
            return Err(Error::InvalidParameter {
                name: "q_high",
                value: self.q_high,
                expected: "[q_low, 100]",
            });
        }
        Ok(IqrClipper { k: self.k, q_low: self.q_low, q_high: self.q_high, fitted: None })
    }
}

impl<F: Float> Default for IqrClipper<F> {
    fn default() -> Self {
        IqrClipper { k: 1.5, q_low: 25.0, q_high: 75.0, fitted: None }
    }
}

impl<F: Float> IqrClipper<F> {
    /// Tukey's fences: `k = 1.5`, quartiles 25 and 75.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> IqrClipperBuilder<F> {
        IqrClipperBuilder { k: 1.5, q_low: 25.0, q_high: 75.0, _f: std::marker::PhantomData }
    }

    stats::fitted_state!(IqrFitted<F>);

    /// Per-column lower percentile of the fit data.
    #[doc(alias = "q_low_")]
    pub fn q_low(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("IqrClipper::q_low")?.q_low.view())
    }

    /// Per-column upper percentile of the fit data.
    #[doc(alias = "q_high_")]
    pub fn q_high(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("IqrClipper::q_high")?.q_high.view())
    }

    /// Per-column lower fence.
    #[doc(alias = "lower_")]
    pub fn lower(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("IqrClipper::lower")?.bounds.lower.view())
    }

    /// Per-column upper fence.
    #[doc(alias = "upper_")]
    pub fn upper(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("IqrClipper::upper")?.bounds.upper.view())
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("IqrClipper::n_features_in")?.bounds.lower.len())
    }

    /// Clips `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`].
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.fitted("IqrClipper::transform")?.bounds.clip("IqrClipper::transform", x, WriteInto(out))
    }
}

impl<F: Float> Preprocessor<F> for IqrClipper<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "IqrClipper::fit";
        check_not_empty(OP, &x)?;
        stats::check_no_infinite(OP, "x", &x)?;
        let mut cols = stats::columns_without_nan(&x);
        let n = cols.len();
        let mut f = IqrFitted {
            q_low: Array1::zeros(n),
            q_high: Array1::zeros(n),
            bounds: Bounds { lower: Array1::zeros(n), upper: Array1::zeros(n) },
        };
        for (j, c) in cols.iter_mut().enumerate() {
            stats::sort_f64(c);
            let lo = stats::percentile_sorted(c, self.q_low);
            let hi = stats::percentile_sorted(c, self.q_high);
            let iqr = hi - lo;
            f.q_low[j] = F::lit(lo);
            f.q_high[j] = F::lit(hi);
            f.bounds.lower[j] = F::lit(lo - self.k * iqr);
            f.bounds.upper[j] = F::lit(hi + self.k * iqr);
        }
        self.fitted = Some(f);
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.fitted("IqrClipper::transform")?.bounds.clip("IqrClipper::transform", x, NewArray)
    }
}

/// Clips each column to `mean ± threshold·std`, learned in `fit` (defined in FORMAT.md;
/// numpy semantics).
///
/// # Math
///
/// Per column, over its `m` non-NaN values:
///
/// ```text
/// mean_j  = (1/m) Σ x_ij,   std_j = sqrt(Σ (x_ij - mean_j)² / (m - ddof))
/// lower_j = mean_j - threshold·std_j,   upper_j = mean_j + threshold·std_j
/// y_ij    = min(max(x_ij, lower_j), upper_j)      NaN stays NaN
/// ```
///
/// With `m <= ddof` the std is NaN (numpy's `nanstd`), and NaN bounds do not clip.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `threshold` | `3.0` | finite, `> 0` |
/// | `ddof` | `0` | integer `>= 0` |
///
/// # Errors
///
/// `build`: [`Error::InvalidParameter`] for `threshold`. `fit`: [`Error::EmptyInput`],
/// [`Error::NonFinite`] (infinity). `transform`, `transform_into`: [`Error::NotFitted`],
/// [`Error::ShapeMismatch`], [`Error::NonFinite`] (infinity).
///
/// Reference: FORMAT.md "ZScoreClipper".
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::ZScoreClipper;
///
/// let x = array![[1.0], [3.0]];
/// let mut clip = ZScoreClipper::builder().threshold(0.5).build()?;
/// clip.fit(x.view())?;
/// // mean 2, std 1: bounds [1.5, 2.5]
/// assert_eq!(clip.transform(array![[0.0], [2.2], [9.0]].view())?, array![[1.5], [2.2], [2.5]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "F: Float + serde::Serialize",
        deserialize = "F: Float + serde::Deserialize<'de>"
    ))
)]
pub struct ZScoreClipper<F = f64> {
    threshold: f64,
    ddof: usize,
    fitted: Option<ZFitted<F>>,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "F: Float + serde::Serialize",
        deserialize = "F: Float + serde::Deserialize<'de>"
    ))
)]
struct ZFitted<F> {
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    mean: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    std: Array1<F>,
    bounds: Bounds<F>,
}

/// Builder of a [`ZScoreClipper`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct ZScoreClipperBuilder<F = f64> {
    threshold: f64,
    ddof: usize,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> ZScoreClipperBuilder<F> {
    /// Bound distance in standard deviations (default 3).
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Delta degrees of freedom of the std (default 0: population std).
    pub fn ddof(mut self, ddof: usize) -> Self {
        self.ddof = ddof;
        self
    }

    /// Validates and builds the (unfitted) clipper.
    pub fn build(self) -> Result<ZScoreClipper<F>> {
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::InvalidParameter {
                name: "threshold",
                value: self.threshold,
                expected: "finite, > 0",
            });
        }
        Ok(ZScoreClipper { threshold: self.threshold, ddof: self.ddof, fitted: None })
    }
}

impl<F: Float> Default for ZScoreClipper<F> {
    fn default() -> Self {
        ZScoreClipper { threshold: 3.0, ddof: 0, fitted: None }
    }
}

impl<F: Float> ZScoreClipper<F> {
    /// Three-sigma clipping with the population std.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> ZScoreClipperBuilder<F> {
        ZScoreClipperBuilder { threshold: 3.0, ddof: 0, _f: std::marker::PhantomData }
    }

    stats::fitted_state!(ZFitted<F>);

    /// Per-column mean of the fit data (NaN ignored).
    #[doc(alias = "mean_")]
    pub fn mean(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("ZScoreClipper::mean")?.mean.view())
    }

    /// Per-column standard deviation (with `ddof`).
    #[doc(alias = "std_")]
    pub fn std(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("ZScoreClipper::std")?.std.view())
    }

    /// Per-column lower bound.
    #[doc(alias = "lower_")]
    pub fn lower(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("ZScoreClipper::lower")?.bounds.lower.view())
    }

    /// Per-column upper bound.
    #[doc(alias = "upper_")]
    pub fn upper(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("ZScoreClipper::upper")?.bounds.upper.view())
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("ZScoreClipper::n_features_in")?.bounds.lower.len())
    }

    /// Clips `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`].
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.fitted("ZScoreClipper::transform")?.bounds.clip("ZScoreClipper::transform", x, WriteInto(out))
    }
}

impl<F: Float> Preprocessor<F> for ZScoreClipper<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "ZScoreClipper::fit";
        check_not_empty(OP, &x)?;
        let m = stats::moments(OP, &x)?;
        let n = x.ncols();
        let mut f = ZFitted {
            mean: Array1::zeros(n),
            std: Array1::zeros(n),
            bounds: Bounds { lower: Array1::zeros(n), upper: Array1::zeros(n) },
        };
        for j in 0..n {
            let dof = m.count[j] as f64 - self.ddof as f64;
            let std = if dof > 0.0 { (m.m2[j] / dof).sqrt() } else { f64::NAN };
            let mean = m.mean[j];
            f.mean[j] = F::lit(mean);
            f.std[j] = F::lit(std);
            f.bounds.lower[j] = F::lit(mean - self.threshold * std);
            f.bounds.upper[j] = F::lit(mean + self.threshold * std);
        }
        self.fitted = Some(f);
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.fitted("ZScoreClipper::transform")?.bounds.clip("ZScoreClipper::transform", x, NewArray)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn duplicates_first_and_last() {
        let nan = f64::NAN;
        let x = array![[1.0, nan], [0.0, 2.0], [1.0, nan], [-0.0, 2.0], [3.0, 3.0]];
        let (rows, idx) = drop_duplicate_rows(x.view()).unwrap();
        assert_eq!(idx, vec![0, 1, 4]);
        assert_eq!(rows.row(2), array![3.0, 3.0]);
        let dd = DropDuplicateRows::builder().keep(Keep::Last).build().unwrap();
        assert_eq!(dd.transform_with_indices(x.view()).unwrap().1, vec![2, 3, 4]);
        let x32 = array![[1.0f32], [1.0]];
        assert_eq!(drop_duplicate_rows(x32.view()).unwrap().1, vec![0]);
    }

    #[test]
    fn missing_rows() {
        let x = array![[f32::NAN], [1.0], [2.0]];
        let (rows, idx) = drop_missing_rows(x.view()).unwrap();
        assert_eq!(idx, vec![1, 2]);
        assert_eq!(rows, array![[1.0f32], [2.0]]);
    }

    #[test]
    fn invalid_hyper_parameters() {
        assert!(matches!(
            IqrClipper::<f64>::builder().k(-1.0).build(),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
        assert!(matches!(
            IqrClipper::<f64>::builder().q_low(80.0).build(),
            Err(Error::InvalidParameter { name: "q_high", .. })
        ));
        assert!(matches!(
            IqrClipper::<f64>::builder().q_low(-5.0).build(),
            Err(Error::InvalidParameter { name: "q_low", .. })
        ));
        assert!(matches!(
            ZScoreClipper::<f64>::builder().threshold(0.0).build(),
            Err(Error::InvalidParameter { name: "threshold", .. })
        ));
    }

    #[test]
    fn iqr_clipper_hand_checked_with_nan() {
        // [10, NaN, 0, 20, 30, 40]: sorted [0, 10, 20, 30, 40]; P25 = 10, P75 = 30,
        // k = 0.5 -> fences [0, 40]. Column 2 is all NaN -> NaN bounds, no clipping.
        let x = array![[10.0f32, 1.0], [f32::NAN, 1.0], [0.0, 1.0], [20.0, 1.0], [30.0, 1.0], [40.0, 1.0]];
        let mut c = IqrClipper::<f32>::builder().k(0.5).build().unwrap();
        c.fit(x.view()).unwrap();
        assert_eq!(c.q_low().unwrap(), array![10.0f32, 1.0]);
        assert_eq!(c.lower().unwrap(), array![0.0f32, 1.0]);
        let y = c.transform(array![[-5.0f32, 7.0], [f32::NAN, 0.0]].view()).unwrap();
        assert_eq!(y[[0, 0]], 0.0);
        assert_eq!(y[[0, 1]], 1.0);
        assert!(y[[1, 0]].is_nan());
        let mut c = IqrClipper::<f64>::new();
        c.fit(array![[f64::NAN], [f64::NAN]].view()).unwrap();
        assert_eq!(c.transform(array![[123.0]].view()).unwrap(), array![[123.0]]);
    }

    #[test]
    fn zscore_ddof() {
        // [1, 3]: mean 2; ddof 1 -> std sqrt(2); threshold 1 -> [2 - 1.414.., 2 + 1.414..]
        let mut c = ZScoreClipper::<f64>::builder().threshold(1.0).ddof(1).build().unwrap();
        c.fit(array![[1.0], [3.0], [f64::NAN]].view()).unwrap();
        assert!((c.std().unwrap()[0] - 2f64.sqrt()).abs() < 1e-15);
        let y = c.transform(array![[10.0]].view()).unwrap();
        assert!((y[[0, 0]] - (2.0 + 2f64.sqrt())).abs() < 1e-15);
        // ddof >= m: NaN std, no clipping.
        let mut c = ZScoreClipper::<f64>::builder().ddof(2).build().unwrap();
        c.fit(array![[1.0], [3.0]].view()).unwrap();
        assert!(c.std().unwrap()[0].is_nan());
        assert_eq!(c.transform(array![[100.0]].view()).unwrap(), array![[100.0]]);
    }
}
