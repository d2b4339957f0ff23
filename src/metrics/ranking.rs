//! Score-based (ranking) metrics: ROC AUC, average precision and top-k accuracy.

use ndarray::{Array2, ArrayView1, ArrayViewD};

use crate::error::{Error, Result};
use crate::metrics::Average;
use crate::metrics::label::{
    ArrayLike, Label, ScoreKind, fmt_labels, index_of, score_inputs, sorted_classes, weighted_mean_or_sum,
};
use crate::tensor::Float;

/// Multiclass strategy of [`roc_auc_score`] (scikit-learn's `multi_class`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MultiClass {
    /// Error on multiclass targets (scikit-learn's default).
    #[default]
    Raise,
    /// One-vs-rest: each class against all others, then averaged.
    Ovr,
    /// One-vs-one (Hand & Till 2001): every pair of classes, then averaged.
    Ovo,
}

/// `labels` (if given) must be unique, sorted, match the score columns and contain
/// every `y_true`; returns the classes and `y_true` encoded against them.
fn checked_classes<L: Label>(
    op: &'static str,
    y: &[L],
    labels: Option<&Vec<L>>,
    n_columns: usize,
) -> Result<(Vec<L>, Vec<usize>)> {
    let yv = ArrayView1::from(y);
    let classes = match labels {
        Some(ls) => {
            if ls.windows(2).any(|p| p[0] == p[1])
                || sorted_classes(&[&ArrayView1::from(ls.as_slice())], &[]).len() != ls.len()
            {
                return Err(Error::invalid_input(op, "Parameter 'labels' must be unique."));
            }
            if ls.windows(2).any(|p| p[0] > p[1]) {
                return Err(Error::invalid_input(op, "Parameter 'labels' must be ordered."));
            }
            if ls.len() != n_columns {
                return Err(Error::invalid_input(
                    op,
                    format!(
                        "Number of given labels ({}) not equal to the number of classes in 'y_score' ({n_columns}).",
                        ls.len()
                    ),
                ));
            }
            if y.iter().any(|l| index_of(ls, l).is_none()) {
                return Err(Error::invalid_input(op, "'y_true' contains labels not in parameter 'labels'."));
            }
            ls.clone()
        }
        None => {
            let c = sorted_classes(&[&yv], &[]);
            if c.len() != n_columns {
                return Err(Error::invalid_input(
                    op,
                    format!(
                        "Number of classes in 'y_true' ({}) not equal to the number of classes in 'y_score' \
                         ({n_columns}). You can provide a list of all known classes by assigning it to the \
                         `labels` parameter.",
                        c.len()
                    ),
                ));
            }
            c
        }
    };
    let enc = y.iter().map(|l| index_of(&classes, l).unwrap_or(0)).collect();
    Ok((classes, enc))
}

// ---------------------------------------------------------------------------------
// binary curves

/// scikit-learn's `_binary_clf_curve`: false and true positive (weighted) counts at
/// each distinct score, in decreasing score order. Zero-weight samples are dropped.
pub(crate) fn binary_clf_curve(y: &[bool], s: &[f64], w: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let mut idx: Vec<usize> = (0..y.len()).filter(|&i| w.is_none_or(|w| w[i] != 0.0)).collect();
    // stable ascending sort, reversed (numpy's argsort(kind="mergesort")[::-1])
    idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    idx.reverse();
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if y[i] {
            tp += wi;
        } else {
            fp += wi;
        }
        let last = k + 1 == idx.len() || s[idx[k + 1]] != s[i];
        if last {
            tps.push(tp);
            fps.push(if w.is_some() { fp } else { (k + 1) as f64 - tp });
        }
    }
    (fps, tps)
}

/// Trapezoidal area under `(x, y)`.
fn trapz(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2).zip(y.windows(2)).map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0).sum()
}

