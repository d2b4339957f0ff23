//! [`gather_rows_into`]: copy selected samples into a reusable [`Buffer`].

use ndarray::{ArrayViewD, Axis};

use crate::data::dataset::check_rows;
use crate::error::{Error, Result};
use crate::tensor::Buffer;

/// Dimensions up to which the output shape is built on the stack (no allocation).
const STACK_DIMS: usize = 8;

/// Copies rows `rows` of `src` (along axis 0, in the given order, repeats allowed)
/// into `dst`, which becomes `[rows.len(), src.shape()[1..]...]`.
///
/// This is the per-batch gather of the training loop: once `dst` has held a batch of
/// this size (its [`capacity`](Buffer::capacity) suffices), the call allocates
/// nothing, for arrays of up to 4 dimensions (ndarray stores larger shapes on the
/// heap). Standard-layout (C-contiguous) rows are copied with one `copy_from_slice`
/// each; any other layout (a transposed or strided view) is copied element by element
/// in logical order.
///
/// # Errors
///
/// * [`Error::InvalidInput`] if `src` is 0-dimensional, or a row index is
///   `>= src.shape()[0]` (the message names the index and its position in `rows`).
///
/// On error `dst` is unchanged. An empty `rows` gives a `[0, ...]` buffer.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::Buffer;
/// use ndtrain::data::gather_rows_into;
///
/// let x = array![[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]];
/// let y = array![10usize, 11, 12];
/// let (mut xb, mut yb) = (Buffer::new(), Buffer::new());
/// gather_rows_into(x.view().into_dyn(), &[2, 0], &mut xb)?;
/// gather_rows_into(y.view().into_dyn(), &[2, 0], &mut yb)?;
/// assert_eq!(xb.view(), array![[2.0, 2.5], [0.0, 0.5]].into_dyn());
/// assert_eq!(yb.view(), array![12usize, 10].into_dyn());
/// assert!(gather_rows_into(x.view().into_dyn(), &[3], &mut xb).is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "index_select")]
#[doc(alias = "take")]
pub fn gather_rows_into<T: Copy + Default>(
    src: ArrayViewD<'_, T>,
    rows: &[usize],
    dst: &mut Buffer<T>,
) -> Result<()> {
    const OP: &str = "gather_rows_into";
    if src.ndim() == 0 {
        return Err(Error::invalid_input(OP, "source is 0-dimensional, expected samples along axis 0"));
    }
    let shape = src.shape();
    check_rows(OP, rows, shape[0])?;
    let row_len: usize = shape[1..].iter().product();
    if rows.len().checked_mul(row_len).is_none() {
        return Err(Error::invalid_input(
            OP,
            format!("{} rows of {row_len} elements overflow usize", rows.len()),
        ));
    }

    // Output shape [rows.len(), shape[1..]] without a heap allocation.
    let mut stack = [0usize; STACK_DIMS];
    let heap: Vec<usize>;
    let out_shape: &[usize] = if shape.len() <= STACK_DIMS {
        stack[0] = rows.len();
        stack[1..shape.len()].copy_from_slice(&shape[1..]);
        &stack[..shape.len()]
    } else {
        let mut v = shape.to_vec();
        v[0] = rows.len();
        heap = v;
        &heap
    };
    let mut out = dst.reshape(out_shape);
    let out = out.as_slice_mut().expect("Buffer views are standard layout");
    if row_len == 0 {
        return Ok(());
    }

    if let Some(all) = src.as_slice() {
        // Fast path: C-contiguous source, each row is one slice.
        for (chunk, &r) in out.chunks_exact_mut(row_len).zip(rows) {
            chunk.copy_from_slice(&all[r * row_len..(r + 1) * row_len]);
        }
    } else {
        for (chunk, &r) in out.chunks_exact_mut(row_len).zip(rows) {
            let row = src.index_axis(Axis(0), r);
            match row.as_slice() {
                Some(s) => chunk.copy_from_slice(s),
                None => {
                    for (d, &s) in chunk.iter_mut().zip(row.iter()) {
                        *d = s;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Array2, Array5, ArrayD, IxDyn, s};

    /// Reference gather with ndarray's `select` (allocating).
    fn reference<T: Copy>(src: &ArrayViewD<'_, T>, rows: &[usize]) -> ArrayD<T> {
        src.select(Axis(0), rows)
    }

    #[test]
    fn contiguous_2d_matches_select() {
        let x = Array2::from_shape_fn((7, 3), |(i, j)| (10 * i + j) as f64);
        let rows = [6, 0, 3, 3, 1];
        let mut b = Buffer::new();
        gather_rows_into(x.view().into_dyn(), &rows, &mut b).unwrap();
        assert_eq!(b.view(), reference(&x.view().into_dyn(), &rows));
        assert_eq!(b.view()[[0, 2]], 62.0);
    }

    #[test]
    fn non_contiguous_views() {
        let x = Array::from_shape_fn((6, 4, 3), |(i, j, k)| (100 * i + 10 * j + k) as f32).into_dyn();
        let rows = [5, 2, 0];
        let mut b = Buffer::new();
        // Rows contiguous, whole array not (a sub-range of columns of every row is not
        // contiguous; a range of rows is).
        let v = x.slice(s![.., 1..3, ..]).into_dyn();
        gather_rows_into(v.view(), &rows, &mut b).unwrap();
        assert_eq!(b.view(), reference(&v, &rows));
        assert_eq!(b.view()[[0, 1, 2]], 522.0);
        // Fully strided (permuted axes).
        let t = x.view().permuted_axes(IxDyn(&[0, 2, 1]));
        gather_rows_into(t.view(), &rows, &mut b).unwrap();
        assert_eq!(b.view(), reference(&t, &rows));
        assert_eq!(b.view().shape(), &[3, 3, 4]);
        assert_eq!(b.view()[[1, 2, 3]], 232.0);
        // Negative strides.
        let r = x.slice(s![..;-1, .., ..]).into_dyn();
        gather_rows_into(r.view(), &rows, &mut b).unwrap();
        assert_eq!(b.view(), reference(&r, &rows));
        assert_eq!(b.view()[[0, 0, 0]], 0.0);
    }

    #[test]
    fn one_dimensional_and_high_dimensional() {
        let y = ndarray::array![3usize, 1, 4, 1, 5];
        let mut b = Buffer::new();
        gather_rows_into(y.view().into_dyn(), &[4, 2], &mut b).unwrap();
        assert_eq!(b.view().as_slice().unwrap(), &[5, 4]);

        let x9 = Array::from_shape_fn(IxDyn(&[3, 1, 1, 1, 1, 1, 1, 1, 2]), |ix| {
            ix[0] as f64 + ix[8] as f64 / 10.0
        });
        let mut b9 = Buffer::new();
        gather_rows_into(x9.view(), &[2, 1], &mut b9).unwrap();
        assert_eq!(b9.view(), reference(&x9.view(), &[2, 1]));

        let x5 = Array5::<f64>::from_elem((2, 2, 1, 2, 1), 1.5);
        let mut b5 = Buffer::new();
        gather_rows_into(x5.view().into_dyn(), &[1], &mut b5).unwrap();
        assert_eq!(b5.view().shape(), &[1, 2, 1, 2, 1]);
    }

    #[test]
    fn empty_rows_and_zero_width() {
        let x = Array2::<f64>::ones((3, 2));
        let mut b = Buffer::new();
        gather_rows_into(x.view().into_dyn(), &[], &mut b).unwrap();
        assert_eq!(b.view().shape(), &[0, 2]);
        let z = Array2::<f64>::zeros((3, 0));
        gather_rows_into(z.view().into_dyn(), &[2, 0], &mut b).unwrap();
        assert_eq!(b.view().shape(), &[2, 0]);
    }

    #[test]
    fn out_of_range_is_an_error_and_leaves_dst_unchanged() {
        let x = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f64);
        let mut b = Buffer::new();
        gather_rows_into(x.view().into_dyn(), &[1], &mut b).unwrap();
        let e = gather_rows_into(x.view().into_dyn(), &[0, 3], &mut b).unwrap_err();
        assert_eq!(e.to_string(), "gather_rows_into: row index 3 (at position 1) is out of range for 3 rows");
        assert_eq!(b.view(), ndarray::array![[2.0, 3.0]].into_dyn());
        let e = gather_rows_into(ndarray::arr0(1.0).view().into_dyn(), &[0], &mut b).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(gather_rows_into(empty.view().into_dyn(), &[0], &mut b).is_err());
    }
}
