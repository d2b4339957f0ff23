//! Finite-difference checks of the recurrent layers' backward through time (f64):
//! every parameter gradient (`gradcheck`) and the input gradient (`gradcheck_input`)
//! of `Rnn` (tanh, ReLU), `Lstm` and `Gru` over layouts, depths, directions, biases,
//! dropout between layers and initial states, on small shapes drawn from a seeded
//! generator; `LastStep` and a GRU sequence classifier too.

use ndarray::{Array3, ArrayD, IxDyn};
use ndtrain::model::{Gru, LastStep, Lstm, Recurrent, RecurrentBuilder, RecurrentKind, Rnn, RnnNonlinearity};
use ndtrain::prelude::*;
use rand::Rng;

const TOL: f64 = 1e-6;

/// Uniform values in `[-1.5, 1.5]`.
fn input(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ndtrain::seeded_rng(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| 3.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.5)
}

fn assert_passes(what: &str, report: &GradcheckReport) {
    assert!(report.passed(TOL), "{what}:\n{report}");
    for t in &report.tensors {
        assert_eq!(t.checked, t.shape.iter().product::<usize>(), "{what}: {}", t.name);
    }
}

/// Options of one configuration.
#[derive(Clone, Copy, Debug)]
struct Opts {
    layers: usize,
    bidirectional: bool,
    batch_first: bool,
    bias: bool,
    dropout: f64,
}

const CONFIGS: [Opts; 5] = [
    Opts { layers: 1, bidirectional: false, batch_first: true, bias: true, dropout: 0.0 },
    Opts { layers: 1, bidirectional: true, batch_first: false, bias: true, dropout: 0.0 },
    Opts { layers: 2, bidirectional: false, batch_first: false, bias: false, dropout: 0.0 },
    Opts { layers: 2, bidirectional: true, batch_first: true, bias: true, dropout: 0.0 },
    Opts { layers: 3, bidirectional: true, batch_first: true, bias: true, dropout: 0.4 },
];

/// Builds with the options and random sizes (batch 1–3, length 1–4, input 1–4,
/// hidden 1–4), then checks every parameter and the input; returns the worst error.
fn check<K: RecurrentKind>(
    what: &str,
    make: impl Fn(usize, usize) -> RecurrentBuilder<f64, K>,
    seed: u64,
) -> f64 {
    let mut worst: f64 = 0.0;
    let mut sizes = ndtrain::seeded_rng(seed);
    for (c, o) in CONFIGS.iter().enumerate() {
        let mut draw = |lo: u64, hi: u64| (lo + sizes.next_u64() % (hi - lo + 1)) as usize;
        let (b, t, i, h) = (draw(1, 3), draw(1, 4), draw(1, 4), draw(1, 4));
        let mut m: Recurrent<f64, K> = make(i, h)
            .num_layers(o.layers)
            .bidirectional(o.bidirectional)
            .batch_first(o.batch_first)
            .bias(o.bias)
            .dropout(o.dropout)
            .seed(seed)
            .build(&mut ndtrain::seeded_rng(seed + c as u64))
            .unwrap();
        let shape = if o.batch_first { [b, t, i] } else { [t, b, i] };
        let x = input(&shape, seed * 10 + c as u64);
        let label = format!("{what} {o:?} [B={b}, T={t}, in={i}, H={h}]");
        let report = gradcheck(&mut m, x.view(), &GradcheckOptions::default()).unwrap();
        assert_passes(&label, &report);
        assert_eq!(
            report.tensors.len(),
            o.layers * (1 + usize::from(o.bidirectional)) * if o.bias { 4 } else { 2 }
        );
        let input_report = gradcheck_input(&mut m, x.view(), &GradcheckOptions::default()).unwrap();
        assert_passes(&format!("{label} input"), &input_report);
        worst = worst.max(report.max_rel_error()).max(input_report.max_rel_error());
    }
    worst
}

#[test]
fn rnn_tanh() {
    let worst = check("Rnn(tanh)", Rnn::builder, 1);
    eprintln!("Rnn(tanh) worst relative error {worst:.2e}");
}

#[test]
fn rnn_relu() {
    let worst = check("Rnn(relu)", |i, h| Rnn::builder(i, h).nonlinearity(RnnNonlinearity::Relu), 2);
    eprintln!("Rnn(relu) worst relative error {worst:.2e}");
}

#[test]
fn lstm() {
    let worst = check("Lstm", Lstm::builder, 3);
    eprintln!("Lstm worst relative error {worst:.2e}");
}

#[test]
fn gru() {
    let worst = check("Gru", Gru::builder, 4);
    eprintln!("Gru worst relative error {worst:.2e}");
}

/// `L = Σ out ⊙ r` for a fixed `r`.
fn objective<K: RecurrentKind>(m: &mut Recurrent<f64, K>, x: &ArrayD<f64>, r: &ArrayD<f64>) -> f64 {
    (&m.forward(x.view(), Mode::Train).unwrap() * r).sum()
}