/// Binary ROC AUC (NaN unless both classes occur), optionally the McClish-standardised
/// partial AUC up to `max_fpr`.
pub(crate) fn roc_auc_binary(y: &[bool], s: &[f64], w: Option<&[f64]>, max_fpr: Option<f64>) -> f64 {
    let n_pos = y.iter().filter(|&&b| b).count();
    if n_pos == 0 || n_pos == y.len() {
        return f64::NAN;
    }
    let (mut fps, mut tps) = binary_clf_curve(y, s, w);
    // roc_curve(drop_intermediate=True): drop collinear points
    if fps.len() > 2 {
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&i| {
                i == 0
                    || i + 1 == fps.len()
                    || (fps[i + 1] - 2.0 * fps[i] + fps[i - 1]) != 0.0
                    || (tps[i + 1] - 2.0 * tps[i] + tps[i - 1]) != 0.0
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
    }
    fps.insert(0, 0.0);
    tps.insert(0, 0.0);
    let (fl, tl) = (*fps.last().unwrap_or(&0.0), *tps.last().unwrap_or(&0.0));
    let fpr: Vec<f64> = fps.iter().map(|&v| if fl > 0.0 { v / fl } else { f64::NAN }).collect();
    let tpr: Vec<f64> = tps.iter().map(|&v| if tl > 0.0 { v / tl } else { f64::NAN }).collect();
    match max_fpr {
        None | Some(1.0) => trapz(&fpr, &tpr),
        Some(m) => {
            let stop = fpr.partition_point(|&v| v <= m);
            if stop == 0 || stop >= fpr.len() {
                return f64::NAN;
            }
            let (x0, x1, y0, y1) = (fpr[stop - 1], fpr[stop], tpr[stop - 1], tpr[stop]);
            let yi = (y1 - y0) / (x1 - x0) * (m - x0) + y0;
            let mut x: Vec<f64> = fpr[..stop].to_vec();
            let mut yv: Vec<f64> = tpr[..stop].to_vec();
            x.push(m);
            yv.push(yi);
            let partial = trapz(&x, &yv);
            let min_area = 0.5 * m * m;
            let max_area = m;
            0.5 * (1.0 + (partial - min_area) / (max_area - min_area))
        }
    }
}

/// Average precision `Σₙ (Rₙ − Rₙ₋₁) Pₙ` over decreasing thresholds (no interpolation).
/// Without positives, recall is 1 everywhere and AP is 0, as scikit-learn.
pub(crate) fn average_precision_binary(y: &[bool], s: &[f64], w: Option<&[f64]>) -> f64 {
    let (fps, tps) = binary_clf_curve(y, s, w);
    let Some(&t_last) = tps.last() else { return f64::NAN };
    let mut ap = 0.0;
    let mut prev_r = 0.0;
    for (&fp, &tp) in fps.iter().zip(&tps) {
        let ps = tp + fp;
        let p = if ps != 0.0 { tp / ps } else { 0.0 };
        let r = if t_last == 0.0 { 1.0 } else { tp / t_last };
        ap += (r - prev_r) * p;
        prev_r = r;
    }
    // Without positives recall is 1 at every threshold: AP is the precision at the
    // highest threshold, i.e. 0.
    ap
}

/// A binary score of (targets, scores, weights).
type BinaryMetric<'a> = dyn Fn(&[bool], &[f64], Option<&[f64]>) -> f64 + 'a;

/// scikit-learn's `_average_binary_score` over the columns of a one-hot target.
fn average_binary_score(
    op: &'static str,
    metric: &BinaryMetric<'_>,
    onehot: &Array2<bool>,
    scores: &Array2<f64>,
    average: Average,
    w: Option<&[f64]>,
) -> Result<f64> {
    let (n, k) = onehot.dim();
    match average {
        Average::Binary => Err(Error::invalid_config(format!(
            "{op}: average='binary' is not supported here; use 'micro', 'macro' or 'weighted'"
        ))),
        Average::Micro => {
            let y: Vec<bool> = onehot.iter().copied().collect();
            let s: Vec<f64> = scores.iter().copied().collect();
            let ww: Option<Vec<f64>> = w.map(|w| (0..n * k).map(|i| w[i / k]).collect());
            Ok(metric(&y, &s, ww.as_deref()))
        }
        Average::Macro | Average::Weighted => {
            let mut per = Vec::with_capacity(k);
            for c in 0..k {
                let y: Vec<bool> = onehot.column(c).to_vec();
                let s: Vec<f64> = scores.column(c).to_vec();
                per.push(metric(&y, &s, w));
            }
            if average == Average::Macro {
                return Ok(per.iter().sum::<f64>() / k as f64);
            }
            let aw: Vec<f64> = (0..k)
                .map(|c| (0..n).filter(|&i| onehot[[i, c]]).map(|i| w.map_or(1.0, |w| w[i])).sum())
                .collect();
            let tot: f64 = aw.iter().sum();
            if tot.abs() <= 1e-8 {
                return Ok(0.0);
            }
            Ok(per.iter().zip(&aw).map(|(&v, &a)| if a == 0.0 { 0.0 } else { v * a }).sum::<f64>() / tot)
        }
    }
}

fn onehot(enc: &[usize], k: usize) -> Array2<bool> {
    let mut m = Array2::from_elem((enc.len(), k), false);
    for (i, &c) in enc.iter().enumerate() {
        m[[i, c]] = true;
    }
    m
}

// ---------------------------------------------------------------------------------
// roc_auc_score

/// Keyword arguments of [`roc_auc_score`].
#[derive(Clone, Debug)]
pub struct RocAucOptions<'w, L> {
    average: Average,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    max_fpr: Option<f64>,
    multi_class: MultiClass,
    labels: Option<Vec<L>>,
}

