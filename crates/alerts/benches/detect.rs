//! Streaming metrics at scale: memory of 100,000 watched series, and the cost of one message
//! and of one detector step. `cargo bench -p switchboard-alerts`; prints medians of 5 runs.
//! Memory is measured as resident set growth (Linux `/proc/self/status`), so it includes the
//! hash map's own overhead, not only `size_of` of the state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;
use switchboard_alerts::{
    EmergingConfig, EmergingTerms, Post, SentimentConfig, SentimentDropDetector, ViralConfig,
    ViralWatch, VolumeConfig, VolumeSpikeDetector, WatchConfig, Watchlist, watch::SeriesWatch,
};

const SERIES: u64 = 100_000;
const BUCKET_MS: i64 = 300_000;
const RUNS: usize = 5;

/// xorshift64*: deterministic traffic without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Feeds `buckets` five-minute buckets of traffic to every series: each series gets a few
/// messages per bucket. Returns (messages, seconds).
fn feed(list: &mut Watchlist<u64>, rng: &mut Rng, first_bucket: i64, buckets: i64) -> (u64, f64) {
    let mut messages = 0u64;
    let start = Instant::now();
    for b in first_bucket..first_bucket + buckets {
        let t0 = b * BUCKET_MS;
        for m in 0..3 {
            for key in 0..SERIES {
                let ts = t0 + m * 60_000 + (key % 60_000) as i64;
                let sentiment = Some(rng.unit() * 2.0 - 1.0);
                black_box(list.record(key, ts, sentiment));
                messages += 1;
            }
        }
    }
    (messages, start.elapsed().as_secs_f64())
}

fn main() {
    println!(
        "state per series: SeriesWatch {} bytes (VolumeSpikeDetector {}, SentimentDropDetector {})",
        size_of::<SeriesWatch>(),
        size_of::<VolumeSpikeDetector>(),
        size_of::<SentimentDropDetector>()
    );

    // Memory: 100,000 series, each having closed a bucket (all state touched).
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let before = rss_bytes();
    let mut list: Watchlist<u64> = Watchlist::new(WatchConfig::default());
    feed(&mut list, &mut rng, 0, 2);
    let after = rss_bytes();
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "memory for {} series: {:.1} MiB resident growth (limit 200 MiB)",
            list.len(),
            a.saturating_sub(b) as f64 / (1024.0 * 1024.0)
        ),
        _ => println!("memory: /proc/self/status not available on this system"),
    }

    // Per message, across 100,000 series (every third message closes a bucket and runs both
    // detectors, so this includes detector cost amortised over 3 messages).
    let mut per_message = Vec::new();
    let mut bucket = 2;
    for _ in 0..RUNS {
        let (n, secs) = feed(&mut list, &mut rng, bucket, 4);
        bucket += 4;
        per_message.push(secs * 1e9 / n as f64);
    }
    println!(
        "record(): median {:.0} ns per message over {} series (3 messages per series per bucket)",
        median(per_message),
        SERIES
    );

    // One detector step, one hot series.
    let points = 1_000_000;
    let mut volume = Vec::new();
    let mut sentiment = Vec::new();
    for _ in 0..RUNS {
        let cfg = VolumeConfig::default();
        let mut d = VolumeSpikeDetector::default();
        let start = Instant::now();
        for i in 0..points {
            let count = 40.0 + 20.0 * f64::from(rng.unit());
            black_box(d.observe(&cfg, i * BUCKET_MS, count));
        }
        volume.push(start.elapsed().as_secs_f64() * 1e9 / points as f64);

        let cfg = SentimentConfig::default();
        let mut d = SentimentDropDetector::default();
        let start = Instant::now();
        for _ in 0..points {
            black_box(d.observe(&cfg, rng.unit() - 0.3, 20));
        }
        sentiment.push(start.elapsed().as_secs_f64() * 1e9 / points as f64);
    }
    println!(
        "VolumeSpikeDetector::observe: median {:.1} ns per point",
        median(volume)
    );
    println!(
        "SentimentDropDetector::observe: median {:.1} ns per point",
        median(sentiment)
    );

    emerging_and_viral(&mut rng);
}

/// The vocabulary detector and the viral watch, per message: 8 terms per message drawn from a
/// 200,000-word vocabulary with a Zipf-like skew (so the kept vocabulary hits its 50,000-term
/// capacity and forgets), 1,000 messages per bucket; every message a complaint to watch and
/// one in three a reply to a recent one.
fn emerging_and_viral(rng: &mut Rng) {
    const VOCAB: u64 = 200_000;
    const PER_BUCKET: u64 = 1_000;
    const TERMS: usize = 8;
    let vocab: Vec<String> = (0..VOCAB).map(|i| format!("term{i}")).collect();
    let zipf = |rng: &mut Rng| {
        let u = f64::from(rng.unit()).max(1e-9);
        // Inverse of a continuous power law with exponent ~1: log-uniform ranks.
        (((VOCAB as f64).powf(u)) as u64).min(VOCAB) as usize - 1
    };
    let before = rss_bytes();
    let mut e = EmergingTerms::new(EmergingConfig::default());
    let mut n = 0u64;
    let mut emerging = Vec::new();
    let mut terms: Vec<String> = Vec::with_capacity(TERMS);
    for run in 0..=RUNS {
        let messages = 200_000u64;
        let start = Instant::now();
        for _ in 0..messages {
            terms.clear();
            for _ in 0..TERMS {
                terms.push(vocab[zipf(rng)].clone());
            }
            let ts = (n / PER_BUCKET) as i64 * BUCKET_MS + (n % PER_BUCKET) as i64;
            black_box(e.record(ts, rng.next() % 50_000, &terms));
            n += 1;
        }
        // The first run fills the vocabulary and is not counted.
        if run > 0 {
            emerging.push(start.elapsed().as_secs_f64() * 1e9 / messages as f64);
        }
    }
    let after = rss_bytes();
    let per_message = median(emerging);
    println!(
        "EmergingTerms::record: median {per_message:.0} ns per message of {TERMS} terms ({:.0} ns per term), {} terms kept",
        per_message / TERMS as f64,
        e.len()
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "memory of the emerging-terms detector at capacity: {:.1} MiB resident growth",
            a.saturating_sub(b) as f64 / (1024.0 * 1024.0)
        );
    }

    let mut w = ViralWatch::new(ViralConfig::default());
    let keys: Vec<String> = (0..1_000_000).map(|i| format!("x:{i}")).collect();
    let mut viral = Vec::new();
    let mut i = 0usize;
    for _ in 0..RUNS {
        let messages = 300_000;
        let start = Instant::now();
        for _ in 0..messages {
            let at = i as i64 * 100;
            let author = rng.next();
            if i.is_multiple_of(3) && i > 1_000 {
                let parent = &keys[(i - 1 - (rng.next() % 1_000) as usize) % keys.len()];
                black_box(w.reaction(parent, author, Some(300), at));
            } else {
                let post = Post {
                    key: &keys[i % keys.len()],
                    message: "msg",
                    author,
                    followers: Some(300),
                    engagement: 3,
                    created_ms: at,
                };
                black_box(w.complaint(post, at));
            }
            i += 1;
        }
        viral.push(start.elapsed().as_secs_f64() * 1e9 / messages as f64);
    }
    println!(
        "ViralWatch (complaint or reply): median {:.0} ns per message, {} posts watched",
        median(viral),
        w.len()
    );
}
