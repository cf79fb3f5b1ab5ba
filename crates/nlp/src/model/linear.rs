//! A multinomial logistic-regression model over hashed features, and its file format.
//! Only buckets that training touched are stored, so files stay small and hold no text.

use super::features::{FeatureSpec, Features};
use std::fmt;

const MAGIC: &[u8; 5] = b"SBLM1";
/// Version 2 adds a fifth feature byte (flags: bit 0, word clusters; bit 1, sentiment
/// features; bit 2, the swear-word count). A model without flags is still written as
/// version 1, so files trained before it keep their exact bytes.
const MAGIC_V2: &[u8; 5] = b"SBLM2";

/// A trained classifier: labels, feature recipe and weights.
#[derive(Clone)]
pub struct LinearModel {
    /// What the model is for (`intent`, `topic`, `emotion`, ...), as given to `nlp train`.
    pub task: String,
    pub spec: FeatureSpec,
    pub labels: Vec<String>,
    /// Out-of-scope rule: when the top probability is below `threshold`, answer `fallback`.
    pub reject: Option<Reject>,
    pub(crate) bias: Vec<f32>,
    /// bucket -> 1 + row in `rows`, 0 when the bucket has no weights.
    pub(crate) index: Vec<u32>,
    /// Row-major: `rows[r * k + class]`.
    pub(crate) rows: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    pub threshold: f32,
    pub fallback: String,
}

/// One held-out prediction as a reject threshold sees it.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// The top probability.
    pub confidence: f32,
    /// The top label is the gold one.
    pub right: bool,
    /// The gold label is the fallback (out of scope, "other").
    pub gold_is_fallback: bool,
}

impl Outcome {
    /// Whether the answer is right when the fallback is answered below threshold `t`.
    pub fn right_under(&self, t: f32) -> bool {
        if self.confidence < t {
            self.gold_is_fallback
        } else {
            self.right
        }
    }
}

impl Reject {
    /// The threshold (0.00 to 0.99 by 0.01) under which answering the fallback gives the
    /// most right answers over `outcomes`, the lowest of equals.
    pub fn best_threshold(outcomes: &[Outcome]) -> f32 {
        let right = |t: f32| outcomes.iter().filter(|o| o.right_under(t)).count();
        let mut best = (0.0f32, right(0.0));
        for step in 1..100u8 {
            let t = f32::from(step) / 100.0;
            let n = right(t);
            if n > best.1 {
                best = (t, n);
            }
        }
        best.0
    }
}

#[derive(Debug)]
pub struct ModelError(pub String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid model file: {}", self.0)
    }
}

impl std::error::Error for ModelError {}

/// A prediction: best label index, its probability, and the whole distribution.
#[derive(Clone, Debug)]
pub struct Prediction {
    pub class: usize,
    pub confidence: f32,
    pub probabilities: Vec<f32>,
}

impl LinearModel {
    pub fn classes(&self) -> usize {
        self.labels.len()
    }

