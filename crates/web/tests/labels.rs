//! Agents' corrections of the understanding stage (B3): recorded per message and task beside
//! what the product said, checked, replaced and removed, counted, and exported as the JSONL
//! `switchboard nlp train` reads, without erased messages and with personal data hidden from
//! callers who may not read it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{KEY, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const AGENT: &str = "sb_test_agent_labels";
const ANALYST: &str = "sb_test_analyst_labels";
const EU_AGENT: &str = "sb_test_eu_agent_labels";

async fn ingest(app: &common::App, external_id: &str, author: &str, text: &str) -> Value {
    let (s, _, body) = app
        .post(json!({"source": "x", "external_id": external_id, "author": author, "text": text}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    app.processed(body["id"].as_str().unwrap()).await
}

/// `PUT` the message's label for the task as `key`.
async fn label(
    app: &common::App,
    key: &str,
    id: &str,
    task: &str,
    label: &str,
) -> (StatusCode, Value) {
    let route = format!("/api/v1/messages/{id}/labels/{task}");
    app.call(Method::PUT, &route, key, Some(json!({ "label": label })))
        .await
}

async fn export(app: &common::App, task: &str, key: &str) -> (StatusCode, String, String) {
    app.get_text(&format!("/api/v1/labels/{task}"), key).await
}

/// The task's export read page by page, `limit` corrections a page, following `Next-Cursor`:
/// every line, and how many pages it took.
async fn export_pages(app: &common::App, task: &str, key: &str, limit: u32) -> (Vec<String>, u32) {
    let (mut lines, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut url = format!("{}/api/v1/labels/{task}?limit={limit}", app.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.http.get(url).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        cursor = r
            .headers()
            .get("next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap();
        assert!(body.lines().count() <= limit as usize, "{body}");
        lines.extend(body.lines().map(str::to_owned));
        pages += 1;
        if cursor.is_none() {
            return (lines, pages);
        }
    }
}

/// A task, a body, and the status, code and field it must be refused with.
type Refusal = (
    &'static str,
    Option<Value>,
    StatusCode,
    &'static str,
    Option<&'static str>,
);

async fn counts(app: &common::App) -> Value {
    let (s, v) = app.get("/api/v1/labels").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn corrections_are_kept_beside_the_reading_and_exported_as_training_examples() {
    let app = spawn_app().await;
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;

    let late = ingest(
        &app,
        "lab-1",
        "@ana",
        "Thanks so much, but my parcel is two weeks late, write to ana@example.com",
    )
    .await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    let said = late["enrichment"]["intent"].as_str().unwrap().to_owned();
    let other = ingest(
        &app,
        "lab-2",
        "@ben",
        "How do I change my delivery address?",
    )
    .await;
    let other_id = other["id"].as_str().unwrap().to_owned();

    // An agent corrects the intent: the message keeps the product's reading and shows the
    // correction beside it.
    let path = format!("/api/v1/messages/{late_id}/labels/intent");
    let (s, c) = app
        .call(Method::PUT, &path, AGENT, Some(json!({"label": "praise"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["label"], "praise");
    assert_eq!(c["previous"], said.as_str());
    assert_eq!(c["task"], "intent");
    assert!(c["corrected_by"].as_str().unwrap().starts_with("key:"));
    // A second correction of the same task replaces the first.
    let (s, c) = app
        .call(
            Method::PUT,
            &path,
            AGENT,
            Some(json!({"label": " complaint "})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["label"], "complaint");
    // Each change is in the audit trail, in the customer's history, with before and after.
    let (s, audit) = app.get("/api/v1/audit?limit=1000").await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let changes: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "PUT /api/v1/messages/{id}/labels/{task}")
        .collect();
    assert_eq!(changes.len(), 2, "{audit:#}");
    assert_eq!(changes[1]["detail"]["before"]["label"], "praise");
    assert_eq!(changes[1]["detail"]["after"]["label"], "complaint");
    assert_eq!(changes[1]["customer_id"], late["customer_id"]);
    assert_eq!(changes[1]["subject"], path.as_str());
    let (s, m) = app.get(&format!("/api/v1/messages/{late_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["enrichment"]["intent"], said.as_str());
    let labels = m["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 1, "{m}");
    assert_eq!(labels[0]["label"], "complaint");

    // Sentiment is corrected the same way, against the product's label.
    let (s, c) = label(&app, AGENT, &other_id, "sentiment", "negative").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["previous"], other["enrichment"]["sentiment_label"]);
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/messages/{other_id}/labels/sentiment"),
            AGENT,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // An operator's own task takes any label; the product says nothing for it.
    for (id, topic) in [(&late_id, "delivery"), (&other_id, "account")] {
        let (s, c) = label(&app, AGENT, id, "topic-2027", topic).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["previous"], Value::Null);
    }
    let before = counts(&app).await;
    assert_eq!(
        before,
        json!({"tasks": [
            {"task": "intent", "examples": 1, "labels": {"complaint": 1}},
            {"task": "topic-2027", "examples": 2, "labels": {"account": 1, "delivery": 1}},
        ]})
    );

    // Bad input: a clear problem naming the field, and nothing stored or changed.
    let bad: [Refusal; 7] = [
        (
            "intent",
            Some(json!({"label": "angry"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("label"),
        ),
        (
            "sentiment",
            Some(json!({"label": "Positive!"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("label"),
        ),
        (
            "topic",
            Some(json!({"label": "  "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("label"),
        ),
        (
            "topic",
            Some(json!({"label": "x".repeat(101)})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("label"),
        ),
        (
            "Bad%20Task",
            Some(json!({"label": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("task"),
        ),
        (
            "intent",
            Some(json!({"label": 3})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            None,
        ),
        (
            "intent",
            Some(json!({"label": "other", "extra": true})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
            None,
        ),
    ];
    for (task, body, status, code, field) in bad {
        let (s, p) = app
            .call(
                Method::PUT,
                &format!("/api/v1/messages/{late_id}/labels/{task}"),
                AGENT,
                body,
            )
            .await;
        assert_eq!(s, status, "{task}: {p}");
        assert_eq!(p["code"], code, "{p}");
        if let Some(f) = field {
            assert_eq!(p["field"], f, "{p}");
        }
    }
    let r = app
        .http
        .put(format!("{}{path}", app.url))
        .bearer_auth(AGENT)
        .header("content-type", "application/json")
        .body("{\"label\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    // No such message, and no message id at all, alike.
    for id in ["msg_01JC0000000000000000000000", "not-an-id"] {
        let (s, _) = label(&app, AGENT, id, "intent", "other").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}");
    }
    // Analysts read but do not work cases.
    let (s, _) = app
        .call(Method::PUT, &path, ANALYST, Some(json!({"label": "other"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = export(&app, "Bad%20Task", KEY).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Those the query decoder refuses (not a number) name no field.
    let bad_pages = [
        ("limit=0", Some("limit")),
        ("limit=50001", Some("limit")),
        ("limit=-3", None),
        ("limit=ten", None),
        ("cursor=12", Some("cursor")),
        ("cursor=abc.msg_01JC0000000000000000000000", Some("cursor")),
        ("cursor=-5.msg_01JC0000000000000000000000", Some("cursor")),
        ("cursor=1733480000000.not-an-id", Some("cursor")),
    ];
    for (query, field) in bad_pages {
        let (s, ctype, body) = app
            .get_text(&format!("/api/v1/labels/intent?{query}"), KEY)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(ctype, "application/problem+json", "{query}");
        let p: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(p["code"], "invalid_query", "{query}: {p}");
        if let Some(field) = field {
            assert_eq!(p["field"], field, "{query}: {p}");
        }
    }
    assert_eq!(counts(&app).await, before);

    // The export is the file `nlp train` reads.
    let (s, ctype, body) = export(&app, "topic-2027", KEY).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(ctype, "application/x-ndjson");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("topic.jsonl");
    std::fs::write(&file, &body).unwrap();
    let examples = sb_nlp::model::read_labelled(&file).unwrap();
    let mut got: Vec<(String, String)> = examples.into_iter().map(|e| (e.label, e.text)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "account".to_owned(),
                "How do I change my delivery address?".to_owned()
            ),
            (
                "delivery".to_owned(),
                "Thanks so much, but my parcel is two weeks late, write to ana@example.com"
                    .to_owned()
            ),
        ]
    );
    // Without `personal.read` the text comes with its personal data replaced by its kind.
    let (s, _, redacted) = export(&app, "topic-2027", ANALYST).await;
    assert_eq!(s, StatusCode::OK);
    assert!(redacted.contains("write to [email]"), "{redacted}");
    assert!(!redacted.contains("ana@example.com"), "{redacted}");

    // A caller scoped to other regions neither corrects nor exports a region's messages.
    let (s, _, body) = app
        .post(
            json!({"source": "x", "external_id": "lab-3", "author": "@cy", "region": "us",
                     "text": "The new app update is great"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let us_id = app.processed(body["id"].as_str().unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let us_path = format!("/api/v1/messages/{us_id}/labels/topic-2027");
    let (s, _) = app
        .call(Method::PUT, &us_path, AGENT, Some(json!({"label": "app"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    common::issue_regional_key(&app.store, EU_AGENT, "agent", &["eu"]).await;
    let (s, p) = app
        .call(
            Method::PUT,
            &us_path,
            EU_AGENT,
            Some(json!({"label": "other"})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("region_denied"))
    );
    let (_, _, all) = export(&app, "topic-2027", KEY).await;
    let (_, _, eu) = export(&app, "topic-2027", EU_AGENT).await;
    assert_eq!((all.lines().count(), eu.lines().count()), (3, 2), "{eu}");
    assert!(!eu.contains(us_id.as_str()) && all.contains(us_id.as_str()));
    // Page by page, the same examples in the same order: one a page, and an empty last page
    // after a full one. A region-limited caller's pages skip what they may not read.
    let all: Vec<String> = all.lines().map(str::to_owned).collect();
    assert_eq!(
        export_pages(&app, "topic-2027", KEY, 1).await,
        (all.clone(), 4)
    );
    assert_eq!(
        export_pages(&app, "topic-2027", KEY, 2).await,
        (all.clone(), 2)
    );
    assert_eq!(export_pages(&app, "topic-2027", KEY, 3).await, (all, 2));
    let eu: Vec<String> = eu.lines().map(str::to_owned).collect();
    assert_eq!(export_pages(&app, "topic-2027", EU_AGENT, 1).await, (eu, 4));
    let (s, _) = app.call(Method::DELETE, &us_path, AGENT, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // An erased customer's messages drop out of the examples.
    let customer = late["customer_id"].as_str().unwrap();
    let (s, report) = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/erase"),
            KEY,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let (_, _, body) = export(&app, "topic-2027", KEY).await;
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(lines[0]["label"], "account");
    assert_eq!(lines[0]["message_id"], other_id.as_str());

    // Removing a correction takes the message out of the task's examples.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/messages/{other_id}/labels/topic-2027"),
            AGENT,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/messages/{other_id}/labels/topic-2027"),
            AGENT,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, body) = export(&app, "topic-2027", KEY).await;
    assert_eq!(body, "");

    // Removing is audited too, with what was removed.
    let (s, audit) = app.get("/api/v1/audit?limit=1000").await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| {
        e["action"] == "DELETE /api/v1/messages/{id}/labels/{task}"
            && e["outcome"] == 204
            && e["detail"]["before"]["label"] == "account"
    }));
}
