//! Working cases over HTTP: status and tags with their history, notes, bad input refused
//! with stable codes, replies that must be approved (and who may approve them), guardrails
//! that block a reply before it is stored, and the first-response clock fulfilled by the
//! human reply that reaches the customer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, spawn_app_workflow};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sb_outbound::OutboundConfig;
use sb_outbound::meta::MetaConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchboard_web::WebhookConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "meta-app-secret";
const PAGE: &str = "page-1";

const WORKFLOW: &str = r#"
[[sla]]
name = "social"
first_response_mins = 60
resolution_mins = 1440

[[queues]]
name = "social"

[[agents]]
id = "ana"
name = "Ana"
queues = ["social"]

[[agents]]
id = "ben"
name = "Ben"
queues = ["social"]

[approvals]
regulated_topics = ["mortgage"]

[[guardrails]]
product = "*"
prohibited = ["risk-free", "guaranteed approval"]
reason = "Promises we cannot keep are not allowed"
"#;

async fn rig(graph: &MockServer) -> App {
    let mut meta = MetaConfig {
        base_url: graph.uri(),
        ..MetaConfig::default()
    };
    meta.tokens
        .insert(PAGE.into(), sb_outbound::Secret::new("page-token"));
    spawn_app_workflow(
        WebhookConfig {
            meta_app_secret: SECRET.into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            meta: Some(meta),
            ..OutboundConfig::default()
        },
        WORKFLOW,
    )
    .await
}

