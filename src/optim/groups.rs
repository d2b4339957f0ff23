//! Parameter groups: [`ParamGroups`], one optimizer per group of parameters.

use std::fmt;
use std::sync::Arc;

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::model::{Mode, Module};
use crate::optim::{Optimizer, StateDict};
use crate::tensor::{Float, Param};

type Selector = Arc<dyn Fn(Param<'_>) -> bool + Send + Sync>;

/// Parameter groups (torch's `param_groups`): each group has its own optimizer, and so
/// its own learning rate, weight decay and other hyper-parameters.
///
/// A group is chosen per parameter by a predicate on its [`Param`] (name or id): the
/// groups added with [`group`](ParamGroups::group) are tried in order and the first
/// match wins; a parameter no predicate selects goes to the default group given to
/// [`new`](ParamGroups::new), which is the **last** group (index
/// [`len`](ParamGroups::len)` - 1`). It works with every optimizer, including your own:
/// `ParamGroups<O>` is itself an [`Optimizer`] that routes each tensor to its group's
/// optimizer, so state stays with the group. To mix optimizer types use
/// `O = Box<dyn Optimizer<F> + Send + Sync>`.
///
/// Schedulers see the groups through [`Optimizer::num_groups`],
/// [`group_lr`](Optimizer::group_lr) / [`set_group_lr`](Optimizer::set_group_lr) and
/// [`group_momentum`](Optimizer::group_momentum); [`set_lr`](Optimizer::set_lr) sets
/// every group, [`lr`](Optimizer::lr) reads group 0.
///
/// The state dict merges the groups' state dicts: per-parameter entries keep their
/// keys (`state.<id>.<field>`: ids are unique across groups), each group's
/// hyper-parameters become `param_groups.<g>.<name>`, and the ids owned by group `g`
/// are listed as `param_groups.<g>.params.<k>` (torch's `param_groups[g]["params"]`).
///
/// Unlike torch, the groups partition the parameters by predicate instead of by
/// explicit lists, so one configuration works for any model size.
///
/// # Errors
///
/// [`Optimizer::update`] returns the group optimizer's errors;
/// [`Optimizer::load_state_dict`] returns [`Error::InvalidInput`] for a state dict of a
/// different number of groups or with state of a parameter no group lists.
///
/// # Example: no weight decay on biases
///
/// ```
/// use ndarray::array;
/// use ndtrain::optim::{AdamW, ParamGroups};
/// use ndtrain::prelude::*;
///
/// let mut opt = ParamGroups::new(AdamW::builder().lr(1e-2).weight_decay(0.1).build()?)
///     .group(|p: Param<'_>| p.name.ends_with("bias"), AdamW::builder().lr(1e-2).weight_decay(0.0).build()?);
/// assert_eq!(opt.len(), 2);
/// assert_eq!(opt.group_of(Param::new(1, "0.bias")), 0);
/// assert_eq!(opt.group_of(Param::new(0, "0.weight")), 1); // the default group is last
///
/// // Zero gradients: only the decoupled weight decay moves a parameter.
/// let (mut w, mut b) = (array![1.0_f64].into_dyn(), array![1.0_f64].into_dyn());
/// let zero = array![0.0].into_dyn();
/// opt.update(Param::new(0, "0.weight"), w.view_mut(), zero.view())?;
/// opt.update(Param::new(1, "0.bias"), b.view_mut(), zero.view())?;
/// assert!((w[0] - 0.999).abs() < 1e-12);
/// assert_eq!(b[0], 1.0);
///
/// opt.set_group_lr(1, 1e-3); // a scheduler acting on the default group only
/// assert_eq!(opt.group_lr(0), 1e-2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone)]
pub struct ParamGroups<O> {
    /// `(selector, optimizer)`; the last entry is the default group (selector `None`).
    groups: Vec<(Option<Selector>, O)>,
}

impl<O> ParamGroups<O> {
    /// One group, `default`, holding every parameter.
    pub fn new(default: O) -> Self {
        ParamGroups { groups: vec![(None, default)] }
    }

    /// Adds a group of the parameters `select` accepts (among those no earlier group
    /// took), updated by `optimizer`. It is placed before the default group, after the
    /// groups added earlier.
    pub fn group(mut self, select: impl Fn(Param<'_>) -> bool + Send + Sync + 'static, optimizer: O) -> Self {
        let at = self.groups.len() - 1;
        self.groups.insert(at, (Some(Arc::new(select)), optimizer));
        self
    }

    /// Number of groups (the default group included).
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Always `false`: there is at least the default group.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Index of the group that updates `param`.
    pub fn group_of(&self, param: Param<'_>) -> usize {
        self.groups
            .iter()
            .position(|(sel, _)| sel.as_ref().is_none_or(|s| s(param)))
            .unwrap_or(self.groups.len() - 1)
    }

    /// The optimizer of group `g`.
    pub fn optimizer(&self, g: usize) -> Option<&O> {
        self.groups.get(g).map(|(_, o)| o)
    }

    /// The optimizer of group `g`, mutable (to change its hyper-parameters).
    pub fn optimizer_mut(&mut self, g: usize) -> Option<&mut O> {
        self.groups.get_mut(g).map(|(_, o)| o)
    }

    fn route(&mut self, param: Param<'_>) -> &mut O {
        let g = self.group_of(param);
        &mut self.groups[g].1
    }
}

impl<O: fmt::Debug> fmt::Debug for ParamGroups<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.groups.iter().map(|(_, o)| o)).finish()
    }
}

