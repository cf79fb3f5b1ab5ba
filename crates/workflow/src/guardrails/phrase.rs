//! Finding configured phrases in free text the way a reader sees them: whole words only, any
//! letter case, any script, with hyphens and runs of spaces treated alike, so `risk-free`,
//! `Risk  free`, `RISK‑FREE` and `riskfree` are one phrase. Shared by guardrails, approvals
//! and suggestions; it never decides what a match means.
//!
//! Rules, in the order a text is read:
//! - A word is a run of letters, digits and combining marks; an apostrophe between two letters
//!   stays inside the word (`don't`, `don’t`). Han, kana and other unspaced scripts count one
//!   character per word, so phrases in those scripts still match inside a sentence.
//! - Letter case is folded with Unicode lowercase; accents are significant (`garantía` is not
//!   `garantia`), because folding them would merge distinct words in several languages.
//! - Consecutive words of a phrase match when only whitespace or dashes separate them in the
//!   text; any other punctuation (`risk. Free shipping`) breaks the phrase.
//! - A phrase word ending in `*` matches any word starting with it (`refund*` → `refunded`).
//! - A hyphen inside a phrase also allows the closed compound (`risk-free` → `riskfree`).
//!   Punctuation other than hyphens inside a phrase is ignored.

use std::collections::HashMap;

/// One word of a text: where it sits (byte offsets) and its case-folded form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Only whitespace or dashes (or nothing, in unspaced scripts) separate this word from
    /// the previous one, so a phrase may run across the gap.
    pub joined: bool,
}

/// Splits `text` into case-folded words with their byte spans.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word: Option<(usize, String)> = None;
    let mut gap_joinable = true;
    let mut chars = text.char_indices().peekable();

    let flush = |word: &mut Option<(usize, String)>,
                 end: usize,
                 gap_joinable: &mut bool,
                 tokens: &mut Vec<Token>| {
        if let Some((start, folded)) = word.take() {
            tokens.push(Token {
                start,
                end,
                text: folded,
                joined: *gap_joinable,
            });
            *gap_joinable = true;
        }
    };

    while let Some((i, c)) = chars.next() {
        if is_unspaced(c) {
            flush(&mut word, i, &mut gap_joinable, &mut tokens);
            tokens.push(Token {
                start: i,
                end: i + c.len_utf8(),
                text: c.to_lowercase().collect(),
                joined: gap_joinable,
            });
            gap_joinable = true;
        } else if is_word_char(c) {
            match &mut word {
                Some((_, folded)) => folded.extend(c.to_lowercase()),
                None => word = Some((i, c.to_lowercase().collect())),
            }
        } else if c == '\u{00AD}' && word.is_some() {
            // A soft hyphen is an invisible line-break hint, not a separator.
        } else if is_apostrophe(c)
            && word.is_some()
            && chars
                .peek()
                .is_some_and(|&(_, n)| is_word_char(n) && !is_unspaced(n))
        {
            if let Some((_, folded)) = &mut word {
                folded.push('\'');
            }
        } else {
            flush(&mut word, i, &mut gap_joinable, &mut tokens);
            if !(c.is_whitespace() || is_dash(c) || is_invisible_separator(c)) {
                gap_joinable = false;
            }
        }
    }
    flush(&mut word, text.len(), &mut gap_joinable, &mut tokens);
    tokens
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        // Indic vowel signs and viramas are marks, not letters, in `char::is_alphanumeric`.
        | '\u{0900}'..='\u{0963}'
        | '\u{0966}'..='\u{0DFF}'
    )
}

