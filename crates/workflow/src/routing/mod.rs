//! Routing (D2): which queue a case belongs to, and which agent in that queue takes it — round
//! robin, least loaded, best skills fit, or sticky to the customer's own agent — and, as agents
//! free up, which waiting case goes next. Regional and after-hours routing are queue conditions
//! (`regions`, `time_zone` + `hours`), so "a German complaint from a VIP at 23:00 Berlin time"
//! lands in the German night queue by configuration, not by code.
//!
//! Decisions are pure: presence, load and round-robin position come in as a `RoutingState` the
//! caller owns, and time comes in on the case. This module never reads a clock, never stores an
//! assignment and never notifies an agent.

mod config;
mod matching;
mod state;
#[cfg(test)]
mod tests;

pub use config::{AgentConfig, QueueConditions, QueueConfig, RoutingError, Strategy};
pub use state::{Presence, RoutingState, WaitList, WaitingCase};

use matching::{Conditions, Fit, Skill, normalized};
use sb_domain::{CasePriority, Platform, Tier, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The routing section of the config file: `[[queues]]` in the order they are tried, and
/// `[[agents]]`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
}

/// What routing needs to know about a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteCase {
    pub case_id: String,
    /// BCP 47 tag as detected, e.g. `de` or `de-AT`.
    pub language: Option<String>,
    pub region: Option<String>,
    pub intent: Option<String>,
    pub tier: Tier,
    pub priority: CasePriority,
    pub platform: Platform,
    pub product: Option<String>,
    /// When the case arrived; time-of-day conditions are read at this instant.
    pub at: Timestamp,
    /// The customer's dedicated agent (account manager) or the agent of their previous case.
    pub preferred_agent: Option<String>,
    /// A high-value customer goes to their preferred agent in every queue, sticky or not.
    pub high_value: bool,
}

/// Why an agent was picked, for the case's audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PickReason {
    Sticky,
    Skills,
    LeastLoaded,
    RoundRobin,
}

impl PickReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sticky => "sticky",
            Self::Skills => "skills",
            Self::LeastLoaded => "least_loaded",
            Self::RoundRobin => "round_robin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sticky" => Self::Sticky,
            "skills" => Self::Skills,
            "least_loaded" => Self::LeastLoaded,
            "round_robin" => Self::RoundRobin,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub agent_id: String,
    pub reason: PickReason,
}

/// A waiting case handed to an agent by `Router::drain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub case_id: String,
    pub queue: String,
    pub agent_id: String,
    pub reason: PickReason,
    /// How long the case waited, for the queue's wait-time figures.
    pub waited_ms: i64,
}

/// An agent as routing sees them: skills lower-cased, and `queues` including those their team
/// works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    pub queues: Vec<String>,
    pub languages: Vec<String>,
    pub regions: Vec<String>,
    pub products: Vec<String>,
    pub tiers: Vec<Tier>,
    pub capacity: u32,
}

#[derive(Clone, Debug)]
struct Queue {
    name: String,
    strategy: Strategy,
    sticky: bool,
    when: Conditions,
    /// Agents who work the queue and hold its required skills, in config order — the only
    /// agents a decision in this queue looks at.
    members: Vec<usize>,
    /// Agent id → position in `members`, to resume round robin after the cursor and to check
    /// a sticky agent's membership without a scan.
    position: HashMap<String, usize>,
}

/// A compiled routing configuration.
#[derive(Clone, Debug, Default)]
pub struct Router {
    queues: Vec<Queue>,
    queue_index: HashMap<String, usize>,
    agents: Vec<AgentView>,
    agent_index: HashMap<String, usize>,
}

impl Router {
    pub fn from_config(config: &RoutingConfig) -> Result<Self, RoutingError> {
        Self::compile(&config.queues, &config.agents)
    }

