//! Shared pieces of the torch.optim family: hyper-parameter checks, placement of state
//! tensors in memory, and reading / writing [`StateDict`]s.

use ndarray::{Array1, ArrayD, ArrayViewD, IxDyn, Slice};

use crate::error::{Error, Result};
use crate::optim::{StateDict, StateMap};
use crate::tensor::{Float, same_shape};

// ---------------------------------------------------------------------------------------
// Hyper-parameter checks. Written as `!(lo <= x)` so NaN is rejected, as torch's
// `if not 0.0 <= x: raise ValueError` does.
// ---------------------------------------------------------------------------------------

fn invalid(name: &'static str, value: f64, expected: &'static str) -> Error {
    Error::InvalidParameter { name, value, expected }
}

/// `x >= 0`.
pub(crate) fn check_nonneg(name: &'static str, x: f64) -> Result<()> {
    if 0.0 <= x { Ok(()) } else { Err(invalid(name, x, ">= 0")) }
}

/// `0 <= x < 1`.
pub(crate) fn check_unit_open(name: &'static str, x: f64) -> Result<()> {
    if (0.0..1.0).contains(&x) { Ok(()) } else { Err(invalid(name, x, "[0, 1)")) }
}

/// `0 <= x <= 1`.
pub(crate) fn check_unit_closed(name: &'static str, x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) { Ok(()) } else { Err(invalid(name, x, "[0, 1]")) }
}

/// Not NaN (any other value, infinities included, is accepted).
pub(crate) fn check_not_nan(name: &'static str, x: f64) -> Result<()> {
    if x.is_nan() { Err(invalid(name, x, "a number (not NaN)")) } else { Ok(()) }
}

/// Every state tensor has the parameter's shape.
pub(crate) fn check_state_shapes<F>(op: &'static str, param: &[usize], state: &[&ArrayD<F>]) -> Result<()> {
    for s in state {
        same_shape(op, param, s.shape())?;
    }
    Ok(())
}

/// `Optimizer::validate` of an optimizer with state: the gradient, and the state tensors
/// of the parameter if it has any, have the parameter's shape.
pub(crate) fn check_update<F, const N: usize>(
    op: &'static str,
    value: &[usize],
    grad: &[usize],
    state: Option<[&ArrayD<F>; N]>,
) -> Result<()> {
    same_shape(op, value, grad)?;
    match state {
        Some(s) => check_state_shapes(op, value, &s),
        None => Ok(()),
    }
}

/// Torch's `lerp(self, end, weight)` on CPU, element by element: two formulas, chosen
/// by `|weight| < 0.5`, so that `weight = 1` gives `end` exactly.
#[inline(always)]
pub(crate) fn lerp<F: Float>(start: F, end: F, weight: F, weight_small: bool) -> F {
    if weight_small { start + weight * (end - start) } else { end - (end - start) * (F::one() - weight) }
}

/// `torch.maximum(a, b)` element: the larger, NaN if either is NaN.
#[inline(always)]
pub(crate) fn max_nan<F: Float>(a: F, b: F) -> F {
    if a > b {
        a
    } else if b >= a {
        b
    } else {
        a + b
    }
}

/// The bias correction `1 − β^t` in f64, as torch (in Python) and optax compute it.
#[inline]
pub(crate) fn bias_correction(beta: f64, t: u64) -> f64 {
    1.0 - beta.powf(t as f64)
}

/// Bias corrections `(1 - β1^t, 1 - β2^t)`.
pub(crate) fn bias_corrections(beta1: f64, beta2: f64, step: u64) -> (f64, f64) {
    (bias_correction(beta1, step), bias_correction(beta2, step))
}

// ---------------------------------------------------------------------------------------
// Placement of state tensors.
//
// A fused update streams the parameter, its gradient and one to three state tensors. When
// their start addresses are equal modulo 4 KiB (every large allocation is a fresh mmap,
// page aligned plus the allocator's 16-byte header), the loads and stores of the streams
// collide in the same L1 sets and in the CPU's 4K-alias check: the W1 Adam step ran 4x
// slower that way on the project's benchmark machine (see the crate's benchmark notes).
// Large state tensors are therefore over-allocated by 4 KiB and started at an offset that
// keeps them, modulo 4 KiB, as far as possible from the parameter, the gradient and the
// other state tensors of the same parameter.
// ---------------------------------------------------------------------------------------

