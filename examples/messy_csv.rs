//! From a messy CSV file to a trained classifier.
//!
//! Loads `examples/data/messy.csv` (iris measurements plus two text columns, with
//! missing cells, duplicate rows and an outlier; see `examples/data/README.md`), removes
//! duplicate rows keeping the target aligned, splits train/test with a seed, fits a
//! `ColumnTransformer` on the training rows only (numbers: impute the median, clip
//! outliers at the IQR fences, standardise; text: impute the most frequent value, then
//! one-hot encode, ignoring categories unseen in training), transforms the test rows,
//! trains a softmax-regression classifier and prints its test metrics. With the `serde`
//! feature it also saves the fitted `ColumnTransformer` to JSON, loads it back and
//! checks that the reloaded one transforms the test rows identically.
//!
//! Run: `cargo run --example messy_csv --features csv` (or `--features csv,serde`)

use ndarray::{Array1, Axis, s};
use ndtrain::metrics::{ReportOptions, classification_report};
use ndtrain::optim::Adam;
use ndtrain::prelude::*;
use ndtrain::preprocessing::{
    Column, ColumnTransformer, Columns, HandleUnknown, ImputeStrategy, IqrClipper, LabelEncoder,
    OneHotEncoder, Pipeline, Remainder, SimpleImputer, Table,
};
use ndtrain::train::predicted_classes;
use rand::seq::SliceRandom;

fn class_counts(y: &Array1<usize>, classes: &[String]) -> String {
    classes
        .iter()
        .enumerate()
        .map(|(k, c)| format!("{c}: {}", y.iter().filter(|&&v| v == k).count()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> ndtrain::Result<()> {
    // 1. Load: types are inferred per column; "", "NA", "NaN" are missing.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/messy.csv");
    let raw = Table::from_csv_path(path)?;
    println!("loaded {} rows x {} columns from {path}", raw.n_rows(), raw.n_columns());
    for (name, col) in raw.iter() {
        println!("  {name:<13} {:<8} missing: {}", col.kind().to_string(), col.n_missing());
    }
    let sepal = raw.numeric_column("sepal_length")?;
    let max = sepal.iter().copied().filter(|v| !v.is_nan()).fold(f64::MIN, f64::max);
    println!("largest sepal_length: {max} cm (an outlier: a lost decimal point)");
    println!("\n{raw}");

    // 2. Remove duplicate rows (the target is a column, so it stays aligned), then rows
    //    without a target.
    let (dedup, kept) = raw.drop_duplicate_rows();
    println!("removed {} duplicate rows", raw.n_rows() - kept.len());
    let (mut table, _) = dedup.drop_missing_rows_in(&["species"])?;

    // 3. Split off the target and encode it as class indices.
    let target = table.remove_column("species")?;
    let labels: Vec<String> = match target {
        Column::Text(v) => v.into_iter().flatten().collect(),
        Column::Numeric(_) => return Err(Error::invalid_input("messy_csv", "species should be text")),
    };
    let mut label_encoder = LabelEncoder::new();
    let y = label_encoder.fit_transform(Array1::from(labels).view())?;
    let classes = label_encoder.classes()?.to_vec();

    // 4. Seeded 75/25 train/test split.
    let mut order: Vec<usize> = (0..table.n_rows()).collect();
    order.shuffle(&mut ndtrain::seeded_rng(7));
    let n_train = table.n_rows() * 3 / 4;
    let (train_idx, test_idx) = order.split_at(n_train);
    let (train, test) = (table.take_rows(train_idx)?, table.take_rows(test_idx)?);
    let (y_train, y_test) = (y.select(Axis(0), train_idx), y.select(Axis(0), test_idx));
    println!("train: {} rows ({})", train.n_rows(), class_counts(&y_train, &classes));
    println!("test:  {} rows ({})", test.n_rows(), class_counts(&y_test, &classes));

    // 5. Column transformer, fitted on the training rows only.
    let numeric = Pipeline::builder()
        .step("impute", SimpleImputer::<f64>::builder().strategy(ImputeStrategy::Median).build()?)
        .step("clip", IqrClipper::<f64>::builder().k(3.0).build()?)
        .step("scale", StandardScaler::<f64>::default())
        .build()?;
    let text = Pipeline::builder()
        .step(
            "impute",
            SimpleImputer::<Option<String>>::builder().strategy(ImputeStrategy::MostFrequent).build()?,
        )
        .step(
            "onehot",
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build()?,
        )
        .build()?;
    let mut columns = ColumnTransformer::builder()
        .numeric("num", Columns::AllNumeric, numeric)
        .text("cat", Columns::AllText, text)
        .remainder(Remainder::Drop)
        .build()?;
    let x_train = columns.fit_transform(&train)?;
    let x_test = columns.transform(&test)?;

    println!("\nmodel-ready matrices: x_train {:?}, x_test {:?}", x_train.shape(), x_test.shape());
    println!("features: {:?}", columns.feature_names_out()?);
    println!("first test rows:\n{:.3}", x_test.slice(s![..3, ..]));
    let missing_left = x_train.iter().chain(x_test.iter()).filter(|v| v.is_nan()).count();
    println!("missing values left: {missing_left}");

    // 5b. Save the fitted column transformer and load it back (feature `serde`): no
    //     refitting, and the reloaded one transforms the test rows bit for bit the same.
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&columns).map_err(|e| Error::invalid_input("messy_csv", e))?;
        let reloaded: ColumnTransformer =
            serde_json::from_str(&json).map_err(|e| Error::invalid_input("messy_csv", e))?;
        let again = reloaded.transform(&test)?;
        let same = again.shape() == x_test.shape()
            && again.iter().zip(&x_test).all(|(a, b)| a.to_bits() == b.to_bits());
        println!(
            "saved the fitted column transformer as {} bytes of JSON and reloaded it: test rows \
             transformed identically: {same}",
            json.len()
        );
    }

    // 6. Train a softmax-regression classifier and report on the test rows.
    let mut model = Linear::<f64>::new(x_train.ncols(), classes.len(), &mut ndtrain::seeded_rng(7))?;
    let mut trainer = Trainer::builder(Adam::builder().lr(0.05).build()?, CrossEntropyLoss::default())
        .epochs(100)
        .batch_size(16)
        .seed(7)
        .metric(Accuracy::new())
        .build()?;
    trainer.fit(&mut model, x_train.view(), y_train.view())?;
    let eval = trainer.evaluate(&mut model, x_test.view(), y_test.view())?;
    let predicted: Vec<String> = predicted_classes(trainer.predict(&mut model, x_test.view())?.view(), 0.0)?
        .into_iter()
        .map(|k| classes[k].clone())
        .collect();
    let truth: Vec<String> = y_test.iter().map(|&k| classes[k].clone()).collect();
    println!("\ntest accuracy {:.4}\n", eval.get("accuracy").unwrap_or(f64::NAN));
    println!("{}", classification_report(&truth, &predicted, ReportOptions::new())?);
    Ok(())
}
