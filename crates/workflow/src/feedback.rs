//! Satisfaction surveys (D10): whether a resolved case gets one, how long its link stays
//! open, which answers are valid, and how CSAT, NPS and CES are computed from the answers.
//! Quality review sampling and its scorecard (D11) are in [`qa`]. Nothing here stores a
//! survey or reads a clock; the pipeline creates the survey when it resolves a case and the
//! API records answers.
//!
//! ```toml
//! [workflow.surveys]
//! enabled = true
//! expire_days = 7                          # 0 closes each link the moment it is made
//! base_url = "https://care.example.com"    # where customers reach this server
//! link_key = "…at least 32 characters…"    # may be sealed (enc:v1:…)
//! ```
//!
//! Only the SHA-256 of a survey's token is stored. The token itself is derived from the
//! survey id with `link_key` (HMAC-SHA-256), so the server can show an agent the link again
//! without the database ever holding it: whoever reads the database cannot answer a survey.

pub mod qa;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest comment a customer may leave, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Shortest `link_key` accepted: 32 characters of a random string carry enough entropy.
pub const MIN_LINK_KEY_CHARS: usize = 32;
/// Longest validity accepted for a survey link.
pub const MAX_EXPIRE_DAYS: u32 = 365;

const DAY_MS: i64 = 86_400_000;

/// The secret survey tokens are derived with. Never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct LinkKey(String);

impl LinkKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(…)")
    }
}

/// `[workflow.surveys]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Days a link stays open after the resolution that created it.
    #[serde(default = "default_expire_days")]
    pub expire_days: u32,
    /// The public address of this server; links are `{base_url}/survey/{token}`.
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub link_key: Option<LinkKey>,
}

fn default_expire_days() -> u32 {
    7
}

impl Default for SurveyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            expire_days: default_expire_days(),
            base_url: None,
            link_key: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct SurveyConfigError(String);

/// The survey settings, checked. Disabled surveys hold no key and make no links.
#[derive(Clone, Debug, Default)]
pub struct Surveys {
    enabled: Option<EnabledSurveys>,
}

#[derive(Clone, Debug)]
struct EnabledSurveys {
    valid_days: u32,
    base_url: String,
    link_key: LinkKey,
}