const PAGE: usize = 4096;
/// Below this many bytes a tensor is left where the allocator puts it (it lives in cache
/// anyway, and 4 KiB of padding would dominate its size).
const PLACE_MIN_BYTES: usize = 16 * 1024;
/// The page offset glibc gives a large (mmap'd) allocation; assumed for the parameter and
/// gradient when their addresses are unknown (state restored by `load_state_dict`).
const TYPICAL_OFFSET: usize = 16;

/// Chooses page offsets for the state tensors of one parameter.
pub(crate) struct Placer {
    used: [usize; 8],
    n: usize,
}

impl Placer {
    /// A placer that keeps state away from the given tensors (parameter, gradient).
    pub(crate) fn new<F>(avoid: &[*const F]) -> Self {
        let mut p = Placer { used: [0; 8], n: 0 };
        for &a in avoid.iter().take(4) {
            p.push((a as usize) % PAGE);
        }
        if p.n == 0 {
            p.push(TYPICAL_OFFSET);
        }
        p
    }

    /// A placer for state restored without the parameter at hand.
    pub(crate) fn unknown() -> Self {
        Self::new::<u8>(&[])
    }

    fn push(&mut self, off: usize) {
        if self.n < self.used.len() {
            self.used[self.n] = off;
            self.n += 1;
        }
    }

    /// The page offset farthest (circularly) from every offset used so far, among the
    /// 64-byte steps from the first one (so alignment is kept).
    fn next_offset(&mut self) -> usize {
        let base = self.used[0];
        let mut best = (0usize, base);
        for j in 0..PAGE / 64 {
            let cand = (base + j * 64) % PAGE;
            let dist = self.used[..self.n]
                .iter()
                .map(|&u| {
                    let d = cand.abs_diff(u);
                    d.min(PAGE - d)
                })
                .min()
                .unwrap_or(PAGE);
            if dist > best.0 {
                best = (dist, cand);
            }
        }
        self.push(best.1);
        best.1
    }

    /// A tensor of `shape` filled with `value`, placed as described above.
    pub(crate) fn full<F: Float>(&mut self, shape: &[usize], value: F) -> ArrayD<F> {
        let n: usize = shape.iter().product();
        let size = std::mem::size_of::<F>();
        if n * size < PLACE_MIN_BYTES {
            return ArrayD::from_elem(IxDyn(shape), value);
        }
        let target = self.next_offset();
        let pad = PAGE / size;
        let mut buf = Array1::from_elem(n + pad, value);
        let start = buf.as_ptr() as usize % PAGE;
        let skip = ((target + PAGE - start) % PAGE) / size;
        buf.slice_axis_inplace(ndarray::Axis(0), Slice::from(skip..skip + n));
        // A contiguous 1-D array reshapes without copying (the offset is kept).
        match buf.into_shape_with_order(IxDyn(shape)) {
            Ok(a) => a,
            Err(_) => ArrayD::from_elem(IxDyn(shape), value),
        }
    }

    /// Zeros of `shape`, placed.
    pub(crate) fn zeros<F: Float>(&mut self, shape: &[usize]) -> ArrayD<F> {
        self.full(shape, F::zero())
    }

    /// A placed copy of `a`.
    pub(crate) fn copy_of<F: Float>(&mut self, a: ArrayViewD<'_, F>) -> ArrayD<F> {
        let mut out = self.zeros(a.shape());
        out.assign(&a);
        out
    }
}

// ---------------------------------------------------------------------------------------
// State dicts.
// ---------------------------------------------------------------------------------------

/// Key of a group hyper-parameter (`param_groups.0.lr`).
pub(crate) fn hyper_key(name: &str) -> String {
    format!("param_groups.0.{name}")
}

