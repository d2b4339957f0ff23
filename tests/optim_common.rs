//! Shared checks over every torch.optim optimizer (and `ParamGroups`):
//! (a) each invalid hyper-parameter returns its exact error variant;
//! (b) convergence on a small quadratic; (c) in f32 and f64;
//! (d) `Send + Sync`;
//! plus: state dicts restore bit-identical training, `load_state_dict` checks before it
//! changes anything, and a failed step changes nothing.

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use ndtrain::model::{Mode, Model, Module, ParamVisitor};
use ndtrain::optim::*;
use ndtrain::{Error, Float, Param, Result};

type DynOpt<F> = Box<dyn Optimizer<F> + Send + Sync>;

/// Every optimizer, configured to converge on [`Quadratic`] within [`STEPS`] steps.
fn all<F: Float>() -> Vec<(&'static str, DynOpt<F>)> {
    let b = |o: Result<DynOpt<F>>| o.expect("valid hyper-parameters");
    vec![
        ("SGD", b(Sgd::builder().lr(0.1).build().map(|o| Box::new(o) as DynOpt<F>))),
        (
            "SGD nesterov",
            b(Sgd::builder()
                .lr(0.05)
                .momentum(0.9)
                .nesterov(true)
                .weight_decay(1e-4)
                .build()
                .map(|o| Box::new(o) as _)),
        ),
        (
            "SGD dampening",
            b(Sgd::builder().lr(0.05).momentum(0.5).dampening(0.3).build().map(|o| Box::new(o) as _)),
        ),
        ("Adam", b(Adam::builder().lr(0.05).build().map(|o| Box::new(o) as _))),
        (
            "Adam amsgrad",
            b(Adam::builder().lr(0.05).amsgrad(true).weight_decay(1e-4).build().map(|o| Box::new(o) as _)),
        ),
        ("AdamW", b(AdamW::builder().lr(0.05).weight_decay(1e-4).build().map(|o| Box::new(o) as _))),
        ("RMSprop", b(RmsProp::builder().lr(0.01).build().map(|o| Box::new(o) as _))),
        (
            "RMSprop centered momentum",
            b(RmsProp::builder().lr(0.005).momentum(0.5).centered(true).build().map(|o| Box::new(o) as _)),
        ),
        ("Adagrad", b(Adagrad::builder().lr(0.5).build().map(|o| Box::new(o) as _))),
        ("Adadelta", b(Adadelta::builder().lr(10.0).build().map(|o| Box::new(o) as _))),
        ("Adamax", b(Adamax::builder().lr(0.05).build().map(|o| Box::new(o) as _))),
        ("NAdam", b(NAdam::builder().lr(0.05).build().map(|o| Box::new(o) as _))),
        ("RAdam", b(RAdam::builder().lr(0.05).build().map(|o| Box::new(o) as _))),
        ("Rprop", b(Rprop::builder().build().map(|o| Box::new(o) as _))),
        ("ASGD", b(Asgd::builder().lr(0.1).t0(50.0).build().map(|o| Box::new(o) as _))),
        ("Adafactor", b(Adafactor::builder().lr(0.05).build().map(|o| Box::new(o) as _))),
        (
            "ParamGroups",
            b(Adam::builder().lr(0.05).build().and_then(|dflt| {
                let bias = Sgd::builder().lr(0.1).momentum(0.5).build()?;
                Ok(Box::new(
                    ParamGroups::new(Box::new(dflt) as DynOpt<F>)
                        .group(|p: Param<'_>| p.name.ends_with("bias"), Box::new(bias) as DynOpt<F>),
                ) as DynOpt<F>)
            })),
        ),
    ]
}

const STEPS: usize = 400;

/// `f(x) = ½ Σ a_k (x_k − c_k)²` over three tensors of different ranks (a 3×2 weight,
/// a bias of 2, a scalar); gradients `a_k (x_k − c_k)`.
#[derive(Clone)]
struct Quadratic<F> {
    names: [&'static str; 3],
    values: Vec<ArrayD<F>>,
    grads: Vec<ArrayD<F>>,
    curv: Vec<ArrayD<F>>,
    center: Vec<ArrayD<F>>,
}

impl<F: Float> Quadratic<F> {
    fn new() -> Self {
        let shapes: [&[usize]; 3] = [&[3, 2], &[2], &[]];
        let mut k = 0.0;
        let mut next = |lo: f64, span: f64| {
            k += 1.0;
            F::lit(lo + span * ((k * 0.618_033_988_75) % 1.0))
        };
        let mut q = Quadratic {
            names: ["0.weight", "0.bias", "scale"],
            values: vec![],
            grads: vec![],
            curv: vec![],
            center: vec![],
        };
        for s in shapes {
            let n: usize = s.iter().product();
            let make = |f: &mut dyn FnMut() -> F| {
                ArrayD::from_shape_vec(IxDyn(s), (0..n).map(|_| f()).collect()).unwrap()
            };
            q.values.push(make(&mut || next(-1.0, 2.0)));
            q.curv.push(make(&mut || next(0.5, 1.5)));
            q.center.push(make(&mut || next(-0.5, 1.0)));
            q.grads.push(ArrayD::zeros(IxDyn(s)));
        }
        q
    }

    /// Sets the gradients and returns the loss.
    fn eval(&mut self) -> f64 {
        let mut loss = 0.0;
        for i in 0..3 {
            ndarray::Zip::from(&mut self.grads[i])
                .and(&self.values[i])
                .and(&self.curv[i])
                .and(&self.center[i])
                .for_each(|g, &x, &a, &c| {
                    *g = a * (x - c);
                    loss += 0.5 * (a * (x - c) * (x - c)).as_f64();
                });
        }
        loss
    }
}

impl<F: Float> Module<F> for Quadratic<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        for (i, (v, g)) in self.values.iter_mut().zip(&mut self.grads).enumerate() {
            f(Param::new(i, self.names[i]), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

impl<F: Float> Model<F> for Quadratic<F> {
    fn forward(&mut self, _x: ArrayViewD<'_, F>, _mode: Mode) -> Result<ArrayViewD<'_, F>> {
        Err(Error::invalid_input("Quadratic::forward", "parameters only"))
    }
    fn backward(&mut self, _g: ArrayViewD<'_, F>) -> Result<()> {
        Err(Error::invalid_input("Quadratic::backward", "parameters only"))
    }
}

fn converges<F: Float>() {
    for (name, mut opt) in all::<F>() {
        let mut q = Quadratic::<F>::new();
        let initial = q.eval();
        for _ in 0..STEPS {
            q.eval();
            opt.step(&mut q).unwrap();
        }
        let last = q.eval();
        assert!(
            last.is_finite() && last < 1e-3 * initial,
            "{name} ({}): loss {initial} -> {last}",
            std::any::type_name::<F>()
        );
    }
}

#[test]
fn every_optimizer_converges_in_f64() {
    converges::<f64>();
}

#[test]
fn every_optimizer_converges_in_f32() {
    converges::<f32>();
}

#[test]
fn state_dict_restores_bit_identical_training() {
    fn check<F: Float>() {
        for ((name, mut a), (_, mut b)) in all::<F>().into_iter().zip(all::<F>()) {
            let mut qa = Quadratic::<F>::new();
            for _ in 0..5 {
                qa.eval();
                a.step(&mut qa).unwrap();
            }
            let saved = a.state_dict();
            assert!(!saved.scalars.is_empty(), "{name}: empty state dict");
            let mut qb = qa.clone();
            for _ in 0..5 {
                qa.eval();
                a.step(&mut qa).unwrap();
            }
            b.load_state_dict(&saved).unwrap();
            assert_eq!(b.state_dict(), saved, "{name}: state dict does not round-trip");
            for _ in 0..5 {
                qb.eval();
                b.step(&mut qb).unwrap();
            }
            for (x, y) in qa.values.iter().zip(&qb.values) {
                let same = x.iter().zip(y).all(|(&x, &y)| bits_eq(x, y));
                assert!(same, "{name}: restored training differs: {x} vs {y}");
            }
            assert_eq!(a.state_dict(), b.state_dict(), "{name}: states differ after restored training");
        }
    }
    check::<f64>();
    check::<f32>();
}

/// Bitwise equality for f32 / f64 (the f32 → f64 conversion is exact).
fn bits_eq<F: Float>(a: F, b: F) -> bool {
    let (a, b) = (a.as_f64(), b.as_f64());
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn load_state_dict_checks_before_changing_anything() {
    for (name, mut opt) in all::<f64>() {
        let mut q = Quadratic::<f64>::new();
        for _ in 0..3 {
            q.eval();
            opt.step(&mut q).unwrap();
        }
        let good = opt.state_dict();
        let mut variants = Vec::new();
        // An unknown entry.
        let mut extra = good.clone();
        extra.scalars.push(("state.0.bogus".into(), 1.0));
        variants.push(("unknown entry", extra));
        // A missing hyper-parameter.
        let mut missing = good.clone();
        missing.scalars.retain(|(k, _)| !k.ends_with(".lr"));
        variants.push(("missing lr", missing));
        // An invalid learning rate.
        let mut neg = good.clone();
        for (k, v) in &mut neg.scalars {
            if k.ends_with(".lr") {
                *v = -1.0;
            }
        }
        variants.push(("negative lr", neg));
        // A missing tensor (every optimizer here keeps at least one).
        // A missing tensor of a parameter that still has its step count (SGD keeps no
        // step: dropping its only tensor is a valid "no state yet").
        if !good.tensors.is_empty() && good.scalars.iter().any(|(k, _)| k.ends_with(".step")) {
            let mut no_tensor = good.clone();
            no_tensor.tensors.pop();
            variants.push(("missing tensor", no_tensor));
        }
        for (what, sd) in variants {
            assert!(opt.load_state_dict(&sd).is_err(), "{name}: {what} accepted");
            assert_eq!(opt.state_dict(), good, "{name}: {what} changed the optimizer");
        }
    }
}

/// A model whose second tensor's gradient has the wrong shape.
struct BadGrad {
    inner: Quadratic<f64>,
    bad: ArrayD<f64>,
}

impl Module<f64> for BadGrad {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> Result<()> {
        f(Param::new(0, "0.weight"), self.inner.values[0].view_mut(), self.inner.grads[0].view_mut())?;
        f(Param::new(1, "0.bias"), self.inner.values[1].view_mut(), self.bad.view_mut())
    }
}

impl Model<f64> for BadGrad {
    fn forward(&mut self, x: ArrayViewD<'_, f64>, mode: Mode) -> Result<ArrayViewD<'_, f64>> {
        self.inner.forward(x, mode)
    }
    fn backward(&mut self, g: ArrayViewD<'_, f64>) -> Result<()> {
        self.inner.backward(g)
    }
}

#[test]
fn a_failed_step_changes_nothing() {
    for (name, mut opt) in all::<f64>() {
        let mut q = Quadratic::<f64>::new();
        q.eval();
        opt.step(&mut q).unwrap();
        q.eval();
        let before_state = opt.state_dict();
        let before = q.values.clone();
        let mut m = BadGrad { inner: q, bad: ArrayD::zeros(IxDyn(&[3])) };
        match opt.step(&mut m) {
            Err(Error::ShapeMismatch { expected, got, .. }) => {
                assert_eq!((expected, got), (vec![2], vec![3]))
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(m.inner.values, before, "{name}: parameters changed");
        assert_eq!(opt.state_dict(), before_state, "{name}: state changed");
    }
}

#[test]
fn every_optimizer_is_send_sync() {
    fn ok<T: Send + Sync + 'static>() {}
    macro_rules! all_types {
        ($($t:ident),*) => { $( ok::<$t<f32>>(); ok::<$t<f64>>(); )* };
    }
    all_types!(Sgd, Adam, AdamW, RmsProp, Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, Asgd, Adafactor);
    all_types!(SgdBuilder, AdamBuilder, AdamWBuilder, RmsPropBuilder, AdagradBuilder, AdadeltaBuilder);
    all_types!(AdamaxBuilder, NAdamBuilder, RAdamBuilder, RpropBuilder, AsgdBuilder, AdafactorBuilder);
    all_types!(SgdState, AdamState, RmsPropState, AdagradState, AdadeltaState, AdamaxState, NAdamState);
    all_types!(RAdamState, RpropState, AsgdState, AdafactorState, StateDict);
    ok::<ParamGroups<Adam<f32>>>();
    ok::<ParamGroups<DynOpt<f64>>>();
}

#[test]
fn defaults_are_torchs() {
    assert_eq!(Optimizer::<f64>::lr(&Sgd::<f64>::default()), 1e-3);
    let adam = Adam::<f64>::default();
    assert_eq!((adam.lr(), adam.betas(), adam.eps(), adam.weight_decay()), (1e-3, (0.9, 0.999), 1e-8, 0.0));
    assert_eq!(AdamW::<f64>::default().weight_decay(), 1e-2);
    let r = RmsProp::<f64>::default();
    assert_eq!((r.lr(), r.alpha(), r.eps()), (1e-2, 0.99, 1e-8));
    let a = Adagrad::<f64>::default();
    assert_eq!((a.lr(), a.eps(), a.lr_decay()), (1e-2, 1e-10, 0.0));
    let d = Adadelta::<f64>::default();
    assert_eq!((d.lr(), d.rho(), d.eps()), (1.0, 0.9, 1e-6));
    assert_eq!(Adamax::<f64>::default().lr(), 2e-3);
    let n = NAdam::<f64>::default();
    assert_eq!((n.lr(), n.momentum_decay()), (2e-3, 4e-3));
    assert_eq!(RAdam::<f64>::default().lr(), 1e-3);
    let rp = Rprop::<f64>::default();
    assert_eq!((rp.lr(), rp.etas(), rp.step_sizes()), (1e-2, (0.5, 1.2), (1e-6, 50.0)));
    let s = Asgd::<f64>::default();
    assert_eq!((s.lr(), s.lambd(), s.alpha(), s.t0()), (1e-2, 1e-4, 0.75, 1e6));
    let f = Adafactor::<f64>::default();
    assert_eq!(
        (f.lr(), f.beta2_decay(), f.eps(), f.d(), f.weight_decay()),
        (1e-2, -0.8, (None, 1e-3), 1.0, 0.0)
    );
}

/// `assert_invalid!(Type, builder calls, name, value, expected)`: the exact variant.
macro_rules! assert_invalid {
    ($t:ident $(. $m:ident ($($a:expr),*))+ => $name:literal, $value:expr, $expected:literal) => {{
        let r = $t::<f64>::builder() $(. $m($($a),*))+ .build();
        assert_eq!(
            r.err(),
            Some(Error::InvalidParameter { name: $name, value: $value, expected: $expected }),
            "{}", stringify!($t $(. $m)+)
        );
    }};
}

#[test]
fn every_invalid_hyper_parameter_returns_its_variant() {
    let nesterov = Error::InvalidConfig("Nesterov momentum requires a momentum and zero dampening".into());
    assert_invalid!(Sgd.lr(-0.1) => "lr", -0.1, ">= 0");
    assert_invalid!(Sgd.momentum(-0.5) => "momentum", -0.5, ">= 0");
    assert_invalid!(Sgd.weight_decay(-1.0) => "weight_decay", -1.0, ">= 0");
    assert_eq!(Sgd::<f64>::builder().nesterov(true).build().err(), Some(nesterov.clone()));
    assert_eq!(
        Sgd::<f64>::builder().nesterov(true).momentum(0.9).dampening(0.5).build().err(),
        Some(nesterov)
    );

    for (b1, b2, name, v) in
        [(1.0, 0.999, "betas[0]", 1.0), (-0.1, 0.999, "betas[0]", -0.1), (0.9, 1.0, "betas[1]", 1.0)]
    {
        let want = Some(Error::InvalidParameter { name, value: v, expected: "[0, 1)" });
        assert_eq!(Adam::<f64>::builder().betas(b1, b2).build().err(), want);
        assert_eq!(AdamW::<f64>::builder().betas(b1, b2).build().err(), want);
        assert_eq!(Adamax::<f64>::builder().betas(b1, b2).build().err(), want);
        assert_eq!(NAdam::<f64>::builder().betas(b1, b2).build().err(), want);
        assert_eq!(RAdam::<f64>::builder().betas(b1, b2).build().err(), want);
    }
    assert_invalid!(Adam.lr(-1.0) => "lr", -1.0, ">= 0");
    assert_invalid!(Adam.eps(-1e-8) => "eps", -1e-8, ">= 0");
    assert_invalid!(Adam.weight_decay(-0.1) => "weight_decay", -0.1, ">= 0");
    assert_invalid!(AdamW.weight_decay(-0.1) => "weight_decay", -0.1, ">= 0");
    assert_invalid!(AdamW.eps(-1.0) => "eps", -1.0, ">= 0");
    assert_invalid!(RmsProp.alpha(-0.1) => "alpha", -0.1, ">= 0");
    assert_invalid!(RmsProp.eps(-0.1) => "eps", -0.1, ">= 0");
    assert_invalid!(RmsProp.momentum(-0.1) => "momentum", -0.1, ">= 0");
    assert_invalid!(RmsProp.weight_decay(-0.1) => "weight_decay", -0.1, ">= 0");
    assert_invalid!(Adagrad.lr_decay(-0.1) => "lr_decay", -0.1, ">= 0");
    assert_invalid!(Adagrad.initial_accumulator_value(-0.1) => "initial_accumulator_value", -0.1, ">= 0");
    assert_invalid!(Adagrad.eps(-0.1) => "eps", -0.1, ">= 0");
    assert_invalid!(Adadelta.rho(1.5) => "rho", 1.5, "[0, 1]");
    assert_invalid!(Adadelta.eps(-1.0) => "eps", -1.0, ">= 0");
    assert_invalid!(Adamax.eps(-1.0) => "eps", -1.0, ">= 0");
    assert_invalid!(NAdam.momentum_decay(-1.0) => "momentum_decay", -1.0, ">= 0");
    assert_invalid!(RAdam.weight_decay(-1.0) => "weight_decay", -1.0, ">= 0");
    assert_invalid!(Rprop.etas(1.5, 2.0) => "etas[0]", 1.5, "(0, 1)");
    assert_invalid!(Rprop.etas(0.5, 0.9) => "etas[1]", 0.9, "> 1");
    assert_invalid!(Rprop.step_sizes(-1.0, 1.0) => "step_sizes[0]", -1.0, ">= 0");
    assert_invalid!(Rprop.step_sizes(1.0, 0.1) => "step_sizes[1]", 0.1, ">= step_sizes[0]");
    assert_invalid!(Asgd.lr(-1.0) => "lr", -1.0, ">= 0");
    assert_invalid!(Asgd.weight_decay(-1.0) => "weight_decay", -1.0, ">= 0");
    assert_invalid!(Adafactor.beta2_decay(0.1) => "beta2_decay", 0.1, "<= 0");
    assert_invalid!(Adafactor.eps(Some(-1.0), 1e-3) => "eps[0]", -1.0, ">= 0");
    assert_invalid!(Adafactor.eps(None, -1.0) => "eps[1]", -1.0, ">= 0");
    assert_invalid!(Adafactor.d(0.9) => "d", 0.9, ">= 1");
    assert_invalid!(Adafactor.weight_decay(-1.0) => "weight_decay", -1.0, ">= 0");
    // NaN is rejected like torch's `not 0.0 <= x` checks do.
    assert!(matches!(
        Adam::<f32>::builder().lr(f64::NAN).build(),
        Err(Error::InvalidParameter { name: "lr", .. })
    ));
}

/// One parameter tensor whose gradient the test sets directly.
struct Fixed {
    value: ArrayD<f32>,
    grad: ArrayD<f32>,
}

impl Module<f32> for Fixed {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f32>) -> Result<()> {
        f(Param::new(0, "w"), self.value.view_mut(), self.grad.view_mut())
    }
}

impl Model<f32> for Fixed {
    fn forward(&mut self, _x: ArrayViewD<'_, f32>, _mode: Mode) -> Result<ArrayViewD<'_, f32>> {
        Err(Error::invalid_input("Fixed::forward", "parameters only"))
    }
    fn backward(&mut self, _g: ArrayViewD<'_, f32>) -> Result<()> {
        Err(Error::invalid_input("Fixed::backward", "parameters only"))
    }
}

#[test]
fn decaying_moving_averages_flush_subnormals_to_zero() {
    let b = |o: Result<DynOpt<f32>>| o.expect("valid hyper-parameters");
    let opts: Vec<(&str, DynOpt<f32>)> = vec![
        ("SGD momentum", b(Sgd::builder().lr(0.1).momentum(0.9).build().map(|o| Box::new(o) as _))),
        ("Adam", b(Adam::builder().build().map(|o| Box::new(o) as _))),
        ("AdamW", b(AdamW::builder().weight_decay(0.0).build().map(|o| Box::new(o) as _))),
        ("NAdam", b(NAdam::builder().build().map(|o| Box::new(o) as _))),
        ("RAdam", b(RAdam::builder().build().map(|o| Box::new(o) as _))),
        ("Adamax", b(Adamax::builder().build().map(|o| Box::new(o) as _))),
        ("RMSprop", b(RmsProp::builder().alpha(0.5).centered(true).build().map(|o| Box::new(o) as _))),
    ];
    for (name, mut opt) in opts {
        // A gradient that is nonzero once and exactly zero afterwards: every moving
        // average decays geometrically and, unflushed, would pass through the subnormal
        // range (0.9^900 · 1e-3 ≈ 1e-44).
        let mut m =
            Fixed { value: ArrayD::from_elem(IxDyn(&[4]), 1.0), grad: ArrayD::from_elem(IxDyn(&[4]), 1e-3) };
        opt.step(&mut m).unwrap();
        m.grad.fill(0.0);
        let mut zeroed = false;
        for _ in 0..20_000 {
            opt.step(&mut m).unwrap();
            for (key, t) in opt.state_dict().tensors {
                assert!(
                    t.iter().all(|v| *v == 0.0 || v.abs() >= f32::MIN_POSITIVE),
                    "{name}: subnormal in {key}: {t}"
                );
            }
            assert!(m.value.iter().all(|v| v.is_finite()), "{name}: {}", m.value);
            zeroed |= opt.state_dict().tensors.iter().any(|(_, t)| t.iter().all(|v| *v == 0.0));
        }
        assert!(zeroed, "{name}: no state decayed to zero in 20000 steps");
    }
}
