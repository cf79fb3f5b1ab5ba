//! API keys (G1): issued with a role and optional narrower scopes, shown once, stored hashed,
//! expiring, rotated with an overlap window in which old and new both work, revoked at once.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::new_secret;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use sb_domain::{Clock, ErrorCode, Permission, Role, SystemClock, Timestamp};
use sb_store::{ApiKey, NewApiKey, hash_api_key};
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// How long a rotated key keeps working when the request names no overlap.
pub const DEFAULT_OVERLAP_HOURS: u32 = 24;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// What the key is for, e.g. `order system ingest`.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// admin, supervisor, agent, analyst, auditor or operations.
    #[schema(pattern = "^(admin|supervisor|agent|analyst|auditor|operations)$")]
    pub role: String,
    /// Permissions to narrow the key to (each must be one its role grants); all of the role's
    /// when absent.
    pub scopes: Option<Vec<String>>,
    /// Days until the key stops working (1–3650); never when absent.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
    /// Regions whose customers the key may read (data residency); every region when absent:
    /// 1–20 names of letters, digits, `-` or `_`.
    #[schema(min_items = 1, max_items = 20, value_type = Option<Vec<crate::api::RegionName>>)]
    pub regions: Option<Vec<String>>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Hours the old key keeps working beside the new one (0–720, default 24).
    #[schema(minimum = 0, maximum = 720)]
    pub overlap_hours: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub scopes: Option<Vec<String>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    pub rotated_to: Option<String>,
    pub regions: Option<Vec<String>>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

impl KeyView {
    fn of(k: ApiKey, now: Timestamp) -> Self {
        let state = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: k.id,
            name: k.name,
            role: k.role,
            scopes: k.scopes,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            rotated_to: k.rotated_to,
            regions: k.regions,
            state,
        }
    }
}

/// A new key: `key` is shown here once and never again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedKey {
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

fn invalid(field: &str, detail: String) -> Problem {
    Problem::new(ErrorCode::InvalidField, detail).with_field(field)
}

