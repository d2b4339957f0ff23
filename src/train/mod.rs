//! The training loop: [`Trainer`], its builder, [`History`] and [`callbacks`].
//!
//! ```text
//! for epoch in 0..epochs:
//!     order = seeded permutation (or 0..n)
//!     for batch in order.chunks(batch_size):        // last partial batch kept
//!         gather rows -> out = model.forward(x, Train)
//!         loss, dL/dout = loss.loss_and_grad(out, y)  // metrics.update(out, y)
//!         model.backward(dL/dout) -> [clip] -> optimizer.step(model) -> [batch scheduler]
//!     validation (Eval mode) -> [epoch scheduler] -> callbacks -> History
//! ```
//!
//! Every per-batch buffer (gathered inputs and targets, the loss gradient, the
//! layers' activations) is reused: after the first epoch a step allocates nothing.
//! Without shuffling, batches of standard-layout data are read in place (a slice of
//! consecutive rows) instead of gathered: full-batch gradient descent copies nothing.
//!
//! `fit` is transactional: if it fails (bad data, a label out of range found in the
//! third epoch, a callback error), the model's parameters and the optimizer's state
//! are put back as they were before the call.
//!
//! Optimizers with a separate evaluation iterate (schedule-free AdamW / SGD) train at
//! their training point and are evaluated at the averaged point: the trainer calls
//! [`Optimizer::swap_params`] so that validation, callbacks, `evaluate`, `predict` and
//! the model after `fit` see the evaluation parameters, while the batches train the
//! training parameters. For every other optimizer this is a no-op.

pub mod callbacks;
mod history;

pub use callbacks::{Callback, Control, EarlyStopping, MonitorMode};
pub use history::{EpochLog, History};

use ndarray::{ArrayD, ArrayView, ArrayViewD, Axis, Dimension, Slice};

use crate::data::{Dataset, batch_indices, gather_rows_into, shuffle_indices};
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::metrics::Metric;
use crate::model::{AsInput, Floats, Input, Mode, Model};
use crate::optim::Optimizer;
use crate::optim::clip::GradClip;
use crate::schedule::{AttachedScheduler, LrScheduler};
use crate::tensor::{Buffer, Float, seeded_rng};

/// Default mini-batch size (Keras' default).
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// When a learning-rate scheduler steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepEvery {
    /// After every epoch (after validation), as most PyTorch scripts do.
    #[default]
    Epoch,
    /// After every optimizer step (OneCycleLR, CyclicLR, warm-up per iteration).
    Batch,
}

/// Settings collected by [`TrainerBuilder`], validated by [`TrainerBuilder::build`].
struct Settings {
    epochs: usize,
    batch_size: Option<usize>,
    seed: u64,
    shuffle: bool,
    verbose: bool,
    clip: Option<GradClip>,
}

/// Builds a [`Trainer`]; every setting has a default, `build` validates them.
///
/// | setting | default | range |
/// |---|---|---|
/// | `epochs` | 10 | ≥ 0 |
/// | `batch_size` | 32 | ≥ 1 ([`full_batch`](TrainerBuilder::full_batch): the whole dataset) |
/// | `seed` | 0 | any `u64` (shuffling) |
/// | `shuffle` | `true` | |
/// | `verbose` | `false` | prints one line per epoch |
/// | `scheduler` | none | any [`LrScheduler`], stepped per [`StepEvery`] |
/// | `grad_clip` | none | [`GradClip`] (by global norm or by value) |
pub struct TrainerBuilder<F: Float, Y, O, L, I: Input<F> = Floats> {
    optimizer: O,
    loss: L,
    settings: Settings,
    metrics: Vec<Box<dyn Metric<F, Y>>>,
    callbacks: Vec<Box<dyn Callback<F>>>,
    validation: Option<(I::Owned, ArrayD<Y>)>,
    scheduler: Option<(AttachedScheduler, StepEvery)>,
}

