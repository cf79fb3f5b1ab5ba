//! Emerging terms and hashtags (E2): a word or hashtag that, in one time bucket, far more
//! distinct authors use than its baseline share of the stream predicts.
//!
//! Each term keeps one number, its share of the stream's messages per bucket (an
//! exponentially weighted mean over every bucket since the stream began, counting those it
//! was absent from as zero, decayed lazily), so memory
//! grows with the vocabulary kept (`capacity`, the least-used terms are dropped first), never
//! with traffic. As a bucket closes, each term used in it is judged:
//!
//! - expected authors = its baseline share × the bucket's messages, at least
//!   `new_term_share` × messages (a term never seen before is not expected to be absent);
//! - it emerges when at least `min_authors` distinct authors used it, that is at least
//!   `min_ratio` × expected, and a Poisson tail that high has probability at most `max_p`;
//! - the score is `log10(1/p) / 12` capped at 1, so `max_p` = 1e-6 scores 0.5;
//! - a term that emerged is not reported again for `cooldown_buckets`, and at most
//!   `max_per_bucket` terms (the strongest) are reported per bucket;
//! - nothing is reported before `warmup_buckets` buckets have built the vocabulary.
//!
//! Authors are counted, not messages: one account repeating a word does not make it emerge.
//! Time comes from the messages, as in `watch`.

use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmergingConfig {
    pub bucket_ms: i64,
    pub min_authors: u32,
    pub min_ratio: f64,
    pub max_p: f64,
    /// Half-life of a term's baseline share, in buckets (288 five-minute buckets = 1 day).
    pub half_life_buckets: f64,
    pub new_term_share: f64,
    pub warmup_buckets: u32,
    pub cooldown_buckets: i64,
    pub max_per_bucket: usize,
    /// Terms kept; beyond it the least-used are forgotten.
    pub capacity: usize,
    /// Distinct authors counted per term and bucket; beyond it the count saturates.
    pub max_authors: usize,
}

impl Default for EmergingConfig {
    fn default() -> Self {
        Self {
            bucket_ms: 300_000,
            min_authors: 5,
            min_ratio: 4.0,
            max_p: 1e-6,
            half_life_buckets: 288.0,
            new_term_share: 0.002,
            warmup_buckets: 12,
            cooldown_buckets: 288,
            max_per_bucket: 5,
            capacity: 50_000,
            max_authors: 10_000,
        }
    }
}

/// A term that emerged in one bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct EmergingTerm {
    /// The folded word, or `#tag` for a hashtag.
    pub term: String,
    pub bucket_start: i64,
    /// Distinct authors who used it in the bucket.
    pub authors: u32,
    /// Messages in the bucket, all terms.
    pub messages: u32,
    /// Authors its baseline predicted.
    pub expected: f64,
    /// Probability of at least `authors` under that prediction.
    pub p_value: f64,
    /// 0..1; 0.5 at `max_p`.
    pub score: f32,
}

#[derive(Clone, Debug)]
struct TermState {
    /// Weighted sum of the term's share of each bucket up to bucket `as_of`, each bucket
    /// weighted `keep^age`; the baseline share is this over the same sum of weights.
    weighted: f64,
    as_of: i64,
    fired: Option<i64>,
}

/// The online detector over one stream.
#[derive(Debug)]
pub struct EmergingTerms {
    cfg: EmergingConfig,
    terms: HashMap<String, TermState>,
    /// Index of the open bucket; `None` before the first message.
    open: Option<i64>,
    /// The first bucket of the stream.
    first: Option<i64>,
    messages: u32,
    authors: HashMap<String, HashSet<u64>>,
    closed: u32,
}

impl EmergingTerms {
    pub fn new(cfg: EmergingConfig) -> Self {
        Self {
            cfg,
            terms: HashMap::new(),
            open: None,
            first: None,
            messages: 0,
            authors: HashMap::new(),
            closed: 0,
        }
    }

