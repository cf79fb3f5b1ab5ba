//! Ingest benchmark: `cargo bench -p switchboard-web --bench ingest`.
//!
//! Each repetition, in one process on this machine:
//! 1. **baseline** — the same HTTP stack (body limit, telemetry, API-key check) around a handler
//!    that does nothing, driven as fast as it answers;
//! 2. **ingest** — the real router on a fresh SQLite store with the pipeline running, driven as
//!    fast as it answers; the sustained rate counts from the first request until the pipeline
//!    has processed every acknowledged message, so a pipeline that falls behind lowers it;
//! 3. **latency** — an open-loop 2,000 messages/s against the real router, latency measured from
//!    each request's scheduled start (no coordinated omission).
//!
//! Environment: `BENCH_SECS` (per phase, default 10), `BENCH_REPS` (default 3),
//! `BENCH_CONCURRENCY` (closed-loop connections, default 64), `BENCH_REGION` (every message
//! carries this region, and the store has a partition for it: the cost of data residency).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{Clock, SystemClock};
use sb_pipeline::{Ingestor, IngestorConfig, Pipeline, PipelineConfig, PipelineEvents};
use sb_store::{SqliteStore, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use switchboard_web::{AdminKey, AppState};

/// The allocator the `switchboard` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "sb_bench_key";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Varied, realistic bodies: several platforms and languages, repeat authors so messages
/// thread into open cases.
struct Bodies {
    run: u64,
    next: AtomicU64,
    /// `,"region":"…"` when `BENCH_REGION` is set.
    region: String,
}

const TEXTS: [&str; 10] = [
    "My parcel was due on Monday and the tracking has not moved for four days. What is going on?",
    "Thanks a lot to the team in the Lisbon store, the exchange took two minutes!",
    "Is the charger for the X200 compatible with the older model?",
    "Third time I write about the double charge on my card and nobody answers. I want a refund.",
    "Mi pedido llegó roto y nadie contesta al teléfono. Muy decepcionado.",
    "O aplicativo não abre desde a atualização de ontem, alguém mais com esse problema?",
    "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier s'il vous plaît ?",
    "Super Service, die Rücksendung wurde sofort erstattet. Danke!",
    "Il pacco è arrivato in anticipo e perfettamente imballato, grazie mille.",
    "Mijn bestelling is nog steeds niet geleverd, kunnen jullie helpen?",
];
const SOURCES: [&str; 5] = ["x", "facebook", "instagram", "email", "chat"];

impl Bodies {
    fn new(run: u64) -> Self {
        Self {
            run,
            next: AtomicU64::new(0),
            region: region()
                .map(|r| format!(r#","region":"{r}""#))
                .unwrap_or_default(),
        }
    }

    fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let source = SOURCES[(n % 5) as usize];
        let text = TEXTS[(n % 10) as usize];
        let author = (n * 7919) % 5000;
        let handle = if source == "email" {
            format!("customer{author}@example.com")
        } else {
            format!("@customer{author}")
        };
        format!(
            r#"{{"source":"{source}","external_id":"bench-{}-{n}","author":{{"handle":"{handle}","name":"Customer {author}","followers":{}}},"text":"{text}"{}}}"#,
            self.run,
            author * 3,
            self.region
        )
    }
}

struct Server {
    url: String,
    store: Option<Arc<dyn Store>>,
    stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// The region of `BENCH_REGION`, if set.
fn region() -> Option<String> {
    std::env::var("BENCH_REGION").ok().filter(|r| !r.is_empty())
}

async fn start(real: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let partitions: Vec<sb_store::Partition> =
        region().map(sb_store::Partition::new).into_iter().collect();
    let sqlite: Arc<dyn Store> = Arc::new(
        SqliteStore::open_partitioned(&dir.path().join("switchboard.db"), &partitions)
            .await
            .unwrap(),
    );
    let bus = sb_bus::open("memory://").await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let events = PipelineEvents::default();
    if real {
        let pipe = Pipeline::new(
            sqlite.clone(),
            clock.clone(),
            events.clone(),
            PipelineConfig::default(),
        );
        let b = bus.clone();
        tokio::spawn(async move { pipe.run(b).await });
        tokio::task::yield_now().await;
    }
    let ingestor = Ingestor::start(sqlite.clone(), bus, clock, IngestorConfig::default());
    // The per-key request limit (10,000/s by default, `security.key_per_second`) would cap
    // both phases; the benchmark measures the stack, so its key is not limited.
    let state = AppState::new(sqlite.clone(), ingestor, events, Some(AdminKey::new(KEY)))
        .with_limits(switchboard_web::Limits {
            key_burst: u32::MAX,
            key_per_second: 1e12,
            ..switchboard_web::Limits::default()
        });
    let app = if real {
        switchboard_web::router(state)
    } else {
        switchboard_web::noop_router(state)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/messages", listener.local_addr().unwrap());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(switchboard_web::serve(listener, app, async move {
        let _ = rx.await;
    }));
    Server {
        url,
        store: real.then_some(sqlite),
        stop,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap()
}

async fn post(c: &reqwest::Client, url: &reqwest::Url, body: String) -> bool {
    match c
        .post(url.clone())
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) => {
            let ok = r.status().as_u16() == 202;
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

/// Closed loop: `concurrency` senders for `secs`; returns (acknowledged, elapsed).
async fn saturate(url: &str, bodies: Arc<Bodies>, concurrency: u64, secs: u64) -> (u64, Duration) {
    let c = client();
    // Parsed once: the load generator shares the cores with the server it measures.
    let url = reqwest::Url::parse(url).unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (c, url, bodies, acked) = (c.clone(), url.clone(), bodies.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                if post(&c, &url, bodies.next()).await {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (acked.load(Ordering::Relaxed), t0.elapsed())
}

/// Open loop at `rate`/s for `secs`; returns latencies in microseconds and failures.
async fn open_loop(url: &str, bodies: Arc<Bodies>, rate: u64, secs: u64) -> (Vec<u64>, u64) {
    let c = client();
    let url = reqwest::Url::parse(url).unwrap();
    let total = rate * secs;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let t0 = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = t0 + interval * i as u32;
        tokio::time::sleep_until(scheduled).await;
        let (c, url, body) = (c.clone(), url.clone(), bodies.next());
        tasks.push(tokio::spawn(async move {
            let ok = post(&c, &url, body).await;
            (ok, scheduled.elapsed().as_micros() as u64)
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    let mut failed = 0;
    for t in tasks {
        let (ok, us) = t.await.unwrap();
        if ok {
            lat.push(us);
        } else {
            failed += 1;
        }
    }
    lat.sort_unstable();
    (lat, failed)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Waits until the pipeline has processed every stored message. Asks for one unprocessed id
/// (an index lookup) rather than counting tables, so that watching costs the pipeline nothing.
async fn wait_processed(store: &Arc<dyn Store>) {
    let end_of_time = sb_domain::Timestamp::from_millis(i64::MAX / 2);
    loop {
        let left = store
            .unprocessed_messages(None, end_of_time, 1)
            .await
            .unwrap();
        if left.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Rep {
    baseline: f64,
    ingest: f64,
    sustained: f64,
    p50: f64,
    p99: f64,
}

async fn rep(run: u64, secs: u64, concurrency: u64) -> Rep {
    let noop = start(false).await;
    let (n, t) = saturate(&noop.url, Arc::new(Bodies::new(run)), concurrency, secs).await;
    let baseline = n as f64 / t.as_secs_f64();
    let _ = noop.stop.send(());

    let real = start(true).await;
    let store = real.store.clone().unwrap();
    let t0 = Instant::now();
    let (n, t) = saturate(&real.url, Arc::new(Bodies::new(run)), concurrency, secs).await;
    let ingest = n as f64 / t.as_secs_f64();
    if std::env::var_os("BENCH_METRICS").is_some() {
        let m = client()
            .get(real.url.replace("/api/v1/messages", "/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for l in m.lines().filter(|l| {
            (l.contains("stage_duration") || l.contains("batch_size")) && !l.starts_with('#')
        }) {
            println!("  {l}");
        }
    }
    wait_processed(&store).await;
    let sustained = n as f64 / t0.elapsed().as_secs_f64();
    let stored = store.counts().await.unwrap().messages;
    assert_eq!(
        stored as u64, n,
        "every acknowledged message is stored once"
    );
    if region().is_some() {
        // The pipeline places each batch after applying it; what a final pass still finds
        // is at most the last batch, placed while this ran.
        let left = store
            .place_pending(u32::MAX, SystemClock.now())
            .await
            .unwrap();
        println!("  messages a final placement pass moved: {left}");
    }

    let (lat, failed) = open_loop(&real.url, Arc::new(Bodies::new(run + 1000)), 2000, secs).await;
    assert_eq!(failed, 0, "no request failed at 2,000/s");
    wait_processed(&store).await;
    let _ = real.stop.send(());
    Rep {
        baseline,
        ingest,
        sustained,
        p50: pct(&lat, 0.50),
        p99: pct(&lat, 0.99),
    }
}

fn main() {
    let secs = env_or("BENCH_SECS", 10);
    let reps = env_or("BENCH_REPS", 3);
    let concurrency = env_or("BENCH_CONCURRENCY", 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "ingest benchmark: {reps} repetitions, {secs} s per phase, {concurrency} connections, {} cores, region partition: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        region().unwrap_or_else(|| "none".into())
    );
    let mut all = Vec::new();
    for r in 0..reps {
        let x = rt.block_on(rep(r, secs, concurrency));
        println!(
            "rep {r}: baseline {:.0}/s  ingest {:.0}/s  sustained (pipeline drained) {:.0}/s  ratio {:.1}%  latency@2000/s p50 {:.2} ms p99 {:.2} ms",
            x.baseline,
            x.ingest,
            x.sustained,
            100.0 * x.sustained / x.baseline,
            x.p50,
            x.p99
        );
        all.push(x);
    }
    let baseline = median(all.iter().map(|x| x.baseline).collect());
    let sustained = median(all.iter().map(|x| x.sustained).collect());
    println!(
        "median: baseline {:.0}/s  ingest {:.0}/s  sustained {:.0}/s  ratio {:.1}%  p50 {:.2} ms  p99 {:.2} ms",
        baseline,
        median(all.iter().map(|x| x.ingest).collect()),
        sustained,
        median(
            all.iter()
                .map(|x| 100.0 * x.sustained / x.baseline)
                .collect()
        ),
        median(all.iter().map(|x| x.p50).collect()),
        median(all.iter().map(|x| x.p99).collect()),
    );
}
