//! Incidents (E5): opened by hand or from an alert, moved through their lifecycle, linked to
//! alerts and cases, and exported as a debrief once resolved. Every state an operations tool
//! cares about (opened, acknowledged, resolved) is handed to the configured targets through
//! the outbox, under the incident's id as the `dedup_key`.

use crate::AppState;
use crate::api::messages::parse_id;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{
    AlertId, CaseId, Clock, ErrorCode, Incident, IncidentError, IncidentId, IncidentStatus,
    Severity, SystemClock,
};
use serde::Deserialize;
use serde_json::Value;

fn refused(e: IncidentError) -> Problem {
    let status = match e {
        IncidentError::NotResolved => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Problem::custom(status, e.code(), e.to_string())
}

fn severity(s: Option<&str>, default: Severity) -> Result<Severity, Problem> {
    match s {
        None => Ok(default),
        Some(s) => Severity::parse(s).ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidField,
                format!("`severity` must be critical, error, warning or info, not `{s}`"),
            )
            .with_field("severity")
        }),
    }
}

async fn notify(state: &AppState, incident: &Incident) -> Result<(), Problem> {
    let link = format!("/api/v1/incidents/{}", incident.id);
    let items = sb_pipeline::notify::for_incident(&state.alert_notify, incident, &link);
    if !items.is_empty() {
        state.store.enqueue(&items, SystemClock.now()).await?;
    }
    Ok(())
}

