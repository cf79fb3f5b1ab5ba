//! Voice of the customer (H2) and the staffing forecast (H5), read from the message rollup:
//! sentiment per period and group, share of voice among watched terms, and agents per hour.

use super::{bad, csv_response, span, wants_csv};
use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sb_analytics::forecast::{StaffingForecast, forecast, week_of, week_start};
use sb_analytics::messages::MESSAGE_DIMENSIONS;
use sb_domain::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const HOUR_MS: i64 = 3_600_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VoiceParams {
    /// First day (YYYY-MM-DD or RFC 3339); default 30 days before `to`.
    from: Option<String>,
    /// End, exclusive; default now.
    to: Option<String>,
    /// `hour`, `day` (default) or `week` (ISO, from Monday), UTC.
    period: Option<String>,
    /// `all` (default), `platform`, `intent`, `region` or `language`.
    group_by: Option<String>,
    /// Watchlists whose terms compete for share of voice, comma-separated (e.g.
    /// `competitor,brand`); default every list.
    lists: Option<String>,
    /// `json` (default) or `csv` (the trend rows); `Accept: text/csv` also asks for CSV.
    format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SentimentRow {
    /// Start of the period (RFC 3339).
    pub period_start: String,
    pub group: String,
    pub messages: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    /// `100 × negative / messages`.
    pub negative_pct: f64,
    /// Mean compound sentiment (−1..1).
    pub mean_sentiment: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VoiceShare {
    pub list: String,
    pub term: String,
    /// Messages mentioning the term (once per message).
    pub mentions: i64,
    /// `100 × mentions / Σ mentions` of the terms compared.
    pub share_pct: f64,
    /// Share of those mentions in negative messages, in percent.
    pub negative_pct: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VoiceReport {
    pub from: String,
    pub to: String,
    pub period: String,
    pub group_by: String,
    pub trend: Vec<SentimentRow>,
    pub share_of_voice: Vec<VoiceShare>,
}

#[utoipa::path(
    get, path = "/api/v1/reports/voice", tag = "reports",
    params(VoiceParams),
    responses(
        (status = 200, description = "Sentiment per period and group, and share of voice among watched terms, from the message rollup", content((VoiceReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A date, period, grouping or format that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn voice(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<VoiceParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    let (from, to) = span(q.from.as_deref(), q.to.as_deref(), state.casework.now())?;
    let period = q.period.as_deref().unwrap_or("day");
    let bucket = match period {
        "hour" => 1,
        "day" | "week" => 24,
        other => {
            return Err(bad(
                "period",
                format!("`period` must be `hour`, `day` or `week`, got `{other}`"),
            ));
        }
    };
    let group = q.group_by.as_deref().unwrap_or("all");
    if group != "all" && !MESSAGE_DIMENSIONS.contains(&group) {
        return Err(bad(
            "group_by",
            format!(
                "`group_by` must be `all` or one of {}, got `{group}`",
                MESSAGE_DIMENSIONS.join(", ")
            ),
        ));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let from_h = from.millis().div_euclid(HOUR_MS);
    let to_h = (to.millis() + HOUR_MS - 1).div_euclid(HOUR_MS);
    let sums = state
        .store
        .message_sums(group, from_h, to_h, bucket)
        .await?;
    // Per period start (hours) and group: n, positive, neutral, negative, sentiment.
    let mut rows: BTreeMap<(i64, String), [i64; 5]> = BTreeMap::new();
    for s in sums {
        let start = if period == "week" {
            week_start(week_of(s.hour)).max(from_h)
        } else {
            s.hour.max(from_h)
        };
        let r = rows.entry((start, s.value)).or_default();
        r[0] += s.n;
        r[1] += s.positive;
        r[2] += s.neutral;
        r[3] += s.negative;
        r[4] += s.sentiment_milli;
    }
    let trend: Vec<SentimentRow> = rows
        .into_iter()
        .filter(|(_, r)| r[0] > 0)
        .map(|((start, group), r)| SentimentRow {
            period_start: Timestamp(start * HOUR_MS).to_rfc3339(),
            group,
            messages: r[0],
            positive: r[1],
            neutral: r[2],
            negative: r[3],
            negative_pct: 100.0 * r[3] as f64 / r[0] as f64,
            mean_sentiment: r[4] as f64 / 1000.0 / r[0] as f64,
        })
        .collect();
    if csv {
        let mut body = String::from(
            "period_start,group,messages,positive,neutral,negative,negative_pct,mean_sentiment\n",
        );
        for r in &trend {
            body.push_str(&format!(
                "{},{},{},{},{},{},{:.3},{:.4}\n",
                r.period_start,
                sb_analytics::csv::field(&r.group),
                r.messages,
                r.positive,
                r.neutral,
                r.negative,
                r.negative_pct,
                r.mean_sentiment
            ));
        }
        return Ok(csv_response(body, None));
    }
    let lists: Option<Vec<String>> = q.lists.as_deref().map(|l| {
        l.split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    });
    // One bucket for the whole span: every hour divided by more than the last is 0.
    let terms = state
        .store
        .message_sums("term", from_h, to_h, to_h.max(0) + 1)
        .await?;
    let mut mentions: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for t in terms {
        let Some((list, term)) = t.value.split_once(':') else {
            continue;
        };
        if lists
            .as_ref()
            .is_some_and(|ls| !ls.iter().any(|l| l == list))
        {
            continue;
        }
        let m = mentions
            .entry((list.to_owned(), term.to_owned()))
            .or_default();
        m.0 += t.n;
        m.1 += t.negative;
    }
    let total: i64 = mentions.values().map(|m| m.0).sum();
    let mut share_of_voice: Vec<VoiceShare> = mentions
        .into_iter()
        .map(|((list, term), (n, neg))| VoiceShare {
            list,
            term,
            mentions: n,
            share_pct: if total > 0 {
                100.0 * n as f64 / total as f64
            } else {
                0.0
            },
            negative_pct: if n > 0 {
                100.0 * neg as f64 / n as f64
            } else {
                0.0
            },
        })
        .collect();
    share_of_voice.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.term.cmp(&b.term)));
    Ok(Json(VoiceReport {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        period: period.into(),
        group_by: group.into(),
        trend,
        share_of_voice,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffingParams {
    /// Weeks of history the forecast averages, 1–52 (default 4).
    weeks: Option<u32>,
    /// Average handle time of one contact in seconds (default 300).
    handle_time_secs: Option<f64>,
    /// Conversations an agent works at once (default 1).
    concurrency: Option<u32>,
    /// Answer-time target in seconds (default 60).
    target_secs: Option<f64>,
    /// Share to answer within the target, 0–1 exclusive (default 0.8).
    service_level: Option<f64>,
    /// Share of paid time agents are unavailable, 0–1 (default 0.3).
    shrinkage: Option<f64>,
    /// Highest acceptable occupancy, 0–1 (default 0.85).
    max_occupancy: Option<f64>,
}

#[utoipa::path(
    get, path = "/api/v1/reports/staffing", tag = "reports",
    params(StaffingParams),
    responses(
        (status = 200, description = "Contacts forecast for each of the next 168 hours (seasonal by hour of week), the error on a held-out week, and agents per hour by Erlang C", body = Object),
        (status = 400, description = "A parameter out of range (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn staffing(
    State(state): State<AppState>,
    q: Result<Query<StaffingParams>, QueryRejection>,
) -> Result<Json<StaffingForecast>, Problem> {
    let q = crate::api::query(q)?;
    let weeks = q.weeks.unwrap_or(4);
    if !(1..=52).contains(&weeks) {
        return Err(bad("weeks", "`weeks` must be between 1 and 52"));
    }
    let workload = sb_analytics::forecast::Workload {
        interval_s: 3600.0,
        handle_time_s: q.handle_time_secs.unwrap_or(300.0),
        concurrency: q.concurrency.unwrap_or(1),
    };
    let goal = sb_analytics::forecast::Goal {
        target_s: q.target_secs.unwrap_or(60.0),
        service_level: q.service_level.unwrap_or(0.8),
        shrinkage: q.shrinkage.unwrap_or(0.3),
        max_occupancy: q.max_occupancy.unwrap_or(0.85),
    };
    if workload.concurrency == 0 || workload.concurrency > 20 {
        return Err(bad("concurrency", "`concurrency` must be between 1 and 20"));
    }
    let now_h = state.casework.now().millis().div_euclid(HOUR_MS);
    let from_h = now_h + 1;
    let history_from = week_start(week_of(from_h) - i64::from(weeks) - 1);
    let sums = state
        .store
        .message_sums("all", history_from, week_start(week_of(from_h)), 1)
        .await?;
    let hourly: Vec<(i64, i64)> = sums.into_iter().map(|s| (s.hour, s.n)).collect();
    forecast(&hourly, from_h, weeks, &workload, &goal)
        .map(Json)
        .map_err(|e| Problem::custom(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))
}