impl<L> Default for RocAucOptions<'_, L> {
    fn default() -> Self {
        RocAucOptions {
            average: Average::Macro,
            sample_weight: None,
            max_fpr: None,
            multi_class: MultiClass::Raise,
            labels: None,
        }
    }
}

impl<'w, L> RocAucOptions<'w, L> {
    /// scikit-learn's defaults (`average="macro"`, `multi_class="raise"`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Averaging of multiclass scores: `Macro` (default), `Weighted` (by prevalence),
    /// `Micro` (one-vs-rest only).
    pub fn average(mut self, average: Average) -> Self {
        self.average = average;
        self
    }
    /// Standardised partial AUC over `FPR ∈ [0, max_fpr]` (binary only), in `(0, 1]`.
    pub fn max_fpr(mut self, max_fpr: f64) -> Self {
        self.max_fpr = Some(max_fpr);
        self
    }
    /// Multiclass strategy (default [`MultiClass::Raise`]).
    pub fn multi_class(mut self, multi_class: MultiClass) -> Self {
        self.multi_class = multi_class;
        self
    }
    crate::metrics::labels_setter!(
        "All classes, sorted, one per score column (multiclass only; default: the labels of `y_true`)."
    );
    crate::metrics::sample_weight_setter!("One weight per sample (not with [`MultiClass::Ovo`]).");
}

