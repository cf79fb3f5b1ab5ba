//! Connectors: each outbound target's health (queue depth, dead letters, error rate) and
//! whether it waits for reauthorization, and each inbound source's recent traffic — the same
//! figures as `GET /api/v1/connectors`. Resuming a paused target calls the API.

use super::{Viewer, ago, error_page, layout};
use crate::AppState;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use sb_domain::{Clock, Permission, SystemClock};

pub async fn page(State(state): State<AppState>, Extension(who): Extension<Viewer>) -> Response {
    let health = match crate::api::connectors::health(State(state.clone())).await {
        Ok(axum::Json(h)) => h,
        Err(e) => return error_page(Some(&who), &e),
    };
    let now = SystemClock.now();
    let body = html! {
        h1 { "Connectors" }
        section.panel {
            h2 { "Sending" }
            table.cases {
                thead { tr { th { "Target" } th { "State" } th { "Queue" } th { "Dead letters" } th { "Attempts (1 h)" } th { "Error rate" } th { "Last attempt" } th {} } }
                tbody {
                    @for o in &health.outbound {
                        tr {
                            td { strong { (o.target) } @if !o.configured { " " span.badge.warn { "not configured" } } }
                            td {
                                span class={ "badge conn-" (o.status) } { (o.status.replace('_', " ")) }
                                @if let Some(r) = &o.reason { br; span.muted { (r) } }
                                @if let Some(s) = o.status_since { br; span.muted { "since " (ago(s, now)) } }
                            }
                            td { (o.queue_depth) }
                            td { (o.dead_letters) }
                            td { (o.attempts_last_hour) }
                            td { (format!("{:.1}%", o.error_rate * 100.0)) }
                            td { @if let Some(t) = o.last_attempt_at { (ago(t, now)) } @else { "–" } }
                            td {
                                @if o.status != "active" && who.can(Permission::ConnectorsManage) {
                                    form.api-form data-method="POST" data-url={ "/api/v1/connectors/" (o.target) "/resume" } data-reload="1" {
                                        button type="submit" { "Resume" }
                                        span.error role="alert" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if health.outbound.is_empty() { p.muted { "No outbound target is configured." } }
        }
        section.panel {
            h2 { "Receiving" }
            table.cases {
                thead { tr { th { "Source" } th { "Last event" } th { "Events per minute (5 min)" } } }
                tbody {
                    @for i in &health.inbound {
                        tr {
                            td { strong { (i.source) } }
                            td { @if let Some(t) = i.last_event_at { (ago(t, now)) } @else { "–" } }
                            td { (format!("{:.1}", i.events_per_min)) }
                        }
                    }
                }
            }
            @if health.inbound.is_empty() { p.muted { "Nothing received yet." } }
        }
    };
    layout(Some(&who), "Connectors", "connectors", body).into_response()
}
