//! What operations tools are told: alerts and incidents turned into outbox items, one per
//! configured target (PagerDuty, Slack, ServiceNow, webhook). Each carries a stable
//! `dedup_key` — the alert episode's or the incident's — so the tools group a trigger with its
//! escalations and its resolution, and the outbox key makes a repeated event one send.

use crate::listening::Resolved;
use sb_domain::{Alert, Incident, IncidentStatus, NewOutboxItem};
use serde_json::{Value, json};

/// `subject` is also the ordering key: the outbox sends one target's items about one subject
/// in the order they were queued (a resolve never overtakes its trigger).
fn item(target: &str, key: String, subject: &str, payload: Value) -> NewOutboxItem {
    NewOutboxItem {
        target: target.to_owned(),
        dedup_key: key,
        payload,
        subject: Some(subject.to_owned()),
    }
}

/// Trigger notifications for a rule alert. Detector alerts without a rule are not sent:
/// operators choose what pages them by writing rules.
pub fn for_alert(targets: &[String], a: &Alert) -> Vec<NewOutboxItem> {
    let Some(dedup) = a.dedup_key.clone() else {
        return Vec::new();
    };
    let severity = a.severity.clone().unwrap_or_else(|| "error".into());
    let summary = a
        .summary
        .clone()
        .unwrap_or_else(|| format!("{} on {}", a.kind.as_str(), a.series));
    targets
        .iter()
        .map(|t| {
            item(
                t,
                format!("alert:{t}:{dedup}:trigger:{severity}"),
                &dedup,
                json!({
                    "type": "notification",
                    "action": "trigger",
                    "dedup_key": dedup,
                    "summary": summary,
                    "source": "switchboard",
                    "severity": severity,
                    "timestamp": a.raised_at.to_rfc3339(),
                    "component": a.series,
                    "group": a.rule_id,
                    "class": a.kind.as_str(),
                    "custom_details": {
                        "alert_id": a.id.as_str(),
                        "value": a.score,
                        "volume": a.volume,
                        "sentiment_mean": a.sentiment_mean,
                        "bucket_start": a.bucket_start.to_rfc3339(),
                    },
                }),
            )
        })
        .collect()
}

/// Resolve notifications when a rule episode ends.
pub fn for_resolution(targets: &[String], r: &Resolved) -> Vec<NewOutboxItem> {
    targets
        .iter()
        .map(|t| {
            item(
                t,
                format!("alert:{t}:{}:resolve", r.dedup_key),
                &r.dedup_key,
                json!({
                    "type": "notification",
                    "action": "resolve",
                    "dedup_key": r.dedup_key,
                    "summary": format!("Resolved: rule {} on {}", r.rule_id, r.group_key),
                    "source": "switchboard",
                    "severity": "info",
                    "timestamp": r.at.to_rfc3339(),
                    "component": r.group_key,
                    "group": r.rule_id,
                    "class": "rule",
                }),
            )
        })
        .collect()
}

/// Notifications for an incident's state: opened → trigger, acknowledged or mitigated →
/// acknowledge, resolved or closed → resolve.
pub fn for_incident(targets: &[String], i: &Incident, link: &str) -> Vec<NewOutboxItem> {
    let action = match i.status {
        IncidentStatus::Open => "trigger",
        IncidentStatus::Acknowledged | IncidentStatus::Mitigated => "acknowledge",
        IncidentStatus::Resolved | IncidentStatus::Closed => "resolve",
    };
    // One notification per state reached; reopening starts a new round.
    let round = i
        .timeline
        .iter()
        .filter(|e| e.kind == sb_domain::TimelineKind::StatusChanged)
        .count();
    targets
        .iter()
        .map(|t| {
            item(
                t,
                format!("incident:{t}:{}:{action}:{round}", i.id),
                i.id.as_str(),
                json!({
                    "type": "notification",
                    "action": action,
                    "dedup_key": i.id.as_str(),
                    "summary": format!("[{}] {}", i.status.as_str(), i.title),
                    "source": "switchboard",
                    "severity": i.severity.as_str(),
                    "timestamp": i.opened_at.to_rfc3339(),
                    "component": "incident",
                    "class": "incident",
                    "custom_details": {
                        "incident_id": i.id.as_str(),
                        "owner": i.owner,
                        "alerts": i.alert_ids,
                        "cases": i.case_ids,
                    },
                    "links": [{"href": link, "text": "Incident in Switchboard"}],
                }),
            )
        })
        .collect()
}
