//! Administration: users and API keys (changed through `/api/v1/users` and `/api/v1/keys`),
//! the workflow in force (queues, agents and skills, SLA policies and their calendars, rules,
//! escalations — shown, and changed as a routing document through
//! `/api/v1/workflow/routing`), reply templates with their approval state, the rules dry run,
//! and watchlists (stored terms added and removed through `/api/v1/watchlists`).

use super::{Viewer, error_page, label, layout, span, when};
use crate::AppState;
use crate::problem::Problem;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use sb_domain::{Clock, Role, SystemClock};
use sb_workflow::sla::Metric;

pub async fn users(State(state): State<AppState>, Extension(who): Extension<Viewer>) -> Response {
    let users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let body = html! {
        h1 { "Users" }
        section.panel {
            table.cases #users {
                thead { tr { th { "Login" } th { "Role" } th { "Regions" } th { "State" } th {} } }
                tbody {
                    @for u in &users {
                        tr {
                            td { (u.login) }
                            td { span.badge.role { (u.role) } }
                            td { (u.regions.as_ref().map_or("all".to_owned(), |r| r.join(", "))) }
                            td { @if let Some(d) = u.disabled_at { "disabled " (when(d)) } @else { "active" } }
                            td {
                                @if u.disabled_at.is_none() && u.login != who.login() {
                                    form.api-form data-method="DELETE" data-url={ "/api/v1/users/" (super::encode(&u.login)) } data-reload="1" data-confirm={ "Disable " (u.login) "?" } {
                                        button type="submit" { "Disable" }
                                        span.error role="alert" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Add or change a user" }
            form.api-form data-method="PUT" data-url="/api/v1/users/{login}" data-reload="1" {
                label { span { "Login" } input name="login" data-path="1" required; }
                label { span { "Role" } select name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[r == Role::Agent] { (r.as_str()) } } } }
                label { span { "Password (12+ characters)" } input name="password" type="password" autocomplete="new-password" required; }
                label { span { "Regions (comma-separated, empty: all)" } input name="regions" data-type="list"; }
                button type="submit" { "Save user" }
                p.error role="alert" {}
            }
        }
    };
    layout(Some(&who), "Users", "users", body).into_response()
}

pub async fn keys(State(state): State<AppState>, Extension(who): Extension<Viewer>) -> Response {
    let keys = match state.store.api_keys().await {
        Ok(k) => k,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let now = SystemClock.now();
    let body = html! {
        h1 { "API keys" }
        section.panel {
            table.cases #keys {
                thead { tr { th { "Name" } th { "Role" } th { "Scopes" } th { "Regions" } th { "Created" } th { "Expires" } th { "State" } th {} } }
                tbody {
                    @for k in &keys {
                        @let live = k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now);
                        tr {
                            td { (k.name) br; span.muted { (k.id) } }
                            td { span.badge.role { (k.role) } }
                            td { (k.scopes.as_ref().map_or("all of the role".to_owned(), |s| s.join(", "))) }
                            td { (k.regions.as_ref().map_or("all".to_owned(), |r| r.join(", "))) }
                            td { (when(k.created_at)) }
                            td { @if let Some(e) = k.expires_at { (when(e)) } @else { "never" } }
                            td { @if k.revoked_at.is_some() { "revoked" } @else if live { "active" } @else { "expired" } }
                            td {
                                @if live {
                                    form.api-form data-method="DELETE" data-url={ "/api/v1/keys/" (k.id) } data-reload="1" data-confirm={ "Revoke " (k.name) "?" } {
                                        button type="submit" { "Revoke" }
                                        span.error role="alert" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Issue a key" }
            form.api-form data-method="POST" data-url="/api/v1/keys" data-show="key" {
                label { span { "Name" } input name="name" required; }
                label { span { "Role" } select name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r.as_str()) } } } }
                label { span { "Expires in days (empty: never)" } input name="expires_in_days" type="number" min="1" data-type="number"; }
                label { span { "Regions (comma-separated, empty: all)" } input name="regions" data-type="list"; }
                button type="submit" { "Issue key" }
                p.error role="alert" {}
                p.result role="status" {}
            }
            p.muted { "A key is shown once, here, when it is issued. Store it in your secret manager." }
        }
    };
    layout(Some(&who), "API keys", "keys", body).into_response()
}

fn target(ms: Option<i64>) -> String {
    ms.map_or("–".to_owned(), span)
}

pub async fn workflow(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
) -> Response {
    let flow = state.casework.workflow();
    let loads = state.store.agent_loads().await.unwrap_or_default();
    let presence = state.store.presences().await.unwrap_or_default();
    let routing = match state.casework.routing_in_force().await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&who), &crate::api::routing::problem(e)),
    };
    let history = state
        .store
        .settings_history(sb_store::settings::ROUTING, 20)
        .await
        .unwrap_or_default();
    let manage = who.can(sb_domain::Permission::WorkflowManage);
    let body = html! {
        h1 { "Workflow" }
        p.muted #routing-source {
            @if routing.version == 0 {
                "Queues, agents, SLA policies, rules and escalations come from the configuration file's [workflow] section (see docs/WORKFLOW.md)."
            } @else {
                "Queues, agents, SLA policies, rules and escalations come from routing version " (routing.version)
                ", saved by " (routing.saved_by.as_deref().unwrap_or("–"))
                @if let Some(at) = routing.saved_at { " " (when(at)) }
                "."
            }
            " Approvals, guardrails, matching, surveys, quality review and experiments stay in the configuration file."
        }
        section.panel {
            h2 { "Queues" }
            ul { @for q in flow.router.queues() { li { (q) " — " (flow.router.members(q).count()) " agents" } } }
            @if flow.router.queues().next().is_none() { p.muted { "Only the default queue." } }
        }
        section.panel {
            h2 { "Agents and skills" }
            table.cases {
                thead { tr { th { "Agent" } th { "Team" } th { "Queues" } th { "Languages" } th { "Regions" } th { "Products" } th { "Tiers" } th { "Load" } th { "Presence" } @if manage { th {} } } }
                tbody {
                    @for a in flow.router.agents() {
                        tr {
                            td { strong { (a.name) } br; span.muted { (a.id) } }
                            td { (a.team.as_deref().unwrap_or("–")) }
                            td { (a.queues.join(", ")) }
                            td { (a.languages.join(", ")) }
                            td { (a.regions.join(", ")) }
                            td { (a.products.join(", ")) }
                            td { (a.tiers.iter().map(label).collect::<Vec<_>>().join(", ")) }
                            td { (loads.iter().find(|(id, _)| *id == a.id).map_or(0, |(_, n)| *n)) " / " (a.capacity) }
                            td { (presence.iter().find(|(id, _)| *id == a.id).map_or("offline", |(_, p)| p.as_str())) }
                            @if manage {
                                td {
                                    form.api-form.inline data-method="DELETE" data-url={ "/api/v1/workflow/agents/" (super::encode(&a.id)) "?base_version=" (routing.version) } data-reload="1" data-confirm={ "Remove " (a.name) " from the routing? Their open cases wait for another agent." } {
                                        button type="submit" aria-label={ "Remove " (a.id) } { "Remove" }
                                        span.error role="alert" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if manage {
            section.panel #agent-editor {
                h2 { "Add or change an agent" }
                p.muted { "Saved into the routing as a new version, in force at once. An agent with the same id is replaced. Lists are comma-separated; empty skills mean any." }
                form.api-form data-method="PUT" data-url="/api/v1/workflow/agents/{id}" data-reload="1" {
                    input type="hidden" name="base_version" value=(routing.version) data-type="number";
                    label { span { "Id" } input name="id" data-path="1" required; }
                    label { span { "Name" } input name="name" required; }
                    label { span { "Queues" } input name="queues" data-type="list" placeholder=(flow.router.queues().collect::<Vec<_>>().join(", ")); }
                    label { span { "Team" } input name="team"; }
                    label { span { "Languages" } input name="languages" data-type="list" placeholder="en, de"; }
                    label { span { "Regions" } input name="regions" data-type="list"; }
                    label { span { "Products" } input name="products" data-type="list"; }
                    label { span { "Tiers" } input name="tiers" data-type="list" placeholder="standard, premium, vip"; }
                    label { span { "Capacity" } input name="capacity" type="number" min="1" data-type="number" placeholder="5"; }
                    button type="submit" { "Save agent" }
                    p.error role="alert" {}
                }
            }
        }
        section.panel {
            h2 { "SLA policies" }
            table.cases {
                thead { tr { th { "Policy" } th { "First response" } th { "Next response" } th { "Resolution" } th { "Warns at" } th { "Business hours" } } }
                tbody {
                    @for p in flow.sla.iter() {
                        tr {
                            td { (p.name) }
                            td { (target(p.target_ms(Metric::FirstResponse))) }
                            td { (target(p.target_ms(Metric::NextResponse))) }
                            td { (target(p.target_ms(Metric::Resolution))) }
                            td { (format!("{:.0}%", p.warn_at * 100.0)) }
                            td { strong { (p.calendar.name()) } " (" (p.calendar.time_zone()) ")" br; span.muted { (p.calendar.describe()) } }
                        }
                    }
                }
            }
            @if flow.sla.is_empty() { p.muted { "No SLA policy is configured." } }
        }
        @if manage {
            section.panel #routing-editor {
                h2 { "Change the routing" }
                p.muted { "The document holds " code { "calendars" } ", " code { "sla" } ", " code { "queues" } ", " code { "agents" } ", " code { "rules" } " and " code { "escalations" } ", written as in [workflow]. "
                    "Check compiles the whole workflow with it and saves nothing; Save keeps it as a new version, in force at once here and within seconds in every worker. "
                    "Open cases move to changed SLA targets in the background. Try changed rules on past traffic under Rules first." }
                form.api-form data-method="PUT" data-url="/api/v1/workflow/routing" data-reload="1" data-confirm="Put this routing in force now?" {
                    input type="hidden" name="base_version" value=(routing.version) data-type="number";
                    label { span { "Routing document (TOML)" } textarea.code #routing-document name="document" rows="24" spellcheck="false" { (routing.document) } }
                    button type="submit" data-url="/api/v1/workflow/routing/check" data-method="POST" data-show="json" { "Check" }
                    " "
                    button type="submit" { "Save and put in force" }
                    p.error role="alert" {}
                    pre.result role="status" {}
                }
            }
        }
        section.panel #routing-versions {
            h2 { "Saved versions" }
            @if history.is_empty() {
                p.muted { "None yet: the configuration file's routing is in force." }
            } @else {
                table.cases {
                    thead { tr { th { "Version" } th { "Saved by" } th { "When" } th { "Document" } } }
                    tbody {
                        @for d in &history {
                            tr {
                                td { (d.version) @if d.version == routing.version { " " span.badge { "in force" } } }
                                td { (d.saved_by) }
                                td { (when(d.saved_at)) }
                                td { details { summary { "Show" } pre.code { (d.document) } } }
                            }
                        }
                    }
                }
                p.muted { "To go back to a version, copy its document into the editor and save it: every change stays in the history and the audit trail." }
            }
        }
    };
    layout(Some(&who), "Workflow", "workflow", body).into_response()
}

pub async fn templates(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
) -> Response {
    let versions = match state.store.all_template_versions().await {
        Ok(v) => v,
        Err(e) => return error_page(Some(&who), &Problem::from(e)),
    };
    let body = html! {
        h1 { "Templates" }
        section.panel {
            table.cases #templates {
                thead { tr { th { "Key" } th { "Version" } th { "Locale" } th { "Tone" } th { "State" } th { "Body" } th {} } }
                tbody {
                    @for t in &versions {
                        tr {
                            td { (t.key) }
                            td { (t.version) }
                            td { (t.doc["locale"].as_str().unwrap_or_default()) }
                            td { (t.doc["tone"].as_str().unwrap_or_default()) }
                            td { span class={ "badge approval-" (t.state) } { (t.state.replace('_', " ")) } }
                            td.body { (t.doc["body"].as_str().unwrap_or_default()) }
                            td {
                                @for (to, text) in next_states(&t.state) {
                                    form.api-form.inline data-method="POST" data-url={ "/api/v1/templates/" (t.key) "/versions/" (t.version) "/state" } data-reload="1" {
                                        input type="hidden" name="state" value=(to);
                                        button type="submit" { (text) }
                                        span.error role="alert" {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if versions.is_empty() { p.muted { "No templates yet." } }
        }
        section.panel {
            h2 { "New template or version" }
            form.api-form data-method="POST" data-url="/api/v1/templates" data-reload="1" {
                label { span { "Key" } input name="key" required placeholder="delivery_delay_apology"; }
                label { span { "Locale" } input name="locale" required value="en"; }
                label { span { "Tone" } input name="tone" placeholder="neutral"; }
                label { span { "Body" } textarea name="body" rows="4" required placeholder="Hi {{customer.name}}, …" {} }
                button type="submit" { "Save draft" }
                p.error role="alert" {}
            }
        }
    };
    layout(Some(&who), "Templates", "templates", body).into_response()
}

fn next_states(state: &str) -> &'static [(&'static str, &'static str)] {
    match state {
        "draft" => &[("pending_approval", "Submit for approval")],
        "pending_approval" => &[("approved", "Approve"), ("draft", "Send back")],
        "approved" => &[("retired", "Retire")],
        _ => &[],
    }
}

pub async fn rules(State(state): State<AppState>, Extension(who): Extension<Viewer>) -> Response {
    let configured = state.casework.workflow().rules.len();
    let body = html! {
        h1 { "Rules" }
        p { (configured) " case rules are in force (the configuration file's [[workflow.rules]])." }
        section.panel {
            h2 { "Dry run" }
            p.muted { "Replays the stored traffic of the last days against the configured rules, or against proposed ones (JSON, as in docs/WORKFLOW.md); nothing is changed." }
            form.api-form data-method="POST" data-url="/api/v1/rules/dry-run" data-show="json" {
                label { span { "Days" } input name="days" type="number" min="1" value="7" data-type="number" required; }
                label { span { "Proposed rules (JSON array, empty: the configured ones)" } textarea name="rules" rows="8" data-type="json" placeholder="[{\"name\": \"vip-complaints\", \"when\": {…}, \"then\": […]}]" {} }
                button type="submit" { "Run" }
                p.error role="alert" {}
                pre.result role="status" {}
            }
        }
    };
    layout(Some(&who), "Rules", "rules", body).into_response()
}

/// Watchlists: the configuration file's terms and those stored through the API, by list;
/// whoever manages alerts adds and removes stored terms here.
pub async fn watchlists(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
) -> Response {
    let lists = match crate::api::watchlists::list(State(state)).await {
        Ok(axum::Json(l)) => l.lists,
        Err(e) => return error_page(Some(&who), &e),
    };
    let manage = who.can(sb_domain::Permission::AlertsManage);
    let body = html! {
        h1 { "Watchlists" }
        p.muted { "Every message is searched for these terms, ignoring case and accents, on word boundaries. Terms from the configuration file (nlp.watchlist) are changed there; terms added here apply to messages processed from the next pipeline sweep (a few seconds)." }
        @for l in &lists {
            section.panel.watchlist data-list=(l.list) {
                h2 { (l.list) " " span.muted { "(" (l.terms.len()) ")" } }
                ul.terms {
                    @for t in &l.terms {
                        li {
                            span.term { (t.term) }
                            @if t.source == "config" {
                                " " span.badge title="From the configuration file" { "file" }
                            } @else if manage {
                                form.api-form.inline data-method="DELETE" data-url={ "/api/v1/watchlists/" (super::encode(&l.list)) "/terms/" (super::encode(&t.term)) } data-reload="1" {
                                    button.forget type="submit" aria-label={ "Remove " (t.term) } title={ "Remove (added by " (t.added_by.as_deref().unwrap_or("?")) ")" } { "×" }
                                    span.error role="alert" {}
                                }
                            }
                        }
                    }
                }
            }
        }
        @if lists.is_empty() { p.empty { "No watchlist yet." } }
        @if manage {
            section.panel {
                h2 { "Add terms" }
                form.api-form #add-terms data-method="POST" data-url="/api/v1/watchlists/{list}/terms" data-reload="1" {
                    label { span { "List (e.g. products, competitors, legal)" } input name="list" data-path="1" required pattern="[a-z0-9_-]{1,40}"; }
                    label { span { "Terms (comma-separated)" } input name="terms" data-type="list" required; }
                    button type="submit" { "Add" }
                    p.error role="alert" {}
                }
            }
        }
    };
    layout(Some(&who), "Watchlists", "watchlists", body).into_response()
}

/// Retention: the policies in force (set in the configuration file), the schedule, the latest
/// runs from the audit trail, and a run on demand.
pub async fn retention(
    State(state): State<AppState>,
    Extension(who): Extension<Viewer>,
) -> Response {
    let axum::Json(r) = match crate::api::retention::state(State(state)).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&who), &e),
    };
    let body = html! {
        h1 { "Retention" }
        p.muted #policies-source {
            @if r.version == 0 { "The policies come from the configuration file ([[privacy.retention]], see the README)." }
            @else {
                "The policies come from version " (r.version) ", saved by " (r.saved_by.as_deref().unwrap_or("–"))
                @if let Some(at) = r.saved_at { " " (when(at)) }
                "; the configuration file's are not used."
            }
            " After its days, a message's content is erased unless its customer is under legal hold; counts and aggregates stay."
        }
        section.panel {
            h2 { "Policies in force" }
            @if r.policies.is_empty() {
                p.empty #no-policies { "No retention policy is configured: messages are kept until erased on request." }
            } @else {
                table.cases #policies {
                    thead { tr { th { "Data class" } th { "Region" } th { "Kept for" } } }
                    tbody {
                        @for p in &r.policies {
                            tr {
                                td { (p.class) }
                                td { (p.region.as_deref().unwrap_or("all")) }
                                td { (p.days) " days" }
                            }
                        }
                    }
                }
            }
            p {
                @if r.every_hours > 0 { "Applied by the server every " (r.every_hours) " hours." }
                @else { "Not scheduled: applied by `switchboard retention run` or the button below." }
            }
            @if !r.policies.is_empty() {
                form.api-form #run-retention data-method="POST" data-url="/api/v1/retention/run" data-reload="1" data-confirm="Apply the retention policies now? Erased content cannot be recovered." {
                    button type="submit" { "Run now" }
                    p.error role="alert" {}
                }
            }
        }
        section.panel #edit-policies {
            h2 { "Change the policies" }
            p.muted { "The whole set, as JSON: each policy has a " code { "class" } " (standard, personal or sensitive), " code { "days" } " (1–36,500) and optionally a " code { "region" } "; one per class and region. An empty set stops retention. Saved as a new version, applied from the next run; the change is in the audit trail." }
            form.api-form data-method="PUT" data-url="/api/v1/retention/policies" data-reload="1" data-confirm="Save these retention policies? Runs from now on erase by them." {
                input type="hidden" name="base_version" value=(r.version) data-type="number";
                label { span { "Policies" } textarea.code #policies-document name="policies" rows="8" data-type="json" spellcheck="false" { (serde_json::to_string_pretty(&r.policies).unwrap_or_default()) } }
                button type="submit" { "Save policies" }
                p.error role="alert" {}
            }
        }
        section.panel {
            h2 { "Latest runs" }
            @if r.runs.is_empty() {
                p.empty { "No run yet." }
            } @else {
                table.cases #runs {
                    thead { tr { th { "When" } th { "By" } th { "Erased" } } }
                    tbody {
                        @for run in &r.runs {
                            tr {
                                td { (when(run.at)) }
                                td { (run.actor) }
                                td {
                                    @for p in &run.policies {
                                        div {
                                            (p["class"].as_str().unwrap_or("?"))
                                            @if let Some(region) = p["region"].as_str() { " in " (region) }
                                            ": " (p["erased"].as_u64().unwrap_or(0))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(Some(&who), "Retention", "retention", body).into_response()
}
