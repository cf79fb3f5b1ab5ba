//! The debrief export: once an incident is resolved, the facts a review needs — how long it
//! took to notice and to fix, what was linked, what happened when, and what was learnt — as
//! Markdown for people and JSON for tools.

use super::{Incident, IncidentError, IncidentStatus, TimelineEntry};
use serde_json::{Value, json};
use std::fmt::Write as _;

impl Incident {
    fn check_resolved(&self) -> Result<(), IncidentError> {
        match self.status {
            IncidentStatus::Resolved | IncidentStatus::Closed => Ok(()),
            _ => Err(IncidentError::NotResolved),
        }
    }

    pub fn debrief_markdown(&self) -> Result<String, IncidentError> {
        self.check_resolved()?;
        let mut md = String::new();
        let none = "—".to_owned();
        let when = |t: Option<crate::Timestamp>| t.map_or_else(|| none.clone(), |t| t.to_rfc3339());
        let took = |ms: Option<i64>| ms.map_or_else(|| none.clone(), human_duration);
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(md, "# Incident debrief: {}\n", self.title);
        let _ = writeln!(md, "| | |\n|---|---|");
        for (label, value) in [
            ("Incident", self.id.to_string()),
            ("Severity", self.severity.as_str().to_owned()),
            ("Status", self.status.as_str().to_owned()),
            ("Owner", self.owner.clone().unwrap_or_else(|| none.clone())),
            ("Opened", self.opened_at.to_rfc3339()),
            ("Acknowledged", when(self.acknowledged_at)),
            ("Resolved", when(self.resolved_at)),
            ("Closed", when(self.closed_at)),
            ("Duration", took(self.duration_ms())),
            ("Time to acknowledge", took(self.time_to_acknowledge_ms())),
            ("Time to resolve", took(self.time_to_resolve_ms())),
        ] {
            let _ = writeln!(md, "| {label} | {} |", cell(&value));
        }
        list(&mut md, "Linked alerts", &self.alert_ids);
        list(&mut md, "Linked cases", &self.case_ids);
        let _ = writeln!(
            md,
            "\n## Timeline\n\n| Time | Actor | Event | Detail |\n|---|---|---|---|"
        );
        for TimelineEntry {
            at,
            actor,
            kind,
            text,
        } in &self.timeline
        {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                at.to_rfc3339(),
                cell(actor),
                kind.as_str(),
                cell(text)
            );
        }
        section(&mut md, "Summary", self.summary.as_deref());
        section(&mut md, "Root cause", self.root_cause.as_deref());
        list(&mut md, "Actions", &self.actions);
        Ok(md)
    }

    pub fn debrief_json(&self) -> Result<Value, IncidentError> {
        self.check_resolved()?;
        Ok(json!({
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "owner": self.owner,
            "opened_at": self.opened_at,
            "acknowledged_at": self.acknowledged_at,
            "resolved_at": self.resolved_at,
            "closed_at": self.closed_at,
            "duration_ms": self.duration_ms(),
            "time_to_acknowledge_ms": self.time_to_acknowledge_ms(),
            "time_to_resolve_ms": self.time_to_resolve_ms(),
            "alert_ids": self.alert_ids,
            "case_ids": self.case_ids,
            "timeline": self.timeline,
            "summary": self.summary,
            "root_cause": self.root_cause,
            "actions": self.actions,
        }))
    }
}

fn list(md: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(md, "\n## {title}\n");
    if items.is_empty() {
        let _ = writeln!(md, "None.");
    }
    for item in items {
        let _ = writeln!(md, "- {}", one_line(item));
    }
}

fn section(md: &mut String, title: &str, text: Option<&str>) {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let _ = writeln!(md, "\n## {title}\n\n{}", text.unwrap_or("Not written yet."));
}

/// A table cell: one line, with pipes escaped so they do not end the cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `45s`, `4m 05s`, `1h 02m 03s`, `2d 03h 04m`.
pub(crate) fn human_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}
