//! Steady-state training of the attention family allocates nothing in ndtrain's code:
//! LayerNorm, RmsNorm, MultiheadAttention (self-attention layer with masks set per
//! batch, three-input layer, explicit API, attention dropout), TransformerEncoderLayer
//! (pre- and post-norm, dropout) and TransformerEncoder.
//!
//! The counting allocator (tests/common/alloc.rs) tells matrixmultiply's packing
//! buffers (aligned to 32 bytes or more, one per matrix product) from everything else.

use ndarray::{Array2, Array3, ArrayD};
use ndtrain::model::{
    AttnMask, AttnMasks, LayerNorm, MultiInputLayer, MultiheadAttention, RmsNorm, TransformerEncoder,
    TransformerEncoderLayer,
};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

fn x(b: usize, t: usize, e: usize) -> ArrayD<f32> {
    Array3::from_shape_fn((b, t, e), |(i, j, k)| ((i * 31 + j * 7 + k * 3) % 13) as f32 / 6.0 - 1.0)
        .into_dyn()
}

/// Runs `step` once at batch 4 (buffers grow), then at 4 and 2 three times, counting;
/// returns the most GEMM packing buffers one counted step allocated.
fn steady(what: &str, mut step: impl FnMut(usize)) -> usize {
    step(4);
    let mut packing = 0;
    for _ in 0..3 {
        for b in [4, 2] {
            let (c, ()) = alloc::count(|| step(b));
            assert_eq!(c.ordinary, 0, "{what}, batch {b}: {} allocations", c.ordinary);
            assert_eq!(c.live_bytes, 0, "{what}: memory allocated in the step was not freed");
            packing = packing.max(c.gemm_packing);
        }
    }
    packing
}

/// The only test in this binary (counting is per thread anyway).
#[test]
fn steady_state_forward_backward_allocates_nothing() {
    let mut rng = ndtrain::seeded_rng(0);
    let (t, e, h) = (6, 8, 2);
    let xs = [x(4, t, e), x(2, t, e)];
    let gs = [x(4, t, e), x(2, t, e)];
    let pick = |b: usize| if b == 4 { 0 } else { 1 };

    let mut ln = LayerNorm::<f32>::new(&[e]).unwrap();
    let mut rms = RmsNorm::<f32>::new(&[t, e]).unwrap();
    steady("norms", |b| {
        let k = pick(b);
        ln.forward(xs[k].view(), Mode::Train).unwrap();
        ln.backward_input(gs[k].view()).unwrap();
        rms.forward(xs[k].view(), Mode::Train).unwrap();
        rms.backward(gs[k].view()).unwrap();
        ln.forward(xs[k].view(), Mode::Eval).unwrap();
    });

    // Self-attention with a causal flag, a float mask and a key padding mask set per batch.
    let mut mha = MultiheadAttention::<f32>::builder(e, h).batch_first(true).build(&mut rng).unwrap();
    mha.set_causal(true);
    let float_mask = ArrayD::from_shape_fn(ndarray::IxDyn(&[t, t]), |ix| (ix[0] + ix[1]) as f32 * 0.1);
    mha.set_attn_mask(Some(AttnMask::Float(float_mask.view())));
    let pads = [Array2::from_shape_fn((4, t), |(i, j)| j + i > t), Array2::from_elem((2, t), false)];
    let packing = steady("MultiheadAttention layer", |b| {
        let k = pick(b);
        mha.set_key_padding_mask(Some(pads[k].view()));
        mha.forward(xs[k].view(), Mode::Train).unwrap();
        mha.backward_input(gs[k].view()).unwrap();
    });
    // Products: in_proj 1 + 2 per head forward, out_proj 1; backward out_proj 2,
    // 4 per head, in_proj 2 (weight, input).
    assert!(packing <= 6 + 6 * 4 * h, "{packing} packing buffers");

    // Cross-attention: three inputs, explicit API and MultiInputLayer; with dropout.
    let mut cross =
        MultiheadAttention::<f32>::builder(e, h).batch_first(true).dropout(0.2).build(&mut rng).unwrap();
    let kv = [x(4, t + 2, e), x(2, t + 2, e)];
    let bool_mask = ArrayD::from_shape_fn(ndarray::IxDyn(&[t, t + 2]), |ix| ix[1] == ix[0] + 1);
    steady("MultiheadAttention three inputs", |b| {
        let k = pick(b);
        let masks = AttnMasks::causal().attn_mask(AttnMask::Bool(bool_mask.view()));
        cross.forward_attention(xs[k].view(), kv[k].view(), kv[k].view(), &masks, Mode::Train).unwrap();
        cross.backward_attention(gs[k].view()).unwrap();
        cross.forward_multi(&[xs[k].view(), kv[k].view(), kv[k].view()], Mode::Train).unwrap();
        cross.backward_multi(gs[k].view(), &[true, false, true]).unwrap();
        cross.forward_multi(&[xs[k].view(), kv[k].view(), kv[k].view()], Mode::Eval).unwrap();
    });

    // W7's block (pre-norm, GELU, causal) and a post-norm one with dropout; the stack.
    let block = TransformerEncoderLayer::<f32>::builder(e, h)
        .dim_feedforward(16)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .batch_first(true)
        .norm_first(true)
        .causal(true);
    let mut pre = block.build(&mut rng).unwrap();
    let mut post = block.norm_first(false).dropout(0.1).activation(Activation::Relu).build(&mut rng).unwrap();
    let mut stack = TransformerEncoder::new(block, 2, Some(LayerNorm::new(&[e]).unwrap()), &mut rng).unwrap();
    steady("TransformerEncoderLayer / TransformerEncoder", |b| {
        let k = pick(b);
        pre.forward(xs[k].view(), Mode::Train).unwrap();
        pre.backward_input(gs[k].view()).unwrap();
        post.forward(xs[k].view(), Mode::Train).unwrap();
        post.backward(gs[k].view()).unwrap();
        stack.forward(xs[k].view(), Mode::Train).unwrap();
        stack.backward(gs[k].view()).unwrap();
        stack.forward(xs[k].view(), Mode::Eval).unwrap();
    });
}
