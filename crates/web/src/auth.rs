//! Who is calling, and may they (G1). A caller is an API key (`Authorization: Bearer`) or a
//! signed-in user's browser session (the `sb_session` cookie, with the CSRF token it was issued
//! in `X-CSRF-Token` on every change). Keys are stored as SHA-256 hashes and remembered for a
//! short while, so a busy ingest path does not read the key table per request; passwords are
//! argon2 hashes. Failed credentials, logins and each key's use are rate-limited.

use crate::AppState;
use crate::access::{self, Audit, Need};
use crate::audit::{self, AuditNote};
use crate::problem::Problem;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use sb_domain::{Clock, ErrorCode, Permission, Role, SystemClock};
use sb_governance::RateLimiter;
use sb_store::{Store, hash_api_key};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sb_session";
/// The header that carries a session's CSRF token on every change.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An admin key given in configuration (`SWITCHBOARD_ADMIN_KEY`), held only as its hash.
#[derive(Clone, Debug)]
pub struct AdminKey(String);

impl AdminKey {
    pub fn new(key: &str) -> Self {
        Self(hash_api_key(key))
    }
}

/// Who a request acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// `key:<id>` or `user:<login>`: the name the audit trail and case history record.
    pub actor: String,
    pub role: Role,
    /// What a key is narrowed to; `None` is everything its role allows.
    pub scopes: Option<Vec<Permission>>,
    /// The regions whose customers the caller may read (G5); `None` is every region.
    pub regions: Option<Vec<String>>,
    /// A browser session's CSRF token; `None` for a key.
    csrf: Option<String>,
}

impl Principal {
    /// A signed-in user, as a session names them.
    pub fn user(login: &str, role: Role) -> Self {
        Self {
            actor: format!("user:{login}"),
            role,
            scopes: None,
            regions: None,
            csrf: None,
        }
    }

