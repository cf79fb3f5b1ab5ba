//! Listening and detection: streaming metrics per watched series, online detectors that
//! decide as each point arrives, and the NAB scorer that measures them. Pure computation:
//! no IO beyond reading a benchmark directory, and no clock — every timestamp comes from the
//! data. Alert rules (`rules`) and surge staffing (`staffing`) are pure too, with time handed
//! in; wiring them into the live pipeline and incidents live elsewhere.

pub mod capacity;
pub mod churn;
pub mod detect;
pub mod emerging;
pub mod nab;
pub mod rules;
pub mod series;
pub mod staffing;
pub mod time;
pub mod viral;
pub mod watch;

pub use detect::{SentimentConfig, SentimentDropDetector, VolumeConfig, VolumeSpikeDetector};
pub use emerging::{EmergingConfig, EmergingTerm, EmergingTerms};
pub use series::{InputError, Series};
pub use viral::{Post, ViralConfig, ViralPost, ViralWatch};
pub use watch::{BucketSignals, SeriesWatch, WatchConfig, Watchlist};

/// Runs the live spike detector over a whole series, one point at a time: what
/// `switchboard alerts detect` prints and what NAB scores.
pub fn score_series(cfg: &VolumeConfig, series: &Series) -> Vec<f64> {
    let mut detector = VolumeSpikeDetector::default();
    series
        .timestamps
        .iter()
        .zip(&series.values)
        .map(|(ts, v)| f64::from(detector.observe(cfg, *ts, *v)))
        .collect()
}
