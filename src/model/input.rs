//! Input kinds: what a [`Model`](super::Model) takes in its forward pass.
//!
//! A model is generic over the *kind* of its input, a marker type implementing
//! [`Input`]: [`Floats`] (one float array, the default), [`Indices`] (one array of
//! `usize` ids: tokens, categories, positions) or a tuple of kinds (`(Floats, Indices)`,
//! up to three) for a model with several inputs. The kind fixes the type of the batch
//! `forward` receives ([`Input::View`]) and tells the [`Trainer`](crate::train::Trainer)
//! how to validate, batch and copy the data, so integer ids travel as integers from
//! the user's array to the [`Embedding`](super::Embedding) that reads them.
//!
//! [`AsInput`] converts what a user passes to `fit`, `evaluate` or `predict` (an
//! `Array`, an `ArrayView` of any dimension, or a tuple of them) into that view.
//!
//! ```
//! use ndarray::{array, Array2};
//! use ndtrain::model::{AsInput, Floats, Indices, Input};
//!
//! let x = Array2::<f32>::zeros((4, 3));
//! let ids = array![[1usize, 2], [3, 4], [5, 6], [7, 8]];
//! let v = AsInput::<f32, Floats>::as_input(&x);
//! assert_eq!(v.shape(), &[4, 3]);
//! let data = (&x, &ids);
//! let both = AsInput::<f32, (Floats, Indices)>::as_input(&data);
//! assert_eq!(<(Floats, Indices) as Input<f32>>::rows("example", &both)?, 4);
//! # Ok::<(), ndtrain::Error>(())
//! ```

use ndarray::{ArrayBase, ArrayD, ArrayViewD, Axis, Data, Dimension, Slice};

use crate::data::gather_rows_into;
use crate::error::{Error, Result};
use crate::tensor::{Buffer, Float, check_finite};

/// The kind of input a model takes, and how the trainer handles data of that kind.
///
/// Implemented by the markers [`Floats`] and [`Indices`] and by tuples of kinds. Every
/// method works on the view type, so batching a tuple batches each member with the
/// same rows. A custom kind (e.g. a struct of arrays) implements the same methods.
pub trait Input<F: Float>: 'static {
    /// The batch `forward` receives.
    type View<'a>: Clone;
    /// An owned copy (validation data the trainer keeps).
    type Owned: Clone + Send + Sync;
    /// Reusable storage for gathered batches.
    type Batch: Default + Send + Sync;

    /// The number of samples (rows along axis 0); every member of a tuple must agree.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a 0-dimensional array, [`Error::LengthMismatch`]
    /// when the members of a tuple have different numbers of rows.
    fn rows(op: &'static str, x: &Self::View<'_>) -> Result<usize>;

    /// Checks the data before training: [`rows`](Input::rows), and finite floats.
    ///
    /// # Errors
    /// As `rows`, and [`Error::NonFinite`] for a NaN or infinite float.
    fn validate(op: &'static str, x: &Self::View<'_>) -> Result<usize>;

    /// Rows `start..end` (in place, no copy).
    fn slice<'s>(x: &'s Self::View<'_>, start: usize, end: usize) -> Self::View<'s>;

    /// Whether every member is in standard (C-contiguous) layout, so that a slice of
    /// consecutive rows can be used in place.
    fn is_standard_layout(x: &Self::View<'_>) -> bool;

    /// Copies rows `rows` (in order) into `buf` and returns a view of them. Allocates
    /// only while `buf` grows.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a row index out of range.
    fn gather<'b>(x: &Self::View<'_>, rows: &[usize], buf: &'b mut Self::Batch) -> Result<Self::View<'b>>;

    /// An owned copy.
    fn to_owned(x: &Self::View<'_>) -> Self::Owned;

    /// A view of an owned copy.
    fn view(x: &Self::Owned) -> Self::View<'_>;

    /// The number of parts (arrays) in a view: 1, or the members of a tuple. Models that
    /// route each part separately ([`Graph`](super::Graph)) use this and
    /// [`part`](Input::part); a custom kind that returns 0 is not supported by them.
    fn num_parts() -> usize {
        0
    }

    /// The kind of part `k`.
    fn part_kind(k: usize) -> Option<PartKind> {
        let _ = k;
        None
    }

    /// Part `k` of a view.
    fn part<'s>(x: &'s Self::View<'_>, k: usize) -> Option<Part<'s, F>> {
        let _ = (x, k);
        None
    }
}

/// The kind of one array of an input: floats or integer ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartKind {
    /// A float array ([`Floats`]).
    Floats,
    /// An array of `usize` ids ([`Indices`]).
    Indices,
}

