//! One case: the thread across channels with platform, visibility and enrichment badges; our
//! replies and their delivery; the SLA clocks; the customer around it (identities, tier,
//! value, past cases, sentiment over time); suggestions; the reply composer with templates,
//! public or private, approval state and the refusals the API gives before anything is sent;
//! notes; status, priority, assignment and merge; an agent's correction of a message's intent,
//! kept as a training example. The page shows exactly what
//! `GET /api/v1/cases/{id}` gives the viewer (redacted without `personal.read`, refused outside
//! their regions); its forms call the API.

use super::charts;
use super::sla;
use super::{Actors, Viewer, ago, error_page, forbidden, label, layout, sentiment_band, when};
use crate::AppState;
use crate::api::cases::CaseDetail;
use crate::audit::AuditNote;
use crate::problem::Problem;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use sb_domain::{CaseId, CaseStatus, Clock, Permission, SystemClock, Timestamp};
use sb_store::{LabelCorrection, StoredReply};
use std::collections::HashMap;

/// Corrections of each shown message, by message id.
type Corrections = HashMap<String, Vec<LabelCorrection>>;

enum Loaded {
    Found(Box<CaseDetail>),
    Refused(Response),
}

async fn load(state: &AppState, who: &Viewer, id: &str) -> Result<Loaded, Problem> {
    let Some(id) = CaseId::parse(id) else {
        return Err(Problem::not_found(format!("no case `{id}`")));
    };
    let case = state
        .store
        .case(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no case `{id}`")))?;
    if let Err(denied) = who.0.may_read_region(case.region.as_deref()) {
        let customer = case.customer_id.to_string();
        let page = forbidden(Some(who), denied.detail());
        return Ok(Loaded::Refused(AuditNote::customer(customer).on(page)));
    }
    let detail = crate::api::cases::detail_of(state, case, &who.0).await?;
    Ok(Loaded::Found(Box::new(detail)))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let d = match load(&state, &who, &id).await {
        Ok(Loaded::Found(d)) => d,
        Ok(Loaded::Refused(r)) => return r,
        Err(e) => return error_page(Some(&who), &e),
    };
    let replies = match state.store.list_replies(Some(&d.case.id), None, 20).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let templates = match approved_templates(&state).await {
        Ok(t) => t,
        Err(e) => return error_page(Some(&who), &e),
    };
    let ids: Vec<_> = d.messages.iter().map(|m| m.id.clone()).collect();
    let mut corrections = Corrections::new();
    match state.store.labels_of_messages(&ids).await {
        Ok(all) => {
            for c in all {
                corrections
                    .entry(c.message_id.as_str().to_owned())
                    .or_default()
                    .push(c);
            }
        }
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    }
    let acted: Vec<&str> = d
        .workflow
        .iter()
        .flat_map(|w| w.events.iter().rev().take(HISTORY))
        .map(|e| e.actor.as_str())
        .collect();
    let actors = Actors::of(&state, &acted).await;
    let now = SystemClock.now();
    let customer_id = d.case.customer_id.to_string();
    let title = format!("Case {}", d.case.id);
    let body = html! {
        article.case data-case=(d.case.id.as_str()) {
            (header(&d, now))
            div.case-grid {
                div.case-main {
                    (thread(&d, now, &corrections, who.can(Permission::CasesWork)))
                    (approvals(&replies, &who))
                    @if who.can(Permission::RepliesWrite) { (composer(&d, &templates)) }
                    @if who.can(Permission::CasesWork) { (notes_form()) }
                    (history(&d, &actors))
                }
                aside.case-side {
                    @if who.can(Permission::CasesWork) { (controls(&state, &d)) }
                    (customer(&d, now))
                    @if who.can(Permission::RepliesWrite) {
                        section.panel #suggestions-panel {
                            h2 { "Suggestions" }
                            ol #suggestions data-case=(d.case.id.as_str()) { li.muted { "Loading…" } }
                        }
                    }
                }
            }
        }
    };
    AuditNote::customer(customer_id).on(layout(Some(&who), &title, "inbox", body))
}

/// The SLA panel alone, for the page's script to refresh when the case changes.
pub async fn sla_panel(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    match load(&state, &who, &id).await {
        Ok(Loaded::Found(d)) => Html(clocks(&d, SystemClock.now()).into_string()).into_response(),
        Ok(Loaded::Refused(r)) => r,
        Err(e) => e.into_response(),
    }
}

