//! [`RobustScaler`]: centre on the median, scale by an inter-quantile range.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use super::stats::{self, ColumnSink, NewArray, WriteInto, check_not_empty};
use super::{InverseTransform, Preprocessor};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// Scales features with statistics that resist outliers: subtract the median, divide by
/// an inter-quantile range (scikit-learn's `RobustScaler`).
///
/// # Math
///
/// Over the non-NaN values of column `j`, with `quantile_range = (q_min, q_max)` in
/// percent and `P(q)` numpy's linear percentile (position `(n-1)·q/100` in the sorted
/// values, linear interpolation):
///
/// ```text
/// center_j = median_j                       (with_centering)
/// scale_j  = P(q_max) - P(q_min), or 1 when below 10·eps      (with_scaling)
///            divided by Φ⁻¹(q_max/100) - Φ⁻¹(q_min/100) with unit_variance
/// y_ij     = (x_ij - center_j) / scale_j    inverse: x_ij = y_ij · scale_j + center_j
/// ```
///
/// `Φ⁻¹` is the standard normal quantile (Wichura's AS 241). With `unit_variance`,
/// normally distributed data end up with variance 1.
///
/// **Missing values:** NaN is ignored in `fit` and passed through. Infinite values are
/// an error.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `with_centering` | `true` | bool |
/// | `with_scaling` | `true` | bool |
/// | `quantile_range` | `(25, 75)` | `0 <= q_min <= q_max <= 100` (percent) |
/// | `unit_variance` | `false` | bool; needs `0 < q_min < q_max < 100` |
///
/// Fitted attributes: [`center`](Self::center) (`None` without centring),
/// [`scale`](Self::scale) (`None` without scaling).
///
/// # Errors
///
/// `build`: [`Error::InvalidParameter`] (`"quantile_range"`) for a range outside
/// `0 <= q_min <= q_max <= 100`; [`Error::InvalidConfig`] for `unit_variance` with
/// `q_min == q_max` or a bound at 0 or 100 (scikit-learn then produces an infinite or zero
/// scale; this is a deviation). `fit`: [`Error::EmptyInput`], [`Error::NonFinite`].
/// `transform`, `transform_into`, `inverse_transform`: [`Error::NotFitted`],
/// [`Error::ShapeMismatch`], [`Error::NonFinite`].
///
/// Reference: scikit-learn `sklearn.preprocessing.RobustScaler` (1.9); numpy
/// `percentile(method="linear")`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::RobustScaler;
///
/// let x = array![[1.0], [2.0], [3.0], [4.0], [100.0]];
/// let mut scaler = RobustScaler::default();
/// let y = scaler.fit_transform(x.view())?;
/// assert_eq!(scaler.center()?.unwrap(), array![3.0]);
/// assert_eq!(scaler.scale()?.unwrap(), array![2.0]); // P75 - P25 = 4 - 2
/// assert_eq!(y.column(0), array![-1.0, -0.5, 0.0, 0.5, 48.5]);
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
pub struct RobustScaler<F = f64> {
    with_centering: bool,
    with_scaling: bool,
    quantile_range: (f64, f64),
    unit_variance: bool,
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
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::opt_vec"))]
    center: Option<Array1<F>>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::opt_vec"))]
    scale: Option<Array1<F>>,
    /// `(x - shift) / divisor`: shift = center or 0, divisor = scale or 1.
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    shift: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    divisor: Array1<F>,
}

/// Builder of a [`RobustScaler`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct RobustScalerBuilder<F = f64> {
    with_centering: bool,
    with_scaling: bool,
    quantile_range: (f64, f64),
    unit_variance: bool,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> RobustScalerBuilder<F> {
    /// Subtract the median (default `true`).
    pub fn with_centering(mut self, v: bool) -> Self {
        self.with_centering = v;
        self
    }

    /// Divide by the inter-quantile range (default `true`).
    pub fn with_scaling(mut self, v: bool) -> Self {
        self.with_scaling = v;
        self
    }

    /// Percentiles `(q_min, q_max)` whose difference is the scale (default `(25, 75)`).
    pub fn quantile_range(mut self, q_min: f64, q_max: f64) -> Self {
        self.quantile_range = (q_min, q_max);
        self
    }

    /// Divide the scale by the normal distribution's range for the same quantiles
    /// (default `false`).
    pub fn unit_variance(mut self, v: bool) -> Self {
        self.unit_variance = v;
        self
    }

    /// Validates and builds the (unfitted) scaler.
    pub fn build(self) -> Result<RobustScaler<F>> {
        let (a, b) = self.quantile_range;
        if !(0.0..=100.0).contains(&a) {
            return Err(Error::InvalidParameter {
                name: "quantile_range",
                value: a,
                expected: "0 <= q_min <= q_max <= 100",
            });
        }
        if !(a..=100.0).contains(&b) {
            return Err(Error::InvalidParameter {
                name: "quantile_range",
                value: b,
                expected: "0 <= q_min <= q_max <= 100",
            });
        }
        if self.unit_variance && self.with_scaling && (a == b || a == 0.0 || b == 100.0) {
            return Err(Error::invalid_config(format!(
                "RobustScaler: unit_variance needs 0 < q_min < q_max < 100, got quantile_range ({a}, {b})"
            )));
        }
        Ok(RobustScaler {
            with_centering: self.with_centering,
            with_scaling: self.with_scaling,
            quantile_range: self.quantile_range,
            unit_variance: self.unit_variance,
            fitted: None,
        })
    }
}

