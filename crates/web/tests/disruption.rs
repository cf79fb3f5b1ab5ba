//! Disruption messaging as operations meet it (F2, F3): the X200 kettle is being recalled in
//! eu-west. Operations draft a message from the incident for customers there with an open
//! case about the X200; the preview lists exactly who gets what — Ana in English, Jonas in
//! German, Olga left out because she opted out — and says that the stock figure was stale so
//! the fallback wording was used. Nothing is sent until a supervisor (not the drafter, not an
//! agent) approves; then each customer gets one DM through the X connector (a wiremock fake),
//! a second approval sends nothing, the incident's timeline records the sending, and the
//! customers already told are not told again by the next draft.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app_full};
use reqwest::{Method, StatusCode};
use sb_domain::{CustomerId, Tier, Timestamp};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_web::WebhookConfig;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPS: &str = "sb_test_operations_oli";
const LEAD: &str = "sb_test_supervisor_bo";
const AGENT: &str = "sb_test_agent_ana";
const ANALYST: &str = "sb_test_analyst_al";

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

fn rfc3339(offset_s: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Timestamp::from_millis(now + offset_s * 1000).to_rfc3339()
}

/// A customer writes to the brand's X account; answers the customer id once understood.
async fn writes(app: &App, handle: &str, name: &str, text: &str, region: &str) -> CustomerId {
    let (s, _, v) = app
        .post(json!({"source": "x", "channel": "brand", "external_id": format!("m-{handle}-{}", ulid::Ulid::generate()),
                     "author": {"handle": handle, "name": name}, "text": text, "region": region}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let m = app.processed(v["id"].as_str().unwrap()).await;
    CustomerId::parse(m["customer_id"].as_str().unwrap()).unwrap()
}

async fn approved_template(app: &App, locale: &str, body: &str) {
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/templates",
        AGENT,
        Some(json!({"key": "x200_recall", "locale": locale, "body": body})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let route = format!(
        "/api/v1/templates/x200_recall/versions/{}/state",
        v["version"]
    );
    for (key, to) in [(AGENT, "pending_approval"), (LEAD, "approved")] {
        let (s, v) = call(app, Method::POST, &route, key, Some(json!({ "state": to }))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
}

async fn report_stock(app: &App, available: u64, observed_s_ago: i64) {
    let (s, v) = call(
        app,
        Method::POST,
        "/api/v1/status",
        KEY,
        Some(json!({"facts": [{"kind": "inventory", "subject": "X200", "region": "eu-west",
            "source": "erp", "source_time": rfc3339(-observed_s_ago), "value": {"available": available}}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

fn recipient<'a>(d: &'a Value, customer: &CustomerId) -> &'a Value {
    d["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["customer_id"] == customer.as_str())
        .unwrap_or_else(|| panic!("{customer} is not in {d}"))
}

fn customers_of(d: &Value) -> Vec<String> {
    let mut c: Vec<String> = d["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c
}

async fn x_fake() -> MockServer {
    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/2/dm_conversations/with/[^/]+/messages$"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"data": {"dm_conversation_id": "c-1", "dm_event_id": "e-1"}}),
            ),
        )
        .mount(&x)
        .await;
    x
}

async fn spawn_with_x(x: &MockServer) -> App {
    let outbound: sb_outbound::OutboundConfig = toml::from_str(&format!(
        "[x]\nbase_url = \"{}\"\ntokens = {{ brand = \"x-user-token\" }}\n",
        x.uri()
    ))
    .unwrap();
    let app = spawn_app_full(WebhookConfig::default(), outbound).await;
    issue_key(&app.store, OPS, "operations", None).await;
    issue_key(&app.store, LEAD, "supervisor", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    app
}

struct Recall {
    incident: String,
    ana: CustomerId,
    jonas: CustomerId,
    olga: CustomerId,
    far: CustomerId,
    blender: CustomerId,
}

/// The customers, the templates, a stale stock figure and the incident.
async fn recall(app: &App) -> Recall {
    let ana = writes(
        app,
        "@ana",
        "Ana Lima",
        "My X200 kettle burnt the counter, is there a recall?",
        "eu-west",
    )
    .await;
    let jonas = writes(
        app,
        "@jonas",
        "Jonas Berg",
        "Mein X200 Wasserkocher hat gebrannt und die Arbeitsplatte ist kaputt. Gibt es einen Rückruf?",
        "eu-west",
    )
    .await;
    let olga = writes(
        app,
        "@olga",
        "Olga Ek",
        "The X200 started smoking in my kitchen!",
        "eu-west",
    )
    .await;
    let far = writes(
        app,
        "@far",
        "Fara Day",
        "My X200 burnt too, any recall?",
        "us-east",
    )
    .await;
    let blender = writes(
        app,
        "@bea",
        "Bea Holm",
        "The Z9 blender lid cracked on day one.",
        "eu-west",
    )
    .await;
    let (s, _) = call(
        app,
        Method::PUT,
        &format!("/api/v1/customers/{olga}/consent/x"),
        KEY,
        Some(json!({"opted_out": true, "source": "customer replied STOP"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    approved_template(
        app,
        "en",
        "Hi {{customer.first_name | \"there\"}}, we are recalling the X200 kettle. Replacement units available: {{status.X200}}.",
    )
    .await;
    approved_template(
        app,
        "de",
        "Hallo {{customer.first_name}}, wir rufen den X200 Wasserkocher zurück. Verfügbare Ersatzgeräte: {{status.X200}}.",
    )
    .await;
    // Two hours old: stale by the default of 15 minutes.
    report_stock(app, 40, 7_200).await;
    let (s, inc) = call(
        app,
        Method::POST,
        "/api/v1/incidents",
        OPS,
        Some(json!({"title": "X200 recall in eu-west", "severity": "critical"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    Recall {
        incident: inc["id"].as_str().unwrap().to_owned(),
        ana,
        jonas,
        olga,
        far,
        blender,
    }
}

fn draft_body() -> Value {
    json!({
        "template": "x200_recall",
        "segment": {"regions": ["eu-west"], "about": ["X200"]},
        "fallbacks": {"status.X200": "we will write to you as soon as replacements arrive"},
    })
}

#[tokio::test]
async fn a_recall_message_reaches_exactly_the_affected_customers_once_after_approval() {
    let x = x_fake().await;
    let app = spawn_with_x(&x).await;
    let r = recall(&app).await;
    let route = format!("/api/v1/incidents/{}/disruption", r.incident);

    // The draft: the stock figure is stale, so the fallback wording is used.
    let (s, d) = call(&app, Method::POST, &route, OPS, Some(draft_body())).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["status"], "pending_approval");
    let mut expected = vec![r.ana.to_string(), r.jonas.to_string(), r.olga.to_string()];
    expected.sort();
    assert_eq!(
        customers_of(&d),
        expected,
        "neither us-east nor the Z9 blender"
    );
    assert!(!customers_of(&d).contains(&r.far.to_string()));
    assert!(!customers_of(&d).contains(&r.blender.to_string()));
    // Operations see what is said, not to whom; a supervisor sees the whole text.
    assert_eq!(
        recipient(&d, &r.ana)["text"],
        "Hi [redacted], we are recalling the X200 kettle. Replacement units available: we will write to you as soon as replacements arrive."
    );
    let (_, full) = call(
        &app,
        Method::GET,
        &format!("/api/v1/disruptions/{}", d["id"].as_str().unwrap()),
        LEAD,
        None,
    )
    .await;
    let ana = recipient(&full, &r.ana);
    assert_eq!(ana["locale"], "en");
    assert_eq!(
        ana["text"],
        "Hi Ana, we are recalling the X200 kettle. Replacement units available: we will write to you as soon as replacements arrive."
    );
    assert_eq!(ana["fallbacks"], json!(["status.X200"]));
    assert_eq!(ana["target"], "x");
    let jonas = recipient(&full, &r.jonas);
    assert_eq!(jonas["locale"], "de", "{jonas}");
    assert!(
        jonas["text"]
            .as_str()
            .unwrap()
            .starts_with("Hallo Jonas, wir rufen")
    );
    let olga = recipient(&d, &r.olga);
    assert_eq!(olga["excluded"], "opted_out");
    assert_eq!(olga["text"], "");
    assert_eq!(
        (
            d["progress"]["recipients"].as_u64(),
            d["progress"]["excluded"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(d["record"]["facts"][0]["subject"], "X200");
    assert_eq!(d["record"]["facts"][0]["state"], "stale");
    let stale_draft = d["id"].as_str().unwrap().to_owned();

    // A fresh figure is stated as it is.
    report_stock(&app, 120, 5).await;
    let (s, d) = call(&app, Method::POST, &route, LEAD, Some(draft_body())).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(
        recipient(&d, &r.ana)["text"],
        "Hi Ana, we are recalling the X200 kettle. Replacement units available: 120."
    );
    assert_eq!(recipient(&d, &r.ana)["fallbacks"], json!([]));
    assert_eq!(d["record"]["facts"][0]["state"], "fresh");
    let id = d["id"].as_str().unwrap().to_owned();
    let decide = format!("/api/v1/disruptions/{id}/decision");

    // Nothing is sent before approval.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(x.received_requests().await.unwrap().is_empty());

    // Nobody approves their own draft; agents do not approve at all; a rejection needs a reason.
    let (s, p) = call(
        &app,
        Method::POST,
        &decide,
        LEAD,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("own_disruption"))
    );
    let (s, _) = call(
        &app,
        Method::POST,
        &decide,
        AGENT,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, p) = call(
        &app,
        Method::POST,
        &decide,
        OPS,
        Some(json!({"decision": "reject", "reason": " "})),
    )
    .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (s, p) = call(
        &app,
        Method::POST,
        &decide,
        OPS,
        Some(json!({"decision": "maybe"})),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );

    // Operations approve: two DMs, once each.
    let (s, d) = call(
        &app,
        Method::POST,
        &decide,
        OPS,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["record"]["decisions"][0]["role"], "operations");
    assert_ne!(d["record"]["decisions"][0]["by"], d["created_by"]);
    assert_eq!(d["record"]["decisions"][0]["outcome"], "approved");
    assert_eq!(d["record"]["decisions"][0]["queued"], 2);
    let (s, p) = call(
        &app,
        Method::POST,
        &decide,
        OPS,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_decided"))
    );
    let sent = {
        let mut waited = 0;
        loop {
            let (_, d) = call(
                &app,
                Method::GET,
                &format!("/api/v1/disruptions/{id}"),
                OPS,
                None,
            )
            .await;
            if d["status"] == "sent" {
                break d;
            }
            waited += 1;
            assert!(waited < 200, "never sent: {d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(sent["progress"]["delivered"], 2);
    assert_eq!(sent["progress"]["queued"], 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dms = x.received_requests().await.unwrap();
    let mut to: Vec<String> = dms.iter().map(|r| r.url.path().to_owned()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "/2/dm_conversations/with/@ana/messages",
            "/2/dm_conversations/with/@jonas/messages"
        ]
    );
    let ana_dm: Value = dms
        .iter()
        .find(|r| r.url.path().contains("@ana"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .unwrap();
    assert_eq!(
        ana_dm["text"],
        "Hi Ana, we are recalling the X200 kettle. Replacement units available: 120."
    );
    assert_eq!(dms[0].headers["authorization"], "Bearer x-user-token");

    // The incident's timeline records it.
    let (_, inc) = call(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{}", r.incident),
        OPS,
        None,
    )
    .await;
    let sent_entry = inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message_sent")
        .unwrap_or_else(|| panic!("{inc}"));
    assert!(
        sent_entry["text"].as_str().unwrap().contains(&id),
        "{sent_entry}"
    );
    assert!(
        sent_entry["text"]
            .as_str()
            .unwrap()
            .contains("2 customer message")
    );

    // The customers already told are not told again; the stale draft can no longer add anyone.
    let (s, p) = call(&app, Method::POST, &route, LEAD, Some(draft_body())).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("disruption_no_recipients")
        ),
        "{p}"
    );
    let (s, p) = call(
        &app,
        Method::POST,
        &format!("/api/v1/disruptions/{stale_draft}/decision"),
        LEAD,
        Some(json!({"decision": "reject", "reason": "superseded by the fresh stock figure"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["status"], "rejected");
    assert_eq!(p["progress"]["queued"], 0);
    assert_eq!(x.received_requests().await.unwrap().len(), 2);

    // Analysts follow progress without reading what customers were told.
    let (s, seen) = call(
        &app,
        Method::GET,
        &format!("/api/v1/disruptions/{id}"),
        ANALYST,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        recipient(&seen, &r.ana)["text"],
        "Hi [redacted], we are recalling the X200 kettle. Replacement units available: 120."
    );
}

#[tokio::test]
async fn tier_and_value_narrow_the_segment_and_opting_out_after_the_draft_still_counts() {
    let x = x_fake().await;
    let app = spawn_with_x(&x).await;
    let r = recall(&app).await;
    report_stock(&app, 120, 5).await;
    app.store
        .upsert_customer(
            sb_domain::Platform::X,
            "@ana",
            Some("Ana Lima"),
            Tier::Vip,
            900.0,
            Timestamp(1),
            None,
        )
        .await
        .unwrap();
    app.store
        .upsert_customer(
            sb_domain::Platform::X,
            "@jonas",
            Some("Jonas Berg"),
            Tier::Vip,
            100.0,
            Timestamp(1),
            None,
        )
        .await
        .unwrap();
    let route = format!("/api/v1/incidents/{}/disruption", r.incident);
    let mut body = draft_body();
    body["segment"]["tiers"] = json!(["vip"]);
    body["segment"]["min_value"] = json!(500);
    let (s, d) = call(&app, Method::POST, &route, OPS, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(customers_of(&d), [r.ana.to_string()]);

    // Region only: everyone in eu-west, whatever they wrote about.
    let body =
        json!({"template": "x200_recall", "segment": {"regions": ["EU-WEST"]}, "fallbacks": {}});
    let (s, d2) = call(&app, Method::POST, &route, OPS, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{d2}");
    assert!(customers_of(&d2).contains(&r.blender.to_string()));
    assert!(!customers_of(&d2).contains(&r.far.to_string()));

    // Ana opts out between the draft and the approval: nothing goes to her.
    let (s, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/customers/{}/consent/x", r.ana),
        KEY,
        Some(json!({"opted_out": true, "source": "customer replied STOP"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, d) = call(
        &app,
        Method::POST,
        &format!("/api/v1/disruptions/{}/decision", d["id"].as_str().unwrap()),
        LEAD,
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(recipient(&d, &r.ana)["excluded"], "opted_out");
    assert_eq!(d["record"]["decisions"][0]["queued"], 0);
    assert_eq!(d["record"]["decisions"][0]["opted_out_since_draft"], 1);
    assert_eq!(d["status"], "sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(x.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_drafts_are_refused_with_a_reason_and_store_nothing() {
    let x = x_fake().await;
    let app = spawn_with_x(&x).await;
    let r = recall(&app).await;
    let route = format!("/api/v1/incidents/{}/disruption", r.incident);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"segment": {"regions": ["eu-west"]}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"template": " ", "segment": {"regions": ["eu-west"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
        ),
        (
            json!({"template": "x200_recall", "segment": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"template": "x200_recall", "segment": {"about": ["X200"], "tiers": ["gold"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"template": "x200_recall", "segment": {"about": ["X200"], "min_value": -1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"template": "x200_recall", "segment": {"about": ["X200"], "colour": "red"}}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            json!({"template": "no_such", "segment": {"about": ["X200"]}}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        // No fallback for the stale stock figure: nothing half-filled is drafted.
        (
            json!({"template": "x200_recall", "segment": {"about": ["X200"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "template_variable_missing",
        ),
        (
            json!({"template": "x200_recall", "segment": {"about": ["Q7 toaster"]}, "fallbacks": {"status.X200": "soon"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "disruption_no_recipients",
        ),
    ];
    for (body, status, code) in cases {
        let (s, p) = call(&app, Method::POST, &route, OPS, Some(body.clone())).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{body}: {p}");
    }
    // Only a draft version of a template: not sendable.
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/templates",
        AGENT,
        Some(json!({"key": "draft_only", "locale": "en", "body": "Hello"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, p) = call(
        &app,
        Method::POST,
        &route,
        OPS,
        Some(json!({"template": "draft_only", "segment": {"about": ["X200"]}})),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("template_not_approved")
        )
    );
    // Unknown ids, and who may draft.
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/incidents/inc_nope/disruption",
        OPS,
        Some(draft_body()),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &app,
        Method::GET,
        "/api/v1/disruptions/dis_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        OPS,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&app, Method::POST, &route, AGENT, Some(draft_body())).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        app.store
            .incident_disruptions(&sb_domain::IncidentId::parse(&r.incident).unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    // A closed incident takes no more messages.
    for to in ["resolved", "closed"] {
        let (s, _) = call(
            &app,
            Method::POST,
            &format!("/api/v1/incidents/{}", r.incident),
            OPS,
            Some(json!({"status": to})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, p) = call(&app, Method::POST, &route, OPS, Some(draft_body())).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("incident_closed"))
    );
}

#[tokio::test]
async fn erasure_blanks_a_customers_disruption_message_and_the_export_holds_it() {
    let x = x_fake().await;
    let app = spawn_with_x(&x).await;
    let r = recall(&app).await;
    let (s, d) = call(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{}/disruption", r.incident),
        OPS,
        Some(draft_body()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, export) = call(
        &app,
        Method::GET,
        &format!("/api/v1/customers/{}/export", r.ana),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(export["disruption_messages"][0]["disruption_id"], d["id"]);
    assert!(
        export["disruption_messages"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi Ana")
    );
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/customers/{}/erase", r.ana),
        KEY,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, after) = call(
        &app,
        Method::GET,
        &format!("/api/v1/disruptions/{}", d["id"].as_str().unwrap()),
        KEY,
        None,
    )
    .await;
    assert_eq!(recipient(&after, &r.ana)["text"], "");
    assert!(
        recipient(&after, &r.jonas)["text"]
            .as_str()
            .unwrap()
            .starts_with("Hallo Jonas")
    );
}
