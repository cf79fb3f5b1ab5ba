//! One alert rule as an operator writes it, its validation, and the pure judgement of one
//! closed bucket against it. Everything here is a function of the rule and the bucket (plus
//! the previous bucket's value for `min_change`); the engine owns what is remembered.

use super::{RuleError, pattern};
use crate::watch::BucketSignals;
use serde::{Deserialize, Serialize};

/// Longest run of buckets a rule may wait for (`windows`, `resolve_after`): one day of
/// 5-minute buckets.
pub const MAX_WINDOWS: u32 = 288;
/// Longest cooldown accepted: one week.
pub const MAX_COOLDOWN_MINUTES: u32 = 7 * 24 * 60;

/// How loudly a firing should be delivered; ordered from `Info` up to `Critical`. The same
/// four words as an incident's severity in the domain crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }
}

/// A measured quantity of a closed bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Messages in the bucket.
    Volume,
    /// Mean compound sentiment, -1..1; absent when no message carried a sentiment.
    SentimentMean,
    /// Share of messages at or below the negative cut-off, 0..1; absent like the mean.
    NegativeShare,
    /// Share of the messages with a known intent that were complaints, 0..1; absent when
    /// none carried an intent.
    ComplaintShare,
    /// The same for inquiries (questions) and for praise.
    InquiryShare,
    PraiseShare,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Volume => "volume",
            Self::SentimentMean => "sentiment_mean",
            Self::NegativeShare => "negative_share",
            Self::ComplaintShare => "complaint_share",
            Self::InquiryShare => "inquiry_share",
            Self::PraiseShare => "praise_share",
        }
    }

    /// The bucket's value, or `None` when the bucket carried no data for it.
    pub fn read(self, signals: &BucketSignals) -> Option<f64> {
        match self {
            Self::Volume => Some(f64::from(signals.volume)),
            Self::SentimentMean => signals.sentiment_mean.map(f64::from),
            Self::NegativeShare => signals.negative_share.map(f64::from),
            Self::ComplaintShare => signals.complaint_share.map(f64::from),
            Self::InquiryShare => signals.inquiry_share.map(f64::from),
            Self::PraiseShare => signals.praise_share.map(f64::from),
        }
        .filter(|v| v.is_finite())
    }

    /// The values the metric can take, for validating thresholds.
    fn range(self) -> (f64, f64) {
        match self {
            Self::Volume => (0.0, f64::from(u32::MAX)),
            Self::SentimentMean => (-1.0, 1.0),
            Self::NegativeShare | Self::ComplaintShare | Self::InquiryShare | Self::PraiseShare => {
                (0.0, 1.0)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Strictly greater than the value.
    Above,
    /// Strictly less than the value.
    Below,
}

impl Op {
    pub fn holds(self, measured: f64, value: f64) -> bool {
        match self {
            Self::Above => measured > value,
            Self::Below => measured < value,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Above => "above",
            Self::Below => "below",
        }
    }
}

/// A detector score carried by every closed bucket (0..1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Spike,
    SentimentDrop,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::SentimentDrop => "sentiment_drop",
        }
    }

    pub fn read(self, signals: &BucketSignals) -> f64 {
        let score = match self {
            Self::Spike => signals.spike,
            Self::SentimentDrop => signals.sentiment_drop,
        };
        if score.is_finite() {
            f64::from(score)
        } else {
            0.0
        }
    }
}

fn one() -> u32 {
    1
}

fn two() -> u32 {
    2
}

/// When a bucket counts as a breach.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// `metric` `op` `value` in `windows` consecutive buckets of one series.
    Threshold {
        metric: Metric,
        op: Op,
        value: f64,
        #[serde(default = "one")]
        windows: u32,
    },
    /// A detector score of at least `min_score` in one bucket.
    Anomaly { signal: Signal, min_score: f64 },
}

/// How firings are grouped into alerts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One alert per matching series.
    #[default]
    Series,
    /// One alert for the rule, whichever matching series breach.
    Rule,
}

/// A higher severity for a bucket at or beyond `at`: at or above it for an `above`
/// threshold or an anomaly score, at or below it for a `below` threshold. `at` itself must lie
/// strictly beyond the rule's own threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub at: f64,
    pub severity: Severity,
}

