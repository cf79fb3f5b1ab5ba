//! The supervisor dashboard: volume by platform and by intent over time, the sentiment
//! trend, SLA attainment, the first-response distribution, the backlog and each agent's
//! load — as SVG charts drawn on the server from the store's aggregates.

use super::charts::{hbars, line, stacked};
use super::sla;
use super::{Viewer, error_page, layout, span};
use crate::AppState;
use crate::problem::Problem;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sb_domain::{Clock, ErrorCode, SystemClock, Timestamp};
use sb_store::{Bucketed, DashboardData};
use sb_workflow::sla::{ClockStatus, Metric};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const HOUR: i64 = 3_600_000;

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    range: Option<String>,
}

/// The ranges offered: name, length and bucket width.
const RANGES: &[(&str, i64, i64)] = &[
    ("24h", 24 * HOUR, HOUR),
    ("7d", 7 * 24 * HOUR, 6 * HOUR),
    ("30d", 30 * 24 * HOUR, 24 * HOUR),
];

/// First-response times are grouped into these upper bounds (minutes).
const RESPONSE_BANDS: &[(i64, &str)] = &[
    (5, "< 5 min"),
    (15, "5–15 min"),
    (30, "15–30 min"),
    (60, "30–60 min"),
    (240, "1–4 h"),
    (1440, "4–24 h"),
    (i64::MAX, "> 24 h"),
];

pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    query: Result<Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let range = match crate::api::query(query) {
        Ok(q) => q.range.unwrap_or_else(|| "24h".to_owned()),
        Err(e) => return error_page(Some(&who), &e),
    };
    let Some(&(name, length, bucket)) = RANGES.iter().find(|r| r.0 == range) else {
        let e = Problem::new(
            ErrorCode::InvalidQuery,
            format!("unknown range `{range}`; use 24h, 7d or 30d"),
        )
        .with_field("range");
        return error_page(Some(&who), &e);
    };
    let now = SystemClock.now();
    let start = Timestamp((now.millis() - length) / bucket * bucket + bucket);
    let data = match state.store.dashboard(start, bucket).await {
        Ok(d) => d,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let loads = match state.store.agent_loads().await {
        Ok(l) => l,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let queues = match state.store.queues().await {
        Ok(q) => q,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let queue_names: HashMap<String, String> = queues
        .into_iter()
        .map(|q| (q.id.to_string(), q.name))
        .collect();
    let capacities: HashMap<String, u32> = state
        .casework
        .workflow()
        .router
        .agents()
        .map(|a| (a.id.clone(), a.capacity))
        .collect();
    let buckets: Vec<i64> = (0..length / bucket)
        .map(|i| start.millis() + i * bucket)
        .collect();
    let labels: Vec<String> = buckets.iter().map(|b| bucket_label(*b, bucket)).collect();
    let body = html! {
        div.inbox-head {
            h1 { "Dashboard" }
            nav.views aria-label="Range" {
                @for (r, _, _) in RANGES { a.active[*r == name] href={ "/ui/dashboard?range=" (r) } { "Last " (r) } }
            }
        }
        div.charts {
            (stacked("Volume by platform", &labels, &series(&data.by_platform, &buckets)))
            (stacked("Volume by intent", &labels, &series(&data.by_intent, &buckets)))
            (line("Sentiment trend (mean compound score)", &labels, &sentiment(&data, &buckets), -1.0, 1.0))
            (attainment(&data, now))
            (first_response(&data))
            (backlog(&data, &queue_names))
            (agent_load(&loads, &capacities))
        }
    };
    layout(Some(&who), "Dashboard", "dashboard", body).into_response()
}

fn bucket_label(at: i64, bucket: i64) -> String {
    let s = Timestamp(at).to_rfc3339();
    let date = s.get(5..10).unwrap_or_default();
    let time = s.get(11..16).unwrap_or_default();
    if bucket >= 24 * HOUR {
        date.to_owned()
    } else if bucket > HOUR {
        format!("{date} {time}")
    } else {
        time.to_owned()
    }
}

/// Rows of (bucket, label, count) as one series per label, aligned to `buckets`, biggest first.
fn series(rows: &[Bucketed], buckets: &[i64]) -> Vec<(String, Vec<i64>)> {
    let index: HashMap<i64, usize> = buckets.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows {
        if let Some(&i) = index.get(&r.bucket.millis()) {
            by.entry(r.label.clone())
                .or_insert_with(|| vec![0; buckets.len()])[i] += r.count;
        }
    }
    let mut out: Vec<(String, Vec<i64>)> = by.into_iter().collect();
    out.sort_by_key(|(_, v)| std::cmp::Reverse(v.iter().sum::<i64>()));
    out
}

fn sentiment(d: &DashboardData, buckets: &[i64]) -> Vec<Option<f64>> {
    let by: HashMap<i64, f64> = d
        .sentiment
        .iter()
        .map(|(b, m, _)| (b.millis(), *m))
        .collect();
    buckets.iter().map(|b| by.get(b).copied()).collect()
}

/// The few fields of a stored clock the attainment figures need; the rest of the stored
/// document is skipped while parsing.
#[derive(Deserialize)]
struct StoredClocks {
    #[serde(default)]
    clocks: Vec<StoredClock>,
}

#[derive(Deserialize)]
struct StoredClock {
    metric: Metric,
    status: ClockStatus,
    #[serde(default)]
    breached: bool,
    due_at: Option<Timestamp>,
}

/// Per metric: clocks met within target out of those that stopped or breached.
fn attainment(d: &DashboardData, now: Timestamp) -> Markup {
    const METRICS: [Metric; 3] = [
        Metric::FirstResponse,
        Metric::NextResponse,
        Metric::Resolution,
    ];
    let mut met = [0u64; 3];
    let mut decided = [0u64; 3];
    for (_, _, s) in &d.cases {
        let Some(clocks) = s
            .as_deref()
            .and_then(|s| serde_json::from_str::<StoredClocks>(s).ok())
        else {
            continue;
        };
        for c in clocks.clocks {
            let Some(i) = METRICS.iter().position(|m| *m == c.metric) else {
                continue;
            };
            let breached = c.breached || c.due_at.is_some_and(|d| d <= now);
            match c.status {
                ClockStatus::Cancelled => {}
                ClockStatus::Fulfilled if !breached => {
                    met[i] += 1;
                    decided[i] += 1;
                }
                ClockStatus::Fulfilled => decided[i] += 1,
                _ if breached => decided[i] += 1,
                _ => {}
            }
        }
    }
    let mut items = Vec::new();
    for (i, metric) in METRICS.iter().enumerate() {
        if decided[i] > 0 {
            let pct = 100.0 * met[i] as f64 / decided[i] as f64;
            items.push((
                sla::metric_name(*metric).to_owned(),
                pct,
                format!("{pct:.1}% ({} of {})", met[i], decided[i]),
            ));
        }
    }
    html! {
        @if items.is_empty() {
            figure.chart { figcaption { "SLA attainment" } p.muted { "No SLA clock has been met or breached in this range." } }
        } @else {
            (hbars("SLA attainment (met within target)", &items, 100.0))
        }
    }
}

fn first_response(d: &DashboardData) -> Markup {
    let mut counts = vec![0i64; RESPONSE_BANDS.len()];
    let mut unanswered = 0i64;
    let mut times: Vec<i64> = Vec::new();
    for (opened, first, _) in &d.cases {
        match first {
            Some(f) => {
                let ms = (f.millis() - opened.millis()).max(0);
                times.push(ms);
                let mins = ms / 60_000;
                if let Some(i) = RESPONSE_BANDS.iter().position(|(max, _)| mins < *max) {
                    counts[i] += 1;
                }
            }
            None => unanswered += 1,
        }
    }
    times.sort_unstable();
    let median = times.get(times.len() / 2).copied();
    let max = counts.iter().copied().max().unwrap_or(0).max(unanswered) as f64;
    let mut items: Vec<(String, f64, String)> = RESPONSE_BANDS
        .iter()
        .zip(&counts)
        .map(|((_, name), n)| ((*name).to_owned(), *n as f64, n.to_string()))
        .collect();
    items.push((
        "not yet answered".into(),
        unanswered as f64,
        unanswered.to_string(),
    ));
    let title = match median {
        Some(m) => format!("First-response times (median {})", span(m)),
        None => "First-response times".to_owned(),
    };
    hbars(&title, &items, max)
}

fn backlog(d: &DashboardData, queues: &HashMap<String, String>) -> Markup {
    let by_status: Vec<(String, f64, String)> = d
        .backlog
        .iter()
        .map(|(s, n)| (s.replace('_', " "), *n as f64, n.to_string()))
        .collect();
    let by_queue: Vec<(String, f64, String)> = d
        .backlog_by_queue
        .iter()
        .map(|(q, n)| {
            let name = q
                .as_ref()
                .and_then(|q| queues.get(q).cloned())
                .unwrap_or_else(|| "no queue".to_owned());
            (name, *n as f64, n.to_string())
        })
        .collect();
    let total: i64 = d.backlog.iter().map(|(_, n)| n).sum();
    let max = |v: &[(String, f64, String)]| v.iter().map(|x| x.1).fold(0.0, f64::max);
    html! {
        (hbars(&format!("Backlog by status ({total} open)"), &by_status, max(&by_status)))
        (hbars("Backlog by queue", &by_queue, max(&by_queue)))
    }
}

fn agent_load(loads: &[(String, i64)], capacity: &HashMap<String, u32>) -> Markup {
    let items: Vec<(String, f64, String)> = loads
        .iter()
        .map(|(agent, n)| {
            let text = match capacity.get(agent) {
                Some(c) => format!("{n} of {c}"),
                None => n.to_string(),
            };
            (agent.clone(), *n as f64, text)
        })
        .collect();
    let max = loads
        .iter()
        .map(|(a, n)| {
            capacity
                .get(a)
                .map_or(*n as f64, |c| f64::from(*c))
                .max(*n as f64)
        })
        .fold(0.0, f64::max);
    html! {
        @if items.is_empty() {
            figure.chart { figcaption { "Agent load" } p.muted { "No open case is assigned." } }
        } @else {
            (hbars("Agent load (open cases assigned)", &items, max))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_line_up_with_their_buckets_biggest_series_first() {
        let rows = vec![
            Bucketed {
                bucket: Timestamp(0),
                label: "x".into(),
                count: 1,
            },
            Bucketed {
                bucket: Timestamp(HOUR),
                label: "email".into(),
                count: 5,
            },
            Bucketed {
                bucket: Timestamp(HOUR),
                label: "x".into(),
                count: 2,
            },
            Bucketed {
                bucket: Timestamp(99 * HOUR),
                label: "x".into(),
                count: 9,
            },
        ];
        let s = series(&rows, &[0, HOUR]);
        assert_eq!(
            s,
            vec![
                ("email".to_owned(), vec![0, 5]),
                ("x".to_owned(), vec![1, 2])
            ]
        );
    }

    #[test]
    fn attainment_counts_clocks_met_in_time_out_of_those_decided() {
        let doc = |status: &str, breached: bool, due: Option<i64>| {
            Some(
                serde_json::json!({"policy": "p", "status": "open", "awaiting_first_response": true,
                    "last_at": 0, "next_due": null, "clocks": [{
                    "metric": "first_response", "status": status, "warned": false, "breached": breached,
                    "elapsed_ms": 0, "since": 0, "target_ms": 60_000, "warn_ms": 45_000,
                    "due_at": due.map(|ms| serde_json::to_value(Timestamp(ms)).ok()), "warn_at": null, "first_fulfilled_at": null, "fulfilled_at": null}]})
                .to_string(),
            )
        };
        let data = DashboardData {
            cases: vec![
                (Timestamp(0), None, doc("fulfilled", false, None)),
                (Timestamp(0), None, doc("fulfilled", true, None)),
                (Timestamp(0), None, doc("running", false, Some(1_000))),
                (Timestamp(0), None, doc("running", false, Some(9_000_000))),
                (Timestamp(0), None, doc("cancelled", true, None)),
                (Timestamp(0), None, None),
            ],
            ..DashboardData::default()
        };
        let svg = attainment(&data, Timestamp(5_000)).into_string();
        assert!(svg.contains("33.3% (1 of 3)"), "{svg}");
    }

    #[test]
    fn buckets_are_labelled_by_their_width() {
        assert_eq!(bucket_label(HOUR, HOUR), "01:00");
        assert_eq!(bucket_label(0, 24 * HOUR), "01-01");
    }
}
