//! Saved inbox views over HTTP (I2): a view is checked by the inbox's own filter parser, kept
//! on the server for its owner, offered to everyone when shared, and deleted only by its owner.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ANA: &str = "sb_test_agent_ana";
const BEN: &str = "sb_test_agent_ben";
const NARROW: &str = "sb_test_agent_narrow";

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn views_are_checked_kept_per_owner_shared_on_request_and_deleted_by_their_owner() {
    let app = spawn_app().await;
    issue_key(&app.store, ANA, "agent", None).await;
    issue_key(&app.store, BEN, "agent", None).await;
    issue_key(&app.store, NARROW, "agent", Some(&["alerts.read"])).await;

    let (s, angry) = app
        .call(
            Method::POST,
            "/api/v1/views",
            ANA,
            Some(json!({"name": " Angry complaints ", "filters": {"intent": "complaint", "sentiment": "negative"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{angry}");
    assert_eq!(angry["name"], "Angry complaints");
    assert_eq!(angry["shared"], false);
    assert_eq!(angry["mine"], true);
    assert_eq!(
        angry["href"],
        "/ui/inbox?sentiment=negative&intent=complaint"
    );
    let (s, team) = app
        .call(
            Method::POST,
            "/api/v1/views",
            ANA,
            Some(json!({"name": "Urgent on X", "filters": {"view": "urgent", "platform": "x"}, "shared": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{team}");

    // Bad input: each refusal names the field and stores nothing.
    for (body, code, field) in [
        (
            json!({"name": "", "filters": {"intent": "complaint"}}),
            "invalid_field",
            "name",
        ),
        (
            json!({"name": "x".repeat(41), "filters": {"intent": "complaint"}}),
            "invalid_field",
            "name",
        ),
        (
            json!({"name": "Empty", "filters": {}}),
            "invalid_field",
            "filters",
        ),
        (
            json!({"name": "Bad", "filters": {"intent": "furious"}}),
            "invalid_field",
            "filters.intent",
        ),
        (
            json!({"name": "Bad", "filters": {"cursor": "x"}}),
            "invalid_field",
            "filters.cursor",
        ),
        (
            json!({"name": "Bad", "filters": {"status": 3}}),
            "invalid_field",
            "filters.status",
        ),
        (
            json!({"name": "Bad", "filters": {"view": "secret"}}),
            "invalid_field",
            "filters.view",
        ),
        (
            json!({"name": "Angry complaints", "filters": {"intent": "praise"}}),
            "view_exists",
            "name",
        ),
    ] {
        let (s, p) = app
            .call(Method::POST, "/api/v1/views", ANA, Some(body.clone()))
            .await;
        assert!(s.is_client_error(), "{body}: {s}");
        assert_eq!(p["code"], code, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    let (s, p) = app
        .call(
            Method::POST,
            "/api/v1/views",
            ANA,
            Some(json!({"name": "x", "filters": {"intent": "complaint"}, "extra": 1})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );

    let (s, mine) = app.call(Method::GET, "/api/v1/views", ANA, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(names(&mine), ["Angry complaints", "Urgent on X"]);
    // Ben sees only what Ana shared, and cannot delete it; nor can he see her private view.
    let (_, his) = app.call(Method::GET, "/api/v1/views", BEN, None).await;
    assert_eq!(names(&his), ["Urgent on X"]);
    assert_eq!(his["items"][0]["mine"], false);
    let team_id = team["id"].as_str().unwrap();
    let angry_id = angry["id"].as_str().unwrap();
    let (s, p) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/views/{team_id}"),
            BEN,
            None,
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/views/{angry_id}"),
            BEN,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A key narrowed to alerts does not read the inbox, so has no views.
    let (s, _) = app.call(Method::GET, "/api/v1/views", NARROW, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/views/{angry_id}"),
            ANA,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, mine) = app.call(Method::GET, "/api/v1/views", ANA, None).await;
    assert_eq!(names(&mine), ["Urgent on X"]);
}

#[tokio::test]
async fn an_owner_keeps_at_most_fifty_views() {
    let app = spawn_app().await;
    issue_key(&app.store, ANA, "agent", None).await;
    for i in 0..50 {
        let (s, v) = app
            .call(
                Method::POST,
                "/api/v1/views",
                ANA,
                Some(json!({"name": format!("View {i}"), "filters": {"intent": "complaint"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, p) = app
        .call(
            Method::POST,
            "/api/v1/views",
            ANA,
            Some(json!({"name": "One more", "filters": {"intent": "complaint"}})),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("view_limit"))
    );
}
