//! A recurrent network on a sequence task: each 8×8 digit image read as a sequence of 8
//! rows of 8 pixels by an LSTM, classified from its last hidden state.
//!
//! LSTM(8 → 64, batch_first) → LastStep → Linear(64, 10), trained with Adam on 75% of
//! the embedded digits (pixels scaled to [0, 1]) and scored on the other 25%. Prints every
//! epoch and the test accuracy (about 0.97).
//!
//! Run: `cargo run --release --example sequence_lstm`.

use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use ndtrain::data::train_test_split;
use ndtrain::model::{LastStep, Lstm};
use ndtrain::prelude::*;

/// `[N, 64]` pixel rows as `[N, 8 steps, 8 features]` in [0, 1].
fn sequences(d: &Dataset<f32, usize>) -> ndtrain::Result<ArrayD<f32>> {
    let n = d.len();
    d.x()
        .mapv(|v| v / 16.0)
        .into_shape_with_order(IxDyn(&[n, 8, 8]))
        .map_err(|e| Error::invalid_input("sequences", e.to_string()))
}

fn run(epochs: usize, verbose: bool) -> ndtrain::Result<(f64, f64)> {
    let digits = ndtrain::datasets::digits().cast::<f32>();
    let (train, test) = train_test_split(&digits, 0.25, 0, true)?;
    let (x_train, x_test) = (sequences(&train)?, sequences(&test)?);
    let mut rng = ndtrain::seeded_rng(0);
    let mut model = Sequential::new()
        .layer(Lstm::builder(8, 64).batch_first(true).build(&mut rng)?)
        .layer(LastStep::new(true))
        .layer(Linear::new(64, 10, &mut rng)?);
    let mut trainer = Trainer::builder(Adam::builder().lr(5e-3).build()?, CrossEntropyLoss::default())
        .epochs(epochs)
        .batch_size(32)
        .seed(0)
        .metric(Accuracy::new())
        .validation_data(&x_test, test.y().view())
        .verbose(verbose)
        .build()?;
    let start = Instant::now();
    trainer.fit(&mut model, &x_train, train.y().view())?;
    let secs = start.elapsed().as_secs_f64();
    let accuracy =
        trainer.evaluate(&mut model, &x_test, test.y().view())?.get("accuracy").unwrap_or(f64::NAN);
    Ok((accuracy, secs))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("LSTM over the 8 rows of each digit image (1347 training / 450 test sequences)");
    let (accuracy, secs) = run(30, true)?;
    println!("test accuracy {accuracy:.4} after 30 epochs ({secs:.1} s)");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn learns_the_sequences() {
        let (accuracy, _) = super::run(10, false).unwrap();
        assert!(accuracy > 0.9, "test accuracy {accuracy}");
    }
}
