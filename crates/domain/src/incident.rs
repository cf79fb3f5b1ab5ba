//! Incidents (E5): what the team opens when alerts mean something is really wrong — a
//! status, an owner, the alerts and cases that belong to it, a timeline of everything that
//! happened, and a debrief once it is over.
//!
//! Lifecycle (any other move is refused with `incident_invalid_transition`):
//!
//! | from           | may move to                                               |
//! |----------------|-----------------------------------------------------------|
//! | `open`         | `acknowledged`, `mitigated`, `resolved`                   |
//! | `acknowledged` | `mitigated`, `resolved`                                   |
//! | `mitigated`    | `resolved`, `acknowledged` (the mitigation did not hold) |
//! | `resolved`     | `closed`, `open` (reopened)                               |
//! | `closed`       | nothing: a closed incident is final                       |
//!
//! Moving to the status an incident already has changes nothing and is not an error, so a
//! retried request is harmless. `acknowledged_at` is set by the first move out of `open` and
//! `closed_at` by closing, each once; `resolved_at` is the latest resolution (a reopened
//! incident is not resolved, and the timeline keeps the earlier resolution). No change may be
//! dated before the incident was opened, and nothing changes a closed incident.
//!
//! Pure: time and actor are passed in; the caller stores the result and writes the audit.

mod debrief;

use crate::{Alert, AlertKind, IncidentId, Timestamp};
use serde::{Deserialize, Serialize};

/// How bad it is; the same four words as an alert rule's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => Self::Info,
            "warning" => Self::Warning,
            "error" => Self::Error,
            "critical" => Self::Critical,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Mitigated,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Mitigated => "mitigated",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "acknowledged" => Self::Acknowledged,
            "mitigated" => Self::Mitigated,
            "resolved" => Self::Resolved,
            "closed" => Self::Closed,
            _ => return None,
        })
    }

    /// Whether the lifecycle allows moving from `self` to `to` (see the module docs).
    pub fn can_become(self, to: Self) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, to),
            (Open, Acknowledged | Mitigated | Resolved)
                | (Acknowledged, Mitigated | Resolved)
                | (Mitigated, Resolved | Acknowledged)
                | (Resolved, Closed | Open)
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Opened,
    AlertLinked,
    CaseLinked,
    StatusChanged,
    OwnerChanged,
    Note,
    /// A message went out about the incident (status page, customers, stakeholders).
    MessageSent,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::AlertLinked => "alert_linked",
            Self::CaseLinked => "case_linked",
            Self::StatusChanged => "status_changed",
            Self::OwnerChanged => "owner_changed",
            Self::Note => "note",
            Self::MessageSent => "message_sent",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub actor: String,
    pub kind: TimelineKind,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("an incident cannot move from {} to {}", .from.as_str(), .to.as_str())]
    InvalidTransition {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    #[error("the incident is closed and can no longer change")]
    Closed,
    #[error("a change cannot be dated before the incident was opened")]
    BeforeOpened,
    #[error("the debrief is available once the incident is resolved")]
    NotResolved,
}

impl IncidentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "incident_invalid_transition",
            Self::Closed => "incident_closed",
            Self::BeforeOpened => "incident_before_opened",
            Self::NotResolved => "incident_not_resolved",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: String,
    pub status: IncidentStatus,
    pub severity: Severity,
    pub owner: Option<String>,
    pub opened_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Alert ids or alert-rule dedup keys, in the order they were linked.
    pub alert_ids: Vec<String>,
    pub case_ids: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Debrief: what happened, in a few sentences.
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    /// Follow-up actions agreed in the debrief.
    pub actions: Vec<String>,
}

impl Incident {
    pub fn open(title: &str, severity: Severity, actor: &str, at: Timestamp) -> Self {
        let title = title.trim();
        Self {
            id: IncidentId::generate(),
            title: title.to_owned(),
            status: IncidentStatus::Open,
            severity,
            owner: None,
            opened_at: at,
            acknowledged_at: None,
            resolved_at: None,
            closed_at: None,
            alert_ids: Vec::new(),
            case_ids: Vec::new(),
            timeline: vec![TimelineEntry {
                at,
                actor: actor.to_owned(),
                kind: TimelineKind::Opened,
                text: format!("opened at {} severity: {title}", severity.as_str()),
            }],
            summary: None,
            root_cause: None,
            actions: Vec::new(),
        }
    }

    /// Opens an incident for a listening alert, titled after it and with it linked.
    pub fn from_alert(alert: &Alert, severity: Severity, actor: &str, at: Timestamp) -> Self {
        let what = match alert.kind {
            AlertKind::Spike => "Volume spike",
            AlertKind::SentimentDrop => "Sentiment drop",
            AlertKind::Rule => alert.rule_id.as_deref().unwrap_or("Alert rule"),
            AlertKind::ConnectorPaused => "Connector paused",
            AlertKind::ChurnRisk => "Churn risk",
            AlertKind::CapacityShortfall => "Capacity shortfall",
            AlertKind::EmergingTerm => "Emerging term",
            AlertKind::ViralComplaint => "Viral complaint",
        };
        let title = match &alert.summary {
            Some(s) if alert.kind == AlertKind::Rule => s.clone(),
            _ => format!("{what} on {}", alert.series),
        };
        let mut incident = Self::open(&title, severity, actor, at);
        incident.push(
            at,
            actor,
            TimelineKind::AlertLinked,
            format!("alert {} linked", alert.id),
        );
        incident.alert_ids.push(alert.id.to_string());
        incident
    }

