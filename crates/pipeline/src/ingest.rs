//! Ingest: append each accepted message durably, then acknowledge, then announce it.
//!
//! Requests hand their message to a single committer task, which writes whatever has queued
//! up in one transaction (group commit) and only then answers each caller. Nothing is
//! acknowledged before its transaction has committed.

use crate::SUBJECT_RECEIVED;
use bytes::Bytes;
use sb_bus::Bus;
use sb_domain::{Clock, Identity, MessageId, NewMessage};
use sb_store::{Appended, MessageRecord, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("ingest queue is full")]
    Overloaded,
    #[error("storage failed: {0}")]
    Store(String),
    #[error("ingest is shutting down")]
    Closed,
}

#[derive(Clone, Debug)]
pub struct IngestorConfig {
    /// Most messages written in one transaction.
    pub max_batch: usize,
    /// Messages waiting for the committer before new ones are turned away.
    pub queue_capacity: usize,
    /// How long a request waits for room in the queue before it is told to retry.
    pub enqueue_timeout: Duration,
}

impl Default for IngestorConfig {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            queue_capacity: 16_384,
            enqueue_timeout: Duration::from_secs(2),
        }
    }
}

struct Job {
    record: MessageRecord,
    key: String,
    reply: oneshot::Sender<Result<Appended, IngestError>>,
}

#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    clock: Arc<dyn Clock>,
    enqueue_timeout: Duration,
}

impl Ingestor {
    /// Starts the committer task.
    pub fn start(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        clock: Arc<dyn Clock>,
        cfg: IngestorConfig,
    ) -> Self {
        let (tx, rx) = mpsc::channel(cfg.queue_capacity.max(1));
        // Announcing is off the commit path: the next group commit need not wait for the bus.
        // One publisher keeps announcements in commit order.
        let (announce, pending) = mpsc::channel(ANNOUNCE_BACKLOG);
        tokio::spawn(announce_loop(pending, bus));
        tokio::spawn(commit_loop(rx, store, announce, cfg.max_batch.max(1)));
        Self {
            tx,
            clock,
            enqueue_timeout: cfg.enqueue_timeout,
        }
    }

    /// Stores one message; returns once it is committed (or found to be a duplicate).
    pub async fn submit(&self, message: NewMessage) -> Result<Appended, IngestError> {
        let key = bus_key(&Identity::key(message.source, &message.author.handle));
        let record = MessageRecord {
            id: MessageId::generate(),
            received_at: self.clock.now(),
            message,
        };
        let (reply, answer) = oneshot::channel();
        let job = Job { record, key, reply };
        match tokio::time::timeout(self.enqueue_timeout, self.tx.send(job)).await {
            Err(_) => {
                metrics::counter!("switchboard_ingest_rejected_total", "reason" => "overloaded")
                    .increment(1);
                return Err(IngestError::Overloaded);
            }
            Ok(Err(_)) => return Err(IngestError::Closed),
            Ok(Ok(())) => {}
        }
        answer.await.map_err(|_| IngestError::Closed)?
    }
}

/// The key a stored message is announced under: the same for every message of one author,
/// so their order is kept, but one of 65,536 buckets rather than their handle, which would
/// otherwise be kept in the bus's stream, outside the store and its regions.
fn bus_key(identity: &str) -> String {
    // FNV-1a: stable across processes and releases, as ordering across workers needs.
    let hash = identity.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:04x}", hash & 0xffff)
}

/// Committed batches waiting to be announced on the bus.
const ANNOUNCE_BACKLOG: usize = 64;

async fn announce_loop(mut pending: mpsc::Receiver<Vec<(MessageId, String)>>, bus: Arc<dyn Bus>) {
    while let Some(batch) = pending.recv().await {
        for (id, key) in batch {
            // A lost announcement is not lost work: the pipeline's sweep finds every stored
            // message that is still unprocessed.
            if let Err(e) = bus
                .publish(SUBJECT_RECEIVED, &key, Bytes::from(id.to_string()))
                .await
            {
                tracing::warn!(error = %e, "could not announce a stored message; the sweep will pick it up");
                metrics::counter!("switchboard_bus_publish_failures_total").increment(1);
            }
        }
    }
}

async fn commit_loop(
    mut rx: mpsc::Receiver<Job>,
    store: Arc<dyn Store>,
    announce: mpsc::Sender<Vec<(MessageId, String)>>,
    max_batch: usize,
) {
    let mut jobs = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (records, waiting): (Vec<MessageRecord>, Vec<_>) =
            jobs.drain(..).map(|j| (j.record, (j.reply, j.key))).unzip();
        let started = Instant::now();
        let result = store.append_messages(&records).await;
        metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "append")
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!("switchboard_ingest_batch_size").record(records.len() as f64);
        drop(records);
        match result {
            Ok(outcomes) => {
                let mut fresh = Vec::new();
                let mut dupes = 0u64;
                for ((reply, key), outcome) in waiting.into_iter().zip(outcomes) {
                    if outcome.duplicate {
                        dupes += 1;
                    } else {
                        fresh.push((outcome.id.clone(), key));
                    }
                    let _ = reply.send(Ok(outcome));
                }
                metrics::counter!("switchboard_ingest_messages_total", "result" => "accepted")
                    .increment(fresh.len() as u64);
                metrics::counter!("switchboard_ingest_messages_total", "result" => "duplicate")
                    .increment(dupes);
                // Waits only when the bus has fallen `ANNOUNCE_BACKLOG` batches behind.
                if !fresh.is_empty() && announce.send(fresh).await.is_err() {
                    tracing::warn!("the announcer stopped; the sweep will pick stored messages up");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = waiting.len(), "append failed; nothing in the batch was acknowledged");
                metrics::counter!("switchboard_ingest_rejected_total", "reason" => "store")
                    .increment(waiting.len() as u64);
                for (reply, _) in waiting {
                    let _ = reply.send(Err(IngestError::Store(e.to_string())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bus_key;

    #[test]
    fn bus_keys_keep_an_author_together_without_naming_them() {
        let key = bus_key("x:@mariana_lisboa");
        assert_eq!(key, bus_key("x:@mariana_lisboa"));
        assert_eq!(key.len(), 4);
        assert!(!key.contains("mariana"));
        let spread: std::collections::HashSet<String> =
            (0..1000).map(|i| bus_key(&format!("x:@user{i}"))).collect();
        assert!(
            spread.len() > 950,
            "authors spread over buckets: {}",
            spread.len()
        );
    }
}
