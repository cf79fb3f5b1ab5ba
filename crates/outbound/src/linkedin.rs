//! LinkedIn Community Management API: an organization answers a comment on its post.
//!
//! | kind          | call                                                   | body |
//! |---------------|--------------------------------------------------------|------|
//! | comment_reply | `POST /rest/socialActions/{comment URN}/comments`      | `actor`, `object` (the post), `message.text`, `parentComment` (the comment) |
//! | post_reply    | `POST /rest/socialActions/{post URN}/comments`         | `actor`, `object` (the post), `message.text` |
//!
//! | edit          | `POST /rest/socialActions/{post URN}/comments/{id}?actor=…` | `X-RestLi-Method: PARTIAL_UPDATE`, `patch.message.$set.text` |
//! | delete        | `DELETE /rest/socialActions/{post URN}/comments/{id}?actor=…` | — |
//!
//! `account` is the organization URN (`urn:li:organization:…`) that authors the comment and
//! chooses the token; `in_reply_to` the comment (or post) URN answered; `context` the post
//! URN the comment belongs to. URNs go into the path fully percent-encoded, as the API
//! expects (`urn%3Ali%3Acomment%3A%28…%29`). Every call carries `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`.
//!
//! Doubts, against LinkedIn's "Comments API" page (Create a Comment, nested comments):
//! - For a nested comment the path target is the parent comment URN and `object` the post
//!   URN. When `context` is missing we take the post from the comment URN itself
//!   (`urn:li:comment:(urn:li:activity:1,2)` → `urn:li:activity:1`); LinkedIn's examples use
//!   share and ugcPost URNs for `object`, and whether every version accepts the activity
//!   URN there is unverified.
//! - LinkedIn threads are two levels deep; answering a reply is said to need the top-level
//!   comment as `parentComment`. We send what `in_reply_to` names and let LinkedIn refuse.
//! - The new comment's id is read from `x-restli-id`, else the body's `$URN`, `commentUrn`
//!   or `id`; versions differ in which they fill.
//! - A 403 here is read as "this organization may not comment there" (permanent), not as a
//!   dead token; only 401 pauses the organization.
//!
//! No idempotency key exists; only answers that prove nothing was posted are retried.

use std::collections::BTreeMap;

use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{Answer, BuildError, Http, PlatformCall, Secret, changed, parse_base};
use crate::item::{
    Change, Outgoing, Payload, Reply, ReplyChange, ReplyKind, change_supported, present,
};
use crate::outcome::Outcome;
use crate::sender::Sender;

pub const DEFAULT_BASE_URL: &str = "https://api.linkedin.com";
/// The `LinkedIn-Version` (YYYYMM) sent unless configured otherwise.
pub const DEFAULT_VERSION: &str = "202411";
pub const RESTLI_PROTOCOL_VERSION: &str = "2.0.0";

/// `[outbound.linkedin]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedInConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `LinkedIn-Version`, `YYYYMM`.
    #[serde(default = "default_version")]
    pub version: String,
    /// Access token (`w_organization_social`) per organization URN.
    #[serde(default)]
    pub tokens: BTreeMap<String, Secret>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.into()
}

fn default_version() -> String {
    DEFAULT_VERSION.into()
}

impl Default for LinkedInConfig {
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            version: default_version(),
            tokens: BTreeMap::new(),
        }
    }
}

pub struct LinkedIn {
    http: Http,
    base: Url,
    version: String,
    tokens: BTreeMap<String, Secret>,
}

impl LinkedIn {
    pub fn new(config: LinkedInConfig, http: Http) -> Result<Self, BuildError> {
        let base = parse_base("outbound.linkedin.base_url", &config.base_url)?;
        let version = config.version.trim().to_owned();
        if version.is_empty() {
            return Err(BuildError::Missing("outbound.linkedin.version"));
        }
        if version.len() != 6 || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BuildError::Invalid {
                field: "outbound.linkedin.version",
                reason: format!("{version:?} is not a YYYYMM version"),
            });
        }
        Ok(Self {
            http,
            base,
            version,
            tokens: config.tokens,
        })
    }

    /// The call that delivers `reply`, or why LinkedIn cannot express it.
    pub fn call_for(&self, reply: &Reply) -> Result<PlatformCall, String> {
        if reply.platform != "linkedin" {
            return Err(format!("linkedin cannot reply on {:?}", reply.platform));
        }
        if reply.text.trim().is_empty() {
            return Err("the reply text is empty".into());
        }
        let actor = reply.account.trim();
        if !is_urn(actor) {
            return Err(format!(
                "the account {actor:?} is not an organization URN (urn:li:organization:…)"
            ));
        }
        let answered = present(&reply.in_reply_to)
            .ok_or("a linkedin reply needs the URN it answers (in_reply_to)")?;
        if !is_urn(answered) {
            return Err(format!("in_reply_to {answered:?} is not a LinkedIn URN"));
        }
        let context = present(&reply.context);
        if let Some(post) = context.filter(|p| !is_urn(p)) {
            return Err(format!("context {post:?} is not a LinkedIn post URN"));
        }
        let body = match reply.kind {
            ReplyKind::CommentReply => {
                if !answered.starts_with("urn:li:comment:") {
                    return Err(format!(
                        "a comment reply answers a comment URN, not {answered:?}"
                    ));
                }
                let post = context
                    .or_else(|| post_of_comment(answered))
                    .ok_or("a comment reply needs the post URN (context) the comment belongs to")?;
                json!({
                    "actor": actor,
                    "object": post,
                    "message": {"text": reply.text},
                    "parentComment": answered,
                })
            }
            ReplyKind::PostReply => json!({
                "actor": actor,
                "object": answered,
                "message": {"text": reply.text},
            }),
            ReplyKind::Dm | ReplyKind::Email => {
                return Err(format!(
                    "linkedin answers comments and posts, not a {:?}",
                    reply.kind
                ));
            }
        };
        Ok(PlatformCall {
            url: self.comments_of(answered),
            body,
        })
    }

    /// `{base}/rest/socialActions/{urn}/comments`, the URN encoded as one opaque segment.
    fn comments_of(&self, urn: &str) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!(
            "{prefix}/rest/socialActions/{}/comments",
            encode_component(urn)
        ));
        url
    }
}

