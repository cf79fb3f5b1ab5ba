//! The platforms and channels a message can come from.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Facebook,
    Instagram,
    Linkedin,
    Tiktok,
    Threads,
    Email,
    Chat,
    Reviews,
    Generic,
}

impl Platform {
    pub const ALL: [Platform; 10] = [
        Self::X,
        Self::Facebook,
        Self::Instagram,
        Self::Linkedin,
        Self::Tiktok,
        Self::Threads,
        Self::Email,
        Self::Chat,
        Self::Reviews,
        Self::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::X => "x",
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
            Self::Linkedin => "linkedin",
            Self::Tiktok => "tiktok",
            Self::Threads => "threads",
            Self::Email => "email",
            Self::Chat => "chat",
            Self::Reviews => "reviews",
            Self::Generic => "generic",
        }
    }

    /// Accepts the canonical names and the spellings people commonly use.
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let p = match lower.as_str() {
            "x" | "twitter" => Self::X,
            "facebook" | "fb" | "messenger" => Self::Facebook,
            "instagram" | "ig" => Self::Instagram,
            "linkedin" => Self::Linkedin,
            "tiktok" => Self::Tiktok,
            "threads" => Self::Threads,
            "email" | "e-mail" | "mail" => Self::Email,
            "chat" | "webchat" | "web_chat" => Self::Chat,
            "reviews" | "review" => Self::Reviews,
            "generic" => Self::Generic,
            _ => return None,
        };
        Some(p)
    }

    /// Whether the platform's messages are public by default (posts, comments) rather than
    /// private (e-mail, chat).
    pub fn public_by_default(self) -> bool {
        !matches!(self, Self::Email | Self::Chat)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_parses_from_its_own_name() {
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
        }
        assert_eq!(Platform::parse("Twitter"), Some(Platform::X));
        assert_eq!(Platform::parse("myspace"), None);
    }
}
