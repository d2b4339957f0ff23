//! Confusion counts: the one statistic every counts-based metric is computed from,
//! shared by the functional API (weighted counts over encoded labels) and the
//! streaming metrics (counts over class indices).

use ndarray::Array2;

use crate::error::{Error, Result};
use crate::metrics::{Average, ZeroDivision};

/// A weighted `n x n` confusion matrix (rows: true class, columns: predicted class)
/// plus which classes occurred in the targets and in the predictions.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Counts {
    n: usize,
    cm: Vec<f64>,
    in_true: Vec<bool>,
    in_pred: Vec<bool>,
}

/// True positives, predicted count and true count (support) of one class.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ClassStat {
    pub tp: f64,
    pub pred: f64,
    pub truth: f64,
}

impl Counts {
    /// Zero counts over `n` classes.
    pub fn new(n: usize) -> Self {
        Counts { n, cm: vec![0.0; n * n], in_true: vec![false; n], in_pred: vec![false; n] }
    }

    /// Counts from encoded labels (every index `< n`) and optional weights.
    pub fn from_encoded(
        n: usize,
        y_true: &[usize],
        y_pred: &[usize],
        w: &Option<ndarray::ArrayView1<'_, f64>>,
    ) -> Self {
        let mut c = Counts::new(n);
        for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
            c.add(t, p, crate::metrics::label::weight(w, i));
        }
        c
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n
    }

    /// Adds one sample (`t`, `p < n`) with weight `w`.
    #[inline]
    pub fn add(&mut self, t: usize, p: usize, w: f64) {
        self.cm[t * self.n + p] += w;
        self.in_true[t] = true;
        self.in_pred[p] = true;
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        !self.in_true.iter().any(|&b| b)
    }

    /// Cell `(t, p)`.
    #[inline]
    pub fn get(&self, t: usize, p: usize) -> f64 {
        self.cm[t * self.n + p]
    }

    /// Total weight.
    pub fn total(&self) -> f64 {
        self.cm.iter().sum()
    }

    /// Weight of correct predictions.
    pub fn trace(&self) -> f64 {
        (0..self.n).map(|i| self.get(i, i)).sum()
    }

    /// Whether class `i` occurred in the targets or the predictions.
    pub fn present(&self, i: usize) -> bool {
        self.in_true[i] || self.in_pred[i]
    }

    /// Whether class `i` occurred in the targets.
    pub fn in_true(&self, i: usize) -> bool {
        self.in_true[i]
    }

    /// Classes that occurred, in index order (scikit-learn's `unique_labels`).
    pub fn present_indices(&self) -> Vec<usize> {
        (0..self.n).filter(|&i| self.present(i)).collect()
    }

    /// The classes that occurred as a selection for [`matrix`](Self::matrix) and
    /// [`stats`](Self::stats).
    pub fn present_selection(&self) -> Vec<Option<usize>> {
        (0..self.n).filter(|&i| self.present(i)).map(Some).collect()
    }

    /// Per-class statistics of the selected classes (`None`: a class absent from the
    /// data, all zero).
    pub fn stats(&self, sel: &[Option<usize>]) -> Vec<ClassStat> {
        sel.iter()
            .map(|s| match *s {
                Some(i) => ClassStat {
                    tp: self.get(i, i),
                    pred: (0..self.n).map(|t| self.get(t, i)).sum(),
                    truth: (0..self.n).map(|p| self.get(i, p)).sum(),
                },
                None => ClassStat::default(),
            })
            .collect()
    }

    /// The confusion matrix restricted to (and ordered by) `labels`; samples whose true
    /// or predicted class is not selected are dropped, as scikit-learn's
    /// `confusion_matrix(labels=...)`.
    pub fn matrix(&self, labels: &[Option<usize>]) -> Array2<f64> {
        let k = labels.len();
        Array2::from_shape_fn((k, k), |(r, c)| match (labels[r], labels[c]) {
            (Some(t), Some(p)) => self.get(t, p),
            _ => 0.0,
        })
    }

    /// The classes a set-wise score (precision, recall, F, Jaccard) is computed over:
    /// scikit-learn's `_check_set_wise_labels`. `average = None` means per class.
    pub fn setwise_labels(
        &self,
        op: &'static str,
        average: Option<Average>,
        pos: Option<usize>,
        pos_name: &str,
        labels: Option<Vec<Option<usize>>>,
        names: &dyn Fn(&[usize]) -> String,
    ) -> Result<Vec<Option<usize>>> {
        let present = self.present_indices();
        if average == Some(Average::Binary) {
            if present.len() > 2 {
                return Err(Error::invalid_input(
                    op,
                    "Target is multiclass but average='binary'. Please choose another average setting, \
                     one of [None, 'micro', 'macro', 'weighted'].",
                ));
            }
            let pos_present = pos.is_some_and(|p| self.present(p));
            if !pos_present && present.len() >= 2 {
                return Err(Error::invalid_input(
                    op,
                    format!(
                        "pos_label={pos_name} is not a valid label. It should be one of {}",
                        names(&present)
                    ),
                ));
            }
            return Ok(vec![pos]);
        }
        let labels = labels.unwrap_or_else(|| present.into_iter().map(Some).collect());
        if labels.is_empty() {
            return Err(Error::invalid_input(op, "labels must contain at least one label"));
        }
        Ok(labels)
    }
}

