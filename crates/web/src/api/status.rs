//! The operational status feed (F1): operations systems push stock, service status and
//! delivery delays; agents, replies and disruption messages read them back with their age, and
//! a fact older than the configured latency is marked stale.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, FactKind, OpsFact, SystemClock, Timestamp};
use serde::{Deserialize, Serialize};

/// Largest number of facts in one report.
pub const MAX_FACTS: usize = 1_000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportResult {
    /// Facts now held.
    pub stored: usize,
    /// Facts the source observed before the one already held; kept out.
    pub ignored_older: usize,
}

#[utoipa::path(
    post, path = "/api/v1/status", tag = "status",
    request_body(content = StatusReport, description = "`{\"facts\": [{\"kind\": \"inventory\"|\"service_status\"|\"delivery_delay\", \"subject\", \"region\"?, \"source\", \"source_time\", \"value\"}]}`, at most 1,000"),
    responses(
        (status = 200, description = "Stored; older observations than those held are ignored", body = ReportResult),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A fact is invalid (`field` names it, e.g. `facts[2].value.available`); nothing is stored", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<ReportResult>, Problem> {
    let body = crate::body::json_value(raw)?;
    let items = body
        .get("facts")
        .and_then(|f| f.as_array())
        .ok_or_else(|| {
            Problem::new(ErrorCode::InvalidBody, "expected {\"facts\": [...]}").with_field("facts")
        })?;
    if items.is_empty() || items.len() > MAX_FACTS {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`facts` must hold 1 to {MAX_FACTS} facts"),
        )
        .with_field("facts"));
    }
    let now = SystemClock.now();
    let facts = items
        .iter()
        .enumerate()
        .map(|(i, v)| OpsFact::parse(v, &format!("facts[{i}]"), now))
        .collect::<Result<Vec<_>, _>>()?;
    let stored = state.store.upsert_facts(&facts).await?;
    let n = stored.iter().filter(|s| **s).count();
    Ok(Json(ReportResult {
        stored: n,
        ignored_older: stored.len() - n,
    }))
}

/// A report from an operational system, as the document describes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StatusReport {
    /// 1 to 1,000 facts.
    #[schema(min_items = 1, max_items = 1000, value_type = Vec<Object>)]
    facts: Vec<serde_json::Value>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FactQuery {
    /// inventory, service_status or delivery_delay
    #[param(pattern = "^(inventory|service_status|delivery_delay)$")]
    kind: Option<String>,
    subject: Option<String>,
    /// A region code, or `*`
    region: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldFact {
    #[serde(flatten)]
    pub fact: OpsFact,
    /// Seconds since the source observed it.
    pub age_secs: i64,
    /// Older than the configured latency: not to be stated to customers as current.
    pub stale: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FactList {
    pub items: Vec<HeldFact>,
    pub stale_after_secs: i64,
}

#[utoipa::path(
    get, path = "/api/v1/status", tag = "status",
    params(FactQuery),
    responses(
        (status = 200, description = "The latest fact per kind, subject and region, with its age", body = FactList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<FactQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FactList>, Problem> {
    let q = super::query(query)?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(FactKind::parse(k).ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidQuery,
                "`kind` must be inventory, service_status or delivery_delay",
            )
            .with_field("kind")
        })?),
    };
    let facts = state
        .store
        .facts(kind, q.subject.as_deref(), q.region.as_deref())
        .await?;
    let now = SystemClock.now();
    let stale_after = state.status_stale_after_secs;
    Ok(Json(FactList {
        items: facts
            .into_iter()
            .map(|fact| held(fact, now, stale_after))
            .collect(),
        stale_after_secs: stale_after,
    }))
}

pub fn held(fact: OpsFact, now: Timestamp, stale_after_secs: i64) -> HeldFact {
    HeldFact {
        age_secs: fact.age_secs(now),
        stale: fact.is_stale(now, stale_after_secs),
        fact,
    }
}
