//! Store methods whose SQL is the same on both back ends, written once. Each back end
//! instantiates them with its pools (`$w` writes, `$r` reads) and its locking clauses (`$lock`
//! for leasing outbox rows, `$row_lock` for reading a row it is about to change); its `Store`
//! implementation (`store_impl!`) forwards to them.

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
            let current: Option<(String, String, Option<i64>, Option<String>)> = sqlx::query_as(
                concat!("SELECT id, text, removed_at, placed_in FROM messages WHERE source = $1 AND external_id = $2", $row_lock),
            )
            .bind(source.as_str())
            .bind(external_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, mut text, removed_at, placed_in)) = current else {
                return Ok(Revised::Unknown);
            };
            // A message held in a region's partition is revised there; the central row keeps
            // only the revision's number, kind and time.
            let partition = match placed_in.as_deref() {
                Some(region) => Some(self.partitions.placed(region)?),
                None => None,
            };
            if let Some(schema) = partition {
                let held: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT text FROM {schema}.message_content WHERE id = $1"
                )))
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
                text = held.unwrap_or_default();
            }
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
            .bind(if partition.is_some() { "" } else { text.as_str() })
            .bind(at.millis())
            .execute(&mut *tx)
            .await?;
            if let Some(schema) = partition {
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.message_revisions (message_id, revision, previous_text) \
                     VALUES ($1, $2, $3)"
                )))
                .bind(id.as_str())
                .bind(number)
                .bind(&text)
                .execute(&mut *tx)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {schema}.message_content SET text = $1 WHERE id = $2"
                )))
                .bind(&next_text)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            }
            let update = match revision {
                Revision::Edit { .. } => "UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3",
                Revision::Remove => "UPDATE messages SET text = $1, removed_at = $2 WHERE id = $3",
            };
            sqlx::query(update)
                .bind(if partition.is_some() { "" } else { next_text })
                .bind(at.millis())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Revised::Applied(id))
        }

        /// Deletes a message's content (`Held::Message`) or a case's subject (`Held::Case`)
        /// from every region partition, inside the caller's transaction (a partition file
        /// commits on its own; repeating the erasure is safe).
        pub(crate) async fn erase_placed<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            held: crate::residency::Held,
            id: &str,
        ) -> Result<()> {
            for schema in self.partitions.schemas() {
                for (table, key) in held.tables() {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM {schema}.{table} WHERE {key} = $1")))
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }

        /// Changes a customer's display name where a region partition holds it, inside the
        /// caller's transaction (the central row keeps none for a placed customer).
        pub(crate) async fn rename_placed<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            id: &str,
            name: &str,
        ) -> Result<()> {
            for schema in self.partitions.schemas() {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {schema}.customer_content SET display_name = $1 WHERE id = $2"
                )))
                .bind(name)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Where each message of an arriving batch is held from the moment it is stored
        /// (G5): the partition of the region the pipeline will place it in — its author's
        /// customer's region, else the region the delivery carried — when that region has
        /// one. `None` for a message stored centrally: no partition is due, or its author is
        /// not known yet and the delivery names no region with a partition.
        pub(crate) async fn arrival_regions(&self, batch: &[crate::MessageRecord]) -> Result<Vec<Option<String>>> {
            if self.partitions.is_empty() {
                return Ok(vec![None; batch.len()]);
            }
            let keys: Vec<String> = batch
                .iter()
                .map(|r| sb_domain::Identity::key(r.message.source, &r.message.author.handle))
                .collect();
            let mut unique: Vec<&str> = keys.iter().map(String::as_str).collect();
            unique.sort_unstable();
            unique.dedup();
            let (lookup, plain) = self.partitions.lookup_keys(unique)?;
            let lookup = serde_json::to_string(&lookup)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
            let known: Vec<(String, Option<String>)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT i.key, c.region FROM identities i JOIN customers c ON c.id = i.customer_id \
                 WHERE i.key IN ({})",
                Self::IDS_FROM_JSON
            )))
            .bind(lookup)
            .fetch_all(&self.$r)
            .await?;
            let known: std::collections::HashMap<String, Option<String>> = known
                .into_iter()
                .map(|(key, region)| (plain.get(&key).cloned().unwrap_or(key), region))
                .collect();
            Ok(batch
                .iter()
                .zip(&keys)
                .map(|(r, key)| {
                    known
                        .get(key)
                        .cloned()
                        .flatten()
                        .or_else(|| r.message.region.clone())
                        .filter(|region| self.partitions.schema(region).is_some())
                })
                .collect())
        }

        /// Writes the content of the arriving messages `held` names a region for into that
        /// region's partition, inside `tx`. On SQLite that transaction commits on its own,
        /// before the central rows are stored without the content: a commit spanning two
        /// files is not atomic, and in this order a crash leaves at worst content no central
        /// row names (its sender got no answer and sends it again), which
        /// `drop_stray_arrivals` removes. On PostgreSQL it is the central rows' transaction.
        pub(crate) async fn hold_arrivals<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            batch: &[crate::MessageRecord],
            held: &[Option<String>],
        ) -> Result<()> {
            for (region, schema) in self.partitions.iter() {
                let rows: Vec<&crate::MessageRecord> = batch
                    .iter()
                    .zip(held)
                    .filter(|(_, h)| h.as_deref() == Some(region))
                    .map(|(r, _)| r)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                for chunk in crate::shapes::slices(&rows) {
                    let mut q = sqlx::QueryBuilder::<<Self as crate::residency::Backend>::Db>::new(
                        format!(
                            "INSERT INTO {schema}.message_content (id, author_handle, author_name, text, raw, placed_at) "
                        ),
                    );
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id.as_str())
                            .push_bind(r.message.author.handle.as_str())
                            .push_bind(r.message.author.name.as_deref())
                            .push_bind(r.message.text.as_str())
                            .push_bind(r.message.raw.to_string())
                            .push_bind(r.received_at.millis());
                    });
                    q.push(" ON CONFLICT (id) DO NOTHING");
                    q.build().execute(&mut **tx).await?;
                }
                sqlx::query("INSERT INTO placed_regions (region) VALUES ($1) ON CONFLICT (region) DO NOTHING")
                    .bind(region)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// Removes, inside the central rows' transaction `tx`, the held content of arrivals
        /// that were not stored: redeliveries of a stored message, answered with its id.
        pub(crate) async fn drop_unstored_arrivals<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            ids: &[&str],
        ) -> Result<()> {
            if ids.is_empty() {
                return Ok(());
            }
            let ids = serde_json::to_string(ids)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            for schema in self.partitions.schemas() {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.message_content WHERE id IN ({})",
                    Self::IDS_FROM_JSON
                )))
                .bind(&ids)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Removes content a crash left in a partition that no central row names as held
        /// there — between holding an arrival and storing its central row (`hold_arrivals`),
        /// or between returning a misplaced message and removing it (`unhold_misplaced`) —
        /// once it is older than any batch still being stored could be.
        pub(crate) async fn earliest_unprocessed_shared(
            &self,
            received_since: Timestamp,
            scan: u32,
        ) -> Result<Option<Timestamp>> {
            // Bounded by `scan` rows of the unprocessed index, however long the backlog.
            let at: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(created_at) FROM (SELECT created_at, received_at FROM messages \
                 WHERE stage = 'received' ORDER BY seq LIMIT $1) pending WHERE received_at >= $2",
            )
            .bind(i64::from(scan))
            .bind(received_since.millis())
            .fetch_one(&self.$r)
            .await?;
            Ok(at.map(Timestamp))
        }

        pub(crate) async fn drop_stray_arrivals_shared(&self, now: Timestamp) -> Result<u64> {
            let before = now.plus_millis(-(crate::STRAY_ARRIVAL_GRACE.as_millis() as i64)).millis();
            let mut dropped = 0;
            for (region, schema) in self.partitions.iter() {
                dropped += sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.message_content WHERE placed_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = {schema}.message_content.id \
                     AND m.placed_in = $2)"
                )))
                .bind(before)
                .bind(region)
                .execute(&self.$w)
                .await?
                .rows_affected();
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.message_revisions WHERE NOT EXISTS \
                     (SELECT 1 FROM {schema}.message_content p WHERE p.id = {schema}.message_revisions.message_id)"
                )))
                .execute(&self.$w)
                .await?;
                // Documents a write held apart (`hold_apart`) whose own commit a crash or an
                // error then lost.
                for doc in crate::residency::Document::ALL {
                    let content = doc.content_table();
                    sqlx::query(AssertSqlSafe(format!(
                        "DELETE FROM {schema}.{content} WHERE NOT EXISTS (SELECT 1 FROM {table} t \
                         WHERE t.{central_owner} = {schema}.{content}.{owner} \
                         AND t.{key} = {schema}.{content}.{key})",
                        table = doc.table(),
                        central_owner = doc.owner_column(),
                        owner = doc.owner().column(),
                        key = doc.key(),
                    )))
                    .execute(&self.$w)
                    .await?;
                }
                // A handle held for a new customer whose central rows a crash then lost; not
                // one on its way from a central row (copied, its key not yet changed).
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.identity_content WHERE NOT EXISTS (SELECT 1 FROM identities i \
                     WHERE i.key = {schema}.identity_content.key OR (i.place_to = $1 \
                     AND i.platform = {schema}.identity_content.platform \
                     AND i.handle = {schema}.identity_content.handle))"
                )))
                .bind(region)
                .execute(&self.$w)
                .await?;
                // A case or customer a plan placed whose central row a crash then lost (the
                // plan is redone with new ids).
                for (content, table) in [("case_content", "cases"), ("customer_content", "customers")] {
                    sqlx::query(AssertSqlSafe(format!(
                        "DELETE FROM {schema}.{content} WHERE NOT EXISTS \
                         (SELECT 1 FROM {table} t WHERE t.id = {schema}.{content}.id)"
                    )))
                    .execute(&self.$w)
                    .await?;
                }
            }
            Ok(dropped)
        }

        /// Messages of the batch (`ids`, a JSON array read by `in_batch`) held from their
        /// arrival in one region's partition whose region turned out, once processed, to be
        /// another (their author's customer is of another region): their content goes back
        /// into the central row and commits, then leaves the partition and commits, and
        /// the placement that follows holds it in their own region (or centrally, when that
        /// region has no partition). A crash in between leaves a copy in the partition that
        /// no central row names there, which `drop_stray_arrivals` removes.
        async fn unhold_misplaced(&self, ids: &str, in_batch: &str) -> Result<()> {
            let misplaced = format!(
                "SELECT m.id FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                 WHERE m.id {in_batch} AND m.stage = 'processed' AND m.erased_at IS NULL \
                 AND m.placed_in = $2 AND COALESCE(c.region, m.region) <> $2"
            );
            let mut returned = Vec::new();
            let mut tx = self.$w.begin().await?;
            for (region, schema) in self.partitions.iter() {
                let n = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE messages SET text = p.text, author_handle = p.author_handle, \
                     author_name = p.author_name, raw = p.raw, placed_in = NULL \
                     FROM {schema}.message_content p WHERE p.id = messages.id \
                     AND messages.id IN ({misplaced})"
                )))
                .bind(ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    continue;
                }
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE message_revisions SET previous_text = q.previous_text \
                     FROM {schema}.message_revisions q WHERE q.message_id = message_revisions.message_id \
                     AND q.revision = message_revisions.revision \
                     AND message_revisions.message_id IN \
                     (SELECT id FROM messages WHERE id {in_batch} AND placed_in IS NULL)"
                )))
                .bind(ids)
                .execute(&mut *tx)
                .await?;
                returned.push(schema);
            }
            tx.commit().await?;
            if returned.is_empty() {
                return Ok(());
            }
            let mut tx = self.$w.begin().await?;
            for schema in returned {
                for table in ["message_revisions", "message_content"] {
                    let key = if table == "message_content" { "id" } else { "message_id" };
                    sqlx::query(AssertSqlSafe(format!(
                        "DELETE FROM {schema}.{table} WHERE {key} IN \
                         (SELECT id FROM messages WHERE id {in_batch} AND placed_in IS NULL)"
                    )))
                    .bind(ids)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        }

        pub(crate) async fn place_messages_shared(&self, ids: &[MessageId], now: Timestamp) -> Result<u64> {
            if self.partitions.is_empty() || ids.is_empty() {
                return Ok(0);
            }
            let ids: Vec<&str> = ids.iter().map(MessageId::as_str).collect();
            let ids = serde_json::to_string(&ids)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            let in_batch = format!("IN ({})", Self::IDS_FROM_JSON);
            self.unhold_misplaced(&ids, &in_batch).await?;
            // Messages of the batch, processed and not erased, whose region is `$2`, held
            // there from their arrival or not placed yet; `due` are those not placed yet.
            let owned = format!(
                "m.id {in_batch} AND m.stage = 'processed' AND m.erased_at IS NULL \
                 AND COALESCE(c.region, m.region) = $2 AND (m.placed_in IS NULL OR m.placed_in = $2)"
            );
            let due = format!("{owned} AND m.placed_in IS NULL");
            // First the copy, committed on its own: the partition may be another file, and a
            // commit spanning two files is not atomic. Repeating it overwrites the same rows.
            let mut tx = self.$w.begin().await?;
            let mut copied = Vec::new();
            for (region, schema) in self.partitions.iter() {
                let n = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.message_content (id, author_handle, author_name, text, raw, placed_at) \
                     SELECT m.id, m.author_handle, m.author_name, m.text, m.raw, $3 FROM messages m \
                     LEFT JOIN customers c ON c.id = m.customer_id WHERE {due} \
                     ON CONFLICT (id) DO UPDATE SET author_handle = excluded.author_handle, \
                     author_name = excluded.author_name, text = excluded.text, raw = excluded.raw, \
                     placed_at = excluded.placed_at"
                )))
                .bind(&ids)
                .bind(region)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO {schema}.message_revisions (message_id, revision, previous_text) \
                         SELECT r.message_id, r.revision, r.previous_text FROM message_revisions r \
                         JOIN messages m ON m.id = r.message_id LEFT JOIN customers c ON c.id = m.customer_id \
                         WHERE {due} \
                         ON CONFLICT (message_id, revision) DO UPDATE SET previous_text = excluded.previous_text"
                    )))
                    .bind(&ids)
                    .bind(region)
                    .execute(&mut *tx)
                    .await?;
                }
                // The case subject is cut from the case's first message: it goes with it.
                let cases = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.case_content (id, subject) \
                     SELECT k.id, k.subject FROM cases k WHERE k.placed_in IS NULL AND k.id IN \
                     (SELECT m.case_id FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                     WHERE {owned}) \
                     ON CONFLICT (id) DO UPDATE SET subject = excluded.subject"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // The customer's display name, when the customer is of this region.
                let customers = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.customer_content (id, display_name) \
                     SELECT u.id, u.display_name FROM customers u WHERE u.placed_in IS NULL \
                     AND u.region = $2 AND u.erased_at IS NULL AND u.id IN \
                     (SELECT m.customer_id FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                     WHERE {owned}) \
                     ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n + cases + customers == 0 {
                    continue;
                }
                copied.push((region, schema));
                sqlx::query("INSERT INTO placed_regions (region) VALUES ($1) ON CONFLICT (region) DO NOTHING")
                    .bind(region)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if copied.is_empty() {
                return Ok(0);
            }
            // Then the central copy goes — only where it still matches what was copied, so an
            // edit that arrived in between is not lost (the next pass copies it).
            let mut tx = self.$w.begin().await?;
            let mut moved = 0;
            let mut marked = 0;
            for (region, schema) in copied {
                moved += sqlx::query(AssertSqlSafe(format!(
                    "UPDATE messages SET text = '', author_handle = '', author_name = NULL, raw = '{{}}', \
                     placed_in = $2 WHERE id {in_batch} AND placed_in IS NULL AND erased_at IS NULL \
                     AND EXISTS (SELECT 1 FROM {schema}.message_content p WHERE p.id = messages.id \
                     AND p.text = messages.text AND p.author_handle = messages.author_handle \
                     AND p.raw = messages.raw) \
                     AND NOT EXISTS (SELECT 1 FROM message_revisions r WHERE r.message_id = messages.id \
                     AND NOT EXISTS (SELECT 1 FROM {schema}.message_revisions q \
                     WHERE q.message_id = r.message_id AND q.revision = r.revision))"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE message_revisions SET previous_text = '' WHERE previous_text <> '' \
                     AND message_id IN (SELECT id FROM messages WHERE id {in_batch} AND placed_in = $2)"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE cases SET subject = '', placed_in = $2 WHERE placed_in IS NULL \
                     AND id IN (SELECT case_id FROM messages WHERE id {in_batch} AND placed_in = $2) \
                     AND EXISTS (SELECT 1 FROM {schema}.case_content p WHERE p.id = cases.id \
                     AND p.subject = cases.subject)"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE customers SET display_name = NULL, placed_in = $2 WHERE placed_in IS NULL \
                     AND region = $2 AND id IN (SELECT customer_id FROM messages WHERE id {in_batch} \
                     AND placed_in = $2) \
                     AND EXISTS (SELECT 1 FROM {schema}.customer_content p WHERE p.id = customers.id \
                     AND (p.display_name = customers.display_name \
                     OR (p.display_name IS NULL AND customers.display_name IS NULL)))"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?;
                // So do the handles of the batch's placed customers.
                marked += sqlx::query(AssertSqlSafe(format!(
                    "UPDATE identities SET place_to = $2 WHERE placed_in IS NULL AND place_to IS NULL \
                     AND customer_id IN (SELECT id FROM customers WHERE placed_in = $2 AND id IN \
                     (SELECT customer_id FROM messages WHERE id {in_batch}))"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // What was written about the batch's placed cases follows them.
                for doc in crate::residency::Document::ALL {
                    for owner in doc.owners() {
                        marked += sqlx::query(AssertSqlSafe(format!(
                            "UPDATE {table} SET place_to = $2 WHERE {movable} \
                             AND {central} IN (SELECT id FROM {owners} WHERE placed_in = $2 AND id IN \
                             (SELECT {owner} FROM messages WHERE id {in_batch}))",
                            table = doc.table(),
                            movable = doc.movable(),
                            central = doc.owner_column(),
                            owners = owner.table(),
                            owner = owner.column(),
                        )))
                        .bind(&ids)
                        .bind(region)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                }
            }
            tx.commit().await?;
            if marked > 0 {
                self.place_documents_shared().await?;
            }
            Ok(moved)
        }

        pub(crate) async fn place_pending_shared(&self, limit: u32, now: Timestamp) -> Result<u64> {
            if self.partitions.is_empty() {
                return Ok(0);
            }
            // Region names are checked to be lowercase letters, digits and `-`.
            let regions: Vec<String> = self.partitions.regions().map(|r| format!("'{r}'")).collect();
            let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT m.id FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                 WHERE m.placed_in IS NULL AND m.stage = 'processed' AND m.erased_at IS NULL \
                 AND COALESCE(c.region, m.region) IN ({}) ORDER BY m.seq LIMIT $1",
                regions.join(", ")
            )))
            .bind(i64::from(limit))
            .fetch_all(&self.$r)
            .await?;
            if !ids.is_empty() {
                let ids: Vec<MessageId> = ids.into_iter().map(MessageId::from_stored).collect();
                return self.place_messages_shared(&ids, now).await;
            }
            // Messages held from their arrival, processed, whose customer of the same region
            // a crash left unplaced: placing them again places their customer.
            let held = self.held_with_unplaced_customer(limit).await?;
            if !held.is_empty() {
                let ids: Vec<MessageId> = held.iter().cloned().map(MessageId::from_stored).collect();
                self.place_messages_shared(&ids, now).await?;
                let left = self.held_with_unplaced_customer(limit).await?;
                let placed = held.iter().filter(|id| !left.contains(id)).count();
                if placed > 0 {
                    return Ok(placed as u64);
                }
            }
            // Messages are all placed: their cases follow them (one a crash left behind
            // after a split or merge), and so does what was written about those cases —
            // rows a crash left marked, and rows written before the case was placed.
            let unplaced: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT m.case_id FROM messages m JOIN cases k ON k.id = m.case_id \
                 WHERE m.placed_in IS NOT NULL AND k.placed_in IS NULL LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(&self.$r)
            .await?;
            if !unplaced.is_empty() {
                let unplaced: Vec<&str> = unplaced.iter().map(String::as_str).collect();
                let moved = self.place_cases_shared(&unplaced).await?;
                if moved > 0 {
                    return Ok(moved);
                }
            }
            sqlx::query(
                "UPDATE identities SET place_to = (SELECT c.placed_in FROM customers c WHERE c.id = identities.customer_id) \
                 WHERE placed_in IS NULL AND place_to IS NULL \
                 AND customer_id IN (SELECT id FROM customers WHERE placed_in IS NOT NULL)",
            )
            .execute(&self.$w)
            .await?;
            for doc in crate::residency::Document::ALL {
                for owner in doc.owners() {
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE {table} SET place_to = (SELECT o.placed_in FROM {owners} o WHERE o.id = {table}.{central}) \
                         WHERE {movable} AND {central} IN (SELECT id FROM {owners} WHERE placed_in IS NOT NULL)",
                        table = doc.table(),
                        movable = doc.movable(),
                        central = doc.owner_column(),
                        owners = owner.table(),
                    )))
                    .execute(&self.$w)
                    .await?;
                }
            }
            self.place_documents_shared().await
        }

        /// After a write gave customer `id` a region: places them, and, for a customer
        /// `known` before the write, whatever of theirs was processed before. What fails here the next start's catch-up moves.
        pub(crate) async fn place_customer_after_write(
            &self,
            id: &CustomerId,
            known: bool,
            now: Timestamp,
        ) {
            if self.partitions.is_empty() {
                return;
            }
            let placed = async {
                self.place_customers_shared(&[id.as_str()]).await?;
                if !known {
                    // Created just now: nothing of theirs to move (and `messages` has no
                    // index by customer to look with).
                    return Ok(0);
                }
                let messages: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM messages WHERE customer_id = $1 AND placed_in IS NULL \
                     AND stage = 'processed' AND erased_at IS NULL",
                )
                .bind(id.as_str())
                .fetch_all(&self.$w)
                .await?;
                let messages: Vec<MessageId> =
                    messages.into_iter().map(MessageId::from_stored).collect();
                self.place_messages_shared(&messages, now).await
            };
            if let Err(e) = placed.await {
                tracing::warn!(error = %e, "could not move a customer to their region's partition");
            }
        }

        /// Places customers `ids` of a region with a partition that no message of theirs
        /// has placed (a customer imported with a region): their display name is copied
        /// into the partition and committed, then blanked centrally where it still matches
        /// the copy, and committed; their handles follow. Returns how many moved.
        pub(crate) async fn place_customers_shared(&self, ids: &[&str]) -> Result<u64> {
            if self.partitions.is_empty() || ids.is_empty() {
                return Ok(0);
            }
            let ids = serde_json::to_string(ids)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            let due = format!(
                "id IN ({}) AND placed_in IS NULL AND region = $2 AND erased_at IS NULL",
                Self::IDS_FROM_JSON
            );
            let mut tx = self.$w.begin().await?;
            let mut copied = Vec::new();
            for (region, schema) in self.partitions.iter() {
                let n = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.customer_content (id, display_name) \
                     SELECT id, display_name FROM customers WHERE {due} \
                     ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    sqlx::query("INSERT INTO placed_regions (region) VALUES ($1) ON CONFLICT (region) DO NOTHING")
                        .bind(region)
                        .execute(&mut *tx)
                        .await?;
                    copied.push((region, schema));
                }
            }
            tx.commit().await?;
            let mut moved = 0;
            let mut tx = self.$w.begin().await?;
            for (region, schema) in copied {
                moved += sqlx::query(AssertSqlSafe(format!(
                    "UPDATE customers SET display_name = NULL, placed_in = $2 WHERE {due} \
                     AND EXISTS (SELECT 1 FROM {schema}.customer_content p WHERE p.id = customers.id \
                     AND (p.display_name = customers.display_name \
                     OR (p.display_name IS NULL AND customers.display_name IS NULL)))"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE identities SET place_to = $2 WHERE placed_in IS NULL AND place_to IS NULL \
                     AND customer_id IN (SELECT id FROM customers WHERE placed_in = $2 AND id IN ({}))",
                    Self::IDS_FROM_JSON
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?;
                // What was written about them (a disruption message) follows them.
                for doc in crate::residency::Document::ALL {
                    if !doc.owners().contains(&crate::residency::Owner::Customer) {
                        continue;
                    }
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE {table} SET place_to = $2 WHERE {movable} AND {central} IN \
                         (SELECT id FROM customers WHERE placed_in = $2 AND id IN ({ids}))",
                        table = doc.table(),
                        movable = doc.movable(),
                        central = doc.owner_column(),
                        ids = Self::IDS_FROM_JSON,
                    )))
                    .bind(&ids)
                    .bind(region)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            if moved > 0 {
                self.place_documents_shared().await?;
            }
            Ok(moved)
        }

        /// One message each of up to `limit` customers not placed, whose processed messages
        /// are held in the partition of their region from arrival.
        async fn held_with_unplaced_customer(&self, limit: u32) -> Result<Vec<String>> {
            Ok(sqlx::query_scalar(
                "SELECT MIN(m.id) FROM customers u JOIN messages m ON m.customer_id = u.id \
                 WHERE u.placed_in IS NULL AND u.erased_at IS NULL AND m.placed_in = u.region \
                 AND m.stage = 'processed' AND m.erased_at IS NULL GROUP BY u.id ORDER BY 1 LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(&self.$w)
            .await?)
        }

        /// Places cases that hold placed messages but are not placed themselves — a case a
        /// split just opened, or a merge's target — with their subject and documents, the
        /// same two steps as `place_messages`. Returns how many cases moved.
        pub(crate) async fn place_cases_shared(&self, ids: &[&str]) -> Result<u64> {
            if self.partitions.is_empty() || ids.is_empty() {
                return Ok(0);
            }
            let ids = serde_json::to_string(ids)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            let due = format!(
                "k.placed_in IS NULL AND k.id IN ({}) AND EXISTS (SELECT 1 FROM messages m \
                 WHERE m.case_id = k.id AND m.placed_in = $2)",
                Self::IDS_FROM_JSON
            );
            let mut tx = self.$w.begin().await?;
            for (region, schema) in self.partitions.iter() {
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.case_content (id, subject) SELECT k.id, k.subject \
                     FROM cases k WHERE {due} ON CONFLICT (id) DO UPDATE SET subject = excluded.subject"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            let mut tx = self.$w.begin().await?;
            let mut moved = 0;
            for (region, schema) in self.partitions.iter() {
                moved += sqlx::query(AssertSqlSafe(format!(
                    "UPDATE cases SET subject = '', placed_in = $2 WHERE id IN (SELECT k.id FROM cases k \
                     WHERE {due} AND EXISTS (SELECT 1 FROM {schema}.case_content p \
                     WHERE p.id = k.id AND p.subject = k.subject))"
                )))
                .bind(&ids)
                .bind(region)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let of_cases = crate::residency::Document::ALL
                    .into_iter()
                    .filter(|d| d.owner() == crate::residency::Owner::Case);
                for doc in of_cases {
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE {table} SET place_to = $2 WHERE {movable} \
                         AND {central} IN (SELECT id FROM cases WHERE placed_in = $2 AND id IN ({ids_sql}))",
                        table = doc.table(),
                        movable = doc.movable(),
                        central = doc.owner_column(),
                        ids_sql = Self::IDS_FROM_JSON
                    )))
                    .bind(&ids)
                    .bind(region)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            self.place_documents_shared().await?;
            Ok(moved)
        }

        /// After a merge or split committed: the cases now holding placed messages follow
        /// them, with their new history. What fails here the next start's catch-up moves.
        pub(crate) async fn place_after_merge(&self, cases: &[&str]) {
            if let Err(e) = self.place_cases_shared(cases).await {
                tracing::warn!(error = %e, "could not move merged cases to their region's partition");
            }
        }

        /// The region an owner's content is held in, if it is placed.
        pub(crate) async fn owner_region<'e, E>(
            &self,
            db: E,
            owner: crate::residency::Owner,
            id: &str,
        ) -> Result<Option<String>>
        where
            E: sqlx::Executor<'e, Database = <Self as crate::residency::Backend>::Db>,
        {
            if self.partitions.is_empty() {
                return Ok(None);
            }
            let region: Option<Option<String>> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT placed_in FROM {} WHERE id = $1",
                owner.table()
            )))
            .bind(id)
            .fetch_optional(db)
            .await?;
            Ok(region.flatten())
        }

        /// The customer `upsert_customer` is about to create held in `region`'s partition:
        /// `Some` when the region has one and no customer has the handle `key` yet, read on
        /// the write's connection `conn` before its transaction (and checked again inside).
        pub(crate) async fn fresh_held_customer(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            platform: Platform,
            handle: &str,
            display_name: Option<&str>,
            region: Option<&str>,
        ) -> Result<Option<crate::residency::HeldCustomer>> {
            let Some((region, schema)) =
                region.and_then(|r| self.partitions.schema(r).map(|s| (r, s)))
            else {
                return Ok(None);
            };
            let key = sb_domain::Identity::key(platform, handle);
            let keys = serde_json::to_string(&self.partitions.identity_keys(&key)?)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
            let known: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT customer_id FROM identities WHERE key IN ({})",
                Self::IDS_FROM_JSON
            )))
            .bind(keys)
            .fetch_optional(&mut **conn)
            .await?;
            if known.is_some() {
                return Ok(None);
            }
            Ok(Some(crate::residency::HeldCustomer {
                id: CustomerId::generate(),
                region: region.to_owned(),
                schema: schema.to_owned(),
                pseudonym: self.partitions.pseudonym(region, &key)?,
                platform,
                handle: handle.to_owned(),
                display_name: display_name.map(str::to_owned),
            }))
        }

        /// Writes a held customer's name and handle into their partition, inside `tx`.
        async fn write_held_customer<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            c: &crate::residency::HeldCustomer,
        ) -> Result<()> {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {}.customer_content (id, display_name) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name",
                c.schema
            )))
            .bind(c.id.as_str())
            .bind(c.display_name.as_deref())
            .execute(&mut **tx)
            .await?;
            self.hold_handle(tx, &c.schema, &c.pseudonym, c.platform.as_str(), &c.handle)
                .await
        }

        /// Where partitions are files of their own: commits a held customer's name and
        /// handle there before the central rows are written (see `hold_apart`).
        pub(crate) async fn hold_customer_apart(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            c: &crate::residency::HeldCustomer,
        ) -> Result<()> {
            if !<Self as crate::residency::Backend>::PARTITIONS_APART {
                return Ok(());
            }
            let mut tx = sqlx::Connection::begin(&mut **conn).await?;
            self.write_held_customer(&mut tx, c).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Creates a held customer inside `tx`: the central rows carry their region, a blank
        /// name and their handle's pseudonym; the name and handle are in the partition
        /// (written here too, where `tx` covers it).
        pub(crate) async fn insert_held_customer<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            c: &crate::residency::HeldCustomer,
            tier: Tier,
            lifetime_value: f64,
            now: Timestamp,
        ) -> Result<()> {
            if !<Self as crate::residency::Backend>::PARTITIONS_APART {
                self.write_held_customer(tx, c).await?;
            }
            sqlx::query(
                "INSERT INTO customers (id, display_name, region, tier, lifetime_value, created_at, placed_in) \
                 VALUES ($1, NULL, $2, $3, $4, $5, $2)",
            )
            .bind(c.id.as_str())
            .bind(c.region.as_str())
            .bind(tier.as_str())
            .bind(lifetime_value)
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO identities (key, platform, handle, customer_id, created_at, placed_in) \
                 VALUES ($1, $2, '', $3, $4, $5)",
            )
            .bind(c.pseudonym.as_str())
            .bind(c.platform.as_str())
            .bind(c.id.as_str())
            .bind(now.millis())
            .bind(c.region.as_str())
            .execute(&mut **tx)
            .await?;
            sqlx::query("INSERT INTO placed_regions (region) VALUES ($1) ON CONFLICT (region) DO NOTHING")
                .bind(c.region.as_str())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// Writes the rows of `h` into its partition, inside `tx`.
        pub(crate) async fn write_held<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            h: &crate::residency::Holding,
        ) -> Result<()> {
            let doc = h.doc;
            let cols: Vec<&str> = doc.columns().iter().map(|(c, _)| *c).collect();
            let (owner, key) = (doc.owner().column(), doc.key());
            let params: Vec<String> = (0..cols.len()).map(|i| format!("${}", i + 3)).collect();
            let set: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
            let sql = format!(
                "INSERT INTO {}.{} ({owner}, {key}, {}) VALUES ($1, $2, {}) \
                 ON CONFLICT ({owner}, {key}) DO UPDATE SET {}",
                h.schema,
                doc.content_table(),
                cols.join(", "),
                params.join(", "),
                set.join(", ")
            );
            for row in &h.rows {
                let q = sqlx::query(AssertSqlSafe(sql.clone())).bind(row.owner.as_str());
                let mut q = match &row.key {
                    crate::residency::DocKey::Seq(seq) => q.bind(*seq),
                    crate::residency::DocKey::Id(id) => q.bind(id.as_str()),
                };
                for value in &row.full {
                    q = q.bind(value.as_deref());
                }
                q.execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Removes the rows of `h` from its partition, inside `tx`.
        pub(crate) async fn drop_held<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            h: &crate::residency::Holding,
        ) -> Result<()> {
            let doc = h.doc;
            let sql = format!(
                "DELETE FROM {}.{} WHERE {} = $1 AND {} = $2",
                h.schema,
                doc.content_table(),
                doc.owner().column(),
                doc.key()
            );
            for row in &h.rows {
                let q = sqlx::query(AssertSqlSafe(sql.clone())).bind(row.owner.as_str());
                let q = match &row.key {
                    crate::residency::DocKey::Seq(seq) => q.bind(*seq),
                    crate::residency::DocKey::Id(id) => q.bind(id.as_str()),
                };
                q.execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Removes, inside `tx`, the row held under `key` by a write that did not store it
        /// (a duplicate of one stored before).
        pub(crate) async fn drop_held_key<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            holdings: &[crate::residency::Holding],
            key: &crate::residency::DocKey,
        ) -> Result<()> {
            for h in holdings {
                self.drop_held(tx, &h.only(|r| r.key == *key)).await?;
            }
            Ok(())
        }

        /// Before a write's own transaction on `conn`, where partitions are files of their
        /// own (`Backend::PARTITIONS_APART`): commits the rows it holds there first. A crash
        /// before the write commits then leaves only a stray in the partition, which
        /// `drop_stray_arrivals` removes, never a central row without its content.
        /// Elsewhere the rows are written inside the write's transaction (`hold_within`).
        pub(crate) async fn hold_apart(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            holdings: &[crate::residency::Holding],
        ) -> Result<()> {
            self.commit_apart(conn, holdings, true).await
        }

        /// After a write's transaction on `conn` rolled back: removes what `hold_apart`
        /// committed for it.
        pub(crate) async fn unhold_apart(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            holdings: &[crate::residency::Holding],
        ) -> Result<()> {
            self.commit_apart(conn, holdings, false).await
        }

        /// Writes (`hold`) or removes the held rows in a commit of their own, where
        /// partitions are files of their own.
        async fn commit_apart(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            holdings: &[crate::residency::Holding],
            hold: bool,
        ) -> Result<()> {
            if !<Self as crate::residency::Backend>::PARTITIONS_APART
                || holdings.iter().all(|h| h.rows.is_empty())
            {
                return Ok(());
            }
            let mut tx = sqlx::Connection::begin(&mut **conn).await?;
            for h in holdings {
                if hold {
                    self.write_held(&mut tx, h).await?;
                } else {
                    self.drop_held(&mut tx, h).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        }

        /// Inside a write's transaction, where it covers the partitions: writes the rows it
        /// holds there (see `hold_apart`).
        pub(crate) async fn hold_within<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            holdings: &[crate::residency::Holding],
        ) -> Result<()> {
            if <Self as crate::residency::Backend>::PARTITIONS_APART {
                return Ok(());
            }
            for h in holdings {
                self.write_held(tx, h).await?;
            }
            Ok(())
        }

        /// The `seq`s the next `n` rows inserted into `table` get (`Backend::NEXT_SEQ`), read
        /// on the write's connection `conn`.
        pub(crate) async fn next_seqs(
            &self,
            conn: &mut sqlx::pool::PoolConnection<<Self as crate::residency::Backend>::Db>,
            table: &str,
            n: usize,
        ) -> Result<Vec<i64>> {
            let mut seqs = Vec::with_capacity(n);
            for i in 1..=n as i64 {
                let seq: i64 = sqlx::query_scalar(<Self as crate::residency::Backend>::NEXT_SEQ)
                    .bind(table)
                    .bind(i)
                    .fetch_one(&mut **conn)
                    .await?;
                seqs.push(seq);
            }
            Ok(seqs)
        }

        /// After a write committed identities of a placed customer: moves them now. What
        /// fails here the next sweep moves.
        pub(crate) async fn place_identities_after_write(&self) {
            if let Err(e) = self.place_identities_shared().await {
                tracing::warn!(error = %e, "could not move identities to their region's partition");
            }
        }

        /// Moves the documents marked `place_to` into their partition: the whole
        /// document is copied and committed, then the central one is blanked of personal
        /// strings where it still matches the copy, and committed. A document changed in
        /// between keeps its mark for the next pass. Returns how many rows moved.
        pub(crate) async fn place_documents_shared(&self) -> Result<u64> {
            let identities = self.place_identities_shared().await?;
            Ok(identities + self.place_documents_of(&crate::residency::Document::ALL).await?)
        }

        /// Moves the identities marked `place_to` into their partition: the handle is copied
        /// there under the identity's pseudonym and committed, then the central row takes the
        /// pseudonym as its key and loses the handle — only where the row is still the one
        /// copied — and commits. Returns how many identities moved.
        pub(crate) async fn place_identities_shared(&self) -> Result<u64> {
            if self.partitions.is_empty() {
                return Ok(0);
            }
            let mut moved = 0;
            loop {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT key, platform, handle, place_to FROM identities \
                     WHERE place_to IS NOT NULL AND placed_in IS NULL ORDER BY key LIMIT 500",
                )
                .fetch_all(&self.$w)
                .await?;
                let mut rows_moved = Vec::with_capacity(rows.len());
                let mut tx = self.$w.begin().await?;
                for (key, platform, handle, region) in &rows {
                    let schema = self.partitions.placed(region)?;
                    let pseudonym = self.partitions.pseudonym(region, key)?;
                    self.hold_handle(&mut tx, schema, &pseudonym, platform, handle)
                        .await?;
                    rows_moved.push((key, handle, region, pseudonym));
                }
                tx.commit().await?;
                let mut tx = self.$w.begin().await?;
                let mut batch = 0;
                for (key, handle, region, pseudonym) in rows_moved {
                    batch += sqlx::query(
                        "UPDATE identities SET key = $1, handle = '', placed_in = $2, place_to = NULL \
                         WHERE key = $3 AND place_to = $2 AND placed_in IS NULL AND handle = $4",
                    )
                    .bind(&pseudonym)
                    .bind(region)
                    .bind(key)
                    .bind(handle)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                moved += batch;
                if rows.len() < 500 || batch == 0 {
                    return Ok(moved);
                }
            }
        }

        /// Writes a placed identity's handle into partition `schema`, under its pseudonym.
        async fn hold_handle<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            schema: &str,
            pseudonym: &str,
            platform: &str,
            handle: &str,
        ) -> Result<()> {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {schema}.identity_content (key, platform, handle) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET platform = excluded.platform, handle = excluded.handle"
            )))
            .bind(pseudonym)
            .bind(platform)
            .bind(handle)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Refuses a partition that holds no message while central rows say messages are
        /// held in it: its file (or schema) was lost or replaced, and serving would show
        /// blank messages and miss placed customers. Restoring it from a backup is the fix.
        pub(crate) async fn check_partitions_hold_shared(&self) -> Result<()> {
            for (region, schema) in self.partitions.iter() {
                let holds: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT id FROM {schema}.message_content LIMIT 1"
                )))
                .fetch_optional(&self.$w)
                .await?;
                if holds.is_some() {
                    continue;
                }
                let placed: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM messages WHERE placed_in = $1 AND erased_at IS NULL LIMIT 1",
                )
                .bind(region)
                .fetch_optional(&self.$w)
                .await?;
                if placed.is_some() {
                    return Err(StoreError::Residency(format!(
                        "the partition of region `{region}` is empty, but messages are held in it: \
                         restore its file or schema from the backup it was taken with"
                    )));
                }
            }
            Ok(())
        }

        /// Each partition's identity secret, created with the partition: 32 random bytes
        /// kept in the partition itself (`partition_secrets`), never in the central tables.
        pub(crate) async fn partition_secrets_shared(&self) -> Result<Vec<(String, Vec<u8>)>> {
            let mut secrets = Vec::new();
            for (region, schema) in self.partitions.iter() {
                let fresh: [u8; 32] = rand::random();
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.partition_secrets (name, secret) VALUES ('identity', $1) \
                     ON CONFLICT (name) DO NOTHING"
                )))
                .bind(hex::encode(fresh))
                .execute(&self.$w)
                .await?;
                let secret: String = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT secret FROM {schema}.partition_secrets WHERE name = 'identity'"
                )))
                .fetch_one(&self.$w)
                .await?;
                let secret = hex::decode(&secret).map_err(|e| {
                    StoreError::Corrupt(format!("identity secret of region `{region}`: {e}"))
                })?;
                secrets.push((region.to_owned(), secret));
            }
            Ok(secrets)
        }

        /// As `place_documents_shared`, for the kinds `docs` only: a write moves what it wrote.
        pub(crate) async fn place_documents_of(&self, docs: &[crate::residency::Document]) -> Result<u64> {
            if self.partitions.is_empty() {
                return Ok(0);
            }
            let mut moved = 0;
            for &doc in docs {
                let (table, key, content) = (doc.table(), doc.key(), doc.content_table());
                let (owner, central_owner) = (doc.owner().column(), doc.owner_column());
                let cols: Vec<&str> = doc.columns().iter().map(|(c, _)| *c).collect();
                let list = cols.join(", ");
                let mut tx = self.$w.begin().await?;
                let mut copied = Vec::new();
                for (region, schema) in self.partitions.iter() {
                    let set: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
                    let n = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO {schema}.{content} ({owner}, {key}, {list}) \
                         SELECT {central_owner}, {key}, {list} FROM {table} WHERE place_to = $1 \
                         ON CONFLICT ({owner}, {key}) DO UPDATE SET {}",
                        set.join(", ")
                    )))
                    .bind(region)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n > 0 {
                        copied.push((region, schema));
                    }
                }
                tx.commit().await?;
                for (region, schema) in copied {
                    // Each central copy is blanked from its own full text in Rust, then all of
                    // them are written by one statement per chunk, joined on owner and key
                    // (read as text, so one statement serves every table).
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {central_owner}, CAST({key} AS TEXT), {list} FROM {table} WHERE place_to = $1"
                    )))
                    .bind(region)
                    .fetch_all(&self.$w)
                    .await?;
                    let mut set = Vec::new();
                    let mut same = Vec::new();
                    let mut copied = Vec::new();
                    for (i, c) in cols.iter().enumerate() {
                        set.push(format!("{c} = v.b{i}"));
                        same.push(format!("{table}.{c} IS NOT DISTINCT FROM v.o{i}"));
                        copied.push(format!("p.{c} IS NOT DISTINCT FROM {table}.{c}"));
                    }
                    let sql = format!(
                        "UPDATE {table} SET {}, placed_in = $2, place_to = NULL FROM ({}) AS v \
                         WHERE {table}.place_to = $2 AND {table}.{central_owner} = v.w \
                         AND CAST({table}.{key} AS TEXT) = v.k AND {} \
                         AND EXISTS (SELECT 1 FROM {schema}.{content} p \
                         WHERE p.{owner} = {table}.{central_owner} AND p.{key} = {table}.{key} AND {})",
                        set.join(", "),
                        Self::ROWS_FROM_JSON,
                        same.join(" AND "),
                        copied.join(" AND ")
                    );
                    // Each row as [owner, key, full, blank, …] for `Self::ROWS_FROM_JSON`.
                    let mut changes = Vec::with_capacity(rows.len());
                    for row in rows {
                        let owner_id: String = row.try_get(0)?;
                        let key_text: String = row.try_get(1)?;
                        let mut change = vec![Some(owner_id.clone()), Some(key_text.clone())];
                        for (i, (_, blank)) in doc.columns().iter().enumerate() {
                            let full: Option<String> = row.try_get(2 + i)?;
                            let blanked = blank.apply(full.as_deref()).map_err(|e| {
                                StoreError::Corrupt(format!("{table} {key_text} of {owner_id}: {e}"))
                            })?;
                            change.push(full);
                            change.push(blanked);
                        }
                        changes.push(change);
                    }
                    let mut tx = self.$w.begin().await?;
                    for chunk in changes.chunks(500) {
                        let json = serde_json::to_string(chunk)
                            .map_err(|e| StoreError::Corrupt(format!("cannot encode a move: {e}")))?;
                        moved += sqlx::query(AssertSqlSafe(sql.clone()))
                            .bind(json)
                            .bind(region)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                    tx.commit().await?;
                }
            }
            Ok(moved)
        }

        pub(crate) async fn message_revisions_shared(&self, id: &MessageId) -> Result<Vec<MessageRevision>> {
            let mut rows: Vec<RevisionRow> = sqlx::query_as(
                "SELECT revision, kind, previous_text, recorded_at FROM message_revisions \
                 WHERE message_id = $1 ORDER BY revision",
            )
            .bind(id.as_str())
            .fetch_all(&self.$r)
            .await?;
            if let Some(schema) = self.placed_schema(id).await? {
                let held: Vec<(i32, String)> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT revision, previous_text FROM {schema}.message_revisions WHERE message_id = $1"
                )))
                .bind(id.as_str())
                .fetch_all(&self.$r)
                .await?;
                let held: std::collections::HashMap<i32, String> = held.into_iter().collect();
                for row in &mut rows {
                    if let Some(text) = held.get(&row.revision) {
                        row.previous_text.clone_from(text);
                    }
                }
            }
            rows.into_iter().map(RevisionRow::into_domain).collect()
        }

        /// The partition schema holding the message's content, if it is placed in one.
        pub(crate) async fn placed_schema(&self, id: &MessageId) -> Result<Option<&str>> {
            if self.partitions.is_empty() {
                return Ok(None);
            }
            let placed: Option<Option<String>> =
                sqlx::query_scalar("SELECT placed_in FROM messages WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.$r)
                    .await?;
            match placed.flatten() {
                Some(region) => Ok(Some(self.partitions.placed(&region)?)),
                None => Ok(None),
            }
        }

        pub(crate) async fn link_identity_shared(
            &self,
            customer: &CustomerId,
            platform: Platform,
            handle: &str,
            now: Timestamp,
        ) -> Result<IdentityLink> {
            let key = Identity::key(platform, handle);
            // A handle linked to a placed customer is held in their partition from the start,
            // its central key a pseudonym.
            let mut conn = self.$w.acquire().await?;
            let region = self
                .owner_region(&mut *conn, crate::residency::Owner::Customer, customer.as_str())
                .await?;
            let held = match region.as_deref() {
                Some(region) => Some((
                    region,
                    self.partitions.placed(region)?,
                    self.partitions.pseudonym(region, &key)?,
                )),
                None => None,
            };
            let apart = <Self as crate::residency::Backend>::PARTITIONS_APART;
            if let (true, Some((_, schema, pseudonym))) = (apart, &held) {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                self.hold_handle(&mut tx, schema, pseudonym, platform.as_str(), handle)
                    .await?;
                tx.commit().await?;
            }
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
                .bind(customer.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let owner = self.identity_owner(&mut tx, &key).await?;
            let outcome = match (exists, owner) {
                (None, _) => IdentityLink::NoSuchCustomer,
                (Some(_), Some(o)) if o == customer.as_str() => IdentityLink::AlreadyLinked,
                (Some(_), Some(o)) => IdentityLink::Elsewhere(CustomerId::from_stored(o)),
                (Some(_), None) => {
                    if let (false, Some((_, schema, pseudonym))) = (apart, &held) {
                        self.hold_handle(&mut tx, schema, pseudonym, platform.as_str(), handle)
                            .await?;
                    }
                    let (central_key, central_handle) = match &held {
                        Some((_, _, pseudonym)) => (pseudonym.as_str(), ""),
                        None => (key.as_str(), handle),
                    };
                    sqlx::query(
                        "INSERT INTO identities (key, platform, handle, customer_id, created_at, placed_in) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(central_key)
                    .bind(platform.as_str())
                    .bind(central_handle)
                    .bind(customer.as_str())
                    .bind(now.millis())
                    .bind(held.as_ref().map(|(region, _, _)| *region))
                    .execute(&mut *tx)
                    .await?;
                    IdentityLink::Linked
                }
            };
            tx.commit().await?;
            // What was held apart for a link that did not happen goes, unless a central row
            // holds the handle under the same key or is on its way there.
            if let (true, false, Some((region, schema, pseudonym))) =
                (apart, outcome == IdentityLink::Linked, &held)
            {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM {schema}.identity_content WHERE key = $1 AND NOT EXISTS \
                     (SELECT 1 FROM identities i WHERE i.key = $1 OR (i.place_to = $2 \
                     AND i.platform = $3 AND i.handle = $4))"
                )))
                .bind(pseudonym.as_str())
                .bind(*region)
                .bind(platform.as_str())
                .bind(handle)
                .execute(&mut *conn)
                .await?;
            }
            Ok(outcome)
        }

        /// Places, inside the plan's transaction, what the plan creates for messages held
        /// from arrival in their region's partition: a new case's subject (cut from the
        /// message) and a new customer's display name and handle are written there, and
        /// the central rows keep none of them (the handle's key becomes its pseudonym), so
        /// none of it reaches a central row. On SQLite the partition's file commits right
        /// after the main one; `repair_created` re-derives what a crash in between lost.
        pub(crate) async fn place_created<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            plan: &sb_domain::case::CasePlan,
        ) -> Result<()> {
            if self.partitions.is_empty()
                || (plan.new_cases.is_empty() && plan.new_customers.is_empty())
            {
                return Ok(());
            }
            let encode = |ids: Vec<&str>| {
                serde_json::to_string(&ids)
                    .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))
            };
            let cases = encode(plan.new_cases.iter().map(|c| c.id.as_str()).collect())?;
            let customers = encode(plan.new_customers.iter().map(|c| c.id.as_str()).collect())?;
            // The plan's messages, found by id: `messages` has no index by customer.
            let messages = encode(
                plan.placements
                    .iter()
                    .map(|p| p.message_id.as_str())
                    .collect(),
            )?;
            let ids = Self::IDS_FROM_JSON;
            let plan_messages = Self::IDS_FROM_JSON.replace("$1", "$3");
            for (region, schema) in self.partitions.iter() {
                // New cases whose messages are held here, and are of this region.
                let held_cases = format!(
                    "SELECT k.id FROM cases k WHERE k.id IN ({ids}) AND k.placed_in IS NULL \
                     AND EXISTS (SELECT 1 FROM messages m LEFT JOIN customers c ON c.id = m.customer_id \
                     WHERE m.id IN ({plan_messages}) AND m.case_id = k.id AND m.placed_in = $2 \
                     AND COALESCE(c.region, m.region) = $2)"
                );
                let n = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.case_content (id, subject) \
                     SELECT id, subject FROM cases WHERE id IN ({held_cases}) \
                     ON CONFLICT (id) DO UPDATE SET subject = excluded.subject"
                )))
                .bind(&cases)
                .bind(region)
                .bind(&messages)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if n > 0 {
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE cases SET subject = '', placed_in = $2 WHERE id IN ({held_cases})"
                    )))
                    .bind(&cases)
                    .bind(region)
                    .bind(&messages)
                    .execute(&mut **tx)
                    .await?;
                }
                // New customers of this region with a message held here.
                let held_customers = format!(
                    "SELECT u.id FROM customers u WHERE u.id IN ({ids}) AND u.placed_in IS NULL \
                     AND u.region = $2 AND EXISTS (SELECT 1 FROM messages m \
                     WHERE m.id IN ({plan_messages}) AND m.customer_id = u.id AND m.placed_in = $2)"
                );
                let placed: Vec<String> = sqlx::query_scalar(AssertSqlSafe(held_customers.clone()))
                    .bind(&customers)
                    .bind(region)
                    .bind(&messages)
                    .fetch_all(&mut **tx)
                    .await?;
                if placed.is_empty() {
                    continue;
                }
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {schema}.customer_content (id, display_name) \
                     SELECT id, display_name FROM customers WHERE id IN ({held_customers}) \
                     ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name"
                )))
                .bind(&customers)
                .bind(region)
                .bind(&messages)
                .execute(&mut **tx)
                .await?;
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE customers SET display_name = NULL, placed_in = $2 WHERE id IN ({held_customers})"
                )))
                .bind(&customers)
                .bind(region)
                .bind(&messages)
                .execute(&mut **tx)
                .await?;
                for c in plan.new_customers.iter().filter(|c| placed.contains(&c.id.to_string())) {
                    let pseudonym = self.partitions.pseudonym(region, &c.identity_key)?;
                    self.hold_handle(tx, schema, &pseudonym, c.platform.as_str(), &c.handle)
                        .await?;
                    sqlx::query(
                        "UPDATE identities SET key = $1, handle = '', placed_in = $2, place_to = NULL \
                         WHERE key = $3 AND customer_id = $4 AND placed_in IS NULL",
                    )
                    .bind(&pseudonym)
                    .bind(region)
                    .bind(&c.identity_key)
                    .bind(c.id.as_str())
                    .execute(&mut **tx)
                    .await?;
                }
            }
            Ok(())
        }

        /// Re-derives what a crash between the main file's commit and a partition's lost of a
        /// plan's placement (`place_created`): a placed case without its subject in the
        /// partition gets it cut again from its first message, a placed customer without
        /// their name gets their first message's author name, and a placed handle without
        /// its text is found among the customer's messages by its pseudonym. Returns how
        /// many rows it wrote.
        pub(crate) async fn repair_created(&self) -> Result<u64> {
            let mut repaired = 0;
            for (region, schema) in self.partitions.iter() {
                let first = |owner: &str| {
                    format!(
                        "SELECT p.text, p.author_name FROM messages m JOIN {schema}.message_content p \
                         ON p.id = m.id WHERE m.{owner} = $1 AND m.placed_in = $2 ORDER BY m.seq LIMIT 1"
                    )
                };
                // A case's subject is cut from its first message, a customer's name is the
                // one their first message gave.
                for (table, owner, content, column, alive) in [
                    ("cases", "case_id", "case_content", "subject", ""),
                    ("customers", "customer_id", "customer_content", "display_name", " AND t.erased_at IS NULL"),
                ] {
                    let missing: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT t.id FROM {table} t WHERE t.placed_in = $1{alive} \
                         AND NOT EXISTS (SELECT 1 FROM {schema}.{content} p WHERE p.id = t.id)"
                    )))
                    .bind(region)
                    .fetch_all(&self.$w)
                    .await?;
                    for id in missing {
                        let found: Option<(String, Option<String>)> =
                            sqlx::query_as(AssertSqlSafe(first(owner)))
                                .bind(&id)
                                .bind(region)
                                .fetch_optional(&self.$w)
                                .await?;
                        let Some((text, name)) = found else {
                            continue;
                        };
                        let value = match table {
                            "cases" => Some(sb_domain::case::subject_of(&text)),
                            _ => name,
                        };
                        repaired += sqlx::query(AssertSqlSafe(format!(
                            "INSERT INTO {schema}.{content} (id, {column}) VALUES ($1, $2) \
                             ON CONFLICT (id) DO NOTHING"
                        )))
                        .bind(&id)
                        .bind(value)
                        .execute(&self.$w)
                        .await?
                        .rows_affected();
                    }
                }
                let handles: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT i.key, i.customer_id FROM identities i WHERE i.placed_in = $1 \
                     AND NOT EXISTS (SELECT 1 FROM {schema}.identity_content p WHERE p.key = i.key)"
                )))
                .bind(region)
                .fetch_all(&self.$w)
                .await?;
                for (key, customer) in handles {
                    let written: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT DISTINCT m.source, p.author_handle FROM messages m \
                         JOIN {schema}.message_content p ON p.id = m.id \
                         WHERE m.customer_id = $1 AND m.placed_in = $2"
                    )))
                    .bind(&customer)
                    .bind(region)
                    .fetch_all(&self.$w)
                    .await?;
                    for (source, handle) in written {
                        let Some(platform) = sb_domain::Platform::parse(&source) else {
                            continue;
                        };
                        let plain = sb_domain::Identity::key(platform, &handle);
                        if self.partitions.pseudonym(region, &plain)? == key {
                            repaired += sqlx::query(AssertSqlSafe(format!(
                                "INSERT INTO {schema}.identity_content (key, platform, handle) \
                                 VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING"
                            )))
                            .bind(&key)
                            .bind(platform.as_str())
                            .bind(&handle)
                            .execute(&self.$w)
                            .await?
                            .rows_affected();
                            break;
                        }
                    }
                }
            }
            Ok(repaired)
        }

        /// Gives customers what they were known without, inside the plan's transaction: a
        /// region (created by an import) and a language (first messages too short to tell),
        /// from their messages in the batch (`CasePlan::regions`, `CasePlan::languages`).
        pub(crate) async fn give_what_was_unknown<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            plan: &sb_domain::case::CasePlan,
        ) -> Result<()> {
            const SET_REGION: &str =
                "UPDATE customers SET region = $2 WHERE id = $1 AND region IS NULL";
            const SET_LANGUAGE: &str =
                "UPDATE customers SET language = $2 WHERE id = $1 AND language IS NULL";
            for (sql, values) in [(SET_REGION, &plan.regions), (SET_LANGUAGE, &plan.languages)] {
                for (customer, value) in values {
                    sqlx::query(sql)
                        .bind(customer.as_str())
                        .bind(value)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }

        /// The customer an identity belongs to, by its plain key (`platform:handle`), whether
        /// its central row holds that key or, once placed, its pseudonym.
        pub(crate) async fn identity_owner<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            key: &str,
        ) -> Result<Option<String>> {
            let keys = serde_json::to_string(&self.partitions.identity_keys(key)?)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
            Ok(sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT customer_id FROM identities WHERE key IN ({})",
                Self::IDS_FROM_JSON
            )))
            .bind(keys)
            .fetch_optional(&mut **tx)
            .await?)
        }

        /// Whether any of `keys` (plain identity keys) is held under its pseudonym already:
        /// checked after new identities are written in the same transaction, so a handle
        /// placed meanwhile by another worker is not created a second time.
        pub(crate) async fn pseudonyms_taken<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            keys: &[&str],
        ) -> Result<bool> {
            if self.partitions.is_empty() || keys.is_empty() {
                return Ok(false);
            }
            // `lookup_keys` maps each pseudonym to its plain key: its keys are the pseudonyms.
            let (_, plain) = self.partitions.lookup_keys(keys.iter().copied())?;
            let pseudonyms: Vec<&String> = plain.keys().collect();
            let pseudonyms = serde_json::to_string(&pseudonyms)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
            let taken: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT key FROM identities WHERE key IN ({}) LIMIT 1",
                Self::IDS_FROM_JSON
            )))
            .bind(pseudonyms)
            .fetch_optional(&mut **tx)
            .await?;
            Ok(taken.is_some())
        }

        pub(crate) async fn enqueue_shared(
            &self,
            items: &[NewOutboxItem],
            now: Timestamp,
        ) -> Result<Vec<(OutboxId, bool)>> {
            // A delivery about a placed case is held in its partition from the start.
            let mut conn = self.$w.acquire().await?;
            let mut holdings = Vec::new();
            let mut rows = Vec::with_capacity(items.len());
            for item in items {
                let region = match item.subject.as_deref() {
                    Some(case) => {
                        self.owner_region(&mut *conn, crate::residency::Owner::Case, case)
                            .await?
                    }
                    None => None,
                };
                rows.push(self.hold_outbox_item(item, region, &mut holdings)?);
            }
            self.hold_apart(&mut conn, &holdings).await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            self.hold_within(&mut tx, &holdings).await?;
            let mut out = Vec::with_capacity(items.len());
            for (item, row) in items.iter().zip(rows) {
                out.push(self.insert_outbox_item(&mut tx, item, row, &holdings, now).await?);
            }
            tx.commit().await?;
            Ok(out)
        }

        /// Prepares a delivery to queue: its id, and its payload held in the partition of
        /// `region` (added to `holdings`) when it names one, centrally otherwise.
        pub(crate) fn hold_outbox_item(
            &self,
            item: &NewOutboxItem,
            region: Option<String>,
            holdings: &mut Vec<crate::residency::Holding>,
        ) -> Result<crate::residency::QueuedItem> {
            let id = OutboxId::generate();
            let (held, central) = self.partitions.hold_row(
                crate::residency::Document::Outbox,
                region.as_deref(),
                item.subject.as_deref().unwrap_or_default(),
                crate::residency::DocKey::Id(id.as_str().to_owned()),
                vec![Some(item.payload.to_string())],
            )?;
            holdings.extend(held);
            Ok(crate::residency::QueuedItem {
                id,
                payload: central.into_iter().flatten().next(),
                region,
            })
        }

        /// Queues a delivery `hold_outbox_item` prepared, inside `tx`: its id and whether it
        /// was queued before under its key (then that one's id, and what this one held goes).
        pub(crate) async fn insert_outbox_item<'c>(
            &self,
            tx: &mut sqlx::Transaction<'c, <Self as crate::residency::Backend>::Db>,
            item: &NewOutboxItem,
            row: crate::residency::QueuedItem,
            holdings: &[crate::residency::Holding],
            now: Timestamp,
        ) -> Result<(OutboxId, bool)> {
            let inserted = sqlx::query(outbox_sql::INSERT)
                .bind(row.id.as_str())
                .bind(&item.target)
                .bind(&item.dedup_key)
                .bind(row.payload)
                .bind(item.subject.as_deref())
                .bind(now.millis())
                .bind(row.region.as_deref())
                .execute(&mut **tx)
                .await?
                .rows_affected()
                == 1;
            if inserted {
                return Ok((row.id, false));
            }
            self.drop_held_key(tx, holdings, &crate::residency::DocKey::Id(row.id.as_str().to_owned()))
                .await?;
            let existing: String = sqlx::query_scalar(outbox_sql::ID_BY_KEY)
                .bind(&item.dedup_key)
                .fetch_one(&mut **tx)
                .await?;
            Ok((OutboxId::from_stored(existing), true))
        }

        pub(crate) async fn claim_outbox_shared(
            &self,
            now: Timestamp,
            limit: u32,
            lease_ms: i64,
        ) -> Result<Vec<OutboxItem>> {
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(outbox_sql::claim(
                $lock,
                &self.partitions.outbox_columns(),
            )))
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
            let cols = self.partitions.outbox_columns();
            let sql = format!(
                "SELECT {cols} FROM outbox WHERE ($1 IS NULL OR status = $1) \
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
            let cols = self.partitions.outbox_columns();
            let sql = format!("SELECT {cols} FROM outbox WHERE id = $1");
            let row: Option<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_optional(&self.$r)
                .await?;
            row.map(OutboxRow::into_domain).transpose()
        }

        pub(crate) async fn outbox_for_subject_shared(&self, subject: &str) -> Result<Vec<OutboxItem>> {
            let cols = self.partitions.outbox_columns();
            let sql = format!(
                "SELECT {cols} FROM outbox {}",
                outbox_sql::BY_SUBJECT_WHERE
            );
            let rows: Vec<OutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(subject)
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(OutboxRow::into_domain).collect()
        }

        pub(crate) async fn outbox_by_remote_id_shared(&self, remote_id: &str) -> Result<Vec<OutboxItem>> {
            let cols = self.partitions.outbox_columns();
            let sql = format!(
                "SELECT {cols} FROM outbox {}",
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
            let cols = self.partitions.message_columns();
            let sql = format!(
                "SELECT {cols} FROM messages WHERE stage = 'processed' \
                 AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
            );
            let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(after.map(MessageId::as_str))
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
            rows.into_iter().map(MessageRow::into_domain).collect()
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
            let raw = self.partitions.column_sql("messages", "raw");
            let raw: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {raw} FROM messages WHERE id = $1"
            )))
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

        pub(crate) async fn case_shared(&self, id: &CaseId) -> Result<Option<Case>> {
            let cols = self.partitions.case_columns();
            let sql = format!("SELECT {cols} FROM cases WHERE id = $1");
            let row: Option<CaseRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_optional(&self.$r)
                .await?;
            row.map(CaseRow::into_domain).transpose()
        }

        pub(crate) async fn list_cases_shared(&self, filter: &CaseFilter, page: &Page) -> Result<Vec<Case>> {
            let (where_sql, args) = crate::rows::case_filter_sql(filter, page);
            let cols = self.partitions.case_columns();
            let sql = format!(
                "SELECT {cols} FROM cases {where_sql} ORDER BY id DESC LIMIT ${}",
                args.len() + 1
            );
            let mut q = sqlx::query_as::<_, CaseRow>(AssertSqlSafe(sql));
            for a in &args {
                q = q.bind(a.as_str());
            }
            q = q.bind(i64::from(page.limit));
            q.fetch_all(&self.$r)
                .await?
                .into_iter()
                .map(CaseRow::into_domain)
                .collect()
        }

        pub(crate) async fn list_messages_shared(
            &self,
            filter: &crate::MessageFilter,
            page: &Page,
        ) -> Result<Vec<Message>> {
            let (where_sql, args) = crate::rows::message_filter_sql(filter, page);
            let cols = self.partitions.message_columns();
            let sql = format!(
                "SELECT {cols} FROM messages {where_sql} ORDER BY seq DESC LIMIT ${}",
                args.len() + 1
            );
            let mut q = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql));
            for a in &args {
                q = q.bind(a.as_str());
            }
            q = q.bind(i64::from(page.limit));
            q.fetch_all(&self.$r)
                .await?
                .into_iter()
                .map(MessageRow::into_domain)
                .collect()
        }

        pub(crate) async fn customer_shared(&self, id: &CustomerId) -> Result<Option<Customer>> {
            let name = self.partitions.display_name_sql("customers");
            let row: Option<CustomerRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, {name} AS display_name, region, language, tier, lifetime_value, created_at \
                 FROM customers WHERE id = $1",
            )))
            .bind(id.as_str())
            .fetch_optional(&self.$r)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let identities: Vec<IdentityRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT platform, {} AS handle FROM identities WHERE customer_id = $1 ORDER BY created_at, key",
                self.partitions.handle_sql("identities")
            )))
                    .bind(id.as_str())
                    .fetch_all(&self.$r)
                    .await?;
            row.into_domain(identities).map(Some)
        }

        /// Those of the given customers that exist, each with its identities.
        pub(crate) async fn customers_among_shared(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids = serde_json::to_string(&ids.iter().map(CustomerId::as_str).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(format!("cannot encode ids: {e}")))?;
            let name = self.partitions.display_name_sql("customers");
            let rows: Vec<CustomerRow> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, {name} AS display_name, region, language, tier, lifetime_value, created_at \
                 FROM customers WHERE id IN ({})",
                Self::IDS_FROM_JSON
            )))
            .bind(ids.as_str())
            .fetch_all(&self.$r)
            .await?;
            let identities: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT customer_id, platform, {} AS handle FROM identities \
                 WHERE customer_id IN ({}) ORDER BY created_at, key",
                self.partitions.handle_sql("identities"),
                Self::IDS_FROM_JSON
            )))
            .bind(ids.as_str())
            .fetch_all(&self.$r)
            .await?;
            let mut by_customer: std::collections::HashMap<String, Vec<IdentityRow>> =
                std::collections::HashMap::new();
            for (customer, platform, handle) in identities {
                by_customer
                    .entry(customer)
                    .or_default()
                    .push(IdentityRow { platform, handle });
            }
            rows.into_iter()
                .map(|row| {
                    let identities = by_customer.remove(&row.id).unwrap_or_default();
                    row.into_domain(identities)
                })
                .collect()
        }

        pub(crate) async fn customer_with_identity_shared(
            &self,
            platform: Platform,
            handle: &str,
        ) -> Result<Option<CustomerId>> {
            let key = sb_domain::Identity::key(platform, handle);
            let keys = serde_json::to_string(&self.partitions.identity_keys(&key)?)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
            let owner: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT customer_id FROM identities WHERE key IN ({})",
                Self::IDS_FROM_JSON
            )))
            .bind(keys)
            .fetch_optional(&self.$r)
            .await?;
            Ok(owner.map(CustomerId::from_stored))
        }

        pub(crate) async fn queues_shared(&self) -> Result<Vec<Queue>> {
            let rows: Vec<QueueRow> =
                sqlx::query_as("SELECT id, name, is_default FROM queues ORDER BY name")
                    .fetch_all(&self.$r)
                    .await?;
            Ok(rows.into_iter().map(QueueRow::into_domain).collect())
        }

        pub(crate) async fn counts_shared(&self) -> Result<Counts> {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT (SELECT COUNT(*) FROM messages), \
                 (SELECT COUNT(*) FROM messages WHERE stage = 'received'), \
                 (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM cases), \
                 (SELECT COUNT(*) FROM cases WHERE {OPEN_CASE_SQL})"
            )))
            .fetch_one(&self.$r)
            .await?;
            Ok(Counts {
                messages: row.try_get(0)?,
                unprocessed: row.try_get(1)?,
                customers: row.try_get(2)?,
                cases: row.try_get(3)?,
                open_cases: row.try_get(4)?,
            })
        }

        #[allow(clippy::too_many_arguments)]
        pub(crate) async fn upsert_customer_shared(
            &self,
            platform: Platform,
            handle: &str,
            display_name: Option<&str>,
            tier: Tier,
            lifetime_value: f64,
            now: Timestamp,
            region: Option<&str>,
        ) -> Result<CustomerId> {
            if let Some(region) = region {
                crate::residency::check_region(region)?;
            }
            let key = Identity::key(platform, handle);
            // A customer new to the store, of a region with a partition, is created held there
            // (their name and handle never reach a central row); one known already is placed
            // after the write, with what is theirs.
            let mut conn = self.$w.acquire().await?;
            let fresh = self
                .fresh_held_customer(&mut conn, platform, handle, display_name, region)
                .await?;
            if let Some(c) = &fresh {
                self.hold_customer_apart(&mut conn, c).await?;
            }
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            if let Some(lock) = <Self as crate::residency::Backend>::IDENTITY_LOCK {
                sqlx::query(lock).bind(&key).execute(&mut *tx).await?;
            }
            let existing = self.identity_owner(&mut tx, &key).await?;
            let known = existing.is_some();
            let id = match (existing, &fresh) {
                (Some(id), _) => {
                    // A customer keeps the region they have; one without takes this one.
                    sqlx::query(
                        "UPDATE customers SET tier = $1, lifetime_value = $2, \
                         display_name = CASE WHEN placed_in IS NULL THEN COALESCE($3, display_name) \
                         ELSE display_name END, region = COALESCE(region, $5) WHERE id = $4",
                    )
                    .bind(tier.as_str())
                    .bind(lifetime_value)
                    .bind(display_name)
                    .bind(&id)
                    .bind(region)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(name) = display_name {
                        self.rename_placed(&mut tx, &id, name).await?;
                    }
                    CustomerId::from_stored(id)
                }
                (None, Some(held)) => {
                    self.insert_held_customer(&mut tx, held, tier, lifetime_value, now)
                        .await?;
                    held.id.clone()
                }
                (None, None) => {
                    let id = CustomerId::generate();
                    sqlx::query(
                        "INSERT INTO customers (id, display_name, region, tier, lifetime_value, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id.as_str())
                    .bind(display_name)
                    .bind(region)
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
            drop(conn);
            let held = !known && fresh.is_some();
            if region.is_some() && !held {
                self.place_customer_after_write(&id, known, now).await;
            }
            Ok(id)
        }

        pub(crate) async fn insert_alert_shared(&self, alert: &Alert) -> Result<bool> {
            let done = sqlx::query(
                "INSERT INTO alerts (id, series, kind, score, bucket_start, volume, sentiment_mean, raised_at, \
                 rule_id, severity, dedup_key, summary) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (series, kind, bucket_start) DO NOTHING",
            )
            .bind(alert.id.as_str())
            .bind(&alert.series)
            .bind(alert.kind.as_str())
            .bind(alert.score)
            .bind(alert.bucket_start.millis())
            .bind(alert.volume)
            .bind(alert.sentiment_mean)
            .bind(alert.raised_at.millis())
            .bind(alert.rule_id.as_deref())
            .bind(alert.severity.as_deref())
            .bind(alert.dedup_key.as_deref())
            .bind(alert.summary.as_deref())
            .execute(&self.$w)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub(crate) async fn list_alerts_shared(&self, page: &Page) -> Result<Vec<Alert>> {
            let rows: Vec<AlertRow> = match &page.before {
                Some(b) => {
                    sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE id < $1 ORDER BY id DESC LIMIT $2"
                    )))
                    .bind(b.as_str())
                    .bind(i64::from(page.limit))
                    .fetch_all(&self.$r)
                    .await?
                }
                None => {
                    sqlx::query_as(AssertSqlSafe(format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts ORDER BY id DESC LIMIT $1"
                    )))
                    .bind(i64::from(page.limit))
                    .fetch_all(&self.$r)
                    .await?
                }
            };
            rows.into_iter().map(AlertRow::into_domain).collect()
        }
    };
}

