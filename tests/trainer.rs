//! The Trainer end to end on real data: convergence, determinism, f32 and f64, the
//! validation / callback / scheduler / clipping options, and every bad input the
//! foundation issue lists (each an `Err` naming the shapes or values, with the model
//! left as it was).

use ndarray::{Array1, Array2, ArrayD, Axis, ShapeBuilder};
use ndtrain::data::{Dataset, train_test_split};
use ndtrain::datasets;
use ndtrain::optim::clip::GradClip;
use ndtrain::optim::{Adam, Sgd};
use ndtrain::prelude::*;
use ndtrain::schedule::StepLr;
use ndtrain::train::{EarlyStopping, StepEvery, Trainer, predicted_classes};

/// Standardised features (population std, as StandardScaler) of a dataset, in f64.
fn standardized(ds: &Dataset<f64, usize>) -> Array2<f64> {
    let x = ds.x_2d().unwrap();
    let mean = x.mean_axis(Axis(0)).unwrap();
    let std = x.std_axis(Axis(0), 0.0).mapv(|s| if s == 0.0 { 1.0 } else { s });
    (&x - &mean) / &std
}

fn params(model: &mut impl Model<f64>) -> Vec<ArrayD<f64>> {
    model.parameters().into_iter().map(|(_, w)| w).collect()
}

fn iris_trainer(epochs: usize, seed: u64) -> Trainer<f64, usize, Adam<f64>, CrossEntropyLoss<f64>> {
    Trainer::builder(Adam::builder().lr(0.05).build().unwrap(), CrossEntropyLoss::default())
        .epochs(epochs)
        .batch_size(16)
        .seed(seed)
        .metric(Accuracy::new())
        .build()
        .unwrap()
}

#[test]
fn softmax_regression_learns_iris() {
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0)).unwrap();
    let history = iris_trainer(40, 1).fit(&mut model, x.view(), iris.y().view()).unwrap();
    assert_eq!(history.len(), 40);
    let losses = history.series("loss");
    assert!(losses[39] < 0.5 * losses[0], "loss {} -> {}", losses[0], losses[39]);
    assert!(history.last().unwrap().get("accuracy").unwrap() > 0.93);
}

