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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Platform: x, facebook, instagram, email, …
    source: Option<String>,
    /// `received` (waiting for the pipeline) or `processed`
    #[param(pattern = "^(received|processed)$")]
    stage: Option<String>,
    /// ISO 639-1 code, or `und`
    #[param(pattern = "^[a-z]{2,3}$")]
    language: Option<String>,
    /// positive, neutral, negative
    #[param(pattern = "^(positive|neutral|negative)$")]
    sentiment: Option<String>,
    /// complaint, inquiry, praise, other
    #[param(pattern = "^(complaint|inquiry|praise|other)$")]
    intent: Option<String>,
    /// low, normal, high, critical
    #[param(pattern = "^(low|normal|high|critical)$")]
    urgency: Option<String>,
    /// `next_cursor` of the previous page
    #[param(pattern = "^msg_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessagePage {
    pub items: Vec<Message>,
    /// The cursor of the next page, while more messages may follow.
    pub next_cursor: Option<String>,
}

/// `value` when it is one of `allowed`, else a problem naming `field`.
pub(crate) fn one_of(
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
) -> Result<Option<String>, Problem> {
    value
        .map(|v| {
            allowed.contains(&v).then(|| v.to_owned()).ok_or_else(|| {
                crate::api::reports::bad(
                    field,
                    format!("`{field}` must be one of {}", allowed.join(", ")),
                )
            })
        })
        .transpose()
}

/// The platform a `source` filter names.
pub(crate) fn source_param(value: Option<&str>) -> Result<Option<sb_domain::Platform>, Problem> {
    value
        .map(|s| {
            sb_domain::Platform::parse(s)
                .ok_or_else(|| crate::api::reports::bad("source", format!("no platform `{s}`")))
        })
        .transpose()
}

/// The language code a `language` filter names: ISO 639-1 (or a three-letter code, `und`).
pub(crate) fn language_param(value: Option<&str>) -> Result<Option<String>, Problem> {
    value
        .map(|l| {
            let ok = (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase());
            ok.then(|| l.to_owned()).ok_or_else(|| {
                crate::api::reports::bad(
                    "language",
                    "`language` must be an ISO 639-1 code or `und`",
                )
            })
        })
        .transpose()
}

/// The filter a message query asks for, each value checked.
fn message_filter(q: &MessageQuery) -> Result<sb_store::MessageFilter, Problem> {
    let sentiment = one_of(
        "sentiment",
        q.sentiment.as_deref(),
        &["positive", "neutral", "negative"],
    )?;
    Ok(sb_store::MessageFilter {
        source: source_param(q.source.as_deref())?,
        stage: one_of("stage", q.stage.as_deref(), &["received", "processed"])?,
        language: language_param(q.language.as_deref())?,
        sentiment: sentiment
            .as_deref()
            .and_then(sb_domain::SentimentLabel::parse),
        intent: one_of("intent", q.intent.as_deref(), &sb_domain::message::INTENTS)?,
        urgency: one_of(
            "urgency",
            q.urgency.as_deref(),
            &["low", "normal", "high", "critical"],
        )?,
    })
}

#[utoipa::path(
    get, path = "/api/v1/messages", tag = "messages",
    params(MessageQuery),
    responses(
        (status = 200, description = "Messages in arrival order, newest first, each with its enrichment. A caller limited to some regions gets only theirs, so a page may be short or empty while `next_cursor` says more may follow; without `personal.read` personal data in the text and the author's handle and name are hidden", body = MessagePage),
        (status = 400, description = "A filter, cursor or limit that is not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<crate::auth::Principal>,
    q: Result<axum::extract::Query<MessageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MessagePage>, Problem> {
    let q = crate::api::query(q)?;
    let filter = message_filter(&q)?;
    let page = crate::api::page(q.cursor.as_deref(), q.limit, MessageId::parse)?;
    let mut items = state.store.list_messages(&filter, &page).await?;
    // The next page follows the last message read, shown or not.
    let next_cursor = crate::api::next_cursor(&items, &page, |m| m.id.to_string());
    items = readable(&state, &who, items).await?;
    if !who.can(sb_domain::Permission::PersonalRead) {
        items.iter_mut().for_each(crate::redact::message);
    }
    Ok(Json(MessagePage { items, next_cursor }))
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
/// Those of `messages` whose region the caller may read: all of them for a caller limited to
/// no region; otherwise each customer's region is looked up once.
pub(crate) async fn readable(
    state: &AppState,
    who: &crate::auth::Principal,
    messages: Vec<Message>,
) -> Result<Vec<Message>, Problem> {
    if who.regions.is_none() {
        return Ok(messages);
    }
    let mut regions: std::collections::HashMap<sb_domain::CustomerId, Option<String>> =
        Default::default();
    let mut kept = Vec::with_capacity(messages.len());
    for m in messages {
        let region = match &m.customer_id {
            Some(c) => match regions.get(c) {
                Some(r) => r.clone(),
                None => {
                    let r = region_of(state, &m).await?;
                    regions.insert(c.clone(), r.clone());
                    r
                }
            },
            None => m.region.clone(),
        };
        if who.may_read_region(region.as_deref()).is_ok() {
            kept.push(m);
        }
    }
    Ok(kept)
}

pub(crate) async fn region_of(state: &AppState, m: &Message) -> Result<Option<String>, Problem> {
    Ok(match &m.customer_id {
        Some(c) => state.store.customer(c).await?.and_then(|c| c.region),
        None => m.region.clone(),
    })
}
