//! Template bodies: parsing placeholders once, and filling them from a case's variables. Never
//! escapes values (replies are plain text on every channel) and never looks anything up.
//!
//! Syntax:
//! - `{{customer.name}}`, `{{ case.id }}`: a variable; names are dot-separated segments of
//!   letters, digits, `_` and `-` (`fact.delivery_delay.hours`).
//! - `{{customer.first_name | "there"}}`: a default used when the variable is missing or blank;
//!   inside the quotes `\"` is a quote and `\\` a backslash; a default cannot contain `}}`.
//! - `{{{{` is a literal `{{`. A lone `}}` outside a placeholder is ordinary text.
//! - An unterminated or empty placeholder, a bad name or a malformed default is a
//!   [`TemplateError::Syntax`] with the byte offset of the placeholder's `{{`.
//!
//! A variable set to an empty or whitespace-only value counts as missing: "Hi ," is never the
//! reply anyone meant to send.

use std::collections::BTreeMap;

use super::TemplateError;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var {
        name: String,
        default: Option<String>,
    },
}

/// A body parsed once, rendered many times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledBody {
    parts: Vec<Part>,
}

fn syntax(at: usize, problem: &str) -> TemplateError {
    TemplateError::Syntax {
        at,
        problem: problem.to_string(),
    }
}

impl CompiledBody {
    pub fn parse(body: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = 0;
        while let Some(found) = body[rest..].find("{{") {
            let open = rest + found;
            text.push_str(&body[rest..open]);
            if body[open + 2..].starts_with("{{") {
                text.push_str("{{");
                rest = open + 4;
                continue;
            }
            let inner_start = open + 2;
            let close = body[inner_start..]
                .find("}}")
                .map(|i| inner_start + i)
                .ok_or_else(|| syntax(open, "unterminated placeholder: `{{` without `}}`"))?;
            let inner = &body[inner_start..close];
            if inner.contains("{{") {
                return Err(syntax(open, "unterminated placeholder: `{{` without `}}`"));
            }
            let (name, default) = parse_placeholder(inner, open)?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var { name, default });
            rest = close + 2;
        }
        text.push_str(&body[rest..]);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self { parts })
    }

    /// Every variable the body uses, once each, in order of first use.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        for part in &self.parts {
            if let Part::Var { name, .. } = part
                && !seen.contains(&name.as_str())
            {
                seen.push(name);
            }
        }
        seen.into_iter()
    }

    /// Variables without a default anywhere in the body: rendering fails unless they are set.
    pub fn required_variables(&self) -> impl Iterator<Item = &str> {
        self.variables().filter(|name| {
            self.parts
                .iter()
                .any(|p| matches!(p, Part::Var { name: n, default: None } if n.as_str() == *name))
        })
    }

    /// Fills every placeholder; the error names all missing variables, not just the first.
    pub fn render(&self, vars: &Variables) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut missing: Vec<String> = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var { name, default } => match (vars.get(name), default) {
                    (Some(value), _) => out.push_str(value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => {
                        if !missing.contains(name) {
                            missing.push(name.clone());
                        }
                    }
                },
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(TemplateError::MissingVariables(missing))
        }
    }
}

fn parse_placeholder(inner: &str, at: usize) -> Result<(String, Option<String>), TemplateError> {
    let (name, default) = match inner.split_once('|') {
        Some((name, default)) => (name.trim(), Some(parse_default(default.trim(), at)?)),
        None => (inner.trim(), None),
    };
    if name.is_empty() {
        return Err(syntax(at, "empty placeholder: expected a variable name"));
    }
    let valid = name.split('.').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    });
    if !valid {
        return Err(syntax(
            at,
            &format!("bad variable name `{name}`: use dot-separated letters, digits, `_` or `-`"),
        ));
    }
    Ok((name.to_string(), default))
}

