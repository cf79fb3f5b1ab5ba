//! Parsing an inbound message. Input is parsed into a `NewMessage` that can only hold valid
//! values; every rejection names its stable code and the offending field.

use crate::{ErrorCode, FieldError, MessageKind, Platform, Timestamp, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest message text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Longest identifier (external id, handle, channel) accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Author {
    /// The author's handle on the platform (`@name`, page-scoped id, e-mail address).
    pub handle: String,
    pub name: Option<String>,
    /// Audience size where the platform reports it; used for reach.
    pub followers: Option<u64>,
    #[serde(default)]
    pub verified: bool,
}

/// A message that passed validation and is ready to be appended.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    pub source: Platform,
    pub external_id: String,
    pub author: Author,
    pub text: String,
    pub created_at: Option<Timestamp>,
    pub channel: String,
    pub kind: MessageKind,
    pub visibility: Visibility,
    pub region: Option<String>,
    pub in_reply_to: Option<String>,
    pub metrics: Value,
    /// The payload as received, kept for audit and replay.
    pub raw: Value,
}

fn invalid(field: &str, detail: impl Into<String>) -> FieldError {
    FieldError::new(ErrorCode::InvalidField, field, detail)
}

fn opt_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, FieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(field, format!("`{field}` must be a string"))),
    }
}

fn req_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, FieldError> {
    opt_str(obj, field)?.ok_or_else(|| {
        FieldError::new(
            ErrorCode::MissingField,
            field,
            format!("`{field}` is required"),
        )
    })
}

fn identifier(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(invalid(field, format!("`{field}` must not be empty")));
    }
    if t.len() > MAX_ID_BYTES {
        return Err(invalid(
            field,
            format!("`{field}` is longer than {MAX_ID_BYTES} bytes"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("`{field}` must not contain control characters"),
        ));
    }
    Ok(t.to_owned())
}

fn parse_author(v: Option<&Value>) -> Result<Author, FieldError> {
    match v {
        None | Some(Value::Null) => Err(FieldError::new(
            ErrorCode::MissingField,
            "author",
            "`author` is required",
        )),
        Some(Value::String(handle)) => Ok(Author {
            handle: identifier("author", handle)?,
            name: None,
            followers: None,
            verified: false,
        }),
        Some(Value::Object(obj)) => {
            let handle = identifier(
                "author.handle",
                req_str(obj, "handle").map_err(|e| FieldError {
                    field: Some("author.handle".into()),
                    detail: "`author.handle` is required".into(),
                    ..e
                })?,
            )?;
            let name = match opt_str(obj, "name")
                .map_err(|_| invalid("author.name", "`author.name` must be a string"))?
            {
                Some(n) if n.len() > MAX_ID_BYTES => {
                    return Err(invalid("author.name", "`author.name` is too long"));
                }
                other => other.map(str::to_owned),
            };
            let followers = match obj.get("followers") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or_else(|| {
                    invalid(
                        "author.followers",
                        "`author.followers` must be a non-negative integer",
                    )
                })?),
            };
            let verified = match obj.get("verified") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(invalid(
                        "author.verified",
                        "`author.verified` must be a boolean",
                    ));
                }
            };
            Ok(Author {
                handle,
                name,
                followers,
                verified,
            })
        }
        Some(_) => Err(invalid(
            "author",
            "`author` must be a handle string or an object with `handle`",
        )),
    }
}

fn parse_metrics(v: Option<&Value>) -> Result<Value, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(obj)) => {
            for (k, val) in obj {
                if val.as_u64().is_none() {
                    return Err(invalid(
                        &format!("metrics.{k}"),
                        format!("`metrics.{k}` must be a non-negative integer"),
                    ));
                }
            }
            Ok(Value::Object(obj.clone()))
        }
        Some(_) => Err(invalid("metrics", "`metrics` must be an object of counts")),
    }
}

