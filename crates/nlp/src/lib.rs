//! Message understanding (B1–B7): language, sentiment, intent, urgency, emotion, toxicity,
//! personal data, watchlists and the classifiers operators train themselves. It owns no IO
//! and keeps no state between messages beyond its loaded lexicons and models.

mod cues;
mod emotion;
pub mod evaluation;
mod intent;
mod language;
mod lexicon;
pub mod model;
pub mod moderation;
pub mod pii;
mod sentiment;
mod shipped;
mod signals;
pub mod text;
mod urgency;
mod vader;
pub mod watchlist;

pub use emotion::Emotion;
pub use intent::{Intent, IntentLabel, IntentModel};
pub use language::{LanguageGuess, detect_language, detect_language_or};
pub use pii::{DataClass, PiiKind, PiiSpan};
pub use sentiment::{SentimentModel, SentimentScore, label_for};
pub use urgency::{Urgency, UrgencyReason};
pub use watchlist::{WatchMatch, WatchTerm, Watchlist};

use model::{Joint, LinearModel, Prediction};
use sb_domain::{Enrichment, SentimentLabel};
use serde::Serialize;
use text::Folded;

/// Texts longer than this are analysed on their first part only for the statistical
/// stages; PII and watchlists still scan the whole text. Keeps 1 MB posts linear and fast.
const MAX_MODEL_BYTES: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sentiment {
    pub compound: f64,
    pub label: SentimentLabel,
}

/// An operator-trained topic prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Topic {
    pub label: String,
    pub confidence: f64,
}

/// The full analysis of one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub language: &'static str,
    pub language_confidence: f64,
    pub sentiment: Sentiment,
    pub intent: Intent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<Topic>,
    pub urgency: Urgency,
    pub urgency_reasons: Vec<UrgencyReason>,
    pub emotion: Emotion,
    pub toxicity: f64,
    pub spam: f64,
    pub pii: Vec<PiiSpan>,
    pub redacted: String,
    pub watchlist: Vec<WatchMatch>,
    pub data_class: DataClass,
}

