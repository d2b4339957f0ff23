//! Schedules from user closures: [`LambdaLr`] and [`MultiplicativeLr`].

use std::sync::Arc;

use super::{Core, GroupHparams, LrScheduler};
use crate::error::{Error, Result};

/// A user function of the step count (torch's `lr_lambda`), returning a factor.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use ndtrain::schedule::{LambdaLr, LrLambda};
///
/// let per_group: Vec<LrLambda> = vec![Arc::new(|t| 0.9f64.powi(t as i32)), Arc::new(|_| 1.0)];
/// let s = LambdaLr::per_group(per_group)?;
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub type LrLambda = Arc<dyn Fn(u64) -> f64 + Send + Sync>;

/// The lambdas for `n` groups.
fn resolve<'a>(
    op: &'static str,
    lambdas: &'a [LrLambda],
    n: usize,
) -> Result<impl Fn(usize) -> &'a LrLambda> {
    if lambdas.len() != 1 && lambdas.len() != n {
        return Err(Error::LengthMismatch {
            op,
            what: "lr_lambdas (one per parameter group)",
            expected: n,
            got: lambdas.len(),
        });
    }
    Ok(move |g: usize| if lambdas.len() == 1 { &lambdas[0] } else { &lambdas[g] })
}

/// Evaluates every group's factor at `t` into `out`, checking each is finite.
fn factors(op: &'static str, lambdas: &[LrLambda], t: i64, out: &mut [f64]) -> Result<()> {
    let pick = resolve(op, lambdas, out.len())?;
    for (g, o) in out.iter_mut().enumerate() {
        let f = pick(g)(t.max(0) as u64);
        if !f.is_finite() {
            return Err(Error::InvalidValue {
                op,
                what: "lr_lambda(epoch)",
                value: f,
                expected: "a finite factor",
            });
        }
        *o = f;
    }
    Ok(())
}

fn check_lambdas(lambdas: &[LrLambda]) -> Result<()> {
    if lambdas.is_empty() {
        Err(Error::invalid_config("lr_lambda: expected at least one function"))
    } else {
        Ok(())
    }
}

/// Sets every group's lr to its base lr times a user function of the step count.
///
/// `η_t = η₀ · λ(t)`, from `t = 0` at `init` (so `λ(0)` applies at once, as in torch).
/// One function for every group, or one per group.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `lr_lambda` | required | `Fn(u64) -> f64`, one or one per group |
///
/// # Errors
/// `per_group`: [`Error::InvalidConfig`](crate::Error::InvalidConfig) for an empty list.
/// `init`: [`Error::LengthMismatch`](crate::Error::LengthMismatch) when the number of
/// per-group functions is not the number of groups (torch's `ValueError`). `init` /
/// `step`: [`Error::InvalidValue`](crate::Error::InvalidValue) when a function returns a
/// non-finite factor (deviation: torch sets the NaN or infinite lr).
///
/// Reference: PyTorch `torch.optim.lr_scheduler.LambdaLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LambdaLr, LrScheduler};
///
/// // Linear warm-up over 4 steps, then constant.
/// let mut s = LambdaLr::new(|epoch| ((epoch + 1) as f64 / 4.0).min(1.0));
/// let mut groups = [GroupHparams::new(0.4)];
/// s.init(&mut groups)?;
/// assert_eq!(groups[0].lr, 0.1);
/// for _ in 0..5 {
///     s.step(&mut groups, None)?;
/// }
/// assert_eq!(groups[0].lr, 0.4);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "LambdaLR")]
#[derive(Clone)]
pub struct LambdaLr {
    lambdas: Vec<LrLambda>,
    core: Core,
    scratch: Vec<f64>,
}

impl std::fmt::Debug for LambdaLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaLr").field("lambdas", &self.lambdas.len()).field("core", &self.core).finish()
    }
}

impl LambdaLr {
    /// One function for every group.
    pub fn new(lr_lambda: impl Fn(u64) -> f64 + Send + Sync + 'static) -> Self {
        LambdaLr { lambdas: vec![Arc::new(lr_lambda)], core: Core::new(), scratch: Vec::new() }
    }

    /// One function per group, in group order.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for an empty list.
    pub fn per_group(lr_lambdas: Vec<LrLambda>) -> Result<Self> {
        check_lambdas(&lr_lambdas)?;
        Ok(LambdaLr { lambdas: lr_lambdas, core: Core::new(), scratch: Vec::new() })
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    fn set_from_base(&mut self, op: &'static str, groups: &mut [GroupHparams], t: i64) -> Result<()> {
        factors(op, &self.lambdas, t, &mut self.scratch)?;
        for ((g, &b), &f) in groups.iter_mut().zip(&self.core.base_lrs).zip(&self.scratch) {
            g.lr = b * f;
        }
        Ok(())
    }
}

impl LrScheduler for LambdaLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "LambdaLr::init";
        let base = Core::base_lrs_of(OP, groups)?;
        let mut scratch = vec![0.0; groups.len()];
        factors(OP, &self.lambdas, 0, &mut scratch)?;
        self.core.commit_init(groups, base);
        for ((g, &b), &f) in groups.iter_mut().zip(&self.core.base_lrs).zip(&scratch) {
            g.lr = b * f;
        }
        self.scratch = scratch;
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        const OP: &str = "LambdaLr::step";
        self.core.check(OP, groups)?;
        let t = self.core.last_epoch + 1;
        self.set_from_base(OP, groups, t)?;
        self.core.last_epoch = t;
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "LambdaLr::restart";
        self.core.check(OP, groups)?;
        self.set_from_base(OP, groups, 0)?;
        self.core.last_epoch = 0;
        Ok(())
    }
}

