//! [`StandardScaler`]: remove the mean and scale to unit variance, per column.

use std::marker::PhantomData;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use super::stats::{self, ColumnSink, NewArray, WriteInto, check_not_empty};
use super::{InverseTransform, Preprocessor};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// Standardizes features: `z = (x - mean) / scale`, per column (scikit-learn's
/// `StandardScaler`).
///
/// # Math
///
/// Over the `n_j` non-NaN values of column `j`:
///
/// ```text
/// mean_j  = (1/n_j) Σ x_ij
/// var_j   = (1/n_j) Σ (x_ij - mean_j)²          (population variance, ddof 0)
/// scale_j = sqrt(var_j), or 1 when column j is constant
/// z_ij    = (x_ij - mean_j) / scale_j           inverse: x_ij = z_ij · scale_j + mean_j
/// ```
///
/// A column is constant, as in scikit-learn's `_is_constant_feature`, when
/// `var_j <= n_j·eps·var_j + (n_j·mean_j·eps)²` (eps of f64); such a column, or any scale
/// below `10·eps`, gets scale 1 (`_handle_zeros_in_scale`), so it is centred, not blown up.
/// With `with_mean = false` nothing is subtracted (the mean is still computed, as in
/// scikit-learn); with `with_std = false` nothing is divided and `var`/`scale` are `None`.
///
/// Statistics are accumulated in f64 (also for f32 data) with shifted, blocked sums in
/// one pass over the rows (a second pass only when the data sit far from their first
/// row); they agree with scikit-learn to ~1e-13 relative.
///
/// **Missing values:** NaN is ignored in `fit` (each column counts its own
/// `n_samples_seen`) and passed through by `transform`. Infinite values are an error.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `with_mean` | `true` | bool: subtract the mean |
/// | `with_std` | `true` | bool: divide by the standard deviation |
///
/// Fitted attributes (scikit-learn's names without the trailing underscore):
/// [`mean`](Self::mean), [`var`](Self::var), [`scale`](Self::scale),
/// [`n_samples_seen`](Self::n_samples_seen), [`n_features_in`](Self::n_features_in).
///
/// # Errors
///
/// `fit`: [`Error::EmptyInput`] without rows or columns, [`Error::NonFinite`] for an
/// infinite value. `transform`, [`transform_into`](Self::transform_into),
/// `inverse_transform`: [`Error::NotFitted`] before `fit`, [`Error::ShapeMismatch`] for a
/// wrong number of columns (or a wrongly shaped `out`), [`Error::NonFinite`] for an
/// infinite value.
///
/// Deviation: `transform` of a 0-row array returns a 0-row array (scikit-learn raises).
/// Reference: scikit-learn `sklearn.preprocessing.StandardScaler` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::StandardScaler;
///
/// let x = array![[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]];
/// let mut scaler = StandardScaler::<f64>::default();
/// let z = scaler.fit_transform(x.view())?;
/// assert_eq!(scaler.mean()?.unwrap(), array![3.0, 10.0]);
/// assert_eq!(scaler.scale()?.unwrap()[1], 1.0); // constant column: scale 1
/// assert!((z[[0, 0]] + 1.224744871391589).abs() < 1e-12);
/// let back = scaler.inverse_transform(z.view())?;
/// assert!((&back - &x).iter().all(|d| d.abs() < 1e-12));
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
pub struct StandardScaler<F = f64> {
    with_mean: bool,
    with_std: bool,
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
    mean: Option<Array1<F>>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::opt_vec"))]
    var: Option<Array1<F>>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::opt_vec"))]
    scale: Option<Array1<F>>,
    n_samples_seen: Array1<usize>,
    /// `transform` computes `(x - shift) * factor`: shift = mean or 0, factor = 1/scale or 1.
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    shift: Array1<F>,
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::vec"))]
    factor: Array1<F>,
}

/// Builder of a [`StandardScaler`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct StandardScalerBuilder<F = f64> {
    with_mean: bool,
    with_std: bool,
    _f: PhantomData<F>,
}

impl<F: Float> StandardScalerBuilder<F> {
    /// Subtract the mean in `transform` (default `true`).
    pub fn with_mean(mut self, with_mean: bool) -> Self {
        self.with_mean = with_mean;
        self
    }

    /// Divide by the standard deviation in `transform` (default `true`).
    pub fn with_std(mut self, with_std: bool) -> Self {
        self.with_std = with_std;
        self
    }

    /// Builds the (unfitted) scaler. Every combination is valid.
    pub fn build(self) -> Result<StandardScaler<F>> {
        Ok(StandardScaler { with_mean: self.with_mean, with_std: self.with_std, fitted: None })
    }
}

