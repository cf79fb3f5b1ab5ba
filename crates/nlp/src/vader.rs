//! VADER (Hutto and Gilbert, ICWSM 2014) with the rules of vaderSentiment 3.3.2, built to
//! run on every message: one hash lookup per token into a table that already knows
//! everything the rules ask of a word (lexicon valence, booster increment, negation, the
//! handful of words with rules of their own, idiom membership), no string building except
//! for idioms, and emoji translated only when the text has one.
//!
//! The same table carries the operator's industry terms, so they cost no second pass.
//! Scores agree with the reference package to the fourth decimal except in rare corners:
//! Python's own Unicode casing tables, its compensated float sum and its decimal rounding
//! are approximated with Rust's, and inputs with over 4,096 tokens apply the contrastive
//! "but" per position (the package's first-equal-value quirk is quadratic there). The
//! differential test in this module holds the agreement.

use crate::lexicon::WordMap as Map;
use crate::text::fold_char;

const LEXICON: &str = include_str!("../data/vader/lexicon.tsv");
const EMOJI: &str = include_str!("../data/vader/emoji.tsv");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
/// Negation scalar.
pub(crate) const N_SCALAR: f64 = -0.74;
/// Normalisation constant: compound = x / sqrt(x² + ALPHA).
pub(crate) const ALPHA: f64 = 15.0;
/// Above this many tokens the contrastive "but" is applied per position.
const BUT_QUIRK_LIMIT: usize = 4096;

/// The package's booster words that raise intensity (`B_INCR`).
const INCREASE: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// The package's one-word dampeners (`B_DECR`); its two-word ones are in [`PHRASE_BOOSTERS`].
const DECREASE: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// Words of a phrase, and its value.
type Idiom = (&'static [&'static str], f64);

const PHRASE_BOOSTERS: &[Idiom] = &[
    (&["just", "enough"], B_DECR),
    (&["kind", "of"], B_DECR),
    (&["sort", "of"], B_DECR),
];

/// Idioms whose valence replaces the scored word's (`SPECIAL_CASES`).
const IDIOMS: &[Idiom] = &[
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

/// Words that negate what follows (`NEGATE`); any word containing "n't" does too.
const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Words the rules name one by one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Role {
    #[default]
    Other,
    No,
    Or,
    Nor,
    Kind,
    Of,
    Never,
    So,
    This,
    Without,
    Doubt,
    Least,
    At,
    Very,
    But,
}

const ROLES: &[(&str, Role)] = &[
    ("no", Role::No),
    ("or", Role::Or),
    ("nor", Role::Nor),
    ("kind", Role::Kind),
    ("of", Role::Of),
    ("never", Role::Never),
    ("so", Role::So),
    ("this", Role::This),
    ("without", Role::Without),
    ("doubt", Role::Doubt),
    ("least", Role::Least),
    ("at", Role::At),
    ("very", Role::Very),
    ("but", Role::But),
];

/// Everything the rules and the operator's terms need to know about one lower-cased word.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    valence: Option<f64>,
    /// One-word booster increment; 0 for none.
    boost: f64,
    role: Role,
    negate: bool,
    /// 1-based id among the words of [`IDIOMS`] and [`PHRASE_BOOSTERS`]; 0 for none.
    idiom: u8,
    /// Operator term weight (keyed by the folded word).
    term: Option<f64>,
    /// First word of an operator two-word term.
    term_opener: bool,
    /// Negates operator terms within the three following words.
    term_negator: bool,
}

/// One token of the text as the rules see it.
#[derive(Clone, Copy)]
struct Tok {
    e: Entry,
    upper: bool,
    negated: bool,
    /// The token's lower-cased text in the scratch buffer.
    start: u32,
    end: u32,
}

/// Buffers reused from one text to the next on each thread.
#[derive(Default)]
struct Scratch {
    /// The tokens' lower-cased text, one after the other.
    lower: String,
    toks: Vec<Tok>,
    vals: Vec<Val>,
}

/// A scratch grown past this by a long text is dropped rather than kept.
const SCRATCH_KEEP: usize = 1 << 16;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// The two sums one text yields: VADER's valence sum (punctuation emphasis included) and
/// the operator terms' valence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Sums {
    pub vader: f64,
    pub terms: f64,
}

