//! The case workflow stage (D1–D4, D7): after a message is placed in a case, its SLA clocks,
//! queue, rules, escalations and assignment; on a schedule, the clocks' warnings and
//! breaches, escalation deadlines, closing resolved cases and assigning waiting ones.
//!
//! Every change to a case goes through `update`: read the case with its version, decide in
//! memory (`CaseEdit`, using the pure decisions of the workflow crate), save only if nobody
//! saved since — otherwise read again and decide again. Work owed for a placed message is a
//! `case_work` row deleted in the same transaction as its effect, so each effect happens
//! exactly once across any number of processes and crashes.

mod edit;
pub mod facts;
mod policy;
mod routing;
pub use policy::{REASON_CASE_CHANGED, REASON_CONFIGURATION};
pub use routing::{RoutingApplyError, RoutingInForce};

pub use edit::{CaseEdit, RaisedEscalation, UnreadableCase};

use crate::{PipelineEvent, PipelineEvents};
use sb_domain::{
    CaseId, CaseWorkItem, Clock, Customer, CustomerId, Message, MessageId, NewOutboxItem, QueueId,
    Timestamp,
};
use sb_store::{CaseSave, Store, StoreError};
use sb_workflow::Workflow;
use sb_workflow::rules::{Action, EventKind};
use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long an escalation raised by a rule gives its team, when the matrix does not say.
pub const RULE_ESCALATION_DEADLINE_MS: i64 = 60 * 60 * 1000;
/// How long a process holds the case work it claimed; after a crash, another process takes
/// the work over once this has passed.
const WORK_LEASE_MS: i64 = 30_000;
/// Reads and decides again this many times when other processes keep changing the case.
const RETRIES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum CaseworkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unreadable(#[from] UnreadableCase),
    #[error("no case {0}")]
    NotFound(CaseId),
    #[error("case {0} kept changing underneath; try again")]
    Busy(CaseId),
    /// The change is not allowed; `code` is the stable API error code.
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    /// The case is not at the version the caller read.
    #[error("{0}")]
    Changed(String),
}

impl CaseworkError {
    pub fn refused(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
        }
    }
}

pub struct CaseWorkflow {
    store: Arc<dyn Store>,
    /// The workflow in force; replaced whole when an operator saves a routing document.
    wf: RwLock<Arc<Workflow>>,
    clock: Arc<dyn Clock>,
    events: PipelineEvents,
    /// Queue ids by name. Queues are never deleted, so this only grows.
    queues: RwLock<HashMap<String, QueueId>>,
    /// Where the routing parts come from, when they can be changed at run time.
    routing: Option<routing::Editable>,
    /// The saved routing version in force (0: the configuration file's), and the latest one
    /// this process looked at (a version that does not compile is looked at once).
    routing_version: AtomicI64,
    routing_seen: AtomicI64,
}

/// A saved change: the case's new version and what the caller's decision returned.
pub struct Updated<T> {
    pub version: i64,
    pub value: T,
}

impl CaseWorkflow {
    /// A workflow that knows no queues yet: see `with_queues`.
    pub fn new(
        store: Arc<dyn Store>,
        wf: Arc<Workflow>,
        clock: Arc<dyn Clock>,
        events: PipelineEvents,
    ) -> Self {
        Self {
            store,
            wf: RwLock::new(wf),
            clock,
            events,
            queues: RwLock::new(HashMap::new()),
            routing: None,
            routing_version: AtomicI64::new(0),
            routing_seen: AtomicI64::new(0),
        }
    }

    /// Creates the configured queues the store does not hold yet, and learns their ids.
    pub async fn with_queues(self) -> Result<Self, StoreError> {
        let wf = self.workflow();
        self.learn_queues(&wf).await?;
        Ok(self)
    }

    /// Creates the workflow's queues the store does not hold yet, and learns their ids.
    async fn learn_queues(&self, wf: &Workflow) -> Result<(), StoreError> {
        let names: Vec<String> = wf.router.queues().map(str::to_owned).collect();
        let known = self.store.ensure_queues(&names).await?;
        let mut queues = self.queues.write().unwrap_or_else(|e| e.into_inner());
        queues.extend(known.into_iter().map(|q| (q.name, q.id)));
        Ok(())
    }

