//! What the store keeps of a case's workflow (D1–D12) and how it changes: the stored state a
//! writer reads (`CaseWork`), the change it saves (`CaseChange`, guarded by `version`), the
//! case's history (`CaseEvent`) and the work the pipeline still owes a case (`CaseWorkItem`).
//! The decisions themselves (SLA clocks, routing, rules) live in the workflow crate; SLA and
//! escalation state travel here as JSON so the store stays ignorant of them.

use crate::{Case, CaseId, CasePriority, CaseStatus, MessageId, QueueId, Timestamp};
use serde::Serialize;

/// A case with everything its workflow needs, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseWork {
    pub case: Case,
    /// Bumped by every saved change; a save names the version it read.
    pub version: i64,
    /// The SLA clocks (the workflow crate's `SlaState`), when a policy applies.
    pub sla: Option<serde_json::Value>,
    /// Escalations raised on the case (the workflow crate's `Escalation`s, with their
    /// acknowledgement), as a JSON array.
    pub escalations: serde_json::Value,
    pub first_response_at: Option<Timestamp>,
    pub first_resolved_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub merged_into: Option<CaseId>,
}

/// A change to one case, saved only if the case is still at `expected_version`, together
/// with its events and the work items it completes — all or nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseChange {
    pub case_id: CaseId,
    pub expected_version: i64,
    pub status: CaseStatus,
    pub priority: CasePriority,
    pub queue_id: Option<QueueId>,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub sla: Option<serde_json::Value>,
    pub sla_due_at: Option<Timestamp>,
    pub escalations: serde_json::Value,
    pub first_response_at: Option<Timestamp>,
    pub first_resolved_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub merged_into: Option<CaseId>,
    pub updated_at: Timestamp,
    pub events: Vec<NewCaseEvent>,
    /// `case_work` items this change carries out; if any is gone (another process did it),
    /// nothing is saved.
    pub done: Vec<i64>,
}

impl CaseChange {
    /// A change that, as it stands, leaves `work` as it is — except `sla_due_at`, which the
    /// writer sets from the clocks it saves (`None`: nothing due).
    pub fn from_work(work: &CaseWork, at: Timestamp) -> Self {
        Self {
            case_id: work.case.id.clone(),
            expected_version: work.version,
            status: work.case.status,
            priority: work.case.priority,
            queue_id: work.case.queue_id.clone(),
            assignee: work.case.assignee.clone(),
            tags: work.case.tags.clone(),
            sla: work.sla.clone(),
            sla_due_at: None,
            escalations: work.escalations.clone(),
            first_response_at: work.first_response_at,
            first_resolved_at: work.first_resolved_at,
            resolved_at: work.resolved_at,
            merged_into: work.merged_into.clone(),
            updated_at: at,
            events: Vec::new(),
            done: Vec::new(),
        }
    }

    pub fn event(&mut self, kind: &str, actor: &str, at: Timestamp, data: serde_json::Value) {
        self.events.push(NewCaseEvent {
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            at,
            data,
            dedup: None,
        });
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewCaseEvent {
    pub kind: String,
    pub actor: String,
    pub at: Timestamp,
    pub data: serde_json::Value,
    /// Events with the same key are stored once.
    pub dedup: Option<String>,
}

/// One entry of a case's history.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    pub seq: i64,
    /// e.g. `status_changed`, `priority_changed`, `tagged`, `note`, `assigned`, `queued`,
    /// `sla.activate`, `sla.warn`, `sla.breach`, `sla.fulfil`, `escalated`, `reply`,
    /// `reply.approved`, `merged`, `split`.
    pub kind: String,
    /// Who did it: an API key or user, `system`, or `rule:<name>`.
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A message placed in a case that the workflow has not handled yet.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseWorkItem {
    pub seq: i64,
    pub case_id: CaseId,
    pub message_id: MessageId,
    /// The message opened the case.
    pub opened: bool,
    pub at: Timestamp,
}
