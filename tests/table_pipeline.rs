//! Table (and CSV loading), Pipeline and ColumnTransformer, with small test-only
//! numeric and text preprocessors standing in for the crate's imputers and scalers.

use approx::assert_abs_diff_eq;
use ndarray::{Array2, ArrayView2, Axis, array};
use ndtrain::preprocessing::{
    Column, ColumnTransformer, Columns, HandleUnknown, InverseTransform, OneHotEncoder, Pipeline,
    Preprocessor, Remainder, Table,
};
use ndtrain::{Error, Result};

/// Median imputation per column (NaN = missing).
#[derive(Clone, Default)]
struct MedianImputer {
    medians: Option<Vec<f64>>,
}

impl Preprocessor<f64> for MedianImputer {
    fn fit(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
        let medians = x
            .columns()
            .into_iter()
            .map(|c| {
                let mut v: Vec<f64> = c.iter().copied().filter(|v| !v.is_nan()).collect();
                v.sort_by(f64::total_cmp);
                let n = v.len();
                if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
            })
            .collect();
        self.medians = Some(medians);
        Ok(())
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let m = self.medians.as_ref().ok_or(Error::NotFitted { op: "MedianImputer::transform" })?;
        let mut out = x.to_owned();
        for (mut c, &med) in out.columns_mut().into_iter().zip(m) {
            c.mapv_inplace(|v| if v.is_nan() { med } else { v });
        }
        Ok(out)
    }
}

/// Standardisation with the population standard deviation.
#[derive(Clone, Default)]
struct Standardize {
    stats: Option<Vec<(f64, f64)>>,
}

impl Preprocessor<f64> for Standardize {
    fn fit(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
        let n = x.nrows() as f64;
        let stats = x
            .columns()
            .into_iter()
            .map(|c| {
                let mean = c.sum() / n;
                let var = c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            })
            .collect();
        self.stats = Some(stats);
        Ok(())
    }
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let s = self.stats.as_ref().ok_or(Error::NotFitted { op: "Standardize::transform" })?;
        if x.ncols() != s.len() {
            return Err(Error::ShapeMismatch {
                op: "Standardize::transform",
                expected: vec![0, s.len()],
                got: x.shape().to_vec(),
            });
        }
        let mut out = x.to_owned();
        for (mut c, &(m, sd)) in out.columns_mut().into_iter().zip(s) {
            c.mapv_inplace(|v| (v - m) / sd);
        }
        Ok(out)
    }
}

impl InverseTransform<f64> for Standardize {
    fn inverse_transform(&self, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let s = self.stats.as_ref().ok_or(Error::NotFitted { op: "Standardize::inverse_transform" })?;
        let mut out = y.to_owned();
        for (mut c, &(m, sd)) in out.columns_mut().into_iter().zip(s) {
            c.mapv_inplace(|v| v * sd + m);
        }
        Ok(out)
    }
}

/// Most-frequent imputation of text columns (ties: the smallest string, as sklearn).
#[derive(Clone, Default)]
struct MostFrequent {
    modes: Option<Vec<String>>,
}

impl Preprocessor<Option<String>> for MostFrequent {
    fn fit(&mut self, x: ArrayView2<'_, Option<String>>) -> Result<()> {
        let mut modes = Vec::new();
        for c in x.columns() {
            let mut counts = std::collections::BTreeMap::<&str, usize>::new();
            for v in c.iter().flatten() {
                *counts.entry(v.as_str()).or_default() += 1;
            }
            let best =
                counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.to_string());
            modes.push(best.ok_or(Error::EmptyInput { op: "MostFrequent::fit", what: "all missing" })?);
        }
        self.modes = Some(modes);
        Ok(())
    }
    fn transform(&self, x: ArrayView2<'_, Option<String>>) -> Result<Array2<Option<String>>> {
        let m = self.modes.as_ref().ok_or(Error::NotFitted { op: "MostFrequent::transform" })?;
        let mut out = x.to_owned();
        for (mut c, mode) in out.columns_mut().into_iter().zip(m) {
            c.iter_mut().filter(|v| v.is_none()).for_each(|v| *v = Some(mode.clone()));
        }
        Ok(out)
    }
}

fn train_table() -> Table {
    Table::from_columns([
        ("age", Column::from(vec![20.0, f64::NAN, 40.0, 30.0])),
        ("town", Column::from(vec![Some("Cork"), Some("Galway"), None, Some("Cork")])),
        ("fare", Column::from(vec![1.0, 2.0, 3.0, 4.0])),
    ])
    .unwrap()
}

