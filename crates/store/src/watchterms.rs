//! Watchlist terms kept in the database (B6): what operators add through the API on top of the
//! configuration file's watchlist. A version bumped in the same transaction as every change
//! tells each process when to rebuild its watchlist. The same SQL on both back ends.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWatchTerm {
    pub list: String,
    /// As the operator wrote it; unique per list ignoring case.
    pub term: String,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// The key a term is unique by within its list: matching ignores case, so must uniqueness.
pub fn watch_term_key(term: &str) -> String {
    term.trim().to_lowercase()
}

#[async_trait]
pub trait WatchTermStore: Send + Sync {
    /// Every stored term, by list and term.
    async fn watch_terms(&self) -> Result<Vec<StoredWatchTerm>>;
    /// Adds the terms to the list; answers those added (a term already there, in any case,
    /// is left as it was). One transaction.
    async fn add_watch_terms(
        &self,
        list: &str,
        terms: &[String],
        by: &str,
        at: Timestamp,
    ) -> Result<Vec<String>>;
    /// Removes a term (any case); false when the list has no such term.
    async fn remove_watch_term(&self, list: &str, term: &str) -> Result<bool>;
    /// Changes with every addition or removal.
    async fn watch_terms_version(&self) -> Result<i64>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct WatchTermRow {
    list: String,
    term: String,
    added_by: String,
    added_at: i64,
}

impl WatchTermRow {
    pub(crate) fn into_stored(self) -> StoredWatchTerm {
        StoredWatchTerm {
            list: self.list,
            term: self.term,
            added_by: self.added_by,
            added_at: Timestamp(self.added_at),
        }
    }
}

macro_rules! watch_term_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::WatchTermStore for $ty {
            async fn watch_terms(&self) -> crate::Result<Vec<crate::StoredWatchTerm>> {
                let rows: Vec<crate::watchterms::WatchTermRow> = sqlx::query_as(
                    "SELECT list, term, added_by, added_at FROM watch_terms ORDER BY list, term_key",
                )
                .fetch_all(&self.$r)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(crate::watchterms::WatchTermRow::into_stored)
                    .collect())
            }

            async fn add_watch_terms(
                &self,
                list: &str,
                terms: &[String],
                by: &str,
                at: sb_domain::Timestamp,
            ) -> crate::Result<Vec<String>> {
                let mut tx = self.$w.begin().await?;
                let mut added = Vec::new();
                for term in terms {
                    let done = sqlx::query(
                        "INSERT INTO watch_terms (list, term_key, term, added_by, added_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(list)
                    .bind(crate::watchterms::watch_term_key(term))
                    .bind(term.trim())
                    .bind(by)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 1 {
                        added.push(term.trim().to_owned());
                    }
                }
                if !added.is_empty() {
                    sqlx::query("UPDATE watch_terms_version SET version = version + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn remove_watch_term(&self, list: &str, term: &str) -> crate::Result<bool> {
                let mut tx = self.$w.begin().await?;
                let done = sqlx::query("DELETE FROM watch_terms WHERE list = $1 AND term_key = $2")
                    .bind(list)
                    .bind(crate::watchterms::watch_term_key(term))
                    .execute(&mut *tx)
                    .await?;
                let removed = done.rows_affected() == 1;
                if removed {
                    sqlx::query("UPDATE watch_terms_version SET version = version + 1 WHERE id = 1")
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(removed)
            }

            async fn watch_terms_version(&self) -> crate::Result<i64> {
                let v: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM watch_terms_version WHERE id = 1")
                        .fetch_optional(&self.$r)
                        .await?;
                Ok(v.unwrap_or(0))
            }
        }
    };
}

pub(crate) use watch_term_store_impl;