/// Area under the ROC curve: `sklearn.metrics.roc_auc_score`.
///
/// * Binary `y_true` (at most two labels) with `[N]` scores for the greater label:
///   the trapezoidal area under (FPR, TPR); tied scores form one point (they count
///   1/2). With `max_fpr`, the McClish-standardised partial area
///   `½ (1 + (A − m²/2) / (m − m²/2))`. One class only: NaN (scikit-learn ≥ 1.9).
/// * Multiclass `y_true` with `[N, C]` probabilities (rows sum to 1): one-vs-rest
///   ([`MultiClass::Ovr`], macro / weighted / micro average) or one-vs-one
///   ([`MultiClass::Ovo`], Hand & Till, macro or prevalence-weighted).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`] scores or
/// weights; [`Error::InvalidParameter`] for `max_fpr ∉ (0, 1]`;
/// [`Error::InvalidInput`] for multiclass targets with [`MultiClass::Raise`], rows not
/// summing to 1, mismatched class counts, a partial AUC on multiclass data, or binary
/// targets with several score columns; [`Error::InvalidConfig`] for unsupported
/// averages.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.roc_auc_score.html>;
/// Hand & Till, *A Simple Generalisation of the Area Under the ROC Curve for Multiple
/// Class Classification Problems*, Machine Learning 45 (2001).
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{roc_auc_score, RocAucOptions};
///
/// let auc = roc_auc_score(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8], RocAucOptions::new())?;
/// assert_eq!(auc, 0.75);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn roc_auc_score<'a, L: Label + 'a, F: Float>(
    y_true: impl ArrayLike<'a, L>,
    y_score: impl ArrayLike<'a, F>,
    opts: RocAucOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "roc_auc_score";
    if let Some(m) = opts.max_fpr {
        if !(m > 0.0 && m <= 1.0) {
            return Err(Error::InvalidParameter { name: "max_fpr", value: m, expected: "(0, 1]" });
        }
    }
    let inp = score_inputs(
        OP,
        ScoreKind::Scores,
        y_true.array_view(),
        y_score.array_view(),
        opts.sample_weight.clone(),
    )?;
    let w = inp.w.as_ref().map(|w| w.to_vec());
    let present = sorted_classes(&[&inp.y], &[]);
    let multiclass = present.len() > 2 || (!inp.one_d && inp.scores.ncols() > 2);
    if multiclass {
        if opts.max_fpr.is_some_and(|m| m != 1.0) {
            return Err(Error::invalid_input(
                OP,
                "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to `None`",
            ));
        }
        if opts.multi_class == MultiClass::Raise {
            return Err(Error::invalid_input(OP, "multi_class must be in ('ovo', 'ovr')"));
        }
        return multiclass_roc_auc(
            OP,
            &inp.y_slice(),
            &inp.scores,
            opts.labels.as_ref(),
            opts.multi_class,
            opts.average,
            w.as_deref(),
        );
    }
    if !(inp.one_d || inp.scores.ncols() == 1) {
        return Err(Error::invalid_input(
            OP,
            format!(
                "binary y_true needs 1-d scores (for the greater label), got {} columns",
                inp.scores.ncols()
            ),
        ));
    }
    // label_binarize(y_true, classes=unique(y_true))[:, 0]: positive = greater label
    let pos = present.last().cloned();
    let y: Vec<bool> = inp.y.iter().map(|l| present.len() == 2 && Some(l) == pos.as_ref()).collect();
    let y = if present.len() == 1 { vec![true; inp.y.len()] } else { y };
    let s: Vec<f64> = inp.scores.column(0).to_vec();
    Ok(roc_auc_binary(&y, &s, w.as_deref(), opts.max_fpr))
}

pub(crate) fn multiclass_roc_auc<L: Label>(
    op: &'static str,
    y: &[L],
    scores: &Array2<f64>,
    labels: Option<&Vec<L>>,
    multi_class: MultiClass,
    average: Average,
    w: Option<&[f64]>,
) -> Result<f64> {
    for (i, row) in scores.rows().into_iter().enumerate() {
        let s = row.sum();
        if (1.0 - s).abs() > 1e-8 + 1e-5 * s.abs() {
            return Err(Error::invalid_input(
                op,
                format!(
                    "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up \
                     to 1.0 over classes (row {i} sums to {s}); pass probabilities (softmax of logits)"
                ),
            ));
        }
    }
    let allowed = match multi_class {
        MultiClass::Ovr => matches!(average, Average::Macro | Average::Weighted | Average::Micro),
        _ => matches!(average, Average::Macro | Average::Weighted),
    };
    if !allowed {
        return Err(Error::invalid_config(format!(
            "{op}: average='{}' is not supported with multi_class={multi_class:?}",
            average.as_str()
        )));
    }
    let (classes, enc) = checked_classes(op, y, labels, scores.ncols())?;
    if multi_class == MultiClass::Ovo {
        if w.is_some() {
            return Err(Error::invalid_input(
                op,
                "sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' must be None in this case.",
            ));
        }
        let mut uniq: Vec<usize> = enc.clone();
        uniq.sort_unstable();
        uniq.dedup();
        let mut pair_scores = Vec::new();
        let mut prevalence = Vec::new();
        for (ai, &a) in uniq.iter().enumerate() {
            for &b in &uniq[ai + 1..] {
                let rows: Vec<usize> = (0..enc.len()).filter(|&i| enc[i] == a || enc[i] == b).collect();
                let a_true: Vec<bool> = rows.iter().map(|&i| enc[i] == a).collect();
                let b_true: Vec<bool> = rows.iter().map(|&i| enc[i] == b).collect();
                let sa: Vec<f64> = rows.iter().map(|&i| scores[[i, a]]).collect();
                let sb: Vec<f64> = rows.iter().map(|&i| scores[[i, b]]).collect();
                let sa_auc = roc_auc_binary(&a_true, &sa, None, None);
                let sb_auc = roc_auc_binary(&b_true, &sb, None, None);
                pair_scores.push((sa_auc + sb_auc) / 2.0);
                prevalence.push(rows.len() as f64 / enc.len() as f64);
            }
        }
        if pair_scores.is_empty() {
            return Ok(f64::NAN);
        }
        return Ok(if average == Average::Weighted {
            let tot: f64 = prevalence.iter().sum();
            pair_scores.iter().zip(&prevalence).map(|(s, p)| s * p).sum::<f64>() / tot
        } else {
            pair_scores.iter().sum::<f64>() / pair_scores.len() as f64
        });
    }
    let oh = onehot(&enc, classes.len());
    average_binary_score(op, &|y, s, w| roc_auc_binary(y, s, w, None), &oh, scores, average, w)
}

