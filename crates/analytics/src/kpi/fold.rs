//! The KPI fold: case events in, counters per (day, dimension value) out. The definitions
//! are in docs/METRICS.md (*Service KPIs*); this is where they are computed.
//!
//! A case's events are folded in order. What a later event needs from an earlier one (when
//! the case opened, when a clock started, how many resolutions and replies it had, under which
//! dimensions its backlog entry was counted) is kept in the case's [`CaseState`], which the
//! store saves with the counters.

use sb_domain::Timestamp;
use sb_store::reports::{
    FoldCase, FoldEvent, KPI_WIDTH, KpiDelta, KpiFoldInput, KpiFoldOutput, bucket_of, count_index,
    duration_index,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The dimensions every fact is counted under, besides `all`.
pub const DIMENSIONS: [&str; 7] = [
    "platform", "queue", "team", "agent", "intent", "region", "tier",
];

const DAY_MS: i64 = 86_400_000;

/// Day number (days since 1970-01-01 UTC) of an instant.
pub fn day_of(t: Timestamp) -> i64 {
    t.millis().div_euclid(DAY_MS)
}

/// What the fold remembers about one case between its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    pub opened_at: i64,
    /// The case is counted in the backlog, under these dimension values.
    #[serde(default)]
    pub backlog_dims: Option<Vec<String>>,
    #[serde(default)]
    pub resolutions: u32,
    #[serde(default)]
    pub human_replies: u32,
    #[serde(default)]
    pub first_resolved_at: Option<i64>,
    #[serde(default)]
    pub last_resolved_at: Option<i64>,
    /// Business time of the resolution clock at its first and latest fulfilment.
    #[serde(default)]
    pub first_resolution_bus: Option<i64>,
    #[serde(default)]
    pub last_resolution_bus: Option<i64>,
    #[serde(default)]
    pub assigned_at: Option<i64>,
    #[serde(default)]
    pub handled: bool,
    /// When each SLA clock (by metric) was last activated.
    #[serde(default)]
    pub clock_starts: HashMap<String, i64>,
    #[serde(default)]
    pub closed: bool,
    /// Full resolution and first-contact resolution are counted (once, at close).
    #[serde(default)]
    pub finished: bool,
}

/// Folds case events into KPI counters. `teams` maps an agent id to their team.
#[derive(Clone, Debug, Default)]
pub struct KpiFolder {
    pub teams: HashMap<String, String>,
}

/// Counters being built for one fold, by (dimension, day, value).
#[derive(Default)]
struct Deltas(HashMap<(String, i64, String), Vec<i64>>);

impl Deltas {
    /// Applies `f` to the row of `all` and of each dimension value, on `day`.
    fn apply(&mut self, dims: &[String], day: i64, f: impl Fn(&mut Vec<i64>)) {
        let all = std::iter::once(("all", "all"));
        let each = DIMENSIONS
            .iter()
            .copied()
            .zip(dims.iter().map(String::as_str));
        for (dim, value) in all.chain(each) {
            let row = self
                .0
                .entry((dim.to_owned(), day, value.to_owned()))
                .or_insert_with(|| vec![0; KPI_WIDTH]);
            f(row);
        }
    }

    fn count(&mut self, dims: &[String], at: Timestamp, name: &str, by: i64) {
        let Some(i) = count_index(name) else { return };
        if by != 0 {
            self.apply(dims, day_of(at), |row| row[i] += by);
        }
    }

    fn duration(&mut self, dims: &[String], at: Timestamp, name: &str, ms: i64) {
        let Some(i) = duration_index(name) else {
            return;
        };
        let ms = ms.max(0);
        let bucket = bucket_of(ms);
        self.apply(dims, day_of(at), |row| {
            row[i] += 1;
            row[i + 1] += ms;
            row[i + 2 + bucket] += 1;
        });
    }

    fn into_vec(self) -> Vec<KpiDelta> {
        let mut out: Vec<KpiDelta> = self
            .0
            .into_iter()
            .filter(|(_, c)| c.iter().any(|&v| v != 0))
            .map(|((dim, day, value), counters)| KpiDelta {
                dim,
                day,
                value,
                counters,
            })
            .collect();
        // A stable order keeps concurrent writers' row locks in the same order.
        out.sort_by(|a, b| (&a.dim, a.day, &a.value).cmp(&(&b.dim, b.day, &b.value)));
        out
    }
}

