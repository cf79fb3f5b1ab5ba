//! Inbound e-mail: a raw RFC 5322 message, as inbound-mail services post it, becomes one
//! ingest message. `Message-ID` is the idempotency key; `In-Reply-To` and `References` keep
//! the thread; the quoted history below a reply is cut so that analysis sees what the
//! customer wrote this time.

use crate::event::{InboundEvent, PayloadError, object, rfc3339_s};
use mail_parser::{HeaderValue, MessageParser};
use sb_domain::NewMessage;
use sb_domain::ingest::MAX_TEXT_BYTES;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Parses one raw message. The result is always a `Message` event whose `account` is the
/// mailbox it was sent to.
pub fn parse(raw: &[u8]) -> Result<InboundEvent, PayloadError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::Shape("the body is empty"));
    }
    let mail = MessageParser::default()
        .parse(raw)
        .ok_or(PayloadError::Shape("not an RFC 5322 message"))?;
    let from = mail
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .filter(|a| a.contains('@'))
        .ok_or(PayloadError::Shape("no sender address in `From`"))?
        .to_ascii_lowercase();
    let name = mail.from().and_then(|a| a.first()).and_then(|a| a.name());
    let mailbox = mail
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "email".to_owned());
    let message_id = match mail.message_id().map(bare_id).filter(|s| !s.is_empty()) {
        Some(id) => id.to_owned(),
        // Without an id, the content is the key: the same message posted twice is one message.
        None => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    };
    let in_reply_to = ids(mail.in_reply_to()).into_iter().next_back();
    let references = ids(mail.references());
    let subject = mail.subject().map(str::trim).unwrap_or("");
    let body = mail
        .body_text(0)
        .map(|b| strip_quoted(&b))
        .unwrap_or_default();
    let text = if in_reply_to.is_none() && !subject.is_empty() {
        format!("{subject}\n\n{body}")
    } else if body.is_empty() {
        subject.to_owned()
    } else {
        body
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(PayloadError::Shape(
            "the message has neither subject nor text",
        ));
    }
    let created_at = mail
        .date()
        .and_then(|d| u64::try_from(d.to_timestamp()).ok())
        .and_then(rfc3339_s);
    let message = object([
        ("source", Some(json!("email"))),
        ("external_id", Some(json!(message_id))),
        ("author", Some(json!({ "handle": from, "name": name }))),
        ("text", Some(json!(truncate(text, MAX_TEXT_BYTES)))),
        ("created_at", created_at.map(Value::from)),
        ("channel", Some(json!(mailbox))),
        ("visibility", Some(json!("private"))),
        ("kind", Some(json!("email"))),
        ("in_reply_to", in_reply_to.clone().map(Value::from)),
        (
            "email",
            Some(json!({
                "message_id": message_id,
                "in_reply_to": in_reply_to,
                "references": references,
                "subject": subject,
            })),
        ),
    ]);
    NewMessage::parse(message.clone())
        .map_err(|_| PayloadError::Shape("the message does not make a valid ingest message"))?;
    Ok(InboundEvent::Message {
        account: mailbox,
        message,
    })
}

/// `<abc@host>` → `abc@host`.
fn bare_id(s: &str) -> &str {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    v.as_text_list()
        .unwrap_or_default()
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(bare_id)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Cuts the quoted history a mail client appends to a reply: `>` lines, and everything from
/// an attribution line ("On … wrote:") or an "-----Original Message-----" separator down.
fn strip_quoted(body: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let attribution = t.ends_with("wrote:") && (t.starts_with("On ") || t.starts_with("Am "))
            || t.ends_with("a écrit :")
            || t.ends_with("escribió:");
        if attribution || t.starts_with("-----Original Message-----") {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        kept.push(line.trim_end());
    }
    kept.join("\n").trim().to_owned()
}

/// At most `max` bytes, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;
