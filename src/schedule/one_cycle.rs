//! [`OneCycleLr`]: the 1cycle policy.

use std::f64::consts::PI;
use std::str::FromStr;

use super::{Core, GroupHparams, LrScheduler, PerGroup, check_momentum, check_nonempty, check_param};
use crate::error::{Error, Result};

/// How [`OneCycleLr`] interpolates within a phase.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::AnnealStrategy;
///
/// assert_eq!("linear".parse::<AnnealStrategy>()?, AnnealStrategy::Linear);
/// assert_eq!(AnnealStrategy::default(), AnnealStrategy::Cos);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AnnealStrategy {
    /// `end + (start − end)/2 · (1 + cos(π·pct))`.
    #[default]
    Cos,
    /// `start + (end − start)·pct`.
    Linear,
}

impl AnnealStrategy {
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

impl FromStr for AnnealStrategy {
    type Err = Error;

    /// Parses torch's spelling: `"cos"`, `"linear"`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any other string.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cos" => Ok(AnnealStrategy::Cos),
            "linear" => Ok(AnnealStrategy::Linear),
            other => Err(Error::invalid_config(format!(
                "anneal_strategy must be one of 'cos' or 'linear', instead got {other:?}"
            ))),
        }
    }
}

/// Which per-group value a phase starts or ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Initial,
    Max,
    Min,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Phase {
    end_step: f64,
    start_lr: Level,
    end_lr: Level,
    /// Momentum runs from `Max` (max_momentum) or `Min` (base_momentum).
    start_momentum: Level,
    end_momentum: Level,
}

/// The 1cycle policy: the lr rises from `max_lr / div_factor` to `max_lr` over the first
/// `pct_start` of `total_steps`, then anneals to `max_lr / (div_factor·final_div_factor)`;
/// the momentum moves inversely between `max_momentum` and `base_momentum`. Meant to be
/// stepped after every batch.
///
/// With `η_init = max_lr / div_factor`, `η_min = η_init / final_div_factor`, `T = total_steps`
/// and `p = pct_start`, step `t` falls in a phase `[s, e]` and
/// `lr = anneal(start, end, (t − s)/(e − s))`:
///
/// | phase | ends at step `e` | lr | momentum |
/// | --- | --- | --- | --- |
/// | 1 | `p·T − 1` | `η_init → max_lr` | `max → base` |
/// | 2 (two-phase) | `T − 1` | `max_lr → η_min` | `base → max` |
/// | 2 (three-phase) | `2p·T − 2` | `max_lr → η_init` | `base → max` |
/// | 3 (three-phase) | `T − 1` | `η_init → η_min` | `max → max` |
///
/// with `anneal` cosine (`end + (start − end)/2 · (1 + cos(π·pct))`) or linear. Computed
/// from the phase ends (not chainable). `init` sets `initial_lr = η_init` in every group
/// and the momentum to `max_momentum`, as torch's constructor does.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `max_lr` | required | finite, `>= 0`; scalar or per group |
/// | `total_steps` | required (or `epochs · steps_per_epoch`) | `>= 1` |
/// | `pct_start` | 0.3 | `[0, 1]` |
/// | `anneal_strategy` | `Cos` | [`AnnealStrategy`] |
/// | `cycle_momentum` | true | |
/// | `base_momentum` | 0.85 | finite, `>= 0`; scalar or per group |
/// | `max_momentum` | 0.95 | finite, `>= 0`; scalar or per group |
/// | `div_factor` | 25 | finite, `> 0` |
/// | `final_div_factor` | 1e4 | finite, `> 0` |
/// | `three_phase` | false | |
///
/// As in torch, stepping up to `t = total_steps` is allowed (the last phase is then
/// extrapolated one step); stepping further is an error.
///
/// # Errors
/// `build`: [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a value out of
/// range (`total_steps`, `epochs` or `steps_per_epoch` of 0, `pct_start` outside `[0, 1]`);
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when neither `total_steps` nor
/// both `epochs` and `steps_per_epoch` are given, or when a phase has zero length at step
/// 0 (`pct_start · total_steps == 1`: torch divides by zero). `init`:
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for a per-group list of the
/// wrong length; [`Error::InvalidConfig`](crate::Error::InvalidConfig) when
/// `cycle_momentum` is on and a group has no momentum. `step`:
/// [`Error::InvalidInput`](crate::Error::InvalidInput) past `total_steps` (torch's
/// `ValueError`); [`Error::InvalidConfig`](crate::Error::InvalidConfig) on a zero-length
/// last phase.
///
/// Reference: Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks
/// Using Large Learning Rates", 2017; PyTorch `torch.optim.lr_scheduler.OneCycleLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{AnnealStrategy, GroupHparams, LrScheduler, OneCycleLr};
///
/// let mut s = OneCycleLr::builder(1.0)
///     .total_steps(11)
///     .pct_start(0.5)
///     .anneal_strategy(AnnealStrategy::Linear)
///     .div_factor(10.0)
///     .build()?;
/// let mut groups = [GroupHparams::new(0.5).with_momentum(0.9)];
/// s.init(&mut groups)?;
/// assert_eq!((groups[0].lr, groups[0].momentum), (0.1, Some(0.95)));
/// for _ in 0..5 {
///     s.step(&mut groups, None)?; // phase 1 ends at step 0.5 * 11 - 1 = 4.5
/// }
/// assert!(groups[0].lr < 1.0 && groups[0].lr > 0.9);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "OneCycleLR")]
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleLr {
    max_lr: PerGroup,
    total_steps: usize,
    pct_start: f64,
    anneal_strategy: AnnealStrategy,
    cycle_momentum: bool,
    base_momentum: PerGroup,
    max_momentum: PerGroup,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
    phases: Vec<Phase>,
    // state: per group [initial_lr, max_lr, min_lr] and [base_momentum, max_momentum]
    core: Core,
    lrs: Vec<[f64; 3]>,
    momentums: Vec<[f64; 2]>,
}

