//! Alerts raised by listening: unusual volume or sentiment in a watched series.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Query, State};
use sb_domain::{Alert, AlertId};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `next_cursor` of the previous page
    #[param(pattern = "^alt_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
    /// Page size, 1–500 (default 50)
    #[param(minimum = 1, maximum = 500)]
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
    let q = super::query(query)?;
    let page = super::page(q.cursor.as_deref(), q.limit, AlertId::parse)?;
    let items = state.store.list_alerts(&page).await?;
    let next_cursor = super::next_cursor(&items, &page, |a| a.id.to_string());
    Ok(Json(AlertPage { items, next_cursor }))
}
