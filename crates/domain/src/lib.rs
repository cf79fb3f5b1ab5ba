//! The Switchboard domain: what a message, a customer, a case and a queue are, the pure
//! decisions made about them (how a message threads into a case, where a case is routed),
//! the injected `Clock`, and the product-wide error codes.
//!
//! This crate never does IO: the store, the bus and the web layer call into it.

pub mod access;
pub mod alert;
pub mod case;
pub mod clock;
pub mod customer;
pub mod error;
pub mod ids;
pub mod incident;
pub mod ingest;
pub mod message;
pub mod outbox;
pub mod platform;
pub mod status;
pub mod time;
pub mod work;

pub use access::{Permission, Role};
pub use alert::{Alert, AlertKind};
pub use case::{Case, CasePriority, CaseStatus, Queue};
pub use clock::{Clock, ManualClock, SystemClock};
pub use customer::{Customer, Identity, Tier};
pub use error::{ErrorCode, FieldError};
pub use ids::{
    AlertId, CaseId, CustomerId, DisruptionId, IncidentId, MessageId, OutboxId, QueueId,
};
pub use incident::{
    Incident, IncidentError, IncidentStatus, Severity, TimelineEntry, TimelineKind,
};
pub use ingest::{Author, NewMessage};
pub use message::{
    Enrichment, Message, MessageKind, MessageRevision, PiiMark, Revised, Revision, RevisionKind,
    SentimentLabel, Stage, Visibility, WatchHit,
};
pub use outbox::{
    AfterAttempt, DeliveryAttempt, NewOutboxItem, OutboxItem, OutboxStatus, TargetState,
};
pub use platform::Platform;
pub use status::{FactKind, OpsFact};
pub use time::Timestamp;
pub use work::{CaseChange, CaseEvent, CaseWork, CaseWorkItem, NewCaseEvent};
