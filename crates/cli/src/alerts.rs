//! `alerts …`: the live spike detector on a series from a file, and its measurement on the
//! Numenta Anomaly Benchmark. Both use `sb_alerts` with its default configuration, the one
//! live alerting uses; nothing here decides anything about anomalies.

use anyhow::Context;
use clap::Subcommand;
use sb_alerts::{Series, VolumeConfig};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Score a `timestamp,value` CSV series point by point, as live alerting would, and write
    /// `timestamp,value,anomaly_score` (0..1) to stdout.
    Detect {
        /// CSV with a `timestamp,value` header (`-` for stdin). Timestamps: RFC 3339,
        /// `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds; one row per bucket, in time order.
        #[arg(long, value_name = "CSV")]
        input: PathBuf,
    },
    /// Run the spike detector over a NAB corpus directory (`data/`, `labels/`, optional
    /// `results/`) and print its NAB scores beside the published ones.
    Nab {
        /// The corpus directory, e.g. a copy of NAB's realTweets files.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
}

pub fn run(command: AlertsCommand) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Detect { input } => detect(&input),
        AlertsCommand::Nab { data } => nab(&data),
    }
}

fn read_series(input: &Path) -> anyhow::Result<Series> {
    let series = if input == Path::new("-") {
        Series::read(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot read {}", input.display()))?;
        Series::read(std::io::BufReader::new(file))
    };
    series.with_context(|| format!("{} is not a timestamp,value series", input.display()))
}

fn detect(input: &Path) -> anyhow::Result<()> {
    let series = read_series(input)?;
    let scores = sb_alerts::score_series(&VolumeConfig::default(), &series);
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(std::io::stdout().lock()));
    let write_err = |e: csv::Error| anyhow::anyhow!("cannot write the scores: {e}");
    out.write_record(["timestamp", "value", "anomaly_score"])
        .map_err(write_err)?;
    for ((ts, value), score) in series
        .raw_timestamps
        .iter()
        .zip(&series.values)
        .zip(&scores)
    {
        out.write_record([ts.as_str(), &value.to_string(), &format!("{score:.6}")])
            .map_err(write_err)?;
    }
    out.flush().context("cannot write the scores")
}

fn nab(dir: &Path) -> anyhow::Result<()> {
    let files = sb_alerts::nab::load(dir)
        .with_context(|| format!("cannot load the NAB corpus in {}", dir.display()))?;
    let published = sb_alerts::nab::published::load(dir)?;
    let rows: usize = files.iter().map(|f| f.series.len()).sum();
    let report = sb_alerts::nab::report(&VolumeConfig::default(), &files, published);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "NAB: {} files, {rows} points, {dir}; spike detector with its default (live) configuration\n",
        files.len(),
        dir = dir.display()
    )?;
    write!(out, "{report}")?;
    Ok(())
}
