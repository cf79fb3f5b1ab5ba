//! Case automation rules (D7): on an event, when every condition holds, do the rule's
//! actions — assign, set priority, tag, escalate, require approval, auto-reply with a
//! template, notify a webhook, hand a bot conversation to a human — rule by rule in the
//! configured order, until a rule that fires says `stop`. A dry run replays stored traffic
//! through a rule set and reports what each rule would have done.
//!
//! This module only decides. It never carries an action out, never loads facts, and never
//! checks that a queue, template or webhook named by an action exists: the caller does the
//! work and cross-checks names against its own configuration (see [`RuleSet::templates`] and
//! [`RuleSet::notify_targets`]).

mod action;
mod condition;
mod config;
mod dry_run;
mod field;
mod terms;

#[cfg(test)]
mod tests;

pub use action::Action;
pub use config::{ActionConfig, ConditionConfig, RuleConfig, RuleValue};
pub use dry_run::{DryRunReport, RuleReport, dry_run};

use condition::Cond;
use field::View;
use sb_domain::{CasePriority, CaseStatus, Platform, Tier};
use serde::{Deserialize, Serialize};
use terms::{Scan, TermIndex};

/// What happened to a case that makes rules look at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "case.opened")]
    CaseOpened,
    #[serde(rename = "message.received")]
    MessageReceived,
    #[serde(rename = "case.updated")]
    CaseUpdated,
    #[serde(rename = "sla.warned")]
    SlaWarned,
    #[serde(rename = "sla.breached")]
    SlaBreached,
    #[serde(rename = "reply.sent")]
    ReplySent,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        Self::CaseOpened,
        Self::MessageReceived,
        Self::CaseUpdated,
        Self::SlaWarned,
        Self::SlaBreached,
        Self::ReplySent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CaseOpened => "case.opened",
            Self::MessageReceived => "message.received",
            Self::CaseUpdated => "case.updated",
            Self::SlaWarned => "sla.warned",
            Self::SlaBreached => "sla.breached",
            Self::ReplySent => "reply.sent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What rules may look at, one typed field per condition field. `None` (or an empty set)
/// means the fact is unknown or does not apply to this event, e.g. no text on an SLA breach.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleFacts {
    pub tier: Option<Tier>,
    /// `complaint`, `inquiry`, `praise`, `other`.
    pub intent: Option<String>,
    /// Compound sentiment, -1 (most negative) to 1.
    pub sentiment: Option<f64>,
    pub priority: Option<CasePriority>,
    pub status: Option<CaseStatus>,
    pub language: Option<String>,
    pub region: Option<String>,
    pub platform: Option<Platform>,
    pub channel: Option<String>,
    /// `low`, `normal`, `high` or `critical`; anything else counts as unknown.
    pub urgency: Option<String>,
    /// The message text, already lowercased by the caller so that every rule does not
    /// lowercase it again.
    pub text: Option<String>,
    pub tags: Vec<String>,
    /// `customer.vip` in conditions.
    pub customer_vip: Option<bool>,
    /// `author.followers` in conditions.
    pub author_followers: Option<u64>,
    /// Watched terms found in the message.
    pub watch_terms: Vec<String>,
    pub queue: Option<String>,
    pub message_count: Option<u64>,
    /// The local hour (0–23) in the business's time zone, worked out by the caller.
    pub hour: Option<u8>,
}

/// One event about one case, as rules see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleEvent {
    pub kind: EventKind,
    /// Lets a dry run point at example cases; evaluation ignores it.
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub facts: RuleFacts,
}

impl RuleEvent {
    pub fn new(kind: EventKind, facts: RuleFacts) -> Self {
        Self {
            kind,
            case_id: None,
            facts,
        }
    }
}

/// A rule that fired: its position and name in the set, and what it asks for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fired<'a> {
    pub index: usize,
    pub rule: &'a str,
    pub actions: &'a [Action],
    /// Whether this rule stopped the rules after it.
    pub stop: bool,
}