/// Key of a per-parameter entry (`state.3.exp_avg`).
pub(crate) fn state_key(id: usize, field: &str) -> String {
    format!("state.{id}.{field}")
}

/// Builds a state dict.
pub(crate) struct Writer<F> {
    pub(crate) sd: StateDict<F>,
}

impl<F: Float> Writer<F> {
    pub(crate) fn new() -> Self {
        Writer { sd: StateDict::default() }
    }

    /// `param_groups.0.<name>`.
    pub(crate) fn hyper(&mut self, name: &str, v: f64) -> &mut Self {
        self.sd.scalars.push((hyper_key(name), v));
        self
    }

    /// `param_groups.0.<name>` for a flag (1 or 0).
    pub(crate) fn flag(&mut self, name: &str, v: bool) -> &mut Self {
        self.hyper(name, if v { 1.0 } else { 0.0 })
    }

    /// `state.<id>.<field>` scalar.
    pub(crate) fn scalar(&mut self, id: usize, field: &str, v: f64) -> &mut Self {
        self.sd.scalars.push((state_key(id, field), v));
        self
    }

    /// `state.<id>.<field>` tensor (copied).
    pub(crate) fn tensor(&mut self, id: usize, field: &str, a: &ArrayD<F>) -> &mut Self {
        // `to_owned` makes a standard-layout copy without the placement padding.
        self.sd.tensors.push((state_key(id, field), a.to_owned()));
        self
    }

    /// `state.<id>.step`.
    pub(crate) fn step(&mut self, id: usize, step: u64) -> &mut Self {
        self.scalar(id, "step", step as f64)
    }

    /// `state.<id>.<field>` tensors, in order.
    pub(crate) fn tensors(&mut self, id: usize, fields: &[(&str, &ArrayD<F>)]) -> &mut Self {
        for (field, a) in fields {
            self.tensor(id, field, a);
        }
        self
    }

    pub(crate) fn finish(self) -> StateDict<F> {
        self.sd
    }
}

/// Reads a state dict, tracking which entries were used so unknown ones are reported.
pub(crate) struct Reader<'a, F> {
    op: &'static str,
    sd: &'a StateDict<F>,
    used_t: Vec<bool>,
    used_s: Vec<bool>,
}

impl<'a, F: Float> Reader<'a, F> {
    pub(crate) fn new(op: &'static str, sd: &'a StateDict<F>) -> Self {
        Reader { op, sd, used_t: vec![false; sd.tensors.len()], used_s: vec![false; sd.scalars.len()] }
    }

    fn err(&self, msg: impl std::fmt::Display) -> Error {
        Error::invalid_input(self.op, msg)
    }

    fn find_scalar(&mut self, key: &str) -> Result<f64> {
        match self.sd.scalars.iter().position(|(k, _)| k == key) {
            Some(i) => {
                self.used_s[i] = true;
                Ok(self.sd.scalars[i].1)
            }
            None => Err(self.err(format!("state dict has no entry {key:?}"))),
        }
    }

    /// `param_groups.0.<name>` (required).
    pub(crate) fn hyper(&mut self, name: &str) -> Result<f64> {
        self.find_scalar(&hyper_key(name))
    }

    /// `param_groups.0.<name>`, if present.
    pub(crate) fn opt_hyper(&mut self, name: &str) -> Option<f64> {
        self.find_scalar(&hyper_key(name)).ok()
    }

    /// `param_groups.0.<name>` as a flag: exactly 0 or 1.
    pub(crate) fn flag(&mut self, name: &str) -> Result<bool> {
        let key = hyper_key(name);
        match self.find_scalar(&key)? {
            0.0 => Ok(false),
            1.0 => Ok(true),
            v => Err(self.err(format!("entry {key:?} = {v} must be 0 or 1"))),
        }
    }

