//! The Numenta Anomaly Benchmark: corpus loading, windows and the scorer.

pub mod corpus;
pub mod published;
pub mod reference;
pub mod report;
pub mod scorer;
pub mod windows;

pub use corpus::{LabelledFile, load, run};
pub use report::{NabReport, report};
pub use scorer::{PROFILES, Profile, ProfileResult, ScoredFile, Tally, optimise, score_at};
pub use windows::windows_from_labels;
