//! The rule engine: every closed bucket of every series goes through [`RuleEngine::observe`],
//! which checks it against each rule whose pattern matches and says what happened — an alert
//! fired (or escalated), an alert resolved, or a firing was held back (silenced, in cooldown,
//! or a minor fluctuation).
//!
//! An alert's life is an *episode* of one (rule, group): it opens when a series of the group
//! has breached for `windows` consecutive buckets, and resolves once every series that
//! breached has been clear for `resolve_after` consecutive buckets. Its `dedup_key`
//! (`rule_id/group_key/first_bucket_start`) is the same on the firing, any escalation and the
//! resolution, and a new episode gets a new one. A firing held back by a silence or a
//! cooldown is not lost: the episode stays open and fires once nothing holds it back any
//! more; if it resolves first, nothing was ever delivered and no resolution is reported.
//!
//! Memory is bounded: see [`EngineLimits`].

use super::pattern;
use super::rule::{Condition, GroupBy, Outcome, Rule, Severity};
use super::{RuleSet, Silence, SilenceError};
use crate::watch::BucketSignals;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

const MINUTE_MS: i64 = 60_000;
/// How often (in engine time) ended silences and idle state are swept.
const SWEEP_EVERY_MS: i64 = MINUTE_MS;

/// Why a firing was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressReason {
    /// An active silence covers it.
    Silenced,
    /// The group fired less than `cooldown_minutes` ago, at the same or a higher severity.
    Cooldown,
    /// The bucket had fewer than `min_volume` messages, or the crossing moved less than
    /// `min_change` from the previous bucket.
    Minor,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RuleEvent {
    /// An alert to deliver: a new episode, or a higher severity for an open one (same
    /// `dedup_key`).
    Fired {
        rule_id: String,
        group_key: String,
        dedup_key: String,
        severity: Severity,
        /// The measured metric (threshold) or detector score (anomaly) of the bucket.
        value: f64,
        bucket_start: i64,
        summary: String,
    },
    /// A delivered alert is over.
    Resolved {
        rule_id: String,
        group_key: String,
        dedup_key: String,
        at: i64,
    },
    /// A firing was held back, reported once per reason per episode (and once per bucket
    /// for minor fluctuations).
    Suppressed {
        rule_id: String,
        group_key: String,
        reason: SuppressReason,
    },
}

/// The bounds on what the engine remembers. State is one small record per (rule, series)
/// that matched and one per (rule, group), plus the active silences:
///
/// - state not touched for `idle_ms` of engine time is dropped (a group is kept until its
///   cooldown has also run out); an alert still open then is resolved, since its series has
///   gone silent;
/// - at most `max_tracked` records are held; when a new one is needed beyond that, the least
///   recently touched is dropped first (resolving its alert, if one is open) — an open alert
///   whose series record was dropped resolves at the group's next clear bucket;
/// - at most `max_silences` silences are held; ended silences are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineLimits {
    pub idle_ms: i64,
    pub max_tracked: usize,
    pub max_silences: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        Self {
            idle_ms: 24 * 60 * MINUTE_MS,
            max_tracked: 100_000,
            max_silences: 1_000,
        }
    }
}

/// One series under one rule.
#[derive(Clone, Debug)]
struct Track {
    breach_streak: u32,
    /// Start of the first bucket of the current breach streak.
    streak_start: i64,
    clear_streak: u32,
    /// The series' value in its previous bucket, for `min_change`.
    previous: Option<f64>,
    /// Start of the latest bucket judged: a bucket seen again (a replay) or out of order is
    /// ignored, so it cannot extend a run or fire twice.
    last_bucket: Option<i64>,
    last_seen_ms: i64,
}

impl Track {
    fn new(now_ms: i64) -> Self {
        Self {
            breach_streak: 0,
            streak_start: 0,
            clear_streak: 0,
            previous: None,
            last_bucket: None,
            last_seen_ms: now_ms,
        }
    }
}

/// An open alert.
#[derive(Clone, Debug)]
struct Episode {
    dedup_key: String,
    /// The severity last delivered; `None` while every firing has been held back.
    delivered: Option<Severity>,
    /// The last reason reported for holding a firing back, so it is reported once.
    held_back: Option<SuppressReason>,
}

