//! The pipeline: ingest (group commit, then publish) and the stages that follow it —
//! normalize → enrich → identify → case → route — run as one idempotent step per batch.
//!
//! Every stage is keyed by message id and applied atomically with the message's move to
//! `processed`, so replaying an event (a bus redelivery, a restart sweep) changes nothing.

pub mod casework;
pub mod dispatch;
pub mod events;
pub mod ingest;
pub mod listening;
pub mod notify;
pub mod rollup;
pub mod stages;
pub mod weekly;
pub mod worker;

pub use casework::{CaseWorkflow, CaseworkError, RoutingApplyError, RoutingInForce};
pub use dispatch::{DispatchConfig, Dispatcher};
pub use events::{PipelineEvent, PipelineEvents};
pub use ingest::{IngestError, Ingestor, IngestorConfig};
pub use rollup::Rollups;
pub use worker::{Pipeline, PipelineConfig};

/// The subject on which ingest announces each newly stored message.
pub const SUBJECT_RECEIVED: &str = "messages.received";
/// The consumer group of the case pipeline.
pub const GROUP_PIPELINE: &str = "pipeline";
/// Ids of messages the pipeline processed (newline-separated, one event per batch), on a
/// shared bus, for the one process that listens to the whole stream.
pub const SUBJECT_PROCESSED: &str = "messages.processed";
/// The consumer group of the listening process.
pub const GROUP_LISTENING: &str = "listening";
/// The lease the listening process holds.
pub const LEASE_LISTENING: &str = "listening";
