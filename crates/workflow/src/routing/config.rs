//! What an operator writes in the config file about queues and agents, and the one-line errors
//! `Router::compile` gives when it does not hold together. Nothing here decides a route.

use sb_domain::{CasePriority, Platform, Tier};
use serde::{Deserialize, Serialize};

/// How a queue chooses among the agents who could take a case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The next eligible agent after the one who got the queue's previous case.
    RoundRobin,
    /// The eligible agent with the lowest share of their capacity in use.
    #[default]
    LeastLoaded,
    /// The eligible agent whose languages, regions, products and tiers best fit the case.
    SkillsBased,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::LeastLoaded => "least_loaded",
            Self::SkillsBased => "skills_based",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "round_robin" => Self::RoundRobin,
            "least_loaded" => Self::LeastLoaded,
            "skills_based" => Self::SkillsBased,
            _ => return None,
        })
    }
}

/// One queue. Queues are tried in the order they are written; the first whose conditions match
/// takes the case, so specific queues (German nights) go above general ones (German).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub name: String,
    /// The team that works this queue: every agent of the team is a member, on top of the
    /// agents who list the queue themselves.
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub strategy: Strategy,
    /// Prefer the customer's dedicated or previous agent when they are eligible here.
    #[serde(default)]
    pub sticky: bool,
    /// Which cases this queue takes; empty conditions take everything.
    #[serde(default)]
    pub when: QueueConditions,
    /// Skills an agent must hold explicitly to work this queue, as `dimension:value` with the
    /// dimension one of `language`, `region`, `product`, `tier` (e.g. `product:router-x`).
    #[serde(default)]
    pub required_skills: Vec<String>,
}

/// Which cases a queue takes. Every non-empty list must contain the case's value (a case
/// without a value for a listed dimension does not match); empty lists do not constrain.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConditions {
    /// Language tags; `de` also takes `de-AT` and `de-CH`.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub intents: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub priorities: Vec<CasePriority>,
    #[serde(default)]
    pub platforms: Vec<Platform>,
    #[serde(default)]
    pub products: Vec<String>,
    /// The IANA time zone `hours` are read in, e.g. `Europe/Berlin`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Local time-of-day windows `HH:MM-HH:MM`, end exclusive; a window may wrap midnight
    /// (`22:00-06:00`) and `24:00` ends one at midnight.
    #[serde(default)]
    pub hours: Vec<String>,
}

/// One agent and what they can do.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub id: String,
    pub name: String,
    /// Queues this agent works, by name (the agent's team adds the queues it works).
    #[serde(default)]
    pub queues: Vec<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// Skills; an empty list means "any" — the agent may take such cases but is preferred
    /// less than an agent who lists the case's value.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// How many open cases the agent can hold at once.
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

fn default_capacity() -> u32 {
    5
}

/// Why a routing configuration was refused; each names the queue or agent to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("a routing queue has an empty name")]
    EmptyQueueName,
    #[error("routing queue `{0}` is defined twice")]
    DuplicateQueue(String),
    #[error("routing queue `{queue}` names team `{team}`, but no agent is in that team")]
    UnknownTeam { queue: String, team: String },
    #[error("routing queue `{queue}` has unknown time zone `{time_zone}`")]
    BadTimeZone { queue: String, time_zone: String },
    #[error("routing queue `{queue}` has hours `{hours}`: {why}")]
    BadHours {
        queue: String,
        hours: String,
        why: &'static str,
    },
    #[error("routing queue `{queue}` has hours but no time_zone to read them in")]
    HoursWithoutTimeZone { queue: String },
    #[error("routing queue `{queue}` has a time_zone but no hours")]
    TimeZoneWithoutHours { queue: String },
    #[error(
        "routing queue `{queue}` requires skill `{skill}`: expected language:, region:, product: or tier:<standard|premium|vip> with a value"
    )]
    BadSkill { queue: String, skill: String },
    #[error("a routing agent has an empty id")]
    EmptyAgentId,
    #[error("routing agent `{0}` is defined twice")]
    DuplicateAgent(String),
    #[error("routing agent `{0}` has an empty name")]
    EmptyAgentName(String),
    #[error("routing agent `{agent}` lists unknown queue `{queue}`")]
    UnknownQueue { agent: String, queue: String },
    #[error("routing agent `{0}` has capacity 0; an agent must be able to hold at least one case")]
    ZeroCapacity(String),
    #[error("routing agent `{0}` works no queue: list queues or join a team that works one")]
    NoQueue(String),
}
