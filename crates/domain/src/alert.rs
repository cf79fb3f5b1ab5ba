//! Alerts raised by listening (E1–E3): a watched series did something unusual in one time
//! bucket.

use crate::{AlertId, Timestamp};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Volume far above the series' seasonal baseline.
    Spike,
    /// Sentiment far below the series' baseline, carried by enough messages.
    SentimentDrop,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::SentimentDrop => "sentiment_drop",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "spike" => Some(Self::Spike),
            "sentiment_drop" => Some(Self::SentimentDrop),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Alert {
    #[schema(value_type = String)]
    pub id: AlertId,
    /// The watched series, e.g. `all`, `platform:x`, `intent:complaint`, `watch:products:X200`.
    pub series: String,
    pub kind: AlertKind,
    /// Detector score, 0..1.
    pub score: f64,
    /// Start of the time bucket the alert is about.
    #[schema(value_type = String)]
    pub bucket_start: Timestamp,
    /// Messages in that bucket.
    pub volume: i64,
    pub sentiment_mean: Option<f64>,
    #[schema(value_type = String)]
    pub raised_at: Timestamp,
}
