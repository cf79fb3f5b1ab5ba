//! Retention (G4) over HTTP: the policies in force, how often `serve` applies them, the last
//! runs as the audit trail recorded them, and a run on demand. The policies themselves are
//! set in the configuration file (`[[privacy.retention]]`); customers under legal hold are
//! skipped by every run.

use crate::AppState;
use crate::auth::Principal;
use crate::privacy::{Requester, RetentionPolicy, apply_retention};
use crate::problem::{Problem, ProblemBody};
use axum::http::StatusCode;
use axum::{Extension, Json, extract::State};
use sb_domain::{Clock, SystemClock, Timestamp};
use serde::Serialize;

/// Runs listed, newest first.
const RUNS_LISTED: u32 = 20;

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetentionRun {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who ran it: `cli` (the command or the schedule) or the API caller.
    pub actor: String,
    /// Per policy: `{class, region, days, erased}`.
    #[schema(value_type = Vec<Object>)]
    pub policies: Vec<serde_json::Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetentionState {
    pub policies: Vec<RetentionPolicy>,
    /// Hours between `serve`'s scheduled runs; 0 when only runs on demand happen.
    pub every_hours: u64,
    /// The latest runs, newest first (at most 20).
    pub runs: Vec<RetentionRun>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RetentionResult {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Per policy, in order: messages whose content was erased.
    pub erased: Vec<u64>,
}

#[utoipa::path(
    get, path = "/api/v1/retention", tag = "privacy",
    responses(
        (status = 200, description = "Policies in force, schedule and latest runs", body = RetentionState),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn state(State(state): State<AppState>) -> Result<Json<RetentionState>, Problem> {
    let runs = state
        .store
        .retention_runs(RUNS_LISTED)
        .await?
        .into_iter()
        .map(|e| RetentionRun {
            at: Timestamp(e.record.at_ms),
            actor: e.record.actor,
            policies: e
                .record
                .detail
                .as_ref()
                .and_then(|d| d["after"].as_array().cloned())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Json(RetentionState {
        policies: state.retention.policies.clone(),
        every_hours: state.retention.every_hours,
        runs,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/retention/run", tag = "privacy",
    responses(
        (status = 200, description = "Applied now; recorded in the audit trail as `retention.run`", body = RetentionResult),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "No retention policy is configured (`retention_not_configured`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn run(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<RetentionResult>, Problem> {
    if state.retention.policies.is_empty() {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "retention_not_configured",
            "no retention policy is configured ([[privacy.retention]] in the configuration file)",
        ));
    }
    let at = SystemClock.now();
    let requester = Requester {
        actor: &who.actor,
        role: Some(who.role.as_str()),
        origin: None,
    };
    let erased = apply_retention(
        state.store.as_ref(),
        &state.retention.policies,
        at,
        &requester,
    )
    .await?;
    Ok(Json(RetentionResult { at, erased }))
}
