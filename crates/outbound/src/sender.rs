//! The one trait a target implements.

use crate::item::Outgoing;
use crate::outcome::Outcome;

/// Turns one outbox item into one call to one outside system and classifies the answer.
///
/// `send` never panics and never returns an error type: everything that can happen,
/// including a payload this sender cannot express, is an [`Outcome`] the dispatcher can
/// act on.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    /// Stable name of the target kind: `pagerduty`, `slack`, `servicenow`, `webhook`,
    /// `meta`, `x`, `linkedin`, `tiktok`, `smtp`.
    fn kind(&self) -> &'static str;

    async fn send(&self, item: &Outgoing) -> Outcome;
}
