//! PagerDuty Events API v2: a notification becomes one event on `POST /v2/enqueue`.
//!
//! PagerDuty groups events by `dedup_key` within one routing key, so a trigger, its
//! acknowledgement and its resolution reach the same alert, and a retried trigger does not
//! open a second one. Only triggers carry the `payload` block; the follow-ups are bare.

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::http::{BuildError, Http, Secret, join, parse_base};
use crate::item::{Action, Notification, Outgoing, Payload};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const DEFAULT_BASE_URL: &str = "https://events.pagerduty.com";

/// `[outbound.pagerduty]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// The service integration key.
    pub routing_key: Secret,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Shown in PagerDuty as the monitoring tool that raised the event.
    #[serde(default = "default_client")]
    pub client: String,
    /// Where that tool lives, e.g. the hub's incident list.
    #[serde(default)]
    pub client_url: Option<String>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

fn default_client() -> String {
    "Switchboard".into()
}

impl PagerDutyConfig {
    pub fn new(routing_key: impl Into<String>) -> Self {
        Self {
            routing_key: Secret::new(routing_key),
            base_url: default_base_url(),
            client: default_client(),
            client_url: None,
        }
    }
}

pub struct PagerDuty {
    http: Http,
    endpoint: Url,
    config: PagerDutyConfig,
}

impl PagerDuty {
    pub fn new(config: PagerDutyConfig, http: Http) -> Result<Self, BuildError> {
        if config.routing_key.is_empty() {
            return Err(BuildError::Missing("outbound.pagerduty.routing_key"));
        }
        let base = parse_base("outbound.pagerduty.base_url", &config.base_url)?;
        Ok(Self {
            http,
            endpoint: join(&base, &["v2", "enqueue"]),
            config,
        })
    }

    /// The event body for one notification.
    pub fn event(&self, n: &Notification) -> Value {
        let mut event = Map::new();
        event.insert(
            "routing_key".into(),
            self.config.routing_key.expose().into(),
        );
        event.insert("event_action".into(), n.action.as_str().into());
        event.insert("dedup_key".into(), n.dedup_key.clone().into());
        if n.action == Action::Trigger {
            let mut payload = Map::new();
            payload.insert("summary".into(), n.short_summary().into());
            payload.insert("source".into(), n.source.clone().into());
            payload.insert("severity".into(), n.severity.as_str().into());
            let optional = [
                ("timestamp", &n.timestamp),
                ("component", &n.component),
                ("group", &n.group),
                ("class", &n.class),
            ];
            for (key, value) in optional {
                if let Some(v) = value {
                    payload.insert(key.into(), v.clone().into());
                }
            }
            if !n.custom_details.is_null() {
                payload.insert("custom_details".into(), n.custom_details.clone());
            }
            event.insert("payload".into(), Value::Object(payload));
            event.insert("client".into(), self.config.client.clone().into());
            if let Some(url) = &self.config.client_url {
                event.insert("client_url".into(), url.clone().into());
            }
            event.insert(
                "links".into(),
                serde_json::to_value(&n.links).unwrap_or_default(),
            );
        }
        Value::Object(event)
    }
}

#[async_trait::async_trait]
impl Sender for PagerDuty {
    fn kind(&self) -> &'static str {
        "pagerduty"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Notification(n) = &item.payload else {
            return Outcome::unsupported(format!(
                "pagerduty sends notifications, not a {}",
                item.payload.kind()
            ));
        };
        if let Some(why) = n.invalid() {
            return Outcome::unsupported(why);
        }
        let request = self
            .http
            .client()
            .post(self.endpoint.clone())
            .json(&self.event(n));
        let answer = match self.http.execute(request).await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        let dedup_key = answer.json()["dedup_key"].as_str().map(str::to_owned);
        match answer.status {
            // 400 means PagerDuty read the event and refused it: sending it again cannot help.
            400 => answer.permanent(format!("pagerduty refused the event: {}", answer.snippet())),
            _ => answer.classify("pagerduty", dedup_key),
        }
    }
}

#[cfg(test)]
mod tests;
