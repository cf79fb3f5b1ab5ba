//! Reports benchmark: `cargo bench -p switchboard-pipeline --bench reports`.
//!
//! 1. **Build**: a year of history — `BENCH_CASES` cases (default 1,000,000), ten customer
//!    messages and about ten case events each (10 M messages, about 10 M events) — is written
//!    straight into a fresh SQLite store (no HTTP, no NLP), a chunk at a time, and the real
//!    rollup stage folds each chunk. Only the fold is timed: facts folded per second. With
//!    `BENCH_KEEP=1` every fact stays stored (about 10 GB of disk); otherwise a chunk's facts
//!    are deleted again once folded (untimed) and only the rollups (and the fold's per-case
//!    state) stay, which represent the whole history either way.
//! 2. **Reports**: KPI reports for several periods and groupings, read from the rollups exactly
//!    as `GET /api/v1/reports/kpis` reads them (sums, backlog, figures, CSV), `BENCH_REPS` times
//!    each (default 7): median and max.
//!
//! Environment: `BENCH_CASES`, `BENCH_CHUNK` (cases per chunk, default 10,000), `BENCH_REPS`,
//! `BENCH_KEEP` (1: keep every fact stored), `BENCH_DIR` (where the database goes; default a
//! temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_analytics::kpi::{Hours, assemble, report};
use sb_domain::{ManualClock, Timestamp};
use sb_store::reports::{KpiQuery, PeriodUnit};
use sb_store::{ReportStore, SqliteStore, Store};
use sb_workflow::{Workflow, WorkflowConfig};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_pipeline::Rollups;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;
/// 2025-12-01T00:00Z: the history covers the year from here.
const START: i64 = 1_764_547_200_000;
const AGENTS: usize = 100;
const QUEUES: usize = 10;
const PLATFORMS: [&str; 5] = ["x", "meta", "email", "linkedin", "tiktok"];
const INTENTS: [&str; 4] = ["complaint", "inquiry", "praise", "other"];
const REGIONS: [&str; 6] = ["de", "fr", "uk", "us", "br", "jp"];
const LANGS: [&str; 6] = ["de", "fr", "en", "en", "pt", "ja"];
const TIERS: [&str; 3] = ["standard", "premium", "vip"];

/// A small deterministic generator (xorshift), so every run builds the same history.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Chunk {
    customers: String,
    cases: String,
    messages: String,
    events: String,
    facts: u64,
}