#[test]
fn same_seed_gives_bit_identical_history_and_weights() {
    let iris = datasets::iris();
    let x = standardized(&iris);
    let run = |seed: u64| {
        let mut model = Sequential::mlp(&[4, 8, 3], Activation::Tanh, &mut ndtrain::seeded_rng(5)).unwrap();
        let h = iris_trainer(5, seed).fit(&mut model, x.view(), iris.y().view()).unwrap();
        (h, params(&mut model))
    };
    let (h1, w1) = run(9);
    let (h2, w2) = run(9);
    assert_eq!(h1, h2);
    for (a, b) in w1.iter().zip(&w2) {
        assert!(a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
    let (h3, _) = run(10);
    assert_ne!(h1.series("loss"), h3.series("loss"), "another shuffling seed changes the run");
}

#[test]
fn unshuffled_batches_train_the_same_from_any_memory_layout() {
    // Rows in order are read in place from standard-layout data and gathered from
    // other layouts; both give the same bits.
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut x_f = Array2::zeros(x.raw_dim().f());
    x_f.assign(&x);
    assert!(!x_f.is_standard_layout());
    let run = |x: ndarray::ArrayView2<'_, f64>, batch: usize| {
        let mut model = Sequential::mlp(&[4, 8, 3], Activation::Tanh, &mut ndtrain::seeded_rng(5)).unwrap();
        let mut trainer =
            Trainer::builder(Adam::builder().lr(0.05).build().unwrap(), CrossEntropyLoss::default())
                .epochs(3)
                .batch_size(batch)
                .shuffle(false)
                .build()
                .unwrap();
        let h = trainer.fit(&mut model, x, iris.y().view()).unwrap();
        (h, params(&mut model))
    };
    for batch in [16, 150] {
        let (h1, w1) = run(x.view(), batch);
        let (h2, w2) = run(x_f.view(), batch);
        assert_eq!(h1, h2, "batch {batch}");
        for (a, b) in w1.iter().zip(&w2) {
            assert!(a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "batch {batch}");
        }
    }
}

/// The whole loop in a given float type: split, train an MLP on digits, evaluate.
fn digits_accuracy<F: Float>() -> f64 {
    let digits = datasets::digits();
    let (train, test) = train_test_split(&digits, 0.25, 0, true).unwrap();
    let cast = |ds: &Dataset<f64, usize>| ds.x_2d().unwrap().mapv(|v| F::lit(v / 16.0));
    let (x_train, x_test) = (cast(&train), cast(&test));
    let mut model =
        Sequential::<F>::mlp(&[64, 32, 10], Activation::Relu, &mut ndtrain::seeded_rng(1)).unwrap();
    let mut trainer =
        Trainer::builder(Adam::<F>::builder().lr(3e-3).build().unwrap(), CrossEntropyLoss::<F>::default())
            .epochs(12)
            .batch_size(32)
            .metric(Accuracy::new())
            .build()
            .unwrap();
    trainer.fit(&mut model, x_train.view(), train.y().view()).unwrap();
    trainer.evaluate(&mut model, x_test.view(), test.y().view()).unwrap().get("accuracy").unwrap()
}

#[test]
fn whole_loop_in_f32() {
    let acc = digits_accuracy::<f32>();
    assert!(acc > 0.93, "f32 test accuracy {acc}");
}

#[test]
fn whole_loop_in_f64() {
    let acc = digits_accuracy::<f64>();
    assert!(acc > 0.93, "f64 test accuracy {acc}");
}

/// Workload W3 of the benchmarks: breast_cancer standardised (in f64, then cast to f32),
/// zero-initialised logistic regression, full-batch gradient descent with lr 0.1 for 1000
/// steps. PyTorch and a numpy implementation both reach training accuracy 0.9877 (562/569)
/// and a final mean BCE of 0.060578 (shared/bench/WORKLOADS.md).
#[test]
fn full_batch_gradient_descent_matches_w3() {
    let bc = datasets::breast_cancer();
    let x = standardized(&bc).mapv(|v| v as f32);
    let y = bc.y().mapv(|c| c as f32);
    let mut model =
        Linear::<f32>::builder(30, 1).init(Init::Zeros).build(&mut ndtrain::seeded_rng(0)).unwrap();
    let mut trainer = Trainer::builder(Sgd::builder().lr(0.1).build().unwrap(), BceWithLogitsLoss::default())
        .epochs(1000)
        .full_batch()
        .shuffle(false)
        .build()
        .unwrap();
    let history = trainer.fit(&mut model, x.view(), y.view()).unwrap();
    // The loss logged for step t is measured before its update; evaluate the final one.
    let final_loss = trainer.evaluate(&mut model, x.view(), y.view()).unwrap().loss;
    assert!((final_loss - 0.060578).abs() < 1e-4, "final loss {final_loss}");
    assert!((history.epochs[999].train_loss - 0.060578).abs() < 1e-3);
    let out = trainer.predict(&mut model, x.view()).unwrap();
    let pred = predicted_classes(out.view(), 0.0).unwrap();
    let correct = pred.iter().zip(bc.y().iter()).filter(|(p, t)| p == t).count();
    assert_eq!(correct, 562);
}

#[test]
fn validation_and_early_stopping_restore_the_best_weights() {
    let iris = datasets::iris();
    let x = standardized(&iris);
    let ds = Dataset::new(x, iris.y().clone()).unwrap();
    let (train, val) = train_test_split(&ds, 0.3, 3, true).unwrap();
    let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(2)).unwrap();
    // A large learning rate makes the validation loss bounce, so the early stop triggers.
    let mut trainer = Trainer::builder(Sgd::builder().lr(3.0).build().unwrap(), CrossEntropyLoss::default())
        .epochs(200)
        .batch_size(8)
        .metric(Accuracy::new())
        .validation_data(val.x().view(), val.y().view())
        .callback(EarlyStopping::monitor("val_loss").patience(3).restore_best_weights())
        .build()
        .unwrap();
    let history = trainer.fit_dataset(&mut model, &train).unwrap();
    let stopped = history.stopped_early_at.expect("early stopping triggers before 200 epochs");
    assert_eq!(history.len(), stopped + 1);
    let val_losses = history.series("val_loss");
    let best = val_losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(history.series("val_accuracy").len() == history.len());
    // The restored weights give the best validation loss again.
    let eval = trainer.evaluate(&mut model, val.x().view(), val.y().view()).unwrap();
    assert!((eval.loss - best).abs() < 1e-12, "restored {} vs best {best}", eval.loss);
}

