//! Rules as written in the configuration file, and their validation into a [`Rule`]. Field,
//! op and action names are read as plain strings and checked here rather than by serde, so
//! that every mistake is reported with the name of the rule it is in.

use super::terms::TermIndex;
use super::{EventKind, Rule, RuleError, action, condition};
use serde::Deserialize;

/// One `[[workflow.rules]]` entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    /// Events the rule listens for: `case.opened`, `message.received`, `case.updated`,
    /// `sla.warned`, `sla.breached`, `reply.sent`.
    pub on: Vec<String>,
    /// Conditions that must all hold; none means the rule fires on every listed event.
    #[serde(default)]
    pub when: Vec<ConditionConfig>,
    pub then: Vec<ActionConfig>,
    /// When this rule fires, later rules are not looked at for this event.
    #[serde(default)]
    pub stop: bool,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// `{ field = "tier", op = "eq", value = "vip" }`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    pub field: String,
    pub op: String,
    /// Absent for `is_set` and `not_set`.
    #[serde(default)]
    pub value: Option<RuleValue>,
}

/// A condition's value as written: its meaning depends on the field, so it is checked when
/// the rule is compiled.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RuleValue {
    Flag(bool),
    Whole(i64),
    Number(f64),
    Text(String),
    List(Vec<RuleValue>),
}

/// `{ action = "assign", queue = "priority" }`: `action` names the action, the other keys
/// are its parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    pub action: String,
    /// For `set_priority` and `tag`.
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    /// For `escalate`.
    #[serde(default)]
    pub to: Option<String>,
    /// For `require_approval`.
    #[serde(default)]
    pub role: Option<String>,
    /// For `auto_reply`.
    #[serde(default)]
    pub template: Option<String>,
    /// For `notify`.
    #[serde(default)]
    pub target: Option<String>,
}

pub(super) fn compile_rule(
    index: usize,
    cfg: &RuleConfig,
    terms: &mut TermIndex,
) -> Result<Rule, RuleError> {
    let name = cfg.name.trim();
    if name.is_empty() {
        return Err(RuleError::Unnamed { index });
    }
    let rule = || name.to_string();

    if cfg.on.is_empty() {
        return Err(RuleError::NoEvents { rule: rule() });
    }
    let mut events = 0u8;
    for event in &cfg.on {
        let kind = EventKind::parse(event.trim()).ok_or_else(|| RuleError::UnknownEvent {
            rule: rule(),
            event: event.clone(),
        })?;
        events |= 1 << kind.index();
    }

    let mut conds = cfg
        .when
        .iter()
        .map(|c| condition::compile(name, c, terms))
        .collect::<Result<Vec<_>, _>>()?;
    // Stable, so equally cheap conditions keep their written order.
    conds.sort_by_key(condition::Cond::cost);

    if cfg.then.is_empty() {
        return Err(RuleError::NoActions { rule: rule() });
    }
    let actions = cfg
        .then
        .iter()
        .map(|a| action::compile(name, a))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Rule {
        name: rule(),
        events,
        conds: conds.into(),
        actions: actions.into(),
        stop: cfg.stop,
        enabled: cfg.enabled,
    })
}