    /// Links an alert; `Ok(false)` if it was already linked (nothing is added).
    pub fn link_alert(
        &mut self,
        alert_id: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, IncidentError> {
        self.check_change(at)?;
        if self.alert_ids.iter().any(|a| a == alert_id) {
            return Ok(false);
        }
        self.alert_ids.push(alert_id.to_owned());
        self.push(
            at,
            actor,
            TimelineKind::AlertLinked,
            format!("alert {alert_id} linked"),
        );
        Ok(true)
    }

    /// Links a case; `Ok(false)` if it was already linked (nothing is added).
    pub fn link_case(
        &mut self,
        case_id: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, IncidentError> {
        self.check_change(at)?;
        if self.case_ids.iter().any(|c| c == case_id) {
            return Ok(false);
        }
        self.case_ids.push(case_id.to_owned());
        self.push(
            at,
            actor,
            TimelineKind::CaseLinked,
            format!("case {case_id} linked"),
        );
        Ok(true)
    }

    /// Moves to `to` if the lifecycle allows it (see the module docs).
    pub fn transition(
        &mut self,
        to: IncidentStatus,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), IncidentError> {
        self.check_change(at)?;
        let from = self.status;
        if from == to {
            return Ok(());
        }
        if !from.can_become(to) {
            return Err(IncidentError::InvalidTransition { from, to });
        }
        if from == IncidentStatus::Open && to != IncidentStatus::Open {
            self.acknowledged_at.get_or_insert(at);
        }
        match to {
            IncidentStatus::Resolved => self.resolved_at = Some(at),
            IncidentStatus::Open => self.resolved_at = None,
            IncidentStatus::Closed => {
                self.closed_at.get_or_insert(at);
            }
            IncidentStatus::Acknowledged | IncidentStatus::Mitigated => {}
        }
        self.status = to;
        let text = if to == IncidentStatus::Open {
            format!("reopened (was {})", from.as_str())
        } else {
            format!("{} → {}", from.as_str(), to.as_str())
        };
        self.push(at, actor, TimelineKind::StatusChanged, text);
        Ok(())
    }

    /// Sets or clears the owner; the same owner again changes nothing.
    pub fn assign(
        &mut self,
        owner: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), IncidentError> {
        self.check_change(at)?;
        if self.owner.as_deref() == owner {
            return Ok(());
        }
        let text = match owner {
            Some(o) => format!("owner set to {o}"),
            None => "owner cleared".to_owned(),
        };
        self.owner = owner.map(str::to_owned);
        self.push(at, actor, TimelineKind::OwnerChanged, text);
        Ok(())
    }

    pub fn note(&mut self, text: &str, actor: &str, at: Timestamp) -> Result<(), IncidentError> {
        self.check_change(at)?;
        self.push(at, actor, TimelineKind::Note, text.to_owned());
        Ok(())
    }

    /// Records a message sent about the incident (to a status page, customers, a channel).
    pub fn message_sent(
        &mut self,
        text: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), IncidentError> {
        self.check_change(at)?;
        self.push(at, actor, TimelineKind::MessageSent, text.to_owned());
        Ok(())
    }

    /// Writes the debrief's own text; allowed until the incident is closed.
    pub fn set_debrief(
        &mut self,
        summary: &str,
        root_cause: &str,
        actions: Vec<String>,
    ) -> Result<(), IncidentError> {
        if self.status == IncidentStatus::Closed {
            return Err(IncidentError::Closed);
        }
        self.summary = Some(summary.to_owned());
        self.root_cause = Some(root_cause.to_owned());
        self.actions = actions;
        Ok(())
    }

    /// Opened until first acknowledged (or moved on), in milliseconds.
    pub fn time_to_acknowledge_ms(&self) -> Option<i64> {
        Some(self.acknowledged_at?.millis() - self.opened_at.millis())
    }

    /// Opened until (latest) resolved, in milliseconds.
    pub fn time_to_resolve_ms(&self) -> Option<i64> {
        Some(self.resolved_at?.millis() - self.opened_at.millis())
    }

    /// The incident's whole life in milliseconds: opened until closed, or until resolved
    /// while not yet closed.
    pub fn duration_ms(&self) -> Option<i64> {
        let end = self.closed_at.or(self.resolved_at)?;
        Some(end.millis() - self.opened_at.millis())
    }

    fn check_change(&self, at: Timestamp) -> Result<(), IncidentError> {
        if self.status == IncidentStatus::Closed {
            return Err(IncidentError::Closed);
        }
        if at < self.opened_at {
            return Err(IncidentError::BeforeOpened);
        }
        Ok(())
    }

    fn push(&mut self, at: Timestamp, actor: &str, kind: TimelineKind, text: String) {
        self.timeline.push(TimelineEntry {
            at,
            actor: actor.to_owned(),
            kind,
            text,
        });
    }
}

#[cfg(test)]
mod tests;
