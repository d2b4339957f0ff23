//! [`CyclicLr`]: cyclical learning rates (CLR).

use std::str::FromStr;
use std::sync::Arc;

use super::{
    Core, GroupHparams, LrScheduler, PerGroup, check_count, check_momentum, check_nonempty, check_param,
};
use crate::error::{Error, Result};

/// Amplitude policy of [`CyclicLr`].
///
/// # Example
///
/// ```
/// use ndtrain::schedule::CyclicMode;
///
/// assert_eq!("triangular2".parse::<CyclicMode>()?, CyclicMode::Triangular2);
/// assert_eq!(CyclicMode::default(), CyclicMode::Triangular);
/// assert!("sine".parse::<CyclicMode>().is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CyclicMode {
    /// Constant amplitude: `scale(cycle) = 1`.
    #[default]
    Triangular,
    /// Amplitude halved every cycle: `scale(cycle) = 1 / 2^(cycle − 1)`.
    Triangular2,
    /// Amplitude decays every step: `scale(t) = gamma^t`.
    ExpRange,
}

impl FromStr for CyclicMode {
    type Err = Error;

    /// Parses torch's spelling: `"triangular"`, `"triangular2"`, `"exp_range"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other string.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "triangular" => Ok(CyclicMode::Triangular),
            "triangular2" => Ok(CyclicMode::Triangular2),
            "exp_range" => Ok(CyclicMode::ExpRange),
            other => Err(Error::invalid_config(format!(
                "CyclicLR mode {other:?} is invalid, expected triangular, triangular2 or exp_range"
            ))),
        }
    }
}

/// What a custom scale function of [`CyclicLr`] receives.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::ScaleMode;
///
/// assert_eq!("iterations".parse::<ScaleMode>()?, ScaleMode::Iterations);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScaleMode {
    /// The cycle number (1, 2, ...).
    #[default]
    Cycle,
    /// The step count since `init`.
    Iterations,
}

impl FromStr for ScaleMode {
    type Err = Error;

    /// Parses torch's spelling: `"cycle"`, `"iterations"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other string.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cycle" => Ok(ScaleMode::Cycle),
            "iterations" => Ok(ScaleMode::Iterations),
            other => Err(Error::invalid_config(format!(
                "scale_mode {other:?} is invalid, expected cycle or iterations"
            ))),
        }
    }
}

/// A custom amplitude scaling function for [`CyclicLr`] (torch `scale_fn`), with
/// `0 ≤ f(x) ≤ 1`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::ScaleFn;
///
/// let f: ScaleFn = std::sync::Arc::new(|cycle| 1.0 / cycle);
/// assert_eq!(f(4.0), 0.25);
/// ```
pub type ScaleFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// Cycles every group's lr between `base_lr` and `max_lr` along a triangle (and the
/// momentum inversely between `max_momentum` and `base_momentum`); meant to be stepped
/// after every batch.
///
/// With `S = step_size_up + step_size_down`, `r = step_size_up / S` and step `t`:
///
/// ```text
/// cycle = ⌊1 + t/S⌋,   x = 1 + t/S − cycle
/// f     = x / r                 if x ≤ r   (rising)
///       = (x − 1) / (r − 1)     otherwise  (falling)
/// lr    = base_lr + (max_lr − base_lr) · f · scale
/// m     = max_momentum − (max_momentum − base_momentum) · f · scale
/// ```
///
/// where `scale` is `1` (triangular), `1 / 2^(cycle−1)` (triangular2), `γ^t` (exp_range)
/// or a custom `scale_fn(cycle or t)`. Computed from `base_lr` (not chainable). At `init`
/// the lr is set to `base_lr` and the momentum to `max_momentum`, as torch's constructor
/// does.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `base_lr` | required | finite, `>= 0`; scalar or per group |
/// | `max_lr` | required | finite, `>= 0`; scalar or per group |
/// | `step_size_up` | 2000 | `>= 1` |
/// | `step_size_down` | `step_size_up` | `>= 0` |
/// | `mode` | `Triangular` | [`CyclicMode`] |
/// | `gamma` | 1.0 | finite, `> 0` |
/// | `scale_fn`, `scale_mode` | none, `Cycle` | overrides `mode` |
/// | `cycle_momentum` | true | |
/// | `base_momentum` | 0.8 | finite, `>= 0`; scalar or per group |
/// | `max_momentum` | 0.9 | finite, `>= 0`; scalar or per group |
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a value out of
/// range (`step_size_up == 0` divides by zero in torch). `init`:
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) when a per-group list does not
/// match the number of groups; [`Error::InvalidConfig`](crate::Error::InvalidConfig) when
/// `cycle_momentum` is on and a group has no momentum (torch's `ValueError`s).
///
/// Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017;
/// PyTorch `torch.optim.lr_scheduler.CyclicLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{CyclicLr, CyclicMode, GroupHparams, LrScheduler};
///
/// let mut s = CyclicLr::builder(0.1, 0.5).step_size_up(2).mode(CyclicMode::Triangular2).build()?;
/// let mut groups = [GroupHparams::new(1.0).with_momentum(0.9)];
/// s.init(&mut groups)?;
/// assert_eq!(groups[0].lr, 0.1);
/// let mut lrs = vec![];
/// for _ in 0..6 {
///     s.step(&mut groups, None)?;
///     lrs.push(groups[0].lr);
/// }
/// // up to 0.5 in 2 steps, down in 2, then a second cycle with half the amplitude
/// let want = [0.3, 0.5, 0.3, 0.1, 0.2, 0.3];
/// assert!(lrs.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));
/// assert!((groups[0].momentum.unwrap() - 0.85).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "CyclicLR")]
#[derive(Clone)]
pub struct CyclicLr {
    base_lr: PerGroup,
    max_lr: PerGroup,
    step_size_up: usize,
    step_size_down: usize,
    mode: CyclicMode,
    gamma: f64,
    scale_fn: Option<ScaleFn>,
    scale_mode: ScaleMode,
    cycle_momentum: bool,
    base_momentum: PerGroup,
    max_momentum: PerGroup,
    // state
    core: Core,
    max_lrs: Vec<f64>,
    base_momentums: Vec<f64>,
    max_momentums: Vec<f64>,
}

