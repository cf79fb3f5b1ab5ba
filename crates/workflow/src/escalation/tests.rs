#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[derive(Deserialize)]
struct File {
    workflow: Workflow,
}

#[derive(Deserialize)]
struct Workflow {
    escalations: Vec<EscalationConfig>,
}

fn configs(text: &str) -> Vec<EscalationConfig> {
    toml::from_str::<File>(text).unwrap().workflow.escalations
}

fn compile_error(text: &str) -> String {
    EscalationMatrix::compile(&configs(text))
        .unwrap_err()
        .to_string()
}

const MATRIX: &str = r#"
[[workflow.escalations]]
name = "legal threats"
to = "legal"
deadline_mins = 15
when = { terms = ["lawyer", "lawsuit", "sue", "small claims court"], urgency = ["critical"] }

[[workflow.escalations]]
name = "vip unhappy"
to = "executives"
deadline_mins = 60
when = { vip = true }

[[workflow.escalations]]
name = "sla breach"
to = "operations"
deadline_mins = 30
when = { sla_breached = true }

[[workflow.escalations]]
name = "public storm"
to = "pr"
deadline_mins = 20
when = { sentiment_below = -0.6, followers_above = 10000 }
"#;

fn matrix() -> EscalationMatrix {
    EscalationMatrix::compile(&configs(MATRIX)).unwrap()
}

const NOW: Timestamp = Timestamp(1_800_000_000_000);
const MIN: i64 = 60_000;

fn text(t: &str) -> EscalationFacts {
    EscalationFacts {
        text_lower: t.into(),
        ..EscalationFacts::default()
    }
}

fn names(escalations: &[Escalation]) -> Vec<&str> {
    escalations.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn a_legal_threat_goes_to_legal_within_fifteen_minutes() {
    let raised = matrix().triggered(&text("fix this or my lawyer will call you"), &[], NOW);
    assert_eq!(
        raised,
        [Escalation {
            name: "legal threats".into(),
            to: "legal".into(),
            reason: "term `lawyer`".into(),
            raised_at: NOW,
            due_at: NOW.plus_millis(15 * MIN),
        }]
    );
}

#[test]
fn terms_match_whole_words_only_whatever_the_case() {
    let m = matrix();
    let legal = |t: &str| names(&m.triggered(&text(t), &[], NOW)) == ["legal threats"];
    assert!(legal("i will sue."));
    assert!(legal("I WILL SUE you"), "uppercase is folded");
    assert!(legal("sue"));
    assert!(legal("(lawsuit) pending"));
    assert!(legal("see you in small claims court!"));
    assert!(!legal("there is an issue with my order"));
    assert!(!legal("my suede shoes arrived damaged"));
    assert!(!legal("lawyers"), "a different word");
    assert!(!legal("small claims courtyard"));
    assert!(!legal(""));
    // An earlier partial hit does not hide a later whole-word one.
    assert!(legal("issue after issue, so i will sue"));
}

#[test]
fn critical_urgency_also_reaches_legal() {
    let facts = EscalationFacts {
        urgency: Some("critical".into()),
        ..text("the heater caught fire")
    };
    let raised = matrix().triggered(&facts, &[], NOW);
    assert_eq!(names(&raised), ["legal threats"]);
    assert_eq!(raised[0].reason, "urgency `critical`");

    let high = EscalationFacts {
        urgency: Some("high".into()),
        ..facts
    };
    assert!(matrix().triggered(&high, &[], NOW).is_empty());
}

#[test]
fn a_vip_goes_to_the_executives() {
    let facts = EscalationFacts {
        vip: true,
        ..text("still waiting for my order")
    };
    let raised = matrix().triggered(&facts, &[], NOW);
    assert_eq!(names(&raised), ["vip unhappy"]);
    assert_eq!(raised[0].to, "executives");
    assert_eq!(raised[0].reason, "VIP customer");
    assert_eq!(raised[0].due_at, NOW.plus_millis(60 * MIN));
}

#[test]
fn an_sla_breach_goes_to_operations() {
    let facts = EscalationFacts {
        sla_breached: true,
        ..EscalationFacts::default()
    };
    let raised = matrix().triggered(&facts, &[], NOW);
    assert_eq!(names(&raised), ["sla breach"]);
    assert_eq!(raised[0].to, "operations");
    assert_eq!(raised[0].due_at, NOW.plus_millis(30 * MIN));
}

#[test]
fn an_angry_post_from_a_large_account_goes_to_pr_with_both_reasons() {
    let facts = EscalationFacts {
        sentiment: Some(-0.82),
        followers: Some(250_000),
        ..text("worst airline ever")
    };
    let raised = matrix().triggered(&facts, &[], NOW);
    assert_eq!(names(&raised), ["public storm"]);
    assert_eq!(
        raised[0].reason,
        "sentiment -0.82 below -0.6; 250000 followers, above 10000"
    );

    // Either trigger alone suffices; thresholds are strict.
    let angry = EscalationFacts {
        sentiment: Some(-0.7),
        ..EscalationFacts::default()
    };
    let famous = EscalationFacts {
        followers: Some(10_001),
        ..EscalationFacts::default()
    };
    let at_limits = EscalationFacts {
        sentiment: Some(-0.6),
        followers: Some(10_000),
        ..EscalationFacts::default()
    };
    assert_eq!(
        names(&matrix().triggered(&angry, &[], NOW)),
        ["public storm"]
    );
    assert_eq!(
        names(&matrix().triggered(&famous, &[], NOW)),
        ["public storm"]
    );
    assert!(matrix().triggered(&at_limits, &[], NOW).is_empty());
}

#[test]
fn one_case_can_need_several_teams_in_matrix_order() {
    let facts = EscalationFacts {
        vip: true,
        sla_breached: true,
        ..text("my lawyer is reading this thread")
    };
    let raised = matrix().triggered(&facts, &[], NOW);
    assert_eq!(
        names(&raised),
        ["legal threats", "vip unhappy", "sla breach"]
    );
}

#[test]
fn an_escalation_already_raised_for_the_case_is_not_raised_again() {
    let facts = EscalationFacts {
        vip: true,
        ..text("i will sue")
    };
    let already = vec!["legal threats".to_string()];
    let raised = matrix().triggered(&facts, &already, NOW);
    assert_eq!(names(&raised), ["vip unhappy"]);

    let both = vec!["vip unhappy".to_string(), "legal threats".to_string()];
    assert!(matrix().triggered(&facts, &both, NOW).is_empty());
}

#[test]
fn a_quiet_case_needs_no_escalation() {
    let facts = EscalationFacts {
        urgency: Some("normal".into()),
        sentiment: Some(0.4),
        followers: Some(120),
        ..text("thanks, that fixed it")
    };
    assert!(matrix().triggered(&facts, &[], NOW).is_empty());
}

#[test]
fn an_escalation_breaches_when_not_acknowledged_by_its_due_time() {
    let e = matrix()
        .triggered(&text("lawsuit"), &[], NOW)
        .pop()
        .unwrap();
    let due = e.due_at;
    let at = |ms: i64| due.plus_millis(ms);

    // Not acknowledged: fine up to and at the due instant, breached after.
    assert!(!escalation_breached(&e, None, at(-MIN)));
    assert!(!escalation_breached(&e, None, due));
    assert!(escalation_breached(&e, None, at(1)));

    // Acknowledged in time: never breached, however late we look.
    assert!(!escalation_breached(&e, Some(at(-5 * MIN)), at(60 * MIN)));
    assert!(!escalation_breached(&e, Some(due), at(60 * MIN)));

    // Acknowledged late: breached, and it stays breached.
    assert!(escalation_breached(&e, Some(at(MIN)), at(2 * MIN)));
    assert!(escalation_breached(&e, Some(at(MIN)), at(60 * MIN)));

    // An acknowledgement stamped after `now` has not happened yet.
    assert!(!escalation_breached(&e, Some(at(MIN)), at(-MIN)));
}

#[test]
fn escalations_round_trip_as_json() {
    let e = matrix().triggered(&text("sue"), &[], NOW).pop().unwrap();
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["to"], "legal");
    assert_eq!(json["due_at"], NOW.plus_millis(15 * MIN).to_rfc3339());
    let back: Escalation = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
}

