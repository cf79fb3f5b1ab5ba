//! Settings operators change at run time, kept as versioned documents by kind — the
//! workflow's routing (`ROUTING`) and the retention policies (`RETENTION`): every version is
//! kept, the latest of a kind is in force. A save names the version it was edited from, so
//! two people editing at once cannot overwrite each other unseen. The same SQL on both back
//! ends.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

/// The workflow's routing: queues, agents, SLA policies and calendars, rules, escalations.
pub const ROUTING: &str = "workflow.routing";
/// The retention policies (`[[privacy.retention]]`), as JSON.
pub const RETENTION: &str = "privacy.retention";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsDocument {
    /// 1 for the first saved document of its kind, then one more per save.
    pub version: i64,
    pub document: String,
    pub saved_by: String,
    pub saved_at: Timestamp,
}

/// What a save did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsSave {
    Saved {
        version: i64,
    },
    /// The document was edited from a version that is no longer the latest.
    Stale {
        latest: i64,
    },
}

#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The latest saved document of `kind`, if any was saved.
    async fn settings_document(&self, kind: &str) -> Result<Option<SettingsDocument>>;
    /// The latest version number of `kind`; 0 when nothing was saved.
    async fn settings_version(&self, kind: &str) -> Result<i64>;
    /// Saves `document` as the version of `kind` after `base` (0: nothing saved yet), if
    /// `base` is still the latest.
    async fn save_settings_document(
        &self,
        kind: &str,
        base: i64,
        document: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<SettingsSave>;
    /// The latest `limit` saved versions of `kind`, newest first.
    async fn settings_history(&self, kind: &str, limit: u32) -> Result<Vec<SettingsDocument>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct SettingsRow {
    version: i64,
    document: String,
    saved_by: String,
    saved_at: i64,
}

impl SettingsRow {
    pub(crate) fn into_document(self) -> SettingsDocument {
        SettingsDocument {
            version: self.version,
            document: self.document,
            saved_by: self.saved_by,
            saved_at: Timestamp(self.saved_at),
        }
    }
}

macro_rules! settings_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::SettingsStore for $ty {
            async fn settings_document(
                &self,
                kind: &str,
            ) -> crate::Result<Option<crate::SettingsDocument>> {
                let row: Option<crate::settings::SettingsRow> = sqlx::query_as(
                    "SELECT version, document, saved_by, saved_at FROM settings_documents \
                     WHERE kind = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(kind)
                .fetch_optional(&self.$r)
                .await?;
                Ok(row.map(crate::settings::SettingsRow::into_document))
            }

            async fn settings_version(&self, kind: &str) -> crate::Result<i64> {
                let v: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM settings_documents WHERE kind = $1",
                )
                .bind(kind)
                .fetch_one(&self.$r)
                .await?;
                Ok(v.unwrap_or(0))
            }

            async fn save_settings_document(
                &self,
                kind: &str,
                base: i64,
                document: &str,
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<crate::SettingsSave> {
                let mut tx = self.$w.begin().await?;
                let latest: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM settings_documents WHERE kind = $1",
                )
                .bind(kind)
                .fetch_one(&mut *tx)
                .await?;
                let latest = latest.unwrap_or(0);
                if latest != base {
                    return Ok(crate::SettingsSave::Stale { latest });
                }
                // Two saves from the same base race for the same version: one inserts it.
                let done = sqlx::query(
                    "INSERT INTO settings_documents (kind, version, document, saved_by, saved_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(kind)
                .bind(base + 1)
                .bind(document)
                .bind(by)
                .bind(at.millis())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(crate::SettingsSave::Stale { latest: base + 1 });
                }
                tx.commit().await?;
                Ok(crate::SettingsSave::Saved { version: base + 1 })
            }

            async fn settings_history(
                &self,
                kind: &str,
                limit: u32,
            ) -> crate::Result<Vec<crate::SettingsDocument>> {
                let rows: Vec<crate::settings::SettingsRow> = sqlx::query_as(
                    "SELECT version, document, saved_by, saved_at FROM settings_documents \
                     WHERE kind = $1 ORDER BY version DESC LIMIT $2",
                )
                .bind(kind)
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(crate::settings::SettingsRow::into_document)
                    .collect())
            }
        }
    };
}

pub(crate) use settings_store_impl;
