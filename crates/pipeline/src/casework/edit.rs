//! One change to one case, built up in memory: status, priority, tags, assignment, notes,
//! SLA clock transitions, escalations, and the survey and quality review a resolution earns,
//! each recorded as a history event as it is made.
//! `finish` turns it into the `CaseChange` the store saves against the version it read.

use sb_domain::{CaseChange, CasePriority, CaseStatus, CaseWork, QueueId, Timestamp};
use sb_workflow::Workflow;
use sb_workflow::escalation::Escalation;
use sb_workflow::sla::{CaseEvent, ClockEvent, ClockEventKind, SlaPolicy, SlaState};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An escalation raised on a case, and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaisedEscalation {
    #[serde(flatten)]
    pub escalation: Escalation,
    #[serde(default)]
    pub acknowledged_at: Option<Timestamp>,
    #[serde(default)]
    pub acknowledged_by: Option<String>,
    #[serde(default)]
    pub breached_at: Option<Timestamp>,
}

pub struct CaseEdit<'w> {
    wf: &'w Workflow,
    pub work: CaseWork,
    pub change: CaseChange,
    pub sla: Option<SlaState>,
    pub escalations: Vec<RaisedEscalation>,
    actor: String,
    /// A clock breached during this edit.
    breached: bool,
    /// When this edit resolved the case, if it did.
    resolved: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
#[error("case {case} holds workflow state this version cannot read: {reason}")]
pub struct UnreadableCase {
    pub case: String,
    pub reason: String,
}

