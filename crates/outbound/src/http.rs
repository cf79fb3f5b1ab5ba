//! The plumbing every sender shares: one HTTP client with a timeout, the injected clock,
//! secrets that never print, URL building that escapes ids, and the status-code defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Url};
use sb_domain::{Clock, SystemClock};
use serde::Deserialize;
use serde_json::Value;

use crate::outcome::{Outcome, retry_after};

/// How long one call may take, connect to last body byte, unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest slice of a response body kept in an error message.
const ERROR_BODY_MAX: usize = 300;

/// A token, password or secret URL. Reads from config like a string; prints as `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a sender could not be built from its configuration. `code()` is stable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("`{field}` is not a usable http(s) URL: {reason}")]
    InvalidUrl { field: &'static str, reason: String },
    #[error("`{0}` is required and empty")]
    Missing(&'static str),
    #[error("`{field}` is not usable: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

impl BuildError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "outbound_invalid_url",
            Self::Missing(_) => "outbound_missing_setting",
            Self::Invalid { .. } => "outbound_invalid_setting",
            Self::Client(_) => "outbound_http_client",
        }
    }
}

/// One client and one clock, shared by every sender.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http").finish_non_exhaustive()
    }
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Self, BuildError> {
        // TLS runs on rustls with the `ring` provider. Installing it is process-wide and
        // idempotent: a second call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Client(e.to_string()))?;
        Ok(Self {
            client,
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the system clock, so tests can fix "now" for signatures and rate-limit resets.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn now_unix_s(&self) -> i64 {
        self.clock.now().0.div_euclid(1000)
    }

    /// Sends the request and reads the whole answer. A failure before an answer arrives
    /// (refused, reset, timed out) is worth a retry; a request that could not even be built
    /// is not.
    pub(crate) async fn execute(&self, request: RequestBuilder) -> Result<Answer, Outcome> {
        let response = request.send().await.map_err(transport_failure)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(transport_failure)?;
        Ok(Answer {
            status,
            headers,
            body,
            now_unix_s: self.now_unix_s(),
        })
    }
}

fn transport_failure(e: reqwest::Error) -> Outcome {
    if e.is_builder() {
        return Outcome::Permanent {
            status: None,
            error: format!("the request could not be built: {e}"),
        };
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed in transit"
    };
    Outcome::Retry {
        status: None,
        after: None,
        error: format!("the call {what}: {}", without_url(&e)),
    }
}

/// reqwest puts the URL in its messages; ours can carry a secret (Slack's webhook path).
fn without_url(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(source) = root.source() {
        root = source;
    }
    root.to_string()
}

/// One call to a platform's API: where to, and what.
#[derive(Debug, PartialEq)]
pub struct PlatformCall {
    pub url: Url,
    pub body: Value,
}

impl Http {
    /// POSTs `call` as JSON with the platform's authentication (`auth` adds its headers) and
    /// lets `classify` read the answer; a failure before any answer is the transport's outcome.
    pub(crate) async fn post_call(
        &self,
        call: PlatformCall,
        auth: impl FnOnce(RequestBuilder) -> RequestBuilder,
        classify: fn(&Answer) -> Outcome,
    ) -> Outcome {
        let request = auth(self.client.post(call.url)).json(&call.body);
        match self.execute(request).await {
            Ok(answer) => classify(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// A target's answer, read in full.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    pub now_unix_s: i64,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The target's own wait hint.
    pub fn after(&self) -> Option<Duration> {
        retry_after(&self.headers, self.now_unix_s)
    }

    /// The start of the body, for error messages.
    pub fn snippet(&self) -> String {
        let body = self.body.trim();
        let cut = crate::item::truncate(body, ERROR_BODY_MAX);
        if cut.len() < body.len() {
            format!("{cut}…")
        } else {
            cut.to_owned()
        }
    }

    pub fn retry(&self, error: impl Into<String>) -> Outcome {
        Outcome::Retry {
            status: Some(self.status),
            after: self.after(),
            error: error.into(),
        }
    }

    pub fn permanent(&self, error: impl Into<String>) -> Outcome {
        Outcome::Permanent {
            status: Some(self.status),
            error: error.into(),
        }
    }

    pub fn reauthorize(&self, error: impl Into<String>) -> Outcome {
        Outcome::Reauthorize {
            status: Some(self.status),
            error: error.into(),
        }
    }

    /// The common reading of a status: 2xx delivered; 408, 425, 429 and 5xx retry;
    /// 401 and 403 reauthorize; any other answer is permanent.
    pub fn classify(&self, tool: &str, remote_id: Option<String>) -> Outcome {
        let error = format!("{tool} answered {}: {}", self.status, self.snippet());
        match self.status {
            200..=299 => Outcome::Delivered {
                status: self.status,
                remote_id,
            },
            408 | 425 | 429 | 500..=599 => self.retry(error),
            401 | 403 => self.reauthorize(error),
            _ => self.permanent(error),
        }
    }
}

/// Parses a configured base URL; only http and https with a host are accepted.
/// What a platform's answer to an edit or a deletion of a reply it already holds means, as
/// read by that platform's `classify`: a changed reply keeps its remote id, and deleting one
/// that is already gone (404) is done.
pub(crate) fn changed(
    answer: Result<Answer, Outcome>,
    deleting: bool,
    remote_id: &str,
    classify: fn(&Answer) -> Outcome,
) -> Outcome {
    match answer {
        Ok(answer) if deleting && answer.status == 404 => Outcome::Delivered {
            status: answer.status,
            remote_id: Some(remote_id.to_owned()),
        },
        Ok(answer) => match classify(&answer) {
            Outcome::Delivered { status, .. } => Outcome::Delivered {
                status,
                remote_id: Some(remote_id.to_owned()),
            },
            other => other,
        },
        Err(outcome) => outcome,
    }
}

pub(crate) fn parse_base(field: &'static str, value: &str) -> Result<Url, BuildError> {
    let url = Url::parse(value.trim()).map_err(|e| BuildError::InvalidUrl {
        field,
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
        return Err(BuildError::InvalidUrl {
            field,
            reason: "only http(s) URLs with a host are accepted".into(),
        });
    }
    Ok(url)
}

/// `base` with each segment appended and escaped, so an id holding `/`, `?` or `#` cannot
/// reach another endpoint.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `https://` URL is attempted over TLS: the first bytes on the wire are a TLS
    /// handshake record (type 0x16), not plain HTTP and not a refusal before connecting.
    #[tokio::test]
    async fn tls_reaches_https_targets() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let peer = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
            let mut first = [0u8; 3];
            sock.read_exact(&mut first)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            first
        });
        let http = Http::new(Duration::from_secs(2)).unwrap_or_else(|e| panic!("{e}"));
        let sent = http
            .client()
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await;
        assert!(sent.is_err(), "the peer never answers the handshake");
        let first = peer.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first[0], 0x16, "a TLS handshake record");
        assert_eq!(first[1], 0x03, "TLS major version");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("xoxb-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "xoxb-very-secret");
    }

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        let base = parse_base("base_url", "https://graph.example.com/").unwrap_or_else(|e| {
            panic!("{e}");
        });
        let url = join(&base, &["v21.0", "123/../me?x=1#y", "comments"]);
        assert_eq!(
            url.as_str(),
            "https://graph.example.com/v21.0/123%2F..%2Fme%3Fx=1%23y/comments"
        );
        let prefixed = parse_base("base_url", "http://127.0.0.1:9/pd").unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!(
            join(&prefixed, &["v2", "enqueue"]).as_str(),
            "http://127.0.0.1:9/pd/v2/enqueue"
        );
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        for bad in [
            "ftp://x.example",
            "mailto:a@b.c",
            "not a url",
            "",
            "file:///etc",
        ] {
            let err = parse_base("base_url", bad).err();
            assert_eq!(err.map(|e| e.code()), Some("outbound_invalid_url"), "{bad}");
        }
    }
}
