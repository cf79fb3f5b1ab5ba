//! The weekly report (H6): one week's KPIs as CSV and as a self-contained HTML page — per day
//! for everything, then the week per queue. Rendering only; the rollup stage writes the files.

use crate::kpi::KpiRow;
use crate::kpi::report::{CSV_HEADER, csv_row};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn minutes(ms: Option<f64>) -> String {
    opt(ms.map(|m| m / 60_000.0), 1)
}

/// The CSV: a `section` column (`day` or `queue`) before the KPI report's columns.
pub fn csv(days: &[KpiRow], queues: &[KpiRow]) -> String {
    let mut out = format!("section,{CSV_HEADER}\n");
    for (section, rows) in [("day", days), ("queue", queues)] {
        for r in rows {
            out.push_str(section);
            out.push(',');
            out.push_str(&csv_row(&r.period_start, &r.group, &r.figures));
            out.push('\n');
        }
    }
    out
}

fn table(title: &str, first: &str, rows: &[KpiRow], label: impl Fn(&KpiRow) -> String) -> String {
    let mut t = format!(
        "<h2>{}</h2>\n<table>\n<tr><th>{}</th><th>opened</th><th>resolved</th><th>backlog</th>\
         <th>first response mean (min)</th><th>first resolution mean (min)</th>\
         <th>SLA first response %</th><th>SLA resolution %</th><th>FCR %</th><th>CSAT %</th>\
         <th>NPS</th><th>CES</th></tr>\n",
        escape(title),
        escape(first)
    );
    for r in rows {
        let f = &r.figures;
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&label(r)),
            f.cases_opened,
            f.resolutions,
            f.backlog,
            minutes(f.first_response.mean_ms),
            minutes(f.first_resolution.mean_ms),
            opt(f.sla.first_response.pct, 1),
            opt(f.sla.resolution.pct, 1),
            opt(f.fcr_pct, 1),
            opt(f.csat_pct, 1),
            opt(f.nps, 1),
            opt(f.ces, 2),
        ));
    }
    t.push_str("</table>\n");
    t
}

/// The HTML page: the week's days, then its queues. Nothing is loaded from elsewhere.
pub fn html(week_start: &str, days: &[KpiRow], queues: &[KpiRow]) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Switchboard weekly report, week of {w}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         td:first-child,th:first-child{{text-align:left}}</style></head><body>\n\
         <h1>Weekly report, week of {w} (UTC)</h1>\n<p>Calendar hours; definitions in \
         docs/METRICS.md. – means no data.</p>\n{}{}</body></html>\n",
        table("Per day", "day", days, |r| r.period_start.clone()),
        table("Per queue, whole week", "queue", queues, |r| r
            .group
            .clone()),
        w = escape(week_start),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::KpiFigures;

    #[test]
    fn the_page_escapes_names_and_the_csv_keeps_every_row() {
        let row = |group: &str| KpiRow {
            start_day: 0,
            period_start: "2026-11-23".into(),
            group: group.into(),
            figures: KpiFigures {
                cases_opened: 7,
                csat_pct: Some(80.0),
                ..KpiFigures::default()
            },
        };
        let page = html("2026-11-23", &[row("all")], &[row("<script>")]);
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("<td>7</td>"));
        assert!(page.contains("<td>80.0</td>"));
        let csv = csv(&[row("all")], &[row("billing")]);
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.lines()
                .nth(2)
                .unwrap_or_default()
                .starts_with("queue,2026-11-23,billing,7,")
        );
    }
}
