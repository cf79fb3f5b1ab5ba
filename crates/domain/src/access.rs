//! Who may do what (G1): the roles people and keys hold, the permissions actions need, and the
//! matrix between them. The web layer maps each route to one permission; `docs/SECURITY.md`
//! prints the same matrix, and a test keeps the two in step.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the installation: users, keys, privacy requests, everything else.
    Admin,
    /// Leads a care team: works and approves cases, sees the whole floor.
    Supervisor,
    /// Works cases and writes replies.
    Agent,
    /// Reads volumes, trends and cases, with personal data redacted.
    Analyst,
    /// Reads the audit trail and the records it points to; changes nothing.
    Auditor,
    /// Operations colleagues: the status feed, incidents, connectors.
    Operations,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Supervisor,
        Role::Agent,
        Role::Analyst,
        Role::Auditor,
        Role::Operations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Agent => "agent",
            Self::Analyst => "analyst",
            Self::Auditor => "auditor",
            Self::Operations => "operations",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Self::Admin => true,
            Self::Supervisor => !matches!(
                permission,
                P::MessagesIngest
                    | P::StatusReport
                    | P::ConnectorsManage
                    | P::AuditRead
                    | P::PrivacyManage
                    | P::KeysManage
                    | P::UsersManage
            ),
            Self::Agent => matches!(
                permission,
                P::MessagesRead
                    | P::CasesRead
                    | P::CasesWork
                    | P::RepliesRead
                    | P::RepliesWrite
                    | P::AgentsRead
                    | P::PresenceWrite
                    | P::CustomersRead
                    | P::CustomersWrite
                    | P::EventsRead
                    | P::AlertsRead
                    | P::StatusRead
                    | P::IncidentsRead
                    | P::PersonalRead
            ),
            Self::Analyst => matches!(
                permission,
                P::MessagesRead
                    | P::CasesRead
                    | P::CustomersRead
                    | P::AgentsRead
                    | P::RulesTest
                    | P::EventsRead
                    | P::AlertsRead
                    | P::StatusRead
                    | P::IncidentsRead
                    | P::ReportsRead
            ),
            Self::Auditor => matches!(
                permission,
                P::AuditRead
                    | P::MessagesRead
                    | P::CasesRead
                    | P::CustomersRead
                    | P::RepliesRead
                    | P::AgentsRead
                    | P::AlertsRead
                    | P::StatusRead
                    | P::IncidentsRead
                    | P::ConnectorsRead
                    | P::OutboxRead
                    | P::PersonalRead
            ),
            // Operations approve public operational updates (D5), so they read replies too.
            Self::Operations => matches!(
                permission,
                P::MessagesIngest
                    | P::RepliesRead
                    | P::RepliesApprove
                    | P::CasesRead
                    | P::EventsRead
                    | P::AlertsRead
                    | P::StatusRead
                    | P::StatusReport
                    | P::IncidentsRead
                    | P::IncidentsWrite
                    | P::ConnectorsRead
                    | P::ConnectorsManage
                    | P::ReportsRead
                    | P::AlertsManage
            ),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One kind of action. A route needs exactly one; `PersonalRead` shapes answers instead:
/// without it, message text, handles and names come back redacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "messages.ingest")]
    MessagesIngest,
    #[serde(rename = "messages.read")]
    MessagesRead,
    #[serde(rename = "cases.read")]
    CasesRead,
    #[serde(rename = "cases.work")]
    CasesWork,
    #[serde(rename = "replies.read")]
    RepliesRead,
    #[serde(rename = "replies.write")]
    RepliesWrite,
    #[serde(rename = "replies.approve")]
    RepliesApprove,
    #[serde(rename = "agents.read")]
    AgentsRead,
    #[serde(rename = "presence.write")]
    PresenceWrite,
    #[serde(rename = "rules.test")]
    RulesTest,
    #[serde(rename = "customers.read")]
    CustomersRead,
    #[serde(rename = "customers.write")]
    CustomersWrite,
    #[serde(rename = "connectors.read")]
    ConnectorsRead,
    #[serde(rename = "connectors.manage")]
    ConnectorsManage,
    #[serde(rename = "outbox.read")]
    OutboxRead,
    #[serde(rename = "events.read")]
    EventsRead,
    #[serde(rename = "alerts.read")]
    AlertsRead,
    #[serde(rename = "status.read")]
    StatusRead,
    #[serde(rename = "status.report")]
    StatusReport,
    #[serde(rename = "incidents.read")]
    IncidentsRead,
    #[serde(rename = "incidents.write")]
    IncidentsWrite,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "privacy.manage")]
    PrivacyManage,
    #[serde(rename = "keys.manage")]
    KeysManage,
    #[serde(rename = "users.manage")]
    UsersManage,
    #[serde(rename = "personal.read")]
    PersonalRead,
    /// Scoring resolved cases drawn for quality review (D11): leads review their team.
    #[serde(rename = "qa.review")]
    QaReview,
    /// Service, voice-of-the-customer, retention and staffing reports (H1–H6).
    #[serde(rename = "reports.read")]
    ReportsRead,
    /// Alert rules and silences (E4): what pages operations and what is kept quiet.
    #[serde(rename = "alerts.manage")]
    AlertsManage,
    /// Changing queues, agents and skills, SLA policies and calendars, case rules and
    /// escalations at run time (D1–D4, D7).
    #[serde(rename = "workflow.manage")]
    WorkflowManage,
}

