//! Merging and splitting over HTTP as a care team meets it (D1, C2): an agent folds the
//! duplicate case a customer opened by mail into her Twitter case, splits a second topic
//! out of a thread, and a supervisor works the duplicate-customer review queue — merging,
//! finding the weights in the audit trail, and undoing. Bad input changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{App, KEY, issue_key, spawn_app_workflow};
use reqwest::{Method, StatusCode};
use sb_domain::{Clock, SystemClock, Timestamp};
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_web::WebhookConfig;

const WORKFLOW: &str = r#"
[[sla]]
name = "social"
first_response_mins = 60
resolution_mins = 1440
"#;
const AGENT: &str = "sb_test_agent_key";
const SUPERVISOR: &str = "sb_test_supervisor_key";
const ANALYST: &str = "sb_test_analyst_key";
const HOUR: i64 = 3_600_000;

async fn rig(workflow: &str) -> App {
    let app = spawn_app_workflow(
        WebhookConfig::default(),
        sb_outbound::OutboundConfig::default(),
        workflow,
    )
    .await;
    issue_key(&app.store, AGENT, "agent", None).await;
    issue_key(&app.store, SUPERVISOR, "supervisor", None).await;
    issue_key(&app.store, ANALYST, "analyst", None).await;
    app
}

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

