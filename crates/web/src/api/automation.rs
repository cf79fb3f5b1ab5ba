//! The automation circuit breaker as the API applies it (D9): the outcome of each of the latest
//! automated replies — delivered or dead in the outbox, and whether the customer's next message
//! was negative — judged by `sb_workflow::automation`. While paused, an automated reply is
//! refused and its case is handed to a person.

use crate::AppState;
use crate::problem::Problem;
use axum::Json;
use axum::extract::State;
use sb_domain::{OutboxId, OutboxStatus, SentimentLabel};
use sb_workflow::automation::{Outcome, Verdict, judge};

async fn outcome(state: &AppState, reply: &sb_store::StoredReply) -> Result<Outcome, Problem> {
    let mut failed = reply.status == "rejected";
    for id in reply.doc["outbox"].as_array().into_iter().flatten() {
        let Some(id) = id.as_str().and_then(OutboxId::parse) else {
            continue;
        };
        if let Some(item) = state.store.outbox_item(&id).await? {
            failed |= item.status == OutboxStatus::Dead;
        }
    }
    let answer = state
        .store
        .case_messages(&reply.case_id)
        .await?
        .into_iter()
        .filter(|m| m.created_at > reply.created_at)
        .min_by_key(|m| m.created_at);
    let negative = answer
        .and_then(|m| m.enrichment)
        .is_some_and(|e| e.sentiment_label == SentimentLabel::Negative);
    Ok(Outcome { failed, negative })
}

/// How automation stands now.
pub async fn verdict(state: &AppState) -> Result<Verdict, Problem> {
    let config = &state.casework.workflow().automation;
    let window = u32::try_from(config.window).unwrap_or(u32::MAX);
    let mut outcomes = Vec::new();
    for reply in state.store.recent_automated_replies(window).await? {
        outcomes.push(outcome(state, &reply).await?);
    }
    Ok(judge(config, &outcomes))
}

#[utoipa::path(
    get, path = "/api/v1/automation", tag = "cases",
    responses((status = 200, description = "Whether automated replies are paused, why, and the rates over the latest ones", body = Object)),
    security(("api_key" = []))
)]
pub async fn status(State(state): State<AppState>) -> Result<Json<Verdict>, Problem> {
    Ok(Json(verdict(&state).await?))
}
