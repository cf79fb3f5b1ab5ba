//! TikTok API for Business: a business account answers a comment on its own video.
//!
//! | kind          | call                                                     | body |
//! |---------------|----------------------------------------------------------|------|
//! | comment_reply | `POST /open_api/{version}/business/comment/reply/create/` | `business_id` (account), `video_id` (context), `comment_id` (in_reply_to), `text` |
//!
//! The account's token goes in the `Access-Token` header. TikTok answers HTTP 200 for
//! failures too, with `{"code", "message", "request_id", "data"}`; `code` 0 is success and
//! decides before the status:
//!
//! - 40100 (the app or account hit its QPS/QPM/QPD limit) retries;
//! - 40001 (no permission for this business account) and 40101–40105 (app credentials
//!   invalid; access token expired, missing, incorrect or revoked) pause the account;
//! - 50000–59999 (TikTok-side failures) retry;
//! - anything else (bad parameters, comment gone, text refused) is permanent.
//!
//! Doubts: the code ranges come from TikTok's shared return-code appendix for its Business
//! and Marketing APIs, not from the comment endpoint's page, and 40001 is read as an
//! authorization problem rather than a per-comment refusal. A 2xx answer without a `code`
//! proves neither success nor failure; it is permanent (never retried, so never posted
//! twice) and its body kept in the error for a person to check. Top-level comments
//! (`/business/comment/create/`) and DMs are not sent from here.

use std::collections::BTreeMap;

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{Answer, BuildError, Http, PlatformCall, Secret, join, parse_base};
use crate::item::{Outgoing, Payload, Reply, ReplyKind, present};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const DEFAULT_BASE_URL: &str = "https://business-api.tiktok.com";
pub const DEFAULT_VERSION: &str = "v1.3";

/// App or account over its request quota.
const RATE_LIMIT_CODE: i64 = 40100;
/// No permission for the business account (40001); app id/secret invalid (40101); access
/// token expired (40102), missing (40104), incorrect or revoked (40105). 40103 sits in the
/// same token block of the appendix.
const AUTH_CODES: &[i64] = &[40001, 40101, 40102, 40103, 40104, 40105];
/// TikTok-side failures.
const TRANSIENT_CODES: std::ops::RangeInclusive<i64> = 50000..=59999;

/// `[outbound.tiktok]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TikTokConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// Access token per business id.
    #[serde(default)]
    pub tokens: BTreeMap<String, Secret>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

fn default_version() -> String {
    DEFAULT_VERSION.into()
}

impl Default for TikTokConfig {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            version: default_version(),
            tokens: BTreeMap::new(),
        }
    }
}

pub struct TikTok {
    http: Http,
    base: Url,
    version: String,
    tokens: BTreeMap<String, Secret>,
}

impl TikTok {
    pub fn new(config: TikTokConfig, http: Http) -> Result<Self, BuildError> {
        let base = parse_base("outbound.tiktok.base_url", &config.base_url)?;
        let version = config.version.trim().to_owned();
        if version.is_empty() {
            return Err(BuildError::Missing("outbound.tiktok.version"));
        }
        Ok(Self {
            http,
            base,
            version,
            tokens: config.tokens,
        })
    }

    /// The call that delivers `reply`, or why TikTok cannot express it.
    pub fn call_for(&self, reply: &Reply) -> Result<PlatformCall, String> {
        if reply.platform != "tiktok" {
            return Err(format!("tiktok cannot reply on {:?}", reply.platform));
        }
        if reply.kind != ReplyKind::CommentReply {
            return Err(format!(
                "tiktok answers comments only, not a {:?}",
                reply.kind
            ));
        }
        if reply.text.trim().is_empty() {
            return Err("the reply text is empty".into());
        }
        let comment = present(&reply.in_reply_to)
            .ok_or("a tiktok reply needs the comment id it answers (in_reply_to)")?;
        let video = present(&reply.context)
            .ok_or("a tiktok reply needs the video id the comment is on (context)")?;
        Ok(PlatformCall {
            // The trailing slash is part of TikTok's paths.
            url: join(
                &self.base,
                &[
                    "open_api",
                    &self.version,
                    "business",
                    "comment",
                    "reply",
                    "create",
                    "",
                ],
            ),
            body: json!({
                "business_id": reply.account.trim(),
                "video_id": video,
                "comment_id": comment,
                "text": reply.text,
            }),
        })
    }
}

#[async_trait::async_trait]
impl Sender for TikTok {
    fn kind(&self) -> &'static str {
        "tiktok"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Reply(reply) = &item.payload else {
            return Outcome::unsupported(format!(
                "tiktok sends customer replies, not a {}",
                item.payload.kind()
            ));
        };
        let call = match self.call_for(reply) {
            Ok(c) => c,
            Err(why) => return Outcome::unsupported(why),
        };
        let Some(token) = self
            .tokens
            .get(reply.account.trim())
            .filter(|t| !t.is_empty())
        else {
            return Outcome::Reauthorize {
                status: None,
                error: format!(
                    "no access token is configured for tiktok business account {:?}",
                    reply.account
                ),
            };
        };
        self.http
            .post_call(call, |r| r.header("Access-Token", token.expose()), classify)
            .await
    }
}

/// The body's `code` decides on a 2xx answer; without a 2xx, the status does (401/403
/// pause, 408/425/429/5xx retry, other 4xx permanent).
fn classify(answer: &Answer) -> Outcome {
    let json = answer.json();
    let code = json["code"].as_i64();
    let error = match code {
        Some(c) => format!(
            "tiktok answered {} with code {c}: {}{}",
            answer.status,
            json["message"].as_str().unwrap_or("no message"),
            json["request_id"]
                .as_str()
                .map(|r| format!(" (request {r})"))
                .unwrap_or_default(),
        ),
        None => format!("tiktok answered {}: {}", answer.status, answer.snippet()),
    };
    if !answer.is_success() {
        return answer.classify("tiktok", None).with_error(error);
    }
    match code {
        Some(0) => Outcome::Delivered {
            status: answer.status,
            remote_id: id_text(&json["data"]["comment_id"]),
        },
        Some(RATE_LIMIT_CODE) => answer.retry(error),
        Some(c) if AUTH_CODES.contains(&c) => answer.reauthorize(error),
        Some(c) if TRANSIENT_CODES.contains(&c) => answer.retry(error),
        Some(_) => answer.permanent(error),
        None => answer.permanent(format!(
            "{error} (no result code, so the reply may or may not be posted; not retried)"
        )),
    }
}

/// TikTok ids pass 2^53, so they come as strings or as large integers.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
