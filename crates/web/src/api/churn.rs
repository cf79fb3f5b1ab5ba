//! Churn early warning (E8) over HTTP: repeat, high-value customers whose engagement or
//! sentiment fell against their own baseline, from the stored message history.
//! `GET /churn` lists them; `POST /churn/scan` also raises one `churn_risk` alert per
//! flagged customer per day (series `customer:<id>`), announced as `alert.raised`, for a
//! schedule (cron, a workflow tool) to call. The decision is `sb_alerts::churn`.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use sb_alerts::churn::{Activity, ChurnConfig, ChurnSignal, assess};
use sb_domain::{Alert, AlertKind, Clock, ErrorCode, SystemClock, Tier, Timestamp};
use sb_pipeline::PipelineEvent;
use serde::{Deserialize, Serialize};

/// Value from which a customer of any tier counts as high-value, when the request names none.
pub const DEFAULT_MIN_VALUE: f64 = 1_000.0;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChurnQuery {
    /// High-value: `premium` or `vip`, or lifetime value at least this (default 1000).
    min_value: Option<f64>,
    /// Days of the baseline window before the recent one (default 90).
    baseline_days: Option<i64>,
    /// Days of the recent window (default 14).
    recent_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AtRisk {
    pub customer_id: String,
    #[schema(value_type = String)]
    pub tier: Tier,
    pub lifetime_value: f64,
    /// `sentiment_fell` and/or `engagement_fell`, with the figures.
    #[schema(value_type = Object)]
    pub signal: ChurnSignal,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChurnList {
    /// Highest score first.
    pub items: Vec<AtRisk>,
    /// `churn_risk` alerts raised by this call (a scan); 0 for a list.
    pub alerts_raised: usize,
}

async fn at_risk(state: &AppState, q: &ChurnQuery) -> Result<(Vec<AtRisk>, Timestamp), Problem> {
    let defaults = ChurnConfig::default();
    let cfg = ChurnConfig {
        baseline_days: q.baseline_days.unwrap_or(defaults.baseline_days),
        recent_days: q.recent_days.unwrap_or(defaults.recent_days),
        ..defaults
    };
    cfg.validate()
        .map_err(|e| Problem::new(ErrorCode::InvalidQuery, e.to_string()))?;
    let min_value = q.min_value.unwrap_or(DEFAULT_MIN_VALUE);
    if !min_value.is_finite() || min_value < 0.0 {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            "`min_value` must be a number of at least 0",
        )
        .with_field("min_value"));
    }
    let now = SystemClock.now();
    let since = now.plus_millis(-(cfg.baseline_days + cfg.recent_days) * 86_400_000);
    let histories = state.store.churn_histories(since, min_value).await?;
    let mut items: Vec<AtRisk> = histories
        .into_iter()
        .filter_map(|h| {
            let activity: Vec<Activity> = h
                .messages
                .iter()
                .map(|(at, sentiment)| Activity {
                    at_ms: at.millis(),
                    sentiment: *sentiment,
                })
                .collect();
            assess(&activity, now.millis(), &cfg).map(|signal| AtRisk {
                customer_id: h.customer_id.to_string(),
                tier: h.tier,
                lifetime_value: h.lifetime_value,
                signal,
            })
        })
        .collect();
    items.sort_by(|a, b| b.signal.score.total_cmp(&a.signal.score));
    Ok((items, now))
}

#[utoipa::path(
    get, path = "/api/v1/churn", tag = "alerts",
    params(ChurnQuery),
    responses(
        (status = 200, description = "Repeat, high-value customers whose engagement or sentiment fell against their own baseline", body = ChurnList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ChurnQuery>, QueryRejection>,
) -> Result<Json<ChurnList>, Problem> {
    let q = super::query(q)?;
    let (items, _) = at_risk(&state, &q).await?;
    Ok(Json(ChurnList {
        items,
        alerts_raised: 0,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/churn/scan", tag = "alerts",
    params(ChurnQuery),
    responses(
        (status = 200, description = "The customers at risk; one `churn_risk` alert per customer and day is raised and announced", body = ChurnList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn scan(
    State(state): State<AppState>,
    q: Result<Query<ChurnQuery>, QueryRejection>,
) -> Result<Json<ChurnList>, Problem> {
    let q = super::query(q)?;
    let (items, now) = at_risk(&state, &q).await?;
    let day = Timestamp(now.millis() - now.millis().rem_euclid(86_400_000));
    let mut raised = 0;
    for r in &items {
        let s = &r.signal;
        let mut alert = Alert::detected(
            &format!("customer:{}", r.customer_id),
            AlertKind::ChurnRisk,
            s.score,
            day,
            i64::try_from(s.recent_messages).unwrap_or(i64::MAX),
            s.recent_sentiment,
            now,
        );
        alert.severity = Some("warning".into());
        let reasons: Vec<&str> = s
            .reasons
            .iter()
            .map(|r| match r {
                sb_alerts::churn::ChurnReason::SentimentFell => "sentiment fell",
                sb_alerts::churn::ChurnReason::EngagementFell => "engagement fell",
            })
            .collect();
        alert.summary = Some(format!(
            "Churn risk: {} ({} customer, {:.1} → {:.1} messages a week)",
            reasons.join(" and "),
            r.tier.as_str(),
            s.baseline_per_week,
            s.recent_per_week
        ));
        // One per customer and day: a second scan the same day finds it stored.
        if state.store.insert_alert(&alert).await? {
            raised += 1;
            state.events.emit(PipelineEvent::AlertRaised {
                alert_id: alert.id.to_string(),
                series: alert.series.clone(),
                kind: alert.kind.as_str().to_owned(),
                score: alert.score,
            });
        }
    }
    metrics::counter!("switchboard_churn_alerts_total").increment(raised as u64);
    Ok(Json(ChurnList {
        items,
        alerts_raised: raised,
    }))
}
