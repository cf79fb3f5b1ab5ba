//! Stand-ins for the platforms and the operations tools, on local ports, so replies and alerts
//! in the demo are delivered and show as sent, while nothing leaves the machine. Each answers
//! the calls Switchboard's senders make the way the service documents it — Graph's `{"id"}`,
//! X's `{"data": {"id"}}`, LinkedIn's `x-restli-id` header, TikTok's `{"code": 0, "data":
//! {"comment_id"}}`, an SMTP server's `250` after `DATA`, PagerDuty's `202 {"status":
//! "success"}`, a Slack incoming webhook's `ok` — and refuses a call without the token as the
//! service would. Only targets the configuration leaves empty are pointed here: a demo started
//! with a real `[outbound.x]` or `[outbound.pagerduty]` keeps it.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sb_outbound::{
    LinkedInConfig, MetaConfig, OutboundConfig, PagerDutyConfig, Secret, SlackConfig, SmtpConfig,
    SmtpSecurity, TikTokConfig, XConfig,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The token every stand-in expects; it is not a secret of any real account.
const TOKEN: &str = "sandbox-token";

/// The path of the Slack stand-in's incoming webhook; as on Slack, the path is the credential.
const SLACK_HOOK: &str = "services/T0SANDBOX/B0SANDBOX/sandbox-token";

/// Where the stand-ins listen.
#[derive(Clone, Copy, Debug)]
pub struct Sandbox {
    pub http: SocketAddr,
    pub smtp: SocketAddr,
}

/// Starts the HTTP and SMTP stand-ins on free loopback ports.
pub async fn start() -> anyhow::Result<Sandbox> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let http = listener.local_addr()?;
    let app = Router::new().fallback(answer);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the platform stand-in stopped");
        }
    });
    let smtp_listener = TcpListener::bind("127.0.0.1:0").await?;
    let smtp = smtp_listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            match smtp_listener.accept().await {
                Ok((socket, _)) => {
                    tokio::spawn(async move {
                        if let Err(e) = smtp_session(socket).await {
                            tracing::debug!(error = %e, "an SMTP session with the stand-in failed");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "the SMTP stand-in could not accept"),
            }
        }
    });
    Ok(Sandbox { http, smtp })
}

