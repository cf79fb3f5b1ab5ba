//! Ingest and read one message.

use crate::problem::{Problem, ProblemBody};
use crate::{AppState, body};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bytes::Bytes;
use sb_domain::{Message, MessageId, MessageRevision, NewMessage};
use sb_pipeline::IngestError;
use serde::{Deserialize, Serialize};

/// The generic ingest shape. `author` is a handle string or an object.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct IngestRequest {
    /// Platform: x, facebook, instagram, linkedin, tiktok, threads, email, chat, reviews, generic.
    #[schema(
        pattern = "^(x|facebook|instagram|linkedin|tiktok|threads|email|chat|reviews|generic)$"
    )]
    source: String,
    /// The platform's id for this message; with `source`, the idempotency key.
    #[schema(min_length = 1, max_length = 256, pattern = "\\S")]
    external_id: String,
    #[schema(value_type = AuthorField)]
    author: serde_json::Value,
    /// At most 64 KiB.
    text: String,
    #[schema(format = DateTime)]
    created_at: Option<String>,
    /// The account, page or mailbox it arrived on; defaults to the source.
    channel: Option<String>,
    /// `public` or `private`; defaults by platform.
    visibility: Option<String>,
    /// post, comment, reply, dm, review, email, chat; inferred when absent.
    kind: Option<String>,
    region: Option<String>,
    /// The `external_id` of the message this one answers, on the same source.
    in_reply_to: Option<String>,
    /// Engagement counts such as likes, shares, replies, views.
    #[schema(value_type = Option<Object>)]
    metrics: Option<serde_json::Value>,
}

/// `author`: the handle as a string, or the author's profile.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AuthorField {
    Handle(AuthorHandle),
    Profile(AuthorProfile),
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(min_length = 1, max_length = 256, pattern = "\\S")]
#[allow(dead_code)]
pub struct AuthorHandle(String);

#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuthorProfile {
    /// The author's handle on the platform (`@name`, page-scoped id, e-mail address).
    #[schema(min_length = 1, max_length = 256, pattern = "\\S")]
    handle: String,
    name: Option<String>,
    #[schema(minimum = 0)]
    followers: Option<u64>,
    verified: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IngestResponse {
    pub id: String,
    /// True when this `source` + `external_id` was already stored; nothing new was created.
    pub duplicate: bool,
}

#[utoipa::path(
    post, path = "/api/v1/messages", tag = "messages",
    request_body = IngestRequest,
    responses(
        (status = 202, description = "Stored durably (or already stored)", body = IngestResponse),
        (status = 400, description = "Not JSON, or not an object", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MiB", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or invalid", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Saturated; retry after the indicated delay", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestResponse>), Problem> {
    let value = body::json_value(body)?;
    let message = NewMessage::parse(value)?;
    let appended = state.ingestor.submit(message).await.map_err(|e| match e {
        IngestError::Overloaded => Problem::overloaded(1),
        other => Problem::internal(other),
    })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(IngestResponse {
            id: appended.id.to_string(),
            duplicate: appended.duplicate,
        }),
    ))
}

/// Same extraction and response shape as `ingest`, doing no work: the benchmark's baseline.
pub async fn noop(
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<IngestResponse>), Problem> {
    let _ = body::json_value(body)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(IngestResponse {
            id: MessageId::generate().to_string(),
            duplicate: false,
        }),
    ))
}

pub(crate) fn parse_id<T>(
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, Problem> {
    parse(raw).ok_or_else(|| Problem::not_found(format!("no {what} `{raw}`")))
}

#[utoipa::path(
    get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message with its enrichment, customer, case and earlier texts", body = MessageView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Extension(who): axum::Extension<crate::auth::Principal>,
) -> Result<axum::response::Response, Problem> {
    let id = parse_id(&id, MessageId::parse, "message")?;
    let message = state
        .store
        .message(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no message `{id}`")))?;
    let mut message = message;
    let region = region_of(&state, &message).await?;
    if let Err(denied) = who.may_read_region(region.as_deref()) {
        let note = message
            .customer_id
            .as_ref()
            .map(|c| crate::audit::AuditNote::customer(c.as_str()))
            .unwrap_or_default();
        return Ok(note.on(denied));
    }
    let personal = who.can(sb_domain::Permission::PersonalRead);
    let revisions = if personal && (message.edited_at.is_some() || message.removed_at.is_some()) {
        state.store.message_revisions(&id).await?
    } else {
        Vec::new()
    };
    if !personal {
        crate::redact::message(&mut message);
    }
    let labels = state
        .store
        .labels_of(&id)
        .await?
        .into_iter()
        .map(crate::api::labels::LabelOut::from)
        .collect();
    let note = message
        .customer_id
        .as_ref()
        .map(|c| crate::audit::AuditNote::customer(c.as_str()))
        .unwrap_or_default();
    Ok(note.on(Json(MessageView {
        message,
        revisions,
        labels,
    })))
}

/// One message as the API shows it: the stored message and, when the platform reported edits
/// or a removal, every earlier text.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageView {
    #[serde(flatten)]
    pub message: Message,
    pub revisions: Vec<MessageRevision>,
    /// Agents' corrections of what the understanding stage said, by task (see
    /// `PUT /api/v1/messages/{id}/labels/{task}`).
    pub labels: Vec<crate::api::labels::LabelOut>,
}

/// The region whose rules govern a message: its customer's, else the one it arrived with.
pub(crate) async fn region_of(state: &AppState, m: &Message) -> Result<Option<String>, Problem> {
    Ok(match &m.customer_id {
        Some(c) => state.store.customer(c).await?.and_then(|c| c.region),
        None => m.region.clone(),
    })
}
