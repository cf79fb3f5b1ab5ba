//! Incident scenarios: a kettle recall from first alert to debrief, and every lifecycle move.

use super::debrief::human_duration;
use super::*;
use crate::{AlertId, IncidentStatus::*};

const MIN: i64 = 60_000;

/// 2026-11-23 09:00 UTC plus `minutes`.
fn t(minutes: i64) -> Timestamp {
    Timestamp::from_millis(1_795_424_400_000 + minutes * MIN)
}

fn kettle_alert() -> Alert {
    Alert {
        id: AlertId::from_stored("alt_01KAQ5Z6W6C0JH2Q9V4S3N8RBD".into()),
        series: "watch:products:X200".into(),
        kind: AlertKind::Spike,
        score: 0.93,
        bucket_start: t(0),
        volume: 140,
        sentiment_mean: Some(-0.41),
        raised_at: t(1),
        rule_id: None,
        severity: None,
        dedup_key: None,
        summary: None,
        resolved_at: None,
    }
}

/// An incident brought to `status` by the shortest allowed path.
fn in_status(status: IncidentStatus) -> Incident {
    let mut i = Incident::open("Checkout errors", Severity::Error, "maya", t(0));
    let path: &[IncidentStatus] = match status {
        Open => &[],
        Acknowledged => &[Acknowledged],
        Mitigated => &[Mitigated],
        Resolved => &[Resolved],
        Closed => &[Resolved, Closed],
    };
    for (k, s) in path.iter().enumerate() {
        i.transition(*s, "maya", t(10 * (k as i64 + 1))).unwrap();
    }
    i
}

/// The kettle recall, handled and resolved.
fn kettle_recall() -> Incident {
    let mut i = Incident::from_alert(&kettle_alert(), Severity::Critical, "maya", t(2));
    i.transition(Acknowledged, "maya", t(6)).unwrap();
    i.assign(Some("leo"), "maya", t(7)).unwrap();
    i.link_case("case_01KAQ60000000000000000000A", "leo", t(9))
        .unwrap();
    i.message_sent(
        "Status page: we know about X200 kettles tripping fuses",
        "leo",
        t(20),
    )
    .unwrap();
    i.transition(Mitigated, "leo", t(45)).unwrap();
    i.note("Batch 2611 | pulled from sale", "leo", t(50))
        .unwrap();
    i.transition(Resolved, "leo", t(92)).unwrap();
    i.set_debrief(
        "Batch 2611 of the X200 kettle tripped fuses; 140 mentions in five minutes.",
        "A supplier changed the thermostat part without notice.",
        vec![
            "Recall batch 2611".into(),
            "Add part checks to goods-in".into(),
        ],
    )
    .unwrap();
    i
}

#[test]
fn an_incident_opened_from_a_spike_alert_is_titled_after_it_and_links_it() {
    let i = Incident::from_alert(&kettle_alert(), Severity::Critical, "maya", t(2));
    assert!(i.id.as_str().starts_with("inc_"));
    assert_eq!(i.title, "Volume spike on watch:products:X200");
    assert_eq!(i.status, Open);
    assert_eq!(i.alert_ids, vec!["alt_01KAQ5Z6W6C0JH2Q9V4S3N8RBD"]);
    let kinds: Vec<_> = i.timeline.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![TimelineKind::Opened, TimelineKind::AlertLinked]);
}

#[test]
fn the_lifecycle_allows_exactly_the_documented_moves() {
    let all = [Open, Acknowledged, Mitigated, Resolved, Closed];
    let allowed = [
        (Open, Acknowledged),
        (Open, Mitigated),
        (Open, Resolved),
        (Acknowledged, Mitigated),
        (Acknowledged, Resolved),
        (Mitigated, Resolved),
        (Mitigated, Acknowledged),
        (Resolved, Closed),
        (Resolved, Open),
    ];
    for from in all {
        for to in all {
            let mut i = in_status(from);
            let result = i.transition(to, "maya", t(100));
            if from == to && from != Closed {
                assert_eq!(result, Ok(()), "{from:?} → itself");
            } else if allowed.contains(&(from, to)) {
                assert_eq!(result, Ok(()), "{from:?} → {to:?}");
                assert_eq!(i.status, to);
            } else if from == Closed {
                assert_eq!(result.unwrap_err().code(), "incident_closed");
            } else {
                let err = result.unwrap_err();
                assert_eq!(
                    err.code(),
                    "incident_invalid_transition",
                    "{from:?} → {to:?}"
                );
                assert_eq!(err, IncidentError::InvalidTransition { from, to });
                assert_eq!(i.status, from, "a refused move changes nothing");
            }
        }
    }
}

