//! Template experiments (H4): the configured experiments, and one experiment's report — per
//! variant the cases that got it and their outcomes (customer replied, resolved, reopened,
//! CSAT 4–5), and each variant against the first (the control) by a two-proportion z-test
//! with p-value and confidence interval. Computed when asked from the cases' own histories;
//! definitions in docs/METRICS.md (*Experiments*).

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sb_analytics::experiments::{
    CaseOutcome, Comparison, OUTCOMES, outcome, tally, two_proportion,
};
use sb_domain::CaseId;
use serde::Serialize;
use std::collections::HashMap;

/// The most cases one report reads (the earliest assigned).
pub const MAX_CASES: usize = 20_000;
const PAGE: u32 = 1_000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct VariantInfo {
    pub name: String,
    pub template: String,
    pub weight: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExperimentInfo {
    pub name: String,
    /// The template agents choose.
    pub template: String,
    pub active: bool,
    pub confidence: f64,
    /// The first is the control the others are compared with.
    pub variants: Vec<VariantInfo>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExperimentList {
    pub items: Vec<ExperimentInfo>,
}

fn info(e: &sb_workflow::experiments::ExperimentConfig) -> ExperimentInfo {
    ExperimentInfo {
        name: e.name.clone(),
        template: e.template.clone(),
        active: e.active,
        confidence: e.confidence,
        variants: e
            .variants
            .iter()
            .map(|v| VariantInfo {
                name: v.name.clone(),
                template: v.template.clone(),
                weight: v.weight,
            })
            .collect(),
    }
}

#[utoipa::path(
    get, path = "/api/v1/reports/experiments", tag = "reports",
    responses(
        (status = 200, description = "The configured template experiments", body = ExperimentList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(State(state): State<AppState>) -> Json<ExperimentList> {
    Json(ExperimentList {
        items: state
            .casework
            .workflow()
            .experiments
            .all()
            .iter()
            .map(info)
            .collect(),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutcomeRate {
    pub successes: u64,
    pub trials: u64,
    /// `successes / trials`; `null` without trials.
    pub rate: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VariantResult {
    pub name: String,
    pub template: String,
    pub cases: u64,
    /// `replied`, `resolved`, `reopened`, `csat`.
    pub outcomes: HashMap<String, OutcomeRate>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VariantComparison {
    pub variant: String,
    /// The control.
    pub against: String,
    pub outcome: String,
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub test: Comparison,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExperimentReport {
    #[serde(flatten)]
    pub experiment: ExperimentInfo,
    /// Cases assigned (the first `MAX_CASES` only, when `truncated`).
    pub cases: usize,
    pub truncated: bool,
    pub variants: Vec<VariantResult>,
    /// Every other variant against the control, per outcome with trials on both sides and
    /// some variance; the others are left out.
    pub comparisons: Vec<VariantComparison>,
}

#[utoipa::path(
    get, path = "/api/v1/reports/experiments/{name}", tag = "reports",
    params(("name" = String, Path, description = "The experiment's name")),
    responses(
        (status = 200, description = "Per variant: cases and outcomes; each variant against the control, with p-value and confidence interval", body = ExperimentReport),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No experiment of that name is configured (`experiment_not_found`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ExperimentReport>, Problem> {
    let Some(e) = state.casework.workflow().experiments.named(&name).cloned() else {
        return Err(Problem::custom(
            StatusCode::NOT_FOUND,
            "experiment_not_found",
            format!("no experiment `{name}` is configured"),
        ));
    };
    // First assignment per case, in event order.
    let mut assigned: Vec<(CaseId, String, i64)> = Vec::new();
    let mut seen: std::collections::HashSet<CaseId> = std::collections::HashSet::new();
    let mut after = 0;
    let mut truncated = false;
    'pages: loop {
        let page = state
            .store
            .case_events_of_kind("experiment.assigned", after, PAGE)
            .await?;
        let Some((_, last)) = page.last() else { break };
        after = last.seq;
        let full = page.len() == PAGE as usize;
        for (case, ev) in page {
            if ev.data["experiment"] != name.as_str() || seen.contains(&case) {
                continue;
            }
            if assigned.len() == MAX_CASES {
                truncated = true;
                break 'pages;
            }
            let variant = ev.data["variant"].as_str().unwrap_or_default().to_owned();
            seen.insert(case.clone());
            assigned.push((case, variant, ev.at.millis()));
        }
        if !full {
            break;
        }
    }
    let mut per_variant: HashMap<String, Vec<CaseOutcome>> = HashMap::new();
    for (case, variant, at) in &assigned {
        let events = state.store.case_events(case).await?;
        let evs: Vec<(&str, i64, &serde_json::Value)> = events
            .iter()
            .map(|e| (e.kind.as_str(), e.at.millis(), &e.data))
            .collect();
        let messages: Vec<i64> = state
            .store
            .case_messages(case)
            .await?
            .iter()
            .map(|m| m.received_at.millis())
            .collect();
        per_variant
            .entry(variant.clone())
            .or_default()
            .push(outcome(*at, &evs, &messages));
    }
    let tallies: Vec<(String, String, sb_analytics::experiments::VariantTally)> = e
        .variants
        .iter()
        .map(|v| {
            let outcomes = per_variant.get(&v.name).map_or(&[][..], Vec::as_slice);
            (v.name.clone(), v.template.clone(), tally(outcomes))
        })
        .collect();
    let variants = tallies
        .iter()
        .map(|(name, template, t)| VariantResult {
            name: name.clone(),
            template: template.clone(),
            cases: t.cases,
            outcomes: OUTCOMES
                .iter()
                .zip(t.arms)
                .map(|(o, arm)| {
                    (
                        (*o).to_owned(),
                        OutcomeRate {
                            successes: arm.successes,
                            trials: arm.trials,
                            rate: (arm.trials > 0)
                                .then(|| arm.successes as f64 / arm.trials as f64),
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let mut comparisons = Vec::new();
    if let Some((control, _, base)) = tallies.first() {
        for (name, _, t) in tallies.iter().skip(1) {
            for (i, o) in OUTCOMES.iter().enumerate() {
                if let Some(test) = two_proportion(base.arms[i], t.arms[i], e.confidence) {
                    comparisons.push(VariantComparison {
                        variant: name.clone(),
                        against: control.clone(),
                        outcome: (*o).to_owned(),
                        test,
                    });
                }
            }
        }
    }
    Ok(Json(ExperimentReport {
        experiment: info(&e),
        cases: assigned.len(),
        truncated,
        variants,
        comparisons,
    }))
}