/// Scripts written without spaces between words.
fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'        // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}'      // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'      // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'      // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'      // half-width katakana
        | '\u{20000}'..='\u{2FA1F}'    // CJK extensions B–F, compatibility supplement
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// Zero-width characters that would otherwise let `risk\u{200B}free` slip past a phrase.
fn is_invisible_separator(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Word {
    Exact(String),
    Prefix(String),
}

impl Word {
    fn matches(&self, token: &str) -> bool {
        match self {
            Self::Exact(w) => token == w,
            Self::Prefix(p) => token.starts_with(p.as_str()),
        }
    }
}

/// Beyond this many hyphens in one phrase only the spaced spelling is matched; closed
/// compounds double the variants per hyphen.
const MAX_COMPOUND_HYPHENS: usize = 4;

/// The words a phrase is made of, and which adjacent pairs a hyphen joined.
fn phrase_words(phrase: &str) -> Option<(Vec<Word>, Vec<bool>)> {
    let tokens = tokenize(phrase);
    if tokens.is_empty() {
        return None;
    }
    let mut words = Vec::with_capacity(tokens.len());
    let mut hyphen_before = Vec::with_capacity(tokens.len());
    let mut previous_end = 0;
    for token in &tokens {
        let gap = &phrase[previous_end..token.start];
        hyphen_before.push(!words.is_empty() && !gap.is_empty() && gap.chars().all(is_dash));
        previous_end = token.end;
        let word = if phrase[token.end..].starts_with('*') {
            Word::Prefix(token.text.clone())
        } else {
            Word::Exact(token.text.clone())
        };
        words.push(word);
    }
    Some((words, hyphen_before))
}

/// Every spelling a phrase accepts: spaced, and with each hyphenated pair closed up.
fn variants(words: &[Word], hyphen_before: &[bool]) -> Vec<Vec<Word>> {
    let hyphens: Vec<usize> = (1..words.len()).filter(|&i| hyphen_before[i]).collect();
    if hyphens.is_empty() || hyphens.len() > MAX_COMPOUND_HYPHENS {
        return vec![words.to_vec()];
    }
    let mut out = Vec::with_capacity(1 << hyphens.len());
    for mask in 0..(1u32 << hyphens.len()) {
        let mut variant: Vec<Word> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let closed = hyphens
                .iter()
                .position(|&h| h == i)
                .is_some_and(|bit| mask & (1 << bit) != 0);
            match variant.last_mut() {
                Some(last) if closed => *last = close_up(last, word),
                _ => variant.push(word.clone()),
            }
        }
        out.push(variant);
    }
    out
}

/// `risk` + `free` → `riskfree`; the second word decides whether the compound is a prefix.
fn close_up(first: &Word, second: &Word) -> Word {
    let (Word::Exact(a) | Word::Prefix(a)) = first;
    match second {
        Word::Exact(b) => Word::Exact(format!("{a}{b}")),
        Word::Prefix(b) => Word::Prefix(format!("{a}{b}")),
    }
}

/// A place where one of the set's phrases occurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Index of the phrase, in the order given to [`PhraseSet::new`].
    pub phrase: usize,
    pub start: usize,
    pub end: usize,
}

/// A fixed list of phrases, compiled once and matched against many texts.
#[derive(Clone, Debug, Default)]
pub(crate) struct PhraseSet {
    variants: Vec<(Vec<Word>, usize)>,
    by_first_word: HashMap<String, Vec<usize>>,
    prefix_first: Vec<usize>,
}

impl PhraseSet {
    /// Compiles `phrases`; the index of the first phrase without a single word is the error.
    pub fn new<S: AsRef<str>>(phrases: &[S]) -> Result<Self, usize> {
        let mut set = Self::default();
        for (index, phrase) in phrases.iter().enumerate() {
            let (words, hyphens) = phrase_words(phrase.as_ref()).ok_or(index)?;
            for variant in variants(&words, &hyphens) {
                let slot = set.variants.len();
                match &variant[0] {
                    Word::Exact(w) => set.by_first_word.entry(w.clone()).or_default().push(slot),
                    Word::Prefix(_) => set.prefix_first.push(slot),
                }
                set.variants.push((variant, index));
            }
        }
        Ok(set)
    }

    /// Whether `phrase` has at least one word, i.e. [`PhraseSet::new`] would accept it.
    pub fn is_valid_phrase(phrase: &str) -> bool {
        phrase_words(phrase).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.variants.is_empty()
    }