#[test]
fn scheduler_steps_per_epoch_and_clipping_bounds_updates() {
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0)).unwrap();
    let mut trainer = Trainer::builder(Sgd::builder().lr(0.4).build().unwrap(), CrossEntropyLoss::default())
        .epochs(6)
        .scheduler(StepLr::builder(2).gamma(0.5).build().unwrap(), StepEvery::Epoch)
        .grad_clip(GradClip::norm(0.1))
        .build()
        .unwrap();
    let history = trainer.fit(&mut model, x.view(), iris.y().view()).unwrap();
    assert_eq!(history.series("lr"), vec![0.4, 0.4, 0.2, 0.2, 0.1, 0.1]);
    assert!((trainer.optimizer().lr() - 0.05).abs() < 1e-15);
}

#[test]
fn predict_stacks_batches_like_one_forward() {
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut model = Sequential::mlp(&[4, 6, 3], Activation::Gelu, &mut ndtrain::seeded_rng(4)).unwrap();
    let mut trainer = iris_trainer(1, 0);
    let batched = trainer.predict(&mut model, x.view()).unwrap();
    let whole = model.forward(x.view().into_dyn(), Mode::Eval).unwrap().to_owned();
    assert_eq!(batched.shape(), &[150, 3]);
    assert!(batched.iter().zip(whole.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
}

// ---- bad input: each an Err naming shapes/values, and the model unchanged ----

fn assert_unchanged_after(fit: impl FnOnce(&mut Linear<f64>) -> ndtrain::Result<()>) -> Error {
    let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0)).unwrap();
    let before = params(&mut model);
    let err = fit(&mut model).unwrap_err();
    assert_eq!(params(&mut model), before, "a failed fit leaves the model unchanged");
    err
}

#[test]
fn rows_of_x_and_y_must_match() {
    let x = Array2::<f64>::zeros((10, 4));
    let y = Array1::<usize>::zeros(9);
    let err = assert_unchanged_after(|m| iris_trainer(2, 0).fit(m, x.view(), y.view()).map(|_| ()));
    assert!(matches!(err, Error::LengthMismatch { expected: 10, got: 9, .. }), "{err}");
    assert!(err.to_string().contains("expected 10, got 9"), "{err}");
}

#[test]
fn feature_width_must_match_the_model() {
    let x = Array2::<f64>::zeros((10, 5));
    let y = Array1::<usize>::zeros(10);
    let err = assert_unchanged_after(|m| iris_trainer(2, 0).fit(m, x.view(), y.view()).map(|_| ()));
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("[0, 4]") && msg.contains("5]"), "{msg}");
}