impl Surveys {
    pub fn compile(c: &SurveyConfig) -> Result<Self, SurveyConfigError> {
        let err = |m: String| Err(SurveyConfigError(m));
        if c.expire_days > MAX_EXPIRE_DAYS {
            return err(format!(
                "expire_days must be at most {MAX_EXPIRE_DAYS}, got {}",
                c.expire_days
            ));
        }
        if !c.enabled {
            return Ok(Self::default());
        }
        let Some(base_url) = c.base_url.as_deref().map(str::trim) else {
            return err("base_url is required when surveys are enabled".into());
        };
        let host = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"));
        if host
            .is_none_or(|h| h.trim_end_matches('/').is_empty() || h.contains(char::is_whitespace))
        {
            return err(format!(
                "base_url must be an http:// or https:// address, got `{base_url}`"
            ));
        }
        let Some(link_key) = c.link_key.clone() else {
            return err("link_key is required when surveys are enabled".into());
        };
        if link_key.expose().chars().count() < MIN_LINK_KEY_CHARS {
            return err(format!(
                "link_key must be at least {MIN_LINK_KEY_CHARS} characters"
            ));
        }
        Ok(Self {
            enabled: Some(EnabledSurveys {
                valid_days: c.expire_days,
                base_url: base_url.trim_end_matches('/').to_owned(),
                link_key,
            }),
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled.is_some()
    }

    /// The key tokens are derived with; `None` when surveys are off.
    pub fn link_key(&self) -> Option<&str> {
        self.enabled.as_ref().map(|e| e.link_key.expose())
    }

    /// Days a new link stays open.
    pub fn valid_days(&self) -> u32 {
        self.enabled.as_ref().map_or(0, |e| e.valid_days)
    }

    pub fn valid_ms(&self) -> i64 {
        i64::from(self.valid_days()) * DAY_MS
    }

    /// The link a customer opens for `token`; `None` when surveys are off.
    pub fn link(&self, token: &str) -> Option<String> {
        self.enabled
            .as_ref()
            .map(|e| format!("{}/survey/{token}", e.base_url))
    }
}

/// One customer's answers, checked: CSAT 1–5 (required), NPS 0–10, CES 1–7, a comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SurveyAnswer {
    pub csat: u8,
    pub nps: Option<u8>,
    pub ces: Option<u8>,
    pub comment: Option<String>,
}

/// An answer refused, naming the field to blame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{detail}")]
pub struct AnswerError {
    pub field: &'static str,
    pub detail: String,
}

/// The questions, their scales and whether each must be answered.
pub const QUESTIONS: [Question; 4] = [
    Question {
        field: "csat",
        text: "How satisfied are you with how we handled your request?",
        kind: "scale",
        min: Some(1),
        max: Some(5),
        required: true,
    },
    Question {
        field: "nps",
        text: "How likely are you to recommend us to a friend or colleague?",
        kind: "scale",
        min: Some(0),
        max: Some(10),
        required: false,
    },
    Question {
        field: "ces",
        text: "How easy was it to get your issue resolved?",
        kind: "scale",
        min: Some(1),
        max: Some(7),
        required: false,
    },
    Question {
        field: "comment",
        text: "Anything else you would like to tell us?",
        kind: "text",
        min: None,
        max: None,
        required: false,
    },
];

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Question {
    pub field: &'static str,
    pub text: &'static str,
    /// `scale` (a whole number from `min` to `max`) or `text`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u8>,
    pub required: bool,
}

fn scale(field: &'static str, value: Option<i64>) -> Result<Option<u8>, AnswerError> {
    let Some(v) = value else { return Ok(None) };
    let q = QUESTIONS.iter().find(|q| q.field == field);
    let (min, max) = q.map_or((0, 0), |q| (q.min.unwrap_or(0), q.max.unwrap_or(0)));
    u8::try_from(v)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .map(Some)
        .ok_or_else(|| AnswerError {
            field,
            detail: format!("`{field}` must be a whole number from {min} to {max}, got {v}"),
        })
}

impl SurveyAnswer {
    /// Checks raw answers; a blank comment counts as none.
    pub fn check(
        csat: Option<i64>,
        nps: Option<i64>,
        ces: Option<i64>,
        comment: Option<&str>,
    ) -> Result<Self, AnswerError> {
        let csat = scale("csat", csat)?.ok_or_else(|| AnswerError {
            field: "csat",
            detail: "`csat` is required".into(),
        })?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(AnswerError {
                field: "comment",
                detail: format!("`comment` must be at most {MAX_COMMENT_CHARS} characters"),
            });
        }
        Ok(Self {
            csat,
            nps: scale("nps", nps)?,
            ces: scale("ces", ces)?,
            comment: comment.map(str::to_owned),
        })
    }
}

/// Counts over a set of answers, enough to compute every figure exactly (docs/METRICS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub responses: i64,
    /// Answers with CSAT 4 or 5.
    pub satisfied: i64,
    pub nps_responses: i64,
    /// NPS 9–10.
    pub promoters: i64,
    /// NPS 0–6.
    pub detractors: i64,
    pub ces_responses: i64,
    pub ces_sum: i64,
}

impl Tally {
    pub fn add(&mut self, csat: u8, nps: Option<u8>, ces: Option<u8>) {
        self.responses += 1;
        self.satisfied += i64::from(csat >= 4);
        if let Some(n) = nps {
            self.nps_responses += 1;
            self.promoters += i64::from(n >= 9);
            self.detractors += i64::from(n <= 6);
        }
        if let Some(c) = ces {
            self.ces_responses += 1;
            self.ces_sum += i64::from(c);
        }
    }