fn parse_default(raw: &str, at: usize) -> Result<String, TemplateError> {
    const EXPECTED: &str = "a default must be a double-quoted string: `{{name | \"text\"}}`";
    let body = raw.strip_prefix('"').ok_or_else(|| syntax(at, EXPECTED))?;
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => value.push(e),
                _ => {
                    return Err(syntax(
                        at,
                        "in a default only `\\\"` and `\\\\` are escapes",
                    ));
                }
            },
            '"' if body[i + 1..].trim().is_empty() => return Ok(value),
            '"' => return Err(syntax(at, "text after the default's closing quote")),
            _ => value.push(c),
        }
    }
    Err(syntax(at, EXPECTED))
}

/// Values for a template's placeholders, by dotted name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<String, String>);

impl Variables {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.insert(name.into(), value.into());
        self
    }

    /// The value to render; blank values count as missing.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Flattens JSON into dotted names under `prefix`: `("fact.delivery_delay", {"hours": 6})`
    /// gives `fact.delivery_delay.hours = "6"`. Arrays are indexed (`items.0.sku`), booleans
    /// and numbers are written as JSON writes them, nulls are left unset.
    pub fn from_json(prefix: &str, value: &serde_json::Value) -> Self {
        let mut vars = Self::new();
        vars.extend_json(prefix, value);
        vars
    }

    /// Adds flattened JSON (see [`Variables::from_json`]), replacing names already set.
    pub fn extend_json(&mut self, prefix: &str, value: &serde_json::Value) -> &mut Self {
        use serde_json::Value;
        let child = |key: &str| {
            if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            }
        };
        match value {
            Value::Null => {}
            Value::Object(map) => {
                for (key, v) in map {
                    self.extend_json(&child(key), v);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.extend_json(&child(&i.to_string()), v);
                }
            }
            Value::String(s) => {
                self.0.insert(prefix.to_string(), s.clone());
            }
            Value::Bool(_) | Value::Number(_) => {
                self.0.insert(prefix.to_string(), value.to_string());
            }
        }
        self
    }

    /// Adds every variable of `other`, replacing names already set.
    pub fn merge(&mut self, other: Variables) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delay_vars() -> Variables {
        let mut vars = Variables::new();
        vars.set("customer.name", "Marta Souza")
            .set("case.id", "C-1042")
            .set("order.id", "O-77");
        vars.merge(Variables::from_json(
            "fact.delivery_delay",
            &json!({"hours": 6, "cause": {"label": "storm"}, "confirmed": true, "note": null}),
        ));
        vars
    }

    #[test]
    fn delay_apology_renders_with_nested_facts_and_defaults() {
        let body = CompiledBody::parse(
            "Hi {{customer.first_name | \"there\"}}, order {{ order.id }} (case {{case.id}}) \
             is {{fact.delivery_delay.hours}}h late due to a {{fact.delivery_delay.cause.label}}.",
        )
        .unwrap();
        assert_eq!(
            body.render(&delay_vars()).unwrap(),
            "Hi there, order O-77 (case C-1042) is 6h late due to a storm."
        );
        let mut named = delay_vars();
        named.set("customer.first_name", "Marta");
        assert!(body.render(&named).unwrap().starts_with("Hi Marta,"));
    }

    #[test]
    fn json_flattens_to_dotted_names() {
        let vars = Variables::from_json(
            "fact",
            &json!({"delay": {"hours": 6.5, "legs": [{"from": "LIS"}, {"from": "MAD"}]}, "ok": false, "gone": null}),
        );
        let flat: Vec<(&str, &str)> = vars.iter().collect();
        assert_eq!(
            flat,
            [
                ("fact.delay.hours", "6.5"),
                ("fact.delay.legs.0.from", "LIS"),
                ("fact.delay.legs.1.from", "MAD"),
                ("fact.ok", "false"),
            ]
        );
        let top = Variables::from_json("", &json!({"order": {"id": "O-1"}}));
        assert_eq!(top.get("order.id"), Some("O-1"));
    }

    #[test]
    fn every_missing_variable_is_named_once() {
        let body = CompiledBody::parse(
            "{{customer.name}}: {{order.id}} / {{order.eta}} / {{order.id}} {{x | \"ok\"}}",
        )
        .unwrap();
        let mut vars = Variables::new();
        vars.set("customer.name", "  ");
        let err = body.render(&vars).unwrap_err();
        assert_eq!(
            err,
            TemplateError::MissingVariables(vec![
                "customer.name".to_string(),
                "order.id".to_string(),
                "order.eta".to_string(),
            ])
        );
        assert_eq!(
            err.to_string(),
            "missing template variables: customer.name, order.id, order.eta"
        );
    }

    #[test]
    fn variables_are_listed_in_order_and_required_ones_known() {
        let body = CompiledBody::parse("{{b}} {{a | \"x\"}} {{b}} {{c | \"y\"}} {{c}}").unwrap();
        assert_eq!(body.variables().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(body.required_variables().collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn literal_braces_and_quoted_defaults() {
        let body = CompiledBody::parse(
            "Use {{{{code}} as written }} {{ who | \"the \\\"team\\\" \\\\ us\" }}",
        )
        .unwrap();
        assert_eq!(
            body.render(&Variables::new()).unwrap(),
            "Use {{code}} as written }} the \"team\" \\ us"
        );
        assert_eq!(body.variables().count(), 1);
    }

    #[test]
    fn syntax_errors_point_at_the_placeholder() {
        let at = |body: &str| match CompiledBody::parse(body) {
            Err(TemplateError::Syntax { at, problem }) => (at, problem),
            other => panic!("{body:?} parsed: {other:?}"),
        };
        assert_eq!(at("Hello {{customer.name").0, 6);
        assert_eq!(at("Hi {{ }}").0, 3);
        assert!(at("Hi {{ }}").1.contains("empty placeholder"));
        assert_eq!(at("ok {{a}} {{b {{c}}").0, 9);
        assert!(
            at("{{customer name}}")
                .1
                .contains("bad variable name `customer name`")
        );
        assert!(at("{{a..b}}").1.contains("bad variable name"));
        assert!(at("{{a | there}}").1.contains("double-quoted"));
        assert!(at("{{a | \"there}}").1.contains("double-quoted"));
        assert!(at("{{a | \"x\" y}}").1.contains("after the default"));
        assert!(at("{{a | \"\\n\"}}").1.contains("escapes"));
        assert!(at("{{ | \"x\"}}").1.contains("empty placeholder"));
        assert_eq!(
            CompiledBody::parse("é {{").unwrap_err().to_string(),
            "template syntax error at byte 3: unterminated placeholder: `{{` without `}}`"
        );
    }

    #[test]
    fn odd_bodies_are_errors_or_text_never_a_crash() {
        for body in [
            "{{",
            "{{{",
            "{{{{",
            "{{{{{",
            "}}{{",
            "{{|}}",
            "{{a|\"",
            "{{a | \"\\",
            "é{{é}}",
            "{{ñ.ü | \"ç\"}}",
            "{{a|\"x\"|\"y\"}}",
            "{{}}}}",
            "\u{0}{{\u{0}}}",
        ] {
            if let Ok(parsed) = CompiledBody::parse(body) {
                let _ = parsed.render(&Variables::new());
            }
        }
        let accented = CompiledBody::parse("{{ñ.ü | \"ç\"}}").unwrap();
        assert_eq!(accented.render(&Variables::new()).unwrap(), "ç");
    }

    #[test]
    fn plain_text_passes_through() {
        let body = CompiledBody::parse("No placeholders } here }}").unwrap();
        assert_eq!(
            body.render(&Variables::new()).unwrap(),
            "No placeholders } here }}"
        );
        assert_eq!(
            CompiledBody::parse("")
                .unwrap()
                .render(&Variables::new())
                .unwrap(),
            ""
        );
    }
}
