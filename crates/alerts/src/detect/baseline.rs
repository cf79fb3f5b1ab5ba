//! A seasonal baseline learnt online: level + hour-of-day offset + day-of-week offset, each an
//! exponentially weighted mean of what the others leave unexplained, and a robust spread (mean
//! absolute residual). Residuals far outside the spread are clipped before they teach the
//! baseline, so a burst does not become the new normal within minutes, while a lasting shift
//! is still learnt. Fixed size whatever the stream's length: 31 seasonal cells and a few
//! scalars per series.

use crate::time::{day_of_week, hour_of_day};

/// How fast the baseline learns. Rates are weights of one new point (0..1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BaselineConfig {
    /// Level: ≈ 1/(points per day), so the level follows the last day or so.
    pub level_rate: f32,
    /// Each hour-of-day cell sees ≈ 12 points a day at 5-minute steps; 0.02 remembers ≈ 4 days.
    pub hour_rate: f32,
    /// Each day-of-week cell sees ≈ 288 points a week; 0.002 remembers ≈ 2 weeks.
    pub day_rate: f32,
    /// Spread of the residuals: ≈ half a day.
    pub spread_rate: f32,
    /// Residuals are clipped to ±clip standard deviations before they teach the baseline.
    pub clip: f32,
    /// Weight of one point in its hour's own spread (0: one spread for all hours). Night
    /// hours are noisier than busy ones on a log scale; the larger of the two spreads is used.
    pub hour_spread_rate: f32,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            level_rate: 1.0 / 288.0,
            hour_rate: 0.02,
            day_rate: 0.002,
            spread_rate: 1.0 / 144.0,
            clip: 4.0,
            hour_spread_rate: 0.02,
        }
    }
}

/// The state of one series' baseline.
#[derive(Clone, Debug)]
pub struct SeasonalBaseline {
    level: f32,
    hour: [f32; 24],
    day: [f32; 7],
    /// Mean absolute residual.
    spread: f32,
    hour_spread: [f32; 24],
    /// Points seen (saturating): early on the rates are raised to 1/n so the first points
    /// are averaged instead of trusted blindly.
    seen: u32,
    hour_seen: [u16; 24],
}

/// A baseline's view of one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deviation {
    pub expected: f32,
    pub residual: f32,
    /// Residual in standard deviations (spread · √(π/2)), floored by `min_sigma`.
    pub z: f32,
}

const MAD_TO_SIGMA: f32 = 1.253_314_1;

impl Default for SeasonalBaseline {
    fn default() -> Self {
        Self {
            level: 0.0,
            hour: [0.0; 24],
            day: [0.0; 7],
            spread: 0.0,
            hour_spread: [0.0; 24],
            seen: 0,
            hour_seen: [0; 24],
        }
    }
}

impl SeasonalBaseline {
    pub fn seen(&self) -> u32 {
        self.seen
    }

    pub fn expected_at(&self, ts_ms: i64) -> f32 {
        self.level + self.hour[hour_of_day(ts_ms)] + self.day[day_of_week(ts_ms)]
    }

    /// Scores `y` against what was expected, without learning from it.
    pub fn deviation(&self, ts_ms: i64, y: f32, min_sigma: f32) -> Deviation {
        let h = hour_of_day(ts_ms);
        let expected = self.expected_at(ts_ms);
        let residual = y - expected;
        let sigma = (self.spread.max(self.hour_spread[h]) * MAD_TO_SIGMA).max(min_sigma);
        Deviation {
            expected,
            residual,
            z: residual / sigma,
        }
    }

    /// Scores `y` against what was expected, then learns from it.
    pub fn observe(
        &mut self,
        cfg: &BaselineConfig,
        ts_ms: i64,
        y: f32,
        min_sigma: f32,
    ) -> Deviation {
        let (h, d) = (hour_of_day(ts_ms), day_of_week(ts_ms));
        if self.seen == 0 {
            self.level = y;
        }
        let expected = self.level + self.hour[h] + self.day[d];
        let residual = y - expected;
        let sigma = (self.spread.max(self.hour_spread[h]) * MAD_TO_SIGMA).max(min_sigma);
        let z = residual / sigma;

        self.seen = self.seen.saturating_add(1);
        self.hour_seen[h] = self.hour_seen[h].saturating_add(1);
        let warm = |rate: f32, n: u32| rate.max(1.0 / n as f32);
        let bound = self.clip_bound(cfg, min_sigma);
        let clipped = residual.clamp(-bound, bound);
        self.spread += warm(cfg.spread_rate, self.seen) * (clipped.abs() - self.spread);
        if cfg.hour_spread_rate > 0.0 {
            let rate = warm(cfg.hour_spread_rate, u32::from(self.hour_seen[h]));
            self.hour_spread[h] += rate * (clipped.abs() - self.hour_spread[h]);
        }
        self.level += warm(cfg.level_rate, self.seen) * clipped;
        self.hour[h] += warm(cfg.hour_rate, u32::from(self.hour_seen[h])) * clipped;
        self.day[d] += cfg.day_rate * clipped;
        Deviation {
            expected,
            residual,
            z,
        }
    }

    fn clip_bound(&self, cfg: &BaselineConfig, min_sigma: f32) -> f32 {
        if self.seen < 24 {
            // Too little seen to know the spread: let the first points teach freely.
            f32::INFINITY
        } else {
            cfg.clip * (self.spread * MAD_TO_SIGMA).max(min_sigma)
        }
    }
}
