//! Storage of disruption messaging (F2, F3), the same SQL on both back ends: the customers an
//! incident may concern (by region, or by open cases that mention a product), drafts with one
//! row per customer, and the approval that queues every customer's message in the outbox in
//! the same transaction that records the decision — so a message is queued once, and only
//! after approval, whatever is retried or restarted.

use crate::Result;
use async_trait::async_trait;
use sb_domain::{
    CaseId, Customer, CustomerId, DisruptionId, IncidentId, MessageId, NewOutboxItem, OutboxId,
    OutboxStatus, Platform, Timestamp,
};

/// A draft or sent disruption message, without its recipients. `doc` holds the template,
/// segment, facts and decisions: nothing personal.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDisruption {
    pub id: DisruptionId,
    pub incident_id: IncidentId,
    /// `pending_approval`, `approved` or `rejected`.
    pub status: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Guards concurrent decisions.
    pub version: i64,
    pub doc: serde_json::Value,
}

/// One customer of a disruption's segment: the message they get, or why they get none.
#[derive(Clone, Debug, PartialEq)]
pub struct DisruptionRecipient {
    pub customer_id: CustomerId,
    /// The case the message is filed under (the customer's latest conversation).
    pub case_id: Option<CaseId>,
    /// The outbox target that sends it (`x`, `meta`, `smtp`, …).
    pub target: Option<String>,
    /// The locale of the template version chosen.
    pub locale: Option<String>,
    pub template_version: Option<u32>,
    pub text: String,
    /// `text` with the customer's name and handle as `[redacted]`.
    pub preview: String,
    /// The outbox payload (a platform reply) to queue on approval.
    pub payload: serde_json::Value,
    /// Variables filled with the fallback wording because their fact was stale or missing.
    pub fallbacks: Vec<String>,
    /// Why this customer gets nothing: `opted_out`, `no_channel`, `channel_not_configured`,
    /// `already_notified`.
    pub excluded: Option<String>,
    pub outbox_id: Option<OutboxId>,
    /// The queued message's state in the outbox (read only).
    pub delivery: Option<OutboxStatus>,
}

/// Who may be affected: customers in any of `regions`, or with an open case mentioning any of
/// `about` (in a message's text or a `product:` tag), or both when both are given.
#[derive(Clone, Debug, Default)]
pub struct AudienceQuery {
    pub regions: Vec<String>,
    pub about: Vec<String>,
    /// At most this many candidates are answered.
    pub limit: u32,
}

/// Where a customer last wrote: where a message to them goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    pub message_id: MessageId,
    pub case_id: Option<CaseId>,
    pub source: Platform,
    pub channel: String,
    pub external_id: String,
    pub handle: String,
    pub region: Option<String>,
    /// The message as it arrived (account, author id, e-mail headers).
    pub raw: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AudienceCandidate {
    pub customer: Customer,
    pub reach: Option<Reach>,
}

/// A customer's message to queue on approval.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub customer_id: CustomerId,
    pub item: NewOutboxItem,
}

