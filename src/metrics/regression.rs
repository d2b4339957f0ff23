//! Regression metrics (sklearn.metrics): errors (MSE, RMSE, MAE, MAPE, MSLE, median
//! and max absolute error) and scores (R², explained variance, D² absolute error).
//!
//! Inputs are `[N]` (one output) or `[N, K]` (K outputs); each metric is computed per
//! output, then aggregated as [`RegressionOptions::multioutput`] says. The
//! `*_raw_values` functions return the per-output values (scikit-learn's
//! `multioutput="raw_values"`).

use ndarray::{Array1, Array2, ArrayView1, ArrayViewD};

use crate::error::{Error, Result};
use crate::metrics::label::{ArrayLike, check_weights, non_empty, same_len, scores_f64};
use crate::tensor::Float;

/// How per-output values of a multi-output regression are aggregated (scikit-learn's
/// `multioutput`; per-output values come from the `*_raw_values` functions).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum MultiOutput {
    /// Plain mean over outputs (the default).
    #[default]
    UniformAverage,
    /// Mean weighted by each output's variance ([`r2_score`] and
    /// [`explained_variance_score`] only).
    VarianceWeighted,
    /// Mean weighted by these weights, one per output.
    Weights(Vec<f64>),
}

/// Keyword arguments of the regression metrics.
///
/// | option | default | |
/// |---|---|---|
/// | `sample_weight` | none | one weight per sample ([`max_error`] has none) |
/// | `multioutput` | [`MultiOutput::UniformAverage`] | |
/// | `force_finite` | `true` | [`r2_score`] / [`explained_variance_score`]: a constant `y_true` scores 1 (perfect) or 0, not NaN / −∞ |
#[derive(Clone, Debug)]
pub struct RegressionOptions<'w> {
    sample_weight: Option<ArrayViewD<'w, f64>>,
    multioutput: MultiOutput,
    force_finite: bool,
}

impl Default for RegressionOptions<'_> {
    fn default() -> Self {
        RegressionOptions {
            sample_weight: None,
            multioutput: MultiOutput::UniformAverage,
            force_finite: true,
        }
    }
}

impl<'w> RegressionOptions<'w> {
    /// scikit-learn's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    crate::metrics::sample_weight_setter!();
    /// Aggregation over outputs (default uniform mean).
    pub fn multioutput(mut self, multioutput: MultiOutput) -> Self {
        self.multioutput = multioutput;
        self
    }
    /// Replace the undefined scores of a constant `y_true` by 1 or 0 (default `true`).
    pub fn force_finite(mut self, force_finite: bool) -> Self {
        self.force_finite = force_finite;
        self
    }
}

/// Validated regression inputs as `[N, K]` float64 matrices.
pub(crate) struct RegInputs<'w> {
    pub yt: Array2<f64>,
    pub yp: Array2<f64>,
    pub w: Option<ArrayView1<'w, f64>>,
}

pub(crate) fn reg_inputs<'w, F: Float>(
    op: &'static str,
    y_true: ArrayViewD<'_, F>,
    y_pred: ArrayViewD<'_, F>,
    w: Option<ArrayViewD<'w, f64>>,
) -> Result<RegInputs<'w>> {
    let (yt, _) = scores_f64(op, "y_true", y_true)?;
    let (yp, _) = scores_f64(op, "y_pred", y_pred)?;
    same_len(op, "rows of y_pred (must match y_true)", yt.nrows(), yp.nrows())?;
    if yt.ncols() != yp.ncols() {
        return Err(Error::ShapeMismatch { op, expected: yt.shape().to_vec(), got: yp.shape().to_vec() });
    }
    non_empty(op, yt.nrows())?;
    let w = check_weights(op, w, yt.nrows())?;
    Ok(RegInputs { yt, yp, w })
}

/// `np.average(x, weights=w)` of one column.
fn avg(op: &'static str, x: impl Iterator<Item = f64>, w: &Option<ArrayView1<'_, f64>>) -> Result<f64> {
    crate::metrics::label::weighted_mean(op, x, w)
}

