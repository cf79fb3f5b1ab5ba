//! Reply approvals (D5): which replies must wait for a second person before they go out, who
//! may decide, and what a decision does to the reply's approval status. Replies that offer
//! compensation, grant an exception, touch a regulated topic, or are public operational
//! updates wait for an approver with the right role. This module never stores a decision,
//! sends a reply or notifies anyone; the caller records each decision with who, when and why.
//!
//! ```toml
//! [workflow.approvals]
//! regulated_topics = ["mortgage", "insurance claim*", "medication"]
//! compensation_role = "supervisor"
//! public_update_role = "operations"
//! ```
//!
//! Term lists replace the built-in defaults when given. Terms match whole words,
//! case-insensitively and in any script (`Erstattung` in a German reply); `word*` matches any
//! word starting with `word` (`refund*` → `refunded`). See [`crate::guardrails`] for the rules.
//!
//! Who may decide: a decider qualifies when their role equals the role of *any* requirement on
//! the reply, or is `admin`; a `supervisor` also qualifies wherever `agent` is required. One
//! decision settles the reply: requiring every role would leave a refund offered in a public
//! outage update waiting for two people with no way to record the second. The author of a
//! reply can never approve it (they may withdraw it by rejecting).

use serde::{Deserialize, Serialize};

use crate::guardrails::phrase::{PhraseSet, tokenize};

/// The role that may decide on anything.
pub const ADMIN_ROLE: &str = "admin";

/// `[workflow.approvals]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalConfig {
    /// Words that mean the reply offers money or value back.
    #[serde(default = "default_compensation_terms")]
    pub compensation_terms: Vec<String>,
    /// Words that mean the reply grants something outside policy.
    #[serde(default = "default_exception_terms")]
    pub exception_terms: Vec<String>,
    /// Topics whose replies need compliance review.
    #[serde(default = "default_regulated_topics")]
    pub regulated_topics: Vec<String>,
    #[serde(default = "supervisor")]
    pub compensation_role: String,
    #[serde(default = "supervisor")]
    pub exception_role: String,
    #[serde(default = "supervisor")]
    pub regulated_role: String,
    #[serde(default = "operations")]
    pub public_update_role: String,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        Self {
            compensation_terms: default_compensation_terms(),
            exception_terms: default_exception_terms(),
            regulated_topics: default_regulated_topics(),
            compensation_role: supervisor(),
            exception_role: supervisor(),
            regulated_role: supervisor(),
            public_update_role: operations(),
        }
    }
}

fn supervisor() -> String {
    "supervisor".to_string()
}

fn operations() -> String {
    "operations".to_string()
}

fn strings(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|t| t.to_string()).collect()
}

/// Offers of money or value back, in the languages the product ships with. Bare `credit` is
/// left out on purpose: "the credit card on file" is not an offer.
#[rustfmt::skip]
fn default_compensation_terms() -> Vec<String> {
    strings(&[
        /* en */ "refund*", "voucher*", "store credit", "account credit", "credit note", "credited",
                 "compensat*", "discount*", "reimburs*", "coupon*", "promo code", "goodwill",
                 "free of charge", "money back",
        /* es */ "reembols*", "compensación", "compensaciones", "indemniza*", "descuento*", "cupón",
        /* pt */ "compensação", "indeniza*", "desconto*", "cupom", "estorno*",
        /* fr */ "rembours*", "dédommag*", "indemnis*", "bon d'achat", "geste commercial",
        /* de */ "erstattung*", "rückerstattung*", "erstatten", "gutschein*", "gutschrift*",
                 "entschädigung*", "rabatt*",
        /* it */ "rimbors*", "buono sconto", "sconto", "indennizz*", "compensazion*",
        /* nl */ "terugbetaling*", "terugbetalen", "vergoeding*", "tegoedbon*", "korting*",
    ])
}

/// Promises outside policy. Words for "exceptional" in the sense of "excellent" are left out:
/// "exceptional service" is praise, not a waiver.
#[rustfmt::skip]
fn default_exception_terms() -> Vec<String> {
    strings(&[
        /* en */ "exception", "exceptions", "waive*", "as a one-time courtesy", "one-time courtesy",
                 "as a courtesy", "outside our policy", "outside of our policy", "bend the rules",
        /* es */ "excepción", "excepcionalmente", "fuera de la política",
        /* pt */ "exceção", "excepcionalmente", "fora da política",
        /* fr */ "exceptionnellement", "à titre exceptionnel", "dérogation*",
        /* de */ "ausnahme*", "ausnahmsweise", "kulanz*",
        /* it */ "eccezione", "eccezioni", "eccezionalmente", "in deroga",
        /* nl */ "uitzondering*", "coulance",
    ])
}

