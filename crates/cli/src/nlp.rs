//! `switchboard nlp`: the message analysis as a filter (`analyze`), operator-trained
//! classifiers (`train`, `eval`) and the public benchmark run (`eval --benchmarks`).
//! Everything here is a thin shell over `sb_nlp`; it owns reading, writing and progress.

use crate::config::NlpSection;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sb_nlp::model::{self, LabelledText, LinearModel, Reject, TrainConfig};
use sb_nlp::{Analysis, Analyzer, SentimentModel, Watchlist};
use serde::Serialize;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum NlpCommand {
    /// Read JSONL `{"id","text"}` on stdin, write one JSONL analysis per line on stdout.
    ///
    /// An optional `"language"` field (ISO 639-1) is assumed when the text is too short
    /// to identify.
    Analyze(AnalyzeArgs),
    /// Train a classifier on labelled CSV/JSONL (`text,label`) and report a held-out score.
    Train(TrainArgs),
    /// Evaluate a trained model on labelled data, or run every public benchmark.
    Eval(EvalArgs),
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Watchlist file, one `list,term` per line.
    #[arg(long, value_name = "FILE")]
    watchlist: Option<PathBuf>,
    /// Operator-trained topic model (from `switchboard nlp train`).
    #[arg(long, value_name = "MODEL")]
    topic_model: Option<PathBuf>,
    /// Operator-trained intent model (labels complaint/inquiry/praise/other), answering in
    /// place of the out-of-the-box rules.
    #[arg(long, value_name = "MODEL")]
    intent_model: Option<PathBuf>,
    /// Industry sentiment terms, one `term,weight` per line (weight on VADER's −4..4 scale).
    #[arg(long, value_name = "FILE")]
    sentiment_terms: Option<PathBuf>,
}

#[derive(Args)]
pub struct DataArgs {
    /// Labelled data: CSV with `text` and `label` columns, JSONL, or TweetEval `*_text.txt`.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// The CSV has no header; take text and label from these 1-based columns.
    #[arg(long, value_names = ["TEXT_COL", "LABEL_COL"], num_args = 2)]
    columns: Option<Vec<usize>>,
}

