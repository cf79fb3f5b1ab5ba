//! Store methods of the case workflow, the same SQL on both back ends (see `shared.rs` for
//! how back ends instantiate them). A case changes only through `save_case_work`, which
//! compares the version the writer read, so two processes never both apply a change to the
//! same case state.

/// Open statuses, in the order the `waiting_cases` list ranks priorities.
pub(crate) const WAITING_SQL: &str = "SELECT {cols} FROM cases WHERE assignee IS NULL \
    AND merged_into IS NULL AND status IN ('new', 'open', 'escalated') \
    ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
    opened_at, id LIMIT $1";

macro_rules! workflow_store_methods {
    ($w:ident, $r:ident, $lock:literal) => {
        pub(crate) async fn case_work_shared(
            &self,
            id: &sb_domain::CaseId,
        ) -> Result<Option<sb_domain::CaseWork>> {
            let cols = self.partitions.case_columns();
            let sql = format!(
                "SELECT {cols}, {} FROM cases WHERE id = $1",
                crate::rows::CASE_WORK_COLUMNS
            );
            let row: Option<crate::rows::CaseWorkRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_optional(&self.$w)
                .await?;
            row.map(crate::rows::CaseWorkRow::into_domain).transpose()
        }

        pub(crate) async fn save_case_work_shared(
            &self,
            c: &sb_domain::CaseChange,
        ) -> Result<crate::CaseSave> {
            let mut tx = self.$w.begin().await?;
            let tags = serde_json::to_string(&c.tags)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode tags: {e}")))?;
            let saved = sqlx::query(
                "UPDATE cases SET status = $1, priority = $2, queue_id = $3, assignee = $4, \
                 tags = $5, sla = $6, sla_due_at = $7, escalations = $8, first_response_at = $9, \
                 first_resolved_at = $10, resolved_at = $11, merged_into = $12, updated_at = $13, \
                 version = version + 1 WHERE id = $14 AND version = $15",
            )
            .bind(c.status.as_str())
            .bind(c.priority.as_str())
            .bind(c.queue_id.as_ref().map(|q| q.as_str()))
            .bind(c.assignee.as_deref())
            .bind(tags)
            .bind(c.sla.as_ref().map(|s| s.to_string()))
            .bind(c.sla_due_at.map(|t| t.millis()))
            .bind(c.escalations.to_string())
            .bind(c.first_response_at.map(|t| t.millis()))
            .bind(c.first_resolved_at.map(|t| t.millis()))
            .bind(c.resolved_at.map(|t| t.millis()))
            .bind(c.merged_into.as_ref().map(|m| m.as_str()))
            .bind(c.updated_at.millis())
            .bind(c.case_id.as_str())
            .bind(c.expected_version)
            .execute(&mut *tx)
            .await?;
            if saved.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(crate::CaseSave::Changed);
            }
            for seq in &c.done {
                let gone = sqlx::query("DELETE FROM case_work WHERE seq = $1")
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                if gone.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(crate::CaseSave::AlreadyDone);
                }
            }
            // The case row is locked by the update above: its placement cannot change now.
            let place_to: Option<String> = if self.partitions.is_empty() || c.events.is_empty() {
                None
            } else {
                sqlx::query_scalar("SELECT placed_in FROM cases WHERE id = $1")
                    .bind(c.case_id.as_str())
                    .fetch_one(&mut *tx)
                    .await?
            };
            let mut placing = false;
            for e in &c.events {
                // Only an event with something personal in it has anything to move (an SLA
                // clock's figures do not): the others' central copy is already what blanking
                // would leave.
                let place_to = place_to.as_deref().filter(|_| {
                    let mut blanked = e.data.clone();
                    sb_governance::personal::scrub(&mut blanked)
                });
                placing |= place_to.is_some();
                sqlx::query(
                    "INSERT INTO case_events (case_id, kind, actor, at, data, dedup, place_to) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedup) DO NOTHING",
                )
                .bind(c.case_id.as_str())
                .bind(e.kind.as_str())
                .bind(e.actor.as_str())
                .bind(e.at.millis())
                .bind(e.data.to_string())
                .bind(e.dedup.as_deref())
                .bind(place_to)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            if placing {
                self.place_documents_after_write(crate::residency::Document::CaseEvent).await;
            }
            Ok(crate::CaseSave::Saved)
        }

        pub(crate) async fn claim_case_work_shared(
            &self,
            now: Timestamp,
            limit: u32,
            lease_ms: i64,
        ) -> Result<Vec<sb_domain::CaseWorkItem>> {
            let rows: Vec<(i64, String, String, bool, i64)> = sqlx::query_as(concat!(
                "UPDATE case_work SET leased_until = $1 WHERE seq IN (SELECT seq FROM case_work \
                 WHERE leased_until IS NULL OR leased_until <= $2 ORDER BY seq LIMIT $3 ",
                $lock,
                ") RETURNING seq, case_id, message_id, opened, at"
            ))
            .bind(now.millis() + lease_ms)
            .bind(now.millis())
            .bind(i64::from(limit))
            .fetch_all(&self.$w)
            .await?;
            let mut items: Vec<sb_domain::CaseWorkItem> = rows
                .into_iter()
                .map(|(seq, case_id, message_id, opened, at)| sb_domain::CaseWorkItem {
                    seq,
                    case_id: sb_domain::CaseId::from_stored(case_id),
                    message_id: MessageId::from_stored(message_id),
                    opened,
                    at: Timestamp(at),
                })
                .collect();
            items.sort_by_key(|i| i.seq);
            Ok(items)
        }

        pub(crate) async fn pending_case_work_count_shared(&self) -> Result<i64> {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM case_work")
                .fetch_one(&self.$w)
                .await?)
        }

        pub(crate) async fn due_cases_shared(
            &self,
            now: Timestamp,
            limit: u32,
        ) -> Result<Vec<sb_domain::CaseId>> {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM cases WHERE sla_due_at IS NOT NULL AND sla_due_at <= $1 \
                 ORDER BY sla_due_at LIMIT $2",
            )
            .bind(now.millis())
            .bind(i64::from(limit))
            .fetch_all(&self.$w)
            .await?;
            Ok(ids.into_iter().map(sb_domain::CaseId::from_stored).collect())
        }

        pub(crate) async fn case_events_shared(
            &self,
            id: &sb_domain::CaseId,
        ) -> Result<Vec<sb_domain::CaseEvent>> {
            let data = self
                .partitions
                .document_sql("case_events", crate::residency::Document::CaseEvent, "data");
            let rows: Vec<crate::rows::CaseEventRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT seq, kind, actor, at, {data} AS data FROM case_events WHERE case_id = $1 ORDER BY seq"
            )))
            .bind(id.as_str())
            .fetch_all(&self.$r)
            .await?;
            rows.into_iter()
                .map(crate::rows::CaseEventRow::into_domain)
                .collect()
        }

        pub(crate) async fn case_events_of_kind_shared(
            &self,
            kind: &str,
            after_seq: i64,
            limit: u32,
        ) -> Result<Vec<(sb_domain::CaseId, sb_domain::CaseEvent)>> {
            let data = self
                .partitions
                .document_sql("case_events", crate::residency::Document::CaseEvent, "data");
            let rows: Vec<(String, i64, String, String, i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT case_id, seq, kind, actor, at, {data} AS data FROM case_events \
                 WHERE kind = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            )))
            .bind(kind)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.$r)
            .await?;
            rows.into_iter()
                .map(|(case_id, seq, kind, actor, at, data)| {
                    let id = sb_domain::CaseId::parse(&case_id).ok_or_else(|| {
                        crate::StoreError::Corrupt(format!("case event {seq}: bad case id `{case_id}`"))
                    })?;
                    let event = crate::rows::CaseEventRow { seq, kind, actor, at, data }.into_domain()?;
                    Ok((id, event))
                })
                .collect()
        }

        pub(crate) async fn agent_loads_shared(&self) -> Result<Vec<(String, i64)>> {
            Ok(sqlx::query_as(
                "SELECT assignee, COUNT(*) FROM cases WHERE assignee IS NOT NULL \
                 AND status IN ('new', 'open', 'pending', 'on_hold', 'escalated') \
                 GROUP BY assignee ORDER BY assignee",
            )
            .fetch_all(&self.$w)
            .await?)
        }

        pub(crate) async fn set_presence_shared(
            &self,
            agent: &str,
            presence: &str,
            at: Timestamp,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO agent_presence (agent_id, presence, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (agent_id) DO UPDATE SET presence = excluded.presence, \
                 updated_at = excluded.updated_at",
            )
            .bind(agent)
            .bind(presence)
            .bind(at.millis())
            .execute(&self.$w)
            .await?;
            Ok(())
        }

        pub(crate) async fn presences_shared(&self) -> Result<Vec<(String, String)>> {
            Ok(sqlx::query_as(
                "SELECT agent_id, presence FROM agent_presence ORDER BY agent_id",
            )
            .fetch_all(&self.$w)
            .await?)
        }

        pub(crate) async fn waiting_cases_shared(&self, limit: u32) -> Result<Vec<Case>> {
            let sql = crate::workflow::WAITING_SQL.replace("{cols}", &self.partitions.case_columns());
            let rows: Vec<CaseRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(i64::from(limit))
                .fetch_all(&self.$w)
                .await?;
            rows.into_iter().map(CaseRow::into_domain).collect()
        }

        pub(crate) async fn ensure_queues_shared(&self, names: &[String]) -> Result<Vec<Queue>> {
            for name in names {
                sqlx::query(
                    "INSERT INTO queues (id, name, is_default) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(sb_domain::QueueId::generate().as_str())
                .bind(name.as_str())
                .bind(false)
                .execute(&self.$w)
                .await?;
            }
            let rows: Vec<QueueRow> =
                sqlx::query_as("SELECT id, name, is_default FROM queues ORDER BY name")
                    .fetch_all(&self.$w)
                    .await?;
            Ok(rows.into_iter().map(QueueRow::into_domain).collect())
        }

        pub(crate) async fn insert_reply_shared(&self, r: &crate::StoredReply) -> Result<()> {
            // A reply to a placed case is written here in full, then moved to the partition.
            sqlx::query(
                "INSERT INTO replies (id, case_id, author, automated, status, doc, created_at, \
                 updated_at, version, place_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, \
                 (SELECT placed_in FROM cases WHERE id = $2))",
            )
            .bind(r.id.as_str())
            .bind(r.case_id.as_str())
            .bind(r.author.as_str())
            .bind(r.automated)
            .bind(r.status.as_str())
            .bind(r.doc.to_string())
            .bind(r.created_at.millis())
            .execute(&self.$w)
            .await?;
            self.place_documents_after_write(crate::residency::Document::Reply).await;
            Ok(())
        }

        pub(crate) async fn reply_shared(&self, id: &str) -> Result<Option<crate::StoredReply>> {
            let cols = self.partitions.reply_columns();
            let row: Option<crate::rows::ReplyRow> =
                sqlx::query_as(AssertSqlSafe(format!("SELECT {cols} FROM replies WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.$w)
            .await?;
            row.map(crate::rows::ReplyRow::into_domain).transpose()
        }

        pub(crate) async fn update_reply_shared(
            &self,
            r: &crate::StoredReply,
            now: Timestamp,
        ) -> Result<bool> {
            // A placed reply's new version is written here in full and moved again.
            let done = sqlx::query(
                "UPDATE replies SET status = $2, doc = $3, updated_at = $4, version = version + 1, \
                 place_to = COALESCE(placed_in, place_to), placed_in = NULL \
                 WHERE id = $1 AND version = $5",
            )
            .bind(r.id.as_str())
            .bind(r.status.as_str())
            .bind(r.doc.to_string())
            .bind(now.millis())
            .bind(r.version)
            .execute(&self.$w)
            .await?;
            self.place_documents_after_write(crate::residency::Document::Reply).await;
            Ok(done.rows_affected() == 1)
        }

        pub(crate) async fn list_replies_shared(
            &self,
            case_id: Option<&sb_domain::CaseId>,
            status: Option<&str>,
            limit: u32,
        ) -> Result<Vec<crate::StoredReply>> {
            let cols = self.partitions.reply_columns();
            let rows: Vec<crate::rows::ReplyRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {cols} FROM replies WHERE ($1 IS NULL OR case_id = $1) \
                 AND ($2 IS NULL OR status = $2) ORDER BY created_at, id LIMIT $3"
            )))
            .bind(case_id.map(|c| c.as_str()))
            .bind(status)
            .bind(i64::from(limit))
            .fetch_all(&self.$r)
            .await?;
            rows.into_iter()
                .map(crate::rows::ReplyRow::into_domain)
                .collect()
        }

        pub(crate) async fn recent_automated_replies_shared(
            &self,
            limit: u32,
        ) -> Result<Vec<crate::StoredReply>> {
            let cols = self.partitions.reply_columns();
            let rows: Vec<crate::rows::ReplyRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {cols} FROM replies WHERE automated ORDER BY created_at DESC, id DESC LIMIT $1"
            )))
            .bind(i64::from(limit))
            .fetch_all(&self.$r)
            .await?;
            rows.into_iter()
                .map(crate::rows::ReplyRow::into_domain)
                .collect()
        }
    };
}

pub(crate) use workflow_store_methods;
