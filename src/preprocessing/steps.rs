//! [`NumericStep`] and [`TextStep`]: ndtrain's built-in preprocessors as enums, one per
//! element type, so that a step can be chosen at run time and, with the `serde`
//! feature, saved inside a [`Pipeline`](crate::preprocessing::Pipeline) or a
//! [`ColumnTransformer`](crate::preprocessing::ColumnTransformer) (see the
//! [`pipeline`](crate::preprocessing::pipeline) module docs, "Saving and loading").

use ndarray::{Array2, ArrayView2};

use super::{
    InverseTransform, IqrClipper, MaxAbsScaler, MinMaxScaler, MissingValue, Normalizer, OneHotEncoder,
    OrdinalEncoder, PolynomialFeatures, Preprocessor, RobustScaler, SimpleImputer, StandardScaler,
    ZScoreClipper,
};
use crate::error::Result;
use crate::tensor::Float;

/// Defines a step enum wrapping one built-in preprocessor per variant, its `From`
/// impls and a `dispatch!`-style macro calling the same method on any variant.
macro_rules! step_enum {
    (
        $(#[$meta:meta])*
        enum $name:ident<$F:ident $(: $bound:path)?> : $dispatch:ident {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty), )*
        }
    ) => {
        $(#[$meta])*
        pub enum $name<$F $(: $bound)? = f64> {
            $( $(#[$vmeta])* $variant($ty), )*
        }

        $(
            impl<$F: Float> From<$ty> for $name<$F> {
                fn from(step: $ty) -> Self {
                    $name::$variant(step)
                }
            }
        )*

        macro_rules! $dispatch {
            ($s:expr, $p:ident => $e:expr) => {
                match $s {
                    $( $name::$variant($p) => $e, )*
                }
            };
        }
    };
}

step_enum! {
    /// A built-in numeric preprocessor from `F` to `F` (`f64` or `f32`), chosen at run
    /// time: one variant per preprocessor.
    ///
    /// Every variant holds the preprocessor itself, fitted or not, and the enum is a
    /// [`Preprocessor<F>`] that forwards to it, so it can be a
    /// [`Pipeline`](crate::preprocessing::Pipeline) step or a numeric transformer of a
    /// [`ColumnTransformer`](crate::preprocessing::ColumnTransformer). Build it with
    /// `From` (`NumericStep::from(StandardScaler::default())` or `.into()`).
    ///
    /// With the `serde` feature it is `Serialize` / `Deserialize` (externally tagged:
    /// `{"StandardScaler": {...}}`), and it is the vocabulary a saved pipeline uses for
    /// its numeric steps. There is no `InverseTransform` on the enum because four of its
    /// preprocessors have none; add an invertible scaler to a pipeline as itself (with
    /// `invertible_step`) to keep its inverse.
    ///
    /// | variant | preprocessor | inverse |
    /// | --- | --- | --- |
    /// | `StandardScaler` | [`StandardScaler`] | yes |
    /// | `MinMaxScaler` | [`MinMaxScaler`] | yes |
    /// | `MaxAbsScaler` | [`MaxAbsScaler`] | yes |
    /// | `RobustScaler` | [`RobustScaler`] | yes |
    /// | `Normalizer` | [`Normalizer`] | no |
    /// | `SimpleImputer` | [`SimpleImputer`] | with `add_indicator` |
    /// | `PolynomialFeatures` | [`PolynomialFeatures`] | no |
    /// | `IqrClipper` | [`IqrClipper`] | no |
    /// | `ZScoreClipper` | [`ZScoreClipper`] | no |
    ///
    /// # Errors
    ///
    /// Those of the wrapped preprocessor (its `op` names it).
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::preprocessing::{NumericStep, Preprocessor, RobustScaler, StandardScaler};
    ///
    /// let robust = true; // e.g. read from a configuration file
    /// let mut scale: NumericStep = if robust {
    ///     RobustScaler::default().into()
    /// } else {
    ///     StandardScaler::default().into()
    /// };
    /// let y = scale.fit_transform(array![[1.0], [2.0], [3.0]].view())?;
    /// assert_eq!(y, array![[-1.0], [0.0], [1.0]]); // (x - median) / IQR
    /// assert!(matches!(scale, NumericStep::RobustScaler(_)));
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[derive(Clone, Debug, PartialEq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(
        feature = "serde",
        serde(bound(
            serialize = "F: Float + MissingValue + serde::Serialize",
            deserialize = "F: Float + MissingValue + serde::Deserialize<'de>"
        ))
    )]
    #[non_exhaustive]
    enum NumericStep<F>: numeric_dispatch {
        /// [`StandardScaler`].
        StandardScaler(StandardScaler<F>),
        /// [`MinMaxScaler`].
        MinMaxScaler(MinMaxScaler<F>),
        /// [`MaxAbsScaler`].
        MaxAbsScaler(MaxAbsScaler<F>),
        /// [`RobustScaler`].
        RobustScaler(RobustScaler<F>),
        /// [`Normalizer`].
        Normalizer(Normalizer<F>),
        /// [`SimpleImputer`] over numbers (NaN is missing).
        SimpleImputer(SimpleImputer<F>),
        /// [`PolynomialFeatures`].
        PolynomialFeatures(PolynomialFeatures<F>),
        /// [`IqrClipper`].
        IqrClipper(IqrClipper<F>),
        /// [`ZScoreClipper`].
        ZScoreClipper(ZScoreClipper<F>),
    }
}

impl<F: Float + MissingValue> Preprocessor<F> for NumericStep<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        numeric_dispatch!(self, p => p.fit(x))
    }
    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        numeric_dispatch!(self, p => p.transform(x))
    }
    fn fit_transform(&mut self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        numeric_dispatch!(self, p => p.fit_transform(x))
    }
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        numeric_dispatch!(self, p => p.feature_names_out(input_features))
    }
}

