//! Language identification (B1) over the languages customers write to us in. Short or
//! ambiguous texts answer `und` (undetermined) rather than a wild guess, so later stages can
//! fall back to the customer's or the account's language.

use crate::lexicon::WordMap as Map;
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

/// Function words that tell the seven languages most of our customers write in apart. A
/// message full of them is decided here in a microsecond; anything less clear-cut goes to
/// whatlang's trigram model, which costs about twenty times as much. A word several of the
/// languages share (`is`, `me`, `e`, `de`) counts for each of them, and the runner-up must stay
/// at half the winner's hits; very common shared words (`a`, `in`, `no`, `on`, `so`, `we`)
/// are left out of the English list, since they would only tie.
const FUNCTION_WORDS: [(&str, &[&str]); 7] = [
    (
        "en",
        &[
            "the", "and", "is", "my", "to", "of", "it", "for", "you", "this", "that", "with",
            "was", "have", "are", "i", "your", "what", "why", "how", "just", "been", "has", "will",
            "would", "there", "can't", "don't", "i'm", "it's", "they", "from", "me", "but", "be",
            "could", "should", "still", "please", "really", "can", "any", "at", "us", "our", "not",
            "get", "got", "again", "did", "does", "doesn't", "didn't", "won't", "isn't", "when",
            "where", "who", "which", "were", "than", "then", "now", "only", "about", "out", "up",
            "if", "after", "before", "because", "already", "every", "anyone", "nobody", "thanks",
            "thank", "he's", "she's", "we're", "you're", "they're", "i'll", "i've", "i'd", "let's",
            "im", "dont", "cant", "didnt", "doesnt", "wont", "isnt", "gonna", "wanna", "one",
            "all", "their", "them", "him", "his", "she", "by", "go", "going", "make", "like",
            "time", "know", "take", "people", "into", "year", "good", "some", "other", "look",
            "its", "think", "back", "two", "work", "first", "well", "way", "new", "these", "give",
            "day", "love", "today", "tonight", "tomorrow", "night", "more", "much", "many", "very",
            "off", "down", "always", "never", "over", "best", "last", "next",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "que", "y", "en", "una", "es", "por", "para", "con", "mi", "pero",
            "esta", "como", "muy", "ya", "del", "al", "hay", "tengo", "nadie", "todavia",
        ],
    ),
    (
        "pt",
        &[
            "os", "que", "e", "em", "um", "uma", "nao", "meu", "minha", "para", "com", "por",
            "mas", "ainda", "voce", "ja", "do", "da", "na", "isso", "ninguem", "pode",
        ],
    ),
    (
        "fr",
        &[
            "le", "les", "des", "et", "est", "une", "pas", "je", "mon", "ma", "mes", "pour",
            "avec", "qui", "dans", "ce", "il", "vous", "sur", "ne", "au", "du", "tres", "toujours",
            "personne",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "nicht", "ich", "mein", "meine", "ein", "eine",
            "zu", "mit", "fur", "auf", "es", "sie", "wir", "noch", "immer", "den", "dem", "von",
            "bitte", "sehr", "kein", "keine",
        ],
    ),
    (
        "it",
        &[
            "il", "gli", "di", "che", "e", "un", "una", "non", "per", "con", "mio", "mia", "sono",
            "ma", "ancora", "questo", "della", "nel", "ho", "piu", "nessuno",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "is", "niet", "ik", "mijn", "van", "dat", "met", "voor",
            "op", "te", "nog", "steeds", "geen", "zijn", "maar", "ook", "naar", "jullie", "kunnen",
        ],
    ),
];