#[derive(Clone)]
pub(crate) struct Vader {
    words: Map<Box<str>, Entry>,
    emoji: Map<char, Box<str>>,
    /// Operator two-word terms, "first second" (folded) to weight.
    pairs: Map<Box<str>, f64>,
}

impl Vader {
    pub(crate) fn new() -> Self {
        let mut v = Self {
            words: Map::default(),
            emoji: Map::default(),
            pairs: Map::default(),
        };
        for line in LEXICON.lines() {
            if let Some((w, m)) = line.split_once('\t')
                && let Ok(m) = m.parse::<f64>()
            {
                v.entry(w).valence = Some(m);
            }
        }
        for w in INCREASE {
            v.entry(w).boost = B_INCR;
        }
        for w in DECREASE {
            v.entry(w).boost = B_DECR;
        }
        for w in NEGATE {
            v.entry(w).negate = true;
        }
        for (w, role) in ROLES {
            v.entry(w).role = *role;
        }
        for (w, id) in idiom_word_ids() {
            v.entry(w).idiom = *id;
        }
        for line in EMOJI.lines() {
            let mut chars = line.chars();
            if let (Some(c), Some('\t')) = (chars.next(), chars.next()) {
                v.emoji.insert(c, chars.as_str().into());
            }
        }
        v
    }

    fn entry(&mut self, word: &str) -> &mut Entry {
        self.words.entry(word.into()).or_default()
    }

    /// Adds an operator term: a folded word or two folded words separated by one space.
    pub(crate) fn add_term(&mut self, key: &str, weight: f64) {
        match key.split_once(' ') {
            Some((first, _)) => {
                self.entry(first).term_opener = true;
                self.pairs.insert(key.into(), weight);
            }
            None => self.entry(key).term = Some(weight),
        }
    }

    /// Takes a word's lexicon valence away (it stays a token for the rules around it).
    pub(crate) fn forget_valence(&mut self, word: &str) {
        if let Some(e) = self.words.get_mut(word) {
            e.valence = None;
        }
    }

    /// Marks a folded word as negating operator terms after it.
    pub(crate) fn add_term_negator(&mut self, word: &str) {
        self.entry(word).term_negator = true;
    }

