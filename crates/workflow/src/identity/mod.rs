//! Customer identity resolution (C2): deciding whether two customer profiles are the same
//! person, merging them when they are, and undoing a merge exactly.
//!
//! Evidence comes in two strengths. Deterministic keys — a verified e-mail address, a phone
//! number in E.164, an order id — shared by both profiles link them outright. Otherwise a
//! Fellegi–Sunter score adds up per-field log-likelihood weights for name, handle and
//! location similarity; above one threshold the profiles link, between two thresholds the
//! pair goes to a review queue, below it they stay distinct. Two profiles that hold different
//! accounts on the same platform are never linked automatically: the pair is put up for
//! review instead, because one person with two X accounts and two people with one shared
//! inbox look alike to a machine.
//!
//! This module decides and records; it never stores profiles, reads a clock or talks to a
//! platform. The caller loads profiles, asks [`CandidateIndex`] which are worth comparing,
//! asks [`Matcher::compare`], acts on the [`Decision`], and keeps the [`MergeRecord`].

mod index;
mod keys;
mod matcher;
mod merge;
mod similarity;

#[cfg(test)]
mod tests;

pub use index::CandidateIndex;
pub use keys::{E164, EmailKey};
pub use matcher::{
    Decision, FieldModel, FieldWeight, FieldWeights, MatchConfig, MatchError, MatchResult, Matcher,
};
pub use merge::{MergeError, MergeRecord, Unmerged, merge, unmerge};
pub use similarity::{jaro, jaro_winkler};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is known about one customer, as the matcher sees it. Lists are kept in the order
/// they were learnt; nothing here is normalised, so a merge can be undone to the byte.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub id: String,
    /// Display and real names seen for the customer.
    pub names: Vec<String>,
    /// Platform → handles held there (e.g. `"x" → ["@ana_p"]`). Platform keys are compared
    /// case-insensitively.
    pub handles: BTreeMap<String, Vec<String>>,
    /// E-mail addresses the customer has proven to own; unverified ones do not belong here,
    /// since anyone can type anyone's address.
    pub verified_emails: Vec<String>,
    /// Phone numbers as given; parsed to E.164 when compared, unparseable ones are ignored.
    pub phones: Vec<String>,
    pub order_ids: Vec<String>,
    /// City or region as given ("Lisbon", "Lisboa, Portugal").
    pub location: Option<String>,
    /// Platform → the platform's own user ids (numeric ids that survive handle changes).
    pub platform_ids: BTreeMap<String, Vec<String>>,
}

impl Profile {
    pub(crate) fn email_keys(&self) -> impl Iterator<Item = EmailKey> + '_ {
        self.verified_emails
            .iter()
            .filter_map(|e| EmailKey::parse(e))
    }

    pub(crate) fn phone_keys<'a>(&'a self, cc: Option<&'a str>) -> impl Iterator<Item = E164> + 'a {
        self.phones.iter().filter_map(move |p| E164::parse(p, cc))
    }

    pub(crate) fn order_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.order_ids.iter().filter_map(|o| keys::order_key(o))
    }

    /// Non-empty normalised names.
    pub(crate) fn normalised_names(&self) -> impl Iterator<Item = String> + '_ {
        self.names
            .iter()
            .map(|n| similarity::normalise_name(n))
            .filter(|n| !n.is_empty())
    }

    /// Non-empty normalised handles across every platform.
    pub(crate) fn normalised_handles(&self) -> impl Iterator<Item = String> + '_ {
        self.handles
            .values()
            .flatten()
            .map(|h| similarity::normalise_handle(h))
            .filter(|h| !h.is_empty())
    }

    pub(crate) fn normalised_location(&self) -> Option<String> {
        self.location
            .as_deref()
            .map(similarity::normalise_location)
            .filter(|l| !l.is_empty())
    }
}
