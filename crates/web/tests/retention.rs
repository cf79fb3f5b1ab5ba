//! Retention over HTTP (G4): the policies in force and their schedule are shown, a run on
//! demand erases the content of messages older than the policy allows — except those of a
//! customer under legal hold — and is recorded in the audit trail, which the latest-runs list
//! reads back. Policies saved over the API replace the file's from the next run. Only
//! `privacy.manage` may see, change or run it.
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

/// Without policies in the file a run is refused; policies saved over the API are checked,
/// versioned (a stale save is refused), in force for the next run, and an empty set stops
/// retention again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_saved_over_the_api_are_checked_versioned_and_applied() {
    let app = spawn_app().await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let (s, p) = app
        .call(Method::POST, "/api/v1/retention/run", KEY, None)
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("retention_not_configured"))
    );
    let (_, state) = app.call(Method::GET, "/api/v1/retention", KEY, None).await;
    assert_eq!(state["policies"], json!([]));
    assert_eq!(
        (state["version"].as_i64(), state["source"].as_str()),
        (Some(0), Some("config"))
    );

    let record = sb_store::MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(now_ms() - 40 * DAY),
        message: NewMessage::parse(json!({
            "source": "x", "external_id": "ret-api", "author": "@old", "text": "my parcel never came",
        }))
        .unwrap(),
    };
    let id = record.id.to_string();
    app.store.append_messages(&[record]).await.unwrap();
    for _ in 0..300 {
        if app.get(&format!("/api/v1/messages/{id}")).await.1["stage"] == "processed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let save = |policies: serde_json::Value, base: i64| json!({"policies": policies, "base_version": base});
    for (policies, field) in [
        (
            json!([{"class": "secret", "days": 30}]),
            "policies[0].class",
        ),
        (
            json!([{"class": "standard", "days": 0}]),
            "policies[0].days",
        ),
        (
            json!([{"class": "standard", "days": 30, "region": "EU West"}]),
            "policies[0].region",
        ),
        (
            json!([{"class": "standard", "days": 30}, {"class": "standard", "days": 60}]),
            "policies[1]",
        ),
    ] {
        let (s, p) = app
            .call(
                Method::PUT,
                "/api/v1/retention/policies",
                KEY,
                Some(save(policies, 0)),
            )
            .await;
        assert_eq!(
            (s, p["code"].as_str(), p["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("invalid_field"),
                Some(field)
            ),
            "{p}"
        );
    }
    let thirty = json!([{"class": "standard", "days": 30}]);
    let (s, _) = app
        .call(
            Method::PUT,
            "/api/v1/retention/policies",
            AGENT,
            Some(save(thirty.clone(), 0)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, state) = app.call(Method::GET, "/api/v1/retention", KEY, None).await;
    assert_eq!(state["version"], 0, "refused saves store nothing");

    let (s, saved) = app
        .call(
            Method::PUT,
            "/api/v1/retention/policies",
            KEY,
            Some(save(thirty.clone(), 0)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["version"].as_i64(), saved["source"].as_str()),
        (Some(1), Some("saved"))
    );
    assert_eq!(
        saved["policies"],
        json!([{"class": "standard", "days": 30, "region": null}])
    );
    let (s, p) = app
        .call(
            Method::PUT,
            "/api/v1/retention/policies",
            KEY,
            Some(save(json!([]), 0)),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("retention_changed"))
    );

    let (s, run) = app
        .call(Method::POST, "/api/v1/retention/run", KEY, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["erased"], json!([1]));
    let m = app.get(&format!("/api/v1/messages/{id}")).await.1;
    assert!(
        !m["text"].as_str().unwrap_or_default().contains("parcel"),
        "{m}"
    );

    let (s, _) = app
        .call(
            Method::PUT,
            "/api/v1/retention/policies",
            KEY,
            Some(save(json!([]), 1)),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .call(Method::POST, "/api/v1/retention/run", KEY, None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "an empty set stops retention");
    let (_, audit) = app.get("/api/v1/audit?limit=1000").await;
    assert!(
        audit.to_string().contains("privacy.retention:2"),
        "the saves are audited"
    );
}
