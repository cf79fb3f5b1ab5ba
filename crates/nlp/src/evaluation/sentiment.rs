//! Sentiment rows: VADER's human-rated tweets and TweetEval's 3-class sentiment test.

use super::{Row, read, report_for, tweeteval};
use crate::SentimentModel;
use crate::model::{Report, metrics};
use sb_domain::SentimentLabel;
use std::path::Path;

/// `id<TAB>mean<TAB>text` lines with CRLF endings and, in one file, a BOM.
fn vader_ground_truth(path: &Path) -> Result<Vec<(f64, String)>, String> {
    let raw = read(path)?;
    let mut out = Vec::new();
    for line in raw.trim_start_matches('\u{feff}').lines() {
        let mut parts = line.trim_end_matches('\r').splitn(3, '\t');
        let (Some(_), Some(mean), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if let Ok(m) = mean.trim().parse::<f64>() {
            out.push((m, text.to_owned()));
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no rows", path.display()));
    }
    Ok(out)
}

fn sentiment_index(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

fn three_labels() -> Vec<String> {
    ["negative", "neutral", "positive"]
        .map(String::from)
        .to_vec()
}

/// Support-weighted F1 (scikit-learn's `average="weighted"`).
fn weighted_f1(r: &Report) -> f64 {
    let total = r.total() as f64;
    if total == 0.0 {
        return 0.0;
    }
    (0..r.labels.len())
        .map(|c| r.f1(c) * r.confusion[c].iter().sum::<usize>() as f64 / total)
        .sum()
}

pub(super) fn vader_tweets(dir: &Path) -> Vec<Row> {
    let r = Row::new("sentiment intensity", "VADER tweets (4,200)", "Pearson r")
        .target(0.88)
        .published("VADER 0.881 (paper), 0.872 (3.3.2)");
    let f = Row::new(
        "3-class sentiment",
        "VADER tweets, gold = sign(mean)",
        "weighted F1",
    )
    .target(0.95)
    .published("VADER 0.96 (paper), 0.948 (3.3.2)");
    let data = match vader_ground_truth(&dir.join("vader_groundtruth/tweets_GroundTruth.txt")) {
        Ok(d) => d,
        Err(e) => return vec![r.ours(Err(e.clone())), f.ours(Err(e))],
    };
    let model = SentimentModel::new();
    let mut ours = Vec::with_capacity(data.len());
    let mut report = Report::new(three_labels());
    for (mean, text) in &data {
        let s = model.score(text);
        ours.push(s.compound);
        let gold = if *mean > 0.0 {
            2
        } else if *mean < 0.0 {
            0
        } else {
            1
        };
        report.add(gold, sentiment_index(s.label));
    }
    let gold: Vec<f64> = data.iter().map(|d| d.0).collect();
    vec![
        r.ours(Ok(metrics::pearson(&ours, &gold))),
        f.ours(Ok(weighted_f1(&report))),
    ]
}

pub(super) fn tweeteval_sentiment(dir: &Path) -> Row {
    let row = Row::new(
        "3-class sentiment",
        "TweetEval sentiment test (12,284)",
        "macro-recall",
    )
    .target(0.62)
    .published("VADER 0.570, fastText 0.629, best 0.737");
    let test = match tweeteval(dir, "sentiment", "test") {
        Ok(t) => t,
        Err(e) => return row.ours(Err(e)),
    };
    let model = SentimentModel::new();
    let report = report_for(
        &["negative", "neutral", "positive"],
        test.iter().map(|t| {
            let l = model.score(&t.text).label;
            (t.label.clone(), three_labels()[sentiment_index(l)].clone())
        }),
    );
    row.ours(Ok(report.macro_recall()))
}
