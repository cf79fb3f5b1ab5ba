//! Access control as a caller meets it (G1): every route against every role, exactly as
//! `docs/SECURITY.md` says; scoped keys; issuing, rotating and revoking keys; sign-in sessions
//! with CSRF; and rate limits on guessing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const ROLES: [&str; 6] = [
    "admin",
    "supervisor",
    "agent",
    "analyst",
    "auditor",
    "operations",
];

/// What `docs/SECURITY.md` promises: the permissions of each role, and what each route needs.
struct Spec {
    grants: BTreeMap<String, BTreeSet<String>>,
    routes: BTreeMap<(String, String), String>,
}

fn spec() -> Spec {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/SECURITY.md"
    ))
    .unwrap();
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect()
    };
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut routes = BTreeMap::new();
    let mut section = "";
    for line in doc.lines() {
        if line.starts_with("| permission |") {
            section = "matrix";
            continue;
        }
        if line.starts_with("| method |") {
            section = "routes";
            continue;
        }
        if !line.starts_with('|') {
            section = if line.trim().is_empty() { section } else { "" };
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        let c = cells(line);
        match section {
            "matrix" => {
                for (role, mark) in ROLES.iter().zip(&c[1..]) {
                    if mark == "✓" {
                        grants
                            .entry((*role).into())
                            .or_default()
                            .insert(c[0].clone());
                    }
                }
            }
            "routes" => {
                routes.insert((c[0].clone(), c[1].clone()), c[2].clone());
            }
            _ => {}
        }
    }
    assert_eq!(grants.len(), ROLES.len(), "every role grants something");
    assert!(routes.len() > 40, "the route table is read");
    Spec { grants, routes }
}

fn role_key(role: &str) -> String {
    format!("sb_test_{role}_key")
}

async fn app_with_role_keys() -> App {
    let app = spawn_app().await;
    for role in ROLES {
        issue_key(&app.store, &role_key(role), role, None).await;
    }
    app
}

async fn call(app: &App, method: &Method, path: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method.clone(), format!("{}{path}", app.url))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if *method != Method::GET && *method != Method::DELETE {
        req = req.body("{}");
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    // The live event stream never ends; its status is all this needs.
    if path.ends_with("/events") && status == StatusCode::OK {
        return (status, Value::Null);
    }
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_route_answers_each_role_exactly_as_the_security_document_says() {
    let spec = spec();
    let app = app_with_role_keys().await;
    let (_, doc) = call(&app, &Method::GET, "/api/openapi.json", None).await;
    let mut walked = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let need = spec
                .routes
                .get(&(m.to_string(), path.clone()))
                .unwrap_or_else(|| panic!("{m} {path} is not in docs/SECURITY.md"));
            walked.insert((m.to_string(), path.clone()));
            let concrete = path
                .replace("{id}", "x")
                .replace("{name}", "x")
                .replace("{target}", "x")
                .replace("{login}", "x")
                .replace("{channel}", "x")
                .replace("{key}", "x")
                .replace("{version}", "1");

            let (status, body) = call(&app, &m, &concrete, None).await;
            if need == "anyone" {
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{m} {path} is public");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} anonymous");
                assert_eq!(body["code"], "unauthorized", "{m} {path}");
            }
            for role in ROLES {
                let allowed = match need.as_str() {
                    "anyone" | "any signed-in caller" => true,
                    p => spec.grants[role].contains(p),
                };
                let (status, body) = call(&app, &m, &concrete, Some(&role_key(role))).await;
                if allowed {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{role} may {m} {path}, got {status} {body}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{role} {m} {path}: {body}");
                    assert_eq!(body["code"], "forbidden");
                }
            }
        }
    }
    let documented: BTreeSet<_> = spec.routes.keys().cloned().collect();
    assert_eq!(
        walked, documented,
        "the document lists exactly the routes the API serves"
    );
}

