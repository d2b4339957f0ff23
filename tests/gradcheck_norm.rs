//! Finite-difference checks (f64) of the normalization layers, the embedding and the
//! activations added with them: parameter gradients (`gradcheck`) and input gradients
//! (`gradcheck_input`) for every option, in training mode and, through a wrapper, in
//! `Mode::EvalGrad` (running statistics).

use ndarray::{Array1, ArrayD, ArrayViewD, IxDyn};
use ndtrain::model::{
    BatchNorm1d, BatchNorm2d, BatchNorm3d, Celu, Elu, Embedding, GroupNorm, Hardsigmoid, Hardswish, Hardtanh,
    LogSigmoid, LogSoftmax, Mish, ParamVisitor, Relu6, Selu, Silu, Softmax, Softplus, Softsign,
};
use ndtrain::prelude::*;
use rand::Rng;

const TOL: f64 = 1e-6;

/// Uniform values in `[-scale, scale]` with `|v| >= 0.05·scale` (away from the kinks at
/// 0).
fn input(shape: &[usize], seed: u64, scale: f64) -> ArrayD<f64> {
    let mut rng = ndtrain::seeded_rng(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mag = scale * (0.05 + 0.95 * u);
        if rng.next_u64() & 1 == 0 { mag } else { -mag }
    })
}

fn assert_passes(what: &str, report: &GradcheckReport) {
    assert!(report.passed(TOL), "{what}:\n{report}");
    assert!(report.tensors.iter().all(|t| t.checked > 0 || t.shape.iter().product::<usize>() == 0), "{what}");
}

fn opts() -> GradcheckOptions {
    GradcheckOptions::default()
}

/// Random affine parameters (so that γ ≠ 1 and β ≠ 0 are exercised).
fn randomize<M: Module<f64> + ?Sized>(m: &mut M, seed: u64) {
    let mut rng = ndtrain::seeded_rng(seed);
    m.visit_params(&mut |_, mut v, _| {
        v.iter_mut().for_each(|x| *x = 0.5 + (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64);
        Ok(())
    })
    .unwrap();
}

/// Both checks on `layer` at `x`.
fn check<L: Layer<f64>>(what: &str, layer: &mut L, x: &ArrayD<f64>) {
    assert_passes(what, &gradcheck(layer, x.view(), &opts()).unwrap());
    assert_passes(&format!("{what} input"), &gradcheck_input(layer, x.view(), &opts()).unwrap());
}

#[test]
fn batch_norm_training() {
    for (k, affine) in [true, false].into_iter().enumerate() {
        let s = 10 * k as u64;
        let mut bn = BatchNorm1d::<f64>::builder(3).affine(affine).build().unwrap();
        randomize(&mut bn, 1 + s);
        check(&format!("BatchNorm1d [N, C] affine={affine}"), &mut bn, &input(&[5, 3], 2 + s, 2.0));
        check(&format!("BatchNorm1d [N, C, L] affine={affine}"), &mut bn, &input(&[3, 3, 4], 3 + s, 2.0));
        let mut bn = BatchNorm2d::<f64>::builder(2).affine(affine).momentum(None).build().unwrap();
        randomize(&mut bn, 4 + s);
        check(&format!("BatchNorm2d affine={affine}"), &mut bn, &input(&[2, 2, 3, 2], 5 + s, 2.0));
    }
    // Two samples only (the smallest batch PyTorch accepts), no running statistics, eps 0.
    let mut bn = BatchNorm1d::<f64>::builder(4).track_running_stats(false).eps(0.0).build().unwrap();
    randomize(&mut bn, 6);
    check("BatchNorm1d N=2, no running stats", &mut bn, &input(&[2, 4], 7, 1.0));
    let mut bn = BatchNorm3d::<f64>::new(2).unwrap();
    randomize(&mut bn, 8);
    check("BatchNorm3d", &mut bn, &input(&[2, 2, 2, 2, 2], 9, 1.0));
}

/// A layer run in `Mode::EvalGrad` whatever the mode asked for: `gradcheck` always
/// forwards in `Mode::Train`.
struct EvalGrad<L>(L);

impl<L: Layer<f64>> Module<f64> for EvalGrad<L> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
        self.0.visit_params(f)
    }
}

