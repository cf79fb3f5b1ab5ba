//! Personal data (B5): e-mail addresses, phone numbers in international formats, payment
//! cards (Luhn-valid only), IBANs (mod-97-valid only), postal addresses and a few national
//! ids. Spans are byte offsets into the original text. Checksums come first because a
//! redaction that eats order numbers makes agents' work harder than one that misses a digit.

mod address;
mod numbers;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Phone,
    PaymentCard,
    Iban,
    PostalAddress,
    NationalId,
}

impl PiiKind {
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Email => "[EMAIL]",
            Self::Phone => "[PHONE]",
            Self::PaymentCard => "[CARD]",
            Self::Iban => "[IBAN]",
            Self::PostalAddress => "[ADDRESS]",
            Self::NationalId => "[NATIONAL_ID]",
        }
    }

    /// Financial and government identifiers make a message sensitive; contact data makes it
    /// personal.
    pub fn is_sensitive(self) -> bool {
        matches!(self, Self::PaymentCard | Self::Iban | Self::NationalId)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// How carefully a stored message must be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// No personal data found.
    Standard,
    /// Contact data: e-mail, phone, postal address.
    Personal,
    /// Payment card, bank account or national id.
    Sensitive,
}

pub fn data_class(spans: &[PiiSpan]) -> DataClass {
    if spans.iter().any(|s| s.kind.is_sensitive()) {
        DataClass::Sensitive
    } else if spans.is_empty() {
        DataClass::Standard
    } else {
        DataClass::Personal
    }
}

/// Find every PII span, sorted and non-overlapping (the longer span wins a tie).
pub fn find_pii(text: &str) -> Vec<PiiSpan> {
    let mut spans = Vec::new();
    // Cheap guards: most messages have no '@' and few digits, so most scanners never run.
    if text.contains('@') {
        find_emails(text, &mut spans);
    }
    if text.bytes().any(|b| b.is_ascii_digit()) {
        numbers::find(text, &mut spans);
        address::find(text, &mut spans);
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out: Vec<PiiSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last() {
            Some(last) if s.start < last.end => {}
            _ => out.push(s),
        }
    }
    out
}

/// The text with every span replaced by its placeholder.
pub fn redact(text: &str, spans: &[PiiSpan]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        if s.start < at || s.end > text.len() {
            continue;
        }
        out.push_str(text.get(at..s.start).unwrap_or_default());
        out.push_str(s.kind.placeholder());
        at = s.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

fn find_emails(text: &str, out: &mut Vec<PiiSpan>) {
    let b = text.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    for (at, _) in text.match_indices('@') {
        let mut s = at;
        while s > 0 && local(b[s - 1]) {
            s -= 1;
        }
        let mut e = at + 1;
        while e < b.len() && domain(b[e]) {
            e += 1;
        }
        // A trailing full stop ends the sentence, not the address.
        while e > at + 1 && (b[e - 1] == b'.' || b[e - 1] == b'-') {
            e -= 1;
        }
        let host = &text[at + 1..e];
        let tld_ok = host.rsplit_once('.').is_some_and(|(name, tld)| {
            !name.is_empty() && tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic())
        });
        let local_ok = s < at && b[s] != b'.';
        if tld_ok && local_ok {
            out.push(PiiSpan {
                kind: PiiKind::Email,
                start: s,
                end: e,
            });
        }
    }
}

#[cfg(test)]
mod tests;
