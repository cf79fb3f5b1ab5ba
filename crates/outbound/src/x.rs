//! X API v2: a reply to a customer on X.
//!
//! | kind                      | call                                                | body |
//! |---------------------------|-----------------------------------------------------|------|
//! | post_reply, comment_reply | `POST /2/tweets`                                    | `text`, `reply.in_reply_to_tweet_id` |
//! | dm                        | `POST /2/dm_conversations/with/{recipient}/messages` | `text` |
//!
//! | delete (post_reply)        | `DELETE /2/tweets/{remote_id}`                      | — |
//!
//! X has no comments, so a comment reply is a post reply. Each account posts with its own
//! OAuth 2.0 user token (bearer). X has no idempotency key; only answers that prove nothing
//! was posted are retried.

use std::collections::BTreeMap;

use reqwest::Url;
use serde::Deserialize;
use serde_json::json;

use crate::http::{Answer, BuildError, Http, PlatformCall, Secret, changed, join, parse_base};
use crate::item::{Outgoing, Payload, Reply, ReplyChange, ReplyKind, change_supported, present};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const DEFAULT_BASE_URL: &str = "https://api.x.com";

/// `[outbound.x]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// OAuth 2.0 user access token per X user id.
    #[serde(default)]
    pub tokens: BTreeMap<String, Secret>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

impl Default for XConfig {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            tokens: BTreeMap::new(),
        }
    }
}

pub struct X {
    http: Http,
    base: Url,
    tokens: BTreeMap<String, Secret>,
}

impl X {
    pub fn new(config: XConfig, http: Http) -> Result<Self, BuildError> {
        let base = parse_base("outbound.x.base_url", &config.base_url)?;
        Ok(Self {
            http,
            base,
            tokens: config.tokens,
        })
    }

    /// The call that delivers `reply`, or why X cannot express it.
    pub fn call_for(&self, reply: &Reply) -> Result<PlatformCall, String> {
        if reply.platform != "x" {
            return Err(format!("x cannot reply on {:?}", reply.platform));
        }
        if reply.text.trim().is_empty() {
            return Err("the reply text is empty".into());
        }
        match reply.kind {
            ReplyKind::Dm => {
                let recipient = present(&reply.recipient).ok_or("a DM needs a recipient id")?;
                Ok(PlatformCall {
                    url: join(
                        &self.base,
                        &["2", "dm_conversations", "with", recipient, "messages"],
                    ),
                    body: json!({"text": reply.text}),
                })
            }
            ReplyKind::Email => Err("x cannot send an e-mail reply".into()),
            ReplyKind::PostReply | ReplyKind::CommentReply => {
                let to = present(&reply.in_reply_to)
                    .ok_or("a post reply needs the post id it answers (in_reply_to)")?;
                Ok(PlatformCall {
                    url: join(&self.base, &["2", "tweets"]),
                    body: json!({"text": reply.text, "reply": {"in_reply_to_tweet_id": to}}),
                })
            }
        }
    }
}

impl X {
    /// The URL that deletes a posted reply, or why X cannot change it (X's API has no edit).
    pub fn delete_url(&self, change: &ReplyChange) -> Result<Url, String> {
        change_supported(&change.platform, change.kind, &change.change)?;
        let id = change.remote_id.trim();
        if id.is_empty() {
            return Err("the posted reply's id is missing".into());
        }
        Ok(join(&self.base, &["2", "tweets", id]))
    }

    fn token(&self, account: &str) -> Result<&Secret, Outcome> {
        self.tokens
            .get(account)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Outcome::Reauthorize {
                status: None,
                error: format!("no user token is configured for x account {account:?}"),
            })
    }

    async fn change(&self, change: &ReplyChange) -> Outcome {
        let url = match self.delete_url(change) {
            Ok(u) => u,
            Err(why) => return Outcome::unsupported(why),
        };
        let token = match self.token(&change.account) {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        let request = self.http.client().delete(url).bearer_auth(token.expose());
        let answer = self.http.execute(request).await;
        changed(answer, true, &change.remote_id, classify)
    }
}

#[async_trait::async_trait]
impl Sender for X {
    fn kind(&self) -> &'static str {
        "x"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let reply = match &item.payload {
            Payload::Reply(reply) => reply,
            Payload::ReplyChange(change) => return self.change(change).await,
            other => {
                return Outcome::unsupported(format!(
                    "x sends customer replies, not a {}",
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

/// 2xx delivered; 401 means the user token is revoked or expired; 429 waits for
/// `x-rate-limit-reset`; 5xx retries; any other 4xx (403 duplicate or not allowed, 400
/// invalid) is permanent.
fn classify(answer: &Answer) -> Outcome {
    let json = answer.json();
    let id = json["data"]["id"]
        .as_str()
        .or_else(|| json["data"]["dm_event_id"].as_str())
        .map(str::to_owned);
    let detail = json["detail"]
        .as_str()
        .or_else(|| json["title"].as_str())
        .map_or_else(|| answer.snippet(), str::to_owned);
    let error = format!("x answered {}: {detail}", answer.status);
    match answer.status {
        401 => answer.reauthorize(error),
        // A 403 from X is about this post (duplicate text, replying not allowed), not the token.
        403 => answer.permanent(error),
        _ => answer.classify("x", id).with_error(error),
    }
}

#[cfg(test)]
mod tests;
