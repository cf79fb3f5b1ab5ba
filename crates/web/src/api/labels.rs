//! Agents' corrections of the understanding stage (B3) over HTTP. An agent who sees the wrong
//! intent, sentiment, emotion, urgency or topic on a message records the right one; an
//! operator exports a task's corrections as the JSONL `switchboard nlp train --data` reads,
//! so they become the labelled examples of the next training run. Recording a correction does
//! not change what the message shows as the product's own reading: both are kept, side by
//! side, so the next model can be measured against what agents said.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{Clock, Enrichment, ErrorCode, Message, MessageId, SystemClock, Timestamp};
use sb_store::{LabelCorrection, LabelPosition};
use serde::{Deserialize, Serialize};

/// Corrections one export answers with when the request names no `limit`, and the most.
pub const EXPORT_DEFAULT_LIMIT: u32 = 10_000;
pub const EXPORT_MAX_LIMIT: u32 = 50_000;
const MAX_LABEL: usize = 100;
/// Messages an export reads from the store at once.
const EXPORT_READ_CHUNK: usize = 1_000;

/// The tasks the product itself labels, with the labels each allows. Any other task name is
/// an operator's own (a topic taxonomy, say) and takes any label.
const BUILT_IN: [(&str, &[&str]); 4] = [
    ("intent", &sb_domain::message::INTENTS),
    ("sentiment", &["positive", "neutral", "negative"]),
    ("emotion", &["anger", "joy", "optimism", "sadness", "none"]),
    ("urgency", &["low", "normal", "high", "critical"]),
];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// The right label. For `intent`: complaint, inquiry, praise, other; `sentiment`:
    /// positive, neutral, negative; `emotion`: anger, joy, optimism, sadness, none; `urgency`:
    /// low, normal, high, critical; any other task: 1–100 printable characters.
    pub label: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LabelOut {
    pub message_id: String,
    pub task: String,
    pub label: String,
    /// What the product had said for this task when the correction was made, if anything.
    pub previous: Option<String>,
    pub corrected_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub corrected_at: Timestamp,
}

