//! The web UI in a real headless Chromium against the real server on SQLite: an agent signs
//! in, watches a customer's comment arrive in the inbox without a reload, opens it from the
//! keyboard, is stopped by a guardrail before anything is sent, answers with a template, and
//! sees the first-response clock fulfilled; a supervisor reads the dashboard's charts; an agent
//! is refused the administration pages. Pages load nothing from anywhere else. Screenshots go
//! to `target/screenshots/`.
//!
//! Plain-HTTP checks of the page guard, redaction and region scoping run without a browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod common;

use browser::Browser;
use common::{App, KEY, issue_key, spawn_app_workflow};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sb_outbound::OutboundConfig;
use sb_outbound::meta::MetaConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use switchboard_web::WebhookConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "meta-app-secret";
const PAGE: &str = "page-1";
const PASSWORD: &str = "correct horse battery staple";
const LEAD_KEY: &str = "sb_test_ui_lead";

const WORKFLOW: &str = r#"
[[sla]]
name = "social"
first_response_mins = 60
resolution_mins = 1440

[[queues]]
name = "social"

[[agents]]
id = "ana"
name = "Ana"
queues = ["social"]

[[guardrails]]
product = "*"
prohibited = ["risk-free", "guaranteed approval"]
reason = "Promises we cannot keep are not allowed"
"#;

async fn rig() -> (App, MockServer) {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "reply-1"})))
        .mount(&graph)
        .await;
    let mut meta = MetaConfig {
        base_url: graph.uri(),
        ..MetaConfig::default()
    };
    meta.tokens
        .insert(PAGE.into(), sb_outbound::Secret::new("page-token"));
    let app = spawn_app_workflow(
        WebhookConfig {
            meta_app_secret: SECRET.into(),
            ..WebhookConfig::default()
        },
        OutboundConfig {
            meta: Some(meta),
            ..OutboundConfig::default()
        },
        WORKFLOW,
    )
    .await;
    (app, graph)
}

async fn user(app: &App, login: &str, role: &str) {
    let hash = switchboard_web::hash_password(PASSWORD).unwrap();
    app.store
        .upsert_user(login, &hash, role, sb_domain::Timestamp(0))
        .await
        .unwrap();
}

