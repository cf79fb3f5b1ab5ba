//! Quality review (D11): the cases drawn at resolution wait in a review list; a supervisor
//! scores each once against the configured scorecard (every criterion 0–4) and the weighted
//! total is kept with the weights of the day, beside the agent who handled the case.

use crate::AppState;
use crate::audit::AuditNote;
use crate::auth::Principal;
use crate::problem::{Problem, ProblemBody};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use sb_domain::{ErrorCode, Timestamp};
use sb_store::{QaRecorded, QaReview, QaScoring};
use sb_workflow::feedback::MAX_COMMENT_CHARS;
use sb_workflow::feedback::qa::Criterion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub case_id: String,
    /// Who handled the case: its assignee when resolved, else whoever resolved it.
    pub agent: Option<String>,
    /// `sample`, or `tag:<tag>` when a tag in `always_when_tags` drew it.
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub sampled_at: Timestamp,
    /// `pending` or `done`.
    pub status: &'static str,
    pub reviewer: Option<String>,
    /// Each criterion as scored: `{criterion, weight, score}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub scores: Option<serde_json::Value>,
    /// `100 × Σ(weight × score) / (4 × Σ weight)`, one decimal.
    pub total: Option<f64>,
    pub comment: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reviewed_at: Option<Timestamp>,
}

impl From<QaReview> for ReviewView {
    fn from(r: QaReview) -> Self {
        let review = r.review;
        Self {
            id: r.id,
            case_id: r.case_id.to_string(),
            agent: r.agent,
            reason: r.reason,
            sampled_at: r.sampled_at,
            status: if review.is_some() { "done" } else { "pending" },
            reviewer: review.as_ref().map(|v| v.reviewer.clone()),
            scores: review.as_ref().map(|v| v.scores.clone()),
            total: review.as_ref().map(|v| v.total),
            comment: review.as_ref().and_then(|v| v.comment.clone()),
            reviewed_at: review.as_ref().map(|v| v.reviewed_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewList {
    /// The scorecard in force: each criterion with its weight.
    #[schema(value_type = Vec<Object>)]
    pub criteria: Vec<Criterion>,
    pub items: Vec<ReviewView>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// `pending` (default; oldest drawn first) or `done` (latest reviewed first).
    #[param(pattern = "^(pending|done)$")]
    status: Option<String>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[utoipa::path(
    get, path = "/api/v1/qa/reviews", tag = "cases",
    params(ReviewQuery),
    responses(
        (status = 200, description = "The review list and the scorecard", body = ReviewList),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<ReviewQuery>, QueryRejection>,
) -> Result<Json<ReviewList>, Problem> {
    let q = crate::api::query(q)?;
    let done = match q.status.as_deref().unwrap_or("pending") {
        "pending" => false,
        "done" => true,
        other => {
            return Err(Problem::new(
                ErrorCode::InvalidQuery,
                format!("unknown status `{other}`: use pending or done"),
            )
            .with_field("status"));
        }
    };
    let page = crate::api::page(None, q.limit, |_| Some(()))?;
    let items = state.store.qa_reviews(done, page.limit).await?;
    Ok(Json(ReviewList {
        criteria: state.casework.workflow().qa.scorecard.criteria().to_vec(),
        items: items.into_iter().map(ReviewView::from).collect(),
    }))
}

/// A review: a score from 0 to 4 for every criterion of the scorecard, and a comment.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[schema(value_type = Object)]
    pub scores: BTreeMap<String, i64>,
    pub comment: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/qa/reviews/{id}", tag = "cases",
    params(("id" = String, Path, description = "Review id")),
    request_body = ReviewRequest,
    responses(
        (status = 201, description = "The review is recorded with its weighted total", body = ReviewView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`qa_already_reviewed`: the case was reviewed already", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "A criterion not on the scorecard, missing, or outside 0–4; a comment too long (`invalid_field`, naming it)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn review(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let req: ReviewRequest = crate::body::json_as(
        body,
        "{\"scores\": {\"<criterion>\": 0-4, …}, \"comment\"?}",
    )?;
    let scored = state
        .casework
        .workflow()
        .qa
        .scorecard
        .score(&req.scores)
        .map_err(|e| Problem::new(ErrorCode::InvalidField, e.detail).with_field(e.field))?;
    let comment = req
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`comment` must be at most {MAX_COMMENT_CHARS} characters"),
        )
        .with_field("comment"));
    }
    let scoring = QaScoring {
        reviewer: who.actor.clone(),
        scores: serde_json::to_value(&scored.lines).map_err(Problem::internal)?,
        total: scored.total,
        comment: comment.map(str::to_owned),
        reviewed_at: state.casework.now(),
    };
    let review = match state.store.record_qa_review(&id, &scoring).await? {
        QaRecorded::Recorded(r) => r,
        QaRecorded::AlreadyReviewed(r) => {
            let by = r.review.map(|v| v.reviewer).unwrap_or_default();
            return Err(Problem::custom(
                StatusCode::CONFLICT,
                "qa_already_reviewed",
                format!("review `{id}` was already done by {by}"),
            ));
        }
        QaRecorded::Unknown => return Err(Problem::not_found(format!("no review `{id}`"))),
    };
    let view = ReviewView::from(review);
    let after = serde_json::json!({ "scores": view.scores, "total": view.total });
    Ok(AuditNote::default()
        .subject(format!("case:{}", view.case_id))
        .change(None, Some(after))
        .on((StatusCode::CREATED, Json(view))))
}
