//! Switchboard outbound senders: one item of the durable outbox becomes one call to an ops
//! tool (PagerDuty, Slack, ServiceNow, a signed webhook), a platform (Meta, X, LinkedIn,
//! TikTok) or a mail server (SMTP), and the answer becomes one [`Outcome`]: delivered,
//! retry, permanent or reauthorize.
//!
//! This crate never touches a database, never sleeps and never loops: the outbox, its
//! dispatcher and the retry schedule live elsewhere and call [`Sender::send`] once per
//! attempt. [`backoff`] and [`retry_after`] are here so that schedule reads the targets'
//! hints the same way everywhere.

mod http;
mod item;
mod outcome;
mod sender;

pub mod linkedin;
pub mod meta;
pub mod pagerduty;
mod registry;
pub mod servicenow;
pub mod slack;
pub mod smtp;
pub mod tiktok;
pub mod webhook;
pub mod x;

#[cfg(test)]
mod test_support;

pub use http::{BuildError, DEFAULT_TIMEOUT, Http, PlatformCall, Secret};
pub use item::{
    Action, Change, DEDUP_KEY_MAX, Link, Notification, Outgoing, Payload, Reply, ReplyChange,
    ReplyKind, SUMMARY_MAX, Severity, change_supported, truncate,
};
pub use linkedin::{LinkedIn, LinkedInConfig};
pub use meta::{Meta, MetaConfig};
pub use outcome::{Outcome, X_RATE_LIMIT_RESET, backoff, retry_after};
pub use pagerduty::{PagerDuty, PagerDutyConfig};
pub use registry::{OutboundConfig, Senders};
pub use sender::Sender;
pub use servicenow::{ServiceNow, ServiceNowConfig};
pub use slack::{Slack, SlackConfig};
pub use smtp::{Smtp, SmtpConfig, SmtpSecurity};
pub use tiktok::{TikTok, TikTokConfig};
pub use webhook::{Webhook, WebhookConfig};
pub use x::{X, XConfig};
