//! [`SimpleImputer`]: fill missing values per column, for numbers and for categories.

use std::cmp::Ordering;
use std::fmt::Debug;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::stats::{self, check_n_features, check_not_empty};
use super::{InverseTransform, Preprocessor};
use crate::error::{Error, Result};

/// An element type [`SimpleImputer`] can fill: it knows which of its values are missing.
///
/// Implemented for `f64` and `f32` (NaN is missing; infinities are invalid input, as in
/// scikit-learn) and for `Option<String>` (`None` is missing), so categorical columns can
/// be imputed before an encoder. Implement it for your own type to impute that.
pub trait MissingValue: Clone + PartialEq + Debug {
    /// Whether this value is missing (`NaN`, `None`).
    fn is_missing(&self) -> bool;

    /// The missing value (`NaN`, `None`); `statistics()` holds it for a dropped column.
    fn missing() -> Self;

    /// The fill value of [`ImputeStrategy::Constant`] when none is given: `0` for
    /// numbers, `"missing_value"` for strings (scikit-learn's defaults).
    fn default_fill() -> Self;

    /// Total order used by [`ImputeStrategy::MostFrequent`] to break ties (the smallest
    /// wins, as scikit-learn). Only called on non-missing values.
    fn total_cmp(&self, other: &Self) -> Ordering;

    /// The value as a number, for [`ImputeStrategy::Mean`] and
    /// [`ImputeStrategy::Median`] (`None` for non-numeric types: those strategies are
    /// then rejected by the builder).
    fn to_f64(&self) -> Option<f64> {
        None
    }

    /// A number as this type (`None` for non-numeric types).
    fn from_f64(_v: f64) -> Option<Self> {
        None
    }

    /// Whether the value is invalid input (an infinite float). Default: never.
    fn is_invalid(&self) -> bool {
        false
    }
}

macro_rules! float_missing {
    ($t:ty) => {
        impl MissingValue for $t {
            fn is_missing(&self) -> bool {
                self.is_nan()
            }
            fn missing() -> Self {
                <$t>::NAN
            }
            fn default_fill() -> Self {
                0.0
            }
            fn total_cmp(&self, other: &Self) -> Ordering {
                // -0.0 and 0.0 are one value (numpy's unique).
                self.partial_cmp(other).unwrap_or_else(|| <$t>::total_cmp(self, other))
            }
            fn to_f64(&self) -> Option<f64> {
                Some(f64::from(*self))
            }
            fn from_f64(v: f64) -> Option<Self> {
                Some(v as $t)
            }
            fn is_invalid(&self) -> bool {
                self.is_infinite()
            }
        }
    };
}
float_missing!(f64);
float_missing!(f32);

impl MissingValue for Option<String> {
    fn is_missing(&self) -> bool {
        self.is_none()
    }
    fn missing() -> Self {
        None
    }
    fn default_fill() -> Self {
        Some("missing_value".to_string())
    }
    fn total_cmp(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

/// How [`SimpleImputer`] computes a column's fill value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ImputeStrategy {
    /// Mean of the observed values (numbers only; scikit-learn `"mean"`, the default).
    #[default]
    Mean,
    /// Median of the observed values (numbers only; `"median"`).
    Median,
    /// Most frequent observed value, the smallest on ties (`"most_frequent"`).
    MostFrequent,
    /// A constant `fill_value` (`"constant"`).
    Constant,
}

/// What [`SimpleImputer::fit`] does with a column that has no observed value (all
/// missing) under the mean, median and most-frequent strategies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EmptyFeatures {
    /// Drop the column from the output; its statistic is the missing value (NaN).
    /// scikit-learn's default (`keep_empty_features=False`; it also warns).
    #[default]
    Drop,
    /// Keep the column, filled with 0 (scikit-learn's `keep_empty_features=True`). For
    /// non-numeric types it is filled with [`MissingValue::default_fill`]
    /// (`"missing_value"`); scikit-learn stores the integer 0 there.
    Keep,
    /// `fit` returns [`Error::InvalidInput`] naming the column (ndtrain's strict mode,
    /// not in scikit-learn).
    Error,
}

