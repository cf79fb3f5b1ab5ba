//! Secrets sealed at rest: an operator seals the admin key into the configuration, the server
//! opens it with the key ring from the environment, and the ring rotates without a flag day.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, free_port};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn generate(id: &str) -> String {
    let o = bin()
        .args(["secrets", "generate-key", "--id", id])
        .output()
        .unwrap();
    assert!(o.status.success());
    stdout(&o)
}

fn seal(ring: &str, secret: &str) -> String {
    let mut child = bin()
        .args(["secrets", "seal"])
        .env("SWITCHBOARD_SECRETS_KEYS", ring)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(secret.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    stdout(&o)
}

/// Starts `serve` with the configuration and ring; the status the API gives `key`.
async fn serve_and_try(dir: &Path, ring: &str, key: &str) -> reqwest::StatusCode {
    let port = free_port();
    let mut child = bin()
        .args(["--config", "switchboard.toml", "serve"])
        .current_dir(dir)
        .env("SWITCHBOARD_SECRETS_KEYS", ring)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_DATA_DIR", dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/session"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status();
    child.kill().unwrap();
    child.wait().unwrap();
    status
}

#[tokio::test]
async fn a_sealed_admin_key_works_and_survives_a_rotation_of_the_ring() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate("k2026");
    let admin = "sb_sealed_admin_key_0123456789";
    let sealed = seal(&old, admin);
    assert!(sealed.starts_with("enc:v1:k2026:"), "{sealed}");
    assert!(!sealed.contains(admin));
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("admin_key = \"{sealed}\"\n")).unwrap();
    assert_eq!(
        serve_and_try(dir.path(), &old, admin).await,
        reqwest::StatusCode::OK
    );

    // Without the ring the server refuses to start, in one line.
    let o = bin()
        .args(["--config", "switchboard.toml", "serve"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("SWITCHBOARD_SECRETS_KEYS"), "{err}");

    // Rotation: the new key goes first, the file is resealed, the old key can then go.
    let new = generate("k2027");
    let both = format!("{new},{old}");
    let o = bin()
        .args(["secrets", "reseal", "switchboard.toml"])
        .current_dir(dir.path())
        .env("SWITCHBOARD_SECRETS_KEYS", &both)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("enc:v1:k2027:") && !text.contains("enc:v1:k2026:"),
        "{text}"
    );
    assert_eq!(
        serve_and_try(dir.path(), &new, admin).await,
        reqwest::StatusCode::OK
    );

    // A value tampered with does not open.
    let tampered = text.replacen("enc:v1:k2027:", "enc:v1:k2027:AAAA", 1);
    std::fs::write(&config, tampered).unwrap();
    let o = bin()
        .args(["--config", "switchboard.toml", "serve"])
        .current_dir(dir.path())
        .env("SWITCHBOARD_SECRETS_KEYS", &new)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open a sealed secret"));
}

#[test]
fn bad_rings_and_empty_secrets_are_refused_in_one_line() {
    for (ring, input) in [("nokey", "x"), ("k1:not-base64!", "x"), ("k1:AAAA", "x")] {
        let mut child = bin()
            .args(["secrets", "seal"])
            .env("SWITCHBOARD_SECRETS_KEYS", ring)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(!o.status.success(), "{ring}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1);
    }
    let o = bin()
        .args(["secrets", "reseal", "missing.toml"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
