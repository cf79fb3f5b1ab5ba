//! Which cases have a clock due: an index of pending warn/breach instants, so a periodic sweep
//! touches only the cases whose time has come instead of every open case.

use sb_domain::Timestamp;
use std::collections::BTreeMap;

/// Pending instants of many cases, in buckets of one second.
///
/// Buckets rather than a heap because due instants cluster: every office-hours case that
/// waited over the weekend warns at the same instant on Monday morning, and a whole bucket
/// comes out in one step. Entries are never updated in place: when a case's
/// [`super::SlaState::next_due`] moves, insert the new instant and let the old entry go stale.
/// Popping a stale entry only makes the caller tick a case that has nothing due, which yields
/// no events; after each tick, insert the case's `next_due` again if it has one.
#[derive(Clone, Debug, Default)]
pub struct DueIndex {
    /// Second (ms / 1000, floored) to the `(due ms, key)` entries falling in it.
    buckets: BTreeMap<i64, Vec<(i64, u32)>>,
    len: usize,
}

const BUCKET_MS: i64 = 1_000;

impl DueIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: u32, due: Timestamp) {
        self.buckets
            .entry(due.millis().div_euclid(BUCKET_MS))
            .or_default()
            .push((due.millis(), key));
        self.len += 1;
    }

    /// Removes every entry due at or before `now` and returns their keys, each once, ascending.
    pub fn pop_due(&mut self, now: Timestamp) -> Vec<u32> {
        let mut keys = Vec::new();
        self.pop_due_into(now, &mut keys);
        keys
    }

    /// As [`DueIndex::pop_due`], into a buffer the caller reuses (cleared first).
    pub fn pop_due_into(&mut self, now: Timestamp, keys: &mut Vec<u32>) {
        keys.clear();
        let now_bucket = now.millis().div_euclid(BUCKET_MS);
        while let Some(mut bucket) = self.buckets.first_entry() {
            if *bucket.key() < now_bucket {
                let entries = bucket.remove();
                self.len -= entries.len();
                keys.extend(entries.iter().map(|&(_, key)| key));
                continue;
            }
            if *bucket.key() == now_bucket {
                // Only part of the current second may be due.
                let entries = bucket.get_mut();
                let before = entries.len();
                entries.retain(|&(due, key)| {
                    let is_due = due <= now.millis();
                    if is_due {
                        keys.push(key);
                    }
                    !is_due
                });
                self.len -= before - entries.len();
                if entries.is_empty() {
                    bucket.remove();
                }
            }
            break;
        }
        keys.sort_unstable();
        keys.dedup();
    }

    /// The earliest instant in the index (possibly stale).
    pub fn peek_due(&self) -> Option<Timestamp> {
        let (_, entries) = self.buckets.first_key_value()?;
        entries.iter().map(|&(due, _)| Timestamp(due)).min()
    }

    /// Entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
