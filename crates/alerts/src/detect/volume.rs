//! Volume spikes (E2): mention counts per bucket against their seasonal baseline. Counts are
//! taken on a log scale (ln(1+n)), where a burst is a ratio to the usual volume whatever the
//! brand's size. The same detector serves live alerting and `switchboard alerts detect`.

use super::baseline::{BaselineConfig, SeasonalBaseline};
use super::cooldown::Cooldown;
use super::peaks::{DailyPeaks, MAX_DAYS};

/// The few parameters of the spike detector, shared by every series. The defaults are the
/// ones measured on NAB (docs/ALERTS.md), for 5-minute buckets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolumeConfig {
    pub baseline: BaselineConfig,
    /// Buckets seen before any score is given: one day of 5-minute buckets.
    pub warmup: u32,
    /// Buckets after a report during which only an escalation is reported again: one day.
    pub cooldown: u32,
    /// Within the cooldown, how much higher a score must be to be reported as an escalation.
    pub escalation: f32,
    /// Floor of the residual spread on the log scale, so that a series that is almost
    /// constant does not turn every unit of noise into a huge z.
    pub min_sigma: f32,
    /// Counting noise: a count expected at λ cannot be known better than ≈ k/√(1+λ) on the
    /// log scale (Poisson), so a brand with a handful of mentions per bucket needs a bigger
    /// jump to raise a spike than one with thousands.
    pub count_noise: f32,
    /// The z at which the score reaches 0.5 on a series that rarely bursts; the score is
    /// z/(z + h), in 0..1, with h the larger of this and the series' typical daily peak.
    pub half_z: f32,
    /// Days over which the typical daily peak is the median (at most 28; 0: not used).
    pub peak_days: u8,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        Self {
            baseline: BaselineConfig::default(),
            warmup: 288,
            cooldown: 288,
            escalation: 0.0,
            min_sigma: 0.1,
            count_noise: 0.5,
            half_z: 4.0,
            peak_days: 14,
        }
    }
}

/// Per-series state: fixed size (a few hundred bytes), whatever the stream's length.
#[derive(Clone, Debug, Default)]
pub struct VolumeSpikeDetector {
    baseline: SeasonalBaseline,
    cooldown: Cooldown,
    peaks: DailyPeaks,
}

impl VolumeSpikeDetector {
    /// Scores one bucket's count, then learns from it. The score is in 0..1: 0 when the
    /// count is not above what the hour and day lead one to expect, or when it only repeats
    /// a burst already reported within the cooldown.
    pub fn observe(&mut self, cfg: &VolumeConfig, ts_ms: i64, count: f64) -> f32 {
        let (y, floor) = self.scale(cfg, ts_ms, count);
        let dev = self.baseline.observe(&cfg.baseline, ts_ms, y, floor);
        self.peaks.roll(ts_ms, peak_days(cfg));
        if self.baseline.seen() <= cfg.warmup {
            return 0.0;
        }
        self.peaks.record(dev.z);
        let score = self.score_of(cfg, dev.z);
        self.cooldown.pass(score, cfg.cooldown, cfg.escalation)
    }

    /// The score a bucket still filling up would get if it closed now, without learning or
    /// recording anything. A partial count can only grow, so when it already scores, the
    /// alert need not wait for the bucket to close.
    pub fn preview(&self, cfg: &VolumeConfig, ts_ms: i64, count_so_far: f64) -> f32 {
        if self.baseline.seen() < cfg.warmup {
            return 0.0;
        }
        let (y, floor) = self.scale(cfg, ts_ms, count_so_far);
        let score = self.score_of(cfg, self.baseline.deviation(ts_ms, y, floor).z);
        if self
            .cooldown
            .would_report(score, cfg.cooldown, cfg.escalation)
        {
            score
        } else {
            0.0
        }
    }

    /// The count on the log scale, and the floor of its spread at the expected count.
    fn scale(&self, cfg: &VolumeConfig, ts_ms: i64, count: f64) -> (f32, f32) {
        let y = (count.max(0.0) as f32).ln_1p();
        let lambda = self.baseline.expected_at(ts_ms).exp_m1().max(0.0);
        let floor = (cfg.count_noise / (1.0 + lambda).sqrt()).max(cfg.min_sigma);
        (y, floor)
    }

    /// z/(z + h), where h is `half_z` or, on a series whose ordinary days already climb
    /// higher, its typical daily peak: a burst scores 0.5 when it is as high as a usual day's.
    fn score_of(&self, cfg: &VolumeConfig, z: f32) -> f32 {
        let z = z.max(0.0);
        let half = if cfg.peak_days == 0 {
            cfg.half_z
        } else {
            cfg.half_z.max(self.peaks.typical())
        };
        z / (z + half)
    }
}

