//! Retention (H3): cohort curves by month of first contact, read from the cohort rollup; and
//! each customer's churn-risk score with their lifetime value, as the at-risk accounts list.
//! Definitions in docs/METRICS.md (*Retention*); the figures are `sb_analytics::retention`.

use super::{bad, csv_response, wants_csv};
use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use sb_alerts::churn::{Activity, ChurnConfig};
use sb_analytics::retention::{
    CohortCurve, RiskScore, cohort_curves, month_label, parse_month, risk_score,
};
use sb_domain::Tier;
use serde::{Deserialize, Serialize};

/// The most cohorts (months) one report may cover.
pub const MAX_COHORTS: i64 = 120;
const DEFAULT_COHORTS: i64 = 12;
/// Score from which a customer is on the at-risk list when the request names none.
pub const DEFAULT_MIN_SCORE: f64 = 50.0;
pub const MAX_AT_RISK: usize = 10_000;
const DEFAULT_AT_RISK: usize = 100;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetentionParams {
    /// First cohort, `YYYY-MM`; default 11 months before `to`.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    from: Option<String>,
    /// Last cohort and last month of the curves, `YYYY-MM`; default the current month (UTC).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    to: Option<String>,
    /// `json` (default) or `csv` (one row per cohort and month); `Accept: text/csv` also asks for CSV.
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetentionReport {
    pub from: String,
    pub to: String,
    /// One per month of first contact that has customers, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub cohorts: Vec<CohortCurve>,
}

fn month_param(raw: Option<&str>, field: &str, default: i64) -> Result<i64, Problem> {
    match raw {
        None => Ok(default),
        Some(text) => parse_month(text).ok_or_else(|| {
            bad(
                field,
                format!("`{field}` must be a month as YYYY-MM, got `{text}`"),
            )
        }),
    }
}

#[utoipa::path(
    get, path = "/api/v1/reports/retention", tag = "reports",
    params(RetentionParams),
    responses(
        (status = 200, description = "Cohorts by month of first contact with their retention curves, from the cohort rollup (JSON, or CSV when asked)", content((RetentionReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A month or format that is not understood, or more than 120 cohorts (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn retention(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<RetentionParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let now = state.casework.now();
    let this_month = sb_store::reports::month_of_day(now.millis().div_euclid(86_400_000));
    let to = month_param(q.to.as_deref(), "to", this_month)?;
    let from = month_param(q.from.as_deref(), "from", to - (DEFAULT_COHORTS - 1))?;
    if from > to {
        return Err(bad("from", "`from` must not be after `to`"));
    }
    if to - from + 1 > MAX_COHORTS {
        return Err(bad(
            "from",
            format!("a report covers at most {MAX_COHORTS} cohorts"),
        ));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let cells = state.store.cohort_cells(from, to).await?;
    let cohorts = cohort_curves(&cells, from, to, to);
    if csv {
        let mut body = String::from("cohort,size,offset,month,active,retained_pct\n");
        for c in &cohorts {
            for p in &c.curve {
                body.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    c.cohort, c.size, p.offset, p.month, p.active, p.retained_pct
                ));
            }
        }
        return Ok(csv_response(body, None));
    }
    Ok(Json(RetentionReport {
        from: month_label(from),
        to: month_label(to),
        cohorts,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtRiskParams {
    /// Lowest churn-risk score listed, 0–100 (default 50).
    #[param(minimum = 0, maximum = 100)]
    min_score: Option<f64>,
    /// Most customers listed, 1–10000 (default 100).
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AtRiskAccount {
    pub customer_id: String,
    #[schema(value_type = String)]
    pub tier: Tier,
    pub region: Option<String>,
    pub lifetime_value: f64,
    /// `lifetime_value × score / 100`.
    pub value_at_risk: f64,
    pub open_complaints: u32,
    /// The score (0–100), its factors and the figures behind them.
    #[schema(value_type = Object)]
    pub risk: RiskScore,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AtRiskReport {
    /// Customers scored: those who wrote in the last 104 days or have an open complaint.
    pub scored: usize,
    /// Customers at or above `min_score` (the list may be cut at `limit`).
    pub at_risk: usize,
    /// Σ `value_at_risk` of all those customers.
    pub value_at_risk: f64,
    /// Highest score first, then highest lifetime value.
    pub items: Vec<AtRiskAccount>,
}

#[utoipa::path(
    get, path = "/api/v1/reports/at-risk", tag = "reports",
    params(AtRiskParams),
    responses(
        (status = 200, description = "Customers by churn-risk score (engagement and sentiment against their own baseline, open complaints, tier), with lifetime value and value at risk", content((AtRiskReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A score, limit or format that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn at_risk(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    headers: HeaderMap,
    q: Result<Query<AtRiskParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let min_score = q.min_score.unwrap_or(DEFAULT_MIN_SCORE);
    if !(0.0..=100.0).contains(&min_score) {
        return Err(bad("min_score", "`min_score` must be between 0 and 100"));
    }
    let limit = q.limit.unwrap_or(DEFAULT_AT_RISK);
    if !(1..=MAX_AT_RISK).contains(&limit) {
        return Err(bad(
            "limit",
            format!("`limit` must be between 1 and {MAX_AT_RISK}"),
        ));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let cfg = ChurnConfig::default();
    let now = state.casework.now();
    let since = now.plus_millis(-(cfg.baseline_days + cfg.recent_days) * 86_400_000);
    let histories = state.store.retention_histories(since).await?;
    let mut scored = 0usize;
    let mut items: Vec<AtRiskAccount> = Vec::new();
    for h in histories {
        // A region-limited caller scores and sees only their regions' customers.
        if who.may_read_region(h.region.as_deref()).is_err() {
            continue;
        }
        scored += 1;
        let tier = Tier::parse(&h.tier).unwrap_or(Tier::Standard);
        let activity: Vec<Activity> = h
            .messages
            .iter()
            .map(|(at, sentiment)| Activity {
                at_ms: *at,
                sentiment: *sentiment,
            })
            .collect();
        let risk = risk_score(&activity, h.open_complaints, tier, now.millis(), &cfg);
        if risk.score < min_score {
            continue;
        }
        items.push(AtRiskAccount {
            value_at_risk: (h.lifetime_value * risk.score).round() / 100.0,
            customer_id: h.customer_id,
            tier,
            region: h.region,
            lifetime_value: h.lifetime_value,
            open_complaints: h.open_complaints,
            risk,
        });
    }
    items.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then(b.lifetime_value.total_cmp(&a.lifetime_value))
            .then(a.customer_id.cmp(&b.customer_id))
    });
    let at_risk = items.len();
    let value_at_risk =
        (items.iter().map(|i| i.value_at_risk).sum::<f64>() * 100.0).round() / 100.0;
    items.truncate(limit);
    let res = if csv {
        let mut body = String::from(
            "customer_id,tier,region,lifetime_value,score,value_at_risk,open_complaints,\
             trajectory,complaints,negativity,tier_points\n",
        );
        let f = sb_analytics::csv::field;
        for i in &items {
            body.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                f(&i.customer_id),
                i.tier.as_str(),
                f(i.region.as_deref().unwrap_or("")),
                i.lifetime_value,
                i.risk.score,
                i.value_at_risk,
                i.open_complaints,
                i.risk.factors.trajectory,
                i.risk.factors.open_complaints,
                i.risk.factors.negativity,
                i.risk.factors.tier,
            ));
        }
        csv_response(body, None)
    } else {
        Json(AtRiskReport {
            scored,
            at_risk,
            value_at_risk,
            items,
        })
        .into_response()
    };
    Ok(AuditNote::default().subject("report:at-risk").on(res))
}
