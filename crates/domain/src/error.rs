//! Stable, machine-readable error codes. API clients and scripts match on these strings, so a
//! code, once published, never changes meaning. The HTTP layer maps each to a status.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON at all.
    InvalidJson,
    /// The body is JSON but not an object where one is required.
    InvalidBody,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or an unacceptable value.
    InvalidField,
    /// The message text is longer than the product accepts.
    TextTooLong,
    /// The request body is larger than the product accepts.
    PayloadTooLarge,
    /// The `source` names no platform the product knows.
    UnknownSource,
    /// No valid credentials were presented.
    Unauthorized,
    /// Credentials are valid but do not allow this action.
    Forbidden,
    NotFound,
    /// A query parameter (filter, cursor, limit) is malformed.
    InvalidQuery,
    /// The product is shedding load; retry after the indicated delay.
    Overloaded,
    /// Too many attempts from this caller (logins, key use); retry after the indicated delay.
    RateLimited,
    /// A dependency (database, bus) is not answering.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidBody => "invalid_body",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::TextTooLong => "text_too_long",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnknownSource => "unknown_source",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::InvalidQuery => "invalid_query",
            Self::Overloaded => "overloaded",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected input: which code, which field (if one is to blame), and a sentence for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct FieldError {
    pub code: ErrorCode,
    pub field: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn new(code: ErrorCode, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            code,
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    pub fn body(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            detail: detail.into(),
        }
    }
}