impl Sandbox {
    /// Fills the reply targets `outbound` leaves empty with the stand-ins, with a token for
    /// each account the simulated stream writes to. Returns the targets it filled.
    pub fn fill(&self, outbound: &mut OutboundConfig) -> Vec<&'static str> {
        let base = |platform: &str| format!("http://{}/{platform}", self.http);
        let tokens = |accounts: &[&str]| -> BTreeMap<String, Secret> {
            accounts
                .iter()
                .map(|a| ((*a).to_owned(), Secret::new(TOKEN)))
                .collect()
        };
        let mut filled = Vec::new();
        if outbound.meta.is_none() {
            outbound.meta = Some(MetaConfig {
                base_url: base("meta"),
                version: "v21.0".into(),
                // The platforms' names were the accounts of earlier demos: a data directory
                // from one still has cases to answer there.
                tokens: tokens(&[
                    crate::sim::FACEBOOK_PAGE,
                    crate::sim::INSTAGRAM_ACCOUNT,
                    "facebook",
                    "instagram",
                ]),
            });
            filled.push("meta");
        }
        if outbound.x.is_none() {
            outbound.x = Some(XConfig {
                base_url: base("x"),
                tokens: tokens(&["x"]),
            });
            filled.push("x");
        }
        if outbound.linkedin.is_none() {
            outbound.linkedin = Some(LinkedInConfig {
                base_url: base("linkedin"),
                version: "202411".into(),
                tokens: tokens(&[crate::sim::LINKEDIN_ORGANIZATION]),
            });
            filled.push("linkedin");
        }
        if outbound.tiktok.is_none() {
            outbound.tiktok = Some(TikTokConfig {
                base_url: base("tiktok"),
                version: "v1.3".into(),
                tokens: tokens(&["tiktok"]),
            });
            filled.push("tiktok");
        }
        if outbound.smtp.is_none() {
            let mut smtp = SmtpConfig::new(self.smtp.ip().to_string());
            smtp.port = self.smtp.port();
            smtp.security = SmtpSecurity::None;
            outbound.smtp = Some(smtp);
            filled.push("smtp");
        }
        filled
    }

    /// Fills the alert targets `outbound` leaves empty (PagerDuty and Slack) with the
    /// stand-ins. Returns the targets it filled.
    pub fn fill_alerts(&self, outbound: &mut OutboundConfig) -> Vec<&'static str> {
        let mut filled = Vec::new();
        if outbound.pagerduty.is_none() {
            let mut pagerduty = PagerDutyConfig::new(TOKEN);
            pagerduty.base_url = format!("http://{}/pagerduty", self.http);
            outbound.pagerduty = Some(pagerduty);
            filled.push("pagerduty");
        }
        if outbound.slack.is_none() {
            outbound.slack = Some(SlackConfig {
                webhook_url: Secret::new(format!("http://{}/slack/{SLACK_HOOK}", self.http)),
            });
            filled.push("slack");
        }
        filled
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh numeric id, as the platforms give posts and comments.
fn next_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    format!("{}", 1_870_000_000_000_000_000u64 + n)
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// One call to one of the HTTP stand-ins: `/meta/…`, `/x/…`, `/linkedin/…`, `/tiktok/…`,
/// `/pagerduty/…` or `/slack/…`.
async fn answer(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let Some((platform, rest)) = segments.split_first() else {
        return not_found(path);
    };
    match *platform {
        "pagerduty" => return pagerduty(&method, rest, &body),
        "slack" => return slack(&method, path, &body),
        _ => {}
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let authorized = match *platform {
        "tiktok" => headers.get("access-token").and_then(|v| v.to_str().ok()) == Some(TOKEN),
        _ => bearer == Some(TOKEN),
    };
    tracing::info!(target: "sandbox", %method, path, text = %said(&body), "a reply reached the platform stand-in");
    match *platform {
        "meta" if !authorized => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}),
        ),
        "meta" => meta(&method, rest, &body),
        "x" if !authorized => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        ),
        "x" => x(&method, rest),
        "linkedin" if !authorized => json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"status": 401, "serviceErrorCode": 65600, "message": "Invalid access token"}),
        ),
        "linkedin" => linkedin(&method, &headers, rest),
        "tiktok" if !authorized => json_answer(
            StatusCode::OK,
            json!({"code": 40105, "message": "Access token is incorrect or has been revoked.", "request_id": next_id(), "data": {}}),
        ),
        "tiktok" if method == Method::POST && rest.ends_with(&["comment", "reply", "create"]) => {
            json_answer(
                StatusCode::OK,
                json!({"code": 0, "message": "OK", "request_id": next_id(), "data": {"comment_id": next_id()}}),
            )
        }
        _ => not_found(path),
    }
}

/// PagerDuty Events API v2: `POST /v2/enqueue` with the routing key in the event.
fn pagerduty(method: &Method, rest: &[&str], event: &Value) -> Response {
    if method != Method::POST || rest != ["v2", "enqueue"] {
        return json_answer(
            StatusCode::NOT_FOUND,
            json!({"status": "not found", "message": "Not found"}),
        );
    }
    if event["routing_key"] != TOKEN {
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"status": "invalid event", "message": "Event object is invalid", "errors": ["Invalid routing key"]}),
        );
    }
    let action = event["event_action"].as_str().unwrap_or("");
    let summary = event["payload"]["summary"].as_str().unwrap_or("");
    let dedup_key = event["dedup_key"].as_str().unwrap_or("");
    tracing::info!(target: "sandbox", action, dedup_key, summary, "an event reached the PagerDuty stand-in");
    json_answer(
        StatusCode::ACCEPTED,
        json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
    )
}

