//! The match decision for a pair of profiles: deterministic keys first, then a
//! Fellegi–Sunter weight over name, handle and location, then the same-platform block. It
//! compares two profiles it is handed; it never searches for candidates or merges anything.

use super::Profile;
use super::index::CandidateIndex;
use super::keys::{self, E164, EmailKey, country_code};
use super::similarity::{handle_similarity, jaro_winkler, location_similarity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Fellegi–Sunter parameters of one field.
///
/// `m` is the probability that the field agrees when two profiles are the same person,
/// `u` the probability that it agrees by chance between two different people. Agreement
/// adds `log2(m/u)` to the weight, disagreement adds `log2((1-m)/(1-u))` (negative). A
/// similarity between `partial_from` and 1 scales linearly between the two; below
/// `partial_from` it counts as disagreement.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldModel {
    pub m: f64,
    pub u: f64,
    /// Similarity at which partial agreement starts; defaults per field (see [`FieldWeights`]).
    #[serde(default)]
    pub partial_from: Option<f64>,
}

/// The per-field models. Defaults, and the weights they give:
///
/// | field    | m    | u     | agree  | disagree | partial from |
/// |----------|------|-------|--------|----------|--------------|
/// | name     | 0.95 | 0.01  | +6.57  | −4.31    | 0.80         |
/// | handle   | 0.90 | 0.005 | +7.49  | −3.31    | 0.80         |
/// | location | 0.90 | 0.05  | +4.17  | −3.25    | 0.88         |
///
/// Why these: a full name agrees for almost every true pair but for about one unrelated
/// pair in a hundred among candidates that already share a blocking key; handles are chosen
/// to be unique, so a chance agreement across platforms is rarer still, while people vary
/// them more (m lower); many customers share a city. Locations start partial agreement
/// higher because Jaro–Winkler rates different cities with a shared prefix
/// ("san francisco" / "san diego") fairly high.
///
/// With the default thresholds (link ≥ 12, review ≥ 4): same name, same handle stem and same
/// city (+18.2) links; same name and same city without handles (+10.7) is reviewed; same
/// name alone (+6.6) is reviewed; same name in another city (+3.3) stays distinct.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldWeights {
    #[serde(default = "FieldWeights::default_name")]
    pub name: FieldModel,
    #[serde(default = "FieldWeights::default_handle")]
    pub handle: FieldModel,
    #[serde(default = "FieldWeights::default_location")]
    pub location: FieldModel,
}

impl FieldWeights {
    fn default_name() -> FieldModel {
        FieldModel {
            m: 0.95,
            u: 0.01,
            partial_from: None,
        }
    }
    fn default_handle() -> FieldModel {
        FieldModel {
            m: 0.90,
            u: 0.005,
            partial_from: None,
        }
    }
    fn default_location() -> FieldModel {
        FieldModel {
            m: 0.90,
            u: 0.05,
            partial_from: None,
        }
    }
}

impl Default for FieldWeights {
    fn default() -> Self {
        Self {
            name: Self::default_name(),
            handle: Self::default_handle(),
            location: Self::default_location(),
        }
    }
}

/// Identity matching settings, as written in the product's config file:
///
/// ```toml
/// link_above = 12.0
/// review_above = 4.0
/// default_country_code = "351"
/// [fields.name]
/// m = 0.95
/// u = 0.02
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    #[serde(default)]
    pub fields: FieldWeights,
    /// Total weight (log2 likelihood ratio) at or above which profiles link automatically.
    #[serde(default = "MatchConfig::default_link_above")]
    pub link_above: f64,
    /// Total weight at or above which (and below `link_above`) a pair goes to review.
    #[serde(default = "MatchConfig::default_review_above")]
    pub review_above: f64,
    /// Prior probability that a candidate pair is the same person, used only to turn the
    /// weight into a confidence. Default 0.01: one candidate pair in a hundred matches.
    #[serde(default = "MatchConfig::default_prior")]
    pub prior: f64,
    /// Country calling code for phone numbers written without one ("49", "+351").
    #[serde(default)]
    pub default_country_code: Option<String>,
}

