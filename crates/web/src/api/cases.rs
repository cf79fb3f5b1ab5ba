//! Cases: filtered, cursor-paginated lists and one case with its thread and customer.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use sb_domain::{
    Case, CaseId, CasePriority, CaseStatus, Customer, CustomerId, ErrorCode, Message, Queue,
    QueueId,
};
use sb_store::{CaseFilter, Page};
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// new, open, pending, on_hold, escalated, resolved, closed
    #[param(pattern = "^(new|open|pending|on_hold|escalated|resolved|closed)$")]
    status: Option<String>,
    /// Queue id, or the queue's name
    #[param(min_length = 1, max_length = 200)]
    queue: Option<String>,
    /// low, normal, high, urgent
    #[param(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
    /// Customer id
    #[param(pattern = "^cus_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    customer: Option<String>,
    /// Agent id the cases are assigned to
    #[param(min_length = 1, max_length = 200)]
    assignee: Option<String>,
    /// Platform the case came in on: x, facebook, instagram, email, …
    source: Option<String>,
    /// The case's language, ISO 639-1 code, or `und`
    #[param(pattern = "^[a-z]{2,3}$")]
    language: Option<String>,
    /// Cases with at least one message of this intent: complaint, inquiry, praise, other
    #[param(pattern = "^(complaint|inquiry|praise|other)$")]
    intent: Option<String>,
    /// `next_cursor` of the previous page
    #[param(pattern = "^case_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<Case>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

use crate::api::reports::bad;

