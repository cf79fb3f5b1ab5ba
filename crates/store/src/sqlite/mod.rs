//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer; queuing in the pool beats spinning on `SQLITE_BUSY`), reads through
//! a small pool that WAL lets run beside the writer. `synchronous=FULL` makes every commit
//! durable on disk before it returns; group commit keeps that affordable.

mod migrate;

use crate::rows::{
    CASE_COLUMNS, CaseRow, CustomerRow, IdentityRow, MESSAGE_COLUMNS, MessageRow, QueueRow,
    placeholders,
};
use crate::{
    ApiKey, Appended, CaseFilter, Counts, MessageRecord, Page, Result, Store, StoreError, User,
};
use async_trait::async_trait;
use sb_domain::case::{CaseContext, CasePlan, KnownCustomer, OpenCase, PlanMessage};
use sb_domain::{
    Case, CaseId, CasePriority, CaseStatus, Customer, CustomerId, Identity, Message, MessageId,
    Platform, Queue, Tier, Timestamp,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use std::path::Path;
use std::time::Duration;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

const OPEN_STATES_SQL: &str = "('new', 'open', 'pending', 'on_hold', 'escalated')";

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        migrate::run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    async fn messages_where(&self, clause: &str, ids: &[&str]) -> Result<Vec<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {clause} ORDER BY seq");
        let mut q = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(MessageRow::into_domain)
            .collect()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn append_messages(&self, batch: &[MessageRecord]) -> Result<Vec<Appended>> {
        let mut tx = self.writer.begin().await?;
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            let m = &r.message;
            let inserted: Option<String> = sqlx::query_scalar(
                "INSERT INTO messages (id, source, external_id, channel, kind, visibility, author_handle, \
                 author_name, author_followers, author_verified, text, created_at, received_at, region, \
                 in_reply_to, metrics, raw) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (source, external_id) DO NOTHING RETURNING id",
            )
            .bind(r.id.as_str())
            .bind(m.source.as_str())
            .bind(&m.external_id)
            .bind(&m.channel)
            .bind(m.kind.as_str())
            .bind(m.visibility.as_str())
            .bind(&m.author.handle)
            .bind(m.author.name.as_deref())
            .bind(m.author.followers.and_then(|f| i64::try_from(f).ok()))
            .bind(m.author.verified)
            .bind(&m.text)
            .bind(m.created_at.unwrap_or(r.received_at).millis())
            .bind(r.received_at.millis())
            .bind(m.region.as_deref())
            .bind(m.in_reply_to.as_deref())
            .bind(m.metrics.to_string())
            .bind(m.raw.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                Some(id) => out.push(Appended {
                    id: MessageId::from_stored(id),
                    duplicate: false,
                }),
                None => {
                    let id: String = sqlx::query_scalar(
                        "SELECT id FROM messages WHERE source = $1 AND external_id = $2",
                    )
                    .bind(m.source.as_str())
                    .bind(&m.external_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    out.push(Appended {
                        id: MessageId::from_stored(id),
                        duplicate: true,
                    });
                }
            }
        }
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

    async fn messages_for_processing(&self, ids: &[MessageId]) -> Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
        let clause = format!(
            "stage = 'received' AND id IN ({})",
            placeholders(1, ids.len())
        );
        self.messages_where(&clause, &ids).await
    }

    async fn case_context(&self, batch: &[PlanMessage]) -> Result<CaseContext> {
        let mut ctx = CaseContext::default();
        if batch.is_empty() {
            return Ok(ctx);
        }
        let mut keys: Vec<String> = batch.iter().map(PlanMessage::identity_key).collect();
        keys.sort();
        keys.dedup();
        let sql = format!(
            "SELECT i.key, c.id, c.tier FROM identities i JOIN customers c ON c.id = i.customer_id \
             WHERE i.key IN ({})",
            placeholders(1, keys.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in &keys {
            q = q.bind(k.as_str());
        }
        let mut customer_ids = Vec::new();
        for row in q.fetch_all(&self.reader).await? {
            let key: String = row.try_get(0)?;
            let id: String = row.try_get(1)?;
            let tier: String = row.try_get(2)?;
            customer_ids.push(id.clone());
            let tier = Tier::parse(&tier).unwrap_or(Tier::Standard);
            ctx.customers.insert(
                key,
                KnownCustomer {
                    id: CustomerId::from_stored(id),
                    tier,
                },
            );
        }
        if !customer_ids.is_empty() {
            let sql = format!(
                "SELECT id, customer_id, channel, priority FROM cases \
                 WHERE customer_id IN ({}) AND status IN {OPEN_STATES_SQL} ORDER BY opened_at, id",
                placeholders(1, customer_ids.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for c in &customer_ids {
                q = q.bind(c.as_str());
            }
            for row in q.fetch_all(&self.reader).await? {
                let (id, customer, channel, priority): (String, String, String, String) = (
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                );
                let priority = CasePriority::parse(&priority).unwrap_or(CasePriority::Normal);
                ctx.open_cases.insert(
                    (CustomerId::from_stored(customer), channel),
                    OpenCase {
                        id: CaseId::from_stored(id),
                        priority,
                    },
                );
            }
        }
        for m in batch {
            let (Some(parent), Some(key)) = (&m.in_reply_to, m.reply_key()) else {
                continue;
            };
            if ctx.reply_cases.contains_key(&key) {
                continue;
            }
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT c.id, c.priority FROM messages m JOIN cases c ON c.id = m.case_id \
                 WHERE m.source = $1 AND m.external_id = $2 AND c.status IN {OPEN_STATES_SQL}"
            )))
            .bind(m.source.as_str())
            .bind(parent.as_str())
            .fetch_optional(&self.reader)
            .await?;
            if let Some(row) = row {
                let (id, priority): (String, String) = (row.try_get(0)?, row.try_get(1)?);
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
        let mut tx = self.writer.begin().await?;
        for p in &plan.placements {
            let e = &p.enrichment;
            let done = sqlx::query(
                "UPDATE messages SET stage = 'processed', language = $1, language_confidence = $2, \
                 sentiment_compound = $3, sentiment_label = $4, customer_id = $5, case_id = $6, \
                 processed_at = $7 WHERE id = $8 AND stage = 'received'",
            )
            .bind(&e.language)
            .bind(e.language_confidence)
            .bind(e.sentiment_compound)
            .bind(e.sentiment_label.as_str())
            .bind(p.customer_id.as_str())
            .bind(p.case_id.as_str())
            .bind(now.millis())
            .bind(p.message_id.as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::Stale);
            }
        }
        for c in &plan.new_customers {
            sqlx::query(
                "INSERT INTO customers (id, display_name, region, language, tier, lifetime_value, created_at) \
                 VALUES ($1, $2, $3, $4, 'standard', 0, $5)",
            )
            .bind(c.id.as_str())
            .bind(c.display_name.as_deref())
            .bind(c.region.as_deref())
            .bind(c.language.as_deref())
            .bind(c.created_at.millis())
            .execute(&mut *tx)
            .await?;
            let linked = sqlx::query(
                "INSERT INTO identities (key, platform, handle, customer_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(&c.identity_key)
            .bind(c.platform.as_str())
            .bind(&c.handle)
            .bind(c.id.as_str())
            .bind(c.created_at.millis())
            .execute(&mut *tx)
            .await?;
            if linked.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::Stale);
            }
        }
        for c in &plan.new_cases {
            sqlx::query(
                "INSERT INTO cases (id, customer_id, source, channel, status, priority, queue_id, subject, \
                 language, region, message_count, last_sentiment, opened_at, updated_at, last_message_at) \
                 VALUES ($1, $2, $3, $4, 'new', $5, $6, $7, $8, $9, 1, NULL, $10, $11, $10)",
            )
            .bind(c.id.as_str())
            .bind(c.customer_id.as_str())
            .bind(c.source.as_str())
            .bind(&c.channel)
            .bind(c.priority.as_str())
            .bind(c.queue_id.as_str())
            .bind(&c.subject)
            .bind(c.language.as_deref())
            .bind(c.region.as_deref())
            .bind(c.opened_at.millis())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        }
        // The first message of a new case sets its sentiment too.
        for p in &plan.placements {
            if plan.new_cases.iter().any(|c| c.id == p.case_id) {
                sqlx::query(
                    "UPDATE cases SET last_sentiment = $1 WHERE id = $2 AND last_sentiment IS NULL",
                )
                .bind(p.enrichment.sentiment_compound)
                .bind(p.case_id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        for t in &plan.touches {
            // A customer answering a case that waited on them puts it back in the team's court.
            sqlx::query(
                "UPDATE cases SET message_count = message_count + 1, \
                 last_message_at = MAX(last_message_at, $1), updated_at = $2, priority = $3, \
                 last_sentiment = $4, status = CASE WHEN status = 'pending' THEN 'open' ELSE status END \
                 WHERE id = $5",
            )
            .bind(t.at.millis())
            .bind(now.millis())
            .bind(t.priority.as_str())
            .bind(t.sentiment)
            .bind(t.case_id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
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

    async fn message(&self, id: &MessageId) -> Result<Option<Message>> {
        Ok(self.messages_where("id = $1", &[id.as_str()]).await?.pop())
    }

    async fn case(&self, id: &CaseId) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row: Option<CaseRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.map(CaseRow::into_domain).transpose()
    }

    async fn case_messages(&self, id: &CaseId) -> Result<Vec<Message>> {
        self.messages_where("case_id = $1", &[id.as_str()]).await
    }

    async fn list_cases(&self, filter: &CaseFilter, page: &Page) -> Result<Vec<Case>> {
        let mut clauses = Vec::new();
        let mut args: Vec<String> = Vec::new();
        let mut add = |col: &str, v: String| {
            args.push(v);
            clauses.push(format!("{col} ${}", args.len()));
        };
        if let Some(s) = filter.status {
            add("status =", s.as_str().to_owned());
        }
        if let Some(q) = &filter.queue_id {
            add("queue_id =", q.as_str().to_owned());
        }
        if let Some(p) = filter.priority {
            add("priority =", p.as_str().to_owned());
        }
        if let Some(c) = &filter.customer_id {
            add("customer_id =", c.as_str().to_owned());
        }
        if let Some(b) = &page.before {
            add("id <", b.clone());
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases {where_sql} ORDER BY id DESC LIMIT ${}",
            args.len() + 1
        );
        let mut q = sqlx::query_as::<_, CaseRow>(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a.as_str());
        }
        q = q.bind(i64::from(page.limit));
        q.fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(CaseRow::into_domain)
            .collect()
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>> {
        let row: Option<CustomerRow> = sqlx::query_as(
            "SELECT id, display_name, region, language, tier, lifetime_value, created_at FROM customers WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let identities: Vec<IdentityRow> =
            sqlx::query_as("SELECT platform, handle FROM identities WHERE customer_id = $1 ORDER BY created_at, key")
                .bind(id.as_str())
                .fetch_all(&self.reader)
                .await?;
        Ok(Some(Customer {
            id: CustomerId::from_stored(row.id),
            display_name: row.display_name,
            region: row.region,
            language: row.language,
            tier: Tier::parse(&row.tier)
                .ok_or_else(|| StoreError::Corrupt(format!("tier `{}`", row.tier)))?,
            lifetime_value: row.lifetime_value,
            created_at: Timestamp(row.created_at),
            identities: identities
                .into_iter()
                .filter_map(|i| {
                    Some(Identity {
                        platform: Platform::parse(&i.platform)?,
                        handle: i.handle,
                    })
                })
                .collect(),
        }))
    }

    async fn queues(&self) -> Result<Vec<Queue>> {
        let rows: Vec<QueueRow> =
            sqlx::query_as("SELECT id, name, is_default FROM queues ORDER BY name")
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().map(QueueRow::into_domain).collect())
    }

    async fn counts(&self) -> Result<Counts> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT (SELECT COUNT(*) FROM messages), \
             (SELECT COUNT(*) FROM messages WHERE stage = 'received'), \
             (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM cases), \
             (SELECT COUNT(*) FROM cases WHERE status IN {OPEN_STATES_SQL})"
        )))
        .fetch_one(&self.reader)
        .await?;
        Ok(Counts {
            messages: row.try_get(0)?,
            unprocessed: row.try_get(1)?,
            customers: row.try_get(2)?,
            cases: row.try_get(3)?,
            open_cases: row.try_get(4)?,
        })
    }

    async fn upsert_customer(
        &self,
        platform: Platform,
        handle: &str,
        display_name: Option<&str>,
        tier: Tier,
        lifetime_value: f64,
        now: Timestamp,
    ) -> Result<CustomerId> {
        let key = Identity::key(platform, handle);
        let mut tx = self.writer.begin().await?;
        let existing: Option<String> =
            sqlx::query_scalar("SELECT customer_id FROM identities WHERE key = $1")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE customers SET tier = $1, lifetime_value = $2, \
                     display_name = COALESCE($3, display_name) WHERE id = $4",
                )
                .bind(tier.as_str())
                .bind(lifetime_value)
                .bind(display_name)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                CustomerId::from_stored(id)
            }
            None => {
                let id = CustomerId::generate();
                sqlx::query(
                    "INSERT INTO customers (id, display_name, tier, lifetime_value, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id.as_str())
                .bind(display_name)
                .bind(tier.as_str())
                .bind(lifetime_value)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO identities (key, platform, handle, customer_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&key)
                .bind(platform.as_str())
                .bind(handle)
                .bind(id.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    async fn create_api_key(
        &self,
        name: &str,
        key_hash: &str,
        role: &str,
        now: Timestamp,
    ) -> Result<String> {
        let id = format!("key_{}", ulid::Ulid::generate());
        sqlx::query("INSERT INTO api_keys (id, name, key_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(name)
            .bind(key_hash)
            .bind(role)
            .bind(now.millis())
            .execute(&self.writer)
            .await?;
        Ok(id)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, name, role, expires_at, revoked_at FROM api_keys WHERE key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ApiKey {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            role: row.try_get(2)?,
            expires_at: row.try_get::<Option<i64>, _>(3)?.map(Timestamp),
            revoked_at: row.try_get::<Option<i64>, _>(4)?.map(Timestamp),
        }))
    }

    async fn upsert_user(
        &self,
        login: &str,
        password_hash: &str,
        role: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (login, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(login)
        .bind(password_hash)
        .bind(role)
        .bind(now.millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn user(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT login, password_hash, role FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(&self.reader)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(User {
            login: row.try_get(0)?,
            password_hash: row.try_get(1)?,
            role: row.try_get(2)?,
        }))
    }
}

#[allow(dead_code)]
fn _assert_status_list_matches_domain() {
    // OPEN_STATES_SQL mirrors CaseStatus::OPEN_STATES; the contract tests check threading
    // into every open state, so a drift shows up there.
    let _ = CaseStatus::OPEN_STATES;
}
