//! Sentiment (B2): the VADER lexicon and rules, which handle emoji, negation, intensifiers,
//! ALL CAPS and social-media slang. Labels use VADER's published thresholds (±0.05).

use sb_domain::SentimentLabel;
use vader_parity::SentimentIntensityAnalyzer;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SentimentScore {
    pub compound: f64,
    pub label: SentimentLabel,
}

pub struct SentimentModel {
    vader: SentimentIntensityAnalyzer,
}

impl Default for SentimentModel {
    fn default() -> Self {
        Self::new()
    }
}

const THRESHOLD: f64 = 0.05;

impl SentimentModel {
    pub fn new() -> Self {
        Self {
            vader: SentimentIntensityAnalyzer::new(),
        }
    }

    pub fn score(&self, text: &str) -> SentimentScore {
        let compound = self.vader.polarity_scores(text).compound;
        let label = if compound >= THRESHOLD {
            SentimentLabel::Positive
        } else if compound <= -THRESHOLD {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        SentimentScore { compound, label }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_caps_and_emoji_move_the_score() {
        let m = SentimentModel::new();
        assert_eq!(
            m.score("The support team was great").label,
            SentimentLabel::Positive
        );
        assert_eq!(
            m.score("The support team was not great").label,
            SentimentLabel::Negative
        );
        assert!(
            m.score("The support team was GREAT!!!").compound
                > m.score("The support team was great").compound
        );
        assert_eq!(
            m.score("Still waiting for my refund, this is ridiculous")
                .label,
            SentimentLabel::Negative
        );
        assert_eq!(
            m.score("Order 1234 shipped on Tuesday").label,
            SentimentLabel::Neutral
        );
    }
}
