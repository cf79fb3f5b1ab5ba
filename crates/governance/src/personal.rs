//! Personal data inside stored JSON documents (case events, replies, merge records): which
//! keys may hold what a person wrote or who they are, and blanking them for erasure or for a
//! reader without the right to see them.

use serde_json::Value;

/// Keys whose string values may hold what a person wrote or who they are; erasure blanks them
/// wherever they appear in a stored JSON document (case events, replies, merge records).
const PERSONAL_KEYS: &[&str] = &[
    "text",
    "body",
    "reason",
    "note",
    "handle",
    "name",
    "display_name",
    "email",
    "phone",
    "subject",
    "texts",
    "to",
    "author",
    "message",
    "edited_text",
    // Merge records spell a profile's fields in the plural.
    "names",
    "handles",
    "location",
    "verified_emails",
    "phones",
    "comment",
];

/// Blanks personal strings in `doc`; returns whether anything changed.
pub fn scrub(doc: &mut Value) -> bool {
    fn blank(v: &mut Value) -> bool {
        match v {
            Value::String(s) if !s.is_empty() => {
                *s = String::new();
                true
            }
            Value::Array(items) => items.iter_mut().fold(false, |acc, i| blank(i) | acc),
            Value::Object(map) => map.values_mut().fold(false, |acc, i| blank(i) | acc),
            _ => false,
        }
    }
    match doc {
        Value::Object(map) => map.iter_mut().fold(false, |acc, (k, v)| {
            let changed = if PERSONAL_KEYS.contains(&k.as_str()) {
                blank(v)
            } else {
                scrub(v)
            };
            changed | acc
        }),
        Value::Array(items) => items.iter_mut().fold(false, |acc, i| scrub(i) | acc),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_note_and_reply_texts_are_blanked_but_labels_and_times_stay() {
        let mut doc = json!({
            "kind": "note", "at": 17, "text": "call +44 20 7946 0958",
            "versions": [{ "text": "Hi Zoë", "by": "key:1" }],
            "to": { "handle": "@zoe" }, "status": "queued", "count": 3
        });
        assert!(scrub(&mut doc));
        assert_eq!(
            doc,
            json!({
                "kind": "note", "at": 17, "text": "",
                "versions": [{ "text": "", "by": "key:1" }],
                "to": { "handle": "" }, "status": "queued", "count": 3
            })
        );
        assert!(!scrub(&mut doc), "a second pass finds nothing left");
    }
}
