use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::{Action, Notification, ReplyKind};
use crate::test_support::{self as ts, NOW_S, alert, only_request};

const SECRET: &str = "whsec_shared_with_the_receiver";

fn sender(base: &str) -> Webhook {
    let config = WebhookConfig {
        url: format!("{base}/hooks/switchboard"),
        secret: Secret::new(SECRET),
    };
    Webhook::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/switchboard"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_delivery_is_signed_so_the_receiver_can_verify_it_like_we_do() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/switchboard"))
        .and(header("content-type", "application/json"))
        .and(header(
            "x-switchboard-timestamp",
            NOW_S.to_string().as_str(),
        ))
        .and(header("idempotency-key", "01JGQ8Z6J5X0000000000000AB"))
        .and(header("x-switchboard-attempt", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "evt_77"})))
        .expect(1)
        .mount(&server)
        .await;

    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;

    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("evt_77".into())
        }
    );
    let request = only_request(&server).await;
    let signature = ts::header(&request, "x-switchboard-signature").unwrap_or_default();
    assert!(signature.starts_with("sha256="), "{signature}");
    assert_eq!(signature.len(), "sha256=".len() + 64);
    // Our own inbound verifier accepts it: both directions speak one scheme.
    let verified = sb_connectors::verify_generic(
        SECRET,
        &NOW_S.to_string(),
        &request.body,
        signature,
        NOW_S + 5,
    );
    assert_eq!(verified, Ok(NOW_S));
    // The body is the notification itself.
    let sent: Notification =
        serde_json::from_slice(&request.body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sent, ts::notification(Action::Trigger));
    // A tampered body would not verify.
    let mut tampered = request.body.clone();
    tampered.push(b' ');
    assert!(
        sb_connectors::verify_generic(SECRET, &NOW_S.to_string(), &tampered, signature, NOW_S)
            .is_err()
    );
}

#[tokio::test]
async fn a_retry_carries_the_same_idempotency_key_and_its_attempt_number() {
    let server = answering(ResponseTemplate::new(204)).await;
    let mut item = alert(Action::Resolve);
    item.attempt = 3;
    let outcome = sender(&server.uri()).send(&item).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 204,
            remote_id: None
        }
    );
    let request = only_request(&server).await;
    assert_eq!(
        ts::header(&request, "idempotency-key"),
        Some("01JGQ8Z6J5X0000000000000AB")
    );
    assert_eq!(ts::header(&request, "x-switchboard-attempt"), Some("3"));
}

#[tokio::test]
async fn a_busy_receiver_is_retried() {
    let server = answering(ResponseTemplate::new(429).insert_header("retry-after", "5")).await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            status: Some(429),
            after: Some(Duration::from_secs(5)),
            error: "the webhook answered 429: ".into()
        }
    );
    for status in [500, 502, 503, 408] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "retry", "{status}");
    }
}

#[tokio::test]
async fn a_refused_delivery_is_dropped() {
    for status in [400, 404, 413, 422] {
        let server = answering(ResponseTemplate::new(status).set_body_string("nope")).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "permanent", "{status}");
    }
}

#[tokio::test]
async fn a_rejected_signature_or_a_retired_endpoint_pauses_the_target() {
    for status in [401, 403, 410] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "reauthorize", "{status}");
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_receiver_is_retried() {
    let refused = sender(&ts::refused_base())
        .send(&alert(Action::Trigger))
        .await;
    assert_eq!(refused.code(), "retry");
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn a_customer_reply_is_not_sent_to_the_webhook() {
    let reply = ts::reply("instagram", ReplyKind::CommentReply, "ig-1");
    let outcome = sender("http://127.0.0.1:9")
        .send(&ts::item(Payload::Reply(reply)))
        .await;
    assert_eq!(outcome.code(), "permanent");
}

#[test]
fn an_unsigned_webhook_is_refused_at_start_up() {
    let config = WebhookConfig {
        url: "https://hooks.example.com/x".into(),
        secret: Secret::new(""),
    };
    let err = Webhook::new(config, ts::http()).err();
    assert_eq!(err.map(|e| e.code()), Some("outbound_missing_setting"));
}
