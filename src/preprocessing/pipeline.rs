//! [`Pipeline`]: named preprocessing steps applied in sequence, fitted together.
//!
//! # Saving and loading (feature `serde`)
//!
//! A fitted pipeline or [`ColumnTransformer`](crate::preprocessing::ColumnTransformer)
//! built from ndtrain's own preprocessors saves and loads with serde, and the loaded one
//! gives bit-identical output: both implement `Serialize` and `Deserialize`
//! (`serde_json::to_string(&pipeline)`), and `Pipeline::to_saved` /
//! `Pipeline::from_saved` (and the same on `ColumnTransformer`) do the work, returning
//! an [`Error`] instead of a serde error.
//!
//! **Design.** A pipeline holds its steps as boxed trait objects whose element type may
//! change along the chain, which serde cannot serialise as they are (and ndtrain adds no
//! dependency such as `typetag` to do it). Instead, saving looks behind each step for one
//! of the built-in preprocessors (by downcasting) and records it as a variant of a
//! closed enum that also names its element types: [`NumericStep`](crate::preprocessing::NumericStep) for numbers,
//! [`TextStep`](crate::preprocessing::TextStep) for text encoders, the text imputer, or a nested pipeline. The result is
//! a `SavedPipeline` (or `SavedColumnTransformer`), a plain serde value. Loading
//! rebuilds the chain from the concrete steps, checking that the element types line up
//! from `T` to `U`. Steps come back as the types they were added as (so
//! [`Pipeline::named_step`] works as before) and keep their inverse when they were added
//! with `invertible_step`. [`NumericStep`](crate::preprocessing::NumericStep) and [`TextStep`](crate::preprocessing::TextStep) are also ordinary
//! preprocessors, handy to choose a step at run time; a step added as one of them is
//! saved and loaded as such.
//!
//! Steps that can be saved (fitted or not):
//!
//! | element types | steps |
//! | --- | --- |
//! | `f64 → f64`, `f32 → f32` | `StandardScaler`, `MinMaxScaler`, `MaxAbsScaler`, `RobustScaler`, `Normalizer`, `SimpleImputer`, `PolynomialFeatures`, `IqrClipper`, `ZScoreClipper`, or a [`NumericStep`](crate::preprocessing::NumericStep) |
//! | `Option<String> → Option<String>` | `SimpleImputer<Option<String>>` |
//! | `Option<String> → f64`, `Option<String> → f32` | `OneHotEncoder<Option<String>, F>`, `OrdinalEncoder<Option<String>, F>`, or a [`TextStep`](crate::preprocessing::TextStep) |
//! | any of these | a nested `Pipeline` of saveable steps |
//!
//! **Limits.**
//!
//! * A user-defined step cannot be saved: `to_saved` (and serialising) returns
//!   [`Error::InvalidInput`] naming the step, its path in
//!   nested pipelines (`step "cat/clean"`) and its type. Such a pipeline works as usual;
//!   to save it, save its steps one by one (every built-in preprocessor derives
//!   `Serialize` / `Deserialize`; reach a fitted step with [`Pipeline::named_step`]) and
//!   rebuild the pipeline from the loaded steps: a pipeline built from fitted steps
//!   transforms without being refitted.
//! * Element types are `f64`, `f32` and `Option<String>` (the column types of a
//!   [`Table`](crate::preprocessing::Table)); encoders over other category types
//!   (`String`, integers, float categories) save on their own but not inside a pipeline.
//! * Loading checks the element types, the step names and the column transformer's
//!   layout; the fitted statistics are restored as saved (a file edited by hand can give
//!   errors or different numbers at `transform`, not a panic).
//! * The format is serde's data model of these types (readable JSON, or any serde
//!   format) and may change between ndtrain versions before 1.0.
//!
//! ```
//! # #[cfg(feature = "serde")]
//! # {
//! use ndarray::{Array2, ArrayView2, array};
//! use ndtrain::preprocessing::{Pipeline, Preprocessor, RobustScaler, SimpleImputer, StandardScaler};
//!
//! let nan = f64::NAN;
//! let train = array![[1.0, nan], [2.0, nan], [4.0, nan]]; // column 1: never observed
//! let mut pipe = Pipeline::builder()
//!     .step("impute", SimpleImputer::<f64>::default()) // drops column 1
//!     .invertible_step("scale", StandardScaler::<f64>::default())
//!     .build()?;
//! pipe.fit(train.view())?;
//!
//! let json = serde_json::to_string(&pipe).expect("built-in steps only");
//! let loaded: Pipeline<f64> = serde_json::from_str(&json).expect("a saved Pipeline<f64>");
//! let test = array![[nan, 7.0], [3.0, nan]];
//! let (a, b) = (pipe.transform(test.view())?, loaded.transform(test.view())?);
//! assert_eq!(b.shape(), &[2, 1]);
//! assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
//! let imputer: &SimpleImputer<f64> = loaded.named_step("impute").unwrap();
//! assert!(imputer.statistics()?[1].is_nan()); // an all-missing column's statistic
//!
//! // A user-defined step works in a pipeline but cannot be saved.
//! #[derive(Clone)]
//! struct Double;
//! impl Preprocessor<f64> for Double {
//!     fn fit(&mut self, _x: ArrayView2<'_, f64>) -> ndtrain::Result<()> { Ok(()) }
//!     fn transform(&self, x: ArrayView2<'_, f64>) -> ndtrain::Result<Array2<f64>> { Ok(&x * 2.0) }
//! }
//! let custom = Pipeline::builder()
//!     .step("scale", RobustScaler::<f64>::default())
//!     .step("double", Double)
//!     .build()?;
//! let err = custom.to_saved().unwrap_err();
//! assert!(matches!(err, ndtrain::Error::InvalidInput { .. }));
//! assert!(err.to_string().contains(r#"step "double""#), "{err}");
//! assert!(serde_json::to_string(&custom).is_err());
//! # }
//! # Ok::<(), ndtrain::Error>(())
//! ```

