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

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
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
    let campaigns = parse_campaigns(&req.campaigns)?;
    let settings = Staffing {
        handle_time_s: req.handle_time_s,
        concurrency: req.concurrency,
        target_s: req.target_s,
        service_level: req.service_level,
        shrinkage: req.shrinkage,
        max_occupancy: req.max_occupancy,
        weeks: req.weeks,
    };
    let planned =
        forecast_plan(&state, first, req.hours, &campaigns, &req.roster, &settings).await?;
    let count = |w: &str| planned.iter().filter(|p| p.warning == Some(w)).count();
    let (campaign_warnings, surge_warnings) = (count("campaign"), count("surge"));
    if campaign_warnings + surge_warnings > 0 {
        metrics::counter!("switchboard_capacity_warnings_total")
            .increment((campaign_warnings + surge_warnings) as u64);
    }
    let alerts_raised = if req.raise_alerts {
        raise_shortfalls(&state, &planned).await?
    } else {
        0
    };
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

fn parse_campaigns(requested: &[CampaignRequest]) -> Result<Vec<Campaign>, Problem> {
    let mut campaigns = Vec::with_capacity(requested.len());
    for (i, c) in requested.iter().enumerate() {
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
    Ok(campaigns)
}

/// The staffing goal and workload a plan is worked out for.
struct Staffing {
    handle_time_s: f64,
    concurrency: u32,
    target_s: f64,
    service_level: f64,
    shrinkage: f64,
    max_occupancy: f64,
    weeks: u32,
}

impl Staffing {
    /// An hour's workload, as Erlang C takes it.
    fn workload(&self) -> Workload {
        Workload {
            interval_s: 3_600.0,
            handle_time_s: self.handle_time_s,
            concurrency: self.concurrency,
        }
    }

    fn goal(&self) -> Goal {
        Goal {
            target_s: self.target_s,
            service_level: self.service_level,
            shrinkage: self.shrinkage,
            max_occupancy: self.max_occupancy,
        }
    }
}

/// Forecasts `hours` hours from `first` (an hour start) from the stored history and plans
/// them against the roster.
async fn forecast_plan(
    state: &AppState,
    first: i64,
    hours: u32,
    campaigns: &[Campaign],
    roster: &[u32],
    s: &Staffing,
) -> Result<Vec<sb_alerts::capacity::PlannedHour>, Problem> {
    let hours: Vec<i64> = (0..i64::from(hours)).map(|h| first + h * HOUR_MS).collect();
    let week = 7 * 24 * HOUR_MS;
    let since = first - i64::from(s.weeks) * week;
    let until = first + hours.len() as i64 * HOUR_MS - week;
    let history = state
        .store
        .hourly_volume(Timestamp(since), Timestamp(until))
        .await?;
    let baseline = seasonal_forecast(&history, &hours, s.weeks);
    plan(
        &hours,
        &baseline,
        campaigns,
        roster,
        &s.workload(),
        &s.goal(),
    )
    .map_err(|e| Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))
}

/// Raises one `capacity_shortfall` alert per short hour — once per hour, however often the
/// plan is worked out — and announces it. Answers how many were new.
async fn raise_shortfalls(
    state: &AppState,
    planned: &[sb_alerts::capacity::PlannedHour],
) -> Result<usize, Problem> {
    let now = sb_domain::SystemClock.now();
    let mut raised = 0;
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
            raised += 1;
            state.events.emit(sb_pipeline::PipelineEvent::AlertRaised {
                alert_id: alert.id.to_string(),
                series: alert.series.clone(),
                kind: alert.kind.as_str().to_owned(),
                score: alert.score,
            });
        }
    }
    Ok(raised)
}

fn day() -> u32 {
    24
}
fn hourly() -> u64 {
    60
}

