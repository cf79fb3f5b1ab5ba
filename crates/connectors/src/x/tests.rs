use super::*;
use crate::event::Skipped;
use sb_domain::{MessageKind, NewMessage, Timestamp, Visibility};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn messages(parsed: Parsed) -> Vec<NewMessage> {
    parsed
        .events
        .into_iter()
        .map(|e| match e {
            InboundEvent::Message { account, message } => {
                assert_eq!(account, "2244994945");
                NewMessage::parse(message).unwrap()
            }
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

/// A minimal AAA tweet by `user_id`.
fn tweet_by(user_id: &str, extra: Value) -> Value {
    let mut t = json!({
        "id_str": "100", "text": "@ExampleBrand hello", "timestamp_ms": "1735732800000",
        "user": {"id_str": user_id, "screen_name": format!("u{user_id}")}
    });
    if let (Some(t), Value::Object(extra)) = (t.as_object_mut(), extra) {
        t.extend(extra);
    }
    t
}

fn tweets(list: Vec<Value>) -> Vec<u8> {
    json!({"for_user_id": "2244994945", "tweet_create_events": list})
        .to_string()
        .into_bytes()
}

#[test]
fn a_public_complaint_mentioning_the_brand_becomes_a_public_post() {
    let parsed = parse(&fixture("x_aaa_tweet_create_events.json")).unwrap();
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let m = messages(parsed);
    assert_eq!(m.len(), 1);
    let m = &m[0];
    assert_eq!(m.source, Platform::X);
    assert_eq!(m.external_id, "1874448000000000001");
    assert_eq!(m.author.handle, "@jane_example");
    assert_eq!(m.author.name.as_deref(), Some("Jane Example"));
    assert_eq!(m.author.followers, Some(120));
    assert!(!m.author.verified);
    assert_eq!(
        m.text,
        "@ExampleBrand your app logged me out again and support chat is down. 3rd time this week #fail"
    );
    assert_eq!(
        m.created_at,
        Timestamp::parse_rfc3339("2025-01-01T12:00:00Z")
    );
    assert_eq!(m.channel, "x");
    assert_eq!(m.visibility, Visibility::Public);
    assert_eq!(m.kind, MessageKind::Post);
    assert_eq!(m.in_reply_to, None);
    assert_eq!(
        m.metrics,
        json!({"replies": 0, "retweets": 0, "quotes": 0, "likes": 0})
    );
    assert_eq!(m.raw["author_id"], "3001969357");
    assert_eq!(m.raw["lang"], "en");
}

#[test]
fn a_double_charge_dm_is_private_with_the_sender_profile_from_users() {
    let parsed = parse(&fixture("x_aaa_direct_message_events.json")).unwrap();
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let m = messages(parsed);
    assert_eq!(m.len(), 1);
    let m = &m[0];
    assert_eq!(m.source, Platform::X);
    assert_eq!(m.external_id, "1874448000000000002");
    assert_eq!(m.author.handle, "@jane_example");
    assert_eq!(m.author.name.as_deref(), Some("Jane Example"));
    assert_eq!(m.author.followers, Some(120));
    assert_eq!(
        m.text,
        "Hi, I was charged twice for my subscription. Can you refund one?"
    );
    assert_eq!(
        m.created_at,
        Timestamp::parse_rfc3339("2025-01-01T12:01:00Z")
    );
    assert_eq!(m.channel, "x_dm");
    assert_eq!(m.visibility, Visibility::Private);
    assert_eq!(m.kind, MessageKind::Dm);
    assert_eq!(m.raw["author_id"], "3001969357");
}

#[test]
fn a_reply_threads_under_the_tweet_it_answers_and_a_quote_keeps_the_quoted_id() {
    let body = tweets(vec![
        tweet_by(
            "7",
            json!({"id_str": "101", "in_reply_to_status_id_str": "55"}),
        ),
        tweet_by(
            "8",
            json!({"id_str": "102", "is_quote_status": true, "quoted_status_id_str": "56",
                   "truncated": true,
                   "extended_tweet": {"full_text": "This launch broke my login, read the whole thread"}}),
        ),
    ]);
    let m = messages(parse(&body).unwrap());
    assert_eq!(m[0].kind, MessageKind::Reply);
    assert_eq!(m[0].in_reply_to.as_deref(), Some("55"));
    assert_eq!(m[1].kind, MessageKind::Post);
    assert_eq!(m[1].in_reply_to, None);
    assert_eq!(m[1].raw["quoted_id"], "56");
    assert_eq!(
        m[1].text,
        "This launch broke my login, read the whole thread"
    );
}

#[test]
fn our_own_tweets_dms_and_retweets_are_skipped() {
    let body = json!({
        "for_user_id": "2244994945",
        "tweet_create_events": [
            tweet_by("2244994945", json!({"id_str": "200"})),
            tweet_by("9", json!({"id_str": "201", "retweeted_status": {"id_str": "5"}})),
        ],
        "direct_message_events": [
            {"type": "message_create", "id": "300", "created_timestamp": "1",
             "message_create": {"sender_id": "2244994945", "target": {"recipient_id": "9"},
                                "message_data": {"text": "Happy to help!"}}},
            {"type": "message_delete", "id": "301"}
        ],
        "favorite_events": [{}]
    });
    let parsed = parse(body.to_string().as_bytes()).unwrap();
    assert!(parsed.events.is_empty(), "{:?}", parsed.events);
    assert_eq!(
        parsed.skipped,
        vec![
            Skipped {
                at: "tweet_create_events[0]".into(),
                reason: "tweeted by our own account".into()
            },
            Skipped {
                at: "tweet_create_events[1]".into(),
                reason: "a retweet repeats a tweet, it says nothing new".into()
            },
            Skipped {
                at: "direct_message_events[0]".into(),
                reason: "sent by our own account".into()
            },
            Skipped {
                at: "direct_message_events[1]".into(),
                reason: "DM event `message_delete` is not a message".into()
            },
            Skipped {
                at: "favorite_events".into(),
                reason: "`favorite_events` is not a customer message".into()
            },
        ]
    );
}

#[test]
fn a_deleted_tweet_becomes_a_removal_and_a_dm_without_a_profile_keeps_the_sender_id() {
    let body = json!({
        "for_user_id": "2244994945",
        "tweet_delete_events": [{"status": {"id": "101", "user_id": "7"}, "timestamp_ms": "1"}],
        "direct_message_events": [
            {"type": "message_create", "id": "302",
             "message_create": {"sender_id": "9", "message_data": {"text": "hello?"}}}
        ]
    });
    let parsed = parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.events.len(), 2);
    assert!(
        matches!(&parsed.events[0], InboundEvent::Message { message, .. }
        if message["author"]["handle"] == "9" && message["external_id"] == "302")
    );
    assert_eq!(
        parsed.events[1],
        InboundEvent::Remove {
            account: "2244994945".into(),
            source: Platform::X,
            external_id: "101".into(),
        }
    );
}

#[test]
fn a_body_without_our_account_or_with_the_wrong_shape_is_an_error() {
    assert!(matches!(
        parse(br#"{"tweet_create_events": []}"#),
        Err(PayloadError::Shape("`for_user_id` is required"))
    ));
    assert!(matches!(
        parse(br#"{"for_user_id": "1", "tweet_create_events": {}}"#),
        Err(PayloadError::Shape(_))
    ));
    assert!(matches!(parse(b"\"hi\""), Err(PayloadError::Shape(_))));
    assert!(matches!(parse(b"{"), Err(PayloadError::Json(_))));
}