#[rustfmt::skip]
fn default_regulated_topics() -> Vec<String> {
    strings(&[
        "mortgage*", "insurance claim*", "medication*", "prescription*", "legal action",
        "lawsuit*", "gdpr",
    ])
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApprovalError {
    #[error("approvals: {list} term {term:?} has no words")]
    BlankTerm { list: &'static str, term: String },
    #[error("approvals: `{field}` must be a single role name, got {role:?}")]
    BadRole { field: &'static str, role: String },
    #[error("this reply needs no approval")]
    NothingToApprove,
    #[error("this reply was already decided ({})", .status.as_str())]
    AlreadyDecided { status: ApprovalStatus },
    #[error("`{decider}` wrote this reply and cannot approve it")]
    OwnReply { decider: String },
    #[error("role `{role}` cannot decide on this reply; it needs {needed}")]
    RoleNotAllowed { role: String, needed: String },
    #[error("a rejection needs a reason for the author")]
    EmptyReason,
    #[error("an edited reply cannot be empty")]
    EmptyEdit,
}

/// Why a reply waits for approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalReason {
    Compensation,
    Exception,
    RegulatedTopic,
    PublicOperationalUpdate,
    Rule,
}

impl ApprovalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compensation => "compensation",
            Self::Exception => "exception",
            Self::RegulatedTopic => "regulated_topic",
            Self::PublicOperationalUpdate => "public_operational_update",
            Self::Rule => "rule",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "compensation" => Self::Compensation,
            "exception" => Self::Exception,
            "regulated_topic" => Self::RegulatedTopic,
            "public_operational_update" => Self::PublicOperationalUpdate,
            "rule" => Self::Rule,
            _ => return None,
        })
    }
}

/// One reason a reply must wait, and the role that may release it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub reason: ApprovalReason,
    pub role: String,
    /// For people: "mentions `refund`, `voucher`".
    pub detail: String,
}

/// What the approval check needs to know about a reply.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyFacts<'a> {
    pub text: &'a str,
    /// Visible to everyone (a public post or comment), not a private message.
    pub public: bool,
    /// The reply is an operational update (sent from an incident or disruption message, or
    /// flagged so by the agent).
    pub operational_update: bool,
    /// A rule or the case demanded approval by this role; blank means `supervisor`.
    pub required_by_rule: Option<&'a str>,
}

/// Approval lifecycle of one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    EditedAndApproved,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::EditedAndApproved => "edited_and_approved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "edited_and_approved" => Self::EditedAndApproved,
            _ => return None,
        })
    }

    /// Whether the reply may now be sent.
    pub fn releases(self) -> bool {
        matches!(self, Self::Approved | Self::EditedAndApproved)
    }
}

/// An approver's decision, recorded as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject {
        reason: String,
    },
    /// The approver rewrites the reply and releases the new text. The caller should run the
    /// guardrails on `text` again before sending.
    EditAndApprove {
        text: String,
    },
}

#[derive(Clone, Debug)]
struct TermList {
    terms: Vec<String>,
    set: PhraseSet,
}

impl TermList {
    fn compile(list: &'static str, terms: &[String]) -> Result<Self, ApprovalError> {
        let set = PhraseSet::new(terms).map_err(|i| ApprovalError::BlankTerm {
            list,
            term: terms[i].clone(),
        })?;
        Ok(Self {
            terms: terms.to_vec(),
            set,
        })
    }

    /// The configured terms found in the text, each once, in order of first appearance.
    fn found(&self, tokens: &[crate::guardrails::phrase::Token]) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        for hit in self.set.find(tokens) {
            let term = self.terms[hit.phrase].as_str();
            if !found.contains(&term) {
                found.push(term);
            }
        }
        found
    }
}

/// Compiled approval policy.
#[derive(Clone, Debug)]
pub struct ApprovalPolicy {
    compensation: TermList,
    exception: TermList,
    regulated: TermList,
    compensation_role: String,
    exception_role: String,
    regulated_role: String,
    public_update_role: String,
}

impl Default for ApprovalPolicy {
    /// The built-in term lists and roles. They are checked by a unit test, so a broken default
    /// would fail the build's tests rather than start-up; should one ever slip through, the
    /// affected list is left empty instead of panicking.
    fn default() -> Self {
        let config = ApprovalConfig::default();
        let list = |name: &'static str, terms: &[String]| {
            TermList::compile(name, terms).unwrap_or_else(|_| TermList {
                terms: Vec::new(),
                set: PhraseSet::default(),
            })
        };
        Self {
            compensation: list("compensation_terms", &config.compensation_terms),
            exception: list("exception_terms", &config.exception_terms),
            regulated: list("regulated_topics", &config.regulated_topics),
            compensation_role: config.compensation_role,
            exception_role: config.exception_role,
            regulated_role: config.regulated_role,
            public_update_role: config.public_update_role,
        }
    }
}

