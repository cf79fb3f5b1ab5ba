//! Each op on each kind of field, and what missing facts give.

use super::*;

/// One condition, compiled into a one-rule set, evaluated against the facts.
fn cond(field: &str, op: &str, value: &str, facts: &RuleFacts) -> bool {
    let value = if value.is_empty() {
        String::new()
    } else {
        format!(", value = {value}")
    };
    let set = rules(&format!(
        "[[workflow.rules]]\nname = 't'\non = ['case.updated']\n\
         when = [ {{ field = '{field}', op = '{op}'{value} }} ]\n\
         then = [ {{ action = 'tag', value = 'x' }} ]\n"
    ));
    !set.evaluate(&RuleEvent::new(EventKind::CaseUpdated, facts.clone()))
        .is_empty()
}

fn full_facts() -> RuleFacts {
    RuleFacts {
        tier: Some(Tier::Premium),
        intent: Some("inquiry".into()),
        sentiment: Some(-0.3),
        priority: Some(CasePriority::High),
        status: Some(CaseStatus::Pending),
        language: Some("de".into()),
        region: Some("EU".into()),
        platform: Some(Platform::Instagram),
        channel: Some("dm".into()),
        urgency: Some("high".into()),
        text: Some("where is my parcel? tracking says delivered".into()),
        tags: vec!["shipping".into(), "repeat".into()],
        customer_vip: Some(false),
        author_followers: Some(12_500),
        watch_terms: vec!["parcel".into()],
        queue: Some("logistics".into()),
        message_count: Some(3),
        hour: Some(14),
    }
}

#[test]
fn ranked_fields_compare_by_their_order() {
    let f = full_facts();
    // tier: standard < premium < vip
    assert!(cond("tier", "eq", "'premium'", &f));
    assert!(cond("tier", "ne", "'vip'", &f));
    assert!(cond("tier", "lt", "'vip'", &f));
    assert!(cond("tier", "le", "'premium'", &f));
    assert!(cond("tier", "gt", "'standard'", &f));
    assert!(!cond("tier", "ge", "'vip'", &f));
    assert!(cond("tier", "in", "['premium', 'vip']", &f));
    assert!(!cond("tier", "not_in", "['premium', 'vip']", &f));
    // priority: low < normal < high < urgent
    assert!(cond("priority", "ge", "'high'", &f));
    assert!(!cond("priority", "gt", "'high'", &f));
    assert!(cond("priority", "lt", "'urgent'", &f));
    assert!(cond("priority", "in", "['high', 'urgent']", &f));
    // urgency: low < normal < high < critical
    assert!(cond("urgency", "ge", "'high'", &f));
    assert!(!cond("urgency", "eq", "'critical'", &f));
    assert!(cond("urgency", "not_in", "['critical']", &f));
    assert!(
        cond("urgency", "le", "'HIGH'", &f),
        "values are case-insensitive"
    );
}

#[test]
fn choice_fields_match_by_value_and_accept_common_spellings() {
    let f = full_facts();
    assert!(cond("status", "eq", "'pending'", &f));
    assert!(cond("status", "ne", "'closed'", &f));
    assert!(cond("status", "in", "['new', 'open', 'pending']", &f));
    assert!(cond("status", "not_in", "['resolved', 'closed']", &f));
    assert!(cond("platform", "eq", "'ig'", &f));
    assert!(cond("platform", "in", "['x', 'instagram']", &f));
    assert!(!cond("platform", "not_in", "['instagram']", &f));
}

#[test]
fn keyword_fields_compare_whole_values_case_insensitively() {
    let f = full_facts();
    assert!(cond("intent", "eq", "'inquiry'", &f));
    assert!(!cond("intent", "eq", "'complaint'", &f));
    assert!(cond("language", "in", "['de', 'at']", &f));
    assert!(cond("region", "eq", "'eu'", &f));
    assert!(cond("channel", "ne", "'public'", &f));
    assert!(cond("queue", "not_in", "['billing', 'sales']", &f));
    assert!(!cond("queue", "in", "['billing', 'sales']", &f));
}

#[test]
fn numeric_fields_compare_as_numbers() {
    let f = full_facts();
    assert!(cond("sentiment", "lt", "0", &f), "a whole number works too");
    assert!(cond("sentiment", "le", "-0.3", &f));
    assert!(cond("sentiment", "gt", "-0.5", &f));
    assert!(!cond("sentiment", "ge", "0.0", &f));
    assert!(cond("sentiment", "eq", "-0.3", &f));
    assert!(cond("sentiment", "ne", "0.5", &f));
    assert!(cond("author.followers", "gt", "10000", &f));
    assert!(!cond("author.followers", "lt", "10000", &f));
    assert!(cond("message_count", "ge", "3", &f));
    assert!(cond("message_count", "eq", "3", &f));
    assert!(cond("message_count", "in", "[3, 4]", &f));
    assert!(cond("hour", "not_in", "[22, 23, 0]", &f));
    assert!(cond("hour", "ge", "9", &f));
    assert!(cond("hour", "lt", "17", &f));
}

#[test]
fn flags_match_true_or_false() {
    let f = full_facts();
    assert!(cond("customer.vip", "eq", "false", &f));
    assert!(cond("customer.vip", "ne", "true", &f));
    let vip = RuleFacts {
        customer_vip: Some(true),
        ..full_facts()
    };
    assert!(cond("customer.vip", "eq", "true", &vip));
}

