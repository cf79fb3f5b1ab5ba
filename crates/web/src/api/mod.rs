//! `/api/v1`: one file per resource.

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod automation;
pub mod cases;
pub mod casework;
pub mod connectors;
pub mod customers;
pub mod events;
pub mod feedback;
pub mod handover;
pub mod identity;
pub mod incidents;
pub mod keys;
pub mod labels;
pub mod merges;
pub mod messages;
pub mod orders;
pub mod privacy;
pub mod replies;
pub mod reply_changes;
pub mod rules;
pub mod session;
pub mod status;
pub mod suggestions;
pub mod templates;
pub mod users;
// Reports (H1–H6).
pub mod reports;
// Listening: rules, silences, disruption messaging (E4, F2–F6).
pub mod campaigns;
pub mod churn;
pub mod disruptions;
pub mod retention;
pub mod routing;
pub mod silences;
pub mod views;
pub mod watchlists;

use crate::AppState;
use crate::problem::Problem;
use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use sb_domain::ErrorCode;
use sb_store::Page;

/// A region's name as keys, users and customers carry it (data residency).
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[A-Za-z0-9_-]{1,32}$")]
#[allow(dead_code)]
pub struct RegionName(String);

/// Page size when a list request names none, and the most it may ask for.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// A query string, or `400 invalid_query` instead of axum's plain-text rejection.
/// A name the operator chooses (a watchlist, a labelling task): 1 to 40 lowercase letters,
/// digits, `-` and `_`; else `invalid_field` on `field`, saying what `what` must be.
pub fn check_name(value: &str, field: &str, what: &str) -> Result<(), Problem> {
    let ok = !value.is_empty()
        && value.len() <= 40
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            ErrorCode::InvalidField,
            format!("{what} is 1 to 40 lowercase letters, digits, `-` or `_`"),
        )
        .with_field(field))
    }
}

pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(v)| v)
        .map_err(|e| Problem::new(ErrorCode::InvalidQuery, e.body_text()))
}

/// A list page: `cursor` must be an id of the listed kind (`parse` checks it), `limit`
/// 1..=`MAX_LIMIT`, `DEFAULT_LIMIT` when absent.
pub fn page<T>(
    cursor: Option<&str>,
    limit: Option<u32>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Page, Problem> {
    let before = cursor
        .map(|c| {
            parse(c).map(|_| c.to_owned()).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery, format!("`{c}` is not a cursor"))
                    .with_field("cursor")
            })
        })
        .transpose()?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::new(
            ErrorCode::InvalidQuery,
            format!("`limit` must be between 1 and {MAX_LIMIT}"),
        )
        .with_field("limit"));
    }
    Ok(Page { before, limit })
}

