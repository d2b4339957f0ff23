//! `Graph`: non-sequential models (residual connections, several inputs, integer
//! inputs) with the backward pass of the wiring derived, checked by gradcheck, by
//! hand-composed equivalents, with the Trainer, and for allocations.

use ndarray::{Array2, Array3, ArrayD, ArrayViewD, IxDyn, array};
use ndtrain::model::{Floats, Graph, Indices, ParamVisitor};
use ndtrain::prelude::*;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;

/// A minimal integer-input model: row lookup in a `[V, D]` table (an embedding),
/// written here so the graph is tested against the `Model<F, Indices>` trait alone.
struct Lookup {
    table: ArrayD<f64>,
    grad: ArrayD<f64>,
    ids: Vec<usize>,
    out: ArrayD<f64>,
}

impl Lookup {
    fn new(v: usize, d: usize, seed: u64) -> Self {
        let table =
            Array2::from_shape_fn((v, d), |(i, j)| ((i * 7 + j * 3 + seed as usize) % 11) as f64 / 5.0 - 1.0);
        Lookup {
            grad: ArrayD::zeros(IxDyn(&[v, d])),
            table: table.into_dyn(),
            ids: vec![],
            out: ArrayD::zeros(IxDyn(&[0])),
        }
    }
}

impl Module<f64> for Lookup {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> ndtrain::Result<()> {
        f(Param::new(0, "weight"), self.table.view_mut(), self.grad.view_mut())
    }
}

impl Model<f64, Indices> for Lookup {
    fn forward(&mut self, x: ArrayViewD<'_, usize>, _mode: Mode) -> ndtrain::Result<ArrayViewD<'_, f64>> {
        let d = self.table.shape()[1];
        let mut shape = x.shape().to_vec();
        shape.push(d);
        self.ids = x.iter().copied().collect();
        let mut out = ArrayD::zeros(IxDyn(&shape));
        for (k, &id) in self.ids.iter().enumerate() {
            let row = self.table.index_axis(ndarray::Axis(0), id);
            out.as_slice_mut().unwrap()[k * d..(k + 1) * d].copy_from_slice(row.as_slice().unwrap());
        }
        self.out = out;
        Ok(self.out.view())
    }
    fn backward(&mut self, g: ArrayViewD<'_, f64>) -> ndtrain::Result<()> {
        let d = self.table.shape()[1];
        self.grad.fill(0.0);
        let g = g.as_standard_layout();
        let gs = g.as_slice().unwrap();
        for (k, &id) in self.ids.iter().enumerate() {
            let mut row = self.grad.index_axis_mut(ndarray::Axis(0), id);
            for (r, &v) in row.iter_mut().zip(&gs[k * d..(k + 1) * d]) {
                *r += v;
            }
        }
        Ok(())
    }
}

fn residual(rng: &mut ndtrain::SeededRng) -> Graph<f64, Floats> {
    let mut g = Graph::<f64, Floats>::builder();
    let x = g.input();
    let h = g.layer("stem", Linear::new(4, 6, rng).unwrap(), x).unwrap();
    let f = g.layer("fc", Linear::new(6, 6, rng).unwrap(), h).unwrap();
    let f = g.layer("act", Tanh::new(), f).unwrap();
    let h2 = g.add(h, f).unwrap();
    // The same node feeds two consumers (h is used by fc and by the add).
    let out = g.layer("head", Linear::new(6, 3, rng).unwrap(), h2).unwrap();
    g.build(out).unwrap()
}

#[test]
fn residual_matches_hand_composition_and_gradcheck() {
    let mut model = residual(&mut ndtrain::seeded_rng(1));
    let mut rng = ndtrain::seeded_rng(1);
    let (mut stem, mut fc, mut head) = (
        Linear::new(4, 6, &mut rng).unwrap(),
        Linear::new(6, 6, &mut rng).unwrap(),
        Linear::new(6, 3, &mut rng).unwrap(),
    );
    let x = Array2::from_shape_fn((5, 4), |(i, j)| (i as f64 * 0.7 - j as f64 * 0.4).sin()).into_dyn();
    let y = model.forward(x.view(), Mode::Train).unwrap().to_owned();
    let h = stem.forward(x.view(), Mode::Train).unwrap().to_owned();
    let f = fc.forward(h.view(), Mode::Train).unwrap().mapv(f64::tanh);
    let y2 = head.forward((&h + &f).view(), Mode::Train).unwrap().to_owned();
    assert_eq!(y, y2);
    // dL/dh = head'(g) (1 + fc'(.. tanh')) accumulated from both consumers.
    let g = Array2::from_shape_fn((5, 3), |(i, j)| (i + 2 * j) as f64 * 0.1 - 0.3).into_dyn();
    model.backward(g.view()).unwrap();
    let dh2 = head.backward_input(g.view()).unwrap().to_owned();
    let df = &dh2 * &f.mapv(|t| 1.0 - t * t);
    let dh = &dh2 + &fc.backward_input(df.view()).unwrap();
    stem.backward(dh.view()).unwrap();
    let grads = model.gradients();
    let names: Vec<&str> = grads.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["stem.weight", "stem.bias", "fc.weight", "fc.bias", "head.weight", "head.bias"]);
    approx::assert_abs_diff_eq!(grads[0].1, stem.weight_grad().into_dyn(), epsilon = 1e-14);
    approx::assert_abs_diff_eq!(grads[2].1, fc.weight_grad().into_dyn(), epsilon = 1e-14);

