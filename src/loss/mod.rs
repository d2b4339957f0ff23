//! Losses: the [`Loss`] trait and the torch.nn losses.
//!
//! A loss computes its value and `dL/d(pred)` in one pass, writing the gradient into
//! a buffer the caller owns (the [`Trainer`](crate::train::Trainer) reuses it for every
//! batch). The gradient follows the reduction: for a mean over `N` elements it
//! carries the `1/N`.
//!
//! Targets have their own element type `Y`: class indices are `usize`, real-valued
//! targets are the float type `F`.
//!
//! # The losses
//!
//! Names, hyper-parameters and defaults are torch.nn's; every loss takes a
//! [`Reduction`] (`none`, `mean` (default), `sum`).
//!
//! | loss | torch | input | target | [`Loss`] impls |
//! | --- | --- | --- | --- | --- |
//! | [`MseLoss`] | `MSELoss`, `mse_loss` | any | same shape | `Loss<F, F>` |
//! | [`L1Loss`] | `L1Loss`, `l1_loss` | any | same shape | `Loss<F, F>` |
//! | [`SmoothL1Loss`] | `SmoothL1Loss` | any | same shape | `Loss<F, F>` |
//! | [`HuberLoss`] | `HuberLoss` | any | same shape | `Loss<F, F>` |
//! | [`BceLoss`] | `BCELoss`, `binary_cross_entropy` | probabilities | same shape | `Loss<F, F>`, `Loss<F, usize>` |
//! | [`BceWithLogitsLoss`] | `BCEWithLogitsLoss` | logits | same shape | `Loss<F, F>`, `Loss<F, usize>` |
//! | [`CrossEntropyLoss`] | `CrossEntropyLoss`, `cross_entropy` | logits `[N, C, d...]` | classes `[N, d...]` or probabilities | `Loss<F, usize>`, `Loss<F, F>` |
//! | [`NllLoss`] | `NLLLoss`, `nll_loss` | log-probabilities `[N, C, d...]` | classes `[N, d...]` | `Loss<F, usize>` |
//! | [`KlDivLoss`] | `KLDivLoss`, `kl_div` | log-probabilities | same shape | `Loss<F, F>` |
//! | [`HingeEmbeddingLoss`] | `HingeEmbeddingLoss` | any | `±1`, same shape | `Loss<F, F>` |
//! | [`MultiMarginLoss`] | `MultiMarginLoss` | scores `[N, C]` | classes `[N]` | `Loss<F, usize>` |
//! | [`SoftMarginLoss`] | `SoftMarginLoss` | any | `±1`, same shape | `Loss<F, F>` |
//! | [`PoissonNllLoss`] | `PoissonNLLLoss` | log-rate or rate | counts, same shape | `Loss<F, F>` |
//! | [`GaussianNllLoss`] | `GaussianNLLLoss` | mean, variance | same shape | own methods |
//! | [`MarginRankingLoss`] | `MarginRankingLoss` | two scores | `±1` | own methods |
//! | [`CosineEmbeddingLoss`] | `CosineEmbeddingLoss` | two embeddings `[N, D]` | `±1`, `[N]` | own methods |
//!
//! Each loss also has `forward`, torch's output (per element for
//! `Reduction::None`, a 0-d array otherwise); the losses with two differentiable
//! inputs have `loss_and_grads`, which writes one gradient per input.
//!
//! One deliberate difference from torch: gradient entries smaller in magnitude than the
//! smallest normal float (`1.2e-38` in f32; e.g. `σ(-100)` of a confident logistic
//! regression, or the wrong-class softmax probabilities of a confident classifier) are
//! written as zero. Subnormal floats make every later product several times slower on
//! x86; loss values are not affected.
//!
//! The first impl listed is generic over `F: Float`. The second ones
//! (`Loss<F, usize>` of the binary cross-entropies, `Loss<F, F>` of
//! [`CrossEntropyLoss`]) are implemented for `f32` and `f64` one by one: Rust's
//! coherence rules do not let `Loss<F, F>` and `Loss<F, usize>` both be generic. In
//! generic code, name the trait (`Loss::<F, usize>::loss(&l, ...)`) if inference needs it.
//!
//! # Shapes
//!
//! Elementwise losses (`Loss<F, F>` and the 0/1-label `Loss<F, usize>` of the binary
//! cross-entropies) take a target of the prediction's shape, and also a prediction
//! `[N, 1]` with a target `[N]`, as the same thing: a regression (or binary) model
//! outputs `[N, 1]` while a dataset holds `y` as `[N]`. (PyTorch would broadcast that
//! pair to `[N, N]` with a warning; ndtrain treats it as the obvious `[N, 1]`.) Any
//! other mismatch is [`Error::ShapeMismatch`]. Weights
//! (`weight`, `pos_weight`) broadcast to the input's shape with numpy's rules.
//!
//! # Bad input
//!
//! * Empty input (no element, no class) is [`Error::EmptyInput`]
//!   (PyTorch returns NaN for a mean over nothing).
//! * A class index `>= C` is [`Error::LabelOutOfRange`];
//!   labels other than 0/1 for the binary cross-entropies too.
//! * NaN and infinities in predictions or targets propagate into the value and the
//!   gradient, as in PyTorch (a diverging model shows up as a NaN loss, which the
//!   caller can stop on). The exception is [`BceLoss`], whose input must be a
//!   probability: a value outside `[0, 1]`, NaN included, is
//!   [`Error::InvalidValue`], as PyTorch raises; and a
//!   negative variance of [`GaussianNllLoss`].
//! * Everything is validated before the first gradient element is written.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::{Error, Result};
use crate::tensor::Float;

