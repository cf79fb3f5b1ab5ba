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
    /// An operator's alert rule fired (`rule_id`, `severity` and `dedup_key` say which).
    Rule,
    /// A connector's credentials were refused; sending to it is paused.
    ConnectorPaused,
    /// A repeat, high-value customer's engagement or sentiment fell against their own
    /// baseline (series `customer:<id>`): flagged for retention outreach.
    ChurnRisk,
    /// The roster falls short of the agents an hour's forecast needs (series `capacity`,
    /// bucket = the hour).
    CapacityShortfall,
    /// Many distinct authors suddenly use a word or hashtag far more than its baseline share
    /// of the stream (series `term:<word>` or `hashtag:#<tag>`).
    EmergingTerm,
    /// A complaint draws engagement fast, or from a wide audience (series
    /// `post:<source>:<external id>`; volume = engagement counted).
    ViralComplaint,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::SentimentDrop => "sentiment_drop",
            Self::Rule => "rule",
            Self::ConnectorPaused => "connector_paused",
            Self::ChurnRisk => "churn_risk",
            Self::CapacityShortfall => "capacity_shortfall",
            Self::EmergingTerm => "emerging_term",
            Self::ViralComplaint => "viral_complaint",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "spike" => Some(Self::Spike),
            "sentiment_drop" => Some(Self::SentimentDrop),
            "rule" => Some(Self::Rule),
            "connector_paused" => Some(Self::ConnectorPaused),
            "churn_risk" => Some(Self::ChurnRisk),
            "capacity_shortfall" => Some(Self::CapacityShortfall),
            "emerging_term" => Some(Self::EmergingTerm),
            "viral_complaint" => Some(Self::ViralComplaint),
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
    /// The rule that fired, for rule alerts.
    pub rule_id: Option<String>,
    /// `critical`, `error`, `warning` or `info`, for rule and connector alerts.
    pub severity: Option<String>,
    /// Stable for one episode of a rule alert: its trigger, escalations and resolution.
    pub dedup_key: Option<String>,
    pub summary: Option<String>,
    /// When the episode ended (the rule's condition cleared).
    #[schema(value_type = Option<String>)]
    pub resolved_at: Option<Timestamp>,
}

impl Alert {
    /// A detector alert on one series and bucket.
    pub fn detected(
        series: &str,
        kind: AlertKind,
        score: f64,
        bucket_start: Timestamp,
        volume: i64,
        sentiment_mean: Option<f64>,
        raised_at: Timestamp,
    ) -> Self {
        Self {
            id: AlertId::generate(),
            series: series.to_owned(),
            kind,
            score,
            bucket_start,
            volume,
            sentiment_mean,
            raised_at,
            rule_id: None,
            severity: None,
            dedup_key: None,
            summary: None,
            resolved_at: None,
        }
    }
}
