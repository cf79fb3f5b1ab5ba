use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{basic_auth, bearer_token, body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::ReplyKind;
use crate::test_support::{self as ts, alert};

const TABLE: &str = "/api/now/table/incident";
const KEY: &str = "mention-spike:brand=examplebrand:window=2025-01-01T12:00Z";
const SYS_ID: &str = "9d385017c611228701d22104cc95c371";

fn config(base: &str) -> ServiceNowConfig {
    ServiceNowConfig {
        base_url: base.into(),
        username: Some("switchboard".into()),
        password: Some(Secret::new("pa55")),
        token: None,
        assignment_group: Some("Social Care".into()),
        caller_id: None,
        close_code: Some("Solved (Permanently)".into()),
    }
}

fn sender(base: &str) -> ServiceNow {
    ServiceNow::new(config(base), ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn with_token(base: &str) -> ServiceNow {
    let config = ServiceNowConfig {
        token: Some(Secret::new("snow-oauth-token")),
        username: None,
        password: None,
        ..config(base)
    };
    ServiceNow::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

/// The lookup answers with the open incidents it knows.
async fn lookup(server: &MockServer, open: &[&str]) {
    let result: Vec<_> = open.iter().map(|id| json!({"sys_id": id})).collect();
    Mock::given(method("GET"))
        .and(path(TABLE))
        .and(query_param(
            "sysparm_query",
            format!("correlation_id={KEY}^stateNOT IN6,7,8^ORDERBYDESCsys_created_on").as_str(),
        ))
        .and(query_param("sysparm_fields", "sys_id"))
        .and(query_param("sysparm_limit", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": result})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_new_spike_opens_a_critical_incident_correlated_by_the_dedup_key() {
    let server = MockServer::start().await;
    lookup(&server, &[]).await;
    Mock::given(method("POST"))
        .and(path(TABLE))
        .and(basic_auth("switchboard", "pa55"))
        .and(header("accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"result": {"sys_id": SYS_ID, "number": "INC0010001"}})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;

    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            remote_id: Some(SYS_ID.into())
        }
    );
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 2);
    let incident = ts::body_json(&requests[1]);
    assert_eq!(
        incident["short_description"],
        ts::notification(Action::Trigger).summary
    );
    assert_eq!(incident["urgency"], "1");
    assert_eq!(incident["impact"], "1");
    assert_eq!(incident["state"], "1");
    assert_eq!(incident["correlation_id"], KEY);
    assert_eq!(incident["correlation_display"], "Switchboard");
    assert_eq!(incident["assignment_group"], "Social Care");
    assert!(incident.get("caller_id").is_none());
    let description = incident["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("Component: mention-stream"),
        "{description}"
    );
    assert!(
        description.contains("Open incident in hub: https://social-hub.example.com/incidents/123")
    );
    assert!(description.contains("\"observed\": 412"));
}

#[tokio::test]
async fn a_retried_trigger_finds_its_incident_instead_of_opening_a_second() {
    let server = MockServer::start().await;
    lookup(&server, &[SYS_ID]).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some(SYS_ID.into())
        }
    );
}

#[tokio::test]
async fn acknowledging_moves_the_incident_to_in_progress_with_a_bearer_token() {
    let server = MockServer::start().await;
    lookup(&server, &[SYS_ID]).await;
    Mock::given(method("PATCH"))
        .and(path(format!("{TABLE}/{SYS_ID}")))
        .and(bearer_token("snow-oauth-token"))
        .and(body_json(json!({
            "state": "2",
            "work_notes": format!("Acknowledged in Switchboard: {}", ts::notification(Action::Acknowledge).summary),
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": {"sys_id": SYS_ID}})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = with_token(&server.uri())
        .send(&alert(Action::Acknowledge))
        .await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some(SYS_ID.into())
        }
    );
}

#[tokio::test]
async fn resolving_sets_state_six_with_close_notes_and_the_configured_close_code() {
    let server = MockServer::start().await;
    lookup(&server, &[SYS_ID]).await;
    Mock::given(method("PATCH"))
        .and(path(format!("{TABLE}/{SYS_ID}")))
        .and(body_json(json!({
            "state": "6",
            "close_code": "Solved (Permanently)",
            "close_notes": format!("Resolved in Switchboard: {}", ts::notification(Action::Resolve).summary),
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": {"sys_id": SYS_ID}})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Resolve)).await;
    assert_eq!(outcome.code(), "delivered", "{outcome:?}");
}

#[tokio::test]
async fn resolving_twice_is_harmless_and_acknowledging_nothing_is_refused() {
    let server = MockServer::start().await;
    lookup(&server, &[]).await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let resolved = sender(&server.uri()).send(&alert(Action::Resolve)).await;
    assert_eq!(
        resolved,
        Outcome::Delivered {
            status: 200,
            remote_id: None
        }
    );
    let acknowledged = sender(&server.uri())
        .send(&alert(Action::Acknowledge))
        .await;
    assert_eq!(acknowledged.code(), "permanent");
}

async fn creation_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    lookup(&server, &[]).await;
    Mock::given(method("POST"))
        .and(path(TABLE))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_throttled_or_failing_instance_is_retried() {
    // Throttled at the lookup.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    match outcome {
        Outcome::Retry { status, after, .. } => {
            assert_eq!(status, Some(429));
            assert_eq!(after, Some(Duration::from_secs(60)));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    // Failing at the creation.
    for status in [500, 503] {
        let server = creation_answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "retry", "{status}");
    }
}

#[tokio::test]
async fn an_incident_the_instance_refuses_is_dropped() {
    let server = creation_answering(ResponseTemplate::new(400).set_body_json(
        json!({"error": {"message": "Invalid value for urgency"}, "status": "failure"}),
    ))
    .await;
    let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    match outcome {
        Outcome::Permanent { status, error } => {
            assert_eq!(status, Some(400));
            assert!(error.contains("Invalid value for urgency"), "{error}");
        }
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn rejected_credentials_pause_the_target() {
    for status in [401, 403] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let outcome = sender(&server.uri()).send(&alert(Action::Trigger)).await;
        assert_eq!(outcome.code(), "reauthorize", "{status}");
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_instance_is_retried() {
    let refused = sender(&ts::refused_base())
        .send(&alert(Action::Trigger))
        .await;
    assert_eq!(refused.code(), "retry");
    let server =
        creation_answering(ResponseTemplate::new(201).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&alert(Action::Trigger)).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn a_customer_reply_is_not_an_incident() {
    let reply = ts::reply("facebook", ReplyKind::CommentReply, "page-1");
    let outcome = sender("http://127.0.0.1:9")
        .send(&ts::item(Payload::Reply(reply)))
        .await;
    assert_eq!(outcome.code(), "permanent");
}

#[test]
fn a_long_summary_is_clipped_for_the_short_description_but_kept_in_the_description() {
    let mut n = ts::notification(Action::Trigger);
    n.summary = "ö".repeat(400);
    let incident = sender("http://127.0.0.1:9").incident(&n);
    let short = incident["short_description"].as_str().unwrap_or_default();
    assert_eq!(short.chars().count(), 160);
    assert!(
        incident["description"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&n.summary)
    );
}

#[test]
fn long_or_caret_holding_keys_are_correlated_by_digest() {
    assert_eq!(correlation_id(KEY), KEY);
    let long = "k".repeat(101);
    let digest = correlation_id(&long);
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(correlation_id(&long), digest);
    assert!(correlation_id("a^b").starts_with("sha256:"));
}

#[test]
fn severity_sets_urgency_and_impact() {
    let s = sender("http://127.0.0.1:9");
    let mut n = ts::notification(Action::Trigger);
    let mut seen = Vec::new();
    for severity in [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Info,
    ] {
        n.severity = severity;
        let incident = s.incident(&n);
        seen.push((incident["urgency"].clone(), incident["impact"].clone()));
    }
    assert_eq!(
        seen,
        [("1", "1"), ("1", "2"), ("2", "2"), ("3", "3")].map(|(u, i)| (json!(u), json!(i)))
    );
}

#[test]
fn credentials_are_required_and_never_printed() {
    let none = ServiceNowConfig {
        username: None,
        password: None,
        ..config("https://acme.service-now.com")
    };
    let err = ServiceNow::new(none, ts::http()).err();
    assert_eq!(err.map(|e| e.code()), Some("outbound_missing_setting"));
    let printed = format!("{:?}", config("https://acme.service-now.com"));
    assert!(!printed.contains("pa55"), "{printed}");
}
