//! Dropout, and the switch that freezes random draws for gradient checks.

use std::cell::Cell;
use std::marker::PhantomData;

use ndarray::ArrayViewD;

use super::{Pass, copy_into, parameter_free_layer, slice_mut};
use crate::error::{Error, Result};
use crate::model::Mode;
use crate::model::init::uniform01;
use crate::tensor::{Buffer, Float, SeededRng, seeded_rng};

thread_local! {
    /// Id of the active freeze on this thread (0: none).
    static FROZEN: Cell<u64> = const { Cell::new(0) };
    /// Next freeze id on this thread.
    static NEXT_FREEZE: Cell<u64> = const { Cell::new(1) };
}

/// Guard returned by [`freeze_randomness`]; randomness thaws when it is dropped.
///
/// It is tied to the thread that created it (not `Send`).
#[derive(Debug)]
#[must_use = "randomness is frozen only while the guard is alive"]
pub struct FrozenRandomness {
    previous: u64,
    _not_send: PhantomData<*const ()>,
}

impl Drop for FrozenRandomness {
    fn drop(&mut self) {
        FROZEN.with(|f| f.set(self.previous));
    }
}

/// Freezes the random draws of stochastic layers on this thread until the guard drops:
/// while frozen, a stochastic layer draws once (at its first training-mode forward)
/// and reuses that draw for every later forward of the same input shape. The model is
/// then a deterministic function of its parameters and input, which is what a
/// finite-difference gradient check needs; [`gradcheck`](crate::gradcheck::gradcheck)
/// freezes randomness for its whole run.
///
/// [`Dropout`] honours the freeze; a custom stochastic layer can too, through
/// [`frozen_randomness`]. Freezes nest (the inner one draws afresh).
///
/// # Example
///
/// ```
/// use ndarray::Array2;
/// use ndtrain::prelude::*;
/// use ndtrain::model::freeze_randomness;
///
/// let mut drop = Dropout::<f64>::new(0.5)?;
/// let x = Array2::<f64>::ones((4, 50)).into_dyn();
/// let a = drop.forward(x.view(), Mode::Train)?.to_owned();
/// let b = drop.forward(x.view(), Mode::Train)?.to_owned();
/// assert_ne!(a, b); // a fresh mask per forward
/// {
///     let _frozen = freeze_randomness();
///     let c = drop.forward(x.view(), Mode::Train)?.to_owned();
///     let d = drop.forward(x.view(), Mode::Train)?.to_owned();
///     assert_eq!(c, d); // one mask while frozen
/// }
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn freeze_randomness() -> FrozenRandomness {
    let id = NEXT_FREEZE.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let previous = FROZEN.with(|f| f.replace(id));
    FrozenRandomness { previous, _not_send: PhantomData }
}

/// `Some(id)` while a [`freeze_randomness`] guard is alive on this thread: a stochastic
/// layer that already drew under this `id` (for the same shape) reuses that draw.
pub fn frozen_randomness() -> Option<u64> {
    match FROZEN.with(|f| f.get()) {
        0 => None,
        id => Some(id),
    }
}

/// Dropout (PyTorch `nn.Dropout`; Srivastava et al., "Dropout: A Simple Way to Prevent
/// Neural Networks from Overfitting", JMLR 2014), inverted scaling.
///
/// In [`Mode::Train`], each element is kept with probability `1 − p` and scaled:
/// `y = x · m`, `m ∈ {0, 1/(1 − p)}`, a fresh mask per forward; backward
/// `dL/dx = dL/dy · m`. In [`Mode::Eval`] it is the identity. `p = 0` is the identity
/// in both modes (no draws).
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `p` | 0.5 | `[0, 1)` |
/// | `seed` | 0 | any `u64` |
///
/// The mask comes from the layer's own [`SeededRng`] (one uniform per element,
/// dropped when `u < p`), so runs are reproducible; the stream differs from PyTorch's.
/// Deviation: `p = 1` (PyTorch: all zeros) is rejected, since it trains nothing.
/// Under [`freeze_randomness`] the mask is drawn once and reused (gradient checks).
///
/// # Errors
/// [`Dropout::new`] / [`DropoutBuilder::build`]: [`Error::InvalidParameter`] (`"p"`)
/// outside `[0, 1)`. Backward: [`Error::InvalidInput`] without a preceding
/// [`Mode::Train`] forward, [`Error::ShapeMismatch`] for a `grad_out` of the wrong shape.
///
/// # Example
///
/// ```
/// use ndarray::Array2;
/// use ndtrain::prelude::*;
///
/// let mut drop = Dropout::<f64>::builder().p(0.25).seed(7).build()?;
/// let x = Array2::<f64>::ones((100, 100)).into_dyn();
/// let y = drop.forward(x.view(), Mode::Train)?;
/// let kept = y.iter().filter(|&&v| v != 0.0).count();
/// assert!((kept as f64 / 1e4 - 0.75).abs() < 0.02);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
/// assert_eq!(drop.forward(x.view(), Mode::Eval)?, x);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[doc(alias = "nn.Dropout")]
#[derive(Clone, Debug)]
pub struct Dropout<F> {
    p: f64,
    seed: u64,
    rng: SeededRng,
    mask: Buffer<F>,
    /// Freeze id the mask was drawn under (0: not frozen).
    mask_freeze: u64,
    out: Buffer<F>,
    grad_in: Buffer<F>,
    pass: Pass,
}

