//! Automatic replies that rules request (D7 `auto_reply`). The case workflow records the
//! request as an `auto_reply.requested` case event (it runs in workers too, which have no
//! reply path); this task, run by every `serve` process, carries each request out through the
//! same path as an agent's reply — approved template rendered for the customer, guardrails,
//! approvals, the customer's opt-out, the automation circuit breaker, the outbox — as an
//! automated reply by `rule:<name>`, so it never fulfils an SLA response target.
//!
//! Each request ends in one `auto_reply.sent` or `auto_reply.failed` case event naming it
//! (`request`: the request's event sequence number). The reply's idempotency key is derived
//! from the request, so two processes, or a crash between queuing and recording, still send
//! one reply. Requests older than a day when a process starts are not carried out: an
//! acknowledgement that late would mislead.

use crate::AppState;
use crate::api::replies::{ReplyRequest, send};
use crate::api::templates::TemplateChoice;
use crate::problem::Problem;
use sb_domain::{CaseEvent, CaseId, Timestamp};
use serde_json::json;
use std::time::Duration;

/// The case event kind rules record.
pub const REQUESTED: &str = "auto_reply.requested";
pub const SENT: &str = "auto_reply.sent";
pub const FAILED: &str = "auto_reply.failed";
/// Requests older than this when a process starts are left alone.
pub const LOOKBACK_MS: i64 = 24 * 60 * 60 * 1000;
const BATCH: u32 = 100;

/// Where a process is in the stream of requests.
#[derive(Clone, Debug)]
pub struct Cursor {
    after_seq: i64,
    not_before: Timestamp,
}

impl Cursor {
    /// A cursor for a process starting at `now`.
    pub fn starting(now: Timestamp) -> Self {
        Self {
            after_seq: 0,
            not_before: now.plus_millis(-LOOKBACK_MS),
        }
    }
}

/// Carries out requests forever, checking every `period`.
pub async fn run(state: AppState, period: Duration) {
    let mut cursor = Cursor::starting(state.casework.now());
    loop {
        match round(&state, &mut cursor).await {
            Ok(n) if n == BATCH as usize => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e.detail(), "automatic replies: will try again");
            }
        }
        tokio::time::sleep(period).await;
    }
}

/// Carries out the requests recorded since the cursor; answers how many it looked at. A
/// failure that may pass (the store) stops the round before the request, to be retried.
pub async fn round(state: &AppState, cursor: &mut Cursor) -> Result<usize, Problem> {
    let requests = state
        .store
        .case_events_of_kind(REQUESTED, cursor.after_seq, BATCH)
        .await?;
    for (case, request) in &requests {
        if request.at >= cursor.not_before {
            carry_out(state, case, request).await?;
        }
        cursor.after_seq = request.seq;
    }
    Ok(requests.len())
}

async fn carry_out(state: &AppState, case: &CaseId, request: &CaseEvent) -> Result<(), Problem> {
    let done = state.store.case_events(case).await?.iter().any(|e| {
        (e.kind == SENT || e.kind == FAILED) && e.data["request"].as_i64() == Some(request.seq)
    });
    if done {
        return Ok(());
    }
    let template = request.data["template"].as_str().unwrap_or_default();
    let req = ReplyRequest {
        text: None,
        template: Some(TemplateChoice {
            key: template.to_owned(),
            tone: None,
            locale: None,
            variables: None,
        }),
        visibility: None,
        move_to_private: false,
        public_note: None,
        strict: false,
        automated: true,
        operational_update: false,
    };
    let key = format!("auto-reply-{}", request.seq);
    let (kind, data) = match send(state, &request.actor, case.clone(), &req, &key).await {
        Ok(r) => (
            SENT,
            json!({ "request": request.seq, "template": template, "reply_id": r.reply_id, "status": r.status }),
        ),
        // The store or the server failed: not an answer about this request; try again.
        Err(p) if p.status().is_server_error() => return Err(p),
        Err(p) => (
            FAILED,
            json!({ "request": request.seq, "template": template, "code": p.code(), "detail": p.detail() }),
        ),
    };
    metrics::counter!("switchboard_auto_replies_total", "outcome" => if kind == SENT { "sent" } else { "failed" })
        .increment(1);
    let now = state.casework.now();
    state
        .casework
        .update(case, &request.actor, false, |edit| {
            edit.event(kind, now, data.clone());
            Ok(())
        })
        .await?;
    Ok(())
}
