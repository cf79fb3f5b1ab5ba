//! The disruption scenario, end to end on the real binary: a burst of "recall" and "burnt"
//! complaints about the X200 in eu-west → a rule alert → PagerDuty triggered → an incident
//! from the alert → a disruption message drafted from an approved template for exactly the
//! affected customers (not the X200 fans in us-east, not the Z9 complainers in eu-west, not
//! the buyer who opted out) → nothing sent until a supervisor approves → one DM per customer
//! through the X connector, none twice. PagerDuty and X are wiremock fakes; everything else
//! is real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sb_disruption_admin";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now_rfc3339(offset_s: i64) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + offset_s * 1000;
    sb_domain::Timestamp::from_millis(ms).to_rfc3339()
}

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The X DMs received so far, as (recipient path segment, text).
async fn dms(x: &MockServer) -> Vec<(String, String)> {
    x.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let to = r
                .url
                .path()
                .split('/')
                .nth(4)
                .unwrap_or_default()
                .to_owned();
            (to, body["text"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// The server's Prometheus metrics text, if it answers.
    async fn metrics(&self) -> Option<String> {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()
    }

    async fn call(
        &self,
        m: reqwest::Method,
        p: &str,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(m, format!("{}/api/v1{p}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, p: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, p, key, Some(body)).await
    }

    async fn get(&self, p: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, p, key, None).await
    }
}

/// Starts `switchboard serve` in `dir` with the X200 rule paging PagerDuty and X as the
/// platform connector, and waits until it answers.
async fn serve(dir: &std::path::Path, pd: &MockServer, x: &MockServer) -> (Kill, Api) {
    std::fs::write(dir.join("watch.csv"), "products,X200\nproducts,Z9\n").unwrap();
    std::fs::write(
        dir.join("rules.toml"),
        r#"
[[rules]]
id = "x200-eu"
name = "X200 complaints in a region"
series = "watch:products:X200|region:*"
severity = "critical"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("switchboard.toml"),
        format!(
            r#"
[nlp]
watchlist = "{watch}"

[alerts]
rules = "{rules}"
notify = ["pagerduty"]

[outbound.pagerduty]
routing_key = "0123456789abcdef0123456789abcdef"
base_url = "{pd}"

[outbound.x]
base_url = "{x}"
tokens = {{ brand = "x-user-token" }}
"#,
            watch = dir.join("watch.csv").display(),
            rules = dir.join("rules.toml").display(),
            pd = pd.uri(),
            x = x.uri(),
        ),
    )
    .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SWITCHBOARD_") {
            cmd.env_remove(k);
        }
    }
    let server = Kill(
        cmd.args([
            "--config",
            dir.join("switchboard.toml").to_str().unwrap(),
            "serve",
        ])
        .env("SWITCHBOARD_LOG", "warn")
        .env("SWITCHBOARD_DATA_DIR", dir.join("data"))
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_ADMIN_KEY", KEY)
        .env("SWITCHBOARD_PIPELINE_SWEEP_SECS", "1")
        // A killed server may hold an outbox item mid-attempt: its lease is what frees it
        // after the restart, so keep it shorter than the tests' waits.
        .env("SWITCHBOARD_OUTBOX_LEASE_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    wait_for("the server", async || {
        api.http
            .get(format!("{}/healthz", api.base))
            .send()
            .await
            .ok()
    })
    .await;
    (server, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_burst_ends_in_one_approved_message_to_each_affected_customer() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "k"}),
        ))
        .mount(&pd)
        .await;
    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/2/dm_conversations/with/[^/]+/messages$"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"data": {"dm_conversation_id": "c-1", "dm_event_id": "e-1"}}),
            ),
        )
        .mount(&x)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let (_server, api) = serve(dir.path(), &pd, &x).await;

    // Thirty angry X200 owners in eu-west, X200 fans in us-east, Z9 complaints in eu-west.
    let mut ingest = Vec::new();
    for i in 0..30 {
        let text = if i % 2 == 0 {
            "My X200 kettle burnt the counter. Is there a recall?"
        } else {
            "X200 kettle started smoking, this is dangerous. Recall it!"
        };
        ingest.push((format!("burst-{i}"), format!("@buyer{i}"), text, "eu-west"));
    }
    for i in 0..5 {
        ingest.push((
            format!("calm-{i}"),
            format!("@fan{i}"),
            "Love my X200, thanks!",
            "us-east",
        ));
    }
    for i in 0..3 {
        ingest.push((
            format!("z9-{i}"),
            format!("@blend{i}"),
            "The Z9 blender lid cracked, so annoying",
            "eu-west",
        ));
    }
    for (ext, author, text, region) in &ingest {
        let (s, v) = api
            .post(
                "/messages",
                KEY,
                json!({"source": "x", "channel": "brand", "external_id": ext,
                "author": author, "text": text, "region": region, "created_at": now_rfc3339(-600)}),
            )
            .await;
        assert_eq!(s, 202, "{v}");
    }

    // The alert, PagerDuty, and the incident operations confirm.
    let alert = wait_for("the rule alert", async || {
        let (_, v) = api.get("/alerts", KEY).await;
        v["items"]
            .as_array()?
            .iter()
            .find(|a| a["kind"] == "rule")
            .cloned()
    })
    .await;
    assert_eq!(alert["volume"], 30, "{alert}");
    let dedup = alert["dedup_key"].as_str().unwrap().to_owned();
    wait_for("the PagerDuty trigger", async || {
        pd.received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .find(|r| {
                let e: Value = serde_json::from_slice(&r.body).unwrap();
                e["dedup_key"] == dedup.as_str() && e["event_action"] == "trigger"
            })
            .map(|_| ())
    })
    .await;
    let (s, incident) = api
        .post("/incidents", KEY, json!({"alert_id": alert["id"]}))
        .await;
    assert_eq!(s, 201, "{incident}");
    let confirmed = Instant::now();
    let incident_id = incident["id"].as_str().unwrap().to_owned();

    // A supervisor to approve; the recall text approved beforehand (four eyes).
    let (s, lead) = api
        .post(
            "/keys",
            KEY,
            json!({"name": "care lead", "role": "supervisor"}),
        )
        .await;
    assert_eq!(s, 201, "{lead}");
    let lead = lead["key"].as_str().unwrap().to_owned();
    let (s, t) = api
        .post("/templates", KEY, json!({"key": "x200_recall", "locale": "en",
            "body": "Hi {{customer.first_name | \"there\"}}, we are recalling the X200 kettle: please stop using it. {{status.X200 | \"We will write again with replacement details.\"}}"}))
        .await;
    assert_eq!(s, 201, "{t}");
    let state = format!("/templates/x200_recall/versions/{}/state", t["version"]);
    assert_eq!(
        api.post(&state, KEY, json!({"state": "pending_approval"}))
            .await
            .0,
        200
    );
    assert_eq!(
        api.post(&state, &lead, json!({"state": "approved"}))
            .await
            .0,
        200
    );

    // One buyer asked not to be contacted.
    let (_, buyer3) = api.get("/cases?limit=500", KEY).await;
    let olga_case = buyer3["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["subject"].as_str().is_some_and(|s| s.contains("X200")) && c["region"] == "eu-west"
        })
        .cloned()
        .unwrap();
    let opted_out = olga_case["customer_id"].as_str().unwrap().to_owned();
    let r = api
        .http
        .put(format!(
            "{}/api/v1/customers/{opted_out}/consent/x",
            api.base
        ))
        .bearer_auth(KEY)
        .json(&json!({"opted_out": true, "source": "customer replied STOP"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);

    // The draft: exactly the 30 eu-west X200 customers, one of them left out.
    let (s, draft) = api
        .post(
            &format!("/incidents/{incident_id}/disruption"),
            KEY,
            json!({
                "template": "x200_recall",
                "segment": {"regions": ["eu-west"], "about": ["X200"]},
            }),
        )
        .await;
    assert_eq!(s, 201, "{draft}");
    let recipients = draft["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 30, "{draft}");
    let left_out: Vec<&Value> = recipients
        .iter()
        .filter(|r| !r["excluded"].is_null())
        .collect();
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0]["customer_id"], opted_out.as_str());
    assert_eq!(left_out[0]["excluded"], "opted_out");
    assert_eq!(draft["progress"]["recipients"], 29);
    assert_eq!(draft["record"]["facts"][0]["state"], "missing");
    let id = draft["id"].as_str().unwrap().to_owned();

    // Nothing goes out before approval.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(dms(&x).await.is_empty());

    let (s, approved) = api
        .post(
            &format!("/disruptions/{id}/decision"),
            &lead,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(s, 200, "{approved}");
    let (s, again) = api
        .post(
            &format!("/disruptions/{id}/decision"),
            &lead,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!((s, again["code"].as_str()), (409, Some("already_decided")));

    let sent = wait_for("every DM", async || {
        let (_, d) = api.get(&format!("/disruptions/{id}"), KEY).await;
        (d["status"] == "sent").then_some(d)
    })
    .await;
    let elapsed = confirmed.elapsed();
    eprintln!("scenario: incident confirmed to every disruption message delivered in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(15 * 60));
    assert_eq!(sent["progress"]["delivered"], 29, "{sent}");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let got = dms(&x).await;
    assert_eq!(got.len(), 29, "one DM per customer, none twice");
    let to: BTreeSet<&str> = got.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(to.len(), 29);
    assert!(to.iter().all(|h| h.starts_with("@buyer")), "{to:?}");
    let (_, who) = api.get(&format!("/customers/{opted_out}"), KEY).await;
    let opted_handle = who["identities"][0]["handle"].as_str().unwrap().to_owned();
    assert!(opted_handle.starts_with("@buyer"), "{who}");
    assert!(
        !to.contains(opted_handle.as_str()),
        "{opted_handle} opted out"
    );
    for (_, text) in &got {
        assert!(
            text.starts_with("Hi ")
                && text.contains("recalling the X200")
                && text.ends_with("We will write again with replacement details."),
            "{text}"
        );
    }

    let (_, inc) = api.get(&format!("/incidents/{incident_id}"), KEY).await;
    assert!(
        inc["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "message_sent"
                && e["text"].as_str().unwrap().contains("29 customer message")),
        "{inc}"
    );
}

/// Fifteen X200 complaints in one region, all written at one instant in the middle of the
/// five-minute listening bucket `minutes_ago` minutes back, so the burst never straddles two
/// buckets (each below the rule's threshold).
async fn burst(api: &Api, tag: &str, region: &str, minutes_ago: i64) {
    const BUCKET_S: i64 = 300;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let then = now_s - minutes_ago * 60;
    let written = now_rfc3339(then - then.rem_euclid(BUCKET_S) + BUCKET_S / 2 - now_s);
    for i in 0..15 {
        let (s, v) = api
            .post(
                "/messages",
                KEY,
                json!({"source": "x", "channel": "brand",
                "external_id": format!("{tag}-{i}"), "author": format!("@{tag}{i}"),
                "text": "My X200 kettle burnt, recall it!", "region": region,
                "created_at": written}),
            )
            .await;
        assert_eq!(s, 202, "{v}");
    }
}

async fn rule_alerts(api: &Api) -> Vec<Value> {
    let (_, v) = api.get("/alerts", KEY).await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "rule")
        .cloned()
        .collect()
}

/// Waits until the server's rule engine holds `n` silences.
async fn silences_loaded(api: &Api, n: usize) {
    wait_for(&format!("{n} silences loaded"), async || {
        let metrics = api.metrics().await?;
        metrics
            .lines()
            .filter_map(|l| l.strip_prefix("switchboard_alert_silences_loaded "))
            .any(|v| v.trim().parse::<f64>() == Ok(n as f64))
            .then_some(())
    })
    .await;
}

/// A silence set through the API reaches the running rule engine: a burst while it holds
/// pages nobody (and is counted as silenced); once it is ended, the rule's next breach pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_set_through_the_api_keeps_the_running_rule_quiet_until_it_is_ended() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "k"}),
        ))
        .mount(&pd)
        .await;
    let x = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_server, api) = serve(dir.path(), &pd, &x).await;

    let (s, silence) = api
        .post(
            "/silences",
            KEY,
            json!({"rule_id": "x200-eu", "minutes": 60,
            "reason": "recall announced; status page is up"}),
        )
        .await;
    assert_eq!(s, 201, "{silence}");
    // The engine loads silences at each sweep (every second here).
    silences_loaded(&api, 1).await;
    burst(&api, "quiet", "eu-west", 10).await;
    wait_for("the silenced firing", async || {
        let metrics = api.metrics().await?;
        metrics
            .lines()
            .any(|l| {
                l.starts_with("switchboard_alerts_suppressed_total")
                    && l.contains("silenced")
                    && l.contains("x200-eu")
            })
            .then_some(())
    })
    .await;
    assert!(rule_alerts(&api).await.is_empty());
    assert!(pd.received_requests().await.unwrap().is_empty());

    let (s, ended) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/silences/{}", silence["id"].as_str().unwrap()),
            KEY,
            None,
        )
        .await;
    assert_eq!(
        (s, ended["state"].as_str()),
        (200, Some("ended")),
        "{ended}"
    );
    silences_loaded(&api, 0).await;
    // A series judged during the silence is past; the rule's next breach is in another
    // region, which the silence (on the whole rule) would also have covered.
    burst(&api, "loud", "eu-north", 10).await;
    let fired = wait_for("the rule alert after the silence", async || {
        rule_alerts(&api).await.into_iter().next()
    })
    .await;
    assert_eq!(fired["volume"], 15, "{fired}");
    assert_eq!(
        fired["series"], "watch:products:X200|region:eu-north#x200-eu",
        "{fired}"
    );
    wait_for("the PagerDuty trigger", async || {
        (!pd.received_requests().await.unwrap_or_default().is_empty()).then_some(())
    })
    .await;
}

