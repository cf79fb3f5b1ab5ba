//! Scaled out: `serve` and `worker` processes sharing PostgreSQL and NATS JetStream
//! (`SWITCHBOARD_TEST_PG_URL`, `SWITCHBOARD_TEST_NATS_URL`; `.ci/run` provides both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{MessageId, Stage};
use sb_store::{CaseFilter, Page, PgStore, Store};
use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, free_port};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One installation: its own PostgreSQL schema and JetStream stream.
static CLUSTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Cluster {
    store: PgStore,
    db_url: String,
    bus_url: String,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn new() -> Option<(Self, tokio::sync::MutexGuard<'static, ()>)> {
        let (Ok(pg), Ok(nats)) = (
            std::env::var("SWITCHBOARD_TEST_PG_URL"),
            std::env::var("SWITCHBOARD_TEST_NATS_URL"),
        ) else {
            eprintln!("PostgreSQL or NATS not configured; scale-out not tested here");
            return None;
        };
        // One cluster at a time: each runs several processes with their own connection pools,
        // and two at once would exceed the database's connection limit on a small machine.
        let serial = CLUSTERS.lock().await;
        let run = ulid::Ulid::generate().to_string().to_lowercase();
        let schema = format!("e2e_{run}");
        let store = PgStore::open_in_schema(&pg, &schema).await.unwrap();
        let sep = if pg.contains('?') { '&' } else { '?' };
        Some((
            Self {
                store,
                db_url: format!("{pg}{sep}options[search_path]={schema}"),
                bus_url: format!("{nats}?stream=E2E{}", run.to_uppercase()),
                dir: tempfile::tempdir().unwrap(),
            },
            serial,
        ))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = bin();
        let config = self.dir.path().join("switchboard.toml");
        if config.exists() {
            c.args(["--config", config.to_str().unwrap()]);
        }
        c.args(args)
            .env("SWITCHBOARD_DATABASE_URL", &self.db_url)
            .env("SWITCHBOARD_BUS_URL", &self.bus_url)
            .env("SWITCHBOARD_DATA_DIR", self.dir.path())
            .env("SWITCHBOARD_ADMIN_KEY", "sb_scale")
            .env("SWITCHBOARD_PIPELINE_SWEEP_SECS", "1")
            .env("SWITCHBOARD_OUTBOX_LEASE_SECS", "3")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn serve(&self, port: u16) -> Kill {
        let mut c = self.command(&["serve"]);
        c.env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"));
        let child = Kill(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    fn worker(&self) -> Kill {
        Kill(self.command(&["worker"]).spawn().unwrap())
    }

    fn simulate(&self, port: u16, messages: u32, seed: u32, acks: &Path) -> Child {
        bin()
            .args(["simulate", "--url", &format!("http://127.0.0.1:{port}")])
            .args(["--rate", "0", "--duration", "120", "--concurrency", "16"])
            .args([
                "--messages",
                &messages.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args(["--customers", "300", "--ack-log", acks.to_str().unwrap()])
            .env("SWITCHBOARD_API_KEY", "sb_scale")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn acks(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for the pipeline to finish, then checks every acknowledged message exists
    /// exactly once, went through every stage, and joined exactly one case exactly once.
    async fn check(&self, acked: &[(String, String)]) {
        let store = &self.store;
        let deadline = Instant::now() + Duration::from_secs(90);
        while store.counts().await.unwrap().unprocessed > 0 {
            assert!(Instant::now() < deadline, "the workers did not finish");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let ids: HashSet<&str> = acked.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids.len(), acked.len(), "an acknowledgement was given twice");
        for (ext, id) in acked {
            let m = store
                .message(&MessageId::parse(id).unwrap())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged message {id} was lost"));
            assert_eq!(&m.external_id, ext);
            assert_eq!(m.stage, Stage::Processed);
            assert!(m.case_id.is_some() && m.enrichment.is_some());
        }
        let counts = store.counts().await.unwrap();
        assert!(counts.messages >= acked.len() as i64);
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
                assert_eq!(
                    store.case_messages(&c.id).await.unwrap().len() as i64,
                    c.message_count,
                    "case {} counted a message twice or missed one",
                    c.id
                );
                total += c.message_count;
            }
        }
        assert_eq!(
            total, counts.messages,
            "every message joined exactly one case once"
        );
    }
}

/// An SLA policy, a queue and a tagging rule, so the drill can count their effects.
const WORKFLOW: &str = r#"
[[workflow.sla]]
name = "all"
first_response_mins = 60
resolution_mins = 1440

[[workflow.queues]]
name = "social"

[[workflow.rules]]
name = "complaints"
on = ["case.opened", "message.received"]
when = [{ field = "intent", op = "eq", value = "complaint" }]
then = [{ action = "tag", value = "complaint" }]
"#;

impl Cluster {
    /// Waits for the case workflow to finish, then checks each case's workflow effects
    /// happened once: one SLA policy with its two clocks started once, one queue, each tag
    /// added once.
    async fn check_workflow(&self) {
        let store = &self.store;
        let deadline = Instant::now() + Duration::from_secs(90);
        while store.pending_case_work().await.unwrap() > 0 {
            assert!(
                Instant::now() < deadline,
                "the case workflow did not finish"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let mut before = None;
        let mut cases = 0;
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
                let events = store.case_events(&c.id).await.unwrap();
                let count = |k: &str| events.iter().filter(|e| e.kind == k).count();
                assert_eq!(count("sla.policy"), 1, "case {}: {events:?}", c.id);
                assert_eq!(count("sla.activate"), 2, "case {}: {events:?}", c.id);
                assert_eq!(count("queued"), 1, "case {}", c.id);
                assert!(count("tagged") <= 1, "case {}: {events:?}", c.id);
                assert_eq!(
                    count("tagged") == 1,
                    c.tags.contains(&"complaint".to_owned()),
                    "case {}",
                    c.id
                );
                cases += 1;
            }
        }
        assert!(cases > 0);
    }
}

fn read_acks(path: &Path) -> Vec<(String, String)> {
    std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(|l| {
            let l = l.unwrap();
            let (e, i) = l.split_once(' ').unwrap();
            (e.to_owned(), i.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_workers_share_postgres_and_jetstream() {
    let Some((cluster, _serial)) = Cluster::new().await else {
        return;
    };
    let port = free_port();
    let _serve = cluster.serve(port);
    let _workers = [cluster.worker(), cluster.worker()];
    let acks = cluster.acks("acks.txt");
    let out = cluster
        .simulate(port, 1500, 1, &acks)
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acked = read_acks(&acks);
    assert_eq!(
        acked.len(),
        1500,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    cluster.check(&acked).await;
}

/// Two servers and three workers; 20,000 messages; one worker and one server are killed with
/// SIGKILL mid-way and restarted. Every acknowledged message exists exactly once and every
/// case effect happened once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_server_and_a_worker_mid_stream_loses_and_doubles_nothing() {
    let Some((cluster, _serial)) = Cluster::new().await else {
        return;
    };
    // Every process also dispatches the outbox to a webhook receiver (the one outside
    // system, faked): 2,000 notifications are waiting when the processes start.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_millis(400)))
        .mount(&receiver)
        .await;
    std::fs::write(
        cluster.dir.path().join("switchboard.toml"),
        format!(
            "[outbound.webhook]\nurl = \"{}/hook\"\nsecret = \"scale-secret\"\n{WORKFLOW}",
            receiver.uri()
        ),
    )
    .unwrap();
    let items: Vec<_> = (0..2_000)
        .map(|i| sb_domain::NewOutboxItem {
            target: "webhook".into(),
            dedup_key: format!("scale:{i}"),
            payload: serde_json::json!({
                "type": "notification", "action": "trigger", "dedup_key": format!("scale-{i}"),
                "summary": "scale test", "source": "switchboard", "severity": "info",
            }),
            subject: Some(format!("scale-{i}")),
        })
        .collect();
    cluster
        .store
        .enqueue(&items, sb_domain::Timestamp(0))
        .await
        .unwrap();

    let ports = [free_port(), free_port()];
    let mut servers = vec![cluster.serve(ports[0]), cluster.serve(ports[1])];
    let mut workers = vec![cluster.worker(), cluster.worker(), cluster.worker()];
    let acks = [cluster.acks("a.txt"), cluster.acks("b.txt")];
    let sims = [
        cluster.simulate(ports[0], 10_000, 11, &acks[0]),
        cluster.simulate(ports[1], 10_000, 12, &acks[1]),
    ];
    // Mid-way: wait until a good share has been acknowledged, then kill.
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.store.counts().await.unwrap().messages < 4_000 {
        assert!(Instant::now() < deadline, "traffic did not flow");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(workers.remove(0)); // SIGKILL
    drop(servers.remove(1)); // SIGKILL
    tokio::time::sleep(Duration::from_millis(700)).await;
    workers.push(cluster.worker());
    servers.push(cluster.serve(ports[1]));

    let mut acked = Vec::new();
    let mut reports = String::new();
    for (sim, path) in sims.into_iter().zip(&acks) {
        let out = sim.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push_str(&String::from_utf8_lossy(&out.stdout));
        acked.extend(read_acks(path));
    }
    assert!(
        reports.contains("failed"),
        "the killed server must have cut requests off:\n{reports}"
    );
    // Enough traffic that the kills land mid-stream; how fast it flows is measured by the
    // benchmarks, not here (a loaded CI machine may be several times slower).
    assert!(
        acked.len() > 3_000,
        "{} acknowledged\n{reports}",
        acked.len()
    );
    cluster.check(&acked).await;
    cluster.check_workflow().await;

    // Every outbox item was delivered; the receiver saw each once. A process killed between
    // sending and recording can only cause a resend after its lease, which the receiver would
    // see under the same Idempotency-Key; none may be missing.
    let deadline = Instant::now() + Duration::from_secs(60);
    let page = sb_store::Page {
        before: None,
        limit: 10,
    };
    while !cluster
        .store
        .list_outbox(Some(sb_domain::OutboxStatus::Pending), &page)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let received = receiver.received_requests().await.unwrap();
    let mut keys: Vec<String> = received
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    let sent = keys.len();
    keys.sort();
    keys.dedup();
    eprintln!("outbox: {sent} deliveries for {} items", keys.len());
    assert_eq!(keys.len(), 2_000, "every item reached the receiver");
    assert!(
        sent - keys.len() <= 64,
        "at most the killed processes' leased batches again: {sent}"
    );
}

/// The routing a supervisor saves on a server reaches a worker process on the same database
/// within seconds — the worker routes the next case by it — and survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_saved_on_a_server_is_followed_by_the_workers_and_kept_across_restarts() {
    let Some((cluster, _serial)) = Cluster::new().await else {
        return;
    };
    std::fs::write(cluster.dir.path().join("switchboard.toml"), WORKFLOW).unwrap();
    let port = free_port();
    let mut c = cluster.command(&["serve"]);
    c.env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_PIPELINE_IN_SERVE", "false");
    let serve = Kill(c.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _worker = cluster.worker();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/v1");
    let get = async |path: &str| -> serde_json::Value {
        let r = http
            .get(format!("{url}{path}"))
            .bearer_auth("sb_scale")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    };
    let routing = get("/workflow/routing").await;
    assert_eq!(routing["source"], "config", "{routing}");
    let document = format!(
        "{}\n[[rules]]\nname = \"saved\"\non = [\"case.opened\"]\nwhen = []\nthen = [{{ action = \"tag\", value = \"saved-routing\" }}]\n",
        routing["document"].as_str().unwrap()
    );
    let r = http
        .put(format!("{url}/workflow/routing"))
        .bearer_auth("sb_scale")
        .json(&serde_json::json!({"document": document, "base_version": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The worker looks for saved routing every 5 seconds; the next case after that is
    // tagged by the saved rule, by the worker (the server runs no pipeline).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let r = http
        .post(format!("{url}/messages"))
        .bearer_auth("sb_scale")
        .json(
            &serde_json::json!({"source": "x", "external_id": "after-save",
            "author": "@routing_check", "text": "Where is my parcel?"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let tags = loop {
        let m = get(&format!("/messages/{id}")).await;
        if let Some(case) = m["case_id"].as_str() {
            let c = get(&format!("/cases/{case}")).await;
            if c["workflow"]["sla_policy"] == "all" {
                break c["tags"].clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not work the case"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        tags.as_array()
            .unwrap()
            .contains(&serde_json::json!("saved-routing")),
        "{tags}"
    );

    drop(serve);
    let port = free_port();
    let _serve = cluster.serve(port);
    let url = format!("http://127.0.0.1:{port}/api/v1");
    let r = http
        .get(format!("{url}/workflow/routing"))
        .bearer_auth("sb_scale")
        .send()
        .await
        .unwrap();
    let after: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (after["version"].as_i64(), after["source"].as_str()),
        (Some(1), Some("saved"))
    );
    assert_eq!(after["summary"]["rules"], 2, "{after}");
}