fn is_resolved(status: &str) -> bool {
    matches!(status, "resolved" | "closed")
}

fn i64_field(data: &serde_json::Value, key: &str) -> Option<i64> {
    data.get(key).and_then(serde_json::Value::as_i64)
}

impl KpiFolder {
    pub fn new(teams: HashMap<String, String>) -> Self {
        Self { teams }
    }

    /// The dimension values of a case, in [`DIMENSIONS`] order; `none` where it has none.
    pub fn dims(&self, case: Option<&FoldCase>) -> Vec<String> {
        let none = || "none".to_owned();
        let Some(c) = case else {
            return vec![none(); DIMENSIONS.len()];
        };
        let team = c.agent.as_ref().and_then(|a| self.teams.get(a)).cloned();
        vec![
            c.platform.clone(),
            c.queue.clone().unwrap_or_else(none),
            team.unwrap_or_else(none),
            c.agent.clone().unwrap_or_else(none),
            c.intent.clone().unwrap_or_else(none),
            c.region.clone().unwrap_or_else(none),
            c.tier.clone().unwrap_or_else(none),
        ]
    }

    pub fn fold(&self, input: KpiFoldInput) -> KpiFoldOutput {
        let mut deltas = Deltas::default();
        let mut states: HashMap<String, CaseState> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for e in &input.events {
            let case = input.cases.get(&e.case_id);
            let dims = self.dims(case);
            if !states.contains_key(&e.case_id) {
                let stored = input
                    .states
                    .get(&e.case_id)
                    .and_then(|s| serde_json::from_str::<CaseState>(s).ok());
                let state = match stored {
                    Some(s) => s,
                    None => {
                        // First sight of the case: it opened, and joins the backlog.
                        let opened_at = case.map_or(e.at, |c| c.opened_at);
                        deltas.count(&dims, opened_at, "opened", 1);
                        deltas.count(&dims, opened_at, "backlog", 1);
                        CaseState {
                            opened_at: opened_at.millis(),
                            backlog_dims: Some(dims.clone()),
                            ..CaseState::default()
                        }
                    }
                };
                states.insert(e.case_id.clone(), state);
                order.push(e.case_id.clone());
            }
            if let Some(state) = states.get_mut(&e.case_id) {
                Self::event(&mut deltas, state, &dims, e);
            }
        }
        let mut out = Vec::with_capacity(order.len());
        for id in order {
            let Some(mut state) = states.remove(&id) else {
                continue;
            };
            let dims = self.dims(input.cases.get(&id));
            Self::finish(&mut deltas, &mut state, &dims);
            if let Ok(json) = serde_json::to_string(&state) {
                out.push((id, json));
            }
        }
        KpiFoldOutput {
            deltas: deltas.into_vec(),
            states: out,
        }
    }