pub(crate) use shared_store_methods;

/// The `Store` implementation of a back end: the methods given are its own, and the others,
/// the same on both back ends, forward to inherent methods each back end has under the same
/// names (mostly the `*_shared` ones above).
macro_rules! store_impl {
    ($store:ty, { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl crate::Store for $store {
            $($own)*

            async fn messages_for_processing(&self, ids: &[MessageId]) -> Result<Vec<Message>> {
                self.messages_at_stage(ids, Some("received")).await
            }

            async fn earliest_unprocessed(
                &self,
                received_since: Timestamp,
                scan: u32,
            ) -> Result<Option<Timestamp>> {
                self.earliest_unprocessed_shared(received_since, scan).await
            }

            async fn processed_messages_among(&self, ids: &[MessageId]) -> Result<Vec<Message>> {
                self.messages_at_stage(ids, Some("processed")).await
            }

            async fn place_messages(&self, ids: &[MessageId], now: Timestamp) -> Result<u64> {
                self.place_messages_shared(ids, now).await
            }

            async fn place_pending(&self, limit: u32, now: Timestamp) -> Result<u64> {
                self.place_pending_shared(limit, now).await
            }

            async fn drop_stray_arrivals(&self, now: Timestamp) -> Result<u64> {
                self.drop_stray_arrivals_shared(now).await
            }

            async fn place_documents(&self) -> Result<u64> {
                self.place_documents_shared().await
            }

            async fn messages_among(&self, ids: &[MessageId]) -> Result<Vec<Message>> {
                self.messages_at_stage(ids, None).await
            }

            async fn revise_message(
                &self,
                source: Platform,
                external_id: &str,
                revision: &Revision,
                at: Timestamp,
            ) -> Result<Revised> {
                self.revise_message_shared(source, external_id, revision, at)
                    .await
            }

            async fn message_revisions(&self, id: &MessageId) -> Result<Vec<MessageRevision>> {
                self.message_revisions_shared(id).await
            }

            async fn case(&self, id: &CaseId) -> Result<Option<Case>> {
                self.case_shared(id).await
            }

            async fn list_messages(&self, filter: &MessageFilter, page: &Page) -> Result<Vec<Message>> {
                self.list_messages_shared(filter, page).await
            }

            async fn list_cases(&self, filter: &CaseFilter, page: &Page) -> Result<Vec<Case>> {
                self.list_cases_shared(filter, page).await
            }

            async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>> {
                self.customer_shared(id).await
            }

            async fn customers_among(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
                self.customers_among_shared(ids).await
            }

            async fn customer_with_identity(
                &self,
                platform: Platform,
                handle: &str,
            ) -> Result<Option<CustomerId>> {
                self.customer_with_identity_shared(platform, handle).await
            }

            async fn queues(&self) -> Result<Vec<Queue>> {
                self.queues_shared().await
            }

            async fn counts(&self) -> Result<Counts> {
                self.counts_shared().await
            }

            #[allow(clippy::too_many_arguments)]
            async fn upsert_customer(
                &self,
                platform: Platform,
                handle: &str,
                display_name: Option<&str>,
                tier: Tier,
                lifetime_value: f64,
                now: Timestamp,
                region: Option<&str>,
            ) -> Result<CustomerId> {
                self.upsert_customer_shared(
                    platform,
                    handle,
                    display_name,
                    tier,
                    lifetime_value,
                    now,
                    region,
                )
                .await
            }

            async fn link_identity(
                &self,
                customer: &CustomerId,
                platform: Platform,
                handle: &str,
                now: Timestamp,
            ) -> Result<IdentityLink> {
                self.link_identity_shared(customer, platform, handle, now)
                    .await
            }

            async fn enqueue(
                &self,
                items: &[NewOutboxItem],
                now: Timestamp,
            ) -> Result<Vec<(OutboxId, bool)>> {
                self.enqueue_shared(items, now).await
            }

            async fn claim_outbox(
                &self,
                now: Timestamp,
                limit: u32,
                lease_ms: i64,
            ) -> Result<Vec<OutboxItem>> {
                self.claim_outbox_shared(now, limit, lease_ms).await
            }

            async fn finish_attempt(
                &self,
                id: &OutboxId,
                attempt: &DeliveryAttempt,
                after: &AfterAttempt,
            ) -> Result<()> {
                self.finish_attempt_shared(id, attempt, after).await
            }

            async fn list_outbox(
                &self,
                status: Option<OutboxStatus>,
                page: &Page,
            ) -> Result<Vec<OutboxItem>> {
                self.list_outbox_shared(status, page).await
            }

            async fn outbox_item(&self, id: &OutboxId) -> Result<Option<OutboxItem>> {
                self.outbox_item_shared(id).await
            }

            async fn outbox_for_subject(&self, subject: &str) -> Result<Vec<OutboxItem>> {
                self.outbox_for_subject_shared(subject).await
            }

            async fn outbox_by_remote_id(&self, remote_id: &str) -> Result<Vec<OutboxItem>> {
                self.outbox_by_remote_id_shared(remote_id).await
            }

            async fn outbox_stats(&self, since: Timestamp) -> Result<Vec<TargetStats>> {
                self.outbox_stats_shared(since).await
            }

            async fn inbound_stats(&self, since: Timestamp) -> Result<Vec<InboundStats>> {
                self.inbound_stats_shared(since).await
            }

            async fn processed_messages(
                &self,
                after: Option<&MessageId>,
                limit: u32,
            ) -> Result<Vec<Message>> {
                self.processed_messages_shared(after, limit).await
            }

            async fn update_enrichments(&self, batch: &[(MessageId, Enrichment)]) -> Result<u64> {
                self.update_enrichments_shared(batch).await
            }

            async fn recompute_case_aggregates(&self) -> Result<u64> {
                self.recompute_case_aggregates_shared().await
            }

            async fn message_raw(&self, id: &MessageId) -> Result<Option<serde_json::Value>> {
                self.message_raw_shared(id).await
            }

            async fn delivery_log(&self, id: &OutboxId) -> Result<Vec<DeliveryAttempt>> {
                self.delivery_log_shared(id).await
            }

            async fn set_target_state(&self, state: &TargetState) -> Result<()> {
                self.set_target_state_shared(state).await
            }

            async fn target_states(&self) -> Result<Vec<TargetState>> {
                self.target_states_shared().await
            }

            async fn insert_alert(&self, alert: &Alert) -> Result<bool> {
                self.insert_alert_shared(alert).await
            }

            async fn list_alerts(&self, page: &Page) -> Result<Vec<Alert>> {
                self.list_alerts_shared(page).await
            }

            async fn alert(&self, id: &AlertId) -> Result<Option<Alert>> {
                self.alert_shared(id).await
            }

            async fn resolve_alert(&self, dedup_key: &str, at: Timestamp) -> Result<bool> {
                self.resolve_alert_shared(dedup_key, at).await
            }

            async fn upsert_facts(&self, facts: &[OpsFact]) -> Result<Vec<bool>> {
                self.upsert_facts_shared(facts).await
            }

            async fn facts(
                &self,
                kind: Option<FactKind>,
                subject: Option<&str>,
                region: Option<&str>,
            ) -> Result<Vec<OpsFact>> {
                self.facts_shared(kind, subject, region).await
            }

            async fn insert_incident(&self, incident: &Incident, now: Timestamp) -> Result<()> {
                self.insert_incident_shared(incident, now).await
            }

            async fn incident(&self, id: &IncidentId) -> Result<Option<(Incident, i64)>> {
                self.incident_shared(id).await
            }

            async fn update_incident(
                &self,
                incident: &Incident,
                version: i64,
                now: Timestamp,
            ) -> Result<bool> {
                self.update_incident_shared(incident, version, now).await
            }

            async fn list_incidents(&self, page: &Page) -> Result<Vec<Incident>> {
                self.list_incidents_shared(page).await
            }

            async fn case_work(&self, id: &CaseId) -> Result<Option<sb_domain::CaseWork>> {
                self.case_work_shared(id).await
            }

            async fn case_works(&self, ids: &[CaseId]) -> Result<Vec<sb_domain::CaseWork>> {
                self.case_works_shared(ids).await
            }

            async fn save_case_work(&self, change: &sb_domain::CaseChange) -> Result<crate::CaseSave> {
                self.save_case_work_shared(change).await
            }

            async fn claim_case_work(
                &self,
                now: Timestamp,
                limit: u32,
                lease_ms: i64,
            ) -> Result<Vec<sb_domain::CaseWorkItem>> {
                self.claim_case_work_shared(now, limit, lease_ms).await
            }

            async fn pending_case_work(&self) -> Result<i64> {
                self.pending_case_work_count_shared().await
            }

            async fn due_cases(&self, now: Timestamp, limit: u32) -> Result<Vec<CaseId>> {
                self.due_cases_shared(now, limit).await
            }

            async fn case_events(&self, id: &CaseId) -> Result<Vec<sb_domain::CaseEvent>> {
                self.case_events_shared(id).await
            }

            async fn case_events_of_kind(
                &self,
                kind: &str,
                after_seq: i64,
                limit: u32,
            ) -> Result<Vec<(CaseId, sb_domain::CaseEvent)>> {
                self.case_events_of_kind_shared(kind, after_seq, limit)
                    .await
            }

            async fn set_presence(&self, agent: &str, presence: &str, at: Timestamp) -> Result<()> {
                self.set_presence_shared(agent, presence, at).await
            }

            async fn presences(&self) -> Result<Vec<(String, String)>> {
                self.presences_shared().await
            }

            async fn waiting_cases(&self, limit: u32) -> Result<Vec<Case>> {
                self.waiting_cases_shared(limit).await
            }

            async fn ensure_queues(&self, names: &[String]) -> Result<Vec<Queue>> {
                self.ensure_queues_shared(names).await
            }

            async fn insert_reply(&self, reply: &crate::StoredReply) -> Result<()> {
                self.insert_reply_shared(reply).await
            }

            async fn reply(&self, id: &str) -> Result<Option<crate::StoredReply>> {
                self.reply_shared(id).await
            }

            async fn update_reply(&self, reply: &crate::StoredReply, now: Timestamp) -> Result<bool> {
                self.update_reply_shared(reply, now).await
            }

            async fn recent_automated_replies(&self, limit: u32) -> Result<Vec<crate::StoredReply>> {
                self.recent_automated_replies_shared(limit).await
            }

            async fn list_replies(
                &self,
                case_id: Option<&CaseId>,
                status: Option<&str>,
                limit: u32,
            ) -> Result<Vec<crate::StoredReply>> {
                self.list_replies_shared(case_id, status, limit).await
            }
        }
    };
}

pub(crate) use store_impl;
