//! Meta webhooks (Facebook Page, Messenger, Instagram): one delivery body, already verified
//! with `signature::verify_meta`, into inbound events.
//!
//! `entry[]` batches notifications for one or more of our accounts; each entry carries
//! `messaging[]` (DMs and postbacks; timestamps in ms) and/or `changes[]` (feed and comment
//! notifications; timestamps in s). Anything we do not act on is skipped with a reason.

use crate::event::{
    InboundEvent, Parsed, PayloadError, id, object, parse_json, rfc3339_ms, rfc3339_s, text, uint,
};
use sb_domain::Platform;
use serde_json::{Value, json};

/// Which Meta product a body belongs to, from its `object` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Product {
    Page,
    Instagram,
}

impl Product {
    fn source(self) -> Platform {
        match self {
            Self::Page => Platform::Facebook,
            Self::Instagram => Platform::Instagram,
        }
    }

    fn dm_channel(self) -> &'static str {
        match self {
            Self::Page => "messenger",
            Self::Instagram => "instagram_dm",
        }
    }
}

/// Parses a Meta webhook body. Errors only when the body is not JSON or not a Meta envelope
/// at all; unknown products, fields and items are skipped.
pub fn parse(raw_body: &[u8]) -> Result<Parsed, PayloadError> {
    let body = parse_json(raw_body)?;
    let object = body
        .get("object")
        .and_then(Value::as_str)
        .ok_or(PayloadError::Shape("`object` must be a string"))?;
    let entries = body
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(PayloadError::Shape("`entry` must be an array"))?;
    let mut out = Parsed::default();
    let product = match object {
        "page" => Product::Page,
        "instagram" => Product::Instagram,
        other => {
            out.skip("object", format!("object `{other}` is not handled"));
            return Ok(out);
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("entry[{i}]");
        let Some(account) = id(entry, "id") else {
            out.skip(at, "entry has no account `id`");
            continue;
        };
        // In `changes` entries `time` is in seconds; Instagram comments carry no other time.
        let sent_s = uint(entry, "time");
        let mut seen = false;
        if let Some(items) = entry.get("messaging").and_then(Value::as_array) {
            seen = true;
            for (j, item) in items.iter().enumerate() {
                messaging(
                    &mut out,
                    &format!("{at}.messaging[{j}]"),
                    product,
                    &account,
                    item,
                );
            }
        }
        if let Some(items) = entry.get("changes").and_then(Value::as_array) {
            seen = true;
            for (j, item) in items.iter().enumerate() {
                let at = format!("{at}.changes[{j}]");
                change(&mut out, &at, product, &account, sent_s, item);
            }
        }
        if !seen {
            out.skip(at, "entry has neither `messaging` nor `changes`");
        }
    }
    Ok(out)
}

/// One `messaging[]` item: a DM, a postback, an edit, or a receipt we ignore.
fn messaging(out: &mut Parsed, at: &str, product: Product, account: &str, item: &Value) {
    let Some(sender) = item.get("sender").and_then(|s| id(s, "id")) else {
        return out.skip(at, "no `sender.id`");
    };
    let created_at = uint(item, "timestamp").and_then(rfc3339_ms);
    let dm = |external_id: String, text: String, extra: Option<Value>| {
        object([
            ("source", Some(json!(product.source().as_str()))),
            ("external_id", Some(json!(external_id))),
            ("author", Some(json!({ "handle": sender }))),
            ("author_id", Some(json!(sender))),
            ("text", Some(json!(text))),
            ("created_at", created_at.clone().map(Value::from)),
            ("channel", Some(json!(product.dm_channel()))),
            ("visibility", Some(json!("private"))),
            ("kind", Some(json!("dm"))),
            ("account", Some(json!(account))),
            ("postback_payload", extra),
            ("platform_event", Some(item.clone())),
        ])
    };
    if let Some(msg) = item.get("message") {
        if msg.get("is_echo").and_then(Value::as_bool) == Some(true) || sender == account {
            return out.skip(at, "echo of a message our account sent");
        }
        let Some(mid) = text(msg, "mid") else {
            return out.skip(at, "message has no `mid`");
        };
        let body = match text(msg, "text") {
            Some(t) => t.to_owned(),
            None => match attachment_summary(msg) {
                Some(s) => s,
                None => return out.skip(at, "message has neither text nor attachments"),
            },
        };
        let mut v = dm(mid.to_owned(), body, None);
        // A swipe-reply to an earlier message in the conversation.
        if let Some(parent) = msg.get("reply_to").and_then(|r| text(r, "mid")) {
            v["in_reply_to"] = json!(parent);
        }
        out.message(at, account, v);
    } else if let Some(pb) = item.get("postback") {
        let Some(title) = text(pb, "title").or_else(|| text(pb, "payload")) else {
            return out.skip(at, "postback has neither `title` nor `payload`");
        };
        // Older postbacks carry no `mid`; sender and event time identify the tap just as
        // stably across redeliveries.
        let external_id = match (text(pb, "mid"), uint(item, "timestamp")) {
            (Some(mid), _) => mid.to_owned(),
            (None, Some(ts)) => format!("postback:{sender}:{ts}"),
            (None, None) => return out.skip(at, "postback has neither `mid` nor `timestamp`"),
        };
        let payload = pb.get("payload").filter(|p| p.is_string()).cloned();
        let v = dm(external_id, title.to_owned(), payload);
        out.message(at, account, v);
    } else if let Some(edit) = item.get("message_edit") {
        match (text(edit, "mid"), text(edit, "text")) {
            (Some(mid), Some(new_text)) => out.events.push(InboundEvent::Edit {
                account: account.to_owned(),
                source: product.source(),
                external_id: mid.to_owned(),
                new_text: new_text.to_owned(),
            }),
            _ => out.skip(at, "message_edit without `mid` and `text`"),
        }
    } else {
        let kind = item
            .as_object()
            .and_then(|o| {
                o.keys()
                    .find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp"))
            })
            .map_or("empty", String::as_str);
        out.skip(at, format!("messaging `{kind}` is not a customer message"));
    }
}

/// A text stand-in for a message that only carries attachments, so it still opens a case.
fn attachment_summary(msg: &Value) -> Option<String> {
    let kinds: Vec<&str> = msg
        .get("attachments")?
        .as_array()?
        .iter()
        .map(|a| a.get("type").and_then(Value::as_str).unwrap_or("file"))
        .collect();
    (!kinds.is_empty()).then(|| format!("[attachment: {}]", kinds.join(", ")))
}

/// One `changes[]` item, dispatched on `field`.
fn change(
    out: &mut Parsed,
    at: &str,
    product: Product,
    account: &str,
    sent_s: Option<u64>,
    item: &Value,
) {
    let field = item.get("field").and_then(Value::as_str).unwrap_or("");
    let Some(value) = item.get("value").filter(|v| v.is_object()) else {
        return out.skip(at, "change has no `value` object");
    };
    match (product, field) {
        (Product::Page, "feed") => feed(out, at, account, value),
        (Product::Instagram, "comments" | "live_comments") => {
            instagram_comment(out, at, account, field, sent_s, value);
        }
        (_, "") => out.skip(at, "change has no `field`"),
        (_, other) => out.skip(at, format!("field `{other}` is not handled")),
    }
}

/// A Page feed notification: comments and posts added, edited or removed.
fn feed(out: &mut Parsed, at: &str, account: &str, v: &Value) {
    let item = v.get("item").and_then(Value::as_str).unwrap_or("");
    let verb = v.get("verb").and_then(Value::as_str).unwrap_or("");
    let external_id = match item {
        "comment" => text(v, "comment_id"),
        "post" | "status" | "photo" | "video" => text(v, "post_id"),
        other => return out.skip(at, format!("feed item `{other}` is not a message")),
    };
    let Some(external_id) = external_id.map(str::to_owned) else {
        return out.skip(at, format!("feed {item} has no id"));
    };
    let source = Platform::Facebook;
    match verb {
        "add" => {}
        "edited" => {
            return match text(v, "message") {
                Some(t) => out.events.push(InboundEvent::Edit {
                    account: account.to_owned(),
                    source,
                    external_id,
                    new_text: t.to_owned(),
                }),
                None => out.skip(at, "edit without `message`"),
            };
        }
        "remove" => {
            return out.events.push(InboundEvent::Remove {
                account: account.to_owned(),
                source,
                external_id,
            });
        }
        other => return out.skip(at, format!("feed verb `{other}` is not handled")),
    }
    let from = v.get("from");
    let Some(author_id) = from.and_then(|f| id(f, "id")) else {
        return out.skip(at, "feed item has no `from.id`");
    };
    if author_id == account {
        return out.skip(at, "posted by our own Page");
    }
    let Some(body) = text(v, "message") else {
        return out.skip(at, "feed item has no `message` text");
    };
    let parent = text(v, "parent_id");
    let post = text(v, "post_id");
    let kind = match (item, parent) {
        ("comment", Some(p)) if Some(p) != post => "reply",
        ("comment", _) => "comment",
        _ => "post",
    };
    let in_reply_to = if item == "comment" {
        parent.or(post)
    } else {
        None
    };
    let name = from.and_then(|f| text(f, "name"));
    let msg = object([
        ("source", Some(json!(source.as_str()))),
        ("external_id", Some(json!(external_id))),
        ("author", Some(json!({ "handle": author_id, "name": name }))),
        ("author_id", Some(json!(author_id))),
        ("text", Some(json!(body))),
        (
            "created_at",
            uint(v, "created_time").and_then(rfc3339_s).map(Value::from),
        ),
        ("channel", Some(json!("facebook_feed"))),
        ("visibility", Some(json!("public"))),
        ("kind", Some(json!(kind))),
        ("in_reply_to", in_reply_to.map(Value::from)),
        ("post_id", post.map(Value::from)),
        ("account", Some(json!(account))),
        ("platform_event", Some(v.clone())),
    ]);
    out.message(at, account, msg);
}

/// An Instagram comment (or live comment) on one of our media; replies carry `parent_id`.
fn instagram_comment(
    out: &mut Parsed,
    at: &str,
    account: &str,
    field: &str,
    sent_s: Option<u64>,
    v: &Value,
) {
    let Some(comment_id) = text(v, "id") else {
        return out.skip(at, "comment has no `id`");
    };
    let from = v.get("from");
    let Some(author_id) = from.and_then(|f| id(f, "id")) else {
        return out.skip(at, "comment has no `from.id`");
    };
    if author_id == account {
        return out.skip(at, "written by our own account");
    }
    let Some(body) = text(v, "text") else {
        return out.skip(at, "comment has no `text`");
    };
    let handle = match from.and_then(|f| text(f, "username")) {
        Some(u) => format!("@{u}"),
        None => author_id.clone(),
    };
    let parent = text(v, "parent_id");
    let media = v.get("media").and_then(|m| text(m, "id"));
    let channel = if field == "live_comments" {
        "instagram_live"
    } else {
        "instagram_comments"
    };
    let msg = object([
        ("source", Some(json!(Platform::Instagram.as_str()))),
        ("external_id", Some(json!(comment_id))),
        ("author", Some(json!({ "handle": handle }))),
        ("author_id", Some(json!(author_id))),
        ("text", Some(json!(body))),
        ("created_at", sent_s.and_then(rfc3339_s).map(Value::from)),
        ("channel", Some(json!(channel))),
        ("visibility", Some(json!("public"))),
        (
            "kind",
            Some(json!(if parent.is_some() { "reply" } else { "comment" })),
        ),
        ("in_reply_to", parent.or(media).map(Value::from)),
        ("media_id", media.map(Value::from)),
        ("account", Some(json!(account))),
        ("platform_event", Some(v.clone())),
    ]);
    out.message(at, account, msg);
}

#[cfg(test)]
mod tests;
