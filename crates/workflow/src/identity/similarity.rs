//! String similarity for identity matching: Jaro and Jaro–Winkler, and the normalisations
//! that make names, handles and places comparable across platforms (case, accents,
//! punctuation, token order). Scores only; it never decides whether two people are the same.

/// Jaro similarity in `0.0..=1.0`, over Unicode scalar values.
///
/// Two empty strings are identical (1.0); an empty string against a non-empty one shares
/// nothing (0.0).
pub fn jaro(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_matched = vec![false; a.len()];
    let mut b_matched = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_matched[j] && b[j] == *ca {
                a_matched[i] = true;
                b_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    // Matched characters of `a` and `b`, in order; every position where they differ is
    // half a transposition.
    let a_seq = a
        .iter()
        .zip(&a_matched)
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let b_seq = b
        .iter()
        .zip(&b_matched)
        .filter(|(_, m)| **m)
        .map(|(c, _)| c);
    let half_transpositions = a_seq.zip(b_seq).filter(|(x, y)| x != y).count();
    let m = matches as f64;
    let t = (half_transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// Jaro–Winkler similarity in `0.0..=1.0`: Jaro, boosted for a common prefix of up to four
/// characters (scale 0.1), the boost applied only above Winkler's 0.7 threshold so that
/// unrelated strings sharing a first letter are not pulled up.
///
/// `jaro_winkler("MARTHA", "MARHTA") ≈ 0.961`, `jaro_winkler("DIXON", "DICKSONX") ≈ 0.813`.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let j = jaro(a, b);
    if j <= 0.7 {
        return j;
    }
    let prefix = a
        .chars()
        .zip(b.chars())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

/// Lowercases and folds Latin accents and ligatures to ASCII letters ("Pérez" → "perez",
/// "Straße" → "strasse"); combining marks of decomposed text are dropped. Characters outside
/// the table are kept lowercased, so non-Latin names still compare with themselves.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            '\u{0300}'..='\u{036f}' => {}
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => out.push('a'),
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => out.push('c'),
            'ď' | 'đ' | 'ð' => out.push('d'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => out.push('e'),
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => out.push('g'),
            'ĥ' | 'ħ' => out.push('h'),
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => out.push('i'),
            'ĵ' => out.push('j'),
            'ķ' => out.push('k'),
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => out.push('l'),
            'ñ' | 'ń' | 'ņ' | 'ň' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => out.push('o'),
            'ŕ' | 'ŗ' | 'ř' => out.push('r'),
            'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => out.push('s'),
            'ţ' | 'ť' | 'ŧ' | 'ț' => out.push('t'),
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => out.push('u'),
            'ŵ' => out.push('w'),
            'ý' | 'ÿ' | 'ŷ' => out.push('y'),
            'ź' | 'ż' | 'ž' => out.push('z'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            _ => out.push(c),
        }
    }
    out
}

/// Folded alphanumeric tokens of `s`, in their original order.
fn tokens(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A person's name made comparable: folded, punctuation dropped, tokens sorted so that
/// "Pereira, Ana" and "Ana Pereira" are the same string. Empty when nothing is left.
pub fn normalise_name(s: &str) -> String {
    let mut t = tokens(s);
    t.sort_unstable();
    t.join(" ")
}

/// A place made comparable: folded, punctuation dropped, tokens kept in order (a place's
/// order carries meaning: "Lisbon, Portugal").
pub fn normalise_location(s: &str) -> String {
    tokens(s).join(" ")
}

/// A handle made comparable across platforms: leading `@` dropped, folded, and every
/// separator removed, so "@Ana_Pereira", "ana.pereira" and "anapereira" agree.
pub fn normalise_handle(s: &str) -> String {
    fold(s.trim().trim_start_matches('@'))
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A normalised handle without its trailing digits ("anapereira84" → "anapereira"): people
/// append birth years or counters when the plain name is taken.
pub fn handle_stem(normalised: &str) -> &str {
    normalised.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Similarity of two normalised handles. Identical → 1. The same stem of at least four
/// characters with different digit suffixes ("anapereira" / "anapereira84") → at least 0.95,
/// because a digit suffix is how a taken handle is usually varied. Otherwise Jaro–Winkler.
pub fn handle_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let jw = jaro_winkler(a, b);
    let (sa, sb) = (handle_stem(a), handle_stem(b));
    if sa == sb && sa.chars().count() >= 4 {
        jw.max(0.95)
    } else {
        jw
    }
}

/// Similarity of two normalised places. Identical → 1; one a token-prefix of the other
/// ("lisbon" / "lisbon portugal") → 0.95, since people give more or less detail about the
/// same place; otherwise Jaro–Winkler (which catches "lisboa" / "lisbon").
pub fn location_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if !short.is_empty() && long.starts_with(short) && long[short.len()..].starts_with(' ') {
        return 0.95;
    }
    jaro_winkler(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 0.001,
            "expected ≈ {expected}, got {actual}"
        );
    }

    #[test]
    fn jaro_winkler_matches_the_published_reference_values() {
        close(jaro("MARTHA", "MARHTA"), 0.944);
        close(jaro_winkler("MARTHA", "MARHTA"), 0.961);
        close(jaro("DIXON", "DICKSONX"), 0.767);
        close(jaro_winkler("DIXON", "DICKSONX"), 0.813);
        close(jaro_winkler("DWAYNE", "DUANE"), 0.840);
        close(jaro_winkler("JELLYFISH", "SMELLYFISH"), 0.896);
    }

    #[test]
    fn jaro_winkler_edges_identical_empty_and_disjoint() {
        assert_eq!(jaro_winkler("ana", "ana"), 1.0);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("ana", ""), 0.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        // Symmetric, and multi-byte characters count as one.
        close(jaro_winkler("joão", "joao"), jaro_winkler("joao", "joão"));
        assert!(jaro_winkler("joão", "joão") == 1.0);
    }

    #[test]
    fn names_fold_accents_case_punctuation_and_order() {
        assert_eq!(normalise_name("Pereira, Ána"), "ana pereira");
        assert_eq!(normalise_name("ANA  PEREIRA"), "ana pereira");
        assert_eq!(normalise_name("Jürgen Straße"), "jurgen strasse");
        // Decomposed "é" (e + combining acute) folds like the precomposed one.
        assert_eq!(normalise_name("Ine\u{0301}s"), "ines");
        assert_eq!(normalise_name(" -- "), "");
    }

    #[test]
    fn handles_lose_at_sign_separators_and_compare_by_stem() {
        assert_eq!(normalise_handle("@Ana_Pereira"), "anapereira");
        assert_eq!(normalise_handle("ana.pereira"), "anapereira");
        assert_eq!(handle_stem("anapereira84"), "anapereira");
        assert!(handle_similarity("anapereira", "anapereira84") >= 0.95);
        // A long suffix on a short stem would fall below without the stem rule.
        assert_eq!(handle_similarity("anap", "anap19841"), 0.95);
        // Short stems get no bonus: "jo1" and "jo2" are not evidence of one person.
        assert!(handle_similarity("jo1", "jo2") < 0.95);
    }

    #[test]
    fn places_agree_on_more_or_less_detail() {
        assert_eq!(normalise_location("Lisbon, Portugal"), "lisbon portugal");
        assert_eq!(location_similarity("lisbon", "lisbon portugal"), 0.95);
        assert!(location_similarity("lisboa", "lisbon") > 0.88);
        assert!(location_similarity("porto", "lisbon") < 0.7);
    }
}
