//! Word clusters: 100,000 common English words, each in a cluster of words used alike at three
//! sizes (64, 512 and 4,096 clusters), from GloVe vectors (`scripts/word-clusters.py`). A
//! classifier that sees "furious" in training then knows something of "livid", which it may
//! never have seen: the cluster is a feature beside the word itself.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::features::word_hash;

const CLUSTERS: &str = include_str!("../../models/word-clusters.txt");

/// Cluster sizes, coarsest first, as the file's header states them.
pub const LEVELS: usize = 3;

/// The keys are already hashes (the word's feature hash): pass them through.
#[derive(Default)]
pub(super) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, h: u64) {
        self.0 = h;
    }
}

/// Keyed by the word's hash rather than the word: no string to compare, half the memory.
/// Two of the 100,000 words sharing a 64-bit hash is as good as impossible, and a word
/// outside the list colliding with one inside only lends it that word's clusters.
type Map = HashMap<u64, [u16; LEVELS], BuildHasherDefault<Identity>>;

fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(|| parse(CLUSTERS))
}

fn parse(text: &str) -> Map {
    let mut map = Map::default();
    map.reserve(100_000);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split(' ');
        let Some(word) = parts.next() else { continue };
        let mut ids = [0u16; LEVELS];
        let mut n = 0;
        for (slot, p) in ids.iter_mut().zip(parts) {
            if let Ok(v) = p.parse() {
                *slot = v;
                n += 1;
            }
        }
        if n == LEVELS {
            map.entry(word_hash(word)).or_insert(ids);
        }
    }
    map
}

/// Reads the list now rather than on the first word looked up (about 22 ms in a release
/// build), so that a model that needs it is ready when it is loaded, not on a first message.
pub fn load() {
    map();
}

/// The clusters of the folded word whose [`word_hash`] this is, coarsest first; `None` for
/// words not in the list.
pub fn of_hash(hash: u64) -> Option<[u16; LEVELS]> {
    map().get(&hash).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clusters of a folded word.
    fn of(word: &str) -> Option<[u16; LEVELS]> {
        of_hash(word_hash(word))
    }

    #[test]
    fn the_shipped_list_is_complete_and_groups_words_of_like_meaning() {
        assert!(map().len() >= 99_000, "{} words", map().len());
        let (angry, furious) = (of("angry").unwrap(), of("furious").unwrap());
        assert_eq!(angry[LEVELS - 1], furious[LEVELS - 1]);
        let (monday, tuesday) = (of("monday").unwrap(), of("tuesday").unwrap());
        assert_eq!(monday[LEVELS - 1], tuesday[LEVELS - 1]);
        assert_ne!(monday[LEVELS - 1], angry[LEVELS - 1]);
        assert!(of("Angry").is_none(), "keys are folded");
        assert!(of("qqqzzzx").is_none());
    }
}
