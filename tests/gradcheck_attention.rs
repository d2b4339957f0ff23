//! Finite-difference checks (f64) of LayerNorm, RMSNorm, MultiheadAttention (as a
//! self-attention layer and with separate query, key and value), TransformerEncoderLayer
//! and TransformerEncoder, over their options: masks of every kind, causal, both
//! layouts, dropout, pre/post-norm, with and without biases.

use std::cell::Cell;

use ndarray::{Array2, ArrayD, ArrayViewD, IxDyn};
use ndtrain::model::{
    AttnMask, AttnMasks, Floats, LayerNorm, MultiheadAttention, ParamVisitor, RmsNorm, TransformerEncoder,
    TransformerEncoderLayer,
};
use ndtrain::prelude::*;
use rand::Rng;

const TOL: f64 = 1e-6;
/// Finite-difference step: 1e-5 balances truncation (~1e-10) and rounding noise
/// through the deeper blocks better than the default 1e-6.
const EPS: f64 = 1e-5;

thread_local! {
    /// Worst relative error seen by this test thread (printed with --nocapture).
    static WORST: Cell<f64> = const { Cell::new(0.0) };
}

/// Uniform values in `[-1.5, 1.5]`.
fn input(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ndtrain::seeded_rng(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| 3.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.5)
}

fn record(what: &str, err: f64) {
    WORST.with(|w| w.set(w.get().max(err)));
    eprintln!("{what}: worst relative error {err:.2e}");
}

fn assert_passes(what: &str, report: &GradcheckReport) {
    assert!(report.passed(TOL), "{what}:\n{report}");
    assert!(!report.tensors.is_empty(), "{what}: nothing checked");
    record(what, report.max_rel_error());
}

/// Parameters and input gradient of a one-input layer.
fn check_layer<L: Layer<f64>>(what: &str, layer: &mut L, x: &ArrayD<f64>) {
    let opts = GradcheckOptions::default().eps(EPS);
    assert_passes(what, &gradcheck(layer, x.view(), &opts).unwrap());
    assert_passes(&format!("{what} input"), &gradcheck_input(layer, x.view(), &opts).unwrap());
}