impl<F, Y, O, L, I> TrainerBuilder<F, Y, O, L, I>
where
    F: Float,
    Y: Copy + Default + 'static,
    O: Optimizer<F>,
    L: Loss<F, Y>,
    I: Input<F>,
{
    /// Number of passes over the training data.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.settings.epochs = epochs;
        self
    }

    /// Samples per mini-batch; the last batch of an epoch may be smaller (it is kept).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.settings.batch_size = Some(batch_size);
        self
    }

    /// One batch holding the whole training set: full-batch gradient descent with
    /// [`Sgd`](crate::optim::Sgd).
    pub fn full_batch(mut self) -> Self {
        self.settings.batch_size = None;
        self
    }

    /// Seed of the per-epoch shuffling. The same seed (and the same model
    /// initialisation) gives a bit-identical [`History`] and weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = seed;
        self
    }

    /// Whether to visit the samples in a fresh random order every epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.settings.shuffle = shuffle;
        self
    }

    /// Print one line per epoch (loss, metrics, validation) to stdout.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.settings.verbose = verbose;
        self
    }

    /// Adds a metric, reported on the training batches (streamed over the epoch) and,
    /// with `val_` prefixed, on the validation data.
    pub fn metric(mut self, metric: impl Metric<F, Y> + 'static) -> Self {
        self.metrics.push(Box::new(metric));
        self
    }

    /// Adds a callback (e.g. [`EarlyStopping`]).
    pub fn callback(mut self, callback: impl Callback<F> + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// A learning-rate scheduler, stepped after every epoch or every batch. It is
    /// attached to the optimizer when the trainer is built (its base learning rates are
    /// the optimizer's at that moment, as when a PyTorch scheduler is constructed).
    /// [`ReduceLrOnPlateau`](crate::schedule::ReduceLrOnPlateau) monitors `val_loss`
    /// when there is validation data, else the training loss (per batch: the batch loss).
    pub fn scheduler(
        mut self,
        scheduler: impl LrScheduler + Send + Sync + 'static,
        every: StepEvery,
    ) -> Self {
        self.scheduler = Some((AttachedScheduler::new(scheduler), every));
        self
    }

    /// Clips the gradients between `backward` and the optimizer step, by global norm
    /// (as `torch.nn.utils.clip_grad_norm_`) or by value.
    pub fn grad_clip(mut self, clip: GradClip) -> Self {
        self.settings.clip = Some(clip);
        self
    }

    /// Data evaluated after every epoch (`val_loss` and `val_` metrics). Copied.
    /// `x` is of the model's input kind (a float array, an array of `usize` ids, or a
    /// tuple of them, see [`AsInput`]).
    pub fn validation_data<X: AsInput<F, I>, E: Dimension>(mut self, x: X, y: ArrayView<'_, Y, E>) -> Self {
        self.validation = Some((I::to_owned(&x.as_input()), y.into_dyn().to_owned()));
        self
    }

    /// Validates the settings and builds the trainer.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `batch_size` 0 or an invalid clipping
    /// threshold; for validation data, the errors of [`Trainer::fit`]'s data checks
    /// (row counts, emptiness, non-finite features); a scheduler that cannot attach to
    /// the optimizer.
    pub fn build(mut self) -> Result<Trainer<F, Y, O, L, I>> {
        if self.settings.batch_size == Some(0) {
            return Err(Error::InvalidParameter { name: "batch_size", value: 0.0, expected: ">= 1" });
        }
        if let Some(clip) = &self.settings.clip {
            clip.validate()?;
        }
        if let Some((x, y)) = &self.validation {
            check_data::<F, Y, I>("Trainer::validation_data", &I::view(x), y.view())?;
        }
        if let Some((s, _)) = &mut self.scheduler {
            s.attach(&mut self.optimizer)?;
        }
        Ok(Trainer {
            scheduler: self.scheduler,
            optimizer: self.optimizer,
            loss: self.loss,
            settings: self.settings,
            metrics: self.metrics,
            callbacks: self.callbacks,
            validation: self.validation,
            buffers: Buffers::default(),
        })
    }
}

/// Reused per-batch storage.
struct Buffers<F: Float, Y, I: Input<F>> {
    order: Vec<usize>,
    x: I::Batch,
    y: Buffer<Y>,
    grad: Buffer<F>,
}

