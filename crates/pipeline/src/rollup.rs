//! The rollup stage (H1–H6): tails the stored facts — case events and processed messages —
//! past their watermarks and folds them into the report rollups, so reports read a few
//! aggregate rows at any history size.
//!
//! Each round folds one batch per rollup in one store transaction that also moves the
//! watermark (`ReportStore::fold_kpis`, `fold_messages`): a crash loses nothing and folds
//! nothing twice, and several workers may run the stage — the watermark row makes them take
//! turns. What the facts mean is decided by `sb_analytics`; this stage only runs it.

use sb_analytics::kpi::KpiFolder;
use sb_analytics::messages::fold_messages;
use sb_domain::Clock;
use sb_store::{Store, StoreError};
use sb_workflow::Workflow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Facts per transaction: large enough to amortise the commit, small enough that the SQLite
/// writer is not held for long.
pub const DEFAULT_BATCH: u32 = 5_000;

#[derive(Clone)]
pub struct Rollups {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    kpi: Arc<KpiFolder>,
    batch: u32,
    weekly: Option<crate::weekly::WeeklyReports>,
    /// The case workflow whose agents' teams the facts count under, followed as operators
    /// change the routing, with the routing version the teams were taken from.
    follow: Option<(Arc<crate::CaseWorkflow>, i64)>,
}

fn teams(wf: &Workflow) -> HashMap<String, String> {
    wf.router
        .agents()
        .filter_map(|a| a.team.clone().map(|t| (a.id.clone(), t)))
        .collect()
}

/// What one round folded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    pub case_events: usize,
    pub messages: usize,
}

impl Rollups {
    /// Teams come from the workflow's agents: a fact counts under its case's agent's team.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, wf: &Workflow) -> Self {
        Self {
            store,
            clock,
            kpi: Arc::new(KpiFolder::new(teams(wf))),
            batch: DEFAULT_BATCH,
            weekly: None,
            follow: None,
        }
    }

    /// Teams from the case workflow's agents as they are now and after each routing change.
    pub fn following(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        flow: Arc<crate::CaseWorkflow>,
    ) -> Self {
        let mut r = Self::new(store, clock, &flow.workflow());
        r.follow = Some((flow.clone(), flow.routing_version()));
        r
    }

    /// Takes the teams again when the routing in force changed since they were taken.
    fn refresh_teams(&mut self) {
        if let Some((flow, seen)) = &mut self.follow {
            let now = flow.routing_version();
            if now != *seen {
                *seen = now;
                self.kpi = Arc::new(KpiFolder::new(teams(&flow.workflow())));
            }
        }
    }

    /// Also writes each finished week's report into `dir` (see `crate::weekly`).
    pub fn with_weekly_reports(mut self, dir: std::path::PathBuf) -> Self {
        self.weekly = Some(crate::weekly::WeeklyReports::new(
            self.store.clone(),
            self.clock.clone(),
            dir,
        ));
        self
    }

    pub fn with_batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Folds one batch of each kind of fact.
    pub async fn fold_once(&self) -> Result<Folded, StoreError> {
        let now = self.clock.now();
        let kpi = self.kpi.clone();
        let case_events = self
            .store
            .fold_kpis(self.batch, now, &move |input| kpi.fold(input))
            .await?;
        let messages = self
            .store
            .fold_messages(self.batch, now, &fold_messages)
            .await?;
        metrics::counter!("switchboard_rollup_facts_total", "rollup" => "kpi")
            .increment(case_events as u64);
        metrics::counter!("switchboard_rollup_facts_total", "rollup" => "messages")
            .increment(messages as u64);
        Ok(Folded {
            case_events,
            messages,
        })
    }

    /// Folds until both rollups have caught up with the stored facts.
    pub async fn catch_up(&self) -> Result<Folded, StoreError> {
        let mut total = Folded::default();
        loop {
            let f = self.fold_once().await?;
            total.case_events += f.case_events;
            total.messages += f.messages;
            if f.case_events < self.batch as usize && f.messages < self.batch as usize {
                return Ok(total);
            }
        }
    }

    /// Folds until no stored fact is left past the watermarks, waiting `pause` between
    /// rounds while some cannot be folded yet (on PostgreSQL, facts written by transactions
    /// that were still running). For tests and benchmarks; gives up after `rounds` rounds.
    pub async fn settle(&self, rounds: u32, pause: Duration) -> Result<Folded, StoreError> {
        let mut total = Folded::default();
        for _ in 0..rounds.max(1) {
            let f = self.catch_up().await?;
            total.case_events += f.case_events;
            total.messages += f.messages;
            if self.store.rollup_lag(1).await? == (0, 0) {
                break;
            }
            tokio::time::sleep(pause).await;
        }
        Ok(total)
    }

    /// Runs for ever: catches up, then waits `period`.
    pub async fn run(mut self, period: Duration) {
        loop {
            self.refresh_teams();
            match self.catch_up().await {
                Ok(f) if f.case_events + f.messages > 0 => {
                    tracing::debug!(
                        case_events = f.case_events,
                        messages = f.messages,
                        "rollups folded"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "folding the rollups failed; will retry"),
            }
            if let Some(weekly) = &self.weekly {
                match weekly.write_due().await {
                    Ok(Some(path)) => {
                        tracing::info!(path = %path.display(), "weekly report written")
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "writing the weekly report failed; will retry")
                    }
                }
            }
            if let Ok((events, messages)) = self.store.rollup_lag(1_000_000).await {
                metrics::gauge!("switchboard_rollup_lag_facts", "rollup" => "kpi")
                    .set(events as f64);
                metrics::gauge!("switchboard_rollup_lag_facts", "rollup" => "messages")
                    .set(messages as f64);
            }
            tokio::time::sleep(period).await;
        }
    }
}
