//! Silences: an operator's "we know, stop paging" for a while. A silence matches firings by
//! series pattern, by rule id, or both; a matching firing is reported as suppressed, never
//! dropped without a trace. A silence applies from `starts_at` (inclusive) to `ends_at`
//! (exclusive), both epoch milliseconds, and the engine forgets it once it has ended.

use super::{RuleError, pattern};
use serde::{Deserialize, Serialize};

/// Which firings a silence covers. At least one field must be set; when both are, both must
/// match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceMatcher {
    /// A series pattern, matched against the series whose bucket fired.
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub rule_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    pub id: String,
    pub matcher: SilenceMatcher,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
    pub created_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("a silence needs an id")]
    MissingId,
    #[error("a silence must match a series pattern, a rule id, or both")]
    EmptyMatcher,
    #[error("the silence's series pattern is invalid: {0}")]
    InvalidPattern(RuleError),
    #[error("a silence must end after it starts")]
    InvalidWindow,
    #[error("a silence needs a reason and the name of who created it")]
    MissingAccountability,
    #[error("too many silences are active (at most {0})")]
    TooMany(usize),
}

impl SilenceError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingId => "silence_missing_id",
            Self::EmptyMatcher => "silence_empty_matcher",
            Self::InvalidPattern(_) => "silence_invalid_pattern",
            Self::InvalidWindow => "silence_invalid_window",
            Self::MissingAccountability => "silence_missing_accountability",
            Self::TooMany(_) => "silence_limit",
        }
    }
}

impl Silence {
    pub fn validate(&self) -> Result<(), SilenceError> {
        if self.id.trim().is_empty() {
            return Err(SilenceError::MissingId);
        }
        let m = &self.matcher;
        if m.series.is_none() && m.rule_id.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(SilenceError::EmptyMatcher);
        }
        if let Some(p) = &m.series {
            pattern::validate(p).map_err(SilenceError::InvalidPattern)?;
        }
        if self.ends_at <= self.starts_at {
            return Err(SilenceError::InvalidWindow);
        }
        if self.reason.trim().is_empty() || self.created_by.trim().is_empty() {
            return Err(SilenceError::MissingAccountability);
        }
        Ok(())
    }

    pub fn is_active(&self, now_ms: i64) -> bool {
        self.starts_at <= now_ms && now_ms < self.ends_at
    }

    pub fn has_ended(&self, now_ms: i64) -> bool {
        now_ms >= self.ends_at
    }

    /// Whether this silence, if active, covers a firing of `rule_id` from `series`.
    pub fn covers(&self, rule_id: &str, series: &str) -> bool {
        let m = &self.matcher;
        m.rule_id.as_deref().is_none_or(|r| r == rule_id)
            && m.series
                .as_deref()
                .is_none_or(|p| pattern::matches(p, series))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(series: Option<&str>, rule_id: Option<&str>) -> Silence {
        Silence {
            id: "sil-1".into(),
            matcher: SilenceMatcher {
                series: series.map(Into::into),
                rule_id: rule_id.map(Into::into),
            },
            starts_at: 1_000,
            ends_at: 2_000,
            reason: "known outage, status page is up".into(),
            created_by: "maya".into(),
        }
    }

    #[test]
    fn a_silence_applies_from_its_start_until_just_before_its_end() {
        let s = silence(Some("platform:*"), None);
        assert!(!s.is_active(999));
        assert!(s.is_active(1_000));
        assert!(s.is_active(1_999));
        assert!(!s.is_active(2_000));
        assert!(s.has_ended(2_000));
    }

    #[test]
    fn matchers_combine_series_and_rule() {
        assert!(silence(Some("platform:*"), None).covers("any", "platform:x"));
        assert!(!silence(Some("platform:*"), None).covers("any", "all"));
        assert!(silence(None, Some("surge")).covers("surge", "all"));
        assert!(!silence(None, Some("surge")).covers("drop", "all"));
        let both = silence(Some("watch:*"), Some("surge"));
        assert!(both.covers("surge", "watch:products:X200"));
        assert!(!both.covers("drop", "watch:products:X200"));
        assert!(!both.covers("surge", "all"));
    }

    #[test]
    fn bad_silences_are_refused_with_stable_codes() {
        silence(Some("all"), None).validate().unwrap();
        assert_eq!(
            silence(None, None).validate().unwrap_err().code(),
            "silence_empty_matcher"
        );
        assert_eq!(
            silence(Some("x?"), None).validate().unwrap_err().code(),
            "silence_invalid_pattern"
        );
        let mut s = silence(Some("all"), None);
        s.ends_at = s.starts_at;
        assert_eq!(s.validate().unwrap_err().code(), "silence_invalid_window");
        let mut s = silence(Some("all"), None);
        s.created_by = String::new();
        assert_eq!(
            s.validate().unwrap_err().code(),
            "silence_missing_accountability"
        );
    }
}