    /// Scores one text.
    pub(crate) fn sums(&self, text: &str) -> Sums {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let sums = self.sums_in(text, &mut scratch);
                if scratch.lower.capacity() > SCRATCH_KEEP {
                    *scratch = Scratch::default();
                }
                sums
            }
            Err(_) => self.sums_in(text, &mut Scratch::default()),
        })
    }

    fn sums_in(&self, text: &str, scratch: &mut Scratch) -> Sums {
        let translated = self.translate_emoji(text);
        let text = translated.as_deref().unwrap_or(text);
        let Scratch { lower, toks, vals } = scratch;
        lower.clear();
        toks.clear();
        if text.is_ascii() {
            // Byte-wise split: ASCII whitespace is Python's whitespace here.
            let mut start = None;
            for (i, b) in text.bytes().chain([b' ']).enumerate() {
                let space = b.is_ascii_whitespace() || matches!(b, 0x0b | 0x1c..=0x1f);
                match (space, start) {
                    (true, Some(s)) => {
                        toks.push(self.token(strip_punctuation(&text[s..i]), lower));
                        start = None;
                    }
                    (false, None) => start = Some(i),
                    _ => {}
                }
            }
        } else {
            for raw in text.split(is_py_space).filter(|w| !w.is_empty()) {
                toks.push(self.token(strip_punctuation(raw), lower));
            }
        }
        let terms = self.term_valence(toks, lower);
        Sums {
            vader: vader_sum(toks, text, vals),
            terms,
        }
    }

    /// The text with each emoji replaced by its description, as the package does it; `None`
    /// when nothing changes.
    fn translate_emoji(&self, text: &str) -> Option<String> {
        if text.is_ascii() {
            return None;
        }
        let mut out: Option<String> = None;
        let mut prev_space = true;
        for (i, c) in text.char_indices() {
            let description = if c.is_ascii() {
                None
            } else {
                self.emoji.get(&c)
            };
            match (description, out.as_mut()) {
                (Some(d), o) => {
                    let o = match o {
                        Some(o) => o,
                        None => out.insert(text[..i].to_owned()),
                    };
                    if !prev_space {
                        o.push(' ');
                    }
                    o.push_str(d);
                    prev_space = false;
                    continue;
                }
                (None, Some(o)) => o.push(c),
                (None, None) => {}
            }
            prev_space = c == ' ';
        }
        out
    }

    fn token(&self, word: &str, lower: &mut String) -> Tok {
        let start = lower.len();
        let (e, upper) = if word.is_ascii() {
            lower.push_str(word);
            lower[start..].make_ascii_lowercase();
            let (mut has_upper, mut has_lower) = (false, false);
            for b in word.bytes() {
                has_upper |= b.is_ascii_uppercase();
                has_lower |= b.is_ascii_lowercase();
            }
            let upper = has_upper && !has_lower;
            let e = self.lookup(&lower[start..]);
            (e, upper)
        } else {
            lower.push_str(&word.to_lowercase());
            let upper =
                word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase);
            let mut e = self.lookup(&lower[start..]);
            // Operator terms are keyed by the folded word ("¡Pésimo!" → "pesimo").
            let f = self.lookup(&term_key(&lower[start..]));
            e.term = f.term;
            e.term_opener = f.term_opener;
            e.term_negator = f.term_negator;
            (e, upper)
        };
        let text = &lower[start..];
        Tok {
            e,
            upper,
            negated: e.negate || text.contains("n't"),
            start: start as u32,
            end: lower.len() as u32,
        }
    }

    fn lookup(&self, word: &str) -> Entry {
        self.words.get(word).copied().unwrap_or_default()
    }

    /// The operator terms' valence: each one- or two-word term, negated by a negator among
    /// the three words before it.
    fn term_valence(&self, toks: &[Tok], lower: &str) -> f64 {
        let mut total = 0.0;
        let mut pair = String::new();
        for (i, t) in toks.iter().enumerate() {
            let mut hit = t.e.term;
            if t.e.term_opener
                && let Some(next) = toks.get(i + 1)
            {
                pair.clear();
                pair.push_str(folded_text(t, lower).as_ref());
                pair.push(' ');
                pair.push_str(folded_text(next, lower).as_ref());
                if let Some(&w) = self.pairs.get(pair.as_str()) {
                    hit = Some(w);
                }
            }
            if let Some(mut w) = hit {
                if toks[i.saturating_sub(3)..i]
                    .iter()
                    .any(|p| p.e.term_negator)
                {
                    w *= N_SCALAR;
                }
                total += w;
            }
        }
        total
    }
}

fn folded_text<'a>(t: &Tok, lower: &'a str) -> std::borrow::Cow<'a, str> {
    let s = &lower[t.start as usize..t.end as usize];
    if s.is_ascii() {
        s.into()
    } else {
        term_key(s).into()
    }
}

/// The key operator terms are looked up by for a lower-cased token with non-ASCII
/// characters: folded, without the punctuation VADER leaves at its edges ("¡", "…", "»").
fn term_key(lower: &str) -> String {
    let folded: String = lower.chars().map(fold_char).collect();
    folded
        .trim_matches(|c: char| !(c.is_alphanumeric() || c == '\''))
        .to_owned()
}

/// Python's `str.isspace`, which `str.split()` splits on.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// The package's `_strip_punc_if_word`: leading and trailing ASCII punctuation goes unless
/// two characters or fewer would be left (so ":)" and "is?" stay as they are).
fn strip_punctuation(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    let short = if stripped.is_ascii() {
        stripped.len() <= 2
    } else {
        stripped.chars().count() <= 2
    };
    if short { token } else { stripped }
}

/// The package's `polarity_scores` up to the valence sum with punctuation emphasis.
fn vader_sum(toks: &[Tok], text: &str, s: &mut Vec<Val>) -> f64 {
    if toks.is_empty() {
        return 0.0;
    }
    let any_upper = toks.iter().any(|t| t.upper);
    let cap_diff = any_upper && toks.iter().any(|t| !t.upper);
    s.clear();
    for (i, t) in toks.iter().enumerate() {
        let kind_of =
            t.e.role == Role::Kind && toks.get(i + 1).is_some_and(|n| n.e.role == Role::Of);
        if t.e.boost != 0.0 || kind_of {
            s.push(Val::INT_ZERO);
            continue;
        }
        s.push(valence(toks, i, cap_diff));
    }
    if let Some(bi) = toks.iter().position(|t| t.e.role == Role::But) {
        but_check(s, bi);
    }
    let mut sum = python_sum(s);
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    sum
}

