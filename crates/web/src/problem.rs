//! RFC 9457 problem details with Switchboard's stable error `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::{ErrorCode, FieldError};
use serde::Serialize;

/// The error every handler returns: boxed so that `Result<T, Problem>` stays small.
#[derive(Clone, Debug)]
pub struct Problem(Box<ProblemBody>);

/// The `application/problem+json` document.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `missing_field`.
    pub code: String,
    /// The offending input field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip)]
    retry_after: Option<u64>,
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidJson | ErrorCode::InvalidBody | ErrorCode::InvalidQuery => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::MissingField
        | ErrorCode::InvalidField
        | ErrorCode::TextTooLong
        | ErrorCode::UnknownSource => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        let status = status_of(code);
        Self(Box::new(ProblemBody {
            kind: format!(
                "https://switchboard.dev/problems/{}",
                code.as_str().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.as_str().to_owned(),
            field: None,
            retry_after: None,
        }))
    }

    /// A problem whose code is owned by another crate (e.g. a connector's signature codes).
    pub fn custom(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemBody {
            kind: format!(
                "https://switchboard.dev/problems/{}",
                code.replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            field: None,
            retry_after: None,
        }))
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// Tells the caller how many seconds to wait (`Retry-After`).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs);
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    pub fn code(&self) -> &str {
        &self.0.code
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "a valid API key is required")
    }

    pub fn overloaded(retry_after_secs: u64) -> Self {
        let mut p = Self::new(ErrorCode::Overloaded, "ingest is saturated; retry shortly");
        p.0.retry_after = Some(retry_after_secs);
        p
    }

    /// Logs the cause for operators and tells the caller only that it failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(ErrorCode::Internal, "the request could not be completed")
    }
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        let p = Self::new(e.code, e.detail);
        match e.field {
            Some(f) => p.with_field(f),
            None => p,
        }
    }
}

impl From<sb_store::StoreError> for Problem {
    fn from(e: sb_store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = *self.0;
        let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = body.retry_after;
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
