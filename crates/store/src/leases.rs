//! Named leases: one process at a time does a job that must see everything (listening to
//! the whole stream). A holder renews its lease before it runs out; when it stops renewing
//! (it crashed or lost the database), another process takes the lease once it has expired.
//! The same SQL on both back ends.

use crate::Result;
use async_trait::async_trait;
use sb_domain::Timestamp;

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes or renews lease `name` for `holder` until `now + ttl_ms`; answers whether
    /// `holder` has it (false while another holder's lease runs).
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl_ms: i64,
    ) -> Result<bool>;
    /// Gives the lease up, if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
}

macro_rules! lease_store_impl {
    ($ty:ty, $w:ident) => {
        #[async_trait::async_trait]
        impl crate::LeaseStore for $ty {
            async fn try_lease(
                &self,
                name: &str,
                holder: &str,
                now: sb_domain::Timestamp,
                ttl_ms: i64,
            ) -> crate::Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
                )
                .bind(name)
                .bind(holder)
                .bind(now.millis() + ttl_ms)
                .bind(now.millis())
                .execute(&self.$w)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_lease(&self, name: &str, holder: &str) -> crate::Result<()> {
                sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                    .bind(name)
                    .bind(holder)
                    .execute(&self.$w)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use lease_store_impl;