fn test_table() -> Table {
    // Columns in another order than in training, matched by name.
    Table::from_columns([
        ("fare", Column::from(vec![5.0, 6.0])),
        ("town", Column::from(vec![Some("Dublin"), None])),
        ("age", Column::from(vec![f64::NAN, 50.0])),
    ])
    .unwrap()
}

fn column_transformer() -> ColumnTransformer {
    let num = Pipeline::builder()
        .step("impute", MedianImputer::default())
        .invertible_step("scale", Standardize::default())
        .build()
        .unwrap();
    let cat = Pipeline::builder()
        .step("impute", MostFrequent::default())
        .step(
            "onehot",
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap(),
        )
        .build()
        .unwrap();
    ColumnTransformer::builder()
        .numeric("num", ["age"], num)
        .text("cat", Columns::AllText, cat)
        .remainder(Remainder::Passthrough)
        .build()
        .unwrap()
}

// By hand: age median of [20, 40, 30] = 30 -> [20, 30, 40, 30]; mean 30, population sd
// sqrt((100 + 0 + 100 + 0) / 4) = sqrt(50); so z = [-sqrt(2), 0, sqrt(2), 0].
// town: mode Cork -> [Cork, Galway, Cork, Cork] -> one-hot over [Cork, Galway].
// Test: age NaN -> 30 -> 0; 50 -> 20 / sqrt(50) = 2 sqrt(2); Dublin unknown -> [0, 0];
// None -> Cork -> [1, 0]; fare passes through.
#[test]
fn column_transformer_fit_on_train_transform_on_test() {
    let mut ct = column_transformer();
    let x_train = ct.fit_transform(&train_table()).unwrap();
    let r2 = 2f64.sqrt();
    let expected_train =
        array![[-r2, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 2.0], [r2, 1.0, 0.0, 3.0], [0.0, 1.0, 0.0, 4.0]];
    assert_abs_diff_eq!(x_train, expected_train, epsilon = 1e-12);
    assert_eq!(
        ct.feature_names_out().unwrap(),
        ["num__age", "cat__town_Cork", "cat__town_Galway", "remainder__fare"]
    );
    assert_eq!(ct.n_features_out().unwrap(), 4);

    let x_test = ct.transform(&test_table()).unwrap();
    assert_eq!(x_test.shape(), &[2, 4]);
    assert_abs_diff_eq!(x_test, array![[0.0, 0.0, 0.0, 5.0], [2.0 * r2, 1.0, 0.0, 6.0]], epsilon = 1e-12);

    // Fitted steps are reachable by name.
    let num: &Pipeline<f64> = ct.named_transformer("num").unwrap();
    assert_eq!(num.step_names(), ["impute", "scale"]);
    let cat: &Pipeline<Option<String>, f64> = ct.named_transformer("cat").unwrap();
    let oh: &OneHotEncoder<Option<String>> = cat.named_step("onehot").unwrap();
    assert_eq!(oh.categories().unwrap()[0], &[Some("Cork".to_string()), Some("Galway".to_string())]);
    assert_eq!(
        ct.input_columns().unwrap(),
        vec![("num".to_string(), vec!["age".to_string()]), ("cat".to_string(), vec!["town".to_string()])]
    );
}

#[test]
fn column_transformer_errors() {
    let mut ct = column_transformer();
    assert!(matches!(ct.transform(&test_table()), Err(Error::NotFitted { .. })));
    assert!(matches!(ct.feature_names_out(), Err(Error::NotFitted { .. })));
    ct.fit(&train_table()).unwrap();
    let missing = test_table().drop_columns(&["age"]).unwrap();
    let e = ct.transform(&missing).unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { message, .. } if message.contains("\"age\"")), "{e}");
    let retyped = test_table()
        .drop_columns(&["age"])
        .unwrap()
        .with_column("age", vec![Some("old"), Some("young")])
        .unwrap();
    assert!(matches!(ct.transform(&retyped), Err(Error::InvalidInput { .. })));
    assert!(matches!(ct.fit(&train_table().take_rows(&[]).unwrap()), Err(Error::EmptyInput { .. })));
    // A text column named for a numeric transformer.
    let mut bad =
        ColumnTransformer::builder().numeric("n", ["town"], Standardize::default()).build().unwrap();
    assert!(matches!(bad.fit(&train_table()), Err(Error::InvalidInput { .. })));
}

#[test]
fn column_transformer_remainder_drop_and_plain_names() {
    let onehot = OneHotEncoder::<Option<String>>::default();
    let mut ct = ColumnTransformer::builder()
        .text("cat", ["town"], onehot)
        .passthrough("raw", ["fare"])
        .verbose_feature_names_out(false)
        .build()
        .unwrap();
    let x = ct.fit_transform(&train_table()).unwrap();
    // Missing town is its own category (sorted last), age is dropped.
    assert_eq!(ct.feature_names_out().unwrap(), ["town_Cork", "town_Galway", "town_nan", "fare"]);
    assert_eq!(x.row(2).to_vec(), [0.0, 0.0, 1.0, 3.0]);
}