impl<'w> CaseEdit<'w> {
    /// The workflow this edit decides with: the one in force when the case was read.
    pub fn workflow(&self) -> &'w Workflow {
        self.wf
    }

    pub fn new(
        wf: &'w Workflow,
        work: CaseWork,
        actor: &str,
        now: Timestamp,
    ) -> Result<Self, UnreadableCase> {
        let unreadable = |e: serde_json::Error| UnreadableCase {
            case: work.case.id.to_string(),
            reason: e.to_string(),
        };
        let sla = work
            .sla
            .clone()
            .map(serde_json::from_value::<SlaState>)
            .transpose()
            .map_err(unreadable)?;
        let escalations = serde_json::from_value(work.escalations.clone()).map_err(unreadable)?;
        Ok(Self {
            wf,
            change: CaseChange::from_work(&work, now),
            work,
            sla,
            escalations,
            actor: actor.to_owned(),
            breached: false,
            resolved: None,
        })
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Records the next changes as made by someone else (a rule, the system).
    pub fn acting_as(&mut self, actor: &str) {
        actor.clone_into(&mut self.actor);
    }

    pub fn event(&mut self, kind: &str, at: Timestamp, data: serde_json::Value) {
        let actor = self.actor.clone();
        self.change.event(kind, &actor, at, data);
    }

    fn policy(&self) -> Option<&'w SlaPolicy> {
        let wf = self.wf;
        self.sla.as_ref().and_then(|s| wf.sla.get(&s.policy))
    }

    fn clock_events(&mut self, events: Vec<ClockEvent>) {
        let case = self.work.case.id.to_string();
        for e in events {
            let data = json!({
                "metric": e.metric.as_str(),
                "elapsed_ms": e.elapsed_ms,
                "target_ms": e.target_ms,
            });
            // The same transition computed twice (a retry after a lost race) is stored once.
            let dedup = format!(
                "sla:{case}:{}:{}:{}",
                e.metric.as_str(),
                e.kind.as_str(),
                e.at.millis()
            );
            self.change.events.push(sb_domain::NewCaseEvent {
                kind: format!("sla.{}", e.kind.as_str()),
                actor: "system".into(),
                at: e.at,
                data,
                dedup: Some(dedup),
            });
            if e.kind == ClockEventKind::Breach {
                self.breached = true;
            }
        }
    }

    /// Starts the clocks of the first matching policy, if any matches.
    pub fn start_sla(&mut self, facts: &sb_workflow::sla::CaseFacts, opened_at: Timestamp) {
        if self.sla.is_some() {
            return;
        }
        let wf = self.wf;
        if let Some(policy) = wf.sla.matching(facts) {
            let (state, events) = SlaState::start(policy, opened_at);
            self.event(
                "sla.policy",
                opened_at,
                json!({ "policy": policy.name.as_str() }),
            );
            self.sla = Some(state);
            self.clock_events(events);
        }
    }

    /// Moves the clocks to the policy that matches the case now, when that is another policy
    /// or the same one changed by configuration: elapsed business time is kept, targets are
    /// the new ones (see `SlaState::rebase`). A case no policy matches keeps its clocks.
    pub fn rematch_sla(
        &mut self,
        facts: &sb_workflow::sla::CaseFacts,
        now: Timestamp,
        reason: &str,
    ) {
        let wf = self.wf;
        let Some(next) = wf.sla.matching(facts) else {
            return;
        };
        let old = self.policy();
        let Some(state) = self.sla.as_mut() else {
            self.start_sla(facts, now);
            return;
        };
        let fingerprint = next.fingerprint();
        if state.policy == next.name && state.policy_fingerprint.as_deref() == Some(&fingerprint) {
            return;
        }
        let from = state.policy.clone();
        if let Some(old) = old {
            // Overdue events of the old policy fire at their own instants, and the stretch
            // since the last transition counts on the old calendar.
            let overdue = state.tick(old, now);
            state.checkpoint(old, now);
            self.clock_events(overdue);
        }
        let Some(state) = self.sla.as_mut() else {
            return;
        };
        let events = state.rebase(next, now);
        self.event(
            "sla.policy",
            now,
            json!({ "policy": next.name.as_str(), "from": from, "reason": reason }),
        );
        self.clock_events(events);
    }

    fn sla_apply(&mut self, event: CaseEvent) {
        let Some(policy) = self.policy() else { return };
        let Some(state) = self.sla.as_mut() else {
            return;
        };
        let events = state.apply(policy, &event);
        self.clock_events(events);
    }

    /// When the resolved case closes for good.
    fn closes_at(&self) -> Option<Timestamp> {
        (self.change.status == CaseStatus::Resolved)
            .then_some(self.change.resolved_at)
            .flatten()
            .map(|r| r.plus_millis(self.wf.close_after_ms))
    }

    /// Fires every warning, breach and escalation deadline due by `now`, and closes a case
    /// resolved long enough ago.
    pub fn tick(&mut self, now: Timestamp) {
        if let Some(at) = self.closes_at().filter(|&at| at <= now) {
            self.set_status(CaseStatus::Closed, at);
        }
        self.tick_escalations(now);
        let Some(policy) = self.policy() else { return };
        let Some(state) = self.sla.as_mut() else {
            return;
        };
        let events = state.tick(policy, now);
        self.clock_events(events);
    }

    fn tick_escalations(&mut self, now: Timestamp) {
        for e in &mut self.escalations {
            if e.acknowledged_at.is_none() && e.breached_at.is_none() && e.escalation.due_at <= now
            {
                e.breached_at = Some(e.escalation.due_at);
                let data = json!({
                    "name": e.escalation.name.as_str(),
                    "to": e.escalation.to.as_str(),
                    "due_at": e.escalation.due_at,
                });
                self.change.events.push(sb_domain::NewCaseEvent {
                    kind: "escalation.breach".into(),
                    actor: "system".into(),
                    at: e.escalation.due_at,
                    data,
                    dedup: Some(format!(
                        "esc:{}:{}:breach",
                        self.work.case.id, e.escalation.name
                    )),
                });
            }
        }
    }

    pub fn set_status(&mut self, to: CaseStatus, at: Timestamp) -> bool {
        let from = self.change.status;
        if from == to {
            return false;
        }
        self.change.status = to;
        self.event(
            "status_changed",
            at,
            json!({ "from": from.as_str(), "to": to.as_str() }),
        );
        if matches!(to, CaseStatus::Resolved | CaseStatus::Closed) {
            if to == CaseStatus::Resolved || self.change.resolved_at.is_none() {
                self.change.resolved_at = Some(at);
            }
            self.change.first_resolved_at.get_or_insert(at);
        }
        self.sla_apply(CaseEvent::StatusChanged { to, at });
        if to == CaseStatus::Resolved {
            self.resolved = Some(at);
        }
        true
    }

    /// What a resolution earns (D10, D11): a survey link for the customer and, for the cases
    /// the QA policy draws, a place in the review list. Both are case events saved with the
    /// resolution; the store makes the survey and review rows from them in that transaction.
    /// Decided when the edit is finished, so tags and assignment changed with the status
    /// count.
    fn resolution_feedback(&mut self, at: Timestamp) {
        let wf = self.wf;
        let case = self.work.case.id.to_string();
        if let Some(key) = wf.surveys.link_key() {
            let survey_id = format!("survey_{}", ulid::Ulid::generate());
            // The event carries the token's hash, never the token: the link is derived
            // again from the key when an agent asks for it.
            let token = sb_store::survey_token(key, &survey_id);
            let data = json!({
                "survey_id": survey_id,
                "token_sha256": sb_store::hash_survey_token(&token),
                "valid_days": wf.surveys.valid_days(),
                "expires_at": at.plus_millis(wf.surveys.valid_ms()),
            });
            self.change.events.push(sb_domain::NewCaseEvent {
                kind: "survey.sent".into(),
                actor: self.actor.clone(),
                at,
                data,
                // The version this edit saves over names the resolution, so a save that
                // is retried or replayed never makes a second survey for it.
                dedup: Some(format!("survey:{case}:v{}", self.work.version)),
            });
        }
        if let Some(drawn) = wf.qa.draw(&case, &self.change.tags) {
            let agent = self
                .change
                .assignee
                .clone()
                .unwrap_or_else(|| self.actor.clone());
            self.change.events.push(sb_domain::NewCaseEvent {
                kind: "qa.sampled".into(),
                actor: "system".into(),
                at,
                data: json!({
                    "review_id": format!("qa_{}", ulid::Ulid::generate()),
                    "reason": drawn.as_reason(),
                    "agent": agent,
                }),
                // A case is reviewed once, however often it is resolved.
                dedup: Some(format!("qa:{case}")),
            });
        }
    }

    /// A new message from the customer: wakes a case that waited on them or was resolved,
    /// and starts a next-response clock.
    pub fn customer_message(&mut self, at: Timestamp) {
        if matches!(
            self.change.status,
            CaseStatus::Pending | CaseStatus::Resolved
        ) {
            let reopened = self.change.status == CaseStatus::Resolved;
            self.set_status(CaseStatus::Open, at);
            if reopened {
                self.event("reopened", at, json!({}));
            }
        }
        self.sla_apply(CaseEvent::CustomerMessage { at });
    }

    /// A reply to the customer went out. Only a human's public reply answers them.
    pub fn replied(&mut self, human: bool, public: bool, at: Timestamp) {
        if human && public {
            self.change.first_response_at.get_or_insert(at);
            if self.change.status == CaseStatus::New {
                self.set_status(CaseStatus::Open, at);
            }
        }
        let event = if human {
            CaseEvent::HumanReply { at, public }
        } else {
            CaseEvent::AutomatedReply { at }
        };
        self.sla_apply(event);
    }

    pub fn set_priority(&mut self, p: CasePriority, at: Timestamp) -> bool {
        let from = self.change.priority;
        if from == p {
            return false;
        }
        self.change.priority = p;
        self.event(
            "priority_changed",
            at,
            json!({ "from": from.as_str(), "to": p.as_str() }),
        );
        true
    }

    pub fn add_tag(&mut self, tag: &str, at: Timestamp) -> bool {
        if self.change.tags.iter().any(|t| t == tag) {
            return false;
        }
        self.change.tags.push(tag.to_owned());
        self.event("tagged", at, json!({ "tag": tag }));
        true
    }

    pub fn remove_tag(&mut self, tag: &str, at: Timestamp) -> bool {
        let before = self.change.tags.len();
        self.change.tags.retain(|t| t != tag);
        if self.change.tags.len() == before {
            return false;
        }
        self.event("untagged", at, json!({ "tag": tag }));
        true
    }

    pub fn set_queue(&mut self, name: &str, id: QueueId, at: Timestamp) -> bool {
        if self.change.queue_id.as_ref() == Some(&id) {
            return false;
        }
        self.change.queue_id = Some(id);
        self.event("queued", at, json!({ "queue": name }));
        true
    }

    pub fn assign(&mut self, agent: Option<&str>, reason: &str, at: Timestamp) -> bool {
        if self.change.assignee.as_deref() == agent {
            return false;
        }
        let from = self.change.assignee.take();
        self.change.assignee = agent.map(str::to_owned);
        self.event(
            "assigned",
            at,
            json!({ "from": from, "to": agent, "reason": reason }),
        );
        true
    }

    pub fn note(&mut self, text: &str, at: Timestamp) {
        self.event("note", at, json!({ "text": text }));
    }

    /// Raises an escalation (once per matrix entry) and marks the case escalated.
    pub fn escalate(&mut self, e: Escalation, at: Timestamp) -> bool {
        if self.escalations.iter().any(|r| r.escalation.name == e.name) {
            return false;
        }
        self.event(
            "escalated",
            at,
            json!({ "name": e.name.as_str(), "to": e.to.as_str(), "reason": e.reason.as_str(), "due_at": e.due_at }),
        );
        self.escalations.push(RaisedEscalation {
            escalation: e,
            acknowledged_at: None,
            acknowledged_by: None,
            breached_at: None,
        });
        if self.change.status.is_open() {
            self.set_status(CaseStatus::Escalated, at);
        }
        true
    }

    /// The escalation team took it: its deadline no longer runs.
    pub fn acknowledge(&mut self, name: &str, at: Timestamp) -> bool {
        let by = self.actor.clone();
        let Some(e) = self
            .escalations
            .iter_mut()
            .find(|e| e.escalation.name == name && e.acknowledged_at.is_none())
        else {
            return false;
        };
        e.acknowledged_at = Some(at);
        e.acknowledged_by = Some(by);
        self.event("escalation.acknowledged", at, json!({ "name": name }));
        true
    }

    pub fn escalation_names(&self) -> Vec<String> {
        self.escalations
            .iter()
            .map(|e| e.escalation.name.clone())
            .collect()
    }

    /// Whether any SLA clock of the case has breached (now or before).
    pub fn sla_breached(&self) -> bool {
        self.breached
            || self
                .sla
                .as_ref()
                .is_some_and(|s| s.clocks().iter().any(|c| c.breached))
    }

    /// Whether this edit changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.change.events.is_empty() && self.change.done.is_empty()
    }

    pub fn finish(mut self) -> CaseChange {
        if let Some(at) = self.resolved
            && self.change.status == CaseStatus::Resolved
        {
            self.resolution_feedback(at);
        }
        let escalation_due = self
            .escalations
            .iter()
            .filter(|e| e.acknowledged_at.is_none() && e.breached_at.is_none())
            .map(|e| e.escalation.due_at)
            .min();
        let sla_due = self.sla.as_ref().and_then(SlaState::next_due);
        self.change.sla_due_at = [sla_due, escalation_due, self.closes_at()]
            .into_iter()
            .flatten()
            .min();
        self.change.sla = self.sla.as_ref().and_then(|s| serde_json::to_value(s).ok());
        self.change.escalations =
            serde_json::to_value(&self.escalations).unwrap_or_else(|_| json!([]));
        self.change
    }
}
