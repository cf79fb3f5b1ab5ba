//! Digit-based identifiers: payment cards, IBANs, phone numbers and national ids. Each
//! candidate is a run of digits joined by the separators people type; each kind then checks
//! its own shape and checksum. Nine bare digits are far more often an order number than an
//! id, so the Portuguese NIF and the Dutch BSN also need their name just before them.

use super::{PiiKind, PiiSpan};

pub(super) fn find(text: &str, out: &mut Vec<PiiSpan>) {
    let b = text.as_bytes();
    find_ibans(text, out);
    find_spanish_ids(b, out);
    find_uk_nino(b, out);
    find_italian_cf(b, out);
    let mut i = 0;
    while i < b.len() {
        let starts_run = (b[i].is_ascii_digit() || b[i] == b'+' || b[i] == b'(')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !starts_run {
            i += 1;
            continue;
        }
        let end = run_end(b, i);
        if end > i {
            let run = &text[i..end];
            let digits: Vec<u8> = run
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|d| d - b'0')
                .collect();
            let kind = classify(run, &digits).or_else(|| {
                (digits.len() == 9
                    && run.len() == 9
                    && named_before(b, i)
                    && (nif_valid(&digits) || bsn_valid(&digits)))
                .then_some(PiiKind::NationalId)
            });
            if let Some(kind) = kind {
                out.push(PiiSpan {
                    kind,
                    start: i,
                    end,
                });
            }
        }
        i = end.max(i + 1);
    }
}

/// End of a run of digits with single separators between them (space, dash, dot, brackets).
fn run_end(b: &[u8], start: usize) -> usize {
    let mut end = start;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            i += 1;
            end = i;
        } else if ((c == b'+' || c == b'(') && i == start)
            || (matches!(c, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
                && i + 1 < b.len()
                && (b[i + 1].is_ascii_digit()
                    || (c == b')' && b[i + 1] == b' ')
                    || (c == b' ' && b[i + 1] == b'(')))
        {
            i += 1;
        } else {
            break;
        }
    }
    // Letters glued to the end make it a product code, not a number.
    if end < b.len() && b[end].is_ascii_alphabetic() {
        return start;
    }
    end
}

fn classify(run: &str, d: &[u8]) -> Option<PiiKind> {
    let n = d.len();
    if (13..=19).contains(&n) && !run.starts_with('+') && luhn(d) && card_prefix(d) {
        return Some(PiiKind::PaymentCard);
    }
    if is_ssn(run, d) || is_cpf(run, d) || is_nir(run, d) {
        return Some(PiiKind::NationalId);
    }
    if is_phone(run, d) {
        return Some(PiiKind::Phone);
    }
    None
}