    pub fn compile(queues: &[QueueConfig], agents: &[AgentConfig]) -> Result<Self, RoutingError> {
        let mut queue_index = HashMap::with_capacity(queues.len());
        let mut compiled = Vec::with_capacity(queues.len());
        let mut required = Vec::with_capacity(queues.len());
        for (i, q) in queues.iter().enumerate() {
            if q.name.trim().is_empty() {
                return Err(RoutingError::EmptyQueueName);
            }
            if queue_index.insert(q.name.clone(), i).is_some() {
                return Err(RoutingError::DuplicateQueue(q.name.clone()));
            }
            let skills = q
                .required_skills
                .iter()
                .map(|s| Skill::parse(&q.name, s))
                .collect::<Result<Vec<_>, _>>()?;
            required.push(skills);
            compiled.push(Queue {
                name: q.name.clone(),
                strategy: q.strategy,
                sticky: q.sticky,
                when: Conditions::compile(&q.name, &q.when)?,
                members: Vec::new(),
                position: HashMap::new(),
            });
        }

        let mut agent_index = HashMap::with_capacity(agents.len());
        let mut views = Vec::with_capacity(agents.len());
        for (i, a) in agents.iter().enumerate() {
            views.push(agent_view(a, queues, &queue_index)?);
            if agent_index.insert(a.id.clone(), i).is_some() {
                return Err(RoutingError::DuplicateAgent(a.id.clone()));
            }
        }

        for q in queues {
            if let Some(team) = &q.team
                && !agents.iter().any(|a| a.team.as_ref() == Some(team))
            {
                return Err(RoutingError::UnknownTeam {
                    queue: q.name.clone(),
                    team: team.clone(),
                });
            }
        }

        for (ai, agent) in views.iter().enumerate() {
            for name in &agent.queues {
                let Some(&qi) = queue_index.get(name) else {
                    continue;
                };
                if required[qi].iter().all(|s| s.held_by(agent)) {
                    let queue = &mut compiled[qi];
                    queue.position.insert(agent.id.clone(), queue.members.len());
                    queue.members.push(ai);
                }
            }
        }

        Ok(Self {
            queues: compiled,
            queue_index,
            agents: views,
            agent_index,
        })
    }

    /// The first queue, in config order, whose conditions take the case.
    pub fn queue_for(&self, case: &RouteCase) -> Option<&str> {
        self.queues
            .iter()
            .find(|q| q.when.matches(case))
            .map(|q| q.name.as_str())
    }

    /// The agent who should take `case` in `queue`, or `None` when nobody eligible has room
    /// and the case waits. Eligible: a member holding the queue's required skills, `Online`,
    /// below capacity. The caller records the pick with `state.assigned(..)`.
    pub fn pick_agent(&self, queue: &str, case: &RouteCase, state: &RoutingState) -> Option<Pick> {
        let q = &self.queues[*self.queue_index.get(queue)?];
        if let Some(preferred) = case.preferred_agent.as_deref()
            && (q.sticky || case.high_value)
            && let Some(&pos) = q.position.get(preferred)
            && self.room(q.members[pos], state).is_some()
        {
            return Some(Pick {
                agent_id: preferred.to_owned(),
                reason: PickReason::Sticky,
            });
        }

        let n = q.members.len();
        // Rotation starts after the queue's last pick, so ties fall to round-robin order.
        let start = state
            .cursor(&q.name)
            .and_then(|c| q.position.get(c))
            .map_or(0, |p| p + 1);
        let mut best: Option<Candidate> = None;
        for i in 0..n {
            let ai = q.members[(start + i) % n];
            let Some(load) = self.room(ai, state) else {
                continue;
            };
            let agent = &self.agents[ai];
            let candidate = Candidate {
                agent: ai,
                fit: match q.strategy {
                    Strategy::SkillsBased => Fit::of(agent, case),
                    Strategy::RoundRobin | Strategy::LeastLoaded => Fit::default(),
                },
                load,
                capacity: agent.capacity,
            };
            if q.strategy == Strategy::RoundRobin {
                best = Some(candidate);
                break;
            }
            let idle = load == 0;
            if best.as_ref().is_none_or(|b| candidate.beats(b)) {
                best = Some(candidate);
            }
            // Nobody beats an idle agent on load, and fit only matters for skills.
            if idle && q.strategy == Strategy::LeastLoaded {
                break;
            }
        }
        best.map(|b| Pick {
            agent_id: self.agents[b.agent].id.clone(),
            reason: match q.strategy {
                Strategy::RoundRobin => PickReason::RoundRobin,
                Strategy::LeastLoaded => PickReason::LeastLoaded,
                Strategy::SkillsBased => PickReason::Skills,
            },
        })
    }

