//! serde helpers for fitted statistics that may hold missing values (NaN for an
//! all-missing column). JSON has no NaN (serde_json writes `null` and cannot read it
//! back as a float), so each element is written as an `Option`: NaN (or a missing
//! value) becomes `null`, any other value is written as itself. Works with every serde
//! format. (An infinite statistic, possible only by overflow, comes back as NaN in JSON.)

use ndarray::Array1;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::impute::MissingValue;
use crate::tensor::Float;

fn opt<F: Float>(v: &F) -> Option<&F> {
    if v.is_nan() { None } else { Some(v) }
}

/// `Array1<F>` with NaN as `None`.
pub(crate) mod vec {
    use super::*;

    pub(crate) fn serialize<F: Float + Serialize, S: Serializer>(
        a: &Array1<F>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(a.iter().map(opt))
    }

    pub(crate) fn deserialize<'de, F, D>(d: D) -> Result<Array1<F>, D::Error>
    where
        F: Float + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v = Vec::<Option<F>>::deserialize(d)?;
        Ok(v.into_iter().map(|o| o.unwrap_or_else(F::nan)).collect())
    }
}

/// `Option<Array1<F>>` with NaN as `None`.
pub(crate) mod opt_vec {
    use super::*;

    pub(crate) fn serialize<F: Float + Serialize, S: Serializer>(
        a: &Option<Array1<F>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match a {
            None => s.serialize_none(),
            Some(a) => s.serialize_some(&a.iter().map(opt).collect::<Vec<_>>()),
        }
    }

    pub(crate) fn deserialize<'de, F, D>(d: D) -> Result<Option<Array1<F>>, D::Error>
    where
        F: Float + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v = Option::<Vec<Option<F>>>::deserialize(d)?;
        Ok(v.map(|v| v.into_iter().map(|o| o.unwrap_or_else(F::nan)).collect()))
    }
}

/// `Array1<T>` of a [`MissingValue`] type with missing elements as `None`.
pub(crate) mod missing_vec {
    use super::*;

    pub(crate) fn serialize<T, S>(a: &Array1<T>, s: S) -> Result<S::Ok, S::Error>
    where
        T: MissingValue + Serialize,
        S: Serializer,
    {
        s.collect_seq(a.iter().map(|v| if v.is_missing() { None } else { Some(v) }))
    }

    pub(crate) fn deserialize<'de, T, D>(d: D) -> Result<Array1<T>, D::Error>
    where
        T: MissingValue + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v = Vec::<Option<T>>::deserialize(d)?;
        Ok(v.into_iter().map(|o| o.unwrap_or_else(T::missing)).collect())
    }
}