/// The cursor of the next page: the last id of a full page, none after the last page.
pub fn next_cursor<T>(items: &[T], page: &Page, id: impl Fn(&T) -> String) -> Option<String> {
    (items.len() == page.limit as usize)
        .then(|| items.last().map(id))
        .flatten()
}
use axum::routing::{delete, get, post, put};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", post(messages::ingest).get(messages::list))
        .route("/messages/{id}", get(messages::get))
        .route(
            "/messages/{id}/labels/{task}",
            put(labels::put).delete(labels::remove),
        )
        .route("/labels", get(labels::tasks))
        .route("/labels/{task}", get(labels::export))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::get).patch(casework::update))
        .route("/cases/{id}/notes", post(casework::note))
        .route(
            "/cases/{id}/escalations/{name}/acknowledge",
            post(casework::acknowledge),
        )
        .route("/agents", get(casework::agents))
        .route("/automation", get(automation::status))
        .route("/rules/dry-run", post(rules::dry_run))
        .route("/replies", get(approvals::list))
        .route(
            "/replies/{id}",
            get(approvals::get).patch(reply_changes::edit),
        )
        .route("/replies/{id}/decision", post(approvals::decision))
        .route("/agents/{id}/presence", put(casework::presence))
        .route(
            "/agents/{id}/handover",
            get(handover::summary).post(handover::hand_over),
        )
        .route("/cases/{id}/replies", post(replies::create))
        // Templates and suggestions (D6, B8).
        .route("/templates", get(templates::list).post(templates::create))
        .route("/templates/{key}", get(templates::get))
        .route(
            "/templates/{key}/versions/{version}/state",
            post(templates::change_state),
        )
        .route("/cases/{id}/render", post(templates::render))
        .route("/cases/{id}/suggestions", get(suggestions::list))
        .route("/connectors", get(connectors::health))
        .route("/connectors/{target}/resume", post(connectors::resume))
        .route("/outbox", get(connectors::list))
        .route("/outbox/{id}", get(connectors::get))
        .route("/customers", get(customers::find))
        .route("/customers/{id}", get(customers::get))
        .route("/customers/{id}/identities", post(customers::link))
        .route("/customers/{id}/export", get(privacy::export))
        .route("/customers/{id}/consent", get(privacy::consents))
        .route(
            "/customers/{id}/consent/{channel}",
            put(privacy::set_consent),
        )
        .route("/customers/{id}/erase", post(privacy::erase))
        .route(
            "/customers/{id}/legal-hold",
            put(privacy::hold).delete(privacy::release),
        )
        .route("/keys", get(keys::list).post(keys::create))
        .route("/keys/{id}/rotate", post(keys::rotate))
        .route("/keys/{id}", delete(keys::revoke))
        .route("/users", get(users::list))
        .route("/users/{login}", put(users::put).delete(users::disable))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route(
            "/session",
            post(session::login)
                .get(session::whoami)
                .delete(session::logout),
        )
        // Surveys and quality review (D10, D11).
        .route("/cases/{id}/survey", get(feedback::case_survey))
        .route("/feedback/summary", get(feedback::summary))
        .route("/qa/reviews", get(feedback::qa::list))
        .route("/qa/reviews/{id}", post(feedback::qa::review))
        .route("/queues", get(cases::queues))
        .route("/events", get(events::stream))
        // Merging and splitting cases and customers (D1, C2).
        .route("/cases/{id}/merge", post(merges::merge))
        .route("/cases/{id}/split", post(merges::split))
        .route("/customers/merges/{id}/undo", post(merges::undo))
        .route("/identity/scan", post(identity::scan))
        .route("/identity/suggestions", get(identity::suggestions))
        .route(
            "/identity/suggestions/{id}/decision",
            post(identity::decide),
        )
        .route("/alerts", get(alerts::list))
        .route("/status", get(status::list).post(status::report))
        .route("/orders", post(orders::report))
        .route("/orders/{id}", get(orders::get))
        .route("/reports/attribution", get(orders::attribution))
        .route("/incidents", get(incidents::list).post(incidents::open))
        .route(
            "/incidents/{id}",
            get(incidents::get).post(incidents::update),
        )
        .route(
            "/incidents/{id}/debrief",
            get(incidents::debrief).put(incidents::write_debrief),
        )
        // Reports (H1–H6).
        // Listening: rules, silences, disruption messaging (E4, F2–F6).
        // Replies after sending: edits and deletions (D12).
        .route("/replies/{id}/delete", post(reply_changes::delete))
        .route(
            "/incidents/{id}/disruption",
            post(disruptions::draft::draft),
        )
        .route("/disruptions/{id}", get(disruptions::get))
        .route("/disruptions/{id}/decision", post(disruptions::decision))
        .route("/silences", get(silences::list).post(silences::create))
        .route("/silences/{id}", delete(silences::end))
        .route("/views", get(views::list).post(views::create))
        .route("/views/{id}", delete(views::delete))
        .route("/workflow/routing", get(routing::get).put(routing::save))
        .route("/workflow/routing/versions", get(routing::versions))
        .route("/workflow/routing/check", post(routing::check))
        .route(
            "/workflow/agents/{id}",
            put(routing::save_agent).delete(routing::remove_agent),
        )
        .route("/watchlists", get(watchlists::list))
        .route("/retention", get(retention::state))
        .route("/retention/run", post(retention::run))
        .route("/retention/policies", put(retention::save))
        .route("/watchlists/{list}/terms", post(watchlists::add))
        .route(
            "/watchlists/{list}/terms/{term}",
            delete(watchlists::remove),
        )
        .route("/churn", get(churn::list))
        .route("/churn/scan", post(churn::scan))
        .route("/campaigns/capacity", post(campaigns::capacity))
        .route("/reports/kpis", get(reports::kpis))
        .route("/reports/cases.csv", get(reports::cases_csv))
        .route("/reports/voice", get(reports::voice::voice))
        .route("/reports/staffing", get(reports::voice::staffing))
        .route("/reports/retention", get(reports::retention::retention))
        .route("/reports/at-risk", get(reports::retention::at_risk))
        .route("/reports/themes", get(reports::themes::themes_report))
        .route("/reports/experiments", get(reports::experiments::list))
        .route(
            "/reports/experiments/{name}",
            get(reports::experiments::report),
        )
}
