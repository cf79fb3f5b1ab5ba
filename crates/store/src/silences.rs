//! Storage of alert silences (E4), the same SQL on both back ends. The store is where every
//! process's rule engine learns of them; ending a silence early moves its end to that moment
//! and keeps the record.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

/// A silence as stored. The alerts crate checks its shape; the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSilence {
    pub id: String,
    /// Series pattern (`watch:products:*`); with `rule_id`, both must match.
    pub series: Option<String>,
    pub rule_id: Option<String>,
    pub starts_at: Timestamp,
    /// Exclusive.
    pub ends_at: Timestamp,
    pub reason: String,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Who ended it before its time, if anyone.
    pub ended_by: Option<String>,
}

#[async_trait]
pub trait SilenceStore: Send + Sync {
    /// Stores a silence; false when its id is taken.
    async fn insert_silence(&self, silence: &StoredSilence) -> Result<bool>;
    async fn silence(&self, id: &str) -> Result<Option<StoredSilence>>;
    /// Silences not ended at `now` (current and future ones), by start; every silence when
    /// `now` is `None`. At most `limit`.
    async fn silences(&self, now: Option<Timestamp>, limit: u32) -> Result<Vec<StoredSilence>>;
    /// Ends a silence at `now` if it has not ended yet; answers it as it now stands, `None`
    /// for an unknown id.
    async fn end_silence(
        &self,
        id: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<Option<StoredSilence>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct SilenceRow {
    id: String,
    series: Option<String>,
    rule_id: Option<String>,
    starts_at: i64,
    ends_at: i64,
    reason: String,
    created_by: String,
    created_at: i64,
    ended_by: Option<String>,
}

impl SilenceRow {
    pub(crate) fn into_stored(self) -> StoredSilence {
        StoredSilence {
            id: self.id,
            series: self.series,
            rule_id: self.rule_id,
            starts_at: Timestamp(self.starts_at),
            ends_at: Timestamp(self.ends_at),
            reason: self.reason,
            created_by: self.created_by,
            created_at: Timestamp(self.created_at),
            ended_by: self.ended_by,
        }
    }
}

pub(crate) const SILENCE_SELECT: &str = "SELECT id, series, rule_id, starts_at, ends_at, reason, \
    created_by, created_at, ended_by FROM alert_silences";

macro_rules! silence_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::SilenceStore for $ty {
            async fn insert_silence(&self, s: &crate::StoredSilence) -> crate::Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO alert_silences (id, series, rule_id, starts_at, ends_at, reason, \
                     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&s.id)
                .bind(s.series.as_deref())
                .bind(s.rule_id.as_deref())
                .bind(s.starts_at.millis())
                .bind(s.ends_at.millis())
                .bind(&s.reason)
                .bind(&s.created_by)
                .bind(s.created_at.millis())
                .execute(&self.$w)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn silence(&self, id: &str) -> crate::Result<Option<crate::StoredSilence>> {
                let sql = format!("{} WHERE id = $1", crate::silences::SILENCE_SELECT);
                let row: Option<crate::silences::SilenceRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(&self.$r)
                        .await?;
                Ok(row.map(crate::silences::SilenceRow::into_stored))
            }

            async fn silences(
                &self,
                now: Option<sb_domain::Timestamp>,
                limit: u32,
            ) -> crate::Result<Vec<crate::StoredSilence>> {
                let sql = format!(
                    "{} WHERE ($1 IS NULL OR ends_at > $1) ORDER BY starts_at, id LIMIT $2",
                    crate::silences::SILENCE_SELECT
                );
                let rows: Vec<crate::silences::SilenceRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(now.map(|n| n.millis()))
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(crate::silences::SilenceRow::into_stored)
                    .collect())
            }

            async fn end_silence(
                &self,
                id: &str,
                by: &str,
                now: sb_domain::Timestamp,
            ) -> crate::Result<Option<crate::StoredSilence>> {
                // A silence that has not started yet becomes an empty window: it never applies.
                sqlx::query(
                    "UPDATE alert_silences SET starts_at = CASE WHEN starts_at > $2 \
                     THEN $2 ELSE starts_at END, ends_at = $2, ended_by = $3 \
                     WHERE id = $1 AND ends_at > $2",
                )
                .bind(id)
                .bind(now.millis())
                .bind(by)
                .execute(&self.$w)
                .await?;
                let sql = format!("{} WHERE id = $1", crate::silences::SILENCE_SELECT);
                let row: Option<crate::silences::SilenceRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(id)
                        .fetch_optional(&self.$w)
                        .await?;
                Ok(row.map(crate::silences::SilenceRow::into_stored))
            }
        }
    };
}

pub(crate) use silence_store_impl;