    /// Terms remembered.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    fn bucket_index(&self, ts_ms: i64) -> i64 {
        ts_ms.div_euclid(self.cfg.bucket_ms.max(1))
    }

    /// Counts one message by `author` (any stable hash of who wrote it) with its distinct
    /// `terms`. When it opens a later bucket, the open one is judged first and what emerged
    /// in it is returned. A message later than its bucket counts in the open one.
    pub fn record(&mut self, ts_ms: i64, author: u64, terms: &[String]) -> Vec<EmergingTerm> {
        let b = self.bucket_index(ts_ms);
        let first = *self.first.get_or_insert(b);
        let b = b.max(first);
        let mut out = Vec::new();
        match self.open {
            Some(open) if b > open => {
                out = self.close();
                self.open = Some(b);
            }
            None => self.open = Some(b),
            Some(_) => {}
        }
        self.messages = self.messages.saturating_add(1);
        for t in terms {
            let seen = match self.authors.get_mut(t.as_str()) {
                Some(s) => s,
                None => self.authors.entry(t.clone()).or_default(),
            };
            if seen.len() < self.cfg.max_authors {
                seen.insert(author);
            }
        }
        out
    }

    /// Judges the open bucket if it ended before `now_ms`, so a stream gone quiet is judged too.
    pub fn flush(&mut self, now_ms: i64) -> Vec<EmergingTerm> {
        match self.open {
            Some(open) if self.bucket_index(now_ms) > open => {
                let out = self.close();
                self.open = None;
                out
            }
            _ => Vec::new(),
        }
    }

    fn close(&mut self) -> Vec<EmergingTerm> {
        let Some(b) = self.open else {
            return Vec::new();
        };
        let cfg = self.cfg;
        let total = f64::from(self.messages.max(1));
        let keep = self.keep();
        // Weight of the buckets before this one since the stream began (a geometric sum).
        let before = b - self.first.unwrap_or(b);
        let weights = (1.0 - keep.powi(clamp_i32(before))) / (1.0 - keep);
        let warm = self.closed >= cfg.warmup_buckets;
        let mut out = Vec::new();
        for (term, who) in self.authors.drain() {
            let k = u32::try_from(who.len()).unwrap_or(u32::MAX);
            if !self.terms.contains_key(&term) {
                self.terms.insert(
                    term.clone(),
                    TermState {
                        weighted: 0.0,
                        as_of: b - 1,
                        fired: None,
                    },
                );
            }
            let Some(state) = self.terms.get_mut(&term) else {
                continue;
            };
            state.weighted *= keep.powi(clamp_i32(b - 1 - state.as_of));
            let share = if weights > 0.0 {
                state.weighted / weights
            } else {
                0.0
            };
            let expected = (share * total).max(cfg.new_term_share * total);
            let cooled = state.fired.is_none_or(|f| b - f >= cfg.cooldown_buckets);
            if warm && cooled && k >= cfg.min_authors && f64::from(k) >= cfg.min_ratio * expected {
                let p = poisson_tail(k, expected);
                if p <= cfg.max_p {
                    state.fired = Some(b);
                    out.push(EmergingTerm {
                        term,
                        bucket_start: b * cfg.bucket_ms.max(1),
                        authors: k,
                        messages: self.messages,
                        expected,
                        p_value: p,
                        score: score_of(p),
                    });
                }
            }
            state.weighted = keep * state.weighted + f64::from(k) / total;
            state.as_of = b;
        }
        self.messages = 0;
        self.closed = self.closed.saturating_add(1);
        if self.terms.len() > cfg.capacity {
            self.forget(b);
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.authors.cmp(&a.authors)));
        for dropped in out.iter().skip(cfg.max_per_bucket) {
            // Not reported, so not cooling down either.
            if let Some(s) = self.terms.get_mut(&dropped.term) {
                s.fired = None;
            }
        }
        out.truncate(cfg.max_per_bucket);
        out
    }

    /// How much of a bucket's weight is left one bucket later.
    fn keep(&self) -> f64 {
        0.5f64.powf(1.0 / self.cfg.half_life_buckets.max(1.0))
    }

    /// Drops the least-used terms down to (at most) three quarters of the capacity, so the selection
    /// (linear in the vocabulary) runs once per many buckets, not on each.
    fn forget(&mut self, now: i64) {
        let keep = self.keep();
        let decayed = |s: &TermState| s.weighted * keep.powi(clamp_i32(now - s.as_of));
        let excess = self.terms.len().saturating_sub(self.cfg.capacity * 3 / 4);
        if excess == 0 {
            return;
        }
        let mut shares: Vec<f64> = self.terms.values().map(decayed).collect();
        let (_, cut, _) = shares.select_nth_unstable_by(excess - 1, f64::total_cmp);
        let cut = *cut;
        // Terms tied at the cut go too: the vocabulary ends at most at three quarters.
        self.terms.retain(|_, s| decayed(s) > cut);
    }
}