#[test]
fn class_index_must_be_below_the_number_of_outputs() {
    // The bad label sits in the last batch of the first epoch (no shuffling): the
    // model has been updated by then, and fit must put it back.
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut y = iris.y().clone();
    y[149] = 3;
    let mut trainer =
        Trainer::builder(Adam::builder().lr(0.05).build().unwrap(), CrossEntropyLoss::default())
            .epochs(2)
            .batch_size(16)
            .shuffle(false)
            .build()
            .unwrap();
    let err = assert_unchanged_after(|m| trainer.fit(m, x.view(), y.view()).map(|_| ()));
    assert!(matches!(err, Error::LabelOutOfRange { label: 3, n_classes: 3, .. }), "{err}");
    // The optimizer state is restored too: a fresh fit gives the same result as on a
    // fresh optimizer.
    assert!(trainer.optimizer().state_dict().tensors.is_empty());
}

#[test]
fn empty_dataset_is_rejected() {
    let x = Array2::<f64>::zeros((0, 4));
    let y = Array1::<usize>::zeros(0);
    let err = assert_unchanged_after(|m| iris_trainer(2, 0).fit(m, x.view(), y.view()).map(|_| ()));
    assert!(matches!(err, Error::EmptyInput { .. }), "{err}");
}

#[test]
fn batch_size_zero_is_rejected_when_built() {
    let err =
        Trainer::<f64, usize, _, _>::builder(Adam::<f64>::default(), CrossEntropyLoss::<f64>::default())
            .batch_size(0)
            .build()
            .err()
            .expect("batch size 0 is invalid");
    assert!(matches!(err, Error::InvalidParameter { name: "batch_size", .. }), "{err}");
    assert_eq!(err.to_string(), "invalid batch_size = 0, expected >= 1");
}

#[test]
fn nan_in_training_features_is_rejected() {
    let iris = datasets::iris();
    let mut x = standardized(&iris);
    x[[7, 2]] = f64::NAN;
    let err = assert_unchanged_after(|m| iris_trainer(2, 0).fit(m, x.view(), iris.y().view()).map(|_| ()));
    assert!(matches!(err, Error::NonFinite { ref index, .. } if index == &vec![7, 2]), "{err}");
    assert!(err.to_string().contains("NaN"), "{err}");
}

#[test]
fn bad_validation_data_is_rejected_when_built() {
    let x = Array2::<f64>::zeros((5, 4));
    let y = Array1::<usize>::zeros(4);
    let err = Trainer::builder(Adam::<f64>::default(), CrossEntropyLoss::<f64>::default())
        .validation_data(x.view(), y.view())
        .build()
        .err()
        .expect("mismatched validation data");
    assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
}

#[test]
fn schedule_free_is_validated_and_evaluated_at_its_averaged_iterate() {
    use ndtrain::optim::ScheduleFreeAdamW;
    let iris = datasets::iris();
    let x = standardized(&iris);
    let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0)).unwrap();
    let mut trainer =
        Trainer::builder(ScheduleFreeAdamW::builder().lr(0.05).build().unwrap(), CrossEntropyLoss::default())
            .epochs(5)
            .batch_size(16)
            .validation_data(x.view(), iris.y().view())
            .build()
            .unwrap();
    let history = trainer.fit(&mut model, x.view(), iris.y().view()).unwrap();
    // After fit the model holds the evaluation iterate x: evaluating it reproduces the
    // last validation loss bit for bit.
    let at_x = trainer.evaluate(&mut model, x.view(), iris.y().view()).unwrap().loss;
    assert_eq!(Some(at_x), history.last().unwrap().val_loss);
    // The training iterate y is a different point.
    assert!(trainer.optimizer_mut().swap_params(&mut model, Mode::Train).unwrap());
    let out = ndtrain::train::predict_batched(&mut model, x.view().into_dyn(), None).unwrap();
    let at_y = Loss::<f64, usize>::loss(&CrossEntropyLoss::default(), out.view(), iris.y().view().into_dyn())
        .unwrap();
    assert!((at_y - at_x).abs() > 1e-6, "x and y coincide: {at_x} vs {at_y}");
}
