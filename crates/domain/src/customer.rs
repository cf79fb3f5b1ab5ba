//! Customer profiles (C1): who wrote, under which handles, and what they are worth to the
//! business.

use crate::{CustomerId, Platform, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Standard,
    Premium,
    Vip,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Premium => "premium",
            Self::Vip => "vip",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Self::Standard),
            "premium" => Some(Self::Premium),
            "vip" => Some(Self::Vip),
            _ => None,
        }
    }
}

/// One handle of a customer on one platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    pub platform: Platform,
    pub handle: String,
}

impl Identity {
    /// The key under which the identity is unique: handles are compared case-insensitively,
    /// as every platform we know treats them.
    pub fn key(platform: Platform, handle: &str) -> String {
        format!("{}:{}", platform.as_str(), handle.to_lowercase())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Customer {
    #[schema(value_type = String)]
    pub id: CustomerId,
    pub display_name: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub tier: Tier,
    pub lifetime_value: f64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub identities: Vec<Identity>,
}
