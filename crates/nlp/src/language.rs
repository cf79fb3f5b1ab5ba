//! Language identification (B1) over the languages customers write to us in. Short or
//! ambiguous texts answer `und` (undetermined) rather than a wild guess, so later stages can
//! fall back to the customer's or the account's language.

use std::sync::OnceLock;
use whatlang::{Detector, Lang};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LanguageGuess {
    /// ISO 639-1 code, or `und`.
    pub code: &'static str,
    pub confidence: f64,
}

const UNDETERMINED: LanguageGuess = LanguageGuess {
    code: "und",
    confidence: 0.0,
};

/// Languages we identify, with their ISO 639-1 codes.
const LANGUAGES: [(Lang, &str); 16] = [
    (Lang::Eng, "en"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
    (Lang::Pol, "pl"),
    (Lang::Swe, "sv"),
    (Lang::Dan, "da"),
    (Lang::Tur, "tr"),
    (Lang::Rus, "ru"),
    (Lang::Ara, "ar"),
    (Lang::Jpn, "ja"),
    (Lang::Cmn, "zh"),
    (Lang::Hin, "hi"),
];

/// Below this many letters a trigram model is mostly noise.
const MIN_LETTERS: usize = 12;
/// whatlang's confidence (its margin over the runner-up) below which a short text is `und`.
const MIN_CONFIDENCE: f64 = 0.2;
/// From this many letters the top trigram guess is dependable even when close languages
/// (French/Italian, Spanish/Portuguese) keep whatlang's margin small.
const LONG_TEXT_LETTERS: usize = 40;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::with_allowlist(LANGUAGES.iter().map(|(l, _)| *l).collect()))
}

pub fn detect_language(text: &str) -> LanguageGuess {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_LETTERS {
        return UNDETERMINED;
    }
    let Some(info) = detector().detect(text) else {
        return UNDETERMINED;
    };
    if info.confidence() < MIN_CONFIDENCE && letters < LONG_TEXT_LETTERS {
        return UNDETERMINED;
    }
    let code = LANGUAGES
        .iter()
        .find(|(l, _)| *l == info.lang())
        .map_or("und", |(_, c)| *c);
    LanguageGuess {
        code,
        confidence: (info.confidence() * 1000.0).round() / 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_customer_languages() {
        let cases = [
            (
                "Where is my package? It was supposed to arrive on Monday.",
                "en",
            ),
            (
                "¿Dónde está mi pedido? Debía llegar el lunes y nadie responde.",
                "es",
            ),
            (
                "Meu pedido ainda não chegou, alguém pode me ajudar por favor?",
                "pt",
            ),
            (
                "Ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?",
                "fr",
            ),
            (
                "Meine Bestellung ist immer noch nicht angekommen, bitte helfen Sie mir.",
                "de",
            ),
            (
                "Il mio ordine non è ancora arrivato, qualcuno può aiutarmi?",
                "it",
            ),
            (
                "Mijn bestelling is nog steeds niet aangekomen, kunnen jullie helpen?",
                "nl",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect_language(text).code, want, "{text}");
        }
    }

    #[test]
    fn very_short_text_is_undetermined_not_guessed() {
        assert_eq!(detect_language("ok thx").code, "und");
        assert_eq!(detect_language("👍👍").code, "und");
    }
}
