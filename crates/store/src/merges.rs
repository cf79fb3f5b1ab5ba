//! Store methods that join and part records, the same SQL on both back ends: merging two
//! cases of one customer and splitting a case in two (D1), and the duplicate-customer review
//! queue with customer merges that can be undone (C2, in `merges/customers.rs`).
//!
//! Each operation is one transaction that first locks the rows it changes (in id order, so
//! two operations never wait on each other) and then checks what the caller read is still
//! so: a case's `version`, the messages a case holds, the identities a customer holds. If
//! anything moved meanwhile nothing is written and the caller reads again — there is never a
//! half merge. What to merge and what the history says is decided by the caller.

pub(crate) mod customers;

use sb_domain::{Case, CaseChange, CustomerId, MessageId, Timestamp};
use serde::{Deserialize, Serialize};

/// Two cases of one customer becoming one.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseMerge {
    /// The case merged away, as it should be saved (closed, `merged_into` the target), with
    /// its history event; saved only if still at `expected_version`.
    pub source: CaseChange,
    /// The case that takes the messages, with its history event; saved only if still at
    /// `expected_version`.
    pub target: CaseChange,
    /// Every message the source held when it was read.
    pub messages: Vec<MessageId>,
}

/// Some of a case's messages moving to a new case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseSplit {
    /// The case split from, with its history event; saved only if still at its version.
    pub source: CaseChange,
    /// The case to open: its id, customer, platform, channel, subject, language, region and
    /// times. Its message figures are counted from the messages it receives.
    pub new_case: Case,
    /// The new case's workflow state (status, priority, queue, SLA clocks) and first events;
    /// its `expected_version` is not used: the case starts at version 0.
    pub new_work: CaseChange,
    /// The messages that move; each must still be in the source.
    pub messages: Vec<MessageId>,
}

/// A possible duplicate to put up for review. The pair is stored in id order.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSuggestion {
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
    /// The comparison (the workflow crate's `MatchResult`, with every field's weight).
    pub result: serde_json::Value,
}

/// A pair of customers that may be one person, and what the review made of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdentitySuggestion {
    pub id: String,
    /// The older customer of the pair (ids sort by creation): the survivor of a merge.
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
    /// `pending`, `merged`, `rejected`, or `undone` (merged, then the merge was undone).
    pub status: String,
    pub result: serde_json::Value,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    /// The latest merge of the pair, if it was ever merged.
    pub merge_id: Option<String>,
}

/// A customer merge to carry out.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerMergePlan {
    pub survivor: CustomerId,
    pub absorbed: CustomerId,
    /// The identity keys (`platform:handle`) the absorbed customer held when the profiles
    /// were compared; if it holds others by now, nothing is merged.
    pub absorbed_identities: Vec<String>,
    /// The pending suggestion this merge decides; `None` for an automatic merge, which
    /// records the pair as merged (and fails if the pair was decided meanwhile).
    pub suggestion: Option<String>,
    /// The merge record (the workflow crate's `MergeRecord`), kept to explain and undo.
    pub record: serde_json::Value,
    /// The comparison behind the merge, stored on the pair's suggestion.
    pub result: serde_json::Value,
    pub by: String,
    pub at: Timestamp,
}

/// What a customer merge moved, kept with it so that undoing gives back exactly that. Only
/// ids and channel names: the people themselves are in the merge record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MovedRecords {
    pub identities: u64,
    pub messages: Vec<String>,
    pub cases: Vec<String>,
    /// Channels whose consent choice moved: the survivor had none there.
    pub consents: Vec<String>,
    /// The survivor's choices an opt-out of the absorbed customer overrode.
    pub overridden_consents: Vec<OverriddenConsent>,
    /// The survivor's empty fields filled from the absorbed customer
    /// (`display_name`, `region`, `language`).
    pub filled: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverriddenConsent {
    pub channel: String,
    /// The survivor's choice before the merge.
    pub opted_out: bool,
    pub source: Option<String>,
    pub updated_at: i64,
    /// When the opt-out that replaced it was made; the survivor's choice comes back on undo
    /// only if nobody changed it since.
    pub replaced_at: i64,
}

/// A customer merge as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerMerge {
    pub id: String,
    pub survivor: CustomerId,
    pub absorbed: CustomerId,
    pub record: serde_json::Value,
    pub moved: MovedRecords,
    pub merged_at: Timestamp,
    pub undone_at: Option<Timestamp>,
}

