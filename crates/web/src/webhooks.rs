//! `/webhooks/*`: where platforms deliver. Each route proves the sender first (signature,
//! handshake), parses only then, stores every message durably before answering, and reports
//! what it did with each item. These routes sit outside `/api/v1`: platforms authenticate with
//! signatures, not API keys.

use crate::problem::{Problem, ProblemBody};
use crate::{AppState, body};
use axum::Json;
use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::future::join_all;
use sb_connectors::{
    GENERIC_TOLERANCE_S, HandshakeError, InboundEvent, Parsed, PayloadError, SignatureError,
    Skipped,
};
use sb_domain::{NewMessage, Platform, Revised, Revision, Timestamp};
use sb_pipeline::IngestError;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Largest raw e-mail accepted: inbound-mail services post whole messages with attachments.
pub const MAX_EMAIL_BYTES: usize = 25 * 1024 * 1024;

/// Signing secrets and the accounts deliveries are accepted for. An empty secret turns its
/// endpoint off (`404 webhook_not_configured`).
#[derive(Clone, Debug, Default)]
pub struct WebhookConfig {
    /// Meta app secret: `X-Hub-Signature-256` on `POST /webhooks/meta`.
    pub meta_app_secret: String,
    /// The token Meta echoes in its `GET /webhooks/meta` subscription handshake.
    pub meta_verify_token: String,
    /// X consumer secret: CRC responses and `x-twitter-webhooks-signature`.
    pub x_consumer_secret: String,
    /// Secret for `POST /webhooks/generic/{source}` and `POST /webhooks/email`.
    pub generic_secret: String,
    /// LinkedIn app client secret: the challenge answer and `X-LI-Signature`.
    pub linkedin_client_secret: String,
    /// TikTok app client secret: `TikTok-Signature`.
    pub tiktok_client_secret: String,
    /// Connected accounts (Page or Instagram ids, X user ids, mailboxes, channels). Items for
    /// other accounts are skipped. Empty: every account is accepted.
    pub accounts: HashSet<String>,
}

/// Signatures of generic deliveries seen within the tolerance window, so that a captured
/// request cannot be sent again.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<String, i64>>,
}

impl ReplayGuard {
    /// Records `signature` (signed at `ts`); false when it was already seen.
    fn first_time(&self, signature: &str, ts: i64, now_s: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, t| (now_s - *t).abs() <= GENERIC_TOLERANCE_S);
        }
        seen.insert(signature.trim().to_ascii_lowercase(), ts)
            .is_none()
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/meta", get(meta_handshake).post(meta_delivery))
        .route("/webhooks/x", get(x_crc).post(x_delivery))
        .route(
            "/webhooks/linkedin",
            get(linkedin_challenge).post(linkedin_delivery),
        )
        .route("/webhooks/tiktok", post(tiktok_delivery))
        .route("/webhooks/generic/{source}", post(generic_delivery))
        .route(
            "/webhooks/email",
            post(email_delivery).layer(DefaultBodyLimit::max(MAX_EMAIL_BYTES)),
        )
}

/// What a delivery led to. Platforms only look at the status; operators read the rest.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    /// New messages stored.
    pub accepted: usize,
    /// Messages already stored from an earlier delivery.
    pub duplicates: usize,
    /// Edits and removals recorded.
    pub revised: usize,
    /// Edits and removals already recorded, or for messages never received.
    pub unchanged: usize,
    /// Items that produced nothing, with where they were in the body and why.
    pub skipped: Vec<SkippedItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkippedItem {
    pub at: String,
    pub reason: String,
}

impl From<Skipped> for SkippedItem {
    fn from(s: Skipped) -> Self {
        Self {
            at: s.at,
            reason: s.reason,
        }
    }
}

fn not_configured(what: &str) -> Problem {
    Problem::custom(
        StatusCode::NOT_FOUND,
        "webhook_not_configured",
        format!("{what} webhooks are not configured on this server"),
    )
}

fn signature_problem(e: SignatureError, what: &str) -> Problem {
    match e {
        SignatureError::NoSecret => not_configured(what),
        other => Problem::custom(StatusCode::UNAUTHORIZED, other.code(), other.to_string()),
    }
}

