//! Retention over HTTP (H3): customers write in different months; the rollup stage folds their
//! months into the cohort rollup and an analyst reads the cohort curves as JSON and CSV. The
//! at-risk list scores each customer against their own history: Carla, who complained every
//! week and went quiet with her complaint still open, is at risk; Pia, who keeps writing
//! warmly, is not. Erasing a customer removes them from the list and keeps the cohort counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::StatusCode;
use sb_domain::{CustomerId, Platform, Tier, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const ANALYST: &str = "sb_retention_analyst";
const AGENT: &str = "sb_retention_agent";

async fn get(app: &App, path: &str, key: &str) -> (StatusCode, String) {
    let r = app
        .http
        .get(format!("{}{path}", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn get_json(app: &App, path: &str, key: &str) -> (StatusCode, Value) {
    let (s, body) = get(app, path, key).await;
    (s, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A customer of `tier` and `value` who wrote `text` at each of `times` (RFC 3339).
async fn customer(
    app: &App,
    handle: &str,
    tier: Tier,
    value: f64,
    writes: &[(String, &str)],
) -> CustomerId {
    let id = app
        .store
        .upsert_customer(Platform::X, handle, None, tier, value, Timestamp(1))
        .await
        .unwrap();
    let mut last = String::new();
    for (i, (at, text)) in writes.iter().enumerate() {
        let (s, _, v) = app
            .post(
                json!({"source": "x", "external_id": format!("{handle}-{i}"),
                         "author": handle, "text": text, "created_at": at}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        last = v["id"].as_str().unwrap().to_owned();
    }
    app.processed(&last).await;
    id
}

async fn fold(app: &App) {
    for _ in 0..200 {
        if app.store.pending_case_work().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sb_pipeline::Rollups::new(
        app.store.clone(),
        Arc::new(sb_domain::SystemClock),
        &sb_workflow::Workflow::default(),
    )
    .settle(100, Duration::from_millis(50))
    .await
    .unwrap();
}

fn days_ago(d: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    Timestamp::from_millis(now - d * 86_400_000).to_rfc3339()
}

fn on(date: &str) -> String {
    format!("{date}T10:00:00Z")
}

const HELLO: &str = "Hello, a question about my account please";

#[tokio::test]
async fn cohorts_by_first_month_show_who_came_back_each_month() {
    let app = spawn_app().await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    // January cohort: Ann (back in February and March), Ben (never back), Cy (back in March).
    // February cohort: Dee (back in March). Ann writes twice in January: one customer-month.
    let ann = [
        (on("2026-01-05"), HELLO),
        (on("2026-01-20"), HELLO),
        (on("2026-02-03"), HELLO),
        (on("2026-03-09"), HELLO),
    ];
    customer(&app, "@ann", Tier::Standard, 0.0, &ann).await;
    customer(
        &app,
        "@ben",
        Tier::Standard,
        0.0,
        &[(on("2026-01-11"), HELLO)],
    )
    .await;
    let cy = [(on("2026-01-30"), HELLO), (on("2026-03-01"), HELLO)];
    let cy_id = customer(&app, "@cy", Tier::Standard, 0.0, &cy).await;
    let dee = [(on("2026-02-14"), HELLO), (on("2026-03-14"), HELLO)];
    customer(&app, "@dee", Tier::Standard, 0.0, &dee).await;
    fold(&app).await;

    let (s, v) = get_json(
        &app,
        "/api/v1/reports/retention?from=2026-01&to=2026-03",
        ANALYST,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-01"), Some("2026-03"))
    );
    let cohorts = v["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 2, "March brought no new customer: {v}");
    let jan = &cohorts[0];
    assert_eq!(
        (jan["cohort"].as_str(), jan["size"].as_i64()),
        (Some("2026-01"), Some(3))
    );
    let active: Vec<i64> = jan["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["active"].as_i64().unwrap())
        .collect();
    assert_eq!(active, vec![3, 1, 2], "{jan}");
    assert_eq!(jan["curve"][2]["retained_pct"], 66.7);
    assert_eq!(jan["curve"][2]["month"], "2026-03");
    let feb = &cohorts[1];
    assert_eq!(feb["size"], 1);
    assert_eq!(feb["curve"][1]["retained_pct"], 100.0);

    let (s, csv) = get(
        &app,
        "/api/v1/reports/retention?from=2026-01&to=2026-03&format=csv",
        ANALYST,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "cohort,size,offset,month,active,retained_pct");
    assert_eq!(lines.len(), 1 + 3 + 2, "{csv}");
    assert_eq!(lines[3], "2026-01,3,2,2026-03,2,66.7");

    // Erasing Cy removes their months; the cohort counts, being aggregates, stay.
    let r = app
        .http
        .post(format!("{}/api/v1/customers/{}/erase", app.url, cy_id))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (_, after) = get_json(
        &app,
        "/api/v1/reports/retention?from=2026-01&to=2026-03",
        ANALYST,
    )
    .await;
    assert_eq!(after["cohorts"], v["cohorts"]);

    for (query, field) in [
        ("to=2026-13", "to"),
        ("from=2026-1", "from"),
        ("from=2026-04&to=2026-03", "from"),
        ("from=2010-01&to=2026-03", "from"),
        ("format=xml", "format"),
    ] {
        let (s, p) = get_json(&app, &format!("/api/v1/reports/retention?{query}"), ANALYST).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {p}");
        assert_eq!(p["code"], "invalid_query", "{query}");
        assert_eq!(p["field"], field, "{query}: {p}");
    }
    let (s, _) = get(&app, "/api/v1/reports/retention", AGENT).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

const COMPLAINT: &str = "My order never arrived again and nobody answers, I want a refund now";
const WARM: &str = "Love the service, thank you so much, great support as always!";

#[tokio::test]
async fn the_at_risk_list_ranks_customers_by_their_own_trajectory_complaints_and_tier() {
    let app = spawn_app().await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    issue_key(&app.store, AGENT, "agent", None).await;
    let weekly = |text: &'static str| -> Vec<(String, &'static str)> {
        (15..100).step_by(7).map(|d| (days_ago(d), text)).collect()
    };
    // Carla complained weekly and has gone quiet; her case is still open.
    let carla = customer(&app, "@carla", Tier::Standard, 1_200.0, &weekly(COMPLAINT)).await;
    // Pia writes warmly every week, recently too.
    let mut steady = weekly(WARM);
    steady.extend([(days_ago(1), WARM), (days_ago(8), WARM)]);
    let pia = customer(&app, "@pia", Tier::Vip, 5_000.0, &steady).await;
    fold(&app).await;

    let (s, v) = get_json(&app, "/api/v1/reports/at-risk", ANALYST).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["scored"], 2, "{v}");
    assert_eq!(v["at_risk"], 1, "{v}");
    let item = &v["items"][0];
    assert_eq!(item["customer_id"], carla.to_string());
    assert_eq!(item["open_complaints"], 1, "{item}");
    assert_eq!(item["risk"]["factors"]["trajectory"], 40.0, "{item}");
    assert_eq!(item["risk"]["factors"]["open_complaints"], 10.0);
    assert_eq!(item["risk"]["factors"]["tier"], 0.0);
    assert_eq!(item["risk"]["score"], 50.0);
    assert_eq!(item["lifetime_value"], 1_200.0);
    assert_eq!(item["value_at_risk"], 600.0);
    assert_eq!(v["value_at_risk"], 600.0);

    // With no floor both are listed, riskiest first; Pia scores her tier and the 1 % fall
    // of her weekly rate (1.01 → 1.0 messages a week): 10 + 0.4.
    let (_, all) = get_json(&app, "/api/v1/reports/at-risk?min_score=0", ANALYST).await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![carla.to_string(), pia.to_string()]);
    assert_eq!(all["items"][1]["risk"]["score"], 10.4, "{all}");
    assert_eq!(all["items"][1]["risk"]["factors"]["negativity"], 0.0);

    let (s, csv) = get(&app, "/api/v1/reports/at-risk?format=csv", ANALYST).await;
    assert_eq!(s, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with(&format!("{carla},standard,,1200,50,600,1,40,10,0,0")),
        "{csv}"
    );

    // Once erased, Carla is no longer scored.
    let r = app
        .http
        .post(format!("{}/api/v1/customers/{carla}/erase", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, after) = get_json(&app, "/api/v1/reports/at-risk?min_score=0", ANALYST).await;
    assert_eq!(after["scored"], 1, "{after}");

    for (query, field) in [
        ("min_score=101", "min_score"),
        ("min_score=-1", "min_score"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("format=xml", "format"),
    ] {
        let (s, p) = get_json(&app, &format!("/api/v1/reports/at-risk?{query}"), ANALYST).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {p}");
        assert_eq!(p["field"], field, "{query}: {p}");
    }
    let (s, _) = get(&app, "/api/v1/reports/at-risk", AGENT).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
