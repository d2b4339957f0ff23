//! The fully connected layer [`Linear`] (alias [`Dense`]).

use std::marker::PhantomData;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, Ix2};
use rand::Rng;

use crate::error::{Error, Result};
use crate::model::init::Init;
use crate::model::layers::{Pass, mat_mut, slice_mut};
use crate::model::{Layer, Mode, Model, Module, ParamVisitor};
use crate::tensor::{Buffer, Float};

/// A fully connected layer, `y = x·Wᵀ + b` (PyTorch `nn.Linear`).
///
/// `x` is `[N, in_features]`, the weight `W` is `[out_features, in_features]` and the
/// bias `b` is `[out_features]` (optional), so `y` is `[N, out_features]`. Parameters
/// are visited as `"weight"` (id 0) and `"bias"` (id 1), as PyTorch names them.
///
/// Backward, from `G = dL/dy`: `dL/dW = Gᵀ·x`, `dL/db = Σₙ Gₙ`, `dL/dx = G·W`
/// (the last only in [`Layer::backward_input`]; [`Model::backward`] skips it).
///
/// On its own, with the matching loss, a `Linear` is linear regression (MSE),
/// logistic regression (`out_features = 1`, BCE with logits) or softmax regression
/// (cross-entropy).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `in_features`, `out_features` | required | `>= 1` |
/// | `bias` | `true` | |
/// | `init` (weight and bias) | [`Init::LinearDefault`]: `U(±1/√in_features)` | any [`Init`] |
/// | `bias_init` | same as `init` | any [`Init`] |
///
/// The products run in `ndarray::linalg::general_mat_mul` into buffers the layer owns
/// (the bias is broadcast into the output first and the product accumulated onto it),
/// so after the largest batch has been seen nothing is allocated by the layer. With
/// one output (linear and logistic regression) they are matrix-vector products and
/// run as row dot products and row updates instead: a matrix product would pack the
/// whole input for one column of output.
///
/// Inputs may have any number of leading dimensions, `[*, in_features]` → `[*, out_features]`,
/// as in PyTorch (a sequence `[N, T, in]` is transformed position by position): the
/// leading dimensions are flattened into rows of one matrix product.
///
/// # Errors
/// * construction: [`Error::InvalidParameter`] for a size of 0 (`"in_features"`,
///   `"out_features"`) or an invalid [`Init`];
/// * `forward`: [`Error::ShapeMismatch`] (expected `[0, in_features]`, `0` = any size)
///   unless `x` has at least 2 dimensions and `in_features` elements in the last;
/// * `backward`: [`Error::InvalidInput`] without a preceding [`Mode::Train`] forward,
///   [`Error::ShapeMismatch`] unless `grad_out` is `[*, out_features]` of that forward.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array2};
/// use ndtrain::prelude::*;
/// use ndtrain::model::init::Init;
///
/// let mut rng = ndtrain::seeded_rng(0);
/// let mut fc = Linear::<f64>::new(3, 2, &mut rng)?;
/// assert_eq!(fc.weight().shape(), &[2, 3]);
/// assert!(fc.weight().iter().all(|w| w.abs() <= 1.0 / 3f64.sqrt()));
///
/// let x = Array2::<f64>::ones((4, 3)).into_dyn();
/// let y = fc.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[4, 2]);
/// fc.backward(Array2::<f64>::ones((4, 2)).into_dyn().view())?;
/// assert_eq!(fc.gradients()[1].1, array![4.0, 4.0].into_dyn()); // dL/db = column sums
///
/// // Zero-initialised logistic regression on 30 features, no randomness used.
/// let logreg = Linear::<f32>::builder(30, 1).init(Init::Zeros).build(&mut rng)?;
/// assert!(logreg.weight().iter().all(|&w| w == 0.0));
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Linear")]
#[doc(alias = "Dense")]
#[doc(alias = "fully connected")]
#[derive(Clone, Debug)]
pub struct Linear<F> {
    weight: Array2<F>,
    weight_grad: Array2<F>,
    bias: Option<(Array1<F>, Array1<F>)>,
    /// Copy of the last training-mode input as rows, `[N, in]` (for `dL/dW`).
    input: Buffer<F>,
    /// Shape of the last input, `[*, in]`.
    in_shape: Vec<usize>,
    /// `grad_out` as contiguous rows when it arrives in another layout.
    grad_rows: Buffer<F>,
    output: Buffer<F>,
    grad_input: Buffer<F>,
    pass: Pass,
}

