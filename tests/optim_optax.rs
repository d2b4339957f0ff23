//! The optimizers that follow optax (Lion, LAMB, LARS, schedule-free AdamW / SGD,
//! Muon): hyper-parameter validation, convergence on a quadratic in f32 and f64, no
//! allocation after the first step (a counting global allocator, per thread), the
//! schedule-free train/eval swap, bad input, and `Send + Sync`.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, IxDyn};
use ndtrain::model::{Mode, Module, ParamVisitor};
use ndtrain::optim::{
    Lamb, Lars, Lion, MUON_NS_COEFFS, Muon, Optimizer, ScheduleFreeAdamW, ScheduleFreeSgd, StateDict,
};
use ndtrain::{Error, Float, Param};

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

use alloc::allocs;

// ---------------------------------------------------------------------------------------
// A quadratic model: f(p) = ½ Σ a·(p − c)² over a matrix, a vector and a scalar.
// ---------------------------------------------------------------------------------------

struct Quadratic<F> {
    names: Vec<&'static str>,
    values: Vec<ArrayD<F>>,
    grads: Vec<ArrayD<F>>,
    targets: Vec<ArrayD<F>>,
    curvature: Vec<ArrayD<F>>,
}

impl<F: Float> Quadratic<F> {
    fn new() -> Self {
        let shapes: [&[usize]; 3] = [&[3, 5], &[4], &[]];
        let mut q = Quadratic {
            names: vec!["0.weight", "0.bias", "scale"],
            values: vec![],
            grads: vec![],
            targets: vec![],
            curvature: vec![],
        };
        for (k, s) in shapes.iter().enumerate() {
            let n: usize = s.iter().product();
            let f = |i: usize, m: usize| F::lit(((i * m + 3 * k) % 7) as f64 / 7.0);
            q.values.push(
                ArrayD::from_shape_vec(IxDyn(s), (0..n).map(|i| f(i, 3) - F::lit(0.5)).collect()).unwrap(),
            );
            q.targets.push(
                ArrayD::from_shape_vec(
                    IxDyn(s),
                    (0..n).map(|i| f(i, 5) * F::lit(2.0) - F::lit(0.6)).collect(),
                )
                .unwrap(),
            );
            q.curvature.push(
                ArrayD::from_shape_vec(IxDyn(s), (0..n).map(|i| F::lit(0.5) + f(i, 2)).collect()).unwrap(),
            );
            q.grads.push(ArrayD::zeros(IxDyn(s)));
        }
        q
    }

    /// The loss at the current values, and the gradients written in place.
    fn loss_and_grad(&mut self) -> F {
        let mut loss = F::zero();
        for k in 0..self.values.len() {
            ndarray::Zip::from(&mut self.grads[k])
                .and(&self.values[k])
                .and(&self.targets[k])
                .and(&self.curvature[k])
                .for_each(|g, &p, &c, &a| {
                    *g = a * (p - c);
                    loss += F::lit(0.5) * a * (p - c) * (p - c);
                });
        }
        loss
    }

    fn loss_at(&self, values: &[ArrayD<F>]) -> F {
        let mut loss = F::zero();
        for ((v, c), a) in values.iter().zip(&self.targets).zip(&self.curvature) {
            ndarray::Zip::from(v).and(c).and(a).for_each(|&p, &c, &a| {
                loss += F::lit(0.5) * a * (p - c) * (p - c);
            });
        }
        loss
    }
}