impl<F: Float, Y, I: Input<F>> Default for Buffers<F, Y, I> {
    fn default() -> Self {
        Buffers { order: Vec::new(), x: I::Batch::default(), y: Buffer::default(), grad: Buffer::default() }
    }
}

/// The result of [`Trainer::evaluate`]: the mean loss and every metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the samples.
    pub loss: f64,
    /// `(name, value)` of every metric.
    pub metrics: Vec<(String, f64)>,
}

impl Evaluation {
    /// The value of metric `name` (or `"loss"`).
    pub fn get(&self, name: &str) -> Option<f64> {
        if name == "loss" {
            return Some(self.loss);
        }
        self.metrics.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

/// Trains any [`Model`] with an [`Optimizer`] and a [`Loss`], reporting
/// [`Metric`]s: `fit`, `evaluate`, `predict`.
///
/// Generic over the float type `F` (f32 or f64), the target element type `Y`
/// (`usize` class indices or `F` values), the optimizer `O`, the loss `L` and the
/// models' input kind `I` ([`Floats`] by default; [`Indices`](crate::model::Indices)
/// for token ids, a tuple for several inputs), which is inferred from the data passed
/// to `fit`.
///
/// # Example: softmax regression on iris
///
/// ```
/// use ndtrain::prelude::*;
/// use ndtrain::datasets;
///
/// let iris = datasets::iris();
/// let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0))?;
/// let mut trainer = Trainer::builder(Adam::builder().lr(0.05).build()?, CrossEntropyLoss::default())
///     .epochs(30)
///     .batch_size(16)
///     .seed(1)
///     .metric(Accuracy::new())
///     .build()?;
/// let history = trainer.fit(&mut model, iris.x().view(), iris.y().view())?;
/// assert!(history.last().unwrap().get("accuracy").unwrap() > 0.9);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub struct Trainer<F: Float, Y, O, L, I: Input<F> = Floats> {
    optimizer: O,
    loss: L,
    settings: Settings,
    metrics: Vec<Box<dyn Metric<F, Y>>>,
    callbacks: Vec<Box<dyn Callback<F>>>,
    validation: Option<(I::Owned, ArrayD<Y>)>,
    scheduler: Option<(AttachedScheduler, StepEvery)>,
    buffers: Buffers<F, Y, I>,
}

impl<F, Y, O, L, I> Trainer<F, Y, O, L, I>
where
    F: Float,
    Y: Copy + Default + 'static,
    O: Optimizer<F>,
    L: Loss<F, Y>,
    I: Input<F>,
{
    /// Starts a builder with the optimizer and the loss; see [`TrainerBuilder`] for the
    /// settings and their defaults.
    pub fn builder(optimizer: O, loss: L) -> TrainerBuilder<F, Y, O, L, I> {
        TrainerBuilder {
            optimizer,
            loss,
            settings: Settings {
                epochs: 10,
                batch_size: Some(DEFAULT_BATCH_SIZE),
                seed: 0,
                shuffle: true,
                verbose: false,
                clip: None,
            },
            metrics: Vec::new(),
            callbacks: Vec::new(),
            validation: None,
            scheduler: None,
        }
    }

    /// The optimizer (e.g. to read its learning rate or save its state).
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutable.
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// The loss.
    pub fn loss(&self) -> &L {
        &self.loss
    }

    /// Trains `model` on `x` (samples along axis 0, any dimension; a `usize` array of
    /// ids for a model of [`Indices`](crate::model::Indices), a tuple for several inputs)
    /// and `y` (one target row per sample) and returns the per-epoch [`History`].
    ///
    /// # Errors
    /// * [`Error::LengthMismatch`] when `x` and `y` have different numbers of rows;
    /// * [`Error::EmptyInput`] for an empty dataset;
    /// * [`Error::NonFinite`] for NaN or infinite features;
    /// * any error of the model (e.g. [`Error::ShapeMismatch`] for a feature width
    ///   the model does not take), of the loss (e.g. [`Error::LabelOutOfRange`]),
    ///   the optimizer or a callback.
    ///
    /// On error the model's parameters and the optimizer's state are restored to
    /// what they were before the call.
    pub fn fit<M, X, E>(&mut self, model: &mut M, x: X, y: ArrayView<'_, Y, E>) -> Result<History>
    where
        M: Model<F, I>,
        X: AsInput<F, I>,
        E: Dimension,
    {
        let (x, y) = (x.as_input(), y.into_dyn());
        check_data::<F, Y, I>("Trainer::fit", &x, y.view())?;
        let saved_params: Vec<ArrayD<F>> = model.parameters().into_iter().map(|(_, w)| w).collect();
        let saved_optim = self.optimizer.state_dict();
        let result =
            self.optimizer.swap_params(model, Mode::Train).and_then(|_| self.fit_unchecked(model, x, y));
        if result.is_err() {
            // Put everything back; these only fail if the model changed its own
            // parameter list, in which case the original error is still the one to report.
            let _ = model.set_parameters(&saved_params);
            let _ = self.optimizer.load_state_dict(&saved_optim);
        }
        result
    }

    /// [`fit`](Trainer::fit) on a [`Dataset`].
    ///
    /// # Errors
    /// As [`fit`](Trainer::fit).
    pub fn fit_dataset<M>(&mut self, model: &mut M, data: &Dataset<F, Y>) -> Result<History>
    where
        M: Model<F, I>,
        for<'a> &'a ArrayD<F>: AsInput<F, I>,
    {
        self.fit(model, data.x(), data.y().view())
    }

    fn fit_unchecked<M: Model<F, I>>(
        &mut self,
        model: &mut M,
        x: I::View<'_>,
        y: ArrayViewD<'_, Y>,
    ) -> Result<History> {
        let n = y.len_of(Axis(0));
        let batch_size = self.settings.batch_size.unwrap_or(n).min(n);
        let mut rng = seeded_rng(self.settings.seed);
        let mut history = History::default();
        let in_place = !self.settings.shuffle && I::is_standard_layout(&x) && y.is_standard_layout();

        for cb in &mut self.callbacks {
            cb.on_train_begin(model)?;
        }
        for epoch in 0..self.settings.epochs {
            let lr = self.optimizer.lr().as_f64();
            self.buffers.order.clear();
            self.buffers.order.extend(0..n);
            if self.settings.shuffle {
                shuffle_indices(&mut self.buffers.order, &mut rng);
            }
            for m in &mut self.metrics {
                m.reset();
            }

            let mut loss_sum = 0.0f64;
            for rows in batch_indices(&self.buffers.order, batch_size)? {
                // Without shuffling the batch is consecutive rows: a slice of the data.
                let (xb, yb) = if in_place {
                    let (start, end) = (rows[0], rows[0] + rows.len());
                    (I::slice(&x, start, end), y.slice_axis(Axis(0), Slice::from(start..end)))
                } else {
                    let xb = I::gather(&x, rows, &mut self.buffers.x)?;
                    gather_rows_into(y.view(), rows, &mut self.buffers.y)?;
                    (xb, self.buffers.y.view())
                };
                let out = model.forward(xb, Mode::Train)?;
                let grad = self.buffers.grad.reshape(out.shape());
                let batch_loss = self.loss.loss_and_grad(out.view(), yb.view(), grad)?;
                for m in &mut self.metrics {
                    m.update(out.view(), yb.view())?;
                }
                model.backward(self.buffers.grad.view())?;
                if let Some(clip) = &self.settings.clip {
                    clip.apply_model(model)?;
                }
                self.optimizer.step(model)?;
                if let Some((s, StepEvery::Batch)) = &mut self.scheduler {
                    let metric = s.requires_metric().then(|| batch_loss.as_f64());
                    s.step(&mut self.optimizer, metric)?;
                }
                loss_sum += batch_loss.as_f64() * rows.len() as f64;
            }

            let mut log =
                EpochLog { epoch, train_loss: loss_sum / n as f64, val_loss: None, metrics: Vec::new(), lr };
            for m in &self.metrics {
                log.metrics.push((m.name().to_string(), m.compute()?));
            }
            // Validation, callbacks and the model between epochs see the evaluation
            // parameters (schedule-free); training resumes at the training parameters.
            self.optimizer.swap_params(model, Mode::Eval)?;
            if let Some((vx, vy)) = self.validation.take() {
                let eval = self.evaluate_unchecked(model, I::view(&vx), vy.view());
                self.validation = Some((vx, vy));
                let eval = eval?;
                log.val_loss = Some(eval.loss);
                log.metrics.extend(eval.metrics.into_iter().map(|(k, v)| (format!("val_{k}"), v)));
            }
            if let Some((s, StepEvery::Epoch)) = &mut self.scheduler {
                let metric = s.requires_metric().then(|| log.val_loss.unwrap_or(log.train_loss));
                s.step(&mut self.optimizer, metric)?;
            }
            if self.settings.verbose {
                println!("{log}");
            }
            let mut stop = false;
            for cb in &mut self.callbacks {
                stop |= cb.on_epoch_end(&log, model)? == Control::Stop;
            }
            history.epochs.push(log);
            if stop {
                history.stopped_early_at = Some(epoch);
                break;
            }
            if epoch + 1 < self.settings.epochs {
                self.optimizer.swap_params(model, Mode::Train)?;
            }
        }
        self.optimizer.swap_params(model, Mode::Eval)?;
        for cb in &mut self.callbacks {
            cb.on_train_end(model)?;
        }
        Ok(history)
    }

    /// Loss and metrics of `model` on `x`, `y` (evaluation mode, in batches of the
    /// trainer's batch size). Leaves the model's parameters unchanged.
    ///
    /// # Errors
    /// As [`fit`](Trainer::fit)'s data checks, and model / loss / metric errors.
    pub fn evaluate<M, X, E>(&mut self, model: &mut M, x: X, y: ArrayView<'_, Y, E>) -> Result<Evaluation>
    where
        M: Model<F, I>,
        X: AsInput<F, I>,
        E: Dimension,
    {
        let (x, y) = (x.as_input(), y.into_dyn());
        check_data::<F, Y, I>("Trainer::evaluate", &x, y.view())?;
        self.optimizer.swap_params(model, Mode::Eval)?;
        self.evaluate_unchecked(model, x, y)
    }

    fn evaluate_unchecked<M: Model<F, I>>(
        &mut self,
        model: &mut M,
        x: I::View<'_>,
        y: ArrayViewD<'_, Y>,
    ) -> Result<Evaluation> {
        let n = y.len_of(Axis(0));
        let batch_size = self.settings.batch_size.unwrap_or(n).min(n);
        for m in &mut self.metrics {
            m.reset();
        }
        let mut loss_sum = 0.0f64;
        let mut start = 0;
        while start < n {
            let end = (start + batch_size).min(n);
            let xb = I::slice(&x, start, end);
            let yb = y.slice_axis(Axis(0), (start..end).into());
            let out = model.forward(xb, Mode::Eval)?;
            let grad = self.buffers.grad.reshape(out.shape());
            loss_sum += self.loss.loss_and_grad(out.view(), yb.view(), grad)?.as_f64() * (end - start) as f64;
            for m in &mut self.metrics {
                m.update(out.view(), yb.view())?;
            }
            start = end;
        }
        let metrics =
            self.metrics.iter().map(|m| Ok((m.name().to_string(), m.compute()?))).collect::<Result<_>>()?;
        Ok(Evaluation { loss: loss_sum / n as f64, metrics })
    }

    /// The model's outputs for `x` (evaluation mode, in batches), stacked along axis 0.
    ///
    /// # Errors
    /// [`Error::EmptyInput`], [`Error::NonFinite`], and model errors.
    pub fn predict<M: Model<F, I>, X: AsInput<F, I>>(&mut self, model: &mut M, x: X) -> Result<ArrayD<F>> {
        self.optimizer.swap_params(model, Mode::Eval)?;
        predict_batched::<F, I, M>(model, x.as_input(), self.settings.batch_size)
    }
}

/// Runs `model` in evaluation mode over `x` in batches of `batch_size` (all at once for
/// `None`) and stacks the outputs along axis 0.
///
/// # Errors
/// [`Error::EmptyInput`], [`Error::NonFinite`], and model errors.
///
/// # Example
///
/// ```
/// use ndtrain::prelude::*;
///
/// let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0))?;
/// let x = ndarray::Array2::<f64>::ones((10, 4));
/// let out = ndtrain::train::predict_batched(&mut model, x.view().into_dyn(), Some(4))?;
/// assert_eq!(out.shape(), &[10, 3]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn predict_batched<F: Float, I: Input<F>, M: Model<F, I> + ?Sized>(
    model: &mut M,
    x: I::View<'_>,
    batch_size: Option<usize>,
) -> Result<ArrayD<F>> {
    let op = "predict";
    let n = I::validate(op, &x)?;
    if n == 0 {
        return Err(Error::EmptyInput { op, what: "x has no rows" });
    }
    let bs = batch_size.unwrap_or(n).clamp(1, n);
    let mut out: Option<ArrayD<F>> = None;
    let mut start = 0;
    while start < n {
        let end = (start + bs).min(n);
        let y = model.forward(I::slice(&x, start, end), Mode::Eval)?;
        let full = out.get_or_insert_with(|| {
            let mut shape = y.shape().to_vec();
            shape[0] = n;
            ArrayD::zeros(shape)
        });
        if y.ndim() == 0 || y.len_of(Axis(0)) != end - start || y.shape()[1..] != full.shape()[1..] {
            return Err(Error::ShapeMismatch {
                op,
                expected: full.shape().to_vec(),
                got: y.shape().to_vec(),
            });
        }
        full.slice_axis_mut(Axis(0), (start..end).into()).assign(&y);
        start = end;
    }
    out.ok_or(Error::EmptyInput { op, what: "x has no rows" })
}

/// The index of the largest value in each row of a `[N, C]` output (the predicted
/// class), or `score > threshold` for a `[N]` / `[N, 1]` output.
///
/// # Errors
/// [`Error::ShapeMismatch`] for outputs of another rank; [`Error::EmptyInput`] for
/// `[N, 0]`.
///
/// # Example
///
/// ```
/// let out = ndarray::array![[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]].into_dyn();
/// assert_eq!(ndtrain::train::predicted_classes(out.view(), 0.0)?, vec![1, 0]);
/// let logits = ndarray::array![[-0.3], [0.2]].into_dyn();
/// assert_eq!(ndtrain::train::predicted_classes(logits.view(), 0.0)?, vec![0, 1]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn predicted_classes<F: Float>(out: ArrayViewD<'_, F>, threshold: F) -> Result<Vec<usize>> {
    let op = "predicted_classes";
    match out.shape() {
        [_] => Ok(out.iter().map(|&s| usize::from(s > threshold)).collect()),
        [_, 1] => Ok(out.iter().map(|&s| usize::from(s > threshold)).collect()),
        [_, 0] => Err(Error::EmptyInput { op, what: "outputs have no columns" }),
        [_, _] => Ok(out
            .outer_iter()
            .map(|row| {
                // First maximum on ties, as numpy's argmax; NaN never wins.
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v > row[best] || row[best].is_nan() && !v.is_nan() {
                        best = j;
                    }
                }
                best
            })
            .collect()),
        other => Err(Error::ShapeMismatch { op, expected: vec![0, 0], got: other.to_vec() }),
    }
}

/// The checks `fit` and `evaluate` run before touching the model.
fn check_data<F: Float, Y, I: Input<F>>(
    op: &'static str,
    x: &I::View<'_>,
    y: ArrayViewD<'_, Y>,
) -> Result<()> {
    let nx = I::rows(op, x)?;
    if y.ndim() == 0 {
        return Err(Error::ShapeMismatch { op, expected: vec![nx], got: vec![] });
    }
    let ny = y.len_of(Axis(0));
    if nx != ny {
        return Err(Error::LengthMismatch {
            op,
            what: "rows of y (must equal the rows of x)",
            expected: nx,
            got: ny,
        });
    }
    if nx == 0 {
        return Err(Error::EmptyInput { op, what: "the dataset has no samples" });
    }
    I::validate(op, x).map(|_| ())
}
