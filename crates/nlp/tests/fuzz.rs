//! Fuzzing the full analysis (issue 4, bad input): care messages full of personal data,
//! watched terms and mixed scripts, mutated (characters inserted from many scripts, spans
//! deleted, repeated or swapped between messages, case flipped, bytes flipped and decoded
//! lossily) and analysed. Every answer must keep its promises: scores in range, personal
//! data and watchlist spans on character boundaries inside the text, spans in order without
//! overlap, the redacted text built from the text and the spans, and the same answer twice.
//!
//! `cargo test` runs 10,000 inputs; a long run is
//! `SWITCHBOARD_FUZZ_SECS=300 cargo test --release -p switchboard-nlp --test fuzz -- --nocapture`
//! (`SWITCHBOARD_FUZZ_SEED` picks another seed). A failing input is printed escaped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use switchboard_nlp::model::SplitMix;
use switchboard_nlp::{Analysis, Analyzer, Watchlist};

const SEEDS: &[&str] = &[
    "My order #44120 is 3 weeks late!!! Call me on +44 7700 900123 or mail jane.doe@example.com",
    "Card 4111 1111 1111 1111 was charged twice 😡😡 refund NOW",
    "IBAN DE89 3704 0044 0532 0130 00 — bitte Geld zurück, Hauptstraße 5, 10115 Berlin",
    "Mi paquete no ha llegado todavía, DNI 12345678Z, vivo en Calle Mayor 12, Madrid",
    "O produto chegou quebrado 💔 NIF 123456789, Rua Augusta 100, 1100-053 Lisboa",
    "Mon colis n'est toujours pas arrivé, NIR 1 85 05 78 006 084 36, appelez 06 12 34 56 78",
    "Il pacco non è ancora arrivato, codice fiscale RSSMRA85T10A562S",
    "De app crasht steeds, BSN: 111222333, Kerkstraat 12, 1012 AB Amsterdam",
    "@AcmeCare thanks so much, the Acme X200 works great now ❤️ #AcmeOutage over?",
    "we will sue you, class action, the CEO Jane Roe should resign. Competitor Globex is better",
    "you are all idiots, wtf, worst company ever",
    "ok",
    "",
    "👍🏽👨‍👩‍👧‍👦🇪🇸",
    "مرحبا my order 注文 заказ was not delivered שלום",
    "e\u{301}te\u{301} cafe\u{301} NAÏVE straße İstanbul ǅemal",
];

const INSERTS: &[&str] = &[
    " ",
    "\u{a0}",
    "\t",
    "\n",
    "\u{2028}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\u{301}",
    "'",
    "’",
    "@",
    "#",
    ".",
    ",",
    "!",
    "?",
    "-",
    "+",
    "/",
    "0",
    "7",
    "4111",
    " 1111 ",
    "DE89",
    "é",
    "ß",
    "İ",
    "ı",
    "Ø",
    "ñ",
    "ç",
    "日本",
    "ж",
    "ع",
    "א",
    "😡",
    "❤️",
    "🏽",
    "🇪🇸",
    "\u{fffd}",
    "@user",
    "http://x.co/a",
    "not",
    "NEVER",
    "very",
    "!!!",
    ":(",
    ":)",
    "lol",
    "no funciona",
    "acme",
    "Acme X200",
    "class action",
    "#acmeoutage",
    "idiot",
    "jane.doe@example.com",
];

