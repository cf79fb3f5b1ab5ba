//! The demo's disruption. Every half hour (the first a few minutes in) the carrier's tracking
//! feed goes down for six minutes: operations report it on the status feed, customers in the
//! US write in with near-identical `#deliveryoutage` complaints, the demo's alert rules page
//! PagerDuty and Slack (the stand-ins, unless the configuration names real ones), and a
//! simulated on-call engineer opens an incident from the alert and acknowledges it. While
//! tracking is still down they draft a message to the affected customers from the approved
//! template `tracking_outage`, filled from the status feed, which a simulated supervisor
//! approves a minute later; once the alert has cleared they resolve the incident with a
//! debrief. All of it goes through the public API, with an `operations` and a `supervisor`
//! key, as real colleagues would. The outage lasts six minutes so that it always spans the
//! end of a 5-minute bucket, where the alert is raised.

use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

/// The demo's alert rules, written to the data directory at every start when the
/// configuration names no rules file of its own (format: docs/ALERTS.md).
pub const RULES: &str = r##"# Written by `switchboard demo` at every start; name your own file in [alerts] rules to
# replace it. Format: docs/ALERTS.md.

[[rules]]
id = "delivery-outage"
name = "Complaints about a delivery outage"
series = "watch:campaigns:#deliveryoutage"
severity = "error"
resolve_after = 2
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
escalate = [{ at = 150, severity = "critical" }]

[[rules]]
id = "complaint-share"
name = "Complaints are more than half of what customers write"
series = "all"
severity = "warning"
min_volume = 50
resolve_after = 2
cooldown_minutes = 60
condition = { kind = "threshold", metric = "complaint_share", op = "above", value = 0.5 }
"##;

/// The file `RULES` is written to, in the data directory.
pub const RULES_FILE: &str = "demo-alert-rules.toml";

/// The rule whose alerts the simulated on-call takes on.
const OUTAGE_RULE: &str = "delivery-outage";

/// Who the incidents are assigned to.
pub const ON_CALL: &str = "on-call (simulated)";

/// The approved template the message to customers is drafted from (`setup::TEMPLATES`).
pub const TEMPLATE: &str = "tracking_outage";

/// How the on-call's notes about the customers' message begin; one per incident.
const CUSTOMERS_NOTE: &str = "Customers: ";

/// How long the supervisor takes to look at the draft before approving it.
const REVIEW: Duration = Duration::from_secs(45);

/// When the outages come: the first `first` after the start, then every `every`, each
/// lasting `length`.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub first: Duration,
    pub every: Duration,
    pub length: Duration,
}

impl Schedule {
    pub fn new(first: Duration) -> Self {
        Self {
            first,
            every: Duration::from_secs(30 * 60),
            length: Duration::from_secs(6 * 60),
        }
    }

    /// Whether the tracking feed is down `elapsed` after the start.
    pub fn down_at(&self, elapsed: Duration) -> bool {
        let Some(since) = elapsed.checked_sub(self.first) else {
            return false;
        };
        let every = self.every.as_millis().max(1);
        since.as_millis() % every < self.length.as_millis()
    }
}

/// What operations report on the status feed (`POST /api/v1/status`) while the tracking feed
/// is `down` or after it is back, observed at `now` (RFC 3339).
pub fn facts(down: bool, now: &str) -> Value {
    let service = if down {
        json!({"status": "outage", "detail": "The carrier's tracking feed is not updating"})
    } else {
        json!({"status": "operational"})
    };
    json!({"facts": [
        {"kind": "service_status", "subject": "tracking", "region": "*",
         "source": "statuspage", "source_time": now, "value": service},
        {"kind": "delivery_delay", "subject": "delivery", "region": "*",
         "source": "carrier", "source_time": now,
         "value": {"delay_hours": if down { 48 } else { 0 }}},
    ]})
}

/// What the on-call does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Open an incident from this alert.
    Open(String),
    /// Take on this incident.
    Acknowledge(String),
    /// The episode behind this incident's alert escalated: link the louder alert to it.
    Link { incident: String, alert: String },
    /// Tracking is down and the affected customers have not been written to: draft the
    /// message to them.
    Tell(String),
    /// Its alerts are over: resolve it, with a debrief.
    Resolve(String),
}

