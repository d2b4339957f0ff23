//! Saving and loading [`Pipeline`]s and [`ColumnTransformer`]s (feature `serde`).
//!
//! The design and its limits are described in the
//! [`pipeline`](crate::preprocessing::pipeline) module docs ("Saving and loading").
//! In short: a step is saved when it is one of ndtrain's built-in preprocessors
//! (recognised by downcasting the type-erased step to each built-in type), as a
//! variant of [`StepKind`], which records its element types; loading rebuilds the
//! chain of concrete steps, checking that the element types line up.

use std::any::{Any, TypeId};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::column_transformer::{Block, Entry, Layout};
use super::pipeline::{Chain, DynStep, Head, Invertible, Link, PipelineBuilder, Plain};
use super::{
    ColumnTransformer, ColumnTransformerBuilder, Columns, InverseTransform, IqrClipper, MaxAbsScaler,
    MinMaxScaler, MissingValue, Normalizer, NumericStep, OneHotEncoder, OrdinalEncoder, Pipeline,
    PolynomialFeatures, Preprocessor, Remainder, RobustScaler, SimpleImputer, StandardScaler, TextStep,
    ZScoreClipper,
};
use crate::error::{Error, Result};
use crate::tensor::Float;

/// The element types a saved step can take and give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    F64,
    F32,
    Text,
}

impl Elem {
    fn of<T: 'static>() -> Option<Elem> {
        let t = TypeId::of::<T>();
        if t == TypeId::of::<f64>() {
            Some(Elem::F64)
        } else if t == TypeId::of::<f32>() {
            Some(Elem::F32)
        } else if t == TypeId::of::<Option<String>>() {
            Some(Elem::Text)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Elem::F64 => "f64",
            Elem::F32 => "f32",
            Elem::Text => "Option<String>",
        }
    }
}

/// `T` by its short name when it is a saveable element type.
fn type_label<T: 'static>() -> &'static str {
    Elem::of::<T>().map_or_else(std::any::type_name::<T>, Elem::name)
}

/// One saved step: a built-in preprocessor, tagged by its element types.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StepKind {
    /// `f64 -> f64`.
    F64(NumericStep<f64>),
    /// `f32 -> f32`.
    F32(NumericStep<f32>),
    /// `Option<String> -> Option<String>`.
    TextImputer(SimpleImputer<Option<String>>),
    /// `Option<String> -> f64`.
    TextF64(TextStep<f64>),
    /// `Option<String> -> f32`.
    TextF32(TextStep<f32>),
    /// A nested pipeline; its element types are those of its first and last steps.
    Pipeline(SavedPipeline),
}

