//! Reply templates (D6): versioned, localized, in tone variants, with variables filled from the
//! customer, the case, the order and operational facts, and a four-eyes approval lifecycle —
//! only approved versions are ever sent. This module picks the version to send, renders it and
//! validates state changes; it never stores versions or sends anything.
//!
//! A template is identified by its `key` (`delivery_delay_apology`); each `TemplateVersion` is
//! one immutable text for a locale and tone. Editing means writing a new version number.

mod body;
mod locale;

use serde::{Deserialize, Serialize};

use sb_domain::Timestamp;

pub use body::{CompiledBody, Variables};
pub use locale::{canonical as canonical_locale, fallback_chain, same_locale};

/// The tone every template should have a variant in; used when the requested tone is missing.
pub const NEUTRAL_TONE: &str = "neutral";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateState {
    Draft,
    PendingApproval,
    Approved,
    Retired,
}

impl TemplateState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PendingApproval => "pending_approval",
            Self::Approved => "approved",
            Self::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "pending_approval" => Self::PendingApproval,
            "approved" => Self::Approved,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub key: String,
    pub version: u32,
    /// BCP 47 tag (`pt-BR`); matched case-insensitively.
    pub locale: String,
    /// `neutral` by default; `warm`, `formal`, … as the team defines them.
    pub tone: String,
    pub body: String,
    pub state: TemplateState,
    pub created_by: String,
    pub approved_by: Option<String>,
    pub created_at: Timestamp,
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("template syntax error at byte {at}: {problem}")]
    Syntax { at: usize, problem: String },
    #[error("missing template variables: {}", .0.join(", "))]
    MissingVariables(Vec<String>),
    #[error("no template `{0}`")]
    UnknownTemplate(String),
    #[error("template `{key}` has no approved version for locale `{locale}` or its fallbacks")]
    NoApprovedVersion { key: String, locale: String },
    #[error("template `{key}` v{version} is {} and cannot be sent", .state.as_str())]
    NotApproved {
        key: String,
        version: u32,
        state: TemplateState,
    },
    #[error("a template cannot go from {} to {}", .from.as_str(), .to.as_str())]
    InvalidTransition {
        from: TemplateState,
        to: TemplateState,
    },
    #[error("`{by}` wrote template `{key}` v{version} and cannot approve it; another person must")]
    OwnTemplate {
        key: String,
        version: u32,
        by: String,
    },
    #[error("a template change must name who made it")]
    MissingActor,
    #[error("template `{key}` v{version} has an empty `{field}`")]
    Incomplete {
        key: String,
        version: u32,
        field: &'static str,
    },
}

impl TemplateVersion {
    /// Renders this version for sending; anything but an approved version is refused.
    pub fn render(&self, vars: &Variables) -> Result<String, TemplateError> {
        if self.state != TemplateState::Approved {
            return Err(TemplateError::NotApproved {
                key: self.key.clone(),
                version: self.version,
                state: self.state,
            });
        }
        CompiledBody::parse(&self.body)?.render(vars)
    }

    /// A version is complete when it names its key, locale and tone and its body parses.
    pub fn validate(&self) -> Result<CompiledBody, TemplateError> {
        let incomplete = |field| TemplateError::Incomplete {
            key: self.key.clone(),
            version: self.version,
            field,
        };
        if self.key.trim().is_empty() {
            return Err(incomplete("key"));
        }
        if canonical_locale(&self.locale).is_empty() {
            return Err(incomplete("locale"));
        }
        if self.tone.trim().is_empty() {
            return Err(incomplete("tone"));
        }
        if self.body.trim().is_empty() {
            return Err(incomplete("body"));
        }
        CompiledBody::parse(&self.body)
    }
}

/// Picks the version to send. Walks the locale [`fallback_chain`]; in the first locale with an
/// approved version it prefers the requested tone, then `neutral`, then any other tone — a
/// Portuguese speaker is better served by Portuguese in another tone than by English in the
/// requested one. Within a tone the highest approved version number wins.
pub fn select<'a>(
    versions: &'a [TemplateVersion],
    key: &str,
    locale: &str,
    tone: Option<&str>,
    default_locale: &str,
) -> Result<&'a TemplateVersion, TemplateError> {
    let of_key: Vec<&TemplateVersion> = versions.iter().filter(|v| v.key == key).collect();
    if of_key.is_empty() {
        return Err(TemplateError::UnknownTemplate(key.to_string()));
    }
    let tone = tone.map(str::trim).filter(|t| !t.is_empty());
    for candidate_locale in fallback_chain(locale, default_locale) {
        let approved: Vec<&TemplateVersion> = of_key
            .iter()
            .copied()
            .filter(|v| v.state == TemplateState::Approved)
            .filter(|v| canonical_locale(&v.locale) == candidate_locale)
            .collect();
        for wanted in tone.into_iter().chain([NEUTRAL_TONE]) {
            let best = approved
                .iter()
                .copied()
                .filter(|v| v.tone.trim().eq_ignore_ascii_case(wanted))
                .max_by_key(|v| v.version);
            if let Some(best) = best {
                return Ok(best);
            }
        }
        // Ties between other tones go to the alphabetically first tone, so the choice is stable.
        let any_tone = approved
            .iter()
            .copied()
            .max_by(|a, b| a.version.cmp(&b.version).then_with(|| b.tone.cmp(&a.tone)));
        if let Some(best) = any_tone {
            return Ok(best);
        }
    }
    Err(TemplateError::NoApprovedVersion {
        key: key.to_string(),
        locale: locale.to_string(),
    })
}

