//! TikTok webhooks: one delivery body, already verified with `verify_tiktok`, into inbound
//! events.
//!
//! The envelope is documented (TikTok for Developers, "Webhook Events"): `client_key`,
//! `event`, `create_time` (epoch seconds), `user_openid` (the authorizing account, ours) and
//! `content`, the event's own fields as a *serialized JSON string*. One event per delivery.
//!
//! The comment events are not: TikTok API for Business lists a "comment updates" family for
//! comments on the business account's posts, but the public material we could read names
//! neither the event nor the fields inside `content`. Until a captured delivery says
//! otherwise, `comment` assumes event `comment.update` with the field names of the Business
//! API's comment object: `comment_id`, `video_id`, `parent_comment_id`, `user_id`,
//! `username`/`unique_identifier`, `display_name`, `text`, `create_time`, `owner` (written by
//! the account itself), plus `comment_action` (`insert`, the default, `update` or `delete`).
//! When real deliveries differ, correct `COMMENT_EVENT` and `comment` and leave the envelope
//! alone.

use crate::event::{
    InboundEvent, Parsed, PayloadError, id, object, parse_json, rfc3339_s, text, uint,
};
use sb_domain::Platform;
use serde_json::{Value, json};

/// The event carrying new, edited and removed comments (assumed; see the module docs).
const COMMENT_EVENT: &str = "comment.update";

/// Parses a TikTok webhook body. Errors only when the body is not JSON or lacks the
/// documented `event` and `user_openid`; other events are skipped.
pub fn parse(raw_body: &[u8]) -> Result<Parsed, PayloadError> {
    let body = parse_json(raw_body)?;
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .ok_or(PayloadError::Shape("`event` must be a string"))?;
    let account =
        text(&body, "user_openid").ok_or(PayloadError::Shape("`user_openid` is required"))?;
    let mut out = Parsed::default();
    if event != COMMENT_EVENT {
        out.skip(
            "event",
            format!("event `{event}` is not a customer message"),
        );
        return Ok(out);
    }
    // Documented as a string; an object is read too, in case a relay has already decoded it.
    let content = match body.get("content") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v) if v.is_object() => v,
            _ => {
                out.skip("content", "`content` is not a JSON object");
                return Ok(out);
            }
        },
        Some(v @ Value::Object(_)) => v.clone(),
        _ => {
            out.skip("content", "event has no `content`");
            return Ok(out);
        }
    };
    comment(
        &mut out,
        account,
        uint(&body, "create_time"),
        &content,
        &body,
    );
    Ok(out)
}

/// A comment event on one of our videos: a new comment or reply, an edit, or a removal.
fn comment(out: &mut Parsed, account: &str, sent_s: Option<u64>, c: &Value, envelope: &Value) {
    let at = "content";
    let Some(comment_id) = id(c, "comment_id") else {
        return out.skip(at, "comment has no `comment_id`");
    };
    match text(c, "comment_action").unwrap_or("insert") {
        "insert" => {}
        "update" => {
            return match text(c, "text") {
                Some(t) => out.events.push(InboundEvent::Edit {
                    account: account.to_owned(),
                    source: Platform::Tiktok,
                    external_id: comment_id,
                    new_text: t.to_owned(),
                }),
                None => out.skip(at, "comment update without `text`"),
            };
        }
        "delete" => {
            return out.events.push(InboundEvent::Remove {
                account: account.to_owned(),
                source: Platform::Tiktok,
                external_id: comment_id,
            });
        }
        other => return out.skip(at, format!("comment action `{other}` is not handled")),
    }
    let user = text(c, "username").or_else(|| text(c, "unique_identifier"));
    let Some(author_id) = id(c, "user_id").or_else(|| user.map(str::to_owned)) else {
        return out.skip(at, "comment has no `user_id`");
    };
    if c.get("owner").and_then(Value::as_bool) == Some(true) || author_id == account {
        return out.skip(at, "written by our own account");
    }
    let Some(body) = text(c, "text") else {
        return out.skip(at, "comment has no `text`");
    };
    let video = id(c, "video_id");
    // Top-level comments may name the video, or "0", as their parent.
    let parent = id(c, "parent_comment_id").filter(|p| p != "0" && Some(p) != video.as_ref());
    let handle = match user {
        Some(u) => format!("@{u}"),
        None => author_id.clone(),
    };
    let msg = object([
        ("source", Some(json!(Platform::Tiktok.as_str()))),
        ("external_id", Some(json!(comment_id))),
        (
            "author",
            Some(json!({ "handle": handle, "name": text(c, "display_name") })),
        ),
        ("author_id", Some(json!(author_id))),
        ("text", Some(json!(body))),
        (
            "created_at",
            uint(c, "create_time")
                .or(sent_s)
                .and_then(rfc3339_s)
                .map(Value::from),
        ),
        ("channel", Some(json!("tiktok_comments"))),
        ("visibility", Some(json!("public"))),
        (
            "kind",
            Some(json!(if parent.is_some() { "reply" } else { "comment" })),
        ),
        (
            "in_reply_to",
            parent.clone().or(video.clone()).map(Value::from),
        ),
        ("video_id", video.map(Value::from)),
        ("account", Some(json!(account))),
        ("platform_event", Some(envelope.clone())),
    ]);
    out.message(at, account, msg);
}

#[cfg(test)]
mod tests;
