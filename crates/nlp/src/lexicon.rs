//! Phrase sets matched on folded word sequences, used by the rule-based stages.

use std::collections::HashSet;

/// A set of one- to four-word phrases, looked up word by word.
pub struct PhraseSet {
    phrases: HashSet<String>,
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
            longest,
        }
    }

    /// Number of phrase occurrences in a sequence of folded words.
    pub fn count(&self, words: &[&str]) -> usize {
        let mut n = 0;
        let mut key = String::new();
        for i in 0..words.len() {
            key.clear();
            for (len, w) in words[i..].iter().take(self.longest).enumerate() {
                if len > 0 {
                    key.push(' ');
                }
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
        let s = PhraseSet::new(&["class action", "sue"]);
        assert_eq!(
            s.count(&["we", "will", "sue", "in", "a", "class", "action"]),
            2
        );
        assert!(!s.any(&["classy", "actions"]));
    }
}
