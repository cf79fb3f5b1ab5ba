//! Connector health and the outbox: what arrives from each platform, what waits to go out to
//! each target, what failed for good, and each item's delivery log.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use sb_domain::{
    Clock, DeliveryAttempt, ErrorCode, OutboxId, OutboxItem, OutboxStatus, SystemClock,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The window for rates and error rates.
const HOUR_MS: i64 = 3_600_000;
/// The window for events per minute.
const RECENT_MS: i64 = 5 * 60_000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboundHealth {
    pub target: String,
    /// Configured on this server.
    pub configured: bool,
    /// `active`, or `reauthorization_required` while credentials are refused (sending paused).
    pub status: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub status_since: Option<sb_domain::Timestamp>,
    pub reason: Option<String>,
    /// Items waiting to be sent.
    pub queue_depth: i64,
    /// Items refused for good, kept for review.
    pub dead_letters: i64,
    pub attempts_last_hour: i64,
    /// Share of the last hour's attempts that did not deliver (0..1).
    pub error_rate: f64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<sb_domain::Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboundHealth {
    pub source: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_event_at: Option<sb_domain::Timestamp>,
    /// Messages per minute over the last five minutes.
    pub events_per_min: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConnectorHealth {
    pub outbound: Vec<OutboundHealth>,
    pub inbound: Vec<InboundHealth>,
}

#[utoipa::path(
    get, path = "/api/v1/connectors", tag = "connectors",
    responses(
        (status = 200, description = "Health per outbound target and per inbound platform", body = ConnectorHealth),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<ConnectorHealth>, Problem> {
    let now = SystemClock.now();
    let stats = state.store.outbox_stats(now.plus_millis(-HOUR_MS)).await?;
    let states = state.store.target_states().await?;
    let mut names: BTreeSet<String> = state.outbound_targets.iter().cloned().collect();
    names.extend(stats.iter().map(|s| s.target.clone()));
    names.extend(states.iter().map(|s| s.target.clone()));
    let outbound = names
        .into_iter()
        .map(|target| {
            let s = stats.iter().find(|s| s.target == target);
            let st = states.iter().find(|s| s.target == target);
            let attempts = s.map_or(0, |s| s.attempts);
            let failures = s.map_or(0, |s| s.failures);
            OutboundHealth {
                configured: state.outbound_targets.contains(&target),
                status: st.map_or_else(|| "active".to_owned(), |s| s.status.clone()),
                status_since: st.map(|s| s.since),
                reason: st.and_then(|s| s.reason.clone()),
                queue_depth: s.map_or(0, |s| s.pending),
                dead_letters: s.map_or(0, |s| s.dead),
                attempts_last_hour: attempts,
                error_rate: if attempts == 0 {
                    0.0
                } else {
                    failures as f64 / attempts as f64
                },
                last_attempt_at: s.and_then(|s| s.last_attempt_at),
                target,
            }
        })
        .collect();
    let inbound = state
        .store
        .inbound_stats(now.plus_millis(-RECENT_MS))
        .await?
        .into_iter()
        .map(|s| InboundHealth {
            source: s.source,
            last_event_at: s.last_received_at,
            events_per_min: s.recent as f64 / 5.0,
        })
        .collect();
    Ok(Json(ConnectorHealth { outbound, inbound }))
}

#[utoipa::path(
    post, path = "/api/v1/connectors/{target}/resume", tag = "connectors",
    params(("target" = String, Path, description = "Outbound target, e.g. `meta`, `pagerduty`")),
    responses(
        (status = 204, description = "Sending resumes; what waited is delivered"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such target on this server", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn resume(
    State(state): State<AppState>,
    Path(target): Path<String>,
) -> Result<StatusCode, Problem> {
    let known = state.outbound_targets.contains(&target)
        || state
            .store
            .target_states()
            .await?
            .iter()
            .any(|s| s.target == target);
    if !known {
        return Err(Problem::not_found(format!("no outbound target `{target}`")));
    }
    state
        .store
        .set_target_state(&sb_domain::TargetState {
            target,
            status: "active".into(),
            since: SystemClock.now(),
            reason: Some("resumed by an operator".into()),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, delivered or dead
    #[param(pattern = "^(pending|delivered|dead)$")]
    status: Option<String>,
    /// `next_cursor` of the previous page
    #[param(pattern = "^out_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxPage {
    pub items: Vec<OutboxItem>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "connectors",
    params(OutboxQuery),
    responses(
        (status = 200, description = "Outbox items, newest first; `status=dead` lists the dead letters", body = OutboxPage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OutboxPage>, Problem> {
    let q = super::query(query)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(OutboxStatus::parse(s).ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidQuery,
                format!("`status` must be pending, delivered or dead, not `{s}`"),
            )
            .with_field("status")
        })?),
    };
    let page = super::page(q.cursor.as_deref(), q.limit, OutboxId::parse)?;
    let items = state.store.list_outbox(status, &page).await?;
    let next_cursor = super::next_cursor(&items, &page, |i| i.id.to_string());
    Ok(Json(OutboxPage { items, next_cursor }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxDetail {
    #[serde(flatten)]
    pub item: OutboxItem,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

#[utoipa::path(
    get, path = "/api/v1/outbox/{id}", tag = "connectors",
    params(("id" = String, Path, description = "Outbox item id")),
    responses(
        (status = 200, description = "The item and its delivery log", body = OutboxDetail),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OutboxDetail>, Problem> {
    let id = crate::api::messages::parse_id(&id, OutboxId::parse, "outbox item")?;
    let item = state
        .store
        .outbox_item(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no outbox item `{id}`")))?;
    let attempts = state.store.delivery_log(&id).await?;
    Ok(Json(OutboxDetail { item, attempts }))
}
