//! Service-level agreements (D3): which policy a case falls under, and the clocks that measure
//! it against its targets — first response, next response and resolution, counted in business
//! time on the policy's calendar, paused while the case waits on the customer.
//!
//! Everything here is a pure function of configuration, case events and instants passed in. It
//! never reads a clock or stores anything: the caller keeps each case's [`SlaState`] (it
//! serialises to one JSON column), feeds it events, and ticks it when [`SlaState::next_due`]
//! comes round — [`DueIndex`] keeps those instants ordered across many cases.

mod clock;
mod due;

pub use clock::{ClockStatus, ClockView, SlaState};
pub use due::DueIndex;

use crate::calendar::{BusinessCalendar, CalendarConfig, CalendarError};
use sb_domain::{CasePriority, CaseStatus, Platform, Tier, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest target accepted: a year. Anything longer is a typo, and keeps calendar arithmetic
/// bounded.
const MAX_TARGET_MINS: u32 = 365 * 24 * 60;

fn default_warn_at() -> f64 {
    0.75
}

/// A policy as written in the configuration file. Policies are tried in order; the first whose
/// conditions all hold applies.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyConfig {
    pub name: String,
    #[serde(default)]
    pub when: SlaConditions,
    #[serde(default)]
    pub first_response_mins: Option<u32>,
    #[serde(default)]
    pub next_response_mins: Option<u32>,
    #[serde(default)]
    pub resolution_mins: Option<u32>,
    /// Name of a configured calendar; none means around the clock.
    #[serde(default)]
    pub calendar: Option<String>,
    /// Fraction of a target at which to warn, strictly between 0 and 1.
    #[serde(default = "default_warn_at")]
    pub warn_at: f64,
}

/// Every non-empty list must contain the case's value; an empty list accepts anything.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaConditions {
    pub intents: Vec<String>,
    pub priorities: Vec<CasePriority>,
    pub platforms: Vec<Platform>,
    pub channels: Vec<String>,
    pub product_criticality: Vec<String>,
    pub tiers: Vec<Tier>,
}

/// What a policy is chosen on.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFacts {
    pub intent: Option<String>,
    pub priority: CasePriority,
    pub platform: Platform,
    pub channel: String,
    pub product_criticality: Option<String>,
    pub tier: Tier,
}

impl SlaConditions {
    pub fn matches(&self, facts: &CaseFacts) -> bool {
        fn any_text(list: &[String], value: Option<&str>) -> bool {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l.eq_ignore_ascii_case(v)))
        }
        fn any<T: PartialEq>(list: &[T], value: &T) -> bool {
            list.is_empty() || list.contains(value)
        }
        any(&self.priorities, &facts.priority)
            && any(&self.platforms, &facts.platform)
            && any(&self.tiers, &facts.tier)
            && any_text(&self.intents, facts.intent.as_deref())
            && any_text(&self.channels, Some(&facts.channel))
            && any_text(
                &self.product_criticality,
                facts.product_criticality.as_deref(),
            )
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SlaError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("calendar {0} is defined twice")]
    DuplicateCalendar(String),
    #[error("an SLA policy has an empty name")]
    EmptyName,
    #[error("SLA policy {0} is defined twice")]
    DuplicatePolicy(String),
    #[error("SLA policy {policy}: unknown calendar {calendar:?}")]
    UnknownCalendar { policy: String, calendar: String },
    #[error("SLA policy {policy}: warn_at must be between 0 and 1 (exclusive), got {warn_at}")]
    WarnAt { policy: String, warn_at: f64 },
    #[error(
        "SLA policy {0} sets no target (first_response_mins, next_response_mins or resolution_mins)"
    )]
    NoTarget(String),
    #[error(
        "SLA policy {policy}: {metric} target must be 1 to {MAX_TARGET_MINS} minutes, got {mins}"
    )]
    BadTarget {
        policy: String,
        metric: &'static str,
        mins: u32,
    },
}

/// A compiled policy. Targets are in milliseconds of business time on `calendar`.
#[derive(Clone, Debug)]
pub struct SlaPolicy {
    pub name: String,
    pub when: SlaConditions,
    pub first_response_ms: Option<i64>,
    pub next_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub calendar: Arc<BusinessCalendar>,
    pub warn_at: f64,
}

impl SlaPolicy {
    /// What the clocks depend on — targets, warning point and calendar — as one string, so a
    /// case can tell that the configuration changed the policy it runs under.
    pub fn fingerprint(&self) -> String {
        let ms = |t: Option<i64>| t.map_or("-".to_owned(), |t| t.to_string());
        format!(
            "{}/{}/{}/{}/{}",
            ms(self.first_response_ms),
            ms(self.next_response_ms),
            ms(self.resolution_ms),
            self.warn_at,
            self.calendar.name()
        )
    }

    pub fn target_ms(&self, metric: Metric) -> Option<i64> {
        match metric {
            Metric::FirstResponse => self.first_response_ms,
            Metric::NextResponse => self.next_response_ms,
            Metric::Resolution => self.resolution_ms,
        }
    }