// ---------------------------------------------------------------------------------
// average_precision_score

/// Keyword arguments of [`average_precision_score`].
#[derive(Clone, Debug)]
pub struct AveragePrecisionOptions<'w, L> {
    average: Average,
    pos_label: Option<L>,
    sample_weight: Option<ArrayViewD<'w, f64>>,
}

impl<L> Default for AveragePrecisionOptions<'_, L> {
    fn default() -> Self {
        AveragePrecisionOptions { average: Average::Macro, pos_label: None, sample_weight: None }
    }
}

impl<'w, L> AveragePrecisionOptions<'w, L> {
    /// scikit-learn's defaults (`average="macro"`, `pos_label=1`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Averaging over classes of a multiclass target (default `Macro`; `Micro`,
    /// `Weighted`).
    pub fn average(mut self, average: Average) -> Self {
        self.average = average;
        self
    }
    /// The positive class of a binary target (default: the label equal to 1).
    pub fn pos_label(mut self, pos_label: L) -> Self {
        self.pos_label = Some(pos_label);
        self
    }
    crate::metrics::sample_weight_setter!();
}

/// Average precision, the area under the precision-recall curve as a step function:
/// `sklearn.metrics.average_precision_score`.
///
/// `AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ` over distinct thresholds in decreasing order (no
/// interpolation). Binary targets take `[N]` scores of `pos_label`; multiclass
/// targets take `[N, C]` scores, one column per sorted class (one-vs-rest, averaged).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::EmptyInput`], [`Error::NonFinite`];
/// [`Error::InvalidInput`] when `pos_label` is not one of two present labels, for a
/// `pos_label` other than 1 on multiclass targets, or for mismatched score columns;
/// [`Error::InvalidConfig`] for [`Average::Binary`].
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.average_precision_score.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{average_precision_score, AveragePrecisionOptions};
///
/// let ap = average_precision_score(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8], AveragePrecisionOptions::new())?;
/// assert!((ap - 0.8333333333333333).abs() < 1e-15);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn average_precision_score<'a, L: Label + 'a, F: Float>(
    y_true: impl ArrayLike<'a, L>,
    y_score: impl ArrayLike<'a, F>,
    opts: AveragePrecisionOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "average_precision_score";
    if opts.average == Average::Binary {
        return Err(Error::invalid_config(format!(
            "{OP}: average='binary' is not supported; use 'micro', 'macro' or 'weighted'"
        )));
    }
    let inp = score_inputs(
        OP,
        ScoreKind::Scores,
        y_true.array_view(),
        y_score.array_view(),
        opts.sample_weight.clone(),
    )?;
    let w = inp.w.as_ref().map(|w| w.to_vec());
    let present = sorted_classes(&[&inp.y], &[]);
    let is_pos = |l: &L| match &opts.pos_label {
        Some(p) => l == p,
        None => l.as_i64() == Some(1),
    };
    if present.len() <= 2 {
        if present.len() == 2 && !present.iter().any(is_pos) {
            let name = opts.pos_label.as_ref().map_or_else(|| "1".to_string(), |p| p.to_string());
            return Err(Error::invalid_input(
                OP,
                format!(
                    "pos_label={name} is not a valid label. It should be one of {}",
                    fmt_labels(&present)
                ),
            ));
        }
        if !(inp.one_d || inp.scores.ncols() == 1) {
            return Err(Error::invalid_input(
                OP,
                format!("binary y_true needs 1-d scores, got {} columns", inp.scores.ncols()),
            ));
        }
        let y: Vec<bool> = inp.y.iter().map(is_pos).collect();
        let s: Vec<f64> = inp.scores.column(0).to_vec();
        return Ok(average_precision_binary(&y, &s, w.as_deref()));
    }
    if opts.pos_label.as_ref().is_some_and(|p| p.as_i64() != Some(1)) {
        return Err(Error::invalid_input(
            OP,
            "Parameter pos_label is fixed to 1 for multiclass y_true. Do not set pos_label or set pos_label to 1.",
        ));
    }
    multiclass_average_precision(OP, &inp.y_slice(), &present, &inp.scores, opts.average, w.as_deref())
}