    /// Every parameter id with a `state.<id>.` entry, ascending.
    pub(crate) fn ids(&self) -> Result<Vec<usize>> {
        let mut ids = Vec::new();
        let keys = self.sd.tensors.iter().map(|(k, _)| k).chain(self.sd.scalars.iter().map(|(k, _)| k));
        for k in keys {
            if let Some(rest) = k.strip_prefix("state.") {
                let id = rest
                    .split_once('.')
                    .and_then(|(id, _)| id.parse::<usize>().ok())
                    .ok_or_else(|| self.err(format!("malformed state entry {k:?}")))?;
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// `state.<id>.<field>` scalar (required).
    pub(crate) fn scalar(&mut self, id: usize, field: &str) -> Result<f64> {
        self.find_scalar(&state_key(id, field))
    }

    /// `state.<id>.step`: a non-negative integer.
    pub(crate) fn step(&mut self, id: usize) -> Result<u64> {
        let v = self.scalar(id, "step")?;
        if v >= 0.0 && v.fract() == 0.0 && v < 9.007_199_254_740_992e15 {
            Ok(v as u64)
        } else {
            Err(self.err(format!("state.{id}.step = {v} is not a step count")))
        }
    }

    /// `state.<id>.<field>` tensor, if present.
    pub(crate) fn opt_tensor(&mut self, id: usize, field: &str) -> Option<&'a ArrayD<F>> {
        let key = state_key(id, field);
        let i = self.sd.tensors.iter().position(|(k, _)| *k == key)?;
        self.used_t[i] = true;
        Some(&self.sd.tensors[i].1)
    }

    /// `state.<id>.<field>` tensor (required).
    pub(crate) fn tensor(&mut self, id: usize, field: &str) -> Result<&'a ArrayD<F>> {
        self.opt_tensor(id, field)
            .ok_or_else(|| self.err(format!("state dict has no tensor state.{id}.{field}")))
    }

    /// `state.<id>.<field>` tensor with the shape `shape` (required).
    pub(crate) fn tensor_shaped(&mut self, id: usize, field: &str, shape: &[usize]) -> Result<&'a ArrayD<F>> {
        let t = self.tensor(id, field)?;
        if t.shape() != shape {
            return Err(self.err(format!(
                "state.{id}.{field} has shape {:?}, expected {shape:?} (the shape of the other state of parameter {id})",
                t.shape()
            )));
        }
        Ok(t)
    }

    /// Placed copies of the `state.<id>.<field>` tensors (all required, all of the first
    /// one's shape), in order.
    pub(crate) fn placed<const N: usize>(&mut self, id: usize, fields: [&str; N]) -> Result<[ArrayD<F>; N]> {
        Ok(self.placed_with(id, fields, [])?.0)
    }

    /// As [`placed`](Self::placed), and then the `optional` tensors whose flag is on
    /// (required then, of the first tensor's shape; `None` when the flag is off). All
    /// are placed together.
    #[allow(clippy::type_complexity)]
    pub(crate) fn placed_with<const N: usize, const M: usize>(
        &mut self,
        id: usize,
        fields: [&str; N],
        optional: [(&str, bool); M],
    ) -> Result<([ArrayD<F>; N], [Option<ArrayD<F>>; M])> {
        let mut found: Vec<&'a ArrayD<F>> = Vec::with_capacity(N);
        for field in fields {
            let t = match found.first() {
                None => self.tensor(id, field)?,
                Some(first) => self.tensor_shaped(id, field, first.shape())?,
            };
            found.push(t);
        }
        let mut extra: Vec<Option<&'a ArrayD<F>>> = Vec::with_capacity(M);
        for (field, on) in optional {
            let shape = found.first().map(|t| t.shape().to_vec());
            extra.push(match (on, shape) {
                (false, _) => None,
                (true, Some(shape)) => Some(self.tensor_shaped(id, field, &shape)?),
                (true, None) => Some(self.tensor(id, field)?),
            });
        }
        let mut placer = Placer::unknown();
        let required = std::array::from_fn(|k| placer.copy_of(found[k].view()));
        let optional = std::array::from_fn(|k| extra[k].map(|t| placer.copy_of(t.view())));
        Ok((required, optional))
    }