/// The name the [`Sequential`](crate::model::Sequential) MLP uses for [`Linear`]
/// (Keras' word for the same layer): a type alias, so `Dense::new(64, 128, &mut rng)`
/// and every `Linear` method work unchanged.
pub type Dense<F> = Linear<F>;

/// Builder of [`Linear`]: `Linear::builder(in, out).bias(false).init(Init::Zeros).build(&mut rng)?`.
#[derive(Clone, Copy, Debug)]
pub struct LinearBuilder<F> {
    _float: PhantomData<fn() -> F>,
    in_features: usize,
    out_features: usize,
    bias: bool,
    init: Init,
    bias_init: Option<Init>,
}

impl<F: Float> LinearBuilder<F> {
    /// Whether the layer has a bias (default `true`).
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// The initialisation of the weight, and of the bias unless
    /// [`bias_init`](LinearBuilder::bias_init) is set (default [`Init::LinearDefault`]).
    /// The bias is drawn with the weight's fans, as PyTorch does.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The initialisation of the bias (default: the weight's).
    pub fn bias_init(mut self, init: Init) -> Self {
        self.bias_init = Some(init);
        self
    }

    /// Validates, then draws the weight (row-major) and then the bias from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a size of 0 or an invalid [`Init`].
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Linear<F>> {
        check_size("in_features", self.in_features)?;
        check_size("out_features", self.out_features)?;
        self.init.validate()?;
        let bias_init = self.bias_init.unwrap_or(self.init);
        bias_init.validate()?;
        let (fan_in, fan_out) = (self.in_features, self.out_features);
        let mut weight = Array2::zeros((self.out_features, self.in_features));
        self.init.fill_with_fans(weight.view_mut().into_dyn(), fan_in, fan_out, rng)?;
        let bias = if self.bias {
            let mut b = Array1::zeros(self.out_features);
            bias_init.fill_with_fans(b.view_mut().into_dyn(), fan_in, fan_out, rng)?;
            Some(b)
        } else {
            None
        };
        Linear::from_weights(weight, bias)
    }
}

fn check_size(name: &'static str, n: usize) -> Result<()> {
    if n == 0 { Err(Error::InvalidParameter { name, value: 0.0, expected: ">= 1" }) } else { Ok(()) }
}

impl<F: Float> Linear<F> {
    /// A layer with PyTorch's default initialisation and a bias.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a size is 0.
    pub fn new<R: Rng + ?Sized>(in_features: usize, out_features: usize, rng: &mut R) -> Result<Self> {
        Self::builder(in_features, out_features).build(rng)
    }

    /// A builder with PyTorch's defaults (bias, [`Init::LinearDefault`]).
    pub fn builder(in_features: usize, out_features: usize) -> LinearBuilder<F> {
        LinearBuilder {
            _float: PhantomData,
            in_features,
            out_features,
            bias: true,
            init: Init::LinearDefault,
            bias_init: None,
        }
    }

    /// A layer with the given weight `[out_features, in_features]` and optional bias
    /// `[out_features]` (e.g. weights exported from PyTorch).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight with a zero dimension,
    /// [`Error::ShapeMismatch`] for a bias of the wrong length.
    pub fn from_weights(weight: Array2<F>, bias: Option<Array1<F>>) -> Result<Self> {
        let (out_f, in_f) = weight.dim();
        check_size("in_features", in_f)?;
        check_size("out_features", out_f)?;
        if let Some(b) = &bias {
            if b.len() != out_f {
                return Err(Error::ShapeMismatch {
                    op: "Linear::from_weights",
                    expected: vec![out_f],
                    got: b.shape().to_vec(),
                });
            }
        }
        // Standard layout, so the products see contiguous rows.
        let weight =
            if weight.is_standard_layout() { weight } else { weight.as_standard_layout().into_owned() };
        Ok(Linear {
            weight_grad: Array2::zeros((out_f, in_f)),
            weight,
            bias: bias.map(|b| {
                let g = Array1::zeros(b.len());
                (b, g)
            }),
            input: Buffer::new(),
            in_shape: Vec::new(),
            grad_rows: Buffer::new(),
            output: Buffer::new(),
            grad_input: Buffer::new(),
            pass: Pass::None,
        })
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of output features.
    pub fn out_features(&self) -> usize {
        self.weight.nrows()
    }

    /// The weight, `[out_features, in_features]`.
    pub fn weight(&self) -> ArrayView2<'_, F> {
        self.weight.view()
    }

