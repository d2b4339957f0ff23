//! Real datasets embedded in the crate: [`iris`], [`wine`], [`breast_cancer`],
//! [`digits`] (classification) and [`diabetes`], [`diabetes_raw`] (regression).
//!
//! Each function returns a ready [`Dataset<f64, _>`](Dataset); its `load_*` twin
//! returns a [`LoadedDataset`] that adds the feature names, class names, origin and
//! licence (scikit-learn's `load_*` "Bunch"). The values are scikit-learn's bundled
//! copies (scikit-learn 1.9.1), exported to CSV in shortest round-trip form and parsed
//! exactly, so `x` and `y` equal sklearn's arrays bit for bit. The CSVs ship in the
//! crate's `data/` directory with a README giving their checksums.
//!
//! | function          | task           | samples | features | classes / target                         |
//! |-------------------|----------------|---------|----------|------------------------------------------|
//! | [`iris`]          | classification | 150     | 4        | 3: setosa 50, versicolor 50, virginica 50 |
//! | [`wine`]          | classification | 178     | 13       | 3: 59, 71, 48                            |
//! | [`breast_cancer`] | classification | 569     | 30       | 2: malignant 212, benign 357             |
//! | [`digits`]        | classification | 1797    | 64 (8x8) | 10: 178 to 183 each                      |
//! | [`diabetes`]      | regression     | 442     | 10       | disease progression, 25 to 346           |
//! | [`diabetes_raw`]  | regression     | 442     | 10       | same, features unscaled                  |
//!
//! # Origin and licence
//!
//! As stated in each dataset's `DESCR` text in scikit-learn, and by the UCI Machine
//! Learning Repository, which publishes its datasets under the Creative Commons
//! Attribution 4.0 licence (CC BY 4.0): cite the dataset and its creators when you use
//! or redistribute it.
//!
//! * **iris**: Fisher's Iris data. Creator R.A. Fisher; donor Michael Marshall, July
//!   1988. The values of Fisher's paper (as in R; the UCI copy has two wrong data
//!   points, which scikit-learn corrects). UCI ML Repository: Iris. Licence: CC BY 4.0.
//! * **wine**: UCI ML Wine recognition data (a copy of UCI `wine.data`). Original
//!   owners: Forina, M. et al., PARVUS, Institute of Pharmaceutical and Food Analysis
//!   and Technologies, Genoa, Italy. Citation: Lichman, M. (2013), UCI Machine Learning
//!   Repository. Licence: CC BY 4.0.
//! * **breast_cancer**: UCI ML Breast Cancer Wisconsin (Diagnostic). Creators: Dr.
//!   William H. Wolberg, W. Nick Street, Olvi L. Mangasarian; donor Nick Street,
//!   November 1995. Features computed from digitized images of fine needle aspirates of
//!   breast masses; target 0 = malignant, 1 = benign. Licence: CC BY 4.0.
//! * **digits**: the test set of the UCI ML Optical Recognition of Handwritten Digits
//!   data: 8x8 images, integer pixels 0..=16, preprocessed from NIST bitmaps. Creator:
//!   E. Alpaydin, July 1998. Licence: CC BY 4.0.
//! * **diabetes**: the diabetes data of Efron, Hastie, Johnstone and Tibshirani (2004),
//!   "Least Angle Regression", Annals of Statistics 32(2), 407–499 (source: B. Boos's
//!   NCSU page). 442 patients, 10 baseline variables (age, sex, bmi, bp, s1..s6);
//!   target: disease progression one year after baseline. [`diabetes`] is
//!   scikit-learn's default `load_diabetes()`: each feature mean-centred and scaled to
//!   a sum of squares of 1; [`diabetes_raw`] is `load_diabetes(scaled=False)`.
//!   Licence: none stated (not a UCI dataset); research data from the cited paper.
//!
//! # Example
//!
//! ```
//! let ds = ndtrain::datasets::digits();
//! assert_eq!(ds.x().shape(), &[1797, 64]);
//! assert_eq!(ds.num_classes(), 10);
//!
//! // As 8x8 images (samples stay on axis 0):
//! let images = ds.x().to_shape((1797, 8, 8)).unwrap();
//! assert_eq!(images[[0, 0, 2]], 5.0);
//! ```

