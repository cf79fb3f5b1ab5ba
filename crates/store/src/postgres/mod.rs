//! The scaled-out store: PostgreSQL, shared by any number of `serve` and `worker` processes.
//! Batches travel as column arrays and are unpacked with `UNNEST`, so each step is a few
//! statements whatever its size. Concurrency is settled by the database: a placement only
//! succeeds on a message still `received`, and an identity key is unique, so a worker that
//! lost a race gets `Stale` and plans again.

mod migrate;

use crate::residency::{Partition, Partitions, partition_tables};
use crate::rows::{
    ALERT_COLUMNS, AlertRow, AttemptRow, CaseRow, CustomerRow, IdentityRow, MessageRow,
    OpenCaseRow, OutboxRow, QueueRow, RevisionRow, TargetRow, json_text, outbox_sql,
};
use crate::{
    Appended, CaseFilter, Counts, IdentityLink, InboundStats, MessageFilter, MessageRecord, Page,
    Result, StoreError, TargetStats, unstored_arrivals,
};
use sb_domain::case::{CaseContext, CasePlan, CaseTouch, KnownCustomer, OpenCase, PlanMessage};
use sb_domain::{
    AfterAttempt, Alert, AlertId, Case, CaseId, CasePriority, Customer, CustomerId,
    DeliveryAttempt, Identity, Incident, IncidentId, Message, MessageId, MessageRevision,
    NewOutboxItem, OutboxId, OutboxItem, OutboxStatus, Platform, Queue, Revised, Revision,
    TargetState, Tier, Timestamp,
};
use sb_domain::{Enrichment, FactKind, OpsFact};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

/// Written exactly as the `cases_customer_open` index's condition.
const OPEN_CASE_SQL: &str = "status NOT IN ('resolved', 'closed')";
/// Cases a new message can still join: open ones, and resolved ones (the message reopens
/// them) until they close. Written exactly as the `cases_customer_threadable` index's condition.
const THREADABLE_CASE_SQL: &str = "status <> 'closed'";

pub struct PgStore {
    pool: PgPool,
    partitions: Partitions,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date. Several processes
    /// may start at once: migrations run under an advisory lock.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_partitioned(url, &[]).await
    }

    /// As `open`, with a schema of its own, `region_<name>`, for each region's message
    /// content (G5).
    pub async fn open_partitioned(url: &str, partitions: &[Partition]) -> Result<Self> {
        let names = Partitions::new(partitions, "")?;
        Self::open_with(PgConnectOptions::from_str(url)?, names).await
    }

    /// As `open`, with every table in `schema` (created if missing). Lets several
    /// installations, or test runs, share one database.
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<Self> {
        Self::open_in_schema_partitioned(url, schema, &[]).await
    }

    /// As `open_in_schema`, with region partitions named `<schema>_region_<name>`.
    pub async fn open_in_schema_partitioned(
        url: &str,
        schema: &str,
        partitions: &[Partition],
    ) -> Result<Self> {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(StoreError::UnsupportedUrl(format!(
                "schema `{schema}`: use lowercase letters, digits and _"
            )));
        }
        let opts = PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        // `IF NOT EXISTS` alone races between processes starting together.
        let mut tx = admin.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(migrate::LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        admin.close().await;
        let names = Partitions::new(partitions, &format!("{schema}_"))?;
        Self::open_with(opts.options([("search_path", schema)]), names).await
    }

    async fn open_with(opts: PgConnectOptions, partitions: Partitions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        migrate::run(&pool).await?;
        if !partitions.is_empty() {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(migrate::LOCK_KEY)
                .execute(&mut *tx)
                .await?;
            for schema in partitions.schemas() {
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}"
                )))
                .execute(&mut *tx)
                .await?;
                for sql in partition_tables(schema) {
                    sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        }
        let placed: Vec<String> = sqlx::query_scalar("SELECT region FROM placed_regions")
            .fetch_all(&pool)
            .await?;
        partitions.check_placed(&placed)?;
        let mut store = Self { pool, partitions };
        store.check_partitions_hold_shared().await?;
        let secrets = store.partition_secrets_shared().await?;
        store.partitions = store.partitions.with_secrets(secrets);
        store.repair_created().await?;
        Ok(store)
    }

    async fn messages_where(&self, clause: &str, arg: &str) -> Result<Vec<Message>> {
        let cols = self.partitions.message_columns();
        let sql = format!("SELECT {cols} FROM messages WHERE {clause} ORDER BY seq");
        let rows: Vec<MessageRow> = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql))
            .bind(arg)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }
}