/// Everything the pipeline runs on each message, loaded once.
pub struct Analyzer {
    sentiment: SentimentModel,
    intent: intent::IntentRules,
    urgency: urgency::UrgencyRules,
    emotion: emotion::EmotionModel,
    moderation: moderation::Moderation,
    /// Swappable while the analyzer is shared: watchlists change at run time.
    watchlist: std::sync::RwLock<Option<std::sync::Arc<Watchlist>>>,
    topic: Option<LinearModel>,
    /// The operator's own intent model, answering in place of the rules.
    intent_model: Option<IntentModel>,
    /// The emotion, offensive and complaint models scored together, when all are loaded.
    joint: Option<Joint>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        let emotion = emotion::EmotionModel::new(shipped::emotion());
        let moderation = moderation::Moderation::new(shipped::offensive());
        let intent = intent::IntentRules::new(shipped::complaint());
        let joint = match (emotion.model(), moderation.model(), intent.model()) {
            (Some(e), Some(o), Some(c)) => Joint::new(&[e, o, c]),
            _ => None,
        };
        Self {
            sentiment: SentimentModel::new(),
            intent,
            urgency: urgency::UrgencyRules::new(),
            emotion,
            moderation,
            watchlist: std::sync::RwLock::new(None),
            topic: None,
            intent_model: None,
            joint,
        }
    }

    /// Replace the sentiment scorer, e.g. one with operator industry terms.
    pub fn with_sentiment(mut self, s: SentimentModel) -> Self {
        self.sentiment = s;
        self
    }

    pub fn with_watchlist(self, w: Watchlist) -> Self {
        self.set_watchlist(Some(w));
        self
    }

    /// Replaces the watchlist for every message analyzed from now on (`None`: no watchlist).
    pub fn set_watchlist(&self, w: Option<Watchlist>) {
        *self.watchlist.write().unwrap_or_else(|e| e.into_inner()) = w.map(std::sync::Arc::new);
    }

    /// The watchlist's terms, in the order given.
    pub fn watch_terms(&self) -> Vec<WatchTerm> {
        self.current_watchlist()
            .map_or_else(Vec::new, |w| w.terms().to_vec())
    }

    fn current_watchlist(&self) -> Option<std::sync::Arc<Watchlist>> {
        self.watchlist
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Attach an operator-trained topic model (`switchboard nlp train --task topic`).
    pub fn with_topic_model(mut self, m: LinearModel) -> Self {
        self.topic = Some(m);
        self
    }

    /// Let an operator-trained intent model answer in place of the out-of-the-box rules.
    /// Fails when the model answers anything but the four intents.
    pub fn with_intent_model(mut self, m: LinearModel) -> Result<Self, model::ModelError> {
        self.intent_model = Some(IntentModel::new(m)?);
        Ok(self)
    }

    /// The analysis the pipeline stores with each message.
    pub fn enrich(&self, text: &str) -> Enrichment {
        self.enrich_with_language(text, None)
    }

    /// As `enrich`, with the language to fall back on when the text is too short to tell.
    pub fn enrich_with_language(&self, text: &str, fallback_language: Option<&str>) -> Enrichment {
        let a = self.analyze_with_language(text, fallback_language);
        Enrichment {
            language: a.language.to_owned(),
            language_confidence: a.language_confidence,
            sentiment_compound: a.sentiment.compound,
            sentiment_label: a.sentiment.label,
            intent: a.intent.label.as_str().to_owned(),
            intent_confidence: a.intent.confidence,
            urgency: label(&a.urgency),
            urgency_reasons: a.urgency_reasons.iter().map(label).collect(),
            emotion: a.emotion.label,
            toxicity: a.toxicity,
            data_class: label(&a.data_class),
            pii: a
                .pii
                .iter()
                .map(|p| sb_domain::PiiMark {
                    kind: label(&p.kind),
                    start: p.start,
                    end: p.end,
                })
                .collect(),
            watch: a
                .watchlist
                .iter()
                .map(|w| sb_domain::WatchHit {
                    list: w.list.clone(),
                    term: w.term.clone(),
                    start: w.start,
                    end: w.end,
                })
                .collect(),
            topic: a.topic.map(|t| t.label),
        }
    }

    pub fn analyze(&self, text: &str) -> Analysis {
        self.analyze_with_language(text, None)
    }

    /// [`Analyzer::analyze`] with the language to assume when the text is too short to tell
    /// (the customer's or the account's language).
    pub fn analyze_with_language(&self, text: &str, fallback_language: Option<&str>) -> Analysis {
        let head = truncate(text, MAX_MODEL_BYTES);
        let folded_head = Folded::new(head);
        let lang = detect_language_or(head, fallback_language);
        let s = self.sentiment.score_in(head, lang.code);
        let signals = signals::Signals::new(head, &folded_head);

        let mut p = self.model_predictions(&folded_head.text, s.compound);
        // The shipped emotion and offensive models learnt English tweets; in the other six
        // languages they read English look-alikes ("die") as anger or insults, so there the
        // cue words decide. The complaint model learnt all seven languages.
        if sentiment::is_other_language(lang.code) {
            (p.emotion, p.offensive) = (None, None);
        }
        let (emo_p, off_p) = (p.emotion, p.offensive);
        let intent = match &self.intent_model {
            Some(m) => m.classify(&folded_head.text, s.compound),
            None => self
                .intent
                .classify_with(&signals, s.compound, p.complaint.as_ref()),
        };
        let emotion = self.emotion.detect(
            &signals,
            emo_p,
            s.compound,
            intent.label == IntentLabel::Complaint,
        );
        let (urgency, urgency_reasons) = self.urgency.assess(
            &signals,
            s.compound,
            intent.label == IntentLabel::Complaint,
            emotion.label == "anger",
        );
        let toxicity = self.moderation.toxicity(&signals, off_p);
        let spam = self.moderation.spam(&signals);
        let topic = self.topic.as_ref().map(|m| {
            let p = m.predict_folded(&folded_head.text, s.compound);
            Topic {
                label: m.label_of(&p).to_owned(),
                confidence: intent::round3(f64::from(p.confidence)),
            }
        });

        let pii = pii::find_pii(text);
        let redacted = pii::redact(text, &pii);
        let watchlist = match self.current_watchlist().as_deref() {
            Some(w) if text.len() == head.len() => w.find_folded(text, &folded_head),
            Some(w) => w.find(text),
            None => Vec::new(),
        };
        Analysis {
            language: lang.code,
            language_confidence: lang.confidence,
            sentiment: Sentiment {
                compound: s.compound,
                label: s.label,
            },
            intent,
            topic,
            urgency,
            urgency_reasons,
            emotion,
            toxicity,
            spam,
            data_class: pii::data_class(&pii),
            pii,
            redacted,
            watchlist,
        }
    }

    /// The shipped models' predictions: from one feature extraction and one pass over the
    /// joint table when they share a recipe (the shipped ones do).
    fn model_predictions(&self, folded: &str, compound: f64) -> ModelPredictions {
        if let Some(joint) = &self.joint {
            let mut x = Vec::new();
            joint.spec().extract_folded(folded, Some(compound), &mut x);
            let mut scores = joint.scores(&x).into_iter();
            let mut next = || scores.next().map(LinearModel::predict_scores);
            return ModelPredictions {
                emotion: next(),
                offensive: next(),
                complaint: next(),
            };
        }
        let predict = |m: &LinearModel| m.predict_folded(folded, compound);
        ModelPredictions {
            emotion: self.emotion.model().map(predict),
            offensive: self.moderation.model().map(predict),
            complaint: self.intent.model().map(predict),
        }
    }
}

/// What the shipped models said of one text.
struct ModelPredictions {
    emotion: Option<Prediction>,
    offensive: Option<Prediction>,
    complaint: Option<Prediction>,
}

/// The longest prefix of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;

/// The snake_case name a label serializes to.
fn label<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
