//! Coordinated bursts: many different authors posting near-identical text within a few
//! minutes. Texts are reduced to a 64-bit SimHash of word shingles; hashes within a small
//! Hamming distance are the same campaign.

use crate::text::{Folded, Token, tokens};
use std::collections::{HashSet, VecDeque};

#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    pub fingerprint: u64,
    pub authors: usize,
    pub messages: usize,
}

pub struct BurstDetector {
    window_secs: i64,
    min_authors: usize,
    max_distance: u32,
    recent: VecDeque<(i64, u64, String)>,
}

impl BurstDetector {
    /// Flag when `min_authors` distinct authors post near-duplicates within `window_secs`.
    pub fn new(window_secs: i64, min_authors: usize) -> Self {
        Self {
            window_secs,
            min_authors,
            max_distance: 6,
            recent: VecDeque::new(),
        }
    }

    /// Record a message (timestamps in seconds, non-decreasing) and report the burst it
    /// belongs to, if any.
    pub fn observe(&mut self, at: i64, author: &str, text: &str) -> Option<Burst> {
        while self
            .recent
            .front()
            .is_some_and(|(t, _, _)| *t < at - self.window_secs)
        {
            self.recent.pop_front();
        }
        let fp = simhash(text);
        // Texts too short to fingerprint ("thanks!") are not a campaign signal.
        let fp = fp?;
        self.recent.push_back((at, fp, author.to_owned()));
        let mut authors = HashSet::new();
        let mut messages = 0;
        for (_, h, a) in &self.recent {
            if (h ^ fp).count_ones() <= self.max_distance {
                authors.insert(a.as_str());
                messages += 1;
            }
        }
        (authors.len() >= self.min_authors).then_some(Burst {
            fingerprint: fp,
            authors: authors.len(),
            messages,
        })
    }
}

fn simhash(text: &str) -> Option<u64> {
    let folded = Folded::new(text);
    let mut words = Vec::new();
    tokens(&folded.text, |t| {
        if let Token::Word(w) | Token::Hashtag(w) = t {
            words.push(w.to_owned());
        }
    });
    if words.len() < 4 {
        return None;
    }
    let mut acc = [0i32; 64];
    for pair in words.windows(2) {
        let h = fnv(pair[0].as_bytes()) ^ fnv(pair[1].as_bytes()).rotate_left(29);
        for (bit, a) in acc.iter_mut().enumerate() {
            *a += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(
        acc.iter()
            .enumerate()
            .fold(0u64, |h, (bit, &a)| if a > 0 { h | 1 << bit } else { h }),
    )
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
        (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_accounts_pasting_the_same_text_within_minutes_is_a_burst() {
        let mut d = BurstDetector::new(300, 10);
        let mut flagged = None;
        for i in 0..40 {
            let text = format!(
                "Boycott Acme now, they poison our rivers #boycottacme {}",
                i % 3
            );
            flagged = d.observe(i * 5, &format!("user{i}"), &text).or(flagged);
        }
        let b = flagged.unwrap();
        assert!(b.authors >= 10);
    }

    #[test]
    fn one_author_repeating_or_slow_organic_traffic_is_not() {
        let mut d = BurstDetector::new(300, 10);
        for i in 0..40 {
            assert!(
                d.observe(i, "same", "my router keeps dropping the connection again")
                    .is_none()
            );
        }
        let mut d = BurstDetector::new(300, 10);
        for i in 0..40 {
            let text = format!("question {i} about my bill number {} please", i * 7);
            assert!(d.observe(i * 600, &format!("u{i}"), &text).is_none());
        }
    }
}
