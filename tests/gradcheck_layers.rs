//! Finite-difference checks of every built-in layer's backward pass (f64), and a check
//! that `gradcheck` catches wrong gradients.

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn};
use ndtrain::model::ParamVisitor;
use ndtrain::model::init::Init;
use ndtrain::prelude::*;
use rand::Rng;

const TOL: f64 = 1e-6;

/// Uniform values in `[-2, 2]` with `|v| >= 0.1`, so no input sits near the kink of a
/// (leaky) ReLU: a perturbation of 1e-6 can never cross it.
fn input(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ndtrain::seeded_rng(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let mag = 0.1 + 1.9 * u;
        if rng.next_u64() & 1 == 0 { mag } else { -mag }
    })
}

fn assert_passes(what: &str, report: &GradcheckReport) {
    assert!(report.passed(TOL), "{what}:\n{report}");
    // Every element of every tensor was checked.
    for t in &report.tensors {
        assert_eq!(t.checked, t.shape.iter().product::<usize>(), "{what}: {}", t.name);
    }
}

fn opts() -> GradcheckOptions {
    GradcheckOptions::default()
}

#[test]
fn linear_with_bias() {
    let mut fc = Linear::<f64>::new(5, 3, &mut ndtrain::seeded_rng(1)).unwrap();
    let x = input(&[4, 5], 2);
    let report = gradcheck(&mut fc, x.view(), &opts()).unwrap();
    assert_passes("Linear", &report);
    let names: Vec<&str> = report.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert_passes("Linear input", &gradcheck_input(&mut fc, x.view(), &opts()).unwrap());
}

#[test]
fn linear_without_bias() {
    let mut fc = Linear::<f64>::builder(6, 2).bias(false).build(&mut ndtrain::seeded_rng(3)).unwrap();
    let x = input(&[3, 6], 4);
    let report = gradcheck(&mut fc, x.view(), &opts()).unwrap();
    assert_eq!(report.tensors.len(), 1);
    assert_passes("Linear(bias=false)", &report);
    assert_passes("Linear(bias=false) input", &gradcheck_input(&mut fc, x.view(), &opts()).unwrap());
}

#[test]
fn linear_with_one_output_uses_the_matrix_vector_path() {
    // One output column: forward, dW and dx run as row dot products and row updates.
    for bias in [true, false] {
        let mut fc = Linear::<f64>::builder(7, 1).bias(bias).build(&mut ndtrain::seeded_rng(11)).unwrap();
        let x = input(&[9, 7], 12);
        let y = fc.forward(x.view(), Mode::Eval).unwrap().to_owned();
        let w = fc.weight().row(0).to_owned();
        let b = fc.bias().map_or(0.0, |b| b[0]);
        for (row, y) in x.outer_iter().zip(&y) {
            let expected: f64 = row.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() + b;
            assert!((y - expected).abs() < 1e-12, "bias={bias}: {y} vs {expected}");
        }
        assert_passes("Linear(7, 1)", &gradcheck(&mut fc, x.view(), &opts()).unwrap());
        assert_passes("Linear(7, 1) input", &gradcheck_input(&mut fc, x.view(), &opts()).unwrap());
    }
}

#[test]
fn linear_zero_init_and_xavier() {
    // Zero weights: the input gradient is exactly 0, the weight gradient is not.
    let mut fc = Linear::<f64>::builder(4, 2).init(Init::Zeros).build(&mut ndtrain::seeded_rng(0)).unwrap();
    let x = input(&[5, 4], 5);
    assert_passes("Linear zeros", &gradcheck(&mut fc, x.view(), &opts()).unwrap());
    let mut fc = Linear::<f64>::builder(4, 2)
        .init(Init::xavier_normal())
        .bias_init(Init::Constant(0.5))
        .build(&mut ndtrain::seeded_rng(0))
        .unwrap();
    assert_eq!(fc.bias().unwrap().to_vec(), vec![0.5, 0.5]);
    assert_passes("Linear xavier", &gradcheck(&mut fc, x.view(), &opts()).unwrap());
}

fn check_activation<L: Layer<f64>>(what: &str, mut layer: L) {
    for (shape, seed) in [(&[6, 5][..], 10), (&[2, 3, 4][..], 11), (&[7][..], 12)] {
        let x = input(shape, seed);
        let report = gradcheck_input(&mut layer, x.view(), &opts()).unwrap();
        assert_passes(&format!("{what} {shape:?}"), &report);
        // No parameters: gradcheck passes with an empty report.
        assert!(gradcheck(&mut layer, x.view(), &opts()).unwrap().tensors.is_empty());
    }
}

#[test]
fn activations() {
    check_activation("Relu", Relu::new());
    check_activation("LeakyRelu", LeakyRelu::default());
    check_activation("LeakyRelu(0.3)", LeakyRelu::new(0.3).unwrap());
    check_activation("LeakyRelu(-0.5)", LeakyRelu::new(-0.5).unwrap());
    check_activation("LeakyRelu(0)", LeakyRelu::new(0.0).unwrap());
    check_activation("Tanh", Tanh::new());
    check_activation("Sigmoid", Sigmoid::new());
    check_activation("Gelu", Gelu::default());
    check_activation("Gelu(tanh)", Gelu::new(GeluApproximate::Tanh));
}

