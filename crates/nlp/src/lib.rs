//! Message understanding. This first layer gives every message a language and a sentiment;
//! it owns no IO and keeps no state between messages beyond its loaded lexicons.

mod language;
mod sentiment;

pub use language::{LanguageGuess, detect_language};
pub use sentiment::{SentimentModel, SentimentScore};

use sb_domain::Enrichment;

/// Everything the pipeline runs on each message, loaded once.
pub struct Analyzer {
    sentiment: SentimentModel,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Self {
            sentiment: SentimentModel::new(),
        }
    }

    pub fn enrich(&self, text: &str) -> Enrichment {
        let lang = detect_language(text);
        let s = self.sentiment.score(text);
        Enrichment {
            language: lang.code.to_owned(),
            language_confidence: lang.confidence,
            sentiment_compound: s.compound,
            sentiment_label: s.label,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_domain::SentimentLabel;

    #[test]
    fn an_angry_english_complaint() {
        let e = Analyzer::new()
            .enrich("My order is three weeks late and nobody answers. Terrible service!");
        assert_eq!(e.language, "en");
        assert_eq!(e.sentiment_label, SentimentLabel::Negative);
    }
}
