//! [`Sequential`]: layers applied one after the other.

use std::fmt;

use ndarray::ArrayViewD;
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::layers::{Activation, Pass, copy_into};
use crate::model::{BufferVisitor, Layer, Linear, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float, Param};

/// An ordered stack of layers, each one's output the next one's input (PyTorch
/// `nn.Sequential`).
///
/// A `Sequential` is itself a [`Layer`], so stacks nest. Parameters are named as
/// PyTorch names them, `"<index>.<name>"` (`"0.weight"`, `"0.bias"`, `"2.weight"`, and
/// `"1.0.weight"` inside a nested stack), with ids renumbered `0..n` across the layers
/// in order. Names are built once, when a layer is added.
///
/// The backward pass runs [`Layer::backward_input`] from the last layer down to the
/// first layer that has parameters, and only [`Model::backward`] on that one; the
/// parameter-free layers in front of it (e.g. a [`Flatten`](crate::model::Flatten)) are
/// skipped. No gradient with respect to the network's input is computed (for a first
/// [`Linear`] layer that saves a matrix product). As a nested [`Layer`],
/// `backward_input` runs every layer's `backward_input`.
///
/// An empty `Sequential` is the identity (like PyTorch's).
///
/// # Errors
/// `forward` returns the first layer error (e.g. [`Error::ShapeMismatch`] from a
/// [`Linear`]); after such an error `backward` is refused until the next successful
/// training-mode forward. `backward`: [`Error::InvalidInput`] without a preceding
/// [`Mode::Train`] forward, [`Error::ShapeMismatch`] when `grad_out` does not have the
/// output's shape. [`Sequential::mlp`]: [`Error::InvalidParameter`] for fewer than two
/// sizes or a size of 0.
///
/// # Example
///
/// ```
/// use ndarray::Array2;
/// use ndtrain::prelude::*;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// // Linear(64, 128) -> ReLU -> Linear(128, 10), PyTorch default init.
/// let mut mlp = Sequential::<f32>::mlp(&[64, 128, 10], Activation::Relu, &mut rng)?;
/// let names: Vec<String> = mlp.parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(mlp.num_parameters(), 64 * 128 + 128 + 128 * 10 + 10);
///
/// let x = Array2::<f32>::zeros((16, 64)).into_dyn();
/// assert_eq!(mlp.forward(x.view(), Mode::Train)?.shape(), &[16, 10]);
/// mlp.backward(Array2::<f32>::ones((16, 10)).into_dyn().view())?;
///
/// // The same network, built layer by layer.
/// let net = Sequential::<f32>::new()
///     .layer(Linear::new(64, 128, &mut rng)?)
///     .layer(Relu::new())
///     .layer(Dropout::new(0.2)?)
///     .layer(Linear::new(128, 10, &mut rng)?);
/// assert_eq!(net.len(), 4);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Sequential")]
pub struct Sequential<F> {
    layers: Vec<Box<dyn Layer<F> + Send>>,
    /// Full parameter names per layer, indexed by the layer's own parameter id.
    names: Vec<Vec<String>>,
    /// Full buffer names per layer, in the layer's visit order.
    buffer_names: Vec<Vec<String>>,
    /// Id of each layer's first parameter.
    offsets: Vec<usize>,
    n_params: usize,
    out_shape: Vec<usize>,
    pass: Pass,
    /// Output and input-gradient buffers of an empty stack (the identity).
    identity_out: Buffer<F>,
    identity_grad: Buffer<F>,
}

impl<F: Float> Default for Sequential<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F> fmt::Debug for Sequential<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequential")
            .field("layers", &self.layers.len())
            .field("parameters", &self.names.iter().flatten().collect::<Vec<_>>())
            .finish()
    }
}