#[tokio::test]
async fn a_scoped_key_does_only_what_its_scopes_name() {
    let app = spawn_app().await;
    issue_key(&app.store, "sb_scoped", "supervisor", Some(&["cases.read"])).await;
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/cases", Some("sb_scoped"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/alerts", Some("sb_scoped"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // A scope beyond the role is refused when the key is issued.
    let r = app
        .http
        .post(format!("{}/api/v1/keys", app.url))
        .bearer_auth(KEY)
        .json(&json!({"name": "reader", "role": "analyst", "scopes": ["keys.manage"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("invalid_field"), Some("scopes"))
    );
}

async fn post_json(app: &App, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .http
        .post(format!("{}{path}", app.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_key_is_shown_once_rotates_with_an_overlap_and_dies_when_revoked() {
    let app = spawn_app().await;
    let (s, issued) = post_json(
        &app,
        "/api/v1/keys",
        KEY,
        json!({"name": "order system", "role": "operations", "expires_in_days": 90}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    let first = issued["key"].as_str().unwrap().to_owned();
    let id = issued["id"].as_str().unwrap().to_owned();
    assert_eq!(issued["state"], "active");
    let (_, list) = call(&app, &Method::GET, "/api/v1/keys", Some(KEY)).await;
    assert!(
        !list.to_string().contains(&first),
        "a listing never shows a key"
    );
    assert!(
        list["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == id.as_str())
    );
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&first))
            .await
            .0,
        StatusCode::OK
    );

    // Rotation with an hour of overlap: both keys work.
    let (s, next) = post_json(
        &app,
        &format!("/api/v1/keys/{id}/rotate"),
        KEY,
        json!({"overlap_hours": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{next}");
    let second = next["key"].as_str().unwrap().to_owned();
    assert_eq!(next["role"], "operations");
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&first))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&second))
            .await
            .0,
        StatusCode::OK
    );
    // The old key cannot be rotated twice.
    let (s, _) = post_json(&app, &format!("/api/v1/keys/{id}/rotate"), KEY, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Rotating the successor with no overlap ends it at once.
    let next_id = next["id"].as_str().unwrap();
    let (s, third) = post_json(
        &app,
        &format!("/api/v1/keys/{next_id}/rotate"),
        KEY,
        json!({"overlap_hours": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&second))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let third_key = third["key"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&third_key))
            .await
            .0,
        StatusCode::OK
    );

    // Revocation is immediate.
    let third_id = third["id"].as_str().unwrap();
    assert_eq!(
        call(
            &app,
            &Method::DELETE,
            &format!("/api/v1/keys/{third_id}"),
            Some(KEY)
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, &Method::GET, "/api/v1/status", Some(&third_key))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &app,
            &Method::DELETE,
            &format!("/api/v1/keys/{third_id}"),
            Some(KEY)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_key_requests_are_refused_clearly() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"name": "", "role": "agent"}), "name"),
        (json!({"name": "x", "role": "root"}), "role"),
        (
            json!({"name": "x", "role": "agent", "scopes": []}),
            "scopes",
        ),
        (
            json!({"name": "x", "role": "agent", "scopes": ["cases.delete"]}),
            "scopes",
        ),
        (
            json!({"name": "x", "role": "agent", "expires_in_days": 0}),
            "expires_in_days",
        ),
    ] {
        let (s, b) = post_json(&app, "/api/v1/keys", KEY, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(b["field"], field, "{body}");
    }
    let (s, b) = post_json(
        &app,
        "/api/v1/keys",
        KEY,
        json!({"name": "x", "role": "agent", "extra": 1}),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );
    let (s, _) = post_json(
        &app,
        "/api/v1/keys/key_missing/rotate",
        KEY,
        json!({"overlap_hours": 9999}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Signs in and returns the cookie pair and the CSRF token.
async fn sign_in(
    app: &App,
    login: &str,
    password: &str,
) -> (StatusCode, Option<String>, Value, String) {
    let r = app
        .http
        .post(format!("{}/api/v1/session", app.url))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookie = set_cookie
        .split(';')
        .next()
        .filter(|c| c.starts_with("sb_session="))
        .map(str::to_owned);
    (
        status,
        cookie,
        r.json().await.unwrap_or(Value::Null),
        set_cookie,
    )
}

#[tokio::test]
async fn an_agent_signs_in_works_with_the_csrf_token_and_signs_out() {
    let app = spawn_app().await;
    let r = app
        .http
        .put(format!("{}/api/v1/users/ana.agent", app.url))
        .bearer_auth(KEY)
        .json(&json!({"role": "agent", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, _, body, _) = sign_in(&app, "ana.agent", "wrong password!!").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );

    let (s, cookie, body, raw) = sign_in(&app, "ana.agent", "correct horse battery").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(raw.contains(attr), "cookie has {attr}: {raw}");
    }
    let cookie = cookie.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(body["role"], "agent");
    assert!(
        body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "cases.work")
    );

    let with_cookie = |m: Method, path: &str| {
        app.http
            .request(m, format!("{}{path}", app.url))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
    };
    assert_eq!(
        with_cookie(Method::GET, "/api/v1/cases")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // An agent may not administer.
    assert_eq!(
        with_cookie(Method::GET, "/api/v1/keys")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // A change without the CSRF token is refused, whatever the route.
    let r = with_cookie(Method::PATCH, "/api/v1/cases/x")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_failed");
    let r = with_cookie(Method::PATCH, "/api/v1/cases/x")
        .header("x-csrf-token", "forged")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With it, the request reaches the handler (the case does not exist).
    let r = with_cookie(Method::PATCH, "/api/v1/cases/x")
        .header("x-csrf-token", &csrf)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = with_cookie(Method::DELETE, "/api/v1/session")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        with_cookie(Method::GET, "/api/v1/cases")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Disabling the user ends every way in.
    let (_, cookie2, _, _) = sign_in(&app, "ana.agent", "correct horse battery").await;
    let r = app
        .http
        .delete(format!("{}/api/v1/users/ana.agent", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .http
        .get(format!("{}/api/v1/cases", app.url))
        .header("cookie", cookie2.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(&app, "ana.agent", "correct horse battery").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn guessing_a_password_is_stopped_after_five_tries() {
    let app = spawn_app().await;
    let r = app
        .http
        .put(format!("{}/api/v1/users/sam", app.url))
        .bearer_auth(KEY)
        .json(&json!({"role": "supervisor", "password": "a long enough secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for i in 0..5 {
        assert_eq!(
            sign_in(&app, "sam", &format!("guess number {i}")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (s, cookie, body, _) = sign_in(&app, "sam", "a long enough secret").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    assert!(cookie.is_none(), "even the right password waits");
    // Short passwords and unknown roles never make a user.
    for body in [
        json!({"role": "agent", "password": "short"}),
        json!({"role": "root", "password": "a long enough secret"}),
    ] {
        let r = app
            .http
            .put(format!("{}/api/v1/users/eve", app.url))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let r = app
        .http
        .put(format!("{}/api/v1/users/..%2F..%2Fetc", app.url))
        .bearer_auth(KEY)
        .json(&json!({"role": "agent", "password": "a long enough secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn guessing_keys_locks_the_address_out_even_for_a_right_key() {
    let app = spawn_app().await;
    for i in 0..20 {
        let (s, _) = call(
            &app,
            &Method::GET,
            "/api/v1/cases",
            Some(&format!("sb_guess_{i}")),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = call(&app, &Method::GET, "/api/v1/cases", Some("sb_guess_21")).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let r = app
        .http
        .get(format!("{}/api/v1/cases", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}