impl NewMessage {
    /// Parses the generic ingest shape (`POST /api/v1/messages`, import lines).
    pub fn parse(body: Value) -> Result<Self, FieldError> {
        let Value::Object(obj) = &body else {
            return Err(FieldError::body(
                ErrorCode::InvalidBody,
                "the body must be a JSON object",
            ));
        };
        let source_s = req_str(obj, "source")?;
        let source = Platform::parse(source_s).ok_or_else(|| {
            FieldError::new(
                ErrorCode::UnknownSource,
                "source",
                format!("unknown source `{source_s}`"),
            )
        })?;
        let external_id = identifier("external_id", req_str(obj, "external_id")?)?;
        let author = parse_author(obj.get("author"))?;
        let text = req_str(obj, "text")?;
        if text.len() > MAX_TEXT_BYTES {
            return Err(FieldError::new(
                ErrorCode::TextTooLong,
                "text",
                format!(
                    "`text` is {} bytes; at most {MAX_TEXT_BYTES} are accepted",
                    text.len()
                ),
            ));
        }
        let created_at = match opt_str(obj, "created_at")? {
            None => None,
            Some(s) => Some(Timestamp::parse_rfc3339(s).ok_or_else(|| {
                invalid("created_at", "`created_at` must be an RFC 3339 timestamp")
            })?),
        };
        let channel = match opt_str(obj, "channel")? {
            Some(c) => identifier("channel", c)?,
            None => source.as_str().to_owned(),
        };
        let visibility = match opt_str(obj, "visibility")? {
            Some(v) => Visibility::parse(v).ok_or_else(|| {
                invalid("visibility", "`visibility` must be `public` or `private`")
            })?,
            None if source.public_by_default() => Visibility::Public,
            None => Visibility::Private,
        };
        let region = match opt_str(obj, "region")? {
            None => None,
            Some(r) => {
                let ok = !r.is_empty()
                    && r.len() <= 32
                    && r.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(invalid(
                        "region",
                        "`region` must be a short code such as `eu` or `us-east`",
                    ));
                }
                Some(r.to_ascii_lowercase())
            }
        };
        let in_reply_to = opt_str(obj, "in_reply_to")?
            .map(|s| identifier("in_reply_to", s))
            .transpose()?;
        let kind = match opt_str(obj, "kind")? {
            Some(k) => MessageKind::parse(k).ok_or_else(|| {
                invalid(
                    "kind",
                    "`kind` must be one of post, comment, reply, dm, review, email, chat",
                )
            })?,
            None => MessageKind::infer(source, visibility, in_reply_to.is_some()),
        };
        let metrics = parse_metrics(obj.get("metrics"))?;
        let text = text.to_owned();
        Ok(Self {
            source,
            external_id,
            author,
            text,
            created_at,
            channel,
            kind,
            visibility,
            region,
            in_reply_to,
            metrics,
            raw: body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"source": "x", "external_id": "1", "author": "@ana", "text": "where is my parcel?"})
    }

    fn err(v: Value) -> FieldError {
        NewMessage::parse(v).unwrap_err()
    }

    #[test]
    fn a_minimal_public_post_gets_sensible_defaults() {
        let m = NewMessage::parse(base()).unwrap();
        assert_eq!(m.source, Platform::X);
        assert_eq!(m.channel, "x");
        assert_eq!(m.visibility, Visibility::Public);
        assert_eq!(m.kind, MessageKind::Post);
        assert_eq!(m.author.handle, "@ana");
    }

    #[test]
    fn an_email_is_private_and_a_reply_is_a_reply() {
        let mut v = base();
        v["source"] = json!("email");
        assert_eq!(
            NewMessage::parse(v).unwrap().visibility,
            Visibility::Private
        );
        let mut v = base();
        v["in_reply_to"] = json!("0");
        assert_eq!(NewMessage::parse(v).unwrap().kind, MessageKind::Reply);
    }

    #[test]
    fn each_rejection_names_its_code_and_field() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("text");
        let e = err(v);
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::MissingField, Some("text"))
        );

        let mut v = base();
        v["text"] = json!(42);
        let e = err(v);
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidField, Some("text"))
        );

        let mut v = base();
        v["source"] = json!("myspace");
        assert_eq!(err(v).code, ErrorCode::UnknownSource);

        let mut v = base();
        v["text"] = json!("a".repeat(MAX_TEXT_BYTES + 1));
        assert_eq!(err(v).code, ErrorCode::TextTooLong);

        let mut v = base();
        v["author"] = json!({"name": "Ana"});
        let e = err(v);
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::MissingField, Some("author.handle"))
        );

        let mut v = base();
        v["metrics"] = json!({"likes": -3});
        assert_eq!(err(v).field.as_deref(), Some("metrics.likes"));

        let mut v = base();
        v["created_at"] = json!("last tuesday");
        assert_eq!(err(v).field.as_deref(), Some("created_at"));

        assert_eq!(err(json!([1, 2])).code, ErrorCode::InvalidBody);
    }

    #[test]
    fn text_at_the_limit_is_accepted() {
        let mut v = base();
        v["text"] = json!("a".repeat(MAX_TEXT_BYTES));
        assert!(NewMessage::parse(v).is_ok());
    }
}
