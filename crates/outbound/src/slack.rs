//! Slack incoming webhook: a notification becomes one channel message.
//!
//! The message is Block Kit (header, a section with the facts as fields, a context line with
//! the links) plus `text`, which Slack shows in notifications and on clients without blocks.
//! Incoming webhooks have no idempotency key and no message id: a retry after a lost answer
//! can post twice, which is why only answers that prove nothing was posted are retried.

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{BuildError, Http, Secret, parse_base};
use crate::item::{Action, Notification, Outgoing, Payload, Severity, clip_chars};
use crate::outcome::Outcome;
use crate::sender::Sender;

/// Slack's limits, in characters.
const HEADER_MAX: usize = 150;
const SECTION_TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;

/// Error codes that mean the webhook itself is gone or its app was removed: every message to
/// it will fail until someone installs a new one.
const REAUTHORIZE_CODES: &[&str] = &[
    "invalid_token",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "token_revoked",
    "no_active_hooks",
];

/// `[outbound.slack]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The full `https://hooks.slack.com/services/T…/B…/…` URL. Its path is the credential.
    pub webhook_url: Secret,
}

pub struct Slack {
    http: Http,
    url: Url,
}

impl Slack {
    pub fn new(config: SlackConfig, http: Http) -> Result<Self, BuildError> {
        if config.webhook_url.is_empty() {
            return Err(BuildError::Missing("outbound.slack.webhook_url"));
        }
        // The message would echo the secret path; say only what is wrong.
        let url = parse_base("outbound.slack.webhook_url", config.webhook_url.expose()).map_err(
            |_| BuildError::InvalidUrl {
                field: "outbound.slack.webhook_url",
                reason: "not an http(s) URL".into(),
            },
        )?;
        Ok(Self { http, url })
    }

    /// The message for one notification.
    pub fn message(n: &Notification) -> Value {
        let summary = n.short_summary();
        let (emoji, label) = match n.action {
            Action::Trigger => (severity_emoji(n.severity), "Triggered"),
            Action::Acknowledge => (":eyes:", "Acknowledged"),
            Action::Resolve => (":white_check_mark:", "Resolved"),
        };
        let mut fields = vec![field("Severity", n.severity.as_str())];
        fields.push(field("Source", &n.source));
        for (name, value) in [
            ("Component", &n.component),
            ("Group", &n.group),
            ("Class", &n.class),
        ] {
            if let Some(v) = value {
                fields.push(field(name, v));
            }
        }
        let mut context: Vec<String> = n
            .links
            .iter()
            .map(|l| {
                format!(
                    "<{}|{}>",
                    escape(&l.href),
                    escape(&l.text).replace('|', "¦")
                )
            })
            .collect();
        context.push(format!("severity: {}", n.severity.as_str()));
        context.push(format!("dedup: `{}`", escape(&n.dedup_key)));
        json!({
            "text": format!("{emoji} {label}: {}", escape(summary)),
            "blocks": [
                {
                    "type": "header",
                    "text": {
                        "type": "plain_text",
                        "text": clip_chars(&format!("{label}: {summary}"), HEADER_MAX),
                        "emoji": true,
                    }
                },
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": clip_chars(&escape(summary), SECTION_TEXT_MAX)},
                    "fields": fields,
                },
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": context.join(" | ")}],
                }
            ]
        })
    }
}

fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => ":rotating_light:",
        Severity::Error => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":information_source:",
    }
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": clip_chars(&format!("*{name}*\n{}", escape(value)), FIELD_MAX)})
}

/// Slack reads `&`, `<` and `>` as markup in mrkdwn; everything else is literal.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[async_trait::async_trait]
impl Sender for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Notification(n) = &item.payload else {
            return Outcome::unsupported(format!(
                "slack posts notifications, not a {}",
                item.payload.kind()
            ));
        };
        let request = self
            .http
            .client()
            .post(self.url.clone())
            .json(&Self::message(n));
        let answer = match self.http.execute(request).await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        let code = answer.body.trim();
        let error = format!("slack answered {}: {}", answer.status, answer.snippet());
        match answer.status {
            // Slack answers `ok`; any 2xx means the message was posted, and retrying would
            // post it twice.
            200..=299 => Outcome::Delivered {
                status: answer.status,
                remote_id: None,
            },
            410 => answer.reauthorize(error),
            400..=499 if REAUTHORIZE_CODES.contains(&code) => answer.reauthorize(error),
            // `invalid_payload`, `no_text`, `channel_not_found`, `channel_is_archived`,
            // `action_prohibited`: this message cannot be posted as it is.
            400..=499 if answer.status != 429 && answer.status != 408 => answer.permanent(error),
            _ => answer.classify("slack", None),
        }
    }
}

#[cfg(test)]
mod tests;
