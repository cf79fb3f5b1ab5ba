//! The case workflow's decisions (D1–D12, C2, B8, G7), as pure functions and state machines:
//! given configuration, facts about a case and the time, they say what should happen. They
//! never read a clock, a database or the network; the pipeline and the API load the facts,
//! ask here, and store what comes back.

pub mod approvals;
pub mod automation;
pub mod calendar;
pub mod config;
pub mod disruption;
pub mod escalation;
pub mod experiments;
pub mod feedback;
pub mod guardrails;
pub mod identity;
pub mod routing;
pub mod rules;
pub mod sla;
pub mod suggest;
pub mod templates;

pub use config::{RoutingConfig, RoutingError, Workflow, WorkflowConfig, WorkflowError};