mod bce;
mod bce_with_logits;
mod cosine_embedding;
mod cross_entropy;
mod gaussian_nll;
mod hinge_embedding;
mod huber;
mod kl_div;
mod l1;
mod margin_ranking;
mod mse;
mod multi_margin;
mod nll;
mod per_position;
mod poisson_nll;
mod smooth_l1;
mod soft_margin;
mod util;

pub use bce::{BceLoss, BceLossBuilder};
pub use bce_with_logits::{BceWithLogitsLoss, BceWithLogitsLossBuilder};
pub use cosine_embedding::{CosineEmbeddingLoss, CosineEmbeddingLossBuilder};
pub use cross_entropy::{CrossEntropyLoss, CrossEntropyLossBuilder};
pub use gaussian_nll::{GaussianNllLoss, GaussianNllLossBuilder};
pub use hinge_embedding::{HingeEmbeddingLoss, HingeEmbeddingLossBuilder};
pub use huber::{HuberLoss, HuberLossBuilder};
pub use kl_div::{KlDivLoss, KlDivLossBuilder, KlDivReduction};
pub use l1::{L1Loss, L1LossBuilder};
pub use margin_ranking::{MarginRankingLoss, MarginRankingLossBuilder};
pub use mse::{MseLoss, MseLossBuilder};
pub use multi_margin::{MultiMarginLoss, MultiMarginLossBuilder};
pub use nll::{NllLoss, NllLossBuilder};
pub use per_position::PerPosition;
pub use poisson_nll::{PoissonNllLoss, PoissonNllLossBuilder};
pub use smooth_l1::{SmoothL1Loss, SmoothL1LossBuilder};
pub use soft_margin::{SoftMarginLoss, SoftMarginLossBuilder};

/// How per-element losses are reduced, as in PyTorch's `reduction` argument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction: one loss per element. Through [`Loss::loss_and_grad`] the
    /// returned scalar is the sum and the gradient is that of the sum (what
    /// `output.sum().backward()` gives in PyTorch).
    None,
    /// Mean over elements (PyTorch's default).
    #[default]
    Mean,
    /// Sum over elements.
    Sum,
}

impl Reduction {
    /// PyTorch's spelling: `"none"`, `"mean"` or `"sum"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses PyTorch's `reduction` strings.
///
/// ```
/// use ndtrain::loss::Reduction;
///
/// assert_eq!("sum".parse::<Reduction>()?, Reduction::Sum);
/// assert!("avg".parse::<Reduction>().is_err());
/// # Ok::<(), ndtrain::Error>(())
/// ```
impl FromStr for Reduction {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            other => Err(Error::invalid_config(format!(
                "unknown reduction {other:?}, expected \"none\", \"mean\" or \"sum\""
            ))),
        }
    }
}

/// A differentiable training objective.
///
/// `Y` is the target element type: `usize` class indices for classification losses,
/// the float type `F` for regression-style targets.
///
/// # Example: a custom mean absolute loss
///
/// ```
/// use ndarray::{ArrayViewD, ArrayViewMutD, Zip};
/// use ndtrain::prelude::*;
///
/// struct MeanAbs;
///
/// impl Loss<f64, f64> for MeanAbs {
///     fn loss_and_grad(&self, pred: ArrayViewD<'_, f64>, target: ArrayViewD<'_, f64>,
///                      mut grad: ArrayViewMutD<'_, f64>) -> ndtrain::Result<f64> {
///         ndtrain::tensor::same_shape("MeanAbs", pred.shape(), target.shape())?;
///         let n = pred.len() as f64;
///         let mut total = 0.0;
///         Zip::from(&mut grad).and(&pred).and(&target).for_each(|g, &p, &t| {
///             total += (p - t).abs();
///             *g = (p - t).signum() / n;
///         });
///         Ok(total / n)
///     }
/// }
///
/// let pred = ndarray::array![1.0, 4.0].into_dyn();
/// let target = ndarray::array![2.0, 2.0].into_dyn();
/// let mut grad = pred.clone();
/// assert_eq!(MeanAbs.loss_and_grad(pred.view(), target.view(), grad.view_mut())?, 1.5);
/// assert_eq!(grad, ndarray::array![-0.5, 0.5].into_dyn());
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub trait Loss<F: Float, Y> {
    /// Returns the reduced loss and writes `dL/d(pred)` into `grad` (same shape as
    /// `pred`).
    ///
    /// With [`Reduction::None`] there is no scalar loss: this returns the *sum* of the
    /// per-element losses and writes the gradient of that sum (PyTorch's
    /// `loss(pred, target).sum().backward()`); the per-element values come from the
    /// loss's own `forward`.
    ///
    /// # Errors
    /// Shape mismatches between `pred`, `target` and `grad`, labels out of range and
    /// values outside the loss's domain; `grad` may be partially written on error,
    /// nothing else is changed.
    fn loss_and_grad(
        &self,
        pred: ArrayViewD<'_, F>,
        target: ArrayViewD<'_, Y>,
        grad: ArrayViewMutD<'_, F>,
    ) -> Result<F>;

    /// The reduced loss alone. The default calls
    /// [`loss_and_grad`](Loss::loss_and_grad) with a scratch gradient; losses override
    /// it when the value is cheaper on its own.
    fn loss(&self, pred: ArrayViewD<'_, F>, target: ArrayViewD<'_, Y>) -> Result<F> {
        let mut scratch = ndarray::ArrayD::<F>::zeros(pred.raw_dim());
        self.loss_and_grad(pred, target, scratch.view_mut())
    }
}