const GROUP_PREFIX: &str = "param_groups.0.";

/// Key of a group entry: `param_groups.0.x` → `param_groups.<g>.x`; other non-state keys
/// (a custom optimizer's) → `groups.<g>.<key>`.
fn outer_key(g: usize, key: &str) -> String {
    if key.starts_with("state.") {
        key.to_string()
    } else if let Some(rest) = key.strip_prefix(GROUP_PREFIX) {
        format!("param_groups.{g}.{rest}")
    } else {
        format!("groups.{g}.{key}")
    }
}

/// The inverse of [`outer_key`] for group `g`, or `None` if `key` is not group `g`'s.
fn inner_key(g: usize, key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix(&format!("param_groups.{g}.")) {
        return (!rest.starts_with("params.")).then(|| format!("{GROUP_PREFIX}{rest}"));
    }
    key.strip_prefix(&format!("groups.{g}.")).map(str::to_string)
}

/// The parameter id of a `state.<id>.<field>` key.
fn state_id(key: &str) -> Option<usize> {
    key.strip_prefix("state.")?.split_once('.')?.0.parse().ok()
}

impl<F: Float, O: Optimizer<F>> Optimizer<F> for ParamGroups<O> {
    fn update(
        &mut self,
        param: Param<'_>,
        value: ArrayViewMutD<'_, F>,
        grad: ArrayViewD<'_, F>,
    ) -> Result<()> {
        self.route(param).update(param, value, grad)
    }

    fn validate(&self, param: Param<'_>, value: ArrayViewD<'_, F>, grad: ArrayViewD<'_, F>) -> Result<()> {
        self.groups[self.group_of(param)].1.validate(param, value, grad)
    }

    fn begin_step(&mut self) {
        for (_, o) in &mut self.groups {
            o.begin_step();
        }
    }

    /// Each group swaps the parameters it holds state for (schedule-free groups).
    fn swap_params(&mut self, model: &mut dyn Module<F>, mode: Mode) -> Result<bool> {
        let mut swapped = false;
        for (_, o) in &mut self.groups {
            swapped |= o.swap_params(model, mode)?;
        }
        Ok(swapped)
    }

    /// The learning rate of group 0.
    fn lr(&self) -> F {
        self.groups[0].1.lr()
    }

    /// Sets the learning rate of every group.
    fn set_lr(&mut self, lr: F) {
        for (_, o) in &mut self.groups {
            o.set_lr(lr);
        }
    }

    fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// The learning rate of group `group` (NaN for a group index out of range).
    fn group_lr(&self, group: usize) -> F {
        self.groups.get(group).map_or_else(F::nan, |(_, o)| o.lr())
    }

