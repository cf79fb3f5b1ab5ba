//! Rule files: a list of rules in TOML (`[[rules]]` tables) or JSON (`{"rules": [...]}` or a
//! bare array). Each rule is read and validated on its own, so an error names the first bad
//! rule by its position and, when it has one, its id.

use super::{Rule, RuleError};
use serde::de::DeserializeOwned;
use std::collections::HashSet;

/// Most rules one set may hold: every bucket of every series is checked against each rule
/// whose pattern matches, so the count is kept to what people can maintain.
pub const MAX_RULES: usize = 1_000;

/// A validated list of rules with distinct ids.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("the rule file cannot be read: {0}")]
    Syntax(String),
    #[error("rule {index}{}: {error}", id_suffix(.id))]
    Rule {
        /// Position in the list, from 0.
        index: usize,
        id: Option<String>,
        error: RuleError,
    },
    #[error("rule {index}: id {id:?} is used by an earlier rule")]
    DuplicateId { index: usize, id: String },
    #[error("a rule set holds at most {MAX_RULES} rules")]
    TooMany,
}

fn id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default()
}

impl RuleSetError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "rule_file_syntax",
            Self::Rule { error, .. } => error.code(),
            Self::DuplicateId { .. } => "rule_duplicate_id",
            Self::TooMany => "rule_limit",
        }
    }
}

impl RuleSet {
    /// Validates every rule and that ids are distinct.
    pub fn new(rules: Vec<Rule>) -> Result<Self, RuleSetError> {
        if rules.len() > MAX_RULES {
            return Err(RuleSetError::TooMany);
        }
        let mut seen = HashSet::new();
        for (index, rule) in rules.iter().enumerate() {
            rule.validate().map_err(|error| RuleSetError::Rule {
                index,
                id: Some(rule.id.clone()),
                error,
            })?;
            if !seen.insert(rule.id.as_str()) {
                return Err(RuleSetError::DuplicateId {
                    index,
                    id: rule.id.clone(),
                });
            }
        }
        Ok(Self { rules })
    }

    /// Reads `[[rules]]` tables; a file without any is an empty set.
    pub fn from_toml(text: &str) -> Result<Self, RuleSetError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| RuleSetError::Syntax(e.message().to_owned()))?;
        let items = match table.remove("rules") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => {
                return Err(RuleSetError::Syntax(
                    "`rules` must be an array of tables".into(),
                ));
            }
        };
        Self::read_each(
            items,
            |v| v.get("id")?.as_str().map(str::to_owned),
            |v| v.try_into::<Rule>().map_err(|e| e.message().to_owned()),
        )
    }

    /// Reads `{"rules": [...]}` or a bare array of rules.
    pub fn from_json(text: &str) -> Result<Self, RuleSetError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| RuleSetError::Syntax(e.to_string()))?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(mut map) => match map.remove("rules") {
                None => Vec::new(),
                Some(serde_json::Value::Array(items)) => items,
                Some(_) => {
                    return Err(RuleSetError::Syntax("`rules` must be an array".into()));
                }
            },
            _ => {
                return Err(RuleSetError::Syntax(
                    "expected an object with `rules` or an array".into(),
                ));
            }
        };
        Self::read_each(
            items,
            |v| v.get("id")?.as_str().map(str::to_owned),
            from_json_value::<Rule>,
        )
    }

    fn read_each<V>(
        items: Vec<V>,
        id_of: impl Fn(&V) -> Option<String>,
        read: impl Fn(V) -> Result<Rule, String>,
    ) -> Result<Self, RuleSetError> {
        if items.len() > MAX_RULES {
            return Err(RuleSetError::TooMany);
        }
        let mut rules = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let id = id_of(&item);
            let rule = read(item).map_err(|msg| RuleSetError::Rule {
                index,
                id: id.clone(),
                error: RuleError::Malformed(msg),
            })?;
            rule.validate()
                .map_err(|error| RuleSetError::Rule { index, id, error })?;
            rules.push(rule);
        }
        Self::new(rules)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn from_json_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Condition, GroupBy, Metric, Op, Severity, Signal};

    const EXAMPLE: &str = r#"
[[rules]]
id = "complaint-surge"
name = "Complaint surge"
series = "intent:complaint"
severity = "warning"
cooldown_minutes = 30
min_volume = 20
min_change = 0.25
condition = { kind = "threshold", metric = "volume", op = "above", value = 50, windows = 2 }
escalate = [{ at = 200, severity = "critical" }]

