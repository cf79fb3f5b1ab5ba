//! Case rules (D7): "100 rules evaluated against an event: under 20 µs".
//!
//! Compiles 100 varied rules (2–4 conditions each: text `contains_any`, ranked and numeric
//! comparisons, sets, keywords) and evaluates 1,000,000 varied events with ~200-character
//! texts. Prints the median over 5 runs of the mean time per evaluation, and a p99 from
//! timing single evaluations (which includes the timer's own cost).
//!
//! Two mixes: "mixed" has events of every kind and a few rules that stop; "worst case" sends
//! only `message.received`, which every rule listens for, and no rule stops, so all 100
//! rules are looked at every time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{CaseStatus, Platform, Tier};
use std::hint::black_box;
use std::time::Instant;
use switchboard_workflow::rules::{
    ActionConfig, ConditionConfig, EventKind, RuleConfig, RuleEvent, RuleFacts, RuleSet, RuleValue,
};

const RULES: usize = 100;
const EVALUATIONS: usize = 1_000_000;
const RUNS: usize = 5;
const DISTINCT_EVENTS: usize = 4096;
const TARGET_US: f64 = 20.0;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn unit(&mut self) -> f64 {
        (self.next() % 10_000) as f64 / 10_000.0
    }
}

/// Words messages are made of; rule terms come from here and from `RARE`.
const WORDS: &[&str] = &[
    "my",
    "order",
    "never",
    "arrived",
    "and",
    "the",
    "app",
    "keeps",
    "crashing",
    "when",
    "i",
    "try",
    "to",
    "pay",
    "with",
    "card",
    "refund",
    "please",
    "third",
    "time",
    "asking",
    "support",
    "is",
    "useless",
    "delivery",
    "late",
    "again",
    "package",
    "damaged",
    "charged",
    "twice",
    "cancel",
    "subscription",
    "account",
    "locked",
    "password",
    "reset",
    "thanks",
    "great",
    "service",
    "love",
    "new",
    "feature",
    "still",
    "waiting",
    "for",
    "answer",
    "from",
    "you",
];
/// Terms rules look for that messages rarely contain: these make a rule scan the whole text.
const RARE: &[&str] = &[
    "lawyer",
    "lawsuit",
    "chargeback",
    "regulator",
    "ombudsman",
    "data breach",
    "fraud",
    "unsafe",
    "injury",
    "press",
];
const TAGS: &[&str] = &[
    "shipping",
    "billing",
    "repeat",
    "vip",
    "bug",
    "churn-risk",
    "praise",
];
const LANGS: &[&str] = &["en", "de", "fr", "es", "it", "nl"];
const INTENTS: &[&str] = &["complaint", "inquiry", "praise", "other"];
const TIERS: &[&str] = &["standard", "premium", "vip"];
const URGENCIES: &[&str] = &["low", "normal", "high", "critical"];
const KINDS: &[&str] = &[
    "case.opened",
    "case.updated",
    "sla.warned",
    "sla.breached",
    "reply.sent",
];

fn text(s: &str) -> RuleValue {
    RuleValue::Text(s.into())
}

fn list(items: impl IntoIterator<Item = RuleValue>) -> RuleValue {
    RuleValue::List(items.into_iter().collect())
}

fn condition(field: &str, op: &str, value: RuleValue) -> ConditionConfig {
    ConditionConfig {
        field: field.into(),
        op: op.into(),
        value: Some(value),
    }
}

fn random_condition(rng: &mut Rng) -> ConditionConfig {
    match rng.below(10) {
        0 | 1 => {
            let terms = (0..2 + rng.below(3)).map(|i| {
                if i == 0 {
                    text(rng.pick(RARE))
                } else {
                    text(rng.pick(WORDS))
                }
            });
            condition("text", "contains_any", list(terms.collect::<Vec<_>>()))
        }
        2 => condition("tier", "ge", text(rng.pick(TIERS))),
        3 => condition("sentiment", "lt", RuleValue::Number(-rng.unit())),
        4 => condition(
            "author.followers",
            "gt",
            RuleValue::Whole(rng.below(50_000) as i64),
        ),
        5 => condition(
            "tags",
            "contains_any",
            list([text(rng.pick(TAGS)), text(rng.pick(TAGS))]),
        ),
        6 => condition("intent", "eq", text(rng.pick(INTENTS))),
        7 => condition(
            "language",
            "in",
            list([text(rng.pick(LANGS)), text(rng.pick(LANGS))]),
        ),
        8 => condition("urgency", "ge", text(rng.pick(URGENCIES))),
        _ => condition(
            "message_count",
            "ge",
            RuleValue::Whole(1 + rng.below(5) as i64),
        ),
    }
}

