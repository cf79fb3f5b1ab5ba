use super::*;
use crate::event::Skipped;
use sb_domain::{MessageKind, NewMessage, Timestamp, Visibility};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses a body that must yield exactly one message, and that message through ingest.
fn one_message(body: &[u8]) -> (String, NewMessage) {
    let parsed = parse(body).unwrap();
    assert_eq!(parsed.events.len(), 1, "{parsed:?}");
    match parsed.events.into_iter().next().unwrap() {
        InboundEvent::Message { account, message } => {
            assert_eq!(message["account"], json!(account));
            (account, NewMessage::parse(message).unwrap())
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

fn ts(s: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(s)
}

#[test]
fn a_messenger_complaint_becomes_a_private_dm_keyed_by_its_mid() {
    let (account, m) = one_message(&fixture("meta_messenger_message_text.json"));
    assert_eq!(account, "<PAGE_ID>");
    assert_eq!(m.source, Platform::Facebook);
    assert_eq!(m.external_id, "m_EXAMPLE_MID_1");
    assert_eq!(m.author.handle, "<PSID>");
    assert_eq!(
        m.text,
        "My order #1234 still hasn't arrived and nobody answers the phone."
    );
    assert_eq!(m.created_at, ts("2025-01-01T00:00:00Z"));
    assert_eq!(m.channel, "messenger");
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(m.kind, MessageKind::Dm);
    assert_eq!(m.in_reply_to, None);
    assert_eq!(m.raw["platform_event"]["message"]["mid"], "m_EXAMPLE_MID_1");
}

#[test]
fn tapping_talk_to_an_agent_is_a_dm_with_the_button_title_and_payload() {
    let (account, m) = one_message(&fixture("meta_messenger_postback.json"));
    assert_eq!(account, "<PAGE_ID>");
    assert_eq!(m.source, Platform::Facebook);
    assert_eq!(m.external_id, "m_EXAMPLE_MID_2");
    assert_eq!(m.text, "Talk to an agent");
    assert_eq!(m.raw["postback_payload"], "HANDOVER_TO_HUMAN");
    assert_eq!(m.created_at, ts("2025-01-01T00:01:00Z"));
    assert_eq!(m.channel, "messenger");
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(m.kind, MessageKind::Dm);
}

#[test]
fn an_angry_page_comment_is_public_and_points_at_its_post() {
    let (account, m) = one_message(&fixture("meta_page_feed_comment_add.json"));
    assert_eq!(account, "<PAGE_ID>");
    assert_eq!(m.source, Platform::Facebook);
    assert_eq!(m.external_id, "<POST_ID>_<COMMENT_ID>");
    assert_eq!(m.author.handle, "<USER_ID>");
    assert_eq!(m.author.name.as_deref(), Some("Jane Example"));
    assert_eq!(
        m.text,
        "Third outage this week. Is anyone at your company actually fixing this?"
    );
    assert_eq!(m.created_at, ts("2025-01-01T00:01:38Z"));
    assert_eq!(m.channel, "facebook_feed");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Comment);
    assert_eq!(m.in_reply_to.as_deref(), Some("<PAGE_ID>_<POST_ID>"));
    assert_eq!(m.raw["post_id"], "<PAGE_ID>_<POST_ID>");
}

#[test]
fn an_instagram_comment_is_public_under_its_media() {
    let (account, m) = one_message(&fixture("meta_instagram_comment.json"));
    assert_eq!(account, "<IG_PROFESSIONAL_ACCOUNT_ID>");
    assert_eq!(m.source, Platform::Instagram);
    assert_eq!(m.external_id, "<COMMENT_ID>");
    assert_eq!(m.author.handle, "@jane.example");
    assert_eq!(m.raw["author_id"], "<IGSID>");
    assert_eq!(m.text, "Love the new release, great job team!");
    assert_eq!(m.created_at, ts("2025-01-01T00:03:20Z"));
    assert_eq!(m.channel, "instagram_comments");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Comment);
    assert_eq!(m.in_reply_to.as_deref(), Some("<MEDIA_ID>"));
}

#[test]
fn an_instagram_dm_is_private_on_its_own_channel() {
    let (account, m) = one_message(&fixture("meta_instagram_message.json"));
    assert_eq!(account, "<IG_PROFESSIONAL_ACCOUNT_ID>");
    assert_eq!(m.source, Platform::Instagram);
    assert_eq!(
        m.external_id,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAw"
    );
    assert_eq!(m.author.handle, "<IGSID>");
    assert_eq!(
        m.text,
        "Hi, can I change the delivery address for my order?"
    );
    assert_eq!(m.created_at, ts("2025-01-01T00:05:00Z"));
    assert_eq!(m.channel, "instagram_dm");
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(m.kind, MessageKind::Dm);
}

#[test]
fn a_redelivered_body_yields_the_same_ids() {
    let body = fixture("meta_page_feed_comment_add.json");
    assert_eq!(parse(&body).unwrap(), parse(&body).unwrap());
}

fn feed_change(value: Value) -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": "P", "time": 1, "changes": [
        {"field": "feed", "value": value}
    ]}]})
    .to_string()
    .into_bytes()
}

