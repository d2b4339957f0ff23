//! [`Normalizer`] and [`normalize`]: scale each row to unit norm.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::Preprocessor;
use super::stats::{self, check_n_features, check_out_shape};
use crate::error::{Error, Result};
use crate::tensor::{Float, check_finite};

/// The row norm a [`Normalizer`] divides by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Norm {
    /// `Σ |x_j|` (scikit-learn `"l1"`).
    #[doc(alias = "l1")]
    L1,
    /// `sqrt(Σ x_j²)` (scikit-learn `"l2"`, the default).
    #[doc(alias = "l2")]
    #[default]
    L2,
    /// `max |x_j|` (scikit-learn `"max"`).
    #[doc(alias = "max")]
    Max,
}

/// Scales each row (sample) to unit norm (scikit-learn's `Normalizer`). Stateless: `fit`
/// only records the number of columns.
///
/// # Math
///
/// ```text
/// y_ij = x_ij / ‖x_i‖,   ‖x_i‖ = Σ_j |x_ij| (l1) | sqrt(Σ_j x_ij²) (l2) | max_j |x_ij| (max)
/// ```
///
/// A row whose norm is below `10·eps` (eps of `F`) is divided by 1, so an all-zero row
/// stays zero. Norms are accumulated in f64.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `norm` | [`Norm::L2`] | `L1`, `L2`, `Max` |
///
/// Unlike the scalers, `Normalizer` accepts no missing values (as scikit-learn): NaN and
/// infinity are errors. There is no inverse (the norms are not kept).
///
/// # Errors
///
/// `fit`/`transform`/`transform_into`: [`Error::NonFinite`] for NaN or infinity;
/// [`Error::ShapeMismatch`] when fitted and the column count differs (or `out` has
/// another shape); `fit`: [`Error::EmptyInput`]. `transform` works without `fit` (it is
/// stateless, as scikit-learn).
///
/// Reference: scikit-learn `sklearn.preprocessing.Normalizer` / `normalize` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::{Norm, Normalizer};
///
/// let x = array![[3.0, 4.0], [0.0, 0.0], [1.0, -3.0]];
/// let y = Normalizer::default().fit_transform(x.view())?;
/// assert_eq!(y.row(0), array![0.6, 0.8]);
/// assert_eq!(y.row(1), array![0.0, 0.0]);
/// let y = Normalizer::builder().norm(Norm::L1).build()?.transform(x.view())?;
/// assert_eq!(y.row(2), array![0.25, -0.75]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Normalizer<F = f64> {
    norm: Norm,
    n_features_in: Option<usize>,
    #[cfg_attr(feature = "serde", serde(skip))]
    _f: std::marker::PhantomData<F>,
}

/// Builder of a [`Normalizer`].
#[derive(Clone, Debug)]
pub struct NormalizerBuilder<F = f64> {
    norm: Norm,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> NormalizerBuilder<F> {
    /// The row norm (default [`Norm::L2`]).
    pub fn norm(mut self, norm: Norm) -> Self {
        self.norm = norm;
        self
    }

    /// Builds the normalizer. Every value is valid.
    pub fn build(self) -> Result<Normalizer<F>> {
        Ok(Normalizer { norm: self.norm, n_features_in: None, _f: std::marker::PhantomData })
    }
}

impl<F: Float> Default for Normalizer<F> {
    fn default() -> Self {
        Normalizer { norm: Norm::L2, n_features_in: None, _f: std::marker::PhantomData }
    }
}

impl<F: Float> Normalizer<F> {
    /// A normalizer with scikit-learn's default (`norm = "l2"`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> NormalizerBuilder<F> {
        NormalizerBuilder { norm: Norm::L2, _f: std::marker::PhantomData }
    }

    /// The norm used.
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// Number of columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        self.n_features_in.ok_or(Error::NotFitted { op: "Normalizer::n_features_in" })
    }

    /// Normalizes the rows of `x` into `out` (same shape) without allocating.
    ///
    /// # Errors
    /// As `transform`; `out` of another shape is [`Error::ShapeMismatch`]. `out` is not
    /// written when `x` holds a non-finite value.
    pub fn transform_into(&self, x: ArrayView2<'_, F>, mut out: ArrayViewMut2<'_, F>) -> Result<()> {
        const OP: &str = "Normalizer::transform";
        if let Some(n) = self.n_features_in {
            check_n_features(OP, &x, n)?;
        }
        check_out_shape(OP, &x, &out)?;
        check_finite(OP, "x", x.into_dyn())?;
        let norm = self.norm;
        let tiny = 10.0 * F::epsilon().as_f64();
        stats::map_rows(&x, &mut out, |xr, or| {
            let r = match norm {
                Norm::L1 => xr.iter().map(|v| v.as_f64().abs()).sum::<f64>(),
                Norm::L2 => xr.iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>().sqrt(),
                Norm::Max => xr.iter().fold(0.0f64, |m, v| m.max(v.as_f64().abs())),
            };
            let r = F::lit(if r < tiny { 1.0 } else { r });
            for (o, &v) in or.iter_mut().zip(xr) {
                *o = v / r;
            }
            false
        });
        Ok(())
    }
}

impl<F: Float> Preprocessor<F> for Normalizer<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "Normalizer::fit";
        stats::check_not_empty(OP, &x)?;
        check_finite(OP, "x", x.into_dyn())?;
        self.n_features_in = Some(x.ncols());
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        let mut out = Array2::zeros(x.raw_dim());
        self.transform_into(x, out.view_mut())?;
        Ok(out)
    }
}

/// Scales each row of `x` to unit `norm` (scikit-learn's `normalize(X, norm)` with
/// `axis=1`); see [`Normalizer`].
///
/// # Errors
/// [`Error::NonFinite`] for NaN or infinity.
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::preprocessing::{Norm, normalize};
///
/// let y = normalize(array![[1.0, -2.0]].view(), Norm::Max)?;
/// assert_eq!(y, array![[0.5, -1.0]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn normalize<F: Float>(x: ArrayView2<'_, F>, norm: Norm) -> Result<Array2<F>> {
    Normalizer { norm, n_features_in: None, _f: std::marker::PhantomData }.transform(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn norms_hand_checked() {
        let x = array![[1.0f32, -2.0, 2.0]];
        assert_eq!(normalize(x.view(), Norm::L2).unwrap(), array![[1.0f32 / 3.0, -2.0 / 3.0, 2.0 / 3.0]]);
        assert_eq!(normalize(x.view(), Norm::L1).unwrap(), array![[0.2f32, -0.4, 0.4]]);
        assert_eq!(normalize(x.view(), Norm::Max).unwrap(), array![[0.5f32, -1.0, 1.0]]);
    }

    #[test]
    fn nan_rejected_and_columns_checked() {
        let mut n = Normalizer::<f64>::new();
        assert!(matches!(n.fit(array![[f64::NAN]].view()), Err(Error::NonFinite { .. })));
        n.fit(array![[1.0, 2.0]].view()).unwrap();
        assert!(matches!(n.transform(array![[1.0]].view()), Err(Error::ShapeMismatch { .. })));
    }
}