    /// CSAT % (share of 4–5), NPS (% promoters − % detractors) and the CES mean, each over the
    /// answers that gave that score; `None` where no answer did.
    pub fn summary(&self) -> Summary {
        let share = |part: i64, whole: i64| 100.0 * part as f64 / whole as f64;
        Summary {
            responses: self.responses,
            csat_percent: (self.responses > 0).then(|| share(self.satisfied, self.responses)),
            nps_responses: self.nps_responses,
            nps: (self.nps_responses > 0).then(|| {
                share(self.promoters, self.nps_responses)
                    - share(self.detractors, self.nps_responses)
            }),
            ces_responses: self.ces_responses,
            ces_mean: (self.ces_responses > 0)
                .then(|| self.ces_sum as f64 / self.ces_responses as f64),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub responses: i64,
    pub csat_percent: Option<f64>,
    pub nps_responses: i64,
    pub nps: Option<f64>,
    pub ces_responses: i64,
    pub ces_mean: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(days: u32, url: &str, key: &str) -> SurveyConfig {
        SurveyConfig {
            enabled: true,
            expire_days: days,
            base_url: Some(url.into()),
            link_key: Some(LinkKey::new(key)),
        }
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn an_enabled_survey_needs_a_public_address_and_a_long_key() {
        let s = Surveys::compile(&enabled(7, "https://care.example.com/", KEY)).unwrap();
        assert_eq!(
            s.link("abc").as_deref(),
            Some("https://care.example.com/survey/abc")
        );
        assert_eq!(s.valid_ms(), 7 * DAY_MS);
        for (c, wanted) in [
            (enabled(7, "care.example.com", KEY), "base_url must be"),
            (enabled(7, "https://", KEY), "base_url must be"),
            (enabled(7, "https://care.example.com", "short"), "link_key"),
            (enabled(400, "https://care.example.com", KEY), "expire_days"),
            (
                SurveyConfig {
                    base_url: None,
                    ..enabled(7, "", KEY)
                },
                "base_url is required",
            ),
        ] {
            let e = Surveys::compile(&c).unwrap_err().to_string();
            assert!(e.contains(wanted), "{e}");
        }
        let off = Surveys::compile(&SurveyConfig::default()).unwrap();
        assert!(!off.enabled() && off.link("abc").is_none() && off.link_key().is_none());
    }

    #[test]
    fn the_link_key_never_shows_in_debug_output() {
        let c = enabled(7, "https://care.example.com", KEY);
        assert!(!format!("{c:?}").contains(KEY));
    }

    #[test]
    fn answers_out_of_their_scale_name_the_field() {
        let ok = SurveyAnswer::check(Some(5), Some(10), Some(1), Some("  Quick and kind. "));
        assert_eq!(
            ok.unwrap(),
            SurveyAnswer {
                csat: 5,
                nps: Some(10),
                ces: Some(1),
                comment: Some("Quick and kind.".into())
            }
        );
        let blame = |csat, nps, ces, comment: &str| {
            SurveyAnswer::check(csat, nps, ces, Some(comment))
                .unwrap_err()
                .field
        };
        assert_eq!(blame(None, Some(3), None, ""), "csat");
        assert_eq!(blame(Some(0), None, None, ""), "csat");
        assert_eq!(blame(Some(6), None, None, ""), "csat");
        assert_eq!(blame(Some(3), Some(11), None, ""), "nps");
        assert_eq!(blame(Some(3), Some(-1), None, ""), "nps");
        assert_eq!(blame(Some(3), None, Some(0), ""), "ces");
        assert_eq!(blame(Some(3), None, Some(8), ""), "ces");
        let long = "ä".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(blame(Some(3), None, None, &long), "comment");
        let blank = SurveyAnswer::check(Some(3), Some(0), Some(7), Some("   ")).unwrap();
        assert_eq!(blank.comment, None);
    }

    #[test]
    fn figures_follow_the_published_definitions() {
        // Ten answers as a week of a small team might bring them.
        let answers: [(u8, Option<u8>, Option<u8>); 10] = [
            (5, Some(10), Some(7)),
            (4, Some(9), Some(6)),
            (4, Some(8), None),
            (3, Some(7), Some(4)),
            (2, Some(6), Some(2)),
            (1, Some(0), Some(1)),
            (5, None, Some(7)),
            (5, Some(10), None),
            (4, None, None),
            (2, Some(3), Some(3)),
        ];
        let mut t = Tally::default();
        for (c, n, e) in answers {
            t.add(c, n, e);
        }
        let s = t.summary();
        assert_eq!(s.responses, 10);
        // 4–5: answers 1, 2, 3, 7, 8, 9 → 6 of 10.
        assert_eq!(s.csat_percent, Some(60.0));
        // NPS given 8 times: promoters 10, 9, 10 (3); detractors 6, 0, 3 (3) → 0.
        assert_eq!(s.nps_responses, 8);
        assert_eq!(s.nps, Some(0.0));
        // CES given 7 times: 7+6+4+2+1+7+3 = 30 → 30/7.
        assert_eq!(s.ces_responses, 7);
        assert!((s.ces_mean.unwrap() - 30.0 / 7.0).abs() < 1e-12);
        let none = Tally::default().summary();
        assert_eq!(
            (none.csat_percent, none.nps, none.ces_mean),
            (None, None, None)
        );
    }
}
