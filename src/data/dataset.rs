//! [`Dataset`]: features and targets with samples along axis 0.

use ndarray::{Array, ArrayD, ArrayView1, ArrayView2, Axis, Dimension, Ix1, Ix2};

use crate::error::{Error, Result};
use crate::tensor::Float;

/// The element type of a [`Dataset`]'s targets: `usize` class indices
/// (classification) or a float (`f32`, `f64`: regression).
///
/// The trait tells the splits whether targets are class labels (only those can be
/// stratified) and how [`Dataset::cast`] converts them: class indices stay `usize`,
/// float targets follow the features to the new float type. It is sealed: convert
/// other label types to `usize` class indices first.
///
/// # Example
///
/// ```
/// use ndtrain::data::Target;
///
/// assert_eq!(3usize.class_index(), Some(3));
/// assert_eq!(2.5f64.class_index(), None);
/// let y: f32 = 2.5f64.cast_to::<f32>();
/// assert_eq!(y, 2.5f32);
/// ```
pub trait Target: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The target type after [`Dataset::cast::<G>`](Dataset::cast): `usize` for class
    /// indices, `G` for float targets.
    type Cast<G: Float>: Copy + Send + Sync + 'static;

    /// Converts one target to [`Self::Cast<G>`](Target::Cast).
    ///
    /// ```
    /// use ndtrain::data::Target;
    ///
    /// assert_eq!(0.1f64.cast_to::<f32>(), 0.1f32);
    /// assert_eq!(4usize.cast_to::<f32>(), 4usize);
    /// ```
    fn cast_to<G: Float>(self) -> Self::Cast<G>;

    /// The class index if targets are class labels, `None` for real-valued targets.
    ///
    /// ```
    /// use ndtrain::data::Target;
    ///
    /// assert_eq!(2usize.class_index(), Some(2));
    /// assert_eq!(2.0f32.class_index(), None);
    /// ```
    fn class_index(self) -> Option<usize>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Target for usize {
    type Cast<G: Float> = usize;

    #[inline]
    fn cast_to<G: Float>(self) -> usize {
        self
    }

    #[inline]
    fn class_index(self) -> Option<usize> {
        Some(self)
    }
}

macro_rules! float_target {
    ($t:ty) => {
        impl Target for $t {
            type Cast<G: Float> = G;

            #[inline]
            fn cast_to<G: Float>(self) -> G {
                G::lit(f64::from(self))
            }

            #[inline]
            fn class_index(self) -> Option<usize> {
                None
            }
        }
    };
}
float_target!(f32);
float_target!(f64);

/// Features and targets of `N` samples, samples along axis 0.
///
/// * `x`: features, an array of any dimension `[N, ...]` (a table `[N, n_features]`,
///   images `[N, C, H, W]`, ...), element type `F` (usually `f32` or `f64`).
/// * `y`: targets `[N]` or `[N, k]` (any dimension with `N` rows is accepted),
///   element type `Y`: `usize` class indices for classification, a float for
///   regression (see [`Target`]).
///
/// A `Dataset` always holds at least one sample, and `x` and `y` always have the same
/// number of rows: [`Dataset::new`] checks this once, so code that receives a
/// `Dataset` need not.
///
/// # Errors
///
/// [`Dataset::new`] returns [`Error::LengthMismatch`] when `x` and `y` have different
/// numbers of rows, [`Error::EmptyInput`] when there are no samples (or `x` has no
/// features), and [`Error::InvalidInput`] for a 0-d array.
///
/// # Example
///
/// ```
/// use ndarray::{array, Array2};
/// use ndtrain::data::Dataset;
///
/// let x: Array2<f64> = array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]];
/// let y = array![0usize, 1, 1];
/// let ds = Dataset::new(x, y)?;
/// assert_eq!(ds.len(), 3);
/// assert_eq!(ds.n_features(), 2);
/// assert_eq!(ds.num_classes(), 2);
///
/// // Rows must agree:
/// let err = Dataset::new(array![[1.0f64], [2.0]], array![0usize]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Dataset::new: length mismatch, rows of y (must equal rows of x) expected 2, got 1"
/// );
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F, Y> {
    x: ArrayD<F>,
    y: ArrayD<Y>,
}