/// Aggregates per-output values. `variance` holds the per-output denominators for
/// [`MultiOutput::VarianceWeighted`] (`None`: not supported by this metric).
pub(crate) fn aggregate(
    op: &'static str,
    raw: &[f64],
    how: &MultiOutput,
    variance: Option<&[f64]>,
) -> Result<f64> {
    let weighted = |w: &[f64]| -> Result<f64> {
        let den: f64 = w.iter().sum();
        if den == 0.0 {
            return Err(Error::invalid_input(op, "multioutput weights sum to zero, can't be normalized"));
        }
        Ok(raw.iter().zip(w).map(|(v, w)| v * w).sum::<f64>() / den)
    };
    match how {
        MultiOutput::UniformAverage => Ok(raw.iter().sum::<f64>() / raw.len() as f64),
        MultiOutput::VarianceWeighted => match variance {
            None => Err(Error::invalid_config(format!(
                "{op}: multioutput='variance_weighted' is only supported by r2_score and explained_variance_score"
            ))),
            Some(v) if v.iter().all(|&d| d == 0.0) => Ok(raw.iter().sum::<f64>() / raw.len() as f64),
            Some(v) => weighted(v),
        },
        MultiOutput::Weights(w) => {
            if raw.len() == 1 {
                return Err(Error::invalid_input(
                    op,
                    "Custom weights are useful only in multi-output cases.",
                ));
            }
            if w.len() != raw.len() {
                return Err(Error::LengthMismatch {
                    op,
                    what: "multioutput weights (one per output)",
                    expected: raw.len(),
                    got: w.len(),
                });
            }
            if let Some(&bad) = w.iter().find(|v| !v.is_finite()) {
                return Err(Error::NonFinite { op, what: "multioutput weights", value: bad, index: vec![] });
            }
            weighted(w)
        }
    }
}

/// Per-output mean of `f(y_true, y_pred)`.
fn column_means(op: &'static str, inp: &RegInputs<'_>, f: impl Fn(f64, f64) -> f64) -> Result<Vec<f64>> {
    (0..inp.yt.ncols())
        .map(|j| avg(op, inp.yt.column(j).iter().zip(inp.yp.column(j)).map(|(&t, &p)| f(t, p)), &inp.w))
        .collect()
}

/// Checks MSLE's domain (`y > −1`), naming the first value outside it.
pub(crate) fn check_msle_domain(
    op: &'static str,
    what: &'static str,
    values: impl IntoIterator<Item = f64>,
) -> Result<()> {
    match values.into_iter().find(|&x| x <= -1.0 || x.is_nan()) {
        None => Ok(()),
        Some(x) => Err(Error::InvalidValue { op, what, value: x, expected: "values greater than -1" }),
    }
}

/// R² and explained variance: `1 − num/den` per output with scikit-learn's
/// `force_finite`.
pub(crate) fn assemble(num: &[f64], den: &[f64], force_finite: bool) -> Vec<f64> {
    num.iter()
        .zip(den)
        .map(|(&n, &d)| {
            if !force_finite {
                1.0 - n / d
            } else if n == 0.0 {
                1.0
            } else if d == 0.0 {
                0.0
            } else {
                1.0 - n / d
            }
        })
        .collect()
}

/// D² from the mean absolute deviations of the prediction (`num`) and of the median
/// (`den`): `1 − num/den`; 1 for a perfect prediction, else 0 when `den` is 0.
pub(crate) fn d2_score(num: f64, den: f64) -> f64 {
    if num != 0.0 && den != 0.0 {
        1.0 - num / den
    } else if num != 0.0 {
        0.0
    } else {
        1.0
    }
}

