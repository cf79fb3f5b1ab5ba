//! Watchlists (B6) over HTTP: the terms the understanding stage finds in every message —
//! products, executives, legal words, competitors, hashtags — by list. The configuration
//! file's terms are shown as such and changed only there; terms added here are stored, and
//! every serving and worker process rebuilds its watchlist from them at its next pipeline
//! sweep, so a term applies to messages processed from then on (earlier ones keep what they
//! matched).

use crate::AppState;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::watch_term_key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Terms one request may add.
pub const MAX_PER_REQUEST: usize = 500;
/// Terms kept in the database, all lists together (the file may hold more).
pub const MAX_STORED: usize = 20_000;
const MAX_TERM: usize = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTerms {
    /// Words, names or `#hashtags`, each 1–100 characters; matched ignoring case and accents,
    /// on word boundaries.
    pub terms: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TermOut {
    pub term: String,
    /// `config` (the configuration file's watchlist) or `api` (stored, removable here).
    pub source: String,
    pub added_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub added_at: Option<Timestamp>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListOut {
    pub list: String,
    pub terms: Vec<TermOut>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Watchlists {
    /// By list name; within a list, the file's terms first, then the stored ones by term.
    pub lists: Vec<ListOut>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Added {
    pub list: String,
    /// Terms now stored.
    pub added: Vec<String>,
    /// Terms the list already had (in the file or stored, in any case), left as they were.
    pub already: Vec<String>,
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn check_list(list: &str) -> Result<(), Problem> {
    crate::api::check_name(list, "list", "a list name")
}

#[utoipa::path(
    get, path = "/api/v1/watchlists", tag = "alerts",
    responses(
        (status = 200, description = "Every list with its terms, from the configuration file and stored", body = Watchlists),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Watchlists>, Problem> {
    let mut lists: BTreeMap<String, Vec<TermOut>> = BTreeMap::new();
    for (list, term) in state.watch_config.iter() {
        lists.entry(list.clone()).or_default().push(TermOut {
            term: term.clone(),
            source: "config".into(),
            added_by: None,
            added_at: None,
        });
    }
    for t in state.store.watch_terms().await? {
        lists.entry(t.list).or_default().push(TermOut {
            term: t.term,
            source: "api".into(),
            added_by: Some(t.added_by),
            added_at: Some(t.added_at),
        });
    }
    Ok(Json(Watchlists {
        lists: lists
            .into_iter()
            .map(|(list, terms)| ListOut { list, terms })
            .collect(),
    }))
}

#[utoipa::path(
    post, path = "/api/v1/watchlists/{list}/terms", tag = "alerts",
    params(("list" = String, Path, description = "List name, e.g. `products`; created by its first term")),
    request_body = AddTerms,
    responses(
        (status = 200, description = "Stored; every process matches them from its next sweep", body = Added),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad list name or term (`invalid_field`), or more than 20,000 stored terms (`watchlist_limit`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn add(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(list): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Added>, Problem> {
    check_list(&list)?;
    let req: AddTerms = crate::body::json_as(raw, "{\"terms\": [\"X200\", \"#recall\", …]}")?;
    if req.terms.is_empty() || req.terms.len() > MAX_PER_REQUEST {
        return Err(invalid(
            "terms",
            format!("give 1 to {MAX_PER_REQUEST} terms"),
        ));
    }
    for (i, t) in req.terms.iter().enumerate() {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > MAX_TERM || t.chars().any(char::is_control) {
            return Err(invalid(
                &format!("terms[{i}]"),
                format!("a term is 1 to {MAX_TERM} printable characters"),
            ));
        }
    }
    // Terms the file already has (in any case) are not stored twice.
    let in_file: std::collections::HashSet<String> = state
        .watch_config
        .iter()
        .filter(|(l, _)| *l == list)
        .map(|(_, t)| watch_term_key(t))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let (fresh, mut already): (Vec<String>, Vec<String>) = req
        .terms
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| seen.insert(watch_term_key(t)))
        .partition(|t| !in_file.contains(&watch_term_key(t)));
    let stored = state.store.watch_terms().await?.len();
    if stored + fresh.len() > MAX_STORED {
        return Err(Problem::custom(
            StatusCode::UNPROCESSABLE_ENTITY,
            "watchlist_limit",
            format!(
                "at most {MAX_STORED} terms are stored ({stored} now); put large lists in the configuration file"
            ),
        ));
    }
    let added = state
        .store
        .add_watch_terms(&list, &fresh, &who.actor, SystemClock.now())
        .await?;
    let added_keys: std::collections::HashSet<String> =
        added.iter().map(|t| watch_term_key(t)).collect();
    already.extend(
        fresh
            .into_iter()
            .filter(|t| !added_keys.contains(&watch_term_key(t))),
    );
    Ok(Json(Added {
        list,
        added,
        already,
    }))
}

#[utoipa::path(
    delete, path = "/api/v1/watchlists/{list}/terms/{term}", tag = "alerts",
    params(
        ("list" = String, Path, description = "List name"),
        ("term" = String, Path, description = "The term, any case"),
    ),
    responses(
        (status = 204, description = "Removed; every process stops matching it from its next sweep"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "The list has no stored term like that", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The term comes from the configuration file (`watch_term_in_config`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    Path((list, term)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    if state.store.remove_watch_term(&list, &term).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    let key = watch_term_key(&term);
    if state
        .watch_config
        .iter()
        .any(|(l, t)| *l == list && watch_term_key(t) == key)
    {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "watch_term_in_config",
            format!("`{term}` is in the configuration file's watchlist; remove it there"),
        ));
    }
    Err(Problem::not_found(format!(
        "the list `{list}` has no stored term `{term}`"
    )))
}
