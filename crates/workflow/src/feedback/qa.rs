//! Quality review (D11): which resolved cases a supervisor reviews, and the scorecard they
//! score them with.
//!
//! ```toml
//! [workflow.qa]
//! sample_percent = 5                     # share of resolved cases drawn, 0–100
//! always_when_tags = ["escalated"]       # cases carrying any of these tags are always drawn
//! criteria = [{ name = "accuracy", weight = 3 }, { name = "empathy", weight = 2 }]
//! ```
//!
//! The draw depends only on the case id (a stable hash into 10,000 buckets), so deciding
//! again — a retried save, a second resolution — draws the same way. A review scores every
//! criterion from 0 to 4; its total is `100 × Σ(weight × score) / (4 × Σ weight)`, the share
//! of the best possible score, rounded to one decimal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The best score a criterion can get.
pub const MAX_SCORE: i64 = 4;
pub const MAX_CRITERION_CHARS: usize = 64;
pub const MAX_WEIGHT: u32 = 100;

/// `[workflow.qa]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QaConfig {
    #[serde(default = "default_sample_percent")]
    pub sample_percent: f64,
    #[serde(default)]
    pub always_when_tags: Vec<String>,
    #[serde(default = "default_criteria")]
    pub criteria: Vec<CriterionConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionConfig {
    pub name: String,
    #[serde(default = "one")]
    pub weight: u32,
}

fn default_sample_percent() -> f64 {
    5.0
}

fn one() -> u32 {
    1
}

fn default_criteria() -> Vec<CriterionConfig> {
    [("accuracy", 3), ("policy", 2), ("empathy", 2), ("tone", 1)]
        .into_iter()
        .map(|(name, weight)| CriterionConfig {
            name: name.into(),
            weight,
        })
        .collect()
}

impl Default for QaConfig {
    fn default() -> Self {
        Self {
            sample_percent: default_sample_percent(),
            always_when_tags: Vec::new(),
            criteria: default_criteria(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct QaConfigError(String);

/// Why a case was drawn for review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drawn {
    /// It carries this tag from `always_when_tags`.
    Tag(String),
    /// It fell in the sampled share.
    Sample,
}

impl Drawn {
    pub fn as_reason(&self) -> String {
        match self {
            Self::Tag(t) => format!("tag:{t}"),
            Self::Sample => "sample".into(),
        }
    }
}

/// The sampling policy and the scorecard, checked.
#[derive(Clone, Debug)]
pub struct QaPolicy {
    /// Buckets out of 10,000 that are drawn.
    drawn_buckets: u64,
    always_tags: Vec<String>,
    pub scorecard: Scorecard,
}

impl Default for QaPolicy {
    fn default() -> Self {
        // The defaults are valid by construction; the test below keeps them so.
        Self::compile(&QaConfig::default()).unwrap_or(Self {
            drawn_buckets: 0,
            always_tags: Vec::new(),
            scorecard: Scorecard::default(),
        })
    }
}

impl QaPolicy {
    pub fn compile(c: &QaConfig) -> Result<Self, QaConfigError> {
        let err = |m: String| Err(QaConfigError(m));
        if !c.sample_percent.is_finite() || !(0.0..=100.0).contains(&c.sample_percent) {
            return err(format!(
                "sample_percent must be from 0 to 100, got {}",
                c.sample_percent
            ));
        }
        if let Some(t) = c.always_when_tags.iter().find(|t| t.trim().is_empty()) {
            return err(format!("always_when_tags holds an empty tag `{t}`"));
        }
        Ok(Self {
            drawn_buckets: (c.sample_percent * 100.0).round() as u64,
            always_tags: c
                .always_when_tags
                .iter()
                .map(|t| t.trim().to_owned())
                .collect(),
            scorecard: Scorecard::compile(&c.criteria)?,
        })
    }

    /// Whether the case is drawn for review, and why.
    pub fn draw(&self, case_id: &str, tags: &[String]) -> Option<Drawn> {
        if let Some(t) = self.always_tags.iter().find(|t| tags.contains(t)) {
            return Some(Drawn::Tag(t.clone()));
        }
        (bucket(case_id) < self.drawn_buckets).then_some(Drawn::Sample)
    }
}

/// FNV-1a: stable across processes, versions and platforms, unlike the standard hasher.
fn bucket(case_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in case_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % 10_000
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub name: String,
    pub weight: u32,
}

/// The criteria a review scores, in configured order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scorecard {
    criteria: Vec<Criterion>,
}

/// A score refused, naming the field to blame (`scores.<criterion>`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{detail}")]
pub struct ScoreError {
    pub field: String,
    pub detail: String,
}

/// One criterion as scored, with the weight it had then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub criterion: String,
    pub weight: u32,
    pub score: u8,
}

/// A complete scorecard and its weighted total (0–100).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    pub lines: Vec<ScoreLine>,
    pub total: f64,
}

