//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer; queuing in the pool beats spinning on `SQLITE_BUSY`), reads through
//! a small pool that WAL lets run beside the writer. `synchronous=FULL` makes every commit
//! durable on disk before it returns; group commit keeps that affordable.
//!
//! Neither pool pings a connection before handing it out, as a pool of network connections
//! must: an in-process connection cannot have hung up, and the ping would cost one more
//! trip to the connection's thread on every query and every transaction.

mod batch;
mod migrate;

/// Page cache of the one writer, in KiB (SQLite's negative `cache_size`): it stays valid
/// between transactions, so it holds the hot index pages every write touches.
const WRITER_CACHE_SIZE: &str = "-16000";
/// Page cache of each reader, in KiB (SQLite's default).
const READER_CACHE_SIZE: &str = "-2000";

use crate::residency::{Partition, Partitions, partition_tables};
use crate::rows::{
    ALERT_COLUMNS, AlertRow, AttemptRow, CaseRow, CustomerOfKey, CustomerRow, IdentityRow,
    MessageRow, OpenCaseRow, OutboxRow, QueueRow, RevisionRow, TargetRow, outbox_sql,
};
use crate::{
    Appended, CaseFilter, Counts, IdentityLink, InboundStats, MessageFilter, MessageRecord, Page,
    Result, StoreError, TargetStats, unstored_arrivals,
};
use sb_domain::case::{CaseContext, CasePlan, KnownCustomer, OpenCase, PlanMessage};
use sb_domain::{
    AfterAttempt, Alert, AlertId, Case, CaseId, CasePriority, Customer, CustomerId,
    DeliveryAttempt, Identity, Incident, IncidentId, Message, MessageId, MessageRevision,
    NewOutboxItem, OutboxId, OutboxItem, OutboxStatus, Platform, Queue, Revised, Revision,
    TargetState, Tier, Timestamp,
};
use sb_domain::{Enrichment, FactKind, OpsFact};
use sqlx::sqlite::SqliteConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    partitions: Partitions,
}

