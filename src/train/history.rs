//! What [`Trainer::fit`](super::Trainer::fit) records: one [`EpochLog`] per epoch.

use std::fmt;

/// The record of one epoch: losses, metric values and the learning rate.
///
/// Metric keys are the metrics' [`name`](crate::metrics::Metric::name)s for the
/// training data (streamed over the epoch's batches, as Keras reports them) and the
/// same names prefixed with `val_` for the validation data.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    /// 0-based epoch index.
    pub epoch: usize,
    /// Mean training loss over the epoch's samples (batch losses weighted by batch size).
    pub train_loss: f64,
    /// Loss on the validation data after the epoch, if validation data was given.
    pub val_loss: Option<f64>,
    /// `(name, value)` of every metric, training first, then `val_` entries.
    pub metrics: Vec<(String, f64)>,
    /// Learning rate (first parameter group) used during the epoch.
    pub lr: f64,
}

impl EpochLog {
    /// The value logged under `key`: `"loss"`, `"val_loss"`, `"lr"`, or a metric name
    /// such as `"accuracy"` / `"val_accuracy"`.
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::train::EpochLog;
    ///
    /// let log = EpochLog { epoch: 0, train_loss: 0.5, val_loss: Some(0.6),
    ///                      metrics: vec![("accuracy".into(), 0.9)], lr: 1e-3 };
    /// assert_eq!(log.get("loss"), Some(0.5));
    /// assert_eq!(log.get("val_loss"), Some(0.6));
    /// assert_eq!(log.get("accuracy"), Some(0.9));
    /// assert_eq!(log.get("val_accuracy"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<f64> {
        match key {
            "loss" => Some(self.train_loss),
            "val_loss" => self.val_loss,
            "lr" => Some(self.lr),
            _ => self.metrics.iter().find(|(k, _)| k == key).map(|(_, v)| *v),
        }
    }
}

impl fmt::Display for EpochLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "epoch {:>3}  loss {:.4}", self.epoch + 1, self.train_loss)?;
        for (k, v) in self.metrics.iter().filter(|(k, _)| !k.starts_with("val_")) {
            write!(f, "  {k} {v:.4}")?;
        }
        if let Some(v) = self.val_loss {
            write!(f, "  val_loss {v:.4}")?;
        }
        for (k, v) in self.metrics.iter().filter(|(k, _)| k.starts_with("val_")) {
            write!(f, "  {k} {v:.4}")?;
        }
        Ok(())
    }
}

/// The training history returned by [`Trainer::fit`](super::Trainer::fit), like
/// Keras' `History`: one [`EpochLog`] per completed epoch.
///
/// # Example
///
/// ```
/// use ndtrain::train::{EpochLog, History};
///
/// let mut h = History::default();
/// for (e, loss) in [0.9, 0.5, 0.4].into_iter().enumerate() {
///     h.epochs.push(EpochLog { epoch: e, train_loss: loss, val_loss: None, metrics: vec![], lr: 0.1 });
/// }
/// assert_eq!(h.series("loss"), vec![0.9, 0.5, 0.4]);
/// assert_eq!(h.last().map(|l| l.train_loss), Some(0.4));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every completed epoch, in order.
    pub epochs: Vec<EpochLog>,
    /// Set when a callback stopped training early: the epoch after which it stopped.
    pub stopped_early_at: Option<usize>,
}

impl History {
    /// The values logged under `key` (see [`EpochLog::get`]) for every epoch that has
    /// it.
    pub fn series(&self, key: &str) -> Vec<f64> {
        self.epochs.iter().filter_map(|e| e.get(key)).collect()
    }

    /// The last epoch's log.
    pub fn last(&self) -> Option<&EpochLog> {
        self.epochs.last()
    }

    /// Number of completed epochs.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// Whether no epoch completed.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.epochs {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}