impl<L: Layer<f64>> Model<f64> for EvalGrad<L> {
    fn forward(&mut self, x: ArrayViewD<'_, f64>, _mode: Mode) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        self.0.forward(x, Mode::EvalGrad)
    }
    fn backward(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
        self.0.backward(g)
    }
}

impl<L: Layer<f64>> Layer<f64> for EvalGrad<L> {
    fn backward_input(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        self.0.backward_input(g)
    }
}

#[test]
fn batch_norm_eval_grad_uses_running_statistics() {
    let mut bn = BatchNorm2d::<f64>::new(3).unwrap();
    randomize(&mut bn, 11);
    bn.running_mean_mut().unwrap().assign(&Array1::from(vec![0.3, -0.2, 0.1]));
    bn.running_var_mut().unwrap().assign(&Array1::from(vec![0.5, 2.0, 1.5]));
    let mut eval = EvalGrad(bn);
    let x = input(&[2, 3, 2, 2], 12, 2.0);
    check("BatchNorm2d EvalGrad", &mut eval, &x);
    // The check never updated the running statistics.
    assert_eq!(eval.0.num_batches_tracked(), Some(0));
    assert_eq!(eval.0.running_var().unwrap().to_vec(), vec![0.5, 2.0, 1.5]);
    // One sample is enough with running statistics.
    let mut eval = EvalGrad(BatchNorm1d::<f64>::new(2).unwrap());
    randomize(&mut eval, 13);
    check("BatchNorm1d EvalGrad N=1", &mut eval, &input(&[1, 2], 14, 2.0));
}

#[test]
fn group_norm() {
    let cases: [(usize, usize, &[usize]); 5] = [
        (1, 4, &[3, 4]),          // layer norm over channels
        (2, 4, &[2, 4, 3]),       // two groups, sequences
        (4, 4, &[2, 4, 2, 2]),    // instance norm
        (3, 6, &[1, 6, 2, 2]),    // one sample
        (2, 2, &[2, 2, 1, 2, 2]), // 3-D spatial
    ];
    for (k, (groups, channels, shape)) in cases.into_iter().enumerate() {
        for affine in [true, false] {
            let mut gn = GroupNorm::<f64>::builder(groups, channels).affine(affine).build().unwrap();
            randomize(&mut gn, 20 + k as u64);
            let what = format!("GroupNorm({groups}, {channels}) {shape:?} affine={affine}");
            check(&what, &mut gn, &input(shape, 30 + k as u64, 2.0));
        }
    }
}

#[test]
fn embedding() {
    let mut emb = Embedding::<f64>::new(6, 3, &mut ndtrain::seeded_rng(1)).unwrap();
    // Repeated ids (accumulation) and an unused row (zero gradient).
    let ids = ndarray::array![[0usize, 2, 2], [5, 1, 2]];
    let report = gradcheck(&mut emb, ids.view(), &opts()).unwrap();
    assert_passes("Embedding", &report);
    assert_eq!(report.tensors[0].name, "weight");
    assert_eq!(emb.weight_grad().row(3).to_vec(), vec![0.0; 3]);
    // With a padding row that does not occur, every other row checks out; where it does
    // occur its gradient is 0 by design (PyTorch's), not the finite difference.
    let mut emb = Embedding::<f64>::builder(6, 3).padding_idx(-2).build(&mut ndtrain::seeded_rng(2)).unwrap();
    let report = gradcheck(&mut emb, ndarray::array![3usize, 0, 3, 1].view(), &opts()).unwrap();
    assert_passes("Embedding padding_idx", &report);
    emb.forward(ndarray::array![4usize, 4, 1].into_dyn().view(), Mode::Train).unwrap();
    emb.backward(ArrayD::ones(IxDyn(&[3, 3])).view()).unwrap();
    assert_eq!(emb.weight_grad().row(4).to_vec(), vec![0.0; 3]);
    assert_eq!(emb.weight_grad().row(1).to_vec(), vec![1.0; 3]);
}

