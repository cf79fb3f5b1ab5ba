//! The hashing trick: words, word pairs and character n-grams are hashed straight into a
//! fixed number of buckets, so a model file holds only weights and never a word of the text
//! it was trained on.

use crate::text::{Folded, Token, tokens};

/// How a text becomes a sparse vector. Stored in every model file so training and
/// prediction always agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureSpec {
    /// log2 of the number of buckets.
    pub bits: u8,
    /// Longest word n-gram (1 = unigrams only).
    pub word_ngrams: u8,
    /// Character n-gram lengths inside padded words, inclusive; 0 disables them.
    pub char_min: u8,
    pub char_max: u8,
    /// Each known word also counts as its clusters of words used alike (`clusters.rs`).
    pub clusters: bool,
    /// The text's sentiment compound (the product's VADER score) is a feature too: its value,
    /// and which of the 21 steps of 0.1 from −1 to 1 it rounds to.
    pub sentiment: bool,
    /// How many words of the list of swear words and insults (`abuse.rs`) the text uses: one
    /// feature for one, two, or three and more.
    pub abuse: bool,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            bits: 20,
            word_ngrams: 2,
            char_min: 2,
            char_max: 5,
            clusters: true,
            sentiment: false,
            abuse: false,
        }
    }
}

/// How much the sentiment features weigh beside the text's features (which have unit length
/// together). Chosen on the TweetEval emotion and offensive validation splits.
const SENTIMENT_WEIGHT: f32 = 1.0;

/// How much the swear-word count weighs beside the text's features. Chosen on the TweetEval
/// emotion and offensive validation splits (0.5 scored lower, 2 about the same).
const ABUSE_WEIGHT: f32 = 1.0;

/// The compound a model's sentiment features are computed from when the caller has none:
/// the product's default sentiment scorer (VADER with the care lexicon).
fn default_compound(text: &str) -> f64 {
    static MODEL: std::sync::OnceLock<crate::sentiment::SentimentModel> =
        std::sync::OnceLock::new();
    MODEL
        .get_or_init(crate::sentiment::SentimentModel::new)
        .score(text)
        .compound
}

/// A sparse, L2-normalised feature vector: (bucket, value), buckets unique and sorted.
pub type Features = Vec<(u32, f32)>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Final avalanche so that nearby FNV values land in unrelated buckets.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The hash of a word token; word clusters are looked up by it.
pub(super) fn word_hash(w: &str) -> u64 {
    fnv(1, w.as_bytes())
}

/// Sets a hashtag's hash apart from the same word's.
const HASHTAG_SALT: u64 = 0x5a5a;

fn token_hash(t: Token<'_>) -> u64 {
    match t {
        Token::Word(w) => word_hash(w),
        Token::Hashtag(w) => word_hash(w) ^ HASHTAG_SALT,
        Token::Mention => fnv(2, b"@user"),
        Token::Url => fnv(2, b"http"),
        Token::Number => fnv(2, b"0"),
        Token::Symbol(c) => {
            let mut buf = [0u8; 4];
            fnv(3, c.encode_utf8(&mut buf).as_bytes())
        }
    }
}

impl FeatureSpec {
    pub fn buckets(&self) -> usize {
        1usize << self.bits
    }

    /// Extract features of `text` into `out`, reusing its allocation.
    pub fn extract(&self, text: &str, out: &mut Features) {
        let compound = self.sentiment.then(|| default_compound(text));
        self.extract_folded(&Folded::new(text).text, compound, out);
    }

