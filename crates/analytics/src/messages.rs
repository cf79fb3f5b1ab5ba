//! The message fold (H2, H5): processed messages in, counts per (hour, dimension value) out —
//! volume, sentiment labels and the summed compound score, and mentions of watched terms
//! (share of voice). Definitions in docs/METRICS.md (*Voice of the customer*).

use sb_store::reports::{FoldMessage, MessageDelta};
use std::collections::HashMap;

/// The dimensions every message is counted under, besides `all`; `term` rows count mentions
/// of watched terms as `list:term`.
pub const MESSAGE_DIMENSIONS: [&str; 4] = ["platform", "intent", "region", "language"];

const HOUR_MS: i64 = 3_600_000;

#[derive(serde::Deserialize)]
struct Hit {
    list: String,
    term: String,
}

/// Folds messages into hourly counts.
pub fn fold_messages(messages: Vec<FoldMessage>) -> Vec<MessageDelta> {
    let mut rows: HashMap<(String, i64, String), MessageDelta> = HashMap::new();
    for m in messages {
        let hour = m.created_at.millis().div_euclid(HOUR_MS);
        let label = m.sentiment_label.as_deref().unwrap_or("neutral");
        let milli = m.sentiment.map_or(0, |s| (s * 1000.0).round() as i64);
        let none = "none";
        let mut keys: Vec<(&str, String)> = vec![
            ("all", "all".to_owned()),
            ("platform", m.platform.clone()),
            ("intent", m.intent.clone().unwrap_or_else(|| none.into())),
            ("region", m.region.clone().unwrap_or_else(|| none.into())),
            (
                "language",
                m.language.clone().unwrap_or_else(|| none.into()),
            ),
        ];
        let hits: Vec<Hit> = m
            .watch
            .as_deref()
            .and_then(|w| serde_json::from_str(w).ok())
            .unwrap_or_default();
        let mut terms: Vec<String> = hits
            .into_iter()
            .map(|h| format!("{}:{}", h.list.to_lowercase(), h.term.to_lowercase()))
            .collect();
        // A message mentioning a term twice is one voice.
        terms.sort();
        terms.dedup();
        keys.extend(terms.into_iter().map(|t| ("term", t)));
        for (dim, value) in keys {
            let row = rows
                .entry((dim.to_owned(), hour, value.clone()))
                .or_insert_with(|| MessageDelta {
                    dim: dim.to_owned(),
                    hour,
                    value,
                    ..MessageDelta::default()
                });
            row.n += 1;
            match label {
                "positive" => row.positive += 1,
                "negative" => row.negative += 1,
                _ => row.neutral += 1,
            }
            row.sentiment_milli += milli;
        }
    }
    let mut out: Vec<MessageDelta> = rows.into_values().collect();
    out.sort_by(|a, b| (&a.dim, a.hour, &a.value).cmp(&(&b.dim, b.hour, &b.value)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_domain::Timestamp;

    fn msg(at: i64, label: &str, s: f64, watch: Option<&str>) -> FoldMessage {
        FoldMessage {
            seq: 1,
            created_at: Timestamp(at),
            platform: "x".into(),
            region: Some("de".into()),
            language: Some("de".into()),
            intent: Some("complaint".into()),
            sentiment_label: Some(label.into()),
            sentiment: Some(s),
            watch: watch.map(str::to_owned),
        }
    }

    #[test]
    fn messages_are_counted_per_hour_label_and_watched_term() {
        let hits = r#"[{"list":"competitor","term":"Globex","start":0,"end":6},
                      {"list":"competitor","term":"globex","start":9,"end":15}]"#;
        let out = fold_messages(vec![
            msg(0, "negative", -0.5, Some(hits)),
            msg(60_000, "positive", 0.25, None),
            msg(HOUR_MS, "neutral", 0.0, None),
        ]);
        let all0 = out
            .iter()
            .find(|d| d.dim == "all" && d.hour == 0)
            .unwrap_or_else(|| panic!("no all row: {out:?}"));
        assert_eq!((all0.n, all0.positive, all0.negative), (2, 1, 1));
        assert_eq!(all0.sentiment_milli, -250);
        let term: Vec<_> = out.iter().filter(|d| d.dim == "term").collect();
        assert_eq!(term.len(), 1);
        assert_eq!(term[0].value, "competitor:globex");
        assert_eq!(term[0].n, 1, "two mentions in one message are one voice");
        assert!(
            out.iter()
                .any(|d| d.dim == "all" && d.hour == 1 && d.n == 1)
        );
    }
}