#[derive(Args)]
pub struct TrainArgs {
    /// What the model is for, e.g. `topic`, `intent`, `complaint`, `emotion`.
    #[arg(long)]
    task: String,
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the model.
    #[arg(long, value_name = "MODEL")]
    out: PathBuf,
    /// Share of the data held out for the report.
    #[arg(long, default_value_t = 0.1)]
    holdout: f64,
    /// Report stratified k-fold cross-validation instead of one held-out split.
    #[arg(long, value_name = "K")]
    folds: Option<usize>,
    /// Write the model trained without the held-out part (default: refit on all data).
    #[arg(long)]
    no_refit: bool,
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: usize,
    /// log2 of the number of hashed feature buckets.
    #[arg(long, default_value_t = TrainConfig::default().spec.bits)]
    bits: u8,
    /// Weight classes inversely to their frequency.
    #[arg(long)]
    balanced: bool,
    /// Answer `--reject-label` when the top probability is below this; `auto` picks the
    /// threshold with the best accuracy on the held-out predictions (which should then
    /// include examples labelled `--reject-label`).
    #[arg(long, value_name = "P|auto", value_parser = parse_reject_below)]
    reject_below: Option<RejectBelow>,
    #[arg(long, default_value = "other")]
    reject_label: String,
    #[arg(long, default_value_t = TrainConfig::default().learning_rate)]
    learning_rate: f32,
    /// Character n-gram lengths inside words (0 0 turns them off).
    #[arg(long, value_names = ["MIN", "MAX"], num_args = 2)]
    char_ngrams: Option<Vec<u8>>,
    /// Leave out the clusters of words used alike that each known English word also counts
    /// as (on by default).
    #[arg(long)]
    no_word_clusters: bool,
    /// Also give the model the text's sentiment compound (the product's VADER score) as a
    /// feature; helps tasks where polarity matters, such as emotion or offensive language.
    #[arg(long)]
    sentiment_features: bool,
    /// Also give the model how many swear words and insults of the shipped English list the
    /// text uses; helps offensive language and emotion.
    #[arg(long)]
    abuse_features: bool,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// `--reject-below`: a fixed probability, or chosen on the held-out predictions.
#[derive(Clone, Copy, Debug)]
pub enum RejectBelow {
    Fixed(f32),
    Auto,
}

fn parse_reject_below(s: &str) -> Result<RejectBelow, String> {
    if s == "auto" {
        return Ok(RejectBelow::Auto);
    }
    match s.parse::<f32>() {
        Ok(p) if p.is_finite() => Ok(RejectBelow::Fixed(p)),
        _ => Err(format!("`{s}` is neither a probability nor `auto`")),
    }
}

#[derive(Args)]
pub struct EvalArgs {
    /// The model to evaluate.
    #[arg(long, value_name = "MODEL", required_unless_present = "benchmarks")]
    model: Option<PathBuf>,
    /// Labelled data to evaluate on.
    #[arg(long, value_name = "FILE", required_unless_present = "benchmarks")]
    data: Option<PathBuf>,
    #[arg(long, value_names = ["TEXT_COL", "LABEL_COL"], num_args = 2)]
    columns: Option<Vec<usize>>,
    /// Run every public benchmark in this folder (shared/datasets layout) and print our
    /// figures beside the published ones.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["model", "data"])]
    benchmarks: Option<PathBuf>,
}

pub fn run(cmd: NlpCommand) -> anyhow::Result<()> {
    match cmd {
        NlpCommand::Analyze(a) => analyze(&a),
        NlpCommand::Train(t) => train(&t),
        NlpCommand::Eval(e) => eval(&e),
    }
}

fn load_model(path: &Path) -> anyhow::Result<LinearModel> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    LinearModel::from_bytes(&bytes).with_context(|| path.display().to_string())
}

fn build_analyzer(a: &AnalyzeArgs) -> anyhow::Result<Analyzer> {
    analyzer_from(&NlpSection {
        sentiment_terms: a.sentiment_terms.clone(),
        watchlist: a.watchlist.clone(),
        topic_model: a.topic_model.clone(),
        intent_model: a.intent_model.clone(),
    })
}

/// The analyzer with the operator's industry sentiment terms, watchlist, topic and intent
/// models, as `nlp analyze` and the pipeline use it.
pub fn analyzer_from(files: &NlpSection) -> anyhow::Result<Analyzer> {
    let mut an = Analyzer::new();
    if let Some(p) = &files.sentiment_terms {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        let mut terms = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .rsplit_once([',', '\t'])
                .and_then(|(t, w)| Some((t.trim().to_owned(), w.trim().parse::<f64>().ok()?)));
            let Some(term) = parsed else {
                bail!("{} line {}: expected `term,weight`", p.display(), n + 1);
            };
            terms.push(term);
        }
        an = an.with_sentiment(SentimentModel::new().with_terms(terms));
    }
    if let Some(p) = &files.watchlist {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        an = an.with_watchlist(Watchlist::parse(&text)?);
    }
    if let Some(p) = &files.topic_model {
        an = an.with_topic_model(load_model(p)?);
    }
    if let Some(p) = &files.intent_model {
        an = an
            .with_intent_model(load_model(p)?)
            .with_context(|| p.display().to_string())?;
    }
    Ok(an)
}

/// The configuration file's watchlist as `(list, term)`, for the server to show.
pub fn config_watch_terms(watchlist: Option<&Path>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(p) = watchlist else {
        return Ok(Vec::new());
    };
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(Watchlist::parse(&text)?
        .terms()
        .iter()
        .map(|t| (t.list.clone(), t.term.clone()))
        .collect())
}

#[derive(Serialize)]
struct AnalyzedLine<'a> {
    id: &'a serde_json::Value,
    #[serde(flatten)]
    analysis: Analysis,
}

