//! Platform webhooks over real HTTP: the platforms' own payloads and signature test vectors,
//! then our own signed bodies for the cases the fixtures do not cover.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{App, spawn_app_with};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchboard_web::WebhookConfig;

const META_SECRET: &str = "test_app_secret_not_real";
const META_TOKEN: &str = "verify-me";
const META_FEED: &[u8] =
    include_bytes!("../../connectors/fixtures/meta_page_feed_comment_add.json");
const META_FEED_SIG: &str =
    "sha256=cd05aa2939cbb9f500feb093b0d6ee42c58ae0a5ae218d448b2a869a9af749ce";
const X_SECRET: &str = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu";
const X_DM: &[u8] = include_bytes!("../../connectors/fixtures/x_aaa_direct_message_events.json");
const X_DM_SIG: &str = "sha256=VbdKkA1NGq0rA/s6dqg+fxcgz7ahGyR+xSGTOeQOBzk=";
const GENERIC_SECRET: &str = "generic-secret-for-tests";
const LINKEDIN_SECRET: &str = "linkedin-secret-for-tests";
const TIKTOK_SECRET: &str = "tiktok-secret-for-tests";
const EMAIL_FIRST: &[u8] = include_bytes!("../../connectors/fixtures/email_first.eml");
const EMAIL_REPLY: &[u8] = include_bytes!("../../connectors/fixtures/email_reply.eml");

fn config() -> WebhookConfig {
    WebhookConfig {
        meta_app_secret: META_SECRET.into(),
        meta_verify_token: META_TOKEN.into(),
        x_consumer_secret: X_SECRET.into(),
        generic_secret: GENERIC_SECRET.into(),
        linkedin_client_secret: LINKEDIN_SECRET.into(),
        tiktok_client_secret: TIKTOK_SECRET.into(),
        accounts: Default::default(),
    }
}

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn meta_sig(body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(META_SECRET, body)))
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The generic scheme, computed here from its definition rather than with the product's code.
fn generic_headers(ts: i64, body: &[u8]) -> [(&'static str, String); 2] {
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(body);
    [
        ("x-switchboard-timestamp", ts.to_string()),
        (
            "x-switchboard-signature",
            format!("sha256={}", hex::encode(hmac(GENERIC_SECRET, &signed))),
        ),
    ]
}

async fn post(
    app: &App,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, String, Value) {
    let mut req = app
        .http
        .post(format!("{}{path}", app.url))
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, r.json().await.unwrap_or(Value::Null))
}

