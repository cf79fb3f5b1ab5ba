//! Timestamps are milliseconds since the Unix epoch in UTC: portable across SQLite and
//! PostgreSQL, cheap to compare, and rendered as RFC 3339 at the API edge.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2026-11-23T09:00:00Z`, with any offset).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let ts: jiff::Timestamp = s.parse().ok()?;
        Some(Self(ts.as_millisecond()))
    }

    pub fn to_rfc3339(self) -> String {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(ts) => ts.to_string(),
            Err(_) => self.0.to_string(),
        }
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_with_offsets() {
        let t = Timestamp::parse_rfc3339("2026-11-23T10:00:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T09:00:00Z");
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
