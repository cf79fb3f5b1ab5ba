//! Retention (H3): cohort curves from the cohort rollup, and a churn-risk score per customer
//! from their own history. Definitions in docs/METRICS.md (*Retention*).

use sb_alerts::churn::{Activity, ChurnConfig};
use sb_domain::Tier;
use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM` of a month number (months since January 1970).
pub fn month_label(month: i64) -> String {
    format!(
        "{:04}-{:02}",
        1970 + month.div_euclid(12),
        month.rem_euclid(12) + 1
    )
}

/// The month number of `YYYY-MM`, if it is one.
pub fn parse_month(text: &str) -> Option<i64> {
    let (y, m) = text.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i64 = y.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    ((1970..=9999).contains(&y) && (1..=12).contains(&m)).then_some((y - 1970) * 12 + m - 1)
}

/// One month of a cohort's curve: `offset` months after the cohort's first month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CohortPoint {
    pub offset: i64,
    pub month: String,
    /// Customers of the cohort who wrote in this month.
    pub active: i64,
    /// `100 × active / size`, one decimal.
    pub retained_pct: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CohortCurve {
    /// The month of first contact (`YYYY-MM`).
    pub cohort: String,
    /// Customers whose first contact was in that month.
    pub size: i64,
    /// From offset 0 (100 %) to the last month of the report.
    pub curve: Vec<CohortPoint>,
}

/// Curves of the cohorts `from..=to` (month numbers) from the rollup's cells
/// `(cohort, month, customers)`, each running to `through` (the report's last month). A
/// month without a cell had no active customer of the cohort: 0, not missing. Cohorts
/// without customers are left out.
pub fn cohort_curves(
    cells: &[(i64, i64, i64)],
    from: i64,
    to: i64,
    through: i64,
) -> Vec<CohortCurve> {
    let mut out = Vec::new();
    for cohort in from..=to {
        let of = |month: i64| {
            cells
                .iter()
                .find(|(c, m, _)| *c == cohort && *m == month)
                .map_or(0, |(_, _, n)| *n)
        };
        let size = of(cohort);
        if size == 0 {
            continue;
        }
        let curve = (cohort..=through.max(cohort))
            .map(|month| {
                let active = of(month);
                CohortPoint {
                    offset: month - cohort,
                    month: month_label(month),
                    active,
                    retained_pct: (1000.0 * active as f64 / size as f64).round() / 10.0,
                }
            })
            .collect();
        out.push(CohortCurve {
            cohort: month_label(cohort),
            size,
            curve,
        });
    }
    out
}

/// How a customer's churn-risk score is made up (0–100 in all), each part already weighted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskFactors {
    /// Up to 40: the larger of their fall in messages per week and their fall in mean
    /// sentiment against their own baseline.
    pub trajectory: f64,
    /// Up to 30: 10 per open complaint case, at most three.
    pub open_complaints: f64,
    /// Up to 20: how negative their recent mean sentiment is (0 when it is neutral or better).
    pub negativity: f64,
    /// Up to 10: `vip` 10, `premium` 5, `standard` 0.
    pub tier: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskScore {
    /// 0–100, one decimal: the sum of the factors.
    pub score: f64,
    pub factors: RiskFactors,
    /// Messages per week in the baseline window and in the recent window.
    pub baseline_per_week: f64,
    pub recent_per_week: f64,
    /// Mean compound sentiment in each window, when any message there has one.
    pub baseline_sentiment: Option<f64>,
    pub recent_sentiment: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn one_decimal(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The churn-risk score of one customer at `now_ms`, from their messages (time, compound
/// sentiment), open complaint cases and tier. The windows and minimums are those of the churn
/// early warning (`ChurnConfig`): the baseline is the `baseline_days` before the last
/// `recent_days`; the trajectory counts only for a repeat customer (at least
/// `min_baseline_messages` in the baseline), and the sentiment fall only with at least
/// `min_recent_messages` scored recent messages.
pub fn risk_score(
    history: &[Activity],
    open_complaints: u32,
    tier: Tier,
    now_ms: i64,
    cfg: &ChurnConfig,
) -> RiskScore {
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
    let per_week = |n: usize, days: i64| n as f64 * 7.0 / days as f64;
    let baseline_per_week = per_week(baseline.len(), cfg.baseline_days);
    let recent_per_week = per_week(recent.len(), cfg.recent_days);
    let baseline_sentiment = mean(baseline.iter().filter_map(|a| a.sentiment));
    let recent_scored: Vec<f64> = recent.iter().filter_map(|a| a.sentiment).collect();
    let recent_sentiment = mean(recent_scored.iter().copied());
    let mut fall: f64 = 0.0;
    if baseline.len() >= cfg.min_baseline_messages {
        fall = fall.max((1.0 - recent_per_week / baseline_per_week).clamp(0.0, 1.0));
        if let (Some(b), Some(r)) = (baseline_sentiment, recent_sentiment)
            && recent_scored.len() >= cfg.min_recent_messages
        {
            fall = fall.max(((b - r) / 2.0).clamp(0.0, 1.0));
        }
    }
    let factors = RiskFactors {
        trajectory: one_decimal(40.0 * fall),
        open_complaints: f64::from(open_complaints.min(3)) * 10.0,
        negativity: match recent_sentiment {
            Some(r) if r < 0.0 => one_decimal(20.0 * (-r).min(1.0)),
            _ => 0.0,
        },
        tier: match tier {
            Tier::Vip => 10.0,
            Tier::Premium => 5.0,
            Tier::Standard => 0.0,
        },
    };
    RiskScore {
        score: one_decimal(
            factors.trajectory + factors.open_complaints + factors.negativity + factors.tier,
        ),
        factors,
        baseline_per_week,
        recent_per_week,
        baseline_sentiment,
        recent_sentiment,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NOW: i64 = 400 * DAY_MS;

    fn at(days_ago: i64, sentiment: f64) -> Activity {
        Activity {
            at_ms: NOW - days_ago * DAY_MS,
            sentiment: Some(sentiment),
        }
    }

    #[test]
    fn months_print_and_parse_both_ways() {
        assert_eq!(month_label(0), "1970-01");
        assert_eq!(month_label(56 * 12 + 11), "2026-12");
        assert_eq!(parse_month("2026-12"), Some(56 * 12 + 11));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("26-01"), None);
        assert_eq!(parse_month("1969-12"), None);
    }

    #[test]
    fn a_cohort_curve_counts_a_silent_month_as_zero_and_runs_to_the_last_month() {
        // January: 4 customers; 2 wrote again in February, none in March, 1 in April.
        // February: 2 customers, 1 of them back in March.
        let cells = [(0, 0, 4), (0, 1, 2), (0, 3, 1), (1, 1, 2), (1, 2, 1)];
        let curves = cohort_curves(&cells, 0, 2, 3);
        assert_eq!(curves.len(), 2, "March has no cohort: {curves:?}");
        let jan = &curves[0];
        assert_eq!((jan.cohort.as_str(), jan.size), ("1970-01", 4));
        let pct: Vec<f64> = jan.curve.iter().map(|p| p.retained_pct).collect();
        assert_eq!(pct, vec![100.0, 50.0, 0.0, 25.0]);
        let feb = &curves[1];
        assert_eq!(feb.curve.len(), 3);
        assert_eq!(feb.curve[1].active, 1);
        assert_eq!(feb.curve[1].retained_pct, 50.0);
        assert_eq!(feb.curve[2].month, "1970-04");
    }

    #[test]
    fn a_weekly_customer_who_went_quiet_with_an_open_complaint_scores_high() {
        let cfg = ChurnConfig::default();
        // Weekly for the baseline (90 days: 13 messages), warm; nothing in the last 14 days.
        let history: Vec<Activity> = (15..104).step_by(7).map(|d| at(d, 0.5)).collect();
        let r = risk_score(&history, 1, Tier::Premium, NOW, &cfg);
        assert_eq!(r.factors.trajectory, 40.0, "silence is a full fall: {r:?}");
        assert_eq!(r.factors.open_complaints, 10.0);
        assert_eq!(r.factors.negativity, 0.0);
        assert_eq!(r.factors.tier, 5.0);
        assert_eq!(r.score, 55.0);
    }

    #[test]
    fn sentiment_falling_counts_half_its_drop_and_negativity_its_depth() {
        let cfg = ChurnConfig::default();
        // Baseline: 13 messages over 90 days at +0.5 → 1.01 per week. Recent: 2 messages in
        // 14 days at −0.5 → 1.0 per week, so engagement barely fell (1 %).
        let mut history: Vec<Activity> = (15..104).step_by(7).map(|d| at(d, 0.5)).collect();
        history.extend([at(2, -0.5), at(9, -0.5)]);
        let r = risk_score(&history, 0, Tier::Standard, NOW, &cfg);
        // Sentiment fell by 1.0 of 2 → 0.5 × 40 = 20; recent mean −0.5 → 0.5 × 20 = 10.
        assert_eq!(r.factors.trajectory, 20.0, "{r:?}");
        assert_eq!(r.factors.negativity, 10.0);
        assert_eq!(r.score, 30.0);
        assert_eq!(r.recent_sentiment, Some(-0.5));
    }

    #[test]
    fn a_new_customer_has_no_trajectory_and_complaints_count_at_most_three() {
        let cfg = ChurnConfig::default();
        let r = risk_score(&[at(1, 0.0)], 5, Tier::Vip, NOW, &cfg);
        assert_eq!(r.factors.trajectory, 0.0, "one message is no baseline");
        assert_eq!(r.factors.open_complaints, 30.0);
        assert_eq!(r.score, 40.0);
        let quiet = risk_score(&[], 0, Tier::Standard, NOW, &cfg);
        assert_eq!(quiet.score, 0.0);
    }
}
