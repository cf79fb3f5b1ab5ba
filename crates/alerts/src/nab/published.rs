//! The per-file results NAB published for its detectors (`results/*_per_file_scores.csv`,
//! columns `Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count`), read so that our
//! figures can be printed beside theirs and our scorer checked against them.

use crate::series::InputError;
use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PublishedRow {
    #[serde(rename = "Detector")]
    pub detector: String,
    #[serde(rename = "Profile")]
    pub profile: String,
    /// As NAB names it, e.g. `realTweets/Twitter_volume_AAPL.csv`.
    #[serde(rename = "File")]
    pub file: String,
    #[serde(rename = "Threshold")]
    pub threshold: f64,
    /// Raw (unnormalised) score.
    #[serde(rename = "Score")]
    pub score: f64,
    /// Counts of scored points (not windows), after the probationary period.
    #[serde(rename = "TP")]
    pub tp: usize,
    #[serde(rename = "TN")]
    pub tn: usize,
    #[serde(rename = "FP")]
    pub fp: usize,
    #[serde(rename = "FN")]
    pub fn_: usize,
}

impl PublishedRow {
    /// The data file's name without the corpus folder.
    pub fn file_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }
}

/// Reads `dir/results/*per_file_scores.csv`; an empty list when there is none.
pub fn load(dir: &Path) -> Result<Vec<PublishedRow>, InputError> {
    let results = dir.join("results");
    let Ok(entries) = std::fs::read_dir(&results) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("per_file_scores.csv"))
        })
        .collect();
    paths.sort();
    let mut rows = Vec::new();
    for path in paths {
        let mut reader = csv::Reader::from_path(&path)
            .map_err(|e| InputError::Corpus(format!("{}: {e}", path.display())))?;
        for row in reader.deserialize() {
            rows.push(row.map_err(|e| InputError::Corpus(format!("{}: {e}", path.display())))?);
        }
    }
    Ok(rows)
}
