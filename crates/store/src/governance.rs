//! Store methods of governance (G1–G4), the same SQL on both back ends: API keys and users,
//! browser sessions, the audit chain, legal holds, erasure and retention.
//!
//! The audit chain is appended under the `audit_head` row, locked for the transaction, so
//! two processes never both extend the same entry; the hashing rules live in `sb-governance`.

pub(crate) const AUDIT_COLUMNS: &str = "seq, at, actor, role, action, subject, customer_id, \
    origin, outcome, detail, detail_digest, prev_hash, hash";

pub(crate) const API_KEY_COLUMNS: &str =
    "id, name, role, scopes, created_at, expires_at, revoked_at, rotated_to, regions";

/// `AUDIT_COLUMNS` for a query `FROM audit_log`, the detail read from wherever it is held.
pub(crate) fn audit_columns(partitions: &crate::residency::Partitions) -> String {
    let detail = partitions.document_sql(
        "audit_log",
        crate::residency::Document::AuditDetail,
        "detail",
    );
    AUDIT_COLUMNS.replace(" detail,", &format!(" {detail} AS detail,"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    role: Option<String>,
    action: String,
    subject: Option<String>,
    customer_id: Option<String>,
    origin: Option<String>,
    outcome: i32,
    detail: Option<String>,
    detail_digest: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> crate::Result<sb_governance::AuditEntry> {
        let detail = self
            .detail
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| crate::StoreError::Corrupt(format!("audit entry {}: {e}", self.seq)))?;
        Ok(sb_governance::AuditEntry {
            seq: self.seq,
            record: sb_governance::AuditRecord {
                at_ms: self.at,
                actor: self.actor,
                role: self.role,
                action: self.action,
                subject: self.subject,
                customer_id: self.customer_id,
                origin: self.origin,
                outcome: u16::try_from(self.outcome).unwrap_or(0),
                detail,
            },
            detail_digest: self.detail_digest,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: String,
    name: String,
    role: String,
    scopes: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    rotated_to: Option<String>,
    regions: Option<String>,
}

impl ApiKeyRow {
    pub(crate) fn into_domain(self) -> crate::Result<crate::ApiKey> {
        let scopes = self
            .scopes
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| crate::StoreError::Corrupt(format!("key {} scopes: {e}", self.id)))?;
        let regions = regions_of(self.regions.as_deref(), &self.id)?;
        Ok(crate::ApiKey {
            id: self.id,
            name: self.name,
            role: self.role,
            scopes,
            created_at: sb_domain::Timestamp(self.created_at),
            expires_at: self.expires_at.map(sb_domain::Timestamp),
            revoked_at: self.revoked_at.map(sb_domain::Timestamp),
            rotated_to: self.rotated_to,
            regions,
        })
    }
}

pub(crate) fn regions_of(stored: Option<&str>, whose: &str) -> crate::Result<Option<Vec<String>>> {
    stored
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| crate::StoreError::Corrupt(format!("{whose} regions: {e}")))
}

/// Audit entries sealed onto the chain, ready to append: each with its central detail (blank
/// when held) and the region holding it, the details held, and the chain's new head.
pub(crate) struct SealedAudit {
    pub(crate) entries: Vec<(sb_governance::AuditEntry, Option<String>, Option<String>)>,
    pub(crate) holdings: Vec<crate::residency::Holding>,
    pub(crate) head: (i64, String),
}

macro_rules! governance_store_impl {
    ($ty:ty, $w:ident, $r:ident, $row_lock:literal, $db:ty) => {
        impl $ty {
        /// Seals `records` onto the chain after `head`, each entry's detail held in its
        /// customer's partition when they are placed (`regions`, by customer).
        fn seal_audit(
            &self,
            records: &[sb_governance::AuditRecord],
            head: (i64, String),
            regions: &std::collections::HashMap<String, Option<String>>,
        ) -> Result<crate::governance::SealedAudit> {
            let (mut seq, mut prev) = head;
            let mut entries = Vec::with_capacity(records.len());
            let mut holdings = Vec::new();
            for record in records.iter().cloned() {
                seq += 1;
                let e = sb_governance::audit::seal(seq, &prev, record);
                prev = e.hash.clone();
                let detail = e.record.detail.as_ref().map(|d| d.to_string());
                let region = e
                    .record
                    .customer_id
                    .as_deref()
                    .and_then(|c| regions.get(c).cloned().flatten())
                    .filter(|_| detail.is_some());
                let (held, central) = self.partitions.hold_row(
                    crate::residency::Document::AuditDetail,
                    region.as_deref(),
                    e.record.customer_id.as_deref().unwrap_or_default(),
                    crate::residency::DocKey::Seq(e.seq),
                    vec![detail],
                )?;
                holdings.extend(held);
                entries.push((e, central.into_iter().flatten().next(), region));
            }
            Ok(crate::governance::SealedAudit {
                entries,
                holdings,
                head: (seq, prev),
            })
        }

        /// Appends sealed entries and moves the head, inside `tx`.
        async fn insert_audit(
            tx: &mut sqlx::Transaction<'_, $db>,
            sealed: &crate::governance::SealedAudit,
        ) -> Result<Vec<i64>> {
            let sql = format!(
                "INSERT INTO audit_log ({}, placed_in) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14)",
                crate::governance::AUDIT_COLUMNS
            );
            let mut seqs = Vec::with_capacity(sealed.entries.len());
            for (e, detail, region) in &sealed.entries {
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(e.seq)
                    .bind(e.record.at_ms)
                    .bind(&e.record.actor)
                    .bind(e.record.role.as_deref())
                    .bind(&e.record.action)
                    .bind(e.record.subject.as_deref())
                    .bind(e.record.customer_id.as_deref())
                    .bind(e.record.origin.as_deref())
                    .bind(i32::from(e.record.outcome))
                    .bind(detail.as_deref())
                    .bind(&e.detail_digest)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .bind(region.as_deref())
                    .execute(&mut **tx)
                    .await?;
                seqs.push(e.seq);
            }
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(sealed.head.0)
                .bind(&sealed.head.1)
                .execute(&mut **tx)
                .await?;
            Ok(seqs)
        }

        async fn insert_api_key(
            tx: &mut sqlx::Transaction<'_, $db>,
            key: &crate::NewApiKey,
        ) -> Result<String> {
            let id = format!("key_{}", ulid::Ulid::generate());
            let scopes = key
                .scopes
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
            let regions = key
                .regions
                .as_ref()
                .map(|r| serde_json::to_string(r).unwrap_or_else(|_| "[]".into()));
            sqlx::query(
                "INSERT INTO api_keys (id, name, key_hash, role, scopes, created_at, expires_at, regions) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(&key.name)
            .bind(&key.key_hash)
            .bind(&key.role)
            .bind(scopes)
            .bind(key.created_at.millis())
            .bind(key.expires_at.map(|t| t.millis()))
            .bind(regions)
            .execute(&mut **tx)
            .await?;
            Ok(id)
        }

        async fn api_key_where(
            &self,
            clause: &str,
            value: &str,
        ) -> Result<Option<crate::ApiKey>> {
            let sql = format!(
                "SELECT {} FROM api_keys WHERE {clause} = $1",
                crate::governance::API_KEY_COLUMNS
            );
            let row: Option<crate::governance::ApiKeyRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(value)
                .fetch_optional(&self.$w)
                .await?;
            row.map(crate::governance::ApiKeyRow::into_domain)
                .transpose()
        }

        /// The ids of the customer's messages, in arrival order, including those still on
        /// their way through the pipeline (no customer yet): their author's handle names them,
        /// compared as identities compare handles.
        async fn customer_message_ids(
            &self,
            conn: &mut <$db as sqlx::Database>::Connection,
            customer: &str,
        ) -> Result<Vec<String>> {
            let keys: Vec<(String,)> =
                sqlx::query_as("SELECT key FROM identities WHERE customer_id = $1")
                    .bind(customer)
                    .fetch_all(&mut *conn)
                    .await?;
            let keys: std::collections::HashSet<String> = keys.into_iter().map(|(k,)| k).collect();
            // A message not processed yet may be held in a partition from its arrival.
            let handle = self.partitions.column_sql("messages", "author_handle");
            let rows: Vec<(i64, String, Option<String>, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT seq, id, customer_id, source, {handle} FROM messages \
                 WHERE customer_id = $1 OR customer_id IS NULL ORDER BY seq"
            )))
            .bind(customer)
            .fetch_all(&mut *conn)
            .await?;
            // A placed identity's key is its pseudonym.
            let mut ids = Vec::with_capacity(rows.len());
            for (_, id, owner, source, handle) in rows {
                let theirs = match sb_domain::Platform::parse(&source) {
                    Some(p) if owner.is_none() => self
                        .partitions
                        .identity_keys(&sb_domain::Identity::key(p, &handle))?
                        .iter()
                        .any(|k| keys.contains(k)),
                    _ => owner.is_some(),
                };
                if theirs {
                    ids.push(id);
                }
            }
            Ok(ids)
        }

        async fn users_where(
            &self,
            login: Option<&str>,
        ) -> Result<Vec<crate::User>> {
            let rows: Vec<(String, String, String, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT login, password_hash, role, disabled_at, regions FROM users \
                 WHERE ($1 IS NULL OR login = $1) ORDER BY login",
            )
            .bind(login)
            .fetch_all(&self.$w)
            .await?;
            rows.into_iter()
                .map(|(login, password_hash, role, disabled, regions)| {
                    let regions = crate::governance::regions_of(regions.as_deref(), &login)?;
                    Ok(crate::User {
                        login,
                        password_hash,
                        role,
                        disabled_at: disabled.map(Timestamp),
                        regions,
                    })
                })
                .collect()
        }

        }

        #[async_trait::async_trait]
        impl crate::GovernanceStore for $ty {
        async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<crate::ApiKey>> {
            self.api_key_where("key_hash", key_hash).await
        }

        async fn api_key(&self, id: &str) -> Result<Option<crate::ApiKey>> {
            self.api_key_where("id", id).await
        }

        async fn user(&self, login: &str) -> Result<Option<crate::User>> {
            Ok(self.users_where(Some(login)).await?.pop())
        }

        async fn users(&self) -> Result<Vec<crate::User>> {
            self.users_where(None).await
        }

        async fn compact(&self) -> Result<()> {
            self.compact_files().await
        }

        async fn create_api_key(&self, key: &crate::NewApiKey) -> Result<String> {
            let mut tx = self.$w.begin().await?;
            let id = Self::insert_api_key(&mut tx, key).await?;
            tx.commit().await?;
            Ok(id)
        }

        async fn api_keys(&self) -> Result<Vec<crate::ApiKey>> {
            let sql = format!(
                "SELECT {} FROM api_keys ORDER BY created_at, id",
                crate::governance::API_KEY_COLUMNS
            );
            let rows: Vec<crate::governance::ApiKeyRow> = sqlx::query_as(AssertSqlSafe(sql))
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter()
                .map(crate::governance::ApiKeyRow::into_domain)
                .collect()
        }

        async fn rotate_api_key(
            &self,
            id: &str,
            next: &crate::NewApiKey,
            old_expires_at: Timestamp,
        ) -> Result<Option<String>> {
            let mut tx = self.$w.begin().await?;
            let live: Option<(Option<i64>,)> = sqlx::query_as(concat!(
                "SELECT expires_at FROM api_keys WHERE id = $1 AND revoked_at IS NULL \
                 AND rotated_to IS NULL",
                $row_lock
            ))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((expires_at,)) = live else {
                tx.rollback().await?;
                return Ok(None);
            };
            let new_id = Self::insert_api_key(&mut tx, next).await?;
            let until = expires_at.map_or(old_expires_at.millis(), |e| e.min(old_expires_at.millis()));
            sqlx::query("UPDATE api_keys SET expires_at = $1, rotated_to = $2 WHERE id = $3")
                .bind(until)
                .bind(&new_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(new_id))
        }

        async fn revoke_api_key(&self, id: &str, now: Timestamp) -> Result<bool> {
            let done = sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now.millis())
            .bind(id)
            .execute(&self.$w)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn upsert_user(
            &self,
            login: &str,
            password_hash: &str,
            role: &str,
            now: Timestamp,
        ) -> Result<()> {
            let mut tx = self.$w.begin().await?;
            sqlx::query(
                "INSERT INTO users (login, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, \
                 role = excluded.role, disabled_at = NULL",
            )
            .bind(login)
            .bind(password_hash)
            .bind(role)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            // A new password or role ends the sessions opened under the old one.
            sqlx::query("DELETE FROM sessions WHERE login = $1")
                .bind(login)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        async fn disable_user(&self, login: &str, now: Timestamp) -> Result<bool> {
            let mut tx = self.$w.begin().await?;
            let done = sqlx::query(
                "UPDATE users SET disabled_at = $1 WHERE login = $2 AND disabled_at IS NULL",
            )
            .bind(now.millis())
            .bind(login)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE login = $1")
                .bind(login)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        }

        async fn set_user_regions(
            &self,
            login: &str,
            regions: Option<&[String]>,
        ) -> Result<bool> {
            let regions = regions.map(|r| serde_json::to_string(r).unwrap_or_else(|_| "[]".into()));
            let mut tx = self.$w.begin().await?;
            let done = sqlx::query("UPDATE users SET regions = $1 WHERE login = $2")
                .bind(regions)
                .bind(login)
                .execute(&mut *tx)
                .await?;
            // Sessions carry what the user could read when they began.
            sqlx::query("DELETE FROM sessions WHERE login = $1")
                .bind(login)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        }

        async fn create_session(&self, s: &crate::Session) -> Result<()> {
            sqlx::query(
                "INSERT INTO sessions (token_hash, login, csrf, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&s.token_hash)
            .bind(&s.login)
            .bind(&s.csrf)
            .bind(s.created_at.millis())
            .bind(s.expires_at.millis())
            .execute(&self.$w)
            .await?;
            Ok(())
        }

        async fn session(&self, token_hash: &str) -> Result<Option<crate::Session>> {
            let row: Option<(String, String, String, i64, i64)> = sqlx::query_as(
                "SELECT token_hash, login, csrf, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(&self.$w)
            .await?;
            Ok(row.map(|(token_hash, login, csrf, created, expires)| crate::Session {
                token_hash,
                login,
                csrf,
                created_at: Timestamp(created),
                expires_at: Timestamp(expires),
            }))
        }

        async fn delete_session(&self, token_hash: &str) -> Result<()> {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.$w)
                .await?;
            Ok(())
        }

        async fn append_audit(
            &self,
            records: Vec<sb_governance::AuditRecord>,
        ) -> Result<Vec<i64>> {
            if records.is_empty() {
                return Ok(Vec::new());
            }
            // The detail of an entry about a placed customer is held in their partition from
            // the start; the digest in the chain never moves.
            let mut conn = self.$w.acquire().await?;
            let mut regions: std::collections::HashMap<String, Option<String>> =
                std::collections::HashMap::new();
            for customer in records.iter().filter(|r| r.detail.is_some()).filter_map(|r| r.customer_id.as_deref()) {
                if !regions.contains_key(customer) {
                    let region = self
                        .owner_region(&mut *conn, crate::residency::Owner::Customer, customer)
                        .await?;
                    regions.insert(customer.to_owned(), region);
                }
            }
            let head_sql = concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $row_lock);
            if !<Self as crate::residency::Backend>::PARTITIONS_APART {
                // The head is locked first; the details join the same transaction.
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let head: (i64, String) = sqlx::query_as(head_sql).fetch_one(&mut *tx).await?;
                let sealed = self.seal_audit(&records, head, &regions)?;
                self.hold_within(&mut tx, &sealed.holdings).await?;
                let seqs = Self::insert_audit(&mut tx, &sealed).await?;
                tx.commit().await?;
                return Ok(seqs);
            }
            // The partitions' files commit apart, before the entries: the entries are sealed
            // after the head read first, and sealed again should another process append in
            // between (this one holds the writer connection).
            for _ in 0..5 {
                let head: (i64, String) = sqlx::query_as(head_sql).fetch_one(&mut *conn).await?;
                let sealed = self.seal_audit(&records, head.clone(), &regions)?;
                self.hold_apart(&mut conn, &sealed.holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let now: (i64, String) = sqlx::query_as(head_sql).fetch_one(&mut *tx).await?;
                if now != head {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &sealed.holdings).await?;
                    continue;
                }
                let seqs = Self::insert_audit(&mut tx, &sealed).await?;
                tx.commit().await?;
                return Ok(seqs);
            }
            Err(StoreError::Corrupt(
                "the audit trail kept growing under this append; try again".into(),
            ))
        }

        async fn retention_runs(&self, limit: u32) -> Result<Vec<sb_governance::AuditEntry>> {
            // The literal matches the partial index `audit_log_retention_runs`.
            let sql = format!(
                "SELECT {} FROM audit_log WHERE action = 'retention.run' ORDER BY seq DESC LIMIT $1",
                crate::governance::audit_columns(&self.partitions)
            );
            let rows: Vec<crate::governance::AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter()
                .map(crate::governance::AuditRow::into_entry)
                .collect()
        }

        async fn audit_entries(
            &self,
            customer: Option<&CustomerId>,
            after_seq: i64,
            limit: u32,
        ) -> Result<Vec<sb_governance::AuditEntry>> {
            let sql = format!(
                "SELECT {} FROM audit_log WHERE seq > $1 AND ($2 IS NULL OR customer_id = $2) \
                 ORDER BY seq LIMIT $3",
                crate::governance::audit_columns(&self.partitions)
            );
            let rows: Vec<crate::governance::AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(after_seq)
                .bind(customer.map(|c| c.as_str()))
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter()
                .map(crate::governance::AuditRow::into_entry)
                .collect()
        }

        async fn audit_head(&self) -> Result<(i64, String)> {
            Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.$r)
                .await?)
        }

        async fn set_legal_hold(
            &self,
            customer: &CustomerId,
            reason: Option<&str>,
        ) -> Result<bool> {
            let done = sqlx::query("UPDATE customers SET legal_hold = $1 WHERE id = $2")
                .bind(reason)
                .bind(customer.as_str())
                .execute(&self.$w)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn legal_hold(
            &self,
            customer: &CustomerId,
        ) -> Result<Option<Option<String>>> {
            let row: Option<(Option<String>,)> =
                sqlx::query_as("SELECT legal_hold FROM customers WHERE id = $1")
                    .bind(customer.as_str())
                    .fetch_optional(&self.$w)
                    .await?;
            Ok(row.map(|(h,)| h))
        }

        async fn set_consent(&self, c: &crate::Consent) -> Result<()> {
            sqlx::query(
                "INSERT INTO consents (customer_id, channel, opted_out, source, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, channel) DO UPDATE SET \
                 opted_out = excluded.opted_out, source = excluded.source, \
                 updated_at = excluded.updated_at",
            )
            .bind(c.customer_id.as_str())
            .bind(&c.channel)
            .bind(i32::from(c.opted_out))
            .bind(c.source.as_deref())
            .bind(c.updated_at.millis())
            .execute(&self.$w)
            .await?;
            Ok(())
        }

        async fn consents(&self, customer: &CustomerId) -> Result<Vec<crate::Consent>> {
            let rows: Vec<(String, i32, Option<String>, i64)> = sqlx::query_as(
                "SELECT channel, opted_out, source, updated_at FROM consents \
                 WHERE customer_id = $1 ORDER BY channel",
            )
            .bind(customer.as_str())
            .fetch_all(&self.$r)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(channel, opted_out, source, at)| crate::Consent {
                    customer_id: customer.clone(),
                    channel,
                    opted_out: opted_out != 0,
                    source,
                    updated_at: Timestamp(at),
                })
                .collect())
        }

        async fn customer_messages(
            &self,
            customer: &CustomerId,
        ) -> Result<Vec<Message>> {
            let mut conn = self.$r.acquire().await?;
            let ids = self.customer_message_ids(&mut conn, customer.as_str()).await?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let cols = self.partitions.message_columns();
                let sql = format!("SELECT {cols} FROM messages WHERE id = $1");
                let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(&id)
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(r) = row {
                    out.push(r.into_domain()?);
                }
            }
            Ok(out)
        }

        /// Removes the customer's personal data everywhere it is stored, in one transaction.
        async fn erase_customer(
            &self,
            customer: &CustomerId,
            now: Timestamp,
        ) -> Result<crate::Erasure> {
            let mut tx = self.$w.begin().await?;
            let hold: Option<(Option<String>,)> = sqlx::query_as(concat!(
                "SELECT legal_hold FROM customers WHERE id = $1",
                $row_lock
            ))
            .bind(customer.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            match hold {
                None => return Ok(crate::Erasure::Unknown),
                Some((Some(reason),)) => return Ok(crate::Erasure::Held(reason)),
                Some((None,)) => {}
            }
            let id = customer.as_str();
            let mut counts = crate::ErasureCounts::default();
            let message_ids = self.customer_message_ids(&mut tx, id).await?;
            for m in &message_ids {
                sqlx::query("DELETE FROM message_revisions WHERE message_id = $1")
                    .bind(m)
                    .execute(&mut *tx)
                    .await?;
                self.erase_placed(&mut tx, crate::residency::Held::Message, m).await?;
                sqlx::query(
                    "UPDATE messages SET text = '', author_handle = '', author_name = NULL, \
                     raw = '{}', pii = NULL, metrics = '{}', in_reply_to = NULL, erased_at = $1 \
                     WHERE id = $2",
                )
                .bind(now.millis())
                .bind(m)
                .execute(&mut *tx)
                .await?;
            }
            counts.messages = message_ids.len() as u64;
            // A placed handle is held in its partition under the central row's key.
            let placed: Vec<(String, String)> = sqlx::query_as(
                "SELECT key, placed_in FROM identities WHERE customer_id = $1 AND placed_in IS NOT NULL",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for (key, region) in placed {
                let schema = self.partitions.placed(&region)?;
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.identity_content WHERE key = $1"
                )))
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
            counts.identities = sqlx::query("DELETE FROM identities WHERE customer_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Retention (H3): the months they wrote in go; the cohort counts stay.
            for sql in [
                "DELETE FROM customer_months WHERE customer_id = $1",
                "DELETE FROM customer_cohorts WHERE customer_id = $1",
                // Orders (F6) keep their attribution to platform and campaign, not to them.
                "UPDATE orders SET customer_id = NULL WHERE customer_id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE customers SET display_name = NULL, erased_at = $1 WHERE id = $2")
                .bind(now.millis())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            self.erase_placed(&mut tx, crate::residency::Held::Customer, id).await?;
            let cases: Vec<(String,)> = sqlx::query_as("SELECT id FROM cases WHERE customer_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            for (case,) in &cases {
                sqlx::query("UPDATE cases SET subject = '' WHERE id = $1")
                    .bind(case)
                    .execute(&mut *tx)
                    .await?;
                self.erase_placed(&mut tx, crate::residency::Held::Case, case).await?;
                self.erase_placed(&mut tx, crate::residency::Held::CaseDocuments, case).await?;
                let events: Vec<(i64, String, Option<String>)> = sqlx::query_as(
                    "SELECT seq, data, placed_in FROM case_events WHERE case_id = $1",
                )
                .bind(case)
                .fetch_all(&mut *tx)
                .await?;
                for (seq, data, placed_in) in events {
                    let mut doc: serde_json::Value =
                        serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
                    if sb_governance::personal::scrub(&mut doc) {
                        sqlx::query("UPDATE case_events SET data = $1 WHERE seq = $2")
                            .bind(doc.to_string())
                            .bind(seq)
                            .execute(&mut *tx)
                            .await?;
                        counts.case_events += 1;
                    } else if placed_in.is_some() {
                        // Blank here already; its whole copy was deleted from the partition.
                        counts.case_events += 1;
                    }
                }
                let replies: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, doc FROM replies WHERE case_id = $1")
                        .bind(case)
                        .fetch_all(&mut *tx)
                        .await?;
                for (reply, doc) in replies {
                    let mut doc: serde_json::Value =
                        serde_json::from_str(&doc).unwrap_or(serde_json::Value::Null);
                    sb_governance::personal::scrub(&mut doc);
                    sqlx::query("UPDATE replies SET doc = $1 WHERE id = $2")
                        .bind(doc.to_string())
                        .bind(&reply)
                        .execute(&mut *tx)
                        .await?;
                    counts.replies += 1;
                }
                counts.audit_details += sqlx::query(
                    "UPDATE audit_log SET detail = NULL WHERE subject = $1 AND detail IS NOT NULL",
                )
                .bind(format!("case:{case}"))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            // Deliveries about their cases, and about them (a disruption message to a
            // customer with no case).
            let subjects = cases.iter().map(|(case,)| case.as_str()).chain(std::iter::once(id));
            for subject in subjects {
                let outbox: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM outbox WHERE subject = $1")
                        .bind(subject)
                        .fetch_all(&mut *tx)
                        .await?;
                for (item,) in outbox {
                    sqlx::query("UPDATE outbox SET payload = '{}', last_error = NULL WHERE id = $1")
                        .bind(&item)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE outbox_attempts SET error = NULL WHERE outbox_id = $1")
                        .bind(&item)
                        .execute(&mut *tx)
                        .await?;
                    counts.outbox += 1;
                }
            }
            counts.cases = cases.len() as u64;
            counts.audit_details += sqlx::query(
                "UPDATE audit_log SET detail = NULL WHERE customer_id = $1 AND detail IS NOT NULL",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Disruption messages (F2): the text and the payload name and address the customer.
            counts.disruption_messages = sqlx::query(
                "UPDATE disruption_recipients SET text = '', payload = '{}' WHERE customer_id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM identity_suggestions WHERE customer_a = $1 OR customer_b = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let merges: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, record FROM customer_merges WHERE survivor = $1 OR absorbed = $1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for (merge, record) in merges {
                let mut doc: serde_json::Value =
                    serde_json::from_str(&record).unwrap_or(serde_json::Value::Null);
                sb_governance::personal::scrub(&mut doc);
                sqlx::query("UPDATE customer_merges SET record = $1 WHERE id = $2")
                    .bind(doc.to_string())
                    .bind(&merge)
                    .execute(&mut *tx)
                    .await?;
                // Held with the survivor: erased there too when this customer was absorbed.
                for schema in self.partitions.schemas() {
                    sqlx::query(AssertSqlSafe(format!(
                        "DELETE FROM {schema}.merge_record_content WHERE id = $1"
                    )))
                    .bind(&merge)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(crate::Erasure::Done(counts))
        }

        /// Erases the content of up to `limit` messages of data class `class` received before
        /// `cutoff` (in `region`, when given), except those of customers under legal hold.
        async fn apply_retention(
            &self,
            class: &str,
            region: Option<&str>,
            cutoff: Timestamp,
            now: Timestamp,
            limit: u32,
        ) -> Result<u64> {
            let mut tx = self.$w.begin().await?;
            let ids: Vec<(String,)> = sqlx::query_as(
                "SELECT m.id FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                 WHERE m.received_at < $1 AND m.erased_at IS NULL AND m.stage <> 'received' \
                 AND m.data_class = $2 AND ($3 IS NULL OR m.region = $3) \
                 AND c.legal_hold IS NULL ORDER BY m.seq LIMIT $4",
            )
            .bind(cutoff.millis())
            .bind(class)
            .bind(region)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            for (m,) in &ids {
                sqlx::query("DELETE FROM message_revisions WHERE message_id = $1")
                    .bind(m)
                    .execute(&mut *tx)
                    .await?;
                self.erase_placed(&mut tx, crate::residency::Held::Message, m).await?;
                // The case subject is cut from its first message: it goes with the text.
                sqlx::query(
                    "UPDATE cases SET subject = '' WHERE id = (SELECT case_id FROM messages WHERE id = $1)",
                )
                .bind(m)
                .execute(&mut *tx)
                .await?;
                let case: Option<Option<String>> =
                    sqlx::query_scalar("SELECT case_id FROM messages WHERE id = $1")
                        .bind(m)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(case) = case.flatten() {
                    self.erase_placed(&mut tx, crate::residency::Held::Case, &case).await?;
                }
                sqlx::query(
                    "UPDATE messages SET text = '', author_name = NULL, raw = '{}', pii = NULL, \
                     metrics = '{}', erased_at = $1 WHERE id = $2",
                )
                .bind(now.millis())
                .bind(m)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(ids.len() as u64)
        }

        }
    };
}

pub(crate) use governance_store_impl;
