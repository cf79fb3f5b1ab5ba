//! Writing API calls to the audit trail (G2). The guard records who called which route, from
//! where, and how it ended; a handler adds what only it knows (the customer concerned, the
//! state before and after) by putting an `AuditNote` on its response.

use crate::AppState;
use crate::problem::Problem;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sb_domain::{Clock, Role, SystemClock};
use sb_governance::AuditRecord;

use serde_json::Value;

/// What a handler tells the audit trail about its call.
#[derive(Clone, Debug, Default)]
pub struct AuditNote {
    /// Overrides the request path as the subject, e.g. `case:c_…`.
    pub subject: Option<String>,
    pub customer_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditNote {
    pub fn customer(id: impl Into<String>) -> Self {
        Self {
            customer_id: Some(id.into()),
            ..Self::default()
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn change(mut self, before: Option<Value>, after: Option<Value>) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    /// Attaches the note to a response.
    pub fn on(self, res: impl IntoResponse) -> Response {
        let mut res = res.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

/// Appends one entry. A call that cannot be recorded fails: the caller is told, and an
/// operator sees the cause in the log.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    state: &AppState,
    actor: Option<(String, Role)>,
    method: &Method,
    route: &str,
    path: &str,
    origin: Option<String>,
    status: StatusCode,
    note: Option<AuditNote>,
) -> Result<(), Problem> {
    let note = note.unwrap_or_default();
    let detail = (note.before.is_some() || note.after.is_some())
        .then(|| serde_json::json!({ "before": note.before, "after": note.after }));
    let (actor, role) = match actor {
        Some((a, r)) => (a, Some(r.as_str().to_owned())),
        None => ("anonymous".to_owned(), None),
    };
    let record = AuditRecord {
        at_ms: SystemClock.now().millis(),
        actor,
        role,
        action: format!("{method} {route}"),
        subject: Some(note.subject.unwrap_or_else(|| path.to_owned())),
        customer_id: note.customer_id,
        origin,
        outcome: status.as_u16(),
        detail,
    };
    state
        .store
        .append_audit(vec![record])
        .await
        .map(|_| ())
        .map_err(Problem::internal)
}
