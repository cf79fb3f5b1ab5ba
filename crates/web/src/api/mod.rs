//! `/api/v1`: one file per resource.

pub mod alerts;
pub mod cases;
pub mod customers;
pub mod events;
pub mod messages;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", post(messages::ingest))
        .route("/messages/{id}", get(messages::get))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::get))
        .route("/customers/{id}", get(customers::get))
        .route("/customers/{id}/identities", post(customers::link))
        .route("/queues", get(cases::queues))
        .route("/events", get(events::stream))
        .route("/alerts", get(alerts::list))
}
