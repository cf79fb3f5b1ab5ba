//! Secrets at rest — platform tokens, webhook secrets — sealed under a ring of keys so the
//! key can be rotated without a flag day: seal with the newest, open with any still held.
//!
//! Where the ring comes from (environment, file) and which stored values get resealed is the
//! caller's business. Errors never carry key material or plaintext.

#[cfg(test)]
mod tests;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;

const PREFIX: &str = "enc:v1:";
const AAD_PREFIX: &[u8] = b"switchboard-secret-v1:";
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Whether a stored value is already sealed, so plaintext left from before encryption was
/// switched on can be told apart and sealed.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The keys secrets are sealed under; the first is the primary, used for every new seal.
pub struct KeyRing {
    keys: Vec<(String, LessSafeKey)>,
    rng: SystemRandom,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing").field("ids", &ids).finish()
    }
}

impl KeyRing {
    /// Parses `"id1:BASE64KEY,id2:BASE64KEY"` (standard base64 of 32 bytes); `id1` is the
    /// primary. Ids are letters, digits, `-`, `_` and `.`.
    pub fn parse(spec: &str) -> Result<Self, SecretError> {
        let mut keys: Vec<(String, LessSafeKey)> = Vec::new();
        let parts = spec.split(',').map(str::trim).filter(|p| !p.is_empty());
        for (position, part) in (1..).zip(parts) {
            let (id, encoded) = part
                .split_once(':')
                .ok_or(SecretError::MissingId { position })?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(SecretError::BadKeyId { position });
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(SecretError::DuplicateKeyId { id: id.to_owned() });
            }
            let bytes = BASE64
                .decode(encoded.trim())
                .map_err(|_| SecretError::KeyNotBase64 { id: id.to_owned() })?;
            if bytes.len() != KEY_LEN {
                return Err(SecretError::WrongKeyLength {
                    id: id.to_owned(),
                    len: bytes.len(),
                });
            }
            let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| {
                SecretError::WrongKeyLength {
                    id: id.to_owned(),
                    len: bytes.len(),
                }
            })?;
            keys.push((id.to_owned(), LessSafeKey::new(key)));
        }
        if keys.is_empty() {
            return Err(SecretError::EmptyRing);
        }
        Ok(Self {
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// A new key for the ring: standard base64 of 32 random bytes.
    pub fn generate_key() -> Result<String, SecretError> {
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SecretError::Random)?;
        Ok(BASE64.encode(key))
    }

    /// The id new seals are made under.
    pub fn primary_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    /// Seals under the primary key: `enc:v1:<id>:<base64(nonce || ciphertext+tag)>`.
    pub fn seal(&self, plaintext: &str) -> Result<String, SecretError> {
        let (id, key) = self.keys.first().ok_or(SecretError::EmptyRing)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SecretError::Random)?;
        let mut sealed = plaintext.as_bytes().to_vec();
        // A random 96-bit nonce per seal: secrets are sealed rarely enough that a collision
        // under one key is not a practical concern, and it needs no counter kept anywhere.
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(id)),
            &mut sealed,
        )
        .map_err(|_| SecretError::Random)?;
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{id}:{}", BASE64.encode(payload)))
    }

    /// Opens a value sealed under any key still in the ring.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let rest = sealed.strip_prefix(PREFIX).ok_or(SecretError::NotSealed)?;
        let (id, encoded) = rest.split_once(':').ok_or(SecretError::Malformed)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .ok_or_else(|| SecretError::UnknownKey { id: id.to_owned() })?;
        let payload = BASE64.decode(encoded).map_err(|_| SecretError::Malformed)?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Malformed)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = key
            .open_in_place(nonce, Aad::from(aad(id)), &mut buffer)
            .map_err(|_| SecretError::Tampered { id: id.to_owned() })?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| SecretError::Malformed)
    }

    /// Rotation: opens under whichever key sealed the value, seals again under the primary.
    pub fn reseal(&self, sealed: &str) -> Result<String, SecretError> {
        self.seal(&self.open(sealed)?)
    }
}

/// Binds the ciphertext to its key id, so a value cannot be relabelled to another key.
fn aad(id: &str) -> Vec<u8> {
    [AAD_PREFIX, id.as_bytes()].concat()
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key ring is empty; give at least one \"id:BASE64KEY\"")]
    EmptyRing,
    #[error("secret key ring entry {position} has no id; write it as \"id:BASE64KEY\"")]
    MissingId { position: usize },
    // The id is not echoed: a key pasted the wrong way round would land in the log.
    #[error(
        "secret key ring entry {position} has an invalid id: use letters, digits, '-', '_' or '.'"
    )]
    BadKeyId { position: usize },
    #[error("secret key id {id:?} appears more than once in the ring")]
    DuplicateKeyId { id: String },
    #[error("secret key {id:?} is not standard base64")]
    KeyNotBase64 { id: String },
    #[error("secret key {id:?} is {len} bytes; it must be 32")]
    WrongKeyLength { id: String, len: usize },
    #[error("the system random source failed")]
    Random,
    #[error("the value is not sealed (it does not start with \"enc:v1:\")")]
    NotSealed,
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the value was sealed under key {id:?}, which is not in the ring")]
    UnknownKey { id: String },
    #[error("the value sealed under key {id:?} did not open: altered, or the key is wrong")]
    Tampered { id: String },
}