impl<F: Float> Default for StandardScaler<F> {
    fn default() -> Self {
        StandardScaler { with_mean: true, with_std: true, fitted: None }
    }
}

impl<F: Float> StandardScaler<F> {
    /// A scaler with scikit-learn's defaults (`with_mean = true`, `with_std = true`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> StandardScalerBuilder<F> {
        StandardScalerBuilder { with_mean: true, with_std: true, _f: PhantomData }
    }

    stats::fitted_state!(Fitted<F>);

    /// Per-column mean of the fit data (NaN ignored); `None` when both `with_mean` and
    /// `with_std` are false (as scikit-learn).
    #[doc(alias = "mean_")]
    pub fn mean(&self) -> Result<Option<ArrayView1<'_, F>>> {
        Ok(self.fitted("StandardScaler::mean")?.mean.as_ref().map(|a| a.view()))
    }

    /// Per-column population variance; `None` when `with_std` is false.
    #[doc(alias = "var_")]
    pub fn var(&self) -> Result<Option<ArrayView1<'_, F>>> {
        Ok(self.fitted("StandardScaler::var")?.var.as_ref().map(|a| a.view()))
    }

    /// Per-column scale (standard deviation, 1 for constant columns); `None` when
    /// `with_std` is false.
    #[doc(alias = "scale_")]
    pub fn scale(&self) -> Result<Option<ArrayView1<'_, F>>> {
        Ok(self.fitted("StandardScaler::scale")?.scale.as_ref().map(|a| a.view()))
    }

    /// Non-NaN values seen per column. scikit-learn stores one integer when all columns
    /// agree; here it is always per column.
    #[doc(alias = "n_samples_seen_")]
    pub fn n_samples_seen(&self) -> Result<ArrayView1<'_, usize>> {
        Ok(self.fitted("StandardScaler::n_samples_seen")?.n_samples_seen.view())
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("StandardScaler::n_features_in")?.shift.len())
    }

    /// Transforms `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`]. On an error
    /// found mid-way (an infinite value) `out` is partly written.
    pub fn transform_into(&self, x: ArrayView2<'_, F>, out: ArrayViewMut2<'_, F>) -> Result<()> {
        self.apply(x, WriteInto(out))
    }

    /// `z = (x - shift) · factor`.
    fn apply<S: ColumnSink<F>>(&self, x: ArrayView2<'_, F>, sink: S) -> Result<S::Out> {
        const OP: &str = "StandardScaler::transform";
        let f = self.fitted(OP)?;
        sink.map(OP, x, &f.shift, &f.factor, |v, m, s| (v - m) * s)
    }
}

impl<F: Float> Preprocessor<F> for StandardScaler<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "StandardScaler::fit";
        check_not_empty(OP, &x)?;
        let m = stats::moments(OP, &x)?;
        let n = x.ncols();
        let n_samples_seen = Array1::from(m.count.clone());
        let (mut mean, mut var, mut scale) = (None, None, None);
        let mut shift = Array1::zeros(n);
        let mut factor = Array1::ones(n);
        if self.with_mean || self.with_std {
            let mean_f: Array1<F> = m.mean.iter().map(|&v| F::lit(v)).collect();
            if self.with_mean {
                shift.assign(&mean_f);
            }
            mean = Some(mean_f);
        }
        if self.with_std {
            let eps = f64::EPSILON;
            let mut v = Array1::zeros(n);
            let mut s = Array1::zeros(n);
            for j in 0..n {
                let cnt = m.count[j] as f64;
                let var_j = m.m2[j] / cnt;
                let mean_j = m.mean[j];
                // scikit-learn's _is_constant_feature, then _handle_zeros_in_scale.
                let bound = cnt * eps * var_j + (cnt * mean_j * eps).powi(2);
                let scale_j = if var_j <= bound { 1.0 } else { stats::handle_zero_scale(var_j.sqrt()) };
                v[j] = F::lit(var_j);
                s[j] = F::lit(scale_j);
                factor[j] = F::lit(1.0 / scale_j);
            }
            var = Some(v);
            scale = Some(s);
        }
        self.fitted = Some(Fitted { mean, var, scale, n_samples_seen, shift, factor });
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.apply(x, NewArray)
    }
}