impl MatchConfig {
    fn default_link_above() -> f64 {
        12.0
    }
    fn default_review_above() -> f64 {
        4.0
    }
    fn default_prior() -> f64 {
        0.01
    }
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            fields: FieldWeights::default(),
            link_above: Self::default_link_above(),
            review_above: Self::default_review_above(),
            prior: Self::default_prior(),
            default_country_code: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatchError {
    #[error(
        "identity matching: link_above ({link_above}) must be greater than review_above ({review_above})"
    )]
    Thresholds { link_above: f64, review_above: f64 },
    #[error("identity matching: {name} must be a finite number, got {value}")]
    NotFinite { name: &'static str, value: f64 },
    #[error(
        "identity matching: fields.{field}.{param} = {value} must lie strictly between 0 and 1"
    )]
    Probability {
        field: &'static str,
        param: &'static str,
        value: f64,
    },
    #[error(
        "identity matching: fields.{field} has m = {m} not above u = {u}, so agreement would count against a match"
    )]
    Uninformative { field: &'static str, m: f64, u: f64 },
    #[error(
        "identity matching: fields.{field}.partial_from = {value} must be at least 0 and below 1"
    )]
    PartialFrom { field: &'static str, value: f64 },
    #[error("identity matching: prior = {0} must lie strictly between 0 and 1")]
    Prior(f64),
    #[error("identity matching: default_country_code {0:?} must be 1–3 digits not starting with 0")]
    CountryCode(String),
}

/// What to do with a compared pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Same person: merge without asking.
    Link,
    /// Possibly the same person: a human decides.
    Review,
    /// Different people.
    Distinct,
}

/// One field's contribution to the Fellegi–Sunter weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldWeight {
    /// "name", "handle" or "location".
    pub field: String,
    /// "agree", "partial 0.83" (the best similarity found), "disagree", or "missing" when
    /// either profile lacks the field (weight 0: absence is not evidence).
    pub agreement: String,
    pub weight: f64,
}

/// The outcome of comparing two profiles, complete enough to stand in an audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    pub decision: Decision,
    /// The shared deterministic key, masked: "verified_email a***@example.com",
    /// "phone +49******567" or "order_id **1001".
    pub deterministic: Option<String>,
    /// Fellegi–Sunter: total log2 likelihood-ratio weight, the sum of `fields`. Computed for
    /// deterministic matches too, so a reviewer sees whether the rest agrees.
    pub weight: f64,
    pub fields: Vec<FieldWeight>,
    /// 0..1: 1 for an unblocked deterministic match, otherwise the logistic (base 2) of the
    /// weight plus the prior's log2 odds, `1 / (1 + 2^-(weight + log2(prior / (1 - prior))))`,
    /// capped at 0.999999. With the default prior 0.01 the link threshold (12) is 0.976 and
    /// the review threshold (4) 0.139.
    pub confidence: f64,
    /// Why an automatic link is forbidden ("different ids on platform x"); set whenever the
    /// profiles hold different accounts on a shared platform, whatever the decision.
    pub blocked: Option<String>,
}

/// One field's compiled weights.
#[derive(Clone, Debug)]
struct FieldRule {
    name: &'static str,
    agree: f64,
    disagree: f64,
    partial_from: f64,
}

impl FieldRule {
    fn compile(
        name: &'static str,
        model: &FieldModel,
        default_partial: f64,
    ) -> Result<Self, MatchError> {
        for (param, value) in [("m", model.m), ("u", model.u)] {
            if !(value > 0.0 && value < 1.0) {
                return Err(MatchError::Probability {
                    field: name,
                    param,
                    value,
                });
            }
        }
        if model.m <= model.u {
            return Err(MatchError::Uninformative {
                field: name,
                m: model.m,
                u: model.u,
            });
        }
        let partial_from = model.partial_from.unwrap_or(default_partial);
        if !(0.0..1.0).contains(&partial_from) {
            return Err(MatchError::PartialFrom {
                field: name,
                value: partial_from,
            });
        }
        Ok(Self::from_model(name, model, default_partial))
    }

    /// The weights of a model already known to be valid.
    fn from_model(name: &'static str, model: &FieldModel, default_partial: f64) -> Self {
        Self {
            name,
            agree: (model.m / model.u).log2(),
            disagree: ((1.0 - model.m) / (1.0 - model.u)).log2(),
            partial_from: model.partial_from.unwrap_or(default_partial),
        }
    }

