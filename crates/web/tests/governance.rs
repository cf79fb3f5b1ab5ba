//! The audit trail, redaction and privacy rights as a care team and its auditors meet them
//! (G2–G4), over real HTTP on a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn send(
    app: &App,
    m: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(m, format!("{}{path}", app.url))
        .bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn ingest(app: &App, ext: &str, author: Value, text: &str) -> Value {
    let (s, _, v) = app
        .post(json!({"source": "x", "external_id": ext, "author": author, "text": text}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    app.processed(v["id"].as_str().unwrap()).await
}

async fn audit_of(app: &App, query: &str) -> Vec<Value> {
    let (s, page) = send(
        app,
        Method::GET,
        &format!("/api/v1/audit{query}"),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn changes_and_reads_of_personal_data_are_written_to_a_verifiable_chain() {
    let app = spawn_app().await;
    let m = ingest(&app, "a1", json!("@margot"), "Where is my parcel?").await;
    let customer = m["customer_id"].as_str().unwrap().to_owned();
    let case = m["case_id"].as_str().unwrap().to_owned();
    let (s, _) = send(
        &app,
        Method::POST,
        "/api/v1/keys",
        KEY,
        Some(json!({"name": "bi", "role": "analyst"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/customers/{customer}"),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/cases/{case}"),
        KEY,
        Some(json!({"status": "pending"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .http
        .post(format!("{}/api/v1/session", app.url))
        .json(&json!({"login": "nobody", "password": "not the password"}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let entries = audit_of(&app, "?limit=1000").await;
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no `{action}` in {entries:#?}"))
            .clone()
    };
    let key = find("POST /api/v1/keys");
    assert_eq!(key["actor"], "key:config-admin");
    assert_eq!(key["role"], "admin");
    assert_eq!(key["origin"], "127.0.0.1");
    assert_eq!(key["outcome"], 201);
    assert_eq!(key["detail"]["after"]["role"], "analyst");
    let read = find("GET /api/v1/customers/{id}");
    assert_eq!(
        read["customer_id"],
        customer.as_str(),
        "a read names whose data it was"
    );
    let patch = find("PATCH /api/v1/cases/{id}");
    assert_eq!(patch["subject"], format!("/api/v1/cases/{case}"));
    let login = find("POST /api/v1/session");
    assert_eq!(
        (
            login["actor"].as_str(),
            login["subject"].as_str(),
            login["outcome"].as_u64()
        ),
        (Some("anonymous"), Some("user:nobody"), Some(401))
    );
    // Ingest is not audited call by call; the message is its own record.
    assert!(
        entries
            .iter()
            .all(|e| e["action"] != "POST /api/v1/messages")
    );
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "one unbroken sequence"
    );

    let (_, report) = send(&app, Method::GET, "/api/v1/audit/verify", KEY, None).await;
    assert_eq!(report["intact"], true, "{report}");
    assert!(report["entries"].as_u64().unwrap() >= seqs.len() as u64);

    // One customer's history: only entries about them.
    let theirs = audit_of(&app, &format!("?customer={customer}")).await;
    assert!(!theirs.is_empty());
    assert!(theirs.iter().all(|e| e["customer_id"] == customer.as_str()));
    let (s, b) = send(&app, Method::GET, "/api/v1/audit?customer=bogus", KEY, None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (s, _) = send(&app, Method::GET, "/api/v1/audit?limit=0", KEY, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_analyst_reads_the_complaint_without_the_customers_contact_details() {
    let app = spawn_app().await;
    issue_key(&app.store, "sb_analyst", "analyst", None).await;
    issue_key(&app.store, "sb_agent", "agent", None).await;
    let m = ingest(
        &app,
        "r1",
        json!({"handle": "@zoe_r", "name": "Zoë Roberts"}),
        "Refund still missing, write to zoe.roberts@example.com please",
    )
    .await;
    let id = m["id"].as_str().unwrap();
    let case = m["case_id"].as_str().unwrap();
    let customer = m["customer_id"].as_str().unwrap();

    let (_, seen) = send(
        &app,
        Method::GET,
        &format!("/api/v1/messages/{id}"),
        "sb_analyst",
        None,
    )
    .await;
    assert_eq!(
        seen["text"],
        "Refund still missing, write to [email] please"
    );
    assert_eq!(seen["author"]["handle"], "[redacted]");
    assert!(seen["author"]["name"].is_null());
    assert_eq!(seen["intent"], m["intent"], "labels stay");
    let (_, c) = send(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{case}"),
        "sb_analyst",
        None,
    )
    .await;
    let dump = c.to_string();
    for secret in ["zoe.roberts@example.com", "@zoe_r", "Zoë Roberts"] {
        assert!(
            !dump.contains(secret),
            "an analyst's case view shows {secret}"
        );
    }
    let (_, cust) = send(
        &app,
        Method::GET,
        &format!("/api/v1/customers/{customer}"),
        "sb_analyst",
        None,
    )
    .await;
    assert!(!cust.to_string().contains("zoe_r"));
    let (_, list) = send(&app, Method::GET, "/api/v1/cases", "sb_analyst", None).await;
    assert!(!list.to_string().contains("zoe.roberts"));

    let (_, full) = send(
        &app,
        Method::GET,
        &format!("/api/v1/messages/{id}"),
        "sb_agent",
        None,
    )
    .await;
    assert!(
        full["text"]
            .as_str()
            .unwrap()
            .contains("zoe.roberts@example.com"),
        "an agent needs the address to help"
    );
}

/// Every byte of the store's files, where erased data could linger.
fn database_bytes(app: &App) -> Vec<(String, Vec<u8>)> {
    let db = app.db_path();
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let path = format!("{}{suffix}", db.display());
            std::fs::read(&path).ok().map(|b| (path, b))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn after_erasure_the_customers_marker_is_in_no_database_file() {
    let app = spawn_app().await;
    let marker = format!(
        "qz{}mark",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let handle = format!("@{marker}");
    let m1 = ingest(
        &app,
        "e1",
        json!({"handle": handle, "name": format!("Name {marker}")}),
        &format!("My order {marker} never came"),
    )
    .await;
    let customer = m1["customer_id"].as_str().unwrap().to_owned();
    let case = m1["case_id"].as_str().unwrap().to_owned();
    ingest(
        &app,
        "e2",
        json!(handle),
        &format!("Still waiting, ref {marker}"),
    )
    .await;
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/notes"),
        KEY,
        Some(json!({"text": format!("called back about {marker}")})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // A bystander's message must survive the erasure untouched.
    let other = ingest(&app, "e3", json!("@bystander"), "Love the new app").await;
    let found = database_bytes(&app)
        .iter()
        .any(|(_, b)| contains(b, marker.as_bytes()));
    assert!(found, "the marker is stored before erasure");

    // A legal hold blocks erasure until lifted.
    let (s, _) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/customers/{customer}/legal-hold"),
        KEY,
        Some(json!({"reason": "litigation 2026-118"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = send(
        &app,
        Method::POST,
        &format!("/api/v1/customers/{customer}/erase"),
        KEY,
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("legal_hold"))
    );
    let (s, _) = send(
        &app,
        Method::PUT,
        &format!("/api/v1/customers/{customer}/legal-hold"),
        KEY,
        Some(json!({"reason": "  "})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/v1/customers/{customer}/legal-hold"),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // The right of access first: everything held, in one document.
    let (s, bundle) = send(
        &app,
        Method::GET,
        &format!("/api/v1/customers/{customer}/export"),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bundle["format"], "switchboard.customer-export.v1");
    assert_eq!(bundle["messages"].as_array().unwrap().len(), 2);
    assert!(
        bundle
            .to_string()
            .contains(&format!("called back about {marker}")),
        "the note is in the export"
    );

    let (s, report) = send(
        &app,
        Method::POST,
        &format!("/api/v1/customers/{customer}/erase"),
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["erased"]["messages"], 2);
    assert_eq!(report["erased"]["identities"], 1);

    for (path, bytes) in database_bytes(&app) {
        assert!(
            !contains(&bytes, marker.as_bytes()),
            "the marker survives in {path}"
        );
    }
    let (_, gone) = send(
        &app,
        Method::GET,
        &format!("/api/v1/messages/{}", m1["id"].as_str().unwrap()),
        KEY,
        None,
    )
    .await;
    assert_eq!(gone["text"], "");
    assert_eq!(
        gone["sentiment"]["label"], m1["sentiment"]["label"],
        "aggregate labels stay"
    );
    let (_, kept) = send(
        &app,
        Method::GET,
        &format!("/api/v1/messages/{}", other["id"].as_str().unwrap()),
        KEY,
        None,
    )
    .await;
    assert_eq!(kept["text"], "Love the new app");

    // The trail keeps a pseudonymous record of the erasure and still verifies.
    let theirs = audit_of(&app, &format!("?customer={customer}")).await;
    assert!(
        theirs
            .iter()
            .any(|e| e["action"] == "privacy.erase" && e["detail"]["after"]["messages"] == 2)
    );
    assert!(theirs.iter().any(|e| e["action"] == "privacy.export"));
    let (_, report) = send(&app, Method::GET, "/api/v1/audit/verify", KEY, None).await;
    assert_eq!(report["intact"], true, "{report}");

    let (s, _) = send(
        &app,
        Method::POST,
        "/api/v1/customers/cu_00000000000000000000000000/erase",
        KEY,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_agent_scoped_to_the_eu_cannot_read_an_american_customer_and_the_attempt_is_recorded() {
    let app = spawn_app().await;
    let eu = ingest_in(&app, "g1", "@anna_eu", "eu").await;
    let us = ingest_in(&app, "g2", "@bob_us", "us").await;
    let (s, issued) = send(
        &app,
        Method::POST,
        "/api/v1/keys",
        KEY,
        Some(json!({"name": "eu desk", "role": "agent", "regions": ["eu"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["regions"], json!(["eu"]));
    let key = issued["key"].as_str().unwrap().to_owned();

    let (s, _) = send(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{}", eu["case_id"].as_str().unwrap()),
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        format!("/api/v1/cases/{}", us["case_id"].as_str().unwrap()),
        format!("/api/v1/messages/{}", us["id"].as_str().unwrap()),
        format!("/api/v1/customers/{}", us["customer_id"].as_str().unwrap()),
    ] {
        let (s, b) = send(&app, Method::GET, &path, &key, None).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("region_denied")),
            "{path}"
        );
    }
    let (_, list) = send(&app, Method::GET, "/api/v1/cases", &key, None).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![eu["case_id"].as_str().unwrap()],
        "aggregated lists hold only eu cases"
    );
    // The refused read is in the American customer's history, with who tried and from where.
    let theirs = audit_of(
        &app,
        &format!("?customer={}", us["customer_id"].as_str().unwrap()),
    )
    .await;
    let denied = theirs.iter().filter(|e| e["outcome"] == 403).count();
    assert_eq!(denied, 3, "{theirs:#?}");
    let (s, b) = send(
        &app,
        Method::POST,
        "/api/v1/keys",
        KEY,
        Some(json!({"name": "x", "role": "agent", "regions": []})),
    )
    .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("regions"))
    );
}

async fn ingest_in(app: &App, ext: &str, author: &str, region: &str) -> Value {
    let (s, _, v) = app
        .post(json!({"source": "x", "external_id": ext, "author": author, "text": "Order late", "region": region}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    app.processed(v["id"].as_str().unwrap()).await
}
