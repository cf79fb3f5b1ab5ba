//! The one byte encoding of a JSON value that the audit digests are taken over.
//!
//! serde_json's map order depends on its `preserve_order` feature, which any crate in the
//! build can switch on, so a digest taken over `to_string` could change under an unrelated
//! dependency bump and every stored chain would suddenly read as edited. This encoder fixes
//! the bytes itself: object keys sorted by code point at every depth, no whitespace, strings
//! escaped minimally.

use serde_json::Value;

pub(crate) fn encode(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::encode;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_whatever_order_they_arrived_in() {
        let a = json!({"b": 1, "a": {"z": [1, {"y": true, "x": null}], "c": "é"}});
        assert_eq!(
            encode(&a),
            r#"{"a":{"c":"é","z":[1,{"x":null,"y":true}]},"b":1}"#
        );
    }

    #[test]
    fn control_characters_and_quotes_are_escaped_so_the_encoding_stays_unambiguous() {
        let v = json!("a\"b\\c\n\u{01}");
        assert_eq!(encode(&v), r#""a\"b\\c\n\u0001""#);
        let back: serde_json::Value = serde_json::from_str(&encode(&v)).unwrap();
        assert_eq!(back, v);
    }
}