/// One (rule, group).
#[derive(Clone, Debug)]
struct Group {
    episode: Option<Episode>,
    /// Series whose breach keeps the episode open.
    active: HashSet<String>,
    /// When the group last fired, and at which severity (for the cooldown).
    last_fired: Option<(i64, Severity)>,
    last_seen_ms: i64,
}

impl Group {
    fn new(now_ms: i64) -> Self {
        Self {
            episode: None,
            active: HashSet::new(),
            last_fired: None,
            last_seen_ms: now_ms,
        }
    }

    /// Ends the open episode; a resolution is reported only for an alert that was delivered.
    fn close_episode(&mut self, rule_id: &str, group_key: &str, at: i64) -> Option<RuleEvent> {
        self.active.clear();
        let episode = self.episode.take()?;
        episode.delivered.map(|_| RuleEvent::Resolved {
            rule_id: rule_id.to_owned(),
            group_key: group_key.to_owned(),
            dedup_key: episode.dedup_key,
            at,
        })
    }
}

#[derive(Clone, Debug, Default)]
struct RuleState {
    tracks: HashMap<String, Track>,
    groups: HashMap<String, Group>,
}

/// Rules, silences and what the rules remember. See the module docs.
#[derive(Clone, Debug)]
pub struct RuleEngine {
    rules: Vec<Rule>,
    /// Parallel to `rules`.
    state: Vec<RuleState>,
    silences: Vec<Silence>,
    limits: EngineLimits,
    next_sweep_ms: i64,
}

impl RuleEngine {
    pub fn new(rules: RuleSet) -> Self {
        Self::with_limits(rules, EngineLimits::default())
    }