fn check_activation<L: Layer<f64>>(what: &str, mut layer: L, scale: f64) {
    for (shape, seed) in [(&[5, 4][..], 40), (&[2, 3, 4][..], 41)] {
        let x = input(shape, seed, scale);
        let report = gradcheck_input(&mut layer, x.view(), &opts()).unwrap();
        assert_passes(&format!("{what} {shape:?}"), &report);
    }
}

#[test]
fn activations() {
    check_activation("Elu", Elu::default(), 2.0);
    check_activation("Elu(0.3)", Elu::new(0.3).unwrap(), 2.0);
    check_activation("Selu", Selu::new(), 2.0);
    check_activation("Celu(2)", Celu::new(2.0).unwrap(), 2.0);
    check_activation("Silu", Silu::new(), 6.0);
    check_activation("Mish", Mish::new(), 6.0);
    check_activation("Softplus", Softplus::default(), 6.0);
    // beta 2, threshold 3: the linear region x > 1.5 is reached.
    check_activation("Softplus(2, 3)", Softplus::new(2.0, 3.0).unwrap(), 4.0);
    check_activation("LogSigmoid", LogSigmoid::new(), 8.0);
    check_activation("Softsign", Softsign::new(), 4.0);
    // Piecewise linear: inputs cover every piece (kinks at ±1, 0/6, ±3).
    check_activation("Hardtanh", Hardtanh::default(), 2.5);
    check_activation("Hardtanh(-0.5, 2)", Hardtanh::new(-0.5, 2.0).unwrap(), 3.0);
    check_activation("Relu6", Relu6::new(), 8.0);
    check_activation("Hardsigmoid", Hardsigmoid::new(), 5.0);
    check_activation("Hardswish", Hardswish::new(), 5.0);
}

#[test]
fn softmax_and_log_softmax_along_every_axis() {
    for (shape, dims) in [(&[2, 3, 4][..], &[-3, -2, -1, 0, 1, 2][..]), (&[5, 4][..], &[0, -1][..])] {
        let x = input(shape, 50, 3.0);
        for &dim in dims {
            let report = gradcheck_input(&mut Softmax::new(dim), x.view(), &opts()).unwrap();
            assert_passes(&format!("Softmax({dim}) {shape:?}"), &report);
            let report = gradcheck_input(&mut LogSoftmax::new(dim), x.view(), &opts()).unwrap();
            assert_passes(&format!("LogSoftmax({dim}) {shape:?}"), &report);
        }
    }
}

#[test]
fn a_network_with_batch_norm_and_new_activations() {
    let mut rng = ndtrain::seeded_rng(60);
    let mut net = Sequential::<f64>::new()
        .layer(Linear::new(4, 6, &mut rng).unwrap())
        .layer(BatchNorm1d::new(6).unwrap())
        .layer(Silu::new())
        .layer(Linear::new(6, 3, &mut rng).unwrap())
        .layer(LogSoftmax::new(-1));
    let x = input(&[5, 4], 61, 2.0);
    let report = gradcheck(&mut net, x.view(), &opts()).unwrap();
    assert_passes("Linear-BatchNorm-SiLU-Linear-LogSoftmax", &report);
    let names: Vec<&str> = report.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]);
    assert_passes("network input", &gradcheck_input(&mut net, x.view(), &opts()).unwrap());
    let buffers: Vec<String> = net.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(buffers, ["1.running_mean", "1.running_var", "1.num_batches_tracked"]);
    for act in [Activation::Mish, Activation::Hardswish, Activation::Elu(0.5), Activation::Softsign] {
        let mut mlp = Sequential::<f64>::mlp(&[3, 5, 2], act, &mut rng).unwrap();
        let x = input(&[4, 3], 62, 2.0);
        assert_passes(&format!("mlp {act:?}"), &gradcheck(&mut mlp, x.view(), &opts()).unwrap());
    }
}