#[test]
fn layer_norm_options() {
    for (k, (shape, normalized, affine, bias)) in [
        (&[3, 4, 5][..], &[5][..], true, true),
        (&[2, 3, 4], &[3, 4], true, true),
        (&[4, 6], &[6], true, false),
        (&[3, 2, 5], &[5], false, true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut ln = LayerNorm::<f64>::builder(normalized)
            .elementwise_affine(affine)
            .bias(bias)
            .eps(1e-3)
            .build()
            .unwrap();
        // Non-trivial affine parameters.
        let values: Vec<ArrayD<f64>> =
            ln.parameters().iter().enumerate().map(|(i, (_, p))| input(p.shape(), 40 + i as u64)).collect();
        ln.set_parameters(&values).unwrap();
        let x = input(shape, k as u64);
        let what = format!("LayerNorm {normalized:?} affine={affine} bias={bias}");
        if affine {
            check_layer(&what, &mut ln, &x);
        } else {
            let report = gradcheck_input(&mut ln, x.view(), &GradcheckOptions::default().eps(EPS)).unwrap();
            assert_passes(&what, &report);
        }
    }
}

#[test]
fn rms_norm_options() {
    let mut rms = RmsNorm::<f64>::new(&[6]).unwrap();
    let w = input(&[6], 50);
    rms.set_parameters(&[w]).unwrap();
    check_layer("RmsNorm [6]", &mut rms, &input(&[4, 6], 1));
    let mut rms = RmsNorm::<f64>::builder(&[2, 3]).eps(Some(1e-4)).build().unwrap();
    check_layer("RmsNorm [2, 3]", &mut rms, &input(&[3, 2, 3], 2));
    let mut plain = RmsNorm::<f64>::builder(&[5]).elementwise_affine(false).build().unwrap();
    let report =
        gradcheck_input(&mut plain, input(&[3, 5], 3).view(), &GradcheckOptions::default().eps(EPS)).unwrap();
    assert_passes("RmsNorm no affine", &report);
}

fn mha(bias: bool, batch_first: bool, dropout: f64, seed: u64) -> MultiheadAttention<f64> {
    let mut m = MultiheadAttention::<f64>::builder(8, 2)
        .bias(bias)
        .batch_first(batch_first)
        .dropout(dropout)
        .seed(seed)
        .build(&mut ndtrain::seeded_rng(seed))
        .unwrap();
    // Non-zero biases (PyTorch initialises them to 0, which would hide a wrong bias
    // gradient path through the softmax).
    if bias {
        let values: Vec<ArrayD<f64>> =
            m.parameters()
                .iter()
                .enumerate()
                .map(|(i, (n, p))| {
                    if n.ends_with("bias") { input(p.shape(), seed + 60 + i as u64) * 0.5 } else { p.clone() }
                })
                .collect();
        m.set_parameters(&values).unwrap();
    }
    m
}

#[test]
fn self_attention_layer() {
    // (bias, batch_first, causal, dropout)
    for (k, (bias, batch_first, causal, dropout)) in [
        (true, true, false, 0.0),
        (false, true, true, 0.0),
        (true, false, false, 0.0),
        (true, false, true, 0.0),
        (true, true, true, 0.3),
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = mha(bias, batch_first, dropout, k as u64);
        m.set_causal(causal);
        // B = 2, T = 5 (T = 18 > one causal block of 16 for one case).
        let t = if k == 1 { 18 } else { 5 };
        let shape = if batch_first { [2, t, 8] } else { [t, 2, 8] };
        let x = input(&shape, 10 + k as u64);
        check_layer(
            &format!("MHA self bias={bias} batch_first={batch_first} causal={causal} dropout={dropout}"),
            &mut m,
            &x,
        );
    }
}

#[test]
fn self_attention_with_masks() {
    let (b, t, h) = (2, 5, 2);
    // Bool [T, T] (not causal), keeping the diagonal so no row is fully masked.
    let bool_mask =
        ArrayD::from_shape_fn(IxDyn(&[t, t]), |ix| ix[0] != ix[1] && (ix[0] * 3 + ix[1]) % 4 == 0);
    let per_head = ArrayD::from_shape_fn(IxDyn(&[b * h, t, t]), |ix| {
        ix[1] != ix[2] && (ix[0] + ix[1] + 2 * ix[2]) % 3 == 0
    });
    let float_mask = input(&[t, t], 70);
    let key_padding = Array2::from_shape_fn((b, t), |(bi, j)| bi == 1 && j >= 3);
    let x = input(&[b, t, 8], 20);
    let mut m = mha(true, true, 0.0, 3);
    m.set_attn_mask(Some(AttnMask::Bool(bool_mask.view())));
    check_layer("MHA bool mask", &mut m, &x);
    m.set_attn_mask(Some(AttnMask::Bool(per_head.view())));
    m.set_key_padding_mask(Some(key_padding.view()));
    check_layer("MHA per-head mask + key padding", &mut m, &x);
    m.set_attn_mask(Some(AttnMask::Float(float_mask.view())));
    m.set_causal(true);
    check_layer("MHA float mask + key padding + causal", &mut m, &x);
    // The masks matter: without them the output differs.
    let masked = m.forward(x.view(), Mode::Eval).unwrap().to_owned();
    m.set_attn_mask(None);
    m.set_key_padding_mask(None);
    m.set_causal(false);
    assert!((&m.forward(x.view(), Mode::Eval).unwrap() - &masked).iter().any(|d| d.abs() > 1e-3));
}

/// Cross-attention through the explicit API, as a model over three float inputs.
struct Cross {
    mha: MultiheadAttention<f64>,
    bool_mask: Option<ArrayD<bool>>,
    key_padding: Option<Array2<bool>>,
    causal: bool,
}

impl Module<f64> for Cross {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
        self.mha.visit_params(f)
    }
}