/// The roster `serve` checks on its own (`[staffing]` in the configuration file): heads per
/// hour of the week, the staffing goal, and the planned campaigns. Every `every_minutes` the
/// next `hours_ahead` hours are forecast and planned as `POST /campaigns/capacity` plans them,
/// and each short hour raises one `capacity_shortfall` alert.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingSchedule {
    /// Heads rostered per hour of the day (UTC): seven rows of 24, Monday first.
    pub week: Vec<Vec<u32>>,
    pub handle_time_s: f64,
    #[serde(default = "one")]
    pub concurrency: u32,
    pub target_s: f64,
    pub service_level: f64,
    #[serde(default)]
    pub shrinkage: f64,
    #[serde(default = "full")]
    pub max_occupancy: f64,
    #[serde(default = "four")]
    pub weeks: u32,
    /// Hours checked ahead, 1 to 336 (default 24).
    #[serde(default = "day")]
    pub hours_ahead: u32,
    /// Minutes between checks (default 60).
    #[serde(default = "hourly")]
    pub every_minutes: u64,
    #[serde(default)]
    pub campaigns: Vec<CampaignRequest>,
}

impl StaffingSchedule {
    /// Checks what can be checked before the first run; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.week.len() != 7 || self.week.iter().any(|d| d.len() != 24) {
            return Err("`week` must be seven rows (Monday first) of 24 hourly head counts".into());
        }
        if !(1..=MAX_HOURS).contains(&self.hours_ahead) {
            return Err(format!("`hours_ahead` must be 1 to {MAX_HOURS}"));
        }
        if !(1..=12).contains(&self.weeks) {
            return Err("`weeks` must be 1 to 12".into());
        }
        if self.every_minutes == 0 {
            return Err("`every_minutes` must be at least 1".into());
        }
        parse_campaigns(&self.campaigns).map_err(|p| p.detail().to_owned())?;
        let s = self.staffing();
        sb_alerts::staffing::agents_needed_for(1.0, &s.workload(), &s.goal())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn staffing(&self) -> Staffing {
        Staffing {
            handle_time_s: self.handle_time_s,
            concurrency: self.concurrency,
            target_s: self.target_s,
            service_level: self.service_level,
            shrinkage: self.shrinkage,
            max_occupancy: self.max_occupancy,
            weeks: self.weeks,
        }
    }

    /// Heads rostered in the hour starting at `start_ms` (UTC).
    pub fn rostered_at(&self, start_ms: i64) -> u32 {
        let hours = start_ms.div_euclid(HOUR_MS);
        // 1970-01-01 was a Thursday: day 0 is the fourth of a Monday-first week.
        let weekday = (hours.div_euclid(24) + 3).rem_euclid(7) as usize;
        let hour = hours.rem_euclid(24) as usize;
        self.week
            .get(weekday)
            .and_then(|d| d.get(hour))
            .copied()
            .unwrap_or(0)
    }
}

/// One check of the schedule at `now`: the next `hours_ahead` hours from the current one.
/// Answers the alerts raised (hours already alerted are not raised again).
pub async fn check_capacity(
    state: &AppState,
    schedule: &StaffingSchedule,
    now: Timestamp,
) -> Result<usize, Problem> {
    let first = now.millis() - now.millis().rem_euclid(HOUR_MS);
    let roster: Vec<u32> = (0..i64::from(schedule.hours_ahead))
        .map(|h| schedule.rostered_at(first + h * HOUR_MS))
        .collect();
    let campaigns = parse_campaigns(&schedule.campaigns)?;
    let planned = forecast_plan(
        state,
        first,
        schedule.hours_ahead,
        &campaigns,
        &roster,
        &schedule.staffing(),
    )
    .await?;
    raise_shortfalls(state, &planned).await
}

/// `serve`'s capacity check: at start, then every `every_minutes`.
pub async fn run_schedule(state: AppState, schedule: StaffingSchedule) {
    let mut tick =
        tokio::time::interval(std::time::Duration::from_secs(schedule.every_minutes * 60));
    loop {
        tick.tick().await;
        match check_capacity(&state, &schedule, sb_domain::SystemClock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(alerts = n, "capacity check raised shortfall alerts"),
            Err(e) => tracing::warn!(error = %e.detail(), "capacity check failed; will retry"),
        }
    }
}
