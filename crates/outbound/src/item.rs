//! What the dispatcher hands a sender: one outbox item and its tool-neutral payload.
//!
//! These types are the contract with the outbox. They say what should happen (open an
//! incident, answer a customer), never how a particular tool spells it; each sender owns
//! that mapping.

use serde::{Deserialize, Serialize};

/// One outbox item as the dispatcher hands it over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Outbox item id. Stable across retries, so it doubles as the idempotency key wherever
    /// the target supports one.
    pub id: String,
    /// 1 for the first try.
    pub attempt: u32,
    pub payload: Payload,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// Alerts and incidents for operations tools.
    Notification(Notification),
    /// A reply to a customer on a platform.
    Reply(Reply),
    /// An edit or deletion of a reply already posted (D12).
    ReplyChange(ReplyChange),
}

impl Payload {
    /// `notification` or `reply`, for error messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Notification(_) => "notification",
            Self::Reply(_) => "reply",
            Self::ReplyChange(_) => "reply change",
        }
    }
}

/// Longest dedup key PagerDuty accepts; the other tools get the same key.
pub const DEDUP_KEY_MAX: usize = 255;
/// Longest summary PagerDuty accepts; longer summaries are cut at a char boundary.
pub const SUMMARY_MAX: usize = 1024;

/// Tool-neutral description of an alert or incident event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub action: Action,
    /// Stable per alert/incident: a trigger, its acknowledgement and its resolution share it.
    pub dedup_key: String,
    pub summary: String,
    /// Where the event comes from, e.g. `switchboard`.
    pub source: String,
    pub severity: Severity,
    /// RFC 3339.
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub custom_details: serde_json::Value,
    #[serde(default)]
    pub links: Vec<Link>,
}

impl Notification {
    /// The summary cut to [`SUMMARY_MAX`] bytes without splitting a character.
    pub fn short_summary(&self) -> &str {
        truncate(&self.summary, SUMMARY_MAX)
    }

    /// Why this notification cannot be sent anywhere, if it cannot.
    pub fn invalid(&self) -> Option<String> {
        if self.dedup_key.trim().is_empty() {
            return Some("the dedup key is empty".into());
        }
        if self.dedup_key.len() > DEDUP_KEY_MAX {
            return Some(format!(
                "the dedup key is {} bytes long; at most {DEDUP_KEY_MAX} are allowed",
                self.dedup_key.len()
            ));
        }
        None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Trigger,
    Acknowledge,
    Resolve,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Acknowledge => "acknowledge",
            Self::Resolve => "resolve",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    pub text: String,
}

/// A reply to a customer.
///
/// Fields added after the first release carry `#[serde(default)]` and are left out of the
/// JSON when empty, so outbox rows written before them read back unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// `facebook`, `instagram`, `x`, `linkedin`, `tiktok` or `email`.
    pub platform: String,
    pub kind: ReplyKind,
    /// Our Page, Instagram account, X user id, LinkedIn organization URN, TikTok business id
    /// or mailbox address: chooses the credentials and is the author of the reply.
    pub account: String,
    /// PSID, Instagram-scoped id or X user id for DMs; the customer's address for e-mail.
    #[serde(default)]
    pub recipient: Option<String>,
    /// Platform id of the comment or post being answered; for e-mail, the Message-ID
    /// answered, without angle brackets.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    pub text: String,
    /// The post a comment belongs to, where the platform needs it: the LinkedIn post URN,
    /// the TikTok video id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// E-mail only: the subject of the message answered (`Re: ` is added when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// E-mail only: the thread's earlier Message-IDs, oldest first, without angle brackets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// A change to a reply already posted: its text edited, or the post deleted. It names the
/// post by the id the platform gave it when it was delivered (the outbox's `remote_id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyChange {
    pub platform: String,
    /// The kind of the posted reply.
    pub kind: ReplyKind,
    /// The account that posted it: chooses the credentials.
    pub account: String,
    pub remote_id: String,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Edit { text: String },
    Delete,
}

impl Change {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Edit { .. } => "edit",
            Self::Delete => "delete",
        }
    }
}

/// Whether a posted reply of this platform and kind can be changed this way through the
/// platform's API, or why not. Facebook comments can be edited and deleted, LinkedIn comments
/// too; Instagram comments and X posts can only be deleted; direct messages, e-mail and
/// TikTok comments cannot be changed once sent.
/// An optional field of a reply with something in it, trimmed.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub fn change_supported(platform: &str, kind: ReplyKind, change: &Change) -> Result<(), String> {
    let public = matches!(kind, ReplyKind::CommentReply | ReplyKind::PostReply);
    let edit = matches!(change, Change::Edit { .. });
    match (platform, public, edit) {
        ("facebook" | "linkedin", true, _) | ("instagram" | "x", true, false) => Ok(()),
        ("instagram" | "x", true, true) => Err(format!(
            "{platform} does not let a posted reply be edited; delete it and reply again"
        )),
        (_, false, _) => Err(format!(
            "a sent {} cannot be {} on {platform}",
            match kind {
                ReplyKind::Email => "e-mail",
                _ => "direct message",
            },
            if edit { "edited" } else { "deleted" }
        )),
        _ => Err(format!(
            "posted replies on {platform} cannot be {} from Switchboard",
            if edit { "edited" } else { "deleted" }
        )),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Dm,
    CommentReply,
    PostReply,
    /// An answer in an e-mail thread.
    Email,
}