pub(crate) fn multiclass_average_precision<L: Label>(
    op: &'static str,
    y: &[L],
    classes: &[L],
    scores: &Array2<f64>,
    average: Average,
    w: Option<&[f64]>,
) -> Result<f64> {
    if scores.ncols() != classes.len() {
        return Err(Error::invalid_input(
            op,
            format!("y_score has {} columns but y_true has {} classes", scores.ncols(), classes.len()),
        ));
    }
    let enc: Vec<usize> = y.iter().map(|l| index_of(classes, l).unwrap_or(0)).collect();
    let oh = onehot(&enc, classes.len());
    average_binary_score(op, &average_precision_binary, &oh, scores, average, w)
}

// ---------------------------------------------------------------------------------
// top_k_accuracy_score

/// Keyword arguments of [`top_k_accuracy_score`].
#[derive(Clone, Debug)]
pub struct TopKOptions<'w, L> {
    k: usize,
    normalize: bool,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    labels: Option<Vec<L>>,
}

impl<L> Default for TopKOptions<'_, L> {
    fn default() -> Self {
        TopKOptions { k: 2, normalize: true, sample_weight: None, labels: None }
    }
}

impl<'w, L> TopKOptions<'w, L> {
    /// scikit-learn's defaults (`k=2`, `normalize=True`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of top-scored classes that count as a hit (default 2, at least 1).
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// `false`: the (weighted) number of hits instead of the fraction.
    pub fn normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }
    crate::metrics::labels_setter!(
        "All classes, sorted, one per score column (default: the labels of `y_true`)."
    );
    crate::metrics::sample_weight_setter!();
}

/// Whether class `t` is among the `k` best of `row`, ranking ties as scikit-learn's
/// stable ascending argsort reversed (among equal scores the higher class index ranks
/// first).
#[inline]
pub(crate) fn in_top_k(row: impl Iterator<Item = f64>, t: usize, st: f64, k: usize) -> bool {
    let mut rank = 0;
    for (c, s) in row.enumerate() {
        if s > st || (s == st && c > t) {
            rank += 1;
            if rank >= k {
                return false;
            }
        }
    }
    true
}

