//! [`classification_report`]: per-class precision, recall, F1 and support, printable
//! like scikit-learn's.

use std::fmt;

use ndarray::ArrayViewD;

use crate::error::Result;
use crate::metrics::classification::prepare;
use crate::metrics::counts::{self, Counts};
use crate::metrics::label::{ArrayLike, Label, index_of};
use crate::metrics::{Average, ZeroDivision};

/// One line of a [`ClassificationReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    /// Class name, or `"macro avg"` etc.
    pub name: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1 score.
    pub f1_score: f64,
    /// (Weighted) number of true samples.
    pub support: f64,
}

/// Per-class precision, recall, F1 and support with their averages, returned by
/// [`classification_report`] and
/// [`ClassCounts::classification_report`](crate::metrics::ClassCounts::classification_report).
///
/// `Display` prints scikit-learn's text layout (right-aligned columns, `digits`
/// decimals, default 2; the formatter's precision, as in `{:.4}`, overrides it).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassificationReport {
    /// One row per class.
    pub classes: Vec<ReportRow>,
    /// Accuracy (when the report covers every label present; otherwise `None` and
    /// [`micro_avg`](Self::micro_avg) is set).
    pub accuracy: Option<f64>,
    /// Micro average, when it differs from accuracy (a `labels` subset).
    pub micro_avg: Option<ReportRow>,
    /// Unweighted mean over classes.
    pub macro_avg: ReportRow,
    /// Mean weighted by support.
    pub weighted_avg: ReportRow,
    /// Total support.
    pub support: f64,
    /// Decimals printed by `Display`.
    pub digits: usize,
}

/// Builds the report from counts over the selected classes.
pub(crate) fn report_from_counts(
    counts: &Counts,
    sel: &[Option<usize>],
    names: Vec<String>,
    zd: ZeroDivision,
    micro_is_accuracy: bool,
    digits: usize,
) -> ClassificationReport {
    let stats = counts.stats(sel);
    let classes: Vec<ReportRow> = stats
        .iter()
        .zip(names)
        .map(|(&s, name)| {
            let [p, r, f] = counts::prf_one(s, 1.0, zd);
            ReportRow { name, precision: p, recall: r, f1_score: f, support: s.truth }
        })
        .collect();
    let support: f64 = stats.iter().map(|s| s.truth).sum();
    let row = |name: &str, avg: Average| {
        let [p, r, f] = counts::prf_average(&stats, avg, 1.0, zd);
        ReportRow { name: name.to_string(), precision: p, recall: r, f1_score: f, support }
    };
    let micro = row("micro avg", Average::Micro);
    let (accuracy, micro_avg) =
        if micro_is_accuracy { (Some(micro.f1_score), None) } else { (None, Some(micro)) };
    ClassificationReport {
        classes,
        accuracy,
        micro_avg,
        macro_avg: row("macro avg", Average::Macro),
        weighted_avg: row("weighted avg", Average::Weighted),
        support,
        digits,
    }
}

/// Python's float formatting for `{:.{d}f}` (NaN as `nan`).
fn ffmt(v: f64, d: usize) -> String {
    if v.is_nan() { "nan".to_string() } else { format!("{v:.d$}") }
}

fn support_fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v}") }
}

impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = f.precision().unwrap_or(self.digits);
        let name_width = self.classes.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
        let width = name_width.max("weighted avg".len()).max(d);
        writeln!(f, "{:>width$}  {:>9} {:>9} {:>9} {:>9}", "", "precision", "recall", "f1-score", "support")?;
        writeln!(f)?;
        let line = |f: &mut fmt::Formatter<'_>, r: &ReportRow| {
            writeln!(
                f,
                "{:>width$}  {:>9} {:>9} {:>9} {:>9}",
                r.name,
                ffmt(r.precision, d),
                ffmt(r.recall, d),
                ffmt(r.f1_score, d),
                support_fmt(r.support)
            )
        };
        for r in &self.classes {
            line(f, r)?;
        }
        writeln!(f)?;
        match (self.accuracy, &self.micro_avg) {
            (Some(acc), _) => writeln!(
                f,
                "{:>width$}  {:>9} {:>9} {:>9} {:>9}",
                "accuracy",
                "",
                "",
                ffmt(acc, d),
                support_fmt(self.support)
            )?,
            (None, Some(m)) => line(f, m)?,
            (None, None) => {}
        }
        line(f, &self.macro_avg)?;
        line(f, &self.weighted_avg)
    }
}

impl ClassificationReport {
    /// The same report printing `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

/// Keyword arguments of [`classification_report`].
#[derive(Clone, Debug)]
pub struct ReportOptions<'w, L> {
    labels: Option<Vec<L>>,
    target_names: Option<Vec<String>>,
    sample_weight: Option<ArrayViewD<'w, f64>>,
    digits: usize,
    zero_division: ZeroDivision,
}

