//! [`ReduceLrOnPlateau`].

use std::str::FromStr;

use super::{GroupHparams, LrScheduler, PerGroup, check_group_count, check_nonempty, check_param, py_max};
use crate::error::{Error, Result};

/// Whether [`ReduceLrOnPlateau`] wants the monitored value to go down or up.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{PlateauMode, ReduceLrOnPlateau};
///
/// let mode: PlateauMode = "max".parse()?;
/// let s = ReduceLrOnPlateau::builder().mode(mode).build()?; // monitor an accuracy
/// assert_eq!(s.best(), f64::NEG_INFINITY);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlateauMode {
    /// Lower is better (a loss).
    #[default]
    Min,
    /// Higher is better (an accuracy).
    Max,
}

impl FromStr for PlateauMode {
    type Err = Error;

    /// Parses torch's spelling: `"min"`, `"max"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other string.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "min" => Ok(PlateauMode::Min),
            "max" => Ok(PlateauMode::Max),
            other => Err(Error::invalid_config(format!("mode {other:?} is unknown, expected min or max"))),
        }
    }
}

/// How [`ReduceLrOnPlateau`] measures a significant improvement.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::ThresholdMode;
///
/// assert_eq!("abs".parse::<ThresholdMode>()?, ThresholdMode::Abs);
/// assert!("absolute".parse::<ThresholdMode>().is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ThresholdMode {
    /// Relative: better than `best · (1 ∓ threshold)`.
    #[default]
    Rel,
    /// Absolute: better than `best ∓ threshold`.
    Abs,
}

impl FromStr for ThresholdMode {
    type Err = Error;

    /// Parses torch's spelling: `"rel"`, `"abs"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other string.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rel" => Ok(ThresholdMode::Rel),
            "abs" => Ok(ThresholdMode::Abs),
            other => Err(Error::invalid_config(format!(
                "threshold mode {other:?} is unknown, expected rel or abs"
            ))),
        }
    }
}

/// Reduces every group's lr by `factor` when a monitored metric (typically the validation
/// loss) has stopped improving for more than `patience` steps.
///
/// At each `step(metric)`:
///
/// ```text
/// better  = metric < best·(1 − threshold)   (min, rel)    metric < best − threshold   (min, abs)
///           metric > best·(1 + threshold)   (max, rel)    metric > best + threshold   (max, abs)
/// if better: best = metric, bad = 0  else bad += 1
/// if cooldown_counter > 0: cooldown_counter −= 1, bad = 0
/// if bad > patience:
///     for each group: new = max(lr·factor, min_lr);  if lr − new > eps: lr = new
///     cooldown_counter = cooldown, bad = 0
/// ```
///
/// `best` starts at `+∞` (min) or `−∞` (max). As in torch, a NaN metric never counts as
/// an improvement, and with negative values the relative threshold compares against
/// `best·(1 − threshold)`, which is above `best`. The lr is not changed by `init`.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `mode` | `Min` | [`PlateauMode`] |
/// | `factor` | 0.1 | `[0, 1)` |
/// | `patience` | 10 | `>= 0` |
/// | `threshold` | 1e-4 | finite, `>= 0` |
/// | `threshold_mode` | `Rel` | [`ThresholdMode`] |
/// | `cooldown` | 0 | `>= 0` |
/// | `min_lr` | 0 | finite, `>= 0`; scalar or per group |
/// | `eps` | 1e-8 | finite, `>= 0` |
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for `factor >= 1`
/// (torch's `ValueError`) or any value out of range. `init`:
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) when a per-group `min_lr` list
/// does not have one value per group. `step`:
/// [`Error::InvalidInput`](crate::Error::InvalidInput) without a metric.
///
/// Reference: PyTorch `torch.optim.lr_scheduler.ReduceLROnPlateau`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler, ReduceLrOnPlateau};
///
/// let mut s = ReduceLrOnPlateau::builder().factor(0.5).patience(1).build()?;
/// let mut groups = [GroupHparams::new(0.1)];
/// s.init(&mut groups)?;
/// for val_loss in [1.0, 0.9, 0.95, 0.93] {
///     s.step(&mut groups, Some(val_loss))?; // two steps without improvement on 0.9
/// }
/// assert_eq!(groups[0].lr, 0.05);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "ReduceLROnPlateau")]
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: PerGroup,
    eps: f64,
    // state
    min_lrs: Vec<f64>,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: i64,
}