/// Moves a version through its lifecycle:
/// draft → pending approval (submit; the version must be complete and its body must parse),
/// pending approval → approved (by someone other than the author: four eyes),
/// pending approval → draft (reject), approved → retired. Anything else is refused and the
/// version is left unchanged.
pub fn transition(
    v: &mut TemplateVersion,
    to: TemplateState,
    by: &str,
    at: Timestamp,
) -> Result<(), TemplateError> {
    use TemplateState::*;
    let by = by.trim();
    if by.is_empty() {
        return Err(TemplateError::MissingActor);
    }
    match (v.state, to) {
        (Draft, PendingApproval) => {
            v.validate()?;
        }
        (PendingApproval, Approved) => {
            if by == v.created_by.trim() {
                return Err(TemplateError::OwnTemplate {
                    key: v.key.clone(),
                    version: v.version,
                    by: by.to_string(),
                });
            }
            v.approved_by = Some(by.to_string());
            v.approved_at = Some(at);
        }
        (PendingApproval, Draft) => {
            v.approved_by = None;
            v.approved_at = None;
        }
        (Approved, Retired) => {}
        (from, to) => return Err(TemplateError::InvalidTransition { from, to }),
    }
    v.state = to;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn version(
        locale: &str,
        tone: &str,
        version: u32,
        state: TemplateState,
        body: &str,
    ) -> TemplateVersion {
        TemplateVersion {
            key: "delivery_delay".to_string(),
            version,
            locale: locale.to_string(),
            tone: tone.to_string(),
            body: body.to_string(),
            state,
            created_by: "ana".to_string(),
            approved_by: None,
            created_at: Timestamp(1_000),
            approved_at: None,
        }
    }

    use TemplateState::*;

    fn library() -> Vec<TemplateVersion> {
        vec![
            version("en", "neutral", 1, Approved, "Your order is delayed."),
            version(
                "en",
                "neutral",
                2,
                Approved,
                "Your order {{order.id}} is delayed.",
            ),
            version("en", "neutral", 3, Draft, "DRAFT en"),
            version(
                "en",
                "warm",
                1,
                Approved,
                "So sorry, {{customer.first_name | \"friend\"}}!",
            ),
            version("pt", "neutral", 1, Approved, "O seu pedido está atrasado."),
            version(
                "pt",
                "formal",
                4,
                Approved,
                "Lamentamos o atraso do seu pedido.",
            ),
            version(
                "pt-BR",
                "neutral",
                5,
                PendingApproval,
                "Seu pedido atrasou.",
            ),
            version("fr", "formal", 1, Approved, "Nous sommes désolés."),
            version("fr", "formal", 2, Retired, "Ancienne version."),
            version("de", "neutral", 1, Retired, "Alt."),
        ]
    }

    fn pick(locale: &str, tone: Option<&str>) -> Result<(String, String, u32), TemplateError> {
        let lib = library();
        select(&lib, "delivery_delay", locale, tone, "en")
            .map(|v| (v.locale.clone(), v.tone.clone(), v.version))
    }

    fn picked(
        locale: &str,
        tone: &str,
        version: u32,
    ) -> Result<(String, String, u32), TemplateError> {
        Ok((locale.to_string(), tone.to_string(), version))
    }

    #[test]
    fn brazilian_customer_gets_portuguese_until_the_brazilian_text_is_approved() {
        assert_eq!(pick("pt-BR", None), picked("pt", "neutral", 1));
        let mut lib = library();
        let br = lib.iter_mut().find(|v| v.locale == "pt-BR").unwrap();
        transition(br, Approved, "bo", Timestamp(2_000)).unwrap();
        let chosen = select(&lib, "delivery_delay", "PT_br", None, "en").unwrap();
        assert_eq!((chosen.locale.as_str(), chosen.version), ("pt-BR", 5));
    }

    #[test]
    fn unknown_languages_fall_back_to_the_default() {
        assert_eq!(pick("ja-JP", None), picked("en", "neutral", 2));
        assert_eq!(pick("", Some("warm")), picked("en", "warm", 1));
    }

    #[test]
    fn requested_tone_then_neutral_then_any_tone_in_the_same_language() {
        assert_eq!(pick("en-GB", Some("warm")), picked("en", "warm", 1));
        assert_eq!(pick("en", Some("Formal")), picked("en", "neutral", 2));
        assert_eq!(pick("pt", Some("formal")), picked("pt", "formal", 4));
        assert_eq!(pick("pt", Some("warm")), picked("pt", "neutral", 1));
        assert_eq!(pick("fr-CA", Some("warm")), picked("fr", "formal", 1));
    }

    #[test]
    fn drafts_pending_and_retired_versions_are_never_sent() {
        assert_eq!(pick("en", None).unwrap().2, 2, "v3 is a draft");
        assert_eq!(pick("fr", Some("formal")).unwrap().2, 1, "v2 is retired");
        let only_unapproved = vec![
            version("de", "neutral", 1, Retired, "Alt."),
            version("de", "neutral", 2, Draft, "Neu."),
        ];
        let err = select(&only_unapproved, "delivery_delay", "de-AT", None, "en").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template `delivery_delay` has no approved version for locale `de-AT` or its fallbacks"
        );
        let draft = version("en", "neutral", 9, Draft, "Hi");
        assert_eq!(
            draft.render(&Variables::new()).unwrap_err().to_string(),
            "template `delivery_delay` v9 is draft and cannot be sent"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = select(&library(), "welcome", "en", None, "en").unwrap_err();
        assert_eq!(err, TemplateError::UnknownTemplate("welcome".to_string()));
        assert_eq!(err.to_string(), "no template `welcome`");
    }

    #[test]
    fn the_chosen_version_renders_with_the_case_variables() {
        let lib = library();
        let mut vars = Variables::new();
        vars.set("order.id", "O-77");
        let v = select(&lib, "delivery_delay", "en", None, "en").unwrap();
        assert_eq!(v.render(&vars).unwrap(), "Your order O-77 is delayed.");
        let warm = select(&lib, "delivery_delay", "en", Some("warm"), "en").unwrap();
        assert_eq!(warm.render(&vars).unwrap(), "So sorry, friend!");
        assert_eq!(
            v.render(&Variables::new()).unwrap_err(),
            TemplateError::MissingVariables(vec!["order.id".to_string()])
        );
    }

    #[test]
    fn four_eyes_approval() {
        let mut v = version("en", "neutral", 4, Draft, "Hello {{customer.name}}");
        transition(&mut v, PendingApproval, "ana", Timestamp(2_000)).unwrap();
        let err = transition(&mut v, Approved, " ana ", Timestamp(3_000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`ana` wrote template `delivery_delay` v4 and cannot approve it; another person must"
        );
        assert_eq!(v.state, PendingApproval);
        transition(&mut v, Approved, "bo", Timestamp(3_000)).unwrap();
        assert_eq!(v.state, Approved);
        assert_eq!(v.approved_by.as_deref(), Some("bo"));
        assert_eq!(v.approved_at, Some(Timestamp(3_000)));
        transition(&mut v, Retired, "bo", Timestamp(4_000)).unwrap();
        assert_eq!(v.state, Retired);
    }

    #[test]
    fn rejected_versions_go_back_to_draft() {
        let mut v = version("en", "neutral", 4, PendingApproval, "Hello");
        transition(&mut v, Draft, "bo", Timestamp(2_000)).unwrap();
        assert_eq!((v.state, v.approved_by.clone()), (Draft, None));
    }

    #[test]
    fn other_moves_are_refused_and_leave_the_version_alone() {
        for (from, to) in [
            (Draft, Approved),
            (Draft, Retired),
            (Approved, Draft),
            (Approved, PendingApproval),
            (Retired, Approved),
            (Retired, Draft),
            (PendingApproval, Retired),
            (Approved, Approved),
        ] {
            let mut v = version("en", "neutral", 1, from, "Hello");
            let before = v.clone();
            assert_eq!(
                transition(&mut v, to, "bo", Timestamp(2_000)),
                Err(TemplateError::InvalidTransition { from, to })
            );
            assert_eq!(v, before);
        }
        assert_eq!(
            TemplateError::InvalidTransition {
                from: Retired,
                to: Approved
            }
            .to_string(),
            "a template cannot go from retired to approved"
        );
        let mut v = version("en", "neutral", 1, Draft, "Hello");
        assert_eq!(
            transition(&mut v, PendingApproval, "  ", Timestamp(0)),
            Err(TemplateError::MissingActor)
        );
    }

    #[test]
    fn broken_or_incomplete_versions_cannot_be_submitted() {
        let mut v = version("en", "neutral", 1, Draft, "Hello {{customer.name");
        assert!(matches!(
            transition(&mut v, PendingApproval, "ana", Timestamp(0)),
            Err(TemplateError::Syntax { at: 6, .. })
        ));
        assert_eq!(v.state, Draft);
        let mut v = version("", "neutral", 1, Draft, "Hello");
        v.locale = "_".to_string();
        let err = transition(&mut v, PendingApproval, "ana", Timestamp(0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template `delivery_delay` v1 has an empty `locale`"
        );
        let mut v = version("en", " ", 1, Draft, "Hello");
        assert!(matches!(
            transition(&mut v, PendingApproval, "ana", Timestamp(0)),
            Err(TemplateError::Incomplete { field: "tone", .. })
        ));
    }

    #[test]
    fn states_round_trip() {
        for s in [Draft, PendingApproval, Approved, Retired] {
            assert_eq!(TemplateState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TemplateState::parse("live"), None);
        let v = version("pt-BR", "warm", 2, Approved, "Olá");
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<TemplateVersion>(&json).unwrap(), v);
    }
}