step_enum! {
    /// A built-in encoder from a text column (`Option<String>`, `None` = missing) to
    /// numbers `F` (`f64` or `f32`), chosen at run time.
    ///
    /// The enum is a [`Preprocessor<Option<String>, F>`] that forwards to the encoder,
    /// so it can be a text transformer of a
    /// [`ColumnTransformer`](crate::preprocessing::ColumnTransformer) or the last step of
    /// a text [`Pipeline`](crate::preprocessing::Pipeline) (typically after a
    /// `SimpleImputer<Option<String>>`, which is saved as itself). With the `serde`
    /// feature it is `Serialize` / `Deserialize`. Its `inverse_transform` (both
    /// encoders have one) returns `Option<Option<String>>`: `None` for an unknown
    /// category, `Some(None)` for the missing category.
    ///
    /// | variant | encoder |
    /// | --- | --- |
    /// | `OneHotEncoder` | [`OneHotEncoder<Option<String>, F>`](OneHotEncoder) |
    /// | `OrdinalEncoder` | [`OrdinalEncoder<Option<String>, F>`](OrdinalEncoder) |
    ///
    /// # Errors
    ///
    /// Those of the wrapped encoder.
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::preprocessing::{OneHotEncoder, OrdinalEncoder, Preprocessor, TextStep};
    ///
    /// let one_hot = false;
    /// let mut enc: TextStep = if one_hot {
    ///     OneHotEncoder::default().into()
    /// } else {
    ///     OrdinalEncoder::default().into()
    /// };
    /// let s = |v: &str| Some(v.to_string());
    /// let y = enc.fit_transform(array![[s("b")], [s("a")], [None]].view())?;
    /// assert_eq!(y[[0, 0]], 1.0);
    /// assert_eq!(y[[1, 0]], 0.0);
    /// assert!(y[[2, 0]].is_nan()); // encoded_missing_value
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    #[derive(Clone, Debug)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(
        feature = "serde",
        serde(bound(
            serialize = "F: Float + serde::Serialize",
            deserialize = "F: Float + serde::Deserialize<'de>"
        ))
    )]
    #[non_exhaustive]
    enum TextStep<F: Float>: text_dispatch {
        /// [`OneHotEncoder`] over text.
        OneHotEncoder(OneHotEncoder<Option<String>, F>),
        /// [`OrdinalEncoder`] over text.
        OrdinalEncoder(OrdinalEncoder<Option<String>, F>),
    }
}

impl<F: Float> Preprocessor<Option<String>, F> for TextStep<F> {
    fn fit(&mut self, x: ArrayView2<'_, Option<String>>) -> Result<()> {
        text_dispatch!(self, p => p.fit(x))
    }
    fn transform(&self, x: ArrayView2<'_, Option<String>>) -> Result<Array2<F>> {
        text_dispatch!(self, p => p.transform(x))
    }
    fn fit_transform(&mut self, x: ArrayView2<'_, Option<String>>) -> Result<Array2<F>> {
        text_dispatch!(self, p => p.fit_transform(x))
    }
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        text_dispatch!(self, p => p.feature_names_out(input_features))
    }
}

impl<F: Float> InverseTransform<Option<Option<String>>, F> for TextStep<F> {
    fn inverse_transform(&self, y: ArrayView2<'_, F>) -> Result<Array2<Option<Option<String>>>> {
        text_dispatch!(self, p => p.inverse_transform(y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::preprocessing::{HandleUnknown, Norm};
    use ndarray::array;

    #[test]
    fn numeric_step_forwards_to_the_preprocessor() {
        let x = array![[3.0, 4.0], [1.0, 0.0]];
        let mut step: NumericStep = Normalizer::builder().norm(Norm::L1).build().unwrap().into();
        let mut direct = Normalizer::builder().norm(Norm::L1).build().unwrap();
        assert_eq!(step.fit_transform(x.view()).unwrap(), direct.fit_transform(x.view()).unwrap());
        let mut step: NumericStep<f32> = StandardScaler::default().into();
        assert!(matches!(step.transform(array![[1.0f32]].view()), Err(Error::NotFitted { .. })));
        let y = step.fit_transform(array![[1.0f32], [3.0]].view()).unwrap();
        assert_eq!(y, array![[-1.0f32], [1.0]]);
        let names = step.feature_names_out(&["a".into()]).unwrap();
        assert_eq!(names, ["a"]);
        let mut poly: NumericStep = PolynomialFeatures::default().into();
        assert_eq!(poly.fit_transform(array![[2.0]].view()).unwrap(), array![[1.0, 2.0, 4.0]]);
    }

    #[test]
    fn text_step_forwards_and_inverts() {
        let s = |v: &str| Some(v.to_string());
        let enc =
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap();
        let mut step = TextStep::from(enc);
        let y = step.fit_transform(array![[s("b")], [s("a")]].view()).unwrap();
        assert_eq!(y, array![[0.0, 1.0], [1.0, 0.0]]);
        assert_eq!(step.feature_names_out(&["t".into()]).unwrap(), ["t_a", "t_b"]);
        let z = step.transform(array![[s("c")]].view()).unwrap();
        assert_eq!(z, array![[0.0, 0.0]]);
        assert_eq!(
            step.inverse_transform(array![[1.0, 0.0], [0.0, 0.0]].view()).unwrap(),
            array![[Some(s("a"))], [None]]
        );
    }
}
