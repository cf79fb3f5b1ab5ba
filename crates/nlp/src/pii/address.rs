//! Postal addresses: a house number next to a street word in the languages we serve
//! ("221B Baker Street", "Calle Mayor 5", "Hauptstraße 12", "12 rue de la Paix"), and UK
//! postcodes; a postcode and town right after a street address belong to it ("Hauptstraße
//! 12, 10115 Berlin"). Precision over recall: a street name alone is not personal data.

use super::{PiiKind, PiiSpan};

/// Street words after the name (English) — matched case-insensitively as whole words.
const SUFFIXES: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "terrace",
    "close",
    "crescent",
    "square",
];
/// Street words before the name (Romance languages).
const PREFIXES: &[&str] = &[
    "rue",
    "avenue",
    "boulevard",
    "calle",
    "avenida",
    "rua",
    "via",
    "viale",
    "piazza",
    "plaza",
    "travessa",
    "chemin",
    "allee",
];
/// German and Dutch compounds end in the street word: Hauptstraße, Kerkstraat.
const COMPOUND_ENDINGS: &[&str] = &[
    "straße", "strasse", "str.", "weg", "platz", "straat", "laan", "gasse",
];

struct Word<'a> {
    start: usize,
    end: usize,
    text: &'a str,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let part = c.is_alphanumeric() || c == '.' && start.is_some();
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word {
                    start: s,
                    end: i,
                    text: &text[s..i],
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            start: s,
            end: text.len(),
            text: &text[s..],
        });
    }
    for w in &mut out {
        // "St." ends a word: keep the dot out of everything but "str.".
        if w.text.ends_with('.') && !w.text.to_lowercase().ends_with("str.") {
            w.end -= 1;
            w.text = &w.text[..w.text.len() - 1];
        }
    }
    out
}

fn house_number(w: &str) -> bool {
    let digits = w.bytes().take_while(u8::is_ascii_digit).count();
    (1..=5).contains(&digits) && w.len() - digits <= 1
}

fn is_name(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

pub(super) fn find(text: &str, out: &mut Vec<PiiSpan>) {
    let w = words(text);
    let lower: Vec<String> = w.iter().map(|x| x.text.to_lowercase()).collect();
    for i in 0..w.len() {
        // 221B Baker Street / 1600 Pennsylvania Avenue NW / 12 rue de la Paix
        if house_number(w[i].text) {
            for len in 1..=4 {
                let Some(last) = lower.get(i + len) else {
                    break;
                };
                let names_ok = (i + 1..i + len).all(|j| is_name(w[j].text));
                if len > 1 && names_ok && SUFFIXES.contains(&last.as_str()) {
                    push_street(out, text, &w, i, i + len);
                    break;
                }
            }
            if lower
                .get(i + 1)
                .is_some_and(|p| PREFIXES.contains(&p.as_str()))
                && w.get(i + 2).is_some()
            {
                let end = (i + 2..w.len().min(i + 6))
                    .take_while(|&j| {
                        is_name(w[j].text)
                            || ["de", "la", "du", "des", "del"].contains(&lower[j].as_str())
                    })
                    .last();
                if let Some(e) = end {
                    push_street(out, text, &w, i, e);
                }
            }
        }
        // Calle Mayor 5 / Rua Augusta 274 / Hauptstraße 12
        let prefix = PREFIXES.contains(&lower[i].as_str());
        let compound = COMPOUND_ENDINGS
            .iter()
            .any(|e| lower[i].ends_with(e) && lower[i].len() > e.len() + 2)
            && is_name(w[i].text);
        if prefix || compound {
            let first = if prefix { i + 1 } else { i };
            for j in first..w.len().min(first + 5) {
                if house_number(w[j].text) && j > i {
                    push_street(out, text, &w, i, j);
                    break;
                }
                let joiner =
                    ["de", "da", "do", "del", "la", "dos", "das"].contains(&lower[j].as_str());
                if j > i && !is_name(w[j].text) && !joiner {
                    break;
                }
            }
        }
        // UK postcode: SW1A 1AA, M1 1AE, EC1A 1BB.
        if let Some(next) = w.get(i + 1)
            && uk_outward(w[i].text)
            && uk_inward(next.text)
            && next.start == w[i].end + 1
        {
            push(out, w[i].start, next.end);
        }
    }
}

fn uk_outward(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    (2..=4).contains(&b.len())
        && (1..=2).contains(&letters)
        && b.get(letters).is_some_and(u8::is_ascii_digit)
        && b[letters..]
            .iter()
            .skip(1)
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

fn uk_inward(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_uppercase() && b[2].is_ascii_uppercase()
}

/// A street address from word `first` to word `last`, with the postcode and town that follow.
fn push_street(out: &mut Vec<PiiSpan>, text: &str, w: &[Word<'_>], first: usize, last: usize) {
    let last = postcode_and_town(text, w, last).unwrap_or(last);
    push(out, w[first].start, w[last].end);
}

/// The last word of ", 10115 Berlin", " 28013 Madrid", ", 1100-053 Lisboa" or
/// ", 1012 AB Amsterdam" right after word `after`.
fn postcode_and_town(text: &str, w: &[Word<'_>], after: usize) -> Option<usize> {
    let gap = |a: usize, b: usize| text.get(w[a].end..w[b].start).unwrap_or("?");
    let all = |s: &str, f: fn(&u8) -> bool| s.bytes().all(|c| f(&c));
    let mut code = after + 1;
    let first = w.get(code)?;
    let len = first.text.len();
    if !matches!(gap(after, code), " " | ", ")
        || !(4..=5).contains(&len)
        || !all(first.text, u8::is_ascii_digit)
    {
        return None;
    }
    if let Some(next) = w.get(code + 1)
        && len == 4
    {
        let portuguese = gap(code, code + 1) == "-"
            && next.text.len() == 3
            && all(next.text, u8::is_ascii_digit);
        let dutch = gap(code, code + 1) == " "
            && next.text.len() == 2
            && all(next.text, u8::is_ascii_uppercase);
        if portuguese || dutch {
            code += 1;
        }
    }
    let town = w.get(code + 1)?;
    (gap(code, code + 1) == " " && is_name(town.text)).then_some(code + 1)
}

fn push(out: &mut Vec<PiiSpan>, start: usize, end: usize) {
    out.push(PiiSpan {
        kind: PiiKind::PostalAddress,
        start,
        end,
    });
}