[[rules]]
id = "product-sentiment"
name = "Sentiment falling on a watched product"
series = "watch:products:*"
severity = "error"
group_by = "rule"
resolve_after = 3
condition = { kind = "anomaly", signal = "sentiment_drop", min_score = 0.6 }
"#;

    #[test]
    fn the_documented_toml_example_reads_with_defaults_filled_in() {
        let set = RuleSet::from_toml(EXAMPLE).unwrap();
        assert_eq!(set.len(), 2);
        let surge = &set.rules()[0];
        assert_eq!(
            surge.condition,
            Condition::Threshold {
                metric: Metric::Volume,
                op: Op::Above,
                value: 50.0,
                windows: 2
            }
        );
        assert_eq!(surge.group_by, GroupBy::Series);
        assert_eq!(surge.resolve_after, 2);
        assert_eq!(surge.escalate[0].severity, Severity::Critical);
        let drop = &set.rules()[1];
        assert_eq!(
            drop.condition,
            Condition::Anomaly {
                signal: Signal::SentimentDrop,
                min_score: 0.6
            }
        );
        assert_eq!((drop.group_by, drop.resolve_after), (GroupBy::Rule, 3));
        assert_eq!(drop.cooldown_minutes, 0);
    }

    #[test]
    fn the_example_in_the_alerts_doc_is_a_valid_rule_file() {
        let doc = include_str!("../../../../docs/ALERTS.md");
        let block = doc
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let documented = RuleSet::from_toml(block).unwrap();
        assert_eq!(documented, RuleSet::from_toml(EXAMPLE).unwrap());
    }

    #[test]
    fn json_reads_the_same_rules_as_toml() {
        let set = RuleSet::from_toml(EXAMPLE).unwrap();
        let json = serde_json::to_string(&serde_json::json!({ "rules": set.rules() })).unwrap();
        assert_eq!(RuleSet::from_json(&json).unwrap(), set);
        let bare = serde_json::to_string(set.rules()).unwrap();
        assert_eq!(RuleSet::from_json(&bare).unwrap(), set);
        assert!(RuleSet::from_json("{}").unwrap().is_empty());
        assert!(RuleSet::from_toml("").unwrap().is_empty());
    }

    #[test]
    fn the_first_bad_rule_is_named_by_index_and_id() {
        let text = EXAMPLE.replace("min_score = 0.6", "min_score = 1.6");
        let err = RuleSet::from_toml(&text).unwrap_err();
        assert_eq!(err.code(), "rule_invalid_anomaly");
        assert!(matches!(
            &err,
            RuleSetError::Rule { index: 1, id: Some(id), .. } if id == "product-sentiment"
        ));
        assert!(
            err.to_string().starts_with("rule 1 (product-sentiment): "),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_and_values_are_malformed_not_ignored() {
        let typo = EXAMPLE.replace("cooldown_minutes", "cooldown_minute");
        let err = RuleSet::from_toml(&typo).unwrap_err();
        assert_eq!(err.code(), "rule_malformed");
        assert!(matches!(err, RuleSetError::Rule { index: 0, .. }));
        let op = EXAMPLE.replace("op = \"above\"", "op = \"over\"");
        assert_eq!(
            RuleSet::from_toml(&op).unwrap_err().code(),
            "rule_malformed"
        );
        let extra = EXAMPLE.replace("windows = 2", "windows = 2, window = 3");
        assert_eq!(
            RuleSet::from_toml(&extra).unwrap_err().code(),
            "rule_malformed"
        );
        let json = r#"[{"id": "x", "name": "no series"}]"#;
        let err = RuleSet::from_json(json).unwrap_err();
        assert_eq!(err.code(), "rule_malformed");
        assert!(err.to_string().contains("(x)"), "{err}");
    }

    #[test]
    fn duplicate_ids_and_broken_files_have_their_own_codes() {
        let twice = EXAMPLE.replace("product-sentiment", "complaint-surge");
        let err = RuleSet::from_toml(&twice).unwrap_err();
        assert_eq!(err.code(), "rule_duplicate_id");
        assert_eq!(
            RuleSet::from_toml("[[rules]\n").unwrap_err().code(),
            "rule_file_syntax"
        );
        assert_eq!(
            RuleSet::from_toml("rules = 3").unwrap_err().code(),
            "rule_file_syntax"
        );
        assert_eq!(
            RuleSet::from_json("[").unwrap_err().code(),
            "rule_file_syntax"
        );
    }
}
