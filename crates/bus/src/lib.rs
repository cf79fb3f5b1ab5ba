//! The event bus between pipeline stages. `Bus` is what every stage talks to; the in-process
//! implementation here serves the embedded default, and a JetStream implementation slots in
//! behind the same trait for scaled deployments.
//!
//! Contract, for every implementation:
//! - `publish` returns once the bus has accepted the event (a durable bus: once persisted);
//! - members of one consumer group share a subject's events, each event going to one member;
//! - an event that is not acked may be delivered again, so consumers must be idempotent;
//! - events with the same key are delivered in publish order.
//!
//! The bus never decides anything: it carries ids and small payloads.

mod jetstream;
mod memory;

pub use jetstream::JetStreamBus;
pub use memory::MemoryBus;

use async_trait::async_trait;
use bytes::Bytes;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus is closed")]
    Closed,
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    #[error("unsupported bus URL `{0}`")]
    UnsupportedUrl(String),
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Hands an event to the bus; waits while the bus applies backpressure.
    async fn publish(&self, subject: &str, key: &str, payload: Bytes) -> Result<(), BusError>;

    /// Joins consumer group `group` on `subject`.
    async fn subscribe(
        &self,
        subject: &str,
        group: &str,
    ) -> Result<Box<dyn Subscription>, BusError>;

    /// Whether other processes publish and consume on this bus too (JetStream), rather than
    /// it living inside this process.
    fn shared(&self) -> bool {
        false
    }
}

#[async_trait]
pub trait Subscription: Send {
    /// Waits up to `wait` for a first event, then returns it with any others already waiting,
    /// up to `max`. An empty batch means nothing arrived in time.
    async fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError>;
}

/// Acknowledgement handle of one delivered event.
#[async_trait]
pub trait Acker: Send + Sync {
    async fn ack(&self) -> Result<(), BusError>;
    /// Asks for redelivery after `delay`.
    async fn nak(&self, delay: Duration) -> Result<(), BusError>;
}

pub struct Delivery {
    pub subject: String,
    pub key: String,
    pub payload: Bytes,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub fn new(subject: String, key: String, payload: Bytes, acker: Box<dyn Acker>) -> Self {
        Self {
            subject,
            key,
            payload,
            acker,
        }
    }

    pub async fn ack(self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    pub async fn nak(self, delay: Duration) -> Result<(), BusError> {
        self.acker.nak(delay).await
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject)
            .field("key", &self.key)
            .finish()
    }
}

/// Opens the bus named by a URL: `memory://` (default) or `nats://HOST:PORT[?stream=NAME]`
/// (JetStream; the stream defaults to `SWITCHBOARD`).
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Bus>, BusError> {
    match url {
        "" | "memory://" | "memory" => Ok(std::sync::Arc::new(MemoryBus::new(
            memory::DEFAULT_CAPACITY,
        ))),
        u if u.starts_with("nats://") => {
            // `nats://HOST:PORT?stream=NAME` keeps installations sharing a server apart.
            let (server, stream) = match u.split_once("?stream=") {
                Some((server, name)) if !name.is_empty() => (server, name),
                _ => (u, jetstream::STREAM),
            };
            Ok(std::sync::Arc::new(
                JetStreamBus::connect_with(server, stream, jetstream::ACK_WAIT).await?,
            ))
        }
        other => Err(BusError::UnsupportedUrl(other.to_owned())),
    }
}