impl Scorecard {
    pub fn compile(criteria: &[CriterionConfig]) -> Result<Self, QaConfigError> {
        let err = |m: String| Err(QaConfigError(m));
        if criteria.is_empty() {
            return err("criteria must name at least one criterion".into());
        }
        let mut out: Vec<Criterion> = Vec::with_capacity(criteria.len());
        for (i, c) in criteria.iter().enumerate() {
            let name = c.name.trim();
            if name.is_empty() || name.chars().count() > MAX_CRITERION_CHARS {
                return err(format!(
                    "criteria[{i}]: a name must be 1 to {MAX_CRITERION_CHARS} characters"
                ));
            }
            if !(1..=MAX_WEIGHT).contains(&c.weight) {
                return err(format!(
                    "criteria[{i}] `{name}`: weight must be from 1 to {MAX_WEIGHT}"
                ));
            }
            if out.iter().any(|o| o.name == name) {
                return err(format!("criteria[{i}]: `{name}` is named twice"));
            }
            out.push(Criterion {
                name: name.to_owned(),
                weight: c.weight,
            });
        }
        Ok(Self { criteria: out })
    }

    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }

    /// Scores every criterion: each must be given, 0 to 4, and none may be unknown.
    pub fn score(&self, given: &BTreeMap<String, i64>) -> Result<Scored, ScoreError> {
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.criteria.iter().any(|c| &c.name == *k))
        {
            let known: Vec<&str> = self.criteria.iter().map(|c| c.name.as_str()).collect();
            return Err(ScoreError {
                field: format!("scores.{unknown}"),
                detail: format!(
                    "no criterion `{unknown}` on the scorecard (it has {})",
                    known.join(", ")
                ),
            });
        }
        let mut lines = Vec::with_capacity(self.criteria.len());
        for c in &self.criteria {
            let field = format!("scores.{}", c.name);
            let Some(&score) = given.get(&c.name) else {
                return Err(ScoreError {
                    detail: format!("`{}` is not scored", c.name),
                    field,
                });
            };
            let score = u8::try_from(score)
                .ok()
                .filter(|s| i64::from(*s) <= MAX_SCORE)
                .ok_or_else(|| ScoreError {
                    detail: format!("`{}` must be from 0 to {MAX_SCORE}, got {score}", c.name),
                    field: field.clone(),
                })?;
            lines.push(ScoreLine {
                criterion: c.name.clone(),
                weight: c.weight,
                score,
            });
        }
        Ok(Scored {
            total: total(&lines),
            lines,
        })
    }
}

