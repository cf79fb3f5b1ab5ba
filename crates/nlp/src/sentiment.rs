//! Sentiment (B2): the VADER lexicon and rules, which handle emoji, negation, intensifiers,
//! ALL CAPS and social-media slang, plus an operator-extensible industry lexicon ("delayed",
//! "refund", "recall") whose weights are added to VADER's valence sum before it is
//! normalised. Both are scored in one pass over the text (`crate::vader`). Labels use VADER's
//! published thresholds (±0.05).

use crate::text::Folded;
use crate::vader::{Vader, compound};
use sb_domain::SentimentLabel;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SentimentScore {
    pub compound: f64,
    pub label: SentimentLabel,
}

const THRESHOLD: f64 = 0.05;

/// Customer-care terms VADER's general lexicon misses (words it already scores, such as
/// "delayed" or "broke", are left to it so they are not counted twice). Weights are on
/// VADER's −4..4 scale; operators add or override entries with [`SentimentModel::with_terms`].
const CARE_TERMS: &[(&str, f64)] = &[
    ("delays", -1.0),
    ("late", -0.8),
    ("overcharged", -2.0),
    ("refund", -0.6),
    ("recall", -1.0),
    ("outage", -1.8),
    ("canceled", -1.0),
    ("unusable", -2.0),
    ("crashing", -1.6),
    ("crashes", -1.4),
    ("glitch", -1.2),
    ("on hold", -1.2),
    ("still waiting", -1.6),
    ("never arrived", -2.0),
    ("not working", -1.8),
    ("doesn't work", -1.8),
    ("customer service", -0.2),
];

/// VADER's lexicon is English. These are the words customers most often use to praise or
/// complain in Spanish, Portuguese, French, German, Italian and Dutch (folded: lower case, no
/// accents), with weights on the same scale. Words VADER already scores ("genial", "fatal",
/// "terrible", "super") are left to it, and so are words with a common English meaning
/// ("toll", "mal").
const MULTILINGUAL_TERMS: &[(&str, f64)] = &[
    // es
    ("excelente", 2.5),
    ("gracias", 1.2),
    ("encanta", 2.3),
    ("increible", 2.5),
    ("pesimo", -2.8),
    ("pesima", -2.8),
    ("malo", -1.8),
    ("peor", -2.3),
    ("roto", -1.6),
    ("decepcionado", -2.0),
    ("decepcionada", -2.0),
    ("estafa", -2.8),
    ("verguenza", -2.0),
    ("no funciona", -1.8),
    ("furioso", -2.5),
    ("enfadado", -2.2),
    ("enfadada", -2.2),
    ("harto", -2.0),
    ("harta", -2.0),
    // pt
    ("obrigado", 1.2),
    ("obrigada", 1.2),
    ("otimo", 2.5),
    ("ruim", -1.9),
    ("horrivel", -2.5),
    ("adorei", 2.3),
    ("adoro", 2.3),
    ("incrivel", 2.5),
    ("fantastico", 2.8),
    ("fantastica", 2.8),
    ("parabens", 2.0),
    ("atrasado", -1.2),
    ("quebrado", -1.6),
    ("nao funciona", -1.8),
    ("irritado", -2.0),
    ("irritada", -2.0),
    ("furiosa", -2.5),
    // fr
    ("merci", 1.2),
    ("parfait", 2.5),
    ("j'adore", 2.3),
    ("nul", -2.0),
    ("nulle", -2.0),
    ("decu", -2.0),
    ("decue", -2.0),
    ("inadmissible", -2.5),
    ("honteux", -2.3),
    ("arnaque", -2.8),
    ("fonctionne pas", -1.8),
    ("marche pas", -1.8),
    ("furieux", -2.5),
    ("furieuse", -2.5),
    ("enerve", -2.0),
    ("enervee", -2.0),
    // de
    ("danke", 1.2),
    ("vielen dank", 1.5),
    ("herzlichen dank", 1.5),
    ("hervorragend", 2.8),
    ("schlecht", -2.0),
    ("enttauscht", -2.0),
    ("enttauschend", -2.0),
    ("katastrophe", -2.8),
    ("unverschamt", -2.5),
    ("kaputt", -1.8),
    ("verspatet", -1.2),
    ("funktioniert nicht", -1.8),
    ("wutend", -2.5),
    ("sauer", -2.0),
    ("frechheit", -2.5),
    // it
    ("grazie", 1.2),
    ("ottimo", 2.5),
    ("perfetto", 2.5),
    ("pessimo", -2.8),
    ("deluso", -2.0),
    ("delusa", -2.0),
    ("vergogna", -2.0),
    ("rotto", -1.6),
    ("non funziona", -1.8),
    ("arrabbiato", -2.3),
    ("arrabbiata", -2.3),
    ("stufo", -2.0),
    ("stufa", -2.0),
    // nl
    ("bedankt", 1.2),
    ("dank je", 1.2),
    ("dank u", 1.2),
    ("hartelijk dank", 1.5),
    ("geweldig", 2.5),
    ("slecht", -2.0),
    ("teleurgesteld", -2.0),
    ("waardeloos", -2.5),
    ("kapot", -1.8),
    ("werkt niet", -1.8),
    ("woedend", -2.5),
    ("schandalig", -2.5),
];

