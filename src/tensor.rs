//! The float bound, parameter handles and reusable buffers.
//!
//! * [`Float`]: one bound that makes the crate generic over `f32` and `f64`.
//! * [`Param`]: the identity of a parameter tensor (a stable id and a name such as
//!   `"0.weight"`), handed to optimizers next to the tensor and its gradient.
//! * [`Buffer`]: a growable tensor buffer that reuses its allocation, so steady-state
//!   training allocates nothing per batch (the last, smaller batch of an epoch fits
//!   in the capacity the full batches already allocated).

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{ArrayViewD, ArrayViewMutD, Dimension, IxDyn, LinalgScalar, ScalarOperand};
use num_traits::FromPrimitive;

use crate::error::{Error, Result};

/// The floating-point element type of every array ndtrain computes on: `f32` or `f64`.
///
/// A blanket implementation covers every type with the listed capabilities, so user
/// code writes `F: ndtrain::Float` and never lists them.
///
/// # Example
///
/// ```
/// use ndtrain::Float;
///
/// fn half<F: Float>(x: F) -> F {
///     x * F::from_f64(0.5).unwrap()
/// }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(half(3.0f64), 1.5);
/// ```
pub trait Float:
    num_traits::Float
    + FromPrimitive
    + ScalarOperand
    + LinalgScalar
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` literal or hyper-parameter (rounding to nearest for `f32`).
    #[inline]
    fn lit(x: f64) -> Self {
        // f64 -> f32/f64 conversion never fails (out-of-range values become ±inf).
        <Self as FromPrimitive>::from_f64(x).unwrap_or_else(Self::nan)
    }

    /// Converts to `f64` (exact for `f32` and `f64`).
    #[inline]
    fn as_f64(self) -> f64 {
        num_traits::ToPrimitive::to_f64(&self).unwrap_or(f64::NAN)
    }
}

impl<T> Float for T where
    T: num_traits::Float
        + FromPrimitive
        + ScalarOperand
        + LinalgScalar
        + AddAssign
        + SubAssign
        + MulAssign
        + DivAssign
        + Sum
        + Default
        + Debug
        + Display
        + Send
        + Sync
        + 'static
{
}

/// The random number generator ndtrain uses wherever it draws (weight init, dropout,
/// shuffling, splits): xoshiro256++, a fixed, documented algorithm, so a seed gives the
/// same stream on every platform and release of `rand`.
pub type SeededRng = rand::rngs::Xoshiro256PlusPlus;

/// `x`, or zero when `x` is subnormal (`0 < |x| <` the smallest normal float).
///
/// Moving averages of a gradient that has become exactly zero (an input column that is
/// almost always 0, a dead ReLU unit) decay geometrically into the subnormal range, and
/// arithmetic on subnormals is 10 to 100 times slower on x86 CPUs: in a digits MLP
/// with inputs scaled by `x/16` that doubled the time of a training step. Softmax
/// probabilities of an overfitted classifier underflow the same way and slow down the
/// backward matrix products. Those values are flushed as they are written, which
/// changes a value by less than `F::min_positive_value()` (`1.2e-38` in f32); NaN and
/// infinities pass through. The comparison compiles to a branch-free select, so vector loops stay
/// vectorized.
#[inline(always)]
pub(crate) fn flush_subnormal<F: Float>(x: F) -> F {
    if x.abs() < F::min_positive_value() { F::zero() } else { x }
}

/// A [`SeededRng`] from a `u64` seed.
///
/// # Example
///
/// ```
/// use rand::RngExt;
///
/// let mut a = ndtrain::seeded_rng(7);
/// let mut b = ndtrain::seeded_rng(7);
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn seeded_rng(seed: u64) -> SeededRng {
    rand::SeedableRng::seed_from_u64(seed)
}

/// Identity of one parameter tensor, passed to [`Optimizer::update`](crate::optim::Optimizer::update).
///
/// `id` is the tensor's position in the model's [`visit_params`](crate::model::Module::visit_params)
/// order (`0, 1, 2, ...`), stable for the life of the model; optimizers key their state
/// by it. `name` follows PyTorch's `named_parameters()` (`"weight"`, `"bias"`,
/// `"2.weight"` for layer 2 of a [`Sequential`](crate::model::Sequential)), so parameter
/// groups can select tensors by name (e.g. no weight decay on biases).
///
/// # Example
///
/// ```
/// use ndtrain::Param;
///
/// let p = Param::new(3, "1.bias");
/// assert_eq!(p.id, 3);
/// assert!(p.name.ends_with("bias"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    /// Position in the model's parameter order.
    pub id: usize,
    /// Dotted name, PyTorch style.
    pub name: &'a str,
}

impl<'a> Param<'a> {
    /// A parameter handle.
    pub const fn new(id: usize, name: &'a str) -> Self {
        Param { id, name }
    }
}