    /// The bias, if any.
    pub fn bias(&self) -> Option<ArrayView1<'_, F>> {
        self.bias.as_ref().map(|(b, _)| b.view())
    }

    /// The weight, mutable (e.g. to load values).
    pub fn weight_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.weight.view_mut()
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> Option<ndarray::ArrayViewMut1<'_, F>> {
        self.bias.as_mut().map(|(b, _)| b.view_mut())
    }

    /// The weight gradient of the last backward.
    pub fn weight_grad(&self) -> ArrayView2<'_, F> {
        self.weight_grad.view()
    }

    /// The bias gradient of the last backward.
    pub fn bias_grad(&self) -> Option<ArrayView1<'_, F>> {
        self.bias.as_ref().map(|(_, g)| g.view())
    }

    /// Checks `grad_out` against the last training-mode forward (`[*, out]` with the
    /// input's leading dimensions).
    fn check_grad(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        let lead = &self.in_shape[..self.in_shape.len() - 1];
        if g.ndim() != self.in_shape.len()
            || &g.shape()[..lead.len()] != lead
            || g.shape()[lead.len()] != self.out_features()
        {
            let mut expected = lead.to_vec();
            expected.push(self.out_features());
            return Err(Error::ShapeMismatch { op, expected, got: g.shape().to_vec() });
        }
        Ok(())
    }

    /// Parameter gradients, and the input gradient when `input_grad`.
    fn backward_impl(&mut self, op: &'static str, g: ArrayViewD<'_, F>, input_grad: bool) -> Result<()> {
        self.check_grad(op, &g)?;
        let (n, out_f) = (self.input.shape()[0], self.out_features());
        let g = match g.as_slice() {
            Some(gs) => ArrayView2::from_shape((n, out_f), gs).expect("checked shape"),
            None => {
                let rows = slice_mut(self.grad_rows.reshape(&[n, out_f]));
                rows.iter_mut().zip(g.iter()).for_each(|(d, &v)| *d = v);
                self.grad_rows.view().into_dimensionality::<Ix2>().expect("2-D buffer")
            }
        };
        let x = self.input.view().into_dimensionality::<Ix2>().expect("input buffer is 2-D");
        if g.ncols() == 1 {
            // dW = Σₙ gₙ xₙ, row by row (contiguous rows, no packing).
            let mut dw = self.weight_grad.row_mut(0);
            dw.fill(F::zero());
            for (row, &gn) in x.rows().into_iter().zip(g.column(0)) {
                dw.scaled_add(gn, &row);
            }
        } else {
            // dW = Gᵀ x
            general_mat_mul(F::one(), &g.t(), &x, F::zero(), &mut self.weight_grad);
        }
        if let Some((_, bg)) = &mut self.bias {
            // db = column sums of G, accumulated row by row (contiguous, no allocation).
            bg.fill(F::zero());
            for row in g.rows() {
                *bg += &row;
            }
        }
        if input_grad {
            let mut gi = mat_mut(self.grad_input.reshape(&[n, self.in_features()]));
            if g.ncols() == 1 {
                // dx = G W is the outer product gₙ · w.
                let w = self.weight.row(0);
                for (mut row, &gn) in gi.rows_mut().into_iter().zip(g.column(0)) {
                    row.zip_mut_with(&w, |d, &w| *d = gn * w);
                }
            } else {
                // dx = G W
                general_mat_mul(F::one(), &g, &self.weight, F::zero(), &mut gi);
            }
        }
        if input_grad {
            // dL/dx has the input's shape, [*, in].
            self.grad_input.reshape(&self.in_shape);
        }
        Ok(())
    }
}

impl<F: Float> Module<F> for Linear<F> {
    fn visit_params(&mut self, f: &mut ParamVisitor<'_, F>) -> Result<()> {
        f(
            crate::Param::new(0, "weight"),
            self.weight.view_mut().into_dyn(),
            self.weight_grad.view_mut().into_dyn(),
        )?;
        if let Some((b, g)) = &mut self.bias {
            f(crate::Param::new(1, "bias"), b.view_mut().into_dyn(), g.view_mut().into_dyn())?;
        }
        Ok(())
    }
}

