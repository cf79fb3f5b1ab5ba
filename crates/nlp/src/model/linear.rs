//! A multinomial logistic-regression model over hashed features, and its file format.
//! Only buckets that training touched are stored, so files stay small and hold no text.

use super::features::{FeatureSpec, Features};
use std::fmt;

const MAGIC: &[u8; 5] = b"SBLM1";

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

    /// The label to report, applying the out-of-scope rule when the model has one.
    pub fn label_of(&self, p: &Prediction) -> &str {
        match &self.reject {
            Some(r) if p.confidence < r.threshold => &r.fallback,
            _ => self.labels.get(p.class).map_or("", String::as_str),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.rows.len() * 4);
        b.extend_from_slice(MAGIC);
        put_str(&mut b, &self.task);
        b.extend_from_slice(&[
            self.spec.bits,
            self.spec.word_ngrams,
            self.spec.char_min,
            self.spec.char_max,
        ]);
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
        if r.take(MAGIC.len())? != MAGIC {
            return Err(ModelError("not a Switchboard model".into()));
        }
        let task = r.string()?;
        let s = r.take(4)?;
        let spec = FeatureSpec {
            bits: s[0],
            word_ngrams: s[1],
            char_min: s[2],
            char_max: s[3],
        };
        if !(8..=24).contains(&spec.bits) || spec.char_min > spec.char_max {
            return Err(ModelError("bad feature settings".into()));
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