fn one(to: &str, deadline: &str, when: &str) -> String {
    format!(
        "[[workflow.escalations]]\nname = 'e1'\nto = '{to}'\ndeadline_mins = {deadline}\nwhen = {when}\n"
    )
}

#[test]
fn unusable_entries_are_refused_naming_the_entry() {
    assert_eq!(
        compile_error(&one(" ", "15", "{ vip = true }")),
        "escalation `e1`: `to` is empty; name the team or role to escalate to"
    );
    assert_eq!(
        compile_error(&one("legal", "0", "{ vip = true }")),
        "escalation `e1`: `deadline_mins` must be at least 1"
    );
    let no_trigger = "escalation `e1`: `when` lists no trigger";
    assert!(compile_error(&one("legal", "15", "{}")).starts_with(no_trigger));
    assert!(
        compile_error(&one("legal", "15", "{ vip = false, terms = [] }")).starts_with(no_trigger),
        "triggers switched off are no triggers"
    );
    assert_eq!(
        compile_error(&one("legal", "15", "{ urgency = ['urgent'] }")),
        "escalation `e1`: urgency `urgent` is not a known level (low, normal, high, critical)"
    );
    assert_eq!(
        compile_error(&one("legal", "15", "{ terms = ['sue', '  '] }")),
        "escalation `e1`: a term is empty"
    );
    assert_eq!(
        compile_error(&one("legal", "15", "{ terms = ['!!!'] }")),
        "escalation `e1`: term \"!!!\" has no letters or digits to match"
    );
    assert_eq!(
        compile_error(&one("pr", "15", "{ sentiment_below = -2 }")),
        "escalation `e1`: sentiment_below runs from -1 to 1, got -2"
    );
    assert!(compile_error(&one("pr", "15", "{ sentiment_below = nan }")).contains("got NaN"));

    let unnamed = one("legal", "15", "{ vip = true }").replace("'e1'", "''");
    assert_eq!(
        compile_error(&unnamed),
        "escalation #0: an escalation needs a non-empty name"
    );
    let twice = format!(
        "{}{}",
        one("legal", "15", "{ vip = true }"),
        one("pr", "5", "{ vip = true }")
    );
    assert_eq!(
        compile_error(&twice),
        "escalation `e1`: another escalation already has this name"
    );
}

#[test]
fn unknown_keys_and_negative_deadlines_are_refused_by_the_config_reader() {
    let typo = one("legal", "15", "{ term = ['sue'] }");
    assert!(toml::from_str::<File>(&typo).is_err());
    let negative = one("legal", "-5", "{ vip = true }");
    assert!(toml::from_str::<File>(&negative).is_err());
}

#[test]
fn the_matrix_lists_its_entries_in_order() {
    let m = matrix();
    assert_eq!(m.len(), 4);
    assert!(!m.is_empty());
    assert_eq!(
        m.names().collect::<Vec<_>>(),
        ["legal threats", "vip unhappy", "sla breach", "public storm"]
    );
    assert!(EscalationMatrix::compile(&[]).unwrap().is_empty());
}
