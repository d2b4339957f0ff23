//! Bad input to metrics: every case returns a clear `Err` (or the documented value),
//! never a panic, and a failed streaming update leaves the metric unchanged.

use ndarray::{ArrayD, IxDyn, array};
use ndtrain::Error;
use ndtrain::metrics::*;
use proptest::prelude::*;

fn dyn1<T: Clone>(v: &[T]) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap()
}

// ---------------------------------------------------------------------------------
// functional API

#[test]
fn mismatched_lengths() {
    let r = accuracy_score(&[0, 1, 1], &[0, 1], AccuracyOptions::new());
    assert!(matches!(r, Err(Error::LengthMismatch { op: "accuracy_score", expected: 3, got: 2, .. })));
    assert!(matches!(f1_score(&[0, 1], &[0, 1, 0], PrfOptions::new()), Err(Error::LengthMismatch { .. })));
    assert!(matches!(
        confusion_matrix(&["a"], &["a", "b"], ConfusionMatrixOptions::new()),
        Err(Error::LengthMismatch { .. })
    ));
    let w = [1.0, 2.0];
    assert!(matches!(
        precision_score(&[0, 1, 1], &[0, 1, 1], PrfOptions::new().sample_weight(&w)),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        roc_auc_score(&[0, 1, 1], &[0.1, 0.2], RocAucOptions::new()),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(log_loss(&[0, 1], &[0.1], LogLossOptions::new()), Err(Error::LengthMismatch { .. })));
    assert!(matches!(
        mean_squared_error(&[1.0, 2.0], &[1.0], RegressionOptions::new()),
        Err(Error::LengthMismatch { .. })
    ));
    let two = array![[1.0, 2.0], [3.0, 4.0]];
    let three = array![[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]];
    assert!(matches!(r2_score(&two, &three, RegressionOptions::new()), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn empty_inputs() {
    let e: [i64; 0] = [];
    let ef: [f64; 0] = [];
    assert!(matches!(accuracy_score(&e, &e, AccuracyOptions::new()), Err(Error::EmptyInput { .. })));
    assert!(matches!(f1_score(&e, &e, PrfOptions::new()), Err(Error::EmptyInput { .. })));
    assert!(matches!(matthews_corrcoef(&e, &e, None), Err(Error::EmptyInput { .. })));
    assert!(matches!(roc_auc_score(&e, &ef, RocAucOptions::new()), Err(Error::EmptyInput { .. })));
    assert!(matches!(log_loss(&e, &ef, LogLossOptions::new()), Err(Error::EmptyInput { .. })));
    assert!(matches!(mean_squared_error(&ef, &ef, RegressionOptions::new()), Err(Error::EmptyInput { .. })));
    assert!(matches!(max_error(&ef, &ef), Err(Error::EmptyInput { .. })));
    assert!(matches!(classification_report(&e, &e, ReportOptions::new()), Err(Error::EmptyInput { .. })));
}

#[test]
fn nan_scores_and_values() {
    let nan = [0.2, f64::NAN, 0.7];
    assert!(matches!(roc_auc_score(&[0, 1, 1], &nan, RocAucOptions::new()), Err(Error::NonFinite { .. })));
    assert!(matches!(
        average_precision_score(&[0, 1, 1], &nan, AveragePrecisionOptions::new()),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(log_loss(&[0, 1, 1], &nan, LogLossOptions::new()), Err(Error::NonFinite { .. })));
    assert!(matches!(
        mean_absolute_error(&[1.0, 2.0, 3.0], &nan, RegressionOptions::new()),
        Err(Error::NonFinite { .. })
    ));
    let inf_w = [1.0, f64::INFINITY, 1.0];
    assert!(matches!(
        accuracy_score(&[0, 1, 1], &[0, 1, 1], AccuracyOptions::new().sample_weight(&inf_w)),
        Err(Error::NonFinite { what: "sample_weight", .. })
    ));
}

#[test]
fn invalid_values_and_configurations() {
    // probabilities outside [0, 1]
    assert!(matches!(
        log_loss(&[0, 1], &[-0.1, 0.5], LogLossOptions::new()),
        Err(Error::InvalidValue { .. })
    ));
    assert!(matches!(
        brier_score_loss(&[0, 1], &[1.5, 0.5], BrierOptions::new()),
        Err(Error::InvalidValue { .. })
    ));
    // MSLE domain
    assert!(matches!(
        mean_squared_log_error(&[1.0, -2.0], &[1.0, 1.0], RegressionOptions::new()),
        Err(Error::InvalidValue { .. })
    ));
    // average='binary' on a multiclass target; pos_label not a label
    assert!(matches!(
        recall_score(&[0, 1, 2], &[0, 1, 2], PrfOptions::new()),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        precision_score(&["a", "b"], &["a", "b"], PrfOptions::new().pos_label("c")),
        Err(Error::InvalidInput { .. })
    ));
    // multiclass ROC AUC without a strategy, with logits instead of probabilities
    let s = array![[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]];
    assert!(matches!(roc_auc_score(&[0, 1, 2], &s, RocAucOptions::new()), Err(Error::InvalidInput { .. })));
    let logits = array![[2.0, 0.3, 0.5], [0.6, 3.0, 0.1], [0.1, 0.1, 0.8]];
    assert!(matches!(
        roc_auc_score(&[0, 1, 2], &logits, RocAucOptions::new().multi_class(MultiClass::Ovr)),
        Err(Error::InvalidInput { .. })
    ));
    // score columns vs classes; y_true labels missing from `labels`
    assert!(matches!(
        top_k_accuracy_score(&[0, 1, 1], &s, TopKOptions::new()),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        top_k_accuracy_score(&[0, 1, 5], &s, TopKOptions::new().labels([0, 1, 2])),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        top_k_accuracy_score(&[0, 1, 2], &s, TopKOptions::new().labels([2, 1, 0])),
        Err(Error::InvalidInput { .. })
    ));
    // invalid hyper-parameters
    assert!(matches!(
        top_k_accuracy_score(&[0, 1, 2], &s, TopKOptions::new().k(0)),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        fbeta_score(&[0, 1], &[0, 1], f64::NAN, PrfOptions::new()),
        Err(Error::InvalidParameter { name: "beta", .. })
    ));
    assert!(matches!(
        roc_auc_score(&[0, 1], &[0.1, 0.9], RocAucOptions::new().max_fpr(0.0)),
        Err(Error::InvalidParameter { name: "max_fpr", .. })
    ));
    // labels-based errors
    assert!(matches!(
        confusion_matrix(&[0, 1], &[0, 1], ConfusionMatrixOptions::new().labels([7, 8])),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        mean_squared_error(
            &array![[1.0, 2.0]],
            &array![[1.0, 2.0]],
            RegressionOptions::new().multioutput(MultiOutput::Weights(vec![1.0]))
        ),
        Err(Error::LengthMismatch { .. })
    ));
    // 2-D labels
    assert!(matches!(
        accuracy_score(&array![[0, 1], [1, 0]], &array![[0, 1], [1, 0]], AccuracyOptions::new()),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn zero_division_follows_policy() {
    // class 2 never predicted: precision 0/0
    let (t, p) = ([0, 1, 2, 2], [0, 1, 1, 0]);
    let per = |zd| precision_score_per_class(&t, &p, PrfOptions::new().zero_division(zd)).unwrap();
    assert_eq!(per(ZeroDivision::Warn)[2], 0.0);
    assert_eq!(per(ZeroDivision::Zero)[2], 0.0);
    assert_eq!(per(ZeroDivision::One)[2], 1.0);
    assert!(per(ZeroDivision::NaN)[2].is_nan());
    // NaN classes are skipped by macro averages: (1/2 + 1/2) / 2, not / 3
    let m =
        precision_score(&t, &p, PrfOptions::new().average(Average::Macro).zero_division(ZeroDivision::NaN));
    assert_eq!(m.unwrap(), 0.5);
    // no positives at all: every score is 0/0
    let z = [0, 0, 0];
    assert_eq!(f1_score(&z, &z, PrfOptions::new().zero_division(ZeroDivision::One)).unwrap(), 1.0);
    assert_eq!(recall_score(&z, &z, PrfOptions::new()).unwrap(), 0.0);
    assert!(jaccard_score(&z, &z, PrfOptions::new().zero_division(ZeroDivision::NaN)).unwrap().is_nan());
    // documented values of other undefined metrics
    assert_eq!(matthews_corrcoef(&[1, 1, 1], &[1, 1, 1], None).unwrap(), 0.0);
    assert!(cohen_kappa_score(&[2, 2], &[2, 2], CohenKappaOptions::new()).unwrap().is_nan());
    assert!(roc_auc_score(&[1, 1], &[0.2, 0.3], RocAucOptions::new()).unwrap().is_nan());
    assert_eq!(average_precision_score(&[0, 0], &[0.2, 0.3], AveragePrecisionOptions::new()).unwrap(), 0.0);
    assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 2.0], RegressionOptions::new()).unwrap(), 0.0);
    assert!(r2_score(&[1.0], &[1.0], RegressionOptions::new()).unwrap().is_nan());
    let w0 = [0.0, 0.0];
    assert!(matches!(
        accuracy_score(&[0, 1], &[0, 1], AccuracyOptions::new().sample_weight(&w0)),
        Err(Error::InvalidInput { .. })
    ));
}

// ---------------------------------------------------------------------------------
// streaming

#[test]
fn streaming_labels_out_of_range_and_shapes() {
    let mut acc = Accuracy::new();
    // 3 output columns: target 3 is out of range
    let r = acc.update(array![[0.1, 0.2, 0.7]].into_dyn().view(), dyn1(&[3usize]).view());
    assert!(matches!(r, Err(Error::LabelOutOfRange { label: 3, n_classes: 3, .. })));
    // one column: classes {0, 1}
    let mut f1 = F1Score::binary();
    let r = f1.update(dyn1(&[0.3, -0.2]).view(), dyn1(&[1usize, 2]).view());
    assert!(matches!(r, Err(Error::LabelOutOfRange { label: 2, n_classes: 2, .. })));
    // n_classes fixes the output width
    let mut p = Precision::builder().average(Average::Macro).n_classes(4).build().unwrap();
    let r = p.update(array![[0.1, 0.2, 0.7]].into_dyn().view(), dyn1(&[0usize]).view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    // output width changes between batches
    let mut r2 = Recall::macro_average();
    r2.update(array![[0.1, 0.9]].into_dyn().view(), dyn1(&[1usize]).view()).unwrap();
    let r = r2.update(array![[0.1, 0.2, 0.7]].into_dyn().view(), dyn1(&[0usize]).view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    // lengths
    let r = r2.update(array![[0.1, 0.9], [0.5, 0.5]].into_dyn().view(), dyn1(&[1usize]).view());
    assert!(matches!(r, Err(Error::LengthMismatch { .. })));
    // bad ranks of outputs and targets
    let r = acc.update(ArrayD::<f64>::zeros(IxDyn(&[2, 2, 2])).view(), dyn1(&[0usize, 1]).view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    let r = acc
        .update(ArrayD::<f64>::zeros(IxDyn(&[2, 2])).view(), ArrayD::<usize>::zeros(IxDyn(&[2, 2])).view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    let r = acc.update(ArrayD::<f64>::zeros(IxDyn(&[2, 0])).view(), dyn1(&[0usize, 1]).view());
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    // labels option beyond the classes seen
    let mut j = Jaccard::builder().average(Average::Macro).labels([5]).build().unwrap();
    j.update(array![[0.1, 0.9]].into_dyn().view(), dyn1(&[1usize]).view()).unwrap();
    assert!(matches!(Metric::<f64, usize>::compute(&j), Err(Error::LabelOutOfRange { label: 5, .. })));
}

#[test]
fn streaming_nan_scores() {
    let mut auc = RocAuc::new();
    let r = auc.update(dyn1(&[0.1, f64::NAN]).view(), dyn1(&[0usize, 1]).view());
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    let mut acc = Accuracy::new();
    let r = acc.update(array![[f64::NAN, 0.0]].into_dyn().view(), dyn1(&[0usize]).view());
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    let mut ll = LogLoss::builder().from_logits(true).build().unwrap();
    let r = ll.update(array![[f64::INFINITY, 0.0]].into_dyn().view(), dyn1(&[0usize]).view());
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    let mut mse = Mse::new();
    let r = mse.update(dyn1(&[f64::NAN]).view(), dyn1(&[1.0]).view());
    assert!(matches!(r, Err(Error::NonFinite { .. })));
    // multiclass ROC AUC from logits without from_logits: rows do not sum to 1
    let mut auc = RocAuc::new();
    auc.update(
        array![[2.0, 0.3, 0.5], [0.6, 3.0, 0.1], [0.1, 0.1, 0.8]].into_dyn().view(),
        dyn1(&[0usize, 1, 2]).view(),
    )
    .unwrap();
    assert!(matches!(Metric::<f64, usize>::compute(&auc), Err(Error::InvalidInput { .. })));
}

#[test]
fn streaming_zero_division_and_empty() {
    // class 1 never predicted nor true: binary precision of class 1 is 0/0
    let out = array![[0.9, 0.1], [0.8, 0.2]].into_dyn();
    let t = dyn1(&[0usize, 0]);
    for (zd, want) in
        [(ZeroDivision::Warn, Some(0.0)), (ZeroDivision::One, Some(1.0)), (ZeroDivision::NaN, None)]
    {
        let mut p = Precision::builder().zero_division(zd).build().unwrap();
        p.update(out.view(), t.view()).unwrap();
        let v = Metric::<f64, usize>::compute(&p).unwrap();
        match want {
            Some(w) => assert_eq!(v, w),
            None => assert!(v.is_nan()),
        }
    }
    // empty batches are fine; computing before any sample is EmptyInput
    let mut f1 = F1Score::macro_average();
    f1.update(ArrayD::<f64>::zeros(IxDyn(&[0, 3])).view(), dyn1::<usize>(&[]).view()).unwrap();
    assert!(matches!(Metric::<f64, usize>::compute(&f1), Err(Error::EmptyInput { .. })));
    let r2 = R2::new();
    assert!(matches!(Metric::<f64, f64>::compute(&r2), Err(Error::EmptyInput { .. })));
    let ll = LogLoss::new();
    assert!(matches!(Metric::<f64, usize>::compute(&ll), Err(Error::EmptyInput { .. })));
    let med = MedianAbsoluteError::new();
    assert!(matches!(Metric::<f32, f32>::compute(&med), Err(Error::EmptyInput { .. })));
}

/// An arbitrary (often malformed) batch: outputs of rank 0..=3 and targets of any length.
fn garbage() -> impl Strategy<Value = (Vec<usize>, Vec<f64>, Vec<usize>, usize)> {
    (0usize..=3).prop_flat_map(|rank| proptest::collection::vec(0usize..4, rank)).prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        (
            Just(shape),
            proptest::collection::vec(
                prop_oneof![(-3.0f64..3.0), Just(f64::NAN), Just(f64::INFINITY), Just(0.5)],
                n,
            ),
            proptest::collection::vec(0usize..6, 0..5),
            0usize..5,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Never a panic; a failed update changes nothing.
    #[test]
    fn streaming_never_panics((shape, data, targets, ttl) in garbage()) {
        let pred = ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap();
        let target = dyn1(&targets);
        let good_p = array![[0.2, 0.8], [0.6, 0.4]].into_dyn();
        let good_t = dyn1(&[1usize, 1]);
        let mut class_metrics: Vec<Box<dyn Metric<f64, usize>>> = vec![
            Box::new(Accuracy::new()), Box::new(F1Score::macro_average()), Box::new(Precision::binary()),
            Box::new(CohenKappa::new()), Box::new(MatthewsCorrCoef::new()), Box::new(ClassCounts::new()),
            Box::new(RocAuc::new()), Box::new(AveragePrecision::new()), Box::new(LogLoss::new()),
            Box::new(BrierScoreLoss::builder().from_logits(true).build().unwrap()), Box::new(TopKAccuracy::new(1).unwrap()),
        ];
        for m in class_metrics.iter_mut() {
            m.update(good_p.view(), good_t.view()).unwrap();
            let before = m.compute();
            if m.update(pred.view(), target.view()).is_err() {
                let after = m.compute();
                prop_assert_eq!(format!("{before:?}"), format!("{after:?}"), "{} changed after a failed update", m.name());
            }
            let _ = m.compute();
        }
        let tf: Vec<f64> = (0..ttl).map(|i| i as f64).collect();
        let target_f = dyn1(&tf);
        let mut reg: Vec<Box<dyn Metric<f64, f64>>> = vec![
            Box::new(Mse::new()), Box::new(R2::new()), Box::new(Msle::new()), Box::new(MaxError::new()),
            Box::new(MedianAbsoluteError::new()), Box::new(D2AbsoluteError::new()), Box::new(ExplainedVariance::new()),
        ];
        for m in reg.iter_mut() {
            m.update(dyn1(&[1.0, 2.0]).view(), dyn1(&[1.5, 2.5]).view()).unwrap();
            let before = m.compute();
            if m.update(pred.view(), target_f.view()).is_err() {
                prop_assert_eq!(format!("{before:?}"), format!("{:?}", m.compute()), "{} changed", m.name());
            }
        }
    }

    /// The functional API never panics on arbitrary label / score inputs.
    #[test]
    fn functional_never_panics(
        yt in proptest::collection::vec(0i64..4, 0..12),
        yp in proptest::collection::vec(0i64..4, 0..12),
        s in proptest::collection::vec(prop_oneof![(0.0f64..1.0), Just(f64::NAN), Just(2.0)], 0..12),
    ) {
        let _ = accuracy_score(&yt, &yp, AccuracyOptions::new());
        let _ = f1_score(&yt, &yp, PrfOptions::new());
        let _ = f1_score(&yt, &yp, PrfOptions::new().average(Average::Weighted).labels([9, 1]));
        let _ = jaccard_score(&yt, &yp, PrfOptions::new().average(Average::Macro).zero_division(ZeroDivision::NaN));
        let _ = cohen_kappa_score(&yt, &yp, CohenKappaOptions::new().weights(KappaWeights::Linear));
        let _ = balanced_accuracy_score(&yt, &yp, BalancedAccuracyOptions::new().adjusted(true));
        let _ = confusion_matrix(&yt, &yp, ConfusionMatrixOptions::new().normalize(Normalize::Pred));
        let _ = classification_report(&yt, &yp, ReportOptions::new()).map(|r| r.to_string());
        let _ = roc_auc_score(&yt, &s, RocAucOptions::new().max_fpr(0.4));
        let _ = average_precision_score(&yt, &s, AveragePrecisionOptions::new());
        let _ = log_loss(&yt, &s, LogLossOptions::new());
        let _ = brier_score_loss(&yt, &s, BrierOptions::new());
        let _ = top_k_accuracy_score(&yt, &s, TopKOptions::new().k(1));
        let yf: Vec<f64> = yt.iter().map(|&v| v as f64).collect();
        let _ = r2_score(&yf, &s, RegressionOptions::new());
        let _ = median_absolute_error(&yf, &s, RegressionOptions::new());
        let _ = d2_absolute_error_score(&yf, &s, RegressionOptions::new());
    }
}