fn filter_of(q: &CaseQuery) -> Result<(CaseFilter, Page), Problem> {
    let status = q
        .status
        .as_deref()
        .map(|s| CaseStatus::parse(s).ok_or_else(|| bad("status", format!("unknown status `{s}`"))))
        .transpose()?;
    let priority = q
        .priority
        .as_deref()
        .map(|s| {
            CasePriority::parse(s).ok_or_else(|| bad("priority", format!("unknown priority `{s}`")))
        })
        .transpose()?;
    let customer_id = q
        .customer
        .as_deref()
        .map(|s| {
            CustomerId::parse(s)
                .ok_or_else(|| bad("customer", format!("`{s}` is not a customer id")))
        })
        .transpose()?;
    let before = q
        .cursor
        .as_deref()
        .map(|s| {
            CaseId::parse(s)
                .map(|c| c.to_string())
                .ok_or_else(|| bad("cursor", "the cursor is not valid"))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(
            "limit",
            format!("`limit` must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if let Some(a) = q.assignee.as_deref()
        && (a.is_empty() || a.len() > 200)
    {
        return Err(bad(
            "assignee",
            "`assignee` must be an agent id of 1 to 200 characters",
        ));
    }
    Ok((
        CaseFilter {
            status,
            // Named queues are looked up by the handler.
            queue_id: q.queue.as_deref().and_then(QueueId::parse),
            priority,
            customer_id,
            assignee: q.assignee.clone(),
            source: crate::api::messages::source_param(q.source.as_deref())?,
            language: crate::api::messages::language_param(q.language.as_deref())?,
            intent: crate::api::messages::one_of(
                "intent",
                q.intent.as_deref(),
                &sb_domain::message::INTENTS,
            )?,
        },
        Page { before, limit },
    ))
}

#[utoipa::path(
    get, path = "/api/v1/cases", tag = "cases",
    params(CaseQuery),
    responses(
        (status = 200, description = "Newest cases first. A caller limited to some regions gets only theirs, so a page may be shorter than `limit`; `next_cursor` is set while more cases may follow", body = CasePage),
        (status = 400, description = "A filter, cursor or limit is malformed", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<crate::auth::Principal>,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CasePage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let (mut filter, page) = filter_of(&q)?;
    if let Some(name) = q.queue.as_deref().filter(|_| filter.queue_id.is_none()) {
        let queues = state.store.queues().await?;
        let queue = queues
            .into_iter()
            .find(|queue| queue.name == name)
            .ok_or_else(|| bad("queue", format!("no queue `{name}`")))?;
        filter.queue_id = Some(queue.id);
    }
    let mut items = state.store.list_cases(&filter, &page).await?;
    // The next page follows the last case read, shown or not, so a caller limited to some
    // regions pages through every case of theirs.
    let next_cursor = crate::api::next_cursor(&items, &page, |c| c.id.to_string());
    // A region-scoped caller sees only cases held in their regions (a page may come back short).
    items.retain(|c| who.may_read_region(c.region.as_deref()).is_ok());
    if !who.can(sb_domain::Permission::PersonalRead) {
        for c in &mut items {
            c.subject = crate::redact::HIDDEN.to_owned();
        }
    }
    Ok(Json(CasePage { items, next_cursor }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    /// The thread, oldest first, with each message's enrichment.
    pub messages: Vec<Message>,
    pub customer: Option<Customer>,
    /// Replies sent or waiting for this case, with their delivery state; refused ones stay
    /// here as dead letters.
    pub outbox: Vec<sb_domain::OutboxItem>,
    /// SLA clocks, escalations and the case's history.
    pub workflow: Option<crate::api::casework::CaseWorkView>,
    /// The customer around this case (C3): their other cases and how their sentiment moved.
    pub context: CaseContextView,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PastCase {
    pub id: String,
    pub status: CaseStatus,
    pub priority: CasePriority,
    pub subject: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: sb_domain::Timestamp,
    pub last_sentiment: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SentimentPoint {
    #[schema(value_type = String, format = DateTime)]
    pub at: sb_domain::Timestamp,
    pub sentiment: f64,
    /// The case the point comes from.
    pub case_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseContextView {
    /// The customer's other cases, newest first (at most 50).
    pub past_cases: Vec<PastCase>,
    /// Sentiment over time, oldest first: each earlier case's last message, then every
    /// message of this case.
    pub sentiment: Vec<SentimentPoint>,
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case, its thread and its customer", body = CaseDetail),
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
    let id = parse_id(&id, CaseId::parse, "case")?;
    let case = state
        .store
        .case(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    if let Err(denied) = who.may_read_region(case.region.as_deref()) {
        return Ok(crate::audit::AuditNote::customer(case.customer_id.as_str()).on(denied));
    }
    let detail = detail_of(&state, case, &who).await?;
    let note = crate::audit::AuditNote::customer(detail.case.customer_id.as_str());
    Ok(note.on(Json(detail)))
}

/// The case with its thread, customer, outbox, workflow and context, redacted for a caller
/// without `personal.read`. The caller has checked the case's region already.
pub(crate) async fn detail_of(
    state: &AppState,
    case: Case,
    who: &crate::auth::Principal,
) -> Result<CaseDetail, Problem> {
    let id = case.id.clone();
    let messages = state.store.case_messages(&id).await?;
    let customer = state.store.customer(&case.customer_id).await?;
    let outbox = state.store.outbox_for_subject(id.as_str()).await?;
    let workflow = crate::api::casework::work_view(state, &id).await?;
    let others = state
        .store
        .list_cases(
            &CaseFilter {
                customer_id: Some(case.customer_id.clone()),
                ..CaseFilter::default()
            },
            &Page {
                before: None,
                limit: 51,
            },
        )
        .await?;
    let past_cases: Vec<PastCase> = others
        .iter()
        .filter(|c| c.id != case.id)
        .take(50)
        .map(|c| PastCase {
            id: c.id.to_string(),
            status: c.status,
            priority: c.priority,
            subject: c.subject.clone(),
            opened_at: c.opened_at,
            last_sentiment: c.last_sentiment,
        })
        .collect();
    let mut sentiment: Vec<SentimentPoint> = others
        .iter()
        .filter(|c| c.id != case.id && c.opened_at <= case.opened_at)
        .filter_map(|c| {
            Some(SentimentPoint {
                at: c.last_message_at,
                sentiment: c.last_sentiment?,
                case_id: c.id.to_string(),
            })
        })
        .collect();
    sentiment.extend(messages.iter().filter_map(|m| {
        Some(SentimentPoint {
            at: m.created_at,
            sentiment: m.enrichment.as_ref()?.sentiment_compound,
            case_id: case.id.to_string(),
        })
    }));
    sentiment.sort_by_key(|p| p.at);
    let context = CaseContextView {
        past_cases,
        sentiment,
    };
    let mut detail = CaseDetail {
        case,
        messages,
        customer,
        outbox,
        workflow,
        context,
    };
    if !who.can(sb_domain::Permission::PersonalRead) {
        redact(&mut detail);
    }
    Ok(detail)
}

/// The case as a reader without `personal.read` sees it.
fn redact(d: &mut CaseDetail) {
    d.case.subject = crate::redact::HIDDEN.to_owned();
    d.messages.iter_mut().for_each(crate::redact::message);
    if let Some(c) = &mut d.customer {
        crate::redact::customer(c);
    }
    for o in &mut d.outbox {
        o.payload = serde_json::Value::Null;
    }
    if let Some(w) = &mut d.workflow {
        for e in &mut w.events {
            sb_governance::personal::scrub(&mut e.data);
        }
    }
    for p in &mut d.context.past_cases {
        p.subject = crate::redact::HIDDEN.to_owned();
    }
}

#[utoipa::path(
    get, path = "/api/v1/queues", tag = "cases",
    responses(
        (status = 200, description = "Every queue", body = Vec<Queue>),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn queues(State(state): State<AppState>) -> Result<Json<Vec<Queue>>, Problem> {
    Ok(Json(state.store.queues().await?))
}
