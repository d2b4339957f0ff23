//! [`PolynomialFeatures`]: products of features up to a degree.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2};

use super::Preprocessor;
use super::stats::{self, check_n_features, check_not_empty};
use crate::error::{Error, Result};
use crate::tensor::{Float, check_finite};

/// Generates polynomial and interaction features (scikit-learn's `PolynomialFeatures`).
///
/// # Math
///
/// For `n` input features and degrees `min_degree..=max_degree`, the output holds (in
/// this order, as scikit-learn):
///
/// ```text
/// 1                                   (include_bias)
/// then for d = max(1, min_degree) ..= max_degree, for every combination
/// i1 <= i2 <= ... <= id  (i1 < i2 < ... < id with interaction_only), in lexicographic
/// order (Python's combinations_with_replacement / combinations):
///     x_i1 · x_i2 · ... · x_id
/// ```
///
/// For `x = [a, b]` and degree 2: `[1, a, b, a², ab, b²]`. [`powers`](Self::powers)
/// gives each output column's exponents. A degree-`d` term is computed as
/// `x_i1 · term(i2..id)`, the same product order as scikit-learn's dense path.
///
/// | hyper-parameter | default | range |
/// |---|---|---|
/// | `degree` | `2` | integer `>= 0`, or `degree_range(min, max)` with `0 <= min <= max` |
/// | `interaction_only` | `false` | bool: no powers of a single feature |
/// | `include_bias` | `true` | bool: the leading column of ones |
///
/// NaN and infinity are errors (as scikit-learn).
///
/// # Errors
///
/// `build`: [`Error::InvalidParameter`] (`"degree"`) for `min > max`;
/// [`Error::InvalidConfig`] for maximum degree 0 without bias (empty output). `fit`:
/// [`Error::EmptyInput`], [`Error::NonFinite`], [`Error::InvalidInput`] when the number
/// of output features would overflow. `transform`: [`Error::NotFitted`],
/// [`Error::ShapeMismatch`], [`Error::NonFinite`].
///
/// Reference: scikit-learn `sklearn.preprocessing.PolynomialFeatures` (1.9).
///
/// # Example
///
/// ```
/// use ndarray::array;
/// use ndtrain::prelude::*;
/// use ndtrain::preprocessing::PolynomialFeatures;
///
/// let x = array![[2.0, 3.0]];
/// let mut poly = PolynomialFeatures::default();
/// assert_eq!(poly.fit_transform(x.view())?, array![[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]]);
/// assert_eq!(poly.powers()?.row(4), array![1, 1]);
///
/// let mut inter = PolynomialFeatures::builder().interaction_only(true).include_bias(false).build()?;
/// assert_eq!(inter.fit_transform(x.view())?, array![[2.0, 3.0, 6.0]]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PolynomialFeatures<F = f64> {
    min_degree: usize,
    max_degree: usize,
    interaction_only: bool,
    include_bias: bool,
    fitted: Option<Fitted>,
    #[cfg_attr(feature = "serde", serde(skip))]
    _f: std::marker::PhantomData<F>,
}

/// One term of the evaluation plan: a feature, or a feature times an earlier term.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Term {
    feature: usize,
    /// Index of the term this one multiplies (`None` for degree 1).
    rest: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Fitted {
    n_features_in: usize,
    powers: Array2<usize>,
    /// Every term of degree 1..=max_degree, each after the terms it needs.
    plan: Vec<Term>,
    /// Output columns after the bias: indices into `plan`.
    output: Vec<usize>,
}

/// Builder of a [`PolynomialFeatures`]; see its table of hyper-parameters.
#[derive(Clone, Debug)]
pub struct PolynomialFeaturesBuilder<F = f64> {
    degree: (usize, usize),
    interaction_only: bool,
    include_bias: bool,
    _f: std::marker::PhantomData<F>,
}

impl<F: Float> PolynomialFeaturesBuilder<F> {
    /// All terms of degree `0..=degree` (default 2).
    pub fn degree(mut self, degree: usize) -> Self {
        self.degree = (0, degree);
        self
    }

    /// Terms of degree `min..=max` only (scikit-learn's `degree=(min, max)`); the bias
    /// column still follows `include_bias`.
    pub fn degree_range(mut self, min: usize, max: usize) -> Self {
        self.degree = (min, max);
        self
    }

    /// Only products of distinct features (default `false`).
    pub fn interaction_only(mut self, v: bool) -> Self {
        self.interaction_only = v;
        self
    }

    /// Include the column of ones (default `true`).
    pub fn include_bias(mut self, v: bool) -> Self {
        self.include_bias = v;
        self
    }

    /// Validates and builds the (unfitted) transformer.
    pub fn build(self) -> Result<PolynomialFeatures<F>> {
        let (min, max) = self.degree;
        if min > max {
            return Err(Error::InvalidParameter {
                name: "degree",
                value: min as f64,
                expected: "min_degree <= max_degree",
            });
        }
        if max == 0 && !self.include_bias {
            return Err(Error::invalid_config(
                "PolynomialFeatures: maximum degree 0 with include_bias = false gives an empty output",
            ));
        }
        Ok(PolynomialFeatures {
            min_degree: min,
            max_degree: max,
            interaction_only: self.interaction_only,
            include_bias: self.include_bias,
            fitted: None,
            _f: std::marker::PhantomData,
        })
    }
}