    /// The field's weight for the best similarity found, or "missing" when there was
    /// nothing to compare.
    fn weigh(&self, similarity: Option<f64>) -> FieldWeight {
        let (agreement, weight) = match similarity {
            None => ("missing".to_owned(), 0.0),
            Some(s) if s >= 1.0 => ("agree".to_owned(), self.agree),
            Some(s) if s < self.partial_from => ("disagree".to_owned(), self.disagree),
            Some(s) => {
                let t = (s - self.partial_from) / (1.0 - self.partial_from);
                (
                    format!("partial {s:.2}"),
                    self.disagree + t * (self.agree - self.disagree),
                )
            }
        };
        FieldWeight {
            field: self.name.to_owned(),
            agreement,
            weight,
        }
    }
}

/// A validated [`MatchConfig`], ready to compare profiles.
#[derive(Clone, Debug)]
pub struct Matcher {
    name: FieldRule,
    handle: FieldRule,
    location: FieldRule,
    link_above: f64,
    review_above: f64,
    prior_log2_odds: f64,
    default_country_code: Option<String>,
}

impl Default for Matcher {
    /// The documented defaults of [`MatchConfig`] and [`FieldWeights`].
    fn default() -> Self {
        let config = MatchConfig::default();
        let fields = &config.fields;
        Self {
            name: FieldRule::from_model("name", &fields.name, NAME_PARTIAL_FROM),
            handle: FieldRule::from_model("handle", &fields.handle, HANDLE_PARTIAL_FROM),
            location: FieldRule::from_model("location", &fields.location, LOCATION_PARTIAL_FROM),
            link_above: config.link_above,
            review_above: config.review_above,
            prior_log2_odds: (config.prior / (1.0 - config.prior)).log2(),
            default_country_code: None,
        }
    }
}

const NAME_PARTIAL_FROM: f64 = 0.80;
const HANDLE_PARTIAL_FROM: f64 = 0.80;
const LOCATION_PARTIAL_FROM: f64 = 0.88;

impl Matcher {
    pub fn compile(config: &MatchConfig) -> Result<Self, MatchError> {
        for (name, value) in [
            ("link_above", config.link_above),
            ("review_above", config.review_above),
        ] {
            if !value.is_finite() {
                return Err(MatchError::NotFinite { name, value });
            }
        }
        if config.link_above <= config.review_above {
            return Err(MatchError::Thresholds {
                link_above: config.link_above,
                review_above: config.review_above,
            });
        }
        if !(config.prior > 0.0 && config.prior < 1.0) {
            return Err(MatchError::Prior(config.prior));
        }
        let default_country_code = match &config.default_country_code {
            None => None,
            Some(cc) => Some(
                country_code(cc)
                    .ok_or_else(|| MatchError::CountryCode(cc.clone()))?
                    .to_owned(),
            ),
        };
        Ok(Self {
            name: FieldRule::compile("name", &config.fields.name, NAME_PARTIAL_FROM)?,
            handle: FieldRule::compile("handle", &config.fields.handle, HANDLE_PARTIAL_FROM)?,
            location: FieldRule::compile(
                "location",
                &config.fields.location,
                LOCATION_PARTIAL_FROM,
            )?,
            link_above: config.link_above,
            review_above: config.review_above,
            prior_log2_odds: (config.prior / (1.0 - config.prior)).log2(),
            default_country_code,
        })
    }

    /// The validated country calling code used for national phone numbers, without `+`.
    pub fn default_country_code(&self) -> Option<&str> {
        self.default_country_code.as_deref()
    }

    /// An empty candidate index that parses phone numbers the way this matcher does.
    pub fn candidate_index(&self) -> CandidateIndex {
        CandidateIndex::with_default_country_code(self.default_country_code.clone())
    }