#[derive(Serialize)]
struct LineError<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a serde_json::Value>,
    line: usize,
    error: String,
}

/// One input line to one output line; a bad line becomes an error object in its place so
/// the output stays aligned with the input.
fn analyze_line(an: &Analyzer, n: usize, raw: &[u8], out: &mut impl Write) -> anyhow::Result<()> {
    let parsed: Result<serde_json::Value, String> = std::str::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
        .and_then(|s| serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}")));
    let err = |id, error: String| LineError { id, line: n, error };
    match parsed {
        Err(e) => serde_json::to_writer(&mut *out, &err(None, e))?,
        Ok(v) => match (v.get("id"), v.get("text")) {
            (Some(id), Some(serde_json::Value::String(text))) => {
                // Optional: the customer's language, used when the text is too short to tell.
                let hint = v.get("language").and_then(serde_json::Value::as_str);
                let analysis = an.analyze_with_language(text, hint);
                serde_json::to_writer(&mut *out, &AnalyzedLine { id, analysis })?;
            }
            (None, _) => serde_json::to_writer(&mut *out, &err(None, "missing \"id\"".into()))?,
            (id, None) => serde_json::to_writer(&mut *out, &err(id, "missing \"text\"".into()))?,
            (id, Some(_)) => {
                serde_json::to_writer(&mut *out, &err(id, "\"text\" must be a string".into()))?
            }
        },
    }
    out.write_all(b"\n")?;
    Ok(())
}

fn analyze(a: &AnalyzeArgs) -> anyhow::Result<()> {
    let an = build_analyzer(a)?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
            break;
        }
        n += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(e) = analyze_line(&an, n, line, &mut out) {
            // A closed stdout (`| head`) ends the run quietly.
            if is_broken_pipe(&e) {
                return Ok(());
            }
            return Err(e);
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing stdout"),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

/// Write a report to stdout; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing stdout"),
    }
}

fn read_data(path: &Path, columns: Option<&[usize]>) -> anyhow::Result<Vec<LabelledText>> {
    let rows = match columns {
        Some(&[t, l]) => model::data::read_csv_columns(path, t, l),
        _ => model::read_labelled(path),
    }
    .map_err(anyhow::Error::msg)?;
    if rows.is_empty() {
        bail!("{} holds no labelled examples", path.display());
    }
    Ok(rows)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {{msg}}"
    )) {
        pb.set_style(style);
    }
    pb
}