impl<F, Y> Dataset<F, Y> {
    /// A dataset from features `x` (`[N, ...]`) and targets `y` (`[N]` or `[N, k]`),
    /// arrays of any dimension (`Array2`, `Array1`, `ArrayD`, ...).
    ///
    /// # Errors
    ///
    /// * [`Error::InvalidInput`] if `x` or `y` is 0-dimensional (no sample axis).
    /// * [`Error::LengthMismatch`] if `y.shape()[0] != x.shape()[0]`; the message names
    ///   both counts.
    /// * [`Error::EmptyInput`] if `N == 0`, or if a sample of `x` or `y` has no
    ///   elements (e.g. `x` of shape `[N, 0]`).
    ///
    /// # Example
    ///
    /// ```
    /// use ndarray::{Array1, Array4};
    /// use ndtrain::data::Dataset;
    ///
    /// // 10 single-channel 8x8 images with a regression target each.
    /// let ds = Dataset::new(Array4::<f32>::zeros((10, 1, 8, 8)), Array1::<f32>::ones(10))?;
    /// assert_eq!(ds.sample_shape(), &[1, 8, 8]);
    /// assert_eq!(ds.n_features(), 64);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn new<D1: Dimension, D2: Dimension>(x: Array<F, D1>, y: Array<Y, D2>) -> Result<Self> {
        const OP: &str = "Dataset::new";
        if x.ndim() == 0 {
            return Err(Error::invalid_input(
                OP,
                "x is 0-dimensional, expected samples along axis 0 ([N, ...])",
            ));
        }
        if y.ndim() == 0 {
            return Err(Error::invalid_input(
                OP,
                "y is 0-dimensional, expected samples along axis 0 ([N] or [N, k])",
            ));
        }
        let (nx, ny) = (x.shape()[0], y.shape()[0]);
        if nx != ny {
            return Err(Error::LengthMismatch {
                op: OP,
                what: "rows of y (must equal rows of x)",
                expected: nx,
                got: ny,
            });
        }
        if nx == 0 {
            return Err(Error::EmptyInput { op: OP, what: "x and y have no samples (N = 0)" });
        }
        if x.shape()[1..].contains(&0) {
            return Err(Error::EmptyInput { op: OP, what: "x has no features (a sample has 0 elements)" });
        }
        if y.shape()[1..].contains(&0) {
            return Err(Error::EmptyInput { op: OP, what: "y has no targets (a sample has 0 elements)" });
        }
        Ok(Dataset { x: x.into_dyn(), y: y.into_dyn() })
    }

    /// The features, shape `[N, ...]`.
    ///
    /// # Example
    ///
    /// ```
    /// let ds = ndtrain::datasets::iris();
    /// assert_eq!(ds.x().shape(), &[150, 4]);
    /// ```
    pub fn x(&self) -> &ArrayD<F> {
        &self.x
    }

    /// The targets, shape `[N]` or `[N, k]`.
    ///
    /// # Example
    ///
    /// ```
    /// let ds = ndtrain::datasets::iris();
    /// assert_eq!(ds.y().shape(), &[150]);
    /// assert_eq!(ds.y()[0], 0);
    /// ```
    pub fn y(&self) -> &ArrayD<Y> {
        &self.y
    }

    /// The features as a 2-D view `[N, n_features]`, the shape preprocessors and
    /// linear models take.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if `x` is not 2-D (reshape it with
    /// `ds.x().to_shape((ds.len(), ds.n_features()))` first).
    ///
    /// # Example
    ///
    /// ```
    /// let ds = ndtrain::datasets::wine();
    /// let x = ds.x_2d()?;
    /// assert_eq!(x.dim(), (178, 13));
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn x_2d(&self) -> Result<ArrayView2<'_, F>> {
        self.x.view().into_dimensionality::<Ix2>().map_err(|_| {
            Error::invalid_input(
                "Dataset::x_2d",
                format!("x has shape {:?}, expected 2-D [N, n_features]", self.x.shape()),
            )
        })
    }

    /// The targets as a 1-D view `[N]`, the shape metrics and classification losses
    /// take.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if `y` is not 1-D.
    ///
    /// # Example
    ///
    /// ```
    /// let ds = ndtrain::datasets::diabetes();
    /// let y = ds.y_1d()?;
    /// assert_eq!(y.len(), 442);
    /// assert_eq!(y[0], 151.0);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn y_1d(&self) -> Result<ArrayView1<'_, Y>> {
        self.y.view().into_dimensionality::<Ix1>().map_err(|_| {
            Error::invalid_input(
                "Dataset::y_1d",
                format!("y has shape {:?}, expected 1-D [N]", self.y.shape()),
            )
        })
    }

    /// Number of samples `N` (never 0).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(ndtrain::datasets::digits().len(), 1797);
    /// ```
    #[doc(alias = "n_samples")]
    pub fn len(&self) -> usize {
        self.x.shape()[0]
    }

    /// Always `false`: a `Dataset` holds at least one sample. Provided for API
    /// symmetry with collections.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!ndtrain::datasets::iris().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape of one sample of `x` (the shape of `x` without axis 0): `[n_features]`
    /// for a table, `[C, H, W]` for images.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(ndtrain::datasets::digits().sample_shape(), &[64]);
    /// ```
    pub fn sample_shape(&self) -> &[usize] {
        &self.x.shape()[1..]
    }

    /// Number of feature values per sample: the product of [`sample_shape`](Self::sample_shape)
    /// (1 when `x` is 1-D).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(ndtrain::datasets::breast_cancer().n_features(), 30);
    /// ```
    #[doc(alias = "n_features_in_")]
    pub fn n_features(&self) -> usize {
        self.sample_shape().iter().product()
    }

    /// Consumes the dataset, returning `(x, y)`.
    ///
    /// # Example
    ///
    /// ```
    /// let (x, y) = ndtrain::datasets::iris().into_parts();
    /// assert_eq!((x.shape(), y.shape()), (&[150, 4][..], &[150][..]));
    /// ```
    pub fn into_parts(self) -> (ArrayD<F>, ArrayD<Y>) {
        (self.x, self.y)
    }
}

