//! `/api/v1`: one file per resource.

pub mod alerts;
pub mod cases;
pub mod connectors;
pub mod customers;
pub mod events;
pub mod incidents;
pub mod messages;
pub mod replies;
pub mod status;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", post(messages::ingest))
        .route("/messages/{id}", get(messages::get))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::get))
        .route("/cases/{id}/replies", post(replies::create))
        .route("/connectors", get(connectors::health))
        .route("/connectors/{target}/resume", post(connectors::resume))
        .route("/outbox", get(connectors::list))
        .route("/outbox/{id}", get(connectors::get))
        .route("/customers/{id}", get(customers::get))
        .route("/customers/{id}/identities", post(customers::link))
        .route("/queues", get(cases::queues))
        .route("/events", get(events::stream))
        .route("/alerts", get(alerts::list))
        .route("/status", get(status::list).post(status::report))
        .route("/incidents", get(incidents::list).post(incidents::open))
        .route(
            "/incidents/{id}",
            get(incidents::get).post(incidents::update),
        )
        .route(
            "/incidents/{id}/debrief",
            get(incidents::debrief).put(incidents::write_debrief),
        )
}