/// Builder of [`Dropout`]: `Dropout::builder().p(0.2).seed(1).build()?`.
#[derive(Clone, Copy, Debug)]
pub struct DropoutBuilder<F> {
    _float: PhantomData<fn() -> F>,
    p: f64,
    seed: u64,
}

impl<F: Float> Default for DropoutBuilder<F> {
    fn default() -> Self {
        DropoutBuilder { _float: PhantomData, p: 0.5, seed: 0 }
    }
}

impl<F: Float> DropoutBuilder<F> {
    /// Probability of zeroing an element (default 0.5).
    pub fn p(mut self, p: f64) -> Self {
        self.p = p;
        self
    }

    /// Seed of the mask generator (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"p"`) unless `0 <= p < 1`.
    pub fn build(self) -> Result<Dropout<F>> {
        if !(self.p >= 0.0 && self.p < 1.0) {
            return Err(Error::InvalidParameter { name: "p", value: self.p, expected: "[0, 1)" });
        }
        Ok(Dropout {
            p: self.p,
            seed: self.seed,
            rng: seeded_rng(self.seed),
            mask: Buffer::new(),
            mask_freeze: 0,
            out: Buffer::new(),
            grad_in: Buffer::new(),
            pass: Pass::None,
        })
    }
}

impl<F: Float> Default for Dropout<F> {
    /// `p = 0.5`, seed 0.
    fn default() -> Self {
        DropoutBuilder::default().build().expect("the default p is valid")
    }
}

impl<F: Float> Dropout<F> {
    /// Dropout with probability `p` and seed 0.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"p"`) unless `0 <= p < 1`.
    pub fn new(p: f64) -> Result<Self> {
        DropoutBuilder::default().p(p).build()
    }

