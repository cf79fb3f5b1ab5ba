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

        /// Those of the given cases that exist, each with its workflow state and version.
        pub(crate) async fn case_works_shared(
            &self,
            ids: &[sb_domain::CaseId],
        ) -> Result<Vec<sb_domain::CaseWork>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids = serde_json::to_string(&ids.iter().map(sb_domain::CaseId::as_str).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            let cols = self.partitions.case_columns();
            let sql = format!(
                "SELECT {cols}, {} FROM cases WHERE id IN ({})",
                crate::rows::CASE_WORK_COLUMNS,
                Self::IDS_FROM_JSON
            );
            let rows: Vec<crate::rows::CaseWorkRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(ids)
                .fetch_all(&self.$w)
                .await?;
            rows.into_iter()
                .map(crate::rows::CaseWorkRow::into_domain)
                .collect()
        }

        pub(crate) async fn save_case_work_shared(
            &self,
            c: &sb_domain::CaseChange,
        ) -> Result<crate::CaseSave> {
            let tags = serde_json::to_string(&c.tags)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode tags: {e}")))?;
            let mut conn = self.$w.acquire().await?;
            // Only events with something personal in them are held (an SLA clock's figures,
            // most of what routing writes, have none): for those the case's region is read
            // before the save, and again under the case's lock, so a case another process
            // placed in between is saved again.
            let personal = !self.partitions.is_empty()
                && c.events
                    .iter()
                    .any(|e| sb_governance::personal::scrub(&mut e.data.clone()));
            for _ in 0..3 {
                let region = if personal {
                    self.owner_region(&mut *conn, crate::residency::Owner::Case, c.case_id.as_str()).await?
                } else {
                    None
                };
                let (holdings, rows) = self
                    .hold_case_events(&mut conn, &[(c.case_id.as_str(), &c.events, region.as_deref())])
                    .await?;
                let rows = rows.into_iter().next().unwrap_or_default();
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let outcome = self
                    .save_case_in(&mut tx, c, &tags, (personal, region.as_deref()), &holdings, &rows)
                    .await?;
                if matches!(outcome, Some(crate::CaseSave::Saved)) {
                    tx.commit().await?;
                    return Ok(crate::CaseSave::Saved);
                }
                tx.rollback().await?;
                self.unhold_apart(&mut conn, &holdings).await?;
                if let Some(save) = outcome {
                    return Ok(save);
                }
            }
            Err(StoreError::Residency(format!(
                "case {} kept changing region while it was saved",
                c.case_id
            )))
        }

        /// Saves several changes in one transaction, each as `save_case_work` would alone:
        /// a change whose case moved on, or whose work items are done, leaves nothing behind
        /// (its savepoint is rolled back) while the others stand. One commit a batch instead
        /// of one a case, each waiting for the disk. Only `together` back ends do this (one
        /// writer, so nobody waits on the batch's locks); otherwise, and with regional
        /// partitions, where personal events are held apart before the transaction, each
        /// change is saved on its own.
        pub(crate) async fn save_case_works_shared(
            &self,
            changes: &[sb_domain::CaseChange],
            together: bool,
        ) -> Result<Vec<crate::CaseSave>> {
            if !together || !self.partitions.is_empty() || changes.len() <= 1 {
                let mut saves = Vec::with_capacity(changes.len());
                for c in changes {
                    saves.push(self.save_case_work_shared(c).await?);
                }
                return Ok(saves);
            }
            let mut tags = Vec::with_capacity(changes.len());
            for c in changes {
                tags.push(
                    serde_json::to_string(&c.tags)
                        .map_err(|e| StoreError::Corrupt(format!("cannot encode tags: {e}")))?,
                );
            }
            let mut conn = self.$w.acquire().await?;
            let cases: Vec<(&str, &[sb_domain::NewCaseEvent], Option<&str>)> = changes
                .iter()
                .map(|c| (c.case_id.as_str(), c.events.as_slice(), None))
                .collect();
            // Without partitions nothing is held: these are the rows as stored.
            let (_, rows) = self.hold_case_events(&mut conn, &cases).await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let mut saves = Vec::with_capacity(changes.len());
            for (c, tags) in changes.iter().zip(&tags) {
                let mut one = sqlx::Connection::begin(&mut *tx).await?;
                match self.save_case_row(&mut one, c, tags).await? {
                    None => {
                        one.commit().await?;
                        saves.push(crate::CaseSave::Saved);
                    }
                    Some(outcome) => {
                        one.rollback().await?;
                        saves.push(outcome);
                    }
                }
            }
            // The events of the saved cases, in multi-row statements: a round trip costs
            // more than the rows in it.
            let events: Vec<(&str, &sb_domain::NewCaseEvent, &crate::residency::EventRow)> = changes
                .iter()
                .zip(&rows)
                .zip(&saves)
                .filter(|(_, save)| **save == crate::CaseSave::Saved)
                .flat_map(|((c, rows), _)| {
                    c.events.iter().zip(rows).map(|(e, row)| (c.case_id.as_str(), e, row))
                })
                .collect();
            for chunk in crate::shapes::slices(&events) {
                let mut q = sqlx::QueryBuilder::<<Self as crate::residency::Backend>::Db>::new(
                    "INSERT INTO case_events (case_id, kind, actor, at, data, dedup) ",
                );
                q.push_values(chunk, |mut b, (case, e, row)| {
                    b.push_bind(*case)
                        .push_bind(e.kind.as_str())
                        .push_bind(e.actor.as_str())
                        .push_bind(e.at.millis())
                        .push_bind(row.data.as_str())
                        .push_bind(e.dedup.as_deref());
                });
                q.push(" ON CONFLICT (dedup) DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(saves)
        }

        /// The new events of each case in `cases` (its id, events and the region it is
        /// placed in) as they are to be stored — their `seq` (given to all of them when any
        /// is held), central data and whether they are held — and the events held in their
        /// case's partition: only those with something personal in them (an SLA clock's
        /// figures have none, and stay central). The seqs follow the order of `cases`, which
        /// is the order the caller inserts them in.
        pub(crate) async fn hold_case_events(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            cases: &[(&str, &[sb_domain::NewCaseEvent], Option<&str>)],
        ) -> Result<(Vec<crate::residency::Holding>, Vec<Vec<crate::residency::EventRow>>)> {
            let mut rows: Vec<Vec<crate::residency::EventRow>> = cases
                .iter()
                .map(|(_, events, _)| {
                    events
                        .iter()
                        .map(|e| crate::residency::EventRow {
                            seq: None,
                            data: e.data.to_string(),
                            held: false,
                        })
                        .collect()
                })
                .collect();
            let personal: Vec<Vec<bool>> = cases
                .iter()
                .map(|(_, events, region)| {
                    events
                        .iter()
                        .map(|e| region.is_some() && sb_governance::personal::scrub(&mut e.data.clone()))
                        .collect()
                })
                .collect();
            if !personal.iter().flatten().any(|p| *p) {
                return Ok((Vec::new(), rows));
            }
            // Every event of the write gets its seq now, so held ones can be keyed by it.
            let total = rows.iter().map(Vec::len).sum();
            let mut seqs = self.next_seqs(conn, "case_events", total).await?.into_iter();
            let mut holdings = Vec::new();
            for (((case, _, region), rows), personal) in cases.iter().zip(&mut rows).zip(personal) {
                let mut held = match region {
                    Some(region) => Some(crate::residency::Holding::new(
                        crate::residency::Document::CaseEvent,
                        self.partitions.placed(region)?,
                    )),
                    None => None,
                };
                for (row, personal) in rows.iter_mut().zip(personal) {
                    let seq = seqs.next().ok_or_else(|| {
                        StoreError::Corrupt("fewer seqs than events".into())
                    })?;
                    row.seq = Some(seq);
                    if let (true, Some(held)) = (personal, held.as_mut()) {
                        let full = std::mem::take(&mut row.data);
                        let blank = held.hold(
                            case,
                            crate::residency::DocKey::Seq(seq),
                            vec![Some(full)],
                        )?;
                        row.data = blank.into_iter().flatten().next().unwrap_or_default();
                        row.held = true;
                    }
                }
                holdings.extend(held.filter(|h| !h.rows.is_empty()));
            }
            Ok((holdings, rows))
        }

        /// Inserts a case's new `events` as `hold_case_events` prepared them (`rows`), inside
        /// `tx`; an event stored before under its dedup key is skipped, and what it held goes.
        pub(crate) async fn insert_case_events<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            case: &str,
            events: &[sb_domain::NewCaseEvent],
            rows: &[crate::residency::EventRow],
            region: Option<&str>,
            holdings: &[crate::residency::Holding],
        ) -> Result<()> {
            for (e, row) in events.iter().zip(rows) {
                let q = sqlx::query(if row.seq.is_some() {
                    "INSERT INTO case_events (case_id, kind, actor, at, data, dedup, placed_in, seq) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedup) DO NOTHING"
                } else {
                    "INSERT INTO case_events (case_id, kind, actor, at, data, dedup, placed_in) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedup) DO NOTHING"
                })
                .bind(case)
                .bind(e.kind.as_str())
                .bind(e.actor.as_str())
                .bind(e.at.millis())
                .bind(row.data.as_str())
                .bind(e.dedup.as_deref())
                .bind(region.filter(|_| row.held));
                let q = match row.seq {
                    Some(seq) => q.bind(seq),
                    None => q,
                };
                let inserted = q.execute(&mut **tx).await?.rows_affected();
                if let (0, true, Some(seq)) = (inserted, row.held, row.seq) {
                    self.drop_held_key(tx, holdings, &crate::residency::DocKey::Seq(seq))
                        .await?;
                }
            }
            Ok(())
        }

        /// The case row and its done work items, inside `tx`: `None` when both held (the
        /// change is written), else why not (the caller rolls back what was written).
        async fn save_case_row<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            c: &sb_domain::CaseChange,
            tags: &str,
        ) -> Result<Option<crate::CaseSave>> {
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
            .execute(&mut **tx)
            .await?;
            if saved.rows_affected() != 1 {
                return Ok(Some(crate::CaseSave::Changed));
            }
            for seq in &c.done {
                let gone = sqlx::query("DELETE FROM case_work WHERE seq = $1")
                    .bind(seq)
                    .execute(&mut **tx)
                    .await?;
                if gone.rows_affected() != 1 {
                    return Ok(Some(crate::CaseSave::AlreadyDone));
                }
            }
            Ok(None)
        }

        /// The save itself, inside `tx`: `None` when the case was placed since `region` was
        /// read (for events with something `personal` in them), else what became of it (the
        /// caller commits only `Saved`).
        async fn save_case_in<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            c: &sb_domain::CaseChange,
            tags: &str,
            (personal, region): (bool, Option<&str>),
            holdings: &[crate::residency::Holding],
            rows: &[crate::residency::EventRow],
        ) -> Result<Option<crate::CaseSave>> {
            if let Some(outcome) = self.save_case_row(tx, c, tags).await? {
                return Ok(Some(outcome));
            }
            // The case row is locked by the update above: its placement cannot change now.
            if personal
                && self.owner_region(&mut **tx, crate::residency::Owner::Case, c.case_id.as_str()).await?.as_deref() != region
            {
                return Ok(None);
            }
            self.hold_within(tx, holdings).await?;
            self.insert_case_events(tx, c.case_id.as_str(), &c.events, rows, region, holdings)
                .await?;
            Ok(Some(crate::CaseSave::Saved))
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

        /// Open cases per agent. `from` names the cases table, with SQLite's `INDEXED BY
        /// cases_assignee_open`: without statistics SQLite prefers the status index, which
        /// walks every open case, assigned or not.
        pub(crate) async fn agent_loads_shared(&self, from: &str) -> Result<Vec<(String, i64)>> {
            Ok(sqlx::query_as(AssertSqlSafe(format!(
                "SELECT assignee, COUNT(*) FROM {from} WHERE assignee IS NOT NULL \
                 AND status IN ('new', 'open', 'pending', 'on_hold', 'escalated') \
                 GROUP BY assignee ORDER BY assignee"
            )))
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
            // A reply to a placed case is held in its partition from the start.
            let mut conn = self.$w.acquire().await?;
            let region = self
                .owner_region(&mut *conn, crate::residency::Owner::Case, r.case_id.as_str())
                .await?;
            let (holdings, central) = self.partitions.hold_row(
                crate::residency::Document::Reply,
                region.as_deref(),
                r.case_id.as_str(),
                crate::residency::DocKey::Id(r.id.clone()),
                vec![Some(r.doc.to_string())],
            )?;
            self.hold_apart(&mut conn, &holdings).await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            self.hold_within(&mut tx, &holdings).await?;
            sqlx::query(
                "INSERT INTO replies (id, case_id, author, automated, status, doc, created_at, \
                 updated_at, version, placed_in) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, $8)",
            )
            .bind(r.id.as_str())
            .bind(r.case_id.as_str())
            .bind(r.author.as_str())
            .bind(r.automated)
            .bind(r.status.as_str())
            .bind(central.into_iter().flatten().next())
            .bind(r.created_at.millis())
            .bind(region.as_deref())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
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
            // A placed case's reply is rewritten in its partition. The version read first
            // keeps the current text, to put back should another process save it first.
            let mut conn = self.$w.acquire().await?;
            let before: Option<(Option<String>, Option<String>)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {}, (SELECT placed_in FROM cases WHERE cases.id = replies.case_id) \
                 FROM replies WHERE id = $1 AND version = $2",
                self.partitions.document_sql("replies", crate::residency::Document::Reply, "doc")
            )))
            .bind(r.id.as_str())
            .bind(r.version)
            .fetch_optional(&mut *conn)
            .await?;
            let Some((before, region)) = before else {
                return Ok(false);
            };
            let key = crate::residency::DocKey::Id(r.id.clone());
            let (holdings, central) = self.partitions.hold_row(
                crate::residency::Document::Reply,
                region.as_deref(),
                r.case_id.as_str(),
                key.clone(),
                vec![Some(r.doc.to_string())],
            )?;
            self.hold_apart(&mut conn, &holdings).await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            self.hold_within(&mut tx, &holdings).await?;
            let done = sqlx::query(
                "UPDATE replies SET status = $2, doc = $3, updated_at = $4, version = version + 1, \
                 placed_in = $6, place_to = NULL WHERE id = $1 AND version = $5",
            )
            .bind(r.id.as_str())
            .bind(r.status.as_str())
            .bind(central.into_iter().flatten().next())
            .bind(now.millis())
            .bind(r.version)
            .bind(region.as_deref())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if done {
                tx.commit().await?;
                return Ok(true);
            }
            tx.rollback().await?;
            let (restore, _) = self.partitions.hold_row(
                crate::residency::Document::Reply,
                region.as_deref(),
                r.case_id.as_str(),
                key,
                vec![before],
            )?;
            self.hold_apart(&mut conn, &restore).await?;
            Ok(false)
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
