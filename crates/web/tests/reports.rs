//! Reports over HTTP (H1, H6): messages arrive through the API, the rollup stage folds the
//! case events, and an analyst reads the KPI report as JSON and CSV and pages through the
//! row-level case export, with subjects hidden from callers without `personal.read`; bad
//! parameters get a problem document naming the parameter; an agent may not read reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn app_with_cases(n: usize) -> App {
    let app = spawn_app().await;
    for role in ["agent", "analyst"] {
        issue_key(&app.store, &format!("sb_{role}"), role, None).await;
    }
    for i in 0..n {
        let (s, _, v) = app
            .post(json!({
                "source": "x",
                "external_id": format!("m{i}"),
                "author": { "handle": format!("@customer{i}") },
                "text": format!("My order {i} never arrived, please call me on +49 170 1234567"),
                "region": "eu",
            }))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        app.processed(v["id"].as_str().unwrap()).await;
    }
    // The case workflow works each new case (queue, clocks) in the background.
    for _ in 0..200 {
        if app.store.pending_case_work().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rollups = sb_pipeline::Rollups::new(
        app.store.clone(),
        Arc::new(sb_domain::SystemClock),
        &sb_workflow::Workflow::default(),
    );
    let folded = rollups.catch_up().await.unwrap();
    assert!(folded.case_events >= n, "{folded:?}");
    assert_eq!(folded.messages, n);
    app
}

async fn get(app: &App, path: &str, key: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}{path}", app.url)).bearer_auth(key);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    req.send().await.unwrap()
}

fn today() -> String {
    use sb_domain::Clock;
    sb_domain::SystemClock.now().to_rfc3339()[..10].to_owned()
}

#[tokio::test]
async fn an_analyst_reads_the_kpi_report_as_json_and_csv() {
    let app = app_with_cases(2).await;
    let r = get(
        &app,
        "/api/v1/reports/kpis?group_by=platform&period=day",
        "sb_analyst",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["group_by"], "platform");
    assert_eq!(v["hours"], "calendar");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["group"], "x");
    assert_eq!(rows[0]["period_start"], today());
    assert_eq!(rows[0]["cases_opened"], 2);
    assert_eq!(rows[0]["backlog"], 2);
    assert_eq!(rows[0]["first_response"]["count"], 0);
    assert!(rows[0]["csat_pct"].is_null(), "no answers: null, not 0");

    for (path, accept) in [
        ("/api/v1/reports/kpis?format=csv", None),
        ("/api/v1/reports/kpis", Some("text/csv")),
    ] {
        let r = get(&app, path, "sb_analyst", accept).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let body = r.text().await.unwrap();
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 2, "{body}");
        assert!(lines[0].starts_with("period_start,group,cases_opened,"));
        assert!(lines[1].starts_with(&format!("{},all,2,0,0,2,", today())));
        assert_eq!(
            lines[0].split(',').count(),
            lines[1].split(',').count(),
            "every row has every column"
        );
    }
}

