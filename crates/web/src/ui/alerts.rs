//! Alerts and incidents: the live alert feed (new alerts arrive over `GET /api/v1/events`),
//! the incidents with their lifecycle, and one incident's timeline with its linked alerts and
//! cases. Opening and moving incidents goes through `/api/v1/incidents`. Public messages
//! about a disruption are replies marked as operational updates on the linked cases: they
//! wait for an operations approver (see the case page).

use super::{Viewer, ago, error_page, label, layout, when};
use crate::AppState;
use crate::problem::Problem;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use sb_domain::{Clock, IncidentId, Permission, SystemClock};
use sb_store::Page;

const SHOWN: u32 = 50;

pub async fn page(State(state): State<AppState>, Extension(who): Extension<Viewer>) -> Response {
    let page = Page {
        before: None,
        limit: SHOWN,
    };
    let alerts = match state.store.list_alerts(&page).await {
        Ok(a) => a,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let incidents = if who.can(Permission::IncidentsRead) {
        match state.store.list_incidents(&page).await {
            Ok(i) => i,
            Err(e) => return error_page(Some(&who), &Problem::from(e)),
        }
    } else {
        Vec::new()
    };
    let now = SystemClock.now();
    let body = html! {
        div.inbox-head { h1 { "Alerts & incidents" } span #live.live { "live" } }
        div.case-grid {
            div.case-main {
                section.panel {
                    h2 { "Alert feed" }
                    table.cases #alerts {
                        thead { tr { th { "Raised" } th { "Series" } th { "Kind" } th { "Severity" } th { "Score" } th { "Volume" } th { "Sentiment" } } }
                        tbody #alert-rows {
                            @for a in &alerts {
                                tr {
                                    td { (ago(a.raised_at, now)) }
                                    td { (a.series) }
                                    td { (label(&a.kind)) }
                                    td { span class={ "badge sev-" (a.severity.as_deref().unwrap_or("info")) } { (a.severity.as_deref().unwrap_or("–")) } }
                                    td { (format!("{:.2}", a.score)) }
                                    td { (a.volume) }
                                    td { (a.sentiment_mean.map_or("–".to_owned(), |s| format!("{s:+.2}"))) }
                                }
                            }
                        }
                    }
                    @if alerts.is_empty() { p.empty #no-alerts { "No alerts yet." } }
                }
            }
            aside.case-side {
                section.panel {
                    h2 { "Incidents" }
                    ul.incidents {
                        @for i in &incidents {
                            li {
                                a href={ "/ui/incidents/" (i.id.as_str()) } { (i.title) }
                                " " span class={ "badge sev-" (i.severity.as_str()) } { (i.severity.as_str()) }
                                " " span class={ "badge inc-" (label(&i.status)) } { (label(&i.status)) }
                                " " span.muted { (ago(i.opened_at, now)) }
                            }
                        }
                    }
                    @if incidents.is_empty() { p.muted { "No incidents." } }
                    @if who.can(Permission::IncidentsWrite) {
                        form.api-form data-method="POST" data-url="/api/v1/incidents" data-go="/ui/incidents/{id}" {
                            h3 { "Open an incident" }
                            label { span { "Title" } input name="title" required; }
                            label { span { "Severity" }
                                select name="severity" { @for s in ["info", "warning", "error", "critical"] { option value=(s) selected[s == "warning"] { (s) } } }
                            }
                            label { span { "From alert (optional)" } input name="alert_id" placeholder="alert id"; }
                            button type="submit" { "Open incident" }
                            p.error role="alert" {}
                        }
                    }
                }
            }
        }
    };
    layout(Some(&who), "Alerts & incidents", "alerts", body).into_response()
}

pub async fn incident(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let found = match IncidentId::parse(&id) {
        Some(i) => state.store.incident(&i).await.map_err(Problem::from),
        None => Ok(None),
    };
    let inc = match found {
        Ok(Some((i, _))) => i,
        Ok(None) => {
            return error_page(
                Some(&who),
                &Problem::not_found(format!("no incident `{id}`")),
            );
        }
        Err(e) => return error_page(Some(&who), &e),
    };
    let now = SystemClock.now();
    let url = format!("/api/v1/incidents/{}", inc.id.as_str());
    let body = html! {
        p.crumbs { a href="/ui/alerts" { "Alerts & incidents" } " › " (inc.id.as_str()) }
        h1 { (inc.title) }
        div.badges {
            span class={ "badge sev-" (inc.severity.as_str()) } { (inc.severity.as_str()) }
            span class={ "badge inc-" (label(&inc.status)) } #incident-status { (label(&inc.status)) }
            span.muted { "opened " (ago(inc.opened_at, now)) }
            @if let Some(o) = &inc.owner { span.badge { "owner " (o) } }
        }
        div.case-grid {
            div.case-main {
                section.panel {
                    h2 { "Timeline" }
                    ol.events.timeline {
                        @for t in &inc.timeline {
                            li {
                                time datetime=(t.at.to_rfc3339()) { (when(t.at)) }
                                " " span.badge { (label(&t.kind)) } " " span.muted { (t.actor) }
                                " " (t.text)
                            }
                        }
                    }
                }
            }
            aside.case-side {
                @if who.can(Permission::IncidentsWrite) {
                    section.panel {
                        h2 { "Update" }
                        form.api-form data-method="POST" data-url=(url) data-reload="1" {
                            label { span { "Status" }
                                select name="status" {
                                    option value="" { "—" }
                                    @for s in ["acknowledged", "mitigated", "resolved", "closed", "open"] { option value=(s) { (s) } }
                                }
                            }
                            label { span { "Owner" } input name="owner"; }
                            label { span { "Note" } textarea name="note" rows="2" {} }
                            label { span { "Link case" } input name="case_id" placeholder="c_…"; }
                            button type="submit" { "Save" }
                            p.error role="alert" {}
                        }
                    }
                }
                section.panel {
                    h2 { "Linked cases" }
                    p.muted { "Post the public disruption message from a linked case as an operational update; operations approve it before it is sent." }
                    ul { @for c in &inc.case_ids { li { a href={ "/ui/cases/" (c) } { (c) } } } }
                    @if inc.case_ids.is_empty() { p.muted { "None." } }
                    h2 { "Linked alerts" }
                    ul { @for a in &inc.alert_ids { li { (a) } } }
                    @if inc.alert_ids.is_empty() { p.muted { "None." } }
                }
            }
        }
    };
    layout(Some(&who), &inc.title, "alerts", body).into_response()
}
