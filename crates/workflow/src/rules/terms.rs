//! Text terms of a whole rule set, found in one pass over a message. A hundred rules looking
//! for a few words each would otherwise search the same text hundreds of times; here each
//! event scans its text once, on the first text condition reached, and every text condition
//! after that is a bit test. The outcome is exactly that of `str::contains` per term.

use std::collections::HashMap;

/// Terms past this many are searched for one by one; the found-set stays on the stack.
const INDEXED: usize = 1024;
const BUCKETS: usize = 1024;

#[derive(Clone, Debug, Default)]
pub(super) struct TermIndex {
    terms: Vec<String>,
    ids: HashMap<String, u32>,
    /// For each byte, the id + 1 of the one-byte term equal to it (0: none); empty when
    /// there is no one-byte term.
    singles: Vec<u32>,
    /// One bit per two-byte pair that starts some term: most positions of a text start no
    /// term, and this rejects them with one bit test.
    pairs: Vec<u64>,
    /// Terms of two bytes or more, grouped by a hash of their first two bytes: the ids of
    /// bucket `h` are `by_start[starts[h]..starts[h + 1]]`.
    starts: Vec<u32>,
    by_start: Vec<u32>,
}

fn pair(a: u8, b: u8) -> usize {
    (usize::from(a) << 8) | usize::from(b)
}

fn bucket(a: u8, b: u8) -> usize {
    (usize::from(a) * 31 + usize::from(b)) % BUCKETS
}

impl TermIndex {
    /// The id of a (lowercased, non-empty) term, the same for the same term.
    pub(super) fn intern(&mut self, term: String) -> u32 {
        if let Some(&id) = self.ids.get(&term) {
            return id;
        }
        let id = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
        self.ids.insert(term.clone(), id);
        self.terms.push(term);
        id
    }

    /// Builds the lookup tables once every rule has been compiled.
    pub(super) fn finish(&mut self) {
        self.ids = HashMap::new();
        self.singles.clear();
        if self.terms.is_empty() {
            // No text conditions: nothing to scan for, and `Scan` never asks.
            return;
        }
        self.pairs = vec![0; 65536 / 64];
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); BUCKETS];
        for (id, term) in self.terms.iter().enumerate().take(INDEXED) {
            let id = id as u32;
            match term.as_bytes() {
                [] => {}
                [b] => {
                    self.singles.resize(256, 0);
                    self.singles[usize::from(*b)] = id + 1;
                }
                [a, b, ..] => {
                    let pair = pair(*a, *b);
                    self.pairs[pair / 64] |= 1 << (pair % 64);
                    buckets[bucket(*a, *b)].push(id);
                }
            }
        }
        self.starts = Vec::with_capacity(BUCKETS + 1);
        self.by_start.clear();
        for ids in &buckets {
            self.starts.push(self.by_start.len() as u32);
            self.by_start.extend(ids);
        }
        self.starts.push(self.by_start.len() as u32);
    }

    fn term(&self, id: u32) -> &str {
        self.terms.get(id as usize).map_or("", String::as_str)
    }

    fn scan(&self, text: &str, found: &mut [u64; INDEXED / 64]) {
        let bytes = text.as_bytes();
        let mut mark = |id: u32| found[id as usize / 64] |= 1 << (id % 64);
        if !self.singles.is_empty() {
            for &b in bytes {
                let single = self.singles[usize::from(b)];
                if single != 0 {
                    mark(single - 1);
                }
            }
        }
        for (i, w) in bytes.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            let pair = pair(a, b);
            if (self.pairs[pair / 64] >> (pair % 64)) & 1 == 0 {
                continue;
            }
            let h = bucket(a, b);
            let (lo, hi) = (self.starts[h] as usize, self.starts[h + 1] as usize);
            for &id in &self.by_start[lo..hi] {
                // A valid UTF-8 term can only match bytes at a character boundary, so a
                // byte match is a `str` match.
                if starts_with(&bytes[i..], self.term(id).as_bytes()) {
                    mark(id);
                }
            }
        }
    }
}

/// `<[u8]>::starts_with` without the call into `memcmp`, which costs more than the compare
/// itself for words this short.
fn starts_with(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.iter().zip(needle).all(|(a, b)| a == b)
}

/// One event's view of the term index: the text is scanned on first use.
pub(super) struct Scan<'a> {
    index: &'a TermIndex,
    found: Option<[u64; INDEXED / 64]>,
}

impl<'a> Scan<'a> {
    pub(super) fn new(index: &'a TermIndex) -> Self {
        Self { index, found: None }
    }

    /// Whether `text` — always the same event's text — contains term `id`.
    pub(super) fn contains(&mut self, text: &str, id: u32) -> bool {
        let i = id as usize;
        if i >= INDEXED || self.index.starts.is_empty() {
            return text.contains(self.index.term(id));
        }
        let found = self.found.get_or_insert_with(|| {
            let mut found = [0; INDEXED / 64];
            self.index.scan(text, &mut found);
            found
        });
        found[i / 64] & (1 << (i % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn index(terms: &[&str]) -> (TermIndex, Vec<u32>) {
        let mut index = TermIndex::default();
        let ids = terms.iter().map(|t| index.intern(t.to_string())).collect();
        index.finish();
        (index, ids)
    }

    #[test]
    fn finds_exactly_what_a_substring_search_finds() {
        let terms = [
            "refund",
            "ref",
            "und",
            "lawyer",
            "a",
            "?",
            "data breach",
            "breach",
            "ü",
            "größe",
            "zz",
            "de",
            "é",
            "café",
        ];
        let (index, ids) = index(&terms);
        let texts = [
            "i want a refund now",
            "refun",
            "data breach?? call my lawyer",
            "die größe passt nicht, café crème",
            "",
            "z",
            "zzz",
            "déjà vu",
        ];
        for text in texts {
            let mut scan = Scan::new(&index);
            for (term, id) in terms.iter().zip(&ids) {
                assert_eq!(
                    scan.contains(text, *id),
                    text.contains(term),
                    "`{term}` in `{text}`"
                );
            }
        }
    }

    #[test]
    fn the_same_term_gets_the_same_id() {
        let (index, ids) = index(&["refund", "lawyer", "refund"]);
        assert_eq!(ids, [0, 1, 0]);
        assert_eq!(index.terms.len(), 2);
    }

    #[test]
    fn terms_beyond_the_indexed_ones_are_still_found() {
        let words: Vec<String> = (0..INDEXED + 10).map(|i| format!("w{i}x")).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let (index, ids) = index(&refs);
        let text = format!("so w{}x and w5x", INDEXED + 3);
        let mut scan = Scan::new(&index);
        assert!(scan.contains(&text, ids[INDEXED + 3]));
        assert!(scan.contains(&text, ids[5]));
        assert!(!scan.contains(&text, ids[6]));
        assert!(!scan.contains(&text, ids[INDEXED + 4]));
    }
}
