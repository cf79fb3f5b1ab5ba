//! Reports (H1–H6): service KPIs read from the rollups the rollup stage keeps
//! (`sb_pipeline::rollup`), never from the facts, so a report costs the same at any history
//! size; and the row-level case export, read from the cases themselves a page at a time.
//! Each is JSON or CSV (`Accept: text/csv` or `format=csv`). Definitions: docs/METRICS.md.

pub mod experiments;
pub mod retention;
pub mod themes;
pub mod voice;

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_analytics::kpi::{DIMENSIONS, Hours, KpiRow, assemble};
use sb_domain::{ErrorCode, Permission, Timestamp};
use sb_store::reports::{KpiQuery, PeriodUnit};
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
/// The longest period one report may cover: ten years of days.
pub const MAX_DAYS: i64 = 3_660;
const DEFAULT_DAYS: i64 = 30;

pub(crate) fn bad(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidQuery, detail).with_field(field)
}

/// An instant as RFC 3339 or a plain `YYYY-MM-DD` date (its midnight, UTC).
pub(crate) fn instant(raw: &str, field: &str) -> Result<Timestamp, Problem> {
    Timestamp::parse_rfc3339(raw)
        .or_else(|| Timestamp::parse_rfc3339(&format!("{raw}T00:00:00Z")))
        .ok_or_else(|| {
            bad(
                field,
                format!("`{field}` must be a date (YYYY-MM-DD) or an RFC 3339 time, got `{raw}`"),
            )
        })
}

/// `[from, to)` of a report: `to` defaults to now, `from` to 30 days earlier; `from` must be
/// before `to`, and the span at most [`MAX_DAYS`].
pub(crate) fn span(
    from: Option<&str>,
    to: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), Problem> {
    let to = to.map(|t| instant(t, "to")).transpose()?.unwrap_or(now);
    let from = from
        .map(|f| instant(f, "from"))
        .transpose()?
        .unwrap_or(to.plus_millis(-DEFAULT_DAYS * DAY_MS));
    if from >= to {
        return Err(bad("from", "`from` must be before `to`"));
    }
    if to.millis() - from.millis() > MAX_DAYS * DAY_MS {
        return Err(bad(
            "to",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Whether the caller asked for CSV: `format=csv`, or `Accept: text/csv` without `format`.
pub(crate) fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, Problem> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(bad(
            "format",
            format!("`format` must be `json` or `csv`, got `{other}`"),
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))),
    }
}

pub(crate) fn csv_response(body: String, extra: Option<(&'static str, String)>) -> Response {
    let mut res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some((name, value)) = extra
        && let Ok(v) = HeaderValue::from_str(&value)
    {
        res.headers_mut().insert(name, v);
    }
    res
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiParams {
    /// First day of the report (YYYY-MM-DD or RFC 3339; UTC days); default 30 days before `to`.
    from: Option<String>,
    /// End of the report, exclusive; a time inside a day includes that day. Default now.
    to: Option<String>,
    /// `all` (default), `platform`, `queue`, `team`, `agent`, `intent`, `region` or `tier`.
    group_by: Option<String>,
    /// `day` (default), `week` (ISO, from Monday) or `month`.
    period: Option<String>,
    /// `calendar` (default) or `business` (the SLA policy's business hours).
    hours: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also asks for CSV.
    format: Option<String>,
    /// Cost of one agent hour, to price a resolution; without it `cost_per_resolution` is `null`.
    hourly_cost: Option<f64>,
}

/// A KPI report: one row per period and group that had any activity.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    /// First day covered (YYYY-MM-DD, UTC).
    pub from: String,
    /// First day no longer covered.
    pub to: String,
    pub group_by: String,
    pub period: String,
    pub hours: String,
    /// When the rollups last folded new facts (RFC 3339); reports lag the facts by about
    /// the rollup period (a second).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub rollup_updated_at: Option<Timestamp>,
    /// Per period and group: counts, durations (count, mean, estimated median and p90 in
    /// milliseconds), SLA attainment, backlog, FCR, CSAT, NPS, CES and cost per resolution.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<KpiRow>,
}

fn unit_of(period: Option<&str>) -> Result<(PeriodUnit, &'static str), Problem> {
    match period.unwrap_or("day") {
        "day" => Ok((PeriodUnit::Day, "day")),
        "week" => Ok((PeriodUnit::Week, "week")),
        "month" => Ok((PeriodUnit::Month, "month")),
        other => Err(bad(
            "period",
            format!("`period` must be `day`, `week` or `month`, got `{other}`"),
        )),
    }
}

fn dimension_of(group_by: Option<&str>) -> Result<&str, Problem> {
    let g = group_by.unwrap_or("all");
    if g == "all" || DIMENSIONS.contains(&g) {
        Ok(g)
    } else {
        Err(bad(
            "group_by",
            format!(
                "`group_by` must be `all` or one of {}, got `{g}`",
                DIMENSIONS.join(", ")
            ),
        ))
    }
}

/// A caller whose access is limited to some regions sees only those regions' figures:
/// grouped by region, their rows only.
fn region_rows(who: &Principal, dim: &str, rows: &mut Vec<KpiRow>) -> Result<(), Problem> {
    let Some(allowed) = &who.regions else {
        return Ok(());
    };
    if dim != "region" {
        return Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "region_denied",
            format!(
                "your access covers the regions {}: ask for `group_by=region`",
                allowed.join(", ")
            ),
        ));
    }
    rows.retain(|r| allowed.iter().any(|a| a.eq_ignore_ascii_case(&r.group)));
    Ok(())
}

