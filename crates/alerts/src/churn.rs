//! Churn early warning (E8): a repeat, high-value customer whose engagement or sentiment falls
//! against their own baseline. Each customer is compared with themselves, not with everyone:
//! a customer who always writes twice a month in a flat tone is not at risk for doing so, and
//! one who wrote weekly and warmly and now writes rarely, or angrily, is.
//!
//! Pure: the caller hands in the customer's messages (time and sentiment) and `now`.

use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// What counts as a fall. Windows: the baseline is the `baseline_days` before the recent
/// window; the recent window is the last `recent_days`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChurnConfig {
    pub baseline_days: i64,
    pub recent_days: i64,
    /// A repeat customer has at least this many messages in the baseline window.
    pub min_baseline_messages: usize,
    /// Sentiment is compared only when the recent window holds at least this many messages
    /// with a sentiment.
    pub min_recent_messages: usize,
    /// Mean compound sentiment (−1..1) at least this much below the baseline's.
    pub sentiment_drop: f64,
    /// Messages per week at most `1 − engagement_drop` of the baseline's rate.
    pub engagement_drop: f64,
}

impl Default for ChurnConfig {
    fn default() -> Self {
        Self {
            baseline_days: 90,
            recent_days: 14,
            min_baseline_messages: 3,
            min_recent_messages: 2,
            sentiment_drop: 0.3,
            engagement_drop: 0.5,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("churn settings out of range: {0}")]
pub struct ChurnConfigError(pub &'static str);

impl ChurnConfig {
    pub fn validate(&self) -> Result<(), ChurnConfigError> {
        if !(1..=3_650).contains(&self.baseline_days) {
            return Err(ChurnConfigError("baseline_days must be 1 to 3650"));
        }
        if !(1..=365).contains(&self.recent_days) {
            return Err(ChurnConfigError("recent_days must be 1 to 365"));
        }
        if self.min_baseline_messages == 0 || self.min_recent_messages == 0 {
            return Err(ChurnConfigError("message minimums must be at least 1"));
        }
        if !(self.sentiment_drop > 0.0 && self.sentiment_drop <= 2.0) {
            return Err(ChurnConfigError(
                "sentiment_drop must be above 0 and at most 2",
            ));
        }
        if !(self.engagement_drop > 0.0 && self.engagement_drop < 1.0) {
            return Err(ChurnConfigError("engagement_drop must be between 0 and 1"));
        }
        Ok(())
    }
}

/// One message of the customer: when, and its compound sentiment if known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activity {
    pub at_ms: i64,
    pub sentiment: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnReason {
    SentimentFell,
    EngagementFell,
}

/// Why a customer is flagged, with the figures behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChurnSignal {
    pub reasons: Vec<ChurnReason>,
    /// 0..1: how far the larger of the two falls went.
    pub score: f64,
    pub baseline_messages: usize,
    pub recent_messages: usize,
    pub baseline_per_week: f64,
    pub recent_per_week: f64,
    pub baseline_sentiment: Option<f64>,
    pub recent_sentiment: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Flags the customer when, against their own baseline, their mean sentiment fell by at least
/// `sentiment_drop` or their messages per week fell by at least `engagement_drop`. Customers
/// without `min_baseline_messages` in the baseline window are not repeat customers and are
/// never flagged. Messages after `now_ms` are ignored.
pub fn assess(history: &[Activity], now_ms: i64, cfg: &ChurnConfig) -> Option<ChurnSignal> {
    let recent_start = now_ms - cfg.recent_days * DAY_MS;
    let baseline_start = recent_start - cfg.baseline_days * DAY_MS;
    let baseline: Vec<&Activity> = history
        .iter()
        .filter(|a| a.at_ms >= baseline_start && a.at_ms < recent_start)
        .collect();
    let recent: Vec<&Activity> = history
        .iter()
        .filter(|a| a.at_ms >= recent_start && a.at_ms <= now_ms)
        .collect();
    if baseline.len() < cfg.min_baseline_messages {
        return None;
    }
    let per_week = |n: usize, days: i64| n as f64 * 7.0 / days as f64;
    let baseline_per_week = per_week(baseline.len(), cfg.baseline_days);
    let recent_per_week = per_week(recent.len(), cfg.recent_days);
    let baseline_sentiment = mean(baseline.iter().filter_map(|a| a.sentiment));
    let recent_scored: Vec<f64> = recent.iter().filter_map(|a| a.sentiment).collect();
    let recent_sentiment = mean(recent_scored.iter().copied());
    let mut reasons = Vec::new();
    let mut score: f64 = 0.0;
    if let (Some(b), Some(r)) = (baseline_sentiment, recent_sentiment)
        && recent_scored.len() >= cfg.min_recent_messages
        && b - r >= cfg.sentiment_drop
    {
        reasons.push(ChurnReason::SentimentFell);
        score = score.max(((b - r) / 2.0).clamp(0.0, 1.0));
    }
    let engagement_fall = 1.0 - recent_per_week / baseline_per_week;
    if engagement_fall >= cfg.engagement_drop {
        reasons.push(ChurnReason::EngagementFell);
        score = score.max(engagement_fall.clamp(0.0, 1.0));
    }
    (!reasons.is_empty()).then_some(ChurnSignal {
        reasons,
        score,
        baseline_messages: baseline.len(),
        recent_messages: recent.len(),
        baseline_per_week,
        recent_per_week,
        baseline_sentiment,
        recent_sentiment,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NOW: i64 = 200 * DAY_MS;

    fn at(days_ago: i64, sentiment: f64) -> Activity {
        Activity {
            at_ms: NOW - days_ago * DAY_MS,
            sentiment: Some(sentiment),
        }
    }

    /// Writes every week for three months, warmly.
    fn loyal() -> Vec<Activity> {
        (15..100).step_by(7).map(|d| at(d, 0.6)).collect()
    }

    #[test]
    fn a_loyal_customer_who_keeps_writing_warmly_is_not_flagged() {
        let mut h = loyal();
        h.extend([at(1, 0.5), at(8, 0.7)]);
        assert_eq!(assess(&h, NOW, &ChurnConfig::default()), None);
    }

    #[test]
    fn a_loyal_customer_turning_angry_is_flagged_for_sentiment() {
        let mut h = loyal();
        h.extend([at(2, -0.7), at(9, -0.5)]);
        let s = assess(&h, NOW, &ChurnConfig::default()).unwrap();
        assert_eq!(s.reasons, [ChurnReason::SentimentFell]);
        assert!((s.baseline_sentiment.unwrap() - 0.6).abs() < 1e-9);
        assert!((s.recent_sentiment.unwrap() + 0.6).abs() < 1e-9);
        assert!((s.score - 0.6).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn a_loyal_customer_going_quiet_is_flagged_for_engagement() {
        let s = assess(&loyal(), NOW, &ChurnConfig::default()).unwrap();
        assert_eq!(s.reasons, [ChurnReason::EngagementFell]);
        assert_eq!((s.baseline_messages, s.recent_messages), (13, 0));
        assert!((s.score - 1.0).abs() < 1e-9);
    }

    #[test]
    fn occasional_customers_are_not_repeat_customers() {
        let h = [at(40, 0.8), at(60, 0.8), at(1, -0.9), at(2, -0.9)];
        assert_eq!(assess(&h, NOW, &ChurnConfig::default()), None);
    }

    #[test]
    fn one_bad_message_is_not_a_trend_and_the_future_is_ignored() {
        let cfg = ChurnConfig {
            engagement_drop: 0.9,
            ..ChurnConfig::default()
        };
        let mut h = loyal();
        h.extend([at(1, -0.9), at(-3, -0.9)]);
        assert_eq!(assess(&h, NOW, &cfg), None);
        h.push(at(4, -0.8));
        assert_eq!(
            assess(&h, NOW, &cfg).unwrap().reasons,
            [ChurnReason::SentimentFell]
        );
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let ok = ChurnConfig::default();
        assert_eq!(ok.validate(), Ok(()));
        for bad in [
            ChurnConfig {
                recent_days: 0,
                ..ok
            },
            ChurnConfig {
                baseline_days: 4_000,
                ..ok
            },
            ChurnConfig {
                engagement_drop: 1.0,
                ..ok
            },
            ChurnConfig {
                sentiment_drop: f64::NAN,
                ..ok
            },
            ChurnConfig {
                min_baseline_messages: 0,
                ..ok
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