/// Fills missing values column by column with a statistic learned in `fit`
/// (scikit-learn's `SimpleImputer`).
///
/// Works on numbers (`f64`, `f32`: NaN is missing) and on categories
/// (`Option<String>`: `None` is missing; strategies `MostFrequent` and `Constant`), or on
/// any [`MissingValue`] type.
///
/// # Math
///
/// Over the observed (non-missing) values of column `j`:
///
/// ```text
/// statistic_j = mean | median (mean of the two middle values for an even count)
///             | most frequent (smallest on ties) | fill_value
/// y_ij = statistic_j where x_ij is missing, else x_ij
/// ```
///
/// A column with no observed value has no statistic: see [`EmptyFeatures`] (dropped by
/// default, as scikit-learn). `Constant` never drops. With `add_indicator`, one column
/// per feature that had a missing value in `fit` is appended (1 where the value was
/// missing, 0 elsewhere; scikit-learn's `MissingIndicator(features="missing-only")`),
/// also for a dropped feature.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `strategy` | [`ImputeStrategy::Mean`] (`MostFrequent` for non-numeric `T`) | `Mean`, `Median` (numbers), `MostFrequent`, `Constant` |
/// | `fill_value` | `None`: 0, or `"missing_value"` for strings | any `T` |
/// | `add_indicator` | `false` | bool (numbers only) |
/// | `keep_empty_features` | `false` | bool; sets `empty_features` to `Keep` / `Drop` |
/// | `empty_features` | [`EmptyFeatures::Drop`] | `Drop`, `Keep`, `Error` |
///
/// `missing_values` is fixed: NaN for floats, `None` for `Option<String>` (scikit-learn
/// also accepts a marker value such as -1).
///
/// # Errors
///
/// `build`: [`Error::InvalidConfig`] for `Mean`/`Median` or `add_indicator` on a
/// non-numeric type. `fit`: [`Error::EmptyInput`], [`Error::NonFinite`] (infinity),
/// [`Error::InvalidInput`] for an all-missing column under [`EmptyFeatures::Error`].
/// `transform`: [`Error::NotFitted`], [`Error::ShapeMismatch`], [`Error::NonFinite`].
/// `inverse_transform`: additionally [`Error::InvalidInput`] without `add_indicator`.
///
/// Reference: scikit-learn `sklearn.impute.SimpleImputer` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::{ImputeStrategy, SimpleImputer};
///
/// let nan = f64::NAN;
/// let x = array![[1.0, 2.0], [nan, 4.0], [7.0, nan]];
/// let mut imp = SimpleImputer::builder().strategy(ImputeStrategy::Mean).build()?;
/// assert_eq!(imp.fit_transform(x.view())?, array![[1.0, 2.0], [4.0, 4.0], [7.0, 3.0]]);
///
/// // Categories: None is missing.
/// let s = |v: &str| Some(v.to_string());
/// let c = array![[s("red")], [None], [s("blue")], [s("red")]];
/// let mut imp = SimpleImputer::builder().strategy(ImputeStrategy::MostFrequent).build()?;
/// assert_eq!(imp.fit_transform(c.view())?[[1, 0]], s("red"));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "T: MissingValue + serde::Serialize",
        deserialize = "T: MissingValue + serde::Deserialize<'de>"
    ))
)]
pub struct SimpleImputer<T = f64> {
    strategy: ImputeStrategy,
    fill_value: Option<T>,
    add_indicator: bool,
    empty_features: EmptyFeatures,
    fitted: Option<Fitted<T>>,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(bound(
        serialize = "T: MissingValue + serde::Serialize",
        deserialize = "T: MissingValue + serde::Deserialize<'de>"
    ))
)]
struct Fitted<T> {
    #[cfg_attr(feature = "serde", serde(with = "super::serde_nan::missing_vec"))]
    statistics: Array1<T>,
    /// Input columns present in the output, in order.
    kept: Vec<usize>,
    /// Input columns with an indicator column appended (`add_indicator`).
    indicator: Option<Vec<usize>>,
}

