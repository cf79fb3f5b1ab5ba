//! Reply suggestions (B8): for a case, rank templates and past well-rated replies by how
//! closely they fit the customer's latest message, language and mood, and say why. The agent
//! always chooses; this module never picks, sends or edits a reply, and never learns between
//! calls — every ranking is computed from the candidates it is given.
//!
//! Score, in [0, 1]: `relevance = 0.70 × similarity + 0.15 × sentiment closeness + 0.15 × rating`,
//! then candidates in the customer's language score `0.5 + relevance / 2` and the others
//! `relevance / 2`, so a reply in the wrong language never outranks one the customer can read.
//! Similarity is the mean of two cosines over TF-IDF weights computed across the candidate set:
//! lowercased Unicode words (accents kept) catch shared vocabulary, character trigrams catch
//! inflections and typos (`delayed` / `delay`, `pakage`). Past replies rated 1 or 2 are never
//! suggested, and candidates with the same words (a past reply sent from a template, the same
//! answer sent many times) are suggested once, at the best rank among them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::guardrails::phrase::tokenize;

const SIMILARITY_WEIGHT: f64 = 0.70;
const SENTIMENT_WEIGHT: f64 = 0.15;
const RATING_WEIGHT: f64 = 0.15;
/// Past replies rated at or below this are never suggested.
const EXCLUDED_AT_OR_BELOW_RATING: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    Template,
    PastReply,
}

impl CandidateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Template => "template",
            Self::PastReply => "past_reply",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: CandidateKind,
    pub id: String,
    pub text: String,
    /// BCP 47 tag or bare language code; only the language part is compared.
    pub language: String,
    /// For past replies: CSAT 1..5 of the case it resolved, if rated. Ignored for templates.
    pub rating: Option<u8>,
    /// Sentiment (−1..1) of the customer message a past reply answered, or the mood a template
    /// was written for; `None` means any.
    pub sentiment: Option<f64>,
}

#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The customer's latest message(s).
    pub text: &'a str,
    pub language: &'a str,
    /// Sentiment of the customer's message, −1 (angry) .. 1 (delighted).
    pub sentiment: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    pub kind: CandidateKind,
    pub id: String,
    pub text: String,
    pub score: f64,
    /// For the agent: "same language", "similar wording 0.62", "rated 5/5", …
    pub why: Vec<String>,
}

/// Sparse vector: (term id, weight), sorted by term id, unit length (or empty).
type Vector = Vec<(usize, f64)>;

/// Term counts of one text for one feature kind, in order of first appearance so every sum
/// over them runs in the same order on every run.
type Counts = Vec<(String, u32)>;

fn count(terms: Vec<String>) -> Counts {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut counts = Counts::new();
    for term in terms {
        match at.get(&term) {
            Some(&i) => counts[i].1 += 1,
            None => {
                at.insert(term.clone(), counts.len());
                counts.push((term, 1));
            }
        }
    }
    counts
}

fn word_counts(text: &str) -> Counts {
    count(tokenize(text).into_iter().map(|t| t.text).collect())
}

fn trigram_counts(text: &str) -> Counts {
    let mut grams = Vec::new();
    for token in tokenize(text) {
        let padded: Vec<char> = std::iter::once(' ')
            .chain(token.text.chars())
            .chain(std::iter::once(' '))
            .collect();
        grams.extend(padded.windows(3).map(|w| w.iter().collect::<String>()));
    }
    count(grams)
}

/// Vocabulary and document frequencies for one feature kind over the candidate set.
struct Space {
    ids: HashMap<String, usize>,
    df: Vec<u32>,
    docs: f64,
}

impl Space {
    /// Term ids follow first appearance in candidate order, so results never depend on hash
    /// iteration order.
    fn build(docs: &[Counts]) -> Self {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for counts in docs {
            for (term, _) in counts {
                match ids.get(term) {
                    Some(&id) => df[id] += 1,
                    None => {
                        ids.insert(term.clone(), df.len());
                        df.push(1);
                    }
                }
            }
        }
        Self {
            ids,
            df,
            docs: docs.len() as f64,
        }
    }

    fn idf(&self, df: u32) -> f64 {
        ((1.0 + self.docs) / (1.0 + f64::from(df))).ln() + 1.0
    }

