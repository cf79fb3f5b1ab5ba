//! Phrase sets matched on folded word sequences, used by the rule-based stages. Every
//! message runs through a dozen of these, so lookups use a cheap non-cryptographic hash (the
//! keys are our own word lists, not attacker-chosen) and only words that can open a longer
//! phrase pay for building one.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-rotate hash for short words. The table's keys are fixed word lists, so the
/// hash needs to be fast, not resistant to chosen collisions.
#[derive(Default)]
pub struct WordHash(u64);

const MUL: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for WordHash {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(MUL);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(b) ^ rest.len() as u64).wrapping_mul(MUL);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(MUL);
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(MUL);
    }
}

/// A hash map keyed by short words, with [`WordHash`].
pub(crate) type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHash>>;

/// What one key (a word, or words joined by single spaces) is in a [`PhraseBook`].
#[derive(Clone, Copy, Default)]
struct Key {
    /// Bit `i` set when the key is a phrase of set `i`.
    sets: u32,
    /// The key is the first word of some multi-word phrase.
    opener: bool,
}

/// Up to 32 sets of one- to four-word phrases, all counted in one pass: one hash lookup per
/// word for every set together, and longer keys built only after a word that opens one.
pub struct PhraseBook {
    keys: WordMap<Box<str>, Key>,
    sets: usize,
    longest: usize,
}

impl PhraseBook {
    pub fn new(sets: &[&[&str]]) -> Self {
        let mut keys: WordMap<Box<str>, Key> = WordMap::default();
        let mut longest = 1;
        for (i, list) in sets.iter().enumerate().take(32) {
            for p in *list {
                let words = p.split_whitespace().count();
                longest = longest.max(words);
                keys.entry((*p).into()).or_default().sets |= 1 << i;
                if words > 1
                    && let Some(first) = p.split_whitespace().next()
                {
                    keys.entry(first.into()).or_default().opener = true;
                }
            }
        }
        Self {
            keys,
            sets: sets.len().min(32),
            longest,
        }
    }

    /// Occurrences of each set's phrases in a sequence of folded words, by set.
    pub fn counts(&self, words: &[&str]) -> Vec<usize> {
        let mut n = vec![0usize; self.sets];
        let mut add = |sets: u32| {
            for (i, c) in n.iter_mut().enumerate() {
                *c += (sets >> i & 1) as usize;
            }
        };
        let mut key = String::new();
        for (i, &first) in words.iter().enumerate() {
            let Some(k) = self.keys.get(first) else {
                continue;
            };
            if k.sets != 0 {
                add(k.sets);
            }
            if !k.opener {
                continue;
            }
            key.clear();
            key.push_str(first);
            for w in words[i + 1..].iter().take(self.longest - 1) {
                key.push(' ');
                key.push_str(w);
                if let Some(k) = self.keys.get(key.as_str())
                    && k.sets != 0
                {
                    add(k.sets);
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_phrases_of_every_set_in_one_pass() {
        let legal: &[&str] = &["class action", "sue", "see you in court"];
        let thanks: &[&str] = &["thanks", "thank you", "sue"];
        let book = PhraseBook::new(&[legal, thanks]);
        let count = |words: &[&str]| book.counts(words);
        assert_eq!(
            count(&["we", "will", "sue", "in", "a", "class", "action"]),
            [2, 1]
        );
        assert_eq!(count(&["classy", "actions"]), [0, 0]);
        assert_eq!(count(&["ok", "see", "you", "in", "court", "then"]), [1, 0]);
        assert_eq!(count(&["see", "you", "in", "town"]), [0, 0]);
        assert_eq!(count(&["thank", "you", "thanks"]), [0, 2]);
        assert_eq!(count(&[]), [0, 0]);
    }
}
