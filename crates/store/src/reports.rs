//! Storage of the report rollups (H1–H6), the same trait on both back ends: the rollup stage
//! folds stored facts (case events, processed messages) into aggregate rows past a watermark,
//! and reports read only those rows.
//!
//! The store never decides what a fact means. `fold_kpis` and `fold_messages` load the next
//! facts, hand them to the fold function the caller passes (the definitions live in the
//! `analytics` crate), and write what it returns together with the moved watermark in one
//! transaction. The watermark row is updated first, so a second worker folding at the same
//! time waits for the first to commit and then starts from where it stopped: facts are folded
//! once, whatever crashes or races in between.
//!
//! Order of facts: on SQLite one writer commits at a time, so `seq` order is commit order. On
//! PostgreSQL a transaction takes its `seq` before it commits, so a lower `seq` may become
//! visible after a higher one; there the facts are folded in (writing transaction, `seq`)
//! order and only once every transaction older than them has finished (migration 0013).

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;
use std::collections::HashMap;

/// Counters of one KPI rollup row that are not durations, in column order.
pub const KPI_COUNTS: [&str; 21] = [
    "opened",
    "reopened",
    "resolved",
    "backlog",
    "replies",
    "sla_fr_fulfilled",
    "sla_fr_met",
    "sla_nr_fulfilled",
    "sla_nr_met",
    "sla_res_fulfilled",
    "sla_res_met",
    "sla_breaches",
    "fcr_closed",
    "fcr_yes",
    "csat_n",
    "csat_sat",
    "nps_n",
    "nps_pro",
    "nps_det",
    "ces_n",
    "ces_sum",
];

/// Durations of one KPI rollup row (`_cal` in calendar time, `_bus` in the SLA policy's
/// business time), each stored as a count, a sum in milliseconds and [`BUCKETS`] buckets.
pub const KPI_DURATIONS: [&str; 9] = [
    "first_response_cal",
    "first_response_bus",
    "next_response_cal",
    "next_response_bus",
    "first_resolution_cal",
    "first_resolution_bus",
    "full_resolution_cal",
    "full_resolution_bus",
    "handle_cal",
];

/// Histogram buckets per duration: the first eleven end at these bounds (exclusive), the
/// last holds everything longer.
pub const BUCKET_BOUNDS_MS: [i64; 11] = [
    60_000,
    5 * 60_000,
    15 * 60_000,
    30 * 60_000,
    3_600_000,
    2 * 3_600_000,
    4 * 3_600_000,
    8 * 3_600_000,
    24 * 3_600_000,
    48 * 3_600_000,
    7 * 24 * 3_600_000,
];
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;
/// Columns per duration: count, sum, buckets.
pub const DURATION_WIDTH: usize = 2 + BUCKETS;
/// Counters per KPI row.
pub const KPI_WIDTH: usize = KPI_COUNTS.len() + KPI_DURATIONS.len() * DURATION_WIDTH;

/// The names of the counters of a `kpi_rollup` row, in the order of [`KpiDelta::counters`].
pub fn kpi_columns() -> Vec<String> {
    let mut cols: Vec<String> = KPI_COUNTS.iter().map(|c| (*c).to_owned()).collect();
    for d in KPI_DURATIONS {
        cols.push(format!("{d}_n"));
        cols.push(format!("{d}_sum"));
        cols.extend((0..BUCKETS).map(|i| format!("{d}_h{i}")));
    }
    cols
}

/// Position of a count counter in [`KpiDelta::counters`].
pub fn count_index(name: &str) -> Option<usize> {
    KPI_COUNTS.iter().position(|c| *c == name)
}

/// Position of a duration's count column; its sum follows, then its buckets.
pub fn duration_index(name: &str) -> Option<usize> {
    KPI_DURATIONS
        .iter()
        .position(|d| *d == name)
        .map(|i| KPI_COUNTS.len() + i * DURATION_WIDTH)
}

/// The bucket a duration falls in.
pub fn bucket_of(ms: i64) -> usize {
    BUCKET_BOUNDS_MS
        .iter()
        .position(|&b| ms < b)
        .unwrap_or(BUCKETS - 1)
}

/// One case event, as the KPI fold reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldEvent {
    pub seq: i64,
    pub case_id: String,
    pub kind: String,
    pub at: Timestamp,
    pub data: serde_json::Value,
}

/// What a case is reported under, read when its events are folded.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldCase {
    pub opened_at: Timestamp,
    pub platform: String,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub region: Option<String>,
    /// The intent of the case's first message.
    pub intent: Option<String>,
    pub tier: Option<String>,
}

/// The next events to fold, the cases they belong to and what the fold remembered of them.
#[derive(Debug, Default)]
pub struct KpiFoldInput {
    pub events: Vec<FoldEvent>,
    pub cases: HashMap<String, FoldCase>,
    pub states: HashMap<String, String>,
}

/// Counters to add to one rollup row.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiDelta {
    pub dim: String,
    /// Days since 1970-01-01, UTC.
    pub day: i64,
    pub value: String,
    /// [`KPI_WIDTH`] counters in [`kpi_columns`] order.
    pub counters: Vec<i64>,
}

/// What a fold returns: rows to add to and case states to keep.
#[derive(Debug, Default)]
pub struct KpiFoldOutput {
    pub deltas: Vec<KpiDelta>,
    pub states: Vec<(String, String)>,
}