/// Builder of a [`SimpleImputer`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct SimpleImputerBuilder<T = f64> {
    strategy: ImputeStrategy,
    fill_value: Option<T>,
    add_indicator: bool,
    empty_features: EmptyFeatures,
}

impl<T: MissingValue> SimpleImputerBuilder<T> {
    /// The statistic (default [`ImputeStrategy::Mean`]).
    pub fn strategy(mut self, strategy: ImputeStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The value [`ImputeStrategy::Constant`] fills in (default: 0 for numbers,
    /// `"missing_value"` for strings).
    pub fn fill_value(mut self, fill_value: T) -> Self {
        self.fill_value = Some(fill_value);
        self
    }

    /// Append missing-indicator columns (default `false`).
    pub fn add_indicator(mut self, add_indicator: bool) -> Self {
        self.add_indicator = add_indicator;
        self
    }

    /// scikit-learn's `keep_empty_features`: `true` keeps all-missing columns (filled
    /// with 0), `false` drops them (the default).
    pub fn keep_empty_features(mut self, keep: bool) -> Self {
        self.empty_features = if keep { EmptyFeatures::Keep } else { EmptyFeatures::Drop };
        self
    }

    /// What to do with all-missing columns, including [`EmptyFeatures::Error`].
    pub fn empty_features(mut self, empty_features: EmptyFeatures) -> Self {
        self.empty_features = empty_features;
        self
    }

    /// Validates and builds the (unfitted) imputer.
    pub fn build(self) -> Result<SimpleImputer<T>> {
        let numeric = T::from_f64(0.0).is_some();
        if !numeric && matches!(self.strategy, ImputeStrategy::Mean | ImputeStrategy::Median) {
            return Err(Error::invalid_config(format!(
                "SimpleImputer: strategy {:?} needs numeric data; use MostFrequent or Constant for categories",
                self.strategy
            )));
        }
        if !numeric && self.add_indicator {
            return Err(Error::invalid_config(
                "SimpleImputer: add_indicator needs numeric data (the indicator columns are 0/1)",
            ));
        }
        Ok(SimpleImputer {
            strategy: self.strategy,
            fill_value: self.fill_value,
            add_indicator: self.add_indicator,
            empty_features: self.empty_features,
            fitted: None,
        })
    }
}

/// `Mean` for numbers, `MostFrequent` for other types (which have no mean).
fn default_strategy<T: MissingValue>() -> ImputeStrategy {
    if T::from_f64(0.0).is_some() { ImputeStrategy::Mean } else { ImputeStrategy::MostFrequent }
}

impl<T: MissingValue> Default for SimpleImputer<T> {
    /// scikit-learn's defaults: mean strategy. For a non-numeric `T`, where the mean
    /// does not exist, the default strategy is `MostFrequent`.
    fn default() -> Self {
        SimpleImputer {
            strategy: default_strategy::<T>(),
            fill_value: None,
            add_indicator: false,
            empty_features: EmptyFeatures::Drop,
            fitted: None,
        }
    }
}

impl<T: MissingValue> SimpleImputer<T> {
    /// An imputer with scikit-learn's defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from scikit-learn's defaults (strategy `MostFrequent` for a
    /// non-numeric `T`).
    pub fn builder() -> SimpleImputerBuilder<T> {
        SimpleImputerBuilder {
            strategy: default_strategy::<T>(),
            fill_value: None,
            add_indicator: false,
            empty_features: EmptyFeatures::Drop,
        }
    }

    super::stats::fitted_state!(Fitted<T>);

    /// The strategy used.
    pub fn strategy(&self) -> ImputeStrategy {
        self.strategy
    }

    /// The fill value of every input column; the missing value (NaN, `None`) for a
    /// dropped all-missing column.
    #[doc(alias = "statistics_")]
    pub fn statistics(&self) -> Result<ArrayView1<'_, T>> {
        Ok(self.fitted("SimpleImputer::statistics")?.statistics.view())
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("SimpleImputer::n_features_in")?.statistics.len())
    }