    /// Unit TF-IDF vector over known terms; unknown terms still count towards the length, so a
    /// long query sharing one word is less similar than a short one sharing the same word.
    fn vector(&self, counts: &Counts) -> Vector {
        let mut known: Vector = Vec::new();
        let mut norm = 0.0;
        for (term, tf) in counts {
            let id = self.ids.get(term).copied();
            let idf = self.idf(id.map_or(0, |id| self.df[id]));
            let weight = (1.0 + f64::from(*tf).ln()) * idf;
            norm += weight * weight;
            if let Some(id) = id {
                known.push((id, weight));
            }
        }
        known.sort_by_key(|&(id, _)| id);
        let norm = norm.sqrt();
        if norm > 0.0 {
            for (_, w) in &mut known {
                *w /= norm;
            }
        }
        known
    }
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot.clamp(0.0, 1.0)
}

/// `pt-BR` → `pt`; blank and `und` mean unknown.
fn primary_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.trim().to_lowercase();
    (!primary.is_empty() && primary != "und").then_some(primary)
}

fn clamp_sentiment(s: f64) -> f64 {
    if s.is_finite() {
        s.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

fn excluded(c: &Candidate) -> bool {
    c.text.trim().is_empty()
        || (c.kind == CandidateKind::PastReply
            && c.rating.is_some_and(|r| r <= EXCLUDED_AT_OR_BELOW_RATING))
}

/// Ranks candidates for the query; at most `limit`, best first, ties broken by id then kind.
pub fn suggest(query: &Query, candidates: &[Candidate], limit: usize) -> Vec<Suggestion> {
    if limit == 0 {
        return Vec::new();
    }
    let eligible: Vec<&Candidate> = candidates.iter().filter(|c| !excluded(c)).collect();
    let texts: Vec<&str> = eligible.iter().map(|c| c.text.as_str()).collect();
    let word_docs: Vec<Counts> = texts.iter().map(|t| word_counts(t)).collect();
    let gram_docs: Vec<Counts> = texts.iter().map(|t| trigram_counts(t)).collect();
    let words = Space::build(&word_docs);
    let grams = Space::build(&gram_docs);
    let query_words = words.vector(&word_counts(query.text));
    let query_grams = grams.vector(&trigram_counts(query.text));
    let query_language = primary_language(query.language);
    let query_sentiment = clamp_sentiment(query.sentiment);

    let mut ranked: Vec<(bool, Suggestion)> = eligible
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let similarity = 0.5 * cosine(&query_words, &words.vector(&word_docs[i]))
                + 0.5 * cosine(&query_grams, &grams.vector(&gram_docs[i]));
            let mut why = Vec::new();

            let language = primary_language(&c.language);
            let same_language = query_language.is_some() && language == query_language;
            if same_language {
                why.push("same language".to_string());
            } else if query_language.is_none() {
                why.push("customer's language unknown".to_string());
            } else {
                why.push(format!(
                    "different language ({})",
                    language.as_deref().unwrap_or("unknown")
                ));
            }

            if similarity > 0.0 {
                why.push(format!("similar wording {similarity:.2}"));
            } else {
                why.push("no shared wording".to_string());
            }

            let closeness = match c.sentiment {
                Some(s) => {
                    let gap = (clamp_sentiment(s) - query_sentiment).abs();
                    if gap <= 0.3 {
                        why.push("written for a similar mood".to_string());
                    } else if gap >= 1.0 {
                        why.push("written for a different mood".to_string());
                    }
                    1.0 - gap / 2.0
                }
                None => 0.5,
            };

            let rating = match (c.kind, c.rating) {
                (CandidateKind::PastReply, Some(r)) => {
                    let r = r.min(5);
                    why.push(format!("rated {r}/5"));
                    f64::from(r.saturating_sub(1)) / 4.0
                }
                (CandidateKind::PastReply, None) => {
                    why.push("not rated".to_string());
                    0.5
                }
                (CandidateKind::Template, _) => {
                    why.push("template".to_string());
                    0.5
                }
            };

            let relevance = SIMILARITY_WEIGHT * similarity
                + SENTIMENT_WEIGHT * closeness
                + RATING_WEIGHT * rating;
            let score = if same_language {
                0.5 + relevance / 2.0
            } else {
                relevance / 2.0
            };
            (
                same_language,
                Suggestion {
                    kind: c.kind,
                    id: c.id.clone(),
                    text: c.text.clone(),
                    score,
                    why,
                },
            )
        })
        .collect();

    ranked.sort_by(|(la, a), (lb, b)| {
        lb.cmp(la)
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
    });
    // The same words twice (a past reply sent from a template, or the same answer sent
    // often) are one suggestion, kept at the better rank.
    let mut seen = std::collections::HashSet::new();
    ranked.retain(|(_, s)| seen.insert(same_words(&s.text)));
    ranked.truncate(limit);
    ranked.into_iter().map(|(_, s)| s).collect()
}