/// `np.median` of a column (mean of the two middle values for even lengths).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// scikit-learn's `_weighted_percentile(..., average=True)` ("averaged inverted CDF"):
/// with equal weights it equals the plain median.
pub(crate) fn weighted_median(values: &[f64], w: &[f64]) -> f64 {
    let n = values.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for &i in &idx {
        acc += w[i];
        cdf.push(acc);
    }
    let mut target = 0.5 * acc;
    if target == 0.0 {
        target = f64::from_bits(target.to_bits() + 1);
    }
    let max_idx = n - 1;
    let k = cdf.partition_point(|&c| c < target).min(max_idx);
    let fraction_above = cdf[k] - target;
    if fraction_above > f64::EPSILON {
        return values[idx[k]];
    }
    let mut k1 = (k + 1).min(max_idx);
    if w[idx[k1]] == 0.0 {
        let next = cdf.partition_point(|&c| c <= cdf[k]);
        k1 = if next >= max_idx { k } else { next };
    }
    (values[idx[k]] + values[idx[k1]]) / 2.0
}

macro_rules! regression_pair {
    ($(#[$doc:meta])* $name:ident, $raw:ident, $op:literal, $kernel:ident, variance: $variance:expr, nan_under_two: $nan2:expr) => {
        $(#[$doc])*
        pub fn $name<'a, F: Float>(
            y_true: impl ArrayLike<'a, F>,
            y_pred: impl ArrayLike<'a, F>,
            opts: RegressionOptions<'_>,
        ) -> Result<f64> {
            let inp = reg_inputs($op, y_true.array_view(), y_pred.array_view(), opts.sample_weight.clone())?;
            if $nan2 && inp.yt.nrows() < 2 {
                // scikit-learn warns and returns a scalar NaN, whatever `multioutput`
                return Ok(f64::NAN);
            }
            let (raw, variance) = $kernel(&inp, &opts)?;
            aggregate($op, &raw, &opts.multioutput, if $variance { Some(variance.as_slice()) } else { None })
        }

        #[doc = concat!("Per-output values of [`", stringify!($name), "`] (scikit-learn's `multioutput=\"raw_values\"`; the `multioutput` option is not used).")]
        ///
        /// # Errors
        #[doc = concat!("As [`", stringify!($name), "`].")]
        pub fn $raw<'a, F: Float>(
            y_true: impl ArrayLike<'a, F>,
            y_pred: impl ArrayLike<'a, F>,
            opts: RegressionOptions<'_>,
        ) -> Result<Array1<f64>> {
            let inp = reg_inputs($op, y_true.array_view(), y_pred.array_view(), opts.sample_weight.clone())?;
            Ok(Array1::from($kernel(&inp, &opts)?.0))
        }
    };
}

mod kernels {
    //! Per-output computations: `(values, variance weights)`.
    use super::*;

