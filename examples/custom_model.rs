//! A model written outside the crate: a low-rank linear classifier `y = x U Vᵀ + b`
//! with a hand-written backward pass, checked with `gradcheck` and trained on the wine
//! dataset with the built-in Trainer, Adam and cross-entropy.
//!
//! Run: `cargo run --release --example custom_model`

use ndarray::{Array2, ArrayD, ArrayViewD, Axis, Ix2};
use ndtrain::data::train_test_split;
use ndtrain::datasets;
use ndtrain::loss::CrossEntropyLoss;
use ndtrain::metrics::Accuracy;
use ndtrain::model::ParamVisitor;
use ndtrain::optim::Adam;
use ndtrain::prelude::*;
use ndtrain::preprocessing::StandardScaler;
use rand::RngExt;

/// `y = x U Vᵀ + b` with `U: [in, rank]`, `V: [out, rank]`: a linear map of rank at
/// most `rank`, with `rank * (in + out) + out` parameters instead of `in * out + out`.
///
/// Backward, with `G = dL/dy` and `H = x U` (kept from the forward pass):
/// `dL/dV = Gᵀ H`, `dL/dU = xᵀ (G V)`, `dL/db = Σ_rows G`.
#[derive(Clone)]
struct LowRankLinear<F: Float> {
    u: ArrayD<F>,
    v: ArrayD<F>,
    b: ArrayD<F>,
    du: ArrayD<F>,
    dv: ArrayD<F>,
    db: ArrayD<F>,
    x: Array2<F>,
    h: Array2<F>,
    out: ArrayD<F>,
}

impl<F: Float> LowRankLinear<F> {
    fn new(inputs: usize, outputs: usize, rank: usize, rng: &mut ndtrain::SeededRng) -> Self {
        let mut init = |rows: usize, cols: usize, fan_in: usize| {
            let bound = 1.0 / (fan_in as f64).sqrt();
            Array2::from_shape_fn((rows, cols), |_| F::lit(rng.random_range(-bound..bound))).into_dyn()
        };
        let u = init(inputs, rank, inputs);
        let v = init(outputs, rank, rank);
        LowRankLinear {
            du: ArrayD::zeros(u.raw_dim()),
            dv: ArrayD::zeros(v.raw_dim()),
            b: ArrayD::zeros(ndarray::IxDyn(&[outputs])),
            db: ArrayD::zeros(ndarray::IxDyn(&[outputs])),
            u,
            v,
            x: Array2::zeros((0, inputs)),
            h: Array2::zeros((0, rank)),
            out: ArrayD::zeros(ndarray::IxDyn(&[0, outputs])),
        }
    }

    fn as2(a: &ArrayD<F>) -> ndarray::ArrayView2<'_, F> {
        a.view().into_dimensionality::<Ix2>().expect("U and V are 2-D by construction")
    }
}

impl<F: Float> Module<F> for LowRankLinear<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> ndtrain::Result<()> {
        f(Param::new(0, "u"), self.u.view_mut(), self.du.view_mut())?;
        f(Param::new(1, "v"), self.v.view_mut(), self.dv.view_mut())?;
        f(Param::new(2, "bias"), self.b.view_mut(), self.db.view_mut())
    }
}

impl<F: Float> Model<F> for LowRankLinear<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, _mode: Mode) -> ndtrain::Result<ArrayViewD<'_, F>> {
        let inputs = self.u.shape()[0];
        let got = x.shape().to_vec();
        let x =
            x.into_dimensionality::<Ix2>().ok().filter(|x| x.ncols() == inputs).ok_or(
                Error::ShapeMismatch { op: "LowRankLinear::forward", expected: vec![0, inputs], got },
            )?;
        // This example favours clarity over speed: it allocates per batch.
        self.x = x.to_owned();
        self.h = x.dot(&Self::as2(&self.u));
        self.out = (self.h.dot(&Self::as2(&self.v).t()) + &self.b).into_dyn();
        Ok(self.out.view())
    }

    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> ndtrain::Result<()> {
        if grad_out.shape() != self.out.shape() {
            return Err(Error::ShapeMismatch {
                op: "LowRankLinear::backward",
                expected: self.out.shape().to_vec(),
                got: grad_out.shape().to_vec(),
            });
        }
        let g = grad_out.into_dimensionality::<Ix2>().expect("checked: same shape as the 2-D output");
        self.dv = g.t().dot(&self.h).into_dyn();
        self.du = self.x.t().dot(&g.dot(&Self::as2(&self.v))).into_dyn();
        self.db = g.sum_axis(Axis(0)).into_dyn();
        Ok(())
    }
}

/// Checks the backward pass of a small `LowRankLinear` with `gradcheck` (f64).
fn check_gradients() -> ndtrain::Result<GradcheckReport> {
    let mut probe = LowRankLinear::<f64>::new(5, 3, 2, &mut ndtrain::seeded_rng(3));
    let x = Array2::from_shape_fn((4, 5), |(i, j)| ((i * 5 + j) as f64 * 0.37).sin()).into_dyn();
    gradcheck(&mut probe, x.view(), &GradcheckOptions::default())
}

/// Trains a rank-2 `LowRankLinear` on wine; returns the test accuracy.
fn train(verbose: bool) -> Result<f64, Box<dyn std::error::Error>> {
    let wine = datasets::wine();
    let (train, test) = train_test_split(&wine, 0.25, 0, true)?;
    let mut scaler = StandardScaler::default();
    let x_train = scaler.fit_transform(train.x_2d()?)?;
    let x_test = scaler.transform(test.x_2d()?)?;

    let mut model = LowRankLinear::<f64>::new(13, 3, 2, &mut ndtrain::seeded_rng(4));
    let mut trainer = Trainer::builder(Adam::builder().lr(0.02).build()?, CrossEntropyLoss::default())
        .epochs(60)
        .batch_size(16)
        .seed(1)
        .metric(Accuracy::new())
        .verbose(verbose)
        .build()?;
    trainer.fit(&mut model, x_train.view(), train.y().view())?;
    let eval = trainer.evaluate(&mut model, x_test.view(), test.y().view())?;
    Ok(eval.get("accuracy").unwrap_or(f64::NAN))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The hand-written backward pass against central finite differences.
    let report = check_gradients()?;
    println!("{report}");
    if !report.passed(1e-6) {
        return Err("gradcheck failed".into());
    }
    // 2. Training with the built-in Trainer, Adam and cross-entropy.
    let accuracy = train(false)?;
    println!("LowRankLinear (rank 2) on wine: test accuracy {accuracy:.4}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradcheck_passes() {
        let report = check_gradients().unwrap();
        assert!(report.passed(1e-6), "{report}");
    }

    #[test]
    fn trains_wine() {
        let accuracy = train(false).unwrap();
        assert!(accuracy > 0.9, "test accuracy {accuracy}");
    }
}
