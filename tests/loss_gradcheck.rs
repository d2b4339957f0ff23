//! Central finite-difference check of every loss's gradient, in f64, on random inputs
//! and several shapes, for each reduction and the weight / pos_weight /
//! label_smoothing / ignore_index variants.
//!
//! For every differentiable input `k` and element `i`, the central difference
//! `fd = (-L(x + 2h e_i) + 8 L(x + h e_i) - 8 L(x - h e_i) + L(x - 2h e_i)) / 12h`
//! (fourth order, h = 1e-4: truncation ~1e-16, round-off ~1e-11) must match the
//! analytic gradient within a relative error of 1e-6:
//! `|g - fd| / max(|g|, |fd|, 1e-3) < 1e-6` (the floor keeps round-off from failing
//! exact zeros). Inputs are seeded; an element of a piecewise loss within `2h` of a kink
//! would fail loudly (none does with these seeds).

use ndarray::{Array1, ArrayD, IxDyn};
use ndtrain::loss::*;
use rand::RngExt;

const H: f64 = 1e-4;
const TOL: f64 = 1e-6;
const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Mean, Reduction::Sum];

struct Rng(ndtrain::SeededRng);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(ndtrain::seeded_rng(seed))
    }
    fn uniform(&mut self, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || lo + (hi - lo) * self.0.random::<f64>())
    }
    fn normal_ish(&mut self, shape: &[usize]) -> ArrayD<f64> {
        self.uniform(shape, -2.0, 2.0)
    }
    fn signs(&mut self, shape: &[usize]) -> ArrayD<f64> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || if self.0.random::<bool>() { 1.0 } else { -1.0 })
    }
    fn labels(&mut self, shape: &[usize], n: usize) -> ArrayD<usize> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || self.0.random_range(0..n))
    }
    fn probs(&mut self, shape: &[usize], axis: usize) -> ArrayD<f64> {
        let mut p = self.uniform(shape, 0.05, 1.0);
        for mut lane in p.lanes_mut(ndarray::Axis(axis)) {
            let s = lane.sum();
            lane /= s;
        }
        p
    }
}

/// The generic checker: `value(inputs)` is the scalar loss, `analytic` one gradient per
/// input in `which` (indices into `inputs`).
fn fd_check(
    label: &str,
    inputs: &[ArrayD<f64>],
    which: &[usize],
    analytic: &[ArrayD<f64>],
    value: &dyn Fn(&[ArrayD<f64>]) -> f64,
) {
    assert_eq!(which.len(), analytic.len(), "{label}: one analytic gradient per input");
    let mut xs = inputs.to_vec();
    for (&k, g) in which.iter().zip(analytic) {
        assert_eq!(g.shape(), inputs[k].shape(), "{label}: gradient {k} shape");
        for i in 0..inputs[k].len() {
            let orig = inputs[k].as_slice().unwrap()[i];
            let mut at = |d: f64| {
                xs[k].as_slice_mut().unwrap()[i] = orig + d;
                value(&xs)
            };
            let fd = (-at(2.0 * H) + 8.0 * at(H) - 8.0 * at(-H) + at(-2.0 * H)) / (12.0 * H);
            xs[k].as_slice_mut().unwrap()[i] = orig;
            let a = g.as_slice().unwrap()[i];
            let rel = (a - fd).abs() / a.abs().max(fd.abs()).max(1e-3);
            assert!(
                rel < TOL,
                "{label}: input {k} element {i}: analytic {a:e}, finite difference {fd:e} (rel {rel:e})"
            );
        }
    }
}

/// A one-prediction loss through the trait; also checks that `loss` and
/// `loss_and_grad` agree.
fn check_loss<Y: Clone>(label: &str, loss: &dyn Loss<f64, Y>, x: &ArrayD<f64>, t: &ArrayD<Y>) {
    let mut g = ArrayD::zeros(x.raw_dim());
    let v = loss.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap();
    let v2 = loss.loss(x.view(), t.view()).unwrap();
    assert!((v - v2).abs() <= 1e-12 * v.abs().max(1.0), "{label}: loss {v2} vs loss_and_grad {v}");
    fd_check(label, std::slice::from_ref(x), &[0], &[g], &|xs| loss.loss(xs[0].view(), t.view()).unwrap());
}

