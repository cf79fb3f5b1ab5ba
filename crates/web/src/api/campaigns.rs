//! Capacity ahead of time (E7, F5) over HTTP: `POST /campaigns/capacity` forecasts contacts
//! per hour from the stored history (the same hour of the week in past weeks), adds the
//! expected lift of the planned campaigns, works out the heads needed by Erlang C, and warns
//! of each hour whose roster falls short — because of a campaign, or already without one
//! (a surge). Nothing is stored: the plan is the request. The computation is
//! `sb_alerts::capacity`.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use sb_alerts::capacity::{Campaign, HOUR_MS, plan, seasonal_forecast};
use sb_alerts::staffing::{Goal, Workload};
use sb_domain::{Clock, ErrorCode, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest plan: two weeks of hours.
pub const MAX_HOURS: u32 = 336;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339, after `starts_at`.
    pub ends_at: String,
    /// Extra contacts while it runs, as a share of the usual: 0.5 is half as many again.
    pub expected_lift: f64,
}

fn one() -> u32 {
    1
}
fn four() -> u32 {
    4
}
fn full() -> f64 {
    1.0
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityRequest {
    /// RFC 3339; the plan starts at the hour it falls in.
    pub from: String,
    /// 1 to 336.
    pub hours: u32,
    #[serde(default)]
    pub campaigns: Vec<CampaignRequest>,
    /// Heads rostered per hour from `from`; the last value holds for the hours after it.
    pub roster: Vec<u32>,
    /// Average handle time of one contact, seconds.
    pub handle_time_s: f64,
    /// Conversations an agent works at once (default 1).
    #[serde(default = "one")]
    pub concurrency: u32,
    /// Answer within this many seconds…
    pub target_s: f64,
    /// …for this share of contacts (0.8 for 80/20).
    pub service_level: f64,
    /// Share of rostered time not available (default 0).
    #[serde(default)]
    pub shrinkage: f64,
    /// Highest acceptable occupancy (default 1).
    #[serde(default = "full")]
    pub max_occupancy: f64,
    /// Past weeks the forecast averages (1 to 12, default 4).
    #[serde(default = "four")]
    pub weeks: u32,
    /// Also raise one `capacity_shortfall` alert per short hour (once per hour, however often
    /// the plan is asked for), handed to operations like any alert: for a schedule to call.
    /// Needs `alerts.manage`.
    #[serde(default)]
    pub raise_alerts: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HourView {
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    pub baseline: f64,
    pub forecast: f64,
    pub campaigns: Vec<String>,
    pub needed_baseline: u32,
    pub needed: u32,
    pub rostered: u32,
    /// `campaign` (short because of the campaigns), `surge` (short even without them).
    pub warning: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CapacityPlan {
    pub hours: Vec<HourView>,
    /// Hours short because of the campaigns.
    pub campaign_warnings: usize,
    /// Hours short even without them.
    pub surge_warnings: usize,
    /// `capacity_shortfall` alerts this call raised (with `raise_alerts`; hours already
    /// alerted are not raised again).
    pub alerts_raised: usize,
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn time(field: &str, raw: &str) -> Result<Timestamp, Problem> {
    Timestamp::parse_rfc3339(raw).ok_or_else(|| {
        invalid(
            field,
            format!("`{field}` must be an RFC 3339 time, not `{raw}`"),
        )
    })
}

#[utoipa::path(
    post, path = "/api/v1/campaigns/capacity", tag = "alerts",
    request_body = CapacityRequest,
    responses(
        (status = 200, description = "Each hour's forecast, heads needed and roster, with warnings where the roster falls short", body = CapacityPlan),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad field (`invalid_field`) or staffing input Erlang C cannot take (`staffing_invalid_input`, `staffing_unreachable`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn capacity(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<crate::auth::Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<CapacityPlan>, Problem> {
    let req: CapacityRequest = crate::body::json_as(
        raw,
        "{\"from\", \"hours\", \"roster\", \"handle_time_s\", \"target_s\", \"service_level\", \"campaigns\"?, …}",
    )?;
    if req.raise_alerts && !who.can(sb_domain::Permission::AlertsManage) {
        return Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "forbidden",
            "raising capacity alerts needs the `alerts.manage` permission",
        ));
    }
    let from = time("from", &req.from)?;
    let first = from.millis() - from.millis().rem_euclid(HOUR_MS);
    if !(1..=MAX_HOURS).contains(&req.hours) {
        return Err(invalid(
            "hours",
            format!("`hours` must be 1 to {MAX_HOURS}"),
        ));
    }
    if req.roster.is_empty() || req.roster.len() > MAX_HOURS as usize {
        return Err(invalid(
            "roster",
            format!("`roster` needs 1 to {MAX_HOURS} hourly head counts"),
        ));
    }
    if !(1..=12).contains(&req.weeks) {
        return Err(invalid("weeks", "`weeks` must be 1 to 12"));
    }
    let mut campaigns = Vec::with_capacity(req.campaigns.len());
    for (i, c) in req.campaigns.iter().enumerate() {
        let at = |f: &str| format!("campaigns[{i}].{f}");
        let starts = time(&at("starts_at"), &c.starts_at)?;
        let ends = time(&at("ends_at"), &c.ends_at)?;
        if ends <= starts {
            return Err(invalid(
                &at("ends_at"),
                "a campaign must end after it starts",
            ));
        }
        if !(c.expected_lift.is_finite() && c.expected_lift > -1.0 && c.expected_lift <= 100.0) {
            return Err(invalid(
                &at("expected_lift"),
                "`expected_lift` must be above -1 and at most 100",
            ));
        }
        if c.name.trim().is_empty() {
            return Err(invalid(&at("name"), "a campaign needs a name"));
        }
        campaigns.push(Campaign {
            name: c.name.trim().to_owned(),
            starts_ms: starts.millis(),
            ends_ms: ends.millis(),
            lift: c.expected_lift,
        });
    }
    let hours: Vec<i64> = (0..i64::from(req.hours))
        .map(|h| first + h * HOUR_MS)
        .collect();
    let week = 7 * 24 * HOUR_MS;
    let since = first - i64::from(req.weeks) * week;
    let until = first + i64::from(req.hours) * HOUR_MS - week;
    let history = state
        .store
        .hourly_volume(Timestamp(since), Timestamp(until))
        .await?;
    let baseline = seasonal_forecast(&history, &hours, req.weeks);
    let workload = Workload {
        interval_s: 3_600.0,
        handle_time_s: req.handle_time_s,
        concurrency: req.concurrency,
    };
    let goal = Goal {
        target_s: req.target_s,
        service_level: req.service_level,
        shrinkage: req.shrinkage,
        max_occupancy: req.max_occupancy,
    };
    let planned = plan(&hours, &baseline, &campaigns, &req.roster, &workload, &goal)
        .map_err(|e| Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    let count = |w: &str| planned.iter().filter(|p| p.warning == Some(w)).count();
    let (campaign_warnings, surge_warnings) = (count("campaign"), count("surge"));
    if campaign_warnings + surge_warnings > 0 {
        metrics::counter!("switchboard_capacity_warnings_total")
            .increment((campaign_warnings + surge_warnings) as u64);
    }
    let mut alerts_raised = 0;
    if req.raise_alerts {
        let now = sb_domain::SystemClock.now();
        for p in planned.iter().filter(|p| p.warning.is_some()) {
            let short = f64::from(p.needed.saturating_sub(p.rostered));
            let mut alert = sb_domain::Alert::detected(
                "capacity",
                sb_domain::AlertKind::CapacityShortfall,
                short / f64::from(p.needed.max(1)),
                Timestamp(p.start_ms),
                p.forecast.round() as i64,
                None,
                now,
            );
            let surge = p.warning == Some("surge");
            alert.severity = Some(if surge { "critical" } else { "warning" }.into());
            alert.summary = Some(format!(
                "Capacity short{}: {} agents needed, {} rostered for {:.0} expected contacts",
                if surge {
                    " even without the campaigns"
                } else {
                    " because of the campaigns"
                },
                p.needed,
                p.rostered,
                p.forecast
            ));
            // One per hour: a later plan finds it stored.
            if state.store.insert_alert(&alert).await? {
                alerts_raised += 1;
                state.events.emit(sb_pipeline::PipelineEvent::AlertRaised {
                    alert_id: alert.id.to_string(),
                    series: alert.series.clone(),
                    kind: alert.kind.as_str().to_owned(),
                    score: alert.score,
                });
            }
        }
    }
    Ok(Json(CapacityPlan {
        hours: planned
            .into_iter()
            .map(|p| HourView {
                start: Timestamp(p.start_ms),
                baseline: p.baseline,
                forecast: p.forecast,
                campaigns: p.campaigns,
                needed_baseline: p.needed_baseline,
                needed: p.needed,
                rostered: p.rostered,
                warning: p.warning.map(str::to_owned),
            })
            .collect(),
        campaign_warnings,
        surge_warnings,
        alerts_raised,
    }))
}
