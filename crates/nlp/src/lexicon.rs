//! Phrase sets matched on folded word sequences, used by the rule-based stages. Every
//! message runs through a dozen of these, so lookups use a cheap non-cryptographic hash (the
//! keys are our own word lists, not attacker-chosen) and only words that can open a longer
//! phrase pay for building one.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: fast for the short keys phrase lists hold.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub type FastSet<T> = HashSet<T, BuildHasherDefault<Fnv>>;

/// A set of one- to four-word phrases, looked up word by word.
pub struct PhraseSet {
    phrases: FastSet<String>,
    /// First words of the multi-word phrases.
    openers: FastSet<String>,
    longest: usize,
}

impl PhraseSet {
    pub fn new(list: &[&str]) -> Self {
        let longest = list
            .iter()
            .map(|p| p.split_whitespace().count())
            .max()
            .unwrap_or(1);
        Self {
            phrases: list.iter().map(|p| (*p).to_owned()).collect(),
            openers: list
                .iter()
                .filter(|p| p.contains(' '))
                .filter_map(|p| p.split_whitespace().next())
                .map(str::to_owned)
                .collect(),
            longest,
        }
    }

    /// Number of phrase occurrences in a sequence of folded words.
    pub fn count(&self, words: &[&str]) -> usize {
        let mut n = 0;
        let mut key = String::new();
        for (i, &first) in words.iter().enumerate() {
            if self.phrases.contains(first) {
                n += 1;
            }
            if self.longest < 2 || !self.openers.contains(first) {
                continue;
            }
            key.clear();
            key.push_str(first);
            for w in words[i + 1..].iter().take(self.longest - 1) {
                key.push(' ');
                key.push_str(w);
                if self.phrases.contains(key.as_str()) {
                    n += 1;
                }
            }
        }
        n
    }

    pub fn any(&self, words: &[&str]) -> bool {
        self.count(words) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_phrases() {
        let s = PhraseSet::new(&["class action", "sue", "see you in court"]);
        assert_eq!(
            s.count(&["we", "will", "sue", "in", "a", "class", "action"]),
            2
        );
        assert!(!s.any(&["classy", "actions"]));
        assert!(s.any(&["ok", "see", "you", "in", "court", "then"]));
        assert!(!s.any(&["see", "you", "in", "town"]));
    }
}
