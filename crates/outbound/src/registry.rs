//! The configured targets, by name: what the dispatcher looks an outbox item's target up in.
//!
//! Built once at start-up from `[outbound]`; a section that is absent means that target is
//! not configured, and a section that is present but unusable fails start-up rather than
//! every send.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sb_domain::Clock;
use serde::Deserialize;

use crate::http::{BuildError, DEFAULT_TIMEOUT, Http};
use crate::linkedin::{LinkedIn, LinkedInConfig};
use crate::meta::{Meta, MetaConfig};
use crate::pagerduty::{PagerDuty, PagerDutyConfig};
use crate::sender::Sender;
use crate::servicenow::{ServiceNow, ServiceNowConfig};
use crate::slack::{Slack, SlackConfig};
use crate::smtp::{Smtp, SmtpConfig};
use crate::tiktok::{TikTok, TikTokConfig};
use crate::webhook::{Webhook, WebhookConfig};
use crate::x::{X, XConfig};

/// `[outbound]` and its per-target sections.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Longest one HTTP call may take, connect to last byte (SMTP has its own).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub pagerduty: Option<PagerDutyConfig>,
    #[serde(default)]
    pub slack: Option<SlackConfig>,
    #[serde(default)]
    pub servicenow: Option<ServiceNowConfig>,
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    #[serde(default)]
    pub meta: Option<MetaConfig>,
    #[serde(default)]
    pub x: Option<XConfig>,
    #[serde(default)]
    pub linkedin: Option<LinkedInConfig>,
    #[serde(default)]
    pub tiktok: Option<TikTokConfig>,
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
}

fn default_timeout_ms() -> u64 {
    u64::try_from(DEFAULT_TIMEOUT.as_millis()).unwrap_or(u64::MAX)
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            timeout_ms: default_timeout_ms(),
            pagerduty: None,
            slack: None,
            servicenow: None,
            webhook: None,
            meta: None,
            x: None,
            linkedin: None,
            tiktok: None,
            smtp: None,
        }
    }
}

/// Target name → sender. Names are the senders' `kind()`s unless inserted otherwise.
#[derive(Default)]
pub struct Senders {
    by_target: BTreeMap<String, Box<dyn Sender>>,
}

impl fmt::Debug for Senders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.by_target.keys()).finish()
    }
}

impl Senders {
    /// Every configured target, sharing one HTTP client on the system clock.
    pub fn from_config(config: &OutboundConfig) -> Result<Self, BuildError> {
        let http = Http::new(Duration::from_millis(config.timeout_ms))?;
        Self::with_http(config, &http)
    }

    /// As [`Senders::from_config`], with an injected clock (signatures, rate-limit resets).
    pub fn with_clock(config: &OutboundConfig, clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        let http = Http::new(Duration::from_millis(config.timeout_ms))?.with_clock(clock);
        Self::with_http(config, &http)
    }

    fn with_http(config: &OutboundConfig, http: &Http) -> Result<Self, BuildError> {
        let mut senders = Self::default();
        if let Some(c) = &config.pagerduty {
            senders.insert(PagerDuty::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.slack {
            senders.insert(Slack::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.servicenow {
            senders.insert(ServiceNow::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.webhook {
            senders.insert(Webhook::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.meta {
            senders.insert(Meta::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.x {
            senders.insert(X::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.linkedin {
            senders.insert(LinkedIn::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.tiktok {
            senders.insert(TikTok::new(c.clone(), http.clone())?);
        }
        if let Some(c) = &config.smtp {
            senders.insert(Smtp::new(c.clone(), http.clone())?);
        }
        Ok(senders)
    }

    /// Adds (or replaces) the sender for its `kind()`.
    pub fn insert(&mut self, sender: impl Sender + 'static) {
        self.insert_as(sender.kind(), Box::new(sender));
    }

    /// Adds (or replaces) a sender under a name of its own, e.g. a second webhook.
    pub fn insert_as(&mut self, target: &str, sender: Box<dyn Sender>) {
        self.by_target.insert(target.to_owned(), sender);
    }

    pub fn get(&self, target: &str) -> Option<&dyn Sender> {
        self.by_target.get(target).map(|s| s.as_ref())
    }

    /// The sender for replies on `platform` (`facebook`, `instagram`, `x`, `linkedin`,
    /// `tiktok`, `email`).
    pub fn for_reply(&self, platform: &str) -> Option<&dyn Sender> {
        match platform {
            "facebook" | "instagram" => self.get("meta"),
            "x" => self.get("x"),
            "linkedin" => self.get("linkedin"),
            "tiktok" => self.get("tiktok"),
            "email" => self.get("smtp"),
            _ => None,
        }
    }

    /// The configured target names, sorted.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.by_target.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests;
