//! `switchboard demo` as a newcomer runs it: the banner's URL, key and login work, the
//! simulated stream lands in a set-up care team (queues, agents, rules, watchlists, approved
//! templates), and running it again on the same data directory keeps everything and sets
//! nothing up twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    child: Child,
    banner: String,
    url: String,
    key: String,
    login: (String, String),
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo and reads its banner up to the line that says the stream is flowing.
fn start(dir: &Path) -> Demo {
    let port = common::free_port();
    let mut child = common::bin()
        .args(["demo", "--data-dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--initial", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("A simulated stream is flowing in") {
            break;
        }
    }
    // Keep draining stdout so the demo never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let field = |name: &str| -> String {
        banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no `{name}` in the banner:\n{banner}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let url = field("URL");
    let key = field("API key").split(' ').next().unwrap().to_owned();
    let login = field("Login");
    let (user, password) = login.split_once(" / ").unwrap();
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    assert!(key.starts_with("sb_"), "{banner}");
    Demo {
        child,
        url,
        key,
        login: (user.to_owned(), password.to_owned()),
        banner,
    }
}

async fn get(demo: &Demo, path: &str) -> Value {
    let r = common::http()
        .get(format!("{}{path}", demo.url))
        .bearer_auth(&demo.key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.unwrap()
}

/// Waits until the demo has at least `n` cases, answering them.
async fn cases(demo: &Demo, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let items = get(demo, "/api/v1/cases?limit=500").await["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.len() >= n {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "only {} cases after 90 s",
            items.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn names(v: &Value, field: &str) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_demo_runs_set_up_and_keeps_its_data_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path());
    assert!(first.banner.contains("Set up"), "{}", first.banner);
    assert!(
        first
            .banner
            .contains("14 watched terms, 8 approved reply templates"),
        "{}",
        first.banner
    );

    // The login signs in.
    let session = common::http()
        .post(format!("{}/api/v1/session", first.url))
        .json(&json!({"login": first.login.0, "password": first.login.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);

    // The routing is the demo's, saved as the first version, and in force.
    let routing = get(&first, "/api/v1/workflow/routing").await;
    assert_eq!(routing["version"], 1);
    assert_eq!(routing["source"], "saved");
    let queues = names(&get(&first, "/api/v1/queues").await, "name");
    assert_eq!(queues, set(&["complaints", "general", "vip"]));
    let agents = get(&first, "/api/v1/agents").await;
    let online: BTreeSet<_> = agents
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["presence"] == "online")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(online, set(&["lena", "marc", "sofia"]));

    // Templates are approved by someone other than their author.
    let templates = get(&first, "/api/v1/templates").await;
    let versions: Vec<&Value> = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["versions"].as_array().unwrap())
        .collect();
    assert_eq!(versions.len(), 8);
    for v in &versions {
        assert_eq!(v["state"], "approved", "{v}");
        assert_ne!(v["approved_by"], v["created_by"], "{v}");
    }
    let lists = get(&first, "/api/v1/watchlists").await;
    assert_eq!(
        names(&lists["lists"], "list"),
        set(&["campaigns", "legal", "products"])
    );

    // The stream lands in those queues: complaints are queued apart from the rest.
    let by_id: std::collections::HashMap<String, String> = get(&first, "/api/v1/queues")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_str().unwrap().to_owned(),
                q["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let seen = cases(&first, 40).await;
    let used: BTreeSet<&str> = seen
        .iter()
        .map(|c| by_id[c["queue_id"].as_str().unwrap()].as_str())
        .collect();
    assert!(
        used.contains("complaints") && used.contains("general"),
        "{used:?}"
    );
    let before: BTreeSet<String> = seen
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    drop(first);

    // Again on the same directory: the data is there, nothing is set up twice, and the
    // first run's routing is still the one in force.
    let second = start(dir.path());
    assert!(!second.banner.contains("Set up"), "{}", second.banner);
    let after: BTreeSet<String> = cases(&second, before.len())
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        before.iter().all(|id| after.contains(id)),
        "cases lost across runs"
    );
    assert_eq!(get(&second, "/api/v1/workflow/routing").await["version"], 1);
    let templates = get(&second, "/api/v1/templates").await;
    let count: usize = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["versions"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, 8);
    let terms: usize = get(&second, "/api/v1/watchlists").await["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["terms"].as_array().unwrap().len())
        .sum();
    assert_eq!(terms, 14);

    // The simulated team acts with keys of its own; the first run's were revoked.
    let keys = get(&second, "/api/v1/keys").await;
    let team: Vec<&Value> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"].as_str().unwrap().ends_with("(simulated)"))
        .collect();
    assert_eq!(team.len(), 6, "{keys}");
    let live: BTreeSet<String> = team
        .iter()
        .filter(|k| k["revoked_at"].is_null())
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        live,
        set(&[
            "demo agent lena (simulated)",
            "demo agent marc (simulated)",
            "demo agent sofia (simulated)"
        ])
    );
    assert!(team.iter().all(|k| k["role"] == "agent"));
}

async fn post(demo: &Demo, path: &str, body: &Value) -> (u16, Value) {
    let r = common::http()
        .post(format!("{}{path}", demo.url))
        .bearer_auth(&demo.key)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Polls `check` every half second for up to `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Replies in the demo are delivered (to the platform stand-ins the banner names) on every
/// platform Switchboard answers on, and the simulated team answers and closes cases.
#[tokio::test]
async fn the_demo_s_replies_are_delivered_and_its_team_works_the_cases() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start(dir.path());
    assert!(
        demo.banner
            .contains("Replies      sent to local stand-ins for meta, x, linkedin, tiktok, smtp"),
        "{}",
        demo.banner
    );
    assert!(
        demo.banner.contains("Team         lena, sofia, marc"),
        "{}",
        demo.banner
    );

    // One case per platform that takes replies, answered by the admin.
    let wanted = ["x", "facebook", "instagram", "linkedin", "tiktok", "email"];
    let mut by_source: std::collections::BTreeMap<String, String> = Default::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    while by_source.len() < wanted.len() {
        for source in wanted {
            if by_source.contains_key(source) {
                continue;
            }
            let page = get(
                &demo,
                &format!("/api/v1/cases?source={source}&status=new&limit=1"),
            )
            .await;
            if let Some(c) = page["items"].as_array().and_then(|i| i.first()) {
                by_source.insert(source.to_owned(), c["id"].as_str().unwrap().to_owned());
            }
        }
        assert!(
            Instant::now() < deadline,
            "no new case on every platform: {by_source:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (source, case) in &by_source {
        let (status, reply) = post(
            &demo,
            &format!("/api/v1/cases/{case}/replies"),
            &json!({"text": "Thanks for telling us, we are on it."}),
        )
        .await;
        assert_eq!(status, 202, "{source}: {reply}");
        let outbox = reply["items"][0]["outbox_id"].as_str().unwrap().to_owned();
        let item = eventually(60, &format!("{source}: the reply delivered"), || {
            let path = format!("/api/v1/outbox/{outbox}");
            let demo = &demo;
            async move {
                let item = get(demo, &path).await;
                (item["status"] != "pending").then_some(item)
            }
        })
        .await;
        assert_eq!(item["status"], "delivered", "{source}: {item}");
        assert!(
            item["remote_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{source}: {item}"
        );
    }

    // The team: cases answered by the simulated agents, resolved or waiting on the customer.
    let worked = eventually(120, "a case worked by the simulated team", || {
        let demo = &demo;
        async move {
            for status in ["resolved", "pending"] {
                let page = get(demo, &format!("/api/v1/cases?status={status}&limit=1")).await;
                if let Some(c) = page["items"].as_array().and_then(|i| i.first()) {
                    return Some(c.clone());
                }
            }
            None
        }
    })
    .await;
    assert!(
        ["lena", "sofia", "marc"].contains(&worked["assignee"].as_str().unwrap_or("")),
        "{worked}"
    );
    let detail = get(
        &demo,
        &format!("/api/v1/cases/{}", worked["id"].as_str().unwrap()),
    )
    .await;
    let replied = detail["outbox"].as_array().is_some_and(|o| !o.is_empty());
    let source = detail["source"].as_str().unwrap();
    assert!(replied || ["chat", "reviews"].contains(&source), "{detail}");
}