/// Fraction of samples whose true class is among the `k` highest scores:
/// `sklearn.metrics.top_k_accuracy_score`.
///
/// Multiclass: `[N, C]` scores, one column per sorted class; among tied scores the
/// higher class index ranks first (scikit-learn's rule). Binary targets take `[N]`
/// scores: with `k = 1` a sample is predicted positive iff its score exceeds 0.5 when
/// all scores lie in `[0, 1]`, else 0; with `k ≥ 2` every sample is a hit.
///
/// # Errors
/// [`Error::InvalidParameter`] for `k = 0`; [`Error::LengthMismatch`],
/// [`Error::EmptyInput`], [`Error::NonFinite`]; [`Error::InvalidInput`] when the
/// number of classes and score columns differ, or `labels` is not unique, sorted and
/// complete.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.top_k_accuracy_score.html>
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::metrics::{top_k_accuracy_score, TopKOptions};
///
/// let scores = array![[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]];
/// assert_eq!(top_k_accuracy_score(&[0, 1, 2, 2], &scores, TopKOptions::new().k(2))?, 0.75);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn top_k_accuracy_score<'a, L: Label + 'a, F: Float>(
    y_true: impl ArrayLike<'a, L>,
    y_score: impl ArrayLike<'a, F>,
    opts: TopKOptions<'_, L>,
) -> Result<f64> {
    const OP: &str = "top_k_accuracy_score";
    if opts.k == 0 {
        return Err(Error::InvalidParameter { name: "k", value: 0.0, expected: ">= 1" });
    }
    let inp = score_inputs(
        OP,
        ScoreKind::Scores,
        y_true.array_view(),
        y_score.array_view(),
        opts.sample_weight.clone(),
    )?;
    let present = sorted_classes(&[&inp.y], &[]);
    let binary = present.len() <= 2 && opts.labels.as_ref().is_none_or(|l| l.len() <= 2);
    if binary && !(inp.one_d || inp.scores.ncols() == 1) {
        return Err(Error::invalid_input(
            OP,
            format!(
                "`y_true` is binary while y_score is 2d with {} classes. If `y_true` does not contain all the \
                 labels, `labels` must be provided.",
                inp.scores.ncols()
            ),
        ));
    }
    let n_score_classes = if inp.one_d || inp.scores.ncols() == 1 { 2 } else { inp.scores.ncols() };
    let (_, enc) = checked_classes(OP, &inp.y_slice(), opts.labels.as_ref(), n_score_classes)?;
    let hits: Vec<bool> = if binary {
        if opts.k == 1 {
            let s = inp.scores.column(0);
            let in01 = s.iter().all(|&v| (0.0..=1.0).contains(&v));
            let thr = if in01 { 0.5 } else { 0.0 };
            s.iter().zip(&enc).map(|(&v, &t)| usize::from(v > thr) == t).collect()
        } else {
            vec![true; enc.len()]
        }
    } else {
        inp.scores
            .rows()
            .into_iter()
            .zip(&enc)
            .map(|(row, &t)| in_top_k(row.iter().copied(), t, row[t], opts.k))
            .collect()
    };
    let vals = hits.iter().map(|&h| f64::from(u8::from(h)));
    weighted_mean_or_sum(OP, vals, &inp.w, opts.normalize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn roc_ties_count_half() {
        // one positive and one negative tied: AUC 0.5
        assert_eq!(roc_auc_binary(&[false, true], &[0.3, 0.3], None, None), 0.5);
        assert!(roc_auc_binary(&[true, true], &[0.3, 0.4], None, None).is_nan());
    }

    #[test]
    fn ap_by_hand() {
        // scores 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg):
        // thresholds: R = 1/2 P = 1; R = 1/2 P = 1/2; R = 1 P = 2/3; R = 1 P = 1/2
        // AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
        let ap = average_precision_binary(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8], None);
        assert!((ap - 5.0 / 6.0).abs() < 1e-15);
        assert_eq!(average_precision_binary(&[false, false], &[0.1, 0.4], None), 0.0);
    }

    #[test]
    fn top_k_tie_rule() {
        // scores all equal: class 2 ranks first, then 1, then 0
        assert!(in_top_k([0.5, 0.5, 0.5].into_iter(), 2, 0.5, 1));
        assert!(!in_top_k([0.5, 0.5, 0.5].into_iter(), 0, 0.5, 2));
        assert!(in_top_k([0.5, 0.5, 0.5].into_iter(), 1, 0.5, 2));
    }

    #[test]
    fn errors() {
        let s = array![0.2, 0.8];
        assert!(matches!(
            roc_auc_score(&[0, 1], &s, RocAucOptions::new().max_fpr(0.0)),
            Err(Error::InvalidParameter { name: "max_fpr", .. })
        ));
        let nan = array![0.2, f64::NAN];
        assert!(matches!(roc_auc_score(&[0, 1], &nan, RocAucOptions::new()), Err(Error::NonFinite { .. })));
        let m = array![[0.2, 0.3, 0.5], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]];
        assert!(matches!(
            roc_auc_score(&[0, 1, 2], &m, RocAucOptions::new()),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            top_k_accuracy_score(&[0, 1, 2], &m, TopKOptions::new().k(0)),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
}
