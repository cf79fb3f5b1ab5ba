//! Proving that a webhook delivery came from the platform: Meta's `X-Hub-Signature-256`, X's
//! `x-twitter-webhooks-signature`, X's CRC challenge and Meta's subscription handshake here;
//! LinkedIn's `X-LI-Signature` and challenge in `linkedin`, TikTok's `TikTok-Signature` in
//! `tiktok`.
//!
//! Every comparison of a secret-derived value runs in constant time. Nothing here looks at
//! the body beyond its bytes: verify first, parse after.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;

/// Why a delivery's signature was refused. `code()` is stable for metrics and logs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No secret is configured; refusing is safer than accepting anything signed with "".
    #[error("no signing secret is configured")]
    NoSecret,
    /// The header is absent or empty.
    #[error("the signature header is missing")]
    Missing,
    /// The header is not `sha256=` followed by a 32-byte tag in the expected encoding.
    #[error("the signature header is malformed: {0}")]
    Malformed(&'static str),
    /// Well-formed, but not the HMAC of this body with this secret.
    #[error("the signature does not match the body")]
    Mismatch,
    /// The signed timestamp is further from now than the tolerance allows.
    #[error("the signed timestamp is more than {GENERIC_TOLERANCE_S} seconds from now")]
    Stale,
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSecret => "signature_no_secret",
            Self::Missing => "signature_missing",
            Self::Malformed(_) => "signature_malformed",
            Self::Mismatch => "signature_mismatch",
            Self::Stale => "signature_stale",
        }
    }
}

/// Why Meta's `GET` subscription handshake was refused (answer 403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("no verify token is configured")]
    NoToken,
    #[error("`hub.mode` is not `subscribe`")]
    WrongMode,
    #[error("`hub.verify_token` does not match")]
    WrongToken,
    #[error("`hub.challenge` is missing")]
    MissingChallenge,
}

impl HandshakeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoToken => "handshake_no_token",
            Self::WrongMode => "handshake_wrong_mode",
            Self::WrongToken => "handshake_wrong_token",
            Self::MissingChallenge => "handshake_missing_challenge",
        }
    }
}

fn mac(secret: &[u8], msg: &[u8]) -> Result<HmacSha256, SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    // HMAC accepts keys of any length, so this cannot fail for a non-empty key; map it anyway
    // rather than unwrap.
    let mut m = HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::NoSecret)?;
    m.update(msg);
    Ok(m)
}

/// Splits `sha256=<tag>`; the algorithm name is matched case-insensitively because proxies
/// and SDKs are not consistent about it.
fn tag_of(header_value: &str) -> Result<&str, SignatureError> {
    let v = header_value.trim();
    if v.is_empty() {
        return Err(SignatureError::Missing);
    }
    let (alg, tag) = v
        .split_once('=')
        .ok_or(SignatureError::Malformed("expected `sha256=<signature>`"))?;
    if !alg.eq_ignore_ascii_case("sha256") {
        return Err(SignatureError::Malformed("the algorithm must be sha256"));
    }
    Ok(tag)
}

fn check(secret: &str, body: &[u8], tag: &[u8]) -> Result<(), SignatureError> {
    if tag.len() != TAG_LEN {
        return Err(SignatureError::Malformed("the signature must be 32 bytes"));
    }
    // `verify_slice` compares in constant time.
    mac(secret.as_bytes(), body)?
        .verify_slice(tag)
        .map_err(|_| SignatureError::Mismatch)
}

/// Verifies Meta's `X-Hub-Signature-256: sha256=<hex>` over the raw request body.
pub fn verify_meta(
    app_secret: &str,
    raw_body: &[u8],
    header_value: &str,
) -> Result<(), SignatureError> {
    // An unsigned delivery is refused as unsigned, whether or not this endpoint is set up.
    if header_value.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    if app_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let tag = hex::decode(tag_of(header_value)?)
        .map_err(|_| SignatureError::Malformed("the signature must be hex"))?;
    check(app_secret, raw_body, &tag)
}

/// Verifies X's `x-twitter-webhooks-signature: sha256=<base64>` over the raw request body.
pub fn verify_x(
    consumer_secret: &str,
    raw_body: &[u8],
    header_value: &str,
) -> Result<(), SignatureError> {
    // An unsigned delivery is refused as unsigned, whether or not this endpoint is set up.
    if header_value.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    if consumer_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let tag = BASE64
        .decode(tag_of(header_value)?)
        .map_err(|_| SignatureError::Malformed("the signature must be base64"))?;
    check(consumer_secret, raw_body, &tag)
}

