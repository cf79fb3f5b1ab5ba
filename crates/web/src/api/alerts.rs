//! Alerts raised by listening: unusual volume or sentiment in a watched series.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Query, State};
use sb_domain::{Alert, AlertId, ErrorCode};
use sb_store::Page;
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `next_cursor` of the previous page
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/alerts", tag = "alerts",
    params(AlertQuery),
    responses(
        (status = 200, description = "Newest alerts first", body = AlertPage),
        (status = 400, description = "A cursor or limit is malformed", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<AlertQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AlertPage>, Problem> {
    let Query(q) = query.map_err(|e| Problem::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            AlertId::parse(c).map(|id| id.to_string()).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery, format!("`{c}` is not a cursor"))
                    .with_field("cursor")
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            format!("`limit` must be between 1 and {MAX_LIMIT}"),
        )
        .with_field("limit"));
    }
    let items = state.store.list_alerts(&Page { before, limit }).await?;
    let next_cursor = if items.len() == limit as usize {
        items.last().map(|a| a.id.to_string())
    } else {
        None
    };
    Ok(Json(AlertPage { items, next_cursor }))
}