use std::any::Any;
use std::marker::PhantomData;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::preprocessing::{InverseTransform, Preprocessor};

/// A type-erased, clonable step. `inverse` is `None` for steps added without an
/// inverse.
pub(crate) trait DynStep<T, U>: Send + Sync {
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()>;
    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>>;
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>>;
    fn inverse(&self, y: ArrayView2<'_, U>) -> Option<Result<Array2<T>>>;
    fn names_out(&self, input: &[String]) -> Result<Vec<String>>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn clone_box(&self) -> Box<dyn DynStep<T, U>>;
    /// The step's Rust type, for error messages.
    #[cfg(feature = "serde")]
    fn type_name(&self) -> &'static str;
}

/// A step without an inverse.
pub(crate) struct Plain<P>(pub(crate) P);

/// A step with an inverse.
pub(crate) struct Invertible<P>(pub(crate) P);

macro_rules! dyn_step_common {
    () => {
        fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()> {
            self.0.fit(x)
        }
        fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
            self.0.transform(x)
        }
        fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
            self.0.fit_transform(x)
        }
        fn names_out(&self, input: &[String]) -> Result<Vec<String>> {
            self.0.feature_names_out(input)
        }
        fn as_any(&self) -> &dyn Any {
            &self.0
        }
        fn as_any_mut(&mut self) -> &mut dyn Any {
            &mut self.0
        }
        #[cfg(feature = "serde")]
        fn type_name(&self) -> &'static str {
            std::any::type_name::<P>()
        }
    };
}

impl<T: 'static, U: 'static, P> DynStep<T, U> for Plain<P>
where
    P: Preprocessor<T, U> + Clone + Send + Sync + 'static,
{
    dyn_step_common!();
    fn inverse(&self, _y: ArrayView2<'_, U>) -> Option<Result<Array2<T>>> {
        None
    }
    fn clone_box(&self) -> Box<dyn DynStep<T, U>> {
        Box::new(Plain(self.0.clone()))
    }
}

impl<T: 'static, U: 'static, P> DynStep<T, U> for Invertible<P>
where
    P: Preprocessor<T, U> + InverseTransform<T, U> + Clone + Send + Sync + 'static,
{
    dyn_step_common!();
    fn inverse(&self, y: ArrayView2<'_, U>) -> Option<Result<Array2<T>>> {
        Some(self.0.inverse_transform(y))
    }
    fn clone_box(&self) -> Box<dyn DynStep<T, U>> {
        Box::new(Invertible(self.0.clone()))
    }
}

/// The steps of a pipeline from input type `T` to output type `U`: a first step, then
/// links whose intermediate types are erased.
/// Called by [`Chain::visit`] with each step's name, the step, its type name and
/// whether it was added with an inverse.
#[cfg(feature = "serde")]
pub(crate) type StepVisitor<'a> = dyn FnMut(&str, &dyn Any, &'static str, bool) -> Result<()> + 'a;