/// A char boundary at or before `i`.
fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut SplitMix) -> String {
    let mut s = SEEDS[rng.below(SEEDS.len())].to_owned();
    for _ in 0..=rng.below(8) {
        let at = floor(&s, rng.below(s.len() + 1));
        match rng.below(7) {
            0 | 1 => s.insert_str(at, INSERTS[rng.below(INSERTS.len())]),
            2 => {
                let end = floor(&s, at + rng.below(12));
                s.replace_range(at..end, "");
            }
            3 => {
                let end = floor(&s, at + rng.below(16));
                let piece = s[at..end].repeat(1 + rng.below(4));
                s.insert_str(end, &piece);
            }
            4 => {
                let other = SEEDS[rng.below(SEEDS.len())];
                let cut = floor(other, rng.below(other.len() + 1));
                s.truncate(at);
                s.push_str(&other[cut..]);
            }
            5 => {
                s = if rng.below(2) == 0 {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                };
            }
            _ if !s.is_empty() => {
                let mut bytes = s.into_bytes();
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
                s = String::from_utf8_lossy(&bytes).into_owned();
            }
            _ => {}
        }
    }
    s
}

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// Every promise one analysis of `text` makes; the reason for the first one broken.
fn check(text: &str, a: &Analysis) -> Result<(), String> {
    let c = a.sentiment.compound;
    if !(-1.0..=1.0).contains(&c) {
        return Err(format!("compound {c}"));
    }
    for (name, x) in [
        ("language confidence", a.language_confidence),
        ("intent confidence", a.intent.confidence),
        ("emotion confidence", a.emotion.confidence),
        ("toxicity", a.toxicity),
        ("spam", a.spam),
    ] {
        if !in_unit(x) {
            return Err(format!("{name} {x}"));
        }
    }
    let mut at = 0;
    let mut rebuilt = String::new();
    for p in &a.pii {
        if p.start < at || p.start >= p.end || p.end > text.len() {
            return Err(format!(
                "personal data span {}..{} after {at}",
                p.start, p.end
            ));
        }
        if !text.is_char_boundary(p.start) || !text.is_char_boundary(p.end) {
            return Err(format!(
                "personal data span {}..{} splits a character",
                p.start, p.end
            ));
        }
        rebuilt.push_str(&text[at..p.start]);
        rebuilt.push_str(p.kind.placeholder());
        at = p.end;
    }
    rebuilt.push_str(&text[at..]);
    if rebuilt != a.redacted {
        return Err(format!("redacted {:?}, not {rebuilt:?}", a.redacted));
    }
    for w in &a.watchlist {
        if w.start >= w.end || w.end > text.len() {
            return Err(format!("watch span {}..{}", w.start, w.end));
        }
        if !text.is_char_boundary(w.start) || !text.is_char_boundary(w.end) {
            return Err(format!(
                "watch span {}..{} splits a character",
                w.start, w.end
            ));
        }
    }
    Ok(())
}

#[test]
fn mutated_care_messages_keep_every_promise_of_the_analysis() {
    let watchlist = Watchlist::parse(
        "products,Acme X200\nlegal,class action\nexecutives,Jane Roe\ncompetitors,Globex\n\
         hashtags,#AcmeOutage\nproducts,café crème\n",
    )
    .unwrap();
    let analyzer = Analyzer::new().with_watchlist(watchlist);
    let secs: u64 = std::env::var("SWITCHBOARD_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let seed: u64 = std::env::var("SWITCHBOARD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24301);
    let mut rng = SplitMix(seed);
    let started = Instant::now();
    let (mut inputs, mut with_pii, mut with_watch) = (0u64, 0u64, 0u64);
    while inputs < 10_000 || started.elapsed() < Duration::from_secs(secs) {
        let text = mutate(&mut rng);
        let fallback = ["en", "de", "xx"][rng.below(3)];
        let a = analyzer.analyze_with_language(&text, Some(fallback));
        if let Err(why) = check(&text, &a) {
            panic!("{why} for {text:?} (seed {seed}, input {inputs})");
        }
        assert_eq!(
            a,
            analyzer.analyze_with_language(&text, Some(fallback)),
            "two answers for {text:?}"
        );
        inputs += 1;
        with_pii += u64::from(!a.pii.is_empty());
        with_watch += u64::from(!a.watchlist.is_empty());
    }
    println!(
        "{inputs} inputs in {:.1} s (seed {seed}): {with_pii} with personal data, {with_watch} \
         with watched terms",
        started.elapsed().as_secs_f64()
    );
    // The mutations keep enough of the messages for the detectors to have work.
    assert!(with_pii > inputs / 5 && with_watch > inputs / 20);
}