    pub(super) fn mean_squared_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        Ok((column_means("mean_squared_error", inp, |t, p| (t - p) * (t - p))?, vec![]))
    }

    pub(super) fn root_mean_squared_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let m = column_means("root_mean_squared_error", inp, |t, p| (t - p) * (t - p))?;
        Ok((m.into_iter().map(f64::sqrt).collect(), vec![]))
    }

    pub(super) fn mean_absolute_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        Ok((column_means("mean_absolute_error", inp, |t, p| (p - t).abs())?, vec![]))
    }

    pub(super) fn mean_absolute_percentage_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let f = |t: f64, p: f64| (p - t).abs() / t.abs().max(f64::EPSILON);
        Ok((column_means("mean_absolute_percentage_error", inp, f)?, vec![]))
    }

    pub(super) fn mean_squared_log_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        const OP: &str = "mean_squared_log_error";
        check_msle_domain(OP, "y_true", inp.yt.iter().copied())?;
        check_msle_domain(OP, "y_pred", inp.yp.iter().copied())?;
        let f = |t: f64, p: f64| {
            let d = t.ln_1p() - p.ln_1p();
            d * d
        };
        Ok((column_means(OP, inp, f)?, vec![]))
    }

    pub(super) fn median_absolute_error_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let out = (0..inp.yt.ncols())
            .map(|j| {
                let mut d: Vec<f64> =
                    inp.yt.column(j).iter().zip(inp.yp.column(j)).map(|(&t, &p)| (p - t).abs()).collect();
                match &inp.w {
                    None => median(&mut d),
                    Some(w) => weighted_median(&d, w.as_slice().unwrap_or(&w.to_vec())),
                }
            })
            .collect();
        Ok((out, vec![]))
    }

    pub(super) fn r2_score_kernel(
        inp: &RegInputs<'_>,
        o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        const OP: &str = "r2_score";
        let k = inp.yt.ncols();
        if inp.yt.nrows() < 2 {
            return Ok((vec![f64::NAN; k], vec![0.0; k]));
        }
        let mut num = Vec::with_capacity(k);
        let mut den = Vec::with_capacity(k);
        for j in 0..k {
            let (t, p) = (inp.yt.column(j), inp.yp.column(j));
            let mean = avg(OP, t.iter().copied(), &inp.w)?;
            let wi = |i: usize| crate::metrics::label::weight(&inp.w, i);
            num.push((0..t.len()).map(|i| wi(i) * (t[i] - p[i]) * (t[i] - p[i])).sum::<f64>());
            den.push((0..t.len()).map(|i| wi(i) * (t[i] - mean) * (t[i] - mean)).sum::<f64>());
        }
        Ok((assemble(&num, &den, o.force_finite), den))
    }

    pub(super) fn explained_variance_score_kernel(
        inp: &RegInputs<'_>,
        o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        const OP: &str = "explained_variance_score";
        let k = inp.yt.ncols();
        let mut num = Vec::with_capacity(k);
        let mut den = Vec::with_capacity(k);
        for j in 0..k {
            let (t, p) = (inp.yt.column(j), inp.yp.column(j));
            let diff: Vec<f64> = t.iter().zip(&p).map(|(&a, &b)| a - b).collect();
            let d_avg = avg(OP, diff.iter().copied(), &inp.w)?;
            num.push(avg(OP, diff.iter().map(|&d| (d - d_avg) * (d - d_avg)), &inp.w)?);
            let t_avg = avg(OP, t.iter().copied(), &inp.w)?;
            den.push(avg(OP, t.iter().map(|&v| (v - t_avg) * (v - t_avg)), &inp.w)?);
        }
        Ok((assemble(&num, &den, o.force_finite), den))
    }

    pub(super) fn d2_absolute_error_score_kernel(
        inp: &RegInputs<'_>,
        _o: &RegressionOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        const OP: &str = "d2_absolute_error_score";
        let k = inp.yt.ncols();
        if inp.yt.nrows() < 2 {
            return Ok((vec![f64::NAN; k], vec![]));
        }
        let mut out = Vec::with_capacity(k);
        for j in 0..k {
            let (t, p) = (inp.yt.column(j), inp.yp.column(j));
            let num = avg(OP, t.iter().zip(&p).map(|(&a, &b)| 0.5 * (a - b).abs()), &inp.w)?;
            let q = match &inp.w {
                None => median(&mut t.to_vec()),
                Some(w) => weighted_median(&t.to_vec(), &w.to_vec()),
            };
            let den = avg(OP, t.iter().map(|&a| 0.5 * (a - q).abs()), &inp.w)?;
            out.push(d2_score(num, den));
        }
        Ok((out, vec![]))
    }
}
use kernels::*;

