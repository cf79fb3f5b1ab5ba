//! Read models of the web UI (I2), the same SQL on both back ends: the inbox page with each
//! case's SLA clocks and latest intent in one query, and the supervisor dashboard's
//! aggregates. Nothing here writes.

use crate::rows::CaseRow;
use sb_domain::{Case, CasePriority, CaseStatus, Platform, QueueId, Timestamp};

/// The statuses a case is worked in; resolved and closed cases leave the inbox.
pub const OPEN_STATUSES: &str = "('new', 'open', 'pending', 'on_hold', 'escalated')";

/// VADER's conventional cut-offs between negative, neutral and positive.
const NEGATIVE_BELOW: &str = "-0.05";
const POSITIVE_ABOVE: &str = "0.05";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentimentBand {
    Negative,
    Neutral,
    Positive,
}

impl SentimentBand {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "negative" => Some(Self::Negative),
            "neutral" => Some(Self::Neutral),
            "positive" => Some(Self::Positive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }
}

/// Which cases an inbox page shows. Without a status, every case still being worked.
#[derive(Clone, Debug, Default)]
pub struct InboxFilter {
    pub status: Option<CaseStatus>,
    pub queue_id: Option<QueueId>,
    pub priority: Option<CasePriority>,
    pub source: Option<Platform>,
    pub language: Option<String>,
    pub sentiment: Option<SentimentBand>,
    /// Cases with at least one message of this intent.
    pub intent: Option<String>,
    /// `Some(Some(agent))`: assigned to the agent; `Some(None)`: unassigned.
    pub assignee: Option<Option<String>>,
}

/// One inbox line: the case, its SLA clocks as stored, and its latest message's intent.
#[derive(Clone, Debug)]
pub struct InboxRow {
    pub case: Case,
    pub sla: Option<serde_json::Value>,
    pub intent: Option<String>,
}

/// A count in a time bucket under a label (a platform, an intent).
#[derive(Clone, Debug, PartialEq)]
pub struct Bucketed {
    pub bucket: Timestamp,
    pub label: String,
    pub count: i64,
}

/// The dashboard's raw figures since an instant, bucketed by `bucket_ms`.
#[derive(Clone, Debug, Default)]
pub struct DashboardData {
    pub by_platform: Vec<Bucketed>,
    pub by_intent: Vec<Bucketed>,
    /// Mean compound sentiment per bucket, with the number of messages.
    pub sentiment: Vec<(Timestamp, f64, i64)>,
    /// Cases opened since: opened, first response, and the SLA clocks as the stored JSON text
    /// (left unparsed: the reader picks out the few fields it needs), at most 20,000, newest
    /// first.
    pub cases: Vec<(Timestamp, Option<Timestamp>, Option<String>)>,
    /// Open cases by status.
    pub backlog: Vec<(String, i64)>,
    /// Open cases by queue id (`None`: no queue).
    pub backlog_by_queue: Vec<(Option<String>, i64)>,
}

/// Most cases the dashboard's SLA and first-response figures read.
pub const DASHBOARD_CASES: i64 = 20_000;

#[derive(sqlx::FromRow)]
pub(crate) struct InboxSqlRow {
    #[sqlx(flatten)]
    case: CaseRow,
    sla: Option<String>,
    intent: Option<String>,
}

impl InboxSqlRow {
    pub(crate) fn into_row(self) -> crate::Result<InboxRow> {
        let sla = self
            .sla
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| crate::StoreError::Corrupt(format!("case sla: {e}")))?;
        Ok(InboxRow {
            case: self.case.into_domain()?,
            sla,
            intent: self.intent,
        })
    }
}

/// The inbox query and its string arguments, in bind order (the page size binds last).
/// `cols` are the case columns to read (`CASE_COLUMNS`, with the subject read from wherever
/// it is held).
pub(crate) fn inbox_sql(
    filter: &InboxFilter,
    page: &crate::Page,
    cols: &str,
) -> (String, Vec<String>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let mut bind = |v: String| {
        args.push(v);
        args.len()
    };
    match filter.status {
        Some(s) => clauses.push(format!("status = ${}", bind(s.as_str().to_owned()))),
        None => clauses.push(format!("status IN {OPEN_STATUSES}")),
    }
    if let Some(q) = &filter.queue_id {
        clauses.push(format!("queue_id = ${}", bind(q.as_str().to_owned())));
    }
    if let Some(p) = filter.priority {
        clauses.push(format!("priority = ${}", bind(p.as_str().to_owned())));
    }
    if let Some(s) = filter.source {
        clauses.push(format!("source = ${}", bind(s.as_str().to_owned())));
    }
    if let Some(l) = &filter.language {
        clauses.push(format!("language = ${}", bind(l.clone())));
    }
    if let Some(i) = &filter.intent {
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM messages m WHERE m.case_id = cases.id AND m.intent = ${})",
            bind(i.clone())
        ));
    }
    match &filter.assignee {
        Some(Some(a)) => clauses.push(format!("assignee = ${}", bind(a.clone()))),
        Some(None) => clauses.push("assignee IS NULL".into()),
        None => {}
    }
    if let Some(b) = &page.before {
        clauses.push(format!("id < ${}", bind(b.clone())));
    }
    match filter.sentiment {
        Some(SentimentBand::Negative) => {
            clauses.push(format!("last_sentiment <= {NEGATIVE_BELOW}"))
        }
        Some(SentimentBand::Positive) => {
            clauses.push(format!("last_sentiment >= {POSITIVE_ABOVE}"))
        }
        Some(SentimentBand::Neutral) => clauses.push(format!(
            "last_sentiment > {NEGATIVE_BELOW} AND last_sentiment < {POSITIVE_ABOVE}"
        )),
        None => {}
    }
    let sql = format!(
        "SELECT {cols}, sla, \
         (SELECT m.intent FROM messages m WHERE m.case_id = cases.id ORDER BY m.seq DESC LIMIT 1) AS intent \
         FROM cases WHERE {} ORDER BY id DESC LIMIT ${}",
        clauses.join(" AND "),
        args.len() + 1
    );
    (sql, args)
}

