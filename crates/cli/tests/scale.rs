//! Scaled out: `serve` and `worker` processes sharing PostgreSQL and NATS JetStream
//! (`SWITCHBOARD_TEST_PG_URL`, `SWITCHBOARD_TEST_NATS_URL`; `.ci/run` provides both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{MessageId, Stage};
use sb_store::{CaseFilter, Page, PgStore, Store};
use std::io::BufRead;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SWITCHBOARD_") {
            c.env_remove(k);
        }
    }
    c.env("SWITCHBOARD_LOG", "warn");
    c
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_workers_share_postgres_and_jetstream() {
    let (Ok(pg), Ok(nats)) = (
        std::env::var("SWITCHBOARD_TEST_PG_URL"),
        std::env::var("SWITCHBOARD_TEST_NATS_URL"),
    ) else {
        eprintln!("PostgreSQL or NATS not configured; scale-out not tested here");
        return;
    };
    let run = ulid::Ulid::generate().to_string().to_lowercase();
    let schema = format!("e2e_{run}");
    let store = PgStore::open_in_schema(&pg, &schema).await.unwrap();
    let sep = if pg.contains('?') { '&' } else { '?' };
    let db_url = format!("{pg}{sep}options[search_path]={schema}");
    let bus_url = format!("{nats}?stream=E2E{}", run.to_uppercase());
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = |c: &mut Command| {
        c.env("SWITCHBOARD_DATABASE_URL", &db_url)
            .env("SWITCHBOARD_BUS_URL", &bus_url)
            .env("SWITCHBOARD_DATA_DIR", dir.path())
            .env("SWITCHBOARD_ADMIN_KEY", "sb_scale")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    };
    let mut serve = bin();
    serve
        .arg("serve")
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"));
    env(&mut serve);
    let _serve = Kill(serve.spawn().unwrap());
    let _workers: Vec<Kill> = (0..2)
        .map(|_| {
            let mut w = bin();
            w.arg("worker");
            env(&mut w);
            Kill(w.spawn().unwrap())
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let acks = dir.path().join("acks.txt");
    let out = bin()
        .args([
            "simulate",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--rate",
            "0",
        ])
        .args([
            "--duration",
            "60",
            "--messages",
            "1500",
            "--concurrency",
            "16",
        ])
        .args(["--customers", "200", "--ack-log", acks.to_str().unwrap()])
        .env("SWITCHBOARD_API_KEY", "sb_scale")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acked: Vec<(String, String)> = std::io::BufReader::new(std::fs::File::open(&acks).unwrap())
        .lines()
        .map(|l| {
            let l = l.unwrap();
            let (e, i) = l.split_once(' ').unwrap();
            (e.to_owned(), i.to_owned())
        })
        .collect();
    assert_eq!(
        acked.len(),
        1500,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    while store.counts().await.unwrap().unprocessed > 0 {
        assert!(Instant::now() < deadline, "the workers did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (ext, id) in &acked {
        let m = store
            .message(&MessageId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&m.external_id, ext);
        assert_eq!(m.stage, Stage::Processed);
        assert!(m.case_id.is_some() && m.enrichment.is_some());
    }
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.messages, 1500);
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
                c.message_count
            );
            total += c.message_count;
        }
    }
    assert_eq!(total, 1500, "every message joined exactly one case once");
}
