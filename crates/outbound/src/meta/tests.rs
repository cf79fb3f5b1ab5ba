use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::Action;
use crate::test_support::{self as ts};

const PAGE: &str = "104857600000001";
const IG: &str = "17841400000000001";
const PAGE_TOKEN: &str = "EAAG-page-token";
const IG_TOKEN: &str = "EAAG-ig-token";

fn sender(base: &str) -> Meta {
    let config = MetaConfig {
        base_url: base.into(),
        tokens: BTreeMap::from([
            (PAGE.to_owned(), Secret::new(PAGE_TOKEN)),
            (IG.to_owned(), Secret::new(IG_TOKEN)),
        ]),
        ..MetaConfig::default()
    };
    Meta::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn dm(platform: &str, account: &str) -> Outgoing {
    let mut r = ts::reply(platform, ReplyKind::Dm, account);
    r.recipient = Some("6543210987654321".into());
    ts::item(Payload::Reply(r))
}

fn comment_reply(platform: &str, account: &str, kind: ReplyKind, to: &str) -> Outgoing {
    let mut r = ts::reply(platform, kind, account);
    r.in_reply_to = Some(to.into());
    ts::item(Payload::Reply(r))
}

const TEXT: &str = "Sorry for the trouble! We've sent you a DM to sort out your order.";

#[tokio::test]
async fn a_messenger_dm_goes_to_the_page_messages_edge_as_a_response() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v21.0/{PAGE}/messages")))
        .and(bearer_token(PAGE_TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "recipient": {"id": "6543210987654321"},
            "messaging_type": "RESPONSE",
            "message": {"text": TEXT},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"recipient_id": "6543210987654321", "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM".into())
        }
    );
    // The token travels in the header only.
    let request = ts::only_request(&server).await;
    assert!(request.url.query().is_none());
}

#[tokio::test]
async fn an_instagram_dm_uses_the_instagram_accounts_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v21.0/{IG}/messages")))
        .and(bearer_token(IG_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message_id": "aWdf"})))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&dm("instagram", IG)).await;
    assert_eq!(outcome.code(), "delivered", "{outcome:?}");
}

#[tokio::test]
async fn comment_replies_go_to_the_edge_each_platform_uses() {
    let cases = [
        (
            "facebook",
            PAGE,
            ReplyKind::CommentReply,
            "123_456",
            "/v21.0/123_456/comments",
        ),
        (
            "facebook",
            PAGE,
            ReplyKind::PostReply,
            "104857600000001_789",
            "/v21.0/104857600000001_789/comments",
        ),
        (
            "instagram",
            IG,
            ReplyKind::CommentReply,
            "17900000000000001",
            "/v21.0/17900000000000001/replies",
        ),
        (
            "instagram",
            IG,
            ReplyKind::PostReply,
            "17800000000000002",
            "/v21.0/17800000000000002/comments",
        ),
    ];
    for (platform, account, kind, to, expected_path) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(expected_path))
            .and(body_json(json!({"message": TEXT})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "17999"})))
            .expect(1)
            .mount(&server)
            .await;
        let outcome = sender(&server.uri())
            .send(&comment_reply(platform, account, kind, to))
            .await;
        assert_eq!(
            outcome,
            Outcome::Delivered {
                status: 200,
                remote_id: Some("17999".into())
            },
            "{platform} {kind:?}"
        );
    }
}

#[test]
fn a_comment_id_cannot_reach_another_endpoint() {
    let s = sender("https://graph.example.com");
    let reply = match comment_reply("facebook", PAGE, ReplyKind::CommentReply, "1/../me").payload {
        Payload::Reply(r) => r,
        _ => unreachable!(),
    };
    let call = s.call_for(&reply).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(call.url.path(), "/v21.0/1%2F..%2Fme/comments");
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {
        "message": "An error", "type": "OAuthException", "code": code,
        "error_subcode": subcode, "fbtrace_id": "AbC"
    }}))
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
async fn an_expired_or_revoked_page_token_pauses_the_page() {
    for template in [
        graph_error(400, 190, Some(463)),
        graph_error(400, 190, Some(460)),
        graph_error(401, 0, None),
        ResponseTemplate::new(401),
    ] {
        let server = answering(template).await;
        let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
        assert_eq!(outcome.code(), "reauthorize", "{outcome:?}");
    }
}

#[tokio::test]
async fn an_account_without_a_token_pauses_instead_of_dropping_the_reply() {
    let outcome = sender("http://127.0.0.1:9")
        .send(&dm("facebook", "unknown-page"))
        .await;
    assert_eq!(outcome.code(), "reauthorize");
    assert_eq!(outcome.status(), None);
}

