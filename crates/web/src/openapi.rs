//! The OpenAPI 3 document of every `/api` and `/webhooks` route, generated from the handlers' annotations.

use crate::api::{
    alerts, approvals, audit, automation, cases, casework, connectors, customers, events, handover,
    incidents, keys, messages, privacy, replies, rules, session, status, users,
};
use crate::webhooks;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Social customer care and operations hub."),
    paths(
        messages::ingest, messages::list, messages::get,
        cases::list, cases::get, cases::queues, replies::create,
        casework::update, casework::note, casework::acknowledge, casework::agents,
        casework::presence, handover::summary, handover::hand_over, automation::status, approvals::list, approvals::get, approvals::decision,
        rules::dry_run,
        // templates and suggestions
        crate::api::templates::list, crate::api::templates::create, crate::api::templates::get,
        crate::api::templates::change_state, crate::api::templates::render,
        crate::api::suggestions::list,
        connectors::health, connectors::resume, connectors::list, connectors::get,
        customers::find, customers::get, customers::link,
        events::stream,
        // surveys and quality review
        crate::api::feedback::case_survey, crate::api::feedback::summary,
        crate::api::feedback::qa::list, crate::api::feedback::qa::review,
        crate::survey::show, crate::survey::answer,
        alerts::list,
        // merging cases and customers
        crate::api::merges::merge, crate::api::merges::split, crate::api::merges::undo,
        crate::api::identity::scan, crate::api::identity::suggestions,
        crate::api::identity::decide,
        status::report, status::list,
        crate::api::orders::report, crate::api::orders::get, crate::api::orders::attribution,
        incidents::open, incidents::list, incidents::get, incidents::update,
        incidents::write_debrief, incidents::debrief,
        keys::create, keys::list, keys::rotate, keys::revoke,
        users::list, users::put, users::disable,
        session::login, session::whoami, session::logout,
        audit::list, audit::verify,
        privacy::export, privacy::erase, privacy::hold, privacy::release,
        privacy::consents, privacy::set_consent,
        webhooks::meta_handshake, webhooks::meta_delivery,
        webhooks::x_crc, webhooks::x_delivery,
        webhooks::linkedin_challenge, webhooks::linkedin_delivery, webhooks::tiktok_delivery,
        webhooks::generic_delivery, webhooks::email_delivery,
        // reports
        crate::api::reports::kpis, crate::api::reports::cases_csv,
        crate::api::reports::voice::voice, crate::api::reports::voice::staffing,
        crate::api::reports::retention::retention, crate::api::reports::retention::at_risk,
        crate::api::reports::themes::themes_report,
        crate::api::reports::experiments::list, crate::api::reports::experiments::report,
        // listening: rules, silences, disruption messaging
        crate::api::disruptions::draft::draft, crate::api::disruptions::get,
        crate::api::disruptions::decision,
        crate::api::silences::create, crate::api::silences::list, crate::api::silences::end,
        crate::api::views::create, crate::api::views::list, crate::api::views::delete,
        crate::api::watchlists::list, crate::api::watchlists::add, crate::api::watchlists::remove,
        crate::api::labels::put, crate::api::labels::remove, crate::api::labels::tasks, crate::api::labels::export,
        crate::api::routing::get, crate::api::routing::save, crate::api::routing::versions, crate::api::routing::check, crate::api::routing::save_agent, crate::api::routing::remove_agent,
        crate::api::retention::state, crate::api::retention::run, crate::api::retention::save,
        crate::api::churn::list, crate::api::churn::scan, crate::api::campaigns::capacity,
        // replies after sending
        crate::api::reply_changes::edit, crate::api::reply_changes::delete,
    ),
    modifiers(&ApiKeyScheme, &GuardAnswers),
    tags(
        (name = "messages", description = "Ingest and read messages"),
        (name = "cases", description = "Cases and queues"),
        (name = "customers", description = "Customer profiles"),
        (name = "events", description = "Live events"),
        (name = "alerts", description = "Alerts raised by listening"),
        (name = "incidents", description = "Incidents, their timeline and debrief"),
        (name = "status", description = "The operational status feed"),
        (name = "connectors", description = "Connector health, the outbox and its delivery log"),
        (name = "webhooks", description = "Platform deliveries, authenticated by signature"),
        (name = "access", description = "API keys, users and sign-in sessions"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "privacy", description = "Erasure, export and legal holds"),
        (name = "reports", description = "Service KPIs from the rollups, and row-level exports"),
    )
)]
struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The answers the guard gives before any handler runs — no credentials, a role without the
/// route's permission (or a browser change without its CSRF token), too many attempts — are
/// part of every `/api/v1` operation's document.
struct GuardAnswers;

impl Modify for GuardAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let public = path == "/api/v1/session";
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                let Some(op) = op else { continue };
                let answers = &mut op.responses.responses;
                if !(public && method == "post") {
                    answers
                        .entry("401".into())
                        .or_insert_with(|| problem("No valid API key or session (`unauthorized`)"));
                    answers.entry("403".into()).or_insert_with(|| {
                        problem("The caller's role or scopes do not allow this (`forbidden`), or a browser change lacks its CSRF token (`csrf_failed`)")
                    });
                }
                answers
                    .entry("429".into())
                    .or_insert_with(|| problem("Too many attempts or requests (`rate_limited`)"));
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
