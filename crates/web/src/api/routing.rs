//! The workflow's routing parts over HTTP (D1–D4, D7): queues, agents and their skills, SLA
//! policies and business calendars, case rules and the escalation matrix, written as TOML
//! with the keys of `[workflow]`. A saved document is checked by compiling the whole
//! workflow with it, kept as a new version, in force in this process at once and in every
//! other process within seconds; the configuration file's routing is the starting point until
//! the first save. The rest of `[workflow]` stays in the file.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::Timestamp;
use sb_pipeline::RoutingApplyError;
use sb_workflow::Workflow;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Versions `GET /api/v1/workflow/routing/versions` lists.
pub const HISTORY: u32 = 50;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRouting {
    /// The routing document: TOML with any of the keys `calendars`, `sla`, `queues`,
    /// `agents`, `rules`, `escalations`, written as in `[workflow]`; at most 512 KiB.
    pub document: String,
    /// Accepted so that a check takes the same body as the save it precedes; not compared
    /// with the latest version (a save is).
    #[schema(minimum = 0)]
    pub base_version: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveRouting {
    /// The routing document, as for a check.
    pub document: String,
    /// The version the document was edited from (`version` of the routing read; 0 while
    /// the configuration file's routing is in force). A save from an older one is refused.
    #[schema(minimum = 0)]
    pub base_version: i64,
}

/// What a routing document puts in force, counted.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingSummary {
    pub queues: Vec<String>,
    pub agents: usize,
    pub sla_policies: usize,
    pub rules: usize,
    pub escalations: usize,
}

