use super::*;
use crate::event::Skipped;
use sb_domain::{MessageKind, NewMessage, Timestamp, Visibility};

const ACCOUNT: &str = "<BUSINESS_OPEN_ID>";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one_message(body: &[u8]) -> NewMessage {
    let parsed = parse(body).unwrap();
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    match parsed.events.into_iter().next().unwrap() {
        InboundEvent::Message { account, message } => {
            assert_eq!(account, ACCOUNT);
            assert_eq!(message["account"], json!(account));
            NewMessage::parse(message).unwrap()
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

/// A `comment.update` delivery whose `content` string serializes `content`.
fn delivery(content: Value) -> Vec<u8> {
    json!({
        "client_key": "ck", "event": "comment.update", "create_time": 1735740000,
        "user_openid": ACCOUNT, "content": content.to_string()
    })
    .to_string()
    .into_bytes()
}

#[test]
fn a_missing_parcel_comment_on_our_video_becomes_a_public_comment_on_that_video() {
    let m = one_message(&fixture("tiktok_comment.json"));
    assert_eq!(m.source, Platform::Tiktok);
    assert_eq!(m.external_id, "7450000000000000001");
    assert_eq!(m.author.handle, "@jane.example");
    assert_eq!(m.author.name.as_deref(), Some("Jane Example"));
    assert_eq!(m.raw["author_id"], "<COMMENTER_ID>");
    assert_eq!(
        m.text,
        "Ordered the blue one two weeks ago and still no tracking number :("
    );
    assert_eq!(
        m.created_at,
        Timestamp::parse_rfc3339("2025-01-01T13:59:50Z")
    );
    assert_eq!(m.channel, "tiktok_comments");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Comment);
    assert_eq!(m.in_reply_to.as_deref(), Some("7440000000000000001"));
    assert_eq!(m.raw["video_id"], "7440000000000000001");
    // The envelope is kept as sent, `content` still a string.
    assert!(m.raw["platform_event"]["content"].is_string());
}

#[test]
fn a_me_too_reply_threads_under_the_first_comment() {
    let m = one_message(&fixture("tiktok_reply.json"));
    assert_eq!(m.external_id, "7450000000000000002");
    assert_eq!(m.author.handle, "@sam.example");
    assert_eq!(m.author.name, None);
    assert_eq!(m.kind, MessageKind::Reply);
    assert_eq!(m.in_reply_to.as_deref(), Some("7450000000000000001"));
}

#[test]
fn a_redelivered_body_yields_the_same_ids() {
    let body = fixture("tiktok_comment.json");
    assert_eq!(parse(&body).unwrap(), parse(&body).unwrap());
}

#[test]
fn without_its_own_time_or_a_handle_a_comment_falls_back_to_the_envelope_and_the_user_id() {
    let m = one_message(&delivery(json!({
        "comment_id": 77, "video_id": 5, "parent_comment_id": "0",
        "user_id": "u-9", "text": "Is this back in stock?"
    })));
    assert_eq!(m.external_id, "77");
    assert_eq!(m.author.handle, "u-9");
    assert_eq!(m.kind, MessageKind::Comment);
    assert_eq!(m.in_reply_to.as_deref(), Some("5"));
    assert_eq!(
        m.created_at,
        Timestamp::parse_rfc3339("2025-01-01T14:00:00Z")
    );
}

#[test]
fn edited_and_deleted_comments_become_edit_and_remove_events() {
    let edited = parse(&delivery(json!({
        "comment_action": "update", "comment_id": "1", "text": "Arrived today, thanks!"
    })))
    .unwrap();
    assert_eq!(
        edited.events,
        vec![InboundEvent::Edit {
            account: ACCOUNT.into(),
            source: Platform::Tiktok,
            external_id: "1".into(),
            new_text: "Arrived today, thanks!".into(),
        }]
    );
    let deleted = parse(&delivery(
        json!({"comment_action": "delete", "comment_id": "1"}),
    ))
    .unwrap();
    assert_eq!(
        deleted.events,
        vec![InboundEvent::Remove {
            account: ACCOUNT.into(),
            source: Platform::Tiktok,
            external_id: "1".into(),
        }]
    );
}

#[test]
fn our_own_replies_other_events_and_unusable_comments_are_skipped() {
    let cases = [
        (
            delivery(
                json!({"comment_id": "1", "user_id": "u", "owner": true, "text": "Sorry! DM us."}),
            ),
            "written by our own account",
        ),
        (
            delivery(json!({"comment_id": "1", "user_id": ACCOUNT, "text": "Sorry! DM us."})),
            "written by our own account",
        ),
        (
            delivery(json!({"comment_action": "pin", "comment_id": "1"})),
            "comment action `pin` is not handled",
        ),
        (
            delivery(json!({"user_id": "u", "text": "hi"})),
            "comment has no `comment_id`",
        ),
        (
            delivery(json!({"comment_id": "1", "text": "hi"})),
            "comment has no `user_id`",
        ),
        (
            delivery(json!({"comment_id": "1", "user_id": "u"})),
            "comment has no `text`",
        ),
        (
            delivery(json!({"comment_action": "update", "comment_id": "1"})),
            "comment update without `text`",
        ),
        (
            json!({"event": "comment.update", "user_openid": ACCOUNT, "content": "{not json"})
                .to_string()
                .into_bytes(),
            "`content` is not a JSON object",
        ),
        (
            json!({"event": "comment.update", "user_openid": ACCOUNT})
                .to_string()
                .into_bytes(),
            "event has no `content`",
        ),
    ];
    for (body, reason) in cases {
        let parsed = parse(&body).unwrap();
        assert!(parsed.events.is_empty(), "{reason}: {:?}", parsed.events);
        assert_eq!(parsed.skipped.len(), 1, "{reason}");
        assert_eq!(parsed.skipped[0].reason, reason);
    }
    let parsed = parse(
        br#"{"client_key":"ck","event":"authorization.removed","create_time":1615338610,
             "user_openid":"<BUSINESS_OPEN_ID>","content":"{\"reason\": 1 }"}"#,
    )
    .unwrap();
    assert_eq!(
        parsed.skipped,
        vec![Skipped {
            at: "event".into(),
            reason: "event `authorization.removed` is not a customer message".into()
        }]
    );
}

#[test]
fn an_already_decoded_content_object_is_read_too() {
    let body = json!({
        "event": "comment.update", "user_openid": ACCOUNT,
        "content": {"comment_id": "3", "user_id": "u", "text": "Where do you ship from?"}
    });
    let m = one_message(body.to_string().as_bytes());
    assert_eq!(m.external_id, "3");
}

#[test]
fn a_body_without_event_or_account_is_an_error() {
    assert!(matches!(
        parse(br#"{"user_openid": "a", "content": "{}"}"#),
        Err(PayloadError::Shape("`event` must be a string"))
    ));
    assert!(matches!(
        parse(br#"{"event": "comment.update", "content": "{}"}"#),
        Err(PayloadError::Shape("`user_openid` is required"))
    ));
    assert!(matches!(parse(b"42"), Err(PayloadError::Shape(_))));
    assert!(matches!(parse(b"{"), Err(PayloadError::Json(_))));
}
