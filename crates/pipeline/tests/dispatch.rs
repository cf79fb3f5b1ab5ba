//! The outbox dispatcher against a real store and a fake PagerDuty: delivered once, retried
//! after a failure, kept as a dead letter when refused, and held — not lost — while the
//! target's credentials are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{Clock, ManualClock, NewOutboxItem, OutboxStatus, Timestamp};
use sb_outbound::{OutboundConfig, Senders, pagerduty::PagerDutyConfig};
use sb_store::{Page, SqliteStore, Store};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchboard_pipeline::{DispatchConfig, Dispatcher, PipelineEvent, PipelineEvents};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn trigger(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        target: "pagerduty".into(),
        dedup_key: format!("alert:{key}"),
        payload: json!({
            "type": "notification", "action": "trigger", "dedup_key": key,
            "summary": "Volume spike on watch:products:X200", "source": "switchboard",
            "severity": "critical",
        }),
        subject: Some("alt_1".into()),
    }
}

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    dispatcher: Dispatcher,
    events: PipelineEvents,
    _dir: tempfile::TempDir,
}

async fn rig(pagerduty: &MockServer) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let clock = Arc::new(ManualClock::at(Timestamp(1_800_000_000_000)));
    let mut pd = PagerDutyConfig::new("0123456789abcdef0123456789abcdef");
    pd.base_url = pagerduty.uri();
    let config = OutboundConfig {
        pagerduty: Some(pd),
        ..OutboundConfig::default()
    };
    let senders = Arc::new(Senders::with_clock(&config, clock.clone()).unwrap());
    let events = PipelineEvents::default();
    let dispatcher = Dispatcher::new(
        store.clone(),
        senders,
        clock.clone(),
        events.clone(),
        DispatchConfig::default(),
    );
    Rig {
        store,
        clock,
        dispatcher,
        events,
        _dir: dir,
    }
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202)
        .set_body_json(json!({"status": "success", "message": "Event processed", "dedup_key": "k"}))
}

#[tokio::test]
async fn a_failure_is_retried_after_a_backoff_and_delivered_once() {
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&pd)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(accepted())
        .expect(1)
        .mount(&pd)
        .await;
    let r = rig(&pd).await;
    let (id, _) = r
        .store
        .enqueue(&[trigger("k1")], r.clock.now())
        .await
        .unwrap()
        .remove(0);
    // The same alert enqueued again (a redelivered event) is still one item.
    r.store
        .enqueue(&[trigger("k1")], r.clock.now())
        .await
        .unwrap();

    assert_eq!(r.dispatcher.round().await.unwrap(), 1);
    let item = r.store.outbox_item(&id).await.unwrap().unwrap();
    assert_eq!(item.status, OutboxStatus::Pending);
    // The default first backoff is 1 s, jittered between 0.5 s and 1 s.
    let wait = item.next_attempt_at.millis() - r.clock.now().millis();
    assert!(
        (500..=1_000).contains(&wait),
        "retried after half to all of the first backoff, not at once: {wait} ms"
    );
    assert_eq!(r.dispatcher.round().await.unwrap(), 0, "not due yet");

    r.clock.advance_millis(2_000);
    assert_eq!(r.dispatcher.round().await.unwrap(), 1);
    let item = r.store.outbox_item(&id).await.unwrap().unwrap();
    assert_eq!(item.status, OutboxStatus::Delivered);
    r.clock.advance_millis(3_600_000);
    assert_eq!(
        r.dispatcher.round().await.unwrap(),
        0,
        "delivered items are never sent again"
    );
    let log: Vec<_> = r
        .store
        .delivery_log(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.attempt, a.outcome, a.status_code))
        .collect();
    assert_eq!(
        log,
        vec![
            (1, "retry".into(), Some(503)),
            (2, "delivered".into(), Some(202))
        ]
    );
}

