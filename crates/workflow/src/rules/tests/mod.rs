#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde::Deserialize;

mod conditions;
mod errors;

#[derive(Deserialize)]
struct File {
    workflow: Workflow,
}

#[derive(Deserialize)]
struct Workflow {
    rules: Vec<RuleConfig>,
}

fn configs(toml_text: &str) -> Vec<RuleConfig> {
    toml::from_str::<File>(toml_text).unwrap().workflow.rules
}

fn rules(toml_text: &str) -> RuleSet {
    RuleSet::compile(&configs(toml_text)).unwrap()
}

fn compile_error(toml_text: &str) -> RuleError {
    RuleSet::compile(&configs(toml_text)).unwrap_err()
}

fn fired_names(set: &RuleSet, event: &RuleEvent) -> Vec<String> {
    set.evaluate(event)
        .iter()
        .map(|f| f.rule.to_string())
        .collect()
}

const VIP_COMPLAINTS: &str = r#"
[[workflow.rules]]
name = "vip complaints to priority"
on = ["case.opened", "message.received"]
when = [
  { field = "tier", op = "eq", value = "vip" },
  { field = "intent", op = "eq", value = "complaint" },
  { field = "sentiment", op = "lt", value = -0.5 },
  { field = "text", op = "contains_any", value = ["refund", "lawyer"] },
]
then = [
  { action = "set_priority", value = "urgent" },
  { action = "tag", value = "vip-complaint" },
  { action = "assign", queue = "priority" },
  { action = "escalate", to = "supervisor" },
  { action = "require_approval", role = "supervisor" },
  { action = "auto_reply", template = "ack" },
  { action = "notify", target = "ops-webhook" },
  { action = "hand_to_human" },
]
stop = true

[[workflow.rules]]
name = "tag every complaint"
on = ["message.received"]
when = [ { field = "intent", op = "eq", value = "complaint" } ]
then = [ { action = "tag", value = "complaint" } ]
"#;

fn angry_vip() -> RuleFacts {
    RuleFacts {
        tier: Some(Tier::Vip),
        intent: Some("complaint".into()),
        sentiment: Some(-0.8),
        text: Some("third time asking: i want a refund or my lawyer gets involved".into()),
        ..RuleFacts::default()
    }
}

#[test]
fn a_vip_complaint_gets_urgent_priority_a_tag_and_the_priority_queue() {
    let set = rules(VIP_COMPLAINTS);
    let fired = set.evaluate(&RuleEvent::new(EventKind::MessageReceived, angry_vip()));

    assert_eq!(fired.len(), 1, "the VIP rule stops the general one");
    assert_eq!(fired[0].rule, "vip complaints to priority");
    assert_eq!(fired[0].index, 0);
    assert!(fired[0].stop);
    assert_eq!(
        fired[0].actions,
        [
            Action::SetPriority {
                value: CasePriority::Urgent
            },
            Action::Tag {
                value: "vip-complaint".into()
            },
            Action::Assign {
                queue: Some("priority".into()),
                agent: None
            },
            Action::Escalate {
                to: "supervisor".into()
            },
            Action::RequireApproval {
                role: "supervisor".into()
            },
            Action::AutoReply {
                template: "ack".into()
            },
            Action::Notify {
                target: "ops-webhook".into()
            },
            Action::HandToHuman,
        ]
    );
}

#[test]
fn a_standard_customer_complaining_only_gets_the_general_tag() {
    let set = rules(VIP_COMPLAINTS);
    let facts = RuleFacts {
        tier: Some(Tier::Standard),
        ..angry_vip()
    };
    let event = RuleEvent::new(EventKind::MessageReceived, facts);
    assert_eq!(fired_names(&set, &event), ["tag every complaint"]);
}

#[test]
fn a_calm_vip_without_refund_words_is_left_to_later_rules() {
    let set = rules(VIP_COMPLAINTS);
    let calm = RuleFacts {
        sentiment: Some(-0.2),
        ..angry_vip()
    };
    let no_words = RuleFacts {
        text: Some("the app logs me out every morning".into()),
        ..angry_vip()
    };
    for facts in [calm, no_words] {
        let event = RuleEvent::new(EventKind::MessageReceived, facts);
        assert_eq!(fired_names(&set, &event), ["tag every complaint"]);
    }
}

