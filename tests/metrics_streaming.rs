//! Streaming metrics: for EVERY streaming metric, any split of the data into batches
//! gives exactly the value of one batch, and that value equals the functional
//! (scikit-learn) metric on the concatenated targets and decoded predictions.

use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn};
use ndtrain::metrics::{self as m, *};
use ndtrain::{Error, Result};
use proptest::prelude::*;

/// Streams `pred` / `target` through `metric` in batches ending at `cuts`.
fn stream<Y: Clone>(
    metric: &mut dyn Metric<f64, Y>,
    pred: &ArrayD<f64>,
    target: &ArrayD<Y>,
    cuts: &[usize],
) -> Result<f64> {
    metric.reset();
    let n = pred.shape()[0];
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(n)).collect();
    bounds.push(n);
    bounds.sort_unstable();
    let mut start = 0;
    for &end in &bounds {
        let p = pred.slice_axis(Axis(0), (start..end).into());
        let t = target.slice_axis(Axis(0), (start..end).into());
        metric.update(p, t)?;
        start = end;
    }
    metric.compute()
}

/// Same result: equal values (NaN equal to NaN) or both errors.
fn same(a: &Result<f64>, b: &Result<f64>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// Close results (relative 1e-9), or both errors.
fn close(a: &Result<f64>, b: &Result<f64>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-3)
        }
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// Decoded predictions: argmax (first maximum) of rows, or `score > 0` for one column.
fn decode(pred: &ArrayD<f64>) -> Vec<usize> {
    if pred.ndim() == 1 {
        return pred.iter().map(|&s| usize::from(s > 0.0)).collect();
    }
    pred.rows()
        .into_iter()
        .map(|r| {
            let mut best = 0;
            for j in 1..r.len() {
                if r[j] > r[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

fn softmax(pred: &ArrayD<f64>) -> Array2<f64> {
    let p = pred.view().into_dimensionality::<ndarray::Ix2>().unwrap().to_owned();
    let mut out = p.clone();
    for (mut o, r) in out.rows_mut().into_iter().zip(p.rows()) {
        let mx = r.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let s: f64 = r.iter().map(|v| (v - mx).exp()).sum();
        o.assign(&r.mapv(|v| (v - mx).exp() / s));
    }
    out
}

type ClassRef = Box<dyn Fn(&[usize], &[usize]) -> Result<f64>>;
type ClassMetricBox = Box<dyn Metric<f64, usize>>;
type RegMetricBox = Box<dyn Metric<f64, f64>>;

/// Counts-based metrics with their functional reference on (targets, decoded preds).
fn counts_metrics() -> Vec<(ClassMetricBox, ClassRef)> {
    use m::Average::*;
    let prf = |a| PrfOptions::<usize>::new().average(a);
    vec![
        (Box::new(Accuracy::new()), Box::new(|t, p| accuracy_score(t, p, AccuracyOptions::new()))),
        (Box::new(Precision::binary()), Box::new(move |t, p| precision_score(t, p, prf(Binary)))),
        (Box::new(Precision::macro_average()), Box::new(move |t, p| precision_score(t, p, prf(Macro)))),
        (Box::new(Precision::micro_average()), Box::new(move |t, p| precision_score(t, p, prf(Micro)))),
        (Box::new(Precision::weighted_average()), Box::new(move |t, p| precision_score(t, p, prf(Weighted)))),
        (Box::new(Recall::binary()), Box::new(move |t, p| recall_score(t, p, prf(Binary)))),
        (Box::new(Recall::macro_average()), Box::new(move |t, p| recall_score(t, p, prf(Macro)))),
        (Box::new(Recall::weighted_average()), Box::new(move |t, p| recall_score(t, p, prf(Weighted)))),
        (Box::new(F1Score::binary()), Box::new(move |t, p| f1_score(t, p, prf(Binary)))),
        (Box::new(F1Score::macro_average()), Box::new(move |t, p| f1_score(t, p, prf(Macro)))),
        (Box::new(F1Score::micro_average()), Box::new(move |t, p| f1_score(t, p, prf(Micro)))),
        (Box::new(F1Score::weighted_average()), Box::new(move |t, p| f1_score(t, p, prf(Weighted)))),
        (
            Box::new(F1Score::builder().average(Macro).zero_division(ZeroDivision::NaN).build().unwrap()),
            Box::new(move |t, p| f1_score(t, p, prf(Macro).zero_division(ZeroDivision::NaN))),
        ),
        (
            Box::new(FBeta::builder().beta(0.5).average(Macro).build().unwrap()),
            Box::new(move |t, p| fbeta_score(t, p, 0.5, prf(Macro))),
        ),
        (Box::new(FBeta::new(2.0).unwrap()), Box::new(move |t, p| fbeta_score(t, p, 2.0, prf(Binary)))),
        (Box::new(Jaccard::binary()), Box::new(move |t, p| jaccard_score(t, p, prf(Binary)))),
        (Box::new(Jaccard::macro_average()), Box::new(move |t, p| jaccard_score(t, p, prf(Macro)))),
        (Box::new(Jaccard::weighted_average()), Box::new(move |t, p| jaccard_score(t, p, prf(Weighted)))),
        (
            Box::new(BalancedAccuracy::new()),
            Box::new(|t, p| balanced_accuracy_score(t, p, BalancedAccuracyOptions::new())),
        ),
        (
            Box::new(BalancedAccuracy::builder().adjusted(true).build().unwrap()),
            Box::new(|t, p| balanced_accuracy_score(t, p, BalancedAccuracyOptions::new().adjusted(true))),
        ),
        (Box::new(MatthewsCorrCoef::new()), Box::new(|t, p| matthews_corrcoef(t, p, None))),
        (Box::new(CohenKappa::new()), Box::new(|t, p| cohen_kappa_score(t, p, CohenKappaOptions::new()))),
        (
            Box::new(CohenKappa::builder().weights(KappaWeights::Quadratic).build().unwrap()),
            Box::new(|t, p| {
                cohen_kappa_score(t, p, CohenKappaOptions::new().weights(KappaWeights::Quadratic))
            }),
        ),
        (Box::new(HammingLoss::new()), Box::new(|t, p| hamming_loss(t, p, None))),
        (Box::new(ClassCounts::new()), Box::new(|t, p| accuracy_score(t, p, AccuracyOptions::new()))),
    ]
}

/// Batch split points.
fn cuts(n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=n, 0..6)
}

/// `[N, C]` scores on a coarse grid (ties happen) and targets `0..C`.
fn class_data() -> impl Strategy<Value = (ArrayD<f64>, Vec<usize>, Vec<usize>)> {
    (2usize..=4, 1usize..=40).prop_flat_map(|(c, n)| {
        (
            proptest::collection::vec((-6i32..=6).prop_map(|v| f64::from(v) * 0.5), n * c)
                .prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&[n, c]), v).unwrap()),
            proptest::collection::vec(0..c, n),
            cuts(n),
        )
    })
}

/// `[N]` logits and binary targets.
fn binary_data() -> impl Strategy<Value = (ArrayD<f64>, Vec<usize>, Vec<usize>)> {
    (1usize..=40).prop_flat_map(|n| {
        (
            proptest::collection::vec((-6i32..=6).prop_map(|v| f64::from(v) * 0.5), n)
                .prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap()),
            proptest::collection::vec(0..2usize, n),
            cuts(n),
        )
    })
}