/// One valence, and whether the package holds it as a Python int (the literal 0 of a word
/// without valence, or an idiom's integer value): Python's `sum` adds a leading run of ints
/// exactly before its compensated float loop, which shows in the last bits of the sum, and
/// emphasis can magnify those bits when the sum is all but zero.
#[derive(Clone, Copy, Debug)]
struct Val {
    v: f64,
    int: bool,
}

impl Val {
    const INT_ZERO: Val = Val { v: 0.0, int: true };

    fn float(v: f64) -> Self {
        Self { v, int: false }
    }
}

/// The package's `sentiment_valence` for the token at `i`.
fn valence(toks: &[Tok], i: usize, cap_diff: bool) -> Val {
    let t = &toks[i];
    let Some(lex) = t.e.valence else {
        return Val::INT_ZERO;
    };
    let mut int = false;
    let prev = |d: usize| i.checked_sub(d).map(|j| &toks[j]);
    let role = |d: usize| prev(d).map(|p| p.e.role);
    let (p1, p2, p3) = (prev(1), prev(2), prev(3));
    let mut v = lex;
    if t.e.role == Role::No && toks.get(i + 1).is_some_and(|n| n.e.valence.is_some()) {
        v = 0.0;
    }
    if role(1) == Some(Role::No)
        || role(2) == Some(Role::No)
        || (role(3) == Some(Role::No) && matches!(role(1), Some(Role::Or | Role::Nor)))
    {
        v = lex * N_SCALAR;
    }
    if t.upper && cap_diff {
        if v > 0.0 {
            v += C_INCR;
        } else {
            v -= C_INCR;
        }
    }
    let r = |p: &Tok| p.e.role;
    if let Some(p1) = p1
        && p1.e.valence.is_none()
    {
        v += scalar_inc_dec(p1, v, cap_diff);
        if p1.negated {
            v *= N_SCALAR;
        }
    }
    if let (Some(p1), Some(p2)) = (p1, p2)
        && p2.e.valence.is_none()
    {
        let s = scalar_inc_dec(p2, v, cap_diff);
        v += s * 0.95;
        // "never so good" intensifies; "without doubt good" is not a negation.
        let never_so = r(p2) == Role::Never && matches!(r(p1), Role::So | Role::This);
        let without_doubt = r(p2) == Role::Without && r(p1) == Role::Doubt;
        if never_so {
            v *= 1.25;
        } else if p2.negated && !without_doubt {
            v *= N_SCALAR;
        }
    }
    if let (Some(p1), Some(p2), Some(p3)) = (p1, p2, p3)
        && p3.e.valence.is_none()
    {
        let s = scalar_inc_dec(p3, v, cap_diff);
        v += s * 0.9;
        // As the package groups it, a bare "so"/"this" just before the word also counts.
        let never_so = (r(p3) == Role::Never && matches!(r(p2), Role::So | Role::This))
            || matches!(r(p1), Role::So | Role::This);
        let without_doubt =
            r(p3) == Role::Without && (r(p2) == Role::Doubt || r(p1) == Role::Doubt);
        if never_so {
            v *= 1.25;
        } else if p3.negated && !without_doubt {
            v *= N_SCALAR;
        }
        (v, int) = idioms(toks, i, v);
    }
    // "least" before the word negates it, except in "at least" and "very least".
    if let Some(p1) = p1
        && p1.e.valence.is_none()
        && r(p1) == Role::Least
        && !p2.is_some_and(|p2| matches!(r(p2), Role::At | Role::Very))
    {
        return Val::float(v * N_SCALAR);
    }
    Val { v, int }
}