/// A processed message, as the message fold reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldMessage {
    pub seq: i64,
    pub created_at: Timestamp,
    pub platform: String,
    pub region: Option<String>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub sentiment_label: Option<String>,
    pub sentiment: Option<f64>,
    /// Watched terms found, as stored (JSON list of `{list, term, start, end}`).
    pub watch: Option<String>,
}

/// Counts to add to one `message_rollup` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageDelta {
    pub dim: String,
    /// Hours since 1970-01-01T00:00Z.
    pub hour: i64,
    pub value: String,
    pub n: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    /// Σ compound sentiment × 1000, rounded per message.
    pub sentiment_milli: i64,
}

/// How far a rollup has folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupMark {
    pub name: String,
    pub seq: i64,
    pub folded: i64,
    pub updated_at: Timestamp,
}

/// Reporting periods: day rows are summed per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodUnit {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

/// A KPI report's rows: one dimension, days `[from_day, to_day)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiQuery {
    pub dim: String,
    pub from_day: i64,
    pub to_day: i64,
    pub unit: PeriodUnit,
}

/// The sums of one period and dimension value: `bucket` is the day number, the week number
/// (`(day + 3) / 7`: 1970-01-01 was a Thursday, so weeks start on Mondays) or the month
/// number, per [`PeriodUnit`].
#[derive(Clone, Debug, PartialEq)]
pub struct KpiSums {
    pub bucket: i64,
    pub value: String,
    pub counters: Vec<i64>,
}

/// Message counts of one time bucket and dimension value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageSums {
    /// Start of the bucket, in hours since the epoch.
    pub hour: i64,
    pub value: String,
    pub n: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    pub sentiment_milli: i64,
}

/// One case of the row-level export, as stored.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CaseExportRow {
    pub id: String,
    pub customer_id: String,
    pub source: String,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    pub subject: String,
    pub language: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub message_count: i64,
    pub last_sentiment: Option<f64>,
    pub opened_at: i64,
    pub first_response_at: Option<i64>,
    pub first_resolved_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

pub type KpiFold<'a> = &'a (dyn Fn(KpiFoldInput) -> KpiFoldOutput + Send + Sync);
pub type MessageFold<'a> = &'a (dyn Fn(Vec<FoldMessage>) -> Vec<MessageDelta> + Send + Sync);

/// The report rollups and the row-level exports. Every `Store` is one; callers name this
/// trait to use these methods.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Folds up to `limit` case openings past the `cases` watermark (as `case.opened`
    /// events, first) and up to `limit` case events past the `kpi` watermark with `fold`,
    /// writing its output and the new watermarks in one transaction. Answers how many facts
    /// it folded.
    async fn fold_kpis(&self, limit: u32, now: Timestamp, fold: KpiFold<'_>) -> Result<usize>;
    /// Folds up to `limit` processed messages past the `messages` watermark, stopping before
    /// the first message the pipeline has not finished.
    async fn fold_messages(
        &self,
        limit: u32,
        now: Timestamp,
        fold: MessageFold<'_>,
    ) -> Result<usize>;
    async fn rollup_marks(&self) -> Result<Vec<RollupMark>>;
    /// Facts stored past the watermarks — case openings and events together, and messages —
    /// each counted up to `cap`.
    async fn rollup_lag(&self, cap: i64) -> Result<(i64, i64)>;
    /// KPI counters summed per period and value of one dimension.
    async fn kpi_sums(&self, q: &KpiQuery) -> Result<Vec<KpiSums>>;
    /// Backlog changes of one dimension per day before `to_day`: (day, value, change).
    async fn kpi_backlog_changes(&self, dim: &str, to_day: i64) -> Result<Vec<(i64, String, i64)>>;
    /// Message counts of one dimension in hours `[from_hour, to_hour)`, summed per
    /// `bucket_hours` hours (aligned on the epoch).
    async fn message_sums(
        &self,
        dim: &str,
        from_hour: i64,
        to_hour: i64,
        bucket_hours: i64,
    ) -> Result<Vec<MessageSums>>;
    /// Cases opened in `[from, to)`, in id order after `after`.
    async fn export_cases(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CaseExportRow>>;
    /// Cells `(cohort, month, customers)` of the cohort rollup for the cohorts `from..=to`
    /// (months since January 1970).
    async fn cohort_cells(&self, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>>;
    /// Every customer (not erased) who wrote since `since` or has an open complaint case,
    /// with those messages and the number of such cases: what churn-risk scores need.
    async fn retention_histories(&self, since: Timestamp) -> Result<Vec<RetentionHistory>>;
    /// The most recent `limit` processed messages (not erased) created in `[from, to)`,
    /// newest first: the sample negative themes are found in.
    async fn theme_sample(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<ThemeSampleRow>>;
    /// One reported order (F6).
    async fn order(&self, order_id: &str) -> Result<Option<OrderRecord>>;
    /// Stores an order as given, replacing what was stored under its id; `true` when new.
    async fn put_order(&self, o: &OrderRecord) -> Result<bool>;
    /// Orders placed in `[from, to)`, summed per value of `dim` (`all`, `platform` or
    /// `campaign`; `none` for orders without one).
    async fn order_sums(&self, from: Timestamp, to: Timestamp, dim: &str)
    -> Result<Vec<OrderSums>>;
}

/// An order the order system reported (F6), with its attribution.
#[derive(Clone, Debug, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct OrderRecord {
    pub order_id: String,
    pub case_id: Option<String>,
    pub customer_id: Option<String>,
    pub platform: Option<String>,
    pub campaign: Option<String>,
    pub value: Option<f64>,
    pub currency: Option<String>,
    /// `placed`, `fulfilled`, `returned`, `fulfilment_error` or `cancelled`.
    pub outcome: String,
    /// JSON list, e.g. `["origin:x", "campaign:spring", "case:cas_…"]`.
    pub tags: String,
    pub placed_at: i64,
    pub updated_at: i64,
}

/// Orders of one group.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OrderSums {
    pub grp: String,
    pub orders: i64,
    pub value: f64,
    pub fulfilled: i64,
    pub returned: i64,
    pub errors: i64,
    pub cancelled: i64,
}

/// One message of a theme sample (H2), as stored.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ThemeSampleRow {
    pub id: String,
    pub source: String,
    pub text: String,
    pub created_at: i64,
    pub sentiment_label: Option<String>,
    pub region: Option<String>,
    /// Personal-data spans, as stored (JSON list of `{kind, start, end}`).
    pub pii: Option<String>,
}