impl LinkedIn {
    /// The call that edits (`body` set) or deletes (`body` null) a posted comment, named by
    /// its URN `urn:li:comment:(post URN,id)`, or why LinkedIn cannot.
    pub fn change_call(&self, change: &ReplyChange) -> Result<PlatformCall, String> {
        change_supported(&change.platform, change.kind, &change.change)?;
        let actor = change.account.trim();
        if !is_urn(actor) {
            return Err(format!(
                "the account {actor:?} is not an organization URN (urn:li:organization:…)"
            ));
        }
        let urn = change.remote_id.trim();
        let post = post_of_comment(urn)
            .ok_or_else(|| format!("{urn:?} is not a comment URN (urn:li:comment:(post,id))"))?;
        let id = urn
            .trim_end_matches(')')
            .rsplit_once(',')
            .map(|(_, id)| id)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| format!("{urn:?} names no comment id"))?;
        let mut url = self.comments_of(post);
        let path = format!("{}/{}", url.path(), encode_component(id));
        url.set_path(&path);
        url.set_query(Some(&format!("actor={}", encode_component(actor))));
        let body = match &change.change {
            Change::Edit { text } if text.trim().is_empty() => {
                return Err("the edited text is empty".into());
            }
            Change::Edit { text } => json!({"patch": {"message": {"$set": {"text": text}}}}),
            Change::Delete => Value::Null,
        };
        Ok(PlatformCall { url, body })
    }

    async fn change(&self, change: &ReplyChange) -> Outcome {
        let call = match self.change_call(change) {
            Ok(c) => c,
            Err(why) => return Outcome::unsupported(why),
        };
        let token = match self.token(&change.account) {
            Ok(t) => t,
            Err(outcome) => return outcome,
        };
        let deleting = call.body.is_null();
        let request = if deleting {
            self.http.client().delete(call.url)
        } else {
            self.http
                .client()
                .post(call.url)
                .header("X-RestLi-Method", "PARTIAL_UPDATE")
                .json(&call.body)
        }
        .bearer_auth(token.expose())
        .header("LinkedIn-Version", &self.version)
        .header("X-Restli-Protocol-Version", RESTLI_PROTOCOL_VERSION);
        let answer = self.http.execute(request).await;
        changed(answer, deleting, &change.remote_id, classify)
    }

    fn token(&self, account: &str) -> Result<&Secret, Outcome> {
        self.tokens
            .get(account.trim())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Outcome::Reauthorize {
                status: None,
                error: format!("no access token is configured for organization {account:?}"),
            })
    }
}

fn is_urn(s: &str) -> bool {
    s.len() > "urn:li:".len() && s.starts_with("urn:li:") && !s.chars().any(char::is_whitespace)
}

/// `urn:li:comment:(urn:li:activity:1,2)` → `urn:li:activity:1`.
fn post_of_comment(comment: &str) -> Option<&str> {
    let inner = comment
        .strip_prefix("urn:li:comment:(")?
        .strip_suffix(')')?;
    let (post, _id) = inner.rsplit_once(',')?;
    is_urn(post).then_some(post)
}

/// Percent-encodes every byte outside RFC 3986's unreserved set, so `:`, `(`, `)` and `,`
/// of a URN cannot be read as path syntax.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode_component`] for ids LinkedIn returns encoded in `x-restli-id`.
fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[async_trait::async_trait]
impl Sender for LinkedIn {
    fn kind(&self) -> &'static str {
        "linkedin"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let reply = match &item.payload {
            Payload::Reply(reply) => reply,
            Payload::ReplyChange(change) => return self.change(change).await,
            other => {
                return Outcome::unsupported(format!(
                    "linkedin sends customer replies, not a {}",
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
        let auth = |r: reqwest::RequestBuilder| {
            r.bearer_auth(token.expose())
                .header("LinkedIn-Version", &self.version)
                .header("X-Restli-Protocol-Version", RESTLI_PROTOCOL_VERSION)
        };
        self.http.post_call(call, auth, classify).await
    }
}

/// 2xx (201) delivered; 401 pauses the organization; 408, 425, 429 (with `Retry-After`)
/// and 5xx retry; any other 4xx, 403 included, is permanent.
fn classify(answer: &Answer) -> Outcome {
    let json = answer.json();
    let id = answer
        .headers
        .get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(decode_component)
        .or_else(|| {
            ["$URN", "commentUrn", "id"]
                .iter()
                .find_map(|k| json[*k].as_str().map(str::to_owned))
        });
    let detail = match (json["message"].as_str(), json["serviceErrorCode"].as_i64()) {
        (Some(m), Some(code)) => format!("{m} (serviceErrorCode {code})"),
        (Some(m), None) => m.to_owned(),
        _ => answer.snippet(),
    };
    let error = format!("linkedin answered {}: {detail}", answer.status);
    match answer.status {
        401 => answer.reauthorize(error),
        403 => answer.permanent(error),
        _ => answer.classify("linkedin", id).with_error(error),
    }
}

#[cfg(test)]
mod tests;