impl<F: Clone, Y: Clone> Dataset<F, Y> {
    /// A new dataset holding the samples at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`] if `indices` is empty; [`Error::InvalidInput`] if an index
    /// is `>= len()`.
    ///
    /// # Example
    ///
    /// ```
    /// let ds = ndtrain::datasets::iris();
    /// let sub = ds.select(&[149, 0])?;
    /// assert_eq!(sub.len(), 2);
    /// assert_eq!(sub.y().as_slice().unwrap(), &[2, 0]);
    /// assert!(ds.select(&[150]).is_err());
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        const OP: &str = "Dataset::select";
        if indices.is_empty() {
            return Err(Error::EmptyInput {
                op: OP,
                what: "no indices given (a Dataset needs at least one sample)",
            });
        }
        check_rows(OP, indices, self.len())?;
        Ok(Dataset { x: self.x.select(Axis(0), indices), y: self.y.select(Axis(0), indices) })
    }
}

impl<F: Float, Y: Target> Dataset<F, Y> {
    /// The same data with features converted to float type `G` (rounded to nearest
    /// for `f64 -> f32`). Float targets are converted too; class indices stay `usize`.
    ///
    /// # Example
    ///
    /// ```
    /// use ndtrain::data::Dataset;
    ///
    /// let ds: Dataset<f32, usize> = ndtrain::datasets::iris().cast::<f32>();
    /// assert_eq!(ds.x()[[0, 0]], 5.1f32);
    /// let reg: Dataset<f32, f32> = ndtrain::datasets::diabetes().cast::<f32>();
    /// assert_eq!(reg.y()[0], 151.0f32);
    /// ```
    pub fn cast<G: Float>(&self) -> Dataset<G, Y::Cast<G>> {
        Dataset { x: self.x.mapv(|v| G::lit(v.as_f64())), y: self.y.mapv(|t| t.cast_to::<G>()) }
    }
}

