//! Churn early warning (E8) on stored history: Vera, a VIP who wrote warmly every week for
//! three months, has written angrily twice in the last fortnight; Quentin, a premium customer
//! with the same habit, has gone quiet; Sam wrote just like Vera but is neither premium nor
//! valuable; Pia keeps writing warmly. Vera and Quentin are flagged, each for their own
//! reason; a scan raises one `churn_risk` alert each, once a day.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use sb_domain::{CustomerId, Platform, Tier, Timestamp};
use serde_json::{Value, json};

const AGENT: &str = "sb_test_agent_ana";

async fn call(app: &App, m: Method, route: &str, key: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .request(m, format!("{}{route}", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn days_ago(d: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Timestamp::from_millis(now - d * 86_400_000).to_rfc3339()
}

const WARM: &str = "Love the service, thank you so much, great support as always!";
const ANGRY: &str = "This is terrible, I am furious, worst service ever, really disappointed.";

/// A customer of `tier` and `value` who wrote `text` on each of `days` ago.
async fn customer(
    app: &App,
    handle: &str,
    tier: Tier,
    value: f64,
    writes: &[(i64, &str)],
) -> CustomerId {
    let id = app
        .store
        .upsert_customer(Platform::X, handle, None, tier, value, Timestamp(1), None)
        .await
        .unwrap();
    let mut last = String::new();
    for (i, (d, text)) in writes.iter().enumerate() {
        let (s, _, v) = app
            .post(
                json!({"source": "x", "external_id": format!("{handle}-{i}"), "author": handle,
                         "text": text, "created_at": days_ago(*d)}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        last = v["id"].as_str().unwrap().to_owned();
    }
    app.processed(&last).await;
    id
}

fn weekly(text: &'static str) -> Vec<(i64, &'static str)> {
    (15..100).step_by(7).map(|d| (d, text)).collect()
}

#[tokio::test]
async fn repeat_valuable_customers_who_turn_angry_or_quiet_are_flagged_once_a_day() {
    let app = spawn_app().await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let angry_recently = {
        let mut w = weekly(WARM);
        w.extend([(2, ANGRY), (6, ANGRY), (10, WARM)]);
        w
    };
    let vera = customer(&app, "@vera", Tier::Vip, 200.0, &angry_recently).await;
    let quentin = customer(&app, "@quentin", Tier::Premium, 50.0, &weekly(WARM)).await;
    let _sam = customer(&app, "@sam", Tier::Standard, 20.0, &angry_recently).await;
    let steady = {
        let mut w = weekly(WARM);
        w.extend([(1, WARM), (8, WARM)]);
        w
    };
    let _pia = customer(&app, "@pia", Tier::Vip, 5_000.0, &steady).await;

    let (s, list) = call(&app, Method::GET, "/api/v1/churn", AGENT).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let flagged: Vec<(&str, Vec<&str>)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["customer_id"].as_str().unwrap(),
                i["signal"]["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(flagged.len(), 2, "{list}");
    assert!(
        flagged.contains(&(quentin.as_str(), vec!["engagement_fell"])),
        "{list}"
    );
    assert!(
        flagged.contains(&(vera.as_str(), vec!["sentiment_fell"])),
        "{list}"
    );
    assert_eq!(list["alerts_raised"], 0);

    // Agents see the list; raising alerts is for those who manage alerting.
    let (s, _) = call(&app, Method::POST, "/api/v1/churn/scan", AGENT).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, scan) = call(&app, Method::POST, "/api/v1/churn/scan", KEY).await;
    assert_eq!(
        (s, scan["alerts_raised"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{scan}"
    );
    let (_, again) = call(&app, Method::POST, "/api/v1/churn/scan", KEY).await;
    assert_eq!(again["alerts_raised"], 0, "once a day");
    let (_, alerts) = call(&app, Method::GET, "/api/v1/alerts", KEY).await;
    let churn: Vec<&Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "churn_risk")
        .collect();
    assert_eq!(churn.len(), 2, "{alerts}");
    let vera_alert = churn
        .iter()
        .find(|a| a["series"] == format!("customer:{vera}"))
        .unwrap();
    assert!(
        vera_alert["summary"]
            .as_str()
            .unwrap()
            .contains("sentiment fell"),
        "{vera_alert}"
    );

    // With a lower bar for value, Sam (standard, worth 20, angry lately) is flagged too.
    let (_, low_bar) = call(&app, Method::GET, "/api/v1/churn?min_value=10", AGENT).await;
    assert_eq!(low_bar["items"].as_array().unwrap().len(), 3, "{low_bar}");

    for bad in [
        "recent_days=0",
        "baseline_days=99999",
        "min_value=-1",
        "min_value=lots",
    ] {
        let (s, p) = call(&app, Method::GET, &format!("/api/v1/churn?{bad}"), AGENT).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{bad}: {p}"
        );
    }
}
