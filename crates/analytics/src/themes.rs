//! Recurring negative themes (H2), for root-cause work: the words that are over-represented in
//! negative messages, clustered by how often they occur together, each cluster with its
//! messages and a few examples. Definitions in docs/METRICS.md (*Negative themes*).
//!
//! Pure and bounded: the caller hands in a sample of messages (the web route reads the most
//! recent ones of the period), and the work is linear in the sample and quadratic only in the
//! few candidate terms.

use sb_domain::PiiMark;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One message of the sample.
#[derive(Clone, Copy, Debug)]
pub struct ThemeDoc<'a> {
    pub text: &'a str,
    pub negative: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThemeConfig {
    /// A term must be in at least this many negative messages…
    pub min_messages: usize,
    /// …and in at least this share of them.
    pub min_share: f64,
    /// Its rate in negative messages at least this many times its rate in all messages
    /// (ignored when every message of the sample is negative).
    pub min_lift: f64,
    /// Two terms belong together when the Jaccard overlap of their messages is at least this.
    pub min_jaccard: f64,
    /// The most frequent candidate terms considered.
    pub max_terms: usize,
    pub max_themes: usize,
    /// Terms listed per theme, most frequent first.
    pub terms_per_theme: usize,
    pub examples: usize,
}

impl Default for ThemeConfig {
    fn default() -> Self {
        Self {
            min_messages: 3,
            min_share: 0.02,
            min_lift: 1.2,
            min_jaccard: 0.25,
            max_terms: 60,
            max_themes: 10,
            terms_per_theme: 8,
            examples: 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemeTerm {
    pub term: String,
    /// Negative messages with the term.
    pub messages: usize,
    /// Its rate in negative messages ÷ its rate in all messages of the sample.
    pub lift: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Theme {
    /// Most frequent first; the first is the theme's seed.
    pub terms: Vec<ThemeTerm>,
    /// Negative messages that carry the theme (see [`themes`]).
    pub messages: usize,
    /// `100 × messages / negative messages of the sample`, one decimal.
    pub share_pct: f64,
    /// Indices into the sample of up to `examples` messages with the most theme terms,
    /// earliest in the sample first among equals.
    #[serde(skip)]
    pub examples: Vec<usize>,
}

/// Function words of the languages we read (en, es, pt, fr, de, it, nl), too common to say
/// anything about a theme.
const STOPWORDS: &[&str] = &[
    // English
    "the", "and", "for", "you", "your", "are", "was", "were", "with", "this", "that", "have", "has",
    "had", "not", "but", "they", "them", "their", "there", "what", "when", "who", "will", "would",
    "can", "could", "from", "our", "out", "all", "any", "about", "just", "been", "get", "got",
    "its", "it's", "i'm", "i've", "don't", "didn't", "can't", "doesn't", "won't", "than", "then",
    "now", "how", "why", "still", "again", "also", "very", "too", "one", "she", "her", "him",
    "his", "into", "over", "some", "more", "because", "after", "before", "being", "did", "does",
    "only", "really", "even", "here", "which", "where", "while", "let", "yet",
    // Spanish
    "que", "los", "las", "una", "por", "con", "para", "del", "como", "pero", "mas", "muy", "esta",
    "este", "eso", "son", "hay", "sin", "mis", "nos", "les", "fue", "ser", "todo", "cuando",
    "porque", "tengo", "tiene", "estoy", // Portuguese
    "nao", "uma", "com", "para", "meu", "minha", "voce", "voces", "isso", "esse", "essa", "foi",
    "tem", "sao", "mais", "pelo", "pela", "ainda", "estou", "quando", "porque",
    // French
    "les", "des", "une", "est", "pas", "que", "qui", "pour", "avec", "dans", "sur", "mon", "mes",
    "vous", "nous", "ils", "elle", "mais", "tout", "tres", "j'ai", "c'est", "toujours", "depuis",
    "encore", "aucun", "aucune", "votre", // German
    "der", "die", "das", "und", "ist", "nicht", "ich", "sie", "wir", "ihr", "mit", "auf", "fur",
    "von", "den", "dem", "ein", "eine", "einen", "noch", "mein", "meine", "auch", "aber", "wie",
    "was", "wann", "seit", "schon", "immer", "keine", "kein", "habe", "hat", "sind",
    // Italian
    "che", "non", "per", "una", "con", "del", "della", "sono", "mio", "mia", "come", "anche",
    "ancora", "questo", "questa", "perche", "nel", "alla", "gli", "ho", // Dutch
    "het", "een", "van", "niet", "ik", "je", "jullie", "wij", "met", "voor", "op", "nog", "mijn",
    "maar", "ook", "heb", "heeft", "geen", "wat", "wanneer", "al",
];

/// The function words `terms_of` leaves out.
pub fn stopwords() -> HashSet<&'static str> {
    STOPWORDS.iter().copied().collect()
}

/// The text with each personal-data span blanked: themes are never made of personal data.
pub fn without_pii(text: &str, pii: &[PiiMark]) -> String {
    let mut out = text.to_owned();
    let mut spans: Vec<&PiiMark> = pii.iter().collect();
    spans.sort_by_key(|p| std::cmp::Reverse(p.start));
    for p in spans {
        if p.start <= p.end
            && p.end <= out.len()
            && out.is_char_boundary(p.start)
            && out.is_char_boundary(p.end)
        {
            out.replace_range(p.start..p.end, " ");
        }
    }
    out
}

/// The distinct terms of a text: folded words of at least three letters that are not
/// function words or numbers, and hashtags as `#tag`. Handles (`@name`) and links name someone
/// or something, not a theme: they are left out.
pub fn terms_of(text: &str, stop: &HashSet<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |word: &str, hashtag: bool| {
        let w = word.trim_matches('\'');
        if w.chars().count() < 3 || w.chars().all(|c| c.is_ascii_digit()) || stop.contains(w) {
            return;
        }
        let term = if hashtag {
            format!("#{w}")
        } else {
            w.to_owned()
        };
        if !out.contains(&term) {
            out.push(term);
        }
    };
    for chunk in text.split_whitespace() {
        let lower = chunk.to_lowercase();
        if lower.starts_with('@')
            || lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            continue;
        }
        let mut word = String::new();
        let mut hashtag = false;
        for c in chunk.chars().map(fold) {
            if c.is_alphanumeric() || c == '\'' || c == '_' {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                push(&word, hashtag);
                word.clear();
            }
            hashtag = c == '#';
        }
        if !word.is_empty() {
            push(&word, hashtag);
        }
    }
    out
}

fn fold(c: char) -> char {
    let c = c.to_lowercase().next().unwrap_or(c);
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ß' => 's',
        '’' | '‘' => '\'',
        other => other,
    }
}

fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    // Both sorted ascending.
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// The recurring themes of the sample's negative messages.
///
/// 1. Candidate terms: in at least `min_messages` and `min_share` of the negative messages,
///    with a lift of at least `min_lift`; the `max_terms` most frequent.
/// 2. Clustering, most frequent term first: a term joins the theme whose seed (its first
///    term) its messages overlap most, if that Jaccard overlap is at least `min_jaccard`;
///    otherwise it seeds a theme of its own.
/// 3. A theme's messages: the negative messages with its seed and, for themes of several
///    terms, at least one more of its terms — or, for a theme of one term, that term.
///    Themes with fewer than `min_messages` messages are dropped; the rest are ordered by
///    messages, most first, and the first `max_themes` kept.
pub fn themes(docs: &[ThemeDoc<'_>], cfg: &ThemeConfig) -> Vec<Theme> {
    let stop = stopwords();
    let terms: Vec<Vec<String>> = docs.iter().map(|d| terms_of(d.text, &stop)).collect();
    let negatives: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].negative).collect();
    let (n_neg, n_all) = (negatives.len(), docs.len());
    if n_neg == 0 {
        return Vec::new();
    }
    let mut all_df: HashMap<&str, usize> = HashMap::new();
    for t in &terms {
        for w in t {
            *all_df.entry(w).or_default() += 1;
        }
    }
    let mut postings: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &negatives {
        for w in &terms[i] {
            postings.entry(w).or_default().push(i);
        }
    }
    let floor = cfg
        .min_messages
        .max((cfg.min_share * n_neg as f64).ceil() as usize);
    let lift_of = |term: &str, neg: usize| {
        let all = all_df.get(term).copied().unwrap_or(neg).max(1);
        (neg as f64 / n_neg as f64) / (all as f64 / n_all as f64)
    };
    let mut candidates: Vec<(&str, &Vec<usize>, f64)> = postings
        .iter()
        .filter(|(_, p)| p.len() >= floor)
        .map(|(t, p)| (*t, p, lift_of(t, p.len())))
        .filter(|(_, _, lift)| n_neg == n_all || *lift >= cfg.min_lift)
        .collect();
    candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    candidates.truncate(cfg.max_terms);

