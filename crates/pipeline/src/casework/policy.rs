//! Keeping each open case under the SLA policy that matches it (D3): after its priority or
//! tags change, and after the configuration changes a policy. Clocks keep their elapsed
//! business time and take the new targets; the move is recorded as an `sla.policy` event with
//! its reason. The recompute runs one case at a time, so ingest keeps its turn at the database.

use super::{CaseWorkflow, CaseworkError, facts};
use sb_domain::{CaseId, CaseStatus};
use sb_store::{CaseFilter, Page};
use std::time::Duration;

/// Why a case's policy was looked at again, as the history records it.
pub const REASON_CONFIGURATION: &str = "configuration changed";
pub const REASON_CASE_CHANGED: &str = "case changed";

/// Cases read per page while recomputing.
const PAGE: u32 = 200;

impl CaseWorkflow {
    /// Puts the case under the policy that matches it now, judged on its first message, its
    /// current priority and tags, and its customer.
    pub async fn rematch_sla(
        &self,
        case_id: &CaseId,
        actor: &str,
        reason: &str,
    ) -> Result<(), CaseworkError> {
        let messages = self.store.case_messages(case_id).await?;
        let Some(first) = messages.first() else {
            return Ok(());
        };
        let Some(work) = self.store.case_work(case_id).await? else {
            return Err(CaseworkError::NotFound(case_id.clone()));
        };
        let customer = self.store.customer(&work.case.customer_id).await?;
        let now = self.clock.now();
        self.update(case_id, actor, false, |edit| {
            let facts = facts::sla_facts(edit, first, customer.as_ref());
            edit.rematch_sla(&facts, now, reason);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Re-evaluates every open case after a configuration change; answers how many cases were
    /// looked at. Cases already under their matching, unchanged policy are read but not written.
    pub async fn recompute_policies(&self) -> Result<u64, CaseworkError> {
        let mut seen = 0;
        for status in [
            CaseStatus::New,
            CaseStatus::Open,
            CaseStatus::Escalated,
            CaseStatus::Pending,
            CaseStatus::OnHold,
        ] {
            let filter = CaseFilter {
                status: Some(status),
                ..CaseFilter::default()
            };
            let mut page = Page {
                before: None,
                limit: PAGE,
            };
            loop {
                let cases = self.store.list_cases(&filter, &page).await?;
                let full = cases.len() == PAGE as usize;
                page.before = cases.last().map(|c| c.id.to_string());
                for case in cases {
                    seen += 1;
                    match self
                        .rematch_sla(&case.id, "system", REASON_CONFIGURATION)
                        .await
                    {
                        Ok(()) | Err(CaseworkError::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                    tokio::task::yield_now().await;
                }
                if !full {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(seen)
    }
}