/// A rule configuration that cannot be used, naming the rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("rule #{index}: a rule needs a non-empty name")]
    Unnamed { index: usize },
    #[error("rule `{rule}`: another rule already has this name")]
    DuplicateName { rule: String },
    #[error(
        "rule `{rule}`: `on` lists no events (known: {})",
        condition::KNOWN_EVENTS
    )]
    NoEvents { rule: String },
    #[error(
        "rule `{rule}`: unknown event `{event}` (known: {})",
        condition::KNOWN_EVENTS
    )]
    UnknownEvent { rule: String, event: String },
    #[error("rule `{rule}`: `then` lists no actions")]
    NoActions { rule: String },
    #[error(
        "rule `{rule}`: unknown field `{field}` (known: {})",
        field::KNOWN_FIELDS
    )]
    UnknownField { rule: String, field: String },
    #[error(
        "rule `{rule}`: unknown op `{op}` on `{field}` (known: {})",
        condition::KNOWN_OPS
    )]
    UnknownOp {
        rule: String,
        field: String,
        op: String,
    },
    #[error("rule `{rule}`: `{op}` does not apply to `{field}`, which is {kind}")]
    OpNotApplicable {
        rule: String,
        field: String,
        op: String,
        kind: &'static str,
    },
    #[error("rule `{rule}`: `{field} {op}`: {detail}")]
    BadValue {
        rule: String,
        field: String,
        op: String,
        detail: String,
    },
    #[error(
        "rule `{rule}`: unknown action `{action}` (known: {})",
        action::KNOWN_ACTIONS
    )]
    UnknownAction { rule: String, action: String },
    #[error("rule `{rule}`: action `{action}`: {detail}")]
    BadAction {
        rule: String,
        action: String,
        detail: String,
    },
}

#[derive(Clone, Debug)]
struct Rule {
    name: String,
    /// Bit `EventKind::index` set for each event the rule listens for.
    events: u8,
    /// Cheapest first: conditions are a pure conjunction, so order changes speed, not
    /// outcome.
    conds: Box<[Cond]>,
    actions: Box<[Action]>,
    stop: bool,
    enabled: bool,
}

impl Rule {
    fn holds(&self, facts: &View<'_>, scan: &mut Scan<'_>) -> bool {
        self.conds.iter().all(|c| c.holds(facts, scan))
    }
}

/// A validated, ordered set of rules, ready to evaluate.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Per event kind, the enabled rules listening for it, in configured order, so that an
    /// event never looks at rules that cannot fire for it.
    by_kind: [Vec<usize>; EventKind::ALL.len()],
    /// Every text term of every rule, so an event's text is scanned once for all of them.
    terms: TermIndex,
}

impl RuleSet {
    /// Validates every rule (disabled ones too, so that enabling one later cannot break
    /// start-up) and prepares them for evaluation.
    pub fn compile(rules: &[RuleConfig]) -> Result<Self, RuleError> {
        let mut set = Self::default();
        for (index, cfg) in rules.iter().enumerate() {
            let rule = config::compile_rule(index, cfg, &mut set.terms)?;
            if set.rules.iter().any(|r| r.name == rule.name) {
                return Err(RuleError::DuplicateName { rule: rule.name });
            }
            if rule.enabled {
                for kind in EventKind::ALL {
                    if rule.events & (1 << kind.index()) != 0 {
                        set.by_kind[kind.index()].push(set.rules.len());
                    }
                }
            }
            set.rules.push(rule);
        }
        set.terms.finish();
        Ok(set)
    }

    /// Every configured rule, enabled or not.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rule names in configured order, enabled or not.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// Rules that fire for this event, in order, stopping after a fired rule with
    /// `stop = true`. Allocates only when a rule fires.
    pub fn evaluate(&self, event: &RuleEvent) -> Vec<Fired<'_>> {
        let mut fired = Vec::new();
        let rules = &self.by_kind[event.kind.index()];
        if rules.is_empty() {
            return fired;
        }
        let facts = View::new(&event.facts);
        let mut scan = Scan::new(&self.terms);
        for &i in rules {
            let rule = &self.rules[i];
            if rule.holds(&facts, &mut scan) {
                fired.push(self.fired(i));
                if rule.stop {
                    break;
                }
            }
        }
        fired
    }

    /// Every auto-reply template the rules name, so the caller can check they exist.
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        self.all_actions().filter_map(|a| match a {
            Action::AutoReply { template } => Some(template.as_str()),
            _ => None,
        })
    }

    /// Every notify target the rules name, so the caller can check they exist.
    pub fn notify_targets(&self) -> impl Iterator<Item = &str> {
        self.all_actions().filter_map(|a| match a {
            Action::Notify { target } => Some(target.as_str()),
            _ => None,
        })
    }

    fn all_actions(&self) -> impl Iterator<Item = &Action> {
        self.rules.iter().flat_map(|r| r.actions.iter())
    }

    fn fired(&self, index: usize) -> Fired<'_> {
        let rule = &self.rules[index];
        Fired {
            index,
            rule: &rule.name,
            actions: &rule.actions,
            stop: rule.stop,
        }
    }
}