use ndarray::{Array1, Array2};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};

const IRIS_CSV: &str = include_str!("../../data/iris.csv");
const WINE_CSV: &str = include_str!("../../data/wine.csv");
const BREAST_CANCER_CSV: &str = include_str!("../../data/breast_cancer.csv");
const DIGITS_CSV: &str = include_str!("../../data/digits.csv");
const DIABETES_CSV: &str = include_str!("../../data/diabetes.csv");
const DIABETES_RAW_CSV: &str = include_str!("../../data/diabetes_raw.csv");
const ALICE_TXT: &str = include_str!("../../data/alice29.txt");

/// The text of Lewis Carroll's *Alice's Adventures in Wonderland* (1865): 152,089 ASCII
/// characters, for sequence models (the character-level language model
/// example).
///
/// Origin: the Project Gutenberg "Millennium Fulcrum Edition 2.9" etext as included in
/// the Canterbury Corpus (`alice29.txt`, verbatim, without Project Gutenberg's header).
/// Licence: public domain (published 1865; the author died in 1898). See `data/README.md`.
///
/// # Example
///
/// ```
/// use ndtrain::data::text::CharVocab;
///
/// let text = ndtrain::datasets::alice();
/// assert_eq!(text.len(), 152_089);
/// assert!(text.contains("Down the Rabbit-Hole"));
/// assert!(CharVocab::from_text(text).len() < 100);
/// ```
pub fn alice() -> &'static str {
    ALICE_TXT
}

const UCI_LICENSE: &str = "CC BY 4.0 (UCI Machine Learning Repository); cite the dataset and its creators";
const DIABETES_LICENSE: &str =
    "none stated (not a UCI dataset); research data from Efron et al. (2004), cite the paper";

/// An embedded dataset with its metadata: scikit-learn's `load_*` "Bunch".
///
/// # Example
///
/// ```
/// use ndtrain::datasets::load_iris;
///
/// let iris = load_iris();
/// assert_eq!(iris.feature_names[2], "petal length (cm)");
/// assert_eq!(iris.target_names, vec!["setosa", "versicolor", "virginica"]);
/// assert_eq!(iris.data.len(), 150);
/// ```
#[doc(alias = "Bunch")]
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedDataset<Y> {
    /// Short name, e.g. `"iris"`.
    pub name: &'static str,
    /// Features `[N, n_features]` (f64) and targets `[N]`.
    pub data: Dataset<f64, Y>,
    /// Column names of `x`, as scikit-learn's `feature_names`.
    pub feature_names: Vec<&'static str>,
    /// Class names indexed by class (scikit-learn's `target_names`); empty for
    /// regression targets.
    pub target_names: Vec<&'static str>,
    /// Where the data comes from and whom to cite.
    pub origin: &'static str,
    /// The licence the data is published under.
    pub license: &'static str,
}

/// Fisher's Iris data: 150 flowers, 4 measurements (cm), 3 species (50 each).
///
/// Classes: 0 setosa, 1 versicolor, 2 virginica. See [`load_iris`] for names and the
/// [module docs](self) for origin and licence (CC BY 4.0).
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::iris();
/// assert_eq!(ds.x().shape(), &[150, 4]);
/// assert_eq!(ds.class_counts(), vec![50, 50, 50]);
/// ```
pub fn iris() -> Dataset<f64, usize> {
    load_iris().data
}

/// [`iris`] with its feature names, class names, origin and licence.
///
/// # Example
///
/// ```
/// let iris = ndtrain::datasets::load_iris();
/// assert_eq!(iris.feature_names.len(), 4);
/// assert_eq!(iris.target_names[0], "setosa");
/// ```
pub fn load_iris() -> LoadedDataset<usize> {
    classification(
        "iris",
        IRIS_CSV,
        &["setosa", "versicolor", "virginica"],
        "Fisher's Iris data; creator R.A. Fisher, donor Michael Marshall (July 1988); UCI ML Repository: Iris \
         (values of Fisher's paper, as corrected in scikit-learn)",
        UCI_LICENSE,
    )
}