fn payload_problem(e: PayloadError) -> Problem {
    Problem::custom(StatusCode::BAD_REQUEST, e.code(), e.to_string())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn count(platform: &'static str, outcome: &'static str) {
    metrics::counter!("switchboard_webhook_deliveries_total", "platform" => platform, "outcome" => outcome)
        .increment(1);
}

/// Stores what a verified, parsed delivery carries. Messages go first and together (one
/// group commit), then edits and removals, which may refer to them.
async fn deliver(
    state: &AppState,
    platform: &'static str,
    parsed: Parsed,
) -> Result<Json<DeliveryReport>, Problem> {
    let mut report = DeliveryReport {
        skipped: parsed.skipped.into_iter().map(SkippedItem::from).collect(),
        ..DeliveryReport::default()
    };
    let accounts = &state.webhooks.accounts;
    let connected = |account: &str| accounts.is_empty() || accounts.contains(account);
    let mut messages = Vec::new();
    let mut revisions = Vec::new();
    for (i, event) in parsed.events.into_iter().enumerate() {
        let account = match &event {
            InboundEvent::Message { account, .. }
            | InboundEvent::Edit { account, .. }
            | InboundEvent::Remove { account, .. } => account.clone(),
        };
        if !connected(&account) {
            report.skipped.push(SkippedItem {
                at: format!("event {i}"),
                reason: format!("account `{account}` is not connected"),
            });
            continue;
        }
        match event {
            InboundEvent::Message { message, .. } => match NewMessage::parse(message) {
                Ok(m) => messages.push(m),
                Err(e) => report.skipped.push(SkippedItem {
                    at: format!("event {i}"),
                    reason: e.detail,
                }),
            },
            InboundEvent::Edit {
                source,
                external_id,
                new_text,
                ..
            } => revisions.push((source, external_id, Revision::Edit { text: new_text })),
            InboundEvent::Remove {
                source,
                external_id,
                ..
            } => revisions.push((source, external_id, Revision::Remove)),
        }
    }
    let results = join_all(messages.into_iter().map(|m| state.ingestor.submit(m))).await;
    for r in results {
        match r {
            Ok(a) if a.duplicate => report.duplicates += 1,
            Ok(_) => report.accepted += 1,
            // The platform retries the whole delivery; what was stored is deduplicated then.
            Err(IngestError::Overloaded) => return Err(Problem::overloaded(1)),
            Err(other) => return Err(Problem::internal(other)),
        }
    }
    for (source, external_id, revision) in revisions {
        match state
            .store
            .revise_message(source, &external_id, &revision, now())
            .await?
        {
            Revised::Applied(_) => report.revised += 1,
            Revised::Unchanged(_) => report.unchanged += 1,
            Revised::Unknown => {
                // Not a customer's message: perhaps one of our posted replies (D12).
                let text = match &revision {
                    Revision::Edit { text } => Some(text.as_str()),
                    Revision::Remove => None,
                };
                if crate::api::reply_changes::record_platform_change(
                    state,
                    &external_id,
                    text,
                    now(),
                )
                .await?
                {
                    report.revised += 1;
                    continue;
                }
                report.unchanged += 1;
                report.skipped.push(SkippedItem {
                    at: format!("{source}:{external_id}"),
                    reason: "no stored message or posted reply with this id to revise".into(),
                });
            }
        }
    }
    count(platform, "delivered");
    if !report.skipped.is_empty() {
        metrics::counter!("switchboard_webhook_items_skipped_total", "platform" => platform)
            .increment(report.skipped.len() as u64);
    }
    Ok(Json(report))
}

/// A platform delivery signed over its raw body: verify, then parse, then store.
async fn signed_delivery(
    state: &AppState,
    platform: &'static str,
    body: Result<Bytes, BytesRejection>,
    verify: impl FnOnce(&[u8]) -> Result<(), SignatureError>,
    parse: impl FnOnce(&[u8]) -> Result<Parsed, PayloadError>,
) -> Result<Json<DeliveryReport>, Problem> {
    let body = body::raw(body, crate::MAX_BODY_BYTES)?;
    if let Err(e) = verify(&body) {
        count(platform, e.code());
        return Err(signature_problem(e, platform));
    }
    let parsed = parse(&body).map_err(payload_problem)?;
    deliver(state, platform, parsed).await
}

fn now() -> Timestamp {
    use sb_domain::Clock;
    sb_domain::SystemClock.now()
}

#[utoipa::path(
    get, path = "/webhooks/meta", tag = "webhooks",
    params(
        ("hub.mode" = String, Query, description = "Always `subscribe`"),
        ("hub.verify_token" = String, Query, description = "The configured verify token"),
        ("hub.challenge" = String, Query, description = "Echoed back on success"),
    ),
    responses(
        (status = 200, description = "The challenge, as plain text", body = String, content_type = "text/plain"),
        (status = 403, description = "Wrong mode or token", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Meta webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn meta_handshake(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<String, Problem> {
    let got = |k: &str| q.get(k).map(String::as_str);
    sb_connectors::meta_handshake(
        got("hub.mode"),
        got("hub.verify_token"),
        got("hub.challenge"),
        &state.webhooks.meta_verify_token,
    )
    .map_err(|e| match e {
        HandshakeError::NoToken => not_configured("Meta"),
        other => Problem::custom(StatusCode::FORBIDDEN, other.code(), other.to_string()),
    })
}

#[utoipa::path(
    post, path = "/webhooks/meta", tag = "webhooks",
    request_body(content = Object, description = "A Graph API webhook delivery (`object`, `entry[]`)"),
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=` + hex HMAC-SHA256 of the raw body with the app secret")),
    responses(
        (status = 200, description = "Verified; every message stored durably", body = DeliveryReport),
        (status = 400, description = "Not JSON, or not a delivery", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed or wrong", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Meta webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Saturated; the platform retries", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn meta_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    signed_delivery(
        &state,
        "meta",
        body,
        |b| {
            sb_connectors::verify_meta(
                &state.webhooks.meta_app_secret,
                b,
                header(&headers, "x-hub-signature-256"),
            )
        },
        sb_connectors::meta::parse,
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CrcResponse {
    /// `sha256=` + base64 HMAC-SHA256 of the `crc_token` with the consumer secret.
    pub response_token: String,
}

#[utoipa::path(
    get, path = "/webhooks/x", tag = "webhooks",
    params(("crc_token" = String, Query, description = "The challenge X sends")),
    responses(
        (status = 200, description = "The CRC response", body = CrcResponse),
        (status = 400, description = "No `crc_token`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "X webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn x_crc(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<CrcResponse>, Problem> {
    if state.webhooks.x_consumer_secret.is_empty() {
        return Err(not_configured("X"));
    }
    let token = q
        .get("crc_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Problem::custom(
                StatusCode::BAD_REQUEST,
                "crc_token_missing",
                "the `crc_token` query parameter is required",
            )
        })?;
    let response_token = sb_connectors::x_crc_response(&state.webhooks.x_consumer_secret, token)
        .map_err(|e| signature_problem(e, "X"))?;
    Ok(Json(CrcResponse { response_token }))
}

#[utoipa::path(
    post, path = "/webhooks/x", tag = "webhooks",
    request_body(content = Object, description = "An Account Activity delivery (`for_user_id`, `tweet_create_events`, `direct_message_events`, …)"),
    params(("x-twitter-webhooks-signature" = String, Header, description = "`sha256=` + base64 HMAC-SHA256 of the raw body with the consumer secret")),
    responses(
        (status = 200, description = "Verified; every message stored durably", body = DeliveryReport),
        (status = 400, description = "Not JSON, or not a delivery", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed or wrong", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "X webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Saturated; the platform retries", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn x_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    signed_delivery(
        &state,
        "x",
        body,
        |b| {
            sb_connectors::verify_x(
                &state.webhooks.x_consumer_secret,
                b,
                header(&headers, "x-twitter-webhooks-signature"),
            )
        },
        sb_connectors::x::parse,
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResponse {
    pub challenge_code: String,
    /// Hex HMAC-SHA256 of the challenge code with the client secret.
    pub challenge_response: String,
}

#[utoipa::path(
    get, path = "/webhooks/linkedin", tag = "webhooks",
    params(("challengeCode" = String, Query, description = "The UUID LinkedIn sends to validate the endpoint")),
    responses(
        (status = 200, description = "The challenge answer", body = ChallengeResponse),
        (status = 400, description = "No `challengeCode`, or not one LinkedIn would send", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "LinkedIn webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn linkedin_challenge(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ChallengeResponse>, Problem> {
    let secret = &state.webhooks.linkedin_client_secret;
    if secret.is_empty() {
        return Err(not_configured("LinkedIn"));
    }
    let code = q.get("challengeCode").map(String::as_str).unwrap_or("");
    // Only UUID-shaped codes are answered: the answer is an HMAC with the delivery secret, so
    // answering anything would let a caller obtain signatures for bodies of its choosing.
    let response = sb_connectors::linkedin_challenge_response(secret, code).map_err(|e| {
        Problem::custom(StatusCode::BAD_REQUEST, "challenge_invalid", e.to_string())
    })?;
    Ok(Json(ChallengeResponse {
        challenge_code: code.to_owned(),
        challenge_response: response,
    }))
}

#[utoipa::path(
    post, path = "/webhooks/linkedin", tag = "webhooks",
    request_body(content = Object, description = "An organization social action notification delivery"),
    params(("X-LI-Signature" = String, Header, description = "HMAC-SHA256 of the body with the client secret")),
    responses(
        (status = 200, description = "Verified; every message stored durably", body = DeliveryReport),
        (status = 400, description = "Not JSON, or not a delivery", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed or wrong", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "LinkedIn webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn linkedin_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    signed_delivery(
        &state,
        "linkedin",
        body,
        |b| {
            sb_connectors::verify_linkedin(
                &state.webhooks.linkedin_client_secret,
                b,
                header(&headers, "x-li-signature"),
            )
        },
        sb_connectors::linkedin::parse,
    )
    .await
}

#[utoipa::path(
    post, path = "/webhooks/tiktok", tag = "webhooks",
    request_body(content = Object, description = "A TikTok webhook event (`client_key`, `event`, `create_time`, `user_openid`, `content`)"),
    params(("TikTok-Signature" = String, Header, description = "`t=<unix seconds>,s=<hex HMAC-SHA256 of \"<t>.<body>\">`, at most 5 minutes old")),
    responses(
        (status = 200, description = "Verified; every message stored durably", body = DeliveryReport),
        (status = 400, description = "Not JSON, or not an event", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed, wrong or stale", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "TikTok webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn tiktok_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    let now_s = now().millis().div_euclid(1000);
    signed_delivery(
        &state,
        "tiktok",
        body,
        |b| {
            sb_connectors::verify_tiktok(
                &state.webhooks.tiktok_client_secret,
                b,
                header(&headers, "tiktok-signature"),
                now_s,
            )
            .map(|_| ())
        },
        sb_connectors::tiktok::parse,
    )
    .await
}

/// Checks the generic signature headers and that this signature has not been used before.
fn verify_generic(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), Problem> {
    let signature = header(headers, "x-switchboard-signature");
    let now_s = now().millis().div_euclid(1000);
    let ts = sb_connectors::verify_generic(
        &state.webhooks.generic_secret,
        header(headers, "x-switchboard-timestamp"),
        body,
        signature,
        now_s,
    )
    .map_err(|e| {
        count("generic", e.code());
        signature_problem(e, "Generic")
    })?;
    if !state.replays.first_time(signature, ts, now_s) {
        count("generic", "signature_replayed");
        return Err(Problem::custom(
            StatusCode::CONFLICT,
            "signature_replayed",
            "this signed delivery was already received; sign each delivery afresh",
        ));
    }
    Ok(())
}

#[utoipa::path(
    post, path = "/webhooks/generic/{source}", tag = "webhooks",
    params(
        ("source" = String, Path, description = "Platform the messages come from, e.g. `chat`, `reviews`, `linkedin`"),
        ("X-Switchboard-Timestamp" = String, Header, description = "Unix seconds when the delivery was signed; at most 5 minutes old"),
        ("X-Switchboard-Signature" = String, Header, description = "`sha256=` + hex HMAC-SHA256 of `<timestamp>.<raw body>`"),
    ),
    request_body(content = Object, description = "One message in the ingest shape, or an array of up to 1,000"),
    responses(
        (status = 200, description = "Verified; every message stored durably", body = DeliveryReport),
        (status = 400, description = "Not JSON, or not messages", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed, wrong or stale", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown source, or generic webhooks are not configured", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "This signed delivery was already received", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Saturated; retry with a fresh signature", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn generic_delivery(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    let source = Platform::parse(&source)
        .ok_or_else(|| Problem::not_found(format!("no platform `{source}`")))?;
    let body = body::raw(body, crate::MAX_BODY_BYTES)?;
    verify_generic(&state, &headers, &body)?;
    let parsed = sb_connectors::generic::parse(source, &body).map_err(payload_problem)?;
    deliver(&state, "generic", parsed).await
}

#[utoipa::path(
    post, path = "/webhooks/email", tag = "webhooks",
    params(
        ("X-Switchboard-Timestamp" = String, Header, description = "Unix seconds when the delivery was signed"),
        ("X-Switchboard-Signature" = String, Header, description = "`sha256=` + hex HMAC-SHA256 of `<timestamp>.<raw message>`"),
    ),
    request_body(content = String, content_type = "message/rfc822", description = "One raw RFC 5322 message, up to 25 MiB"),
    responses(
        (status = 200, description = "Verified; the message stored durably", body = DeliveryReport),
        (status = 400, description = "Not a usable e-mail", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing, malformed, wrong or stale", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "This signed delivery was already received", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Over 25 MiB", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn email_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeliveryReport>, Problem> {
    let body = body::raw(body, MAX_EMAIL_BYTES)?;
    verify_generic(&state, &headers, &body)?;
    let event = sb_connectors::email::parse(&body).map_err(payload_problem)?;
    let parsed = Parsed {
        events: vec![event],
        skipped: Vec::new(),
    };
    deliver(&state, "email", parsed).await
}
