//! `switchboard alerts …` as an analyst runs it: a mention series in, scores out; bad files
//! refused with one line; the NAB measurement reproducible from the shipped corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

mod common;
use common::bin;

fn detect(csv: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, csv).unwrap();
    bin()
        .args(["alerts", "detect", "--input"])
        .arg(&path)
        .output()
        .unwrap()
}

/// Five days of 5-minute mention counts for a brand busy by day and quiet at night, with a
/// burst of eight times the usual volume on day 4 at 03:00 UTC.
fn mentions_with_a_night_burst() -> (String, usize) {
    let mut csv = String::from("timestamp,value\n");
    let start = 1_425_168_000; // 2015-03-01 00:00:00 UTC
    let burst = 4 * 288 + 36;
    for i in 0..5 * 288 {
        let hour = (i % 288) as f64 / 12.0;
        let usual = 40.0 + 30.0 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
        let wobble = (i % 5) as f64 - 2.0;
        let mut v = (usual + wobble).round();
        if (burst..burst + 3).contains(&i) {
            v *= 8.0;
        }
        csv.push_str(&format!("{},{v}\n", start + i * 300));
    }
    (csv, burst as usize)
}

#[test]
fn a_night_burst_of_mentions_gets_the_highest_score() {
    let (csv, burst) = mentions_with_a_night_burst();
    let out = detect(&csv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,value,anomaly_score"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 5 * 288);
    let input: Vec<&str> = csv.lines().skip(1).collect();
    let scores: Vec<f64> = rows
        .iter()
        .zip(&input)
        .map(|(r, line)| {
            assert_eq!(r.len(), 3);
            // Timestamp and value are echoed as given.
            assert_eq!(format!("{},{}", r[0], r[1]), *line);
            r[2].parse().unwrap()
        })
        .collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let top = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert_eq!(top.0, burst, "highest score {} at row {}", top.1, top.0);
    assert!(*top.1 > 0.5);
    let others = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != burst)
        .map(|(_, s)| *s)
        .fold(0.0, f64::max);
    assert!(others < 0.4, "another point scored {others}");
}

#[test]
fn stdin_is_read_with_a_dash() {
    let mut child = bin()
        .args(["alerts", "detect", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"timestamp,value\n2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "timestamp,value,anomaly_score\n2015-02-26 21:42:53,104,0.000000\n2015-02-26 21:47:53,100,0.000000\n"
    );
}

#[test]
fn bad_input_is_refused_with_one_line() {
    for (csv, expected) in [
        (
            "timestamp,value\n2015-02-26 21:42:53,12\n2015-02-26 21:47:53,lots\n",
            "line 3",
        ),
        ("timestamp,value\nlast tuesday,12\n", "not a timestamp"),
        ("time,count\n1,2\n", "timestamp"),
        (
            "timestamp,value\n2015-02-26 21:42:53,NaN\n",
            "not a finite number",
        ),
    ] {
        let out = detect(csv);
        assert!(!out.status.success(), "{csv}");
        assert!(out.stdout.is_empty(), "{csv}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("switchboard: "), "{err}");
        assert!(err.contains(expected), "{err}");
    }
    let out = bin()
        .args(["alerts", "detect", "--input", "/nonexistent/series.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn the_nab_measurement_runs_on_the_shipped_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/nab_realtweets");
    if !dir.join("data").is_dir() {
        eprintln!("skipped: no NAB corpus at {}", dir.display());
        return;
    }
    let out = bin()
        .args(["alerts", "nab", "--data"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Twitter_volume_AAPL.csv"), "{text}");
    assert!(text.contains("all files"), "{text}");
    assert!(text.contains("identical on 10 of 10 files"), "{text}");
    assert!(
        text.contains("equal the windows file: 10 of 10 files"),
        "{text}"
    );
    assert!(
        text.contains("equal NAB's TP+FN / TN+FP: 10 of 10 files"),
        "{text}"
    );
}
