//! The HTTP API, driven over real HTTP against the real router, store, bus and pipeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

mod common;

use common::{KEY, spawn_app};

fn msg(ext: &str, handle: &str, text: &str) -> Value {
    json!({"source": "x", "external_id": ext, "author": {"handle": handle, "name": "Ana Sousa", "followers": 120}, "text": text, "region": "eu"})
}

#[tokio::test]
async fn a_complaint_becomes_a_routed_case_with_its_customer() {
    let app = spawn_app().await;
    let (s, _, v) = app
        .post(msg(
            "1001",
            "@ana",
            "My parcel is two weeks late and nobody answers. Awful.",
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["duplicate"], false);
    let id = v["id"].as_str().unwrap().to_owned();
    let m = app.processed(&id).await;
    assert_eq!(m["enrichment"]["language"], "en");
    assert_eq!(m["enrichment"]["sentiment_label"], "negative");
    assert_eq!(m["enrichment"]["intent"], "complaint");
    assert_eq!(m["enrichment"]["data_class"], "standard");
    assert_eq!(m["author"]["name"], "Ana Sousa");

    // A follow-up from the same handle threads into the same case.
    let (_, _, v2) = app
        .post(msg("1002", "@ana", "Still nothing. Anyone there?"))
        .await;
    let m2 = app.processed(v2["id"].as_str().unwrap()).await;
    assert_eq!(m2["case_id"], m["case_id"]);

    let (s, case) = app
        .get(&format!("/api/v1/cases/{}", m["case_id"].as_str().unwrap()))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(case["message_count"], 2);
    assert_eq!(case["status"], "new");
    assert_eq!(case["messages"].as_array().unwrap().len(), 2);
    assert_eq!(case["customer"]["identities"][0]["handle"], "@ana");
    let (_, queues) = app.get("/api/v1/queues").await;
    assert_eq!(case["queue_id"], queues[0]["id"]);

    let (s, cust) = app
        .get(&format!(
            "/api/v1/customers/{}",
            m["customer_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(cust["identities"][0]["platform"], "x");
}

/// A message too short to tell its language is read in its customer's language: Spanish for
/// a customer who wrote in Spanish before, undetermined for a stranger until they write a
/// message that tells; the customer's Spanish also decides what the short message says (no
/// English model's toxicity).
#[tokio::test]
async fn a_short_message_is_read_in_its_customer_s_language() {
    let app = spawn_app().await;
    let (_, _, v) = app
        .post(msg(
            "3001",
            "@lucia",
            "Hola, mi pedido lleva dos semanas de retraso y nadie me responde.",
        ))
        .await;
    let first = app.processed(v["id"].as_str().unwrap()).await;
    assert_eq!(first["enrichment"]["language"], "es");
    let short = "Sigo esperando respuesta.";
    let (_, _, v) = app.post(msg("3002", "@lucia", short)).await;
    let known = app.processed(v["id"].as_str().unwrap()).await;
    assert_eq!(known["enrichment"]["language"], "es", "{known}");
    assert_eq!(known["case_id"], first["case_id"]);
    assert_eq!(known["enrichment"]["toxicity"], 0.0, "{known}");
    let (_, _, v) = app.post(msg("3003", "@stranger", short)).await;
    let unknown = app.processed(v["id"].as_str().unwrap()).await;
    assert_eq!(unknown["enrichment"]["language"], "und", "{unknown}");

    // The stranger, known without a language, takes the one their next message tells.
    let (_, _, v) = app
        .post(msg(
            "3004",
            "@stranger",
            "Necesito ayuda con mi pedido, todavía no ha llegado y nadie contesta.",
        ))
        .await;
    let told = app.processed(v["id"].as_str().unwrap()).await;
    assert_eq!(told["enrichment"]["language"], "es");
    let (_, cust) = app
        .get(&format!(
            "/api/v1/customers/{}",
            told["customer_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(cust["language"], "es", "{cust}");
    let (_, _, v) = app.post(msg("3005", "@stranger", short)).await;
    let later = app.processed(v["id"].as_str().unwrap()).await;
    assert_eq!(later["enrichment"]["language"], "es", "{later}");
}

/// A customer is found by one of their handles, whatever its case; nobody holds an unknown
/// handle, or the same handle on another platform; a bad lookup is a problem naming the field;
/// a caller limited to other regions finds nobody; without `personal.read` the handles are
/// hidden.
#[tokio::test]
async fn a_customer_is_found_by_a_handle_on_a_platform() {
    let app = spawn_app().await;
    let mut body = msg("2001", "@Ana_L", "Where is my parcel?");
    body["region"] = json!("us");
    let (s, _, v) = app.post(body).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let m = app.processed(v["id"].as_str().unwrap()).await;
    let find = |query: &str| format!("/api/v1/customers?{query}");
    let (s, found) = app.get(&find("platform=x&handle=%40ana_l")).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["id"], m["customer_id"]);
    assert_eq!(items[0]["identities"][0]["handle"], "@Ana_L");
    for nobody in [
        "platform=facebook&handle=%40ana_l",
        "platform=x&handle=%40ana",
        "platform=x&handle=%40ana_l2",
    ] {
        let (s, v) = app.get(&find(nobody)).await;
        assert_eq!(
            (s, v["items"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(0)),
            "{nobody}"
        );
    }
    let long = "x".repeat(321);
    let bad = [
        ("handle=%40ana_l".to_owned(), "platform"),
        ("platform=myspace&handle=%40ana_l".to_owned(), "platform"),
        ("platform=x".to_owned(), "handle"),
        ("platform=x&handle=%20%20".to_owned(), "handle"),
        (format!("platform=x&handle={long}"), "handle"),
    ];
    for (query, field) in bad {
        let (s, ctype, body) = app.get_text(&find(&query), KEY).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(ctype, "application/problem+json", "{query}");
        let p: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (p["code"].as_str(), p["field"].as_str()),
            (Some("invalid_query"), Some(field)),
            "{query}: {p}"
        );
    }
    // A caller limited to another region finds nobody; an analyst finds the customer without
    // their handles.
    common::issue_regional_key(&app.store, "sb_test_eu_agent_find", "agent", &["eu"]).await;
    let (s, _, body) = app
        .get_text(&find("platform=x&handle=%40ana_l"), "sb_test_eu_agent_find")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["items"],
        json!([])
    );
    common::issue_key(&app.store, "sb_test_analyst_find", "analyst", None).await;
    let (s, _, body) = app
        .get_text(&find("platform=x&handle=%40ana_l"), "sb_test_analyst_find")
        .await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"][0]["id"], m["customer_id"]);
    assert_ne!(v["items"][0]["identities"][0]["handle"], "@Ana_L", "{v}");
}

/// A legal threat with contact data: critical urgency makes the case urgent, and the personal
/// data is found with its byte offsets and classes the message.
#[tokio::test]
async fn a_legal_threat_with_personal_data_is_urgent_and_classified() {
    let app = spawn_app().await;
    let text = "Charged twice again. My lawyer will contact you, write to me at eve@example.com";
    let (_, _, v) = app.post(msg("2001", "@eve", text)).await;
    let m = app.processed(v["id"].as_str().unwrap()).await;
    let e = &m["enrichment"];
    assert_eq!(e["urgency"], "critical", "{e}");
    assert!(
        e["urgency_reasons"]
            .as_array()
            .unwrap()
            .contains(&Value::from("legal_threat")),
        "{e}"
    );
    assert_eq!(e["data_class"], "personal", "{e}");
    let pii = &e["pii"][0];
    assert_eq!(pii["kind"], "email");
    let (start, end) = (
        pii["start"].as_u64().unwrap() as usize,
        pii["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[start..end], "eve@example.com");
    let (_, case) = app
        .get(&format!("/api/v1/cases/{}", m["case_id"].as_str().unwrap()))
        .await;
    assert_eq!(case["priority"], "urgent");
}

#[tokio::test]
async fn a_redelivered_message_is_acknowledged_as_a_duplicate_and_creates_nothing() {
    let app = spawn_app().await;
    let (_, _, first) = app
        .post(msg("77", "@bo", "hello there, a question about my invoice"))
        .await;
    app.processed(first["id"].as_str().unwrap()).await;
    let before = app.store.counts().await.unwrap();
    let (s, _, again) = app
        .post(msg("77", "@bo", "hello there, a question about my invoice"))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["id"], first["id"]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.store.counts().await.unwrap(), before);
}

#[tokio::test]
async fn bad_input_gets_a_problem_with_a_stable_code_and_stores_nothing() {
    let app = spawn_app().await;
    let cases: Vec<(Vec<u8>, StatusCode, &str, Option<&str>)> = vec![
        (b"{not json".to_vec(), StatusCode::BAD_REQUEST, "invalid_json", None),
        (b"[1,2,3]".to_vec(), StatusCode::BAD_REQUEST, "invalid_body", None),
        (
            serde_json::to_vec(&json!({"source": "x", "external_id": "1", "author": "@a"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            Some("text"),
        ),
        (
            serde_json::to_vec(&json!({"source": "x", "external_id": 5, "author": "@a", "text": "t"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("external_id"),
        ),
        (
            serde_json::to_vec(&json!({"source": "myspace", "external_id": "1", "author": "@a", "text": "t"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_source",
            Some("source"),
        ),
        (
            serde_json::to_vec(&json!({"source": "x", "external_id": "1", "author": "@a", "text": "a".repeat(65 * 1024)}))
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
            Some("text"),
        ),
        (
            serde_json::to_vec(&json!({"source": "x", "external_id": "1", "author": "@a", "text": "t", "pad": "p".repeat(1024 * 1024)}))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let (s, ctype, v) = app.post_raw(body).await;
        assert_eq!(s, status, "{code}");
        assert_eq!(ctype, "application/problem+json", "{code}");
        assert_eq!(v["code"], code);
        assert_eq!(v["status"], status.as_u16());
        assert_eq!(v["field"].as_str(), field, "{code}");
        assert!(!v["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        app.store.counts().await.unwrap().messages,
        0,
        "nothing was stored"
    );
}

#[tokio::test]
async fn every_api_route_is_documented_and_refuses_callers_without_a_valid_key() {
    let app = spawn_app().await;
    let doc: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let expected = [
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/cases/{id}"),
        ("GET", "/api/v1/customers"),
        ("GET", "/api/v1/customers/{id}"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/messages"),
        ("GET", "/api/v1/messages/{id}"),
        ("PUT", "/api/v1/messages/{id}/labels/{task}"),
        ("DELETE", "/api/v1/messages/{id}/labels/{task}"),
        ("GET", "/api/v1/labels"),
        ("GET", "/api/v1/labels/{task}"),
        ("GET", "/api/v1/queues"),
        ("POST", "/api/v1/messages"),
        ("POST", "/api/v1/customers/{id}/identities"),
        ("POST", "/api/v1/cases/{id}/replies"),
        ("GET", "/api/v1/connectors"),
        ("POST", "/api/v1/connectors/{target}/resume"),
        ("GET", "/api/v1/outbox"),
        ("GET", "/api/v1/status"),
        ("POST", "/api/v1/status"),
        ("GET", "/api/v1/incidents"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/incidents/{id}"),
        ("POST", "/api/v1/incidents/{id}"),
        ("GET", "/api/v1/incidents/{id}/debrief"),
        ("PUT", "/api/v1/incidents/{id}/debrief"),
        ("GET", "/api/v1/outbox/{id}"),
        ("PATCH", "/api/v1/cases/{id}"),
        ("POST", "/api/v1/cases/{id}/notes"),
        ("POST", "/api/v1/cases/{id}/escalations/{name}/acknowledge"),
        ("GET", "/api/v1/agents"),
        ("PUT", "/api/v1/agents/{id}/presence"),
        ("GET", "/api/v1/agents/{id}/handover"),
        ("GET", "/api/v1/automation"),
        ("POST", "/api/v1/agents/{id}/handover"),
        ("GET", "/api/v1/replies"),
        ("GET", "/api/v1/replies/{id}"),
        ("POST", "/api/v1/replies/{id}/decision"),
        ("PATCH", "/api/v1/replies/{id}"),
        ("POST", "/api/v1/replies/{id}/delete"),
        ("GET", "/api/v1/templates"),
        ("POST", "/api/v1/templates"),
        ("GET", "/api/v1/templates/{key}"),
        ("POST", "/api/v1/templates/{key}/versions/{version}/state"),
        ("POST", "/api/v1/cases/{id}/render"),
        ("GET", "/api/v1/cases/{id}/suggestions"),
        ("POST", "/api/v1/rules/dry-run"),
        ("POST", "/api/v1/cases/{id}/merge"),
        ("POST", "/api/v1/cases/{id}/split"),
        ("POST", "/api/v1/customers/merges/{id}/undo"),
        ("POST", "/api/v1/identity/scan"),
        ("GET", "/api/v1/identity/suggestions"),
        ("POST", "/api/v1/identity/suggestions/{id}/decision"),
        ("GET", "/api/v1/customers/{id}/export"),
        ("GET", "/api/v1/customers/{id}/consent"),
        ("PUT", "/api/v1/customers/{id}/consent/{channel}"),
        ("POST", "/api/v1/customers/{id}/erase"),
        ("PUT", "/api/v1/customers/{id}/legal-hold"),
        ("DELETE", "/api/v1/customers/{id}/legal-hold"),
        ("GET", "/api/v1/keys"),
        ("POST", "/api/v1/keys"),
        ("POST", "/api/v1/keys/{id}/rotate"),
        ("DELETE", "/api/v1/keys/{id}"),
        ("GET", "/api/v1/users"),
        ("PUT", "/api/v1/users/{login}"),
        ("DELETE", "/api/v1/users/{login}"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/audit/verify"),
        ("POST", "/api/v1/session"),
        ("GET", "/api/v1/session"),
        ("DELETE", "/api/v1/session"),
        ("GET", "/webhooks/linkedin"),
        ("POST", "/webhooks/linkedin"),
        ("POST", "/webhooks/tiktok"),
        ("GET", "/webhooks/meta"),
        ("GET", "/webhooks/x"),
        ("POST", "/webhooks/email"),
        ("POST", "/webhooks/generic/{source}"),
        ("POST", "/webhooks/meta"),
        ("POST", "/webhooks/x"),
        ("GET", "/api/v1/cases/{id}/survey"),
        ("GET", "/api/v1/feedback/summary"),
        ("GET", "/api/v1/qa/reviews"),
        ("POST", "/api/v1/qa/reviews/{id}"),
        ("GET", "/survey/{token}"),
        ("POST", "/survey/{token}"),
        // Listening: disruption messaging (F2, F3).
        ("POST", "/api/v1/incidents/{id}/disruption"),
        ("GET", "/api/v1/disruptions/{id}"),
        ("POST", "/api/v1/disruptions/{id}/decision"),
        // Listening: alert silences (E4).
        ("GET", "/api/v1/silences"),
        ("POST", "/api/v1/silences"),
        ("DELETE", "/api/v1/silences/{id}"),
        ("GET", "/api/v1/views"),
        ("POST", "/api/v1/views"),
        ("DELETE", "/api/v1/views/{id}"),
        ("GET", "/api/v1/watchlists"),
        ("GET", "/api/v1/retention"),
        ("POST", "/api/v1/retention/run"),
        ("PUT", "/api/v1/retention/policies"),
        ("POST", "/api/v1/watchlists/{list}/terms"),
        ("DELETE", "/api/v1/watchlists/{list}/terms/{term}"),
        // Cases: the workflow's routing changed at run time (D1–D4, D7).
        ("GET", "/api/v1/workflow/routing"),
        ("PUT", "/api/v1/workflow/routing"),
        ("GET", "/api/v1/workflow/routing/versions"),
        ("POST", "/api/v1/workflow/routing/check"),
        ("PUT", "/api/v1/workflow/agents/{id}"),
        ("DELETE", "/api/v1/workflow/agents/{id}"),
        // Listening: churn early warning (E8).
        ("GET", "/api/v1/churn"),
        ("POST", "/api/v1/churn/scan"),
        // Listening: capacity ahead of campaigns and surges (E7, F5).
        ("POST", "/api/v1/campaigns/capacity"),
        ("GET", "/api/v1/reports/kpis"),
        ("GET", "/api/v1/reports/cases.csv"),
        ("GET", "/api/v1/reports/voice"),
        ("GET", "/api/v1/reports/staffing"),
        ("GET", "/api/v1/reports/retention"),
        ("GET", "/api/v1/reports/at-risk"),
        ("GET", "/api/v1/reports/themes"),
        ("GET", "/api/v1/reports/attribution"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/orders/{id}"),
        ("GET", "/api/v1/reports/experiments"),
        ("GET", "/api/v1/reports/experiments/{name}"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(documented, expected);
    // Webhooks authenticate by signature, not API key: an unsigned delivery is refused as
    // such; on a server without secrets the handshakes are switched off.
    for (method, path) in documented
        .iter()
        .filter(|(_, p)| p.starts_with("/webhooks"))
    {
        let url = format!("{}{}", app.url, path.replace("{source}", "chat"));
        let r = app
            .http
            .request(method.parse().unwrap(), &url)
            .body("{}")
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if method == "POST" {
            assert_eq!(
                (r_status(&v), v["code"].as_str()),
                (401, Some("signature_missing")),
                "{method} {path}"
            );
        } else {
            assert_eq!(
                (r_status(&v), v["code"].as_str()),
                (404, Some("webhook_not_configured")),
                "{method} {path}"
            );
        }
    }
    // Signing in is the one route open to anyone. A wrong key is tried on the first routes
    // only: past 20 failures the address is rate-limited (tests/access.rs covers that).
    let protected = documented
        .iter()
        .filter(|(m, p)| p.starts_with("/api/") && !(m == "POST" && p == "/api/v1/session"));
    for (i, (method, path)) in protected.enumerate() {
        let url = format!(
            "{}{}",
            app.url,
            path.replace("{id}", "case_01JD0000000000000000000000")
        );
        let wrong = if i < 15 { Some("Bearer wrong") } else { None };
        for auth in [None, wrong, Some("Basic abc"), Some("Bearer ")] {
            let mut req = app.http.request(method.parse().unwrap(), &url);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.body("{}").send().await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {auth:?}"
            );
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], "unauthorized");
            assert_eq!(
                v["detail"], "a valid API key is required",
                "nothing else is revealed"
            );
        }
    }
    assert_eq!(app.store.counts().await.unwrap().messages, 0);
}

#[tokio::test]
async fn a_key_issued_by_the_store_works_and_only_its_hash_is_kept() {
    let app = spawn_app().await;
    let key = "sb_issued_key_for_a_script";
    common::issue_key(&app.store, key, "agent", None).await;
    let r = app
        .http
        .get(format!("{}/api/v1/cases", app.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(app.store.api_key_by_hash(key).await.unwrap().is_none());
}

#[tokio::test]
async fn case_lists_filter_and_page_with_a_cursor() {
    let app = spawn_app().await;
    let mut last = String::new();
    for i in 0..5 {
        let (_, _, v) = app
            .post(msg(
                &format!("p{i}"),
                &format!("@person{i}"),
                "Do you deliver on Saturdays? Please advise.",
            ))
            .await;
        last = v["id"].as_str().unwrap().to_owned();
    }
    app.processed(&last).await;
    let (s, page1) = app.get("/api/v1/cases?limit=2").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = app
        .get(&format!("/api/v1/cases?limit=2&cursor={cursor}"))
        .await;
    let (_, page3) = app
        .get(&format!(
            "/api/v1/cases?limit=2&cursor={}",
            page2["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    let all: Vec<&str> = [&page1, &page2, &page3]
        .iter()
        .flat_map(|p| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap())
        })
        .collect();
    let mut dedup = all.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), 5);

    let (_, open) = app.get("/api/v1/cases?status=new&priority=normal").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 5);
    let (_, none) = app.get("/api/v1/cases?status=closed").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    // Platform, language and intent narrow the list as the inbox's filters do.
    for (q, n) in [
        ("source=x", 5),
        ("source=facebook", 0),
        ("language=en", 5),
        ("language=de", 0),
        ("intent=inquiry", 5),
        ("intent=complaint", 0),
        ("source=x&intent=inquiry&language=en", 5),
        ("queue=general", 5),
    ] {
        let (s, v) = app.get(&format!("/api/v1/cases?{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        assert_eq!(v["items"].as_array().unwrap().len(), n, "{q}");
    }

    for (q, field) in [
        ("source=myspace", "source"),
        ("language=EN1", "language"),
        ("intent=angry", "intent"),
        ("queue=no-such-queue", "queue"),
        ("queue=", "queue"),
        ("status=shouting", "status"),
        ("limit=0", "limit"),
        ("limit=9999", "limit"),
        ("cursor=abc", "cursor"),
        ("customer=nope", "customer"),
    ] {
        let (s, v) = app.get(&format!("/api/v1/cases?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(v["code"], "invalid_query");
        assert_eq!(v["field"], field);
    }
    let (s, v) = app
        .get("/api/v1/cases/case_01JD0000000000000000000000")
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = app.get("/api/v1/messages/not-an-id").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Messages are listed newest first with their enrichment, filtered and paged; a bad filter
/// is a problem naming it; a caller limited to other regions sees none of them; without
/// `personal.read` the personal data is hidden.
#[tokio::test]
async fn messages_are_listed_newest_first_filtered_and_paged() {
    let app = spawn_app().await;
    let texts = [
        (
            "l1",
            "My parcel is two weeks late and nobody answers. Awful.",
        ),
        ("l2", "Thanks so much, the new app is great!"),
        ("l3", "Do you ship to Canada? Write to ana@example.com"),
    ];
    let mut ids = Vec::new();
    for (ext, text) in texts {
        let (_, _, v) = app.post(msg(ext, &format!("@{ext}"), text)).await;
        ids.push(app.processed(v["id"].as_str().unwrap()).await["id"].clone());
    }
    let list = |query: &str| format!("/api/v1/messages?{query}");
    let (s, all) = app.get(&list("")).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let got: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(got, [&ids[2], &ids[1], &ids[0]], "newest first");
    assert!(all["next_cursor"].is_null());
    assert_eq!(all["items"][2]["enrichment"]["intent"], "complaint");

    let (_, page1) = app.get(&list("limit=2")).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = app.get(&list(&format!("limit=2&cursor={cursor}"))).await;
    assert_eq!(page2["items"][0]["id"], ids[0]);
    assert!(page2["next_cursor"].is_null());

    for (query, want) in [
        ("intent=complaint", vec![&ids[0]]),
        ("sentiment=positive", vec![&ids[1]]),
        (
            "source=x&stage=processed&language=en",
            vec![&ids[2], &ids[1], &ids[0]],
        ),
        ("source=facebook", vec![]),
        ("stage=received", vec![]),
    ] {
        let (s, v) = app.get(&list(query)).await;
        assert_eq!(s, StatusCode::OK, "{query}: {v}");
        let got: Vec<&Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["id"])
            .collect();
        assert_eq!(got, want, "{query}");
    }
    for (query, field) in [
        ("source=myspace", "source"),
        ("stage=done", "stage"),
        ("language=English", "language"),
        ("sentiment=angry", "sentiment"),
        ("intent=rant", "intent"),
        ("urgency=now", "urgency"),
        ("cursor=abc", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
    ] {
        let (s, v) = app.get(&list(query)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            (v["code"].as_str(), v["field"].as_str()),
            (Some("invalid_query"), Some(field)),
            "{query}"
        );
    }

    // A caller limited to the US sees none of these EU messages, and is told to page on.
    common::issue_regional_key(&app.store, "sb_test_us_messages", "agent", &["us"]).await;
    let (s, _, body) = app.get_text(&list("limit=2"), "sb_test_us_messages").await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["items"], json!([]));
    assert!(v["next_cursor"].is_string(), "{v}");
    // An analyst reads the messages without their personal data.
    common::issue_key(&app.store, "sb_test_analyst_messages", "analyst", None).await;
    let (s, _, body) = app.get_text(&list(""), "sb_test_analyst_messages").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !body.contains("ana@example.com") && body.contains("[email]"),
        "{body}"
    );
}

/// A caller limited to some regions pages through every case of theirs, even when the newest
/// cases belong to other regions: in the API the cursor follows the last case read, and the
/// inbox reads on until its page is full.
#[tokio::test]
async fn a_region_limited_caller_finds_their_cases_behind_other_regions() {
    let app = spawn_app().await;
    let (_, _, v) = app
        .post(msg("r-eu", "@eu_only", "Where is my order?"))
        .await;
    let eu_message = app.processed(v["id"].as_str().unwrap()).await;
    let eu_case = eu_message["case_id"].as_str().unwrap().to_owned();
    let mut last = String::new();
    for i in 0..51 {
        let mut body = msg(
            &format!("r-us{i}"),
            &format!("@us{i}"),
            "Where is my order?",
        );
        body["region"] = json!("us");
        let (s, _, v) = app.post(body).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        last = v["id"].as_str().unwrap().to_owned();
    }
    app.processed(&last).await;

    common::issue_regional_key(&app.store, "sb_test_eu_pages", "agent", &["eu"]).await;
    let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, String::new());
    loop {
        let (s, _, body) = app
            .get_text(
                &format!("/api/v1/cases?limit=20{cursor}"),
                "sb_test_eu_pages",
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![json!(eu_case)], "after {pages} pages");
    assert_eq!(pages, 3, "52 cases in pages of 20");

    // The inbox of a user limited to the EU shows the case on its first page.
    let r = app
        .http
        .put(format!("{}/api/v1/users/eva.eu", app.url))
        .bearer_auth(KEY)
        .json(&json!({"role": "agent", "password": "correct horse battery", "regions": ["eu"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = app
        .http
        .post(format!("{}/api/v1/session", app.url))
        .json(&json!({"login": "eva.eu", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let inbox = app
        .http
        .get(format!("{}/ui/inbox", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), StatusCode::OK);
    let html = inbox.text().await.unwrap();
    assert!(html.contains(&eu_case), "the EU case is on the first page");
    assert!(!html.contains("Older cases"), "and nothing older is left");
}

#[tokio::test]
async fn operations_endpoints_report_health_readiness_and_metrics() {
    let app = spawn_app().await;
    let (_, _, v) = app
        .post(msg(
            "m1",
            "@ops",
            "Thanks, the replacement arrived and works great!",
        ))
        .await;
    app.processed(v["id"].as_str().unwrap()).await;
    for path in ["/healthz", "/readyz"] {
        let r = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let text = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "switchboard_ingest_messages_total{result=\"accepted\"}",
        "switchboard_stage_duration_seconds{stage=\"enrich\"",
        "switchboard_stage_duration_seconds{stage=\"append\"",
        "switchboard_messages_stored",
        "switchboard_http_requests_total",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    let r = app
        .http
        .get(format!("{}/nowhere", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn live_events_announce_a_new_case() {
    let app = spawn_app().await;
    let mut stream = app
        .http
        .get(format!("{}/api/v1/events", app.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.post(msg("e1", "@live", "Is the store in Lyon open on Sunday?"))
        .await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: case.opened") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("no event in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"type\":\"case.opened\""));
}

#[tokio::test]
async fn alerts_are_listed_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (i, series) in ["all", "platform:x", "intent:complaint"].iter().enumerate() {
        let a = sb_domain::Alert::detected(
            series,
            sb_domain::AlertKind::Spike,
            0.8,
            sb_domain::Timestamp(i as i64 * 300_000),
            90,
            Some(-0.3),
            sb_domain::Timestamp(i as i64 * 300_000 + 300_000),
        );
        assert!(app.store.insert_alert(&a).await.unwrap());
        ids.push(a.id.to_string());
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let (s, page) = app.get("/api/v1/alerts?limit=2").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["items"][0]["id"], ids[2].as_str());
    assert_eq!(page["items"][0]["series"], "intent:complaint");
    assert_eq!(page["items"][0]["kind"], "spike");
    assert_eq!(page["items"][1]["id"], ids[1].as_str());
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(&format!("/api/v1/alerts?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["id"], ids[0].as_str());
    assert!(rest["next_cursor"].is_null());
    let (s, p) = app.get("/api/v1/alerts?cursor=nope").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(p["code"], "invalid_query");
    assert_eq!(p["field"], "cursor");
}

/// The status a problem document reports.
fn r_status(v: &Value) -> u64 {
    v["status"].as_u64().unwrap_or_default()
}
