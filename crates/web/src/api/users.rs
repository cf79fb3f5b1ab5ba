//! Users who sign in to the UI (G1): a login, a role and an argon2 password hash. Changing a
//! user's password or role, or disabling them, ends their open sessions.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::hash_password;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, Role, SystemClock, Timestamp};
use serde::{Deserialize, Serialize};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRequest {
    #[schema(pattern = "^(admin|supervisor|agent|analyst|auditor|operations)$")]
    pub role: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
    /// Regions whose customers the user may read (data residency); every region when absent.
    #[schema(min_items = 1, max_items = 20, value_type = Option<Vec<crate::api::RegionName>>)]
    pub regions: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub login: String,
    pub role: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
    pub regions: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

#[utoipa::path(
    get, path = "/api/v1/users", tag = "access",
    responses((status = 200, description = "Every user, without password hashes", body = UserList)),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<UserList>, Problem> {
    let users = state.store.users().await?;
    Ok(Json(UserList {
        users: users
            .into_iter()
            .map(|u| UserView {
                login: u.login,
                role: u.role,
                disabled_at: u.disabled_at,
                regions: u.regions,
            })
            .collect(),
    }))
}

#[utoipa::path(
    put, path = "/api/v1/users/{login}", tag = "access", request_body = UserRequest,
    params(("login" = String, Path, pattern = "^[A-Za-z0-9._@-]{1,64}$", description = "Login name: letters, digits, `.`, `_`, `-`, `@`")),
    responses(
        (status = 200, description = "Created or updated (and enabled)", body = UserView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    Path(login): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    if !valid_login(&login) {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            "a login is 1–64 letters, digits, `.`, `_`, `-` or `@`",
        )
        .with_field("login"));
    }
    let req: UserRequest = crate::body::json_as(body, "{\"role\", \"password\", \"regions\"?}")?;
    crate::api::keys::valid_regions(&req.regions)?;
    let role = Role::parse(&req.role).ok_or_else(|| {
        Problem::new(ErrorCode::InvalidField, format!("no role `{}`", req.role)).with_field("role")
    })?;
    if req.password.chars().count() < MIN_PASSWORD_CHARS || req.password.len() > 1024 {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("a password has {MIN_PASSWORD_CHARS} to 1024 characters"),
        )
        .with_field("password"));
    }
    let before = state.store.user(&login).await?;
    let hash = hash_password(&req.password).map_err(Problem::internal)?;
    state
        .store
        .upsert_user(&login, &hash, role.as_str(), SystemClock.now())
        .await?;
    state
        .store
        .set_user_regions(&login, req.regions.as_deref())
        .await?;
    let note = AuditNote::default()
        .subject(format!("user:{login}"))
        .change(
            before.map(|u| serde_json::json!({ "role": u.role, "disabled_at": u.disabled_at })),
            Some(serde_json::json!({ "role": role, "password": "changed" })),
        );
    Ok(note.on((
        StatusCode::OK,
        Json(UserView {
            login,
            role: role.as_str().to_owned(),
            disabled_at: None,
            regions: req.regions.clone(),
        }),
    )))
}

#[utoipa::path(
    delete, path = "/api/v1/users/{login}", tag = "access",
    params(("login" = String, Path, description = "Login name")),
    responses(
        (status = 204, description = "Disabled: the user can no longer sign in, and their sessions end"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    Path(login): Path<String>,
) -> Result<Response, Problem> {
    if !state.store.disable_user(&login, SystemClock.now()).await? {
        return Err(Problem::not_found(format!("no enabled user `{login}`")));
    }
    Ok(AuditNote::default()
        .subject(format!("user:{login}"))
        .on(StatusCode::NO_CONTENT))
}