#[test]
fn moving_to_the_current_status_is_a_harmless_repeat() {
    let mut i = in_status(Acknowledged);
    let before = i.clone();
    i.transition(Acknowledged, "maya", t(30)).unwrap();
    assert_eq!(i, before);
}

#[test]
fn acknowledgement_and_closing_are_stamped_once() {
    let mut i = in_status(Open);
    i.transition(Mitigated, "maya", t(5)).unwrap();
    assert_eq!(
        i.acknowledged_at,
        Some(t(5)),
        "taking it on counts as acknowledging"
    );
    i.transition(Acknowledged, "maya", t(15)).unwrap();
    assert_eq!(i.acknowledged_at, Some(t(5)));
    i.transition(Resolved, "maya", t(30)).unwrap();
    i.transition(Closed, "maya", t(40)).unwrap();
    assert_eq!((i.resolved_at, i.closed_at), (Some(t(30)), Some(t(40))));
}

#[test]
fn a_reopened_incident_is_unresolved_until_resolved_again() {
    let mut i = in_status(Resolved);
    assert_eq!(i.resolved_at, Some(t(10)));
    i.transition(Open, "leo", t(60)).unwrap();
    assert_eq!((i.status, i.resolved_at), (Open, None));
    assert_eq!(i.acknowledged_at, Some(t(10)));
    assert_eq!(
        i.debrief_json().unwrap_err().code(),
        "incident_not_resolved"
    );
    i.transition(Resolved, "leo", t(90)).unwrap();
    assert_eq!(i.time_to_resolve_ms(), Some(90 * MIN));
    let texts: Vec<_> = i.timeline.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts[1..],
        [
            "open → resolved",
            "reopened (was resolved)",
            "open → resolved"
        ]
    );
}

#[test]
fn a_closed_incident_cannot_change_at_all() {
    let mut i = in_status(Closed);
    let before = i.clone();
    let closed = Err(IncidentError::Closed);
    assert_eq!(i.transition(Open, "maya", t(99)), closed);
    assert_eq!(i.link_alert("alt_x", "maya", t(99)).map(|_| ()), closed);
    assert_eq!(i.link_case("case_x", "maya", t(99)).map(|_| ()), closed);
    assert_eq!(i.assign(Some("leo"), "maya", t(99)), closed);
    assert_eq!(i.note("late thought", "maya", t(99)), closed);
    assert_eq!(i.message_sent("hello", "maya", t(99)), closed);
    assert_eq!(i.set_debrief("s", "r", vec![]), closed);
    assert_eq!(i, before);
}

#[test]
fn nothing_may_be_dated_before_the_incident_opened() {
    let mut i = Incident::open("Checkout errors", Severity::Error, "maya", t(10));
    let err = i.transition(Resolved, "maya", t(9)).unwrap_err();
    assert_eq!(err.code(), "incident_before_opened");
    assert_eq!(i.status, Open);
    assert!(i.note("n", "maya", t(9)).is_err());
}

#[test]
fn linking_the_same_alert_or_case_twice_adds_nothing() {
    let mut i = in_status(Open);
    assert_eq!(i.link_alert("alt_1", "maya", t(1)), Ok(true));
    assert_eq!(i.link_alert("alt_1", "maya", t(2)), Ok(false));
    assert_eq!(i.link_case("case_1", "maya", t(3)), Ok(true));
    assert_eq!(i.link_case("case_1", "maya", t(4)), Ok(false));
    assert_eq!(i.alert_ids, vec!["alt_1"]);
    assert_eq!(i.case_ids, vec!["case_1"]);
    assert_eq!(i.timeline.len(), 3);
    // Same owner twice: one entry.
    i.assign(Some("leo"), "maya", t(5)).unwrap();
    i.assign(Some("leo"), "maya", t(6)).unwrap();
    i.assign(None, "maya", t(7)).unwrap();
    let owners: Vec<_> = i.timeline[3..].iter().map(|e| e.text.as_str()).collect();
    assert_eq!(owners, ["owner set to leo", "owner cleared"]);
    assert_eq!(i.owner, None);
}

#[test]
fn durations_run_from_opening() {
    let mut i = kettle_recall();
    assert_eq!(i.time_to_acknowledge_ms(), Some(4 * MIN));
    assert_eq!(i.time_to_resolve_ms(), Some(90 * MIN));
    assert_eq!(i.duration_ms(), Some(90 * MIN));
    i.transition(Closed, "maya", t(2 + 24 * 60)).unwrap();
    assert_eq!(i.duration_ms(), Some(24 * 60 * MIN));
    assert_eq!(in_status(Open).time_to_acknowledge_ms(), None);
}

