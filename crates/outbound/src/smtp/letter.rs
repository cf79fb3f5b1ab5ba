//! The message an e-mail reply becomes: headers, threading and body, checked so that no
//! value can add a header of its own. Nothing here touches the network.

use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{Address, Message};

use crate::item::{Reply, ReplyKind};

/// A composed message and what the outbox keeps of it.
pub(super) struct Letter {
    pub message: Message,
    /// Without angle brackets, as inbound mail stores Message-IDs.
    pub message_id: String,
}

/// The message that answers `reply` as outbox item `item_id` at `now_unix_s`, or why it
/// cannot be sent.
pub(super) fn compose(item_id: &str, reply: &Reply, now_unix_s: i64) -> Result<Letter, String> {
    if reply.platform != "email" {
        return Err(format!("smtp cannot reply on {:?}", reply.platform));
    }
    if reply.kind != ReplyKind::Email {
        return Err(format!("smtp sends e-mail replies, not a {:?}", reply.kind));
    }
    if reply.text.trim().is_empty() {
        return Err("the reply text is empty".into());
    }
    // Everything that reaches a header is checked first, so no later step can be fooled.
    one_line("account", &reply.account)?;
    one_line("recipient", reply.recipient.as_deref().unwrap_or_default())?;
    one_line("subject", reply.subject.as_deref().unwrap_or_default())?;
    one_line(
        "in_reply_to",
        reply.in_reply_to.as_deref().unwrap_or_default(),
    )?;
    for r in &reply.references {
        one_line("references", r)?;
    }
    let from: Address = reply
        .account
        .trim()
        .parse()
        .map_err(|e| format!("our mailbox {:?} is not an address: {e}", reply.account))?;
    let recipient = reply
        .recipient
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or("an e-mail reply needs the customer's address (recipient)")?;
    let to: Address = recipient
        .parse()
        .map_err(|e| format!("the recipient {recipient:?} is not an address: {e}"))?;
    if !is_id_part(item_id) {
        return Err(format!(
            "outbox item id {item_id:?} cannot be part of a Message-ID"
        ));
    }
    let message_id = format!("{item_id}@{}", from.domain());
    let in_reply_to = match reply.in_reply_to.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(message_id_of("in_reply_to", id)?),
        _ => None,
    };
    let mut references = Vec::with_capacity(reply.references.len() + 1);
    for r in reply
        .references
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        let id = message_id_of("references", r)?;
        if !references.contains(&id) {
            references.push(id);
        }
    }
    if let Some(parent) = &in_reply_to {
        references.retain(|r| r != parent);
        references.push(parent.clone());
    }

    let body =
        Body::new_with_encoding(reply.text.clone(), ContentTransferEncoding::QuotedPrintable)
            .map_err(|_| "the reply text cannot be encoded".to_owned())?;
    let mut builder = Message::builder()
        .from(Mailbox::new(None, from))
        .to(Mailbox::new(None, to))
        .subject(re_subject(reply.subject.as_deref()))
        .message_id(Some(format!("<{message_id}>")));
    if let Some(parent) = &in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !references.is_empty() {
        let joined: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(joined.join(" "));
    }
    let sent_at = u64::try_from(now_unix_s).unwrap_or(0);
    let message = builder
        .date(UNIX_EPOCH + Duration::from_secs(sent_at))
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body),
        )
        .map_err(|e| format!("the message cannot be built: {e}"))?;
    Ok(Letter {
        message,
        message_id,
    })
}

/// `Re: <subject>`, unless it already starts with `Re:` in any case. A thread without a
/// subject is answered as `Re:`, as mail clients do.
pub(super) fn re_subject(subject: Option<&str>) -> String {
    let subject = subject.map(str::trim).unwrap_or_default();
    let has_prefix = subject
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    if has_prefix {
        subject.to_owned()
    } else if subject.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {subject}")
    }
}

/// A header value with a line break could end its header and start another.
fn one_line(field: &str, value: &str) -> Result<(), String> {
    if value.contains(['\r', '\n']) {
        return Err(format!(
            "{field} holds a line break; it would inject e-mail headers"
        ));
    }
    Ok(())
}

/// A Message-ID as stored (`local@domain`), tolerating the angle brackets some sources keep.
fn message_id_of(field: &str, raw: &str) -> Result<String, String> {
    let id = raw
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(raw);
    match id.split_once('@') {
        Some((left, right)) if !left.is_empty() && !right.is_empty() && is_msg_id_text(id) => {
            Ok(id.to_owned())
        }
        _ => Err(format!(
            "{field} {raw:?} is not a Message-ID (local@domain)"
        )),
    }
}

/// Printable ASCII without space, angle brackets or quotes: what fits between `<` and `>`.
fn is_msg_id_text(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'))
}

/// Our own ids go left of the `@`; outbox ids are ULIDs, anything odder is refused.
fn is_id_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