pub(super) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer prefixes of the schemes we see, with the lengths each issues (Amex 15, Diners
/// 14–19, JCB 16–19, Visa 13/16/19, Mastercard 16, Discover/UnionPay/Maestro 16–19). One
/// Luhn-valid digit run in ten would pass a prefix-only test, so the length must fit too.
fn card_prefix(d: &[u8]) -> bool {
    let n = d.len();
    match (d.first(), d.get(1)) {
        (Some(3), Some(4 | 7)) => n == 15,
        (Some(3), Some(0 | 6 | 8 | 9)) => (14..=19).contains(&n),
        (Some(3), Some(5)) => (16..=19).contains(&n),
        (Some(4), _) => matches!(n, 13 | 16 | 19),
        (Some(2 | 5), _) => n == 16,
        (Some(6), _) => (16..=19).contains(&n),
        _ => false,
    }
}

fn is_phone(run: &str, d: &[u8]) -> bool {
    let n = d.len();
    if run.starts_with('+') {
        return (8..=15).contains(&n) && d.first() != Some(&0);
    }
    if run.starts_with("00") {
        return (10..=15).contains(&n);
    }
    let separated = run
        .bytes()
        .any(|c| matches!(c, b' ' | b'-' | b'.' | b'(' | b')'));
    if !separated {
        // A bare digit run is more often an order or tracking number; only national
        // formats that start with a single 0 count (07700900123, 0612345678).
        return (10..=11).contains(&n) && d.first() == Some(&0) && d.get(1) != Some(&0);
    }
    // (555) 123-4567, 555-123-4567, 020 7946 0958, 06 12 34 56 78
    let groups: Vec<&str> = run
        .split([' ', '-', '.', '(', ')'])
        .filter(|g| !g.is_empty())
        .collect();
    let short_groups = groups.iter().all(|g| g.len() <= 6);
    // An area code and one subscriber group, as German and Austrian numbers are written:
    // 030 1234567, 0151 12345678, 0221-9876543.
    let area_code = groups.len() == 2
        && (3..=5).contains(&groups[0].len())
        && groups[0].starts_with('0')
        && !groups[0].starts_with("00")
        && (5..=8).contains(&groups[1].len());
    if area_code {
        return (10..=12).contains(&n);
    }
    (10..=11).contains(&n)
        && (d.first() == Some(&0) || run.starts_with('(') || n == 10)
        && !run.contains('/')
        && short_groups
}

/// US Social Security number, written ddd-dd-dddd, with the never-issued ranges excluded.
fn is_ssn(run: &str, d: &[u8]) -> bool {
    let b = run.as_bytes();
    let shape = run.len() == 11 && b[3] == b'-' && b[6] == b'-';
    if !shape || d.len() != 9 {
        return false;
    }
    let area = num(&d[0..3]);
    area != 0 && area != 666 && area < 900 && num(&d[3..5]) != 0 && num(&d[5..9]) != 0
}

/// Brazilian CPF, ddd.ddd.ddd-dd, with both check digits.
fn is_cpf(run: &str, d: &[u8]) -> bool {
    let b = run.as_bytes();
    let shape = run.len() == 14 && b[3] == b'.' && b[7] == b'.' && b[11] == b'-';
    if !shape || d.len() != 11 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |len: usize| {
        let s: u32 = (0..len)
            .map(|i| u32::from(d[i]) * (len as u32 + 1 - i as u32))
            .sum();
        let r = (s * 10) % 11;
        (if r == 10 { 0 } else { r }) as u8
    };
    check(9) == d[9] && check(10) == d[10]
}

/// French social security number (NIR): sex, year, month, département, commune, order and
/// a two-digit key, 97 − (the first 13 digits mod 97); spaces optional
/// (1 85 05 78 006 084 91).
fn is_nir(run: &str, d: &[u8]) -> bool {
    if d.len() != 15 || !matches!(d[0], 1 | 2 | 3 | 7 | 8) || run.contains(['-', '.', '/']) {
        return false;
    }
    let body = d[..13].iter().fold(0u64, |a, &x| a * 10 + u64::from(x));
    let key = u64::from(d[13]) * 10 + u64::from(d[14]);
    key == 97 - body % 97
}

/// Names that precede a nine-digit national id: the Portuguese NIF and the Dutch BSN.
const NINE_DIGIT_ID_NAMES: &[&str] = &[
    "nif",
    "contribuinte",
    "bsn",
    "burgerservicenummer",
    "sofinummer",
];

/// Whether one of [`NINE_DIGIT_ID_NAMES`] ends within a few characters before `at`
/// ("NIF 123456789", "BSN: 123456782", "contribuinte nº 123456789").
fn named_before(b: &[u8], at: usize) -> bool {
    let window = &b[at.saturating_sub(32)..at];
    let lower = String::from_utf8_lossy(window).to_lowercase();
    let punctuation = |c: char| c.is_whitespace() || matches!(c, ':' | '#' | '.' | '-');
    let mut before = lower.trim_end_matches(punctuation);
    for number_word in ["n.º", "nº", "n°", "nr", "no"] {
        if let Some(rest) = before.strip_suffix(number_word) {
            before = rest.trim_end_matches(punctuation);
            break;
        }
    }
    NINE_DIGIT_ID_NAMES.iter().any(|name| {
        before.strip_suffix(name).is_some_and(|rest| {
            rest.chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
        })
    })
}

/// Portuguese NIF: mod-11 check digit, first digit one the tax office issues.
fn nif_valid(d: &[u8]) -> bool {
    if !matches!(d[0], 1 | 2 | 3 | 5 | 6 | 8 | 9) {
        return false;
    }
    let sum: u32 = (0..8).map(|i| u32::from(d[i]) * (9 - i as u32)).sum();
    let r = sum % 11;
    let check = if r < 2 { 0 } else { 11 - r };
    u32::from(d[8]) == check
}

/// Dutch BSN: the "elfproef", 9·d1 + 8·d2 + … + 2·d8 − d9 divisible by 11.
fn bsn_valid(d: &[u8]) -> bool {
    let sum: i32 = (0..8).map(|i| i32::from(d[i]) * (9 - i as i32)).sum();
    d.iter().any(|&x| x != 0) && (sum - i32::from(d[8])) % 11 == 0
}

/// Italian codice fiscale: six letters of the name, year, month letter, day (plus 40 for
/// women), place code and a check letter; digits may be replaced by the letters L–V when
/// two people would share a code (omocodia). Upper or lower case.
fn find_italian_cf(b: &[u8], out: &mut Vec<PiiSpan>) {
    const ODD: [u8; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    const MONTHS: &[u8] = b"ABCDEHLMPRST";
    let digit_like = |c: u8| c.is_ascii_digit() || b"LMNPQRSTUV".contains(&c);
    let mut i = 0;
    while i + 16 <= b.len() {
        if !b[i].is_ascii_alphabetic() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        if b.get(i + 16).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
            continue;
        }
        let mut w = [0u8; 16];
        for (to, from) in w.iter_mut().zip(&b[i..i + 16]) {
            *to = from.to_ascii_uppercase();
        }
        let shape = w.iter().all(u8::is_ascii_alphanumeric)
            && w[..6].iter().all(u8::is_ascii_alphabetic)
            && digit_like(w[6])
            && digit_like(w[7])
            && MONTHS.contains(&w[8])
            && digit_like(w[9])
            && digit_like(w[10])
            && w[11].is_ascii_alphabetic()
            && w[12..15].iter().all(|&c| digit_like(c))
            && w[15].is_ascii_alphabetic();
        if shape {
            let sum: u32 = w[..15]
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    let (alpha, digit) = (c.wrapping_sub(b'A'), c.wrapping_sub(b'0'));
                    let index = if c.is_ascii_digit() { digit } else { alpha };
                    if k % 2 == 0 {
                        u32::from(ODD[usize::from(index)])
                    } else {
                        u32::from(index)
                    }
                })
                .sum();
            if u32::from(w[15] - b'A') == sum % 26 {
                out.push(PiiSpan {
                    kind: PiiKind::NationalId,
                    start: i,
                    end: i + 16,
                });
                i += 16;
                continue;
            }
        }
        i += 1;
    }
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |a, &x| a * 10 + u32::from(x))
}