#[test]
fn without_stop_every_matching_rule_fires_in_order() {
    let set = rules(
        r#"
[[workflow.rules]]
name = "first"
on = ["message.received"]
then = [ { action = "tag", value = "a" } ]

[[workflow.rules]]
name = "stopper"
on = ["message.received"]
when = [ { field = "language", op = "eq", value = "fr" } ]
then = [ { action = "assign", queue = "french" } ]
stop = true

[[workflow.rules]]
name = "last"
on = ["message.received"]
then = [ { action = "tag", value = "c" } ]
"#,
    );
    let english = RuleEvent::new(
        EventKind::MessageReceived,
        RuleFacts {
            language: Some("en".into()),
            ..RuleFacts::default()
        },
    );
    assert_eq!(fired_names(&set, &english), ["first", "last"]);

    let french = RuleEvent::new(
        EventKind::MessageReceived,
        RuleFacts {
            language: Some("FR".into()),
            ..RuleFacts::default()
        },
    );
    assert_eq!(
        fired_names(&set, &french),
        ["first", "stopper"],
        "a rule with stop that fires ends processing; keywords compare case-insensitively"
    );
}

#[test]
fn disabled_rules_are_validated_but_never_fire() {
    let text = r#"
[[workflow.rules]]
name = "night auto-reply"
on = ["message.received"]
when = [ { field = "hour", op = "in", value = [22, 23, 0, 1, 2, 3, 4, 5] } ]
then = [ { action = "auto_reply", template = "after-hours" } ]
stop = true
enabled = false

[[workflow.rules]]
name = "always"
on = ["message.received"]
then = [ { action = "tag", value = "seen" } ]
"#;
    let set = rules(text);
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.names().collect::<Vec<_>>(),
        ["night auto-reply", "always"]
    );
    let night = RuleEvent::new(
        EventKind::MessageReceived,
        RuleFacts {
            hour: Some(23),
            ..RuleFacts::default()
        },
    );
    assert_eq!(fired_names(&set, &night), ["always"]);

    // A broken rule is refused even while switched off.
    let broken = text.replace("22, 23", "22, 24");
    assert!(matches!(
        compile_error(&broken),
        RuleError::BadValue { rule, .. } if rule == "night auto-reply"
    ));
}

#[test]
fn rules_only_look_at_the_events_they_listen_for() {
    let set = rules(
        r#"
[[workflow.rules]]
name = "breach to supervisor"
on = ["sla.breached"]
then = [ { action = "escalate", to = "supervisor" } ]

[[workflow.rules]]
name = "welcome"
on = ["case.opened"]
when = [ { field = "platform", op = "eq", value = "chat" } ]
then = [ { action = "auto_reply", template = "welcome" } ]
"#,
    );
    let chat = RuleFacts {
        platform: Some(Platform::Chat),
        ..RuleFacts::default()
    };
    let names = |kind| fired_names(&set, &RuleEvent::new(kind, chat.clone()));
    assert_eq!(names(EventKind::SlaBreached), ["breach to supervisor"]);
    assert_eq!(names(EventKind::CaseOpened), ["welcome"]);
    assert!(names(EventKind::MessageReceived).is_empty());
    assert!(names(EventKind::SlaWarned).is_empty());
    assert!(names(EventKind::ReplySent).is_empty());
    assert!(names(EventKind::CaseUpdated).is_empty());
}

#[test]
fn conditions_without_facts_to_test_fire_on_every_listed_event() {
    let set = rules(
        r#"
[[workflow.rules]]
name = "acknowledge"
on = ["case.opened"]
then = [ { action = "auto_reply", template = "ack" } ]
"#,
    );
    let fired = set.evaluate(&RuleEvent::new(EventKind::CaseOpened, RuleFacts::default()));
    assert_eq!(fired.len(), 1);
}

#[test]
fn unknown_keys_in_the_config_file_are_refused() {
    let typo = "[[workflow.rules]]\nname = 'r'\non = ['case.opened']\nthen = []\nstopp = true\n";
    assert!(toml::from_str::<File>(typo).is_err());
    let in_condition = "[[workflow.rules]]\nname = 'r'\non = ['case.opened']\nthen = []\n\
                        when = [ { field = 'tier', op = 'eq', values = ['vip'] } ]\n";
    assert!(toml::from_str::<File>(in_condition).is_err());
    let in_action = "[[workflow.rules]]\nname = 'r'\non = ['case.opened']\n\
                     then = [ { action = 'tag', valeu = 'x' } ]\n";
    assert!(toml::from_str::<File>(in_action).is_err());
}

