//! Bad input to the losses: each case returns a clear `Err` (never a panic) naming the
//! operation and the offending shapes or values, and leaves the gradient buffer
//! untouched (everything is validated before the first write). NaN in predictions
//! propagates into the value, as in PyTorch; only `BceLoss` (probabilities) rejects it.

use ndarray::{Array1, ArrayD, Dimension, IxDyn, array};
use ndtrain::Error;
use ndtrain::loss::*;

fn zeros(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(IxDyn(shape))
}

fn filled(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| 0.1 + 0.05 * i.slice().iter().sum::<usize>() as f64)
}

/// Runs `loss_and_grad` into a buffer of sentinels and checks it stayed untouched.
fn err_untouched<Y>(loss: &dyn Loss<f64, Y>, x: &ArrayD<f64>, t: &ArrayD<Y>) -> Error {
    let mut g = ArrayD::from_elem(x.raw_dim(), 7.0);
    let e = loss.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap_err();
    assert!(g.iter().all(|&v| v == 7.0), "gradient written before the error {e}");
    e
}

type Named = (&'static str, Box<dyn Loss<f64, f64>>);

fn regression_losses() -> Vec<Named> {
    vec![
        ("MseLoss", Box::new(MseLoss::default())),
        ("L1Loss", Box::new(L1Loss::default())),
        ("SmoothL1Loss", Box::new(SmoothL1Loss::default())),
        ("HuberLoss", Box::new(HuberLoss::default())),
        ("BceLoss", Box::new(BceLoss::default())),
        ("BceWithLogitsLoss", Box::new(BceWithLogitsLoss::default())),
        ("KlDivLoss", Box::new(KlDivLoss::default())),
        ("HingeEmbeddingLoss", Box::new(HingeEmbeddingLoss::default())),
        ("SoftMarginLoss", Box::new(SoftMarginLoss::default())),
        ("PoissonNllLoss", Box::new(PoissonNllLoss::default())),
    ]
}

#[test]
fn elementwise_shape_mismatch_names_both_shapes() {
    for (op, loss) in regression_losses() {
        for (xs, ts) in [(&[4usize, 3][..], &[3usize, 4][..]), (&[4, 2], &[4]), (&[4], &[4, 1]), (&[5], &[4])]
        {
            let e = err_untouched(loss.as_ref(), &filled(xs), &filled(ts));
            assert_eq!(e, Error::ShapeMismatch { op, expected: xs.to_vec(), got: ts.to_vec() }, "{op}");
            assert!(e.to_string().contains(&format!("{ts:?}")), "{e}");
        }
        // A gradient buffer of the wrong shape.
        let x = filled(&[4, 3]);
        let mut g = zeros(&[3, 4]);
        let e = loss.loss_and_grad(x.view(), x.view(), g.view_mut()).unwrap_err();
        assert_eq!(e, Error::ShapeMismatch { op, expected: vec![4, 3], got: vec![3, 4] });
    }
}

#[test]
fn column_prediction_with_flat_target_is_accepted() {
    for (op, loss) in regression_losses() {
        let x = filled(&[4, 1]);
        let t = filled(&[4]);
        let mut g = zeros(&[4, 1]);
        let v = loss.loss_and_grad(x.view(), t.view(), g.view_mut());
        assert!(v.is_ok(), "{op}: {v:?}");
        // Same numbers as the [N, 1] target.
        let t2 = t.clone().into_shape_with_order(IxDyn(&[4, 1])).unwrap();
        assert_eq!(v.unwrap(), loss.loss(x.view(), t2.view()).unwrap(), "{op}");
    }
}

#[test]
fn empty_input_is_an_error() {
    for (op, loss) in regression_losses() {
        let e = err_untouched(loss.as_ref(), &zeros(&[0, 3]), &zeros(&[0, 3]));
        assert!(matches!(e, Error::EmptyInput { op: o, .. } if o == op), "{op}: {e}");
    }
    let ce = CrossEntropyLoss::<f64>::default();
    for (xs, ts) in [(&[0usize, 3][..], &[0usize][..]), (&[2, 0], &[2])] {
        let t = ArrayD::<usize>::zeros(IxDyn(ts));
        assert!(matches!(err_untouched(&ce, &zeros(xs), &t), Error::EmptyInput { .. }));
        assert!(matches!(err_untouched(&NllLoss::default(), &zeros(xs), &t), Error::EmptyInput { .. }));
        assert!(matches!(
            err_untouched(&MultiMarginLoss::default(), &zeros(xs), &t),
            Error::EmptyInput { .. }
        ));
    }
    let e = CrossEntropyLoss::<f64>::default().forward_probs(zeros(&[0, 3]).view(), zeros(&[0, 3]).view());
    assert!(matches!(e, Err(Error::EmptyInput { .. })));
    let e =
        MarginRankingLoss::<f64>::default().loss(zeros(&[0]).view(), zeros(&[0]).view(), zeros(&[0]).view());
    assert!(matches!(e, Err(Error::EmptyInput { .. })));
    let e = CosineEmbeddingLoss::<f64>::default().loss(
        zeros(&[2, 0]).view(),
        zeros(&[2, 0]).view(),
        zeros(&[2]).view(),
    );
    assert!(matches!(e, Err(Error::EmptyInput { .. })));
    let e =
        GaussianNllLoss::<f64>::default().loss(zeros(&[0]).view(), zeros(&[0]).view(), zeros(&[0]).view());
    assert!(matches!(e, Err(Error::EmptyInput { .. })));
}

#[test]
fn labels_out_of_range() {
    let x = filled(&[3, 4]);
    let t = array![0usize, 4, 1].into_dyn();
    let expected = |op| Error::LabelOutOfRange { op, label: 4, n_classes: 4 };
    assert_eq!(err_untouched(&CrossEntropyLoss::default(), &x, &t), expected("CrossEntropyLoss"));
    assert_eq!(err_untouched(&NllLoss::default(), &x, &t), expected("NllLoss"));
    assert_eq!(err_untouched(&MultiMarginLoss::default(), &x, &t), expected("MultiMarginLoss"));
    // An ignored index is exempt, any other is checked.
    let ce = CrossEntropyLoss::builder().ignore_index(4).build().unwrap();
    assert!(ce.loss(x.view(), t.view()).is_ok());
    let t9 = array![9usize, 4, 1].into_dyn();
    assert_eq!(
        err_untouched(&ce, &x, &t9),
        Error::LabelOutOfRange { op: "CrossEntropyLoss", label: 9, n_classes: 4 }
    );
    let e = CrossEntropyLoss::<f64>::default().loss(x.view(), t.view()).unwrap_err();
    assert_eq!(e.to_string(), "CrossEntropyLoss: label 4 out of range, expected a class index below 4");
    // Binary losses take 0/1 labels, with a prediction [N] or [N, 1].
    for xs in [&[3usize][..], &[3, 1][..]] {
        let p = filled(xs);
        let labels = array![0usize, 1, 2].into_dyn();
        let err = |op| Error::LabelOutOfRange { op, label: 2, n_classes: 2 };
        assert_eq!(err_untouched(&BceWithLogitsLoss::default(), &p, &labels), err("BceWithLogitsLoss"));
        assert_eq!(err_untouched(&BceLoss::default(), &p, &labels), err("BceLoss"));
    }
}

#[test]
fn class_target_shapes() {
    let ce = CrossEntropyLoss::<f64>::default();
    let x = filled(&[3, 4]);
    // Target [N, 1] against [N, C]: torch's class-index layout is [N].
    let e = err_untouched(&ce, &x, &ArrayD::<usize>::zeros(IxDyn(&[3, 1])));
    assert_eq!(e, Error::ShapeMismatch { op: "CrossEntropyLoss", expected: vec![3], got: vec![3, 1] });
    let e = err_untouched(&ce, &x, &ArrayD::<usize>::zeros(IxDyn(&[4])));
    assert_eq!(e, Error::ShapeMismatch { op: "CrossEntropyLoss", expected: vec![3], got: vec![4] });
    // [N, C, d]: target [N, d].
    let e = err_untouched(&ce, &filled(&[2, 4, 5]), &ArrayD::<usize>::zeros(IxDyn(&[2, 4])));
    assert_eq!(e, Error::ShapeMismatch { op: "CrossEntropyLoss", expected: vec![2, 5], got: vec![2, 4] });
    // 0-d input.
    let e = err_untouched(&ce, &filled(&[]), &ArrayD::<usize>::zeros(IxDyn(&[])));
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    // Probability targets must have the input's shape.
    let e = err_untouched(&ce, &x, &filled(&[3, 3]));
    assert_eq!(e, Error::ShapeMismatch { op: "CrossEntropyLoss", expected: vec![3, 4], got: vec![3, 3] });
    // Gradient buffer.
    let mut g = zeros(&[4, 3]);
    let e = ce.loss_and_grad(x.view(), array![0usize, 1, 2].into_dyn().view(), g.view_mut()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "CrossEntropyLoss", expected: vec![3, 4], got: vec![4, 3] });
    // Multi-margin takes at most 2-D input.
    let e = err_untouched(
        &MultiMarginLoss::default(),
        &filled(&[2, 4, 5]),
        &ArrayD::<usize>::zeros(IxDyn(&[2, 5])),
    );
    assert!(matches!(&e, Error::InvalidInput { message, .. } if message.contains("[2, 4, 5]")), "{e}");
}