/// The package's `scalar_inc_dec`: a booster before the word, signed like the valence.
fn scalar_inc_dec(word: &Tok, v: f64, cap_diff: bool) -> f64 {
    if word.e.boost == 0.0 {
        return 0.0;
    }
    let mut scalar = if v < 0.0 { -word.e.boost } else { word.e.boost };
    if word.upper && cap_diff {
        if v > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

/// The package's `_special_idioms_check` for the word at `i` (which has three words before
/// it): an idiom around the word replaces its valence; a two-word dampener before it adds.
fn idioms(toks: &[Tok], i: usize, v: f64) -> (f64, bool) {
    let ids = |from: usize, len: usize| -> Option<[u8; 3]> {
        let seq = toks.get(from..from + len)?;
        let mut out = [0u8; 3];
        for (k, t) in seq.iter().enumerate() {
            if t.e.idiom == 0 {
                return None;
            }
            out[k] = t.e.idiom;
        }
        Some(out)
    };
    let find = |table: &[Idiom], seq: Option<[u8; 3]>, len: usize| -> Option<f64> {
        let seq = seq?;
        table
            .iter()
            .find(|(words, _)| words.len() == len && idiom_ids(words) == seq)
            .map(|(_, w)| *w)
    };
    let mut v = v;
    let mut int = false;
    // Sequences ending at the word or just before it, first match wins.
    let backward = [(i - 1, 2), (i - 2, 3), (i - 2, 2), (i - 3, 3), (i - 3, 2)];
    if let Some(w) = backward
        .iter()
        .find_map(|&(from, len)| find(IDIOMS, ids(from, len), len))
    {
        (v, int) = (w, is_int(w));
    }
    // Sequences starting at the word, each overriding.
    for len in [2, 3] {
        if let Some(w) = find(IDIOMS, ids(i, len), len) {
            (v, int) = (w, is_int(w));
        }
    }
    for (from, len) in [(i - 3, 3), (i - 3, 2), (i - 2, 2)] {
        if let Some(w) = find(PHRASE_BOOSTERS, ids(from, len), len) {
            (v, int) = (v + w, false);
        }
    }
    (v, int)
}

/// Whether an idiom's value is written as an integer in the package (3, -2) rather than as a
/// float (1.5, 0.0): every whole value in [`IDIOMS`] except "bus stop"'s 0.0.
fn is_int(w: f64) -> bool {
    w != 0.0 && w.fract() == 0.0
}

/// A 1-based id for each word of [`IDIOMS`] and [`PHRASE_BOOSTERS`].
fn idiom_word_ids() -> &'static Map<&'static str, u8> {
    static IDS: std::sync::OnceLock<Map<&'static str, u8>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let mut m = Map::default();
        for (ws, _) in IDIOMS.iter().chain(PHRASE_BOOSTERS) {
            for w in *ws {
                let next = m.len() as u8 + 1;
                m.entry(*w).or_insert(next);
            }
        }
        m
    })
}

/// The word ids of an idiom.
fn idiom_ids(words: &[&str]) -> [u8; 3] {
    let ids = idiom_word_ids();
    let mut out = [0u8; 3];
    for (k, w) in words.iter().enumerate().take(3) {
        out[k] = ids.get(w).copied().unwrap_or(0);
    }
    out
}

/// The package's `_but_check`, including its quirk: each value is re-found as the first
/// position holding an equal value, and that position is reweighted (0.5 before the first
/// "but", 1.5 after it); a reweighted value is a float.
fn but_check(s: &mut [Val], bi: usize) {
    let weight = |at: usize| match at.cmp(&bi) {
        std::cmp::Ordering::Less => Some(0.5),
        std::cmp::Ordering::Greater => Some(1.5),
        std::cmp::Ordering::Equal => None,
    };
    if s.len() > BUT_QUIRK_LIMIT {
        for (at, x) in s.iter_mut().enumerate() {
            if let Some(w) = weight(at) {
                *x = Val::float(x.v * w);
            }
        }
        return;
    }
    for pos in 0..s.len() {
        let v = s[pos].v;
        let at = s.iter().position(|x| x.v == v).unwrap_or(pos);
        if let Some(w) = weight(at) {
            s[at] = Val::float(v * w);
        }
    }
}