    /// Input columns that appear in the output (all but dropped all-missing ones).
    pub fn kept_features(&self) -> Result<&[usize]> {
        Ok(&self.fitted("SimpleImputer::kept_features")?.kept)
    }

    /// Input columns that get an indicator column (those with a missing value in
    /// `fit`), or `None` without `add_indicator`. scikit-learn: `indicator_.features_`.
    #[doc(alias = "features_")]
    pub fn indicator_features(&self) -> Result<Option<&[usize]>> {
        Ok(self.fitted("SimpleImputer::indicator_features")?.indicator.as_deref())
    }

    fn check_values(op: &'static str, x: &ArrayView2<'_, T>) -> Result<()> {
        match x.indexed_iter().find(|(_, v)| v.is_invalid()) {
            None => Ok(()),
            Some(((i, j), v)) => Err(Error::NonFinite {
                op,
                what: "x",
                value: v.to_f64().unwrap_or(f64::NAN),
                index: vec![i, j],
            }),
        }
    }

    fn statistic(&self, col: ArrayView1<'_, T>) -> T {
        match self.strategy {
            ImputeStrategy::Constant => self.fill_value.clone().unwrap_or_else(T::default_fill),
            ImputeStrategy::Mean => {
                let v: Vec<f64> = col.iter().filter(|v| !v.is_missing()).filter_map(T::to_f64).collect();
                if v.is_empty() {
                    return T::missing();
                }
                T::from_f64(stats::pairwise_sum(&v) / v.len() as f64).unwrap_or_else(T::missing)
            }
            ImputeStrategy::Median => {
                let mut v: Vec<f64> = col.iter().filter(|v| !v.is_missing()).filter_map(T::to_f64).collect();
                stats::sort_f64(&mut v);
                if v.is_empty() {
                    return T::missing();
                }
                T::from_f64(stats::median_sorted(&v)).unwrap_or_else(T::missing)
            }
            ImputeStrategy::MostFrequent => {
                let mut v: Vec<&T> = col.iter().filter(|v| !v.is_missing()).collect();
                v.sort_by(|a, b| a.total_cmp(b));
                let mut best: Option<(&T, usize)> = None;
                let mut i = 0;
                while i < v.len() {
                    let mut k = i + 1;
                    while k < v.len() && v[k].total_cmp(v[i]) == Ordering::Equal {
                        k += 1;
                    }
                    // Strictly more: on a tie the earlier (smaller) value stays.
                    if best.is_none_or(|(_, c)| k - i > c) {
                        best = Some((v[i], k - i));
                    }
                    i = k;
                }
                best.map_or_else(T::missing, |(b, _)| b.clone())
            }
        }
    }
}

