//! The workflow's routing document (queues, agents and skills, SLA policies and calendars,
//! case rules, escalations) as operators save it at run time: every version is kept, the
//! latest is in force. A save names the version it was edited from, so two people editing at
//! once cannot overwrite each other unseen. The same SQL on both back ends.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingDocument {
    /// 1 for the first saved document, then one more per save.
    pub version: i64,
    pub document: String,
    pub saved_by: String,
    pub saved_at: Timestamp,
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingSave {
    Saved {
        version: i64,
    },
    /// The document was edited from a version that is no longer the latest.
    Stale {
        latest: i64,
    },
}

#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// The latest saved document, if any was saved.
    async fn routing_document(&self) -> Result<Option<RoutingDocument>>;
    /// The latest version number; 0 when nothing was saved.
    async fn routing_version(&self) -> Result<i64>;
    /// Saves `document` as the version after `base` (0: nothing saved yet), if `base` is
    /// still the latest.
    async fn save_routing_document(
        &self,
        base: i64,
        document: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<RoutingSave>;
    /// The latest `limit` saved versions, newest first.
    async fn routing_history(&self, limit: u32) -> Result<Vec<RoutingDocument>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct RoutingRow {
    version: i64,
    document: String,
    saved_by: String,
    saved_at: i64,
}

impl RoutingRow {
    pub(crate) fn into_document(self) -> RoutingDocument {
        RoutingDocument {
            version: self.version,
            document: self.document,
            saved_by: self.saved_by,
            saved_at: Timestamp(self.saved_at),
        }
    }
}

macro_rules! routing_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::RoutingStore for $ty {
            async fn routing_document(&self) -> crate::Result<Option<crate::RoutingDocument>> {
                let row: Option<crate::routing::RoutingRow> = sqlx::query_as(
                    "SELECT version, document, saved_by, saved_at FROM routing_documents \
                     ORDER BY version DESC LIMIT 1",
                )
                .fetch_optional(&self.$r)
                .await?;
                Ok(row.map(crate::routing::RoutingRow::into_document))
            }

            async fn routing_version(&self) -> crate::Result<i64> {
                let v: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(version) FROM routing_documents")
                        .fetch_one(&self.$r)
                        .await?;
                Ok(v.unwrap_or(0))
            }

            async fn save_routing_document(
                &self,
                base: i64,
                document: &str,
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<crate::RoutingSave> {
                let mut tx = self.$w.begin().await?;
                let latest: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(version) FROM routing_documents")
                        .fetch_one(&mut *tx)
                        .await?;
                let latest = latest.unwrap_or(0);
                if latest != base {
                    return Ok(crate::RoutingSave::Stale { latest });
                }
                // Two saves from the same base race for the same version: one inserts it.
                let done = sqlx::query(
                    "INSERT INTO routing_documents (version, document, saved_by, saved_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(base + 1)
                .bind(document)
                .bind(by)
                .bind(at.millis())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(crate::RoutingSave::Stale { latest: base + 1 });
                }
                tx.commit().await?;
                Ok(crate::RoutingSave::Saved { version: base + 1 })
            }

            async fn routing_history(
                &self,
                limit: u32,
            ) -> crate::Result<Vec<crate::RoutingDocument>> {
                let rows: Vec<crate::routing::RoutingRow> = sqlx::query_as(
                    "SELECT version, document, saved_by, saved_at FROM routing_documents \
                     ORDER BY version DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(crate::routing::RoutingRow::into_document)
                    .collect())
            }
        }
    };
}

pub(crate) use routing_store_impl;