impl<L> Default for ReportOptions<'_, L> {
    fn default() -> Self {
        ReportOptions {
            labels: None,
            target_names: None,
            sample_weight: None,
            digits: 2,
            zero_division: ZeroDivision::Warn,
        }
    }
}

impl<'w, L> ReportOptions<'w, L> {
    /// scikit-learn's defaults (`digits=2`, `zero_division="warn"`).
    pub fn new() -> Self {
        Self::default()
    }
    crate::metrics::labels_setter!("The classes to report, in order (default: sorted labels present).");
    /// Display names of the classes (same order and length as the classes).
    pub fn target_names(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.target_names = Some(names.into_iter().map(Into::into).collect());
        self
    }
    /// Decimals printed (default 2).
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
    /// The value of `0/0` (default 0).
    pub fn zero_division(mut self, zero_division: ZeroDivision) -> Self {
        self.zero_division = zero_division;
        self
    }
    crate::metrics::sample_weight_setter!();
}

/// Per-class precision, recall, F1 and support, with accuracy and macro / weighted
/// averages: `sklearn.metrics.classification_report` (text form via `Display`, data
/// via the fields).
///
/// # Errors
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::EmptyInput`](crate::Error::EmptyInput), [`Error::NonFinite`](crate::Error::NonFinite)
/// weights; [`Error::InvalidInput`](crate::Error::InvalidInput) when `target_names`
/// does not match the number of classes.
///
/// Reference: <https://scikit-learn.org/stable/modules/generated/sklearn.metrics.classification_report.html>
///
/// # Example
///
/// ```
/// use ndtrain::metrics::{classification_report, ReportOptions};
///
/// let y_true = [0, 1, 2, 2, 2];
/// let y_pred = [0, 0, 2, 2, 1];
/// let report = classification_report(&y_true, &y_pred, ReportOptions::new().target_names(["class 0", "class 1", "class 2"]))?;
/// let expected = "              precision    recall  f1-score   support
///
///      class 0       0.50      1.00      0.67         1
///      class 1       0.00      0.00      0.00         1
///      class 2       1.00      0.67      0.80         3
///
///     accuracy                           0.60         5
///    macro avg       0.50      0.56      0.49         5
/// weighted avg       0.70      0.60      0.61         5
/// ";
/// assert_eq!(report.to_string(), expected);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn classification_report<'a, L: Label + 'a>(
    y_true: impl ArrayLike<'a, L>,
    y_pred: impl ArrayLike<'a, L>,
    opts: ReportOptions<'_, L>,
) -> Result<ClassificationReport> {
    const OP: &str = "classification_report";
    let extra: Vec<&L> = opts.labels.iter().flatten().collect();
    let p = prepare(OP, y_true.array_view(), y_pred.array_view(), &extra, opts.sample_weight.clone())?;
    let present = p.counts.present_indices();
    let (sel, label_names, micro_is_accuracy): (Vec<Option<usize>>, Vec<String>, bool) = match &opts.labels {
        Some(ls) => {
            let sel: Vec<Option<usize>> = ls.iter().map(|l| index_of(&p.classes, l)).collect();
            let covers = present.iter().all(|i| sel.contains(&Some(*i)));
            (sel, ls.iter().map(|l| l.to_string()).collect(), covers)
        }
        None => (
            present.iter().map(|&i| Some(i)).collect(),
            present.iter().map(|&i| p.classes[i].to_string()).collect(),
            true,
        ),
    };
    let names = match opts.target_names {
        Some(t) => {
            if t.len() != sel.len() {
                return Err(crate::Error::invalid_input(
                    OP,
                    format!(
                        "Number of classes, {}, does not match size of target_names, {}. Try specifying the labels parameter",
                        sel.len(),
                        t.len()
                    ),
                ));
            }
            t
        }
        None => label_names,
    };
    Ok(report_from_counts(&p.counts, &sel, names, opts.zero_division, micro_is_accuracy, opts.digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_subset_prints_micro_avg() {
        let r = classification_report(&[0, 1, 2], &[0, 2, 2], ReportOptions::new().labels([0, 2])).unwrap();
        assert!(r.accuracy.is_none());
        let m = r.micro_avg.as_ref().unwrap();
        // labels 0 and 2: tp = 2, pred = 3, true = 2
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-15 && m.recall == 1.0);
        assert!(r.to_string().contains("   micro avg"));
        assert!(format!("{r:.3}").contains("0.667"));
    }

    #[test]
    fn target_names_must_match() {
        assert!(classification_report(&[0, 1], &[0, 1], ReportOptions::new().target_names(["a"])).is_err());
    }
}