fn random_rules(rng: &mut Rng, allow_stop: bool) -> Vec<RuleConfig> {
    (0..RULES)
        .map(|i| {
            let mut on = vec!["message.received".to_string()];
            on.extend((0..rng.below(3)).map(|_| rng.pick(KINDS).to_string()));
            RuleConfig {
                name: format!("rule {i}"),
                on,
                when: (0..2 + rng.below(3))
                    .map(|_| random_condition(rng))
                    .collect(),
                then: vec![
                    ActionConfig {
                        action: "tag".into(),
                        value: Some(format!("r{i}")),
                        ..ActionConfig::default()
                    },
                    ActionConfig {
                        action: "assign".into(),
                        queue: Some("priority".into()),
                        ..ActionConfig::default()
                    },
                ],
                stop: allow_stop && rng.below(20) == 0,
                enabled: true,
            }
        })
        .collect()
}

fn random_text(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(220);
    while s.len() < 200 {
        if !s.is_empty() {
            s.push(' ');
        }
        // Now and then a message does say one of the rare words.
        let word = if rng.below(60) == 0 {
            rng.pick(RARE)
        } else {
            rng.pick(WORDS)
        };
        s.push_str(word);
    }
    s
}

fn random_event(rng: &mut Rng, only_messages: bool) -> RuleEvent {
    let kind = if only_messages || rng.below(10) < 7 {
        EventKind::MessageReceived
    } else {
        EventKind::ALL[rng.below(EventKind::ALL.len())]
    };
    let tier = [Tier::Standard, Tier::Premium, Tier::Vip][rng.below(3)];
    let facts = RuleFacts {
        tier: Some(tier),
        intent: Some(rng.pick(INTENTS).into()),
        sentiment: Some(rng.unit() * 2.0 - 1.0),
        status: Some(CaseStatus::Open),
        language: Some(rng.pick(LANGS).into()),
        platform: Some(Platform::ALL[rng.below(Platform::ALL.len())]),
        channel: Some("dm".into()),
        urgency: Some(rng.pick(URGENCIES).into()),
        text: Some(random_text(rng)),
        tags: (0..rng.below(3)).map(|_| rng.pick(TAGS).into()).collect(),
        customer_vip: Some(tier == Tier::Vip),
        author_followers: Some(rng.below(100_000) as u64),
        watch_terms: Vec::new(),
        queue: Some("general".into()),
        message_count: Some(1 + rng.below(8) as u64),
        hour: Some(rng.below(24) as u8),
        ..RuleFacts::default()
    };
    RuleEvent::new(kind, facts)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn measure(label: &str, set: &RuleSet, events: &[RuleEvent]) {
    // Warm up caches and branch predictors.
    let mut fired = 0usize;
    for e in events {
        fired += black_box(set.evaluate(black_box(e))).len();
    }
    let avg_fired = fired as f64 / events.len() as f64;

    let means: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            for i in 0..EVALUATIONS {
                let e = &events[i % events.len()];
                black_box(set.evaluate(black_box(e)));
            }
            start.elapsed().as_nanos() as f64 / EVALUATIONS as f64
        })
        .collect();
    let mean_ns = median(means);

    let mut singles: Vec<f64> = (0..200_000)
        .map(|i| {
            let e = &events[i % events.len()];
            let start = Instant::now();
            black_box(set.evaluate(black_box(e)));
            start.elapsed().as_nanos() as f64
        })
        .collect();
    singles.sort_by(f64::total_cmp);
    let p99_ns = singles[singles.len() * 99 / 100];

    let verdict = if mean_ns / 1000.0 < TARGET_US {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "rules ({label}): {RULES} rules per event, mean {:.2} µs (median of {RUNS} runs of \
         {EVALUATIONS}), p99 {:.2} µs, {avg_fired:.1} rules fired per event \
         (target < {TARGET_US} µs: {verdict})",
        mean_ns / 1000.0,
        p99_ns / 1000.0,
    );
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let mixed_rules = RuleSet::compile(&random_rules(&mut rng, true)).expect("rules compile");
    let mixed: Vec<RuleEvent> = (0..DISTINCT_EVENTS)
        .map(|_| random_event(&mut rng, false))
        .collect();
    measure("mixed", &mixed_rules, &mixed);

    let all_rules = RuleSet::compile(&random_rules(&mut rng, false)).expect("rules compile");
    let messages: Vec<RuleEvent> = (0..DISTINCT_EVENTS)
        .map(|_| random_event(&mut rng, true))
        .collect();
    measure("worst case", &all_rules, &messages);
}
