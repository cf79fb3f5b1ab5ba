//! API key authentication for `/api/v1`. Keys are stored as SHA-256 hashes; a verified key is
//! remembered for a short while so a busy ingest path does not read the key table per request.
//! The full role model arrives with governance; every key today carries a role name.

use crate::AppState;
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use sb_domain::{Clock, SystemClock};
use sb_store::{Store, hash_api_key};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    pub key_id: String,
    pub role: String,
}

const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 10_000;

pub struct KeyCache {
    store: Arc<dyn Store>,
    admin: Option<AdminKey>,
    seen: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl KeyCache {
    pub fn new(store: Arc<dyn Store>, admin: Option<AdminKey>) -> Self {
        Self {
            store,
            admin,
            seen: Mutex::new(HashMap::new()),
        }
    }

    async fn verify(&self, key: &str) -> Result<Option<Principal>, Problem> {
        let hash = hash_api_key(key);
        if self
            .admin
            .as_ref()
            .is_some_and(|a| constant_time_eq(a.0.as_bytes(), hash.as_bytes()))
        {
            return Ok(Some(Principal {
                key_id: "config-admin".into(),
                role: "admin".into(),
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
        let p = Principal {
            key_id: k.id,
            role: k.role,
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= CACHE_MAX {
            seen.clear();
        }
        seen.insert(hash, (p.clone(), Instant::now()));
        Ok(Some(p))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, Problem> {
    let key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Err(Problem::unauthorized());
    };
    let principal = state
        .keys
        .verify(key)
        .await?
        .ok_or_else(Problem::unauthorized)?;
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}