    /// [`FeatureSpec::extract`] for a text already folded with [`Folded`], with its
    /// sentiment compound when the caller has it (used only when `self.sentiment`; `None`
    /// then counts as neutral).
    pub fn extract_folded(&self, folded: &str, compound: Option<f64>, out: &mut Features) {
        out.clear();
        let mask = (self.buckets() - 1) as u64;
        let mut prev: Option<u64> = None;
        let mut abusive = 0u64;
        // Every occurrence counts 1: collect bare buckets, then sort and count them.
        let mut buckets: Vec<u32> = Vec::with_capacity(folded.len() * 4);
        let push = |h: u64, b: &mut Vec<u32>| b.push((mix(h) & mask) as u32);
        tokens(folded, |t| {
            let h = token_hash(t);
            push(h, &mut buckets);
            if self.word_ngrams >= 2 {
                let p = prev.unwrap_or(0x1234_5678);
                push(p.rotate_left(17) ^ h ^ 0xb16, &mut buckets);
            }
            prev = Some(h);
            if let Token::Word(w) | Token::Hashtag(w) = t {
                if self.char_min > 0 {
                    self.char_grams(w, &mut |g| push(g, &mut buckets));
                }
                // The word's own hash is the token's, less a hashtag's salt: not hashed again.
                let word = if matches!(t, Token::Hashtag(_)) {
                    h ^ HASHTAG_SALT
                } else {
                    h
                };
                if self.abuse && super::abuse::contains_hash(word) {
                    abusive += 1;
                }
                if let (true, Some(ids)) = (self.clusters, super::clusters::of_hash(word)) {
                    for (level, id) in ids.iter().enumerate() {
                        push(fnv(30 + level as u64, &id.to_le_bytes()), &mut buckets);
                    }
                }
            }
        });
        if let (true, Some(p)) = (self.word_ngrams >= 2, prev) {
            push(p.rotate_left(17) ^ 0x00e0_5e7d ^ 0xb16, &mut buckets);
        }
        normalise(&mut buckets, out);
        if abusive > 0 {
            add_feature(
                out,
                (mix(fnv(42, &abusive.min(3).to_le_bytes())) & mask) as u32,
                ABUSE_WEIGHT,
            );
        }
        if self.sentiment {
            let c = compound.unwrap_or(0.0).clamp(-1.0, 1.0);
            // 21 steps of 0.1, 0 (−1) to 20 (+1).
            let tenth = ((c + 1.0) * 10.0).round() as u64;
            add_feature(
                out,
                (mix(fnv(40, &tenth.to_le_bytes())) & mask) as u32,
                SENTIMENT_WEIGHT,
            );
            add_feature(
                out,
                (mix(fnv(41, b"compound")) & mask) as u32,
                c as f32 * SENTIMENT_WEIGHT,
            );
        }
    }

    fn char_grams(&self, word: &str, emit: &mut impl FnMut(u64)) {
        // Pad with markers so prefixes and suffixes are their own n-grams, as in fastText.
        let mut stack = [0u8; 64];
        let mut heap = Vec::new();
        let padded: &mut [u8] = if word.len() + 2 <= stack.len() {
            &mut stack[..word.len() + 2]
        } else {
            heap.resize(word.len() + 2, 0);
            &mut heap
        };
        padded[0] = b'<';
        padded[1..=word.len()].copy_from_slice(word.as_bytes());
        padded[word.len() + 1] = b'>';
        let padded = &*padded;
        let (lo, hi) = (usize::from(self.char_min), usize::from(self.char_max));
        // Byte n-grams: cheaper than char n-grams and equivalent for the Latin scripts that
        // dominate our traffic; multi-byte characters simply contribute more grams.
        for n in lo..=hi {
            if n > padded.len() {
                break;
            }
            // The usual lengths with the gram's length known at compile time, so that each
            // gram's hash is straight-line code; the same hash as `fnv` over the window.
            match n {
                2 => grams::<2>(padded, emit),
                3 => grams::<3>(padded, emit),
                4 => grams::<4>(padded, emit),
                5 => grams::<5>(padded, emit),
                _ => {
                    for gram in padded.windows(n) {
                        emit(fnv(10 + n as u64, gram));
                    }
                }
            }
        }
    }
}