/// An operator-owned alert rule. See `docs/ALERTS.md` for the file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id: 1–64 letters, digits, `-`, `_`, `.`; part of every dedup key.
    pub id: String,
    pub name: String,
    /// Series pattern: an exact name or a `*` glob.
    pub series: String,
    pub condition: Condition,
    pub severity: Severity,
    #[serde(default)]
    pub escalate: Vec<Escalation>,
    #[serde(default)]
    pub group_by: GroupBy,
    /// After a firing of a group, a new alert of that group waits this long unless its
    /// severity is higher than the last one's.
    #[serde(default)]
    pub cooldown_minutes: u32,
    /// Buckets with fewer messages never breach (reported as minor when they would have).
    #[serde(default)]
    pub min_volume: u32,
    /// For thresholds: a crossing whose relative change from the series' previous bucket is
    /// smaller than this is ignored (0.2 = 20%). 0 turns the check off.
    #[serde(default)]
    pub min_change: f64,
    /// Consecutive clear buckets before an open alert resolves.
    #[serde(default = "two")]
    pub resolve_after: u32,
}

/// What one bucket means for one rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Outcome {
    Breach(Severity),
    /// The condition held but `min_volume` or `min_change` set it aside; counts as clear.
    Minor,
    Clear,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Assessment {
    /// The measured metric or score (`None`: the bucket carried no data for it).
    pub value: Option<f64>,
    pub outcome: Outcome,
}