const SHAPES: [&[usize]; 3] = [&[5], &[4, 3], &[2, 3, 2]];

#[test]
fn regression_losses() {
    let mut rng = Rng::new(1);
    for shape in SHAPES {
        let x = rng.normal_ish(shape);
        let y = rng.normal_ish(shape);
        let w_full = rng.uniform(shape, 0.1, 2.0);
        let w_last = rng.uniform(&shape[shape.len() - 1..], 0.1, 2.0);
        for r in REDUCTIONS {
            let l = format!("{shape:?} {r}");
            check_loss(&format!("mse {l}"), &MseLoss::builder().reduction(r).build().unwrap(), &x, &y);
            check_loss(&format!("l1 {l}"), &L1Loss::builder().reduction(r).build().unwrap(), &x, &y);
            for w in [&w_full, &w_last] {
                let mse = MseLoss::builder().reduction(r).weight(w.clone()).build().unwrap();
                check_loss(&format!("mse weight {:?} {l}", w.shape()), &mse, &x, &y);
                let l1 = L1Loss::builder().reduction(r).weight(w.clone()).build().unwrap();
                check_loss(&format!("l1 weight {:?} {l}", w.shape()), &l1, &x, &y);
                let hub = HuberLoss::builder().reduction(r).delta(0.7).weight(w.clone()).build().unwrap();
                check_loss(&format!("huber weight {:?} {l}", w.shape()), &hub, &x, &y);
            }
            for beta in [1.0, 0.5, 0.0] {
                let s = SmoothL1Loss::builder().reduction(r).beta(beta).build().unwrap();
                check_loss(&format!("smooth_l1 beta {beta} {l}"), &s, &x, &y);
            }
            for delta in [1.0, 0.3, 3.0] {
                let h = HuberLoss::builder().reduction(r).delta(delta).build().unwrap();
                check_loss(&format!("huber delta {delta} {l}"), &h, &x, &y);
            }
        }
    }
    // A regression model's [N, 1] output against [N] targets.
    let x = rng.normal_ish(&[6, 1]);
    let y = rng.normal_ish(&[6]);
    check_loss("mse [N,1] vs [N]", &MseLoss::default(), &x, &y);
    check_loss("huber [N,1] vs [N]", &HuberLoss::default(), &x, &y);
}

#[test]
fn binary_cross_entropies() {
    let mut rng = Rng::new(2);
    for shape in SHAPES {
        let p = rng.uniform(shape, 0.05, 0.95);
        let logits = rng.uniform(shape, -4.0, 4.0);
        let y = rng.uniform(shape, 0.0, 1.0);
        let labels = rng.labels(shape, 2);
        let w = rng.uniform(shape, 0.1, 2.0);
        let pw = rng.uniform(&shape[shape.len() - 1..], 0.2, 3.0);
        for r in REDUCTIONS {
            let l = format!("{shape:?} {r}");
            let bce = BceLoss::builder().reduction(r).build().unwrap();
            check_loss(&format!("bce {l}"), &bce, &p, &y);
            check_loss(&format!("bce labels {l}"), &bce, &p, &labels);
            let bce_w = BceLoss::builder().reduction(r).weight(w.clone()).build().unwrap();
            check_loss(&format!("bce weight {l}"), &bce_w, &p, &y);
            let plain = BceWithLogitsLoss::builder().reduction(r).build().unwrap();
            check_loss(&format!("bce_logits {l}"), &plain, &logits, &y);
            check_loss(&format!("bce_logits labels {l}"), &plain, &logits, &labels);
            let weighted = BceWithLogitsLoss::builder()
                .reduction(r)
                .weight(w.clone())
                .pos_weight(pw.clone())
                .build()
                .unwrap();
            check_loss(&format!("bce_logits weight+pos_weight {l}"), &weighted, &logits, &y);
            check_loss(&format!("bce_logits weight+pos_weight labels {l}"), &weighted, &logits, &labels);
            let pos = BceWithLogitsLoss::builder().reduction(r).pos_weight(pw.clone()).build().unwrap();
            check_loss(&format!("bce_logits pos_weight {l}"), &pos, &logits, &y);
        }
    }
    let x = rng.uniform(&[5, 1], -3.0, 3.0);
    let labels = rng.labels(&[5], 2);
    check_loss("bce_logits [N,1] vs labels [N]", &BceWithLogitsLoss::default(), &x, &labels);
}

