//! Metrics on predicted probabilities: log loss and the Brier score.

use ndarray::{Array2, ArrayView1, ArrayViewD};

use crate::error::{Error, Result};
use crate::metrics::label::{
    ArrayLike, Label, ScoreKind, fmt_labels, index_of, score_inputs, sorted_classes, weighted_mean,
    weighted_mean_or_sum,
};
use crate::tensor::Float;

/// Probabilities as an `[N, C]` matrix: `[N]` (or `[N, 1]`) probabilities `p` of the
/// greater class become `[1 − p, p]` (the returned flag says so).
fn proba_matrix(m: Array2<f64>, one_d: bool) -> (Array2<f64>, bool) {
    if one_d || m.ncols() == 1 {
        let n = m.nrows();
        let two = Array2::from_shape_fn((n, 2), |(i, c)| if c == 0 { 1.0 - m[[i, 0]] } else { m[[i, 0]] });
        return (two, true);
    }
    (m, false)
}

/// The classes (from `labels` or `y_true`, sorted) and `y_true` encoded against them.
fn proba_classes<L: Label>(
    op: &'static str,
    y: &ArrayView1<'_, L>,
    labels: Option<&Vec<L>>,
    n_columns: usize,
) -> Result<Vec<usize>> {
    let classes = match labels {
        Some(ls) => sorted_classes(&[&ArrayView1::from(ls.as_slice())], &[]),
        None => sorted_classes(&[y], &[]),
    };
    if classes.len() < 2 {
        return Err(Error::invalid_input(
            op,
            match labels {
                None => format!(
                    "y_true contains only one label ({}). Please provide the true labels explicitly through the labels argument.",
                    fmt_labels(&classes)
                ),
                Some(_) => format!(
                    "The labels array needs to contain at least two labels, got {}.",
                    fmt_labels(&classes)
                ),
            },
        ));
    }
    if classes.len() != n_columns {
        return Err(Error::invalid_input(
            op,
            format!(
                "y_true and y_proba contain different number of classes {}, {n_columns}. Please provide the true \
                 labels explicitly through the labels argument. Classes: {}",
                classes.len(),
                fmt_labels(&classes)
            ),
        ));
    }
    y.iter()
        .map(|l| {
            index_of(&classes, l).ok_or_else(|| {
                Error::invalid_input(
                    op,
                    format!("y_true contains label {l} not in labels {}", fmt_labels(&classes)),
                )
            })
        })
        .collect()
}

/// Keyword arguments of [`log_loss`].
#[derive(Clone, Debug)]
pub struct LogLossOptions<'w, L> {
    normalize: bool,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    labels: Option<Vec<L>>,
}

impl<L> Default for LogLossOptions<'_, L> {
    fn default() -> Self {
        LogLossOptions { normalize: true, sample_weight: None, labels: None }
    }
}

impl<'w, L> LogLossOptions<'w, L> {
    /// scikit-learn's defaults (`normalize=True`).
    pub fn new() -> Self {
        Self::default()
    }
    /// `false`: the (weighted) sum of per-sample losses instead of the mean.
    pub fn normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }
    crate::metrics::labels_setter!(
        "All classes, one per probability column (default: the labels of `y_true`)."
    );
    crate::metrics::sample_weight_setter!();
}

/// Cross-entropy of predicted probabilities: `sklearn.metrics.log_loss`.
///
/// `L = −(1/Σw) Σᵢ wᵢ log clip(p[i, yᵢ], ε, 1 − ε)`, with `ε` the machine epsilon of
/// the input float type (`2.2e-16` for `f64`). `[N]` inputs are probabilities of the
/// greater label. Rows are not renormalised (scikit-learn only warns).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`];
/// [`Error::InvalidValue`] for probabilities outside `[0, 1]`;
/// [`Error::InvalidInput`] for fewer than two classes, a column count different from
/// the number of classes, or (a deviation: scikit-learn scores it 0) a `y_true` label
/// missing from `labels`.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.log_loss.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::{log_loss, LogLossOptions};
///
/// let p = array![[0.9, 0.1], [0.2, 0.8]];
/// let l = log_loss(&["a", "b"], &p, LogLossOptions::new())?;
/// assert!((l - (-(0.9f64.ln() + 0.8f64.ln()) / 2.0)).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn log_loss<'a, L: Label + 'a, F: Float>(
    y_true: impl ArrayLike<'a, L>,
    y_proba: impl ArrayLike<'a, F>,
    opts: LogLossOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "log_loss";
    let inp = score_inputs(
        OP,
        ScoreKind::Probabilities,
        y_true.array_view(),
        y_proba.array_view(),
        opts.sample_weight.clone(),
    )?;
    let (p, _) = proba_matrix(inp.scores, inp.one_d);
    let enc = proba_classes(OP, &inp.y, opts.labels.as_ref(), p.ncols())?;
    let eps = F::epsilon().as_f64();
    let losses = enc.iter().enumerate().map(|(i, &t)| -p[[i, t]].clamp(eps, 1.0 - eps).ln());
    weighted_mean_or_sum(OP, losses, &inp.w, opts.normalize)
}

/// Keyword arguments of [`brier_score_loss`].
#[derive(Clone, Debug)]
pub struct BrierOptions<'w, L> {
    sample_weight: Option<ArrayViewD<'w, f64>>,
    pos_label: Option<L>,
    labels: Option<Vec<L>>,
    scale_by_half: Option<bool>,
}

impl<L> Default for BrierOptions<'_, L> {
    fn default() -> Self {
        BrierOptions { sample_weight: None, pos_label: None, labels: None, scale_by_half: None }
    }
}