impl<T: MissingValue> Preprocessor<T> for SimpleImputer<T> {
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()> {
        const OP: &str = "SimpleImputer::fit";
        check_not_empty(OP, &x)?;
        Self::check_values(OP, &x)?;
        let n = x.ncols();
        let mut statistics = Vec::with_capacity(n);
        let mut kept = Vec::with_capacity(n);
        let mut with_missing = Vec::new();
        for (j, col) in x.columns().into_iter().enumerate() {
            let observed = col.iter().filter(|v| !v.is_missing()).count();
            if observed < col.len() {
                with_missing.push(j);
            }
            let stat = if observed == 0 && self.strategy != ImputeStrategy::Constant {
                match self.empty_features {
                    EmptyFeatures::Drop => T::missing(),
                    EmptyFeatures::Keep => T::from_f64(0.0).unwrap_or_else(T::default_fill),
                    EmptyFeatures::Error => {
                        return Err(Error::invalid_input(
                            OP,
                            format!(
                                "column {j} has no observed (non-missing) value, so its {:?} is undefined; \
                                 drop the column, use strategy Constant, or EmptyFeatures::Drop/Keep",
                                self.strategy
                            ),
                        ));
                    }
                }
            } else {
                self.statistic(col)
            };
            let drop = self.strategy != ImputeStrategy::Constant
                && self.empty_features != EmptyFeatures::Keep
                && stat.is_missing();
            if !drop {
                kept.push(j);
            }
            statistics.push(stat);
        }
        let indicator = self.add_indicator.then_some(with_missing);
        self.fitted = Some(Fitted { statistics: Array1::from(statistics), kept, indicator });
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        const OP: &str = "SimpleImputer::transform";
        let f = self.fitted(OP)?;
        check_n_features(OP, &x, f.statistics.len())?;
        Self::check_values(OP, &x)?;
        let ind: &[usize] = f.indicator.as_deref().unwrap_or(&[]);
        let n_out = f.kept.len() + ind.len();
        let (one, zero) =
            (T::from_f64(1.0).unwrap_or_else(T::missing), T::from_f64(0.0).unwrap_or_else(T::missing));
        let mut data = Vec::with_capacity(x.nrows() * n_out);
        for row in x.rows() {
            for &j in &f.kept {
                let v = &row[j];
                data.push(if v.is_missing() { f.statistics[j].clone() } else { v.clone() });
            }
            for &j in ind {
                data.push(if row[j].is_missing() { one.clone() } else { zero.clone() });
            }
        }
        Array2::from_shape_vec((x.nrows(), n_out), data).map_err(|e| Error::invalid_input(OP, e))
    }
}

