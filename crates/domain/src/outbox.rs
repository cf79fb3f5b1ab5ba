//! The durable outbox: everything Switchboard sends to the outside world — replies to
//! customers, alerts and incidents to operations tools — is stored first and sent after, so
//! that a crash or an outage delays a send but never loses or repeats it.

use crate::{OutboxId, Timestamp};
use serde::{Deserialize, Serialize};

/// An item to send. `dedup_key` makes enqueueing idempotent: the same key twice is one item,
/// so a redelivered event that leads to a send leads to one send.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOutboxItem {
    /// The configured target that sends it, e.g. `pagerduty`, `slack`, `meta`, `x`.
    pub target: String,
    pub dedup_key: String,
    pub payload: serde_json::Value,
    /// What it is about, e.g. a case, alert or incident id; shown in the delivery log.
    pub subject: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The target accepted it.
    Delivered,
    /// The target refused it for good (a permanent error); kept, shown, never dropped.
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboxItem {
    #[schema(value_type = String)]
    pub id: OutboxId,
    pub target: String,
    pub dedup_key: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub subject: Option<String>,
    pub status: OutboxStatus,
    /// Attempts started so far.
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
}

/// One line of the delivery log.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `delivered`, `retry`, `permanent` or `reauthorize`.
    pub outcome: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// What becomes of an item after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered {
        remote_id: Option<String>,
    },
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Refused for good.
    Dead,
}

/// Whether a target may send. A revoked or expired token pauses it until an operator
/// replaces the token and resumes it; queued items wait, none is lost.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TargetState {
    pub target: String,
    /// `active` or `reauthorization_required`.
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    pub reason: Option<String>,
}
