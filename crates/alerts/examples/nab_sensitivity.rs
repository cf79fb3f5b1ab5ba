//! How fragile is the NAB figure? Each parameter of the spike detector is moved on its own,
//! everything else at its default, and the realTweets corpus is scored by the published
//! protocol (threshold optimised over the ten files) for each setting.
//!
//! `cargo run --release -p switchboard-alerts --example nab_sensitivity -- DIR`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use switchboard_alerts::nab::scorer::STANDARD;
use switchboard_alerts::{VolumeConfig, nab, score_series};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/datasets/nab_realtweets".into());
    let files = nab::load(std::path::Path::new(&dir)).expect("a NAB directory");
    let d = VolumeConfig::default();
    let with = |f: &dyn Fn(&mut VolumeConfig)| {
        let mut c = d;
        f(&mut c);
        c
    };
    let settings: Vec<(String, VolumeConfig)> = vec![
        ("defaults".into(), d),
        ("count noise 0".into(), with(&|c| c.count_noise = 0.0)),
        ("count noise 0.25".into(), with(&|c| c.count_noise = 0.25)),
        ("count noise 1.0".into(), with(&|c| c.count_noise = 1.0)),
        (
            "per-hour spread off".into(),
            with(&|c| c.baseline.hour_spread_rate = 0.0),
        ),
        (
            "per-hour spread 0.01".into(),
            with(&|c| c.baseline.hour_spread_rate = 0.01),
        ),
        (
            "per-hour spread 0.04".into(),
            with(&|c| c.baseline.hour_spread_rate = 0.04),
        ),
        ("clip 3".into(), with(&|c| c.baseline.clip = 3.0)),
        ("clip 5".into(), with(&|c| c.baseline.clip = 5.0)),
        ("cooldown 144".into(), with(&|c| c.cooldown = 144)),
        ("cooldown 576".into(), with(&|c| c.cooldown = 576)),
        (
            "level rate 1/576".into(),
            with(&|c| c.baseline.level_rate = 1.0 / 576.0),
        ),
        (
            "level rate 1/144".into(),
            with(&|c| c.baseline.level_rate = 1.0 / 144.0),
        ),
        (
            "hour rate 0.01".into(),
            with(&|c| c.baseline.hour_rate = 0.01),
        ),
        (
            "hour rate 0.04".into(),
            with(&|c| c.baseline.hour_rate = 0.04),
        ),
        ("day rate 0".into(), with(&|c| c.baseline.day_rate = 0.0)),
        (
            "day rate 0.004".into(),
            with(&|c| c.baseline.day_rate = 0.004),
        ),
        ("min sigma 0.05".into(), with(&|c| c.min_sigma = 0.05)),
        ("min sigma 0.2".into(), with(&|c| c.min_sigma = 0.2)),
        ("warm-up 144".into(), with(&|c| c.warmup = 144)),
        ("warm-up 576".into(), with(&|c| c.warmup = 576)),
        ("half z 3".into(), with(&|c| c.half_z = 3.0)),
        ("half z 3.5".into(), with(&|c| c.half_z = 3.5)),
        ("half z 4.5".into(), with(&|c| c.half_z = 4.5)),
        ("half z 5".into(), with(&|c| c.half_z = 5.0)),
        ("typical peak off".into(), with(&|c| c.peak_days = 0)),
        (
            "typical peak over 7 days".into(),
            with(&|c| c.peak_days = 7),
        ),
        (
            "typical peak over 28 days".into(),
            with(&|c| c.peak_days = 28),
        ),
    ];
    println!(
        "{:<28} {:>9} {:>8} {:>5} {:>6}",
        "setting", "threshold", "windows", "FP", "score"
    );
    for (name, cfg) in &settings {
        let r = nab::optimise(&nab::run(&files, |s| score_series(cfg, s)), &STANDARD);
        println!(
            "{:<28} {:>9.4} {:>5}/{:<2} {:>5} {:>6.1}",
            name,
            r.threshold,
            r.total.detected_windows,
            r.total.windows,
            r.total.fp,
            r.total.normalised(&STANDARD)
        );
    }
}