fn train(t: &TrainArgs) -> anyhow::Result<()> {
    let rows = read_data(&t.data.data, t.data.columns.as_deref())?;
    if !(0.0..1.0).contains(&t.holdout) {
        bail!("--holdout must be in 0..1");
    }
    if !(8..=24).contains(&t.bits) {
        bail!("--bits must be between 8 and 24");
    }
    let mut cfg = TrainConfig {
        epochs: t.epochs.max(1),
        learning_rate: t.learning_rate,
        balanced: t.balanced,
        seed: t.seed,
        ..TrainConfig::default()
    };
    cfg.spec.bits = t.bits;
    cfg.spec.clusters = !t.no_word_clusters;
    cfg.spec.sentiment = t.sentiment_features;
    cfg.spec.abuse = t.abuse_features;
    if let Some(&[lo, hi]) = t.char_ngrams.as_deref() {
        if lo > hi || hi > 8 {
            bail!("--char-ngrams MIN MAX needs MIN <= MAX <= 8");
        }
        (cfg.spec.char_min, cfg.spec.char_max) = (lo, hi);
    }
    let set = model::Dataset::new(&rows, cfg.spec);
    let shown: Vec<&str> = set.labels.iter().take(8).map(String::as_str).collect();
    let more = if set.labels.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    eprintln!(
        "{} examples, {} labels: {}{more}",
        rows.len(),
        set.labels.len(),
        shown.join(", ")
    );
    let folds = t.folds.unwrap_or(0);
    let splits = if folds >= 2 {
        set.folds(folds, t.seed)
    } else {
        vec![set.holdout(t.holdout, t.seed)]
    };
    let epochs_total = (splits.len() + usize::from(!t.no_refit)) * cfg.epochs;
    let pb = progress(epochs_total as u64, "training");
    let mut held = Vec::new();
    let mut last = None;
    for (train_idx, test_idx) in &splits {
        let m = set.train(&t.task, train_idx, &cfg, &mut |_, _| pb.inc(1));
        held.extend(set.predictions(&m, test_idx));
        last = Some(m);
    }
    let threshold = match t.reject_below {
        None => None,
        Some(RejectBelow::Fixed(p)) => Some(p),
        Some(RejectBelow::Auto) => {
            if held.is_empty() {
                pb.finish_and_clear();
                bail!(
                    "--reject-below auto needs held-out predictions: a --holdout above 0 or --folds"
                );
            }
            let outcomes: Vec<_> = held
                .iter()
                .map(|h| set.outcome(h, &t.reject_label))
                .collect();
            Some(Reject::best_threshold(&outcomes))
        }
    };
    let reject = threshold.map(|threshold| Reject {
        threshold,
        fallback: t.reject_label.clone(),
    });
    let mut m = if t.no_refit {
        last.context("nothing was trained")?
    } else {
        let all: Vec<usize> = (0..set.len()).collect();
        set.train(&t.task, &all, &cfg, &mut |_, _| pb.inc(1))
    };
    pb.finish_and_clear();
    // A rejected prediction must count (as the fallback label), not vanish from the report.
    let mut report_labels = set.labels.clone();
    if let Some(r) = &reject
        && !report_labels.contains(&r.fallback)
    {
        report_labels.push(r.fallback.clone());
    }
    let mut report = model::Report::new(report_labels);
    set.report(&held, reject.as_ref(), &mut report);
    if let (Some(RejectBelow::Auto), Some(r)) = (t.reject_below, &reject) {
        emit(&format!(
            "reject threshold {:.2}, chosen on the held-out predictions reported below\n",
            r.threshold
        ))?;
    }
    m.reject = reject;
    if report.total() > 0 {
        let how = if folds >= 2 {
            format!("{folds}-fold cross-validation")
        } else {
            format!("held-out {:.0}%", t.holdout * 100.0)
        };
        emit(&format!("{how}:\n{}", report.render()))?;
    }
    std::fs::write(&t.out, m.to_bytes())
        .with_context(|| format!("cannot write {}", t.out.display()))?;
    eprintln!("model written to {}", t.out.display());
    Ok(())
}

fn eval(e: &EvalArgs) -> anyhow::Result<()> {
    if let Some(dir) = &e.benchmarks {
        let pb = progress(0, "benchmarks");
        let rows = sb_nlp::evaluation::run_all(dir, &mut |name| {
            pb.set_message(name.to_owned());
            pb.tick();
        });
        pb.finish_and_clear();
        return emit(&sb_nlp::evaluation::render(&rows));
    }
    let (Some(model_path), Some(data)) = (&e.model, &e.data) else {
        bail!("give --model and --data, or --benchmarks DIR");
    };
    let m = load_model(model_path)?;
    let rows = read_data(data, e.columns.as_deref())?;
    let mut labels = m.labels.clone();
    if let Some(r) = &m.reject
        && !labels.contains(&r.fallback)
    {
        labels.push(r.fallback.clone());
    }
    let mut report = model::Report::new(labels.clone());
    let mut unknown = 0usize;
    for row in &rows {
        let p = m.predict(&row.text);
        let predicted = m.label_of(&p);
        match (
            labels.iter().position(|l| *l == row.label),
            labels.iter().position(|l| l == predicted),
        ) {
            (Some(g), Some(p)) => report.add(g, p),
            _ => unknown += 1,
        }
    }
    emit(&report.render())?;
    if unknown > 0 {
        emit(&format!(
            "{unknown} examples had a label the model does not know and were skipped\n"
        ))?;
    }
    Ok(())
}
