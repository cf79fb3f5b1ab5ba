//! The customer's side of a satisfaction survey (D10), outside `/api/v1` and open to anyone:
//! `GET /survey/{token}` describes the questions and whether the link is still open, and
//! `POST /survey/{token}` records the answer once. The token is the only credential — 256 bits
//! derived from the survey id with the configured link key, stored only as its SHA-256 — so
//! these routes answer the same for a token never issued and one mistyped, and never name
//! the case, the customer or anything they wrote.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use sb_domain::{ErrorCode, Timestamp};
use sb_store::{AnswerOutcome, Survey, SurveyResponse};
use sb_workflow::feedback::{QUESTIONS, Question, SurveyAnswer};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/survey/{token}", get(show).post(answer))
}

/// Where a survey stands.
fn state_of(survey: &Survey, now: Timestamp) -> &'static str {
    if survey.answer.is_some() {
        "answered"
    } else if now >= survey.expires_at {
        "expired"
    } else {
        "open"
    }
}

/// What a customer's link shows: the questions, and whether it still takes an answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyPage {
    /// `open`, `answered` or `expired`.
    pub state: &'static str,
    pub open: bool,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Vec<Object>)]
    pub questions: &'static [Question],
}

/// The survey a token opens. Anything that is not a token we could have issued is unknown,
/// without a lookup.
async fn find(state: &AppState, token: &str) -> Result<Survey, Problem> {
    let unknown = || Problem::not_found("no such survey");
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unknown());
    }
    let hash = sb_store::hash_survey_token(&token.to_ascii_lowercase());
    state
        .store
        .survey_by_token_hash(&hash)
        .await?
        .ok_or_else(unknown)
}

#[utoipa::path(
    get, path = "/survey/{token}", tag = "surveys",
    params(("token" = String, Path, description = "The token from the survey link")),
    responses(
        (status = 200, description = "The questions and whether the survey is still open", body = SurveyPage),
        (status = 404, description = "No survey has this token", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SurveyPage>, Problem> {
    let survey = find(&state, &token).await?;
    let now = state.casework.now();
    let s = state_of(&survey, now);
    Ok(Json(SurveyPage {
        state: s,
        open: s == "open",
        expires_at: survey.expires_at,
        questions: &QUESTIONS,
    }))
}

/// The customer's answers: `csat` 1–5 (required), `nps` 0–10, `ces` 1–7, `comment` up to
/// 2,000 characters.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub csat: Option<i64>,
    pub nps: Option<i64>,
    pub ces: Option<i64>,
    pub comment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerReceipt {
    /// Always `answered`.
    pub state: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub answered_at: Timestamp,
}

fn gone(code: &str, detail: &str) -> Problem {
    Problem::custom(StatusCode::GONE, code, detail)
}

#[utoipa::path(
    post, path = "/survey/{token}", tag = "surveys",
    params(("token" = String, Path, description = "The token from the survey link")),
    request_body = AnswerRequest,
    responses(
        (status = 201, description = "The answer is recorded", body = AnswerReceipt),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No survey has this token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "`survey_used`: already answered; `survey_expired`: the link closed", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A score outside its scale, or a comment too long (`invalid_field`, naming it)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AnswerReceipt>), Problem> {
    let req: AnswerRequest = crate::body::json_as(
        body,
        "{\"csat\": 1-5, \"nps\"?: 0-10, \"ces\"?: 1-7, \"comment\"?}",
    )?;
    let survey = find(&state, &token).await?;
    let now = state.casework.now();
    match state_of(&survey, now) {
        "answered" => return Err(gone("survey_used", "this survey was already answered")),
        "expired" => return Err(gone("survey_expired", "this survey is closed")),
        _ => {}
    }
    let checked = SurveyAnswer::check(req.csat, req.nps, req.ces, req.comment.as_deref())
        .map_err(|e| Problem::new(ErrorCode::InvalidField, e.detail).with_field(e.field))?;
    let response = SurveyResponse {
        csat: checked.csat,
        nps: checked.nps,
        ces: checked.ces,
        comment: checked.comment,
        answered_at: now,
    };
    let survey = match state
        .store
        .answer_survey(&survey.token_hash, &response)
        .await?
    {
        AnswerOutcome::Recorded(s) => s,
        // Another answer won the race, or the link closed meanwhile.
        AnswerOutcome::AlreadyAnswered => {
            return Err(gone("survey_used", "this survey was already answered"));
        }
        AnswerOutcome::Expired => return Err(gone("survey_expired", "this survey is closed")),
        AnswerOutcome::Unknown => return Err(Problem::not_found("no such survey")),
    };
    record_in_history(&state, &survey, &response).await;
    Ok((
        StatusCode::CREATED,
        Json(AnswerReceipt {
            state: "answered",
            answered_at: now,
        }),
    ))
}

/// Puts the answer in the case's history through the case workflow. The answer is already
/// stored and counts whatever happens here; the event's key keeps a repeat from adding a
/// second line.
async fn record_in_history(state: &AppState, survey: &Survey, r: &SurveyResponse) {
    let data = json!({
        "survey_id": survey.id,
        "csat": r.csat,
        "nps": r.nps,
        "ces": r.ces,
        "commented": r.comment.is_some(),
    });
    let dedup = format!("survey:{}:answered", survey.id);
    let saved = state
        .casework
        .update(&survey.case_id, "customer", false, |edit| {
            edit.change.events.push(sb_domain::NewCaseEvent {
                kind: "survey.answered".into(),
                actor: "customer".into(),
                at: r.answered_at,
                data: data.clone(),
                dedup: Some(dedup.clone()),
            });
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        tracing::warn!(case = %survey.case_id, error = %e, "a survey answer is stored but not in the case history");
    }
}
