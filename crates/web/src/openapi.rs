//! The OpenAPI 3 document of every `/api` and `/webhooks` route, generated from the handlers' annotations.

use crate::api::{
    alerts, approvals, audit, cases, casework, connectors, customers, events, incidents, keys,
    messages, privacy, replies, rules, session, status, users,
};
use crate::webhooks;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Social customer care and operations hub."),
    paths(
        messages::ingest, messages::get,
        cases::list, cases::get, cases::queues, replies::create,
        casework::update, casework::note, casework::acknowledge, casework::agents,
        casework::presence, approvals::list, approvals::get, approvals::decision,
        rules::dry_run,
        // templates and suggestions
        connectors::health, connectors::resume, connectors::list, connectors::get,
        customers::get, customers::link,
        events::stream,
        // surveys and quality review
        alerts::list,
        // merging cases and customers
        crate::api::merges::merge, crate::api::merges::split, crate::api::merges::undo,
        crate::api::identity::scan, crate::api::identity::suggestions,
        crate::api::identity::decide,
        status::report, status::list,
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
    ),
    modifiers(&ApiKeyScheme),
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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
