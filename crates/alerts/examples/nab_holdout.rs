//! How much of the NAB figure is owed to choosing parameters on the files it is measured on?
//! Leave-one-file-out: for each realTweets file, the parameter grid point and the threshold
//! are chosen on the other nine files only, then the held-out file is scored with them. The
//! sum of the ten held-out raw scores, normalised, is an out-of-sample figure.
//!
//! `cargo run --release -p switchboard-alerts --example nab_holdout -- DIR`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use switchboard_alerts::nab::scorer::STANDARD;
use switchboard_alerts::nab::{self, ScoredFile, Tally};
use switchboard_alerts::{VolumeConfig, score_series};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/datasets/nab_realtweets".into());
    let files = nab::load(std::path::Path::new(&dir)).expect("a NAB directory");

    // The parameters that were picked by search, around their defaults.
    let mut grid = Vec::new();
    for count_noise in [0.0, 0.25, 0.5, 1.0] {
        for hour_spread_rate in [0.0, 0.01, 0.02, 0.04] {
            for clip in [3.0, 4.0, 5.0] {
                for peak_days in [0, 7, 14, 28] {
                    let mut cfg = VolumeConfig {
                        count_noise,
                        peak_days,
                        ..VolumeConfig::default()
                    };
                    cfg.baseline.hour_spread_rate = hour_spread_rate;
                    cfg.baseline.clip = clip;
                    grid.push(cfg);
                }
            }
        }
    }
    let scored: Vec<Vec<ScoredFile>> = grid
        .iter()
        .map(|cfg| nab::run(&files, |s| score_series(cfg, s)))
        .collect();

    let mut held_out = Tally::default();
    println!(
        "{:<26} {:>6} {:>6} {:>5} {:>5} {:>9} {:>8} {:>6}",
        "held-out file", "noise", "hour", "clip", "peak", "threshold", "raw", "score"
    );
    for (i, file) in files.iter().enumerate() {
        let (best, threshold) = (0..grid.len())
            .map(|g| {
                let r = nab::optimise(&without(&scored[g], i), &STANDARD);
                (g, r.threshold, r.total.raw)
            })
            .max_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(g, t, _)| (g, t))
            .unwrap();
        let t = &nab::score_at(std::slice::from_ref(&scored[best][i]), &STANDARD, threshold)[0].1;
        let cfg = &grid[best];
        println!(
            "{:<26} {:>6} {:>6} {:>5} {:>5} {:>9.4} {:>8.3} {:>6.1}",
            file.name,
            cfg.count_noise,
            cfg.baseline.hour_spread_rate,
            cfg.baseline.clip,
            cfg.peak_days,
            threshold,
            t.raw,
            t.normalised(&STANDARD)
        );
        held_out += t;
    }
    println!(
        "held-out total: raw {:.3}, detected {}/{}, FP {}, score {:.1}",
        held_out.raw,
        held_out.detected_windows,
        held_out.windows,
        held_out.fp,
        held_out.normalised(&STANDARD)
    );

    let at_defaults = nab::run(&files, |s| score_series(&VolumeConfig::default(), s));
    let defaults = nab::optimise(&at_defaults, &STANDARD);
    println!(
        "defaults, threshold fitted on all ten files (the published protocol): score {:.1}",
        defaults.total.normalised(&STANDARD)
    );

    // The defaults as they are, only the threshold chosen without the held-out file.
    let mut threshold_only = Tally::default();
    for i in 0..files.len() {
        let threshold = nab::optimise(&without(&at_defaults, i), &STANDARD).threshold;
        let t = &nab::score_at(std::slice::from_ref(&at_defaults[i]), &STANDARD, threshold)[0].1;
        threshold_only += t;
    }
    println!(
        "defaults, threshold fitted on the other nine files: detected {}/{}, FP {}, score {:.1}",
        threshold_only.detected_windows,
        threshold_only.windows,
        threshold_only.fp,
        threshold_only.normalised(&STANDARD)
    );
}

/// Every file but the `i`-th.
fn without(files: &[ScoredFile], i: usize) -> Vec<ScoredFile> {
    files
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, f)| f.clone())
        .collect()
}
