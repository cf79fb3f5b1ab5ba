//! X (Twitter) webhooks: one delivery body, already verified with `signature::verify_x`,
//! into inbound events.
//!
//! Only `envelope` knows how the Account Activity API lays a body out. X is retiring that API
//! for the X Activity API; when those deliveries arrive, teach `envelope` the second layout
//! and leave the tweet and DM mapping alone.

use crate::event::{
    InboundEvent, Parsed, PayloadError, id, object, parse_json, rfc3339_ms, text, uint,
};
use sb_domain::Platform;
use serde_json::{Map, Value, json};

/// The parts of a delivery we act on, independent of the envelope they came in.
struct Envelope<'a> {
    /// Our subscribed account; its own tweets and DMs are not customer messages.
    account: String,
    tweets: &'a [Value],
    dms: &'a [Value],
    deletes: &'a [Value],
    /// User objects by id, sent beside DMs (DM events carry ids only).
    users: Option<&'a Map<String, Value>>,
    /// Event arrays present in the body that we do not act on.
    ignored: Vec<&'a str>,
}

/// Reads the Account Activity API envelope: `for_user_id` plus one `*_events` array.
fn envelope(body: &Value) -> Result<Envelope<'_>, PayloadError> {
    let obj = body
        .as_object()
        .ok_or(PayloadError::Shape("the body must be a JSON object"))?;
    let account =
        id(body, "for_user_id").ok_or(PayloadError::Shape("`for_user_id` is required"))?;
    let events = |key: &str| -> Result<&[Value], PayloadError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a.as_slice()),
            Some(_) => Err(PayloadError::Shape("an `*_events` field must be an array")),
        }
    };
    let handled = [
        "tweet_create_events",
        "direct_message_events",
        "tweet_delete_events",
    ];
    let ignored = obj
        .keys()
        .filter(|k| k.ends_with("_events") && !handled.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    Ok(Envelope {
        account,
        tweets: events("tweet_create_events")?,
        dms: events("direct_message_events")?,
        deletes: events("tweet_delete_events")?,
        users: obj.get("users").and_then(Value::as_object),
        ignored,
    })
}

/// Parses an X webhook body. Errors only when the body is not JSON or has no
/// `for_user_id`; events we do not act on are skipped.
pub fn parse(raw_body: &[u8]) -> Result<Parsed, PayloadError> {
    let body = parse_json(raw_body)?;
    let env = envelope(&body)?;
    let mut out = Parsed::default();
    for (i, t) in env.tweets.iter().enumerate() {
        tweet(
            &mut out,
            &format!("tweet_create_events[{i}]"),
            &env.account,
            t,
        );
    }
    for (i, dm) in env.dms.iter().enumerate() {
        direct_message(&mut out, &format!("direct_message_events[{i}]"), &env, dm);
    }
    for (i, d) in env.deletes.iter().enumerate() {
        match d.get("status").and_then(|s| id(s, "id")) {
            Some(external_id) => out.events.push(InboundEvent::Remove {
                account: env.account.clone(),
                source: Platform::X,
                external_id,
            }),
            None => out.skip(format!("tweet_delete_events[{i}]"), "no `status.id`"),
        }
    }
    for key in env.ignored {
        out.skip(key, format!("`{key}` is not a customer message"));
    }
    Ok(out)
}