    fn event(deltas: &mut Deltas, s: &mut CaseState, dims: &[String], e: &FoldEvent) {
        let at = e.at;
        let since_open = at.millis() - s.opened_at;
        match e.kind.as_str() {
            "status_changed" => {
                let from = e.data.get("from").and_then(|v| v.as_str()).unwrap_or("");
                let to = e.data.get("to").and_then(|v| v.as_str()).unwrap_or("");
                if is_resolved(to) && !is_resolved(from) {
                    s.resolutions += 1;
                    deltas.count(dims, at, "resolved", 1);
                    if let Some(counted) = s.backlog_dims.take() {
                        deltas.count(&counted, at, "backlog", -1);
                    }
                    if s.first_resolved_at.is_none() {
                        s.first_resolved_at = Some(at.millis());
                        deltas.duration(dims, at, "first_resolution_cal", since_open);
                    }
                    if let (Some(assigned), false) = (s.assigned_at, s.handled) {
                        s.handled = true;
                        deltas.duration(dims, at, "handle_cal", at.millis() - assigned);
                    }
                    s.last_resolved_at = Some(at.millis());
                } else if is_resolved(from) && !is_resolved(to) && !s.closed {
                    deltas.count(dims, at, "reopened", 1);
                    if s.backlog_dims.is_none() {
                        deltas.count(dims, at, "backlog", 1);
                        s.backlog_dims = Some(dims.to_vec());
                    }
                }
                if to == "closed" {
                    s.closed = true;
                }
            }
            "reply" => {
                let automated = e
                    .data
                    .get("automated")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false);
                if !automated {
                    if s.human_replies == 0 {
                        deltas.duration(dims, at, "first_response_cal", since_open);
                    }
                    s.human_replies += 1;
                    deltas.count(dims, at, "replies", 1);
                }
            }
            "assigned" => {
                let to = e.data.get("to").and_then(|v| v.as_str());
                if to.is_some() && s.assigned_at.is_none() {
                    s.assigned_at = Some(at.millis());
                }
            }
            "sla.activate" => {
                if let Some(metric) = e.data.get("metric").and_then(|v| v.as_str()) {
                    s.clock_starts.insert(metric.to_owned(), at.millis());
                }
            }
            "sla.breach" => deltas.count(dims, at, "sla_breaches", 1),
            "sla.fulfil" => Self::fulfilled(deltas, s, dims, e),
            "survey.answered" => {
                if let Some(csat) = i64_field(&e.data, "csat") {
                    deltas.count(dims, at, "csat_n", 1);
                    deltas.count(dims, at, "csat_sat", i64::from(csat >= 4));
                }
                if let Some(nps) = i64_field(&e.data, "nps") {
                    deltas.count(dims, at, "nps_n", 1);
                    deltas.count(dims, at, "nps_pro", i64::from(nps >= 9));
                    deltas.count(dims, at, "nps_det", i64::from(nps <= 6));
                }
                if let Some(ces) = i64_field(&e.data, "ces") {
                    deltas.count(dims, at, "ces_n", 1);
                    deltas.count(dims, at, "ces_sum", ces);
                }
            }
            _ => {}
        }
    }

    fn fulfilled(deltas: &mut Deltas, s: &mut CaseState, dims: &[String], e: &FoldEvent) {
        let at = e.at;
        let (Some(metric), Some(elapsed), Some(target)) = (
            e.data.get("metric").and_then(|v| v.as_str()),
            i64_field(&e.data, "elapsed_ms"),
            i64_field(&e.data, "target_ms"),
        ) else {
            return;
        };
        let met = i64::from(elapsed <= target);
        match metric {
            "first_response" => {
                deltas.count(dims, at, "sla_fr_fulfilled", 1);
                deltas.count(dims, at, "sla_fr_met", met);
                deltas.duration(dims, at, "first_response_bus", elapsed);
            }
            "next_response" => {
                deltas.count(dims, at, "sla_nr_fulfilled", 1);
                deltas.count(dims, at, "sla_nr_met", met);
                deltas.duration(dims, at, "next_response_bus", elapsed);
                if let Some(start) = s.clock_starts.get("next_response") {
                    deltas.duration(dims, at, "next_response_cal", at.millis() - start);
                }
            }
            "resolution" => {
                deltas.count(dims, at, "sla_res_fulfilled", 1);
                deltas.count(dims, at, "sla_res_met", met);
                if s.first_resolution_bus.is_none() {
                    s.first_resolution_bus = Some(elapsed);
                    deltas.duration(dims, at, "first_resolution_bus", elapsed);
                }
                s.last_resolution_bus = Some(elapsed);
            }
            _ => {}
        }
    }

    /// After a case's events in this batch: a closed case counts its full resolution and
    /// whether it was resolved on first contact, once, on the day of its final resolution.
    fn finish(deltas: &mut Deltas, s: &mut CaseState, dims: &[String]) {
        if !s.closed || s.finished {
            return;
        }
        let Some(last) = s.last_resolved_at else {
            return;
        };
        s.finished = true;
        let at = Timestamp(last);
        deltas.duration(dims, at, "full_resolution_cal", last - s.opened_at);
        if let Some(bus) = s.last_resolution_bus {
            deltas.duration(dims, at, "full_resolution_bus", bus);
        }
        deltas.count(dims, at, "fcr_closed", 1);
        let first_contact = s.resolutions == 1 && s.human_replies <= 1;
        deltas.count(dims, at, "fcr_yes", i64::from(first_contact));
    }
}
