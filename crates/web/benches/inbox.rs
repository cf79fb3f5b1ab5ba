//! Inbox benchmark: `cargo bench -p switchboard-web --bench inbox`.
//!
//! Stores 100,000 open cases (with their SLA clocks and one enriched message each) in a fresh
//! SQLite database, starts the real router on it, signs a user in, and times
//! `GET /ui/inbox` — the first page as an agent opens it, rendered on the server — from request
//! to the last byte, over loopback HTTP. Also timed: a filtered first page, the SLA-state
//! filter (which reads the store in chunks), the rows fragment the live inbox refetches, and
//! the supervisor dashboard over the same data.
//!
//! The cases are written straight into the tables (one transaction, multi-row inserts) so the
//! set-up takes seconds; the rows have the shape the pipeline writes.
//!
//! Environment: `BENCH_CASES` (default 100,000), `BENCH_REQUESTS` (per page, default 200).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{CaseId, Clock, CustomerId, MessageId, SystemClock, Timestamp};
use sb_pipeline::{Ingestor, IngestorConfig, PipelineEvents};
use sb_store::{SqliteStore, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_web::AppState;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "benchmark passphrase";
const WORKFLOW: &str = r#"
[[sla]]
name = "social"
first_response_mins = 60
resolution_mins = 1440
"#;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SOURCES: [&str; 5] = ["x", "facebook", "instagram", "email", "chat"];
const STATUSES: [&str; 4] = ["new", "open", "pending", "escalated"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const LANGUAGES: [&str; 5] = ["en", "de", "fr", "es", "pt"];
const INTENTS: [&str; 4] = ["complaint", "inquiry", "praise", "other"];

async fn seed(path: &std::path::Path, cases: u64) {
    let flow = sb_workflow::Workflow::compile(&toml::from_str(WORKFLOW).unwrap()).unwrap();
    let policy = flow.sla.get("social").unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    let now = SystemClock.now().millis();
    let customers = (cases / 5).max(1);
    let customer_ids: Vec<String> = (0..customers)
        .map(|_| CustomerId::generate().to_string())
        .collect();
    let mut tx = pool.begin().await.unwrap();
    for chunk in customer_ids.chunks(500) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO customers (id, display_name, region, language, tier, lifetime_value, created_at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, id)| {
            b.push_bind(id)
                .push_bind(format!("Customer {i}"))
                .push_bind("eu")
                .push_bind("en")
                .push_bind("standard")
                .push_bind(120.0)
                .push_bind(now - 90 * 86_400_000);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    // Oldest first, so ids (ULIDs) rise with time as the pipeline's would.
    let mut rows = Vec::with_capacity(cases as usize);
    for n in 0..cases {
        let opened = now - ((cases - n) as i64) * 5_000;
        let (state, _) = sb_workflow::sla::SlaState::start(policy, Timestamp(opened));
        rows.push((
            n,
            CaseId::generate().to_string(),
            MessageId::generate().to_string(),
            opened,
            serde_json::to_string(&state).unwrap(),
            state.next_due().map(|t| t.millis()),
        ));
    }
    for chunk in rows.chunks(400) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO cases (id, customer_id, source, channel, status, priority, queue_id, subject, \
             language, region, message_count, last_sentiment, opened_at, updated_at, last_message_at, \
             sla, sla_due_at) ",
        );
        q.push_values(chunk, |mut b, (n, case, _, opened, sla, due)| {
            let i = *n as usize;
            b.push_bind(case)
                .push_bind(&customer_ids[i % customer_ids.len()])
                .push_bind(SOURCES[i % 5])
                .push_bind(format!("{}_feed", SOURCES[i % 5]))
                .push_bind(STATUSES[i % 4])
                .push_bind(PRIORITIES[(i / 3) % 4])
                .push_bind("q_00000000000000000000000001")
                .push_bind(format!(
                    "Order {i} has not arrived and tracking has not moved"
                ))
                .push_bind(LANGUAGES[i % 5])
                .push_bind("eu")
                .push_bind(1)
                .push_bind(((i % 21) as f64 - 10.0) / 10.0)
                .push_bind(opened)
                .push_bind(opened)
                .push_bind(opened)
                .push_bind(sla)
                .push_bind(due);
        });
        q.build().execute(&mut *tx).await.unwrap();
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO messages (id, source, external_id, channel, kind, visibility, author_handle, \
             text, created_at, received_at, raw, stage, language, sentiment_compound, sentiment_label, \
             customer_id, case_id, processed_at, intent) ",
        );
        q.push_values(chunk, |mut b, (n, case, msg, opened, _, _)| {
            let i = *n as usize;
            let s = ((i % 21) as f64 - 10.0) / 10.0;
            b.push_bind(msg)
                .push_bind(SOURCES[i % 5])
                .push_bind(format!("bench-{i}"))
                .push_bind(format!("{}_feed", SOURCES[i % 5]))
                .push_bind("comment")
                .push_bind("public")
                .push_bind(format!("@customer{}", i % customer_ids.len()))
                .push_bind(format!(
                    "Order {i} has not arrived and tracking has not moved"
                ))
                .push_bind(opened)
                .push_bind(opened)
                .push_bind("{}")
                .push_bind("processed")
                .push_bind(LANGUAGES[i % 5])
                .push_bind(s)
                .push_bind(if s < -0.05 {
                    "negative"
                } else if s > 0.05 {
                    "positive"
                } else {
                    "neutral"
                })
                .push_bind(&customer_ids[i % customer_ids.len()])
                .push_bind(case)
                .push_bind(opened)
                .push_bind(INTENTS[i % 4]);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool.close().await;
}

async fn sign_in(http: &reqwest::Client, url: &str, login: &str) -> String {
    let r = http
        .post(format!("{url}/api/v1/session"))
        .json(&serde_json::json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let cases = env_or("BENCH_CASES", 100_000);
    let requests = env_or("BENCH_REQUESTS", 200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let t = Instant::now();
    seed(&path, cases).await;
    let counts = store.counts().await.unwrap();
    println!(
        "seeded {} cases ({} open) in {:.1} s",
        counts.cases,
        counts.open_cases,
        t.elapsed().as_secs_f64()
    );
    let hash = switchboard_web::hash_password(PASSWORD).unwrap();
    for (login, role) in [("ana", "agent"), ("sue", "supervisor")] {
        store
            .upsert_user(login, &hash, role, SystemClock.now())
            .await
            .unwrap();
    }
    let bus = sb_bus::open("memory://").await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ingestor = Ingestor::start(store.clone(), bus, clock, IngestorConfig::default());
    let state = AppState::new(store.clone(), ingestor, PipelineEvents::default(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(switchboard_web::serve(
        listener,
        switchboard_web::router(state),
        std::future::pending(),
    ));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let cookie = sign_in(&http, &url, "ana").await;
    let supervisor = sign_in(&http, &url, "sue").await;

    println!("| page | median | p99 | rows |");
    println!("|---|---|---|---|");
    for (path, cookie, requests) in [
        ("/ui/inbox", &cookie, requests),
        (
            "/ui/inbox?platform=x&sentiment=negative&intent=complaint",
            &cookie,
            requests,
        ),
        ("/ui/inbox?priority=urgent&language=de", &cookie, requests),
        ("/ui/inbox?sla=breached", &cookie, requests),
        ("/ui/inbox/rows", &cookie, requests),
        ("/ui/dashboard", &supervisor, 20),
    ] {
        let mut times = Vec::with_capacity(requests as usize);
        let mut rows = 0;
        for i in 0..requests + 3 {
            let t = Instant::now();
            let r = http
                .get(format!("{url}{path}"))
                .header("cookie", cookie.as_str())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body = r.text().await.unwrap();
            let elapsed = t.elapsed();
            rows = body.matches("class=\"case-row\"").count();
            if i >= 3 {
                times.push(elapsed);
            }
        }
        times.sort();
        println!(
            "| `{path}` | {} | {} | {rows} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
}
