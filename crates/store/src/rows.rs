//! Flat row shapes shared by the SQL implementations, and their conversion into the domain.

use crate::{CaseFilter, MessageFilter, Page, Result, StoreError};
use sb_domain::{
    Author, Case, CaseId, CasePriority, CaseStatus, Customer, CustomerId, Enrichment, Identity,
    Message, MessageId, MessageKind, MessageRevision, Platform, Queue, QueueId, RevisionKind,
    SentimentLabel, Stage, Tier, Timestamp, Visibility,
};

/// Lists stored as JSON text; an empty list is `[]`.
pub fn json_text<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

fn json_list<T: serde::de::DeserializeOwned>(v: Option<&str>) -> Result<Vec<T>> {
    match v {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str(s).map_err(|e| corrupt("JSON list", &e.to_string())),
    }
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{v}`"))
}

#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub source: String,
    pub external_id: String,
    pub channel: String,
    pub kind: String,
    pub visibility: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub author_followers: Option<i64>,
    pub author_verified: bool,
    pub text: String,
    pub created_at: i64,
    pub received_at: i64,
    pub region: Option<String>,
    pub in_reply_to: Option<String>,
    pub metrics: String,
    pub stage: String,
    pub language: Option<String>,
    pub language_confidence: Option<f64>,
    pub sentiment_compound: Option<f64>,
    pub sentiment_label: Option<String>,
    pub customer_id: Option<String>,
    pub case_id: Option<String>,
    pub intent: Option<String>,
    pub intent_confidence: Option<f64>,
    pub urgency: Option<String>,
    pub urgency_reasons: Option<String>,
    pub emotion: Option<String>,
    pub toxicity: Option<f64>,
    pub data_class: String,
    pub pii: Option<String>,
    pub watch: Option<String>,
    pub topic: Option<String>,
    pub edited_at: Option<i64>,
    pub removed_at: Option<i64>,
}

pub const MESSAGE_COLUMNS: &str = "id, source, external_id, channel, kind, visibility, author_handle, \
    author_name, author_followers, author_verified, text, created_at, received_at, region, in_reply_to, \
    metrics, stage, language, language_confidence, sentiment_compound, sentiment_label, customer_id, case_id, \
    intent, intent_confidence, urgency, urgency_reasons, emotion, toxicity, data_class, pii, \
    watch, topic, edited_at, removed_at";

impl MessageRow {
    pub fn into_domain(self) -> Result<Message> {
        let enrichment = match (self.language, self.sentiment_compound, self.sentiment_label) {
            (Some(language), Some(compound), Some(label)) => {
                let d = Enrichment::default();
                Some(Enrichment {
                    language,
                    language_confidence: self.language_confidence.unwrap_or(0.0),
                    sentiment_compound: compound,
                    sentiment_label: SentimentLabel::parse(&label)
                        .ok_or_else(|| corrupt("sentiment", &label))?,
                    intent: self.intent.unwrap_or(d.intent),
                    intent_confidence: self.intent_confidence.unwrap_or(0.0),
                    urgency: self.urgency.unwrap_or(d.urgency),
                    urgency_reasons: json_list(self.urgency_reasons.as_deref())?,
                    emotion: self.emotion.unwrap_or(d.emotion),
                    toxicity: self.toxicity.unwrap_or(0.0),
                    data_class: self.data_class,
                    pii: json_list(self.pii.as_deref())?,
                    watch: json_list(self.watch.as_deref())?,
                    topic: self.topic,
                })
            }
            _ => None,
        };
        Ok(Message {
            id: MessageId::from_stored(self.id),
            source: Platform::parse(&self.source).ok_or_else(|| corrupt("source", &self.source))?,
            external_id: self.external_id,
            channel: self.channel,
            kind: MessageKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            visibility: Visibility::parse(&self.visibility)
                .ok_or_else(|| corrupt("visibility", &self.visibility))?,
            author: Author {
                handle: self.author_handle,
                name: self.author_name,
                followers: self.author_followers.and_then(|f| u64::try_from(f).ok()),
                verified: self.author_verified,
            },
            text: self.text,
            created_at: Timestamp(self.created_at),
            received_at: Timestamp(self.received_at),
            region: self.region,
            in_reply_to: self.in_reply_to,
            metrics: serde_json::from_str(&self.metrics).unwrap_or_else(|_| serde_json::json!({})),
            stage: Stage::parse(&self.stage).ok_or_else(|| corrupt("stage", &self.stage))?,
            enrichment,
            customer_id: self.customer_id.map(CustomerId::from_stored),
            case_id: self.case_id.map(CaseId::from_stored),
            edited_at: self.edited_at.map(Timestamp),
            removed_at: self.removed_at.map(Timestamp),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub customer_id: String,
    pub source: String,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub queue_id: Option<String>,
    pub assignee: Option<String>,
    pub tags: String,
    pub subject: String,
    pub language: Option<String>,
    pub region: Option<String>,
    pub message_count: i64,
    pub last_sentiment: Option<f64>,
    pub opened_at: i64,
    pub updated_at: i64,
    pub last_message_at: i64,
}

pub const CASE_COLUMNS: &str = "id, customer_id, source, channel, status, priority, queue_id, assignee, \
    tags, subject, language, region, message_count, last_sentiment, opened_at, updated_at, last_message_at";

/// A case with its workflow state.
#[derive(sqlx::FromRow)]
pub struct CaseWorkRow {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub version: i64,
    pub sla: Option<String>,
    pub escalations: String,
    pub first_response_at: Option<i64>,
    pub first_resolved_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub merged_into: Option<String>,
}

pub const CASE_WORK_COLUMNS: &str = "version, sla, escalations, first_response_at, \
    first_resolved_at, resolved_at, merged_into";

impl CaseWorkRow {
    pub fn into_domain(self) -> Result<sb_domain::CaseWork> {
        let json = |what: &str, s: &str| {
            serde_json::from_str::<serde_json::Value>(s).map_err(|e| corrupt(what, &e.to_string()))
        };
        Ok(sb_domain::CaseWork {
            case: self.case.into_domain()?,
            version: self.version,
            sla: self.sla.as_deref().map(|s| json("sla", s)).transpose()?,
            escalations: json("escalations", &self.escalations)?,
            first_response_at: self.first_response_at.map(Timestamp),
            first_resolved_at: self.first_resolved_at.map(Timestamp),
            resolved_at: self.resolved_at.map(Timestamp),
            merged_into: self.merged_into.map(CaseId::from_stored),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CaseEventRow {
    pub seq: i64,
    pub kind: String,
    pub actor: String,
    pub at: i64,
    pub data: String,
}

impl CaseEventRow {
    pub fn into_domain(self) -> Result<sb_domain::CaseEvent> {
        Ok(sb_domain::CaseEvent {
            seq: self.seq,
            kind: self.kind,
            actor: self.actor,
            at: Timestamp(self.at),
            data: serde_json::from_str(&self.data)
                .map_err(|e| corrupt("case event", &e.to_string()))?,
        })
    }
}

impl CaseRow {
    pub fn into_domain(self) -> Result<Case> {
        Ok(Case {
            id: CaseId::from_stored(self.id),
            customer_id: CustomerId::from_stored(self.customer_id),
            source: Platform::parse(&self.source).ok_or_else(|| corrupt("source", &self.source))?,
            channel: self.channel,
            status: CaseStatus::parse(&self.status)
                .ok_or_else(|| corrupt("status", &self.status))?,
            priority: CasePriority::parse(&self.priority)
                .ok_or_else(|| corrupt("priority", &self.priority))?,
            queue_id: self.queue_id.map(QueueId::from_stored),
            assignee: self.assignee,
            tags: serde_json::from_str(&self.tags).map_err(|e| corrupt("tags", &e.to_string()))?,
            subject: self.subject,
            language: self.language,
            region: self.region,
            message_count: self.message_count,
            last_sentiment: self.last_sentiment,
            opened_at: Timestamp(self.opened_at),
            updated_at: Timestamp(self.updated_at),
            last_message_at: Timestamp(self.last_message_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct QueueRow {
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

impl QueueRow {
    pub fn into_domain(self) -> Queue {
        Queue {
            id: QueueId::from_stored(self.id),
            name: self.name,
            is_default: self.is_default,
        }
    }
}

/// A customer as the pipeline finds them by identity key: key, id, tier, region, language.
pub type CustomerOfKey = (String, String, String, Option<String>, Option<String>);

#[derive(sqlx::FromRow)]
pub struct CustomerRow {
    pub id: String,
    pub display_name: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub tier: String,
    pub lifetime_value: f64,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub struct IdentityRow {
    pub platform: String,
    pub handle: String,
}

impl CustomerRow {
    pub fn into_domain(self, identities: Vec<IdentityRow>) -> Result<Customer> {
        Ok(Customer {
            id: CustomerId::from_stored(self.id),
            display_name: self.display_name,
            region: self.region,
            language: self.language,
            tier: Tier::parse(&self.tier).ok_or_else(|| corrupt("tier", &self.tier))?,
            lifetime_value: self.lifetime_value,
            created_at: Timestamp(self.created_at),
            identities: identities
                .into_iter()
                .filter_map(|i| {
                    Some(Identity {
                        platform: Platform::parse(&i.platform)?,
                        handle: i.handle,
                    })
                })
                .collect(),
        })
    }
}

/// Conditions of a list query, each with its text argument (`$1`, `$2`, … in order).
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<String>,
}

impl Where {
    /// `col = $n` when a value is given.
    fn eq(&mut self, col: &str, value: Option<String>) {
        if let Some(v) = value {
            self.cond(v, |n| format!("{col} = ${n}"));
        }
    }

    /// A condition on one argument, written by `sql` from the argument's number.
    fn cond(&mut self, value: String, sql: impl FnOnce(usize) -> String) {
        self.args.push(value);
        self.clauses.push(sql(self.args.len()));
    }

    fn finish(self) -> (String, Vec<String>) {
        if self.clauses.is_empty() {
            (String::new(), self.args)
        } else {
            (format!("WHERE {}", self.clauses.join(" AND ")), self.args)
        }
    }
}

/// The `WHERE` clause of a message list and its text arguments (`$1`, `$2`, …); the limit
/// is the next parameter.
pub fn message_filter_sql(filter: &MessageFilter, page: &Page) -> (String, Vec<String>) {
    let mut w = Where::default();
    w.eq("source", filter.source.map(|s| s.as_str().to_owned()));
    w.eq("stage", filter.stage.clone());
    w.eq("language", filter.language.clone());
    w.eq(
        "sentiment_label",
        filter.sentiment.map(|s| s.as_str().to_owned()),
    );
    w.eq("intent", filter.intent.clone());
    w.eq("urgency", filter.urgency.clone());
    if let Some(b) = &page.before {
        // An id not in the store leaves nothing before it.
        w.cond(b.clone(), |n| {
            format!("seq < COALESCE((SELECT seq FROM messages WHERE id = ${n}), 0)")
        });
    }
    w.finish()
}

/// The `WHERE` clause of a case list and its text arguments (`$1`, `$2`, …); the limit is
/// the next parameter.
pub fn case_filter_sql(filter: &CaseFilter, page: &Page) -> (String, Vec<String>) {
    let mut w = Where::default();
    w.eq("status", filter.status.map(|s| s.as_str().to_owned()));
    w.eq(
        "queue_id",
        filter.queue_id.as_ref().map(|q| q.as_str().to_owned()),
    );
    w.eq("priority", filter.priority.map(|p| p.as_str().to_owned()));
    w.eq(
        "customer_id",
        filter.customer_id.as_ref().map(|c| c.as_str().to_owned()),
    );
    w.eq("assignee", filter.assignee.clone());
    w.eq("source", filter.source.map(|s| s.as_str().to_owned()));
    w.eq("language", filter.language.clone());
    if let Some(i) = &filter.intent {
        w.cond(i.clone(), |n| {
            format!(
                "EXISTS (SELECT 1 FROM messages m WHERE m.case_id = cases.id AND m.intent = ${n})"
            )
        });
    }
    if let Some(b) = &page.before {
        w.cond(b.clone(), |n| format!("id < ${n}"));
    }
    w.finish()
}

#[derive(sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub series: String,
    pub kind: String,
    pub score: f64,
    pub bucket_start: i64,
    pub volume: i64,
    pub sentiment_mean: Option<f64>,
    pub raised_at: i64,
    pub rule_id: Option<String>,
    pub severity: Option<String>,
    pub dedup_key: Option<String>,
    pub summary: Option<String>,
    pub resolved_at: Option<i64>,
}

pub const ALERT_COLUMNS: &str = "id, series, kind, score, bucket_start, volume, sentiment_mean, raised_at, \
    rule_id, severity, dedup_key, summary, resolved_at";

impl AlertRow {
    pub fn into_domain(self) -> Result<sb_domain::Alert> {
        Ok(sb_domain::Alert {
            id: sb_domain::AlertId::from_stored(self.id),
            series: self.series,
            kind: sb_domain::AlertKind::parse(&self.kind)
                .ok_or_else(|| corrupt("alert kind", &self.kind))?,
            score: self.score,
            bucket_start: Timestamp(self.bucket_start),
            volume: self.volume,
            sentiment_mean: self.sentiment_mean,
            raised_at: Timestamp(self.raised_at),
            rule_id: self.rule_id,
            severity: self.severity,
            dedup_key: self.dedup_key,
            summary: self.summary,
            resolved_at: self.resolved_at.map(Timestamp),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct RevisionRow {
    pub revision: i32,
    pub kind: String,
    pub previous_text: String,
    pub recorded_at: i64,
}

impl RevisionRow {
    pub fn into_domain(self) -> Result<MessageRevision> {
        Ok(MessageRevision {
            revision: u32::try_from(self.revision).map_err(|_| corrupt("revision", "negative"))?,
            kind: RevisionKind::parse(&self.kind)
                .ok_or_else(|| corrupt("revision kind", &self.kind))?,
            previous_text: self.previous_text,
            recorded_at: Timestamp(self.recorded_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub target: String,
    pub dedup_key: String,
    pub payload: String,
    pub subject: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

pub const OUTBOX_COLUMNS: &str = "id, target, dedup_key, payload, subject, status, attempts, \
    next_attempt_at, last_error, remote_id, created_at, delivered_at";

impl OutboxRow {
    pub fn into_domain(self) -> Result<sb_domain::OutboxItem> {
        Ok(sb_domain::OutboxItem {
            id: sb_domain::OutboxId::from_stored(self.id),
            target: self.target,
            dedup_key: self.dedup_key,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| corrupt("outbox payload", &e.to_string()))?,
            subject: self.subject,
            status: sb_domain::OutboxStatus::parse(&self.status)
                .ok_or_else(|| corrupt("outbox status", &self.status))?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            next_attempt_at: Timestamp(self.next_attempt_at),
            last_error: self.last_error,
            remote_id: self.remote_id,
            created_at: Timestamp(self.created_at),
            delivered_at: self.delivered_at.map(Timestamp),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AttemptRow {
    pub attempt: i32,
    pub at: i64,
    pub outcome: String,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl AttemptRow {
    pub fn into_domain(self) -> sb_domain::DeliveryAttempt {
        sb_domain::DeliveryAttempt {
            attempt: u32::try_from(self.attempt).unwrap_or(0),
            at: Timestamp(self.at),
            outcome: self.outcome,
            status_code: self.status_code.and_then(|c| u16::try_from(c).ok()),
            error: self.error,
            duration_ms: u64::try_from(self.duration_ms).unwrap_or(0),
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct TargetRow {
    pub target: String,
    pub status: String,
    pub since: i64,
    pub reason: Option<String>,
}

impl TargetRow {
    pub fn into_domain(self) -> sb_domain::TargetState {
        sb_domain::TargetState {
            target: self.target,
            status: self.status,
            since: Timestamp(self.since),
            reason: self.reason,
        }
    }
}

/// The SQL both back ends share for the outbox; `{lock}` is `FOR UPDATE SKIP LOCKED` where
/// the database has it. A claim hands out, per target and subject, only the oldest pending
/// item, so items about one case, alert or incident leave in the order they were queued.
pub mod outbox_sql {
    /// `$7` names the region whose partition holds the payload (or is NULL).
    pub const INSERT: &str = "INSERT INTO outbox (id, target, dedup_key, payload, subject, status, \
        attempts, next_attempt_at, created_at, placed_in) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $7) \
        ON CONFLICT (dedup_key) DO NOTHING";
    pub const ID_BY_KEY: &str = "SELECT id FROM outbox WHERE dedup_key = $1";
    /// Leases due deliveries, returning `columns` (`OUTBOX_COLUMNS`, or the same with the
    /// payload read from wherever it is held).
    pub fn claim(lock: &str, columns: &str) -> String {
        format!(
            "UPDATE outbox SET lease_until = $2, attempts = attempts + 1 WHERE id IN ( \
               SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= $1 \
               AND (o.lease_until IS NULL OR o.lease_until <= $1) \
               AND o.target NOT IN (SELECT target FROM outbox_targets WHERE status <> 'active') \
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.subject = o.subject \
                   AND e.target = o.target AND e.status = 'pending' AND e.seq < o.seq) \
               ORDER BY o.next_attempt_at, o.seq LIMIT $3 {lock}) \
             RETURNING {columns}"
        )
    }
    pub const LOG: &str = "INSERT INTO outbox_attempts (outbox_id, attempt, at, outcome, status_code, error, duration_ms) \
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (outbox_id, attempt) DO NOTHING";
    pub const DELIVERED: &str = "UPDATE outbox SET status = 'delivered', lease_until = NULL, delivered_at = $2, \
        remote_id = $3, last_error = NULL WHERE id = $1 AND status = 'pending'";
    pub const RETRY: &str = "UPDATE outbox SET lease_until = NULL, next_attempt_at = $2, last_error = $3 \
        WHERE id = $1 AND status = 'pending'";
    pub const DEAD: &str = "UPDATE outbox SET status = 'dead', lease_until = NULL, last_error = $2 \
        WHERE id = $1 AND status = 'pending'";
    pub const TARGET: &str = "INSERT INTO outbox_targets (target, status, since, reason) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (target) DO UPDATE SET status = excluded.status, since = excluded.since, reason = excluded.reason";
    pub const TARGETS: &str =
        "SELECT target, status, since, reason FROM outbox_targets ORDER BY target";
    pub const BY_SUBJECT_WHERE: &str = "WHERE subject = $1 ORDER BY seq";
    pub const BY_REMOTE_ID_WHERE: &str = "WHERE remote_id = $1 ORDER BY seq";
    pub const STATS: &str = "SELECT o.target, \
        SUM(CASE WHEN o.status = 'pending' THEN 1 ELSE 0 END), \
        SUM(CASE WHEN o.status = 'dead' THEN 1 ELSE 0 END), \
        (SELECT COUNT(*) FROM outbox_attempts a JOIN outbox i ON i.id = a.outbox_id WHERE i.target = o.target AND a.at >= $1), \
        (SELECT COUNT(*) FROM outbox_attempts a JOIN outbox i ON i.id = a.outbox_id WHERE i.target = o.target AND a.at >= $1 AND a.outcome <> 'delivered'), \
        (SELECT MAX(a.at) FROM outbox_attempts a JOIN outbox i ON i.id = a.outbox_id WHERE i.target = o.target) \
        FROM outbox o GROUP BY o.target ORDER BY o.target";
    pub const INBOUND: &str = "SELECT source, MAX(received_at), \
        SUM(CASE WHEN received_at >= $1 THEN 1 ELSE 0 END) FROM messages GROUP BY source ORDER BY source";
    pub const ATTEMPTS: &str = "SELECT attempt, at, outcome, status_code, error, duration_ms FROM outbox_attempts \
        WHERE outbox_id = $1 ORDER BY attempt";
}

/// An open case of a customer in the batch: id, customer, channel, priority,
/// last_message_at, the case's platform, and the platform of its latest message.
pub type OpenCaseRow = (String, String, String, String, i64, String, Option<String>);

/// Adds an open case to the planning context: under its channel, and as the customer's most
/// recent case when it is.
pub fn add_open_case(ctx: &mut sb_domain::case::CaseContext, row: OpenCaseRow) {
    use sb_domain::case::{OpenCase, RecentCase};
    let (id, customer, channel, priority, last, source, last_source) = row;
    let open = OpenCase {
        id: CaseId::from_stored(id),
        priority: CasePriority::parse(&priority).unwrap_or(CasePriority::Normal),
    };
    let customer = CustomerId::from_stored(customer);
    let platform = last_source
        .as_deref()
        .and_then(Platform::parse)
        .or_else(|| Platform::parse(&source));
    if let Some(platform) = platform {
        let newer = ctx
            .recent_cases
            .get(&customer)
            .is_none_or(|r| r.last_message_at.millis() < last);
        if newer {
            ctx.recent_cases.insert(
                customer.clone(),
                RecentCase {
                    case: open.clone(),
                    source: platform,
                    last_message_at: Timestamp(last),
                },
            );
        }
    }
    ctx.open_cases.insert((customer, channel), open);
}

pub fn incident_doc(incident: &sb_domain::Incident) -> Result<String> {
    serde_json::to_string(incident)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode an incident: {e}")))
}

pub fn incident_from(doc: &str) -> Result<sb_domain::Incident> {
    serde_json::from_str(doc).map_err(|e| corrupt("incident", &e.to_string()))
}

pub mod rebuild_sql {
    pub const ENRICHMENT: &str = "UPDATE messages SET language = $2, language_confidence = $3, \
        sentiment_compound = $4, sentiment_label = $5, intent = $6, intent_confidence = $7, \
        urgency = $8, urgency_reasons = $9, emotion = $10, toxicity = $11, data_class = $12, \
        pii = $13, watch = $14, topic = $15 WHERE id = $1 AND stage = 'processed'";
    /// Only cases whose stored figures differ are written.
    pub const CASES: &str = "UPDATE cases SET \
        message_count = (SELECT COUNT(*) FROM messages m WHERE m.case_id = cases.id), \
        last_sentiment = (SELECT m.sentiment_compound FROM messages m WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1), \
        last_message_at = COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.case_id = cases.id), last_message_at) \
        WHERE message_count <> (SELECT COUNT(*) FROM messages m WHERE m.case_id = cases.id) \
        OR last_message_at <> COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.case_id = cases.id), last_message_at) \
        OR last_sentiment IS DISTINCT FROM (SELECT m.sentiment_compound FROM messages m WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1)";
}

pub mod facts_sql {
    /// Inserts, or replaces a fact the source observed earlier (or at the same time).
    pub const UPSERT: &str = "INSERT INTO ops_facts (kind, subject, region, value, source, source_time, received_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, subject, region) DO UPDATE SET \
        value = excluded.value, source = excluded.source, source_time = excluded.source_time, \
        received_at = excluded.received_at WHERE ops_facts.source_time <= excluded.source_time";
    pub const SELECT: &str = "SELECT kind, subject, region, value, source, source_time, received_at \
        FROM ops_facts WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR subject = $2) \
        AND ($3 IS NULL OR region = $3) ORDER BY kind, subject, region";
}

pub type FactRow = (String, String, String, String, String, i64, i64);

pub fn fact_from(row: FactRow) -> Result<sb_domain::OpsFact> {
    let (kind, subject, region, value, source, source_time, received_at) = row;
    Ok(sb_domain::OpsFact {
        kind: sb_domain::FactKind::parse(&kind).ok_or_else(|| corrupt("fact kind", &kind))?,
        subject,
        region,
        value: serde_json::from_str(&value).map_err(|e| corrupt("fact value", &e.to_string()))?,
        source,
        source_time: Timestamp(source_time),
        received_at: Timestamp(received_at),
    })
}

/// The columns of `ReplyRow`, in its order.
pub const REPLY_COLUMNS: &str =
    "id, case_id, author, automated, status, doc, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
pub struct ReplyRow {
    pub id: String,
    pub case_id: String,
    pub author: String,
    pub automated: bool,
    pub status: String,
    pub doc: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl ReplyRow {
    pub fn into_domain(self) -> Result<crate::StoredReply> {
        Ok(crate::StoredReply {
            doc: serde_json::from_str(&self.doc).map_err(|e| corrupt("reply", &e.to_string()))?,
            id: self.id,
            case_id: CaseId::from_stored(self.case_id),
            author: self.author,
            automated: self.automated,
            status: self.status,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            version: self.version,
        })
    }
}
