//! The public benchmarks (B9): each reads one data set in the `shared/datasets` layout,
//! measures the product as shipped (or trains on the train split only, for the trained
//! rows) and returns our figure beside the target and the published reference. Test splits
//! are only ever predicted, never trained or tuned on.

mod intent;
mod moderation;
mod sentiment;

use crate::model::{LabelledText, Report, TrainConfig, read_labelled};
use std::fmt::Write as _;
use std::path::Path;

/// One line of the benchmark table.
#[derive(Clone, Debug)]
pub struct Row {
    pub task: &'static str,
    pub data: &'static str,
    pub metric: &'static str,
    /// Our figure, or why it could not be measured.
    pub ours: Result<f64, String>,
    /// The figure issue 4 asks for, when there is one.
    pub target: Option<f64>,
    pub published: &'static str,
}

impl Row {
    fn new(task: &'static str, data: &'static str, metric: &'static str) -> Self {
        Self {
            task,
            data,
            metric,
            ours: Err("not run".into()),
            target: None,
            published: "",
        }
    }
    fn target(mut self, t: f64) -> Self {
        self.target = Some(t);
        self
    }
    fn published(mut self, p: &'static str) -> Self {
        self.published = p;
        self
    }
    fn ours(mut self, r: Result<f64, String>) -> Self {
        self.ours = r;
        self
    }
    pub fn met(&self) -> Option<bool> {
        match (&self.ours, self.target) {
            (Ok(v), Some(t)) => Some(*v + 5e-4 >= t),
            _ => None,
        }
    }
}

/// The training recipe the accuracy rows use (the `switchboard nlp train` defaults).
pub fn train_config() -> TrainConfig {
    TrainConfig::default()
}

/// The recipe for rows scored by macro-F1 over unequal classes: `nlp train --balanced
/// --learning-rate 0.2`, the setting chosen on 2026-12-04 on the TweetEval emotion and
/// offensive validation splits for the shipped models, carried over unchanged (nothing chosen
/// on the row's data). The shipped models have since been trained with their own learning
/// rates and epochs (docs/EVALUATION.md, "Gentler training"); this recipe stays as it was.
pub fn macro_f1_config() -> TrainConfig {
    TrainConfig {
        balanced: true,
        learning_rate: 0.2,
        ..TrainConfig::default()
    }
}

/// Run every benchmark under `dir`. `progress` receives the name of each as it starts.
pub fn run_all(dir: &Path, progress: &mut dyn FnMut(&str)) -> Vec<Row> {
    let mut rows = Vec::new();
    progress("VADER tweets");
    rows.extend(sentiment::vader_tweets(dir));
    progress("TweetEval sentiment");
    rows.push(sentiment::tweeteval_sentiment(dir));
    progress("complaints");
    rows.extend(intent::complaints(dir));
    progress("BANKING77");
    rows.push(intent::banking77(dir));
    progress("CLINC150");
    rows.extend(intent::clinc150(dir));
    progress("TweetEval offensive");
    rows.push(moderation::offensive(dir));
    progress("TweetEval emotion");
    rows.push(moderation::emotion(dir));
    progress("metric check");
    rows.push(moderation::metric_check(dir));
    rows
}

/// A Markdown table; `met` compares our figure with the target.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| task | data | metric | ours | target | met | published reference |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for r in rows {
        let ours = match &r.ours {
            Ok(v) => format!("{v:.3}"),
            Err(e) => format!("n/a ({e})"),
        };
        let target = r.target.map_or(String::new(), |t| format!("{t:.2}"));
        let met = match r.met() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.task, r.data, r.metric, ours, target, met, r.published
        );
    }
    s
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn tweeteval(dir: &Path, task: &str, split: &str) -> Result<Vec<LabelledText>, String> {
    read_labelled(&dir.join(format!("tweeteval/{task}/{split}_text.txt")))
}

fn report_for(labels: &[&str], pairs: impl Iterator<Item = (String, String)>) -> Report {
    let mut report = Report::new(labels.iter().map(|l| (*l).to_owned()).collect());
    for (gold, predicted) in pairs {
        let pos = |x: &str| labels.iter().position(|l| *l == x);
        if let (Some(g), Some(p)) = (pos(&gold), pos(&predicted)) {
            report.add(g, p);
        }
    }
    report
}