/// One array of an input, floats or ids.
#[derive(Clone, Debug)]
pub enum Part<'a, F> {
    /// A float array.
    Floats(ArrayViewD<'a, F>),
    /// An array of `usize` ids.
    Indices(ArrayViewD<'a, usize>),
}

/// The input kind of a model that takes one float array (the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Floats {}

/// The input kind of a model that takes one array of integer ids (`usize`): token ids,
/// category codes. They are never converted to floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Indices {}

fn array_rows<T>(op: &'static str, x: &ArrayViewD<'_, T>) -> Result<usize> {
    if x.ndim() == 0 {
        return Err(Error::ShapeMismatch { op, expected: vec![0], got: vec![] });
    }
    Ok(x.len_of(Axis(0)))
}

fn slice_rows<'s, T>(x: &'s ArrayViewD<'_, T>, start: usize, end: usize) -> ArrayViewD<'s, T> {
    x.slice_axis(Axis(0), Slice::from(start..end))
}

impl<F: Float> Input<F> for Floats {
    type View<'a> = ArrayViewD<'a, F>;
    type Owned = ArrayD<F>;
    type Batch = Buffer<F>;

    fn rows(op: &'static str, x: &ArrayViewD<'_, F>) -> Result<usize> {
        array_rows(op, x)
    }
    fn validate(op: &'static str, x: &ArrayViewD<'_, F>) -> Result<usize> {
        let n = array_rows(op, x)?;
        check_finite(op, "x", x.view())?;
        Ok(n)
    }
    fn slice<'s>(x: &'s Self::View<'_>, start: usize, end: usize) -> Self::View<'s> {
        slice_rows(x, start, end)
    }
    fn is_standard_layout(x: &ArrayViewD<'_, F>) -> bool {
        x.is_standard_layout()
    }
    fn gather<'b>(
        x: &ArrayViewD<'_, F>,
        rows: &[usize],
        buf: &'b mut Buffer<F>,
    ) -> Result<ArrayViewD<'b, F>> {
        gather_rows_into(x.view(), rows, buf)?;
        Ok(buf.view())
    }
    fn to_owned(x: &ArrayViewD<'_, F>) -> ArrayD<F> {
        x.to_owned()
    }
    fn view(x: &ArrayD<F>) -> ArrayViewD<'_, F> {
        x.view()
    }
    fn num_parts() -> usize {
        1
    }
    fn part_kind(k: usize) -> Option<PartKind> {
        (k == 0).then_some(PartKind::Floats)
    }
    fn part<'s>(x: &'s Self::View<'_>, k: usize) -> Option<Part<'s, F>> {
        (k == 0).then(|| Part::Floats(x.view()))
    }
}

impl<F: Float> Input<F> for Indices {
    type View<'a> = ArrayViewD<'a, usize>;
    type Owned = ArrayD<usize>;
    type Batch = Buffer<usize>;

