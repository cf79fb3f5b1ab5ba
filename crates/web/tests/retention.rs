//! Retention over HTTP (G4): the policies in force and their schedule are shown, a run on
//! demand erases the content of messages older than the policy allows — except those of a
//! customer under legal hold — and is recorded in the audit trail, which the latest-runs list
//! reads back. Only `privacy.manage` may see or run it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{KEY, issue_key, spawn_app, spawn_app_state};
use reqwest::{Method, StatusCode};
use sb_domain::{MessageId, NewMessage, Timestamp};
use serde_json::json;
use std::time::Duration;
use switchboard_web::WebhookConfig;
use switchboard_web::privacy::{RetentionPolicy, RetentionSettings};

const AGENT: &str = "sb_test_agent_ana";
const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_demand_erases_old_content_spares_held_customers_and_is_listed() {
    let app = spawn_app_state(
        WebhookConfig::default(),
        sb_outbound::OutboundConfig::default(),
        "",
        |s| {
            s.with_retention(RetentionSettings {
                policies: vec![RetentionPolicy {
                    class: "standard".into(),
                    days: 30,
                    region: None,
                }],
                every_hours: 24,
            })
        },
    )
    .await;
    issue_key(&app.store, AGENT, "agent", None).await;

    // Two messages received 40 days ago (one from a customer who will be on legal hold) and
    // one received yesterday.
    let now = now_ms();
    let record = |handle: &str, text: &str, received: i64| sb_store::MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(received),
        message: NewMessage::parse(json!({
            "source": "x", "external_id": format!("ret-{handle}"), "author": handle, "text": text,
        }))
        .unwrap(),
    };
    let records = vec![
        record("@old", "my parcel never came", now - 40 * DAY),
        record("@held", "see you in court over the parcel", now - 40 * DAY),
        record("@recent", "parcel late again", now - DAY),
    ];
    let ids: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
    app.store.append_messages(&records).await.unwrap();
    // Stored without an announcement: the pipeline's sweep takes them.
    let mut customers = Vec::new();
    for id in &ids {
        let mut m = serde_json::Value::Null;
        for _ in 0..300 {
            m = app.get(&format!("/api/v1/messages/{id}")).await.1;
            if m["stage"] == "processed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(m["stage"], "processed", "{m}");
        customers.push(m["customer_id"].as_str().unwrap().to_owned());
    }
    let (s, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{}/legal-hold", customers[1]),
            KEY,
            Some(json!({"reason": "litigation"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let (s, state) = app.call(Method::GET, "/api/v1/retention", KEY, None).await;
    assert_eq!(s, StatusCode::OK, "{state}");
    assert_eq!(
        state["policies"],
        json!([{"class": "standard", "days": 30, "region": null}])
    );
    assert_eq!(state["every_hours"], 24);
    assert_eq!(state["runs"], json!([]));

    let (s, run) = app
        .call(Method::POST, "/api/v1/retention/run", KEY, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["erased"], json!([1]));
    let text = |m: &serde_json::Value| m["text"].as_str().unwrap_or_default().to_owned();
    let old = app.get(&format!("/api/v1/messages/{}", ids[0])).await.1;
    assert!(!text(&old).contains("parcel"), "erased: {old}");
    let held = app.get(&format!("/api/v1/messages/{}", ids[1])).await.1;
    assert_eq!(text(&held), "see you in court over the parcel");
    let recent = app.get(&format!("/api/v1/messages/{}", ids[2])).await.1;
    assert_eq!(text(&recent), "parcel late again");

    let (_, state) = app.call(Method::GET, "/api/v1/retention", KEY, None).await;
    assert_eq!(state["runs"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["runs"][0]["policies"][0]["erased"], 1);
    assert_eq!(state["runs"][0]["actor"], "key:config-admin");

    // Agents neither see nor run retention.
    for (m, p) in [
        (Method::GET, "/api/v1/retention"),
        (Method::POST, "/api/v1/retention/run"),
    ] {
        let (s, _) = app.call(m, p, AGENT, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn running_without_policies_is_refused() {
    let app = spawn_app().await;
    let (s, p) = app
        .call(Method::POST, "/api/v1/retention/run", KEY, None)
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("retention_not_configured"))
    );
    let (_, state) = app.call(Method::GET, "/api/v1/retention", KEY, None).await;
    assert_eq!(state["policies"], json!([]));
}