impl<F: Float> Model<F> for Linear<F> {
    fn forward(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        let in_f = self.in_features();
        if x.ndim() < 2 || x.shape()[x.ndim() - 1] != in_f {
            return Err(Error::ShapeMismatch {
                op: "Linear::forward",
                expected: vec![0, in_f],
                got: x.shape().to_vec(),
            });
        }
        let n = x.len() / in_f;
        self.in_shape.clear();
        self.in_shape.extend_from_slice(x.shape());
        // The input as rows [n, in]: copied when training (dL/dW needs it) or when an
        // N-D input is not contiguous, else read in place.
        let x = if mode.records() || (x.ndim() > 2 && !x.is_standard_layout()) {
            let rows = slice_mut(self.input.reshape(&[n, in_f]));
            match x.as_slice() {
                Some(xs) => rows.copy_from_slice(xs),
                None if x.ndim() == 2 => mat_mut(self.input.reshape(&[n, in_f]))
                    .assign(&x.into_dimensionality::<Ix2>().expect("2-D")),
                None => rows.iter_mut().zip(x.iter()).for_each(|(d, &v)| *d = v),
            }
            self.input.view().into_dimensionality::<Ix2>().expect("2-D buffer")
        } else if x.ndim() == 2 {
            x.into_dimensionality::<Ix2>().expect("checked 2-D")
        } else {
            let xs = x.to_slice().expect("checked contiguous");
            ArrayView2::from_shape((n, in_f), xs).expect("checked shape")
        };
        let matvec = self.out_features() == 1;
        let has_bias = self.bias.is_some();
        let mut out = mat_mut(self.output.reshape(&[n, self.out_features()]));
        let beta = match &self.bias {
            Some((b, _)) => {
                for mut row in out.rows_mut() {
                    row.assign(b);
                }
                F::one()
            }
            None => F::zero(),
        };
        if matvec {
            // yₙ = xₙ · w (+ b already in place; without a bias the old output is not read)
            let w = self.weight.row(0);
            for (row, y) in x.rows().into_iter().zip(out.column_mut(0)) {
                let d = row.dot(&w);
                *y = if has_bias { *y + d } else { d };
            }
        } else {
            // y = x Wᵀ (+ b already in place)
            general_mat_mul(F::one(), &x, &self.weight.t(), beta, &mut out);
        }
        if self.in_shape.len() > 2 {
            // [*, out]: the input's leading dimensions.
            let last = self.in_shape.len() - 1;
            let out_f = self.out_features();
            self.in_shape[last] = out_f;
            self.output.reshape(&self.in_shape);
            self.in_shape[last] = in_f;
        }
        self.pass = Pass::of(mode);
        Ok(self.output.view())
    }