pub(crate) trait Chain<T, U>: Send + Sync {
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()>;
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>>;
    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>>;
    /// Caller checks `first_not_invertible` first.
    fn inverse(&self, y: ArrayView2<'_, U>) -> Result<Array2<T>>;
    fn first_not_invertible(&self) -> Option<&str>;
    fn names_out(&self, input: &[String]) -> Result<Vec<String>>;
    fn find(&self, name: &str) -> Option<&dyn Any>;
    fn find_mut(&mut self, name: &str) -> Option<&mut dyn Any>;
    fn clone_box(&self) -> Box<dyn Chain<T, U>>;
    /// Calls `f(name, step, step type name, invertible)` on every step, in order.
    #[cfg(feature = "serde")]
    fn visit(&self, f: &mut StepVisitor<'_>) -> Result<()>;
}

pub(crate) struct Head<T, U> {
    pub(crate) name: String,
    pub(crate) step: Box<dyn DynStep<T, U>>,
    pub(crate) invertible: bool,
}

pub(crate) struct Link<T, V, U> {
    pub(crate) prev: Box<dyn Chain<T, V>>,
    pub(crate) name: String,
    pub(crate) step: Box<dyn DynStep<V, U>>,
    pub(crate) invertible: bool,
}

fn not_invertible_error(name: &str) -> Error {
    Error::invalid_input(
        "Pipeline::inverse_transform",
        format!(
            "step {name:?} was added without an inverse (add invertible steps with \
             invertible_step)"
        ),
    )
}

impl<T: 'static, U: 'static> Chain<T, U> for Head<T, U> {
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()> {
        self.step.fit(x)
    }
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        self.step.fit_transform(x)
    }
    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        self.step.transform(x)
    }
    fn inverse(&self, y: ArrayView2<'_, U>) -> Result<Array2<T>> {
        self.step.inverse(y).unwrap_or_else(|| Err(not_invertible_error(&self.name)))
    }
    fn first_not_invertible(&self) -> Option<&str> {
        (!self.invertible).then_some(self.name.as_str())
    }
    fn names_out(&self, input: &[String]) -> Result<Vec<String>> {
        self.step.names_out(input)
    }
    fn find(&self, name: &str) -> Option<&dyn Any> {
        (self.name == name).then(|| self.step.as_any())
    }
    fn find_mut(&mut self, name: &str) -> Option<&mut dyn Any> {
        if self.name == name { Some(self.step.as_any_mut()) } else { None }
    }
    fn clone_box(&self) -> Box<dyn Chain<T, U>> {
        Box::new(Head { name: self.name.clone(), step: self.step.clone_box(), invertible: self.invertible })
    }
    #[cfg(feature = "serde")]
    fn visit(&self, f: &mut StepVisitor<'_>) -> Result<()> {
        f(&self.name, self.step.as_any(), self.step.type_name(), self.invertible)
    }
}

impl<T: 'static, V: 'static, U: 'static> Chain<T, U> for Link<T, V, U> {
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()> {
        let mid = self.prev.fit_transform(x)?;
        self.step.fit(mid.view())
    }
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        let mid = self.prev.fit_transform(x)?;
        self.step.fit_transform(mid.view())
    }
    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        let mid = self.prev.transform(x)?;
        self.step.transform(mid.view())
    }
    fn inverse(&self, y: ArrayView2<'_, U>) -> Result<Array2<T>> {
        let mid = self.step.inverse(y).unwrap_or_else(|| Err(not_invertible_error(&self.name)))?;
        self.prev.inverse(mid.view())
    }
    fn first_not_invertible(&self) -> Option<&str> {
        self.prev.first_not_invertible().or((!self.invertible).then_some(self.name.as_str()))
    }
    fn names_out(&self, input: &[String]) -> Result<Vec<String>> {
        let mid = self.prev.names_out(input)?;
        self.step.names_out(&mid)
    }
    fn find(&self, name: &str) -> Option<&dyn Any> {
        if self.name == name { Some(self.step.as_any()) } else { self.prev.find(name) }
    }
    fn find_mut(&mut self, name: &str) -> Option<&mut dyn Any> {
        if self.name == name { Some(self.step.as_any_mut()) } else { self.prev.find_mut(name) }
    }
    fn clone_box(&self) -> Box<dyn Chain<T, U>> {
        Box::new(Link {
            prev: self.prev.clone_box(),
            name: self.name.clone(),
            step: self.step.clone_box(),
            invertible: self.invertible,
        })
    }
    #[cfg(feature = "serde")]
    fn visit(&self, f: &mut StepVisitor<'_>) -> Result<()> {
        self.prev.visit(f)?;
        f(&self.name, self.step.as_any(), self.step.type_name(), self.invertible)
    }
}