impl<'w, L> BrierOptions<'w, L> {
    /// scikit-learn's defaults (`scale_by_half="auto"`).
    pub fn new() -> Self {
        Self::default()
    }
    /// The positive class of `[N]` probabilities (default: 1, with labels in `{0, 1}`
    /// or `{−1, 1}`).
    pub fn pos_label(mut self, pos_label: L) -> Self {
        self.pos_label = Some(pos_label);
        self
    }
    crate::metrics::labels_setter!("All classes, one per probability column of `[N, C]` inputs.");
    /// Halve the sum of squares (default "auto": yes for fewer than 3 columns, which
    /// gives the usual binary `mean((y − p)²)`).
    pub fn scale_by_half(mut self, scale: bool) -> Self {
        self.scale_by_half = Some(scale);
        self
    }
    crate::metrics::sample_weight_setter!();
}

/// Mean squared difference between predicted probabilities and one-hot outcomes:
/// `sklearn.metrics.brier_score_loss`.
///
/// `BS = (1/Σw) Σᵢ wᵢ Σ_c (1[yᵢ = c] − p[i, c])²`, halved for fewer than 3 columns
/// (binary: `mean((y − p)²)` with `[N]` probabilities of `pos_label`).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`];
/// [`Error::InvalidValue`] for probabilities outside `[0, 1]`; [`Error::InvalidInput`]
/// for `[N]` probabilities with more than two labels or with labels outside
/// `{0, 1}` / `{−1, 1}` and no `pos_label`, and for class/column mismatches.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.brier_score_loss.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{brier_score_loss, BrierOptions};
///
/// let b = brier_score_loss(&[0, 1, 1, 0], &[0.1, 0.9, 0.8, 0.3], BrierOptions::new())?;
/// assert!((b - 0.0375).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn brier_score_loss<'a, L: Label + 'a, F: Float>(
    y_true: impl ArrayLike<'a, L>,
    y_proba: impl ArrayLike<'a, F>,
    opts: BrierOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "brier_score_loss";
    let inp = score_inputs(
        OP,
        ScoreKind::Probabilities,
        y_true.array_view(),
        y_proba.array_view(),
        opts.sample_weight.clone(),
    )?;
    let (p, binary_input) = proba_matrix(inp.scores, inp.one_d);
    let (y, w) = (inp.y, inp.w);
    let enc: Vec<usize> = if binary_input {
        let classes = sorted_classes(&[&y], &[]);
        if classes.len() > 2 {
            return Err(Error::invalid_input(
                OP,
                "Only binary classification is supported. The type of the target is multiclass.",
            ));
        }
        match &opts.pos_label {
            Some(pos) => y.iter().map(|l| usize::from(l == pos)).collect(),
            None => {
                let ints: Option<Vec<i64>> = classes.iter().map(Label::as_i64).collect();
                let ok = ints.as_ref().is_some_and(|v| {
                    v.iter().all(|x| [0, 1].contains(x)) || v.iter().all(|x| [-1, 1].contains(x))
                });
                if !ok {
                    return Err(Error::invalid_input(
                        OP,
                        format!(
                            "y_true takes value in {} and pos_label is not specified: either make y_true take \
                             value in {{0, 1}} or {{-1, 1}} or pass pos_label explicitly.",
                            fmt_labels(&classes)
                        ),
                    ));
                }
                y.iter().map(|l| usize::from(l.as_i64() == Some(1))).collect()
            }
        }
    } else {
        proba_classes(OP, &y, opts.labels.as_ref(), p.ncols())?
    };
    let per_row = enc.iter().enumerate().map(|(i, &t)| {
        p.row(i)
            .iter()
            .enumerate()
            .map(|(c, &v)| {
                let d = f64::from(u8::from(c == t)) - v;
                d * d
            })
            .sum::<f64>()
    });
    let score = weighted_mean(OP, per_row, &w)?;
    let half = opts.scale_by_half.unwrap_or(p.ncols() < 3);
    Ok(if half { score * 0.5 } else { score })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn log_loss_clips_and_checks() {
        // p = 0 for the true class: clipped to eps
        let l = log_loss(&[1, 0], &[0.0, 0.0], LogLossOptions::new()).unwrap();
        assert!(
            (l - (-(f64::EPSILON.ln()) + -(1.0f64 - 0.0).clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()) / 2.0)
                .abs()
                < 1e-12
        );
        assert!(matches!(
            log_loss(&[1, 0], &[1.5, 0.0], LogLossOptions::new()),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            log_loss(&[1, 1], &[0.5, 0.5], LogLossOptions::new()),
            Err(Error::InvalidInput { .. })
        ));
        // f32 input uses f32 epsilon
        let p32 = array![0.0f32, 1.0];
        let l32 = log_loss(&[1, 0], &p32, LogLossOptions::new()).unwrap();
        assert!((l32 + (f32::EPSILON as f64).ln()).abs() < 1e-9);
    }

    #[test]
    fn brier_multiclass_not_halved() {
        // one row, true class 0, p = [0.5, 0.25, 0.25]: 0.25 + 0.0625 + 0.0625
        let b = brier_score_loss(
            &[0, 1, 2],
            &array![[0.5, 0.25, 0.25], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            BrierOptions::new(),
        );
        assert!((b.unwrap() - 0.375 / 3.0).abs() < 1e-15);
        assert!(brier_score_loss(&["a", "b"], &[0.5, 0.5], BrierOptions::new()).is_err());
        assert_eq!(
            brier_score_loss(&["a", "b"], &[0.0, 1.0], BrierOptions::new().pos_label("b")).unwrap(),
            0.0
        );
    }
}