/// Delivers a public Page comment by `u-1` as Meta signs it.
async fn deliver(app: &App, comment_id: &str, created_time: i64, text: &str) {
    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": PAGE, "time": created_time + 100, "changes": [{"field": "feed", "value": {
            "from": {"id": "u-1", "name": "Sam Lee"}, "post_id": "page-1_post-9",
            "comment_id": comment_id, "parent_id": "page-1_post-9",
            "created_time": created_time, "item": "comment", "verb": "add", "message": text,
        }}]}]
    }))
    .unwrap();
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(&body);
    let sig = format!("sha256={}", hex::encode(m.finalize().into_bytes()));
    let r = app
        .http
        .post(format!("{}/webhooks/meta", app.url))
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A public Page comment; answers its case id once the case workflow has started its clocks.
async fn comment(app: &App, comment_id: &str, text: &str) -> String {
    deliver(app, comment_id, 1_767_000_000, text).await;
    for _ in 0..300 {
        let (_, cases) = app.get("/api/v1/cases").await;
        if let Some(c) = cases["items"].as_array().and_then(|a| a.first()) {
            let id = c["id"].as_str().unwrap().to_owned();
            let (_, full) = app.get(&format!("/api/v1/cases/{id}")).await;
            if full["workflow"]["sla_policy"] == "social" {
                return id;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the comment never reached a worked case");
}

async fn send(
    app: &App,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = app
        .http
        .request(method, format!("{}{path}", app.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn supervisor_key(app: &App) -> String {
    let key = "sb_test_supervisor_key";
    common::issue_key(&app.store, key, "supervisor", None).await;
    key.to_owned()
}

fn kinds(case: &Value) -> Vec<String> {
    case["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn status_tags_and_notes_are_worked_through_the_api_and_kept_in_the_history() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "c-1", "My router keeps dropping the connection").await;
    let path = format!("/api/v1/cases/{case}");
    let (s, v) = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        KEY,
        json!({"status": "pending", "priority": "high", "add_tags": ["router"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let clocks = v["sla"].as_array().unwrap();
    assert!(clocks.iter().all(|c| c["status"] == "paused"), "{v}");
    let (s, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("{path}/notes"),
        KEY,
        json!({"text": "Asked for the serial number"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, full) = app.get(&path).await;
    assert_eq!(full["status"], "pending");
    assert_eq!(full["priority"], "high");
    assert_eq!(full["tags"], json!(["router"]));
    let k = kinds(&full);
    for expected in [
        "sla.activate",
        "status_changed",
        "priority_changed",
        "tagged",
        "note",
        "sla.pause",
    ] {
        assert!(
            k.iter().any(|x| x == expected),
            "{expected} missing from {k:?}"
        );
    }
    let note = full["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "note")
        .unwrap();
    assert_eq!(note["actor"], "key:config-admin");

    // Bad input: one stable code each, nothing changed.
    let version = full["workflow"]["version"].as_i64().unwrap();
    for (body, status, code) in [
        (
            json!({"status": "archived"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"status": "new"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_transition",
        ),
        (
            json!({"queue": "nowhere"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"assignee": "nobody"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"add_tags": [""]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"status": "open", "expected_version": 0}),
            StatusCode::CONFLICT,
            "case_changed",
        ),
        (
            json!({"colour": "red"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        let (s, v) = send(&app, reqwest::Method::PATCH, &path, KEY, body.clone()).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let (s, v) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/cases/cas_00000000000000000000000000",
        KEY,
        json!({"status": "open"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (_, after) = app.get(&path).await;
    assert_eq!(after["workflow"]["version"].as_i64(), Some(version));
    assert_eq!(after["status"], "pending");

    // Presence: unknown agents and presences are refused; Ana online takes the case.
    let (s, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/agents/zoe/presence",
        KEY,
        json!({"presence": "online"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/agents/ana/presence",
        KEY,
        json!({"presence": "busy"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let (s, _) = send(
        &app,
        reqwest::Method::PATCH,
        &path,
        KEY,
        json!({"status": "open"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/agents/ana/presence",
        KEY,
        json!({"presence": "online"}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, full) = app.get(&path).await;
    assert_eq!(full["assignee"], "ana", "{full}");
    let (_, agents) = app.get("/api/v1/agents").await;
    assert_eq!(agents[0]["load"], 1);
    assert_eq!(agents[0]["presence"], "online");
}

#[tokio::test]
async fn a_refund_waits_for_a_supervisor_and_the_approved_reply_answers_the_customer() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-1"})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let case = comment(&app, "c-2", "My parcel arrived broken").await;
    let replies = format!("/api/v1/cases/{case}/replies");
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &replies,
        KEY,
        json!({"text": "Sorry! We will refund the order today."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["status"], "pending_approval");
    assert_eq!(v["requirements"][0]["reason"], "compensation");
    assert_eq!(v["items"], json!([]));
    let reply_id = v["reply_id"].as_str().unwrap().to_owned();
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(full["outbox"], json!([]), "nothing is sent before approval");
    assert!(full["workflow"]["first_response_at"].is_null());
    let (_, pending) = app.get("/api/v1/replies?status=pending_approval").await;
    assert_eq!(pending[0]["id"], reply_id.as_str());

    let decide = format!("/api/v1/replies/{reply_id}/decision");
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &decide,
        KEY,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("own_reply")),
        "{v}"
    );
    let sup = supervisor_key(&app).await;
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &decide,
        &sup,
        json!({"decision": "reject", "reason": ""}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &decide,
        &sup,
        json!({"decision": "maybe"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &decide,
        &sup,
        json!({"decision": "edit_and_approve", "text": "Sorry! A full refund is on its way."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "queued");
    assert_eq!(v["record"]["versions"].as_array().unwrap().len(), 2);
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &decide,
        &sup,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_decided"))
    );

    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    let outbox = full["outbox"].as_array().unwrap();
    assert_eq!(outbox.len(), 1, "sent once: {full}");
    assert_eq!(
        outbox[0]["payload"]["text"],
        "Sorry! A full refund is on its way."
    );
    assert!(
        full["workflow"]["first_response_at"].is_string(),
        "the approved human reply answered: {full}"
    );
    let k = kinds(&full);
    assert!(k.iter().any(|x| x == "sla.fulfil"), "{k:?}");
    assert!(k.iter().any(|x| x == "reply.approved"), "{k:?}");
}

#[tokio::test]
async fn guardrails_block_a_reply_before_it_is_stored_and_bot_replies_do_not_answer() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-2"})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let case = comment(&app, "c-3", "Can I switch my plan?").await;
    let replies = format!("/api/v1/cases/{case}/replies");
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &replies,
        KEY,
        json!({"text": "Yes, and switching is completely Risk  Free!"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("guardrail_violation")
        ),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("Promises we cannot keep")
    );
    let (_, list) = app.get(&format!("/api/v1/replies?case={case}")).await;
    assert_eq!(list, json!([]), "a blocked reply is not stored");

    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &replies,
        KEY,
        json!({"text": "Thanks, an agent will be with you shortly.", "automated": true}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::ACCEPTED, Some("queued")),
        "{v}"
    );
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert!(
        full["workflow"]["first_response_at"].is_null(),
        "a bot's reply is not a response"
    );
    let (_, list) = app.get(&format!("/api/v1/replies?case={case}")).await;
    assert_eq!(list[0]["automated"], true);
}

#[tokio::test]
async fn a_dry_run_replays_stored_traffic_against_proposed_rules_without_doing_anything() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "c-4", "The app crashes when I pay, I want a refund").await;
    let (_, before) = app.get(&format!("/api/v1/cases/{case}")).await;
    let proposed = json!({"days": 7, "rules": [
        {"name": "refunds", "on": ["case.opened"], "when": [{"field": "text", "op": "contains", "value": "refund"}],
         "then": [{"action": "tag", "value": "refund"}, {"action": "set_priority", "value": "high"}]},
        {"name": "praise", "on": ["message.received", "case.opened"], "when": [{"field": "intent", "op": "eq", "value": "praise"}],
         "then": [{"action": "tag", "value": "kudos"}]},
    ]});
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/rules/dry-run",
        KEY,
        proposed,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["events"], 1, "{v}");
    assert_eq!(v["rules"][0]["name"], "refunds");
    assert_eq!(v["rules"][0]["matched"], 1, "{v}");
    assert_eq!(v["rules"][0]["actions"]["tag"], 1, "{v}");
    assert_eq!(v["rules"][0]["sample_cases"][0], case.as_str());
    assert_eq!(v["rules"][1]["matched"], 0, "{v}");
    let (_, after) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(after["tags"], before["tags"], "a dry run changes nothing");
    assert_eq!(after["priority"], before["priority"]);
    let k = kinds(&after);
    assert!(
        !k.iter()
            .any(|e| e == "tagged" || e == "priority_changed" || e == "rule.fired"),
        "{k:?}"
    );

    for (body, code) in [
        (json!({"days": 0}), "invalid_field"),
        (
            json!({"days": 7, "rules": [{"name": "x", "on": ["case.opened"], "when": [{"field": "mood", "op": "eq", "value": 1}], "then": [{"action": "tag", "value": "y"}]}]}),
            "invalid_rule",
        ),
    ] {
        let (s, v) = send(
            &app,
            reqwest::Method::POST,
            "/api/v1/rules/dry-run",
            KEY,
            body,
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{v}"
        );
    }
}

#[tokio::test]
async fn a_case_shows_the_customers_earlier_cases_and_sentiment_over_time() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let first = comment(&app, "c-6", "This is terrible, my order never came").await;
    let (s, _) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/cases/{first}"),
        KEY,
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    deliver(
        &app,
        "c-7",
        1_767_000_100,
        "Thanks, the replacement works great!",
    )
    .await;
    let mut second = None;
    for _ in 0..300 {
        let (_, cases) = app.get("/api/v1/cases").await;
        let items = cases["items"].as_array().unwrap();
        if items.len() == 2 {
            second = Some(items[0]["id"].as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = second.expect("a closed case does not take new messages");
    assert_ne!(second, first);
    let (_, full) = app.get(&format!("/api/v1/cases/{second}")).await;
    let ctx = &full["context"];
    assert_eq!(ctx["past_cases"][0]["id"], first.as_str(), "{ctx}");
    assert_eq!(ctx["past_cases"][0]["status"], "closed");
    let points = ctx["sentiment"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{ctx}");
    assert_eq!(points[0]["case_id"], first.as_str());
    assert!(points[0]["sentiment"].as_f64().unwrap() < 0.0);
    assert!(points[1]["sentiment"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn malformed_notes_decisions_and_lookups_get_stable_codes_and_change_nothing() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "c-8", "Where is my parcel?").await;
    let path = format!("/api/v1/cases/{case}");
    let (_, before) = app.get(&path).await;
    let notes = format!("{path}/notes");
    for (body, status, code) in [
        (
            json!({"text": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"text": "x".repeat(10_001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"note": "hi"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        let (s, v) = send(&app, reqwest::Method::POST, &notes, KEY, body).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
    }
    let r = app
        .http
        .post(format!("{}{notes}", app.url))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &format!("{path}/escalations/legal/acknowledge"),
        KEY,
        json!({}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    for q in ["/api/v1/replies?status=sent", "/api/v1/replies?case=nope"] {
        let (s, v) = app.get(q).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{q}"
        );
    }
    let (s, _) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/replies/rp_nope/decision",
        KEY,
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, after) = app.get(&path).await;
    assert_eq!(kinds(&after).iter().filter(|k| *k == "note").count(), 0);
    assert_eq!(after["tags"], before["tags"]);
}

#[tokio::test]
async fn ana_hands_her_open_cases_to_ben_at_the_end_of_her_shift() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-h1", "My order never arrived").await;
    let (s, _) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        KEY,
        json!({"assignee": "ana"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/cases/{case}/notes"),
        KEY,
        json!({"text": "Carrier says Friday"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // The comment is from last year: its first-response clock breached long ago, which the
    // SLA sweep records within moments of the case opening.
    let mut mine = Value::Null;
    for _ in 0..250 {
        let (s, m) = app.get("/api/v1/agents/ana/handover").await;
        assert_eq!(s, StatusCode::OK);
        mine = m;
        if mine["cases"][0]["breached"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mine["cases"][0]["id"], case.as_str());
    assert_eq!(mine["cases"][0]["last_note"], "Carrier says Friday");
    assert_eq!(mine["cases"][0]["breached"], true);
    assert_eq!(mine["due_within_hour"], 1);
    let (_, listed) = app.get("/api/v1/cases?assignee=ana").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let (s, done) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/agents/ana/handover",
        KEY,
        json!({"to": "ben", "note": "Two VIPs waiting on the carrier"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["cases"], json!([case]));
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(full["assignee"], "ben");
    let handover = full["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "handover")
        .unwrap()
        .clone();
    assert_eq!(handover["data"]["note"], "Two VIPs waiting on the carrier");
    assert_eq!(handover["data"]["from"], "ana");
    let (_, left) = app.get("/api/v1/agents/ana/handover").await;
    assert!(left["cases"].as_array().unwrap().is_empty());

    for (path, body, field) in [
        (
            "/api/v1/agents/ben/handover",
            json!({"to": "ben", "note": "x"}),
            "to",
        ),
        (
            "/api/v1/agents/ben/handover",
            json!({"to": "zoe", "note": "x"}),
            "to",
        ),
        ("/api/v1/agents/ben/handover", json!({"note": "  "}), "note"),
    ] {
        let (s, b) = send(&app, reqwest::Method::POST, path, KEY, body.clone()).await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    // An agent the route names who does not exist is not found.
    let (s, b) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/agents/nobody/handover",
        KEY,
        json!({"note": "x"}),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // Handing over to the queues: Ben's case waits for whoever comes online.
    let (s, done) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/agents/ben/handover",
        KEY,
        json!({"note": "Going home"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(done["to"], Value::Null);
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(full["assignee"], Value::Null);
}

const NEW_ROUTING: &str = r#"
[[sla]]
name = "social"
first_response_mins = 30
resolution_mins = 1440

[[queues]]
name = "social"

[[queues]]
name = "vip"

[[agents]]
id = "cy"
name = "Cy"
queues = ["social", "vip"]

[[rules]]
name = "page comments to vip"
on = ["case.opened"]
when = [ { field = "platform", op = "eq", value = "facebook" } ]
then = [ { action = "tag", value = "saved-routing" }, { action = "assign", queue = "vip" } ]
"#;

/// A supervisor changes queues, agents, SLA targets and rules while the server runs: the
/// document is checked before anything is stored, a save from a stale version or by an agent
/// is refused, and the next case is routed by the saved version.
#[tokio::test]
async fn a_supervisor_changes_the_routing_at_run_time_and_the_next_case_follows_it() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let sup = supervisor_key(&app).await;
    let agent = "sb_test_agent_key";
    common::issue_key(&app.store, agent, "agent", None).await;

    let (s, file) = app.get("/api/v1/workflow/routing").await;
    assert_eq!(s, StatusCode::OK, "{file}");
    assert_eq!(
        (file["version"].as_i64(), file["source"].as_str()),
        (Some(0), Some("config"))
    );
    let text = file["document"].as_str().unwrap();
    assert!(
        text.contains("ana") && text.contains("first_response_mins"),
        "{text}"
    );
    assert!(
        !text.contains("guardrails") && !text.contains("approvals"),
        "{text}"
    );
    assert_eq!(file["summary"]["queues"], json!(["social"]));
    assert_eq!(file["summary"]["agents"], 2);

    // Checked, not stored: an agent in a queue nobody defined, and a key outside routing.
    let put = reqwest::Method::PUT;
    for (bad, says) in [
        (
            "[[agents]]\nid = \"cy\"\nname = \"Cy\"\nqueues = [\"nowhere\"]\n",
            "workflow.",
        ),
        ("[approvals]\nregulated_topics = []\n", "approvals"),
        ("[[queues]\nname = \"x\"", "line 1"),
    ] {
        let (s, p) = send(
            &app,
            put.clone(),
            "/api/v1/workflow/routing",
            &sup,
            json!({"document": bad, "base_version": 0}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["code"], "invalid_routing");
        assert!(p["detail"].as_str().unwrap().contains(says), "{p}");
    }
    let (s, p) = send(
        &app,
        put.clone(),
        "/api/v1/workflow/routing",
        agent,
        json!({"document": NEW_ROUTING, "base_version": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, summary) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/workflow/routing/check",
        &sup,
        json!({"document": NEW_ROUTING}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{summary}");
    assert_eq!(summary["queues"], json!(["social", "vip"]));
    assert_eq!(
        (summary["agents"].as_u64(), summary["rules"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, still) = app.get("/api/v1/workflow/routing").await;
    assert_eq!(
        still["version"], 0,
        "a check or a refused save stores nothing"
    );

    let (s, saved) = send(
        &app,
        put.clone(),
        "/api/v1/workflow/routing",
        &sup,
        json!({"document": NEW_ROUTING, "base_version": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["version"].as_i64(), saved["source"].as_str()),
        (Some(1), Some("saved"))
    );
    assert!(
        saved["saved_by"].as_str().unwrap().starts_with("key:"),
        "{saved}"
    );
    let (s, p) = send(
        &app,
        put,
        "/api/v1/workflow/routing",
        &sup,
        json!({"document": NEW_ROUTING, "base_version": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "routing_changed");
    let (_, versions) = app.get("/api/v1/workflow/routing/versions").await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        1,
        "{versions}"
    );

    // In force at once: the agent list, the new queue, the new rule on the next case.
    let (_, agents) = app.get("/api/v1/agents").await;
    let ids: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["cy"]);
    let (_, queues) = app.get("/api/v1/queues").await;
    let vip = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "vip")
        .expect("the saved queue exists")["id"]
        .clone();
    let case = comment(&app, "post-9_c-r1", "Where is my parcel?").await;
    let mut full = Value::Null;
    for _ in 0..250 {
        (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
        if full["queue_id"] == vip {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(full["queue_id"], vip, "{full}");
    assert!(
        full["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("saved-routing")),
        "{full}"
    );
    let first = full["workflow"]["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "first_response")
        .unwrap_or_else(|| panic!("no first-response clock: {full}"));
    assert_eq!(
        first["target_ms"],
        30 * 60_000,
        "the saved SLA target: {full}"
    );

    // One agent at a time: added, refused on a stale version or an unknown queue, removed.
    let put = reqwest::Method::PUT;
    let dee = |base: i64, queue: &str| json!({"name": "Dee", "queues": [queue], "languages": ["de"], "capacity": 3, "base_version": base});
    let (s, v) = send(
        &app,
        put.clone(),
        "/api/v1/workflow/agents/dee",
        &sup,
        dee(1, "vip"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 2);
    assert!(v["document"].as_str().unwrap().contains("\"dee\""), "{v}");
    let (_, agents) = app.get("/api/v1/agents").await;
    let ids: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["cy", "dee"]);
    let (s, p) = send(
        &app,
        put.clone(),
        "/api/v1/workflow/agents/dee",
        &sup,
        dee(1, "vip"),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("routing_changed"))
    );
    let (s, p) = send(
        &app,
        put.clone(),
        "/api/v1/workflow/agents/dee",
        &sup,
        dee(2, "nowhere"),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_routing")),
        "{p}"
    );
    let (s, _) = send(
        &app,
        put,
        "/api/v1/workflow/agents/dee",
        agent,
        dee(2, "vip"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let del = reqwest::Method::DELETE;
    let (s, v) = send(
        &app,
        del.clone(),
        "/api/v1/workflow/agents/cy?base_version=2",
        &sup,
        Value::Null,
    )
    .await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(3)), "{v}");
    let (s, _) = send(
        &app,
        del.clone(),
        "/api/v1/workflow/agents/cy?base_version=3",
        &sup,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, p) = send(&app, del, "/api/v1/workflow/agents/dee", &sup, Value::Null).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (_, agents) = app.get("/api/v1/agents").await;
    assert_eq!(agents.as_array().unwrap().len(), 1);
    // Garbage is refused with a stable code and changes nothing.
    let (s, p) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/workflow/agents/%01",
        &sup,
        dee(3, "vip"),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str(), p["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_field"),
            Some("id")
        ),
        "{p}"
    );
    let (s, p) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/workflow/agents/eve",
        &sup,
        json!({"name": 7, "base_version": 3}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    let (s, p) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/workflow/routing",
        &sup,
        json!({"document": ["x"], "base_version": 3}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
    let (s, p) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/workflow/routing/check",
        &sup,
        json!({"document": "", "base_version": -1}),
    )
    .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("base_version")),
        "{p}"
    );
    let (_, still) = app.get("/api/v1/workflow/routing").await;
    assert_eq!(still["version"], 3, "nothing saved by the refused requests");

    // The changes are in the audit trail with what they replaced.
    let (_, audit) = app.get("/api/v1/audit?limit=1000").await;
    let text = audit.to_string();
    assert!(
        text.contains("workflow.routing:1") && text.contains("workflow.routing:3"),
        "{text}"
    );
}