    /// The state of every parameter in the state dict, each read by `read(self, id)`;
    /// then checks that every entry was read ([`finish`](Self::finish)).
    pub(crate) fn states<S>(
        &mut self,
        mut read: impl FnMut(&mut Self, usize) -> Result<S>,
    ) -> Result<StateMap<S>> {
        let mut state = StateMap::default();
        for id in self.ids()? {
            let s = read(self, id)?;
            state.insert(id, s);
        }
        self.finish()?;
        Ok(state)
    }

    /// Errors if any entry was not read (an unknown key, or state of an option that is off).
    pub(crate) fn finish(&self) -> Result<()> {
        let unused = self
            .sd
            .tensors
            .iter()
            .zip(&self.used_t)
            .map(|((k, _), u)| (k, u))
            .chain(self.sd.scalars.iter().zip(&self.used_s).map(|((k, _), u)| (k, u)))
            .find(|(_, u)| !**u);
        match unused {
            Some((k, _)) => Err(self.err(format!("unexpected state dict entry {k:?}"))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placed_tensors_are_staggered_and_zero() {
        let p = vec![1.0f32; 100_000];
        let g = vec![0.5f32; 100_000];
        let mut placer = Placer::new(&[p.as_ptr(), g.as_ptr()]);
        let m: ArrayD<f32> = placer.zeros(&[100, 1000]);
        let v: ArrayD<f32> = placer.zeros(&[100, 1000]);
        assert_eq!(m.shape(), &[100, 1000]);
        assert!(m.is_standard_layout() && m.iter().all(|&x| x == 0.0));
        let offs = [p.as_ptr() as usize, g.as_ptr() as usize, m.as_ptr() as usize, v.as_ptr() as usize]
            .map(|a| a % PAGE);
        for i in 0..4 {
            for j in i + 1..4 {
                let d = offs[i].abs_diff(offs[j]);
                // p and g are where the allocator put them; the state keeps >= 512 bytes away.
                if i >= 2 || j >= 2 {
                    assert!(d.min(PAGE - d) >= 512, "offsets {offs:?}");
                }
            }
        }
        // A clone keeps the values (and is a valid array).
        let c = v.clone();
        assert_eq!(c.shape(), v.shape());
    }

    #[test]
    fn small_tensors_are_plain() {
        let mut placer = Placer::unknown();
        let a: ArrayD<f64> = placer.full(&[3, 2], 0.25);
        assert_eq!(a, ArrayD::from_elem(IxDyn(&[3, 2]), 0.25));
        let z: ArrayD<f64> = placer.zeros(&[]);
        assert_eq!(z.len(), 1);
    }

    #[test]
    fn checks_reject_nan_and_out_of_range() {
        assert!(check_nonneg("lr", 0.0).is_ok());
        assert_eq!(check_nonneg("lr", f64::NAN).unwrap_err().to_string(), "invalid lr = NaN, expected >= 0");
        assert!(check_unit_open("betas[0]", 1.0).is_err());
        assert!(check_unit_closed("rho", 1.0).is_ok());
        assert!(check_not_nan("t0", f64::INFINITY).is_ok());
    }

    #[test]
    fn reader_reports_missing_and_unknown_entries() {
        let mut w = Writer::<f64>::new();
        w.hyper("lr", 0.5).scalar(3, "step", 2.0).tensor(3, "exp_avg", &ArrayD::zeros(IxDyn(&[2])));
        let mut sd = w.finish();
        sd.scalars.push(("junk".into(), 1.0));
        let mut r = Reader::new("op", &sd);
        assert_eq!(r.hyper("lr").unwrap(), 0.5);
        assert_eq!(r.ids().unwrap(), vec![3]);
        assert_eq!(r.step(3).unwrap(), 2);
        assert!(r.tensor(3, "exp_avg_sq").is_err());
        assert!(r.tensor_shaped(3, "exp_avg", &[3]).is_err());
        let e = r.finish().unwrap_err().to_string();
        assert!(e.contains("junk"), "{e}");
    }
}