impl<F: Float> Default for PolynomialFeatures<F> {
    fn default() -> Self {
        PolynomialFeatures {
            min_degree: 0,
            max_degree: 2,
            interaction_only: false,
            include_bias: true,
            fitted: None,
            _f: std::marker::PhantomData,
        }
    }
}

/// Number of combinations of `n` items taken `d` at a time (with or without
/// replacement), or `None` on overflow.
fn n_combinations(n: usize, d: usize, replacement: bool) -> Option<u128> {
    let top = if replacement { (n + d).checked_sub(1)? } else { n };
    if d > top {
        return Some(if d == 0 { 1 } else { 0 });
    }
    let mut c: u128 = 1;
    for i in 0..d {
        c = c.checked_mul((top - i) as u128)? / (i as u128 + 1);
    }
    Some(c)
}

impl<F: Float> PolynomialFeatures<F> {
    /// Degree 2, with bias, all products (scikit-learn's defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> PolynomialFeaturesBuilder<F> {
        PolynomialFeaturesBuilder {
            degree: (0, 2),
            interaction_only: false,
            include_bias: true,
            _f: std::marker::PhantomData,
        }
    }

    super::stats::fitted_state!(Fitted);

    /// Exponent of each input feature (columns) in each output column (rows).
    #[doc(alias = "powers_")]
    pub fn powers(&self) -> Result<ndarray::ArrayView2<'_, usize>> {
        Ok(self.fitted("PolynomialFeatures::powers")?.powers.view())
    }

    /// Number of output columns.
    #[doc(alias = "n_output_features_")]
    pub fn n_output_features(&self) -> Result<usize> {
        Ok(self.fitted("PolynomialFeatures::n_output_features")?.powers.nrows())
    }

    /// Number of input columns seen in `fit`.
    #[doc(alias = "n_features_in_")]
    pub fn n_features_in(&self) -> Result<usize> {
        Ok(self.fitted("PolynomialFeatures::n_features_in")?.n_features_in)
    }

    fn plan(&self, op: &'static str, n: usize) -> Result<Fitted> {
        let replacement = !self.interaction_only;
        let mut total: u128 = 0;
        for d in 1..=self.max_degree {
            let c = n_combinations(n, d, replacement);
            total = c.and_then(|c| total.checked_add(c)).unwrap_or(u128::MAX);
        }
        let limit = (u32::MAX as u128) / (n.max(1) as u128);
        if total > limit {
            return Err(Error::invalid_input(
                op,
                format!(
                    "{n} features at degree {} give too many output features; lower the degree",
                    self.max_degree
                ),
            ));
        }
        let mut plan: Vec<Term> = Vec::with_capacity(total as usize);
        let mut combos: Vec<Vec<usize>> = Vec::with_capacity(total as usize);
        let mut index: HashMap<Vec<usize>, usize> = HashMap::with_capacity(total as usize);
        for d in 1..=self.max_degree {
            // Lexicographic combinations of 0..n of length d.
            if d > n && !replacement {
                break;
            }
            let mut c: Vec<usize> = if replacement { vec![0; d] } else { (0..d).collect() };
            loop {
                let rest = if d == 1 { None } else { index.get(&c[1..]).copied() };
                index.insert(c.clone(), plan.len());
                plan.push(Term { feature: c[0], rest });
                combos.push(c.clone());
                // Advance to the next combination.
                let mut k = d;
                let advanced = loop {
                    if k == 0 {
                        break false;
                    }
                    k -= 1;
                    let max_here = if replacement { n - 1 } else { n - d + k };
                    if c[k] < max_here {
                        c[k] += 1;
                        for t in k + 1..d {
                            c[t] = if replacement { c[k] } else { c[t - 1] + 1 };
                        }
                        break true;
                    }
                };
                if !advanced {
                    break;
                }
            }
        }
        let start = self.min_degree.max(1);
        let output: Vec<usize> = (0..plan.len()).filter(|&k| combos[k].len() >= start).collect();
        let n_out = output.len() + usize::from(self.include_bias);
        let mut powers = Array2::zeros((n_out, n));
        let offset = usize::from(self.include_bias);
        for (r, &k) in output.iter().enumerate() {
            for &i in &combos[k] {
                powers[[r + offset, i]] += 1;
            }
        }
        Ok(Fitted { n_features_in: n, powers, plan, output })
    }
}

impl<F: Float> Preprocessor<F> for PolynomialFeatures<F> {
    fn fit(&mut self, x: ArrayView2<'_, F>) -> Result<()> {
        const OP: &str = "PolynomialFeatures::fit";
        check_not_empty(OP, &x)?;
        check_finite(OP, "x", x.into_dyn())?;
        self.fitted = Some(self.plan(OP, x.ncols())?);
        Ok(())
    }

