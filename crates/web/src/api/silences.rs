//! Alert silences (E4) over HTTP: "we know, stop paging" for a while, by series pattern, rule
//! or both, with a reason and an expiry. Silences are stored; every serving and worker
//! process loads those not yet ended into its rule engine at each pipeline sweep, so one set
//! here applies everywhere within a sweep interval and ends by itself at `ends_at`. A covered
//! firing is counted as suppressed (`switchboard_alerts_suppressed_total{reason="silenced"}`),
//! never lost: still breaching when the silence ends, it fires then.
//!
//! The shape of a silence (matcher, window, pattern syntax) is checked by `sb_alerts`, the
//! same code the engine runs.

use crate::AppState;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_alerts::rules::{Silence, SilenceMatcher};
use sb_domain::{Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::StoredSilence;
use serde::{Deserialize, Serialize};

/// Longest a silence may last: a forgotten silence hides real incidents.
pub const MAX_SILENCE_DAYS: i64 = 30;
/// Most silences listed at once (the engine holds at most 1,000).
const LIST_LIMIT: u32 = 1_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceRequest {
    /// A series pattern (`watch:products:*`, `region:eu-west`); `*` is the only wildcard.
    pub series: Option<String>,
    /// One alert rule's id.
    pub rule_id: Option<String>,
    /// RFC 3339; now when absent.
    pub starts_at: Option<String>,
    /// RFC 3339; give this or `minutes`.
    pub ends_at: Option<String>,
    /// How long from `starts_at`; give this or `ends_at`.
    pub minutes: Option<i64>,
    /// Why: shown to whoever wonders why nothing paged.
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SilenceView {
    pub id: String,
    pub series: Option<String>,
    pub rule_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    pub reason: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub ended_by: Option<String>,
    /// `scheduled`, `active` or `ended`.
    pub state: String,
}

fn view(s: StoredSilence, now: Timestamp) -> SilenceView {
    let state = if now >= s.ends_at {
        "ended"
    } else if now < s.starts_at {
        "scheduled"
    } else {
        "active"
    };
    SilenceView {
        id: s.id,
        series: s.series,
        rule_id: s.rule_id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        reason: s.reason,
        created_by: s.created_by,
        created_at: s.created_at,
        ended_by: s.ended_by,
        state: state.to_owned(),
    }
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
    post, path = "/api/v1/silences", tag = "alerts",
    request_body = SilenceRequest,
    responses(
        (status = 201, description = "Stored; the rule engines apply it from their next sweep", body = SilenceView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`silence_empty_matcher`, `silence_invalid_pattern`, `silence_invalid_window` (ends before it starts, already over, longer than 30 days), `silence_missing_accountability` (no reason), `silence_limit`, or a bad time (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SilenceView>), Problem> {
    let req: SilenceRequest = crate::body::json_as(
        raw,
        "{\"series\"?, \"rule_id\"?, \"starts_at\"?, \"ends_at\" | \"minutes\", \"reason\"}",
    )?;
    let now = SystemClock.now();
    let starts_at = match req.starts_at.as_deref() {
        Some(s) => time("starts_at", s)?,
        None => now,
    };
    let ends_at = match (req.ends_at.as_deref(), req.minutes) {
        (Some(e), None) => time("ends_at", e)?,
        (None, Some(m)) if (1..=MAX_SILENCE_DAYS * 24 * 60).contains(&m) => {
            starts_at.plus_millis(m * 60_000)
        }
        (None, Some(_)) => {
            return Err(invalid(
                "minutes",
                format!("`minutes` must be 1 to {}", MAX_SILENCE_DAYS * 24 * 60),
            ));
        }
        _ => {
            return Err(Problem::new(
                ErrorCode::MissingField,
                "give exactly one of `ends_at` and `minutes`",
            )
            .with_field("ends_at"));
        }
    };
    let refuse = |code: &str, detail: String| {
        Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    };
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let silence = Silence {
        id: format!("sil_{}", ulid::Ulid::generate()),
        matcher: SilenceMatcher {
            series: trimmed(&req.series),
            rule_id: trimmed(&req.rule_id),
        },
        starts_at: starts_at.millis(),
        ends_at: ends_at.millis(),
        reason: req.reason.trim().to_owned(),
        created_by: who.actor.clone(),
    };
    silence
        .validate()
        .map_err(|e| refuse(e.code(), e.to_string()))?;
    if ends_at <= now {
        return Err(refuse(
            "silence_invalid_window",
            "the silence would already be over".into(),
        ));
    }
    if ends_at.millis() - starts_at.millis() > MAX_SILENCE_DAYS * 86_400_000 {
        return Err(refuse(
            "silence_invalid_window",
            format!("a silence lasts at most {MAX_SILENCE_DAYS} days"),
        ));
    }
    if state.store.silences(Some(now), LIST_LIMIT).await?.len() >= LIST_LIMIT as usize {
        return Err(refuse(
            "silence_limit",
            format!("too many silences are active (at most {LIST_LIMIT})"),
        ));
    }
    let stored = StoredSilence {
        id: silence.id,
        series: silence.matcher.series,
        rule_id: silence.matcher.rule_id,
        starts_at,
        ends_at,
        reason: silence.reason,
        created_by: silence.created_by,
        created_at: now,
        ended_by: None,
    };
    state.store.insert_silence(&stored).await?;
    Ok((StatusCode::CREATED, Json(view(stored, now))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SilenceQuery {
    /// `current` (default: active and scheduled) or `all` (ended ones too)
    state: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SilenceList {
    /// By start.
    pub items: Vec<SilenceView>,
}

#[utoipa::path(
    get, path = "/api/v1/silences", tag = "alerts",
    params(SilenceQuery),
    responses(
        (status = 200, description = "Silences by start (at most 1,000)", body = SilenceList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<SilenceQuery>, QueryRejection>,
) -> Result<Json<SilenceList>, Problem> {
    let q = super::query(q)?;
    let now = SystemClock.now();
    let since = match q.state.as_deref().unwrap_or("current") {
        "current" => Some(now),
        "all" => None,
        other => {
            return Err(Problem::new(
                ErrorCode::InvalidQuery,
                format!("`state` must be current or all, not `{other}`"),
            )
            .with_field("state"));
        }
    };
    let items = state.store.silences(since, LIST_LIMIT).await?;
    Ok(Json(SilenceList {
        items: items.into_iter().map(|s| view(s, now)).collect(),
    }))
}

#[utoipa::path(
    delete, path = "/api/v1/silences/{id}", tag = "alerts",
    params(("id" = String, Path, description = "Silence id")),
    responses(
        (status = 200, description = "Ended now (an ended silence stays as it was); paging resumes from the next sweep", body = SilenceView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn end(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<SilenceView>, Problem> {
    let now = SystemClock.now();
    let ended = state
        .store
        .end_silence(&id, &who.actor, now)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no silence `{id}`")))?;
    Ok(Json(view(ended, now)))
}