#[test]
fn pipeline_fit_on_train_transform_on_test_and_inverse() {
    let train = train_table().numeric_matrix(&["age", "fare"]).unwrap();
    let test = test_table().numeric_matrix(&["age", "fare"]).unwrap();
    let mut p = Pipeline::builder()
        .step("impute", MedianImputer::default())
        .invertible_step("scale", Standardize::default())
        .build()
        .unwrap();
    assert!(matches!(p.transform(test.view()), Err(Error::NotFitted { .. })));
    p.fit(train.view()).unwrap();
    let z = p.transform(test.view()).unwrap();
    // fare: mean 2.5, population sd sqrt(1.25); 5 -> 2.5 / sqrt(1.25) = sqrt(5).
    assert_abs_diff_eq!(
        z,
        array![[0.0, 5f64.sqrt()], [2.0 * 2f64.sqrt(), 3.5 / 1.25f64.sqrt()]],
        epsilon = 1e-12
    );
    // The imputer has no inverse: the pipeline says which step.
    let e = p.inverse_transform(z.view()).unwrap_err();
    assert!(e.to_string().contains("\"impute\""), "{e}");
    assert!(!p.is_invertible());
    // The scaler alone inverts; the imputed value comes back, not the NaN.
    let scale: &Standardize = p.named_step("scale").unwrap();
    assert_abs_diff_eq!(
        scale.inverse_transform(z.view()).unwrap(),
        array![[30.0, 5.0], [50.0, 6.0]],
        epsilon = 1e-12
    );
    assert_eq!(p.feature_names_out(&["age".into(), "fare".into()]).unwrap(), ["age", "fare"]);
}

#[test]
fn duplicates_and_missing_rows_keep_targets_aligned() {
    let t = Table::from_columns([
        ("x", Column::from(vec![1.0, 2.0, 1.0, f64::NAN, 2.0])),
        ("s", Column::from(vec![Some("a"), Some("b"), Some("a"), Some("c"), Some("b")])),
    ])
    .unwrap();
    let y = array![10, 20, 10, 30, 21];
    let (u, kept) = t.drop_duplicate_rows();
    let y_u = y.select(Axis(0), &kept);
    assert_eq!(kept, vec![0, 1, 3]);
    assert_eq!(y_u, array![10, 20, 30]);
    let (c, kept2) = u.drop_missing_rows();
    assert_eq!(c.n_rows(), 2);
    assert_eq!(y_u.select(Axis(0), &kept2), array![10, 20]);
    let (c2, kept3) = t.drop_missing_rows_in(&["s"]).unwrap();
    assert_eq!((c2.n_rows(), kept3.len()), (5, 5));
    assert!(t.drop_missing_rows_in(&["nope"]).is_err());
    let rows = t.take_rows(&[4, 4, 0]).unwrap();
    assert_eq!(rows.numeric_column("x").unwrap().to_vec(), vec![2.0, 2.0, 1.0]);
}

#[test]
fn public_types_are_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Table>();
    check::<Column>();
    check::<ColumnTransformer>();
    check::<Pipeline<Option<String>, f64>>();
}

#[test]
fn table_accessors() {
    let t = train_table();
    assert_eq!(t.n_rows(), 4);
    assert_eq!(t.column_names(), ["age", "town", "fare"]);
    assert_eq!(t.numeric_column_names(), ["age", "fare"]);
    assert_eq!(t.text_column_names(), ["town"]);
    assert_eq!(t.column("town").unwrap().n_missing(), 1);
    let m = t.numeric_matrix(&["fare", "age"]).unwrap();
    assert_eq!(m.shape(), &[4, 2]);
    assert_eq!(m[[2, 1]], 40.0);
    let s = t.text_matrix(&["town"]).unwrap();
    assert_eq!(s[[3, 0]].as_deref(), Some("Cork"));
    let e = t.text_matrix(&["age"]).unwrap_err();
    assert_eq!(e.to_string(), "Table::text_matrix: column \"age\" is numeric, expected text");
    assert!(t.to_string().starts_with("age    town  fare\n 20    Cork     1\nNaN  Galway     2\n"), "{t}");
}

#[cfg(feature = "csv")]
mod csv {
    use super::*;
    use ndtrain::preprocessing::{ColumnKind, CsvOptions};

