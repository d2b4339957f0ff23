//! Binary logistic regression on the breast cancer dataset (569 samples, 30 features,
//! malignant = 0 / benign = 1).
//!
//! `Linear(30 → 1)` outputs one logit per sample; `BceWithLogitsLoss` takes the 0/1
//! class labels directly and fuses the sigmoid into the loss (stable for any logit).
//! A decision threshold of 0 on the logit is a probability threshold of 0.5.
//!
//! Run: `cargo run --release --example logistic_regression`

use ndtrain::data::train_test_split;
use ndtrain::datasets;
use ndtrain::metrics::RocAuc;
use ndtrain::optim::Adam;
use ndtrain::prelude::*;
use ndtrain::preprocessing::StandardScaler;
use ndtrain::train::Trainer;

/// Test-split scores: (accuracy, precision, recall, F1, ROC AUC).
fn run(verbose: bool) -> Result<[f64; 5], Box<dyn std::error::Error>> {
    let data = datasets::breast_cancer();
    let (train, test) = train_test_split(&data, 0.25, 7, true)?;
    let mut scaler = StandardScaler::default();
    let x_train = scaler.fit_transform(train.x_2d()?)?;
    let x_test = scaler.transform(test.x_2d()?)?;

    let mut model = Linear::<f64>::new(30, 1, &mut ndtrain::seeded_rng(7))?;
    let mut trainer = Trainer::builder(Adam::builder().lr(0.01).build()?, BceWithLogitsLoss::default())
        .epochs(50)
        .batch_size(32)
        .seed(7)
        .metric(Accuracy::new())
        .metric(Precision::binary())
        .metric(Recall::binary())
        .metric(F1Score::binary())
        .metric(RocAuc::new())
        .verbose(verbose)
        .build()?;
    trainer.fit(&mut model, x_train.view(), train.y().view())?;
    let eval = trainer.evaluate(&mut model, x_test.view(), test.y().view())?;
    let get = |k: &str| eval.get(k).unwrap_or(f64::NAN);
    Ok([get("accuracy"), get("precision"), get("recall"), get("f1"), get("roc_auc")])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let [accuracy, precision, recall, f1, auc] = run(false)?;
    println!("breast_cancer, logistic regression, 25% held out:");
    println!(
        "  accuracy {accuracy:.4}  precision {precision:.4}  recall {recall:.4}  F1 {f1:.4}  ROC AUC {auc:.4}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reaches_95_percent_test_accuracy() {
        let [accuracy, .., auc] = super::run(false).unwrap();
        assert!(accuracy >= 0.95, "test accuracy {accuracy}");
        assert!(auc >= 0.98, "ROC AUC {auc}");
    }
}