/// SQL inserting cases `from..to`, their customers, messages and events. Values are
/// generated here (ASCII, no quotes), so they are written inline.
fn chunk(from: u64, to: u64, total: u64, rng: &mut Rng) -> Chunk {
    let mut customers = String::from("INSERT INTO customers (id, tier, created_at) VALUES ");
    let mut cases = String::from(
        "INSERT INTO cases (id, customer_id, source, channel, status, priority, queue_id, \
         subject, region, opened_at, updated_at, last_message_at, assignee) VALUES ",
    );
    let mut messages = String::from(
        "INSERT INTO messages (id, source, external_id, channel, kind, visibility, author_handle, \
         text, created_at, received_at, raw, stage, language, sentiment_compound, sentiment_label, \
         customer_id, case_id, intent, region, watch, processed_at) VALUES ",
    );
    let mut events =
        String::from("INSERT INTO case_events (case_id, kind, actor, at, data) VALUES ");
    let mut facts = 0;
    let (mut first_c, mut first_k, mut first_m, mut first_e) = (true, true, true, true);
    let sep = |first: &mut bool, s: &mut String| {
        if !*first {
            s.push(',');
        }
        *first = false;
    };
    for i in from..to {
        let opened = START
            + (i as i64 * 365 * DAY) / total as i64
            + rng.below(DAY as u64) as i64 % 3_600_000;
        let case = format!("case_b{i:012}");
        let cust = format!("cust_b{i:012}");
        let p = PLATFORMS[rng.below(5) as usize];
        let region = rng.below(6) as usize;
        let intent = INTENTS[rng.below(4) as usize];
        let agent = format!("agent{}", rng.below(AGENTS as u64));
        let queue = format!("q_bench{:02}", rng.below(QUEUES as u64));
        let tier = TIERS[rng.below(3) as usize];
        sep(&mut first_c, &mut customers);
        write!(customers, "('{cust}','{tier}',{opened})").unwrap();
        // Ten messages: the opening one, then the conversation over the next hours.
        for k in 0..10 {
            let at = opened + k * 20 * MIN;
            let (label, score) = match rng.below(10) {
                0..=3 => ("negative", -0.6),
                4..=7 => ("neutral", 0.0),
                _ => ("positive", 0.5),
            };
            let watch = if rng.below(20) == 0 {
                "'[{\"list\":\"competitor\",\"term\":\"globex\",\"start\":0,\"end\":6}]'"
            } else {
                "NULL"
            };
            let mintent = if k == 0 {
                intent
            } else {
                INTENTS[rng.below(4) as usize]
            };
            sep(&mut first_m, &mut messages);
            write!(
                messages,
                "('msg_b{i:012}{k}','{p}','e{i}-{k}','{p}:acme','dm','private','@c{i}','text',{at},{at},'{{}}','processed','{}',{score},'{label}','{cust}','{case}','{mintent}','{}',{watch},{at})",
                LANGS[region], REGIONS[region]
            )
            .unwrap();
            facts += 1;
        }
        let frt = 5 * MIN + rng.below(8 * 3_600_000) as i64;
        let res = frt + rng.below(2 * DAY as u64) as i64;
        let mut ev = |kind: &str, at: i64, data: String| {
            sep(&mut first_e, &mut events);
            write!(events, "('{case}','{kind}','system',{at},'{data}')").unwrap();
            facts += 1;
        };
        ev("sla.policy", opened, "{\"policy\":\"standard\"}".into());
        for m in ["first_response", "resolution"] {
            ev(
                "sla.activate",
                opened,
                format!("{{\"metric\":\"{m}\",\"elapsed_ms\":0,\"target_ms\":3600000}}"),
            );
        }
        ev("queued", opened, "{\"queue\":\"bench\"}".into());
        ev(
            "assigned",
            opened + MIN,
            format!("{{\"to\":\"{agent}\",\"reason\":\"least_busy\"}}"),
        );
        ev("reply", opened + frt, "{\"automated\":false}".into());
        ev(
            "sla.fulfil",
            opened + frt,
            format!(
                "{{\"metric\":\"first_response\",\"elapsed_ms\":{},\"target_ms\":3600000}}",
                frt * 2 / 3
            ),
        );
        ev(
            "status_changed",
            opened + res,
            "{\"from\":\"open\",\"to\":\"resolved\"}".into(),
        );
        ev(
            "sla.fulfil",
            opened + res,
            format!(
                "{{\"metric\":\"resolution\",\"elapsed_ms\":{},\"target_ms\":86400000}}",
                res / 2
            ),
        );
        ev(
            "status_changed",
            opened + res + 4 * DAY,
            "{\"from\":\"resolved\",\"to\":\"closed\"}".into(),
        );
        if rng.below(3) == 0 {
            ev(
                "survey.answered",
                opened + res + DAY,
                format!(
                    "{{\"csat\":{},\"nps\":{},\"ces\":{}}}",
                    1 + rng.below(5),
                    rng.below(11),
                    1 + rng.below(7)
                ),
            );
        }
        sep(&mut first_k, &mut cases);
        write!(
            cases,
            "('{case}','{cust}','{p}','{p}:acme','closed','normal','{queue}','subject',\
             '{}',{opened},{opened},{opened},'{agent}')",
            REGIONS[region]
        )
        .unwrap();
        facts += 1;
    }
    Chunk {
        customers,
        cases,
        messages,
        events,
        facts,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total = env_or("BENCH_CASES", 1_000_000);
    let per_chunk = env_or("BENCH_CHUNK", 10_000);
    let reps = env_or("BENCH_REPS", 7) as usize;
    let keep = env_or("BENCH_KEEP", 0) == 1;
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("BENCH_DIR").map_or_else(|_| tmp.path().to_owned(), Into::into);
    let path = dir.join("reports-bench.db");
    let _ = std::fs::remove_file(&path);
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true),
        )
        .await
        .unwrap();
    let mut queues = String::from("INSERT INTO queues (id, name) VALUES ");
    for q in 0..QUEUES {
        if q > 0 {
            queues.push(',');
        }
        write!(queues, "('q_bench{q:02}','queue{q:02}')").unwrap();
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(queues))
        .execute(&raw)
        .await
        .unwrap();

    let cfg: WorkflowConfig = toml::from_str(
        &(0..AGENTS)
            .map(|a| {
                format!(
                    "[[agents]]\nid = \"agent{a}\"\nname = \"Agent {a}\"\nteam = \"team{}\"\nqueues = [\"general\"]\n",
                    a % 5
                )
            })
            .chain(std::iter::once("[[queues]]\nname = \"general\"\n".to_owned()))
            .collect::<String>(),
    )
    .unwrap();
    let wf = Workflow::compile(&cfg).unwrap();
    let clock = Arc::new(ManualClock::at(Timestamp(START + 366 * DAY)));
    let rollups = Rollups::new(store.clone() as Arc<dyn Store>, clock, &wf).with_batch(20_000);

    println!("building: {total} cases, chunks of {per_chunk}");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut facts, mut fold_time) = (0u64, Duration::ZERO);
    let (mut messages_folded, mut events_folded) = (0usize, 0usize);
    let built = Instant::now();
    let mut from = 0;
    while from < total {
        let to = (from + per_chunk).min(total);
        let c = chunk(from, to, total, &mut rng);
        let mut tx = raw.begin().await.unwrap();
        for sql in [c.customers, c.cases, c.messages, c.events] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let t = Instant::now();
        let f = rollups.catch_up().await.unwrap();
        fold_time += t.elapsed();
        facts += c.facts;
        messages_folded += f.messages;
        events_folded += f.case_events;
        // Unless told to keep them, the folded facts go, to keep the disk small (the newest
        // case row stays, so rowids keep rising as they do in a store that never deletes
        // cases).
        if !keep {
            sqlx::raw_sql(
                "DELETE FROM messages; DELETE FROM case_events; \
                 DELETE FROM cases WHERE rowid < (SELECT MAX(rowid) FROM cases); \
                 DELETE FROM customers WHERE id NOT IN (SELECT customer_id FROM cases);",
            )
            .execute(&raw)
            .await
            .unwrap();
        }
        from = to;
        if (from / per_chunk).is_multiple_of(10) || from == total {
            println!(
                "  {from} cases, {facts} facts, fold {:.1} s ({:.0} facts/s), wall {:.0} s",
                fold_time.as_secs_f64(),
                facts as f64 / fold_time.as_secs_f64(),
                built.elapsed().as_secs_f64()
            );
        }
    }
    assert_eq!(
        messages_folded as u64 + events_folded as u64,
        facts,
        "every generated fact folded exactly once"
    );
    let rate = facts as f64 / fold_time.as_secs_f64();
    println!(
        "fold: {facts} facts ({messages_folded} messages, {events_folded} case openings and events) in {:.1} s = {rate:.0} facts/s",
        fold_time.as_secs_f64()
    );
    // At this history's mix (1 message fact and ~1.1 case facts per message), 10,000
    // messages/s of ingest brings this many facts per second.
    let per_message = facts as f64 / messages_folded.max(1) as f64;
    println!(
        "  = {:.0} messages/s of ingest at {per_message:.2} facts per message (target 10,000)",
        rate / per_message
    );
    let rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM kpi_rollup), (SELECT COUNT(*) FROM message_rollup)",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    println!("rollup rows: kpi {}, messages {}", rows.0, rows.1);
    let stored: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM cases), \
         (SELECT COUNT(*) FROM case_events)",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "stored: {} messages, {} cases, {} case events; database {:.1} GB",
        stored.0,
        stored.1,
        stored.2,
        bytes as f64 / 1e9
    );

    let day0 = START / DAY;
    let cases = [
        ("last 7 days by day", "all", 358, 365, PeriodUnit::Day),
        (
            "last 30 days by day, per agent",
            "agent",
            335,
            365,
            PeriodUnit::Day,
        ),
        (
            "quarter by week, per queue",
            "queue",
            273,
            365,
            PeriodUnit::Week,
        ),
        (
            "year by month, per agent",
            "agent",
            0,
            365,
            PeriodUnit::Month,
        ),
        ("year by day, per agent", "agent", 0, 365, PeriodUnit::Day),
        (
            "year by week, per intent",
            "intent",
            0,
            365,
            PeriodUnit::Week,
        ),
        ("year by month, per team", "team", 0, 365, PeriodUnit::Month),
        ("year by day, all", "all", 0, 365, PeriodUnit::Day),
    ];
    println!("| report | rows | median | max |");
    println!("|---|---|---|---|");
    for (name, dim, from, to, unit) in cases {
        let q = KpiQuery {
            dim: dim.into(),
            from_day: day0 + from,
            to_day: day0 + to,
            unit,
        };
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..reps {
            let t = Instant::now();
            let sums = store.kpi_sums(&q).await.unwrap();
            let backlog = store.kpi_backlog_changes(dim, q.to_day).await.unwrap();
            let rows = assemble(&q, &sums, &backlog, Hours::Business, Some(30.0));
            let mut csv = String::from(report::CSV_HEADER);
            for r in &rows {
                csv.push_str(&report::csv_row(&r.period_start, &r.group, &r.figures));
            }
            std::hint::black_box(csv);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            n = rows.len();
        }
        let max = times.iter().copied().fold(0.0, f64::max);
        println!("| {name} | {n} | {:.1} ms | {max:.1} ms |", median(times));
    }
}