fn check_counts(pred: &ArrayD<f64>, t: &[usize], cuts: &[usize]) -> std::result::Result<(), TestCaseError> {
    let target = ArrayD::from_shape_vec(IxDyn(&[t.len()]), t.to_vec()).unwrap();
    let p = decode(pred);
    for (mut metric, reference) in counts_metrics() {
        let one = stream(metric.as_mut(), pred, &target, &[]);
        let split = stream(metric.as_mut(), pred, &target, cuts);
        prop_assert!(same(&one, &split), "{}: one batch {one:?} vs split {split:?}", metric.name());
        let want = reference(t, &p);
        prop_assert!(close(&one, &want), "{}: streamed {one:?} vs functional {want:?}", metric.name());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn counts_metrics_multiclass_outputs((pred, t, cuts) in class_data()) {
        check_counts(&pred, &t, &cuts)?;
    }

    #[test]
    fn counts_metrics_one_column_logits((pred, t, cuts) in binary_data()) {
        check_counts(&pred, &t, &cuts)?;
        // f32 outputs give the same counts
        let target = ArrayD::from_shape_vec(IxDyn(&[t.len()]), t.clone()).unwrap();
        let p32 = pred.mapv(|v| v as f32);
        let mut a = F1Score::binary();
        Metric::<f32, usize>::update(&mut a, p32.view(), target.view()).unwrap();
        let mut b = F1Score::binary();
        Metric::<f64, usize>::update(&mut b, pred.view(), target.view()).unwrap();
        prop_assert!(same(&Metric::<f32, usize>::compute(&a), &Metric::<f64, usize>::compute(&b)));
    }

    #[test]
    fn score_metrics_multiclass((pred, t, cuts) in class_data()) {
        let target = ArrayD::from_shape_vec(IxDyn(&[t.len()]), t.clone()).unwrap();
        let c = pred.shape()[1];
        let probs = softmax(&pred);
        let labels: Vec<usize> = (0..c).collect();
        let all_present = labels.iter().all(|l| t.contains(l));
        let mut list: Vec<(ClassMetricBox, Option<Result<f64>>)> = vec![
            (
                Box::new(RocAuc::builder().from_logits(true).build().unwrap()),
                (c > 2).then(|| roc_auc_score(&t, &probs, RocAucOptions::new().multi_class(MultiClass::Ovr).labels(labels.clone()))),
            ),
            (
                Box::new(RocAuc::builder().from_logits(true).average(Average::Weighted).build().unwrap()),
                (c > 2).then(|| roc_auc_score(&t, &probs, RocAucOptions::new().multi_class(MultiClass::Ovr).average(Average::Weighted).labels(labels.clone()))),
            ),
            (
                Box::new(RocAuc::builder().from_logits(true).multi_class(MultiClass::Ovo).build().unwrap()),
                (c > 2).then(|| roc_auc_score(&t, &probs, RocAucOptions::new().multi_class(MultiClass::Ovo).labels(labels.clone()))),
            ),
            (
                Box::new(AveragePrecision::builder().from_logits(true).build().unwrap()),
                (c > 2 && all_present).then(|| average_precision_score(&t, &probs, AveragePrecisionOptions::new())),
            ),
            (
                Box::new(AveragePrecision::builder().from_logits(true).average(Average::Micro).build().unwrap()),
                (c > 2 && all_present).then(|| average_precision_score(&t, &probs, AveragePrecisionOptions::new().average(Average::Micro))),
            ),
            (
                Box::new(LogLoss::builder().from_logits(true).build().unwrap()),
                Some(log_loss(&t, &probs, LogLossOptions::new().labels(labels.clone()))),
            ),
            (
                Box::new(BrierScoreLoss::builder().from_logits(true).build().unwrap()),
                Some(brier_score_loss(&t, &probs, BrierOptions::new().labels(labels.clone()))),
            ),
            (
                Box::new(TopKAccuracy::new(2).unwrap()),
                (c > 2).then(|| top_k_accuracy_score(&t, &pred, TopKOptions::new().k(2).labels(labels.clone()))),
            ),
            (
                Box::new(TopKAccuracy::new(1).unwrap()),
                (c > 2).then(|| top_k_accuracy_score(&t, &pred, TopKOptions::new().k(1).labels(labels.clone()))),
            ),
        ];
        for (metric, reference) in list.iter_mut() {
            let one = stream(metric.as_mut(), &pred, &target, &[]);
            let split = stream(metric.as_mut(), &pred, &target, &cuts);
            prop_assert!(same(&one, &split), "{}: one batch {one:?} vs split {split:?}", metric.name());
            if let Some(want) = reference {
                prop_assert!(close(&one, want), "{}: streamed {one:?} vs functional {want:?}", metric.name());
            }
        }
    }

    #[test]
    fn score_metrics_binary((pred, t, cuts) in binary_data()) {
        let target = ArrayD::from_shape_vec(IxDyn(&[t.len()]), t.clone()).unwrap();
        let probs: Array1<f64> = pred.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
        let mut list: Vec<(ClassMetricBox, Result<f64>)> = vec![
            (Box::new(RocAuc::new()), roc_auc_score(&t, &pred, RocAucOptions::new())),
            (Box::new(RocAuc::builder().max_fpr(0.5).build().unwrap()), roc_auc_score(&t, &pred, RocAucOptions::new().max_fpr(0.5))),
            (Box::new(AveragePrecision::new()), average_precision_score(&t, &pred, AveragePrecisionOptions::new())),
            (Box::new(LogLoss::builder().from_logits(true).build().unwrap()), log_loss(&t, &probs, LogLossOptions::new().labels([0, 1]))),
            (Box::new(BrierScoreLoss::builder().from_logits(true).build().unwrap()), brier_score_loss(&t, &probs, BrierOptions::new())),
        ];
        for (metric, want) in list.iter_mut() {
            let one = stream(metric.as_mut(), &pred, &target, &[]);
            let split = stream(metric.as_mut(), &pred, &target, &cuts);
            prop_assert!(same(&one, &split), "{}: one batch {one:?} vs split {split:?}", metric.name());
            prop_assert!(close(&one, want), "{}: streamed {one:?} vs functional {want:?}", metric.name());
        }
    }

    #[test]
    fn regression_metrics((k, yt, yp, cuts) in (1usize..=2, 1usize..=40).prop_flat_map(|(k, n)| (
        Just(k),
        proptest::collection::vec((0i32..=20).prop_map(|v| f64::from(v) * 0.25), n * k),
        proptest::collection::vec((0i32..=20).prop_map(|v| f64::from(v) * 0.25), n * k),
        cuts(n),
    ))) {
        let n = yt.len() / k;
        let shape: Vec<usize> = if k == 1 { vec![n] } else { vec![n, k] };
        let t = ArrayD::from_shape_vec(IxDyn(&shape), yt).unwrap();
        let p = ArrayD::from_shape_vec(IxDyn(&shape), yp).unwrap();
        let o = RegressionOptions::new;
        let mut list: Vec<(RegMetricBox, Result<f64>)> = vec![
            (Box::new(Mse::new()), mean_squared_error(&t, &p, o())),
            (Box::new(Rmse::new()), root_mean_squared_error(&t, &p, o())),
            (Box::new(Mae::new()), mean_absolute_error(&t, &p, o())),
            (Box::new(Mape::new()), mean_absolute_percentage_error(&t, &p, o())),
            (Box::new(Msle::new()), mean_squared_log_error(&t, &p, o())),
            (Box::new(R2::new()), r2_score(&t, &p, o())),
            (Box::new(R2::builder().force_finite(false).build().unwrap()), r2_score(&t, &p, o().force_finite(false))),
            (
                Box::new(R2::builder().multioutput(MultiOutput::VarianceWeighted).build().unwrap()),
                r2_score(&t, &p, o().multioutput(MultiOutput::VarianceWeighted)),
            ),
            (Box::new(ExplainedVariance::new()), explained_variance_score(&t, &p, o())),
            (Box::new(MedianAbsoluteError::new()), median_absolute_error(&t, &p, o())),
            (Box::new(D2AbsoluteError::new()), d2_absolute_error_score(&t, &p, o())),
            (Box::new(MaxError::new()), max_error(&t, &p)),
        ];
        for (metric, want) in list.iter_mut() {
            let one = stream(metric.as_mut(), &p, &t, &[]);
            let split = stream(metric.as_mut(), &p, &t, &cuts);
            prop_assert!(same(&one, &split), "{}: one batch {one:?} vs split {split:?}", metric.name());
            prop_assert!(close(&one, want), "{}: streamed {one:?} vs functional {want:?}", metric.name());
        }
    }
}

#[test]
fn empty_metric_is_an_error_and_reset_forgets() {
    let mut f1 = F1Score::macro_average();
    assert!(matches!(Metric::<f64, usize>::compute(&f1), Err(Error::EmptyInput { .. })));
    let p = ndarray::array![[1.0, 0.0], [0.0, 1.0]].into_dyn();
    let t = ndarray::array![0usize, 1].into_dyn();
    f1.update(p.view(), t.view()).unwrap();
    assert_eq!(Metric::<f64, usize>::compute(&f1).unwrap(), 1.0);
    Metric::<f64, usize>::reset(&mut f1);
    assert!(matches!(Metric::<f64, usize>::compute(&f1), Err(Error::EmptyInput { .. })));
}