    /// Raw class scores (logits) for features extracted with `self.spec`.
    pub fn scores(&self, x: &Features, out: &mut Vec<f32>) {
        let k = self.classes();
        out.clear();
        out.extend_from_slice(&self.bias);
        for &(bucket, v) in x {
            let Some(&r) = self.index.get(bucket as usize) else {
                continue;
            };
            if r == 0 {
                continue;
            }
            let start = (r as usize - 1) * k;
            if let Some(row) = self.rows.get(start..start + k) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += w * v;
                }
            }
        }
    }

    pub fn predict_features(&self, x: &Features) -> Prediction {
        let mut p = Vec::with_capacity(self.classes());
        self.scores(x, &mut p);
        Self::predict_scores(p)
    }

    /// The prediction from raw class scores (from [`LinearModel::scores`] or [`Joint`]).
    pub fn predict_scores(mut p: Vec<f32>) -> Prediction {
        softmax(&mut p);
        let (class, confidence) = argmax(&p);
        Prediction {
            class,
            confidence,
            probabilities: p,
        }
    }

    pub fn predict(&self, text: &str) -> Prediction {
        let mut x = Vec::new();
        self.spec.extract(text, &mut x);
        self.predict_features(&x)
    }

    /// [`LinearModel::predict`] for a text already folded, with the sentiment compound the
    /// caller computed from the original text (used when the model has sentiment features).
    pub fn predict_folded(&self, folded: &str, compound: f64) -> Prediction {
        let mut x = Vec::new();
        self.spec.extract_folded(folded, Some(compound), &mut x);
        self.predict_features(&x)
    }

    /// The label to report, applying the out-of-scope rule when the model has one.
    pub fn label_of(&self, p: &Prediction) -> &str {
        match &self.reject {
            Some(r) if p.confidence < r.threshold => &r.fallback,
            _ => self.labels.get(p.class).map_or("", String::as_str),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.rows.len() * 4);
        let flags = u8::from(self.spec.clusters)
            | (u8::from(self.spec.sentiment) << 1)
            | (u8::from(self.spec.abuse) << 2);
        b.extend_from_slice(if flags == 0 { MAGIC } else { MAGIC_V2 });
        put_str(&mut b, &self.task);
        b.extend_from_slice(&[
            self.spec.bits,
            self.spec.word_ngrams,
            self.spec.char_min,
            self.spec.char_max,
        ]);
        if flags != 0 {
            b.push(flags);
        }
        b.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        for l in &self.labels {
            put_str(&mut b, l);
        }
        match &self.reject {
            Some(r) => {
                b.push(1);
                b.extend_from_slice(&r.threshold.to_le_bytes());
                put_str(&mut b, &r.fallback);
            }
            None => b.push(0),
        }
        for w in &self.bias {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let k = self.classes();
        let n_rows = self.rows.len().checked_div(k).unwrap_or(0);
        b.extend_from_slice(&(n_rows as u32).to_le_bytes());
        // Buckets in ascending order, so the same model always gives the same bytes.
        for (bucket, &r) in self.index.iter().enumerate() {
            if r == 0 {
                continue;
            }
            b.extend_from_slice(&(bucket as u32).to_le_bytes());
            let start = (r as usize - 1) * k;
            for w in self.rows.get(start..start + k).unwrap_or_default() {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        b
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader { b: bytes, at: 0 };
        let v2 = match r.take(MAGIC.len())? {
            m if m == MAGIC => false,
            m if m == MAGIC_V2 => true,
            _ => return Err(ModelError("not a Switchboard model".into())),
        };
        let task = r.string()?;
        let s = r.take(4)?;
        let flags = if v2 { r.take(1)?[0] } else { 0 };
        if flags > 7 {
            return Err(ModelError("unknown feature flags".into()));
        }
        let spec = FeatureSpec {
            bits: s[0],
            word_ngrams: s[1],
            char_min: s[2],
            char_max: s[3],
            clusters: flags & 1 == 1,
            sentiment: flags & 2 == 2,
            abuse: flags & 4 == 4,
        };
        if !(8..=24).contains(&spec.bits) || spec.char_min > spec.char_max {
            return Err(ModelError("bad feature settings".into()));
        }
        if spec.clusters {
            super::clusters::load();
        }
        let k = r.u32()? as usize;
        if k == 0 || k > 100_000 {
            return Err(ModelError("bad label count".into()));
        }
        let labels = (0..k).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        let reject = match r.take(1)?[0] {
            0 => None,
            _ => Some(Reject {
                threshold: r.f32()?,
                fallback: r.string()?,
            }),
        };
        let bias = (0..k).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
        let n_rows = r.u32()? as usize;
        let mut index = vec![0u32; spec.buckets()];
        let mut rows = Vec::with_capacity(n_rows.min(bytes.len() / 4) * k);
        for i in 0..n_rows {
            let bucket = r.u32()? as usize;
            let slot = index
                .get_mut(bucket)
                .ok_or_else(|| ModelError("bucket out of range".into()))?;
            *slot = i as u32 + 1;
            for _ in 0..k {
                rows.push(r.f32()?);
            }
        }
        Ok(Self {
            task,
            spec,
            labels,
            reject,
            bias,
            index,
            rows,
        })
    }
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or_else(|| ModelError("truncated".into()))?;
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Result<f32, ModelError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn string(&mut self) -> Result<String, ModelError> {
        let n = self.u32()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| ModelError("label is not UTF-8".into()))
    }
}

/// Several models over the same feature recipe, scored in one pass: rows holding every
/// model's weights side by side, found through a bitmap of the buckets that have weights
/// and a running count of its set bits (about 200 KB for 2^20 buckets, so it stays in the
/// processor's cache where a bucket index would not). Each feature of a text then costs at
/// most one read from memory instead of two per model. Scores are the same floats the
/// models give one by one.
pub struct Joint {
    spec: FeatureSpec,
    /// Bit `b` set when some model has weights for bucket `b`.
    present: Vec<u64>,
    /// Set bits in `present` before each of its words: the row of a bucket is this plus
    /// the set bits below it in its own word.
    rank: Vec<u32>,
    /// Row-major, `width` floats per row: each model's classes in turn, zeros where a model
    /// has no weights for the bucket.
    rows: Vec<f32>,
    width: usize,
    /// Each model's bias (and so its class count), in order.
    biases: Vec<Vec<f32>>,
}

impl Joint {
    /// `None` unless there are at least two models and all share one feature recipe.
    pub fn new(models: &[&LinearModel]) -> Option<Self> {
        let spec = models.first()?.spec;
        if models.len() < 2 || models.iter().any(|m| m.spec != spec) {
            return None;
        }
        let width: usize = models.iter().map(|m| m.classes()).sum();
        let buckets = models.iter().map(|m| m.index.len()).max().unwrap_or(0);
        let mut present = vec![0u64; buckets.div_ceil(64)];
        let mut rank = vec![0u32; present.len()];
        let mut rows = Vec::new();
        let mut set = 0u32;
        for (w, word) in present.iter_mut().enumerate() {
            rank[w] = set;
            for bit in 0..64 {
                let b = w * 64 + bit;
                let own = |m: &LinearModel| m.index.get(b).copied().unwrap_or(0);
                if models.iter().all(|m| own(m) == 0) {
                    continue;
                }
                *word |= 1 << bit;
                set += 1;
                for m in models {
                    let (r, k) = (own(m), m.classes());
                    let start = (r as usize).saturating_sub(1) * k;
                    match m.rows.get(start..start + k).filter(|_| r != 0) {
                        Some(row) => rows.extend_from_slice(row),
                        None => rows.extend(std::iter::repeat_n(0.0, k)),
                    }
                }
            }
        }
        Some(Self {
            spec,
            present,
            rank,
            rows,
            width,
            biases: models.iter().map(|m| m.bias.clone()).collect(),
        })
    }

    pub fn spec(&self) -> FeatureSpec {
        self.spec
    }

    /// The row number of `bucket`, when some model has weights there.
    fn row_of(&self, bucket: u32) -> Option<usize> {
        let (w, bit) = ((bucket >> 6) as usize, bucket & 63);
        let word = *self.present.get(w)?;
        if word >> bit & 1 == 0 {
            return None;
        }
        Some(self.rank[w] as usize + (word & ((1u64 << bit) - 1)).count_ones() as usize)
    }

    /// Each model's raw class scores for `x`, in the order the models were given.
    pub fn scores(&self, x: &Features) -> Vec<Vec<f32>> {
        let mut flat: Vec<f32> = self.biases.concat();
        // In chunks: first the rows the features have (the bitmap and its counts stay in
        // cache), then their weights, so that the reads from the large weight table neither
        // wait on each other nor on a branch. The sums are taken in the features' order, as
        // one by one.
        const CHUNK: usize = 64;
        let mut found = [(0usize, 0f32); CHUNK];
        for chunk in x.chunks(CHUNK) {
            let mut n = 0;
            for &(bucket, v) in chunk {
                if let Some(r) = self.row_of(bucket) {
                    found[n] = (r, v);
                    n += 1;
                }
            }
            match self.width {
                // The shipped emotion and offensive models (4 + 2 classes), and with them
                // the complaint model (+ 2): sums held in registers.
                6 => self.accumulate::<6>(&found[..n], &mut flat),
                8 => self.accumulate::<8>(&found[..n], &mut flat),
                _ => {
                    for &(r, v) in &found[..n] {
                        let row = self.rows.get(r * self.width..(r + 1) * self.width);
                        for (o, w) in flat.iter_mut().zip(row.unwrap_or_default()) {
                            *o += w * v;
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(self.biases.len());
        let mut rest = flat.as_slice();
        for b in &self.biases {
            let (head, tail) = rest.split_at(b.len().min(rest.len()));
            out.push(head.to_vec());
            rest = tail;
        }
        out
    }

    /// Adds each found row times its value into `flat`, for rows of `N` floats (the shipped
    /// emotion and offensive models together: 4 + 2).
    fn accumulate<const N: usize>(&self, found: &[(usize, f32)], flat: &mut [f32]) {
        let mut sum = [0f32; N];
        sum.copy_from_slice(&flat[..N]);
        for &(r, v) in found {
            let row: Option<&[f32; N]> = self
                .rows
                .get(r * N..(r + 1) * N)
                .and_then(|row| row.try_into().ok());
            for (o, w) in sum.iter_mut().zip(row.into_iter().flatten()) {
                *o += w * v;
            }
        }
        flat[..N].copy_from_slice(&sum);
    }
}

pub fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 {
        for x in v.iter_mut() {
            *x /= sum;
        }
    }
}

pub fn argmax(v: &[f32]) -> (usize, f32) {
    v.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, x)| {
            if x > best.1 { (i, x) } else { best }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(confidence: f32, right: bool, gold_is_fallback: bool) -> Outcome {
        Outcome {
            confidence,
            right,
            gold_is_fallback,
        }
    }

    #[test]
    fn the_reject_threshold_takes_the_unsure_out_of_scope_answers_and_spares_the_rest() {
        let mut v = vec![outcome(0.9, true, false); 5];
        // Out of scope, answered with an in-scope label, unsure.
        v.extend([outcome(0.30, false, true); 3]);
        // In scope and right, but only just above them.
        v.push(outcome(0.35, true, false));
        let t = Reject::best_threshold(&v);
        assert!((t - 0.31).abs() < 1e-6, "{t}");
        assert_eq!(v.iter().filter(|o| o.right_under(t)).count(), 9);
        // Nothing to gain from rejecting: no threshold at all.
        assert_eq!(
            Reject::best_threshold(&[outcome(0.4, true, false), outcome(0.2, true, false)]),
            0.0
        );
        assert_eq!(Reject::best_threshold(&[]), 0.0);
    }
}