/// A case is open unless resolved or closed. Written exactly as the `cases_customer_open`
/// index's condition, so that SQLite can use that partial index.
const OPEN_CASE_SQL: &str = "status NOT IN ('resolved', 'closed')";
/// Cases a new message can still join: open ones, and resolved ones (the message reopens
/// them) until they close. Written exactly as the `cases_customer_threadable` index's condition.
const THREADABLE_CASE_SQL: &str = "status <> 'closed'";

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_partitioned(path, &[]).await
    }

    /// As `open`, with a file of its own for each region's message content (G5), attached
    /// to every connection as `region_<name>`.
    pub async fn open_partitioned(path: &Path, partitions: &[Partition]) -> Result<Self> {
        let io = |e| StoreError::Database(sqlx::Error::Io(e));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let names = Partitions::new(partitions, "")?;
        let mut files: Vec<(String, std::path::PathBuf)> = Vec::with_capacity(partitions.len());
        for p in partitions {
            let file = p.sqlite_file(path);
            if let Some(d) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(d).map_err(io)?;
            }
            let schema = names.schema(&p.region).unwrap_or_default().to_owned();
            files.push((schema, file));
        }
        let files: std::sync::Arc<[(String, std::path::PathBuf)]> = files.into();
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", WRITER_CACHE_SIZE)
            .pragma("temp_store", "memory")
            // Deleted and overwritten content is zeroed, so erased personal data does not
            // linger in free pages.
            .pragma("secure_delete", "on");
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .after_connect({
                let files = files.clone();
                move |conn, _| {
                    let files = files.clone();
                    Box::pin(async move { attach(conn, &files, true).await })
                }
            })
            .connect_with(
                opts.clone()
                    .statement_cache_capacity(batch::WRITER_STATEMENT_CACHE),
            )
            .await?;
        migrate::run(&writer).await?;
        for schema in names.schemas() {
            for sql in partition_tables(schema) {
                sqlx::query(AssertSqlSafe(sql)).execute(&writer).await?;
            }
        }
        let placed: Vec<String> = sqlx::query_scalar("SELECT region FROM placed_regions")
            .fetch_all(&writer)
            .await?;
        names.check_placed(&placed)?;
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(4)
            .after_connect(move |conn, _| {
                let files = files.clone();
                Box::pin(async move { attach(conn, &files, false).await })
            })
            // A reader's page cache is dropped whenever the writer commits, so under load
            // it seldom outlives a few queries: a small one costs little speed and keeps
            // memory flat.
            .connect_with(opts.read_only(true).pragma("cache_size", READER_CACHE_SIZE))
            .await?;
        let mut store = Self {
            writer,
            reader,
            partitions: names,
        };
        store.check_partitions_hold_shared().await?;
        let secrets = store.partition_secrets_shared().await?;
        store.partitions = store.partitions.with_secrets(secrets);
        store.repair_created().await?;
        Ok(store)
    }

    /// Rewrites the files (the main one and each region's) without free pages and empties
    /// their write-ahead logs, so nothing an erasure removed survives in either.
    async fn compact_files(&self) -> Result<()> {
        for schema in std::iter::once("main").chain(self.partitions.schemas()) {
            self.checkpoint_truncate(schema).await?;
            sqlx::query(AssertSqlSafe(format!("VACUUM {schema}")))
                .execute(&self.writer)
                .await?;
            self.checkpoint_truncate(schema).await?;
        }
        Ok(())
    }

    /// Copies the write-ahead log of `schema` into its file and empties it. A reader in the
    /// middle of a query can hold the log back; each try waits out the busy timeout, and after
    /// three the checkpoint is reported as failed rather than claimed.
    async fn checkpoint_truncate(&self, schema: &str) -> Result<()> {
        for attempt in 0..3u64 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as(AssertSqlSafe(format!(
                "PRAGMA {schema}.wal_checkpoint(TRUNCATE)"
            )))
            .fetch_one(&self.writer)
            .await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50 * (attempt + 1).min(10))).await;
        }
        Err(StoreError::Incomplete(
            "the write-ahead log could not be emptied: a reader held it throughout".into(),
        ))
    }

    async fn messages_where(&self, clause: &str, ids: &[&str]) -> Result<Vec<Message>> {
        let cols = self.partitions.message_columns();
        let sql = format!("SELECT {cols} FROM messages WHERE {clause} ORDER BY seq");
        let mut q = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.reader).await?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }
}

