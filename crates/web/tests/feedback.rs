//! Surveys and quality review over HTTP (D10, D11): resolving a case earns one survey — a
//! retried resolve none, a reopen and second resolve another; the customer answers through
//! the public link once, never after it closed, and sees nothing of the case; the answer lands
//! in the case history; the summary matches the figures worked out by hand; a supervisor
//! scores a drawn case once against the weighted scorecard, and an agent may not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app_workflow};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_web::WebhookConfig;

const LINK_KEY: &str = "survey-link-key-0123456789abcdef0123456789";

fn workflow(expire_days: u32) -> String {
    format!(
        r#"
[[queues]]
name = "care"

[[agents]]
id = "ana"
name = "Ana"
queues = ["care"]

[surveys]
enabled = true
expire_days = {expire_days}
base_url = "https://care.example.com/"
link_key = "{LINK_KEY}"

[qa]
sample_percent = 100
criteria = [{{ name = "empathy", weight = 2 }}, {{ name = "accuracy", weight = 3 }}, {{ name = "tone", weight = 1 }}]
"#
    )
}

async fn rig(expire_days: u32) -> App {
    let app = spawn_app_workflow(
        WebhookConfig::default(),
        sb_outbound::OutboundConfig::default(),
        &workflow(expire_days),
    )
    .await;
    for role in ["agent", "supervisor", "analyst"] {
        issue_key(&app.store, &format!("sb_{role}"), role, None).await;
    }
    app
}

