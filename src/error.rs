//! The crate's error type.
//!
//! Every public operation on user data returns [`Result`]. Each variant names the
//! operation that failed (`op`, e.g. `"Dense::forward"`) and carries the expected and
//! actual shapes or values, so the message alone says what to fix.

use std::fmt;

/// Convenience alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in ndtrain.
///
/// The enum is `#[non_exhaustive]`: match on the variants you care about and keep a
/// wildcard arm. It is `Send + Sync + 'static`, so it works with `?` into
/// `Box<dyn std::error::Error + Send + Sync>` and across threads.
///
/// # Example
///
/// ```
/// use ndtrain::Error;
///
/// let e = Error::ShapeMismatch { op: "Dense::forward", expected: vec![0, 64], got: vec![16, 63] };
/// assert_eq!(e.to_string(), "Dense::forward: shape mismatch, expected [0, 64], got [16, 63]");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two arrays (or an array and a layer) disagree on shape. A `0` in `expected` is a
    /// free dimension (any batch size).
    #[error("{op}: shape mismatch, expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// Operation that failed.
        op: &'static str,
        /// Expected shape (`0` = any size along that axis).
        expected: Vec<usize>,
        /// Shape that was given.
        got: Vec<usize>,
    },
    /// Two inputs that must have the same number of rows (samples) do not.
    #[error("{op}: length mismatch, {what} expected {expected}, got {got}")]
    LengthMismatch {
        /// Operation that failed.
        op: &'static str,
        /// Which quantity (e.g. `"rows of y (must equal rows of x)"`).
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Length that was given.
        got: usize,
    },
    /// An input had no samples (or no features) where at least one is needed.
    #[error("{op}: empty input, {what}")]
    EmptyInput {
        /// Operation that failed.
        op: &'static str,
        /// What was empty.
        what: &'static str,
    },
    /// A hyper-parameter is outside its valid range. Raised when the object is built.
    #[error("invalid {name} = {value}, expected {expected}")]
    InvalidParameter {
        /// Hyper-parameter name, as in PyTorch / scikit-learn (`"lr"`, `"betas[0]"`).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range, e.g. `"[0, 1)"`.
        expected: &'static str,
    },
    /// A combination of hyper-parameters is invalid (e.g. nesterov without momentum).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A value that must be finite is NaN or infinite.
    #[error("{op}: non-finite value {value} in {what} at index {index:?}")]
    NonFinite {
        /// Operation that failed.
        op: &'static str,
        /// Which input (`"x"`, `"gradient"`, ...).
        what: &'static str,
        /// The offending value.
        value: f64,
        /// Multi-index of the first offending element.
        index: Vec<usize>,
    },
    /// A class index is at or above the number of classes.
    #[error("{op}: label {label} out of range, expected a class index below {n_classes}")]
    LabelOutOfRange {
        /// Operation that failed.
        op: &'static str,
        /// The offending label.
        label: usize,
        /// Number of classes (valid labels are `0..n_classes`).
        n_classes: usize,
    },
    /// A value is outside the domain an operation accepts (e.g. a probability outside
    /// `[0, 1]`, a negative value for a log-based metric).
    #[error("{op}: invalid value {value} in {what}, expected {expected}")]
    InvalidValue {
        /// Operation that failed.
        op: &'static str,
        /// Which input.
        what: &'static str,
        /// The offending value.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// `transform` (or a getter of fitted state) was called before `fit`.
    #[error("{op}: not fitted, call fit first")]
    NotFitted {
        /// Operation that failed.
        op: &'static str,
    },
    /// A category value was not seen during `fit` and unknown values are an error.
    #[error("{op}: unknown category {value:?} in column {column}")]
    UnknownCategory {
        /// Operation that failed.
        op: &'static str,
        /// Column index.
        column: usize,
        /// The unseen value, formatted.
        value: String,
    },
    /// Any other invalid input, with a full sentence explaining it.
    #[error("{op}: {message}")]
    InvalidInput {
        /// Operation that failed.
        op: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
    /// Reading or parsing external data (CSV files, embedded datasets) failed.
    #[error("{op}: parse error at line {line}: {message}")]
    Parse {
        /// Operation that failed.
        op: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An I/O error, with its message (kept as text so the enum stays `Clone + PartialEq`).
    #[error("{op}: I/O error: {message}")]
    Io {
        /// Operation that failed.
        op: &'static str,
        /// The underlying error's message.
        message: String,
    },
}

impl Error {
    /// Builds [`Error::InvalidInput`] from anything printable.
    pub fn invalid_input(op: &'static str, message: impl fmt::Display) -> Self {
        Error::InvalidInput { op, message: message.to_string() }
    }

    /// Builds [`Error::InvalidConfig`] from anything printable.
    pub fn invalid_config(message: impl fmt::Display) -> Self {
        Error::InvalidConfig(message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
    }

    #[test]
    fn messages_name_op_and_values() {
        let e = Error::InvalidParameter { name: "betas[0]", value: 1.0, expected: "[0, 1)" };
        assert_eq!(e.to_string(), "invalid betas[0] = 1, expected [0, 1)");
        let e = Error::LabelOutOfRange { op: "CrossEntropyLoss", label: 10, n_classes: 10 };
        assert_eq!(e.to_string(), "CrossEntropyLoss: label 10 out of range, expected a class index below 10");
    }
}
