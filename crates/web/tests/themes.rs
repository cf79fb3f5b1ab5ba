//! Negative themes over HTTP (H2): customers complain about late parcels (leaving an e-mail
//! address) and about the app crashing at login, and others praise fast delivery. An
//! analyst asks for the period's themes and gets the two complaints as separate clusters with
//! example messages whose personal data is replaced by its kind; an administrator sees the
//! examples as written. Bad parameters name themselves; an agent may not read reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ANALYST: &str = "sb_themes_analyst";
const AGENT: &str = "sb_themes_agent";

async fn get(app: &App, path: &str, key: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .get(format!("{}{path}", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn terms(theme: &Value) -> Vec<String> {
    theme["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn late_parcels_and_login_crashes_are_told_apart_with_redacted_examples() {
    let app = spawn_app().await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let mut texts: Vec<String> = Vec::new();
    for i in 0..6 {
        texts.push(format!(
            "Terrible service, my parcel is late again and nobody answers. Write to customer{i}@example.com"
        ));
        texts.push(format!(
            "Awful. The parcel is late for the third time, worst courier ever. Mail me: buyer{i}@example.org"
        ));
    }
    for i in 0..5 {
        texts.push(format!(
            "Horrible app, it crashes at login every single time and I hate it ({i})"
        ));
    }
    for i in 0..6 {
        texts.push(format!(
            "Great service, thank you, delivery was quick and friendly ({i})"
        ));
    }
    let mut last = String::new();
    for (i, text) in texts.iter().enumerate() {
        let (s, _, v) = app
            .post(json!({"source": "x", "external_id": format!("t{i}"),
                         "author": format!("@writer{i}"), "text": text}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        last = v["id"].as_str().unwrap().to_owned();
    }
    app.processed(&last).await;

    let (s, v) = get(&app, "/api/v1/reports/themes", ANALYST).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sampled"], texts.len(), "{v}");
    assert_eq!(v["negative"], 17, "every complaint reads as negative: {v}");
    let themes = v["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 2, "{v:#}");
    let parcel = &themes[0];
    let words = terms(parcel);
    assert!(
        words[..2].contains(&"parcel".to_owned()) && words[..2].contains(&"late".to_owned()),
        "{words:?}"
    );
    assert!(
        !words.iter().any(|w| w.contains("example")),
        "no personal data: {words:?}"
    );
    assert_eq!(parcel["messages"], 12);
    let examples = parcel["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3);
    let shown: Vec<&str> = examples
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(shown.iter().all(|t| !t.contains("@example.")), "{shown:?}");
    assert!(shown.iter().any(|t| t.contains("[email]")), "{shown:?}");
    let app_theme = &themes[1];
    let words = terms(app_theme);
    assert!(words.contains(&"crashes".to_owned()) && words.contains(&"login".to_owned()));
    assert!(!words.contains(&"parcel".to_owned()));
    assert_eq!(app_theme["messages"], 5);

    // An administrator reads the examples as written.
    let (_, full) = get(&app, "/api/v1/reports/themes", KEY).await;
    let shown: Vec<&str> = full["themes"][0]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(shown.iter().any(|t| t.contains("@example.")), "{shown:?}");

    for (query, field) in [
        ("sample=10", "sample"),
        ("sample=50001", "sample"),
        ("min_messages=1", "min_messages"),
        ("from=someday", "from"),
    ] {
        let (s, p) = get(&app, &format!("/api/v1/reports/themes?{query}"), ANALYST).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {p}");
        assert_eq!(p["field"], field, "{query}: {p}");
    }
    let (s, _) = get(&app, "/api/v1/reports/themes", AGENT).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