    fn transform(&self, x: ArrayView2<'_, F>) -> Result<Array2<F>> {
        const OP: &str = "PolynomialFeatures::transform";
        let f = self.fitted(OP)?;
        check_n_features(OP, &x, f.n_features_in)?;
        check_finite(OP, "x", x.into_dyn())?;
        let n_out = f.powers.nrows();
        let size =
            x.nrows().checked_mul(n_out).ok_or_else(|| Error::invalid_input(OP, "output too large"))?;
        let mut data: Vec<F> = Vec::with_capacity(size);
        let mut scratch = vec![F::zero(); f.plan.len()];
        stats::for_each_row(&x, |row| {
            for (k, t) in f.plan.iter().enumerate() {
                scratch[k] = match t.rest {
                    None => row[t.feature],
                    Some(r) => row[t.feature] * scratch[r],
                };
            }
            if self.include_bias {
                data.push(F::one());
            }
            data.extend(f.output.iter().map(|&k| scratch[k]));
        });
        Array2::from_shape_vec((x.nrows(), n_out), data).map_err(|e| Error::invalid_input(OP, e))
    }

    /// scikit-learn's names: `"1"` for the bias, then each monomial as its factors
    /// joined by spaces, a power above 1 written `name^p` (`"a"`, `"a^2"`, `"a b"`).
    fn feature_names_out(&self, input_features: &[String]) -> Result<Vec<String>> {
        const OP: &str = "PolynomialFeatures::feature_names_out";
        let f = self.fitted(OP)?;
        if input_features.len() != f.n_features_in {
            return Err(Error::LengthMismatch {
                op: OP,
                what: "input feature names (one per fitted column)",
                expected: f.n_features_in,
                got: input_features.len(),
            });
        }
        Ok(f.powers
            .outer_iter()
            .map(|row| {
                let terms: Vec<String> = row
                    .iter()
                    .zip(input_features)
                    .filter(|(p, _)| **p > 0)
                    .map(|(&p, name)| if p == 1 { name.clone() } else { format!("{name}^{p}") })
                    .collect();
                if terms.is_empty() { "1".to_string() } else { terms.join(" ") }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sklearn_order_degree3_and_range() {
        // x = [a, b] = [2, 3], degree 3 without bias:
        // a, b, a², ab, b², a³, a²b, ab², b³
        let x = array![[2.0, 3.0]];
        let mut p = PolynomialFeatures::<f64>::builder().degree(3).include_bias(false).build().unwrap();
        assert_eq!(
            p.fit_transform(x.view()).unwrap(),
            array![[2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0]]
        );
        let mut p = PolynomialFeatures::<f32>::builder().degree_range(2, 3).build().unwrap();
        let y = p.fit_transform(array![[2.0f32, 3.0]].view()).unwrap();
        assert_eq!(y, array![[1.0f32, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0]]);
        assert_eq!(p.powers().unwrap().row(5), array![2, 1]);
        // get_feature_names_out(["a", "b"]) of the same fit, as scikit-learn prints it.
        let names = p.feature_names_out(&["a".to_string(), "b".to_string()]).unwrap();
        assert_eq!(names, ["1", "a^2", "a b", "b^2", "a^3", "a^2 b", "a b^2", "b^3"]);
        assert!(p.feature_names_out(&["a".to_string()]).is_err());
        assert_eq!(p.n_output_features().unwrap(), 8);
    }

    #[test]
    fn interaction_only_three_features() {
        // [a, b, c] = [2, 3, 5], degree 3: 1, a, b, c, ab, ac, bc, abc
        let mut p = PolynomialFeatures::<f64>::builder().degree(3).interaction_only(true).build().unwrap();
        let y = p.fit_transform(array![[2.0, 3.0, 5.0]].view()).unwrap();
        assert_eq!(y, array![[1.0, 2.0, 3.0, 5.0, 6.0, 10.0, 15.0, 30.0]]);
        // degree above the number of features: no more terms.
        let mut p = PolynomialFeatures::<f64>::builder().degree(4).interaction_only(true).build().unwrap();
        assert_eq!(p.fit_transform(array![[2.0, 3.0]].view()).unwrap(), array![[1.0, 2.0, 3.0, 6.0]]);
    }

    #[test]
    fn invalid_configs() {
        let r = PolynomialFeatures::<f64>::builder().degree_range(3, 2).build();
        assert!(matches!(r, Err(Error::InvalidParameter { name: "degree", .. })));
        let r = PolynomialFeatures::<f64>::builder().degree(0).include_bias(false).build();
        assert!(matches!(r, Err(Error::InvalidConfig(_))));
        let mut p = PolynomialFeatures::<f64>::builder().degree(0).build().unwrap();
        assert_eq!(p.fit_transform(array![[7.0, 8.0]].view()).unwrap(), array![[1.0]]);
        let mut p = PolynomialFeatures::<f64>::builder().degree(40).build().unwrap();
        assert!(matches!(p.fit(Array2::zeros((1, 50)).view()), Err(Error::InvalidInput { .. })));
        assert!(!p.is_fitted());
    }
}
