//! Garbage sent to the routes for incidents, the outbox, connectors and the status feed: each
//! answer is a problem document with a stable code, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn call(app: &App, method: &str, path: &str, body: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.url))
        .bearer_auth(KEY);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{method} {path}"
    );
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn bad_requests_get_problems_and_store_nothing() {
    let app = spawn_app().await;
    let cases: Vec<(&str, &str, Option<&str>, StatusCode, &str)> = vec![
        (
            "GET",
            "/api/v1/outbox?status=lost",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/outbox?limit=0",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/outbox?limit=abc",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/outbox?cursor=nonsense",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/outbox/out_nope",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/connectors/carrier-pigeon/resume",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some("{not json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some("[1]"),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some("{}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some(r#"{"title": "x", "severity": "apocalyptic"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some(r#"{"alert_id": "alt_01JD0000000000000000000000"}"#),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/incidents",
            Some(r#"{"alert_id": "garbage"}"#),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/incidents?limit=9999",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/incidents?limit=many",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/incidents?cursor=zzz",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/incidents/inc_nope",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/status?kind=weather",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "POST",
            "/api/v1/status",
            Some("nope"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/status",
            Some(r#"{"facts": []}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "POST",
            "/api/v1/status",
            Some(r#"{"facts": "all"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (s, v) = call(&app, method, path, body).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {v}"
        );
    }
    let (_, list) = app.get("/api/v1/incidents").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, facts) = app.get("/api/v1/status").await;
    assert_eq!(facts["items"].as_array().unwrap().len(), 0);

    // An incident refuses what its lifecycle does not allow, and changes nothing.
    let r = app
        .http
        .post(format!("{}/api/v1/incidents", app.url))
        .bearer_auth(KEY)
        .json(&json!({"title": "Checkout errors"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let inc: Value = r.json().await.unwrap();
    let id = inc["id"].as_str().unwrap();
    let path = format!("/api/v1/incidents/{id}");
    for (body, status, code) in [
        (
            r#"{"status": "sideways"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            r#"{"case_id": "case_01JD0000000000000000000000"}"#,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (r#"{"owner": 7}"#, StatusCode::BAD_REQUEST, "invalid_body"),
    ] {
        let (s, v) = call(&app, "POST", &path, Some(body)).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let (s, v) = call(&app, "GET", &format!("{path}/debrief"), None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("incident_not_resolved"))
    );
    let (s, v) = call(
        &app,
        "PUT",
        &format!("{path}/debrief"),
        Some(r#"{"summary": 1}"#),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );
    let (_, now) = app.get(&path).await;
    assert_eq!(now["status"], "open");
    assert_eq!(
        now["timeline"].as_array().unwrap().len(),
        1,
        "nothing was added: {now}"
    );
    assert!(now["case_ids"].as_array().unwrap().is_empty());
}
