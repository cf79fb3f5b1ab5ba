//! Dry run: replay past events through a rule set and count what each rule would have done.
//! Nothing is carried out; the caller loads the events and shows the report.
//!
//! The replay follows live evaluation exactly — disabled rules stay silent and `stop` ends
//! an event — so to try a new or disabled rule, compile a candidate set with it enabled and
//! replay that.

use super::field::View;
use super::terms::Scan;
use super::{RuleEvent, RuleSet};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many example cases each rule report keeps.
pub const SAMPLE_CASES: usize = 5;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DryRunReport {
    /// Events replayed.
    pub events: u64,
    /// Events on which at least one rule fired.
    pub events_matched: u64,
    /// One per configured rule, in configured order.
    pub rules: Vec<RuleReport>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleReport {
    pub name: String,
    pub enabled: bool,
    /// Events on which the rule fired.
    pub matched: u64,
    /// Events on which the rule's conditions held but an earlier rule had already stopped
    /// processing: a rule that is always shadowed never fires, which is worth knowing.
    pub shadowed: u64,
    /// Actions it would have asked for, by kind (`{"tag": 12, "assign": 12}`).
    pub actions: BTreeMap<String, u64>,
    /// The first few distinct cases it fired on.
    pub sample_cases: Vec<String>,
}

/// What each rule would have done over past events, without doing it.
pub fn dry_run<'a>(
    rules: &RuleSet,
    events: impl IntoIterator<Item = &'a RuleEvent>,
) -> DryRunReport {
    let mut report = DryRunReport {
        rules: rules
            .rules
            .iter()
            .map(|r| RuleReport {
                name: r.name.clone(),
                enabled: r.enabled,
                ..RuleReport::default()
            })
            .collect(),
        ..DryRunReport::default()
    };

    for event in events {
        report.events += 1;
        let mut stopped = false;
        let mut any = false;
        let facts = View::new(&event.facts);
        let mut scan = Scan::new(&rules.terms);
        for &i in &rules.by_kind[event.kind.index()] {
            let rule = &rules.rules[i];
            if !rule.holds(&facts, &mut scan) {
                continue;
            }
            let tally = &mut report.rules[i];
            if stopped {
                tally.shadowed += 1;
                continue;
            }
            any = true;
            tally.matched += 1;
            if let Some(case) = &event.case_id
                && tally.sample_cases.len() < SAMPLE_CASES
                && !tally.sample_cases.contains(case)
            {
                tally.sample_cases.push(case.clone());
            }
            stopped = rule.stop;
        }
        if any {
            report.events_matched += 1;
        }
    }

    // A fired rule asks for all of its actions, so counts follow from the match count.
    for (tally, rule) in report.rules.iter_mut().zip(&rules.rules) {
        if tally.matched == 0 {
            continue;
        }
        for action in rule.actions.iter() {
            *tally.actions.entry(action.kind().to_string()).or_default() += tally.matched;
        }
    }
    report
}
