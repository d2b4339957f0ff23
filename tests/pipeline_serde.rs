//! Saving and loading fitted pipelines and column transformers (feature `serde`): the
//! loaded one gives bit-identical output on new data (NaN statistics, unknown
//! categories under `handle_unknown = ignore`), keeps its step types and inverses, and
//! saving a user-defined step, or loading an inconsistent save, returns a clear `Err`.
#![cfg(feature = "serde")]

use ndarray::{Array2, ArrayView2, array};
use ndtrain::preprocessing::{
    Column, ColumnTransformer, HandleUnknown, ImputeStrategy, InverseTransform, IqrClipper, MaxAbsScaler,
    MinMaxScaler, Normalizer, NumericStep, OneHotEncoder, OrdinalEncoder, OrdinalHandleUnknown, Pipeline,
    PolynomialFeatures, Preprocessor, Remainder, RobustScaler, SavedColumnTransformer, SavedPipeline,
    SimpleImputer, StandardScaler, Table, TextStep, ZScoreClipper,
};
use ndtrain::{Error, Float, Result};
use serde_json::Value;

const NAN: f64 = f64::NAN;

/// Equal shapes and equal bits everywhere (NaN included).
fn assert_same_bits<F: Float>(a: &Array2<F>, b: &Array2<F>) {
    assert_eq!(a.shape(), b.shape());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x.to_f64().unwrap(), y.to_f64().unwrap());
        assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()), "element {i}: {x} vs {y}");
    }
}

fn json_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    let json = serde_json::to_string(v).expect("serialisable");
    serde_json::from_str(&json).expect("deserialisable")
}

/// A user-defined step: adds 1.
#[derive(Clone)]
struct AddOne;

impl Preprocessor<f64> for AddOne {
    fn fit(&mut self, _x: ArrayView2<'_, f64>) -> Result<()> {
        Ok(())
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Ok(x.mapv(|v| v + 1.0))
    }
}

/// A user-defined text step: upper-cases.
#[derive(Clone)]
struct Upper;

impl Preprocessor<Option<String>> for Upper {
    fn fit(&mut self, _x: ArrayView2<'_, Option<String>>) -> Result<()> {
        Ok(())
    }
    fn transform(&self, x: ArrayView2<'_, Option<String>>) -> Result<Array2<Option<String>>> {
        Ok(x.mapv(|v| v.map(|s| s.to_uppercase())))
    }
}

#[test]
fn numeric_pipeline_round_trip_is_bit_identical() {
    // Column 2 is never observed in training: the median imputer's statistic is NaN
    // and the column is dropped; column 1 has an outlier.
    let train = array![
        [1.0, 10.0, NAN],
        [2.0, NAN, NAN],
        [NAN, 12.0, NAN],
        [4.0, 500.0, NAN],
        [5.0, 11.0, NAN],
        [3.5, 13.0, NAN]
    ];
    let mut pipe = Pipeline::builder()
        .step("impute", SimpleImputer::<f64>::builder().strategy(ImputeStrategy::Median).build().unwrap())
        .step("clip", IqrClipper::<f64>::default())
        .invertible_step("robust", RobustScaler::<f64>::default())
        .step("zclip", NumericStep::from(ZScoreClipper::<f64>::default()))
        .step("poly", PolynomialFeatures::<f64>::default())
        .invertible_step("minmax", MinMaxScaler::<f64>::default())
        .step("norm", Normalizer::<f64>::default())
        .build()
        .unwrap();
    pipe.fit(train.view()).unwrap();
    let loaded: Pipeline<f64> = json_round_trip(&pipe);

    let test = array![[NAN, NAN, 1.0], [0.0, 1000.0, NAN], [2.5, 11.5, 3.0], [-7.0, -1.0, NAN]];
    let out = pipe.transform(test.view()).unwrap();
    assert_eq!(out.shape(), &[4, 6]); // 2 kept columns -> 6 degree-2 terms
    assert_same_bits(&out, &loaded.transform(test.view()).unwrap());
    assert_same_bits(&pipe.transform(train.view()).unwrap(), &loaded.transform(train.view()).unwrap());

    // Steps come back as the types they were added as, NaN statistic included.
    assert_eq!(loaded.step_names(), pipe.step_names());
    let imputer: &SimpleImputer<f64> = loaded.named_step("impute").unwrap();
    let stats = imputer.statistics().unwrap();
    assert_eq!((stats[0], stats[1]), (3.5, 12.0));
    assert!(stats[2].is_nan());
    assert!(loaded.named_step::<NumericStep<f64>>("zclip").is_some());
    assert!(loaded.named_step::<ZScoreClipper<f64>>("zclip").is_none());
    assert_eq!(
        loaded.named_step::<RobustScaler<f64>>("robust"),
        pipe.named_step::<RobustScaler<f64>>("robust")
    );
    assert!(!loaded.is_invertible());

    // Saving the loaded pipeline gives the same JSON.
    assert_eq!(serde_json::to_string(&loaded).unwrap(), serde_json::to_string(&pipe).unwrap());
}

