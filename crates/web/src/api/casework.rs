//! Working a case (D1–D4): status, priority, queue, assignee and tags in one `PATCH`,
//! internal notes, the case's history, acknowledging escalations, and agents' presence.
//! Every change goes through the case workflow, so SLA clocks pause, resume and fulfil with
//! it and each change lands in the history with who made it.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseEvent, CaseId, CasePriority, CaseStatus, ErrorCode};
use sb_pipeline::CaseworkError;
use sb_pipeline::casework::RaisedEscalation;
use sb_workflow::sla::{ClockView, SlaState};
use serde::{Deserialize, Serialize};

/// Longest note or tag accepted.
pub const MAX_NOTE_CHARS: usize = 10_000;
pub const MAX_TAG_CHARS: usize = 64;

impl From<CaseworkError> for Problem {
    fn from(e: CaseworkError) -> Self {
        match e {
            CaseworkError::NotFound(id) => Problem::not_found(format!("no case `{id}`")),
            CaseworkError::Busy(id) => Problem::custom(
                StatusCode::CONFLICT,
                "case_busy",
                format!("case `{id}` kept changing while this change was made; try again"),
            ),
            CaseworkError::Refused { code, detail } => {
                Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
            }
            CaseworkError::Changed(detail) => {
                Problem::custom(StatusCode::CONFLICT, "case_changed", detail)
            }
            CaseworkError::Store(e) => e.into(),
            CaseworkError::Unreadable(e) => {
                tracing::error!(error = %e, "unreadable case workflow state");
                Problem::new(ErrorCode::Internal, "the case could not be read")
            }
        }
    }
}

/// The workflow side of a case: its SLA clocks, escalations and history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseWorkView {
    pub version: i64,
    /// The SLA policy whose clocks run on the case, if one matched.
    pub sla_policy: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub sla: Vec<ClockView>,
    #[schema(value_type = Vec<Object>)]
    pub escalations: Vec<RaisedEscalation>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_response_at: Option<sb_domain::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_resolved_at: Option<sb_domain::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<sb_domain::Timestamp>,
    pub events: Vec<CaseEvent>,
}