    // Clusters as indices into `candidates`; the first member is the seed.
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for (k, (_, docs_k, _)) in candidates.iter().enumerate() {
        let best = clusters
            .iter()
            .enumerate()
            .map(|(c, members)| (c, jaccard(docs_k, candidates[members[0]].1)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((c, j)) if j >= cfg.min_jaccard => clusters[c].push(k),
            _ => clusters.push(vec![k]),
        }
    }

    let mut out: Vec<Theme> = clusters
        .into_iter()
        .filter_map(|members| {
            let words: Vec<&str> = members.iter().map(|&m| candidates[m].0).collect();
            let mut hits: Vec<(usize, usize)> = candidates[members[0]]
                .1
                .iter()
                .map(|&i| {
                    let n = terms[i]
                        .iter()
                        .filter(|w| words.contains(&w.as_str()))
                        .count();
                    (i, n)
                })
                .filter(|&(_, n)| words.len() == 1 || n >= 2)
                .collect();
            if hits.len() < cfg.min_messages {
                return None;
            }
            let messages = hits.len();
            hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Some(Theme {
                terms: members
                    .iter()
                    .take(cfg.terms_per_theme)
                    .map(|&m| {
                        let (term, p, lift) = candidates[m];
                        ThemeTerm {
                            term: term.to_owned(),
                            messages: p.len(),
                            lift: (lift * 100.0).round() / 100.0,
                        }
                    })
                    .collect(),
                messages,
                share_pct: (1000.0 * messages as f64 / n_neg as f64).round() / 10.0,
                examples: hits.iter().take(cfg.examples).map(|&(i, _)| i).collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then(a.terms[0].term.cmp(&b.terms[0].term))
    });
    out.truncate(cfg.max_themes);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stop() -> HashSet<&'static str> {
        STOPWORDS.iter().copied().collect()
    }

    #[test]
    fn terms_are_folded_distinct_content_words_without_handles_or_links() {
        let t = terms_of(
            "@acme_help The PARCEL is late, the parcel!! Très énervé #Lieferung https://t.co/xyz 2026",
            &stop(),
        );
        assert_eq!(t, vec!["parcel", "late", "enerve", "#lieferung"]);
    }

    fn corpus() -> Vec<(String, bool)> {
        let mut docs = Vec::new();
        // Twelve complaints about late parcels, worded differently.
        for i in 0..12 {
            let text = match i % 3 {
                0 => format!("Parcel {i} is late again, delivery promised on Monday"),
                1 => format!("My delivery never came, the parcel is late by a week ({i})"),
                _ => format!("Late delivery, where is the parcel? order {i}"),
            };
            docs.push((text, true));
        }
        // Eight about the app crashing at login.
        for i in 0..8 {
            let text = if i % 2 == 0 {
                format!("The app crashes every time I try to login ({i})")
            } else {
                format!("Login fails and the app crash loses my basket {i}")
            };
            docs.push((text, true));
        }
        // Two negative one-offs, and praise that also says "delivery".
        docs.push(("Rude answer from the hotline".into(), true));
        docs.push(("Price went up without notice".into(), true));
        for i in 0..10 {
            docs.push((
                format!("Thank you, quick delivery and friendly service {i}"),
                false,
            ));
        }
        docs
    }

    #[test]
    fn late_parcels_and_app_crashes_come_out_as_two_themes_with_examples() {
        let c = corpus();
        let docs: Vec<ThemeDoc> = c
            .iter()
            .map(|(t, n)| ThemeDoc {
                text: t,
                negative: *n,
            })
            .collect();
        let found = themes(&docs, &ThemeConfig::default());
        assert_eq!(found.len(), 2, "{found:#?}");
        let parcel = &found[0];
        let words: Vec<&str> = parcel.terms.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(&words[..2], ["late", "parcel"], "{parcel:#?}");
        // Words of one wording (a third of the late parcels) overlap the seed by 4/12.
        assert!(words.contains(&"promised"), "{words:?}");
        assert!(!words.contains(&"app"));
        assert_eq!(parcel.messages, 12);
        assert_eq!(parcel.share_pct, 54.5, "12 of 22 negative messages");
        assert_eq!(parcel.examples.len(), 3);
        assert!(parcel.examples.iter().all(|&i| i < 12));
        // "delivery" is in every late-parcel message but also in all the praise: its lift
        // (12/22 ÷ 22/32 = 0.79) keeps it out.
        assert!(!words.contains(&"delivery"));
        let app = &found[1];
        let words: Vec<&str> = app.terms.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(&words[..2], ["app", "login"], "{app:#?}");
        assert_eq!(words.len(), 8, "at most `terms_per_theme`: {words:?}");
        assert!(!words.contains(&"late"));
        assert_eq!(app.messages, 8);
        assert_eq!(parcel.terms[0].lift, 1.45, "{parcel:#?}");
    }

    #[test]
    fn no_negative_messages_means_no_themes() {
        let docs = [ThemeDoc {
            text: "all good, thanks",
            negative: false,
        }];
        assert!(themes(&docs, &ThemeConfig::default()).is_empty());
    }
}
