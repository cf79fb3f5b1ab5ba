use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::Action;
use crate::test_support as ts;

const BUSINESS: &str = "-000ExampleBrandOpenId0000";
const TOKEN: &str = "act.tiktok-business-token";
const VIDEO: &str = "7448000000000000001";
const COMMENT: &str = "7448000000000000777";
const REPLY_PATH: &str = "/open_api/v1.3/business/comment/reply/create/";
const TEXT: &str = "Sorry for the trouble! We've sent you a DM to sort out your order.";

fn sender(base: &str) -> TikTok {
    let config = TikTokConfig {
        base_url: base.into(),
        tokens: BTreeMap::from([(BUSINESS.to_owned(), Secret::new(TOKEN))]),
        ..TikTokConfig::default()
    };
    TikTok::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn comment_reply() -> Reply {
    let mut r = ts::reply("tiktok", ReplyKind::CommentReply, BUSINESS);
    r.in_reply_to = Some(COMMENT.into());
    r.context = Some(VIDEO.into());
    r
}

fn item(reply: Reply) -> Outgoing {
    ts::item(Payload::Reply(reply))
}

fn answer(code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "code": code,
        "message": message,
        "request_id": "20250101120500ABCDEF",
        "data": {}
    }))
}

#[tokio::test]
async fn a_reply_to_a_comment_on_our_video_is_posted_under_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REPLY_PATH))
        .and(header("access-token", TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "business_id": BUSINESS,
            "video_id": VIDEO,
            "comment_id": COMMENT,
            "text": TEXT,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": 0,
            "message": "OK",
            "request_id": "20250101120500ABCDEF",
            "data": {
                "comment_id": "7448000000000000999",
                "video_id": VIDEO,
                "text": TEXT,
                "parent_comment_id": COMMENT,
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("7448000000000000999".into())
        }
    );
    let request = ts::only_request(&server).await;
    assert!(
        request.url.query().is_none(),
        "the token stays in the header"
    );
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_numeric_comment_id_keeps_every_digit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"code":0,"message":"OK","data":{"comment_id":7448000000000000999}}"#,
        ))
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 200,
            remote_id: Some("7448000000000000999".into())
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
async fn a_revoked_or_expired_token_pauses_the_account() {
    for (code, message) in [
        (40001, "No permission to operate on this business account."),
        (40101, "Invalid app id or secret."),
        (40102, "Access token has expired."),
        (40104, "Access token is empty."),
        (40105, "Access token is incorrect or has been revoked."),
    ] {
        let server = answering(answer(code, message)).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        assert_eq!(
            outcome,
            Outcome::Reauthorize {
                status: Some(200),
                error: format!(
                    "tiktok answered 200 with code {code}: {message} (request 20250101120500ABCDEF)"
                )
            }
        );
    }
    let server = answering(ResponseTemplate::new(401)).await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(
        (outcome.code(), outcome.status()),
        ("reauthorize", Some(401))
    );
    let mut unknown = comment_reply();
    unknown.account = "another-business".into();
    let outcome = sender(&server.uri()).send(&item(unknown)).await;
    assert_eq!((outcome.code(), outcome.status()), ("reauthorize", None));
}

#[tokio::test]
async fn a_rate_limited_app_is_tried_again() {
    let server =
        answering(answer(40100, "App reaches the QPS limit.").insert_header("retry-after", "30"))
            .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    match outcome {
        Outcome::Retry {
            status,
            after,
            error,
        } => {
            assert_eq!(status, Some(200));
            assert_eq!(after, Some(Duration::from_secs(30)));
            assert!(error.contains("code 40100"), "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    let server = answering(ResponseTemplate::new(429)).await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!((outcome.code(), outcome.status()), ("retry", Some(429)));
}

#[tokio::test]
async fn a_tiktok_side_failure_is_tried_again() {
    for code in [50000, 50002, 51021] {
        let server = answering(answer(code, "System error. Please try again later.")).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        assert_eq!(outcome.code(), "retry", "code {code}");
    }
    for status in [500, 503] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        assert_eq!((outcome.code(), outcome.status()), ("retry", Some(status)));
    }
}

#[tokio::test]
async fn a_reply_tiktok_refuses_is_dropped() {
    for (code, message) in [
        (40002, "comment_id: Comment not found."),
        (40006, "text: Text exceeds 150 characters."),
        (40051, "Comments are turned off for this video."),
    ] {
        let server = answering(answer(code, message)).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        match &outcome {
            Outcome::Permanent { status, error } => {
                assert_eq!(*status, Some(200));
                assert!(error.contains(message), "{error}");
            }
            other => panic!("expected permanent for {code}, got {other:?}"),
        }
    }
    let server = answering(ResponseTemplate::new(404)).await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!((outcome.code(), outcome.status()), ("permanent", Some(404)));
}

#[tokio::test]
async fn an_answer_without_a_result_code_is_not_retried() {
    // It may have been posted; a retry could post it twice.
    let server =
        answering(ResponseTemplate::new(200).set_body_string("<html>gateway</html>")).await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    match &outcome {
        Outcome::Permanent { status, error } => {
            assert_eq!(*status, Some(200));
            assert!(error.contains("not retried"), "{error}");
        }
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_tiktok_is_retried() {
    let refused = sender(&ts::refused_base())
        .send(&item(comment_reply()))
        .await;
    assert_eq!(refused.code(), "retry");
    let server = answering(answer(0, "OK").set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn what_tiktok_cannot_express_is_refused_without_a_call() {
    let server = answering(answer(0, "OK")).await;
    let s = sender(&server.uri());
    let mut no_comment = comment_reply();
    no_comment.in_reply_to = None;
    let mut no_video = comment_reply();
    no_video.context = Some(" ".into());
    let mut empty = comment_reply();
    empty.text = String::new();
    let mut post_reply = comment_reply();
    post_reply.kind = ReplyKind::PostReply;
    let mut dm = comment_reply();
    dm.kind = ReplyKind::Dm;
    let mut wrong_platform = comment_reply();
    wrong_platform.platform = "instagram".into();
    for reply in [no_comment, no_video, empty, post_reply, dm, wrong_platform] {
        let outcome = s.send(&item(reply.clone())).await;
        assert_eq!(
            (outcome.code(), outcome.status()),
            ("permanent", None),
            "{reply:?}"
        );
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
fn the_version_and_base_shape_the_path() {
    let config = TikTokConfig {
        base_url: "https://business-api.tiktok.example/proxy".into(),
        version: "v1.4".into(),
        ..TikTokConfig::default()
    };
    let s = TikTok::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"));
    let call = s
        .call_for(&comment_reply())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        call.url.as_str(),
        "https://business-api.tiktok.example/proxy/open_api/v1.4/business/comment/reply/create/"
    );
}

#[test]
fn business_tokens_never_print() {
    let config = TikTokConfig {
        tokens: BTreeMap::from([(BUSINESS.to_owned(), Secret::new(TOKEN))]),
        ..TikTokConfig::default()
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains(TOKEN), "{printed}");
}