/// Multiplies every group's lr by a user function of the step count at every step.
///
/// `η_t = η_{t-1} · λ(t)` for `t ≥ 1`; the lr is unchanged at `init`. One function for
/// every group, or one per group. Chainable.
///
/// | name | default | range |
/// | --- | --- | --- |
/// | `lr_lambda` | required | `Fn(u64) -> f64`, one or one per group |
///
/// # Errors
/// As [`LambdaLr`].
///
/// Reference: PyTorch `torch.optim.lr_scheduler.MultiplicativeLR`.
///
/// # Example
///
/// ```
/// use ndtrain::schedule::{GroupHparams, LrScheduler, MultiplicativeLr};
///
/// let mut s = MultiplicativeLr::new(|_| 0.5);
/// let mut groups = [GroupHparams::new(1.0)];
/// s.init(&mut groups)?;
/// s.step(&mut groups, None)?;
/// s.step(&mut groups, None)?;
/// assert_eq!(groups[0].lr, 0.25);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "MultiplicativeLR")]
#[derive(Clone)]
pub struct MultiplicativeLr {
    lambdas: Vec<LrLambda>,
    core: Core,
    scratch: Vec<f64>,
}

impl std::fmt::Debug for MultiplicativeLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiplicativeLr")
            .field("lambdas", &self.lambdas.len())
            .field("core", &self.core)
            .finish()
    }
}

impl MultiplicativeLr {
    /// One function for every group.
    pub fn new(lr_lambda: impl Fn(u64) -> f64 + Send + Sync + 'static) -> Self {
        MultiplicativeLr { lambdas: vec![Arc::new(lr_lambda)], core: Core::new(), scratch: Vec::new() }
    }

    /// One function per group, in group order.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for an empty list.
    pub fn per_group(lr_lambdas: Vec<LrLambda>) -> Result<Self> {
        check_lambdas(&lr_lambdas)?;
        Ok(MultiplicativeLr { lambdas: lr_lambdas, core: Core::new(), scratch: Vec::new() })
    }

    /// Steps taken since `init` (torch `last_epoch`; -1 before `init`).
    pub fn last_epoch(&self) -> i64 {
        self.core.last_epoch
    }

    fn multiply(&mut self, op: &'static str, groups: &mut [GroupHparams], t: i64) -> Result<()> {
        factors(op, &self.lambdas, t, &mut self.scratch)?;
        for (g, &f) in groups.iter_mut().zip(&self.scratch) {
            g.lr *= f;
        }
        Ok(())
    }
}

impl LrScheduler for MultiplicativeLr {
    fn init(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        const OP: &str = "MultiplicativeLr::init";
        let base = Core::base_lrs_of(OP, groups)?;
        let _ = resolve(OP, &self.lambdas, groups.len())?;
        self.scratch = vec![0.0; groups.len()];
        self.core.commit_init(groups, base);
        Ok(())
    }

    fn step(&mut self, groups: &mut [GroupHparams], _metric: Option<f64>) -> Result<()> {
        const OP: &str = "MultiplicativeLr::step";
        self.core.check(OP, groups)?;
        let t = self.core.last_epoch + 1;
        self.multiply(OP, groups, t)?;
        self.core.last_epoch = t;
        Ok(())
    }

    fn restart(&mut self, groups: &mut [GroupHparams]) -> Result<()> {
        // torch's `_update_lr(0)` without a closed form: lr * lambda(0).
        const OP: &str = "MultiplicativeLr::restart";
        self.core.check(OP, groups)?;
        self.multiply(OP, groups, 0)?;
        self.core.last_epoch = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn per_group_lambdas_and_length_check() {
        // group 0: 0.95^t, group 1: t // 2 (torch docs' example shapes). t = 4: 0.8145..., 2.
        let l: Vec<LrLambda> = vec![Arc::new(|t| 0.95f64.powi(t as i32)), Arc::new(|t| (t / 2) as f64)];
        let mut s = LambdaLr::per_group(l).unwrap();
        let mut g = groups(&[1.0, 1.0]);
        s.init(&mut g).unwrap();
        assert_eq!((g[0].lr, g[1].lr), (1.0, 0.0));
        for _ in 0..4 {
            s.step(&mut g, None).unwrap();
        }
        assert_close(g[0].lr, 0.81450625);
        assert_eq!(g[1].lr, 2.0);
        let mut three = groups(&[1.0; 3]);
        assert!(matches!(s.init(&mut three), Err(Error::LengthMismatch { expected: 3, got: 2, .. })));
        assert!(matches!(LambdaLr::per_group(vec![]), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn non_finite_factor_is_an_error_and_changes_nothing() {
        let mut s = LambdaLr::new(|t| if t == 2 { f64::NAN } else { 1.0 / (t + 1) as f64 });
        let mut g = groups(&[1.0]);
        s.init(&mut g).unwrap();
        s.step(&mut g, None).unwrap();
        assert!(matches!(s.step(&mut g, None), Err(Error::InvalidValue { .. })));
        assert_eq!((g[0].lr, s.last_epoch()), (0.5, 1));
        let mut m = MultiplicativeLr::new(|_| f64::INFINITY);
        m.init(&mut g).unwrap();
        assert!(matches!(m.step(&mut g, None), Err(Error::InvalidValue { .. })));
        assert_eq!(g[0].lr, 0.5);
    }

    #[test]
    fn multiplicative_per_batch() {
        // 0.9 per batch for 10 batches: 0.9^10 = 0.3486784401
        let t = trajectory(&mut MultiplicativeLr::new(|_| 0.9), 1.0, 10);
        assert_close(t[10], 0.3486784401);
    }
}
