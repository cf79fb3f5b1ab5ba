//! A small Chrome DevTools Protocol client for the UI tests: it starts Debian's Chromium
//! headless, speaks the protocol over a WebSocket of its own (RFC 6455, client side, text
//! frames only), and offers what the scenarios need — navigate, evaluate, press keys, wait
//! for a condition, take screenshots, and list every request the pages made.
//!
//! Blocking on purpose: a scenario runs on its own thread while the server under test runs on
//! the tokio runtime.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Chromium is, or why the browser tests cannot run.
pub fn chromium_path() -> String {
    if let Ok(p) = std::env::var("SWITCHBOARD_CHROMIUM") {
        return p;
    }
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(p).exists() {
            return p.to_owned();
        }
    }
    panic!(
        "Chromium is not installed: the UI browser tests need it (`apt-get install -y chromium`, \
         or set SWITCHBOARD_CHROMIUM to its path)"
    );
}

struct Ws {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Ws {
    fn connect(url: &str) -> Ws {
        let rest = url.strip_prefix("ws://").expect("a ws:// DevTools URL");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let stream = TcpStream::connect(host).expect("connect to DevTools");
        stream.set_nodelay(true).ok();
        let mut s = stream.try_clone().unwrap();
        let key = base64_key();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(
            status.contains(" 101 "),
            "DevTools refused the WebSocket: {status}"
        );
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Ws { stream, reader }
    }

    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        let n = payload.len();
        if n < 126 {
            frame.push(0x80 | n as u8);
        } else if n < 65_536 {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask: [u8; 4] = rand_mask();
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    /// The next text message; answers pings on the way.
    fn recv(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.reader.read_exact(&mut head).unwrap();
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            let masked = head[1] & 0x80 != 0;
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.reader.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.reader.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut mask = [0u8; 4];
            if masked {
                self.reader.read_exact(&mut mask).unwrap();
            }
            let mut payload = vec![0u8; len as usize];
            self.reader.read_exact(&mut payload).unwrap();
            if masked {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= mask[i % 4];
                }
            }
            match opcode {
                0x9 => {
                    let mut pong = vec![0x8a, 0x80 | payload.len() as u8];
                    pong.extend_from_slice(&[0, 0, 0, 0]);
                    pong.extend_from_slice(&payload);
                    self.stream.write_all(&pong).unwrap();
                }
                0x8 => panic!("DevTools closed the connection"),
                0xa => {}
                _ => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return String::from_utf8(message).unwrap();
                    }
                }
            }
        }
    }
}

fn rand_mask() -> [u8; 4] {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    n.to_le_bytes()
}

fn base64_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(rand_mask().repeat(4))
}

/// One headless Chromium with one page (tab) attached.
pub struct Browser {
    child: Child,
    ws: Ws,
    next_id: u64,
    session: String,
    /// Every event received, in order (network requests, console and log entries).
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch() -> Browser {
        let path = chromium_path();
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&path)
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--metrics-recording-only",
                "--hide-scrollbars",
                "--window-size=1400,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Chromium at {path}: {e}"));
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_owned());
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium did not print its DevTools URL within 30 s");
        let mut b = Browser {
            child,
            ws: Ws::connect(&url),
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let target = b.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = b.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Network.enable",
            "Log.enable",
        ] {
            b.call(domain, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(&msg.to_string());
        loop {
            let v: Value = serde_json::from_str(&self.ws.recv()).unwrap();
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// A protocol command on the page.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for("document.readyState === 'complete'", "the page to load");
    }

    /// The value of a JavaScript expression (awaited when it is a promise).
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("script failed: {js}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits up to 15 s for `js` to be true.
    pub fn wait_for(&mut self, js: &str, what: &str) {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": format!("!!({js})"), "returnByValue": true}),
            );
            if r["result"]["value"] == json!(true) {
                return;
            }
            if Instant::now() > until {
                let url = self.eval("location.href");
                panic!("timed out waiting for {what} (`{js}`) on {url}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses a key as a person would (keydown, char, keyup).
    pub fn press(&mut self, key: &str) {
        let (code, text, vk) = match key {
            "Enter" => ("Enter", "\r", 13),
            k => (
                k,
                k,
                k.to_ascii_uppercase().bytes().next().map_or(0, i64::from),
            ),
        };
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyDown", "key": key, "code": code, "text": text, "windowsVirtualKeyCode": vk}),
        );
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk}),
        );
    }

    /// Saves a PNG of the viewport (the full page height) under `target/screenshots/`.
    pub fn screenshot(&mut self, name: &str) -> std::path::PathBuf {
        use base64::Engine;
        let height = self
            .eval("Math.max(900, document.documentElement.scrollHeight)")
            .as_f64()
            .unwrap_or(900.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": 1400, "height": height.min(4000.0), "scale": 1}}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Every URL the pages asked for so far.
    pub fn requested_urls(&mut self) -> Vec<String> {
        // A no-op round trip collects events that arrived meanwhile.
        self.eval("1");
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_owned))
            .collect()
    }

    /// Console and browser log messages so far (CSP violations show up here).
    pub fn log_messages(&mut self) -> Vec<String> {
        self.eval("1");
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str() {
                Some("Log.entryAdded") => e["params"]["entry"]["text"].as_str().map(str::to_owned),
                Some("Runtime.exceptionThrown") => {
                    Some(e["params"]["exceptionDetails"].to_string())
                }
                _ => None,
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
