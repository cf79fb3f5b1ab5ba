//! Guardrails (G7): phrases a reply must never contain when it concerns a regulated product —
//! "guaranteed approval" on a mortgage, "risk-free" on an investment. This module finds them
//! and says why each is forbidden, with byte offsets so the composer can highlight them. It
//! never sends, edits or rewrites a reply; the caller blocks sending while any violation stands.
//!
//! ```toml
//! [[workflow.guardrails]]
//! product = "mortgage"                  # or "*" for every reply
//! aliases = ["mortgages", "home loan*"]  # optional: other ways a reply names the product
//! prohibited = ["guaranteed approval", "risk-free", "no credit check"]
//! reason = "Consumer credit rules forbid promising approval"
//! ```
//!
//! Phrases match whole words, case-insensitively, in any script, with hyphens and whitespace
//! runs treated alike (see [`phrase`] for the exact rules); `word*` matches any word starting with
//! `word`.

pub(crate) mod phrase;

use serde::{Deserialize, Serialize};

use phrase::{PhraseSet, tokenize};

/// The product name that makes a rule apply to every reply.
pub const ANY_PRODUCT: &str = "*";

/// One `[[workflow.guardrails]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailConfig {
    /// Product tag the rule protects (matched case-insensitively against the case's product
    /// tags), or `"*"` for every reply.
    pub product: String,
    /// Other names for the product; a reply mentioning any of them (or the product itself) is
    /// about the product even when the case is not tagged.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Phrases that must not appear.
    pub prohibited: Vec<String>,
    /// Shown to the agent when a reply is blocked.
    pub reason: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardrailError {
    #[error("guardrail #{index}: `product` is empty (use \"*\" for every reply)")]
    EmptyProduct { index: usize },
    #[error("guardrail for `{product}`: `prohibited` lists no phrases")]
    NoPhrases { product: String },
    #[error("guardrail for `{product}`: prohibited phrase {phrase:?} has no words")]
    BlankPhrase { product: String, phrase: String },
    #[error("guardrail for `{product}`: alias {alias:?} has no words")]
    BlankAlias { product: String, alias: String },
    #[error(
        "guardrail for `{product}`: `reason` is empty; agents need to know why a reply is blocked"
    )]
    EmptyReason { product: String },
    #[error("guardrail for `*`: `aliases` make no sense for a rule that applies to every reply")]
    AliasesOnWildcard,
}

/// One prohibited phrase found in a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule's product (`"*"` for rules on every reply).
    pub product: String,
    /// The prohibited phrase as configured.
    pub phrase: String,
    pub reason: String,
    /// Byte offsets of the offending words in the reply text.
    pub start: usize,
    pub end: usize,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.product == ANY_PRODUCT {
            write!(
                f,
                "\"{}\" is not allowed in any reply: {}",
                self.phrase, self.reason
            )
        } else {
            write!(
                f,
                "\"{}\" is not allowed in replies about {}: {}",
                self.phrase, self.product, self.reason
            )
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    product: String,
    /// Matches a mention of the product in the reply text; `None` for `"*"`.
    mentions: Option<PhraseSet>,
    phrases: Vec<String>,
    prohibited: PhraseSet,
    reason: String,
}

/// Compiled guardrails, checked against every outgoing reply.
#[derive(Clone, Debug, Default)]
pub struct Guardrails {
    rules: Vec<Rule>,
}