async fn approved_templates(state: &AppState) -> Result<Vec<(String, String)>, Problem> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in state.store.all_template_versions().await? {
        if t.state == "approved" && !out.iter().any(|(k, _)| *k == t.key) {
            let locale = t.doc["locale"].as_str().unwrap_or_default().to_owned();
            out.push((t.key, locale));
        }
    }
    Ok(out)
}

fn clocks(d: &CaseDetail, now: Timestamp) -> Markup {
    html! {
        div #sla-panel.sla-panel {
            @match &d.workflow {
                Some(w) if !w.sla.is_empty() => {
                    span.muted { "SLA " (w.sla_policy.as_deref().unwrap_or("")) }
                    @for c in &w.sla { (sla::badge(c, now)) }
                }
                _ => { span.muted { "No SLA policy applies" } }
            }
        }
    }
}

fn header(d: &CaseDetail, now: Timestamp) -> Markup {
    let c = &d.case;
    html! {
        header.case-head {
            p.crumbs { a href="/ui/inbox" { "Inbox" } " › " (c.id.as_str()) }
            h1 { (c.subject) }
            div.badges {
                span class={ "badge status-" (label(&c.status)) } #case-status { (label(&c.status).replace('_', " ")) }
                span class={ "badge prio-" (c.priority.as_str()) } { (c.priority.as_str()) }
                span class={ "badge platform platform-" (c.source.as_str()) } { (c.source.as_str()) " · " (c.channel) }
                @if let Some(a) = &c.assignee { span.badge { "assigned to " (a) } }
                @for t in &c.tags { span.badge.tag { "#" (t) } }
                span.muted { "opened " (ago(c.opened_at, now)) }
            }
            (clocks(d, now))
        }
    }
}

fn enrichment_badges(e: &sb_domain::Enrichment) -> Markup {
    html! {
        span.badge.lang title="Language" { (e.language) }
        span class={ "badge sent-" (sentiment_band(Some(e.sentiment_compound))) } title="Sentiment" {
            (label(&e.sentiment_label)) " " (format!("{:+.2}", e.sentiment_compound))
        }
        span.badge.intent title="Intent" { (e.intent) }
        @if e.urgency != "normal" && e.urgency != "low" {
            span class={ "badge urgency-" (e.urgency) } title={ "Urgency: " (e.urgency_reasons.join(", ")) } { "urgency " (e.urgency) }
        }
        @if !e.emotion.is_empty() { span.badge.emotion title="Emotion" { (e.emotion) } }
        @if e.data_class != "standard" { span.badge.pii title="Personal data found" { (e.data_class) } }
        @if e.toxicity >= 0.5 { span.badge.toxic { "toxic " (format!("{:.2}", e.toxicity)) } }
        @for w in &e.watch { span.badge.watch title={ "Watchlist " (w.list) } { "⚑ " (w.term) } }
    }
}

