//! An optimizer written outside the crate: signSGD with momentum ("Signum", Bernstein
//! et al. 2018), plugged into the Trainer. Only its per-tensor update rule and the
//! learning-rate accessors are written here; `Optimizer::step` walks the model.
//!
//! Update per element, with momentum buffer `m` (starting at 0):
//!
//! ```text
//! m ← β m + (1 - β) g
//! p ← p - lr · sign(m)        (sign(0) = 0)
//! ```
//!
//! Run: `cargo run --release --example custom_optimizer`

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};
use ndtrain::data::train_test_split;
use ndtrain::datasets;
use ndtrain::loss::CrossEntropyLoss;
use ndtrain::metrics::Accuracy;
use ndtrain::model::{Activation, Sequential};
use ndtrain::optim::StateMap;
use ndtrain::prelude::*;
use ndtrain::preprocessing::StandardScaler;

/// signSGD with momentum.
struct Signum<F> {
    lr: F,
    beta: F,
    /// One momentum buffer per parameter tensor, keyed by `Param::id`.
    momentum: StateMap<ArrayD<F>>,
}

impl<F: Float> Signum<F> {
    fn new(lr: f64, beta: f64) -> ndtrain::Result<Self> {
        if lr.is_nan() || lr < 0.0 {
            return Err(Error::InvalidParameter { name: "lr", value: lr, expected: ">= 0" });
        }
        if !(0.0..1.0).contains(&beta) {
            return Err(Error::InvalidParameter { name: "beta", value: beta, expected: "[0, 1)" });
        }
        Ok(Signum { lr: F::lit(lr), beta: F::lit(beta), momentum: StateMap::default() })
    }
}

impl<F: Float> Optimizer<F> for Signum<F> {
    fn update(
        &mut self,
        p: Param<'_>,
        mut value: ArrayViewMutD<'_, F>,
        grad: ArrayViewD<'_, F>,
    ) -> ndtrain::Result<()> {
        // `step` has already checked that grad has the parameter's shape.
        let m = self.momentum.get_or_insert_with(p.id, || ArrayD::zeros(value.raw_dim()));
        let (lr, beta) = (self.lr, self.beta);
        Zip::from(&mut value).and(m).and(&grad).for_each(|w, m, &g| {
            *m = beta * *m + (F::one() - beta) * g;
            let sign = if *m > F::zero() {
                F::one()
            } else if *m < F::zero() {
                -F::one()
            } else {
                F::zero()
            };
            *w -= lr * sign;
        });
        Ok(())
    }

    fn lr(&self) -> F {
        self.lr
    }

    fn set_lr(&mut self, lr: F) {
        self.lr = lr;
    }
}

/// Trains a 64-64-10 MLP on digits with Signum; returns the test accuracy.
fn train(verbose: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let digits = datasets::digits().cast::<f32>();
    let (train, test) = train_test_split(&digits, 0.2, 0, true)?;
    let mut scaler = StandardScaler::default();
    let x_train = scaler.fit_transform(train.x_2d()?)?;
    let x_test = scaler.transform(test.x_2d()?)?;

    let mut model = Sequential::mlp(&[64, 64, 10], Activation::Relu, &mut ndtrain::seeded_rng(0))?;
    let mut trainer = Trainer::builder(Signum::new(1e-3, 0.9)?, CrossEntropyLoss::default())
        .epochs(15)
        .batch_size(32)
        .seed(0)
        .metric(Accuracy::new())
        .verbose(verbose)
        .build()?;
    trainer.fit(&mut model, x_train.view(), train.y().view())?;
    let eval = trainer.evaluate(&mut model, x_test.view(), test.y().view())?;
    Ok(eval.get("accuracy").unwrap_or(f64::NAN))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accuracy = train(true)?;
    println!("Signum on digits: test accuracy {accuracy:.4}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signum_trains_digits() {
        let accuracy = train(false).unwrap();
        assert!(accuracy > 0.9, "test accuracy {accuracy}");
    }

    #[test]
    fn signum_rejects_bad_hyperparameters() {
        assert!(matches!(Signum::<f32>::new(-1.0, 0.9), Err(Error::InvalidParameter { name: "lr", .. })));
        assert!(matches!(Signum::<f32>::new(0.1, 1.0), Err(Error::InvalidParameter { name: "beta", .. })));
    }

    #[test]
    fn signum_update_rule() {
        // m = 0.5*0 + 0.5*g = [1, -0.5, 0]; p -= 0.1*sign(m) -> [0.9, 1.1, 1.0]
        let mut opt = Signum::<f64>::new(0.1, 0.5).unwrap();
        let mut w = ndarray::array![1.0, 1.0, 1.0].into_dyn();
        let g = ndarray::array![2.0, -1.0, 0.0].into_dyn();
        opt.update(Param::new(0, "w"), w.view_mut(), g.view()).unwrap();
        assert_eq!(w, ndarray::array![0.9, 1.1, 1.0].into_dyn());
    }
}