impl<F: Float> Sequential<F> {
    /// An empty stack.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            names: Vec::new(),
            buffer_names: Vec::new(),
            offsets: Vec::new(),
            n_params: 0,
            out_shape: Vec::new(),
            pass: Pass::None,
            identity_out: Buffer::new(),
            identity_grad: Buffer::new(),
        }
    }

    /// Appends a layer (PyTorch `append`).
    #[doc(alias = "append")]
    pub fn push<L: Layer<F> + Send + 'static>(&mut self, layer: L) -> &mut Self {
        self.push_boxed(Box::new(layer))
    }

    /// Appends a boxed layer.
    pub fn push_boxed(&mut self, mut layer: Box<dyn Layer<F> + Send>) -> &mut Self {
        let index = self.layers.len();
        let mut names = Vec::new();
        let _ = layer.visit_params(&mut |p, _, _| {
            names.push(format!("{index}.{}", p.name));
            Ok(())
        });
        let mut buffer_names = Vec::new();
        let _ = layer.visit_buffers(&mut |name, _| {
            buffer_names.push(format!("{index}.{name}"));
            Ok(())
        });
        self.offsets.push(self.n_params);
        self.n_params += names.len();
        self.names.push(names);
        self.buffer_names.push(buffer_names);
        self.layers.push(layer);
        self.pass = Pass::None;
        self
    }

    /// Appends a layer, by value: `Sequential::new().layer(a).layer(b)`.
    pub fn layer<L: Layer<F> + Send + 'static>(mut self, layer: L) -> Self {
        self.push(layer);
        self
    }

    /// A multi-layer perceptron: `Linear(sizes[0], sizes[1])`, `activation`,
    /// `Linear(sizes[1], sizes[2])`, …, with no activation after the last layer, every
    /// `Linear` with a bias and PyTorch's default initialisation, drawn in order from
    /// `rng`. The `Linear` layers sit at the even indices (`"0.weight"`, `"2.weight"`, …).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`]: `"sizes"` when fewer than 2 sizes are given,
    /// `"in_features"`/`"out_features"` for a size of 0, `"negative_slope"` for a
    /// non-finite leaky slope.
    pub fn mlp<R: Rng + ?Sized>(sizes: &[usize], activation: Activation, rng: &mut R) -> Result<Self> {
        if sizes.len() < 2 {
            return Err(Error::InvalidParameter {
                name: "sizes",
                value: sizes.len() as f64,
                expected: "at least 2 layer sizes (input and output)",
            });
        }
        // Validate everything before drawing.
        activation.layer::<F>()?;
        let mut net = Sequential::new();
        for (k, pair) in sizes.windows(2).enumerate() {
            if k > 0 {
                net.push_boxed(activation.layer()?);
            }
            net.push(Linear::new(pair[0], pair[1], rng)?);
        }
        Ok(net)
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Layer `index`.
    pub fn get(&self, index: usize) -> Option<&(dyn Layer<F> + Send)> {
        self.layers.get(index).map(|l| &**l)
    }

    /// Layer `index`, mutable.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut (dyn Layer<F> + Send)> {
        self.pass = Pass::None;
        match self.layers.get_mut(index) {
            Some(l) => Some(&mut **l),
            None => None,
        }
    }

    /// The parameter names in visit order (`"0.weight"`, ...).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().flatten().map(String::as_str)
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != self.out_shape.as_slice() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out_shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        Ok(())
    }
}

impl<F: Float> Module<F> for Sequential<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        for ((layer, names), &offset) in self.layers.iter_mut().zip(&self.names).zip(&self.offsets) {
            layer.visit_params(&mut |p, v, g| {
                let Some(name) = names.get(p.id) else {
                    return Err(Error::invalid_input(
                        "Sequential::visit_params",
                        format!(
                            "a layer visited parameter id {} but had {} parameters when added",
                            p.id,
                            names.len()
                        ),
                    ));
                };
                f(Param::new(offset + p.id, name), v, g)
            })?;
        }
        Ok(())
    }

    fn visit_buffers(&mut self, f: &mut BufferVisitor<'_, F>) -> Result<()> {
        for (layer, names) in self.layers.iter_mut().zip(&self.buffer_names) {
            let mut k = 0;
            layer.visit_buffers(&mut |_, b| {
                let Some(name) = names.get(k) else {
                    return Err(Error::invalid_input(
                        "Sequential::visit_buffers",
                        format!("a layer visited {} buffers but had {} when added", k + 1, names.len()),
                    ));
                };
                k += 1;
                f(name, b)
            })?;
        }
        Ok(())
    }
}

