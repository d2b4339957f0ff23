//! Quickstart: classify handwritten digits with a small MLP.
//!
//! The whole supervised loop on the embedded `digits` dataset (1797 8x8 images, 10
//! classes): a stratified split (20% held out for the test, 10% for validation), feature
//! standardisation fitted on the training rows only, a 64-128-10 ReLU network trained with
//! Adam on cross-entropy, one line printed per epoch, and the final test accuracy with
//! macro-averaged precision, recall and F1.
//!
//! Run: `cargo run --release --example quickstart`

use std::time::Instant;

use ndtrain::data::train_val_test_split;
use ndtrain::datasets;
use ndtrain::metrics::{ClassificationReport, ReportOptions, classification_report};
use ndtrain::optim::Adam;
use ndtrain::prelude::*;
use ndtrain::preprocessing::StandardScaler;
use ndtrain::train::{Trainer, predicted_classes};

/// What the quickstart measured on the held-out test split.
struct Outcome {
    accuracy: f64,
    precision_macro: f64,
    recall_macro: f64,
    f1_macro: f64,
    report: ClassificationReport,
}

fn run(verbose: bool) -> Result<Outcome, Box<dyn std::error::Error>> {
    // 1. Data: 70% train, 10% validation, 20% test, stratified by class, seeded.
    let digits = datasets::digits().cast::<f32>();
    let (train, val, test) = train_val_test_split(&digits, 0.1, 0.2, 42, true)?;

    // 2. Standardise with statistics of the training rows only.
    let mut scaler = StandardScaler::default();
    let x_train = scaler.fit_transform(train.x_2d()?)?;
    let x_val = scaler.transform(val.x_2d()?)?;
    let x_test = scaler.transform(test.x_2d()?)?;

    // 3. Model, optimizer, loss, metrics.
    let mut model = Sequential::mlp(&[64, 128, 10], Activation::Relu, &mut ndtrain::seeded_rng(42))?;
    let mut trainer = Trainer::builder(Adam::builder().lr(1e-3).build()?, CrossEntropyLoss::default())
        .epochs(30)
        .batch_size(32)
        .seed(42)
        .metric(Accuracy::new())
        .metric(F1Score::macro_average())
        .validation_data(x_val.view(), val.y().view())
        .verbose(verbose)
        .build()?;

    // 4. Train, then measure on the untouched test split.
    trainer.fit(&mut model, x_train.view(), train.y().view())?;
    let eval = trainer.evaluate(&mut model, x_test.view(), test.y().view())?;
    let out = trainer.predict(&mut model, x_test.view())?;
    let predicted = predicted_classes(out.view(), 0.0)?;
    let report = classification_report(test.y_1d()?, &predicted, ReportOptions::new())?;
    Ok(Outcome {
        accuracy: eval.get("accuracy").unwrap_or(f64::NAN),
        precision_macro: report.macro_avg.precision,
        recall_macro: report.macro_avg.recall,
        f1_macro: report.macro_avg.f1_score,
        report,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let outcome = run(true)?;
    println!("\n{:.4}", outcome.report);
    println!(
        "test accuracy {:.4}  macro precision {:.4}  macro recall {:.4}  macro F1 {:.4}  ({:.1} s)",
        outcome.accuracy,
        outcome.precision_macro,
        outcome.recall_macro,
        outcome.f1_macro,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn quickstart_reaches_95_percent_on_held_out_digits() {
        let outcome = super::run(false).unwrap();
        assert!(outcome.accuracy >= 0.95, "test accuracy {}", outcome.accuracy);
        assert!(outcome.f1_macro >= 0.95, "macro F1 {}", outcome.f1_macro);
    }
}