/// UCI Wine recognition data: 178 wines, 13 chemical measurements, 3 cultivars
/// (59, 71, 48 samples).
///
/// Classes: `class_0`, `class_1`, `class_2`. See [`load_wine`] for names and the
/// [module docs](self) for origin and licence (CC BY 4.0).
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::wine();
/// assert_eq!(ds.x().shape(), &[178, 13]);
/// assert_eq!(ds.class_counts(), vec![59, 71, 48]);
/// ```
pub fn wine() -> Dataset<f64, usize> {
    load_wine().data
}

/// [`wine`] with its feature names, class names, origin and licence.
///
/// # Example
///
/// ```
/// let wine = ndtrain::datasets::load_wine();
/// assert_eq!(wine.feature_names[0], "alcohol");
/// assert_eq!(wine.target_names, vec!["class_0", "class_1", "class_2"]);
/// ```
pub fn load_wine() -> LoadedDataset<usize> {
    classification(
        "wine",
        WINE_CSV,
        &["class_0", "class_1", "class_2"],
        "UCI ML Wine recognition data; original owners Forina, M. et al., PARVUS, Institute of Pharmaceutical and \
         Food Analysis and Technologies, Genoa, Italy; Lichman, M. (2013) UCI Machine Learning Repository",
        UCI_LICENSE,
    )
}

/// Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features of cell nuclei,
/// 2 classes (0 malignant: 212, 1 benign: 357).
///
/// See [`load_breast_cancer`] for names and the [module docs](self) for origin and
/// licence (CC BY 4.0).
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::breast_cancer();
/// assert_eq!(ds.x().shape(), &[569, 30]);
/// assert_eq!(ds.class_counts(), vec![212, 357]);
/// ```
pub fn breast_cancer() -> Dataset<f64, usize> {
    load_breast_cancer().data
}

/// [`breast_cancer`] with its feature names, class names, origin and licence.
///
/// # Example
///
/// ```
/// let bc = ndtrain::datasets::load_breast_cancer();
/// assert_eq!(bc.feature_names[0], "mean radius");
/// assert_eq!(bc.target_names, vec!["malignant", "benign"]);
/// ```
pub fn load_breast_cancer() -> LoadedDataset<usize> {
    classification(
        "breast_cancer",
        BREAST_CANCER_CSV,
        &["malignant", "benign"],
        "UCI ML Breast Cancer Wisconsin (Diagnostic); creators Dr. William H. Wolberg, W. Nick Street, \
         Olvi L. Mangasarian; donor Nick Street (November 1995)",
        UCI_LICENSE,
    )
}

/// Optical Recognition of Handwritten Digits (UCI test set): 1797 images of 8x8
/// integer pixels (0..=16), flattened row by row to 64 features, 10 classes (digits
/// 0..9).
///
/// Feature `8 * r + c` is pixel `(r, c)` (named `pixel_r_c`); reshape `x` to
/// `[N, 8, 8]` or `[N, 1, 8, 8]` for image models. See [`load_digits`] and the
/// [module docs](self) for origin and licence (CC BY 4.0).
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::digits();
/// assert_eq!(ds.x().shape(), &[1797, 64]);
/// assert_eq!(ds.class_counts(), vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
/// ```
pub fn digits() -> Dataset<f64, usize> {
    load_digits().data
}

/// [`digits`] with its feature names (`pixel_0_0` .. `pixel_7_7`), class names
/// (`"0"` .. `"9"`), origin and licence.
///
/// # Example
///
/// ```
/// let d = ndtrain::datasets::load_digits();
/// assert_eq!(d.feature_names[9], "pixel_1_1");
/// assert_eq!(d.target_names[7], "7");
/// ```
pub fn load_digits() -> LoadedDataset<usize> {
    classification(
        "digits",
        DIGITS_CSV,
        &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        "Test set of the UCI ML Optical Recognition of Handwritten Digits data; creator E. Alpaydin (July 1998)",
        UCI_LICENSE,
    )
}