/// How far, in seconds and either way, a generic delivery's timestamp may be from now.
pub const GENERIC_TOLERANCE_S: i64 = 300;

/// Verifies a generic delivery: `X-Switchboard-Timestamp: <unix seconds>` and
/// `X-Switchboard-Signature: sha256=<hex>`, where the tag is HMAC-SHA256 over
/// `<timestamp>.<raw body>`. Signing the timestamp stops an old delivery from being sent again
/// with a fresh one; the caller rejects a signature it has already seen within the tolerance.
/// Returns the timestamp.
pub fn verify_generic(
    secret: &str,
    timestamp_header: &str,
    raw_body: &[u8],
    signature_header: &str,
    now_unix_s: i64,
) -> Result<i64, SignatureError> {
    let ts_text = timestamp_header.trim();
    // An unsigned delivery is refused as unsigned, whether or not this endpoint is set up.
    if ts_text.is_empty() || signature_header.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| SignatureError::Malformed("the timestamp must be unix seconds"))?;
    let tag = hex::decode(tag_of(signature_header)?)
        .map_err(|_| SignatureError::Malformed("the signature must be hex"))?;
    check_timestamped(secret, ts_text, raw_body, &tag)?;
    // Checked after the tag so that an unsigned request learns nothing about the clock.
    fresh(ts, now_unix_s)?;
    Ok(ts)
}

/// Checks `tag` against HMAC-SHA256 over `<timestamp>.<raw body>`, the layout generic and
/// TikTok deliveries share.
fn check_timestamped(
    secret: &str,
    ts_text: &str,
    raw_body: &[u8],
    tag: &[u8],
) -> Result<(), SignatureError> {
    let mut signed = Vec::with_capacity(ts_text.len() + 1 + raw_body.len());
    signed.extend_from_slice(ts_text.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(raw_body);
    check(secret, &signed, tag)
}

/// A signed timestamp within `GENERIC_TOLERANCE_S` of now, either way.
fn fresh(ts: i64, now_unix_s: i64) -> Result<(), SignatureError> {
    if now_unix_s.saturating_sub(ts).saturating_abs() > GENERIC_TOLERANCE_S {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The `X-Hub-Signature-256` value Meta sends with `raw_body`: what a load generator or a
/// relay computes.
pub fn sign_meta(app_secret: &str, raw_body: &[u8]) -> Result<String, SignatureError> {
    let tag = mac(app_secret.as_bytes(), raw_body)?
        .finalize()
        .into_bytes();
    Ok(format!("sha256={}", hex::encode(tag)))
}

/// The `X-Switchboard-Signature` value for a generic delivery: what a sender computes.
pub fn sign_generic(
    secret: &str,
    timestamp: i64,
    raw_body: &[u8],
) -> Result<String, SignatureError> {
    let mut m = mac(secret.as_bytes(), timestamp.to_string().as_bytes())?;
    m.update(b".");
    m.update(raw_body);
    Ok(format!("sha256={}", hex::encode(m.finalize().into_bytes())))
}

/// The `response_token` for X's CRC `GET ?crc_token=…`: `sha256=` + base64 HMAC-SHA256.
/// The caller answers `{"response_token": <this>}` with 200.
pub fn x_crc_response(consumer_secret: &str, crc_token: &str) -> Result<String, SignatureError> {
    let tag = mac(consumer_secret.as_bytes(), crc_token.as_bytes())?
        .finalize()
        .into_bytes();
    Ok(format!("sha256={}", BASE64.encode(tag)))
}

/// Meta's `GET` verification: returns the challenge to echo with 200, or why to answer 403.
/// Arguments are the `hub.mode`, `hub.verify_token` and `hub.challenge` query values as
/// received (absent ones as `None`) and the token configured for this app.
pub fn meta_handshake(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Result<String, HandshakeError> {
    if expected_token.is_empty() {
        return Err(HandshakeError::NoToken);
    }
    if mode != Some("subscribe") {
        return Err(HandshakeError::WrongMode);
    }
    let given = verify_token.unwrap_or("");
    if !constant_time_eq(given.as_bytes(), expected_token.as_bytes()) {
        return Err(HandshakeError::WrongToken);
    }
    match challenge {
        Some(c) if !c.is_empty() => Ok(c.to_owned()),
        _ => Err(HandshakeError::MissingChallenge),
    }
}

/// Equality whose running time depends only on the lengths, not on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

pub mod linkedin;
pub mod tiktok;

#[cfg(test)]
mod tests;