#[test]
fn nan_passes_through_scalers_with_nan_statistics() {
    // StandardScaler and MaxAbsScaler ignore NaN in fit; column 1 has no observed value.
    let train = array![[1.0, NAN], [3.0, NAN], [NAN, NAN], [8.0, NAN]];
    let mut pipe = Pipeline::builder()
        .invertible_step("std", StandardScaler::<f64>::default())
        .invertible_step("maxabs", MaxAbsScaler::<f64>::default())
        .build()
        .unwrap();
    pipe.fit(train.view()).unwrap();
    let loaded = Pipeline::<f64>::from_saved(json_round_trip(&pipe.to_saved().unwrap())).unwrap();
    let scaler: &StandardScaler<f64> = loaded.named_step("std").unwrap();
    assert!(scaler.mean().unwrap().unwrap()[1].is_nan());
    assert_eq!(scaler.mean().unwrap().unwrap()[0], 4.0);

    let test = array![[2.0, 1.0], [NAN, NAN], [10.0, -3.0]];
    let y = pipe.transform(test.view()).unwrap();
    assert_same_bits(&y, &loaded.transform(test.view()).unwrap());
    assert!(loaded.is_invertible());
    assert_same_bits(
        &pipe.inverse_transform(y.view()).unwrap(),
        &loaded.inverse_transform(y.view()).unwrap(),
    );
}

#[test]
fn f32_pipeline_round_trip() {
    let train = array![[1.5f32, 2.0], [f32::NAN, 4.25], [3.0, 1.0e-3], [0.1, 7.0]];
    let mut pipe = Pipeline::builder()
        .step("impute", SimpleImputer::<f32>::default())
        .invertible_step("scale", StandardScaler::<f32>::default())
        .step("poly", PolynomialFeatures::<f32>::builder().degree(3).build().unwrap())
        .build()
        .unwrap();
    pipe.fit(train.view()).unwrap();
    let loaded: Pipeline<f32> = json_round_trip(&pipe);
    let test = array![[0.3f32, f32::NAN], [-2.0, 1.0]];
    assert_same_bits(&pipe.transform(test.view()).unwrap(), &loaded.transform(test.view()).unwrap());

    // An f32 pipeline is not an f64 one.
    let err = Pipeline::<f64>::from_saved(pipe.to_saved().unwrap()).unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { op: "Pipeline::from_saved", .. }), "{err}");
    assert!(err.to_string().contains("takes f32 input"), "{err}");
}

#[test]
fn text_pipeline_round_trip_and_output_type_check() {
    let s = |v: &str| Some(v.to_string());
    let train = array![[s("red"), s("S")], [None, s("M")], [s("blue"), None], [s("red"), s("M")]];
    let mut pipe = Pipeline::builder()
        .invertible_step(
            "impute",
            SimpleImputer::<Option<String>>::builder()
                .strategy(ImputeStrategy::MostFrequent)
                .build()
                .unwrap(),
        )
        .step(
            "onehot",
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap(),
        )
        .build()
        .unwrap();
    pipe.fit(train.view()).unwrap();
    let loaded: Pipeline<Option<String>, f64> = json_round_trip(&pipe);
    // "green" and "XL" are unknown: all-zero blocks.
    let test = array![[s("green"), s("XL")], [None, None], [s("blue"), s("S")]];
    let y = pipe.transform(test.view()).unwrap();
    assert_eq!(y.row(0).sum(), 0.0);
    assert_same_bits(&y, &loaded.transform(test.view()).unwrap());
    assert_eq!(
        loaded.feature_names_out(&["colour".into(), "size".into()]).unwrap(),
        pipe.feature_names_out(&["colour".into(), "size".into()]).unwrap()
    );

    let err = Pipeline::<Option<String>, f32>::from_saved(pipe.to_saved().unwrap()).unwrap_err();
    assert!(err.to_string().contains("outputs f64"), "{err}");
}

