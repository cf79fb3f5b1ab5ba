//! What a caller without `personal.read` (analysts, operations) sees (G3): message text with
//! every personal-data span the understanding stage found replaced by its kind, and no
//! handles, names or raw payloads. Counts, labels and scores stay as they are.

use sb_domain::{Customer, Message, PiiMark};

/// Stands in for a handle or name.
pub const HIDDEN: &str = "[redacted]";

/// `text` with each PII span replaced by `[kind]`; spans that do not fall on character
/// boundaries (stale offsets after an edit) hide the whole text instead.
pub fn text(text: &str, pii: &[PiiMark]) -> String {
    let mut spans: Vec<_> = pii.iter().collect();
    spans.sort_by_key(|p| p.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for p in spans {
        if p.start < at
            || p.end > text.len()
            || !text.is_char_boundary(p.start)
            || !text.is_char_boundary(p.end)
        {
            return HIDDEN.to_owned();
        }
        out.push_str(&text[at..p.start]);
        out.push('[');
        out.push_str(&p.kind);
        out.push(']');
        at = p.end;
    }
    out.push_str(&text[at..]);
    out
}

/// A message not yet understood has no PII spans to go by, so its whole text is hidden.
pub fn message(m: &mut Message) {
    m.text = match &m.enrichment {
        Some(e) => text(&m.text, &e.pii),
        None => HIDDEN.to_owned(),
    };
    m.author.handle = HIDDEN.to_owned();
    m.author.name = None;
    m.in_reply_to = None;
    m.metrics = serde_json::Value::Object(serde_json::Map::new());
}

pub fn customer(c: &mut Customer) {
    c.display_name = None;
    for i in &mut c.identities {
        i.handle = HIDDEN.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(kind: &str, start: usize, end: usize) -> PiiMark {
        PiiMark {
            kind: kind.into(),
            start,
            end,
        }
    }

    #[test]
    fn an_analyst_reads_the_complaint_but_not_the_phone_number() {
        let t = "Call me on +44 20 7946 0958 about order 5512, Zoë";
        let start = t.find('+').unwrap_or(0);
        let end = start + "+44 20 7946 0958".len();
        assert_eq!(
            text(t, &[mark("phone", start, end)]),
            "Call me on [phone] about order 5512, Zoë"
        );
        assert_eq!(text("no personal data", &[]), "no personal data");
    }

    #[test]
    fn offsets_that_do_not_fit_hide_everything() {
        assert_eq!(text("Zoë", &[mark("email", 2, 3)]), HIDDEN);
        assert_eq!(text("short", &[mark("email", 2, 30)]), HIDDEN);
    }
}
