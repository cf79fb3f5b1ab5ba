//! Emotion (B4): anger, joy, optimism, sadness (TweetEval's four), from the shipped model
//! trained on the TweetEval emotion train split, or from cue words when no model is loaded.
//! Messages without feeling answer `none` instead of a forced guess.

use crate::cues::Cue;
use crate::model::{LinearModel, Prediction};
use crate::signals::Signals;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Emotion {
    /// `anger`, `joy`, `optimism`, `sadness`, or `none`.
    pub label: String,
    pub confidence: f64,
}

/// Below this top probability, a neutral message reports `none`. The model knows only four
/// feelings and must spread every message over them, so a message without any still gets
/// 0.5–0.6 for one of them. A plain question (neutral, asking, without a word of feeling or a
/// swear word: "can you tell me when order #200644 will arrive?", 0.68 anger) reports `none`
/// whatever the model says.
const MIN_CONFIDENCE: f32 = 0.65;
/// A feeling against the message's sentiment (anger in a friendly message, joy in a negative
/// one) stands only from this top probability on.
const MIN_CONFIDENCE_AGAINST: f32 = 0.8;
/// On a message of fewer words the model has only a few character n-grams to go by (it said
/// anger, 0.51–0.83, for "yes", "k" and "nope"): there its answer stands only when the
/// message's sentiment agrees with it, and a neutral message reports `none`.
const MODEL_WORDS: usize = 3;

pub struct EmotionModel {
    model: Option<LinearModel>,
    cues: [(Cue, &'static str); 4],
}

impl EmotionModel {
    pub fn new(model: Option<LinearModel>) -> Self {
        Self {
            model,
            cues: [
                (Cue::Anger, "anger"),
                (Cue::Joy, "joy"),
                (Cue::Optimism, "optimism"),
                (Cue::Sadness, "sadness"),
            ],
        }
    }

    pub fn model(&self) -> Option<&LinearModel> {
        self.model.as_ref()
    }

    /// The emotion, from the model's prediction `p` when there is a model, else from cues.
    /// `complaint`: the message was read as a complaint; one whose words do not score positive
    /// expresses no joy or optimism, however sure the model ("The screen cracked on the second
    /// day", 0.81 joy; "Waited all day, the courier never came", 0.68).
    pub fn detect(
        &self,
        s: &Signals<'_>,
        p: Option<Prediction>,
        compound: f64,
        complaint: bool,
    ) -> Emotion {
        let neutral = compound.abs() < 0.05;
        if let (Some(m), Some(p)) = (&self.model, p) {
            let label = m.label_of(&p);
            let agrees = match label {
                "anger" | "sadness" => compound <= -0.05,
                "joy" | "optimism" => compound >= 0.05,
                _ => true,
            };
            let short = s.words.len() < MODEL_WORDS;
            let against = !neutral && !agrees;
            let cheerful_complaint = complaint && matches!(label, "joy" | "optimism") && !agrees;
            let feeling_words =
                s.cues.any(Cue::Profanity) || self.cues.iter().any(|(cue, _)| s.cues.any(*cue));
            let plain_question = neutral && s.question && !feeling_words;
            // "Does it work with older models? Thanks in advance." is positive for its thanks
            // alone: politeness, not joy (the model said joy at 0.50, or optimism at 0.37).
            let polite_question = s.question
                && s.cues.any(Cue::Thanks)
                && !s.cues.any(Cue::Praise)
                && !feeling_words
                && matches!(label, "joy" | "optimism");
            if plain_question
                || polite_question
                || cheerful_complaint
                || (neutral && p.confidence < MIN_CONFIDENCE)
                || (against && p.confidence < MIN_CONFIDENCE_AGAINST)
                || (short && !agrees)
            {
                return none();
            }
            return Emotion {
                label: label.to_owned(),
                confidence: crate::intent::round3(f64::from(p.confidence)),
            };
        }
        // Thanks count as joy, except at the end of a question, where they are politeness.
        let thanks = if s.question {
            0
        } else {
            s.cues.count(Cue::Thanks)
        };
        let counts: Vec<(usize, &str)> = self
            .cues
            .iter()
            .map(|(cue, l)| {
                let n = s.cues.count(*cue);
                (if *cue == Cue::Joy { n + thanks } else { n }, *l)
            })
            .collect();
        let total: usize = counts.iter().map(|c| c.0).sum();
        match counts.iter().max_by_key(|c| c.0) {
            Some(&(n, label)) if n > 0 && !neutral => Emotion {
                label: label.to_owned(),
                confidence: crate::intent::round3(n as f64 / total as f64),
            },
            _ => none(),
        }
    }
}

fn none() -> Emotion {
    Emotion {
        label: "none".to_owned(),
        confidence: 0.0,
    }
}