/// `{handle, name, followers, verified}` from a v1.1 user object.
fn author(user: &Value, fallback_id: &str) -> Value {
    let handle = match text(user, "screen_name") {
        Some(s) => format!("@{s}"),
        None => fallback_id.to_owned(),
    };
    json!({
        "handle": handle,
        "name": text(user, "name"),
        "followers": uint(user, "followers_count"),
        "verified": user.get("verified").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A tweet that mentions, replies to or quotes our account.
fn tweet(out: &mut Parsed, at: &str, account: &str, t: &Value) {
    let Some(tweet_id) = id(t, "id_str").or_else(|| id(t, "id")) else {
        return out.skip(at, "tweet has no id");
    };
    let user = t.get("user").unwrap_or(&Value::Null);
    let Some(author_id) = id(user, "id_str").or_else(|| id(user, "id")) else {
        return out.skip(at, "tweet has no `user.id_str`");
    };
    if author_id == account {
        return out.skip(at, "tweeted by our own account");
    }
    if t.get("retweeted_status").is_some_and(Value::is_object) {
        return out.skip(at, "a retweet repeats a tweet, it says nothing new");
    }
    // Long tweets arrive truncated with the whole text in `extended_tweet`.
    let body = t
        .get("extended_tweet")
        .and_then(|e| text(e, "full_text"))
        .or_else(|| text(t, "full_text"))
        .or_else(|| text(t, "text"));
    let Some(body) = body else {
        return out.skip(at, "tweet has no text");
    };
    let in_reply_to = text(t, "in_reply_to_status_id_str");
    let quoted = text(t, "quoted_status_id_str")
        .filter(|_| t.get("is_quote_status").and_then(Value::as_bool) == Some(true));
    let metrics: Map<String, Value> = [
        ("replies", "reply_count"),
        ("retweets", "retweet_count"),
        ("quotes", "quote_count"),
        ("likes", "favorite_count"),
    ]
    .into_iter()
    .filter_map(|(name, field)| Some((name.to_owned(), json!(t.get(field)?.as_u64()?))))
    .collect();
    let msg = object([
        ("source", Some(json!(Platform::X.as_str()))),
        ("external_id", Some(json!(tweet_id))),
        ("author", Some(author(user, &author_id))),
        ("author_id", Some(json!(author_id))),
        ("text", Some(json!(body))),
        (
            "created_at",
            uint(t, "timestamp_ms")
                .and_then(rfc3339_ms)
                .map(Value::from),
        ),
        ("channel", Some(json!("x"))),
        ("visibility", Some(json!("public"))),
        (
            "kind",
            Some(json!(if in_reply_to.is_some() {
                "reply"
            } else {
                "post"
            })),
        ),
        ("in_reply_to", in_reply_to.map(Value::from)),
        ("quoted_id", quoted.map(Value::from)),
        ("lang", text(t, "lang").map(Value::from)),
        ("metrics", Some(Value::Object(metrics))),
        ("account", Some(json!(account))),
        ("platform_event", Some(t.clone())),
    ]);
    out.message(at, account, msg);
}

/// A DM sent to our account; the sender's profile comes from the envelope's `users`.
fn direct_message(out: &mut Parsed, at: &str, env: &Envelope<'_>, dm: &Value) {
    let kind = dm.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "message_create" {
        return out.skip(at, format!("DM event `{kind}` is not a message"));
    }
    let Some(dm_id) = id(dm, "id") else {
        return out.skip(at, "DM has no `id`");
    };
    let create = dm.get("message_create").unwrap_or(&Value::Null);
    let Some(sender) = id(create, "sender_id") else {
        return out.skip(at, "DM has no `message_create.sender_id`");
    };
    if sender == env.account {
        return out.skip(at, "sent by our own account");
    }
    let data = create.get("message_data").unwrap_or(&Value::Null);
    let body = match text(data, "text") {
        Some(t) => t.to_owned(),
        None if data.get("attachment").is_some() => "[attachment]".to_owned(),
        None => return out.skip(at, "DM has neither text nor attachment"),
    };
    let user = env
        .users
        .and_then(|u| u.get(&sender))
        .unwrap_or(&Value::Null);
    let msg = object([
        ("source", Some(json!(Platform::X.as_str()))),
        ("external_id", Some(json!(dm_id))),
        ("author", Some(author(user, &sender))),
        ("author_id", Some(json!(sender))),
        ("text", Some(json!(body))),
        (
            "created_at",
            uint(dm, "created_timestamp")
                .and_then(rfc3339_ms)
                .map(Value::from),
        ),
        ("channel", Some(json!("x_dm"))),
        ("visibility", Some(json!("private"))),
        ("kind", Some(json!("dm"))),
        ("account", Some(json!(env.account))),
        ("platform_event", Some(dm.clone())),
    ]);
    out.message(at, &env.account, msg);
}

#[cfg(test)]
mod tests;
