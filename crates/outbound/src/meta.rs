//! Meta Graph API: a reply to a customer on Facebook or Instagram.
//!
//! | platform  | kind          | call                                         | body |
//! |-----------|---------------|----------------------------------------------|------|
//! | both      | dm            | `POST /{version}/{account}/messages`         | `recipient.id`, `messaging_type: RESPONSE`, `message.text` |
//! | facebook  | comment/post  | `POST /{version}/{in_reply_to}/comments`     | `message` |
//! | instagram | comment_reply | `POST /{version}/{in_reply_to}/replies`      | `message` |
//! | instagram | post_reply    | `POST /{version}/{in_reply_to}/comments`     | `message` (a comment on the media) |
//!
//! | facebook  | edit          | `POST /{version}/{remote_id}`                | `message` |
//! | both      | delete        | `DELETE /{version}/{remote_id}`              | — |
//!
//! The page access token of `account` goes in the `Authorization` header, never the URL, so
//! it stays out of proxy and error logs. Graph has no idempotency key; a retry after a lost
//! answer can post twice, which is why only answers that prove nothing was posted retry.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{Answer, BuildError, Http, PlatformCall, Secret, changed, join, parse_base};
use crate::item::{
    Change, Outgoing, Payload, Reply, ReplyChange, ReplyKind, change_supported, present,
};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_VERSION: &str = "v21.0";

/// Graph error codes for an invalid, expired or revoked token (190) or session (102).
const TOKEN_CODES: &[i64] = &[102, 190];
/// Graph error codes for app, user, page and custom rate limits.
const RATE_LIMIT_CODES: &[i64] = &[4, 17, 32, 613];
/// Graph error codes for an unknown or temporary failure on Meta's side.
const TRANSIENT_CODES: &[i64] = &[1, 2];

/// `[outbound.meta]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// Page access token per Page or Instagram account id.
    #[serde(default)]
    pub tokens: BTreeMap<String, Secret>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

fn default_version() -> String {
    DEFAULT_VERSION.into()
}

impl Default for MetaConfig {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            version: default_version(),
            tokens: BTreeMap::new(),
        }
    }
}

pub struct Meta {
    http: Http,
    base: Url,
    version: String,
    tokens: BTreeMap<String, Secret>,
}

impl Meta {
    pub fn new(config: MetaConfig, http: Http) -> Result<Self, BuildError> {
        let base = parse_base("outbound.meta.base_url", &config.base_url)?;
        let version = config.version.trim().to_owned();
        if version.is_empty() {
            return Err(BuildError::Missing("outbound.meta.version"));
        }
        Ok(Self {
            http,
            base,
            version,
            tokens: config.tokens,
        })
    }

    /// The call that delivers `reply`, or why Graph cannot express it.
    pub fn call_for(&self, reply: &Reply) -> Result<PlatformCall, String> {
        let platform = reply.platform.as_str();
        if !matches!(platform, "facebook" | "instagram") {
            return Err(format!("meta cannot reply on {platform:?}"));
        }
        if reply.text.trim().is_empty() {
            return Err("the reply text is empty".into());
        }
        if reply.kind == ReplyKind::Email {
            return Err("meta cannot send an e-mail reply".into());
        }
        let v = self.version.as_str();
        if reply.kind == ReplyKind::Dm {
            let recipient = present(&reply.recipient).ok_or("a DM needs a recipient id")?;
            return Ok(PlatformCall {
                url: join(&self.base, &[v, &reply.account, "messages"]),
                body: json!({
                    "recipient": {"id": recipient},
                    "messaging_type": "RESPONSE",
                    "message": {"text": reply.text},
                }),
            });
        }
        let target = present(&reply.in_reply_to)
            .ok_or("a comment or post reply needs the id it answers (in_reply_to)")?;
        let edge = match (platform, reply.kind) {
            ("instagram", ReplyKind::CommentReply) => "replies",
            _ => "comments",
        };
        Ok(PlatformCall {
            url: join(&self.base, &[v, target, edge]),
            body: json!({"message": reply.text}),
        })
    }
}