impl Model<f64, (Floats, Floats, Floats)> for Cross {
    fn forward(
        &mut self,
        x: (ArrayViewD<'_, f64>, ArrayViewD<'_, f64>, ArrayViewD<'_, f64>),
        mode: Mode,
    ) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        let masks = AttnMasks {
            attn_mask: self.bool_mask.as_ref().map(|m| AttnMask::Bool(m.view())),
            key_padding_mask: self.key_padding.as_ref().map(|m| m.view()),
            is_causal: self.causal,
        };
        self.mha.forward_attention(x.0, x.1, x.2, &masks, mode)
    }

    fn backward(&mut self, grad_out: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
        self.mha.backward_attention(grad_out).map(|_| ())
    }
}

/// Central differences of `Σ out ⊙ r` in every element of query, key and value against
/// `backward_attention(r)`; returns the worst relative error.
fn check_cross_inputs(c: &mut Cross, q: &ArrayD<f64>, k: &ArrayD<f64>, v: &ArrayD<f64>) -> f64 {
    let out = c.forward((q.view(), k.view(), v.view()), Mode::Train).unwrap().to_owned();
    let r = input(out.shape(), 99);
    let g = c.mha.backward_attention(r.view()).unwrap();
    let analytic = [g.query.to_owned(), g.key.to_owned(), g.value.to_owned()];
    let mut loss = |q: &ArrayD<f64>, k: &ArrayD<f64>, v: &ArrayD<f64>| {
        let y = c.forward((q.view(), k.view(), v.view()), Mode::Train).unwrap();
        (&y * &r).sum()
    };
    let eps = EPS;
    let mut worst = 0.0f64;
    for (t, grad) in analytic.iter().enumerate() {
        let mut xs = [q.clone(), k.clone(), v.clone()];
        for j in 0..grad.len() {
            let orig = xs[t].as_slice().unwrap()[j];
            xs[t].as_slice_mut().unwrap()[j] = orig + eps;
            let up = loss(&xs[0], &xs[1], &xs[2]);
            xs[t].as_slice_mut().unwrap()[j] = orig - eps;
            let down = loss(&xs[0], &xs[1], &xs[2]);
            xs[t].as_slice_mut().unwrap()[j] = orig;
            let (a, n) = (grad.as_slice().unwrap()[j], (up - down) / (2.0 * eps));
            worst = worst.max((a - n).abs() / a.abs().max(n.abs()).max(1e-3));
        }
    }
    worst
}

#[test]
fn cross_attention_three_inputs() {
    // (batch_first, L, S, causal, masks)
    for (k, (batch_first, l, s, causal, masks)) in [
        (true, 4, 6, false, false),
        (false, 3, 5, false, true),
        (true, 6, 4, true, false),
        (false, 5, 7, true, true),
    ]
    .into_iter()
    .enumerate()
    {
        let b = 2;
        let mut c = Cross {
            mha: mha(k != 2, batch_first, 0.0, 30 + k as u64),
            bool_mask: masks
                .then(|| ArrayD::from_shape_fn(IxDyn(&[l, s]), |ix| ix[1] > 0 && (ix[0] + ix[1]) % 3 == 0)),
            key_padding: masks.then(|| Array2::from_shape_fn((b, s), |(bi, j)| bi == 0 && j + 1 == s)),
            causal,
        };
        let (qs, ks) = if batch_first { ([b, l, 8], [b, s, 8]) } else { ([l, b, 8], [s, b, 8]) };
        let (q, key, v) = (input(&qs, 1), input(&ks, 2), input(&ks, 3));
        let what = format!("MHA cross batch_first={batch_first} L={l} S={s} causal={causal} masks={masks}");
        let report = gradcheck(&mut c, (&q, &key, &v), &GradcheckOptions::default().eps(EPS)).unwrap();
        assert_passes(&what, &report);
        let err = check_cross_inputs(&mut c, &q, &key, &v);
        assert!(err < TOL, "{what} inputs: {err:e}");
        record(&format!("{what} inputs"), err);
    }
}