/// A text with case and spacing set aside, to tell repeats.
fn same_words(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn past(id: &str, text: &str, language: &str, rating: Option<u8>) -> Candidate {
        Candidate {
            kind: CandidateKind::PastReply,
            id: id.to_string(),
            text: text.to_string(),
            language: language.to_string(),
            rating,
            sentiment: None,
        }
    }

    fn template(id: &str, text: &str, language: &str, sentiment: Option<f64>) -> Candidate {
        Candidate {
            kind: CandidateKind::Template,
            id: id.to_string(),
            text: text.to_string(),
            language: language.to_string(),
            rating: None,
            sentiment,
        }
    }

    /// `text` with a one-letter word of its own, so equal candidates are not repeats; every
    /// tag weighs the same and none is in the query.
    fn tagged(text: &str, tag: char) -> String {
        format!("{text} {tag}")
    }

    fn late_parcel() -> Query<'static> {
        Query {
            text: "My parcel is late again, it was supposed to be delivered yesterday!",
            language: "en-GB",
            sentiment: -0.6,
        }
    }

    fn ids(s: &[Suggestion]) -> Vec<&str> {
        s.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn the_reply_to_a_similar_complaint_ranks_above_an_unrelated_one() {
        let candidates = [
            past(
                "password",
                "I've reset your password; you can log in again.",
                "en",
                Some(5),
            ),
            past(
                "late",
                "Sorry your parcel is late — it will be delivered tomorrow.",
                "en",
                Some(4),
            ),
            template(
                "refund",
                "We have processed the refund to your card.",
                "en",
                None,
            ),
        ];
        let s = suggest(&late_parcel(), &candidates, 10);
        assert_eq!(s[0].id, "late");
        assert!(s[0].score > s[1].score);
        assert!(
            s[0].why.iter().any(|w| w.starts_with("similar wording")),
            "{:?}",
            s[0].why
        );
        assert!(s[0].why.contains(&"rated 4/5".to_string()));
        assert!(s.iter().all(|s| (0.0..=1.0).contains(&s.score)));
    }

    #[test]
    fn inflections_and_typos_still_count_as_similar() {
        let query = Query {
            text: "pakage delayed",
            language: "en",
            sentiment: 0.0,
        };
        let candidates = [
            past("a", "Your package delay is due to weather.", "en", None),
            past("b", "Thanks for your kind words!", "en", None),
        ];
        assert_eq!(ids(&suggest(&query, &candidates, 2)), ["a", "b"]);
    }

    #[test]
    fn a_reply_in_another_language_ranks_below_any_in_the_customers_language() {
        let candidates = [
            past(
                "es",
                "My parcel is late again, it was supposed to be delivered yesterday!",
                "es",
                Some(5),
            ),
            template("en", "Thank you for contacting us.", "en-US", None),
        ];
        let s = suggest(&late_parcel(), &candidates, 10);
        assert_eq!(ids(&s), ["en", "es"]);
        assert!(s[0].score > s[1].score);
        assert_eq!(s[0].why[0], "same language");
        assert_eq!(s[1].why[0], "different language (es)");
    }

    #[test]
    fn the_same_answer_is_suggested_once_at_its_best_rank() {
        let text = "Sorry your parcel is late, we are checking with the carrier.";
        let candidates = vec![
            past("p1", text, "en", None),
            template("t1", text, "en", None),
            past(
                "p2",
                "sorry  your parcel is LATE, we are checking with the carrier.",
                "en",
                Some(5),
            ),
            past("p3", "Thanks for the kind words!", "en", None),
        ];
        let got = suggest(&late_parcel(), &candidates, 5);
        assert_eq!(ids(&got), vec!["p2", "p3"], "{got:?}");
        // The repeat that ranks best stays: the one rated 5/5.
        assert!(got[0].why.iter().any(|w| w == "rated 5/5"));
    }

    #[test]
    fn poorly_rated_replies_are_never_suggested() {
        let text = "Sorry your parcel is late, it will be delivered tomorrow.";
        let candidates = [
            past("rated-1", &tagged(text, 'v'), "en", Some(1)),
            past("rated-2", &tagged(text, 'w'), "en", Some(2)),
            past("rated-3", &tagged(text, 'x'), "en", Some(3)),
            past("unrated", &tagged(text, 'z'), "en", None),
            past("blank", "   ", "en", None),
        ];
        let s = suggest(&late_parcel(), &candidates, 10);
        // An unrated reply counts as a middling 3/5; the tie goes to the id.
        assert_eq!(ids(&s), ["rated-3", "unrated"]);
    }

    #[test]
    fn better_ratings_and_closer_moods_break_near_ties() {
        let text = "Sorry your parcel is late.";
        let rated = [
            past("four", &tagged(text, 'v'), "en", Some(4)),
            past("five", &tagged(text, 'w'), "en", Some(5)),
        ];
        assert_eq!(ids(&suggest(&late_parcel(), &rated, 2)), ["five", "four"]);

        let moods = [
            template("cheerful", &tagged(text, 'v'), "en", Some(0.8)),
            template("apologetic", &tagged(text, 'w'), "en", Some(-0.7)),
        ];
        let s = suggest(&late_parcel(), &moods, 2);
        assert_eq!(ids(&s), ["apologetic", "cheerful"]);
        assert!(s[0].why.contains(&"written for a similar mood".to_string()));
        assert!(
            s[1].why
                .contains(&"written for a different mood".to_string())
        );
    }

    #[test]
    fn limit_and_deterministic_ties() {
        let candidates: Vec<Candidate> = [("c", 'v'), ("a", 'w'), ("b", 'x'), ("d", 'z')]
            .iter()
            .map(|(id, tag)| template(id, &tagged("Thanks for waiting.", *tag), "en", None))
            .collect();
        let s = suggest(&late_parcel(), &candidates, 3);
        assert_eq!(ids(&s), ["a", "b", "c"]);
        assert!(suggest(&late_parcel(), &candidates, 0).is_empty());
        assert_eq!(
            suggest(&late_parcel(), &candidates, 3),
            s,
            "same input, same ranking"
        );
    }

    #[test]
    fn odd_input_does_not_break_the_ranking() {
        assert!(suggest(&late_parcel(), &[], 5).is_empty());
        let query = Query {
            text: "",
            language: "",
            sentiment: f64::NAN,
        };
        let candidates = [
            template("t", "Hello", "", Some(f64::INFINITY)),
            past("p", "Hi", "xx", Some(9)),
        ];
        let s = suggest(&query, &candidates, 5);
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|s| s.score.is_finite()));
        assert!(s.iter().any(|s| s.why.contains(&"rated 5/5".to_string())));
    }

    #[test]
    fn unspaced_scripts_are_compared_too() {
        let query = Query {
            text: "荷物がまだ届きません",
            language: "ja",
            sentiment: -0.4,
        };
        let candidates = [
            past("delivery", "荷物の配達が遅れて申し訳ありません", "ja", None),
            past("password", "パスワードを再設定しました", "ja", None),
        ];
        assert_eq!(
            ids(&suggest(&query, &candidates, 2)),
            ["delivery", "password"]
        );
    }

    #[test]
    fn suggestions_serialise_for_the_composer() {
        let s = suggest(&late_parcel(), &[template("t", "Sorry!", "en", None)], 1);
        let json = serde_json::to_value(&s[0]).unwrap();
        assert_eq!(json["kind"], "template");
        assert_eq!(json["id"], "t");
        assert!(json["why"].is_array());
    }
}
