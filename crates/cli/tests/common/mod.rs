//! What the command-line tests share: the binary under test, run with a clean environment,
//! and a free port to serve on.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// The `switchboard` binary with no `SWITCHBOARD_*` variable from the test's environment,
/// logging warnings only.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SWITCHBOARD_") {
            c.env_remove(k);
        }
    }
    c.env("SWITCHBOARD_LOG", "warn");
    c
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits up to 20 s for a server to listen on `port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP client, with the TLS crypto provider the binary itself installs.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
