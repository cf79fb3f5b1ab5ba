//! Loading a NAB directory (`data/*.csv`, `labels/*windows.json`, `labels/*labels.json`) and
//! running a detector over it. Labels are read here, for scoring only: the detector never
//! sees them.

use super::scorer::ScoredFile;
use super::windows::windows_from_labels;
use crate::series::{InputError, Series};
use crate::time::parse_timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One data file with its scoring windows (inclusive row ranges).
#[derive(Clone, Debug)]
pub struct LabelledFile {
    pub name: String,
    pub series: Series,
    pub windows: Vec<(usize, usize)>,
    /// Whether NAB's labelling rule, applied to the labels file, gives the same windows
    /// (`None` when no labels file was found).
    pub windows_match_labels: Option<bool>,
}

type Limits = BTreeMap<String, Vec<Vec<String>>>;
type Labels = BTreeMap<String, Vec<String>>;

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| InputError::Corpus(format!("{}: {e}", path.display())))
}

/// The first of `names` that exists under `dir/labels`.
fn labels_file(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .map(|n| dir.join("labels").join(n))
        .find(|p| p.is_file())
}

/// Entries are keyed `realTweets/Twitter_volume_AAPL.csv`; match on the file name.
fn entry<'a, T>(map: &'a BTreeMap<String, T>, file: &str) -> Option<&'a T> {
    map.iter()
        .find(|(k, _)| k.rsplit('/').next() == Some(file))
        .map(|(_, v)| v)
}

fn row_of(series: &Series, text: &str) -> Result<usize, InputError> {
    let ts = parse_timestamp(text)
        .ok_or_else(|| InputError::Corpus(format!("bad window timestamp `{text}`")))?;
    series
        .timestamps
        .iter()
        .position(|t| *t == ts)
        .ok_or_else(|| InputError::Corpus(format!("window edge `{text}` is not a row")))
}

/// Loads every `*.csv` under `dir/data` that has windows in the windows file.
pub fn load(dir: &Path) -> Result<Vec<LabelledFile>, InputError> {
    let windows_path = labels_file(dir, &["realTweets_windows.json", "combined_windows.json"])
        .ok_or_else(|| {
            InputError::Corpus(format!("no labels/*windows.json under {}", dir.display()))
        })?;
    let limits: Limits = read_json(&windows_path)?;
    let labels: Option<Labels> =
        match labels_file(dir, &["realTweets_labels.json", "combined_labels.json"]) {
            Some(p) => Some(read_json(&p)?),
            None => None,
        };
    let data_dir = dir.join("data");
    let io = |source| InputError::Io {
        path: data_dir.display().to_string(),
        source,
    };
    let mut names: Vec<String> = std::fs::read_dir(&data_dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let Some(file_limits) = entry(&limits, &name) else {
            continue;
        };
        let path = data_dir.join(&name);
        let reader = std::fs::File::open(&path).map_err(|source| InputError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let series = Series::read(reader)?;
        let mut windows = Vec::with_capacity(file_limits.len());
        for limit in file_limits {
            let [start, end] = limit.as_slice() else {
                return Err(InputError::Corpus(format!(
                    "{name}: a window is not [start, end]"
                )));
            };
            windows.push((row_of(&series, start)?, row_of(&series, end)?));
        }
        let windows_match_labels = labels.as_ref().and_then(|l| entry(l, &name)).map(|stamps| {
            let rows: Vec<i64> = stamps.iter().filter_map(|s| parse_timestamp(s)).collect();
            windows_from_labels(&series.timestamps, &rows) == windows
        });
        files.push(LabelledFile {
            name,
            series,
            windows,
            windows_match_labels,
        });
    }
    if files.is_empty() {
        return Err(InputError::Corpus(format!(
            "no data file under {} has scoring windows",
            data_dir.display()
        )));
    }
    Ok(files)
}

/// Runs `score` (a fresh detector per file) over every file.
pub fn run(files: &[LabelledFile], mut score: impl FnMut(&Series) -> Vec<f64>) -> Vec<ScoredFile> {
    files
        .iter()
        .map(|f| ScoredFile {
            name: f.name.clone(),
            scores: score(&f.series),
            windows: f.windows.clone(),
        })
        .collect()
}
