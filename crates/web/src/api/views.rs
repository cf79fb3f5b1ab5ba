//! Saved inbox views (I2) over HTTP: a named set of inbox filters, kept on the server so it
//! follows its owner from browser to browser, and, when shared, offered to the whole team in
//! the inbox. The filters are checked by the inbox's own parser, so a view that saves is a
//! view that opens.

use crate::AppState;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use crate::ui::Viewer;
use crate::ui::inbox::{InboxQuery, parse};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::SavedView;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Views one owner may keep.
pub const MAX_VIEWS: u64 = 50;
/// Views listed at once: the owner's and the shared ones.
pub const LIST_LIMIT: u32 = 200;
const MAX_NAME: usize = 40;
/// The inbox filters a view may hold (the page's cursor is not one of them).
pub const FILTERS: [&str; 9] = [
    "view",
    "queue",
    "status",
    "priority",
    "platform",
    "language",
    "sentiment",
    "intent",
    "sla",
];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    /// Shown in the inbox; unique among the caller's views; at most 40 characters.
    pub name: String,
    /// Inbox filter → value, as in `/ui/inbox?…`: `view` (all, mine, unassigned, breaching,
    /// urgent), `queue`, `status`, `priority`, `platform`, `language`, `sentiment`, `intent`,
    /// `sla`. At least one.
    #[schema(value_type = Object)]
    pub filters: Map<String, Value>,
    /// Offer it to everyone who reads the inbox (default: only the caller).
    #[serde(default)]
    pub shared: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViewOut {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub filters: Map<String, Value>,
    pub shared: bool,
    /// Who saved it.
    pub owner: String,
    /// Whether the caller saved it (and so may delete it).
    pub mine: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The inbox with these filters.
    pub href: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViewList {
    /// The caller's views by name, then those others shared, by name.
    pub items: Vec<ViewOut>,
}

/// `/ui/inbox?…` for a view's filters, in a fixed order.
pub fn href(filters: &Map<String, Value>) -> String {
    let pairs: Vec<String> = FILTERS
        .iter()
        .filter_map(|key| {
            let v = filters.get(*key)?.as_str()?;
            Some(format!("{key}={}", crate::ui::encode(v)))
        })
        .collect();
    format!("/ui/inbox?{}", pairs.join("&"))
}

pub fn out(v: SavedView, caller: &str) -> ViewOut {
    ViewOut {
        href: href(&v.filters),
        mine: v.owner == caller,
        id: v.id,
        name: v.name,
        filters: v.filters,
        shared: v.shared,
        owner: v.owner,
        created_at: v.created_at,
    }
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

/// The filters as the inbox reads them, or the first one it would refuse.
fn check_filters(filters: &Map<String, Value>, who: &Principal) -> Result<(), Problem> {
    if filters.is_empty() {
        return Err(invalid("filters", "name at least one inbox filter"));
    }
    let viewer = Viewer(who.clone());
    for (key, value) in filters {
        let field = format!("filters.{key}");
        let Some(text) = value.as_str().map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(invalid(
                &field,
                format!("`{field}` must be a non-empty string"),
            ));
        };
        if text.len() > 64 {
            return Err(invalid(
                &field,
                format!("`{field}` is longer than 64 bytes"),
            ));
        }
        let mut q = InboxQuery::default();
        let Some(slot) = q.filter_mut(key) else {
            return Err(invalid(
                &field,
                format!(
                    "`{key}` is not an inbox filter (one of {})",
                    FILTERS.join(", ")
                ),
            ));
        };
        *slot = Some(text.to_owned());
        // One filter at a time, so a refusal names the filter it is about.
        if let Err(p) = parse(&q, &viewer) {
            return Err(invalid(&field, p.detail()));
        }
    }
    Ok(())
}

#[utoipa::path(
    post, path = "/api/v1/views", tag = "cases",
    request_body = ViewRequest,
    responses(
        (status = 201, description = "Saved; the inbox lists it", body = ViewOut),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The caller already has a view of that name (`view_exists`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad name or filter (`invalid_field`), or 50 views already (`view_limit`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ViewOut>), Problem> {
    let req: ViewRequest = crate::body::json_as(
        raw,
        "{\"name\", \"filters\": {\"status\"?, \"intent\"?, …}, \"shared\"?}",
    )?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            format!("`name` must be 1 to {MAX_NAME} printable characters"),
        ));
    }
    check_filters(&req.filters, &who)?;
    let filters: Map<String, Value> = req
        .filters
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), Value::from(v.as_str()?.trim()))))
        .collect();
    if state.store.count_views(&who.actor).await? >= MAX_VIEWS {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "view_limit",
            format!("you keep {MAX_VIEWS} views already; delete one first"),
        ));
    }
    let view = SavedView {
        id: format!("view_{}", ulid::Ulid::generate()),
        owner: who.actor.clone(),
        name: name.to_owned(),
        filters,
        shared: req.shared,
        created_at: SystemClock.now(),
    };
    if !state.store.insert_view(&view).await? {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "view_exists",
            format!("you already have a view named `{name}`"),
        )
        .with_field("name"));
    }
    Ok((StatusCode::CREATED, Json(out(view, &who.actor))))
}

#[utoipa::path(
    get, path = "/api/v1/views", tag = "cases",
    responses(
        (status = 200, description = "The caller's views and those others shared (at most 200)", body = ViewList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<ViewList>, Problem> {
    let items = state.store.views_for(&who.actor, LIST_LIMIT).await?;
    Ok(Json(ViewList {
        items: items.into_iter().map(|v| out(v, &who.actor)).collect(),
    }))
}

#[utoipa::path(
    delete, path = "/api/v1/views/{id}", tag = "cases",
    params(("id" = String, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "A view someone else shared: only its owner deletes it", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No view of that id the caller can see", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state.store.delete_view(&id, &who.actor).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    match state.store.view(&id).await? {
        Some(v) if v.shared => Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the owner of a shared view deletes it",
        )),
        _ => Err(Problem::not_found(format!("no view `{id}`"))),
    }
}