/// The stored message for `source`/`external_id`, once the pipeline has processed it.
async fn processed(app: &App, external_id: &str) -> Value {
    for _ in 0..200 {
        let (_, cases) = app.get("/api/v1/cases").await;
        for case in cases["items"].as_array().into_iter().flatten() {
            let (_, full) = app
                .get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
                .await;
            for m in full["messages"].as_array().into_iter().flatten() {
                if m["external_id"] == external_id && m["stage"] == "processed" {
                    let (_, view) = app
                        .get(&format!("/api/v1/messages/{}", m["id"].as_str().unwrap()))
                        .await;
                    return view;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no processed message `{external_id}`");
}

async fn message_count(app: &App) -> i64 {
    app.store.counts().await.unwrap().messages
}

#[tokio::test]
async fn meta_handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = spawn_app_with(config()).await;
    let url = |mode: &str, token: &str| {
        format!(
            "{}/webhooks/meta?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444",
            app.url
        )
    };
    let r = app
        .http
        .get(url("subscribe", META_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    for (mode, token, code) in [
        ("subscribe", "wrong", "handshake_wrong_token"),
        ("unsubscribe", META_TOKEN, "handshake_wrong_mode"),
    ] {
        let r = app.http.get(url(mode, token)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], code);
    }
}

#[tokio::test]
async fn a_signed_meta_comment_becomes_a_case_once() {
    let app = spawn_app_with(config()).await;
    let sig = [("x-hub-signature-256", META_FEED_SIG.to_owned())];
    let (s, _, report) = post(&app, "/webhooks/meta", &sig, META_FEED).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["accepted"], 1);
    let m = processed(&app, "<POST_ID>_<COMMENT_ID>").await;
    assert_eq!(m["source"], "facebook");
    assert_eq!(m["author"]["name"], "Jane Example");
    assert_eq!(m["enrichment"]["sentiment_label"], "negative");
    assert!(m["case_id"].is_string());

    // Meta redelivers: acknowledged, nothing new.
    let (s, _, report) = post(&app, "/webhooks/meta", &sig, META_FEED).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (report["accepted"].as_u64(), report["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(message_count(&app).await, 1);
}

/// A body, its headers, and the status and code it must be refused with.
type Refusal<'a> = (&'a [u8], Vec<(&'a str, String)>, StatusCode, &'a str);

#[tokio::test]
async fn meta_deliveries_with_a_bad_signature_or_body_are_refused_and_store_nothing() {
    let app = spawn_app_with(config()).await;
    let mut tampered = META_FEED.to_vec();
    tampered[60] ^= 1;
    let cases: [Refusal; 5] = [
        (
            META_FEED,
            vec![],
            StatusCode::UNAUTHORIZED,
            "signature_missing",
        ),
        (
            &tampered,
            vec![("x-hub-signature-256", META_FEED_SIG.into())],
            StatusCode::UNAUTHORIZED,
            "signature_mismatch",
        ),
        (
            META_FEED,
            vec![("x-hub-signature-256", "sha1=abc".into())],
            StatusCode::UNAUTHORIZED,
            "signature_malformed",
        ),
        (
            b"{not json",
            vec![("x-hub-signature-256", meta_sig(b"{not json"))],
            StatusCode::BAD_REQUEST,
            "payload_malformed_json",
        ),
        (
            b"[1,2]",
            vec![("x-hub-signature-256", meta_sig(b"[1,2]"))],
            StatusCode::BAD_REQUEST,
            "payload_unexpected_shape",
        ),
    ];
    for (body, headers, status, code) in cases {
        let (s, ctype, v) = post(&app, "/webhooks/meta", &headers, body).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{v}");
        assert_eq!(ctype, "application/problem+json");
    }
    assert_eq!(message_count(&app).await, 0);
}

fn feed_change(verb: &str, comment_id: &str, text: Option<&str>) -> Value {
    let mut value = json!({
        "from": {"id": "u-77", "name": "Sam Lee"},
        "post_id": "page-1_post-9",
        "comment_id": comment_id,
        "parent_id": "page-1_post-9",
        "created_time": 1_767_000_000,
        "item": "comment",
        "verb": verb,
    });
    if let Some(t) = text {
        value["message"] = json!(t);
    }
    json!({"field": "feed", "value": value})
}

#[tokio::test]
async fn meta_edits_and_removals_keep_the_old_text() {
    let app = spawn_app_with(config()).await;
    let send = |changes: Vec<Value>| {
        let body = serde_json::to_vec(&json!({
            "object": "page",
            "entry": [{"id": "page-1", "time": 1_767_000_100, "changes": changes}]
        }))
        .unwrap();
        let app = &app;
        async move {
            let (s, _, report) = post(
                app,
                "/webhooks/meta",
                &[("x-hub-signature-256", meta_sig(&body))],
                &body,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{report}");
            report
        }
    };
    // One delivery: the comment, then its edit (applied after the comment is stored).
    let r = send(vec![
        feed_change("add", "post-9_c-1", Some("Where is my refund?")),
        feed_change(
            "edited",
            "post-9_c-1",
            Some("Where is my refund??? Day 20."),
        ),
    ])
    .await;
    assert_eq!(
        (r["accepted"].as_u64(), r["revised"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let r = send(vec![
        feed_change("remove", "post-9_c-1", None),
        feed_change("edited", "post-9_c-404", Some("never seen")),
    ])
    .await;
    assert_eq!(r["revised"], 1, "{r}");
    assert!(r["skipped"].to_string().contains("post-9_c-404"), "{r}");

    let m = processed(&app, "post-9_c-1").await;
    assert_eq!(m["text"], "Where is my refund??? Day 20.");
    assert!(
        m["edited_at"].is_string() && m["removed_at"].is_string(),
        "{m}"
    );
    let revisions: Vec<(&str, &str)> = m["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["previous_text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [
            ("edit", "Where is my refund?"),
            ("remove", "Where is my refund??? Day 20.")
        ]
    );
}

#[tokio::test]
async fn deliveries_for_accounts_that_are_not_connected_are_skipped() {
    let mut cfg = config();
    cfg.accounts.insert("some-other-page".into());
    let app = spawn_app_with(cfg).await;
    let sig = [("x-hub-signature-256", META_FEED_SIG.to_owned())];
    let (s, _, report) = post(&app, "/webhooks/meta", &sig, META_FEED).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(report["accepted"], 0);
    assert!(
        report["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not connected")
    );
    assert_eq!(message_count(&app).await, 0);
}

#[tokio::test]
async fn x_crc_and_a_signed_direct_message() {
    let app = spawn_app_with(config()).await;
    let r = app
        .http
        .get(format!(
            "{}/webhooks/x?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["response_token"],
        "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
    );
    let r = app
        .http
        .get(format!("{}/webhooks/x", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let sig = [("x-twitter-webhooks-signature", X_DM_SIG.to_owned())];
    let (s, _, report) = post(&app, "/webhooks/x", &sig, X_DM).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert!(report["accepted"].as_u64().unwrap() >= 1, "{report}");
    let m = processed(&app, "1874448000000000002").await;
    assert_eq!(m["source"], "x");
    assert_eq!(m["kind"], "dm");
    assert_eq!(m["visibility"], "private");

    let forged = format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(hmac("not-the-secret", X_DM))
    );
    let before = message_count(&app).await;
    let (s, _, v) = post(
        &app,
        "/webhooks/x",
        &[("x-twitter-webhooks-signature", forged)],
        X_DM,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_mismatch"))
    );
    assert_eq!(message_count(&app).await, before);
}

#[tokio::test]
async fn generic_deliveries_are_signed_fresh_and_never_replayed() {
    let app = spawn_app_with(config()).await;
    let body = serde_json::to_vec(&json!([
        {"external_id": "chat-1", "author": "visitor-9", "text": "The checkout page keeps failing"},
        {"external_id": "chat-2", "author": "visitor-9", "text": "Still failing", "source": "x"},
    ]))
    .unwrap();
    let headers = generic_headers(now_s(), &body);
    let (s, _, report) = post(&app, "/webhooks/generic/chat", &headers, &body).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["skipped"][0]["at"], "[1]");
    let m = processed(&app, "chat-1").await;
    assert_eq!(m["source"], "chat");

    let (s, _, v) = post(&app, "/webhooks/generic/chat", &headers, &body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("signature_replayed"))
    );

    let old = generic_headers(now_s() - 301, &body);
    let (s, _, v) = post(&app, "/webhooks/generic/chat", &old, &body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_stale"))
    );

    let other = generic_headers(now_s(), b"[]");
    let (s, _, v) = post(&app, "/webhooks/generic/chat", &other, &body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_mismatch"))
    );

    let (s, _, v) = post(
        &app,
        "/webhooks/generic/fax",
        &generic_headers(now_s(), &body),
        &body,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert_eq!(message_count(&app).await, 1);
}

#[tokio::test]
async fn inbound_email_threads_a_reply_into_the_same_case() {
    let app = spawn_app_with(config()).await;
    for raw in [EMAIL_FIRST, EMAIL_REPLY] {
        let (s, _, report) =
            post(&app, "/webhooks/email", &generic_headers(now_s(), raw), raw).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["accepted"], 1);
    }
    let first = processed(&app, "first.4711@mail.example.org").await;
    let reply = processed(&app, "second.4712@mail.example.org").await;
    assert_eq!(first["source"], "email");
    assert_eq!(first["channel"], "support@shop.example");
    assert_eq!(first["enrichment"]["language"], "fr");
    assert_eq!(reply["in_reply_to"], "agent.reply.1@shop.example");
    assert_eq!(first["case_id"], reply["case_id"]);
    assert_eq!(first["customer_id"], reply["customer_id"]);

    let junk = b"this is not an e-mail";
    let (s, _, v) = post(
        &app,
        "/webhooks/email",
        &generic_headers(now_s(), junk),
        junk,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(message_count(&app).await, 2);
}

#[tokio::test]
async fn a_customer_who_tweets_then_emails_with_linked_identities_has_one_case() {
    let app = spawn_app_with(config()).await;
    let now = now_s();
    let tweeted_at = jiff_free_rfc3339(now - 3_600);
    let (s, _, v) = app
        .post(json!({
            "source": "x", "external_id": "t-555", "author": "@renee",
            "text": "@acme my parcel never arrived, this is the third time", "created_at": tweeted_at,
        }))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let tweet = processed(&app, "t-555").await;
    let customer = tweet["customer_id"].as_str().unwrap().to_owned();

    let link = |body: Value| {
        let app = &app;
        let customer = customer.clone();
        async move {
            let r = app
                .http
                .post(format!(
                    "{}/api/v1/customers/{customer}/identities",
                    app.url
                ))
                .bearer_auth(common::KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let address = json!({"platform": "email", "handle": "renee.martin@example.org"});
    assert_eq!(link(address.clone()).await.0, StatusCode::CREATED);
    assert_eq!(link(address).await.0, StatusCode::OK);
    let (s, v) = link(json!({"platform": "fax", "handle": "1"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_source"))
    );
    let (s, v) = link(json!({"platform": "email"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );

    let date = httpdate_free(now);
    let raw = format!(
        "From: Renee Martin <renee.martin@example.org>\r\nTo: support@shop.example\r\nSubject: Parcel\r\nDate: {date}\r\nMessage-ID: <mail-555@example.org>\r\n\r\nI also wrote to you on X about this parcel.\r\n"
    );
    let (s, _, report) = post(
        &app,
        "/webhooks/email",
        &generic_headers(now, raw.as_bytes()),
        raw.as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let mail = processed(&app, "mail-555@example.org").await;
    assert_eq!(mail["customer_id"], customer);
    assert_eq!(
        mail["case_id"], tweet["case_id"],
        "one conversation, one case"
    );
}

/// RFC 3339 for unix seconds, without a date library.
fn jiff_free_rfc3339(unix_s: i64) -> String {
    sb_domain::Timestamp::from_millis(unix_s * 1000).to_rfc3339()
}

/// An RFC 5322 date for unix seconds (UTC), without a date library.
fn httpdate_free(unix_s: i64) -> String {
    let rfc = jiff_free_rfc3339(unix_s); // 2026-11-23T10:00:00Z
    let (date, time) = rfc.split_once('T').unwrap();
    let mut parts = date.split('-');
    let (y, m, d) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[m.parse::<usize>().unwrap() - 1];
    format!("{d} {month} {y} {} +0000", &time[..8])
}

const LINKEDIN_COMMENT: &[u8] = include_bytes!("../../connectors/fixtures/linkedin_comment.json");
const TIKTOK_COMMENT: &[u8] = include_bytes!("../../connectors/fixtures/tiktok_comment.json");

#[tokio::test]
async fn linkedin_challenge_and_a_signed_comment() {
    let app = spawn_app_with(config()).await;
    let code = "890e4665-4dfe-4ab1-b689-ed553bceeed0";
    let r = app
        .http
        .get(format!(
            "{}/webhooks/linkedin?challengeCode={code}",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["challengeCode"], code);
    assert_eq!(
        v["challengeResponse"],
        hex::encode(hmac(LINKEDIN_SECRET, code.as_bytes()))
    );
    // Anything else would make the endpoint a signing oracle for forged deliveries.
    let r = app
        .http
        .get(format!(
            "{}/webhooks/linkedin?challengeCode={{\"forged\":1}}",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let sig = [(
        "x-li-signature",
        hex::encode(hmac(LINKEDIN_SECRET, LINKEDIN_COMMENT)),
    )];
    let (s, _, report) = post(&app, "/webhooks/linkedin", &sig, LINKEDIN_COMMENT).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["accepted"], 1);
    let m = processed(
        &app,
        "urn:li:comment:(urn:li:activity:<ACTIVITY_ID>,<COMMENT_ID>)",
    )
    .await;
    assert_eq!(m["source"], "linkedin");
    let bad = [(
        "x-li-signature",
        hex::encode(hmac("wrong", LINKEDIN_COMMENT)),
    )];
    let (s, _, v) = post(&app, "/webhooks/linkedin", &bad, LINKEDIN_COMMENT).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_mismatch"))
    );
}

#[tokio::test]
async fn a_signed_tiktok_comment_and_a_stale_one() {
    let app = spawn_app_with(config()).await;
    let sign = |t: i64| {
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(TIKTOK_COMMENT);
        [(
            "tiktok-signature",
            format!("t={t},s={}", hex::encode(hmac(TIKTOK_SECRET, &signed))),
        )]
    };
    let (s, _, v) = post(
        &app,
        "/webhooks/tiktok",
        &sign(now_s() - 400),
        TIKTOK_COMMENT,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_stale"))
    );
    let (s, _, report) = post(&app, "/webhooks/tiktok", &sign(now_s()), TIKTOK_COMMENT).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["accepted"], 1);
    let m = processed(&app, "7450000000000000001").await;
    assert_eq!(m["source"], "tiktok");
    assert_eq!(m["author"]["name"], "Jane Example");
}
