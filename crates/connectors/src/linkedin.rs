//! LinkedIn organization webhooks (Community Management API, "Organization Social Action
//! Notifications"): one delivery body, already verified with `verify_linkedin`, into inbound
//! events.
//!
//! A body is `{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [...]}`,
//! up to ten per delivery. Each notification names our Company Page (`organizationalEntity`),
//! an `action`, the post it concerns (`sourcePost`, with `decoratedSourcePost`) and, for
//! comments and mentions, what was written (`generatedActivity`, with
//! `decoratedGeneratedActivity.comment` or `.share`: `entity`, `owner`, `text`). Times are
//! epoch milliseconds (`lastModifiedAt`).
//!
//! Where the documentation is thin we chose, and say so here:
//! - Edits and deletes (`COMMENT_EDIT`, `COMMENT_DELETE`) are listed as actions but their
//!   payload is not shown; we read the same fields as for `COMMENT`, the new text from
//!   `decoratedGeneratedActivity.comment.text`.
//! - A comment URN appears both as `urn:li:comment:(urn:li:activity:…,…)` (decorated
//!   `entity`) and as `urn:li:comment:(activity:…,…)` (`generatedActivity`) in published
//!   examples. Both are brought to the first form so that an edit finds its comment.
//! - Replies to comments are not described; a decorated `parentComment` is read as the parent
//!   when present, otherwise the comment answers its post (`object`, then `sourcePost`).
//! - Notifications carry the author's person URN only, no name; the URN is the handle.
//! - For `SHARE_MENTION` the mentioning post is read from `decoratedGeneratedActivity.share`,
//!   falling back to `decoratedSourcePost`.

use crate::event::{
    InboundEvent, Parsed, PayloadError, id, object, parse_json, rfc3339_ms, text, uint,
};
use sb_domain::Platform;
use serde_json::{Value, json};

/// The only notification family this module reads; lead notifications arrive with another.
const ORGANIZATION_SOCIAL_ACTIONS: &str = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS";

/// Parses a LinkedIn webhook body. Errors only when the body is not JSON or not a
/// notification envelope; notifications we do not act on are skipped.
pub fn parse(raw_body: &[u8]) -> Result<Parsed, PayloadError> {
    let body = parse_json(raw_body)?;
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .ok_or(PayloadError::Shape("`type` must be a string"))?;
    let mut out = Parsed::default();
    if kind != ORGANIZATION_SOCIAL_ACTIONS {
        out.skip("type", format!("type `{kind}` is not handled"));
        return Ok(out);
    }
    let notifications = body
        .get("notifications")
        .and_then(Value::as_array)
        .ok_or(PayloadError::Shape("`notifications` must be an array"))?;
    for (i, n) in notifications.iter().enumerate() {
        notification(&mut out, &format!("notifications[{i}]"), n);
    }
    Ok(out)
}

/// One notification, dispatched on `action`.
fn notification(out: &mut Parsed, at: &str, n: &Value) {
    let Some(account) = text(n, "organizationalEntity") else {
        return out.skip(at, "notification has no `organizationalEntity`");
    };
    let action = n.get("action").and_then(Value::as_str).unwrap_or("");
    let generated = n.get("decoratedGeneratedActivity");
    let comment = generated
        .and_then(|g| g.get("comment"))
        .filter(|c| c.is_object());
    match action {
        "COMMENT" => new_comment(out, at, account, n, comment.unwrap_or(&Value::Null)),
        "SHARE_MENTION" => match comment {
            // Mentioned inside a comment rather than a post.
            Some(c) => new_comment(out, at, account, n, c),
            None => mention(out, at, account, n),
        },
        "COMMENT_EDIT" => {
            let c = comment.unwrap_or(&Value::Null);
            match (comment_id(n, c), comment_text(c)) {
                (Some(external_id), Some(new_text)) => out.events.push(InboundEvent::Edit {
                    account: account.to_owned(),
                    source: Platform::Linkedin,
                    external_id,
                    new_text: new_text.to_owned(),
                }),
                (None, _) => out.skip(at, "comment edit without a comment URN"),
                (Some(_), None) => out.skip(at, "comment edit without the new text"),
            }
        }
        "COMMENT_DELETE" => match comment_id(n, comment.unwrap_or(&Value::Null)) {
            Some(external_id) => out.events.push(InboundEvent::Remove {
                account: account.to_owned(),
                source: Platform::Linkedin,
                external_id,
            }),
            None => out.skip(at, "comment delete without a comment URN"),
        },
        "ADMIN_COMMENT" => out.skip(at, "written by our own organization"),
        "LIKE" | "SHARE" => out.skip(at, format!("`{action}` carries no message")),
        "" => out.skip(at, "notification has no `action`"),
        other => out.skip(at, format!("action `{other}` is not handled")),
    }
}

