//! # ndtrain
//!
//! Train and evaluate models inside a Rust program, on [`ndarray`] data, with the
//! numbers PyTorch and scikit-learn give: no Python, no libtorch.
//!
//! ## Data flow
//!
//! ```text
//!  raw data ──► Preprocessor(s) ──► Dataset ──► batches (axis 0, seeded shuffle)
//!                  fit / transform                    │
//!                  inverse_transform                  ▼
//!                                         Model::forward ──► Loss (value + dL/dout)
//!                                               ▲                    │
//!                                               │        Model::backward (param grads)
//!                                               │                    ▼
//!                                    Optimizer::step ◄── clip / schedule / callbacks
//!                                                                    │
//!                                          Metric::update ◄──────────┘  (per batch,
//!                                          Metric::compute  (per epoch)  streaming)
//! ```
//!
//! One module per arrow: [`preprocessing`], [`data`], [`model`], [`loss`], [`optim`],
//! [`metrics`]; [`train`] drives the loop.

#![warn(missing_docs)]

pub mod data;
pub mod error;
pub mod gradcheck;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod preprocessing;
pub mod schedule;
pub mod tensor;
pub mod train;

pub use data::datasets;
pub use error::{Error, Result};
pub use tensor::{Buffer, Float, Param, SeededRng, seeded_rng};

/// The names most programs need: `use ndtrain::prelude::*;`.
pub mod prelude {
    pub use crate::data::Dataset;
    pub use crate::error::{Error, Result};
    pub use crate::gradcheck::{GradcheckOptions, GradcheckReport, gradcheck, gradcheck_input};
    pub use crate::loss::{BceWithLogitsLoss, CrossEntropyLoss, MseLoss};
    pub use crate::loss::{Loss, Reduction};
    pub use crate::metrics::Metric;
    pub use crate::metrics::{Accuracy, Average, F1Score, Mae, Mse, Precision, R2, Recall};
    pub use crate::model::{
        Activation, Dense, Dropout, Flatten, Gelu, GeluApproximate, Init, LeakyRelu, Linear, Relu,
        Sequential, Sigmoid, Tanh,
    };
    pub use crate::model::{Layer, Mode, Model};
    pub use crate::optim::Optimizer;
    pub use crate::optim::{Adam, AdamW, ParamGroups, Sgd};
    pub use crate::preprocessing::{InverseTransform, Preprocessor, StandardScaler};
    pub use crate::schedule::LrScheduler;
    pub use crate::tensor::{Buffer, Float, Param};
    pub use crate::train::{Callback, EarlyStopping, History, StepEvery, Trainer};
}

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