    /// Compares two profiles. A shared deterministic key links (confidence 1); otherwise the
    /// Fellegi–Sunter weight decides against the thresholds; then a same-platform conflict
    /// turns a link into a review. Symmetric in decision, weight and fields; when several
    /// keys are shared, which one is named may depend on the order.
    pub fn compare(&self, a: &Profile, b: &Profile) -> MatchResult {
        let deterministic = self.shared_key(a, b);
        let names = |p: &Profile| p.normalised_names().collect::<Vec<_>>();
        let handles = |p: &Profile| p.normalised_handles().collect::<Vec<_>>();
        let fields = vec![
            self.name.weigh(best(&names(a), &names(b), jaro_winkler)),
            self.handle
                .weigh(best(&handles(a), &handles(b), handle_similarity)),
            self.location
                .weigh(match (a.normalised_location(), b.normalised_location()) {
                    (Some(x), Some(y)) => Some(location_similarity(&x, &y)),
                    _ => None,
                }),
        ];
        let weight = round6(fields.iter().map(|f| f.weight).sum());
        let blocked = blocking_reason(a, b);
        let decision = if deterministic.is_some() || weight >= self.link_above {
            Decision::Link
        } else if weight >= self.review_above {
            Decision::Review
        } else {
            Decision::Distinct
        };
        let decision = match (decision, &blocked) {
            (Decision::Link, Some(_)) => Decision::Review,
            (d, _) => d,
        };
        let confidence = if deterministic.is_some() && blocked.is_none() {
            1.0
        } else {
            round6(1.0 / (1.0 + (-(weight + self.prior_log2_odds)).exp2())).min(MAX_PROBABILISTIC)
        };
        MatchResult {
            decision,
            deterministic,
            weight,
            fields,
            confidence,
            blocked,
        }
    }

    /// The first deterministic key both profiles hold, masked for the audit trail.
    fn shared_key(&self, a: &Profile, b: &Profile) -> Option<String> {
        let emails: HashSet<EmailKey> = a.email_keys().collect();
        if let Some(e) = b.email_keys().find(|e| emails.contains(e)) {
            return Some(format!("verified_email {}", e.masked()));
        }
        let cc = self.default_country_code.as_deref();
        let phones: HashSet<E164> = a.phone_keys(cc).collect();
        if let Some(p) = b.phone_keys(cc).find(|p| phones.contains(p)) {
            return Some(format!("phone {}", p.masked()));
        }
        let orders: HashSet<String> = a.order_keys().collect();
        if let Some(o) = b.order_keys().find(|o| orders.contains(o)) {
            return Some(format!("order_id {}", keys::mask_order(&o)));
        }
        None
    }
}

/// Weights and confidences are kept to six decimals: more is noise, and six decimals
/// survive a JSON round trip bit for bit, so a stored [`MatchResult`] compares equal to the
/// one computed.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The highest confidence similarity alone can give; 1 is kept for deterministic keys.
const MAX_PROBABILISTIC: f64 = 0.999_999;

/// The best similarity over every pair of values, or `None` when either side has none.
fn best(a: &[String], b: &[String], sim: impl Fn(&str, &str) -> f64) -> Option<f64> {
    a.iter()
        .flat_map(|x| b.iter().map(|y| sim(x, y)))
        .reduce(f64::max)
}

/// Platform (lowercased) → the set of values held there, trimmed and made comparable by
/// `norm`; empty values are dropped.
fn per_platform(
    map: &BTreeMap<String, Vec<String>>,
    norm: impl Fn(&str) -> String,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (platform, values) in map {
        let set: BTreeSet<String> = values
            .iter()
            .map(|v| norm(v.trim()))
            .filter(|v| !v.is_empty())
            .collect();
        if !set.is_empty() {
            out.entry(platform.trim().to_lowercase())
                .or_default()
                .extend(set);
        }
    }
    out
}

/// Why the two profiles may not be linked automatically: on some platform both hold
/// accounts and none is shared. Platform ids decide when both sides have them (handles can
/// be renamed, ids cannot); otherwise handles, compared case-insensitively without `@`.
fn blocking_reason(a: &Profile, b: &Profile) -> Option<String> {
    let ids = |p: &Profile| per_platform(&p.platform_ids, str::to_owned);
    let handles =
        |p: &Profile| per_platform(&p.handles, |h| h.trim_start_matches('@').to_lowercase());
    let (a_ids, b_ids, a_handles, b_handles) = (ids(a), ids(b), handles(a), handles(b));
    let platforms: BTreeSet<&String> = a_ids.keys().chain(a_handles.keys()).collect();
    let mut reasons = Vec::new();
    for platform in platforms {
        if let (Some(x), Some(y)) = (a_ids.get(platform), b_ids.get(platform)) {
            if x.is_disjoint(y) {
                reasons.push(format!("different ids on platform {platform}"));
            }
        } else if let (Some(x), Some(y)) = (a_handles.get(platform), b_handles.get(platform))
            && x.is_disjoint(y)
        {
            reasons.push(format!("different handles on platform {platform}"));
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