#[tokio::test]
async fn rate_limits_are_retried_with_metas_estimate_when_given() {
    for code in [4, 17, 32, 613] {
        let server = answering(graph_error(400, code, None)).await;
        let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
        assert_eq!(outcome.code(), "retry", "code {code}");
        assert!(format!("{outcome:?}").contains(&format!("code {code}")));
    }
    let usage = r#"{"104857600000001":[{"type":"pages","call_count":100,"total_cputime":30,"total_time":40,"estimated_time_to_regain_access":7}]}"#;
    let server =
        answering(graph_error(400, 32, None).insert_header("x-business-use-case-usage", usage))
            .await;
    let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
    match outcome {
        Outcome::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(420))),
        other => panic!("expected a retry, got {other:?}"),
    }
    let server = answering(ResponseTemplate::new(429).insert_header("retry-after", "9")).await;
    let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
    match outcome {
        Outcome::Retry { status, after, .. } => {
            assert_eq!(status, Some(429));
            assert_eq!(after, Some(Duration::from_secs(9)));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn temporary_graph_failures_are_retried() {
    for template in [
        graph_error(500, 1, None),
        graph_error(400, 2, None),
        graph_error(400, 1, None),
        ResponseTemplate::new(503),
    ] {
        let server = answering(template).await;
        let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
        assert_eq!(outcome.code(), "retry", "{outcome:?}");
    }
}

#[tokio::test]
async fn a_reply_graph_refuses_is_dropped() {
    // 100: invalid parameter; 10/2018278: outside the messaging window; 200: permissions.
    for template in [
        graph_error(400, 100, Some(33)),
        graph_error(400, 10, Some(2_018_278)),
        graph_error(403, 200, None),
        ResponseTemplate::new(404),
    ] {
        let server = answering(template).await;
        let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
        assert_eq!(outcome.code(), "permanent", "{outcome:?}");
    }
    let server = answering(graph_error(400, 10, Some(2_018_278))).await;
    let outcome = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
    assert_eq!(
        outcome,
        Outcome::Permanent {
            status: Some(400),
            error: "meta answered 400: An error (code 10, subcode 2018278)".into()
        }
    );
}

#[tokio::test]
async fn an_unreachable_or_slow_graph_is_retried() {
    let refused = sender(&ts::refused_base())
        .send(&dm("facebook", PAGE))
        .await;
    assert_eq!(refused.code(), "retry");
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&dm("facebook", PAGE)).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn what_graph_cannot_express_is_refused_without_a_call() {
    let server = answering(ResponseTemplate::new(200)).await;
    let s = sender(&server.uri());
    let mut no_recipient = ts::reply("facebook", ReplyKind::Dm, PAGE);
    no_recipient.recipient = None;
    let mut no_target = ts::reply("instagram", ReplyKind::CommentReply, IG);
    no_target.in_reply_to = Some(" ".into());
    let mut empty = ts::reply("facebook", ReplyKind::Dm, PAGE);
    empty.recipient = Some("1".into());
    empty.text = "  ".into();
    let wrong_platform = ts::reply("x", ReplyKind::Dm, PAGE);
    let mut email = ts::reply("facebook", ReplyKind::Email, PAGE);
    email.in_reply_to = Some("123_456".into());
    for reply in [no_recipient, no_target, empty, wrong_platform, email] {
        let outcome = s.send(&ts::item(Payload::Reply(reply.clone()))).await;
        assert_eq!(outcome.code(), "permanent", "{reply:?}");
    }
    let outcome = s.send(&ts::alert(Action::Trigger)).await;
    assert_eq!(outcome.code(), "permanent");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn page_tokens_never_print() {
    let config = MetaConfig {
        tokens: BTreeMap::from([(PAGE.to_owned(), Secret::new(PAGE_TOKEN))]),
        ..MetaConfig::default()
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains(PAGE_TOKEN), "{printed}");
    assert!(printed.contains(PAGE));
}

fn change(platform: &str, account: &str, change: crate::item::Change) -> Outgoing {
    ts::item(Payload::ReplyChange(crate::item::ReplyChange {
        platform: platform.into(),
        kind: ReplyKind::CommentReply,
        account: account.into(),
        remote_id: "123_789".into(),
        change,
    }))
}

#[tokio::test]
async fn an_edited_facebook_comment_is_posted_to_the_comment_itself() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/123_789"))
        .and(bearer_token(PAGE_TOKEN))
        .and(body_json(
            json!({"message": "Corrected: refunds take 3 days."}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let edit = crate::item::Change::Edit {
        text: "Corrected: refunds take 3 days.".into(),
    };
    let outcome = sender(&server.uri())
        .send(&change("facebook", PAGE, edit))
        .await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("123_789".into())
        }
    );
}

#[tokio::test]
async fn a_deleted_comment_is_deleted_once_and_already_gone_counts_as_done() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v21.0/123_789"))
        .and(bearer_token(IG_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v21.0/123_789"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": {"message": "Unsupported delete request", "code": 100}}),
        ))
        .mount(&server)
        .await;
    let meta = sender(&server.uri());
    let item = change("instagram", IG, crate::item::Change::Delete);
    for status in [200, 404] {
        let outcome = meta.send(&item).await;
        assert_eq!(
            outcome,
            Outcome::Delivered {
                status,
                remote_id: Some("123_789".into())
            }
        );
    }
}

#[tokio::test]
async fn an_instagram_edit_is_refused_without_a_call() {
    let server = MockServer::start().await;
    let edit = crate::item::Change::Edit { text: "new".into() };
    let outcome = sender(&server.uri())
        .send(&change("instagram", IG, edit))
        .await;
    assert!(
        matches!(outcome, Outcome::Permanent { status: None, .. }),
        "{outcome:?}"
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}