/// A comment on one of our posts, or a reply under one of its comments.
fn new_comment(out: &mut Parsed, at: &str, account: &str, n: &Value, c: &Value) {
    let Some(external_id) = comment_id(n, c) else {
        return out.skip(at, "comment has no URN");
    };
    let Some(author) = text(c, "owner").or_else(|| text(c, "actor")) else {
        return out.skip(at, "comment has no `owner`");
    };
    if author == account {
        return out.skip(at, "written by our own organization");
    }
    let Some(body) = comment_text(c) else {
        return out.skip(at, "comment has no text");
    };
    let post = text(n, "sourcePost");
    let parent = text(c, "parentComment").map(canonical_comment_urn);
    let in_reply_to = match &parent {
        Some(p) => Some(p.clone()),
        None => text(c, "object").or(post).map(str::to_owned),
    };
    let msg = object([
        ("source", Some(json!(Platform::Linkedin.as_str()))),
        ("external_id", Some(json!(external_id))),
        ("author", Some(json!({ "handle": author }))),
        ("author_id", Some(json!(author))),
        ("text", Some(json!(body))),
        ("created_at", created_at(n)),
        ("channel", Some(json!("linkedin_comments"))),
        ("visibility", Some(json!("public"))),
        (
            "kind",
            Some(json!(if parent.is_some() { "reply" } else { "comment" })),
        ),
        ("in_reply_to", in_reply_to.map(Value::from)),
        ("post_id", post.map(Value::from)),
        ("notification_id", id(n, "notificationId").map(Value::from)),
        ("account", Some(json!(account))),
        ("platform_event", Some(n.clone())),
    ]);
    out.message(at, account, msg);
}

/// Someone else's post that mentions our organization.
fn mention(out: &mut Parsed, at: &str, account: &str, n: &Value) {
    let share = n
        .get("decoratedGeneratedActivity")
        .and_then(|g| g.get("share"))
        .or_else(|| n.get("decoratedSourcePost"))
        .unwrap_or(&Value::Null);
    let Some(external_id) = text(share, "entity")
        .or_else(|| text(n, "generatedActivity"))
        .or_else(|| text(n, "sourcePost"))
    else {
        return out.skip(at, "mention has no post URN");
    };
    let Some(author) = text(share, "owner") else {
        return out.skip(at, "mention has no `owner`");
    };
    if author == account {
        return out.skip(at, "posted by our own organization");
    }
    let Some(body) = text(share, "text") else {
        return out.skip(at, "mention has no text");
    };
    let msg = object([
        ("source", Some(json!(Platform::Linkedin.as_str()))),
        ("external_id", Some(json!(external_id))),
        ("author", Some(json!({ "handle": author }))),
        ("author_id", Some(json!(author))),
        ("text", Some(json!(body))),
        ("created_at", created_at(n)),
        ("channel", Some(json!("linkedin_mentions"))),
        ("visibility", Some(json!("public"))),
        ("kind", Some(json!("post"))),
        ("notification_id", id(n, "notificationId").map(Value::from)),
        ("account", Some(json!(account))),
        ("platform_event", Some(n.clone())),
    ]);
    out.message(at, account, msg);
}

fn created_at(n: &Value) -> Option<Value> {
    uint(n, "lastModifiedAt")
        .and_then(rfc3339_ms)
        .map(Value::from)
}

/// The comment's URN, from the decorated comment or the notification, in one spelling.
fn comment_id(n: &Value, c: &Value) -> Option<String> {
    text(c, "entity")
        .or_else(|| text(n, "generatedActivity"))
        .map(canonical_comment_urn)
}

/// Comment text as notifications carry it (`text`), or as the Comments API does
/// (`message.text`).
fn comment_text(c: &Value) -> Option<&str> {
    text(c, "text").or_else(|| c.get("message").and_then(|m| text(m, "text")))
}

/// `urn:li:comment:(activity:1,2)` → `urn:li:comment:(urn:li:activity:1,2)`; anything else is
/// returned unchanged.
fn canonical_comment_urn(urn: &str) -> String {
    const HEAD: &str = "urn:li:comment:(";
    match urn.strip_prefix(HEAD) {
        Some(rest) if !rest.starts_with("urn:") => format!("{HEAD}urn:li:{rest}"),
        _ => urn.to_owned(),
    }
}

#[cfg(test)]
mod tests;
