//! What each `/api/v1` route needs (G1) and whether using it is written to the audit trail
//! (G2). A route missing here is refused to everyone: a test walks the OpenAPI document and
//! checks that every route has exactly one entry.

use axum::http::Method;
use sb_domain::Permission;
use sb_domain::Permission as P;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (logging in).
    Public,
    /// Any signed-in user or valid key (who am I, logging out).
    SignedIn,
    Permission(Permission),
}

/// Whether a call is written to the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audit {
    /// A state change, or a read of personal data.
    Yes,
    /// Reads of nothing personal, and message ingest: an ingested message is its own durable
    /// record (source, external id, arrival time), and auditing each would halve ingest.
    No,
}

pub struct RouteAccess {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
    pub audit: Audit,
}

const fn r(method: Method, path: &'static str, need: Need, audit: Audit) -> RouteAccess {
    RouteAccess {
        method,
        path,
        need,
        audit,
    }
}

const fn p(p: Permission) -> Need {
    Need::Permission(p)
}

use Audit::{No, Yes};

/// Every `/api/v1` route, by method and path template as the router declares it.
pub static ROUTES: &[RouteAccess] = &[
    r(Method::POST, "/api/v1/messages", p(P::MessagesIngest), No),
    r(Method::GET, "/api/v1/messages", p(P::MessagesRead), Yes),
    r(
        Method::GET,
        "/api/v1/messages/{id}",
        p(P::MessagesRead),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/messages/{id}/labels/{task}",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::DELETE,
        "/api/v1/messages/{id}/labels/{task}",
        p(P::CasesWork),
        Yes,
    ),
    r(Method::GET, "/api/v1/labels", p(P::MessagesRead), No),
    r(
        Method::GET,
        "/api/v1/labels/{task}",
        p(P::MessagesRead),
        Yes,
    ),
    r(Method::GET, "/api/v1/cases", p(P::CasesRead), Yes),
    r(Method::GET, "/api/v1/cases/{id}", p(P::CasesRead), Yes),
    r(Method::PATCH, "/api/v1/cases/{id}", p(P::CasesWork), Yes),
    r(
        Method::POST,
        "/api/v1/cases/{id}/notes",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/cases/{id}/escalations/{name}/acknowledge",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/cases/{id}/replies",
        p(P::RepliesWrite),
        Yes,
    ),
    r(Method::GET, "/api/v1/queues", p(P::CasesRead), No),
    r(Method::GET, "/api/v1/agents", p(P::AgentsRead), No),
    r(Method::GET, "/api/v1/automation", p(P::CasesRead), No),
    r(
        Method::GET,
        "/api/v1/agents/{id}/handover",
        p(P::CasesRead),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/agents/{id}/handover",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/agents/{id}/presence",
        p(P::PresenceWrite),
        Yes,
    ),
    r(Method::POST, "/api/v1/rules/dry-run", p(P::RulesTest), Yes),
    r(Method::GET, "/api/v1/replies", p(P::RepliesRead), Yes),
    r(Method::GET, "/api/v1/replies/{id}", p(P::RepliesRead), Yes),
    r(
        Method::POST,
        "/api/v1/replies/{id}/decision",
        p(P::RepliesApprove),
        Yes,
    ),
    // Templates and suggestions.
    r(Method::GET, "/api/v1/templates", p(P::CasesRead), No),
    r(Method::POST, "/api/v1/templates", p(P::RepliesWrite), Yes),
    r(Method::GET, "/api/v1/templates/{key}", p(P::CasesRead), No),
    r(
        Method::POST,
        "/api/v1/templates/{key}/versions/{version}/state",
        p(P::RepliesWrite),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/cases/{id}/render",
        p(P::RepliesWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/cases/{id}/suggestions",
        p(P::RepliesWrite),
        Yes,
    ),
    r(Method::GET, "/api/v1/connectors", p(P::ConnectorsRead), No),
    r(
        Method::POST,
        "/api/v1/connectors/{target}/resume",
        p(P::ConnectorsManage),
        Yes,
    ),
    r(Method::GET, "/api/v1/outbox", p(P::OutboxRead), Yes),
    r(Method::GET, "/api/v1/outbox/{id}", p(P::OutboxRead), Yes),
    r(Method::GET, "/api/v1/customers", p(P::CustomersRead), Yes),
    r(
        Method::GET,
        "/api/v1/customers/{id}",
        p(P::CustomersRead),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/customers/{id}/identities",
        p(P::CustomersWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/customers/{id}/consent",
        p(P::CustomersRead),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/customers/{id}/consent/{channel}",
        p(P::CustomersWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/customers/{id}/export",
        p(P::PrivacyManage),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/customers/{id}/erase",
        p(P::PrivacyManage),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/customers/{id}/legal-hold",
        p(P::PrivacyManage),
        Yes,
    ),
    r(
        Method::DELETE,
        "/api/v1/customers/{id}/legal-hold",
        p(P::PrivacyManage),
        Yes,
    ),
    // Surveys and quality review.
    r(
        Method::GET,
        "/api/v1/cases/{id}/survey",
        p(P::CasesWork),
        Yes,
    ),
    r(Method::GET, "/api/v1/feedback/summary", p(P::CasesRead), No),
    r(Method::GET, "/api/v1/qa/reviews", p(P::QaReview), No),
    r(Method::POST, "/api/v1/qa/reviews/{id}", p(P::QaReview), Yes),
    r(Method::GET, "/api/v1/events", p(P::EventsRead), No),
    // Merging cases and customers.
    r(
        Method::POST,
        "/api/v1/cases/{id}/merge",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/cases/{id}/split",
        p(P::CasesWork),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/customers/merges/{id}/undo",
        p(P::CustomersWrite),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/identity/scan",
        p(P::CustomersWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/identity/suggestions",
        p(P::CustomersRead),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/identity/suggestions/{id}/decision",
        p(P::CustomersWrite),
        Yes,
    ),
    r(Method::GET, "/api/v1/alerts", p(P::AlertsRead), No),
    r(Method::GET, "/api/v1/status", p(P::StatusRead), No),
    r(Method::POST, "/api/v1/status", p(P::StatusReport), Yes),
    // Traceable order tagging (F6).
    r(Method::POST, "/api/v1/orders", p(P::StatusReport), Yes),
    r(Method::GET, "/api/v1/orders/{id}", p(P::StatusRead), Yes),
    r(
        Method::GET,
        "/api/v1/reports/attribution",
        p(P::ReportsRead),
        No,
    ),
    r(Method::GET, "/api/v1/incidents", p(P::IncidentsRead), No),
    r(Method::POST, "/api/v1/incidents", p(P::IncidentsWrite), Yes),
    r(
        Method::GET,
        "/api/v1/incidents/{id}",
        p(P::IncidentsRead),
        No,
    ),
    r(
        Method::POST,
        "/api/v1/incidents/{id}",
        p(P::IncidentsWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/incidents/{id}/debrief",
        p(P::IncidentsRead),
        No,
    ),
    r(
        Method::PUT,
        "/api/v1/incidents/{id}/debrief",
        p(P::IncidentsWrite),
        Yes,
    ),
    r(Method::GET, "/api/v1/keys", p(P::KeysManage), Yes),
    r(Method::POST, "/api/v1/keys", p(P::KeysManage), Yes),
    r(
        Method::POST,
        "/api/v1/keys/{id}/rotate",
        p(P::KeysManage),
        Yes,
    ),
    r(Method::DELETE, "/api/v1/keys/{id}", p(P::KeysManage), Yes),
    r(Method::GET, "/api/v1/users", p(P::UsersManage), Yes),
    r(Method::PUT, "/api/v1/users/{login}", p(P::UsersManage), Yes),
    r(
        Method::DELETE,
        "/api/v1/users/{login}",
        p(P::UsersManage),
        Yes,
    ),
    r(Method::GET, "/api/v1/audit", p(P::AuditRead), Yes),
    r(Method::GET, "/api/v1/audit/verify", p(P::AuditRead), Yes),
    r(Method::POST, "/api/v1/session", Need::Public, Yes),
    r(Method::GET, "/api/v1/session", Need::SignedIn, No),
    r(Method::DELETE, "/api/v1/session", Need::SignedIn, Yes),
    // Reports (H1–H6).
    r(Method::GET, "/api/v1/reports/kpis", p(P::ReportsRead), No),
    r(
        Method::GET,
        "/api/v1/reports/cases.csv",
        p(P::ReportsRead),
        Yes,
    ),
    r(Method::GET, "/api/v1/reports/voice", p(P::ReportsRead), No),
    r(
        Method::GET,
        "/api/v1/reports/staffing",
        p(P::ReportsRead),
        No,
    ),
    r(
        Method::GET,
        "/api/v1/reports/retention",
        p(P::ReportsRead),
        No,
    ),
    r(
        Method::GET,
        "/api/v1/reports/at-risk",
        p(P::ReportsRead),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/reports/themes",
        p(P::ReportsRead),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/reports/experiments",
        p(P::ReportsRead),
        No,
    ),
    r(
        Method::GET,
        "/api/v1/reports/experiments/{name}",
        p(P::ReportsRead),
        No,
    ),
    // Listening: rules, silences, disruption messaging (E4, F2–F6).
    r(
        Method::POST,
        "/api/v1/incidents/{id}/disruption",
        p(P::IncidentsWrite),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/disruptions/{id}",
        p(P::IncidentsRead),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/disruptions/{id}/decision",
        p(P::RepliesApprove),
        Yes,
    ),
    r(Method::GET, "/api/v1/silences", p(P::AlertsRead), No),
    r(Method::POST, "/api/v1/silences", p(P::AlertsManage), Yes),
    r(
        Method::DELETE,
        "/api/v1/silences/{id}",
        p(P::AlertsManage),
        Yes,
    ),
    // Saved inbox views (I2): the caller's own, and those shared with the team.
    r(Method::GET, "/api/v1/views", p(P::CasesRead), No),
    r(Method::POST, "/api/v1/views", p(P::CasesRead), Yes),
    r(Method::DELETE, "/api/v1/views/{id}", p(P::CasesRead), Yes),
    // Retention (G4): the policies in force, their runs, a run on demand.
    r(Method::GET, "/api/v1/retention", p(P::PrivacyManage), No),
    r(
        Method::POST,
        "/api/v1/retention/run",
        p(P::PrivacyManage),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/retention/policies",
        p(P::PrivacyManage),
        Yes,
    ),
    // The workflow's routing (D1–D4, D7): queues, agents, SLA policies, rules, escalations.
    r(Method::GET, "/api/v1/workflow/routing", p(P::RulesTest), No),
    r(
        Method::PUT,
        "/api/v1/workflow/routing",
        p(P::WorkflowManage),
        Yes,
    ),
    r(
        Method::GET,
        "/api/v1/workflow/routing/versions",
        p(P::RulesTest),
        No,
    ),
    r(
        Method::POST,
        "/api/v1/workflow/routing/check",
        p(P::WorkflowManage),
        Yes,
    ),
    r(
        Method::PUT,
        "/api/v1/workflow/agents/{id}",
        p(P::WorkflowManage),
        Yes,
    ),
    r(
        Method::DELETE,
        "/api/v1/workflow/agents/{id}",
        p(P::WorkflowManage),
        Yes,
    ),
    // Watchlists (B6): what every message is searched for.
    r(Method::GET, "/api/v1/watchlists", p(P::AlertsRead), No),
    r(
        Method::POST,
        "/api/v1/watchlists/{list}/terms",
        p(P::AlertsManage),
        Yes,
    ),
    r(
        Method::DELETE,
        "/api/v1/watchlists/{list}/terms/{term}",
        p(P::AlertsManage),
        Yes,
    ),
    // Customer ids with their value and behaviour: personal, so every read is audited.
    r(Method::GET, "/api/v1/churn", p(P::CustomersRead), Yes),
    r(Method::POST, "/api/v1/churn/scan", p(P::AlertsManage), Yes),
    r(
        Method::POST,
        "/api/v1/campaigns/capacity",
        p(P::ReportsRead),
        Yes,
    ),
    // Replies after sending: edits and deletions (D12).
    r(
        Method::PATCH,
        "/api/v1/replies/{id}",
        p(P::RepliesWrite),
        Yes,
    ),
    r(
        Method::POST,
        "/api/v1/replies/{id}/delete",
        p(P::RepliesWrite),
        Yes,
    ),
];

/// The entry for a matched route (`path` as the router declares it, with the `/api/v1` prefix).
pub fn lookup(method: &Method, path: &str) -> Option<&'static RouteAccess> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The methods the route table lists for `path`.
pub fn methods_of(path: &str) -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.method.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route table as `docs/SECURITY.md` prints it.
    pub fn routes_markdown() -> String {
        let mut out = String::from("| method | route | needs | audited |\n|---|---|---|---|\n");
        for r in ROUTES {
            let need = match r.need {
                Need::Public => "anyone".to_owned(),
                Need::SignedIn => "any signed-in caller".to_owned(),
                Need::Permission(p) => format!("`{p}`"),
            };
            let audited = if r.audit == Audit::Yes { "yes" } else { "no" };
            out.push_str(&format!(
                "| {} | `{}` | {need} | {audited} |\n",
                r.method, r.path
            ));
        }
        out
    }

    /// The security document prints the matrix and the route table the code enforces.
    #[test]
    fn the_security_document_matches_the_code() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/SECURITY.md"
        ))
        .unwrap_or_default();
        if std::env::var_os("SWITCHBOARD_PRINT_SECURITY_TABLES").is_some() {
            println!(
                "{}\n{}",
                sb_domain::access::matrix_markdown(),
                routes_markdown()
            );
        }
        assert!(
            doc.contains(&sb_domain::access::matrix_markdown()),
            "docs/SECURITY.md: the permission matrix differs from the code"
        );
        assert!(
            doc.contains(&routes_markdown()),
            "docs/SECURITY.md: the route table differs from the code"
        );
    }

    #[test]
    fn each_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} is listed twice",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn every_change_is_audited() {
        for a in ROUTES {
            if a.method != Method::GET
                && !(a.method == Method::POST && a.path == "/api/v1/messages")
            {
                assert_eq!(a.audit, Audit::Yes, "{} {}", a.method, a.path);
            }
        }
    }
}