    fn rows(op: &'static str, x: &ArrayViewD<'_, usize>) -> Result<usize> {
        array_rows(op, x)
    }
    /// Ids are checked against their range by the layer that reads them.
    fn validate(op: &'static str, x: &ArrayViewD<'_, usize>) -> Result<usize> {
        array_rows(op, x)
    }
    fn slice<'s>(x: &'s Self::View<'_>, start: usize, end: usize) -> Self::View<'s> {
        slice_rows(x, start, end)
    }
    fn is_standard_layout(x: &ArrayViewD<'_, usize>) -> bool {
        x.is_standard_layout()
    }
    fn gather<'b>(
        x: &ArrayViewD<'_, usize>,
        rows: &[usize],
        buf: &'b mut Buffer<usize>,
    ) -> Result<ArrayViewD<'b, usize>> {
        gather_rows_into(x.view(), rows, buf)?;
        Ok(buf.view())
    }
    fn to_owned(x: &ArrayViewD<'_, usize>) -> ArrayD<usize> {
        x.to_owned()
    }
    fn view(x: &ArrayD<usize>) -> ArrayViewD<'_, usize> {
        x.view()
    }
    fn num_parts() -> usize {
        1
    }
    fn part_kind(k: usize) -> Option<PartKind> {
        (k == 0).then_some(PartKind::Indices)
    }
    fn part<'s>(x: &'s Self::View<'_>, k: usize) -> Option<Part<'s, F>> {
        (k == 0).then(|| Part::Indices(x.view()))
    }
}

fn same_rows(op: &'static str, first: usize, other: usize) -> Result<()> {
    if first == other {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            op,
            what: "rows of every input (must be equal)",
            expected: first,
            got: other,
        })
    }
}

macro_rules! tuple_input {
    ($($name:ident $idx:tt),+) => {
        impl<F: Float, $($name: Input<F>),+> Input<F> for ($($name,)+) {
            type View<'a> = ($($name::View<'a>,)+);
            type Owned = ($($name::Owned,)+);
            type Batch = ($($name::Batch,)+);

            fn rows(op: &'static str, x: &Self::View<'_>) -> Result<usize> {
                let n = A::rows(op, &x.0)?;
                $( same_rows(op, n, $name::rows(op, &x.$idx)?)?; )+
                Ok(n)
            }
            fn validate(op: &'static str, x: &Self::View<'_>) -> Result<usize> {
                let n = Self::rows(op, x)?;
                $( $name::validate(op, &x.$idx)?; )+
                Ok(n)
            }
            fn slice<'s>(x: &'s Self::View<'_>, start: usize, end: usize) -> Self::View<'s> {
                ($($name::slice(&x.$idx, start, end),)+)
            }
            fn is_standard_layout(x: &Self::View<'_>) -> bool {
                true $(&& $name::is_standard_layout(&x.$idx))+
            }
            fn gather<'b>(x: &Self::View<'_>, rows: &[usize], buf: &'b mut Self::Batch) -> Result<Self::View<'b>> {
                Ok(($($name::gather(&x.$idx, rows, &mut buf.$idx)?,)+))
            }
            fn to_owned(x: &Self::View<'_>) -> Self::Owned {
                ($($name::to_owned(&x.$idx),)+)
            }
            fn view(x: &Self::Owned) -> Self::View<'_> {
                ($($name::view(&x.$idx),)+)
            }
            /// The parts of every member, in order.
            fn num_parts() -> usize {
                0 $(+ $name::num_parts())+
            }
            fn part_kind(mut k: usize) -> Option<PartKind> {
                $(
                    if k < $name::num_parts() {
                        return $name::part_kind(k);
                    }
                    k -= $name::num_parts();
                )+
                let _ = k;
                None
            }
            fn part<'s>(x: &'s Self::View<'_>, mut k: usize) -> Option<Part<'s, F>> {
                $(
                    if k < $name::num_parts() {
                        return $name::part(&x.$idx, k);
                    }
                    k -= $name::num_parts();
                )+
                let _ = k;
                None
            }
        }

        impl<F: Float, $($name: Input<F>),+, X: AsTuple<F, ($($name,)+)>> AsInput<F, ($($name,)+)> for X {
            fn as_input(&self) -> <($($name,)+) as Input<F>>::View<'_> {
                self.as_tuple()
            }
        }
    };
}

/// Conversion of the data a user passes (`Array`, `ArrayView` of any dimension, or a
/// tuple of them) to the view a model of input kind `I` takes.
///
/// Implemented for float arrays as [`Floats`], `usize` arrays as [`Indices`], and
/// tuples of up to three such arrays as the tuple of their kinds.
pub trait AsInput<F: Float, I: Input<F>> {
    /// A view of the data.
    fn as_input(&self) -> I::View<'_>;
}

