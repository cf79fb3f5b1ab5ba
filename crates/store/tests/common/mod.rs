//! What every store contract test runs against: SQLite always, and PostgreSQL (in a schema of
//! its own) when `SWITCHBOARD_TEST_PG_URL` names a server.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use switchboard_store::{PgStore, SqliteStore, Store};

/// Each back end, named, with the directory its files live in (kept alive by the caller).
pub async fn backends() -> Vec<(String, Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let mut out: Vec<(String, Arc<dyn Store>, tempfile::TempDir)> =
        vec![("sqlite".into(), Arc::new(sqlite), dir)];
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_PG_URL") {
        let schema = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
        let pg = PgStore::open_in_schema(&url, &schema).await.unwrap();
        out.push((
            "postgres".into(),
            Arc::new(pg),
            tempfile::tempdir().unwrap(),
        ));
    }
    out
}
