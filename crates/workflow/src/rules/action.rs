//! What a fired rule asks for, and how an action's configuration is checked. Carrying an
//! action out belongs to the caller.

use super::{ActionConfig, RuleError};
use sb_domain::CasePriority;
use serde::{Deserialize, Serialize};

pub(super) const KNOWN_ACTIONS: &str = "assign, set_priority, tag, escalate, require_approval, \
                                         auto_reply, notify, hand_to_human";

/// One thing a fired rule asks the caller to do. Serialises as `{"action": "tag", "value":
/// "vip-complaint"}`, mirroring the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// To a queue, an agent, or an agent within a queue.
    Assign {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    SetPriority {
        value: CasePriority,
    },
    Tag {
        value: String,
    },
    Escalate {
        to: String,
    },
    RequireApproval {
        role: String,
    },
    AutoReply {
        template: String,
    },
    Notify {
        target: String,
    },
    /// Take a bot conversation over with a person.
    HandToHuman,
}

impl Action {
    /// The action's name as written in configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Assign { .. } => "assign",
            Self::SetPriority { .. } => "set_priority",
            Self::Tag { .. } => "tag",
            Self::Escalate { .. } => "escalate",
            Self::RequireApproval { .. } => "require_approval",
            Self::AutoReply { .. } => "auto_reply",
            Self::Notify { .. } => "notify",
            Self::HandToHuman => "hand_to_human",
        }
    }
}

/// The parameters an action accepts, so that a stray one (`queue` on a `tag`) is reported
/// rather than silently ignored.
const PARAMS: [&str; 7] = [
    "value", "queue", "agent", "to", "role", "template", "target",
];

fn given(cfg: &ActionConfig) -> [Option<&str>; 7] {
    [
        cfg.value.as_deref(),
        cfg.queue.as_deref(),
        cfg.agent.as_deref(),
        cfg.to.as_deref(),
        cfg.role.as_deref(),
        cfg.template.as_deref(),
        cfg.target.as_deref(),
    ]
}

/// Builds an action from its parameters, once they are known to be ones it takes.
type Build = fn(&ActionConfig) -> Result<Action, String>;

pub(super) fn compile(rule: &str, cfg: &ActionConfig) -> Result<Action, RuleError> {
    let name = cfg.action.trim();
    let (allowed, build): (&[&str], Build) = match name {
        "assign" => (&["queue", "agent"], |c| {
            let queue = optional(c.queue.as_deref(), "queue")?;
            let agent = optional(c.agent.as_deref(), "agent")?;
            if queue.is_none() && agent.is_none() {
                return Err("needs a `queue`, an `agent`, or both".into());
            }
            Ok(Action::Assign { queue, agent })
        }),
        "set_priority" => (&["value"], |c| {
            let v = required(c.value.as_deref(), "value")?;
            let value = CasePriority::parse(&v.to_ascii_lowercase()).ok_or_else(|| {
                format!("`{v}` is not a known priority (low, normal, high, urgent)")
            })?;
            Ok(Action::SetPriority { value })
        }),
        "tag" => (&["value"], |c| {
            Ok(Action::Tag {
                value: required(c.value.as_deref(), "value")?.to_lowercase(),
            })
        }),
        "escalate" => (&["to"], |c| {
            Ok(Action::Escalate {
                to: required(c.to.as_deref(), "to")?,
            })
        }),
        "require_approval" => (&["role"], |c| {
            Ok(Action::RequireApproval {
                role: required(c.role.as_deref(), "role")?,
            })
        }),
        "auto_reply" => (&["template"], |c| {
            Ok(Action::AutoReply {
                template: required(c.template.as_deref(), "template")?,
            })
        }),
        "notify" => (&["target"], |c| {
            Ok(Action::Notify {
                target: required(c.target.as_deref(), "target")?,
            })
        }),
        "hand_to_human" => (&[], |_| Ok(Action::HandToHuman)),
        _ => {
            return Err(RuleError::UnknownAction {
                rule: rule.into(),
                action: cfg.action.clone(),
            });
        }
    };
    let bad = |detail: String| RuleError::BadAction {
        rule: rule.into(),
        action: name.into(),
        detail,
    };
    for (param, value) in PARAMS.iter().zip(given(cfg)) {
        if value.is_some() && !allowed.contains(param) {
            let takes = match allowed {
                [] => "no parameters".to_string(),
                _ => format!("only {}", quoted(allowed)),
            };
            return Err(bad(format!("does not take `{param}` (it takes {takes})")));
        }
    }
    build(cfg).map_err(bad)
}

fn required(value: Option<&str>, param: &str) -> Result<String, String> {
    optional(value, param)?.ok_or_else(|| format!("needs `{param}`"))
}

/// A present but blank parameter is a mistake, not an absent one.
fn optional(value: Option<&str>, param: &str) -> Result<Option<String>, String> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("") => Err(format!("`{param}` is empty")),
        Some(v) => Ok(Some(v.to_string())),
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