#[test]
fn weights_that_do_not_fit() {
    let x = filled(&[3, 4]);
    let t = array![0usize, 1, 2].into_dyn();
    let ce = CrossEntropyLoss::builder().weight(Array1::from_elem(3, 1.0)).build().unwrap();
    let e = err_untouched(&ce, &x, &t);
    assert_eq!(
        e,
        Error::LengthMismatch {
            op: "CrossEntropyLoss",
            what: "weight (one entry per class)",
            expected: 4,
            got: 3
        }
    );
    let nll = NllLoss::builder().weight(Array1::from_elem(5, 1.0)).build().unwrap();
    assert!(matches!(err_untouched(&nll, &x, &t), Error::LengthMismatch { expected: 4, got: 5, .. }));
    // Elementwise weights must broadcast to the input.
    let bce = BceWithLogitsLoss::builder().pos_weight(Array1::from_elem(3, 2.0)).build().unwrap();
    let e = err_untouched(&bce, &x, &filled(&[3, 4]));
    assert!(
        matches!(&e, Error::InvalidInput { op: "BceWithLogitsLoss", message } if message.contains("[3]") && message.contains("[3, 4]")),
        "{e}"
    );
    let mse = MseLoss::builder().weight(filled(&[4, 3])).build().unwrap();
    assert!(matches!(err_untouched(&mse, &x, &x), Error::InvalidInput { op: "MseLoss", .. }));
}

