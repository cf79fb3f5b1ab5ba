//! Scenarios for the rule engine, each a hand-built sequence of closed 5-minute buckets.

use super::*;
use crate::rules::rule::tests::{bucket, volume_above};
use crate::rules::{Escalation, Metric, Op, Signal, SilenceMatcher};

const BUCKET: i64 = 5 * MINUTE_MS;

/// Start of bucket `n`.
fn at(n: i64) -> i64 {
    n * BUCKET
}

/// Bucket `n` is observed when it has closed.
fn closed(n: i64) -> i64 {
    at(n + 1)
}

fn engine(rules: Vec<Rule>) -> RuleEngine {
    match RuleSet::new(rules) {
        Ok(set) => RuleEngine::new(set),
        Err(e) => panic!("bad test rules: {e}"),
    }
}

/// Feeds `volumes` as consecutive buckets of `series` from bucket `from`; returns the events.
fn feed(e: &mut RuleEngine, series: &str, from: i64, volumes: &[u32]) -> Vec<RuleEvent> {
    let mut out = Vec::new();
    for (k, v) in volumes.iter().enumerate() {
        let n = from + k as i64;
        out.extend(e.observe(series, &bucket(at(n), *v, Some(0.1)), closed(n)));
    }
    out
}

fn fired(events: &[RuleEvent]) -> Vec<(&str, Severity, f64, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            RuleEvent::Fired {
                dedup_key,
                severity,
                value,
                bucket_start,
                ..
            } => Some((dedup_key.as_str(), *severity, *value, *bucket_start)),
            _ => None,
        })
        .collect()
}

fn resolved(events: &[RuleEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            RuleEvent::Resolved { dedup_key, .. } => Some(dedup_key.as_str()),
            _ => None,
        })
        .collect()
}