#[test]
fn classification_losses() {
    let mut rng = Rng::new(3);
    // (input shape, target shape)
    let cases: [(&[usize], &[usize]); 3] = [(&[6, 4], &[6]), (&[3, 4, 2], &[3, 2]), (&[4], &[])];
    for (ishape, tshape) in cases {
        let c = 4;
        let x = rng.normal_ish(ishape);
        let t = rng.labels(tshape, c);
        let mut t_ignored = t.clone();
        if let Some(first) = t_ignored.iter_mut().next() {
            if t.len() > 1 {
                *first = usize::MAX;
            }
        }
        let w: Array1<f64> = Array1::from_iter((0..c).map(|i| 0.5 + i as f64 * 0.4));
        let axis = if ishape.len() == 1 { 0 } else { 1 };
        let probs = rng.probs(ishape, axis);
        let log_probs = {
            let mut lp = rng.normal_ish(ishape);
            for mut lane in lp.lanes_mut(ndarray::Axis(axis)) {
                let lse = lane.mapv(f64::exp).sum().ln();
                lane -= lse;
            }
            lp
        };
        for r in REDUCTIONS {
            let l = format!("{ishape:?} {r}");
            for ls in [0.0, 0.2] {
                for weight in [None, Some(w.clone())] {
                    let mut b = CrossEntropyLoss::builder().reduction(r).label_smoothing(ls);
                    if let Some(w) = weight.clone() {
                        b = b.weight(w);
                    }
                    let ce = b.clone().build().unwrap();
                    let tag = format!("ls {ls} weight {}", weight.is_some());
                    check_loss(&format!("ce {tag} {l}"), &ce, &x, &t);
                    check_loss(&format!("ce probs {tag} {l}"), &ce, &x, &probs);
                    let ce_ign = b.ignore_index(usize::MAX).build().unwrap();
                    check_loss(&format!("ce ignore {tag} {l}"), &ce_ign, &x, &t_ignored);
                }
            }
            for weight in [None, Some(w.clone())] {
                let mut b = NllLoss::builder().reduction(r).ignore_index(usize::MAX);
                if let Some(w) = weight.clone() {
                    b = b.weight(w);
                }
                let nll = b.build().unwrap();
                check_loss(&format!("nll weight {} {l}", weight.is_some()), &nll, &log_probs, &t_ignored);
            }
            if ishape.len() <= 2 {
                for p in [1, 2] {
                    for weight in [None, Some(w.clone())] {
                        let mut b = MultiMarginLoss::builder().reduction(r).p(p).margin(0.8);
                        if let Some(w) = weight.clone() {
                            b = b.weight(w);
                        }
                        let mm = b.build().unwrap();
                        check_loss(
                            &format!("multi_margin p {p} weight {} {l}", weight.is_some()),
                            &mm,
                            &x,
                            &t,
                        );
                    }
                }
            }
        }
        for red in
            [KlDivReduction::None, KlDivReduction::BatchMean, KlDivReduction::Mean, KlDivReduction::Sum]
        {
            let kl = KlDivLoss::builder().reduction(red).build().unwrap();
            check_loss(&format!("kl {ishape:?} {red:?}"), &kl, &log_probs, &probs);
            let kl_log = KlDivLoss::builder().reduction(red).log_target(true).build().unwrap();
            check_loss(
                &format!("kl log_target {ishape:?} {red:?}"),
                &kl_log,
                &log_probs,
                &probs.mapv(f64::ln),
            );
        }
    }
}

