//! Case rules (D7): a dry run that replays the stored traffic of the last days against the
//! configured rules — or against proposed ones — and reports what each rule would have done,
//! without doing any of it.

use crate::AppState;
use crate::problem::{Problem, ProblemBody};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use sb_domain::ErrorCode;
use sb_workflow::rules::{RuleConfig, RuleSet};
use serde::Deserialize;

/// Longest look-back, and most messages, one dry run replays.
pub const MAX_DAYS: u32 = 90;
pub const MAX_MESSAGES: usize = 200_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// Days of stored traffic to replay, 1–90.
    #[schema(minimum = 1, maximum = 90)]
    pub days: u32,
    /// Rules to try instead of the configured ones, written as in `[[workflow.rules]]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub rules: Option<Vec<RuleConfig>>,
}

#[utoipa::path(
    post, path = "/api/v1/rules/dry-run", tag = "cases",
    request_body = DryRunRequest,
    responses(
        (status = 200, description = "Per rule: events matched, actions it would have taken by kind, sample cases, and events an earlier rule's `stop` took from it", body = Object),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`days` out of range (`invalid_field`) or a proposed rule that does not compile (`invalid_rule`, naming it)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn dry_run(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<sb_workflow::rules::DryRunReport>, Problem> {
    let req: DryRunRequest = crate::body::json_as(body, "{\"days\", \"rules\"?}")?;
    if !(1..=MAX_DAYS).contains(&req.days) {
        return Err(Problem::new(
            ErrorCode::InvalidField,
            format!("`days` must be between 1 and {MAX_DAYS}"),
        )
        .with_field("days"));
    }
    let flow = state.casework.clone();
    let proposed = req
        .rules
        .as_deref()
        .map(RuleSet::compile)
        .transpose()
        .map_err(|e| {
            Problem::custom(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_rule",
                e.to_string(),
            )
        })?;
    let wf = flow.workflow();
    let rules = proposed.as_ref().unwrap_or(&wf.rules);
    let since = flow.now().plus_millis(-i64::from(req.days) * 86_400_000);
    let report = flow.dry_run(rules, since, MAX_MESSAGES).await?;
    Ok(Json(report))
}
