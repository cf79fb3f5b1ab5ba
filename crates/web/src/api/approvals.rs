//! Approvals (D5) and the record of every reply (D12): replies that offer compensation, grant
//! an exception, touch a regulated topic or are public operational updates wait here until
//! an approver with the right role approves, rejects with a reason, or edits and approves.
//! Every version of a reply's text and every decision is kept.

use crate::AppState;
use crate::api::replies::release;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseId, ErrorCode};
use sb_outbound::Reply;
use sb_store::StoredReply;
use sb_workflow::approvals::{ApprovalError, ApprovalStatus, Decision, Requirement, decide};
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplyRecord {
    pub id: String,
    pub case_id: String,
    pub author: String,
    pub automated: bool,
    /// `pending_approval`, `queued`, `rejected`, or after sending `edited`, `deleted`;
    /// `withdrawn` when taken back before approval.
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: sb_domain::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: sb_domain::Timestamp,
    /// Texts (`versions`, each text the reply ever had; `after_send` marks edits after it
    /// was posted), requirements, decisions, outbox items, and `changes` after sending.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

impl From<StoredReply> for ReplyRecord {
    fn from(r: StoredReply) -> Self {
        Self {
            id: r.id,
            case_id: r.case_id.to_string(),
            author: r.author,
            automated: r.automated,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
            record: r.doc,
        }
    }
}

/// A decision on a reply waiting for approval, as the document describes it (the handler
/// reads it as `sb_workflow::approvals::Decision`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DecisionBody {
    /// `approve`, `reject` (with `reason`) or `edit_and_approve` (with `text`).
    #[schema(pattern = "^(approve|reject|edit_and_approve)$")]
    decision: String,
    reason: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplyQuery {
    /// `pending_approval`, `queued`, `rejected`, `edited`, `deleted` or `withdrawn`
    #[param(pattern = "^(pending_approval|queued|rejected|edited|deleted|withdrawn)$")]
    status: Option<String>,
    /// Case id
    #[param(pattern = "^case_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    case: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/replies", tag = "cases",
    params(ReplyQuery),
    responses(
        (status = 200, description = "Replies, oldest first (at most 500)", body = Vec<ReplyRecord>),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ReplyQuery>, QueryRejection>,
) -> Result<Json<Vec<ReplyRecord>>, Problem> {
    let q = crate::api::query(q)?;
    if let Some(s) = q.status.as_deref()
        && ![
            "pending_approval",
            "queued",
            "rejected",
            "edited",
            "deleted",
            "withdrawn",
        ]
        .contains(&s)
    {
        return Err(
            Problem::new(ErrorCode::InvalidQuery, format!("unknown status `{s}`"))
                .with_field("status"),
        );
    }
    let case = q
        .case
        .as_deref()
        .map(|c| {
            CaseId::parse(c).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery, format!("`{c}` is not a case id"))
                    .with_field("case")
            })
        })
        .transpose()?;
    let replies = state
        .store
        .list_replies(case.as_ref(), q.status.as_deref(), 500)
        .await?;
    Ok(Json(replies.into_iter().map(ReplyRecord::from).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/replies/{id}", tag = "cases",
    params(("id" = String, Path, description = "Reply id")),
    responses(
        (status = 200, body = ReplyRecord),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ReplyRecord>, Problem> {
    let reply = state
        .store
        .reply(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no reply `{id}`")))?;
    Ok(Json(reply.into()))
}

#[utoipa::path(
    post, path = "/api/v1/replies/{id}/decision", tag = "cases",
    params(("id" = String, Path, description = "Reply id")),
    request_body(content = DecisionBody, description = "`{\"decision\": \"approve\"}`, `{\"decision\": \"reject\", \"reason\"}` or `{\"decision\": \"edit_and_approve\", \"text\"}`"),
    responses(
        (status = 200, description = "Decided; an approved reply is in the outbox", body = ReplyRecord),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`approval_role_required`, or `own_reply` (nobody approves their own reply)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`already_decided`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty reason or text (`invalid_field`), or an edited text the guardrails block (`guardrail_violation`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn decision(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReplyRecord>, Problem> {
    let d: Decision = crate::body::json_as(
        body,
        "{\"decision\": \"approve\" | \"reject\" | \"edit_and_approve\", \"reason\"?, \"text\"?}",
    )?;
    let mut reply = state
        .store
        .reply(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no reply `{id}`")))?;
    let status = match reply.status.as_str() {
        "pending_approval" => ApprovalStatus::Pending,
        other => {
            return Err(Problem::custom(
                StatusCode::CONFLICT,
                "already_decided",
                format!("the reply is already {other}"),
            ));
        }
    };
    let requirements: Vec<Requirement> =
        serde_json::from_value(reply.doc["requirements"].clone()).unwrap_or_default();
    let outcome = decide(
        status,
        &requirements,
        &reply.author,
        &who.actor,
        who.role.as_str(),
        &d,
    )
    .map_err(|e| match e {
        ApprovalError::AlreadyDecided { .. } => {
            Problem::custom(StatusCode::CONFLICT, "already_decided", e.to_string())
        }
        ApprovalError::OwnReply { .. } => {
            Problem::custom(StatusCode::FORBIDDEN, "own_reply", e.to_string())
        }
        ApprovalError::RoleNotAllowed { .. } => Problem::custom(
            StatusCode::FORBIDDEN,
            "approval_role_required",
            e.to_string(),
        ),
        other => Problem::new(ErrorCode::InvalidField, other.to_string()),
    })?;
    let flow = state.casework.clone();
    let now = flow.now();
    let mut plan: Vec<Reply> = serde_json::from_value(reply.doc["plan"].clone())
        .map_err(|e| Problem::new(ErrorCode::Internal, format!("unreadable reply: {e}")))?;
    if let Decision::EditAndApprove { text } = &d {
        let case = state.store.case(&reply.case_id).await?;
        let products = case
            .map(|c| sb_pipeline::casework::facts::products(&c.tags))
            .unwrap_or_default();
        if let Some(v) = flow.workflow().guardrails.check(text, &products).first() {
            return Err(Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "guardrail_violation",
                format!("the edited text is blocked: `{}` ({})", v.phrase, v.reason),
            ));
        }
        let original = reply.doc["text"].as_str().unwrap_or_default().to_owned();
        for r in &mut plan {
            if r.text == original {
                r.text.clone_from(text);
            }
        }
        reply.doc["text"] = serde_json::json!(text);
        if let Some(v) = reply.doc["versions"].as_array_mut() {
            v.push(serde_json::json!({ "text": text, "by": who.actor, "at": now }));
        }
        reply.doc["plan"] = serde_json::json!(plan);
    }
    if let Some(list) = reply.doc["decisions"].as_array_mut() {
        list.push(serde_json::json!({
            "by": who.actor, "role": who.role.as_str(), "at": now,
            "outcome": outcome.as_str(), "decision": d,
        }));
    }
    let case_id = reply.case_id.clone();
    let event = if outcome.releases() {
        "reply.approved"
    } else {
        "reply.rejected"
    };
    flow.update(&case_id, &who.actor, false, |edit| {
        edit.event(
            event,
            now,
            serde_json::json!({ "reply_id": id, "outcome": outcome.as_str() }),
        );
        Ok(())
    })
    .await?;
    if outcome.releases() {
        release(&state, &mut reply, &plan, false, now).await?;
    } else {
        reply.status = "rejected".into();
        if !state.store.update_reply(&reply, now).await? {
            return Err(Problem::custom(
                StatusCode::CONFLICT,
                "already_decided",
                "the reply was decided by someone else meanwhile",
            ));
        }
    }
    let stored = state
        .store
        .reply(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no reply `{id}`")))?;
    Ok(Json(stored.into()))
}