/// The on-call's next steps, given the newest `alerts` and `incidents` (API JSON) and whether
/// tracking is `down` now. Only incidents about the outage rule's alerts are theirs; anything
/// else is left to people. An escalation is a new alert of the same episode (same
/// `dedup_key`): it joins the episode's incident rather than opening another. Customers are
/// written to once per incident, and only while the outage lasts: what the message says comes
/// from the status feed, which says so only then.
pub fn steps(alerts: &[Value], incidents: &[Value], down: bool) -> Vec<Step> {
    let outage: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule_id"] == OUTAGE_RULE)
        .collect();
    let find = |id: &str| outage.iter().find(|a| a["id"] == id).copied();
    // The episode an alert belongs to.
    let episode = |a: &Value| {
        a["dedup_key"]
            .as_str()
            .or(a["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let linked = |i: &Value| -> Vec<String> {
        i["alert_ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    /// One of the on-call's incidents.
    struct Ours {
        id: String,
        /// Not yet resolved or closed: an escalation may still join it.
        live: bool,
        /// The episodes (dedup keys) of its alerts, and the alerts' ids.
        episodes: Vec<String>,
        alerts: Vec<String>,
    }
    let mut steps = Vec::new();
    let mut ours = Vec::new();
    for incident in incidents {
        let ids = linked(incident);
        let alerts: Option<Vec<&Value>> = ids.iter().map(|id| find(id)).collect();
        let (Some(id), Some(alerts)) = (incident["id"].as_str(), alerts) else {
            continue;
        };
        if alerts.is_empty() {
            continue;
        }
        let status = incident["status"].as_str().unwrap_or_default();
        let live = matches!(status, "open" | "acknowledged" | "mitigated");
        let told = incident["timeline"].as_array().is_some_and(|t| {
            t.iter().any(|e| {
                e["kind"] == "note"
                    && e["text"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(CUSTOMERS_NOTE))
            })
        });
        if live && alerts.iter().all(|a| !a["resolved_at"].is_null()) {
            steps.push(Step::Resolve(id.to_owned()));
        } else if status == "open" {
            steps.push(Step::Acknowledge(id.to_owned()));
        } else if live && down && !told {
            steps.push(Step::Tell(id.to_owned()));
        }
        ours.push(Ours {
            id: id.to_owned(),
            live,
            episodes: alerts.iter().map(|a| episode(a)).collect(),
            alerts: ids,
        });
    }
    let mut opened = Vec::new();
    for alert in &outage {
        let (Some(id), true) = (alert["id"].as_str(), alert["resolved_at"].is_null()) else {
            continue;
        };
        if ours.iter().any(|o| o.alerts.iter().any(|a| a == id)) {
            continue;
        }
        let key = episode(alert);
        match ours.iter().find(|o| o.episodes.contains(&key)) {
            Some(o) if o.live => steps.push(Step::Link {
                incident: o.id.clone(),
                alert: id.to_owned(),
            }),
            Some(_) => {}
            None if opened.contains(&key) => {}
            None => {
                opened.push(key);
                steps.push(Step::Open(id.to_owned()));
            }
        }
    }
    steps
}

/// Runs the status feed's reports and the on-call until the process ends; `start` is when
/// the schedule's clock started.
pub async fn operate(
    client: Client,
    url: String,
    colleagues: Colleagues,
    schedule: Schedule,
    start: tokio::time::Instant,
) {
    let key = &colleagues.operations;
    let mut reported: Option<(bool, tokio::time::Instant)> = None;
    let mut last_look = None::<tokio::time::Instant>;
    loop {
        let now = tokio::time::Instant::now();
        let down = schedule.down_at(now - start);
        // A change is reported at once, and the state again every five minutes so the fact
        // never goes stale.
        let due =
            reported.is_none_or(|(was, at)| was != down || now - at >= Duration::from_secs(5 * 60));
        if due {
            let at = jiff::Timestamp::now().to_string();
            match super::call(
                &client,
                &url,
                key,
                "POST",
                "/api/v1/status",
                Some(&facts(down, &at)),
            )
            .await
            {
                Ok(_) => reported = Some((down, now)),
                Err(e) => tracing::warn!(error = %e, "the demo's status feed could not report"),
            }
        }
        if last_look.is_none_or(|at| now - at >= Duration::from_secs(10)) {
            last_look = Some(now);
            if let Err(e) = on_call(&client, &url, &colleagues, down).await {
                tracing::warn!(error = %e, "the demo's on-call could not look at the alerts");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The API keys the simulated operations colleagues act with.
pub struct Colleagues {
    /// The status feed and the on-call (role `operations`).
    pub operations: String,
    /// Approves the on-call's message to customers (role `supervisor`).
    pub supervisor: String,
}

/// One look at the alerts and incidents, and what follows from it.
async fn on_call(
    client: &Client,
    url: &str,
    colleagues: &Colleagues,
    down: bool,
) -> anyhow::Result<()> {
    let key = colleagues.operations.as_str();
    let call = |method: &'static str, path: String, body: Option<Value>| async move {
        super::call(client, url, key, method, &path, body.as_ref()).await
    };
    let items = |page: Value| page["items"].as_array().cloned().unwrap_or_default();
    let alerts = items(call("GET", "/api/v1/alerts?limit=100".into(), None).await?);
    let incidents = items(call("GET", "/api/v1/incidents?limit=100".into(), None).await?);
    for step in steps(&alerts, &incidents, down) {
        match step {
            Step::Open(alert) => {
                let incident = call(
                    "POST",
                    "/api/v1/incidents".into(),
                    Some(json!({ "alert_id": alert })),
                )
                .await?;
                let id = incident["id"].as_str().unwrap_or_default();
                acknowledge(&call, id).await?;
            }
            Step::Acknowledge(id) => acknowledge(&call, &id).await?,
            Step::Link { incident, alert } => {
                let body = json!({
                    "alert_id": alert,
                    "note": "Escalated: the complaints keep coming in.",
                });
                call("POST", format!("/api/v1/incidents/{incident}"), Some(body)).await?;
            }
            Step::Tell(id) => {
                let draft = json!({
                    "template": TEMPLATE,
                    "segment": {"regions": ["us"], "about": ["#deliveryoutage"]},
                });
                let path = format!("/api/v1/incidents/{id}");
                let note = match call("POST", format!("{path}/disruption"), Some(draft)).await {
                    Ok(d) => {
                        let disruption = d["id"].as_str().unwrap_or_default().to_owned();
                        let recipients = d["progress"]["recipients"].as_u64().unwrap_or(0);
                        tokio::spawn(approve(
                            client.clone(),
                            url.to_owned(),
                            colleagues.supervisor.clone(),
                            disruption.clone(),
                        ));
                        format!(
                            "{CUSTOMERS_NOTE}drafted {disruption} to {recipients} affected customers from `{TEMPLATE}`; it goes out once a supervisor approves it."
                        )
                    }
                    // Nobody to write to, or no approved template (a data directory set up
                    // before it existed): said once, on the timeline.
                    Err(e) => format!("{CUSTOMERS_NOTE}no message drafted: {e}"),
                };
                call("POST", path, Some(json!({ "note": note }))).await?;
            }
            Step::Resolve(id) => {
                let path = format!("/api/v1/incidents/{id}");
                let note = "Tracking updates flow again and the complaints have died down.";
                call(
                    "POST",
                    path.clone(),
                    Some(json!({"status": "resolved", "note": note})),
                )
                .await?;
                let debrief = json!({
                    "summary": "The carrier's tracking feed stopped updating for about six minutes; customers in the US could not see where their parcels were and wrote in under #deliveryoutage.",
                    "root_cause": "An outage of the carrier's tracking feed (simulated by the demo).",
                    "actions": [
                        "Ask the carrier to announce tracking outages to operations",
                        "Post a status update to customers as soon as tracking stops",
                    ],
                });
                call("PUT", format!("{path}/debrief"), Some(debrief)).await?;
            }
        }
    }
    Ok(())
}

/// The supervisor reads the draft and approves it.
async fn approve(client: Client, url: String, key: String, disruption: String) {
    tokio::time::sleep(REVIEW).await;
    let path = format!("/api/v1/disruptions/{disruption}/decision");
    let body = json!({"decision": "approve"});
    if let Err(e) = super::call(&client, &url, &key, "POST", &path, Some(&body)).await {
        tracing::warn!(error = %e, "the demo's supervisor could not approve the message to customers");
    }
}

async fn acknowledge<F, Fut>(call: &F, id: &str) -> anyhow::Result<()>
where
    F: Fn(&'static str, String, Option<Value>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Value>>,
{
    let body = json!({
        "status": "acknowledged",
        "owner": ON_CALL,
        "note": "Looking into it: the carrier's tracking feed has stopped updating.",
    });
    call("POST", format!("/api/v1/incidents/{id}"), Some(body))
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracking_feed_is_down_six_minutes_in_every_half_hour_after_the_first() {
        let s = Schedule::new(Duration::from_secs(240));
        let at = |secs: u64| s.down_at(Duration::from_secs(secs));
        assert!(!at(0) && !at(239));
        assert!(at(240) && at(240 + 359));
        assert!(!at(600) && !at(240 + 1799));
        assert!(at(240 + 1800) && !at(240 + 1800 + 360));
        let now = Schedule::new(Duration::ZERO);
        assert!(now.down_at(Duration::ZERO));
    }

    #[test]
    fn the_status_feed_reports_the_outage_and_the_recovery_as_valid_facts() {
        let at = "2026-12-07T10:00:00Z";
        let received = sb_domain::Timestamp(1_800_000_000_000);
        for (down, status, delay) in [(true, "outage", 48.0), (false, "operational", 0.0)] {
            let report = facts(down, at);
            let items = report["facts"].as_array().unwrap();
            let parsed: Vec<_> = items
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    sb_domain::OpsFact::parse(f, &format!("facts[{i}]"), received).unwrap()
                })
                .collect();
            assert_eq!(parsed[0].value["status"], status);
            assert_eq!(parsed[1].value["delay_hours"].as_f64(), Some(delay));
        }
    }

    #[test]
    fn the_demo_s_alert_rules_load() {
        let rules = sb_alerts::rules::RuleSet::from_toml(RULES).unwrap();
        assert_eq!(rules.rules().len(), 2);
        assert!(rules.rules().iter().any(|r| r.id == OUTAGE_RULE));
    }

    fn alert(id: &str, rule: &str, resolved: bool) -> Value {
        json!({"id": id, "kind": "rule", "rule_id": rule, "dedup_key": format!("{rule}/{id}"),
               "resolved_at": if resolved { json!("2026-12-07T10:00:00Z") } else { Value::Null }})
    }

    /// An escalation of `first`'s episode: another alert under the same dedup key.
    fn escalation(id: &str, first: &Value) -> Value {
        let mut a = first.clone();
        a["id"] = json!(id);
        a
    }

    fn incident(id: &str, status: &str, alerts: &[&str]) -> Value {
        json!({"id": id, "status": status, "alert_ids": alerts})
    }

    #[test]
    fn the_on_call_opens_an_incident_for_an_outage_alert_once_and_resolves_it_when_it_clears() {
        let open = [alert("alt_1", OUTAGE_RULE, false)];
        assert_eq!(steps(&open, &[], false), vec![Step::Open("alt_1".into())]);
        // Opened: taken on, never opened twice.
        let opened = [incident("inc_1", "open", &["alt_1"])];
        assert_eq!(
            steps(&open, &opened, false),
            vec![Step::Acknowledge("inc_1".into())]
        );
        let taken = [incident("inc_1", "acknowledged", &["alt_1"])];
        assert_eq!(steps(&open, &taken, false), vec![]);
        // The alert cleared: resolve; once resolved, nothing more.
        let cleared = [alert("alt_1", OUTAGE_RULE, true)];
        assert_eq!(
            steps(&cleared, &taken, false),
            vec![Step::Resolve("inc_1".into())]
        );
        let done = [incident("inc_1", "resolved", &["alt_1"])];
        assert_eq!(steps(&cleared, &done, false), vec![]);
        // A cleared alert nobody took on is history, not a new incident.
        assert_eq!(steps(&cleared, &[], false), vec![]);
    }

    #[test]
    fn customers_are_written_to_once_per_incident_while_tracking_is_down() {
        let open = [alert("alt_1", OUTAGE_RULE, false)];
        let taken = [incident("inc_1", "acknowledged", &["alt_1"])];
        assert_eq!(steps(&open, &taken, true), vec![Step::Tell("inc_1".into())]);
        // Not once tracking is back: the status feed no longer says what the message would.
        assert_eq!(steps(&open, &taken, false), vec![]);
        // Not before the incident is taken on, and not twice.
        let opened = [incident("inc_1", "open", &["alt_1"])];
        assert_eq!(
            steps(&open, &opened, true),
            vec![Step::Acknowledge("inc_1".into())]
        );
        let mut told = taken[0].clone();
        told["timeline"] =
            json!([{"kind": "note", "text": format!("{CUSTOMERS_NOTE}drafted dis_1")}]);
        assert_eq!(steps(&open, &[told.clone()], true), vec![]);
        // A failed draft is said once too.
        told["timeline"][0]["text"] = json!(format!("{CUSTOMERS_NOTE}no message drafted: 404"));
        assert_eq!(steps(&open, &[told], true), vec![]);
        // Other notes do not count.
        let mut noted = taken[0].clone();
        noted["timeline"] = json!([{"kind": "note", "text": "Looking into it"}]);
        assert_eq!(
            steps(&open, &[noted], true),
            vec![Step::Tell("inc_1".into())]
        );
    }

    #[test]
    fn an_escalation_joins_the_episode_s_incident_instead_of_opening_another() {
        let first = alert("alt_1", OUTAGE_RULE, false);
        let louder = escalation("alt_2", &first);
        let both = [louder.clone(), first.clone()];
        // Both seen before any incident: one is opened, the other joins it next time.
        assert_eq!(steps(&both, &[], false), vec![Step::Open("alt_2".into())]);
        let taken = [incident("inc_1", "acknowledged", &["alt_1"])];
        assert_eq!(
            steps(&both, &taken, false),
            vec![Step::Link {
                incident: "inc_1".into(),
                alert: "alt_2".into()
            }]
        );
        let joined = [incident("inc_1", "acknowledged", &["alt_1", "alt_2"])];
        assert_eq!(steps(&both, &joined, false), vec![]);
        // The episode resolves all its alerts at once; so is the incident.
        let mut over = [louder, first];
        for a in &mut over {
            a["resolved_at"] = json!("2026-12-07T10:30:00Z");
        }
        assert_eq!(
            steps(&over, &joined, false),
            vec![Step::Resolve("inc_1".into())]
        );
        // A later episode is a new incident.
        let next = [alert("alt_3", OUTAGE_RULE, false), over[0].clone()];
        let done = [incident("inc_1", "resolved", &["alt_1", "alt_2"])];
        assert_eq!(steps(&next, &done, false), vec![Step::Open("alt_3".into())]);
    }

    #[test]
    fn the_on_call_leaves_other_alerts_and_people_s_incidents_alone() {
        let alerts = [
            alert("alt_1", "complaint-share", false),
            alert("alt_2", OUTAGE_RULE, true),
            json!({"id": "alt_3", "kind": "spike", "resolved_at": null}),
        ];
        let incidents = [
            incident("inc_1", "open", &["alt_1"]),
            incident("inc_2", "acknowledged", &[]),
            incident("inc_3", "open", &["alt_2", "alt_1"]),
        ];
        assert_eq!(steps(&alerts, &incidents, true), vec![]);
    }
}