    pub fn with_limits(rules: RuleSet, limits: EngineLimits) -> Self {
        let rules = rules.rules().to_vec();
        Self {
            state: vec![RuleState::default(); rules.len()],
            rules,
            silences: Vec::new(),
            limits,
            next_sweep_ms: i64::MIN,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Replaces the rules. A rule whose id and definition are unchanged keeps its state; the
    /// open alerts of removed or changed rules are resolved at `now_ms` (returned).
    pub fn set_rules(&mut self, rules: RuleSet, now_ms: i64) -> Vec<RuleEvent> {
        let mut old: HashMap<String, (Rule, RuleState)> = self
            .rules
            .drain(..)
            .zip(self.state.drain(..))
            .map(|(r, s)| (r.id.clone(), (r, s)))
            .collect();
        for rule in rules.rules() {
            let kept = match old.remove(&rule.id) {
                Some((prev, state)) if prev == *rule => state,
                Some((prev, state)) => {
                    old.insert(prev.id.clone(), (prev, state));
                    RuleState::default()
                }
                None => RuleState::default(),
            };
            self.rules.push(rule.clone());
            self.state.push(kept);
        }
        let mut events = Vec::new();
        for (id, (_, mut state)) in old {
            for (key, group) in &mut state.groups {
                events.extend(group.close_episode(&id, key, now_ms));
            }
        }
        events
    }

    /// Adds a silence (replacing one with the same id).
    pub fn add_silence(&mut self, silence: Silence, now_ms: i64) -> Result<(), SilenceError> {
        silence.validate()?;
        self.silences
            .retain(|s| s.id != silence.id && !s.has_ended(now_ms));
        if self.silences.len() >= self.limits.max_silences {
            return Err(SilenceError::TooMany(self.limits.max_silences));
        }
        self.silences.push(silence);
        Ok(())
    }

    /// Ends a silence early; whether it existed.
    pub fn remove_silence(&mut self, id: &str) -> bool {
        let before = self.silences.len();
        self.silences.retain(|s| s.id != id);
        self.silences.len() != before
    }

    pub fn silences(&self) -> &[Silence] {
        &self.silences
    }

    /// Records held: one per (rule, series) and one per (rule, group).
    pub fn tracked(&self) -> usize {
        self.state
            .iter()
            .map(|s| s.tracks.len() + s.groups.len())
            .sum()
    }

    /// Checks one closed bucket of `series` against every rule whose pattern matches. A bucket
    /// no later than the last one seen for that series and rule is ignored (replays are safe).
    pub fn observe(
        &mut self,
        series: &str,
        signals: &BucketSignals,
        now_ms: i64,
    ) -> Vec<RuleEvent> {
        let mut events = Vec::new();
        if now_ms >= self.next_sweep_ms {
            self.sweep(now_ms, &mut events);
            self.next_sweep_ms = now_ms.saturating_add(SWEEP_EVERY_MS);
        }
        for i in 0..self.rules.len() {
            if pattern::matches(&self.rules[i].series, series) {
                self.evaluate(i, series, signals, now_ms, &mut events);
            }
        }
        events
    }

    fn evaluate(
        &mut self,
        i: usize,
        series: &str,
        signals: &BucketSignals,
        now_ms: i64,
        events: &mut Vec<RuleEvent>,
    ) {
        let group_key = group_key(&self.rules[i], series).to_owned();
        let new_records = usize::from(!self.state[i].tracks.contains_key(series))
            + usize::from(!self.state[i].groups.contains_key(&group_key));
        while new_records > 0
            && self.tracked() + new_records > self.limits.max_tracked
            && self.evict_oldest(events)
        {}
        let rule = &self.rules[i];
        let state = &mut self.state[i];
        let track = state
            .tracks
            .entry(series.to_owned())
            .or_insert_with(|| Track::new(now_ms));
        if track
            .last_bucket
            .is_some_and(|last| signals.bucket_start <= last)
        {
            return;
        }
        track.last_bucket = Some(signals.bucket_start);
        let assessment = rule.assess(signals, track.previous, track.breach_streak > 0);
        track.previous = assessment.value;
        track.last_seen_ms = now_ms;
        let group = state
            .groups
            .entry(group_key.clone())
            .or_insert_with(|| Group::new(now_ms));
        group.last_seen_ms = now_ms;
        match assessment.outcome {
            Outcome::Breach(severity) => {
                if track.breach_streak == 0 {
                    track.streak_start = signals.bucket_start;
                }
                track.breach_streak = track.breach_streak.saturating_add(1);
                track.clear_streak = 0;
                if track.breach_streak >= rule.windows() {
                    let firing = Firing {
                        rule,
                        series,
                        group_key: &group_key,
                        severity,
                        value: assessment.value.unwrap_or_default(),
                        bucket_start: signals.bucket_start,
                        streak_start: track.streak_start,
                    };
                    events.extend(firing.apply(group, &self.silences, now_ms));
                }
            }
            Outcome::Minor | Outcome::Clear => {
                if assessment.outcome == Outcome::Minor {
                    events.push(RuleEvent::Suppressed {
                        rule_id: rule.id.clone(),
                        group_key: group_key.clone(),
                        reason: SuppressReason::Minor,
                    });
                }
                track.breach_streak = 0;
                track.clear_streak = track.clear_streak.saturating_add(1);
                if track.clear_streak >= rule.resolve_after {
                    group.active.remove(series);
                }
                if group.active.is_empty() {
                    events.extend(group.close_episode(&rule.id, &group_key, now_ms));
                }
            }
        }
    }

    /// Drops ended silences and idle state (see [`EngineLimits`]).
    fn sweep(&mut self, now_ms: i64, events: &mut Vec<RuleEvent>) {
        self.silences.retain(|s| !s.has_ended(now_ms));
        let idle = |last_seen: i64| now_ms.saturating_sub(last_seen) >= self.limits.idle_ms;
        for (rule, state) in self.rules.iter().zip(&mut self.state) {
            let groups = &mut state.groups;
            state.tracks.retain(|series, t| {
                if !idle(t.last_seen_ms) {
                    return true;
                }
                if let Some(g) = groups.get_mut(group_key(rule, series)) {
                    g.active.remove(series);
                }
                false
            });
            let cooldown_ms = i64::from(rule.cooldown_minutes) * MINUTE_MS;
            state.groups.retain(|key, g| {
                if !idle(g.last_seen_ms) {
                    return true;
                }
                events.extend(g.close_episode(&rule.id, key, now_ms));
                g.last_fired
                    .is_some_and(|(at, _)| now_ms < at.saturating_add(cooldown_ms))
            });
        }
    }

    /// Drops the least recently touched record (at the `max_tracked` bound); whether there
    /// was one. A scan of every record: it runs only when the bound is reached.
    fn evict_oldest(&mut self, events: &mut Vec<RuleEvent>) -> bool {
        let mut oldest: Option<(i64, usize, bool, String)> = None;
        for (i, state) in self.state.iter().enumerate() {
            let tracks = state.tracks.iter().map(|(k, t)| (t.last_seen_ms, true, k));
            let groups = state.groups.iter().map(|(k, g)| (g.last_seen_ms, false, k));
            for (seen, is_track, key) in tracks.chain(groups) {
                if oldest.as_ref().is_none_or(|o| seen < o.0) {
                    oldest = Some((seen, i, is_track, key.clone()));
                }
            }
        }
        let Some((_, i, is_track, key)) = oldest else {
            return false;
        };
        let rule = &self.rules[i];
        let state = &mut self.state[i];
        if is_track {
            state.tracks.remove(&key);
            if let Some(group) = state.groups.get_mut(group_key(rule, &key)) {
                group.active.remove(&key);
            }
        } else if let Some(mut group) = state.groups.remove(&key) {
            let at = group.last_seen_ms;
            events.extend(group.close_episode(&rule.id, &key, at));
        }
        true
    }
}

fn group_key<'a>(rule: &'a Rule, series: &'a str) -> &'a str {
    match rule.group_by {
        GroupBy::Series => series,
        GroupBy::Rule => &rule.series,
    }
}

/// A confirmed breach of one series, about to be delivered or held back.
struct Firing<'a> {
    rule: &'a Rule,
    series: &'a str,
    group_key: &'a str,
    severity: Severity,
    value: f64,
    bucket_start: i64,
    streak_start: i64,
}

impl Firing<'_> {
    fn apply(&self, group: &mut Group, silences: &[Silence], now_ms: i64) -> Option<RuleEvent> {
        group.active.insert(self.series.to_owned());
        let episode = group.episode.get_or_insert_with(|| Episode {
            dedup_key: format!("{}/{}/{}", self.rule.id, self.group_key, self.streak_start),
            delivered: None,
            held_back: None,
        });
        if episode.delivered.is_some_and(|d| self.severity <= d) {
            return None;
        }
        let silenced = silences
            .iter()
            .any(|s| s.is_active(now_ms) && s.covers(&self.rule.id, self.series));
        let cooldown_ms = i64::from(self.rule.cooldown_minutes) * MINUTE_MS;
        let cooling = episode.delivered.is_none()
            && group.last_fired.is_some_and(|(at, severity)| {
                now_ms < at.saturating_add(cooldown_ms) && self.severity <= severity
            });
        let held = if silenced {
            Some(SuppressReason::Silenced)
        } else if cooling {
            Some(SuppressReason::Cooldown)
        } else {
            None
        };
        if let Some(reason) = held {
            if episode.held_back == Some(reason) {
                return None;
            }
            episode.held_back = Some(reason);
            return Some(RuleEvent::Suppressed {
                rule_id: self.rule.id.clone(),
                group_key: self.group_key.to_owned(),
                reason,
            });
        }
        episode.delivered = Some(self.severity);
        episode.held_back = None;
        group.last_fired = Some((now_ms, self.severity));
        Some(RuleEvent::Fired {
            rule_id: self.rule.id.clone(),
            group_key: self.group_key.to_owned(),
            dedup_key: episode.dedup_key.clone(),
            severity: self.severity,
            value: self.value,
            bucket_start: self.bucket_start,
            summary: summary(self.rule, self.series, self.value),
        })
    }
}

/// One line for a person: what was measured where, against what.
fn summary(rule: &Rule, series: &str, value: f64) -> String {
    match rule.condition {
        Condition::Threshold {
            metric,
            op,
            value: limit,
            windows,
        } => {
            let run = if windows > 1 {
                format!(" for {windows} buckets")
            } else {
                String::new()
            };
            format!(
                "{}: {} {} on {series}, {} {}{run}",
                rule.name,
                metric.as_str(),
                number(value),
                op.as_str(),
                number(limit)
            )
        }
        Condition::Anomaly { signal, min_score } => format!(
            "{}: {} score {} on {series}, at least {}",
            rule.name,
            signal.as_str(),
            number(value),
            number(min_score)
        ),
    }
}

/// At most three decimals, without trailing zeros.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