/// IBAN: country code, two check digits, up to 30 letters or digits, optionally in groups
/// of four; valid only when the ISO 7064 mod-97 remainder is 1.
fn find_ibans(text: &str, out: &mut Vec<PiiSpan>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 4 <= b.len() {
        let head = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if !head {
            i += 1;
            continue;
        }
        let mut chars = Vec::with_capacity(34);
        let mut j = i;
        while j < b.len() && chars.len() < 34 {
            if b[j].is_ascii_alphanumeric() {
                chars.push(b[j].to_ascii_uppercase());
                j += 1;
            } else if b[j] == b' ' && j + 1 < b.len() && b[j + 1].is_ascii_alphanumeric() {
                j += 1;
            } else {
                break;
            }
        }
        // Longest valid prefix first, so a word typed after the IBAN does not hide it.
        let found = (15..=chars.len())
            .rev()
            .find(|&len| iban_valid(&chars[..len]));
        let Some(len) = found else {
            i += 1;
            continue;
        };
        let mut seen = 0;
        let mut k = i;
        while k < b.len() && seen < len {
            if b[k].is_ascii_alphanumeric() {
                seen += 1;
            }
            k += 1;
        }
        out.push(PiiSpan {
            kind: PiiKind::Iban,
            start: i,
            end: k,
        });
        i = k;
    }
}

pub(super) fn iban_valid(c: &[u8]) -> bool {
    if c.len() < 15 || c.len() > 34 {
        return false;
    }
    let mut rem = 0u32;
    for &ch in c[4..].iter().chain(&c[..4]) {
        if ch.is_ascii_digit() {
            rem = (rem * 10 + u32::from(ch - b'0')) % 97;
        } else if ch.is_ascii_uppercase() {
            rem = (rem * 100 + u32::from(ch - b'A' + 10)) % 97;
        } else {
            return false;
        }
    }
    rem == 1
}

/// Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter), check letter verified.
fn find_spanish_ids(b: &[u8], out: &mut Vec<PiiSpan>) {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    for i in 0..b.len().saturating_sub(8) {
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        if b.get(i + 9).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let w = &b[i..i + 9];
        let prefix = match w[0] {
            b'0'..=b'9' => u32::from(w[0] - b'0'),
            b'X' => 0,
            b'Y' => 1,
            b'Z' => 2,
            _ => continue,
        };
        if !w[1..8].iter().all(u8::is_ascii_digit) || !w[8].is_ascii_uppercase() {
            continue;
        }
        let n = w[1..8]
            .iter()
            .fold(prefix, |a, &c| a * 10 + u32::from(c - b'0'));
        if LETTERS[(n % 23) as usize] == w[8] {
            out.push(PiiSpan {
                kind: PiiKind::NationalId,
                start: i,
                end: i + 9,
            });
        }
    }
}

/// UK National Insurance number: two letters, six digits, A-D, spaces optional (AB 12 34 56 C).
fn find_uk_nino(b: &[u8], out: &mut Vec<PiiSpan>) {
    for i in 0..b.len() {
        if !b[i].is_ascii_uppercase() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        let mut chars = Vec::with_capacity(9);
        let mut j = i;
        while j < b.len() && chars.len() < 9 {
            if b[j].is_ascii_alphanumeric() {
                chars.push(b[j]);
            } else if b[j] != b' ' {
                break;
            }
            j += 1;
        }
        if chars.len() != 9 || (j < b.len() && b[j].is_ascii_alphanumeric()) {
            continue;
        }
        let ok = !b"DFIQUV".contains(&chars[0])
            && chars[1].is_ascii_uppercase()
            && !b"DFIOQUV".contains(&chars[1])
            && chars[2..8].iter().all(u8::is_ascii_digit)
            && (b'A'..=b'D').contains(&chars[8]);
        if ok {
            out.push(PiiSpan {
                kind: PiiKind::NationalId,
                start: i,
                end: j,
            });
        }
    }
}