    /// Sets the learning rate of group `group` (ignored out of range).
    fn set_group_lr(&mut self, group: usize, lr: F) {
        if let Some((_, o)) = self.groups.get_mut(group) {
            o.set_lr(lr);
        }
    }

    fn group_momentum(&self, group: usize) -> Option<F> {
        self.groups.get(group).and_then(|(_, o)| o.group_momentum(0))
    }

    fn set_group_momentum(&mut self, group: usize, momentum: F) {
        if let Some((_, o)) = self.groups.get_mut(group) {
            o.set_group_momentum(0, momentum);
        }
    }

    fn state_dict(&self) -> StateDict<F> {
        let mut out = StateDict::default();
        for (g, (_, o)) in self.groups.iter().enumerate() {
            let sd = o.state_dict();
            let mut ids: Vec<usize> = Vec::new();
            for (k, v) in sd.tensors {
                ids.extend(state_id(&k));
                out.tensors.push((outer_key(g, &k), v));
            }
            for (k, v) in sd.scalars {
                ids.extend(state_id(&k));
                out.scalars.push((outer_key(g, &k), v));
            }
            ids.sort_unstable();
            ids.dedup();
            for (k, id) in ids.into_iter().enumerate() {
                out.scalars.push((format!("param_groups.{g}.params.{k}"), id as f64));
            }
        }
        out
    }

