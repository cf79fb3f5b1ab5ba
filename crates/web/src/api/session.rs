//! Signing in and out of the UI (G1). A session is a random cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` unless configured off for plain-HTTP development) whose hash is
//! stored with a CSRF token; the token comes back in the answer and must accompany every
//! change made with the cookie. Attempts are limited per login name and address.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::{
    ClientAddr, Principal, SESSION_COOKIE, new_secret, session_cookie, verify_password,
};
use crate::problem::{Problem, ProblemBody};
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, Permission, SystemClock, Timestamp};
use sb_store::{Session, hash_api_key};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Verified against when the login is unknown, so a wrong login costs as long as a wrong
/// password and timing does not reveal which logins exist.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| crate::auth::hash_password(&new_secret("")).unwrap_or_default())
        .clone()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// `user:<login>` or `key:<id>`.
    pub actor: String,
    pub role: String,
    /// Every permission the caller holds.
    pub permissions: Vec<String>,
    /// Send this in `X-CSRF-Token` with every change made through the session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

fn cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("sb_session=; Max-Age=0"))
}

fn permissions(p: &Principal) -> Vec<String> {
    Permission::ALL
        .into_iter()
        .filter(|&x| p.can(x))
        .map(|x| x.as_str().to_owned())
        .collect()
}

#[utoipa::path(
    post, path = "/api/v1/session", tag = "access", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: the `sb_session` cookie is set; keep `csrf_token` for changes", body = SessionView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login or password", body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this login from this address", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Extension(ClientAddr(from)): Extension<ClientAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: LoginRequest = crate::body::json_as(body, "{\"login\", \"password\"}")?;
    let login = req.login.trim().to_owned();
    let note = AuditNote::default().subject(format!("user:{login}"));
    let limit_key = format!("{login}\u{0}{}", from.as_deref().unwrap_or("unknown"));
    if let Err(retry) = state.keys.logins.check(&limit_key, Instant::now()) {
        return Ok(note.on(Problem::new(
            ErrorCode::RateLimited,
            "too many sign-in attempts for this login; retry later",
        )
        .with_retry_after(retry.as_secs().max(1))));
    }
    let user = state.store.user(&login).await?;
    let hash = user
        .as_ref()
        .filter(|u| u.disabled_at.is_none())
        .map_or_else(decoy_hash, |u| u.password_hash.clone());
    let password = req.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(Problem::internal)?;
    let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
        return Ok(note.on(Problem::new(
            ErrorCode::Unauthorized,
            "wrong login or password",
        )));
    };
    let Some(role) = sb_domain::Role::parse(&user.role) else {
        return Err(Problem::internal(format!(
            "user {login} has an unknown role"
        )));
    };
    let token = new_secret("");
    let csrf = new_secret("");
    let now = SystemClock.now();
    let hours = state.keys.limits.session_hours;
    let expires_at = Timestamp(now.millis() + hours * 3_600_000);
    state
        .store
        .create_session(&Session {
            token_hash: hash_api_key(&token),
            login: user.login.clone(),
            csrf: csrf.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    let principal = Principal::user(&user.login, role);
    let view = SessionView {
        actor: principal.actor.clone(),
        role: role.as_str().to_owned(),
        permissions: permissions(&principal),
        csrf_token: Some(csrf),
        expires_at: Some(expires_at),
    };
    let mut res = note
        .change(None, Some(serde_json::json!({ "session": "opened" })))
        .on(Json(view));
    res.headers_mut().insert(
        header::SET_COOKIE,
        cookie(&token, hours * 3600, state.keys.limits.secure_cookie),
    );
    Ok(res)
}

#[utoipa::path(
    get, path = "/api/v1/session", tag = "access",
    responses((status = 200, description = "Who the caller is and what they may do", body = SessionView)),
    security(("api_key" = []))
)]
pub async fn whoami(Extension(who): Extension<Principal>) -> Json<SessionView> {
    Json(SessionView {
        actor: who.actor.clone(),
        role: who.role.as_str().to_owned(),
        permissions: permissions(&who),
        csrf_token: None,
        expires_at: None,
    })
}

#[utoipa::path(
    delete, path = "/api/v1/session", tag = "access",
    responses((status = 204, description = "Signed out: the session ends and its cookie is cleared")),
    security(("api_key" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if let Some(token) = session_cookie(&headers) {
        state.store.delete_session(&hash_api_key(token)).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        cookie("", 0, state.keys.limits.secure_cookie),
    );
    Ok(res)
}