/// An approved disruption survives a crash: while X refuses (503, nothing posted) the server
/// is killed; after the restart the outbox delivers every message exactly once, and the
/// disruption is still decided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_messages_are_sent_once_across_a_crash() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pd = MockServer::start().await;
    let x = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/2/dm_conversations/with/[^/]+/messages$"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&x)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (server, api) = serve(dir.path(), &pd, &x).await;
    for i in 0..4 {
        let (s, v) = api
            .post(
                "/messages",
                KEY,
                json!({"source": "x", "channel": "brand",
                "external_id": format!("c-{i}"), "author": format!("@owner{i}"),
                "text": "My X200 kettle burnt, is there a recall?", "region": "eu-west"}),
            )
            .await;
        assert_eq!(s, 202, "{v}");
    }
    let (s, incident) = api
        .post(
            "/incidents",
            KEY,
            json!({"title": "X200 recall", "severity": "critical"}),
        )
        .await;
    assert_eq!(s, 201, "{incident}");
    let (_, lead) = api
        .post(
            "/keys",
            KEY,
            json!({"name": "care lead", "role": "supervisor"}),
        )
        .await;
    let lead = lead["key"].as_str().unwrap().to_owned();
    let (_, t) = api
        .post(
            "/templates",
            KEY,
            json!({"key": "recall", "locale": "en",
            "body": "We are recalling the X200 kettle; please stop using it."}),
        )
        .await;
    let state = format!("/templates/recall/versions/{}/state", t["version"]);
    assert_eq!(
        api.post(&state, KEY, json!({"state": "pending_approval"}))
            .await
            .0,
        200
    );
    assert_eq!(
        api.post(&state, &lead, json!({"state": "approved"}))
            .await
            .0,
        200
    );
    let draft = wait_for("all four customers", async || {
        let (s, d) = api
            .post(
                &format!("/incidents/{}/disruption", incident["id"].as_str().unwrap()),
                KEY,
                json!({"template": "recall", "segment": {"about": ["X200"]}}),
            )
            .await;
        (s == 201 && d["progress"]["recipients"] == 4).then_some(d)
    })
    .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let (s, _) = api
        .post(
            &format!("/disruptions/{id}/decision"),
            &lead,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(s, 200);
    wait_for("X refusing every message once", async || {
        let n = x.received_requests().await.unwrap_or_default().len();
        (n >= 4).then_some(())
    })
    .await;
    drop(server);

    x.reset().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/2/dm_conversations/with/[^/]+/messages$"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"data": {"dm_conversation_id": "c-1", "dm_event_id": "e-1"}}),
            ),
        )
        .mount(&x)
        .await;
    let (_server, api) = serve(dir.path(), &pd, &x).await;
    let sent = wait_for("every message after the restart", async || {
        let (_, d) = api.get(&format!("/disruptions/{id}"), KEY).await;
        (d["status"] == "sent").then_some(d)
    })
    .await;
    assert_eq!(sent["progress"]["delivered"], 4, "{sent}");
    let (s, again) = api
        .post(
            &format!("/disruptions/{id}/decision"),
            &lead,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!((s, again["code"].as_str()), (409, Some("already_decided")));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let got = dms(&x).await;
    let to: BTreeSet<&str> = got.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!((got.len(), to.len()), (4, 4), "{got:?}");
}