/// Builder of [`ReduceLrOnPlateau`].
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateauBuilder {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: PerGroup,
    eps: f64,
}

impl ReduceLrOnPlateauBuilder {
    /// `Min` (a loss) or `Max` (a score); default `Min`.
    pub fn mode(mut self, v: PlateauMode) -> Self {
        self.mode = v;
        self
    }

    /// `new_lr = lr · factor` (default 0.1).
    pub fn factor(mut self, v: f64) -> Self {
        self.factor = v;
        self
    }

    /// Steps without improvement tolerated before reducing (default 10).
    pub fn patience(mut self, v: usize) -> Self {
        self.patience = v;
        self
    }

    /// Minimum significant change (default 1e-4).
    pub fn threshold(mut self, v: f64) -> Self {
        self.threshold = v;
        self
    }

    /// Relative or absolute threshold (default `Rel`).
    pub fn threshold_mode(mut self, v: ThresholdMode) -> Self {
        self.threshold_mode = v;
        self
    }

    /// Steps to wait after a reduction before counting bad steps again (default 0).
    pub fn cooldown(mut self, v: usize) -> Self {
        self.cooldown = v;
        self
    }

    /// Lower bound on the lr, for all groups or per group (default 0).
    pub fn min_lr(mut self, v: impl Into<PerGroup>) -> Self {
        self.min_lr = v.into();
        self
    }

    /// Reductions smaller than this are skipped (default 1e-8).
    pub fn eps(mut self, v: f64) -> Self {
        self.eps = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`ReduceLrOnPlateau`].
    pub fn build(self) -> Result<ReduceLrOnPlateau> {
        check_param("factor", self.factor, "[0, 1)", (0.0..1.0).contains(&self.factor))?;
        let fin_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        check_param("threshold", self.threshold, "finite and >= 0", fin_nonneg(self.threshold))?;
        check_param("eps", self.eps, "finite and >= 0", fin_nonneg(self.eps))?;
        self.min_lr.validate("min_lr", "finite and >= 0", fin_nonneg)?;
        let mut s = ReduceLrOnPlateau {
            mode: self.mode,
            factor: self.factor,
            patience: self.patience,
            threshold: self.threshold,
            threshold_mode: self.threshold_mode,
            cooldown: self.cooldown,
            min_lr: self.min_lr,
            eps: self.eps,
            min_lrs: Vec::new(),
            best: 0.0,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        };
        s.reset();
        Ok(s)
    }
}

impl Default for ReduceLrOnPlateau {
    /// torch's defaults: `mode = min`, `factor = 0.1`, `patience = 10`,
    /// `threshold = 1e-4`, `threshold_mode = rel`, `cooldown = 0`, `min_lr = 0`,
    /// `eps = 1e-8`.
    fn default() -> Self {
        let mut s = ReduceLrOnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: PerGroup::All(0.0),
            eps: 1e-8,
            min_lrs: Vec::new(),
            best: 0.0,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        };
        s.reset();
        s
    }
}

impl ReduceLrOnPlateau {
    /// A builder with torch's defaults.
    pub fn builder() -> ReduceLrOnPlateauBuilder {
        ReduceLrOnPlateauBuilder {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: PerGroup::All(0.0),
            eps: 1e-8,
        }
    }

    /// The best metric seen so far (`±∞` before the first step).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Consecutive steps without improvement.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    /// Steps of cooldown left.
    pub fn cooldown_counter(&self) -> usize {
        self.cooldown_counter
    }

    /// Whether a cooldown is running.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    /// Steps taken since `init` (torch `last_epoch`).
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// The mode.
    pub fn mode(&self) -> PlateauMode {
        self.mode
    }

    fn reset(&mut self) {
        self.best = match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        self.cooldown_counter = 0;
        self.num_bad_epochs = 0;
    }

    fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }
}