async fn get(app: &App, path: &str) -> Value {
    let (s, v) = send(app, Method::GET, path, KEY, None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {v}");
    v
}

/// A message as a platform delivers it, `hours_ago` hours ago; answers it once processed.
async fn write(
    app: &App,
    source: &str,
    author: Value,
    text: &str,
    region: Option<&str>,
    hours_ago: i64,
) -> Value {
    let at = Timestamp(SystemClock.now().millis() - hours_ago * HOUR).to_rfc3339();
    let ext = format!("{source}-{}", ulid::Ulid::generate());
    let (s, _, v) = app
        .post(json!({
            "source": source, "external_id": ext, "author": author, "text": text,
            "created_at": at, "region": region,
        }))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    app.processed(v["id"].as_str().unwrap()).await
}

/// The case once the case workflow has started its clocks.
async fn worked(app: &App, case: &str) -> Value {
    for _ in 0..300 {
        let c = get(app, &format!("/api/v1/cases/{case}")).await;
        if c["workflow"]["sla_policy"] == "social" {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("case {case} was never worked");
}

fn kinds(case: &Value) -> Vec<String> {
    case["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn event<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["workflow"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .map(|e| &e["data"])
        .unwrap_or_else(|| panic!("no {kind} event in {:?}", kinds(case)))
}

fn thread(case: &Value) -> Vec<String> {
    case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_of(app: &App, customer: &str) -> Vec<Value> {
    let page = get(
        app,
        &format!("/api/v1/audit?customer={customer}&limit=1000"),
    )
    .await;
    page["entries"].as_array().unwrap().clone()
}

/// Ana tweets about a late order three days ago; today, her address linked, she mails
/// about it too and a second case opens. Answers (tweet, mail, twitter case, mail case).
async fn ana_writes_twice(app: &App) -> (Value, Value, String, String) {
    let tweet = write(app, "x", json!("@ana"), "Order 1001 is late", None, 72).await;
    let ana = tweet["customer_id"].as_str().unwrap();
    let (s, v) = send(
        app,
        Method::POST,
        &format!("/api/v1/customers/{ana}/identities"),
        AGENT,
        Some(json!({ "platform": "email", "handle": "ana@example.pt" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mail = write(
        app,
        "email",
        json!("ana@example.pt"),
        "Order 1001: still nothing",
        None,
        0,
    )
    .await;
    assert_eq!(mail["customer_id"], tweet["customer_id"]);
    let (x_case, mail_case) = (
        tweet["case_id"].as_str().unwrap().to_owned(),
        mail["case_id"].as_str().unwrap().to_owned(),
    );
    assert_ne!(
        x_case, mail_case,
        "three days on, the mail opened a case of its own"
    );
    worked(app, &x_case).await;
    worked(app, &mail_case).await;
    (tweet, mail, x_case, mail_case)
}

#[tokio::test]
async fn an_agent_folds_the_case_ana_opened_by_mail_into_her_twitter_case() {
    let app = rig(WORKFLOW).await;
    let (tweet, mail, x_case, mail_case) = ana_writes_twice(&app).await;
    let ana = tweet["customer_id"].as_str().unwrap();
    let mail_id = mail["id"].as_str().unwrap();

    let (s, v) = send(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{mail_case}/merge"),
        AGENT,
        Some(json!({ "into": x_case })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["messages"], json!([mail_id]));

    let kept = get(&app, &format!("/api/v1/cases/{x_case}")).await;
    assert_eq!(thread(&kept), [tweet["id"].as_str().unwrap(), mail_id]);
    assert_eq!(kept["message_count"], 2);
    assert_eq!(kept["last_message_at"], mail["created_at"]);
    assert_eq!(event(&kept, "merged_from")["from"], mail_case.as_str());
    assert_eq!(event(&kept, "merged_from")["messages"], json!([mail_id]));

    let gone = get(&app, &format!("/api/v1/cases/{mail_case}")).await;
    assert_eq!(gone["status"], "closed");
    assert_eq!(gone["message_count"], 0);
    assert_eq!(event(&gone, "merged")["into"], x_case.as_str());
    let clocks = gone["workflow"]["sla"].as_array().unwrap();
    assert!(!clocks.is_empty());
    assert!(
        clocks
            .iter()
            .all(|c| c["status"] != "running" && c["due_at"].is_null()),
        "the merged case's clocks stopped: {clocks:?}"
    );
    let history = gone["workflow"]["events"].as_array().unwrap();
    let merged = history.iter().find(|e| e["kind"] == "merged").unwrap();
    assert!(
        merged["actor"].as_str().unwrap().starts_with("key:"),
        "the agent did it: {merged}"
    );

    // The audit trail keeps which messages moved, under Ana.
    let entries = audit_of(&app, ana).await;
    let entry = entries
        .iter()
        .find(|e| e["action"] == "POST /api/v1/cases/{id}/merge")
        .unwrap();
    assert_eq!(entry["outcome"], 200);
    assert_eq!(
        entry["detail"]["before"]["source"]["messages"],
        json!([mail_id])
    );
    assert_eq!(
        entry["detail"]["after"]["target"]["messages"],
        json!([tweet["id"], mail_id])
    );

    // Merged away, it takes no more merges, and nothing merges into it.
    let (s, v) = send(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{mail_case}/merge"),
        AGENT,
        Some(json!({ "into": x_case })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("case_merged")),
        "{v}"
    );
    let (s, v) = send(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{x_case}/merge"),
        AGENT,
        Some(json!({ "into": mail_case })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("merge_target_closed")),
        "{v}"
    );
}

#[tokio::test]
async fn merges_that_make_no_sense_are_refused_and_change_nothing() {
    let app = rig(WORKFLOW).await;
    let (_, _, x_case, mail_case) = ana_writes_twice(&app).await;
    let bob = write(
        &app,
        "x",
        json!("@bob"),
        "My card was charged twice",
        None,
        1,
    )
    .await;
    let bob_case = bob["case_id"].as_str().unwrap().to_owned();
    // The case workflow keeps ticking SLA clocks meanwhile; what a merge would change is
    // where messages are, the status, and the history's merge events.
    let snapshot = || async {
        let mut out = Vec::new();
        for c in [&x_case, &mail_case, &bob_case] {
            let v = get(&app, &format!("/api/v1/cases/{c}")).await;
            let merges: Vec<String> = kinds(&v)
                .into_iter()
                .filter(|k| k.starts_with("merged"))
                .collect();
            out.push((
                v["status"].clone(),
                v["message_count"].clone(),
                thread(&v),
                merges,
            ));
        }
        out
    };
    let before = snapshot().await;
    let merge = |case: &str| format!("/api/v1/cases/{case}/merge");
    let ghost = "case_01J00000000000000000000000";
    for (path, key, body, status, code) in [
        (
            merge(&mail_case),
            AGENT,
            json!({ "into": bob_case }),
            StatusCode::CONFLICT,
            "merge_different_customers",
        ),
        (
            merge(&mail_case),
            AGENT,
            json!({ "into": mail_case }),
            StatusCode::CONFLICT,
            "merge_into_itself",
        ),
        (
            merge(&mail_case),
            AGENT,
            json!({ "into": ghost }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            merge(&mail_case),
            AGENT,
            json!({ "into": "order-1001" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            merge(ghost),
            AGENT,
            json!({ "into": x_case }),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            merge(&mail_case),
            AGENT,
            json!({ "to": x_case }),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            merge(&mail_case),
            AGENT,
            json!(x_case),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            merge(&mail_case),
            ANALYST,
            json!({ "into": x_case }),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ] {
        let (s, v) = send(&app, Method::POST, &path, key, Some(body.clone())).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {v}"
        );
    }
    let r = app
        .http
        .post(format!("{}{}", app.url, merge(&mail_case)))
        .bearer_auth(AGENT)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn an_agent_splits_the_card_problem_ana_raised_in_her_order_thread() {
    let app = rig(WORKFLOW).await;
    let order = write(&app, "x", json!("@ana"), "Order 1001 is late", None, 3).await;
    let card = write(
        &app,
        "x",
        json!("@ana"),
        "Also my card was charged twice!\nPlease refund one",
        None,
        2,
    )
    .await;
    let again = write(&app, "x", json!("@ana"), "and the order?", None, 1).await;
    let case = order["case_id"].as_str().unwrap().to_owned();
    assert_eq!(card["case_id"], case.as_str());
    assert_eq!(again["case_id"], case.as_str());
    let before = worked(&app, &case).await;
    let card_id = card["id"].as_str().unwrap();
    let split = format!("/api/v1/cases/{case}/split");

    // Bad splits first: one code each, and the case keeps its three messages.
    let bob = write(&app, "x", json!("@bob"), "hi", None, 1).await;
    let all = [order["id"].clone(), card["id"].clone(), again["id"].clone()];
    for (body, status, code) in [
        (
            json!({ "messages": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({ "messages": ["card"] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({ "messages": [card_id, bob["id"]] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "message_not_in_case",
        ),
        (
            json!({ "messages": all }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "split_whole_case",
        ),
        (
            json!({ "message": [card_id] }),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        let (s, v) = send(&app, Method::POST, &split, AGENT, Some(body.clone())).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    let (s, v) = send(
        &app,
        Method::POST,
        "/api/v1/cases/case_01J00000000000000000000000/split",
        AGENT,
        Some(json!({ "messages": [card_id] })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = send(
        &app,
        Method::POST,
        &split,
        ANALYST,
        Some(json!({ "messages": [card_id] })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let unchanged = get(&app, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        (thread(&unchanged), &unchanged["message_count"]),
        (thread(&before), &json!(3))
    );
    assert!(!kinds(&unchanged).iter().any(|k| k.starts_with("split")));
    let ana = order["customer_id"].as_str().unwrap();
    assert_eq!(
        get(&app, &format!("/api/v1/cases?customer={ana}")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (s, v) = send(
        &app,
        Method::POST,
        &split,
        AGENT,
        Some(json!({ "messages": [card_id, card_id] })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let new_case = v["new_case_id"].as_str().unwrap().to_owned();
    let new = get(&app, &format!("/api/v1/cases/{new_case}")).await;
    let old = get(&app, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(thread(&new), [card_id]);
    assert_eq!(
        thread(&old),
        [order["id"].as_str().unwrap(), again["id"].as_str().unwrap()]
    );
    for field in ["customer_id", "channel", "source", "queue_id", "priority"] {
        assert_eq!(new[field], old[field], "{field} is the case's");
    }
    assert_eq!(
        (&new["status"], &new["subject"]),
        (&json!("new"), &json!("Also my card was charged twice!"))
    );
    assert_eq!(
        (&new["message_count"], &old["message_count"]),
        (&json!(1), &json!(2))
    );
    assert_eq!(
        new["opened_at"], card["created_at"],
        "the topic was raised then"
    );
    assert_eq!(
        new["workflow"]["sla_policy"], "social",
        "the new case has clocks of its own"
    );
    assert_eq!(event(&new, "split_from")["from"], case.as_str());
    assert_eq!(event(&old, "split_to")["to"], new_case.as_str());
    assert_eq!(event(&old, "split_to")["messages"], json!([card_id]));
    let entry = audit_of(&app, ana)
        .await
        .into_iter()
        .find(|e| e["action"] == "POST /api/v1/cases/{id}/split")
        .unwrap();
    assert_eq!(
        entry["detail"]["after"]["new_case"]["messages"],
        json!([card_id])
    );
}

/// This care team reviews every probabilistic match by hand: only weights above 16 link on
/// their own (a shared name and handle weigh about 14).
const REVIEW_EVERYTHING: &str = r#"
[[sla]]
name = "social"
first_response_mins = 60

[matching]
link_above = 16.0
review_above = 4.0
"#;

#[tokio::test]
async fn a_supervisor_merges_ana_on_x_with_ana_in_lisbon_on_instagram_then_undoes_it() {
    let app = rig(REVIEW_EVERYTHING).await;
    let on_x = write(
        &app,
        "x",
        json!({ "handle": "@ana_p", "name": "Ana Pereira" }),
        "Where is order 1001?",
        None,
        5,
    )
    .await;
    let on_insta = write(
        &app,
        "instagram",
        json!({ "handle": "ana.p", "name": "Ana Pereira" }),
        "Order 1001 never came",
        Some("Lisbon"),
        4,
    )
    .await;
    write(
        &app,
        "x",
        json!({ "handle": "@msousa", "name": "Miguel Sousa" }),
        "Great service",
        Some("Faro"),
        3,
    )
    .await;
    let (x_ana, insta_ana) = (
        on_x["customer_id"].as_str().unwrap(),
        on_insta["customer_id"].as_str().unwrap(),
    );
    assert_ne!(x_ana, insta_ana);
    let profile = |id: &str| format!("/api/v1/customers/{id}");
    let cases_of = |id: &str| format!("/api/v1/cases?customer={id}");
    let before = (
        get(&app, &profile(x_ana)).await,
        get(&app, &profile(insta_ana)).await,
    );
    // Whose each case is (the case workflow keeps ticking their clocks meanwhile).
    let owned = || async {
        let mut out = Vec::new();
        for c in [x_ana, insta_ana] {
            let items = get(&app, &cases_of(c)).await["items"].clone();
            for case in items.as_array().unwrap() {
                out.push((case["id"].clone(), case["customer_id"].clone()));
            }
        }
        out
    };
    let cases_before = owned().await;
    assert_eq!(cases_before.len(), 2);

    let (s, report) = send(
        &app,
        Method::POST,
        "/api/v1/identity/scan",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["suggested"], &report["merged"]),
        (&json!(1), &json!([])),
        "{report}"
    );
    assert_eq!(
        (&report["customers"], &report["compared"]),
        (&json!(3), &json!(1)),
        "only the two Anas share a blocking key; Miguel is compared with nobody: {report}"
    );

    let (s, queue) = send(
        &app,
        Method::GET,
        "/api/v1/identity/suggestions?status=pending",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{queue}");
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    let suggestion = &items[0];
    assert_eq!(
        suggestion["customers"][0]["id"], x_ana,
        "the older customer first"
    );
    assert_eq!(suggestion["customers"][1]["display_name"], "Ana Pereira");
    let fields = suggestion["result"]["fields"].as_array().unwrap();
    let weight = |name: &str| fields.iter().find(|f| f["field"] == name).unwrap().clone();
    assert_eq!(weight("name")["agreement"], "agree");
    assert_eq!(weight("handle")["agreement"], "agree", "@ana_p and ana.p");
    assert_eq!(
        weight("location")["agreement"],
        "missing",
        "only one of them said where she is"
    );
    assert_eq!(suggestion["result"]["decision"], "review");
    // An analyst sees the pair without who they are.
    let (_, redacted) = send(
        &app,
        Method::GET,
        "/api/v1/identity/suggestions",
        ANALYST,
        None,
    )
    .await;
    assert_eq!(
        redacted["items"][0]["customers"][1]["display_name"],
        Value::Null
    );

    let id = suggestion["id"].as_str().unwrap();
    let decide = format!("/api/v1/identity/suggestions/{id}/decision");
    let (s, v) = send(
        &app,
        Method::POST,
        &decide,
        SUPERVISOR,
        Some(json!({ "decision": "merge" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["suggestion"]["status"], "merged");
    let merge_id = v["merge"]["merge_id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            v["merge"]["survivor"].as_str(),
            v["merge"]["absorbed"].as_str()
        ),
        (Some(x_ana), Some(insta_ana))
    );
    let merged = get(&app, &profile(x_ana)).await;
    let handles: Vec<&str> = merged["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["@ana_p", "ana.p"]);
    assert_eq!(merged["region"], "lisbon");
    assert!(
        get(&app, &profile(insta_ana)).await["identities"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        get(&app, &cases_of(x_ana)).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "her Instagram case is hers too"
    );
    let msg = get(
        &app,
        &format!("/api/v1/messages/{}", on_insta["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(msg["customer_id"], x_ana);

    // The audit trail explains the merge field by field.
    let entry = audit_of(&app, x_ana)
        .await
        .into_iter()
        .find(|e| e["action"] == "POST /api/v1/identity/suggestions/{id}/decision")
        .unwrap();
    let audited = entry["detail"]["after"]["merge"]["result"]["fields"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        audited, *fields,
        "the weights the reviewer saw are the weights on record"
    );
    assert!(audited.iter().all(|f| f["weight"].is_number()));
    assert_eq!(
        entry["detail"]["after"]["merge"]["merge_id"],
        merge_id.as_str()
    );

    // Deciding again is refused; so is undoing a merge that does not exist.
    let (s, v) = send(
        &app,
        Method::POST,
        &decide,
        SUPERVISOR,
        Some(json!({ "decision": "reject" })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("suggestion_decided"))
    );
    let (s, v) = send(
        &app,
        Method::POST,
        "/api/v1/customers/merges/mrg_01J00000000000000000000000/undo",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let undo = format!("/api/v1/customers/merges/{merge_id}/undo");
    let (s, v) = send(&app, Method::POST, &undo, SUPERVISOR, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["returned"]["identities"], 1);
    assert_eq!(v["returned"]["messages"], json!([on_insta["id"]]));
    assert_eq!(
        (
            get(&app, &profile(x_ana)).await,
            get(&app, &profile(insta_ana)).await
        ),
        before,
        "both profiles exactly as they were"
    );
    assert_eq!(
        owned().await,
        cases_before,
        "each case is its customer's again"
    );
    let (s, v) = send(&app, Method::POST, &undo, SUPERVISOR, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("merge_undone")),
        "{v}"
    );
    let (_, undone) = send(
        &app,
        Method::GET,
        "/api/v1/identity/suggestions?status=undone",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(undone["items"][0]["merge_id"], merge_id.as_str());

    // A pair once decided is not put up again.
    let (_, again) = send(
        &app,
        Method::POST,
        "/api/v1/identity/scan",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(
        (&again["suggested"], &again["known"]),
        (&json!(0), &json!(1)),
        "{again}"
    );
}

#[tokio::test]
async fn the_scan_links_a_sure_match_but_never_two_accounts_on_one_platform() {
    // With the default thresholds a shared name and handle is a sure match.
    let app = rig(WORKFLOW).await;
    let on_x = write(
        &app,
        "x",
        json!({ "handle": "@ana_p", "name": "Ana Pereira" }),
        "Where is order 1001?",
        None,
        5,
    )
    .await;
    let on_insta = write(
        &app,
        "instagram",
        json!({ "handle": "ana.p", "name": "Ana Pereira" }),
        "Order 1001 never came",
        Some("Lisbon"),
        4,
    )
    .await;
    // Two X accounts of a Rui Costa in Porto: alike in everything but the account.
    let rui = write(
        &app,
        "x",
        json!({ "handle": "@rui_costa", "name": "Rui Costa" }),
        "Refund please",
        Some("Porto"),
        3,
    )
    .await;
    let rui2 = write(
        &app,
        "x",
        json!({ "handle": "@ruicosta", "name": "Rui Costa" }),
        "Refund please!!",
        Some("Porto"),
        2,
    )
    .await;

    let (s, v) = send(&app, Method::POST, "/api/v1/identity/scan", ANALYST, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, report) = send(
        &app,
        Method::POST,
        "/api/v1/identity/scan",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let merged = report["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{report}");
    assert_eq!(
        (&merged[0]["survivor"], &merged[0]["absorbed"]),
        (&on_x["customer_id"], &on_insta["customer_id"])
    );
    assert_eq!(merged[0]["result"]["decision"], "link");
    let entry = audit_of(&app, on_x["customer_id"].as_str().unwrap())
        .await
        .into_iter()
        .find(|e| {
            e["subject"] == format!("customer_merge:{}", merged[0]["merge_id"].as_str().unwrap())
        })
        .unwrap();
    assert!(
        entry["detail"]["after"]["result"]["fields"]
            .as_array()
            .unwrap()
            .len()
            == 3,
        "{entry}"
    );

    let (_, queue) = send(
        &app,
        Method::GET,
        "/api/v1/identity/suggestions?status=pending",
        SUPERVISOR,
        None,
    )
    .await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    assert_eq!(items[0]["customers"][0]["id"], rui["customer_id"]);
    assert_eq!(items[0]["customers"][1]["id"], rui2["customer_id"]);
    assert_eq!(
        items[0]["result"]["blocked"],
        "different handles on platform x"
    );
    let decide = format!(
        "/api/v1/identity/suggestions/{}/decision",
        items[0]["id"].as_str().unwrap()
    );
    let ruis = || async {
        let mut out = Vec::new();
        for r in [&rui, &rui2] {
            out.push(
                get(
                    &app,
                    &format!("/api/v1/customers/{}", r["customer_id"].as_str().unwrap()),
                )
                .await,
            );
        }
        out
    };
    let before = ruis().await;
    for (body, status, code) in [
        (
            json!({ "decision": "merge" }),
            StatusCode::CONFLICT,
            "identity_conflict",
        ),
        (
            json!({ "decision": "maybe" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({ "verdict": "merge" }),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        let (s, v) = send(&app, Method::POST, &decide, SUPERVISOR, Some(body.clone())).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{body}: {v}");
    }
    assert_eq!(ruis().await, before, "nothing merged");
    let (s, v) = send(
        &app,
        Method::POST,
        "/api/v1/identity/suggestions/sug_01J00000000000000000000000/decision",
        SUPERVISOR,
        Some(json!({ "decision": "merge" })),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = send(
        &app,
        Method::GET,
        "/api/v1/identity/suggestions?status=maybe",
        SUPERVISOR,
        None,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (s, v) = send(
        &app,
        Method::POST,
        &decide,
        SUPERVISOR,
        Some(json!({ "decision": "reject" })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["suggestion"]["status"], "rejected");
    assert_eq!(v["merge"], Value::Null);
}