/// Words that praise more strongly in the other six languages than in English: "top" (Dutch
/// "is top", French "c'est top", German "echt top") is plain praise there, and at most a mild
/// positive in English ("top priority"), where VADER gives it 0.8. The weight is added to
/// VADER's valence, as every term's is.
const OTHER_LANGUAGE_TERMS: &[(&str, f64)] = &[("top", 1.2)];

/// Emoji VADER reads through their names and scores 0, though customers use them for one
/// feeling: 😡 (pouting face), 🤬 (face with symbols on mouth), 👎, 🙄, 😒, 🤦 and 💩 for anger
/// or scorn, 👍 and 👏 for approval. Weights on VADER's scale, added per occurrence and never
/// negated: "nothing 👎" is no praise, as VADER's rules would read "nothing thumbs down".
const EMOJI_TERMS: &[(char, f64)] = &[
    ('😡', -2.3),
    ('🤬', -2.5),
    ('👎', -1.8),
    ('🙄', -1.2),
    ('😒', -1.5),
    ('🤦', -1.5),
    ('💩', -1.5),
    ('👍', 1.5),
    ('👏', 1.5),
];

/// The [`EMOJI_TERMS`] valence of a text.
fn emoji_valence(text: &str) -> f64 {
    if text.is_ascii() {
        return 0.0;
    }
    text.chars()
        .filter(|c| !c.is_ascii())
        .filter_map(|c| EMOJI_TERMS.iter().find(|(e, _)| *e == c).map(|(_, w)| w))
        .sum()
}

/// English lexicon words that are everyday words in the other six languages, where they mean
/// something else: German and Dutch "die" (the, that), German "war" (was), "hell" (bright),
/// "gift" (poison), "bad" (bath), "kind" (child), Dutch "best" (fine, quite) and "stout"
/// (naughty), Spanish "sin" (without), Spanish, Portuguese and Italian "ha" (has), French
/// "pain" (bread), "tout" (all), French and Italian "dire" (to say), Italian "fine" (end).
/// In a message identified as one of those languages they carry no valence.
const FALSE_FRIENDS: &[&str] = &[
    "die", "war", "hell", "gift", "bad", "kind", "best", "stout", "sin", "ha", "pain", "tout",
    "dire", "fine",
];

/// Languages with [`MULTILINGUAL_TERMS`], scored without the [`FALSE_FRIENDS`].
const OTHER_LANGUAGES: &[&str] = &["es", "pt", "fr", "de", "it", "nl"];

/// Whether `language` is one of the six languages besides English the analysis reads, where
/// models trained on English text do not apply.
pub(crate) fn is_other_language(language: &str) -> bool {
    OTHER_LANGUAGES.contains(&language)
}

