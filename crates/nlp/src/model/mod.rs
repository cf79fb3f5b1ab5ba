//! Operator-trainable classifiers (B3 topics, and the shipped emotion / offensive / sentiment
//! models): hashed features, a linear model, training, labelled-data readers and metrics.

pub mod abuse;
pub mod clusters;
pub mod data;
pub mod dataset;
pub mod features;
pub mod linear;
pub mod metrics;
pub mod train;

pub use data::{LabelledText, read_labelled};
pub use dataset::{Dataset, Held};
pub use features::{FeatureSpec, Features};
pub use linear::{Joint, LinearModel, ModelError, Outcome, Prediction, Reject};
pub use metrics::Report;
pub use train::{Example, SplitMix, TrainConfig, train};