impl<F: Float> Module<F> for Quadratic<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> ndtrain::Result<()> {
        for (i, (v, g)) in self.values.iter_mut().zip(&mut self.grads).enumerate() {
            f(Param::new(i, self.names[i]), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

/// Every optimizer of the family, configured to converge on [`Quadratic`].
fn family<F: Float>() -> Vec<(&'static str, Box<dyn Optimizer<F> + Send + Sync>)> {
    vec![
        ("Lion", Box::new(Lion::builder().lr(0.01).build().unwrap())),
        ("Lamb", Box::new(Lamb::builder().lr(0.02).build().unwrap())),
        ("Lars", Box::new(Lars::builder().lr(20.0).momentum(0.5).build().unwrap())),
        (
            "ScheduleFreeAdamW",
            Box::new(ScheduleFreeAdamW::builder().lr(0.05).warmup_steps(20).build().unwrap()),
        ),
        ("ScheduleFreeSgd", Box::new(ScheduleFreeSgd::builder().lr(0.5).build().unwrap())),
        ("Muon", Box::new(Muon::builder().lr(0.01).adam_lr(0.05).build().unwrap())),
    ]
}

fn converges<F: Float>(tol: f64) {
    for (name, mut opt) in family::<F>() {
        let mut q = Quadratic::<F>::new();
        let initial = q.loss_and_grad().as_f64();
        // A step decay, as a scheduler would set it: the sign-like steps of Lion, LAMB
        // and LARS otherwise oscillate around the minimum at an amplitude ∝ lr.
        for i in 0..600 {
            if i % 100 == 99 {
                opt.set_lr(opt.lr() * F::lit(0.5));
            }
            q.loss_and_grad();
            opt.step(&mut q).unwrap();
        }
        let train = q.loss_and_grad().as_f64();
        // Evaluate where the optimizer says to (x for schedule-free, the model otherwise).
        let swapped = opt.swap_params(&mut q, Mode::Eval).unwrap();
        let eval = q.loss_at(&q.values).as_f64();
        opt.swap_params(&mut q, Mode::Train).unwrap();
        assert_eq!(swapped, name.starts_with("ScheduleFree"), "{name}");
        assert!(initial > 1.0, "{name}: initial loss {initial}");
        assert!(
            train < tol * initial && eval < tol * initial,
            "{name}: loss {initial} -> {train} (eval {eval})"
        );
    }
}

#[test]
fn every_optimizer_converges_on_a_quadratic_f64() {
    converges::<f64>(1e-3);
}

#[test]
fn every_optimizer_converges_on_a_quadratic_f32() {
    converges::<f32>(1e-3);
}

#[test]
fn invalid_hyper_parameters_return_their_variant() {
    let p = |name: &'static str, value: f64, expected: &'static str| Error::InvalidParameter {
        name,
        value,
        expected,
    };
    assert_eq!(Lion::<f64>::builder().betas(0.9, 1.01).build().unwrap_err(), p("betas[1]", 1.01, "[0, 1]"));
    assert_eq!(Lion::<f32>::builder().lr(-1.0).build().unwrap_err(), p("lr", -1.0, ">= 0"));
    assert_eq!(Lamb::<f64>::builder().betas(1.0, 0.9).build().unwrap_err(), p("betas[0]", 1.0, "[0, 1)"));
    assert_eq!(Lamb::<f64>::builder().eps_root(-1.0).build().unwrap_err(), p("eps_root", -1.0, ">= 0"));
    assert_eq!(
        Lars::<f64>::builder().trust_coefficient(-1.0).build().unwrap_err(),
        p("trust_coefficient", -1.0, ">= 0")
    );
    assert_eq!(Lars::<f32>::builder().momentum(-0.5).build().unwrap_err(), p("momentum", -0.5, ">= 0"));
    assert_eq!(
        ScheduleFreeAdamW::<f64>::builder().betas(0.9, 1.0).build().unwrap_err(),
        p("betas[1]", 1.0, "[0, 1)")
    );
    assert_eq!(
        ScheduleFreeAdamW::<f64>::builder().weight_lr_power(-1.0).build().unwrap_err(),
        p("weight_lr_power", -1.0, ">= 0")
    );
    assert_eq!(
        ScheduleFreeSgd::<f64>::builder().momentum(1.5).build().unwrap_err(),
        p("momentum", 1.5, "[0, 1]")
    );
    assert_eq!(Muon::<f64>::builder().momentum(1.0).build().unwrap_err(), p("momentum", 1.0, "[0, 1)"));
    assert_eq!(
        Muon::<f64>::builder().adam_weight_decay(-0.1).build().unwrap_err(),
        p("adam_weight_decay", -0.1, ">= 0")
    );
    assert_eq!(
        Muon::<f64>::builder().ns_coeffs(f64::NAN, 1.0, 1.0).build().unwrap_err().to_string(),
        "invalid ns_coeffs = NaN, expected finite"
    );
    assert!(matches!(
        Muon::<f64>::builder().ns_coeffs_per_step(&[]).build().unwrap_err(),
        Error::InvalidConfig(_)
    ));
}

#[test]
fn defaults_are_optax_defaults() {
    assert_eq!(Lion::<f64>::default().betas(), (0.9, 0.99));
    assert_eq!(Lion::<f64>::default().weight_decay(), 1e-3);
    assert_eq!((Lamb::<f64>::default().eps(), Lamb::<f64>::default().eps_root()), (1e-6, 0.0));
    let lars = Lars::<f64>::default();
    assert_eq!(
        (lars.trust_coefficient(), lars.momentum(), lars.eps(), lars.nesterov()),
        (0.001, 0.9, 0.0, false)
    );
    let sf = ScheduleFreeAdamW::<f64>::default();
    assert_eq!(
        (Optimizer::<f64>::lr(&sf), sf.betas(), sf.eps(), sf.weight_lr_power()),
        (0.0025, (0.9, 0.999), 1e-8, 2.0)
    );
    assert_eq!(
        (
            Optimizer::<f64>::lr(&ScheduleFreeSgd::<f64>::default()),
            ScheduleFreeSgd::<f64>::default().momentum()
        ),
        (1.0, 0.9)
    );
    let m = Muon::<f64>::default();
    assert_eq!(
        (m.momentum(), m.eps(), m.nesterov(), m.adaptive(), m.consistent_rms()),
        (0.95, 1e-8, true, false, None)
    );
    assert_eq!(m.ns_schedule(), vec![MUON_NS_COEFFS; 5]);
    assert_eq!(m.adam_betas(), (0.9, 0.999));
}

#[test]
fn bad_input_is_an_error_and_changes_nothing() {
    for (name, mut opt) in family::<f32>() {
        let mut q = Quadratic::<f32>::new();
        q.loss_and_grad();
        opt.step(&mut q).unwrap();
        let before = (q.values.clone(), opt.state_dict());
        let mut w = q.values[1].clone();
        let g = ArrayD::<f32>::zeros(IxDyn(&[5]));
        let e = opt.update(Param::new(1, "0.bias"), w.view_mut(), g.view()).unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }), "{name}: {e}");
        // State of a different shape under the same id.
        let mut other = ArrayD::<f32>::zeros(IxDyn(&[2]));
        let e = opt
            .update(Param::new(1, "0.bias"), other.view_mut(), ArrayD::zeros(IxDyn(&[2])).view())
            .unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }), "{name}: {e}");
        assert_eq!(w, q.values[1], "{name}");
        assert_eq!((q.values.clone(), opt.state_dict()), before, "{name}");
    }
}