/// `fnv(10 + N, gram)` of every window of `N` bytes of `padded`.
fn grams<const N: usize>(padded: &[u8], emit: &mut impl FnMut(u64)) {
    let init = fnv(10 + N as u64, &[]);
    for gram in padded.windows(N) {
        let gram: &[u8; N] = match gram.try_into() {
            Ok(g) => g,
            Err(_) => continue,
        };
        let mut h = init;
        for &b in gram {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        emit(h);
    }
}

/// Adds `v` to bucket `b` of a sorted feature vector, keeping it sorted and unique.
fn add_feature(out: &mut Features, b: u32, v: f32) {
    match out.binary_search_by_key(&b, |&(k, _)| k) {
        Ok(i) => out[i].1 += v,
        Err(i) => out.insert(i, (b, v)),
    }
}

/// Count duplicate buckets, damp counts (log 1 + tf) and scale to unit length.
fn normalise(buckets: &mut Vec<u32>, out: &mut Features) {
    sort_buckets(buckets);
    let table = ln_1p_table();
    out.reserve(buckets.len());
    let mut norm = 0.0f32;
    let mut i = 0;
    while let Some(&b) = buckets.get(i) {
        let run = buckets[i..].iter().take_while(|&&x| x == b).count();
        let v = table
            .get(run)
            .copied()
            .unwrap_or_else(|| (run as f32).ln_1p());
        norm += v * v;
        out.push((b, v));
        i += run;
    }
    if norm > 0.0 {
        let inv = norm.sqrt().recip();
        for (_, v) in out.iter_mut() {
            *v *= inv;
        }
    }
}

/// Sorts bucket numbers: a least-significant-digit radix sort, which beats comparison
/// sorting at the few hundred buckets a message yields. Numbers of up to 21 bits (models of
/// up to 2^21 buckets, the shipped ones among them) take three passes of 7 bits, whose counts
/// stay small; wider ones four passes of a byte.
fn sort_buckets(v: &mut Vec<u32>) {
    if v.len() < 64 {
        v.sort_unstable();
        return;
    }
    let max = v.iter().copied().max().unwrap_or(0);
    if max < 1 << 21 {
        radix_sort::<7, 129, 3>(v);
    } else {
        radix_sort::<8, 257, 4>(v);
    }
}

/// `PASSES` passes of `DIGIT` bits each, lowest first, over numbers below
/// 2^(`DIGIT` × `PASSES`); `COUNTS` is 2^`DIGIT` + 1.
fn radix_sort<const DIGIT: usize, const COUNTS: usize, const PASSES: usize>(v: &mut Vec<u32>) {
    let bins = COUNTS - 1;
    let digit = |x: u32, pass: usize| (x as usize >> (DIGIT * pass)) & (bins - 1);
    // All histograms in one read.
    let mut count = [[0u32; COUNTS]; PASSES];
    for &x in v.iter() {
        for (pass, c) in count.iter_mut().enumerate() {
            c[digit(x, pass) + 1] += 1;
        }
    }
    for c in count.iter_mut() {
        for d in 1..COUNTS {
            c[d] += c[d - 1];
        }
    }
    let mut tmp = vec![0u32; v.len()];
    for (pass, c) in count.iter_mut().enumerate() {
        for &x in v.iter() {
            let slot = &mut c[digit(x, pass)];
            tmp[*slot as usize] = x;
            *slot += 1;
        }
        std::mem::swap(v, &mut tmp);
    }
}

/// `ln_1p` of the counts nearly every feature has (a word or gram seen fewer than 16 times
/// in one message), as `f32::ln_1p` computes them.
fn ln_1p_table() -> &'static [f32; 16] {
    static SMALL: std::sync::OnceLock<[f32; 16]> = std::sync::OnceLock::new();
    SMALL.get_or_init(|| std::array::from_fn(|i| (i as f32).ln_1p()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_grams_are_the_fnv_hash_of_each_window() {
        for (lo, hi) in [(2, 5), (1, 6), (3, 3)] {
            let spec = FeatureSpec {
                char_min: lo,
                char_max: hi,
                ..FeatureSpec::default()
            };
            for word in ["", "a", "ok", "card", "refunds", "déjà-vu", &"x".repeat(80)] {
                let mut padded = vec![b'<'];
                padded.extend_from_slice(word.as_bytes());
                padded.push(b'>');
                let mut want = Vec::new();
                for n in usize::from(lo)..=usize::from(hi) {
                    want.extend(padded.windows(n).map(|g| fnv(10 + n as u64, g)));
                }
                let mut got = Vec::new();
                spec.char_grams(word, &mut |h| got.push(h));
                assert_eq!(got, want, "{word:?} {lo}..={hi}");
            }
        }
    }

    #[test]
    fn same_text_same_vector_and_unit_length() {
        let spec = FeatureSpec::default();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        spec.extract("Where is my card?", &mut a);
        spec.extract("WHERE is my card?", &mut b);
        assert_eq!(a, b);
        let norm: f32 = a.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn bucket_sort_sorts() {
        let mut seed = 7u64;
        // Below and above 2^21, where the sort changes passes.
        for mask in [0xff, 0xf_ffff, 0x1f_ffff, 0x3f_ffff] {
            for len in [0, 1, 63, 64, 65, 400, 5_000] {
                let mut v: Vec<u32> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        (seed >> 40) as u32 & mask
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                sort_buckets(&mut v);
                assert_eq!(v, want, "{len} {mask:x}");
            }
        }
        let mut wide = vec![u32::MAX, 0, 1 << 31, 12_345, 1 << 24];
        wide.extend(std::iter::repeat_n(77, 100));
        let mut want = wide.clone();
        want.sort_unstable();
        sort_buckets(&mut wide);
        assert_eq!(wide, want);
    }

    #[test]
    fn empty_text_has_no_features() {
        let mut a = vec![(1, 1.0)];
        FeatureSpec::default().extract("   ", &mut a);
        assert!(a.is_empty());
    }
}