impl Guardrails {
    pub fn compile(configs: &[GuardrailConfig]) -> Result<Self, GuardrailError> {
        let mut rules = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let product = config.product.trim().to_string();
            if product.is_empty() {
                return Err(GuardrailError::EmptyProduct { index });
            }
            if config.reason.trim().is_empty() {
                return Err(GuardrailError::EmptyReason { product });
            }
            if config.prohibited.is_empty() {
                return Err(GuardrailError::NoPhrases { product });
            }
            let prohibited =
                PhraseSet::new(&config.prohibited).map_err(|i| GuardrailError::BlankPhrase {
                    product: product.clone(),
                    phrase: config.prohibited[i].clone(),
                })?;
            let mentions = if product == ANY_PRODUCT {
                if !config.aliases.is_empty() {
                    return Err(GuardrailError::AliasesOnWildcard);
                }
                None
            } else {
                for alias in &config.aliases {
                    if !PhraseSet::is_valid_phrase(alias) {
                        return Err(GuardrailError::BlankAlias {
                            product: product.clone(),
                            alias: alias.clone(),
                        });
                    }
                }
                // A tag such as `credit_card` is written `credit card` in a reply; a tag with
                // no words at all can still be matched by its aliases.
                let spoken = product.replace('_', " ");
                let names: Vec<&str> = std::iter::once(spoken.as_str())
                    .filter(|name| PhraseSet::is_valid_phrase(name))
                    .chain(config.aliases.iter().map(String::as_str))
                    .collect();
                Some(PhraseSet::new(&names).unwrap_or_default())
            };
            rules.push(Rule {
                product,
                mentions,
                phrases: config.prohibited.clone(),
                prohibited,
                reason: config.reason.trim().to_string(),
            });
        }
        Ok(Self { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Violations in a reply about `products` (the case's product tags). Rules for `"*"` always
    /// apply; a product's rules also apply when the reply itself names the product or one of
    /// its aliases. Ordered by position in the text; empty means the reply may be sent.
    pub fn check(&self, text: &str, products: &[String]) -> Vec<Violation> {
        let tokens = tokenize(text);
        let mut violations: Vec<Violation> = Vec::new();
        for rule in &self.rules {
            let applies = match &rule.mentions {
                None => true,
                Some(mentions) => {
                    products.iter().any(|p| same_tag(p, &rule.product))
                        || !mentions.find(&tokens).is_empty()
                }
            };
            if !applies {
                continue;
            }
            for hit in rule.prohibited.find(&tokens) {
                let violation = Violation {
                    product: rule.product.clone(),
                    phrase: rule.phrases[hit.phrase].clone(),
                    reason: rule.reason.clone(),
                    start: hit.start,
                    end: hit.end,
                };
                if !violations.contains(&violation) {
                    violations.push(violation);
                }
            }
        }
        violations.sort_by(|a, b| {
            (a.start, a.end, &a.product, &a.phrase).cmp(&(b.start, b.end, &b.product, &b.phrase))
        });
        violations
    }
}

/// Product tags compare case-insensitively in any script, ignoring surrounding spaces.
fn same_tag(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn guardrails(toml_text: &str) -> Result<Guardrails, GuardrailError> {
        #[derive(Deserialize)]
        struct File {
            guardrails: Vec<GuardrailConfig>,
        }
        let file: File = toml::from_str(toml_text).unwrap();
        Guardrails::compile(&file.guardrails)
    }

    fn bank() -> Guardrails {
        guardrails(
            r#"
            [[guardrails]]
            product = "mortgage"
            aliases = ["home loan"]
            prohibited = ["guaranteed approval", "risk-free", "no credit check"]
            reason = "Consumer credit rules forbid promising approval"

            [[guardrails]]
            product = "*"
            prohibited = ["we promise"]
            reason = "Agents never make promises on the bank's behalf"
            "#,
        )
        .unwrap()
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mortgage_reply_promising_approval_is_blocked_with_the_reason() {
        let text = "Good news: Guaranteed   Approval, and it's RISK free!";
        let v = bank().check(text, &tags(&["Mortgage"]));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].phrase, "guaranteed approval");
        assert_eq!(&text[v[0].start..v[0].end], "Guaranteed   Approval");
        assert_eq!(
            v[0].reason,
            "Consumer credit rules forbid promising approval"
        );
        assert_eq!(v[1].phrase, "risk-free");
        assert_eq!(&text[v[1].start..v[1].end], "RISK free");
        assert_eq!(
            v[0].to_string(),
            "\"guaranteed approval\" is not allowed in replies about mortgage: \
             Consumer credit rules forbid promising approval"
        );
    }

    #[test]
    fn product_rules_stay_out_of_replies_about_other_products() {
        let text = "Your savings account is risk-free up to the insured limit.";
        assert!(bank().check(text, &tags(&["savings"])).is_empty());
        assert!(bank().check(text, &[]).is_empty());
    }

    #[test]
    fn naming_the_product_in_the_reply_brings_its_rules_in() {
        let v = bank().check("Our home loans are risk-free.", &[]);
        assert!(
            v.is_empty(),
            "alias `home loan` is a whole-word match, `loans` is not"
        );
        let v = bank().check("This home loan has no credit check.", &[]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].phrase, "no credit check");
        let v = bank().check("A MORTGAGE, risk-free!", &[]);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn wildcard_rules_apply_to_every_reply() {
        let v = bank().check("We promised a call back; we PROMISE it today.", &[]);
        assert_eq!(v.len(), 1, "`promised` is not `promise`: {v:?}");
        let v = bank().check("We promise to call you back.", &[]);
        assert_eq!(v[0].product, "*");
        assert_eq!(
            v[0].to_string(),
            "\"we promise\" is not allowed in any reply: Agents never make promises on the bank's behalf"
        );
    }

    #[test]
    fn clean_replies_and_no_rules_pass() {
        assert!(
            bank()
                .check("Your application is being reviewed.", &tags(&["mortgage"]))
                .is_empty()
        );
        let none = Guardrails::compile(&[]).unwrap();
        assert!(none.is_empty());
        assert!(
            none.check("risk-free guaranteed approval", &tags(&["mortgage"]))
                .is_empty()
        );
    }

    #[test]
    fn a_phrase_under_two_rules_reports_both_reasons() {
        let g = guardrails(
            r#"
            [[guardrails]]
            product = "insurance"
            prohibited = ["fully covered"]
            reason = "Coverage depends on the policy"

            [[guardrails]]
            product = "*"
            prohibited = ["fully covered"]
            reason = "Never pre-judge a claim"
            "#,
        )
        .unwrap();
        let v = g.check("You're fully covered.", &tags(&["insurance"]));
        let reasons: Vec<&str> = v.iter().map(|v| v.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["Never pre-judge a claim", "Coverage depends on the policy"]
        );
    }

    #[test]
    fn broken_rules_are_named() {
        let err = |s| guardrails(s).unwrap_err().to_string();
        assert_eq!(
            err(r#"[[guardrails]]
                product = " "
                prohibited = ["x"]
                reason = "r""#),
            "guardrail #0: `product` is empty (use \"*\" for every reply)"
        );
        assert_eq!(
            err(r#"[[guardrails]]
                product = "mortgage"
                prohibited = []
                reason = "r""#),
            "guardrail for `mortgage`: `prohibited` lists no phrases"
        );
        assert_eq!(
            err(r#"[[guardrails]]
                product = "mortgage"
                prohibited = ["ok", "--"]
                reason = "r""#),
            "guardrail for `mortgage`: prohibited phrase \"--\" has no words"
        );
        assert_eq!(
            err(r#"[[guardrails]]
                product = "mortgage"
                prohibited = ["ok"]
                reason = """#),
            "guardrail for `mortgage`: `reason` is empty; agents need to know why a reply is blocked"
        );
        assert!(
            err(r#"[[guardrails]]
                product = "*"
                aliases = ["x"]
                prohibited = ["ok"]
                reason = "r""#)
            .contains("aliases")
        );
        let unknown: Result<GuardrailConfig, _> =
            toml::from_str("product = \"x\"\nprohibited = [\"y\"]\nreason = \"z\"\nseverity = 1");
        assert!(unknown.unwrap_err().to_string().contains("severity"));
    }
}