/// `s` cut to at most `max` bytes, backing off to the previous char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// At most `max` characters (the tools count characters, not bytes), marking a cut with `…`.
pub(crate) fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_never_splits_a_character() {
        let s = "é".repeat(600); // 1200 bytes, two per char
        let cut = truncate(&s, SUMMARY_MAX);
        assert_eq!(cut.len(), 1024);
        let odd = format!("a{s}");
        let cut = truncate(&odd, SUMMARY_MAX);
        assert_eq!(cut.len(), 1023);
        assert!(cut.chars().all(|c| c == 'a' || c == 'é'));
        assert_eq!(truncate("short", SUMMARY_MAX), "short");
    }

    #[test]
    fn an_outbox_row_round_trips_through_json_with_a_type_tag() {
        let item = Payload::Reply(Reply {
            platform: "x".into(),
            kind: ReplyKind::PostReply,
            account: "2244994945".into(),
            recipient: None,
            in_reply_to: Some("1874448000000000001".into()),
            text: "Sorry about that, we're on it.".into(),
            context: None,
            subject: None,
            references: Vec::new(),
        });
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["type"], "reply");
        assert_eq!(json["kind"], "post_reply");
        let back: Payload = serde_json::from_value(json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn a_reply_stored_before_email_and_threads_existed_still_reads() {
        let stored = serde_json::json!({
            "type": "reply", "platform": "facebook", "kind": "comment_reply",
            "account": "104857600000001", "recipient": null, "in_reply_to": "123_456",
            "text": "Thanks for flagging this!"
        });
        let back: Payload = serde_json::from_value(stored.clone()).unwrap();
        let Payload::Reply(reply) = &back else {
            panic!("a reply");
        };
        assert_eq!(reply.context, None);
        assert_eq!(reply.subject, None);
        assert!(reply.references.is_empty());
        // Written again, it is the same row: the new fields stay out while empty.
        assert_eq!(serde_json::to_value(&back).unwrap(), stored);
    }

    #[test]
    fn an_email_reply_keeps_its_thread_through_the_outbox() {
        let item = Payload::Reply(Reply {
            platform: "email".into(),
            kind: ReplyKind::Email,
            account: "care@examplebrand.com".into(),
            recipient: Some("sam.lee@example.net".into()),
            in_reply_to: Some("CAF1x=abc@mail.example.net".into()),
            text: "Your refund is on its way.".into(),
            context: None,
            subject: Some("Order 1182 never arrived".into()),
            references: vec!["first@mail.example.net".into()],
        });
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["kind"], "email");
        assert_eq!(json["references"][0], "first@mail.example.net");
        let back: Payload = serde_json::from_value(json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn which_posted_replies_can_be_changed() {
        let edit = Change::Edit { text: "x".into() };
        let ok = |p, k, c: &Change| change_supported(p, k, c).is_ok();
        assert!(ok("facebook", ReplyKind::CommentReply, &edit));
        assert!(ok("facebook", ReplyKind::PostReply, &Change::Delete));
        assert!(ok("linkedin", ReplyKind::CommentReply, &edit));
        assert!(ok("instagram", ReplyKind::CommentReply, &Change::Delete));
        assert!(!ok("instagram", ReplyKind::CommentReply, &edit));
        assert!(ok("x", ReplyKind::PostReply, &Change::Delete));
        assert!(!ok("x", ReplyKind::PostReply, &edit));
        assert!(!ok("x", ReplyKind::Dm, &Change::Delete));
        assert!(!ok("facebook", ReplyKind::Dm, &edit));
        assert!(!ok("email", ReplyKind::Email, &Change::Delete));
        assert!(!ok("tiktok", ReplyKind::CommentReply, &Change::Delete));
        let why = change_supported("email", ReplyKind::Email, &edit).unwrap_err();
        assert!(why.contains("e-mail"), "{why}");
    }

    #[test]
    fn a_reply_change_round_trips_through_json() {
        let item = Payload::ReplyChange(ReplyChange {
            platform: "facebook".into(),
            kind: ReplyKind::CommentReply,
            account: "104857600000001".into(),
            remote_id: "123_789".into(),
            change: Change::Edit {
                text: "Corrected: the refund takes 3 days.".into(),
            },
        });
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["type"], "reply_change");
        assert_eq!(json["change"]["op"], "edit");
        let back: Payload = serde_json::from_value(json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn dedup_keys_past_the_limit_are_refused() {
        let mut n = crate::test_support::notification(Action::Trigger);
        assert_eq!(n.invalid(), None);
        n.dedup_key = "k".repeat(256);
        assert!(n.invalid().unwrap_or_default().contains("256"));
        n.dedup_key = "  ".into();
        assert!(n.invalid().is_some());
    }
}
