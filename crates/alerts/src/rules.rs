//! Alert rules (E4): the operator-owned layer on top of the detectors. A rule names a series
//! pattern and a condition (a threshold held for N buckets, or a detector score), a
//! severity, how firings group into alerts, and how minor fluctuations, repeats and known
//! issues are kept quiet (`min_volume`, `min_change`, cooldown, silences). The
//! [`RuleEngine`] turns each closed bucket of each series into fired, resolved and
//! suppressed events.
//!
//! Pure: no IO and no clock. Every timestamp — bucket starts, `now_ms`, silence windows — is
//! epoch milliseconds handed in by the caller, so a replay decides exactly as live traffic did.

mod engine;
mod file;
pub mod pattern;
mod rule;
mod silence;

pub use engine::{EngineLimits, RuleEngine, RuleEvent, SuppressReason};
pub use file::{MAX_RULES, RuleSet, RuleSetError};
pub use rule::{
    Condition, Escalation, GroupBy, MAX_COOLDOWN_MINUTES, MAX_WINDOWS, Metric, Op, Rule, Severity,
    Signal, relative_change,
};
pub use silence::{Silence, SilenceError, SilenceMatcher};

/// Why a rule was refused. Each variant has a stable [`code`](RuleError::code).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rule id {0:?} must be 1–64 letters, digits, `-`, `_` or `.`")]
    InvalidId(String),
    #[error("rule name must be 1–200 characters")]
    InvalidName,
    #[error("series pattern {pattern:?} {why}")]
    InvalidPattern { pattern: String, why: &'static str },
    #[error("threshold: {0}")]
    InvalidThreshold(String),
    #[error("anomaly: {0}")]
    InvalidAnomaly(String),
    #[error("escalation: {0}")]
    InvalidEscalation(String),
    #[error("cooldown_minutes must be at most {MAX_COOLDOWN_MINUTES}")]
    InvalidCooldown,
    #[error("min_change must be a finite number of at least 0")]
    InvalidMinChange,
    #[error("resolve_after must be between 1 and {MAX_WINDOWS}")]
    InvalidResolveAfter,
    /// The rule could not be read at all: a field missing, unknown or of the wrong type.
    #[error("{0}")]
    Malformed(String),
}

impl RuleError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId(_) => "rule_invalid_id",
            Self::InvalidName => "rule_invalid_name",
            Self::InvalidPattern { .. } => "rule_invalid_pattern",
            Self::InvalidThreshold(_) => "rule_invalid_threshold",
            Self::InvalidAnomaly(_) => "rule_invalid_anomaly",
            Self::InvalidEscalation(_) => "rule_invalid_escalation",
            Self::InvalidCooldown => "rule_invalid_cooldown",
            Self::InvalidMinChange => "rule_invalid_min_change",
            Self::InvalidResolveAfter => "rule_invalid_resolve_after",
            Self::Malformed(_) => "rule_malformed",
        }
    }
}