#[test]
fn text_matches_substrings_of_the_lowercased_message() {
    let f = full_facts();
    assert!(
        cond("text", "contains", "'Parcel'", &f),
        "terms are lowercased"
    );
    assert!(cond("text", "contains", "'tracking says'", &f));
    assert!(cond("text", "contains_any", "['refund', 'delivered']", &f));
    assert!(!cond("text", "contains_any", "['refund', 'lawyer']", &f));
    assert!(cond("text", "not_contains", "'refund'", &f));
    assert!(cond("text", "not_contains", "['refund', 'lawyer']", &f));
    assert!(!cond("text", "not_contains", "['refund', 'parcel']", &f));
    assert!(cond(
        "text",
        "eq",
        "'where is my parcel? tracking says delivered'",
        &f
    ));
    assert!(cond("text", "ne", "'stop'", &f));
}

#[test]
fn sets_match_on_membership() {
    let f = full_facts();
    assert!(cond("tags", "contains", "'repeat'", &f));
    assert!(
        !cond("tags", "contains", "'rep'", &f),
        "members, not substrings"
    );
    assert!(cond("tags", "contains_any", "['vip', 'shipping']", &f));
    assert!(cond("tags", "not_contains", "'spam'", &f));
    assert!(!cond("tags", "not_contains", "['spam', 'repeat']", &f));
    assert!(cond("watch_terms", "contains", "'PARCEL'", &f));
    assert!(cond("watch_terms", "not_contains", "'ceo'", &f));
}

#[test]
fn missing_facts_fail_every_test_but_the_negations_and_not_set() {
    let empty = RuleFacts::default();
    let full = full_facts();
    let presence = [
        "tier",
        "intent",
        "sentiment",
        "priority",
        "status",
        "language",
        "region",
        "platform",
        "channel",
        "urgency",
        "text",
        "tags",
        "customer.vip",
        "author.followers",
        "watch_terms",
        "queue",
        "message_count",
        "hour",
    ];
    for field in presence {
        assert!(cond(field, "is_set", "", &full), "{field} is set");
        assert!(!cond(field, "not_set", "", &full), "{field} is set");
        assert!(!cond(field, "is_set", "", &empty), "{field} is missing");
        assert!(cond(field, "not_set", "", &empty), "{field} is missing");
    }
    assert!(!cond("tier", "eq", "'vip'", &empty));
    assert!(cond("tier", "ne", "'vip'", &empty));
    assert!(!cond("tier", "lt", "'vip'", &empty));
    assert!(cond("status", "not_in", "['closed']", &empty));
    assert!(!cond("intent", "in", "['complaint']", &empty));
    assert!(cond("intent", "ne", "'complaint'", &empty));
    assert!(!cond("sentiment", "lt", "0", &empty));
    assert!(!cond("hour", "ge", "0", &empty));
    assert!(cond("hour", "not_in", "[3]", &empty));
    assert!(!cond("customer.vip", "eq", "false", &empty));
    assert!(!cond("text", "contains", "'a'", &empty));
    assert!(cond("text", "not_contains", "'refund'", &empty));
    assert!(!cond("tags", "contains_any", "['a']", &empty));
    // An urgency the enrichment does not know counts as missing rather than as low.
    let odd = RuleFacts {
        urgency: Some("meh".into()),
        ..RuleFacts::default()
    };
    assert!(cond("urgency", "not_set", "", &odd));
    assert!(!cond("urgency", "le", "'critical'", &odd));
}

#[test]
fn every_negation_is_the_exact_opposite_of_its_op_present_or_missing() {
    let samples = [
        full_facts(),
        RuleFacts::default(),
        angry_vip(),
        RuleFacts {
            tier: Some(Tier::Standard),
            priority: Some(CasePriority::Low),
            status: Some(CaseStatus::Closed),
            platform: Some(Platform::Generic),
            urgency: Some("critical".into()),
            author_followers: Some(0),
            hour: Some(0),
            ..RuleFacts::default()
        },
    ];
    let pairs = [
        ("tier", "'premium'", "['premium', 'vip']"),
        ("priority", "'high'", "['low', 'high']"),
        ("status", "'pending'", "['pending', 'closed']"),
        ("platform", "'instagram'", "['x', 'generic']"),
        ("urgency", "'critical'", "['high', 'critical']"),
        ("intent", "'complaint'", "['complaint', 'inquiry']"),
        ("language", "'de'", "['en', 'de']"),
        ("author.followers", "12500", "[0, 12500]"),
        ("hour", "14", "[0, 23]"),
        ("message_count", "3", "[1, 2]"),
    ];
    for facts in &samples {
        for (field, one, many) in pairs {
            let pair = |op: &str, not: &str, value: &str| {
                assert_ne!(
                    cond(field, op, value, facts),
                    cond(field, not, value, facts),
                    "{field} {op}/{not} {value} on {facts:?}"
                );
            };
            pair("eq", "ne", one);
            pair("in", "not_in", many);
        }
        for field in ["tier", "priority", "urgency", "hour", "author.followers"] {
            let value = match field {
                "tier" => "'premium'",
                "priority" => "'high'",
                "urgency" => "'high'",
                "hour" => "14",
                _ => "12500",
            };
            if cond(field, "is_set", "", facts) {
                assert_ne!(
                    cond(field, "lt", value, facts),
                    cond(field, "ge", value, facts)
                );
                assert_ne!(
                    cond(field, "le", value, facts),
                    cond(field, "gt", value, facts)
                );
            }
        }
        for (field, terms) in [("text", "['refund', 'parcel']"), ("tags", "['repeat']")] {
            assert_ne!(
                cond(field, "contains_any", terms, facts),
                cond(field, "not_contains", terms, facts)
            );
        }
    }
}