/// CPython's `sum` over the valences: a leading run of ints added exactly, the first float
/// added plainly, the rest with Neumaier compensation.
fn python_sum(s: &[Val]) -> f64 {
    let mut it = s.iter();
    let mut int_total = 0.0;
    let mut f = loop {
        match it.next() {
            None => return int_total,
            Some(x) if x.int => int_total += x.v,
            Some(x) => break int_total + x.v,
        }
    };
    let mut c = 0.0;
    for x in it {
        let t = f + x.v;
        if f.abs() >= x.v.abs() {
            c += (f - t) + x.v;
        } else {
            c += (x.v - t) + f;
        }
        f = t;
    }
    if c != 0.0 && c.is_finite() {
        f += c;
    }
    f
}

/// The package's `_punctuation_emphasis`: up to four "!" at 0.292 each; two or three "?" at
/// 0.18 each, more at 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0usize, 0usize);
    for b in text.bytes() {
        ep += usize::from(b == b'!');
        qm += usize::from(b == b'?');
    }
    let qm = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep.min(4) as f64 * 0.292 + qm
}

/// VADER's normalisation of a valence sum into [-1, 1], rounded to four decimals as the
/// package reports it.
pub(crate) fn compound(sum: f64) -> f64 {
    if sum == 0.0 {
        return 0.0;
    }
    let n = (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0);
    (n * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> f64 {
        compound(Vader::new().sums(text).vader)
    }

    /// A seeded xorshift generator: `next(n)` is below `n`.
    fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        }
    }

    #[test]
    fn the_packages_documented_examples_score_as_published() {
        // From the vaderSentiment README.
        for (text, expected) in [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            (
                "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
                0.9469,
            ),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("The book was good.", 0.4404),
            ("At least it isn't a horrible book.", 0.431),
            ("The book was only kind of good.", 0.3832),
            (
                "The plot was good, but the characters are uncompelling and the dialog is not great.",
                -0.7042,
            ),
            ("Today SUX!", -0.5461),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Make sure you :) or :D today!", 0.8633),
            ("Catch utf-8 emoji such as 💘 and 💋 and 😁", 0.875),
            ("Not bad at all", 0.431),
        ] {
            assert_eq!(score(text), expected, "{text}");
        }
    }

    #[test]
    fn idioms_and_the_least_rule_apply() {
        // "the bomb" replaces the valence of "bomb" three words on.
        assert!(score("wow this party is the bomb") > 0.5);
        assert!(score("this is a bomb") < 0.0);
        assert!(score("this was the least good idea") < 0.0);
        assert!(score("it was at least good") > 0.0);
    }

    #[test]
    fn degenerate_inputs_are_neutral_not_errors() {
        for text in [
            "", "   ", "\u{1c}", "!!!", "????", "🙂🙂", "\0\0", "a\u{301}",
        ] {
            let s = score(text);
            assert!((-1.0..=1.0).contains(&s), "{text:?}: {s}");
        }
        assert_eq!(score(""), 0.0);
        assert_eq!(score("is?"), 0.0);
        let long = "good but bad ".repeat(5_000);
        assert!((-1.0..=1.0).contains(&score(&long)));
    }

    /// Differences from the reference package: compounds that are not equal, and the
    /// largest difference.
    fn disagreements<'a>(texts: impl Iterator<Item = &'a str>) -> (usize, usize, f64) {
        let ours = Vader::new();
        let reference = vader_parity::SentimentIntensityAnalyzer::new();
        let (mut n, mut differ, mut worst) = (0, 0, 0.0f64);
        for t in texts {
            n += 1;
            let a = compound(ours.sums(t).vader);
            let b = reference.polarity_scores(t).compound;
            if a != b {
                differ += 1;
                worst = worst.max((a - b).abs());
                if differ <= 5 {
                    eprintln!("{a} vs {b}: {t:?}");
                }
            }
        }
        (n, differ, worst)
    }

    #[test]
    fn agrees_with_the_reference_on_generated_texts() {
        // Words every rule is about, in every case and with punctuation and emoji around them.
        let vocab: Vec<&str> = concat!(
            "good|bad|great|horrible|love|hate|happy|sad|no|not|never|so|this|without|",
            "doubt|least|at|very|but|kind|of|sort|just|enough|the|shit|bomb|kiss|death|to|",
            "die|for|yeah|right|bus|stop|beating|heart|isn't|don't|nor|or|really|extremely|",
            "kinda|barely|refund|delayed|lol|:)|:(|:D|<3|😂|💘|🙂|😡|pésimo|ÉXITO|Ça|okay|fine|",
            "worst|best|wtf|smh|a|I|it|was|is|and",
        )
        .split('|')
        .collect();
        let punct = ["", "", "", "!", "?", "!!", "??", ",", ".", "...", "!?"];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut texts = Vec::new();
        for _ in 0..20_000 {
            let len = 1 + next(14);
            let mut t = String::new();
            for k in 0..len {
                if k > 0 {
                    t.push(if next(10) == 0 { '\t' } else { ' ' });
                }
                let w = vocab[next(vocab.len())];
                match next(6) {
                    0 => t.push_str(&w.to_uppercase()),
                    1 => {
                        let mut c = w.chars();
                        if let Some(f) = c.next() {
                            t.extend(f.to_uppercase());
                            t.push_str(c.as_str());
                        }
                    }
                    _ => t.push_str(w),
                }
                t.push_str(punct[next(punct.len())]);
            }
            texts.push(t);
        }
        let (n, differ, worst) = disagreements(texts.iter().map(String::as_str));
        assert_eq!(n, 20_000);
        eprintln!("{differ} of {n} generated texts differ; largest difference {worst}");
        assert!(differ * 1000 <= n, "{differ} of {n} differ");
        assert!(worst <= 0.0001, "largest difference {worst}");
    }

    #[test]
    fn random_unicode_agrees_with_the_reference_and_never_panics() {
        // Odd whitespace, casing edge cases, combining marks, emoji with modifiers, ASCII
        // punctuation and words the rules name, in random order.
        let pool: Vec<&str> = concat!(
            " | | |\t|\n|\u{85}|\u{a0}|\u{2028}|\u{1c}|\u{3000}|good|GOOD|Good|bad|not|no|",
            "but|BUT|very|least|kind|of|the|bomb|!|?|.|,|'|-|:)|:(|😂|👍🏽|❤️|💘|ΣΑΣ|ς|İ|ǅ|ß|",
            "e\u{301}|ﬁ|Ⅻ|١٢|ä|ÄRGER|pésimo|0|42|@user|#fail|http://x.co/a|\0|\u{fffd}|𝔊𝔬𝔬𝔡",
        )
        .split('|')
        .collect();
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let texts: Vec<String> = (0..20_000)
            .map(|_| (0..next(24)).map(|_| pool[next(pool.len())]).collect())
            .collect();
        let (n, differ, worst) = disagreements(texts.iter().map(String::as_str));
        eprintln!("{differ} of {n} random texts differ; largest difference {worst}");
        assert!(differ * 1000 <= n, "{differ} of {n} differ");
    }

    /// Every text of VADER's own four ground-truth sets and TweetEval's sentiment test, when
    /// the data sets are beside the project (CI has them).
    #[test]
    fn agrees_with_the_reference_on_the_public_sentiment_sets() {
        let dir = std::env::var_os("SWITCHBOARD_DATASETS").map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"),
            std::path::PathBuf::from,
        );
        let mut texts = Vec::new();
        for f in [
            "tweets",
            "amazonReviewSnippets",
            "movieReviewSnippets",
            "nytEditorialSnippets",
        ] {
            let path = dir.join(format!("vader_groundtruth/{f}_GroundTruth.txt"));
            let Ok(raw) = std::fs::read(&path) else {
                eprintln!("skipped: {} not found", path.display());
                return;
            };
            let raw = String::from_utf8_lossy(&raw).into_owned();
            texts.extend(
                raw.lines()
                    .filter_map(|l| l.splitn(3, '\t').nth(2).map(str::to_owned)),
            );
        }
        if let Ok(raw) = std::fs::read_to_string(dir.join("tweeteval/sentiment/test_text.txt")) {
            texts.extend(raw.lines().map(str::to_owned));
        }
        let (n, differ, worst) = disagreements(texts.iter().map(String::as_str));
        eprintln!("{differ} of {n} texts differ from the reference; largest difference {worst}");
        assert!(n > 30_000, "{n} texts");
        assert_eq!(differ, 0, "{differ} of {n} differ");
    }
}