/// A Slack incoming webhook: the path is the credential, the answer plain text.
fn slack(method: &Method, path: &str, message: &Value) -> Response {
    let text = |status: StatusCode, body: &'static str| (status, body).into_response();
    if method != Method::POST || !path.starts_with("/slack/services/") {
        return text(StatusCode::NOT_FOUND, "no_service");
    }
    if path.trim_start_matches("/slack/") != SLACK_HOOK {
        return text(StatusCode::FORBIDDEN, "invalid_token");
    }
    let Some(said) = message["text"].as_str() else {
        return text(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    tracing::info!(target: "sandbox", text = said, "a message reached the Slack stand-in");
    text(StatusCode::OK, "ok")
}

/// The reply text a call carries, for the demo's log.
fn said(body: &Value) -> &str {
    [&body["message"]["text"], &body["message"], &body["text"]]
        .iter()
        .find_map(|v| v.as_str())
        .unwrap_or("")
}

fn not_found(path: &str) -> Response {
    json_answer(
        StatusCode::NOT_FOUND,
        json!({"error": format!("the stand-in has no endpoint {path}")}),
    )
}

/// Graph API: `/{version}/{id}/comments|replies|messages`, edits and deletions.
fn meta(method: &Method, rest: &[&str], body: &Value) -> Response {
    match (method, rest) {
        (&Method::POST, [_, _, "messages"]) => json_answer(
            StatusCode::OK,
            json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_{}", next_id())}),
        ),
        (&Method::POST, [_, parent, "comments" | "replies"]) => json_answer(
            StatusCode::OK,
            json!({"id": format!("{parent}_{}", next_id())}),
        ),
        (&Method::POST | &Method::DELETE, [_, _]) => {
            json_answer(StatusCode::OK, json!({"success": true}))
        }
        _ => json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}}),
        ),
    }
}

/// X API v2: posts, DMs, deletions.
fn x(method: &Method, rest: &[&str]) -> Response {
    match (method, rest) {
        (&Method::POST, ["2", "tweets"]) => json_answer(
            StatusCode::CREATED,
            json!({"data": {"id": next_id(), "edit_history_tweet_ids": []}}),
        ),
        (&Method::POST, ["2", "dm_conversations", "with", recipient, "messages"]) => json_answer(
            StatusCode::CREATED,
            json!({"data": {"dm_conversation_id": format!("{recipient}-1"), "dm_event_id": next_id()}}),
        ),
        (&Method::DELETE, ["2", "tweets", _]) => {
            json_answer(StatusCode::OK, json!({"data": {"deleted": true}}))
        }
        _ => json_answer(
            StatusCode::NOT_FOUND,
            json!({"title": "Not Found Error", "status": 404, "detail": "Sorry, that page does not exist."}),
        ),
    }
}

/// LinkedIn Community Management API: comments under a post or comment, edits, deletions.
fn linkedin(method: &Method, headers: &HeaderMap, rest: &[&str]) -> Response {
    match (method, rest) {
        (&Method::POST, ["rest", "socialActions", target, "comments"]) => {
            let target = percent_decode(target);
            let post = target
                .strip_prefix("urn:li:comment:(")
                .and_then(|t| t.split_once(','))
                .map_or(target.as_str(), |(post, _)| post)
                .to_owned();
            let urn = format!("urn:li:comment:({post},{})", next_id());
            let mut response = StatusCode::CREATED.into_response();
            if let Ok(v) = HeaderValue::from_str(&urn) {
                response.headers_mut().insert("x-restli-id", v);
            }
            response
        }
        (&Method::POST, ["rest", "socialActions", _, "comments", _])
            if headers
                .get("x-restli-method")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"PARTIAL_UPDATE")) =>
        {
            StatusCode::NO_CONTENT.into_response()
        }
        (&Method::DELETE, ["rest", "socialActions", _, "comments", _]) => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => json_answer(
            StatusCode::NOT_FOUND,
            json!({"status": 404, "message": "No virtual resource found"}),
        ),
    }
}

