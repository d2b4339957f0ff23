//! [`MaxAbsScaler`]: scale each column by its maximum absolute value.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use super::stats::{self, ColumnSink, NewArray, WriteInto, check_not_empty, clip};
use super::{InverseTransform, Preprocessor};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// Scales each column by its maximum absolute value, into `[-1, 1]`, without shifting
/// (scikit-learn's `MaxAbsScaler`; zeros stay zeros).
///
/// # Math
///
/// ```text
/// max_abs_j = max |x_ij| over the non-NaN values of column j
/// scale_j   = max_abs_j, or 1 when max_abs_j < 10·eps (an all-zero column)
/// y_ij      = x_ij / scale_j      then, with clip, clamped to [-1, 1]
/// inverse:    x_ij = y_ij · scale_j
/// ```
///
/// **Missing values:** NaN is ignored in `fit` and passed through. Infinite values are
/// an error.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `clip` | `false` | bool: clamp transformed values to `[-1, 1]` (scikit-learn ≥ 1.9) |
///
/// Fitted attributes: [`max_abs`](Self::max_abs), [`scale`](Self::scale),
/// [`n_samples_seen`](Self::n_samples_seen).
///
/// # Errors
///
/// `fit`: [`Error::EmptyInput`], [`Error::NonFinite`] (infinity). `transform`,
/// `transform_into`, `inverse_transform`: [`Error::NotFitted`],
/// [`Error::ShapeMismatch`], [`Error::NonFinite`] (infinity).
///
/// Reference: scikit-learn `sklearn.preprocessing.MaxAbsScaler` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::MaxAbsScaler;
///
/// let x = array![[1.0, -4.0], [-2.0, 2.0], [0.5, 0.0]];
/// let mut scaler = MaxAbsScaler::default();
/// let y = scaler.fit_transform(x.view())?;
/// assert_eq!(y, array![[0.5, -1.0], [-1.0, 0.5], [0.25, 0.0]]);
/// assert_eq!(scaler.max_abs()?, array![2.0, 4.0]);
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
pub struct MaxAbsScaler<F = f64> {
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
    max_abs: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    scale: Array1<F>,
    n_samples_seen: usize,
}

/// Builder of a [`MaxAbsScaler`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct MaxAbsScalerBuilder<F = f64> {
    clip: bool,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> MaxAbsScalerBuilder<F> {
    /// Clamp transformed values to `[-1, 1]` (default `false`).
    pub fn clip(mut self, clip: bool) -> Self {
        self.clip = clip;
        self
    }

    /// Builds the (unfitted) scaler. Every value is valid.
    pub fn build(self) -> Result<MaxAbsScaler<F>> {
        Ok(MaxAbsScaler { clip: self.clip, fitted: None })
    }
}

impl<F: Float> Default for MaxAbsScaler<F> {
    fn default() -> Self {
        MaxAbsScaler { clip: false, fitted: None }
    }
}

impl<F: Float> MaxAbsScaler<F> {
    /// A scaler with scikit-learn's defaults (`clip = false`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> MaxAbsScalerBuilder<F> {
        MaxAbsScalerBuilder { clip: false, _f: std::marker::PhantomData }
    }

    stats::fitted_state!(Fitted<F>);

    /// Per-column maximum absolute value (NaN ignored; NaN for an all-NaN column).
    #[doc(alias = "max_abs_")]
    pub fn max_abs(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MaxAbsScaler::max_abs")?.max_abs.view())
    }

    /// Per-column divisor (`max_abs`, with zeros replaced by 1).
    #[doc(alias = "scale_")]
    pub fn scale(&self) -> Result<ArrayView1<'_, F>> {
        Ok(self.fitted("MaxAbsScaler::scale")?.scale.view())
    }

    /// Rows seen in `fit` (NaN included, as scikit-learn).
    #[doc(alias = "n_samples_seen_")]
    pub fn n_samples_seen(&self) -> Result<usize> {
        Ok(self.fitted("MaxAbsScaler::n_samples_seen")?.n_samples_seen)
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("MaxAbsScaler::n_features_in")?.scale.len())
    }

    /// Transforms `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`]. On an error
    /// found mid-way (an infinite value) `out` is partly written.
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.apply(x, WriteInto(out))
    }

    /// `y = x / scale`, clamped to `[-1, 1]` (NaN passes through) with `clip`.
    fn apply<S: ColumnSink<F>>(&self, x: ArrayView2<'_, F>, sink: S) -> Result<S::Out> {
        const OP: &str = "MaxAbsScaler::transform";
        let f = self.fitted(OP)?;
        let one = F::one();
        if self.clip {
            sink.map(OP, x, &f.scale, &f.scale, |v, s, _| clip(v / s, -one, one))
        } else {
            sink.map(OP, x, &f.scale, &f.scale, |v, s, _| v / s)
        }
    }
}

impl<F: Float> Preprocessor<F> for MaxAbsScaler<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "MaxAbsScaler::fit";
        check_not_empty(OP, &x)?;
        stats::check_no_infinite(OP, "x", &x)?;
        let n = x.ncols();
        let mut mx = vec![F::neg_infinity(); n];
        stats::for_each_row(&x, |row| {
            for (m, &v) in mx.iter_mut().zip(row) {
                let a = v.abs();
                if a > *m {
                    *m = a;
                }
            }
        });
        let max_abs: Array1<F> = mx.iter().map(|&m| if m < F::zero() { F::nan() } else { m }).collect();
        let scale = max_abs.mapv(|m| F::lit(stats::handle_zero_scale(m.as_f64())));
        self.fitted = Some(Fitted { max_abs, scale, n_samples_seen: x.nrows() });
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.apply(x, NewArray)
    }
}

impl<F: Float> InverseTransform<F> for MaxAbsScaler<F> {
    /// `x = y · scale`. Values clipped by `clip` do not come back.
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<F>> {
        const OP: &str = "MaxAbsScaler::inverse_transform";
        let f = self.fitted(OP)?;
        NewArray.map(OP, y, &f.scale, &f.scale, |v, s, _| v * s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn zero_column_and_nan() {
        let mut s = MaxAbsScaler::<f64>::new();
        s.fit(array![[0.0, f64::NAN, -3.0], [0.0, f64::NAN, 1.5]].view()).unwrap();
        assert_eq!(s.scale().unwrap()[0], 1.0);
        assert_eq!(s.max_abs().unwrap()[0], 0.0);
        assert!(s.max_abs().unwrap()[1].is_nan());
        assert_eq!(s.max_abs().unwrap()[2], 3.0);
        let y = s.transform(array![[2.0, 1.0, 6.0]].view()).unwrap();
        assert_eq!(y[[0, 0]], 2.0);
        assert_eq!(y[[0, 2]], 2.0);
    }

    #[test]
    fn clip_to_unit_interval_f32() {
        let mut s = MaxAbsScaler::<f32>::builder().clip(true).build().unwrap();
        s.fit(array![[2.0f32], [-1.0]].view()).unwrap();
        assert_eq!(
            s.transform(array![[5.0f32], [-9.0], [1.0]].view()).unwrap(),
            array![[1.0f32], [-1.0], [0.5]]
        );
    }
}
