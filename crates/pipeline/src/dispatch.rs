//! The outbox dispatcher: leases due items from the store, hands each to its target's sender,
//! logs the attempt and moves the item on — delivered, retried later, dead, or held while its
//! target waits for new credentials. Any number of processes may run it: leases keep them
//! from sending the same item at once.

use crate::events::{PipelineEvent, PipelineEvents};
use rand::Rng as _;
use sb_domain::{AfterAttempt, Clock, DeliveryAttempt, OutboxItem, TargetState, Timestamp};
use sb_outbound::{Outcome, Outgoing, Payload, Senders, backoff};
use sb_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Status of a target whose credentials were refused.
pub const REAUTHORIZATION_REQUIRED: &str = "reauthorization_required";

#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// Items leased per round.
    pub batch: u32,
    /// How long a lease lasts: longer than any one send can take.
    pub lease: Duration,
    /// Pause between rounds that found nothing to do.
    pub idle: Duration,
    /// First retry delay; doubles per attempt up to `max_backoff`; each wait is jittered
    /// between half its ceiling and the ceiling.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 32,
            lease: Duration::from_secs(60),
            idle: Duration::from_millis(250),
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(15 * 60),
        }
    }
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    senders: Arc<Senders>,
    clock: Arc<dyn Clock>,
    events: PipelineEvents,
    cfg: DispatchConfig,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        senders: Arc<Senders>,
        clock: Arc<dyn Clock>,
        events: PipelineEvents,
        cfg: DispatchConfig,
    ) -> Self {
        Self {
            store,
            senders,
            clock,
            events,
            cfg,
        }
    }

    /// Runs until the task is dropped. At start, targets paused for credentials are given
    /// another chance: a restart usually follows a token being replaced in configuration.
    pub async fn run(self) {
        if let Err(e) = self.resume_paused().await {
            tracing::warn!(error = %e, "could not read paused outbox targets");
        }
        loop {
            match self.round().await {
                Ok(0) => tokio::time::sleep(self.cfg.idle).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "outbox round failed; retrying");
                    tokio::time::sleep(self.cfg.idle * 4).await;
                }
            }
        }
    }

    async fn resume_paused(&self) -> sb_store::Result<()> {
        let now = self.clock.now();
        for t in self.store.target_states().await? {
            if t.status != "active" && self.senders.get(&t.target).is_some() {
                self.store
                    .set_target_state(&TargetState {
                        status: "active".into(),
                        since: now,
                        reason: Some("resumed at start-up".into()),
                        ..t
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// One round: lease, send concurrently, record. Answers how many items it handled.
    pub async fn round(&self) -> sb_store::Result<usize> {
        let lease_ms = i64::try_from(self.cfg.lease.as_millis()).unwrap_or(i64::MAX);
        let items = self
            .store
            .claim_outbox(self.clock.now(), self.cfg.batch, lease_ms)
            .await?;
        let n = items.len();
        let results =
            futures_util::future::join_all(items.into_iter().map(|item| self.attempt(item))).await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    async fn attempt(&self, item: OutboxItem) -> sb_store::Result<()> {
        let started = Instant::now();
        let outcome = self.send(&item).await;
        let now = self.clock.now();
        let (error, status) = match &outcome {
            Outcome::Delivered { status, .. } => (None, Some(*status)),
            Outcome::Retry { status, error, .. }
            | Outcome::Permanent { status, error }
            | Outcome::Reauthorize { status, error } => (Some(error.clone()), *status),
        };
        let log = DeliveryAttempt {
            attempt: item.attempts,
            at: now,
            outcome: outcome.code().to_owned(),
            status_code: status,
            error,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let after = match &outcome {
            Outcome::Delivered { remote_id, .. } => AfterAttempt::Delivered {
                remote_id: remote_id.clone(),
            },
            Outcome::Retry { after, .. } => {
                let wait = after.unwrap_or_else(|| {
                    backoff(
                        item.attempts,
                        self.cfg.base_backoff,
                        self.cfg.max_backoff,
                        rand::rng().random::<f64>(),
                    )
                });
                AfterAttempt::RetryAt(later(now, wait))
            }
            Outcome::Permanent { .. } => AfterAttempt::Dead,
            // The item waits, whole, for the target to be resumed.
            Outcome::Reauthorize { .. } => AfterAttempt::RetryAt(now),
        };
        if let Outcome::Reauthorize { error, .. } = &outcome {
            self.pause(&item.target, error, now).await?;
        }
        metrics::counter!("switchboard_outbox_attempts_total", "target" => item.target.clone(), "outcome" => outcome.code())
            .increment(1);
        self.store.finish_attempt(&item.id, &log, &after).await?;
        if matches!(after, AfterAttempt::Dead) {
            tracing::warn!(item = %item.id, target = %item.target, error = ?log.error, "outbox item refused for good; kept as a dead letter");
        }
        Ok(())
    }

    async fn send(&self, item: &OutboxItem) -> Outcome {
        let payload: Payload = match serde_json::from_value(item.payload.clone()) {
            Ok(p) => p,
            Err(e) => return Outcome::unsupported(format!("unreadable payload: {e}")),
        };
        let Some(sender) = self.senders.get(&item.target) else {
            // Not configured on this process: pause rather than drop, so configuring the
            // target and restarting delivers what waited.
            return Outcome::Reauthorize {
                status: None,
                error: format!("target `{}` is not configured", item.target),
            };
        };
        sender
            .send(&Outgoing {
                id: item.id.to_string(),
                attempt: item.attempts,
                payload,
            })
            .await
    }

    async fn pause(&self, target: &str, reason: &str, now: Timestamp) -> sb_store::Result<()> {
        self.store
            .set_target_state(&TargetState {
                target: target.to_owned(),
                status: REAUTHORIZATION_REQUIRED.into(),
                since: now,
                reason: Some(reason.to_owned()),
            })
            .await?;
        tracing::error!(
            target,
            reason,
            "outbox target paused: reauthorization required"
        );
        metrics::counter!("switchboard_connector_reauthorization_total", "target" => target.to_owned())
            .increment(1);
        // An alert, so the pause shows where operators look for trouble.
        let mut alert = sb_domain::Alert::detected(
            &format!("connector:{target}"),
            sb_domain::AlertKind::ConnectorPaused,
            1.0,
            now,
            0,
            None,
            now,
        );
        alert.severity = Some("critical".into());
        alert.summary = Some(format!(
            "Sending to `{target}` is paused: reauthorization required ({reason})"
        ));
        if self.store.insert_alert(&alert).await? {
            self.events.emit(PipelineEvent::AlertRaised {
                alert_id: alert.id.to_string(),
                series: alert.series.clone(),
                kind: alert.kind.as_str().to_owned(),
                score: alert.score,
            });
        }
        self.events.emit(PipelineEvent::ConnectorPaused {
            target: target.to_owned(),
            reason: reason.to_owned(),
        });
        Ok(())
    }
}

fn later(now: Timestamp, wait: Duration) -> Timestamp {
    now.plus_millis(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2))
}