impl std::fmt::Debug for CyclicLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CyclicLr")
            .field("base_lr", &self.base_lr)
            .field("max_lr", &self.max_lr)
            .field("step_size_up", &self.step_size_up)
            .field("step_size_down", &self.step_size_down)
            .field("mode", &self.mode)
            .field("gamma", &self.gamma)
            .field("scale_fn", &self.scale_fn.as_ref().map(|_| "custom"))
            .field("scale_mode", &self.scale_mode)
            .field("cycle_momentum", &self.cycle_momentum)
            .field("base_momentum", &self.base_momentum)
            .field("max_momentum", &self.max_momentum)
            .field("last_epoch", &self.core.last_epoch)
            .finish()
    }
}

/// Builder of [`CyclicLr`].
#[derive(Clone)]
pub struct CyclicLrBuilder {
    base_lr: PerGroup,
    max_lr: PerGroup,
    step_size_up: usize,
    step_size_down: Option<usize>,
    mode: CyclicMode,
    gamma: f64,
    scale_fn: Option<(ScaleFn, ScaleMode)>,
    cycle_momentum: bool,
    base_momentum: PerGroup,
    max_momentum: PerGroup,
}

impl std::fmt::Debug for CyclicLrBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CyclicLrBuilder")
            .field("base_lr", &self.base_lr)
            .field("max_lr", &self.max_lr)
            .finish()
    }
}

impl CyclicLrBuilder {
    /// Steps in the rising half of a cycle (default 2000).
    pub fn step_size_up(mut self, v: usize) -> Self {
        self.step_size_up = v;
        self
    }

    /// Steps in the falling half (default: `step_size_up`).
    pub fn step_size_down(mut self, v: usize) -> Self {
        self.step_size_down = Some(v);
        self
    }

    /// Amplitude policy (default `Triangular`).
    pub fn mode(mut self, v: CyclicMode) -> Self {
        self.mode = v;
        self
    }

    /// Decay base of `ExpRange` (default 1.0).
    pub fn gamma(mut self, v: f64) -> Self {
        self.gamma = v;
        self
    }

    /// A custom amplitude scaling, evaluated on the cycle number or the step count;
    /// overrides `mode`.
    pub fn scale_fn(mut self, f: impl Fn(f64) -> f64 + Send + Sync + 'static, scale_mode: ScaleMode) -> Self {
        self.scale_fn = Some((Arc::new(f), scale_mode));
        self
    }

    /// Whether to cycle the momentum inversely to the lr (default true).
    pub fn cycle_momentum(mut self, v: bool) -> Self {
        self.cycle_momentum = v;
        self
    }

    /// Lower momentum bound, reached at the lr peak (default 0.8).
    pub fn base_momentum(mut self, v: impl Into<PerGroup>) -> Self {
        self.base_momentum = v.into();
        self
    }