#[test]
fn probabilities_outside_unit_interval() {
    let bce = BceLoss::<f64>::default();
    let t = filled(&[3]);
    for bad in [-0.1, 1.5, f64::NAN] {
        let x = array![0.5, bad, 0.2].into_dyn();
        let e = err_untouched(&bce, &x, &t);
        match &e {
            Error::InvalidValue { op: "BceLoss", value, .. } => {
                assert!(value.to_bits() == bad.to_bits() || *value == bad, "{e}")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().contains("[0, 1]"), "{e}");
    }
    // 0 and 1 themselves are fine (log clamped at -100).
    assert_eq!(
        bce.loss(array![0.0, 1.0].into_dyn().view(), array![1.0, 0.0].into_dyn().view()).unwrap(),
        100.0
    );
}

#[test]
fn nan_propagates_without_panicking() {
    let x = array![[0.5, f64::NAN], [1.0, 2.0]].into_dyn();
    let y = array![[0.0, 1.0], [1.0, 0.0]].into_dyn();
    for (op, loss) in regression_losses() {
        if op == "BceLoss" {
            continue; // rejects NaN, see probabilities_outside_unit_interval
        }
        let mut g = zeros(&[2, 2]);
        let v = loss.loss_and_grad(x.view(), y.view(), g.view_mut()).unwrap();
        assert!(v.is_nan(), "{op}: {v}");
    }
    let ce = CrossEntropyLoss::<f64>::default();
    let v = ce.loss(x.view(), array![0usize, 1].into_dyn().view()).unwrap();
    assert!(v.is_nan());
    // Infinite logits: NaN as well (inf - inf), not a panic.
    let inf = array![[f64::INFINITY, 0.0]].into_dyn();
    assert!(ce.loss(inf.view(), array![0usize].into_dyn().view()).unwrap().is_nan());
}

#[test]
fn two_input_losses() {
    let rank = MarginRankingLoss::<f64>::default();
    let e = rank.loss(filled(&[4]).view(), filled(&[3]).view(), filled(&[4]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "MarginRankingLoss", expected: vec![4], got: vec![3] });
    let e = rank.loss(filled(&[4]).view(), filled(&[4]).view(), filled(&[4, 1]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "MarginRankingLoss", expected: vec![4], got: vec![4, 1] });
    let (mut g1, mut g2) = (ArrayD::from_elem(IxDyn(&[4]), 7.0), zeros(&[5]));
    let e = rank
        .loss_and_grads(
            filled(&[4]).view(),
            filled(&[4]).view(),
            filled(&[4]).view(),
            g1.view_mut(),
            g2.view_mut(),
        )
        .unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "MarginRankingLoss", expected: vec![4], got: vec![5] });
    assert!(g1.iter().all(|&v| v == 7.0));

    let cos = CosineEmbeddingLoss::<f64>::default();
    let e = cos.loss(filled(&[3, 2]).view(), filled(&[3, 3]).view(), filled(&[3]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "CosineEmbeddingLoss", expected: vec![3, 2], got: vec![3, 3] });
    let e = cos.loss(filled(&[3, 2]).view(), filled(&[3, 2]).view(), filled(&[2]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "CosineEmbeddingLoss", expected: vec![3], got: vec![2] });
    let e = cos.loss(filled(&[2, 3, 2]).view(), filled(&[2, 3, 2]).view(), filled(&[2]).view()).unwrap_err();
    assert!(matches!(&e, Error::InvalidInput { message, .. } if message.contains("[2, 3, 2]")), "{e}");

    let g = GaussianNllLoss::<f64>::default();
    let x = filled(&[4, 3]);
    let e = g.loss(x.view(), x.view(), filled(&[3]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "GaussianNllLoss", expected: vec![4, 3], got: vec![3] });
    let e = g.loss(x.view(), x.view(), filled(&[4, 2]).view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "GaussianNllLoss", expected: vec![4, 3], got: vec![4, 2] });
    let e = g.loss(x.view(), filled(&[4, 2]).view(), x.view()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "GaussianNllLoss", expected: vec![4, 3], got: vec![4, 2] });
    let var = array![1.0, -0.5, 1.0, 1.0].into_dyn();
    let e = g.loss(x.view(), x.view(), var.view()).unwrap_err();
    assert_eq!(
        e,
        Error::InvalidValue { op: "GaussianNllLoss", what: "var", value: -0.5, expected: "a variance >= 0" }
    );
    // grad_var must have var's shape.
    let (mut gx, mut gv) = (zeros(&[4, 3]), zeros(&[4, 1]));
    let var = filled(&[4]);
    let e = g.loss_and_grads(x.view(), x.view(), var.view(), gx.view_mut(), gv.view_mut()).unwrap_err();
    assert_eq!(e, Error::ShapeMismatch { op: "GaussianNllLoss", expected: vec![4], got: vec![4, 1] });
}

