//! Reading a JSON body so that every failure is a problem document: too large → 413,
//! not JSON → 400, never axum's plain-text rejections.

use crate::problem::Problem;
use axum::extract::rejection::BytesRejection;
use bytes::Bytes;
use sb_domain::ErrorCode;

/// The body's bytes; `limit` is only named in the error.
pub fn raw(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, Problem> {
    body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {limit} bytes"),
            )
        } else {
            Problem::new(ErrorCode::InvalidBody, "the body could not be read")
        }
    })
}

pub fn json_value(body: Result<Bytes, BytesRejection>) -> Result<serde_json::Value, Problem> {
    let bytes = raw(body, crate::MAX_BODY_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Problem::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// A JSON body read into `T`; a body of the wrong shape is `400 invalid_body` naming the
/// `shape` expected.
pub fn json_as<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    shape: &str,
) -> Result<T, Problem> {
    let value = json_value(body)?;
    serde_json::from_value(value)
        .map_err(|e| Problem::new(ErrorCode::InvalidBody, format!("expected {shape}: {e}")))
}
