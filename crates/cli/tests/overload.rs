//! Overload (A5, J4): a burst far beyond what ingest can commit gets `503 overloaded` with
//! `Retry-After` instead of queueing without bound; memory stays bounded; every message that
//! was acknowledged is stored once and processed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_store::{SqliteStore, Store};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::bin;

const KEY: &str = "sb_overload";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_capacity_is_refused_with_retry_after_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A deliberately small commit queue that does not let requests wait for room: the burst
    // below is many times what it admits.
    let server = Kill(
        bin()
            .arg("serve")
            .env("SWITCHBOARD_DATA_DIR", dir.path())
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("SWITCHBOARD_ADMIN_KEY", KEY)
            .env("SWITCHBOARD_INGEST_QUEUE", "4")
            .env("SWITCHBOARD_INGEST_MAX_BATCH", "1")
            .env("SWITCHBOARD_INGEST_MAX_WAIT_MS", "0")
            .env("SWITCHBOARD_PIPELINE_SWEEP_SECS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let base = format!("http://127.0.0.1:{port}");

    // One refused request, looked at closely.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let burst: Vec<_> = (0..400)
        .map(|i| {
            let http = http.clone();
            let url = format!("{base}/api/v1/messages");
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(KEY)
                    .json(&serde_json::json!({"source": "x", "external_id": format!("probe-{i}"), "author": "@p", "text": "burst"}))
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut refused = None;
    for r in burst {
        let r = r.await.unwrap();
        if r.status() == 503 {
            refused = Some(r);
        } else {
            assert_eq!(r.status(), 202);
        }
    }
    let refused = refused.expect("400 simultaneous requests against a queue of 4 saw no 503");
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let v: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(v["code"], "overloaded");

    // The viral burst, as fast as the server answers, far beyond its queue.
    let acks = dir.path().join("acks.txt");
    let out = bin()
        .args([
            "simulate",
            "--url",
            &base,
            "--rate",
            "0",
            "--duration",
            "60",
            "--messages",
            "8000",
            "--scenario",
            "viral",
            "--concurrency",
            "256",
            "--ack-log",
            acks.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_API_KEY", KEY)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed = report
        .lines()
        .find_map(|l| l.strip_prefix("failed"))
        .unwrap_or("")
        .trim()
        .to_owned();
    // Only backpressure, never a timeout, a dropped connection or a server error.
    assert!(failed.starts_with("503: "), "{report}");
    assert!(!failed.contains(','), "{report}");

    // The burst was at least ten times what the server could take in the same time.
    let number = |prefix: &str| -> f64 {
        let line = report.lines().find(|l| l.starts_with(prefix)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let offered_over_taken = number("sent") / number("accepted");
    assert!(
        offered_over_taken >= 10.0,
        "only {offered_over_taken:.1}x: {report}"
    );

    let rss_mib = peak_rss_kib(server.0.id()) / 1024;
    eprintln!(
        "overload: {} / peak server RSS {rss_mib} MiB",
        report.replace('\n', " | ")
    );
    assert!(rss_mib < 300, "peak RSS {rss_mib} MiB");

    // Every acknowledged message is stored once and gets processed.
    let acked: Vec<(String, String)> = std::fs::read_to_string(&acks)
        .unwrap()
        .lines()
        .map(|l| {
            let (e, i) = l.split_once(' ').unwrap();
            (e.to_owned(), i.to_owned())
        })
        .collect();
    assert!(!acked.is_empty());
    let store = SqliteStore::open(&dir.path().join("switchboard.db"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let c = store.counts().await.unwrap();
        if c.unprocessed == 0 {
            // The probes that were admitted, plus every acknowledged simulated message.
            assert!(c.messages >= acked.len() as i64);
            assert!(c.messages <= acked.len() as i64 + 400);
            break;
        }
        assert!(Instant::now() < deadline, "backlog did not drain: {c:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (_, id) in acked.iter().step_by(50) {
        let m = store
            .message(&sb_domain::MessageId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.stage, sb_domain::Stage::Processed);
    }
}
