//! `switchboard alerts nab`: runs the live spike detector over a NAB directory, scores it
//! with every profile, prints our figures beside the published ones, and checks our scorer
//! against NAB's own published results in two ways:
//!
//! 1. the points we score inside and outside windows (after probation) must equal NAB's
//!    `TP+FN` and `TN+FP` for every file and every published detector;
//! 2. NAB's windowed-Gaussian baseline, re-run here (its scores rounded as NAB's result
//!    files round them) and scored at its published threshold, must reproduce its published
//!    per-file raw scores and point counts.

use super::corpus::{LabelledFile, run};
use super::published::PublishedRow;
use super::reference::{as_published, windowed_gaussian};
use super::scorer::{PROFILES, ProfileResult, STANDARD, ScoredFile, Tally, optimise, score_at};
use crate::detect::VolumeConfig;
use crate::score_series;
use std::fmt::{self, Write as _};

/// Published detectors shown beside ours.
const SHOWN: [&str; 4] = ["ARTime", "numenta", "twitterADVec", "windowedGaussian"];

pub struct NabReport {
    pub results: Vec<ProfileResult>,
    /// Per file: our windows, and the published raw standard score of each shown detector.
    files: Vec<(String, usize)>,
    published: Vec<PublishedRow>,
    /// Files whose windows, recomputed from the labels with NAB's rule, equal the windows
    /// file's, out of files with labels.
    pub windows_check: (usize, usize),
    /// Files whose scored points agree with NAB's counts, out of files with published rows.
    pub count_check: (usize, usize),
    /// The windowed-Gaussian re-run: per file (ours, published).
    pub reference: Vec<(String, Tally, Option<PublishedRow>)>,
}

impl NabReport {
    pub fn standard(&self) -> Option<&ProfileResult> {
        self.results
            .iter()
            .find(|r| r.profile.name == STANDARD.name)
    }
}

/// Scores the spike detector (one fresh detector per file) and checks the scorer.
pub fn report(
    cfg: &VolumeConfig,
    files: &[LabelledFile],
    published: Vec<PublishedRow>,
) -> NabReport {
    let scored = run(files, |s| score_series(cfg, s));
    let results = PROFILES.iter().map(|p| optimise(&scored, p)).collect();
    let standard_rows: Vec<PublishedRow> = published
        .into_iter()
        .filter(|r| r.profile == STANDARD.name)
        .collect();

    // Check 1: point counts inside and outside windows, from the null detector's view.
    let everything = score_at(&scored, &STANDARD, f64::INFINITY);
    let mut count_check = (0, 0);
    for (name, t) in &everything {
        let rows: Vec<&PublishedRow> = standard_rows
            .iter()
            .filter(|r| r.file_name() == name)
            .collect();
        if rows.is_empty() {
            continue;
        }
        count_check.1 += 1;
        if rows
            .iter()
            .all(|r| r.tp + r.fn_ == t.fn_points && r.tn + r.fp == t.tn)
        {
            count_check.0 += 1;
        }
    }

    // Check 2: the windowed-Gaussian baseline end to end.
    let reference = match standard_rows
        .iter()
        .find(|r| r.detector == "windowedGaussian")
        .map(|r| r.threshold)
    {
        None => Vec::new(),
        Some(threshold) => {
            let gaussian: Vec<ScoredFile> = run(files, |s| {
                let scores = windowed_gaussian(&s.values);
                scores.into_iter().map(as_published).collect()
            });
            score_at(&gaussian, &STANDARD, threshold)
                .into_iter()
                .map(|(name, tally)| {
                    let row = standard_rows
                        .iter()
                        .find(|r| r.detector == "windowedGaussian" && r.file_name() == name)
                        .cloned();
                    (name, tally, row)
                })
                .collect()
        }
    };

    let labelled = files.iter().filter_map(|f| f.windows_match_labels);
    let windows_check = labelled.fold((0, 0), |(same, all), m| (same + usize::from(m), all + 1));

    NabReport {
        results,
        windows_check,
        files: everything
            .iter()
            .map(|(n, t)| (n.clone(), t.windows))
            .collect(),
        published: standard_rows,
        count_check,
        reference,
    }
}

/// `100 · (raw − null) / (perfect − null)` for the standard profile over `windows` windows.
fn normalised(raw: f64, windows: usize) -> f64 {
    Tally {
        raw,
        windows,
        ..Tally::default()
    }
    .normalised(&STANDARD)
}