async fn load(state: &AppState, id: &str) -> Result<(Incident, i64), Problem> {
    let id = parse_id(id, IncidentId::parse, "incident")?;
    state
        .store
        .incident(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no incident `{id}`")))
}

/// Applies `change` to the stored incident, retrying when another writer saved first.
pub(crate) async fn change(
    state: &AppState,
    id: &str,
    change: impl Fn(&mut Incident) -> Result<(), IncidentError>,
) -> Result<Incident, Problem> {
    for _ in 0..5 {
        let (mut incident, version) = load(state, id).await?;
        let before = incident.status;
        change(&mut incident).map_err(refused)?;
        if state
            .store
            .update_incident(&incident, version, SystemClock.now())
            .await?
        {
            if incident.status != before {
                notify(state, &incident).await?;
            }
            return Ok(incident);
        }
    }
    Err(Problem::custom(
        StatusCode::CONFLICT,
        "incident_busy",
        "the incident kept changing underneath this request; retry",
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OpenRequest {
    /// Required unless `alert_id` is given.
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<String>,
    /// Opens the incident for this alert, titled after it and linked to it.
    #[schema(pattern = "^alt_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    pub alert_id: Option<String>,
    /// critical, error, warning or info; defaults to the alert's severity, else `error`.
    #[schema(pattern = "^(critical|error|warning|info)$")]
    pub severity: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/incidents", tag = "incidents",
    request_body = OpenRequest,
    responses(
        (status = 201, description = "The new incident; configured targets get a trigger", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn open(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Incident>), Problem> {
    let req: OpenRequest = crate::body::json_as(raw, "{\"title\"} or {\"alert_id\"}")?;
    let now = SystemClock.now();
    let incident = match &req.alert_id {
        Some(a) => {
            let id = parse_id(a, AlertId::parse, "alert")?;
            let alert = state
                .store
                .alert(&id)
                .await?
                .ok_or_else(|| Problem::not_found(format!("no alert `{id}`")))?;
            let default = alert
                .severity
                .as_deref()
                .and_then(Severity::parse)
                .unwrap_or(Severity::Error);
            let sev = severity(req.severity.as_deref(), default)?;
            let mut i = Incident::from_alert(&alert, sev, &who.actor, now);
            if let Some(t) = req
                .title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                t.clone_into(&mut i.title);
            }
            i
        }
        None => {
            let title = req
                .title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 300)
                .ok_or_else(|| {
                    Problem::new(
                        ErrorCode::MissingField,
                        "`title` (1 to 300 characters) or `alert_id` is required",
                    )
                    .with_field("title")
                })?;
            let sev = severity(req.severity.as_deref(), Severity::Error)?;
            Incident::open(title, sev, &who.actor, now)
        }
    };
    state.store.insert_incident(&incident, now).await?;
    notify(&state, &incident).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page
    #[param(pattern = "^inc_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
    /// 1–500, default 50
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/incidents", tag = "incidents",
    params(ListQuery),
    responses(
        (status = 200, description = "Incidents, newest first: `{items, next_cursor}`", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let q = super::query(query)?;
    let page = super::page(q.cursor.as_deref(), q.limit, IncidentId::parse)?;
    let items = state.store.list_incidents(&page).await?;
    let next = super::next_cursor(&items, &page, |i| i.id.to_string());
    Ok(Json(
        serde_json::json!({"items": items, "next_cursor": next}),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    responses(
        (status = 200, description = "The incident with its timeline, links and debrief fields", body = Object),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, Problem> {
    Ok(Json(load(&state, &id).await?.0))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateRequest {
    /// open, acknowledged, mitigated, resolved or closed.
    #[schema(pattern = "^(open|acknowledged|mitigated|resolved|closed)$")]
    pub status: Option<String>,
    /// The new owner; an empty string clears it.
    pub owner: Option<String>,
    /// A note for the timeline.
    pub note: Option<String>,
    /// Link an alert.
    #[schema(pattern = "^alt_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    pub alert_id: Option<String>,
    /// Link a case.
    #[schema(pattern = "^case_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    pub case_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "The changed incident; a new status is handed to the configured targets", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Changed concurrently too often (`incident_busy`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Not allowed in this state (`incident_invalid_transition`, `incident_closed`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Incident>, Problem> {
    let req: UpdateRequest = crate::body::json_as(
        raw,
        "{\"status\"?, \"owner\"?, \"note\"?, \"alert_id\"?, \"case_id\"?}",
    )?;
    let status = match req.status.as_deref() {
        None => None,
        Some(s) => Some(IncidentStatus::parse(s).ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidField,
                format!(
                    "`status` must be open, acknowledged, mitigated, resolved or closed, not `{s}`"
                ),
            )
            .with_field("status")
        })?),
    };
    if let Some(a) = &req.alert_id {
        let aid = parse_id(a, AlertId::parse, "alert")?;
        if state.store.alert(&aid).await?.is_none() {
            return Err(Problem::not_found(format!("no alert `{aid}`")));
        }
    }
    if let Some(c) = &req.case_id {
        let cid = parse_id(c, CaseId::parse, "case")?;
        if state.store.case(&cid).await?.is_none() {
            return Err(Problem::not_found(format!("no case `{cid}`")));
        }
    }
    let actor = who.actor.clone();
    let incident = change(&state, &id, |i| {
        let now = SystemClock.now();
        if let Some(a) = &req.alert_id {
            i.link_alert(a, &actor, now)?;
        }
        if let Some(c) = &req.case_id {
            i.link_case(c, &actor, now)?;
        }
        if let Some(owner) = &req.owner {
            let owner = owner.trim();
            i.assign((!owner.is_empty()).then_some(owner), &actor, now)?;
        }
        if let Some(note) = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            i.note(note, &actor, now)?;
        }
        if let Some(s) = status {
            i.transition(s, &actor, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(incident))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DebriefRequest {
    pub summary: String,
    pub root_cause: String,
    #[serde(default)]
    pub actions: Vec<String>,
}

#[utoipa::path(
    put, path = "/api/v1/incidents/{id}/debrief", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = DebriefRequest,
    responses(
        (status = 200, description = "The incident with its debrief text", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The incident is closed", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn write_debrief(
    State(state): State<AppState>,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Incident>, Problem> {
    let req: DebriefRequest =
        crate::body::json_as(raw, "{\"summary\", \"root_cause\", \"actions\"?}")?;
    let incident = change(&state, &id, |i| {
        i.set_debrief(&req.summary, &req.root_cause, req.actions.clone())
    })
    .await?;
    Ok(Json(incident))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DebriefQuery {
    /// `markdown` (default) or `json`
    #[param(pattern = "^(markdown|json)$")]
    format: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/debrief", tag = "incidents",
    params(("id" = String, Path, description = "Incident id"), DebriefQuery),
    responses(
        (status = 200, description = "The debrief: Markdown (`text/markdown`) or JSON", content((String = "text/markdown"), (Object = "application/json"))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Not resolved yet (`incident_not_resolved`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn debrief(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<DebriefQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let q = super::query(query)?;
    let (incident, _) = load(&state, &id).await?;
    match q.format.as_deref().unwrap_or("markdown") {
        "markdown" | "md" => {
            let md = incident.debrief_markdown().map_err(refused)?;
            Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], md).into_response())
        }
        "json" => Ok(Json(incident.debrief_json().map_err(refused)?).into_response()),
        other => Err(Problem::new(
            ErrorCode::InvalidQuery,
            format!("`format` must be markdown or json, not `{other}`"),
        )
        .with_field("format")),
    }
}
