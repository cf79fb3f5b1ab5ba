//! Deterministic identity keys: phone numbers in E.164, e-mail addresses and order ids,
//! normalised so that the same contact written two ways compares equal, and masked for the
//! audit trail. It parses strings only; it never checks that a number or mailbox exists.

use serde::{Deserialize, Serialize};

/// A phone number in E.164: `+` followed by 8–15 digits, the first (country code) not 0.
///
/// Parsed from the usual international and national spellings; spaces, `-`, `.`, `/` and
/// parentheses are separators and are ignored:
/// - international with `+`: `"+49 30 1234567"`, `"+1 (415) 555-0100"`; the "(0)" that
///   European numbers often carry after the country code (`"+44 (0)20 7946 0000"`) is the
///   national trunk prefix and is dropped;
/// - international with `00`: `"0049 (30) 123-4567"`, `"00351 912 345 678"`;
/// - national, only when a default country calling code is given: a leading trunk `0` is
///   dropped (`"030 1234567"` with `"49"` → `+49301234567`), otherwise the code is prefixed
///   (`"(415) 555-0100"` with `"1"` → `+14155550100`). Italy, San Marino and the Vatican
///   keep their leading 0 internationally, so it is kept for those codes. Without a
///   default, national numbers are not parsed — guessing a country would link strangers.
///
/// Anything else (letters, extensions, a `+` inside the number, too few or too many digits)
/// is not a phone number: `None`. Other international access codes (`011` in North America)
/// are not recognised, since a leading `0` national number cannot be told apart from them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct E164(String);