/// Attaches each region's file to a new connection under its schema name. The writer also
/// puts the file in WAL mode with full sync and secure delete, as the main file is.
async fn attach(
    conn: &mut SqliteConnection,
    files: &[(String, std::path::PathBuf)],
    writer: bool,
) -> std::result::Result<(), sqlx::Error> {
    for (schema, file) in files {
        sqlx::query(AssertSqlSafe(format!("ATTACH DATABASE $1 AS {schema}")))
            .bind(file.to_string_lossy().into_owned())
            .execute(&mut *conn)
            .await?;
        if writer {
            for pragma in [
                "journal_mode = WAL",
                "synchronous = FULL",
                "secure_delete = ON",
            ] {
                sqlx::query(AssertSqlSafe(format!("PRAGMA {schema}.{pragma}")))
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// How long a connection waits for a lock another holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(serde::Serialize)]
struct SourceKey<'a> {
    source: &'static str,
    external_id: &'a str,
}

fn encode_error(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("cannot encode a batch: {e}"))
}

// The methods of `Store` that differ between the back ends; `store_impl!` adds the others.
crate::shared::store_impl!(SqliteStore, {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn append_messages(&self, batch: &[MessageRecord]) -> Result<Vec<Appended>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // Content held in a region's partition is written there, and committed, first (G5).
        let held = self.arrival_regions(batch).await?;
        if held.iter().any(Option::is_some) {
            let mut tx = self.writer.begin().await?;
            self.hold_arrivals(&mut tx, batch, &held).await?;
            tx.commit().await?;
        }
        let mut tx = self.writer.begin().await?;
        let inserted = batch::insert_messages(&mut tx, batch, &held).await?;
        // Whatever was not inserted is a redelivery of a stored message (or of one earlier in
        // this batch): answer with the stored id.
        let missing: Vec<usize> = (0..batch.len())
            .filter(|&i| !inserted.contains(batch[i].id.as_str()))
            .collect();
        let mut existing: HashMap<usize, String> = HashMap::new();
        if !missing.is_empty() {
            let keys: Vec<SourceKey<'_>> = missing
                .iter()
                .map(|&i| SourceKey {
                    source: batch[i].message.source.as_str(),
                    external_id: &batch[i].message.external_id,
                })
                .collect();
            let keys = serde_json::to_string(&keys).map_err(encode_error)?;
            let found: Vec<(i64, String)> = sqlx::query_as(
                "SELECT j.key, m.id FROM json_each($1) j JOIN messages m \
                 ON m.source = j.value->>'source' AND m.external_id = j.value->>'external_id'",
            )
            .bind(keys)
            .fetch_all(&mut *tx)
            .await?;
            for (k, id) in found {
                if let Some(&i) = usize::try_from(k).ok().and_then(|k| missing.get(k)) {
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
        // A crash before the partition's part of this commit leaves a stray, dropped later.
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
                .fetch_optional(&self.reader)
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
        .fetch_all(&self.reader)
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
        let keys = serde_json::to_string(&keys).map_err(encode_error)?;
        let customers: Vec<CustomerOfKey> = sqlx::query_as(
            "SELECT i.key, c.id, c.tier, c.region, c.language FROM identities i \
             JOIN customers c ON c.id = i.customer_id \
             WHERE i.key IN (SELECT value FROM json_each($1))",
        )
        .bind(keys)
        .fetch_all(&self.reader)
        .await?;
        let mut customer_ids = Vec::with_capacity(customers.len());
        for (key, id, tier, region, language) in customers {
            let key = plain.get(&key).cloned().unwrap_or(key);
            let tier = Tier::parse(&tier).unwrap_or(Tier::Standard);
            let id = CustomerId::from_stored(id);
            customer_ids.push(id.to_string());
            ctx.customers.insert(
                key,
                KnownCustomer {
                    id,
                    tier,
                    region,
                    language,
                },
            );
        }
        if !customer_ids.is_empty() {
            let ids = serde_json::to_string(&customer_ids).map_err(encode_error)?;
            let open: Vec<OpenCaseRow> =
                sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT id, customer_id, channel, priority, last_message_at, source, \
                     (SELECT m.source FROM messages m WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1) \
                     FROM cases \
                     WHERE customer_id IN (SELECT value FROM json_each($1)) \
                     AND {THREADABLE_CASE_SQL} ORDER BY opened_at, id"
                )))
                .bind(ids)
                .fetch_all(&self.reader)
                .await?;
            for row in open {
                crate::rows::add_open_case(&mut ctx, row);
            }
        }
        #[derive(serde::Serialize)]
        struct Parent<'a> {
            key: String,
            source: &'static str,
            external_id: &'a str,
        }
        let mut parents: Vec<Parent<'_>> = Vec::new();
        for m in batch {
            if let (Some(parent), Some(key)) = (&m.in_reply_to, m.reply_key())
                && !parents.iter().any(|p| p.key == key)
            {
                parents.push(Parent {
                    key,
                    source: m.source.as_str(),
                    external_id: parent,
                });
            }
        }
        if !parents.is_empty() {
            let parents = serde_json::to_string(&parents).map_err(encode_error)?;
            let found: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT j.value->>'key', c.id, c.priority FROM json_each($1) j \
                 CROSS JOIN messages m ON m.source = j.value->>'source' AND m.external_id = j.value->>'external_id' \
                 CROSS JOIN cases c ON c.id = m.case_id WHERE c.{THREADABLE_CASE_SQL}"
            )))
            .bind(parents)
            .fetch_all(&self.reader)
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
        // Pipeline effects are derived from the message log: if a crash loses this commit, the
        // messages are still `received` and the sweep redoes it. So it skips the fsync that an
        // ingest commit pays; the next ingest commit syncs the WAL, these frames included.
        // The same holds for what the plan writes into a region's partition: a start
        // re-derives from the messages what such a crash lost there (`repair_created`).
        let mut conn = self.writer.acquire().await?;
        let files: Vec<&str> = std::iter::once("main")
            .chain(self.partitions.schemas())
            .collect();
        for file in &files {
            sqlx::query(AssertSqlSafe(format!("PRAGMA {file}.synchronous = NORMAL")))
                .execute(&mut *conn)
                .await?;
        }
        let result = self.apply_plan(&mut conn, plan, now).await;
        for file in &files {
            if sqlx::query(AssertSqlSafe(format!("PRAGMA {file}.synchronous = FULL")))
                .execute(&mut *conn)
                .await
                .is_err()
            {
                // Never hand a connection that skips fsync to an ingest commit.
                conn.close_on_drop();
                break;
            }
        }
        result
    }

    async fn default_queue(&self) -> Result<Queue> {
        let row: QueueRow = sqlx::query_as(
            "SELECT id, name, is_default FROM queues WHERE is_default = 1 ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::Corrupt("no default queue".into()))?;
        Ok(row.into_domain())
    }

    async fn empty_central_log(&self) -> Result<bool> {
        if self.partitions.is_empty() {
            return Ok(false);
        }
        // The writer's one connection, so no write comes between the three statements; the
        // checkpoint gives up at once where a reader holds the log, instead of waiting.
        let mut conn = self.writer.acquire().await?;
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut *conn)
            .await?;
        let checkpoint: std::result::Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA main.wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await;
        sqlx::query(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            BUSY_TIMEOUT.as_millis()
        )))
        .execute(&mut *conn)
        .await?;
        Ok(checkpoint?.0 == 0)
    }

    async fn message(&self, id: &MessageId) -> Result<Option<Message>> {
        Ok(self.messages_where("id = $1", &[id.as_str()]).await?.pop())
    }

    async fn case_messages(&self, id: &CaseId) -> Result<Vec<Message>> {
        self.messages_where("case_id = $1", &[id.as_str()]).await
    }

    async fn save_case_works(
        &self,
        changes: &[sb_domain::CaseChange],
    ) -> Result<Vec<crate::CaseSave>> {
        // One writer: a batch in one transaction makes no one else wait on its locks.
        self.save_case_works_shared(changes, true).await
    }

    async fn agent_loads(&self) -> Result<Vec<(String, i64)>> {
        self.agent_loads_shared("cases INDEXED BY cases_assignee_open")
            .await
    }
});