#[utoipa::path(
    get, path = "/api/v1/reports/kpis", tag = "reports",
    params(KpiParams),
    responses(
        (status = 200, description = "Service KPIs per period and group, from the rollups (JSON, or CSV when asked)", content((KpiReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A date, grouping, period, hours, format or cost that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (`forbidden`), or a region-limited caller asked for another grouping (`region_denied`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn kpis(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    headers: HeaderMap,
    q: Result<Query<KpiParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let (from, to) = span(q.from.as_deref(), q.to.as_deref(), state.casework.now())?;
    let dim = dimension_of(q.group_by.as_deref())?.to_owned();
    let (unit, period) = unit_of(q.period.as_deref())?;
    let hours_name = q.hours.as_deref().unwrap_or("calendar");
    let hours = Hours::parse(hours_name).ok_or_else(|| {
        bad(
            "hours",
            format!("`hours` must be `calendar` or `business`, got `{hours_name}`"),
        )
    })?;
    if let Some(c) = q.hourly_cost
        && !(c.is_finite() && c >= 0.0)
    {
        return Err(bad("hourly_cost", "`hourly_cost` must be a number ≥ 0"));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let from_day = from.millis().div_euclid(DAY_MS);
    // A `to` inside a day includes that day.
    let to_day = (to.millis() + DAY_MS - 1).div_euclid(DAY_MS);
    let query = KpiQuery {
        dim: dim.clone(),
        from_day,
        to_day,
        unit,
    };
    let sums = state.store.kpi_sums(&query).await?;
    let backlog = state.store.kpi_backlog_changes(&dim, to_day).await?;
    let mut rows = assemble(&query, &sums, &backlog, hours, q.hourly_cost);
    region_rows(&who, &dim, &mut rows)?;
    if csv {
        let mut body = String::from(sb_analytics::kpi::report::CSV_HEADER);
        body.push('\n');
        for r in &rows {
            body.push_str(&sb_analytics::kpi::report::csv_row(
                &r.period_start,
                &r.group,
                &r.figures,
            ));
            body.push('\n');
        }
        return Ok(csv_response(body, None));
    }
    let marks = state.store.rollup_marks().await?;
    let updated = marks
        .iter()
        .find(|m| m.name == "kpi")
        .map(|m| m.updated_at)
        .filter(|t| t.millis() > 0);
    Ok(Json(KpiReport {
        from: sb_analytics::kpi::report::date_of_day(from_day),
        to: sb_analytics::kpi::report::date_of_day(to_day),
        group_by: dim,
        period: period.into(),
        hours: hours_name.into(),
        rollup_updated_at: updated,
        rows,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Cases opened from (YYYY-MM-DD or RFC 3339); default 30 days before `to`.
    from: Option<String>,
    /// Cases opened before (exclusive); default now.
    to: Option<String>,
    /// The `Next-Cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page, 1–10000 (default 1000).
    limit: Option<u32>,
}

/// Rows per export page when the request names none, and the most it may ask for.
pub const EXPORT_DEFAULT_LIMIT: u32 = 1_000;
pub const EXPORT_MAX_LIMIT: u32 = 10_000;

pub const CASES_CSV_HEADER: &str = "id,customer_id,source,channel,status,priority,queue,assignee,\
subject,language,region,tier,message_count,last_sentiment,opened_at,first_response_at,\
first_resolved_at,resolved_at";

fn time_field(t: Option<i64>) -> String {
    t.map(|t| Timestamp(t).to_rfc3339()).unwrap_or_default()
}

#[utoipa::path(
    get, path = "/api/v1/reports/cases.csv", tag = "reports",
    params(ExportParams),
    responses(
        (status = 200, description = "One CSV row per case opened in the period, in id order; the `Next-Cursor` header names the next page while there is one. Subjects are redacted for callers without `personal.read`", content_type = "text/csv", body = String),
        (status = 400, description = "A date, cursor or limit that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn cases_csv(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
    q: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let (from, to) = span(q.from.as_deref(), q.to.as_deref(), state.casework.now())?;
    let limit = q.limit.unwrap_or(EXPORT_DEFAULT_LIMIT);
    if !(1..=EXPORT_MAX_LIMIT).contains(&limit) {
        return Err(bad(
            "limit",
            format!("`limit` must be between 1 and {EXPORT_MAX_LIMIT}"),
        ));
    }
    if let Some(c) = q.cursor.as_deref()
        && sb_domain::CaseId::parse(c).is_none()
    {
        return Err(bad("cursor", format!("`{c}` is not a cursor")));
    }
    let rows = state
        .store
        .export_cases(from, to, q.cursor.as_deref(), limit)
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    let personal = who.can(Permission::PersonalRead);
    let mut body = String::from(CASES_CSV_HEADER);
    body.push('\n');
    let mut shown = 0usize;
    for r in &rows {
        // A region-limited caller gets only their regions' cases (a page may come back short).
        if who.may_read_region(r.region.as_deref()).is_err() {
            continue;
        }
        shown += 1;
        let subject = if personal {
            r.subject.as_str()
        } else {
            crate::redact::HIDDEN
        };
        let f = sb_analytics::csv::field;
        let line = [
            f(&r.id),
            f(&r.customer_id),
            f(&r.source),
            f(&r.channel),
            f(&r.status),
            f(&r.priority),
            f(r.queue.as_deref().unwrap_or("")),
            f(r.assignee.as_deref().unwrap_or("")),
            f(subject),
            f(r.language.as_deref().unwrap_or("")),
            f(r.region.as_deref().unwrap_or("")),
            f(r.tier.as_deref().unwrap_or("")),
            r.message_count.to_string(),
            r.last_sentiment.map(|s| s.to_string()).unwrap_or_default(),
            Timestamp(r.opened_at).to_rfc3339(),
            time_field(r.first_response_at),
            time_field(r.first_resolved_at),
            time_field(r.resolved_at),
        ]
        .join(",");
        body.push_str(&line);
        body.push('\n');
    }
    metrics::counter!("switchboard_report_export_rows_total", "report" => "cases")
        .increment(shown as u64);
    let res = csv_response(body, next.map(|n| ("next-cursor", n)));
    Ok(AuditNote::default()
        .subject(format!(
            "export:cases:{}..{}",
            from.to_rfc3339(),
            to.to_rfc3339()
        ))
        .on(res))
}

/// The rollups on `/metrics`: every KPI counter summed over all time (`counter` label, as
/// named in `sb_store::reports::KPI_COUNTS`), and how many facts each rollup has folded.
/// Empty when the store does not answer: a scrape never fails for it.
pub async fn prometheus(state: &AppState) -> String {
    let mut out = String::new();
    let q = KpiQuery {
        dim: "all".into(),
        from_day: i64::from(i32::MIN),
        to_day: i64::from(i32::MAX),
        unit: PeriodUnit::Month,
    };
    if let Ok(sums) = state.store.kpi_sums(&q).await {
        let name = "switchboard_kpi_total";
        out.push_str(&format!(
            "# HELP {name} Service KPI counters of the report rollups, over all time (docs/METRICS.md).\n# TYPE {name} counter\n"
        ));
        for (i, counter) in sb_store::reports::KPI_COUNTS.iter().enumerate() {
            let total: i64 = sums.iter().map(|s| s.counters[i]).sum();
            out.push_str(&format!("{name}{{counter=\"{counter}\"}} {total}\n"));
        }
    }
    if let Ok(marks) = state.store.rollup_marks().await {
        let name = "switchboard_rollup_folded_facts";
        out.push_str(&format!(
            "# HELP {name} Facts each report rollup has folded.\n# TYPE {name} gauge\n"
        ));
        for m in marks {
            out.push_str(&format!("{name}{{rollup=\"{}\"}} {}\n", m.name, m.folded));
        }
    }
    out
}