impl E164 {
    pub fn parse(s: &str, default_country_code: Option<&str>) -> Option<Self> {
        let s = s.trim();
        let (international, rest) = match s.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if !rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
        {
            return None;
        }
        let digits_of = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
        // "(0)" after an international country code is the national trunk prefix.
        let without_trunk = || digits_of(&rest.replacen("(0)", "", 1));
        let full = if international {
            without_trunk()
        } else if digits_of(rest).starts_with("00") {
            without_trunk().strip_prefix("00")?.to_owned()
        } else {
            let cc = country_code(default_country_code?)?;
            let digits = digits_of(rest);
            // Italy (and San Marino, Vatican) keep the leading 0 in international form.
            let keeps_trunk = matches!(cc, "39" | "378" | "379");
            let national = match digits.strip_prefix('0') {
                Some(n) if !keeps_trunk => n,
                _ => digits.as_str(),
            };
            if national.is_empty() {
                return None;
            }
            format!("{cc}{national}")
        };
        if !(8..=15).contains(&full.len()) || full.starts_with('0') {
            return None;
        }
        Some(Self(format!("+{full}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with the middle digits hidden ("+49*******567"): enough for a reviewer to
    /// recognise it, not enough to dial it from an audit log.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 3)
    }
}

impl std::fmt::Display for E164 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A default country calling code as configured: "49" or "+49"; 1–3 digits, not starting
/// with 0.
pub(crate) fn country_code(s: &str) -> Option<&str> {
    let cc = s.trim().trim_start_matches('+');
    let ok = (1..=3).contains(&cc.len())
        && cc.chars().all(|c| c.is_ascii_digit())
        && !cc.starts_with('0');
    ok.then_some(cc)
}

/// An e-mail address normalised for matching.
///
/// The whole address is trimmed and lowercased (local parts are case-insensitive at every
/// provider that matters), a display-name wrapper (`"Ana <ana@example.com>"`) or `mailto:`
/// is removed, and a `+tag` in the local part is dropped for every domain, since
/// sub-addressing delivers to the same mailbox nearly everywhere. Dots are kept, even for
/// Gmail: dropping them is provider-specific and would merge distinct mailboxes elsewhere.
///
/// Must contain exactly one `@`, a non-empty local part (after the tag is dropped) and a
/// domain with an inner dot; no whitespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EmailKey(String);

impl EmailKey {
    pub fn parse(s: &str) -> Option<Self> {
        let mut s = s.trim();
        if let (Some(open), Some(close)) = (s.rfind('<'), s.rfind('>'))
            && open < close
        {
            s = s[open + 1..close].trim();
        }
        let lower = s.to_lowercase();
        let lower = lower.strip_prefix("mailto:").unwrap_or(&lower);
        let (local, domain) = lower.split_once('@')?;
        let local = local.split('+').next().unwrap_or_default();
        let domain = domain.trim_end_matches('.');
        let valid = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.contains("..")
            && !lower
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>');
        valid.then(|| Self(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// First character of the local part and the domain ("a***@example.com").
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".to_owned(),
        }
    }
}

impl std::fmt::Display for EmailKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order id as people retype it: trimmed, a leading `#` dropped, inner spaces removed,
/// uppercased ("#a-1001 " → "A-1001"). Empty ids are not keys.
pub(crate) fn order_key(s: &str) -> Option<String> {
    let k: String = s
        .trim()
        .trim_start_matches('#')
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    (!k.is_empty()).then_some(k)
}

/// An order id with all but its last four characters hidden.
pub(crate) fn mask_order(k: &str) -> String {
    let n = k.chars().count();
    mask_middle(k, 0, 4.min(n.saturating_sub(1)))
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest; short values
/// are starred entirely rather than shown.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= chars.len() - tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str, cc: Option<&str>) -> Option<String> {
        E164::parse(s, cc).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn international_spellings_of_one_number_agree() {
        let want = Some("+49301234567".to_owned());
        assert_eq!(e164("+49 30 1234567", None), want);
        assert_eq!(e164("0049 (30) 123-4567", None), want);
        assert_eq!(e164("0049301234567", None), want);
        assert_eq!(e164("+49 (0)30 1234567", None), want);
        assert_eq!(e164("0049 (0)30 1234567", None), want);
        assert_eq!(e164("+49.30.123.45.67", None), want);
        assert_eq!(e164("+1 (415) 555-0100", None), Some("+14155550100".into()));
        assert_eq!(
            e164("00351 912 345 678", None),
            Some("+351912345678".into())
        );
    }

    #[test]
    fn national_numbers_need_a_default_country_code() {
        assert_eq!(e164("030 1234567", None), None);
        assert_eq!(e164("030 1234567", Some("49")), Some("+49301234567".into()));
        assert_eq!(
            e164("030 1234567", Some("+49")),
            Some("+49301234567".into())
        );
        assert_eq!(
            e164("(415) 555-0100", Some("1")),
            Some("+14155550100".into())
        );
        assert_eq!(
            e164("06 1234 5678", Some("39")),
            Some("+390612345678".into())
        );
        // The default does not override an explicit international number.
        assert_eq!(
            e164("+351 912 345 678", Some("49")),
            Some("+351912345678".into())
        );
        // A malformed default parses nothing rather than guessing.
        assert_eq!(e164("030 1234567", Some("049")), None);
        assert_eq!(e164("030 1234567", Some("12a")), None);
    }

    #[test]
    fn things_that_are_not_phone_numbers_are_rejected() {
        for bad in [
            "",
            "+",
            "call me",
            "+49 30 1234567 ext 12",
            "+49 30 12+34567",
            "+0049 30 1234567",    // country code cannot start with 0
            "+49 123",             // too short
            "+49 30 123456789012", // 16 digits
            "0049",
            "00",
        ] {
            assert_eq!(E164::parse(bad, Some("49")), None, "{bad:?} parsed");
        }
    }

    #[test]
    fn phone_masks_keep_country_and_last_digits() {
        let p = E164::parse("+49 30 1234567", None).unwrap();
        assert_eq!(p.masked(), "+49******567");
    }

    #[test]
    fn email_keys_ignore_case_tags_and_wrappers() {
        let key = |s: &str| EmailKey::parse(s).map(|k| k.as_str().to_owned());
        let want = Some("ana.pereira@example.pt".to_owned());
        assert_eq!(key("Ana.Pereira@Example.PT"), want);
        assert_eq!(key("  ana.pereira+shop@example.pt "), want);
        assert_eq!(key("Ana Pereira <ana.pereira@example.pt>"), want);
        assert_eq!(key("mailto:ana.pereira@example.pt"), want);
        // Dots are significant: not the same mailbox at most providers.
        assert_ne!(key("anapereira@example.pt"), want);
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.pt",
            "+tag@example.pt",
            "ana@localhost",
            "ana@@example.pt",
            "ana pereira@example.pt",
            "ana@.example.pt",
            "a@b..pt",
        ] {
            assert_eq!(key(bad), None, "{bad:?} parsed");
        }
        assert_eq!(
            EmailKey::parse("ana@example.pt").unwrap().masked(),
            "a***@example.pt"
        );
    }

    #[test]
    fn order_ids_compare_as_retyped() {
        assert_eq!(order_key(" #a-1001 "), Some("A-1001".into()));
        assert_eq!(order_key("A 1001"), Some("A1001".into()));
        assert_eq!(order_key(" # "), None);
        assert_eq!(mask_order("A-1001"), "**1001");
        assert_eq!(mask_order("77"), "*7");
    }
}
