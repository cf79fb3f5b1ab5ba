//! Reading the audit trail (G2): entries in chain order (one customer's, to reconstruct their
//! history), and a check of the whole chain. Reading it is itself audited.

use crate::AppState;
use crate::api::query;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use sb_domain::{CustomerId, ErrorCode};
use sb_governance::{AuditEntry, Verifier};
use sb_store::Store;
use serde::{Deserialize, Serialize};

/// Entries read per round trip when walking the whole chain.
pub const VERIFY_PAGE: u32 = 2_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries concerning this customer.
    #[param(pattern = "^cus_[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$")]
    pub customer: Option<String>,
    /// Entries after this sequence number (the `next` of the previous page).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; absent after the last.
    pub next: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub intact: bool,
    /// Entries checked.
    pub entries: u64,
    /// The last entry the store recorded.
    pub head_seq: i64,
    /// The first bad entry, when the chain is broken.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "Entries in chain order", body = AuditPage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    let q = query(q)?;
    let customer = q
        .customer
        .as_deref()
        .map(|c| {
            CustomerId::parse(c).ok_or_else(|| {
                Problem::new(
                    ErrorCode::InvalidQuery,
                    format!("`{c}` is not a customer id"),
                )
                .with_field("customer")
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            "`limit` must be between 1 and 1000",
        )
        .with_field("limit"));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(
            Problem::new(ErrorCode::InvalidQuery, "`after` must be 0 or more").with_field("after"),
        );
    }
    let entries = state
        .store
        .audit_entries(customer.as_ref(), q.after.unwrap_or(0), limit)
        .await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { entries, next }))
}

/// Walks the whole chain from the first entry against the recorded head.
pub async fn check_chain(store: &dyn Store) -> Result<ChainReport, sb_store::StoreError> {
    let (head_seq, head_hash) = store.audit_head().await?;
    let mut verifier = Verifier::new(Some((head_seq, &head_hash)));
    let mut after = 0;
    loop {
        let page = store.audit_entries(None, after, VERIFY_PAGE).await?;
        let full = page.len() == VERIFY_PAGE as usize;
        for e in page {
            after = e.seq.max(after);
            if let Err(b) = verifier.push(e) {
                return Ok(broken(head_seq, b));
            }
        }
        if !full {
            break;
        }
    }
    Ok(match verifier.finish() {
        Ok(entries) => ChainReport {
            intact: true,
            entries,
            head_seq,
            first_bad_seq: None,
            problem: None,
        },
        Err(b) => broken(head_seq, b),
    })
}

fn broken(head_seq: i64, b: sb_governance::ChainBreak) -> ChainReport {
    ChainReport {
        intact: false,
        entries: b.position,
        head_seq,
        first_bad_seq: Some(b.seq),
        problem: Some(b.to_string()),
    }
}

#[utoipa::path(
    get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "Whether the chain is intact, and its first bad entry if not", body = ChainReport)),
    security(("api_key" = []))
)]
pub async fn verify(State(state): State<AppState>) -> Result<Json<ChainReport>, Problem> {
    Ok(Json(check_chain(state.store.as_ref()).await?))
}
