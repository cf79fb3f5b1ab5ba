//! Capacity ahead of time (E7, F5): a contact forecast per hour from the same hour of the
//! week in past weeks, raised by planned campaigns' expected lift, turned into agents needed
//! by Erlang C (`staffing`) and compared with the roster. An hour whose roster falls short is
//! a warning before it happens; the warning says whether the campaigns cause it (without
//! them the roster would do) or the baseline alone already does (a surge).
//!
//! Pure: history, plan and roster are handed in.

use crate::staffing::{Goal, StaffingError, Workload, agents_needed_for};
use serde::Serialize;

pub const HOUR_MS: i64 = 3_600_000;
const WEEK_MS: i64 = 7 * 24 * HOUR_MS;

/// A planned campaign: while it runs, contacts are expected to be `1 + lift` times the usual
/// (`lift` 0.5 is half as many again). Overlapping campaigns add their lifts.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub name: String,
    pub starts_ms: i64,
    /// Exclusive.
    pub ends_ms: i64,
    pub lift: f64,
}

/// The expected contacts of each hour starting at `hours[i]`: the mean count of the same hour
/// of the week over the `weeks` weeks before it, from `history` (hour start, count). Hours
/// with no history count as zero contacts.
pub fn seasonal_forecast(history: &[(i64, i64)], hours: &[i64], weeks: u32) -> Vec<f64> {
    hours
        .iter()
        .map(|&h| {
            let total: i64 = (1..=i64::from(weeks))
                .map(|w| {
                    let at = h - w * WEEK_MS;
                    history
                        .iter()
                        .filter(|(start, _)| *start == at)
                        .map(|(_, n)| *n)
                        .sum::<i64>()
                })
                .sum();
            total as f64 / f64::from(weeks.max(1))
        })
        .collect()
}

/// The campaigns running during the hour starting at `hour`, and their summed lift.
pub fn lift_at(campaigns: &[Campaign], hour: i64) -> (f64, Vec<&str>) {
    let running: Vec<&Campaign> = campaigns
        .iter()
        .filter(|c| c.starts_ms < hour + HOUR_MS && hour < c.ends_ms)
        .collect();
    (
        running.iter().map(|c| c.lift).sum(),
        running.iter().map(|c| c.name.as_str()).collect(),
    )
}

/// One planned hour.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedHour {
    pub start_ms: i64,
    /// Contacts from history alone.
    pub baseline: f64,
    /// Contacts with the campaigns' lift.
    pub forecast: f64,
    pub campaigns: Vec<String>,
    /// Heads to roster (after shrinkage) for the baseline, and for the forecast.
    pub needed_baseline: u32,
    pub needed: u32,
    pub rostered: u32,
    /// `surge` (short even without the campaigns), `campaign` (short because of them), or
    /// none.
    pub warning: Option<&'static str>,
}

/// Plans each hour: forecast with lift, agents needed, and a warning where the roster (heads
/// per hour, the last value repeating for hours beyond it) falls short.
pub fn plan(
    hours: &[i64],
    baseline: &[f64],
    campaigns: &[Campaign],
    roster: &[u32],
    workload: &Workload,
    goal: &Goal,
) -> Result<Vec<PlannedHour>, StaffingError> {
    let mut out = Vec::with_capacity(hours.len());
    for (i, (&start, &base)) in hours.iter().zip(baseline).enumerate() {
        let (lift, running) = lift_at(campaigns, start);
        let forecast = base * (1.0 + lift);
        let needed_baseline = agents_needed_for(base, workload, goal)?.with_shrinkage;
        let needed = agents_needed_for(forecast, workload, goal)?.with_shrinkage;
        let rostered = roster.get(i).or(roster.last()).copied().unwrap_or(0);
        let warning = if rostered < needed_baseline {
            Some("surge")
        } else if rostered < needed {
            Some("campaign")
        } else {
            None
        };
        out.push(PlannedHour {
            start_ms: start,
            baseline: base,
            forecast,
            campaigns: running.into_iter().map(str::to_owned).collect(),
            needed_baseline,
            needed,
            rostered,
            warning,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const T0: i64 = 1_000 * WEEK_MS;

    fn workload() -> Workload {
        Workload {
            interval_s: 3_600.0,
            handle_time_s: 360.0,
            concurrency: 1,
        }
    }

    fn goal() -> Goal {
        Goal {
            target_s: 20.0,
            service_level: 0.8,
            shrinkage: 0.0,
            max_occupancy: 1.0,
        }
    }

    #[test]
    fn the_forecast_is_the_same_hour_in_past_weeks() {
        let history = [
            (T0 - WEEK_MS, 100),
            (T0 - 2 * WEEK_MS, 80),
            (T0 - WEEK_MS + HOUR_MS, 10),
            (T0 - 3 * WEEK_MS, 999),
        ];
        let f = seasonal_forecast(&history, &[T0, T0 + HOUR_MS], 2);
        assert_eq!(f, [90.0, 5.0]);
    }

    #[test]
    fn a_campaign_lifts_the_hours_it_overlaps_and_lifts_add_up() {
        let c = [
            Campaign {
                name: "spring sale".into(),
                starts_ms: T0 + 30 * 60_000,
                ends_ms: T0 + 2 * HOUR_MS,
                lift: 0.5,
            },
            Campaign {
                name: "influencer post".into(),
                starts_ms: T0 + HOUR_MS,
                ends_ms: T0 + 3 * HOUR_MS,
                lift: 1.0,
            },
        ];
        assert_eq!(lift_at(&c, T0 - HOUR_MS).0, 0.0);
        assert_eq!(lift_at(&c, T0), (0.5, vec!["spring sale"]));
        assert_eq!(lift_at(&c, T0 + HOUR_MS).0, 1.5);
        assert_eq!(
            lift_at(&c, T0 + 2 * HOUR_MS),
            (1.0, vec!["influencer post"])
        );
    }

    #[test]
    fn a_campaign_that_outgrows_the_roster_warns_and_a_surge_is_told_apart() {
        // 100 contacts of 6 minutes an hour is 10 Erlangs: 14 agents for 80/20 (the textbook
        // case scaled to an hour); doubled by a campaign it needs more.
        let hours = [T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS];
        let baseline = [100.0, 100.0, 200.0];
        let campaign = [Campaign {
            name: "launch".into(),
            starts_ms: T0 + HOUR_MS,
            ends_ms: T0 + 2 * HOUR_MS,
            lift: 1.0,
        }];
        let p = plan(&hours, &baseline, &campaign, &[14], &workload(), &goal()).unwrap();
        assert_eq!((p[0].needed, p[0].warning), (14, None));
        assert_eq!(p[1].forecast, 200.0);
        assert_eq!(p[1].needed_baseline, 14);
        assert!(p[1].needed > 14);
        assert_eq!(p[1].warning, Some("campaign"));
        assert_eq!(p[1].campaigns, ["launch"]);
        assert_eq!(p[2].warning, Some("surge"), "short without any campaign");
    }
}
