//! Replies end to end: a customer's comment arrives by webhook, an agent answers through the
//! API, the outbox dispatcher delivers it to a fake Graph API; failures are retried, refusals
//! stay on the case as dead letters, and a revoked token pauses the connector without losing
//! anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, spawn_app_full};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sb_outbound::OutboundConfig;
use sb_outbound::meta::MetaConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchboard_web::WebhookConfig;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "app-secret";
const PAGE: &str = "page-1";
const TOKEN: &str = "page-token-1";

async fn rig(graph: &MockServer) -> App {
    let mut meta = MetaConfig {
        base_url: graph.uri(),
        ..MetaConfig::default()
    };
    meta.tokens
        .insert(PAGE.into(), sb_outbound::Secret::new(TOKEN));
    spawn_app_full(
        WebhookConfig {
            meta_app_secret: SECRET.into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            meta: Some(meta),
            ..OutboundConfig::default()
        },
    )
    .await
}

/// Delivers one Page-feed comment as Meta would, and returns its case id.
async fn comment(app: &App, comment_id: &str, text: &str) -> String {
    comment_by(app, "u-77", comment_id, text).await
}

async fn comment_by(app: &App, author: &str, comment_id: &str, text: &str) -> String {
    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": PAGE, "time": 1_767_000_100, "changes": [{"field": "feed", "value": {
            "from": {"id": author, "name": "Sam Lee"}, "post_id": "page-1_post-9",
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
            let (_, full) = app
                .get(&format!("/api/v1/cases/{}", c["id"].as_str().unwrap()))
                .await;
            if full["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["external_id"] == comment_id)
            {
                return c["id"].as_str().unwrap().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("comment {comment_id} never reached a case");
}

async fn reply(app: &App, case: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = app
        .http
        .post(format!("{}/api/v1/cases/{case}/replies", app.url))
        .bearer_auth(KEY)
        .json(&body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// The case's outbox items once none is pending.
async fn settled(app: &App, case: &str) -> Vec<Value> {
    for _ in 0..300 {
        let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
        let items = full["outbox"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() && items.iter().all(|i| i["status"] != "pending") {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    panic!("the outbox of {case} did not settle: {}", full["outbox"]);
}

#[tokio::test]
async fn a_public_reply_and_a_move_to_private_are_delivered_once() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-1/comments"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-1"})))
        .expect(2)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v21.0/{PAGE}/messages")))
        .and(body_partial_json(
            json!({"recipient": {"id": "u-77"}, "messaging_type": "RESPONSE"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"recipient_id": "u-77", "message_id": "m-1"})),
        )
        .expect(1)
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-1", "My order never arrived").await;

    let (s, v) = reply(
        &app,
        &case,
        Some("k-1"),
        json!({"text": "Sorry Sam, we are on it."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["items"][0]["kind"], "comment_reply");
    // The agent's client retries the same request: nothing new is queued.
    let (_, again) = reply(
        &app,
        &case,
        Some("k-1"),
        json!({"text": "Sorry Sam, we are on it."}),
    )
    .await;
    assert_eq!(again["items"][0]["duplicate"], true);
    assert_eq!(again["items"][0]["outbox_id"], v["items"][0]["outbox_id"]);

    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "Could you send us your order number?", "move_to_private": true}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let kinds: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["comment_reply", "dm"]);

    let items = settled(&app, &case).await;
    assert_eq!(items.len(), 3);
    assert!(
        items.iter().all(|i| i["status"] == "delivered"),
        "{items:?}"
    );
    let (_, detail) = app
        .get(&format!(
            "/api/v1/outbox/{}",
            items[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(detail["attempts"][0]["outcome"], "delivered");
    assert_eq!(detail["remote_id"], "reply-1");
    // wiremock checks on drop that each call happened exactly as often as expected.
}

#[tokio::test]
async fn refusals_stay_on_the_case_and_a_revoked_token_pauses_the_connector() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-2/comments"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}})))
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-3/comments"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Error validating access token: The session has been invalidated", "type": "OAuthException", "code": 190}})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-3/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-3"})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = rig(&graph).await;

    let refused = comment(&app, "post-9_c-2", "Where is my parcel?").await;
    let (s, _) = reply(&app, &refused, None, json!({"text": "Checking now."})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let items = settled(&app, &refused).await;
    assert_eq!(items[0]["status"], "dead");
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("Invalid parameter")
    );
    let (_, dead) = app.get("/api/v1/outbox?status=dead").await;
    assert_eq!(dead["items"].as_array().unwrap().len(), 1);

    let paused = comment_by(&app, "u-88", "post-9_c-3", "Still waiting").await;
    assert_ne!(paused, refused);
    let (s, _) = reply(&app, &paused, None, json!({"text": "On it."})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let mut health = Value::Null;
    for _ in 0..200 {
        health = app.get("/api/v1/connectors").await.1;
        if health["outbound"][0]["status"] == "reauthorization_required" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let meta = &health["outbound"][0];
    assert_eq!(
        (meta["target"].as_str(), meta["status"].as_str()),
        (Some("meta"), Some("reauthorization_required")),
        "{health}"
    );
    assert_eq!(meta["queue_depth"], 1, "the reply waits: {health}");
    assert_eq!(meta["dead_letters"], 1);
    let facebook = health["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "facebook")
        .unwrap();
    assert!(facebook["events_per_min"].as_f64().unwrap() > 0.0);

    // The token is replaced; an operator resumes the connector; the reply goes out.
    let r = app
        .http
        .post(format!("{}/api/v1/connectors/meta/resume", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let items = settled(&app, &paused).await;
    assert_eq!(items[0]["status"], "delivered");
    assert_eq!(items[0]["attempts"], 2);
}

#[tokio::test]
async fn replies_that_cannot_be_sent_are_refused_up_front() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-4", "Hello?").await;
    for (body, status, code) in [
        (
            json!({"text": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"text": "x", "visibility": "loud"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (json!({"txt": "x"}), StatusCode::BAD_REQUEST, "invalid_body"),
    ] {
        let (s, v) = reply(&app, &case, None, body).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
    }
    let (s, v) = reply(
        &app,
        "case_01JD0000000000000000000000",
        None,
        json!({"text": "x"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // A chat message has no reply connector; X has none configured here.
    for (source, code, status) in [
        (
            "chat",
            "reply_channel_unsupported",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("x", "reply_channel_not_configured", StatusCode::CONFLICT),
    ] {
        let (s, _, v) = app
            .post(json!({"source": source, "external_id": format!("{source}-1"), "author": format!("@{source}-user"), "text": "help"}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let id = v["id"].as_str().unwrap().to_owned();
        let mut case_id = Value::Null;
        for _ in 0..200 {
            let (_, m) = app.get(&format!("/api/v1/messages/{id}")).await;
            if m["case_id"].is_string() {
                case_id = m["case_id"].clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (s, v) = reply(&app, case_id.as_str().unwrap(), None, json!({"text": "hi"})).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
    }
}

/// A mail server that accepts everything and keeps what it was given (the outside system in
/// this test; the sender's own tests cover refusals).
async fn fake_smtp() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(buf) = data.as_mut() {
                        if line == "." {
                            keep.lock().unwrap().push(std::mem::take(buf));
                            data = None;
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            buf.push_str(&line);
                            buf.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-fake\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

#[tokio::test]
async fn an_email_reply_goes_out_in_the_same_thread() {
    let (port, got) = fake_smtp().await;
    let mut smtp = sb_outbound::SmtpConfig::new("127.0.0.1");
    smtp.port = port;
    smtp.security = sb_outbound::SmtpSecurity::None;
    let app = spawn_app_full(
        WebhookConfig {
            generic_secret: "mail-secret".into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            smtp: Some(smtp),
            ..OutboundConfig::default()
        },
    )
    .await;
    let raw = b"From: Renee Martin <renee@example.org>\r\nTo: support@shop.example\r\nSubject: Broken lid\r\nMessage-ID: <lid-1@example.org>\r\nReferences: <older@example.org>\r\n\r\nThe lid of my X200 broke on day one.\r\n";
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let mut m = Hmac::<Sha256>::new_from_slice(b"mail-secret").unwrap();
    m.update(format!("{ts}.").as_bytes());
    m.update(raw);
    let r = app
        .http
        .post(format!("{}/webhooks/email", app.url))
        .header("x-switchboard-timestamp", &ts)
        .header(
            "x-switchboard-signature",
            format!("sha256={}", hex::encode(m.finalize().into_bytes())),
        )
        .body(raw.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut case = String::new();
    for _ in 0..200 {
        let (_, cases) = app.get("/api/v1/cases").await;
        if let Some(id) = cases["items"][0]["id"].as_str() {
            case = id.to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "A new lid is on its way."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["items"][0]["kind"], "email");
    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "x", "visibility": "public"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("reply_visibility_unavailable")
        )
    );
    let items = settled(&app, &case).await;
    assert_eq!(items[0]["status"], "delivered", "{items:?}");
    let mail = got.lock().unwrap().join("\n---\n");
    assert!(mail.contains("To: renee@example.org"), "{mail}");
    assert!(mail.contains("From: support@shop.example"), "{mail}");
    assert!(mail.contains("Subject: Re: Broken lid"), "{mail}");
    assert!(mail.contains("In-Reply-To: <lid-1@example.org>"), "{mail}");
    assert!(mail.contains("<older@example.org>"), "{mail}");
    assert!(mail.contains("A new lid is on its way."), "{mail}");
}

fn rfc3339_ago(secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    sb_domain::Timestamp::from_millis(now - secs * 1000).to_rfc3339()
}

#[tokio::test]
async fn the_status_feed_flags_replies_that_overpromise() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "r"})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let post_facts = |body: Value| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(format!("{}/api/v1/status", app.url))
                .bearer_auth(KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    // One bad fact refuses the whole report.
    let (s, v) = post_facts(json!({"facts": [
        {"kind": "inventory", "subject": "X200", "source": "erp", "source_time": rfc3339_ago(60), "value": {"available": 0}},
        {"kind": "inventory", "subject": "X300", "source": "erp", "source_time": rfc3339_ago(60), "value": {"available": "lots"}},
    ]}))
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("facts[1].value.available")
        ),
        "{v}"
    );
    let (_, held) = app.get("/api/v1/status").await;
    assert_eq!(held["items"].as_array().unwrap().len(), 0);

    let (s, v) = post_facts(json!({"facts": [
        {"kind": "inventory", "subject": "X200", "source": "erp", "source_time": rfc3339_ago(60), "value": {"available": 0}},
        {"kind": "service_status", "subject": "checkout", "source": "statuspage", "source_time": rfc3339_ago(7_200), "value": {"status": "outage"}},
        {"kind": "inventory", "subject": "X200", "source": "erp", "source_time": rfc3339_ago(600), "value": {"available": 12}},
    ]}))
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["stored"].as_u64(), v["ignored_older"].as_u64()),
        (Some(2), Some(1))
    );
    let (_, held) = app.get("/api/v1/status?kind=service_status").await;
    assert_eq!(held["items"][0]["stale"], true, "{held}");
    assert!(held["items"][0]["age_secs"].as_i64().unwrap() >= 7_200);
    let (_, held) = app.get("/api/v1/status?subject=X200").await;
    assert_eq!(held["items"][0]["value"]["available"], 0);
    assert_eq!(held["items"][0]["stale"], false);

    let case = comment(&app, "post-9_c-9", "Is the X200 available again?").await;
    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "Good news: the X200 is back in stock!"}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["warnings"][0]["code"], "contradicts_inventory", "{v}");
    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "The X200 is available now.", "strict": true}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("reply_contradicts_status")
        ),
        "{v}"
    );
    let (_, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "Checkout is fixed, please try again."}),
    )
    .await;
    assert_eq!(v["warnings"][0]["code"], "stale_fact", "{v}");
    let (_, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "Sorry, the X200 is sold out until next week."}),
    )
    .await;
    assert_eq!(
        v["warnings"].as_array().unwrap().len(),
        0,
        "a truthful reply: {v}"
    );
    // Three replies were queued; the strict one was not.
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(full["outbox"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_automated_reply_respects_the_customers_opt_out_but_a_person_may_answer() {
    let graph = MockServer::start().await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-optout", "Stop sending me bot messages").await;
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    let customer = full["customer_id"].as_str().unwrap().to_owned();
    let consent = |channel: &str, body: Value| {
        app.http
            .put(format!(
                "{}/api/v1/customers/{customer}/consent/{channel}",
                app.url
            ))
            .bearer_auth(KEY)
            .json(&body)
            .send()
    };
    let r = consent(
        "facebook",
        json!({"opted_out": true, "source": "customer asked in thread"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let (s, body) = reply(
        &app,
        &case,
        None,
        json!({"text": "Thanks for writing!", "automated": true}),
    )
    .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("opted_out"))
    );
    let (s, _) = reply(
        &app,
        &case,
        None,
        json!({"text": "Sorry about that, I'm looking into it."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "a person may still answer");

    let r = consent("facebook", json!({"opted_out": false}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, _) = reply(
        &app,
        &case,
        None,
        json!({"text": "We are on it.", "automated": true}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (_, list) = app
        .get(&format!("/api/v1/customers/{customer}/consent"))
        .await;
    assert_eq!(list["consents"][0]["channel"], "facebook");
    assert_eq!(list["consents"][0]["opted_out"], false);

    for (channel, body, code) in [
        (
            "fax",
            json!({"opted_out": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("x", json!({"opted_out": "yes"}), StatusCode::BAD_REQUEST),
        ("x", json!({}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            consent(channel, body.clone()).await.unwrap().status(),
            code,
            "{channel} {body}"
        );
    }
    let r = app
        .http
        .put(format!(
            "{}/api/v1/customers/cu_00000000000000000000000000/consent/x",
            app.url
        ))
        .bearer_auth(KEY)
        .json(&json!({"opted_out": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn automated_replies_pause_when_they_keep_failing_and_the_case_goes_to_a_person() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let (_, v) = app.get("/api/v1/automation").await;
    assert_eq!(
        (v["paused"].as_bool(), v["samples"].as_u64()),
        (Some(false), Some(0))
    );
    // Five automated acknowledgements in a row are refused by the platform.
    for i in 0..5 {
        let case = comment_by(
            &app,
            &format!("u-{i}"),
            &format!("post-9_c-a{i}"),
            "Where is my order?",
        )
        .await;
        let (s, _) = reply(
            &app,
            &case,
            None,
            json!({"text": "Thanks, we are on it.", "automated": true}),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        assert!(
            settled(&app, &case)
                .await
                .iter()
                .all(|i| i["status"] == "dead")
        );
    }
    let (_, v) = app.get("/api/v1/automation").await;
    assert_eq!(v["paused"], true, "{v}");
    assert_eq!(v["failure_rate"], 1.0);

    let case = comment_by(&app, "u-9", "post-9_c-a9", "Hello? Anyone?").await;
    let (s, body) = reply(
        &app,
        &case,
        None,
        json!({"text": "Thanks, we are on it.", "automated": true}),
    )
    .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("automation_paused"))
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("failed to deliver")
    );
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    assert!(
        full["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "handed-to-human")
    );
    let events = full["workflow"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["kind"] == "automation.paused"));
    // A person may still answer.
    let (s, _) = reply(
        &app,
        &case,
        None,
        json!({"text": "Sorry for the wait, I'm on it myself."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

/// A Page-feed notice about a comment: `verb` `edited` (with `message`) or `remove`.
async fn feed_notice(app: &App, comment_id: &str, verb: &str, message: Option<&str>) -> Value {
    let mut value = json!({
        "from": {"id": PAGE, "name": "Example Brand"}, "post_id": "page-1_post-9",
        "comment_id": comment_id, "parent_id": "post-9_c-1",
        "created_time": 1_767_000_500, "item": "comment", "verb": verb,
    });
    if let Some(m) = message {
        value["message"] = json!(m);
    }
    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": PAGE, "time": 1_767_000_500, "changes": [{"field": "feed", "value": value}]}]
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
    r.json().await.unwrap()
}

async fn change(
    app: &App,
    key: &str,
    method: reqwest::Method,
    path: &str,
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

#[tokio::test]
async fn a_posted_reply_is_edited_then_deleted_and_every_text_is_kept() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-1/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-7"})))
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v21.0/reply-7"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(
            json!({"message": "Sorry Sam, parcels ship within 3 working days."}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&graph)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v21.0/reply-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-1", "Where is my parcel?").await;
    let (s, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "Sorry Sam, parcels ship within 3 days."}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["reply_id"].as_str().unwrap().to_owned();
    let at = format!("/api/v1/replies/{id}");
    settled(&app, &case).await;

    let (s, edited) = change(
        &app,
        KEY,
        reqwest::Method::PATCH,
        &at,
        json!({"text": "Sorry Sam, parcels ship within 3 working days.", "reason": "wrong delay"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "edited");
    let versions = edited["record"]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[0]["text"],
        "Sorry Sam, parcels ship within 3 days."
    );
    assert_eq!(versions[1]["after_send"], true);
    settled(&app, &case).await;

    // Deleting needs a reason.
    let (s, v) = change(
        &app,
        KEY,
        reqwest::Method::POST,
        &format!("{at}/delete"),
        json!({"reason": "  "}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "invalid_field");
    let (s, deleted) = change(
        &app,
        KEY,
        reqwest::Method::POST,
        &format!("{at}/delete"),
        json!({"reason": "posted on the wrong thread"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    settled(&app, &case).await;
    // Asking again changes nothing and sends nothing (the fake expects one DELETE).
    let (s, again) = change(
        &app,
        KEY,
        reqwest::Method::POST,
        &format!("{at}/delete"),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["record"]["changes"].as_array().unwrap().len(), 2);
    // A deleted reply is not edited any more.
    let (s, v) = change(
        &app,
        KEY,
        reqwest::Method::PATCH,
        &at,
        json!({"text": "too late"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["code"], "reply_deleted");

    // Reviewable: both texts, both changes with who and why, on the case and in the list.
    let (_, record) = app.get(&at).await;
    let changes = record["record"]["changes"].as_array().unwrap();
    assert_eq!(changes[0]["op"], "edit");
    assert_eq!(changes[0]["reason"], "wrong delay");
    assert_eq!(changes[1]["op"], "delete");
    assert_eq!(changes[1]["by"], "key:config-admin");
    let (_, list) = app.get("/api/v1/replies?status=deleted").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    let (_, full) = app.get(&format!("/api/v1/cases/{case}")).await;
    let kinds: Vec<&str> = full["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"reply.edited"), "{kinds:?}");
    assert!(kinds.contains(&"reply.deleted"), "{kinds:?}");
}

#[tokio::test]
async fn edits_and_removals_made_on_the_platform_are_recorded_on_our_reply() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/post-9_c-1/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-8"})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    let case = comment(&app, "post-9_c-1", "Is the store open today?").await;
    let (_, v) = reply(&app, &case, None, json!({"text": "Yes, until 8pm."})).await;
    let at = format!("/api/v1/replies/{}", v["reply_id"].as_str().unwrap());
    settled(&app, &case).await;

    let report = feed_notice(&app, "reply-8", "edited", Some("Yes, until 6pm today.")).await;
    assert_eq!(report["revised"], 1, "{report}");
    let (_, record) = app.get(&at).await;
    assert_eq!(record["status"], "edited");
    let versions = record["record"]["versions"].as_array().unwrap();
    assert_eq!(versions.last().unwrap()["by"], "platform");
    assert_eq!(versions.last().unwrap()["text"], "Yes, until 6pm today.");
    // The same notice again is recognised and changes nothing.
    feed_notice(&app, "reply-8", "edited", Some("Yes, until 6pm today.")).await;
    let (_, record) = app.get(&at).await;
    assert_eq!(record["record"]["versions"].as_array().unwrap().len(), 2);

    let report = feed_notice(&app, "reply-8", "remove", None).await;
    assert_eq!(report["revised"], 1, "{report}");
    let (_, record) = app.get(&at).await;
    assert_eq!(record["status"], "deleted");
    let changes = record["record"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c["by"] == "platform"));
    // A notice about a comment that is neither a message nor our reply is reported skipped.
    let report = feed_notice(&app, "nobody-9", "remove", None).await;
    assert_eq!(report["revised"], 0, "{report}");
}

#[tokio::test]
async fn reply_changes_are_refused_clearly() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v21.0/{PAGE}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message_id": "m-9"})))
        .mount(&graph)
        .await;
    let app = rig(&graph).await;
    common::issue_key(&app.store, "agent-2-key", "agent", None).await;
    let case = comment(&app, "post-9_c-1", "Please call me back").await;
    let (_, v) = reply(
        &app,
        &case,
        None,
        json!({"text": "We sent you a DM.", "visibility": "private"}),
    )
    .await;
    let at = format!("/api/v1/replies/{}", v["reply_id"].as_str().unwrap());
    settled(&app, &case).await;
    let patch = |key: &'static str, body: Value| {
        let app = &app;
        let at = at.clone();
        async move { change(app, key, reqwest::Method::PATCH, &at, body).await }
    };
    // A Messenger message cannot be edited once sent.
    let (s, v) = patch(KEY, json!({"text": "We sent you a direct message."})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "reply_change_unsupported");
    // Someone else's reply, without the right to approve replies.
    let (s, v) = patch("agent-2-key", json!({"text": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "not_reply_author");
    // Malformed bodies.
    let (s, v) = patch(KEY, json!({"text": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "invalid_field");
    let (s, v) = patch(KEY, json!({"text": "ok", "colour": "red"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = change(
        &app,
        KEY,
        reqwest::Method::PATCH,
        "/api/v1/replies/rp_missing",
        json!({"text": "ok"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Nothing was recorded by the refusals.
    let (_, record) = app.get(&at).await;
    assert_eq!(record["status"], "queued");
    assert!(record["record"]["changes"].is_null());
}
