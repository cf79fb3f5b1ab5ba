//! Customer profiles with their identities.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use sb_domain::{Customer, CustomerId, Platform};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindParams {
    /// Platform of the handle: x, facebook, instagram, email, …
    platform: Option<String>,
    /// The handle as the platform gives it (`@ana` on X, an e-mail address for e-mail),
    /// compared without regard to case.
    handle: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CustomerMatches {
    /// The customer holding the handle; empty when nobody does, or when they are outside the
    /// caller's regions.
    pub items: Vec<Customer>,
}

#[utoipa::path(
    get, path = "/api/v1/customers", tag = "customers",
    params(FindParams),
    responses(
        (status = 200, description = "The customer who holds the handle on the platform, with their identities (at most one; none when nobody does)", body = CustomerMatches),
        (status = 400, description = "A platform or handle missing or not understood (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn find(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<crate::auth::Principal>,
    q: Result<Query<FindParams>, QueryRejection>,
) -> Result<axum::response::Response, Problem> {
    use crate::api::reports::bad;
    let q = crate::api::query(q)?;
    let platform = q
        .platform
        .as_deref()
        .ok_or_else(|| bad("platform", "`platform` is required"))?;
    let platform = Platform::parse(platform)
        .ok_or_else(|| bad("platform", format!("no platform `{platform}`")))?;
    let handle = q
        .handle
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty() && h.len() <= 320)
        .ok_or_else(|| bad("handle", "`handle` must be 1 to 320 characters"))?;
    let found = match state.store.customer_with_identity(platform, handle).await? {
        Some(id) => state.store.customer(&id).await?,
        None => None,
    };
    // Outside the caller's regions a customer is not found, rather than refused, so the
    // answer does not tell whether the handle is known there.
    let Some(mut c) = found.filter(|c| who.may_read_region(c.region.as_deref()).is_ok()) else {
        return Ok(axum::response::IntoResponse::into_response(Json(
            CustomerMatches { items: Vec::new() },
        )));
    };
    if !who.can(sb_domain::Permission::PersonalRead) {
        crate::redact::customer(&mut c);
    }
    let note = crate::audit::AuditNote::customer(c.id.as_str());
    Ok(note.on(Json(CustomerMatches { items: vec![c] })))
}

#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The customer and their handles", body = Customer),
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
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let c = state
        .store
        .customer(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer `{id}`")))?;
    let mut c = c;
    if let Err(denied) = who.may_read_region(c.region.as_deref()) {
        return Ok(crate::audit::AuditNote::customer(id.as_str()).on(denied));
    }
    if !who.can(sb_domain::Permission::PersonalRead) {
        crate::redact::customer(&mut c);
    }
    Ok(crate::audit::AuditNote::customer(id.as_str()).on(Json(c)))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct LinkRequest {
    /// Platform of the handle: x, facebook, instagram, email, …
    pub platform: String,
    /// The handle, page-scoped id or e-mail address on that platform.
    pub handle: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LinkResponse {
    /// `linked`, or `already_linked` when this customer already had the handle.
    pub status: &'static str,
}

#[utoipa::path(
    post, path = "/api/v1/customers/{id}/identities", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    request_body = LinkRequest,
    responses(
        (status = 201, description = "Linked: the handle's messages now join this customer (and, within a session, their open case)", body = LinkResponse),
        (status = 200, description = "The customer already had this handle", body = LinkResponse),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The handle belongs to another customer (`identity_linked_elsewhere`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<bytes::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<LinkResponse>), Problem> {
    use axum::http::StatusCode;
    use sb_domain::{ErrorCode, Platform};
    use sb_store::IdentityLink;
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let req: LinkRequest = crate::body::json_as(body, "{\"platform\", \"handle\"}")?;
    let platform = Platform::parse(&req.platform).ok_or_else(|| {
        Problem::new(
            ErrorCode::UnknownSource,
            format!("no platform `{}`", req.platform),
        )
        .with_field("platform")
    })?;
    let handle = req.handle.trim();
    if handle.is_empty() || handle.len() > 320 {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            "`handle` must be 1 to 320 characters",
        )
        .with_field("handle"));
    }
    let now = sb_domain::Clock::now(&sb_domain::SystemClock);
    match state
        .store
        .link_identity(&id, platform, handle, now)
        .await?
    {
        IdentityLink::Linked => Ok((StatusCode::CREATED, Json(LinkResponse { status: "linked" }))),
        IdentityLink::AlreadyLinked => Ok((
            StatusCode::OK,
            Json(LinkResponse {
                status: "already_linked",
            }),
        )),
        IdentityLink::Elsewhere(other) => Err(Problem::custom(
            StatusCode::CONFLICT,
            "identity_linked_elsewhere",
            format!(
                "`{platform}:{handle}` belongs to customer `{other}`; merge the profiles instead"
            ),
        )),
        IdentityLink::NoSuchCustomer => Err(Problem::not_found(format!("no customer `{id}`"))),
    }
}