impl<F: Float> Model<F> for Sequential<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        self.pass = Pass::None;
        let Some((first, rest)) = self.layers.split_first_mut() else {
            copy_into(&x, &mut self.identity_out);
            self.out_shape.clear();
            self.out_shape.extend_from_slice(x.shape());
            self.pass = Pass::of(mode);
            return Ok(self.identity_out.view());
        };
        let mut cur = first.forward(x, mode)?;
        for layer in rest {
            cur = layer.forward(cur, mode)?;
        }
        self.out_shape.clear();
        self.out_shape.extend_from_slice(cur.shape());
        self.pass = Pass::of(mode);
        Ok(cur)
    }

    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.check_backward("Sequential::backward", &grad_out)?;
        // Layers before the first one with parameters need no gradient at all, and
        // that one needs none with respect to its input.
        let Some(first) = self.names.iter().position(|names| !names.is_empty()) else {
            return Ok(());
        };
        let (head, rest) = self.layers[first..].split_at_mut(1);
        let mut layers = rest.iter_mut().rev();
        let Some(last) = layers.next() else {
            return head[0].backward(grad_out);
        };
        let mut g = last.backward_input(grad_out)?;
        for layer in layers {
            g = layer.backward_input(g)?;
        }
        head[0].backward(g)
    }
}