/// What `merge_customers` did.
#[derive(Clone, Debug, PartialEq)]
pub enum CustomerMerged {
    Merged(Box<CustomerMerge>),
    /// The absorbed customer's identities changed since they were read: compare again.
    Changed,
    NoSuchCustomer(CustomerId),
    /// The customer was absorbed by this merge, still in force.
    AlreadyMerged {
        customer: CustomerId,
        merge: String,
    },
    /// The suggestion is not pending any more, or the pair was decided meanwhile.
    SuggestionDecided,
}

/// What went back to the absorbed customer on undo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Returned {
    pub identities: u64,
    pub messages: Vec<String>,
    pub cases: Vec<String>,
    pub consents: Vec<String>,
}

/// What `undo_customer_merge` did.
///
/// What goes back: the absorbed customer's identities; every message the merge moved, and
/// every message since written under one of those identities; every case the merge moved,
/// and every case since opened by a message under one of them. Messages stay in the case
/// they are in. Consents and filled fields go back unless changed since.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeUndo {
    Undone {
        merge: Box<CustomerMerge>,
        returned: Returned,
    },
    Unknown,
    AlreadyUndone(Timestamp),
    /// The survivor was itself absorbed since, by this merge: undo that one first.
    Superseded(String),
}

/// The pair in the order suggestions store it.
pub(crate) fn ordered<'a>(a: &'a CustomerId, b: &'a CustomerId) -> (&'a str, &'a str) {
    if a.as_str() <= b.as_str() {
        (a.as_str(), b.as_str())
    } else {
        (b.as_str(), a.as_str())
    }
}