#[test]
fn invalid_hyper_parameters_name_themselves() {
    let name = |e: Error| match e {
        Error::InvalidParameter { name, .. } => name,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(name(SmoothL1Loss::<f64>::builder().beta(-1.0).build().unwrap_err()), "beta");
    assert_eq!(name(HuberLoss::<f64>::builder().delta(0.0).build().unwrap_err()), "delta");
    assert_eq!(
        name(CrossEntropyLoss::<f64>::builder().label_smoothing(1.1).build().unwrap_err()),
        "label_smoothing"
    );
    assert_eq!(name(MultiMarginLoss::<f64>::builder().p(0).build().unwrap_err()), "p");
    assert_eq!(name(MultiMarginLoss::<f64>::builder().margin(f64::NAN).build().unwrap_err()), "margin");
    assert_eq!(name(PoissonNllLoss::<f64>::builder().eps(f64::NAN).build().unwrap_err()), "eps");
    assert_eq!(name(GaussianNllLoss::<f64>::builder().eps(-1e-6).build().unwrap_err()), "eps");
    assert_eq!(name(BceLoss::builder().weight(array![f64::NAN]).build().unwrap_err()), "weight");
    assert_eq!(name(NllLoss::builder().weight(array![1.0, f64::INFINITY]).build().unwrap_err()), "weight");
    assert!(matches!(NllLoss::<f64>::builder().weight(zeros(&[2, 2])).build(), Err(Error::InvalidConfig(_))));
}

#[test]
fn losses_are_send_sync() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<MseLoss<f32>>();
    check::<L1Loss<f64>>();
    check::<SmoothL1Loss<f64>>();
    check::<HuberLoss<f64>>();
    check::<BceLoss<f64>>();
    check::<BceWithLogitsLoss<f32>>();
    check::<CrossEntropyLoss<f32>>();
    check::<NllLoss<f64>>();
    check::<KlDivLoss<f64>>();
    check::<HingeEmbeddingLoss<f64>>();
    check::<MultiMarginLoss<f64>>();
    check::<SoftMarginLoss<f64>>();
    check::<PoissonNllLoss<f64>>();
    check::<GaussianNllLoss<f64>>();
    check::<MarginRankingLoss<f64>>();
    check::<CosineEmbeddingLoss<f64>>();
}
