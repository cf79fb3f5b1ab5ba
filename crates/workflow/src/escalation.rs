//! The escalation matrix (D4): on watched terms, urgency, a VIP, an SLA breach, sharp
//! negative sentiment or a large audience, a case is escalated to legal, PR, executives,
//! operations or any other named team, each entry with its own deadline and so its own
//! breach.
//!
//! This module decides which escalations a case needs now and whether one has breached. It
//! never notifies anyone, never stores what was raised (the caller passes the names already
//! raised for the case) and never reads the clock.

use sb_domain::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[cfg(test)]
mod tests;

const URGENCIES: [&str; 4] = ["low", "normal", "high", "critical"];
const TRIGGERS: &str = "terms, urgency, vip, sla_breached, sentiment_below, followers_above";

/// One `[[workflow.escalations]]` entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    pub name: String,
    /// The team or role escalated to: `legal`, `pr`, `executives`, `operations`, …
    pub to: String,
    /// How long the team has to acknowledge before the escalation has breached.
    pub deadline_mins: u32,
    pub when: EscalationTriggers,
}

/// Triggers of one entry; any one listed trigger suffices.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationTriggers {
    /// Words or phrases, matched as whole words regardless of case ("sue" is not in "issue").
    #[serde(default)]
    pub terms: Vec<String>,
    /// Urgency levels: `low`, `normal`, `high`, `critical`.
    #[serde(default)]
    pub urgency: Vec<String>,
    /// The customer is a VIP.
    #[serde(default)]
    pub vip: bool,
    /// The case's SLA has breached.
    #[serde(default)]
    pub sla_breached: bool,
    /// Compound sentiment strictly below this (-1 to 1).
    #[serde(default)]
    pub sentiment_below: Option<f64>,
    /// The author has strictly more followers than this.
    #[serde(default)]
    pub followers_above: Option<u64>,
}

/// An escalation configuration that cannot be used, naming the entry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EscalationError {
    #[error("escalation #{index}: an escalation needs a non-empty name")]
    Unnamed { index: usize },
    #[error("escalation `{name}`: another escalation already has this name")]
    DuplicateName { name: String },
    #[error("escalation `{name}`: `to` is empty; name the team or role to escalate to")]
    NoTarget { name: String },
    #[error("escalation `{name}`: `deadline_mins` must be at least 1")]
    ZeroDeadline { name: String },
    #[error("escalation `{name}`: `when` lists no trigger (use any of {TRIGGERS})")]
    NoTrigger { name: String },
    #[error("escalation `{name}`: {detail}")]
    BadTrigger { name: String, detail: String },
}

/// What the matrix looks at for one case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EscalationFacts {
    /// The latest message's text, lowercased by the caller (uppercase is folded again here,
    /// so a missed lowercasing costs time, not matches).
    pub text_lower: String,
    /// `low`, `normal`, `high` or `critical`.
    pub urgency: Option<String>,
    pub vip: bool,
    pub sla_breached: bool,
    pub sentiment: Option<f64>,
    pub followers: Option<u64>,
}

/// An escalation raised for a case: to whom, why, and by when it must be acknowledged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Escalation {
    /// The matrix entry that raised it.
    pub name: String,
    pub to: String,
    /// Which triggers matched, e.g. "term `lawyer`; VIP customer".
    pub reason: String,
    pub raised_at: Timestamp,
    pub due_at: Timestamp,
}

#[derive(Clone, Debug)]
struct Entry {
    name: String,
    to: String,
    deadline_ms: i64,
    /// Lowercased.
    terms: Vec<String>,
    /// Lowercased, known levels.
    urgency: Vec<String>,
    vip: bool,
    sla_breached: bool,
    sentiment_below: Option<f64>,
    followers_above: Option<u64>,
}

impl Entry {
    /// Every matched trigger, in the order they are configured in the file format.
    fn reasons(&self, facts: &EscalationFacts, text: &str) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(term) = self.terms.iter().find(|t| contains_word(text, t)) {
            reasons.push(format!("term `{term}`"));
        }
        if let Some(urgency) = facts.urgency.as_deref()
            && self.urgency.iter().any(|u| u.eq_ignore_ascii_case(urgency))
        {
            reasons.push(format!("urgency `{}`", urgency.to_ascii_lowercase()));
        }
        if self.vip && facts.vip {
            reasons.push("VIP customer".into());
        }
        if self.sla_breached && facts.sla_breached {
            reasons.push("SLA breached".into());
        }
        if let (Some(limit), Some(sentiment)) = (self.sentiment_below, facts.sentiment)
            && sentiment < limit
        {
            reasons.push(format!("sentiment {sentiment:.2} below {limit}"));
        }
        if let (Some(limit), Some(followers)) = (self.followers_above, facts.followers)
            && followers > limit
        {
            reasons.push(format!("{followers} followers, above {limit}"));
        }
        reasons
    }
}