/// One customer's recent history, for their churn-risk score (H3).
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionHistory {
    pub customer_id: String,
    pub tier: String,
    pub lifetime_value: f64,
    pub region: Option<String>,
    /// `(created_at, compound sentiment)`, oldest first.
    pub messages: Vec<(i64, Option<f64>)>,
    /// Open cases (not resolved or closed) whose first message is a complaint.
    pub open_complaints: u32,
}

impl RetentionHistory {
    pub fn new(
        customer_id: String,
        tier: String,
        lifetime_value: f64,
        region: Option<String>,
    ) -> Self {
        Self {
            customer_id,
            tier,
            lifetime_value,
            region,
            messages: Vec::new(),
            open_complaints: 0,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub txid: i64,
    pub seq: i64,
    pub case_id: String,
    pub kind: String,
    pub at: i64,
    pub data: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CaseDimsRow {
    pub id: String,
    pub opened_at: i64,
    pub source: String,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub intent: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageFoldRow {
    pub txid: i64,
    pub seq: i64,
    pub created_at: i64,
    pub customer_id: Option<String>,
    pub source: String,
    pub region: Option<String>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub sentiment_label: Option<String>,
    pub sentiment_compound: Option<f64>,
    pub watch: Option<String>,
}

pub(crate) const CASE_DIMS_SQL: &str = "SELECT c.id, c.opened_at, c.source, q.name AS queue, \
    c.assignee, c.region, cu.tier, \
    (SELECT m.intent FROM messages m WHERE m.case_id = c.id ORDER BY m.seq LIMIT 1) AS intent \
    FROM cases c LEFT JOIN queues q ON q.id = c.queue_id \
    LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id IN ";

/// `{subject}` is the case subject read from wherever it is held.
pub(crate) const EXPORT_SQL: &str = "SELECT c.id, c.customer_id, c.source, c.channel, c.status, \
    c.priority, q.name AS queue, c.assignee, {subject} AS subject, c.language, c.region, cu.tier, \
    CAST(c.message_count AS BIGINT) AS message_count, c.last_sentiment, c.opened_at, \
    c.first_response_at, c.first_resolved_at, c.resolved_at \
    FROM cases c LEFT JOIN queues q ON q.id = c.queue_id \
    LEFT JOIN customers cu ON cu.id = c.customer_id \
    WHERE c.opened_at >= $1 AND c.opened_at < $2 AND c.id > $3 AND c.merged_into IS NULL \
    ORDER BY c.id LIMIT $4";

/// A row's counters as stored: little-endian 64-bit integers, [`KPI_WIDTH`] of them.
pub fn encode_counters(counters: &[i64]) -> Vec<u8> {
    counters.iter().flat_map(|c| c.to_le_bytes()).collect()
}

/// The counters of a stored row.
pub fn decode_counters(bytes: &[u8]) -> crate::Result<Vec<i64>> {
    if bytes.len() != KPI_WIDTH * 8 {
        return Err(crate::StoreError::Corrupt(format!(
            "a KPI rollup row holds {} bytes, not {}",
            bytes.len(),
            KPI_WIDTH * 8
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            i64::from_le_bytes(a)
        })
        .collect())
}

/// Adds the counters of stored rows `(day, month, value, counters)` per period and value.
pub(crate) fn sum_rows(
    unit: PeriodUnit,
    rows: Vec<(i64, i64, String, Vec<u8>)>,
) -> crate::Result<Vec<KpiSums>> {
    let mut sums: std::collections::BTreeMap<(i64, String), Vec<i64>> =
        std::collections::BTreeMap::new();
    for (day, month, value, bytes) in rows {
        let bucket = match unit {
            PeriodUnit::Day => day,
            PeriodUnit::Week => (day + 3).div_euclid(7),
            PeriodUnit::Month => month,
        };
        let counters = decode_counters(&bytes)?;
        match sums.get_mut(&(bucket, value.clone())) {
            Some(total) => total.iter_mut().zip(&counters).for_each(|(t, c)| *t += c),
            None => {
                sums.insert((bucket, value), counters);
            }
        }
    }
    Ok(sums
        .into_iter()
        .map(|((bucket, value), counters)| KpiSums {
            bucket,
            value,
            counters,
        })
        .collect())
}

/// Month number (months since January 1970) of a day number.
pub fn month_of_day(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    (y - 1970) * 12 + i64::from(m) - 1
}

/// Year, month (1–12) and day (1–31) of a day number (proleptic Gregorian, UTC).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// Day number of a civil date (proleptic Gregorian, UTC).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

macro_rules! report_store_impl {
    ($ty:ty, $w:ident, $r:ident, $pg:literal) => {
        #[async_trait::async_trait]
        impl crate::reports::ReportStore for $ty {
            async fn fold_kpis(
                &self,
                limit: u32,
                now: sb_domain::Timestamp,
                fold: crate::reports::KpiFold<'_>,
            ) -> crate::Result<usize> {
                use crate::reports::{EventRow, FoldCase, FoldEvent, KpiFoldInput};
                let mut tx = self.$w.begin().await?;
                // Taking the watermark rows first makes a second folder wait here.
                let marks: Vec<(String, i64, i64)> = sqlx::query_as(
                    "UPDATE rollup_marks SET updated_at = $1 WHERE name IN ('cases', 'kpi') \
                     RETURNING name, txid, seq",
                )
                .bind(now.millis())
                .fetch_all(&mut *tx)
                .await?;
                let mark = |name: &str| {
                    marks
                        .iter()
                        .find(|m| m.0 == name)
                        .map_or((0, 0), |m| (m.1, m.2))
                };
                // Case openings first: a case is opened by its row, not by an event.
                let (ctxid, cseq) = mark("cases");
                let opened_sql = if $pg {
                    "SELECT txid, fold_seq AS seq, id AS case_id, 'case.opened' AS kind, \
                     opened_at AS at, '{}' AS data FROM cases \
                     WHERE (txid, fold_seq) > ($1, $2) \
                     AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                     ORDER BY txid, fold_seq LIMIT $3"
                } else {
                    "SELECT CAST($1 AS INTEGER) AS txid, rowid AS seq, id AS case_id, \
                     'case.opened' AS kind, opened_at AS at, '{}' AS data FROM cases \
                     WHERE rowid > $2 ORDER BY rowid LIMIT $3"
                };
                let opened: Vec<EventRow> = sqlx::query_as(opened_sql)
                    .bind(ctxid)
                    .bind(cseq)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                let (txid, seq) = mark("kpi");
                // A placed case's history is read whole from its partition.
                let data = self
                    .partitions
                    .document_sql("case_events", crate::residency::Document::CaseEvent, "data");
                let sql = if $pg {
                    format!(
                        "SELECT txid, seq, case_id, kind, at, {data} AS data FROM case_events \
                         WHERE (txid, seq) > ($1, $2) \
                         AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                         ORDER BY txid, seq LIMIT $3"
                    )
                } else {
                    // One writer: seq order is commit order; `txid` is always 0 here.
                    format!(
                        "SELECT CAST($1 AS INTEGER) AS txid, seq, case_id, kind, at, {data} AS data \
                         FROM case_events WHERE seq > $2 ORDER BY seq LIMIT $3"
                    )
                };
                let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(txid)
                    .bind(seq)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                if let Some(last) = opened.last() {
                    sqlx::query(
                        "UPDATE rollup_marks SET txid = $1, seq = $2, folded = folded + $3 \
                         WHERE name = 'cases'",
                    )
                    .bind(last.txid)
                    .bind(last.seq)
                    .bind(opened.len() as i64)
                    .execute(&mut *tx)
                    .await?;
                }
                let n_opened = opened.len();
                let (last_txid, last_seq) = rows.last().map_or((txid, seq), |l| (l.txid, l.seq));
                let n = rows.len();
                if n + n_opened == 0 {
                    tx.commit().await?;
                    return Ok(0);
                }
                let rows: Vec<EventRow> = opened.into_iter().chain(rows).collect();
                let mut ids: Vec<String> = rows.iter().map(|r| r.case_id.clone()).collect();
                ids.sort();
                ids.dedup();
                let mut input = KpiFoldInput::default();
                for chunk in ids.chunks(crate::feedback::IN_CHUNK) {
                    let list = format!("({})", crate::feedback::placeholders(chunk.len()));
                    let sql = format!("{}{list}", crate::reports::CASE_DIMS_SQL);
                    let mut q = sqlx::query_as::<_, crate::reports::CaseDimsRow>(
                        sqlx::AssertSqlSafe(sql),
                    );
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for c in q.fetch_all(&mut *tx).await? {
                        input.cases.insert(
                            c.id,
                            FoldCase {
                                opened_at: sb_domain::Timestamp(c.opened_at),
                                platform: c.source,
                                queue: c.queue,
                                agent: c.assignee,
                                region: c.region,
                                intent: c.intent,
                                tier: c.tier,
                            },
                        );
                    }
                    let sql = format!("SELECT case_id, state FROM kpi_cases WHERE case_id IN {list}");
                    let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    input.states.extend(q.fetch_all(&mut *tx).await?);
                }
                for r in rows {
                    let data = serde_json::from_str(&r.data).map_err(|e| {
                        crate::StoreError::Corrupt(format!("case event {}: {e}", r.seq))
                    })?;
                    input.events.push(FoldEvent {
                        seq: r.seq,
                        case_id: r.case_id,
                        kind: r.kind,
                        at: sb_domain::Timestamp(r.at),
                        data,
                    });
                }
                let out = fold(input);
                let backlog_at = crate::reports::count_index("backlog").unwrap_or(0);
                for d in &out.deltas {
                    if d.counters.len() != crate::reports::KPI_WIDTH {
                        return Err(crate::StoreError::Corrupt(format!(
                            "a KPI delta has {} counters, not {}",
                            d.counters.len(),
                            crate::reports::KPI_WIDTH
                        )));
                    }
                    // Only folders write these rows, one at a time (the watermark rows above):
                    // read, add, write back.
                    let stored: Option<(Vec<u8>,)> = sqlx::query_as(
                        "SELECT counters FROM kpi_rollup WHERE dim = $1 AND day = $2 AND value = $3",
                    )
                    .bind(d.dim.as_str())
                    .bind(d.day)
                    .bind(d.value.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    let mut counters = match stored {
                        Some((bytes,)) => crate::reports::decode_counters(&bytes)?,
                        None => vec![0; crate::reports::KPI_WIDTH],
                    };
                    counters.iter_mut().zip(&d.counters).for_each(|(t, c)| *t += c);
                    sqlx::query(
                        "INSERT INTO kpi_rollup (dim, day, value, month, backlog, counters) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dim, day, value) \
                         DO UPDATE SET backlog = excluded.backlog, counters = excluded.counters",
                    )
                    .bind(d.dim.as_str())
                    .bind(d.day)
                    .bind(d.value.as_str())
                    .bind(crate::reports::month_of_day(d.day))
                    .bind(counters[backlog_at])
                    .bind(crate::reports::encode_counters(&counters))
                    .execute(&mut *tx)
                    .await?;
                }
                // Many rows a statement (a round trip costs more than its rows); a case once
                // per statement, its last state, as one upsert after another would leave it.
                let mut states: HashMap<&str, &str> = HashMap::new();
                for (case, state) in &out.states {
                    states.insert(case.as_str(), state.as_str());
                }
                let states: Vec<(&str, &str)> = states.into_iter().collect();
                for chunk in states.chunks(256) {
                    let mut q = sqlx::QueryBuilder::new("INSERT INTO kpi_cases (case_id, state) ");
                    q.push_values(chunk, |mut b, (case, state)| {
                        b.push_bind(*case).push_bind(*state);
                    });
                    q.push(" ON CONFLICT (case_id) DO UPDATE SET state = excluded.state");
                    q.build().execute(&mut *tx).await?;
                }
                sqlx::query(
                    "UPDATE rollup_marks SET txid = $1, seq = $2, folded = folded + $3 \
                     WHERE name = 'kpi'",
                )
                .bind(last_txid)
                .bind(last_seq)
                .bind(n as i64)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(n + n_opened)
            }

            async fn fold_messages(
                &self,
                limit: u32,
                now: sb_domain::Timestamp,
                fold: crate::reports::MessageFold<'_>,
            ) -> crate::Result<usize> {
                use crate::reports::{FoldMessage, MessageFoldRow};
                let mut tx = self.$w.begin().await?;
                let (txid, seq): (i64, i64) = sqlx::query_as(
                    "UPDATE rollup_marks SET updated_at = $1 WHERE name = 'messages' \
                     RETURNING txid, seq",
                )
                .bind(now.millis())
                .fetch_one(&mut *tx)
                .await?;
                // Messages are folded once processed, and in order: the fold stops before
                // the first message the pipeline still has to finish.
                let rows: Vec<MessageFoldRow> = if $pg {
                    let horizon: Option<(i64, i64)> = sqlx::query_as(
                        "SELECT txid, seq FROM messages WHERE stage = 'received' \
                         ORDER BY txid, seq LIMIT 1",
                    )
                    .fetch_optional(&mut *tx)
                    .await?;
                    let (htx, hseq) = horizon.unwrap_or((i64::MAX, i64::MAX));
                    sqlx::query_as(
                        "SELECT txid, seq, created_at, customer_id, source, region, language, \
                         intent, sentiment_label, sentiment_compound, watch FROM messages \
                         WHERE (txid, seq) > ($1, $2) AND (txid, seq) < ($3, $4) \
                         AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                         ORDER BY txid, seq LIMIT $5",
                    )
                    .bind(txid)
                    .bind(seq)
                    .bind(htx)
                    .bind(hseq)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?
                } else {
                    let horizon: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(seq) FROM messages WHERE stage = 'received'",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query_as(
                        "SELECT CAST($1 AS INTEGER) AS txid, seq, created_at, customer_id, source, \
                         region, language, intent, sentiment_label, sentiment_compound, watch \
                         FROM messages WHERE seq > $2 AND seq < $3 ORDER BY seq LIMIT $4",
                    )
                    .bind(txid)
                    .bind(seq)
                    .bind(horizon.unwrap_or(i64::MAX))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?
                };
                let Some(last) = rows.last() else {
                    tx.commit().await?;
                    return Ok(0);
                };
                let (last_txid, last_seq) = (last.txid, last.seq);
                let n = rows.len();
                // Retention (H3): the months each customer wrote in, earliest first so a new
                // customer's cohort is the earliest month of the batch.
                let mut months: Vec<(String, i64)> = rows
                    .iter()
                    .filter_map(|m| {
                        let day = m.created_at.div_euclid(86_400_000);
                        Some((m.customer_id.clone()?, crate::reports::month_of_day(day)))
                    })
                    .collect();
                months.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
                months.dedup();
                // In statements of many rows: a batch touches thousands of customers.
                let mut first: std::collections::BTreeMap<&str, i64> =
                    std::collections::BTreeMap::new();
                for (customer, month) in &months {
                    first.entry(customer.as_str()).or_insert(*month);
                }
                let first: Vec<(&str, i64)> = first.into_iter().collect();
                for part in first.chunks(500) {
                    let mut q =
                        sqlx::QueryBuilder::new("INSERT INTO customer_cohorts (customer_id, cohort) ");
                    q.push_values(part, |mut b, (customer, month)| {
                        b.push_bind(*customer).push_bind(*month);
                    });
                    q.push(" ON CONFLICT (customer_id) DO NOTHING");
                    q.build().execute(&mut *tx).await?;
                }
                let mut fresh: Vec<(String, i64)> = Vec::new();
                for part in months.chunks(500) {
                    let mut q =
                        sqlx::QueryBuilder::new("INSERT INTO customer_months (customer_id, month) ");
                    q.push_values(part, |mut b, (customer, month)| {
                        b.push_bind(customer.as_str()).push_bind(*month);
                    });
                    q.push(" ON CONFLICT (customer_id, month) DO NOTHING RETURNING customer_id, month");
                    let added: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
                    fresh.extend(added);
                }
                let mut cells: std::collections::BTreeMap<(i64, i64), i64> =
                    std::collections::BTreeMap::new();
                for part in fresh.chunks(500) {
                    let mut q = sqlx::QueryBuilder::new(
                        "SELECT customer_id, cohort FROM customer_cohorts WHERE customer_id IN (",
                    );
                    let mut list = q.separated(", ");
                    for (customer, _) in part {
                        list.push_bind(customer.as_str());
                    }
                    q.push(")");
                    let cohorts: std::collections::HashMap<String, i64> = q
                        .build_query_as::<(String, i64)>()
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                    for (customer, month) in part {
                        // A message dated before its customer's cohort (an import of old
                        // history) is activity, but not a month of the cohort's curve.
                        if let Some(&cohort) = cohorts.get(customer)
                            && cohort <= *month
                        {
                            *cells.entry((cohort, *month)).or_default() += 1;
                        }
                    }
                }
                for ((cohort, month), n) in cells {
                    sqlx::query(
                        "INSERT INTO cohort_activity (cohort, month, customers) \
                         VALUES ($1, $2, $3) ON CONFLICT (cohort, month) DO UPDATE \
                         SET customers = cohort_activity.customers + excluded.customers",
                    )
                    .bind(cohort)
                    .bind(month)
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
                }
                let facts = rows
                    .into_iter()
                    .map(|m| FoldMessage {
                        seq: m.seq,
                        created_at: sb_domain::Timestamp(m.created_at),
                        platform: m.source,
                        region: m.region,
                        language: m.language,
                        intent: m.intent,
                        sentiment_label: m.sentiment_label,
                        sentiment: m.sentiment_compound,
                        watch: m.watch,
                    })
                    .collect();
                for d in fold(facts) {
                    sqlx::query(
                        "INSERT INTO message_rollup (dim, hour, value, n, positive, neutral, \
                         negative, sentiment_milli) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (dim, hour, value) DO UPDATE SET n = message_rollup.n + excluded.n, \
                         positive = message_rollup.positive + excluded.positive, \
                         neutral = message_rollup.neutral + excluded.neutral, \
                         negative = message_rollup.negative + excluded.negative, \
                         sentiment_milli = message_rollup.sentiment_milli + excluded.sentiment_milli",
                    )
                    .bind(d.dim.as_str())
                    .bind(d.hour)
                    .bind(d.value.as_str())
                    .bind(d.n)
                    .bind(d.positive)
                    .bind(d.neutral)
                    .bind(d.negative)
                    .bind(d.sentiment_milli)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "UPDATE rollup_marks SET txid = $1, seq = $2, folded = folded + $3 \
                     WHERE name = 'messages'",
                )
                .bind(last_txid)
                .bind(last_seq)
                .bind(n as i64)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn rollup_marks(&self) -> crate::Result<Vec<crate::reports::RollupMark>> {
                let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT name, seq, folded, updated_at FROM rollup_marks ORDER BY name",
                )
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(name, seq, folded, at)| crate::reports::RollupMark {
                        name,
                        seq,
                        folded,
                        updated_at: sb_domain::Timestamp(at),
                    })
                    .collect())
            }

            async fn rollup_lag(&self, cap: i64) -> crate::Result<(i64, i64)> {
                let sql = if $pg {
                    "SELECT \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM case_events e, rollup_marks k \
                      WHERE k.name = 'kpi' AND (e.txid, e.seq) > (k.txid, k.seq) LIMIT $1) a) + \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM cases c, rollup_marks k \
                      WHERE k.name = 'cases' AND (c.txid, c.fold_seq) > (k.txid, k.seq) LIMIT $1) b), \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM messages m, rollup_marks k \
                      WHERE k.name = 'messages' AND (m.txid, m.seq) > (k.txid, k.seq) LIMIT $1) c)"
                } else {
                    "SELECT \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM case_events WHERE seq > \
                      (SELECT seq FROM rollup_marks WHERE name = 'kpi') LIMIT $1) a) + \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE rowid > \
                      (SELECT seq FROM rollup_marks WHERE name = 'cases') LIMIT $1) b), \
                     (SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE seq > \
                      (SELECT seq FROM rollup_marks WHERE name = 'messages') LIMIT $1) c)"
                };
                let (events, messages): (i64, i64) = sqlx::query_as(sql)
                    .bind(cap)
                    .fetch_one(&self.$r)
                    .await?;
                Ok((events, messages))
            }

            async fn kpi_sums(
                &self,
                q: &crate::reports::KpiQuery,
            ) -> crate::Result<Vec<crate::reports::KpiSums>> {
                let rows: Vec<(i64, i64, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT day, month, value, counters FROM kpi_rollup \
                     WHERE dim = $1 AND day >= $2 AND day < $3",
                )
                .bind(q.dim.as_str())
                .bind(q.from_day)
                .bind(q.to_day)
                .fetch_all(&self.$r)
                .await?;
                crate::reports::sum_rows(q.unit, rows)
            }

            async fn kpi_backlog_changes(
                &self,
                dim: &str,
                to_day: i64,
            ) -> crate::Result<Vec<(i64, String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT day, value, backlog FROM kpi_rollup \
                     WHERE dim = $1 AND day < $2 AND backlog <> 0 ORDER BY day, value",
                )
                .bind(dim)
                .bind(to_day)
                .fetch_all(&self.$r)
                .await?)
            }

            async fn message_sums(
                &self,
                dim: &str,
                from_hour: i64,
                to_hour: i64,
                bucket_hours: i64,
            ) -> crate::Result<Vec<crate::reports::MessageSums>> {
                let rows: Vec<(i64, String, i64, i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT CAST((hour / $4) * $4 AS BIGINT), value, CAST(SUM(n) AS BIGINT), \
                     CAST(SUM(positive) AS BIGINT), CAST(SUM(neutral) AS BIGINT), \
                     CAST(SUM(negative) AS BIGINT), CAST(SUM(sentiment_milli) AS BIGINT) \
                     FROM message_rollup WHERE dim = $1 AND hour >= $2 AND hour < $3 \
                     GROUP BY 1, 2 ORDER BY 1, 2",
                )
                .bind(dim)
                .bind(from_hour)
                .bind(to_hour)
                .bind(bucket_hours.max(1))
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(hour, value, n, positive, neutral, negative, sentiment_milli)| {
                            crate::reports::MessageSums {
                                hour,
                                value,
                                n,
                                positive,
                                neutral,
                                negative,
                                sentiment_milli,
                            }
                        },
                    )
                    .collect())
            }

            async fn export_cases(
                &self,
                from: sb_domain::Timestamp,
                to: sb_domain::Timestamp,
                after: Option<&str>,
                limit: u32,
            ) -> crate::Result<Vec<crate::reports::CaseExportRow>> {
                let sql = crate::reports::EXPORT_SQL.replace("{subject}", &self.partitions.subject_sql("c"));
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(from.millis())
                    .bind(to.millis())
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await?)
            }