fn peak_days(cfg: &VolumeConfig) -> usize {
    usize::from(cfg.peak_days).min(MAX_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MIN: i64 = 300_000;
    /// A Monday, 00:00 UTC.
    const MONDAY: i64 = 4 * 86_400_000;

    /// Mentions of a brand that is busy in the (UTC) afternoon and quiet at night, and
    /// quieter at weekends.
    fn usual_volume(ts: i64) -> f64 {
        let hour = crate::time::hour_of_day(ts) as f64;
        let weekend = crate::time::day_of_week(ts) >= 5;
        let daily = 60.0 + 40.0 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
        let base = if weekend { daily * 0.6 } else { daily };
        // A small deterministic wobble so the series is not perfectly smooth.
        base + ((ts / FIVE_MIN) % 7) as f64 - 3.0
    }

    fn run(days: i64, spike_at: Option<i64>) -> Vec<f32> {
        run_with(&VolumeConfig::default(), days, spike_at, false)
    }

    /// `daily_bursts`: every evening at 20:00 UTC the series jumps eightfold for one bucket,
    /// as a stream fed by a scheduled broadcast or a bot does.
    fn run_with(
        cfg: &VolumeConfig,
        days: i64,
        spike_at: Option<i64>,
        daily_bursts: bool,
    ) -> Vec<f32> {
        let mut detector = VolumeSpikeDetector::default();
        (0..days * 288)
            .map(|i| {
                let ts = MONDAY + i * FIVE_MIN;
                let mut v = usual_volume(ts);
                if spike_at.is_some_and(|s| (s..s + 3).contains(&i)) {
                    v *= 8.0;
                }
                if daily_bursts && i % 288 == 240 {
                    v *= 8.0;
                }
                detector.observe(cfg, ts, v)
            })
            .collect()
    }

    #[test]
    fn the_daily_rush_hour_and_quiet_weekends_raise_no_spike() {
        let scores = run(21, None);
        // The first Monday morning after the first weekend is the hardest moment: the
        // day-of-week cells have seen one week. It still stays below an alerting score.
        let worst = scores.iter().copied().fold(0.0, f32::max);
        assert!(worst < 0.5, "a seasonal pattern scored {worst}");
        let worst = scores[288 * 8..].iter().copied().fold(0.0, f32::max);
        assert!(worst < 0.35, "after a week: {worst}");
    }

    #[test]
    fn a_burst_of_mentions_at_night_is_reported_once_as_it_starts() {
        // Day 10, 03:00 UTC: the quietest hour.
        let at = 10 * 288 + 36;
        let scores = run(14, Some(at));
        let at = at as usize;
        assert!(scores[at] > 0.6, "spike scored {}", scores[at]);
        // The rest of the burst and the following day add nothing new.
        assert!(scores[at + 1..at + 200].iter().all(|s| *s <= scores[at]));
        let quiet = scores[288 * 8..at].iter().copied().fold(0.0, f32::max);
        assert!(quiet < 0.3, "before the spike: {quiet}");
    }

    #[test]
    fn a_burst_the_series_has_every_day_scores_below_the_same_burst_in_a_quiet_series() {
        // Day 20, 03:00 UTC: the same eightfold burst in both series.
        let at = 20 * 288 + 36;
        let cfg = VolumeConfig::default();
        let quiet = run_with(&cfg, 21, Some(at), false)[at as usize];
        let bursty = run_with(&cfg, 21, Some(at), true)[at as usize];
        assert!(quiet > 0.6, "quiet series: {quiet}");
        assert!(bursty < quiet - 0.05, "bursty {bursty} vs quiet {quiet}");
        // It is the typical daily peak that makes the difference.
        let without = VolumeConfig {
            peak_days: 0,
            ..cfg
        };
        let bursty_without = run_with(&without, 21, Some(at), true)[at as usize];
        assert!(
            bursty_without > bursty + 0.05,
            "{bursty_without} vs {bursty}"
        );
        // The daily bursts themselves fall from a clear spike to about even odds (0.5: as
        // high as a usual day's peak) once two weeks of them have been seen.
        let scores = run_with(&cfg, 21, None, true);
        let evening = |day: usize| scores[day * 288 + 240];
        assert!(evening(1) > 0.8, "first evening burst: {}", evening(1));
        let late = (14..21).map(evening).fold(0.0, f32::max);
        assert!(late < 0.6, "third week: {late}");
    }

    #[test]
    fn nothing_is_scored_before_a_day_has_been_seen() {
        let scores = run(1, Some(100));
        assert!(scores.iter().all(|s| *s == 0.0));
    }
}