async fn send(
    app: &App,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.http.request(method, format!("{}{path}", app.url));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// A customer writes in; answers their case once the pipeline placed the message.
async fn customer_writes(app: &App, ext: &str, handle: &str) -> String {
    let (s, _, v) = app
        .post(json!({"source": "x", "external_id": ext, "author": handle,
                     "text": "My order 4411 never arrived"}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let m = app.processed(v["id"].as_str().unwrap()).await;
    m["case_id"].as_str().unwrap().to_owned()
}

async fn set_status(app: &App, case: &str, status: &str) {
    let (s, v) = send(
        app,
        Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        Some("sb_agent"),
        Some(json!({"status": status})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn case_survey(app: &App, case: &str) -> (StatusCode, Value) {
    send(
        app,
        Method::GET,
        &format!("/api/v1/cases/{case}/survey"),
        Some("sb_agent"),
        None,
    )
    .await
}

/// The token of the survey link the agent is given.
async fn token_for(app: &App, case: &str) -> String {
    let (s, v) = case_survey(app, case).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let link = v["link"].as_str().unwrap();
    link.strip_prefix("https://care.example.com/survey/")
        .unwrap()
        .to_owned()
}

async fn events(app: &App, case: &str, kind: &str) -> Vec<Value> {
    let (_, v) = app.get(&format!("/api/v1/cases/{case}")).await;
    v["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

async fn answer(app: &App, token: &str, body: Value) -> (StatusCode, Value) {
    send(
        app,
        Method::POST,
        &format!("/survey/{token}"),
        None,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn each_resolution_earns_one_survey_the_customer_answers_once() {
    let app = rig(7).await;
    let case = customer_writes(&app, "t1", "@mia_r").await;
    let (s, v) = case_survey(&app, &case).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "no survey before a resolution: {v}"
    );

    set_status(&app, &case, "resolved").await;
    // The agent's client retries the same change: nothing new is owed.
    set_status(&app, &case, "resolved").await;
    let (_, first) = case_survey(&app, &case).await;
    assert_eq!(
        (first["resolution"].as_i64(), first["state"].as_str()),
        (Some(1), Some("open"))
    );
    let sent = events(&app, &case, "survey.sent").await;
    assert_eq!(sent.len(), 1, "one survey for one resolution");
    let token = token_for(&app, &case).await;
    assert!(
        !sent[0].to_string().contains(&token),
        "the history never holds the token"
    );
    // The link is derived from the survey id and the key, as documented.
    assert_eq!(
        token,
        sb_store::survey_token(LINK_KEY, first["survey_id"].as_str().unwrap())
    );

    // The customer opens the link: questions, and nothing about the case or them.
    let (s, page) = send(&app, Method::GET, &format!("/survey/{token}"), None, None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(
        (page["state"].as_str(), page["open"].as_bool()),
        (Some("open"), Some(true))
    );
    let fields: Vec<&str> = page["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["csat", "nps", "ces", "comment"]);
    let shown = page.to_string();
    assert!(!shown.contains(&case) && !shown.contains("mia_r") && !shown.contains("cus_"));

    let (s, v) = answer(
        &app,
        &token,
        json!({"csat": 5, "nps": 9, "ces": 6, "comment": "Ana sorted it in minutes"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!v.to_string().contains(&case));
    let (s, v) = answer(&app, &token, json!({"csat": 1})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::GONE, Some("survey_used"))
    );
    let (_, page) = send(&app, Method::GET, &format!("/survey/{token}"), None, None).await;
    assert_eq!(
        (page["state"].as_str(), page["open"].as_bool()),
        (Some("answered"), Some(false))
    );

    let answered = events(&app, &case, "survey.answered").await;
    assert_eq!(answered.len(), 1);
    assert_eq!(
        (
            answered[0]["data"]["csat"].as_i64(),
            answered[0]["data"]["nps"].as_i64()
        ),
        (Some(5), Some(9))
    );
    assert_eq!(answered[0]["actor"], "customer");
    let (_, mine) = case_survey(&app, &case).await;
    assert_eq!(mine["state"], "answered");
    assert_eq!(
        mine["link"],
        Value::Null,
        "an answered survey has no link to send"
    );
    assert_eq!(mine["answer"]["comment"], "Ana sorted it in minutes");

    // The customer writes again: a reopen, and a second resolution earns a second survey.
    set_status(&app, &case, "open").await;
    set_status(&app, &case, "resolved").await;
    let (_, second) = case_survey(&app, &case).await;
    assert_eq!(
        (second["resolution"].as_i64(), second["state"].as_str()),
        (Some(2), Some("open"))
    );
    assert_ne!(token_for(&app, &case).await, token);
    assert_eq!(events(&app, &case, "survey.sent").await.len(), 2);

    // Tokens never issued, or not even shaped like one, are simply unknown.
    for bad in ["0".repeat(64), "not-a-token".to_owned()] {
        let (s, v) = send(&app, Method::GET, &format!("/survey/{bad}"), None, None).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (s, _) = answer(&app, &bad, json!({"csat": 5})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_closed_link_takes_no_answer() {
    // Links valid for 0 days close the moment they are made.
    let app = rig(0).await;
    let case = customer_writes(&app, "t1", "@late_larry").await;
    set_status(&app, &case, "resolved").await;
    let (s, mine) = case_survey(&app, &case).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (mine["state"].as_str(), &mine["link"]),
        (Some("expired"), &Value::Null)
    );
    let token = sb_store::survey_token(LINK_KEY, mine["survey_id"].as_str().unwrap());
    let (s, page) = send(&app, Method::GET, &format!("/survey/{token}"), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (page["state"].as_str(), page["open"].as_bool()),
        (Some("expired"), Some(false))
    );
    let (s, v) = answer(&app, &token, json!({"csat": 4})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::GONE, Some("survey_expired"))
    );
    assert!(events(&app, &case, "survey.answered").await.is_empty());
}

#[tokio::test]
async fn answers_off_the_scale_are_refused_naming_the_field_and_change_nothing() {
    let app = rig(7).await;
    let case = customer_writes(&app, "t1", "@precise_pat").await;
    set_status(&app, &case, "resolved").await;
    let token = token_for(&app, &case).await;
    for (body, field) in [
        (json!({"csat": 6}), "csat"),
        (json!({"csat": 0}), "csat"),
        (json!({"nps": 9}), "csat"),
        (json!({"csat": 4, "nps": 11}), "nps"),
        (json!({"csat": 4, "ces": 0}), "ces"),
        (json!({"csat": 4, "ces": 8}), "ces"),
        (json!({"csat": 4, "comment": "x".repeat(2001)}), "comment"),
    ] {
        let (s, v) = answer(&app, &token, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(
            (v["code"].as_str(), v["field"].as_str()),
            (Some("invalid_field"), Some(field))
        );
    }
    let (s, v) = answer(&app, &token, json!({"csat": "great"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );
    assert!(events(&app, &case, "survey.answered").await.is_empty());
    let (s, _) = answer(
        &app,
        &token,
        json!({"csat": 4, "comment": "x".repeat(2000)}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "the refused attempts used nothing up"
    );
}

#[tokio::test]
async fn the_summary_matches_the_figures_worked_out_by_hand() {
    let app = rig(7).await;
    let answers = [
        json!({"csat": 5, "nps": 10, "ces": 7}),
        json!({"csat": 4, "nps": 9, "ces": 6}),
        json!({"csat": 2, "nps": 6, "ces": 2}),
        json!({"csat": 3}),
    ];
    for (i, body) in answers.iter().enumerate() {
        let case = customer_writes(&app, &format!("t{i}"), &format!("@customer_{i}")).await;
        set_status(&app, &case, "resolved").await;
        let token = token_for(&app, &case).await;
        let (s, v) = answer(&app, &token, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, sum) = send(
        &app,
        Method::GET,
        "/api/v1/feedback/summary",
        Some("sb_analyst"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sum}");
    // CSAT: 5 and 4 of four answers are 4–5 → 50 %. NPS: three answers, promoters 10 and 9,
    // detractor 6 → 2/3 − 1/3. CES: (7 + 6 + 2) / 3 = 5.
    assert_eq!(sum["responses"], 4);
    assert_eq!(sum["csat_percent"].as_f64(), Some(50.0));
    assert_eq!(sum["nps_responses"], 3);
    let nps = 100.0 * 2.0 / 3.0 - 100.0 / 3.0;
    assert!((sum["nps"].as_f64().unwrap() - nps).abs() < 1e-9, "{sum}");
    assert_eq!(
        (sum["ces_responses"].as_i64(), sum["ces_mean"].as_f64()),
        (Some(3), Some(5.0))
    );

    let (_, before) = send(
        &app,
        Method::GET,
        "/api/v1/feedback/summary?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z",
        Some("sb_analyst"),
        None,
    )
    .await;
    assert_eq!(
        (before["responses"].as_i64(), &before["csat_percent"]),
        (Some(0), &Value::Null)
    );
    for q in [
        "since=yesterday",
        "since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z",
    ] {
        let (s, v) = send(
            &app,
            Method::GET,
            &format!("/api/v1/feedback/summary?{q}"),
            Some(KEY),
            None,
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{q}"
        );
    }
}

#[tokio::test]
async fn a_supervisor_scores_a_drawn_case_once_and_an_agent_may_not() {
    let app = rig(7).await;
    let case = customer_writes(&app, "t1", "@qa_quinn").await;
    let (s, v) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        Some("sb_agent"),
        // Assigned and resolved in one change: the review names who handled it.
        Some(json!({"assignee": "ana", "status": "resolved"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, list) = send(
        &app,
        Method::GET,
        "/api/v1/qa/reviews",
        Some("sb_supervisor"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "with sample_percent = 100 every resolved case is drawn"
    );
    assert_eq!(
        (items[0]["case_id"].as_str(), items[0]["agent"].as_str()),
        (Some(case.as_str()), Some("ana"))
    );
    assert_eq!(
        list["criteria"][1],
        json!({"name": "accuracy", "weight": 3})
    );
    let review = format!("/api/v1/qa/reviews/{}", items[0]["id"].as_str().unwrap());

    let good =
        json!({"scores": {"empathy": 3, "accuracy": 4, "tone": 2}, "comment": "Clear and kind"});
    for (path, method) in [
        (review.as_str(), Method::POST),
        ("/api/v1/qa/reviews", Method::GET),
    ] {
        let (s, v) = send(&app, method, path, Some("sb_agent"), Some(good.clone())).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
    }
    for (scores, field) in [
        (
            json!({"empathy": 3, "accuracy": 4, "tone": 2, "speed": 1}),
            "scores.speed",
        ),
        (
            json!({"empathy": 5, "accuracy": 4, "tone": 2}),
            "scores.empathy",
        ),
        (
            json!({"empathy": 3, "accuracy": -1, "tone": 2}),
            "scores.accuracy",
        ),
        (json!({"empathy": 3, "accuracy": 4}), "scores.tone"),
    ] {
        let (s, v) = send(
            &app,
            Method::POST,
            &review,
            Some("sb_supervisor"),
            Some(json!({"scores": scores})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["field"].as_str(), Some(field));
    }
    let (_, still) = send(
        &app,
        Method::GET,
        "/api/v1/qa/reviews?status=pending",
        Some("sb_supervisor"),
        None,
    )
    .await;
    assert_eq!(
        still["items"].as_array().unwrap().len(),
        1,
        "refused scores change nothing"
    );

    let (s, done) = send(
        &app,
        Method::POST,
        &review,
        Some("sb_supervisor"),
        Some(good.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{done}");
    // (2·3 + 3·4 + 1·2) / (4 · (2 + 3 + 1)) = 20 / 24 → 83.3 %
    assert_eq!(done["total"].as_f64(), Some(83.3));
    assert_eq!(
        (done["status"].as_str(), done["agent"].as_str()),
        (Some("done"), Some("ana"))
    );
    assert!(
        done["reviewer"].as_str().unwrap().starts_with("key:"),
        "{done}"
    );
    let (s, v) = send(&app, Method::POST, &review, Some(KEY), Some(good)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("qa_already_reviewed"))
    );
    let (_, list) = send(
        &app,
        Method::GET,
        "/api/v1/qa/reviews?status=done",
        Some("sb_supervisor"),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["total"].as_f64(), Some(83.3));
    assert_eq!(
        list["items"][0]["scores"][0],
        json!({"criterion": "empathy", "weight": 2, "score": 3})
    );
    let (s, v) = send(
        &app,
        Method::GET,
        "/api/v1/qa/reviews?status=maybe",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("status"))
    );
    let (s, _) = send(
        &app,
        Method::POST,
        "/api/v1/qa/reviews/qa_none",
        Some(KEY),
        Some(json!({"scores": {"empathy": 3, "accuracy": 4, "tone": 2}})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