/// A sequence of named preprocessing steps, fitted together and applied in order
/// (scikit-learn's `Pipeline` of transformers).
///
/// `fit(x)` fits step 1 on `x`, step 2 on step 1's output, and so on;
/// `transform(x)` applies the fitted steps in order:
///
/// ```text
/// transform(x) = step_n(... step_2(step_1(x)))
/// inverse_transform(y) = step_1⁻¹(... step_n⁻¹(y))
/// ```
///
/// The element type may change along the way: `Pipeline<T, U>` goes from `T` to
/// `U`, e.g. `Option<String>` → (imputer) → `Option<String>` → (one-hot encoder) →
/// `f64`. A pipeline is itself a [`Preprocessor<T, U>`], so it can be a step of
/// another pipeline or a transformer of a
/// [`ColumnTransformer`](crate::preprocessing::ColumnTransformer).
///
/// Steps are any `Preprocessor + Clone + Send + Sync + 'static`, added with
/// [`step`](PipelineBuilder::step), or, when they implement [`InverseTransform`],
/// with [`invertible_step`](PipelineBuilder::invertible_step) so that the pipeline's
/// `inverse_transform` can undo them. `inverse_transform` fails, naming the step,
/// when a step was added without an inverse.
///
/// `fit` is all-or-nothing: the steps are fitted on a copy that replaces them only
/// when every step succeeded. Feature names pass through each step's
/// [`feature_names_out`](Preprocessor::feature_names_out).
///
/// | setting | default | range |
/// | --- | --- | --- |
/// | step names | (required) | non-empty, unique |
///
/// Deviation: scikit-learn pipelines may end with a model; here a pipeline holds
/// preprocessors only (the model is trained by [`Trainer`](crate::train)). With the
/// `serde` feature, a pipeline of built-in steps saves and loads (`Serialize`,
/// `Deserialize`, `to_saved`); a user-defined step cannot be
/// saved: see the module docs, "Saving and loading".
///
/// # Errors
///
/// * `build`: [`Error::InvalidConfig`] for an empty or repeated step name.
/// * `fit` / `transform`: the first error of a step (its `op` names the step type);
///   the pipeline is unchanged after a failed `fit`.
/// * `inverse_transform`: [`Error::InvalidInput`] naming the first step without an
///   inverse; otherwise a step's error.
///
/// Reference: scikit-learn, `sklearn.pipeline.Pipeline`
/// (<https://scikit-learn.org/stable/modules/generated/sklearn.pipeline.Pipeline.html>).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::{HandleUnknown, OneHotEncoder, OrdinalEncoder, Pipeline, Preprocessor};
///
/// // Text -> ordinal codes -> one-hot columns of the codes.
/// let mut pipe = Pipeline::builder()
///     .step("ordinal", OrdinalEncoder::<String>::default())
///     .step("onehot", OneHotEncoder::<f64>::builder().handle_unknown(HandleUnknown::Ignore).build()?)
///     .build()?;
/// let x = array![["b".to_string()], ["a".into()], ["b".into()]];
/// let y = pipe.fit_transform(x.view())?;
/// assert_eq!(y, array![[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]);
/// assert_eq!(pipe.step_names(), ["ordinal", "onehot"]);
/// assert_eq!(pipe.feature_names_out(&["letter".into()])?, ["letter_0.0", "letter_1.0"]);
/// let ordinal: &OrdinalEncoder<String> = pipe.named_step("ordinal").unwrap();
/// assert_eq!(ordinal.categories()?[0], ["a", "b"]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "make_pipeline")]
pub struct Pipeline<T, U = T> {
    pub(crate) chain: Box<dyn Chain<T, U>>,
    pub(crate) names: Vec<String>,
}

impl<T: 'static, U: 'static> Clone for Pipeline<T, U> {
    fn clone(&self) -> Self {
        Pipeline { chain: self.chain.clone_box(), names: self.names.clone() }
    }
}