#[test]
fn margin_and_count_losses() {
    let mut rng = Rng::new(4);
    for shape in SHAPES {
        let x = rng.normal_ish(shape);
        let signs = rng.signs(shape);
        let dist = rng.uniform(shape, 0.0, 3.0);
        let counts = rng.uniform(shape, 0.0, 6.0).mapv(f64::round);
        let rate = rng.uniform(shape, 0.2, 5.0);
        for r in REDUCTIONS {
            let l = format!("{shape:?} {r}");
            let hinge = HingeEmbeddingLoss::builder().reduction(r).margin(1.5).build().unwrap();
            check_loss(&format!("hinge_embedding {l}"), &hinge, &dist, &signs);
            let soft = SoftMarginLoss::builder().reduction(r).build().unwrap();
            check_loss(&format!("soft_margin {l}"), &soft, &x, &signs);
            for full in [false, true] {
                let log_in = PoissonNllLoss::builder().reduction(r).full(full).build().unwrap();
                check_loss(&format!("poisson log_input full {full} {l}"), &log_in, &x, &counts);
                let rate_in =
                    PoissonNllLoss::builder().reduction(r).log_input(false).full(full).build().unwrap();
                check_loss(&format!("poisson rate full {full} {l}"), &rate_in, &rate, &counts);
            }
        }
    }
}

#[test]
fn two_input_losses() {
    let mut rng = Rng::new(5);
    for r in REDUCTIONS {
        // Margin ranking, any shape.
        for shape in SHAPES {
            let (a, b, y) = (rng.normal_ish(shape), rng.normal_ish(shape), rng.signs(shape));
            let loss = MarginRankingLoss::builder().reduction(r).margin(0.3).build().unwrap();
            let (mut g1, mut g2) = (ArrayD::zeros(a.raw_dim()), ArrayD::zeros(b.raw_dim()));
            loss.loss_and_grads(a.view(), b.view(), y.view(), g1.view_mut(), g2.view_mut()).unwrap();
            fd_check(&format!("margin_ranking {shape:?} {r}"), &[a, b], &[0, 1], &[g1, g2], &|xs| {
                loss.loss(xs[0].view(), xs[1].view(), y.view()).unwrap()
            });
        }
        // Cosine embedding: [N, D] and [D].
        for (shape, tshape) in [(&[5usize, 3][..], &[5usize][..]), (&[4][..], &[][..])] {
            let (a, b) = (rng.normal_ish(shape), rng.normal_ish(shape));
            let y = rng.signs(tshape);
            for margin in [0.0, -0.5] {
                let loss = CosineEmbeddingLoss::builder().reduction(r).margin(margin).build().unwrap();
                let (mut g1, mut g2) = (ArrayD::zeros(a.raw_dim()), ArrayD::zeros(b.raw_dim()));
                loss.loss_and_grads(a.view(), b.view(), y.view(), g1.view_mut(), g2.view_mut()).unwrap();
                let label = format!("cosine_embedding margin {margin} {shape:?} {r}");
                fd_check(&label, &[a.clone(), b.clone()], &[0, 1], &[g1, g2], &|xs| {
                    loss.loss(xs[0].view(), xs[1].view(), y.view()).unwrap()
                });
            }
        }
        // Gaussian NLL: var of the input's shape, per row, per row with a trailing 1.
        for (shape, vshape) in
            [(&[4usize, 3][..], &[4usize, 3][..]), (&[4, 3][..], &[4][..]), (&[2, 2, 3][..], &[2, 2, 1][..])]
        {
            let (x, y) = (rng.normal_ish(shape), rng.normal_ish(shape));
            let var = rng.uniform(vshape, 0.2, 2.0);
            for full in [false, true] {
                let loss = GaussianNllLoss::builder().reduction(r).full(full).build().unwrap();
                let (mut gx, mut gv) = (ArrayD::zeros(x.raw_dim()), ArrayD::zeros(var.raw_dim()));
                loss.loss_and_grads(x.view(), y.view(), var.view(), gx.view_mut(), gv.view_mut()).unwrap();
                let label = format!("gaussian_nll full {full} var {vshape:?} {r}");
                fd_check(&label, &[x.clone(), var.clone()], &[0, 1], &[gx, gv], &|xs| {
                    loss.loss(xs[0].view(), y.view(), xs[1].view()).unwrap()
                });
            }
        }
    }
}

