//! Store methods whose SQL is the same on both back ends, written once. Each back end
//! instantiates them with its pools (`$w` writes, `$r` reads) and its locking clauses (`$lock`
//! for leasing outbox rows, `$row_lock` for reading a row it is about to change); its `Store`
//! implementation forwards to them.

macro_rules! shared_store_methods {
    ($w:ident, $r:ident, $lock:literal, $row_lock:literal) => {
        pub(crate) async fn revise_message_shared(
            &self,
            source: Platform,
            external_id: &str,
            revision: &Revision,
            at: Timestamp,
        ) -> Result<Revised> {
            let mut tx = self.$w.begin().await?;
            let current: Option<(String, String, Option<i64>)> = sqlx::query_as(
                concat!("SELECT id, text, removed_at FROM messages WHERE source = $1 AND external_id = $2", $row_lock),
            )
            .bind(source.as_str())
            .bind(external_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, text, removed_at)) = current else {
                return Ok(Revised::Unknown);
            };
            let id = MessageId::from_stored(id);
            let Some(next_text) = crate::revised_text(&text, removed_at.is_some(), revision) else {
                return Ok(Revised::Unchanged(id));
            };
            let number: i32 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(revision), 0) + 1 FROM message_revisions WHERE message_id = $1",
            )
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO message_revisions (message_id, revision, kind, previous_text, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.as_str())
            .bind(number)
            .bind(revision.kind().as_str())
            .bind(&text)
            .bind(at.millis())
            .execute(&mut *tx)
            .await?;
            let update = match revision {
                Revision::Edit { .. } => "UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3",
                Revision::Remove => "UPDATE messages SET text = $1, removed_at = $2 WHERE id = $3",
            };
            sqlx::query(update)
                .bind(next_text)
                .bind(at.millis())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Revised::Applied(id))
        }

        pub(crate) async fn message_revisions_shared(&self, id: &MessageId) -> Result<Vec<MessageRevision>> {
            let rows: Vec<RevisionRow> = sqlx::query_as(
                "SELECT revision, kind, previous_text, recorded_at FROM message_revisions \
                 WHERE message_id = $1 ORDER BY revision",
            )
            .bind(id.as_str())
            .fetch_all(&self.$r)
            .await?;
            rows.into_iter().map(RevisionRow::into_domain).collect()
        }

        pub(crate) async fn link_identity_shared(
            &self,
            customer: &CustomerId,
            platform: Platform,
            handle: &str,
            now: Timestamp,
        ) -> Result<IdentityLink> {
            let key = Identity::key(platform, handle);
            let mut tx = self.$w.begin().await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
                .bind(customer.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Ok(IdentityLink::NoSuchCustomer);
            }
            let owner: Option<String> =
                sqlx::query_scalar("SELECT customer_id FROM identities WHERE key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?;
            let outcome = match owner {
                Some(o) if o == customer.as_str() => IdentityLink::AlreadyLinked,
                Some(o) => IdentityLink::Elsewhere(CustomerId::from_stored(o)),
                None => {
                    sqlx::query(
                        "INSERT INTO identities (key, platform, handle, customer_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&key)
                    .bind(platform.as_str())
                    .bind(handle)
                    .bind(customer.as_str())
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?;
                    IdentityLink::Linked
                }
            };
            tx.commit().await?;
            Ok(outcome)
        }

        pub(crate) async fn enqueue_shared(
            &self,
            items: &[NewOutboxItem],
            now: Timestamp,
        ) -> Result<Vec<(OutboxId, bool)>> {
            let mut tx = self.$w.begin().await?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let id = OutboxId::generate();
                let inserted = sqlx::query(outbox_sql::INSERT)
                    .bind(id.as_str())
                    .bind(&item.target)
                    .bind(&item.dedup_key)
                    .bind(item.payload.to_string())
                    .bind(item.subject.as_deref())
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if inserted {
                    out.push((id, false));
                } else {
                    let existing: String = sqlx::query_scalar(outbox_sql::ID_BY_KEY)
                        .bind(&item.dedup_key)
                        .fetch_one(&mut *tx)
                        .await?;
                    out.push((OutboxId::from_stored(existing), true));
                }
            }
            tx.commit().await?;
            Ok(out)
        }

        pub(crate) async fn claim_outbox_shared(
            &self,
            now: Timestamp,
            limit: u32,
            lease_ms: i64,
        ) -> Result<Vec<OutboxItem>> {
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(outbox_sql::claim($lock)))
                .bind(now.millis())
                .bind(now.millis() + lease_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.$w)
                .await?;
            rows.into_iter().map(OutboxRow::into_domain).collect()
        }

        pub(crate) async fn finish_attempt_shared(
            &self,
            id: &OutboxId,
            attempt: &DeliveryAttempt,
            after: &AfterAttempt,
        ) -> Result<()> {
            let mut tx = self.$w.begin().await?;
            sqlx::query(outbox_sql::LOG)
                .bind(id.as_str())
                .bind(i32::try_from(attempt.attempt).unwrap_or(i32::MAX))
                .bind(attempt.at.millis())
                .bind(&attempt.outcome)
                .bind(attempt.status_code.map(i32::from))
                .bind(attempt.error.as_deref())
                .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            let q = match after {
                AfterAttempt::Delivered { remote_id } => sqlx::query(outbox_sql::DELIVERED)
                    .bind(id.as_str())
                    .bind(attempt.at.millis())
                    .bind(remote_id.as_deref()),
                AfterAttempt::RetryAt(at) => sqlx::query(outbox_sql::RETRY)
                    .bind(id.as_str())
                    .bind(at.millis())
                    .bind(attempt.error.as_deref()),
                AfterAttempt::Dead => sqlx::query(outbox_sql::DEAD)
                    .bind(id.as_str())
                    .bind(attempt.error.as_deref()),
            };
            q.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        }

        pub(crate) async fn list_outbox_shared(
            &self,
            status: Option<OutboxStatus>,
            page: &Page,
        ) -> Result<Vec<OutboxItem>> {
            let sql = format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1 IS NULL OR status = $1) \
                 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
            );
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(status.map(OutboxStatus::as_str))
                .bind(page.before.as_deref())
                .bind(i64::from(page.limit))
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(OutboxRow::into_domain).collect()
        }

        pub(crate) async fn outbox_item_shared(&self, id: &OutboxId) -> Result<Option<OutboxItem>> {
            let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
            let row: Option<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_optional(&self.$r)
                .await?;
            row.map(OutboxRow::into_domain).transpose()
        }

        pub(crate) async fn outbox_for_subject_shared(&self, subject: &str) -> Result<Vec<OutboxItem>> {
            let sql = format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox {}",
                outbox_sql::BY_SUBJECT_WHERE
            );
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(subject)
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(OutboxRow::into_domain).collect()
        }

        pub(crate) async fn outbox_by_remote_id_shared(&self, remote_id: &str) -> Result<Vec<OutboxItem>> {
            let sql = format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox {}",
                outbox_sql::BY_REMOTE_ID_WHERE
            );
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(remote_id)
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(OutboxRow::into_domain).collect()
        }

        pub(crate) async fn outbox_stats_shared(&self, since: Timestamp) -> Result<Vec<TargetStats>> {
            let rows: Vec<(String, Option<i64>, Option<i64>, i64, i64, Option<i64>)> =
                sqlx::query_as(outbox_sql::STATS)
                    .bind(since.millis())
                    .fetch_all(&self.$r)
                    .await?;
            Ok(rows
                .into_iter()
                .map(
                    |(target, pending, dead, attempts, failures, last)| TargetStats {
                        target,
                        pending: pending.unwrap_or(0),
                        dead: dead.unwrap_or(0),
                        attempts,
                        failures,
                        last_attempt_at: last.map(Timestamp),
                    },
                )
                .collect())
        }

        pub(crate) async fn inbound_stats_shared(&self, since: Timestamp) -> Result<Vec<InboundStats>> {
            let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(outbox_sql::INBOUND)
                .bind(since.millis())
                .fetch_all(&self.$r)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(source, last, recent)| InboundStats {
                    source,
                    last_received_at: last.map(Timestamp),
                    recent: recent.unwrap_or(0),
                })
                .collect())
        }

        pub(crate) async fn processed_messages_shared(
            &self,
            after: Option<&MessageId>,
            limit: u32,
        ) -> Result<Vec<Message>> {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE stage = 'processed' \
                 AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
            );
            sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql))
                .bind(after.map(MessageId::as_str))
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?
                .into_iter()
                .map(MessageRow::into_domain)
                .collect()
        }

        pub(crate) async fn update_enrichments_shared(&self, batch: &[(MessageId, Enrichment)]) -> Result<u64> {
            let mut tx = self.$w.begin().await?;
            let mut changed = 0;
            for (id, e) in batch {
                changed += sqlx::query(crate::rows::rebuild_sql::ENRICHMENT)
                    .bind(id.as_str())
                    .bind(e.language.as_str())
                    .bind(e.language_confidence)
                    .bind(e.sentiment_compound)
                    .bind(e.sentiment_label.as_str())
                    .bind(e.intent.as_str())
                    .bind(e.intent_confidence)
                    .bind(e.urgency.as_str())
                    .bind(crate::rows::json_text(&e.urgency_reasons))
                    .bind(e.emotion.as_str())
                    .bind(e.toxicity)
                    .bind(e.data_class.as_str())
                    .bind(crate::rows::json_text(&e.pii))
                    .bind(crate::rows::json_text(&e.watch))
                    .bind(e.topic.as_deref())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(changed)
        }

        pub(crate) async fn recompute_case_aggregates_shared(&self) -> Result<u64> {
            Ok(sqlx::query(crate::rows::rebuild_sql::CASES)
                .execute(&self.$w)
                .await?
                .rows_affected())
        }

        pub(crate) async fn message_raw_shared(&self, id: &MessageId) -> Result<Option<serde_json::Value>> {
            let raw: Option<String> = sqlx::query_scalar("SELECT raw FROM messages WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.$r)
                .await?;
            raw.map(|r| {
                serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(format!("message raw: {e}")))
            })
            .transpose()
        }

        pub(crate) async fn delivery_log_shared(&self, id: &OutboxId) -> Result<Vec<DeliveryAttempt>> {
            let rows: Vec<AttemptRow> = sqlx::query_as(outbox_sql::ATTEMPTS)
                .bind(id.as_str())
                .fetch_all(&self.$r)
                .await?;
            Ok(rows.into_iter().map(AttemptRow::into_domain).collect())
        }

        pub(crate) async fn set_target_state_shared(&self, state: &TargetState) -> Result<()> {
            sqlx::query(outbox_sql::TARGET)
                .bind(&state.target)
                .bind(&state.status)
                .bind(state.since.millis())
                .bind(state.reason.as_deref())
                .execute(&self.$w)
                .await?;
            Ok(())
        }

        pub(crate) async fn target_states_shared(&self) -> Result<Vec<TargetState>> {
            let rows: Vec<TargetRow> = sqlx::query_as(outbox_sql::TARGETS)
                .fetch_all(&self.$r)
                .await?;
            Ok(rows.into_iter().map(TargetRow::into_domain).collect())
        }

        pub(crate) async fn alert_shared(&self, id: &AlertId) -> Result<Option<Alert>> {
            let row: Option<AlertRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"
            )))
            .bind(id.as_str())
            .fetch_optional(&self.$r)
            .await?;
            row.map(AlertRow::into_domain).transpose()
        }

        pub(crate) async fn resolve_alert_shared(&self, dedup_key: &str, at: Timestamp) -> Result<bool> {
            let done = sqlx::query(
                "UPDATE alerts SET resolved_at = $2 WHERE dedup_key = $1 AND resolved_at IS NULL",
            )
            .bind(dedup_key)
            .bind(at.millis())
            .execute(&self.$w)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        pub(crate) async fn upsert_facts_shared(&self, facts: &[OpsFact]) -> Result<Vec<bool>> {
            let mut tx = self.$w.begin().await?;
            let mut out = Vec::with_capacity(facts.len());
            for f in facts {
                let stored = sqlx::query(crate::rows::facts_sql::UPSERT)
                    .bind(f.kind.as_str())
                    .bind(&f.subject)
                    .bind(&f.region)
                    .bind(f.value.to_string())
                    .bind(&f.source)
                    .bind(f.source_time.millis())
                    .bind(f.received_at.millis())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                out.push(stored == 1);
            }
            tx.commit().await?;
            Ok(out)
        }

        pub(crate) async fn facts_shared(
            &self,
            kind: Option<FactKind>,
            subject: Option<&str>,
            region: Option<&str>,
        ) -> Result<Vec<OpsFact>> {
            let rows: Vec<crate::rows::FactRow> = sqlx::query_as(crate::rows::facts_sql::SELECT)
                .bind(kind.map(FactKind::as_str))
                .bind(subject)
                .bind(region)
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(crate::rows::fact_from).collect()
        }

        pub(crate) async fn insert_incident_shared(&self, incident: &Incident, now: Timestamp) -> Result<()> {
            sqlx::query(
                "INSERT INTO incidents (id, status, severity, opened_at, updated_at, version, doc) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6)",
            )
            .bind(incident.id.as_str())
            .bind(incident.status.as_str())
            .bind(incident.severity.as_str())
            .bind(incident.opened_at.millis())
            .bind(now.millis())
            .bind(crate::rows::incident_doc(incident)?)
            .execute(&self.$w)
            .await?;
            Ok(())
        }

        pub(crate) async fn incident_shared(&self, id: &IncidentId) -> Result<Option<(Incident, i64)>> {
            let row: Option<(String, i64)> =
                sqlx::query_as("SELECT doc, version FROM incidents WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.$r)
                    .await?;
            row.map(|(doc, v)| Ok((crate::rows::incident_from(&doc)?, v)))
                .transpose()
        }

        pub(crate) async fn update_incident_shared(
            &self,
            incident: &Incident,
            version: i64,
            now: Timestamp,
        ) -> Result<bool> {
            let done = sqlx::query(
                "UPDATE incidents SET status = $2, severity = $3, updated_at = $4, doc = $5, \
                 version = version + 1 WHERE id = $1 AND version = $6",
            )
            .bind(incident.id.as_str())
            .bind(incident.status.as_str())
            .bind(incident.severity.as_str())
            .bind(now.millis())
            .bind(crate::rows::incident_doc(incident)?)
            .bind(version)
            .execute(&self.$w)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(crate) async fn list_incidents_shared(&self, page: &Page) -> Result<Vec<Incident>> {
            let docs: Vec<String> = sqlx::query_scalar(
                "SELECT doc FROM incidents WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(page.before.as_deref())
            .bind(i64::from(page.limit))
            .fetch_all(&self.$r)
            .await?;
            docs.iter().map(|d| crate::rows::incident_from(d)).collect()
        }
    };
}

pub(crate) use shared_store_methods;
