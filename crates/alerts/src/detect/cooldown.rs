//! Escalation-only cooldown: the suppression of minor fluctuations. After a point is
//! reported, the points that follow within the cooldown are reported only when they score
//! clearly higher (by `margin`): one burst raises one alert plus real escalations, not one
//! per point, whatever threshold the alert rule later applies.

#[derive(Clone, Copy, Debug, Default)]
pub struct Cooldown {
    peak: f32,
    since: u32,
}

impl Cooldown {
    /// Whether `score` would be reported now, without recording anything.
    pub fn would_report(&self, score: f32, length: u32, margin: f32) -> bool {
        let peak = if self.since >= length { 0.0 } else { self.peak };
        (peak == 0.0 && score > 0.0) || (peak > 0.0 && score >= peak + margin)
    }

    /// Returns the score to report for a point that scored `score` (0 when suppressed).
    pub fn pass(&mut self, score: f32, length: u32, margin: f32) -> f32 {
        if self.would_report(score, length, margin) {
            self.peak = score;
            self.since = 0;
            score
        } else {
            if self.since >= length {
                self.peak = 0.0;
            }
            self.since = self.since.saturating_add(1);
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_reports_its_rise_and_then_stays_quiet() {
        let mut c = Cooldown::default();
        let out: Vec<f32> = [0.6, 0.65, 0.8, 0.7, 0.1, 0.2]
            .iter()
            .map(|s| c.pass(*s, 10, 0.1))
            .collect();
        assert_eq!(out, vec![0.6, 0.0, 0.8, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn after_the_cooldown_the_same_level_reports_again() {
        let mut c = Cooldown::default();
        assert_eq!(c.pass(0.9, 2, 0.0), 0.9);
        assert_eq!(c.pass(0.5, 2, 0.0), 0.0);
        assert_eq!(c.pass(0.5, 2, 0.0), 0.0);
        assert_eq!(c.pass(0.5, 2, 0.0), 0.5);
    }
}