    /// Business ms into a clock at which it warns.
    pub fn warn_ms(&self, target_ms: i64) -> i64 {
        let w = if self.warn_at.is_finite() {
            self.warn_at.clamp(0.0, 1.0)
        } else {
            default_warn_at()
        };
        ((target_ms as f64 * w).round() as i64).clamp(0, target_ms)
    }
}

/// The compiled policy list, in configuration order.
#[derive(Clone, Debug, Default)]
pub struct SlaPolicies {
    policies: Vec<SlaPolicy>,
}

impl SlaPolicies {
    pub fn compile(
        policies: &[SlaPolicyConfig],
        calendars: &[CalendarConfig],
    ) -> Result<Self, SlaError> {
        let mut compiled_calendars: HashMap<String, Arc<BusinessCalendar>> = HashMap::new();
        for c in calendars {
            let cal = BusinessCalendar::from_config(c)?;
            let name = cal.name().to_owned();
            if compiled_calendars
                .insert(name.clone(), Arc::new(cal))
                .is_some()
            {
                return Err(SlaError::DuplicateCalendar(name));
            }
        }
        let always = Arc::new(BusinessCalendar::always());

        let mut out: Vec<SlaPolicy> = Vec::with_capacity(policies.len());
        for p in policies {
            let name = p.name.trim().to_owned();
            if name.is_empty() {
                return Err(SlaError::EmptyName);
            }
            if out.iter().any(|q| q.name == name) {
                return Err(SlaError::DuplicatePolicy(name));
            }
            let calendar = match &p.calendar {
                None => always.clone(),
                Some(c) => compiled_calendars.get(c.trim()).cloned().ok_or_else(|| {
                    SlaError::UnknownCalendar {
                        policy: name.clone(),
                        calendar: c.clone(),
                    }
                })?,
            };
            if !(p.warn_at > 0.0 && p.warn_at < 1.0) {
                return Err(SlaError::WarnAt {
                    policy: name,
                    warn_at: p.warn_at,
                });
            }
            let target = |metric: Metric, mins: Option<u32>| match mins {
                None => Ok(None),
                Some(m) if (1..=MAX_TARGET_MINS).contains(&m) => Ok(Some(i64::from(m) * 60_000)),
                Some(m) => Err(SlaError::BadTarget {
                    policy: name.clone(),
                    metric: metric.as_str(),
                    mins: m,
                }),
            };
            let first_response_ms = target(Metric::FirstResponse, p.first_response_mins)?;
            let next_response_ms = target(Metric::NextResponse, p.next_response_mins)?;
            let resolution_ms = target(Metric::Resolution, p.resolution_mins)?;
            if first_response_ms.is_none() && next_response_ms.is_none() && resolution_ms.is_none()
            {
                return Err(SlaError::NoTarget(name));
            }
            out.push(SlaPolicy {
                name,
                when: p.when.clone(),
                first_response_ms,
                next_response_ms,
                resolution_ms,
                calendar,
                warn_at: p.warn_at,
            });
        }
        Ok(Self { policies: out })
    }

    /// The first policy, in configuration order, whose conditions all hold.
    pub fn matching(&self, facts: &CaseFacts) -> Option<&SlaPolicy> {
        self.policies.iter().find(|p| p.when.matches(facts))
    }

    pub fn get(&self, name: &str) -> Option<&SlaPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SlaPolicy> {
        self.policies.iter()
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Self::FirstResponse, Self::NextResponse, Self::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::NextResponse => "next_response",
            Self::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockEventKind {
    Activate,
    Pause,
    Resume,
    Warn,
    Breach,
    Fulfil,
    Cancel,
}

impl ClockEventKind {
    pub const ALL: [ClockEventKind; 7] = [
        Self::Activate,
        Self::Pause,
        Self::Resume,
        Self::Warn,
        Self::Breach,
        Self::Fulfil,
        Self::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Warn => "warn",
            Self::Breach => "breach",
            Self::Fulfil => "fulfil",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Something that happened to one clock, for the case timeline and for reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockEvent {
    pub metric: Metric,
    pub kind: ClockEventKind,
    pub at: Timestamp,
    /// Business milliseconds elapsed on the clock at that instant.
    pub elapsed_ms: i64,
    pub target_ms: i64,
}

/// What happened to a case, as the SLA sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseEvent {
    /// The case exists; [`SlaState::start`] has already accounted for it, so applying it
    /// changes nothing.
    Opened {
        at: Timestamp,
    },
    CustomerMessage {
        at: Timestamp,
    },
    /// A reply by a human agent. Only a public one answers the customer; a private note does not.
    HumanReply {
        at: Timestamp,
        public: bool,
    },
    /// An automatic acknowledgement or bot answer: never fulfils a response target.
    AutomatedReply {
        at: Timestamp,
    },
    StatusChanged {
        to: CaseStatus,
        at: Timestamp,
    },
}

impl CaseEvent {
    pub fn at(&self) -> Timestamp {
        match *self {
            Self::Opened { at }
            | Self::CustomerMessage { at }
            | Self::HumanReply { at, .. }
            | Self::AutomatedReply { at }
            | Self::StatusChanged { at, .. } => at,
        }
    }
}

#[cfg(test)]
mod tests;