    /// The name of a queue by id.
    pub fn queue_named(&self, id: &QueueId) -> Option<String> {
        self.queues
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(_, q)| *q == id)
            .map(|(n, _)| n.clone())
    }

    /// The name of the queue the case is in as edited so far.
    fn case_queue(&self, edit: &CaseEdit<'_>) -> Option<String> {
        edit.change
            .queue_id
            .as_ref()
            .and_then(|q| self.queue_named(q))
    }

    pub fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.queues
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// The workflow in force now. A decision uses one snapshot throughout, even if an
    /// operator saves a new routing document meanwhile.
    pub fn workflow(&self) -> Arc<Workflow> {
        self.wf.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Reads the case, lets `decide` change it, and saves the change if the case did not
    /// change meanwhile; otherwise reads and decides again. `decide` must be repeatable: it
    /// sees a fresh edit each time.
    pub async fn update<T>(
        &self,
        id: &CaseId,
        actor: &str,
        always_save: bool,
        mut decide: impl FnMut(&mut CaseEdit<'_>) -> Result<T, CaseworkError>,
    ) -> Result<Updated<T>, CaseworkError> {
        for _ in 0..RETRIES {
            let work = self
                .store
                .case_work(id)
                .await?
                .ok_or_else(|| CaseworkError::NotFound(id.clone()))?;
            let version = work.version;
            let wf = self.workflow();
            let mut edit = CaseEdit::new(&wf, work, actor, self.clock.now())?;
            let value = decide(&mut edit)?;
            if edit.is_empty() && !always_save {
                return Ok(Updated { version, value });
            }
            let priority = edit.change.priority;
            let change = edit.finish();
            match self.store.save_case_work(&change).await? {
                CaseSave::Saved => {
                    self.events.emit(PipelineEvent::CaseUpdated {
                        case_id: id.to_string(),
                        priority: priority.as_str().into(),
                    });
                    return Ok(Updated {
                        version: version + 1,
                        value,
                    });
                }
                // Another process did this work meanwhile; its effects stand.
                CaseSave::AlreadyDone => return Ok(Updated { version, value }),
                CaseSave::Changed => {
                    metrics::counter!("switchboard_case_conflicts_total").increment(1);
                }
            }
        }
        Err(CaseworkError::Busy(id.clone()))
    }

    /// Handles the messages placed in cases since the last call; answers how many.
    pub async fn run_pending(&self) -> Result<usize, CaseworkError> {
        let mut total = 0;
        loop {
            let items = self
                .store
                .claim_case_work(self.clock.now(), 256, WORK_LEASE_MS)
                .await?;
            if items.is_empty() {
                return Ok(total);
            }
            total += items.len();
            let mut by_case: Vec<(CaseId, Vec<CaseWorkItem>)> = Vec::new();
            let mut index: HashMap<CaseId, usize> = HashMap::new();
            for item in items {
                match index.get(&item.case_id) {
                    Some(&i) => by_case[i].1.push(item),
                    None => {
                        index.insert(item.case_id.clone(), by_case.len());
                        by_case.push((item.case_id.clone(), vec![item]));
                    }
                }
            }
            self.handle_batch(&by_case).await?;
        }
    }

    /// Decides every case of a claimed batch against one routing state, counting each pick
    /// on it so the next case sees the agent's new load, then saves all the changes in one
    /// transaction. A case someone else changed meanwhile is decided again on its own.
    async fn handle_batch(
        &self,
        by_case: &[(CaseId, Vec<CaseWorkItem>)],
    ) -> Result<(), CaseworkError> {
        let ids: Vec<MessageId> = by_case
            .iter()
            .flat_map(|(_, items)| items.iter().map(|i| i.message_id.clone()))
            .collect();
        let messages: HashMap<MessageId, Message> = self
            .store
            .messages_among(&ids)
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let case_ids: Vec<CaseId> = by_case.iter().map(|(id, _)| id.clone()).collect();
        let mut works: HashMap<CaseId, sb_domain::CaseWork> = self
            .store
            .case_works(&case_ids)
            .await?
            .into_iter()
            .map(|w| (w.case.id.clone(), w))
            .collect();
        let customer_ids: Vec<CustomerId> = works
            .values()
            .map(|w| w.case.customer_id.clone())
            .collect::<std::collections::HashSet<_>>()
            .into_iter()
            .collect();
        let customers: HashMap<CustomerId, Customer> = self
            .store
            .customers_among(&customer_ids)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let mut routing = self.routing_state().await?;
        let wf = self.workflow();
        let mut changes = Vec::with_capacity(by_case.len());
        let mut outboxes = Vec::with_capacity(by_case.len());
        let mut decided = Vec::with_capacity(by_case.len());
        // A case that is gone or cannot be read holds up only its own work; the first such
        // error is reported once the others are saved.
        let mut held_up: Option<CaseworkError> = None;
        for (case_id, items) in by_case {
            let Some(work) = works.remove(case_id) else {
                held_up.get_or_insert(CaseworkError::NotFound(case_id.clone()));
                continue;
            };
            let customer = customers.get(&work.case.customer_id);
            let assignee = work.case.assignee.clone();
            let mut edit = match CaseEdit::new(&wf, work, "system", self.clock.now()) {
                Ok(edit) => edit,
                Err(e) => {
                    held_up.get_or_insert(e.into());
                    continue;
                }
            };
            let placed: Vec<Option<&Message>> =
                items.iter().map(|i| messages.get(&i.message_id)).collect();
            let mut outbox = Vec::new();
            self.on_placed(&mut edit, items, &placed, customer, &routing, &mut outbox);
            if edit.change.assignee != assignee
                && let Some(agent) = edit.change.assignee.clone()
                && let Some(queue) = self.case_queue(&edit)
            {
                routing.assigned(&agent, &queue);
            }
            changes.push(edit.finish());
            outboxes.push(outbox);
            decided.push((case_id, items));
        }
        let saves = self.store.save_case_works(&changes).await?;
        let mut outbox: Vec<NewOutboxItem> = Vec::new();
        for (((case_id, items), (change, owed)), save) in decided
            .into_iter()
            .zip(changes.iter().zip(outboxes))
            .zip(saves)
        {
            match save {
                CaseSave::Saved => {
                    self.events.emit(PipelineEvent::CaseUpdated {
                        case_id: case_id.to_string(),
                        priority: change.priority.as_str().into(),
                    });
                    outbox.extend(owed);
                }
                // Another process did this work meanwhile; its effects stand.
                CaseSave::AlreadyDone => outbox.extend(owed),
                CaseSave::Changed => {
                    metrics::counter!("switchboard_case_conflicts_total").increment(1);
                    self.handle_placed(case_id, items).await?;
                }
            }
        }
        if !outbox.is_empty() {
            self.store.enqueue(&outbox, self.clock.now()).await?;
        }
        held_up.map_or(Ok(()), Err)
    }

    /// One case's placed messages on their own, reading and deciding again until the save
    /// holds.
    async fn handle_placed(
        &self,
        case_id: &CaseId,
        items: &[CaseWorkItem],
    ) -> Result<(), CaseworkError> {
        let mut messages = Vec::with_capacity(items.len());
        for item in items {
            messages.push(self.store.message(&item.message_id).await?);
        }
        let Some(work) = self.store.case_work(case_id).await? else {
            return Err(CaseworkError::NotFound(case_id.clone()));
        };
        let customer = self.store.customer(&work.case.customer_id).await?;
        let routing = self.routing_state().await?;
        let placed: Vec<Option<&Message>> = messages.iter().map(Option::as_ref).collect();
        let mut outbox: Vec<NewOutboxItem> = Vec::new();
        self.update(case_id, "system", false, |edit| {
            self.on_placed(
                edit,
                items,
                &placed,
                customer.as_ref(),
                &routing,
                &mut outbox,
            );
            Ok(())
        })
        .await?;
        if !outbox.is_empty() {
            self.store.enqueue(&outbox, self.clock.now()).await?;
        }
        Ok(())
    }

    /// Decides what the messages placed in one case do to it; `messages` holds each item's
    /// message, `None` when it is gone.
    fn on_placed(
        &self,
        edit: &mut CaseEdit<'_>,
        items: &[CaseWorkItem],
        messages: &[Option<&Message>],
        customer: Option<&Customer>,
        routing: &sb_workflow::routing::RoutingState,
        outbox: &mut Vec<NewOutboxItem>,
    ) {
        outbox.clear();
        edit.change.done = items.iter().map(|i| i.seq).collect();
        for (item, message) in items.iter().zip(messages) {
            let Some(message) = message else { continue };
            self.on_message(edit, item, message, customer, routing, outbox);
        }
    }

    fn on_message(
        &self,
        edit: &mut CaseEdit<'_>,
        item: &CaseWorkItem,
        message: &Message,
        customer: Option<&Customer>,
        routing: &sb_workflow::routing::RoutingState,
        outbox: &mut Vec<NewOutboxItem>,
    ) {
        let at = item.at;
        let before = (edit.change.priority, edit.change.tags.clone());
        let kind = if item.opened {
            let sla = facts::sla_facts(edit, message, customer);
            edit.start_sla(&sla, edit.work.case.opened_at);
            let route = facts::route_case(edit, message, customer, at);
            if let Some(queue) = edit.workflow().router.queue_for(&route)
                && let Some(id) = self.queue_id(queue)
            {
                edit.set_queue(queue, id, at);
            }
            EventKind::CaseOpened
        } else {
            edit.customer_message(at);
            EventKind::MessageReceived
        };
        let queue = self.case_queue(edit);
        let event = facts::rule_event(kind, edit, message, customer, queue.as_deref());
        self.apply_rules(edit, &event, Some(&item.message_id.to_string()), outbox);
        // A rule that raised the priority or tagged a critical product may put the case under
        // another policy.
        if before != (edit.change.priority, edit.change.tags.clone()) {
            let sla = facts::sla_facts(edit, message, customer);
            edit.rematch_sla(&sla, at, policy::REASON_CASE_CHANGED);
        }
        let esc = facts::escalation_facts(edit, Some(message), customer);
        self.escalate(edit, &esc);
        self.route(edit, message, customer, routing, at);
    }

    /// Applies what the rules say for one event; notifications and automatic replies are
    /// queued in `outbox` with keys that make a recomputed decision one send.
    fn apply_rules(
        &self,
        edit: &mut CaseEdit<'_>,
        event: &sb_workflow::rules::RuleEvent,
        key: Option<&str>,
        outbox: &mut Vec<NewOutboxItem>,
    ) {
        let at = self.clock.now();
        let case = edit.work.case.id.to_string();
        for fired in edit.workflow().rules.evaluate(event) {
            let actor = format!("rule:{}", fired.rule);
            let previous = edit.actor().to_owned();
            edit.acting_as(&actor);
            edit.event("rule.fired", at, serde_json::json!({ "rule": fired.rule }));
            for action in fired.actions {
                match action {
                    Action::Assign { queue, agent } => {
                        if let Some(q) = queue
                            && let Some(id) = self.queue_id(q)
                        {
                            edit.set_queue(q, id, at);
                        }
                        if let Some(a) = agent {
                            edit.assign(Some(a), "rule", at);
                        }
                    }
                    Action::SetPriority { value } => {
                        edit.set_priority(*value, at);
                    }
                    Action::Tag { value } => {
                        edit.add_tag(value, at);
                    }
                    Action::Escalate { to } => {
                        edit.escalate(
                            sb_workflow::escalation::Escalation {
                                name: format!("rule:{}", fired.rule),
                                to: to.clone(),
                                reason: format!("rule `{}`", fired.rule),
                                raised_at: at,
                                due_at: at.plus_millis(RULE_ESCALATION_DEADLINE_MS),
                            },
                            at,
                        );
                    }
                    Action::RequireApproval { role } => {
                        edit.add_tag(&format!("{APPROVAL_TAG_PREFIX}{role}"), at);
                    }
                    Action::AutoReply { template } => {
                        edit.event(
                            "auto_reply.requested",
                            at,
                            serde_json::json!({ "template": template }),
                        );
                    }
                    Action::Notify { target } => {
                        outbox.push(NewOutboxItem {
                            target: target.clone(),
                            dedup_key: format!(
                                "rule:{}:{case}:{}:{target}",
                                fired.rule,
                                key.unwrap_or("event")
                            ),
                            payload: notification(&edit.work.case, fired.rule, at),
                            subject: Some(case.clone()),
                        });
                        edit.event("notified", at, serde_json::json!({ "target": target }));
                    }
                    Action::HandToHuman => {
                        edit.remove_tag("bot", at);
                        edit.add_tag("handed-to-human", at);
                    }
                }
            }
            edit.acting_as(&previous);
        }
    }

    fn escalate(&self, edit: &mut CaseEdit<'_>, facts: &sb_workflow::escalation::EscalationFacts) {
        let at = self.clock.now();
        let already = edit.escalation_names();
        for e in edit.workflow().escalations.triggered(facts, &already, at) {
            edit.escalate(e, at);
        }
    }

    /// Gives the case to an agent of its queue if one has room; otherwise it waits.
    fn route(
        &self,
        edit: &mut CaseEdit<'_>,
        message: &Message,
        customer: Option<&Customer>,
        routing: &sb_workflow::routing::RoutingState,
        at: Timestamp,
    ) {
        if edit.change.assignee.is_some() || !edit.change.status.is_open() {
            return;
        }
        let Some(queue) = self.case_queue(edit) else {
            return;
        };
        let case = facts::route_case(edit, message, customer, at);
        if let Some(pick) = edit.workflow().router.pick_agent(&queue, &case, routing) {
            edit.assign(Some(&pick.agent_id), pick.reason.as_str(), at);
        }
    }

    async fn routing_state(&self) -> Result<sb_workflow::routing::RoutingState, StoreError> {
        use sb_workflow::routing::{Presence, RoutingState};
        let mut state = RoutingState::new();
        if self.workflow().router.agents().next().is_none() {
            return Ok(state);
        }
        for (agent, presence) in self.store.presences().await? {
            if let Some(p) = Presence::parse(&presence) {
                state.set_presence(&agent, p);
            }
        }
        for (agent, load) in self.store.agent_loads().await? {
            state.set_load(&agent, u32::try_from(load).unwrap_or(u32::MAX));
        }
        Ok(state)
    }

    /// Fires the warnings, breaches and deadlines due by `now`; answers how many cases.
    pub async fn sweep(&self, now: Timestamp) -> Result<usize, CaseworkError> {
        let mut total = 0;
        loop {
            let due = self.store.due_cases(now, 256).await?;
            if due.is_empty() {
                return Ok(total);
            }
            let n = due.len();
            for id in due {
                let mut outbox = Vec::new();
                self.update(&id, "system", true, |edit| {
                    outbox.clear();
                    self.on_tick(edit, now, &mut outbox);
                    Ok(())
                })
                .await?;
                if !outbox.is_empty() {
                    self.store.enqueue(&outbox, now).await?;
                }
            }
            total += n;
            if n < 256 {
                return Ok(total);
            }
        }
    }

    fn on_tick(&self, edit: &mut CaseEdit<'_>, now: Timestamp, outbox: &mut Vec<NewOutboxItem>) {
        let before = edit.change.events.len();
        edit.tick(now);
        let fired: Vec<String> = edit.change.events[before..]
            .iter()
            .map(|e| e.kind.clone())
            .collect();
        let queue = self.case_queue(edit);
        for (kind, rule_kind) in [
            ("sla.warn", EventKind::SlaWarned),
            ("sla.breach", EventKind::SlaBreached),
        ] {
            if fired.iter().any(|k| k == kind) {
                let event = facts::case_rule_event(rule_kind, edit, queue.as_deref());
                self.apply_rules(
                    edit,
                    &event,
                    Some(&format!("{kind}:{}", now.millis())),
                    outbox,
                );
            }
        }
        if fired.iter().any(|k| k == "sla.breach") {
            let esc = facts::escalation_facts(edit, None, None);
            self.escalate(edit, &esc);
        }
    }

    /// Assigns waiting cases, most urgent and longest waiting first, to agents with room.
    pub async fn assign_waiting(&self) -> Result<usize, CaseworkError> {
        use sb_workflow::routing::{WaitList, WaitingCase};
        let wf = self.workflow();
        if wf.router.agents().next().is_none() {
            return Ok(0);
        }
        let waiting = self.store.waiting_cases(1000).await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let mut state = self.routing_state().await?;
        let mut list = WaitList::new();
        for case in &waiting {
            let Some(queue) = case.queue_id.as_ref().and_then(|id| self.queue_named(id)) else {
                continue;
            };
            list.push(WaitingCase {
                case: facts::waiting_route_case(case),
                queue,
                since: case.opened_at,
            });
        }
        let now = self.clock.now();
        let assignments = wf.router.drain(&mut list, &mut state, now);
        let mut done = 0;
        for a in assignments {
            let Some(id) = CaseId::parse(&a.case_id) else {
                continue;
            };
            let assigned = self
                .update(&id, "system", false, |edit| {
                    // Someone may have taken it meanwhile.
                    Ok(edit.change.assignee.is_none()
                        && edit.assign(Some(&a.agent_id), a.reason.as_str(), now))
                })
                .await?;
            done += usize::from(assigned.value);
        }
        Ok(done)
    }

    /// Runs the schedule for ever: pending work, due clocks and waiting cases, every `period`.
    pub async fn run(self: Arc<Self>, period: Duration) {
        loop {
            if let Err(e) = self.run_pending().await {
                tracing::warn!(error = %e, "case workflow step failed; will retry");
            }
            if let Err(e) = self.sweep(self.clock.now()).await {
                tracing::warn!(error = %e, "SLA sweep failed; will retry");
            }
            if let Err(e) = self.assign_waiting().await {
                tracing::warn!(error = %e, "assigning waiting cases failed; will retry");
            }
            tokio::time::sleep(period).await;
        }
    }
}

/// Tags a rule puts on a case whose replies need approval by a role: `approval:<role>`.
pub const APPROVAL_TAG_PREFIX: &str = "approval:";

fn notification(case: &sb_domain::Case, rule: &str, at: Timestamp) -> serde_json::Value {
    let dedup = format!("case:{}", case.id);
    serde_json::json!({
        "type": "notification",
        "action": "trigger",
        "dedup_key": dedup,
        "summary": format!("Case {} ({}, {}): {}", case.id, case.priority.as_str(), case.status.as_str(), case.subject),
        "source": "switchboard",
        "severity": match case.priority {
            sb_domain::CasePriority::Urgent => "critical",
            sb_domain::CasePriority::High => "error",
            _ => "warning",
        },
        "timestamp": at.to_rfc3339(),
        "component": case.channel,
        "group": rule,
        "class": "case",
        "custom_details": { "case_id": case.id.as_str(), "rule": rule },
    })
}

impl CaseWorkflow {
    /// What `rules` would have done over the messages stored since `since` (at most `limit`),
    /// without doing any of it. Each message is replayed as `case.opened` when it opened its
    /// case and `message.received` otherwise, against its case as it stands now.
    pub async fn dry_run(
        &self,
        rules: &sb_workflow::rules::RuleSet,
        since: Timestamp,
        limit: usize,
    ) -> Result<sb_workflow::rules::DryRunReport, CaseworkError> {
        let mut events = Vec::new();
        let mut cases: HashMap<CaseId, Option<sb_domain::Case>> = HashMap::new();
        let mut customers: HashMap<sb_domain::CustomerId, Option<Customer>> = HashMap::new();
        let mut after = Some(sb_domain::MessageId::first_at(since));
        while events.len() < limit {
            let batch = self.store.processed_messages(after.as_ref(), 500).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id.clone());
            for m in batch.iter().take(limit - events.len()) {
                let Some(case_id) = &m.case_id else { continue };
                if !cases.contains_key(case_id) {
                    let case = self.store.case(case_id).await?;
                    cases.insert(case_id.clone(), case);
                }
                let Some(case) = cases.get(case_id).and_then(Option::as_ref) else {
                    continue;
                };
                if !customers.contains_key(&case.customer_id) {
                    let c = self.store.customer(&case.customer_id).await?;
                    customers.insert(case.customer_id.clone(), c);
                }
                let customer = customers.get(&case.customer_id).and_then(Option::as_ref);
                let kind = if m.created_at == case.opened_at {
                    EventKind::CaseOpened
                } else {
                    EventKind::MessageReceived
                };
                let queue = case.queue_id.as_ref().and_then(|q| self.queue_named(q));
                events.push(facts::replayed_event(
                    kind,
                    case,
                    m,
                    customer,
                    queue.as_deref(),
                ));
            }
        }
        Ok(sb_workflow::rules::dry_run(rules, &events))
    }
}
