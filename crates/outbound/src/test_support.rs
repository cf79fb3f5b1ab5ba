//! Scenario builders shared by the senders' tests.

use std::sync::Arc;
use std::time::Duration;

use sb_domain::{ManualClock, Timestamp};
use serde_json::json;
use wiremock::{MockServer, Request};

use crate::http::Http;
use crate::item::{Action, Link, Notification, Outgoing, Payload, Reply, ReplyKind, Severity};

/// 2025-01-01T12:05:00Z, the minute the mention spike in the fixtures was detected.
pub const NOW_S: i64 = 1_735_733_100;

/// A client whose clock stands still at [`NOW_S`] and that gives up after 300 ms, so the
/// timeout scenarios stay quick.
pub fn http() -> Http {
    match Http::new(Duration::from_millis(300)) {
        Ok(h) => h.with_clock(Arc::new(ManualClock::at(Timestamp(NOW_S * 1000)))),
        Err(e) => panic!("client: {e}"),
    }
}

/// The mention spike from the fixtures, as the alerts stage describes it.
pub fn notification(action: Action) -> Notification {
    Notification {
        action,
        dedup_key: "mention-spike:brand=examplebrand:window=2025-01-01T12:00Z".into(),
        summary: "Mention volume spike for @ExampleBrand: 412 mentions/5min vs baseline 38 (negative share 71%)".into(),
        source: "social-hub.example.com".into(),
        severity: Severity::Critical,
        timestamp: Some("2025-01-01T12:05:00.000+0000".into()),
        component: Some("mention-stream".into()),
        group: Some("social-care".into()),
        class: Some("volume_spike".into()),
        custom_details: json!({
            "brand": "examplebrand",
            "window_minutes": 5,
            "observed": 412,
            "baseline": 38,
            "negative_share": 0.71,
            "top_terms": ["outage", "logged out", "down"],
            "sample_message_ids": ["1874448000000000001"]
        }),
        links: vec![Link {
            href: "https://social-hub.example.com/incidents/123".into(),
            text: "Open incident in hub".into(),
        }],
    }
}

pub fn item(payload: Payload) -> Outgoing {
    Outgoing {
        id: "01JGQ8Z6J5X0000000000000AB".into(),
        attempt: 1,
        payload,
    }
}

pub fn alert(action: Action) -> Outgoing {
    item(Payload::Notification(notification(action)))
}

pub fn reply(platform: &str, kind: ReplyKind, account: &str) -> Reply {
    Reply {
        platform: platform.into(),
        kind,
        account: account.into(),
        recipient: None,
        in_reply_to: None,
        text: "Sorry for the trouble! We've sent you a DM to sort out your order.".into(),
        context: None,
        subject: None,
        references: Vec::new(),
    }
}

/// A base URL where nothing listens: the port was bound, then released.
pub fn refused_base() -> String {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => panic!("bind: {e}"),
    }
}

/// The one request the fake target received.
pub async fn only_request(server: &MockServer) -> Request {
    let mut all = server.received_requests().await.unwrap_or_default();
    assert_eq!(all.len(), 1, "expected exactly one request");
    all.remove(0)
}

pub fn body_json(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null)
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every key of `expected` is in `actual` with a value of the same JSON kind, recursively;
/// arrays compare element by element. `actual` may carry more than the sample.
pub fn assert_same_shape(expected: &serde_json::Value, actual: &serde_json::Value, at: &str) {
    use serde_json::Value as V;
    match (expected, actual) {
        (V::Object(e), V::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(found) => assert_same_shape(value, found, &format!("{at}.{key}")),
                    None => panic!("{at}.{key} is missing"),
                }
            }
        }
        (V::Array(e), V::Array(a)) => {
            assert!(
                a.len() >= e.len(),
                "{at} has {} items, the sample {}",
                a.len(),
                e.len()
            );
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_same_shape(ev, av, &format!("{at}[{i}]"));
            }
        }
        (V::String(_), V::String(_)) | (V::Bool(_), V::Bool(_)) | (V::Null, V::Null) => {}
        (V::Number(_), V::Number(_)) => {}
        _ => panic!("{at}: expected {expected}, found {actual}"),
    }
}

pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
