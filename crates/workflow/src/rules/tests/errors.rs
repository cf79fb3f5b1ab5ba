//! Configuration mistakes, each refused with the rule's name.

use super::*;

/// A rule with one condition, for error tests.
fn one_condition(cond: &str) -> String {
    format!(
        "[[workflow.rules]]\nname = 'r1'\non = ['message.received']\nwhen = [ {cond} ]\n\
         then = [ {{ action = 'tag', value = 'x' }} ]\n"
    )
}

#[test]
fn mistakes_in_conditions_are_refused_naming_the_rule() {
    let cases = [
        (
            "{ field = 'tierr', op = 'eq', value = 'vip' }",
            "rule `r1`: unknown field `tierr`",
        ),
        (
            "{ field = 'tier', op = 'equals', value = 'vip' }",
            "rule `r1`: unknown op `equals` on `tier`",
        ),
        (
            "{ field = 'text', op = 'lt', value = 'a' }",
            "rule `r1`: `lt` does not apply to `text`, which is text",
        ),
        (
            "{ field = 'status', op = 'gt', value = 'open' }",
            "rule `r1`: `gt` does not apply to `status`",
        ),
        (
            "{ field = 'tags', op = 'eq', value = 'a' }",
            "rule `r1`: `eq` does not apply to `tags`, which is a set",
        ),
        (
            "{ field = 'sentiment', op = 'in', value = [0.1] }",
            "rule `r1`: `in` does not apply to `sentiment`",
        ),
        (
            "{ field = 'tier', op = 'eq', value = 'gold' }",
            "rule `r1`: `tier eq`: `gold` is not a known tier (standard, premium, vip)",
        ),
        (
            "{ field = 'priority', op = 'in', value = ['high', 'asap'] }",
            "rule `r1`: `priority in`: `asap` is not a known priority",
        ),
        (
            "{ field = 'urgency', op = 'eq', value = 'critcal' }",
            "`critcal` is not a known urgency (low, normal, high, critical)",
        ),
        (
            "{ field = 'sentiment', op = 'lt', value = 'negative' }",
            "`sentiment lt`: expects a number, got \"negative\"",
        ),
        (
            "{ field = 'sentiment', op = 'lt', value = -5 }",
            "sentiment runs from -1 to 1",
        ),
        (
            "{ field = 'hour', op = 'ge', value = 9.5 }",
            "`hour ge`: expects a whole number, got `9.5`",
        ),
        (
            "{ field = 'hour', op = 'eq', value = 24 }",
            "24 is out of range (0 to 23)",
        ),
        (
            "{ field = 'author.followers', op = 'gt', value = -1 }",
            "-1 is out of range",
        ),
        (
            "{ field = 'customer.vip', op = 'eq', value = 'yes' }",
            "expects true or false",
        ),
        (
            "{ field = 'tier', op = 'in', value = 'vip' }",
            "`tier in`: expects a list, got \"vip\"",
        ),
        (
            "{ field = 'text', op = 'contains_any', value = 'refund' }",
            "expects a list",
        ),
        (
            "{ field = 'text', op = 'contains', value = ['a', 'b'] }",
            "expects a string, got a list",
        ),
        (
            "{ field = 'tier', op = 'in', value = [] }",
            "the list is empty",
        ),
        (
            "{ field = 'text', op = 'contains_any', value = ['refund', ' '] }",
            "a term is empty",
        ),
        ("{ field = 'tier', op = 'eq' }", "`tier eq`: needs a value"),
        (
            "{ field = 'tier', op = 'is_set', value = 'vip' }",
            "`tier is_set`: takes no value",
        ),
    ];
    for (condition, expected) in cases {
        let err = compile_error(&one_condition(condition)).to_string();
        assert!(
            err.contains(expected),
            "{condition}: expected `{expected}` in `{err}`"
        );
        assert!(err.starts_with("rule `r1`"), "{err}");
    }
}

#[test]
fn mistakes_in_rules_and_actions_are_refused_naming_the_rule() {
    let rule = |on: &str, then: &str| {
        format!("[[workflow.rules]]\nname = 'r1'\non = {on}\nthen = [ {then} ]\n")
    };
    let tag = "{ action = 'tag', value = 'x' }";
    let cases = [
        (rule("[]", tag), "rule `r1`: `on` lists no events"),
        (
            rule("['case.closed']", tag),
            "rule `r1`: unknown event `case.closed` (known: case.opened,",
        ),
        (
            "[[workflow.rules]]\nname = 'r1'\non = ['case.opened']\nthen = []\n".into(),
            "rule `r1`: `then` lists no actions",
        ),
        (
            rule("['case.opened']", "{ action = 'close' }"),
            "rule `r1`: unknown action `close`",
        ),
        (
            rule(
                "['case.opened']",
                "{ action = 'set_priority', value = 'asap' }",
            ),
            "rule `r1`: action `set_priority`: `asap` is not a known priority",
        ),
        (
            rule("['case.opened']", "{ action = 'tag', queue = 'x' }"),
            "action `tag`: does not take `queue` (it takes only `value`)",
        ),
        (
            rule("['case.opened']", "{ action = 'assign' }"),
            "action `assign`: needs a `queue`, an `agent`, or both",
        ),
        (
            rule("['case.opened']", "{ action = 'escalate', to = ' ' }"),
            "action `escalate`: `to` is empty",
        ),
        (
            rule("['case.opened']", "{ action = 'auto_reply' }"),
            "action `auto_reply`: needs `template`",
        ),
        (
            rule(
                "['case.opened']",
                "{ action = 'hand_to_human', to = 'bob' }",
            ),
            "it takes no parameters",
        ),
    ];
    for (text, expected) in cases {
        let err = compile_error(&text).to_string();
        assert!(err.contains(expected), "expected `{expected}` in `{err}`");
    }

    let unnamed = "[[workflow.rules]]\nname = ' '\non = ['case.opened']\nthen = [ { action = 'hand_to_human' } ]\n";
    assert_eq!(
        compile_error(unnamed).to_string(),
        "rule #0: a rule needs a non-empty name"
    );
    let twice = format!(
        "{}{}",
        rule("['case.opened']", tag),
        rule("['reply.sent']", tag)
    );
    assert_eq!(
        compile_error(&twice),
        RuleError::DuplicateName { rule: "r1".into() }
    );
}
