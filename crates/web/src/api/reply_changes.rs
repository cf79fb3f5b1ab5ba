//! Replies after sending (D12). A posted reply can be edited or deleted from here, where the
//! platform allows it, and a platform's notice that one of our posted replies was edited or
//! removed there is recorded too. Nothing is overwritten: every text the reply ever had
//! stays in its `versions`, and every change — who, when, why, which outbox items carried
//! it — in its `changes`, so supervisors and reviewers can see what the customer saw when.
//!
//! Reply statuses after sending: `queued` (posted or being posted), `edited` (its text was
//! changed after sending), `deleted` (removed from the platform), `withdrawn` (taken back
//! while it waited for approval; never sent).

use crate::AppState;
use crate::api::approvals::ReplyRecord;
use crate::api::replies::MAX_REPLY_CHARS;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseId, ErrorCode, NewOutboxItem, OutboxId, OutboxStatus, Permission, Timestamp};
use sb_outbound::{Change, Payload, Reply, ReplyChange, change_supported};
use sb_store::StoredReply;
use sb_workflow::approvals::ReplyFacts;
use serde::Deserialize;
use serde_json::json;

/// Longest reason accepted for a change.
const MAX_REASON_CHARS: usize = 500;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The new text. It passes the same guardrails as a new reply; a text that would need
    /// approval is refused (`reply_edit_needs_approval`): delete and send a new reply.
    #[schema(min_length = 1, max_length = 8000, pattern = "\\S")]
    pub text: String,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// Why it is taken down; kept with the reply.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

#[utoipa::path(
    patch, path = "/api/v1/replies/{id}", tag = "cases",
    params(("id" = String, Path, description = "Reply id")),
    request_body = EditRequest,
    responses(
        (status = 200, description = "The edit is recorded and queued for the platform", body = ReplyRecord),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Only the reply's author or an approver may change it (`not_reply_author`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Not posted yet (`reply_not_posted`, `reply_in_flight`), deleted (`reply_deleted`), or changed meanwhile (`reply_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long (`invalid_field`), blocked (`guardrail_violation`), needing approval (`reply_edit_needs_approval`), or not editable on the platform (`reply_change_unsupported`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn edit(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReplyRecord>, Problem> {
    let req: EditRequest = crate::body::json_as(body, "{\"text\", \"reason\"?}")?;
    let text = req.text.trim();
    if text.is_empty() || text.chars().count() > MAX_REPLY_CHARS {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`text` must be 1 to {MAX_REPLY_CHARS} characters"),
        )
        .with_field("text"));
    }
    let reason = checked_reason(req.reason.as_deref(), false)?;
    let mut reply = load(&state, &who, &id).await?;
    match reply.status.as_str() {
        "queued" | "edited" => {}
        "pending_approval" => {
            return Err(conflict(
                "reply_not_posted",
                "the reply waits for approval; an approver edits it through its decision",
            ));
        }
        "deleted" | "withdrawn" => {
            return Err(conflict("reply_deleted", "the reply was taken down"));
        }
        other => {
            return Err(conflict(
                "reply_not_posted",
                format!("a {other} reply was never posted"),
            ));
        }
    }
    if reply.doc["text"].as_str() == Some(text) {
        return Ok(Json(reply.into()));
    }
    let change = Change::Edit {
        text: text.to_owned(),
    };
    let posted = posted_items(&state, &reply, &change).await?;
    let flow = state.casework.clone();
    let wf = flow.workflow();
    let case = state.store.case(&reply.case_id).await?;
    let tags = case.map(|c| c.tags).unwrap_or_default();
    let products = sb_pipeline::casework::facts::products(&tags);
    if let Some(v) = wf.guardrails.check(text, &products).first() {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "guardrail_violation",
            format!(
                "blocked before sending: `{}` is not allowed in replies about {}: {}",
                v.phrase, v.product, v.reason
            ),
        ));
    }
    let required_by_rule = tags
        .iter()
        .find_map(|t| t.strip_prefix(sb_pipeline::casework::APPROVAL_TAG_PREFIX));
    let requirements = wf.approvals.requirements(&ReplyFacts {
        text,
        public: true,
        operational_update: false,
        required_by_rule,
    });
    if let Some(r) = requirements.first() {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reply_edit_needs_approval",
            format!(
                "the new text would need approval ({}); delete the reply and send a new one",
                r.reason.as_str()
            ),
        ));
    }
    let now = flow.now();
    reply.doc["text"] = json!(text);
    push(
        &mut reply.doc,
        "versions",
        json!({ "text": text, "by": who.actor, "at": now, "after_send": true }),
    );
    let items = queue_change(&mut reply, &posted, change, &who.actor, reason, now);
    reply.status = "edited".into();
    save(&state, &reply, now).await?;
    enqueue(&state, items, now).await?;
    case_event(&state, &reply, &who.actor, "reply.edited", reason, now).await?;
    Ok(Json(reply.into()))
}