impl Meta {
    /// The call that edits or deletes a posted reply (`body` is null for a deletion), or why
    /// Graph cannot.
    pub fn change_call(
        &self,
        change: &ReplyChange,
    ) -> Result<(reqwest::Method, PlatformCall), String> {
        change_supported(&change.platform, change.kind, &change.change)?;
        let id = change.remote_id.trim();
        if id.is_empty() {
            return Err("the posted reply's id is missing".into());
        }
        let url = join(&self.base, &[self.version.as_str(), id]);
        Ok(match &change.change {
            Change::Edit { text } if text.trim().is_empty() => {
                return Err("the edited text is empty".into());
            }
            Change::Edit { text } => (
                reqwest::Method::POST,
                PlatformCall {
                    url,
                    body: json!({"message": text}),
                },
            ),
            Change::Delete => (
                reqwest::Method::DELETE,
                PlatformCall {
                    url,
                    body: Value::Null,
                },
            ),
        })
    }

    fn token(&self, account: &str) -> Result<&Secret, Outcome> {
        self.tokens
            .get(account)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Outcome::Reauthorize {
                status: None,
                error: format!("no page access token is configured for account {account:?}"),
            })
    }

    async fn change(&self, change: &ReplyChange) -> Outcome {
        let (method, call) = match self.change_call(change) {
            Ok(c) => c,
            Err(why) => return Outcome::unsupported(why),
        };
        let token = match self.token(&change.account) {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        let deleting = method == reqwest::Method::DELETE;
        let mut request = self
            .http
            .client()
            .request(method, call.url)
            .bearer_auth(token.expose());
        if !call.body.is_null() {
            request = request.json(&call.body);
        }
        let answer = self.http.execute(request).await;
        changed(answer, deleting, &change.remote_id, classify)
    }
}

#[async_trait::async_trait]
impl Sender for Meta {
    fn kind(&self) -> &'static str {
        "meta"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let reply = match &item.payload {
            Payload::Reply(reply) => reply,
            Payload::ReplyChange(change) => return self.change(change).await,
            other => {
                return Outcome::unsupported(format!(
                    "meta sends customer replies, not a {}",
                    other.kind()
                ));
            }
        };
        let call = match self.call_for(reply) {
            Ok(c) => c,
            Err(why) => return Outcome::unsupported(why),
        };
        let token = match self.token(&reply.account) {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        self.http
            .post_call(call, |r| r.bearer_auth(token.expose()), classify)
            .await
    }
}

/// Graph reports most failures as `{"error": {"message", "type", "code", "error_subcode"}}`,
/// often with HTTP 400 even when the cause is transient, so the code decides before the status.
fn classify(answer: &Answer) -> Outcome {
    let json = answer.json();
    if answer.is_success() {
        let id = json["message_id"].as_str().or_else(|| json["id"].as_str());
        return Outcome::Delivered {
            status: answer.status,
            remote_id: id.map(str::to_owned),
        };
    }
    let err = &json["error"];
    let code = err["code"].as_i64();
    let error = match code {
        Some(c) => format!(
            "meta answered {}: {} (code {c}{})",
            answer.status,
            err["message"].as_str().unwrap_or("no message"),
            err["error_subcode"]
                .as_i64()
                .map(|s| format!(", subcode {s}"))
                .unwrap_or_default(),
        ),
        None => format!("meta answered {}: {}", answer.status, answer.snippet()),
    };
    let is = |codes: &[i64]| code.is_some_and(|c| codes.contains(&c));
    if answer.status == 401 || is(TOKEN_CODES) {
        answer.reauthorize(error)
    } else if answer.status == 429 || is(RATE_LIMIT_CODES) {
        Outcome::Retry {
            status: Some(answer.status),
            after: answer.after().or_else(|| usage_wait(&answer.headers)),
            error,
        }
    } else if answer.status >= 500 || is(TRANSIENT_CODES) {
        answer.retry(error)
    } else {
        answer.permanent(error)
    }
}

/// Meta has no Retry-After; a throttled business use case reports the minutes until access
/// returns in `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`).
fn usage_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("x-business-use-case-usage")?.to_str().ok()?;
    let usage: Value = serde_json::from_str(text).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| u["estimated_time_to_regain_access"].as_u64())
        .max()
        .filter(|m| *m > 0)?;
    Some(Duration::from_secs(minutes.saturating_mul(60)))
}

#[cfg(test)]
mod tests;