impl<F: Float> Layer<F> for Sequential<F> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.check_backward("Sequential::backward_input", &grad_out)?;
        let mut layers = self.layers.iter_mut().rev();
        let Some(last) = layers.next() else {
            copy_into(&grad_out, &mut self.identity_grad);
            return Ok(self.identity_grad.view());
        };
        let mut g = last.backward_input(grad_out)?;
        for layer in layers {
            g = layer.backward_input(g)?;
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dropout, Flatten, Relu, Tanh};
    use crate::tensor::seeded_rng;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, Array3, ArrayD, IxDyn};
    use std::sync::{Arc, Mutex};

    /// Records which backward method the stack called.
    struct Probe {
        inner: Linear<f64>,
        calls: Arc<Mutex<Vec<&'static str>>>,
    }

    impl Module<f64> for Probe {
        fn visit_params(&mut self, f: &mut ParamVisitor<'_, f64>) -> Result<()> {
            self.inner.visit_params(f)
        }
    }

    impl Model<f64> for Probe {
        fn forward(&mut self, x: ArrayViewD<'_, f64>, mode: Mode) -> Result<ArrayViewD<'_, f64>> {
            self.inner.forward(x, mode)
        }
        fn backward(&mut self, g: ArrayViewD<'_, f64>) -> Result<()> {
            self.calls.lock().unwrap().push("backward");
            self.inner.backward(g)
        }
    }

    impl Layer<f64> for Probe {
        fn backward_input(&mut self, g: ArrayViewD<'_, f64>) -> Result<ArrayViewD<'_, f64>> {
            self.calls.lock().unwrap().push("backward_input");
            self.inner.backward_input(g)
        }
    }

    #[test]
    fn first_layer_skips_the_input_gradient() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut rng = seeded_rng(0);
        let probe = |rng: &mut crate::SeededRng| Probe {
            inner: Linear::new(3, 3, rng).unwrap(),
            calls: calls.clone(),
        };
        let mut net = Sequential::new().layer(probe(&mut rng)).layer(Relu::new()).layer(probe(&mut rng));
        let x = Array2::<f64>::ones((2, 3)).into_dyn();
        net.forward(x.view(), Mode::Train).unwrap();
        net.backward(x.view()).unwrap();
        assert_eq!(*calls.lock().unwrap(), ["backward_input", "backward"]);
        calls.lock().unwrap().clear();
        // As a layer, the whole chain computes input gradients.
        net.forward(x.view(), Mode::Train).unwrap();
        net.backward_input(x.view()).unwrap();
        assert_eq!(*calls.lock().unwrap(), ["backward_input", "backward_input"]);
        calls.lock().unwrap().clear();
        // Parameter-free layers in front are skipped; the first Linear still skips dL/dx.
        let mut net = Sequential::new().layer(Flatten::new()).layer(probe(&mut rng)).layer(probe(&mut rng));
        net.forward(x.view(), Mode::Train).unwrap();
        net.backward(x.view()).unwrap();
        assert_eq!(*calls.lock().unwrap(), ["backward_input", "backward"]);
    }

    #[test]
    fn mlp_matches_manual_composition() {
        let mut rng = seeded_rng(5);
        let mut mlp = Sequential::<f64>::mlp(&[4, 6, 3], Activation::Tanh, &mut rng).unwrap();
        let mut rng = seeded_rng(5);
        let mut l1 = Linear::<f64>::new(4, 6, &mut rng).unwrap();
        let mut l2 = Linear::<f64>::new(6, 3, &mut rng).unwrap();
        let x = Array2::from_shape_fn((5, 4), |(i, j)| (i as f64 - j as f64) * 0.3).into_dyn();
        let y = mlp.forward(x.view(), Mode::Train).unwrap().to_owned();
        let h = l1.forward(x.view(), Mode::Train).unwrap().mapv(f64::tanh);
        let y2 = l2.forward(h.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, y2);
        let g = Array2::from_shape_fn((5, 3), |(i, j)| (i + 2 * j) as f64 * 0.1).into_dyn();
        mlp.backward(g.view()).unwrap();
        let dh = l2.backward_input(g.view()).unwrap().to_owned() * h.mapv(|t| 1.0 - t * t);
        l1.backward(dh.view()).unwrap();
        let grads = mlp.gradients();
        assert_eq!(grads[2].1, l2.weight_grad().into_dyn());
        assert_abs_diff_eq!(grads[0].1, l1.weight_grad().into_dyn(), epsilon = 1e-15);
        assert_abs_diff_eq!(grads[1].1, l1.bias_grad().unwrap().into_dyn(), epsilon = 1e-15);
    }

    #[test]
    fn names_ids_and_nesting() {
        let mut rng = seeded_rng(0);
        let inner = Sequential::new().layer(Linear::<f32>::new(4, 4, &mut rng).unwrap()).layer(Tanh::new());
        let mut net = Sequential::new()
            .layer(Flatten::new())
            .layer(inner)
            .layer(Dropout::new(0.1).unwrap())
            .layer(Linear::builder(4, 2).bias(false).build(&mut rng).unwrap());
        let mut seen = Vec::new();
        net.visit_params(&mut |p, v, g| {
            assert_eq!(v.shape(), g.shape());
            seen.push((p.id, p.name.to_string()));
            Ok(())
        })
        .unwrap();
        let expected = [(0, "1.0.weight"), (1, "1.0.bias"), (2, "3.weight")];
        assert_eq!(seen, expected.map(|(i, n)| (i, n.to_string())));
        assert_eq!(net.param_names().collect::<Vec<_>>(), ["1.0.weight", "1.0.bias", "3.weight"]);
        assert_eq!(net.num_parameters(), 16 + 4 + 8);
        let x = Array3::<f32>::ones((3, 2, 2)).into_dyn();
        assert_eq!(net.forward(x.view(), Mode::Eval).unwrap().shape(), &[3, 2]);
        assert!(format!("{net:?}").contains("3.weight"));
        assert_eq!(net.len(), 4);
        assert!(net.get(4).is_none() && net.get(0).is_some());
    }

    #[test]
    fn visit_stops_at_first_error() {
        let mut net = Sequential::<f64>::mlp(&[2, 3, 2], Activation::Relu, &mut seeded_rng(0)).unwrap();
        let mut n = 0;
        let err = net
            .visit_params(&mut |p, _, _| {
                n += 1;
                if p.id == 1 { Err(Error::invalid_input("test", "stop")) } else { Ok(()) }
            })
            .unwrap_err();
        assert_eq!(n, 2);
        assert!(matches!(err, Error::InvalidInput { op: "test", .. }));
    }

    #[test]
    fn empty_stack_is_identity() {
        let mut net = Sequential::<f64>::new();
        assert!(net.is_empty());
        let x = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64).into_dyn();
        assert_eq!(net.forward(x.view(), Mode::Train).unwrap(), x);
        net.backward(x.view()).unwrap();
        assert_eq!(net.backward_input(x.view()).unwrap(), x);
        assert_eq!(net.num_parameters(), 0);
    }

    #[test]
    fn errors() {
        let mut rng = seeded_rng(0);
        for (sizes, name) in [(&[][..], "sizes"), (&[5][..], "sizes"), (&[5, 0, 2][..], "out_features")] {
            match Sequential::<f64>::mlp(sizes, Activation::Relu, &mut rng) {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{sizes:?}: {other:?}"),
            }
        }
        assert!(matches!(
            Sequential::<f64>::mlp(&[2, 2, 2], Activation::LeakyRelu(f64::NAN), &mut rng),
            Err(Error::InvalidParameter { name: "negative_slope", .. })
        ));

        let mut net = Sequential::<f64>::mlp(&[4, 5, 3], Activation::Relu, &mut rng).unwrap();
        let g = Array2::<f64>::ones((2, 3)).into_dyn();
        assert!(matches!(
            net.backward(g.view()),
            Err(Error::InvalidInput { op: "Sequential::backward", .. })
        ));
        let err = net.forward(Array2::<f64>::ones((2, 3)).into_dyn().view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Linear::forward", expected: vec![0, 4], got: vec![2, 3] }
        );
        let x = Array2::<f64>::ones((2, 4)).into_dyn();
        net.forward(x.view(), Mode::Train).unwrap();
        let err = net.backward(Array2::<f64>::ones((2, 5)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Sequential::backward", expected: vec![2, 3], got: vec![2, 5] }
        );
        net.backward(g.view()).unwrap();
        // A forward that fails part-way makes the stack refuse backward.
        let mut bad = Sequential::new()
            .layer(Linear::<f64>::new(4, 5, &mut rng).unwrap())
            .layer(Linear::<f64>::new(6, 3, &mut rng).unwrap());
        assert!(bad.forward(x.view(), Mode::Train).is_err());
        assert!(matches!(bad.backward(g.view()), Err(Error::InvalidInput { .. })));
        // Eval forward, then backward: refused.
        net.forward(x.view(), Mode::Eval).unwrap();
        assert!(matches!(net.backward(g.view()), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn f32_and_f64_agree() {
        let mut a = Sequential::<f64>::mlp(&[8, 16, 16, 4], Activation::Gelu, &mut seeded_rng(2)).unwrap();
        let mut b = Sequential::<f32>::mlp(&[8, 16, 16, 4], Activation::Gelu, &mut seeded_rng(2)).unwrap();
        let x = Array2::from_shape_fn((7, 8), |(i, j)| ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0).into_dyn();
        let ya = a.forward(x.view(), Mode::Train).unwrap().to_owned();
        let yb = b.forward(x.mapv(|v| v as f32).view(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(ya, yb, epsilon = 1e-5);
        let g = ArrayD::from_elem(IxDyn(&[7, 4]), 0.5);
        a.backward(g.view()).unwrap();
        b.backward(g.mapv(|v| v as f32).view()).unwrap();
        for ((na, ga), (nb, gb)) in a.gradients().into_iter().zip(b.gradients()) {
            assert_eq!(na, nb);
            assert_abs_diff_eq!(ga, gb.mapv(f64::from), epsilon = 1e-4);
        }
    }

    #[test]
    fn output_buffer_is_reused_across_batch_sizes() {
        let mut net = Sequential::<f32>::mlp(&[64, 128, 10], Activation::Relu, &mut seeded_rng(0)).unwrap();
        let mut run = |n: usize| {
            let x = Array2::<f32>::ones((n, 64)).into_dyn();
            let p = net.forward(x.view(), Mode::Train).unwrap().as_ptr();
            net.backward(Array2::<f32>::ones((n, 10)).into_dyn().view()).unwrap();
            p
        };
        let p = run(16);
        assert_eq!(run(16), p);
        assert_eq!(run(5), p);
        assert_eq!(run(16), p);
    }

    #[test]
    fn is_send() {
        fn send<T: Send>() {}
        send::<Sequential<f32>>();
    }
}
