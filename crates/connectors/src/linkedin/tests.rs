use super::*;
use crate::event::Skipped;
use sb_domain::{MessageKind, NewMessage, Timestamp, Visibility};

const ORG: &str = "urn:li:organization:<ORG_ID>";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a body that must yield exactly one message, and that message through ingest.
fn one_message(body: &[u8]) -> NewMessage {
    let parsed = parse(body).unwrap();
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    match parsed.events.into_iter().next().unwrap() {
        InboundEvent::Message { account, message } => {
            assert_eq!(account, ORG);
            assert_eq!(message["account"], json!(account));
            NewMessage::parse(message).unwrap()
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

/// A delivery of the given notifications.
fn delivery(notifications: Vec<Value>) -> Vec<u8> {
    json!({"type": ORGANIZATION_SOCIAL_ACTIONS, "notifications": notifications})
        .to_string()
        .into_bytes()
}

/// A notification about a comment written by `owner`.
fn comment_notification(action: &str, owner: &str, comment: Value) -> Value {
    let mut c = json!({
        "entity": "urn:li:comment:(urn:li:activity:1,9)",
        "owner": owner,
        "object": "urn:li:activity:1",
        "text": "Is the outage fixed yet?"
    });
    if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), comment) {
        c.extend(extra);
    }
    json!({
        "notificationId": 1, "organizationalEntity": ORG, "action": action,
        "sourcePost": "urn:li:activity:1", "lastModifiedAt": 1735732800000u64,
        "generatedActivity": "urn:li:comment:(activity:1,9)",
        "decoratedGeneratedActivity": {"comment": c}
    })
}

#[test]
fn a_vat_complaint_under_our_post_becomes_a_public_comment_on_that_post() {
    let m = one_message(&fixture("linkedin_comment.json"));
    assert_eq!(m.source, Platform::Linkedin);
    assert_eq!(
        m.external_id,
        "urn:li:comment:(urn:li:activity:<ACTIVITY_ID>,<COMMENT_ID>)"
    );
    assert_eq!(m.author.handle, "urn:li:person:<PERSON_ID>");
    assert_eq!(m.raw["author_id"], "urn:li:person:<PERSON_ID>");
    assert_eq!(
        m.text,
        "Since the update our invoices export with the wrong VAT rate. Who can we talk to?"
    );
    assert_eq!(
        m.created_at,
        Timestamp::parse_rfc3339("2025-01-01T12:00:00Z")
    );
    assert_eq!(m.channel, "linkedin_comments");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Comment);
    assert_eq!(
        m.in_reply_to.as_deref(),
        Some("urn:li:activity:<ACTIVITY_ID>")
    );
    assert_eq!(m.raw["post_id"], "urn:li:activity:<ACTIVITY_ID>");
    assert_eq!(m.raw["notification_id"], "700000001");
    assert_eq!(m.raw["platform_event"]["action"], "COMMENT");
}

#[test]
fn a_post_mentioning_the_brand_is_a_public_post_on_the_mentions_channel() {
    let m = one_message(&fixture("linkedin_mention.json"));
    assert_eq!(m.source, Platform::Linkedin);
    assert_eq!(m.external_id, "urn:li:share:<MENTIONING_SHARE_ID>");
    assert_eq!(m.author.handle, "urn:li:person:<PERSON_ID>");
    assert_eq!(
        m.text,
        "Three weeks waiting for a refund from Example Brand. Anyone else?"
    );
    assert_eq!(m.channel, "linkedin_mentions");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Post);
    assert_eq!(m.in_reply_to, None);
}

#[test]
fn a_redelivered_body_yields_the_same_ids() {
    let body = fixture("linkedin_comment.json");
    assert_eq!(parse(&body).unwrap(), parse(&body).unwrap());
}

#[test]
fn a_reply_threads_under_its_parent_comment() {
    let m = one_message(&delivery(vec![comment_notification(
        "COMMENT",
        "urn:li:person:B",
        json!({"entity": "urn:li:comment:(urn:li:activity:1,10)",
               "parentComment": "urn:li:comment:(activity:1,9)",
               "text": null, "message": {"text": "Same for us since Monday."}}),
    )]));
    assert_eq!(m.kind, MessageKind::Reply);
    assert_eq!(
        m.in_reply_to.as_deref(),
        Some("urn:li:comment:(urn:li:activity:1,9)")
    );
    assert_eq!(m.text, "Same for us since Monday.");
}

