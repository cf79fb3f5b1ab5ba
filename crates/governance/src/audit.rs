//! The audit trail's tamper evidence: how an entry is sealed into the hash chain, how its
//! detail can be erased without breaking the chain, and how a chain is verified.
//!
//! Storing entries, and recording the head after each append, belongs to the store; this
//! module only knows the rules.

mod canonical;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;

/// The `prev_hash` of the first entry: nothing came before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did what to which subject, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix milliseconds.
    pub at_ms: i64,
    /// `key:<id>`, `user:<name>`, `system`, `cli`.
    pub actor: String,
    pub role: Option<String>,
    /// `PATCH /api/v1/cases/{id}`, `privacy.erase`.
    pub action: String,
    /// `case:<id>`.
    pub subject: Option<String>,
    pub customer_id: Option<String>,
    /// The client address.
    pub origin: Option<String>,
    /// The HTTP status, or 0 when the action was not an HTTP request.
    pub outcome: u16,
    /// Before and after. Personal data may sit here, so it can be erased later.
    pub detail: Option<Value>,
}

/// An [`AuditRecord`] sealed into the chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3 … with no gaps.
    pub seq: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
    /// Hex sha256 of the canonical detail; `""` when the record had no detail.
    pub detail_digest: String,
    /// The previous entry's `hash`, or [`GENESIS`] for entry 1.
    pub prev_hash: String,
    pub hash: String,
}

/// Hex sha256 of the detail's canonical JSON (keys sorted at every depth, no whitespace);
/// `""` when there is no detail.
pub fn detail_digest(detail: Option<&Value>) -> String {
    match detail {
        None => String::new(),
        Some(value) => hex::encode(Sha256::digest(canonical::encode(value).as_bytes())),
    }
}

/// Seals `record` as entry `seq`, following the entry whose hash is `prev_hash`.
pub fn seal(seq: i64, prev_hash: &str, record: AuditRecord) -> AuditEntry {
    let detail_digest = detail_digest(record.detail.as_ref());
    let mut entry = AuditEntry {
        seq,
        record,
        detail_digest,
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    entry
}

/// The hash `entry` should carry, recomputed from its fields.
///
/// The detail enters only through `detail_digest`, which is what lets [`erase_detail`] drop
/// the detail without changing the hash.
pub fn entry_hash(e: &AuditEntry) -> String {
    let r = &e.record;
    // A JSON array rather than plain concatenation, so no two different entries can run
    // together into the same bytes; the leading tag keeps these hashes from ever meaning
    // anything else.
    let sealed = json!([
        "switchboard-audit-v1",
        e.seq,
        e.prev_hash,
        r.at_ms,
        r.actor,
        r.role,
        r.action,
        r.subject,
        r.customer_id,
        r.origin,
        r.outcome,
        e.detail_digest,
    ]);
    hex::encode(Sha256::digest(canonical::encode(&sealed).as_bytes()))
}

/// Erasure keeps the chain: drop the detail but keep its digest.
pub fn erase_detail(e: &mut AuditEntry) {
    e.record.detail = None;
}

/// The first place where a chain stops being the one that was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The `seq` written on the entry where the break shows; for [`BreakReason::HeadMismatch`]
    /// at the end of the chain, the last entry's `seq` (0 when the chain is empty).
    pub seq: i64,
    /// 0-based index of that entry in the iteration (for a missing tail, the entry count).
    pub position: u64,
    pub reason: BreakReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakReason {
    /// A field was changed after the entry was sealed.
    Edited,
    /// The detail no longer matches the digest sealed with it.
    DetailEdited,
    /// `expected_seq` should come here. A deletion and a reordering look alike at this point.
    Missing { expected_seq: i64 },
    /// An entry with an earlier `seq` than `expected_seq`: duplicated, inserted or moved.
    OutOfOrder { expected_seq: i64 },
    /// The entry does not point at the hash of the one before it.
    LinkBroken,
    /// The chain does not reach, or does not agree with, the head the store recorded.
    HeadMismatch,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match &self.reason {
            BreakReason::Edited => {
                write!(
                    f,
                    "entry {seq}: its content was edited after it was written"
                )
            }
            BreakReason::DetailEdited => write!(
                f,
                "entry {seq}: its detail was changed after it was written"
            ),
            BreakReason::Missing { expected_seq } => write!(
                f,
                "entry {seq}: entry {expected_seq} should come before it but is missing"
            ),
            BreakReason::OutOfOrder { expected_seq } => write!(
                f,
                "entry {seq}: found where entry {expected_seq} should be (duplicated, inserted or moved)"
            ),
            BreakReason::LinkBroken => {
                write!(f, "entry {seq}: it does not link to the entry before it")
            }
            BreakReason::HeadMismatch if seq == 0 && self.position == 0 => write!(
                f,
                "the chain is empty, but the store recorded entries in it"
            ),
            BreakReason::HeadMismatch => write!(
                f,
                "entry {seq}: the chain does not match the last entry the store recorded (entries were removed or rewritten)"
            ),
        }
    }
}