#[test]
fn state_dict_continues_bit_identically() {
    for (name, mut opt) in family::<f64>() {
        let mut q = Quadratic::<f64>::new();
        for _ in 0..5 {
            q.loss_and_grad();
            opt.step(&mut q).unwrap();
        }
        let sd: StateDict<f64> = opt.state_dict();
        let saved = q.values.clone();
        let (_, mut restored) = family::<f64>().into_iter().find(|(n, _)| *n == name).unwrap();
        restored.set_lr(123.0);
        restored.load_state_dict(&sd).unwrap();
        let mut q2 = Quadratic::<f64>::new();
        q2.values = saved;
        for _ in 0..5 {
            q.loss_and_grad();
            opt.step(&mut q).unwrap();
            q2.loss_and_grad();
            restored.step(&mut q2).unwrap();
        }
        assert_eq!(q.values, q2.values, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// Allocation.
// ---------------------------------------------------------------------------------------

/// Allocations of the `general_mat_mul` calls one Muon step makes on a `rows × cols`
/// matrix (matrixmultiply allocates its packing buffer inside every call).
fn gemm_allocs_of_one_muon_step(rows: usize, cols: usize, ns_steps: usize) -> usize {
    let (k, n) = (rows.min(cols), rows.max(cols));
    let x = Array2::<f64>::from_elem((k, n), 0.1);
    let (mut a, mut b, mut y) = (Array2::zeros((k, k)), Array2::zeros((k, k)), Array2::zeros((k, n)));
    let before = allocs();
    for _ in 0..ns_steps {
        general_mat_mul(1.0, &x, &x.t(), 0.0, &mut a);
        general_mat_mul(2.0, &a, &a, 0.0, &mut b);
        general_mat_mul(1.0, &b, &x, 3.0, &mut y);
    }
    allocs() - before
}

#[test]
fn no_allocation_after_the_first_step() {
    for (name, mut opt) in family::<f64>() {
        let mut q = Quadratic::<f64>::new();
        q.loss_and_grad();
        opt.step(&mut q).unwrap(); // first step: state and scratch space
        let before = allocs();
        for _ in 0..10 {
            q.loss_and_grad();
            opt.step(&mut q).unwrap();
            opt.swap_params(&mut q, Mode::Eval).unwrap();
            opt.swap_params(&mut q, Mode::Train).unwrap();
        }
        let n = allocs() - before;
        // Muon's only allocations are matrixmultiply's packing buffers, one per product.
        let expected = if name == "Muon" { 10 * gemm_allocs_of_one_muon_step(3, 5, 5) } else { 0 };
        assert_eq!(n, expected, "{name} allocated {n} times in 10 steps");
    }
}

#[test]
fn muon_makes_three_products_per_iteration_and_nothing_else() {
    // Independent of the backend: with no Newton–Schulz iteration there is no product
    // and nothing at all is allocated after the first step.
    let mut opt = Muon::<f32>::builder().ns_steps(0).build().unwrap();
    let mut q = Quadratic::<f32>::new();
    q.loss_and_grad();
    opt.step(&mut q).unwrap();
    let before = allocs();
    q.loss_and_grad();
    opt.step(&mut q).unwrap();
    assert_eq!(allocs() - before, 0);
}

// ---------------------------------------------------------------------------------------
// Schedule-free: the train / eval swap.
// ---------------------------------------------------------------------------------------

fn bits<F: Float>(v: &[ArrayD<F>]) -> Vec<u64> {
    v.iter().flat_map(|a| a.iter().map(|x| x.as_f64().to_bits())).collect()
}

#[test]
fn schedule_free_swap_round_trips_exactly() {
    let mut opt = ScheduleFreeAdamW::<f32>::builder().lr(0.05).warmup_steps(3).build().unwrap();
    let mut q = Quadratic::<f32>::new();
    for _ in 0..7 {
        q.loss_and_grad();
        opt.step(&mut q).unwrap();
    }
    let y = q.values.clone();
    let x: Vec<ArrayD<f32>> = (0..3).map(|id| opt.eval_param(id).unwrap().to_owned()).collect();
    assert_ne!(bits(&x), bits(&y));

    opt.eval_params(&mut q).unwrap();
    assert!(opt.is_eval_mode());
    assert_eq!(bits(&q.values), bits(&x));
    assert!(opt.eval_param(0).is_none());
    // Swapping to eval again changes nothing.
    opt.eval_params(&mut q).unwrap();
    assert_eq!(bits(&q.values), bits(&x));
    // No training in eval mode: the step fails and leaves everything as it was.
    q.loss_and_grad();
    let sd = opt.state_dict();
    assert!(matches!(opt.step(&mut q), Err(Error::InvalidInput { .. })));
    assert_eq!(bits(&q.values), bits(&x));
    assert_eq!(opt.state_dict(), sd);
    // The state dict of eval mode restores eval mode.
    let mut copy = ScheduleFreeAdamW::<f32>::default();
    copy.load_state_dict(&sd).unwrap();
    assert!(copy.is_eval_mode());
    assert_eq!(sd.scalar("param_groups.0.train_mode"), Some(0.0));
    assert!(sd.tensor("state.0.y").is_some());

    opt.train_params(&mut q).unwrap();
    assert_eq!(bits(&q.values), bits(&y));
    assert!(!opt.is_eval_mode());

    // Through the trait object, as a trainer calls it; the copy restored in eval mode
    // swaps back to the same y.
    let mut boxed: Box<dyn Optimizer<f32> + Send + Sync> = Box::new(copy);
    let mut q2 = Quadratic::<f32>::new();
    q2.values = x.clone();
    assert!(boxed.swap_params(&mut q2, Mode::Train).unwrap());
    assert_eq!(bits(&q2.values), bits(&y));
    q.loss_and_grad();
    opt.step(&mut q).unwrap();
    q2.loss_and_grad();
    boxed.step(&mut q2).unwrap();
    assert_eq!(bits(&q.values), bits(&q2.values));
}

#[test]
fn schedule_free_eval_point_is_the_average() {
    // SGD, b1 = 0.9, lr 1, power 0 (all weights 1, so x is the running mean of the zs),
    // a constant gradient g: z_t = p0 − t·g, x_t = p0 − (t + 1)/2·g.
    let mut opt = ScheduleFreeSgd::<f64>::builder().weight_lr_power(0.0).build().unwrap();
    let mut y = ndarray::array![2.0].into_dyn();
    let g = ndarray::array![0.25].into_dyn();
    for t in 1..=8 {
        opt.update(Param::new(0, "w"), y.view_mut(), g.view()).unwrap();
        let x = opt.eval_param(0).unwrap()[0];
        let z = opt.state(0).unwrap().z[0];
        assert!((z - (2.0 - 0.25 * t as f64)).abs() < 1e-14);
        assert!((x - (2.0 - 0.25 * (t as f64 + 1.0) / 2.0)).abs() < 1e-14);
        assert!((y[0] - (0.9 * x + 0.1 * z)).abs() < 1e-14);
    }
}

#[test]
fn other_optimizers_have_no_evaluation_parameters() {
    let mut q = Quadratic::<f64>::new();
    let before = q.values.clone();
    for (name, mut opt) in family::<f64>() {
        let expected = name.starts_with("ScheduleFree");
        assert_eq!(opt.swap_params(&mut q, Mode::Eval).unwrap(), expected, "{name}");
        assert_eq!(opt.swap_params(&mut q, Mode::Train).unwrap(), expected, "{name}");
    }
    assert_eq!(q.values, before);
}

#[test]
fn group_hooks() {
    let mut lion = Lion::<f64>::default();
    assert_eq!(lion.group_momentum(0), Some(0.9));
    lion.set_group_momentum(0, 0.8);
    assert_eq!(lion.betas(), (0.8, 0.99));
    let mut lars = Lars::<f64>::default();
    lars.set_lr(2.0);
    assert_eq!((lars.lr(), lars.group_momentum(0)), (2.0, Some(0.9)));
    let muon = Muon::<f64>::builder().lr(0.1).build().unwrap();
    assert_eq!((muon.group_momentum(0), muon.adam_lr()), (Some(0.95), 0.1));
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Lion<f32>>();
    check::<Lamb<f64>>();
    check::<Lars<f32>>();
    check::<ScheduleFreeAdamW<f64>>();
    check::<ScheduleFreeSgd<f32>>();
    check::<Muon<f64>>();
    check::<ndtrain::optim::MuonBuilder<f32>>();
    check::<ndtrain::optim::ScheduleFreeState<f64>>();
}
