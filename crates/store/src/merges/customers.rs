//! Customer merges and the review queue of possible duplicates (C2), the same SQL on both
//! back ends. A merge moves the absorbed customer's identities, messages, cases and consents
//! to the survivor and keeps a list of what it moved; undoing gives that back, with what
//! arrived since under the absorbed customer's identities. The absorbed customer's row stays,
//! empty, so an undo has somewhere to return to.

use std::collections::HashSet;

/// Customer fields a merge fills on the survivor when it has none.
pub(crate) const FILLABLE: [&str; 3] = ["display_name", "region", "language"];

#[derive(sqlx::FromRow)]
pub(crate) struct SuggestionRow {
    id: String,
    customer_a: String,
    customer_b: String,
    status: String,
    result: String,
    created_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    merge_id: Option<String>,
}

impl SuggestionRow {
    pub(crate) fn into_domain(self) -> crate::Result<crate::IdentitySuggestion> {
        let result = serde_json::from_str(&self.result).map_err(|e| {
            crate::StoreError::Corrupt(format!("suggestion {} result: {e}", self.id))
        })?;
        Ok(crate::IdentitySuggestion {
            id: self.id,
            customer_a: sb_domain::CustomerId::from_stored(self.customer_a),
            customer_b: sb_domain::CustomerId::from_stored(self.customer_b),
            status: self.status,
            result,
            created_at: sb_domain::Timestamp(self.created_at),
            decided_by: self.decided_by,
            decided_at: self.decided_at.map(sb_domain::Timestamp),
            merge_id: self.merge_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MergeRow {
    id: String,
    survivor: String,
    absorbed: String,
    record: String,
    moved: String,
    merged_at: i64,
    undone_at: Option<i64>,
}

impl MergeRow {
    pub(crate) fn into_domain(self) -> crate::Result<crate::CustomerMerge> {
        let corrupt = |what: &str, e: serde_json::Error| {
            crate::StoreError::Corrupt(format!("merge {} {what}: {e}", self.id))
        };
        Ok(crate::CustomerMerge {
            record: serde_json::from_str(&self.record).map_err(|e| corrupt("record", e))?,
            moved: serde_json::from_str(&self.moved).map_err(|e| corrupt("moved", e))?,
            survivor: sb_domain::CustomerId::from_stored(self.survivor),
            absorbed: sb_domain::CustomerId::from_stored(self.absorbed),
            merged_at: sb_domain::Timestamp(self.merged_at),
            undone_at: self.undone_at.map(sb_domain::Timestamp),
            id: self.id,
        })
    }
}

/// Whether a message was written under one of `keys` (identity keys, `platform:handle`).
pub(crate) fn written_under(keys: &HashSet<String>, source: &str, handle: &str) -> bool {
    sb_domain::Platform::parse(source)
        .is_some_and(|p| keys.contains(&sb_domain::Identity::key(p, handle)))
}

pub(crate) type ConsentRow = (String, i32, Option<String>, i64);

macro_rules! customer_merge_methods {
    ($ty:ty, $w:ident, $r:ident, $row_lock:literal, $db:ty) => {
        impl $ty {
            /// Statements (binding the survivor `$1` and the absorbed `$2`) that fill the
            /// survivor's empty `field` from the absorbed customer. A display name held in a
            /// region partition is read and filled there.
            fn fill_sql(&self, field: &str) -> Vec<String> {
                if field != "display_name" || self.partitions.is_empty() {
                    return vec![format!(
                        "UPDATE customers SET {field} = (SELECT a.{field} FROM customers a WHERE a.id = $2) \
                         WHERE id = $1 AND {field} IS NULL \
                         AND (SELECT a.{field} FROM customers a WHERE a.id = $2) IS NOT NULL"
                    )];
                }
                let theirs = format!(
                    "(SELECT {} FROM customers a WHERE a.id = $2)",
                    self.partitions.display_name_sql("a")
                );
                let mut out = vec![format!(
                    "UPDATE customers SET display_name = {theirs} WHERE id = $1 AND placed_in IS NULL \
                     AND display_name IS NULL AND {theirs} IS NOT NULL"
                )];
                for schema in self.partitions.schemas() {
                    out.push(format!(
                        "UPDATE {schema}.customer_content SET display_name = {theirs} WHERE id = $1 \
                         AND display_name IS NULL AND {theirs} IS NOT NULL"
                    ));
                }
                out
            }

            /// Statements that undo `fill_sql`: the survivor's `field` is emptied where it
            /// still holds the absorbed customer's value.
            fn unfill_sql(&self, field: &str) -> Vec<String> {
                if field != "display_name" || self.partitions.is_empty() {
                    return vec![format!(
                        "UPDATE customers SET {field} = NULL WHERE id = $1 \
                         AND {field} = (SELECT a.{field} FROM customers a WHERE a.id = $2)"
                    )];
                }
                let theirs = format!(
                    "(SELECT {} FROM customers a WHERE a.id = $2)",
                    self.partitions.display_name_sql("a")
                );
                let mut out = vec![format!(
                    "UPDATE customers SET display_name = NULL WHERE id = $1 AND placed_in IS NULL \
                     AND display_name = {theirs}"
                )];
                for schema in self.partitions.schemas() {
                    out.push(format!(
                        "UPDATE {schema}.customer_content SET display_name = NULL WHERE id = $1 \
                         AND display_name = {theirs}"
                    ));
                }
                out
            }

            async fn merge_mergeable_customers(&self) -> crate::Result<Vec<sb_domain::Customer>> {
                let name = self.partitions.display_name_sql("c");
                let customers: Vec<crate::rows::CustomerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT c.id, {name} AS display_name, c.region, c.language, c.tier, c.lifetime_value, \
                     c.created_at FROM customers c WHERE c.erased_at IS NULL AND NOT EXISTS \
                     (SELECT 1 FROM customer_merges m WHERE m.absorbed = c.id AND m.undone_at IS NULL) \
                     ORDER BY c.id",
                )))
                .fetch_all(&self.$r)
                .await?;
                // In the order `customer()` lists them, so a profile built from either is the same.
                let identities: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT customer_id, platform, {} FROM identities ORDER BY created_at, key",
                    self.partitions.handle_sql("identities")
                )))
                .fetch_all(&self.$r)
                .await?;
                let mut by_customer: std::collections::HashMap<
                    String,
                    Vec<crate::rows::IdentityRow>,
                > = std::collections::HashMap::new();
                for (customer, platform, handle) in identities {
                    by_customer
                        .entry(customer)
                        .or_default()
                        .push(crate::rows::IdentityRow { platform, handle });
                }
                customers
                    .into_iter()
                    .map(|c| {
                        let ids = by_customer.remove(&c.id).unwrap_or_default();
                        c.into_domain(ids)
                    })
                    .collect()
            }

