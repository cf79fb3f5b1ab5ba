//! The fields rules can test, what sort of value each holds, and an event's facts laid out
//! in slots so that a condition reads its field by index instead of matching on the field.

use super::RuleFacts;
use sb_domain::{CasePriority, CaseStatus, Platform, Tier};

pub(super) const KNOWN_FIELDS: &str = "tier, intent, sentiment, priority, status, language, \
    region, platform, channel, urgency, text, tags, customer.vip, author.followers, \
    watch_terms, queue, message_count, hour";

const URGENCIES: [&str; 4] = ["low", "normal", "high", "critical"];

/// A missing ranked or choice value in [`View::codes`].
pub(super) const NO_CODE: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Tier,
    Intent,
    Sentiment,
    Priority,
    Status,
    Language,
    Region,
    Platform,
    Channel,
    Urgency,
    Text,
    Tags,
    CustomerVip,
    AuthorFollowers,
    WatchTerms,
    Queue,
    MessageCount,
    Hour,
}

/// What sort of value a field holds, which decides the ops that make sense on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One of a few values with a natural order (tier, priority, urgency).
    Ranked,
    /// One of a few values without an order (status, platform).
    Choice,
    /// A free word such as a language code or a queue name, compared case-insensitively.
    Keyword,
    Number,
    Count,
    Flag,
    Text,
    Set,
}

impl Kind {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::Ranked => "a ranked choice (eq, ne, in, not_in, lt, le, gt, ge, is_set, not_set)",
            Self::Choice => "a choice (eq, ne, in, not_in, is_set, not_set)",
            Self::Keyword => "a keyword (eq, ne, in, not_in, is_set, not_set)",
            Self::Number => "a number (eq, ne, lt, le, gt, ge, is_set, not_set)",
            Self::Count => "a whole number (eq, ne, in, not_in, lt, le, gt, ge, is_set, not_set)",
            Self::Flag => "yes or no (eq, ne, is_set, not_set)",
            Self::Text => "text (eq, ne, contains, contains_any, not_contains, is_set, not_set)",
            Self::Set => "a set (contains, contains_any, not_contains, is_set, not_set)",
        }
    }
}

