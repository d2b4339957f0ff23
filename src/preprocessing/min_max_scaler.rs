//! [`MinMaxScaler`]: scale each column to a given range.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use super::stats::{self, ColumnSink, NewArray, WriteInto, check_not_empty, clip};
use super::{InverseTransform, Preprocessor};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// Scales each column to `feature_range` (scikit-learn's `MinMaxScaler`).
///
/// # Math
///
/// Over the non-NaN values of column `j`, with `feature_range = (a, b)`:
///
/// ```text
/// data_min_j, data_max_j = min, max of column j;   data_range_j = data_max_j - data_min_j
/// scale_j = (b - a) / data_range_j      (a range below 10·eps counts as 1)
/// min_j   = a - data_min_j · scale_j
/// y_ij    = x_ij · scale_j + min_j      then, with clip, clamped to [a, b]
/// inverse: x_ij = (y_ij - min_j) / scale_j
/// ```
///
/// **Missing values:** NaN is ignored in `fit` and passed through by `transform` (also
/// with `clip`). Infinite values are an error.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `feature_range` | `(0, 1)` | finite, `a < b` |
/// | `clip` | `false` | bool: clamp transformed values to `feature_range` |
///
/// Fitted attributes: [`data_min`](Self::data_min), [`data_max`](Self::data_max),
/// [`data_range`](Self::data_range), [`scale`](Self::scale), [`min`](Self::min),
/// [`n_samples_seen`](Self::n_samples_seen) (rows, NaN included, as scikit-learn).
///
/// # Errors
///
/// `build`: [`Error::InvalidParameter`] (`"feature_range"`) unless `a < b`, both finite.
/// `fit`: [`Error::EmptyInput`], [`Error::NonFinite`] (infinity). `transform`,
/// `transform_into`, `inverse_transform`: [`Error::NotFitted`],
/// [`Error::ShapeMismatch`], [`Error::NonFinite`] (infinity).
///
/// Reference: scikit-learn `sklearn.preprocessing.MinMaxScaler` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::MinMaxScaler;
///
/// let x = array![[1.0, -2.0], [3.0, 2.0], [5.0, 0.0]];
/// let mut scaler = MinMaxScaler::builder().feature_range(-1.0, 1.0).build()?;
/// let y = scaler.fit_transform(x.view())?;
/// assert_eq!(y, array![[-1.0, -1.0], [0.0, 1.0], [1.0, 0.0]]);
/// assert_eq!(scaler.data_range()?, array![4.0, 4.0]);
/// assert_eq!(scaler.inverse_transform(y.view())?, x);
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
pub struct MinMaxScaler<F = f64> {
    feature_range: (F, F),
    clip: bool,
    fitted: Option<Fitted<F>>,
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
struct Fitted<F> {
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    data_min: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    data_max: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    data_range: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    scale: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    min: Array1<F>,
    n_samples_seen: usize,
}

/// Builder of a [`MinMaxScaler`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct MinMaxScalerBuilder<F = f64> {
    feature_range: (f64, f64),
    clip: bool,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> MinMaxScalerBuilder<F> {
    /// Target range `(min, max)` of the transformed data (default `(0, 1)`).
    pub fn feature_range(mut self, min: f64, max: f64) -> Self {
        self.feature_range = (min, max);
        self
    }

    /// Clamp transformed values to `feature_range` (default `false`).
    pub fn clip(mut self, clip: bool) -> Self {
        self.clip = clip;
        self
    }

    /// Validates and builds the (unfitted) scaler.
    pub fn build(self) -> Result<MinMaxScaler<F>> {
        let (a, b) = self.feature_range;
        if !a.is_finite() || !b.is_finite() || a >= b {
            let value = if a.is_finite() { b } else { a };
            return Err(Error::InvalidParameter {
                name: "feature_range",
                value,
                expected: "finite (min, max) with min < max",
            });
        }
        Ok(MinMaxScaler { feature_range: (F::lit(a), F::lit(b)), clip: self.clip, fitted: None })
    }
}

impl<F: Float> Default for MinMaxScaler<F> {
    fn default() -> Self {
        MinMaxScaler { feature_range: (F::zero(), F::one()), clip: false, fitted: None }
    }
}

impl<F: Float> MinMaxScaler<F> {
    /// A scaler with scikit-learn's defaults (`feature_range = (0, 1)`, `clip = false`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> MinMaxScalerBuilder<F> {
        MinMaxScalerBuilder { feature_range: (0.0, 1.0), clip: false, _f: std::marker::PhantomData }
    }

    stats::fitted_state!(Fitted<F>);

    /// Per-column minimum of the fit data (NaN ignored; NaN for an all-NaN column).
    #[doc(alias = "data_min_")]
    pub fn data_min(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MinMaxScaler::data_min")?.data_min.view())
    }

    /// Per-column maximum of the fit data.
    #[doc(alias = "data_max_")]
    pub fn data_max(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MinMaxScaler::data_max")?.data_max.view())
    }

