//! Alerts and incidents: the live alert feed (new alerts arrive over `GET /api/v1/events`),
//! the incidents with their lifecycle, and one incident's timeline with its linked alerts and
//! cases. Opening and moving incidents goes through `/api/v1/incidents`. Public messages
//! about a disruption are replies marked as operational updates on the linked cases: they
//! wait for an operations approver (see the case page). The private messages to the customers
//! hit, drafted from the incident (`POST /api/v1/incidents/{id}/disruption`), are listed on
//! the incident's page with their progress, and a second person approves or rejects each
//! draft there.

use super::{Actors, Viewer, ago, error_page, label, layout, when};
use crate::AppState;
use crate::api::disruptions::{DisruptionView, view as disruption_view};
use crate::problem::Problem;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sb_domain::{Clock, IncidentId, Permission, SystemClock, Timestamp};
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
    let disruptions = match disruptions_of(&state, &inc.id, who.personal()).await {
        Ok(d) => d,
        Err(e) => return error_page(Some(&who), &e),
    };
    let mut acted: Vec<&str> = inc.timeline.iter().map(|t| t.actor.as_str()).collect();
    for d in &disruptions {
        acted.push(&d.created_by);
        let decided = d.record["decisions"].as_array().into_iter().flatten();
        acted.extend(decided.filter_map(|x| x["by"].as_str()));
    }
    let actors = Actors::of(&state, &acted).await;
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
                (disruptions_panel(&who, &disruptions, &actors, now))
                section.panel {
                    h2 { "Timeline" }
                    ol.events.timeline {
                        @for t in &inc.timeline {
                            li {
                                time datetime=(t.at.to_rfc3339()) { (when(t.at)) }
                                " " span.badge { (label(&t.kind)) } " " span.muted { (actors.show(&t.actor)) }
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

/// The messages to customers drafted from incident `id`, newest first, as the API shows them.
async fn disruptions_of(
    state: &AppState,
    id: &IncidentId,
    personal: bool,
) -> Result<Vec<DisruptionView>, Problem> {
    let mut views = Vec::new();
    for d in state.store.incident_disruptions(id).await? {
        let recipients = state.store.disruption_recipients(&d.id).await?;
        views.push(disruption_view(d, recipients, personal));
    }
    views.sort_by_key(|v| std::cmp::Reverse(v.created_at));
    Ok(views)
}

/// Each draft's state, reach, one customer's text, and for a second person who may approve,
/// the decision.
fn disruptions_panel(
    who: &Viewer,
    drafts: &[DisruptionView],
    actors: &Actors,
    now: Timestamp,
) -> Markup {
    html! {
        section.panel #disruptions {
            h2 { "Messages to customers" }
            @if drafts.is_empty() {
                p.muted { "None drafted. Draft one from an approved template with POST /api/v1/incidents/{id}/disruption." }
            }
            @for d in drafts {
                @let p = &d.progress;
                @let decision = format!("/api/v1/disruptions/{}/decision", d.id);
                div.disruption data-id=(d.id) {
                    p {
                        span.badge.dis-status { (d.status.replace('_', " ")) } " "
                        code { (d.id) } " from template "
                        code { (d.record["template"].as_str().unwrap_or_default()) }
                        " · drafted by " (actors.show(&d.created_by)) " " (ago(d.created_at, now))
                    }
                    p.muted.dis-progress {
                        (p.recipients) " customers, " (p.excluded) " left out · "
                        (p.queued) " queued, " (p.delivered) " delivered, " (p.failed) " failed"
                    }
                    @if let Some(r) = d.recipients.iter().find(|r| r.excluded.is_none()) {
                        blockquote.dis-text { (r.text) }
                    }
                    @for decided in d.record["decisions"].as_array().into_iter().flatten() {
                        p.dis-decision {
                            (decided["outcome"].as_str().unwrap_or_default()) " by "
                            (actors.show(decided["by"].as_str().unwrap_or_default()))
                            @if let Some(reason) = decided["reason"].as_str() { ": " (reason) }
                        }
                    }
                    @if d.status == "pending_approval" && who.can(Permission::RepliesApprove) {
                        @if d.created_by == who.0.actor {
                            p.muted { "You drafted it: someone else approves it." }
                        } @else {
                            form.api-form.dis-approve data-method="POST" data-url=(decision) data-reload="1" {
                                input type="hidden" name="decision" value="approve";
                                button type="submit" { "Approve and send " (p.recipients) " messages" }
                                p.error role="alert" {}
                            }
                            form.api-form.dis-reject data-method="POST" data-url=(decision) data-reload="1" {
                                input type="hidden" name="decision" value="reject";
                                label { span { "Reason" } input name="reason" required; }
                                button type="submit" { "Reject" }
                                p.error role="alert" {}
                            }
                        }
                    }
                }
            }
        }
    }
}