#[tokio::test]
async fn a_refused_event_is_a_dead_letter_and_never_retried() {
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"status": "invalid event", "errors": ["Event object is invalid"]}),
        ))
        .expect(1)
        .mount(&pd)
        .await;
    let r = rig(&pd).await;
    let (id, _) = r
        .store
        .enqueue(&[trigger("k2")], r.clock.now())
        .await
        .unwrap()
        .remove(0);
    r.dispatcher.round().await.unwrap();
    r.clock.advance_millis(86_400_000);
    assert_eq!(r.dispatcher.round().await.unwrap(), 0);
    let dead = r
        .store
        .list_outbox(
            Some(OutboxStatus::Dead),
            &Page {
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    assert!(dead[0].last_error.is_some());
}

#[tokio::test]
async fn refused_credentials_pause_the_target_and_nothing_queued_is_lost() {
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .expect(1)
        .mount(&pd)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(accepted())
        .expect(3)
        .mount(&pd)
        .await;
    let r = rig(&pd).await;
    let mut live = r.events.subscribe();
    let first = r
        .store
        .enqueue(&[trigger("a")], r.clock.now())
        .await
        .unwrap()
        .remove(0)
        .0;
    r.dispatcher.round().await.unwrap();
    let paused = r.store.target_states().await.unwrap();
    assert_eq!(paused[0].status, "reauthorization_required");
    let mut seen = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(200), live.recv()).await {
        seen.push(e);
    }
    assert!(
        seen.iter().any(
            |e| matches!(e, PipelineEvent::ConnectorPaused { target, .. } if target == "pagerduty")
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(
            |e| matches!(e, PipelineEvent::AlertRaised { kind, .. } if kind == "connector_paused")
        ),
        "{seen:?}"
    );
    let alerts = r
        .store
        .list_alerts(&Page {
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(alerts[0].series, "connector:pagerduty");
    assert_eq!(alerts[0].severity.as_deref(), Some("critical"));

    // While paused, new items queue up and nothing is sent.
    r.store
        .enqueue(&[trigger("b"), trigger("c")], r.clock.now())
        .await
        .unwrap();
    r.clock.advance_millis(60_000);
    assert_eq!(r.dispatcher.round().await.unwrap(), 0);

    // The token is replaced and the process restarts: everything waiting is delivered.
    let resumed = Dispatcher::new(
        r.store.clone(),
        Arc::new(
            Senders::with_clock(
                &OutboundConfig {
                    pagerduty: Some({
                        let mut c = PagerDutyConfig::new("fedcba9876543210fedcba9876543210");
                        c.base_url = pd.uri();
                        c
                    }),
                    ..OutboundConfig::default()
                },
                r.clock.clone(),
            )
            .unwrap(),
        ),
        r.clock.clone(),
        r.events.clone(),
        DispatchConfig {
            idle: Duration::from_millis(10),
            ..DispatchConfig::default()
        },
    );
    let run = tokio::spawn(resumed.run());
    for _ in 0..200 {
        let pending = r
            .store
            .list_outbox(
                Some(OutboxStatus::Pending),
                &Page {
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run.abort();
    let delivered = r
        .store
        .list_outbox(
            Some(OutboxStatus::Delivered),
            &Page {
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(delivered.len(), 3);
    assert_eq!(
        r.store.outbox_item(&first).await.unwrap().unwrap().attempts,
        2
    );
    assert_eq!(r.store.target_states().await.unwrap()[0].status, "active");
}

#[tokio::test]
async fn an_item_for_an_unconfigured_target_waits() {
    let pd = MockServer::start().await;
    let r = rig(&pd).await;
    let mut item = trigger("s");
    item.target = "slack".into();
    let (id, _) = r
        .store
        .enqueue(&[item], r.clock.now())
        .await
        .unwrap()
        .remove(0);
    r.dispatcher.round().await.unwrap();
    assert_eq!(
        r.store.outbox_item(&id).await.unwrap().unwrap().status,
        OutboxStatus::Pending
    );
    let states = r.store.target_states().await.unwrap();
    assert_eq!(
        (states[0].target.as_str(), states[0].status.as_str()),
        ("slack", "reauthorization_required")
    );
}