/// A validated escalation matrix, in configured order.
#[derive(Clone, Debug, Default)]
pub struct EscalationMatrix {
    entries: Vec<Entry>,
}

impl EscalationMatrix {
    pub fn compile(configs: &[EscalationConfig]) -> Result<Self, EscalationError> {
        let mut entries: Vec<Entry> = Vec::with_capacity(configs.len());
        for (index, cfg) in configs.iter().enumerate() {
            let entry = compile_entry(index, cfg)?;
            if entries.iter().any(|e| e.name == entry.name) {
                return Err(EscalationError::DuplicateName { name: entry.name });
            }
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Escalations this case now needs: one per matrix entry that triggers and is not in
    /// `already` (names of entries already raised for the case), due `deadline_mins` after
    /// `now`.
    pub fn triggered(
        &self,
        facts: &EscalationFacts,
        already: &[String],
        now: Timestamp,
    ) -> Vec<Escalation> {
        let text = fold_case(&facts.text_lower);
        self.entries
            .iter()
            .filter(|e| !already.contains(&e.name))
            .filter_map(|e| {
                let reasons = e.reasons(facts, &text);
                (!reasons.is_empty()).then(|| Escalation {
                    name: e.name.clone(),
                    to: e.to.clone(),
                    reason: reasons.join("; "),
                    raised_at: now,
                    due_at: now.plus_millis(e.deadline_ms),
                })
            })
            .collect()
    }
}

/// An escalation not acknowledged by its due instant has breached. An acknowledgement
/// stamped after `now` has not happened yet as far as `now` is concerned.
pub fn escalation_breached(
    e: &Escalation,
    acknowledged_at: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    match acknowledged_at.filter(|&at| at <= now) {
        Some(at) => at > e.due_at,
        None => now > e.due_at,
    }
}

fn compile_entry(index: usize, cfg: &EscalationConfig) -> Result<Entry, EscalationError> {
    let name = cfg.name.trim();
    if name.is_empty() {
        return Err(EscalationError::Unnamed { index });
    }
    let name = name.to_string();
    let bad = |detail: String| EscalationError::BadTrigger {
        name: name.clone(),
        detail,
    };
    let to = cfg.to.trim();
    if to.is_empty() {
        return Err(EscalationError::NoTarget { name });
    }
    if cfg.deadline_mins == 0 {
        return Err(EscalationError::ZeroDeadline { name });
    }

    let w = &cfg.when;
    let mut terms = Vec::with_capacity(w.terms.len());
    for term in &w.terms {
        let term = term.trim().to_lowercase();
        if term.is_empty() {
            return Err(bad("a term is empty".into()));
        }
        // A term without a letter or digit has no word boundaries to match on.
        if !term.chars().any(char::is_alphanumeric) {
            return Err(bad(format!(
                "term {term:?} has no letters or digits to match"
            )));
        }
        terms.push(term);
    }
    let mut urgency = Vec::with_capacity(w.urgency.len());
    for level in &w.urgency {
        let level = level.trim().to_ascii_lowercase();
        if !URGENCIES.contains(&level.as_str()) {
            return Err(bad(format!(
                "urgency `{level}` is not a known level (low, normal, high, critical)"
            )));
        }
        urgency.push(level);
    }
    if let Some(s) = w.sentiment_below
        && !(-1.0..=1.0).contains(&s)
    {
        return Err(bad(format!("sentiment_below runs from -1 to 1, got {s}")));
    }

    let any = !terms.is_empty()
        || !urgency.is_empty()
        || w.vip
        || w.sla_breached
        || w.sentiment_below.is_some()
        || w.followers_above.is_some();
    if !any {
        return Err(EscalationError::NoTrigger { name });
    }

    Ok(Entry {
        to: to.to_string(),
        deadline_ms: i64::from(cfg.deadline_mins) * 60_000,
        terms,
        urgency,
        vip: w.vip,
        sla_breached: w.sla_breached,
        sentiment_below: w.sentiment_below,
        followers_above: w.followers_above,
        name,
    })
}

fn fold_case(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_uppercase) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `term` occurs in `text` as whole words: a term edge that is a letter or digit
/// must not touch another letter or digit, so "sue" is found in "we will sue." but not in
/// "issue" or "suede"; an edge that is punctuation ("$$$", "gdpr:") matches as written.
fn contains_word(text: &str, term: &str) -> bool {
    let check_start = term.chars().next().is_some_and(is_word_char);
    let check_end = term.chars().next_back().is_some_and(is_word_char);
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|rest| rest.find(term)) {
        let start = from + pos;
        let end = start + term.len();
        let free_before =
            !check_start || !text[..start].chars().next_back().is_some_and(is_word_char);
        let free_after = !check_end || !text[end..].chars().next().is_some_and(is_word_char);
        if free_before && free_after {
            return true;
        }
        // Step past the first character of this occurrence; overlapping ones still count.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}