#[tokio::test]
async fn bad_report_parameters_are_refused_with_the_parameter_named() {
    let app = app_with_cases(0).await;
    for (query, field) in [
        ("group_by=colour", "group_by"),
        ("period=year", "period"),
        ("hours=office", "hours"),
        ("from=yesterday", "from"),
        ("to=2026-13-45", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2000-01-01&to=2026-01-01", "to"),
        ("format=xml", "format"),
        ("hourly_cost=-5", "hourly_cost"),
    ] {
        let r = get(&app, &format!("/api/v1/reports/kpis?{query}"), KEY, None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_query", "{query}");
        assert_eq!(p["field"], field, "{query}: {p}");
    }
    let r = get(&app, "/api/v1/reports/kpis?hourly_cost=cheap", KEY, None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for query in ["limit=0", "limit=10001", "cursor=not-a-case", "from=soon"] {
        let r = get(
            &app,
            &format!("/api/v1/reports/cases.csv?{query}"),
            KEY,
            None,
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_query");
    }
}

#[tokio::test]
async fn the_case_export_pages_by_cursor_and_hides_subjects_without_personal_read() {
    let app = app_with_cases(3).await;
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/reports/cases.csv?limit=2&cursor={c}"),
            None => "/api/v1/reports/cases.csv?limit=2".to_owned(),
        };
        let r = get(&app, &path, KEY, None).await;
        assert_eq!(r.status(), StatusCode::OK);
        let next = r
            .headers()
            .get("next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap();
        let mut lines = body.lines();
        assert!(lines.next().unwrap().starts_with("id,customer_id,source,"));
        for line in lines {
            assert!(
                line.contains("never arrived"),
                "the admin sees the subject: {line}"
            );
            ids.push(line.split(',').next().unwrap().to_owned());
        }
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
        assert!(pages < 5, "the cursor must end");
    }
    assert_eq!(ids.len(), 3);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "id order, no row twice");

    let r = get(&app, "/api/v1/reports/cases.csv", "sb_analyst", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert_eq!(body.lines().count(), 4);
    assert!(!body.contains("never arrived"), "{body}");
    assert!(body.contains("[redacted]"));

    // The export of personal rows is in the audit trail.
    let (s, audit) = app.get("/api/v1/audit?limit=1000").await;
    assert_eq!(s, StatusCode::OK);
    let exports: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .unwrap_or("")
                .contains("/api/v1/reports/cases.csv")
        })
        .collect();
    assert!(exports.len() >= 2, "{audit}");
    assert!(
        exports
            .iter()
            .all(|e| e["subject"].as_str().unwrap().starts_with("export:cases:"))
    );
}

#[tokio::test]
async fn an_agent_may_not_read_reports_and_a_region_limited_key_sees_its_region_only() {
    let app = app_with_cases(1).await;
    for path in ["/api/v1/reports/kpis", "/api/v1/reports/cases.csv"] {
        let r = get(&app, path, "sb_agent", None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    common::issue_regional_key(&app.store, "sb_eu", "analyst", &["us"]).await;
    let r = get(&app, "/api/v1/reports/kpis", "sb_eu", None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "region_denied");
    let r = get(&app, "/api/v1/reports/kpis?group_by=region", "sb_eu", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["rows"], json!([]), "the `eu` row is not theirs");
    let r = get(&app, "/api/v1/reports/cases.csv", "sb_eu", None).await;
    assert_eq!(r.text().await.unwrap().lines().count(), 1, "header only");
}

#[tokio::test]
async fn the_rollup_counters_are_on_metrics() {
    let app = app_with_cases(2).await;
    let body = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("switchboard_kpi_total{counter=\"opened\"} 2"),
        "{body}"
    );
    assert!(body.contains("switchboard_rollup_folded_facts{rollup=\"messages\"} 2"));
}

#[tokio::test]
async fn sentiment_trends_come_from_the_message_rollup() {
    let app = app_with_cases(3).await;
    let r = get(
        &app,
        "/api/v1/reports/voice?period=day&group_by=platform",
        "sb_analyst",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let trend = v["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 1, "{v}");
    assert_eq!(trend[0]["group"], "x");
    assert_eq!(trend[0]["messages"], 3);
    let labelled = trend[0]["positive"].as_i64().unwrap()
        + trend[0]["neutral"].as_i64().unwrap()
        + trend[0]["negative"].as_i64().unwrap();
    assert_eq!(labelled, 3, "every message has one label");
    assert!(
        trend[0]["mean_sentiment"].as_f64().unwrap() < 0.0,
        "complaints: {v}"
    );
    assert_eq!(v["share_of_voice"], json!([]), "no watchlist configured");

    let r = get(
        &app,
        "/api/v1/reports/voice?period=hour",
        "sb_analyst",
        Some("text/csv"),
    )
    .await;
    let body = r.text().await.unwrap();
    assert!(body.starts_with("period_start,group,messages,"));
    assert_eq!(body.lines().count(), 2, "{body}");
    for (query, field) in [("period=minute", "period"), ("group_by=queue", "group_by")] {
        let r = get(&app, &format!("/api/v1/reports/voice?{query}"), KEY, None).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["field"], field);
    }
}

#[tokio::test]
async fn the_staffing_forecast_covers_the_next_week_and_reports_its_held_out_error() {
    let app = app_with_cases(2).await;
    let r = get(
        &app,
        "/api/v1/reports/staffing?weeks=2&handle_time_secs=240&concurrency=2&shrinkage=0.25",
        "sb_analyst",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["weeks"], 2);
    assert_eq!(v["intervals"].as_array().unwrap().len(), 168);
    // This week's messages are not history yet: the forecast and the held-out week are empty.
    assert_eq!(v["holdout"]["actual"], 0);
    assert!(v["holdout"]["wape_pct"].is_null());
    assert_eq!(v["intervals"][0]["agents"], 0);
    for (query, field) in [
        ("weeks=0", "weeks"),
        ("weeks=53", "weeks"),
        ("concurrency=0", "concurrency"),
    ] {
        let r = get(
            &app,
            &format!("/api/v1/reports/staffing?{query}"),
            KEY,
            None,
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["field"], field, "{query}");
    }
    let r = get(
        &app,
        "/api/v1/reports/staffing?service_level=1.5",
        KEY,
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "invalid_query");
}
