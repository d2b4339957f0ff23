//! Encoders: errors, round trips, f32 output, untouched inputs, serde.

use ndarray::{Array2, array};
use ndtrain::Error;
use ndtrain::preprocessing::{
    Categories, HandleUnknown, InverseTransform, LabelEncoder, OneHotDrop, OneHotEncoder, OrdinalEncoder,
    OrdinalHandleUnknown, Preprocessor,
};

fn strs<const R: usize, const C: usize>(rows: [[&str; C]; R]) -> Array2<String> {
    Array2::from_shape_fn((R, C), |(i, j)| rows[i][j].to_string())
}

// From scikit-learn's OneHotEncoder docstring: X = [['Male', 1], ['Female', 3],
// ['Female', 2]] with handle_unknown='ignore'; transform([['Female', 1], ['Male', 4]])
// = [[1, 0, 1, 0, 0], [0, 1, 0, 0, 0]]; inverse_transform([[0, 1, 1, 0, 0],
// [0, 0, 0, 1, 0]]) = [['Male', 1], [None, 2]]; feature names gender_Female, ...
#[test]
fn one_hot_matches_sklearn_docstring() {
    let x = strs([["Male", "1"], ["Female", "3"], ["Female", "2"]]);
    let mut enc = OneHotEncoder::<String>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap();
    enc.fit(x.view()).unwrap();
    let y = enc.transform(strs([["Female", "1"], ["Male", "4"]]).view()).unwrap();
    assert_eq!(y, array![[1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]]);
    let back =
        enc.inverse_transform(array![[0.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0]].view()).unwrap();
    assert_eq!(
        back,
        array![[Some("Male".to_string()), Some("1".to_string())], [None, Some("2".to_string())]]
    );
    let names = enc.feature_names_out(&["gender".into(), "group".into()]).unwrap();
    assert_eq!(names, ["gender_Female", "gender_Male", "group_1", "group_2", "group_3"]);
    // drop='first' on the same X: transform([['Female', 1], ['Male', 2]]) = [[0, 0, 0], [1, 1, 0]].
    let mut first = OneHotEncoder::<String>::builder().drop(OneHotDrop::First).build().unwrap();
    first.fit(x.view()).unwrap();
    let y = first.transform(strs([["Female", "1"], ["Male", "2"]]).view()).unwrap();
    assert_eq!(y, array![[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]);
    // drop='if_binary': [[0, 1, 0, 0], [1, 0, 1, 0]].
    let mut binary = OneHotEncoder::<String>::builder().drop(OneHotDrop::IfBinary).build().unwrap();
    binary.fit(x.view()).unwrap();
    let y = binary.transform(strs([["Female", "1"], ["Male", "2"]]).view()).unwrap();
    assert_eq!(y, array![[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]);
    assert_eq!(binary.drop_idx().unwrap(), Some(&[Some(0), None][..]));
}

// From scikit-learn's OrdinalEncoder docstring: fit on [['Male', 1], ['Female', 3],
// ['Female', 2]], transform([['Female', 3], ['Male', 1]]) = [[0, 2], [1, 0]];
// with a NaN: fit_transform([1, 3, nan]) = [0, 1, nan], and with
// encoded_missing_value=-1: [0, 1, -1].
#[test]
fn ordinal_matches_sklearn_docstring() {
    let x = strs([["Male", "1"], ["Female", "3"], ["Female", "2"]]);
    let mut enc = OrdinalEncoder::<String>::default();
    enc.fit(x.view()).unwrap();
    assert_eq!(
        enc.transform(strs([["Female", "3"], ["Male", "1"]]).view()).unwrap(),
        array![[0.0, 2.0], [1.0, 0.0]]
    );
    let back = enc.inverse_transform(array![[1.0, 0.0], [0.0, 1.0]].view()).unwrap();
    assert_eq!(back[[0, 0]].as_deref(), Some("Male"));
    assert_eq!(back[[1, 1]].as_deref(), Some("2"));

    let num = array![[1.0], [3.0], [f64::NAN]];
    let y = OrdinalEncoder::<f64>::default().fit_transform(num.view()).unwrap();
    assert_eq!((y[[0, 0]], y[[1, 0]]), (0.0, 1.0));
    assert!(y[[2, 0]].is_nan());
    let mut enc = OrdinalEncoder::<f64>::builder().encoded_missing_value(-1.0).build().unwrap();
    assert_eq!(enc.fit_transform(num.view()).unwrap(), array![[0.0], [1.0], [-1.0]]);
}

#[test]
fn unknown_category_names_column_and_value() {
    let x = strs([["a", "x"], ["b", "y"]]);
    let test = strs([["a", "x"], ["b", "zz"]]);
    let mut oh = OneHotEncoder::<String>::default();
    oh.fit(x.view()).unwrap();
    assert_eq!(
        oh.transform(test.view()).unwrap_err(),
        Error::UnknownCategory { op: "OneHotEncoder::transform", column: 1, value: "zz".into() }
    );
    let mut ord = OrdinalEncoder::<String>::default();
    ord.fit(x.view()).unwrap();
    let err = ord.transform(test.view()).unwrap_err();
    assert_eq!(
        err,
        Error::UnknownCategory { op: "OrdinalEncoder::transform", column: 1, value: "zz".into() }
    );
    assert_eq!(err.to_string(), "OrdinalEncoder::transform: unknown category \"zz\" in column 1");
    // Given categories are checked in fit under handle_unknown = Error ...
    let mut given = OneHotEncoder::<String>::builder()
        .categories(Categories::Given(vec![vec!["a".into()], vec!["x".into(), "y".into()]]))
        .build()
        .unwrap();
    assert_eq!(
        given.fit(x.view()).unwrap_err(),
        Error::UnknownCategory { op: "OneHotEncoder::fit", column: 0, value: "b".into() }
    );
    // ... but not under Ignore, where unknown rows encode as zeros.
    let mut given = OneHotEncoder::<String>::builder()
        .categories(Categories::Given(vec![vec!["b".into(), "a".into()], vec!["y".into(), "x".into()]]))
        .handle_unknown(HandleUnknown::Ignore)
        .build()
        .unwrap();
    given.fit(array![["c".to_string(), "x".to_string()]].view()).unwrap();
    assert_eq!(given.transform(x.view()).unwrap(), array![[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]);
    let mut label = LabelEncoder::new();
    label.fit(array!["cat", "dog"].view()).unwrap();
    assert_eq!(
        label.transform(array!["dog", "cow"].view()).unwrap_err(),
        Error::UnknownCategory { op: "LabelEncoder::transform", column: 0, value: "cow".into() }
    );
}

#[test]
fn not_fitted_everywhere() {
    let x = array![[1i64]];
    let y = array![[1.0]];
    let oh = OneHotEncoder::<i64>::default();
    assert_eq!(oh.transform(x.view()).unwrap_err(), Error::NotFitted { op: "OneHotEncoder::transform" });
    assert!(matches!(oh.inverse_transform(y.view()), Err(Error::NotFitted { .. })));
    assert!(matches!(oh.categories(), Err(Error::NotFitted { .. })));
    assert!(matches!(oh.drop_idx(), Err(Error::NotFitted { .. })));
    assert!(matches!(oh.feature_names_out(&["a".into()]), Err(Error::NotFitted { .. })));
    let ord = OrdinalEncoder::<i64>::default();
    assert_eq!(ord.transform(x.view()).unwrap_err(), Error::NotFitted { op: "OrdinalEncoder::transform" });
    assert!(matches!(ord.inverse_transform(y.view()), Err(Error::NotFitted { .. })));
    assert!(matches!(ord.categories(), Err(Error::NotFitted { .. })));
    let label = LabelEncoder::<i64>::new();
    assert_eq!(
        label.transform(array![1i64].view()).unwrap_err(),
        Error::NotFitted { op: "LabelEncoder::transform" }
    );
    assert!(matches!(label.inverse_transform(array![0usize].view()), Err(Error::NotFitted { .. })));
    assert!(matches!(label.classes(), Err(Error::NotFitted { .. })));
}

#[test]
fn wrong_column_count_is_shape_mismatch() {
    let x = array![[1i64, 2], [3, 4]];
    let mut oh = OneHotEncoder::<i64>::default();
    oh.fit(x.view()).unwrap();
    assert_eq!(
        oh.transform(array![[1i64, 2, 3]].view()).unwrap_err(),
        Error::ShapeMismatch { op: "OneHotEncoder::transform", expected: vec![0, 2], got: vec![1, 3] }
    );
    assert_eq!(
        oh.inverse_transform(array![[1.0, 0.0, 1.0]].view()).unwrap_err(),
        Error::ShapeMismatch {
            op: "OneHotEncoder::inverse_transform",
            expected: vec![0, 4],
            got: vec![1, 3]
        }
    );
    assert!(matches!(
        oh.feature_names_out(&["a".into()]),
        Err(Error::LengthMismatch { expected: 2, got: 1, .. })
    ));
    let mut ord = OrdinalEncoder::<i64>::default();
    ord.fit(x.view()).unwrap();
    assert!(matches!(ord.transform(array![[1i64]].view()), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(ord.inverse_transform(array![[0.0]].view()), Err(Error::ShapeMismatch { .. })));
    // Empty input and given categories for another column count.
    assert!(matches!(
        OneHotEncoder::<i64>::default().fit(Array2::<i64>::zeros((0, 2)).view()),
        Err(Error::EmptyInput { .. })
    ));
    let mut given =
        OrdinalEncoder::<i64>::builder().categories(Categories::Given(vec![vec![1, 3]])).build().unwrap();
    assert!(matches!(given.fit(x.view()), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn invalid_configurations() {
    let dup = OneHotEncoder::<String>::builder()
        .categories(Categories::Given(vec![vec!["a".into(), "a".into()]]))
        .build();
    assert!(matches!(dup, Err(Error::InvalidConfig(_))));
    let empty = OrdinalEncoder::<i64>::builder().categories(Categories::Given(vec![vec![]])).build();
    assert!(matches!(empty, Err(Error::InvalidConfig(_))));
    let nan_first =
        OneHotEncoder::<f64>::builder().categories(Categories::Given(vec![vec![f64::NAN, 1.0]])).build();
    assert!(matches!(nan_first, Err(Error::InvalidConfig(_))));
    let drop_len = OneHotEncoder::<i64>::builder()
        .categories(Categories::Given(vec![vec![1, 2]]))
        .drop(OneHotDrop::Categories(vec![Some(1), Some(2)]))
        .build();
    assert!(matches!(drop_len, Err(Error::InvalidConfig(_))));
    let nan_unknown = OrdinalEncoder::<i64>::builder()
        .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
        .unknown_value(f64::INFINITY)
        .build();
    assert!(matches!(nan_unknown, Err(Error::InvalidParameter { name: "unknown_value", .. })));
}

#[test]
fn inverse_round_trips() {
    // Strings with missing values (the Table's text type): None is a category.
    let x =
        array![[Some("b".to_string()), None], [None, Some("q".to_string())], [Some("a".to_string()), None]];
    let mut oh = OneHotEncoder::<Option<String>>::default();
    let y = oh.fit_transform(x.view()).unwrap();
    assert_eq!(oh.categories().unwrap()[0], &[Some("a".to_string()), Some("b".to_string()), None]);
    assert_eq!(oh.inverse_transform(y.view()).unwrap(), x.mapv(Some));
    let mut ord = OrdinalEncoder::<Option<String>>::default();
    let y = ord.fit_transform(x.view()).unwrap();
    assert!(y[[1, 0]].is_nan(), "missing encodes as encoded_missing_value = NaN");
    assert_eq!(y[[0, 0]], 1.0);
    assert_eq!(ord.inverse_transform(y.view()).unwrap(), x.mapv(Some));
    // Floats with NaN.
    let f = array![[2.5, f64::NAN], [-1.0, 0.0], [2.5, f64::NAN]];
    let mut oh = OneHotEncoder::<f64>::builder().drop(OneHotDrop::First).build().unwrap();
    let y = oh.fit_transform(f.view()).unwrap();
    let back = oh.inverse_transform(y.view()).unwrap();
    for (a, b) in back.iter().zip(&f) {
        let a = a.unwrap();
        assert!(a == *b || (a.is_nan() && b.is_nan()));
    }
    // Labels.
    let labels = array![3u8, 1, 3, 2];
    let mut le = LabelEncoder::new();
    let codes = le.fit_transform(labels.view()).unwrap();
    assert_eq!(codes, array![2, 0, 2, 1]);
    assert_eq!(le.inverse_transform(codes.view()).unwrap(), labels);
}

#[test]
fn inverse_rejects_bad_codes() {
    let x = array![["a".to_string()], ["b".to_string()]];
    let mut oh = OneHotEncoder::<String>::default();
    oh.fit(x.view()).unwrap();
    assert!(matches!(oh.inverse_transform(array![[f64::NAN, 1.0]].view()), Err(Error::NonFinite { .. })));
    // No drop, handle_unknown = Error: an all-zero row cannot be decoded.
    assert!(matches!(oh.inverse_transform(array![[0.0, 0.0]].view()), Err(Error::InvalidInput { .. })));
    let mut ord = OrdinalEncoder::<String>::default();
    ord.fit(x.view()).unwrap();
    for bad in [2.0, -1.0, 0.5, f64::NAN] {
        assert!(
            matches!(ord.inverse_transform(array![[bad]].view()), Err(Error::InvalidValue { .. })),
            "{bad}"
        );
    }
}

#[test]
fn f32_output() {
    let x = array![[1i32, 10], [2, 10], [1, 20]];
    let mut oh = OneHotEncoder::<i32, f32>::default();
    let y: Array2<f32> = oh.fit_transform(x.view()).unwrap();
    assert_eq!(y, array![[1.0f32, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]]);
    let mut ord = OrdinalEncoder::<i32, f32>::default();
    assert_eq!(ord.fit_transform(x.view()).unwrap(), array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 1.0]]);
    assert_eq!(ord.inverse_transform(array![[1.0f32, 1.0]].view()).unwrap(), array![[Some(2), Some(20)]]);
}

#[test]
fn failed_fit_keeps_previous_state_and_inputs_untouched() {
    let x = array![["a".to_string()], ["b".to_string()]];
    let copy = x.clone();
    let mut oh = OneHotEncoder::<String>::builder()
        .drop(OneHotDrop::Categories(vec![Some("b".to_string())]))
        .build()
        .unwrap();
    oh.fit(x.view()).unwrap();
    let before = oh.transform(x.view()).unwrap();
    // "b" is not in this data: the drop category is not found, fit fails.
    let other = array![["a".to_string()], ["c".to_string()]];
    assert!(matches!(oh.fit(other.view()), Err(Error::UnknownCategory { .. })));
    assert_eq!(oh.transform(x.view()).unwrap(), before);
    assert_eq!(oh.categories().unwrap()[0], &["a".to_string(), "b".to_string()]);
    assert_eq!(x, copy);
    let mut le = LabelEncoder::new();
    le.fit(array![1, 2].view()).unwrap();
    assert!(le.fit(ndarray::Array1::<i32>::zeros(0).view()).is_err());
    assert_eq!(le.classes().unwrap(), &[1, 2]);
}

#[test]
fn encoders_are_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<OneHotEncoder<String>>();
    check::<OrdinalEncoder<Option<String>, f32>>();
    check::<LabelEncoder<String>>();
}

#[cfg(feature = "serde")]
mod serde_round_trip {
    use super::*;
    use ndtrain::preprocessing::Pipeline;

    fn reload<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
        let json = serde_json::to_string(v).unwrap();
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn fitted_encoders_survive_json() {
        let x = strs([["red", "S"], ["blue", "M"], ["red", "L"]]);
        let test = strs([["blue", "S"], ["green", "L"]]);
        let mut oh = OneHotEncoder::<String>::builder()
            .handle_unknown(HandleUnknown::Ignore)
            .drop(OneHotDrop::IfBinary)
            .build()
            .unwrap();
        oh.fit(x.view()).unwrap();
        let loaded = reload(&oh);
        assert_eq!(loaded.transform(test.view()).unwrap(), oh.transform(test.view()).unwrap());
        assert_eq!(loaded.drop_idx().unwrap(), oh.drop_idx().unwrap());

        // NaN as a category and as encoded_missing_value / unknown_value survive JSON.
        let f = array![[1.0], [f64::NAN], [3.0]];
        let mut ord = OrdinalEncoder::<f64>::builder()
            .handle_unknown(OrdinalHandleUnknown::UseEncodedValue)
            .unknown_value(f64::NAN)
            .build()
            .unwrap();
        ord.fit(f.view()).unwrap();
        let loaded = reload(&ord);
        let probe = array![[3.0], [f64::NAN], [7.0]];
        let (a, b) = (ord.transform(probe.view()).unwrap(), loaded.transform(probe.view()).unwrap());
        assert_eq!(a[[0, 0]], b[[0, 0]]);
        assert!(a[[1, 0]].is_nan() && b[[1, 0]].is_nan() && b[[2, 0]].is_nan());
        assert!(loaded.categories().unwrap()[0][2].is_nan());
        assert!(loaded.unknown_value().unwrap().is_nan());

        let mut le = LabelEncoder::new();
        le.fit(array!["b".to_string(), "a".to_string()].view()).unwrap();
        let loaded = reload(&le);
        assert_eq!(loaded.classes().unwrap(), le.classes().unwrap());

        // An unfitted encoder stays unfitted.
        let fresh = reload(&OneHotEncoder::<i64>::default());
        assert!(matches!(fresh.categories(), Err(Error::NotFitted { .. })));
    }

    #[test]
    fn pipeline_rebuilt_from_saved_steps() {
        let x = strs([["b"], ["a"], ["c"]]);
        let mut pipe = Pipeline::builder()
            .step("ordinal", OrdinalEncoder::<String>::default())
            .step("onehot", OneHotEncoder::<f64>::default())
            .build()
            .unwrap();
        let before = pipe.fit_transform(x.view()).unwrap();
        let ord_json =
            serde_json::to_string(pipe.named_step::<OrdinalEncoder<String>>("ordinal").unwrap()).unwrap();
        let oh_json =
            serde_json::to_string(pipe.named_step::<OneHotEncoder<f64>>("onehot").unwrap()).unwrap();
        let rebuilt = Pipeline::builder()
            .step("ordinal", serde_json::from_str::<OrdinalEncoder<String>>(&ord_json).unwrap())
            .step("onehot", serde_json::from_str::<OneHotEncoder<f64>>(&oh_json).unwrap())
            .build()
            .unwrap();
        assert_eq!(rebuilt.transform(x.view()).unwrap(), before);
    }
}