    /// Upper momentum bound, at the start of a cycle (default 0.9).
    pub fn max_momentum(mut self, v: impl Into<PerGroup>) -> Self {
        self.max_momentum = v.into();
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`CyclicLr`].
    pub fn build(self) -> Result<CyclicLr> {
        let fin_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        self.base_lr.validate("base_lr", "finite and >= 0", fin_nonneg)?;
        self.max_lr.validate("max_lr", "finite and >= 0", fin_nonneg)?;
        check_count("step_size_up", self.step_size_up, 1, ">= 1")?;
        check_param("gamma", self.gamma, "finite and > 0", self.gamma.is_finite() && self.gamma > 0.0)?;
        if self.cycle_momentum {
            self.base_momentum.validate("base_momentum", "finite and >= 0", fin_nonneg)?;
            self.max_momentum.validate("max_momentum", "finite and >= 0", fin_nonneg)?;
        }
        let (scale_fn, scale_mode) = match self.scale_fn {
            Some((f, m)) => (Some(f), m),
            None => (
                None,
                match self.mode {
                    CyclicMode::Triangular | CyclicMode::Triangular2 => ScaleMode::Cycle,
                    CyclicMode::ExpRange => ScaleMode::Iterations,
                },
            ),
        };
        Ok(CyclicLr {
            base_lr: self.base_lr,
            max_lr: self.max_lr,
            step_size_up: self.step_size_up,
            step_size_down: self.step_size_down.unwrap_or(self.step_size_up),
            mode: self.mode,
            gamma: self.gamma,
            scale_fn,
            scale_mode,
            cycle_momentum: self.cycle_momentum,
            base_momentum: self.base_momentum,
            max_momentum: self.max_momentum,
            core: Core::new(),
            max_lrs: Vec::new(),
            base_momentums: Vec::new(),
            max_momentums: Vec::new(),
        })
    }
}

impl CyclicLr {
    /// `CyclicLR(base_lr, max_lr)` with torch's defaults.
    ///
    /// # Errors
    /// See [`CyclicLr`].
    pub fn new(base_lr: impl Into<PerGroup>, max_lr: impl Into<PerGroup>) -> Result<Self> {
        Self::builder(base_lr, max_lr).build()
    }

    /// A builder with torch's defaults.
    pub fn builder(base_lr: impl Into<PerGroup>, max_lr: impl Into<PerGroup>) -> CyclicLrBuilder {
        CyclicLrBuilder {
            base_lr: base_lr.into(),
            max_lr: max_lr.into(),
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: 1.0,
            scale_fn: None,
            cycle_momentum: true,
            base_momentum: PerGroup::All(0.8),
            max_momentum: PerGroup::All(0.9),
        }
    }

    /// The amplitude policy (ignored when a custom `scale_fn` is set).
    pub fn mode(&self) -> CyclicMode {
        self.mode
    }