    /// Per-column `data_max - data_min`.
    #[doc(alias = "data_range_")]
    pub fn data_range(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MinMaxScaler::data_range")?.data_range.view())
    }

    /// Per-column factor `(b - a) / data_range`.
    #[doc(alias = "scale_")]
    pub fn scale(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MinMaxScaler::scale")?.scale.view())
    }

    /// Per-column offset `a - data_min · scale`.
    #[doc(alias = "min_")]
    pub fn min(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MinMaxScaler::min")?.min.view())
    }

    /// Rows seen in `fit` (NaN included, as scikit-learn).
    #[doc(alias = "n_samples_seen_")]
    pub fn n_samples_seen(&self) -> Result<usize> {
        Ok(self.fitted("MinMaxScaler::n_samples_seen")?.n_samples_seen)
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("MinMaxScaler::n_features_in")?.scale.len())
    }

    /// Transforms `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`]. On an error
    /// found mid-way (an infinite value) `out` is partly written.
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.apply(x, WriteInto(out))
    }

    /// `y = x · scale + min`, clamped to `feature_range` with `clip`.
    fn apply<S: ColumnSink<F>>(&self, x: ArrayView2<'_, F>, sink: S) -> Result<S::Out> {
        const OP: &str = "MinMaxScaler::transform";
        let f = self.fitted(OP)?;
        let (lo, hi) = self.feature_range;
        if self.clip {
            sink.map(OP, x, &f.scale, &f.min, |v, s, m| clip(v * s + m, lo, hi))
        } else {
            sink.map(OP, x, &f.scale, &f.min, |v, s, m| v * s + m)
        }
    }
}

impl<F: Float> Preprocessor<F> for MinMaxScaler<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "MinMaxScaler::fit";
        check_not_empty(OP, &x)?;
        stats::check_no_infinite(OP, "x", &x)?;
        let n = x.ncols();
        let mut lo = vec![F::infinity(); n];
        let mut hi = vec![F::neg_infinity(); n];
        stats::for_each_row(&x, |row| {
            for ((lo, hi), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                // NaN compares false and is skipped.
                if v < *lo {
                    *lo = v;
                }
                if v > *hi {
                    *hi = v;
                }
            }
        });
        let (a, b) = self.feature_range;
        let mut f = Fitted {
            data_min: Array1::zeros(n),
            data_max: Array1::zeros(n),
            data_range: Array1::zeros(n),
            scale: Array1::zeros(n),
            min: Array1::zeros(n),
            n_samples_seen: x.nrows(),
        };
        for j in 0..n {
            // No finite value seen: the column is all NaN.
            let (mn, mx) = if lo[j] > hi[j] { (F::nan(), F::nan()) } else { (lo[j], hi[j]) };
            let range = mx - mn;
            let r = stats::handle_zero_scale(range.as_f64());
            let scale = F::lit((b - a).as_f64() / r);
            f.data_min[j] = mn;
            f.data_max[j] = mx;
            f.data_range[j] = range;
            f.scale[j] = scale;
            f.min[j] = a - mn * scale;
        }
        self.fitted = Some(f);
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.apply(x, NewArray)
    }
}

impl<F: Float> InverseTransform<F> for MinMaxScaler<F> {
    /// `x = (y - min) / scale`. Values clipped by `clip` do not come back.
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<F>> {
        const OP: &str = "MinMaxScaler::inverse_transform";
        let f = self.fitted(OP)?;
        NewArray.map(OP, y, &f.scale, &f.min, |v, s, m| (v - m) / s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_feature_range() {
        for (a, b) in [(1.0, 1.0), (2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
            let r = MinMaxScaler::<f64>::builder().feature_range(a, b).build();
            assert!(matches!(r, Err(Error::InvalidParameter { name: "feature_range", .. })), "{a} {b}");
        }
    }

    #[test]
    fn hand_checked_and_clip() {
        // Column [2, 4, 10]: scale 1/8, min -2/8; x = 12 -> 1.25, clipped to 1.
        let mut s = MinMaxScaler::<f64>::builder().clip(true).build().unwrap();
        s.fit(array![[2.0, 5.0], [4.0, 5.0], [10.0, f64::NAN]].view()).unwrap();
        assert_eq!(s.scale().unwrap(), array![0.125, 1.0]);
        assert_eq!(s.min().unwrap(), array![-0.25, -5.0]);
        assert_eq!(s.n_samples_seen().unwrap(), 3);
        let y = s.transform(array![[12.0, 5.0], [6.0, f64::NAN]].view()).unwrap();
        assert_eq!(y[[0, 0]], 1.0);
        assert_eq!(y[[1, 0]], 0.5);
        assert_eq!(y[[0, 1]], 0.0);
        assert!(y[[1, 1]].is_nan());
    }

    #[test]
    fn f32_works() {
        let x = array![[1.0f32], [3.0], [5.0]];
        let y = MinMaxScaler::<f32>::new().fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[0.0f32], [0.5], [1.0]]);
    }
}