    let opts = GradcheckOptions::default();
    let report = gradcheck(&mut model, &x, &opts).unwrap();
    assert!(report.passed(1e-6), "{report}");
    let report = gradcheck_input(&mut model, x.view(), &opts).unwrap();
    assert!(report.passed(1e-6), "{report}");
}

#[test]
fn ids_positions_broadcast_add_and_two_inputs() {
    let mut rng = ndtrain::seeded_rng(2);
    // Token lookup + position lookup (broadcast over the batch) -> Linear; plus a float input.
    let mut g = Graph::<f64, (Indices, Floats)>::builder();
    let ids = g.input_ids();
    let feats = g.input();
    let tok = g.embed("tok", Lookup::new(9, 4, 0), ids).unwrap();
    let pos_ids = g.positions(ids).unwrap();
    let pos = g.embed("pos", Lookup::new(3, 4, 5), pos_ids).unwrap();
    let h = g.add(tok, pos).unwrap();
    let f = g.layer("proj", Linear::new(2, 4, &mut rng).unwrap(), feats).unwrap();
    let hf = g.concat(&[h, f], -1).unwrap();
    let out = g.layer("head", Linear::new(8, 2, &mut rng).unwrap(), hf).unwrap();
    let mut model = g.build(out).unwrap();
    let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["tok.weight", "pos.weight", "proj.weight", "proj.bias", "head.weight", "head.bias"]);

    let ids = array![[1usize, 4, 4], [8, 0, 2]];
    let feats = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| (i + j) as f64 * 0.5 - k as f64);
    let y = model.forward((ids.view().into_dyn(), feats.view().into_dyn()), Mode::Train).unwrap().to_owned();
    assert_eq!(y.shape(), &[2, 3, 2]);
    // The position rows are shared by both sequences: their gradient sums over the batch.
    model.backward(ArrayD::ones(IxDyn(&[2, 3, 2])).view()).unwrap();
    let report = gradcheck(&mut model, (&ids, &feats), &GradcheckOptions::default()).unwrap();
    assert!(report.passed(1e-6), "{report}");
    // Position row 0 is used by ids[.., 0] of both sequences; rows beyond T = 3 unused.
    let pos_grad = &model.gradients()[1].1;
    assert!(pos_grad.row_sum_nonzero(0));
}

trait RowSum {
    fn row_sum_nonzero(&self, r: usize) -> bool;
}

impl RowSum for ArrayD<f64> {
    fn row_sum_nonzero(&self, r: usize) -> bool {
        self.index_axis(ndarray::Axis(0), r).iter().any(|&v| v != 0.0)
    }
}