impl SqliteStore {
    async fn apply_plan(
        &self,
        conn: &mut SqliteConnection,
        plan: &CasePlan,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = conn.begin().await?;
        // Another worker may have processed some of these messages, or created one of these
        // customers (and perhaps placed their identity), since the plan was made: then nothing
        // of it is kept.
        let placed = batch::place_messages(&mut tx, &plan.placements, now).await?;
        if placed != plan.placements.len() as u64 {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        let linked = batch::insert_customers(&mut tx, &plan.new_customers).await?;
        let keys: Vec<&str> = plan
            .new_customers
            .iter()
            .map(|c| c.identity_key.as_str())
            .collect();
        if linked != plan.new_customers.len() as u64
            || self.pseudonyms_taken(&mut tx, &keys).await?
        {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        self.give_what_was_unknown(&mut tx, plan).await?;
        batch::insert_cases(&mut tx, plan, now).await?;
        batch::touch_cases(&mut tx, &plan.touches, now).await?;
        batch::insert_case_work(&mut tx, &plan.placements).await?;
        self.place_created(&mut tx, plan).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl SqliteStore {
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
        let ids = serde_json::to_string(&ids).map_err(encode_error)?;
        let cols = self.partitions.message_columns();
        let at_stage = if stage.is_some() {
            "stage = $2 AND "
        } else {
            ""
        };
        let sql = format!(
            "SELECT {cols} FROM messages \
             WHERE {at_stage}id IN (SELECT value FROM json_each($1)) ORDER BY seq"
        );
        let mut q = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql)).bind(ids);
        if let Some(stage) = stage {
            q = q.bind(stage);
        }
        let rows = q.fetch_all(&self.reader).await?;
        rows.into_iter().map(MessageRow::into_domain).collect()
    }

    /// A JSON array of ids bound as text, as rows of one column.
    /// Rows `[owner, key, full, blank, full, blank]` of the JSON array `$1`, as `w, k, o0, b0,
    /// o1, b1` (a missing entry is NULL).
    const ROWS_FROM_JSON: &str = "SELECT json_extract(value, '$[0]') AS w, \
        json_extract(value, '$[1]') AS k, json_extract(value, '$[2]') AS o0, \
        json_extract(value, '$[3]') AS b0, json_extract(value, '$[4]') AS o1, \
        json_extract(value, '$[5]') AS b1 FROM json_each($1)";
    const IDS_FROM_JSON: &str = "SELECT value FROM json_each($1)";

    crate::shared::shared_store_methods!(writer, reader, "", "");
    crate::workflow::workflow_store_methods!(writer, reader, "");
}

crate::governance::governance_store_impl!(SqliteStore, writer, reader, "", sqlx::Sqlite);
crate::templates::template_store_impl!(SqliteStore, writer, reader);
crate::board::board_store_impl!(SqliteStore, reader);
crate::feedback::feedback_store_impl!(SqliteStore, writer, reader);
crate::disruptions::disruption_store_impl!(SqliteStore, writer, reader);
crate::silences::silence_store_impl!(SqliteStore, writer, reader);
crate::views::view_store_impl!(SqliteStore, writer, reader);
crate::watchterms::watch_term_store_impl!(SqliteStore, writer, reader);
crate::labels::label_store_impl!(SqliteStore, writer, reader);
crate::settings::settings_store_impl!(SqliteStore, writer, reader);
crate::leases::lease_store_impl!(SqliteStore, writer);
crate::merges::merge_store_impl!(SqliteStore, writer, reader, "", sqlx::Sqlite);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use sb_domain::CaseStatus;