/// `forward` with `Reduction::None` sums to what the trait returns, for each loss kind.
#[test]
fn forward_none_sums_to_trait_value() {
    let mut rng = Rng::new(6);
    let x = rng.normal_ish(&[5, 3]);
    let y = rng.normal_ish(&[5, 3]);
    let t = rng.labels(&[5], 3);
    let none = Reduction::None;
    let mse = MseLoss::builder().reduction(none).build().unwrap();
    assert!(
        (mse.forward(x.view(), y.view()).unwrap().sum() - mse.loss(x.view(), y.view()).unwrap()).abs()
            < 1e-12
    );
    let ce = CrossEntropyLoss::builder().reduction(none).label_smoothing(0.1).build().unwrap();
    let per_sample = ce.forward(x.view(), t.view()).unwrap();
    assert_eq!(per_sample.shape(), &[5]);
    assert!((per_sample.sum() - ce.loss(x.view(), t.view()).unwrap()).abs() < 1e-12);
    let plain =
        CrossEntropyLoss::builder().reduction(none).build().unwrap().forward(x.view(), t.view()).unwrap();
    let mean = CrossEntropyLoss::<f64>::default().forward(x.view(), t.view()).unwrap();
    assert_eq!(mean.ndim(), 0);
    assert!((mean[[]] - plain.sum() / 5.0).abs() < 1e-12);
}

/// The checker itself catches a wrong gradient (here: MSE's without the factor 2).
#[test]
#[should_panic(expected = "finite difference")]
fn checker_detects_a_wrong_gradient() {
    let mut rng = Rng::new(7);
    let (x, y) = (rng.normal_ish(&[4]), rng.normal_ish(&[4]));
    let half = &x - &y;
    fd_check("wrong", std::slice::from_ref(&x), &[0], &[half], &|xs| {
        MseLoss::builder().reduction(Reduction::Sum).build().unwrap().loss(xs[0].view(), y.view()).unwrap()
    });
}