/// Builder of [`OneCycleLr`].
#[derive(Clone, Debug)]
pub struct OneCycleLrBuilder {
    max_lr: PerGroup,
    total_steps: Option<usize>,
    epochs: Option<usize>,
    steps_per_epoch: Option<usize>,
    pct_start: f64,
    anneal_strategy: AnnealStrategy,
    cycle_momentum: bool,
    base_momentum: PerGroup,
    max_momentum: PerGroup,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
}

impl OneCycleLrBuilder {
    /// Total number of steps in the cycle (takes precedence over `epochs`).
    pub fn total_steps(mut self, v: usize) -> Self {
        self.total_steps = Some(v);
        self
    }

    /// Number of epochs (with `steps_per_epoch`, when `total_steps` is not given).
    pub fn epochs(mut self, v: usize) -> Self {
        self.epochs = Some(v);
        self
    }

    /// Steps per epoch (with `epochs`).
    pub fn steps_per_epoch(mut self, v: usize) -> Self {
        self.steps_per_epoch = Some(v);
        self
    }

    /// Fraction of the cycle spent increasing the lr (default 0.3).
    pub fn pct_start(mut self, v: f64) -> Self {
        self.pct_start = v;
        self
    }

    /// Interpolation within phases (default `Cos`).
    pub fn anneal_strategy(mut self, v: AnnealStrategy) -> Self {
        self.anneal_strategy = v;
        self
    }

    /// Whether to cycle the momentum inversely to the lr (default true).
    pub fn cycle_momentum(mut self, v: bool) -> Self {
        self.cycle_momentum = v;
        self
    }

    /// Momentum at the lr peak (default 0.85).
    pub fn base_momentum(mut self, v: impl Into<PerGroup>) -> Self {
        self.base_momentum = v.into();
        self
    }

    /// Momentum at the start and end (default 0.95).
    pub fn max_momentum(mut self, v: impl Into<PerGroup>) -> Self {
        self.max_momentum = v.into();
        self
    }

    /// `initial_lr = max_lr / div_factor` (default 25).
    pub fn div_factor(mut self, v: f64) -> Self {
        self.div_factor = v;
        self
    }