#[test]
fn a_reply_to_a_comment_threads_under_that_comment() {
    let (_, m) = one_message(&feed_change(json!({
        "from": {"id": "U2", "name": "Sam"}, "item": "comment", "verb": "add",
        "post_id": "P_1", "comment_id": "1_3", "parent_id": "1_2",
        "created_time": 1735689698, "message": "Same here, since Monday."
    })));
    assert_eq!(m.kind, MessageKind::Reply);
    assert_eq!(m.in_reply_to.as_deref(), Some("1_2"));
}

#[test]
fn edited_and_removed_comments_become_edit_and_remove_events() {
    let parsed = parse(&feed_change(json!({
        "from": {"id": "U"}, "item": "comment", "verb": "edited",
        "post_id": "P_1", "comment_id": "1_2", "message": "Fixed now, thanks!"
    })))
    .unwrap();
    assert_eq!(
        parsed.events,
        vec![InboundEvent::Edit {
            account: "P".into(),
            source: Platform::Facebook,
            external_id: "1_2".into(),
            new_text: "Fixed now, thanks!".into(),
        }]
    );
    let parsed = parse(&feed_change(json!({
        "from": {"id": "U"}, "item": "comment", "verb": "remove",
        "post_id": "P_1", "comment_id": "1_2"
    })))
    .unwrap();
    assert_eq!(
        parsed.events,
        vec![InboundEvent::Remove {
            account: "P".into(),
            source: Platform::Facebook,
            external_id: "1_2".into(),
        }]
    );
}

#[test]
fn our_own_echoes_reactions_and_hidden_comments_are_skipped_with_reasons() {
    let body = json!({"object": "page", "entry": [
        {"id": "P", "messaging": [
            {"sender": {"id": "P"}, "recipient": {"id": "U"}, "timestamp": 1,
             "message": {"mid": "m_echo", "text": "We're on it", "is_echo": true}},
            {"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 2,
             "read": {"watermark": 1}}
        ]},
        {"id": "P", "changes": [
            {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "P_1"}},
            {"field": "feed", "value": {"item": "comment", "verb": "hide", "comment_id": "1_2"}},
            {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "1_9",
             "post_id": "P_1", "from": {"id": "P"}, "message": "Thanks for reaching out"}},
            {"field": "ratings", "value": {}}
        ]}
    ]});
    let parsed = parse(body.to_string().as_bytes()).unwrap();
    assert!(parsed.events.is_empty(), "{:?}", parsed.events);
    let at: Vec<&str> = parsed.skipped.iter().map(|s| s.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "entry[0].messaging[0]",
            "entry[0].messaging[1]",
            "entry[1].changes[0]",
            "entry[1].changes[1]",
            "entry[1].changes[2]",
            "entry[1].changes[3]",
        ]
    );
    assert_eq!(
        parsed.skipped[0].reason,
        "echo of a message our account sent"
    );
    assert_eq!(
        parsed.skipped[1].reason,
        "messaging `read` is not a customer message"
    );
}

#[test]
fn a_batched_delivery_yields_every_message_in_order() {
    let body = json!({"object": "instagram", "entry": [
        {"id": "IG", "messaging": [
            {"sender": {"id": "A"}, "recipient": {"id": "IG"}, "timestamp": 1735689900000u64,
             "message": {"mid": "m1", "text": "first", "reply_to": {"mid": "m0"}}},
            {"sender": {"id": "B"}, "recipient": {"id": "IG"}, "timestamp": 1735689901000u64,
             "message": {"mid": "m2", "attachments": [{"type": "image", "payload": {}}]}}
        ]},
        {"id": "IG", "changes": [
            {"field": "comments", "value": {"id": "c2", "parent_id": "c1", "text": "+1",
             "from": {"id": "C", "username": "cee"}, "media": {"id": "M"}}}
        ]}
    ]});
    let parsed = parse(body.to_string().as_bytes()).unwrap();
    let msgs: Vec<NewMessage> = parsed
        .events
        .into_iter()
        .map(|e| match e {
            InboundEvent::Message { message, .. } => NewMessage::parse(message).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    let ids: Vec<&str> = msgs.iter().map(|m| m.external_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "c2"]);
    assert_eq!(msgs[0].in_reply_to.as_deref(), Some("m0"));
    assert_eq!(msgs[0].kind, MessageKind::Dm);
    assert_eq!(msgs[1].text, "[attachment: image]");
    assert_eq!(msgs[2].kind, MessageKind::Reply);
    assert_eq!(msgs[2].in_reply_to.as_deref(), Some("c1"));
}

#[test]
fn an_unknown_object_is_skipped_but_a_non_envelope_is_an_error() {
    let parsed = parse(br#"{"object":"whatsapp_business_account","entry":[]}"#).unwrap();
    assert_eq!(
        parsed.skipped,
        vec![Skipped {
            at: "object".into(),
            reason: "object `whatsapp_business_account` is not handled".into()
        }]
    );
    assert!(matches!(parse(b"{\"object\":"), Err(PayloadError::Json(_))));
    assert!(matches!(parse(b"[]"), Err(PayloadError::Shape(_))));
    assert!(matches!(
        parse(br#"{"object":"page"}"#),
        Err(PayloadError::Shape(_))
    ));
}