#[test]
fn nested_pipelines_and_f32_text_steps_round_trip() {
    let s = |v: &str| Some(v.to_string());
    let clean = Pipeline::builder()
        .step(
            "impute",
            SimpleImputer::<Option<String>>::builder()
                .strategy(ImputeStrategy::Constant)
                .fill_value(s("none"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let mut pipe = Pipeline::builder()
        .step("clean", clean)
        .step("ordinal", TextStep::<f32>::from(OrdinalEncoder::<Option<String>, f32>::default()))
        .invertible_step("scale", StandardScaler::<f32>::default())
        .build()
        .unwrap();
    let train = array![[s("b"), None], [s("a"), s("x")], [None, s("y")], [s("b"), s("x")]];
    pipe.fit(train.view()).unwrap();
    let loaded: Pipeline<Option<String>, f32> = json_round_trip(&pipe);
    let y = pipe.transform(train.view()).unwrap();
    assert_same_bits(&y, &loaded.transform(train.view()).unwrap());
    // Missing values were imputed as the constant "none" (a category of its own): no
    // NaN codes, and column 0 has three categories [a, b, none].
    assert!(y.iter().all(|v| v.is_finite()));
    let ordinal: &TextStep<f32> = loaded.named_step("ordinal").unwrap();
    let TextStep::OrdinalEncoder(enc) = ordinal else { panic!("an ordinal encoder") };
    assert_eq!(enc.categories().unwrap()[0], [s("a"), s("b"), s("none")]);
    let clean: &Pipeline<Option<String>> = loaded.named_step("clean").unwrap();
    assert_eq!(clean.step_names(), ["impute"]);
    assert_eq!(pipe.to_saved().unwrap().step_names(), ["clean", "ordinal", "scale"]);
}

fn train_table() -> Table {
    Table::from_columns([
        ("age", Column::from(vec![22.0, NAN, 26.0, 35.0, NAN, 54.0, 2.0, 27.0])),
        ("fare", Column::from(vec![7.25, 71.3, 7.9, 53.1, 8.05, 51.9, 21.1, 11.1])),
        ("cabin_deck", Column::from(vec![NAN; 8])),
        (
            "town",
            Column::from(vec![
                Some("Cork"),
                None,
                Some("Galway"),
                Some("Cork"),
                None,
                Some("Cork"),
                Some("Galway"),
                Some("Cork"),
            ]),
        ),
        (
            "class",
            Column::from(vec![
                Some("first"),
                Some("third"),
                Some("third"),
                None,
                Some("third"),
                Some("first"),
                Some("second"),
                Some("third"),
            ]),
        ),
        ("id", Column::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])),
    ])
    .unwrap()
}

/// Columns in another order, an extra column, unknown categories and missing values.
fn test_table() -> Table {
    Table::from_columns([
        ("class", Column::from(vec![Some("fourth"), None, Some("first")])),
        ("extra", Column::from(vec![0.0, 0.0, 0.0])),
        ("town", Column::from(vec![Some("Dublin"), None, Some("Galway")])),
        ("id", Column::from(vec![9.0, 10.0, 11.0])),
        ("cabin_deck", Column::from(vec![3.0, NAN, 1.0])),
        ("fare", Column::from(vec![500.0, NAN, 10.0])),
        ("age", Column::from(vec![NAN, 80.0, 30.0])),
    ])
    .unwrap()
}

fn column_transformer() -> ColumnTransformer {
    let numeric = Pipeline::builder()
        .step("impute", SimpleImputer::<f64>::builder().strategy(ImputeStrategy::Median).build().unwrap())
        .step("clip", IqrClipper::<f64>::builder().k(3.0).build().unwrap())
        .invertible_step("scale", StandardScaler::<f64>::default())
        .build()
        .unwrap();
    let town = Pipeline::builder()
        .step(
            "impute",
            SimpleImputer::<Option<String>>::builder()
                .strategy(ImputeStrategy::MostFrequent)
                .build()
                .unwrap(),
        )
        .step(
            "onehot",
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap(),
        )
        .build()
        .unwrap();
    let class = OrdinalEncoder::<Option<String>>::builder()
        .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
        .unknown_value(-1.0)
        .build()
        .unwrap();
    ColumnTransformer::builder()
        .numeric("num", ["age", "fare", "cabin_deck"], numeric)
        .text("town", ["town"], town)
        .text("class", ["class"], TextStep::from(class))
        .numeric("fare_range", ["fare"], MinMaxScaler::<f64>::default())
        .passthrough("raw", ["age"])
        .remainder(Remainder::Passthrough)
        .build()
        .unwrap()
}

#[test]
fn column_transformer_round_trip_is_bit_identical() {
    let mut ct = column_transformer();
    ct.fit(&train_table()).unwrap();
    let json = serde_json::to_string(&ct).unwrap();
    let loaded: ColumnTransformer = serde_json::from_str(&json).unwrap();

    let test = test_table();
    let out = ct.transform(&test).unwrap();
    assert_same_bits(&out, &loaded.transform(&test).unwrap());
    assert_same_bits(&ct.transform(&train_table()).unwrap(), &loaded.transform(&train_table()).unwrap());
    // Unknown town "Dublin" -> all zeros; unknown class "fourth" -> -1; missing class
    // -> NaN (encoded_missing_value); the raw age passes through.
    let town = ct.output_indices().unwrap()[1].1.clone();
    assert_eq!(out.slice(ndarray::s![0, town]).sum(), 0.0);
    let names = ct.feature_names_out().unwrap();
    let class = names.iter().position(|n| n == "class__class").unwrap();
    assert_eq!(out[[0, class]], -1.0);
    assert!(out[[1, class]].is_nan());
    let raw = names.iter().position(|n| n == "raw__age").unwrap();
    assert_eq!(out[[1, raw]], 80.0);
    assert_eq!(names.last().unwrap(), "remainder__id");

    assert_eq!(loaded.feature_names_out().unwrap(), names);
    assert_eq!(loaded.output_indices().unwrap(), ct.output_indices().unwrap());
    assert_eq!(loaded.input_columns().unwrap(), ct.input_columns().unwrap());
    assert_eq!(loaded.n_features_out().unwrap(), ct.n_features_out().unwrap());
    // The all-missing column's median is NaN in the loaded imputer too.
    let num: &Pipeline<f64> = loaded.named_transformer("num").unwrap();
    let stats = num.named_step::<SimpleImputer<f64>>("impute").unwrap().statistics().unwrap();
    assert!(stats[2].is_nan());
    assert_eq!(stats[0], 26.5);
    assert!(loaded.named_transformer::<TextStep<f64>>("class").is_some());
    assert!(loaded.named_transformer::<MinMaxScaler<f64>>("fare_range").is_some());
    assert_eq!(serde_json::to_string(&loaded).unwrap(), json);

    // Errors carry the table's column index after loading too.
    let bad = test.select(&["age", "fare", "cabin_deck", "id"]).unwrap();
    assert_eq!(loaded.transform(&bad).unwrap_err(), ct.transform(&bad).unwrap_err());
}

#[test]
fn unfitted_column_transformer_round_trip() {
    let ct = column_transformer();
    let saved = ct.to_saved().unwrap();
    assert!(!saved.is_fitted());
    assert_eq!(saved.transformer_names(), ["num", "town", "class", "fare_range", "raw"]);
    let mut loaded = ColumnTransformer::from_saved(json_round_trip(&saved)).unwrap();
    assert!(matches!(loaded.transform(&test_table()), Err(Error::NotFitted { .. })));
    let mut ct = ct;
    let a = ct.fit_transform(&train_table()).unwrap();
    let b = loaded.fit_transform(&train_table()).unwrap();
    assert_same_bits(&a, &b);
    assert_same_bits(&ct.transform(&test_table()).unwrap(), &loaded.transform(&test_table()).unwrap());
}

#[test]
fn user_defined_steps_cannot_be_saved() {
    let pipe = Pipeline::builder()
        .step("scale", StandardScaler::<f64>::default())
        .step("add_one", AddOne)
        .build()
        .unwrap();
    // The pipeline works as usual.
    let mut fitted = pipe.clone();
    assert_eq!(fitted.fit_transform(array![[1.0], [3.0]].view()).unwrap(), array![[0.0], [2.0]]);
    match pipe.to_saved() {
        Err(Error::InvalidInput { op, message }) => {
            assert_eq!(op, "Pipeline::to_saved");
            assert!(
                message.starts_with(r#"step "add_one" (pipeline_serde::AddOne) cannot be saved"#),
                "{message}"
            );
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let err = serde_json::to_string(&pipe).unwrap_err();
    assert!(err.to_string().contains(r#"step "add_one""#), "{err}");

    // Nested pipelines name the path to the step.
    let inner = Pipeline::builder().step("upper", Upper).build().unwrap();
    let outer = Pipeline::builder()
        .step("clean", inner)
        .step("onehot", OneHotEncoder::<Option<String>>::default())
        .build()
        .unwrap();
    let err = outer.to_saved().unwrap_err();
    assert!(err.to_string().contains(r#"step "clean/upper""#), "{err}");

    // In a column transformer: a bare transformer, or a step of a pipeline.
    let ct = ColumnTransformer::builder()
        .numeric("ok", ["a"], MaxAbsScaler::<f64>::default())
        .numeric("mine", ["a"], AddOne)
        .build()
        .unwrap();
    let err = ct.to_saved().unwrap_err();
    assert!(matches!(err, Error::InvalidInput { op: "ColumnTransformer::to_saved", .. }));
    assert!(err.to_string().contains(r#"transformer "mine" (pipeline_serde::AddOne)"#), "{err}");
    let ct = ColumnTransformer::builder().text("cat", ["t"], outer).build().unwrap();
    let err = serde_json::to_string(&ct).unwrap_err();
    assert!(err.to_string().contains(r#"step "cat/clean/upper""#), "{err}");
}

/// A fitted pipeline's saved JSON, as a value to tamper with.
fn saved_value() -> Value {
    let mut pipe = Pipeline::builder()
        .invertible_step("scale", StandardScaler::<f64>::default())
        .step("norm", Normalizer::<f64>::default())
        .build()
        .unwrap();
    pipe.fit(array![[1.0, 2.0], [3.0, 5.0]].view()).unwrap();
    serde_json::to_value(pipe.to_saved().unwrap()).unwrap()
}

fn load(v: Value) -> Result<Pipeline<f64>> {
    Pipeline::from_saved(serde_json::from_value::<SavedPipeline>(v).expect("well-formed"))
}

#[test]
fn inconsistent_saved_pipelines_are_rejected() {
    assert!(load(saved_value()).is_ok());

    let mut v = saved_value();
    v["steps"][1]["invertible"] = Value::Bool(true);
    let err = load(v).unwrap_err();
    assert!(err.to_string().contains(r#"step "norm" is saved as invertible"#), "{err}");

    let mut v = saved_value();
    v["steps"][1]["name"] = Value::from("scale");
    assert!(matches!(load(v), Err(Error::InvalidConfig(_))));

    let mut v = saved_value();
    v["steps"] = Value::Array(vec![]);
    let err = load(v).unwrap_err();
    assert!(err.to_string().contains("no steps"), "{err}");

    // An f64 step after an f32 one.
    let mut v = saved_value();
    let f32_step = serde_json::to_value(
        Pipeline::builder().step("s", StandardScaler::<f32>::default()).build().unwrap().to_saved().unwrap(),
    )
    .unwrap();
    v["steps"][0] = f32_step["steps"][0].clone();
    let err = Pipeline::<f32>::from_saved(serde_json::from_value(v).unwrap()).unwrap_err();
    assert!(
        err.to_string().contains(r#"step "norm" takes f64 input, but the step before it outputs f32"#),
        "{err}"
    );

    // Malformed JSON is a serde error, not a panic.
    assert!(
        serde_json::from_str::<Pipeline<f64>>(r#"{"steps": [{"name": "x", "step": {"f64": 3}}]}"#).is_err()
    );
}

#[test]
fn inconsistent_saved_column_transformers_are_rejected() {
    let mut ct = column_transformer();
    ct.fit(&train_table()).unwrap();
    let value = serde_json::to_value(ct.to_saved().unwrap()).unwrap();
    let load = |v: Value| {
        ColumnTransformer::from_saved(serde_json::from_value::<SavedColumnTransformer>(v).unwrap())
    };
    assert!(load(value.clone()).is_ok());

    let mut v = value.clone();
    v["fitted"]["n_output"] = Value::from(3);
    let err = load(v).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { op: "ColumnTransformer::from_saved", .. }));
    assert!(err.to_string().contains("inconsistent fitted layout"), "{err}");

    let mut v = value.clone();
    v["fitted"]["outputs"].as_array_mut().unwrap().pop();
    assert!(load(v).unwrap_err().to_string().contains("inconsistent fitted layout"));

    // A text pipeline where a numeric transformer belongs.
    let mut v = value.clone();
    let town = v["transformers"][1]["block"]["text"].clone();
    v["transformers"][0]["block"] = serde_json::json!({ "numeric": town });
    let err = load(v).unwrap_err();
    assert!(
        err.to_string().contains(r#"transformer "num" maps Option<String> to f64, expected f64 to f64"#),
        "{err}"
    );

    let mut v = value;
    v["transformers"][4]["name"] = Value::from("remainder");
    assert!(matches!(load(v), Err(Error::InvalidConfig(_))));
}

/// The column transformer of `examples/messy_csv.rs` on `examples/data/messy.csv`.
#[cfg(feature = "csv")]
#[test]
fn messy_csv_column_transformer_round_trip() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/messy.csv");
    let mut table = Table::from_csv_path(path).unwrap();
    table.remove_column("species").unwrap();
    let rows: Vec<usize> = (0..table.n_rows()).collect();
    let (train_rows, test_rows) = rows.split_at(table.n_rows() * 3 / 4);
    let (train, test) = (table.take_rows(train_rows).unwrap(), table.take_rows(test_rows).unwrap());
    let mut ct = ColumnTransformer::builder()
        .numeric("num", ndtrain::preprocessing::Columns::AllNumeric, column_transformer_numeric())
        .text("cat", ndtrain::preprocessing::Columns::AllText, column_transformer_text())
        .build()
        .unwrap();
    ct.fit(&train).unwrap();
    let loaded: ColumnTransformer = json_round_trip(&ct);
    assert_same_bits(&ct.transform(&test).unwrap(), &loaded.transform(&test).unwrap());
    assert_eq!(loaded.feature_names_out().unwrap(), ct.feature_names_out().unwrap());
}

#[cfg(feature = "csv")]
fn column_transformer_numeric() -> Pipeline<f64> {
    Pipeline::builder()
        .step("impute", SimpleImputer::<f64>::builder().strategy(ImputeStrategy::Median).build().unwrap())
        .step("clip", IqrClipper::<f64>::builder().k(3.0).build().unwrap())
        .step("scale", StandardScaler::<f64>::default())
        .build()
        .unwrap()
}

#[cfg(feature = "csv")]
fn column_transformer_text() -> Pipeline<Option<String>, f64> {
    Pipeline::builder()
        .step(
            "impute",
            SimpleImputer::<Option<String>>::builder()
                .strategy(ImputeStrategy::MostFrequent)
                .build()
                .unwrap(),
        )
        .step(
            "onehot",
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap(),
        )
        .build()
        .unwrap()
}

#[test]
fn public_types_are_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<NumericStep<f64>>();
    check::<NumericStep<f32>>();
    check::<TextStep<f64>>();
    check::<SavedPipeline>();
    check::<SavedColumnTransformer>();
}