    /// `min_lr = initial_lr / final_div_factor` (default 1e4).
    pub fn final_div_factor(mut self, v: f64) -> Self {
        self.final_div_factor = v;
        self
    }

    /// Use the paper's three phases instead of fastai's two (default false).
    pub fn three_phase(mut self, v: bool) -> Self {
        self.three_phase = v;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// See [`OneCycleLr`].
    pub fn build(self) -> Result<OneCycleLr> {
        let total_steps = match (self.total_steps, self.epochs, self.steps_per_epoch) {
            (Some(t), _, _) => {
                check_param("total_steps", t as f64, ">= 1", t >= 1)?;
                t
            }
            (None, Some(e), Some(s)) => {
                check_param("epochs", e as f64, ">= 1", e >= 1)?;
                check_param("steps_per_epoch", s as f64, ">= 1", s >= 1)?;
                e.checked_mul(s).ok_or_else(|| Error::invalid_config("epochs * steps_per_epoch overflows"))?
            }
            _ => {
                return Err(Error::invalid_config(
                    "OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)",
                ));
            }
        };
        let p = self.pct_start;
        check_param("pct_start", p, "[0, 1]", (0.0..=1.0).contains(&p))?;
        let fin_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        self.max_lr.validate("max_lr", "finite and >= 0", fin_nonneg)?;
        let fin_pos = |v: f64| v.is_finite() && v > 0.0;
        check_param("div_factor", self.div_factor, "finite and > 0", fin_pos(self.div_factor))?;
        check_param(
            "final_div_factor",
            self.final_div_factor,
            "finite and > 0",
            fin_pos(self.final_div_factor),
        )?;
        if self.cycle_momentum {
            self.base_momentum.validate("base_momentum", "finite and >= 0", fin_nonneg)?;
            self.max_momentum.validate("max_momentum", "finite and >= 0", fin_nonneg)?;
        }
        let t = total_steps as f64;
        use Level::*;
        let phases = if self.three_phase {
            vec![
                Phase {
                    end_step: p * t - 1.0,
                    start_lr: Initial,
                    end_lr: Max,
                    start_momentum: Max,
                    end_momentum: Min,
                },
                Phase {
                    end_step: 2.0 * p * t - 2.0,
                    start_lr: Max,
                    end_lr: Initial,
                    start_momentum: Min,
                    end_momentum: Max,
                },
                Phase {
                    end_step: t - 1.0,
                    start_lr: Initial,
                    end_lr: Min,
                    start_momentum: Max,
                    end_momentum: Max,
                },
            ]
        } else {
            vec![
                Phase {
                    end_step: p * t - 1.0,
                    start_lr: Initial,
                    end_lr: Max,
                    start_momentum: Max,
                    end_momentum: Min,
                },
                Phase {
                    end_step: t - 1.0,
                    start_lr: Max,
                    end_lr: Min,
                    start_momentum: Min,
                    end_momentum: Max,
                },
            ]
        };
        let s = OneCycleLr {
            max_lr: self.max_lr,
            total_steps,
            pct_start: p,
            anneal_strategy: self.anneal_strategy,
            cycle_momentum: self.cycle_momentum,
            base_momentum: self.base_momentum,
            max_momentum: self.max_momentum,
            div_factor: self.div_factor,
            final_div_factor: self.final_div_factor,
            three_phase: self.three_phase,
            phases,
            core: Core::new(),
            lrs: Vec::new(),
            momentums: Vec::new(),
        };
        // torch computes step 0 in its constructor and raises on a zero-length phase.
        s.locate(0).map_err(|_| {
            Error::invalid_config(format!(
                "OneCycleLR: pct_start * total_steps = {} leaves a zero-length phase at step 0",
                p * t
            ))
        })?;
        Ok(s)
    }
}

impl OneCycleLr {
    /// `OneCycleLR(max_lr, total_steps)` with torch's defaults.
    ///
    /// # Errors
    /// See [`OneCycleLr`].
    pub fn new(max_lr: impl Into<PerGroup>, total_steps: usize) -> Result<Self> {
        Self::builder(max_lr).total_steps(total_steps).build()
    }