#[test]
fn an_edit_and_a_delete_find_the_comment_under_either_urn_spelling() {
    let mut deleted = comment_notification("COMMENT_DELETE", "urn:li:person:A", json!({}));
    deleted["decoratedGeneratedActivity"] = Value::Null;
    let parsed = parse(&delivery(vec![
        comment_notification(
            "COMMENT_EDIT",
            "urn:li:person:A",
            json!({"text": "Fixed now, thanks!"}),
        ),
        deleted,
    ]))
    .unwrap();
    let external_id = "urn:li:comment:(urn:li:activity:1,9)".to_owned();
    assert_eq!(
        parsed.events,
        vec![
            InboundEvent::Edit {
                account: ORG.into(),
                source: Platform::Linkedin,
                external_id: external_id.clone(),
                new_text: "Fixed now, thanks!".into(),
            },
            InboundEvent::Remove {
                account: ORG.into(),
                source: Platform::Linkedin,
                external_id,
            },
        ]
    );
}

#[test]
fn our_own_comments_likes_reshares_and_unknown_actions_are_skipped() {
    let parsed = parse(&delivery(vec![
        comment_notification("COMMENT", ORG, json!({})),
        comment_notification("ADMIN_COMMENT", "urn:li:person:ADMIN", json!({})),
        json!({"organizationalEntity": ORG, "action": "LIKE", "sourcePost": "urn:li:activity:1"}),
        json!({"organizationalEntity": ORG, "action": "SHARE", "sourcePost": "urn:li:activity:1"}),
        json!({"organizationalEntity": ORG, "action": "REPOST_OF_REPOST"}),
        json!({"action": "COMMENT"}),
        comment_notification("COMMENT", "urn:li:person:A", json!({"text": ""})),
        comment_notification("COMMENT_EDIT", "urn:li:person:A", json!({"text": null})),
    ]))
    .unwrap();
    assert!(parsed.events.is_empty(), "{:?}", parsed.events);
    let skipped = |i: usize, reason: &str| Skipped {
        at: format!("notifications[{i}]"),
        reason: reason.into(),
    };
    assert_eq!(
        parsed.skipped,
        vec![
            skipped(0, "written by our own organization"),
            skipped(1, "written by our own organization"),
            skipped(2, "`LIKE` carries no message"),
            skipped(3, "`SHARE` carries no message"),
            skipped(4, "action `REPOST_OF_REPOST` is not handled"),
            skipped(5, "notification has no `organizationalEntity`"),
            skipped(6, "comment has no text"),
            skipped(7, "comment edit without the new text"),
        ]
    );
}

#[test]
fn lead_notifications_are_skipped_and_a_body_of_the_wrong_shape_is_an_error() {
    let parsed = parse(br#"{"type": "LEAD_ACTION", "leadAction": "CREATED"}"#).unwrap();
    assert!(parsed.events.is_empty());
    assert_eq!(
        parsed.skipped[0].reason,
        "type `LEAD_ACTION` is not handled"
    );
    assert!(matches!(
        parse(br#"{"notifications": []}"#),
        Err(PayloadError::Shape("`type` must be a string"))
    ));
    assert!(matches!(
        parse(br#"{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}"#),
        Err(PayloadError::Shape("`notifications` must be an array"))
    ));
    assert!(matches!(parse(b"[]"), Err(PayloadError::Shape(_))));
    assert!(matches!(parse(b"{"), Err(PayloadError::Json(_))));
}

#[test]
fn comment_urns_are_brought_to_one_spelling() {
    assert_eq!(
        canonical_comment_urn("urn:li:comment:(activity:1,2)"),
        "urn:li:comment:(urn:li:activity:1,2)"
    );
    assert_eq!(
        canonical_comment_urn("urn:li:comment:(urn:li:ugcPost:1,2)"),
        "urn:li:comment:(urn:li:ugcPost:1,2)"
    );
    assert_eq!(canonical_comment_urn("urn:li:share:3"), "urn:li:share:3");
}