/// A tensor buffer that keeps its allocation: [`Buffer::reshape`] to a smaller or
/// equal size never allocates, so per-batch outputs and gradients cost nothing after
/// the first full batch.
///
/// # Example
///
/// ```
/// use ndtrain::Buffer;
///
/// let mut buf = Buffer::<f32>::default();
/// buf.reshape(&[128, 10]).fill(1.0);
/// let cap = buf.capacity();
/// buf.reshape(&[96, 10]); // the last partial batch reuses the allocation
/// assert_eq!(buf.capacity(), cap);
/// assert_eq!(buf.view().shape(), &[96, 10]);
/// ```
#[derive(Clone, Debug)]
pub struct Buffer<T> {
    data: Vec<T>,
    shape: Vec<usize>,
}

impl<T> Default for Buffer<T> {
    /// An empty buffer (shape `[0]`).
    fn default() -> Self {
        Buffer { data: Vec::new(), shape: vec![0] }
    }
}

impl<T: Clone + Default> Buffer<T> {
    /// An empty buffer (shape `[0]`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the shape and returns a mutable view of it. Contents are unspecified
    /// (left over from earlier use): callers overwrite every element.
    pub fn reshape(&mut self, shape: &[usize]) -> ArrayViewMutD<'_, T> {
        let n: usize = shape.iter().product();
        if self.data.len() < n {
            self.data.resize(n, T::default());
        }
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.view_mut()
    }

    /// The current contents.
    pub fn view(&self) -> ArrayViewD<'_, T> {
        let n: usize = self.shape.iter().product();
        ArrayViewD::from_shape(IxDyn(&self.shape), &self.data[..n])
            .expect("Buffer invariant: data holds at least prod(shape) elements")
    }

    /// The current contents, mutable.
    pub fn view_mut(&mut self) -> ArrayViewMutD<'_, T> {
        let n: usize = self.shape.iter().product();
        ArrayViewMutD::from_shape(IxDyn(&self.shape), &mut self.data[..n])
            .expect("Buffer invariant: data holds at least prod(shape) elements")
    }

    /// The current shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements allocated.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }
}

/// Returns `Err(ShapeMismatch)` unless `a` and `b` have the same shape.
///
/// # Example
///
/// ```
/// use ndarray::{Array2, Array1};
/// use ndtrain::tensor::same_shape;
///
/// let a = Array2::<f64>::zeros((2, 3));
/// assert!(same_shape("example", a.shape(), a.shape()).is_ok());
/// assert!(same_shape("example", a.shape(), &[3, 2]).is_err());
/// ```
pub fn same_shape(op: &'static str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { op, expected: expected.to_vec(), got: got.to_vec() })
    }
}

/// Returns `Err(NonFinite)` naming the first NaN or infinite element of `x`.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::tensor::check_finite;
///
/// let x = array![[1.0, f64::NAN]];
/// let err = check_finite("fit", "x", x.view().into_dyn()).unwrap_err();
/// assert!(err.to_string().contains("[0, 1]"));
/// ```
pub fn check_finite<F: Float>(op: &'static str, what: &'static str, x: ArrayViewD<'_, F>) -> Result<()> {
    // Fast path over contiguous memory; the indexed scan below runs only to name the
    // offending element (or for non-contiguous views).
    if let Some(slice) = x.as_slice_memory_order() {
        if slice.iter().all(|v| v.is_finite()) {
            return Ok(());
        }
    }
    for (index, v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite { op, what, value: v.as_f64(), index: index.slice().to_vec() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_grows_then_reuses() {
        let mut b = Buffer::<f64>::new();
        b.reshape(&[4, 3]).fill(2.0);
        assert_eq!(b.capacity(), 12);
        b.reshape(&[2, 3]);
        assert_eq!(b.capacity(), 12);
        assert_eq!(b.view().shape(), &[2, 3]);
        assert_eq!(b.view().sum(), 12.0);
        b.reshape(&[5, 3]);
        assert_eq!(b.capacity(), 15);
    }

    #[test]
    fn check_finite_reports_first_bad_index() {
        let x = ndarray::array![[1.0f32, 2.0], [f32::INFINITY, f32::NAN]];
        match check_finite("op", "x", x.view().into_dyn()) {
            Err(Error::NonFinite { index, .. }) => assert_eq!(index, vec![1, 0]),
            other => panic!("unexpected {other:?}"),
        }
        // Non-contiguous views take the slow path.
        let t = x.t();
        assert!(check_finite("op", "x", t.into_dyn()).is_err());
        assert!(check_finite("op", "x", x.slice(ndarray::s![0..1, ..]).into_dyn()).is_ok());
    }

    #[test]
    fn lit_round_trips() {
        assert_eq!(<f32 as Float>::lit(0.1), 0.1f32);
        assert_eq!(<f64 as Float>::lit(0.1).as_f64(), 0.1);
    }
}