    /// Pipeline commits skip the fsync; ingest commits must not, so the writer goes back to
    /// FULL after every plan, applied or stale.
    #[tokio::test]
    async fn the_writer_is_back_to_full_sync_after_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        let sync = || async {
            sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                .fetch_one(&store.writer)
                .await
                .unwrap()
        };
        assert_eq!(sync().await, 2);
        store
            .apply_case_plan(&CasePlan::default(), Timestamp(1))
            .await
            .unwrap();
        assert_eq!(sync().await, 2);
        // A stale plan (placing a message that does not exist) fails and still restores it.
        let stale = CasePlan {
            placements: vec![sb_domain::case::MessagePlacement {
                message_id: MessageId::generate(),
                enrichment: sb_domain::Enrichment {
                    language: "en".into(),
                    language_confidence: 1.0,
                    sentiment_compound: 0.0,
                    sentiment_label: sb_domain::SentimentLabel::Neutral,
                    ..sb_domain::Enrichment::default()
                },
                customer_id: CustomerId::generate(),
                case_id: CaseId::generate(),
                at: Timestamp(1),
                opened: true,
            }],
            ..CasePlan::default()
        };
        assert!(matches!(
            store.apply_case_plan(&stale, Timestamp(1)).await,
            Err(StoreError::Stale)
        ));
        assert_eq!(sync().await, 2);
    }

    #[test]
    fn the_open_case_condition_matches_the_domain() {
        for status in [
            CaseStatus::New,
            CaseStatus::Open,
            CaseStatus::Pending,
            CaseStatus::OnHold,
            CaseStatus::Escalated,
            CaseStatus::Resolved,
            CaseStatus::Closed,
        ] {
            let excluded = OPEN_CASE_SQL.contains(&format!("'{}'", status.as_str()));
            assert_eq!(status.is_open(), !excluded, "{status:?}");
        }
    }
}
crate::reports::report_store_impl!(SqliteStore, writer, reader, false);