#[test]
fn gelu_far_tails() {
    // Large |x|: the exact GELU's derivative through erfc and exp stays right.
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 6]), vec![-9.0, -6.5, -3.0, 3.0, 6.5, 9.0]).unwrap();
    for approx in [GeluApproximate::None, GeluApproximate::Tanh] {
        let report = gradcheck_input(&mut Gelu::new(approx), x.view(), &opts()).unwrap();
        assert_passes("Gelu tails", &report);
    }
}

#[test]
fn dropout_in_train_mode() {
    let mut drop = Dropout::<f64>::builder().p(0.3).seed(9).build().unwrap();
    let x = input(&[8, 10], 13);
    let report = gradcheck_input(&mut drop, x.view(), &opts()).unwrap();
    assert_passes("Dropout", &report);
    // The check ran on a real mask: some elements dropped, some kept.
    let mask = drop.mask();
    assert!(mask.iter().any(|&m| m == 0.0) && mask.iter().any(|&m| m > 1.0));
    // Outside the check, masks are fresh again.
    let a = drop.forward(x.view(), Mode::Train).unwrap().to_owned();
    let b = drop.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_ne!(a, b);
}

#[test]
fn flatten() {
    let mut flat = Flatten::new();
    let x = input(&[3, 2, 4], 14);
    assert_passes("Flatten", &gradcheck_input(&mut flat, x.view(), &opts()).unwrap());
    let x = input(&[2, 2, 3, 2], 15);
    assert_passes("Flatten 4-D", &gradcheck_input(&mut flat, x.view(), &opts()).unwrap());
}

#[test]
fn sequential_mlp_with_every_activation() {
    let activations = [
        Activation::Relu,
        Activation::LeakyRelu(0.01),
        Activation::LeakyRelu(0.2),
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::GeluTanh,
    ];
    for (k, act) in activations.into_iter().enumerate() {
        let mut rng = ndtrain::seeded_rng(100 + k as u64);
        let mut mlp = Sequential::<f64>::mlp(&[5, 7, 6, 3], act, &mut rng).unwrap();
        let x = input(&[4, 5], 20 + k as u64);
        let report = gradcheck(&mut mlp, x.view(), &opts()).unwrap();
        assert_passes(&format!("mlp {act:?}"), &report);
        let names: Vec<&str> = report.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
        let ids: Vec<Option<usize>> = report.tensors.iter().map(|t| t.id).collect();
        assert_eq!(ids, (0..6).map(Some).collect::<Vec<_>>());
        // As a Layer, the stack's input gradient too.
        assert_passes(&format!("mlp {act:?} input"), &gradcheck_input(&mut mlp, x.view(), &opts()).unwrap());
    }
}

#[test]
fn sequential_with_flatten_dropout_and_nesting() {
    let mut rng = ndtrain::seeded_rng(7);
    let inner = Sequential::<f64>::new()
        .layer(Linear::new(8, 6, &mut rng).unwrap())
        .layer(Tanh::new())
        .layer(Dropout::builder().p(0.25).seed(3).build().unwrap());
    let mut net = Sequential::new()
        .layer(Flatten::new())
        .layer(inner)
        .layer(Linear::builder(6, 4).bias(false).build(&mut rng).unwrap())
        .layer(Gelu::default());
    let x = input(&[5, 2, 4], 30);
    let report = gradcheck(&mut net, x.view(), &opts()).unwrap();
    assert_passes("nested", &report);
    let names: Vec<&str> = report.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["1.0.weight", "1.0.bias", "2.weight"]);
    assert_passes("nested input", &gradcheck_input(&mut net, x.view(), &opts()).unwrap());
}

#[test]
fn parameters_are_restored_exactly() {
    let mut mlp = Sequential::<f64>::mlp(&[4, 5, 2], Activation::Tanh, &mut ndtrain::seeded_rng(1)).unwrap();
    let before = mlp.parameters();
    let x = input(&[3, 4], 2);
    gradcheck(&mut mlp, x.view(), &opts().eps(1e-3)).unwrap();
    let after = mlp.parameters();
    for ((n1, a), (n2, b)) in before.iter().zip(&after) {
        assert_eq!(n1, n2);
        assert!(a.iter().zip(b.iter()).all(|(u, v)| u.to_bits() == v.to_bits()), "{n1} changed");
    }
    // The model's gradients are left at the check's analytic values (a valid backward
    // at the original parameters): running backward again reproduces them.
    let g1 = mlp.gradients();
    assert!(g1.iter().any(|(_, g)| g.iter().any(|&v| v != 0.0)));
}

#[test]
fn sampling_limits_the_elements_checked() {
    let mut fc = Linear::<f64>::new(30, 20, &mut ndtrain::seeded_rng(1)).unwrap();
    let x = input(&[4, 30], 3);
    let report = gradcheck(&mut fc, x.view(), &opts().max_elements(25)).unwrap();
    assert_eq!(report.tensors[0].checked, 25);
    assert_eq!(report.tensors[1].checked, 20);
    assert!(report.passed(TOL));
    let text = report.to_string();
    assert!(text.contains("45 of 620 elements checked"), "{text}");
    assert!(text.contains("weight") && text.contains("bias"), "{text}");
}