/// `num / den`, or the zero-division value when `den == 0`.
#[inline]
pub(crate) fn divide(num: f64, den: f64, zd: ZeroDivision) -> f64 {
    if den == 0.0 { zd.value() } else { num / den }
}

/// Precision, recall and F-beta of one (possibly micro-summed) class.
pub(crate) fn prf_one(s: ClassStat, beta: f64, zd: ZeroDivision) -> [f64; 3] {
    let p = divide(s.tp, s.pred, zd);
    let r = divide(s.tp, s.truth, zd);
    let f = if beta.is_infinite() {
        r
    } else if beta == 0.0 {
        p
    } else {
        let b2 = beta * beta;
        divide((1.0 + b2) * s.tp, b2 * s.truth + s.pred, zd)
    };
    [p, r, f]
}

/// Sum of the statistics (micro averaging).
pub(crate) fn micro(stats: &[ClassStat]) -> ClassStat {
    stats.iter().fold(ClassStat::default(), |a, s| ClassStat {
        tp: a.tp + s.tp,
        pred: a.pred + s.pred,
        truth: a.truth + s.truth,
    })
}

/// scikit-learn's `_nanaverage`: mean of the non-NaN values (weighted when weights are
/// given and do not all vanish); NaN when every value is NaN.
pub(crate) fn nanaverage(values: &[f64], weights: Option<&[f64]>) -> f64 {
    let keep: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    if keep.is_empty() {
        return f64::NAN;
    }
    if let Some(w) = weights {
        let den: f64 = keep.iter().map(|&i| w[i]).sum();
        if den != 0.0 {
            return keep.iter().map(|&i| w[i] * values[i]).sum::<f64>() / den;
        }
    }
    keep.iter().map(|&i| values[i]).sum::<f64>() / keep.len() as f64
}

/// Precision, recall and F-beta averaged over the selected classes (Binary: the one
/// selected class).
pub(crate) fn prf_average(stats: &[ClassStat], average: Average, beta: f64, zd: ZeroDivision) -> [f64; 3] {
    if average == Average::Micro {
        return prf_one(micro(stats), beta, zd);
    }
    let per: Vec<[f64; 3]> = stats.iter().map(|&s| prf_one(s, beta, zd)).collect();
    let support: Vec<f64> = stats.iter().map(|s| s.truth).collect();
    let weights = (average == Average::Weighted).then_some(support.as_slice());
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let col: Vec<f64> = per.iter().map(|v| v[k]).collect();
        *o = nanaverage(&col, weights);
    }
    out
}

/// Jaccard index `tp / (tp + fp + fn)` of one class.
pub(crate) fn jaccard_one(s: ClassStat, zd: ZeroDivision) -> f64 {
    divide(s.tp, s.pred + s.truth - s.tp, zd)
}

/// Jaccard averaged as scikit-learn's `jaccard_score` (`np.average`: NaN propagates).
pub(crate) fn jaccard_average(stats: &[ClassStat], average: Average, zd: ZeroDivision) -> f64 {
    if average == Average::Micro {
        return jaccard_one(micro(stats), zd);
    }
    let per: Vec<f64> = stats.iter().map(|&s| jaccard_one(s, zd)).collect();
    let support: Vec<f64> = stats.iter().map(|s| s.truth).collect();
    let use_w = average == Average::Weighted && support.iter().any(|&w| w != 0.0);
    if use_w {
        let den: f64 = support.iter().sum();
        per.iter().zip(&support).map(|(v, w)| v * w).sum::<f64>() / den
    } else {
        per.iter().sum::<f64>() / per.len() as f64
    }
}

/// Matthews correlation coefficient of a confusion matrix (0 when undefined).
pub(crate) fn mcc(cm: &Array2<f64>) -> f64 {
    let t_sum = cm.sum_axis(ndarray::Axis(1));
    let p_sum = cm.sum_axis(ndarray::Axis(0));
    let n_correct: f64 = cm.diag().sum();
    let n_samples: f64 = p_sum.sum();
    let cov_ytyp = n_correct * n_samples - t_sum.dot(&p_sum);
    let cov_ypyp = n_samples * n_samples - p_sum.dot(&p_sum);
    let cov_ytyt = n_samples * n_samples - t_sum.dot(&t_sum);
    if cov_ypyp * cov_ytyt == 0.0 { 0.0 } else { cov_ytyp / (cov_ytyt * cov_ypyp).sqrt() }
}