impl<F> Dataset<F, usize> {
    /// Number of classes: the largest class index plus one (a class below the maximum
    /// that never occurs still counts, as with PyTorch's `one_hot` `num_classes=-1`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(ndtrain::datasets::digits().num_classes(), 10);
    /// ```
    #[doc(alias = "n_classes")]
    pub fn num_classes(&self) -> usize {
        // `y` holds at least one element (checked in `new`), so the max exists.
        self.y.iter().copied().max().map_or(0, |m| m.saturating_add(1))
    }

    /// Number of samples of each class `0..num_classes()` (sklearn's
    /// `np.bincount(y)`), counted over every element of `y`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(ndtrain::datasets::iris().class_counts(), vec![50, 50, 50]);
    /// ```
    #[doc(alias = "bincount")]
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &c in self.y.iter() {
            counts[c] += 1;
        }
        counts
    }
}

impl<F, Y, D1: Dimension, D2: Dimension> TryFrom<(Array<F, D1>, Array<Y, D2>)> for Dataset<F, Y> {
    type Error = Error;

    /// Same as [`Dataset::new`].
    ///
    /// ```
    /// use ndarray::array;
    /// use ndtrain::data::Dataset;
    ///
    /// let ds = Dataset::try_from((array![[1.0f64], [2.0]], array![0.5f64, 1.5]))?;
    /// assert_eq!(ds.len(), 2);
    /// # Ok::<(), ndtrain::Error>(())
    /// ```
    fn try_from((x, y): (Array<F, D1>, Array<Y, D2>)) -> Result<Self> {
        Dataset::new(x, y)
    }
}