/// `100 × Σ(weight × score) / (4 × Σ weight)`, rounded to one decimal.
pub fn total(lines: &[ScoreLine]) -> f64 {
    let weights: u64 = lines.iter().map(|l| u64::from(l.weight)).sum();
    if weights == 0 {
        return 0.0;
    }
    let points: u64 = lines
        .iter()
        .map(|l| u64::from(l.weight) * u64::from(l.score))
        .sum();
    let exact = 100.0 * points as f64 / (MAX_SCORE as f64 * weights as f64);
    (exact * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria(list: &[(&str, u32)]) -> Vec<CriterionConfig> {
        list.iter()
            .map(|(n, w)| CriterionConfig {
                name: (*n).into(),
                weight: *w,
            })
            .collect()
    }

    #[test]
    fn the_defaults_compile() {
        let p = QaPolicy::compile(&QaConfig::default()).unwrap();
        assert_eq!(p.drawn_buckets, 500);
        assert_eq!(p.scorecard.criteria().len(), 4);
    }

    #[test]
    fn a_bad_percent_or_an_unnamed_criterion_stops_start_up() {
        for percent in [-1.0, 100.5, f64::NAN] {
            let c = QaConfig {
                sample_percent: percent,
                ..QaConfig::default()
            };
            let e = QaPolicy::compile(&c).unwrap_err().to_string();
            assert!(e.contains("sample_percent"), "{e}");
        }
        for (list, wanted) in [
            (criteria(&[]), "at least one"),
            (criteria(&[("empathy", 2), ("  ", 1)]), "criteria[1]"),
            (criteria(&[("empathy", 0)]), "weight"),
            (criteria(&[("empathy", 1), ("empathy", 2)]), "twice"),
        ] {
            let c = QaConfig {
                criteria: list,
                ..QaConfig::default()
            };
            let e = QaPolicy::compile(&c).unwrap_err().to_string();
            assert!(e.contains(wanted), "{e}");
        }
    }

    #[test]
    fn a_mistake_in_the_configuration_file_names_its_section() {
        for (toml, wanted) in [
            ("[qa]\nsample_percent = 120", "workflow.qa: sample_percent"),
            (
                "[qa]\ncriteria = [{ name = \"\", weight = 2 }]",
                "workflow.qa: criteria[0]",
            ),
            (
                "[surveys]\nenabled = true\nbase_url = \"https://care.example.com\"",
                "workflow.surveys: link_key",
            ),
        ] {
            let c: crate::WorkflowConfig = toml::from_str(toml).unwrap();
            let e = crate::Workflow::compile(&c).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.starts_with(wanted)), "{e:?}");
        }
    }

    #[test]
    fn the_draw_depends_on_the_case_alone_and_matches_the_share() {
        let five = QaPolicy::compile(&QaConfig::default()).unwrap();
        let ids: Vec<String> = (0..20_000).map(|i| format!("case_{i:026}")).collect();
        let drawn = ids.iter().filter(|id| five.draw(id, &[]).is_some()).count();
        // 5 % of 20,000 is 1,000; a fair hash lands within a few percent of it.
        assert!((900..=1100).contains(&drawn), "{drawn}");
        for id in &ids[..200] {
            assert_eq!(
                five.draw(id, &[]),
                five.draw(id, &[]),
                "same case, same draw"
            );
        }
        let all = QaPolicy::compile(&QaConfig {
            sample_percent: 100.0,
            ..QaConfig::default()
        })
        .unwrap();
        let none = QaPolicy::compile(&QaConfig {
            sample_percent: 0.0,
            always_when_tags: vec!["escalated".into()],
            ..QaConfig::default()
        })
        .unwrap();
        assert!(
            ids.iter()
                .all(|id| all.draw(id, &[]) == Some(Drawn::Sample))
        );
        assert!(ids.iter().all(|id| none.draw(id, &[]).is_none()));
        let tags = vec!["vip".to_owned(), "escalated".to_owned()];
        assert_eq!(
            none.draw(&ids[0], &tags),
            Some(Drawn::Tag("escalated".into()))
        );
    }

    #[test]
    fn the_total_weighs_each_criterion() {
        let card =
            Scorecard::compile(&criteria(&[("empathy", 2), ("accuracy", 3), ("tone", 1)])).unwrap();
        let given: BTreeMap<String, i64> = [("empathy", 3), ("accuracy", 4), ("tone", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let scored = card.score(&given).unwrap();
        // (2·3 + 3·4 + 1·2) / (4 · 6) = 20 / 24 = 83.33… %
        assert_eq!(scored.total, 83.3);
        assert_eq!(scored.lines[1].weight, 3);
        let mut missing = given.clone();
        missing.remove("tone");
        assert_eq!(card.score(&missing).unwrap_err().field, "scores.tone");
        let mut unknown = given.clone();
        unknown.insert("speed".into(), 2);
        assert_eq!(card.score(&unknown).unwrap_err().field, "scores.speed");
        for bad in [5, -1] {
            let mut out = given.clone();
            out.insert("empathy".into(), bad);
            assert_eq!(card.score(&out).unwrap_err().field, "scores.empathy");
        }
    }
}
