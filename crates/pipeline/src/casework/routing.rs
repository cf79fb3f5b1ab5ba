//! The routing parts of the workflow — queues, agents and skills, SLA policies and calendars,
//! case rules, escalations — changed at run time: an operator saves a routing document, it is
//! checked by compiling the whole workflow with it, stored as a new version, and put in force
//! here at once and in every other process at its next look (`follow_routing`). Open cases
//! are put under the policies of the new document in the background when their part changed.

use super::{CaseWorkflow, CaseworkError};
use sb_domain::Timestamp;
use sb_store::settings::ROUTING;
use sb_store::{SettingsSave, StoreError};
use sb_workflow::{RoutingError, Workflow, WorkflowConfig};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Where the routing parts come from: the configuration file's `[workflow]` (everything but
/// routing stays from it) and its routing parts as a document.
pub(super) struct Editable {
    base: WorkflowConfig,
    file_document: String,
}

/// The routing document in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingInForce {
    /// The saved version; 0 while the configuration file's routing is in force.
    pub version: i64,
    pub document: String,
    pub saved_by: Option<String>,
    pub saved_at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoutingApplyError {
    #[error("this process's routing cannot be changed at run time")]
    NotEditable,
    #[error(transparent)]
    Invalid(#[from] RoutingError),
    #[error("the routing was saved meanwhile; version {latest} is the latest")]
    Stale { latest: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The parts whose change moves open cases to other SLA targets.
fn sla_parts(document: &str) -> Option<(Option<toml::Value>, Option<toml::Value>)> {
    let table: toml::Table = toml::from_str(document).ok()?;
    Some((table.get("sla").cloned(), table.get("calendars").cloned()))
}

impl CaseWorkflow {
    /// Lets operators change the routing parts at run time: `base` is the configuration
    /// file's `[workflow]`, `file_document` its routing parts as a document
    /// (`sb_workflow::config::routing_document`).
    pub fn editable(mut self, base: WorkflowConfig, file_document: String) -> Self {
        self.routing = Some(Editable {
            base,
            file_document,
        });
        self
    }

    /// The saved routing version in force; 0 while it is the configuration file's.
    pub fn routing_version(&self) -> i64 {
        self.routing_version.load(Ordering::Acquire)
    }

    /// The routing document in force, as its author wrote it.
    pub async fn routing_in_force(&self) -> Result<RoutingInForce, RoutingApplyError> {
        let editable = self
            .routing
            .as_ref()
            .ok_or(RoutingApplyError::NotEditable)?;
        let version = self.routing_version();
        let saved = match self.store.settings_document(ROUTING).await? {
            Some(latest) if latest.version == version => Some(latest),
            // A later save that did not compile here: the one in force is further back.
            Some(_) => self
                .store
                .settings_history(ROUTING, u32::MAX)
                .await?
                .into_iter()
                .find(|d| d.version == version),
            None => None,
        };
        if version > 0
            && let Some(doc) = saved
        {
            return Ok(RoutingInForce {
                version,
                document: doc.document,
                saved_by: Some(doc.saved_by),
                saved_at: Some(doc.saved_at),
            });
        }
        Ok(RoutingInForce {
            version: 0,
            document: editable.file_document.clone(),
            saved_by: None,
            saved_at: None,
        })
    }

    /// The workflow `document` would make, without saving anything.
    pub fn check_routing(&self, document: &str) -> Result<Workflow, RoutingApplyError> {
        let editable = self
            .routing
            .as_ref()
            .ok_or(RoutingApplyError::NotEditable)?;
        Ok(editable.base.compile_with_routing(document)?)
    }

    /// Checks and saves `document` as the version after `base`, and puts it in force in this
    /// process; answers the new version. When its SLA policies or calendars differ from the
    /// document it replaces, open cases are re-evaluated in the background.
    pub async fn save_routing(
        self: &Arc<Self>,
        base: i64,
        document: &str,
        by: &str,
    ) -> Result<i64, RoutingApplyError> {
        self.check_routing(document)?;
        let before = match self.store.settings_document(ROUTING).await? {
            Some(d) if d.version == base => d.document,
            _ => self.routing_in_force().await?.document,
        };
        let version = match self
            .store
            .save_settings_document(ROUTING, base, document, by, self.clock.now())
            .await?
        {
            SettingsSave::Saved { version } => version,
            SettingsSave::Stale { latest } => return Err(RoutingApplyError::Stale { latest }),
        };
        match self.reload_routing().await {
            Ok(_) => {}
            Err(CaseworkError::Store(e)) => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "putting the saved routing in force failed"),
        }
        if sla_parts(&before) != sla_parts(document) {
            let flow = self.clone();
            tokio::spawn(async move {
                match flow.recompute_policies().await {
                    Ok(n) => tracing::info!(cases = n, "SLA policies re-evaluated on open cases"),
                    Err(e) => tracing::error!(error = %e, "re-evaluating SLA policies failed"),
                }
            });
        }
        Ok(version)
    }

    /// Puts the latest saved routing document in force if it is not yet; answers whether the
    /// workflow changed. A saved document that no longer compiles (say, after an upgrade
    /// that checks more) is reported once and the workflow in force stays.
    pub async fn reload_routing(&self) -> Result<bool, CaseworkError> {
        let Some(editable) = &self.routing else {
            return Ok(false);
        };
        let latest = self.store.settings_version(ROUTING).await?;
        if latest == self.routing_seen.load(Ordering::Acquire) {
            return Ok(false);
        }
        let Some(doc) = self.store.settings_document(ROUTING).await? else {
            return Ok(false);
        };
        self.routing_seen.store(doc.version, Ordering::Release);
        let wf = match editable.base.compile_with_routing(&doc.document) {
            Ok(wf) => wf,
            Err(e) => {
                tracing::error!(
                    version = doc.version,
                    error = %e,
                    "the saved routing does not compile; the routing in force stays"
                );
                return Ok(false);
            }
        };
        self.learn_queues(&wf).await?;
        *self.wf.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(wf);
        self.routing_version.store(doc.version, Ordering::Release);
        tracing::info!(
            version = doc.version,
            saved_by = %doc.saved_by,
            "routing version {} in force",
            doc.version
        );
        Ok(true)
    }

    /// Looks for a newly saved routing document every `period`, for as long as it runs.
    pub async fn follow_routing(self: Arc<Self>, period: Duration) {
        loop {
            tokio::time::sleep(period).await;
            if let Err(e) = self.reload_routing().await {
                tracing::warn!(error = %e, "looking for saved routing failed; will retry");
            }
        }
    }
}