#[test]
fn actions_serialise_like_the_config() {
    let json = |a: &Action| serde_json::to_value(a).unwrap();
    assert_eq!(
        json(&Action::Assign {
            queue: Some("priority".into()),
            agent: None
        }),
        serde_json::json!({"action": "assign", "queue": "priority"})
    );
    assert_eq!(
        json(&Action::SetPriority {
            value: CasePriority::Urgent
        }),
        serde_json::json!({"action": "set_priority", "value": "urgent"})
    );
    assert_eq!(
        json(&Action::HandToHuman),
        serde_json::json!({"action": "hand_to_human"})
    );
    let back: Action =
        serde_json::from_value(serde_json::json!({"action": "notify", "target": "ops"})).unwrap();
    assert_eq!(
        back,
        Action::Notify {
            target: "ops".into()
        }
    );
}

#[test]
fn event_kinds_round_trip_through_their_names() {
    for kind in EventKind::ALL {
        assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::json!(kind.as_str())
        );
    }
    assert_eq!(EventKind::parse("case.closed"), None);
    let event: RuleEvent = serde_json::from_value(serde_json::json!({
        "kind": "sla.breached", "case_id": "c1", "facts": {"tier": "vip", "hour": 3}
    }))
    .unwrap();
    assert_eq!(event.kind, EventKind::SlaBreached);
    assert_eq!(event.facts.tier, Some(Tier::Vip));
}

#[test]
fn the_caller_can_check_the_templates_and_webhooks_rules_name() {
    let set = rules(VIP_COMPLAINTS);
    assert_eq!(set.templates().collect::<Vec<_>>(), ["ack"]);
    assert_eq!(set.notify_targets().collect::<Vec<_>>(), ["ops-webhook"]);
    assert!(!set.is_empty());
    assert!(RuleSet::compile(&[]).unwrap().is_empty());
}

#[test]
fn a_dry_run_counts_what_each_rule_would_have_done_over_past_traffic() {
    let set = rules(VIP_COMPLAINTS);
    let mut events = Vec::new();
    // 7 angry VIPs, two of them about the same case, across two event kinds.
    for i in 0..7 {
        let kind = if i % 2 == 0 {
            EventKind::CaseOpened
        } else {
            EventKind::MessageReceived
        };
        let mut e = RuleEvent::new(kind, angry_vip());
        e.case_id = Some(format!("case-{}", i.min(5)));
        events.push(e);
    }
    // 3 ordinary complaints, 2 praises, 1 SLA breach nobody listens for.
    for i in 0..3 {
        let mut e = RuleEvent::new(
            EventKind::MessageReceived,
            RuleFacts {
                tier: Some(Tier::Standard),
                ..angry_vip()
            },
        );
        e.case_id = Some(format!("std-{i}"));
        events.push(e);
    }
    for _ in 0..2 {
        let praise = RuleFacts {
            intent: Some("praise".into()),
            ..RuleFacts::default()
        };
        events.push(RuleEvent::new(EventKind::MessageReceived, praise));
    }
    events.push(RuleEvent::new(EventKind::SlaBreached, angry_vip()));

    let report = dry_run(&set, &events);
    assert_eq!(report.events, 13);
    assert_eq!(report.events_matched, 10);

    let vip = &report.rules[0];
    assert_eq!(vip.name, "vip complaints to priority");
    assert!(vip.enabled);
    assert_eq!(vip.matched, 7);
    assert_eq!(vip.actions["set_priority"], 7);
    assert_eq!(vip.actions["tag"], 7);
    assert_eq!(vip.actions["assign"], 7);
    assert_eq!(vip.actions["hand_to_human"], 7);
    assert_eq!(vip.actions.len(), 8);
    assert_eq!(
        vip.sample_cases,
        ["case-0", "case-1", "case-2", "case-3", "case-4"],
        "at most five, distinct"
    );

    let general = &report.rules[1];
    assert_eq!(general.matched, 3);
    assert_eq!(general.actions["tag"], 3);
    assert_eq!(general.sample_cases, ["std-0", "std-1", "std-2"]);
    // The 3 VIP messages (not case openings) would have matched, but the VIP rule stopped.
    assert_eq!(general.shadowed, 3);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rules"][1]["actions"]["tag"], 3);
}

#[test]
fn a_dry_run_changes_nothing_and_can_be_repeated() {
    let set = rules(VIP_COMPLAINTS);
    let events = vec![RuleEvent::new(EventKind::MessageReceived, angry_vip())];
    let first = dry_run(&set, &events);
    assert_eq!(first, dry_run(&set, &events));
    assert_eq!(dry_run(&set, &[]).events, 0);
    assert_eq!(dry_run(&set, &[]).rules[0].matched, 0);
    assert!(dry_run(&set, &[]).rules[0].actions.is_empty());
}