/// Words of customer care, greetings and thanks that are as telling as function words in
/// short messages ("Olá, quando chega a encomenda? Obrigado." has no function word of the list
/// above), in the same order of languages, folded. Loanwords every language uses (app, online,
/// ticket, service, support) are left out. A word two languages share (`pedido`, `quando`)
/// counts for both, like a shared function word. Space-separated, one string per language.
const CARE_WORDS: [(&str, &str); 7] = [
    (
        "en",
        "hi hello hey thx pls plz order orders ordered refund parcel package waiting wait \
         delivered arrived someone help call charged twice nothing here says keeps ever \
         hasn't haven't wasn't aren't couldn't yet sent received missing wrong broken \
         damaged replacement disappointed seriously item tracking address need want cancel \
         change card money week weeks days hour hours customer reply answer anything do am \
         able payment accept offer allow",
    ),
    (
        "es",
        "hola gracias cuando donde pedido paquete llegado llega llego ayuda ayudar alguien \
         reembolso esperando encanta nueva aplicacion pesimo servicio nunca cambio \
         direccion envio muchas buenas buenos tardes dias tienen quiero cancelar \
         suscripcion funciona pagina cobraron veces puede puedo ustedes usted estoy llevo \
         roto sigo cierra sola porque",
    ),
    (
        "pt",
        "ola oi obrigado obrigada quando vai chegar chegou encomenda pedido alguem ajudar \
         ajuda reembolso esperando cade adorei aplicativo fecha sozinho pessimo atendimento \
         nunca mudo endereco entrega muito produto quebrado bom voces vcs tem estoque quero \
         assinatura cancelar funcionando cobraram vezes cartao estou pra porque",
    ),
    (
        "fr",
        "bonjour bonsoir salut merci quand colis commande arrive arrivee arrivera \
         remboursement attends quelqu'un peut aider svp stp nouvelle appli adore plante nul \
         plus jamais comment changer adresse livraison beaucoup votre vos produit casse \
         avez resilier abonnement marche veux debite deux fois j'ai c'est n'est j'attends \
         m'aider aujourd'hui encore rien depuis pourquoi",
    ),
    (
        "de",
        "hallo danke wann wo kommt bestellung paket ihr habt zweimal kann mir jemand helfen \
         warte erstattung neue sturzt standig schlechter nie wieder wie vielen dank \
         schnelle hilfe produkt kam kaputt guten tag lager mochte abo kundigen funktioniert \
         webseite habe hat mich meinen einen schon nur aber oder auch bei warum endlich \
         seit",
    ),
    (
        "it",
        "ciao grazie quando arriva ordine pacco arrivato avete addebitato volte qualcuno \
         puo aiutare aspetto rimborso adoro nuova chiude servizio pessimo mai indirizzo \
         consegna mille prodotto rotto buongiorno buonasera disponibile voglio disdire sito \
         funziona salve molto perche ancora niente dov'e l'aiuto l'abbonamento l'app \
         l'indirizzo",
    ),
    (
        "nl",
        "hallo hoi wanneer komt bestelling bedankt pakket aangekomen hebben twee keer \
         afgeschreven kan iemand helpen aub wacht terugbetaling nieuwe crasht waar slechte \
         nooit meer hoe wijzig bezorgadres heel erg hulp kwam kapot goedemiddag goedemorgen \
         voorraad wil opzeggen werkt dank graag uw waarom",
    ),
];

/// Each function word, folded, with a bit for every language whose list holds it.
fn function_words() -> &'static Map<&'static str, u8> {
    static W: OnceLock<Map<&'static str, u8>> = OnceLock::new();
    W.get_or_init(|| {
        let mut m = Map::default();
        for (bit, (_, list)) in FUNCTION_WORDS.iter().enumerate() {
            for w in *list {
                *m.entry(*w).or_insert(0) |= 1 << bit;
            }
        }
        for (bit, (_, list)) in CARE_WORDS.iter().enumerate() {
            for w in list.split_whitespace() {
                *m.entry(w).or_insert(0) |= 1 << bit;
            }
        }
        m
    })
}

/// How many of the text's words each language's lists hold, in `FUNCTION_WORDS` order.
fn word_hits(text: &str) -> [usize; FUNCTION_WORDS.len()] {
    let table = function_words();
    let mut hits = [0usize; FUNCTION_WORDS.len()];
    let mut word = String::new();
    let words = text.split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'));
    // Messages are short; cap the work for long ones, whatlang only sees a prefix anyway.
    for w in words.take(80) {
        if w.is_empty() || w.len() > 16 {
            continue;
        }
        let key = if w.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'') {
            w
        } else {
            word.clear();
            word.extend(w.chars().map(crate::text::fold_char));
            word.as_str()
        };
        if let Some(&bits) = table.get(key) {
            for (i, h) in hits.iter_mut().enumerate() {
                *h += usize::from(bits >> i & 1);
            }
        }
    }
    hits
}

