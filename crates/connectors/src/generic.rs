//! Generic signed JSON deliveries (`POST /webhooks/generic/{source}`): any system that can
//! sign a request posts messages in the ingest shape, one object or an array of them.

use crate::event::{Parsed, PayloadError, parse_json};
use sb_domain::Platform;
use serde_json::Value;

/// Largest number of messages one delivery may carry.
pub const MAX_MESSAGES: usize = 1_000;

/// Parses a delivery for `source`. A message that names another source is skipped: the
/// signing secret vouches for the path, not for whatever the body claims.
pub fn parse(source: Platform, raw_body: &[u8]) -> Result<Parsed, PayloadError> {
    let items = match parse_json(raw_body)? {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => {
            return Err(PayloadError::Shape(
                "expected a message object or an array of them",
            ));
        }
    };
    if items.len() > MAX_MESSAGES {
        return Err(PayloadError::Shape(
            "more than 1000 messages in one delivery",
        ));
    }
    let mut out = Parsed::default();
    for (i, mut item) in items.into_iter().enumerate() {
        let at = format!("[{i}]");
        let Some(obj) = item.as_object_mut() else {
            out.skip(&at, "not a JSON object");
            continue;
        };
        match obj.get("source") {
            None => {
                obj.insert("source".into(), Value::from(source.as_str()));
            }
            Some(Value::String(s)) if Platform::parse(s) == Some(source) => {}
            Some(_) => {
                out.skip(&at, format!("`source` differs from the path's `{source}`"));
                continue;
            }
        }
        let account = obj
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or(source.as_str())
            .to_owned();
        out.message(&at, &account, item);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InboundEvent;

    #[test]
    fn one_object_or_an_array_with_the_path_source() {
        let one = parse(
            Platform::Chat,
            br#"{"external_id":"1","author":"@a","text":"hi"}"#,
        )
        .unwrap();
        assert_eq!(one.events.len(), 1);
        let InboundEvent::Message { account, message } = &one.events[0] else {
            panic!("expected a message")
        };
        assert_eq!(account, "chat");
        assert_eq!(message["source"], "chat");

        let many = parse(
            Platform::Chat,
            br#"[{"external_id":"1","author":"@a","text":"hi","channel":"web"},
                 {"external_id":"2","author":"@b","text":"yo","source":"x"},
                 {"external_id":"3","author":"@c"},
                 7]"#,
        )
        .unwrap();
        assert_eq!(many.events.len(), 1);
        let at: Vec<_> = many.skipped.iter().map(|s| s.at.as_str()).collect();
        assert_eq!(at, ["[1]", "[2]", "[3]"]);
        assert!(many.skipped[0].reason.contains("differs"));
        assert!(many.skipped[1].reason.contains("text"));
    }

    #[test]
    fn bodies_that_are_not_messages_are_errors() {
        for body in [&b"nope"[..], b"42", b"\"text\""] {
            assert!(parse(Platform::Chat, body).is_err());
        }
        let big = format!("[{}]", vec!["{}"; MAX_MESSAGES + 1].join(","));
        assert_eq!(
            parse(Platform::Chat, big.as_bytes()).unwrap_err().code(),
            "payload_unexpected_shape"
        );
    }
}
