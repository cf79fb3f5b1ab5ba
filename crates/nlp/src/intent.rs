//! Intent (B3) out of the box: complaint, inquiry, praise or other, from sentiment and
//! care-specific cues, with a confidence, and the shipped complaint model (trained on our own
//! care messages in seven languages, `crates/nlp/data/care-complaints.csv`), which finds the
//! complaints no cue names. Operators who need finer topics train their own model with
//! `switchboard nlp train`, and once agents have corrected enough intents, an
//! [`IntentModel`] trained on them answers instead.

use crate::cues::Cue;
use crate::model::{LinearModel, ModelError, Prediction};
use crate::signals::Signals;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntentLabel {
    Complaint,
    Inquiry,
    Praise,
    Other,
}

impl IntentLabel {
    pub const ALL: [Self; 4] = [Self::Complaint, Self::Inquiry, Self::Praise, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::Inquiry => "inquiry",
            Self::Praise => "praise",
            Self::Other => "other",
        }
    }

    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == label)
    }
}

/// An operator-trained intent model (`switchboard nlp train` on the agents' intent
/// corrections) that answers in place of the rules. Its labels are the four intents; its
/// reject rule, when it has one, answers one of them too.
pub struct IntentModel {
    model: LinearModel,
    labels: Vec<IntentLabel>,
    /// What the model answers below its reject threshold.
    fallback: Option<(f32, IntentLabel)>,
}

impl IntentModel {
    pub fn new(model: LinearModel) -> Result<Self, ModelError> {
        let intent = |label: &str| {
            IntentLabel::parse(label).ok_or_else(|| {
                ModelError(format!(
                    "an intent model answers complaint, inquiry, praise or other, \
                     and this one answers `{label}`"
                ))
            })
        };
        let labels = model
            .labels
            .iter()
            .map(|l| intent(l))
            .collect::<Result<Vec<_>, _>>()?;
        let fallback = match &model.reject {
            Some(r) => Some((r.threshold, intent(&r.fallback)?)),
            None => None,
        };
        Ok(Self {
            model,
            labels,
            fallback,
        })
    }

    /// The model's intent for a folded text whose sentiment compound is `compound`.
    pub fn classify(&self, folded: &str, compound: f64) -> Intent {
        let p = self.model.predict_folded(folded, compound);
        let label = match self.fallback {
            Some((threshold, fallback)) if p.confidence < threshold => fallback,
            _ => self
                .labels
                .get(p.class)
                .copied()
                .unwrap_or(IntentLabel::Other),
        };
        Intent {
            label,
            confidence: round3(f64::from(p.confidence)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Intent {
    pub label: IntentLabel,
    pub confidence: f64,
}

/// From this probability of the shipped complaint model on, an inquiry or other message is a
/// complaint. The model was trained balanced, so 0.5 is its even point; 0.55 was chosen on our
/// own care sets (`crates/nlp/tests/data/intent-care-*.tsv`, 504 messages): 473 right answers
/// at 0.5, 477 at 0.55, 475 at 0.6 (docs/EVALUATION.md).
const MODEL_COMPLAINT: f32 = 0.55;

/// The out-of-the-box intent rules: the cue lists they read are counted with the signals.
#[derive(Default)]
pub struct IntentRules {
    /// The shipped complaint model (labels `complaint` and `not`), when there is one, with
    /// the index of its `complaint` class.
    model: Option<(LinearModel, usize)>,
}

impl IntentRules {
    pub fn new(model: Option<LinearModel>) -> Self {
        let model = model.and_then(|m| {
            let i = m.labels.iter().position(|l| l == "complaint")?;
            Some((m, i))
        });
        Self { model }
    }

    pub fn model(&self) -> Option<&LinearModel> {
        self.model.as_ref().map(|(m, _)| m)
    }

    /// The complaint model's probability of `complaint` in its prediction `p`.
    fn complaint_probability(&self, p: &Prediction) -> Option<f32> {
        let (_, i) = self.model.as_ref()?;
        p.probabilities.get(*i).copied()
    }

    /// The intent from the rules, and from the complaint model's prediction `p` when there
    /// is one: a message the rules read as an inquiry or as other is a complaint when the
    /// model finds one (the rules name faults the model's few thousand examples may not hold;
    /// the model finds complaints told in words no list names). Praise stays praise: the
    /// rules call it only on clearly positive words, and the model, which learnt sarcasm,
    /// reads some sincere praise as sarcastic ("Delivery was a day early. Really impressed
    /// with the service.", 0.90 complaint). The model's confidence is reported when it
    /// decided.
    pub fn classify_with(&self, s: &Signals<'_>, compound: f64, p: Option<&Prediction>) -> Intent {
        let rules = self.classify(s, compound);
        match p.and_then(|p| self.complaint_probability(p)) {
            Some(c)
                if matches!(rules.label, IntentLabel::Inquiry | IntentLabel::Other)
                    && c >= MODEL_COMPLAINT =>
            {
                Intent {
                    label: IntentLabel::Complaint,
                    confidence: round3(f64::from(c)),
                }
            }
            _ => rules,
        }
    }

    /// The rules alone. Scores are log-odds against `other`; the weights encode how agents
    /// triage: negative feeling plus a concrete problem word is a complaint even when phrased
    /// as a question, and a fault stated plainly ("stopped working", "never arrived") is one
    /// in any tone short of clearly positive.
    pub fn classify(&self, s: &Signals<'_>, compound: f64) -> Intent {
        let neg = (-compound).max(0.0);
        let pos = compound.max(0.0);
        let faults = s.cues.count(Cue::Fault).min(2) as f64;
        let problems = (s.cues.count(Cue::Complaint) as f64 + faults).min(3.0);
        let thanks = (s.cues.count(Cue::Praise) + s.cues.count(Cue::Thanks)).min(2) as f64;
        let complaint =
            -1.2 + 2.6 * neg + 0.8 * problems + 0.7 * faults - 1.5 * pos + 0.3 * s.caps_ratio;
        let inquiry = if s.question {
            1.0 - 0.4 * problems
        } else {
            -1.5
        } - neg;
        let praise = -1.3 + 2.2 * pos + 0.8 * thanks - 0.8 * problems;
        let logits = [complaint, inquiry, praise, 0.0];
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let (best, p) = exp
            .iter()
            .enumerate()
            .fold((3, 0.0), |b, (i, &e)| if e > b.1 { (i, e) } else { b });
        Intent {
            label: IntentLabel::ALL[best],
            confidence: round3(p / sum),
        }
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
