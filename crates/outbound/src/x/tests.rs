use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::Action;
use crate::test_support::{self as ts, NOW_S};

const BRAND: &str = "2244994945";
const TOKEN: &str = "x-user-token-brand";
const CUSTOMER: &str = "3001969357";
const TWEET: &str = "1874448000000000001";
const TEXT: &str = "Sorry for the trouble! We've sent you a DM to sort out your order.";

fn sender(base: &str) -> X {
    let config = XConfig {
        base_url: base.into(),
        tokens: BTreeMap::from([(BRAND.to_owned(), Secret::new(TOKEN))]),
    };
    X::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn post_reply(kind: ReplyKind) -> Outgoing {
    let mut r = ts::reply("x", kind, BRAND);
    r.in_reply_to = Some(TWEET.into());
    ts::item(Payload::Reply(r))
}

fn dm() -> Outgoing {
    let mut r = ts::reply("x", ReplyKind::Dm, BRAND);
    r.recipient = Some(CUSTOMER.into());
    ts::item(Payload::Reply(r))
}

#[tokio::test]
async fn a_reply_to_a_complaint_is_posted_in_its_thread() {
    for kind in [ReplyKind::PostReply, ReplyKind::CommentReply] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(bearer_token(TOKEN))
            .and(header("content-type", "application/json"))
            .and(body_json(
                json!({"text": TEXT, "reply": {"in_reply_to_tweet_id": TWEET}}),
            ))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"data": {"id": "1874449000000000009", "text": TEXT}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let outcome = sender(&server.uri()).send(&post_reply(kind)).await;
        assert_eq!(
            outcome,
            Outcome::Delivered {
                status: 201,
                remote_id: Some("1874449000000000009".into())
            },
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_dm_goes_to_the_conversation_with_the_customer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2/dm_conversations/with/{CUSTOMER}/messages"
        )))
        .and(bearer_token(TOKEN))
        .and(body_json(json!({"text": TEXT})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "dm_conversation_id": format!("{CUSTOMER}-{BRAND}"),
            "dm_event_id": "1874450000000000010"
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&dm()).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            remote_id: Some("1874450000000000010".into())
        }
    );
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_rate_limited_account_waits_for_the_window_to_reset() {
    let server = answering(
        ResponseTemplate::new(429)
            .insert_header("x-rate-limit-limit", "100")
            .insert_header("x-rate-limit-remaining", "0")
            .insert_header("x-rate-limit-reset", (NOW_S + 840).to_string().as_str())
            .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
    )
    .await;
    let outcome = sender(&server.uri())
        .send(&post_reply(ReplyKind::PostReply))
        .await;
    assert_eq!(
        outcome,
        Outcome::Retry {
            status: Some(429),
            after: Some(Duration::from_secs(840)),
            error: "x answered 429: Too Many Requests".into()
        }
    );
}

#[tokio::test]
async fn an_x_outage_is_retried() {
    for status in [500, 503] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&dm()).await;
        assert_eq!(outcome.code(), "retry", "{status}");
    }
}

#[tokio::test]
async fn a_revoked_user_token_pauses_the_account() {
    let server = answering(ResponseTemplate::new(401).set_body_json(json!({
        "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
    })))
    .await;
    let outcome = sender(&server.uri()).send(&dm()).await;
    assert_eq!(
        outcome,
        Outcome::Reauthorize {
            status: Some(401),
            error: "x answered 401: Unauthorized".into()
        }
    );
    let unknown = sender("http://127.0.0.1:9");
    let mut r = ts::reply("x", ReplyKind::Dm, "someone-else");
    r.recipient = Some(CUSTOMER.into());
    let outcome = unknown.send(&ts::item(Payload::Reply(r))).await;
    assert_eq!(outcome.code(), "reauthorize");
}

#[tokio::test]
async fn a_post_x_refuses_is_dropped() {
    for (status, detail) in [
        (
            403,
            "You are not allowed to create a Tweet with duplicate content.",
        ),
        (
            403,
            "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.",
        ),
        (400, "The `text` field is too long."),
        (404, "Could not find resource."),
    ] {
        let server = answering(ResponseTemplate::new(status).set_body_json(json!({
            "detail": detail, "type": "about:blank", "title": "Forbidden", "status": status
        })))
        .await;
        let outcome = sender(&server.uri())
            .send(&post_reply(ReplyKind::PostReply))
            .await;
        assert_eq!(
            outcome,
            Outcome::Permanent {
                status: Some(status),
                error: format!("x answered {status}: {detail}")
            }
        );
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_x_is_retried() {
    let refused = sender(&ts::refused_base()).send(&dm()).await;
    assert_eq!(refused.code(), "retry");
    let server = answering(ResponseTemplate::new(201).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&dm()).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn what_x_cannot_express_is_refused_without_a_call() {
    let server = answering(ResponseTemplate::new(201)).await;
    let s = sender(&server.uri());
    let no_recipient = ts::reply("x", ReplyKind::Dm, BRAND);
    let no_target = ts::reply("x", ReplyKind::PostReply, BRAND);
    let mut facebook = ts::reply("facebook", ReplyKind::PostReply, BRAND);
    facebook.in_reply_to = Some(TWEET.into());
    let mut email = ts::reply("x", ReplyKind::Email, BRAND);
    email.in_reply_to = Some(TWEET.into());
    for reply in [no_recipient, no_target, facebook, email] {
        let outcome = s.send(&ts::item(Payload::Reply(reply.clone()))).await;
        assert_eq!(outcome.code(), "permanent", "{reply:?}");
    }
    assert_eq!(
        s.send(&ts::alert(Action::Trigger)).await.code(),
        "permanent"
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn user_tokens_never_print() {
    let config = XConfig {
        tokens: BTreeMap::from([(BRAND.to_owned(), Secret::new(TOKEN))]),
        ..XConfig::default()
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains(TOKEN), "{printed}");
}

#[tokio::test]
async fn a_deleted_post_reply_is_deleted_with_the_accounts_token() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("DELETE"))
        .and(wiremock::matchers::path("/2/tweets/1874448000000000099"))
        .and(wiremock::matchers::bearer_token(TOKEN))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"data": {"deleted": true}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let item = crate::test_support::item(Payload::ReplyChange(crate::item::ReplyChange {
        platform: "x".into(),
        kind: ReplyKind::PostReply,
        account: BRAND.into(),
        remote_id: "1874448000000000099".into(),
        change: crate::item::Change::Delete,
    }));
    let outcome = sender(&server.uri()).send(&item).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("1874448000000000099".into())
        }
    );
    // X has no edit: refused before any call.
    let mut edit = item.clone();
    if let Payload::ReplyChange(c) = &mut edit.payload {
        c.change = crate::item::Change::Edit { text: "new".into() };
    }
    let outcome = sender(&server.uri()).send(&edit).await;
    assert!(
        matches!(outcome, Outcome::Permanent { status: None, .. }),
        "{outcome:?}"
    );
}
