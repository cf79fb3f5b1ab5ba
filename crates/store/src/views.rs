//! Saved inbox views (I2): a named set of inbox filters, owned by the user or key that saved
//! it and, when shared, offered to everyone who reads the inbox. The same SQL on both back
//! ends. Filters are stored as the JSON object the web layer checked; the store keeps them.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub struct SavedView {
    pub id: String,
    /// The actor that saved it (`user:<login>` or `key:<id>`).
    pub owner: String,
    pub name: String,
    /// Inbox filter name → value.
    pub filters: serde_json::Map<String, serde_json::Value>,
    pub shared: bool,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait ViewStore: Send + Sync {
    /// Stores a view; false when its owner already has one of that name (nothing written).
    async fn insert_view(&self, view: &SavedView) -> Result<bool>;
    async fn view(&self, id: &str) -> Result<Option<SavedView>>;
    /// The owner's views and the views others shared, the owner's first, each by name.
    async fn views_for(&self, owner: &str, limit: u32) -> Result<Vec<SavedView>>;
    /// How many views the owner has.
    async fn count_views(&self, owner: &str) -> Result<u64>;
    /// Deletes the owner's view; false when there is none of that id and owner.
    async fn delete_view(&self, id: &str, owner: &str) -> Result<bool>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct ViewRow {
    id: String,
    owner: String,
    name: String,
    filters: String,
    shared: bool,
    created_at: i64,
}

impl ViewRow {
    pub(crate) fn into_view(self) -> Result<SavedView> {
        let filters = serde_json::from_str(&self.filters).map_err(|e| {
            crate::StoreError::Corrupt(format!("view {} has unreadable filters: {e}", self.id))
        })?;
        Ok(SavedView {
            id: self.id,
            owner: self.owner,
            name: self.name,
            filters,
            shared: self.shared,
            created_at: Timestamp(self.created_at),
        })
    }
}

pub(crate) const VIEW_SELECT: &str =
    "SELECT id, owner, name, filters, shared, created_at FROM saved_views";

macro_rules! view_store_impl {
    ($ty:ty, $w:ident, $r:ident) => {
        #[async_trait::async_trait]
        impl crate::ViewStore for $ty {
            async fn insert_view(&self, v: &crate::SavedView) -> crate::Result<bool> {
                let filters = serde_json::Value::Object(v.filters.clone()).to_string();
                let done = sqlx::query(
                    "INSERT INTO saved_views (id, owner, name, filters, shared, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(&v.id)
                .bind(&v.owner)
                .bind(&v.name)
                .bind(filters)
                .bind(v.shared)
                .bind(v.created_at.millis())
                .execute(&self.$w)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn view(&self, id: &str) -> crate::Result<Option<crate::SavedView>> {
                let sql = format!("{} WHERE id = $1", crate::views::VIEW_SELECT);
                let row: Option<crate::views::ViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await?;
                row.map(crate::views::ViewRow::into_view).transpose()
            }

            async fn views_for(
                &self,
                owner: &str,
                limit: u32,
            ) -> crate::Result<Vec<crate::SavedView>> {
                let sql = format!(
                    "{} WHERE owner = $1 OR shared ORDER BY CASE WHEN owner = $1 THEN 0 ELSE 1 END, \
                     name, id LIMIT $2",
                    crate::views::VIEW_SELECT
                );
                let rows: Vec<crate::views::ViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(owner)
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await?;
                rows.into_iter()
                    .map(crate::views::ViewRow::into_view)
                    .collect()
            }

            async fn count_views(&self, owner: &str) -> crate::Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saved_views WHERE owner = $1")
                    .bind(owner)
                    .fetch_one(&self.$r)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn delete_view(&self, id: &str, owner: &str) -> crate::Result<bool> {
                let done = sqlx::query("DELETE FROM saved_views WHERE id = $1 AND owner = $2")
                    .bind(id)
                    .bind(owner)
                    .execute(&self.$w)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use view_store_impl;
