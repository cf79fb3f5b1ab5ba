//! Volume spikes (E2): mention counts per bucket against their seasonal baseline. Counts are
//! taken on a log scale (ln(1+n)), where a burst is a ratio to the usual volume whatever the
//! brand's size. The same detector serves live alerting and `switchboard alerts detect`.

use super::baseline::{BaselineConfig, SeasonalBaseline};
use super::cooldown::Cooldown;

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
    /// The z at which the score reaches 0.5; the score is z/(z + half_z), in 0..1.
    pub half_z: f32,
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
        }
    }
}

/// Per-series state: fixed size (a few hundred bytes), whatever the stream's length.
#[derive(Clone, Debug, Default)]
pub struct VolumeSpikeDetector {
    baseline: SeasonalBaseline,
    cooldown: Cooldown,
}

impl VolumeSpikeDetector {
    /// Scores one bucket's count, then learns from it. The score is in 0..1: 0 when the
    /// count is not above what the hour and day lead one to expect, or when it only repeats
    /// a burst already reported within the cooldown.
    pub fn observe(&mut self, cfg: &VolumeConfig, ts_ms: i64, count: f64) -> f32 {
        let (y, floor) = self.scale(cfg, ts_ms, count);
        let dev = self.baseline.observe(&cfg.baseline, ts_ms, y, floor);
        if self.baseline.seen() <= cfg.warmup {
            return 0.0;
        }
        self.cooldown
            .pass(score_of(cfg, dev.z), cfg.cooldown, cfg.escalation)
    }

    /// The score a bucket still filling up would get if it closed now, without learning or
    /// recording anything. A partial count can only grow, so when it already scores, the
    /// alert need not wait for the bucket to close.
    pub fn preview(&self, cfg: &VolumeConfig, ts_ms: i64, count_so_far: f64) -> f32 {
        if self.baseline.seen() < cfg.warmup {
            return 0.0;
        }
        let (y, floor) = self.scale(cfg, ts_ms, count_so_far);
        let score = score_of(cfg, self.baseline.deviation(ts_ms, y, floor).z);
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
}

fn score_of(cfg: &VolumeConfig, z: f32) -> f32 {
    let z = z.max(0.0);
    z / (z + cfg.half_z)
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
        let cfg = VolumeConfig::default();
        let mut detector = VolumeSpikeDetector::default();
        (0..days * 288)
            .map(|i| {
                let ts = MONDAY + i * FIVE_MIN;
                let mut v = usual_volume(ts);
                if spike_at.is_some_and(|s| (s..s + 3).contains(&i)) {
                    v *= 8.0;
                }
                detector.observe(&cfg, ts, v)
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
    fn nothing_is_scored_before_a_day_has_been_seen() {
        let scores = run(1, Some(100));
        assert!(scores.iter().all(|s| *s == 0.0));
    }
}
