//! Operations endpoints: liveness, readiness (the store answers), Prometheus metrics, and the
//! OpenAPI document.

use crate::{AppState, openapi, problem::Problem, telemetry};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sb_domain::ErrorCode;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Problem> {
    state.store.ping().await.map_err(|e| {
        Problem::new(
            ErrorCode::Unavailable,
            format!("the database is not answering: {e}"),
        )
    })?;
    Ok(Json(serde_json::json!({"status": "ready"})))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = telemetry::render();
    // Gauges that are cheaper to read from the store on scrape than to track on every write.
    if let Ok(c) = state.store.counts().await {
        for (name, help, v) in [
            (
                "switchboard_messages_stored",
                "Messages in the store.",
                c.messages,
            ),
            (
                "switchboard_messages_unprocessed",
                "Stored messages the pipeline has not finished.",
                c.unprocessed,
            ),
            ("switchboard_customers", "Customer profiles.", c.customers),
            (
                "switchboard_cases_open",
                "Cases not resolved or closed.",
                c.open_cases,
            ),
        ] {
            body.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
            ));
        }
    }
    // Reports (H6): every KPI counter of the rollups, and how far they have folded.
    body.push_str(&crate::api::reports::prometheus(&state).await);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