/// A public Page comment by `author`, signed as Meta signs it.
async fn comment(app: &App, author: &str, comment_id: &str, text: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = serde_json::to_vec(&json!({
        "object": "page",
        "entry": [{"id": PAGE, "time": now, "changes": [{"field": "feed", "value": {
            "from": {"id": author, "name": "Sam Lee"}, "post_id": "page-1_post-9",
            "comment_id": comment_id, "parent_id": "page-1_post-9",
            "created_time": now, "item": "comment", "verb": "add", "message": text,
        }}]}]
    }))
    .unwrap();
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(&body);
    let sig = format!("sha256={}", hex::encode(m.finalize().into_bytes()));
    let r = app
        .http
        .post(format!("{}/webhooks/meta", app.url))
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Waits until `n` cases have their SLA clocks running.
async fn worked_cases(app: &App, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let (_, cases) = app.get("/api/v1/cases").await;
        let ids: Vec<String> = cases["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.len() >= n {
            let mut ready = 0;
            for id in &ids {
                let (_, full) = app.get(&format!("/api/v1/cases/{id}")).await;
                if full["workflow"]["sla_policy"] == "social" {
                    ready += 1;
                }
            }
            if ready >= n {
                return ids;
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("{n} cases were never worked");
}

/// An approved template, written by the admin key and approved by a supervisor.
async fn approved_template(app: &App) {
    issue_key(&app.store, LEAD_KEY, "supervisor", None).await;
    let r = app
        .http
        .post(format!("{}/api/v1/templates", app.url))
        .bearer_auth(KEY)
        .json(&json!({"key": "parcel_late", "locale": "en",
            "body": "Hi {{customer.first_name | \"there\"}}, order {{order.id}} is on its way and arrives tomorrow."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    for (key, to) in [(KEY, "pending_approval"), (LEAD_KEY, "approved")] {
        let r = app
            .http
            .post(format!(
                "{}/api/v1/templates/parcel_late/versions/{}/state",
                app.url, v["version"]
            ))
            .bearer_auth(key)
            .json(&json!({ "state": to }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{to}");
    }
}

/// Runs a browser step on a blocking thread and hands the browser back.
async fn step<T: Send + 'static>(
    mut b: Browser,
    f: impl FnOnce(&mut Browser) -> T + Send + 'static,
) -> (Browser, T) {
    tokio::task::spawn_blocking(move || {
        let out = f(&mut b);
        (b, out)
    })
    .await
    .unwrap()
}

fn sign_in(b: &mut Browser, base: &str, login: &str, path: &str) {
    b.goto(&format!("{base}{path}"));
    b.wait_for("document.getElementById('login-form')", "the sign-in form");
    b.eval(&format!(
        "document.getElementById('login').value = {login:?}; \
         document.getElementById('password').value = {PASSWORD:?}; \
         document.getElementById('login-form').requestSubmit(); true"
    ));
    b.wait_for(
        &format!("location.pathname === {path:?} && document.querySelector('main h1')"),
        "the page after signing in",
    );
}

/// Nothing was fetched from anywhere but the server, and no policy violation was logged.
fn only_our_origin(b: &mut Browser, base: &str) {
    let urls = b.requested_urls();
    assert!(!urls.is_empty());
    for u in &urls {
        assert!(
            u.starts_with(base) || u.starts_with("data:") || u == "about:blank",
            "a page requested {u}"
        );
    }
    for m in b.log_messages() {
        assert!(!m.contains("Content Security Policy"), "{m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_a_comment_arrive_live_opens_it_by_keyboard_and_answers_with_a_template() {
    let (app, _graph) = rig().await;
    user(&app, "ana", "agent").await;
    approved_template(&app).await;
    let base = app.url.clone();

    let b = step(Browser::launch(), |_| ()).await.0;
    let url = base.clone();
    let (b, _) = step(b, move |b| {
        b.goto(&format!("{url}/ui/login"));
        b.wait_for("document.getElementById('login-form')", "the sign-in form");
        b.screenshot("login");
        sign_in(b, &url, "ana", "/ui/inbox");
        b.wait_for(
            "document.getElementById('live').classList.contains('on')",
            "the live feed",
        );
        assert_eq!(
            b.eval("document.querySelectorAll('#inbox-rows tr').length"),
            json!(0)
        );
        b.eval("window.stayedOnThePage = true");
    })
    .await;

    comment(
        &app,
        "u-1",
        "c-1",
        "Where is my parcel? It is a week late <script>alert(1)</script>",
    )
    .await;
    worked_cases(&app, 1).await;

    let url = base.clone();
    let (b, _) = step(b, move |b| {
        b.wait_for(
            "document.querySelectorAll('#inbox-rows tr.case-row').length === 1",
            "the new case in the inbox",
        );
        assert_eq!(b.eval("window.stayedOnThePage"), json!(true), "no reload");
        let subject = b.eval("document.querySelector('#inbox-rows td.subject').textContent");
        assert!(subject.as_str().unwrap().contains("<script>alert(1)</script>"), "{subject}");
        assert_eq!(b.eval("document.scripts.length"), json!(1), "the comment stays text");
        b.wait_for(
            "document.querySelector('#inbox-rows .sla[data-metric=\"first_response\"][data-state=\"on_track\"]')",
            "the first-response countdown",
        );
        let left = b.eval("document.querySelector('#inbox-rows .sla .sla-text').textContent");
        assert!(left.as_str().unwrap().ends_with("left"), "{left}");
        b.screenshot("inbox");

        b.press("j");
        b.wait_for("document.querySelector('tr.case-row.selected')", "a selected row");
        b.press("Enter");
        b.wait_for(
            "location.pathname.startsWith('/ui/cases/') && document.getElementById('reply-form')",
            "the case page",
        );
        let thread = b.eval("document.querySelector('.thread').textContent");
        assert!(thread.as_str().unwrap().contains("Where is my parcel?"));
        assert!(
            b.eval("document.querySelector('.thread .badge.vis-public') !== null")
                .as_bool()
                .unwrap()
        );

        // A guardrail refuses the text before anything is stored or sent.
        b.eval(
            "document.getElementById('reply-text').value = 'Switching is risk-free!'; \
             document.getElementById('reply-form').requestSubmit(); true",
        );
        b.wait_for(
            "document.getElementById('reply-error').textContent.includes('guardrail_violation')",
            "the guardrail's refusal",
        );

        // The template, rendered for the case, then sent as it was previewed.
        b.eval(
            "document.getElementById('tpl-key').value = 'parcel_late'; \
             document.getElementById('tpl-vars').value = 'order.id=O-77'; \
             document.getElementById('tpl-insert').click(); true",
        );
        b.wait_for(
            "document.getElementById('reply-text').value.includes('order O-77 is on its way')",
            "the rendered template",
        );
        b.eval("document.getElementById('reply-form').requestSubmit(); true");
        b.wait_for(
            "document.getElementById('reply-result') && document.getElementById('reply-result').textContent.includes('queued')",
            "the reply queued",
        );
        b.wait_for(
            "document.querySelector('.sla[data-metric=\"first_response\"][data-state=\"fulfilled\"]')",
            "the first-response clock fulfilled",
        );
        b.wait_for(
            "document.querySelector('.thread li.outbound') && document.querySelector('.thread li.outbound').textContent.includes('O-77')",
            "our reply in the thread",
        );
        b.screenshot("case");

        // The agent corrects the intent the product read; the page shows the correction.
        b.eval(
            "const s = document.querySelector('.thread select[data-label-task=\"intent\"]'); \
             s.value = 'praise'; s.dispatchEvent(new Event('change')); true",
        );
        b.wait_for(
            "[...document.querySelectorAll('.thread .badge.corrected')].some((e) => e.textContent === 'intent → praise')",
            "the correction on the message",
        );
        assert_eq!(
            b.eval("document.querySelector('.thread select[data-label-task=\"intent\"]').value"),
            json!("praise")
        );
        only_our_origin(b, &url);
    })
    .await;
    drop(b);

    let (_, labels) = app.get("/api/v1/labels").await;
    assert_eq!(
        labels,
        json!({"tasks": [{"task": "intent", "examples": 1, "labels": {"praise": 1}}]})
    );

    let (_, replies) = app.get("/api/v1/replies").await;
    let replies = replies.as_array().unwrap();
    assert_eq!(
        replies.len(),
        1,
        "the refused text was never stored: {replies:?}"
    );
    assert_eq!(
        replies[0]["record"]["template_key"], "parcel_late",
        "{replies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reads_the_dashboard_charts() {
    let (app, _graph) = rig().await;
    user(&app, "sue", "supervisor").await;
    let texts = [
        "My parcel is late again, this is awful",
        "Thanks, the new app is great!",
        "How do I change my delivery address?",
        "The checkout keeps failing, I am really annoyed",
        "Do you ship to Norway?",
        "Love the new store in Porto, great staff",
        "Third time asking: where is my refund?",
        "Can I pay with a gift card online?",
    ];
    for (i, text) in texts.iter().enumerate() {
        comment(&app, &format!("u-{i}"), &format!("c-{i}"), text).await;
    }
    let cases = worked_cases(&app, texts.len()).await;
    for case in &cases[..3] {
        let r = app
            .http
            .patch(format!("{}/api/v1/cases/{case}", app.url))
            .bearer_auth(KEY)
            .json(&json!({"assignee": "ana"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .http
        .post(format!("{}/api/v1/cases/{}/replies", app.url, cases[0]))
        .bearer_auth(KEY)
        .json(&json!({"text": "We are looking into it and will write back within the hour."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let base = app.url.clone();
    let (b, _) = step(Browser::launch(), move |b| {
        sign_in(b, &base, "sue", "/ui/dashboard");
        let captions = b.eval(
            "Array.from(document.querySelectorAll('figure.chart figcaption')).map(c => c.textContent).join('|')",
        );
        let captions = captions.as_str().unwrap().to_owned();
        for chart in [
            "Volume by platform",
            "Volume by intent",
            "Sentiment trend",
            "First-response times",
            "Backlog by status (8 open)",
            "Backlog by queue",
            "SLA attainment",
            "Agent load",
        ] {
            assert!(captions.contains(chart), "{chart} missing from {captions}");
        }
        let bars = b.eval(
            "document.querySelector('figure.chart svg').querySelectorAll('rect[fill]').length",
        );
        assert!(bars.as_i64().unwrap() >= 1, "the volume chart has bars");
        let volume = b.eval("document.querySelector('figure.chart svg').textContent");
        assert!(volume.as_str().unwrap().contains("facebook: 8"), "{volume}");
        let load = b.eval("Array.from(document.querySelectorAll('figure.chart')).pop().textContent");
        assert!(load.as_str().unwrap().contains("ana: 3 of"), "ana's load: {load}");
        assert_eq!(
            b.eval("document.querySelectorAll('svg polyline').length"),
            json!(1),
            "the sentiment line"
        );
        b.screenshot("dashboard");
        for (path, name) in [
            ("/ui/inbox", "inbox-team"),
            ("/ui/alerts", "alerts"),
            ("/ui/connectors", "connectors"),
            ("/ui/admin/workflow", "workflow"),
        ] {
            b.goto(&format!("{base}{path}"));
            b.wait_for("document.querySelector('main h1')", path);
            b.screenshot(name);
        }
        only_our_origin(b, &base);
    })
    .await;
    drop(b);
}

/// A message to the customers hit by an incident, drafted through the API, waits on the
/// incident's page; an agent sees it but cannot decide; a supervisor approves it there and
/// each customer gets one private message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_approves_the_message_to_customers_on_the_incident_page() {
    let (app, graph) = rig().await;
    user(&app, "sue", "supervisor").await;
    user(&app, "ana", "agent").await;
    approved_template(&app).await;
    comment(&app, "u-1", "c-1", "My parcel is late again, this is awful").await;
    comment(
        &app,
        "u-2",
        "c-2",
        "Where is my parcel? Tracking shows nothing",
    )
    .await;
    let cases = worked_cases(&app, 2).await;
    let r = app
        .http
        .post(format!("{}/api/v1/incidents", app.url))
        .bearer_auth(KEY)
        .json(&json!({"title": "Parcel delays", "severity": "error"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let incident: Value = r.json().await.unwrap();
    let incident = incident["id"].as_str().unwrap().to_owned();
    // Drafted by an operations tool with a key of its own: the page names the key.
    let r = app
        .http
        .post(format!("{}/api/v1/keys", app.url))
        .bearer_auth(KEY)
        .json(&json!({"name": "ops desk", "role": "supervisor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ops: Value = r.json().await.unwrap();
    let r = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{incident}/disruption",
            app.url
        ))
        .bearer_auth(ops["key"].as_str().unwrap())
        .json(
            &json!({"template": "parcel_late", "segment": {"about": ["parcel"]},
                      "variables": {"order.id": "your order"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let draft: Value = r.json().await.unwrap();
    let disruption = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["progress"]["recipients"], 2, "{draft}");
    let path = format!("/ui/incidents/{incident}");

    // The agent reads the draft but is offered no decision.
    let agent = cookie(&app, "ana").await;
    let (status, _, html) = page(&app, Some(&agent), &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Messages to customers") && html.contains(&disruption),
        "{html}"
    );
    assert!(
        html.contains("pending approval") && html.contains("arrives tomorrow"),
        "{html}"
    );
    assert!(!html.contains("dis-approve"), "{html}");
    let named = format!(
        "<span class=\"actor\" title=\"key:{}\">ops desk</span>",
        ops["id"].as_str().unwrap()
    );
    assert!(html.contains(&format!("drafted by {named}")), "{html}");
    // A case's history names the key too.
    let r = app
        .http
        .post(format!("{}/api/v1/cases/{}/notes", app.url, cases[0]))
        .bearer_auth(ops["key"].as_str().unwrap())
        .json(&json!({"text": "customers told"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (_, _, html) = page(&app, Some(&agent), &format!("/ui/cases/{}", cases[0])).await;
    assert!(html.contains(&named), "{html}");

    let base = app.url.clone();
    let (b, shown) = step(Browser::launch(), move |b| {
        sign_in(b, &base, "sue", &path);
        let progress = b.eval("document.querySelector('.dis-progress').textContent");
        b.eval("document.querySelector('form.dis-approve button').click(); true");
        b.wait_for(
            "/^sen(t|ding)$/.test(document.querySelector('.dis-status').textContent)",
            "the approved draft",
        );
        let decision = b.eval("document.querySelector('.dis-decision').textContent");
        b.screenshot("incident-disruption");
        only_our_origin(b, &base);
        (progress, decision)
    })
    .await;
    drop(b);
    assert!(
        shown
            .0
            .as_str()
            .unwrap()
            .contains("2 customers, 0 left out"),
        "{shown:?}"
    );
    assert_eq!(shown.1, json!("approved by user:sue"));
    // Each customer gets one private message, and the incident's timeline says so.
    for _ in 0..300 {
        let (_, d) = app.get(&format!("/api/v1/disruptions/{disruption}")).await;
        if d["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (_, d) = app.get(&format!("/api/v1/disruptions/{disruption}")).await;
    assert_eq!(d["status"], "sent", "{d}");
    assert_eq!(d["progress"]["delivered"], 2, "{d}");
    let sent = graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("arrives tomorrow"))
        .count();
    assert_eq!(sent, 2);
    let (_, inc) = app.get(&format!("/api/v1/incidents/{incident}")).await;
    let timeline = inc["timeline"].to_string();
    assert!(timeline.contains("message_sent"), "{timeline}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_is_refused_the_admin_pages_and_an_admin_manages_users() {
    let (app, _graph) = rig().await;
    user(&app, "ana", "agent").await;
    user(&app, "root", "admin").await;
    let base = app.url.clone();
    let (b, _) = step(Browser::launch(), move |b| {
        sign_in(b, &base, "ana", "/ui/inbox");
        // The filters in use, saved under a name, come back as a view.
        b.goto(&format!("{base}/ui/inbox?intent=complaint&sentiment=negative"));
        b.wait_for("document.getElementById('save-view')", "the save-view form");
        b.eval(
            "document.getElementById('save-view-name').value = 'Angry complaints'; \
             document.getElementById('save-view').requestSubmit(); true",
        );
        let saved = "Array.from(document.querySelectorAll('#saved-views a')).some(a => a.textContent === 'Angry complaints')";
        b.wait_for(saved, "the saved view, once stored");
        // Stored on the server: a fresh page lists it too.
        b.goto(&format!("{base}/ui/inbox"));
        b.wait_for(saved, "the saved view");
        b.eval("document.querySelector('#saved-views a').click(); true");
        b.wait_for(
            "location.search === '?sentiment=negative&intent=complaint' && document.querySelector('#saved-views a.active')",
            "the saved view opened",
        );
        assert_eq!(
            b.eval("document.querySelector('header nav a[href=\"/ui/admin/users\"]')"),
            Value::Null,
            "an agent is not offered the page"
        );
        b.goto(&format!("{base}/ui/admin/users"));
        b.wait_for("document.querySelector('main h1')", "the refusal");
        assert_eq!(b.eval("document.querySelector('main h1').textContent"), json!("Not allowed"));
        let why = b.eval("document.querySelector('main p').textContent");
        assert!(why.as_str().unwrap().contains("users.manage"), "{why}");
        assert_eq!(b.eval("document.querySelector('#users')"), Value::Null);
        b.screenshot("refused");

        b.eval("document.getElementById('logout').click(); true");
        b.wait_for("location.pathname === '/ui/login'", "the sign-in page after signing out");
        b.goto(&format!("{base}/ui/inbox"));
        b.wait_for("location.pathname === '/ui/login'", "signed out: back to sign in");

        sign_in(b, &base, "root", "/ui/admin/users");
        b.wait_for("document.querySelector('#users')", "the users table");
        b.eval(
            "const f = document.querySelector('form.api-form[data-method=\"PUT\"]'); \
             f.elements.login.value = 'ben'; f.elements.role.value = 'supervisor'; \
             f.elements.password.value = 'short'; f.requestSubmit(); true",
        );
        b.wait_for(
            "document.querySelector('form.api-form[data-method=\"PUT\"] .error').textContent.length > 0",
            "a short password refused",
        );
        b.eval(
            "const g = document.querySelector('form.api-form[data-method=\"PUT\"]'); \
             g.elements.password.value = 'a long enough passphrase'; g.requestSubmit(); true",
        );
        b.wait_for(
            "Array.from(document.querySelectorAll('#users td')).some(td => td.textContent === 'ben')",
            "the new user listed",
        );
        b.screenshot("users");
        b.goto(&format!("{base}/ui/admin/keys"));
        b.wait_for("document.querySelector('#keys')", "the keys page");
        b.screenshot("keys");
        // Watchlists: terms added and removed from the page, through the API.
        b.goto(&format!("{base}/ui/admin/watchlists"));
        b.wait_for("document.getElementById('add-terms')", "the watchlists page");
        b.eval(
            "const w = document.getElementById('add-terms'); w.elements.list.value = 'products'; \
             w.elements.terms.value = 'Kettle9, #KettleRecall'; w.requestSubmit(); true",
        );
        let listed = "Array.from(document.querySelectorAll('section.watchlist[data-list=\"products\"] .term')).map(t => t.textContent).join(',')";
        b.wait_for(
            &format!("{listed} === '#KettleRecall,Kettle9'"),
            "the added terms listed",
        );
        b.screenshot("watchlists");
        b.eval(
            "window.confirm = () => true; \
             document.querySelector('section.watchlist button[aria-label=\"Remove Kettle9\"]').click(); true",
        );
        b.wait_for(&format!("{listed} === '#KettleRecall'"), "the term removed");
        b.goto(&format!("{base}/ui/admin/retention"));
        b.wait_for("document.getElementById('no-policies')", "the retention page, no policy configured");
        b.eval(
            "window.confirm = () => true; \
             document.getElementById('policies-document').value = '[{\"class\": \"personal\", \"days\": 365, \"region\": \"eu\"}]'; \
             document.querySelector('#edit-policies form').requestSubmit(); true",
        );
        b.wait_for(
            "document.querySelector('#policies td') && document.querySelector('#policies td').textContent === 'personal' \
             && document.getElementById('policies-source').textContent.includes('version 1')",
            "the saved policy in force",
        );
        b.screenshot("retention");
        // The routing: a document that does not compile is refused by Check; a good one is
        // checked, saved and in force when the page comes back.
        b.goto(&format!("{base}/ui/admin/workflow"));
        b.wait_for("document.getElementById('routing-document')", "the routing editor");
        assert_eq!(
            b.eval("document.querySelector('main').textContent.includes('24x7 (UTC)')"),
            json!(true),
            "the policy's business hours"
        );
        let doc = b.eval("document.getElementById('routing-document').value");
        assert!(doc.as_str().unwrap().contains("ana"), "the file's routing to start from: {doc}");
        b.eval(
            "document.getElementById('routing-document').value = '[[agents]]\\nid = \"bo\"\\nname = \"Bo\"\\nqueues = [\"returns\"]\\n'; \
             document.querySelector('#routing-editor button[data-url]').click(); true",
        );
        b.wait_for(
            "document.querySelector('#routing-editor .error').textContent.includes('returns')",
            "an agent in an unknown queue refused",
        );
        b.eval(
            "document.getElementById('routing-document').value += '[[queues]]\\nname = \"returns\"\\n'; \
             document.querySelector('#routing-editor button[data-url]').click(); true",
        );
        b.wait_for(
            "document.querySelector('#routing-editor .result').textContent.includes('returns')",
            "the checked document's summary",
        );
        b.screenshot("workflow");
        b.eval(
            "window.confirm = () => true; \
             document.querySelector('#routing-editor button:not([data-url])').click(); true",
        );
        b.wait_for(
            "document.getElementById('routing-source').textContent.includes('routing version 1')",
            "the saved routing in force",
        );
        // One agent added through the form: a second version.
        b.eval(
            "const a = document.querySelector('#agent-editor form'); a.elements.id.value = 'cy'; \
             a.elements.name.value = 'Cy'; a.elements.queues.value = 'returns'; \
             a.elements.languages.value = 'en, de'; a.requestSubmit(); true",
        );
        b.wait_for(
            "document.getElementById('routing-source').textContent.includes('routing version 2')",
            "the agent saved into the routing",
        );
        only_our_origin(b, &base);
    })
    .await;
    drop(b);
    let policies = switchboard_web::privacy::retention_in_force(app.store.as_ref(), &[])
        .await
        .unwrap();
    assert_eq!((policies.version, policies.policies[0].days), (1, 365));
    let flow = app.state.casework.workflow();
    assert_eq!(flow.router.queues().collect::<Vec<_>>(), ["returns"]);
    assert_eq!(
        flow.router
            .agents()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["bo", "cy"]
    );
    assert_eq!(flow.router.agent("cy").unwrap().languages, ["en", "de"]);
    let stored: Vec<String> = app
        .store
        .watch_terms()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.term)
        .collect();
    assert_eq!(stored, ["#KettleRecall"]);
    let ben = app.store.user("ben").await.unwrap().unwrap();
    assert_eq!(ben.role, "supervisor");
}

// ---- without a browser ------------------------------------------------------------------

/// Signs in over HTTP and answers the session cookie.
async fn cookie(app: &App, login: &str) -> String {
    let r = app
        .http
        .post(format!("{}/api/v1/session", app.url))
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set = r.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn page(
    app: &App,
    cookie: Option<&str>,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(format!("{}{path}", app.url));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

#[tokio::test]
async fn pages_send_anonymous_callers_to_sign_in_and_refuse_what_the_role_may_not_see() {
    let (app, _graph) = rig().await;
    user(&app, "ana", "agent").await;
    let (s, h, _) = page(&app, None, "/ui/cases/c_01?x=1").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/ui/login?next=/ui/cases/c_01%3Fx%3D1");

    let (s, h, body) = page(&app, None, "/ui/login").await;
    assert_eq!(s, StatusCode::OK);
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
    assert!(!body.contains("<script>"), "no inline script");
    assert!(!body.contains("http://") && !body.contains("https://"));
    let (s, h, js) = page(&app, None, "/ui/assets/app.js").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.contains("EventSource"));

    let ana = cookie(&app, "ana").await;
    let (s, h, body) = page(&app, Some(&ana), "/ui/admin/keys").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(h.contains_key("content-security-policy"));
    assert!(body.contains("keys.manage"), "{body}");
    let (s, _, body) = page(&app, Some(&ana), "/ui/dashboard").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _, body) = page(&app, Some(&ana), "/ui/admin/retention").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("privacy.manage"), "{body}");
    // An agent reads the watchlists but is offered no way to change them.
    let (s, _, body) = page(&app, Some(&ana), "/ui/admin/watchlists").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(!body.contains("add-terms"), "{body}");

    let (s, _, body) = page(&app, Some(&ana), "/ui/inbox?status=sleeping").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("unknown status `sleeping`"), "{body}");
    let (s, _, body) = page(&app, Some(&ana), "/ui/inbox?limit=abc&sentiment=grumpy").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _, _) = page(&app, Some(&ana), "/ui/cases/not-a-case").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = page(&app, Some("sb_session=forged"), "/ui/inbox").await;
    assert_eq!(
        s,
        StatusCode::SEE_OTHER,
        "an unknown session signs in again"
    );
}

#[tokio::test]
async fn an_analyst_sees_cases_redacted_and_a_regional_agent_only_their_region() {
    let (app, _graph) = rig().await;
    user(&app, "ana", "agent").await;
    user(&app, "al", "analyst").await;
    user(&app, "eve", "agent").await;
    app.store
        .set_user_regions("eve", Some(&["eu".to_owned()]))
        .await
        .unwrap();
    let (s, _, v) = app
        .post(
            json!({"source": "x", "external_id": "r-1", "author": {"handle": "@zoe"},
            "text": "My card 4111 1111 1111 1111 was charged twice", "region": "us"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let m = app.processed(v["id"].as_str().unwrap()).await;
    let case = m["case_id"].as_str().unwrap().to_owned();

    let al = cookie(&app, "al").await;
    let (s, _, body) = page(&app, Some(&al), "/ui/inbox").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(&case) && body.contains("[redacted]"),
        "{body}"
    );
    assert!(!body.contains("charged twice"), "{body}");
    let (s, _, body) = page(&app, Some(&al), &format!("/ui/cases/{case}")).await;
    assert_eq!(s, StatusCode::OK);
    // The whole number, not a fragment: timestamps in the page can hold "4111".
    assert!(
        !body.contains("4111 1111 1111 1111") && !body.contains("@zoe"),
        "{body}"
    );
    assert!(
        !body.contains("id=\"reply-form\""),
        "an analyst cannot reply"
    );

    let ana = cookie(&app, "ana").await;
    let (_, _, body) = page(&app, Some(&ana), &format!("/ui/cases/{case}")).await;
    assert!(body.contains("charged twice") && body.contains("id=\"reply-form\""));

    let eve = cookie(&app, "eve").await;
    let (_, _, body) = page(&app, Some(&eve), "/ui/inbox").await;
    assert!(
        !body.contains(&case),
        "a case held in another region is not listed"
    );
    let (s, _, body) = page(&app, Some(&eve), &format!("/ui/cases/{case}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.contains("region"), "{body}");

    let (_, audit) = app.get("/api/v1/audit?limit=500").await;
    let views = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "GET /ui/cases/{id}")
        .count();
    assert_eq!(views, 3, "each case view is in the audit trail: {audit}");
}

/// Screenshots of a running server with real traffic, for the README: start
/// `switchboard demo`, let it run a few minutes, then
/// `SWITCHBOARD_UI_URL=http://127.0.0.1:8080 SWITCHBOARD_UI_LOGIN=admin SWITCHBOARD_UI_PASSWORD=…
/// cargo test -p switchboard-web --test ui -- --ignored screenshots_of_a_running_server`.
#[tokio::test]
#[ignore = "needs a running server; see the doc comment"]
async fn screenshots_of_a_running_server() {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("set {n}"));
    let (url, login, password) = (
        var("SWITCHBOARD_UI_URL"),
        var("SWITCHBOARD_UI_LOGIN"),
        var("SWITCHBOARD_UI_PASSWORD"),
    );
    step(Browser::launch(), move |b| {
        b.goto(&format!("{url}/ui/login?next=/ui/inbox"));
        b.wait_for("document.getElementById('login-form')", "the sign-in form");
        b.eval(&format!(
            "document.getElementById('login').value = {login:?}; \
             document.getElementById('password').value = {password:?}; \
             document.getElementById('login-form').requestSubmit(); true"
        ));
        b.wait_for("document.getElementById('inbox')", "the inbox");
        b.wait_for(
            "document.querySelectorAll('#inbox-rows tr').length > 0",
            "cases",
        );
        b.screenshot("demo-inbox");
        b.press("j");
        b.press("Enter");
        b.wait_for("document.querySelector('article.case')", "a case");
        b.wait_for(
            "!document.getElementById('suggestions').textContent.includes('Loading')",
            "suggestions",
        );
        b.screenshot("demo-case");
        for (path, name) in [
            ("/ui/dashboard", "demo-dashboard"),
            ("/ui/alerts", "demo-alerts"),
        ] {
            b.goto(&format!("{url}{path}"));
            b.wait_for("document.querySelector('main h1')", path);
            b.screenshot(name);
        }
        // The newest incident, when the demo's outage has opened one.
        let incident =
            b.eval("(document.querySelector('a[href^=\"/ui/incidents/\"]') || {}).href || ''");
        if let Some(href) = incident.as_str().filter(|h| !h.is_empty()) {
            b.goto(href);
            b.wait_for("document.querySelector('main h1')", "an incident");
            b.screenshot("demo-incident");
        }
        only_our_origin(b, &url);
    })
    .await;
}