macro_rules! merge_store_impl {
    ($ty:ty, $w:ident, $r:ident, $row_lock:literal, $db:ty) => {
        impl $ty {
            /// Saves a case change if the case is still at the version it names.
            async fn merge_save_change(
                conn: &mut <$db as sqlx::Database>::Connection,
                c: &sb_domain::CaseChange,
            ) -> crate::Result<bool> {
                let tags = serde_json::to_string(&c.tags).map_err(|e| {
                    crate::StoreError::Corrupt(format!("cannot encode tags: {e}"))
                })?;
                let saved = sqlx::query(
                    "UPDATE cases SET status = $1, priority = $2, queue_id = $3, assignee = $4, \
                     tags = $5, sla = $6, sla_due_at = $7, escalations = $8, \
                     first_response_at = $9, first_resolved_at = $10, resolved_at = $11, \
                     merged_into = $12, updated_at = $13, version = version + 1 \
                     WHERE id = $14 AND version = $15",
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
                .execute(&mut *conn)
                .await?;
                Ok(saved.rows_affected() == 1)
            }

            /// Message count, last sentiment and last message time from the case's messages,
            /// as `switchboard rebuild` computes them.
            async fn merge_recount(
                conn: &mut <$db as sqlx::Database>::Connection,
                case_id: &str,
            ) -> crate::Result<()> {
                sqlx::query(
                    "UPDATE cases SET \
                     message_count = (SELECT COUNT(*) FROM messages m WHERE m.case_id = cases.id), \
                     last_sentiment = (SELECT m.sentiment_compound FROM messages m \
                       WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1), \
                     last_message_at = COALESCE((SELECT MAX(m.created_at) FROM messages m \
                       WHERE m.case_id = cases.id), last_message_at) \
                     WHERE id = $1",
                )
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn merge_lock_cases(
                conn: &mut <$db as sqlx::Database>::Connection,
                a: &str,
                b: &str,
            ) -> crate::Result<()> {
                let _: Vec<(String,)> = sqlx::query_as(concat!(
                    "SELECT id FROM cases WHERE id = $1 OR id = $2 ORDER BY id",
                    $row_lock
                ))
                .bind(a)
                .bind(b)
                .fetch_all(&mut *conn)
                .await?;
                Ok(())
            }
        }

        crate::merges::customers::customer_merge_methods!($ty, $w, $r, $row_lock, $db);

        #[async_trait::async_trait]
        impl crate::MergeStore for $ty {
            async fn merge_cases(&self, m: &crate::CaseMerge) -> crate::Result<crate::CaseSave> {
                let (source, target) = (m.source.case_id.as_str(), m.target.case_id.as_str());
                // What the two cases' new events hold is held in their partitions from the
                // start (see `save_case_work`); a case placed since its region was read makes
                // the merge read both again and decide again.
                let mut conn = self.$w.acquire().await?;
                let regions = [
                    self.owner_region(&mut *conn, crate::residency::Owner::Case, source).await?,
                    self.owner_region(&mut *conn, crate::residency::Owner::Case, target).await?,
                ];
                let (holdings, rows) = self
                    .hold_case_events(
                        &mut conn,
                        &[
                            (source, &m.source.events, regions[0].as_deref()),
                            (target, &m.target.events, regions[1].as_deref()),
                        ],
                    )
                    .await?;
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                Self::merge_lock_cases(&mut tx, source, target).await?;
                if self.owner_region(&mut *tx, crate::residency::Owner::Case, source).await? != regions[0]
                    || self.owner_region(&mut *tx, crate::residency::Owner::Case, target).await? != regions[1]
                {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                if !Self::merge_save_change(&mut tx, &m.source).await?
                    || !Self::merge_save_change(&mut tx, &m.target).await?
                {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                let held: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM messages WHERE case_id = $1 ORDER BY seq")
                        .bind(source)
                        .fetch_all(&mut *tx)
                        .await?;
                let mut held: Vec<String> = held.into_iter().map(|(id,)| id).collect();
                let mut expected: Vec<String> =
                    m.messages.iter().map(|id| id.as_str().to_owned()).collect();
                held.sort();
                expected.sort();
                if held != expected {
                    // A message joined (or left) the source since it was read.
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                sqlx::query("UPDATE messages SET case_id = $1 WHERE case_id = $2")
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                // Work still owed for a moved message is done on the target, as a message
                // that joined it, not one that opened it.
                sqlx::query("UPDATE case_work SET case_id = $1, opened = $2 WHERE case_id = $3")
                    .bind(target)
                    .bind(false)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                for id in [source, target] {
                    Self::merge_recount(&mut tx, id).await?;
                }
                self.hold_within(&mut tx, &holdings).await?;
                for (i, (case, events)) in [(source, &m.source.events), (target, &m.target.events)]
                    .into_iter()
                    .enumerate()
                {
                    self.insert_case_events(&mut tx, case, events, &rows[i], regions[i].as_deref(), &holdings)
                        .await?;
                }
                tx.commit().await?;
                drop(conn);
                self.place_after_merge(&[source, target]).await;
                Ok(crate::CaseSave::Saved)
            }

            async fn split_case(&self, s: &crate::CaseSplit) -> crate::Result<crate::CaseSave> {
                let source = s.source.case_id.as_str();
                let (c, w) = (&s.new_case, &s.new_work);
                let new_id = c.id.as_str();
                // A case split from a placed case is created held in the same partition: its
                // subject (cut from a message) is written there, not into the central row. A
                // split that does not happen leaves a stray the start's sweep drops.
                let mut conn = self.$w.acquire().await?;
                let region = self
                    .owner_region(&mut *conn, crate::residency::Owner::Case, source)
                    .await?;
                let held = match region.as_deref() {
                    Some(r) => Some((r, self.partitions.placed(r)?)),
                    None => None,
                };
                let hold_subject = format!(
                    "INSERT INTO {}.case_content (id, subject) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET subject = excluded.subject",
                    held.map(|(_, schema)| schema).unwrap_or_default()
                );
                let apart = <Self as crate::residency::Backend>::PARTITIONS_APART;
                if apart && held.is_some() {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    sqlx::query(sqlx::AssertSqlSafe(hold_subject.clone()))
                        .bind(new_id)
                        .bind(c.subject.as_str())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                let (holdings, rows) = self
                    .hold_case_events(
                        &mut conn,
                        &[
                            (source, &s.source.events, region.as_deref()),
                            (new_id, &w.events, region.as_deref()),
                        ],
                    )
                    .await?;
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                Self::merge_lock_cases(&mut tx, source, source).await?;
                if self.owner_region(&mut *tx, crate::residency::Owner::Case, source).await? != region {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                if !Self::merge_save_change(&mut tx, &s.source).await? {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                let tags = serde_json::to_string(&w.tags).map_err(|e| {
                    crate::StoreError::Corrupt(format!("cannot encode tags: {e}"))
                })?;
                sqlx::query(
                    "INSERT INTO cases (id, customer_id, source, channel, status, priority, \
                     queue_id, assignee, tags, subject, language, region, message_count, \
                     last_sentiment, opened_at, updated_at, last_message_at, version, sla, \
                     sla_due_at, escalations, first_response_at, first_resolved_at, resolved_at, \
                     placed_in) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, NULL, $13, \
                     $14, $15, 0, $16, $17, $18, $19, $20, $21, $22)",
                )
                .bind(new_id)
                .bind(c.customer_id.as_str())
                .bind(c.source.as_str())
                .bind(c.channel.as_str())
                .bind(w.status.as_str())
                .bind(w.priority.as_str())
                .bind(w.queue_id.as_ref().map(|q| q.as_str()))
                .bind(w.assignee.as_deref())
                .bind(tags)
                .bind(if held.is_some() { "" } else { c.subject.as_str() })
                .bind(c.language.as_deref())
                .bind(c.region.as_deref())
                .bind(c.opened_at.millis())
                .bind(w.updated_at.millis())
                .bind(c.last_message_at.millis())
                .bind(w.sla.as_ref().map(|v| v.to_string()))
                .bind(w.sla_due_at.map(|t| t.millis()))
                .bind(w.escalations.to_string())
                .bind(w.first_response_at.map(|t| t.millis()))
                .bind(w.first_resolved_at.map(|t| t.millis()))
                .bind(w.resolved_at.map(|t| t.millis()))
                .bind(held.map(|(region, _)| region))
                .execute(&mut *tx)
                .await?;
                if !apart && held.is_some() {
                    sqlx::query(sqlx::AssertSqlSafe(hold_subject))
                        .bind(new_id)
                        .bind(c.subject.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                for id in &s.messages {
                    let moved = sqlx::query(
                        "UPDATE messages SET case_id = $1 WHERE id = $2 AND case_id = $3",
                    )
                    .bind(new_id)
                    .bind(id.as_str())
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                    if moved.rows_affected() != 1 {
                        tx.rollback().await?;
                        self.unhold_apart(&mut conn, &holdings).await?;
                        return Ok(crate::CaseSave::Changed);
                    }
                    sqlx::query(
                        "UPDATE case_work SET case_id = $1, opened = $2 WHERE message_id = $3",
                    )
                    .bind(new_id)
                    .bind(false)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                let left: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE case_id = $1")
                        .bind(source)
                        .fetch_one(&mut *tx)
                        .await?;
                if left == 0 {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(crate::CaseSave::Changed);
                }
                for id in [source, new_id] {
                    Self::merge_recount(&mut tx, id).await?;
                }
                self.hold_within(&mut tx, &holdings).await?;
                for (i, (case, events)) in [(source, &s.source.events), (new_id, &w.events)]
                    .into_iter()
                    .enumerate()
                {
                    self.insert_case_events(&mut tx, case, events, &rows[i], region.as_deref(), &holdings)
                        .await?;
                }
                tx.commit().await?;
                drop(conn);
                self.place_after_merge(&[source, new_id]).await;
                Ok(crate::CaseSave::Saved)
            }

            async fn mergeable_customers(&self) -> crate::Result<Vec<sb_domain::Customer>> {
                self.merge_mergeable_customers().await
            }

            async fn suggestion_pairs(
                &self,
            ) -> crate::Result<Vec<(sb_domain::CustomerId, sb_domain::CustomerId)>> {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT customer_a, customer_b FROM identity_suggestions")
                        .fetch_all(&self.$r)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(a, b)| {
                        (
                            sb_domain::CustomerId::from_stored(a),
                            sb_domain::CustomerId::from_stored(b),
                        )
                    })
                    .collect())
            }

            async fn add_suggestions(
                &self,
                new: &[crate::NewSuggestion],
                at: sb_domain::Timestamp,
            ) -> crate::Result<u64> {
                self.merge_add_suggestions(new, at).await
            }

            async fn suggestions(
                &self,
                status: Option<&str>,
                page: &crate::Page,
            ) -> crate::Result<Vec<crate::IdentitySuggestion>> {
                self.merge_suggestions(None, status, page).await
            }

            async fn suggestion(&self, id: &str) -> crate::Result<Option<crate::IdentitySuggestion>> {
                let page = crate::Page {
                    before: None,
                    limit: 1,
                };
                Ok(self.merge_suggestions(Some(id), None, &page).await?.pop())
            }

            async fn reject_suggestion(
                &self,
                id: &str,
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE identity_suggestions SET status = 'rejected', decided_by = $2, \
                     decided_at = $3 WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(by)
                .bind(at.millis())
                .execute(&self.$w)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn merge_customers(
                &self,
                plan: &crate::CustomerMergePlan,
            ) -> crate::Result<crate::CustomerMerged> {
                self.merge_customers_in_tx(plan).await
            }

            async fn customer_merge(&self, id: &str) -> crate::Result<Option<crate::CustomerMerge>> {
                let mut conn = self.$r.acquire().await?;
                self.merge_row(&mut conn, id).await
            }

            async fn undo_customer_merge(
                &self,
                id: &str,
                absorbed_identities: &[String],
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<crate::MergeUndo> {
                self.merge_undo_in_tx(id, absorbed_identities, by, at).await
            }
        }
    };
}

pub(crate) use merge_store_impl;
