//! The unified message model (A1): one shape for posts, comments, replies, DMs, reviews,
//! e-mail and chat from every platform.

use crate::{CaseId, CustomerId, MessageId, Platform, Timestamp, ingest::Author};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Post,
    Comment,
    Reply,
    Dm,
    Review,
    Email,
    Chat,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Comment => "comment",
            Self::Reply => "reply",
            Self::Dm => "dm",
            Self::Review => "review",
            Self::Email => "email",
            Self::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "post" => Self::Post,
            "comment" => Self::Comment,
            "reply" => Self::Reply,
            "dm" => Self::Dm,
            "review" => Self::Review,
            "email" => Self::Email,
            "chat" => Self::Chat,
            _ => return None,
        })
    }

    /// What a message is when the sender did not say.
    pub fn infer(platform: Platform, visibility: Visibility, is_reply: bool) -> Self {
        match platform {
            Platform::Email => Self::Email,
            Platform::Chat => Self::Chat,
            Platform::Reviews => Self::Review,
            _ if visibility == Visibility::Private => Self::Dm,
            _ if is_reply => Self::Reply,
            _ => Self::Post,
        }
    }
}

/// How far the pipeline has taken a message. Only `processed` messages are complete; anything
/// else is picked up again after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Received,
    Processed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Processed => "processed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "received" => Some(Self::Received),
            "processed" => Some(Self::Processed),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

impl SentimentLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Neutral => "neutral",
            Self::Negative => "negative",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "positive" => Some(Self::Positive),
            "neutral" => Some(Self::Neutral),
            "negative" => Some(Self::Negative),
            _ => None,
        }
    }
}

/// The intents the understanding stage tells apart (B3), as it reports them in
/// [`Enrichment::intent`] and as filters, labels and the inbox take them.
pub const INTENTS: [&str; 4] = ["complaint", "inquiry", "praise", "other"];

/// What the understanding stage found in a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrichment {
    /// ISO 639-1 code, or `und` when the text is too short or unclear to tell.
    pub language: String,
    pub language_confidence: f64,
    /// VADER-style compound score, -1 (most negative) to 1 (most positive).
    pub sentiment_compound: f64,
    pub sentiment_label: SentimentLabel,
    /// One of [`INTENTS`]: `complaint`, `inquiry`, `praise` or `other`.
    pub intent: String,
    pub intent_confidence: f64,
    /// `low`, `normal`, `high` or `critical`.
    pub urgency: String,
    /// Why urgency was raised: `safety`, `legal_threat`, `regulator`, `data_breach`, `anger`,
    /// `churn_threat`, `repeated_contact`, `complaint`, …
    pub urgency_reasons: Vec<String>,
    /// Dominant emotion: `anger`, `joy`, `optimism`, `sadness`.
    pub emotion: String,
    /// Offensive-language score, 0..1.
    pub toxicity: f64,
    /// `standard` (no personal data found), `personal` (contact data) or `sensitive`
    /// (payment card, bank account, national id).
    pub data_class: String,
    /// Personal data found in the text, as byte offsets.
    pub pii: Vec<PiiMark>,
    /// Watched terms found (products, executives, legal words, competitors…).
    pub watch: Vec<WatchHit>,
    /// The operator-trained topic, when a topic model is configured.
    pub topic: Option<String>,
}

/// A watched term found in a text: its list, the term, and its byte range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WatchHit {
    pub list: String,
    pub term: String,
    pub start: usize,
    pub end: usize,
}

/// One piece of personal data in a text: `kind` (`email`, `phone`, `payment_card`, `iban`,
/// `postal_address`, `national_id`) and its byte range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PiiMark {
    pub kind: String,
    pub start: usize,
    pub end: usize,
}

impl Default for Enrichment {
    /// Nothing known: undetermined language, neutral, no intent, normal urgency, no PII.
    fn default() -> Self {
        Self {
            language: "und".into(),
            language_confidence: 0.0,
            sentiment_compound: 0.0,
            sentiment_label: SentimentLabel::Neutral,
            intent: "other".into(),
            intent_confidence: 0.0,
            urgency: "normal".into(),
            urgency_reasons: Vec::new(),
            emotion: "none".into(),
            toxicity: 0.0,
            data_class: "standard".into(),
            pii: Vec::new(),
            watch: Vec::new(),
            topic: None,
        }
    }
}

/// A stored message with everything the pipeline has attached to it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Message {
    #[schema(value_type = String)]
    pub id: MessageId,
    pub source: Platform,
    pub external_id: String,
    pub channel: String,
    pub kind: MessageKind,
    pub visibility: Visibility,
    pub author: Author,
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub region: Option<String>,
    pub in_reply_to: Option<String>,
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    pub stage: Stage,
    pub enrichment: Option<Enrichment>,
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<CustomerId>,
    #[schema(value_type = Option<String>)]
    pub case_id: Option<CaseId>,
    /// When the author last edited it on the platform; earlier texts are its revisions.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    /// When the author or the platform removed it. The record stays for audit.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub removed_at: Option<Timestamp>,
}

/// A change the platform reported to a message it had already delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The author edited the text.
    Edit { text: String },
    /// The message was removed on the platform.
    Remove,
}

impl Revision {
    pub fn kind(&self) -> RevisionKind {
        match self {
            Self::Edit { .. } => RevisionKind::Edit,
            Self::Remove => RevisionKind::Remove,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevisionKind {
    Edit,
    Remove,
}

impl RevisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Remove => "remove",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edit" => Some(Self::Edit),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }
}

/// One recorded change to a message: the text it had before, kept for audit.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MessageRevision {
    /// 1 for the first change, counting up.
    pub revision: u32,
    pub kind: RevisionKind,
    /// The text as it was before this change.
    pub previous_text: String,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
}

/// What applying a `Revision` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revised {
    /// The change was recorded.
    Applied(MessageId),
    /// The message already says this (a redelivered edit, a second removal): nothing changed.
    Unchanged(MessageId),
    /// No stored message has that source and external id.
    Unknown,
}
