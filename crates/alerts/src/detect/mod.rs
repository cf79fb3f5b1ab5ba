//! Online detectors: each decides as a point arrives, from state of fixed size. Parameters
//! live in a config shared by every series, so per-series state holds only what was learnt.

pub mod baseline;
pub mod cooldown;
pub mod peaks;
pub mod sentiment;
pub mod volume;

pub use baseline::{BaselineConfig, SeasonalBaseline};
pub use cooldown::Cooldown;
pub use sentiment::{SentimentConfig, SentimentDropDetector};
pub use volume::{VolumeConfig, VolumeSpikeDetector};
