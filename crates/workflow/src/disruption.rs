//! Disruption messaging (F2, F3): which customers of an incident's segment get a message, and
//! what each one says. A segment names where (regions) and what (products or watched terms
//! mentioned in open cases), narrowed by tier and customer value; each customer's text is the
//! approved template version for their locale, filled with what we know about them, the
//! incident and the operational status feed. A fact that is stale or missing is never stated:
//! its variable takes the draft's fallback wording instead, and the draft says so.
//!
//! Pure: the API loads the candidates, consents and facts, asks here, and stores the answer.

use crate::templates::{CompiledBody, TemplateError, TemplateVersion, Variables, select};
use sb_domain::{Customer, Platform, Tier};
use std::collections::BTreeMap;

/// Most customers one disruption message may go to; beyond that, narrow the segment.
pub const MAX_AUDIENCE: usize = 20_000;

/// Who an incident affects. At least one of `regions` and `about` is required: a message to
/// every customer is a broadcast, not disruption messaging.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Segment {
    /// Customers in any of these regions (the customer's or their latest message's).
    pub regions: Vec<String>,
    /// Customers with an open case mentioning any of these products or watched terms.
    pub about: Vec<String>,
    /// Only these tiers; empty is every tier.
    pub tiers: Vec<Tier>,
    /// Only customers whose value (lifetime value, in the currency the CRM import used) is at
    /// least this.
    pub min_value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("a segment needs `regions` or `about` (or both)")]
    Unbounded,
    #[error("`{0}` is empty or longer than 100 characters")]
    BadTerm(&'static str),
    #[error("`min_value` must be a finite number of at least 0")]
    BadValue,
}

impl Segment {
    pub fn validate(&self) -> Result<(), SegmentError> {
        if self.regions.is_empty() && self.about.is_empty() {
            return Err(SegmentError::Unbounded);
        }
        let bad = |t: &String| t.trim().is_empty() || t.chars().count() > 100;
        if self.regions.iter().any(bad) {
            return Err(SegmentError::BadTerm("regions"));
        }
        if self.about.iter().any(bad) {
            return Err(SegmentError::BadTerm("about"));
        }
        if self.min_value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(SegmentError::BadValue);
        }
        Ok(())
    }

    /// Whether a candidate (already in the regions and cases asked for) passes the tier and
    /// value conditions.
    pub fn admits(&self, customer: &Customer) -> bool {
        (self.tiers.is_empty() || self.tiers.contains(&customer.tier))
            && self.min_value.is_none_or(|v| customer.lifetime_value >= v)
    }
}

/// Why a customer of the segment gets nothing. Listed in the preview so the approver sees
/// exactly who is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// Opted out of outreach on the channel the message would use (G6).
    OptedOut,
    /// Has never written on a platform we can message privately.
    NoChannel,
    /// The platform's connector is not configured on this server.
    ChannelNotConfigured,
    /// An earlier approved disruption of the same incident already messaged them.
    AlreadyNotified,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::NoChannel => "no_channel",
            Self::ChannelNotConfigured => "channel_not_configured",
            Self::AlreadyNotified => "already_notified",
        }
    }
}

/// The outbox target that messages a customer privately on `platform`, if any.
pub fn target_for(platform: Platform) -> Option<&'static str> {
    match platform.as_str() {
        "facebook" | "instagram" => Some("meta"),
        "x" => Some("x"),
        "linkedin" => Some("linkedin"),
        "tiktok" => Some("tiktok"),
        "email" => Some("smtp"),
        _ => None,
    }
}

/// The locale to write to a customer in: their language, with their country when the region
/// is a two-letter country code (`pt` in `BR` is `pt-BR`). Empty when unknown: the default
/// locale then applies.
pub fn customer_locale(customer: &Customer) -> String {
    let Some(language) = customer
        .language
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "und")
    else {
        return String::new();
    };
    if language.contains(['-', '_']) {
        return language.to_owned();
    }
    match customer
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()))
    {
        Some(country) => format!("{language}-{}", country.to_ascii_uppercase()),
        None => language.to_owned(),
    }
}

/// One customer's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    pub text: String,
    pub version: u32,
    pub locale: String,
    pub tone: String,
    /// Variables that took the fallback wording because the fact behind them was stale or
    /// missing.
    pub fallbacks: Vec<String>,
}

