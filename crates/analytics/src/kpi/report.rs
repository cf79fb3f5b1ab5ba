//! KPI figures from rollup sums: means, estimated percentiles, attainment, CSAT, NPS, CES,
//! first-contact resolution and cost per resolution, as docs/METRICS.md defines them. A
//! figure with nothing to compute it from is `None` (shown as `null`), never 0.

use sb_store::reports::{
    BUCKET_BOUNDS_MS, BUCKETS, KpiQuery, KpiSums, PeriodUnit, civil_from_days, count_index,
    days_from_civil, duration_index,
};
use serde::Serialize;

/// Calendar time (every minute) or the SLA policy's business time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hours {
    Calendar,
    Business,
}

impl Hours {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "calendar" => Some(Self::Calendar),
            "business" => Some(Self::Business),
            _ => None,
        }
    }
}

/// One duration metric over a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DurationFigure {
    pub count: i64,
    pub mean_ms: Option<f64>,
    /// Estimated from the histogram (linear within a bucket).
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
}

/// SLA attainment of one metric: fulfilled clocks, those within target, and the share.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Attainment {
    pub fulfilled: i64,
    pub met: i64,
    pub pct: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SlaFigures {
    pub first_response: Attainment,
    pub next_response: Attainment,
    pub resolution: Attainment,
    pub breaches: i64,
}

/// Every KPI of one period and group.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KpiFigures {
    pub cases_opened: i64,
    pub reopened: i64,
    pub resolutions: i64,
    /// Cases neither resolved nor closed at the end of the period.
    pub backlog: i64,
    pub human_replies: i64,
    pub first_response: DurationFigure,
    pub next_response: DurationFigure,
    pub first_resolution: DurationFigure,
    pub full_resolution: DurationFigure,
    /// Calendar time only; `null` figures in business hours.
    pub handle_time: DurationFigure,
    pub sla: SlaFigures,
    pub closed: i64,
    pub fcr_pct: Option<f64>,
    pub survey_responses: i64,
    pub csat_pct: Option<f64>,
    pub nps_responses: i64,
    pub nps: Option<f64>,
    pub ces_responses: i64,
    pub ces: Option<f64>,
    /// Handle hours × hourly cost ÷ resolutions; `null` without an hourly cost.
    pub cost_per_resolution: Option<f64>,
}

fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// The `q` quantile (0–1) of a histogram with [`BUCKET_BOUNDS_MS`] buckets: found by count,
/// then placed linearly within its bucket. The open last bucket answers its lower bound.
pub fn quantile(buckets: &[i64], q: f64) -> Option<f64> {
    let total: i64 = buckets.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut seen = 0.0;
    for (i, &n) in buckets.iter().enumerate() {
        let n = n as f64;
        if n > 0.0 && seen + n >= rank {
            let lo = if i == 0 { 0 } else { BUCKET_BOUNDS_MS[i - 1] } as f64;
            let Some(&hi) = BUCKET_BOUNDS_MS.get(i) else {
                return Some(lo);
            };
            return Some(lo + (hi as f64 - lo) * ((rank - seen) / n).clamp(0.0, 1.0));
        }
        seen += n;
    }
    None
}

fn duration(c: &[i64], name: &str) -> DurationFigure {
    let Some(i) = duration_index(name) else {
        return DurationFigure::default();
    };
    let count = c[i];
    let buckets = &c[i + 2..i + 2 + BUCKETS];
    DurationFigure {
        count,
        mean_ms: (count > 0).then(|| c[i + 1] as f64 / count as f64),
        median_ms: quantile(buckets, 0.5),
        p90_ms: quantile(buckets, 0.9),
    }
}

fn get(c: &[i64], name: &str) -> i64 {
    count_index(name).map_or(0, |i| c[i])
}

fn attainment(c: &[i64], fulfilled: &str, met: &str) -> Attainment {
    let (f, m) = (get(c, fulfilled), get(c, met));
    Attainment {
        fulfilled: f,
        met: m,
        pct: pct(m, f),
    }
}

