//! Timestamps are milliseconds since the Unix epoch in UTC: portable across SQLite and
//! PostgreSQL, cheap to compare, and rendered as RFC 3339 at the API edge, always with three
//! fraction digits (`2026-11-23T09:00:00.000Z`) so that the text has one width and sorts
//! like the instants it names.

use jiff::fmt::temporal::DateTimePrinter;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

static PRINTER: DateTimePrinter = DateTimePrinter::new().precision(Some(3));

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
            Ok(ts) => PRINTER.timestamp_to_string(&ts),
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
        assert_eq!(t.to_rfc3339(), "2026-11-23T09:00:00.000Z");
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn the_text_has_one_width_and_sorts_like_the_instants() {
        let base = Timestamp::parse_rfc3339("2026-11-23T09:00:48Z").unwrap();
        let texts: Vec<String> = [0, 7, 70, 71, 700, 710, 999, 1_000]
            .iter()
            .map(|ms| base.plus_millis(*ms).to_rfc3339())
            .collect();
        assert_eq!(texts[0], "2026-11-23T09:00:48.000Z");
        assert_eq!(texts[1], "2026-11-23T09:00:48.007Z");
        assert_eq!(texts[5], "2026-11-23T09:00:48.710Z");
        assert!(texts.iter().all(|t| t.len() == texts[0].len()), "{texts:?}");
        assert!(texts.windows(2).all(|w| w[0] < w[1]), "{texts:?}");
        for t in &texts {
            assert_eq!(Timestamp::parse_rfc3339(t).unwrap().to_rfc3339(), *t);
        }
    }
}