fn clamp_i32(n: i64) -> i32 {
    i32::try_from(n.max(0)).unwrap_or(i32::MAX)
}

/// 0..1 from a p-value: `log10(1/p) / 12`, so 1e-6 scores 0.5 and 1e-12 or less scores 1.
fn score_of(p: f64) -> f32 {
    ((-p.max(1e-300).log10()) / 12.0).clamp(0.0, 1.0) as f32
}

/// P(X ≥ k) for X ~ Poisson(λ), for k above λ (1 otherwise: not in the upper tail).
pub fn poisson_tail(k: u32, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    // λ of zero (or not a number) expects nothing: any use at all is beyond the tail.
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    let kf = f64::from(k);
    if kf <= lambda {
        return 1.0;
    }
    let ln_pmf = kf * lambda.ln() - lambda - libm::lgamma(kf + 1.0);
    let (mut term, mut sum, mut j) = (1.0f64, 1.0f64, kf);
    for _ in 0..100_000 {
        j += 1.0;
        term *= lambda / j;
        sum += term;
        if term < 1e-15 * sum {
            break;
        }
    }
    (ln_pmf.exp() * sum).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: i64 = 300_000;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    /// Twelve hours of ordinary talk: 40 messages per bucket from 40 authors, drawn from a
    /// fixed vocabulary in which each word has its own steady share.
    fn ordinary(e: &mut EmergingTerms, buckets: i64) -> Vec<EmergingTerm> {
        let vocab = [
            "parcel", "order", "refund", "thanks", "late", "help", "#support",
        ];
        let mut out = Vec::new();
        for b in 0..buckets {
            for m in 0..40u64 {
                let n = (m as usize + b as usize) % vocab.len();
                let terms = vec![vocab[n].to_owned(), vocab[(n + 2) % vocab.len()].to_owned()];
                out.extend(e.record(b * B + m as i64 * 1000, m, &terms));
            }
        }
        out
    }

    #[test]
    fn poisson_tail_matches_known_values() {
        // P(X ≥ 5 | λ = 1) = 1 − Σ_{j<5} e^-1/j! = 0.00365984...
        assert!((poisson_tail(5, 1.0) - 0.003_659_846_827_3).abs() < 1e-10);
        // P(X ≥ 1 | λ = 0.5) = 1 − e^-0.5
        assert!((poisson_tail(1, 0.5) - (1.0 - (-0.5f64).exp())).abs() < 1e-12);
        assert_eq!(poisson_tail(3, 5.0), 1.0);
        assert_eq!(poisson_tail(0, 2.0), 1.0);
        assert!(poisson_tail(400, 2.0) < 1e-200);
    }

    #[test]
    fn steady_talk_raises_nothing_and_a_new_hashtag_from_many_authors_emerges() {
        let mut e = EmergingTerms::new(EmergingConfig::default());
        assert!(ordinary(&mut e, 144).is_empty());
        // In the next bucket, 12 distinct authors use a hashtag never seen before; one other
        // author repeats another new word 30 times.
        let b = 144;
        let mut got = Vec::new();
        for a in 0..12u64 {
            got.extend(e.record(b * B + a as i64, 1000 + a, &words("#x200recall burnt")));
        }
        for i in 0..30 {
            got.extend(e.record(b * B + 100 + i, 7, &words("spamword")));
        }
        got.extend(ordinary_bucket(&mut e, b));
        assert!(
            got.is_empty(),
            "judged only when the bucket closes: {got:?}"
        );
        let got = e.flush((b + 1) * B);
        let terms: Vec<&str> = got.iter().map(|t| t.term.as_str()).collect();
        assert!(terms.contains(&"#x200recall"), "{got:?}");
        assert!(terms.contains(&"burnt"), "{got:?}");
        assert!(
            !terms.contains(&"spamword"),
            "one author is not a trend: {got:?}"
        );
        let tag = got.iter().find(|t| t.term == "#x200recall").unwrap();
        assert_eq!(tag.authors, 12);
        assert_eq!(tag.bucket_start, b * B);
        assert!(tag.score >= 0.5 && tag.p_value <= 1e-6, "{tag:?}");
        // The same hashtag keeps trending: reported once, then cooling down.
        for a in 0..12u64 {
            e.record((b + 1) * B + a as i64, 2000 + a, &words("#x200recall"));
        }
        assert!(e.flush((b + 2) * B).is_empty());
    }

    fn ordinary_bucket(e: &mut EmergingTerms, b: i64) -> Vec<EmergingTerm> {
        (0..40u64)
            .flat_map(|m| e.record(b * B + 200 + m as i64, m, &words("parcel late")))
            .collect()
    }

    #[test]
    fn a_word_within_four_times_its_share_does_not_emerge_and_a_rare_one_surging_does() {
        let mut e = EmergingTerms::new(EmergingConfig::default());
        ordinary(&mut e, 144);
        // "refund" is in 2 of 7 ordinary messages: every one of 40 authors using it in a
        // bucket of 40 messages is 3.5 times its share, under the 4× asked for.
        let b = 144;
        for m in 0..40u64 {
            e.record(b * B + m as i64, m, &words("refund"));
        }
        assert!(e.flush((b + 1) * B).is_empty());
        // A word never used before, from 30 authors among 70 messages, does emerge.
        let b = b + 1;
        for m in 0..40u64 {
            e.record(b * B + m as i64, m, &words("parcel order"));
        }
        for a in 0..30u64 {
            e.record(b * B + 500 + a as i64, 500 + a, &words("outage"));
        }
        let got = e.flush((b + 1) * B);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].term, "outage");
        assert_eq!((got[0].authors, got[0].messages), (30, 70));
    }

    #[test]
    fn nothing_emerges_while_warming_up_and_memory_stays_within_capacity() {
        let cfg = EmergingConfig {
            capacity: 1_000,
            ..EmergingConfig::default()
        };
        let mut e = EmergingTerms::new(cfg);
        // Every bucket, from the start, 10 authors each use the same 200 brand-new words.
        let mut got = Vec::new();
        for b in 0..50i64 {
            let terms: Vec<String> = (0..200).map(|w| format!("w{b}x{w}")).collect();
            for a in 0..10u64 {
                got.extend(e.record(b * B + a as i64, a, &terms));
            }
            assert!(e.len() <= 1_000, "{} terms after bucket {b}", e.len());
        }
        got.extend(e.flush(50 * B));
        // Warm-up is 12 buckets; afterwards at most 5 terms per bucket are reported.
        assert!(
            got.iter().all(|t| t.bucket_start >= 12 * B),
            "{:?}",
            got.first()
        );
        assert!(got.len() <= 5 * 38, "{}", got.len());
        assert!(!got.is_empty());
    }
}