    /// Every occurrence in already tokenized text, ordered by position then phrase index.
    pub fn find(&self, tokens: &[Token]) -> Vec<Hit> {
        let mut hits = Vec::new();
        if self.is_empty() {
            return hits;
        }
        for at in 0..tokens.len() {
            let exact = self.by_first_word.get(&tokens[at].text);
            let slots = exact.into_iter().flatten().chain(self.prefix_first.iter());
            let here = hits.len();
            for &slot in slots {
                let (words, phrase) = &self.variants[slot];
                if let Some(end) = match_at(words, tokens, at) {
                    let hit = Hit {
                        phrase: *phrase,
                        start: tokens[at].start,
                        end,
                    };
                    // Two spellings of one phrase can match at the same place.
                    if !hits[here..].contains(&hit) {
                        hits.push(hit);
                    }
                }
            }
        }
        hits.sort_by_key(|h| (h.start, h.phrase, h.end));
        hits
    }
}

fn match_at(words: &[Word], tokens: &[Token], at: usize) -> Option<usize> {
    let run = tokens.get(at..at + words.len())?;
    for (j, (word, token)) in words.iter().zip(run).enumerate() {
        if (j > 0 && !token.joined) || !word.matches(&token.text) {
            return None;
        }
    }
    run.last().map(|t| t.end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn found<'a>(phrases: &[&str], text: &'a str) -> Vec<&'a str> {
        let set = PhraseSet::new(phrases).unwrap();
        set.find(&tokenize(text))
            .into_iter()
            .map(|h| &text[h.start..h.end])
            .collect()
    }

    #[test]
    fn words_fold_case_across_scripts_and_keep_offsets() {
        let text = "Ihre ERSTATTUNG über 20 €, don’t worry";
        let tokens = tokenize(text);
        let words: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            ["ihre", "erstattung", "über", "20", "don't", "worry"]
        );
        assert_eq!(&text[tokens[1].start..tokens[1].end], "ERSTATTUNG");
        assert!(
            !tokens[4].joined,
            "the comma separates `€` from the next word"
        );
    }

    #[test]
    fn whole_words_only() {
        assert_eq!(
            found(&["credit"], "your creditworthiness"),
            Vec::<&str>::new()
        );
        assert_eq!(found(&["credit"], "a Credit of 5"), ["Credit"]);
        assert_eq!(found(&["refund"], "refunded"), Vec::<&str>::new());
        assert_eq!(found(&["refund*"], "We REFUNDED it"), ["REFUNDED"]);
    }

    #[test]
    fn hyphens_spaces_and_compounds_are_one_spelling() {
        let phrases = ["risk-free"];
        for text in [
            "a risk-free plan",
            "a risk  free plan",
            "a RISK\u{2011}FREE plan",
            "a riskfree plan",
            "a risk\u{200B}free plan",
            "a risk -\n free plan",
        ] {
            assert_eq!(found(&phrases, text).len(), 1, "{text:?}");
        }
        assert!(found(&phrases, "at your own risk. Free shipping").is_empty());
        assert!(found(&["no credit check"], "no credit, check").is_empty());
    }

    #[test]
    fn unspaced_scripts_match_inside_a_sentence() {
        assert_eq!(found(&["保证批准"], "我们保证批准您的贷款"), ["保证批准"]);
        assert!(found(&["保证批准"], "我们保证会批准").is_empty());
    }

    #[test]
    fn phrases_without_words_are_rejected() {
        assert_eq!(PhraseSet::new(&["ok", " - ", "fine"]).unwrap_err(), 1);
        assert!(!PhraseSet::is_valid_phrase("*"));
        assert!(PhraseSet::is_valid_phrase("risk-free"));
    }

    #[test]
    fn every_occurrence_is_reported_once() {
        let set = PhraseSet::new(&["risk-free", "risk free", "free"]).unwrap();
        let hits = set.find(&tokenize("Risk-free! Totally risk free."));
        let phrases: Vec<usize> = hits.iter().map(|h| h.phrase).collect();
        assert_eq!(phrases, [0, 1, 2, 0, 1, 2]);
    }
}
