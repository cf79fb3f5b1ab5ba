//! The `switchboard` binary as a user runs it: help, bad input, import, and a crash in the
//! middle of live traffic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{MessageId, Stage};
use sb_store::{CaseFilter, Page, SqliteStore, Store};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, free_port, wait_for_port};

fn run(args: &[&str], dir: &Path) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["worker", "--help"],
        vec!["demo", "--help"],
        vec!["import", "--help"],
        vec!["simulate", "--help"],
    ] {
        let o = run(&cmd, dir.path());
        assert!(o.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage"),
            "{cmd:?}"
        );
    }
}

#[test]
fn bad_input_is_one_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["import", "missing.jsonl"],
        vec!["import", "data.txt"],
        vec![
            "simulate",
            "--url",
            "ftp://x",
            "--rate",
            "1",
            "--duration",
            "1",
            "--api-key",
            "k",
        ],
        vec![
            "simulate",
            "--url",
            "http://127.0.0.1:9",
            "--rate",
            "1",
            "--duration=-1",
            "--api-key",
            "k",
        ],
        vec!["--config", "nope.toml", "serve"],
        // Alert rules and outbound targets that cannot work stop start-up.
        vec!["--config", "bad-rules.toml", "serve"],
        vec!["--config", "unknown-notify.toml", "serve"],
        vec!["--config", "bad-outbound.toml", "serve"],
        vec!["--config", "missing-rules.toml", "serve"],
        // So does a case workflow that does not hold together.
        vec!["--config", "bad-workflow.toml", "serve"],
        // And retention, security limits or automation settings that make no sense.
        vec!["--config", "bad-retention.toml", "serve"],
        vec!["--config", "bad-security.toml", "serve"],
        vec!["--config", "bad-automation.toml", "serve"],
        vec![
            "simulate",
            "--url",
            "http://127.0.0.1:9",
            "--rate",
            "1",
            "--duration",
            "1",
        ],
        vec!["backup", "--out", "data.txt"],
        vec!["restore", "--from", "nope.backup"],
        // Arguments the parser refuses, before anything is created.
        vec!["demo", "--data-dir", "never", "--outage-after", "soon"],
        vec!["demo", "--data-dir", "never", "--outage-after", "-5"],
        vec!["demo", "--data-dir", "never", "--no-such-flag"],
    ];
    std::fs::write(dir.path().join("data.txt"), "x").unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rules]]\nid = \"bad id!\"\nname = \"x\"\nseries = \"all\"\nseverity = \"info\"\n\
         condition = { kind = \"threshold\", metric = \"volume\", op = \"above\", value = 1 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad-rules.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\n[alerts]\nrules = \"{}\"\n",
            dir.path().join("rules.toml").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("missing-rules.toml"),
        "listen = \"127.0.0.1:0\"\n[alerts]\nrules = \"/no/such/rules.toml\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("unknown-notify.toml"),
        "listen = \"127.0.0.1:0\"\n[alerts]\nnotify = [\"pagerduty\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad-outbound.toml"),
        "listen = \"127.0.0.1:0\"\n[outbound.slack]\nwebhook_url = \"not a url\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad-workflow.toml"),
        "listen = \"127.0.0.1:0\"\n[[workflow.sla]]\nname = \"vip\"\n\
         calendar = \"berlin\"\nfirst_response_mins = 60\n",
    )
    .unwrap();
    for (file, text) in [
        (
            "bad-retention.toml",
            "[privacy]\nretention = [{ class = \"secret\", days = 30 }]\n",
        ),
        ("bad-security.toml", "[security]\nsession_hours = 0\n"),
        (
            "bad-automation.toml",
            "[workflow.automation]\nwindow = 2\nmin_samples = 5\n",
        ),
    ] {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let expected = [
        ("bad-retention.toml", "no data class `secret`"),
        ("bad-security.toml", "security.session_hours"),
        ("bad-automation.toml", "workflow.automation"),
        ("bad-workflow.toml", "workflow.sla"),
        ("bad-rules.toml", "rule_invalid_id"),
        ("unknown-notify.toml", "no [outbound.pagerduty] section"),
        ("bad-outbound.toml", "outbound.slack.webhook_url"),
        ("missing-rules.toml", "cannot read alert rules"),
        ("backup", "already exists"),
        ("restore", "no backup"),
        ("demo", "see --help"),
    ];
    for args in cases {
        let o = run(&args, dir.path());
        if let Some((_, want)) = expected
            .iter()
            .find(|(k, _)| args.first() == Some(k) || args.get(1) == Some(k))
        {
            assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        }
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("switchboard: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}");
    }
    assert!(!dir.path().join("never").exists());
    let o = run(&["demo", "--outage-after", "soon"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'soon'") && stderr(&o).contains("--outage-after"));
    // Help is still the parser's, whole, and not an error.
    let o = run(&["demo", "--help"], dir.path());
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("--outage-after"));
    // A malformed environment variable is named.
    for (var, value) in [
        ("SWITCHBOARD_PIPELINE_BATCH", "many"),
        ("SWITCHBOARD_PIPELINE_LISTENING_HOLD_SECS", "a minute"),
    ] {
        let o = bin()
            .args(["serve"])
            .env(var, value)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!o.status.success(), "{var}");
        assert!(stderr(&o).contains(var), "{var}: {}", stderr(&o));
    }
}