/// The figures of one row of summed counters. `backlog` is filled by the caller (it needs
/// every day before the period's end); `hourly_cost` prices handle time.
pub fn figures(c: &[i64], hours: Hours, hourly_cost: Option<f64>) -> KpiFigures {
    let d = |cal: &str, bus: &str| match hours {
        Hours::Calendar => duration(c, cal),
        Hours::Business => duration(c, bus),
    };
    let resolutions = get(c, "resolved");
    let handle = duration(c, "handle_cal");
    let nps_n = get(c, "nps_n");
    let ces_n = get(c, "ces_n");
    let handle_ms = duration_index("handle_cal").map_or(0, |i| c[i + 1]);
    KpiFigures {
        cases_opened: get(c, "opened"),
        reopened: get(c, "reopened"),
        resolutions,
        backlog: 0,
        human_replies: get(c, "replies"),
        first_response: d("first_response_cal", "first_response_bus"),
        next_response: d("next_response_cal", "next_response_bus"),
        first_resolution: d("first_resolution_cal", "first_resolution_bus"),
        full_resolution: d("full_resolution_cal", "full_resolution_bus"),
        handle_time: match hours {
            Hours::Calendar => handle,
            Hours::Business => DurationFigure::default(),
        },
        sla: SlaFigures {
            first_response: attainment(c, "sla_fr_fulfilled", "sla_fr_met"),
            next_response: attainment(c, "sla_nr_fulfilled", "sla_nr_met"),
            resolution: attainment(c, "sla_res_fulfilled", "sla_res_met"),
            breaches: get(c, "sla_breaches"),
        },
        closed: get(c, "fcr_closed"),
        fcr_pct: pct(get(c, "fcr_yes"), get(c, "fcr_closed")),
        survey_responses: get(c, "csat_n"),
        csat_pct: pct(get(c, "csat_sat"), get(c, "csat_n")),
        nps_responses: nps_n,
        nps: (nps_n > 0)
            .then(|| 100.0 * (get(c, "nps_pro") - get(c, "nps_det")) as f64 / nps_n as f64),
        ces_responses: ces_n,
        ces: (ces_n > 0).then(|| get(c, "ces_sum") as f64 / ces_n as f64),
        cost_per_resolution: hourly_cost
            .filter(|_| resolutions > 0)
            .map(|cost| cost * handle_ms as f64 / 3_600_000.0 / resolutions as f64),
    }
}

/// One row of a KPI report: a period (its first day, UTC) and a group (a value of the
/// dimension grouped by, or `all`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KpiRow {
    /// Day number of the period's first day (days since 1970-01-01).
    #[serde(skip)]
    pub start_day: i64,
    pub period_start: String,
    pub group: String,
    #[serde(flatten)]
    pub figures: KpiFigures,
}

/// First day of the period a bucket names (see `sb_store::reports::PeriodUnit`).
pub fn bucket_start_day(unit: PeriodUnit, bucket: i64) -> i64 {
    match unit {
        PeriodUnit::Day => bucket,
        PeriodUnit::Week => bucket * 7 - 3,
        PeriodUnit::Month => days_from_civil(
            1970 + bucket.div_euclid(12),
            (bucket.rem_euclid(12) + 1) as u32,
            1,
        ),
    }
}

