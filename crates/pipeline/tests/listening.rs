//! Listening in the running pipeline: a bucket that has ended is judged on every message
//! received for it, even those still on their way through the pipeline; and with several
//! pipeline processes sharing one database and JetStream (`SWITCHBOARD_TEST_NATS_URL`;
//! `.ci/run` provides it), the work is split between the processes, yet one of them — the
//! holder of the listening lease — judges each series on the whole stream, so a rule on a
//! series' volume sees every message, not a share of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_alerts::rules::RuleSet;
use sb_domain::{Alert, Clock, ManualClock, MessageId, NewMessage, Timestamp};
use sb_store::{MessageRecord, Page, SqliteStore, Store};
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

const BURST_RULE: &str = r#"
[[rules]]
id = "x-burst"
name = "A burst on X"
series = "platform:x"
severity = "warning"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#;

/// Stores `n` posts on X written at `created_at` and received at `received_at`, without
/// running the pipeline.
async fn received(
    store: &dyn Store,
    n: usize,
    created_at: Timestamp,
    received_at: Timestamp,
) -> Vec<MessageId> {
    let mut records = Vec::new();
    for i in 0..n {
        let mut m = NewMessage::parse(json!({
            "source": "x", "external_id": format!("late-{i}"), "author": format!("@late{i}"),
            "text": "Parcel has not moved in days and tracking is down",
        }))
        .unwrap();
        m.created_at = Some(created_at);
        records.push(MessageRecord {
            id: MessageId::generate(),
            received_at,
            message: m,
        });
    }
    store.append_messages(&records).await.unwrap();
    records.into_iter().map(|r| r.id).collect()
}

async fn rule_alerts(store: &dyn Store) -> Vec<Alert> {
    let page = Page {
        before: None,
        limit: 100,
    };
    let alerts = store.list_alerts(&page).await.unwrap();
    alerts
        .into_iter()
        .filter(|a| a.rule_id.as_deref() == Some("x-burst"))
        .collect()
}

/// A fresh SQLite store, and a clock in the middle of a bucket (10:01:30).
async fn sqlite_at_ten_past() -> (tempfile::TempDir, Arc<dyn Store>, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let t0 = Timestamp::parse_rfc3339("2026-12-02T10:01:30Z").unwrap();
    (dir, Arc::new(store), Arc::new(ManualClock::at(t0)))
}

/// Fifteen posts from a bucket that ended minutes ago arrive at once (a platform delivering
/// late). While three of them are still in the pipeline, the sweep does not judge their
/// bucket on the twelve it has heard; once all are processed, it judges it on fifteen.
#[tokio::test]
async fn an_ended_bucket_waits_for_the_messages_received_for_it() {
    let (_dir, store, clock) = sqlite_at_ten_past().await;
    let t0 = clock.now();
    let pipeline = Pipeline::new(
        store.clone(),
        clock.clone(),
        PipelineEvents::default(),
        PipelineConfig::default(),
    )
    .with_rules(RuleSet::from_toml(BURST_RULE).unwrap(), Vec::new());
    let ids = received(&*store, 15, t0.plus_millis(-10 * 60_000), t0).await;

    assert_eq!(pipeline.process(&ids[..12]).await.unwrap(), 12);
    clock.set(t0.plus_millis(2_000));
    assert_eq!(pipeline.close_ended_buckets(clock.now()).await, 0);
    assert!(rule_alerts(&*store).await.is_empty());

    assert_eq!(pipeline.process(&ids[12..]).await.unwrap(), 3);
    assert!(pipeline.close_ended_buckets(clock.now()).await > 0);
    let alerts = rule_alerts(&*store).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].volume, 15, "{alerts:?}");
}

/// A message that cannot be processed (it keeps failing) holds its bucket for
/// `listening_hold` after it arrived, not for ever: then the bucket is judged on what was heard.
#[tokio::test]
async fn a_message_that_never_finishes_holds_its_bucket_only_so_long() {
    let (_dir, store, clock) = sqlite_at_ten_past().await;
    let t0 = clock.now();
    let cfg = PipelineConfig {
        listening_hold: Duration::from_secs(60),
        ..PipelineConfig::default()
    };
    let pipeline = Pipeline::new(store.clone(), clock.clone(), PipelineEvents::default(), cfg)
        .with_rules(RuleSet::from_toml(BURST_RULE).unwrap(), Vec::new());
    let ids = received(&*store, 14, t0.plus_millis(-10 * 60_000), t0).await;
    assert_eq!(pipeline.process(&ids[..13]).await.unwrap(), 13);

    clock.set(t0.plus_millis(59_000));
    assert_eq!(pipeline.close_ended_buckets(clock.now()).await, 0);
    assert!(rule_alerts(&*store).await.is_empty());
    clock.set(t0.plus_millis(61_000));
    assert!(pipeline.close_ended_buckets(clock.now()).await > 0);
    let alerts = rule_alerts(&*store).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].volume, 13, "{alerts:?}");
}
