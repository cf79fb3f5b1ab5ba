//! Schema migrations for SQLite, embedded in the binary and applied in order at start-up.
//! Each runs in its own transaction together with the row that records it.

use crate::{Result, StoreError};
use sqlx::SqlitePool;

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_understanding.sql"),
    ),
    (3, include_str!("../../migrations/sqlite/0003_alerts.sql")),
    (
        4,
        include_str!("../../migrations/sqlite/0004_revisions.sql"),
    ),
    (5, include_str!("../../migrations/sqlite/0005_outbox.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_rules_incidents.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_status_feed.sql"),
    ),
    (8, include_str!("../../migrations/sqlite/0008_workflow.sql")),
    (
        9,
        include_str!("../../migrations/sqlite/0009_governance.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_feedback.sql"),
    ),
    (11, include_str!("../../migrations/sqlite/0011_merges.sql")),
    (
        12,
        include_str!("../../migrations/sqlite/0012_reply_changes.sql"),
    ),
    (
        13,
        include_str!("../../migrations/sqlite/0013_analytics.sql"),
    ),
    (
        14,
        include_str!("../../migrations/sqlite/0014_listening.sql"),
    ),
    (
        15,
        include_str!("../../migrations/sqlite/0015_retention.sql"),
    ),
    (16, include_str!("../../migrations/sqlite/0016_orders.sql")),
    (17, include_str!("../../migrations/sqlite/0017_views.sql")),
    (
        18,
        include_str!("../../migrations/sqlite/0018_watchlists_retention.sql"),
    ),
    (
        19,
        include_str!("../../migrations/sqlite/0019_settings_documents.sql"),
    ),
    (20, include_str!("../../migrations/sqlite/0020_leases.sql")),
    (
        21,
        include_str!("../../migrations/sqlite/0021_residency.sql"),
    ),
    (
        22,
        include_str!("../../migrations/sqlite/0022_residency_customers.sql"),
    ),
    (
        23,
        include_str!("../../migrations/sqlite/0023_residency_case_documents.sql"),
    ),
    (
        24,
        include_str!("../../migrations/sqlite/0024_residency_identities.sql"),
    ),
    (
        25,
        include_str!("../../migrations/sqlite/0025_label_corrections.sql"),
    ),
    (
        26,
        include_str!("../../migrations/sqlite/0026_open_case_loads.sql"),
    ),
];

pub async fn run(pool: &SqlitePool) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    for &(version, sql) in MIGRATIONS {
        let mut tx = pool.begin().await?;
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
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, strftime('%s', 'now') * 1000)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
