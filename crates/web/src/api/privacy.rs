//! Privacy requests over the API (G4): export everything held about a customer, erase their
//! personal data, and place or lift a legal hold that blocks erasure and retention.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::audit::AuditNote;
use crate::auth::{ClientAddr, Principal};
use crate::privacy::{self, PrivacyError, Requester};
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CustomerId, ErrorCode};
use sb_store::ErasureCounts;
use serde::Deserialize;

impl From<PrivacyError> for Problem {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::Unknown(_) => Problem::not_found(e.to_string()),
            PrivacyError::Held(..) => {
                Problem::custom(StatusCode::CONFLICT, "legal_hold", e.to_string())
            }
            PrivacyError::Store(sb_store::StoreError::Incomplete(why)) => Problem::new(
                ErrorCode::Unavailable,
                format!("the data is erased, but {why}; repeat the request to finish"),
            ),
            PrivacyError::Store(s) => Problem::internal(s),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErasureReport {
    pub customer_id: String,
    /// Records changed, by kind.
    #[schema(value_type = Object)]
    pub erased: ErasureCounts,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why the customer's data must be kept, e.g. a case reference.
    pub reason: String,
}

fn requester<'a>(who: &'a Principal, from: &'a Option<String>) -> Requester<'a> {
    Requester {
        actor: &who.actor,
        role: Some(who.role.as_str()),
        origin: from.as_deref(),
    }
}

/// The refusal, recorded against the customer, when the caller is scoped to other regions.
async fn other_region(
    state: &AppState,
    id: &CustomerId,
    who: &Principal,
) -> Result<Option<Response>, Problem> {
    Ok(match state.store.customer(id).await? {
        Some(c) => who
            .may_read_region(c.region.as_deref())
            .err()
            .map(|denied| AuditNote::customer(id.as_str()).on(denied)),
        None => None,
    })
}

#[utoipa::path(
    get, path = "/api/v1/customers/{id}/export", tag = "privacy",
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 200, description = "Everything held about the customer, as one JSON document", body = Object),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(who): Extension<Principal>,
    Extension(ClientAddr(from)): Extension<ClientAddr>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    if let Some(denied) = other_region(&state, &id, &who).await? {
        return Ok(denied);
    }
    let bundle = privacy::export(state.store.as_ref(), &id, &requester(&who, &from)).await?;
    Ok(AuditNote::customer(id.as_str()).on(Json(bundle)))
}

#[utoipa::path(
    post, path = "/api/v1/customers/{id}/erase", tag = "privacy",
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 200, description = "Erased: personal data is gone; aggregates and a pseudonymous audit record remain", body = ErasureReport),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Under legal hold (`legal_hold`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn erase(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(who): Extension<Principal>,
    Extension(ClientAddr(from)): Extension<ClientAddr>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    if let Some(denied) = other_region(&state, &id, &who).await? {
        return Ok(denied);
    }
    let erased = privacy::erase(state.store.as_ref(), &id, &requester(&who, &from)).await?;
    Ok(AuditNote::customer(id.as_str()).on(Json(ErasureReport {
        customer_id: id.to_string(),
        erased,
    })))
}

#[utoipa::path(
    put, path = "/api/v1/customers/{id}/legal-hold", tag = "privacy", request_body = HoldRequest,
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 204, description = "Held: erasure and retention skip this customer until the hold is lifted"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn hold(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let req: HoldRequest = crate::body::json_as(body, "{\"reason\"}")?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(
            Problem::new(ErrorCode::InvalidField, "`reason` must be 1–500 characters")
                .with_field("reason"),
        );
    }
    set_hold(&state, &id, Some(reason)).await
}

#[utoipa::path(
    delete, path = "/api/v1/customers/{id}/legal-hold", tag = "privacy",
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 204, description = "The hold is lifted"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn release(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    set_hold(&state, &id, None).await
}

async fn set_hold(
    state: &AppState,
    id: &CustomerId,
    reason: Option<&str>,
) -> Result<Response, Problem> {
    let before = state
        .store
        .legal_hold(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer `{id}`")))?;
    state.store.set_legal_hold(id, reason).await?;
    Ok(AuditNote::customer(id.as_str())
        .change(
            Some(serde_json::json!({ "legal_hold": before })),
            Some(serde_json::json!({ "legal_hold": reason })),
        )
        .on(StatusCode::NO_CONTENT))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// True: no automated outreach to the customer on this channel.
    pub opted_out: bool,
    /// Where the choice came from, e.g. `customer replied STOP`.
    pub source: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ConsentList {
    #[schema(value_type = Vec<Object>)]
    pub consents: Vec<sb_store::Consent>,
}

#[utoipa::path(
    get, path = "/api/v1/customers/{id}/consent", tag = "privacy",
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The customer's choices per channel", body = ConsentList),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn consents(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    if state.store.legal_hold(&id).await?.is_none() {
        return Err(Problem::not_found(format!("no customer `{id}`")));
    }
    let consents = state.store.consents(&id).await?;
    Ok(AuditNote::customer(id.as_str()).on(Json(ConsentList { consents })))
}

#[utoipa::path(
    put, path = "/api/v1/customers/{id}/consent/{channel}", tag = "privacy",
    request_body = ConsentRequest,
    params(
        ("id" = String, Path, description = "Customer id"),
        ("channel" = String, Path, description = "Platform: x, facebook, instagram, linkedin, tiktok, email, chat, …"),
    ),
    responses(
        (status = 204, description = "Recorded; automated outreach on this channel follows it at once"),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn set_consent(
    State(state): State<AppState>,
    Path((id, channel)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let platform = sb_domain::Platform::parse(&channel).ok_or_else(|| {
        Problem::new(ErrorCode::InvalidField, format!("no channel `{channel}`"))
            .with_field("channel")
    })?;
    let req: ConsentRequest = crate::body::json_as(body, "{\"opted_out\", \"source\"?}")?;
    if req.source.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            "`source` is at most 200 characters",
        )
        .with_field("source"));
    }
    if state.store.legal_hold(&id).await?.is_none() {
        return Err(Problem::not_found(format!("no customer `{id}`")));
    }
    let before = state
        .store
        .consents(&id)
        .await?
        .into_iter()
        .find(|c| c.channel == platform.as_str())
        .map(|c| c.opted_out);
    state
        .store
        .set_consent(&sb_store::Consent {
            customer_id: id.clone(),
            channel: platform.as_str().to_owned(),
            opted_out: req.opted_out,
            source: req.source,
            updated_at: sb_domain::Clock::now(&sb_domain::SystemClock),
        })
        .await?;
    Ok(AuditNote::customer(id.as_str())
        .change(
            Some(serde_json::json!({ "channel": platform.as_str(), "opted_out": before })),
            Some(serde_json::json!({ "channel": platform.as_str(), "opted_out": req.opted_out })),
        )
        .on(StatusCode::NO_CONTENT))
}

/// Whether automated outreach to `customer` on `channel` is refused by their choice.
pub async fn opted_out(
    state: &AppState,
    customer: &CustomerId,
    channel: &str,
) -> Result<bool, Problem> {
    Ok(state
        .store
        .consents(customer)
        .await?
        .iter()
        .any(|c| c.channel == channel && c.opted_out))
}
