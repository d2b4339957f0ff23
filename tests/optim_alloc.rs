//! After the first step (which allocates the state), no optimizer step allocates.
//!
//! A counting global allocator counts the allocations made by the current thread while
//! counting is switched on (thread-local, so other test threads do not interfere).

use ndarray::{ArrayD, IxDyn};
use ndtrain::model::{Module, ParamVisitor};
use ndtrain::optim::*;
use ndtrain::{Float, Param, Result};

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

use alloc::allocations;

/// Parameters of four ranks (2-D, 1-D, 0-D, 3-D) with fixed gradients.
struct Tensors<F> {
    values: Vec<ArrayD<F>>,
    grads: Vec<ArrayD<F>>,
}

const NAMES: [&str; 4] = ["0.weight", "0.bias", "scale", "conv.kernel"];

impl<F: Float> Tensors<F> {
    fn new() -> Self {
        let shapes: [&[usize]; 4] = [&[64, 32], &[32], &[], &[4, 8, 16]];
        let mut t = Tensors { values: vec![], grads: vec![] };
        for (k, s) in shapes.iter().enumerate() {
            let n: usize = s.iter().product();
            let v = (0..n).map(|i| F::lit(((i * 7 + k) % 13) as f64 / 13.0 - 0.5)).collect();
            let g = (0..n).map(|i| F::lit(((i * 5 + k) % 11) as f64 / 11.0 - 0.45)).collect();
            t.values.push(ArrayD::from_shape_vec(IxDyn(s), v).unwrap());
            t.grads.push(ArrayD::from_shape_vec(IxDyn(s), g).unwrap());
        }
        t
    }
}

impl<F: Float> Module<F> for Tensors<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        for (i, (v, g)) in self.values.iter_mut().zip(&mut self.grads).enumerate() {
            f(Param::new(i, NAMES[i]), v.view_mut(), g.view_mut())?;
        }
        Ok(())
    }
}

type DynOpt<F> = Box<dyn Optimizer<F> + Send + Sync>;

fn every_optimizer<F: Float>() -> Result<Vec<(&'static str, DynOpt<F>)>> {
    Ok(vec![
        ("SGD", Box::new(Sgd::builder().lr(0.01).build()?)),
        (
            "SGD momentum",
            Box::new(Sgd::builder().lr(0.01).momentum(0.9).nesterov(true).weight_decay(0.1).build()?),
        ),
        ("Adam", Box::new(Adam::default())),
        (
            "Adam amsgrad maximize",
            Box::new(Adam::builder().amsgrad(true).maximize(true).weight_decay(0.1).build()?),
        ),
        ("AdamW", Box::new(AdamW::default())),
        ("RMSprop", Box::new(RmsProp::default())),
        ("RMSprop centered momentum", Box::new(RmsProp::builder().centered(true).momentum(0.9).build()?)),
        ("Adagrad", Box::new(Adagrad::builder().lr_decay(0.1).build()?)),
        ("Adadelta", Box::new(Adadelta::default())),
        ("Adamax", Box::new(Adamax::default())),
        ("NAdam", Box::new(NAdam::builder().decoupled_weight_decay(true).weight_decay(0.1).build()?)),
        ("RAdam", Box::new(RAdam::default())),
        ("Rprop", Box::new(Rprop::default())),
        ("ASGD", Box::new(Asgd::builder().t0(1.0).build()?)),
        ("Adafactor", Box::new(Adafactor::builder().weight_decay(0.1).build()?)),
        (
            "ParamGroups",
            Box::new(
                ParamGroups::new(Box::new(AdamW::<F>::default()) as DynOpt<F>)
                    .group(
                        |p: Param<'_>| p.name.ends_with("bias"),
                        Box::new(Sgd::builder().momentum(0.9).build()?),
                    )
                    .group(|p: Param<'_>| p.id == 2, Box::new(Adafactor::default())),
            ),
        ),
    ])
}

fn check<F: Float>() -> Result<()> {
    for (name, mut opt) in every_optimizer::<F>()? {
        let mut model = Tensors::<F>::new();
        opt.step(&mut model)?; // allocates the state
        let mut result = Ok(());
        let n = allocations(|| {
            for _ in 0..10 {
                if let Err(e) = opt.step(&mut model) {
                    result = Err(e);
                }
            }
            // Schedulers' calls do not allocate either.
            opt.set_group_lr(0, opt.group_lr(0));
            if let Some(m) = opt.group_momentum(0) {
                opt.set_group_momentum(0, m);
            }
        });
        result?;
        assert_eq!(
            n,
            0,
            "{name} ({}): {n} allocations in 10 steps after the first",
            std::any::type_name::<F>()
        );
    }
    Ok(())
}

#[test]
fn no_step_allocates_after_the_first() -> Result<()> {
    // The counter itself works.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
    check::<f32>()?;
    check::<f64>()
}