impl Permission {
    pub const ALL: [Permission; 30] = [
        Self::MessagesIngest,
        Self::MessagesRead,
        Self::CasesRead,
        Self::CasesWork,
        Self::RepliesRead,
        Self::RepliesWrite,
        Self::RepliesApprove,
        Self::AgentsRead,
        Self::PresenceWrite,
        Self::RulesTest,
        Self::CustomersRead,
        Self::CustomersWrite,
        Self::ConnectorsRead,
        Self::ConnectorsManage,
        Self::OutboxRead,
        Self::EventsRead,
        Self::AlertsRead,
        Self::StatusRead,
        Self::StatusReport,
        Self::IncidentsRead,
        Self::IncidentsWrite,
        Self::AuditRead,
        Self::PrivacyManage,
        Self::KeysManage,
        Self::UsersManage,
        Self::PersonalRead,
        Self::QaReview,
        Self::ReportsRead,
        Self::AlertsManage,
        Self::WorkflowManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessagesIngest => "messages.ingest",
            Self::MessagesRead => "messages.read",
            Self::CasesRead => "cases.read",
            Self::CasesWork => "cases.work",
            Self::RepliesRead => "replies.read",
            Self::RepliesWrite => "replies.write",
            Self::RepliesApprove => "replies.approve",
            Self::AgentsRead => "agents.read",
            Self::PresenceWrite => "presence.write",
            Self::RulesTest => "rules.test",
            Self::CustomersRead => "customers.read",
            Self::CustomersWrite => "customers.write",
            Self::ConnectorsRead => "connectors.read",
            Self::ConnectorsManage => "connectors.manage",
            Self::OutboxRead => "outbox.read",
            Self::EventsRead => "events.read",
            Self::AlertsRead => "alerts.read",
            Self::StatusRead => "status.read",
            Self::StatusReport => "status.report",
            Self::IncidentsRead => "incidents.read",
            Self::IncidentsWrite => "incidents.write",
            Self::AuditRead => "audit.read",
            Self::PrivacyManage => "privacy.manage",
            Self::KeysManage => "keys.manage",
            Self::UsersManage => "users.manage",
            Self::PersonalRead => "personal.read",
            Self::QaReview => "qa.review",
            Self::ReportsRead => "reports.read",
            Self::AlertsManage => "alerts.manage",
            Self::WorkflowManage => "workflow.manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The matrix as a Markdown table, one row per permission, one column per role.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| permission |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!("| `{p}` |"));
        for r in Role::ALL {
            out.push_str(if r.allows(p) { " ✓ |" } else { "   |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Permission::parse("cases.delete"), None);
    }

    #[test]
    fn only_supervisors_and_admins_review_quality_and_change_the_workflow() {
        for p in [Permission::QaReview, Permission::WorkflowManage] {
            let holders: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(p)).collect();
            assert_eq!(holders, vec![Role::Admin, Role::Supervisor], "{p}");
        }
    }

    #[test]
    fn only_admins_manage_keys_users_and_privacy() {
        for p in [
            Permission::KeysManage,
            Permission::UsersManage,
            Permission::PrivacyManage,
        ] {
            let holders: Vec<Role> = Role::ALL.into_iter().filter(|r| r.allows(p)).collect();
            assert_eq!(holders, vec![Role::Admin], "{p}");
        }
    }

    #[test]
    fn analysts_see_no_personal_data_and_auditors_change_nothing() {
        assert!(!Role::Analyst.allows(Permission::PersonalRead));
        assert!(!Role::Operations.allows(Permission::PersonalRead));
        let writes = [
            Permission::MessagesIngest,
            Permission::CasesWork,
            Permission::RepliesWrite,
            Permission::RepliesApprove,
            Permission::CustomersWrite,
            Permission::IncidentsWrite,
            Permission::StatusReport,
            Permission::PresenceWrite,
        ];
        for w in writes {
            assert!(!Role::Auditor.allows(w), "{w}");
            assert!(!Role::Analyst.allows(w), "{w}");
        }
        assert!(Role::Supervisor.allows(Permission::RepliesApprove));
        assert!(Role::Operations.allows(Permission::RepliesApprove));
        assert!(!Role::Agent.allows(Permission::RepliesApprove));
    }

    #[test]
    fn the_matrix_table_has_a_row_per_permission() {
        let table = matrix_markdown();
        assert_eq!(table.lines().count(), 2 + Permission::ALL.len());
        assert!(table.contains("| `audit.read` |"));
    }
}