async fn open_store(data_dir: &Path) -> SqliteStore {
    SqliteStore::open(&data_dir.join("switchboard.db"))
        .await
        .unwrap()
}

#[tokio::test]
async fn import_reports_bad_lines_by_number_and_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let jsonl = dir.path().join("in.jsonl");
    std::fs::write(
        &jsonl,
        [
            r#"{"source":"x","external_id":"1","author":"@ana","text":"My order is late, again. Very disappointed."}"#,
            r#"{"source":"x","external_id":"2","author":"@ana","text":"Hello? Anyone?"}"#,
            r#"{"source":"x","external_id":"3","text":"no author"}"#,
            "this is not json",
            "",
            r#"{"source":"email","external_id":"m-1","author":"bo@example.com","text":"Where can I find my invoice?"}"#,
            r#"{"source":"x","external_id":"1","author":"@ana","text":"My order is late, again. Very disappointed."}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let o = run(
        &[
            "import",
            jsonl.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "imported 3, duplicate 1, rejected 2"
    );
    let err = stderr(&o);
    assert!(
        err.contains("line 3: `author` is required (missing_field)"),
        "{err}"
    );
    assert!(err.contains("line 4: not valid JSON"), "{err}");

    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "source,external_id,author,author_name,text,region\n\
         facebook,fb-1,@carla,Carla Reis,\"Great service, thank you!\",eu\n\
         facebook,fb-2,@carla,Carla Reis,,eu\n\
         instagram,ig-1,@dan,,\"Is the blue one back in stock, \"\"soon\"\"?\",us\n",
    )
    .unwrap();
    let o = run(
        &[
            "import",
            csv.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "imported 2, duplicate 0, rejected 1"
    );
    assert!(
        stderr(&o).contains("line 3: `text` is required"),
        "{}",
        stderr(&o)
    );

    let store = open_store(&data).await;
    let c = store.counts().await.unwrap();
    assert_eq!(
        (c.messages, c.unprocessed),
        (5, 0),
        "imported messages went through the pipeline"
    );
    assert_eq!(c.customers, 4);
    assert_eq!(c.cases, 4, "ana's two messages share a case");
}

fn start_server(data: &Path, port: u16) -> Child {
    let child = bin()
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", data)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_ADMIN_KEY", "sb_durability")
        .env("SWITCHBOARD_PIPELINE_SWEEP_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    child
}

/// SIGKILL the server while `simulate` is sending; restart it. Every message that got a 202
/// is stored exactly once and goes through the pipeline, and every case effect happened once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_under_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acks = dir.path().join("acks.txt");
    let port = free_port();
    let mut server = start_server(&data, port);
    let sim = bin()
        .args([
            "simulate",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--rate",
            "800",
            "--duration",
            "6",
        ])
        .args([
            "--concurrency",
            "32",
            "--customers",
            "300",
            "--ack-log",
            acks.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_API_KEY", "sb_durability")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut server = start_server(&data, port);
    let out = sim.wait_with_output().unwrap();
    assert!(out.status.success());
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("failed"),
        "the crash must have cut some requests off:\n{report}"
    );

    let acked: Vec<(String, String)> = std::io::BufReader::new(std::fs::File::open(&acks).unwrap())
        .lines()
        .map(|l| {
            let l = l.unwrap();
            let (e, i) = l.split_once(' ').unwrap();
            (e.to_owned(), i.to_owned())
        })
        .collect();
    assert!(acked.len() > 300, "{} acknowledged\n{report}", acked.len());

    // Let the restarted server finish the pipeline, then stop it and inspect the store.
    let store = open_store(&data).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.counts().await.unwrap().unprocessed > 0 {
        assert!(
            Instant::now() < deadline,
            "pipeline did not complete after restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    for (ext, id) in &acked {
        let m = store
            .message(&MessageId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("lost {id}"));
        assert_eq!(&m.external_id, ext);
        assert_eq!(m.stage, Stage::Processed);
        assert!(m.case_id.is_some() && m.customer_id.is_some() && m.enrichment.is_some());
    }
    let counts = store.counts().await.unwrap();
    assert!(counts.messages >= acked.len() as i64);
    // Each message joined exactly one case exactly once: case message counts add up.
    let mut total = 0;
    let mut before = None;
    loop {
        let page = store
            .list_cases(
                &CaseFilter::default(),
                &Page {
                    before: before.clone(),
                    limit: 500,
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id.to_string());
        for c in &page {
            let thread = store.case_messages(&c.id).await.unwrap();
            assert_eq!(thread.len() as i64, c.message_count, "case {}", c.id);
            total += c.message_count;
        }
    }
    assert_eq!(total, counts.messages);
}

/// The operator's watchlist and industry terms from the configuration reach every stored
/// message; a missing file stops start-up with one line.
#[tokio::test]
async fn configured_watchlist_and_terms_are_applied_in_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("watch.csv"),
        "products,X200 charger\nlegal,lawyer\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("terms.csv"), "recall,-3.0\n").unwrap();
    let jsonl = dir.path().join("in.jsonl");
    std::fs::write(
        &jsonl,
        [
            r#"{"source":"x","external_id":"w1","author":"@fay","text":"Is the X200 charger part of the recall?"}"#,
            r#"{"source":"x","external_id":"w2","author":"@gus","text":"Thanks, all good now"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let o = bin()
        .args([
            "import",
            jsonl.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_NLP_WATCHLIST", dir.path().join("watch.csv"))
        .env(
            "SWITCHBOARD_NLP_SENTIMENT_TERMS",
            dir.path().join("terms.csv"),
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let store = open_store(&data).await;
    let page = store
        .list_cases(
            &CaseFilter::default(),
            &Page {
                before: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    let mut found = Vec::new();
    for c in &page {
        for m in store.case_messages(&c.id).await.unwrap() {
            found.push((m.external_id.clone(), m.enrichment.unwrap()));
        }
    }
    let (_, w1) = found.iter().find(|(e, _)| e == "w1").unwrap();
    assert_eq!(w1.watch.len(), 1, "{w1:?}");
    assert_eq!(
        (w1.watch[0].list.as_str(), w1.watch[0].term.as_str()),
        ("products", "X200 charger")
    );
    assert!(
        w1.sentiment_compound < 0.0,
        "the configured term `recall` weighs negative: {w1:?}"
    );
    let (_, w2) = found.iter().find(|(e, _)| e == "w2").unwrap();
    assert!(w2.watch.is_empty());

    let o = bin()
        .args([
            "import",
            jsonl.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_NLP_WATCHLIST", dir.path().join("missing.csv"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("missing.csv"), "{err}");
    // Nothing of the refused import was written.
    let fresh = dir.path().join("fresh");
    let o = bin()
        .args([
            "import",
            jsonl.to_str().unwrap(),
            "--data-dir",
            fresh.to_str().unwrap(),
        ])
        .env("SWITCHBOARD_NLP_WATCHLIST", dir.path().join("missing.csv"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(open_store(&fresh).await.counts().await.unwrap().messages, 0);
}

/// Webhook secrets reach `serve` from the environment: the Meta handshake and X's CRC answer,
/// and the generic endpoint, left unconfigured, says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secrets_are_read_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = bin()
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_META_VERIFY_TOKEN", "tok-123")
        .env("SWITCHBOARD_META_APP_SECRET", "app-secret-1")
        .env(
            "SWITCHBOARD_X_CONSUMER_SECRET",
            "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    let base = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let r = http
        .get(format!(
            "{base}/webhooks/meta?hub.mode=subscribe&hub.verify_token=tok-123&hub.challenge=42"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "42");
    let r = http
        .get(format!(
            "{base}/webhooks/x?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553"
        ))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["response_token"],
        "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
    );
    let r = http
        .post(format!("{base}/webhooks/generic/chat"))
        .header("x-switchboard-timestamp", "1700000000")
        .header(
            "x-switchboard-signature",
            format!("sha256={}", "0".repeat(64)),
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "webhook_not_configured");

    // Signed Meta deliveries, as the load generator sends them, are stored.
    let o = bin()
        .args([
            "simulate",
            "--url",
            &base,
            "--rate",
            "0",
            "--duration",
            "30",
        ])
        .args(["--messages", "200", "--meta-secret", "app-secret-1"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out} {}", stderr(&o));
    assert!(out.contains("accepted    200 (0 duplicate)"), "{out}");
    assert!(!out.contains("failed"), "{out}");
    let o = bin()
        .args([
            "simulate",
            "--url",
            &base,
            "--rate",
            "0",
            "--duration",
            "30",
        ])
        .args(["--messages", "5", "--meta-secret", "wrong-secret"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("failed      401: 5"), "{out}");
    child.kill().unwrap();
    child.wait().unwrap();
}
