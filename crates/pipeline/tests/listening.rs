//! Listening with several pipeline processes sharing one database and JetStream
//! (`SWITCHBOARD_TEST_NATS_URL`; `.ci/run` provides it): the work is split between the
//! processes, yet one of them — the holder of the listening lease — judges each series on the
//! whole stream, so a rule on a series' volume sees every message, not a share of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_alerts::rules::RuleSet;
use sb_domain::{ManualClock, NewMessage, Timestamp};
use sb_store::{Page, SqliteStore, Store};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchboard_pipeline::{
    Ingestor, IngestorConfig, Pipeline, PipelineConfig, PipelineEvent, PipelineEvents,
};

const RULE: &str = r#"
[[rules]]
id = "x-volume"
name = "Much traffic on X"
series = "platform:x"
severity = "warning"
condition = { kind = "threshold", metric = "volume", op = "above", value = 150 }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_work_and_one_listens_to_the_whole_stream() {
    let Ok(nats) = std::env::var("SWITCHBOARD_TEST_NATS_URL") else {
        eprintln!("SWITCHBOARD_TEST_NATS_URL not set; shared listening not tested here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let bus = sb_bus::open(&format!("{nats}?stream=L{}", ulid::Ulid::generate()))
        .await
        .unwrap();
    // Mid-bucket; buckets close only when the test moves the clock on.
    let t0 = Timestamp::parse_rfc3339("2026-12-02T10:01:30Z").unwrap();
    let clock = Arc::new(ManualClock::at(t0));
    let cfg = PipelineConfig {
        // Small steps, so both processes take part of the stream.
        batch_size: 10,
        listening_lease: Duration::from_secs(3600),
        ..PipelineConfig::default()
    };
    let mut processed = Vec::new();
    for _ in 0..2 {
        let events = PipelineEvents::default();
        let mut rx = events.subscribe();
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            while let Ok(e) = rx.recv().await {
                if matches!(e, PipelineEvent::MessageProcessed { .. }) {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        processed.push(count);
        let p = Pipeline::new(store.clone(), clock.clone(), events, cfg.clone())
            .with_rules(RuleSet::from_toml(RULE).unwrap(), Vec::new());
        let b = bus.clone();
        tokio::spawn(async move { p.run(b).await });
    }
    let ingestor = Ingestor::start(
        store.clone(),
        bus.clone(),
        clock.clone(),
        IngestorConfig::default(),
    );
    for i in 0..200 {
        let m = NewMessage::parse(json!({
            "source": "x", "external_id": format!("l-{i}"), "author": format!("@fan{i}"),
            "text": "where is my parcel", "created_at": t0.to_rfc3339(),
        }))
        .unwrap();
        ingestor.submit(m).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.counts().await.unwrap().unprocessed > 0 {
        assert!(Instant::now() < deadline, "the pipelines did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both processes placed messages: the work was shared.
    let shares: Vec<usize> = processed.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert!(shares.iter().all(|&n| n > 0), "{shares:?}");
    // Let the listener take in the last processed ids, then close the bucket.
    tokio::time::sleep(Duration::from_secs(3)).await;
    clock.set(t0.plus_millis(10 * 60_000));
    let deadline = Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let alerts = store
            .list_alerts(&Page {
                before: None,
                limit: 100,
            })
            .await
            .unwrap();
        if let Some(a) = alerts
            .into_iter()
            .find(|a| a.rule_id.as_deref() == Some("x-volume"))
        {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "no rule alert: the series was judged in parts"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(alert.volume, 200, "{alert:?}");
}
