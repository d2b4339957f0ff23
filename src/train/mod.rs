//! The training loop: [`Trainer`], its builder, [`History`] and callbacks.
