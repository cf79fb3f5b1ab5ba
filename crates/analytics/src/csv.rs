//! CSV fields as RFC 4180 writes them.

/// A field, quoted when it holds a comma, quote or line break (quotes doubled). A field that
/// starts with `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a
/// formula.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(super::field("plain"), "plain");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("=SUM(A1)"), "'=SUM(A1)");
    }
}