const NEGATORS: &[&str] = &[
    "not", "no", "never", "isn't", "wasn't", "aren't", "don't", "doesn't", "didn't", "won't",
    "cannot", "can't", "nothing", "without", "ain't", "nor", "nao", "nicht", "kein", "keine",
    "pas", "niet", "geen", "non", "nunca", "jamais", "nie", "mai",
];

#[derive(Clone)]
pub struct SentimentModel {
    /// VADER's tables, with the industry terms and their negators in the same word table.
    vader: Vader,
    /// The same without the English words that are false friends in the other languages.
    other_languages: Vader,
    /// Whether [`EMOJI_TERMS`] count (part of the care lexicon, not of plain VADER).
    emoji_terms: bool,
}

impl Default for SentimentModel {
    fn default() -> Self {
        Self::new()
    }
}

pub fn label_for(compound: f64) -> SentimentLabel {
    if compound >= THRESHOLD {
        SentimentLabel::Positive
    } else if compound <= -THRESHOLD {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

impl SentimentModel {
    pub fn new() -> Self {
        let mut model = Self::vader_only().with_terms(
            CARE_TERMS
                .iter()
                .chain(MULTILINGUAL_TERMS)
                .map(|(t, w)| ((*t).to_owned(), *w)),
        );
        for (term, weight) in OTHER_LANGUAGE_TERMS {
            model.other_languages.add_term(term, *weight);
        }
        model.emoji_terms = true;
        model
    }

    /// Plain VADER without the care lexicon, for comparisons.
    pub fn vader_only() -> Self {
        let mut vader = Vader::new();
        for n in NEGATORS {
            vader.add_term_negator(n);
        }
        let mut other_languages = vader.clone();
        for word in FALSE_FRIENDS {
            other_languages.forget_valence(word);
        }
        Self {
            vader,
            other_languages,
            emoji_terms: false,
        }
    }

    /// Add or override industry terms (one or two words) with a VADER-scale weight.
    pub fn with_terms(mut self, terms: impl IntoIterator<Item = (String, f64)>) -> Self {
        for (t, w) in terms {
            let key: String = Folded::new(t.trim()).text;
            let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
            if !key.is_empty() && w.is_finite() && key.split(' ').count() <= 2 {
                self.vader.add_term(&key, w.clamp(-4.0, 4.0));
                self.other_languages.add_term(&key, w.clamp(-4.0, 4.0));
            }
        }
        self
    }

    /// VADER's compound with the industry terms' valence added to its valence sum before
    /// normalisation, and the label by VADER's thresholds.
    pub fn score(&self, text: &str) -> SentimentScore {
        self.score_with(&self.vader, text)
    }

    /// [`SentimentModel::score`] for a text identified as `language`: in Spanish, Portuguese,
    /// French, German, Italian and Dutch, English words that mean something else there
    /// ("die", "war", "pain") carry no valence.
    pub fn score_in(&self, text: &str, language: &str) -> SentimentScore {
        if is_other_language(language) {
            self.score_with(&self.other_languages, text)
        } else {
            self.score(text)
        }
    }

    fn score_with(&self, vader: &Vader, text: &str) -> SentimentScore {
        let sums = vader.sums(text);
        let emoji = if self.emoji_terms {
            emoji_valence(text)
        } else {
            0.0
        };
        let compound = compound(sums.vader + sums.terms + emoji);
        SentimentScore {
            compound,
            label: label_for(compound),
        }
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

    #[test]
    fn praise_and_complaints_in_other_languages_are_not_neutral() {
        let m = SentimentModel::new();
        for text in [
            "Gracias, el servicio fue excelente",
            "Merci, c'est parfait",
            "Danke, das war hervorragend",
            "Ottimo servizio, grazie",
            // Punctuation outside ASCII does not hide a term.
            "¡Gracias por todo!",
        ] {
            assert_eq!(m.score(text).label, SentimentLabel::Positive, "{text}");
        }
        for text in [
            "Servicio pésimo, el router no funciona",
            "Sehr enttäuscht, das Gerät ist kaputt",
            "Atendimento horrível",
            "Waardeloos, de app werkt niet",
            "Je suis déçu, ça ne marche pas",
            "El soporte: «pésimo»…",
        ] {
            assert_eq!(m.score(text).label, SentimentLabel::Negative, "{text}");
        }
        // Negation works as in English.
        assert_eq!(
            m.score("Der Service ist nicht schlecht").label,
            SentimentLabel::Positive
        );
    }

    #[test]
    fn english_words_that_mean_something_else_do_not_colour_other_languages() {
        let m = SentimentModel::new();
        for (text, language) in [
            ("Vielen Dank für die schnelle Hilfe", "de"),
            ("Die Lieferung war pünktlich, danke", "de"),
            ("Bedankt, die medewerker was heel vriendelijk", "nl"),
            ("Gracias, ha llegado todo bien", "es"),
            ("Merci pour le pain, tout est parfait", "fr"),
        ] {
            assert_eq!(
                m.score_in(text, language).label,
                SentimentLabel::Positive,
                "{text}"
            );
        }
        // The same words keep their English valence in English, and unknown text is
        // scored as English.
        assert_eq!(
            m.score_in("I could die", "en").label,
            SentimentLabel::Negative
        );
        assert_eq!(
            m.score_in("I could die", "und").label,
            SentimentLabel::Negative
        );
        assert_eq!(
            m.score_in("I could die", "en").compound,
            m.score("I could die").compound
        );
        // A real German complaint stays negative.
        assert_eq!(
            m.score_in("Die App ist kaputt, schlecht", "de").label,
            SentimentLabel::Negative
        );
    }

    #[test]
    fn top_is_praise_in_the_other_languages_and_stays_mild_in_english() {
        let m = SentimentModel::new();
        let dutch = m.score_in("De nieuwe app is top", "nl").compound;
        let english = m.score_in("De nieuwe app is top", "en").compound;
        assert!(dutch > english, "{dutch} vs {english}");
        assert_eq!(
            m.score_in("This is our top priority", "en").compound,
            SentimentModel::vader_only()
                .score("This is our top priority")
                .compound
        );
        for (text, language) in [
            ("Adoro a nova app", "pt"),
            ("J'adore la nouvelle appli", "fr"),
            ("Il supporto è stato fantastico", "it"),
            ("A equipe foi incrível", "pt"),
        ] {
            assert_eq!(
                m.score_in(text, language).label,
                SentimentLabel::Positive,
                "{text}"
            );
        }
    }

    #[test]
    fn angry_and_approving_emoji_count_and_are_not_negated() {
        let m = SentimentModel::new();
        assert!(m.score("Geht's noch? 😡").compound <= -0.05);
        assert!(m.score("Ordered 3 days ago and nothing 👎").compound <= -0.05);
        assert!(m.score("my parcel is late 🤬").compound < m.score("my parcel is late").compound);
        assert!(m.score("ok 👍").compound >= 0.05);
        // Plain VADER reads them through their names and scores them 0.
        assert_eq!(SentimentModel::vader_only().score("😡").compound, 0.0);
        assert_eq!(m.score("the parcel came today").compound, 0.0);
    }

    #[test]
    fn operators_add_industry_terms() {
        let plain = SentimentModel::vader_only();
        let text = "Flight BA117 has an outage again";
        assert_eq!(plain.score(text).label, SentimentLabel::Neutral);
        assert_eq!(
            SentimentModel::new().score(text).label,
            SentimentLabel::Negative
        );
        let m = SentimentModel::vader_only().with_terms([("Rückruf".to_owned(), -1.5)]);
        assert_eq!(
            m.score("Gibt es einen RÜCKRUF?").label,
            SentimentLabel::Negative
        );
        assert_eq!(
            m.score("the order was not recalled").label,
            SentimentLabel::Neutral
        );
    }
}
