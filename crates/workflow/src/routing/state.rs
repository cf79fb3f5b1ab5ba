//! What routing remembers between decisions — who is online, how many open cases each agent
//! holds, where each queue's round robin stands — and the cases waiting for an agent. Plain
//! values the caller owns and can rebuild from the store; nothing here picks an agent.

use super::RouteCase;
use sb_domain::{CasePriority, Timestamp};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// Whether an agent can take cases now. Only `Online` agents are routed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    #[default]
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "online" => Self::Online,
            "away" => Self::Away,
            "offline" => Self::Offline,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AgentSlot {
    presence: Presence,
    load: u32,
}

/// Per agent: presence and open assigned cases; per queue: the agent who got its last case.
/// Keyed by agent id and queue name rather than by position, so a state survives a reload of
/// the routing configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutingState {
    agents: HashMap<String, AgentSlot>,
    cursors: HashMap<String, String>,
}

impl RoutingState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_presence(&mut self, agent: &str, presence: Presence) {
        self.update(agent, |s| s.presence = presence);
    }

    /// Sets an agent's open-case count, as read back from the store.
    pub fn set_load(&mut self, agent: &str, load: u32) {
        self.update(agent, |s| s.load = load);
    }

    /// Records that `agent` took a case from `queue`.
    pub fn assigned(&mut self, agent: &str, queue: &str) {
        self.update(agent, |s| s.load = s.load.saturating_add(1));
        match self.cursors.get_mut(queue) {
            Some(cursor) => {
                cursor.clear();
                cursor.push_str(agent);
            }
            None => {
                self.cursors.insert(queue.to_owned(), agent.to_owned());
            }
        }
    }

    /// Records that one of `agent`'s cases was resolved, reassigned or closed.
    pub fn released(&mut self, agent: &str) {
        if let Some(slot) = self.agents.get_mut(agent) {
            slot.load = slot.load.saturating_sub(1);
        }
    }

    pub fn load(&self, agent: &str) -> u32 {
        self.agents.get(agent).map_or(0, |s| s.load)
    }

    /// An agent never heard of is `Offline`.
    pub fn presence(&self, agent: &str) -> Presence {
        self.agents
            .get(agent)
            .map_or(Presence::Offline, |s| s.presence)
    }

    /// The agent who got `queue`'s last case; round robin continues after them.
    pub fn cursor(&self, queue: &str) -> Option<&str> {
        self.cursors.get(queue).map(String::as_str)
    }

    pub(super) fn slot(&self, agent: &str) -> (Presence, u32) {
        self.agents
            .get(agent)
            .map_or((Presence::Offline, 0), |s| (s.presence, s.load))
    }

    /// Looks up before inserting so the hot path (a known agent) allocates nothing.
    fn update(&mut self, agent: &str, f: impl FnOnce(&mut AgentSlot)) {
        if let Some(slot) = self.agents.get_mut(agent) {
            f(slot);
            return;
        }
        let mut slot = AgentSlot::default();
        f(&mut slot);
        self.agents.insert(agent.to_owned(), slot);
    }
}

/// A case waiting in a queue for an agent with room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingCase {
    pub case: RouteCase,
    pub queue: String,
    /// When the case started waiting; older cases go first within a priority.
    pub since: Timestamp,
}

/// Queue order: higher priority first, then longest waiting, then first pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct WaitKey {
    priority: Reverse<CasePriority>,
    since: Timestamp,
    seq: u64,
}

/// The cases waiting for an agent, per queue, in the order they will be assigned.
#[derive(Clone, Debug, Default)]
pub struct WaitList {
    queues: BTreeMap<String, BTreeMap<WaitKey, WaitingCase>>,
    index: HashMap<String, (String, WaitKey)>,
    seq: u64,
}

impl WaitList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a case; a case already waiting is replaced (it may have changed queue or priority).
    pub fn push(&mut self, waiting: WaitingCase) {
        self.remove(&waiting.case.case_id);
        let key = WaitKey {
            priority: Reverse(waiting.case.priority),
            since: waiting.since,
            seq: self.seq,
        };
        self.seq += 1;
        self.index
            .insert(waiting.case.case_id.clone(), (waiting.queue.clone(), key));
        self.queues
            .entry(waiting.queue.clone())
            .or_default()
            .insert(key, waiting);
    }

    pub fn remove(&mut self, case_id: &str) -> Option<WaitingCase> {
        let (queue, key) = self.index.remove(case_id)?;
        let cases = self.queues.get_mut(&queue)?;
        let removed = cases.remove(&key);
        if cases.is_empty() {
            self.queues.remove(&queue);
        }
        removed
    }

    pub fn get(&self, case_id: &str) -> Option<&WaitingCase> {
        let (queue, key) = self.index.get(case_id)?;
        self.queues.get(queue)?.get(key)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The cases waiting in `queue`, next to be assigned first.
    pub fn iter_queue<'a>(&'a self, queue: &str) -> impl Iterator<Item = &'a WaitingCase> + 'a {
        self.queues.get(queue).into_iter().flat_map(|c| c.values())
    }

    /// Every waiting case across queues, next to be assigned first.
    pub(super) fn in_order(&self) -> Vec<(WaitKey, &WaitingCase)> {
        let mut all: Vec<_> = self
            .queues
            .values()
            .flat_map(|c| c.iter().map(|(k, w)| (*k, w)))
            .collect();
        all.sort_unstable_by_key(|(k, _)| *k);
        all
    }
}
