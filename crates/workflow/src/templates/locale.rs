//! Locale tags for template lookup: normalising the spelling (`pt_br` → `pt-BR`) and walking
//! from the most specific tag to the language and then the default. Knows nothing of which
//! languages exist; any well-formed-looking tag is accepted.

/// `pt_br` → `pt-BR`, `ZH-hant-tw` → `zh-Hant-TW`, following BCP 47 casing conventions.
/// Extensions and private use (`-u-…`, `-x-…`) are dropped: they never select a template.
pub fn canonical(tag: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for (i, subtag) in tag
        .trim()
        .split(['-', '_'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
    {
        if i > 0 && subtag.len() == 1 {
            break;
        }
        let shaped = if i == 0 {
            subtag.to_lowercase()
        } else if subtag.len() == 4 && subtag.chars().all(|c| c.is_ascii_alphabetic()) {
            let lower = subtag.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        } else if (subtag.len() == 2 && subtag.chars().all(|c| c.is_ascii_alphabetic()))
            || (subtag.len() == 3 && subtag.chars().all(|c| c.is_ascii_digit()))
        {
            subtag.to_ascii_uppercase()
        } else {
            subtag.to_lowercase()
        };
        out.push(shaped);
    }
    out.join("-")
}

/// Whether two tags name the same locale, however they are spelled.
pub fn same_locale(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

fn ancestors(tag: &str) -> Vec<String> {
    let canonical = canonical(tag);
    if canonical.is_empty() {
        return Vec::new();
    }
    let subtags: Vec<&str> = canonical.split('-').collect();
    (1..=subtags.len())
        .rev()
        .map(|n| subtags[..n].join("-"))
        .collect()
}

/// Locales to try, most specific first: `"pt-BR"` → `["pt-BR", "pt", "en"]`,
/// `"zh-Hant-TW"` → `["zh-Hant-TW", "zh-Hant", "zh", "en"]`. A regional default (`en-GB`)
/// is followed by its language (`en`). Tags are canonicalised and never repeated.
pub fn fallback_chain(locale: &str, default_locale: &str) -> Vec<String> {
    let mut chain = ancestors(locale);
    for tag in ancestors(default_locale) {
        if !chain.contains(&tag) {
            chain.push(tag);
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brazilian_portuguese_falls_back_to_portuguese_then_english() {
        assert_eq!(fallback_chain("pt-BR", "en"), ["pt-BR", "pt", "en"]);
        assert_eq!(fallback_chain("pt_br", "EN"), ["pt-BR", "pt", "en"]);
    }

    #[test]
    fn scripts_and_regions_are_peeled_one_at_a_time() {
        assert_eq!(
            fallback_chain("zh-hant-tw", "en"),
            ["zh-Hant-TW", "zh-Hant", "zh", "en"]
        );
        assert_eq!(
            fallback_chain("es-419", "en-GB"),
            ["es-419", "es", "en-GB", "en"]
        );
    }

    #[test]
    fn the_default_is_not_repeated_and_blank_tags_fall_to_it() {
        assert_eq!(fallback_chain("en-US", "en"), ["en-US", "en"]);
        assert_eq!(fallback_chain("", "en"), ["en"]);
        assert_eq!(fallback_chain(" - ", "de-DE"), ["de-DE", "de"]);
        assert!(fallback_chain("", "").is_empty());
    }

    #[test]
    fn extensions_are_ignored() {
        assert_eq!(canonical("de-DE-u-co-phonebk"), "de-DE");
        assert!(same_locale("PT_br", "pt-BR"));
        assert!(!same_locale("pt", "pt-BR"));
    }
}