impl std::error::Error for ChainBreak {}

/// Checks a whole chain, in `seq` order from entry 1, and returns how many entries it checked.
///
/// Only the previous entry's hash is kept, so a chain streamed from the store is verified in
/// constant memory.
///
/// `head` is the `(seq, hash)` the store recorded for its last append, when known; without it
/// a chain cut short at the tail still looks whole. Entries after the head are accepted,
/// because they may have been appended between reading the head and reading the chain.
/// `(0, GENESIS)` is the head of an empty store.
///
/// An entry forged with a correct `seq`, link and hash cannot be told from a real one by
/// itself; the break then shows at the genuine entry it displaced.
pub fn verify<I: IntoIterator<Item = AuditEntry>>(
    entries: I,
    head: Option<(i64, &str)>,
) -> Result<u64, ChainBreak> {
    let mut v = Verifier::new(head);
    for e in entries {
        v.push(e)?;
    }
    v.finish()
}

/// [`verify`] one entry at a time, for a chain read from the store page by page.
#[derive(Clone, Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    position: u64,
    head: Option<(i64, String)>,
    head_reached: bool,
}

impl Verifier {
    pub fn new(head: Option<(i64, &str)>) -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS.to_owned(),
            position: 0,
            head_reached: matches!(head, Some((0, hash)) if hash == GENESIS),
            head: head.map(|(s, h)| (s, h.to_owned())),
        }
    }

    /// Checks the next entry in `seq` order.
    pub fn push(&mut self, e: AuditEntry) -> Result<(), ChainBreak> {
        let at = |reason| ChainBreak {
            seq: e.seq,
            position: self.position,
            reason,
        };
        if entry_hash(&e) != e.hash {
            return Err(at(BreakReason::Edited));
        }
        if let Some(detail) = &e.record.detail
            && detail_digest(Some(detail)) != e.detail_digest
        {
            return Err(at(BreakReason::DetailEdited));
        }
        let expected_seq = self.expected_seq;
        if e.seq > expected_seq {
            return Err(at(BreakReason::Missing { expected_seq }));
        }
        if e.seq < expected_seq {
            return Err(at(BreakReason::OutOfOrder { expected_seq }));
        }
        if e.prev_hash != self.prev_hash {
            return Err(at(BreakReason::LinkBroken));
        }
        if let Some((head_seq, head_hash)) = &self.head
            && e.seq == *head_seq
        {
            if &e.hash != head_hash {
                return Err(at(BreakReason::HeadMismatch));
            }
            self.head_reached = true;
        }
        self.expected_seq = expected_seq.saturating_add(1);
        self.prev_hash = e.hash;
        self.position += 1;
        Ok(())
    }

    /// Ends the check: how many entries were checked, or the head was never reached.
    pub fn finish(self) -> Result<u64, ChainBreak> {
        if self.head.is_some() && !self.head_reached {
            return Err(ChainBreak {
                seq: self.expected_seq - 1,
                position: self.position,
                reason: BreakReason::HeadMismatch,
            });
        }
        Ok(self.position)
    }
}
