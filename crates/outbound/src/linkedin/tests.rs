use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{bearer_token, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::Action;
use crate::test_support as ts;

const ORG: &str = "urn:li:organization:5515715";
const TOKEN: &str = "AQX-org-token";
const POST: &str = "urn:li:share:7280000000000000001";
const ACTIVITY: &str = "urn:li:activity:7280000000000000000";
const COMMENT: &str = "urn:li:comment:(urn:li:activity:7280000000000000000,7281111111111111111)";
const COMMENT_PATH: &str = "/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7280000000000000000%2C7281111111111111111%29/comments";
const NEW_COMMENT: &str =
    "urn:li:comment:(urn:li:activity:7280000000000000000,7282222222222222222)";
const TEXT: &str = "Sorry for the trouble! We've sent you a DM to sort out your order.";

fn sender(base: &str) -> LinkedIn {
    let config = LinkedInConfig {
        base_url: base.into(),
        tokens: BTreeMap::from([(ORG.to_owned(), Secret::new(TOKEN))]),
        ..LinkedInConfig::default()
    };
    LinkedIn::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn comment_reply() -> Reply {
    let mut r = ts::reply("linkedin", ReplyKind::CommentReply, ORG);
    r.in_reply_to = Some(COMMENT.into());
    r.context = Some(POST.into());
    r
}

fn item(reply: Reply) -> Outgoing {
    ts::item(Payload::Reply(reply))
}

#[tokio::test]
async fn a_reply_to_a_comment_is_nested_under_it_as_the_organization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMMENT_PATH))
        .and(bearer_token(TOKEN))
        .and(header("linkedin-version", "202411"))
        .and(header("x-restli-protocol-version", "2.0.0"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "actor": ORG,
            "object": POST,
            "message": {"text": TEXT},
            "parentComment": COMMENT,
        })))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-restli-id", encode_component(NEW_COMMENT).as_str())
                .set_body_json(json!({
                    "actor": ORG, "object": POST, "message": {"text": TEXT},
                    "parentComment": COMMENT, "id": "7282222222222222222",
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            remote_id: Some(NEW_COMMENT.into())
        }
    );
    let request = ts::only_request(&server).await;
    assert!(
        request.url.query().is_none(),
        "the token stays in the header"
    );
}

#[tokio::test]
async fn a_reply_to_the_post_itself_is_a_top_level_comment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/rest/socialActions/urn%3Ali%3Ashare%3A7280000000000000001/comments",
        ))
        .and(body_json(json!({
            "actor": ORG,
            "object": POST,
            "message": {"text": TEXT},
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "$URN": NEW_COMMENT, "id": "7282222222222222222"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut reply = ts::reply("linkedin", ReplyKind::PostReply, ORG);
    reply.in_reply_to = Some(POST.into());
    let outcome = sender(&server.uri()).send(&item(reply)).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            remote_id: Some(NEW_COMMENT.into())
        }
    );
}

#[tokio::test]
async fn without_a_context_the_post_is_read_from_the_comment_urn() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMMENT_PATH))
        .and(body_json(json!({
            "actor": ORG,
            "object": ACTIVITY,
            "message": {"text": TEXT},
            "parentComment": COMMENT,
        })))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "7282222222222222222"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut reply = comment_reply();
    reply.context = None;
    let outcome = sender(&server.uri()).send(&item(reply)).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 201,
            remote_id: Some("7282222222222222222".into())
        }
    );
}

#[test]
fn a_urn_cannot_reach_another_endpoint() {
    let s = sender("https://api.linkedin.example/");
    let mut reply = ts::reply("linkedin", ReplyKind::PostReply, ORG);
    reply.in_reply_to = Some("urn:li:share:1/../../v2/me?x=1#y".into());
    let call = s.call_for(&reply).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        call.url.as_str(),
        "https://api.linkedin.example/rest/socialActions/urn%3Ali%3Ashare%3A1%2F..%2F..%2Fv2%2Fme%3Fx%3D1%23y/comments"
    );
    assert_eq!(decode_component(&encode_component(COMMENT)), COMMENT);
}

#[test]
fn the_version_is_a_linkedin_month() {
    for (version, ok) in [
        ("202411", true),
        ("202506", true),
        ("2024-11", false),
        ("", false),
    ] {
        let config = LinkedInConfig {
            version: version.into(),
            ..LinkedInConfig::default()
        };
        assert_eq!(LinkedIn::new(config, ts::http()).is_ok(), ok, "{version:?}");
    }
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn li_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"status": status, "serviceErrorCode": code, "message": message}))
}

#[tokio::test]
async fn an_expired_token_pauses_the_organization() {
    let server = answering(li_error(
        401,
        65601,
        "The token used in the request has expired",
    ))
    .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(
        outcome,
        Outcome::Reauthorize {
            status: Some(401),
            error: "linkedin answered 401: The token used in the request has expired (serviceErrorCode 65601)".into()
        }
    );
    let mut unknown = comment_reply();
    unknown.account = "urn:li:organization:1".into();
    let outcome = sender(&server.uri()).send(&item(unknown)).await;
    assert_eq!((outcome.code(), outcome.status()), ("reauthorize", None));
}

