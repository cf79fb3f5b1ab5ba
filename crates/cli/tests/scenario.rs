//! The operations scenario, end to end on the real binary: a burst of "recall" and "burnt"
//! complaints about one product in one region → a rule alert within one bucket plus the
//! sweep → PagerDuty triggered (a fake PagerDuty, the only thing not real) → an incident from
//! the alert, acknowledged and resolved, each state handed to PagerDuty under one key → a
//! debrief.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sb_scenario";

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

/// The PagerDuty events received so far, in order.
async fn pagerduty_events(pd: &MockServer) -> Vec<Value> {
    pd.received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_burst_pages_operations_and_becomes_an_incident() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pd = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(
            json!({"status": "success", "message": "Event processed", "dedup_key": "k"}),
        ))
        .mount(&pd)
        .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("watch.csv"), "products,X200\n").unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        r#"
[[rules]]
id = "x200-eu"
name = "X200 complaints in eu-west"
series = "watch:products:X200|region:eu-west"
severity = "critical"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("switchboard.toml"),
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
"#,
            watch = dir.path().join("watch.csv").display(),
            rules = dir.path().join("rules.toml").display(),
            pd = pd.uri(),
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
    let _server = Kill(
        cmd.args([
            "--config",
            dir.path().join("switchboard.toml").to_str().unwrap(),
            "serve",
        ])
        .env("SWITCHBOARD_LOG", "warn")
        .env("SWITCHBOARD_DATA_DIR", dir.path().join("data"))
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_ADMIN_KEY", KEY)
        .env("SWITCHBOARD_PIPELINE_SWEEP_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_for("the server", async || {
        http.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
    let api = |p: &str| format!("{base}/api/v1{p}");

    // Thirty angry customers in eu-west within one five-minute bucket ten minutes ago, and
    // the same product's ordinary chatter elsewhere.
    let started = Instant::now();
    for i in 0..30 {
        let text = if i % 2 == 0 {
            "My X200 kettle burnt the counter. Is there a recall?"
        } else {
            "X200 kettle started smoking, this is dangerous. Recall it!"
        };
        let r = http
            .post(api("/messages"))
            .bearer_auth(KEY)
            .json(&json!({"source": "x", "external_id": format!("burst-{i}"), "author": format!("@buyer{i}"),
                          "text": text, "region": "eu-west", "created_at": now_rfc3339(-600)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    for i in 0..5 {
        http.post(api("/messages"))
            .bearer_auth(KEY)
            .json(&json!({"source": "x", "external_id": format!("calm-{i}"), "author": format!("@fan{i}"),
                          "text": "Love my X200, thanks!", "region": "us-east", "created_at": now_rfc3339(-600)}))
            .send()
            .await
            .unwrap();
    }

    // The rule alert.
    let alert = wait_for("the rule alert", async || {
        let v: Value = http
            .get(api("/alerts"))
            .bearer_auth(KEY)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        v["items"]
            .as_array()?
            .iter()
            .find(|a| a["kind"] == "rule")
            .cloned()
    })
    .await;
    let to_alert = started.elapsed();
    eprintln!("scenario: first message to rule alert in {to_alert:?}");
    assert_eq!(alert["rule_id"], "x200-eu");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(
        alert["volume"], 30,
        "only the eu-west burst counts: {alert}"
    );
    // One bucket plus the sweep: the burst's bucket had already ended.
    assert!(to_alert < Duration::from_secs(301), "{to_alert:?}");
    let dedup = alert["dedup_key"].as_str().unwrap().to_owned();

    let trigger = wait_for("the PagerDuty trigger", async || {
        pagerduty_events(&pd)
            .await
            .into_iter()
            .find(|e| e["dedup_key"] == dedup)
    })
    .await;
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("x200-eu")
            || trigger["payload"]["summary"]
                .as_str()
                .unwrap()
                .contains("X200")
    );

    // An incident from the alert, worked to resolution.
    let r = http
        .post(api("/incidents"))
        .bearer_auth(KEY)
        .json(&json!({"alert_id": alert["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let incident: Value = r.json().await.unwrap();
    let id = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(incident["severity"], "critical");
    for (body, status) in [
        (
            json!({"status": "acknowledged", "owner": "ops-oncall", "note": "Pulling batch 7 from shelves"}),
            200,
        ),
        (json!({"status": "resolved"}), 200),
        (json!({"status": "exploded"}), 422),
    ] {
        let r = http
            .post(api(&format!("/incidents/{id}")))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
    }
    let actions = wait_for("the incident's PagerDuty events", async || {
        let acts: Vec<String> = pagerduty_events(&pd)
            .await
            .iter()
            .filter(|e| e["dedup_key"] == id.as_str())
            .map(|e| e["event_action"].as_str().unwrap().to_owned())
            .collect();
        (acts.len() == 3).then_some(acts)
    })
    .await;
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);

    let r = http
        .get(api(&format!("/incidents/{id}/debrief")))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let md = r.text().await.unwrap();
    assert!(md.contains("Pulling batch 7"), "{md}");
    assert!(md.contains(alert["id"].as_str().unwrap()), "{md}");
    // Nothing was sent twice: one event per key and action (the alert's own resolve may
    // follow once its series has been quiet for two buckets).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let all = pagerduty_events(&pd).await;
    let mut keys: Vec<(String, String)> = all
        .iter()
        .map(|e| {
            (
                e["dedup_key"].as_str().unwrap().to_owned(),
                e["event_action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "{all:?}");
    assert!(n == 4 || n == 5, "{all:?}");
}
