//! From a messy CSV file to model-ready matrices.
//!
//! Loads `examples/data/messy.csv` (iris measurements plus two text columns, with
//! missing cells, duplicate rows and an outlier; see `examples/data/README.md`), removes
//! duplicate rows keeping the target aligned, splits train/test with a seed, fits a
//! `ColumnTransformer` on the training rows only (numbers: impute the median, then
//! standardise; text: impute the most frequent value, then one-hot encode, ignoring
//! categories unseen in training) and transforms the test rows.
//!
//! Run: `cargo run --example messy_csv --features csv`

use std::collections::BTreeMap;

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use ndtrain::preprocessing::{
    Column, ColumnTransformer, Columns, HandleUnknown, LabelEncoder, OneHotEncoder, Pipeline, Preprocessor,
    Remainder, Table,
};
use ndtrain::{Error, Result};
use rand::seq::SliceRandom;

// ---------------------------------------------------------------------------------
// Stand-ins for `SimpleImputer` (strategies "median" and "most_frequent") and
// `StandardScaler`, which live in `ndtrain::preprocessing` once merged: replace
// `MedianImputer` by `SimpleImputer` with the median strategy, `Standardize` by
// `StandardScaler::default()` and `MostFrequent` by `SimpleImputer` with the
// most-frequent strategy on `Option<String>` columns. (An `IqrClipper` step before the
// scaler would also tame the sepal-length outlier.)
// ---------------------------------------------------------------------------------

/// Median of the non-missing values of each column replaces NaN.
#[derive(Clone, Default)]
struct MedianImputer {
    medians: Option<Vec<f64>>,
}

impl Preprocessor<f64> for MedianImputer {
    fn fit(&mut self, x: ArrayView2<'_, f64>) -> Result<()> {
        let mut medians = Vec::with_capacity(x.ncols());
        for c in x.columns() {
            let mut v: Vec<f64> = c.iter().copied().filter(|v| !v.is_nan()).collect();
            if v.is_empty() {
                return Err(Error::EmptyInput { op: "MedianImputer::fit", what: "a column with no values" });
            }
            v.sort_by(f64::total_cmp);
            let n = v.len();
            medians.push(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 });
        }
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

/// `(x - mean) / std` per column (population std, as `StandardScaler`).
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
                let sd = (c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                (mean, if sd > 0.0 { sd } else { 1.0 })
            })
            .collect();
        self.stats = Some(stats);
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let s = self.stats.as_ref().ok_or(Error::NotFitted { op: "Standardize::transform" })?;
        let mut out = x.to_owned();
        for (mut c, &(mean, sd)) in out.columns_mut().into_iter().zip(s) {
            c.mapv_inplace(|v| (v - mean) / sd);
        }
        Ok(out)
    }
}

/// The most frequent value of each text column replaces `None` (ties: smallest).
#[derive(Clone, Default)]
struct MostFrequent {
    modes: Option<Vec<String>>,
}

impl Preprocessor<Option<String>> for MostFrequent {
    fn fit(&mut self, x: ArrayView2<'_, Option<String>>) -> Result<()> {
        let mut modes = Vec::with_capacity(x.ncols());
        for c in x.columns() {
            let mut counts = BTreeMap::<&str, usize>::new();
            for v in c.iter().flatten() {
                *counts.entry(v).or_default() += 1;
            }
            let mode =
                counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.to_string());
            modes.push(
                mode.ok_or(Error::EmptyInput { op: "MostFrequent::fit", what: "a column with no values" })?,
            );
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

fn class_counts(y: &Array1<usize>, classes: &[String]) -> String {
    classes
        .iter()
        .enumerate()
        .map(|(k, c)| format!("{c}: {}", y.iter().filter(|&&v| v == k).count()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> Result<()> {
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
        .step("impute", MedianImputer::default())
        .step("scale", Standardize::default())
        .build()?;
    let text = Pipeline::builder()
        .step("impute", MostFrequent::default())
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

    // 6. Train and evaluate a classifier on (x_train, y_train), report on (x_test, y_test).
    //    The model, loss, optimizer, Trainer and metrics are wired in here once merged.
    Ok(())
}