#[test]
fn durations_read_like_a_person_wrote_them() {
    assert_eq!(human_duration(45_000), "45s");
    assert_eq!(human_duration(4 * MIN + 5_000), "4m 05s");
    assert_eq!(human_duration(62 * MIN + 3_000), "1h 02m 03s");
    assert_eq!(
        human_duration((2 * 24 * 60 + 3 * 60 + 4) * MIN),
        "2d 03h 04m"
    );
}

#[test]
fn no_debrief_before_resolution() {
    for status in [Open, Acknowledged, Mitigated] {
        let i = in_status(status);
        assert_eq!(
            i.debrief_markdown().unwrap_err().code(),
            "incident_not_resolved"
        );
        assert_eq!(i.debrief_json(), Err(IncidentError::NotResolved));
    }
    assert!(in_status(Closed).debrief_markdown().is_ok());
}

#[test]
fn the_markdown_debrief_has_facts_links_timeline_and_lessons() {
    let i = kettle_recall();
    let md = i
        .debrief_markdown()
        .unwrap()
        .replace(i.id.as_str(), "inc_ID");
    let expected = "\
# Incident debrief: Volume spike on watch:products:X200

| | |
|---|---|
| Incident | inc_ID |
| Severity | critical |
| Status | resolved |
| Owner | leo |
| Opened | 2026-11-23T09:02:00.000Z |
| Acknowledged | 2026-11-23T09:06:00.000Z |
| Resolved | 2026-11-23T10:32:00.000Z |
| Closed | — |
| Duration | 1h 30m 00s |
| Time to acknowledge | 4m 00s |
| Time to resolve | 1h 30m 00s |

## Linked alerts

- alt_01KAQ5Z6W6C0JH2Q9V4S3N8RBD

## Linked cases

- case_01KAQ60000000000000000000A

## Timeline

| Time | Actor | Event | Detail |
|---|---|---|---|
| 2026-11-23T09:02:00.000Z | maya | opened | opened at critical severity: Volume spike on watch:products:X200 |
| 2026-11-23T09:02:00.000Z | maya | alert_linked | alert alt_01KAQ5Z6W6C0JH2Q9V4S3N8RBD linked |
| 2026-11-23T09:06:00.000Z | maya | status_changed | open → acknowledged |
| 2026-11-23T09:07:00.000Z | maya | owner_changed | owner set to leo |
| 2026-11-23T09:09:00.000Z | leo | case_linked | case case_01KAQ60000000000000000000A linked |
| 2026-11-23T09:20:00.000Z | leo | message_sent | Status page: we know about X200 kettles tripping fuses |
| 2026-11-23T09:45:00.000Z | leo | status_changed | acknowledged → mitigated |
| 2026-11-23T09:50:00.000Z | leo | note | Batch 2611 \\| pulled from sale |
| 2026-11-23T10:32:00.000Z | leo | status_changed | mitigated → resolved |

## Summary

Batch 2611 of the X200 kettle tripped fuses; 140 mentions in five minutes.

## Root cause

A supplier changed the thermostat part without notice.

## Actions

- Recall batch 2611
- Add part checks to goods-in
";
    assert_eq!(md, expected);
}

#[test]
fn the_json_debrief_carries_the_same_facts_for_tools() {
    let i = kettle_recall();
    let json = i.debrief_json().unwrap();
    assert_eq!(json["id"], i.id.as_str());
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["status"], "resolved");
    assert_eq!(json["owner"], "leo");
    assert_eq!(json["opened_at"], "2026-11-23T09:02:00.000Z");
    assert_eq!(json["closed_at"], serde_json::Value::Null);
    assert_eq!(json["time_to_acknowledge_ms"], 4 * MIN);
    assert_eq!(json["time_to_resolve_ms"], 90 * MIN);
    assert_eq!(json["duration_ms"], 90 * MIN);
    assert_eq!(json["case_ids"][0], "case_01KAQ60000000000000000000A");
    assert_eq!(json["timeline"].as_array().map(Vec::len), Some(9));
    assert_eq!(
        json["timeline"][2],
        serde_json::json!({
            "at": "2026-11-23T09:06:00.000Z",
            "actor": "maya",
            "kind": "status_changed",
            "text": "open → acknowledged"
        })
    );
    assert_eq!(json["actions"][1], "Add part checks to goods-in");
    assert_eq!(
        json["root_cause"],
        "A supplier changed the thermostat part without notice."
    );
}

#[test]
fn an_incident_round_trips_through_json_for_the_store() {
    let i = kettle_recall();
    let text = serde_json::to_string(&i).unwrap();
    let back: Incident = serde_json::from_str(&text).unwrap();
    assert_eq!(back, i);
}
