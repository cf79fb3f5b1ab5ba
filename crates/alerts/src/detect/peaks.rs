//! The typical daily peak of a series' z: how far above its baseline the series climbs on an
//! ordinary day. Some streams burst every day (a bot posting in bursts, a brand whose fans
//! pile in at each broadcast) and others almost never; a z that is news for the second is
//! routine for the first. The spike score is scaled by the larger of a fixed z and this
//! typical peak, so a series is judged against its own everyday bursts. Fixed size: one
//! value per remembered day.

use crate::time::day_index;

/// At most this many days are remembered.
pub const MAX_DAYS: usize = 28;

#[derive(Clone, Debug, Default)]
pub struct DailyPeaks {
    /// Highest z per finished day, a ring of the last `MAX_DAYS`.
    peaks: [f32; MAX_DAYS],
    len: u8,
    next: u8,
    /// The UTC day being filled, and its highest z so far.
    day: Option<i64>,
    today: f32,
    /// Median of the remembered days' peaks, recomputed when a day ends.
    typical: f32,
}

impl DailyPeaks {
    /// The median daily peak over the last `days` finished days (0 before the first ends).
    pub fn typical(&self) -> f32 {
        self.typical
    }

    /// Starts a new day when `ts_ms` is past the current one: the finished day's peak is
    /// remembered and the typical peak recomputed over the last `days` of them.
    pub fn roll(&mut self, ts_ms: i64, days: usize) {
        let day = day_index(ts_ms);
        match self.day {
            Some(current) if day > current => {
                self.peaks[usize::from(self.next)] = self.today;
                self.next = ((usize::from(self.next) + 1) % MAX_DAYS) as u8;
                self.len = (usize::from(self.len) + 1).min(MAX_DAYS) as u8;
                self.today = 0.0;
                self.day = Some(day);
                self.typical = self.median_of_last(days);
            }
            Some(_) => {}
            None => self.day = Some(day),
        }
    }

    /// Records a point's z (negative values count as 0).
    pub fn record(&mut self, z: f32) {
        self.today = self.today.max(z);
    }

    fn median_of_last(&self, days: usize) -> f32 {
        let n = days.min(usize::from(self.len));
        if n == 0 {
            return 0.0;
        }
        let mut last = [0.0f32; MAX_DAYS];
        for (k, slot) in last.iter_mut().take(n).enumerate() {
            let i = (usize::from(self.next) + MAX_DAYS - 1 - k) % MAX_DAYS;
            *slot = self.peaks[i];
        }
        let last = &mut last[..n];
        last.sort_unstable_by(f32::total_cmp);
        if n % 2 == 1 {
            last[n / 2]
        } else {
            (last[n / 2 - 1] + last[n / 2]) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn days_with_peaks(peaks: &[f32], remember: usize) -> DailyPeaks {
        let mut d = DailyPeaks::default();
        for (i, p) in peaks.iter().enumerate() {
            let ts = i as i64 * DAY + 3_600_000;
            d.roll(ts, remember);
            d.record(0.5);
            d.record(*p);
            d.record(-3.0);
        }
        // The next day's first point closes the last one.
        d.roll(peaks.len() as i64 * DAY, remember);
        d
    }

    #[test]
    fn the_typical_peak_is_the_median_of_the_last_days() {
        assert_eq!(DailyPeaks::default().typical(), 0.0);
        assert_eq!(days_with_peaks(&[3.0], 14).typical(), 3.0);
        assert_eq!(days_with_peaks(&[1.0, 9.0, 2.0], 14).typical(), 2.0);
        assert_eq!(days_with_peaks(&[1.0, 9.0, 2.0, 4.0], 14).typical(), 3.0);
        // Only the last three days count: 2, 4, 8.
        assert_eq!(
            days_with_peaks(&[9.0, 9.0, 9.0, 2.0, 4.0, 8.0], 3).typical(),
            4.0
        );
    }

    #[test]
    fn a_day_is_closed_only_when_a_later_day_begins() {
        let mut d = DailyPeaks::default();
        d.roll(DAY + 1_000, 14);
        d.record(6.0);
        d.roll(2 * DAY - 1, 14);
        assert_eq!(d.typical(), 0.0, "still the same day");
        // A gap of several days closes the one day that was seen, once.
        d.roll(5 * DAY, 14);
        assert_eq!(d.typical(), 6.0);
        // Time going backwards (a late point) neither closes nor reopens a day.
        d.record(1.0);
        d.roll(4 * DAY, 14);
        d.roll(6 * DAY, 14);
        assert_eq!(d.typical(), 3.5, "median of 6 and 1");
    }

    #[test]
    fn more_than_the_ring_holds_keeps_the_newest_days() {
        let peaks: Vec<f32> = (0..40).map(|i| i as f32).collect();
        // The last 28 days are 12..=39: median 25.5.
        assert_eq!(days_with_peaks(&peaks, 100).typical(), 25.5);
        assert_eq!(days_with_peaks(&peaks, 1).typical(), 39.0);
    }
}
