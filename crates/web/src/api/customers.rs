//! Customer profiles with their identities.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Path, State};
use sb_domain::{Customer, CustomerId};

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
) -> Result<Json<Customer>, Problem> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let c = state
        .store
        .customer(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no customer `{id}`")))?;
    Ok(Json(c))
}