/// First day after the period a bucket names.
pub fn bucket_end_day(unit: PeriodUnit, bucket: i64) -> i64 {
    bucket_start_day(unit, bucket + 1)
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A report's rows from the summed counters of its periods and the backlog changes of every
/// day before its end (in day order, as `kpi_backlog_changes` answers them). A period that starts before `from_day` is shown from `from_day`; the
/// backlog of a row is the group's open cases at the end of its period (or at `to_day`).
pub fn assemble(
    q: &KpiQuery,
    sums: &[KpiSums],
    backlog_changes: &[(i64, String, i64)],
    hours: Hours,
    hourly_cost: Option<f64>,
) -> Vec<KpiRow> {
    // Per group: days with a change, and the running total after each.
    let mut running: std::collections::HashMap<&str, Vec<(i64, i64)>> =
        std::collections::HashMap::new();
    for (day, value, change) in backlog_changes {
        let series = running.entry(value.as_str()).or_default();
        let total = series.last().map_or(0, |&(_, t)| t) + change;
        match series.last_mut() {
            Some(last) if last.0 == *day => last.1 = total,
            _ => series.push((*day, total)),
        }
    }
    let backlog_before = |value: &str, end: i64| -> i64 {
        running.get(value).map_or(0, |series| {
            let n = series.partition_point(|&(day, _)| day < end);
            n.checked_sub(1).map_or(0, |i| series[i].1)
        })
    };
    let mut rows: Vec<KpiRow> = sums
        .iter()
        .map(|s| {
            let start = bucket_start_day(q.unit, s.bucket).max(q.from_day);
            let end = bucket_end_day(q.unit, s.bucket).min(q.to_day);
            let mut figures = figures(&s.counters, hours, hourly_cost);
            figures.backlog = backlog_before(&s.value, end);
            KpiRow {
                start_day: start,
                period_start: date_of_day(start),
                group: s.value.clone(),
                figures,
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.start_day, &a.group).cmp(&(b.start_day, &b.group)));
    rows
}

/// The CSV header of a KPI report, and one row: flat columns, empty where `null`.
pub const CSV_HEADER: &str = "period_start,group,cases_opened,reopened,resolutions,backlog,\
human_replies,first_response_count,first_response_mean_ms,first_response_median_ms,first_response_p90_ms,\
next_response_count,next_response_mean_ms,next_response_median_ms,next_response_p90_ms,\
first_resolution_count,first_resolution_mean_ms,first_resolution_median_ms,first_resolution_p90_ms,\
full_resolution_count,full_resolution_mean_ms,full_resolution_median_ms,full_resolution_p90_ms,\
handle_time_count,handle_time_mean_ms,handle_time_median_ms,handle_time_p90_ms,\
sla_first_response_pct,sla_next_response_pct,sla_resolution_pct,sla_breaches,closed,fcr_pct,\
survey_responses,csat_pct,nps_responses,nps,ces_responses,ces,cost_per_resolution";

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{}", (v * 1000.0).round() / 1000.0))
        .unwrap_or_default()
}

fn dur(d: &DurationFigure) -> String {
    format!(
        "{},{},{},{}",
        d.count,
        opt(d.mean_ms),
        opt(d.median_ms),
        opt(d.p90_ms)
    )
}

/// One CSV line (no newline). `group` is quoted when it needs to be.
pub fn csv_row(period_start: &str, group: &str, f: &KpiFigures) -> String {
    [
        period_start.to_owned(),
        crate::csv::field(group),
        f.cases_opened.to_string(),
        f.reopened.to_string(),
        f.resolutions.to_string(),
        f.backlog.to_string(),
        f.human_replies.to_string(),
        dur(&f.first_response),
        dur(&f.next_response),
        dur(&f.first_resolution),
        dur(&f.full_resolution),
        dur(&f.handle_time),
        opt(f.sla.first_response.pct),
        opt(f.sla.next_response.pct),
        opt(f.sla.resolution.pct),
        f.sla.breaches.to_string(),
        f.closed.to_string(),
        opt(f.fcr_pct),
        f.survey_responses.to_string(),
        opt(f.csat_pct),
        f.nps_responses.to_string(),
        opt(f.nps),
        f.ces_responses.to_string(),
        opt(f.ces),
        opt(f.cost_per_resolution),
    ]
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_one_bucket_lies_inside_it() {
        let mut b = [0; BUCKETS];
        b[1] = 4; // 1–5 minutes
        let m = quantile(&b, 0.5).unwrap_or_default();
        assert!((m - 180_000.0).abs() < 1.0, "{m}");
        assert_eq!(quantile(&[0; BUCKETS], 0.5), None);
    }

    #[test]
    fn the_header_and_a_row_have_as_many_columns() {
        let f = figures(
            &vec![0; sb_store::reports::KPI_WIDTH],
            Hours::Calendar,
            None,
        );
        let row = csv_row("2026-11-23", "a,b", &f);
        let cols = |s: &str| {
            let mut n = 1;
            let mut quoted = false;
            for ch in s.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => n += 1,
                    _ => {}
                }
            }
            n
        };
        assert_eq!(cols(CSV_HEADER), cols(&row));
    }
}