enum Entry<'a> {
    Customer(&'a sb_domain::Message),
    Ours(&'a sb_domain::OutboxItem),
}

/// What agents said about a message, and, for those who work cases, the intent to correct.
fn corrections_of(m: &sb_domain::Message, corrections: &Corrections, can_work: bool) -> Markup {
    let fixed = corrections
        .get(m.id.as_str())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let intent = fixed
        .iter()
        .find(|c| c.task == "intent")
        .map(|c| c.label.as_str())
        .or(m.enrichment.as_ref().map(|e| e.intent.as_str()));
    html! {
        @if !fixed.is_empty() {
            div.badges {
                @for c in fixed {
                    span.badge.corrected title={ "Corrected by " (c.corrected_by) } { (c.task) " → " (c.label) }
                }
            }
        }
        @if let (true, Some(intent)) = (can_work, intent) {
            label.correct {
                "Intent should be "
                select data-label-message=(m.id.as_str()) data-label-task="intent" {
                    @for l in sb_domain::message::INTENTS {
                        option value=(l) selected[l == intent] { (l) }
                    }
                }
                " " span.error.label-error {}
            }
        }
    }
}

fn thread(d: &CaseDetail, now: Timestamp, corrections: &Corrections, can_work: bool) -> Markup {
    let mut entries: Vec<(Timestamp, Entry)> = d
        .messages
        .iter()
        .map(|m| (m.created_at, Entry::Customer(m)))
        .collect();
    entries.extend(d.outbox.iter().map(|o| (o.created_at, Entry::Ours(o))));
    entries.sort_by_key(|(at, _)| *at);
    html! {
        section.panel.thread {
            h2 { "Thread" }
            ol.messages {
                @for (_, e) in &entries {
                    @match e {
                        Entry::Customer(m) => {
                            li.message.inbound id={ "m-" (m.id.as_str()) } {
                                div.meta {
                                    span class={ "badge platform platform-" (m.source.as_str()) } { (m.source.as_str()) }
                                    span class={ "badge vis-" (m.visibility.as_str()) } { (m.visibility.as_str()) }
                                    strong { (m.author.name.as_deref().unwrap_or(&m.author.handle)) }
                                    " " span.muted { "@" (m.author.handle) }
                                    " · " (ago(m.created_at, now))
                                    @if m.edited_at.is_some() { " " span.badge { "edited" } }
                                    @if m.removed_at.is_some() { " " span.badge.warn { "removed on the platform" } }
                                }
                                p.text { (m.text) }
                                @if let Some(e) = &m.enrichment { div.badges { (enrichment_badges(e)) } }
                                (corrections_of(m, corrections, can_work))
                            }
                        }
                        Entry::Ours(o) => {
                            li.message.outbound {
                                div.meta {
                                    span.badge.platform { (o.target) }
                                    strong { "Our reply" }
                                    " · " (ago(o.created_at, now)) " · "
                                    span class={ "badge delivery-" (label(&o.status)) } { (label(&o.status)) }
                                    @if let Some(err) = &o.last_error { " " span.error { (err) } }
                                }
                                p.text { (o.payload["text"].as_str().unwrap_or("[redacted]")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn approvals(replies: &[StoredReply], who: &Viewer) -> Markup {
    let shown: Vec<&StoredReply> = replies
        .iter()
        .filter(|r| r.status != "queued" && r.status != "sent")
        .collect();
    html! {
        @if !shown.is_empty() {
            section.panel.approvals {
                h2 { "Replies waiting or refused" }
                ul {
                    @for r in &shown {
                        li {
                            span class={ "badge approval-" (r.status) } { (r.status.replace('_', " ")) }
                            " "
                            @if who.personal() { (r.doc["text"].as_str().unwrap_or_default()) } @else { "[redacted]" }
                            @if let Some(reqs) = r.doc["requirements"].as_array() {
                                @for q in reqs {
                                    " " span.badge.warn { "needs " (q["approver"].as_str().unwrap_or("approval")) ": " (q["reason"].as_str().unwrap_or_default()) }
                                }
                            }
                            @if r.status == "pending_approval" && who.can(Permission::RepliesApprove) {
                                " " button type="button" data-reply=(r.id) data-decision="approve" { "Approve" }
                                " " button type="button" data-reply=(r.id) data-decision="reject" { "Reject" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn composer(d: &CaseDetail, templates: &[(String, String)]) -> Markup {
    let last_visibility = d
        .messages
        .last()
        .map(|m| m.visibility.as_str())
        .unwrap_or("public");
    html! {
        section.panel.composer {
            h2 { "Reply" }
            form #reply-form data-case=(d.case.id.as_str()) {
                div.row {
                    label { span { "Template" }
                        select #tpl-key {
                            option value="" { "— none —" }
                            @for (key, locale) in templates { option value=(key) { (key) " (" (locale) ")" } }
                        }
                    }
                    label.grow { span { "Variables (name=value, one per line)" }
                        textarea #tpl-vars rows="2" placeholder="order.id=O-1234" {}
                    }
                    button #tpl-insert type="button" { "Insert" }
                }
                label for="reply-text" { "Message" }
                textarea #reply-text name="text" rows="5" {}
                div.row {
                    fieldset.visibility {
                        legend { "Visibility" }
                        label { input type="radio" name="visibility" value="public" checked[last_visibility == "public"]; " Public" }
                        label { input type="radio" name="visibility" value="private" checked[last_visibility == "private"]; " Private" }
                    }
                    label.check { input type="checkbox" name="operational_update"; " Operational update (operations approve it)" }
                    button #reply-send type="submit" { "Send reply" }
                }
                p #reply-error.error role="alert" {}
                p #reply-result.result role="status" {}
            }
        }
    }
}

fn notes_form() -> Markup {
    html! {
        section.panel {
            h2 { "Internal note" }
            form #note-form {
                textarea #note-text rows="2" placeholder="Only your team sees notes" {}
                button type="submit" { "Add note" }
                p #note-error.error role="alert" {}
            }
        }
    }
}

/// Events the history panel shows, newest first.
const HISTORY: usize = 50;

fn history(d: &CaseDetail, actors: &Actors) -> Markup {
    html! {
        @if let Some(w) = &d.workflow {
            section.panel.history {
                h2 { "History" }
                ol.events {
                    @for e in w.events.iter().rev().take(HISTORY) {
                        li {
                            time datetime=(e.at.to_rfc3339()) { (when(e.at)) }
                            " " span.badge { (e.kind) } " " span.muted { (actors.show(&e.actor)) }
                            @if e.kind == "note" { " " span.note { (e.data["text"].as_str().unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
    }
}

fn controls(state: &AppState, d: &CaseDetail) -> Markup {
    let flow = state.casework.workflow();
    let agents: Vec<&str> = flow.router.agents().map(|a| a.id.as_str()).collect();
    let queues: Vec<&str> = flow.router.queues().collect();
    let c = &d.case;
    let statuses = [
        CaseStatus::Open,
        CaseStatus::Pending,
        CaseStatus::OnHold,
        CaseStatus::Escalated,
        CaseStatus::Resolved,
        CaseStatus::Closed,
    ];
    html! {
        section.panel.controls {
            h2 { "Work the case" }
            label { span { "Status" }
                select data-patch="status" {
                    @if c.status == CaseStatus::New { option value="" selected { "new" } }
                    @for s in statuses { option value=(s.as_str()) selected[c.status == s] { (s.as_str().replace('_', " ")) } }
                }
            }
            label { span { "Priority" }
                select data-patch="priority" {
                    @for p in ["low", "normal", "high", "urgent"] { option value=(p) selected[c.priority.as_str() == p] { (p) } }
                }
            }
            @if !agents.is_empty() {
                label { span { "Assignee" }
                    select data-patch="assignee" {
                        option value="" selected[c.assignee.is_none()] { "unassigned" }
                        @for a in &agents { option value=(a) selected[c.assignee.as_deref() == Some(*a)] { (a) } }
                    }
                }
            }
            @if !queues.is_empty() {
                label { span { "Queue" }
                    select data-patch="queue" {
                        option value="" { "—" }
                        @for q in &queues { option value=(q) { (q) } }
                    }
                }
            }
            form #merge-form {
                label { span { "Merge into case" } input #merge-into type="text" placeholder="c_…" ; }
                button type="submit" { "Merge" }
            }
            p #controls-error.error role="alert" {}
        }
    }
}

fn customer(d: &CaseDetail, now: Timestamp) -> Markup {
    html! {
        section.panel.customer {
            h2 { "Customer" }
            @if let Some(c) = &d.customer {
                p.name { strong { (c.display_name.as_deref().unwrap_or("(no name)")) } " " span class={ "badge tier-" (label(&c.tier)) } { (label(&c.tier)) } }
                dl {
                    dt { "Lifetime value" } dd { (format!("{:.2}", c.lifetime_value)) }
                    dt { "Region" } dd { (c.region.as_deref().unwrap_or("–")) }
                    dt { "Language" } dd { (c.language.as_deref().unwrap_or("–")) }
                    dt { "Customer since" } dd { (when(c.created_at)) }
                }
                h3 { "Identities" }
                ul.identities { @for i in &c.identities { li { span class={ "badge platform platform-" (i.platform.as_str()) } { (i.platform.as_str()) } " " (i.handle) } } }
            } @else {
                p.muted { "Unknown customer" }
            }
            h3 { "Sentiment over time" }
            (charts::sparkline(&d.context.sentiment.iter().map(|p| (p.at.millis(), p.sentiment)).collect::<Vec<_>>()))
            h3 { "Past cases" }
            @if d.context.past_cases.is_empty() { p.muted { "None" } }
            ul.past {
                @for p in &d.context.past_cases {
                    li {
                        a href={ "/ui/cases/" (p.id) } { (p.subject) }
                        " " span class={ "badge status-" (label(&p.status)) } { (label(&p.status)) }
                        " " span.muted { (ago(p.opened_at, now)) }
                    }
                }
            }
        }
    }
}
