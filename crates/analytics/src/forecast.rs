//! Staffing forecast (H5): hourly contact volume forecast from history, its error on a
//! held-out week, and agents per hour by Erlang C (`sb_alerts::staffing`, with shrinkage and
//! concurrency). Definitions in docs/METRICS.md (*Staffing forecast*).
//!
//! The forecast is seasonal by hour of the week: the volume of Tuesday 10:00–11:00 UTC is
//! the mean of the last `weeks` Tuesdays 10:00–11:00. It is tested before it is trusted: the
//! same method, fitted on the `weeks` before the last complete week, forecasts that week, and
//! the report shows how far off it was (WAPE and mean absolute error).

pub use sb_alerts::staffing::{Goal, StaffingError, Workload};
use sb_alerts::staffing::{Staffing, agents_needed_for};
use std::collections::HashMap;

pub const HOURS_PER_WEEK: i64 = 168;
/// 1970-01-01 was a Thursday: this many hours after the epoch's Monday 00:00.
const EPOCH_OFFSET_H: i64 = 72;

/// Index of the ISO week (Monday 00:00 UTC) an hour since the epoch falls in.
pub fn week_of(hour: i64) -> i64 {
    (hour + EPOCH_OFFSET_H).div_euclid(HOURS_PER_WEEK)
}

/// First hour (since the epoch) of a week index.
pub fn week_start(week: i64) -> i64 {
    week * HOURS_PER_WEEK - EPOCH_OFFSET_H
}

fn hour_of_week(hour: i64) -> usize {
    (hour + EPOCH_OFFSET_H).rem_euclid(HOURS_PER_WEEK) as usize
}

/// Mean volume per hour of the week over the `weeks` full weeks before week `before`.
fn seasonal(counts: &HashMap<i64, i64>, before: i64, weeks: u32) -> [f64; 168] {
    let mut sums = [0.0; 168];
    let first = week_start(before - i64::from(weeks));
    for h in first..week_start(before) {
        sums[hour_of_week(h)] += counts.get(&h).copied().unwrap_or(0) as f64;
    }
    sums.map(|s| s / f64::from(weeks.max(1)))
}

/// How the method did on the held-out week.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Holdout {
    /// First hour of the held-out week (hours since the epoch).
    pub week_start_hour: i64,
    pub actual: i64,
    pub forecast: f64,
    /// Weighted absolute percentage error: `100 × Σ|actual − forecast| / Σ actual` over its
    /// hours; `null` when the week had no contacts.
    pub wape_pct: Option<f64>,
    /// Mean absolute error per hour, in contacts.
    pub mae: f64,
}

/// One forecast hour and the agents it needs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    pub start_hour: i64,
    pub contacts: f64,
    pub agents: u32,
    pub agents_with_shrinkage: u32,
    pub service_level: f64,
    pub occupancy: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StaffingForecast {
    pub weeks: u32,
    pub holdout: Holdout,
    pub intervals: Vec<Interval>,
}

