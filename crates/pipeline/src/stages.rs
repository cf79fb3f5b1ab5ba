//! The stages between a stored message and its case. Normalize and enrich are pure CPU work;
//! identify, case and route are planned by the domain (`plan_batch`) from what the store
//! knows, then applied by the store in one transaction.

use sb_domain::{Enrichment, Message};
use sb_nlp::Analyzer;

/// Normalize: the text the understanding stage sees — whitespace collapsed, zero-width and
/// control characters dropped — without touching the stored original.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}')
            || (c.is_control() && !c.is_whitespace())
        {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// Enrich: the message's understanding (language, sentiment, intent, urgency, …).
pub fn enrich(analyzer: &Analyzer, m: &Message) -> Enrichment {
    enrich_text(analyzer, &m.text, None)
}

/// Enrich a message's text, taking it to be in `fallback_language` (its customer's, say)
/// when it is too short to tell.
pub fn enrich_text(analyzer: &Analyzer, text: &str, fallback_language: Option<&str>) -> Enrichment {
    analyzer.enrich_with_language(&normalize(text), fallback_language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_collapses_whitespace_and_drops_invisible_characters() {
        assert_eq!(
            normalize("  where\u{200B} is\n\n my\tparcel?  "),
            "where is my parcel?"
        );
        assert_eq!(normalize(""), "");
    }
}
