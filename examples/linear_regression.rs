//! Linear regression on the diabetes dataset (442 patients, 10 baseline variables,
//! target: disease progression after one year).
//!
//! `Linear(10 → 1)` trained with mean squared error; the model outputs `[N, 1]` and the
//! targets are `[N]`, which `MseLoss` and the regression metrics accept as the same
//! shape. The target is standardised for training (its scale, ~77, would otherwise need
//! a tiny learning rate) and predictions are mapped back with `inverse_transform`.
//!
//! Run: `cargo run --release --example linear_regression`

use ndarray::{Array2, Axis};
use ndtrain::data::train_test_split;
use ndtrain::datasets;
use ndtrain::metrics::{RegressionOptions, mean_absolute_error, r2_score};
use ndtrain::optim::Adam;
use ndtrain::prelude::*;
use ndtrain::preprocessing::StandardScaler;
use ndtrain::train::Trainer;

/// Test-split (R², MAE) in the target's original units.
fn run(verbose: bool) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let data = datasets::diabetes();
    let (train, test) = train_test_split(&data, 0.2, 11, false)?;
    let mut x_scaler = StandardScaler::default();
    let x_train = x_scaler.fit_transform(train.x_2d()?)?;
    let x_test = x_scaler.transform(test.x_2d()?)?;
    // Standardise the target too (a one-column StandardScaler).
    let mut y_scaler = StandardScaler::default();
    let y_train = y_scaler.fit_transform(train.y_1d()?.insert_axis(Axis(1)))?;

    let mut model = Linear::<f64>::new(10, 1, &mut ndtrain::seeded_rng(11))?;
    let mut trainer = Trainer::builder(Adam::builder().lr(0.01).build()?, MseLoss::default())
        .epochs(200)
        .batch_size(32)
        .seed(11)
        .metric(R2::new())
        .verbose(verbose)
        .build()?;
    trainer.fit(&mut model, x_train.view(), y_train.column(0))?;

    let pred_scaled: Array2<f64> = trainer.predict(&mut model, x_test.view())?.into_dimensionality()?;
    let pred = y_scaler.inverse_transform(pred_scaled.view())?;
    let (y_true, y_pred) = (test.y_1d()?, pred.column(0));
    Ok((
        r2_score(y_true, y_pred, RegressionOptions::new())?,
        mean_absolute_error(y_true, y_pred, RegressionOptions::new())?,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (r2, mae) = run(false)?;
    println!("diabetes, linear regression, 20% held out: R² {r2:.4}, MAE {mae:.2}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reaches_r2_of_at_least_0_40() {
        let (r2, mae) = super::run(false).unwrap();
        assert!(r2 >= 0.40, "test R² {r2}");
        assert!(mae < 50.0, "test MAE {mae}");
    }
}