impl RoutingSummary {
    fn of(wf: &Workflow) -> Self {
        let mut queues: Vec<String> = wf.router.queues().map(str::to_owned).collect();
        queues.sort_unstable();
        Self {
            queues,
            agents: wf.router.agents().count(),
            sla_policies: wf.sla.len(),
            rules: wf.rules.len(),
            escalations: wf.escalations.len(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingView {
    /// The saved version in force; 0 while it is the configuration file's.
    pub version: i64,
    /// `config` (the configuration file's) or `saved` (saved here).
    pub source: String,
    pub document: String,
    pub saved_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub saved_at: Option<Timestamp>,
    pub summary: RoutingSummary,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingVersion {
    pub version: i64,
    pub document: String,
    pub saved_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub saved_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingVersions {
    /// The latest saved versions, newest first (at most 50).
    pub versions: Vec<RoutingVersion>,
}

/// A `base_version`: 0 (nothing saved yet) or a saved version.
pub(crate) fn check_base(base: i64) -> Result<(), Problem> {
    if base < 0 {
        return Err(Problem::new(
            sb_domain::ErrorCode::InvalidField,
            "`base_version` is 0 or a saved version",
        )
        .with_field("base_version"));
    }
    Ok(())
}

pub(crate) fn problem(e: RoutingApplyError) -> Problem {
    match e {
        RoutingApplyError::Invalid(e) => {
            Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, "invalid_routing", e.to_string())
                .with_field("document")
        }
        RoutingApplyError::Stale { latest } => Problem::custom(
            StatusCode::CONFLICT,
            "routing_changed",
            format!(
                "someone saved the routing meanwhile (version {latest}); read it again and redo the change"
            ),
        )
        .with_field("base_version"),
        RoutingApplyError::NotEditable => Problem::custom(
            StatusCode::CONFLICT,
            "routing_not_editable",
            e.to_string(),
        ),
        RoutingApplyError::Store(e) => Problem::from(e),
    }
}

#[utoipa::path(
    get, path = "/api/v1/workflow/routing", tag = "cases",
    responses(
        (status = 200, description = "The routing document in force, where it comes from, and what it holds", body = RoutingView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(State(state): State<AppState>) -> Result<Json<RoutingView>, Problem> {
    let flow = state.casework.clone();
    let doc = flow.routing_in_force().await.map_err(problem)?;
    Ok(Json(RoutingView {
        version: doc.version,
        source: if doc.version == 0 { "config" } else { "saved" }.into(),
        document: doc.document,
        saved_by: doc.saved_by,
        saved_at: doc.saved_at,
        summary: RoutingSummary::of(&flow.workflow()),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/workflow/routing/versions", tag = "cases",
    responses(
        (status = 200, description = "The saved versions, newest first", body = RoutingVersions),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn versions(State(state): State<AppState>) -> Result<Json<RoutingVersions>, Problem> {
    let versions = state
        .store
        .settings_history(sb_store::settings::ROUTING, HISTORY)
        .await?
        .into_iter()
        .map(|d| RoutingVersion {
            version: d.version,
            document: d.document,
            saved_by: d.saved_by,
            saved_at: d.saved_at,
        })
        .collect();
    Ok(Json(RoutingVersions { versions }))
}

#[utoipa::path(
    post, path = "/api/v1/workflow/routing/check", tag = "cases",
    request_body = CheckRouting,
    responses(
        (status = 200, description = "The document compiles; what it would put in force. Nothing is saved", body = RoutingSummary),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The document does not parse or the workflow it makes does not compile (`invalid_routing`, naming the line or the part)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<RoutingSummary>, Problem> {
    let req: CheckRouting = crate::body::json_as(raw, "{\"document\": \"[[queues]] …\"}")?;
    check_base(req.base_version.unwrap_or(0))?;
    let wf = state
        .casework
        .check_routing(&req.document)
        .map_err(problem)?;
    Ok(Json(RoutingSummary::of(&wf)))
}

#[utoipa::path(
    put, path = "/api/v1/workflow/routing", tag = "cases",
    request_body = SaveRouting,
    responses(
        (status = 200, description = "Saved as a new version and in force; other processes follow within seconds", body = RoutingView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Someone saved since `base_version` (`routing_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The document does not parse or the workflow it makes does not compile (`invalid_routing`); nothing is saved", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: SaveRouting =
        crate::body::json_as(raw, "{\"document\": \"[[queues]] …\", \"base_version\": 0}")?;
    check_base(req.base_version)?;
    let before = state.casework.routing_in_force().await.map_err(problem)?;
    put_in_force(&state, &who, before, req.base_version, req.document).await
}

/// Saves `document` from `base` and answers the routing now in force, with the change in
/// the audit trail.
async fn put_in_force(
    state: &AppState,
    who: &Principal,
    before: sb_pipeline::RoutingInForce,
    base: i64,
    document: String,
) -> Result<Response, Problem> {
    let flow = state.casework.clone();
    let version = flow
        .save_routing(base, &document, &who.actor)
        .await
        .map_err(problem)?;
    let now = flow.routing_in_force().await.map_err(problem)?;
    let view = RoutingView {
        version,
        source: "saved".into(),
        document: now.document,
        saved_by: now.saved_by,
        saved_at: now.saved_at,
        summary: RoutingSummary::of(&flow.workflow()),
    };
    Ok(AuditNote::default()
        .subject(format!("workflow.routing:{version}"))
        .change(
            Some(json!({ "version": before.version, "document": before.document })),
            Some(json!({ "version": version, "document": document })),
        )
        .on(Json(view)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAgent {
    pub name: String,
    /// Queues the agent works, by name.
    #[serde(default)]
    pub queues: Vec<String>,
    pub team: Option<String>,
    /// Skills; empty means any.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    /// Customer tiers (`standard`, `premium`, `vip`).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Open cases the agent holds at once (default 5).
    #[schema(minimum = 1)]
    pub capacity: Option<u32>,
    /// The routing `version` the change was made on.
    #[schema(minimum = 0)]
    pub base_version: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RemoveAgent {
    /// The routing `version` the change was made on.
    #[param(minimum = 0)]
    pub base_version: i64,
}

/// An agent id: 1 to 64 printable characters without `/`.
fn check_agent_id(id: &str) -> Result<(), Problem> {
    if id.is_empty() || id.chars().count() > 64 || id.chars().any(|c| c.is_control() || c == '/') {
        return Err(Problem::new(
            sb_domain::ErrorCode::InvalidField,
            "an agent id is 1 to 64 printable characters without `/`",
        )
        .with_field("id"));
    }
    Ok(())
}

/// The routing in force, if it is still the version the caller changed.
async fn in_force_at(state: &AppState, base: i64) -> Result<sb_pipeline::RoutingInForce, Problem> {
    check_base(base)?;
    let before = state.casework.routing_in_force().await.map_err(problem)?;
    if before.version != base {
        return Err(problem(RoutingApplyError::Stale {
            latest: before.version,
        }));
    }
    Ok(before)
}

#[utoipa::path(
    put, path = "/api/v1/workflow/agents/{id}", tag = "cases",
    params(("id" = String, Path, description = "Agent id")),
    request_body = SaveAgent,
    responses(
        (status = 200, description = "The agent added or replaced in the routing, saved as a new version and in force", body = RoutingView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The routing changed since `base_version` (`routing_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad id (`invalid_field`) or a routing that does not compile with the agent, e.g. an unknown queue (`invalid_routing`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn save_agent(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    check_agent_id(&id)?;
    let req: SaveAgent = crate::body::json_as(
        raw,
        "{\"name\", \"queues\": [\"social\"], \"languages\"?, \"capacity\"?, \"base_version\"}",
    )?;
    let before = in_force_at(&state, req.base_version).await?;
    let list = |v: &[String]| toml::Value::Array(v.iter().map(|s| s.trim().into()).collect());
    let mut agent = toml::Table::new();
    agent.insert("id".into(), id.clone().into());
    agent.insert("name".into(), req.name.trim().into());
    agent.insert("queues".into(), list(&req.queues));
    if let Some(t) = req.team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        agent.insert("team".into(), t.into());
    }
    for (key, v) in [
        ("languages", &req.languages),
        ("regions", &req.regions),
        ("products", &req.products),
        ("tiers", &req.tiers),
    ] {
        if !v.is_empty() {
            agent.insert(key.into(), list(v));
        }
    }
    if let Some(c) = req.capacity {
        agent.insert("capacity".into(), i64::from(c).into());
    }
    let document = sb_workflow::config::with_agent(&before.document, agent)
        .map_err(|e| problem(RoutingApplyError::Invalid(e)))?;
    put_in_force(&state, &who, before, req.base_version, document).await
}

#[utoipa::path(
    delete, path = "/api/v1/workflow/agents/{id}", tag = "cases",
    params(("id" = String, Path, description = "Agent id"), RemoveAgent),
    responses(
        (status = 200, description = "The agent removed from the routing, saved as a new version and in force; their open cases wait for another agent", body = RoutingView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "The routing has no such agent", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The routing changed since `base_version` (`routing_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The routing does not compile without the agent, e.g. a queue's team loses its last member (`invalid_routing`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn remove_agent(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    query: Result<Query<RemoveAgent>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| {
        Problem::new(sb_domain::ErrorCode::InvalidQuery, e.body_text()).with_field("base_version")
    })?;
    let before = in_force_at(&state, q.base_version).await?;
    let Some(document) = sb_workflow::config::without_agent(&before.document, &id)
        .map_err(|e| problem(RoutingApplyError::Invalid(e)))?
    else {
        return Err(Problem::new(
            sb_domain::ErrorCode::NotFound,
            format!("the routing has no agent `{id}`"),
        ));
    };
    put_in_force(&state, &who, before, q.base_version, document).await
}