            async fn cohort_cells(
                &self,
                from: i64,
                to: i64,
            ) -> crate::Result<Vec<(i64, i64, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT cohort, month, customers FROM cohort_activity \
                     WHERE cohort >= $1 AND cohort <= $2 ORDER BY cohort, month",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.$r)
                .await?)
            }

            async fn retention_histories(
                &self,
                since: sb_domain::Timestamp,
            ) -> crate::Result<Vec<crate::reports::RetentionHistory>> {
                use crate::reports::RetentionHistory;
                type Row = (String, String, f64, Option<String>, i64, Option<f64>);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT c.id, c.tier, c.lifetime_value, c.region, m.created_at, \
                     m.sentiment_compound FROM customers c JOIN messages m ON m.customer_id = c.id \
                     WHERE c.erased_at IS NULL AND m.erased_at IS NULL AND m.created_at >= $1 \
                     ORDER BY c.id, m.created_at",
                )
                .bind(since.millis())
                .fetch_all(&self.$r)
                .await?;
                let complaints: Vec<(String, String, f64, Option<String>, i64)> = sqlx::query_as(
                    "SELECT cu.id, cu.tier, cu.lifetime_value, cu.region, COUNT(*) \
                     FROM cases c JOIN customers cu ON cu.id = c.customer_id \
                     WHERE c.status NOT IN ('resolved', 'closed') AND cu.erased_at IS NULL \
                     AND (SELECT m.intent FROM messages m WHERE m.case_id = c.id \
                          ORDER BY m.seq LIMIT 1) = 'complaint' \
                     GROUP BY cu.id, cu.tier, cu.lifetime_value, cu.region",
                )
                .fetch_all(&self.$r)
                .await?;
                let mut out: std::collections::BTreeMap<String, RetentionHistory> =
                    std::collections::BTreeMap::new();
                for (id, tier, value, region, at, sentiment) in rows {
                    out.entry(id.clone())
                        .or_insert_with(|| RetentionHistory::new(id, tier, value, region))
                        .messages
                        .push((at, sentiment));
                }
                for (id, tier, value, region, n) in complaints {
                    out.entry(id.clone())
                        .or_insert_with(|| RetentionHistory::new(id, tier, value, region))
                        .open_complaints = u32::try_from(n).unwrap_or(u32::MAX);
                }
                Ok(out.into_values().collect())
            }

            async fn theme_sample(
                &self,
                from: sb_domain::Timestamp,
                to: sb_domain::Timestamp,
                limit: u32,
            ) -> crate::Result<Vec<crate::reports::ThemeSampleRow>> {
                // Newest first by arrival, so a recent period stops early without an index on
                // the messages' own time.
                let text = self.partitions.column_sql("m", "text");
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT m.id, m.source, {text} AS text, m.created_at, m.sentiment_label, \
                     m.region, m.pii FROM messages m WHERE m.created_at >= $1 AND m.created_at < $2 \
                     AND m.erased_at IS NULL AND m.stage <> 'received' ORDER BY m.seq DESC LIMIT $3",
                )))
                .bind(from.millis())
                .bind(to.millis())
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?)
            }

            async fn order(
                &self,
                order_id: &str,
            ) -> crate::Result<Option<crate::reports::OrderRecord>> {
                Ok(sqlx::query_as(
                    "SELECT order_id, case_id, customer_id, platform, campaign, value, currency, \
                     outcome, tags, placed_at, updated_at FROM orders WHERE order_id = $1",
                )
                .bind(order_id)
                .fetch_optional(&self.$r)
                .await?)
            }

            async fn put_order(&self, o: &crate::reports::OrderRecord) -> crate::Result<bool> {
                let mut tx = self.$w.begin().await?;
                let existed: Option<(String,)> =
                    sqlx::query_as("SELECT order_id FROM orders WHERE order_id = $1")
                        .bind(&o.order_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                sqlx::query(
                    "INSERT INTO orders (order_id, case_id, customer_id, platform, campaign, \
                     value, currency, outcome, tags, placed_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (order_id) DO UPDATE SET case_id = excluded.case_id, \
                     customer_id = excluded.customer_id, platform = excluded.platform, \
                     campaign = excluded.campaign, value = excluded.value, \
                     currency = excluded.currency, outcome = excluded.outcome, \
                     tags = excluded.tags, placed_at = excluded.placed_at, \
                     updated_at = excluded.updated_at",
                )
                .bind(&o.order_id)
                .bind(&o.case_id)
                .bind(&o.customer_id)
                .bind(&o.platform)
                .bind(&o.campaign)
                .bind(o.value)
                .bind(&o.currency)
                .bind(&o.outcome)
                .bind(&o.tags)
                .bind(o.placed_at)
                .bind(o.updated_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(existed.is_none())
            }

            async fn order_sums(
                &self,
                from: sb_domain::Timestamp,
                to: sb_domain::Timestamp,
                dim: &str,
            ) -> crate::Result<Vec<crate::reports::OrderSums>> {
                const TAIL: &str = "COUNT(*) AS orders, \
                    CAST(COALESCE(SUM(value), 0) AS DOUBLE PRECISION) AS value, \
                    SUM(CASE WHEN outcome = 'fulfilled' THEN 1 ELSE 0 END) AS fulfilled, \
                    SUM(CASE WHEN outcome = 'returned' THEN 1 ELSE 0 END) AS returned, \
                    SUM(CASE WHEN outcome = 'fulfilment_error' THEN 1 ELSE 0 END) AS errors, \
                    SUM(CASE WHEN outcome = 'cancelled' THEN 1 ELSE 0 END) AS cancelled \
                    FROM orders WHERE placed_at >= $1 AND placed_at < $2 GROUP BY 1 ORDER BY 1";
                let sql = match dim {
                    "platform" => crate::reports::concat_tail("SELECT COALESCE(platform, 'none') AS grp, ", TAIL),
                    "campaign" => crate::reports::concat_tail("SELECT COALESCE(campaign, 'none') AS grp, ", TAIL),
                    _ => crate::reports::concat_tail("SELECT 'all' AS grp, ", TAIL),
                };
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(from.millis())
                    .bind(to.millis())
                    .fetch_all(&self.$r)
                    .await?)
            }
        }
    };
}
pub(crate) use report_store_impl;

