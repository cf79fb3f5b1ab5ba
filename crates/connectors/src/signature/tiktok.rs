//! TikTok webhooks: `TikTok-Signature: t=<unix seconds>,s=<hex>`, where the tag is
//! HMAC-SHA256 of `<t>.<raw body>` keyed with the app's client secret (TikTok for Developers,
//! "Webhooks › Check the signature"). The signed timestamp bounds replays; the window is the
//! same five minutes generic deliveries get.

use super::{GENERIC_TOLERANCE_S, SignatureError, check_timestamped, fresh, mac};
use hmac::Mac;

/// How far, in seconds and either way, a TikTok delivery's `t` may be from now.
pub const TIKTOK_TOLERANCE_S: i64 = GENERIC_TOLERANCE_S;

/// Verifies `TikTok-Signature` over the raw request body and returns the signed timestamp, so
/// the caller can refuse a signature it has already seen within the tolerance. Elements other
/// than `t` and `s` are ignored; with several `s` elements (a secret being rotated) one match
/// is enough.
pub fn verify_tiktok(
    client_secret: &str,
    raw_body: &[u8],
    header_value: &str,
    now_unix_s: i64,
) -> Result<i64, SignatureError> {
    let v = header_value.trim();
    // An unsigned delivery is refused as unsigned, whether or not this endpoint is set up.
    if v.is_empty() {
        return Err(SignatureError::Missing);
    }
    if client_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let mut ts_text = None;
    let mut tags = Vec::new();
    for element in v.split(',') {
        let (key, value) = element
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed(
                "expected `t=<timestamp>,s=<signature>`",
            ))?;
        match key.trim() {
            "t" if ts_text.is_none() => ts_text = Some(value.trim()),
            "t" => return Err(SignatureError::Malformed("more than one `t`")),
            "s" => tags.push(
                hex::decode(value.trim())
                    .map_err(|_| SignatureError::Malformed("the signature must be hex"))?,
            ),
            _ => {}
        }
    }
    let ts_text = ts_text.ok_or(SignatureError::Malformed("no `t` timestamp"))?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed("no `s` signature"));
    }
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| SignatureError::Malformed("the timestamp must be unix seconds"))?;
    let results: Vec<Result<(), SignatureError>> = tags
        .iter()
        .map(|tag| check_timestamped(client_secret, ts_text, raw_body, tag))
        .collect();
    if !results.iter().any(Result::is_ok) {
        // A tag of the wrong length says more than "mismatch" about what the sender got wrong.
        let err = results
            .into_iter()
            .filter_map(Result::err)
            .find(|e| *e != SignatureError::Mismatch)
            .unwrap_or(SignatureError::Mismatch);
        return Err(err);
    }
    // Checked after the tag so that an unsigned request learns nothing about the clock.
    fresh(ts, now_unix_s)?;
    Ok(ts)
}

/// The `TikTok-Signature` value TikTok would send with `raw_body` signed at `timestamp`. For
/// tests, relays and load generators.
pub fn sign_tiktok(
    client_secret: &str,
    timestamp: i64,
    raw_body: &[u8],
) -> Result<String, SignatureError> {
    let mut m = mac(client_secret.as_bytes(), timestamp.to_string().as_bytes())?;
    m.update(b".");
    m.update(raw_body);
    Ok(format!(
        "t={timestamp},s={}",
        hex::encode(m.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests;