#[test]
fn rejects_bad_options_and_inputs() {
    let mut fc = Linear::<f64>::new(3, 2, &mut ndtrain::seeded_rng(1)).unwrap();
    let x = input(&[2, 3], 1);
    let err = gradcheck(&mut fc, x.view(), &opts().eps(-1.0)).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "eps", .. }));
    let bad = input(&[2, 4], 1);
    let err = gradcheck(&mut fc, bad.view(), &opts()).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

/// `y = x Wᵀ + b` with a deliberately wrong backward, for the detection tests.
struct Broken {
    inner: Linear<f64>,
    bug: Bug,
    grads: (Array2<f64>, Array1<f64>),
}

#[derive(Clone, Copy)]
enum Bug {
    /// dW with rows 0 and 1 swapped.
    WeightGradOffByOneRow,
    /// db forgets the last sample.
    BiasSkipsLastRow,
    /// No bug: the control case.
    None,
}

impl Broken {
    fn new(bug: Bug) -> Self {
        let inner = Linear::new(4, 3, &mut ndtrain::seeded_rng(5)).unwrap();
        Broken { inner, bug, grads: (Array2::zeros((3, 4)), Array1::zeros(3)) }
    }
}

impl Module<f64> for Broken {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
        // The inner layer's tensors with this model's (possibly wrong) gradients.
        let grads = &mut self.grads;
        let mut k = 0;
        self.inner.visit_params(&mut |p, v, _| {
            let g = if k == 0 { grads.0.view_mut().into_dyn() } else { grads.1.view_mut().into_dyn() };
            k += 1;
            f(p, v, g)
        })
    }
}

impl Model<f64> for Broken {
    fn forward(&mut self, x: ArrayViewD<'_, f64>, mode: Mode) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        self.inner.forward(x, mode)
    }
    fn backward(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
        self.inner.backward(g.view())?;
        self.grads.0.assign(&self.inner.weight_grad());
        self.grads.1.assign(&self.inner.bias_grad().unwrap());
        let g2 = g.into_dimensionality::<ndarray::Ix2>().unwrap();
        match self.bug {
            Bug::WeightGradOffByOneRow => {
                let (r0, r1) = (self.grads.0.row(0).to_owned(), self.grads.0.row(1).to_owned());
                self.grads.0.row_mut(0).assign(&r1);
                self.grads.0.row_mut(1).assign(&r0);
            }
            Bug::BiasSkipsLastRow => self.grads.1 -= &g2.row(g2.nrows() - 1),
            Bug::None => {}
        }
        Ok(())
    }
}

#[test]
fn detects_wrong_parameter_gradients() {
    let x = input(&[5, 4], 40);
    let mut ok = Broken::new(Bug::None);
    assert!(gradcheck(&mut ok, x.view(), &opts()).unwrap().passed(TOL));

    let mut broken = Broken::new(Bug::WeightGradOffByOneRow);
    let report = gradcheck(&mut broken, x.view(), &opts()).unwrap();
    assert!(!report.passed(TOL), "{report}");
    let worst = report.worst().unwrap();
    assert_eq!(worst.name, "weight");
    assert!(worst.worst_index[0] <= 1, "{report}");
    assert!(worst.max_rel_error > 1e-3, "{report}");
    assert!(report.tensors[1].passed(TOL), "the bias gradient is right:\n{report}");

    let mut broken = Broken::new(Bug::BiasSkipsLastRow);
    let report = gradcheck(&mut broken, x.view(), &opts()).unwrap();
    assert!(!report.passed(TOL));
    assert_eq!(report.worst().unwrap().name, "bias");
    assert!(report.tensors[0].passed(TOL));
}

/// A tanh whose input gradient is off by 0.1% — small, and still caught.
struct SlightlyWrongTanh(Tanh<f64>, ArrayD<f64>);

impl Module<f64> for SlightlyWrongTanh {
    fn visit_params(&mut self, _f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
        Ok(())
    }
}

impl Model<f64> for SlightlyWrongTanh {
    fn forward(&mut self, x: ArrayViewD<'_, f64>, mode: Mode) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        self.0.forward(x, mode)
    }
    fn backward(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
        self.0.backward(g)
    }
}

impl Layer<f64> for SlightlyWrongTanh {
    fn backward_input(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        self.1 = self.0.backward_input(g)?.mapv(|v| v * 1.001);
        Ok(self.1.view())
    }
}

#[test]
fn detects_wrong_input_gradient() {
    let x = input(&[3, 4], 41);
    let mut layer = SlightlyWrongTanh(Tanh::new(), ArrayD::zeros(IxDyn(&[0])));
    let report = gradcheck_input(&mut layer, x.view(), &opts()).unwrap();
    assert!(!report.passed(TOL), "{report}");
    assert_eq!(report.tensors[0].name, "input");
    assert!(report.max_rel_error() > 5e-4, "{report}");
    assert!(report.to_string().contains("input"));
}