/// Diabetes data (Efron et al. 2004): 442 patients, 10 baseline variables, target =
/// disease progression one year later (25 to 346, mean 152.13).
///
/// Features as scikit-learn's default `load_diabetes()`: each column mean-centred and
/// scaled so that its sum of squares is 1 (use [`diabetes_raw`] for the original
/// units). See [`load_diabetes`] and the [module docs](self) for origin and licence.
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::diabetes();
/// assert_eq!(ds.x().shape(), &[442, 10]);
/// let y = ds.y_1d()?;
/// assert_eq!(y.iter().cloned().fold(f64::INFINITY, f64::min), 25.0);
/// # Ok::<(), ndtrain::Error>(())
/// ```
pub fn diabetes() -> Dataset<f64, f64> {
    load_diabetes().data
}

/// [`diabetes`] with its feature names (`age`, `sex`, `bmi`, `bp`, `s1`..`s6`), origin
/// and licence. `target_names` is empty (regression).
///
/// # Example
///
/// ```
/// let d = ndtrain::datasets::load_diabetes();
/// assert_eq!(d.feature_names, vec!["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]);
/// assert!(d.target_names.is_empty());
/// ```
pub fn load_diabetes() -> LoadedDataset<f64> {
    regression(
        "diabetes",
        DIABETES_CSV,
        "Efron, Hastie, Johnstone and Tibshirani (2004), Least Angle Regression, Annals of Statistics 32(2), \
         407-499; features mean-centred and scaled to unit sum of squares (scikit-learn's load_diabetes())",
    )
}

/// The diabetes data with unscaled features: age in years, sex coded 1/2, bmi, blood
/// pressure, six blood serum measurements (`load_diabetes(scaled=False)`). Same
/// target as [`diabetes`].
///
/// # Example
///
/// ```
/// let ds = ndtrain::datasets::diabetes_raw();
/// assert_eq!(ds.x()[[0, 0]], 59.0); // age of the first patient
/// ```
pub fn diabetes_raw() -> Dataset<f64, f64> {
    load_diabetes_raw().data
}

/// [`diabetes_raw`] with its feature names, origin and licence.
///
/// # Example
///
/// ```
/// let d = ndtrain::datasets::load_diabetes_raw();
/// assert_eq!(d.name, "diabetes_raw");
/// assert_eq!(d.feature_names[2], "bmi");
/// ```
pub fn load_diabetes_raw() -> LoadedDataset<f64> {
    regression(
        "diabetes_raw",
        DIABETES_RAW_CSV,
        "Efron, Hastie, Johnstone and Tibshirani (2004), Least Angle Regression, Annals of Statistics 32(2), \
         407-499; original units (scikit-learn's load_diabetes(scaled=False))",
    )
}

