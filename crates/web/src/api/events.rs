//! Live events over Server-Sent Events: cases opened and updated, messages processed.

use crate::AppState;
use crate::problem::ProblemBody;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    responses(
        (status = 200, description = "`text/event-stream` of case.opened, case.updated and message.processed events", content_type = "text/event-stream"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(|e| {
        let e = e.ok()?;
        let data = serde_json::to_string(&e).ok()?;
        Some(Ok(Event::default().event(e.name()).data(data)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
