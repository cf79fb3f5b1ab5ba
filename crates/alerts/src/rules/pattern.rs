//! Series patterns: an exact series name, or a glob where `*` stands for any run of
//! characters (`watch:*`, `platform:*`, `*:complaint`). Nothing else is special, and the
//! characters other glob dialects give a meaning to (`?`, `[`, `]`, `{`, `}`) are refused
//! rather than taken literally, so a pattern never silently matches less than its author meant.

use super::RuleError;

/// Longest pattern accepted; series names are short keys, and matching stays cheap.
pub const MAX_PATTERN_LEN: usize = 200;

/// Checks a pattern before it is used.
pub fn validate(pattern: &str) -> Result<(), RuleError> {
    let why = if pattern.trim().is_empty() {
        Some("is empty")
    } else if pattern.len() > MAX_PATTERN_LEN {
        Some("is longer than 200 characters")
    } else if pattern != pattern.trim() {
        Some("starts or ends with whitespace")
    } else if pattern.chars().any(char::is_control) {
        Some("contains a control character")
    } else if pattern
        .chars()
        .any(|c| matches!(c, '?' | '[' | ']' | '{' | '}'))
    {
        Some("uses glob syntax other than `*`")
    } else {
        None
    };
    match why {
        Some(why) => Err(RuleError::InvalidPattern {
            pattern: pattern.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// Whether `series` matches `pattern`. Linear in practice: on a mismatch after a `*`, the
/// star absorbs one more character and matching resumes from there, so no path is tried twice.
pub fn matches(pattern: &str, series: &str) -> bool {
    let p = pattern.as_bytes();
    let s = series.as_bytes();
    let (mut pi, mut si) = (0, 0);
    // Position of the last `*` seen and of the series character it is currently absorbing up to.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_match_only_themselves() {
        assert!(matches("all", "all"));
        assert!(!matches("all", "all2"));
        assert!(!matches("platform:x", "platform:xing"));
    }

    #[test]
    fn a_star_matches_any_run_including_nested_keys() {
        assert!(matches("watch:*", "watch:products:X200"));
        assert!(matches("watch:*", "watch:"));
        assert!(matches("platform:*", "platform:x"));
        assert!(!matches("platform:*", "intent:complaint"));
        assert!(matches("*:complaint", "intent:complaint"));
        assert!(matches("watch:*:X200", "watch:products:X200"));
        assert!(!matches("watch:*:X200", "watch:products:X2000"));
        assert!(matches("*", "anything at all"));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_stable_code() {
        for bad in [
            "",
            "  ",
            " all",
            "watch:?",
            "topic:[ab]",
            "a\tb",
            &"x".repeat(201),
        ] {
            let err = validate(bad).unwrap_err();
            assert_eq!(err.code(), "rule_invalid_pattern", "{bad:?}");
        }
        validate("watch:products:X 200").unwrap();
        validate("watch:*").unwrap();
    }
}