/// Logits of ±100 and ±1000 give finite values and gradients, in f32 and f64, for every
/// loss that takes logits or scores (and the gradients are the saturated limits).
fn extreme_logits<F: ndtrain::Float>()
where
    CrossEntropyLoss<F>: Loss<F, F>,
    BceWithLogitsLoss<F>: Loss<F, usize>,
{
    let lit = |v: &[f64]| v.iter().map(|&x| F::lit(x)).collect::<Vec<F>>();
    let finite = |label: &str, v: F, g: &ArrayD<F>| {
        assert!(v.is_finite(), "{label}: value {v}");
        assert!(g.iter().all(|g| g.is_finite()), "{label}: gradient {g}");
    };
    for big in [100.0, 1000.0] {
        let x = ArrayD::from_shape_vec(IxDyn(&[3, 3]), lit(&[big, -big, 0.0, -big, big, big, big, big, big]))
            .unwrap();
        let t = ArrayD::from_shape_vec(IxDyn(&[3]), vec![1usize, 0, 2]).unwrap();
        let mut g = ArrayD::zeros(x.raw_dim());
        let w = Array1::from_vec(lit(&[0.5, 1.0, 2.0]));
        for ls in [0.0, 0.1] {
            for r in REDUCTIONS {
                let ce = CrossEntropyLoss::builder()
                    .reduction(r)
                    .label_smoothing(ls)
                    .weight(w.clone())
                    .build()
                    .unwrap();
                let v = Loss::<F, usize>::loss_and_grad(&ce, x.view(), t.view(), g.view_mut()).unwrap();
                finite(&format!("ce ±{big} ls {ls} {r}"), v, &g);
                let probs = ArrayD::from_shape_vec(
                    IxDyn(&[3, 3]),
                    lit(&[0.2, 0.8, 0.0, 1.0, 0.0, 0.0, 0.3, 0.3, 0.4]),
                )
                .unwrap();
                let v = ce.loss_and_grad(x.view(), probs.view(), g.view_mut()).unwrap();
                finite(&format!("ce probs ±{big} ls {ls} {r}"), v, &g);
            }
        }
        // Row 0 (target 1, logit -big against +big): loss 2 big, grad (1, -1, 0) / 3.
        let ce = CrossEntropyLoss::<F>::default();
        let t0 = ArrayD::from_shape_vec(IxDyn(&[1]), vec![1usize]).unwrap();
        let x0 = x.slice(ndarray::s![0..1, ..]).into_dyn();
        let mut g0 = ArrayD::zeros(x0.raw_dim());
        let v = Loss::<F, usize>::loss_and_grad(&ce, x0, t0.view(), g0.view_mut()).unwrap();
        assert!((v.as_f64() - 2.0 * big).abs() <= 1e-6 * big, "ce saturated value {v}");
        assert!((g0[[0, 0]].as_f64() - 1.0).abs() < 1e-6 && (g0[[0, 1]].as_f64() + 1.0).abs() < 1e-6);

        let xs = ArrayD::from_shape_vec(IxDyn(&[4]), lit(&[big, -big, big, -big])).unwrap();
        let labels = ArrayD::from_shape_vec(IxDyn(&[4]), vec![0usize, 1, 1, 0]).unwrap();
        let signs = ArrayD::from_shape_vec(IxDyn(&[4]), lit(&[-1.0, 1.0, 1.0, -1.0])).unwrap();
        let mut gs = ArrayD::zeros(xs.raw_dim());
        for r in REDUCTIONS {
            let pw = Array1::from_vec(lit(&[3.0]));
            let bce = BceWithLogitsLoss::builder().reduction(r).pos_weight(pw).build().unwrap();
            let v = bce.loss_and_grad(xs.view(), labels.view(), gs.view_mut()).unwrap();
            finite(&format!("bce_with_logits ±{big} {r}"), v, &gs);
            let soft = SoftMarginLoss::builder().reduction(r).build().unwrap();
            let v = soft.loss_and_grad(xs.view(), signs.view(), gs.view_mut()).unwrap();
            finite(&format!("soft_margin ±{big} {r}"), v, &gs);
            let hinge = HingeEmbeddingLoss::builder().reduction(r).build().unwrap();
            let v = hinge.loss_and_grad(xs.view(), signs.view(), gs.view_mut()).unwrap();
            finite(&format!("hinge ±{big} {r}"), v, &gs);
            let mm = MultiMarginLoss::builder().reduction(r).p(2).build().unwrap();
            let v = mm.loss_and_grad(x.view(), t.view(), g.view_mut()).unwrap();
            finite(&format!("multi_margin ±{big} {r}"), v, &g);
            let rank = MarginRankingLoss::builder().reduction(r).build().unwrap();
            let (mut g1, mut g2) = (gs.clone(), gs.clone());
            let v = rank
                .loss_and_grads(xs.view(), signs.view(), signs.view(), g1.view_mut(), g2.view_mut())
                .unwrap();
            finite(&format!("margin_ranking ±{big} {r}"), v, &g1);
            let cos = CosineEmbeddingLoss::builder().reduction(r).build().unwrap();
            let (mut g1, mut g2) = (g.clone(), g.clone());
            let y = ArrayD::from_shape_vec(IxDyn(&[3]), lit(&[1.0, -1.0, 1.0])).unwrap();
            let v = cos.loss_and_grads(x.view(), x.view(), y.view(), g1.view_mut(), g2.view_mut()).unwrap();
            finite(&format!("cosine ±{big} {r}"), v, &g1);
        }
        // Saturated BCE-with-logits: each element's loss is 0 or big (times pos_weight 1).
        let bce = BceWithLogitsLoss::<F>::builder().reduction(Reduction::Sum).build().unwrap();
        let v = bce.loss_and_grad(xs.view(), labels.view(), gs.view_mut()).unwrap();
        assert!((v.as_f64() - 2.0 * big).abs() <= 1e-6 * big, "bce_with_logits saturated value {v}");
        let expected = [1.0, -1.0, 0.0, 0.0];
        for (g, e) in gs.iter().zip(expected) {
            assert!((g.as_f64() - e).abs() < 1e-6, "bce_with_logits saturated gradient {gs}");
        }
    }
}

#[test]
fn extreme_logits_f32() {
    extreme_logits::<f32>();
}

#[test]
fn extreme_logits_f64() {
    extreme_logits::<f64>();
}
