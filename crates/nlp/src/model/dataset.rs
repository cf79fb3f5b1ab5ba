//! A labelled data set with its features extracted once, and the splits a held-out report
//! needs: a stratified hold-out and stratified k folds, both deterministic from a seed.

use super::data::LabelledText;
use super::features::{FeatureSpec, Features};
use super::linear::{LinearModel, Outcome, Reject};
use super::metrics::Report;
use super::train::{Example, SplitMix, TrainConfig, train};

pub struct Dataset {
    /// Sorted label names; examples refer to them by index.
    pub labels: Vec<String>,
    examples: Vec<Example>,
}

/// Indices of the training part and of the evaluation part.
pub type Split = (Vec<usize>, Vec<usize>);

impl Dataset {
    pub fn new(rows: &[LabelledText], spec: FeatureSpec) -> Self {
        let mut labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
        labels.sort();
        labels.dedup();
        let examples = rows
            .iter()
            .map(|r| {
                let mut x = Vec::new();
                spec.extract(&r.text, &mut x);
                let y = labels.binary_search(&r.label).unwrap_or(0);
                (x, y)
            })
            .collect();
        Self { labels, examples }
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    pub fn features(&self, i: usize) -> Option<&Features> {
        self.examples.get(i).map(|e| &e.0)
    }

    /// Example indices per class, each class shuffled.
    fn by_class(&self, seed: u64) -> Vec<Vec<usize>> {
        let mut per = vec![Vec::new(); self.labels.len()];
        for (i, (_, y)) in self.examples.iter().enumerate() {
            if let Some(v) = per.get_mut(*y) {
                v.push(i);
            }
        }
        let mut rng = SplitMix(seed);
        for v in &mut per {
            rng.shuffle(v);
        }
        per
    }

    /// Hold out `share` of every class (at least one example of classes with two or more).
    pub fn holdout(&self, share: f64, seed: u64) -> Split {
        let (mut tr, mut te) = (Vec::new(), Vec::new());
        for v in self.by_class(seed) {
            let mut n = (v.len() as f64 * share).round() as usize;
            if share > 0.0 && n == 0 && v.len() >= 2 {
                n = 1;
            }
            te.extend_from_slice(&v[..n]);
            tr.extend_from_slice(&v[n..]);
        }
        (tr, te)
    }

    /// Stratified k-fold: every example is evaluated exactly once.
    pub fn folds(&self, k: usize, seed: u64) -> Vec<Split> {
        let k = k.max(2);
        let mut fold_of = vec![0usize; self.len()];
        let mut next = 0;
        for v in self.by_class(seed) {
            for i in v {
                fold_of[i] = next % k;
                next += 1;
            }
        }
        (0..k)
            .map(|f| {
                let (te, tr): (Vec<usize>, Vec<usize>) =
                    (0..self.len()).partition(|&i| fold_of[i] == f);
                (tr, te)
            })
            .collect()
    }

    pub fn train(
        &self,
        task: &str,
        idx: &[usize],
        cfg: &TrainConfig,
        progress: &mut dyn FnMut(usize, usize),
    ) -> LinearModel {
        let part: Vec<Example> = idx
            .iter()
            .filter_map(|&i| self.examples.get(i).cloned())
            .collect();
        train(task, self.labels.clone(), &part, cfg, progress)
    }

    /// The model's answer for each of `idx`: gold label, predicted label and its probability.
    pub fn predictions(&self, m: &LinearModel, idx: &[usize]) -> Vec<Held> {
        idx.iter()
            .filter_map(|&i| self.examples.get(i))
            .map(|(x, y)| {
                let p = m.predict_features(x);
                Held {
                    gold: *y,
                    class: p.class,
                    confidence: p.confidence,
                }
            })
            .collect()
    }

    /// Add predictions for `idx` to `report`, whose labels are matched by name (so a report
    /// can carry an extra out-of-scope label).
    pub fn evaluate(
        &self,
        m: &LinearModel,
        reject: Option<&Reject>,
        idx: &[usize],
        report: &mut Report,
    ) {
        self.report(&self.predictions(m, idx), reject, report);
    }

    /// Add held-out answers to `report` as [`Dataset::evaluate`] does: below the reject
    /// threshold the answer is the fallback label.
    pub fn report(&self, held: &[Held], reject: Option<&Reject>, report: &mut Report) {
        let pos = |name: &str| report.labels.iter().position(|l| l == name);
        let fallback = reject.and_then(|r| pos(&r.fallback));
        let names: Vec<Option<usize>> = self.labels.iter().map(|l| pos(l)).collect();
        let hits: Vec<(usize, usize)> = held
            .iter()
            .filter_map(|h| {
                let predicted = match reject {
                    Some(r) if h.confidence < r.threshold => fallback,
                    _ => names.get(h.class).copied().flatten(),
                };
                Some((names.get(h.gold).copied().flatten()?, predicted?))
            })
            .collect();
        for (g, p) in hits {
            report.add(g, p);
        }
    }

    /// A held-out answer as a reject threshold sees it; `fallback` is the reject label.
    pub fn outcome(&self, h: &Held, fallback: &str) -> Outcome {
        Outcome {
            confidence: h.confidence,
            right: h.class == h.gold,
            gold_is_fallback: self.labels.get(h.gold).is_some_and(|l| l == fallback),
        }
    }
}

/// One held-out answer: label indices into [`Dataset::labels`].
#[derive(Clone, Copy, Debug)]
pub struct Held {
    pub gold: usize,
    pub class: usize,
    pub confidence: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<LabelledText> {
        (0..n)
            .map(|i| LabelledText {
                text: format!("message {i}"),
                label: if i % 3 == 0 { "a" } else { "b" }.to_owned(),
            })
            .collect()
    }

    #[test]
    fn folds_cover_every_example_once_and_keep_class_shares() {
        let set = Dataset::new(
            &rows(30),
            FeatureSpec {
                bits: 10,
                ..FeatureSpec::default()
            },
        );
        let folds = set.folds(5, 1);
        let mut seen = [0; 30];
        for (tr, te) in &folds {
            assert_eq!(tr.len() + te.len(), 30);
            assert_eq!(te.len(), 6);
            // 10 "a" over 5 folds: two per fold.
            assert_eq!(te.iter().filter(|&&i| i % 3 == 0).count(), 2);
            for &i in te {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn holdout_is_stratified_and_disjoint() {
        let set = Dataset::new(
            &rows(30),
            FeatureSpec {
                bits: 10,
                ..FeatureSpec::default()
            },
        );
        let (tr, te) = set.holdout(0.2, 3);
        assert_eq!(te.len(), 6);
        assert!(te.iter().all(|i| !tr.contains(i)));
        assert_eq!(set.labels, ["a", "b"]);
    }
}
