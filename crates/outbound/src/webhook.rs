//! Generic signed webhook: a notification is POSTed as JSON to a URL the customer runs.
//!
//! The signature is the same scheme Switchboard verifies on its own generic inbound webhook
//! (`sb_connectors::sign_generic`): `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>.<body>">` with `X-Switchboard-Timestamp: <unix seconds>`, so a receiver can
//! refuse replays. `Idempotency-Key` carries the outbox item id, the same on every retry.

use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;

use crate::http::{BuildError, Http, Secret, parse_base};
use crate::item::{Outgoing, Payload};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const TIMESTAMP_HEADER: &str = "x-switchboard-timestamp";
pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";
pub const ATTEMPT_HEADER: &str = "x-switchboard-attempt";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// `[outbound.webhook]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Shared with the receiver; signs every delivery.
    pub secret: Secret,
}

pub struct Webhook {
    http: Http,
    url: Url,
    secret: Secret,
}

impl Webhook {
    pub fn new(config: WebhookConfig, http: Http) -> Result<Self, BuildError> {
        if config.secret.is_empty() {
            return Err(BuildError::Missing("outbound.webhook.secret"));
        }
        let url = parse_base("outbound.webhook.url", &config.url)?;
        Ok(Self {
            http,
            url,
            secret: config.secret,
        })
    }
}

#[async_trait::async_trait]
impl Sender for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Notification(n) = &item.payload else {
            return Outcome::unsupported(format!(
                "the webhook carries notifications, not a {}",
                item.payload.kind()
            ));
        };
        let body = match serde_json::to_vec(n) {
            Ok(b) => b,
            Err(e) => return Outcome::unsupported(format!("the notification is not JSON: {e}")),
        };
        // Signed over the exact bytes sent, with the time of this attempt.
        let timestamp = self.http.now_unix_s();
        let signature = match sb_connectors::sign_generic(self.secret.expose(), timestamp, &body) {
            Ok(s) => s,
            Err(e) => return Outcome::unsupported(format!("the delivery cannot be signed: {e}")),
        };
        let request = self
            .http
            .client()
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, item.id.as_str())
            .header(ATTEMPT_HEADER, item.attempt.to_string())
            .body(body);
        let answer = match self.http.execute(request).await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        match answer.status {
            // The receiver retired the endpoint: stop until someone points us elsewhere.
            410 => answer.reauthorize(format!("the webhook answered 410: {}", answer.snippet())),
            _ => {
                let id = answer.json()["id"].as_str().map(str::to_owned);
                answer.classify("the webhook", id)
            }
        }
    }
}

#[cfg(test)]
mod tests;
