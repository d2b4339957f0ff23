//! Every optimizer gives the same bits whatever the memory layout of the parameter and
//! its gradient: contiguous tensors take the slice loops (with their AVX2 build where the
//! CPU has it), strided and column-major ones ndarray's `Zip`.

use ndarray::{Array1, Array2, ShapeBuilder, s};
use ndtrain::optim::*;
use ndtrain::{Float, Param};

type DynOpt<F> = Box<dyn Optimizer<F> + Send + Sync>;

fn all<F: Float>() -> Vec<(&'static str, DynOpt<F>)> {
    vec![
        ("SGD", Box::new(Sgd::builder().lr(0.1).weight_decay(0.01).build().unwrap())),
        ("SGD momentum", Box::new(Sgd::builder().lr(0.05).momentum(0.9).nesterov(true).build().unwrap())),
        ("Adam", Box::new(Adam::builder().lr(0.05).build().unwrap())),
        (
            "Adam amsgrad maximize",
            Box::new(Adam::builder().amsgrad(true).maximize(true).weight_decay(0.1).build().unwrap()),
        ),
        ("AdamW", Box::new(AdamW::builder().betas(0.3, 0.5).build().unwrap())),
        ("RMSprop", Box::new(RmsProp::default())),
        (
            "RMSprop centered momentum",
            Box::new(RmsProp::builder().momentum(0.5).centered(true).build().unwrap()),
        ),
        ("Adagrad", Box::new(Adagrad::builder().weight_decay(0.1).build().unwrap())),
        ("Adadelta", Box::new(Adadelta::default())),
        ("Adamax", Box::new(Adamax::default())),
        ("NAdam", Box::new(NAdam::builder().weight_decay(0.1).decoupled_weight_decay(true).build().unwrap())),
        ("RAdam", Box::new(RAdam::default())),
        ("Rprop", Box::new(Rprop::default())),
        ("ASGD", Box::new(Asgd::builder().t0(2.0).build().unwrap())),
        ("Adafactor", Box::new(Adafactor::default())),
        ("Lion", Box::new(Lion::builder().weight_decay(0.1).build().unwrap())),
        ("Lamb", Box::new(Lamb::default())),
        ("Lars", Box::new(Lars::builder().momentum(0.9).build().unwrap())),
        ("ScheduleFreeAdamW", Box::new(ScheduleFreeAdamW::builder().warmup_steps(2).build().unwrap())),
        ("ScheduleFreeSgd", Box::new(ScheduleFreeSgd::default())),
        ("Muon", Box::new(Muon::default())),
    ]
}

fn bits<F: Float>(a: impl IntoIterator<Item = F>) -> Vec<u64> {
    a.into_iter().map(|x| if x.is_nan() { u64::MAX } else { x.as_f64().to_bits() }).collect()
}

/// Values in `[-1, 1)` from a fixed sequence, scaled by `scale`.
fn values<F: Float>(n: usize, seed: u64, scale: f64) -> Vec<F> {
    (0..n as u64)
        .map(|i| {
            let z = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xBF58_476D_1CE4_E5B9))
                .wrapping_mul(0x94D0_49BB_1331_11EB);
            F::lit(((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale)
        })
        .collect()
}

const STEPS: u64 = 4;

/// A 1-D parameter of 37 elements: contiguous, and every other element of a 74-element
/// array.
fn strided_1d<F: Float>() {
    for (name, mut contiguous) in all::<F>() {
        let (_, mut strided) = all::<F>().into_iter().find(|(n, _)| *n == name).unwrap();
        let mut a = Array1::from(values::<F>(37, 1, 1.0));
        let mut big = Array1::from_elem(74, F::nan());
        big.slice_mut(s![..;2]).assign(&a);
        for t in 0..STEPS {
            let g = Array1::from(values::<F>(37, 10 + t, 0.1));
            let mut gbig = Array1::from_elem(74, F::nan());
            gbig.slice_mut(s![..;2]).assign(&g);
            contiguous.update(Param::new(0, "w"), a.view_mut().into_dyn(), g.view().into_dyn()).unwrap();
            let mut view = big.slice_mut(s![..;2]);
            strided
                .update(Param::new(0, "w"), view.view_mut().into_dyn(), gbig.slice(s![..;2]).into_dyn())
                .unwrap();
        }
        assert_eq!(bits(a.iter().copied()), bits(big.slice(s![..;2]).iter().copied()), "{name}");
    }
}

/// A 13×11 parameter in row-major and in column-major layout. Adafactor is left out: its
/// factored second moment sums rows and columns in memory order, so the layout can move
/// the last bit.
fn column_major_2d<F: Float>() {
    for (name, mut c_order) in all::<F>().into_iter().filter(|(n, _)| *n != "Adafactor") {
        let (_, mut f_order) = all::<F>().into_iter().find(|(n, _)| *n == name).unwrap();
        let v = values::<F>(143, 2, 1.0);
        let mut a = Array2::from_shape_vec((13, 11), v.clone()).unwrap();
        let mut b = Array2::from_shape_vec((13, 11).f(), vec![F::zero(); 143]).unwrap();
        b.assign(&a);
        for t in 0..STEPS {
            let g = Array2::from_shape_vec((13, 11), values::<F>(143, 20 + t, 0.1)).unwrap();
            let mut gf = Array2::from_shape_vec((13, 11).f(), vec![F::zero(); 143]).unwrap();
            gf.assign(&g);
            c_order.update(Param::new(0, "w"), a.view_mut().into_dyn(), g.view().into_dyn()).unwrap();
            f_order.update(Param::new(0, "w"), b.view_mut().into_dyn(), gf.view().into_dyn()).unwrap();
        }
        assert_eq!(bits(a.iter().copied()), bits(b.iter().copied()), "{name}");
    }
}

#[test]
fn strided_parameters_give_the_same_bits_f32() {
    strided_1d::<f32>();
}

#[test]
fn strided_parameters_give_the_same_bits_f64() {
    strided_1d::<f64>();
}

#[test]
fn column_major_parameters_give_the_same_bits_f32() {
    column_major_2d::<f32>();
}

#[test]
fn column_major_parameters_give_the_same_bits_f64() {
    column_major_2d::<f64>();
}