macro_rules! board_store_impl {
    ($ty:ty, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::BoardStore for $ty {
            async fn inbox(
                &self,
                filter: &crate::board::InboxFilter,
                page: &crate::Page,
            ) -> crate::Result<Vec<crate::board::InboxRow>> {
                let (sql, args) =
                    crate::board::inbox_sql(filter, page, &self.partitions.case_columns());
                let mut q = sqlx::query_as::<_, crate::board::InboxSqlRow>(sqlx::AssertSqlSafe(sql));
                for a in &args {
                    q = q.bind(a.as_str());
                }
                q.bind(i64::from(page.limit))
                    .fetch_all(&self.$r)
                    .await?
                    .into_iter()
                    .map(crate::board::InboxSqlRow::into_row)
                    .collect()
            }

            async fn dashboard(
                &self,
                since: sb_domain::Timestamp,
                bucket_ms: i64,
            ) -> crate::Result<crate::board::DashboardData> {
                let bucket_ms = bucket_ms.max(1);
                let bucketed = |rows: Vec<(i64, String, i64)>| {
                    rows.into_iter()
                        .map(|(b, label, count)| crate::board::Bucketed {
                            bucket: sb_domain::Timestamp(b),
                            label,
                            count,
                        })
                        .collect::<Vec<_>>()
                };
                // One pass over the range's messages, grouped by bucket, platform and intent,
                // then folded here into the three charts' series.
                let groups: Vec<(i64, String, String, i64, Option<f64>, i64)> = sqlx::query_as(
                    "SELECT (created_at / $2) * $2, source, COALESCE(intent, 'other'), COUNT(*), \
                     SUM(sentiment_compound), COUNT(sentiment_compound) FROM messages \
                     WHERE created_at >= $1 GROUP BY 1, 2, 3",
                )
                .bind(since.0)
                .bind(bucket_ms)
                .fetch_all(&self.$r)
                .await?;
                let mut platforms: std::collections::BTreeMap<(i64, String), i64> =
                    std::collections::BTreeMap::new();
                let mut intents: std::collections::BTreeMap<(i64, String), i64> =
                    std::collections::BTreeMap::new();
                let mut sums: std::collections::BTreeMap<i64, (f64, i64)> =
                    std::collections::BTreeMap::new();
                for (b, source, intent, n, sum, scored) in groups {
                    *platforms.entry((b, source)).or_default() += n;
                    *intents.entry((b, intent)).or_default() += n;
                    let e = sums.entry(b).or_default();
                    e.0 += sum.unwrap_or(0.0);
                    e.1 += scored;
                }
                let by_platform: Vec<(i64, String, i64)> =
                    platforms.into_iter().map(|((b, l), n)| (b, l, n)).collect();
                let by_intent: Vec<(i64, String, i64)> =
                    intents.into_iter().map(|((b, l), n)| (b, l, n)).collect();
                let sentiment: Vec<(i64, Option<f64>, i64)> = sums
                    .into_iter()
                    .map(|(b, (sum, n))| (b, (n > 0).then(|| sum / n as f64), n))
                    .collect();
                let cases: Vec<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
                    "SELECT opened_at, first_response_at, sla FROM cases WHERE opened_at >= $1 \
                     ORDER BY opened_at DESC LIMIT $2",
                )
                .bind(since.0)
                .bind(crate::board::DASHBOARD_CASES)
                .fetch_all(&self.$r)
                .await?;
                let backlog: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT status, COUNT(*) FROM cases WHERE status IN {} GROUP BY status ORDER BY status",
                    crate::board::OPEN_STATUSES
                )))
                .fetch_all(&self.$r)
                .await?;
                let backlog_by_queue: Vec<(Option<String>, i64)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT queue_id, COUNT(*) FROM cases WHERE status IN {} GROUP BY queue_id ORDER BY queue_id",
                        crate::board::OPEN_STATUSES
                    )))
                    .fetch_all(&self.$r)
                    .await?;
                Ok(crate::board::DashboardData {
                    by_platform: bucketed(by_platform),
                    by_intent: bucketed(by_intent),
                    sentiment: sentiment
                        .into_iter()
                        .filter_map(|(b, mean, n)| Some((sb_domain::Timestamp(b), mean?, n)))
                        .collect(),
                    cases: cases
                        .into_iter()
                        .map(|(o, f, s)| (sb_domain::Timestamp(o), f.map(sb_domain::Timestamp), s))
                        .collect(),
                    backlog,
                    backlog_by_queue,
                })
            }
        }
    };
}

pub(crate) use board_store_impl;