#[test]
fn build_errors_and_bad_input() {
    let mut rng = ndtrain::seeded_rng(3);
    // A dead branch.
    let mut g = Graph::<f64, Floats>::builder();
    let x = g.input();
    let _dead = g.layer("dead", Linear::new(2, 2, &mut rng).unwrap(), x).unwrap();
    let out = g.layer("out", Linear::new(2, 1, &mut rng).unwrap(), x).unwrap();
    let err = g.build(out).unwrap_err();
    assert!(err.to_string().contains("does not reach the output"), "{err}");
    // Input kinds that do not match the declared inputs.
    let mut g = Graph::<f64, Indices>::builder();
    let x = g.input();
    let out = g.layer("out", Linear::new(2, 1, &mut rng).unwrap(), x).unwrap();
    let err = g.build(out).unwrap_err();
    assert!(err.to_string().contains("Floats"), "{err}");
    // Repeated names and dotted names.
    let mut g = Graph::<f64, Floats>::builder();
    let x = g.input();
    let h = g.layer("a", Relu::new(), x).unwrap();
    assert!(g.layer("a", Relu::new(), h).is_err());
    assert!(g.layer("a.b", Relu::new(), h).is_err());
    // A node from another builder.
    let mut other = Graph::<f64, Floats>::builder();
    let _ = other.input();
    let far = other.layer("x", Relu::new(), x).unwrap();
    let far2 = other.layer("y", Relu::new(), far).unwrap();
    assert!(g.add(h, far2).is_err());

    // Shape errors at forward: an add of incompatible shapes, then backward refused.
    let mut g = Graph::<f64, (Floats, Floats)>::builder();
    let (a, b) = (g.input(), g.input());
    let s = g.add(a, b).unwrap();
    let out = g.layer("out", Linear::new(3, 1, &mut rng).unwrap(), s).unwrap();
    let mut model = g.build(out).unwrap();
    let (x1, x2) = (Array2::<f64>::ones((4, 3)), Array2::<f64>::ones((4, 2)));
    let err = model.forward((x1.view().into_dyn(), x2.view().into_dyn()), Mode::Train).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "Graph::add", .. }), "{err}");
    assert!(matches!(
        model.backward(Array2::<f64>::ones((4, 1)).into_dyn().view()),
        Err(Error::InvalidInput { .. })
    ));
    let x2 = Array2::<f64>::ones((4, 3));
    model.forward((x1.view().into_dyn(), x2.view().into_dyn()), Mode::Train).unwrap();
    let err = model.backward(Array2::<f64>::ones((4, 2)).into_dyn().view()).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "Graph::backward", .. }), "{err}");
}

#[test]
fn trains_with_the_trainer_on_ids_and_on_two_inputs() {
    // A bag-of-ids regression: y = sum of per-id values; ids travel as usize.
    let mut g = Graph::<f64, Indices>::builder();
    let ids = g.input_ids();
    let e = g.embed("emb", Lookup::new(5, 1, 3), ids).unwrap();
    let flat = g.layer("flat", Flatten::new(), e).unwrap();
    let out = g
        .layer(
            "sum",
            Linear::builder(3, 1)
                .init(Init::Constant(1.0))
                .bias(false)
                .build(&mut ndtrain::seeded_rng(0))
                .unwrap(),
            flat,
        )
        .unwrap();
    let mut model = g.build(out).unwrap();
    let ids = Array2::from_shape_fn((40, 3), |(i, j)| (i * 3 + j * 2) % 5);
    let truth = [0.5, -1.0, 2.0, 0.0, 1.5];
    let y = Array2::from_shape_fn((40, 1), |(i, _)| ids.row(i).iter().map(|&k| truth[k]).sum::<f64>());
    let mut trainer = Trainer::builder(Adam::builder().lr(0.05).build().unwrap(), MseLoss::default())
        .epochs(150)
        .batch_size(8)
        .validation_data(&ids, y.view())
        .build()
        .unwrap();
    let history = trainer.fit(&mut model, &ids, y.view()).unwrap();
    let last = history.last().unwrap();
    assert!(last.val_loss.unwrap() < 1e-3, "val loss {:?}", last.val_loss);
    let pred = trainer.predict(&mut model, &ids).unwrap();
    assert!((pred[[0, 0]] - y[[0, 0]]).abs() < 0.05);
}

#[test]
fn steady_state_allocates_nothing() {
    let mut rng = ndtrain::seeded_rng(4);
    let mut g = Graph::<f32, (Floats, Floats)>::builder();
    let (a, b) = (g.input(), g.input());
    let ha = g.layer("a", Linear::new(6, 8, &mut rng).unwrap(), a).unwrap();
    let hb = g.layer("b", Linear::new(8, 8, &mut rng).unwrap(), b).unwrap();
    let s = g.add(ha, hb).unwrap();
    let act = g.layer("act", Relu::new(), s).unwrap();
    let r = g.add(act, ha).unwrap();
    let c = g.concat(&[r, hb], 1).unwrap();
    let out = g.layer("out", Linear::new(16, 2, &mut rng).unwrap(), c).unwrap();
    let mut model = g.build(out).unwrap();
    let xa = Array2::<f32>::from_elem((16, 6), 0.5).into_dyn();
    let xb = Array2::<f32>::from_elem((16, 8), -0.25).into_dyn();
    let grad = Array2::<f32>::ones((16, 2)).into_dyn();
    let step = |m: &mut Graph<f32, (Floats, Floats)>| {
        m.forward((xa.view(), xb.view()), Mode::Train).unwrap();
        m.backward(grad.view()).unwrap();
    };
    step(&mut model);
    let (counts, ()) = alloc::count(|| step(&mut model));
    assert_eq!(counts.ordinary, 0, "{counts:?}");
    assert_eq!(counts.live_bytes, 0);
}
