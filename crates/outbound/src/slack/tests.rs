use std::time::Duration;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::{Link, ReplyKind};
use crate::test_support::{self as ts, alert, fixture, only_request};

const HOOK_PATH: &str = "/services/T0000/B0000/s3cr3tpath";

fn sender(base: &str) -> Slack {
    let config = SlackConfig {
        webhook_url: Secret::new(format!("{base}{HOOK_PATH}")),
    };
    Slack::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_mention_spike_is_posted_as_blocks_shaped_like_the_sample() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;

    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;

    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: None
        }
    );
    let sent = ts::body_json(&only_request(&server).await);
    ts::assert_same_shape(
        &fixture("slack_incoming_webhook_message.json"),
        &sent,
        "message",
    );
    let blocks = sent["blocks"].as_array().cloned().unwrap_or_default();
    let types: Vec<_> = blocks.iter().map(|b| b["type"].as_str()).collect();
    assert_eq!(types, [Some("header"), Some("section"), Some("context")]);
    assert!(
        sent["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with(":rotating_light: Triggered: Mention volume spike")
    );
    let fields = blocks[1]["fields"].as_array().cloned().unwrap_or_default();
    assert_eq!(fields[0]["text"], "*Severity*\ncritical");
    assert_eq!(fields.len(), 5);
    let context = blocks[2]["elements"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        context.starts_with("<https://social-hub.example.com/incidents/123|Open incident in hub>"),
        "{context}"
    );
}

#[test]
fn markup_in_a_summary_is_shown_not_interpreted() {
    let mut n = ts::notification(Action::Resolve);
    n.summary = "Spike <!channel> & more".into();
    n.links = vec![Link {
        href: "https://hub.example/i/1".into(),
        text: "a|b".into(),
    }];
    let message = Slack::message(&n);
    assert_eq!(
        message["text"],
        ":white_check_mark: Resolved: Spike &lt;!channel&gt; &amp; more"
    );
    assert_eq!(
        message["blocks"][0]["text"]["text"],
        "Resolved: Spike <!channel> & more"
    );
    let context = message["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        context.starts_with("<https://hub.example/i/1|a¦b>"),
        "{context}"
    );
}

#[test]
fn the_header_stays_within_slacks_limit() {
    let mut n = ts::notification(Action::Trigger);
    n.summary = "ä".repeat(400);
    let message = Slack::message(&n);
    let header = message["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(header.chars().count(), HEADER_MAX);
    assert!(header.ends_with('…'));
}

#[tokio::test]
async fn a_rate_limited_webhook_is_retried_after_slacks_wait() {
    let server = answering(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "12")
            .set_body_string("rate_limited"),
    )
    .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            status: Some(429),
            after: Some(Duration::from_secs(12)),
            error: "slack answered 429: rate_limited".into(),
        }
    );
}

#[tokio::test]
async fn a_slack_outage_is_retried() {
    for status in [500, 503] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "retry", "{status}");
    }
}

#[tokio::test]
async fn a_message_slack_cannot_post_is_dropped() {
    for (status, code) in [
        (400, "invalid_payload"),
        (400, "no_text"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (403, "action_prohibited"),
    ] {
        let server = answering(ResponseTemplate::new(status).set_body_string(code)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        let expected = if status == 410 {
            "reauthorize"
        } else {
            "permanent"
        };
        assert_eq!(outcome.code(), expected, "{status} {code}");
        assert_eq!(outcome.status(), Some(status));
    }
}

#[tokio::test]
async fn a_revoked_webhook_pauses_the_target() {
    for (status, code) in [
        (403, "invalid_token"),
        (404, "no_service"),
        (410, "no_service"),
        (400, "token_revoked"),
        (410, ""),
    ] {
        let server = answering(ResponseTemplate::new(status).set_body_string(code)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "reauthorize", "{status} {code}");
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_slack_is_retried_and_the_secret_path_stays_out_of_the_error() {
    let outcome = sender(&ts::refused_base())
        .send(&alert(Action::Trigger))
        .await;
    assert_eq!(outcome.code(), "retry");
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(slow.code(), "retry");
    for o in [outcome, slow] {
        assert!(!format!("{o:?}").contains("s3cr3tpath"), "{o:?}");
    }
}

#[tokio::test]
async fn a_customer_reply_is_not_a_slack_message() {
    let reply = ts::reply("x", ReplyKind::Dm, "1");
    let outcome = sender("http://127.0.0.1:9")
        .send(&ts::item(Payload::Reply(reply)))
        .await;
    assert_eq!(outcome.code(), "permanent");
}

#[test]
fn a_malformed_webhook_url_is_refused_without_echoing_it() {
    let config = SlackConfig {
        webhook_url: Secret::new("hooks.slack.com/services/T/B/s3cr3t"),
    };
    let err = Slack::new(config, ts::http()).err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert_eq!(err.map(|e| e.code()), Some("outbound_invalid_url"));
    assert!(!text.contains("s3cr3t"), "{text}");
}