fn role(field: &'static str, value: &str) -> Result<String, ApprovalError> {
    let normalized = normalize_role(value);
    if normalized.is_empty() || normalized.chars().any(char::is_whitespace) {
        return Err(ApprovalError::BadRole {
            field,
            role: value.to_string(),
        });
    }
    Ok(normalized)
}

fn normalize_role(role: &str) -> String {
    role.trim().to_lowercase()
}

impl ApprovalPolicy {
    pub fn compile(config: &ApprovalConfig) -> Result<Self, ApprovalError> {
        Ok(Self {
            compensation: TermList::compile("compensation_terms", &config.compensation_terms)?,
            exception: TermList::compile("exception_terms", &config.exception_terms)?,
            regulated: TermList::compile("regulated_topics", &config.regulated_topics)?,
            compensation_role: role("compensation_role", &config.compensation_role)?,
            exception_role: role("exception_role", &config.exception_role)?,
            regulated_role: role("regulated_role", &config.regulated_role)?,
            public_update_role: role("public_update_role", &config.public_update_role)?,
        })
    }

    /// Why this reply must wait for approval, if it must: every reason, each with the role that
    /// may approve. Empty means the reply can be sent straight away.
    pub fn requirements(&self, reply: &ReplyFacts) -> Vec<Requirement> {
        let tokens = tokenize(reply.text);
        let mut out = Vec::new();
        let mut by_terms = |list: &TermList, reason, role: &str| {
            let found = list.found(&tokens);
            if !found.is_empty() {
                let named: Vec<String> = found.iter().map(|t| format!("`{t}`")).collect();
                out.push(Requirement {
                    reason,
                    role: role.to_string(),
                    detail: format!("mentions {}", named.join(", ")),
                });
            }
        };
        by_terms(
            &self.compensation,
            ApprovalReason::Compensation,
            &self.compensation_role,
        );
        by_terms(
            &self.exception,
            ApprovalReason::Exception,
            &self.exception_role,
        );
        by_terms(
            &self.regulated,
            ApprovalReason::RegulatedTopic,
            &self.regulated_role,
        );
        if reply.public && reply.operational_update {
            out.push(Requirement {
                reason: ApprovalReason::PublicOperationalUpdate,
                role: self.public_update_role.clone(),
                detail: "public operational update".to_string(),
            });
        }
        if let Some(rule_role) = reply.required_by_rule {
            let rule_role = match normalize_role(rule_role) {
                r if r.is_empty() => supervisor(),
                r => r,
            };
            out.push(Requirement {
                reason: ApprovalReason::Rule,
                role: rule_role,
                detail: "required by a rule on this case".to_string(),
            });
        }
        out
    }
}

/// Whether someone in `decider_role` may release a reply that needs `required`.
pub fn role_qualifies(decider_role: &str, required: &str) -> bool {
    let decider = normalize_role(decider_role);
    let required = normalize_role(required);
    decider == ADMIN_ROLE || decider == required || (decider == "supervisor" && required == "agent")
}

/// Checks the decider may decide and returns the reply's new status. The role must qualify for
/// one of the requirements (see the module docs); the author cannot approve their own reply;
/// a rejection needs a reason and an edit needs text; a reply is decided once.
pub fn decide(
    status: ApprovalStatus,
    requirements: &[Requirement],
    author: &str,
    decider: &str,
    decider_role: &str,
    decision: &Decision,
) -> Result<ApprovalStatus, ApprovalError> {
    if status != ApprovalStatus::Pending {
        return Err(ApprovalError::AlreadyDecided { status });
    }
    if requirements.is_empty() {
        return Err(ApprovalError::NothingToApprove);
    }
    if !requirements
        .iter()
        .any(|r| role_qualifies(decider_role, &r.role))
    {
        let mut needed: Vec<String> = Vec::new();
        for r in requirements {
            let role = format!("`{}`", r.role);
            if !needed.contains(&role) {
                needed.push(role);
            }
        }
        return Err(ApprovalError::RoleNotAllowed {
            role: decider_role.trim().to_string(),
            needed: needed.join(" or "),
        });
    }
    let own_reply = decider.trim() == author.trim();
    match decision {
        Decision::Reject { reason } if reason.trim().is_empty() => Err(ApprovalError::EmptyReason),
        Decision::Reject { .. } => Ok(ApprovalStatus::Rejected),
        _ if own_reply => Err(ApprovalError::OwnReply {
            decider: decider.trim().to_string(),
        }),
        Decision::Approve => Ok(ApprovalStatus::Approved),
        Decision::EditAndApprove { text } if text.trim().is_empty() => {
            Err(ApprovalError::EmptyEdit)
        }
        Decision::EditAndApprove { .. } => Ok(ApprovalStatus::EditedAndApproved),
    }
}

#[cfg(test)]
mod tests;