/// Watchlists change while the server runs: a term added through the API is matched in
/// messages processed from the next sweep on, beside the configuration file's terms; a file
/// term cannot be removed through the API; a removed term stops matching.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_term_added_through_the_api_is_matched_from_the_next_sweep() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pd = MockServer::start().await;
    let x = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_server, api) = serve(dir.path(), &pd, &x).await;

    let (s, lists) = api.get("/watchlists", KEY).await;
    assert_eq!(s, 200, "{lists}");
    assert_eq!(
        lists["lists"][0],
        json!({"list": "products", "terms": [
            {"term": "X200", "source": "config", "added_by": null, "added_at": null},
            {"term": "Z9", "source": "config", "added_by": null, "added_at": null},
        ]})
    );
    let (s, added) = api
        .post(
            "/watchlists/products/terms",
            KEY,
            json!({"terms": ["Kettle9", "x200", "#KettleRecall", "kettle9"]}),
        )
        .await;
    assert_eq!(s, 200, "{added}");
    assert_eq!(added["added"], json!(["Kettle9", "#KettleRecall"]));
    assert_eq!(added["already"], json!(["x200"]));
    for (p, body, field) in [
        (
            "/watchlists/Products/terms",
            json!({"terms": ["a"]}),
            "list",
        ),
        ("/watchlists/products/terms", json!({"terms": []}), "terms"),
        (
            "/watchlists/products/terms",
            json!({"terms": ["ok", " "]}),
            "terms[1]",
        ),
    ] {
        let (s, e) = api.post(p, KEY, body).await;
        assert_eq!(
            (s, e["code"].as_str(), e["field"].as_str()),
            (422, Some("invalid_field"), Some(field)),
            "{e}"
        );
    }

    let watched = async |text: &str| -> Vec<String> {
        let (s, m) = api
            .post(
                "/messages",
                KEY,
                json!({"source": "x", "external_id": ulid::Ulid::generate().to_string(),
                       "author": "@kettle_owner", "text": text}),
            )
            .await;
        assert_eq!(s, 202, "{m}");
        let id = m["id"].as_str().unwrap().to_owned();
        let m = wait_for("the message processed", async || {
            let (_, m) = api.get(&format!("/messages/{id}"), KEY).await;
            (m["stage"] == "processed").then_some(m)
        })
        .await;
        let mut terms: Vec<String> = m["enrichment"]["watch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["term"].as_str().unwrap().to_owned())
            .collect();
        terms.sort();
        terms
    };
    // Within two sweeps every process has rebuilt its watchlist.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        watched("my KETTLE9 caught fire, worse than the x200 #kettlerecall").await,
        ["#KettleRecall", "Kettle9", "X200"]
    );

    let (s, e) = api
        .call(
            reqwest::Method::DELETE,
            "/watchlists/products/terms/X200",
            KEY,
            None,
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("watch_term_in_config")));
    let (s, _) = api
        .call(
            reqwest::Method::DELETE,
            "/watchlists/products/terms/kettle9",
            KEY,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = api
        .call(
            reqwest::Method::DELETE,
            "/watchlists/products/terms/kettle9",
            KEY,
            None,
        )
        .await;
    assert_eq!(s, 404);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(watched("the kettle9 again, and the X200").await, ["X200"]);
}