    fn load_state_dict(&mut self, sd: &StateDict<F>) -> Result<()> {
        let op = "ParamGroups::load_state_dict";
        let n = self.groups.len();
        // Owner group of every parameter id, from the `params` lists.
        let mut owner: Vec<(usize, usize)> = Vec::new();
        for (k, v) in &sd.scalars {
            let Some(rest) = k.strip_prefix("param_groups.") else { continue };
            let Some((g, tail)) = rest.split_once('.') else { continue };
            if !tail.starts_with("params.") {
                continue;
            }
            let g: usize =
                g.parse().map_err(|_| Error::invalid_input(op, format!("malformed entry {k:?}")))?;
            if g >= n {
                return Err(Error::invalid_input(
                    op,
                    format!("entry {k:?} names group {g}, but there are {n} groups"),
                ));
            }
            if !(*v >= 0.0 && v.fract() == 0.0) {
                return Err(Error::invalid_input(op, format!("entry {k:?} = {v} is not a parameter id")));
            }
            owner.push((*v as usize, g));
        }
        let owner_of = |id: usize| owner.iter().find(|(i, _)| *i == id).map(|(_, g)| *g);
        // Split into one state dict per group; every entry must land in exactly one.
        let mut parts: Vec<StateDict<F>> = vec![StateDict::default(); n];
        let place = |k: &str| -> Result<Option<(usize, String)>> {
            if let Some(id) = state_id(k) {
                return match owner_of(id) {
                    Some(g) => Ok(Some((g, k.to_string()))),
                    None => {
                        Err(Error::invalid_input(op, format!("state of parameter {id} belongs to no group")))
                    }
                };
            }
            for g in 0..n {
                if let Some(inner) = inner_key(g, k) {
                    return Ok(Some((g, inner)));
                }
            }
            if k.starts_with("param_groups.") && k.contains(".params.") {
                return Ok(None); // the params lists, read above
            }
            Err(Error::invalid_input(op, format!("unexpected state dict entry {k:?} (for {n} groups)")))
        };
        for (k, v) in &sd.tensors {
            if let Some((g, key)) = place(k)? {
                parts[g].tensors.push((key, v.clone()));
            }
        }
        for (k, v) in &sd.scalars {
            if let Some((g, key)) = place(k)? {
                parts[g].scalars.push((key, *v));
            }
        }
        // Load group by group; if one fails, put the earlier ones back as they were.
        let backup: Vec<StateDict<F>> = self.groups.iter().map(|(_, o)| o.state_dict()).collect();
        for (g, part) in parts.iter().enumerate() {
            if let Err(e) = self.groups[g].1.load_state_dict(part) {
                for (h, saved) in backup.iter().enumerate().take(g) {
                    // Restoring a state the optimizer produced itself cannot fail.
                    let _ = self.groups[h].1.load_state_dict(saved);
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, Sgd};
    use ndarray::array;

    fn two_groups() -> ParamGroups<Sgd<f64>> {
        ParamGroups::new(Sgd::builder().lr(0.1).momentum(0.9).build().unwrap())
            .group(|p: Param<'_>| p.id == 1, Sgd::builder().lr(0.5).momentum(0.5).build().unwrap())
    }

    #[test]
    fn routes_and_exposes_group_hooks() {
        let mut opt = two_groups();
        let mut a = array![1.0].into_dyn();
        let mut b = array![1.0].into_dyn();
        let g = array![1.0].into_dyn();
        opt.update(Param::new(0, "a"), a.view_mut(), g.view()).unwrap();
        opt.update(Param::new(1, "b"), b.view_mut(), g.view()).unwrap();
        assert!((a[0] - 0.9).abs() < 1e-15 && (b[0] - 0.5).abs() < 1e-15);
        assert_eq!(Optimizer::<f64>::num_groups(&opt), 2);
        assert_eq!(opt.group_momentum(0), Some(0.5));
        opt.set_group_momentum(1, 0.0);
        assert_eq!(opt.optimizer(1).unwrap().momentum(), 0.0);
        assert!(opt.group_lr(7).is_nan());
    }

    #[test]
    fn state_dict_round_trip_and_errors() {
        let mut opt = two_groups();
        let mut a = array![1.0, 2.0].into_dyn();
        let mut b = array![1.0].into_dyn();
        let (ga, gb) = (array![1.0, -1.0].into_dyn(), array![2.0].into_dyn());
        opt.update(Param::new(0, "a"), a.view_mut(), ga.view()).unwrap();
        opt.update(Param::new(1, "b"), b.view_mut(), gb.view()).unwrap();
        let sd = opt.state_dict();
        assert_eq!(sd.scalar("param_groups.0.lr"), Some(0.5));
        assert_eq!(sd.scalar("param_groups.1.lr"), Some(0.1));
        assert_eq!(sd.scalar("param_groups.0.params.0"), Some(1.0));
        assert!(sd.tensor("state.0.momentum_buffer").is_some());

        let mut fresh = two_groups();
        fresh.load_state_dict(&sd).unwrap();
        assert_eq!(fresh.state_dict(), sd);

        // A state dict for one group does not fit two.
        let mut one = ParamGroups::new(Sgd::<f64>::default());
        assert!(one.load_state_dict(&sd).is_err());
        assert_eq!(Optimizer::<f64>::state_dict(&one), ParamGroups::new(Sgd::<f64>::default()).state_dict());

        // A bad second group leaves the first one as it was.
        let mut bad = sd.clone();
        for (k, v) in &mut bad.scalars {
            if k == "param_groups.1.momentum" {
                *v = -1.0;
            }
        }
        let mut target = two_groups();
        let before = target.state_dict();
        assert!(target.load_state_dict(&bad).is_err());
        assert_eq!(target.state_dict(), before);
    }

    #[test]
    fn boxed_optimizers_mix_types() {
        let mut opt: ParamGroups<Box<dyn Optimizer<f32> + Send + Sync>> =
            ParamGroups::new(Box::new(Adam::<f32>::default()) as Box<dyn Optimizer<f32> + Send + Sync>)
                .group(
                    |p: Param<'_>| p.name == "b",
                    Box::new(Sgd::<f32>::builder().lr(1.0).build().unwrap()),
                );
        let mut b = array![1.0f32].into_dyn();
        opt.update(Param::new(0, "b"), b.view_mut(), array![0.25f32].into_dyn().view()).unwrap();
        assert_eq!(b[0], 0.75);
        assert_eq!(opt.group_momentum(1), Some(0.9));
        assert_eq!(opt.group_momentum(0), Some(0.0)); // SGD always has a momentum (0 here)
    }
}