/// `%XX` escapes undone, as LinkedIn reads URNs in its paths.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(((hex(h).unwrap_or(0) << 4) | hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One SMTP session: greets, accepts the envelope and the message, queues nothing.
async fn smtp_session(socket: tokio::net::TcpStream) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 sandbox.localhost ESMTP stand-in\r\n")
        .await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sandbox.localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 OK\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut bytes = 0usize;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                    bytes += line.len();
                }
                tracing::info!(target: "sandbox", bytes, "an e-mail reached the SMTP stand-in");
                let answer = format!("250 2.0.0 OK queued as {}\r\n", next_id());
                write.write_all(answer.as_bytes()).await?;
                continue;
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkedin_urns_in_paths_are_read_back() {
        assert_eq!(
            percent_decode("urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A1%2C2%29"),
            "urn:li:comment:(urn:li:activity:1,2)"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    /// Calls the stand-ins cannot take get the platform's refusal, never a delivery: no token,
    /// a wrong token, an endpoint the platform does not have, an SMTP verb it does not know.
    #[tokio::test]
    async fn the_stand_ins_refuse_what_the_platforms_would() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sandbox = start().await.unwrap();
        let client = reqwest::Client::new();
        let url = |path: &str| format!("http://{}{path}", sandbox.http);
        let post = |path: &str, token: Option<&str>| {
            let mut r = client.post(url(path)).body("{not json");
            if let Some(t) = token {
                r = r.bearer_auth(t).header("access-token", t);
            }
            r
        };
        for path in [
            "/x/2/tweets",
            "/meta/v21.0/123/comments",
            "/linkedin/rest/socialActions/urn%3Ali%3Aactivity%3A1/comments",
        ] {
            for token in [None, Some("stolen")] {
                let r = post(path, token).send().await.unwrap();
                assert_eq!(r.status(), 401, "{path} {token:?}");
            }
        }
        // TikTok refuses with HTTP 200 and its own code, as documented.
        let r = post("/tiktok/open_api/v1.3/business/comment/reply/create/", None)
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], 40105, "{body}");
        for path in ["/x/2/users/me", "/nowhere", "/meta/v21.0/a/b/c/d"] {
            let r = post(path, Some(TOKEN)).send().await.unwrap();
            assert!(
                matches!(r.status().as_u16(), 400 | 404),
                "{path}: {}",
                r.status()
            );
        }
        // With the token, a reply is taken and given an id.
        let r = post("/x/2/tweets", Some(TOKEN)).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        assert!(body["data"]["id"].is_string(), "{body}");

        // PagerDuty reads the routing key from the event; Slack's key is the hook's path.
        let enqueue = |key: Value| {
            let event = json!({"routing_key": key, "event_action": "trigger", "dedup_key": "a"});
            client
                .post(url("/pagerduty/v2/enqueue"))
                .json(&event)
                .send()
        };
        for key in [json!(null), json!("stolen")] {
            let r = enqueue(key.clone()).await.unwrap();
            assert_eq!(r.status(), 400, "{key}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["status"], "invalid event", "{body}");
        }
        let r = enqueue(json!(TOKEN)).await.unwrap();
        assert_eq!(r.status(), 202);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            json!({"status": "success", "message": "Event processed", "dedup_key": "a"})
        );
        let hook = format!("/slack/{SLACK_HOOK}");
        for (path, body, status) in [
            (
                "/slack/services/T0SANDBOX/B0SANDBOX/stolen",
                json!({"text": "hi"}),
                403,
            ),
            ("/slack/api/chat.postMessage", json!({"text": "hi"}), 404),
            (hook.as_str(), json!({"blocks": []}), 400),
            (hook.as_str(), json!({"text": "hi"}), 200),
        ] {
            let r = client.post(url(path)).json(&body).send().await.unwrap();
            assert_eq!(r.status(), status, "{path} {body}");
        }

        let socket = tokio::net::TcpStream::connect(sandbox.smtp).await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        assert!(lines.next_line().await.unwrap().unwrap().starts_with("220"));
        write.write_all(b"\x01\x02 garbage\r\n").await.unwrap();
        assert!(lines.next_line().await.unwrap().unwrap().starts_with("502"));
        write.write_all(b"QUIT\r\n").await.unwrap();
        assert!(lines.next_line().await.unwrap().unwrap().starts_with("221"));
    }
}