#[test]
fn multi_input_layer_matches_the_explicit_api() {
    use ndtrain::model::MultiInputLayer;
    let mut a = mha(true, true, 0.0, 5);
    let mut b = a.clone();
    let (q, k, v) = (input(&[2, 3, 8], 4), input(&[2, 4, 8], 5), input(&[2, 4, 8], 6));
    let g = input(&[2, 3, 8], 7);
    a.set_causal(true);
    let ya = a.forward_multi(&[q.view(), k.view(), v.view()], Mode::Train).unwrap().to_owned();
    a.backward_multi(g.view(), &[true, false, true]).unwrap();
    let yb = b
        .forward_attention(q.view(), k.view(), v.view(), &AttnMasks::causal(), Mode::Train)
        .unwrap()
        .to_owned();
    assert_eq!(ya, yb);
    let gb = b.backward_attention(g.view()).unwrap();
    assert_eq!(a.input_grad(0).unwrap(), gb.query);
    assert!(a.input_grad(1).is_none());
    assert_eq!(a.input_grad(2).unwrap(), gb.value);
    assert_eq!(a.gradients(), b.gradients());
}

#[test]
fn transformer_encoder_layer_options() {
    // (norm_first, activation, batch_first, causal, dropout, bias)
    for (k, (norm_first, act, batch_first, causal, dropout, bias)) in [
        (false, Activation::Gelu, true, false, 0.0, true),
        (true, Activation::Gelu, true, true, 0.0, true),
        (false, Activation::Relu, false, true, 0.0, true),
        (true, Activation::Tanh, false, false, 0.0, false),
        (false, Activation::Gelu, true, true, 0.2, true),
        (true, Activation::Gelu, true, false, 0.2, true),
    ]
    .into_iter()
    .enumerate()
    {
        let mut layer = TransformerEncoderLayer::<f64>::builder(8, 2)
            .dim_feedforward(12)
            .dropout(dropout)
            .activation(act)
            .batch_first(batch_first)
            .norm_first(norm_first)
            .causal(causal)
            .bias(bias)
            .seed(k as u64)
            .build(&mut ndtrain::seeded_rng(k as u64))
            .unwrap();
        let shape = if batch_first { [2, 4, 8] } else { [4, 2, 8] };
        let x = input(&shape, 80 + k as u64);
        check_layer(
            &format!(
                "TransformerEncoderLayer norm_first={norm_first} {act:?} batch_first={batch_first} causal={causal} dropout={dropout} bias={bias}"
            ),
            &mut layer,
            &x,
        );
    }
}

#[test]
fn transformer_encoder_layer_with_padding_mask() {
    let mut layer = TransformerEncoderLayer::<f64>::builder(8, 4)
        .dim_feedforward(10)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .batch_first(true)
        .build(&mut ndtrain::seeded_rng(9))
        .unwrap();
    let pad = Array2::from_shape_fn((3, 4), |(b, t)| t >= 4 - b);
    layer.set_src_key_padding_mask(Some(pad.view()));
    check_layer("TransformerEncoderLayer key padding", &mut layer, &input(&[3, 4, 8], 90));
}

#[test]
fn transformer_encoder_stack() {
    let builder = TransformerEncoderLayer::<f64>::builder(8, 2)
        .dim_feedforward(10)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .batch_first(true)
        .norm_first(true);
    let mut enc =
        TransformerEncoder::new(builder, 2, Some(LayerNorm::new(&[8]).unwrap()), &mut ndtrain::seeded_rng(3))
            .unwrap();
    enc.set_causal(true);
    let x = input(&[2, 5, 8], 91);
    let opts = GradcheckOptions::default().eps(EPS).max_elements(40);
    let report = gradcheck(&mut enc, x.view(), &opts).unwrap();
    assert_passes("TransformerEncoder", &report);
    assert_eq!(report.tensors.len(), 2 * 12 + 2);
    assert_eq!(report.tensors[12].name, "layers.1.self_attn.in_proj_weight");
    assert_passes("TransformerEncoder input", &gradcheck_input(&mut enc, x.view(), &opts).unwrap());
    // Without the final norm, post-norm layers.
    let mut enc =
        TransformerEncoder::new(builder.norm_first(false), 2, None, &mut ndtrain::seeded_rng(4)).unwrap();
    assert_passes("TransformerEncoder no norm", &gradcheck(&mut enc, x.view(), &opts).unwrap());
    let worst = WORST.with(Cell::get);
    eprintln!("worst relative error in this test: {worst:.2e}");
}