regression_pair!(
    /// Mean squared error `(1/Σw) Σᵢ wᵢ (yᵢ − ŷᵢ)²`: `sklearn.metrics.mean_squared_error`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] / [`Error::ShapeMismatch`] for mismatched inputs,
    /// [`Error::EmptyInput`], [`Error::NonFinite`] values or weights, and invalid
    /// `multioutput` weights.
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_squared_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{mean_squared_error, RegressionOptions};
    ///
    /// let mse = mean_squared_error(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert_eq!(mse, 0.375);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    mean_squared_error, mean_squared_error_raw_values, "mean_squared_error", mean_squared_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Root mean squared error, per output `√MSE` then averaged:
    /// `sklearn.metrics.root_mean_squared_error`.
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.root_mean_squared_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{root_mean_squared_error, RegressionOptions};
    ///
    /// let r = root_mean_squared_error(&[0.0, 0.0], &[3.0, 4.0], RegressionOptions::new())?;
    /// assert!((r - 12.5f64.sqrt()).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    root_mean_squared_error, root_mean_squared_error_raw_values, "root_mean_squared_error", root_mean_squared_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Mean absolute error `(1/Σw) Σᵢ wᵢ |yᵢ − ŷᵢ|`: `sklearn.metrics.mean_absolute_error`.
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_absolute_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{mean_absolute_error, RegressionOptions};
    ///
    /// let mae = mean_absolute_error(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert_eq!(mae, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    mean_absolute_error, mean_absolute_error_raw_values, "mean_absolute_error", mean_absolute_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Mean absolute percentage error `(1/Σw) Σᵢ wᵢ |yᵢ − ŷᵢ| / max(|yᵢ|, ε)` with
    /// `ε` = float64 machine epsilon (a fraction, not a percentage):
    /// `sklearn.metrics.mean_absolute_percentage_error`.
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_absolute_percentage_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{mean_absolute_percentage_error, RegressionOptions};
    ///
    /// let m = mean_absolute_percentage_error(&[1.0, 2.0], &[1.5, 1.0], RegressionOptions::new())?;
    /// assert_eq!(m, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    mean_absolute_percentage_error, mean_absolute_percentage_error_raw_values, "mean_absolute_percentage_error", mean_absolute_percentage_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Mean squared logarithmic error, the MSE of `log(1 + y)`:
    /// `sklearn.metrics.mean_squared_log_error`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for values `≤ −1`; otherwise as [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_squared_log_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{mean_squared_log_error, RegressionOptions};
    ///
    /// let m = mean_squared_log_error(&[0.0, std::f64::consts::E - 1.0], &[0.0, 0.0], RegressionOptions::new())?;
    /// assert!((m - 0.5).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    mean_squared_log_error, mean_squared_log_error_raw_values, "mean_squared_log_error", mean_squared_log_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Median of `|yᵢ − ŷᵢ|` per output: `sklearn.metrics.median_absolute_error`. With
    /// sample weights, the weighted median by the averaged inverted CDF (scikit-learn
    /// ≥ 1.7).
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.median_absolute_error.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{median_absolute_error, RegressionOptions};
    ///
    /// let m = median_absolute_error(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert_eq!(m, 0.5);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    median_absolute_error, median_absolute_error_raw_values, "median_absolute_error", median_absolute_error_kernel, variance: false, nan_under_two: false
);

regression_pair!(
    /// Coefficient of determination `R² = 1 − Σ w (y − ŷ)² / Σ w (y − ȳ)²`:
    /// `sklearn.metrics.r2_score`.
    ///
    /// With `force_finite` (default), a constant `y_true` scores 1 for a perfect
    /// prediction and 0 otherwise (instead of NaN / −∞). Fewer than two samples give
    /// NaN (scikit-learn warns). [`MultiOutput::VarianceWeighted`] weights outputs by
    /// `Σ w (y − ȳ)²`.
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.r2_score.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{r2_score, RegressionOptions};
    ///
    /// let r2 = r2_score(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert!((r2 - 0.9486081370449679).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    r2_score, r2_score_raw_values, "r2_score", r2_score_kernel, variance: true, nan_under_two: true
);

regression_pair!(
    /// Explained variance `1 − Var(y − ŷ) / Var(y)` (weighted variances):
    /// `sklearn.metrics.explained_variance_score`. `force_finite` and `multioutput` as
    /// [`r2_score`].
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.explained_variance_score.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{explained_variance_score, RegressionOptions};
    ///
    /// let ev = explained_variance_score(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert!((ev - 0.9571734475374732).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    explained_variance_score, explained_variance_score_raw_values, "explained_variance_score", explained_variance_score_kernel, variance: true, nan_under_two: false
);

