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
//! One module per arrow: [`preprocessing`], [`data`], [`model`] (layers from `Linear` to
//! convolution, attention, transformer and recurrent layers, composed by `Sequential`
//! and `Graph`), [`loss`], [`optim`]
//! (with [`schedule`] for learning rates), [`metrics`]; [`train`] drives the loop and
//! [`gradcheck`] checks a model's hand-written backward pass.
//!
//! ## Example
//!
//! ```
//! use ndtrain::prelude::*;
//!
//! // Softmax regression on the embedded iris data, 25% held out.
//! let iris = ndtrain::datasets::iris();
//! let (train, test) = ndtrain::data::train_test_split(&iris, 0.25, 0, true)?;
//! let mut scaler = StandardScaler::default();
//! let x_train = scaler.fit_transform(train.x_2d()?)?;
//! let x_test = scaler.transform(test.x_2d()?)?;
//!
//! let mut model = Linear::<f64>::new(4, 3, &mut ndtrain::seeded_rng(0))?;
//! let mut trainer = Trainer::builder(Adam::builder().lr(0.05).build()?, CrossEntropyLoss::default())
//!     .epochs(50)
//!     .batch_size(16)
//!     .metric(Accuracy::new())
//!     .build()?;
//! trainer.fit(&mut model, x_train.view(), train.y().view())?;
//! let scores = trainer.evaluate(&mut model, x_test.view(), test.y().view())?;
//! assert!(scores.get("accuracy").unwrap() > 0.9);
//! # Ok::<(), ndtrain::Error>(())
//! ```
//!
//! ## Conventions
//!
//! * Names, hyper-parameters and defaults follow PyTorch (optimizers, losses,
//!   schedulers) and scikit-learn (preprocessing, metrics), in Rust casing with the
//!   original spelling as a doc alias (`Sgd` for `SGD`, `MseLoss` for `MSELoss`).
//! * Everything is generic over `f32` and `f64` ([`Float`]).
//! * Every operation on data returns [`Result`]; hyper-parameters are validated when an
//!   object is built; a failed call leaves models, optimizers and preprocessors unchanged.
//! * Cargo features: `serde` (save and load fitted preprocessors and optimizer state) and
//!   `csv` (CSV files into a [`preprocessing::Table`]).

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
    pub use crate::model::{AsInput, Floats, Indices, Input, Layer, Mode, Model, Module};
    pub use crate::model::{
        AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Embedding, Graph, Gru, LastStep, LayerNorm,
        LogSoftmax, Lstm, MaxPool2d, MultiheadAttention, Rnn, Silu, Softmax, TransformerEncoder,
        TransformerEncoderLayer,
    };
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
