//! Cases (D1) and the pure decisions of the pipeline's identify, case and route stages: given
//! what the store already knows (a `CaseContext`), `plan_batch` says which customers and cases
//! to create and where each message belongs. The store only carries the plan out.

use crate::{
    CaseId, CustomerId, Identity, MessageId, Platform, QueueId, SentimentLabel, Tier, Timestamp,
    message::Enrichment,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    New,
    Open,
    Pending,
    OnHold,
    Escalated,
    Resolved,
    Closed,
}

impl CaseStatus {
    pub const OPEN_STATES: [CaseStatus; 5] = [
        Self::New,
        Self::Open,
        Self::Pending,
        Self::OnHold,
        Self::Escalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::OnHold => "on_hold",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "new" => Self::New,
            "open" => Self::Open,
            "pending" => Self::Pending,
            "on_hold" => Self::OnHold,
            "escalated" => Self::Escalated,
            "resolved" => Self::Resolved,
            "closed" => Self::Closed,
            _ => return None,
        })
    }

    pub fn is_open(self) -> bool {
        Self::OPEN_STATES.contains(&self)
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CasePriority {
    Low,
    Normal,
    High,
    Urgent,
}

impl CasePriority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "low" => Self::Low,
            "normal" => Self::Normal,
            "high" => Self::High,
            "urgent" => Self::Urgent,
            _ => return None,
        })
    }

    /// First-pass triage from what one message says and who says it: a strongly negative
    /// message is high priority, and so is anything from a VIP; a negative VIP is urgent.
    pub fn assess(enrichment: &Enrichment, tier: Tier) -> Self {
        let negative = enrichment.sentiment_label == SentimentLabel::Negative;
        let strongly_negative = enrichment.sentiment_compound <= -0.6;
        // Safety, legal threats, regulators and data breaches go to the top whoever writes.
        if enrichment.urgency == "critical" {
            return Self::Urgent;
        }
        let urgent_signal = enrichment.urgency == "high";
        match (
            tier,
            negative || urgent_signal,
            strongly_negative || urgent_signal,
        ) {
            (Tier::Vip, true, _) => Self::Urgent,
            (Tier::Vip, false, _) | (_, _, true) => Self::High,
            _ => Self::Normal,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Case {
    #[schema(value_type = String)]
    pub id: CaseId,
    #[schema(value_type = String)]
    pub customer_id: CustomerId,
    pub source: Platform,
    pub channel: String,
    pub status: CaseStatus,
    pub priority: CasePriority,
    #[schema(value_type = Option<String>)]
    pub queue_id: Option<QueueId>,
    /// The agent working the case, if assigned.
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub subject: String,
    pub language: Option<String>,
    pub region: Option<String>,
    pub message_count: i64,
    pub last_sentiment: Option<f64>,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_message_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Queue {
    #[schema(value_type = String)]
    pub id: QueueId,
    pub name: String,
    pub is_default: bool,
}

/// What the planner needs to know about one message.
#[derive(Clone, Debug)]
pub struct PlanMessage {
    pub id: MessageId,
    pub source: Platform,
    pub channel: String,
    pub handle: String,
    pub author_name: Option<String>,
    pub region: Option<String>,
    pub in_reply_to: Option<String>,
    pub text: String,
    pub created_at: Timestamp,
    pub enrichment: Enrichment,
    pub reach: Reach,
}

/// The post as its platform counts it when it arrives: its id there, its author's followers
/// and the engagement it had drawn. Listening reads it to spot complaints going viral.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reach {
    pub external_id: String,
    /// Only its recipient sees it (an e-mail, a direct message, a chat): it cannot go viral
    /// whoever wrote it, nor does it spread a public post it answers.
    pub private: bool,
    pub followers: Option<u64>,
    /// Reactions counted by the platform: reshares (retweets, shares, quotes) count twice,
    /// since they carry the post to new audiences; views and impressions do not count.
    pub engagement: u64,
}

impl Reach {
    /// Engagement from a message's `metrics` object of counts.
    pub fn engagement_of(metrics: &serde_json::Value) -> u64 {
        let Some(counts) = metrics.as_object() else {
            return 0;
        };
        counts
            .iter()
            .filter_map(|(name, v)| {
                let n = v.as_u64()?;
                match name.as_str() {
                    "views" | "impressions" | "reach" | "plays" => None,
                    "retweets" | "reposts" | "shares" | "quotes" => Some(n.saturating_mul(2)),
                    _ => Some(n),
                }
            })
            .fold(0u64, u64::saturating_add)
    }
}

impl PlanMessage {
    /// What the planner needs from a stored message, with the understanding it was given.
    pub fn from_message(m: &crate::Message, enrichment: Enrichment) -> Self {
        Self {
            reach: Reach {
                external_id: m.external_id.clone(),
                private: m.visibility == crate::Visibility::Private,
                followers: m.author.followers,
                engagement: Reach::engagement_of(&m.metrics),
            },
            id: m.id.clone(),
            source: m.source,
            channel: m.channel.clone(),
            handle: m.author.handle.clone(),
            author_name: m.author.name.clone(),
            region: m.region.clone(),
            in_reply_to: m.in_reply_to.clone(),
            text: m.text.clone(),
            created_at: m.created_at,
            enrichment,
        }
    }

    pub fn identity_key(&self) -> String {
        Identity::key(self.source, &self.handle)
    }

    /// The key of the message this one replies to, if any (`source:external_id`).
    pub fn reply_key(&self) -> Option<String> {
        self.in_reply_to
            .as_ref()
            .map(|r| format!("{}:{}", self.source.as_str(), r))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct KnownCustomer {
    pub id: CustomerId,
    pub tier: Tier,
    /// Where their data is held (G5); none for a customer created without one, e.g. by
    /// an import, until a message with a region reaches them.
    pub region: Option<String>,
    /// Their language, when known: what a message of theirs too short to tell is taken to
    /// be written in.
    pub language: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OpenCase {
    pub id: CaseId,
    pub priority: CasePriority,
}

/// What the store knows that bears on a batch.
#[derive(Clone, Debug, Default)]
pub struct CaseContext {
    /// Customers by identity key.
    pub customers: HashMap<String, KnownCustomer>,
    /// Each known customer's open case per channel.
    pub open_cases: HashMap<(CustomerId, String), OpenCase>,
    /// The open case holding a replied-to message, by `source:external_id`.
    pub reply_cases: HashMap<String, OpenCase>,
    /// Each known customer's most recently active open case, on any channel.
    pub recent_cases: HashMap<CustomerId, RecentCase>,
}

/// A customer's most recently active open case.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentCase {
    pub case: OpenCase,
    /// The platform of the customer's latest message in it.
    pub source: Platform,
    pub last_message_at: Timestamp,
}

/// How long after a customer's last message on one platform a message on another platform
/// still belongs to the same conversation (24 hours, the span platforms themselves treat as
/// one customer-care session).
pub const SESSION_GAP_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct NewCustomer {
    pub id: CustomerId,
    pub display_name: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub identity_key: String,
    pub platform: Platform,
    pub handle: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewCase {
    pub id: CaseId,
    pub customer_id: CustomerId,
    pub source: Platform,
    pub channel: String,
    pub priority: CasePriority,
    pub queue_id: QueueId,
    pub subject: String,
    pub language: Option<String>,
    pub region: Option<String>,
    pub opened_at: Timestamp,
}

/// A message joining an existing case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseTouch {
    pub case_id: CaseId,
    pub at: Timestamp,
    pub priority: CasePriority,
    pub sentiment: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MessagePlacement {
    pub message_id: MessageId,
    pub enrichment: Enrichment,
    pub customer_id: CustomerId,
    pub case_id: CaseId,
    /// When the customer wrote it.
    pub at: Timestamp,
    /// It opened its case.
    pub opened: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CasePlan {
    pub new_customers: Vec<NewCustomer>,
    pub new_cases: Vec<NewCase>,
    pub touches: Vec<CaseTouch>,
    pub placements: Vec<MessagePlacement>,
    /// Customers who had no region and take the region of their message in this batch.
    pub regions: Vec<(CustomerId, String)>,
    /// Customers who had no language (their first messages too short to tell) and take that
    /// of their message in this batch that tells one.
    pub languages: Vec<(CustomerId, String)>,
}

const SUBJECT_CHARS: usize = 120;

/// A case's subject, cut from its first message's text: its first non-blank line, at most
/// `SUBJECT_CHARS` characters.
pub fn subject_of(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= SUBJECT_CHARS {
        line.to_owned()
    } else {
        let mut s: String = line.chars().take(SUBJECT_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// For each message of a batch in arrival order, the language to take it to be written in
/// when it is too short to tell: its customer's, when known, else that of an earlier message
/// of the batch from the same identity whose language was told.
pub fn fallback_languages(messages: &[PlanMessage], ctx: &CaseContext) -> Vec<Option<String>> {
    let mut told: HashMap<String, String> = HashMap::new();
    messages
        .iter()
        .map(|m| {
            let key = m.identity_key();
            let known = ctx
                .customers
                .get(&key)
                .and_then(|c| c.language.clone())
                .or_else(|| told.get(&key).cloned());
            if m.enrichment.language != "und" {
                told.entry(key)
                    .or_insert_with(|| m.enrichment.language.clone());
            }
            known
        })
        .collect()
}

/// Decides, for a batch in arrival order, each message's customer and case:
/// - a customer is found by platform handle, or created;
/// - a reply joins the open case of the message it answers;
/// - otherwise a message joins its customer's open case on the same channel;
/// - otherwise, when the customer (identities linked across platforms) wrote on another
///   platform within `SESSION_GAP_MS`, it joins that conversation's open case;
/// - otherwise it opens a new case, routed to `default_queue`.
///
/// Messages later in the batch see the customers and cases that earlier ones created.
pub fn plan_batch(
    messages: &[PlanMessage],
    mut ctx: CaseContext,
    default_queue: &QueueId,
    now: Timestamp,
) -> CasePlan {
    let mut plan = CasePlan::default();
    for m in messages {
        let key = m.identity_key();
        let customer = match ctx.customers.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = KnownCustomer {
                    id: CustomerId::generate(),
                    tier: Tier::Standard,
                    region: m.region.clone(),
                    language: Some(m.enrichment.language.clone()).filter(|l| l != "und"),
                };
                plan.new_customers.push(NewCustomer {
                    id: c.id.clone(),
                    display_name: m.author_name.clone(),
                    region: m.region.clone(),
                    language: Some(m.enrichment.language.clone()).filter(|l| l != "und"),
                    identity_key: key.clone(),
                    platform: m.source,
                    handle: m.handle.clone(),
                    created_at: now,
                });
                ctx.customers.insert(key, c.clone());
                c
            }
        };
        // A customer known without a region (an import) takes their first message's.
        if let (None, Some(region)) = (&customer.region, &m.region) {
            plan.regions.push((customer.id.clone(), region.clone()));
            for known in ctx.customers.values_mut().filter(|k| k.id == customer.id) {
                known.region = Some(region.clone());
            }
        }
        let told = Some(&m.enrichment.language).filter(|l| *l != "und");
        if let (None, Some(language)) = (&customer.language, told) {
            plan.languages.push((customer.id.clone(), language.clone()));
            for known in ctx.customers.values_mut().filter(|k| k.id == customer.id) {
                known.language = Some(language.clone());
            }
        }
        let priority = CasePriority::assess(&m.enrichment, customer.tier);
        let channel_key = (customer.id.clone(), m.channel.clone());
        let same_session = |r: &RecentCase| {
            r.source != m.source
                && (m.created_at.millis() - r.last_message_at.millis()).abs() <= SESSION_GAP_MS
        };
        let existing = m
            .reply_key()
            .and_then(|k| ctx.reply_cases.get(&k).cloned())
            .or_else(|| ctx.open_cases.get(&channel_key).cloned())
            .or_else(|| {
                ctx.recent_cases
                    .get(&customer.id)
                    .filter(|r| same_session(r))
                    .map(|r| r.case.clone())
            });
        let opened = existing.is_none();
        let (case_id, case_priority) = match existing {
            Some(open) => {
                let merged = open.priority.max(priority);
                plan.touches.push(CaseTouch {
                    case_id: open.id.clone(),
                    at: m.created_at,
                    priority: merged,
                    sentiment: m.enrichment.sentiment_compound,
                });
                ctx.open_cases.insert(
                    channel_key,
                    OpenCase {
                        id: open.id.clone(),
                        priority: merged,
                    },
                );
                (open.id, merged)
            }
            None => {
                let id = CaseId::generate();
                plan.new_cases.push(NewCase {
                    id: id.clone(),
                    customer_id: customer.id.clone(),
                    source: m.source,
                    channel: m.channel.clone(),
                    priority,
                    queue_id: default_queue.clone(),
                    subject: subject_of(&m.text),
                    language: Some(m.enrichment.language.clone()).filter(|l| l != "und"),
                    region: m.region.clone(),
                    opened_at: m.created_at,
                });
                ctx.open_cases.insert(
                    channel_key,
                    OpenCase {
                        id: id.clone(),
                        priority,
                    },
                );
                (id, priority)
            }
        };
        let last = ctx
            .recent_cases
            .get(&customer.id)
            .map_or(m.created_at, |r| r.last_message_at.max(m.created_at));
        ctx.recent_cases.insert(
            customer.id.clone(),
            RecentCase {
                case: OpenCase {
                    id: case_id.clone(),
                    priority: case_priority,
                },
                source: m.source,
                last_message_at: last,
            },
        );
        plan.placements.push(MessagePlacement {
            message_id: m.id.clone(),
            enrichment: m.enrichment.clone(),
            customer_id: customer.id,
            case_id,
            at: m.created_at,
            opened,
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enr(compound: f64) -> Enrichment {
        let label = if compound <= -0.05 {
            SentimentLabel::Negative
        } else if compound >= 0.05 {
            SentimentLabel::Positive
        } else {
            SentimentLabel::Neutral
        };
        Enrichment {
            language: "en".into(),
            language_confidence: 0.9,
            sentiment_compound: compound,
            sentiment_label: label,
            ..Enrichment::default()
        }
    }

    #[test]
    fn critical_urgency_is_urgent_for_anyone_and_high_urgency_raises_priority() {
        let legal = Enrichment {
            urgency: "critical".into(),
            ..enr(0.2)
        };
        assert_eq!(
            CasePriority::assess(&legal, Tier::Standard),
            CasePriority::Urgent
        );
        let churn = Enrichment {
            urgency: "high".into(),
            ..enr(0.0)
        };
        assert_eq!(
            CasePriority::assess(&churn, Tier::Standard),
            CasePriority::High
        );
        assert_eq!(
            CasePriority::assess(&churn, Tier::Vip),
            CasePriority::Urgent
        );
        assert_eq!(
            CasePriority::assess(&enr(0.0), Tier::Standard),
            CasePriority::Normal
        );
    }

    fn msg(handle: &str, channel: &str, text: &str, compound: f64) -> PlanMessage {
        PlanMessage {
            reach: Default::default(),
            id: MessageId::generate(),
            source: Platform::X,
            channel: channel.into(),
            handle: handle.into(),
            author_name: None,
            region: Some("eu".into()),
            in_reply_to: None,
            text: text.into(),
            created_at: Timestamp(1_000),
            enrichment: enr(compound),
        }
    }

    #[test]
    fn two_messages_from_a_new_customer_on_one_channel_make_one_customer_and_one_case() {
        let q = QueueId::generate();
        let batch = [
            msg("@ana", "x", "my order is late", -0.4),
            msg("@ANA", "x", "still nothing", -0.3),
        ];
        let plan = plan_batch(&batch, CaseContext::default(), &q, Timestamp(5));
        assert_eq!(plan.new_customers.len(), 1);
        assert_eq!(plan.new_cases.len(), 1);
        assert_eq!(plan.touches.len(), 1);
        assert_eq!(plan.placements[0].case_id, plan.placements[1].case_id);
        assert_eq!(plan.new_cases[0].queue_id, q);
        assert_eq!(plan.new_cases[0].subject, "my order is late");
    }

    #[test]
    fn the_same_customer_on_another_channel_gets_a_separate_case() {
        let q = QueueId::generate();
        let batch = [
            msg("@ana", "x:@acme", "hi", 0.0),
            msg("@ana", "x:@acme_help", "hi again", 0.0),
        ];
        let plan = plan_batch(&batch, CaseContext::default(), &q, Timestamp(5));
        assert_eq!(plan.new_customers.len(), 1);
        assert_eq!(plan.new_cases.len(), 2);
    }

    #[test]
    fn a_known_customer_threads_into_their_open_case_and_an_angry_vip_raises_it_to_urgent() {
        let q = QueueId::generate();
        let cust = CustomerId::generate();
        let case = CaseId::generate();
        let mut ctx = CaseContext::default();
        ctx.customers.insert(
            "x:@vip".into(),
            KnownCustomer {
                id: cust.clone(),
                tier: Tier::Vip,
                region: None,
                language: None,
            },
        );
        ctx.open_cases.insert(
            (cust, "x".into()),
            OpenCase {
                id: case.clone(),
                priority: CasePriority::High,
            },
        );
        let plan = plan_batch(
            &[msg("@vip", "x", "this is unacceptable", -0.7)],
            ctx,
            &q,
            Timestamp(5),
        );
        assert!(plan.new_customers.is_empty() && plan.new_cases.is_empty());
        assert_eq!(plan.touches[0].case_id, case);
        assert_eq!(plan.touches[0].priority, CasePriority::Urgent);
    }

    /// A message from `handle` whose language was found to be `language`.
    fn said(handle: &str, language: &str) -> PlanMessage {
        let mut m = msg(handle, "x", "…", 0.0);
        m.enrichment.language = language.into();
        m
    }

    #[test]
    fn a_message_too_short_to_tell_takes_its_customer_s_language() {
        let mut ctx = CaseContext::default();
        ctx.customers.insert(
            "x:@known".into(),
            KnownCustomer {
                id: CustomerId::generate(),
                tier: Tier::Standard,
                region: None,
                language: Some("pt".into()),
            },
        );
        let batch = [
            said("@known", "und"),
            said("@new", "und"),
            said("@new", "fr"),
            said("@new", "und"),
            said("@new", "de"),
            said("@new", "und"),
        ];
        let got = fallback_languages(&batch, &ctx);
        let want = [Some("pt"), None, None, Some("fr"), Some("fr"), Some("fr")];
        assert_eq!(got, want.map(|l| l.map(str::to_owned)));
    }

    #[test]
    fn a_customer_known_without_a_language_takes_the_first_their_messages_tell() {
        let q = QueueId::generate();
        let quiet = CustomerId::generate();
        let mut ctx = CaseContext::default();
        ctx.customers.insert(
            "x:@quiet".into(),
            KnownCustomer {
                id: quiet.clone(),
                tier: Tier::Standard,
                region: None,
                language: None,
            },
        );
        let batch = [
            said("@quiet", "und"),
            said("@quiet", "nl"),
            said("@quiet", "de"),
        ];
        let plan = plan_batch(&batch, ctx, &q, Timestamp(5));
        assert_eq!(plan.languages, [(quiet, "nl".to_owned())]);
        // A new customer is created with their first message's language, not given one later.
        let plan = plan_batch(
            &[said("@new", "es")],
            CaseContext::default(),
            &q,
            Timestamp(5),
        );
        assert!(plan.languages.is_empty());
        assert_eq!(plan.new_customers[0].language.as_deref(), Some("es"));
    }

    #[test]
    fn a_customer_known_without_a_region_takes_their_first_message_s() {
        let q = QueueId::generate();
        let (imported, placed) = (CustomerId::generate(), CustomerId::generate());
        let mut ctx = CaseContext::default();
        for (key, id, region) in [
            ("x:@imported", &imported, None),
            ("email:imported@example.org", &imported, None),
            ("x:@placed", &placed, Some("us".to_owned())),
        ] {
            let (tier, language) = (Tier::Standard, None);
            let (id, region) = (id.clone(), region);
            ctx.customers.insert(
                key.into(),
                KnownCustomer {
                    id,
                    tier,
                    region,
                    language,
                },
            );
        }
        let in_region = |handle: &str, region: Option<&str>| {
            let mut m = msg(handle, "x", "hello", 0.0);
            m.region = region.map(str::to_owned);
            m
        };
        let plan = plan_batch(
            &[
                in_region("@imported", None),
                in_region("@imported", Some("eu")),
                in_region("@imported", Some("uk")),
                in_region("@placed", Some("eu")),
                in_region("@new", Some("eu")),
            ],
            ctx,
            &q,
            Timestamp(5),
        );
        assert_eq!(
            plan.regions,
            vec![(imported, "eu".to_owned())],
            "only the first region, only for a customer who had none"
        );
        assert_eq!(plan.new_customers[0].region.as_deref(), Some("eu"));
    }

    #[test]
    fn a_reply_joins_the_case_of_the_message_it_answers() {
        let q = QueueId::generate();
        let case = CaseId::generate();
        let mut ctx = CaseContext::default();
        ctx.reply_cases.insert(
            "x:100".into(),
            OpenCase {
                id: case.clone(),
                priority: CasePriority::Normal,
            },
        );
        let mut m = msg("@bob", "x", "same problem here", -0.2);
        m.in_reply_to = Some("100".into());
        let plan = plan_batch(&[m], ctx, &q, Timestamp(5));
        assert_eq!(plan.placements[0].case_id, case);
        assert_eq!(
            plan.new_customers.len(),
            1,
            "the replier is still a customer of their own"
        );
    }

    #[test]
    fn priority_triage() {
        assert_eq!(
            CasePriority::assess(&enr(0.5), Tier::Standard),
            CasePriority::Normal
        );
        assert_eq!(
            CasePriority::assess(&enr(-0.8), Tier::Standard),
            CasePriority::High
        );
        assert_eq!(
            CasePriority::assess(&enr(0.5), Tier::Vip),
            CasePriority::High
        );
        assert_eq!(
            CasePriority::assess(&enr(-0.2), Tier::Vip),
            CasePriority::Urgent
        );
    }

    #[test]
    fn long_subjects_are_cut_at_a_character_boundary() {
        let s = subject_of(&"ü".repeat(300));
        assert_eq!(s.chars().count(), SUBJECT_CHARS);
        assert!(s.ends_with('…'));
    }
}