    /// A builder (`p` 0.5, seed 0).
    pub fn builder() -> DropoutBuilder<F> {
        DropoutBuilder::default()
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The seed the layer was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Restarts the mask stream from `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.rng = seeded_rng(seed);
        self.mask_freeze = 0;
    }

    /// The mask (`0` or `1/(1 − p)` per element) of the last training-mode forward.
    pub fn mask(&self) -> ArrayViewD<'_, F> {
        self.mask.view()
    }

    fn draw_mask(&mut self, shape: &[usize]) {
        let frozen = frozen_randomness().unwrap_or(0);
        if frozen != 0 && self.mask_freeze == frozen && self.mask.shape() == shape {
            return; // reuse the draw made under this freeze
        }
        let (p, scale) = (self.p, F::lit(1.0 / (1.0 - self.p)));
        let mask = slice_mut(self.mask.reshape(shape));
        if p == 0.0 {
            mask.fill(F::one());
        } else {
            let rng = &mut self.rng;
            mask.iter_mut().for_each(|m| *m = if uniform01(rng) < p { F::zero() } else { scale });
        }
        self.mask_freeze = frozen;
    }

    fn forward_impl(&mut self, x: ArrayViewD<'_, F>, mode: Mode) -> Result<ArrayViewD<'_, F>> {
        if mode == Mode::EvalGrad {
            // Evaluation behaviour (identity), with a mask of ones for backward.
            self.mask.reshape(x.shape()).fill(F::one());
            self.mask_freeze = 0;
            copy_into(&x, &mut self.out);
        } else if mode.is_training() {
            self.draw_mask(x.shape());
            let out = slice_mut(self.out.reshape(x.shape()));
            let mask = self.mask.view();
            let mask = mask.to_slice().expect("buffer views are contiguous");
            match x.as_slice() {
                Some(xs) => out.iter_mut().zip(xs).zip(mask).for_each(|((o, &v), &m)| *o = v * m),
                None => out.iter_mut().zip(x.iter()).zip(mask).for_each(|((o, &v), &m)| *o = v * m),
            }
        } else {
            copy_into(&x, &mut self.out);
        }
        self.pass = Pass::of(mode);
        Ok(self.out.view())
    }

    fn check_backward(&self, op: &'static str, g: &ArrayViewD<'_, F>) -> Result<()> {
        self.pass.require_train(op)?;
        if g.shape() != self.out.shape() {
            return Err(Error::ShapeMismatch {
                op,
                expected: self.out.shape().to_vec(),
                got: g.shape().to_vec(),
            });
        }
        Ok(())
    }

    fn backward_input_impl(&mut self, g: ArrayViewD<'_, F>) -> Result<ArrayViewD<'_, F>> {
        self.check_backward("Dropout::backward_input", &g)?;
        let mask = self.mask.view();
        let mask = mask.to_slice().expect("buffer views are contiguous");
        let gi = slice_mut(self.grad_in.reshape(g.shape()));
        match g.as_slice() {
            Some(gs) => gi.iter_mut().zip(gs).zip(mask).for_each(|((d, &g), &m)| *d = g * m),
            None => gi.iter_mut().zip(g.iter()).zip(mask).for_each(|((d, &g), &m)| *d = g * m),
        }
        Ok(self.grad_in.view())
    }
}
parameter_free_layer!(Dropout, "Dropout::backward");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layer, Model};
    use ndarray::{Array2, ArrayD};

    fn ones(n: usize, m: usize) -> ArrayD<f64> {
        Array2::ones((n, m)).into_dyn()
    }

    #[test]
    fn invalid_p() {
        for p in [-0.1, 1.0, 1.5, f64::NAN] {
            match Dropout::<f64>::new(p) {
                Err(Error::InvalidParameter { name: "p", .. }) => {}
                other => panic!("p = {p}: {other:?}"),
            }
        }
        assert_eq!(Dropout::<f32>::default().p(), 0.5);
        assert!(Dropout::<f32>::new(0.0).is_ok());
    }

    #[test]
    fn train_masks_and_scales_eval_is_identity() {
        let mut d = Dropout::<f64>::builder().p(0.5).seed(1).build().unwrap();
        let x = Array2::from_shape_fn((200, 100), |(i, j)| (i + j) as f64).into_dyn();
        let y = d.forward(x.view(), Mode::Train).unwrap().to_owned();
        let mask = d.mask().to_owned();
        assert_eq!(y, &x * &mask);
        let kept = mask.iter().filter(|&&m| m == 2.0).count();
        let dropped = mask.iter().filter(|&&m| m == 0.0).count();
        assert_eq!(kept + dropped, 20_000);
        // Binomial(20000, 0.5): sd 70.7; 5 sd.
        assert!((kept as f64 - 10_000.0).abs() < 354.0, "{kept}");
        // Backward multiplies by the same mask.
        let g = ones(200, 100);
        let dx = d.backward_input(g.view()).unwrap().to_owned();
        assert_eq!(dx, mask);
        d.backward(g.view()).unwrap();
        // Eval: identity, and backward refused afterwards.
        assert_eq!(d.forward(x.view(), Mode::Eval).unwrap(), x);
        assert!(matches!(d.backward(g.view()), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn p_zero_is_identity_and_f32_works() {
        let mut d = Dropout::<f32>::new(0.0).unwrap();
        let x = Array2::<f32>::from_elem((3, 4), 1.5).into_dyn();
        assert_eq!(d.forward(x.view(), Mode::Train).unwrap(), x);
        let mut d = Dropout::<f32>::builder().p(0.2).build().unwrap();
        let y = d.forward(x.view(), Mode::Train).unwrap();
        assert!(y.iter().all(|&v| v == 0.0 || v == 1.5 / 0.8));
    }

    #[test]
    fn seeded_reproducible_and_fresh_per_forward() {
        let x = ones(10, 10);
        let mut a = Dropout::<f64>::builder().seed(3).build().unwrap();
        let mut b = Dropout::<f64>::builder().seed(3).build().unwrap();
        let ya1 = a.forward(x.view(), Mode::Train).unwrap().to_owned();
        let yb1 = b.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(ya1, yb1);
        let ya2 = a.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_ne!(ya1, ya2);
        a.reseed(3);
        assert_eq!(a.forward(x.view(), Mode::Train).unwrap(), ya1);
        assert_eq!(a.seed(), 3);
    }

    #[test]
    fn freezing_reuses_one_draw_and_nests() {
        let x = ones(6, 6);
        let mut d = Dropout::<f64>::new(0.5).unwrap();
        assert_eq!(frozen_randomness(), None);
        let outer = freeze_randomness();
        let id = frozen_randomness().unwrap();
        let y1 = d.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(d.forward(x.view(), Mode::Train).unwrap(), y1);
        // A new shape draws a new mask.
        let x2 = ones(3, 6);
        let z = d.forward(x2.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(d.forward(x2.view(), Mode::Train).unwrap(), z);
        {
            let _inner = freeze_randomness();
            assert_ne!(frozen_randomness(), Some(id));
            let w1 = d.forward(x2.view(), Mode::Train).unwrap().to_owned();
            assert_eq!(d.forward(x2.view(), Mode::Train).unwrap(), w1);
        }
        assert_eq!(frozen_randomness(), Some(id));
        drop(outer);
        assert_eq!(frozen_randomness(), None);
        let a = d.forward(x.view(), Mode::Train).unwrap().to_owned();
        let b = d.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_ne!(a, b);
    }

    #[test]
    fn backward_errors() {
        let mut d = Dropout::<f64>::default();
        assert!(matches!(d.backward_input(ones(2, 2).view()), Err(Error::InvalidInput { .. })));
        d.forward(ones(2, 2).view(), Mode::Train).unwrap();
        match d.backward_input(ones(2, 3).view()) {
            Err(Error::ShapeMismatch { expected, got, .. }) => {
                assert_eq!((expected, got), (vec![2, 2], vec![2, 3]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Dropout<f32>>();
        send_sync::<DropoutBuilder<f64>>();
    }
}