impl Rule {
    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<(), RuleError> {
        validate_id(&self.id)?;
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(RuleError::InvalidName);
        }
        pattern::validate(&self.series)?;
        self.validate_condition()?;
        self.validate_escalations()?;
        if self.cooldown_minutes > MAX_COOLDOWN_MINUTES {
            return Err(RuleError::InvalidCooldown);
        }
        if !(self.min_change.is_finite() && self.min_change >= 0.0) {
            return Err(RuleError::InvalidMinChange);
        }
        if !(1..=MAX_WINDOWS).contains(&self.resolve_after) {
            return Err(RuleError::InvalidResolveAfter);
        }
        Ok(())
    }

    fn validate_condition(&self) -> Result<(), RuleError> {
        match self.condition {
            Condition::Threshold {
                metric,
                value,
                windows,
                ..
            } => {
                let (lo, hi) = metric.range();
                if !(value.is_finite() && (lo..=hi).contains(&value)) {
                    return Err(RuleError::InvalidThreshold(format!(
                        "{} value must be between {lo} and {hi}",
                        metric.as_str()
                    )));
                }
                if !(1..=MAX_WINDOWS).contains(&windows) {
                    return Err(RuleError::InvalidThreshold(format!(
                        "windows must be between 1 and {MAX_WINDOWS}"
                    )));
                }
            }
            Condition::Anomaly { min_score, .. } => {
                if !(min_score > 0.0 && min_score <= 1.0) {
                    return Err(RuleError::InvalidAnomaly(
                        "min_score must be above 0 and at most 1".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_escalations(&self) -> Result<(), RuleError> {
        for step in &self.escalate {
            if step.severity <= self.severity {
                return Err(RuleError::InvalidEscalation(format!(
                    "severity {} is not above the rule's {}",
                    step.severity.as_str(),
                    self.severity.as_str()
                )));
            }
            let beyond = match self.condition {
                Condition::Threshold { op, value, .. } => op.holds(step.at, value),
                Condition::Anomaly { min_score, .. } => step.at > min_score && step.at <= 1.0,
            };
            if !(step.at.is_finite() && beyond) {
                return Err(RuleError::InvalidEscalation(format!(
                    "`at` {} is not beyond the rule's own threshold",
                    step.at
                )));
            }
        }
        Ok(())
    }

    /// How many consecutive breaching buckets of one series confirm a breach.
    pub fn windows(&self) -> u32 {
        match self.condition {
            Condition::Threshold { windows, .. } => windows.max(1),
            Condition::Anomaly { .. } => 1,
        }
    }

    /// Judges one closed bucket. `previous` is the series' value in the bucket before
    /// (for `min_change`), `was_breaching` whether that bucket breached: only a crossing,
    /// the first breaching bucket, is held to `min_change`.
    pub(crate) fn assess(
        &self,
        signals: &BucketSignals,
        previous: Option<f64>,
        was_breaching: bool,
    ) -> Assessment {
        let (value, holds, op) = match self.condition {
            Condition::Threshold {
                metric, op, value, ..
            } => {
                let measured = metric.read(signals);
                (measured, measured.is_some_and(|m| op.holds(m, value)), op)
            }
            Condition::Anomaly { signal, min_score } => {
                let score = signal.read(signals);
                (Some(score), score >= min_score, Op::Above)
            }
        };
        let outcome = match value {
            Some(v) if holds => {
                if signals.volume < self.min_volume
                    || (!was_breaching && self.is_minor_change(previous, v))
                {
                    Outcome::Minor
                } else {
                    Outcome::Breach(self.severity_at(op, v))
                }
            }
            _ => Outcome::Clear,
        };
        Assessment { value, outcome }
    }

    /// Whether a threshold crossing to `v` moved too little from `previous` to count.
    fn is_minor_change(&self, previous: Option<f64>, v: f64) -> bool {
        let is_threshold = matches!(self.condition, Condition::Threshold { .. });
        match previous {
            Some(p) if is_threshold && self.min_change > 0.0 => {
                relative_change(p, v) < self.min_change
            }
            _ => false,
        }
    }

    fn severity_at(&self, op: Op, v: f64) -> Severity {
        self.escalate
            .iter()
            .filter(|step| v == step.at || op.holds(v, step.at))
            .map(|step| step.severity)
            .fold(self.severity, Severity::max)
    }
}

/// |v − p| / |p|; a move away from exactly 0 counts as an infinite change.
pub fn relative_change(previous: f64, value: f64) -> f64 {
    let delta = (value - previous).abs();
    if previous == 0.0 {
        if delta == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        delta / previous.abs()
    }
}

fn validate_id(id: &str) -> Result<(), RuleError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(RuleError::InvalidId(id.to_owned()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A bucket with the given volume and sentiment mean and no detector scores.
    pub(crate) fn bucket(start: i64, volume: u32, sentiment: Option<f32>) -> BucketSignals {
        BucketSignals {
            bucket_start: start,
            volume,
            sentiment_mean: sentiment,
            negative_share: sentiment.map(|s| if s < 0.0 { 0.6 } else { 0.1 }),
            complaint_share: None,
            inquiry_share: None,
            praise_share: None,
            spike: 0.0,
            sentiment_drop: 0.0,
        }
    }

    pub(crate) fn volume_above(id: &str, series: &str, value: f64, windows: u32) -> Rule {
        Rule {
            id: id.into(),
            name: format!("{id} volume"),
            series: series.into(),
            condition: Condition::Threshold {
                metric: Metric::Volume,
                op: Op::Above,
                value,
                windows,
            },
            severity: Severity::Warning,
            escalate: Vec::new(),
            group_by: GroupBy::Series,
            cooldown_minutes: 0,
            min_volume: 0,
            min_change: 0.0,
            resolve_after: 2,
        }
    }

    #[test]
    fn a_threshold_above_breaches_strictly_above_its_value() {
        let rule = volume_above("r", "all", 50.0, 1);
        let judge = |v| rule.assess(&bucket(0, v, None), None, false).outcome;
        assert_eq!(judge(51), Outcome::Breach(Severity::Warning));
        assert_eq!(judge(50), Outcome::Clear);
    }

    #[test]
    fn a_sentiment_below_threshold_ignores_buckets_without_sentiment() {
        let mut rule = volume_above("r", "all", 0.0, 1);
        rule.condition = Condition::Threshold {
            metric: Metric::SentimentMean,
            op: Op::Below,
            value: -0.3,
            windows: 1,
        };
        let at = |s| rule.assess(&bucket(0, 10, s), None, false);
        assert_eq!(at(Some(-0.5)).outcome, Outcome::Breach(Severity::Warning));
        assert_eq!(at(Some(-0.1)).outcome, Outcome::Clear);
        assert_eq!(
            at(None),
            Assessment {
                value: None,
                outcome: Outcome::Clear
            }
        );
    }

    #[test]
    fn escalation_steps_raise_the_severity_beyond_their_mark() {
        let mut rule = volume_above("r", "all", 50.0, 1);
        rule.escalate = vec![
            Escalation {
                at: 100.0,
                severity: Severity::Error,
            },
            Escalation {
                at: 200.0,
                severity: Severity::Critical,
            },
        ];
        rule.validate().unwrap();
        let sev = |v| rule.assess(&bucket(0, v, None), None, false).outcome;
        assert_eq!(sev(60), Outcome::Breach(Severity::Warning));
        assert_eq!(sev(100), Outcome::Breach(Severity::Error));
        assert_eq!(sev(250), Outcome::Breach(Severity::Critical));
    }

    #[test]
    fn an_anomaly_breaches_at_its_minimum_score() {
        let mut rule = volume_above("r", "all", 0.0, 1);
        rule.condition = Condition::Anomaly {
            signal: Signal::SentimentDrop,
            min_score: 0.5,
        };
        let mut b = bucket(0, 40, Some(-0.4));
        b.sentiment_drop = 0.5;
        assert_eq!(
            rule.assess(&b, None, false).outcome,
            Outcome::Breach(Severity::Warning)
        );
        b.sentiment_drop = 0.49;
        assert_eq!(rule.assess(&b, None, false).outcome, Outcome::Clear);
        b.spike = 0.9;
        assert_eq!(rule.assess(&b, None, false).outcome, Outcome::Clear);
    }

    #[test]
    fn small_buckets_and_small_moves_are_minor() {
        let mut rule = volume_above("r", "all", 50.0, 1);
        rule.min_volume = 60;
        assert_eq!(
            rule.assess(&bucket(0, 55, None), None, false).outcome,
            Outcome::Minor
        );
        rule.min_volume = 0;
        rule.min_change = 0.2;
        // 48 → 55 is a crossing of under 20%: minor; 40 → 55 is 37.5%: a breach.
        assert_eq!(
            rule.assess(&bucket(0, 55, None), Some(48.0), false).outcome,
            Outcome::Minor
        );
        assert_eq!(
            rule.assess(&bucket(0, 55, None), Some(40.0), false).outcome,
            Outcome::Breach(Severity::Warning)
        );
        // Once breaching, a steady level keeps breaching: only the crossing is held to it.
        assert_eq!(
            rule.assess(&bucket(0, 55, None), Some(54.0), true).outcome,
            Outcome::Breach(Severity::Warning)
        );
        // Nothing to compare with: the crossing counts.
        assert_eq!(
            rule.assess(&bucket(0, 55, None), None, false).outcome,
            Outcome::Breach(Severity::Warning)
        );
    }

    #[test]
    fn relative_change_from_zero_is_unbounded() {
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 3.0), f64::INFINITY);
        assert!((relative_change(-0.5, -0.25) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn validation_names_each_bad_field_with_a_stable_code() {
        let good = volume_above("complaints-surge", "intent:complaint", 50.0, 2);
        good.validate().unwrap();
        type Spoil = Box<dyn Fn(&mut Rule)>;
        let cases: Vec<(&str, Spoil)> = vec![
            ("rule_invalid_id", Box::new(|r| r.id = "a/b".into())),
            ("rule_invalid_id", Box::new(|r| r.id = String::new())),
            ("rule_invalid_name", Box::new(|r| r.name = " ".into())),
            (
                "rule_invalid_pattern",
                Box::new(|r| r.series = "topic:?".into()),
            ),
            (
                "rule_invalid_threshold",
                Box::new(|r| {
                    r.condition = Condition::Threshold {
                        metric: Metric::NegativeShare,
                        op: Op::Above,
                        value: 1.5,
                        windows: 1,
                    }
                }),
            ),
            (
                "rule_invalid_threshold",
                Box::new(|r| {
                    r.condition = Condition::Threshold {
                        metric: Metric::Volume,
                        op: Op::Above,
                        value: f64::NAN,
                        windows: 1,
                    }
                }),
            ),
            (
                "rule_invalid_threshold",
                Box::new(|r| {
                    r.condition = Condition::Threshold {
                        metric: Metric::Volume,
                        op: Op::Above,
                        value: 5.0,
                        windows: 0,
                    }
                }),
            ),
            (
                "rule_invalid_anomaly",
                Box::new(|r| {
                    r.condition = Condition::Anomaly {
                        signal: Signal::Spike,
                        min_score: 0.0,
                    }
                }),
            ),
            (
                "rule_invalid_escalation",
                Box::new(|r| {
                    r.escalate = vec![Escalation {
                        at: 40.0,
                        severity: Severity::Critical,
                    }]
                }),
            ),
            (
                "rule_invalid_escalation",
                Box::new(|r| {
                    r.escalate = vec![Escalation {
                        at: 90.0,
                        severity: Severity::Info,
                    }]
                }),
            ),
            (
                "rule_invalid_cooldown",
                Box::new(|r| r.cooldown_minutes = 20_000),
            ),
            ("rule_invalid_min_change", Box::new(|r| r.min_change = -0.1)),
            (
                "rule_invalid_resolve_after",
                Box::new(|r| r.resolve_after = 0),
            ),
        ];
        for (code, spoil) in cases {
            let mut bad = good.clone();
            spoil(&mut bad);
            let err = bad.validate().unwrap_err();
            assert_eq!(err.code(), code, "{err}");
        }
    }
}
