//! Datasets, batching, splits and the embedded real datasets.