#[utoipa::path(
    post, path = "/api/v1/replies/{id}/delete", tag = "cases",
    params(("id" = String, Path, description = "Reply id")),
    request_body = DeleteRequest,
    responses(
        (status = 200, description = "Deletion recorded and queued for the platform; a reply still waiting for approval is withdrawn. Asking again changes nothing.", body = ReplyRecord),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Only the reply's author or an approver may change it (`not_reply_author`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Still being posted (`reply_in_flight`), rejected (`reply_not_posted`), or changed meanwhile (`reply_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "No reason (`invalid_field`), or not deletable on the platform (`reply_change_unsupported`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ReplyRecord>, Problem> {
    let req: DeleteRequest = crate::body::json_as(body, "{\"reason\"}")?;
    let reason = checked_reason(Some(&req.reason), true)?;
    let mut reply = load(&state, &who, &id).await?;
    let now = state.casework.now();
    match reply.status.as_str() {
        "deleted" | "withdrawn" => return Ok(Json(reply.into())),
        "pending_approval" => {
            push(
                &mut reply.doc,
                "changes",
                json!({ "op": "withdraw", "by": who.actor, "at": now, "reason": reason, "outbox_keys": [] }),
            );
            reply.status = "withdrawn".into();
            save(&state, &reply, now).await?;
            case_event(&state, &reply, &who.actor, "reply.withdrawn", reason, now).await?;
            return Ok(Json(reply.into()));
        }
        "queued" | "edited" => {}
        other => {
            return Err(conflict(
                "reply_not_posted",
                format!("a {other} reply was never posted"),
            ));
        }
    }
    let change = Change::Delete;
    let posted = posted_items(&state, &reply, &change).await?;
    let items = queue_change(&mut reply, &posted, change, &who.actor, reason, now);
    reply.status = "deleted".into();
    save(&state, &reply, now).await?;
    enqueue(&state, items, now).await?;
    case_event(&state, &reply, &who.actor, "reply.deleted", reason, now).await?;
    Ok(Json(reply.into()))
}

/// Records a platform's notice that one of our posted replies — the post it answered with
/// `remote_id` — was edited (`new_text`) or removed there. Answers false when no reply of
/// ours carries that id, and true when it does (recorded now, or already known: our own
/// edit or deletion coming back, or a repeated notice).
pub(crate) async fn record_platform_change(
    state: &AppState,
    remote_id: &str,
    new_text: Option<&str>,
    now: Timestamp,
) -> Result<bool, Problem> {
    // A concurrent change to the same reply makes the save fail: read it again and retry.
    for _ in 0..5 {
        let Some(mut reply) = reply_posted_as(state, remote_id).await? else {
            return Ok(false);
        };
        let (op, kind) = match new_text {
            Some(text) => {
                if reply.doc["text"].as_str() == Some(text) || reply.status == "deleted" {
                    return Ok(true);
                }
                reply.doc["text"] = json!(text);
                push(
                    &mut reply.doc,
                    "versions",
                    json!({ "text": text, "by": "platform", "at": now, "after_send": true }),
                );
                reply.status = "edited".into();
                ("edit", "reply.edited_on_platform")
            }
            None => {
                if reply.status == "deleted" {
                    return Ok(true);
                }
                reply.status = "deleted".into();
                ("delete", "reply.deleted_on_platform")
            }
        };
        push(
            &mut reply.doc,
            "changes",
            json!({ "op": op, "by": "platform", "at": now, "remote_id": remote_id, "outbox_keys": [] }),
        );
        if !state.store.update_reply(&reply, now).await? {
            continue;
        }
        case_event(state, &reply, "platform", kind, None, now).await?;
        metrics::counter!("switchboard_reply_changes_total", "op" => op, "by" => "platform")
            .increment(1);
        return Ok(true);
    }
    Err(conflict(
        "reply_changed",
        "the reply kept changing while the platform's notice was recorded",
    ))
}

/// Our reply whose delivery the platform answered with `remote_id`.
async fn reply_posted_as(
    state: &AppState,
    remote_id: &str,
) -> Result<Option<StoredReply>, Problem> {
    for item in state.store.outbox_by_remote_id(remote_id).await? {
        if item.payload["type"] != "reply" {
            continue;
        }
        let Some(case) = item.subject.as_deref().and_then(CaseId::parse) else {
            continue;
        };
        let id = item.id.to_string();
        let replies = state.store.list_replies(Some(&case), None, 500).await?;
        if let Some(r) = replies.into_iter().find(|r| {
            r.doc["outbox"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|o| o.as_str() == Some(id.as_str())))
        }) {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// The reply, if the caller may change it: its author, or anyone who may approve replies.
async fn load(state: &AppState, who: &Principal, id: &str) -> Result<StoredReply, Problem> {
    let reply = state
        .store
        .reply(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no reply `{id}`")))?;
    if reply.author != who.actor && !who.can(Permission::RepliesApprove) {
        return Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "not_reply_author",
            "only the reply's author or an approver may change it",
        ));
    }
    Ok(reply)
}

fn checked_reason(reason: Option<&str>, required: bool) -> Result<Option<&str>, Problem> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if required => Err(Problem::new(
            ErrorCode::InvalidField,
            "`reason` is required: say why the reply is taken down",
        )
        .with_field("reason")),
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`reason` must be at most {MAX_REASON_CHARS} characters"),
        )
        .with_field("reason")),
        other => Ok(other),
    }
}