    /// Refuses a read of a customer's data held in a region the caller is not scoped to. Data
    /// with no region recorded is readable by everyone allowed to read such data at all.
    pub fn may_read_region(&self, region: Option<&str>) -> Result<(), Problem> {
        match (&self.regions, region) {
            (Some(allowed), Some(r)) if !allowed.iter().any(|a| a.eq_ignore_ascii_case(r)) => {
                Err(Problem::custom(
                    StatusCode::FORBIDDEN,
                    "region_denied",
                    format!(
                        "this customer's data is held in region `{r}`; your access covers {}",
                        allowed.join(", ")
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// A browser session's CSRF token, which the UI's pages hand to their script.
    pub(crate) fn csrf_token(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.allows(permission) && self.scopes.as_ref().is_none_or(|s| s.contains(&permission))
    }
}

/// Limits, per caller, of how fast credentials may be tried and keys used.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Failed credentials per client address: burst, then per minute.
    pub failures_burst: u32,
    pub failures_per_minute: f64,
    /// Login attempts per login name and address: burst, then per minute.
    pub logins_burst: u32,
    pub logins_per_minute: f64,
    /// Requests per key: burst, then per second.
    pub key_burst: u32,
    pub key_per_second: f64,
    /// How long a browser session lasts.
    pub session_hours: i64,
    /// Whether the session cookie is marked `Secure` (off only for plain-HTTP development).
    pub secure_cookie: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            failures_burst: 20,
            failures_per_minute: 12.0,
            logins_burst: 5,
            logins_per_minute: 1.0,
            key_burst: 20_000,
            key_per_second: 10_000.0,
            session_hours: 12,
            secure_cookie: true,
        }
    }
}

const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 10_000;
const LIMITER_KEYS: usize = 100_000;

pub struct KeyCache {
    store: Arc<dyn Store>,
    admin: Option<AdminKey>,
    seen: Mutex<HashMap<String, (Principal, Instant)>>,
    pub(crate) limits: Limits,
    failures: RateLimiter,
    pub(crate) logins: RateLimiter,
    per_key: RateLimiter,
}

impl KeyCache {
    pub fn new(store: Arc<dyn Store>, admin: Option<AdminKey>, limits: Limits) -> Self {
        Self {
            store,
            admin,
            seen: Mutex::new(HashMap::new()),
            failures: RateLimiter::new(
                limits.failures_burst,
                limits.failures_per_minute / 60.0,
                LIMITER_KEYS,
            ),
            logins: RateLimiter::new(
                limits.logins_burst,
                limits.logins_per_minute / 60.0,
                LIMITER_KEYS,
            ),
            per_key: RateLimiter::new(limits.key_burst, limits.key_per_second, LIMITER_KEYS),
            limits,
        }
    }

    pub fn admin(&self) -> Option<&AdminKey> {
        self.admin.as_ref()
    }

    /// Forgets remembered keys, so a revocation takes effect at once on this server.
    pub fn forget(&self) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    async fn verify_key(&self, key: &str) -> Result<Option<Principal>, Problem> {
        let hash = hash_api_key(key);
        if self
            .admin
            .as_ref()
            .is_some_and(|a| constant_time_eq(a.0.as_bytes(), hash.as_bytes()))
        {
            return Ok(Some(Principal {
                actor: "key:config-admin".into(),
                role: Role::Admin,
                scopes: None,
                regions: None,
                csrf: None,
            }));
        }
        if let Some((p, at)) = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some(p.clone()));
        }
        let Some(k) = self.store.api_key_by_hash(&hash).await? else {
            return Ok(None);
        };
        let now = SystemClock.now();
        if k.revoked_at.is_some() || k.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let Some(role) = Role::parse(&k.role) else {
            return Ok(None);
        };
        let scopes = k
            .scopes
            .map(|s| s.iter().filter_map(|p| Permission::parse(p)).collect());
        let p = Principal {
            actor: format!("key:{}", k.id),
            role,
            scopes,
            regions: k.regions,
            csrf: None,
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= CACHE_MAX {
            seen.clear();
        }
        seen.insert(hash, (p.clone(), Instant::now()));
        Ok(Some(p))
    }

    async fn verify_session(&self, token: &str) -> Result<Option<Principal>, Problem> {
        let Some(s) = self.store.session(&hash_api_key(token)).await? else {
            return Ok(None);
        };
        if s.expires_at <= SystemClock.now() {
            self.store.delete_session(&s.token_hash).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user(&s.login).await? else {
            return Ok(None);
        };
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        Ok(Role::parse(&user.role).map(|role| Principal {
            actor: format!("user:{}", user.login),
            role,
            scopes: None,
            regions: user.regions.clone(),
            csrf: Some(s.csrf),
        }))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A long random secret, hex, with `prefix` (`sb_` for API keys).
pub fn new_secret(prefix: &str) -> String {
    format!(
        "{prefix}{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| format!("cannot make a salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The user a browser's session cookie names, for the UI's pages; `None` when there is no
/// cookie or the session has ended.
pub(crate) async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, Problem> {
    match session_cookie(headers) {
        Some(token) => state.keys.verify_session(token).await,
        None => Ok(None),
    }
}

/// The caller's address, when the server knows it.
pub fn origin(req: &Request) -> Option<String> {
    origin_of(req.extensions().get::<ConnectInfo<SocketAddr>>())
}

fn origin_of(connect: Option<&ConnectInfo<SocketAddr>>) -> Option<String> {
    connect.map(|c| c.0.ip().to_string())
}

/// The caller's address as the guard saw it, for handlers that record it themselves.
#[derive(Clone, Debug, Default)]
pub struct ClientAddr(pub Option<String>);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

fn rate_limited(retry: Duration, what: &str) -> Problem {
    Problem::new(
        ErrorCode::RateLimited,
        format!("too many {what}; retry later"),
    )
    .with_retry_after(retry.as_secs().max(1))
}

/// Authenticates the caller, checks the route's permission (and a session's CSRF token), runs
/// the handler, and writes the call to the audit trail when the route says so.
pub async fn guard(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Problem> {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(entry) = access::lookup(&method, &route) else {
        // A method the route does not have: say which it has.
        let allowed = access::methods_of(&route);
        if !allowed.is_empty() {
            use axum::response::IntoResponse;
            let mut answer = Problem::custom(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{route} answers {}", allowed.join(", ")),
            )
            .into_response();
            if let Ok(v) = allowed.join(", ").parse() {
                answer.headers_mut().insert(header::ALLOW, v);
            }
            return Ok(answer);
        }
        return Err(Problem::new(
            ErrorCode::Forbidden,
            "no permission is defined for this route",
        ));
    };
    let from = origin(&req);
    req.extensions_mut().insert(ClientAddr(from.clone()));
    let principal = match entry.need {
        Need::Public => None,
        _ => Some(authenticate(&state, req.headers(), from.as_deref()).await?),
    };
    if let Some(p) = &principal {
        if let Need::Permission(needed) = entry.need
            && !p.can(needed)
        {
            return Err(Problem::new(
                ErrorCode::Forbidden,
                format!("the {} role may not do this (needs `{needed}`)", p.role),
            ));
        }
        if let Some(csrf) = &p.csrf
            && !matches!(method, Method::GET | Method::HEAD)
        {
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(Problem::custom(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "a change from a browser session needs its X-CSRF-Token header",
                ));
            }
        }
        req.extensions_mut().insert(p.clone());
    }
    // The guard sits inside the `/api/v1` nest, which strips its prefix from the URI.
    let path = format!("/api/v1{}", req.uri().path());
    let res = next.run(req).await;
    if entry.audit == Audit::No {
        return Ok(res);
    }
    let note = res.extensions().get::<AuditNote>().cloned();
    let actor = principal.as_ref().map(|p| (p.actor.clone(), p.role));
    audit::record(
        &state,
        actor,
        &method,
        entry.path,
        &path,
        from,
        res.status(),
        note,
    )
    .await?;
    Ok(res)
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    from: Option<&str>,
) -> Result<Principal, Problem> {
    let keys = &state.keys;
    let now = Instant::now();
    let client = from.unwrap_or("unknown");
    // Once an address has spent its allowance of failures, nothing it sends is checked until
    // the allowance refills, so a right guess cannot be told from a wrong one.
    if let Some(retry) = keys.failures.blocked(client, now) {
        return Err(rate_limited(retry, "failed attempts from this address"));
    }
    let found = if let Some(key) = bearer(headers) {
        keys.verify_key(key).await?
    } else if let Some(token) = session_cookie(headers) {
        keys.verify_session(token).await?
    } else {
        return Err(Problem::unauthorized());
    };
    let Some(p) = found else {
        return Err(match keys.failures.check(client, now) {
            Ok(()) => Problem::unauthorized(),
            Err(retry) => rate_limited(retry, "failed attempts from this address"),
        });
    };
    if p.csrf.is_none() {
        keys.per_key
            .check(&p.actor, now)
            .map_err(|retry| rate_limited(retry, "requests with this key"))?;
    }
    Ok(p)
}