impl<F: Float, S: Data<Elem = F>, D: Dimension> AsInput<F, Floats> for ArrayBase<S, D> {
    fn as_input(&self) -> ArrayViewD<'_, F> {
        self.view().into_dyn()
    }
}

impl<F: Float, S: Data<Elem = usize>, D: Dimension> AsInput<F, Indices> for ArrayBase<S, D> {
    fn as_input(&self) -> ArrayViewD<'_, usize> {
        self.view().into_dyn()
    }
}

impl<F: Float, S: Data<Elem = F>, D: Dimension> AsInput<F, Floats> for &ArrayBase<S, D> {
    fn as_input(&self) -> ArrayViewD<'_, F> {
        self.view().into_dyn()
    }
}

impl<F: Float, S: Data<Elem = usize>, D: Dimension> AsInput<F, Indices> for &ArrayBase<S, D> {
    fn as_input(&self) -> ArrayViewD<'_, usize> {
        self.view().into_dyn()
    }
}

/// The tuple half of [`AsInput`] (kept apart so that tuple and array impls do not
/// overlap).
#[doc(hidden)]
pub trait AsTuple<F: Float, I: Input<F>> {
    fn as_tuple(&self) -> I::View<'_>;
}

impl<F: Float, A: Input<F>, B: Input<F>, XA: AsInput<F, A>, XB: AsInput<F, B>> AsTuple<F, (A, B)>
    for (XA, XB)
{
    fn as_tuple(&self) -> (A::View<'_>, B::View<'_>) {
        (self.0.as_input(), self.1.as_input())
    }
}

impl<F: Float, A: Input<F>, B: Input<F>, C: Input<F>, XA: AsInput<F, A>, XB: AsInput<F, B>, XC: AsInput<F, C>>
    AsTuple<F, (A, B, C)> for (XA, XB, XC)
{
    fn as_tuple(&self) -> (A::View<'_>, B::View<'_>, C::View<'_>) {
        (self.0.as_input(), self.1.as_input(), self.2.as_input())
    }
}

tuple_input!(A 0, B 1);
tuple_input!(A 0, B 1, C 2);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn tuples_batch_every_member_with_the_same_rows() {
        let x = Array2::from_shape_fn((4, 2), |(i, j)| (i * 2 + j) as f64);
        let ids = array![10usize, 11, 12, 13];
        let data = (&x, &ids);
        let v = AsInput::<f64, (Floats, Indices)>::as_input(&data);
        assert_eq!(<(Floats, Indices) as Input<f64>>::validate("t", &v).unwrap(), 4);
        let mut buf = <(Floats, Indices) as Input<f64>>::Batch::default();
        let b = <(Floats, Indices) as Input<f64>>::gather(&v, &[3, 1], &mut buf).unwrap();
        assert_eq!(b.0, array![[6.0, 7.0], [2.0, 3.0]].into_dyn());
        assert_eq!(b.1, array![13usize, 11].into_dyn());
        let s = <(Floats, Indices) as Input<f64>>::slice(&v, 1, 3);
        assert_eq!(s.1, array![11usize, 12].into_dyn());
        let short = array![1usize, 2, 3];
        let data = (x.view(), short.view());
        let bad = AsInput::<f64, (Floats, Indices)>::as_input(&data);
        assert!(matches!(
            <(Floats, Indices) as Input<f64>>::rows("t", &bad),
            Err(Error::LengthMismatch { expected: 4, got: 3, .. })
        ));
        let mut nan = x.clone();
        nan[[1, 1]] = f64::NAN;
        let data = (nan.view(), ids.view());
        let v = AsInput::<f64, (Floats, Indices)>::as_input(&data);
        assert!(matches!(<(Floats, Indices) as Input<f64>>::validate("t", &v), Err(Error::NonFinite { .. })));
    }
}