/// Region names as configured on customers: 1–32 letters, digits, `-` or `_`, at most 20.
pub fn valid_regions(regions: &Option<Vec<String>>) -> Result<(), Problem> {
    let Some(list) = regions else { return Ok(()) };
    let ok = |r: &String| {
        (1..=32).contains(&r.len())
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if list.is_empty() || list.len() > 20 || !list.iter().all(ok) {
        return Err(invalid(
            "regions",
            "`regions` is 1–20 names of letters, digits, `-` or `_`".into(),
        ));
    }
    Ok(())
}

fn validate(req: &NewKeyRequest) -> Result<(Role, Option<Vec<String>>), Problem> {
    valid_regions(&req.regions)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "`name` must be 1–100 characters".into()));
    }
    let role =
        Role::parse(&req.role).ok_or_else(|| invalid("role", format!("no role `{}`", req.role)))?;
    let scopes = req
        .scopes
        .as_ref()
        .map(|scopes| {
            if scopes.is_empty() {
                return Err(invalid("scopes", "`scopes` may not be empty".into()));
            }
            scopes
                .iter()
                .map(|s| match Permission::parse(s) {
                    None => Err(invalid("scopes", format!("no permission `{s}`"))),
                    Some(p) if !role.allows(p) => Err(invalid(
                        "scopes",
                        format!("the {role} role does not grant `{p}`"),
                    )),
                    Some(p) => Ok(p.as_str().to_owned()),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    if req
        .expires_in_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(invalid(
            "expires_in_days",
            "`expires_in_days` must be between 1 and 3650".into(),
        ));
    }
    Ok((role, scopes))
}

async fn issue(
    state: &AppState,
    new: NewApiKey,
    key: String,
    rotate: Option<(&str, Timestamp)>,
) -> Result<Option<IssuedKey>, Problem> {
    let id = match rotate {
        None => Some(state.store.create_api_key(&new).await?),
        Some((old, until)) => state.store.rotate_api_key(old, &new, until).await?,
    };
    let Some(id) = id else { return Ok(None) };
    let stored = state
        .store
        .api_key(&id)
        .await?
        .ok_or_else(|| Problem::internal(format!("key {id} vanished after it was stored")))?;
    Ok(Some(IssuedKey {
        key,
        view: KeyView::of(stored, new.created_at),
    }))
}

fn issued(view: IssuedKey, note: AuditNote) -> Response {
    note.on((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    post, path = "/api/v1/keys", tag = "access", request_body = NewKeyRequest,
    responses(
        (status = 201, description = "The new key, shown once", body = IssuedKey),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: NewKeyRequest = crate::body::json_as(
        body,
        "{\"name\", \"role\", \"scopes\"?, \"expires_in_days\"?, \"regions\"?}",
    )?;
    let (role, scopes) = validate(&req)?;
    let now = SystemClock.now();
    let key = new_secret("sb_");
    let new = NewApiKey {
        name: req.name.trim().to_owned(),
        key_hash: hash_api_key(&key),
        role: role.as_str().to_owned(),
        scopes,
        created_at: now,
        expires_at: req
            .expires_in_days
            .map(|d| Timestamp(now.millis() + i64::from(d) * DAY_MS)),
        regions: req.regions.clone(),
    };
    let view = issue(&state, new, key, None)
        .await?
        .ok_or_else(|| Problem::internal("a new key was not stored"))?;
    let note = AuditNote::default()
        .subject(format!("key:{}", view.view.id))
        .change(None, Some(serde_json::json!({ "name": view.view.name, "role": view.view.role, "scopes": view.view.scopes, "expires_at": view.view.expires_at })));
    Ok(issued(view, note))
}

#[utoipa::path(
    get, path = "/api/v1/keys", tag = "access",
    responses((status = 200, description = "Every key, without its secret", body = KeyList)),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<KeyList>, Problem> {
    let now = SystemClock.now();
    let keys = state.store.api_keys().await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(|k| KeyView::of(k, now)).collect(),
    }))
}

#[utoipa::path(
    post, path = "/api/v1/keys/{id}/rotate", tag = "access", request_body = Option<RotateRequest>,
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 201, description = "The successor key, shown once; the old key works until the overlap ends", body = IssuedKey),
        (status = 400, description = "Not JSON, or an unknown field (`invalid_body`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No live key with this id (unknown, revoked or already rotated)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let bytes = crate::body::raw(body, crate::MAX_BODY_BYTES)?;
    let req: RotateRequest = if bytes.is_empty() {
        RotateRequest::default()
    } else {
        crate::body::json_as(Ok(bytes), "{\"overlap_hours\"?}")?
    };
    let overlap = req.overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if overlap > 720 {
        return Err(invalid(
            "overlap_hours",
            "`overlap_hours` must be between 0 and 720".into(),
        ));
    }
    let old = state
        .store
        .api_key(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no key `{id}`")))?;
    let now = SystemClock.now();
    let key = new_secret("sb_");
    let new = NewApiKey {
        name: old.name.clone(),
        key_hash: hash_api_key(&key),
        role: old.role.clone(),
        scopes: old.scopes.clone(),
        created_at: now,
        // The successor lives as long as its predecessor was meant to.
        expires_at: old
            .expires_at
            .map(|e| Timestamp(now.millis() + (e.millis() - old.created_at.millis()).max(DAY_MS))),
        regions: old.regions.clone(),
    };
    let until = Timestamp(now.millis() + i64::from(overlap) * HOUR_MS);
    let view = issue(&state, new, key, Some((&id, until)))
        .await?
        .ok_or_else(|| Problem::not_found(format!("key `{id}` is revoked or already rotated")))?;
    state.keys.forget();
    let note = AuditNote::default().subject(format!("key:{id}")).change(
        Some(serde_json::json!({ "expires_at": old.expires_at })),
        Some(serde_json::json!({ "expires_at": until, "rotated_to": view.view.id })),
    );
    Ok(issued(view, note))
}

#[utoipa::path(
    delete, path = "/api/v1/keys/{id}", tag = "access",
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked: the key stops working at once"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    if !state.store.revoke_api_key(&id, SystemClock.now()).await? {
        return Err(Problem::not_found(format!(
            "no live key `{id}` (unknown or already revoked)"
        )));
    }
    state.keys.forget();
    Ok(AuditNote::default()
        .subject(format!("key:{id}"))
        .on(StatusCode::NO_CONTENT))
}
