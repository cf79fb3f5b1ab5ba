//! What every rule-based stage reads from one message, computed once: folded words and
//! simple surface signals.

use crate::cues::CueCounts;
use crate::text::{Folded, Token, tokens};

pub struct Signals<'a> {
    pub words: Vec<&'a str>,
    /// The message asks something ("?" or an opening question word).
    pub question: bool,
    pub exclamations: usize,
    /// Share of letters in upper case, over words of 3+ letters (shouting).
    pub caps_ratio: f64,
    pub mentions: usize,
    pub urls: usize,
    pub hashtags: usize,
    /// Occurrences of each cue list's phrases.
    pub cues: CueCounts,
}

impl<'a> Signals<'a> {
    pub fn new(original: &str, folded: &'a Folded) -> Self {
        let mut words = Vec::new();
        let (mut q, mut excl, mut mentions, mut urls, mut hashtags) = (0, 0, 0, 0, 0);
        tokens(&folded.text, |t| match t {
            Token::Word(w) => words.push(w),
            Token::Symbol('?' | '¿') => q += 1,
            Token::Symbol('!' | '¡') => excl += 1,
            Token::Mention => mentions += 1,
            Token::Url => urls += 1,
            Token::Hashtag(h) => {
                hashtags += 1;
                words.push(h);
            }
            _ => {}
        });
        let (mut upper, mut letters) = (0usize, 0usize);
        for w in original.split_whitespace() {
            if w.chars().filter(|c| c.is_alphabetic()).count() >= 3 {
                for c in w.chars().filter(|c| c.is_alphabetic()) {
                    letters += 1;
                    upper += usize::from(c.is_uppercase());
                }
            }
        }
        let opener = words
            .first()
            .is_some_and(|w| crate::cues::QUESTION_OPENERS.contains(w));
        Self {
            cues: CueCounts::of(&words),
            question: q > 0 || opener,
            words,
            exclamations: excl,
            caps_ratio: if letters == 0 {
                0.0
            } else {
                upper as f64 / letters as f64
            },
            mentions,
            urls,
            hashtags,
        }
    }
}
