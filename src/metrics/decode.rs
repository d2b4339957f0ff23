//! Reading raw model outputs in streaming metrics: argmax / threshold decoding of
//! class predictions, softmax / sigmoid for logits, and target checks.

use ndarray::{ArrayView2, ArrayViewD, Ix2};

use crate::error::{Error, Result};
use crate::tensor::Float;

/// A batch of outputs viewed as `[N, C]`: `C = 1` for one-column (binary) outputs.
pub(crate) fn as_matrix<'a, F: Float>(
    op: &'static str,
    pred: ArrayViewD<'a, F>,
) -> Result<ArrayView2<'a, F>> {
    // The shape is copied only for the error: this runs once per batch in training.
    let bad = |pred: &ArrayViewD<'_, F>| Error::ShapeMismatch {
        op,
        expected: vec![0, 0],
        got: pred.shape().to_vec(),
    };
    let m = match pred.ndim() {
        1 => {
            let n = pred.len();
            pred.clone().into_shape_with_order((n, 1)).ok().map(|v| v.into_dimensionality::<Ix2>())
        }
        2 => Some(pred.clone().into_dimensionality::<Ix2>()),
        _ => None,
    };
    match m {
        Some(Ok(m)) if m.ncols() > 0 => Ok(m),
        _ => Err(bad(&pred)),
    }
}

/// The error of `compute` on a streaming metric that holds no sample.
pub(crate) fn no_samples(op: &'static str) -> Error {
    Error::EmptyInput { op, what: "no samples added since the last reset" }
}

/// Targets as a slice of class indices: `[N]` or `[N, 1]`, `N` rows, every index
/// `< n_classes`.
pub(crate) fn check_targets(
    op: &'static str,
    target: &ArrayViewD<'_, usize>,
    n: usize,
    n_classes: usize,
) -> Result<()> {
    let ok_shape = target.ndim() == 1 || (target.ndim() == 2 && target.shape()[1] == 1);
    if !ok_shape {
        return Err(Error::ShapeMismatch { op, expected: vec![n], got: target.shape().to_vec() });
    }
    if target.len() != n {
        return Err(Error::LengthMismatch {
            op,
            what: "targets (must match rows of pred)",
            expected: n,
            got: target.len(),
        });
    }
    if let Some(&bad) = target.iter().find(|&&t| t >= n_classes) {
        return Err(Error::LabelOutOfRange { op, label: bad, n_classes });
    }
    Ok(())
}

/// Number of classes implied by an `[N, C]` output (`2` for one column).
#[inline]
pub(crate) fn implied_classes(cols: usize) -> usize {
    if cols == 1 { 2 } else { cols }
}

/// Fixes the number of classes on the first batch and checks later batches (and the
/// configured `n_classes`) against it.
pub(crate) fn check_classes(
    op: &'static str,
    fixed: Option<usize>,
    seen: Option<usize>,
    cols: usize,
) -> Result<usize> {
    let c = implied_classes(cols);
    let want = fixed.or(seen);
    match want {
        Some(w) if w != c => Err(Error::ShapeMismatch {
            op,
            expected: vec![0, if cols == 1 { 1 } else { w }],
            got: vec![0, cols],
        }),
        _ => Ok(c),
    }
}

/// Rejects NaN outputs (an argmax or threshold over NaN is meaningless).
pub(crate) fn check_no_nan<F: Float>(op: &'static str, m: &ArrayView2<'_, F>) -> Result<()> {
    if let Some(((i, j), v)) = m.indexed_iter().find(|(_, v)| v.is_nan()) {
        return Err(Error::NonFinite { op, what: "pred", value: v.as_f64(), index: vec![i, j] });
    }
    Ok(())
}

/// Predicted class of one output row: argmax (first maximum) for `C > 1` columns,
/// `score > threshold` for one column.
#[inline]
pub(crate) fn decode_row<F: Float>(row: ndarray::ArrayView1<'_, F>, threshold: f64) -> usize {
    if row.len() == 1 {
        return usize::from(row[0].as_f64() > threshold);
    }
    let mut best = 0;
    let mut best_v = row[0];
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v > best_v {
            best = j;
            best_v = v;
        }
    }
    best
}

/// Probabilities of one output row written into `out` (length `C`, or 2 for one
/// column): softmax / sigmoid of logits when `from_logits`, else the row as given
/// (`[1 − p, p]` for one column).
pub(crate) fn proba_row<F: Float>(row: ndarray::ArrayView1<'_, F>, from_logits: bool, out: &mut Vec<f64>) {
    out.clear();
    if row.len() == 1 {
        let x = row[0].as_f64();
        let p = if from_logits { sigmoid(x) } else { x };
        out.push(1.0 - p);
        out.push(p);
        return;
    }
    if from_logits {
        let m = row.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v.as_f64()));
        let mut s = 0.0;
        for &v in row {
            let e = (v.as_f64() - m).exp();
            s += e;
            out.push(e);
        }
        for e in out.iter_mut() {
            *e /= s;
        }
    } else {
        out.extend(row.iter().map(|v| v.as_f64()));
    }
}

/// Numerically stable logistic sigmoid.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn decode_argmax_and_threshold() {
        assert_eq!(decode_row(array![0.1, 0.7, 0.7].view(), 0.0), 1);
        assert_eq!(decode_row(array![-0.2].view(), 0.0), 0);
        assert_eq!(decode_row(array![0.3].view(), 0.5), 0);
        assert_eq!(decode_row(array![0.6].view(), 0.5), 1);
    }

    #[test]
    fn softmax_and_sigmoid() {
        let mut out = Vec::new();
        proba_row(array![0.0, 0.0].view(), true, &mut out);
        assert_eq!(out, vec![0.5, 0.5]);
        proba_row(array![0.0].view(), true, &mut out);
        assert_eq!(out, vec![0.5, 0.5]);
        assert!((sigmoid(-800.0)).abs() < 1e-300 && sigmoid(800.0) == 1.0);
    }

    #[test]
    fn shapes_and_targets() {
        let p = array![[1.0, 2.0, 3.0]];
        assert!(as_matrix("t", p.view().into_dyn()).is_ok());
        let bad = ndarray::Array3::<f64>::zeros((1, 1, 1));
        assert!(as_matrix("t", bad.view().into_dyn()).is_err());
        let t = array![3usize];
        assert!(matches!(
            check_targets("t", &t.view().into_dyn(), 1, 3),
            Err(Error::LabelOutOfRange { label: 3, .. })
        ));
        assert!(matches!(check_targets("t", &t.view().into_dyn(), 2, 4), Err(Error::LengthMismatch { .. })));
        assert!(check_classes("t", None, Some(3), 4).is_err());
        assert_eq!(check_classes("t", None, None, 1).unwrap(), 2);
    }
}
