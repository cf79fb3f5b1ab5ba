//! What a parsed webhook delivery turns into, shared by every platform module.

use sb_domain::{NewMessage, Platform, Timestamp};
use serde_json::{Map, Value};

/// One thing a delivery tells us. `account` is our side of the conversation: the Page or
/// Instagram account id for Meta (`entry[].id`), `for_user_id` for X. The web layer maps it
/// to a connected account and refuses deliveries for accounts it does not know.
#[derive(Clone, Debug, PartialEq)]
pub enum InboundEvent {
    /// A customer message, shaped as the generic ingest body: `NewMessage::parse(message)`
    /// accepts it (this crate checks that before returning it). Besides the ingest fields it
    /// carries `account`, `author_id` and `platform_event` (the item as the platform sent
    /// it), which `NewMessage` keeps in `raw` for audit and replay.
    Message { account: String, message: Value },
    /// The author edited a message we may already hold: keep the old text, show the new.
    Edit {
        account: String,
        source: Platform,
        external_id: String,
        new_text: String,
    },
    /// The message was removed on the platform: tombstone it, keep the record.
    Remove {
        account: String,
        source: Platform,
        external_id: String,
    },
}

/// A part of a delivery that produced no event, and why. Not an error: platforms send many
/// notifications we do not act on, and new fields appear without notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where in the body, e.g. `entry[0].changes[2]`.
    pub at: String,
    pub reason: String,
}

/// The result of parsing one delivery body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    pub events: Vec<InboundEvent>,
    pub skipped: Vec<Skipped>,
}

impl Parsed {
    pub(crate) fn skip(&mut self, at: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            at: at.into(),
            reason: reason.into(),
        });
    }

    /// Adds a message after checking the ingest path will accept it, so a caller never
    /// receives a `Message` that fails later.
    pub(crate) fn message(&mut self, at: &str, account: &str, message: Value) {
        match NewMessage::parse(message.clone()) {
            Ok(_) => self.events.push(InboundEvent::Message {
                account: account.to_owned(),
                message,
            }),
            Err(e) => self.skip(at, format!("not a valid message: {}", e.detail)),
        }
    }
}

/// The body as a whole is unusable: answer 400, store nothing. Individual items that are
/// unusable are `Skipped` instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("the body does not have the expected shape: {0}")]
    Shape(&'static str),
}

impl PayloadError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Json(_) => "payload_malformed_json",
            Self::Shape(_) => "payload_unexpected_shape",
        }
    }
}

pub(crate) fn parse_json(raw_body: &[u8]) -> Result<Value, PayloadError> {
    serde_json::from_slice(raw_body).map_err(|e| PayloadError::Json(e.to_string()))
}

/// A non-empty string field.
pub(crate) fn text<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An id field, which platforms send as a string or, in older payloads, as a number.
pub(crate) fn id(obj: &Value, field: &str) -> Option<String> {
    match obj.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// A count or epoch value, sent as a number or a numeric string.
pub(crate) fn uint(obj: &Value, field: &str) -> Option<u64> {
    match obj.get(field)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// RFC 3339 for an epoch value in milliseconds.
pub(crate) fn rfc3339_ms(ms: u64) -> Option<String> {
    let ms = i64::try_from(ms).ok()?;
    // Years beyond 9999 do not render as RFC 3339; leave the time out rather than guess.
    (ms < 253_402_300_800_000).then(|| Timestamp::from_millis(ms).to_rfc3339())
}

/// RFC 3339 for an epoch value in seconds.
pub(crate) fn rfc3339_s(s: u64) -> Option<String> {
    rfc3339_ms(s.checked_mul(1000)?)
}

/// Builds an ingest body, leaving out absent optional fields.
pub(crate) fn object(fields: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}