impl LrScheduler for ReduceLrOnPlateau {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "ReduceLrOnPlateau::init";
        check_nonempty(OP, groups)?;
        self.min_lrs = self.min_lr.resolve(OP, "min_lr values (one per parameter group)", groups.len())?;
        self.last_epoch = 0;
        self.reset();
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], metric: Option<f64>) -> Result<()> {
        const OP: &str = "ReduceLrOnPlateau::step";
        if self.min_lrs.is_empty() {
            return Err(Error::invalid_input(OP, "init must be called before step"));
        }
        check_group_count(OP, self.min_lrs.len(), groups.len())?;
        let Some(current) = metric else {
            return Err(Error::invalid_input(OP, "needs the monitored metric (e.g. the validation loss)"));
        };
        self.last_epoch += 1;
        if self.is_better(current, self.best) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // ignore any bad epochs in cooldown
        }
        if self.num_bad_epochs > self.patience {
            for (g, &min_lr) in groups.iter_mut().zip(&self.min_lrs) {
                let old = g.lr;
                let new = py_max(old * self.factor, min_lr);
                if old - new > self.eps {
                    g.lr = new;
                }
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        self.init(groups)
    }

    fn requires_metric(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn invalid_parameters() {
        for f in [1.0, 1.5, -0.1, f64::NAN] {
            assert!(matches!(
                ReduceLrOnPlateau::builder().factor(f).build(),
                Err(Error::InvalidParameter { name: "factor", .. })
            ));
        }
        assert!(matches!(
            ReduceLrOnPlateau::builder().threshold(-1.0).build(),
            Err(Error::InvalidParameter { name: "threshold", .. })
        ));
        assert!(matches!(
            ReduceLrOnPlateau::builder().eps(f64::NAN).build(),
            Err(Error::InvalidParameter { name: "eps", .. })
        ));
        assert!(matches!(
            ReduceLrOnPlateau::builder().min_lr([0.0, -1.0]).build(),
            Err(Error::InvalidParameter { name: "min_lr", .. })
        ));
        assert!(matches!("median".parse::<PlateauMode>(), Err(Error::InvalidConfig(_))));
        assert!(matches!("relative".parse::<ThresholdMode>(), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn max_mode_cooldown_and_min_lr() {
        // max/abs, threshold 0.1, patience 0, cooldown 1, factor 0.5, min_lr 0.3 on lr 1:
        // 0.5 (best) | 0.55 bad -> 0.5, cooldown 1 | 0.5 bad but cooldown | 0.5 bad -> 0.3 (min_lr)
        let mut s = ReduceLrOnPlateau::builder()
            .mode(PlateauMode::Max)
            .threshold_mode(ThresholdMode::Abs)
            .threshold(0.1)
            .patience(0)
            .cooldown(1)
            .factor(0.5)
            .min_lr(0.3)
            .build()
            .unwrap();
        let mut g = groups(&[1.0]);
        s.init(&mut g).unwrap();
        let mut lrs = vec![];
        for m in [0.5, 0.55, 0.5, 0.5, 0.5] {
            s.step(&mut g, Some(m)).unwrap();
            lrs.push(g[0].lr);
        }
        assert_eq!(lrs, vec![1.0, 0.5, 0.5, 0.3, 0.3]);
        assert_eq!(s.best(), 0.5);
    }

    #[test]
    fn per_batch_steps_and_eps_and_missing_metric() {
        // Steps every batch with a constant loss: patience 2 -> lr / 10 every 3 bad steps,
        // until a reduction would be smaller than eps = 1e-3 (lr 1e-3 -> 1e-4 is 9e-4 < eps).
        let mut s = ReduceLrOnPlateau::builder().patience(2).eps(1e-3).build().unwrap();
        let mut g = groups(&[1.0, 0.1]);
        s.init(&mut g).unwrap();
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidInput { .. })));
        s.step(&mut g, Some(1.0)).unwrap(); // sets best
        for _ in 0..30 {
            s.step(&mut g, Some(1.0)).unwrap();
        }
        assert_close(g[0].lr, 1e-3);
        assert_close(g[1].lr, 1e-3);
        assert_eq!(s.last_epoch(), 31);
    }

    #[test]
    fn nan_metric_is_not_an_improvement() {
        let mut s = ReduceLrOnPlateau::builder().patience(0).build().unwrap();
        let mut g = groups(&[1.0]);
        s.init(&mut g).unwrap();
        s.step(&mut g, Some(f64::NAN)).unwrap();
        assert_close(g[0].lr, 0.1);
    }
}
