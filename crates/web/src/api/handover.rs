//! Shift handover (D8): what an agent leaves open — each case with its next SLA deadline,
//! open escalations and latest note — and handing it all to a colleague (or back to the
//! queues) with a note that lands in every case's history.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseId, CasePriority, CaseStatus, ErrorCode, Timestamp};
use sb_store::{CaseFilter, Page};
use serde::{Deserialize, Serialize};

/// The most cases one agent can hold that a handover looks at.
const MAX_CASES: u32 = 500;

#[derive(Serialize, utoipa::ToSchema)]
pub struct HandoverCase {
    pub id: String,
    pub status: CaseStatus,
    pub priority: CasePriority,
    /// The earliest deadline of a running SLA clock not yet breached.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due: Option<Timestamp>,
    /// A running clock has breached: the case comes first.
    pub breached: bool,
    /// Escalations raised and not yet acknowledged.
    #[schema(value_type = Vec<Object>)]
    pub open_escalations: Vec<sb_pipeline::casework::RaisedEscalation>,
    /// The latest internal note.
    pub last_note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HandoverSummary {
    pub agent: String,
    /// Open cases: breached first, then the soonest deadline.
    pub cases: Vec<HandoverCase>,
    /// Cases breached or due within the hour.
    pub due_within_hour: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    /// The colleague taking over; absent: the cases go back to their queues and are assigned
    /// as capacity frees.
    pub to: Option<String>,
    /// What the next shift needs to know (1–2000 characters).
    pub note: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HandoverDone {
    pub from: String,
    pub to: Option<String>,
    pub cases: Vec<String>,
}

async fn open_cases(state: &AppState, agent: &str) -> Result<Vec<CaseId>, Problem> {
    let cases = state
        .store
        .list_cases(
            &CaseFilter {
                assignee: Some(agent.to_owned()),
                ..CaseFilter::default()
            },
            &Page {
                before: None,
                limit: MAX_CASES,
            },
        )
        .await?;
    Ok(cases
        .into_iter()
        .filter(|c| c.status.is_open())
        .map(|c| c.id)
        .collect())
}

fn known_agent(state: &AppState, agent: &str, field: &str) -> Result<(), Problem> {
    if state.casework.workflow().router.agent(agent).is_none() {
        // The agent the route names does not exist; a body naming one is invalid.
        if field == "id" {
            return Err(Problem::not_found(format!(
                "no agent `{agent}` is configured"
            )));
        }
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("no agent `{agent}` is configured"),
        )
        .with_field(field));
    }
    Ok(())
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/handover", tag = "cases",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "The agent's open cases, soonest deadline first", body = HandoverSummary),
        (status = 404, description = "No such agent", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn summary(
    State(state): State<AppState>,
    Path(agent): Path<String>,
) -> Result<Json<HandoverSummary>, Problem> {
    known_agent(&state, &agent, "id")?;
    let now = state.casework.now();
    let mut cases = Vec::new();
    for id in open_cases(&state, &agent).await? {
        let Some(view) = crate::api::casework::work_view(&state, &id).await? else {
            continue;
        };
        let Some(case) = state.store.case(&id).await? else {
            continue;
        };
        let running = || {
            view.sla
                .iter()
                .filter(|c| c.status == sb_workflow::sla::ClockStatus::Running)
        };
        let next_due = running().filter_map(|c| c.due_at).min();
        let breached = running().any(|c| c.breached);
        let last_note = view
            .events
            .iter()
            .rev()
            .find(|e| e.kind == "note")
            .and_then(|e| e.data["text"].as_str().map(str::to_owned));
        cases.push(HandoverCase {
            id: id.to_string(),
            status: case.status,
            priority: case.priority,
            next_due,
            breached,
            open_escalations: view
                .escalations
                .into_iter()
                .filter(|e| e.acknowledged_at.is_none())
                .collect(),
            last_note,
        });
    }
    cases.sort_by_key(|c| (!c.breached, c.next_due.is_none(), c.next_due));
    let hour = Timestamp(now.millis() + 3_600_000);
    let due_within_hour = cases
        .iter()
        .filter(|c| c.breached || c.next_due.is_some_and(|d| d <= hour))
        .count();
    Ok(Json(HandoverSummary {
        agent,
        cases,
        due_within_hour,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/agents/{id}/handover", tag = "cases", request_body = HandoverRequest,
    params(("id" = String, Path, description = "Agent id handing over")),
    responses(
        (status = 200, description = "Every open case moved, with the note in its history", body = HandoverDone),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such agent", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`to` names no agent", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn hand_over(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(agent): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    known_agent(&state, &agent, "id")?;
    let req: HandoverRequest = crate::body::json_as(body, "{\"to\"?, \"note\"}")?;
    let note = req.note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(
            Problem::new(ErrorCode::InvalidField, "`note` must be 1–2000 characters")
                .with_field("note"),
        );
    }
    if let Some(to) = &req.to {
        known_agent(&state, to, "to")?;
        if *to == agent {
            return Err(Problem::new(
                ErrorCode::InvalidField,
                "an agent cannot hand over to themselves",
            )
            .with_field("to"));
        }
    }
    let flow = state.casework.clone();
    let mut moved = Vec::new();
    for id in open_cases(&state, &agent).await? {
        let now = flow.now();
        flow.update(&id, &who.actor, false, |edit| {
            // Another change may have moved the case meanwhile: only the agent's own move.
            if edit.change.assignee.as_deref() != Some(agent.as_str()) {
                return Ok(false);
            }
            edit.assign(req.to.as_deref(), "handover", now);
            edit.event(
                "handover",
                now,
                serde_json::json!({ "from": agent, "to": req.to, "note": note }),
            );
            Ok(true)
        })
        .await
        .map(|u| {
            if u.value {
                moved.push(id.to_string());
            }
        })?;
    }
    let done = HandoverDone {
        from: agent,
        to: req.to,
        cases: moved,
    };
    let note = AuditNote::default().change(
        None,
        Some(serde_json::json!({ "from": done.from, "to": done.to, "cases": done.cases })),
    );
    Ok(note.on(Json(done)))
}
