//! Alert silences over HTTP (E4): operations silence the X200 rule while the recall is
//! announced, for two hours, with a reason; agents may not; a silence without a matcher, a
//! reason or a sane window is refused with a stable code; ending it early keeps the record
//! and shows who ended it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use sb_domain::Timestamp;
use serde_json::{Value, json};

const OPS: &str = "sb_test_operations_oli";
const AGENT: &str = "sb_test_agent_ana";

async fn call(
    app: &App,
    m: Method,
    route: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(m, format!("{}{route}", app.url))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    if status.is_client_error() {
        let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(ctype, "application/problem+json", "{route}");
    }
    (status, r.json().await.unwrap_or(Value::Null))
}

fn at(offset_s: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Timestamp::from_millis(now + offset_s * 1000).to_rfc3339()
}

#[tokio::test]
async fn operations_silence_a_rule_for_a_while_and_end_it_early() {
    let app = spawn_app().await;
    issue_key(&app.store, OPS, "operations", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let body = json!({"series": "watch:products:X200|region:*", "rule_id": "x200-eu", "minutes": 120,
                      "reason": "recall announced; status page is up"});
    let (s, p) = call(
        &app,
        Method::POST,
        "/api/v1/silences",
        AGENT,
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, sil) = call(&app, Method::POST, "/api/v1/silences", OPS, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{sil}");
    assert_eq!(sil["state"], "active");
    assert!(sil["created_by"].as_str().unwrap().starts_with("key:"));
    let starts = Timestamp::parse_rfc3339(sil["starts_at"].as_str().unwrap()).unwrap();
    let ends = Timestamp::parse_rfc3339(sil["ends_at"].as_str().unwrap()).unwrap();
    assert_eq!(ends.millis() - starts.millis(), 120 * 60_000);

    let (s, later) = call(&app, Method::POST, "/api/v1/silences", OPS, Some(json!({
        "rule_id": "x200-eu", "starts_at": at(3_600), "ends_at": at(7_200), "reason": "maintenance window"
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{later}");
    assert_eq!(later["state"], "scheduled");

    // Agents read them; the current list holds both.
    let (s, list) = call(&app, Method::GET, "/api/v1/silences", AGENT, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // Ended early: it leaves the current list but stays on record.
    let (s, ended) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/silences/{}", sil["id"].as_str().unwrap()),
        OPS,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ended}");
    assert_eq!(ended["state"], "ended");
    assert!(ended["ended_by"].as_str().unwrap().starts_with("key:"));
    let (_, list) = call(&app, Method::GET, "/api/v1/silences", OPS, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], later["id"]);
    let (_, all) = call(&app, Method::GET, "/api/v1/silences?state=all", OPS, None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (s, again) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/silences/{}", sil["id"].as_str().unwrap()),
        OPS,
        None,
    )
    .await;
    assert_eq!(
        (s, &again["ends_at"]),
        (StatusCode::OK, &ended["ends_at"]),
        "ending twice changes nothing"
    );
    let (s, _) = call(&app, Method::DELETE, "/api/v1/silences/sil_nope", OPS, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, p) = call(&app, Method::GET, "/api/v1/silences?state=loud", OPS, None).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
}

#[tokio::test]
async fn bad_silences_are_refused_with_stable_codes_and_nothing_is_stored() {
    let app = spawn_app().await;
    issue_key(&app.store, OPS, "operations", None).await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"minutes": 60, "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_empty_matcher",
        ),
        (
            json!({"series": "watch:[x]", "minutes": 60, "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_invalid_pattern",
        ),
        (
            json!({"rule_id": "r1", "minutes": 60, "reason": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_missing_accountability",
        ),
        (
            json!({"rule_id": "r1", "starts_at": at(600), "ends_at": at(60), "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_invalid_window",
        ),
        (
            json!({"rule_id": "r1", "starts_at": at(-7_200), "ends_at": at(-3_600), "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_invalid_window",
        ),
        (
            json!({"rule_id": "r1", "ends_at": at(31 * 86_400), "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "silence_invalid_window",
        ),
        (
            json!({"rule_id": "r1", "minutes": 0, "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"rule_id": "r1", "minutes": 5, "ends_at": at(60), "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            json!({"rule_id": "r1", "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            json!({"rule_id": "r1", "ends_at": "tomorrow", "reason": "r"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"rule_id": "r1", "minutes": 5}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"rule_id": "r1", "minutes": 5, "reason": "r", "mute": true}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let (s, p) = call(
            &app,
            Method::POST,
            "/api/v1/silences",
            OPS,
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{body}: {p}");
    }
    let (_, all) = call(&app, Method::GET, "/api/v1/silences?state=all", OPS, None).await;
    assert!(all["items"].as_array().unwrap().is_empty(), "{all}");
}