impl From<LabelCorrection> for LabelOut {
    fn from(c: LabelCorrection) -> Self {
        Self {
            message_id: c.message_id.as_str().to_owned(),
            task: c.task,
            label: c.label,
            previous: c.previous,
            corrected_by: c.corrected_by,
            corrected_at: c.corrected_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskCount {
    pub task: String,
    /// Corrections of the task, all labels together.
    pub examples: u64,
    /// Corrections per label, by label.
    pub labels: std::collections::BTreeMap<String, u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LabelTasks {
    /// Every task with corrections, by name.
    pub tasks: Vec<TaskCount>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Corrections to export, oldest first, 1–50000 (default 10000).
    limit: Option<u32>,
    /// The `Next-Cursor` of the previous page.
    cursor: Option<String>,
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn check_task(task: &str) -> Result<(), Problem> {
    crate::api::check_name(task, "task", "a task")
}

/// The label as stored: trimmed, one of the task's labels for a built-in task.
fn check_label(task: &str, label: &str) -> Result<String, Problem> {
    let label = label.trim();
    if let Some((_, allowed)) = BUILT_IN.iter().find(|(t, _)| *t == task) {
        return match allowed.iter().find(|l| **l == label) {
            Some(l) => Ok((*l).to_owned()),
            None => Err(invalid(
                "label",
                format!("a {task} label is one of {}", allowed.join(", ")),
            )),
        };
    }
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        return Err(invalid(
            "label",
            format!("a label is 1 to {MAX_LABEL} printable characters"),
        ));
    }
    Ok(label.to_owned())
}

/// What the product said for the task, for the tasks it labels.
fn product_label(task: &str, e: &Enrichment) -> Option<String> {
    match task {
        "intent" => Some(e.intent.clone()),
        "sentiment" => Some(e.sentiment_label.as_str().to_owned()),
        "emotion" => Some(e.emotion.clone()),
        "urgency" => Some(e.urgency.clone()),
        "topic" => e.topic.clone(),
        _ => None,
    }
}

/// The message, when it exists and the caller may read its customer's region, with its
/// current correction of the task.
async fn readable_message(
    state: &AppState,
    who: &Principal,
    id: &str,
    task: &str,
) -> Result<(Message, Option<LabelCorrection>), Problem> {
    let id = crate::api::messages::parse_id(id, MessageId::parse, "message")?;
    let message = state
        .store
        .message(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no message `{id}`")))?;
    who.may_read_region(
        crate::api::messages::region_of(state, &message)
            .await?
            .as_deref(),
    )?;
    let current = state
        .store
        .labels_of(&id)
        .await?
        .into_iter()
        .find(|c| c.task == task);
    Ok((message, current))
}

/// The audit trail's view of a correction.
fn audited(c: &LabelCorrection) -> serde_json::Value {
    serde_json::json!({ "task": c.task, "label": c.label })
}

#[utoipa::path(
    put, path = "/api/v1/messages/{id}/labels/{task}", tag = "messages",
    request_body = LabelRequest,
    params(
        ("id" = String, Path, description = "Message id"),
        ("task" = String, Path, description = "`intent`, `sentiment`, `emotion`, `urgency`, `topic`, or a task of the operator's own (1–40 of a-z, 0-9, `-`, `_`)"),
    ),
    responses(
        (status = 200, description = "Recorded, replacing the message's earlier correction for the task", body = LabelOut),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad task name or label (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, task)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    check_task(&task)?;
    let req: LabelRequest = crate::body::json_as(raw, "{\"label\": \"complaint\"}")?;
    let label = check_label(&task, &req.label)?;
    let (message, before) = readable_message(&state, &who, &id, &task).await?;
    let correction = LabelCorrection {
        message_id: message.id.clone(),
        previous: message
            .enrichment
            .as_ref()
            .and_then(|e| product_label(&task, e)),
        task,
        label,
        corrected_by: who.actor.clone(),
        corrected_at: SystemClock.now(),
    };
    state.store.put_label(&correction).await?;
    let note =
        audit_note(&message).change(before.as_ref().map(audited), Some(audited(&correction)));
    Ok(note.on(Json(LabelOut::from(correction))))
}

#[utoipa::path(
    delete, path = "/api/v1/messages/{id}/labels/{task}", tag = "messages",
    params(
        ("id" = String, Path, description = "Message id"),
        ("task" = String, Path, description = "The corrected task"),
    ),
    responses(
        (status = 204, description = "The correction is gone; the message is no longer an example of the task"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such message, or no correction of the task on it", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let (message, before) = readable_message(&state, &who, &id, &task).await?;
    if before.is_none() || !state.store.remove_label(&message.id, &task).await? {
        return Err(Problem::not_found(format!(
            "message `{}` has no correction of `{task}`",
            message.id
        )));
    }
    let note = audit_note(&message).change(before.as_ref().map(audited), None);
    Ok(note.on(StatusCode::NO_CONTENT))
}

/// Names the message's customer, so the entry shows in their history.
fn audit_note(message: &Message) -> AuditNote {
    message
        .customer_id
        .as_ref()
        .map(|c| AuditNote::customer(c.as_str()))
        .unwrap_or_default()
}

#[utoipa::path(
    get, path = "/api/v1/labels", tag = "messages",
    responses(
        (status = 200, description = "How many corrections each task has, per label", body = LabelTasks),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn tasks(State(state): State<AppState>) -> Result<Json<LabelTasks>, Problem> {
    let mut tasks: Vec<TaskCount> = Vec::new();
    for c in state.store.label_counts().await? {
        if tasks.last().is_none_or(|t| t.task != c.task) {
            tasks.push(TaskCount {
                task: c.task.clone(),
                examples: 0,
                labels: Default::default(),
            });
        }
        if let Some(t) = tasks.last_mut() {
            t.examples += c.examples;
            t.labels.insert(c.label, c.examples);
        }
    }
    Ok(Json(LabelTasks { tasks }))
}

/// One exported example, as `switchboard nlp train --data FILE.jsonl` reads it.
#[derive(Serialize)]
struct Example<'a> {
    text: &'a str,
    label: &'a str,
    message_id: &'a str,
}

#[utoipa::path(
    get, path = "/api/v1/labels/{task}", tag = "messages",
    params(
        ("task" = String, Path, description = "The corrected task"),
        ExportParams,
    ),
    responses(
        (status = 200, description = "One JSON line `{\"text\", \"label\", \"message_id\"}` per correction, oldest first: the file `switchboard nlp train --data FILE.jsonl` reads. The `Next-Cursor` header names the next page while there is one. Messages erased since, and those outside the caller's regions, are left out (so a page may be shorter than `limit`); callers without `personal.read` get the text with its personal data replaced by its kind", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "A limit or cursor that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad task name (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(task): Path<String>,
    q: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = crate::api::query(q)?;
    check_task(&task)?;
    let limit = q.limit.unwrap_or(EXPORT_DEFAULT_LIMIT);
    if !(1..=EXPORT_MAX_LIMIT).contains(&limit) {
        return Err(crate::api::reports::bad(
            "limit",
            format!("`limit` must be between 1 and {EXPORT_MAX_LIMIT}"),
        ));
    }
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            LabelPosition::parse_cursor(c)
                .ok_or_else(|| crate::api::reports::bad("cursor", format!("`{c}` is not a cursor")))
        })
        .transpose()?;
    let corrections = state
        .store
        .labels_for_task(&task, after.as_ref(), limit)
        .await?;
    let next = (corrections.len() == limit as usize)
        .then(|| corrections.last().map(|c| LabelPosition::of(c).to_cursor()))
        .flatten();
    let personal = who.can(sb_domain::Permission::PersonalRead);
    let mut body = String::new();
    let mut shown = 0u64;
    for chunk in corrections.chunks(EXPORT_READ_CHUNK) {
        let ids: Vec<MessageId> = chunk.iter().map(|c| c.message_id.clone()).collect();
        // Messages outside the caller's regions are left out here.
        let among = state.store.messages_among(&ids).await?;
        let mut messages: std::collections::HashMap<MessageId, Message> =
            crate::api::messages::readable(&state, &who, among)
                .await?
                .into_iter()
                .map(|m| (m.id.clone(), m))
                .collect();
        for c in chunk {
            let Some(mut m) = messages.remove(&c.message_id) else {
                continue;
            };
            // An erased message keeps no text, so it is no example any more.
            if m.text.trim().is_empty() {
                continue;
            }
            if !personal {
                crate::redact::message(&mut m);
            }
            let line = serde_json::to_string(&Example {
                text: &m.text,
                label: &c.label,
                message_id: c.message_id.as_str(),
            })
            .map_err(|e| Problem::internal(format!("cannot encode an example: {e}")))?;
            body.push_str(&line);
            body.push('\n');
            shown += 1;
        }
    }
    metrics::counter!("switchboard_label_export_rows_total").increment(shown);
    let mut res = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        body,
    )
        .into_response();
    if let Some(next) = next
        && let Ok(v) = header::HeaderValue::from_str(&next)
    {
        res.headers_mut().insert("next-cursor", v);
    }
    Ok(AuditNote::default()
        .subject(format!("export:labels:{task}"))
        .on(res))
}