            async fn merge_add_suggestions(
                &self,
                new: &[crate::NewSuggestion],
                at: sb_domain::Timestamp,
            ) -> crate::Result<u64> {
                let mut tx = self.$w.begin().await?;
                let mut added = 0;
                for s in new {
                    let (a, b) = crate::merges::ordered(&s.customer_a, &s.customer_b);
                    added += sqlx::query(
                        "INSERT INTO identity_suggestions (id, customer_a, customer_b, status, \
                         result, created_at) VALUES ($1, $2, $3, 'pending', $4, $5) \
                         ON CONFLICT (customer_a, customer_b) DO NOTHING",
                    )
                    .bind(format!("sug_{}", ulid::Ulid::generate()))
                    .bind(a)
                    .bind(b)
                    .bind(s.result.to_string())
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn merge_suggestions(
                &self,
                id: Option<&str>,
                status: Option<&str>,
                page: &crate::Page,
            ) -> crate::Result<Vec<crate::IdentitySuggestion>> {
                let rows: Vec<crate::merges::customers::SuggestionRow> = sqlx::query_as(
                    "SELECT s.id, s.customer_a, s.customer_b, s.status, s.result, s.created_at, \
                     s.decided_by, s.decided_at, (SELECT m.id FROM customer_merges m \
                       WHERE (m.survivor = s.customer_a AND m.absorbed = s.customer_b) \
                       OR (m.survivor = s.customer_b AND m.absorbed = s.customer_a) \
                       ORDER BY m.merged_at DESC, m.id DESC LIMIT 1) AS merge_id \
                     FROM identity_suggestions s WHERE ($1 IS NULL OR s.id = $1) \
                     AND ($2 IS NULL OR s.status = $2) AND ($3 IS NULL OR s.id < $3) \
                     ORDER BY s.id DESC LIMIT $4",
                )
                .bind(id)
                .bind(status)
                .bind(page.before.as_deref())
                .bind(i64::from(page.limit))
                .fetch_all(&self.$r)
                .await?;
                rows.into_iter()
                    .map(crate::merges::customers::SuggestionRow::into_domain)
                    .collect()
            }

            /// The merge `id`, its record read from wherever it is held.
            async fn merge_row(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &str,
            ) -> crate::Result<Option<crate::CustomerMerge>> {
                let record = self.partitions.document_sql(
                    "customer_merges",
                    crate::residency::Document::MergeRecord,
                    "record",
                );
                let row: Option<crate::merges::customers::MergeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id, survivor, absorbed, {record} AS record, moved, merged_at, undone_at \
                     FROM customer_merges WHERE id = $1"
                )))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                row.map(crate::merges::customers::MergeRow::into_domain)
                    .transpose()
            }

            async fn merge_consents_of(
                conn: &mut <$db as sqlx::Database>::Connection,
                customer: &str,
            ) -> crate::Result<Vec<crate::merges::customers::ConsentRow>> {
                Ok(sqlx::query_as(
                    "SELECT channel, opted_out, source, updated_at FROM consents \
                     WHERE customer_id = $1 ORDER BY channel",
                )
                .bind(customer)
                .fetch_all(&mut *conn)
                .await?)
            }

            /// Consent choices the survivor lacks move over; where both chose, an opt-out of
            /// the absorbed customer wins, because it must outlive the profile it was given on.
            async fn merge_move_consents(
                conn: &mut <$db as sqlx::Database>::Connection,
                survivor: &str,
                absorbed: &str,
                moved: &mut crate::MovedRecords,
            ) -> crate::Result<()> {
                let theirs = Self::merge_consents_of(conn, survivor).await?;
                let mine = Self::merge_consents_of(conn, absorbed).await?;
                for (channel, opted_out, source, at) in mine {
                    match theirs.iter().find(|(c, ..)| *c == channel) {
                        None => {
                            sqlx::query(
                                "UPDATE consents SET customer_id = $1 WHERE customer_id = $2 \
                                 AND channel = $3",
                            )
                            .bind(survivor)
                            .bind(absorbed)
                            .bind(&channel)
                            .execute(&mut *conn)
                            .await?;
                            moved.consents.push(channel);
                        }
                        Some((_, 0, kept_source, kept_at)) if opted_out != 0 => {
                            sqlx::query(
                                "UPDATE consents SET opted_out = 1, source = $3, updated_at = $4 \
                                 WHERE customer_id = $1 AND channel = $2",
                            )
                            .bind(survivor)
                            .bind(&channel)
                            .bind(source.as_deref())
                            .bind(at)
                            .execute(&mut *conn)
                            .await?;
                            moved.overridden_consents.push(crate::OverriddenConsent {
                                channel,
                                opted_out: false,
                                source: kept_source.clone(),
                                updated_at: *kept_at,
                                replaced_at: at,
                            });
                        }
                        Some(_) => {}
                    }
                }
                Ok(())
            }

            async fn merge_customers_in_tx(
                &self,
                plan: &crate::CustomerMergePlan,
            ) -> crate::Result<crate::CustomerMerged> {
                use crate::CustomerMerged as M;
                let (survivor, absorbed) = (plan.survivor.as_str(), plan.absorbed.as_str());
                // The record of the absorbed profile is held in a placed survivor's partition
                // from the start; a survivor placed since this read makes the merge decide again.
                let merge_id = format!("mrg_{}", ulid::Ulid::generate());
                let mut conn = self.$w.acquire().await?;
                let region = self
                    .owner_region(&mut *conn, crate::residency::Owner::Customer, survivor)
                    .await?;
                let (holdings, record) = self.partitions.hold_row(
                    crate::residency::Document::MergeRecord,
                    region.as_deref(),
                    survivor,
                    crate::residency::DocKey::Id(merge_id.clone()),
                    vec![Some(plan.record.to_string())],
                )?;
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let found: Vec<(String, Option<i64>)> = sqlx::query_as(concat!(
                    "SELECT id, erased_at FROM customers WHERE id = $1 OR id = $2 ORDER BY id",
                    $row_lock
                ))
                .bind(survivor)
                .bind(absorbed)
                .fetch_all(&mut *tx)
                .await?;
                for c in [&plan.survivor, &plan.absorbed] {
                    if !found.iter().any(|(id, erased)| id == c.as_str() && erased.is_none()) {
                        tx.rollback().await?;
                        self.unhold_apart(&mut conn, &holdings).await?;
                        return Ok(M::NoSuchCustomer(c.clone()));
                    }
                }
                if self
                    .owner_region(&mut *tx, crate::residency::Owner::Customer, survivor)
                    .await?
                    != region
                {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(M::Changed);
                }
                let live: Option<(String, String)> = sqlx::query_as(
                    "SELECT id, absorbed FROM customer_merges WHERE (absorbed = $1 OR absorbed = $2) \
                     AND undone_at IS NULL ORDER BY id LIMIT 1",
                )
                .bind(survivor)
                .bind(absorbed)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((merge, customer)) = live {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(M::AlreadyMerged {
                        customer: sb_domain::CustomerId::from_stored(customer),
                        merge,
                    });
                }
                let held: Vec<(String,)> =
                    sqlx::query_as("SELECT key FROM identities WHERE customer_id = $1 ORDER BY key")
                        .bind(absorbed)
                        .fetch_all(&mut *tx)
                        .await?;
                let held: Vec<String> = held.into_iter().map(|(k,)| k).collect();
                // The plan names plain keys; a placed identity is held under its pseudonym.
                let mut expected = Vec::with_capacity(plan.absorbed_identities.len());
                for key in &plan.absorbed_identities {
                    let forms = self.partitions.identity_keys(key)?;
                    expected.push(held.iter().find(|h| forms.contains(h)).cloned().unwrap_or_else(|| key.clone()));
                }
                expected.sort();
                if held != expected {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(M::Changed);
                }
                let (a, b) = crate::merges::ordered(&plan.survivor, &plan.absorbed);
                let decided = match &plan.suggestion {
                    Some(id) => sqlx::query(
                        "UPDATE identity_suggestions SET status = 'merged', result = $2, \
                         decided_by = $3, decided_at = $4 WHERE id = $1 AND status = 'pending' \
                         AND customer_a = $5 AND customer_b = $6",
                    )
                    .bind(id)
                    .bind(plan.result.to_string())
                    .bind(&plan.by)
                    .bind(plan.at.millis())
                    .bind(a)
                    .bind(b)
                    .execute(&mut *tx)
                    .await?,
                    None => sqlx::query(
                        "INSERT INTO identity_suggestions (id, customer_a, customer_b, status, \
                         result, created_at, decided_by, decided_at) \
                         VALUES ($1, $2, $3, 'merged', $4, $5, $6, $5) \
                         ON CONFLICT (customer_a, customer_b) DO NOTHING",
                    )
                    .bind(format!("sug_{}", ulid::Ulid::generate()))
                    .bind(a)
                    .bind(b)
                    .bind(plan.result.to_string())
                    .bind(plan.at.millis())
                    .bind(&plan.by)
                    .execute(&mut *tx)
                    .await?,
                };
                if decided.rows_affected() != 1 {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(M::SuggestionDecided);
                }
                let mut moved = crate::MovedRecords::default();
                let messages: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM messages WHERE customer_id = $1 ORDER BY seq")
                        .bind(absorbed)
                        .fetch_all(&mut *tx)
                        .await?;
                moved.messages = messages.into_iter().map(|(id,)| id).collect();
                let cases: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM cases WHERE customer_id = $1 ORDER BY id")
                        .bind(absorbed)
                        .fetch_all(&mut *tx)
                        .await?;
                moved.cases = cases.into_iter().map(|(id,)| id).collect();
                for table in ["identities", "messages", "cases"] {
                    let sql = format!("UPDATE {table} SET customer_id = $1 WHERE customer_id = $2");
                    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(survivor)
                        .bind(absorbed)
                        .execute(&mut *tx)
                        .await?;
                    if table == "identities" {
                        moved.identities = done.rows_affected();
                    }
                }
                // Handles joining a placed survivor follow them into their partition.
                sqlx::query(
                    "UPDATE identities SET place_to = (SELECT placed_in FROM customers WHERE id = $1) \
                     WHERE customer_id = $1 AND placed_in IS NULL AND place_to IS NULL",
                )
                .bind(survivor)
                .execute(&mut *tx)
                .await?;
                Self::merge_move_consents(&mut tx, survivor, absorbed, &mut moved).await?;
                for field in crate::merges::customers::FILLABLE {
                    let mut filled = 0;
                    for sql in self.fill_sql(field) {
                        filled += sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(survivor)
                            .bind(absorbed)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                    if filled > 0 {
                        moved.filled.push(field.to_owned());
                    }
                }
                let merge = crate::CustomerMerge {
                    id: merge_id,
                    survivor: plan.survivor.clone(),
                    absorbed: plan.absorbed.clone(),
                    record: plan.record.clone(),
                    moved,
                    merged_at: plan.at,
                    undone_at: None,
                };
                let moved_doc = serde_json::to_string(&merge.moved).map_err(|e| {
                    crate::StoreError::Corrupt(format!("cannot encode a merge: {e}"))
                })?;
                self.hold_within(&mut tx, &holdings).await?;
                sqlx::query(
                    "INSERT INTO customer_merges (id, survivor, absorbed, record, merged_at, moved, \
                     placed_in) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&merge.id)
                .bind(survivor)
                .bind(absorbed)
                .bind(record.into_iter().flatten().next())
                .bind(plan.at.millis())
                .bind(moved_doc)
                .bind(region.as_deref())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                drop(conn);
                // The handles a placed survivor took over move to its partition.
                self.place_identities_after_write().await;
                Ok(M::Merged(Box::new(merge)))
            }

            async fn merge_undo_in_tx(
                &self,
                id: &str,
                absorbed_identities: &[String],
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<crate::MergeUndo> {
                use crate::MergeUndo as U;
                let mut tx = self.$w.begin().await?;
                let _: Option<(String,)> = sqlx::query_as(concat!(
                    "SELECT id FROM customer_merges WHERE id = $1",
                    $row_lock
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(merge) = self.merge_row(&mut tx, id).await? else {
                    tx.rollback().await?;
                    return Ok(U::Unknown);
                };
                if let Some(undone) = merge.undone_at {
                    tx.rollback().await?;
                    return Ok(U::AlreadyUndone(undone));
                }
                let (survivor, absorbed) = (merge.survivor.as_str(), merge.absorbed.as_str());
                let later: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM customer_merges WHERE absorbed = $1 AND undone_at IS NULL LIMIT 1",
                )
                .bind(survivor)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((later,)) = later {
                    tx.rollback().await?;
                    return Ok(U::Superseded(later));
                }
                let _: Vec<(String,)> = sqlx::query_as(concat!(
                    "SELECT id FROM customers WHERE id = $1 OR id = $2 ORDER BY id",
                    $row_lock
                ))
                .bind(survivor)
                .bind(absorbed)
                .fetch_all(&mut *tx)
                .await?;
                let keys: std::collections::HashSet<String> =
                    absorbed_identities.iter().cloned().collect();
                let mut returned = crate::Returned::default();
                for key in &keys {
                    // Under the key recorded, or its pseudonym if placed since.
                    let held = serde_json::to_string(&self.partitions.identity_keys(key)?)
                        .map_err(|e| crate::StoreError::Corrupt(format!("cannot encode keys: {e}")))?;
                    returned.identities += sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE identities SET customer_id = $2 WHERE key IN ({}) AND customer_id = $3",
                        Self::IDS_FROM_JSON
                    )))
                    .bind(held)
                    .bind(absorbed)
                    .bind(survivor)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                let recorded: std::collections::HashSet<&str> =
                    merge.moved.messages.iter().map(String::as_str).collect();
                let handle = self.partitions.column_sql("m", "author_handle");
                let messages: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT m.id, m.source, {handle} FROM messages m WHERE m.customer_id = $1 ORDER BY m.seq",
                )))
                .bind(survivor)
                .fetch_all(&mut *tx)
                .await?;
                returned.messages = messages
                    .into_iter()
                    .filter(|(m, source, handle)| {
                        recorded.contains(m.as_str())
                            || crate::merges::customers::written_under(&keys, source, handle)
                    })
                    .map(|(m, ..)| m)
                    .collect();
                let recorded: std::collections::HashSet<&str> =
                    merge.moved.cases.iter().map(String::as_str).collect();
                let cases: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT c.id, m.source, {handle} FROM cases c LEFT JOIN messages m \
                     ON m.id = (SELECT f.id FROM messages f WHERE f.case_id = c.id ORDER BY f.seq LIMIT 1) \
                     WHERE c.customer_id = $1 ORDER BY c.id",
                )))
                .bind(survivor)
                .fetch_all(&mut *tx)
                .await?;
                returned.cases = cases
                    .into_iter()
                    .filter(|(c, source, handle)| {
                        recorded.contains(c.as_str())
                            || matches!((source, handle), (Some(s), Some(h))
                                if crate::merges::customers::written_under(&keys, s, h))
                    })
                    .map(|(c, ..)| c)
                    .collect();
                for (table, ids) in [("messages", &returned.messages), ("cases", &returned.cases)] {
                    let sql = format!("UPDATE {table} SET customer_id = $1 WHERE id = $2");
                    for item in ids {
                        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                            .bind(absorbed)
                            .bind(item)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for channel in &merge.moved.consents {
                    let back = sqlx::query(
                        "UPDATE consents SET customer_id = $1 WHERE customer_id = $2 AND channel = $3 \
                         AND NOT EXISTS (SELECT 1 FROM consents o WHERE o.customer_id = $1 AND o.channel = $3)",
                    )
                    .bind(absorbed)
                    .bind(survivor)
                    .bind(channel)
                    .execute(&mut *tx)
                    .await?;
                    if back.rows_affected() == 1 {
                        returned.consents.push(channel.clone());
                    }
                }
                for o in &merge.moved.overridden_consents {
                    sqlx::query(
                        "UPDATE consents SET opted_out = $3, source = $4, updated_at = $5 \
                         WHERE customer_id = $1 AND channel = $2 AND opted_out = 1 AND updated_at = $6",
                    )
                    .bind(survivor)
                    .bind(&o.channel)
                    .bind(i32::from(o.opted_out))
                    .bind(o.source.as_deref())
                    .bind(o.updated_at)
                    .bind(o.replaced_at)
                    .execute(&mut *tx)
                    .await?;
                }
                for field in crate::merges::customers::FILLABLE {
                    if !merge.moved.filled.iter().any(|f| f == field) {
                        continue;
                    }
                    for sql in self.unfill_sql(field) {
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(survivor)
                            .bind(absorbed)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query("UPDATE customer_merges SET undone_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await?;
                let (a, b) = crate::merges::ordered(&merge.survivor, &merge.absorbed);
                sqlx::query(
                    "UPDATE identity_suggestions SET status = 'undone', decided_by = $3, \
                     decided_at = $4 WHERE customer_a = $1 AND customer_b = $2",
                )
                .bind(a)
                .bind(b)
                .bind(by)
                .bind(at.millis())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                let merge = Box::new(crate::CustomerMerge {
                    undone_at: Some(at),
                    ..merge
                });
                Ok(U::Undone { merge, returned })
            }
        }
    };
}

pub(crate) use customer_merge_methods;
