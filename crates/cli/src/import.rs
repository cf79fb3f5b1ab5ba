//! `import FILE`: bulk-loads messages from JSONL (one ingest object per line) or CSV (a header
//! row naming the ingest fields; `author` is the handle, `author_name` optional). Each line is
//! validated exactly as the API validates a request; a bad line is reported with its number
//! and skipped. Accepted lines are appended in batches, then the pipeline is drained.

use crate::app;
use crate::config::Config;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sb_domain::{Clock, MessageId, NewMessage, SystemClock};
use sb_pipeline::PipelineEvents;
use sb_store::{MessageRecord, Store};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;

const BATCH: usize = 1000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub imported: u64,
    pub duplicate: u64,
    pub rejected: u64,
}

enum Format {
    Jsonl,
    Csv,
}

fn format_of(path: &Path) -> anyhow::Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("jsonl" | "ndjson" | "json") => Ok(Format::Jsonl),
        Some("csv") => Ok(Format::Csv),
        _ => bail!(
            "cannot tell the format of {}: use a .jsonl or .csv file",
            path.display()
        ),
    }
}

struct Sink<'a> {
    store: &'a dyn Store,
    clock: SystemClock,
    pending: Vec<MessageRecord>,
    counts: ImportCounts,
}

impl Sink<'_> {
    async fn push(&mut self, m: NewMessage) -> anyhow::Result<()> {
        self.pending.push(MessageRecord {
            id: MessageId::generate(),
            received_at: self.clock.now(),
            message: m,
        });
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let out = self
            .store
            .append_messages(&self.pending)
            .await
            .context("writing to the database failed")?;
        for a in out {
            if a.duplicate {
                self.counts.duplicate += 1;
            } else {
                self.counts.imported += 1;
            }
        }
        self.pending.clear();
        Ok(())
    }

    fn reject(&mut self, line: u64, why: &str, bar: &ProgressBar) {
        self.counts.rejected += 1;
        bar.suspend(|| eprintln!("line {line}: {why}"));
    }
}

fn csv_record_to_json(headers: &csv::StringRecord, rec: &csv::StringRecord) -> Value {
    let mut obj = Map::new();
    let mut author = Map::new();
    for (h, v) in headers.iter().zip(rec.iter()) {
        if v.is_empty() {
            continue;
        }
        match h.trim() {
            "author" | "author_handle" => {
                author.insert("handle".into(), Value::String(v.to_owned()));
            }
            "author_name" => {
                author.insert("name".into(), Value::String(v.to_owned()));
            }
            "author_followers" => {
                let n = v
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.to_owned()));
                author.insert("followers".into(), n);
            }
            other => {
                obj.insert(other.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    if !author.is_empty() {
        obj.insert("author".into(), Value::Object(author));
    }
    Value::Object(obj)
}

pub async fn run(cfg: &Config, path: &Path) -> anyhow::Result<ImportCounts> {
    let format = format_of(path)?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = app::open_store(cfg).await?;
    // Built before anything is written, so a bad watchlist or model stops the import clean.
    let pipeline = app::pipeline(cfg, store.clone(), PipelineEvents::default())?;
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut sink = Sink {
        store: store.as_ref(),
        clock: SystemClock,
        pending: Vec::new(),
        counts: ImportCounts::default(),
    };
    let reader = bar.wrap_read(BufReader::new(file));
    match format {
        Format::Jsonl => {
            for (i, line) in BufReader::new(reader).lines().enumerate() {
                let n = i as u64 + 1;
                let line = match line {
                    Ok(l) => l,
                    Err(e) => {
                        sink.reject(n, &format!("unreadable: {e}"), &bar);
                        continue;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(&line) {
                    Err(e) => sink.reject(n, &format!("not valid JSON: {e}"), &bar),
                    Ok(v) => match NewMessage::parse(v) {
                        Err(e) => sink.reject(n, &format!("{} ({})", e.detail, e.code), &bar),
                        Ok(m) => sink.push(m).await?,
                    },
                }
                if n.is_multiple_of(1000) {
                    bar.set_message(format!("{n} lines"));
                }
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
            let headers = rdr
                .headers()
                .context("the CSV file has no header row")?
                .clone();
            for rec in rdr.records() {
                match rec {
                    Err(e) => {
                        let n = e.position().map_or(0, |p| p.line());
                        sink.reject(n, &format!("unreadable CSV: {e}"), &bar);
                    }
                    Ok(rec) => {
                        let n = rec.position().map_or(0, |p| p.line());
                        match NewMessage::parse(csv_record_to_json(&headers, &rec)) {
                            Err(e) => sink.reject(n, &format!("{} ({})", e.detail, e.code), &bar),
                            Ok(m) => sink.push(m).await?,
                        }
                    }
                }
            }
        }
    }
    sink.flush().await?;
    bar.finish_and_clear();
    let counts = std::mem::take(&mut sink.counts);
    let processed = pipeline
        .drain()
        .await
        .context("processing the imported messages failed")?;
    println!(
        "imported {}, duplicate {}, rejected {}",
        counts.imported, counts.duplicate, counts.rejected
    );
    tracing::info!(processed, "pipeline drained after import");
    Ok(counts)
}