impl<T, U> std::fmt::Debug for Pipeline<T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("steps", &self.names).finish_non_exhaustive()
    }
}

/// The start of a [`Pipeline`] builder: add the first step.
#[derive(Debug)]
pub struct PipelineStart<T>(PhantomData<fn() -> T>);

/// Builder of a [`Pipeline`] from `T` to `U`: add steps, then `build`.
pub struct PipelineBuilder<T, U> {
    pub(crate) chain: Box<dyn Chain<T, U>>,
    pub(crate) names: Vec<String>,
}

impl<T, U> std::fmt::Debug for PipelineBuilder<T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder").field("steps", &self.names).finish_non_exhaustive()
    }
}

impl<T: 'static> Pipeline<T> {
    /// Starts a pipeline; the first [`step`](PipelineStart::step) fixes the input type.
    pub fn builder() -> PipelineStart<T> {
        PipelineStart(PhantomData)
    }
}

impl<T: 'static> PipelineStart<T> {
    /// The first step, without an inverse.
    pub fn step<U, P>(self, name: impl Into<String>, step: P) -> PipelineBuilder<T, U>
    where
        U: 'static,
        P: Preprocessor<T, U> + Clone + Send + Sync + 'static,
    {
        let name = name.into();
        PipelineBuilder {
            names: vec![name.clone()],
            chain: Box::new(Head { name, step: Box::new(Plain(step)), invertible: false }),
        }
    }

    /// The first step, with an inverse.
    pub fn invertible_step<U, P>(self, name: impl Into<String>, step: P) -> PipelineBuilder<T, U>
    where
        U: 'static,
        P: Preprocessor<T, U> + InverseTransform<T, U> + Clone + Send + Sync + 'static,
    {
        let name = name.into();
        PipelineBuilder {
            names: vec![name.clone()],
            chain: Box::new(Head { name, step: Box::new(Invertible(step)), invertible: true }),
        }
    }
}

impl<T: 'static, U: 'static> PipelineBuilder<T, U> {
    fn push<V: 'static>(
        mut self,
        name: String,
        step: Box<dyn DynStep<U, V>>,
        invertible: bool,
    ) -> PipelineBuilder<T, V> {
        self.names.push(name.clone());
        PipelineBuilder {
            chain: Box::new(Link { prev: self.chain, name, step, invertible }),
            names: self.names,
        }
    }

    /// Appends a step without an inverse.
    pub fn step<V, P>(self, name: impl Into<String>, step: P) -> PipelineBuilder<T, V>
    where
        V: 'static,
        P: Preprocessor<U, V> + Clone + Send + Sync + 'static,
    {
        self.push(name.into(), Box::new(Plain(step)), false)
    }

    /// Appends a step with an inverse.
    pub fn invertible_step<V, P>(self, name: impl Into<String>, step: P) -> PipelineBuilder<T, V>
    where
        V: 'static,
        P: Preprocessor<U, V> + InverseTransform<U, V> + Clone + Send + Sync + 'static,
    {
        self.push(name.into(), Box::new(Invertible(step)), true)
    }

    /// Validates the step names and builds the pipeline.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or repeated step name.
    pub fn build(self) -> Result<Pipeline<T, U>> {
        for (i, n) in self.names.iter().enumerate() {
            if n.is_empty() {
                return Err(Error::invalid_config(format!("Pipeline: step {i} has an empty name")));
            }
            if self.names[..i].contains(n) {
                return Err(Error::invalid_config(format!("Pipeline: step name {n:?} is used twice")));
            }
        }
        Ok(Pipeline { chain: self.chain, names: self.names })
    }
}

impl<T: 'static, U: 'static> Pipeline<T, U> {
    /// The step names, in order.
    pub fn step_names(&self) -> &[String] {
        &self.names
    }

    /// Whether every step was added with an inverse.
    pub fn is_invertible(&self) -> bool {
        self.chain.first_not_invertible().is_none()
    }

    /// The step called `name`, if it exists and has type `P` (scikit-learn's
    /// `named_steps`), e.g. to read fitted statistics or to serialise it on its own.
    pub fn named_step<P: 'static>(&self, name: &str) -> Option<&P> {
        self.chain.find(name)?.downcast_ref()
    }

    /// Mutable access to the step called `name` of type `P`.
    pub fn named_step_mut<P: 'static>(&mut self, name: &str) -> Option<&mut P> {
        self.chain.find_mut(name)?.downcast_mut()
    }
}

