//! [`Embedding`]: a lookup table from integer ids to learned vectors.

use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMut2, Dimension};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::init::Init;
use crate::model::layers::{Pass, slice_mut};
use crate::model::{Indices, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// A lookup table of `num_embeddings` vectors of size `embedding_dim` (PyTorch
/// `nn.Embedding`): id `i` maps to row `i` of the weight.
///
/// It takes integer ids, not floats: it is a [`Model<F, Indices>`](Model), whose
/// forward receives an `ArrayViewD<usize>` of any shape `[*]` and returns
/// `[*, embedding_dim]`, `y[p] = W[ids[p]]`. The [`Trainer`](crate::train::Trainer)
/// batches such ids as integers; compose it with float layers in a model of your own
/// (its output is the float input of the next layer).
///
/// Backward, from `G = dL/dy`: a scatter-add, `dL/dW[i] = Σ_{p: ids[p] = i} G[p]`
/// (repeated ids accumulate; rows of ids absent from the batch get 0), scaled by
/// `1/count(i)` in the batch when `scale_grad_by_freq`. The `padding_idx` row always
/// gets a zero gradient, so it stays where it is (zero by default). There is no
/// gradient with respect to the ids.
///
/// Parameter `"weight"` (id 0), `[num_embeddings, embedding_dim]`, as PyTorch names it.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `num_embeddings`, `embedding_dim` | required | `>= 1` |
/// | `padding_idx` | `None` | `[−num_embeddings, num_embeddings)`; negative counts from the end |
/// | `scale_grad_by_freq` | `false` | |
/// | `init` | `N(0, 1)` ([`Init::Normal`]), then the padding row zeroed | any [`Init`] |
///
/// Not supported: `max_norm`/`norm_type` (renormalising looked-up rows in place
/// during the forward pass) and `sparse` gradients.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for a size of 0, a `padding_idx` out of
///   range, an invalid [`Init`];
/// * `forward`: [`Error::InvalidInput`] for an id `>= num_embeddings`, naming the id and
///   its position (checked before anything is written);
/// * `backward`: [`Error::InvalidInput`] without a preceding recording forward
///   ([`Mode::Train`] or [`Mode::EvalGrad`]), [`Error::ShapeMismatch`] unless
///   `grad_out` is `[*, embedding_dim]` of that forward.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::model::Embedding;
/// use ndtrain::prelude::*;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut emb = Embedding::<f32>::builder(10, 3).padding_idx(0).build(&mut rng)?;
/// assert_eq!(emb.weight().row(0).to_vec(), vec![0.0; 3]);
///
/// let ids = array![[1usize, 2, 0], [1, 1, 9]];
/// let y = emb.forward(ids.view().into_dyn(), Mode::Train)?;
/// assert_eq!(y.shape(), &[2, 3, 3]);
/// emb.backward(ndarray::Array3::<f32>::ones((2, 3, 3)).into_dyn().view())?;
/// assert_eq!(emb.weight_grad().row(1).to_vec(), vec![3.0; 3]); // id 1 appears 3 times
/// assert_eq!(emb.weight_grad().row(0).to_vec(), vec![0.0; 3]); // padding
///
/// let err = emb.forward(array![[3usize, 10]].view().into_dyn(), Mode::Eval).unwrap_err();
/// assert!(err.to_string().contains("id 10 at position [0, 1]"), "{err}");
///
/// // Pretrained vectors (PyTorch's Embedding.from_pretrained).
/// let glove = Embedding::from_pretrained(array![[0.5f32, -1.0], [2.0, 0.0]], None)?;
/// assert_eq!(glove.num_embeddings(), 2);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Embedding")]
#[doc(alias = "lookup table")]
#[derive(Clone, Debug)]
pub struct Embedding<F> {
    weight: Array2<F>,
    weight_grad: Array2<F>,
    padding_idx: Option<usize>,
    scale_grad_by_freq: bool,
    /// The ids of the last recording forward, flattened.
    ids: Buffer<usize>,
    /// Occurrences of each id in the last backward's batch (`scale_grad_by_freq`).
    counts: Vec<u32>,
    /// Shape of the last output, `[*, embedding_dim]`.
    out_shape: Vec<usize>,
    out: Buffer<F>,
    grad_rows: Buffer<F>,
    pass: Pass,
}

/// Builder of [`Embedding`]: `Embedding::<f32>::builder(1000, 64).padding_idx(0).build(&mut rng)?`.
#[derive(Clone, Copy, Debug)]
pub struct EmbeddingBuilder<F> {
    _float: std::marker::PhantomData<fn() -> F>,
    num_embeddings: usize,
    embedding_dim: usize,
    padding_idx: Option<i64>,
    scale_grad_by_freq: bool,
    init: Init,
}

/// `padding_idx` as a row index (negative counts from the end, as in PyTorch).
fn resolve_padding(padding_idx: Option<i64>, num_embeddings: usize) -> Result<Option<usize>> {
    let Some(p) = padding_idx else { return Ok(None) };
    let n = num_embeddings as i64;
    if p >= n || p < -n {
        return Err(Error::InvalidParameter {
            name: "padding_idx",
            value: p as f64,
            expected: "in [-num_embeddings, num_embeddings)",
        });
    }
    Ok(Some(if p < 0 { (p + n) as usize } else { p as usize }))
}

impl<F: Float> EmbeddingBuilder<F> {
    /// The row whose vector is not trained (its gradient is always 0) and is
    /// initialised to zeros; negative values count from the end (default `None`).
    pub fn padding_idx(mut self, padding_idx: i64) -> Self {
        self.padding_idx = Some(padding_idx);
        self
    }

    /// Whether each row's gradient is divided by the number of times its id occurs in
    /// the batch (default `false`).
    pub fn scale_grad_by_freq(mut self, scale: bool) -> Self {
        self.scale_grad_by_freq = scale;
        self
    }

    /// The initialisation of the weight (default `N(0, 1)`, PyTorch's); the padding row
    /// is zeroed afterwards.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Validates, then draws the weight (row-major) from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size of 0, a `padding_idx` out of range or an
    /// invalid [`Init`].
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Embedding<F>> {
        check_size("num_embeddings", self.num_embeddings)?;
        check_size("embedding_dim", self.embedding_dim)?;
        let padding = resolve_padding(self.padding_idx, self.num_embeddings)?;
        self.init.validate()?;
        let mut weight = Array2::zeros((self.num_embeddings, self.embedding_dim));
        // Fans as PyTorch computes them for a 2-D weight [num_embeddings, dim].
        self.init.fill_with_fans(
            weight.view_mut().into_dyn(),
            self.embedding_dim,
            self.num_embeddings,
            rng,
        )?;
        if let Some(p) = padding {
            weight.row_mut(p).fill(F::zero());
        }
        let mut emb = Embedding::from_pretrained(weight, None)?;
        emb.padding_idx = padding;
        emb.scale_grad_by_freq = self.scale_grad_by_freq;
        Ok(emb)
    }
}

fn check_size(name: &'static str, n: usize) -> Result<()> {
    if n == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
}

impl<F: Float> Embedding<F> {
    /// A table initialised from `N(0, 1)` (PyTorch's default), no padding row.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a size is 0.
    pub fn new<R: Rng + ?Sized>(num_embeddings: usize, embedding_dim: usize, rng: &mut R) -> Result<Self> {
        Self::builder(num_embeddings, embedding_dim).build(rng)
    }

    /// A builder with PyTorch's defaults.
    pub fn builder(num_embeddings: usize, embedding_dim: usize) -> EmbeddingBuilder<F> {
        EmbeddingBuilder {
            _float: std::marker::PhantomData,
            num_embeddings,
            embedding_dim,
            padding_idx: None,
            scale_grad_by_freq: false,
            init: Init::Normal { mean: 0.0, std: 1.0 },
        }
    }

    /// A table with the given weight `[num_embeddings, embedding_dim]` (PyTorch's
    /// `Embedding.from_pretrained`; the weight is used as given, also its padding row).
    /// ndtrain has no `freeze`: to keep the vectors fixed, leave the parameter out of
    /// the optimizer (e.g. a learning rate of 0 for it in
    /// [`ParamGroups`](crate::optim::ParamGroups)).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with a zero dimension or a
    /// `padding_idx` out of range.
    #[doc(alias = "from_weights")]
    pub fn from_pretrained(weight: Array2<F>, padding_idx: Option<i64>) -> Result<Self> {
        let (n, d) = weight.dim();
        check_size("num_embeddings", n)?;
        check_size("embedding_dim", d)?;
        let padding_idx = resolve_padding(padding_idx, n)?;
        let weight =
            if weight.is_standard_layout() { weight } else { weight.as_standard_layout().into_owned() };
        Ok(Embedding {
            weight_grad: Array2::zeros((n, d)),
            weight,
            padding_idx,
            scale_grad_by_freq: false,
            ids: Buffer::new(),
            counts: Vec::new(),
            out_shape: Vec::new(),
            out: Buffer::new(),
            grad_rows: Buffer::new(),
            pass: Pass::None,
        })
    }

    /// Number of rows (ids `0..num_embeddings`).
    pub fn num_embeddings(&self) -> usize {
        self.weight.nrows()
    }

    /// Size of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.ncols()
    }

    /// The padding row, if any (non-negative).
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }

    /// Whether gradients are scaled by the inverse id frequency in the batch.
    pub fn scale_grad_by_freq(&self) -> bool {
        self.scale_grad_by_freq
    }

    /// The table, `[num_embeddings, embedding_dim]`.
    pub fn weight(&self) -> ArrayView2<'_, F> {
        self.weight.view()
    }

    /// The table, mutable.
    pub fn weight_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.weight.view_mut()
    }

    /// The weight gradient of the last backward.
    pub fn weight_grad(&self) -> ArrayView2<'_, F> {
        self.weight_grad.view()
    }
}

