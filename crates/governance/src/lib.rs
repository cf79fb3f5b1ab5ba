//! Switchboard's governance rules, kept pure: the tamper-evident audit chain, signed audit
//! exports for a regulator, secrets sealed at rest with key rotation, and rate limits.
//!
//! This crate never touches storage or HTTP. The store persists what these rules produce and
//! the web layer applies them to requests, so every rule here can be tested in isolation.

pub mod audit;
pub mod personal;
pub mod ratelimit;
pub mod secrets;
pub mod signing;

pub use audit::{AuditEntry, AuditRecord, BreakReason, ChainBreak, GENESIS, Verifier};
pub use ratelimit::RateLimiter;
pub use secrets::{KeyRing, SecretError, is_sealed};
pub use signing::{ExportSigner, SigningError, verify_export, write_signed_export};