/// `Err(InvalidInput)` naming the first index `>= n_rows`.
pub(crate) fn check_rows(op: &'static str, rows: &[usize], n_rows: usize) -> Result<()> {
    match rows.iter().position(|&r| r >= n_rows) {
        None => Ok(()),
        Some(pos) => Err(Error::invalid_input(
            op,
            format!("row index {} (at position {pos}) is out of range for {n_rows} rows", rows[pos]),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, Array3, array};

    #[test]
    fn row_mismatch_names_both_counts() {
        let err = Dataset::new(Array2::<f64>::zeros((4, 2)), Array1::<usize>::zeros(3)).unwrap_err();
        assert_eq!(
            err,
            Error::LengthMismatch {
                op: "Dataset::new",
                what: "rows of y (must equal rows of x)",
                expected: 4,
                got: 3
            }
        );
        let msg = err.to_string();
        assert!(msg.contains('4') && msg.contains('3'), "{msg}");
    }

    #[test]
    fn empty_inputs_rejected() {
        let e = Dataset::new(Array2::<f64>::zeros((0, 2)), Array1::<usize>::zeros(0)).unwrap_err();
        assert!(matches!(e, Error::EmptyInput { op: "Dataset::new", .. }), "{e:?}");
        let e = Dataset::new(Array2::<f64>::zeros((3, 0)), Array1::<usize>::zeros(3)).unwrap_err();
        assert!(matches!(e, Error::EmptyInput { .. }), "{e:?}");
        let e = Dataset::new(Array2::<f64>::zeros((3, 1)), Array2::<f64>::zeros((3, 0))).unwrap_err();
        assert!(matches!(e, Error::EmptyInput { .. }), "{e:?}");
        let e = Dataset::new(ndarray::arr0(1.0f64), Array1::<usize>::zeros(1)).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        let e = Dataset::new(Array1::<f64>::zeros(1), ndarray::arr0(1usize)).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    }

    #[test]
    fn accessors_on_nd_features() {
        let x = Array3::<f32>::from_shape_fn((5, 2, 3), |(i, j, k)| (i * 100 + j * 10 + k) as f32);
        let y = array![[0.5f32, 1.0], [1.5, 2.0], [2.5, 3.0], [3.5, 4.0], [4.5, 5.0]];
        let ds = Dataset::new(x, y).unwrap();
        assert_eq!(ds.len(), 5);
        assert!(!ds.is_empty());
        assert_eq!(ds.sample_shape(), &[2, 3]);
        assert_eq!(ds.n_features(), 6);
        assert!(ds.x_2d().is_err());
        assert!(ds.y_1d().is_err());
        let sub = ds.select(&[4, 1, 4]).unwrap();
        assert_eq!(sub.x().shape(), &[3, 2, 3]);
        assert_eq!(sub.x()[[0, 1, 2]], 412.0);
        assert_eq!(sub.x()[[1, 0, 1]], 101.0);
        assert_eq!(sub.y()[[2, 1]], 5.0);
        let (x, y) = sub.into_parts();
        assert_eq!((x.shape()[0], y.shape()[0]), (3, 3));
    }

    #[test]
    fn one_dimensional_x_has_one_feature() {
        let ds = Dataset::new(array![1.0f64, 2.0, 3.0], array![2.0f64, 4.0, 6.0]).unwrap();
        assert_eq!(ds.sample_shape(), &[] as &[usize]);
        assert_eq!(ds.n_features(), 1);
    }

    #[test]
    fn select_errors() {
        let ds = Dataset::new(array![[1.0f64], [2.0]], array![0usize, 1]).unwrap();
        let e = ds.select(&[0, 2]).unwrap_err();
        assert_eq!(e.to_string(), "Dataset::select: row index 2 (at position 1) is out of range for 2 rows");
        assert!(matches!(ds.select(&[]), Err(Error::EmptyInput { .. })));
    }

    #[test]
    fn classes_and_cast() {
        let ds =
            Dataset::new(array![[1.0f64, 0.1], [2.0, 0.2], [3.0, 0.3], [4.0, 0.4]], array![3usize, 0, 3, 1])
                .unwrap();
        assert_eq!(ds.num_classes(), 4);
        assert_eq!(ds.class_counts(), vec![1, 1, 0, 2]);
        let c: Dataset<f32, usize> = ds.cast::<f32>();
        assert_eq!(c.x()[[2, 1]], 0.3f32);
        assert_eq!(c.y(), ds.y());
        let back: Dataset<f64, usize> = c.cast::<f64>();
        assert_eq!(back.x()[[2, 1]], f64::from(0.3f32));

        let reg = Dataset::new(array![[1.0f32], [2.0]], array![0.1f32, 0.2]).unwrap();
        let r64: Dataset<f64, f64> = reg.cast::<f64>();
        assert_eq!(r64.y()[1], f64::from(0.2f32));
    }

    #[test]
    fn try_from_tuple() {
        let ds: Dataset<f64, usize> = (array![[1.0], [2.0]], array![1usize, 0]).try_into().unwrap();
        assert_eq!(ds.num_classes(), 2);
        let bad: Result<Dataset<f64, usize>> = (array![[1.0], [2.0]], array![1usize]).try_into();
        assert!(matches!(bad, Err(Error::LengthMismatch { expected: 2, got: 1, .. })));
    }

    #[test]
    fn public_types_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Dataset<f32, usize>>();
        check::<Dataset<f64, f64>>();
    }
}