    /// A builder with torch's defaults; set `total_steps`, or `epochs` and
    /// `steps_per_epoch`.
    pub fn builder(max_lr: impl Into<PerGroup>) -> OneCycleLrBuilder {
        OneCycleLrBuilder {
            max_lr: max_lr.into(),
            total_steps: None,
            epochs: None,
            steps_per_epoch: None,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: PerGroup::All(0.85),
            max_momentum: PerGroup::All(0.95),
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    /// Total number of steps in the cycle.
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }

    /// Fraction of the cycle spent increasing the lr.
    pub fn pct_start(&self) -> f64 {
        self.pct_start
    }

    /// Whether the three-phase variant is used.
    pub fn three_phase(&self) -> bool {
        self.three_phase
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    /// The phase of step `t` and the fraction of it done.
    fn locate(&self, t: i64) -> Result<(Phase, f64)> {
        let tf = t as f64;
        let mut start_step = 0.0;
        let last = self.phases.len() - 1;
        for (i, ph) in self.phases.iter().enumerate() {
            if tf <= ph.end_step || i == last {
                let len = ph.end_step - start_step;
                if len == 0.0 {
                    return Err(Error::invalid_config(format!(
                        "OneCycleLR: phase {} has zero length at step {t}",
                        i + 1
                    )));
                }
                return Ok((*ph, (tf - start_step) / len));
            }
            start_step = ph.end_step;
        }
        // Not reached: the last phase always matches.
        Err(Error::invalid_config("OneCycleLR: no phase"))
    }

    fn apply(&self, groups: &mut [GroupHparams], t: i64) -> Result<()> {
        let (ph, pct) = self.locate(t)?;
        let a = self.anneal_strategy;
        for (i, g) in groups.iter_mut().enumerate() {
            let [initial, max, min] = self.lrs[i];
            let lv = |l: Level| match l {
                Level::Initial => initial,
                Level::Max => max,
                Level::Min => min,
            };
            g.lr = a.anneal(lv(ph.start_lr), lv(ph.end_lr), pct);
            if self.cycle_momentum {
                let [base_m, max_m] = self.momentums[i];
                let mv = |l: Level| if l == Level::Max { max_m } else { base_m };
                g.momentum = Some(a.anneal(mv(ph.start_momentum), mv(ph.end_momentum), pct));
            }
        }
        Ok(())
    }
}

impl LrScheduler for OneCycleLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "OneCycleLr::init";
        check_nonempty(OP, groups)?;
        let n = groups.len();
        let max_lrs = self.max_lr.resolve(OP, "max_lr values (one per parameter group)", n)?;
        let momentums = if self.cycle_momentum {
            check_momentum("OneCycleLR", groups)?;
            let b = self.base_momentum.resolve(OP, "base_momentum values (one per parameter group)", n)?;
            let m = self.max_momentum.resolve(OP, "max_momentum values (one per parameter group)", n)?;
            b.into_iter().zip(m).map(|(b, m)| [b, m]).collect()
        } else {
            Vec::new()
        };
        let lrs: Vec<[f64; 3]> = max_lrs
            .iter()
            .map(|&m| {
                let initial = m / self.div_factor;
                [initial, m, initial / self.final_div_factor]
            })
            .collect();
        // torch overwrites initial_lr (not setdefault).
        for (g, l) in groups.iter_mut().zip(&lrs) {
            g.initial_lr = Some(l[0]);
        }
        self.core.base_lrs = lrs.iter().map(|l| l[0]).collect();
        self.core.last_epoch = 0;
        self.lrs = lrs;
        self.momentums = momentums;
        // Step 0 was checked by build.
        self.apply(groups, 0)
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        const OP: &str = "OneCycleLr::step";
        self.core.check(OP, groups)?;
        let t = self.core.last_epoch + 1;
        if t > self.total_steps as i64 {
            return Err(Error::invalid_input(
                OP,
                format!(
                    "tried to step {t} times, the specified number of total steps is {}",
                    self.total_steps
                ),
            ));
        }
        self.locate(t)?;
        self.core.last_epoch = t;
        self.apply(groups, t)
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        self.core.check("OneCycleLr::restart", groups)?;
        self.core.last_epoch = 0;
        self.apply(groups, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn invalid_parameters() {
        assert!(matches!(OneCycleLr::new(0.1, 0), Err(Error::InvalidParameter { name: "total_steps", .. })));
        assert!(matches!(OneCycleLr::builder(0.1).build(), Err(Error::InvalidConfig(_))));
        assert!(matches!(OneCycleLr::builder(0.1).epochs(3).build(), Err(Error::InvalidConfig(_))));
        assert!(matches!(
            OneCycleLr::builder(0.1).epochs(0).steps_per_epoch(3).build(),
            Err(Error::InvalidParameter { name: "epochs", .. })
        ));
        for p in [-0.1, 1.1, f64::NAN] {
            assert!(matches!(
                OneCycleLr::builder(0.1).total_steps(10).pct_start(p).build(),
                Err(Error::InvalidParameter { name: "pct_start", .. })
            ));
        }
        assert!(matches!(
            OneCycleLr::builder(0.1).total_steps(10).div_factor(0.0).build(),
            Err(Error::InvalidParameter { name: "div_factor", .. })
        ));
        assert!(matches!(OneCycleLr::new(-1.0, 10), Err(Error::InvalidParameter { name: "max_lr", .. })));
        // pct_start * total_steps == 1: zero-length first phase.
        assert!(matches!(
            OneCycleLr::builder(0.1).total_steps(10).pct_start(0.1).build(),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!("cosine".parse::<AnnealStrategy>(), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn epochs_times_steps() {
        let s = OneCycleLr::builder(0.1).epochs(4).steps_per_epoch(25).build().unwrap();
        assert_eq!(s.total_steps(), 100);
    }

    #[test]
    fn hand_checked_two_phase_cos() {
        // max_lr 1, total 11, pct 0.5 (phase 1 ends at 4.5), div 10 -> initial 0.1,
        // final_div 100 -> min 0.001. Step 10 is the end of phase 2: min lr, max momentum.
        // Step 7: pct = (7 - 4.5) / (10 - 4.5) = 5/11; lr = 0.001 + 0.999/2 (1 + cos(5pi/11)).
        let mut s = OneCycleLr::builder(1.0)
            .total_steps(11)
            .pct_start(0.5)
            .div_factor(10.0)
            .final_div_factor(100.0)
            .build()
            .unwrap();
        let mut g = [GroupHparams::new(0.3).with_momentum(0.9)];
        s.init(&mut g).unwrap();
        assert_eq!(g[0].initial_lr, Some(0.1));
        let mut lrs = vec![g[0].lr];
        for _ in 0..10 {
            s.step(&mut g, None).unwrap();
            lrs.push(g[0].lr);
        }
        assert_close(lrs[0], 0.1);
        assert_close(lrs[7], 0.001 + 0.999 / 2.0 * (1.0 + (5.0 * PI / 11.0).cos()));
        assert_close(lrs[10], 0.001);
        assert_close(g[0].momentum.unwrap(), 0.95);
        // Step 11 = total_steps is allowed (extrapolates), step 12 is not.
        s.step(&mut g, None).unwrap();
        let before = g;
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidInput { .. })));
        assert_eq!(g, before);
        assert_eq!(s.last_epoch(), 11);
    }

    #[test]
    fn three_phase_linear_hits_levels() {
        // total 20, pct 0.25: phase ends 4, 8, 19. Linear: t = 4 -> max, t = 8 -> initial, t = 19 -> min.
        let mut s = OneCycleLr::builder(2.0)
            .total_steps(20)
            .pct_start(0.25)
            .anneal_strategy(AnnealStrategy::Linear)
            .three_phase(true)
            .cycle_momentum(false)
            .build()
            .unwrap();
        let t = trajectory(&mut s, 0.0, 19);
        assert_close(t[4], 2.0);
        assert_close(t[8], 0.08);
        assert_close(t[19], 0.08 / 1e4);
        assert_close(t[2], 0.08 + (2.0 - 0.08) * 0.5);
    }
}