impl<F: Float> Default for RobustScaler<F> {
    fn default() -> Self {
        RobustScaler {
            with_centering: true,
            with_scaling: true,
            quantile_range: (25.0, 75.0),
            unit_variance: false,
            fitted: None,
        }
    }
}

impl<F: Float> RobustScaler<F> {
    /// A scaler with scikit-learn's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> RobustScalerBuilder<F> {
        RobustScalerBuilder {
            with_centering: true,
            with_scaling: true,
            quantile_range: (25.0, 75.0),
            unit_variance: false,
            _f: std::marker::PhantomData,
        }
    }

    stats::fitted_state!(Fitted<F>);

    /// Per-column median (NaN ignored); `None` when `with_centering` is false.
    #[doc(alias = "center_")]
    pub fn center(&self) -> Result<Option<ArrayView1<'_, F>>> {
        Ok(self.fitted("RobustScaler::center")?.center.as_ref().map(|a| a.view()))
    }

    /// Per-column inter-quantile range (1 where it is zero); `None` when
    /// `with_scaling` is false.
    #[doc(alias = "scale_")]
    pub fn scale(&self) -> Result<Option<ArrayView1<'_, F>>> {
        Ok(self.fitted("RobustScaler::scale")?.scale.as_ref().map(|a| a.view()))
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("RobustScaler::n_features_in")?.shift.len())
    }

    /// Transforms `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`]. On an error
    /// found mid-way (an infinite value) `out` is partly written.
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.apply(x, WriteInto(out))
    }

    /// `y = (x - shift) / divisor`.
    fn apply<S: ColumnSink<F>>(&self, x: ArrayView2<'_, F>, sink: S) -> Result<S::Out> {
        const OP: &str = "RobustScaler::transform";
        let f = self.fitted(OP)?;
        sink.map(OP, x, &f.shift, &f.divisor, |v, c, s| (v - c) / s)
    }
}

impl<F: Float> Preprocessor<F> for RobustScaler<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "RobustScaler::fit";
        check_not_empty(OP, &x)?;
        stats::check_no_infinite(OP, "x", &x)?;
        let n = x.ncols();
        let mut cols = stats::columns_without_nan(&x);
        cols.iter_mut().for_each(|c| stats::sort_f64(c));
        let (q_min, q_max) = self.quantile_range;
        let center =
            self.with_centering.then(|| cols.iter().map(|c| F::lit(stats::median_sorted(c))).collect());
        let scale = self.with_scaling.then(|| {
            let adjust = if self.unit_variance {
                stats::norm_ppf(q_max / 100.0) - stats::norm_ppf(q_min / 100.0)
            } else {
                1.0
            };
            cols.iter()
                .map(|c| {
                    let iqr = stats::percentile_sorted(c, q_max) - stats::percentile_sorted(c, q_min);
                    let s = stats::handle_zero_scale(iqr);
                    F::lit(if self.unit_variance { s / adjust } else { s })
                })
                .collect::<Array1<F>>()
        });
        let shift = center.clone().unwrap_or_else(|| Array1::zeros(n));
        let divisor = scale.clone().unwrap_or_else(|| Array1::ones(n));
        self.fitted = Some(Fitted { center, scale, shift, divisor });
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.apply(x, NewArray)
    }
}

impl<F: Float> InverseTransform<F> for RobustScaler<F> {
    /// `x = y · scale + center` (each step skipped when disabled).
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<F>> {
        const OP: &str = "RobustScaler::inverse_transform";
        let f = self.fitted(OP)?;
        NewArray.map(OP, y, &f.shift, &f.divisor, |v, c, s| v * s + c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn invalid_quantile_range() {
        for (a, b) in [(-1.0, 50.0), (60.0, 50.0), (10.0, 101.0), (f64::NAN, 50.0)] {
            let r = RobustScaler::<f64>::builder().quantile_range(a, b).build();
            assert!(matches!(r, Err(Error::InvalidParameter { name: "quantile_range", .. })), "{a} {b}");
        }
        let r = RobustScaler::<f64>::builder().quantile_range(0.0, 75.0).unit_variance(true).build();
        assert!(matches!(r, Err(Error::InvalidConfig(_))));
        assert!(RobustScaler::<f64>::builder().quantile_range(30.0, 30.0).build().is_ok());
    }

    #[test]
    fn hand_checked_quantiles_with_nan_and_unit_variance() {
        // Column [4, 1, NaN, 3, 2]: sorted [1, 2, 3, 4]; median 2.5; P25 = 1.75, P75 = 3.25.
        let x = array![[4.0f32], [1.0], [f32::NAN], [3.0], [2.0]];
        let mut s = RobustScaler::<f32>::new();
        let y = s.fit_transform(x.view()).unwrap();
        assert_eq!(s.center().unwrap().unwrap(), array![2.5f32]);
        assert_eq!(s.scale().unwrap().unwrap(), array![1.5f32]);
        assert!(y[[2, 0]].is_nan());
        assert_eq!(y[[0, 0]], 1.0);
        let mut s = RobustScaler::<f64>::builder().unit_variance(true).build().unwrap();
        s.fit(x.mapv(f64::from).view()).unwrap();
        // 1.5 / (norm.ppf(0.75) - norm.ppf(0.25)) = 1.5 / 1.3489795003921634
        assert!((s.scale().unwrap().unwrap()[0] - 1.5 / 1.3489795003921634).abs() < 1e-15);
    }
}