    /// Stores `dL/dW` and `dL/db`; skips `dL/dx` (use [`Layer::backward_input`]).
    fn backward(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<()> {
        self.backward_impl("Linear::backward", grad_out, false)
    }
}

impl<F: Float> Layer<F> for Linear<F> {
    fn backward_input(&mut self, grad_out: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.backward_impl("Linear::backward_input", grad_out, true)?;
        Ok(self.grad_input.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init::Init;
    use crate::tensor::seeded_rng;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, array};

    fn layer() -> Linear<f64> {
        Linear::from_weights(array![[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], Some(array![0.5, -1.0])).unwrap()
    }

    /// PyTorch parity on a hand-computed case:
    ///
    /// ```python
    /// W = torch.tensor([[1., 2., 3.], [-1., .5, 2.]], dtype=torch.float64, requires_grad=True)
    /// b = torch.tensor([.5, -1.], dtype=torch.float64, requires_grad=True)
    /// x = torch.tensor([[1., 0., -1.], [2., 1., .5]], dtype=torch.float64, requires_grad=True)
    /// y = torch.nn.functional.linear(x, W, b); y.backward(torch.tensor([[1., 2.], [-1., .5]]))
    /// ```
    ///
    /// y = x Wᵀ + b: row 0 = [1 − 3 + 0.5, −1 − 2 − 1] = [−1.5, −4];
    ///               row 1 = [2 + 2 + 1.5 + 0.5, −2 + 0.5 + 1 − 1] = [6, −1.5].
    /// W.grad = Gᵀx: row 0 = 1·x₀ − 1·x₁ = [−1, −1, −1.5]; row 1 = 2·x₀ + 0.5·x₁ = [3, 0.5, −1.75].
    /// b.grad = column sums of G = [0, 2.5].
    /// x.grad = G W: row 0 = W₀ + 2W₁ = [−1, 3, 7]; row 1 = −W₀ + 0.5W₁ = [−1.5, −1.75, −2].
    #[test]
    fn pytorch_parity_hand_computed() {
        let mut fc = layer();
        let x = array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]].into_dyn();
        let y = fc.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[-1.5, -4.0], [6.0, -1.5]].into_dyn());
        let g = array![[1.0, 2.0], [-1.0, 0.5]].into_dyn();
        let dx = fc.backward_input(g.view()).unwrap().to_owned();
        assert_eq!(dx, array![[-1.0, 3.0, 7.0], [-1.5, -1.75, -2.0]].into_dyn());
        assert_eq!(fc.weight_grad(), array![[-1.0, -1.0, -1.5], [3.0, 0.5, -1.75]]);
        assert_eq!(fc.bias_grad().unwrap(), array![0.0, 2.5]);
        // Model::backward gives the same parameter gradients (and overwrites them).
        fc.weight_grad.fill(9.0);
        fc.backward(g.view()).unwrap();
        assert_eq!(fc.weight_grad(), array![[-1.0, -1.0, -1.5], [3.0, 0.5, -1.75]]);
        let names: Vec<String> = fc.parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
    }

    #[test]
    fn without_bias_and_non_contiguous_input() {
        let mut fc = Linear::from_weights(array![[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], None).unwrap();
        // x given transposed (column-major view).
        let xt = array![[1.0, 2.0], [0.0, 1.0], [-1.0, 0.5]];
        let y = fc.forward(xt.t().into_dyn(), Mode::Train).unwrap().to_owned();
        assert_eq!(y, array![[-2.0, -3.0], [5.5, -0.5]].into_dyn());
        let g = array![[1.0, -1.0], [2.0, 0.5]];
        fc.backward(g.t().into_dyn()).unwrap(); // non-contiguous gradient too
        // Gᵀ = [[1, 2], [-1, 0.5]]: same as the parity case.
        assert_eq!(fc.weight_grad(), array![[-1.0, -1.0, -1.5], [3.0, 0.5, -1.75]]);
        assert!(fc.bias().is_none() && fc.bias_grad().is_none());
        assert_eq!(fc.num_parameters(), 6);
    }

    #[test]
    fn bad_input_errors_name_shapes() {
        let mut fc = layer();
        let err = fc.backward(Array2::<f64>::zeros((2, 2)).into_dyn().view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { op: "Linear::backward", .. }), "{err}");
        assert!(err.to_string().contains("Mode::Train"), "{err}");

        let err = fc.forward(Array2::<f64>::zeros((2, 4)).into_dyn().view(), Mode::Train).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Linear::forward", expected: vec![0, 3], got: vec![2, 4] }
        );
        assert_eq!(err.to_string(), "Linear::forward: shape mismatch, expected [0, 3], got [2, 4]");
        let err = fc.forward(ndarray::Array1::<f64>::zeros(3).into_dyn().view(), Mode::Train).unwrap_err();
        assert_eq!(err, Error::ShapeMismatch { op: "Linear::forward", expected: vec![0, 3], got: vec![3] });

        fc.forward(Array2::<f64>::ones((4, 3)).into_dyn().view(), Mode::Train).unwrap();
        let err = fc.backward(Array2::<f64>::zeros((4, 3)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Linear::backward", expected: vec![4, 2], got: vec![4, 3] }
        );
        let err = fc.backward_input(Array2::<f64>::zeros((5, 2)).into_dyn().view()).unwrap_err();
        assert_eq!(
            err,
            Error::ShapeMismatch { op: "Linear::backward_input", expected: vec![4, 2], got: vec![5, 2] }
        );
        // A failed forward leaves the layer as it was: the backward of the last good one works.
        assert!(fc.forward(Array2::<f64>::zeros((7, 1)).into_dyn().view(), Mode::Train).is_err());
        fc.backward(Array2::<f64>::ones((4, 2)).into_dyn().view()).unwrap();
        assert_eq!(fc.bias_grad().unwrap(), array![4.0, 4.0]);

        // After an Eval forward, backward is refused.
        fc.forward(Array2::<f64>::ones((4, 3)).into_dyn().view(), Mode::Eval).unwrap();
        let err = fc.backward(Array2::<f64>::ones((4, 2)).into_dyn().view()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }) && err.to_string().contains("Mode::Eval"), "{err}");
    }

    #[test]
    fn invalid_hyper_parameters() {
        let mut rng = seeded_rng(0);
        for (r, name) in [
            (Linear::<f64>::new(0, 3, &mut rng), "in_features"),
            (Linear::<f64>::new(3, 0, &mut rng), "out_features"),
            (Linear::<f64>::builder(3, 2).init(Init::XavierUniform { gain: -1.0 }).build(&mut rng), "gain"),
            (
                Linear::<f64>::builder(3, 2).bias_init(Init::Normal { mean: 0.0, std: -1.0 }).build(&mut rng),
                "std",
            ),
            (Linear::<f64>::from_weights(Array2::zeros((0, 3)), None), "out_features"),
        ] {
            match r {
                Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let err =
            Linear::from_weights(Array2::<f64>::zeros((2, 3)), Some(ndarray::Array1::zeros(3))).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { expected, got, .. } if expected == [2] && got == [3]));
    }

    #[test]
    fn default_init_is_pytorch_family() {
        let fc = Linear::<f64>::new(64, 128, &mut seeded_rng(0)).unwrap();
        let bound = 1.0 / 8.0;
        assert!(fc.weight().iter().all(|w| w.abs() <= bound));
        assert!(fc.bias().unwrap().iter().all(|w| w.abs() <= bound));
        // Variance of U(-b, b) is b²/3; 8192 draws.
        let var = fc.weight().mapv(|w| w * w).mean().unwrap();
        assert!((var / (bound * bound / 3.0) - 1.0).abs() < 0.05, "{var}");
        // Seeded: same seed, same weights; Dense is the same type.
        let again = Dense::<f64>::new(64, 128, &mut seeded_rng(0)).unwrap();
        assert_eq!(fc.weight(), again.weight());
        assert_eq!(fc.bias(), again.bias());
        assert_eq!((fc.in_features(), fc.out_features()), (64, 128));
    }

    #[test]
    fn f32_and_f64_agree() {
        let mut a = Linear::<f64>::new(20, 7, &mut seeded_rng(4)).unwrap();
        let mut b = Linear::<f32>::new(20, 7, &mut seeded_rng(4)).unwrap();
        let x = Array2::from_shape_fn((9, 20), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
        let ya = a.forward(x.view().into_dyn(), Mode::Train).unwrap().to_owned();
        let yb = b.forward(x.mapv(|v| v as f32).view().into_dyn(), Mode::Train).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(ya, yb, epsilon = 1e-5);
        let g = Array2::from_shape_fn((9, 7), |(i, j)| (i as f64 - j as f64) / 10.0);
        let da = a.backward_input(g.view().into_dyn()).unwrap().to_owned();
        let db = b.backward_input(g.mapv(|v| v as f32).view().into_dyn()).unwrap().mapv(f64::from);
        assert_abs_diff_eq!(da, db, epsilon = 1e-5);
        assert_abs_diff_eq!(a.weight_grad(), b.weight_grad().mapv(f64::from), epsilon = 1e-4);
    }

    #[test]
    fn buffers_are_reused_for_smaller_batches() {
        let mut fc = Linear::<f32>::new(64, 128, &mut seeded_rng(0)).unwrap();
        let step = |fc: &mut Linear<f32>, n: usize| {
            let x = Array2::<f32>::ones((n, 64)).into_dyn();
            let g = Array2::<f32>::ones((n, 128)).into_dyn();
            let p = fc.forward(x.view(), Mode::Train).unwrap().as_ptr();
            let q = fc.backward_input(g.view()).unwrap().as_ptr();
            (p, q)
        };
        let first = step(&mut fc, 16);
        let caps = (fc.input.capacity(), fc.output.capacity(), fc.grad_input.capacity());
        assert_eq!(step(&mut fc, 16), first);
        assert_eq!(step(&mut fc, 5), first); // the last, smaller batch of an epoch
        assert_eq!(step(&mut fc, 16), first);
        assert_eq!((fc.input.capacity(), fc.output.capacity(), fc.grad_input.capacity()), caps);
        assert_eq!(caps, (16 * 64, 16 * 128, 16 * 64));
    }

    #[test]
    fn layers_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Linear<f32>>();
        send_sync::<LinearBuilder<f64>>();
    }
}