/// `head` then `tail`: the order report's SQL for one grouping (both fixed strings).
pub(crate) fn concat_tail(head: &str, tail: &str) -> String {
    format!("{head}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 23), 20_780);
        for d in [-1000, 0, 59, 60, 11_016, 20_780, 50_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(month_of_day(days_from_civil(2026, 12, 31)), 56 * 12 + 11);
    }

    #[test]
    fn stored_counters_round_trip_and_add_up_per_week() {
        let mut c = vec![0; KPI_WIDTH];
        c[0] = 3;
        c[KPI_WIDTH - 1] = -7;
        let bytes = encode_counters(&c);
        assert_eq!(decode_counters(&bytes).unwrap_or_default(), c);
        assert!(decode_counters(&bytes[1..]).is_err());
        // Monday 2026-11-23 and Sunday 2026-11-29 share a week; Monday 2026-11-30 does not.
        let monday = days_from_civil(2026, 11, 23);
        let rows = [monday, monday + 6, monday + 7]
            .into_iter()
            .map(|d| (d, month_of_day(d), "x".to_owned(), bytes.clone()))
            .collect();
        let sums = sum_rows(PeriodUnit::Week, rows).unwrap_or_default();
        assert_eq!(sums.len(), 2);
        assert_eq!(sums[0].counters[0], 6);
        assert_eq!(sums[1].counters[0], 3);
        assert_eq!(sums[0].bucket * 7 - 3, monday);
    }

    #[test]
    fn durations_fall_in_their_buckets() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(59_999), 0);
        assert_eq!(bucket_of(60_000), 1);
        assert_eq!(bucket_of(30 * 24 * 3_600_000), BUCKETS - 1);
        assert_eq!(kpi_columns().len(), KPI_WIDTH);
    }
}
