//! Data residency (G5) as an operator runs it: `serve` with an EU partition, messages over
//! HTTP, and the files on disk afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, free_port, wait_for_port};

const KEY: &str = "sb_residency_admin";
/// Written only in the EU customer's message.
const EU_WORDS: &str = "Pangolin6283Eu";
/// The EU customer's display name holds this.
const EU_NAME: &str = "Quetzal5521";
/// Written only in the US customer's message.
const US_WORDS: &str = "Ibis3071Us";
/// Written only in an agent's note on the EU customer's case.
const EU_NOTE: &str = "Okapi7140Note";
/// The EU customer's handle.
const EU_HANDLE: &str = "@potoroo6120";

fn serve(data: &Path, port: u16, partitions: &str) -> Child {
    let child = bin()
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", data)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_ADMIN_KEY", KEY)
        .env("SWITCHBOARD_PRIVACY_PARTITIONS", partitions)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    child
}

async fn get(http: &reqwest::Client, url: &str, key: &str) -> (u16, Value) {
    let r = http.get(url).bearer_auth(key).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits until the message has its case (the pipeline processed it), then a little longer:
/// placement follows in the same batch.
async fn processed(http: &reqwest::Client, base: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, m) = get(http, &format!("{base}/api/v1/messages/{id}"), KEY).await;
        assert_eq!(s, 200, "{m}");
        if m["case_id"].is_string() {
            return m;
        }
        assert!(Instant::now() < deadline, "not processed: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn file_holds(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eu_customers_words_are_stored_in_the_eu_file_and_served_to_the_eu_desk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = serve(&data, port, "eu");
    let base = format!("http://127.0.0.1:{port}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    let mut ids = Vec::new();
    for (ext, author, text, region) in [
        (
            "r1",
            json!({"handle": EU_HANDLE, "name": format!("Anna {EU_NAME}")}),
            format!("my parcel {EU_WORDS} is lost"),
            "eu",
        ),
        ("r2", json!("@ben"), format!("{US_WORDS} is late"), "us"),
    ] {
        let r = http
            .post(format!("{base}/api/v1/messages"))
            .bearer_auth(KEY)
            .json(&json!({
                "source": "x", "external_id": ext, "author": author, "text": text, "region": region,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let eu = processed(&http, &base, &ids[0]).await;
    processed(&http, &base, &ids[1]).await;

    // The EU desk reads the message and its case whole; a US desk is refused.
    let (s, issued) = {
        let r = http
            .post(format!("{base}/api/v1/keys"))
            .bearer_auth(KEY)
            .json(&json!({"name": "us desk", "role": "agent", "regions": ["us"]}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 201, "{issued}");
    let us_key = issued["key"].as_str().unwrap().to_owned();
    let case_url = format!("{base}/api/v1/cases/{}", eu["case_id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Placement runs after processing; wait until the central copy is gone.
        let conn = sqlite_text(&data.join("switchboard.db"), &ids[0]).await;
        if conn.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "never placed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, m) = get(&http, &format!("{base}/api/v1/messages/{}", ids[0]), KEY).await;
    assert_eq!(s, 200);
    assert_eq!(m["text"], format!("my parcel {EU_WORDS} is lost"), "{m}");
    assert_eq!(m["author"]["handle"], EU_HANDLE, "{m}");
    assert_eq!(m["author"]["name"], format!("Anna {EU_NAME}"), "{m}");
    let (s, who) = get(
        &http,
        &format!(
            "{base}/api/v1/customers/{}",
            m["customer_id"].as_str().unwrap()
        ),
        KEY,
    )
    .await;
    assert_eq!(s, 200);
    assert!(who.to_string().contains(EU_NAME), "{who}");
    assert_eq!(who["identities"][0]["handle"], EU_HANDLE, "{who}");
    let (s, c) = get(&http, &case_url, KEY).await;
    assert_eq!(s, 200);
    assert!(c.to_string().contains(EU_WORDS), "{c}");
    // An agent's note on the placed case is held with it, and read back in its history.
    let noted = http
        .post(format!("{case_url}/notes"))
        .bearer_auth(KEY)
        .json(&json!({"text": format!("she asked us to call at {EU_NOTE}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status().as_u16(), 201);
    let (s, c) = get(&http, &case_url, KEY).await;
    assert_eq!(s, 200);
    assert!(c.to_string().contains(EU_NOTE), "{c}");
    // The customer's export gathers what the partition holds.
    let (s, export) = get(
        &http,
        &format!(
            "{base}/api/v1/customers/{}/export",
            m["customer_id"].as_str().unwrap()
        ),
        KEY,
    )
    .await;
    assert_eq!(s, 200);
    for held in [EU_WORDS, EU_NAME, EU_NOTE] {
        assert!(export.to_string().contains(held), "{held}: {export}");
    }
    let (s, refused) = get(&http, &case_url, &us_key).await;
    assert_eq!((s, refused["code"].as_str()), (403, Some("region_denied")));

    server.kill().unwrap();
    server.wait().unwrap();

    // On disk: the EU words are in the EU file only, once the central log is checkpointed.
    checkpoint(&data.join("switchboard.db")).await;
    for f in ["switchboard.db", "switchboard.db-wal"] {
        assert!(
            !file_holds(&data.join(f), EU_WORDS),
            "{f} holds the EU words"
        );
        assert!(!file_holds(&data.join(f), EU_NAME), "{f} holds the EU name");
        assert!(!file_holds(&data.join(f), EU_NOTE), "{f} holds the EU note");
        assert!(
            !file_holds(&data.join(f), EU_HANDLE),
            "{f} holds the EU handle"
        );
    }
    assert!(
        file_holds(&data.join("switchboard.db"), US_WORDS),
        "the check sees what is stored centrally"
    );
    assert!(
        file_holds(&data.join("region-eu.db"), EU_WORDS)
            || file_holds(&data.join("region-eu.db-wal"), EU_WORDS),
        "the EU file holds them"
    );
    assert!(
        file_holds(&data.join("region-eu.db"), EU_NOTE)
            || file_holds(&data.join("region-eu.db-wal"), EU_NOTE),
        "the EU file holds the note"
    );

    // A backup carries the EU file beside the main one; a restore needs both.
    let backup = dir.path().join("night.backup");
    let out = bin()
        .args(["backup", "--out", backup.to_str().unwrap()])
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_PRIVACY_PARTITIONS", "eu")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eu_copy = dir.path().join("night.backup.region-eu");
    assert!(
        file_holds(&eu_copy, EU_WORDS),
        "the EU copy holds the EU words"
    );
    assert!(!file_holds(&backup, EU_WORDS), "the main copy does not");
    let restored = dir.path().join("restored");
    let restore = |partitions: &str| {
        bin()
            .args(["restore", "--from", backup.to_str().unwrap()])
            .env("SWITCHBOARD_DATA_DIR", &restored)
            .env("SWITCHBOARD_PRIVACY_PARTITIONS", partitions)
            .output()
            .unwrap()
    };
    let out = restore("");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("`eu`"), "{err}");
    std::fs::rename(&eu_copy, dir.path().join("aside")).unwrap();
    let out = restore("eu");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no backup of region `eu`"), "{err}");
    assert!(
        !restored.join("switchboard.db").exists(),
        "nothing restored"
    );
    // A region copy that is not a database is refused the same way.
    std::fs::write(&eu_copy, b"\x00garbage, not a region partition\xff").unwrap();
    let out = restore("eu");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("night.backup.region-eu"), "{err}");
    assert!(
        !restored.join("switchboard.db").exists(),
        "nothing restored"
    );
    std::fs::rename(dir.path().join("aside"), &eu_copy).unwrap();
    let out = restore("eu");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let mut again = serve(&restored, port, "eu");
    let (s, m) = get(
        &http,
        &format!("http://127.0.0.1:{port}/api/v1/messages/{}", ids[0]),
        KEY,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(m["text"], format!("my parcel {EU_WORDS} is lost"), "{m}");
    again.kill().unwrap();
    again.wait().unwrap();

    // Started without the EU partition, the product refuses in one line.
    let out = bin()
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("`eu`") && err.contains("privacy.partitions"),
        "{err}"
    );

    // A bad region name is refused the same way.
    let out = bin()
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_PRIVACY_PARTITIONS", "eu,EU West")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("EU West"), "{err}");
}

/// The message's text as the central table holds it.
async fn sqlite_text(db: &Path, id: &str) -> String {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let text: String = sqlx::query_scalar("SELECT text FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    text
}

/// Copies the central write-ahead log into the file and empties it, as a restart would.
async fn checkpoint(db: &Path) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}