impl StepKind {
    /// Input and output element types.
    fn io(&self, op: &'static str) -> Result<(Elem, Elem)> {
        Ok(match self {
            StepKind::F64(_) => (Elem::F64, Elem::F64),
            StepKind::F32(_) => (Elem::F32, Elem::F32),
            StepKind::TextImputer(_) => (Elem::Text, Elem::Text),
            StepKind::TextF64(_) => (Elem::Text, Elem::F64),
            StepKind::TextF32(_) => (Elem::Text, Elem::F32),
            StepKind::Pipeline(p) => p.io(op)?,
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedPipelineStep {
    name: String,
    /// Added with `invertible_step`.
    #[serde(default, skip_serializing_if = "is_false")]
    invertible: bool,
    /// Added as a [`NumericStep`] / [`TextStep`] rather than as the preprocessor itself.
    #[serde(default, skip_serializing_if = "is_false")]
    enum_step: bool,
    step: StepKind,
}

/// The saved form of a [`Pipeline`] of built-in steps: from
/// [`Pipeline::to_saved`], back with [`Pipeline::from_saved`]; `Serialize` and
/// `Deserialize` (feature `serde`).
///
/// It records each step's name, whether it was added with `invertible_step`, and the
/// step itself (configuration and fitted statistics), tagged with its element types
/// (`f64`, `f32`, `Option<String>`). See the
/// [`pipeline`](crate::preprocessing::pipeline) module docs, "Saving and loading".
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedPipeline {
    steps: Vec<SavedPipelineStep>,
}

impl SavedPipeline {
    /// The step names, in order.
    pub fn step_names(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.name.as_str()).collect()
    }

    /// Element types of the first step's input and the last step's output.
    fn io(&self, op: &'static str) -> Result<(Elem, Elem)> {
        match (self.steps.first(), self.steps.last()) {
            (Some(first), Some(last)) => Ok((first.step.io(op)?.0, last.step.io(op)?.1)),
            _ => Err(Error::invalid_input(op, "the saved pipeline has no steps")),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SavedBlock {
    /// `f64 -> f64`.
    Numeric(StepKind),
    /// `Option<String> -> f64`.
    Text(StepKind),
    Passthrough,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedTransformer {
    name: String,
    columns: Columns,
    #[serde(default, skip_serializing_if = "is_false")]
    enum_step: bool,
    block: SavedBlock,
}

/// The saved form of a [`ColumnTransformer`] whose transformers are built-in
/// preprocessors or pipelines of them: from [`ColumnTransformer::to_saved`], back with
/// [`ColumnTransformer::from_saved`]; `Serialize` and `Deserialize` (feature `serde`).
///
/// It records the transformers (name, column selection, the transformer itself), the
/// remainder and naming settings and, once fitted, the resolved input columns and
/// output layout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedColumnTransformer {
    transformers: Vec<SavedTransformer>,
    remainder: Remainder,
    verbose_feature_names_out: bool,
    fitted: Option<Layout>,
}

impl SavedColumnTransformer {
    /// The transformer names, in order.
    pub fn transformer_names(&self) -> Vec<&str> {
        self.transformers.iter().map(|t| t.name.as_str()).collect()
    }

    /// Whether the saved transformer was fitted.
    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }
}

// ---------------------------------------------------------------------------------
// Saving: recognise the built-in steps behind the type-erased ones.

fn numeric_of<F: Float>(s: &dyn Any) -> Option<NumericStep<F>> {
    macro_rules! try_types {
        ($($t:ident),*) => {
            $(
                if let Some(p) = s.downcast_ref::<$t<F>>() {
                    return Some(NumericStep::$t(p.clone()));
                }
            )*
        };
    }
    try_types!(
        StandardScaler,
        MinMaxScaler,
        MaxAbsScaler,
        RobustScaler,
        Normalizer,
        SimpleImputer,
        PolynomialFeatures,
        IqrClipper,
        ZScoreClipper
    );
    None
}

fn text_of<F: Float>(s: &dyn Any) -> Option<TextStep<F>> {
    if let Some(p) = s.downcast_ref::<OneHotEncoder<Option<String>, F>>() {
        return Some(TextStep::OneHotEncoder(p.clone()));
    }
    s.downcast_ref::<OrdinalEncoder<Option<String>, F>>().map(|p| TextStep::OrdinalEncoder(p.clone()))
}

/// The error for a step that cannot be saved. `what` is e.g.
/// `step "cat/impute"`.
fn not_saveable(op: &'static str, what: &str, type_name: &str) -> Error {
    Error::invalid_input(
        op,
        format!(
            "{what} ({type_name}) cannot be saved: only ndtrain's built-in preprocessors over \
             f64, f32 and Option<String>, and pipelines of them, can be (see the \
             ndtrain::preprocessing::pipeline docs, \"Saving and loading\")"
        ),
    )
}

/// The saved form of a step and whether it is a step enum, or `Err` naming it
/// (`what`) when it is not a built-in one. `path` prefixes the names of a nested
/// pipeline's steps.
fn save_step(
    s: &dyn Any,
    type_name: &str,
    what: &str,
    path: &str,
    op: &'static str,
) -> Result<(StepKind, bool)> {
    if let Some(n) = s.downcast_ref::<NumericStep<f64>>() {
        return Ok((StepKind::F64(n.clone()), true));
    }
    if let Some(n) = s.downcast_ref::<NumericStep<f32>>() {
        return Ok((StepKind::F32(n.clone()), true));
    }
    if let Some(t) = s.downcast_ref::<TextStep<f64>>() {
        return Ok((StepKind::TextF64(t.clone()), true));
    }
    if let Some(t) = s.downcast_ref::<TextStep<f32>>() {
        return Ok((StepKind::TextF32(t.clone()), true));
    }
    if let Some(n) = numeric_of::<f64>(s) {
        return Ok((StepKind::F64(n), false));
    }
    if let Some(n) = numeric_of::<f32>(s) {
        return Ok((StepKind::F32(n), false));
    }
    if let Some(t) = text_of::<f64>(s) {
        return Ok((StepKind::TextF64(t), false));
    }
    if let Some(t) = text_of::<f32>(s) {
        return Ok((StepKind::TextF32(t), false));
    }
    if let Some(p) = s.downcast_ref::<SimpleImputer<Option<String>>>() {
        return Ok((StepKind::TextImputer(p.clone()), false));
    }
    macro_rules! nested {
        ($(($a:ty, $b:ty)),*) => {
            $(
                if let Some(p) = s.downcast_ref::<Pipeline<$a, $b>>() {
                    return Ok((StepKind::Pipeline(p.save_at(path, op)?), false));
                }
            )*
        };
    }
    type S = Option<String>;
    nested!((f64, f64), (f32, f32), (S, S), (S, f64), (S, f32), (f64, f32), (f32, f64), (f64, S), (f32, S));
    Err(not_saveable(op, what, type_name))
}

impl<T: 'static, U: 'static> Pipeline<T, U> {
    /// The saved form of the pipeline; `path` prefixes step names in errors.
    fn save_at(&self, path: &str, op: &'static str) -> Result<SavedPipeline> {
        let mut steps = Vec::with_capacity(self.names.len());
        self.chain.visit(&mut |name, step, type_name, invertible| {
            let what = format!("step {:?}", format!("{path}{name}"));
            let (kind, enum_step) = save_step(step, type_name, &what, &format!("{path}{name}/"), op)?;
            steps.push(SavedPipelineStep { name: name.to_string(), invertible, enum_step, step: kind });
            Ok(())
        })?;
        Ok(SavedPipeline { steps })
    }

    /// The saved form of this pipeline (configuration and fitted statistics of every
    /// step), to serialise with any serde format. Feature `serde`.
    ///
    /// Every step must be one of ndtrain's built-in preprocessors (listed in the
    /// [`pipeline`](crate::preprocessing::pipeline) module docs), a [`NumericStep`] /
    /// [`TextStep`], or a nested `Pipeline` of those. A pipeline also implements
    /// `Serialize` itself, through this method.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first step that cannot be saved (a
    /// user-defined step, or a built-in encoder over another category type than
    /// `Option<String>`) with its type, e.g. `step "text/custom"` for a step of a nested
    /// pipeline.
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::preprocessing::{Pipeline, Preprocessor, SimpleImputer, StandardScaler};
    ///
    /// let mut pipe = Pipeline::builder()
    ///     .step("impute", SimpleImputer::<f64>::default())
    ///     .invertible_step("scale", StandardScaler::<f64>::default())
    ///     .build()?;
    /// pipe.fit(array![[1.0], [f64::NAN], [3.0]].view())?;
    /// let json = serde_json::to_string(&pipe.to_saved()?).expect("serialisable");
    /// let saved = serde_json::from_str(&json).expect("valid JSON");
    /// let loaded: Pipeline<f64> = Pipeline::from_saved(saved)?;
    /// let x = array![[f64::NAN], [5.0]];
    /// assert_eq!(loaded.transform(x.view())?, pipe.transform(x.view())?);
    /// assert_eq!(loaded.step_names(), ["impute", "scale"]);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn to_saved(&self) -> Result<SavedPipeline> {
        self.save_at("", "Pipeline::to_saved")
    }

    /// Rebuilds a pipeline from its saved form; it transforms exactly as the saved one
    /// (no refitting). Feature `serde`.
    ///
    /// Steps come back as the types they were added as, so
    /// [`named_step`](Pipeline::named_step) works as before, and steps added with
    /// `invertible_step` keep their inverse.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the saved pipeline has no steps, its element types
    /// are not `T` → `U` (e.g. an `f32` pipeline loaded as `Pipeline<f64>`), two
    /// consecutive steps do not fit together, or a step is marked invertible but has no
    /// inverse; [`Error::InvalidConfig`] for an empty or repeated step name (as
    /// [`build`](crate::preprocessing::PipelineBuilder::build)).
    pub fn from_saved(saved: SavedPipeline) -> Result<Self> {
        Self::load_at(saved, "", "Pipeline::from_saved")
    }

    fn load_at(saved: SavedPipeline, path: &str, op: &'static str) -> Result<Self> {
        let (input, _) = saved.io(op)?;
        if Elem::of::<T>() != Some(input) {
            return Err(Error::invalid_input(
                op,
                format!(
                    "the saved pipeline takes {} input, but this pipeline's input type is {}",
                    input.name(),
                    type_label::<T>()
                ),
            ));
        }
        let mut names = Vec::with_capacity(saved.steps.len());
        let mut partial: Option<Partial<T>> = None;
        for s in saved.steps {
            let what = format!("step {:?}", format!("{path}{}", s.name));
            let loaded =
                load_step(s.step, s.invertible, s.enum_step, &what, &format!("{path}{}/", s.name), op)?;
            names.push(s.name.clone());
            partial = Some(match partial {
                None => Partial::start(s.name, loaded, s.invertible, op)?,
                Some(p) => p.push(s.name, loaded, s.invertible, &what, op)?,
            });
        }
        let chain =
            partial.ok_or_else(|| Error::invalid_input(op, "the saved pipeline has no steps"))?.finish(op)?;
        PipelineBuilder { chain, names }.build()
    }
}

/// Saves a pipeline with [`Pipeline::to_saved`]; fails (with that error's message)
/// when a step is not a built-in preprocessor.
impl<T: 'static, U: 'static> Serialize for Pipeline<T, U> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_saved().map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

/// Loads a pipeline with [`Pipeline::from_saved`].
impl<'de, T: 'static, U: 'static> Deserialize<'de> for Pipeline<T, U> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Pipeline::from_saved(SavedPipeline::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------
// Loading: rebuild the concrete steps, then the chain.

/// A loaded step: a `Box<dyn DynStep<I, O>>` behind `Any`, with `I` and `O` as tags.
struct Loaded {
    input: Elem,
    output: Elem,
    step: Box<dyn Any>,
}

impl Loaded {
    fn new<I: 'static, O: 'static>(input: Elem, output: Elem, step: Box<dyn DynStep<I, O>>) -> Self {
        Loaded { input, output, step: Box::new(step) }
    }

    /// The step as `DynStep<I, O>`; the caller has checked the tags.
    fn into_dyn<I: 'static, O: 'static>(self, op: &'static str) -> Result<Box<dyn DynStep<I, O>>> {
        self.step.downcast::<Box<dyn DynStep<I, O>>>().map(|b| *b).map_err(|_| {
            Error::invalid_input(
                op,
                format!("internal error: a step of type {}", std::any::type_name::<Box<dyn DynStep<I, O>>>()),
            )
        })
    }
}

fn boxed<T, U, P>(p: P, invertible: bool) -> Box<dyn DynStep<T, U>>
where
    T: 'static,
    U: 'static,
    P: Preprocessor<T, U> + InverseTransform<T, U> + Clone + Send + Sync + 'static,
{
    if invertible { Box::new(Invertible(p)) } else { Box::new(Plain(p)) }
}

fn plain<T, U, P>(p: P, invertible: bool, what: &str, op: &'static str) -> Result<Box<dyn DynStep<T, U>>>
where
    T: 'static,
    U: 'static,
    P: Preprocessor<T, U> + Clone + Send + Sync + 'static,
{
    if invertible {
        return Err(Error::invalid_input(
            op,
            format!("{what} is saved as invertible, but {} has no inverse", std::any::type_name::<P>()),
        ));
    }
    Ok(Box::new(Plain(p)))
}

fn load_numeric<F: Float + MissingValue>(
    n: NumericStep<F>,
    invertible: bool,
    enum_step: bool,
    what: &str,
    op: &'static str,
) -> Result<Box<dyn DynStep<F, F>>> {
    if enum_step {
        return plain(n, invertible, what, op);
    }
    Ok(match n {
        NumericStep::StandardScaler(p) => boxed(p, invertible),
        NumericStep::MinMaxScaler(p) => boxed(p, invertible),
        NumericStep::MaxAbsScaler(p) => boxed(p, invertible),
        NumericStep::RobustScaler(p) => boxed(p, invertible),
        NumericStep::SimpleImputer(p) => boxed(p, invertible),
        NumericStep::Normalizer(p) => plain(p, invertible, what, op)?,
        NumericStep::PolynomialFeatures(p) => plain(p, invertible, what, op)?,
        NumericStep::IqrClipper(p) => plain(p, invertible, what, op)?,
        NumericStep::ZScoreClipper(p) => plain(p, invertible, what, op)?,
    })
}

fn load_text<F: Float>(
    t: TextStep<F>,
    invertible: bool,
    enum_step: bool,
    what: &str,
    op: &'static str,
) -> Result<Box<dyn DynStep<Option<String>, F>>> {
    if enum_step {
        return plain(t, invertible, what, op);
    }
    match t {
        TextStep::OneHotEncoder(p) => plain(p, invertible, what, op),
        TextStep::OrdinalEncoder(p) => plain(p, invertible, what, op),
    }
}

/// Rebuilds one step. `what` names it in errors, `path` prefixes the names of a
/// nested pipeline's steps.
fn load_step(
    kind: StepKind,
    invertible: bool,
    enum_step: bool,
    what: &str,
    path: &str,
    op: &'static str,
) -> Result<Loaded> {
    use Elem::{F32, F64, Text};
    type S = Option<String>;
    Ok(match kind {
        StepKind::F64(n) => Loaded::new(F64, F64, load_numeric::<f64>(n, invertible, enum_step, what, op)?),
        StepKind::F32(n) => Loaded::new(F32, F32, load_numeric::<f32>(n, invertible, enum_step, what, op)?),
        StepKind::TextImputer(p) => {
            let step: Box<dyn DynStep<S, S>> =
                if enum_step { plain(p, invertible, what, op)? } else { boxed(p, invertible) };
            Loaded::new(Text, Text, step)
        }
        StepKind::TextF64(t) => Loaded::new(Text, F64, load_text::<f64>(t, invertible, enum_step, what, op)?),
        StepKind::TextF32(t) => Loaded::new(Text, F32, load_text::<f32>(t, invertible, enum_step, what, op)?),
        StepKind::Pipeline(p) => {
            macro_rules! nested {
                ($(($a:ident, $at:ty, $b:ident, $bt:ty)),*) => {
                    match p.io(op)? {
                        $(
                            ($a, $b) => {
                                let pipe = Pipeline::<$at, $bt>::load_at(p, path, op)?;
                                Loaded::new($a, $b, boxed(pipe, invertible))
                            }
                        )*
                    }
                };
            }
            nested!(
                (F64, f64, F64, f64),
                (F64, f64, F32, f32),
                (F64, f64, Text, S),
                (F32, f32, F64, f64),
                (F32, f32, F32, f32),
                (F32, f32, Text, S),
                (Text, S, F64, f64),
                (Text, S, F32, f32),
                (Text, S, Text, S)
            )
        }
    })
}

/// A chain being rebuilt, by its current output type.
enum Partial<T> {
    F64(Box<dyn Chain<T, f64>>),
    F32(Box<dyn Chain<T, f32>>),
    Text(Box<dyn Chain<T, Option<String>>>),
}

impl<T: 'static> Partial<T> {
    fn output(&self) -> Elem {
        match self {
            Partial::F64(_) => Elem::F64,
            Partial::F32(_) => Elem::F32,
            Partial::Text(_) => Elem::Text,
        }
    }

    /// The first step; the caller has checked that it takes `T`.
    fn start(name: String, loaded: Loaded, invertible: bool, op: &'static str) -> Result<Self> {
        Ok(match loaded.output {
            Elem::F64 => Partial::F64(Box::new(Head { name, step: loaded.into_dyn(op)?, invertible })),
            Elem::F32 => Partial::F32(Box::new(Head { name, step: loaded.into_dyn(op)?, invertible })),
            Elem::Text => Partial::Text(Box::new(Head { name, step: loaded.into_dyn(op)?, invertible })),
        })
    }

    /// Appends a step, checking that it takes this chain's output type.
    fn push(
        self,
        name: String,
        loaded: Loaded,
        invertible: bool,
        what: &str,
        op: &'static str,
    ) -> Result<Self> {
        if loaded.input != self.output() {
            return Err(Error::invalid_input(
                op,
                format!(
                    "{what} takes {} input, but the step before it outputs {}",
                    loaded.input.name(),
                    self.output().name()
                ),
            ));
        }
        match self {
            Partial::F64(prev) => link(prev, name, loaded, invertible, op),
            Partial::F32(prev) => link(prev, name, loaded, invertible, op),
            Partial::Text(prev) => link(prev, name, loaded, invertible, op),
        }
    }

    /// The chain as `Chain<T, U>`, or `Err` when it does not output `U`.
    fn finish<U: 'static>(self, op: &'static str) -> Result<Box<dyn Chain<T, U>>> {
        let output = self.output();
        let any: Box<dyn Any> = match self {
            Partial::F64(c) => Box::new(c),
            Partial::F32(c) => Box::new(c),
            Partial::Text(c) => Box::new(c),
        };
        any.downcast::<Box<dyn Chain<T, U>>>().map(|b| *b).map_err(|_| {
            Error::invalid_input(
                op,
                format!(
                    "the saved pipeline outputs {}, but this pipeline's output type is {}",
                    output.name(),
                    type_label::<U>()
                ),
            )
        })
    }
}

fn link<T: 'static, V: 'static>(
    prev: Box<dyn Chain<T, V>>,
    name: String,
    loaded: Loaded,
    invertible: bool,
    op: &'static str,
) -> Result<Partial<T>> {
    Ok(match loaded.output {
        Elem::F64 => Partial::F64(Box::new(Link { prev, name, step: loaded.into_dyn(op)?, invertible })),
        Elem::F32 => Partial::F32(Box::new(Link { prev, name, step: loaded.into_dyn(op)?, invertible })),
        Elem::Text => Partial::Text(Box::new(Link { prev, name, step: loaded.into_dyn(op)?, invertible })),
    })
}

// ---------------------------------------------------------------------------------
// ColumnTransformer.

impl ColumnTransformer {
    /// The saved form of this column transformer (its transformers with their fitted
    /// statistics, its settings and, once fitted, its column layout), to serialise with
    /// any serde format. Feature `serde`.
    ///
    /// Every transformer must be one of ndtrain's built-in preprocessors, a
    /// [`NumericStep`] / [`TextStep`], or a [`Pipeline`] of those (see the
    /// [`pipeline`](crate::preprocessing::pipeline) module docs, "Saving and loading").
    /// A column transformer also implements `Serialize` itself, through this method.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first transformer (`transformer "num"`) or
    /// pipeline step (`step "num/custom"`) that cannot be saved, with its type.
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::preprocessing::{
    ///     Column, ColumnTransformer, Columns, HandleUnknown, ImputeStrategy, OneHotEncoder,
    ///     Pipeline, SimpleImputer, StandardScaler, Table,
    /// };
    ///
    /// let train = Table::from_columns([
    ///     ("age", Column::from(vec![22.0, f64::NAN, 26.0])),
    ///     ("town", Column::from(vec![Some("Cork"), None, Some("Galway")])),
    /// ])?;
    /// let numeric = Pipeline::builder()
    ///     .step("impute", SimpleImputer::<f64>::default())
    ///     .step("scale", StandardScaler::<f64>::default())
    ///     .build()?;
    /// let text = Pipeline::builder()
    ///     .step("impute", SimpleImputer::<Option<String>>::builder().strategy(ImputeStrategy::MostFrequent).build()?)
    ///     .step("onehot", OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build()?)
    ///     .build()?;
    /// let mut ct = ColumnTransformer::builder()
    ///     .numeric("num", Columns::AllNumeric, numeric)
    ///     .text("cat", Columns::AllText, text)
    ///     .build()?;
    /// ct.fit(&train)?;
    ///
    /// let json = serde_json::to_string(&ct).expect("built-in transformers only");
    /// let loaded: ColumnTransformer = serde_json::from_str(&json).expect("valid JSON");
    /// let test = Table::from_columns([
    ///     ("town", Column::from(vec![Some("Dublin"), None])), // unseen, missing
    ///     ("age", Column::from(vec![30.0, f64::NAN])),
    /// ])?;
    /// assert_eq!(loaded.transform(&test)?, ct.transform(&test)?);
    /// assert_eq!(loaded.feature_names_out()?, ct.feature_names_out()?);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn to_saved(&self) -> Result<SavedColumnTransformer> {
        const OP: &str = "ColumnTransformer::to_saved";
        let mut transformers = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let what = format!("transformer {:?}", e.name);
            let path = format!("{}/", e.name);
            let (block, enum_step) = match &e.block {
                Block::Numeric(t) => {
                    let (k, en) = save_step(t.as_any(), t.type_name(), &what, &path, OP)?;
                    (SavedBlock::Numeric(k), en)
                }
                Block::Text(t) => {
                    let (k, en) = save_step(t.as_any(), t.type_name(), &what, &path, OP)?;
                    (SavedBlock::Text(k), en)
                }
                Block::Passthrough => (SavedBlock::Passthrough, false),
            };
            transformers.push(SavedTransformer {
                name: e.name.clone(),
                columns: e.columns.clone(),
                enum_step,
                block,
            });
        }
        Ok(SavedColumnTransformer {
            transformers,
            remainder: self.remainder,
            verbose_feature_names_out: self.verbose_feature_names_out,
            fitted: self.layout.clone(),
        })
    }

    /// Rebuilds a column transformer from its saved form; once fitted, it transforms
    /// exactly as the saved one (no refitting). Feature `serde`.
    ///
    /// Transformers come back as the types they were added as, so
    /// [`named_transformer`](ColumnTransformer::named_transformer) works as before.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a numeric transformer does not map `f64` to `f64`, a
    /// text one `Option<String>` to `f64`, a saved pipeline is inconsistent (see
    /// [`Pipeline::from_saved`]), or the fitted layout does not match the transformers;
    /// [`Error::InvalidConfig`] for an empty, repeated or reserved transformer name (as
    /// [`build`](ColumnTransformerBuilder::build)).
    pub fn from_saved(saved: SavedColumnTransformer) -> Result<Self> {
        const OP: &str = "ColumnTransformer::from_saved";
        let mut entries = Vec::with_capacity(saved.transformers.len());
        for t in saved.transformers {
            let what = format!("transformer {:?}", t.name);
            let path = format!("{}/", t.name);
            let block = match t.block {
                SavedBlock::Numeric(k) => {
                    let loaded = load_step(k, false, t.enum_step, &what, &path, OP)?;
                    check_io(&loaded, (Elem::F64, Elem::F64), &what, OP)?;
                    Block::Numeric(loaded.into_dyn(OP)?)
                }
                SavedBlock::Text(k) => {
                    let loaded = load_step(k, false, t.enum_step, &what, &path, OP)?;
                    check_io(&loaded, (Elem::Text, Elem::F64), &what, OP)?;
                    Block::Text(loaded.into_dyn(OP)?)
                }
                SavedBlock::Passthrough => Block::Passthrough,
            };
            entries.push(Entry { name: t.name, columns: t.columns, block });
        }
        let mut ct = ColumnTransformerBuilder {
            entries,
            remainder: saved.remainder,
            verbose_feature_names_out: saved.verbose_feature_names_out,
        }
        .build()?;
        if let Some(layout) = saved.fitted {
            check_layout(&layout, &ct.entries, OP)?;
            ct.layout = Some(layout);
        }
        Ok(ct)
    }
}

fn check_io(loaded: &Loaded, want: (Elem, Elem), what: &str, op: &'static str) -> Result<()> {
    if (loaded.input, loaded.output) == want {
        return Ok(());
    }
    Err(Error::invalid_input(
        op,
        format!(
            "{what} maps {} to {}, expected {} to {}",
            loaded.input.name(),
            loaded.output.name(),
            want.0.name(),
            want.1.name()
        ),
    ))
}

/// Checks that a saved layout is consistent with the transformers: one input list
/// and one output range per transformer, contiguous ranges from 0, passthrough widths
/// equal to their column counts, and one name per output column.
fn check_layout(layout: &Layout, entries: &[Entry], op: &'static str) -> Result<()> {
    let bad =
        |message: String| Err(Error::invalid_input(op, format!("inconsistent fitted layout: {message}")));
    if layout.inputs.len() != entries.len() || layout.outputs.len() != entries.len() {
        return bad(format!(
            "{} input lists and {} output ranges for {} transformers",
            layout.inputs.len(),
            layout.outputs.len(),
            entries.len()
        ));
    }
    let mut end = 0;
    for ((e, cols), r) in entries.iter().zip(&layout.inputs).zip(&layout.outputs) {
        let width = r.end.checked_sub(r.start);
        let passthrough_ok = !matches!(e.block, Block::Passthrough) || width == Some(cols.len());
        let empty_ok = !cols.is_empty() || width == Some(0);
        if r.start != end || width.is_none() || !passthrough_ok || !empty_ok {
            return bad(format!("transformer {:?} has output columns {r:?}", e.name));
        }
        end = r.end;
    }
    if end.checked_add(layout.remainder.len()) != Some(layout.n_output)
        || layout.names_out.len() != layout.n_output
    {
        return bad(format!(
            "{} output columns, {} names, {} transformed and {} remainder columns",
            layout.n_output,
            layout.names_out.len(),
            end,
            layout.remainder.len()
        ));
    }
    Ok(())
}

/// Saves a column transformer with [`ColumnTransformer::to_saved`]; fails (with that
/// error's message) when a transformer is not a built-in preprocessor.
impl Serialize for ColumnTransformer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_saved().map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

/// Loads a column transformer with [`ColumnTransformer::from_saved`].
impl<'de> Deserialize<'de> for ColumnTransformer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        ColumnTransformer::from_saved(SavedColumnTransformer::deserialize(deserializer)?)
            .map_err(serde::de::Error::custom)
    }
}