pub async fn work_view(state: &AppState, id: &CaseId) -> Result<Option<CaseWorkView>, Problem> {
    let Some(work) = state.store.case_work(id).await? else {
        return Ok(None);
    };
    let sla: Option<SlaState> = work
        .sla
        .clone()
        .and_then(|v| serde_json::from_value(v).ok());
    let escalations = serde_json::from_value(work.escalations.clone()).unwrap_or_default();
    Ok(Some(CaseWorkView {
        version: work.version,
        sla_policy: sla.as_ref().map(|s| s.policy.clone()),
        sla: sla.map(|s| s.clocks().to_vec()).unwrap_or_default(),
        escalations,
        first_response_at: work.first_response_at,
        first_resolved_at: work.first_resolved_at,
        resolved_at: work.resolved_at,
        events: state.store.case_events(id).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseUpdate {
    /// open, pending, on_hold, escalated, resolved, closed
    #[schema(pattern = "^(open|pending|on_hold|escalated|resolved|closed)$")]
    pub status: Option<String>,
    /// low, normal, high, urgent
    #[schema(pattern = "^(low|normal|high|urgent)$")]
    pub priority: Option<String>,
    /// A queue name from the configuration.
    pub queue: Option<String>,
    /// An agent id; `null` unassigns.
    #[serde(default, deserialize_with = "some_or_null")]
    pub assignee: Option<Option<String>>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Refuse (`409 case_changed`) if the case is no longer at this version.
    pub expected_version: Option<i64>,
}

fn some_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn invalid(field: &str, detail: String) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn check_tag(tag: &str) -> Result<(), Problem> {
    if tag.trim().is_empty() || tag.chars().count() > MAX_TAG_CHARS {
        return Err(invalid(
            "add_tags",
            format!("a tag must be 1 to {MAX_TAG_CHARS} characters"),
        ));
    }
    Ok(())
}

#[utoipa::path(
    patch, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    request_body = CaseUpdate,
    responses(
        (status = 200, description = "The case's workflow after the change", body = CaseWorkView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`case_changed`: not at `expected_version`; `case_busy`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status, priority, queue or agent (`invalid_field`), or a status that cannot be set (`invalid_transition`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CaseWorkView>, Problem> {
    let id = parse_id(&id, CaseId::parse, "case")?;
    let req: CaseUpdate = crate::body::json_as(
        body,
        "{\"status\"?, \"priority\"?, \"queue\"?, \"assignee\"?, \"add_tags\"?, \"remove_tags\"?}",
    )?;
    let status = req
        .status
        .as_deref()
        .map(|s| {
            CaseStatus::parse(s).ok_or_else(|| invalid("status", format!("unknown status `{s}`")))
        })
        .transpose()?;
    if status == Some(CaseStatus::New) {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_transition",
            "a case cannot be set back to `new`",
        ));
    }
    let priority = req
        .priority
        .as_deref()
        .map(|s| {
            CasePriority::parse(s)
                .ok_or_else(|| invalid("priority", format!("unknown priority `{s}`")))
        })
        .transpose()?;
    let flow = state.casework.clone();
    let queue = req
        .queue
        .as_deref()
        .map(|q| {
            flow.queue_id(q)
                .map(|id| (q.to_owned(), id))
                .ok_or_else(|| invalid("queue", format!("no queue `{q}` is configured")))
        })
        .transpose()?;
    if let Some(Some(agent)) = &req.assignee
        && flow.workflow().router.agent(agent).is_none()
    {
        return Err(invalid(
            "assignee",
            format!("no agent `{agent}` is configured"),
        ));
    }
    for t in req.add_tags.iter().chain(&req.remove_tags) {
        check_tag(t)?;
    }
    let now = flow.now();
    flow.update(&id, &who.actor, false, |edit| {
        if let Some(v) = req.expected_version
            && v != edit.work.version
        {
            return Err(CaseworkError::Changed(format!(
                "the case is at version {}, not {v}; read it again",
                edit.work.version
            )));
        }
        if let Some(s) = status {
            if edit.change.merged_into.is_some() {
                return Err(CaseworkError::refused(
                    "invalid_transition",
                    "the case was merged into another",
                ));
            }
            edit.set_status(s, now);
        }
        if let Some(p) = priority {
            edit.set_priority(p, now);
        }
        if let Some((name, qid)) = &queue {
            edit.set_queue(name, qid.clone(), now);
        }
        if let Some(a) = &req.assignee {
            edit.assign(a.as_deref(), "manual", now);
        }
        for t in &req.add_tags {
            edit.add_tag(t.trim(), now);
        }
        for t in &req.remove_tags {
            edit.remove_tag(t.trim(), now);
        }
        Ok(())
    })
    .await?;
    // A new priority or product tag may put the case under another SLA policy.
    if priority.is_some() || !req.add_tags.is_empty() || !req.remove_tags.is_empty() {
        flow.rematch_sla(&id, &who.actor, sb_pipeline::casework::REASON_CASE_CHANGED)
            .await?;
    }
    let view = work_view(&state, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    Ok(Json(view))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub text: String,
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/notes", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    request_body = NoteRequest,
    responses(
        (status = 201, description = "The note is in the case's history; customers never see it", body = CaseWorkView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn note(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CaseWorkView>), Problem> {
    let id = parse_id(&id, CaseId::parse, "case")?;
    let req: NoteRequest = crate::body::json_as(body, "{\"text\"}")?;
    let text = req.text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return Err(invalid(
            "text",
            format!("a note must be 1 to {MAX_NOTE_CHARS} characters"),
        ));
    }
    let flow = state.casework.clone();
    let now = flow.now();
    flow.update(&id, &who.actor, false, |edit| {
        edit.note(text, now);
        Ok(())
    })
    .await?;
    let view = work_view(&state, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/escalations/{name}/acknowledge", tag = "cases",
    params(("id" = String, Path, description = "Case id"), ("name" = String, Path, description = "Escalation name")),
    responses(
        (status = 200, description = "The escalation's deadline stops", body = CaseWorkView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or no open escalation of that name", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<CaseWorkView>, Problem> {
    let id = parse_id(&id, CaseId::parse, "case")?;
    let flow = state.casework.clone();
    let now = flow.now();
    let done = flow
        .update(&id, &who.actor, false, |edit| {
            Ok(edit.acknowledge(&name, now))
        })
        .await?;
    if !done.value {
        return Err(Problem::not_found(format!(
            "case `{id}` has no unacknowledged escalation `{name}`"
        )));
    }
    let view = work_view(&state, &id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    Ok(Json(view))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentStatus {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    pub queues: Vec<String>,
    pub capacity: u32,
    /// Open cases assigned to the agent.
    pub load: i64,
    /// online, away or offline
    pub presence: String,
}

#[utoipa::path(
    get, path = "/api/v1/agents", tag = "cases",
    responses(
        (status = 200, description = "Configured agents with their presence and load", body = Vec<AgentStatus>),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn agents(State(state): State<AppState>) -> Result<Json<Vec<AgentStatus>>, Problem> {
    let loads = state.store.agent_loads().await?;
    let presences = state.store.presences().await?;
    let out = state
        .casework
        .workflow()
        .router
        .agents()
        .map(|a| AgentStatus {
            id: a.id.clone(),
            name: a.name.clone(),
            team: a.team.clone(),
            queues: a.queues.clone(),
            capacity: a.capacity,
            load: loads
                .iter()
                .find(|(id, _)| *id == a.id)
                .map_or(0, |(_, n)| *n),
            presence: presences
                .iter()
                .find(|(id, _)| *id == a.id)
                .map_or_else(|| "offline".to_owned(), |(_, p)| p.clone()),
        })
        .collect();
    Ok(Json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    /// online, away or offline
    #[schema(pattern = "^(online|away|offline)$")]
    pub presence: String,
}

#[utoipa::path(
    put, path = "/api/v1/agents/{id}/presence", tag = "cases",
    params(("id" = String, Path, description = "Agent id")),
    request_body = PresenceRequest,
    responses(
        (status = 204, description = "Recorded; waiting cases are offered to an agent who comes online"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn presence(
    State(state): State<AppState>,
    Path(agent): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Problem> {
    let req: PresenceRequest = crate::body::json_as(body, "{\"presence\"}")?;
    let Some(p) = sb_workflow::routing::Presence::parse(&req.presence) else {
        return Err(invalid(
            "presence",
            format!("unknown presence `{}`", req.presence),
        ));
    };
    let flow = state.casework.clone();
    if flow.workflow().router.agent(&agent).is_none() {
        return Err(Problem::not_found(format!(
            "no agent `{agent}` is configured"
        )));
    }
    state
        .store
        .set_presence(&agent, p.as_str(), flow.now())
        .await?;
    flow.assign_waiting().await?;
    Ok(StatusCode::NO_CONTENT)
}