impl<F: Float> Module<F> for Embedding<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        f(Param::new(0, "weight"), self.weight.view_mut().into_dyn(), self.weight_grad.view_mut().into_dyn())
    }
}

impl<F: Float> Model<F, Indices> for Embedding<F> {
    fn forward(&mut self, ids: ArrayViewD<'_, usize>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let n = self.num_embeddings();
        let in_range = match ids.as_slice_memory_order() {
            Some(s) => s.iter().all(|&i| i < n),
            None => ids.iter().all(|&i| i < n),
        };
        if !in_range {
            // Only on the error path: find the first offending id in logical order.
            let (pos, id) =
                ids.indexed_iter().find(|&(_, &i)| i >= n).map(|(p, &i)| (p, i)).unwrap_or_default();
            return Err(Error::invalid_input(
                "Embedding::forward",
                format!(
                    "id {id} at position {:?} is out of range, expected ids below num_embeddings = {n}",
                    pos.slice()
                ),
            ));
        }
        let d = self.embedding_dim();
        self.out_shape.clear();
        self.out_shape.extend_from_slice(ids.shape());
        self.out_shape.push(d);
        let out = slice_mut(self.out.reshape(&self.out_shape));
        let table = self.weight.as_slice().expect("standard layout");
        for (row, &id) in out.chunks_exact_mut(d).zip(ids.iter()) {
            row.copy_from_slice(&table[id * d..(id + 1) * d]);
        }
        if mode.records() {
            let saved = slice_mut(self.ids.reshape(&[ids.len()]));
            saved.iter_mut().zip(ids.iter()).for_each(|(s, &i)| *s = i);
        }
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    /// `dL/dW` by scatter-add of the rows of `grad_out` (overwrites the gradient).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        let op = "Embedding::backward";
        self.pass.require_train(op)?;
        if grad_out.shape() != self.out.shape() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out.shape().to_vec(),
                got: grad_out.shape().to_vec(),
            });
        }
        let d = self.embedding_dim();
        let gs: &[F] = match grad_out.as_slice() {
            Some(s) => s,
            None => {
                let rows = slice_mut(self.grad_rows.reshape(grad_out.shape()));
                rows.iter_mut().zip(grad_out.iter()).for_each(|(r, &v)| *r = v);
                self.grad_rows.view().to_slice().expect("buffer views are contiguous")
            }
        };
        let ids = self.ids.view().to_slice().expect("buffer views are contiguous");
        self.weight_grad.fill(F::zero());
        let dw = self.weight_grad.as_slice_mut().expect("standard layout");
        if self.scale_grad_by_freq {
            self.counts.clear();
            self.counts.resize(self.weight.nrows(), 0);
            ids.iter().for_each(|&i| self.counts[i] += 1);
        }
        for (g, &id) in gs.chunks_exact(d).zip(ids) {
            if Some(id) == self.padding_idx {
                continue;
            }
            let row = &mut dw[id * d..(id + 1) * d];
            if self.scale_grad_by_freq {
                let scale = F::one() / F::lit(f64::from(self.counts[id]));
                row.iter_mut().zip(g).for_each(|(r, &g)| *r += g * scale);
            } else {
                row.iter_mut().zip(g).for_each(|(r, &g)| *r += g);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::seeded_rng;
    use ndarray::{Array, ArrayD, IxDyn, array};

    fn table() -> Array2<f64> {
        array![[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    }

    #[test]
    fn lookup_and_scatter_add() {
        let mut emb = Embedding::from_pretrained(table(), None).unwrap();
        let ids = array![[2usize, 1, 2], [3, 2, 0]];
        let y = emb.forward(ids.view().into_dyn(), Mode::Train).unwrap().to_owned();
        assert_eq!(y.shape(), &[2, 3, 2]);
        assert_eq!(y.index_axis(ndarray::Axis(0), 0), array![[3.0, 4.0], [1.0, 2.0], [3.0, 4.0]].into_dyn());
        // dL/dW[i] = Σ over the positions holding i.
        let g = Array::from_shape_fn((2, 3, 2), |(a, b, c)| (a * 6 + b * 2 + c) as f64).into_dyn();
        emb.backward(g.view()).unwrap();
        // id 2 at (0,0), (0,2), (1,1): rows [0,1] + [4,5] + [8,9]; id 1 at (0,1); id 3 at (1,0); id 0 at (1,2).
        assert_eq!(emb.weight_grad(), array![[10.0, 11.0], [2.0, 3.0], [12.0, 15.0], [6.0, 7.0]]);
        // Overwritten, not accumulated.
        emb.backward(g.view()).unwrap();
        assert_eq!(emb.weight_grad()[[2, 0]], 12.0);
        let names: Vec<String> = emb.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight"]);
    }

    #[test]
    fn padding_row_and_frequency_scaling() {
        // padding_idx -1 is the last row (3); its gradient is 0, even when it occurs.
        let mut emb = Embedding::from_pretrained(table(), Some(-1)).unwrap();
        assert_eq!(emb.padding_idx(), Some(3));
        let ids = array![3usize, 1, 3, 1, 1];
        emb.forward(ids.view().into_dyn(), Mode::Train).unwrap();
        emb.backward(Array::ones((5, 2)).into_dyn().view()).unwrap();
        assert_eq!(emb.weight_grad(), array![[0.0, 0.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0]]);
        // scale_grad_by_freq: each row's sum divided by its id's count in the batch.
        let mut emb =
            Embedding::<f64>::builder(4, 2).scale_grad_by_freq(true).build(&mut seeded_rng(0)).unwrap();
        assert!(emb.scale_grad_by_freq());
        emb.forward(ids.view().into_dyn(), Mode::Train).unwrap();
        let g = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0]].into_dyn();
        emb.backward(g.view()).unwrap();
        // id 1: (3 + 7 + 9)/3, (4 + 8 + 10)/3; id 3: (1 + 5)/2, (2 + 6)/2.
        assert_eq!(emb.weight_grad().row(1).to_vec(), vec![19.0 / 3.0, 22.0 / 3.0]);
        assert_eq!(emb.weight_grad().row(3).to_vec(), vec![3.0, 4.0]);
        assert_eq!(emb.weight_grad().row(0).to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn init_is_standard_normal_with_a_zero_padding_row() {
        let emb = Embedding::<f64>::builder(500, 40).padding_idx(7).build(&mut seeded_rng(3)).unwrap();
        assert!(emb.weight().row(7).iter().all(|&v| v == 0.0));
        let w = emb.weight();
        let n = (w.len() - 40) as f64;
        let mean = w.sum() / n;
        let var = w.iter().map(|v| v * v).sum::<f64>() / n - mean * mean;
        // 19960 draws: standard errors 0.007 (mean) and 0.01 (variance).
        assert!(mean.abs() < 0.04 && (var - 1.0).abs() < 0.05, "{mean} {var}");
        let again = Embedding::<f64>::builder(500, 40).padding_idx(7).build(&mut seeded_rng(3)).unwrap();
        assert_eq!(emb.weight(), again.weight());
        let zeros = Embedding::<f32>::builder(3, 2).init(Init::Zeros).build(&mut seeded_rng(0)).unwrap();
        assert!(zeros.weight().iter().all(|&v| v == 0.0));
        assert_eq!((zeros.num_embeddings(), zeros.embedding_dim()), (3, 2));
    }

    #[test]
    fn errors_name_the_bad_id_and_leave_the_layer_unchanged() {
        let mut emb = Embedding::from_pretrained(table(), None).unwrap();
        let good = array![[1usize, 2], [3, 0]];
        let y_good = emb.forward(good.view().into_dyn(), Mode::Train).unwrap().to_owned();
        let bad = array![[1usize, 2], [4, 9]];
        let err = emb.forward(bad.view().into_dyn(), Mode::Train).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Embedding::forward", .. }));
        assert!(err.to_string().contains("id 4 at position [1, 0]"), "{err}");
        assert!(err.to_string().contains("num_embeddings = 4"), "{err}");
        // The failed call wrote nothing: the last good forward's output and ids remain.
        assert_eq!(emb.out.view(), y_good);
        emb.backward(Array::ones((2, 2, 2)).into_dyn().view()).unwrap();
        assert_eq!(emb.weight_grad().row(2).to_vec(), vec![1.0, 1.0]);
        // In a non-contiguous view the position is still the logical one.
        let bad_t = array![[0usize, 5], [1, 2]];
        let err = emb.forward(bad_t.t().into_dyn(), Mode::Eval).unwrap_err();
        assert!(err.to_string().contains("id 5 at position [1, 0]"), "{err}");
        // Backward checks.
        let err = emb.backward(Array::ones((2, 2)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Embedding::backward", expected: vec![2, 2, 2], got: vec![2, 2] }
        );
        emb.forward(good.view().into_dyn(), Mode::Eval).unwrap();
        let err = emb.backward(Array::ones((2, 2, 2)).into_dyn().view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }) && err.to_string().contains("Mode::Eval"), "{err}");
        let mut fresh = Embedding::from_pretrained(table(), None).unwrap();
        assert!(matches!(
            fresh.backward(Array::ones((1, 2)).into_dyn().view()),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn invalid_hyper_parameters() {
        let mut rng = seeded_rng(0);
        let cases = [
            (Embedding::<f64>::new(0, 3, &mut rng).map(|_| ()), "num_embeddings"),
            (Embedding::<f64>::new(3, 0, &mut rng).map(|_| ()), "embedding_dim"),
            (Embedding::<f64>::builder(3, 2).padding_idx(3).build(&mut rng).map(|_| ()), "padding_idx"),
            (Embedding::<f64>::builder(3, 2).padding_idx(-4).build(&mut rng).map(|_| ()), "padding_idx"),
            (
                Embedding::<f64>::builder(3, 2)
                    .init(Init::Normal { mean: 0.0, std: -1.0 })
                    .build(&mut rng)
                    .map(|_| ()),
                "std",
            ),
            (Embedding::from_pretrained(Array2::<f64>::zeros((0, 2)), None).map(|_| ()), "num_embeddings"),
            (Embedding::from_pretrained(table(), Some(4)).map(|_| ()), "padding_idx"),
        ];
        for (r, name) in cases {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(
            Embedding::<f32>::builder(3, 2).padding_idx(-3).build(&mut rng).unwrap().padding_idx(),
            Some(0)
        );
    }

    #[test]
    fn shapes_layouts_modes_and_buffer_reuse() {
        let mut emb = Embedding::from_pretrained(table().mapv(|v| v as f32), None).unwrap();
        // 0-d ids give one vector; 3-d ids a 4-d output.
        let y = emb.forward(ndarray::arr0(2usize).into_dyn().view(), Mode::EvalGrad).unwrap().to_owned();
        assert_eq!(y, array![3.0f32, 4.0].into_dyn());
        emb.backward(array![1.0f32, -1.0].into_dyn().view()).unwrap();
        assert_eq!(emb.weight_grad().row(2).to_vec(), vec![1.0, -1.0]);
        let ids = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| (i[0] + i[1] + i[2]) % 4);
        assert_eq!(emb.forward(ids.view(), Mode::Eval).unwrap().shape(), &[2, 3, 4, 2]);
        // Transposed ids and gradients equal their standard-layout copies.
        let ids = array![[0usize, 1, 2], [3, 2, 1]];
        let g = Array::from_shape_fn((3, 2, 2), |(a, b, c)| (a * 4 + b * 2 + c) as f32);
        let y1 = emb.forward(ids.t().into_dyn(), Mode::Train).unwrap().to_owned();
        emb.backward(g.view().into_dyn()).unwrap();
        let d1 = emb.weight_grad().to_owned();
        let y2 = emb.forward(ids.t().as_standard_layout().into_dyn().view(), Mode::Train).unwrap().to_owned();
        let gt = g.view().permuted_axes([2, 1, 0]).as_standard_layout().into_owned();
        emb.backward(gt.view().permuted_axes([2, 1, 0]).into_dyn()).unwrap();
        assert_eq!((y1, d1), (y2, emb.weight_grad().to_owned()));
        // Buffers keep their allocation for smaller batches.
        let run = |e: &mut Embedding<f32>, n: usize| {
            let ids = ArrayD::from_shape_fn(IxDyn(&[n, 5]), |i| (i[0] * 5 + i[1]) % 4);
            let p = e.forward(ids.view(), Mode::Train).unwrap().as_ptr();
            e.backward(ArrayD::<f32>::ones(IxDyn(&[n, 5, 2])).view()).unwrap();
            p
        };
        let first = run(&mut emb, 16);
        assert_eq!(run(&mut emb, 3), first);
        assert_eq!(run(&mut emb, 16), first);
        assert_eq!((emb.ids.capacity(), emb.out.capacity()), (80, 160));
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Embedding<f32>>();
        send_sync::<EmbeddingBuilder<f64>>();
    }
}