impl NabReport {
    fn published_raw(&self, detector: &str, file: &str) -> Option<f64> {
        self.published
            .iter()
            .find(|r| r.detector == detector && r.file_name() == file)
            .map(|r| r.score)
    }

    fn write_standard(&self, out: &mut String, r: &ProfileResult) -> fmt::Result {
        writeln!(
            out,
            "standard profile (A_TP 1.0, A_FP -0.11, A_FN -1.0), threshold {:.4} shared by all files",
            r.threshold
        )?;
        write!(
            out,
            "{:<26} {:>7} {:>8} {:>4} {:>8} {:>7}",
            "file", "windows", "detected", "FP", "raw", "score"
        )?;
        for d in SHOWN {
            write!(out, " {d:>16}")?;
        }
        writeln!(out)?;
        for (name, t) in &r.per_file {
            write!(
                out,
                "{:<26} {:>7} {:>8} {:>4} {:>8.3} {:>7.1}",
                name,
                t.windows,
                format!("{}/{}", t.detected_windows, t.windows),
                t.fp,
                t.raw,
                t.normalised(&STANDARD)
            )?;
            for d in SHOWN {
                match self.published_raw(d, name) {
                    Some(raw) => write!(out, " {:>16.1}", normalised(raw, t.windows))?,
                    None => write!(out, " {:>16}", "-")?,
                }
            }
            writeln!(out)?;
        }
        let t = &r.total;
        write!(
            out,
            "{:<26} {:>7} {:>8} {:>4} {:>8.3} {:>7.1}",
            "all files",
            t.windows,
            format!("{}/{}", t.detected_windows, t.windows),
            t.fp,
            t.raw,
            t.normalised(&STANDARD)
        )?;
        let windows: usize = self.files.iter().map(|(_, w)| w).sum();
        for d in SHOWN {
            let raws: Vec<f64> = self
                .files
                .iter()
                .filter_map(|(f, _)| self.published_raw(d, f))
                .collect();
            if raws.len() == self.files.len() {
                write!(out, " {:>16.1}", normalised(raws.iter().sum(), windows))?;
            } else {
                write!(out, " {:>16}", "-")?;
            }
        }
        writeln!(out)
    }

    fn write_checks(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "\nwindows recomputed from the labels with NAB's rule equal the windows file: {} of {} files",
            self.windows_check.0, self.windows_check.1
        )?;
        writeln!(
            out,
            "scorer checks against NAB's published per-file results"
        )?;
        if self.count_check.1 == 0 && self.reference.is_empty() {
            return writeln!(
                out,
                "  no results/*per_file_scores.csv found: nothing to check"
            );
        }
        writeln!(
            out,
            "  points scored inside/outside windows equal NAB's TP+FN / TN+FP: {} of {} files",
            self.count_check.0, self.count_check.1
        )?;
        if self.reference.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "  windowedGaussian re-run here, scored at its published threshold:"
        )?;
        writeln!(
            out,
            "  {:<26} {:>9} {:>9} {:>11} {:>11}",
            "file", "raw", "published", "TP/FP", "published"
        )?;
        let (mut ours, mut theirs, mut exact) = (0.0, 0.0, 0);
        for (name, t, row) in &self.reference {
            let Some(row) = row else { continue };
            ours += t.raw;
            theirs += row.score;
            let same = (t.raw - row.score).abs() < 1e-6 && t.tp == row.tp && t.fp == row.fp;
            exact += usize::from(same);
            writeln!(
                out,
                "  {:<26} {:>9.4} {:>9.4} {:>11} {:>11}",
                name,
                t.raw,
                row.score,
                format!("{}/{}", t.tp, t.fp),
                format!("{}/{}", row.tp, row.fp)
            )?;
        }
        writeln!(
            out,
            "  identical on {exact} of {} files; total raw {ours:.4} vs published {theirs:.4}",
            self.reference.iter().filter(|r| r.2.is_some()).count()
        )
    }
}

impl fmt::Display for NabReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if let Some(r) = self.standard() {
            self.write_standard(&mut out, r)?;
        }
        writeln!(
            out,
            "\nall profiles (published columns use the standard profile)"
        )?;
        for r in &self.results {
            writeln!(
                out,
                "  {:<20} threshold {:.4}  score {:.1}  raw {:.3}  detected {}/{}  FP {}",
                r.profile.name,
                r.threshold,
                r.total.normalised(&r.profile),
                r.total.raw,
                r.total.detected_windows,
                r.total.windows,
                r.total.fp
            )?;
        }
        self.write_checks(&mut out)?;
        f.write_str(&out)
    }
}