impl<T: 'static, U: 'static> Preprocessor<T, U> for Pipeline<T, U> {
    /// Fits every step on the previous step's output; all-or-nothing.
    fn fit(&mut self, x: ArrayView2<'_, T>) -> Result<()> {
        let mut fitted = self.chain.clone_box();
        fitted.fit(x)?;
        self.chain = fitted;
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        self.chain.transform(x)
    }

    /// Fits and transforms in one pass (each step's `fit_transform`); all-or-nothing.
    fn fit_transform(&mut self, x: ArrayView2<'_, T>) -> Result<Array2<U>> {
        let mut fitted = self.chain.clone_box();
        let out = fitted.fit_transform(x)?;
        self.chain = fitted;
        Ok(out)
    }

    /// The input names passed through every step's `feature_names_out`.
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        self.chain.names_out(input_features)
    }
}

impl<T: 'static, U: 'static> InverseTransform<T, U> for Pipeline<T, U> {
    /// Undoes the steps in reverse order.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first step added without an inverse (checked
    /// before any work); otherwise a step's error.
    fn inverse_transform(&self, y: ArrayView2<'_, U>) -> Result<Array2<T>> {
        if let Some(name) = self.chain.first_not_invertible() {
            return Err(not_invertible_error(name));
        }
        self.chain.inverse(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// `x + k`, invertible; fit learns nothing but counts calls.
    #[derive(Clone, Default)]
    struct AddK {
        k: f64,
        fits: usize,
    }

    impl Preprocessor<f64> for AddK {
        fn fit(&mut self, _x: ArrayView2<'_, f64>) -> Result<()> {
            self.fits += 1;
            Ok(())
        }
        fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
            Ok(x.mapv(|v| v + self.k))
        }
    }

    impl InverseTransform<f64> for AddK {
        fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
            Ok(y.mapv(|v| v - self.k))
        }
    }

    /// Fails to fit on anything containing a negative value.
    #[derive(Clone)]
    struct NoNegatives;

    impl Preprocessor<f64> for NoNegatives {
        fn fit(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
            match x.iter().find(|v| **v < 0.0) {
                Some(&v) => {
                    Err(Error::InvalidValue { op: "NoNegatives::fit", what: "x", value: v, expected: ">= 0" })
                }
                None => Ok(()),
            }
        }
        fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
            Ok(x.to_owned())
        }
    }

    #[test]
    fn order_inverse_and_names() {
        let mut p = Pipeline::builder()
            .invertible_step("a", AddK { k: 1.0, fits: 0 })
            .invertible_step("b", AddK { k: 10.0, fits: 0 })
            .build()
            .unwrap();
        let x = array![[1.0, 2.0]];
        let y = p.fit_transform(x.view()).unwrap();
        assert_eq!(y, array![[12.0, 13.0]]);
        assert_eq!(p.inverse_transform(y.view()).unwrap(), x);
        assert_eq!(p.named_step::<AddK>("b").unwrap().fits, 1);
        assert!(p.named_step::<NoNegatives>("b").is_none());
        assert!(p.is_invertible());
    }

    #[test]
    fn failed_fit_leaves_pipeline_unchanged() {
        let mut p = Pipeline::builder()
            .step("add", AddK { k: -5.0, fits: 0 })
            .step("check", NoNegatives)
            .build()
            .unwrap();
        p.fit(array![[10.0]].view()).unwrap();
        assert_eq!(p.named_step::<AddK>("add").unwrap().fits, 1);
        assert!(matches!(p.fit(array![[1.0]].view()), Err(Error::InvalidValue { .. })));
        assert_eq!(p.named_step::<AddK>("add").unwrap().fits, 1, "the failed fit was rolled back");
        let e = p.inverse_transform(array![[1.0]].view()).unwrap_err();
        assert!(e.to_string().contains("\"add\""), "{e}");
    }

    #[test]
    fn build_rejects_duplicate_names() {
        let e = Pipeline::builder().step("a", NoNegatives).step("a", NoNegatives).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)));
        let e = Pipeline::builder().step("", NoNegatives).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)));
    }

    #[test]
    fn pipeline_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Pipeline<f64>>();
        check::<Pipeline<Option<String>, f64>>();
    }
}