fn classification(
    name: &'static str,
    text: &'static str,
    target_names: &[&'static str],
    origin: &'static str,
    license: &'static str,
) -> LoadedDataset<usize> {
    let (feature_names, data) = parse_csv("ndtrain::datasets", text, |s| s.parse::<usize>().ok())
        .unwrap_or_else(|e| panic!("embedded {name}.csv is valid (checked by the unit tests): {e}"));
    LoadedDataset { name, data, feature_names, target_names: target_names.to_vec(), origin, license }
}

fn regression(name: &'static str, text: &'static str, origin: &'static str) -> LoadedDataset<f64> {
    let (feature_names, data) = parse_csv("ndtrain::datasets", text, |s| s.parse::<f64>().ok())
        .unwrap_or_else(|e| panic!("embedded {name}.csv is valid (checked by the unit tests): {e}"));
    LoadedDataset { name, data, feature_names, target_names: Vec::new(), origin, license: DIABETES_LICENSE }
}

/// Parses a numeric CSV: a header row of feature names ending in `target`, then one
/// row per sample, comma-separated, no quoting. Features parse as `f64` (correctly
/// rounded, so shortest round-trip text gives the exact value), the last column with
/// `parse_target`. Blank lines and a trailing `\r` are ignored.
fn parse_csv<'a, Y>(
    op: &'static str,
    text: &'a str,
    parse_target: impl Fn(&str) -> Option<Y>,
) -> Result<(Vec<&'a str>, Dataset<f64, Y>)> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let mut header: Vec<&str> = match lines.next() {
        Some((_, h)) if !h.trim().is_empty() => h.split(',').collect(),
        _ => return Err(Error::Parse { op, line: 1, message: "missing header row".into() }),
    };
    let n_cols = header.len();
    if n_cols < 2 || header[n_cols - 1] != "target" {
        return Err(Error::Parse {
            op,
            line: 1,
            message: format!("expected feature columns then a last column named \"target\", got {header:?}"),
        });
    }
    let n_features = n_cols - 1;
    let mut x = Vec::with_capacity(text.len() / 8);
    let mut y = Vec::new();
    for (line, row) in lines {
        if row.trim().is_empty() {
            continue;
        }
        let mut fields = 0;
        for (j, field) in row.split(',').enumerate() {
            fields += 1;
            if j < n_features {
                let v = field.trim().parse::<f64>().map_err(|_| Error::Parse {
                    op,
                    line,
                    message: format!("column {:?}: cannot parse {field:?} as a number", header[j]),
                })?;
                x.push(v);
            } else if j == n_features {
                let t = parse_target(field.trim()).ok_or_else(|| Error::Parse {
                    op,
                    line,
                    message: format!("cannot parse target {field:?}"),
                })?;
                y.push(t);
            }
        }
        if fields != n_cols {
            return Err(Error::Parse {
                op,
                line,
                message: format!("expected {n_cols} fields, got {fields}"),
            });
        }
    }
    let n = y.len();
    let x = Array2::from_shape_vec((n, n_features), x).map_err(|e| Error::Parse {
        op,
        line: 0,
        message: format!("internal shape error: {e}"),
    })?;
    let data = Dataset::new(x, Array1::from(y))?;
    header.truncate(n_features);
    Ok((header, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(ds: &Dataset<f64, usize>) -> Vec<usize> {
        ds.class_counts()
    }

    #[test]
    fn iris_shape_counts_and_values() {
        let d = load_iris();
        assert_eq!(d.data.x().shape(), &[150, 4]);
        assert_eq!(counts(&d.data), vec![50, 50, 50]);
        assert_eq!(
            d.feature_names,
            vec!["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
        );
        // First and last rows of iris.csv: "5.1,3.5,1.4,0.2,0" and "5.9,3.0,5.1,1.8,2".
        assert_eq!(d.data.x().row_slice(0), &[5.1, 3.5, 1.4, 0.2]);
        assert_eq!(d.data.x().row_slice(149), &[5.9, 3.0, 5.1, 1.8]);
        assert_eq!((d.data.y()[0], d.data.y()[149]), (0, 2));
    }

    #[test]
    fn wine_shape_counts_and_values() {
        let d = load_wine();
        assert_eq!(d.data.x().shape(), &[178, 13]);
        assert_eq!(counts(&d.data), vec![59, 71, 48]);
        assert_eq!(d.feature_names[11], "od280/od315_of_diluted_wines");
        // First row: 14.23,1.71,...,1065.0,0; last row: 14.13,...,560.0,2.
        assert_eq!(d.data.x()[[0, 0]], 14.23);
        assert_eq!(d.data.x()[[0, 12]], 1065.0);
        assert_eq!(d.data.x()[[177, 12]], 560.0);
        assert_eq!(d.data.y()[177], 2);
    }

    #[test]
    fn breast_cancer_shape_counts_and_values() {
        let d = load_breast_cancer();
        assert_eq!(d.data.x().shape(), &[569, 30]);
        assert_eq!(counts(&d.data), vec![212, 357]);
        assert_eq!(d.feature_names.len(), 30);
        assert_eq!(d.feature_names[29], "worst fractal dimension");
        // First row starts 17.99,10.38,122.8,1001.0 (malignant); last row 7.76,24.54,47.92 (benign).
        assert_eq!(&d.data.x().row_slice(0)[..4], &[17.99, 10.38, 122.8, 1001.0]);
        assert_eq!(&d.data.x().row_slice(568)[..3], &[7.76, 24.54, 47.92]);
        assert_eq!((d.data.y()[0], d.data.y()[568]), (0, 1));
    }

    #[test]
    fn digits_shape_counts_and_values() {
        let d = load_digits();
        assert_eq!(d.data.x().shape(), &[1797, 64]);
        assert_eq!(counts(&d.data), vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert_eq!(d.feature_names[0], "pixel_0_0");
        assert_eq!(d.feature_names[63], "pixel_7_7");
        // First image, first two pixel rows: 0,0,5,13,9,1,0,0 / 0,0,13,15,10,15,5,0.
        assert_eq!(
            &d.data.x().row_slice(0)[..16],
            &[0., 0., 5., 13., 9., 1., 0., 0., 0., 0., 13., 15., 10., 15., 5., 0.]
        );
        assert_eq!(d.data.y()[1796], 8);
        assert!(d.data.x().iter().all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
    }

    #[test]
    fn diabetes_shape_target_and_values() {
        for d in [load_diabetes(), load_diabetes_raw()] {
            assert_eq!(d.data.x().shape(), &[442, 10]);
            let y = d.data.y_1d().unwrap();
            assert_eq!(y.iter().cloned().fold(f64::INFINITY, f64::min), 25.0);
            assert_eq!(y.iter().cloned().fold(f64::NEG_INFINITY, f64::max), 346.0);
            // Sum of the target column is 67243 (exact in f64): mean 152.133484162896.
            assert_eq!(y.sum(), 67243.0);
            assert!((y.sum() / 442.0 - 152.13348416289594).abs() < 1e-12);
            assert_eq!((y[0], y[441]), (151.0, 57.0));
            assert!(d.target_names.is_empty());
        }
        let d = diabetes();
        // Exact shortest round-trip values from diabetes.csv.
        assert_eq!(d.x()[[0, 0]], 0.038075906433423026);
        assert_eq!(d.x()[[441, 0]], -0.045472477940023646);
        // Scaled columns: mean 0 and sum of squares 1.
        let x = d.x_2d().unwrap();
        for col in x.columns() {
            assert!(col.sum().abs() < 1e-12);
            assert!((col.dot(&col) - 1.0).abs() < 1e-9);
        }
        let r = diabetes_raw();
        assert_eq!(r.x().row_slice(0), &[59.0, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0]);
    }

    #[test]
    fn metadata() {
        for d in [load_iris(), load_wine(), load_breast_cancer(), load_digits()] {
            assert_eq!(d.feature_names.len(), d.data.n_features());
            assert_eq!(d.target_names.len(), d.data.num_classes(), "{}", d.name);
            assert!(d.license.contains("CC BY 4.0"));
            assert!(!d.origin.is_empty());
        }
        assert_eq!(load_diabetes().license, load_diabetes_raw().license);
    }

    #[test]
    fn parser_errors() {
        let p = |t: &'static str| parse_csv("test", t, |s| s.parse::<usize>().ok());
        assert!(matches!(p(""), Err(Error::Parse { line: 1, .. })));
        assert!(matches!(p("a,b\n1,2\n"), Err(Error::Parse { line: 1, .. })));
        assert!(matches!(p("target\n1\n"), Err(Error::Parse { line: 1, .. })));
        let e = p("a,target\n1.5,0\nx,1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "test: parse error at line 3: column \"a\": cannot parse \"x\" as a number"
        );
        let e = p("a,target\n1.5,0\n2.5\n").unwrap_err();
        assert_eq!(e.to_string(), "test: parse error at line 3: expected 2 fields, got 1");
        assert!(matches!(p("a,target\n1.5,0,7\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(p("a,target\n1.5,-1\n"), Err(Error::Parse { line: 2, .. })));
        assert!(matches!(p("a,target\n"), Err(Error::EmptyInput { .. })));
        let (names, ds) = p("a,b,target\r\n1,2.5,1\r\n\r\n3,4e-3,0\r\n").unwrap();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(ds.x().row_slice(1), &[3.0, 0.004]);
        assert_eq!(ds.y().as_slice().unwrap(), &[1, 0]);
    }

    trait RowSlice {
        fn row_slice(&self, i: usize) -> &[f64];
    }
    impl RowSlice for ndarray::ArrayD<f64> {
        fn row_slice(&self, i: usize) -> &[f64] {
            let w = self.shape()[1];
            &self.as_slice().unwrap()[i * w..(i + 1) * w]
        }
    }
}