    const MESSY: &str = "id,age,town,score,flag,empty\n\
                         1,22,Cork,1.5,yes,\n\
                         2,NA,Galway,,no,\n\
                         3,35,,2,yes,NA\n\
                         4, 41 ,\"Dublin, city\",NaN,no,\n";

    #[test]
    fn types_inferred_and_missing_cells() {
        let t = Table::from_csv_str(MESSY).unwrap();
        assert_eq!(t.n_rows(), 4);
        let kinds: Vec<ColumnKind> = t.iter().map(|(_, c)| c.kind()).collect();
        use ColumnKind::{Numeric as N, Text as T};
        assert_eq!(kinds, [N, N, T, N, T, N], "an all-missing column is numeric (all NaN)");
        let age = t.numeric_column("age").unwrap();
        assert_eq!((age[0], age[3]), (22.0, 41.0));
        assert!(age[1].is_nan());
        assert_eq!(t.text_column("town").unwrap()[3].as_deref(), Some("Dublin, city"));
        assert_eq!(t.text_column("town").unwrap()[2], None);
        assert_eq!(t.column("score").unwrap().n_missing(), 2);
        assert_eq!(t.column("empty").unwrap().n_missing(), 4);
        // Same result from a reader.
        assert_eq!(Table::from_csv_reader(MESSY.as_bytes()).unwrap(), t);
    }

    #[test]
    fn options_force_types_and_change_syntax() {
        let text = "# a comment\nzip;n\n02134;1\n10001;x\n";
        let opts = CsvOptions::default().delimiter(b';').comment(Some(b'#')).text_columns(["zip"]);
        let t = Table::from_csv_reader_with(text.as_bytes(), &opts).unwrap();
        assert_eq!(t.text_column("zip").unwrap()[0].as_deref(), Some("02134"));
        assert_eq!(t.column("n").unwrap().kind(), ColumnKind::Text, "x is not a number");
        // Forcing n to be numeric makes "x" a parse error on its line (line 4).
        let opts = opts.numeric_columns(["n"]);
        let e = Table::from_csv_reader_with(text.as_bytes(), &opts).unwrap_err();
        assert!(matches!(&e, Error::Parse { line: 4, message, .. } if message.contains("\"x\"")), "{e}");
        let headerless = CsvOptions::default().has_header(false);
        let t = Table::from_csv_reader_with("1,a\n2,b\n".as_bytes(), &headerless).unwrap();
        assert_eq!(t.column_names(), ["column_0", "column_1"]);
        let custom_na = CsvOptions::default().na_values(["?"]);
        let t = Table::from_csv_reader_with("a\n?\nNA\n".as_bytes(), &custom_na).unwrap();
        assert_eq!(t.text_column("a").unwrap(), &[None, Some("NA".to_string())]);
    }

    #[test]
    fn parse_errors_carry_line_numbers() {
        let e = Table::from_csv_str("a,b\n1,2\n3,4,5\n").unwrap_err();
        assert!(matches!(e, Error::Parse { line: 3, .. }), "{e}");
        // A quoted field spanning two lines: the bad record starts on line 4.
        let e = Table::from_csv_str("a,b\n\"x\ny\",2\n1\n").unwrap_err();
        assert!(matches!(e, Error::Parse { line: 4, .. }), "{e}");
        let e = Table::from_csv_str("a,a\n1,2\n").unwrap_err();
        assert!(matches!(e, Error::Parse { line: 1, .. }), "{e}");
        let e = Table::from_csv_reader(&b"a,b\n1,\xff\n"[..]).unwrap_err();
        assert!(matches!(e, Error::Parse { line: 2, .. }), "{e}");
        assert!(matches!(Table::from_csv_str(""), Err(Error::EmptyInput { .. })));
        let e =
            Table::from_csv_reader_with("a\n1\n".as_bytes(), &CsvOptions::default().numeric_columns(["b"]));
        assert!(matches!(e, Err(Error::Parse { line: 1, .. })));
    }

    #[test]
    fn io_errors_name_the_path() {
        let e = Table::from_csv_path("/nonexistent/dir/data.csv").unwrap_err();
        assert!(
            matches!(&e, Error::Io { message, .. } if message.contains("/nonexistent/dir/data.csv")),
            "{e}"
        );
    }

    #[test]
    fn byte_order_mark_is_not_part_of_the_first_name() {
        let t = Table::from_csv_str("\u{feff}a,b\n1,x\n").unwrap();
        assert_eq!(t.column_names(), ["a", "b"]);
    }

    #[test]
    fn header_only_gives_empty_columns() {
        let t = Table::from_csv_str("a,b\n").unwrap();
        assert_eq!((t.n_rows(), t.n_columns()), (0, 2));
    }
}
