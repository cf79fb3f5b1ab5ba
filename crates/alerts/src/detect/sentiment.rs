//! Sentiment drops (E3): the mean sentiment of a series falling below its own history. Each
//! bucket brings a mean compound score (−1..1) over `n` messages. A bucket of three angry
//! messages says little; the detector weighs the evidence by message count, so a drop must
//! be both large and carried by enough messages before it scores.
//!
//! State: a slow baseline (mean and per-message variance), a fast count-weighted average of
//! the recent buckets, and the cooldown. Fixed size.

use super::cooldown::Cooldown;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SentimentConfig {
    /// Weight of one bucket in the baseline: 1/2016 ≈ one week of 5-minute buckets.
    pub baseline_rate: f32,
    /// Decay of the recent average per bucket: 0.25 ≈ the last hour, weighted to the newest.
    pub recent_rate: f32,
    /// Messages seen before any score is given.
    pub warmup_messages: u32,
    /// Messages the recent average must carry before it can score.
    pub min_messages: f32,
    /// Deviations are clipped to ±clip standard errors before they teach the baseline, so
    /// a bad afternoon does not become the new normal.
    pub clip: f32,
    /// Per-message standard deviation is never taken below this (compound units).
    pub min_sigma: f32,
    /// The z at which the score reaches 0.5.
    pub half_z: f32,
    /// Buckets after a report during which only a deeper drop is reported again.
    pub cooldown: u32,
    /// Within the cooldown, how much higher a score must be to be reported as an escalation.
    pub escalation: f32,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        Self {
            baseline_rate: 1.0 / 2016.0,
            recent_rate: 0.25,
            warmup_messages: 200,
            min_messages: 10.0,
            clip: 3.0,
            min_sigma: 0.1,
            half_z: 4.0,
            cooldown: 288,
            escalation: 0.1,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SentimentDropDetector {
    mean: f32,
    /// Variance of one message's sentiment around the baseline.
    var: f32,
    recent_sum: f32,
    recent_n: f32,
    buckets: u32,
    messages: u32,
    cooldown: Cooldown,
}

impl SentimentDropDetector {
    /// Scores a bucket whose `n` messages average `mean` (ignored when `n` is 0), then learns
    /// from it. 0..1; 0 when sentiment is not below its baseline.
    pub fn observe(&mut self, cfg: &SentimentConfig, mean: f32, n: u32) -> f32 {
        let decay = 1.0 - cfg.recent_rate;
        self.recent_sum *= decay;
        self.recent_n *= decay;
        if n == 0 || !mean.is_finite() {
            return self.cooldown.pass(0.0, cfg.cooldown, cfg.escalation);
        }
        let nf = n as f32;
        self.recent_sum += mean * nf;
        self.recent_n += nf;

        let warm = self.messages >= cfg.warmup_messages;
        let sigma = self.var.sqrt().max(cfg.min_sigma);
        let score = if warm && self.recent_n >= cfg.min_messages {
            let recent = self.recent_sum / self.recent_n;
            let z = ((self.mean - recent) / (sigma / self.recent_n.sqrt())).max(0.0);
            z / (z + cfg.half_z)
        } else {
            0.0
        };

        self.buckets = self.buckets.saturating_add(1);
        self.messages = self.messages.saturating_add(n);
        if self.buckets == 1 {
            self.mean = mean;
        }
        let rate = cfg.baseline_rate.max(1.0 / self.buckets as f32);
        let bound = if warm {
            cfg.clip * sigma / nf.sqrt()
        } else {
            f32::INFINITY
        };
        let d = (mean - self.mean).clamp(-bound, bound);
        self.mean += rate * d;
        // n·d² estimates one message's variance from a mean of n.
        self.var += rate * (nf * d * d - self.var);
        self.cooldown.pass(score, cfg.cooldown, cfg.escalation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A brand whose mentions are mildly positive, with a deterministic wobble.
    fn usual(i: u32) -> f32 {
        0.3 + 0.05 * ((i % 5) as f32 - 2.0)
    }

    #[test]
    fn a_steady_mood_raises_nothing() {
        let cfg = SentimentConfig::default();
        let mut d = SentimentDropDetector::default();
        let worst = (0..3000)
            .map(|i| d.observe(&cfg, usual(i), 20))
            .fold(0.0, f32::max);
        assert!(worst < 0.3, "{worst}");
    }

    #[test]
    fn an_hour_of_angry_mentions_is_reported_and_then_cools_down() {
        let cfg = SentimentConfig::default();
        let mut d = SentimentDropDetector::default();
        for i in 0..2000 {
            d.observe(&cfg, usual(i), 20);
        }
        let during: Vec<f32> = (0..12).map(|_| d.observe(&cfg, -0.4, 20)).collect();
        let first = during.iter().position(|s| *s > 0.5);
        assert!(first.is_some_and(|i| i <= 1), "{during:?}");
        // One report for the episode (plus escalations), not one per bucket.
        let reports = during.iter().filter(|s| **s > 0.0).count();
        assert!(reports <= 4, "{during:?}");
    }

    #[test]
    fn three_angry_messages_in_a_quiet_bucket_are_not_a_drop() {
        let cfg = SentimentConfig::default();
        let mut d = SentimentDropDetector::default();
        for i in 0..2000 {
            d.observe(&cfg, usual(i), 20);
        }
        // Recent buckets carry the usual mood; one small bucket is very negative.
        assert!(d.observe(&cfg, -0.9, 3) < 0.5);
    }

    #[test]
    fn empty_buckets_score_zero() {
        let cfg = SentimentConfig::default();
        let mut d = SentimentDropDetector::default();
        assert_eq!(d.observe(&cfg, f32::NAN, 0), 0.0);
        assert_eq!(d.observe(&cfg, 0.0, 0), 0.0);
    }
}
