//! `simulate`: sends generated traffic to a running server at a target rate and reports what
//! it achieved — rate, latency percentiles, and failures by kind. With `--ack-log` it writes
//! one line per acknowledged message (`external_id id`), which the durability drill checks.

use crate::sim::{Generator, Scenario};
use anyhow::{Context, bail};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub struct SimulateArgs {
    pub url: String,
    pub rate: u32,
    pub duration: f64,
    pub scenario: Scenario,
    pub api_key: Option<String>,
    pub concurrency: usize,
    pub ack_log: Option<std::path::PathBuf>,
    pub seed: u64,
    pub customers: u32,
    /// Stop after this many messages, if the duration has not ended first.
    pub messages: Option<u64>,
    /// Send each message as a signed Meta Page-feed delivery to `/webhooks/meta`, signed
    /// with this app secret, instead of to the ingest API.
    pub meta_secret: Option<String>,
}

/// A Meta Page-feed delivery carrying one comment, shaped as Meta sends it.
fn meta_delivery(message: &serde_json::Value) -> serde_json::Value {
    let handle = message["author"]["handle"]
        .as_str()
        .or_else(|| message["author"].as_str())
        .unwrap_or("someone");
    let ext = message["external_id"].as_str().unwrap_or_default();
    serde_json::json!({
        "object": "page",
        "entry": [{
            "id": "sim-page",
            "time": 1_767_000_000,
            "changes": [{
                "field": "feed",
                "value": {
                    "from": {"id": handle, "name": message["author"]["name"].clone()},
                    "post_id": "sim-page_post-1",
                    "comment_id": format!("post-1_{ext}"),
                    "parent_id": "sim-page_post-1",
                    "created_time": 1_767_000_000,
                    "item": "comment",
                    "verb": "add",
                    "message": message["text"].clone(),
                }
            }]
        }]
    })
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    accepted: u64,
    duplicates: u64,
    rejected: std::collections::BTreeMap<String, u64>,
    acks: Vec<(String, String)>,
}

pub struct Report {
    pub sent: u64,
    pub accepted: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<Report> {
    if args.duration <= 0.0 || !args.duration.is_finite() {
        bail!("--duration must be a positive number of seconds");
    }
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let base = args.url.trim_end_matches('/').to_owned();
    if args.api_key.is_none() && args.meta_secret.is_none() {
        bail!("an API key is required: --api-key or SWITCHBOARD_API_KEY");
    }
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!("--url must start with http:// or https://");
    }
    let endpoint = match args.meta_secret {
        Some(_) => format!("{base}/webhooks/meta"),
        None => format!("{base}/api/v1/messages"),
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let run_id = ulid::Ulid::generate().to_string().to_lowercase();
    let mut generator = Generator::new(
        args.seed,
        &format!("sim-{run_id}"),
        args.scenario,
        args.customers,
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let permits = Arc::new(Semaphore::new(args.concurrency));
    let auth = format!("Bearer {}", args.api_key.as_deref().unwrap_or_default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    let mut sent = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    while Instant::now() < deadline && args.messages.is_none_or(|n| sent < n) {
        // Finished requests have reported into the tally; let their tasks go.
        while tasks.try_join_next().is_some() {}
        if let Some(iv) = interval {
            // Open loop: message n leaves at start + n·interval, however slow the answers.
            let due = started + iv.mul_f64(sent as f64);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .context("semaphore closed")?;
        let message = generator.next_message();
        let external_id = message["external_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (body, auth) = match &args.meta_secret {
            Some(secret) => {
                let body = serde_json::to_vec(&meta_delivery(&message))?;
                let signature = sb_connectors::sign_meta(secret, &body)
                    .map_err(|e| anyhow::anyhow!("--meta-secret: {e}"))?;
                (body, ("x-hub-signature-256", signature))
            }
            None => (
                serde_json::to_vec(&message)?,
                ("authorization", auth.clone()),
            ),
        };
        sent += 1;
        let (client, endpoint, auth, tally) = (
            client.clone(),
            endpoint.clone(),
            auth.clone(),
            tally.clone(),
        );
        tasks.spawn(async move {
            let t = Instant::now();
            let res = client
                .post(&endpoint)
                .header(auth.0, auth.1)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let outcome = match res {
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    Ok((status, text))
                }
                Err(e) => Err(if e.is_timeout() {
                    "timeout".to_owned()
                } else {
                    "connection".to_owned()
                }),
            };
            let us = t.elapsed().as_micros() as u64;
            let mut tally = tally.lock().unwrap_or_else(|p| p.into_inner());
            match outcome {
                // A webhook delivery: stored once the platform gets its 200.
                Ok((status, text)) if status.as_u16() == 200 => {
                    tally.latencies_us.push(us);
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    if v["duplicates"].as_u64().unwrap_or(0) > 0 {
                        tally.duplicates += 1;
                    } else {
                        tally.accepted += 1;
                    }
                }
                Ok((status, text)) if status.as_u16() == 202 => {
                    tally.latencies_us.push(us);
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    if v["duplicate"].as_bool() == Some(true) {
                        tally.duplicates += 1;
                    } else {
                        tally.accepted += 1;
                    }
                    if let Some(id) = v["id"].as_str() {
                        tally.acks.push((external_id, id.to_owned()));
                    }
                }
                Ok((status, _)) => {
                    *tally
                        .rejected
                        .entry(status.as_u16().to_string())
                        .or_default() += 1
                }
                Err(kind) => *tally.rejected.entry(kind).or_default() += 1,
            }
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let mut tally = Arc::try_unwrap(tally)
        .map_err(|_| anyhow::anyhow!("requests still running"))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    tally.latencies_us.sort_unstable();
    if let Some(path) = &args.ack_log {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        );
        for (ext, id) in &tally.acks {
            writeln!(f, "{ext} {id}")?;
        }
        f.flush()?;
    }
    let report = Report {
        sent,
        accepted: tally.accepted + tally.duplicates,
        p50_ms: percentile(&tally.latencies_us, 50.0),
        p95_ms: percentile(&tally.latencies_us, 95.0),
        p99_ms: percentile(&tally.latencies_us, 99.0),
    };
    let secs = elapsed.as_secs_f64();
    println!("sent        {} in {:.2} s", report.sent, secs);
    println!(
        "accepted    {} ({} duplicate)",
        report.accepted, tally.duplicates
    );
    println!(
        "rate        {:.0} messages/s achieved (target {})",
        report.accepted as f64 / secs,
        if args.rate == 0 {
            "unlimited".to_owned()
        } else {
            args.rate.to_string()
        }
    );
    println!(
        "latency     p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms",
        report.p50_ms, report.p95_ms, report.p99_ms
    );
    if !tally.rejected.is_empty() {
        let parts: Vec<String> = tally
            .rejected
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        println!("failed      {}", parts.join(", "));
    }
    Ok(report)
}
