//! Schema migrations for PostgreSQL, embedded in the binary. Processes starting together
//! take turns on an advisory lock, so each migration runs exactly once.

use crate::{Result, StoreError};
use sqlx::PgPool;

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        include_str!("../../migrations/postgres/0002_understanding.sql"),
    ),
    (3, include_str!("../../migrations/postgres/0003_alerts.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_revisions.sql"),
    ),
    (5, include_str!("../../migrations/postgres/0005_outbox.sql")),
    (
        6,
        include_str!("../../migrations/postgres/0006_rules_incidents.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_status_feed.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_workflow.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_governance.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_feedback.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_merges.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_reply_changes.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_analytics.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_listening.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_retention.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_orders.sql"),
    ),
    (17, include_str!("../../migrations/postgres/0017_views.sql")),
    (
        18,
        include_str!("../../migrations/postgres/0018_watchlists_retention.sql"),
    ),
    (
        19,
        include_str!("../../migrations/postgres/0019_settings_documents.sql"),
    ),
    (
        20,
        include_str!("../../migrations/postgres/0020_leases.sql"),
    ),
    (
        21,
        include_str!("../../migrations/postgres/0021_residency.sql"),
    ),
    (
        22,
        include_str!("../../migrations/postgres/0022_residency_customers.sql"),
    ),
    (
        23,
        include_str!("../../migrations/postgres/0023_residency_case_documents.sql"),
    ),
    (
        24,
        include_str!("../../migrations/postgres/0024_residency_identities.sql"),
    ),
    (
        25,
        include_str!("../../migrations/postgres/0025_label_corrections.sql"),
    ),
    (
        26,
        include_str!("../../migrations/postgres/0026_open_case_loads.sql"),
    ),
];

/// Arbitrary constant naming the migration lock.
pub const LOCK_KEY: i64 = 0x5357_4254_4348_0001;

pub async fn run(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for &(version, sql) in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration { version, source })?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, applied_at) \
             VALUES ($1, (extract(epoch FROM now()) * 1000)::bigint)",
        )
        .bind(version)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