fn suppressed(events: &[RuleEvent]) -> Vec<SuppressReason> {
    events
        .iter()
        .filter_map(|e| match e {
            RuleEvent::Suppressed { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn complaints_above_fifty_for_three_buckets_fire_once_on_the_third() {
    let mut e = engine(vec![volume_above("surge", "intent:complaint", 50.0, 3)]);
    assert!(feed(&mut e, "intent:complaint", 0, &[60, 70]).is_empty());
    let events = feed(&mut e, "intent:complaint", 2, &[80]);
    let dedup = format!("surge/intent:complaint/{}", at(0));
    assert_eq!(
        fired(&events),
        vec![(dedup.as_str(), Severity::Warning, 80.0, at(2))]
    );
    match &events[0] {
        RuleEvent::Fired {
            summary, group_key, ..
        } => {
            assert_eq!(group_key, "intent:complaint");
            assert_eq!(
                summary,
                "surge volume: volume 80 on intent:complaint, above 50 for 3 buckets"
            );
        }
        other => panic!("{other:?}"),
    }
    // Still breaching: the open alert is not delivered again.
    assert!(feed(&mut e, "intent:complaint", 3, &[90, 95]).is_empty());
}

#[test]
fn a_break_in_the_run_restarts_the_count_of_windows() {
    let mut e = engine(vec![volume_above("surge", "all", 50.0, 2)]);
    assert!(feed(&mut e, "all", 0, &[60, 40, 60]).is_empty());
    let events = feed(&mut e, "all", 3, &[61]);
    assert_eq!(fired(&events)[0].0, format!("surge/all/{}", at(2)));
}

#[test]
fn sentiment_below_a_floor_fires_and_buckets_without_sentiment_count_as_clear() {
    let mut rule = volume_above("sour", "platform:x", 0.0, 1);
    rule.condition = Condition::Threshold {
        metric: Metric::SentimentMean,
        op: Op::Below,
        value: -0.3,
        windows: 1,
    };
    let mut e = engine(vec![rule]);
    let events = e.observe("platform:x", &bucket(at(0), 12, Some(-0.45)), closed(0));
    let f = fired(&events);
    assert_eq!(f.len(), 1);
    assert!((f[0].2 - -0.45).abs() < 1e-6);
    assert!(
        e.observe("platform:x", &bucket(at(1), 0, None), closed(1))
            .is_empty()
    );
    let events = e.observe("platform:x", &bucket(at(2), 0, None), closed(2));
    assert_eq!(resolved(&events).len(), 1);
}

#[test]
fn a_spike_score_over_the_rule_minimum_fires_an_anomaly_alert() {
    let mut rule = volume_above("spike", "watch:*", 0.0, 1);
    rule.condition = Condition::Anomaly {
        signal: Signal::Spike,
        min_score: 0.7,
    };
    let mut e = engine(vec![rule]);
    let mut b = bucket(at(0), 90, Some(-0.2));
    b.spike = 0.65;
    assert!(e.observe("watch:products:X200", &b, closed(0)).is_empty());
    b.bucket_start = at(1);
    b.spike = 0.82;
    let events = e.observe("watch:products:X200", &b, closed(1));
    let f = fired(&events);
    assert_eq!(f.len(), 1);
    assert!((f[0].2 - 0.82).abs() < 1e-6);
    match &events[0] {
        RuleEvent::Fired { summary, .. } => assert_eq!(
            summary,
            "spike volume: spike score 0.82 on watch:products:X200, at least 0.7"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_platform_glob_alerts_per_platform_and_ignores_other_series() {
    let mut e = engine(vec![volume_above("busy", "platform:*", 50.0, 1)]);
    let mut events = feed(&mut e, "platform:x", 0, &[80]);
    events.extend(feed(&mut e, "platform:facebook", 0, &[90]));
    events.extend(feed(&mut e, "all", 0, &[170]));
    events.extend(feed(&mut e, "intent:complaint", 0, &[170]));
    let keys: Vec<_> = fired(&events).iter().map(|f| f.0.to_owned()).collect();
    assert_eq!(
        keys,
        vec![
            format!("busy/platform:x/{}", at(0)),
            format!("busy/platform:facebook/{}", at(0))
        ]
    );
}

#[test]
fn grouped_by_rule_two_products_make_one_alert_that_resolves_when_both_are_quiet() {
    let mut rule = volume_above("products", "watch:products:*", 50.0, 1);
    rule.group_by = GroupBy::Rule;
    let mut e = engine(vec![rule]);
    let a = "watch:products:X200";
    let b = "watch:products:K9";
    let first = feed(&mut e, a, 0, &[80]);
    assert_eq!(
        fired(&first),
        vec![("products/watch:products:*/0", Severity::Warning, 80.0, 0)]
    );
    // The second product joins the same alert: nothing new is delivered.
    assert!(feed(&mut e, b, 0, &[70]).is_empty());
    // X200 calms down for two buckets, K9 is still loud: the alert stays open.
    assert!(feed(&mut e, a, 1, &[10]).is_empty());
    assert!(feed(&mut e, b, 1, &[75]).is_empty());
    assert!(feed(&mut e, a, 2, &[10]).is_empty());
    assert!(feed(&mut e, b, 2, &[10]).is_empty());
    let events = feed(&mut e, b, 3, &[10]);
    assert_eq!(resolved(&events), vec!["products/watch:products:*/0"]);
}

fn escalating(id: &str, cooldown_minutes: u32) -> Rule {
    let mut rule = volume_above(id, "all", 50.0, 1);
    rule.cooldown_minutes = cooldown_minutes;
    rule.resolve_after = 1;
    rule.escalate = vec![Escalation {
        at: 200.0,
        severity: Severity::Critical,
    }];
    rule
}

#[test]
fn within_the_cooldown_a_repeat_is_held_back_until_the_cooldown_ends() {
    let mut e = engine(vec![escalating("surge", 30)]);
    assert_eq!(fired(&feed(&mut e, "all", 0, &[80])).len(), 1);
    assert_eq!(resolved(&feed(&mut e, "all", 1, &[10])).len(), 1);
    // Fired when bucket 0 closed (minute 5); the cooldown runs to minute 35, i.e. until
    // bucket 6 has closed.
    let events = feed(&mut e, "all", 2, &[80, 85, 90]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Cooldown]);
    assert!(fired(&events).is_empty());
    assert!(feed(&mut e, "all", 5, &[90]).is_empty());
    let events = feed(&mut e, "all", 6, &[90]);
    // The held-back episode is delivered under its own key, from its first bucket.
    assert_eq!(
        fired(&events),
        vec![("surge/all/600000", Severity::Warning, 90.0, at(6))]
    );
}

#[test]
fn a_higher_severity_breaks_through_the_cooldown_and_escalates_an_open_alert() {
    let mut e = engine(vec![escalating("surge", 60)]);
    let events = feed(&mut e, "all", 0, &[80, 250]);
    // Same alert, delivered again at the higher severity.
    assert_eq!(
        fired(&events),
        vec![
            ("surge/all/0", Severity::Warning, 80.0, at(0)),
            ("surge/all/0", Severity::Critical, 250.0, at(1)),
        ]
    );
    // Back down to warning level: nothing new.
    assert!(feed(&mut e, "all", 2, &[90]).is_empty());
    assert_eq!(
        resolved(&feed(&mut e, "all", 3, &[10])),
        vec!["surge/all/0"]
    );
    // A critical repeat right after the resolution is within the cooldown but not above the
    // last severity: held back. A new warning one would be held back too.
    let events = feed(&mut e, "all", 4, &[300]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Cooldown]);

    // In a fresh engine, warning then resolve then critical: the rise passes the cooldown.
    let mut e = engine(vec![escalating("surge", 60)]);
    feed(&mut e, "all", 0, &[80, 10]);
    let events = feed(&mut e, "all", 2, &[300]);
    assert_eq!(
        fired(&events),
        vec![("surge/all/600000", Severity::Critical, 300.0, at(2))]
    );
}

fn silence(series: Option<&str>, rule_id: Option<&str>, from: i64, to: i64) -> Silence {
    Silence {
        id: "sil-outage".into(),
        matcher: SilenceMatcher {
            series: series.map(Into::into),
            rule_id: rule_id.map(Into::into),
        },
        starts_at: from,
        ends_at: to,
        reason: "payment outage acknowledged on the status page".into(),
        created_by: "maya".into(),
    }
}

#[test]
fn an_active_silence_holds_firings_back_and_they_are_delivered_when_it_ends() {
    let mut e = engine(vec![volume_above("surge", "topic:*", 50.0, 1)]);
    let silenced = silence(Some("topic:billing"), None, 0, closed(2));
    assert!(e.add_silence(silenced, 0).is_ok());
    let events = feed(&mut e, "topic:billing", 0, &[80, 90]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Silenced]);
    assert!(fired(&events).is_empty());
    // Another topic is not covered.
    assert_eq!(fired(&feed(&mut e, "topic:delivery", 0, &[80])).len(), 1);
    // The silence ends exactly when bucket 2 closes: that bucket is delivered.
    let events = feed(&mut e, "topic:billing", 2, &[95]);
    assert_eq!(
        fired(&events),
        vec![("surge/topic:billing/0", Severity::Warning, 95.0, at(2))]
    );
    assert!(e.silences().is_empty(), "an ended silence is dropped");
}

#[test]
fn an_expired_or_future_silence_does_not_apply_and_a_rule_silence_matches_by_id() {
    let mut e = engine(vec![
        volume_above("surge", "all", 50.0, 1),
        volume_above("flood", "all", 100.0, 1),
    ]);
    assert!(
        e.add_silence(silence(None, Some("surge"), at(10), at(20)), 0)
            .is_ok()
    );
    let events = feed(&mut e, "all", 0, &[150]);
    assert_eq!(fired(&events).len(), 2, "the silence has not started");
    assert_eq!(e.silences().len(), 1, "a future silence is kept");

    let mut e = engine(vec![volume_above("surge", "all", 50.0, 1)]);
    // Ends exactly when bucket 0 closes.
    assert!(
        e.add_silence(silence(None, Some("surge"), 0, closed(0)), 0)
            .is_ok()
    );
    let events = feed(&mut e, "all", 0, &[150]);
    assert_eq!(fired(&events).len(), 1, "the silence has ended");
    assert!(e.silences().is_empty());

    let mut e = engine(vec![
        volume_above("surge", "all", 50.0, 1),
        volume_above("flood", "all", 100.0, 1),
    ]);
    assert!(
        e.add_silence(silence(None, Some("surge"), 0, at(20)), 0)
            .is_ok()
    );
    let events = feed(&mut e, "all", 0, &[150]);
    assert_eq!(fired(&events)[0].0, "flood/all/0");
    assert_eq!(suppressed(&events), vec![SuppressReason::Silenced]);
}

#[test]
fn a_silenced_alert_that_clears_before_the_silence_ends_resolves_without_a_trace() {
    let mut e = engine(vec![volume_above("surge", "all", 50.0, 1)]);
    assert!(
        e.add_silence(silence(Some("all"), None, 0, at(100)), 0)
            .is_ok()
    );
    let mut events = feed(&mut e, "all", 0, &[80, 10, 10]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Silenced]);
    events.retain(|e| !matches!(e, RuleEvent::Suppressed { .. }));
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn bad_silences_are_refused_and_at_most_the_limit_are_held() {
    let limits = EngineLimits {
        max_silences: 1,
        ..EngineLimits::default()
    };
    let set = RuleSet::new(vec![volume_above("surge", "all", 50.0, 1)]);
    let mut e = RuleEngine::with_limits(set.unwrap_or_default(), limits);
    let err = e.add_silence(silence(None, None, 0, 10), 0).unwrap_err();
    assert_eq!(err.code(), "silence_empty_matcher");
    assert!(e.add_silence(silence(Some("all"), None, 0, 10), 0).is_ok());
    // Same id: replaced, not added.
    assert!(e.add_silence(silence(Some("all"), None, 0, 20), 0).is_ok());
    let mut other = silence(Some("all"), None, 0, 20);
    other.id = "sil-2".into();
    assert_eq!(e.add_silence(other, 0).unwrap_err().code(), "silence_limit");
    assert!(e.remove_silence("sil-outage"));
    assert!(!e.remove_silence("sil-outage"));
}

#[test]
fn quiet_buckets_and_small_moves_are_reported_as_minor_not_fired() {
    let mut rule = volume_above("sour-share", "all", 0.0, 1);
    rule.condition = Condition::Threshold {
        metric: Metric::NegativeShare,
        op: Op::Above,
        value: 0.5,
        windows: 1,
    };
    rule.min_volume = 20;
    let mut e = engine(vec![rule]);
    // Three negative messages out of five: 60% negative, but too few to mean anything.
    let events = e.observe("all", &bucket(at(0), 5, Some(-0.4)), closed(0));
    assert_eq!(suppressed(&events), vec![SuppressReason::Minor]);
    let events = e.observe("all", &bucket(at(1), 40, Some(-0.4)), closed(1));
    assert_eq!(fired(&events).len(), 1);

    let mut rule = volume_above("surge", "all", 50.0, 1);
    rule.min_change = 0.2;
    let mut e = engine(vec![rule]);
    // 48 → 52 crosses 50 by a hair: minor. 40 → 60 is a real jump.
    let events = feed(&mut e, "all", 0, &[48, 52]);
    assert_eq!(suppressed(&events), vec![SuppressReason::Minor]);
    assert!(fired(&events).is_empty());
    let events = feed(&mut e, "all", 2, &[40, 60]);
    assert_eq!(fired(&events).len(), 1);
}

#[test]
fn an_alert_resolves_after_k_clear_buckets_and_the_next_episode_gets_a_new_key() {
    let mut rule = volume_above("surge", "all", 50.0, 1);
    rule.resolve_after = 3;
    let mut e = engine(vec![rule]);
    assert_eq!(fired(&feed(&mut e, "all", 0, &[80]))[0].0, "surge/all/0");
    // Two clear buckets, then a breach: the alert stays open and the clear count restarts.
    assert!(feed(&mut e, "all", 1, &[10, 10, 70, 10, 10]).is_empty());
    let events = feed(&mut e, "all", 6, &[10]);
    assert_eq!(
        events,
        vec![RuleEvent::Resolved {
            rule_id: "surge".into(),
            group_key: "all".into(),
            dedup_key: "surge/all/0".into(),
            at: closed(6),
        }]
    );
    let events = feed(&mut e, "all", 7, &[90]);
    assert_eq!(fired(&events)[0].0, format!("surge/all/{}", at(7)));
}

#[test]
fn state_stays_within_its_bound_and_idle_state_is_forgotten() {
    let limits = EngineLimits {
        max_tracked: 10,
        ..EngineLimits::default()
    };
    let set = RuleSet::new(vec![volume_above("busy", "topic:*", 50.0, 1)]);
    let mut e = RuleEngine::with_limits(set.unwrap_or_default(), limits);
    for t in 0..100 {
        e.observe(&format!("topic:t{t}"), &bucket(at(0), 5, None), closed(0));
        assert!(e.tracked() <= 10, "{} records after {t}", e.tracked());
    }
    // An open alert pushed out at the bound is resolved, not left hanging.
    let events = feed(&mut e, "topic:hot", 1, &[80]);
    assert_eq!(fired(&events).len(), 1);
    let mut all = Vec::new();
    for t in 0..20 {
        all.extend(e.observe(&format!("topic:n{t}"), &bucket(at(2), 5, None), closed(2)));
    }
    assert_eq!(resolved(&all), vec![format!("busy/topic:hot/{}", at(1))]);

    // A day later, everything idle is dropped at the next sweep.
    let day = EngineLimits::default().idle_ms;
    e.observe("topic:new", &bucket(at(3), 5, None), closed(3) + day);
    assert_eq!(e.tracked(), 2);
}

#[test]
fn changing_the_rules_keeps_unchanged_state_and_resolves_what_was_removed() {
    let keep = volume_above("keep", "all", 50.0, 1);
    let drop = volume_above("drop", "all", 60.0, 1);
    let mut e = engine(vec![keep.clone(), drop]);
    assert_eq!(fired(&feed(&mut e, "all", 0, &[80])).len(), 2);
    let events = e.set_rules(RuleSet::new(vec![keep]).unwrap_or_default(), closed(0));
    assert_eq!(resolved(&events), vec!["drop/all/0"]);
    // `keep` remembers its open alert: no second delivery.
    assert!(feed(&mut e, "all", 1, &[80]).is_empty());
}

#[test]
fn events_serialise_with_a_tag_for_the_outbox() {
    let event = RuleEvent::Suppressed {
        rule_id: "surge".into(),
        group_key: "all".into(),
        reason: SuppressReason::Cooldown,
    };
    let json = serde_json::to_value(&event).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"event": "suppressed", "rule_id": "surge", "group_key": "all", "reason": "cooldown"})
    );
}

#[test]
fn a_replayed_or_late_bucket_changes_nothing() {
    let mut e = engine(vec![volume_above("surge", "all", 50.0, 2)]);
    assert!(feed(&mut e, "all", 0, &[80]).is_empty());
    // The same bucket again (a retried delivery) must not complete the run of two.
    assert!(feed(&mut e, "all", 0, &[80]).is_empty());
    let events = feed(&mut e, "all", 1, &[80]);
    assert_eq!(fired(&events)[0].0, "surge/all/0");
    assert!(feed(&mut e, "all", 1, &[80]).is_empty());
    assert!(feed(&mut e, "all", 0, &[10]).is_empty());
}
