use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::{Payload, ReplyKind};
use crate::test_support::{self as ts, alert, fixture, only_request};

const KEY: &str = "R0UT1NGKEY0000000000000000000000";

fn sender(base: &str) -> PagerDuty {
    let config = PagerDutyConfig {
        base_url: base.into(),
        client: "Social Customer Care Hub".into(),
        client_url: Some("https://social-hub.example.com/incidents/123".into()),
        ..PagerDutyConfig::new(KEY)
    };
    PagerDuty::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

/// The sample with our test routing key in place of the placeholder.
fn sample(name: &str) -> serde_json::Value {
    let mut v = fixture(name);
    v["routing_key"] = KEY.into();
    v
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_mention_spike_triggers_an_incident_shaped_like_the_sample() {
    let mut expected = sample("pagerduty_events_v2_trigger.json");
    // We attach no images; everything else is the sample, field for field.
    if let Some(event) = expected.as_object_mut() {
        event.remove("images");
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(
            ResponseTemplate::new(202)
                .set_body_json(fixture("pagerduty_events_v2_response_202.json")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;

    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 202,
            remote_id: Some("mention-spike:brand=examplebrand:window=2025-01-01T12:00Z".into()),
        }
    );
    let sent = ts::body_json(&only_request(&server).await);
    ts::assert_same_shape(&expected, &sent, "event");
}

#[tokio::test]
async fn acknowledging_and_resolving_send_the_bare_follow_ups() {
    for (action, name) in [
        (Action::Acknowledge, "pagerduty_events_v2_acknowledge.json"),
        (Action::Resolve, "pagerduty_events_v2_resolve.json"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .and(body_json(sample(name)))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({
                "status": "success", "message": "Event processed",
                "dedup_key": "mention-spike:brand=examplebrand:window=2025-01-01T12:00Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let outcome = sender(&server.uri()).send(&alert(action)).await;
        assert_eq!(outcome.code(), "delivered", "{action:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_long_summary_is_cut_to_1024_bytes_at_a_character_boundary() {
    let mut n = ts::notification(Action::Trigger);
    n.summary = "ü".repeat(700);
    let event = sender("http://127.0.0.1:9").event(&n);
    let summary = event["payload"]["summary"].as_str().unwrap_or_default();
    assert_eq!(summary.len(), 1024);
    assert_eq!(summary.chars().count(), 512);
}

#[tokio::test]
async fn throttling_is_retried_when_pagerduty_says() {
    let server = answering(ResponseTemplate::new(429).insert_header("retry-after", "30")).await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    match outcome {
        Outcome::Retry { status, after, .. } => {
            assert_eq!(status, Some(429));
            assert_eq!(after, Some(Duration::from_secs(30)));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn an_outage_at_pagerduty_is_retried() {
    for status in [500, 502, 503] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "retry", "{status}");
        assert_eq!(outcome.status(), Some(status));
    }
}

#[tokio::test]
async fn an_invalid_event_is_never_retried() {
    let server = answering(ResponseTemplate::new(400).set_body_json(json!({
        "status": "invalid event", "message": "Event object is invalid",
        "errors": ["'payload.severity' is invalid"]
    })))
    .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    match outcome {
        Outcome::Permanent { status, error } => {
            assert_eq!(status, Some(400));
            assert!(error.contains("payload.severity"), "{error}");
        }
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rejected_key_pauses_the_target() {
    for status in [401, 403] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "reauthorize", "{status}");
    }
}

#[tokio::test]
async fn an_unreachable_pagerduty_is_retried() {
    let outcome = sender(&ts::refused_base())
        .send(&alert(Action::Trigger))
        .await;
    match outcome {
        Outcome::Retry { status, error, .. } => {
            assert_eq!(status, None);
            assert!(error.contains("connect"), "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_pagerduty_times_out_into_a_retry() {
    let server = answering(ResponseTemplate::new(202).set_delay(Duration::from_millis(1500))).await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    match outcome {
        Outcome::Retry { status, error, .. } => {
            assert_eq!(status, None);
            assert!(error.contains("timed out"), "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn a_customer_reply_is_not_a_pagerduty_event() {
    let server = answering(ResponseTemplate::new(202)).await;
    let reply = ts::reply("facebook", ReplyKind::Dm, "page-1");
    let outcome = sender(&server.uri())
        .send(&ts::item(Payload::Reply(reply)))
        .await;
    assert_eq!(outcome.code(), "permanent");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn an_empty_routing_key_is_refused_at_start_up() {
    let err = PagerDuty::new(PagerDutyConfig::new(" "), ts::http()).err();
    assert_eq!(err.map(|e| e.code()), Some("outbound_missing_setting"));
}
