//! Retention (G4) over HTTP: the policies in force, how often `serve` applies them, the last
//! runs as the audit trail recorded them, a run on demand, and changing the policies. The
//! configuration file's `[[privacy.retention]]` is in force until a set is saved here; every
//! saved set is kept as a version, and the latest is what the schedule, `switchboard
//! retention run` and runs on demand apply. Customers under legal hold are skipped by every
//! run.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::privacy::{
    Requester, RetentionPolicy, apply_retention, retention_in_force, validate_policies,
};
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json, extract::State};
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::SettingsSave;
use sb_store::settings::RETENTION;
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    /// The saved version in force; 0 while the configuration file's policies are.
    pub version: i64,
    /// `config` or `saved`.
    pub source: String,
    pub saved_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub saved_at: Option<Timestamp>,
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
    let in_force = retention_in_force(state.store.as_ref(), &state.retention.policies).await?;
    Ok(Json(RetentionState {
        policies: in_force.policies,
        version: in_force.version,
        source: if in_force.version == 0 {
            "config"
        } else {
            "saved"
        }
        .into(),
        saved_by: in_force.saved_by,
        saved_at: in_force.saved_at,
        every_hours: state.retention.every_hours,
        runs,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePolicies {
    /// The whole set, replacing the one in force (empty: no retention runs). Each policy:
    /// `class` (`standard`, `personal`, `sensitive`), `days` (1–36,500), `region` (optional);
    /// one per class and region; at most 100.
    pub policies: Vec<RetentionPolicy>,
    /// The `version` the set was edited from (0 while the file's are in force).
    #[schema(minimum = 0)]
    pub base_version: i64,
}

#[utoipa::path(
    put, path = "/api/v1/retention/policies", tag = "privacy",
    request_body = SavePolicies,
    responses(
        (status = 200, description = "Saved as a new version and in force for the next run", body = RetentionState),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Someone saved since `base_version` (`retention_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An unknown class, days out of range, a bad region or a second policy for a class and region (`invalid_field`, naming it); nothing is saved", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: SavePolicies = crate::body::json_as(
        raw,
        "{\"policies\": [{\"class\": \"personal\", \"days\": 365, \"region\"?: \"eu\"}], \"base_version\": 0}",
    )?;
    crate::api::routing::check_base(req.base_version)?;
    validate_policies(&req.policies)
        .map_err(|e| Problem::new(ErrorCode::InvalidField, e.detail).with_field(&e.field))?;
    let before = retention_in_force(state.store.as_ref(), &state.retention.policies).await?;
    let document = serde_json::to_string(&req.policies)
        .map_err(|e| Problem::from(sb_store::StoreError::Corrupt(e.to_string())))?;
    let version = match state
        .store
        .save_settings_document(
            RETENTION,
            req.base_version,
            &document,
            &who.actor,
            SystemClock.now(),
        )
        .await?
    {
        SettingsSave::Saved { version } => version,
        SettingsSave::Stale { latest } => {
            return Err(Problem::custom(
                StatusCode::CONFLICT,
                "retention_changed",
                format!("someone saved the policies meanwhile (version {latest}); read them again and redo the change"),
            )
            .with_field("base_version"));
        }
    };
    let Json(view) = self::state(State(state)).await?;
    Ok(AuditNote::default()
        .subject(format!("privacy.retention:{version}"))
        .change(
            Some(json!({ "version": before.version, "policies": before.policies })),
            Some(json!({ "version": version, "policies": req.policies })),
        )
        .on(Json(view)))
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
    let policies = retention_in_force(state.store.as_ref(), &state.retention.policies)
        .await?
        .policies;
    if policies.is_empty() {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "retention_not_configured",
            "no retention policy is in force ([[privacy.retention]] in the configuration file, or saved here)",
        ));
    }
    let at = SystemClock.now();
    let requester = Requester {
        actor: &who.actor,
        role: Some(who.role.as_str()),
        origin: None,
    };
    let erased = apply_retention(state.store.as_ref(), &policies, at, &requester).await?;
    Ok(Json(RetentionResult { at, erased }))
}
