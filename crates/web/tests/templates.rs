//! Reply templates and suggestions as a care team meets them (D6, B8): an agent writes a
//! Portuguese apology, a supervisor approves it, and a Brazilian customer's case renders it
//! with their name and the courier's delay from the status feed; nobody approves their own
//! text; drafts never reach a customer; a missing value is named; a reply sent from a template
//! goes out through the usual reply flow and records which version it was; and suggestions put
//! the fitting text in the customer's language first, next to what colleagues sent before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app, spawn_app_full};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use sb_outbound::OutboundConfig;
use sb_outbound::meta::MetaConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchboard_web::WebhookConfig;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENT: &str = "sb_test_agent_ana";
const LEAD: &str = "sb_test_supervisor_bo";
const OTHER_LEAD: &str = "sb_test_supervisor_cy";

async fn team(app: &App) {
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, LEAD, "supervisor", None).await;
    issue_key(&app.store, OTHER_LEAD, "supervisor", None).await;
}

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

async fn write(app: &App, key: &str, template: Value) -> Value {
    let (s, v) = call(app, Method::POST, "/api/v1/templates", key, Some(template)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn move_to(
    app: &App,
    key: &str,
    template: &str,
    version: &Value,
    to: &str,
) -> (StatusCode, Value) {
    let route = format!("/api/v1/templates/{template}/versions/{version}/state");
    call(app, Method::POST, &route, key, Some(json!({ "state": to }))).await
}

/// Written by the agent, submitted by the agent, approved by a supervisor.
async fn approved(app: &App, template: Value) -> Value {
    let v = write(app, AGENT, template).await;
    let key = v["key"].as_str().unwrap();
    let (s, _) = move_to(app, AGENT, key, &v["version"], "pending_approval").await;
    assert_eq!(s, StatusCode::OK);
    let (s, done) = move_to(app, LEAD, key, &v["version"], "approved").await;
    assert_eq!(s, StatusCode::OK, "{done}");
    done
}

/// A customer writes in; answers their case once the pipeline has understood the message.
async fn customer_writes(
    app: &App,
    author: Value,
    text: &str,
    region: Option<&str>,
) -> (String, Value) {
    let ext = format!("m-{}", ulid::Ulid::generate());
    let (s, _, v) = app
        .post(json!({"source": "x", "external_id": ext, "author": author, "text": text, "region": region}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let m = app.processed(v["id"].as_str().unwrap()).await;
    (m["case_id"].as_str().unwrap().to_owned(), m)
}

fn seconds_ago(secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    sb_domain::Timestamp::from_millis(now - secs * 1000).to_rfc3339()
}

const APOLOGY_PT: &str = "Olá {{customer.first_name}}, pedimos desculpa: as entregas dos Correios \
    estão com um atraso de {{status.correios}} horas.";

#[tokio::test]
async fn a_brazilian_customer_gets_the_approved_portuguese_apology_with_their_name_and_the_delay() {
    let app = spawn_app().await;
    team(&app).await;
    let pt = write(
        &app,
        AGENT,
        json!({"key": "delivery_delay", "locale": "pt", "body": APOLOGY_PT}),
    )
    .await;
    assert_eq!(
        (pt["version"].as_u64(), pt["state"].as_str()),
        (Some(1), Some("draft"))
    );
    assert_eq!(pt["tone"], "neutral");
    let (s, submitted) = move_to(
        &app,
        AGENT,
        "delivery_delay",
        &pt["version"],
        "pending_approval",
    )
    .await;
    assert_eq!(
        (s, submitted["state"].as_str()),
        (StatusCode::OK, Some("pending_approval"))
    );

    // The agent may submit but not approve; a supervisor approves.
    let (s, v) = move_to(&app, AGENT, "delivery_delay", &pt["version"], "approved").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("approval_role_required"))
    );
    let (s, v) = move_to(&app, LEAD, "delivery_delay", &pt["version"], "approved").await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{v}"
    );
    assert_ne!(v["approved_by"], v["created_by"]);

    // English for everyone else; a Brazilian text still waiting for approval.
    approved(&app, json!({"key": "delivery_delay", "locale": "en", "body": "Sorry, deliveries are {{status.correios}} hours late."})).await;
    write(
        &app,
        AGENT,
        json!({"key": "delivery_delay", "locale": "pt_br", "body": "Oi {{customer.first_name}}!"}),
    )
    .await;
    let (_, library) = call(&app, Method::GET, "/api/v1/templates", AGENT, None).await;
    let versions: Vec<(u64, &str, &str)> = library["items"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["locale"].as_str().unwrap(),
                v["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (3, "pt-BR", "draft"),
            (2, "en", "approved"),
            (1, "pt", "approved")
        ]
    );

    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/status",
        KEY,
        Some(json!({"facts": [
            {"kind": "delivery_delay", "subject": "correios", "region": "BR", "source": "tms",
             "source_time": seconds_ago(60), "value": {"delay_hours": 48}},
        ]})),
    )
    .await;
    assert!(s.is_success());
    let (case, message) = customer_writes(
        &app,
        json!({"handle": "@marta_s", "name": "Marta Souza"}),
        "Olá, a minha encomenda ainda não chegou e já passaram duas semanas. Onde está o meu pedido?",
        Some("BR"),
    )
    .await;
    assert_eq!(
        message["enrichment"]["language"], "pt",
        "the customer writes Portuguese"
    );

    let (s, r) = call(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/render"),
        AGENT,
        Some(json!({"template": "delivery_delay"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        r["text"],
        "Olá Marta, pedimos desculpa: as entregas dos Correios estão com um atraso de 48 horas."
    );
    assert_eq!(
        (
            r["version"].as_u64(),
            r["locale"].as_str(),
            r["tone"].as_str()
        ),
        (Some(1), Some("pt"), Some("neutral"))
    );

    // Asked for in English, the same case gets the English version.
    let (_, en) = call(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/render"),
        AGENT,
        Some(json!({"template": "delivery_delay", "locale": "en-GB"})),
    )
    .await;
    assert_eq!(en["text"], "Sorry, deliveries are 48 hours late.");
}

#[tokio::test]
async fn nobody_approves_their_own_template_and_only_approvers_retire_one() {
    let app = spawn_app().await;
    team(&app).await;
    let v = write(&app, LEAD, json!({"key": "outage_update", "locale": "en", "tone": "Formal", "body": "Checkout is {{status.checkout}}."})).await;
    assert_eq!(v["tone"], "formal");
    move_to(
        &app,
        LEAD,
        "outage_update",
        &v["version"],
        "pending_approval",
    )
    .await;

    let (s, e) = move_to(&app, LEAD, "outage_update", &v["version"], "approved").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("own_template")),
        "{e}"
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("another person must")
    );
    let (_, t) = call(
        &app,
        Method::GET,
        "/api/v1/templates/outage_update",
        AGENT,
        None,
    )
    .await;
    assert_eq!(
        t["versions"][0]["state"], "pending_approval",
        "the refusal changed nothing"
    );

    let (s, ok) = move_to(&app, OTHER_LEAD, "outage_update", &v["version"], "approved").await;
    assert_eq!(
        (s, ok["state"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    // An approved text is not edited back into a draft: a change is a new version.
    let (s, e) = move_to(&app, OTHER_LEAD, "outage_update", &v["version"], "draft").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("template_invalid_transition"))
    );
    let (s, e) = move_to(&app, AGENT, "outage_update", &v["version"], "retired").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("approval_role_required"))
    );
    let (s, gone) = move_to(&app, LEAD, "outage_update", &v["version"], "retired").await;
    assert_eq!(
        (s, gone["state"].as_str()),
        (StatusCode::OK, Some("retired"))
    );

    let (case, _) = customer_writes(
        &app,
        json!("@rita"),
        "Is checkout broken? I cannot pay.",
        None,
    )
    .await;
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/render"),
        AGENT,
        Some(json!({"template": "outage_update"})),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_not_approved")
        ),
        "{e}"
    );

    // Every change is in the audit trail with the state before and after.
    let (_, audit) = call(&app, Method::GET, "/api/v1/audit?limit=1000", KEY, None).await;
    let moves: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == "template:outage_update/v1" && e["outcome"] == 200)
        .map(|e| {
            (
                e["detail"]["before"]["state"].as_str().unwrap(),
                e["detail"]["after"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("draft", "pending_approval"),
            ("pending_approval", "approved"),
            ("approved", "retired")
        ]
    );
}

#[tokio::test]
async fn a_draft_is_neither_rendered_nor_sent_and_a_missing_value_is_named() {
    let app = spawn_app().await;
    team(&app).await;
    let draft = write(
        &app,
        AGENT,
        json!({"key": "refund_offer", "locale": "en", "body": "We refund {{amount}}."}),
    )
    .await;
    move_to(
        &app,
        AGENT,
        "refund_offer",
        &draft["version"],
        "pending_approval",
    )
    .await;
    approved(&app, json!({"key": "order_lookup", "locale": "en", "body": "Hi {{customer.first_name | \"there\"}}, order {{order.id}} left our depot on {{order.shipped_on}}."})).await;
    let (case, _) = customer_writes(
        &app,
        json!("@kim"),
        "Where is my order? It has been ten days.",
        None,
    )
    .await;
    let render = |body: Value| {
        let app = &app;
        let route = format!("/api/v1/cases/{case}/render");
        async move { call(app, Method::POST, &route, AGENT, Some(body)).await }
    };

    let (s, e) =
        render(json!({"template": "refund_offer", "variables": {"amount": "10 EUR"}})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_not_approved")
        )
    );
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/replies"),
        AGENT,
        Some(json!({"template": {"key": "refund_offer", "variables": {"amount": "10 EUR"}}})),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_not_approved")
        )
    );
    let (s, e) = render(json!({"template": "no_such_text"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let (s, e) = render(
        json!({"template": "order_lookup", "variables": {"order": {"shipped_on": "Monday"}}}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_variable_missing")
        )
    );
    assert_eq!(e["detail"], "missing template variables: order.id");
    let (s, e) = render(json!({"template": "order_lookup"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["detail"],
        "missing template variables: order.id, order.shipped_on"
    );
    let (s, r) = render(json!({"template": "order_lookup", "variables": {"order.id": "O-77", "order.shipped_on": "Monday"}})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["text"], "Hi there, order O-77 left our depot on Monday.");

    let (_, replies) = call(
        &app,
        Method::GET,
        &format!("/api/v1/replies?case={case}"),
        KEY,
        None,
    )
    .await;
    assert_eq!(replies, json!([]), "nothing was sent or stored");
}

#[tokio::test]
async fn bad_templates_are_refused_clearly_and_nothing_is_stored() {
    let app = spawn_app().await;
    team(&app).await;
    let long = "x".repeat(8_001);
    for (body, status, code, field) in [
        (
            json!({"key": "Delivery Delay", "locale": "en", "body": "Hi"}),
            422,
            "invalid_field",
            Some("key"),
        ),
        (
            json!({"key": "delay", "locale": "en us", "body": "Hi"}),
            422,
            "invalid_field",
            Some("locale"),
        ),
        (
            json!({"key": "delay", "locale": "en", "tone": "very warm", "body": "Hi"}),
            422,
            "invalid_field",
            Some("tone"),
        ),
        (
            json!({"key": "delay", "locale": "en", "body": long}),
            422,
            "invalid_field",
            Some("body"),
        ),
        (
            json!({"key": "delay", "locale": "en", "body": "  "}),
            422,
            "invalid_field",
            Some("body"),
        ),
        (
            json!({"key": "delay", "locale": "en", "body": "Hi {{customer.name"}),
            422,
            "template_syntax",
            Some("body"),
        ),
        (
            json!({"key": "delay", "body": "Hi"}),
            400,
            "invalid_body",
            None,
        ),
        (json!(["delay"]), 400, "invalid_body", None),
    ] {
        let (s, e) = call(
            &app,
            Method::POST,
            "/api/v1/templates",
            AGENT,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
            (status, Some(code), field),
            "{body}: {e}"
        );
    }
    let (_, library) = call(&app, Method::GET, "/api/v1/templates", AGENT, None).await;
    assert_eq!(library["items"], json!([]));

    let v = write(
        &app,
        AGENT,
        json!({"key": "delay", "locale": "en", "body": "Sorry for the wait."}),
    )
    .await;
    let (s, e) = move_to(&app, AGENT, "delay", &v["version"], "published").await;
    assert_eq!(
        (s, e["code"].as_str(), e["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_field"),
            Some("state")
        )
    );
    for (template, version) in [
        ("delay", json!(9)),
        ("delay", json!("first")),
        ("nothing", json!(1)),
    ] {
        let (s, _) = move_to(&app, AGENT, template, &version, "pending_approval").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{template} v{version}");
    }
    let (s, e) = call(
        &app,
        Method::POST,
        "/api/v1/templates/delay/versions/1/state",
        AGENT,
        Some(json!({"state": 3})),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );
    let (_, t) = call(&app, Method::GET, "/api/v1/templates/delay", AGENT, None).await;
    assert_eq!(t["versions"][0]["state"], "draft");
    let (s, _) = call(&app, Method::GET, "/api/v1/templates/nothing", AGENT, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (case, _) =
        customer_writes(&app, json!("@lee"), "Hello, any news about my order?", None).await;
    let (s, e) = call(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/render"),
        AGENT,
        Some(json!({"template": "delay", "locale": "en us"})),
    )
    .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("locale"))
    );
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/cases/case_01JD0000000000000000000000/render",
        AGENT,
        Some(json!({"template": "delay"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for limit in ["0", "21", "many"] {
        let (s, e) = call(
            &app,
            Method::GET,
            &format!("/api/v1/cases/{case}/suggestions?limit={limit}"),
            AGENT,
            None,
        )
        .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{limit}"
        );
    }
}

// ---- through the platform: the reply rig of `tests/replies.rs` ------------------------------

const SECRET: &str = "app-secret";
const PAGE: &str = "page-1";

async fn rig(graph: &MockServer) -> App {
    let mut meta = MetaConfig {
        base_url: graph.uri(),
        ..MetaConfig::default()
    };
    meta.tokens
        .insert(PAGE.into(), sb_outbound::Secret::new("page-token-1"));
    let app = spawn_app_full(
        WebhookConfig {
            meta_app_secret: SECRET.into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            meta: Some(meta),
            ..OutboundConfig::default()
        },
    )
    .await;
    team(&app).await;
    app
}

/// Delivers one Page-feed comment as Meta would, and returns its case id.
async fn comment(app: &App, author: (&str, &str), comment_id: &str, text: &str) -> String {
    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": PAGE, "time": 1_767_000_100, "changes": [{"field": "feed", "value": {
            "from": {"id": author.0, "name": author.1}, "post_id": "page-1_post-9",
            "comment_id": comment_id, "parent_id": "page-1_post-9",
            "created_time": 1_767_000_000, "item": "comment", "verb": "add", "message": text,
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
    for _ in 0..200 {
        let (_, cases) = app.get("/api/v1/cases").await;
        for c in cases["items"].as_array().into_iter().flatten() {
            let id = c["id"].as_str().unwrap();
            let (_, full) = app.get(&format!("/api/v1/cases/{id}")).await;
            if full["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["external_id"] == comment_id)
            {
                return id.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("comment {comment_id} never reached a case");
}

async fn delivered(app: &App, case: &str) -> Vec<Value> {
    for _ in 0..300 {
        let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
        let items = full["outbox"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() && items.iter().all(|i| i["status"] != "pending") {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox of {case} did not settle");
}

#[tokio::test]
async fn a_reply_sent_from_a_template_goes_out_as_usual_and_records_its_version() {
    let graph = MockServer::start().await;
    let said = "Thanks for your patience, Sam. We have asked the courier about order O-77.";
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-1/comments"))
        .and(body_partial_json(json!({ "message": said })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-1"})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let t = approved(&app, json!({"key": "courier_chase", "locale": "en", "body": "Thanks for your patience, {{customer.first_name}}. We have asked the courier about order {{order.id}}."})).await;
    let case = comment(
        &app,
        ("u-77", "Sam Lee"),
        "post-9_c-1",
        "My order never arrived, where is it?",
    )
    .await;
    let send = |body: Value| {
        let app = &app;
        let route = format!("/api/v1/cases/{case}/replies");
        async move { call(app, Method::POST, &route, AGENT, Some(body)).await }
    };

    let (s, e) = send(json!({"template": {"key": "courier_chase"}})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_variable_missing")
        )
    );
    assert!(e["detail"].as_str().unwrap().contains("order.id"));
    for both_or_neither in [
        json!({"text": "Hi", "template": {"key": "courier_chase"}}),
        json!({"visibility": "public"}),
    ] {
        let (s, e) = send(both_or_neither).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_body"))
        );
    }

    let (s, v) =
        send(json!({"template": {"key": "courier_chase", "variables": {"order.id": "O-77"}}}))
            .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::ACCEPTED, Some("queued")),
        "{v}"
    );
    let items = delivered(&app, &case).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "delivered");

    let (_, reply) = call(
        &app,
        Method::GET,
        &format!("/api/v1/replies/{}", v["reply_id"].as_str().unwrap()),
        AGENT,
        None,
    )
    .await;
    assert_eq!(reply["record"]["text"], said);
    assert_eq!(reply["record"]["template_key"], "courier_chase");
    assert_eq!(reply["record"]["template_version"], t["version"]);
    // The case knows it was answered, as after any reply a person writes.
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    let work = &full["workflow"];
    assert!(work["first_response_at"].is_string(), "{work}");
    assert!(
        work["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reply" && e["data"]["reply_id"] == v["reply_id"]),
        "{work}"
    );
}

#[tokio::test]
async fn suggestions_put_the_fitting_text_in_the_customers_language_first_and_include_past_replies()
{
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "r"})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    approved(&app, json!({"key": "delivery_delay", "locale": "pt", "body": "Lamentamos o atraso na entrega da sua encomenda, {{customer.first_name}}. Estamos a acompanhar com a transportadora."})).await;
    approved(&app, json!({"key": "delivery_delay", "locale": "en", "body": "We are sorry your delivery is late."})).await;
    approved(&app, json!({"key": "password_reset", "locale": "pt", "body": "Para redefinir a sua palavra-passe, use a opção Esqueci-me da palavra-passe na página de entrada."})).await;
    approved(&app, json!({"key": "order_shipped", "locale": "pt", "body": "A sua encomenda {{order.id}} foi enviada."})).await;
    approved(&app, json!({"key": "newsletter", "locale": "en", "body": "You can unsubscribe from the newsletter at any time in your account settings."})).await;

    // A colleague answered another customer's late parcel last week.
    let earlier = comment(
        &app,
        ("u-1", "Joana Reis"),
        "post-9_c-11",
        "A minha encomenda ainda não chegou, está muito atrasada. O que se passa?",
    )
    .await;
    let (s, v) = call(&app, Method::POST, &format!("/api/v1/cases/{earlier}/replies"), AGENT, Some(json!({"text": "Pedimos desculpa pelo atraso da sua encomenda; a entrega segue amanhã."}))).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");

    let case = comment(
        &app,
        ("u-2", "Marta Souza"),
        "post-9_c-12",
        "A minha encomenda está atrasada há uma semana, a entrega devia ter chegado ontem!",
    )
    .await;
    let (s, list) = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{case}/suggestions?limit=10"),
        AGENT,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    let rank = |id: &str| {
        items
            .iter()
            .position(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {list}"))
    };

    assert!(rank("delivery_delay") < rank("password_reset"), "{list}");
    assert!(
        rank("password_reset") < rank("newsletter"),
        "another language ranks below: {list}"
    );
    let delay = &items[rank("delivery_delay")];
    assert_eq!(
        delay["template"]["locale"], "pt",
        "the Portuguese version, not the English"
    );
    assert_eq!(delay["template"]["missing_variables"], json!([]));
    assert!(
        delay["text"].as_str().unwrap().contains(", Marta."),
        "a filled-in preview: {delay}"
    );
    assert!(
        delay["why"]
            .as_array()
            .unwrap()
            .contains(&json!("same language"))
    );
    let shipped = &items[rank("order_shipped")];
    assert_eq!(
        shipped["template"]["missing_variables"],
        json!(["order.id"])
    );
    assert_eq!(shipped["text"], "A sua encomenda {{order.id}} foi enviada.");

    let past = items
        .iter()
        .find(|i| i["kind"] == "past_reply")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(
        past["text"],
        "Pedimos desculpa pelo atraso da sua encomenda; a entrega segue amanhã."
    );
    assert_eq!(past["case_id"], earlier.as_str());
    assert!(
        past["why"]
            .as_array()
            .unwrap()
            .contains(&json!("not rated"))
    );
    assert!(
        rank(past["id"].as_str().unwrap()) < rank("password_reset"),
        "{list}"
    );
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );

    let (_, two) = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{case}/suggestions?limit=2"),
        AGENT,
        None,
    )
    .await;
    assert_eq!(two["items"].as_array().unwrap().len(), 2);
    // Suggesting sends nothing: the case has no reply and nothing in its outbox.
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(full["outbox"], json!([]));
    let (_, replies) = call(
        &app,
        Method::GET,
        &format!("/api/v1/replies?case={case}"),
        KEY,
        None,
    )
    .await;
    assert_eq!(replies, json!([]));
}

#[tokio::test]
async fn a_rules_automatic_reply_sends_the_approved_template_once_without_answering_the_sla() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-3_c-5/comments"))
        .and(body_partial_json(json!({"message": "Thanks Rita, we read every message and will answer within 2 hours."})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "auto-1"})))
        .expect(1)
        .mount(&graph)
        .await;
    let mut meta = MetaConfig {
        base_url: graph.uri(),
        ..MetaConfig::default()
    };
    meta.tokens
        .insert("page-1".into(), sb_outbound::Secret::new("page-token"));
    let app = common::spawn_app_workflow(
        WebhookConfig {
            meta_app_secret: "app-secret".into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            meta: Some(meta),
            ..OutboundConfig::default()
        },
        r#"
        [[rules]]
        name = "acknowledge"
        on = ["case.opened"]
        when = [ { field = "platform", op = "eq", value = "facebook" } ]
        then = [ { action = "auto_reply", template = "ack" } ]
        "#,
    )
    .await;
    team(&app).await;
    approved(
        &app,
        json!({"key": "ack", "locale": "en", "body": "Thanks {{customer.first_name}}, we read every message and will answer within 2 hours."}),
    )
    .await;

    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": "page-1", "time": 1_767_000_100, "changes": [{"field": "feed", "value": {
            "from": {"id": "u-5", "name": "Rita Lopes"}, "post_id": "page-1_post-3",
            "comment_id": "post-3_c-5", "parent_id": "page-1_post-3",
            "created_time": 1_767_000_000, "item": "comment", "verb": "add",
            "message": "Hello, is anyone there?",
        }}]}]
    }))
    .unwrap();
    let mut m = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
    m.update(&body);
    let r = app
        .http
        .post(format!("{}/webhooks/meta", app.url))
        .header(
            "x-hub-signature-256",
            format!("sha256={}", hex::encode(m.finalize().into_bytes())),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The request becomes one automated reply, delivered once.
    let mut case = Value::Null;
    for _ in 0..300 {
        let (_, cases) = app.get("/api/v1/cases").await;
        if let Some(id) = cases["items"][0]["id"].as_str() {
            let (_, full) = app.get(&format!("/api/v1/cases/{id}")).await;
            let delivered = full["outbox"]
                .as_array()
                .is_some_and(|o| o.iter().any(|i| i["status"] == "delivered"));
            // The outcome is recorded once the reply is queued, which may be after delivery.
            let recorded = full["workflow"]["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["kind"] == "auto_reply.sent"));
            if delivered && recorded {
                case = full;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!case.is_null(), "the automatic reply was never delivered");
    let events = case["workflow"]["events"].as_array().unwrap();
    let requested: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "auto_reply.requested")
        .collect();
    let sent: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "auto_reply.sent")
        .collect();
    assert_eq!(requested.len(), 1, "{events:?}");
    assert_eq!(sent.len(), 1, "{events:?}");
    assert_eq!(sent[0]["actor"], "rule:acknowledge");
    let reply_id = sent[0]["data"]["reply_id"].as_str().unwrap();
    let (_, reply) = app.get(&format!("/api/v1/replies/{reply_id}")).await;
    assert_eq!(reply["automated"], true);
    assert_eq!(reply["record"]["template_key"], "ack");
    // An automated reply never fulfils the first-response target.
    assert!(
        case["workflow"]["first_response_at"].is_null(),
        "{}",
        case["workflow"]
    );
    assert!(
        !events.iter().any(|e| e["kind"] == "sla.fulfil"),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_automatic_reply_that_cannot_be_sent_is_recorded_as_failed_with_the_reason() {
    let app = common::spawn_app_workflow(
        WebhookConfig::default(),
        OutboundConfig::default(),
        r#"
        [[rules]]
        name = "acknowledge"
        on = ["case.opened"]
        then = [ { action = "auto_reply", template = "no_such_template" } ]
        "#,
    )
    .await;
    let (case, _) = customer_writes(&app, json!("@rita"), "Hello?", None).await;
    for _ in 0..300 {
        let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
        let events = full["workflow"]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(failed) = events.iter().find(|e| e["kind"] == "auto_reply.failed") {
            // X has no connector configured here, so nothing can be sent; the reason is kept.
            assert!(
                failed["data"]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty()),
                "{failed}"
            );
            assert!(full["outbox"].as_array().unwrap().is_empty());
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the failed automatic reply was never recorded");
}