/// Picks the approved version of `key` for `locale` (through the fallback chain) and fills
/// it. A variable the body needs that `vars` lacks takes `fallbacks[name]` when given, and is
/// listed in `Filled::fallbacks`; a placeholder's own default (`{{status.x | "…"}}`) counts
/// as a fallback too. Anything still missing is an error: nothing half-filled is drafted.
pub fn fill(
    versions: &[TemplateVersion],
    key: &str,
    tone: Option<&str>,
    locale: &str,
    default_locale: &str,
    vars: &Variables,
    fallbacks: &BTreeMap<String, String>,
) -> Result<Filled, TemplateError> {
    let chosen = select(versions, key, locale, tone, default_locale)?;
    let body = CompiledBody::parse(&chosen.body)?;
    let mut vars = vars.clone();
    let mut used = Vec::new();
    for name in body.variables() {
        if vars.get(name).is_some() {
            continue;
        }
        if let Some(wording) = fallbacks.get(name).filter(|w| !w.trim().is_empty()) {
            vars.set(name, wording.clone());
            used.push(name.to_owned());
        } else if !body.required_variables().any(|r| r == name) {
            used.push(name.to_owned());
        }
    }
    Ok(Filled {
        text: chosen.render(&vars)?,
        version: chosen.version,
        locale: chosen.locale.clone(),
        tone: chosen.tone.clone(),
        fallbacks: used,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::templates::TemplateState;
    use sb_domain::{CustomerId, Timestamp};

    fn customer(tier: Tier, value: f64, language: Option<&str>, region: Option<&str>) -> Customer {
        Customer {
            id: CustomerId::generate(),
            display_name: Some("Ana Lima".into()),
            region: region.map(str::to_owned),
            language: language.map(str::to_owned),
            tier,
            lifetime_value: value,
            created_at: Timestamp(0),
            identities: Vec::new(),
        }
    }

    fn version(locale: &str, number: u32, state: TemplateState, body: &str) -> TemplateVersion {
        TemplateVersion {
            key: "recall".into(),
            version: number,
            locale: locale.into(),
            tone: "neutral".into(),
            body: body.into(),
            state,
            created_by: "ana".into(),
            approved_by: None,
            created_at: Timestamp(0),
            approved_at: None,
        }
    }

    fn library() -> Vec<TemplateVersion> {
        vec![
            version(
                "en",
                1,
                TemplateState::Approved,
                "Hi {{customer.first_name}}, the X200 is recalled. Replacements: {{status.X200}}.",
            ),
            version(
                "de",
                1,
                TemplateState::Approved,
                "Hallo {{customer.first_name}}, der X200 wird zurückgerufen. {{status.X200 | \"Wir melden uns.\"}}",
            ),
            version("pt", 2, TemplateState::Draft, "Olá {{customer.first_name}}"),
        ]
    }

    #[test]
    fn a_segment_needs_a_where_or_a_what_and_sane_bounds() {
        assert_eq!(Segment::default().validate(), Err(SegmentError::Unbounded));
        let s = Segment {
            regions: vec!["eu-west".into()],
            ..Segment::default()
        };
        assert_eq!(s.validate(), Ok(()));
        let s = Segment {
            about: vec![" ".into()],
            ..Segment::default()
        };
        assert_eq!(s.validate(), Err(SegmentError::BadTerm("about")));
        let s = Segment {
            about: vec!["X200".into()],
            min_value: Some(f64::NAN),
            ..Segment::default()
        };
        assert_eq!(s.validate(), Err(SegmentError::BadValue));
    }

    #[test]
    fn tier_and_value_narrow_the_segment() {
        let s = Segment {
            about: vec!["X200".into()],
            tiers: vec![Tier::Vip, Tier::Premium],
            min_value: Some(500.0),
            ..Segment::default()
        };
        assert!(s.admits(&customer(Tier::Vip, 900.0, None, None)));
        assert!(s.admits(&customer(Tier::Premium, 500.0, None, None)));
        assert!(!s.admits(&customer(Tier::Standard, 900.0, None, None)));
        assert!(!s.admits(&customer(Tier::Vip, 499.99, None, None)));
    }

    #[test]
    fn a_portuguese_speaker_in_brazil_is_written_to_in_pt_br() {
        assert_eq!(
            customer_locale(&customer(Tier::Standard, 0.0, Some("pt"), Some("br"))),
            "pt-BR"
        );
        assert_eq!(
            customer_locale(&customer(Tier::Standard, 0.0, Some("de"), Some("eu-west"))),
            "de"
        );
        assert_eq!(
            customer_locale(&customer(Tier::Standard, 0.0, Some("und"), None)),
            ""
        );
    }

    #[test]
    fn a_fresh_fact_is_stated_and_a_stale_one_takes_the_fallback_wording() {
        let mut vars = Variables::new();
        vars.set("customer.first_name", "Ana");
        let mut fresh = vars.clone();
        fresh.set("status.X200", "in stock from Monday");
        let fallbacks = BTreeMap::from([(
            "status.X200".to_owned(),
            "we will write again as soon as we know".to_owned(),
        )]);
        let f = fill(
            &library(),
            "recall",
            None,
            "en-GB",
            "en",
            &fresh,
            &fallbacks,
        )
        .unwrap();
        assert_eq!(
            f.text,
            "Hi Ana, the X200 is recalled. Replacements: in stock from Monday."
        );
        assert!(f.fallbacks.is_empty());
        let f = fill(&library(), "recall", None, "en", "en", &vars, &fallbacks).unwrap();
        assert_eq!(
            f.text,
            "Hi Ana, the X200 is recalled. Replacements: we will write again as soon as we know."
        );
        assert_eq!(f.fallbacks, ["status.X200"]);
    }

    #[test]
    fn the_templates_own_default_is_a_fallback_too_and_nothing_half_filled_is_drafted() {
        let mut vars = Variables::new();
        vars.set("customer.first_name", "Jonas");
        let f = fill(
            &library(),
            "recall",
            None,
            "de-AT",
            "en",
            &vars,
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(
            f.text,
            "Hallo Jonas, der X200 wird zurückgerufen. Wir melden uns."
        );
        assert_eq!((f.locale.as_str(), f.fallbacks.len()), ("de", 1));
        let err = fill(
            &library(),
            "recall",
            None,
            "en",
            "en",
            &vars,
            &BTreeMap::new(),
        );
        assert_eq!(
            err,
            Err(TemplateError::MissingVariables(vec!["status.X200".into()]))
        );
    }

    #[test]
    fn drafts_are_never_used_and_unknown_languages_get_the_default() {
        let mut vars = Variables::new();
        vars.set("customer.first_name", "Rui")
            .set("status.X200", "soon");
        let f = fill(
            &library(),
            "recall",
            None,
            "pt-BR",
            "en",
            &vars,
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!((f.locale.as_str(), f.version), ("en", 1));
    }

    #[test]
    fn private_channels_by_platform() {
        assert_eq!(
            target_for(Platform::parse("instagram").unwrap()),
            Some("meta")
        );
        assert_eq!(target_for(Platform::parse("email").unwrap()), Some("smtp"));
        assert_eq!(target_for(Platform::parse("generic").unwrap()), None);
    }
}