impl Field {
    const ALL: [Field; 18] = [
        Self::Tier,
        Self::Intent,
        Self::Sentiment,
        Self::Priority,
        Self::Status,
        Self::Language,
        Self::Region,
        Self::Platform,
        Self::Channel,
        Self::Urgency,
        Self::Text,
        Self::Tags,
        Self::CustomerVip,
        Self::AuthorFollowers,
        Self::WatchTerms,
        Self::Queue,
        Self::MessageCount,
        Self::Hour,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Tier => "tier",
            Self::Intent => "intent",
            Self::Sentiment => "sentiment",
            Self::Priority => "priority",
            Self::Status => "status",
            Self::Language => "language",
            Self::Region => "region",
            Self::Platform => "platform",
            Self::Channel => "channel",
            Self::Urgency => "urgency",
            Self::Text => "text",
            Self::Tags => "tags",
            Self::CustomerVip => "customer.vip",
            Self::AuthorFollowers => "author.followers",
            Self::WatchTerms => "watch_terms",
            Self::Queue => "queue",
            Self::MessageCount => "message_count",
            Self::Hour => "hour",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    pub(super) fn kind(self) -> Kind {
        match self {
            Self::Tier | Self::Priority | Self::Urgency => Kind::Ranked,
            Self::Status | Self::Platform => Kind::Choice,
            Self::Intent | Self::Language | Self::Region | Self::Channel | Self::Queue => {
                Kind::Keyword
            }
            Self::Sentiment => Kind::Number,
            Self::AuthorFollowers | Self::MessageCount | Self::Hour => Kind::Count,
            Self::CustomerVip => Kind::Flag,
            Self::Text => Kind::Text,
            Self::Tags | Self::WatchTerms => Kind::Set,
        }
    }

    /// The field's index in the [`View`] array for its kind.
    pub(super) fn slot(self) -> usize {
        match self {
            Self::Tier | Self::Intent | Self::AuthorFollowers | Self::Tags => 0,
            Self::Priority | Self::Language | Self::MessageCount | Self::WatchTerms => 1,
            Self::Status | Self::Region | Self::Hour => 2,
            Self::Platform | Self::Channel => 3,
            Self::Urgency | Self::Queue => 4,
            Self::Text => TEXT_SLOT,
            Self::Sentiment | Self::CustomerVip => 0,
        }
    }

    /// How many values a ranked or choice field has; codes run from 0 to this, exclusive,
    /// lowest first for ranked fields (the domain enums declare their variants that way).
    pub(super) fn code_count(self) -> u8 {
        match self {
            Self::Tier => 3,
            Self::Priority => 4,
            Self::Status => 7,
            Self::Platform => Platform::ALL.len() as u8,
            Self::Urgency => URGENCIES.len() as u8,
            _ => 0,
        }
    }

    /// Parses a configured value for a ranked or choice field, with the choices for the
    /// error.
    pub(super) fn parse_code(self, s: &str) -> Result<u8, String> {
        let lower = s.trim().to_ascii_lowercase();
        let (code, choices) = match self {
            Self::Tier => (
                Tier::parse(&lower).map(|t| t as u8),
                "standard, premium, vip",
            ),
            Self::Priority => (
                CasePriority::parse(&lower).map(|p| p as u8),
                "low, normal, high, urgent",
            ),
            Self::Status => (
                CaseStatus::parse(&lower).map(|s| s as u8),
                "new, open, pending, on_hold, escalated, resolved, closed",
            ),
            Self::Platform => (
                Platform::parse(&lower).map(|p| p as u8),
                "x, facebook, instagram, linkedin, tiktok, threads, email, chat, reviews, generic",
            ),
            Self::Urgency => (urgency_rank(&lower), "low, normal, high, critical"),
            _ => (None, ""),
        };
        code.ok_or_else(|| format!("`{s}` is not a known {} ({choices})", self.name()))
    }

    /// Bounds a configured count may take.
    pub(super) fn count_range(self) -> (i64, i64) {
        match self {
            Self::Hour => (0, 23),
            _ => (0, i64::MAX),
        }
    }
}

const TEXT_SLOT: usize = 5;

/// One event's facts, read once per evaluation and laid out by field slot.
pub(super) struct View<'a> {
    /// Tier, priority, status, platform, urgency; [`NO_CODE`] when missing.
    pub(super) codes: [u8; 5],
    /// Intent, language, region, channel, queue, text; an empty string counts as missing.
    pub(super) words: [Option<&'a str>; 6],
    /// Author followers, message count, hour.
    pub(super) counts: [Option<i64>; 3],
    pub(super) sentiment: Option<f64>,
    pub(super) vip: Option<bool>,
    /// Tags, watch terms.
    pub(super) sets: [&'a [String]; 2],
}

impl<'a> View<'a> {
    pub(super) fn new(f: &'a RuleFacts) -> Self {
        let code = |c: Option<u8>| c.unwrap_or(NO_CODE);
        let word = |s: &'a Option<String>| s.as_deref().filter(|s| !s.is_empty());
        Self {
            codes: [
                code(f.tier.map(|t| t as u8)),
                code(f.priority.map(|p| p as u8)),
                code(f.status.map(|s| s as u8)),
                code(f.platform.map(|p| p as u8)),
                code(f.urgency.as_deref().and_then(urgency_rank)),
            ],
            words: [
                word(&f.intent),
                word(&f.language),
                word(&f.region),
                word(&f.channel),
                word(&f.queue),
                word(&f.text),
            ],
            counts: [
                f.author_followers.map(saturating_i64),
                f.message_count.map(saturating_i64),
                f.hour.map(i64::from),
            ],
            sentiment: f.sentiment,
            vip: f.customer_vip,
            sets: [&f.tags, &f.watch_terms],
        }
    }

    pub(super) fn is_present(&self, field: Field) -> bool {
        let slot = field.slot();
        match field.kind() {
            Kind::Ranked | Kind::Choice => self.codes[slot] != NO_CODE,
            Kind::Keyword | Kind::Text => self.words[slot].is_some(),
            Kind::Number => self.sentiment.is_some(),
            Kind::Count => self.counts[slot].is_some(),
            Kind::Flag => self.vip.is_some(),
            Kind::Set => !self.sets[slot].is_empty(),
        }
    }
}

/// An urgency the enrichment does not know counts as missing rather than as some level.
fn urgency_rank(s: &str) -> Option<u8> {
    URGENCIES
        .iter()
        .position(|u| u.eq_ignore_ascii_case(s))
        .and_then(|i| u8::try_from(i).ok())
}

fn saturating_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