/// Central differences of `L` in every element of a state; `set` installs a state.
fn state_differences(state: &Array3<f64>, mut eval: impl FnMut(&Array3<f64>) -> f64) -> Array3<f64> {
    let eps = 1e-6;
    let mut s = state.clone();
    let mut out = Array3::zeros(state.raw_dim());
    for (idx, o) in out.indexed_iter_mut() {
        let orig = s[idx];
        s[idx] = orig + eps;
        let up = eval(&s);
        s[idx] = orig - eps;
        let down = eval(&s);
        s[idx] = orig;
        *o = (up - down) / (2.0 * eps);
    }
    out
}

fn assert_close(what: &str, analytic: ndarray::ArrayView3<'_, f64>, numeric: &Array3<f64>) {
    for (a, n) in analytic.iter().zip(numeric) {
        assert!((a - n).abs() <= 1e-7 * (1.0 + n.abs()), "{what}: analytic {a}, numeric {n}");
    }
}

#[test]
fn initial_state_gradients() {
    // [B = 2, T = 3, in = 2], H = 3, 2 layers, bidirectional: states [4, 2, 3].
    let x = input(&[2, 3, 2], 50);
    let r = input(&[2, 3, 6], 51);
    let h0 = input(&[4, 2, 3], 52).into_dimensionality().unwrap();
    let c0: Array3<f64> = input(&[4, 2, 3], 53).into_dimensionality().unwrap();
    let b = |seed| ndtrain::seeded_rng(seed);

    let mut gru = Gru::<f64>::builder(2, 3)
        .num_layers(2)
        .bidirectional(true)
        .batch_first(true)
        .build(&mut b(1))
        .unwrap();
    let numeric = state_differences(&h0, |s| {
        gru.set_initial_state(Some(s.view())).unwrap();
        objective(&mut gru, &x, &r)
    });
    gru.set_initial_state(Some(h0.view())).unwrap();
    assert_passes("Gru with h0", &gradcheck(&mut gru, x.view(), &GradcheckOptions::default()).unwrap());
    objective(&mut gru, &x, &r);
    gru.backward(r.view()).unwrap();
    assert_close("Gru h0", gru.h0_grad().unwrap(), &numeric);

    let mut rnn = Rnn::<f64>::builder(2, 3)
        .num_layers(2)
        .bidirectional(true)
        .batch_first(true)
        .build(&mut b(2))
        .unwrap();
    let numeric = state_differences(&h0, |s| {
        rnn.set_initial_state(Some(s.view())).unwrap();
        objective(&mut rnn, &x, &r)
    });
    rnn.set_initial_state(Some(h0.view())).unwrap();
    objective(&mut rnn, &x, &r);
    rnn.backward_input(r.view()).unwrap();
    assert_close("Rnn h0", rnn.h0_grad().unwrap(), &numeric);

    let mut lstm = Lstm::<f64>::builder(2, 3)
        .num_layers(2)
        .bidirectional(true)
        .batch_first(true)
        .build(&mut b(3))
        .unwrap();
    let numeric_h = state_differences(&h0, |s| {
        lstm.set_initial_state(Some((s.view(), c0.view()))).unwrap();
        objective(&mut lstm, &x, &r)
    });
    let numeric_c = state_differences(&c0, |s| {
        lstm.set_initial_state(Some((h0.view(), s.view()))).unwrap();
        objective(&mut lstm, &x, &r)
    });
    lstm.set_initial_state(Some((h0.view(), c0.view()))).unwrap();
    assert_passes(
        "Lstm with (h0, c0)",
        &gradcheck(&mut lstm, x.view(), &GradcheckOptions::default()).unwrap(),
    );
    objective(&mut lstm, &x, &r);
    lstm.backward(r.view()).unwrap();
    assert_close("Lstm h0", lstm.h0_grad().unwrap(), &numeric_h);
    assert_close("Lstm c0", lstm.c0_grad().unwrap(), &numeric_c);
}

#[test]
fn last_step_and_a_sequence_classifier() {
    for batch_first in [true, false] {
        let mut last = LastStep::<f64>::new(batch_first);
        let x = input(&[3, 4, 2], 60);
        assert_passes(
            "LastStep",
            &gradcheck_input(&mut last, x.view(), &GradcheckOptions::default()).unwrap(),
        );
    }
    let mut rng = ndtrain::seeded_rng(61);
    let mut net = Sequential::<f64>::new()
        .layer(Lstm::builder(3, 4).batch_first(true).num_layers(2).dropout(0.2).build(&mut rng).unwrap())
        .layer(LastStep::new(true))
        .layer(Linear::new(4, 2, &mut rng).unwrap());
    let x = input(&[3, 5, 3], 62);
    let report = gradcheck(&mut net, x.view(), &GradcheckOptions::default()).unwrap();
    assert_passes("Lstm → LastStep → Linear", &report);
    assert_eq!(report.tensors[0].name, "0.weight_ih_l0");
    assert_passes(
        "Lstm → LastStep → Linear input",
        &gradcheck_input(&mut net, x.view(), &GradcheckOptions::default()).unwrap(),
    );
}