impl<F: Float> InverseTransform<F> for StandardScaler<F> {
    /// `x = z · scale + mean` (each step skipped when disabled).
    fn inverse_transform(&self, z: ArrayView2<'_, F>) -> Result<Array2<F>> {
        const OP: &str = "StandardScaler::inverse_transform";
        let f = self.fitted(OP)?;
        let scale: Array1<F> = f.scale.clone().unwrap_or_else(|| Array1::ones(f.shift.len()));
        NewArray.map(OP, z, &scale, &f.shift, |v, s, m| v * s + m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_checked_mean_var_scale() {
        // Column 0: [1, 2, 6] -> mean 3, var ((4 + 1 + 9) / 3) = 14/3.
        let x = array![[1.0, -1.0], [2.0, -1.0], [6.0, -1.0]];
        let mut s = StandardScaler::<f64>::new();
        let z = s.fit_transform(x.view()).unwrap();
        assert_eq!(s.mean().unwrap().unwrap(), array![3.0, -1.0]);
        let var = s.var().unwrap().unwrap();
        assert!((var[0] - 14.0 / 3.0).abs() < 1e-15);
        assert_eq!(var[1], 0.0);
        assert_eq!(s.scale().unwrap().unwrap()[1], 1.0);
        assert!((z[[2, 0]] - 3.0 / (14.0f64 / 3.0).sqrt()).abs() < 1e-14);
        assert_eq!(z.column(1), array![0.0, 0.0, 0.0]);
        assert_eq!(s.n_samples_seen().unwrap(), array![3, 3]);
    }

    #[test]
    fn f32_works_and_matches_f64() {
        let x64 = array![[1.0, 100.0], [2.0, 300.0], [4.0, 200.0], [8.0, 500.0]];
        let x32 = x64.mapv(|v| v as f32);
        let z64 = StandardScaler::<f64>::new().fit_transform(x64.view()).unwrap();
        let z32 = StandardScaler::<f32>::new().fit_transform(x32.view()).unwrap();
        for (a, b) in z64.iter().zip(z32.iter()) {
            assert!((*a as f32 - b).abs() < 1e-6);
        }
    }

    #[test]
    fn with_flags_follow_sklearn() {
        let x = array![[1.0], [3.0]];
        let mut s = StandardScaler::<f64>::builder().with_mean(false).build().unwrap();
        let z = s.fit_transform(x.view()).unwrap();
        assert_eq!(s.mean().unwrap().unwrap(), array![2.0]); // computed, not applied
        assert_eq!(z, array![[1.0], [3.0]]);
        let mut s = StandardScaler::<f64>::builder().with_mean(false).with_std(false).build().unwrap();
        let z = s.fit_transform(x.view()).unwrap();
        assert!(s.mean().unwrap().is_none() && s.var().unwrap().is_none() && s.scale().unwrap().is_none());
        assert_eq!(z, x);
        let mut s = StandardScaler::<f64>::builder().with_std(false).build().unwrap();
        assert_eq!(s.fit_transform(x.view()).unwrap(), array![[-1.0], [1.0]]);
        assert!(s.var().unwrap().is_none());
    }

    #[test]
    fn nan_ignored_in_fit_and_passed_through() {
        let x = array![[1.0, f64::NAN], [3.0, 4.0], [f64::NAN, 8.0]];
        let mut s = StandardScaler::<f64>::new();
        let z = s.fit_transform(x.view()).unwrap();
        assert_eq!(s.n_samples_seen().unwrap(), array![2, 2]);
        assert_eq!(s.mean().unwrap().unwrap(), array![2.0, 6.0]);
        assert!(z[[0, 1]].is_nan() && z[[2, 0]].is_nan());
        assert_eq!(z[[1, 1]], -1.0);
    }

    #[test]
    fn errors_leave_state_unchanged() {
        let mut s = StandardScaler::<f64>::new();
        assert!(matches!(s.transform(array![[1.0]].view()), Err(Error::NotFitted { .. })));
        s.fit(array![[1.0, 2.0], [3.0, 4.0]].view()).unwrap();
        let before = s.clone();
        assert!(matches!(s.fit(array![[f64::INFINITY, 2.0]].view()), Err(Error::NonFinite { .. })));
        assert_eq!(s, before);
        assert!(matches!(s.transform(array![[1.0]].view()), Err(Error::ShapeMismatch { .. })));
        let mut out = Array2::zeros((1, 3));
        let r = s.transform_into(array![[1.0, 2.0]].view(), out.view_mut());
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
        let r = s.transform(array![[1.0, 2.0], [1.0, f64::NEG_INFINITY]].view());
        assert!(matches!(r, Err(Error::NonFinite { index, .. }) if index == vec![1, 1]));
    }

    #[test]
    fn send_sync() {
        fn check<T: Send + Sync>() {}
        check::<StandardScaler<f32>>();
        check::<StandardScaler<f64>>();
    }
}
