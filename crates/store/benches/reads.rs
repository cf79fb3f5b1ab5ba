//! Small reads: `cargo bench -p switchboard-store --bench reads`.
//!
//! Times one small query through the store's reader pool, and the same SQL through a pool of
//! the same size opened with sqlx's defaults on the same file, which pings each connection
//! before handing it out. Alternating rounds of `BENCH_CALLS` sequential queries (default
//! 2,000), `BENCH_REPS` rounds each (default 7): the median time per query, and the ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::time::Instant;
use switchboard_store::{SqliteStore, Store};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let calls = env_or("BENCH_CALLS", 2_000);
    let reps = env_or("BENCH_REPS", 7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let reference = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(SqliteConnectOptions::new().filename(&path).read_only(true))
            .await
            .unwrap();
        let sql = "SELECT id, name, is_default FROM queues ORDER BY name";
        let expected = store.queues().await.unwrap().len();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for rep in 0..=reps {
            let t = Instant::now();
            for _ in 0..calls {
                assert_eq!(store.queues().await.unwrap().len(), expected);
            }
            let a = t.elapsed().as_secs_f64() * 1e6 / calls as f64;
            let t = Instant::now();
            for _ in 0..calls {
                let rows = sqlx::query(sql).fetch_all(&reference).await.unwrap();
                assert_eq!(rows.len(), expected);
            }
            let b = t.elapsed().as_secs_f64() * 1e6 / calls as f64;
            // The first round warms both pools up.
            if rep > 0 {
                println!("round {rep}: store {a:.1} µs, sqlx defaults {b:.1} µs per query");
                ours.push(a);
                theirs.push(b);
            }
        }
        let (a, b) = (median(ours), median(theirs));
        println!(
            "median: store {a:.1} µs, sqlx defaults {b:.1} µs per query; store takes {:.0} % of the time",
            100.0 * a / b
        );
    });
}
