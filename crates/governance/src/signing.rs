//! Signed audit exports: what a regulator receives, and how they check it came from us
//! unaltered. One JSON line per audit entry, then one signature line over everything before it.
//!
//! Keeping the signing key is the caller's job; this module only signs and verifies.

#[cfg(test)]
mod tests;

use crate::audit::{AuditEntry, GENESIS, detail_digest, entry_hash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;

const ALGORITHM: &str = "ed25519";

/// The Ed25519 key that signs exports.
pub struct ExportSigner {
    key: Ed25519KeyPair,
}

impl fmt::Debug for ExportSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportSigner")
            .field("public_key", &self.public_key_hex())
            .finish()
    }
}

impl ExportSigner {
    /// A fresh key, and its PKCS#8 document for the caller to store.
    pub fn generate() -> Result<(Self, Vec<u8>), SigningError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| SigningError::Random)?;
        let signer = Self::from_pkcs8(document.as_ref())?;
        Ok((signer, document.as_ref().to_vec()))
    }

    /// Loads a stored PKCS#8 key.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<Self, SigningError> {
        // The "maybe unchecked" loader also takes v1 documents without the public half, which
        // is what `openssl genpkey -algorithm ed25519` writes; v2 documents are still checked.
        let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
            .map_err(|e| SigningError::BadKey(e.to_string()))?;
        Ok(Self { key })
    }

    /// What a regulator is given, out of band, to check our exports against.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.public_key().as_ref())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureLine {
    signature: SignatureBlock,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureBlock {
    algorithm: String,
    public_key: String,
    entries: u64,
    head: String,
    sha256: String,
    value: String,
}

/// Writes one JSON line per entry, then a final line
/// `{"signature":{"algorithm":"ed25519","public_key":HEX,"entries":N,"head":LAST_HASH_OR_GENESIS,"sha256":HEX,"value":BASE64}}`
/// where `sha256` covers every byte before that line and `value` signs the `sha256` hex
/// string's bytes. Entries are written as they arrive, so an export of any size streams.
/// Returns the number of entries written.
pub fn write_signed_export<W: Write, I: IntoIterator<Item = AuditEntry>>(
    mut out: W,
    entries: I,
    signer: &ExportSigner,
) -> Result<u64, SigningError> {
    let mut digest = Sha256::new();
    let mut count: u64 = 0;
    let mut head = GENESIS.to_owned();
    for entry in entries {
        let mut line = serde_json::to_vec(&entry)?;
        line.push(b'\n');
        digest.update(&line);
        out.write_all(&line)?;
        count += 1;
        head = entry.hash;
    }
    let sha256 = hex::encode(digest.finalize());
    let signature = signer.key.sign(sha256.as_bytes());
    let line = SignatureLine {
        signature: SignatureBlock {
            algorithm: ALGORITHM.to_owned(),
            public_key: signer.public_key_hex(),
            entries: count,
            head,
            sha256,
            value: BASE64.encode(signature.as_ref()),
        },
    };
    let mut bytes = serde_json::to_vec(&line)?;
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(count)
}

/// Checks a whole export and returns its entry count.
///
/// Checked: the signature is valid for the key named in the file, and that key equals
/// `public_key_hex` when one is given (without it, the check proves only that the file is
/// self-consistent, since anyone can sign with a key of their own); the digest covers exactly
/// the entry lines; every entry's own hash and detail digest hold; the count and head match.
///
/// An export may be a segment of the trail (one customer's entries, say), so entries need not
/// be consecutive. They must still rise strictly by `seq`, and where two are consecutive the
/// later must link to the earlier.
pub fn verify_export(text: &str, public_key_hex: Option<&str>) -> Result<u64, SigningError> {
    let trimmed = text.strip_suffix('\n').unwrap_or(text);
    let (body, signature_text) = match trimmed.rfind('\n') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => ("", trimmed),
    };
    let signature_line_no = body.matches('\n').count() as u64 + 1;
    let malformed = |line: u64, reason: String| SigningError::Malformed { line, reason };

    let SignatureLine { signature } = serde_json::from_str(signature_text).map_err(|e| {
        malformed(
            signature_line_no,
            format!("the last line is not a signature: {e}"),
        )
    })?;
    if signature.algorithm != ALGORITHM {
        return Err(malformed(
            signature_line_no,
            format!("unsupported algorithm {:?}", signature.algorithm),
        ));
    }
    if let Some(expected) = public_key_hex
        && !expected.eq_ignore_ascii_case(&signature.public_key)
    {
        return Err(SigningError::WrongKey {
            expected: expected.to_owned(),
            found: signature.public_key,
        });
    }
    let public_key = hex::decode(&signature.public_key)
        .map_err(|e| SigningError::BadKey(format!("public key is not hex: {e}")))?;
    let value = BASE64.decode(&signature.value).map_err(|e| {
        malformed(
            signature_line_no,
            format!("signature value is not base64: {e}"),
        )
    })?;
    UnparsedPublicKey::new(&ED25519, &public_key)
        .verify(signature.sha256.as_bytes(), &value)
        .map_err(|_| SigningError::BadSignature)?;
    if hex::encode(Sha256::digest(body.as_bytes())) != signature.sha256 {
        return Err(SigningError::DigestMismatch);
    }

    let mut count: u64 = 0;
    let mut previous: Option<AuditEntry> = None;
    for (i, line) in body.split_terminator('\n').enumerate() {
        let line_no = i as u64 + 1;
        let entry: AuditEntry = serde_json::from_str(line)
            .map_err(|e| malformed(line_no, format!("not an audit entry: {e}")))?;
        check_entry(&entry, previous.as_ref()).map_err(|why| {
            SigningError::Chain(format!("line {line_no}, entry {}: {why}", entry.seq))
        })?;
        count += 1;
        previous = Some(entry);
    }

    if count != signature.entries {
        return Err(SigningError::Chain(format!(
            "the signature covers {} entries but the file holds {count}",
            signature.entries
        )));
    }
    let head = previous.map_or_else(|| GENESIS.to_owned(), |e| e.hash);
    if head != signature.head {
        return Err(SigningError::Chain(
            "the signed head is not the last entry's hash".to_owned(),
        ));
    }
    Ok(count)
}

fn check_entry(entry: &AuditEntry, previous: Option<&AuditEntry>) -> Result<(), &'static str> {
    if entry_hash(entry) != entry.hash {
        return Err("its content was edited after it was written");
    }
    if let Some(detail) = &entry.record.detail
        && detail_digest(Some(detail)) != entry.detail_digest
    {
        return Err("its detail was changed after it was written");
    }
    if let Some(prev) = previous {
        if entry.seq <= prev.seq {
            return Err("it does not come after the entry before it");
        }
        if prev.seq.checked_add(1) == Some(entry.seq) && entry.prev_hash != prev.hash {
            return Err("it does not link to the entry before it");
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("not a usable Ed25519 key: {0}")]
    BadKey(String),
    #[error("the system random source failed while generating a key")]
    Random,
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not encode an audit entry: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("line {line} of the export is malformed: {reason}")]
    Malformed { line: u64, reason: String },
    #[error("the export is signed by key {found}, not the expected key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("the export's signature is not valid for its key")]
    BadSignature,
    #[error("the export's entries do not match its signed digest (altered or cut short)")]
    DigestMismatch,
    #[error("the export's entries are not genuine audit entries: {0}")]
    Chain(String),
}