/// Forecasts the 168 hours from `from_hour` out of `hourly` counts (hour since the epoch →
/// contacts), fitted on the `weeks` complete weeks before the week of `from_hour`, after
/// testing the method on the last of those weeks. The history must reach back `weeks + 1`
/// weeks before that week; hours without a count had no contacts.
pub fn forecast(
    hourly: &[(i64, i64)],
    from_hour: i64,
    weeks: u32,
    workload: &Workload,
    goal: &Goal,
) -> Result<StaffingForecast, StaffingError> {
    if weeks == 0 {
        return Err(StaffingError::InvalidInput("weeks must be at least 1"));
    }
    let counts: HashMap<i64, i64> = hourly.iter().copied().collect();
    let current = week_of(from_hour);
    // The held-out week: the last complete one, forecast from the weeks before it.
    let held = current - 1;
    let fitted = seasonal(&counts, held, weeks);
    let (mut actual, mut predicted, mut abs_err) = (0i64, 0.0, 0.0);
    for h in week_start(held)..week_start(held + 1) {
        let a = counts.get(&h).copied().unwrap_or(0);
        let f = fitted[hour_of_week(h)];
        actual += a;
        predicted += f;
        abs_err += (a as f64 - f).abs();
    }
    let holdout = Holdout {
        week_start_hour: week_start(held),
        actual,
        forecast: predicted,
        wape_pct: (actual > 0).then(|| 100.0 * abs_err / actual as f64),
        mae: abs_err / HOURS_PER_WEEK as f64,
    };
    let model = seasonal(&counts, current, weeks);
    let mut intervals = Vec::with_capacity(HOURS_PER_WEEK as usize);
    for h in from_hour..from_hour + HOURS_PER_WEEK {
        let contacts = model[hour_of_week(h)];
        let s: Staffing = agents_needed_for(contacts, workload, goal)?;
        intervals.push(Interval {
            start_hour: h,
            contacts,
            agents: s.base_agents,
            agents_with_shrinkage: s.with_shrinkage,
            service_level: s.service_level,
            occupancy: s.occupancy,
        });
    }
    Ok(StaffingForecast {
        weeks,
        holdout,
        intervals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Workload {
        Workload {
            interval_s: 3600.0,
            handle_time_s: 360.0,
            concurrency: 2,
        }
    }

    fn goal() -> Goal {
        Goal {
            target_s: 60.0,
            service_level: 0.8,
            shrinkage: 0.3,
            max_occupancy: 0.85,
        }
    }

    /// A weekly pattern: 40 contacts an hour in office hours on weekdays, 4 otherwise.
    fn pattern(h: i64) -> i64 {
        let how = hour_of_week(h) as i64;
        let (day, hour) = (how / 24, how % 24);
        if day < 5 && (9..17).contains(&hour) {
            40
        } else {
            4
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-23 was a Monday: 20,780 days after the epoch.
        let monday = 20_780 * 24;
        assert_eq!(week_start(week_of(monday)), monday);
        assert_eq!(week_start(week_of(monday + 167)), monday);
        assert_eq!(week_of(monday + 168), week_of(monday) + 1);
    }

    #[test]
    fn a_steady_weekly_pattern_is_forecast_exactly_and_staffed_by_erlang_c() {
        let monday = 20_780 * 24;
        let history: Vec<(i64, i64)> = (monday - 6 * 168..monday)
            .map(|h| (h, pattern(h)))
            .collect();
        let f = forecast(&history, monday, 4, &workload(), &goal()).unwrap();
        assert_eq!(f.holdout.wape_pct, Some(0.0));
        assert_eq!(f.intervals.len(), 168);
        let tuesday_10 = &f.intervals[24 + 10];
        assert_eq!(tuesday_10.contacts, 40.0);
        // 40 contacts × 360 s / 2 at once / 3600 s = 2 Erlangs.
        let direct = agents_needed_for(40.0, &workload(), &goal()).unwrap();
        assert_eq!(tuesday_10.agents, direct.base_agents);
        assert!(
            tuesday_10.agents > 2,
            "more agents than Erlangs to meet 80/60"
        );
        assert!(tuesday_10.agents_with_shrinkage > tuesday_10.agents);
        let sunday_3 = &f.intervals[6 * 24 + 3];
        assert_eq!(sunday_3.contacts, 4.0);
        assert!(sunday_3.agents < tuesday_10.agents);
    }

    #[test]
    fn the_held_out_week_shows_the_error_of_a_changed_pattern() {
        let monday = 20_780 * 24;
        // The last week doubled: the method, fitted on the weeks before, misses by half.
        let history: Vec<(i64, i64)> = (monday - 6 * 168..monday)
            .map(|h| {
                (
                    h,
                    if h >= monday - 168 {
                        2 * pattern(h)
                    } else {
                        pattern(h)
                    },
                )
            })
            .collect();
        let f = forecast(&history, monday, 4, &workload(), &goal()).unwrap();
        let wape = f.holdout.wape_pct.unwrap();
        assert!((wape - 50.0).abs() < 1e-9, "{wape}");
        assert_eq!(f.holdout.actual, 2 * f.holdout.forecast as i64);
        assert!(forecast(&history, monday, 0, &workload(), &goal()).is_err());
    }
}