/// Listening: disruption messaging (F2, F3), churn histories (E8) and contact volumes for
/// capacity planning (E7, F5). Every `Store` is one; callers name this trait to use these
/// methods.
#[async_trait]
pub trait ListeningStore: Send + Sync {
    /// Customers (not erased) matching the query, by id, each with where they last wrote.
    async fn audience(&self, query: &AudienceQuery) -> Result<Vec<AudienceCandidate>>;
    /// Stores a draft and its recipients in one transaction.
    async fn insert_disruption(
        &self,
        disruption: &StoredDisruption,
        recipients: &[DisruptionRecipient],
    ) -> Result<()>;
    async fn disruption(&self, id: &DisruptionId) -> Result<Option<StoredDisruption>>;
    /// A disruption's recipients by customer id, with the outbox state of queued messages.
    async fn disruption_recipients(&self, id: &DisruptionId) -> Result<Vec<DisruptionRecipient>>;
    /// An incident's disruptions, oldest first.
    async fn incident_disruptions(&self, incident: &IncidentId) -> Result<Vec<StoredDisruption>>;
    /// Customers whose message about this incident is already queued (an approved disruption).
    async fn notified_customers(&self, incident: &IncidentId) -> Result<Vec<CustomerId>>;
    /// Saves a decision if the disruption is still at `expected_version`: its new status and
    /// document, marks `excluded` customers, and queues `releases` in the outbox (each
    /// recipient's row pointing at its item) — all in one transaction. False, changing
    /// nothing, when someone decided first.
    async fn decide_disruption(
        &self,
        disruption: &StoredDisruption,
        expected_version: i64,
        releases: &[Release],
        excluded: &[(CustomerId, String)],
        now: Timestamp,
    ) -> Result<bool>;
    /// The messages since `since` of every customer (not erased) who is `premium` or `vip`
    /// or worth at least `min_value`, by customer: what churn early warning (E8) compares
    /// against each customer's own baseline.
    async fn churn_histories(&self, since: Timestamp, min_value: f64) -> Result<Vec<ChurnHistory>>;
    /// Messages per hour by their own time (`created_at`), from `since` (inclusive) to
    /// `until` (exclusive), as `(hour start, count)` in order; hours without messages are left
    /// out. The contact history capacity planning forecasts from.
    async fn hourly_volume(&self, since: Timestamp, until: Timestamp) -> Result<Vec<(i64, i64)>>;
    /// Every disruption message held for a customer, as `(disruption id, recipient)`.
    async fn customer_disruptions(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<(DisruptionId, DisruptionRecipient)>>;
}

/// One high-value customer's recent messages: when, and their sentiment.
#[derive(Clone, Debug, PartialEq)]
pub struct ChurnHistory {
    pub customer_id: CustomerId,
    pub tier: sb_domain::Tier,
    pub lifetime_value: f64,
    /// Oldest first.
    pub messages: Vec<(Timestamp, Option<f64>)>,
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut out = String::from("%");
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[derive(sqlx::FromRow)]
pub(crate) struct DisruptionRow {
    id: String,
    incident_id: String,
    status: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    doc: String,
}

impl DisruptionRow {
    pub(crate) fn into_stored(self) -> Result<StoredDisruption> {
        let doc = serde_json::from_str(&self.doc)
            .map_err(|e| crate::StoreError::Corrupt(format!("disruption {}: {e}", self.id)))?;
        Ok(StoredDisruption {
            id: DisruptionId::from_stored(self.id),
            incident_id: IncidentId::from_stored(self.incident_id),
            status: self.status,
            created_by: self.created_by,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            version: self.version,
            doc,
        })
    }
}

pub(crate) const DISRUPTION_COLUMNS: &str =
    "id, incident_id, status, created_by, created_at, updated_at, version, doc";

#[derive(sqlx::FromRow)]
pub(crate) struct RecipientRow {
    disruption_id: String,
    customer_id: String,
    case_id: Option<String>,
    target: Option<String>,
    locale: Option<String>,
    template_version: Option<i64>,
    text: String,
    preview: String,
    payload: String,
    fallbacks: String,
    excluded: Option<String>,
    outbox_id: Option<String>,
    delivery: Option<String>,
}

/// `{text}` and `{payload}` are read from wherever they are held (`Partitions::document_sql`).
pub(crate) const RECIPIENT_SELECT: &str = "SELECT r.disruption_id, r.customer_id, r.case_id, \
    r.target, r.locale, r.template_version, {text} AS text, r.preview, {payload} AS payload, \
    r.fallbacks, r.excluded, r.outbox_id, o.status AS delivery FROM disruption_recipients r \
    LEFT JOIN outbox o ON o.id = r.outbox_id";

/// `RECIPIENT_SELECT` for `partitions`.
pub(crate) fn recipient_select(partitions: &crate::residency::Partitions) -> String {
    let held = |c| partitions.document_sql("r", crate::residency::Document::DisruptionMessage, c);
    RECIPIENT_SELECT
        .replace("{text}", &held("text"))
        .replace("{payload}", &held("payload"))
}

impl RecipientRow {
    pub(crate) fn into_domain(self) -> Result<(DisruptionId, DisruptionRecipient)> {
        let corrupt = |what: String| {
            crate::StoreError::Corrupt(format!(
                "disruption {} recipient {}: {what}",
                self.disruption_id, self.customer_id
            ))
        };
        let payload = serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?;
        let fallbacks =
            serde_json::from_str(&self.fallbacks).map_err(|e| corrupt(e.to_string()))?;
        let template_version = self
            .template_version
            .map(|v| u32::try_from(v).map_err(|_| corrupt(format!("version {v}"))))
            .transpose()?;
        Ok((
            DisruptionId::from_stored(self.disruption_id.clone()),
            DisruptionRecipient {
                customer_id: CustomerId::from_stored(self.customer_id.clone()),
                case_id: self.case_id.map(CaseId::from_stored),
                target: self.target,
                locale: self.locale,
                template_version,
                text: self.text,
                preview: self.preview,
                payload,
                fallbacks,
                excluded: self.excluded,
                outbox_id: self.outbox_id.map(OutboxId::from_stored),
                delivery: self.delivery.as_deref().and_then(OutboxStatus::parse),
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReachRow {
    pub(crate) id: String,
    pub(crate) case_id: Option<String>,
    pub(crate) source: String,
    pub(crate) channel: String,
    pub(crate) external_id: String,
    pub(crate) author_handle: String,
    pub(crate) region: Option<String>,
    pub(crate) raw: String,
}

impl ReachRow {
    pub(crate) fn into_reach(self) -> Result<Reach> {
        let source = Platform::parse(&self.source).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("message {}: platform {}", self.id, self.source))
        })?;
        Ok(Reach {
            message_id: MessageId::from_stored(self.id),
            case_id: self.case_id.map(CaseId::from_stored),
            source,
            channel: self.channel,
            external_id: self.external_id,
            handle: self.author_handle,
            region: self.region,
            raw: serde_json::from_str(&self.raw).unwrap_or(serde_json::Value::Null),
        })
    }
}

macro_rules! disruption_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::ListeningStore for $ty {
            async fn audience(
                &self,
                query: &crate::AudienceQuery,
            ) -> crate::Result<Vec<crate::AudienceCandidate>> {
                use std::collections::BTreeSet;
                let mut ids: BTreeSet<String> = BTreeSet::new();
                if query.about.is_empty() {
                    for region in &query.regions {
                        let rows: Vec<(String,)> = sqlx::query_as(
                            "SELECT id FROM customers WHERE erased_at IS NULL \
                             AND LOWER(region) = LOWER($1)",
                        )
                        .bind(region)
                        .fetch_all(&self.$r)
                        .await?;
                        ids.extend(rows.into_iter().map(|(id,)| id));
                    }
                } else {
                    for term in &query.about {
                        let pattern = crate::disruptions::like_pattern(term);
                        let tag = crate::disruptions::like_pattern(&format!("\"product:{term}\""));
                        // Text held in a region's partition is searched there.
                        let placed: String = self
                            .partitions
                            .schemas()
                            .map(|schema| {
                                format!(
                                    " OR EXISTS (SELECT 1 FROM {schema}.message_content p \
                                     WHERE p.id = m.id AND LOWER(p.text) LIKE $1 ESCAPE '\\')"
                                )
                            })
                            .collect();
                        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "SELECT DISTINCT cs.customer_id FROM cases cs \
                             JOIN messages m ON m.case_id = cs.id \
                             WHERE cs.status NOT IN ('resolved', 'closed') \
                             AND (LOWER(m.text) LIKE $1 ESCAPE '\\' \
                                  OR LOWER(cs.tags) LIKE $2 ESCAPE '\\'{placed})",
                        )))
                        .bind(&pattern)
                        .bind(&tag)
                        .fetch_all(&self.$r)
                        .await?;
                        ids.extend(rows.into_iter().map(|(id,)| id));
                    }
                }
                let mut out = Vec::new();
                for id in ids {
                    if out.len() >= query.limit as usize {
                        break;
                    }
                    let id = sb_domain::CustomerId::from_stored(id);
                    let erased: Option<(Option<i64>,)> =
                        sqlx::query_as("SELECT erased_at FROM customers WHERE id = $1")
                            .bind(id.as_str())
                            .fetch_optional(&self.$r)
                            .await?;
                    if !matches!(erased, Some((None,))) {
                        continue;
                    }
                    let Some(customer) = crate::Store::customer(self, &id).await? else {
                        continue;
                    };
                    let handle = self.partitions.column_sql("messages", "author_handle");
                    let raw = self.partitions.column_sql("messages", "raw");
                    let reach: Option<crate::disruptions::ReachRow> =
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "SELECT id, case_id, source, channel, external_id, {handle} AS author_handle, \
                             region, {raw} AS raw FROM messages WHERE customer_id = $1 \
                             AND erased_at IS NULL ORDER BY seq DESC LIMIT 1",
                        )))
                        .bind(id.as_str())
                        .fetch_optional(&self.$r)
                        .await?;
                    let reach = reach
                        .map(crate::disruptions::ReachRow::into_reach)
                        .transpose()?;
                    if !query.about.is_empty() && !query.regions.is_empty() {
                        let regions = [
                            customer.region.as_deref(),
                            reach.as_ref().and_then(|r| r.region.as_deref()),
                        ];
                        let inside = query.regions.iter().any(|q| {
                            regions
                                .iter()
                                .flatten()
                                .any(|r| r.eq_ignore_ascii_case(q))
                        });
                        if !inside {
                            continue;
                        }
                    }
                    out.push(crate::AudienceCandidate { customer, reach });
                }
                Ok(out)
            }

            async fn insert_disruption(
                &self,
                d: &crate::StoredDisruption,
                recipients: &[crate::DisruptionRecipient],
            ) -> crate::Result<()> {
                // The drafts for placed customers are held in their partitions from the start.
                let mut conn = self.$w.acquire().await?;
                let mut regions: std::collections::HashMap<&str, Option<String>> =
                    std::collections::HashMap::new();
                let mut holdings: Vec<crate::residency::Holding> = Vec::new();
                let mut rows = Vec::with_capacity(recipients.len());
                for r in recipients {
                    let customer = r.customer_id.as_str();
                    if !regions.contains_key(customer) {
                        let region = self
                            .owner_region(&mut *conn, crate::residency::Owner::Customer, customer)
                            .await?;
                        regions.insert(customer, region);
                    }
                    let region = regions.get(customer).cloned().flatten();
                    let (held, central) = self.partitions.hold_row(
                        crate::residency::Document::DisruptionMessage,
                        region.as_deref(),
                        customer,
                        crate::residency::DocKey::Id(d.id.as_str().to_owned()),
                        vec![Some(r.text.clone()), Some(r.payload.to_string())],
                    )?;
                    holdings.extend(held);
                    let mut central = central.into_iter();
                    rows.push((central.next().flatten(), central.next().flatten(), region));
                }
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                self.hold_within(&mut tx, &holdings).await?;
                sqlx::query(
                    "INSERT INTO disruptions (id, incident_id, status, created_by, created_at, \
                     updated_at, version, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(d.id.as_str())
                .bind(d.incident_id.as_str())
                .bind(&d.status)
                .bind(&d.created_by)
                .bind(d.created_at.millis())
                .bind(d.updated_at.millis())
                .bind(d.version)
                .bind(d.doc.to_string())
                .execute(&mut *tx)
                .await?;
                for (r, (text, payload, region)) in recipients.iter().zip(rows) {
                    sqlx::query(
                        "INSERT INTO disruption_recipients (disruption_id, customer_id, case_id, \
                         target, locale, template_version, text, preview, payload, fallbacks, \
                         excluded, placed_in) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(d.id.as_str())
                    .bind(r.customer_id.as_str())
                    .bind(r.case_id.as_ref().map(|c| c.as_str()))
                    .bind(r.target.as_deref())
                    .bind(r.locale.as_deref())
                    .bind(r.template_version.map(i64::from))
                    .bind(text.unwrap_or_default())
                    .bind(&r.preview)
                    .bind(payload)
                    .bind(serde_json::json!(r.fallbacks).to_string())
                    .bind(r.excluded.as_deref())
                    .bind(region.as_deref())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn disruption(
                &self,
                id: &sb_domain::DisruptionId,
            ) -> crate::Result<Option<crate::StoredDisruption>> {
                let sql = format!(
                    "SELECT {} FROM disruptions WHERE id = $1",
                    crate::disruptions::DISRUPTION_COLUMNS
                );
                let row: Option<crate::disruptions::DisruptionRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_str())
                        .fetch_optional(&self.$r)
                        .await?;
                row.map(crate::disruptions::DisruptionRow::into_stored)
                    .transpose()
            }

            async fn disruption_recipients(
                &self,
                id: &sb_domain::DisruptionId,
            ) -> crate::Result<Vec<crate::DisruptionRecipient>> {
                let sql = format!(
                    "{} WHERE r.disruption_id = $1 ORDER BY r.customer_id",
                    crate::disruptions::recipient_select(&self.partitions)
                );
                let rows: Vec<crate::disruptions::RecipientRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id.as_str())
                        .fetch_all(&self.$r)
                        .await?;
                rows.into_iter()
                    .map(|r| r.into_domain().map(|(_, r)| r))
                    .collect()
            }

            async fn incident_disruptions(
                &self,
                incident: &sb_domain::IncidentId,
            ) -> crate::Result<Vec<crate::StoredDisruption>> {
                let sql = format!(
                    "SELECT {} FROM disruptions WHERE incident_id = $1 ORDER BY id",
                    crate::disruptions::DISRUPTION_COLUMNS
                );
                let rows: Vec<crate::disruptions::DisruptionRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(incident.as_str())
                        .fetch_all(&self.$r)
                        .await?;
                rows.into_iter()
                    .map(crate::disruptions::DisruptionRow::into_stored)
                    .collect()
            }

            async fn notified_customers(
                &self,
                incident: &sb_domain::IncidentId,
            ) -> crate::Result<Vec<sb_domain::CustomerId>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT DISTINCT r.customer_id FROM disruption_recipients r \
                     JOIN disruptions d ON d.id = r.disruption_id \
                     WHERE d.incident_id = $1 AND r.outbox_id IS NOT NULL ORDER BY r.customer_id",
                )
                .bind(incident.as_str())
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(c,)| sb_domain::CustomerId::from_stored(c))
                    .collect())
            }

            async fn decide_disruption(
                &self,
                d: &crate::StoredDisruption,
                expected_version: i64,
                releases: &[crate::Release],
                excluded: &[(sb_domain::CustomerId, String)],
                now: sb_domain::Timestamp,
            ) -> crate::Result<bool> {
                // A message released to a placed customer is held in their partition from
                // the start, keyed by what the delivery is about (their case, else them).
                let mut conn = self.$w.acquire().await?;
                let mut holdings: Vec<crate::residency::Holding> = Vec::new();
                let mut held = Vec::with_capacity(releases.len());
                for release in releases {
                    let region = self
                        .owner_region(
                            &mut *conn,
                            crate::residency::Owner::Customer,
                            release.customer_id.as_str(),
                        )
                        .await?;
                    held.push(self.hold_outbox_item(&release.item, region, &mut holdings)?);
                }
                self.hold_apart(&mut conn, &holdings).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let saved = sqlx::query(
                    "UPDATE disruptions SET status = $2, doc = $3, updated_at = $4, \
                     version = version + 1 WHERE id = $1 AND version = $5",
                )
                .bind(d.id.as_str())
                .bind(&d.status)
                .bind(d.doc.to_string())
                .bind(now.millis())
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !saved {
                    tx.rollback().await?;
                    self.unhold_apart(&mut conn, &holdings).await?;
                    return Ok(false);
                }
                for (customer, reason) in excluded {
                    sqlx::query(
                        "UPDATE disruption_recipients SET excluded = $3 \
                         WHERE disruption_id = $1 AND customer_id = $2",
                    )
                    .bind(d.id.as_str())
                    .bind(customer.as_str())
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                }
                self.hold_within(&mut tx, &holdings).await?;
                for (release, row) in releases.iter().zip(held) {
                    let (outbox_id, _) = self
                        .insert_outbox_item(&mut tx, &release.item, row, &holdings, now)
                        .await?;
                    sqlx::query(
                        "UPDATE disruption_recipients SET outbox_id = $3 \
                         WHERE disruption_id = $1 AND customer_id = $2",
                    )
                    .bind(d.id.as_str())
                    .bind(release.customer_id.as_str())
                    .bind(outbox_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn churn_histories(
                &self,
                since: sb_domain::Timestamp,
                min_value: f64,
            ) -> crate::Result<Vec<crate::ChurnHistory>> {
                let rows: Vec<(String, String, f64, i64, Option<f64>)> = sqlx::query_as(
                    "SELECT c.id, c.tier, c.lifetime_value, m.created_at, m.sentiment_compound \
                     FROM customers c JOIN messages m ON m.customer_id = c.id \
                     WHERE c.erased_at IS NULL AND m.erased_at IS NULL AND m.created_at >= $1 \
                     AND (c.tier IN ('premium', 'vip') OR c.lifetime_value >= $2) \
                     ORDER BY c.id, m.created_at",
                )
                .bind(since.millis())
                .bind(min_value)
                .fetch_all(&self.$r)
                .await?;
                let mut out: Vec<crate::ChurnHistory> = Vec::new();
                for (id, tier, value, at, sentiment) in rows {
                    match out.last_mut() {
                        Some(h) if h.customer_id.as_str() == id => {
                            h.messages.push((sb_domain::Timestamp(at), sentiment));
                        }
                        _ => out.push(crate::ChurnHistory {
                            customer_id: sb_domain::CustomerId::from_stored(id),
                            tier: sb_domain::Tier::parse(&tier).unwrap_or(sb_domain::Tier::Standard),
                            lifetime_value: value,
                            messages: vec![(sb_domain::Timestamp(at), sentiment)],
                        }),
                    }
                }
                Ok(out)
            }

            async fn hourly_volume(
                &self,
                since: sb_domain::Timestamp,
                until: sb_domain::Timestamp,
            ) -> crate::Result<Vec<(i64, i64)>> {
                let rows: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT (created_at / 3600000) * 3600000 AS hour, COUNT(*) FROM messages \
                     WHERE created_at >= $1 AND created_at < $2 GROUP BY hour ORDER BY hour",
                )
                .bind(since.millis())
                .bind(until.millis())
                .fetch_all(&self.$r)
                .await?;
                Ok(rows)
            }

            async fn customer_disruptions(
                &self,
                customer: &sb_domain::CustomerId,
            ) -> crate::Result<Vec<(sb_domain::DisruptionId, crate::DisruptionRecipient)>> {
                let sql = format!(
                    "{} WHERE r.customer_id = $1 ORDER BY r.disruption_id",
                    crate::disruptions::recipient_select(&self.partitions)
                );
                let rows: Vec<crate::disruptions::RecipientRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(customer.as_str())
                        .fetch_all(&self.$r)
                        .await?;
                rows.into_iter()
                    .map(crate::disruptions::RecipientRow::into_domain)
                    .collect()
            }
        }
    };
}

pub(crate) use disruption_store_impl;

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_match_the_term_literally() {
        assert_eq!(like_pattern("X200"), "%x200%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