    /// Hands waiting cases to agents with room, most urgent and then longest waiting first
    /// across all queues; assigned cases leave `waiting` and count on `state`.
    pub fn drain(
        &self,
        waiting: &mut WaitList,
        state: &mut RoutingState,
        now: Timestamp,
    ) -> Vec<Assignment> {
        let mut assignments = Vec::new();
        {
            // Every case in a queue faces the same eligible agents, so once one case in a
            // queue finds nobody, the cases behind it will not either.
            let mut full: HashSet<&str> = HashSet::new();
            for (_, w) in waiting.in_order() {
                if full.contains(w.queue.as_str()) {
                    continue;
                }
                match self.pick_agent(&w.queue, &w.case, state) {
                    Some(pick) => {
                        state.assigned(&pick.agent_id, &w.queue);
                        assignments.push(Assignment {
                            case_id: w.case.case_id.clone(),
                            queue: w.queue.clone(),
                            agent_id: pick.agent_id,
                            reason: pick.reason,
                            waited_ms: now.millis().saturating_sub(w.since.millis()).max(0),
                        });
                    }
                    None => {
                        full.insert(w.queue.as_str());
                    }
                }
            }
        }
        for a in &assignments {
            waiting.remove(&a.case_id);
        }
        assignments
    }

    /// Queue names in the order they are tried.
    pub fn queues(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.name.as_str())
    }

    pub fn agent(&self, id: &str) -> Option<&AgentView> {
        self.agent_index.get(id).map(|&i| &self.agents[i])
    }

    pub fn agents(&self) -> impl Iterator<Item = &AgentView> {
        self.agents.iter()
    }

    /// The agents who can take cases in `queue` when online and below capacity.
    pub fn members<'a>(&'a self, queue: &str) -> impl Iterator<Item = &'a AgentView> + 'a {
        self.queue_index
            .get(queue)
            .into_iter()
            .flat_map(|&qi| self.queues[qi].members.iter().map(|&ai| &self.agents[ai]))
    }

    pub fn strategy(&self, queue: &str) -> Option<Strategy> {
        self.queue_index
            .get(queue)
            .map(|&qi| self.queues[qi].strategy)
    }

    /// The agent's load when they can take one more case now.
    fn room(&self, agent: usize, state: &RoutingState) -> Option<u32> {
        let a = &self.agents[agent];
        let (presence, load) = state.slot(&a.id);
        (presence == Presence::Online && load < a.capacity).then_some(load)
    }
}

struct Candidate {
    agent: usize,
    fit: Fit,
    load: u32,
    capacity: u32,
}

impl Candidate {
    /// Better fit first, then lower share of capacity in use; a tie keeps the earlier
    /// candidate, which is the earlier one in round-robin order.
    fn beats(&self, other: &Self) -> bool {
        if self.fit != other.fit {
            return self.fit > other.fit;
        }
        // load/capacity < other.load/other.capacity, without division.
        u64::from(self.load) * u64::from(other.capacity)
            < u64::from(other.load) * u64::from(self.capacity)
    }
}

fn agent_view(
    a: &AgentConfig,
    queues: &[QueueConfig],
    queue_index: &HashMap<String, usize>,
) -> Result<AgentView, RoutingError> {
    if a.id.trim().is_empty() {
        return Err(RoutingError::EmptyAgentId);
    }
    if a.name.trim().is_empty() {
        return Err(RoutingError::EmptyAgentName(a.id.clone()));
    }
    if a.capacity == 0 {
        return Err(RoutingError::ZeroCapacity(a.id.clone()));
    }
    let mut works: Vec<String> = Vec::with_capacity(a.queues.len());
    for name in &a.queues {
        if !queue_index.contains_key(name) {
            return Err(RoutingError::UnknownQueue {
                agent: a.id.clone(),
                queue: name.clone(),
            });
        }
        if !works.contains(name) {
            works.push(name.clone());
        }
    }
    if let Some(team) = &a.team {
        for q in queues {
            if q.team.as_ref() == Some(team) && !works.contains(&q.name) {
                works.push(q.name.clone());
            }
        }
    }
    if works.is_empty() {
        return Err(RoutingError::NoQueue(a.id.clone()));
    }
    Ok(AgentView {
        id: a.id.clone(),
        name: a.name.clone(),
        team: a.team.clone(),
        queues: works,
        languages: normalized(&a.languages),
        regions: normalized(&a.regions),
        products: normalized(&a.products),
        tiers: a.tiers.clone(),
        capacity: a.capacity,
    })
}
