//! A/B experiments on reply templates (H4): an experiment names the template agents choose
//! and the variants (templates) a case may get instead, each with a weight. Which variant a
//! case gets is decided where the template is rendered (a stable hash of the experiment and
//! the case, `sb_analytics::experiments::assign`), so the agent previews exactly what is sent.

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Stable name: it seeds the assignment, so renaming it reshuffles the cases.
    pub name: String,
    /// The template key agents pick; while the experiment runs, a case gets one variant's
    /// template in its place.
    pub template: String,
    pub variants: Vec<VariantConfig>,
    /// Confidence level of the report's intervals and significance (default 0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// `false` stops assigning (the report still shows what was assigned).
    #[serde(default = "default_true")]
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariantConfig {
    pub name: String,
    /// The template this variant sends.
    pub template: String,
    /// Relative share of cases (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_confidence() -> f64 {
    0.95
}

fn default_true() -> bool {
    true
}

fn default_weight() -> u32 {
    1
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExperimentError {
    #[error("experiment `{0}`: a name is letters, digits, `-` and `_`, at most 64")]
    BadName(String),
    #[error("experiment `{0}` is defined twice")]
    Duplicate(String),
    #[error("experiment `{0}`: at least two variants, each with its own name")]
    Variants(String),
    #[error("experiment `{0}`: variant weights must be 1 or more")]
    Weight(String),
    #[error("experiment `{0}`: confidence must be between 0.5 and 0.999")]
    Confidence(String),
    #[error("experiments `{0}` and `{1}` both run on template `{2}`")]
    SameTemplate(String, String, String),
}

/// The configured experiments, checked.
#[derive(Clone, Debug, Default)]
pub struct Experiments {
    all: Vec<ExperimentConfig>,
}

fn good_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Experiments {
    pub fn compile(configs: &[ExperimentConfig]) -> Result<Self, ExperimentError> {
        for (i, e) in configs.iter().enumerate() {
            if !good_name(&e.name) {
                return Err(ExperimentError::BadName(e.name.clone()));
            }
            if configs[..i].iter().any(|o| o.name == e.name) {
                return Err(ExperimentError::Duplicate(e.name.clone()));
            }
            let mut names: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            if e.variants.len() < 2
                || names.len() != e.variants.len()
                || e.variants.iter().any(|v| !good_name(&v.name))
                || e.template.trim().is_empty()
                || e.variants.iter().any(|v| v.template.trim().is_empty())
            {
                return Err(ExperimentError::Variants(e.name.clone()));
            }
            if e.variants.iter().any(|v| v.weight == 0) {
                return Err(ExperimentError::Weight(e.name.clone()));
            }
            if !(0.5..=0.999).contains(&e.confidence) {
                return Err(ExperimentError::Confidence(e.name.clone()));
            }
            if e.active
                && let Some(o) = configs[..i]
                    .iter()
                    .find(|o| o.active && o.template == e.template)
            {
                return Err(ExperimentError::SameTemplate(
                    o.name.clone(),
                    e.name.clone(),
                    e.template.clone(),
                ));
            }
        }
        Ok(Self {
            all: configs.to_vec(),
        })
    }

    /// The running experiment on the template agents chose, if any.
    pub fn on_template(&self, key: &str) -> Option<&ExperimentConfig> {
        self.all.iter().find(|e| e.active && e.template == key)
    }

    pub fn named(&self, name: &str) -> Option<&ExperimentConfig> {
        self.all.iter().find(|e| e.name == name)
    }

    pub fn all(&self) -> &[ExperimentConfig] {
        &self.all
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn exp(toml_text: &str) -> Result<Experiments, ExperimentError> {
        #[derive(Deserialize)]
        struct Doc {
            experiments: Vec<ExperimentConfig>,
        }
        let d: Doc = toml::from_str(toml_text).unwrap();
        Experiments::compile(&d.experiments)
    }

    const GOOD: &str = r#"
[[experiments]]
name = "late-parcel-tone"
template = "late_parcel"
variants = [
  { name = "control", template = "late_parcel" },
  { name = "apology", template = "late_parcel_apology", weight = 2 },
]
"#;

    #[test]
    fn an_experiment_runs_on_its_template_with_defaults() {
        let e = exp(GOOD).unwrap();
        let x = e.on_template("late_parcel").unwrap();
        assert_eq!(x.confidence, 0.95);
        assert!(x.active);
        assert_eq!(x.variants[0].weight, 1);
        assert_eq!(x.variants[1].weight, 2);
        assert!(e.on_template("late_parcel_apology").is_none());
        assert!(e.named("late-parcel-tone").is_some());
    }

    #[test]
    fn mistakes_are_named() {
        let one = GOOD.replace(
            "  { name = \"apology\", template = \"late_parcel_apology\", weight = 2 },\n",
            "",
        );
        assert_eq!(
            exp(&one).unwrap_err(),
            ExperimentError::Variants("late-parcel-tone".into())
        );
        assert_eq!(
            exp(&GOOD.replace("weight = 2", "weight = 0")).unwrap_err(),
            ExperimentError::Weight("late-parcel-tone".into())
        );
        assert_eq!(
            exp(&GOOD.replace("name = \"apology\"", "name = \"control\"")).unwrap_err(),
            ExperimentError::Variants("late-parcel-tone".into())
        );
        let twice = format!("{GOOD}{}", GOOD.replace("late-parcel-tone", "other"));
        assert!(matches!(
            exp(&twice).unwrap_err(),
            ExperimentError::SameTemplate(..)
        ));
        assert_eq!(
            exp(&format!("{GOOD}{GOOD}")).unwrap_err(),
            ExperimentError::Duplicate("late-parcel-tone".into())
        );
        assert_eq!(
            exp(&GOOD.replace("late-parcel-tone", "late parcel")).unwrap_err(),
            ExperimentError::BadName("late parcel".into())
        );
        let sure = GOOD.replace("variants = [", "confidence = 1.5\nvariants = [");
        assert_eq!(
            exp(&sure).unwrap_err(),
            ExperimentError::Confidence("late-parcel-tone".into())
        );
    }
}