#[tokio::test]
async fn a_throttled_organization_waits_as_told() {
    let server = answering(
        li_error(429, 101, "Resource level throttle limit reached")
            .insert_header("retry-after", "120"),
    )
    .await;
    let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
    match outcome {
        Outcome::Retry { status, after, .. } => {
            assert_eq!(status, Some(429));
            assert_eq!(after, Some(Duration::from_secs(120)));
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[tokio::test]
async fn a_linkedin_outage_is_retried() {
    for status in [500, 502, 503, 504] {
        let server = answering(ResponseTemplate::new(status)).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        assert_eq!((outcome.code(), outcome.status()), ("retry", Some(status)));
    }
}

#[tokio::test]
async fn a_comment_linkedin_refuses_is_dropped() {
    for (status, code, message) in [
        (400, 100, "Comment text is too long"),
        (
            403,
            100,
            "Not enough permissions to access: partnerApiSocialActions.CREATE.20241101",
        ),
        (404, 0, "Parent comment not found"),
        (422, 0, "Unprocessable Entity"),
    ] {
        let server = answering(li_error(status, code, message)).await;
        let outcome = sender(&server.uri()).send(&item(comment_reply())).await;
        match &outcome {
            Outcome::Permanent { status: s, error } => {
                assert_eq!(*s, Some(status));
                assert!(error.contains(message), "{error}");
            }
            other => panic!("expected permanent for {status}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_or_slow_linkedin_is_retried() {
    let refused = sender(&ts::refused_base())
        .send(&item(comment_reply()))
        .await;
    assert_eq!(refused.code(), "retry");
    let server = answering(ResponseTemplate::new(201).set_delay(Duration::from_millis(1500))).await;
    let slow = sender(&server.uri()).send(&item(comment_reply())).await;
    assert_eq!(slow.code(), "retry");
}

#[tokio::test]
async fn what_linkedin_cannot_express_is_refused_without_a_call() {
    let server = answering(ResponseTemplate::new(201)).await;
    let s = sender(&server.uri());
    let mut no_target = comment_reply();
    no_target.in_reply_to = None;
    let mut not_a_comment = comment_reply();
    not_a_comment.in_reply_to = Some(POST.into());
    let mut not_a_urn = comment_reply();
    not_a_urn.in_reply_to = Some("7281111111111111111".into());
    let mut no_post = comment_reply();
    no_post.context = None;
    no_post.in_reply_to = Some("urn:li:comment:7281111111111111111".into());
    let mut bad_context = comment_reply();
    bad_context.context = Some("share 1".into());
    let mut actor_not_urn = comment_reply();
    actor_not_urn.account = "5515715".into();
    let mut empty = comment_reply();
    empty.text = " ".into();
    let mut dm = comment_reply();
    dm.kind = ReplyKind::Dm;
    let mut email = comment_reply();
    email.kind = ReplyKind::Email;
    let mut wrong_platform = comment_reply();
    wrong_platform.platform = "facebook".into();
    for reply in [
        no_target,
        not_a_comment,
        not_a_urn,
        no_post,
        bad_context,
        actor_not_urn,
        empty,
        dm,
        email,
        wrong_platform,
    ] {
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
fn organization_tokens_never_print() {
    let config = LinkedInConfig {
        tokens: BTreeMap::from([(ORG.to_owned(), Secret::new(TOKEN))]),
        ..LinkedInConfig::default()
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains(TOKEN), "{printed}");
    assert!(printed.contains(ORG));
}

fn comment_change(change: crate::item::Change) -> Outgoing {
    ts::item(Payload::ReplyChange(crate::item::ReplyChange {
        platform: "linkedin".into(),
        kind: ReplyKind::CommentReply,
        account: ORG.into(),
        remote_id: COMMENT.into(),
        change,
    }))
}

const OWN_COMMENT_PATH: &str =
    "/rest/socialActions/urn%3Ali%3Aactivity%3A7280000000000000000/comments/7281111111111111111";

#[tokio::test]
async fn an_edited_comment_is_a_partial_update_of_its_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(OWN_COMMENT_PATH))
        .and(bearer_token(TOKEN))
        .and(header("X-RestLi-Method", "PARTIAL_UPDATE"))
        .and(header("LinkedIn-Version", "202411"))
        .and(body_json(
            json!({"patch": {"message": {"$set": {"text": "Corrected text"}}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let edit = crate::item::Change::Edit {
        text: "Corrected text".into(),
    };
    let outcome = sender(&server.uri()).send(&comment_change(edit)).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 204,
            remote_id: Some(COMMENT.into())
        }
    );
    let request = ts::only_request(&server).await;
    assert_eq!(
        request.url.query(),
        Some("actor=urn%3Ali%3Aorganization%3A5515715")
    );
}

#[tokio::test]
async fn a_deleted_comment_is_deleted_as_the_organization() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(OWN_COMMENT_PATH))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = sender(&server.uri())
        .send(&comment_change(crate::item::Change::Delete))
        .await;
    assert!(
        matches!(outcome, Outcome::Delivered { status: 204, .. }),
        "{outcome:?}"
    );
    // A remote id that is not a comment URN cannot be addressed.
    let mut odd = comment_change(crate::item::Change::Delete);
    if let Payload::ReplyChange(c) = &mut odd.payload {
        c.remote_id = "7281111111111111111".into();
    }
    let outcome = sender(&server.uri()).send(&odd).await;
    assert!(
        matches!(outcome, Outcome::Permanent { status: None, .. }),
        "{outcome:?}"
    );
}