fn conflict(code: &str, detail: impl Into<String>) -> Problem {
    Problem::custom(StatusCode::CONFLICT, code, detail)
}

/// The reply's outbox items that were posted, each with what it posted; refused while one is
/// still on its way, or when the platform cannot make `change`.
async fn posted_items(
    state: &AppState,
    reply: &StoredReply,
    change: &Change,
) -> Result<Vec<(String, String, Reply)>, Problem> {
    let ids: Vec<String> = reply.doc["outbox"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut posted = Vec::new();
    for id in ids {
        let Some(item) = OutboxId::parse(&id) else {
            continue;
        };
        let Some(item) = state.store.outbox_item(&item).await? else {
            continue;
        };
        match item.status {
            OutboxStatus::Pending => {
                return Err(conflict(
                    "reply_in_flight",
                    "the reply is still being posted; try again once it is delivered",
                ));
            }
            // Refused by the platform: there is nothing posted to change.
            OutboxStatus::Dead => continue,
            OutboxStatus::Delivered => {}
        }
        let Ok(Payload::Reply(sent)) = serde_json::from_value::<Payload>(item.payload) else {
            continue;
        };
        let Some(remote) = item.remote_id.filter(|r| !r.trim().is_empty()) else {
            return Err(Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reply_change_unsupported",
                format!(
                    "the platform did not name the posted {} reply, so it cannot be changed from here",
                    sent.platform
                ),
            ));
        };
        change_supported(&sent.platform, sent.kind, change).map_err(|why| {
            Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reply_change_unsupported",
                why,
            )
        })?;
        posted.push((item.target, remote, sent));
    }
    if posted.is_empty() {
        return Err(conflict(
            "reply_not_posted",
            "nothing of this reply was posted, so there is nothing to change",
        ));
    }
    Ok(posted)
}

/// Records `change` in the reply's `changes` and answers the outbox items that carry it.
fn queue_change(
    reply: &mut StoredReply,
    posted: &[(String, String, Reply)],
    change: Change,
    actor: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Vec<NewOutboxItem> {
    let n = reply.doc["changes"].as_array().map_or(0, Vec::len);
    let items: Vec<NewOutboxItem> = posted
        .iter()
        .enumerate()
        .map(|(i, (target, remote, sent))| NewOutboxItem {
            target: target.clone(),
            dedup_key: format!("reply-change:{}:{n}:{i}", reply.id),
            payload: serde_json::to_value(Payload::ReplyChange(ReplyChange {
                platform: sent.platform.clone(),
                kind: sent.kind,
                account: sent.account.clone(),
                remote_id: remote.clone(),
                change: change.clone(),
            }))
            .unwrap_or_default(),
            // Same subject as the reply, so the change never overtakes the post it changes.
            subject: Some(reply.case_id.to_string()),
        })
        .collect();
    let keys: Vec<&str> = items.iter().map(|i| i.dedup_key.as_str()).collect();
    push(
        &mut reply.doc,
        "changes",
        json!({ "op": change.name(), "by": actor, "at": now, "reason": reason, "outbox_keys": keys }),
    );
    items
}

async fn save(state: &AppState, reply: &StoredReply, now: Timestamp) -> Result<(), Problem> {
    if state.store.update_reply(reply, now).await? {
        Ok(())
    } else {
        Err(conflict(
            "reply_changed",
            "the reply was changed by someone else meanwhile; read it again",
        ))
    }
}

async fn enqueue(
    state: &AppState,
    items: Vec<NewOutboxItem>,
    now: Timestamp,
) -> Result<(), Problem> {
    let op = if items
        .first()
        .is_some_and(|i| i.payload["change"]["op"] == "edit")
    {
        "edit"
    } else {
        "delete"
    };
    state.store.enqueue(&items, now).await?;
    metrics::counter!("switchboard_reply_changes_total", "op" => op, "by" => "agent").increment(1);
    Ok(())
}

async fn case_event(
    state: &AppState,
    reply: &StoredReply,
    actor: &str,
    kind: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<(), Problem> {
    let reply_id = reply.id.clone();
    state
        .casework
        .update(&reply.case_id, actor, false, |edit| {
            edit.event(kind, now, json!({ "reply_id": reply_id, "reason": reason }));
            Ok(())
        })
        .await?;
    Ok(())
}

fn push(doc: &mut serde_json::Value, field: &str, entry: serde_json::Value) {
    match doc[field].as_array_mut() {
        Some(list) => list.push(entry),
        None => doc[field] = json!([entry]),
    }
}