/// The language with the most hits and the runner-up's count; none without a single leader.
fn leader(hits: &[usize; FUNCTION_WORDS.len()]) -> Option<(usize, usize, usize)> {
    let (best, &top) = hits.iter().enumerate().max_by_key(|(_, h)| **h)?;
    let second = hits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, h)| *h)
        .max()
        .unwrap_or(0);
    (top > second).then_some((best, top, second))
}

/// Decide from the word lists alone when at least `MIN_HITS` of the words point one way and
/// the runner-up has at most half as many, or one fewer point one way and none another.
fn by_function_words(hits: &[usize; FUNCTION_WORDS.len()]) -> Option<LanguageGuess> {
    const MIN_HITS: usize = 3;
    let (best, top, second) = leader(hits)?;
    let clear = (top >= MIN_HITS && second * 2 <= top) || (top == MIN_HITS - 1 && second == 0);
    if !clear {
        return None;
    }
    Some(LanguageGuess {
        code: FUNCTION_WORDS[best].0,
        confidence: (((top - second) as f64 / top as f64) * 1000.0).round() / 1000.0,
    })
}

/// Like [`detect_language`], but a text too short or too ambiguous to call takes the
/// customer's or the account's language instead, with confidence 0 so callers can tell a
/// fallback from a detection. Unknown codes leave the answer `und`.
pub fn detect_language_or(text: &str, fallback: Option<&str>) -> LanguageGuess {
    let guess = detect_language(text);
    if guess.code != UNDETERMINED.code {
        return guess;
    }
    let known = fallback.and_then(|f| {
        let f = f.trim();
        LANGUAGES
            .iter()
            .map(|(_, code)| *code)
            .find(|code| code.eq_ignore_ascii_case(f))
    });
    match known {
        Some(code) => LanguageGuess {
            code,
            confidence: 0.0,
        },
        None => guess,
    }
}

pub fn detect_language(text: &str) -> LanguageGuess {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_LETTERS {
        return UNDETERMINED;
    }
    let hits = word_hits(text);
    if let Some(guess) = by_function_words(&hits) {
        return guess;
    }
    let Some(info) = detector().detect(text) else {
        return UNDETERMINED;
    };
    let code = LANGUAGES
        .iter()
        .find(|(l, _)| *l == info.lang())
        .map_or("und", |(_, c)| *c);
    // Too short for the trigrams' margin to mean much, unless the words lean the same way.
    let words_agree = leader(&hits).is_some_and(|(best, _, _)| FUNCTION_WORDS[best].0 == code);
    if info.confidence() < MIN_CONFIDENCE && letters < LONG_TEXT_LETTERS && !words_agree {
        return UNDETERMINED;
    }
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
    fn function_words_decide_clear_cases_and_defer_the_rest() {
        let words = |t: &str| by_function_words(&word_hits(t));
        let en = words("I have been waiting for my refund and it is still not here");
        assert_eq!(en.map(|g| g.code), Some("en"));
        let de = words("Ich habe noch immer keine Antwort und das ist nicht gut");
        assert_eq!(de.map(|g| g.code), Some("de"));
        // Too few function words: left to the trigram model.
        assert_eq!(words("Verloren, Kundenservice schweigt"), None);
        assert_eq!(
            detect_language("Ich warte seit zwei Wochen auf mein Paket").code,
            "de"
        );
    }

    #[test]
    fn a_short_reply_takes_the_customers_language() {
        assert_eq!(detect_language_or("ok danke", Some("de")).code, "de");
        assert_eq!(detect_language_or("ok danke", Some("DE")).confidence, 0.0);
        assert_eq!(detect_language_or("ok danke", Some("xx")).code, "und");
        assert_eq!(detect_language_or("ok danke", None).code, "und");
        // A clear detection is never overridden by the hint.
        let long = "Where is my package? It was supposed to arrive on Monday.";
        assert_eq!(detect_language_or(long, Some("de")).code, "en");
    }

    #[test]
    fn very_short_text_is_undetermined_not_guessed() {
        assert_eq!(detect_language("ok thx").code, "und");
        assert_eq!(detect_language("👍👍").code, "und");
    }
}