    /// Whether the momentum is cycled.
    pub fn cycle_momentum(&self) -> bool {
        self.cycle_momentum
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    fn scale(&self, x: f64) -> f64 {
        match &self.scale_fn {
            Some(f) => f(x),
            None => match self.mode {
                CyclicMode::Triangular => 1.0,
                CyclicMode::Triangular2 => 1.0 / 2f64.powf(x - 1.0),
                CyclicMode::ExpRange => self.gamma.powf(x),
            },
        }
    }

    /// Writes the values of step `t` (torch `get_lr`).
    fn apply(&self, groups: &mut [GroupHparams], t: i64) {
        let total_size = (self.step_size_up + self.step_size_down) as f64;
        let step_ratio = self.step_size_up as f64 / total_size;
        let tf = t as f64;
        let cycle = (1.0 + tf / total_size).floor();
        let x = 1.0 + tf / total_size - cycle;
        let scale_factor = if x <= step_ratio { x / step_ratio } else { (x - 1.0) / (step_ratio - 1.0) };
        let s = self.scale(match self.scale_mode {
            ScaleMode::Cycle => cycle,
            ScaleMode::Iterations => tf,
        });
        for (i, g) in groups.iter_mut().enumerate() {
            let (base_lr, max_lr) = (self.core.base_lrs[i], self.max_lrs[i]);
            g.lr = base_lr + (max_lr - base_lr) * scale_factor * s;
            if self.cycle_momentum {
                let (bm, mm) = (self.base_momentums[i], self.max_momentums[i]);
                g.momentum = Some(mm - (mm - bm) * scale_factor * s);
            }
        }
    }
}

impl LrScheduler for CyclicLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "CyclicLr::init";
        check_nonempty(OP, groups)?;
        let n = groups.len();
        let base_lrs = self.base_lr.resolve(OP, "base_lr values (one per parameter group)", n)?;
        let max_lrs = self.max_lr.resolve(OP, "max_lr values (one per parameter group)", n)?;
        let (base_m, max_m) = if self.cycle_momentum {
            check_momentum("CyclicLR", groups)?;
            (
                self.base_momentum.resolve(OP, "base_momentum values (one per parameter group)", n)?,
                self.max_momentum.resolve(OP, "max_momentum values (one per parameter group)", n)?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        // torch: lr = base_lr, then setdefault(initial_lr, lr); momentum = max_momentum.
        for (g, &b) in groups.iter_mut().zip(&base_lrs) {
            g.lr = b;
            g.initial_lr.get_or_insert(b);
        }
        self.core.base_lrs = base_lrs;
        self.core.last_epoch = 0;
        self.max_lrs = max_lrs;
        self.base_momentums = base_m;
        self.max_momentums = max_m;
        self.apply(groups, 0);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        self.core.check("CyclicLr::step", groups)?;
        self.core.last_epoch += 1;
        self.apply(groups, self.core.last_epoch);
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        self.core.check("CyclicLr::restart", groups)?;
        self.core.last_epoch = 0;
        self.apply(groups, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn invalid_parameters() {
        assert!(matches!(
            CyclicLr::builder(0.1, 1.0).step_size_up(0).build(),
            Err(Error::InvalidParameter { name: "step_size_up", .. })
        ));
        assert!(matches!(CyclicLr::new(-0.1, 1.0), Err(Error::InvalidParameter { name: "base_lr", .. })));
        assert!(matches!(CyclicLr::new(0.1, f64::NAN), Err(Error::InvalidParameter { name: "max_lr", .. })));
        assert!(matches!(
            CyclicLr::builder(0.1, 1.0).gamma(0.0).build(),
            Err(Error::InvalidParameter { name: "gamma", .. })
        ));
        assert!(matches!(
            CyclicLr::builder(0.1, 1.0).base_momentum(-0.5).build(),
            Err(Error::InvalidParameter { name: "base_momentum", .. })
        ));
        assert!(matches!("cosine".parse::<CyclicMode>(), Err(Error::InvalidConfig(_))));
        assert_eq!("exp_range".parse::<CyclicMode>().unwrap(), CyclicMode::ExpRange);
        assert!(matches!("epochs".parse::<ScaleMode>(), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn init_errors_leave_groups_unchanged() {
        let mut s = CyclicLr::new(0.1, 1.0).unwrap();
        let mut g = groups(&[0.5]); // no momentum, cycle_momentum on by default
        assert!(matches!(s.init(&mut g), Err(Error::InvalidConfig(_))));
        assert_eq!(g[0], GroupHparams::new(0.5));
        let mut s = CyclicLr::builder(0.1, [1.0, 2.0]).cycle_momentum(false).build().unwrap();
        assert!(matches!(s.init(&mut g), Err(Error::LengthMismatch { expected: 1, got: 2, .. })));
        assert_eq!(g[0], GroupHparams::new(0.5));
    }

    #[test]
    fn exp_range_per_batch() {
        // base 0, max 1, up 2 / down 2, gamma 0.5, per batch: t = 1 -> 0.5 * 0.5^1 = 0.25,
        // t = 2 -> 1 * 0.5^2 = 0.25, t = 6 -> 1 * 0.5^6 = 0.015625.
        let mut s = CyclicLr::builder(0.0, 1.0)
            .step_size_up(2)
            .mode(CyclicMode::ExpRange)
            .gamma(0.5)
            .cycle_momentum(false)
            .build()
            .unwrap();
        let t = trajectory(&mut s, 9.0, 6);
        assert_eq!(t[0], 0.0);
        assert_close(t[1], 0.25);
        assert_close(t[2], 0.25);
        assert_close(t[6], 0.015625);
    }

    #[test]
    fn custom_scale_fn() {
        // scale = 1/cycle: second peak (t = 3, cycle 2) is base + (max - base) / 2 = 0.5.
        let mut s = CyclicLr::builder(0.0, 1.0)
            .step_size_up(1)
            .step_size_down(1)
            .scale_fn(|c| 1.0 / c, ScaleMode::Cycle)
            .cycle_momentum(false)
            .build()
            .unwrap();
        let t = trajectory(&mut s, 1.0, 3);
        assert_eq!(t, vec![0.0, 1.0, 0.0, 0.5]);
    }
}
