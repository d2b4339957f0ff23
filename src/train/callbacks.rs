//! Callbacks: code the [`Trainer`](super::Trainer) runs at the start and end of
//! training and after every epoch, with [`EarlyStopping`] built in.

use ndarray::ArrayD;

use super::history::EpochLog;
use crate::error::{Error, Result};
use crate::model::Module;
use crate::tensor::Float;

/// Whether training goes on after a callback ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this epoch (recorded in [`History::stopped_early_at`](super::History)).
    Stop,
}

/// Hooks into the training loop. Every method has a default that does nothing, so a
/// callback implements only what it needs.
///
/// # Example: stop once the training loss is below a target
///
/// ```
/// use ndtrain::prelude::*;
/// use ndtrain::train::{Callback, Control, EpochLog};
///
/// struct StopBelow(f64);
///
/// impl<F: Float> Callback<F> for StopBelow {
///     fn on_epoch_end(&mut self, log: &EpochLog, _model: &mut dyn Module<F>) -> ndtrain::Result<Control> {
///         Ok(if log.train_loss < self.0 { Control::Stop } else { Control::Continue })
///     }
/// }
///
/// let log = EpochLog { epoch: 0, train_loss: 0.01, val_loss: None, metrics: vec![], lr: 0.1 };
/// let mut cb = StopBelow(0.1);
/// let mut model = Linear::<f64>::new(1, 1, &mut ndtrain::seeded_rng(0))?;
/// assert_eq!(Callback::<f64>::on_epoch_end(&mut cb, &log, &mut model)?, Control::Stop);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Callback<F: Float> {
    /// Before the first epoch.
    fn on_train_begin(&mut self, model: &mut dyn Module<F>) -> Result<()> {
        let _ = model;
        Ok(())
    }

    /// After every epoch (and its validation), with that epoch's log.
    fn on_epoch_end(&mut self, log: &EpochLog, model: &mut dyn Module<F>) -> Result<Control> {
        let _ = (log, model);
        Ok(Control::Continue)
    }

    /// After the last epoch (also after an early stop).
    fn on_train_end(&mut self, model: &mut dyn Module<F>) -> Result<()> {
        let _ = model;
        Ok(())
    }
}

/// Whether a smaller or a larger monitored value is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorMode {
    /// `max` for names containing `acc`, `auc`, `f1`, `precision`, `recall`, `r2`;
    /// `min` otherwise (Keras' rule, extended to ndtrain's metric names).
    Auto,
    /// Smaller is better (losses, errors).
    Min,
    /// Larger is better (accuracy, F1, R²).
    Max,
}

/// Stops training when a monitored quantity has stopped improving (Keras'
/// `EarlyStopping`).
///
/// After each epoch the monitored value `v` (e.g. `"val_loss"`) counts as an
/// improvement when `v < best - min_delta` (mode min) or `v > best + min_delta`
/// (mode max). After `patience` consecutive epochs without improvement (at least one)
/// training stops. With
/// [`restore_best_weights`](EarlyStopping::restore_best_weights) the parameters of
/// the best epoch are put back when training ends.
///
/// | setting | default | range |
/// |---|---|---|
/// | `monitor` | `"val_loss"` | any key of [`EpochLog::get`] |
/// | `patience` | 0 | ≥ 0 epochs |
/// | `min_delta` | 0.0 | ≥ 0 |
/// | `mode` | [`MonitorMode::Auto`] | |
/// | `restore_best_weights` | off | |
///
/// # Errors
/// `on_epoch_end` returns [`Error::InvalidInput`] when the monitored key is not in
/// the epoch's log (e.g. `"val_loss"` without validation data).
///
/// Reference: Keras, `keras.callbacks.EarlyStopping`.
///
/// # Example
///
/// ```
/// use ndtrain::train::EarlyStopping;
///
/// let es = EarlyStopping::<f32>::monitor("val_loss").patience(5).min_delta(1e-4).restore_best_weights();
/// assert_eq!(es.best(), None);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping<F> {
    monitor: String,
    patience: usize,
    min_delta: f64,
    mode: MonitorMode,
    restore: bool,
    best: Option<f64>,
    best_epoch: Option<usize>,
    wait: usize,
    best_weights: Option<Vec<ArrayD<F>>>,
}

impl<F: Float> EarlyStopping<F> {
    /// Watches the log entry `key` (`"val_loss"`, `"loss"`, `"val_accuracy"`, ...).
    pub fn monitor(key: impl Into<String>) -> Self {
        EarlyStopping {
            monitor: key.into(),
            patience: 0,
            min_delta: 0.0,
            mode: MonitorMode::Auto,
            restore: false,
            best: None,
            best_epoch: None,
            wait: 0,
            best_weights: None,
        }
    }

    /// Epochs without improvement before stopping.
    pub fn patience(mut self, epochs: usize) -> Self {
        self.patience = epochs;
        self
    }

    /// Smallest change that counts as an improvement (its absolute value is used).
    pub fn min_delta(mut self, delta: f64) -> Self {
        self.min_delta = delta.abs();
        self
    }

    /// Whether smaller or larger is better.
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        self.mode = mode;
        self
    }

    /// Put the best epoch's parameters back when training ends.
    pub fn restore_best_weights(mut self) -> Self {
        self.restore = true;
        self
    }

    /// Best monitored value so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Epoch (0-based) of the best value so far.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    fn maximize(&self) -> bool {
        match self.mode {
            MonitorMode::Min => false,
            MonitorMode::Max => true,
            MonitorMode::Auto => {
                let k = self.monitor.to_ascii_lowercase();
                ["acc", "auc", "f1", "precision", "recall", "r2", "fbeta", "jaccard", "kappa", "mcc"]
                    .iter()
                    .any(|s| k.contains(s))
            }
        }
    }
}

impl<F: Float> Callback<F> for EarlyStopping<F> {
    fn on_train_begin(&mut self, _model: &mut dyn Module<F>) -> Result<()> {
        self.best = None;
        self.best_epoch = None;
        self.wait = 0;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, model: &mut dyn Module<F>) -> Result<Control> {
        let v = log.get(&self.monitor).ok_or_else(|| {
            Error::invalid_input(
                "EarlyStopping::on_epoch_end",
                format!(
                    "monitored value {:?} is not in the epoch log (available: loss{}{})",
                    self.monitor,
                    if log.val_loss.is_some() { ", val_loss" } else { "" },
                    log.metrics.iter().map(|(k, _)| format!(", {k}")).collect::<String>()
                ),
            )
        })?;
        let improved = match self.best {
            None => !v.is_nan(),
            Some(b) if self.maximize() => v > b + self.min_delta,
            Some(b) => v < b - self.min_delta,
        };
        if improved {
            self.best = Some(v);
            self.best_epoch = Some(log.epoch);
            self.wait = 0;
            if self.restore {
                self.best_weights = Some(model.parameters().into_iter().map(|(_, w)| w).collect());
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        // As Keras: stop after `patience` consecutive epochs without improvement (0 acts as 1).
        Ok(if self.wait >= self.patience.max(1) { Control::Stop } else { Control::Continue })
    }

    fn on_train_end(&mut self, model: &mut dyn Module<F>) -> Result<()> {
        if let Some(w) = self.best_weights.take() {
            model.set_parameters(&w)?;
        }
        Ok(())
    }
}