regression_pair!(
    /// D² absolute error score `1 − Σ w |y − ŷ| / Σ w |y − median(y)|` (the fraction of
    /// absolute error explained relative to predicting the median):
    /// `sklearn.metrics.d2_absolute_error_score`. Fewer than two samples give NaN; a
    /// perfect prediction scores 1 and a constant `y_true` otherwise 0.
    ///
    /// # Errors
    /// As [`mean_squared_error`].
    ///
    /// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.d2_absolute_error_score.html>
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::metrics::{d2_absolute_error_score, RegressionOptions};
    ///
    /// let d2 = d2_absolute_error_score(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], RegressionOptions::new())?;
    /// assert!((d2 - 0.7647058823529411).abs() < 1e-15);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    d2_absolute_error_score, d2_absolute_error_score_raw_values, "d2_absolute_error_score", d2_absolute_error_score_kernel, variance: false, nan_under_two: true
);

/// Largest absolute error `maxᵢ |yᵢ − ŷᵢ|` (single output only):
/// `sklearn.metrics.max_error`.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`];
/// [`Error::InvalidInput`] for multi-output inputs.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.max_error.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::max_error;
///
/// assert_eq!(max_error(&[3.0, 2.0, 7.0, 1.0], &[4.0, 2.0, 7.0, 1.0])?, 1.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn max_error<'a, F: Float>(y_true: impl ArrayLike<'a, F>, y_pred: impl ArrayLike<'a, F>) -> Result<f64> {
    const OP: &str = "max_error";
    let inp = reg_inputs(OP, y_true.array_view(), y_pred.array_view(), None)?;
    if inp.yt.ncols() != 1 {
        return Err(Error::invalid_input(OP, "Multioutput not supported in max_error"));
    }
    Ok(inp.yt.iter().zip(&inp.yp).map(|(&t, &p)| (t - p).abs()).fold(0.0, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn weighted_median_matches_plain_median_for_unit_weights() {
        let v = [3.0, 1.0, 4.0, 1.5];
        assert_eq!(weighted_median(&v, &[1.0; 4]), median(&mut v.to_vec()));
        let v = [3.0, 1.0, 4.0];
        assert_eq!(weighted_median(&v, &[1.0; 3]), 3.0);
        // weight concentrated on 4.0
        assert_eq!(weighted_median(&v, &[1.0, 1.0, 5.0]), 4.0);
    }

    #[test]
    fn multioutput_aggregation_and_errors() {
        let t = array![[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]];
        let p = array![[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]];
        // sklearn docstring: raw [0.41666667, 1.0], weights [0.3, 0.7] -> 0.825
        let raw = mean_squared_error_raw_values(&t, &p, RegressionOptions::new()).unwrap();
        assert!((raw[0] - 5.0 / 12.0).abs() < 1e-15 && raw[1] == 1.0);
        let w = mean_squared_error(
            &t,
            &p,
            RegressionOptions::new().multioutput(MultiOutput::Weights(vec![0.3, 0.7])),
        );
        assert!((w.unwrap() - 0.825).abs() < 1e-15);
        assert!(matches!(
            mean_squared_error(&t, &p, RegressionOptions::new().multioutput(MultiOutput::VarianceWeighted)),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            mean_squared_error(&t, &p, RegressionOptions::new().multioutput(MultiOutput::Weights(vec![1.0]))),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(max_error(&t, &p), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn r2_force_finite_and_small_samples() {
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 1.0], RegressionOptions::new()).unwrap(), 1.0);
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 2.0], RegressionOptions::new()).unwrap(), 0.0);
        let nf = r2_score(&[1.0, 1.0], &[1.0, 2.0], RegressionOptions::new().force_finite(false)).unwrap();
        assert_eq!(nf, f64::NEG_INFINITY);
        assert!(r2_score(&[1.0], &[2.0], RegressionOptions::new()).unwrap().is_nan());
        // f32 inputs
        let r =
            r2_score(&[3.0f32, -0.5, 2.0, 7.0], &[2.5f32, 0.0, 2.0, 8.0], RegressionOptions::new()).unwrap();
        assert!((r - 0.9486081370449679).abs() < 1e-6);
        assert!(matches!(
            mean_squared_log_error(&[-1.0, 0.0], &[0.0, 0.0], RegressionOptions::new()),
            Err(Error::InvalidValue { .. })
        ));
    }
}
