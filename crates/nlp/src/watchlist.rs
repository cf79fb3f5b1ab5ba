//! Watchlists (B6): thousands of operator terms (products, executives, legal words,
//! competitors, hashtags) found in one pass over the text with an Aho-Corasick automaton,
//! case- and accent-insensitive, on word boundaries.

use crate::text::Folded;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchTerm {
    pub term: String,
    /// The operator's list name, e.g. `competitor`, `executive`, `legal`.
    pub list: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WatchMatch {
    pub term: String,
    pub list: String,
    /// Byte offsets into the original text.
    pub start: usize,
    pub end: usize,
}

pub struct Watchlist {
    automaton: AhoCorasick,
    terms: Vec<WatchTerm>,
}

#[derive(Debug)]
pub struct WatchlistError(pub String);

impl std::fmt::Display for WatchlistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "watchlist: {}", self.0)
    }
}

impl std::error::Error for WatchlistError {}

impl Watchlist {
    pub fn new(terms: Vec<WatchTerm>) -> Result<Self, WatchlistError> {
        let terms: Vec<WatchTerm> = terms
            .into_iter()
            .filter(|t| !t.term.trim().is_empty())
            .collect();
        let patterns: Vec<String> = terms
            .iter()
            .map(|t| Folded::new(t.term.trim()).text)
            .collect();
        let automaton = AhoCorasick::builder()
            // A DFA costs memory at build time but keeps the per-message scan near memchr speed.
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| WatchlistError(e.to_string()))?;
        Ok(Self { automaton, terms })
    }

    /// Read `list<TAB>term` or `list,term` lines; `#` starts a comment only at line start
    /// followed by a space, so hashtag terms still work.
    pub fn parse(text: &str) -> Result<Self, WatchlistError> {
        let mut terms = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("# ") {
                continue;
            }
            let Some((list, term)) = line.split_once(['\t', ',']) else {
                return Err(WatchlistError(format!(
                    "line {}: expected `list,term`",
                    n + 1
                )));
            };
            terms.push(WatchTerm {
                term: term.trim().to_owned(),
                list: list.trim().to_owned(),
            });
        }
        Self::new(terms)
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn terms(&self) -> &[WatchTerm] {
        &self.terms
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn find(&self, text: &str) -> Vec<WatchMatch> {
        self.find_folded(text, &Folded::new(text))
    }

    /// Match against an already folded text (the analyzer folds once per message).
    pub fn find_folded(&self, original: &str, folded: &Folded) -> Vec<WatchMatch> {
        let hay = folded.text.as_str();
        let mut out: Vec<WatchMatch> = Vec::new();
        for m in self.automaton.find_overlapping_iter(hay) {
            if !boundary_before(hay, m.start()) || !boundary_after(hay, m.end()) {
                continue;
            }
            let Some(t) = self.terms.get(m.pattern().as_usize()) else {
                continue;
            };
            let (start, end) = folded.original_span(m.start(), m.end());
            if original.get(start..end).is_none() {
                continue;
            }
            out.push(WatchMatch {
                term: t.term.clone(),
                list: t.list.clone(),
                start,
                end,
            });
        }
        out.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        out
    }
}

fn boundary_before(hay: &str, at: usize) -> bool {
    let first = hay[at..].chars().next();
    // Terms that start with a symbol (#hashtag, @handle) carry their own boundary.
    if first.is_some_and(|c| !c.is_alphanumeric()) {
        return true;
    }
    hay[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

fn boundary_after(hay: &str, at: usize) -> bool {
    let last = hay[..at].chars().next_back();
    if last.is_some_and(|c| !c.is_alphanumeric()) {
        return true;
    }
    hay[at..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Watchlist {
        Watchlist::parse(
            "competitor,Globex\nexecutive,Zoë Müller\nlegal\tclass action\nproduct,#AcmePhone\nproduct,Acme Phone X\nproduct,Acme Phone\n",
        )
        .unwrap()
    }

    #[test]
    fn matches_ignore_case_and_accents_and_report_original_offsets() {
        let text = "Switching to GLOBEX after what zoe muller said";
        let m = list().find(text);
        assert_eq!(m.len(), 2);
        assert_eq!(&text[m[0].start..m[0].end], "GLOBEX");
        assert_eq!(m[0].list, "competitor");
        assert_eq!(&text[m[1].start..m[1].end], "zoe muller");
        let accented = "Zoë Müller!";
        let m = list().find(accented);
        assert_eq!(&accented[m[0].start..m[0].end], "Zoë Müller");
    }

    #[test]
    fn only_whole_words_match() {
        assert!(list().find("globexcorp and deglobex").is_empty());
        let m = list().find("a Class Action, now");
        assert_eq!(m[0].term, "class action");
    }

    #[test]
    fn hashtags_and_overlapping_products() {
        let m = list().find("my #acmephone and the Acme Phone X broke");
        let terms: Vec<&str> = m.iter().map(|m| m.term.as_str()).collect();
        assert_eq!(terms, ["#AcmePhone", "Acme Phone X", "Acme Phone"]);
    }

    #[test]
    fn ten_thousand_terms_build_and_match() {
        let terms = (0..10_000)
            .map(|i| WatchTerm {
                term: format!("product{i}"),
                list: "product".into(),
            })
            .collect();
        let w = Watchlist::new(terms).unwrap();
        assert_eq!(w.find("is product9999 back?").len(), 1);
        assert!(w.find("product99999").is_empty());
    }

    #[test]
    fn a_malformed_line_is_named() {
        assert!(Watchlist::parse("just a term").is_err());
    }
}
