//! Preprocessing: the [`Preprocessor`] trait and scikit-learn's transformers.
//!
//! A preprocessor learns statistics in `fit` and applies them in `transform`; it never
//! mutates its input. Samples are rows (axis 0), features are columns. `T` is the
//! input element type (a float for scalers, a category type such as `String` for
//! encoders), `U` the output element type.

use ndarray::{Array2, ArrayView2};

use crate::error::Result;

pub mod column_transformer;
pub mod encode;
pub mod pipeline;
pub mod table;

pub use column_transformer::{ColumnTransformer, ColumnTransformerBuilder, Columns, Remainder};
pub use encode::{
    Categories, Category, HandleUnknown, LabelEncoder, OneHotDrop, OneHotEncoder, OneHotEncoderBuilder,
    OrdinalEncoder, OrdinalEncoderBuilder, OrdinalHandleUnknown,
};
pub use pipeline::{Pipeline, PipelineBuilder, PipelineStart};
#[cfg(feature = "serde")]
pub use saved::{SavedColumnTransformer, SavedPipeline};
pub use steps::{NumericStep, TextStep};
#[cfg(feature = "csv")]
pub use table::CsvOptions;
pub use table::{Column, ColumnKind, Table};

/// A fitted-then-applied transformation of a 2-D table.
///
/// # Example: a custom preprocessor that centres each column on its median
///
/// ```
/// use ndarray::{Array1, Array2, ArrayView2, Axis};
/// use ndtrain::prelude::*;
///
/// #[derive(Default)]
/// struct MedianCentre { median: Option<Array1<f64>> }
///
/// impl Preprocessor<f64> for MedianCentre {
///     fn fit(&mut self, x: ArrayView2<'_, f64>) -> ndtrain::Result<()> {
///         let med = x.axis_iter(Axis(1)).map(|c| {
///             let mut v = c.to_vec();
///             v.sort_by(f64::total_cmp);
///             v[v.len() / 2]
///         }).collect();
///         self.median = Some(med);
///         Ok(())
///     }
///     fn transform(&self, x: ArrayView2<'_, f64>) -> ndtrain::Result<Array2<f64>> {
///         let med = self.median.as_ref().ok_or(ndtrain::Error::NotFitted { op: "MedianCentre::transform" })?;
///         Ok(&x - med)
///     }
/// }
///
/// let x = ndarray::array![[1.0], [2.0], [10.0]];
/// let y = MedianCentre::default().fit_transform(x.view())?;
/// assert_eq!(y, ndarray::array![[-1.0], [0.0], [8.0]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Preprocessor<T, U = T> {
    /// Learns the transformation's statistics from `x`.
    ///
    /// # Errors
    /// Empty input, invalid values; on error the previous fitted state is kept.
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()>;

    /// Applies the fitted transformation to `x`, returning a new array.
    ///
    /// # Errors
    /// [`Error::NotFitted`](crate::Error::NotFitted) before `fit`; a wrong number of
    /// columns; values the transformation cannot handle.
    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>>;

    /// `fit` then `transform` on the same data.
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        self.fit(x)?;
        self.transform(x)
    }

    /// Names of the output columns given the names of the input columns
    /// (scikit-learn's `get_feature_names_out`).
    ///
    /// The default keeps one output column per input column under the same name, which
    /// is right for scalers and imputers; transformers that add, drop or expand columns
    /// (encoders, polynomial features) override it.
    ///
    /// # Errors
    /// Overrides return [`Error::NotFitted`](crate::Error::NotFitted) before `fit` and a
    /// length error when `input_features` does not match the fitted column count.
    #[doc(alias = "get_feature_names_out")]
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        Ok(input_features.to_vec())
    }
}

/// A preprocessor whose transformation can be undone.
pub trait InverseTransform<T, U = T> {
    /// Maps transformed data back to the original space.
    ///
    /// # Errors
    /// [`Error::NotFitted`](crate::Error::NotFitted) before `fit`; a wrong number of
    /// columns.
    fn inverse_transform(&self, y: ArrayView2<'_, U>) -> Result<Array2<T>>;
}

// Numeric preprocessing (scalers, imputation, cleaning, polynomial features).
mod clean;
mod impute;
mod max_abs_scaler;
mod min_max_scaler;
mod normalizer;
mod polynomial;
mod robust_scaler;
// Saving and loading pipelines and column transformers.
#[cfg(feature = "serde")]
mod saved;
#[cfg(feature = "serde")]
mod serde_nan;
mod standard_scaler;
mod stats;
// The built-in preprocessors as enums, one per element type.
mod steps;
pub use clean::{
    DropDuplicateRows, DropDuplicateRowsBuilder, IqrClipper, IqrClipperBuilder, Keep, ZScoreClipper,
    ZScoreClipperBuilder, drop_duplicate_rows, drop_missing_rows,
};
pub use impute::{EmptyFeatures, ImputeStrategy, MissingValue, SimpleImputer, SimpleImputerBuilder};
pub use max_abs_scaler::{MaxAbsScaler, MaxAbsScalerBuilder};
pub use min_max_scaler::{MinMaxScaler, MinMaxScalerBuilder};
pub use normalizer::{Norm, Normalizer, NormalizerBuilder, normalize};
pub use polynomial::{PolynomialFeatures, PolynomialFeaturesBuilder};
pub use robust_scaler::{RobustScaler, RobustScalerBuilder};
pub use standard_scaler::{StandardScaler, StandardScalerBuilder};
