//! Surveys and quality review for the care team (D10, D11): the survey link of a resolved
//! case for the agent to send, and CSAT, NPS and CES over a period for analysts. The review
//! list and scoring are in [`qa`]; the customer's side of a survey is `crate::survey`.

pub mod qa;

use crate::AppState;
use crate::api::messages::parse_id;
use crate::audit::AuditNote;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use sb_domain::{CaseId, ErrorCode, Timestamp};
use sb_store::Survey;
use sb_workflow::feedback::Tally;
use serde::{Deserialize, Serialize};

/// A case's latest survey, as an agent sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseSurvey {
    pub survey_id: String,
    /// Which resolution of the case earned it: 1 for the first.
    pub resolution: i64,
    /// `open`, `answered` or `expired`.
    pub state: &'static str,
    /// The link to send the customer while the survey is open; `null` once it is answered or
    /// expired, and when surveys are off or their `link_key` changed since it was made.
    pub link: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub answer: Option<CaseSurveyAnswer>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseSurveyAnswer {
    pub csat: u8,
    pub nps: Option<u8>,
    pub ces: Option<u8>,
    pub comment: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub answered_at: Timestamp,
}

/// The link of a survey, derived again from the configured key; none when the key in force
/// does not make the token whose hash was stored.
fn link_of(state: &AppState, survey: &Survey) -> Option<String> {
    let surveys = &state.casework.workflow().surveys;
    let token = sb_store::survey_token(surveys.link_key()?, &survey.id);
    (sb_store::hash_survey_token(&token) == survey.token_hash)
        .then(|| surveys.link(&token))
        .flatten()
}

#[utoipa::path(
    get, path = "/api/v1/cases/{id}/survey", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case's latest survey: its link while open, the answer once given", body = CaseSurvey),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or it has no survey (`not_found`)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn case_survey(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = parse_id(&id, CaseId::parse, "case")?;
    let case = state
        .store
        .case(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    let survey = state.store.case_surveys(&id).await?.pop().ok_or_else(|| {
        Problem::not_found(format!(
            "case `{id}` has no survey: it was not resolved while surveys were on"
        ))
    })?;
    let now = state.casework.now();
    let answer = survey.answer.clone().map(|a| CaseSurveyAnswer {
        csat: a.csat,
        nps: a.nps,
        ces: a.ces,
        comment: a.comment,
        answered_at: a.answered_at,
    });
    let open = answer.is_none() && now < survey.expires_at;
    let view = CaseSurvey {
        link: open.then(|| link_of(&state, &survey)).flatten(),
        survey_id: survey.id,
        resolution: survey.resolution,
        state: if answer.is_some() {
            "answered"
        } else if open {
            "open"
        } else {
            "expired"
        },
        created_at: survey.created_at,
        expires_at: survey.expires_at,
        answer,
    };
    Ok(AuditNote::customer(case.customer_id.to_string()).on(Json(view)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Start of the period (RFC 3339, inclusive); default 30 days before `until`.
    #[param(format = DateTime)]
    since: Option<String>,
    /// End of the period (RFC 3339, exclusive); default now.
    #[param(format = DateTime)]
    until: Option<String>,
}

/// CSAT, NPS and CES over the answers given in a period (docs/METRICS.md).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackSummary {
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
    pub responses: i64,
    /// Share of answers with CSAT 4 or 5, in percent; `null` without answers.
    pub csat_percent: Option<f64>,
    pub nps_responses: i64,
    /// Percent promoters (9–10) minus percent detractors (0–6); `null` without NPS answers.
    pub nps: Option<f64>,
    pub ces_responses: i64,
    /// Mean CES (1–7); `null` without CES answers.
    pub ces_mean: Option<f64>,
}

const DEFAULT_PERIOD_MS: i64 = 30 * 86_400_000;

fn instant(raw: Option<&str>, field: &str) -> Result<Option<Timestamp>, Problem> {
    raw.map(|s| {
        Timestamp::parse_rfc3339(s).ok_or_else(|| {
            Problem::new(
                ErrorCode::InvalidQuery,
                format!("`{field}` must be an RFC 3339 time, got `{s}`"),
            )
            .with_field(field)
        })
    })
    .transpose()
}

#[utoipa::path(
    get, path = "/api/v1/feedback/summary", tag = "cases",
    params(SummaryQuery),
    responses(
        (status = 200, description = "Responses, CSAT %, NPS and mean CES over the period", body = FeedbackSummary),
        (status = 400, description = "A time that is not RFC 3339, or `since` not before `until` (`invalid_query`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn summary(
    State(state): State<AppState>,
    q: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<Json<FeedbackSummary>, Problem> {
    let q = crate::api::query(q)?;
    let until = instant(q.until.as_deref(), "until")?.unwrap_or_else(|| state.casework.now());
    let since =
        instant(q.since.as_deref(), "since")?.unwrap_or(until.plus_millis(-DEFAULT_PERIOD_MS));
    if since >= until {
        return Err(
            Problem::new(ErrorCode::InvalidQuery, "`since` must be before `until`")
                .with_field("since"),
        );
    }
    let t = state.store.feedback_tally(since, until).await?;
    let s = Tally {
        responses: t.responses,
        satisfied: t.satisfied,
        nps_responses: t.nps_responses,
        promoters: t.promoters,
        detractors: t.detractors,
        ces_responses: t.ces_responses,
        ces_sum: t.ces_sum,
    }
    .summary();
    Ok(Json(FeedbackSummary {
        since,
        until,
        responses: s.responses,
        csat_percent: s.csat_percent,
        nps_responses: s.nps_responses,
        nps: s.nps,
        ces_responses: s.ces_responses,
        ces_mean: s.ces_mean,
    }))
}