impl<T: MissingValue> InverseTransform<T> for SimpleImputer<T> {
    /// Puts the missing value back where the indicator columns say a value was missing
    /// (needs `add_indicator`, as scikit-learn). Dropped all-missing columns come back
    /// all missing. Deviation: scikit-learn also skips any column whose indicator is 1
    /// in every row of `y`; here the columns are placed by what `fit` kept.
    fn inverse_transform(&self, y: ArrayView2<'_, T>) -> Result<Array2<T>> {
        const OP: &str = "SimpleImputer::inverse_transform";
        let f = self.fitted(OP)?;
        let Some(ind) = f.indicator.as_deref() else {
            return Err(Error::invalid_input(
                OP,
                "inverse_transform needs an imputer built with add_indicator(true)",
            ));
        };
        check_n_features(OP, &y, f.kept.len() + ind.len())?;
        let n = f.statistics.len();
        let mut out = Array2::from_elem((y.nrows(), n), T::missing());
        for (mut orow, yrow) in out.rows_mut().into_iter().zip(y.rows()) {
            for (k, &j) in f.kept.iter().enumerate() {
                orow[j] = yrow[k].clone();
            }
            for (k, &j) in ind.iter().enumerate() {
                let flag = &yrow[f.kept.len() + k];
                // numpy's astype(bool): nonzero (NaN included) is true.
                if flag.to_f64().is_none_or(|v| v != 0.0) {
                    orow[j] = T::missing();
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const NAN: f64 = f64::NAN;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn strategies_hand_checked() {
        // Column [1, 3, 3, NaN, 8]: mean 15/4, median 3, most frequent 3.
        let x = array![[1.0], [3.0], [3.0], [NAN], [8.0]];
        for (strategy, want) in
            [(ImputeStrategy::Mean, 3.75), (ImputeStrategy::Median, 3.0), (ImputeStrategy::MostFrequent, 3.0)]
        {
            let mut imp = SimpleImputer::<f64>::builder().strategy(strategy).build().unwrap();
            let y = imp.fit_transform(x.view()).unwrap();
            assert_eq!(y[[3, 0]], want, "{strategy:?}");
            assert_eq!(imp.statistics().unwrap()[0], want);
        }
        let mut imp = SimpleImputer::<f32>::builder().strategy(ImputeStrategy::Constant).build().unwrap();
        assert_eq!(imp.fit_transform(array![[f32::NAN]].view()).unwrap(), array![[0.0f32]]);
    }

    #[test]
    fn most_frequent_ties_pick_smallest() {
        let x = array![[5.0], [2.0], [5.0], [2.0], [9.0]];
        let mut imp = SimpleImputer::<f64>::builder().strategy(ImputeStrategy::MostFrequent).build().unwrap();
        imp.fit(x.view()).unwrap();
        assert_eq!(imp.statistics().unwrap()[0], 2.0);
        let c = array![[s("b")], [s("a")], [None], [s("b")], [s("a")]];
        let mut imp = SimpleImputer::<Option<String>>::builder()
            .strategy(ImputeStrategy::MostFrequent)
            .build()
            .unwrap();
        assert_eq!(imp.fit_transform(c.view()).unwrap()[[2, 0]], s("a"));
    }

    #[test]
    fn empty_columns_drop_keep_error() {
        let x = array![[1.0, NAN], [3.0, NAN]];
        let mut imp = SimpleImputer::<f64>::new();
        let y = imp.fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[1.0], [3.0]]);
        assert!(imp.statistics().unwrap()[1].is_nan());
        let mut imp = SimpleImputer::<f64>::builder().keep_empty_features(true).build().unwrap();
        assert_eq!(imp.fit_transform(x.view()).unwrap(), array![[1.0, 0.0], [3.0, 0.0]]);
        let mut imp = SimpleImputer::<f64>::builder().empty_features(EmptyFeatures::Error).build().unwrap();
        assert!(matches!(imp.fit(x.view()), Err(Error::InvalidInput { .. })));
        assert!(!imp.is_fitted());
        // Constant never drops.
        let mut imp = SimpleImputer::<f64>::builder()
            .strategy(ImputeStrategy::Constant)
            .fill_value(-1.0)
            .build()
            .unwrap();
        assert_eq!(imp.fit_transform(x.view()).unwrap(), array![[1.0, -1.0], [3.0, -1.0]]);
    }

    #[test]
    fn indicator_and_inverse() {
        let x = array![[1.0, 2.0, NAN], [NAN, 4.0, NAN], [5.0, 6.0, NAN]];
        let mut imp = SimpleImputer::<f64>::builder().add_indicator(true).build().unwrap();
        let y = imp.fit_transform(x.view()).unwrap();
        // Kept: 0, 1 (column 2 is all-missing, dropped); indicators for 0 and 2.
        assert_eq!(imp.indicator_features().unwrap(), Some(&[0usize, 2][..]));
        assert_eq!(y, array![[1.0, 2.0, 0.0, 1.0], [3.0, 4.0, 1.0, 1.0], [5.0, 6.0, 0.0, 1.0]]);
        let back = imp.inverse_transform(y.view()).unwrap();
        assert_eq!(back[[0, 0]], 1.0);
        assert!(back[[1, 0]].is_nan());
        assert!(back.column(2).iter().all(|v| v.is_nan()));
        let plain = SimpleImputer::<f64>::new();
        assert!(plain.inverse_transform(y.view()).is_err());
    }

    #[test]
    fn strings_reject_numeric_strategies() {
        let r = SimpleImputer::<Option<String>>::builder().strategy(ImputeStrategy::Median).build();
        assert!(matches!(r, Err(Error::InvalidConfig(_))));
        let r = SimpleImputer::<Option<String>>::builder()
            .strategy(ImputeStrategy::Constant)
            .add_indicator(true)
            .build();
        assert!(matches!(r, Err(Error::InvalidConfig(_))));
        let mut imp =
            SimpleImputer::<Option<String>>::builder().strategy(ImputeStrategy::Constant).build().unwrap();
        let y = imp.fit_transform(array![[None, s("x")]].view()).unwrap();
        assert_eq!(y, array![[s("missing_value"), s("x")]]);
    }

    #[test]
    fn infinity_is_rejected() {
        let mut imp = SimpleImputer::<f64>::new();
        let r = imp.fit(array![[1.0], [f64::INFINITY]].view());
        assert!(matches!(r, Err(Error::NonFinite { index, .. }) if index == vec![1, 0]));
    }
}