/// Balanced accuracy of a confusion matrix: mean recall over classes with true samples.
pub(crate) fn balanced_accuracy(cm: &Array2<f64>, adjusted: bool) -> f64 {
    let per: Vec<f64> =
        (0..cm.nrows()).map(|i| cm[[i, i]] / cm.row(i).sum()).filter(|v| !v.is_nan()).collect();
    let mut score = per.iter().sum::<f64>() / per.len() as f64;
    if adjusted {
        let chance = 1.0 / per.len() as f64;
        score = (score - chance) / (1.0 - chance);
    }
    score
}

/// Weighting of disagreements in Cohen's kappa.
pub(crate) fn kappa(cm: &Array2<f64>, weights: crate::metrics::KappaWeights, undefined: f64) -> f64 {
    use crate::metrics::KappaWeights;
    let k = cm.nrows();
    let sum0 = cm.sum_axis(ndarray::Axis(0));
    let sum1 = cm.sum_axis(ndarray::Axis(1));
    let total: f64 = sum0.sum();
    let w = |i: usize, j: usize| -> f64 {
        let d = i.abs_diff(j) as f64;
        match weights {
            KappaWeights::None => f64::from(u8::from(i != j)),
            KappaWeights::Linear => d,
            KappaWeights::Quadratic => d * d,
        }
    };
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            num += w(i, j) * cm[[i, j]];
            den += w(i, j) * (sum0[i] * sum1[j] / total);
        }
    }
    // np.isclose(denominator, 0): |d| <= 1e-8.
    if den.abs() <= 1e-8 || den.is_nan() { undefined } else { 1.0 - num / den }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(t: &[usize], p: &[usize], n: usize) -> Counts {
        Counts::from_encoded(n, t, p, &None)
    }

    #[test]
    fn stats_and_prf_by_hand() {
        // y_true = [0, 0, 1, 1, 2], y_pred = [0, 1, 1, 1, 0]
        let c = counts(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3);
        let s = c.stats(&[Some(0), Some(1), Some(2)]);
        assert_eq!(s[1], ClassStat { tp: 2.0, pred: 3.0, truth: 2.0 });
        // class 0: p = 1/2, r = 1/2; class 1: p = 2/3, r = 1; class 2: p = 0/0 -> 0, r = 0.
        let [p, r, _] = prf_average(&s, Average::Macro, 1.0, ZeroDivision::Zero);
        assert!((p - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        assert!((r - 0.5).abs() < 1e-15);
        let [p, _, _] = prf_average(&s, Average::Macro, 1.0, ZeroDivision::NaN);
        assert!((p - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
        let [p, r, f] = prf_average(&s, Average::Micro, 1.0, ZeroDivision::Zero);
        assert!((p - 0.6).abs() < 1e-15 && (r - 0.6).abs() < 1e-15 && (f - 0.6).abs() < 1e-15);
    }

    #[test]
    fn binary_selection_rules() {
        let names = |v: &[usize]| format!("{v:?}");
        let c = counts(&[0, 1, 2], &[0, 1, 2], 3);
        assert!(c.setwise_labels("t", Some(Average::Binary), Some(1), "1", None, &names).is_err());
        let c = counts(&[0, 0], &[0, 0], 2);
        // pos label absent and fewer than two labels present: zero counts.
        assert_eq!(
            c.setwise_labels("t", Some(Average::Binary), Some(1), "1", None, &names).unwrap(),
            vec![Some(1)]
        );
        let c = counts(&[0, 2], &[0, 2], 3);
        assert!(c.setwise_labels("t", Some(Average::Binary), Some(1), "1", None, &names).is_err());
    }

    #[test]
    fn mcc_and_kappa_by_hand() {
        // Perfect binary agreement: MCC 1, kappa 1.
        let c = counts(&[0, 1, 0, 1], &[0, 1, 0, 1], 2);
        let m = c.matrix(&[Some(0), Some(1)]);
        assert_eq!(mcc(&m), 1.0);
        assert_eq!(kappa(&m, crate::metrics::KappaWeights::None, f64::NAN), 1.0);
        // Constant prediction: MCC denominator 0 -> 0.
        let c = counts(&[0, 1, 0, 1], &[1, 1, 1, 1], 2);
        assert_eq!(mcc(&c.matrix(&[Some(0), Some(1)])), 0.0);
    }
}
