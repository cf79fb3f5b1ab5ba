//! Classification metrics as the public benchmarks define them: accuracy, macro-F1,
//! macro-recall and per-class figures, plus Pearson correlation for intensity scores.

use std::fmt::Write as _;

/// Confusion counts for a fixed label set.
#[derive(Clone, Debug)]
pub struct Report {
    pub labels: Vec<String>,
    /// confusion[gold][predicted]
    pub confusion: Vec<Vec<usize>>,
}

impl Report {
    pub fn new(labels: Vec<String>) -> Self {
        let k = labels.len();
        Self {
            labels,
            confusion: vec![vec![0; k]; k],
        }
    }

    pub fn add(&mut self, gold: usize, predicted: usize) {
        if let Some(c) = self
            .confusion
            .get_mut(gold)
            .and_then(|row| row.get_mut(predicted))
        {
            *c += 1;
        }
    }

    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.labels.len()).map(|i| self.confusion[i][i]).sum();
        ratio(right, self.total())
    }

    fn support(&self, c: usize) -> usize {
        self.confusion[c].iter().sum()
    }

    fn predicted(&self, c: usize) -> usize {
        self.confusion.iter().map(|row| row[c]).sum()
    }

    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.confusion[c][c], self.support(c))
    }

    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.confusion[c][c], self.predicted(c))
    }

    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Mean over classes that occur in gold or predictions (scikit-learn's convention for
    /// labels present in the data).
    fn macro_of(&self, f: impl Fn(usize) -> f64) -> f64 {
        let present: Vec<usize> = (0..self.labels.len())
            .filter(|&c| self.support(c) + self.predicted(c) > 0)
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&c| f(c)).sum::<f64>() / present.len() as f64
    }

    pub fn macro_f1(&self) -> f64 {
        self.macro_of(|c| self.f1(c))
    }

    pub fn macro_recall(&self) -> f64 {
        self.macro_of(|c| self.recall(c))
    }

    /// Human-readable summary with per-class rows.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "examples {}  accuracy {:.4}  macro-F1 {:.4}  macro-recall {:.4}",
            self.total(),
            self.accuracy(),
            self.macro_f1(),
            self.macro_recall()
        );
        let _ = writeln!(
            s,
            "{:<32} {:>9} {:>9} {:>9} {:>8}",
            "label", "precision", "recall", "F1", "support"
        );
        for (c, l) in self.labels.iter().enumerate() {
            let _ = writeln!(
                s,
                "{:<32} {:>9.4} {:>9.4} {:>9.4} {:>8}",
                l,
                self.precision(c),
                self.recall(c),
                self.f1(c),
                self.support(c)
            );
        }
        s
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Pearson correlation of two equally long series.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_scores_match_hand_computation() {
        let mut r = Report::new(vec!["a".into(), "b".into()]);
        for (g, p) in [(0, 0), (0, 0), (0, 1), (1, 1)] {
            r.add(g, p);
        }
        assert!((r.accuracy() - 0.75).abs() < 1e-12);
        // a: P=1 R=2/3 F1=0.8; b: P=0.5 R=1 F1=2/3
        assert!((r.macro_f1() - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((r.macro_recall() - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn pearson_of_a_line_is_one() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
    }
}