/// Several messages of one batch may touch the same case; each case is updated once, with
/// the same result as applying the touches in order.
struct FoldedTouches {
    ids: Vec<String>,
    n: Vec<i64>,
    at: Vec<i64>,
    priority: Vec<&'static str>,
    sentiment: Vec<f64>,
}

fn fold_touches(touches: &[CaseTouch]) -> FoldedTouches {
    let mut f = FoldedTouches {
        ids: Vec::new(),
        n: Vec::new(),
        at: Vec::new(),
        priority: Vec::new(),
        sentiment: Vec::new(),
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    for t in touches {
        let at = t.at.millis();
        if let Some(&i) = index.get(t.case_id.as_str()) {
            f.n[i] += 1;
            f.at[i] = f.at[i].max(at);
            f.priority[i] = t.priority.as_str();
            f.sentiment[i] = t.sentiment;
        } else {
            index.insert(t.case_id.as_str(), f.ids.len());
            f.ids.push(t.case_id.to_string());
            f.n.push(1);
            f.at.push(at);
            f.priority.push(t.priority.as_str());
            f.sentiment.push(t.sentiment);
        }
    }
    f
}

// The methods of `Store` that differ between the back ends; `store_impl!` adds the others.
crate::shared::store_impl!(PgStore, {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn append_messages(&self, batch: &[MessageRecord]) -> Result<Vec<Appended>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let col = |f: &dyn Fn(&MessageRecord) -> String| batch.iter().map(f).collect::<Vec<_>>();
        let opt =
            |f: &dyn Fn(&MessageRecord) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
        // Content held in a region's partition is written there (G5), in the same
        // transaction; its central row is stored without it.
        let held = self.arrival_regions(batch).await?;
        let mut tx = self.pool.begin().await?;
        if held.iter().any(Option::is_some) {
            self.hold_arrivals(&mut tx, batch, &held).await?;
        }
        let unless_held = |f: &dyn Fn(&MessageRecord) -> Option<String>, blank: Option<&str>| {
            batch
                .iter()
                .zip(&held)
                .map(|(r, h)| match h {
                    Some(_) => blank.map(str::to_owned),
                    None => f(r),
                })
                .collect::<Vec<_>>()
        };
        let inserted: HashSet<String> = sqlx::query_scalar(
            "INSERT INTO messages (id, source, external_id, channel, kind, visibility, author_handle, \
             author_name, author_followers, author_verified, text, created_at, received_at, region, \
             in_reply_to, metrics, raw, placed_in) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::bigint[], $10::boolean[], $11::text[], \
             $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::text[], $17::text[], \
             $18::text[]) \
             ON CONFLICT (source, external_id) DO NOTHING RETURNING id",
        )
        .bind(col(&|r| r.id.to_string()))
        .bind(col(&|r| r.message.source.as_str().to_owned()))
        .bind(col(&|r| r.message.external_id.clone()))
        .bind(col(&|r| r.message.channel.clone()))
        .bind(col(&|r| r.message.kind.as_str().to_owned()))
        .bind(col(&|r| r.message.visibility.as_str().to_owned()))
        .bind(unless_held(&|r| Some(r.message.author.handle.clone()), Some("")))
        .bind(unless_held(&|r| r.message.author.name.clone(), None))
        .bind(
            batch
                .iter()
                .map(|r| {
                    r.message
                        .author
                        .followers
                        .and_then(|f| i64::try_from(f).ok())
                })
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|r| r.message.author.verified)
                .collect::<Vec<_>>(),
        )
        .bind(unless_held(&|r| Some(r.message.text.clone()), Some("")))
        .bind(
            batch
                .iter()
                .map(|r| r.message.created_at.unwrap_or(r.received_at).millis())
                .collect::<Vec<_>>(),
        )
        .bind(
            batch
                .iter()
                .map(|r| r.received_at.millis())
                .collect::<Vec<_>>(),
        )
        .bind(opt(&|r| r.message.region.clone()))
        .bind(opt(&|r| r.message.in_reply_to.clone()))
        .bind(col(&|r| r.message.metrics.to_string()))
        .bind(unless_held(&|r| Some(r.message.raw.to_string()), Some("{}")))
        .bind(&held)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        // Whatever was not inserted is a redelivery of a stored message (or of one earlier in
        // this batch): answer with the stored id.
        let missing: Vec<usize> = (0..batch.len())
            .filter(|&i| !inserted.contains(batch[i].id.as_str()))
            .collect();
        let mut existing: HashMap<usize, String> = HashMap::new();
        if !missing.is_empty() {
            let found: Vec<(i64, String)> = sqlx::query_as(
                "SELECT k.ord, m.id FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS k(source, external_id, ord) \
                 JOIN messages m ON m.source = k.source AND m.external_id = k.external_id",
            )
            .bind(
                missing
                    .iter()
                    .map(|&i| batch[i].message.source.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                missing
                    .iter()
                    .map(|&i| batch[i].message.external_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .fetch_all(&mut *tx)
            .await?;
            for (ord, id) in found {
                if let Some(&i) = usize::try_from(ord - 1).ok().and_then(|k| missing.get(k)) {
                    existing.insert(i, id);
                }
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        for (i, r) in batch.iter().enumerate() {
            if inserted.contains(r.id.as_str()) {
                out.push(Appended {
                    id: r.id.clone(),
                    duplicate: false,
                });
            } else {
                let id = existing.remove(&i).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "message {}:{} was neither stored nor found",
                        r.message.source.as_str(),
                        r.message.external_id
                    ))
                })?;
                out.push(Appended {
                    id: MessageId::from_stored(id),
                    duplicate: true,
                });
            }
        }
        self.drop_unstored_arrivals(&mut tx, &unstored_arrivals(batch, &held, &inserted))
            .await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn unprocessed_messages(
        &self,
        after: Option<&MessageId>,
        received_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MessageId>> {
        let after_seq: i64 = match after {
            None => 0,
            Some(id) => sqlx::query_scalar("SELECT seq FROM messages WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(0),
        };
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE stage = 'received' AND seq > $1 AND received_at < $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(after_seq)
        .bind(received_before.millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(MessageId::from_stored).collect())
    }

    async fn case_context(&self, batch: &[PlanMessage]) -> Result<CaseContext> {
        let mut ctx = CaseContext::default();
        if batch.is_empty() {
            return Ok(ctx);
        }
        let mut keys: Vec<String> = batch.iter().map(PlanMessage::identity_key).collect();
        keys.sort();
        keys.dedup();
        // A placed identity is found under its pseudonym, and known by its plain key.
        let (keys, plain) = self
            .partitions
            .lookup_keys(keys.iter().map(String::as_str))?;
        let customers: Vec<crate::rows::CustomerOfKey> = sqlx::query_as(
            "SELECT i.key, c.id, c.tier, c.region, c.language FROM identities i \
             JOIN customers c ON c.id = i.customer_id WHERE i.key = ANY($1)",
        )
        .bind(keys)
        .fetch_all(&self.pool)
        .await?;
        let mut customer_ids = Vec::with_capacity(customers.len());
        for (key, id, tier, region, language) in customers {
            let key = plain.get(&key).cloned().unwrap_or(key);
            let tier = Tier::parse(&tier).unwrap_or(Tier::Standard);
            customer_ids.push(id.clone());
            ctx.customers.insert(
                key,
                KnownCustomer {
                    id: CustomerId::from_stored(id),
                    tier,
                    region,
                    language,
                },
            );
        }
        if !customer_ids.is_empty() {
            let open: Vec<OpenCaseRow> =
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT id, customer_id, channel, priority, last_message_at, source, \
                     (SELECT m.source FROM messages m WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1) \
                     FROM cases \
                     WHERE customer_id = ANY($1) AND {THREADABLE_CASE_SQL} ORDER BY opened_at, id"
                )))
                .bind(customer_ids)
                .fetch_all(&self.pool)
                .await?;
            for row in open {
                crate::rows::add_open_case(&mut ctx, row);
            }
        }
        let (mut pkeys, mut psources, mut pexts) = (Vec::new(), Vec::new(), Vec::new());
        for m in batch {
            if let (Some(parent), Some(key)) = (&m.in_reply_to, m.reply_key())
                && !pkeys.contains(&key)
            {
                pkeys.push(key);
                psources.push(m.source.as_str());
                pexts.push(parent.as_str());
            }
        }
        if !pkeys.is_empty() {
            let found: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT j.key, c.id, c.priority \
                 FROM UNNEST($1::text[], $2::text[], $3::text[]) AS j(key, source, external_id) \
                 JOIN messages m ON m.source = j.source AND m.external_id = j.external_id \
                 JOIN cases c ON c.id = m.case_id WHERE c.{THREADABLE_CASE_SQL}"
            )))
            .bind(pkeys)
            .bind(psources)
            .bind(pexts)
            .fetch_all(&self.pool)
            .await?;
            for (key, id, priority) in found {
                let priority = CasePriority::parse(&priority).unwrap_or(CasePriority::Normal);
                ctx.reply_cases.insert(
                    key,
                    OpenCase {
                        id: CaseId::from_stored(id),
                        priority,
                    },
                );
            }
        }
        Ok(ctx)
    }

    async fn apply_case_plan(&self, plan: &CasePlan, now: Timestamp) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let p = &plan.placements;
        // A message another worker placed meanwhile is no longer `received`: then nothing of
        // this plan is kept.
        let placed = sqlx::query(
            "UPDATE messages m SET stage = 'processed', language = v.language, \
             language_confidence = v.language_confidence, sentiment_compound = v.sentiment_compound, \
             sentiment_label = v.sentiment_label, customer_id = v.customer_id, case_id = v.case_id, \
             intent = v.intent, intent_confidence = v.intent_confidence, urgency = v.urgency, \
             urgency_reasons = v.urgency_reasons, emotion = v.emotion, toxicity = v.toxicity, \
             data_class = v.data_class, pii = v.pii, watch = v.watch, topic = v.topic, \
             processed_at = $18 \
             FROM UNNEST($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::text[], \
             $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[], $12::text[], \
             $13::float8[], $14::text[], $15::text[], $16::text[], $17::text[]) \
             AS v(id, language, language_confidence, sentiment_compound, sentiment_label, customer_id, \
             case_id, intent, intent_confidence, urgency, urgency_reasons, emotion, toxicity, \
             data_class, pii, watch, topic) \
             WHERE m.id = v.id AND m.stage = 'received'",
        )
        .bind(p.iter().map(|p| p.message_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.language.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.language_confidence).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.sentiment_compound).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.sentiment_label.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.customer_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.case_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.intent.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.intent_confidence).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.urgency.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| json_text(&p.enrichment.urgency_reasons)).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.emotion.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.toxicity).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.data_class.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| json_text(&p.enrichment.pii)).collect::<Vec<_>>())
        .bind(p.iter().map(|p| json_text(&p.enrichment.watch)).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.enrichment.topic.as_deref()).collect::<Vec<_>>())
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        if placed.rows_affected() != p.len() as u64 {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        // What the case workflow owes each placed message, committed with the placement.
        sqlx::query(
            "INSERT INTO case_work (case_id, message_id, opened, at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::bigint[])",
        )
        .bind(p.iter().map(|p| p.case_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.message_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.opened).collect::<Vec<_>>())
        .bind(p.iter().map(|p| p.at.millis()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        let c = &plan.new_customers;
        if !c.is_empty() {
            sqlx::query(
                "INSERT INTO customers (id, display_name, region, language, tier, lifetime_value, created_at) \
                 SELECT id, display_name, region, language, 'standard', 0, created_at \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) \
                 AS v(id, display_name, region, language, created_at)",
            )
            .bind(c.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.display_name.as_deref()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.region.as_deref()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.language.as_deref()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.created_at.millis()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
            let linked = sqlx::query(
                "INSERT INTO identities (key, platform, handle, customer_id, created_at) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(c.iter().map(|c| c.identity_key.as_str()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.platform.as_str()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.handle.as_str()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
            .bind(c.iter().map(|c| c.created_at.millis()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
            let keys: Vec<&str> = c.iter().map(|c| c.identity_key.as_str()).collect();
            if linked.rows_affected() != c.len() as u64
                || self.pseudonyms_taken(&mut tx, &keys).await?
            {
                tx.rollback().await?;
                return Err(StoreError::Stale);
            }
        }
        self.give_what_was_unknown(&mut tx, plan).await?;
        let k = &plan.new_cases;
        if !k.is_empty() {
            // A new case starts with the sentiment of its first message.
            let mut first: HashMap<&str, f64> = HashMap::new();
            for p in p {
                first
                    .entry(p.case_id.as_str())
                    .or_insert(p.enrichment.sentiment_compound);
            }
            sqlx::query(
                "INSERT INTO cases (id, customer_id, source, channel, status, priority, queue_id, \
                 subject, language, region, message_count, last_sentiment, opened_at, updated_at, \
                 last_message_at) \
                 SELECT id, customer_id, source, channel, 'new', priority, queue_id, subject, language, \
                 region, 1, sentiment, opened_at, $12, opened_at \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::text[], $8::text[], $9::text[], $10::float8[], $11::bigint[]) \
                 AS v(id, customer_id, source, channel, priority, queue_id, subject, language, region, \
                 sentiment, opened_at)",
            )
            .bind(k.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.customer_id.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.source.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.channel.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.priority.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.queue_id.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.language.as_deref()).collect::<Vec<_>>())
            .bind(k.iter().map(|c| c.region.as_deref()).collect::<Vec<_>>())
            .bind(
                k.iter()
                    .map(|c| first.get(c.id.as_str()).copied())
                    .collect::<Vec<_>>(),
            )
            .bind(k.iter().map(|c| c.opened_at.millis()).collect::<Vec<_>>())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        }
        if !plan.touches.is_empty() {
            let t = fold_touches(&plan.touches);
            sqlx::query(
                "UPDATE cases c SET message_count = c.message_count + v.n, \
                 last_message_at = GREATEST(c.last_message_at, v.at), updated_at = $6, \
                 priority = v.priority, last_sentiment = v.sentiment \
                 FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::float8[]) \
                 AS v(id, n, at, priority, sentiment) WHERE c.id = v.id",
            )
            .bind(t.ids)
            .bind(t.n)
            .bind(t.at)
            .bind(t.priority)
            .bind(t.sentiment)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        }
        self.place_created(&mut tx, plan).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn default_queue(&self) -> Result<Queue> {
        let row: QueueRow = sqlx::query_as(
            "SELECT id, name, is_default FROM queues WHERE is_default ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::Corrupt("no default queue".into()))?;
        Ok(row.into_domain())
    }

    /// PostgreSQL's log is the server's, shared by every schema: nothing to do here.
    async fn empty_central_log(&self) -> Result<bool> {
        Ok(false)
    }

    async fn message(&self, id: &MessageId) -> Result<Option<Message>> {
        Ok(self.messages_where("id = $1", id.as_str()).await?.pop())
    }

    async fn case_messages(&self, id: &CaseId) -> Result<Vec<Message>> {
        self.messages_where("case_id = $1", id.as_str()).await
    }

    async fn save_case_works(
        &self,
        changes: &[sb_domain::CaseChange],
    ) -> Result<Vec<crate::CaseSave>> {
        // Concurrent writers lock case rows: a transaction holding a batch of them deadlocks
        // with pipeline steps updating the same cases in another order, so each case commits
        // on its own, and PostgreSQL commits several processes' cases concurrently.
        self.save_case_works_shared(changes, false).await
    }

    async fn agent_loads(&self) -> Result<Vec<(String, i64)>> {
        self.agent_loads_shared("cases").await
    }
});

impl PgStore {
    /// The given messages at `stage`, in arrival order.
    /// The given messages, those at `stage` only when one is named, in arrival order.
    async fn messages_at_stage(
        &self,
        ids: &[MessageId],
        stage: Option<&str>,
    ) -> Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
        let cols = self.partitions.message_columns();
        let at_stage = if stage.is_some() {
            "stage = $2 AND "
        } else {
            ""
        };
        let sql = format!("SELECT {cols} FROM messages WHERE {at_stage}id = ANY($1) ORDER BY seq");
        let mut q = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql)).bind(ids);
        if let Some(stage) = stage {
            q = q.bind(stage);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    /// Reclaims the row versions an erasure left behind, so they are not read back from
    /// the table files.
    async fn compact_files(&self) -> Result<()> {
        for table in [
            "messages",
            "message_revisions",
            "identities",
            "customers",
            "cases",
            "case_events",
            "replies",
            "outbox",
            "outbox_attempts",
            "audit_log",
            "identity_suggestions",
            "customer_merges",
            "surveys",
            "survey_answers",
        ] {
            sqlx::query(AssertSqlSafe(format!("VACUUM {table}")))
                .execute(&self.pool)
                .await?;
        }
        for schema in self.partitions.schemas() {
            for table in ["message_content", "message_revisions"] {
                sqlx::query(AssertSqlSafe(format!("VACUUM {schema}.{table}")))
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// A JSON array of ids bound as text, as rows of one column.
    /// Rows `[owner, key, full, blank, full, blank]` of the JSON array `$1`, as `w, k, o0, b0,
    /// o1, b1` (a missing entry is NULL).
    const ROWS_FROM_JSON: &str = "SELECT x->>0 AS w, x->>1 AS k, x->>2 AS o0, x->>3 AS b0, \
        x->>4 AS o1, x->>5 AS b1 FROM jsonb_array_elements($1::jsonb) AS x";
    const IDS_FROM_JSON: &str = "SELECT jsonb_array_elements_text($1::jsonb)";

    crate::shared::shared_store_methods!(pool, pool, "FOR UPDATE SKIP LOCKED", " FOR UPDATE");
    crate::workflow::workflow_store_methods!(pool, pool, "FOR UPDATE SKIP LOCKED");
}

crate::governance::governance_store_impl!(PgStore, pool, pool, " FOR UPDATE", sqlx::Postgres);
crate::templates::template_store_impl!(PgStore, pool, pool);
crate::board::board_store_impl!(PgStore, pool);
crate::feedback::feedback_store_impl!(PgStore, pool, pool);
crate::disruptions::disruption_store_impl!(PgStore, pool, pool);
crate::silences::silence_store_impl!(PgStore, pool, pool);
crate::views::view_store_impl!(PgStore, pool, pool);
crate::watchterms::watch_term_store_impl!(PgStore, pool, pool);
crate::labels::label_store_impl!(PgStore, pool, pool);
crate::settings::settings_store_impl!(PgStore, pool, pool);
crate::leases::lease_store_impl!(PgStore, pool);
crate::merges::merge_store_impl!(PgStore, pool, pool, " FOR UPDATE", sqlx::Postgres);
crate::reports::report_store_impl!(PgStore, pool, pool, true);
