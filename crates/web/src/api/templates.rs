//! Reply templates (D6) over HTTP: the library of versioned, localized texts in tone variants,
//! their four-eyes approval, and rendering the approved version for a case (`render.rs`, with
//! what the customer, the case and the status feed know: `variables.rs`). Rendering never
//! sends: agents send through `POST /cases/{id}/replies`, which may name a template instead of
//! a text and renders it the same way.
//!
//! Picking a version, rendering and the lifecycle rules are `sb_workflow::templates`; this file
//! reads and writes versions and decides who may move them.

pub(crate) mod render;
mod variables;

use crate::AppState;
use crate::api::messages::parse_id;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{CaseId, ErrorCode, Permission};
use sb_store::StoredTemplate;
use sb_workflow::templates::{
    NEUTRAL_TONE, TemplateError, TemplateState, TemplateVersion, canonical_locale, transition,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use render::render_for_case;
pub use render::{Rendered, TemplateChoice};
pub(crate) use variables::{case_locale, case_variables, status_variables};

/// Longest body accepted: what a reply may say.
pub const MAX_BODY_CHARS: usize = crate::api::replies::MAX_REPLY_CHARS;
pub const MAX_KEY_CHARS: usize = 64;
const MAX_TONE_CHARS: usize = 32;
const MAX_LOCALE_CHARS: usize = 35;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewTemplate {
    /// `delivery_delay_apology`: lowercase letters, digits, `_`, `-` and `.`, starting with a
    /// letter. A key already in the library gets its next version.
    #[schema(pattern = "^[a-z][a-z0-9_.-]{0,63}$")]
    pub key: String,
    /// BCP 47 tag, e.g. `pt-BR`.
    #[schema(pattern = "^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,3}$")]
    pub locale: String,
    /// `neutral` when absent; `warm`, `formal`, … as the team defines them.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub tone: Option<String>,
    /// Plain text with `{{variable}}` and `{{variable | "default"}}` placeholders.
    #[schema(min_length = 1, pattern = "\\S")]
    pub body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub key: String,
    /// Every version, newest first.
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<TemplateVersion>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateLibrary {
    /// By key.
    pub items: Vec<TemplateView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StateChange {
    /// `pending_approval` (submit), `approved`, `draft` (reject or withdraw) or `retired`.
    #[schema(pattern = "^(pending_approval|approved|draft|retired)$")]
    pub state: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RenderRequest {
    /// The template's key.
    pub template: String,
    pub tone: Option<String>,
    pub locale: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Map<String, Value>>,
}

/// The API's answer to a template rule refusing.
pub(crate) fn problem(e: TemplateError) -> Problem {
    let detail = e.to_string();
    let refuse = |code| Problem::custom(StatusCode::UNPROCESSABLE_ENTITY, code, detail.clone());
    match e {
        TemplateError::Syntax { .. } => refuse("template_syntax").with_field("body"),
        TemplateError::MissingVariables(_) => {
            refuse("template_variable_missing").with_field("variables")
        }
        TemplateError::UnknownTemplate(_) => Problem::not_found(detail),
        TemplateError::NoApprovedVersion { .. } | TemplateError::NotApproved { .. } => {
            refuse("template_not_approved")
        }
        TemplateError::InvalidTransition { .. } => {
            Problem::custom(StatusCode::CONFLICT, "template_invalid_transition", detail)
        }
        TemplateError::OwnTemplate { .. } => {
            Problem::custom(StatusCode::CONFLICT, "own_template", detail)
        }
        TemplateError::Incomplete { field, .. } => {
            Problem::new(ErrorCode::InvalidField, detail).with_field(field)
        }
        TemplateError::MissingActor => Problem::new(ErrorCode::InvalidField, detail),
    }
}

fn invalid(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

fn checked_key(raw: &str) -> Result<String, Problem> {
    let key = raw.trim();
    let shaped = key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if !shaped || key.len() > MAX_KEY_CHARS {
        return Err(invalid(
            "key",
            format!(
                "`key` must be 1 to {MAX_KEY_CHARS} lowercase letters, digits, `_`, `-` or `.`, \
                 starting with a letter"
            ),
        ));
    }
    Ok(key.to_owned())
}

fn checked_locale(raw: &str) -> Result<String, Problem> {
    let locale = canonical_locale(raw);
    let shaped = !locale.is_empty()
        && locale.len() <= MAX_LOCALE_CHARS
        && locale
            .split('-')
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
    if !shaped {
        return Err(invalid(
            "locale",
            format!("`locale` must be a language tag such as `pt-BR`, not `{raw}`"),
        ));
    }
    Ok(locale)
}

fn checked_tone(raw: Option<&str>) -> Result<String, Problem> {
    let tone = raw.map(str::trim).unwrap_or(NEUTRAL_TONE).to_lowercase();
    let shaped = !tone.is_empty()
        && tone.chars().count() <= MAX_TONE_CHARS
        && tone
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !shaped {
        return Err(invalid(
            "tone",
            format!("`tone` must be 1 to {MAX_TONE_CHARS} letters, digits, `_` or `-`"),
        ));
    }
    Ok(tone)
}

fn decode(t: StoredTemplate) -> Result<TemplateVersion, Problem> {
    let what = format!("template `{}` v{}", t.key, t.version);
    let mut v: TemplateVersion = serde_json::from_value(t.doc)
        .map_err(|e| Problem::internal(format!("{what} is unreadable: {e}")))?;
    // The row's columns are what guarded updates compare; they are the truth.
    v.key = t.key;
    v.version = t.version;
    v.state = TemplateState::parse(&t.state)
        .ok_or_else(|| Problem::internal(format!("{what} has an unknown state `{}`", t.state)))?;
    Ok(v)
}

fn encode(v: &TemplateVersion) -> Result<Value, Problem> {
    serde_json::to_value(v).map_err(Problem::internal)
}

/// Every version of `key`, newest first.
pub(crate) async fn versions_of(
    state: &AppState,
    key: &str,
) -> Result<Vec<TemplateVersion>, Problem> {
    let stored = state.store.template_versions(key).await?;
    stored.into_iter().map(decode).collect()
}

/// Every version of every template, by key, newest first within a key.
pub(crate) async fn library(state: &AppState) -> Result<Vec<TemplateVersion>, Problem> {
    let stored = state.store.all_template_versions().await?;
    stored.into_iter().map(decode).collect()
}

#[utoipa::path(
    get, path = "/api/v1/templates", tag = "templates",
    responses(
        (status = 200, description = "Every template with its versions, newest first", body = TemplateLibrary),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<TemplateLibrary>, Problem> {
    let mut items: Vec<TemplateView> = Vec::new();
    for v in library(&state).await? {
        match items.last_mut() {
            Some(t) if t.key == v.key => t.versions.push(v),
            _ => items.push(TemplateView {
                key: v.key.clone(),
                versions: vec![v],
            }),
        }
    }
    Ok(Json(TemplateLibrary { items }))
}

#[utoipa::path(
    post, path = "/api/v1/templates", tag = "templates",
    request_body = NewTemplate,
    responses(
        (status = 201, description = "Stored as a draft under the key's next version number", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A bad key, locale, tone or body (`invalid_field`), or a body that does not parse (`template_syntax`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: NewTemplate =
        crate::body::json_as(body, "{\"key\", \"locale\", \"tone\"?, \"body\"}")?;
    let key = checked_key(&req.key)?;
    let locale = checked_locale(&req.locale)?;
    let tone = checked_tone(req.tone.as_deref())?;
    let text = req.body.trim();
    if text.is_empty() || text.chars().count() > MAX_BODY_CHARS {
        return Err(invalid(
            "body",
            format!("`body` must be 1 to {MAX_BODY_CHARS} characters"),
        ));
    }
    let mut v = TemplateVersion {
        key,
        version: 0,
        locale,
        tone,
        body: text.to_owned(),
        state: TemplateState::Draft,
        created_by: who.actor.clone(),
        approved_by: None,
        created_at: state.casework.now(),
        approved_at: None,
    };
    v.validate().map_err(problem)?;
    v.version = state
        .store
        .insert_template_version(&v.key, v.state.as_str(), &encode(&v)?)
        .await?;
    Ok(AuditNote::default()
        .subject(format!("template:{}", v.key))
        .change(None, Some(encode(&v)?))
        .on((StatusCode::CREATED, Json(v))))
}

#[utoipa::path(
    get, path = "/api/v1/templates/{key}", tag = "templates",
    params(("key" = String, Path, description = "Template key")),
    responses(
        (status = 200, body = TemplateView),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<TemplateView>, Problem> {
    let versions = versions_of(&state, &key).await?;
    if versions.is_empty() {
        return Err(Problem::not_found(format!("no template `{key}`")));
    }
    Ok(Json(TemplateView { key, versions }))
}

#[utoipa::path(
    post, path = "/api/v1/templates/{key}/versions/{version}/state", tag = "templates",
    params(
        ("key" = String, Path, description = "Template key"),
        ("version" = u32, Path, description = "Version number"),
    ),
    request_body = StateChange,
    responses(
        (status = 200, description = "The version in its new state", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Approving or retiring needs `replies.approve`; only the author or an approver sends a submitted version back to draft (`approval_role_required`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The author cannot approve their own version (`own_template`), a move the lifecycle does not allow (`template_invalid_transition`), or someone moved it meanwhile (`template_changed`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An unknown state (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn change_state(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((key, version)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let not_found = || Problem::not_found(format!("no template `{key}` v{version}"));
    let number: u32 = version.parse().map_err(|_| not_found())?;
    let req: StateChange = crate::body::json_as(
        body,
        "{\"state\": \"pending_approval\" | \"approved\" | \"draft\" | \"retired\"}",
    )?;
    let to = TemplateState::parse(req.state.trim()).ok_or_else(|| {
        invalid(
            "state",
            format!(
                "unknown state `{}`: use pending_approval, approved, draft or retired",
                req.state
            ),
        )
    })?;
    let mut v = versions_of(&state, &key)
        .await?
        .into_iter()
        .find(|v| v.version == number)
        .ok_or_else(not_found)?;
    let approver = who.can(Permission::RepliesApprove);
    let author = v.created_by.trim() == who.actor;
    let allowed = match to {
        // What approval put into use, only an approver takes out of use.
        TemplateState::Approved | TemplateState::Retired => approver,
        // Sending a submitted version back is an approver's rejection or its author's withdrawal.
        TemplateState::Draft => approver || author || v.state != TemplateState::PendingApproval,
        TemplateState::PendingApproval => true,
    };
    if !allowed {
        return Err(Problem::custom(
            StatusCode::FORBIDDEN,
            "approval_role_required",
            format!(
                "moving a template to {} needs `replies.approve`",
                to.as_str()
            ),
        ));
    }
    let before = encode(&v)?;
    let read_state = v.state;
    transition(&mut v, to, &who.actor, state.casework.now()).map_err(problem)?;
    let after = encode(&v)?;
    let stored = StoredTemplate {
        key: v.key.clone(),
        version: v.version,
        state: v.state.as_str().to_owned(),
        doc: after.clone(),
    };
    if !state
        .store
        .update_template_version(&stored, read_state.as_str())
        .await?
    {
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "template_changed",
            format!("template `{key}` v{number} was moved by someone else meanwhile"),
        ));
    }
    Ok(AuditNote::default()
        .subject(format!("template:{key}/v{number}"))
        .change(Some(before), Some(after))
        .on(Json(v)))
}

#[utoipa::path(
    post, path = "/api/v1/cases/{id}/render", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    request_body = RenderRequest,
    responses(
        (status = 200, description = "The approved version for the customer's language, filled in; nothing is sent", body = Rendered),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case or template", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "No approved version for the language or its fallbacks (`template_not_approved`), variables nobody supplied (`template_variable_missing`, named in the detail), or a bad `locale` (`invalid_field`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn render(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let case_id = parse_id(&id, CaseId::parse, "case")?;
    let req: RenderRequest = crate::body::json_as(
        body,
        "{\"template\", \"tone\"?, \"locale\"?, \"variables\"?: {…}}",
    )?;
    let Some(case) = state.store.case(&case_id).await? else {
        return Err(Problem::not_found(format!("no case `{case_id}`")));
    };
    let choice = TemplateChoice {
        key: req.template,
        tone: req.tone,
        locale: req.locale,
        variables: req.variables,
    };
    let rendered =
        render_for_case(&state, &case, &choice, who.can(Permission::PersonalRead)).await?;
    Ok(AuditNote::customer(case.customer_id.as_str()).on(Json(rendered)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_names() {
        for good in ["delivery_delay", "outage.checkout-v2", "a"] {
            assert_eq!(checked_key(good).ok().as_deref(), Some(good));
        }
        let too_long = "k".repeat(MAX_KEY_CHARS + 1);
        for bad in [
            "",
            "Delivery",
            "9lives",
            "two words",
            "ação",
            "../etc",
            &too_long,
        ] {
            assert!(checked_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locales_are_stored_in_their_canonical_spelling() {
        assert_eq!(checked_locale("pt_br").ok().as_deref(), Some("pt-BR"));
        assert_eq!(checked_locale(" EN ").ok().as_deref(), Some("en"));
        for bad in ["", "pt BR", "pt-<b>", "abcdefghij"] {
            assert!(checked_locale(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tones_default_to_neutral() {
        assert_eq!(checked_tone(None).ok().as_deref(), Some("neutral"));
        assert_eq!(checked_tone(Some(" Warm ")).ok().as_deref(), Some("warm"));
        assert!(checked_tone(Some("very warm")).is_err());
        assert!(checked_tone(Some("")).is_err());
    }
}
